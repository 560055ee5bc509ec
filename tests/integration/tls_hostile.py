#!/usr/bin/env python3
"""
Integration test: TLS ports (tls_listen, NVMe/TCP 1.1 3.6.1) against good and
hostile peers. tls_peer (tls_peer.c, libnvmf's client session) does the TLS
side; plain sockets do the rest.

    tls_hostile.py BUILD/daemon/nvmfd BUILD/tests/integration/tls_peer [BUILD/tools/nvmf-stat [BUILD/tools/nvmf-perf]]

Good: a SHA-256 and a SHA-384 PSK, NVMe1 identities (digest) and NVMe0 ones
(tls_psk_derivation = rfc8446 for that host), handshake + ICReq / ICResp.
Hostile, each on its own connection, each ending that connection with a log
line naming the peer and the reason, counted on the listener:
  an unknown identity; a wrong PSK; a plain ICReq on the TLS port; a TLS
  ClientHello on the plain port; a corrupted record and a truncated one
  after the handshake; a ClientHello and then silence (icreq_timeout 1 s).
A KeyUpdate from the host (update_requested) is answered and the queue goes
on; its close_notify ends the connection cleanly. With nvmf-perf: 128 KiB
and 4 KiB writes and verified reads over TLS (records sealed and opened by
nvmfd in user space where the kernel has no TLS). With nvmf-stat: the TLS
port's counters (--json and the table) and the plain port's.
Then SIGHUP with a new key: the old key is refused, the new one works.
The daemon serves throughout and exits cleanly; its summary line at the stop
counts every kind.

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd or tls_peer.
"""
import base64, os, socket, struct, subprocess, sys, tempfile, time, zlib
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import Daemon, icreq_pdu  # noqa: E402

NVMFD = nvmfd_arg()
PEER = sys.argv[2] if len(sys.argv) > 2 else ""
STAT = sys.argv[3] if len(sys.argv) > 3 else ""
PERF = sys.argv[4] if len(sys.argv) > 4 else ""
if not os.access(PEER, os.X_OK):
    print("1..0 # SKIP tls_peer is not built (%s)" % PEER)
    sys.exit(77)

PORT, TLS_PORT, DPORT = free_ports(3)
SUB = "nqn.2026-11.io.nvmfd:tls-hostile"
H1 = "nqn.2026-11.io.nvmfd:tls-host1"   # SHA-256 key
H2 = "nqn.2026-11.io.nvmfd:tls-host2"   # SHA-384 key
H0 = "nqn.2026-11.io.nvmfd:tls-host0"   # NVMe0 identities, rfc8446
UNKNOWN = "nqn.2026-11.io.nvmfd:tls-stranger"


def psk(n, hh):
    k = os.urandom(n)
    return "NVMeTLSkey-1:%02d:%s:" % (hh, base64.b64encode(k + struct.pack("<I", zlib.crc32(k))).decode())


K1, K2, K0, WRONG, K1_NEW = psk(32, 1), psk(48, 2), psk(32, 1), psk(32, 1), psk(32, 1)


def conf(k1):
    return """[nvmfd]
listen = 127.0.0.1:%d
tls_listen = 127.0.0.1:%d
discovery_listen = 127.0.0.1:%d
workers = 2
state_dir = %s
icreq_timeout = 1s
log_level = info

[subsystem %s]
allow_host = any

[namespace %s 1]
path = ram:16M

[host %s]
tls_key = %s

[host %s]
tls_key = %s

[host %s]
tls_key = %s
tls_psk_derivation = rfc8446
""" % (PORT, TLS_PORT, DPORT, state, SUB, SUB, H1, k1, H2, K2, H0, K0)


def peer(mode, host, key, port=None, version=1, timeout=20):
    p = subprocess.run([PEER, mode, str(port or TLS_PORT), host, SUB, key, str(version)],
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).strip()


def logged(d, *needles, since=0):
    """The first daemon log line after since containing every needle ('' if none)."""
    deadline = time.time() + 5
    while time.time() < deadline:
        for line in d.text().splitlines()[since:]:
            if all(n in line for n in needles):
                return line
        time.sleep(0.1)
    return ""


def mark(d):
    return len(d.text().splitlines())


work = tempfile.mkdtemp(prefix="nvmfd-tls-hostile.")
state = os.path.join(work, "state")
os.mkdir(state)
d = Daemon(NVMFD, work, conf(K1), TLS_PORT)

# ---- good peers ---------------------------------------------------------------
for label, host, key, ver, cipher in (
        ("SHA-256 PSK, NVMe1R01", H1, K1, 1, "TLS_AES_128_GCM_SHA256"),
        ("SHA-384 PSK, NVMe1R02", H2, K2, 1, "TLS_AES_256_GCM_SHA384"),
        ("SHA-256 PSK, NVMe0R01 (tls_psk_derivation = rfc8446)", H0, K0, 0,
         "TLS_AES_128_GCM_SHA256")):
    rc, out = peer("hello", host, key, version=ver)
    check("handshake and ICReq/ICResp over TLS: %s" % label,
          rc == 0 and out.startswith("ok " + cipher), out)

# ---- refusals -------------------------------------------------------------------
m = mark(d)
rc, out = peer("hello", UNKNOWN, K1)
line = logged(d, "TLS handshake refused", UNKNOWN, "[unknown identity]", since=m)
check("an unknown identity is refused and logged with the host and reason",
      rc == 0 and out.startswith("refused") and line, "%s | log: %s" % (out, line))

m = mark(d)
rc, out = peer("hello", H1, WRONG)
line = logged(d, "TLS handshake refused", H1, "[wrong key]", since=m)
check("a wrong PSK is refused and logged", rc == 0 and out.startswith("refused") and line,
      "%s | log: %s" % (out, line))

m = mark(d)
s = socket.create_connection(("127.0.0.1", TLS_PORT), timeout=5)
s.sendall(icreq_pdu())
try:
    got = s.recv(1)
except ConnectionResetError:
    got = b""
s.close()
line = logged(d, "not TLS on a TLS port", "plain ICReq", since=m)
check("a plain ICReq on the TLS port: closed without an answer, logged",
      got == b"" and line, "got %r | log: %s" % (got, line))

m = mark(d)
rc, out = peer("hello", H1, K1, port=PORT)
line = logged(d, "TLS ClientHello on a port without TLS", since=m)
check("a ClientHello on the plain port: closed, logged", rc != 0 or "refused" in out and line,
      "%s | log: %s" % (out, line))
check("... logged with the peer's address", "127.0.0.1:" in line, line)

m = mark(d)
rc, out = peer("corrupt", H1, K1)
line = logged(d, "bad record", since=m)
check("a corrupted record after the handshake: closed, logged",
      rc == 0 and out.startswith("closed") and line, "%s | log: %s" % (out, line))

m = mark(d)
rc, out = peer("truncate", H1, K1)
line = logged(d, "[bad record]", since=m)
check("a truncated record and a FIN: closed, logged", rc == 0 and out.startswith("closed") and line,
      "%s | log: %s" % (out, line))

m = mark(d)
rc, out = peer("stall", H1, K1)
line = logged(d, "TLS handshake not finished within icreq_timeout", since=m)
ms = int(out.split()[2]) if out.startswith("closed after") else -1
check("a ClientHello, then silence: closed after icreq_timeout (1 s), logged",
      rc == 0 and 900 <= ms <= 5000 and line, "%s | log: %s" % (out, line))

# ---- KeyUpdate, close_notify ------------------------------------------------------
m = mark(d)
rc, out = peer("keyupdate", H1, K1)
check("a KeyUpdate (update_requested) is answered, the ICReq after it gets its ICResp, "
      "close_notify closes", rc == 0 and out.startswith("ok ") and "closed after" in out, out)
line = logged(d, "TLS (host", since=m)
check("... with no TLS error logged", not line, line)

# ---- data over TLS ------------------------------------------------------------
if os.access(PERF, os.X_OK):
    kf = os.path.join(work, "k1")
    with open(kf, "w") as f:
        f.write(K1 + "\n")
    os.chmod(kf, 0o600)
    for args in (["-w", "write", "-o", "128k", "-q", "8", "--fill"], ["-w", "read", "-o", "128k", "-q", "8"],
                 ["-w", "randrw", "-o", "4k", "-q", "16", "-g", "-G"]):
        p = subprocess.run([PERF, "--verify", "-t", "1", "--hostnqn", H1, "--tls-key", "@" + kf] + args +
                           ["127.0.0.1:%d" % TLS_PORT, SUB], capture_output=True, text=True, timeout=60)
        tail = (p.stdout + p.stderr).strip().splitlines()[-1:] or [""]
        check("nvmf-perf %s over TLS: verified" % " ".join(args),
              p.returncode == 0 and " 0 mismatches" in tail[0], tail[0])

# ---- nvmf-stat: the ports' TLS counters -------------------------------------------
if os.access(STAT, os.X_OK):
    import json
    base = ["-q", H1, "-t", "10"]
    p = subprocess.run([STAT, "--json", "--tls-key", K1] + base + ["127.0.0.1:%d" % TLS_PORT, SUB],
                       capture_output=True, text=True, timeout=60)
    try:
        port = json.loads(p.stdout)["subsystems"][0]["port"]
    except (ValueError, KeyError, IndexError):
        port = {}
    fails = port.get("tls_failures", {})
    want = {"unknown_identity": 1, "wrong_key": 1, "not_tls": 1, "bad_record": 2,
            "handshake_timeout": 1, "tls_on_plain_port": 0}
    check("nvmf-stat --json: the TLS port's handshakes and failures by reason",
          p.returncode == 0 and port.get("tls") is True and port.get("tls_handshakes", 0) >= 5 and
          all(fails.get(k) == v for k, v in want.items()), "%s %s" % (port, p.stderr.strip()))
    p = subprocess.run([STAT, "--tls-key", K1] + base + ["127.0.0.1:%d" % TLS_PORT, SUB],
                       capture_output=True, text=True, timeout=60)
    line = [l for l in p.stdout.splitlines() if l.startswith("port 127.0.0.1:%d (TLS): " % TLS_PORT)]
    check("nvmf-stat: the table's port line says the same",
          p.returncode == 0 and line and "bad record 2" in line[0] and "wrong key 1" in line[0],
          p.stdout.strip().replace("\n", " | "))
    p = subprocess.run([STAT, "--json"] + base + ["127.0.0.1:%d" % PORT, SUB],
                       capture_output=True, text=True, timeout=60)
    try:
        port = json.loads(p.stdout)["subsystems"][0]["port"]
    except (ValueError, KeyError, IndexError):
        port = {}
    check("nvmf-stat --json on the plain port: tls false, the ClientHello it refused",
          p.returncode == 0 and port.get("tls") is False and
          port.get("tls_failures", {}).get("tls_on_plain_port") == 1, "%s" % port)

# ---- key rotation ---------------------------------------------------------------
with open(d.conf, "w") as f:
    f.write(conf(K1_NEW))
m = mark(d)
d.p.send_signal(1)  # SIGHUP
logged(d, "reload", since=m)
time.sleep(0.5)
rc, out = peer("hello", H1, K1)
check("after SIGHUP the old key is refused", rc == 0 and out.startswith("refused"), out)
rc, out = peer("hello", H1, K1_NEW)
check("after SIGHUP the new key works", rc == 0 and out.startswith("ok "), out)

check("nvmfd still runs", d.alive())
rc = d.stop()
check("SIGTERM: nvmfd exits 0", rc == 0, "exit %s" % rc)
text = d.text()
summary = [l for l in text.splitlines() if "127.0.0.1:%d: " % TLS_PORT in l and "TLS handshake" in l]
last = summary[-1] if summary else ""
want = ("unknown identity 1", "wrong key 2", "not TLS 1", "bad record 2", "handshake timeout 1")
check("the summary line at the stop counts each kind: %s" % last,
      all(w in last for w in want), "want %s" % (want,))
plain = [l for l in text.splitlines() if "127.0.0.1:%d: " % PORT in l and "TLS on a plain port 1" in l]
check("... and the plain port's: TLS on a plain port 1", plain, "")
bad = d.sanitizer_lines()
check("no sanitizer report in the daemon's log", not bad, " | ".join(bad[:5]))
from taplib import done  # noqa: E402
done(work)
