#!/usr/bin/env python3
"""
Integration test: the health counters like a drive's (daemon/core/health.c),
read with a raw NVMe/TCP host (tests/lib/nvmftcp.py) from the SMART /
Health log (02h) and the error log (01h).

    health.py BUILD/daemon/nvmfd

nvmf_stat.sh already checks data units and commands after 1 MiB transfers
through nvmf-stat; this checks the rounding at its edges (1000 512-byte
units are 1 data unit, 1008 are 2), the per-namespace and the subsystem's
logs, an error log entry, then what survives a restart: counters after a
graceful stop, one unsafe shutdown (and one power cycle) per kill -9, none
per graceful stop, power-on hours from power_on_seconds in the file, a
corrupt file set aside as health.unreadable, a state_dir that cannot be
used (logged, the daemon serves anyway), -s overriding state_dir.
Prints TAP; exit 0 / 1, 77 (skip) without nvmfd.
"""
import os, signal, socket, struct, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, results  # noqa: E402
from nvmftcp import Closed, Daemon, admin_up, io_up  # noqa: E402

NVMFD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ""
if not os.access(NVMFD, os.X_OK):
    print("1..0 # SKIP nvmfd is not built (%s)" % NVMFD)
    sys.exit(77)

(PORT,) = free_ports(1)
SUB = "nqn.2026-11.io.nvmfd:health"
HOST = "nqn.2026-11.io.nvmfd:health-host"
work = tempfile.mkdtemp(prefix="nvmfd-health.")
state = os.path.join(work, "state")
hfile = os.path.join(state, "health")
# state_dir names a place that cannot be created (under a regular file): every
# run but one gives -s
plain = os.path.join(work, "plain-file")
open(plain, "w").close()
conf_text = ("[nvmfd]\nlisten = 127.0.0.1:%d\ndiscovery_listen = none\nworkers = 2\n"
             "state_dir = %s\nlog_level = info\n"
             "[subsystem %s]\nallow_host = any\n"
             "[namespace %s 1]\npath = ram:16M\n"
             "[namespace %s 2]\npath = ram:16M\n"
             % (PORT, os.path.join(plain, "not-a-dir"), SUB, SUB, SUB))

daemons = []   # every run's, the current one last


def start(state_dir, label):
    """Whether nvmfd started (-s state_dir unless None), its log named after label."""
    try:
        daemons.append(Daemon(NVMFD, work, conf_text, PORT, "nvmfd-%d-%s" % (len(daemons), label),
                              args=["-s", state_dir] if state_dir else []))
        return True
    except Closed as e:
        print("# %s" % e)
        return False


def log_text():
    return daemons[-1].text()


def stop(sig=signal.SIGTERM):
    return daemons[-1].stop(sig, timeout=30)   # a stop waits up to 5 s for commands in flight


def smart(a, nsid=0xFFFFFFFF):
    st, d = a.get_log(0x02, 512, nsid=nsid)
    if st != 0:
        return None
    u = lambda off: struct.unpack_from("<QQ", d, off)[0]  # noqa: E731
    return {"units_read": u(32), "units_written": u(48), "reads": u(64), "writes": u(80),
            "power_cycles": u(112), "poh": u(128), "unsafe": u(144), "media": u(160),
            "err_entries": u(176)}


def sample():
    a = admin_up(PORT, SUB, HOST, queues=0)
    try:
        return smart(a), smart(a, 1), smart(a, 2)
    finally:
        a.close()


def file_fields():
    try:
        with open(hfile) as f:
            return f.read()
    except OSError as e:
        return "(%s)" % e


def same_io(x, y):
    keys = ("units_read", "units_written", "reads", "writes", "err_entries")
    return x is not None and y is not None and all(x[k] == y[k] for k in keys)


def main():
    global conf_text
    # ---- run 1: a fresh state_dir, known I/O ----
    check("run 1: nvmfd starts with -s %s (state_dir in the file cannot be made)" % state,
          start(state, "first"))
    a = admin_up(PORT, SUB, HOST)
    q = io_up(PORT, a)
    tot0 = smart(a)
    check("run 1: power cycles 1, unsafe shutdowns 0, power-on hours 0, no I/O yet",
          tot0 and tot0["power_cycles"] == 1 and tot0["unsafe"] == 0 and tot0["poh"] == 0
          and tot0["reads"] == tot0["writes"] == tot0["units_read"] == 0, tot0)
    blk = os.urandom(8192)
    ok = all(q.write(16 * i, blk) == 0 for i in range(63))           # 1008 units of 512 B
    ok &= all(q.read(8 * i, 8)[0] == 0 for i in range(125))          # 1000 units
    ok &= all(q.write(i, b"\xa5" * 512, nsid=2) == 0 for i in range(3))   # 3 units
    check("run 1: 63 x 8 KiB written and 125 x 4 KiB read on ns 1, 3 x 512 B written on ns 2", ok)
    st, _ = q.read(1 << 40, 1)
    check("run 1: a read beyond the end: LBA Out of Range (%#x)" % st, st & 0x7FF == 0x80)
    tot, n1, n2 = smart(a), smart(a, 1), smart(a, 2)
    check("run 1: ns 1: 63 writes, 1008 units -> 2 data units written; 125 reads, 1000 "
          "units -> 1 data unit read", n1 and n1["writes"] == 63 and n1["units_written"] == 2
          and n1["reads"] == 125 and n1["units_read"] == 1, n1)
    check("run 1: ns 2: 3 writes, 3 units -> 1 data unit (rounded up), nothing read",
          n2 and n2["writes"] == 3 and n2["units_written"] == 1 and n2["reads"] == 0
          and n2["units_read"] == 0, n2)
    check("run 1: subsystem: 66 writes, 1011 units -> 2; 125 reads -> 1; 1 error log entry",
          tot and tot["writes"] == 66 and tot["units_written"] == 2 and tot["reads"] == 125
          and tot["units_read"] == 1 and tot["err_entries"] == 1, tot)
    st, el = a.get_log(0x01, 64)
    cnt, sqid, _cid, sf = struct.unpack_from("<QHHH", el, 0) if st == 0 else (0, 0, 0, 0)
    check("run 1: error log (01h): entry 1, queue 1, status LBA Out of Range",
          st == 0 and cnt == 1 and sqid == 1 and (sf >> 1) & 0x7FF == 0x80, (st, cnt, sqid, sf))
    q.close()
    a.close()
    rc = stop()
    check("run 1: SIGTERM: exit 0", rc == 0, rc)
    check("run 1: the file says clean 1 after a graceful stop", "\nclean 1\n" in file_fields(),
          file_fields())
    run1 = (tot, n1, n2)

    # ---- run 2: a graceful restart keeps everything ----
    check("run 2 (graceful restart): starts", start(state, "graceful"))
    tot, n1, n2 = sample()
    check("run 2: the file says clean 0 while nvmfd runs", "\nclean 0\n" in file_fields())
    check("run 2: subsystem and namespace counters as run 1 left them",
          same_io(tot, run1[0]) and same_io(n1, run1[1]) and same_io(n2, run1[2]),
          (tot, n1, n2))
    check("run 2: power cycles 2, unsafe shutdowns 0", tot["power_cycles"] == 2
          and tot["unsafe"] == 0, tot)
    # ---- run 3: after kill -9 ----
    stop(signal.SIGKILL)
    check("run 3 (after kill -9): starts", start(state, "after-kill"))
    tot, n1, n2 = sample()
    check("run 3: one unsafe shutdown, power cycles 3", tot["unsafe"] == 1
          and tot["power_cycles"] == 3, tot)
    check("run 3: the log says the last run did not stop cleanly",
          "did not stop cleanly" in log_text())
    check("run 3: counters kept (saved at run 2's start)", same_io(tot, run1[0])
          and same_io(n1, run1[1]) and same_io(n2, run1[2]), (tot, n1, n2))
    stop(signal.SIGKILL)
    check("run 4 (after a second kill -9): starts", start(state, "after-kill-2"))
    tot, _, _ = sample()
    check("run 4: exactly one more unsafe shutdown (2), power cycles 4",
          tot["unsafe"] == 2 and tot["power_cycles"] == 4, tot)
    check("run 4: SIGTERM: exit 0", stop() == 0)
    # a start that fails (its port taken) is a power cycle, not an unsafe shutdown
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", PORT))
    taken.listen(1)
    conf = os.path.join(work, "taken.ini")
    with open(conf, "w") as f:
        f.write(conf_text)
    r = subprocess.run([NVMFD, "-c", conf, "-s", state], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    taken.close()
    check("a start with its port taken fails (exit 1), saying so",
          r.returncode == 1 and b"cannot listen" in r.stdout, r.stdout.decode()[-300:])
    check("run 5 (after a graceful stop and a failed start): starts",
          start(state, "after-graceful"))
    tot, _, _ = sample()
    check("run 5: no new unsafe shutdown (2), power cycles 6 (the failed start counts one)",
          tot["unsafe"] == 2 and tot["power_cycles"] == 6, tot)
    stop()

    # ---- power-on hours from the file ----
    text = file_fields()
    lines = [("power_on_seconds 7200" if l.startswith("power_on_seconds ") else l)
             for l in text.split("\n")]
    with open(hfile, "w") as f:
        f.write("\n".join(lines))
    check("run 6 (power_on_seconds 7200 in the file): starts", start(state, "poh"))
    tot, _, _ = sample()
    check("run 6: power-on hours 2", tot["poh"] == 2, tot)
    stop()
    pos = [l for l in file_fields().split("\n") if l.startswith("power_on_seconds ")]
    check("run 6: the file keeps counting from 7200 s (%s)" % pos,
          pos and 7200 <= int(pos[0].split()[1]) < 7200 + 60)

    # ---- a corrupt file ----
    with open(hfile, "wb") as f:
        f.write(b"\x00\xffgarbage, not a health file\n")
    check("run 7 (a corrupt health file): starts", start(state, "corrupt"))
    tot, _, _ = sample()
    check("run 7: health.unreadable holds the corrupt file",
          os.path.exists(hfile + ".unreadable")
          and open(hfile + ".unreadable", "rb").read().startswith(b"\x00\xffgarbage"))
    check("run 7: the counters start again (power cycles 1, no I/O)", tot["power_cycles"] == 1
          and tot["writes"] == 0 and tot["unsafe"] == 0, tot)
    check("run 7: the log names the file", hfile in log_text(), log_text()[-500:])
    stop()
    check("run 7: a new health file is written", file_fields().startswith("nvmfd-health 1\n"))

    # ---- a state_dir that cannot be used ----
    check("run 8 (state_dir in the file: under a regular file): starts", start(None, "no-dir"))
    a = admin_up(PORT, SUB, HOST)
    q = io_up(PORT, a)
    ok = q.write(0, bytes(4096)) == 0 and smart(a)["writes"] == 1
    check("run 8: serves I/O, counters from zero", ok)
    check("run 8: the log says the counters are not kept",
          "not kept" in log_text() and "not-a-dir" in log_text(), log_text()[-500:])
    q.close()
    a.close()
    check("run 8: SIGTERM: exit 0", stop() == 0)

    # ---- a subsystem removed by a reload while older commands still run, then a stop ----
    sub_c = SUB + "-c"
    base = conf_text
    conf_text += "[subsystem %s]\nallow_host = any\n[namespace %s 1]\npath = ram:8M\n" % (
        sub_c, sub_c)
    check("run 9 (with subsystem C): starts", start(state, "sub-c"))
    ac = admin_up(PORT, sub_c, HOST)
    qc = io_up(PORT, ac)
    ok = all(qc.write(8 * i, bytes(4096)) == 0 for i in range(5))
    a = admin_up(PORT, SUB, HOST)
    q = io_up(PORT, a)
    # a write whose data the host never sends (R2T unanswered): a command older than the reload
    q.cmd(0x01, nsid=1, cdw=(0, 0, 31), sgl_len=16384)
    time.sleep(0.2)
    with open(daemons[-1].conf, "w") as f:
        f.write(base)
    daemons[-1].p.send_signal(signal.SIGHUP)
    end = time.time() + 30
    while time.time() < end and "last commands begun before it" not in log_text() and \
            "subsystems +0 -1" not in log_text():
        time.sleep(0.05)
    time.sleep(0.3)
    # a command waiting for the host's data holds nothing a reload frees: it does not wait
    check("run 9: 5 writes on C; C removed by a reload that does not wait for a write on A "
          "whose data the host holds back",
          ok and "subsystems +0 -1" in log_text() and
          "commands begun before it still run" not in log_text(), log_text()[-600:])
    t0 = time.time()
    rc = stop()
    print("# run 9: the stop took %.1f s" % (time.time() - t0))
    q.close()
    a.close()
    qc.close()
    ac.close()
    lines = [l for l in file_fields().split("\n") if l.startswith("subsystem %s " % sub_c)]
    check("run 9: after the stop the file keeps C's counters (5 writes): %s" % lines,
          rc == 0 and len(lines) == 1 and lines[0].split()[3:5] == ["0", "5"], file_fields())


try:
    main()
except Exception as e:  # noqa: BLE001
    import traceback
    traceback.print_exc(file=sys.stdout)
    check("the test ran to its end", False, repr(e))
finally:
    if daemons and daemons[-1].alive():
        stop()
    bad = [l for d in daemons for l in d.sanitizer_lines()]
    check("no sanitizer report in the daemon's logs", not bad, " | ".join(bad[:5]))
    if not all(results) and daemons:
        daemons[-1].print_tail(25)
    done(work)
