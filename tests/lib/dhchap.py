"""
DH-HMAC-CHAP for the raw test host (NVMe Base 2.0 8.13.5), written from the
specification with python's hashlib / hmac and pow(): secrets in the DHHC-1
format, the key transformation, the responses R1 / R2, the augmented
challenge with ffdhe2048 (RFC 7919), and the AUTH Send / Receive messages.
An independent implementation, so the tests check the daemon's C code
(transport/dhchap*.c) against a second reading of the specification.
"""
import base64, hashlib, hmac, os, struct, zlib

HASHES = {1: "sha256", 2: "sha384", 3: "sha512"}
FFDHE2048_P = int(
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE"
    "249B3EF97D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3"
    "B557135E7F57C935984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182"
    "B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D70"
    "9E02FCE1CDF7E2ECC03404CD28342F619172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC"
    "2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF", 16)
GROUPS = {1: (FFDHE2048_P, 256)}   # DHGID -> (p, bytes); g = 2

SECP, SPSP = 0xE9, 0x01
AUTH_SEND, AUTH_RECV = 0x05, 0x06
# AUTH_Type / AUTH_Id
COMMON, DHCHAP = 0x00, 0x01
NEGOTIATE, CHALLENGE, REPLY, SUCCESS1, SUCCESS2, FAILURE2, FAILURE1 = \
    0x00, 0x01, 0x02, 0x03, 0x04, 0xF0, 0xF1
SC_AUTH_REQUIRED = 0x191
ATR = 1 << 17


def make_secret(hh=1, key=None):
    """A DHHC-1 secret string and its key bytes."""
    key = key if key is not None else os.urandom(32)
    b = base64.b64encode(key + struct.pack("<I", zlib.crc32(key))).decode()
    return "DHHC-1:%02x:%s:" % (hh, b), key


def transform(hh, key, nqn):
    """8.13.5.8: HMAC-hh(key, NQN || "NVMe-over-Fabrics"), or the key itself (hh 0)."""
    if hh == 0:
        return key
    return hmac.new(key, nqn + b"NVMe-over-Fabrics", HASHES[hh]).digest()


def response(hashid, tkey, chal, seq, tid, who, nqn1, nqn2, sc_c=0):
    """R1 (who "HostHost", NQNh, NQNc) or R2 ("Controller", NQNc, NQNh)."""
    m = chal + struct.pack("<IHB", seq, tid, sc_c) + who + nqn1 + b"\0" + nqn2
    return hmac.new(tkey, m, HASHES[hashid]).digest()


def augmented(hashid, secret, chal):
    """8.13.5.5: Ca = HMAC(H(g^xy mod p), C)."""
    h = hashlib.new(HASHES[hashid], secret).digest()
    return hmac.new(h, chal, HASHES[hashid]).digest()


def negotiate(tid, hashes=(1, 2, 3), groups=(0, 1, 2, 3, 4, 5), sc_c=0, napd=1, authid=1,
              halen=None, dhlen=None):
    """AUTH_Negotiate with one DH-HMAC-CHAP protocol descriptor."""
    d = struct.pack("<BBBB", authid, 0, len(hashes) if halen is None else halen,
                    len(groups) if dhlen is None else dhlen)
    d += bytes(hashes).ljust(30, b"\0") + bytes(groups).ljust(30, b"\0")
    return struct.pack("<BBxxHBB", COMMON, NEGOTIATE, tid, sc_c, napd) + d


def parse_challenge(b):
    """(tid, hl, hashid, dhgid, seq, c1, dhv) of a DH-HMAC-CHAP_Challenge."""
    t, i, tid, hl, hashid, dhgid, dhvlen, seq = struct.unpack_from("<BBxxHBxBBHI", b, 0)
    if (t, i) != (DHCHAP, CHALLENGE):
        raise ValueError("not a Challenge: type %d id %#x" % (t, i))
    return tid, hl, hashid, dhgid, seq, b[16:16 + hl], b[16 + hl:16 + hl + dhvlen]


def reply(tid, r1, c2=None, s2=0, dhv=b"", hl=None, dhvlen=None):
    """DH-HMAC-CHAP_Reply: R1, C2 (bidirectional when given, with S2), the host's DH value."""
    hl = len(r1) if hl is None else hl
    cv = c2 if c2 is not None else b"\0" * len(r1)
    return struct.pack("<BBxxHBxBxHI", DHCHAP, REPLY, tid, hl, 1 if c2 else 0,
                       len(dhv) if dhvlen is None else dhvlen, s2) + r1 + cv + dhv


def success2(tid):
    return struct.pack("<BBxxH", DHCHAP, SUCCESS2, tid) + b"\0" * 10


def failure2(tid, expl=1):
    return struct.pack("<BBxxHBB", COMMON, FAILURE2, tid, 1, expl)


def msg_kind(b):
    """(auth_type, auth_id) of a received message."""
    return b[0], b[1]


def auth_tail(xl):
    """SQE bytes 40..47 of AUTH Send / Receive: SPSP0, SPSP1, SECP, TL / AL."""
    return struct.pack("<BBBBI", 0, SPSP, SPSP, SECP, xl)


class Host:
    """One host's side of a transaction over a nvmftcp.Queue (qid any)."""

    def __init__(self, q, key_str, hostnqn, subnqn, ctrl_key_str=None):
        self.q = q
        self.hh, self.key = parse_secret(key_str)
        self.ck = parse_secret(ctrl_key_str) if ctrl_key_str else None
        self.hostnqn, self.subnqn = hostnqn, subnqn

    def send(self, msg, tl=None, sgl_len=None, tail=None):
        """AUTH Send with msg in the capsule: its status."""
        st, _, _ = self.q.wait(self.q.cmd(0x7F, fctype=AUTH_SEND, icd=msg,
                                          tail=tail or auth_tail(len(msg) if tl is None else tl),
                                          sgl_len=sgl_len))
        return st

    def recv(self, al=4096, tail=None):
        """AUTH Receive: (status, data)."""
        st, _, d = self.q.wait(self.q.cmd(0x7F, fctype=AUTH_RECV, sgl_len=al,
                                          tail=tail or auth_tail(al)))
        return st, d

    def compute_reply(self, ch, tid, bidi=False):
        """The Reply for a parsed Challenge; (msg, expected R2 or None)."""
        ctid, hl, hashid, dhgid, seq, c1, dhv = ch
        secret = b""
        mydhv = b""
        if dhgid:
            p, n = GROUPS[dhgid]
            x = int.from_bytes(os.urandom(n), "big") % (p - 2) + 1
            mydhv = pow(2, x, p).to_bytes(n, "big")
            secret = pow(int.from_bytes(dhv, "big"), x, p).to_bytes(n, "big")
        chal = augmented(hashid, secret, c1) if dhgid else c1
        r1 = response(hashid, transform(self.hh, self.key, self.hostnqn), chal, seq, tid,
                      b"HostHost", self.hostnqn, self.subnqn)
        if not bidi:
            return reply(tid, r1, dhv=mydhv), None
        c2 = os.urandom(hl)
        s2 = 0x12345678
        ch2 = augmented(hashid, secret, c2) if dhgid else c2
        hh, ck = self.ck
        r2 = response(hashid, transform(hh, ck, self.subnqn), ch2, s2, tid, b"Controller",
                      self.subnqn, self.hostnqn)
        return reply(tid, r1, c2=c2, s2=s2, dhv=mydhv), r2

    def authenticate(self, tid=0, hashes=(1,), groups=(1,), bidi=False):
        """A whole transaction; returns "ok" or what went wrong."""
        st = self.send(negotiate(tid, hashes, groups))
        if st:
            return "negotiate status %#x" % st
        st, d = self.recv()
        if st:
            return "challenge status %#x" % st
        if msg_kind(d) == (COMMON, FAILURE1):
            return "failure1 %d" % d[7]
        msg, r2 = self.compute_reply(parse_challenge(d), tid, bidi)
        st = self.send(msg)
        if st:
            return "reply status %#x" % st
        st, d = self.recv()
        if st:
            return "success1 status %#x" % st
        if msg_kind(d) == (COMMON, FAILURE1):
            return "failure1 %d" % d[7]
        if msg_kind(d) != (DHCHAP, SUCCESS1):
            return "not success1: %r" % d[:8]
        if bidi:
            hl = d[6]
            if d[8] != 1 or not hmac.compare_digest(d[16:16 + hl], r2):
                return "wrong R2"
            st = self.send(success2(tid))
            if st:
                return "success2 status %#x" % st
        return "ok"


def parse_secret(s):
    """(hh, key) of a DHHC-1 string."""
    parts = s.strip().split(":")
    raw = base64.b64decode(parts[2])
    key, crc = raw[:-4], struct.unpack("<I", raw[-4:])[0]
    assert zlib.crc32(key) == crc, "bad CRC"
    return int(parts[1], 16), key
