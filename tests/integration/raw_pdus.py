#!/usr/bin/env python3
"""
Integration test: raw NVMe/TCP PDUs against nvmfd, for the paths a
well-behaved host never takes: sequence errors, SGL checks, in-capsule and
H2CData data digest errors, H2CData validation (C2HTermReq FES / FEI),
the queue size, header digest errors, HPDA, SQ flow control off (SUCCESS),
short sends to a slow reader, Disconnect on an I/O queue, a host
H2CTermReq, the keep-alive timeout, hand-offs to every worker.

    raw_pdus.py BUILD/daemon/nvmfd

Starts nvmfd (3 workers) on free loopback ports with a 128 MiB RAM
namespace, prints TAP, stops it with SIGTERM (it must exit 0 within 5 s,
without a sanitizer report). Exit 0 / 1, or 77 (skip) without nvmfd.
"""
import os, socket, struct, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import (CC_ENABLE, H2C_TERM, Daemon, Queue, admin_up, expect_term, io_up,  # noqa: E402
                     ns, nvmfd_ini, rw_cdw, subsystem)

NVMFD = nvmfd_arg()

PORT, DPORT = free_ports(2)
SUBNQN = b"nqn.2026-11.io.nvmfd:raw-pdus"


def ctrl(kato=0):
    return admin_up(PORT, SUBNQN, kato=kato)


def ioq(a, qid=1, **kw):
    return io_up(PORT, a, qid=qid, **kw)


def rw(q, opc, cid, slba, nlb):
    """A Read or Write of nlb blocks through C2HData / R2T (the test moves the data)."""
    q.cmd(opc, cid, nsid=1, cdw=rw_cdw(slba, nlb), sgl_len=nlb * 512)

def main_tests():
    global big
    # ---------------------------------------------------------------------------
    # admin queue sequence errors, SGL checks
    a = Queue(PORT); a.icreq()
    a.cmd(0x06, 7, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096)
    t, cid, st, _, _ = a.rsp()
    check("command before Connect: Command Sequence Error", st is not None and (st & 0x7ff) == 0x0c, st)
    st, dw0 = a.connect(SUBNQN)
    check("Connect", st == 0, st)
    st, dw0 = a.connect(SUBNQN, cid=9)
    check("Connect twice: Command Sequence Error", st is not None and (st & 0x7ff) == 0x0c, st)
    a.cmd(0x06, 10, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096, flags=0x00)
    check("PSDT 00b: Invalid Field", (a.rsp()[2] & 0x7ff) == 0x02)
    a.cmd(0x06, 11, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096, sgl_type=0x20)
    check("SGL Segment descriptor: SGL Descriptor Type Invalid", (a.rsp()[2] & 0x7ff) == 0x11)
    a.cmd(0x09, 12, cdw=(0x0e, 0, 0, 0, 0, 0), sgl_type=0x01, sgl_len=8, sgl_addr=8, icd=b"\0" * 8)
    check("ICD offset 8: SGL Offset Invalid", (a.rsp()[2] & 0x7ff) == 0x16)
    a.cmd(0x09, 13, cdw=(0x0e, 0, 0, 0, 0, 0), sgl_type=0x01, sgl_len=16, icd=b"\0" * 8)
    check("ICD length 16 with 8 bytes: Data SGL Length Invalid", (a.rsp()[2] & 0x7ff) == 0x0f)
    a.cmd(0x06, 14, cdw=(1, 0, 0, 0, 0, 0), sgl_len=8 << 20)
    check("transfer over MDTS: Invalid Field", (a.rsp()[2] & 0x7ff) == 0x02)
    a.prop_set(0x14, CC_ENABLE)
    a.cmd(0x06, 15, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096)
    t, fl, hdr, data = a.rx()
    check("Identify after all that still works (C2HData)", t == 7 and len(data) == 4096, t)
    check("... then its CapsuleResp", a.rsp()[2] == 0)
    a.close()

    # ---------------------------------------------------------------------------
    # I/O queue: H2CData checks, digests, SUCCESS, queue overflow, flush/zeroes/DSM
    a = ctrl()
    q = ioq(a, hd=True, dd=True)
    blk = os.urandom(16384)
    rw(q, 1, 20, 100, 32)
    t, fl, hdr, _ = q.rx()
    check("write 16 KiB: R2T", t == 9, t)
    ttag = struct.unpack_from("<H", hdr, 10)[0]
    r2tl = struct.unpack_from("<I", hdr, 16)[0]
    check("R2T covers the whole transfer", r2tl == 16384, r2tl)
    # data digest error in the first of two PDUs
    q.send(q.h2c_pdu(20, ttag, 0, blk[:8192], last=False, bad_ddgst=True))
    q.send(q.h2c_pdu(20, ttag, 8192, blk[8192:]))
    t, cid, st, _, _ = q.rsp()
    check("H2CData digest error: Transient Transport Error", st == 0x22, st)
    rw(q, 1, 21, 100, 32)
    t, fl, hdr, _ = q.rx(); ttag = struct.unpack_from("<H", hdr, 10)[0]
    q.send(q.h2c_pdu(21, ttag, 0, blk[:8192], last=False))
    q.send(q.h2c_pdu(21, ttag, 8192, blk[8192:]))
    check("the connection goes on: the same write succeeds", q.rsp()[2] == 0)
    rw(q, 2, 22, 100, 32)
    got = b""
    while True:
        t, fl, hdr, data = q.rx()
        if t == 5:
            st = struct.unpack_from("<H", hdr, 22)[0] >> 1
            break
        got += data
    check("read back with digests", got == blk and st == 0)
    icd = os.urandom(4096)
    q.cmd(1, 23, nsid=1, cdw=(200, 0, 7, 0, 0, 0), sgl_type=0x01, sgl_len=4096, icd=icd, bad_ddgst=True)
    check("in-capsule data digest error: Transient Transport Error", q.rsp()[2] == 0x22)
    q.cmd(0x00, 24, nsid=0xFFFFFFFF)
    check("Flush NSID FFFFFFFFh", q.rsp()[2] == 0)
    q.cmd(0x08, 25, nsid=1, cdw=(100, 0, 7, 0, 0, 0))
    check("Write Zeroes", q.rsp()[2] == 0)
    rng = struct.pack("<IIQ", 0, 24, 108)
    q.cmd(0x09, 26, nsid=1, cdw=(0, 4, 0, 0, 0, 0), sgl_type=0x01, sgl_len=16, icd=rng)
    check("DSM deallocate", q.rsp()[2] == 0)
    rw(q, 2, 27, 100, 32)
    got = b""
    while True:
        t, fl, hdr, data = q.rx()
        if t == 5:
            break
        got += data
    check("zeroed + deallocated blocks read as zeros", got == b"\0" * 16384)
    q.cmd(0x06, 28, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096)
    check("admin opcode on an I/O queue: Invalid Opcode", (q.rsp()[2] & 0x7ff) == 0x01)
    # H2CData with an unknown ttag
    rw(q, 1, 29, 300, 32)
    t, fl, hdr, _ = q.rx(); ttag = struct.unpack_from("<H", hdr, 10)[0]
    q.send(q.h2c_pdu(29, ttag + 7, 0, blk))
    ok, why = expect_term(q, 1, 10)
    check("H2CData with an unknown TTAG: TermReq Invalid PDU Header Field at 10", ok, why)
    q.close()

    q = ioq(a, qid=2)
    rw(q, 1, 30, 300, 32)
    t, fl, hdr, _ = q.rx(); ttag = struct.unpack_from("<H", hdr, 10)[0]
    q.send(q.h2c_pdu(30, ttag, 4096, blk[:4096], last=False))
    ok, why = expect_term(q, 2)
    check("H2CData out of order: TermReq PDU Sequence Error", ok, why)
    q.close()

    q = ioq(a, qid=3)
    rw(q, 1, 31, 300, 32)
    t, fl, hdr, _ = q.rx(); ttag = struct.unpack_from("<H", hdr, 10)[0]
    q.send(q.h2c_pdu(31, ttag, 8192, blk))
    ok, why = expect_term(q, 4)
    check("H2CData beyond the transfer: TermReq Data Transfer Out of Range", ok, why)
    q.close()

    # SQ flow control disabled: read answered by C2HData with SUCCESS, no CapsuleResp
    q = ioq(a, qid=4, cattr=4)
    rw(q, 2, 40, 100, 8)
    t, fl, hdr, data = q.rx()
    check("SQFC disabled: C2HData with LAST|SUCCESS", t == 7 and fl & 0xC == 0xC, (t, fl))
    q.cmd(0x00, 41, nsid=1)
    t, cid, st, _, _ = q.rsp()
    check("... and the next response is for the next command", t == 5 and cid == 41, (t, cid))
    q.close()
    a.close()
    time.sleep(0.3)

    # queue overflow: sqsize 3 (4 entries), 5 writes waiting for data
    a = ctrl()
    q = ioq(a, qid=1, sqsize=3)
    for i in range(4):
        rw(q, 1, 50 + i, 1000 + 64 * i, 32)
    for i in range(4):
        q.rx()
    rw(q, 1, 60, 2000, 32)
    ok, why = expect_term(q, 2)
    check("more commands than the queue size: TermReq PDU Sequence Error", ok, why)
    q.close()

    # header digest error
    q = ioq(a, qid=2, hd=True)
    q.cmd(0x00, 70, nsid=1, bad_hdgst=True)
    ok, why = expect_term(q, 3)
    check("header digest error: TermReq Header Digest Error", ok, why)
    q.close()

    # Disconnect on an I/O queue
    q = ioq(a, qid=3)
    q.cmd(0x7F, 80, fctype=8)
    check("Disconnect on an I/O queue: success", q.rsp()[2] == 0)
    try:
        d = q.s.recv(1)
        check("... then the queue closes", d == b"")
    except OSError:
        check("... then the queue closes", True)
    q.close()

    # H2CTermReq from the host
    q = ioq(a, qid=3)
    q.send(struct.pack("<BBBBIHI10x", H2C_TERM, 0, 24, 0, 24, 1, 0))
    try:
        d = q.s.recv(1)
        check("H2CTermReq: the target closes", d == b"")
    except OSError:
        check("H2CTermReq: the target closes", True)
    q.close()
    a.close()

    # keep-alive timeout
    a = ctrl(kato=1000)
    t0 = time.time()
    try:
        a.s.settimeout(5)
        d = a.s.recv(1)
        check("KATO 1 s without traffic: closed in %.1f s" % (time.time() - t0), d == b"" and time.time() - t0 < 3)
    except OSError as e:
        check("KATO 1 s: closed", isinstance(e, ConnectionResetError), e)
    a.close()

    # 4 I/O queues (hand-offs to every worker), interleaved writes and reads
    a = ctrl()
    qs = [ioq(a, qid=i, hd=bool(i & 1), dd=bool(i & 2)) for i in range(1, 5)]
    good = True
    for rnd in range(20):
        datas = [os.urandom(16384) for _ in qs]
        for i, q in enumerate(qs):
            rw(q, 1, 100 + rnd, 4096 + 64 * i, 32)
        for i, q in enumerate(qs):
            t, fl, hdr, _ = q.rx(); ttag = struct.unpack_from("<H", hdr, 10)[0]
            q.send(q.h2c_pdu(100 + rnd, ttag, 0, datas[i]))
        for i, q in enumerate(qs):
            good &= q.rsp()[2] == 0
            rw(q, 2, 200 + rnd, 4096 + 64 * i, 32)
        for i, q in enumerate(qs):
            got = b""
            while True:
                t, fl, hdr, data = q.rx()
                if t == 5:
                    break
                got += data
            good &= got == datas[i]
    check("4 I/O queues, 20 rounds of interleaved 16 KiB writes and reads", good)
    for q in qs:
        q.close()
    a.close()

    # a slow host with a small receive buffer: partial sends must resume exactly
    a = ctrl()
    q = Queue(PORT, True, True, rcvbuf=4096)
    q.icreq()
    assert q.connect(SUBNQN, qid=1, sqsize=127, cntlid=a.cntlid)[0] == 0
    big = os.urandom(1 << 20)
    rw(q, 1, 300, 8192, 2048)
    t, fl, hdr, _ = q.rx(); ttag = struct.unpack_from("<H", hdr, 10)[0]
    off = 0
    while off < len(big):
        n = min(q.maxh2c, len(big) - off)
        last = off + n == len(big)
        q.send(q.h2c_pdu(300, ttag, off, big[off:off + n], last=last))
        off += n
    ok1 = q.rsp()[2] == 0
    for k in range(3):
        rw(q, 2, 301 + k, 8192, 2048)
    got = [b"", b"", b""]
    done = 0
    while done < 3:
        time.sleep(0.001)
        t, fl, hdr, data = q.rx()
        if t == 5:
            done += 1
            continue
        got[struct.unpack_from("<H", hdr, 8)[0] - 301] += data
    check("slow reader (4 KiB receive buffer): 3 x 1 MiB reads with digests intact",
          ok1 and all(g == big for g in got))
    q.close()
    a.close()

    # 64 x 1 MiB writes at once: the connection's 32 MiB of buffers makes the
    # rest wait for R2T until buffers come back; all complete, data intact
    a = ctrl()
    q = ioq(a, qid=2, sqsize=127)
    payload = {}
    for i in range(64):
        payload[500 + i] = os.urandom(1 << 20)
        rw(q, 1, 500 + i, 65536 + i * 2048, 2048)
    r2ts, first, resps, good = 0, None, 0, True
    q.s.settimeout(0.5)
    pending = []
    while resps < 64:
        try:
            t, fl, hdr, _ = q.rx()
        except (TimeoutError, socket.timeout):
            if first is None:
                first = r2ts
            q.s.settimeout(5)
            for cid, ttag in pending:
                off = 0
                while off < (1 << 20):
                    n = min(q.maxh2c, (1 << 20) - off)
                    last = off + n == (1 << 20)
                    q.send(q.h2c_pdu(cid, ttag, off, payload[cid][off:off + n], last=last))
                    off += n
            pending = []
            q.s.settimeout(0.5)
            continue
        if t == 9:
            r2ts += 1
            pending.append(struct.unpack_from("<HH", hdr, 8))
        elif t == 5:
            resps += 1
            good &= struct.unpack_from("<H", hdr, 22)[0] >> 1 == 0
    q.s.settimeout(10)
    for i in (0, 63):
        rw(q, 2, 600 + i, 65536 + i * 2048, 2048)
        got = b""
        while True:
            t, fl, hdr, data = q.rx()
            if t == 5:
                break
            got += data
        good &= got == payload[500 + i]
    check("64 x 1 MiB writes at once: %s R2Ts before any data (32 MiB cap), all 64 done"
          % first, good and first == 32 and r2ts == 64, (first, r2ts, good))
    q.close()
    a.close()

    # HPDA 3: C2HData payload at a 16-byte aligned PDO, with a header digest
    a = ctrl()
    q = Queue(PORT, True, True)
    q.icreq(hpda=3)
    assert q.connect(SUBNQN, qid=1, sqsize=127, cntlid=a.cntlid)[0] == 0
    rw(q, 2, 400, 8192, 2048)
    got = b""; pdos = set()
    while True:
        t, fl, hdr, data = q.rx()
        if t == 5:
            break
        pdos.add(hdr[3])  # PDO
        got += data
    check("HPDA 3: C2HData PDO %s (16-byte aligned), 1 MiB intact" % sorted(pdos),
          all(p % 16 == 0 for p in pdos) and got == big)
    q.close()
    a.close()


work = tempfile.mkdtemp(prefix="nvmfd-raw-pdus.")
daemon = Daemon(NVMFD, work, nvmfd_ini(
    PORT, DPORT, work, subsystem(SUBNQN, ns(1, "ram:128M", block_size=512)),
    workers=3, log_level="debug"), PORT)

try:
    main_tests()
except Exception as e:  # a hung or closed connection where none was expected
    check("no unexpected exception", False, repr(e))
daemon.finish(5)
