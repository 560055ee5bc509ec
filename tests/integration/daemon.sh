#!/usr/bin/env bash
# Integration test: the real daemon (nvmfd) on loopback, driven by our host
# tool (nvmfdd). See tests/integration/meson.build.
#
#   tests/integration/daemon.sh BUILD/daemon/nvmfd BUILD/tools/nvmfdd
#
# 1. Configuration: `nvmfd --check` accepts a good file and
#    conf/nvmfd.ini.example, refuses bad files (unknown key, bad listen
#    address, namespace without subsystem, missing backing file) with the
#    exact "file:line: message", and nvmfd refuses to start on them.
# 2. Starts nvmfd (workers = 2) on free ports with two subsystems, one open to
#    any host and one to HOST_A only, and four namespaces: RAM 64 MiB with
#    512-byte blocks, RAM 16 MiB with 4096-byte blocks, a read-only RAM
#    namespace, and a 32 MiB regular file; then checks discovery (both ports,
#    two host NQNs), identify, write/read/compare from 512 B to MDTS with
#    every digest combination and split H2CData, parallel connections,
#    refusals, robustness (garbage, a host killed mid-write), a graceful
#    SIGTERM, and a restart that keeps the file namespace's data.
#
# Prints TAP ("ok N - ...", diagnostics as "#" lines, the plan last); exits
# 0 if every check passed, 1 otherwise, 77 (skip) when nvmfd is not built.
#
# Environment:
#   INTEGRATION_KEEP  1: keep the work directory (configs, daemon logs, data)
#   NVMFD_VERBOSE     1: also print the daemon's log at the end when all passed
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
nvmfd=${1:-}
nvmfdd=${2:-}

[[ -n $nvmfd && -n $nvmfdd ]] || { echo "usage: $0 NVMFD NVMFDD" >&2; exit 2; }
skip() { echo "1..0 # SKIP $*"; exit 77; }
[[ -x $nvmfd ]] || skip "nvmfd is not built ($nvmfd)"
[[ -x $nvmfdd ]] || skip "nvmfdd is not built ($nvmfdd)"
command -v python3 >/dev/null || skip "python3 is not installed"
abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
nvmfd=$(abspath "$nvmfd")
nvmfdd=$(abspath "$nvmfdd")

# --- names -------------------------------------------------------------------
SUB_ANY=nqn.2026-11.io.nvmfd:it-any
SUB_RES=nqn.2026-11.io.nvmfd:it-restricted
SUB_NONE=nqn.2026-11.io.nvmfd:it-no-such-subsystem
HOST_A=nqn.2026-11.io.nvmfd:it-host-a
HOST_B=nqn.2026-11.io.nvmfd:it-host-b
# namespaces: "SUBNQN NSID BYTES LBS HOSTNQN"
NS_RAM512="$SUB_ANY 1 $((64 << 20)) 512 $HOST_B"
NS_RAM4K="$SUB_ANY 2 $((16 << 20)) 4096 $HOST_B"
NS_RO="$SUB_ANY 3 $((8 << 20)) 512 $HOST_B"
NS_FILE="$SUB_RES 1 $((32 << 20)) 512 $HOST_A"

# --- bookkeeping -------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/nvmfd-integration.XXXXXX")
dpid='' dlog='' dn=0
n=0 failed=0 skipped=0
t0=$SECONDS

stop_quietly() {  # the trap's way: TERM, 3 s, KILL
	[[ -n $dpid ]] || return 0
	kill -TERM "$dpid" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=''
}
cleanup() {
	stop_quietly
	if [[ ${INTEGRATION_KEEP:-0} == 1 ]]; then echo "# work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "Bail out! interrupted"; exit 1' INT TERM HUP

ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skipcase() { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n - $1 # SKIP $2"; }
check() {  # check LABEL COMMAND...: ok if the command succeeds
	local label=$1
	shift
	if "$@"; then ok "$label"; else notok "$label"; fi
}
diag() { sed 's/^/#   /'; }
show() {  # show FILE...: diagnostics, at most 20 lines each
	local f
	for f; do [[ -s $f ]] && head -n 20 "$f" | diag; done
	return 0
}
daemon_tail() {  # the daemon's last log lines as diagnostics
	[[ -n $dlog && -s $dlog ]] || return 0
	echo "#   --- daemon log (last 15 lines of ${dlog##*/})"
	tail -n 15 "$dlog" | diag
}

# nv OUT ERR ARGS...: nvmfdd with a hard time limit; its exit status.
nv() {
	local out=$1 err=$2
	shift 2
	timeout -k 5 60 "$nvmfdd" "$@" -t 10 >"$out" 2>"$err"
}

free_ports() {  # N distinct free loopback ports (bound together, then released)
	python3 -c '
import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])' "$1"
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# start_daemon CONFIG: nvmfd -v in the background, ready when both ports accept.
start_daemon() {
	dn=$((dn + 1))
	dlog=$work/nvmfd.$dn.log
	"$nvmfd" -v -c "$1" >"$dlog" 2>&1 </dev/null &
	dpid=$!
	local deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		if ! kill -0 "$dpid" 2>/dev/null; then
			wait "$dpid" 2>/dev/null
			echo "#   nvmfd exited at start (status $?)"
			dpid=''
			return 1
		fi
		port_open "$P_IO" && port_open "$P_DISC" && return 0
		sleep 0.1
	done
	echo "#   nvmfd did not accept on 127.0.0.1:$P_IO and :$P_DISC within 10 s"
	return 1
}

# stop_daemon: SIGTERM; 0 if it exits within 5 s with status 0. Sets stop_ms.
stop_daemon() {
	local t=$(($(date +%s%N) / 1000000)) st
	kill -TERM "$dpid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$dpid" 2>/dev/null; then
		echo "#   nvmfd still running 5 s after SIGTERM; killing it"
		kill -KILL "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
		dpid=''
		return 1
	fi
	wait "$dpid"
	st=$?
	dpid=''
	stop_ms=$(($(date +%s%N) / 1000000 - t))
	((st == 0)) || echo "#   nvmfd exited with status $st after SIGTERM"
	return "$st"
}

# ============================================================================
# 1. Configuration files
# ============================================================================
read -r P_IO P_DISC P_CLOSED < <(free_ports 3)
mkdir -p "$work/state"
img=$work/ns-file.img
truncate -s $((32 << 20)) "$img"
# O_DIRECT where the file system has it (nvmfd falls back anyway; say so in the config).
direct=yes
dd if=/dev/zero of="$img" bs=4096 count=1 oflag=direct conv=notrunc status=none 2>/dev/null || direct=no

good=$work/good.ini
cat >"$good" <<EOF
; generated by tests/integration/daemon.sh
[nvmfd]
listen = 127.0.0.1:$P_IO
discovery_listen = 127.0.0.1:$P_DISC
workers = 2
state_dir = $work/state
log_level = debug

[subsystem $SUB_ANY]
allow_host = any
serial = NVMFD-IT-ANY
model = nvmfd integration

[subsystem $SUB_RES]
allow_host = $HOST_A

[namespace $SUB_ANY 1]
path = ram:64M
block_size = 512

[namespace $SUB_ANY 2]
path = ram:16M
block_size = 4096

[namespace $SUB_ANY 3]
path = ram:8M
read_only = yes

[namespace $SUB_RES 1]
path = $img
block_size = 512
direct = $direct
EOF

echo "# nvmfd: $nvmfd"
echo "# nvmfdd: $nvmfdd"
echo "# ports: I/O $P_IO, discovery $P_DISC, closed $P_CLOSED; work $work"

chk_out=$work/check.out
rc=0
timeout 10 "$nvmfd" --check -c "$good" >"$chk_out" 2>&1 || rc=$?
if ((rc == 0)); then ok "nvmfd --check accepts the generated configuration"
else notok "nvmfd --check accepts the generated configuration (exit $rc)"; show "$chk_out"; fi

example=$src/conf/nvmfd.ini.example
if [[ -f $example ]]; then
	rc=0
	timeout 10 "$nvmfd" --check -c "$example" >"$chk_out" 2>&1 || rc=$?
	if ((rc == 0)); then ok "nvmfd --check accepts conf/nvmfd.ini.example"
	else notok "nvmfd --check accepts conf/nvmfd.ini.example (exit $rc)"; show "$chk_out"; fi
else
	notok "conf/nvmfd.ini.example exists"
fi

# bad NAME LINE MESSAGE < CONTENT: nvmfd --check exits 1 printing exactly
# "FILE:LINE: MESSAGE"; nvmfd -c FILE refuses to start with the same line.
bad() {
	local name=$1 line=$2 msg=$3 f=$work/$1.ini rc=0 want
	cat >"$f"
	want="$f:$line: $msg"
	timeout 10 "$nvmfd" --check -c "$f" >"$chk_out" 2>&1 || rc=$?
	if ((rc != 1)); then
		notok "--check $name: exit $rc, want 1"
		show "$chk_out"
	elif ! grep -Fq -- "$want" "$chk_out"; then
		notok "--check $name: no line \"$want\""
		show "$chk_out"
	else
		ok "--check $name: exit 1, \"${want#"$work/"}\""
	fi
	rc=0
	timeout -k 2 10 "$nvmfd" -c "$f" >"$chk_out" 2>&1 </dev/null || rc=$?
	if ((rc == 0 || rc == 124 || rc == 137)); then
		notok "nvmfd -c $name.ini refuses to start (exit $rc)"
		show "$chk_out"
	elif ! grep -Fq -- "$want" "$chk_out"; then
		notok "nvmfd -c $name.ini refuses to start with \"$want\" (exit $rc)"
		show "$chk_out"
	else
		ok "nvmfd -c $name.ini refuses to start (exit $rc) with the same message"
	fi
}
bad unknown-key 4 "unknown key 'bogus_key' in [nvmfd]" <<EOF
[nvmfd]
listen = 127.0.0.1:$P_CLOSED
discovery_listen = none
bogus_key = 1
[subsystem $SUB_ANY]
allow_host = any
EOF
bad bad-listen 2 "'127.0.0.1:99999' is not ADDRESS[:PORT] (IPv6 as [ADDRESS]:PORT)" <<EOF
[nvmfd]
listen = 127.0.0.1:99999
discovery_listen = none
EOF
bad ns-without-subsystem 7 "namespace 1: no [subsystem $SUB_NONE] in this file" <<EOF
[nvmfd]
listen = 127.0.0.1:$P_CLOSED
discovery_listen = none
[subsystem $SUB_ANY]
allow_host = any

[namespace $SUB_NONE 1]
path = ram:1M
EOF
missing=$work/no-such-dir/missing.img
bad missing-file 6 "namespace 1 of $SUB_ANY: $missing: No such file or directory" <<EOF
[nvmfd]
listen = 127.0.0.1:$P_CLOSED
discovery_listen = none
[subsystem $SUB_ANY]
allow_host = any
[namespace $SUB_ANY 1]
path = $missing
EOF

# ============================================================================
# 2. The daemon on the generated configuration
# ============================================================================
if start_daemon "$good"; then
	ok "nvmfd started (workers = 2) on 127.0.0.1:$P_IO and discovery 127.0.0.1:$P_DISC"
else
	notok "nvmfd started on the generated configuration"
	daemon_tail
	echo "1..$n"
	exit 1
fi

# --- discovery ---------------------------------------------------------------
# disc_subsystems FILE: the NVMe subsystem entries "subnqn trsvcid traddr", sorted.
disc_subsystems() {
	awk '/^subtype:/ {nvm = ($0 ~ /nvme subsystem/)}
	     /^trsvcid:/ {port = $2}
	     /^subnqn:/ {nqn = $2}
	     /^traddr:/ {if (nvm) print nqn, port, $2}' "$1" | sort
}
declare -A disc_want=(["$HOST_A"]="$SUB_ANY $SUB_RES" ["$HOST_B"]="$SUB_ANY")
for where in "$P_IO I/O" "$P_DISC discovery"; do
	read -r port kind <<<"$where"
	for host in "$HOST_A" "$HOST_B"; do
		want_subs=${disc_want[$host]}
		want=$(for s in $want_subs; do echo "$s $P_IO 127.0.0.1"; done | sort)
		rc=0
		nv "$work/disc" "$work/disc.err" discover -q "$host" "127.0.0.1:$port" || rc=$?
		got=$(disc_subsystems "$work/disc")
		if ((rc == 0)) && [[ $got == "$want" ]]; then
			ok "discover on the $kind port as ${host##*:}: exactly ${want_subs// /, } on 127.0.0.1:$P_IO"
		else
			notok "discover on the $kind port as ${host##*:} (exit $rc): want [${want//$'\n'/; }], got [${got//$'\n'/; }]"
			show "$work/disc" "$work/disc.err"
		fi
	done
done

# --- identify ----------------------------------------------------------------
num() {  # the first number after "KEY:" in FILE
	local v
	v=$(grep -Eim1 "^[[:space:]]*$1[[:space:]]*:" "$2" | sed -E 's/^[^:]*:[[:space:]]*//; s/[[:space:]].*//')
	[[ $v =~ ^(0x[0-9a-fA-F]+|[0-9]+)$ ]] && echo $((v))
}
mdts_bytes=''
for spec in "$NS_RAM512" "$NS_RAM4K" "$NS_RO" "$NS_FILE"; do
	read -r sub nsid bytes lbs host <<<"$spec"
	rc=0
	nv "$work/id" "$work/id.err" identify -q "$host" -n "$nsid" "127.0.0.1:$P_IO" "$sub" || rc=$?
	nsze=$(num nsze "$work/id") lbsz=$(num 'lba size' "$work/id") sn=$(num mdts "$work/id")
	if ((rc == 0)) && [[ $nsze == $((bytes / lbs)) && $lbsz == "$lbs" ]]; then
		ok "identify ${sub##*:} ns $nsid: nsze $nsze, $lbs-byte LBAs ($((bytes >> 20)) MiB)"
	else
		notok "identify ${sub##*:} ns $nsid (exit $rc): nsze ${nsze:-?} lba size ${lbsz:-?}, want $((bytes / lbs)) and $lbs"
		show "$work/id" "$work/id.err"
	fi
	if [[ -z $mdts_bytes && -n $sn ]]; then
		if ((sn == 0)); then mdts_bytes=$((1 << 20)); else mdts_bytes=$((4096 << sn)); fi
	fi
done
rc=0
nv "$work/id" "$work/id.err" identify -q "$HOST_B" -n 1 "127.0.0.1:$P_IO" "$SUB_ANY" || rc=$?
if ((rc == 0)) && grep -Eq '^sn +: NVMFD-IT-ANY$' "$work/id" && grep -Eq '^mn +: nvmfd integration$' "$work/id" &&
	grep -Eq "^subnqn +: $SUB_ANY\$" "$work/id" && grep -Eq '^Active namespaces: 1 2 3$' "$work/id"; then
	ok "identify controller: serial, model and subnqn from the configuration, active namespaces 1 2 3"
else
	notok "identify controller: serial NVMFD-IT-ANY, model 'nvmfd integration', subnqn, active namespaces 1 2 3 (exit $rc)"
	show "$work/id" "$work/id.err"
fi
: "${mdts_bytes:=$((1 << 20))}"
echo "# MDTS: $mdts_bytes bytes"

# --- write / read back / compare ---------------------------------------------
# rw LABEL SPEC OFFSET LENGTH [NVMFDD OPTIONS...]
bytes_moved=0
rw() {
	local label=$1 spec=$2 off=$3 len=$4 rc=0 sub nsid bytes lbs host
	shift 4
	read -r sub nsid bytes lbs host <<<"$spec"
	head -c "$len" /dev/urandom >"$work/in"
	nv "$work/w.out" "$work/w.err" write "$@" -q "$host" -n "$nsid" -o "$off" -l "$len" \
		"127.0.0.1:$P_IO" "$sub" <"$work/in" || rc=$?
	if ((rc != 0)); then
		notok "$label: write failed (exit $rc)"
		show "$work/w.err"
		daemon_tail
		return 1
	fi
	nv "$work/out" "$work/r.err" read "$@" -q "$host" -n "$nsid" -o "$off" -l "$len" \
		"127.0.0.1:$P_IO" "$sub" || rc=$?
	if ((rc != 0)); then
		notok "$label: read failed (exit $rc)"
		show "$work/r.err"
		daemon_tail
		return 1
	fi
	if cmp -s "$work/in" "$work/out"; then
		ok "$label"
		bytes_moved=$((bytes_moved + 2 * len))
	else
		notok "$label: read back differs ($(stat -c %s "$work/out") bytes read; $(cmp "$work/in" "$work/out" 2>&1 | head -n1))"
		return 1
	fi
}
sizes=(512 4096 8192 8704 65536 131072 1048576)
((mdts_bytes != 1048576)) && sizes+=("$mdts_bytes")
sizes+=($((mdts_bytes + 4096)))  # more than MDTS: nvmfdd splits it into two commands
modes=("" "-g" "-G" "-g -G")
rw_t=$SECONDS
declare -A ns_label=(["$NS_RAM512"]="ram 512" ["$NS_RAM4K"]="ram 4k" ["$NS_FILE"]="file")
for spec in "$NS_RAM512" "$NS_RAM4K" "$NS_FILE"; do
	read -r sub nsid bytes lbs host <<<"$spec"
	cursor=$lbs i=0
	for mode in "${modes[@]}"; do
		for size in "${sizes[@]}"; do
			len=$(((size + lbs - 1) / lbs * lbs))  # 8704 on a 4096-byte namespace: 12288
			for h2c in "" 8192; do
				[[ -n $h2c ]] && ((len <= 8192)) && continue  # in-capsule: no H2CData
				# every other one at an offset that is not 4 KiB aligned (512-byte LBAs)
				off=$cursor
				((lbs == 512 && i % 2 == 0)) && off=$((off + 512))
				((off + len > bytes)) && off=$(((i % 4) * lbs))
				cursor=$((off + len + 65536))
				i=$((i + 1))
				# shellcheck disable=SC2086  # $mode is zero, one or two options
				rw "${ns_label[$spec]}: $len B at $off${mode:+ $mode}${h2c:+ --max-h2c $h2c}" \
					"$spec" "$off" "$len" $mode ${h2c:+--max-h2c $h2c}
			done
		done
	done
done
# H2CData PDUs that do not end on a block boundary, with both digests.
rw "ram 512: 131072 B at 4096, -g -G --max-h2c 4100 (PDUs not block-aligned)" "$NS_RAM512" 4096 131072 -g -G --max-h2c 4100
rw "file: 1 MiB at 512, -G --max-h2c 4096" "$NS_FILE" 512 1048576 -G --max-h2c 4096
rw_s=$((SECONDS - rw_t))
echo "# data checks moved $((bytes_moved >> 20)) MiB in ${rw_s}s"

# A region of the RAM namespace never written reads back as zeros.
rc=0
nv "$work/z" "$work/z.err" read -q "$HOST_B" -n 1 -o $((60 << 20)) -l 65536 "127.0.0.1:$P_IO" "$SUB_ANY" || rc=$?
if ((rc == 0)) && cmp -s "$work/z" <(head -c 65536 /dev/zero); then ok "an unwritten region reads back as zeros"
else notok "an unwritten region reads back as zeros (exit $rc)"; show "$work/z.err"; fi

# --- several connections at once ---------------------------------------------
# par LABEL "SPEC|OFFSET|LENGTH|OPTS" ...: write all in parallel, then read all
# in parallel, then compare each.
par() {
	local label=$1 k=0 pids=() bad=0 item spec off len opts sub nsid bytes lbs host t=$SECONDS
	shift
	for item; do
		IFS='|' read -r spec off len opts <<<"$item"
		read -r sub nsid bytes lbs host <<<"$spec"
		head -c "$len" /dev/urandom >"$work/par$k.in"
		# shellcheck disable=SC2086
		nv "$work/par$k.wout" "$work/par$k.werr" write $opts -q "$host" -n "$nsid" -o "$off" -l "$len" \
			"127.0.0.1:$P_IO" "$sub" <"$work/par$k.in" &
		pids+=($!)
		k=$((k + 1))
	done
	k=0
	for p in "${pids[@]}"; do
		if ! wait "$p"; then bad=1; echo "#   writer $k failed:"; show "$work/par$k.werr"; fi
		k=$((k + 1))
	done
	pids=() k=0
	for item; do
		IFS='|' read -r spec off len opts <<<"$item"
		read -r sub nsid bytes lbs host <<<"$spec"
		# shellcheck disable=SC2086
		nv "$work/par$k.out" "$work/par$k.rerr" read $opts -q "$host" -n "$nsid" -o "$off" -l "$len" \
			"127.0.0.1:$P_IO" "$sub" &
		pids+=($!)
		k=$((k + 1))
	done
	k=0
	for p in "${pids[@]}"; do
		if ! wait "$p"; then bad=1; echo "#   reader $k failed:"; show "$work/par$k.rerr"
		elif ! cmp -s "$work/par$k.in" "$work/par$k.out"; then bad=1; echo "#   region $k reads back different"; fi
		k=$((k + 1))
	done
	if ((bad)); then notok "$label"; daemon_tail; else ok "$label ($((SECONDS - t))s)"; fi
}
par "4 nvmfdd writers at once on distinct 4 MiB regions of ram 512 (no digest, -g, -G, -g -G), then 4 readers" \
	"$NS_RAM512|$((8 << 20))|$((4 << 20))|" \
	"$NS_RAM512|$((16 << 20))|$((4 << 20))|-g" \
	"$NS_RAM512|$((24 << 20))|$((4 << 20))|-G" \
	"$NS_RAM512|$((32 << 20))|$((4 << 20))|-g -G"
par "4 nvmfdd writers at once on 3 namespaces of 2 subsystems, then 4 readers" \
	"$NS_RAM512|$((40 << 20))|$((3 << 20))|-G --max-h2c 8192" \
	"$NS_RAM4K|$((4 << 20))|$((3 << 20))|" \
	"$NS_FILE|$((8 << 20))|$((3 << 20))|-g" \
	"$NS_FILE|$((16 << 20))|$((3 << 20))|-g -G"

# --- refusals ----------------------------------------------------------------
# xfail LABEL PATTERN NVMFDD-ARGS...: exit 1 with a message matching PATTERN (ERE, any case).
xfail() {
	local label=$1 pat=$2 rc=0
	shift 2
	nv "$work/x.out" "$work/x.err" "$@" </dev/zero || rc=$?
	if ((rc != 1)); then
		notok "$label: exit $rc, want 1"
		show "$work/x.err"
	elif ! grep -Eiq -- "$pat" "$work/x.err"; then
		notok "$label: no message matching /$pat/"
		show "$work/x.err"
	else
		ok "$label: $(head -n1 "$work/x.err" | sed "s|127.0.0.1:$P_IO: ||")"
	fi
}
A=127.0.0.1:$P_IO
xfail "read past the end of ram 512" 'out of range|beyond' read -q "$HOST_B" -n 1 -o $(((64 << 20) - 512)) -l 1024 "$A" "$SUB_ANY"
xfail "write past the end of ram 4k" 'out of range|beyond' write -q "$HOST_B" -n 2 -o $((16 << 20)) -l 4096 "$A" "$SUB_ANY"
xfail "a length that is not a multiple of 512" 'multiple' read -q "$HOST_B" -n 1 -l 1000 "$A" "$SUB_ANY"
xfail "a 512-byte length on the 4096-byte namespace" 'multiple' read -q "$HOST_B" -n 2 -l 512 "$A" "$SUB_ANY"
xfail "an offset that is not a multiple of 4096 on the 4096-byte namespace" 'multiple' read -q "$HOST_B" -n 2 -o 512 -l 4096 "$A" "$SUB_ANY"
xfail "write to the read-only namespace" 'write.?protect' write -q "$HOST_B" -n 3 -o 0 -l 4096 "$A" "$SUB_ANY"
xfail "a large write to the read-only namespace (R2T path)" 'write.?protect' write -q "$HOST_B" -n 3 -o 0 -l 65536 "$A" "$SUB_ANY"
rc=0
nv "$work/ro" "$work/ro.err" read -q "$HOST_B" -n 3 -o 4096 -l 8192 "$A" "$SUB_ANY" || rc=$?
if ((rc == 0)) && cmp -s "$work/ro" <(head -c 8192 /dev/zero); then ok "the read-only namespace reads (zeros)"
else notok "the read-only namespace reads (zeros) (exit $rc)"; show "$work/ro.err"; fi
xfail "a host not on the allow-list is refused" 'not allowed.*Connect Invalid Host' read -q "$HOST_B" -n 1 -l 512 "$A" "$SUB_RES"
xfail "an unknown subsystem is refused" 'not found|Invalid Parameters|Invalid Data' identify -q "$HOST_A" "$A" "$SUB_NONE"
xfail "an inactive namespace" 'not active|Invalid Namespace' read -q "$HOST_B" -n 9 -l 512 "$A" "$SUB_ANY"
xfail "the discovery NQN as an I/O subsystem" '.' read -q "$HOST_B" -n 1 -l 512 "$A" nqn.2014-08.org.nvmexpress.discovery

# --- robustness --------------------------------------------------------------
# Garbage instead of an ICReq, a truncated ICReq, an idle connection closed at once.
python3 - "$P_IO" "$P_DISC" >"$work/garbage" 2>&1 <<'EOF' || true
import os, socket, struct, sys, time
for port in map(int, sys.argv[1:]):
    for payload in (os.urandom(4096), struct.pack("<BBBBI", 0, 0, 128, 0, 128)[:6], b"",
                    struct.pack("<BBBBI", 0, 0, 128, 0, 0xFFFFFFF0) + b"\0" * 120):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(5)
            while s.recv(4096):
                pass
        except socket.timeout:
            print("port", port, "payload", len(payload), "bytes: still open after 5 s")
        except OSError:
            pass  # a reset is a close too
        s.close()
EOF
if [[ -s $work/garbage ]]; then
	notok "nvmfd closes connections that send garbage, a truncated or an oversized ICReq (within 5 s)"
	diag <"$work/garbage"
else
	ok "nvmfd closes connections that send garbage, a truncated or an oversized ICReq"
fi
# A host killed in the middle of a large split write.
head -c $((48 << 20)) /dev/urandom >"$work/big"
timeout -s KILL 0.3 "$nvmfdd" write -G -q "$HOST_B" -n 1 -o 0 -l $((48 << 20)) --max-h2c 4096 "$A" "$SUB_ANY" <"$work/big" >/dev/null 2>&1
sleep 0.3
if kill -0 "$dpid" 2>/dev/null && rw "after garbage PDUs and a host killed mid-write: the daemon still serves" "$NS_RAM512" 0 65536; then :
else notok "the daemon survives garbage and a host killed mid-write"; daemon_tail; fi

# ============================================================================
# 3. Stop, restart, data on the file namespace
# ============================================================================
head -c $((1 << 20)) /dev/urandom >"$work/keep"
rc=0
nv "$work/k.out" "$work/k.err" write -g -G -q "$HOST_A" -n 1 -o $((24 << 20)) -l $((1 << 20)) "$A" "$SUB_RES" <"$work/keep" || rc=$?
((rc == 0)) || { echo "#   writing the data to keep failed (exit $rc)"; show "$work/k.err"; }
if kill -0 "$dpid" 2>/dev/null; then ok "the daemon is still alive after all that (kill -0)"
else notok "the daemon is still alive after all that (kill -0)"; daemon_tail; fi
sanitizer_check() {
	if grep -Eq 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$dlog"; then
		notok "no sanitizer report in ${dlog##*/}"
		grep -E -A12 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$dlog" | head -n 40 | diag
	else
		ok "no sanitizer report in ${dlog##*/}"
	fi
}
if [[ -n $dpid ]] && stop_daemon; then ok "SIGTERM: nvmfd exits 0 within 5 s (${stop_ms} ms)"
else notok "SIGTERM: nvmfd exits 0 within 5 s"; daemon_tail; fi
sanitizer_check
if ((rc == 0)) && cmp -s "$work/keep" <(dd if="$img" bs=1M skip=24 count=1 status=none); then
	ok "after the stop, the backing file holds the data written before it"
else
	notok "after the stop, the backing file holds the data written before it"
fi

if start_daemon "$good"; then
	ok "nvmfd restarted on the same configuration and ports"
	rc=0
	nv "$work/k.back" "$work/k.err" read -q "$HOST_A" -n 1 -o $((24 << 20)) -l $((1 << 20)) "$A" "$SUB_RES" || rc=$?
	if ((rc == 0)) && cmp -s "$work/keep" "$work/k.back"; then
		ok "after the restart, the file namespace reads back the data written before the stop"
	else
		notok "after the restart, the file namespace reads back the data written before the stop (exit $rc)"
		show "$work/k.err"
	fi
	if stop_daemon; then ok "SIGTERM again: exit 0 (${stop_ms} ms)"; else notok "SIGTERM again: exit 0"; daemon_tail; fi
	sanitizer_check
else
	notok "nvmfd restarted on the same configuration and ports"
	daemon_tail
fi

if [[ ${NVMFD_VERBOSE:-0} == 1 ]]; then
	for f in "$work"/nvmfd.*.log; do echo "# --- ${f##*/}"; diag <"$f"; done
fi
echo "1..$n"
echo "# $((n - failed - skipped)) of $n checks passed, $skipped skipped, in $((SECONDS - t0))s (data checks ${rw_s}s)"
((failed == 0))
