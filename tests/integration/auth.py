#!/usr/bin/env python3
"""
Integration test: DH-HMAC-CHAP in-band authentication (NVMe Base 2.0 8.13)
with a raw host (tests/lib/dhchap.py, an independent python implementation):
the ATR bit of the Connect answer, the gate (Authentication Required for
anything but AUTH Send / Receive), unidirectional and bidirectional
transactions with the null group and ffdhe2048, every I/O queue
authenticating, re-authentication, and the hostile cases: messages out of
order, wrong lengths and command fields, unknown hash or group ids, a wrong
response, a replayed response, oversized or degenerate DH values, a host
that never finishes (auth_timeout closes the queue), AUTH_Failure2;
require_auth; the per-address backoff; the failure counter (log page C0h);
a key rotated by SIGHUP.

Each failing case runs from its own 127.0.0.x source address, so one case's
backoff window does not touch the next.

    auth.py BUILD/daemon/nvmfd

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd.
"""
import os, signal, struct, sys, tempfile, time, traceback
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg, results  # noqa: E402
from nvmftcp import (  # noqa: E402
    CC_ENABLE, HOSTNQN, SC_CONNECT_HOST, SC_INVALID_FIELD, SC_SGL_DATA_LEN, Closed, Daemon,
    Queue, expect_closed, rw_cdw)
import dhchap  # noqa: E402
from dhchap import (  # noqa: E402
    ATR, COMMON, DHCHAP, FAILURE1, SC_AUTH_REQUIRED, SUCCESS1, Host, auth_tail, negotiate,
    parse_challenge, reply)

NVMFD = nvmfd_arg()
PORT, DPORT = free_ports(2)
SUB = b"nqn.2026-11.io.nvmfd:auth"
SUB_REQ = b"nqn.2026-11.io.nvmfd:auth-required"
NOKEY = b"nqn.2014-08.org.nvmexpress:uuid:22222222-2222-3333-4444-555555555555"
HOST2 = b"nqn.2014-08.org.nvmexpress:uuid:33333333-2222-3333-4444-555555555555"  # no ctrl key
AUTH_TIMEOUT_S = 2
_src = [10]
failures = [0]   # failed transactions the daemon should have counted


def src():
    """A source address of its own (127.0.0.10, .11, ...)."""
    _src[0] += 1
    return "127.0.0.%d" % _src[0]


def connect(sub=SUB, host=HOSTNQN, qid=0, cntlid=0xFFFF, addr=None):
    """(queue, status, dw0) of a Connect from addr."""
    q = Queue(PORT, src=addr or src())
    q.icreq()
    st, dw0 = q.connect(sub, host, qid=qid, cntlid=cntlid)
    return q, st, dw0


def authed_admin(key, addr=None, **kw):
    """An admin queue that authenticated and enabled its controller, with 4 I/O queues."""
    q, st, dw0 = connect(addr=addr)
    if st != 0 or not dw0 & ATR:
        raise Closed("Connect: status %#x dw0 %#x" % (st, dw0))
    r = Host(q, key, HOSTNQN, SUB).authenticate(**kw)
    if r != "ok":
        raise Closed("authentication: " + r)
    if q.prop_set(0x14, CC_ENABLE) != 0 or q.set_features(0x07, 3 << 16 | 3)[0] != 0:
        raise Closed("enable")
    return q


def failure1(h, info):
    """The next AUTH Receive brings AUTH_Failure1, then the target closes: (ok, why)."""
    st, d = h.recv()
    if st != 0 or (d[0], d[1]) != (COMMON, FAILURE1):
        return False, "%s: status %#x, message %r" % (info, st, d[:8])
    ok, why = expect_closed(h.q, 5)
    return ok, "%s: expl %d; %s" % (info, d[7], why)


def expl_of(h):
    st, d = h.recv()
    return d[7] if st == 0 and (d[0], d[1]) == (COMMON, FAILURE1) else None


def fail_case(name, fn):
    """A case that should end in a failed transaction (counted)."""
    try:
        ok, why = fn()
    except Exception as e:
        ok, why = False, "".join(traceback.format_exception_only(type(e), e)).strip()
    if ok:
        failures[0] += 1
    check(name, ok and daemon.alive(), why if daemon.alive() else "nvmfd died")


def main(keys):
    key, ckey, other = keys
    # ---- the good paths ----
    q, st, dw0 = connect()
    check("Connect of a host with a dhchap_key answers ATR (dword 0 bit 17)",
          st == 0 and dw0 & ATR and dw0 & 0xFFFF, "status %#x dw0 %#x" % (st, dw0))
    st, _ = q.identify(1)
    check("Identify before authenticating: Authentication Required (1h/91h)",
          st is not None and st & 0x7ff == SC_AUTH_REQUIRED, "status %r" % st)
    st = q.prop_set(0x14, CC_ENABLE)
    check("Property Set before authenticating: Authentication Required",
          st & 0x7ff == SC_AUTH_REQUIRED, "status %#x" % st)
    h = Host(q, key, HOSTNQN, SUB)
    r = h.authenticate(hashes=(1,), groups=(0,))
    check("unidirectional, SHA-256, null group: authenticated", r == "ok", r)
    st = q.prop_set(0x14, CC_ENABLE)
    check("Property Set (CC.EN) after authenticating", st == 0, "status %#x" % st)
    st, d = q.identify(1)
    check("Identify after authenticating", st == 0 and len(d) == 4096, "status %r" % st)
    r = h.authenticate(tid=1, hashes=(3,), groups=(1,))
    check("re-authentication on the same queue (SHA-512, ffdhe2048)", r == "ok", r)
    q.close()

    a = authed_admin(key, hashes=(2,), groups=(1,))
    check("SHA-384, ffdhe2048: authenticated, controller enabled", True)
    io, st, dw0 = connect(qid=1, cntlid=a.cntlid)
    check("I/O queue Connect answers ATR too", st == 0 and dw0 & ATR, "%#x %#x" % (st, dw0))
    st, _, _ = io.wait(io.cmd(0x02, nsid=1, cdw=rw_cdw(0, 1), sgl_len=512))
    check("Read on an I/O queue before it authenticated: Authentication Required",
          st & 0x7ff == SC_AUTH_REQUIRED, "status %#x" % st)
    hi = Host(io, key, HOSTNQN, SUB, ckey)
    r = hi.authenticate(tid=7, hashes=(1,), groups=(1,), bidi=True)
    check("the I/O queue authenticates, bidirectionally (R2 checked)", r == "ok", r)
    data = os.urandom(4096)
    ok = io.write(8, data) == 0 and io.read(8, 8) == (0, data)
    check("then it writes and reads back", ok)
    io.close()

    # ---- command fields (a status, the queue lives on) ----
    q, _, _ = connect()
    h = Host(q, key, HOSTNQN, SUB)
    m = negotiate(0)
    st = h.send(m, tl=len(m) + 4)
    check("AUTH Send with TL other than the SGL length: SGL Data Length Invalid",
          st & 0x7ff == SC_SGL_DATA_LEN, "status %#x" % st)
    st = h.send(m, tl=0, sgl_len=len(m))
    check("AUTH Send with TL 0: Invalid Field", st & 0x7ff == SC_INVALID_FIELD, "%#x" % st)
    st = h.send(m, tail=struct.pack("<BBBBI", 0, 1, 1, 0xEA, len(m)))
    check("AUTH Send with SECP EAh: Invalid Field", st & 0x7ff == SC_INVALID_FIELD, "%#x" % st)
    st = h.send(m, tail=struct.pack("<BBBBI", 0, 2, 1, 0xE9, len(m)))
    check("AUTH Send with SPSP0 2: Invalid Field", st & 0x7ff == SC_INVALID_FIELD, "%#x" % st)
    st, _ = h.recv(al=0, tail=auth_tail(0))
    check("AUTH Receive with AL 0: Invalid Field", st & 0x7ff == SC_INVALID_FIELD, "%#x" % st)
    r = h.authenticate()
    check("after those refusals the queue still authenticates", r == "ok", r)
    q.close()

    # the data of AUTH Send may come with R2T / H2CData instead of in the capsule
    q, _, _ = connect()
    h = Host(q, key, HOSTNQN, SUB)
    m = negotiate(0, (1,), (0,))
    cid = q.new_cid()
    q.pending[cid] = m
    q.send(q.capsule(0x7F, cid, fctype=dhchap.AUTH_SEND, sgl_type=0x5A, sgl_len=len(m),
                     tail=auth_tail(len(m))))
    st, _, _ = q.wait(cid)
    st2, d = h.recv()
    check("AUTH_Negotiate sent through R2T / H2CData: the Challenge follows",
          st == 0 and st2 == 0 and (d[0], d[1]) == (DHCHAP, dhchap.CHALLENGE),
          "status %#x / %#x" % (st, st2))
    q.close()

    # ---- hostile transactions (each fails, is counted, closes the queue) ----
    def out_of_order_reply():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        st = h.send(reply(0, b"\0" * 32))
        return failure1(h, "Send status %#x" % st) if st == 0 else (False, "%#x" % st)
    fail_case("a Reply before AUTH_Negotiate: AUTH_Failure1, queue closed", out_of_order_reply)

    def recv_first():
        q, _, _ = connect()
        return failure1(Host(q, key, HOSTNQN, SUB), "")
    fail_case("AUTH Receive with nothing due: AUTH_Failure1, queue closed", recv_first)

    def success2_early():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0, (1,), (0,)))
        h.recv()
        h.send(dhchap.success2(0))
        return failure1(h, "")
    fail_case("Success2 instead of the Reply: AUTH_Failure1", success2_early)

    def short_negotiate():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0)[:20])
        e = expl_of(h)
        return e == 6, "explanation %r (want 6, incorrect payload)" % e
    fail_case("a truncated AUTH_Negotiate: Failure1, incorrect payload", short_negotiate)

    def unknown_hash():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0, hashes=(9, 0xff), groups=(1,)))
        e = expl_of(h)
        return e == 4, "explanation %r (want 4, hash unusable)" % e
    fail_case("only unknown hash ids: Failure1, hash function not usable", unknown_hash)

    def unknown_group():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0, hashes=(1,), groups=(6, 0x20)))
        e = expl_of(h)
        return e == 5, "explanation %r (want 5, DH group not usable)" % e
    fail_case("only unknown DH group ids: Failure1, DH group not usable", unknown_group)

    def wrong_key():
        q, _, _ = connect()
        r = Host(q, other, HOSTNQN, SUB).authenticate()
        return r == "failure1 1", r
    fail_case("a wrong response (another key): Failure1, authentication failed", wrong_key)

    def replay():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0, (1,), (0,)))
        _, d = h.recv()
        msg, _ = h.compute_reply(parse_challenge(d), 0)
        h.send(msg)
        _, d = h.recv()
        if (d[0], d[1]) != (DHCHAP, SUCCESS1):
            return False, "the first transaction failed"
        q2, _, _ = connect()
        h2 = Host(q2, key, HOSTNQN, SUB)
        h2.send(negotiate(0, (1,), (0,)))
        h2.recv()
        h2.send(msg)   # the response to the first connection's challenge
        st, d = h2.recv()
        q.close()
        ok = (d[0], d[1]) == (COMMON, FAILURE1) and d[7] == 1
        return ok and expect_closed(q2, 5)[0], "message %r" % d[:8]
    fail_case("a replayed Reply (another challenge's response): Failure1", replay)

    def replay_same():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0, (1,), (0,)))
        _, d = h.recv()
        msg, _ = h.compute_reply(parse_challenge(d), 0)
        h.send(msg)
        h.recv()
        h.send(msg)  # the same Reply again, after Success1
        return failure1(h, "")
    fail_case("the same Reply sent twice: Failure1 (incorrect protocol message)", replay_same)

    def oversized_dh():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0, (1,), (1,)))
        _, d = h.recv()
        h.send(reply(0, b"\0" * 32, dhv=b"\x05" * 512))
        e = expl_of(h)
        return e == 6, "explanation %r (want 6)" % e
    fail_case("a DH value of 512 bytes for ffdhe2048: Failure1, incorrect payload",
              oversized_dh)

    def dhvlen_past_end():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0, (1,), (1,)))
        h.recv()
        h.send(reply(0, b"\0" * 32, dhv=b"\x05" * 16, dhvlen=1024))
        e = expl_of(h)
        return e == 6, "explanation %r (want 6)" % e
    fail_case("DHVLEN past the end of the message: Failure1, incorrect payload",
              dhvlen_past_end)

    for name, val in (("1", 1), ("p - 1", dhchap.FFDHE2048_P - 1)):
        def degenerate(val=val):
            q, _, _ = connect()
            h = Host(q, key, HOSTNQN, SUB)
            h.send(negotiate(0, (1,), (1,)))
            h.recv()
            h.send(reply(0, b"\0" * 32, dhv=val.to_bytes(256, "big")))
            e = expl_of(h)
            return e == 6, "explanation %r (want 6)" % e
        fail_case("a DH value of %s: Failure1, incorrect payload" % name, degenerate)

    def hl_wrong():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0, (1,), (0,)))
        h.recv()
        h.send(reply(0, b"\0" * 64))   # HL 64 where SHA-256 has 32
        e = expl_of(h)
        return e == 6, "explanation %r (want 6)" % e
    fail_case("a Reply with the wrong hash length: Failure1", hl_wrong)

    def failure2():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0, (1,), (0,)))
        h.recv()
        st = h.send(dhchap.failure2(0))
        return st == 0 and expect_closed(q, 5)[0], "status %#x" % st
    fail_case("AUTH_Failure2 from the host: the queue closes", failure2)

    def bidi_without_ctrl_key():
        q, _, _ = connect(sub=SUB_REQ, host=HOST2)
        h = Host(q, key, HOST2, SUB_REQ, ckey)
        r = h.authenticate(bidi=True)
        return r == "failure1 1", r
    fail_case("bidirectional asked where the target has no dhchap_ctrl_key: Failure1",
              bidi_without_ctrl_key)

    def never_starts():
        q, _, _ = connect()
        t0 = time.time()
        ok, why = expect_closed(q, AUTH_TIMEOUT_S + 5)
        dt = time.time() - t0
        return ok and dt >= AUTH_TIMEOUT_S - 0.5, "%s after %.1f s" % (why, dt)
    fail_case("a host that never authenticates: closed after auth_timeout", never_starts)

    def never_finishes():
        q, _, _ = connect()
        h = Host(q, key, HOSTNQN, SUB)
        h.send(negotiate(0, (1,), (1,)))
        h.recv()
        t0 = time.time()
        ok, why = expect_closed(q, AUTH_TIMEOUT_S + 5)
        return ok, "%s after %.1f s" % (why, time.time() - t0)
    fail_case("a host that starts and never finishes: the transaction times out, "
              "queue closed", never_finishes)

    # ---- who may connect ----
    q, st, dw0 = connect(sub=SUB_REQ, host=NOKEY)
    check("require_auth: a host without a dhchap_key is refused (Connect Invalid Host)",
          st is not None and st & 0x7ff == SC_CONNECT_HOST, "status %r" % st)
    q.close()
    q, st, dw0 = connect(sub=SUB_REQ)
    check("require_auth: a host with a key is admitted, ATR set", st == 0 and dw0 & ATR,
          "%r %#x" % (st, dw0))
    q.close()

    # ---- the backoff ----
    addr = src()
    q, _, _ = connect(addr=addr)
    r = Host(q, other, HOSTNQN, SUB).authenticate()
    failures[0] += r == "failure1 1"
    q, _, _ = connect(addr=addr)
    r = Host(q, key, HOSTNQN, SUB).authenticate()
    failures[0] += r.startswith("failure1")
    check("right after a failure, the same address is refused even with the right key",
          r == "failure1 1", r)
    q, _, _ = connect()
    r = Host(q, key, HOSTNQN, SUB).authenticate()
    check("another address is not slowed down", r == "ok", r)
    q.close()
    time.sleep(1.2)
    q, _, _ = connect(addr=addr)
    r = Host(q, key, HOSTNQN, SUB).authenticate()
    check("after the window (1 s) the address authenticates again", r == "ok", r)
    q.close()

    # ---- counted ----
    st, d = a.get_log(0xC0, 512)
    got = struct.unpack_from("<Q", d, 16)[0] if st == 0 and len(d) >= 24 else None
    check("log page C0h counts the subsystem's failed authentications: %r" % got,
          st == 0 and d[:8] == b"NVMFDCNT" and got == failures[0] - 1,
          "want %d (the bidirectional case was another subsystem's)" % (failures[0] - 1))
    st, d = a.get_log(0x00, 1024)
    check("log page C0h is listed as supported", st == 0 and d[4 * 0xC0] & 1, "")

    # ---- SIGHUP rotates the key ----
    new, _ = dhchap.make_secret(3, os.urandom(64))
    with open(os.path.join(work, "hostkey"), "w") as f:
        f.write(new + "\n")
    daemon.p.send_signal(signal.SIGHUP)
    time.sleep(1.5)
    q, _, _ = connect()
    r = Host(q, new, HOSTNQN, SUB).authenticate()
    check("after SIGHUP a new connection authenticates with the new key", r == "ok", r)
    q.close()
    q, _, _ = connect()
    r = Host(q, key, HOSTNQN, SUB).authenticate()
    failures[0] += r == "failure1 1"
    check("and the old key is refused", r == "failure1 1", r)
    st, _ = a.identify(1)
    check("an established controller keeps working", st == 0, "status %r" % st)
    r = Host(a, new, HOSTNQN, SUB).authenticate(tid=9)
    check("and re-authenticates with the new key", r == "ok", r)
    a.close()


work = tempfile.mkdtemp(prefix="nvmfd-auth.")
key, _ = dhchap.make_secret(1)
ckey, _ = dhchap.make_secret(0)
other, _ = dhchap.make_secret(1)
for name, val in (("hostkey", key), ("ctrlkey", ckey)):
    p = os.path.join(work, name)
    with open(p, "w") as f:
        f.write(val + "\n")
    os.chmod(p, 0o600)
conf = """[nvmfd]
listen = 127.0.0.1:%d
discovery_listen = 127.0.0.1:%d
workers = 2
state_dir = %s
auth_timeout = %ds
log_level = info

[subsystem %s]
allow_host = %s

[namespace %s 1]
path = ram:16M

[subsystem %s]
allow_host = any
require_auth = yes

[namespace %s 1]
path = ram:1M

[host %s]
dhchap_key = @%s/hostkey
dhchap_ctrl_key = @%s/ctrlkey

[host %s]
dhchap_key = @%s/hostkey
dhchap_hashes = sha256
dhchap_dhgroups = ffdhe2048
""" % (PORT, DPORT, work, AUTH_TIMEOUT_S, SUB.decode(), HOSTNQN.decode(), SUB.decode(),
       SUB_REQ.decode(), SUB_REQ.decode(), HOSTNQN.decode(), work, work, HOST2.decode(),
       work)
daemon = Daemon(NVMFD, work, conf, PORT)
try:
    main((key, ckey, other))
except Exception as e:
    check("no unexpected exception", False, "".join(traceback.format_exception(e))[-1500:])
check("nvmfd is still running", daemon.alive())
daemon.check_stop(5)
log = daemon.text()
n = log.count("authentication of host")
check("every failed authentication logged once: %d lines" % n, n == failures[0],
      "want %d" % failures[0])
check("no secret in the log", key.split(":")[2] not in log and "DHHC-1" not in log)
if not all(results):
    daemon.print_tail(60)
done(work)
