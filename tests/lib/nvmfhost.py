"""A small NVMe/TCP host in Python for the integration tests that need to
behave in ways nvmfdd does not (many connections, silence, half PDUs,
pipelined writes, kill -9): ICReq, Fabrics Connect / Property Set, I/O
commands with in-capsule data or R2T / H2CData, Get Log Page, reads.

    q = Queue(port)            # TCP connect only
    q.icreq()
    a = admin_up(port, subnqn, hostnqn)   # ICReq, Connect, CC.EN, 4 I/O queues
    io = io_up(port, a, qid=1)
    st = io.write(lba, data)   # status (0 = success)
    st, data = io.read(lba, nblocks, block_size)

No digests unless asked; the in-capsule limit is the daemon's default 8k.
"""
import socket
import struct

HOSTID = bytes(range(16))
ICD_MAX = 8192

PDU_ICRESP, PDU_TERM, PDU_CMD, PDU_RSP, PDU_H2C, PDU_C2H, PDU_R2T = 1, 3, 4, 5, 6, 7, 9


class Closed(Exception):
    pass


class Queue:
    def __init__(self, port, host="127.0.0.1", src=None, timeout=10):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        if src is not None:
            self.s.bind((src, 0))
        self.s.connect((host, port))
        self.buf = b""
        self.cid = 0
        self.cntlid = None

    def send(self, b):
        self.s.sendall(b)

    def recvn(self, n):
        while len(self.buf) < n:
            d = self.s.recv(max(65536, n - len(self.buf)))
            if not d:
                raise Closed("closed by the target")
            self.buf += d
        r, self.buf = self.buf[:n], self.buf[n:]
        return r

    def closed_by_peer(self, timeout):
        """True if the target closes (EOF or reset) within timeout seconds."""
        self.s.settimeout(timeout)
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    return True
        except ConnectionResetError:
            return True
        except (socket.timeout, TimeoutError):
            return False

    def icreq(self):
        pdu = struct.pack("<BBBBIHBBI", 0, 0, 128, 0, 128, 0, 0, 0, 0) + b"\0" * 112
        self.send(pdu)
        r = self.recvn(128)
        if r[0] != PDU_ICRESP:
            raise Closed("not an ICResp: type %d" % r[0])
        self.maxh2c = struct.unpack_from("<I", r, 12)[0]

    def pdu(self, ptype, flags, psh, data=b""):
        hlen = 8 + len(psh)
        pdo = hlen if data else 0
        plen = hlen + len(data)
        return struct.pack("<BBBBI", ptype, flags, hlen, pdo, plen) + psh + data

    def next_cid(self):
        self.cid = (self.cid + 1) & 0xFFFF
        return self.cid

    def capsule(self, opc, cid, nsid=0, cdw=(0,) * 6, sgl_len=0, icd=b"", fctype=None,
                tail=None):
        sqe = bytearray(64)
        struct.pack_into("<BBHI", sqe, 0, opc, 0x40, cid, nsid)
        if fctype is not None:
            sqe[4] = fctype
        # SGL: in-capsule data (offset 0) or a transport data block
        struct.pack_into("<QI", sqe, 24, 0, len(icd) if icd else sgl_len)
        sqe[39] = 0x01 if icd else 0x5A
        if tail is not None:
            sqe[40:40 + len(tail)] = tail
        else:
            struct.pack_into("<6I", sqe, 40, *cdw)
        return self.pdu(PDU_CMD, 0, bytes(sqe), icd)

    def rx(self):
        """One PDU: (type, header bytes, data bytes)."""
        ch = self.recvn(8)
        t, fl, hlen, pdo, plen = struct.unpack("<BBBBI", ch)
        rest = self.recvn(plen - 8)
        hdr = ch + rest[:hlen - 8]
        data = b""
        if t == PDU_C2H:
            datal = struct.unpack_from("<I", hdr, 16)[0]
            data = rest[pdo - 8:pdo - 8 + datal]
        elif t == PDU_TERM:
            data = rest[hlen - 8:]
        return t, hdr, data

    @staticmethod
    def parse_rsp(hdr):
        dw0, dw1, sqhd, sqid, cid, st = struct.unpack_from("<IIHHHH", hdr, 8)
        return cid, st >> 1, dw0

    def wait_rsp(self, want_cid, sink=None):
        """Receive until want_cid's response; C2HData goes to sink[cid];
        an R2T is answered from self.pending_h2c[cid]. Returns (status, dw0)."""
        while True:
            t, hdr, data = self.rx()
            if t == PDU_C2H:
                cid, off = struct.unpack_from("<HxxI", hdr, 8)
                if sink is not None:
                    sink.setdefault(cid, bytearray())
                    b = sink[cid]
                    if len(b) < off + len(data):
                        b.extend(b"\0" * (off + len(data) - len(b)))
                    b[off:off + len(data)] = data
                flags = hdr[1]
                if flags & 0x08:  # SUCCESS: no response capsule follows
                    if cid == want_cid:
                        return 0, 0
                continue
            if t == PDU_R2T:
                self.answer_r2t(hdr)
                continue
            if t != PDU_RSP:
                raise Closed("unexpected PDU type %d" % t)
            cid, st, dw0 = self.parse_rsp(hdr)
            if cid == want_cid:
                return st, dw0
            if getattr(self, "others", None) is not None:
                self.others[cid] = (st, dw0)

    def answer_r2t(self, hdr):
        cccid, ttag, off, length = struct.unpack_from("<HHII", hdr, 8)
        data = self.pending_h2c[cccid][off:off + length]
        chunk = self.maxh2c
        for o in range(0, len(data), chunk):
            part = data[o:o + chunk]
            last = o + chunk >= len(data)
            psh = struct.pack("<HHIII", cccid, ttag, off + o, len(part), 0)
            self.send(self.pdu(PDU_H2C, 0x04 if last else 0, psh, part))

    def connect(self, subnqn, hostnqn, qid=0, sqsize=31, cntlid=0xFFFF, kato=0):
        data = HOSTID + struct.pack("<H", cntlid) + b"\0" * 238
        data += subnqn.encode().ljust(256, b"\0") + hostnqn.encode().ljust(256, b"\0")
        data += b"\0" * 256
        tail = struct.pack("<HHHBBI", 0, qid, sqsize, 0, 0, kato)
        cid = self.next_cid()
        self.send(self.capsule(0x7F, cid, fctype=1, icd=data, tail=tail))
        st, dw0 = self.wait_rsp(cid)
        if st == 0:
            self.cntlid = dw0 & 0xFFFF
        return st

    def prop_set(self, ofst, val):
        cid = self.next_cid()
        self.send(self.capsule(0x7F, cid, fctype=0, tail=struct.pack("<B3xIQ", 0, ofst, val)))
        return self.wait_rsp(cid)[0]

    def admin(self, opc, nsid=0, cdw=(0,) * 6, length=0):
        """An admin command reading length bytes: (status, data)."""
        cid = self.next_cid()
        sink = {}
        self.send(self.capsule(opc, cid, nsid=nsid, cdw=cdw, sgl_len=length))
        st, _ = self.wait_rsp(cid, sink)
        return st, bytes(sink.get(cid, b""))

    def get_log(self, lid, length, nsid=0xFFFFFFFF):
        numd = length // 4 - 1
        return self.admin(0x02, nsid=nsid, cdw=(lid | (numd & 0xFFFF) << 16, numd >> 16, 0, 0, 0, 0),
                          length=length)

    # ---- I/O ----
    def rw_capsule(self, opc, cid, lba, nblocks, data=b"", fua=False, nsid=1, length=0):
        cdw12 = (nblocks - 1) | ((1 << 30) if fua else 0)
        cdw = (lba & 0xFFFFFFFF, lba >> 32, cdw12, 0, 0, 0)
        if opc == 0x01 and len(data) <= ICD_MAX:
            return self.capsule(opc, cid, nsid=nsid, cdw=cdw, icd=data)
        if opc == 0x01:
            self.pending_h2c = getattr(self, "pending_h2c", {})
            self.pending_h2c[cid] = data
            return self.capsule(opc, cid, nsid=nsid, cdw=cdw, sgl_len=len(data))
        return self.capsule(opc, cid, nsid=nsid, cdw=cdw, sgl_len=length)

    def write(self, lba, data, bs=512, fua=False, nsid=1):
        cid = self.next_cid()
        self.send(self.rw_capsule(0x01, cid, lba, len(data) // bs, data, fua, nsid))
        return self.wait_rsp(cid)[0]

    def read(self, lba, nblocks, bs=512, nsid=1):
        cid = self.next_cid()
        sink = {}
        self.send(self.rw_capsule(0x02, cid, lba, nblocks, nsid=nsid, length=nblocks * bs))
        st, _ = self.wait_rsp(cid, sink)
        return st, bytes(sink.get(cid, b""))

    def flush(self, nsid=1):
        cid = self.next_cid()
        self.send(self.capsule(0x00, cid, nsid=nsid))
        return self.wait_rsp(cid)[0]

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def admin_up(port, subnqn, hostnqn, src=None, nqueues=4, kato=0):
    a = Queue(port, src=src)
    a.icreq()
    st = a.connect(subnqn, hostnqn, kato=kato)
    if st != 0:
        raise Closed("admin Connect: status %#x" % st)
    st = a.prop_set(0x14, 1 | (6 << 16) | (4 << 20))
    if st != 0:
        raise Closed("CC.EN: status %#x" % st)
    st, _ = a.admin(0x09, cdw=(7, (nqueues - 1) | (nqueues - 1) << 16, 0, 0, 0, 0))
    if st != 0:
        raise Closed("Set Features (queues): status %#x" % st)
    return a


def io_up(port, a, subnqn, hostnqn, qid=1, sqsize=127, src=None):
    q = Queue(port, src=src)
    q.icreq()
    st = q.connect(subnqn, hostnqn, qid=qid, sqsize=sqsize, cntlid=a.cntlid)
    if st != 0:
        raise Closed("I/O Connect (qid %d): status %#x" % (qid, st))
    return q


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


class Daemon:
    """nvmfd on a configuration text, its log in work/nvmfd.log."""

    def __init__(self, nvmfd, work, conf_text, port, name="nvmfd"):
        import subprocess
        import time
        self.conf = "%s/%s.ini" % (work, name)
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.logpath = "%s/%s.log" % (work, name)
        self.log = open(self.logpath, "a+")
        self.p = subprocess.Popen([nvmfd, "-c", self.conf], stdout=self.log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.p.pid
        self.port = port
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if self.p.poll() is not None or time.time() > deadline:
                    raise Closed("nvmfd did not start: " + self.text()[-800:])
                time.sleep(0.1)

    def text(self):
        self.log.flush()
        with open(self.logpath) as f:
            return f.read()

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=10):
        """SIGTERM; the exit status (None if it had to be killed)."""
        import signal
        import subprocess
        if self.p.poll() is not None:
            return self.p.returncode
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None

    def kill9(self):
        """SIGKILL, then wait until the port is closed: the kernel tears an
        io_uring down after the process is gone, and a multishot accept
        keeps the listening socket alive (accepting) until then."""
        import signal
        import time
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                break
            time.sleep(0.05)

    def sanitizer_lines(self):
        return [l for l in self.text().splitlines()
                if "Sanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l]


def sanitized(exe):
    """Whether exe was built with AddressSanitizer (its memory figures differ)."""
    try:
        with open(exe, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False
