#!/usr/bin/env python3
"""
Integration test: reservations, Compare, Verify and the fused Compare and
Write with the real daemon and raw hosts (two Host Identifiers).

    reservations.py BUILD/daemon/nvmfd [ROUNDS]

nvmfd with 2 workers, a file namespace (4 KiB blocks) and a RAM one.
- Identify: ONCS (Compare, Reservations, Verify), FUSES, RESCAP, NMIC.
- Host A and host B register; A acquires Write Exclusive: B's write fails
  with Reservation Conflict, B's read succeeds, A writes; the report
  (extended: 128-bit host identifiers) shows both, A holding; EDS clear
  is Host Identifier Inconsistent Format.
- kill -9 of nvmfd, restart: the same state (PTPL set with CPTPL).
- B preempts and aborts A: A is gone, B holds; A's controller gets a
  Reservation Log Page Available event and log page 80h says
  Registration Preempted; a write of A waiting for its data when it was
  preempted completes with Command Aborted due to Preempt and Abort.
- Release, Clear (Reservation Preempted in A's log), masks (82h), PTPL (83h).
- Compare (equal, different: Compare Failure), Verify, lone fused halves
  (Missing Fused Command), a fused pair whose compare fails (Failed Fused
  Command, nothing written).
- Races, ROUNDS rounds each (2000 by default): two fused Compare and Write
  incrementers on I/O queues of two workers: the counter ends at the number
  of successes (no lost update); then a fused incrementer against plain
  writes of the same two blocks from a queue on the other worker: every
  value seen under the lock is whole (never torn), no increment is lost
  between the plain writes.
Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd.
"""
import os
import signal
import socket
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import (R2T, Closed, Daemon, admin_up, io_up, ns, nvmfd_ini,  # noqa: E402
                     parse_r2t, rw_cdw, subsystem)

NVMFD = nvmfd_arg()
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000

SUB = "nqn.2026-11.io.nvmfd:resv"
HOST_A = "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-0000-0000-000000000001"
HOST_B = "nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-0000-0000-0000-000000000002"
ID_A = bytes([0xA0 + i for i in range(16)])
ID_B = bytes([0xB0 + i for i in range(16)])
BS = 4096
KEY_A, KEY_B = 0xAAAA0001, 0xBBBB0002

CONFLICT, HOSTID_FMT, PREEMPT_ABORTED = 0x083, 0x018, 0x01B
FUSED_FAIL, FUSED_MISSING, COMPARE_FAIL, LBA_RANGE = 0x009, 0x00A, 0x285, 0x080

work = tempfile.mkdtemp(prefix="nvmfd-resv.", dir="/var/tmp")
img = os.path.join(work, "ns1.img")
with open(img, "wb") as f:
    f.truncate(64 << 20)
port, dport = free_ports(2)
CONF = nvmfd_ini(port, dport, work, subsystem(SUB, ns(1, img, block_size=4096),
                                              ns(2, "ram:16M", block_size=4096)), workers=2)


def st(x):
    return None if x is None else x & 0x7FF


def register(q, rrega, crkey=0, nrkey=0, iekey=False, cptpl=0, nsid=1):
    cdw10 = rrega | (8 if iekey else 0) | (cptpl << 30)
    return st(q.wait(q.cmd(0x0D, nsid=nsid, cdw=(cdw10,), icd=struct.pack("<QQ", crkey, nrkey)))[0])


def acquire(q, racqa, rtype, crkey, prkey=0, nsid=1):
    cdw10 = racqa | (rtype << 8)
    return st(q.wait(q.cmd(0x11, nsid=nsid, cdw=(cdw10,), icd=struct.pack("<QQ", crkey, prkey)))[0])


def release(q, rrela, rtype, crkey, nsid=1):
    cdw10 = rrela | (rtype << 8)
    return st(q.wait(q.cmd(0x15, nsid=nsid, cdw=(cdw10,), icd=struct.pack("<Q", crkey)))[0])


def report(q, eds=True, nsid=1, size=4096):
    """(status, gen, rtype, ptpls, [(rcsts, rkey, hostid)])."""
    s, _, d = q.wait(q.cmd(0x0E, nsid=nsid, cdw=(size // 4 - 1, 1 if eds else 0), sgl_len=size))
    if st(s) != 0:
        return st(s), None, None, None, []
    gen, rtype = struct.unpack_from("<IB", d, 0)
    regctl = struct.unpack_from("<H", d, 5)[0]
    ptpls = d[9]
    regs = []
    for i in range(regctl):
        e = d[64 + 64 * i:128 + 64 * i]
        regs.append((e[2], struct.unpack_from("<Q", e, 8)[0], bytes(e[16:32])))
    return 0, gen, rtype, ptpls, regs


def write(q, lba, data, nsid=1, flags=0x40):
    return st(q.wait(q.cmd(0x01, nsid=nsid, cdw=rw_cdw(lba, len(data) // BS), icd=data,
                           flags=flags))[0])


def read(q, lba, nlb, nsid=1):
    s, d = q.read(lba, nlb, nsid=nsid, bs=BS)
    return st(s), d


def compare(q, lba, data, nsid=1, flags=0x40):
    return q.cmd(0x05, nsid=nsid, cdw=rw_cdw(lba, len(data) // BS), icd=data, flags=flags)


def pattern(tag, n):
    blk = struct.pack("<16sQ", tag.ljust(16, b"."), n)
    blk = blk * (BS // len(blk)) + blk[:BS % len(blk)]
    return blk


def nodelay(q):
    # a fused pair is two capsules sent back to back: no Nagle wait for the second
    q.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return q


class Host:
    def __init__(self, nqn, hostid, nq=1):
        self.a = admin_up(port, SUB, nqn, queues=4, hostid=hostid)
        self.q = [nodelay(io_up(port, self.a, qid=i + 1)) for i in range(nq)]

    def close(self):
        for q in self.q + [self.a]:
            q.close()


def up():
    return Daemon(NVMFD, work, CONF, port, name="nvmfd")


d = up()
A, B = Host(HOST_A, ID_A, 2), Host(HOST_B, ID_B, 1)
qa, qb = A.q[0], B.q[0]

# ---- Identify ----
s, idc = A.a.identify(1)
oncs, fuses = struct.unpack_from("<HH", idc, 520)
check("ONCS: Compare, DSM, Write Zeroes, Reservations, Verify", s == 0 and oncs & 0xAD == 0xAD,
      hex(oncs))
check("FUSES: Compare and Write", fuses & 1 == 1)
s, idn = A.a.identify(0, nsid=1)
check("NMIC shared, RESCAP every type and PTPL", idn[30] & 1 and idn[31] == 0xFF,
      "nmic %#x rescap %#x" % (idn[30], idn[31]))

# ---- Write Exclusive held by A ----
check("A registers (CPTPL: persist)", register(qa, 0, nrkey=KEY_A, cptpl=3) == 0)
check("B registers", register(qb, 0, nrkey=KEY_B) == 0)
check("B registering again with the same key is no error", register(qb, 0, nrkey=KEY_B) == 0)
check("B registering with another key: conflict", register(qb, 0, nrkey=7) == CONFLICT)
check("A acquires with a wrong key: conflict", acquire(qa, 0, 1, KEY_B) == CONFLICT)
check("A acquires Write Exclusive", acquire(qa, 0, 1, KEY_A) == 0)
check("B acquires too: conflict", acquire(qb, 0, 1, KEY_B) == CONFLICT)
blk = pattern(b"A-wrote", 1)
check("A (holder) writes", write(qa, 10, blk) == 0)
check("B's write: Reservation Conflict", write(qb, 10, pattern(b"B", 1)) == CONFLICT)
s, data = read(qb, 10, 1)
check("B's read succeeds and sees A's data", s == 0 and data == blk)
check("B's Write Zeroes: conflict",
      st(qb.wait(qb.cmd(0x08, nsid=1, cdw=rw_cdw(10, 1)))[0]) == CONFLICT)
check("B's write to the other namespace is fine", write(qb, 0, pattern(b"B", 2), nsid=2) == 0)
s, gen, rtype, ptpls, regs = report(qb)
check("report: type 1, PTPL, A holds, B does not",
      s == 0 and rtype == 1 and ptpls == 1 and (1, KEY_A, ID_A) in regs and (0, KEY_B, ID_B) in regs,
      (s, rtype, ptpls, regs))
check("report without EDS: Host Identifier Inconsistent Format", report(qb, eds=False)[0] == HOSTID_FMT)
gen_before = gen

# ---- kill -9, restart ----
A.close()
B.close()
d.stop(signal.SIGKILL)
d = up()
A, B = Host(HOST_A, ID_A, 2), Host(HOST_B, ID_B, 1)
qa, qb = A.q[0], B.q[0]
s, gen, rtype, ptpls, regs = report(qa)
check("after kill -9 and restart: the same registrants, holder, type, generation",
      s == 0 and rtype == 1 and gen == gen_before and (1, KEY_A, ID_A) in regs and
      (0, KEY_B, ID_B) in regs, (s, gen, gen_before, rtype, regs))
check("after restart: B's write still conflicts", write(qb, 10, pattern(b"B", 3)) == CONFLICT)
check("after restart: A still writes", write(qa, 10, blk) == 0)

# ---- preempt and abort by B ----
aer = A.a.aer()
# A's write waits for its data (R2T) while B preempts A with abort
big = pattern(b"A-late", 9) * 4
cid = qa.cmd(0x01, nsid=1, cdw=rw_cdw(20, 4), sgl_len=len(big))
t, fl, hdr, _ = qa.rx()
check("A's 16 KiB write gets its R2T", t == R2T)
check("B: Preempt and Abort of A's key", acquire(qb, 2, 1, KEY_B, prkey=KEY_A) == 0)
_, ttag, r2to, r2tl = parse_r2t(hdr)
for off in range(r2to, r2to + r2tl, 8192):
    n = min(8192, r2to + r2tl - off)
    qa.send(qa.h2c_pdu(cid, ttag, off, big[off:off + n], last=off + n == r2to + r2tl))
check("A's write that had not started: Command Aborted due to Preempt and Abort",
      st(qa.wait(cid)[0]) == PREEMPT_ABORTED)
s, gen, rtype, ptpls, regs = report(qb)
check("report: B holds alone, generation moved", s == 0 and rtype == 1 and
      regs == [(1, KEY_B, ID_B)] and gen > gen_before, (regs, gen))
check("A (unregistered) writes: conflict", write(qa, 10, pattern(b"A", 4)) == CONFLICT)
check("B (holder now) writes", write(qb, 10, pattern(b"B", 4)) == 0)
r = A.a.poll(aer, 5)
check("A's controller: Reservation Log Page Available event (type 6, log 80h)",
      r is not None and r[1] == 0x00800006, r)
s, log = A.a.get_log(0x80, 64, nsid=0xFFFFFFFF)
count, ltype, navail, lnsid = struct.unpack_from("<QBBxxI", log, 0)
check("log 80h: Registration Preempted, namespace 1", s == 0 and ltype == 1 and lnsid == 1 and count >= 1,
      (s, count, ltype, lnsid))
s, log = A.a.get_log(0x80, 64)
check("log 80h read again: empty", s == 0 and log[8] == 0)

# ---- release, registrants only, clear, masks ----
check("B releases with the wrong type: Invalid Field", release(qb, 0, 2, KEY_B) == 0x002)
check("B releases", release(qb, 0, 1, KEY_B) == 0)
check("A writes again (no reservation)", write(qa, 10, pattern(b"A", 5)) == 0)
check("A registers again", register(qa, 0, nrkey=KEY_A) == 0)
check("B acquires Exclusive Access - Registrants Only", acquire(qb, 0, 4, KEY_B) == 0)
check("A (registrant) writes and reads", write(qa, 11, pattern(b"A", 6)) == 0 and read(qa, 11, 1)[0] == 0)
C = Host("nqn.2014-08.org.nvmexpress:uuid:cccccccc-0000-0000-0000-000000000003", bytes(range(32, 48)))
check("C (not registered) reads: conflict", read(C.q[0], 11, 1)[0] == CONFLICT)
C.close()
aer = A.a.aer()
check("B clears", release(qb, 1, 0, KEY_B) == 0)
r = A.a.poll(aer, 5)
s, log = A.a.get_log(0x80, 64)
check("A: Reservation Preempted in log 80h", r is not None and s == 0 and log[8] == 3, (r, log[:16]))
s, gen, rtype, ptpls, regs = report(qa)
check("after Clear: nobody registered", s == 0 and rtype == 0 and regs == [])
check("mask 82h: set and read back", A.a.wait(A.a.cmd(0x09, nsid=1, cdw=(0x82, 0x2)))[0] == 0 and
      A.a.wait(A.a.cmd(0x0A, nsid=1, cdw=(0x82,)))[1] == 0x2)
register(qa, 0, nrkey=KEY_A)
register(qb, 0, nrkey=KEY_B)
check("B preempts A", acquire(qb, 1, 1, KEY_B, prkey=KEY_A) == 0)
s, log = A.a.get_log(0x80, 64)
check("masked Registration Preempted: not logged", s == 0 and log[8] == 0, log[:16])
check("feature 83h: PTPL of namespace 1 reads 1",
      A.a.wait(A.a.cmd(0x0A, nsid=1, cdw=(0x83,)))[1] == 1)
release(qb, 1, 0, KEY_B)

# ---- Compare, Verify, fused halves ----
v = pattern(b"cmp", 1)
write(qa, 30, v)
check("Compare, equal: success", st(qa.wait(compare(qa, 30, v))[0]) == 0)
check("Compare, different: Compare Failure", st(qa.wait(compare(qa, 30, pattern(b"x", 1)))[0]) == COMPARE_FAIL)
check("Compare on the RAM namespace", write(qa, 3, v, nsid=2) == 0 and
      st(qa.wait(compare(qa, 3, v, nsid=2))[0]) == 0 and
      st(qa.wait(compare(qa, 3, pattern(b"y", 2), nsid=2))[0]) == COMPARE_FAIL)
check("Verify of 1024 blocks", st(qa.wait(qa.cmd(0x0C, nsid=1, cdw=rw_cdw(0, 1024)))[0]) == 0)
check("Verify beyond the end: LBA Out of Range",
      st(qa.wait(qa.cmd(0x0C, nsid=1, cdw=rw_cdw(16383, 2)))[0]) == LBA_RANGE)
c1 = compare(qa, 30, v, flags=0x41)
c2 = qa.start_read(30, 1, bs=BS)
check("a fused first half followed by a Read: Missing Fused Command",
      st(qa.wait(c1)[0]) == FUSED_MISSING and st(qa.wait(c2)[0]) == 0)
check("a lone fused second half: Missing Fused Command",
      write(qa, 30, pattern(b"lone", 1), flags=0x42) == FUSED_MISSING and read(qa, 30, 1)[1] == v)
c1 = compare(qa, 30, pattern(b"wrong", 1), flags=0x41)
c2 = qa.cmd(0x01, nsid=1, cdw=rw_cdw(30, 1), icd=pattern(b"new", 1), flags=0x42)
check("fused pair, compare fails: Compare Failure, Failed Fused Command, nothing written",
      st(qa.wait(c1)[0]) == COMPARE_FAIL and st(qa.wait(c2)[0]) == FUSED_FAIL and read(qa, 30, 1)[1] == v)
c1 = compare(qa, 30, v, flags=0x41)
c2 = qa.cmd(0x01, nsid=1, cdw=rw_cdw(30, 1), icd=pattern(b"new", 1), flags=0x42)
check("fused pair, compare equal: both succeed, written",
      st(qa.wait(c1)[0]) == 0 and st(qa.wait(c2)[0]) == 0 and read(qa, 30, 1)[1] == pattern(b"new", 1))

# ---- races ----
LBA = 100
NLB = 2


def val(tag, n):
    return pattern(tag, n) * NLB


def parse(b):
    """(tag, n) of a whole value, None if its blocks differ (torn) or it is not one."""
    if len(b) != BS * NLB or b[:BS] != b[BS:]:
        return None
    tag, n = struct.unpack_from("<16sQ", b, 0)
    return (tag, n) if b[:BS] == pattern(tag, n) else None


def cas(q, old, new):
    c1 = compare(q, LBA, old, flags=0x41)
    c2 = q.cmd(0x01, nsid=1, cdw=rw_cdw(LBA, NLB), icd=new, flags=0x42)
    s1, s2 = st(q.wait(c1)[0]), st(q.wait(c2)[0])
    return s1, s2


def incrementer(q, rounds, out):
    ok = bad = torn = 0
    while ok < rounds:
        s, cur = read(q, LBA, NLB)
        p = parse(cur)
        if s != 0:
            bad += 1
            break
        if p is None:
            torn += 1  # a read overlapping a plain write: reads take no lock
            continue
        s1, s2 = cas(q, cur, val(b"inc", p[1] + 1))
        if s1 == 0 and s2 == 0:
            ok += 1
        elif not (s1 == COMPARE_FAIL and s2 == FUSED_FAIL):
            bad += 1
            break
    out.update(ok=ok, bad=bad, torn=torn)


write(qa, LBA, val(b"inc", 0))
qb2 = nodelay(io_up(port, B.a, qid=2))  # B's queue 2: the other worker than A's queue 1
r1, r2 = {}, {}
t0 = time.time()
th = [threading.Thread(target=incrementer, args=(qa, ROUNDS, r1)),
      threading.Thread(target=incrementer, args=(qb2, ROUNDS, r2))]
for t in th:
    t.start()
for t in th:
    t.join()
s, cur = read(qa, LBA, NLB)
p = parse(cur)
check("two fused incrementers on two workers, %d rounds each: counter %s == %d, no error"
      % (ROUNDS, p and p[1], 2 * ROUNDS),
      r1.get("bad") == 0 and r2.get("bad") == 0 and p == (b"inc".ljust(16, b"."), 2 * ROUNDS),
      (r1, r2, p))
print("# %d fused Compare and Write in %.1f s" % (2 * ROUNDS, time.time() - t0))

# fused increments against plain writes of the same blocks from the other worker
stop = threading.Event()
plain = {"n": 0, "bad": 0}


def plain_writer(q):
    while not stop.is_set():
        # a plain write keeps the counter (the incrementer's value + 0) but
        # changes the tag: an increment lost between them would show
        s, cur = read(q, LBA, NLB)
        p = parse(cur)
        if s != 0:
            plain["bad"] += 1
            return
        if p is None:
            continue
        if write(q, LBA, val(b"plain", p[1])) != 0:
            plain["bad"] += 1
            return
        plain["n"] += 1


write(qa, LBA, val(b"inc", 0))
r3 = {}
pw = threading.Thread(target=plain_writer, args=(qb2,))
pw.start()
incrementer(qa, ROUNDS, r3)
stop.set()
pw.join()
s, cur = read(qa, LBA, NLB)
p = parse(cur)
check("fused increments racing %d plain writes from the other worker: whole value, no error"
      % plain["n"], r3.get("bad") == 0 and plain["bad"] == 0 and p is not None and plain["n"] > 0,
      (r3, plain, p))
# every successful increment compared the whole current value under the lock,
# so the counter can only have moved back by a plain write that read it before
# an increment and wrote after it: plain writes are not atomic read-modify-writes
print("# fused: %d increments, %d torn unlocked reads; plain writes: %d; final %s"
      % (r3.get("ok", 0), r3.get("torn", 0), plain["n"], p))

# a host that goes away with a fused first half waiting for its second
q = A.q[1]
compare(q, 30, v, flags=0x41)
time.sleep(0.2)
q.close()
A.q.pop()
check("a connection closed with a lone fused half waiting: nvmfd goes on",
      write(qa, 31, v) == 0 and d.alive())

qb2.close()
A.close()
B.close()
rc = d.stop()
check("nvmfd exits cleanly", rc == 0, d.text()[-2000:])
check("no sanitizer report", not d.sanitizer_lines(), d.sanitizer_lines())
done(work)
