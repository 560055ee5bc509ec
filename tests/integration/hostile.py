#!/usr/bin/env python3
"""
Integration test: a hostile host. Every case runs on its own connection(s)
while a well-behaved host keeps doing verified I/O (write, read back,
compare) on its own controller; each case asserts the exact reaction the
specification names: a C2HTermReq with its FES / FEI, an error completion
with its status, or a close. At the end the daemon still serves and the
well-behaved host saw no error.

    hostile.py BUILD/daemon/nvmfd

Section numbers: NVMe/TCP Transport 1.0 ("TCP"), NVMe over Fabrics 1.1
("oF"), NVMe Base 2.0 ("Base"), NVM Command Set 1.0 ("NVM"). FEI is the
byte offset of the offending field in the PDU (TCP Figure 27 / 29).

Deadlines: the silent peers rely on the daemon's ICReq deadline
(CONN_IC_TIMEOUT_MS, 10 s; NVMFD_IC_TIMEOUT_MS overrides the wait here)
and on KATO.

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd.
"""
import os, random, socket, struct, sys, tempfile, threading, time, traceback
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import (  # noqa: E402
    CMD, H2C_DATA, R2T, RSP, FES_HDR, FES_SEQ, FES_HDGST, FES_RANGE, FES_LIMIT,
    FES_PARAM, SC_INVALID_OPC, SC_INVALID_FIELD, SC_INVALID_NS, SC_CMD_SEQ, SC_SGL_DATA_LEN,
    SC_SGL_TYPE, SC_TRANSIENT, SC_LBA_RANGE, SC_INVALID_LOG, SC_CONNECT_FORMAT,
    SC_CONNECT_PARAM, SC_CONNECT_HOST, Daemon, Queue, admin_up, dg, expect_closed, expect_term,
    icreq_pdu, io_up, ns, nvmfd_ini, parse_r2t, rw_cdw, sqe, subsystem)

NVMFD = nvmfd_arg()

PORT, DPORT = free_ports(2)
SUB = b"nqn.2026-11.io.nvmfd:hostile"
SUB_CLOSED = b"nqn.2026-11.io.nvmfd:hostile-closed"  # allows another host only
NS_BLOCKS = (64 << 20) // 512
IC_TIMEOUT_S = int(os.environ.get("NVMFD_IC_TIMEOUT_MS", "10000")) / 1000.0
GOOD_LBAS = 8192          # the well-behaved host's region: LBA 0 .. 8191
HOSTILE_LBA = 16384       # where hostile writes go

# ---------------------------------------------------------------------------
# The well-behaved host: write then read back and compare, until told to stop.


class GoodHost(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.ops = 0
        self.errors = []

    def run(self):
        try:
            a = admin_up(PORT, SUB)
            q = io_up(PORT, a, qid=1, hd=True, dd=True)
            q.s.settimeout(10)
            rnd = random.Random(1)
            while not self.stop.is_set():
                size = rnd.choice((4096, 16384, 131072, 262144))
                lba = rnd.randrange(0, GOOD_LBAS - size // 512)
                data = os.urandom(size)
                st = q.write(lba, data)
                if st != 0:
                    self.errors.append("write %d at %d: status %r" % (size, lba, st))
                    break
                st, got = q.read(lba, size // 512)
                if st != 0 or got != data:
                    self.errors.append("read %d at %d: status %r, %s" % (
                        size, lba, st, "same" if got == data else "different data"))
                    break
                self.ops += 1
                # a Keep Alive on the admin queue now and then: that queue is idle
                if self.ops % 64 == 0:
                    a.keep_alive()
            q.close()
            a.close()
        except Exception as e:
            self.errors.append("exception: %r" % e)


# ---------------------------------------------------------------------------
# Helpers for the cases


def fresh(hd=False, dd=False):
    """A connection after the IC exchange, nothing else."""
    q = Queue(PORT, hd, dd)
    q.icreq()
    return q


def ctrl(kato=0):
    return admin_up(PORT, SUB, kato=kato)


def ioq(a, qid=1, **kw):
    return io_up(PORT, a, qid=qid, **kw)


def cmd_hdr(psh_len=64, flags=0, hlen=72, pdo=0, plen=72, ptype=CMD):
    return struct.pack("<BBBBI", ptype, flags, hlen, pdo, plen)


def term(q, fes, fei):
    return expect_term(q, fes, fei)


def status_is(got, want, info=""):
    return got == want, "status %s, want %s %s" % (
        hex(got) if isinstance(got, int) else got, hex(want), info)


def r2t_for(q, cid, slba, nbytes):
    q.cmd(1, cid, nsid=1, cdw=rw_cdw(slba, nbytes // 512), sgl_len=nbytes)
    t, fl, hdr, _ = q.rx()
    assert t == R2T, t
    _, ttag, r2to, r2tl = parse_r2t(hdr)
    return ttag, r2tl


CASES = []


def case(name):
    def reg(fn):
        CASES.append((name, fn))
        return fn
    return reg


# ---------------------------------------------------------------------------
# Transport: the IC exchange and the common header (TCP 3.3, 3.6.1, 3.6.2)

@case("first PDU a CapsuleCmd, not ICReq: TermReq PDU Sequence Error (TCP 3.3)")
def _():
    q = Queue(PORT)
    q.send(q.pdu(CMD, 0, sqe(0x06, 1, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096)))
    return term(q, FES_SEQ, 0)


@case("first PDU an H2CData, not ICReq: TermReq PDU Sequence Error (TCP 3.3)")
def _():
    q = Queue(PORT)
    q.send(q.h2c_pdu(1, 0, 0, b"\0" * 512))
    return term(q, FES_SEQ, 0)


@case("ICReq twice: TermReq PDU Sequence Error (TCP 3.3)")
def _():
    q = fresh()
    q.send(icreq_pdu())
    return term(q, FES_SEQ, 0)


@case("ICReq PFV 1: TermReq Unsupported Parameter at PFV, FEI 8 (TCP 3.6.2.2)")
def _():
    q = Queue(PORT)
    q.send(icreq_pdu(pfv=1))
    return term(q, FES_PARAM, 8)


@case("ICReq HPDA 32: TermReq Invalid PDU Header Field at HPDA, FEI 10 (TCP 3.6.2.2)")
def _():
    q = Queue(PORT)
    q.send(icreq_pdu(hpda=32))
    return term(q, FES_HDR, 10)


@case("ICReq reserved DGST bit: TermReq Invalid PDU Header Field at DGST, FEI 11 (TCP 3.6.2.2)")
def _():
    q = Queue(PORT)
    q.send(icreq_pdu(dgst=4))
    return term(q, FES_HDR, 11)


@case("unknown PDU type 0Ah: TermReq Invalid PDU Header Field at PDU-Type, FEI 0 (TCP 3.6.1)")
def _():
    q = fresh()
    q.send(struct.pack("<BBBBI", 0x0A, 0, 24, 0, 24) + b"\0" * 16)
    return term(q, FES_HDR, 0)


@case("a C2H PDU (CapsuleResp) from the host: TermReq Invalid PDU Header Field, FEI 0 (TCP 3.6.1)")
def _():
    q = fresh()
    q.send(struct.pack("<BBBBI", RSP, 0, 24, 0, 24) + b"\0" * 16)
    return term(q, FES_HDR, 0)


@case("CapsuleCmd HLEN 255: TermReq Invalid PDU Header Field at HLEN, FEI 2 (TCP 3.6.2.5)")
def _():
    q = fresh()
    q.send(cmd_hdr(hlen=255, plen=255) + b"\0" * 247)
    return term(q, FES_HDR, 2)


@case("ICReq HLEN 127: TermReq Invalid PDU Header Field at HLEN, FEI 2 (TCP 3.6.2.2)")
def _():
    q = Queue(PORT)
    q.send(icreq_pdu(hlen=127))
    return term(q, FES_HDR, 2)


@case("CapsuleCmd PDO 8 (inside the header): TermReq Invalid PDU Header Field at PDO, FEI 3 (TCP 3.6.1)")
def _():
    q = fresh()
    q.send(cmd_hdr(pdo=8, plen=72 + 512) + sqe(1, 1, nsid=1, sgl_type=1, sgl_len=512)
           + b"\0" * 512)
    return term(q, FES_HDR, 3)


@case("CapsuleCmd without data, PDO 72: TermReq Invalid PDU Header Field at PDO, FEI 3 (TCP 3.6.1)")
def _():
    q = fresh()
    q.send(cmd_hdr(pdo=72, plen=72) + sqe(0, 1, nsid=1))
    return term(q, FES_HDR, 3)


@case("CapsuleCmd PLEN 40 < HLEN: TermReq Invalid PDU Header Field at PLEN, FEI 4 (TCP 3.6.1)")
def _():
    q = fresh()
    q.send(cmd_hdr(plen=40) + sqe(0, 1, nsid=1))
    return term(q, FES_HDR, 4)


@case("ICReq PLEN 4 GiB - 1: TermReq Invalid PDU Header Field at PLEN, FEI 4 (TCP 3.6.2.2)")
def _():
    q = Queue(PORT)
    q.send(icreq_pdu(plen=0xFFFFFFFF))
    return term(q, FES_HDR, 4)


@case("CapsuleCmd PLEN 4 GiB - 1 (4 GiB of in-capsule data): TermReq Data Transfer Limit Exceeded (TCP 3.6.2.5)")
def _():
    q = fresh()
    q.send(cmd_hdr(pdo=72, plen=0xFFFFFFFF) + sqe(1, 1, nsid=1, sgl_type=1, sgl_len=4096))
    return term(q, FES_LIMIT, 0)


@case("H2CData PLEN 4 GiB - 1, DATAL 4096: TermReq Invalid PDU Header Field at DATAL, FEI 16 (TCP 3.6.2.8)")
def _():
    q = fresh()
    q.send(struct.pack("<BBBBIHHII4x", H2C_DATA, 4, 24, 24, 0xFFFFFFFF, 1, 0, 0, 4096))
    return term(q, FES_HDR, 16)


@case("HDGSTF set, header digests not negotiated: TermReq Invalid PDU Header Field at FLAGS, FEI 1 (TCP 3.6.1)")
def _():
    q = fresh()
    h = cmd_hdr(flags=1, plen=76) + sqe(0, 1, nsid=1)
    q.send(h + dg(h))
    return term(q, FES_HDR, 1)


@case("DDGSTF set, data digests not negotiated: TermReq Invalid PDU Header Field at FLAGS, FEI 1 (TCP 3.6.1)")
def _():
    q = fresh()
    data = b"\xab" * 512
    q.send(cmd_hdr(flags=2, pdo=72, plen=72 + 512 + 4)
           + sqe(1, 1, nsid=1, cdw=rw_cdw(HOSTILE_LBA, 1), sgl_type=1, sgl_len=512)
           + data + dg(data))
    return term(q, FES_HDR, 1)


@case("HDGSTF clear, header digests negotiated: TermReq Invalid PDU Header Field at FLAGS, FEI 1 (TCP 3.6.1)")
def _():
    q = fresh(hd=True)
    q.send(cmd_hdr(plen=72) + sqe(0, 1, nsid=1))
    return term(q, FES_HDR, 1)


@case("bad header digest: TermReq Header Digest Error, FEI = the digest received (TCP 3.6.1.1)")
def _():
    q = fresh(hd=True)
    p = q.pdu(CMD, 0, sqe(0x06, 1, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096), bad_hdgst=True)
    q.send(p)
    return term(q, FES_HDGST, struct.unpack_from("<I", p, 72)[0])


def verify_unchanged(lba, want):
    """A separate controller reads lba: it must hold want (the bad write did nothing)."""
    a = ctrl()
    q = ioq(a, qid=3)
    st, got = q.read(lba, len(want) // 512)
    q.close()
    a.close()
    return st == 0 and got == want, "status %s, %s" % (st, "same" if got == want else "changed")


@case("bad data digest in a capsule: Transient Transport Error, nothing written (TCP 3.6.1.2)")
def _():
    a = ctrl()
    q = ioq(a, hd=True, dd=True)
    old = os.urandom(4096)
    assert q.write(HOSTILE_LBA, old) == 0
    q.cmd(1, 2, nsid=1, cdw=rw_cdw(HOSTILE_LBA, 8), sgl_type=1, sgl_len=4096,
          icd=os.urandom(4096), bad_ddgst=True)
    ok, why = status_is(q.status(), SC_TRANSIENT)
    if ok:  # the connection goes on
        ok, why = status_is(q.read(HOSTILE_LBA, 8)[0], 0, "(read after it)")
    q.close()
    a.close()
    return (ok and verify_unchanged(HOSTILE_LBA, old)[0]), why


@case("bad data digest in H2CData: Transient Transport Error, nothing written (TCP 3.6.1.2)")
def _():
    a = ctrl()
    q = ioq(a, dd=True)
    old = os.urandom(65536)
    assert q.write(HOSTILE_LBA, old) == 0
    ttag, _ = r2t_for(q, 2, HOSTILE_LBA, 65536)
    new = os.urandom(65536)
    q.send(q.h2c_pdu(2, ttag, 0, new[:32768], last=False))
    q.send(q.h2c_pdu(2, ttag, 32768, new[32768:], bad_ddgst=True))
    ok, why = status_is(q.status(), SC_TRANSIENT)
    q.close()
    a.close()
    ok2, why2 = verify_unchanged(HOSTILE_LBA, old)
    return ok and ok2, why + " / " + why2


# ---------------------------------------------------------------------------
# H2CData against R2T (TCP 3.6.2.8, 3.6.2.9)

@case("H2CData without any R2T: TermReq Invalid PDU Header Field at TTAG, FEI 10 (TCP 3.6.2.8)")
def _():
    a = ctrl()
    q = ioq(a)
    q.send(q.h2c_pdu(1, 0, 0, b"\0" * 4096))
    r = term(q, FES_HDR, 10)
    a.close()
    return r


@case("H2CData with an unknown TTAG: TermReq Invalid PDU Header Field at TTAG, FEI 10 (TCP 3.6.2.8)")
def _():
    a = ctrl()
    q = ioq(a)
    ttag, _ = r2t_for(q, 5, HOSTILE_LBA, 16384)
    q.send(q.h2c_pdu(5, (ttag + 7) & 0xFFFF, 0, b"\0" * 16384))
    r = term(q, FES_HDR, 10)
    a.close()
    return r


@case("H2CData with the TTAG of another command's CCCID: TermReq Invalid PDU Header Field at CCCID, FEI 8 (TCP 3.6.2.8)")
def _():
    a = ctrl()
    q = ioq(a)
    ttag, _ = r2t_for(q, 5, HOSTILE_LBA, 16384)
    q.send(q.h2c_pdu(6, ttag, 0, b"\0" * 16384))
    r = term(q, FES_HDR, 8)
    a.close()
    return r


@case("H2CData out of order (DATAO 4096 first): TermReq PDU Sequence Error (TCP 3.6.2.8)")
def _():
    a = ctrl()
    q = ioq(a)
    ttag, _ = r2t_for(q, 5, HOSTILE_LBA, 16384)
    q.send(q.h2c_pdu(5, ttag, 4096, b"\0" * 4096, last=False))
    r = term(q, FES_SEQ, 0)
    a.close()
    return r


@case("H2CData beyond the R2T (DATAO 8192 + 16384 > R2TL 16384): TermReq Data Transfer Out of Range (TCP 3.6.2.8)")
def _():
    a = ctrl()
    q = ioq(a)
    ttag, _ = r2t_for(q, 5, HOSTILE_LBA, 16384)
    q.send(q.h2c_pdu(5, ttag, 0, b"\0" * 8192, last=False))
    q.send(q.h2c_pdu(5, ttag, 8192, b"\0" * 16384))
    r = term(q, FES_RANGE, 0)
    a.close()
    return r


@case("H2CData DATAL beyond MAXH2CDATA: TermReq Data Transfer Limit Exceeded (TCP 3.6.2.8)")
def _():
    a = ctrl()
    q = ioq(a)
    big = 2 * q.maxh2c
    ttag, _ = r2t_for(q, 5, HOSTILE_LBA, big)
    n = q.maxh2c + 4096
    q.send(struct.pack("<BBBBIHHII4x", H2C_DATA, 0, 24, 24, 24 + n, 5, ttag, 0, n))
    r = term(q, FES_LIMIT, 0)
    a.close()
    return r


@case("H2CData without LAST_PDU on the last: TermReq PDU Sequence Error (TCP 3.6.2.8)")
def _():
    a = ctrl()
    q = ioq(a)
    ttag, _ = r2t_for(q, 5, HOSTILE_LBA, 16384)
    q.send(q.h2c_pdu(5, ttag, 0, b"\0" * 16384, last=False))
    r = term(q, FES_SEQ, 0)
    a.close()
    return r


@case("H2CData with DATAL 0 and no data: TermReq Invalid PDU Header Field at DATAL, FEI 16 (TCP 3.6.2.8)")
def _():
    a = ctrl()
    q = ioq(a)
    ttag, _ = r2t_for(q, 5, HOSTILE_LBA, 16384)
    q.send(struct.pack("<BBBBIHHII4x", H2C_DATA, 0, 24, 0, 24, 5, ttag, 0, 0))
    r = term(q, FES_HDR, 16)
    a.close()
    return r


@case("more commands than the queue size (SQSIZE 3): TermReq PDU Sequence Error (oF 7.4.7 / TCP 3.6.2.5)")
def _():
    a = ctrl()
    q = ioq(a, sqsize=3)
    for i in range(4):
        q.cmd(1, 50 + i, nsid=1, cdw=rw_cdw(HOSTILE_LBA + 64 * i, 32), sgl_len=16384)
    for i in range(4):
        assert q.rx()[0] == R2T
    q.cmd(1, 60, nsid=1, cdw=rw_cdw(HOSTILE_LBA, 32), sgl_len=16384)
    r = term(q, FES_SEQ, 0)
    a.close()
    return r


# ---------------------------------------------------------------------------
# Commands: status codes (Base 2.0, NVM 1.0)

def io_status(opc, nsid=1, cdw=(0,) * 6, **kw):
    a = ctrl()
    q = ioq(a)
    q.cmd(opc, 7, nsid=nsid, cdw=cdw, **kw)
    st = q.status()
    ok, why = status_is(q.read(0, 1)[0], 0, "(a read after it)")  # the queue goes on
    q.close()
    a.close()
    return st, ok, why


def io_case(want, opc, **kw):
    st, ok, why = io_status(opc, **kw)
    r = status_is(st, want)
    return r[0] and ok, r[1] + " " + why


def admin_case(want, opc, **kw):
    a = ctrl()
    a.cmd(opc, 7, **kw)
    st = a.status()
    a.close()
    return status_is(st, want)


@case("write of 2 MiB (SGL length) beyond MDTS 1 MiB: Invalid Field in Command (Base 5.15.2.1 MDTS)")
def _():
    return io_case(SC_INVALID_FIELD, 1, cdw=rw_cdw(HOSTILE_LBA, 4096), sgl_len=2 << 20)


@case("write of 1 MiB + 512 (NLB) beyond MDTS with a 1 MiB SGL: Invalid Field in Command (Base MDTS)")
def _():
    return io_case(SC_INVALID_FIELD, 1, cdw=rw_cdw(HOSTILE_LBA, 2049), sgl_len=1 << 20)


@case("read with SLBA FFFFFFFFFFFFFFFFh: LBA Out of Range (NVM 3.3)")
def _():
    return io_case(SC_LBA_RANGE, 2, cdw=rw_cdw(2**64 - 1, 1), sgl_len=512)


@case("write with SLBA 2^64 - 1 and 2 blocks (SLBA + NLB wraps to 1): LBA Out of Range (NVM 3.3)")
def _():
    return io_case(SC_LBA_RANGE, 1, cdw=rw_cdw(2**64 - 1, 2), sgl_len=1024)


@case("Write Zeroes at 2^64 - 256, 65536 blocks (wraps): LBA Out of Range (NVM 3.3)")
def _():
    return io_case(SC_LBA_RANGE, 8, cdw=rw_cdw(2**64 - 256, 65536))


@case("read of the last block + 1: LBA Out of Range (NVM 3.3)")
def _():
    return io_case(SC_LBA_RANGE, 2, cdw=rw_cdw(NS_BLOCKS - 1, 2), sgl_len=1024)


@case("DSM deallocate with a range wrapping 2^64: LBA Out of Range (NVM 3.2.3)")
def _():
    rng = struct.pack("<IIQ", 0, 16, 2**64 - 8)
    return io_case(SC_LBA_RANGE, 9, cdw=(0, 4, 0, 0, 0, 0), sgl_type=1, sgl_len=16, icd=rng)


@case("read of namespace 0: Invalid Namespace or Format (Base 6.1.1)")
def _():
    return io_case(SC_INVALID_NS, 2, nsid=0, cdw=rw_cdw(0, 1), sgl_len=512)


@case("read of namespace FFFFFFFFh: Invalid Namespace or Format (Base 6.1.1)")
def _():
    return io_case(SC_INVALID_NS, 2, nsid=0xFFFFFFFF, cdw=rw_cdw(0, 1), sgl_len=512)


@case("write to namespace 99 (nonexistent): Invalid Namespace or Format (Base 6.1.1)")
def _():
    return io_case(SC_INVALID_NS, 1, nsid=99, cdw=rw_cdw(0, 1), sgl_type=1, sgl_len=512,
                   icd=b"\0" * 512)


@case("Flush of namespace 0: Invalid Namespace or Format (NVM 3.2.2)")
def _():
    return io_case(SC_INVALID_NS, 0, nsid=0)


@case("unknown I/O opcode 7Ch: Invalid Command Opcode (Base 6.1.1)")
def _():
    return io_case(SC_INVALID_OPC, 0x7C)


@case("an admin opcode (Identify) on an I/O queue: Invalid Command Opcode (Base 6.1.1)")
def _():
    return io_case(SC_INVALID_OPC, 0x06, nsid=0, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096)


@case("unknown admin opcode C4h: Invalid Command Opcode (Base 5)")
def _():
    return admin_case(SC_INVALID_OPC, 0xC4)


@case("unknown Fabrics command type 10h: Invalid Command Opcode (oF 6)")
def _():
    return admin_case(SC_INVALID_OPC, 0x7F, fctype=0x10)


@case("Fabrics Property Get on an I/O queue: Invalid Command Opcode (oF 6)")
def _():
    return io_case(SC_INVALID_OPC, 0x7F, nsid=0, fctype=4)


@case("fused read (FUSE 01b): Invalid Field in Command (Base 4.2 / as nvmet)")
def _():
    return io_case(SC_INVALID_FIELD, 2, cdw=rw_cdw(0, 1), sgl_len=512, flags=0x41)


@case("fused Identify (FUSE 10b) on the admin queue: Invalid Field in Command (Base 4.2)")
def _():
    return admin_case(SC_INVALID_FIELD, 0x06, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096, flags=0x42)


@case("read with PRPs (PSDT 00b): Invalid Field in Command (oF 2.3.1: SGLs only)")
def _():
    return io_case(SC_INVALID_FIELD, 2, cdw=rw_cdw(0, 1), sgl_len=512, flags=0x00)


@case("read with PSDT 10b (SGL segment pointer): Invalid Field in Command (oF 2.3.1)")
def _():
    return io_case(SC_INVALID_FIELD, 2, cdw=rw_cdw(0, 1), sgl_len=512, flags=0x80)


@case("read with an SGL Segment descriptor (2h): SGL Descriptor Type Invalid (Base 4.3.2 / TCP 3.5)")
def _():
    return io_case(SC_SGL_TYPE, 2, cdw=rw_cdw(0, 1), sgl_len=512, sgl_type=0x20)


@case("read with an SGL Last Segment descriptor (3h): SGL Descriptor Type Invalid (Base 4.3.2)")
def _():
    return io_case(SC_SGL_TYPE, 2, cdw=rw_cdw(0, 1), sgl_len=512, sgl_type=0x30)


@case("read with a Keyed SGL Data Block (4h): SGL Descriptor Type Invalid (TCP 3.5)")
def _():
    return io_case(SC_SGL_TYPE, 2, cdw=rw_cdw(0, 1), sgl_len=512, sgl_type=0x40)


@case("read with an address SGL Data Block (0h): SGL Descriptor Type Invalid (TCP 3.5)")
def _():
    return io_case(SC_SGL_TYPE, 2, cdw=rw_cdw(0, 1), sgl_len=512, sgl_type=0x00)


@case("write with a Transport SGL and in-capsule data too: Data SGL Length Invalid (TCP 3.5)")
def _():
    return io_case(SC_SGL_DATA_LEN, 1, cdw=rw_cdw(HOSTILE_LBA, 1), sgl_len=512,
                   sgl_type=0x5A, icd=b"\0" * 512)


@case("read with an in-capsule (offset) SGL: Invalid Field in Command (TCP 3.5)")
def _():
    return io_case(SC_INVALID_FIELD, 2, cdw=rw_cdw(0, 1), sgl_len=512, sgl_type=0x01)


@case("read of 8 blocks with a 512-byte SGL: Data SGL Length Invalid (Base 4.3.2)")
def _():
    return io_case(SC_SGL_DATA_LEN, 2, cdw=rw_cdw(0, 8), sgl_len=512)


@case("Identify before CC.EN: Command Sequence Error (Base 3.5.1)")
def _():
    a = Queue(PORT)
    a.icreq()
    a.connect(SUB)
    a.cmd(0x06, 7, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096)
    st = a.status()
    a.close()
    return status_is(st, SC_CMD_SEQ)


@case("Property Set of CAP (read-only): Invalid Field in Command (oF 3.6 / Base 3.1)")
def _():
    a = ctrl()
    st = a.prop_set(0x00, 0, size8=True) & 0x7ff
    a.close()
    return status_is(st, SC_INVALID_FIELD)


@case("Property Set of VS (read-only): Invalid Field in Command (oF 3.6)")
def _():
    a = ctrl()
    st = a.prop_set(0x08, 0x20000) & 0x7ff
    a.close()
    return status_is(st, SC_INVALID_FIELD)


@case("Property Set of CSTS (read-only): Invalid Field in Command, CSTS.RDY unchanged (oF 3.6)")
def _():
    a = ctrl()
    st = a.prop_set(0x1C, 0) & 0x7ff
    a.cmd(0x7F, 4, fctype=4, tail=struct.pack("<B3xI", 0, 0x1C))
    t, cid, st2, dw0, _ = a.rsp()
    a.close()
    ok, why = status_is(st, SC_INVALID_FIELD)
    return ok and st2 == 0 and dw0 & 1 == 1, "%s; CSTS %#x" % (why, dw0)


@case("Get Log Page (SMART, 512 bytes) at offset 1024: Invalid Field in Command (Base 5.16)")
def _():
    return admin_case(SC_INVALID_FIELD, 0x02, nsid=0xFFFFFFFF,
                      cdw=(0x02 | 127 << 16, 0, 1024, 0, 0, 0), sgl_len=512)


@case("Get Log Page at an offset of 2^64 - 4: Invalid Field in Command (Base 5.16)")
def _():
    return admin_case(SC_INVALID_FIELD, 0x02, nsid=0xFFFFFFFF,
                      cdw=(0x02 | 127 << 16, 0, 0xFFFFFFFC, 0xFFFFFFFF, 0, 0), sgl_len=512)


@case("Get Log Page of an unknown log (BFh): Invalid Log Page (Base 5.16)")
def _():
    return admin_case(SC_INVALID_LOG, 0x02, cdw=(0xBF | 127 << 16, 0, 0, 0, 0, 0), sgl_len=512)


# ---------------------------------------------------------------------------
# Connect (oF 3.3): status and IATTR / IPO in dword 0 (Figure 21)

def connect_case(want, dw0_want, **kw):
    q = Queue(PORT)
    q.icreq()
    sub = kw.pop("sub", SUB)
    st, dw0 = q.connect(sub, **kw)
    q.close()
    ok = st is not None and st & 0x7ff == want and dw0 == dw0_want
    return ok, "status %s dw0 %#x, want %#x %#x" % (st if st is None else hex(st & 0x7ff),
                                                   dw0 if isinstance(dw0, int) else -1,
                                                   want, dw0_want)


@case("Connect to an unknown subsystem: Connect Invalid Parameters, IPO SUBNQN (oF 3.3)")
def _():
    return connect_case(SC_CONNECT_PARAM, 1 << 16 | 256, sub=b"nqn.2026-11.io.nvmfd:nobody")


@case("Connect by a host not allowed: Connect Invalid Host, IPO HOSTNQN (oF 3.3)")
def _():
    return connect_case(SC_CONNECT_HOST, 1 << 16 | 512, sub=SUB_CLOSED)


@case("admin Connect with CNTLID 5 (not FFFFh): Connect Invalid Parameters, IPO CNTLID (oF 3.3)")
def _():
    return connect_case(SC_CONNECT_PARAM, 1 << 16 | 16, cntlid=5)


@case("I/O Connect with a CNTLID no controller has: Connect Invalid Parameters, IPO CNTLID (oF 3.3)")
def _():
    a = ctrl()
    r = connect_case(SC_CONNECT_PARAM, 1 << 16 | 16, qid=1, sqsize=31,
                     cntlid=(a.cntlid + 100) & 0xFFFF)
    a.close()
    return r


@case("I/O Connect with QID 5 of 4 granted: Connect Invalid Parameters, IPO QID (oF 3.3)")
def _():
    a = ctrl()
    r = connect_case(SC_CONNECT_PARAM, 42, qid=5, sqsize=31, cntlid=a.cntlid)
    a.close()
    return r


@case("I/O Connect with QID FFFFh: Connect Invalid Parameters, IPO QID (oF 3.3)")
def _():
    a = ctrl()
    r = connect_case(SC_CONNECT_PARAM, 42, qid=0xFFFF, sqsize=31, cntlid=a.cntlid)
    a.close()
    return r


@case("I/O Connect of a QID already connected: Connect Invalid Parameters, IPO QID (oF 3.3)")
def _():
    a = ctrl()
    q = ioq(a, qid=2)
    r = connect_case(SC_CONNECT_PARAM, 42, qid=2, sqsize=31, cntlid=a.cntlid)
    q.close()
    a.close()
    return r


@case("admin Connect with SQSIZE 0: Connect Invalid Parameters, IPO SQSIZE (oF 3.3)")
def _():
    return connect_case(SC_CONNECT_PARAM, 44, sqsize=0)


@case("I/O Connect with SQSIZE 0: Connect Invalid Parameters, IPO SQSIZE (oF 3.3)")
def _():
    a = ctrl()
    r = connect_case(SC_CONNECT_PARAM, 44, qid=1, sqsize=0, cntlid=a.cntlid)
    a.close()
    return r


@case("Connect with RECFMT 1: Connect Incompatible Format (oF 3.3)")
def _():
    return connect_case(SC_CONNECT_FORMAT, 0, recfmt=1)


@case("I/O Connect before CC.EN: Command Sequence Error (oF 3.3 / Base 3.5.1)")
def _():
    a = Queue(PORT)
    a.icreq()
    st, dw0 = a.connect(SUB)
    r = connect_case(SC_CMD_SEQ, 0, qid=1, sqsize=31, cntlid=dw0 & 0xFFFF)
    a.close()
    return r


@case("a command before Connect: Command Sequence Error (oF 3.3)")
def _():
    q = fresh()
    q.cmd(0x06, 7, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096)
    st = q.status()
    q.close()
    return status_is(st, SC_CMD_SEQ)


# ---------------------------------------------------------------------------
# Peers that stop in the middle, never read, or reset

@case("a peer that never reads its responses (127 x 1 MiB reads): the others are served; it is freed on reset")
def _():
    a = ctrl()
    q = ioq(a, qid=2)
    q.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    for i in range(127):
        q.cmd(2, i, nsid=1, cdw=rw_cdw(2048 * (i % 32), 2048), sgl_len=1 << 20)
    time.sleep(2)  # the daemon's sends to it are stuck; the good host goes on
    before = good.ops
    time.sleep(1)
    moved = good.ops - before
    q.reset()
    a.close()
    return moved > 0, "the good host did %d ops in 1 s" % moved


@case("a reset in the middle of an R2T transfer: nothing written, the daemon goes on")
def _():
    a = ctrl()
    q = ioq(a, qid=3)
    old = os.urandom(1 << 20)
    assert q.write(HOSTILE_LBA, old) == 0
    ttag, _ = r2t_for(q, 2, HOSTILE_LBA, 1 << 20)
    new = os.urandom(1 << 20)
    for off in range(0, 256 << 10, q.maxh2c):
        q.send(q.h2c_pdu(2, ttag, off, new[off:off + q.maxh2c], last=False))
    q.send(q.h2c_pdu(2, ttag, 256 << 10, new[256 << 10:(256 << 10) + 1000], last=False,
               datal=q.maxh2c)[:24 + 1000])  # half a PDU, then the RST
    q.reset()
    a.close()
    time.sleep(0.2)
    return verify_unchanged(HOSTILE_LBA, old)


@case("a reset with 64 reads and writes outstanding: the daemon goes on")
def _():
    a = ctrl()
    q = ioq(a, qid=4)
    for i in range(32):
        q.cmd(2, i, nsid=1, cdw=rw_cdw(HOSTILE_LBA, 256), sgl_len=128 << 10)
        q.cmd(1, 100 + i, nsid=1, cdw=rw_cdw(HOSTILE_LBA + 4096, 256), sgl_len=128 << 10)
    q.reset()
    a.close()
    return True, ""


# Silent peers run in the background from the start; their checks come last.

class Silent(threading.Thread):
    """Opens its connection(s), does what prep does, then waits for the close."""

    def __init__(self, name, limit, prep):
        super().__init__(daemon=True)
        self.name_, self.limit, self.prep = name, limit, prep
        self.result = (False, "did not finish")

    def run(self):
        try:
            t0 = time.time()
            q, keep = self.prep()
            ok, why = expect_closed(q, timeout=self.limit + 5)
            dt = time.time() - t0
            self.result = (ok and dt <= self.limit,
                           "%s after %.1f s (limit %.1f s)" % (why or "closed", dt, self.limit))
            self.took = dt
            for k in keep:
                k.close()
        except Exception as e:
            self.result = (False, repr(e))


def silent_nothing():
    return Queue(PORT, timeout=30), []


def silent_half_icreq():
    q = Queue(PORT, timeout=30)
    q.send(icreq_pdu()[:60])
    return q, []


def silent_half_capsule():
    # a controller with KATO 4 s: half a capsule on its admin queue, then nothing
    a = admin_up(PORT, SUB, kato=4000)
    a.send(a.pdu(CMD, 0, sqe(0x06, 9, cdw=(1, 0, 0, 0, 0, 0), sgl_len=4096))[:40])
    return a, []


def silent_half_h2c():
    # an I/O queue stops half-way through H2CData; its controller has KATO 4 s
    a = admin_up(PORT, SUB, kato=4000)
    q = io_up(PORT, a, qid=4)
    ttag, _ = r2t_for(q, 1, HOSTILE_LBA, 65536)
    q.send(q.h2c_pdu(1, ttag, 0, b"\0" * 65536)[:24 + 30000])
    return q, [a]


SILENT = [
    ("a peer that connects and sends nothing: closed at the ICReq deadline", IC_TIMEOUT_S + 1.5,
     silent_nothing),
    ("a peer that sends half an ICReq and goes silent: closed at the ICReq deadline",
     IC_TIMEOUT_S + 1.5, silent_half_icreq),
    ("half a CapsuleCmd on an admin queue (KATO 4 s), then silence: closed at KATO",
     7.5, silent_half_capsule),
    ("half an H2CData on an I/O queue (KATO 4 s), then silence: closed with its controller",
     7.5, silent_half_h2c),
]


def main():
    global good
    time.sleep(0.5)  # the start-up probe's connection is closed by now
    fds0 = daemon.fds()
    good = GoodHost()
    good.start()
    silent = [Silent(n, lim, prep) for n, lim, prep in SILENT]
    for s in silent:
        s.start()
    time.sleep(0.5)
    for name, fn in CASES:
        try:
            ok, why = fn()
        except Exception as e:
            ok, why = False, "exception: %s" % "".join(
                traceback.format_exception_only(type(e), e)).strip()
        check(name, ok and daemon.alive(), why if daemon.alive() else "nvmfd died")
        if not daemon.alive():
            break
    for name, s in zip([n for n, _, _ in SILENT], silent):
        s.join(IC_TIMEOUT_S + 20)
        check(name, s.result[0], s.result[1])
    good.stop.set()
    good.join(30)
    check("the well-behaved host: %d verified write+read rounds, no error" % good.ops,
          not good.is_alive() and good.ops > 0 and not good.errors, "; ".join(good.errors))
    try:
        a = ctrl()
        q = ioq(a, qid=1)
        data = os.urandom(131072)
        ok = q.write(0, data) == 0 and q.read(0, 256) == (0, data)
        q.close()
        a.close()
    except Exception as e:
        ok = False
        print("# %r" % e)
    check("after all that, a new controller writes and reads back", ok)
    deadline = time.time() + 5
    while daemon.fds() > fds0 and time.time() < deadline:
        time.sleep(0.1)
    check("every connection's socket is closed: %d fds, as at the start" % daemon.fds(),
          daemon.fds() <= fds0, "%d at the start" % fds0)


work = tempfile.mkdtemp(prefix="nvmfd-hostile.")
daemon = Daemon(NVMFD, work, nvmfd_ini(
    PORT, DPORT, work, subsystem(SUB, ns(1, "ram:64M", block_size=512)),
    subsystem(SUB_CLOSED, ns(1, "ram:1M"),
              allow_host="nqn.2014-08.org.nvmexpress:uuid:99999999-2222-3333-4444-555555555555"),
    log_level="info"), PORT)
try:
    main()
except Exception as e:
    check("no unexpected exception", False, repr(e))
daemon.finish(5)
