#!/usr/bin/env python3
"""
Integration test: live reload on SIGHUP (daemon/engine/reload.c).

    reload.py BUILD/daemon/nvmfd

Starts nvmfd (2 workers) on free loopback ports with NOTIFY_SOCKET pointing
at a datagram socket of ours: each SIGHUP is followed by READY=1, which is
how the test knows a reload is over. A raw NVMe/TCP host (tests/lib/
nvmftcp.py) keeps one association on subsystem A busy with verified I/O on
namespace 1 from a thread for the whole run, with an Asynchronous Event
Request outstanding (Namespace Attribute notices on), while the test:

  - sends broken files (syntax, bad NQN, missing backing file, a listener
    port already in use): nothing changes (genctr, namespaces, no event),
    the log says file:line and "nothing changed";
  - adds, replaces and removes a namespace of A: the AER completes with
    00040002h, the Changed Namespace List names the NSID, Identify CNS 02h
    follows; the removed namespace's counters stay in A's SMART totals;
  - adds and removes a subsystem: a discovery controller's AER completes
    with 00F00002h and the generation counter moves; the removed one's
    association ends, Connect is refused afterwards;
  - removes a host from allow_host: its association ends, another host's
    on the same subsystem goes on;
  - adds and removes a listener: connections on the removed one close;
  - reloads 20 times alternating two files while the I/O goes on; then the
    process has as many fds as before.

The I/O thread must never see a failure. SIGTERM: exit 0, no sanitizer
report. Prints TAP; exit 0 / 1, 77 (skip) without nvmfd.
"""
import os, signal, socket, struct, sys, tempfile, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, free_ports  # noqa: E402
from nvmftcp import DISC_NQN, Closed, Daemon, admin_up, io_up  # noqa: E402

NVMFD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ""
if not os.access(NVMFD, os.X_OK):
    print("1..0 # SKIP nvmfd is not built (%s)" % NVMFD)
    sys.exit(77)

P_IO, P_DISC, P_EXTRA = free_ports(3)
SUB_A = "nqn.2026-11.io.nvmfd:reload-a"
SUB_B = "nqn.2026-11.io.nvmfd:reload-b"
SUB_C = "nqn.2026-11.io.nvmfd:reload-c"
H1 = "nqn.2026-11.io.nvmfd:reload-host-1"
H2 = "nqn.2026-11.io.nvmfd:reload-host-2"
AEN_NS = 0x00040002
AEN_DISC = 0x0070F002  # notice, info F0h (discovery log change), log page 70h

work = tempfile.mkdtemp(prefix="nvmfd-reload.")


def ini(a_ns=((1, "ram:32M"),), a_hosts=(H1, H2), sub_c=False, extra_listen=False,
        head="", tail=""):
    """The configuration text: A with a_ns (nsid, path), B, maybe C."""
    t = "[nvmfd]\nlisten = 127.0.0.1:%d\n" % P_IO
    if extra_listen:
        t += "listen = 127.0.0.1:%d\n" % P_EXTRA
    t += ("discovery_listen = 127.0.0.1:%d\nworkers = 2\nstate_dir = %s\nlog_level = info\n%s\n"
          % (P_DISC, os.path.join(work, "state"), head))
    t += "[subsystem %s]\n" % SUB_A
    t += "".join("allow_host = %s\n" % h for h in a_hosts)
    for nsid, path in a_ns:
        t += "[namespace %s %d]\npath = %s\n" % (SUB_A, nsid, path)
    t += "[subsystem %s]\nallow_host = any\n[namespace %s 1]\npath = ram:8M\n" % (SUB_B, SUB_B)
    if sub_c:
        t += "[subsystem %s]\nallow_host = any\n[namespace %s 1]\npath = ram:8M\n" % (SUB_C, SUB_C)
    return t + tail


# ---- the daemon and our notify socket ----
nsock_path = os.path.join(work, "notify.sock")
nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
nsock.bind(nsock_path)
daemon = Daemon(NVMFD, work, ini(), P_IO, env={"NOTIFY_SOCKET": nsock_path})
conf = daemon.conf


def write_conf(text):
    tmp = conf + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, conf)


def notify_until_ready(timeout=30):
    """Fields of every datagram up to and including the one with READY=1."""
    out = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        nsock.settimeout(max(0.01, end - time.monotonic()))
        try:
            d = nsock.recv(4096).decode("utf-8", "replace")
        except socket.timeout:
            break
        out += [x for x in d.split("\n") if x]
        if "READY=1" in out:
            return out
    return out + ["(no READY=1 within %d s)" % timeout]


def hup(text):
    """Install text as the configuration, SIGHUP; (notify fields, new log lines)."""
    before = len(daemon.text())
    write_conf(text)
    daemon.p.send_signal(signal.SIGHUP)
    f = notify_until_ready()
    time.sleep(0.05)
    return f, daemon.text()[before:]


def status_of(fields):
    st = [x for x in fields if x.startswith("STATUS=")]
    return st[-1] if st else ""


if "READY=1" not in notify_until_ready():
    print("Bail out! nvmfd did not say READY=1: " + daemon.text()[-800:].replace("\n", " | "))
    sys.exit(1)


# ---- the host that does I/O all along ----
class Mover(threading.Thread):
    """Write 4 KiB, read it back, compare; forever, on one I/O queue."""

    def __init__(self, q, nsid):
        super().__init__(daemon=True)
        self.q, self.nsid = q, nsid
        self.stop = threading.Event()
        self.ops = 0
        self.errors = []
        self.worst = 0.0   # the longest write+read pair, in seconds
        self.hold = threading.Event()   # set: stop between two pairs (counters stand still)
        self.idle = threading.Event()

    def run(self):
        i = 0
        while not self.stop.is_set():
            if self.hold.is_set():
                self.idle.set()
                time.sleep(0.01)
                continue
            self.idle.clear()
            lba = (i * 8) % 32768
            blk = struct.pack("<QQ", i, lba) * 256
            t0 = time.monotonic()
            try:
                st = self.q.write(lba, blk, nsid=self.nsid)
                if st != 0:
                    self.errors.append("write %d: status %#x" % (i, st))
                    return
                st, got = self.q.read(lba, 8, nsid=self.nsid)
                if st != 0 or got != blk:
                    self.errors.append("read %d: status %#x, %s" %
                                       (i, st, "same" if got == blk else "different data"))
                    return
            except Exception as e:  # noqa: BLE001 (any failure is the finding)
                self.errors.append("I/O %d: %r" % (i, e))
                return
            self.ops += 1
            self.worst = max(self.worst, time.monotonic() - t0)
            i += 1

    def check_alive(self, what):
        ops = self.ops
        end = time.monotonic() + 5
        while self.ops == ops and time.monotonic() < end and self.is_alive():
            time.sleep(0.01)
        ok = not self.errors and self.ops > ops and self.is_alive()
        check("%s: the I/O on %s namespace 1 goes on without a failure (%d ops, "
              "longest pair %.0f ms)" % (what, SUB_A, self.ops, self.worst * 1000), ok,
              "; ".join(self.errors) or "no progress for 5 s")


def connect_refused(subnqn, hostnqn):
    """Whether the daemon refuses hostnqn's Connect to subnqn on P_IO."""
    try:
        admin_up(P_IO, subnqn, hostnqn).close()
        return False
    except Closed:
        return True


def smart(a, nsid=0xFFFFFFFF):
    st, d = a.get_log(0x02, 512, nsid=nsid)
    if st != 0:
        return None
    u = lambda off: struct.unpack_from("<QQ", d, off)[0]  # noqa: E731
    return {"units_read": u(32), "units_written": u(48), "reads": u(64), "writes": u(80)}


def changed_ns_log(a):
    st, d = a.get_log(0x04, 4096)
    ids = struct.unpack("<1024I", d[:4096]) if st == 0 else ()
    return [i for i in ids if i]


def aer_then_log(a, cid, what, want_nsids):
    """The AER cid completes with AEN_NS and log 04h lists want_nsids; a new AER."""
    r = a.poll(cid, 5)
    check("%s: the AER completes with %08Xh" % (what, AEN_NS), r is not None and r[0] == 0
          and r[1] == AEN_NS, "got %r" % (r,))
    ids = changed_ns_log(a)
    check("%s: the Changed Namespace List log (04h) names %s" % (what, want_nsids),
          ids == want_nsids, "got %r" % (ids,))
    return a.aer()


def keep_going():
    a1 = admin_up(P_IO, SUB_A, H1)
    q1 = io_up(P_IO, a1)
    st, _ = a1.set_features(0x0B, 1 << 8)
    check("host 1: Set Features 0Bh (Namespace Attribute notices)", st == 0, st)
    aer1 = a1.aer()
    d = admin_up(P_DISC, DISC_NQN, H1, queues=0)
    st, _ = d.set_features(0x0B, 1 << 31)
    check("discovery controller: Set Features 0Bh (Discovery Log Page Change notices)",
          st == 0, st)
    gen0, recs = d.disc_log()
    check("discovery log: A and B", sorted(r[1] for r in recs if r[1] != DISC_NQN.decode())
          == [SUB_A, SUB_B], recs)
    daer = d.aer()
    mover = Mover(q1, 1)
    mover.start()
    time.sleep(0.3)

    # ---- 1. broken files change nothing ----
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    bport = busy.getsockname()[1]
    broken = [
        ("a syntax error", ini(tail="this is not ini\n"), "%s:%d:" % (conf, len(ini().splitlines()) + 1)),
        ("a bad NQN", ini(tail="[subsystem nqn.bad]\nallow_host = any\n"), conf + ":"),
        ("a missing backing file", ini(a_ns=((1, "ram:32M"), (2, os.path.join(work, "nope.img")))),
         conf + ":"),
        ("a listener port already in use",
         ini(head="listen = 127.0.0.1:%d\n" % bport, a_ns=((1, "ram:32M"), (2, "ram:8M"))),
         "%s:%d:" % (conf, 1 + ini(head="listen = 127.0.0.1:%d\n" % bport).splitlines()
                     .index("listen = 127.0.0.1:%d" % bport))),
    ]
    for what, text, where in broken:
        f, new = hup(text)
        errs = [l for l in new.splitlines() if where in l]
        check("broken file (%s): READY=1, STATUS says the reload failed" % what,
              "READY=1" in f and "reload failed" in status_of(f), f)
        check("broken file (%s): the log says %s... and \"nothing changed\"" % (what, where),
              errs and "nothing changed" in new, new.strip().replace("\n", " | ")[-600:])
        g, _ = d.disc_log()
        check("broken file (%s): genctr unchanged, no event" % what,
              g == gen0 and d.poll(daer, 0.2) is None and a1.poll(aer1, 0.01) is None,
              "genctr %d -> %d" % (gen0, g))
        check("broken file (%s): A still serves namespace 1 only" % what,
              a1.active_nsids() == [1])
    busy.close()
    mover.check_alive("after the broken files")
    check("after the broken files: the daemon runs", daemon.alive())

    # ---- 2. add a namespace while the I/O goes on ----
    f, new = hup(ini(a_ns=((1, "ram:32M"), (2, "ram:16M"))))
    check("add namespace 2: READY=1, STATUS counts 3 namespaces",
          "READY=1" in f and "3 namespaces" in status_of(f), f)
    aer1 = aer_then_log(a1, aer1, "add namespace 2", [2])
    check("add namespace 2: the same connection sees [1, 2] (Identify CNS 02h)",
          a1.active_nsids() == [1, 2])
    mover.check_alive("add namespace 2")
    blk = os.urandom(8192)
    # namespace 2's I/O goes through a second host (H2): host 1's queue is the mover's
    a2 = admin_up(P_IO, SUB_A, H2)
    q2 = io_up(P_IO, a2)
    st = q2.write(0, blk, nsid=2)
    st2, got = q2.read(0, 16, nsid=2)
    check("namespace 2 serves I/O (host 2: 8 KiB written, read back)",
          st == 0 and st2 == 0 and got == blk, (st, st2))
    sm = smart(a1, 2)
    check("namespace 2's SMART log: 1 write, 1 read, 1 data unit each", sm is not None
          and sm["writes"] == 1 and sm["reads"] == 1 and sm["units_written"] == 1
          and sm["units_read"] == 1, sm)
    check("discovery: no event for a namespace change", d.poll(daer, 0.2) is None)

    # ---- 3. replace namespace 2's backing store ----
    f, new = hup(ini(a_ns=((1, "ram:32M"), (2, "ram:64M"))))
    aer1 = aer_then_log(a1, aer1, "replace namespace 2", [2])
    st, idns = a1.identify(0x00, nsid=2)
    nsze = struct.unpack_from("<Q", idns, 0)[0] if st == 0 else None
    check("replace namespace 2: Identify Namespace says 64 MiB", nsze == 64 * 2048, nsze)
    st2, got = q2.read(0, 16, nsid=2)
    check("replace namespace 2: host 2 reads the new store (zeros)", st2 == 0
          and got == bytes(8192), st2)
    mover.check_alive("replace namespace 2")

    # ---- 4. remove namespace 2: its counters stay in A's ----
    mover.hold.set()
    mover.idle.wait(5)
    before, before1 = smart(a1), smart(a1, 1)
    f, new = hup(ini())
    aer1 = aer_then_log(a1, aer1, "remove namespace 2", [2])
    check("remove namespace 2: [1] left", a1.active_nsids() == [1])
    st2, _ = q2.read(0, 1, nsid=2)
    check("remove namespace 2: I/O on it fails with Invalid Namespace (status %#x)" % st2,
          st2 & 0x7FF == 0x0B)
    after, after1 = smart(a1), smart(a1, 1)
    # host 2 wrote and read 8 KiB on the first namespace 2, read 8 KiB of the second
    gone = {k: after[k] - after1[k] for k in ("reads", "writes")}
    check("remove namespace 2: A's SMART totals (NSID FFFFFFFFh) keep its commands: "
          "totals minus namespace 1 = %r" % gone,
          gone == {"reads": 2, "writes": 1} and after == before and after1 == before1,
          (before, before1, after, after1))
    mover.hold.clear()
    mover.check_alive("remove namespace 2")

    # ---- 5. add and remove a subsystem ----
    f, new = hup(ini(sub_c=True))
    r = d.poll(daer, 5)
    check("add subsystem C: the discovery AER completes with %08Xh" % AEN_DISC,
          r is not None and r[0] == 0 and r[1] == AEN_DISC, "got %r" % (r,))
    gen1, recs = d.disc_log()
    check("add subsystem C: genctr moved (%d -> %d), C listed" % (gen0, gen1),
          gen1 > gen0 and SUB_C in [x[1] for x in recs], recs)
    daer = d.aer()
    ac = admin_up(P_IO, SUB_C, H1)
    qc = io_up(P_IO, ac)
    check("subsystem C serves I/O", qc.write(0, bytes(4096)) == 0)
    check("add subsystem C: host 1 on A got no event", a1.poll(aer1, 0.2) is None)
    f, new = hup(ini())
    check("remove subsystem C: its admin and I/O connections close",
          qc.closed_within(5) and ac.closed_within(5))
    r = d.poll(daer, 5)
    gen2, recs = d.disc_log()
    check("remove subsystem C: discovery AER, genctr %d -> %d, C gone" % (gen1, gen2),
          r is not None and r[1] == AEN_DISC and gen2 > gen1
          and SUB_C not in [x[1] for x in recs], (r, recs))
    daer = d.aer()
    check("remove subsystem C: Connect to it is refused", connect_refused(SUB_C, H1))
    mover.check_alive("add and remove subsystem C")

    # ---- 6. a host no longer allowed ----
    f, new = hup(ini(a_hosts=(H1,)))
    check("allow_host without host 2: host 2's connections close",
          q2.closed_within(5) and a2.closed_within(5))
    check("allow_host without host 2: host 2's Connect is refused", connect_refused(SUB_A, H2))
    r = d.poll(daer, 5)
    gen3, _ = d.disc_log()   # read with RAE clear: the next event is reported
    check("allow_host changed: discovery AER, genctr %d -> %d" % (gen2, gen3),
          r is not None and r[1] == AEN_DISC and gen3 > gen2, r)
    daer = d.aer()
    mover.check_alive("host 2 removed (host 1 on the same subsystem)")
    check("host 1's admin queue still answers", a1.active_nsids() == [1])

    # ---- 7. add and remove a listener ----
    f, new = hup(ini(a_hosts=(H1,), extra_listen=True))
    check("add a listener: STATUS names it", "127.0.0.1:%d" % P_EXTRA in status_of(f), f)
    ax = admin_up(P_EXTRA, SUB_B, H1)
    qx = io_up(P_EXTRA, ax)
    check("the new listener serves I/O", qx.write(0, bytes(4096)) == 0)
    r = d.poll(daer, 5)
    gen4, recs = d.disc_log()
    check("add a listener: discovery AER, genctr %d -> %d, the log lists port %d"
          % (gen3, gen4, P_EXTRA), r is not None and r[1] == AEN_DISC and gen4 > gen3
          and str(P_EXTRA) in [x[0] for x in recs], (r, recs))
    daer = d.aer()
    f, new = hup(ini(a_hosts=(H1,)))
    check("remove the listener: its connections close",
          qx.closed_within(5) and ax.closed_within(5))
    try:
        socket.create_connection(("127.0.0.1", P_EXTRA), timeout=1).close()
        gone = False
    except OSError:
        gone = True
    check("remove the listener: its port refuses connections", gone)
    mover.check_alive("listener removed (the others keep working)")
    r = d.poll(daer, 5)
    gen5, recs = d.disc_log()
    check("remove the listener: discovery AER, genctr %d -> %d, port %d gone"
          % (gen4, gen5, P_EXTRA), r is not None and r[1] == AEN_DISC and gen5 > gen4
          and str(P_EXTRA) not in [x[0] for x in recs], (r, recs))

    # ---- 7b. namespaces on files (registered file slots) ----
    fa, fb = os.path.join(work, "ns4a.img"), os.path.join(work, "ns4b.img")
    for fn, fill in ((fa, b"\0"), (fb, b"\x5b")):
        with open(fn, "wb") as fh:
            fh.write(fill * (8 << 20))

    def open_in_daemon(fn):
        d = "/proc/%d/fd" % daemon.pid
        return any(os.readlink(os.path.join(d, x)) == fn for x in os.listdir(d))

    hosts1 = (H1,)
    f, new = hup(ini(a_hosts=hosts1, a_ns=((1, "ram:32M"), (4, fa))))
    aer1 = aer_then_log(a1, aer1, "add namespace 4 (a file)", [4])
    a3 = admin_up(P_IO, SUB_A, H1)
    q3 = io_up(P_IO, a3)
    blk = os.urandom(4096)
    st = q3.write(8, blk, nsid=4)
    st2, got = q3.read(8, 8, nsid=4)
    check("namespace 4 on a file: 4 KiB written and read back", st == 0 and st2 == 0
          and got == blk, (st, st2))
    check("namespace 4 on a file: the file is open in nvmfd", open_in_daemon(fa))
    f, new = hup(ini(a_hosts=hosts1, a_ns=((1, "ram:32M"), (4, fb))))
    aer1 = aer_then_log(a1, aer1, "namespace 4 to another file", [4])
    st2, got = q3.read(8, 8, nsid=4)
    check("namespace 4 on another file: reads that file's contents", st2 == 0
          and got == b"\x5b" * 4096, st2)
    with open(fa, "rb") as fh:
        fh.seek(8 * 512)
        check("namespace 4's first file has the data written through it", fh.read(4096) == blk)
    check("namespace 4 replaced: the first file is closed, the second open",
          not open_in_daemon(fa) and open_in_daemon(fb))
    st = q3.write(0, blk, nsid=4)
    st2, got = q3.read(0, 8, nsid=4)
    check("namespace 4 on another file: I/O works", st == 0 and st2 == 0 and got == blk)
    # the file grows (as an LV would be extended); the same configuration again
    os.truncate(fb, 12 << 20)
    f, new = hup(ini(a_hosts=hosts1, a_ns=((1, "ram:32M"), (4, fb))))
    aer1 = aer_then_log(a1, aer1, "namespace 4's file grew to 12 MiB", [4])
    st, idns = a3.identify(0x00, nsid=4)
    nsze = struct.unpack_from("<Q", idns, 0)[0] if st == 0 else None
    check("namespace 4 grown: Identify Namespace says 12 MiB", nsze == 12 * 2048, nsze)
    st = q3.write(10 * 2048, blk, nsid=4)
    st2, got = q3.read(10 * 2048, 8, nsid=4)
    check("namespace 4 grown: I/O past the old end works", st == 0 and st2 == 0 and got == blk,
          (st, st2))
    check("namespace 4 grown: the log says so", "resized" in daemon.text() and
          "is now %d bytes" % (12 << 20) in daemon.text())
    f, new = hup(ini(a_hosts=hosts1))
    aer1 = aer_then_log(a1, aer1, "remove namespace 4", [4])
    check("namespace 4 removed: its file is closed", not open_in_daemon(fb))
    check("namespace 4 removed: I/O on it fails (Invalid Namespace)",
          q3.read(0, 1, nsid=4)[0] & 0x7FF == 0x0B)
    q3.close()
    a3.close()
    mover.check_alive("namespaces on files")

    # ---- 8. many reloads in a row while the I/O goes on ----
    fds0 = daemon.fds()
    bad = []
    for i in range(20):
        text = ini(a_hosts=(H1,), a_ns=((1, "ram:32M"), (3, "ram:4M"), (5, fa))) \
            if i % 2 == 0 \
            else ini(a_hosts=(H1,))
        f, new = hup(text)
        if "reload failed" in status_of(f) or "READY=1" not in f:
            bad.append("%d: %r" % (i, f))
    check("20 reloads alternating two files: each READY=1 without failure", not bad, bad[:3])
    time.sleep(0.5)
    fds1 = daemon.fds()
    check("20 reloads: as many fds as before (%d -> %d)" % (fds0, fds1), fds1 == fds0)
    mover.check_alive("20 reloads")
    # every other reload added namespaces 3 (RAM) and 5 (a file), the next removed
    # them: the changes pile up in the log until the host reads it
    r = a1.poll(aer1, 2)
    check("20 reloads: host 1's AER completed (namespace changes)",
          r is not None and r[1] == AEN_NS, r)
    ids = changed_ns_log(a1)
    check("20 reloads: the changed namespace log names 3 and 5 (once each)", ids == [3, 5], ids)
    mover.stop.set()
    mover.join(10)
    check("the mover did %d verified 4 KiB write+read pairs, none failed" % mover.ops,
          mover.ops > 0 and not mover.errors, mover.errors)
    for q in (q1, a1, d):
        q.close()


try:
    keep_going()
except Exception as e:  # noqa: BLE001
    import traceback
    traceback.print_exc(file=sys.stdout)
    check("the test ran to its end", False, repr(e))
daemon.finish(10)
