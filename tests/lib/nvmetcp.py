"""A minimal raw NVMe/TCP host for the integration tests (reload.py, health.py).

One Q is one TCP connection (one queue). Commands carry their CID; wait(cid)
reads PDUs until that command's response, keeping what arrives for other
commands (an Asynchronous Event Request completes whenever the target has
an event, between other responses). Writes travel as in-capsule data only
(at most the target's in_capsule_data), so there is no R2T handling; reads
gather C2HData. No digests. Not a general host: just what the tests need.
"""
import socket
import struct

DISC_NQN = b"nqn.2014-08.org.nvmexpress.discovery"
HOSTID = bytes(range(16))


class Closed(Exception):
    pass


class Q:
    def __init__(self, port, subnqn, hostnqn, host="127.0.0.1", timeout=10):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.subnqn = subnqn if isinstance(subnqn, bytes) else subnqn.encode()
        self.hostnqn = hostnqn if isinstance(hostnqn, bytes) else hostnqn.encode()
        self.buf = b""
        self.done = {}   # cid -> (status, dw0)
        self.data = {}   # cid -> bytes received in C2HData
        self.cntlid = None
        self.next_cid = 16

    # ---- bytes ----
    def recvn(self, n):
        while len(self.buf) < n:
            d = self.s.recv(262144)
            if not d:
                raise Closed("connection closed by the target")
            self.buf += d
        r, self.buf = self.buf[:n], self.buf[n:]
        return r

    def rx(self):
        """One PDU, recorded: a capsule response or C2HData."""
        ch = self.recvn(8)
        t, fl, hlen, pdo, plen = struct.unpack("<BBBBI", ch)
        rest = self.recvn(plen - 8)
        hdr = ch + rest[:hlen - 8]
        if t == 1:
            return t
        if t == 5:
            dw0, _dw1, _sqhd, _sqid, cid, st = struct.unpack_from("<IIHHHH", hdr, 8)
            self.done[cid] = (st >> 1, dw0)
        elif t == 7:
            cid, = struct.unpack_from("<H", hdr, 8)
            datao, datal = struct.unpack_from("<II", hdr, 12)
            d = rest[pdo - 8:pdo - 8 + datal]
            got = self.data.setdefault(cid, bytearray())
            if len(got) < datao + datal:
                got.extend(b"\0" * (datao + datal - len(got)))
            got[datao:datao + datal] = d
            if fl & 0x08:  # SUCCESS: no response capsule follows
                self.done[cid] = (0, 0)
        elif t == 3:
            raise Closed("C2HTermReq")
        else:
            raise Closed("unexpected PDU type %d" % t)
        return t

    def wait(self, cid):
        """(status, dw0, data) of command cid."""
        while cid not in self.done:
            self.rx()
        st, dw0 = self.done.pop(cid)
        return st, dw0, bytes(self.data.pop(cid, b""))

    def poll(self, cid, timeout):
        """Like wait(), None if nothing for cid within timeout seconds."""
        old = self.s.gettimeout()
        self.s.settimeout(timeout)
        try:
            return self.wait(cid)
        except socket.timeout:
            return None
        finally:
            self.s.settimeout(old)

    def closed_within(self, timeout):
        """True once the target closes this connection (within timeout s)."""
        self.s.settimeout(timeout)
        try:
            while True:
                self.rx()
        except (Closed, ConnectionError):
            return True
        except (socket.timeout, OSError):
            return False

    # ---- PDUs ----
    def icreq(self):
        self.s.sendall(struct.pack("<BBBBIHBBI", 0, 0, 128, 0, 128, 0, 0, 0, 0) + b"\0" * 112)
        r = self.recvn(128)
        if r[0] != 1:
            raise Closed("no ICResp")

    def cid(self):
        self.next_cid = 16 + (self.next_cid - 15) % 60000
        return self.next_cid

    def send_cmd(self, opc, nsid=0, cdw=(), sgl_len=0, icd=b"", fctype=None, tail=None,
                 cid=None):
        cid = self.cid() if cid is None else cid
        sqe = bytearray(64)
        struct.pack_into("<BBHI", sqe, 0, opc, 0x40, cid, nsid)
        if fctype is not None:
            sqe[4] = fctype
        if icd:
            struct.pack_into("<QI", sqe, 24, 0, len(icd))
            sqe[39] = 0x01   # data block, offset: in-capsule
        else:
            struct.pack_into("<QI", sqe, 24, 0, sgl_len)
            sqe[39] = 0x5A   # transport data block
        if tail is not None:
            sqe[40:40 + len(tail)] = tail
        else:
            cdw = tuple(cdw) + (0,) * (6 - len(cdw))
            struct.pack_into("<6I", sqe, 40, *cdw)
        hlen = 72
        pdo = hlen if icd else 0
        self.s.sendall(struct.pack("<BBBBI", 4, 0, hlen, pdo, hlen + len(icd)) + bytes(sqe) + icd)
        return cid

    def cmd(self, opc, **kw):
        return self.wait(self.send_cmd(opc, **kw))

    # ---- Fabrics ----
    def connect(self, qid=0, sqsize=31, cntlid=0xFFFF, kato=0):
        data = HOSTID + struct.pack("<H", cntlid) + b"\0" * 238
        data += self.subnqn.ljust(256, b"\0") + self.hostnqn.ljust(256, b"\0") + b"\0" * 256
        tail = struct.pack("<HHHBBI", 0, qid, sqsize, 0, 0, kato)
        st, dw0, _ = self.cmd(0x7F, fctype=1, icd=data, tail=tail)
        if st == 0 and qid == 0:
            self.cntlid = dw0 & 0xFFFF
        return st, dw0

    def prop_set(self, ofst, val):
        return self.cmd(0x7F, fctype=0, tail=struct.pack("<B3xIQ", 0, ofst, val))[0]

    # ---- admin ----
    def identify(self, cns, nsid=0):
        return self.cmd(0x06, nsid=nsid, cdw=(cns,), sgl_len=4096)

    def get_log(self, lid, length, nsid=0xFFFFFFFF, rae=False, offset=0):
        numd = length // 4 - 1
        cdw10 = lid | (1 << 15 if rae else 0) | ((numd & 0xFFFF) << 16)
        return self.cmd(0x02, nsid=nsid, cdw=(cdw10, numd >> 16, offset & 0xFFFFFFFF,
                                              offset >> 32), sgl_len=length)

    def set_features(self, fid, val):
        return self.cmd(0x09, cdw=(fid, val))

    def aer(self):
        """Send an Asynchronous Event Request; its CID (wait or poll on it)."""
        return self.send_cmd(0x0C)

    def active_nsids(self):
        st, _, d = self.identify(0x02)
        if st != 0:
            raise Closed("Identify CNS 02h: status %#x" % st)
        ids = struct.unpack("<1024I", d[:4096])
        return [i for i in ids if i]

    # ---- I/O ----
    def write(self, nsid, slba, data, block=512):
        return self.cmd(0x01, nsid=nsid, cdw=(slba & 0xFFFFFFFF, slba >> 32,
                                              len(data) // block - 1), icd=data)[0]

    def read(self, nsid, slba, nbytes, block=512):
        st, _, d = self.cmd(0x02, nsid=nsid, cdw=(slba & 0xFFFFFFFF, slba >> 32,
                                                  nbytes // block - 1), sgl_len=nbytes)
        return st, d

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def admin(port, subnqn, hostnqn, kato=0, queues=1):
    """An enabled admin queue (CC.EN = 1), queues I/O queues granted (0: none asked)."""
    a = Q(port, subnqn, hostnqn)
    a.icreq()
    st, _ = a.connect(kato=kato)
    if st != 0:
        a.close()
        raise Closed("admin Connect: status %#x" % st)
    a.prop_set(0x14, 1 | (6 << 16) | (4 << 20))
    if queues:
        a.set_features(0x07, ((queues - 1) << 16) | (queues - 1))
    return a


def io(a, port, qid=1, sqsize=63):
    q = Q(port, a.subnqn, a.hostnqn)
    q.icreq()
    st, _ = q.connect(qid=qid, sqsize=sqsize, cntlid=a.cntlid)
    if st != 0:
        q.close()
        raise Closed("I/O Connect: status %#x" % st)
    return q


def disc_log(a):
    """(genctr, [(trsvcid, subnqn)]) of the discovery log page (70h)."""
    st, _, d = a.get_log(0x70, 1024, nsid=0)
    if st != 0:
        raise Closed("discovery log: status %#x" % st)
    genctr, numrec = struct.unpack_from("<QQ", d, 0)
    if numrec:
        st, _, d = a.get_log(0x70, 1024 * (1 + numrec), nsid=0)
        if st != 0:
            raise Closed("discovery log: status %#x" % st)
        genctr = struct.unpack_from("<Q", d, 0)[0]
    recs = []
    for i in range(numrec):
        e = d[1024 * (i + 1):1024 * (i + 2)]
        recs.append((e[32:64].rstrip(b"\0 ").decode(), e[256:512].rstrip(b"\0").decode()))
    return genctr, recs
