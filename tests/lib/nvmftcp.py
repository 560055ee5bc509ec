"""A raw NVMe/TCP host for the Python tests (tests/integration/*.py): builds
and parses PDUs byte by byte, so a test can send what a well-behaved host
never would, and starts nvmfd on loopback for them.

Section numbers: NVMe/TCP Transport 1.0 ("TCP"), NVMe over Fabrics 1.1
("oF"), NVMe Base 2.0 ("Base").
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import time

from taplib import check, results

HOSTNQN = b"nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
HOSTID = bytes(range(16))

# PDU types (TCP 3.6.1)
ICREQ, ICRESP, H2C_TERM, C2H_TERM, CMD, RSP, H2C_DATA, C2H_DATA, R2T = 0, 1, 2, 3, 4, 5, 6, 7, 9
# Fatal Error Status of a TermReq (TCP Figure 27)
FES_HDR, FES_SEQ, FES_HDGST, FES_RANGE, FES_LIMIT, FES_PARAM = 1, 2, 3, 4, 5, 6
# Status codes (SCT << 8 | SC), without DNR / MORE
SC_INVALID_OPC, SC_INVALID_FIELD, SC_INVALID_NS, SC_CMD_SEQ = 0x01, 0x02, 0x0B, 0x0C
SC_SGL_DATA_LEN, SC_SGL_TYPE, SC_SGL_OFFSET, SC_TRANSIENT = 0x0F, 0x11, 0x16, 0x22
SC_LBA_RANGE = 0x80
SC_INVALID_LOG = 0x109
SC_CONNECT_FORMAT, SC_CONNECT_PARAM, SC_CONNECT_HOST = 0x180, 0x182, 0x184

_T = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _T.append(_c)


def crc32c(b, crc=0xFFFFFFFF):
    for x in b:
        crc = _T[(crc ^ x) & 0xFF] ^ (crc >> 8)
    return crc


def dg(b):
    """The 4-byte digest (CRC32C, TCP 3.6.1.1) of b."""
    return struct.pack("<I", crc32c(b) ^ 0xFFFFFFFF)


class Q:
    """One connection (one queue), blocking, with a timeout on every read."""

    def __init__(self, port, hd=False, dd=False, timeout=10, sock=None):
        self.s = sock or socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.settimeout(timeout)
        self.hd, self.dd = hd, dd
        self.buf = b""
        self.maxh2c = 0

    def send(self, b):
        self.s.sendall(b)

    def recvn(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("closed")
            self.buf += d
        r, self.buf = self.buf[:n], self.buf[n:]
        return r

    def icreq_pdu(self, hpda=0, pfv=0, dgst=None, plen=128, hlen=128, flags=0):
        if dgst is None:
            dgst = (1 if self.hd else 0) | (2 if self.dd else 0)
        return struct.pack("<BBBBIHBBI", ICREQ, flags, hlen, 0, plen, pfv, hpda, dgst, 0) + \
            b"\0" * 112

    def icreq(self, hpda=0):
        self.send(self.icreq_pdu(hpda))
        r = self.recvn(128)
        dgst = (1 if self.hd else 0) | (2 if self.dd else 0)
        assert r[0] == ICRESP and r[11] == dgst, r[:16]
        self.maxh2c = struct.unpack_from("<I", r, 12)[0]

    def pdu(self, ptype, flags, psh, data=b"", bad_hdgst=False, bad_ddgst=False):
        hlen = 8 + len(psh)
        hd = 4 if self.hd else 0
        if self.hd:
            flags |= 1
        dd = 4 if (self.dd and data) else 0
        if dd:
            flags |= 2
        pdo = hlen + hd if data else 0
        plen = hlen + hd + len(data) + dd
        h = struct.pack("<BBBBI", ptype, flags, hlen, pdo, plen) + psh
        out = h
        if self.hd:
            d = dg(h)
            if bad_hdgst:
                d = bytes([d[0] ^ 1]) + d[1:]
            out += d
        out += data
        if dd:
            d = dg(data)
            if bad_ddgst:
                d = bytes([d[0] ^ 1]) + d[1:]
            out += d
        return out

    def rx(self):
        """The next PDU: (type, flags, header, data); data of C2HData / TermReq."""
        ch = self.recvn(8)
        t, fl, hlen, pdo, plen = struct.unpack("<BBBBI", ch)
        rest = self.recvn(plen - 8)
        hdr = ch + rest[:hlen - 8]
        data = b""
        if t == C2H_DATA:
            off = pdo - 8
            self.last_pdo = pdo
            datal = struct.unpack_from("<I", hdr, 16)[0]
            data = rest[off:off + datal]
        elif t == C2H_TERM:
            data = rest[hlen - 8:]
        return t, fl, hdr, data

    @staticmethod
    def sqe(opc, cid, nsid=0, cdw=(0,) * 6, sgl_type=0x5A, sgl_len=0, sgl_addr=0,
            flags=0x40, fctype=None, tail=None):
        """A 64-byte SQE; flags 0x40 = PSDT 01b (SGL), no FUSE."""
        sqe = bytearray(64)
        struct.pack_into("<BBHI", sqe, 0, opc, flags, cid, nsid)
        if fctype is not None:
            sqe[4] = fctype
        struct.pack_into("<QI", sqe, 24, sgl_addr, sgl_len)
        sqe[39] = sgl_type
        if tail is not None:
            sqe[40:40 + len(tail)] = tail
        else:
            struct.pack_into("<6I", sqe, 40, *cdw)
        return bytes(sqe)

    def cmd(self, opc, cid, icd=b"", bad_hdgst=False, bad_ddgst=False, **kw):
        self.send(self.pdu(CMD, 0, self.sqe(opc, cid, **kw), icd,
                           bad_hdgst=bad_hdgst, bad_ddgst=bad_ddgst))

    def rsp(self):
        """The next CapsuleResp: (type, cid, status without phase, dw0, data)."""
        t, fl, hdr, data = self.rx()
        if t != RSP:
            return t, None, None, hdr, data
        dw0, dw1, sqhd, sqid, cid, st = struct.unpack_from("<IIHHHH", hdr, 8)
        return t, cid, st >> 1, dw0, data

    def status(self):
        """The next CapsuleResp's status (SCT << 8 | SC, no DNR / MORE), None if not one."""
        st = self.rsp()[2]
        return None if st is None else st & 0x7ff

    def connect(self, subnqn, qid=0, sqsize=31, cntlid=0xFFFF, kato=0, cattr=0, cid=1,
                hostnqn=HOSTNQN, recfmt=0):
        data = HOSTID + struct.pack("<H", cntlid) + b"\0" * 238
        data += subnqn.ljust(256, b"\0") + hostnqn.ljust(256, b"\0") + b"\0" * 256
        tail = struct.pack("<HHHBBI", recfmt, qid, sqsize, cattr, 0, kato)
        self.cmd(0x7F, cid, fctype=1, sgl_type=0x01, sgl_len=1024, icd=data, tail=tail)
        return self.rsp()

    def prop_set(self, ofst, val, cid=2, size8=False):
        tail = struct.pack("<B3xIQ", 1 if size8 else 0, ofst, val)
        self.cmd(0x7F, cid, fctype=0, tail=tail)
        return self.rsp()

    def write(self, cid, slba, data, nsid=1):
        """Write through R2T / H2CData (or in-capsule up to 8 KiB); the status."""
        nlb = len(data) // 512
        cdw = (slba & 0xFFFFFFFF, slba >> 32, nlb - 1, 0, 0, 0)
        if len(data) <= 8192:
            self.cmd(1, cid, nsid=nsid, cdw=cdw, sgl_type=0x01, sgl_len=len(data), icd=data)
            return self.status()
        self.cmd(1, cid, nsid=nsid, cdw=cdw, sgl_len=len(data))
        t, fl, hdr, _ = self.rx()
        if t != R2T:
            return ("no R2T", t)
        ttag, r2to, r2tl = struct.unpack_from("<HII", hdr, 10)
        off = 0
        while off < len(data):
            n = min(self.maxh2c, len(data) - off)
            last = 4 if off + n == len(data) else 0
            self.send(self.pdu(H2C_DATA, last, struct.pack("<HHII4x", cid, ttag, off, n),
                               data[off:off + n]))
            off += n
        return self.status()

    def read(self, cid, slba, nlb, nsid=1):
        """(status, data) of a Read."""
        cdw = (slba & 0xFFFFFFFF, slba >> 32, nlb - 1, 0, 0, 0)
        self.cmd(2, cid, nsid=nsid, cdw=cdw, sgl_len=nlb * 512)
        got = b""
        while True:
            t, fl, hdr, data = self.rx()
            if t == RSP:
                return struct.unpack_from("<H", hdr, 22)[0] >> 1 & 0x7ff, got
            if t != C2H_DATA:
                return ("type", t), got
            got += data

    def close(self):
        self.s.close()

    def reset(self):
        """Close with an RST (SO_LINGER 0): the peer sees ECONNRESET."""
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()


def expect_term(q, fes, fei=None):
    """(ok, why): the next PDU is a C2HTermReq with fes (and fei), then the target closes."""
    try:
        t, fl, hdr, data = q.rx()
    except (EOFError, OSError) as e:
        return False, "closed without TermReq: %s" % e
    if t != C2H_TERM:
        return False, "type %d" % t
    f, = struct.unpack_from("<H", hdr, 8)
    i, = struct.unpack_from("<I", hdr, 10)
    if f != fes or (fei is not None and i != fei):
        return False, "FES %d FEI %d" % (f, i)
    return expect_closed(q)


def expect_closed(q, timeout=None):
    """(ok, why): the target closes (FIN or RST) without sending anything more."""
    if timeout is not None:
        q.s.settimeout(timeout)
    try:
        d = q.s.recv(1)
        return d == b"", "not closed: %r" % d
    except ConnectionResetError:
        return True, ""
    except OSError as e:
        return False, "not closed: %s" % e


def admin_up(port, subnqn, kato=0, queues=4):
    """An enabled controller's admin queue, with queues I/O queues granted."""
    a = Q(port)
    a.icreq()
    t, cid, st, dw0, _ = a.connect(subnqn, kato=kato)
    assert st == 0, st
    a.cntlid = dw0 & 0xFFFF
    assert a.prop_set(0x14, 1 | (6 << 16) | (4 << 20))[2] == 0
    n = queues - 1
    a.cmd(0x09, 3, cdw=(7, n << 16 | n, 0, 0, 0, 0))  # Set Features: Number of Queues
    assert a.rsp()[2] == 0
    return a


def io_up(port, subnqn, a, qid=1, sqsize=127, cattr=0, hd=False, dd=False):
    q = Q(port, hd, dd)
    q.icreq()
    t, cid, st, dw0, _ = q.connect(subnqn, qid=qid, sqsize=sqsize, cntlid=a.cntlid, cattr=cattr)
    assert st == 0, hex(st)
    return q


class Daemon:
    """nvmfd on loopback with conf_text; finish() stops it and prints the TAP plan."""

    def __init__(self, nvmfd, conf_text, port, work, env=None):
        self.work = work
        conf = os.path.join(work, "nvmfd.ini")
        with open(conf, "w") as f:
            f.write(conf_text)
        self.log = open(os.path.join(work, "nvmfd.log"), "w+")
        self.p = subprocess.Popen([nvmfd, "-c", conf], stdout=self.log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env=dict(os.environ, **(env or {})))
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if self.p.poll() is not None or time.time() > deadline:
                    print("Bail out! nvmfd did not start: " +
                          self.text()[-500:].replace("\n", " | "))
                    sys.exit(1)
                time.sleep(0.1)

    def text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def alive(self):
        return self.p.poll() is None

    def finish(self):
        """SIGTERM: exit 0 within 5 s, no sanitizer report; the plan; the exit status."""
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        check("SIGTERM: nvmfd exits 0 within 5 s", rc == 0, "exit %s" % rc)
        bad = [l for l in self.text().splitlines()
               if "Sanitizer" in l or "runtime error:" in l]
        check("no sanitizer report in the daemon's log", not bad, " | ".join(bad[:5]))
        print("1..%d" % len(results))
        print("# %d of %d passed" % (sum(results), len(results)))
        if all(results) and os.environ.get("INTEGRATION_KEEP") != "1":
            subprocess.call(["rm", "-rf", self.work])
        else:
            print("# work directory kept: %s" % self.work)
        sys.exit(0 if all(results) else 1)
