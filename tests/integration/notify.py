#!/usr/bin/env python3
"""
Integration test: nvmfd's systemd readiness protocol (sd_notify) and the
service unit.

    notify.py BUILD/daemon/nvmfd [BUILD/systemd/nvmfd.service [BUILD/systemd/nvmfd@.service]]

Plays systemd's side: binds an AF_UNIX datagram socket (a path, then an
abstract "@name"), starts nvmfd with NOTIFY_SOCKET pointing at it on free
loopback ports, and checks that READY=1 arrives only once the port accepts
connections, that STATUS= names the listeners, that SIGTERM brings
STOPPING=1 and exit status 0, and that a configuration that cannot start
reports "STATUS=failed: ...", that SIGHUP brings RELOADING=1 then READY=1
with a STATUS naming what is served now (or saying the reload failed).
Then, when systemd-analyze exists, runs `systemd-analyze verify` on the
units (ExecStart pointed at the built nvmfd; the template as nvmfd@lab).
Prints TAP; exit 0 / 1, or 77 (skip) without nvmfd.
"""
import os, re, shutil, signal, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from taplib import check, free_ports, results, skipcase  # noqa: E402

NVMFD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ""
UNIT = sys.argv[2] if len(sys.argv) > 2 else ""
if not os.access(NVMFD, os.X_OK):
    print("1..0 # SKIP nvmfd is not built (%s)" % NVMFD)
    sys.exit(77)

def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False

work = tempfile.mkdtemp(prefix="nvmfd-notify.")
SUB = "nqn.2026-11.io.nvmfd:notify"

def config(port, dport, extra=""):
    path = os.path.join(work, "nvmfd-%d.ini" % port)
    with open(path, "w") as f:
        # its own state_dir under the work directory: never the system's (a real service's)
        f.write("[nvmfd]\nlisten = 127.0.0.1:%d\ndiscovery_listen = 127.0.0.1:%d\n"
                "workers = 2\nlog_level = info\nstate_dir = %s\n%s\n"
                "[subsystem %s]\nallow_host = any\n"
                "[namespace %s 1]\npath = ram:16M\n"
                "[namespace %s 2]\npath = ram:8M\nblock_size = 4096\n"
                "[subsystem %s-2]\nallow_host = any\n"
                "[namespace %s-2 1]\npath = ram:8M\n"
                % (port, dport, os.path.join(work, "state"), extra, SUB, SUB, SUB, SUB, SUB))
    return path

def recv_all(sock, timeout):
    """Every datagram until timeout, as a list of (time, text)."""
    out = []
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return out
        sock.settimeout(left)
        try:
            d = sock.recv(4096)
        except socket.timeout:
            return out
        out.append((time.monotonic(), d.decode("utf-8", "replace")))

def fields(msgs):
    f = []
    for _, m in msgs:
        f.extend(line for line in m.split("\n") if line)
    return f

def sigterm(p):
    """SIGTERM to nvmfd; its exit status (killed if it is still running after 10 s)."""
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()

def end_case(p, sock, log):
    """A case's cleanup: nvmfd killed if still running, the socket closed, the log's
    last 20 lines printed if a check failed."""
    if p.poll() is None:
        p.kill()
        p.wait()
    sock.close()
    log.seek(0)
    if not all(results):
        for line in log.read().splitlines()[-20:]:
            print("#   nvmfd: " + line)
    log.close()

def run_case(label, addr_env, bind_addr):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(bind_addr)
    port, dport = free_ports(2)
    cfg = config(port, dport)
    env = dict(os.environ, NOTIFY_SOCKET=addr_env)
    log = open(os.path.join(work, "nvmfd-%s.log" % label.replace(" ", "-")), "w+")
    p = subprocess.Popen([NVMFD, "-c", cfg], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # READY=1 must come only when the port already accepts connections:
        # on the first datagram, probe the port before anything else.
        ready_port_open = None
        msgs = []
        end = time.monotonic() + 10
        while time.monotonic() < end and not any("READY=1" in m for _, m in msgs):
            got = recv_all(sock, 0.05)
            for t, m in got:
                if "READY=1" in m and ready_port_open is None:
                    ready_port_open = port_open(port) and port_open(dport)
            msgs += got
            if p.poll() is not None:
                break
        f = fields(msgs)
        check("%s: READY=1 arrives" % label, "READY=1" in f, "got %r" % (f,))
        check("%s: the ports accept connections when READY=1 arrives" % label,
              ready_port_open is True)
        st = [x for x in f if x.startswith("STATUS=")]
        want = ("STATUS=serving 2 subsystems, 3 namespaces on 127.0.0.1:%d, "
                "127.0.0.1:%d (discovery); 2 workers" % (port, dport))
        check("%s: STATUS names the listeners" % label, st and st[-1] == want,
              "got %r, want %r" % (st, want))
        check("%s: nothing but READY and STATUS before SIGTERM" % label,
              all(x == "READY=1" or x.startswith("STATUS=") for x in f), "got %r" % (f,))
        rc = sigterm(p)
        f2 = fields(recv_all(sock, 0.5))
        check("%s: SIGTERM -> STOPPING=1" % label, "STOPPING=1" in f2, "got %r" % (f2,))
        check("%s: SIGTERM -> exit 0" % label, rc == 0, "exit %s" % rc)
    finally:
        end_case(p, sock, log)

# 1. a socket in the file system
path = os.path.join(work, "notify.sock")
run_case("path socket", path, path)

# 2. an abstract socket ("@name": a leading NUL, length-delimited)
name = "nvmfd-notify-test-%d" % os.getpid()
run_case("abstract socket", "@" + name, "\0" + name)

# 3. a start that fails: STATUS=failed, no READY=1, exit 1
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
spath = os.path.join(work, "fail.sock")
sock.bind(spath)
busy = socket.socket()
busy.bind(("127.0.0.1", 0))
busy.listen(1)
bport = busy.getsockname()[1]
(dport,) = free_ports(1)
cfg = config(bport, dport)
r = subprocess.run([NVMFD, "-c", cfg], env=dict(os.environ, NOTIFY_SOCKET=spath),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
f = fields(recv_all(sock, 0.3))
check("port in use: exit 1", r.returncode == 1, "exit %d" % r.returncode)
check("port in use: STATUS=failed names the listener, no READY=1",
      "READY=1" not in f and any(x.startswith("STATUS=failed: cannot listen on 127.0.0.1:%d" % bport)
                                 for x in f), "got %r" % (f,))
busy.close()
sock.close()

# 3b. SIGHUP: RELOADING=1 (with MONOTONIC_USEC, systemd 253's Type=notify-reload),
# then READY=1 and a STATUS naming what is served now; a broken file: READY=1
# again, the STATUS saying the reload failed
def until_ready(sock, timeout=20):
    f = []
    end = time.monotonic() + timeout
    while time.monotonic() < end and "READY=1" not in f:
        f += fields(recv_all(sock, 0.05))
    return f

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
spath = os.path.join(work, "reload.sock")
sock.bind(spath)
port, dport, port2 = free_ports(3)
cfg = config(port, dport)
log = open(os.path.join(work, "nvmfd-reload.log"), "w+")
p = subprocess.Popen([NVMFD, "-c", cfg], env=dict(os.environ, NOTIFY_SOCKET=spath),
                     stdout=log, stderr=subprocess.STDOUT)
try:
    f = until_ready(sock)
    check("reload: READY=1 at the start", "READY=1" in f, f)
    with open(cfg, "a") as fh:
        fh.write("[namespace %s-2 2]\npath = ram:8M\n" % SUB)
    text = open(cfg).read().replace("listen = 127.0.0.1:%d\n" % port,
                                    "listen = 127.0.0.1:%d\nlisten = 127.0.0.1:%d\n"
                                    % (port, port2), 1)
    with open(cfg, "w") as fh:
        fh.write(text)
    p.send_signal(signal.SIGHUP)
    f = until_ready(sock)
    r = f.index("RELOADING=1") if "RELOADING=1" in f else -1
    check("SIGHUP: RELOADING=1 first, with MONOTONIC_USEC=, then READY=1",
          r == 0 and any(x.startswith("MONOTONIC_USEC=") for x in f[:f.index("READY=1")])
          and "READY=1" in f[r:], f)
    st = [x for x in f if x.startswith("STATUS=")]
    want = ("STATUS=serving 2 subsystems, 4 namespaces on 127.0.0.1:%d, 127.0.0.1:%d, "
            "127.0.0.1:%d (discovery); 2 workers" % (port, port2, dport))
    check("SIGHUP: STATUS names the new listener and the namespace count",
          st and st[-1] == want, "got %r, want %r" % (st, want))
    check("SIGHUP: the new listener accepts connections", port_open(port2))
    with open(cfg, "a") as fh:
        fh.write("[namespace %s-2 3]\npath = /nonexistent/nvmfd-notify.img\n" % SUB)
    p.send_signal(signal.SIGHUP)
    f = until_ready(sock)
    st = [x for x in f if x.startswith("STATUS=")]
    check("SIGHUP with a broken file: RELOADING=1, then READY=1",
          "RELOADING=1" in f and "READY=1" in f[f.index("RELOADING=1"):], f)
    check("SIGHUP with a broken file: STATUS says the reload failed (what is served unchanged)",
          st and st[-1] == want + " (the last reload failed: see the log)", st)
    check("SIGHUP with a broken file: still running", p.poll() is None)
    rc = sigterm(p)
    check("reload case: SIGTERM -> exit 0", rc == 0, "exit %s" % rc)
finally:
    end_case(p, sock, log)

# 4. without NOTIFY_SOCKET nothing changes; a bad NOTIFY_SOCKET is only a warning
port, dport = free_ports(2)
cfg = config(port, dport)
env = dict(os.environ, NOTIFY_SOCKET=os.path.join(work, "no-such.sock"))
p = subprocess.Popen([NVMFD, "-c", cfg], env=env, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
end = time.monotonic() + 10
while time.monotonic() < end and not port_open(port) and p.poll() is None:
    time.sleep(0.05)
up = port_open(port)
p.send_signal(signal.SIGTERM)
try:
    out, _ = p.communicate(timeout=10)
except subprocess.TimeoutExpired:
    p.kill()
    out, _ = p.communicate()
check("NOTIFY_SOCKET without a listener: serves anyway, exit 0", up and p.returncode == 0,
      "up %s, exit %s" % (up, p.returncode))
check("NOTIFY_SOCKET without a listener: a warning is logged",
      b"NOTIFY_SOCKET" in out, out.decode(errors="replace")[-500:])

# 5. the unit files: nvmfd.service, and the template nvmfd@.service as nvmfd@lab.service
TEMPLATE = sys.argv[3] if len(sys.argv) > 3 else ""


def verify_unit(path, name, exec_re):
    sa = shutil.which("systemd-analyze")
    if not path or not os.path.exists(path):
        skipcase("systemd-analyze verify %s" % name, "unit file not given")
        return
    if sa is None:
        skipcase("systemd-analyze verify %s" % name, "systemd-analyze is not installed")
        return
    # ExecStart must exist for verify: point it at the built binary.
    text = open(path).read()
    m = re.search(r"^ExecStart=(/\S*/sbin/nvmfd) " + exec_re + "$", text, re.M)
    check("%s: ExecStart is SBINDIR/nvmfd %s" % (name, exec_re.replace("\\", "")), m)
    udir = os.path.join(work, "unit-" + name)
    os.mkdir(udir)
    upath = os.path.join(udir, name)
    with open(upath, "w") as f:
        f.write(text.replace("ExecStart=" + m.group(1) if m else "ExecStart=",
                             "ExecStart=" + NVMFD))
    r = subprocess.run([sa, "verify", "--man=no", upath], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode(errors="replace")
    # Only complaints about our unit count (verify also loads the dependencies,
    # which in a container may be missing or odd).
    ours = [l for l in out.splitlines() if name.split("@")[0] in l]
    check("systemd-analyze verify %s" % name, r.returncode == 0 and not ours,
          "exit %d: %s" % (r.returncode, out.strip()[-1000:]))
    return text


unit = verify_unit(UNIT, "nvmfd.service", r"-c /etc/nvmfd/nvmfd\.ini")
check("nvmfd.service: ExecReload sends SIGHUP, StateDirectory=nvmfd",
      unit is not None and "ExecReload=/bin/kill -HUP $MAINPID" in unit and
      re.search(r"^StateDirectory=nvmfd$", unit, re.M))
# the unit's text only (systemd-analyze verify): no daemon runs with these paths;
# the state directory is systemd's ($STATE_DIRECTORY, from StateDirectory=)
unit = verify_unit(TEMPLATE, "nvmfd@lab.service",
                   r"-c /etc/nvmfd/%i\.ini -s \$\{STATE_DIRECTORY\}")
check("nvmfd@.service: one file and one state directory per instance",
      unit is not None and re.search(r"^StateDirectory=nvmfd/%i$", unit, re.M))

shutil.rmtree(work, ignore_errors=True)
print("1..%d" % len(results))
sys.exit(0 if all(results) else 1)
