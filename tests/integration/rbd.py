#!/usr/bin/env python3
"""
Integration test: RBD namespaces (backend/rbd.c) against a throwaway Ceph
cluster (run under tests/lib/with-ceph.sh, which sets CEPH_CONF).

    rbd.py BUILD/daemon/nvmfd

- --check refuses a writable namespace on an image with the exclusive-lock
  feature (file:line, and what to do), and a missing image;
- two workers, one I/O queue on each (each worker has its own image handle):
  a write through one is read through the other, FUA, Flush, Write Zeroes,
  and what was written is what librbd reads (`rbd export`);
- read_only: writes get Namespace Is Write Protected, reads work;
- `rbd resize` then SIGHUP: Identify Namespace has the new size, I/O past
  the old end works; ceph_id changed then SIGHUP: the RBD namespaces are
  opened anew through the new connection, I/O goes on;
- the OSD stopped (SIGSTOP): reads and writes fail with Internal Path
  Error once the op timeout passes (5 s here, set in the ceph.conf nvmfd
  reads), never hang; the OSD back (SIGCONT): I/O works again;
- the gateway blocklisted by the cluster: commands fail with a status, the
  daemon goes on and stops cleanly.

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd or without a cluster.
"""
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import Closed, Daemon, admin_up, io_up, ns, nvmfd_ini, rw_cdw, subsystem  # noqa: E402

NVMFD = nvmfd_arg()
CEPH_CONF = os.environ.get("CEPH_CONF", "")
if os.environ.get("NVMFD_CEPH_SKIP") or not CEPH_CONF:
    print("1..0 # SKIP %s" % (os.environ.get("NVMFD_CEPH_SKIP") or
                              "no Ceph cluster (CEPH_CONF unset; tests/lib/with-ceph.sh)"))
    sys.exit(77)

SUB = "nqn.2026-11.io.nvmfd:rbd"
HOST = "nqn.2014-08.org.nvmexpress:uuid:dddddddd-0000-0000-0000-0000000000bd"
PID = os.getpid()
IMG_A, IMG_B, IMG_XL = ("rbd/t-%s-%d" % (n, PID) for n in ("a", "b", "xl"))
WP = 0x20           # Namespace Is Write Protected (generic)
PATH_ERR = 0x300    # Internal Path Error (SCT 3h, SC 00h)

work = tempfile.mkdtemp(prefix="nvmfd-rbd.", dir="/var/tmp")
# nvmfd's own ceph.conf: the cluster's, with a short op timeout (what a user
# would set in ceph.conf: nvmfd keeps it, and only defaults Ceph's 0 to 20 s)
conf = os.path.join(work, "ceph.conf")
with open(CEPH_CONF) as f:
    text = f.read()
with open(conf, "w") as f:
    f.write(text.replace("[global]\n", "[global]\nrados osd op timeout = 5\n", 1))


def rbd(*args):
    return subprocess.run(["rbd", "-c", CEPH_CONF] + list(args), check=True,
                          capture_output=True, text=True).stdout


def ceph(*args):
    return subprocess.run(["ceph", "-c", CEPH_CONF] + list(args), capture_output=True,
                          text=True, timeout=60)


rbd("create", "--size", "8M", "--image-feature", "layering", IMG_A)
rbd("create", "--size", "4M", "--image-feature", "layering,exclusive-lock", IMG_XL)
# something known in B, to read through the read-only namespace
with open(os.path.join(work, "b.img"), "wb") as f:
    f.write(b"\x5b" * 4096 + bytes((4 << 20) - 4096))
rbd("import", "--no-progress", "--image-feature", "layering", os.path.join(work, "b.img"), IMG_B)

port, dport = free_ports(2)


def ini(a_ro=False, extra_ns=(), **keys):
    return nvmfd_ini(port, dport, work,
                     subsystem(SUB, ns(1, "rbd:" + IMG_A, read_only=a_ro),
                               ns(2, "rbd:" + IMG_B, read_only=True), *extra_ns),
                     ceph_conf=conf, **keys)


# ---- --check ----
def run_check(text):
    p = os.path.join(work, "check.ini")
    with open(p, "w") as f:
        f.write(text)
    r = subprocess.run([NVMFD, "--check", "-c", p], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


rc, out = run_check(ini(extra_ns=(ns(3, "rbd:" + IMG_XL),)))
check("--check: a writable namespace on an exclusive-lock image is refused, saying why",
      rc == 1 and "exclusive-lock" in out and "check.ini:" in out, out)
rc, out = run_check(ini(extra_ns=(ns(3, "rbd:" + IMG_XL, read_only=True),)))
check("--check: the same image read_only is accepted", rc == 0, out)
rc, out = run_check(ini(extra_ns=(ns(3, "rbd:rbd/no-such-image"),)))
check("--check: a missing image is refused", rc == 1 and "no-such-image" in out, out)

# ---- I/O through two workers' handles ----
d = Daemon(NVMFD, work, ini(), port, "nvmfd")
a = admin_up(port, SUB, HOST)
q1 = io_up(port, a, qid=1)   # worker 0
q2 = io_up(port, a, qid=2)   # worker 1
blk = bytes((i * 7 + 1) & 0xFF for i in range(8192))
st = q1.write(100, blk)
st2, got = q2.read(100, 16)
check("a write through worker 0's handle reads back through worker 1's",
      st == 0 and st2 == 0 and got == blk, (st, st2))
st = q2.write(300, blk, fua=True)
check("FUA write", st == 0, st)
st = q1.wait(q1.cmd(0x00, nsid=1))[0]
check("Flush", st == 0, st)
st = q1.wait(q1.cmd(0x08, nsid=1, cdw=rw_cdw(104, 8)))[0]   # Write Zeroes LBA 104..111
st2, got = q2.read(100, 16)
check("Write Zeroes reads back as zeroes", st == 0 and st2 == 0 and
      got == blk[:2048] + bytes(4096) + blk[6144:], (st, st2))
exp = os.path.join(work, "a.img")
rbd("export", "--no-progress", IMG_A, exp)
with open(exp, "rb") as f:
    f.seek(300 * 512)
    on_osd = f.read(8192)
check("librbd reads what the gateway acknowledged (rbd export)", on_osd == blk)

# ---- read_only ----
st = q1.write(0, blk[:512], nsid=2)
check("read_only namespace: a write gets Namespace Is Write Protected", st & 0x7FF == WP, st)
st, got = q1.read(0, 8, nsid=2)
check("read_only namespace: reads work", st == 0 and got == b"\x5b" * 4096, st)

# ---- growth on reload ----
rbd("resize", "--no-progress", "--size", "12M", IMG_A)
d.p.send_signal(signal.SIGHUP)
deadline = time.time() + 20
while "resized" not in d.text() and time.time() < deadline:
    time.sleep(0.1)
st, idns = a.identify(0x00, nsid=1)
nsze = struct.unpack_from("<Q", idns, 0)[0] if st == 0 else None
check("rbd resize + SIGHUP: Identify Namespace says 12 MiB", nsze == 12 * 2048, nsze)
st = q2.write(10 * 2048, blk)
st2, got = q1.read(10 * 2048, 16)
check("I/O past the old end works on both handles", st == 0 and st2 == 0 and got == blk,
      (st, st2))

# ---- another client name: the RBD namespaces are opened anew through it ----
opened = d.text().count("namespace 1 of %s: rbd:" % SUB)
with open(d.conf, "w") as f:
    f.write(ini(ceph_id="nvmfd-gw"))
d.p.send_signal(signal.SIGHUP)
deadline = time.time() + 30
while d.text().count("namespace 1 of %s: rbd:" % SUB) == opened and time.time() < deadline:
    time.sleep(0.1)
time.sleep(0.5)
check("ceph_id changed + SIGHUP: namespace 1 is opened anew",
      d.text().count("namespace 1 of %s: rbd:" % SUB) == opened + 1)
st = q1.write(16, blk)
st2, got = q2.read(16, 16)
check("... and I/O goes on through the new connection", st == 0 and st2 == 0 and got == blk,
      (st, st2))

# ---- the OSD stops answering ----
rundir = os.path.join(os.path.dirname(CEPH_CONF), "run")
osd_pid = int(open(os.path.join(rundir, "osd.0.pid")).read())
os.kill(osd_pid, signal.SIGSTOP)
try:
    t0 = time.time()
    r = q1.poll(q1.start_read(0, 8), 30)
    t_read = time.time() - t0
    w = q2.poll(q2.start_write(0, blk[:4096]), 30)
    t_write = time.time() - t0 - t_read
finally:
    os.kill(osd_pid, signal.SIGCONT)
check("OSD stopped: a read fails with Internal Path Error in %.1f s (op timeout 5 s)" % t_read,
      r is not None and r[0] & 0x7FF == PATH_ERR, r)
check("OSD stopped: a write fails with Internal Path Error in %.1f s" % t_write,
      w is not None and w[0] & 0x7FF == PATH_ERR, w)
check("OSD stopped: the failures were logged with the errno",
      "Connection timed out" in d.text() and "Internal Path Error" in d.text())
# a loaded machine may take the OSD a while to serve again: what is checked
# is that the gateway recovers by itself once the cluster does
ok = False
t0 = time.time()
while not ok and time.time() < t0 + 150:
    st = q1.write(0, blk[:4096])
    st2, got = q2.read(0, 8)
    ok = st == 0 and st2 == 0 and got == blk[:4096]
    if not ok:
        time.sleep(1)
check("OSD back: I/O works again (after %.0f s)" % (time.time() - t0), ok,
      ceph("-s").stdout.replace("\n", " | "))
st, log = a.get_log(0x01, 64)
check("the error log holds the failures", st == 0 and struct.unpack_from("<Q", log, 0)[0] >= 2)

# ---- the gateway fenced (blocklisted), as a cluster does to a dead gateway ----
watchers = rbd("status", IMG_A)
addrs = sorted({w.split("=")[1].split()[0] for w in watchers.split()
                if w.startswith("watcher=")})
for addr in addrs:
    ceph("osd", "blocklist", "add", addr)
res = []
deadline = time.time() + 30
while time.time() < deadline:
    r = q1.poll(q1.start_write(0, blk[:4096], fua=True), 30)
    res.append(r[0] & 0x7FF if r else None)
    if r is None or r[0] != 0:
        break
    time.sleep(0.5)
check("blocklisted: a write fails with a status (%s), no hang (%d watcher address(es))"
      % (hex(res[-1]) if res and res[-1] is not None else None, len(addrs)),
      len(addrs) > 0 and res and res[-1] not in (None, 0), res)
check("blocklisted: the daemon goes on", d.alive())
try:
    q2.close()
    q1.close()
    a.close()
except (Closed, OSError):
    pass
rc = d.stop()
check("nvmfd stops cleanly (exit 0)", rc == 0 and not d.sanitizer_lines(), rc)
for addr in addrs:
    ceph("osd", "blocklist", "rm", addr)
done(work)
