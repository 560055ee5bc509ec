"""TAP helpers shared by the Python test scripts (tests/integration/*.py).

results holds one bool per check, in order; print "1..len(results)" at the end.
"""
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


def free_ports(n):
    """n distinct free loopback ports (bound together, then released)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports
