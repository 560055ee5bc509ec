#!/usr/bin/env python3
"""
Integration test: kill -9 during a write-heavy job loses no durable write.

    durability.py BUILD/daemon/nvmfd [RUNS]

A file namespace (4 KiB blocks, 64 MiB; O_DIRECT in odd runs, buffered in
even ones). A writer keeps 32 writes in flight on one I/O queue: 4 or
8 KiB at random LBAs, each block carrying its LBA, a generation and a
filler derived from both; one write in 8 is FUA; a Flush every 64 writes.
What is durable: a FUA write once acknowledged, and every write
acknowledged before a Flush was sent, once that Flush is acknowledged.
After a random 0.8 to 2.0 s the daemon gets SIGKILL mid-run; it is
restarted on the same file and every block is read back through it: each
block with a durable write must hold that generation or a later one that
was issued, intact. The count of durable writes lost must be 0 (printed,
with the number of runs, RUNS = 3 by default); acknowledged writes not yet
flushed are counted too (a process kill keeps them in the page cache, so
they should survive as well, but only the durable ones are required).

With DURABILITY_BACKEND=rbd (run under tests/lib/with-ceph.sh, which sets
CEPH_CONF) the namespace is a 64 MiB RBD image instead, and after each
kill -9 every block is read back through librbd (`rbd export`), not
through nvmfd: what the cluster holds is what another gateway would serve.
Without a cluster that variant skips, saying why.

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd.
"""
import hashlib
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import RSP, Closed, Daemon, admin_up, io_up, ns, nvmfd_ini, subsystem  # noqa: E402

NVMFD = nvmfd_arg()
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3

SUB = "nqn.2026-11.io.nvmfd:durability"
HOST = "nqn.2014-08.org.nvmexpress:uuid:dddddddd-0000-0000-0000-000000000001"
BS = 4096
NBLOCKS = 16384
QD = 32
MAGIC = b"NVMFDDUR"

RBD = os.environ.get("DURABILITY_BACKEND") == "rbd"
CEPH_CONF = os.environ.get("CEPH_CONF", "")
if RBD and (os.environ.get("NVMFD_CEPH_SKIP") or not CEPH_CONF):
    print("1..0 # SKIP %s" % (os.environ.get("NVMFD_CEPH_SKIP") or
                              "no Ceph cluster (CEPH_CONF unset; tests/lib/with-ceph.sh)"))
    sys.exit(77)

work = tempfile.mkdtemp(prefix="nvmfd-durability.", dir="/var/tmp")
if RBD:
    IMAGE = "rbd/durability-%d" % os.getpid()
    path = "rbd:" + IMAGE
    subprocess.run(["rbd", "-c", CEPH_CONF, "create", "--size", "%dK" % (NBLOCKS * BS // 1024),
                    "--image-feature", "layering", IMAGE], check=True)
else:
    path = os.path.join(work, "ns.img")
    with open(path, "wb") as f:
        f.truncate(NBLOCKS * BS)
rng = random.Random(int(os.environ.get("DURABILITY_SEED", "0")) or None)


def block(lba, gen):
    head = MAGIC + struct.pack("<QQ", lba, gen)
    fill = hashlib.blake2b(head, digest_size=64).digest()
    return head + fill * ((BS - len(head)) // 64) + fill[:(BS - len(head)) % 64]


def parse(b, lba):
    """The generation an intact block of lba holds, 0 for zeroes, None if torn / wrong."""
    if b == bytes(BS):
        return 0
    if b[:8] != MAGIC:
        return None
    l, gen = struct.unpack_from("<QQ", b, 8)
    if l != lba or b != block(lba, gen):
        return None
    return gen


def conf(port, dport, direct):
    if RBD:
        return nvmfd_ini(port, dport, work, subsystem(SUB, ns(1, path, block_size=4096)),
                         ceph_conf=CEPH_CONF)
    return nvmfd_ini(port, dport, work,
                     subsystem(SUB, ns(1, path, block_size=4096, direct=bool(direct))))


class RbdExport:
    """The image as librbd reads it (rbd export), with io.read()'s interface."""

    def __init__(self):
        out = os.path.join(work, "export.img")
        if os.path.exists(out):
            os.unlink(out)
        subprocess.run(["rbd", "-c", CEPH_CONF, "export", "--no-progress", IMAGE, out],
                       check=True)
        with open(out, "rb") as f:
            self.data = f.read()
        os.unlink(out)

    def read(self, lba, n, bs):
        return 0, self.data[lba * bs:(lba + n) * bs]

    def close(self):
        pass


# per LBA: the generation that must be there at least, and those issued since
durable = {}
issued = {}
acked = {}
gen_counter = [0]


def write_job(io, seconds):
    """Writes until the daemon dies (or seconds pass); returns counts."""
    inflight = {}     # cid -> ("w", lbas, gens, fua) | ("f", acked-before list)
    busy = set()
    acked_since_flush = []
    n_w = n_f = n_fua = 0
    t_end = time.time() + seconds
    cid = 0
    try:
        while time.time() < t_end:
            while len(inflight) < QD:
                cid = cid % 60000 + 1
                if n_w and n_w % 64 == 0 and not any(v[0] == "f" for v in inflight.values()):
                    inflight[cid] = ("f", acked_since_flush)
                    acked_since_flush = []
                    io.cmd(0x00, cid, nsid=1)
                    n_w += 1
                    continue
                nb = rng.choice((1, 2))
                lba = rng.randrange(0, NBLOCKS - nb)
                if any(l in busy for l in range(lba, lba + nb)):
                    continue
                gens = []
                data = b""
                for l in range(lba, lba + nb):
                    gen_counter[0] += 1
                    gens.append(gen_counter[0])
                    issued.setdefault(l, set()).add(gen_counter[0])
                    data += block(l, gen_counter[0])
                    busy.add(l)
                fua = rng.randrange(8) == 0
                inflight[cid] = ("w", list(range(lba, lba + nb)), gens, fua)
                io.start_write(lba, data, bs=BS, fua=fua, cid=cid)
                n_w += 1
            t, rcid, st, _, _ = io.rsp()
            if t != RSP:
                raise Closed("PDU type %d" % t)
            op = inflight.pop(rcid)
            if op[0] == "f":
                if st == 0:
                    n_f += 1
                    for l, g in op[1]:
                        if g > durable.get(l, 0):
                            durable[l] = g
                continue
            _, lbas, gens, fua = op
            for l in lbas:
                busy.discard(l)
            if st != 0:
                raise Closed("write status %#x" % st)
            for l, g in zip(lbas, gens):
                acked[l] = max(acked.get(l, 0), g)
                acked_since_flush.append((l, g))
                if fua:
                    durable[l] = max(durable.get(l, 0), g)
            n_fua += fua
    except (Closed, OSError, ConnectionError):
        pass
    return n_w, n_f, n_fua


def verify(port):
    """Read every block back: (durable checked, durable lost, acked lost, details)."""
    if RBD:
        a = io = RbdExport()
    else:
        a = admin_up(port, SUB, HOST)
        io = io_up(port, a)
    lost, lost_acked, checked, bad = 0, 0, 0, []
    per = 32
    for base in range(0, NBLOCKS, per):
        st, data = io.read(base, per, bs=BS)
        if st != 0 or len(data) != per * BS:
            raise Closed("read at %d: status %#x" % (base, st))
        for i in range(per):
            lba = base + i
            if lba not in issued and lba not in durable:
                continue
            got = parse(data[i * BS:(i + 1) * BS], lba)
            need = durable.get(lba, 0)
            if need:
                checked += 1
                ok = got is not None and got >= need and (got == need or got in issued[lba])
                if not ok:
                    lost += 1
                    bad.append("lba %d: durable gen %d, found %s" % (lba, need, got))
            if got is None or got < acked.get(lba, 0):
                lost_acked += 1
            # what is there now is the new baseline: a kill -9 keeps it
            if got:
                durable[lba] = got
                issued[lba] = {got}
            else:
                issued.pop(lba, None)
                durable.pop(lba, None)
            acked.pop(lba, None)
    io.close()
    a.close()
    return checked, lost, lost_acked, bad


port, dport = free_ports(2)
total_checked = total_lost = total_lost_acked = 0
total_w = total_f = total_fua = 0
for run in range(1, RUNS + 1):
    direct = run % 2 == 1 and not RBD
    try:
        d = Daemon(NVMFD, work, conf(port, dport, direct), port, "run%d" % run)
        a = admin_up(port, SUB, HOST)
        io = io_up(port, a)
    except (Closed, OSError) as e:
        check("run %d: the daemon starts and a host connects" % run, False, repr(e))
        break
    delay = rng.uniform(0.8, 2.0)
    killer = threading.Timer(delay, d.stop, (signal.SIGKILL,))
    killer.start()
    n_w, n_f, n_fua = write_job(io, delay + 10)
    killer.join()
    io.close()
    a.close()
    total_w, total_f, total_fua = total_w + n_w, total_f + n_f, total_fua + n_fua
    check("run %d (%s): kill -9 after %.2f s in the middle of writing (%d commands sent, "
          "%d Flushes and %d FUA writes acknowledged)"
          % (run, "RBD" if RBD else "O_DIRECT" if direct else "buffered", delay, n_w, n_f,
             n_fua),
          not d.alive() and n_w > QD)
    try:
        if RBD:  # through librbd, no gateway in between
            checked, lost, lost_acked, bad = verify(port)
        d2 = Daemon(NVMFD, work, conf(port, dport, direct), port, "verify%d" % run)
        if not RBD:
            checked, lost, lost_acked, bad = verify(port)
    except (Closed, OSError, subprocess.CalledProcessError) as e:
        check("run %d: restart and read back" % run, False, repr(e))
        break
    total_checked += checked
    total_lost += lost
    total_lost_acked += lost_acked
    check("run %d: %d blocks with durable writes read back intact%s, %d lost"
          % (run, checked, " through librbd" if RBD else "", lost), lost == 0 and checked > 0, "; ".join(bad[:5]))
    rc = d2.stop()
    check("run %d: the restarted daemon stops cleanly" % run, rc == 0 and not d2.sanitizer_lines(),
          "exit %s" % rc)

print("# durability: %d runs, %d writes and flushes sent, %d Flushes and %d FUA writes "
      "acknowledged; %d durable blocks checked, %d lost; acknowledged-but-not-flushed "
      "blocks lost: %d" % (RUNS, total_w, total_f, total_fua, total_checked, total_lost,
                           total_lost_acked))
check("durable writes lost over %d kill -9 runs: 0" % RUNS, total_lost == 0, "%d" % total_lost)
if RBD:
    subprocess.run(["rbd", "-c", CEPH_CONF, "rm", "--no-progress", IMAGE], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # watched until timeout
done(work)
