#!/usr/bin/env python3
"""
Integration test: ANA, ports, referrals and controller ID ranges with the
real daemon and a raw NVMe/TCP host (tests/lib/nvmftcp.py).

    ana.py BUILD/daemon/nvmfd

nvmfd (2 workers, cntlid_range 300-309) listens on three I/O ports: A
(group 1 optimized, group 2 non-optimized), B (group 1 inaccessible, group
2 optimized) and C (defaults), and on a discovery port; subsystem S has
namespace 1 in ANA group 1 and namespace 2 in group 2; subsystem R is
limited to listener C; one referral. The test checks:

  - Identify Controller: CMIC.ANA, ANATT, ANACAP, ANAGRPMAX, NANAGRPID,
    controller IDs within the range; Identify Namespace: ANAGRPID;
  - the ANA log page read through A and through B: each its own states;
  - a Read of namespace 1 through B: ANA Inaccessible (SCT 3h, SC 02h,
    DNR clear); namespace 2 through B and namespace 1 through A work;
  - SIGHUP makes A inaccessible and B optimized for group 1: both hosts'
    AERs complete with the ANA change notice, the connections stay up, the
    log and the I/O results follow, the change count moves; group 2 in
    the change state gives ANA Transition;
  - R refuses Connect through A (Connect Invalid Parameters at SUBNQN),
    accepts it through C, and discovery lists R on C only, S on A, B, C,
    and the referral as a SUBTYPE 1 record.

SIGTERM: exit 0. Prints TAP; exit 0 / 1, 77 (skip) without nvmfd.
"""
import os, signal, socket, struct, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import Closed, Daemon, Queue, admin_up, io_up  # noqa: E402

NVMFD = nvmfd_arg()
PA, PB, PC, PD = free_ports(4)
S = "nqn.2026-11.io.nvmfd:ana-s"
R = "nqn.2026-11.io.nvmfd:ana-r"
AEN_ANA = 0x000C0302  # notice, info 03h (ANA change), log page 0Ch
ANA_INACCESSIBLE, ANA_TRANSITION = 0x302, 0x303
work = tempfile.mkdtemp(prefix="nvmfd-ana.")


def ini(a_states, b_states):
    return ("[nvmfd]\n"
            "listen = 127.0.0.1:%d ana_state=%s\n"
            "listen = 127.0.0.1:%d ana_state=%s\n"
            "listen = 127.0.0.1:%d\n"
            "discovery_listen = 127.0.0.1:%d\n"
            "referral = 192.0.2.77:8009\n"
            "cntlid_range = 300-309\n"
            "workers = 2\nstate_dir = %s\n"
            "[subsystem %s]\nallow_host = any\n"
            "[namespace %s 1]\npath = ram:4M\n"
            "[namespace %s 2]\npath = ram:4M\nana_group = 2\n"
            "[subsystem %s]\nallow_host = any\nlistener = 127.0.0.1:%d\n"
            "[namespace %s 1]\npath = ram:1M\n"
            % (PA, a_states, PB, b_states, PC, PD, os.path.join(work, "state"),
               S, S, S, R, PC, R))


def ana_log(q):
    """(chgcnt, {group: (state, [nsids])}) of the ANA log page read through q."""
    st, d = q.get_log(0x0C, 4096, rae=True)
    if st != 0:
        raise Closed("ANA log: status %#x" % st)
    chgcnt, ngrps = struct.unpack_from("<QH", d, 0)
    pos, groups = 16, {}
    for _ in range(ngrps):
        grp, n, _gc, state = struct.unpack_from("<IIQB", d, pos)
        groups[grp] = (state, list(struct.unpack_from("<%dI" % n, d, pos + 32)))
        pos += 32 + 4 * n
    return chgcnt, groups


def read_status(q, nsid):
    """The raw status of a 1-block Read (DNR and MORE kept)."""
    return q.wait(q.start_read(0, 1, nsid=nsid))[0]


def hup(daemon, text):
    """New configuration, SIGHUP, and wait for its 'reload:' summary in the log."""
    before = daemon.text().count("reload: ")
    with open(daemon.conf + ".tmp", "w") as f:
        f.write(text)
    os.rename(daemon.conf + ".tmp", daemon.conf)
    daemon.p.send_signal(signal.SIGHUP)
    end = time.monotonic() + 20
    while daemon.text().count("reload: ") == before and time.monotonic() < end:
        time.sleep(0.05)
    time.sleep(0.2)


def disc_records(port):
    """[(subtype, trsvcid, subnqn, traddr)] of the discovery log through port."""
    a = admin_up(port, "nqn.2014-08.org.nvmexpress.discovery", queues=0)
    st, d = a.get_log(0x70, 1024, nsid=0)
    numrec = struct.unpack_from("<Q", d, 8)[0]
    st, d = a.get_log(0x70, 1024 * (1 + numrec), nsid=0)
    a.close()
    out = []
    for i in range(numrec):
        e = d[1024 * (i + 1):1024 * (i + 2)]
        out.append((e[2], e[32:64].rstrip(b"\0").decode(), e[256:512].rstrip(b"\0").decode(),
                    e[512:768].rstrip(b"\0").decode()))
    return out


daemon = Daemon(NVMFD, work, ini("1:optimized,2:non-optimized", "1:inaccessible,2:optimized"),
                PA)
try:
    a = admin_up(PA, S)
    b = admin_up(PB, S)
    qa = io_up(PA, a)
    qb = io_up(PB, b)

    # ---- Identify ----
    st, idc = a.identify(1)
    cmic, = struct.unpack_from("<B", idc, 76)
    anatt, anacap, anagrpmax, nanagrpid = struct.unpack_from("<BBII", idc, 342)
    oaes, = struct.unpack_from("<I", idc, 92)
    check("Identify Controller: CMIC multi-controller + ANA, OAES ANA change",
          st == 0 and cmic & 0x0a == 0x0a and oaes & (1 << 11), (st, cmic, hex(oaes)))
    check("Identify Controller: ANATT 10, ANACAP 1Fh, ANAGRPMAX = NANAGRPID = 64",
          (anatt, anacap, anagrpmax, nanagrpid) == (10, 0x1F, 64, 64),
          (anatt, anacap, anagrpmax, nanagrpid))
    check("controller IDs within cntlid_range 300-309",
          300 <= a.cntlid <= 309 and 300 <= b.cntlid <= 309 and a.cntlid != b.cntlid,
          (a.cntlid, b.cntlid))
    st, idn = a.identify(0, nsid=2)
    check("Identify Namespace 2: ANAGRPID 2", st == 0 and struct.unpack_from("<I", idn, 92)[0] == 2)

    # ---- the log through each listener ----
    ca, ga = ana_log(a)
    cb, gb = ana_log(b)
    check("ANA log through A: group 1 optimized [1], group 2 non-optimized [2]",
          ga == {1: (1, [1]), 2: (2, [2])}, ga)
    check("ANA log through B: group 1 inaccessible [1], group 2 optimized [2]",
          gb == {1: (3, [1]), 2: (1, [2])}, gb)

    # ---- I/O statuses ----
    st = read_status(qb, 1)
    check("Read ns 1 through B: ANA Inaccessible (SCT 3h SC 02h), DNR clear",
          st & 0x7FF == ANA_INACCESSIBLE and not st & 0x4000, hex(st or 0))
    check("Read ns 2 through B, ns 1 and 2 through A: success",
          read_status(qb, 2) == 0 and read_status(qa, 1) == 0 and read_status(qa, 2) == 0)
    st, _ = b.identify(0, nsid=1)
    check("Identify ns 1 through B (inaccessible) still works", st == 0)

    # ---- SIGHUP moves the states; the AENs arrive ----
    for q in (a, b):
        st, _ = q.set_features(0x0B, 1 << 11)
        check("Set Features 0Bh: ANA change notice enabled", st == 0, hex(st))
    aer_a, aer_b = a.aer(), b.aer()
    fds = daemon.fds()
    hup(daemon, ini("1:inaccessible,2:non-optimized", "1:optimized,2:optimized"))
    ra, rb = a.poll(aer_a, 10), b.poll(aer_b, 10)
    check("SIGHUP: AER through A completes with the ANA change notice",
          ra is not None and ra[1] == AEN_ANA, ra)
    check("SIGHUP: AER through B completes with the ANA change notice",
          rb is not None and rb[1] == AEN_ANA, rb)
    c2, gb = ana_log(b)
    _, ga = ana_log(a)
    check("after the reload, through B: group 1 optimized; the change count moved",
          gb[1][0] == 1 and c2 > cb, (c2, cb, gb))
    check("after the reload, through A: group 1 inaccessible", ga[1][0] == 3, ga)
    st = read_status(qa, 1)
    check("the same I/O queues: ns 1 through A now ANA Inaccessible, through B served",
          st & 0x7FF == ANA_INACCESSIBLE and read_status(qb, 1) == 0, hex(st or 0))
    check("the listeners were not reopened (same fds)", daemon.fds() == fds,
          (fds, daemon.fds()))
    check("the log says what changed",
          "ANA group 1 optimized -> inaccessible" in daemon.text(), daemon.text()[-600:])
    hup(daemon, ini("1:inaccessible,2:non-optimized", "1:optimized,2:change"))
    st = read_status(qb, 2)
    check("group 2 in the change state through B: ANA Transition (SCT 3h SC 03h)",
          st & 0x7FF == ANA_TRANSITION and not st & 0x4000, hex(st or 0))

    # ---- ports ----
    q = Queue(PA)
    q.icreq()
    st, dw0 = q.connect(R)
    q.close()
    check("R through A: Connect Invalid Parameters, IPO at SUBNQN",
          st is not None and st & 0x7FF == 0x182 and dw0 == (1 << 16) | 256, (st, hex(dw0)))
    try:
        r = admin_up(PC, R, queues=0)
        check("R through C: connected", True)
        r.close()
    except Closed as e:
        check("R through C: connected", False, e)
    recs = disc_records(PD)
    subs = sorted((t, svc) for (t, svc, nqn, _) in recs if nqn == R)
    check("discovery: R on listener C only", subs == [(2, str(PC))], recs)
    subs = sorted(int(svc) for (t, svc, nqn, _) in recs if nqn == S)
    check("discovery: S on A, B and C", subs == sorted([PA, PB, PC]), recs)
    refs = [(svc, addr) for (t, svc, nqn, addr) in recs if t == 1]
    check("discovery: the referral as a SUBTYPE 1 record", refs == [("8009", "192.0.2.77")],
          recs)
    for q in (qa, qb, a, b):
        q.close()
except Closed as e:
    check("no connection failed", False, e)
check("SIGTERM: exit 0", daemon.stop() == 0, daemon.text()[-800:])
done(work)
