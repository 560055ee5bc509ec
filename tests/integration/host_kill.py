#!/usr/bin/env python3
"""
Integration test: a host killed in the middle of transfers leaves nothing
behind.

    host_kill.py BUILD/daemon/nvmfd

Five rounds, each a host process (this script with --child) that connects
an admin queue and two I/O queues to a RAM and a file namespace, then on
one queue sends large writes and leaves them waiting for H2CData after
their R2T (some with half their data sent), on the other sends large
reads and stops reading (C2HData in flight, the socket buffers full), and
is killed with SIGKILL in that state. The daemon must go on serving a
well-behaved host, count no connection left over (a new crowd up to
max_connections still gets in), and at SIGTERM exit 0 within 10 s without
a sanitizer report: in the AddressSanitizer build (scripts/test.sh stage
3) LeakSanitizer runs at exit, so a leaked buffer, command or connection
fails this test.

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import (R2T, Closed, Daemon, Queue, admin_up, io_up, ns, nvmfd_ini,  # noqa: E402
                     parse_r2t, rw_cdw, subsystem)

SUB = "nqn.2026-11.io.nvmfd:host-kill"
HOST = "nqn.2014-08.org.nvmexpress:uuid:cccccccc-0000-0000-0000-000000000001"


def child(port, nsid):
    """The host to be killed: leaves transfers half done, says 'ready', waits."""
    a = admin_up(port, SUB, HOST)
    w = io_up(port, a, qid=1)
    r = io_up(port, a, qid=2)
    # writes of 256 KiB: the R2Ts come; half of them get half their data
    big = 256 << 10
    for cid in range(1, 17):
        w.cmd(0x01, cid, nsid=nsid, cdw=rw_cdw(cid * 512, big // 512), sgl_len=big)
    r2ts = 0
    while r2ts < 16:
        t, _, hdr, _ = w.rx()
        if t != R2T:
            continue
        r2ts += 1
        cccid, ttag, off, length = parse_r2t(hdr)
        if cccid % 2:
            half = min(length, w.maxh2c) // 2
            w.send(w.h2c_pdu(cccid, ttag, off, b"\xab" * half, last=False))
    # reads of 1 MiB, never read back
    for cid in range(1, 33):
        r.cmd(0x02, cid, nsid=nsid, cdw=rw_cdw(cid * 2048, 2048), sgl_len=1 << 20)
    # half a capsule header on the admin queue
    a.send(a.capsule(0x06, 99, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096)[:40])
    time.sleep(0.3)
    print("ready", flush=True)
    time.sleep(60)


if len(sys.argv) > 2 and sys.argv[1] == "--child":
    child(int(sys.argv[2]), int(sys.argv[3]))
    sys.exit(0)

NVMFD = nvmfd_arg()

work = tempfile.mkdtemp(prefix="nvmfd-host-kill.")
img = os.path.join(work, "ns2.img")
with open(img, "wb") as f:
    f.truncate(64 << 20)
port, dport = free_ports(2)
d = Daemon(NVMFD, work, nvmfd_ini(port, dport, work,
                                  subsystem(SUB, ns(1, "ram:64M"), ns(2, img)),
                                  max_connections=64), port)

try:
    for rnd in range(1, 6):
        nsid = 1 if rnd % 2 else 2
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", str(port),
                              str(nsid)], stdout=subprocess.PIPE, universal_newlines=True)
        line = p.stdout.readline().strip()
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdout.close()
        check("round %d (namespace %d): the host was killed with writes waiting for data, "
              "reads in flight and half a PDU" % (rnd, nsid), line == "ready", repr(line))
    time.sleep(0.5)
    a = admin_up(port, SUB, HOST)
    io = io_up(port, a)
    data = b"\x5a" * 8192
    ok = io.write(100, data) == 0 and io.read(100, 16) == (0, data)
    check("the daemon goes on serving a well-behaved host", ok)
    # every connection of the killed hosts is gone: 62 more fit (64 - these 2)
    extra = []
    try:
        for _ in range(62):
            q = Queue(port)
            q.icreq()
            extra.append(q)
        got = len(extra)
    except (Closed, OSError):
        got = len(extra)
    check("no connection of the killed hosts is still counted (62 more get in)", got == 62,
          "%d" % got)
    for q in extra + [io, a]:
        q.close()
except (Closed, OSError) as e:
    check("no unexpected error", False, repr(e))

t0 = time.time()
rc = d.stop()
check("SIGTERM: exit 0 within 10 s (%.1f s)" % (time.time() - t0), rc == 0, "exit %s" % rc)
bad = d.sanitizer_lines()
check("no sanitizer or leak report", not bad, " | ".join(bad[:5]))
done(work)
