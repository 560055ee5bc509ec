# shellcheck shell=bash
# TAP helpers shared by the bash test scripts (integration/, interop/): source
# it, then count with ok / notok / skipcase / todo; the script keeps n, failed
# and skipped (set them to 0 before the first check) and prints "1..$n".

# skip REASON: the whole script is skipped (exit 77), or fails when
# REQUIRE_INTEROP=1 says the missing tool must be there.
skip() {
	if [[ ${REQUIRE_INTEROP:-0} == 1 ]]; then
		echo "Bail out! $* (REQUIRE_INTEROP=1: a missing tool is a failure)"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 77
}

ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skipcase() { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n - $1 # SKIP $2"; }
todo() { n=$((n + 1)); skipped=$((skipped + 1)); echo "not ok $n - $1 # TODO $2"; }
check() {  # check LABEL COMMAND...: ok if the command succeeds
	local label=$1
	shift
	if "$@"; then ok "$label"; else notok "$label"; fi
}

diag() { sed 's/^/#   /' "$@"; }
show() {  # show FILE...: diagnostics, at most 20 lines each
	local f
	for f; do [[ -s $f ]] && head -n 20 "$f" | diag; done
	return 0
}

abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }

free_ports() {  # free_ports N: N distinct free loopback ports (bound together, then released)
	python3 -c '
import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])' "$1"
}
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

num() {  # num KEY FILE: the first number (decimal or 0x hex) after "KEY:" in FILE
	local v
	v=$(grep -Eim1 "^[[:space:]]*$1[[:space:]]*:" "$2" | sed -E 's/^[^:]*:[[:space:]]*//; s/[[:space:]].*//')
	[[ $v =~ ^(0x[0-9a-fA-F]+|[0-9]+)$ ]] && echo $((v))
}

stop_quietly() {  # the trap's way to stop the daemon in $dpid: TERM, 3 s, KILL
	[[ -n ${dpid:-} ]] || return 0
	kill -TERM "$dpid" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=''
}
