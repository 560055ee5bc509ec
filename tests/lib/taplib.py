"""TAP helpers shared by the Python test scripts (tests/integration/*.py).

results holds one bool per check, in order; done() prints the plan at the end.
"""
import os
import shutil
import socket
import sys

results = []


def check(name, cond, info=""):
    """One TAP line for cond; info becomes a diagnostic when it failed."""
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), name))
    if not cond and info != "":
        print("#   %s" % (info,))
    sys.stdout.flush()


def skipcase(name, why):
    results.append(True)
    print("ok %d - %s # SKIP %s" % (len(results), name, why))
    sys.stdout.flush()


def nvmfd_arg():
    """The nvmfd path from the command line; the whole test is skipped (exit 77)
    when it is not an executable."""
    nvmfd = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.access(nvmfd, os.X_OK):
        print("1..0 # SKIP nvmfd is not built (%s)" % nvmfd)
        sys.exit(77)
    return nvmfd


def free_ports(n):
    """n distinct free loopback ports (bound together, then released)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def done(work):
    """The end of a test: the plan, a count, work removed if every check passed
    (kept with INTEGRATION_KEEP=1), exit 0 or 1."""
    print("1..%d" % len(results))
    print("# %d of %d passed" % (sum(results), len(results)))
    if all(results) and os.environ.get("INTEGRATION_KEEP") != "1":
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("# work directory kept: %s" % work)
    sys.exit(0 if all(results) else 1)
