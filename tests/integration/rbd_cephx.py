#!/usr/bin/env python3
"""
Integration test: an RBD namespace on a cluster that requires cephx (run
under tests/lib/with-ceph.sh with WITH_CEPH_AUTH=cephx, which sets
CEPH_CONF and CEPH_AUTH), served as a client that is not admin and may use
one pool only, as a gateway's key is made:

    ceph auth get-or-create client.nvmfd-gw mon 'profile rbd' osd 'profile rbd pool=rbd'

    rbd_cephx.py BUILD/daemon/nvmfd

- the cluster does require cephx (rbd with a key that is not the cluster's
  is refused), else nothing below would prove anything;
- --check: ceph_id + ceph_keyring is accepted; refused at the namespace's
  path line: a key that is not the cluster's (naming the keyring), a
  keyring file that does not exist (naming it), an image in a pool the
  client has no caps on, ceph_id without ceph_keyring (ceph.conf's keyring
  holds the admin key only);
- nvmfd serves the image as client.nvmfd-gw: a write reads back, and admin
  reads the same bytes with rbd export; with the wrong key it does not
  start: exit 1, the error at file:line naming the keyring;
- SIGHUP with the wrong key, or with a namespace on the other pool: the
  reload is refused ("nothing changed") and I/O goes on through the
  connection it had; SIGHUP with another client's keyring (same caps):
  the namespace is opened anew through it, I/O goes on;
- SIGTERM: exit 0.

Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd or without a cephx cluster.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, done, free_ports, nvmfd_arg  # noqa: E402
from nvmftcp import Closed, Daemon, admin_up, io_up, ns, nvmfd_ini, subsystem  # noqa: E402

NVMFD = nvmfd_arg()
CEPH_CONF = os.environ.get("CEPH_CONF", "")
if os.environ.get("NVMFD_CEPH_SKIP") or not CEPH_CONF:
    print("1..0 # SKIP %s" % (os.environ.get("NVMFD_CEPH_SKIP") or
                              "no Ceph cluster (CEPH_CONF unset; tests/lib/with-ceph.sh)"))
    sys.exit(77)
if os.environ.get("CEPH_AUTH") != "cephx":
    print("1..0 # SKIP the cluster does not require cephx "
          "(run under tests/lib/with-ceph.sh with WITH_CEPH_AUTH=cephx)")
    sys.exit(77)

SUB = "nqn.2026-11.io.nvmfd:cephx"
HOST = "nqn.2014-08.org.nvmexpress:uuid:dddddddd-0000-0000-0000-0000000000cx"
PID = os.getpid()
IMG = "rbd/cx-%d" % PID
OTHER = "other-%d" % PID          # a pool client.nvmfd-gw has no caps on
CAPS = ["mon", "profile rbd", "osd", "profile rbd pool=rbd"]

work = tempfile.mkdtemp(prefix="nvmfd-cephx.", dir="/var/tmp")


def run(*args, timeout=60, env=None):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env)


def admin(tool, *args):
    """ceph / rbd as client.admin (ceph.conf's keyring holds its key)."""
    r = run(tool, "-c", CEPH_CONF, *args)
    if r.returncode != 0:
        raise SystemExit("Bail out! %s %s: %s" % (tool, " ".join(args), r.stderr.strip()))
    return r.stdout


def keyring(name, path):
    admin("ceph", "auth", "get-or-create", "client." + name, *CAPS, "-o", path)
    return path


KEY = keyring("nvmfd-gw", os.path.join(work, "nvmfd-gw.keyring"))
KEY2 = keyring("nvmfd-gw2", os.path.join(work, "nvmfd-gw2.keyring"))
# a well-formed key for the same client that the cluster never saw
WRONG = os.path.join(work, "wrong.keyring")
run("ceph-authtool", "--create-keyring", WRONG, "--gen-key", "-n", "client.nvmfd-gw")
MISSING = os.path.join(work, "no-such.keyring")

admin("rbd", "create", "--size", "8M", "--image-feature", "layering", IMG)
admin("ceph", "osd", "pool", "create", OTHER, "8", "8")
admin("rbd", "pool", "init", OTHER)
admin("rbd", "create", "--size", "8M", "--image-feature", "layering", OTHER + "/img")

r = run("rbd", "-c", CEPH_CONF, "--id", "nvmfd-gw", "--keyring", WRONG, "info", IMG)
check("the cluster requires cephx: rbd with a key that is not the cluster's is refused",
      r.returncode != 0, r.stdout + r.stderr)

port, dport = free_ports(2)


def ini(ceph_id="nvmfd-gw", ceph_keyring=KEY, extra_ns=()):
    keys = dict(ceph_conf=CEPH_CONF, ceph_id=ceph_id)
    if ceph_keyring:
        keys["ceph_keyring"] = ceph_keyring
    return nvmfd_ini(port, dport, work, subsystem(SUB, ns(1, "rbd:" + IMG), *extra_ns), **keys)


def path_line(text):
    """The line of namespace 1's path in text."""
    return text.splitlines().index("path = rbd:" + IMG) + 1


def run_check(text):
    p = os.path.join(work, "check.ini")
    with open(p, "w") as f:
        f.write(text)
    # without CEPH_CONF in the environment: the file's ceph_conf must be used
    r = run(NVMFD, "--check", "-c", p,
            env={k: v for k, v in os.environ.items() if k != "CEPH_CONF"})
    show(r.stderr)
    return r.returncode, r.stdout + r.stderr


def show(text):
    """The refusal a user would read, as a TAP diagnostic."""
    for line in text.splitlines():
        if "rbd:" in line:
            print("#   " + line.strip())


# ---- --check ----
rc, out = run_check(ini())
check("--check: ceph_id = nvmfd-gw, ceph_keyring = its keyring: OK", rc == 0, out)
at = "check.ini:%d:" % path_line(ini())
rc, out = run_check(ini(ceph_keyring=WRONG))
check("--check: a key that is not the cluster's is refused at the path's line, naming the keyring",
      rc == 1 and at in out and "Permission denied" in out and WRONG in out, out)
rc, out = run_check(ini(ceph_keyring=MISSING))
check("--check: a keyring file that does not exist is refused, naming it",
      rc == 1 and at in out and MISSING + ": No such file" in out, out)
rc, out = run_check(ini(extra_ns=(ns(2, "rbd:%s/img" % OTHER),)))
check("--check: an image in a pool the client has no caps on is refused",
      rc == 1 and "rbd:%s/img" % OTHER in out and "not permitted" in out
      and "client.nvmfd-gw's caps allow pool %s" % OTHER in out, out)
rc, out = run_check(ini(ceph_keyring=""))
check("--check: ceph_id = nvmfd-gw without ceph_keyring (ceph.conf's keyring is admin's) "
      "is refused", rc == 1 and "check.ini:%d:" % path_line(ini(ceph_keyring="")) in out
      and "client.nvmfd-gw" in out, out)

# ---- the daemon ----
try:
    bad = Daemon(NVMFD, work, ini(ceph_keyring=WRONG), port, "bad")
    bad.stop()
    check("nvmfd with the wrong key does not start", False)
except Closed:
    text = open(os.path.join(work, "bad.log")).read()
    show(text)
    line = path_line(ini(ceph_keyring=WRONG))
    check("nvmfd with the wrong key does not start: the error at bad.ini:%d names the keyring"
          % line, "bad.ini:%d:" % line in text and WRONG in text, text[-600:])

d = Daemon(NVMFD, work, ini(), port, "nvmfd")
a = admin_up(port, SUB, HOST)
q = io_up(port, a, qid=1)
blk = bytes((i * 13 + 5) & 0xFF for i in range(8192))
st = q.write(64, blk, fua=True)
st2, got = q.read(64, 16)
check("served as client.nvmfd-gw: a FUA write reads back", st == 0 and st2 == 0 and got == blk,
      (st, st2))
exp = os.path.join(work, "img.export")
admin("rbd", "export", "--no-progress", IMG, exp)
with open(exp, "rb") as f:
    f.seek(64 * 512)
    check("client.admin reads the same bytes from the cluster (rbd export)", f.read(8192) == blk)


def reload(text, want):
    """Write text as the daemon's file, SIGHUP, wait for a line with want."""
    before = d.text().count(want)
    with open(d.conf, "w") as f:
        f.write(text)
    mark = len(d.text())
    d.p.send_signal(signal.SIGHUP)
    deadline = time.time() + 40
    while d.text().count(want) == before and time.time() < deadline:
        time.sleep(0.1)
    show(d.text()[mark:])
    return d.text().count(want) > before


def io_goes_on(lba):
    st = q.write(lba, blk)
    st2, got = q.read(lba, 16)
    return st == 0 and st2 == 0 and got == blk, (st, st2)


refused = reload(ini(ceph_keyring=WRONG), "nothing changed")
check("SIGHUP with the wrong key: the reload is refused, naming the keyring",
      refused and WRONG in d.text(), d.text()[-600:])
check("... and I/O goes on through the connection it had", *io_goes_on(200))
refused = reload(ini(extra_ns=(ns(2, "rbd:%s/img" % OTHER),)), "nothing changed")
check("SIGHUP adding a namespace in a pool without caps: refused",
      refused and "rbd:%s/img" % OTHER in d.text(), d.text()[-600:])
check("... and I/O goes on", *io_goes_on(300))
opened = d.text().count("namespace 1 of %s: rbd:" % SUB)
reload(ini(ceph_id="nvmfd-gw2", ceph_keyring=KEY2), "reload: ")
time.sleep(0.5)
check("SIGHUP with client.nvmfd-gw2's keyring: namespace 1 is opened anew through it",
      d.text().count("namespace 1 of %s: rbd:" % SUB) == opened + 1, d.text()[-600:])
check("... and I/O goes on", *io_goes_on(400))
try:
    q.close()
    a.close()
except (Closed, OSError):
    pass
rc = d.stop()
check("nvmfd stops cleanly (exit 0)", rc == 0 and not d.sanitizer_lines(), rc)
done(work)
