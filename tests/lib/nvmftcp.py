"""The raw NVMe/TCP host and the daemon harness of the Python integration
tests (tests/integration/*.py).

The host builds and parses PDUs byte by byte rather than going through
transport/ or nvmfdd, so that a test can do what a well-behaved host never
would (bad digests, wrong lengths, half PDUs, silence, kill -9) and still
drive ordinary I/O on the same connection. It has two layers:

  - raw: pdu() / capsule() build bytes, cmd() sends a CapsuleCmd, rx()
    returns the next PDU and rsp() the next CapsuleResp, as they come;
  - waited: wait(cid) reads until that command completes, gathering its
    C2HData, answering R2Ts from the write's data and keeping the other
    commands' completions (an AER completes between other responses);
    connect(), identify(), get_log(), read(), write()... are built on it.

    a = admin_up(port, subnqn, hostnqn)   # ICReq, Connect, CC.EN, 4 I/O queues
    q = io_up(port, a, qid=1)
    st = q.write(slba, data)              # status without the phase bit
    st, data = q.read(slba, nlb)

Daemon starts nvmfd on loopback and stops it; done() in taplib ends a test.

Section numbers: NVMe/TCP Transport 1.0 ("TCP"), NVMe over Fabrics 1.1
("oF"), NVMe Base 2.0 ("Base").
"""
import os
import re
import signal
import socket
import struct
import subprocess
import time

from taplib import check, done, results

# ---------------------------------------------------------------------------
# Constants

HOSTNQN = b"nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
HOSTID = bytes(range(16))
DISC_NQN = b"nqn.2014-08.org.nvmexpress.discovery"

# PDU types (TCP 3.6.1)
ICREQ, ICRESP, H2C_TERM, C2H_TERM, CMD, RSP, H2C_DATA, C2H_DATA, R2T = 0, 1, 2, 3, 4, 5, 6, 7, 9
# PDU flags: HDGSTF, DDGSTF, LAST_PDU (H2C/C2HData), SUCCESS (C2HData)
F_HDGST, F_DDGST, F_LAST, F_SUCCESS = 0x01, 0x02, 0x04, 0x08
# Fatal Error Status of a TermReq (TCP Figure 27)
FES_HDR, FES_SEQ, FES_HDGST, FES_RANGE, FES_LIMIT, FES_PARAM = 1, 2, 3, 4, 5, 6
# Status codes (SCT << 8 | SC), without DNR / MORE
SC_INVALID_OPC, SC_INVALID_FIELD, SC_INVALID_NS, SC_CMD_SEQ = 0x01, 0x02, 0x0B, 0x0C
SC_SGL_DATA_LEN, SC_SGL_TYPE, SC_TRANSIENT = 0x0F, 0x11, 0x22
SC_LBA_RANGE = 0x80
SC_INVALID_LOG = 0x109
SC_CONNECT_FORMAT, SC_CONNECT_PARAM, SC_CONNECT_HOST = 0x180, 0x182, 0x184

# CC: EN, IOSQES 6 (64-byte SQEs), IOCQES 4 (16-byte CQEs)
CC_ENABLE = 1 | (6 << 16) | (4 << 20)
# Writes up to this size travel in the capsule (the daemon's default in_capsule_data)
ICD_MAX = 8192


class Closed(Exception):
    """The target closed, refused or answered with something unexpected."""


def _b(s):
    return s if isinstance(s, bytes) else s.encode()


# ---------------------------------------------------------------------------
# CRC32C (TCP 3.6.1.1): a table, bitwise reflected, polynomial 82F63B78h

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
    """The 4-byte digest of b (HDGST / DDGST)."""
    return struct.pack("<I", crc32c(b) ^ 0xFFFFFFFF)


# ---------------------------------------------------------------------------
# PDU and SQE builders, parsers: free of any connection, so a test can take
# them apart or get them wrong on purpose

def icreq_pdu(hpda=0, pfv=0, dgst=0, plen=128, hlen=128, flags=0):
    """An ICReq (TCP 3.6.2.2); dgst bit 0 = header digests, bit 1 = data digests."""
    return struct.pack("<BBBBIHBBI", ICREQ, flags, hlen, 0, plen, pfv, hpda, dgst, 0) + \
        b"\0" * 112


def sqe(opc, cid, nsid=0, cdw=(), sgl_type=0x5A, sgl_len=0, sgl_addr=0, flags=0x40,
        fctype=None, tail=None):
    """A 64-byte SQE with one SGL descriptor; flags 0x40 = PSDT 01b (SGL), no FUSE.
    sgl_type 5Ah: transport data block (R2T / C2HData), 01h: in-capsule at sgl_addr.
    tail: bytes 40.. as given (Fabrics commands), else CDW10..15 from cdw."""
    s = bytearray(64)
    struct.pack_into("<BBHI", s, 0, opc, flags, cid, nsid)
    if fctype is not None:
        s[4] = fctype
    struct.pack_into("<QI", s, 24, sgl_addr, sgl_len)
    s[39] = sgl_type
    if tail is not None:
        s[40:40 + len(tail)] = tail
    else:
        struct.pack_into("<6I", s, 40, *(tuple(cdw) + (0,) * (6 - len(cdw))))
    return bytes(s)


def rw_cdw(slba, nlb, fua=False):
    """CDW10..15 of a Read / Write / Write Zeroes (NLB 0's based, 16 bits)."""
    return (slba & 0xFFFFFFFF, slba >> 32, ((nlb - 1) & 0xFFFF) | (1 << 30 if fua else 0),
            0, 0, 0)


def parse_rsp(hdr):
    """(cid, status without the phase bit, dw0) of a CapsuleResp header."""
    dw0, _dw1, _sqhd, _sqid, cid, st = struct.unpack_from("<IIHHHH", hdr, 8)
    return cid, st >> 1, dw0


def parse_r2t(hdr):
    """(cccid, ttag, r2to, r2tl) of an R2T header."""
    return struct.unpack_from("<HHII", hdr, 8)


# ---------------------------------------------------------------------------
# One connection (one queue)

class Queue:
    """One TCP connection, blocking, with a timeout on every read."""

    def __init__(self, port, hd=False, dd=False, src=None, rcvbuf=0, timeout=10):
        """A connection to 127.0.0.1:port (from src if given, with a receive buffer of
        rcvbuf bytes if given); hd / dd: the digests its ICReq will ask for."""
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if src is not None:
            self.s.bind((src, 0))
        self.s.settimeout(timeout)
        self.s.connect(("127.0.0.1", port))
        self.hd, self.dd = hd, dd
        self.buf = bytearray()
        self.maxh2c = 0
        self.cntlid = None
        self.subnqn = self.hostnqn = None
        self.last_cid = 0
        self.done = {}      # cid -> (status, dw0) of completions not yet waited for
        self.data = {}      # cid -> C2HData received
        self.pending = {}   # cid -> a write's data, for its R2Ts
        self.bad_digests = 0  # PDUs from the target whose header or data digest was wrong

    # ---- bytes ----
    def send(self, b):
        self.s.sendall(b)

    def _fill(self, n):
        while len(self.buf) < n:
            d = self.s.recv(max(65536, n - len(self.buf)))
            if not d:
                raise Closed("closed by the target")
            self.buf += d

    def recvn(self, n):
        self._fill(n)
        r = bytes(self.buf[:n])
        del self.buf[:n]
        return r

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def reset(self):
        """Close with an RST (SO_LINGER 0): the peer sees ECONNRESET, as from a killed host."""
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()

    def closed_within(self, timeout):
        """True if the target closes (EOF or reset) within timeout s; what it sends
        before is dropped."""
        self.s.settimeout(timeout)
        try:
            while self.s.recv(65536):
                pass
            return True
        except ConnectionResetError:
            return True
        except OSError:   # the timeout
            return False

    # ---- PDUs ----
    def icreq(self, hpda=0):
        """The IC exchange with this queue's digests; keeps MAXH2CDATA."""
        dgst = (1 if self.hd else 0) | (2 if self.dd else 0)
        self.send(icreq_pdu(hpda, dgst=dgst))
        r = self.recvn(128)
        if r[0] != ICRESP or r[11] != dgst:
            raise Closed("not the ICResp expected: %r" % r[:16])
        self.maxh2c = struct.unpack_from("<I", r, 12)[0]

    def pdu(self, ptype, flags, psh, data=b"", bad_hdgst=False, bad_ddgst=False):
        """A PDU with the negotiated digests (bad_*: the digest with one bit flipped)."""
        hlen = 8 + len(psh)
        hd = 4 if self.hd else 0
        if self.hd:
            flags |= F_HDGST
        dd = 4 if (self.dd and data) else 0
        if dd:
            flags |= F_DDGST
        pdo = hlen + hd if data else 0
        h = struct.pack("<BBBBI", ptype, flags, hlen, pdo, hlen + hd + len(data) + dd) + psh
        out = h
        if self.hd:
            d = dg(h)
            out += bytes([d[0] ^ 1]) + d[1:] if bad_hdgst else d
        out += data
        if dd:
            d = dg(data)
            out += bytes([d[0] ^ 1]) + d[1:] if bad_ddgst else d
        return out

    def capsule(self, opc, cid, icd=b"", sgl_type=None, sgl_len=None, bad_hdgst=False,
                bad_ddgst=False, **kw):
        """A CapsuleCmd; the SGL says in-capsule data when there is some, unless given."""
        if sgl_type is None:
            sgl_type = 0x01 if icd else 0x5A
        if sgl_len is None:
            sgl_len = len(icd)
        return self.pdu(CMD, 0, sqe(opc, cid, sgl_type=sgl_type, sgl_len=sgl_len, **kw), icd,
                        bad_hdgst, bad_ddgst)

    def h2c_pdu(self, cid, ttag, datao, data, last=True, datal=None, bad_ddgst=False):
        """An H2CData PDU; datal: a DATAL other than len(data)."""
        psh = struct.pack("<HHII4x", cid, ttag, datao, len(data) if datal is None else datal)
        return self.pdu(H2C_DATA, F_LAST if last else 0, psh, data, bad_ddgst=bad_ddgst)

    def rx(self):
        """The next PDU: (type, flags, header, data); data of C2HData and TermReq.
        Nothing is consumed until the whole PDU is here, so a timeout loses nothing.
        A digest the PDU carries that does not match counts in bad_digests."""
        self._fill(8)
        t, fl, hlen, pdo, plen = struct.unpack_from("<BBBBI", self.buf, 0)
        self._fill(plen)
        p = self.recvn(plen)
        hdr = p[:hlen]
        if fl & F_HDGST and p[hlen:hlen + 4] != dg(hdr):
            self.bad_digests += 1
        data = b""
        if t == C2H_DATA:
            datal = struct.unpack_from("<I", hdr, 16)[0]
            data = p[pdo:pdo + datal]
            if fl & F_DDGST and p[pdo + datal:pdo + datal + 4] != dg(data):
                self.bad_digests += 1
        elif t == C2H_TERM:
            data = p[hlen:]
        return t, fl, hdr, data

    # ---- raw commands ----
    def new_cid(self):
        self.last_cid = self.last_cid % 0xFFFF + 1
        return self.last_cid

    def cmd(self, opc, cid=None, **kw):
        """Send a CapsuleCmd (capsule() arguments); its CID (a new one unless given)."""
        cid = self.new_cid() if cid is None else cid
        self.send(self.capsule(opc, cid, **kw))
        return cid

    def rsp(self):
        """The next PDU as a response: (type, cid, status, dw0, data); cid, status and
        dw0 are None if it is not a CapsuleResp."""
        t, fl, hdr, data = self.rx()
        if t != RSP:
            return t, None, None, None, data
        cid, st, dw0 = parse_rsp(hdr)
        return t, cid, st, dw0, data

    def status(self):
        """The next CapsuleResp's status (SCT << 8 | SC, no DNR / MORE), None if not one."""
        st = self.rsp()[2]
        return None if st is None else st & 0x7ff

    # ---- waited commands ----
    def wait(self, cid):
        """(status, dw0, data) of command cid, reading and keeping whatever else comes."""
        while cid not in self.done:
            t, fl, hdr, data = self.rx()
            if t == RSP:
                c, st, dw0 = parse_rsp(hdr)
                self.done[c] = (st, dw0)
            elif t == C2H_DATA:
                c, datao = struct.unpack_from("<HxxI", hdr, 8)
                got = self.data.setdefault(c, bytearray())
                if len(got) < datao + len(data):
                    got.extend(b"\0" * (datao + len(data) - len(got)))
                got[datao:datao + len(data)] = data
                if fl & F_SUCCESS:   # no CapsuleResp follows
                    self.done[c] = (0, 0)
            elif t == R2T:
                self._answer_r2t(hdr)
            elif t == C2H_TERM:
                raise Closed("C2HTermReq, FES %d" % struct.unpack_from("<H", hdr, 8))
            else:
                raise Closed("unexpected PDU type %d" % t)
        st, dw0 = self.done.pop(cid)
        self.pending.pop(cid, None)
        return st, dw0, bytes(self.data.pop(cid, b""))

    def poll(self, cid, timeout):
        """Like wait(), None if cid does not complete within timeout s."""
        old = self.s.gettimeout()
        self.s.settimeout(timeout)
        try:
            return self.wait(cid)
        except socket.timeout:
            return None
        finally:
            self.s.settimeout(old)

    def _answer_r2t(self, hdr):
        cid, ttag, r2to, r2tl = parse_r2t(hdr)
        data = self.pending[cid]
        end = r2to + r2tl
        for off in range(r2to, end, self.maxh2c):
            n = min(self.maxh2c, end - off)
            self.send(self.h2c_pdu(cid, ttag, off, data[off:off + n], last=off + n == end))

    # ---- Fabrics (oF 3) ----
    def start_connect(self, subnqn, hostnqn=HOSTNQN, qid=0, sqsize=31, cntlid=0xFFFF, kato=0,
                      cattr=0, recfmt=0, cid=None, hostid=None):
        """Send a Connect (hostid: the 16-byte Host Identifier, HOSTID unless given); its CID."""
        self.subnqn, self.hostnqn = _b(subnqn), _b(hostnqn)
        self.hostid = HOSTID if hostid is None else hostid
        data = self.hostid + struct.pack("<H", cntlid) + b"\0" * 238
        data += self.subnqn.ljust(256, b"\0") + self.hostnqn.ljust(256, b"\0") + b"\0" * 256
        tail = struct.pack("<HHHBBI", recfmt, qid, sqsize, cattr, 0, kato)
        return self.cmd(0x7F, cid, fctype=1, icd=data, tail=tail)

    def connect(self, subnqn, hostnqn=HOSTNQN, qid=0, **kw):
        """Connect: (status, dw0); an admin queue keeps its CNTLID."""
        st, dw0, _ = self.wait(self.start_connect(subnqn, hostnqn, qid=qid, **kw))
        if st == 0 and qid == 0:
            self.cntlid = dw0 & 0xFFFF
        return st, dw0

    def prop_set(self, ofst, val, size8=False):
        """Property Set: the status."""
        tail = struct.pack("<B3xIQ", 1 if size8 else 0, ofst, val)
        return self.wait(self.cmd(0x7F, fctype=0, tail=tail))[0]

    # ---- admin (Base 5) ----
    def identify(self, cns, nsid=0):
        """(status, data)."""
        st, _, d = self.wait(self.cmd(0x06, nsid=nsid, cdw=(cns,), sgl_len=4096))
        return st, d

    def get_log(self, lid, length, nsid=0xFFFFFFFF, rae=False, offset=0):
        """Get Log Page: (status, data)."""
        numd = length // 4 - 1
        cdw10 = lid | (1 << 15 if rae else 0) | ((numd & 0xFFFF) << 16)
        st, _, d = self.wait(self.cmd(0x02, nsid=nsid, cdw=(cdw10, numd >> 16,
                                                             offset & 0xFFFFFFFF, offset >> 32),
                                      sgl_len=length))
        return st, d

    def set_features(self, fid, val):
        """(status, dw0)."""
        st, dw0, _ = self.wait(self.cmd(0x09, cdw=(fid, val)))
        return st, dw0

    def keep_alive(self):
        return self.wait(self.cmd(0x18))[0]

    def aer(self):
        """Send an Asynchronous Event Request; its CID (wait or poll on it)."""
        return self.cmd(0x0C)

    def active_nsids(self):
        """The active namespace list (Identify CNS 02h)."""
        st, d = self.identify(0x02)
        if st != 0:
            raise Closed("Identify CNS 02h: status %#x" % st)
        return [i for i in struct.unpack("<1024I", d[:4096]) if i]

    def disc_log(self):
        """(genctr, [(trsvcid, subnqn)]) of the discovery log page (70h)."""
        st, d = self.get_log(0x70, 1024, nsid=0)
        if st != 0:
            raise Closed("discovery log: status %#x" % st)
        genctr, numrec = struct.unpack_from("<QQ", d, 0)
        if numrec:
            st, d = self.get_log(0x70, 1024 * (1 + numrec), nsid=0)
            if st != 0:
                raise Closed("discovery log: status %#x" % st)
            genctr = struct.unpack_from("<Q", d, 0)[0]
        recs = []
        for i in range(numrec):
            e = d[1024 * (i + 1):1024 * (i + 2)]
            recs.append((e[32:64].rstrip(b"\0 ").decode(), e[256:512].rstrip(b"\0").decode()))
        return genctr, recs

    # ---- I/O (NVM command set) ----
    def start_write(self, slba, data, nsid=1, bs=512, fua=False, cid=None):
        """Send a Write: in-capsule up to ICD_MAX, else its R2Ts are answered in wait()."""
        cdw = rw_cdw(slba, len(data) // bs, fua)
        if len(data) <= ICD_MAX:
            return self.cmd(0x01, cid, nsid=nsid, cdw=cdw, icd=data)
        cid = self.cmd(0x01, cid, nsid=nsid, cdw=cdw, sgl_len=len(data))
        self.pending[cid] = data
        return cid

    def write(self, slba, data, nsid=1, bs=512, fua=False):
        """The status of a Write."""
        return self.wait(self.start_write(slba, data, nsid, bs, fua))[0]

    def start_read(self, slba, nlb, nsid=1, bs=512, cid=None):
        return self.cmd(0x02, cid, nsid=nsid, cdw=rw_cdw(slba, nlb), sgl_len=nlb * bs)

    def read(self, slba, nlb, nsid=1, bs=512):
        """(status, data) of a Read of nlb blocks."""
        st, _, d = self.wait(self.start_read(slba, nlb, nsid, bs))
        return st, d


def admin_up(port, subnqn, hostnqn=HOSTNQN, kato=0, queues=4, hostid=None, **qkw):
    """An enabled controller's admin queue (Connect, CC.EN), with queues I/O queues
    granted (0: none asked, as a discovery controller has none)."""
    a = Queue(port, **qkw)
    a.icreq()
    st, _ = a.connect(subnqn, hostnqn, kato=kato, hostid=hostid)
    if st != 0:
        a.close()
        raise Closed("admin Connect: status %#x" % st)
    st = a.prop_set(0x14, CC_ENABLE)
    if st != 0:
        raise Closed("CC.EN: status %#x" % st)
    if queues:
        st, _ = a.set_features(0x07, (queues - 1) << 16 | (queues - 1))
        if st != 0:
            raise Closed("Set Features (Number of Queues): status %#x" % st)
    return a


def io_up(port, a, qid=1, sqsize=127, cattr=0, **qkw):
    """An I/O queue of a's controller (same subsystem and host NQN)."""
    q = Queue(port, **qkw)
    q.icreq()
    st, _ = q.connect(a.subnqn, a.hostnqn, qid=qid, sqsize=sqsize, cntlid=a.cntlid,
                      cattr=cattr, hostid=a.hostid)
    if st != 0:
        q.close()
        raise Closed("I/O Connect (qid %d): status %#x" % (qid, st))
    return q


# ---------------------------------------------------------------------------
# What the target does with a connection that broke the rules

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


def expect_term(q, fes, fei=None):
    """(ok, why): the next PDU is a C2HTermReq with fes (and fei), then the target closes."""
    try:
        t, fl, hdr, data = q.rx()
    except (Closed, OSError) as e:
        return False, "closed without TermReq: %s" % e
    if t != C2H_TERM:
        return False, "type %d" % t
    f, = struct.unpack_from("<H", hdr, 8)
    i, = struct.unpack_from("<I", hdr, 10)
    if f != fes or (fei is not None and i != fei):
        return False, "FES %d FEI %d" % (f, i)
    return expect_closed(q)


# ---------------------------------------------------------------------------
# The daemon

def ns(nsid, path, **keys):
    """A namespace for nvmfd_ini(): its NSID, path and further keys."""
    return nsid, dict(path=path, **keys)


def subsystem(nqn, *namespaces, allow_host="any"):
    """A subsystem for nvmfd_ini(): its NQN (str or bytes), its ns() entries."""
    return _b(nqn).decode(), allow_host, namespaces


def _ini_value(v):
    return ("yes" if v else "no") if isinstance(v, bool) else str(v)


def nvmfd_ini(port, dport, state_dir, *subsystems, **keys):
    """nvmfd.ini text: listen on 127.0.0.1:port, discovery on :dport, workers = 2,
    state_dir, then keys (workers=3, log_level="debug", max_connections=64...);
    then each subsystem() with its namespaces. True / False are written yes / no."""
    top = dict(listen="127.0.0.1:%d" % port, discovery_listen="127.0.0.1:%d" % dport,
               workers=2, state_dir=state_dir)
    top.update(keys)
    sections = [("nvmfd", top)]
    for nqn, allow_host, namespaces in subsystems:
        sections.append(("subsystem " + nqn, dict(allow_host=allow_host)))
        sections += [("namespace %s %d" % (nqn, nsid), k) for nsid, k in namespaces]
    return "\n".join("[%s]\n" % name + "".join("%s = %s\n" % (k, _ini_value(v))
                                                for k, v in body.items())
                     for name, body in sections)


class Daemon:
    """nvmfd on conf_text (written to work/NAME.ini), its output in work/NAME.log;
    started when it accepts connections on port."""

    def __init__(self, nvmfd, work, conf_text, port, name="nvmfd", args=(), env=None):
        self.work, self.port = work, port
        self.conf = os.path.join(work, name + ".ini")
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.logpath = os.path.join(work, name + ".log")
        self.log = open(self.logpath, "w")
        args = list(args)
        # Tests never touch the system's state directory (it holds a real
        # service's health counters): a file without state_dir gets -s here.
        if "-s" not in args and not re.search(r"^\s*state_dir\s*=", conf_text, re.M):
            args += ["-s", os.path.join(work, name + ".state")]
        self.p = subprocess.Popen([nvmfd, "-c", self.conf] + args, stdout=self.log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env=dict(os.environ, **(env or {})))
        self.pid = self.p.pid
        deadline = time.time() + 20
        while not self._accepting():
            if self.p.poll() is not None or time.time() > deadline:
                self.stop(signal.SIGKILL)
                raise Closed("nvmfd did not start: " + self.text()[-800:].replace("\n", " | "))
            time.sleep(0.1)

    def _accepting(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def text(self):
        self.log.flush()
        with open(self.logpath) as f:
            return f.read()

    def alive(self):
        return self.p.poll() is None

    def fds(self):
        """How many file descriptors the daemon has open."""
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def sanitizer_lines(self):
        """AddressSanitizer / LeakSanitizer / UBSan reports in the log."""
        return [l for l in self.text().splitlines()
                if "Sanitizer" in l or "runtime error:" in l]

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Send sig; its exit status (None if it had to be killed after timeout s).
        Returns once the port is closed: the kernel tears an io_uring down after
        the process is gone, and a multishot accept keeps the listening socket
        accepting until then."""
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = None
        deadline = time.time() + 10
        while time.time() < deadline and self._accepting():
            time.sleep(0.05)
        return rc

    def check_stop(self, timeout=10):
        """Two checks: SIGTERM makes it exit 0 within timeout s; no sanitizer report."""
        rc = self.stop(timeout=timeout)
        check("SIGTERM: nvmfd exits 0 within %d s" % timeout, rc == 0, "exit %s" % rc)
        bad = self.sanitizer_lines()
        check("no sanitizer report in the daemon's log", not bad, " | ".join(bad[:5]))

    def print_tail(self, n):
        for line in self.text().splitlines()[-n:]:
            print("#   nvmfd: " + line)

    def finish(self, timeout=10):
        """The end of a test with one daemon: check_stop(), the log's tail if a
        check failed, the plan (taplib.done)."""
        self.check_stop(timeout)
        if not all(results):
            self.print_tail(40)
        done(self.work)


def sanitized(exe):
    """Whether exe was built with AddressSanitizer (its memory figures differ)."""
    try:
        with open(exe, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False
