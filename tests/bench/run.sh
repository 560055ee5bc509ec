#!/usr/bin/env bash
# The benchmark: nvmfd under nvmf-perf on loopback, with the loopback TCP
# ceiling (iperf3, one stream) and a bare TCP request/response round trip
# measured in the same run, so that figures from a noisy shared machine can
# be compared as ratios. Not a test: it never fails on a slow machine.
#
#   tests/bench/run.sh [OUTDIR]          (default: build-bench/results/)
#
# 1. Builds with -Dbuildtype=release -Db_ndebug=true in build-bench/.
# 2. iperf3 single stream 127.0.0.1 (server CPU 0, client CPU 1), with the
#    system's default congestion control (RUNS times at the start and RUNS
#    times at the end) and with cubic; the pingpong round
#    trip (72-byte request, 4120-byte answer) on the same CPUs.
# 3. nvmfd on a 1 GiB RAM namespace (4 KiB blocks) and a 1 GiB file on
#    tmpfs (/dev/shm), for each matrix row: workers = 1 (target pinned to
#    CPU 0) and workers = all; nvmf-perf pinned to CPU 1; without and with
#    header + data digests; RUNS runs of SECS seconds after WARMUP. With one
#    worker every row runs twice: nvmf-perf sleeping on its ring as most
#    hosts do, and busy-polling it (--poll) as spdk_nvme_perf does, which is
#    how SPDK's reference figures were taken.
#    One more one-worker pass, polling client, with the target's busy-poll
#    off (busy_poll = 0): the CPU the target needs for the load, without
#    the spin that waits for the next command. SPDK's per-core reference is
#    its busy time the same way (useful polls only).
# 4. Idle: 64 connected idle queues, the target's CPU use.
# 5. TLS (TLS=1, the default): one target (1 worker pinned, busy_poll 0 so
#    that its CPU is the work) with a plain and a tls_listen port; 4K QD 32
#    random read / write and 128K QD 16 read / write, polling client, plain
#    and TLS runs alternating (RUNS each): IOPS and the target's CPU per I/O,
#    TLS over plain in the same run; and `openssl speed` AES-128-GCM on one
#    core, to express the TLS cost in passes over the data.
# 8. Authentication (AUTH=1, the default): auth_connect.sh, the Connect time
#    of one queue with no key and with DH-HMAC-CHAP (SHA-256; null,
#    ffdhe2048, ffdhe8192 groups), host and target CPU per connect.
# 7. With SPDK_DIR set to an SPDK build: nvmfd and SPDK's nvmf_tgt side by
#    side, both driven by spdk_nvme_perf (spdk_side_by_side.py; RUNS rounds
#    of SECS seconds, alternating), then both on both CPUs with the client
#    sharing them (SCALE_ROWS), written to OUTDIR/spdk-DATE.{md,json}.
# 6. RBD (where Ceph, mini-ceph and an RBD-enabled build are there): a
#    throwaway single-node cluster (../shared/tools/mini-ceph, memstore OSD,
#    on these same CPUs), a 256 MiB image filled once, nvmfd (one worker,
#    pinned as above) serving it; 4 KiB random read / write QD 32 and 128 KiB
#    sequential read / write QD 16 through nvmfd, each beside `rbd bench`
#    (librbd straight, cache off as nvmfd has it, pinned to nvmf-perf's CPU)
#    with the same pattern, threads = queue depth, in the same run: the
#    gateway's cost is the ratio. With the OSD on the same two CPUs the
#    absolute figures say little about a real cluster.
# Output: OUTDIR/bench-DATE.md (Markdown table) and OUTDIR/bench-DATE.json,
# also copied to OUTDIR/latest.{md,json}.
#
# Environment: RUNS (3), SECS (5), WARMUP (1), IDLE_SECS (10),
# ROWS ("all", or a space-separated subset of the row names below),
# WORKERS ("1 all"), DIGESTS ("none hd"), CLIENTS ("sleep poll": the
# polling client runs with one worker only), BUSY_POLL_OFF (1: the pass
# with the target's busy-poll off; 0 skips it), CPU_TARGET (0), CPU_CLIENT (1),
# PERF_ARGS (more nvmf-perf options for every run), TLS (1; 0 skips step 5),
# TLS_ONLY (1: only step 5), RBD_BENCH (auto: the RBD step where it can run;
# 0: never; only: iperf3, pingpong and the RBD step only), MINI_CEPH (the
# mini-ceph script).
# iperf3 comes from Debian: apt-get install -y iperf3 (the bench asks apt
# itself when it is missing and it runs as root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${1:-$src/build-bench/results}
RUNS=${RUNS:-3} SECS=${SECS:-5} WARMUP=${WARMUP:-1} IDLE_SECS=${IDLE_SECS:-10}
ROWS=${ROWS:-all} WORKERS=${WORKERS:-1 all} DIGESTS=${DIGESTS:-none hd}
CLIENTS=${CLIENTS:-sleep poll} BUSY_POLL_OFF=${BUSY_POLL_OFF:-1}
CT=${CPU_TARGET:-0} CC_=${CPU_CLIENT:-1}
TLS=${TLS:-1} TLS_ONLY=${TLS_ONLY:-0}
read -r -a perf_args <<<"${PERF_ARGS:-}"
ncpu=$(nproc)
SUB=nqn.2026-11.io.nvmfd:bench

# name ns workload io_size qd
MATRIX=(
	"rr4k-qd1 1 randread 4k 1"
	"rr4k-qd32 1 randread 4k 32"
	"rr4k-qd128 1 randread 4k 128"
	"rw4k-qd32 1 randwrite 4k 32"
	"sr128k-qd16 1 read 128k 16"
	"sw128k-qd16 1 write 128k 16"
	"file-rr4k-qd32 2 randread 4k 32"
	"file-sw128k-qd16 2 write 128k 16"
)

mkdir -p "$out"
work=$(mktemp -d /dev/shm/nvmfd-bench.XXXXXX)
raw=$work/raw.jsonl
: >"$raw"
dpid='' cephdir=''
RBD_BENCH=${RBD_BENCH:-auto}
mc=${MINI_CEPH:-$src/../shared/tools/mini-ceph/mini-ceph}
cleanup() {
	[[ -n $dpid ]] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	[[ -n $cephdir ]] && "$mc" stop "$cephdir" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

say() { echo "bench: $*" >&2; }

# --- build -------------------------------------------------------------------
bdir=$src/build-bench
if [[ ! -f $bdir/build.ninja ]]; then
	meson setup "$bdir" "$src" -Dbuildtype=release -Db_ndebug=true -Dtests=false >/dev/null
fi
ninja -C "$bdir" >/dev/null
nvmfd=$bdir/daemon/nvmfd perf=$bdir/tools/nvmf-perf
cc -O2 -o "$work/pingpong" "$here/pingpong.c"

# --- loopback ceiling and round trip -------------------------------------------
if ! command -v iperf3 >/dev/null && ((EUID == 0)); then
	say "installing iperf3 (apt-get install -y iperf3)"
	apt-get install -y iperf3 >/dev/null 2>&1 || true
fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
iperf() {  # iperf [CONGESTION]: Gbit/s of one stream, server CPU_TARGET, client CPU_CLIENT
	local p cc=() g
	command -v iperf3 >/dev/null || { echo null; return; }
	p=$(port)
	[[ -n ${1:-} ]] && cc=(-C "$1")
	taskset -c "$CT" iperf3 -s -1 -p "$p" >/dev/null 2>&1 &
	local sp=$!
	sleep 0.3
	# The server may not listen yet on a busy machine: the client tries again.
	for _ in 1 2 3 4 5; do
		g=$(taskset -c "$CC_" iperf3 -c 127.0.0.1 -p "$p" -t "$SECS" "${cc[@]}" -J 2>/dev/null |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)' 2>/dev/null) && break
		g=null
		sleep 0.5
	done
	kill "$sp" 2>/dev/null || true
	wait "$sp" 2>/dev/null || true
	echo "$g"
}
pingpong() {
	local p
	p=$(port)
	"$work/pingpong" server "$p" "$CT" &
	local sp=$!
	"$work/pingpong" client "$p" "$CC_" 100000
	kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null || true
}
defcc=$(sysctl -n net.ipv4.tcp_congestion_control 2>/dev/null || echo unknown)
say "iperf3 single stream ($defcc, then cubic), pingpong"
# The default's figure scales SPDK's reference: RUNS samples now and RUNS at
# the end (the median of all is used; one sample moves by 20% here).
iperf_samples() {  # iperf_samples WHEN
	local g
	for _ in $(seq "$RUNS"); do
		g=$(iperf)
		echo "{\"kind\": \"iperf3\", \"cc\": \"$defcc\", \"when\": \"$1\", \"gbit_s\": $g}" >>"$raw"
	done
}
iperf_samples start
ip_cubic=$(iperf cubic)
pp=$(pingpong)
echo "{\"kind\": \"iperf3\", \"cc\": \"cubic\", \"gbit_s\": $ip_cubic}" >>"$raw"
echo "{\"kind\": \"pingpong\", \"r\": $pp}" >>"$raw"

# --- the target ------------------------------------------------------------------
start_target() {  # start_target WORKERS BUSY_POLL
	local w=$1 bp=$2 pin=()
	P_IO=$(port)
	truncate -s 1G "$work/ns2.img"
	cat >"$work/nvmfd.ini" <<EOF
[nvmfd]
listen = 127.0.0.1:$P_IO
discovery_listen = none
workers = $w
state_dir = $work
queue_depth = 256
max_io_queues = 128
busy_poll = $bp

[subsystem $SUB]
allow_host = any

[namespace $SUB 1]
path = ram:1G
block_size = 4096

[namespace $SUB 2]
path = $work/ns2.img
block_size = 4096
EOF
	[[ $w == 1 ]] && pin=(taskset -c "$CT")
	"${pin[@]}" "$nvmfd" -c "$work/nvmfd.ini" >"$work/nvmfd.log" 2>&1 &
	dpid=$!
	for _ in $(seq 100); do
		timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_IO" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$work/nvmfd.log" >&2
	return 1
}
stop_target() { kill "$dpid"; wait "$dpid" 2>/dev/null || true; dpid=''; }

# passes: workers:busy_poll (the default 50us, and 0 with one worker)
passes=()
[[ $TLS_ONLY == 1 ]] && WORKERS=''
for wk in $WORKERS; do
	passes+=("$wk:50us")
	[[ $wk == 1 && $BUSY_POLL_OFF == 1 && " $CLIENTS " == *" poll "* ]] && passes+=("1:0")
done
[[ $RBD_BENCH == only ]] && passes=()
for pass in "${passes[@]}"; do
	wk=${pass%%:*} bp=${pass#*:}
	nw=$wk
	[[ $wk == all ]] && nw=$ncpu
	start_target "$nw" "$bp"
	say "target: $nw worker(s), busy_poll $bp, pid $dpid"
	# Fill both namespaces once so that reads see written data (and verify could).
	for ns in 1 2; do
		"$perf" -n "$ns" -w write -o 128k -q 16 -t 0.001 --fill -c "$CC_" \
			"127.0.0.1:$P_IO" "$SUB" >/dev/null
	done
	for row in "${MATRIX[@]}"; do
		read -r name ns wl bs qd <<<"$row"
		[[ $ROWS == all || " $ROWS " == *" $name "* ]] || continue
		# the file namespace: 1 worker, no digests only
		[[ $name == file-* && ($wk != 1 || $bp == 0) ]] && continue
		for cl in $CLIENTS; do
			[[ $cl == poll && $nw != 1 ]] && continue
			[[ $bp == 0 && $cl != poll ]] && continue
			cla=()
			[[ $cl == poll ]] && cla=(--poll)
			for dg in $DIGESTS; do
				[[ $name == file-* && $dg != none ]] && continue
				dga=()
				[[ $dg == hd ]] && dga=(-g -G)
				for r in $(seq "$RUNS"); do
					say "$name workers=$nw busy_poll=$bp client=$cl digests=$dg run $r/$RUNS"
					j=$("$perf" --json -n "$ns" -w "$wl" -o "$bs" -q "$qd" -P "$nw" -c "$CC_" \
						-t "$SECS" -a "$WARMUP" "${cla[@]}" "${dga[@]}" "${perf_args[@]}" \
						--target-pid "$dpid" "127.0.0.1:$P_IO" "$SUB" | tr -d '\n') ||
						say "  run failed"
					[[ -n $j ]] && echo "{\"kind\": \"perf\", \"row\": \"$name\", \"workers\": $nw, \"busy_poll\": \"$bp\", \"client\": \"$cl\", \"digests\": \"$dg\", \"r\": $j}" >>"$raw"
				done
			done
		done
	done
	if [[ $wk == 1 && $bp != 0 ]]; then
		say "idle: 64 queues for $IDLE_SECS s"
		j=$("$perf" --json -w idle -P 64 -c "$CC_" -t "$IDLE_SECS" --target-pid "$dpid" \
			"127.0.0.1:$P_IO" "$SUB" | tr -d '\n') || true
		[[ -n $j ]] && echo "{\"kind\": \"idle\", \"workers\": $nw, \"r\": $j}" >>"$raw"
	fi
	stop_target
done

# --- RBD: nvmfd on an image beside rbd bench on the same image --------------------
# name nvmf-perf-workload io_size qd, then rbd bench's type, pattern, io size and
# total bytes (rbd takes bytes)
RBD_MATRIX=(
	"rbd-rr4k-qd32 randread 4k 32 read rand 4096 67108864"
	"rbd-rw4k-qd32 randwrite 4k 32 write rand 4096 67108864"
	"rbd-sr128k-qd16 read 128k 16 read seq 131072 536870912"
	"rbd-sw128k-qd16 write 128k 16 write seq 131072 536870912"
)
rbd_why=''
if [[ $RBD_BENCH == 0 ]]; then rbd_why="RBD_BENCH=0"
elif [[ ! -x $mc ]]; then rbd_why="no mini-ceph at $mc"
elif ! command -v ceph-mon >/dev/null || ! command -v rbd >/dev/null; then rbd_why="Ceph is not installed"
elif ! grep -q 'NVMFD_HAVE_RBD' "$bdir/build.ninja"; then rbd_why="nvmfd built without librbd"
fi
if [[ -z $rbd_why ]]; then
	say "rbd: starting a throwaway Ceph cluster"
	mp=$(python3 -c 'import socket
for b in range(41000, 60000, 2):
    try:
        s1 = socket.socket(); s1.bind(("127.0.0.1", b))
        s2 = socket.socket(); s2.bind(("127.0.0.1", b + 1))
        s1.close(); s2.close(); print(b); break
    except OSError:
        pass')
	cc_out=$(MON_PORT=$mp IMG_SIZE=256M IMG=bench "$mc" start 2>"$work/mini-ceph.log") ||
		{ cat "$work/mini-ceph.log" >&2; rbd_why="mini-ceph failed to start"; }
fi
if [[ -z $rbd_why ]]; then
	ceph_conf=${cc_out##*CEPH_CONF=}
	cephdir=$(dirname "$ceph_conf")
	P_IO=$(port)
	cat >"$work/nvmfd-rbd.ini" <<EOF
[nvmfd]
listen = 127.0.0.1:$P_IO
discovery_listen = none
workers = 1
state_dir = $work
queue_depth = 256
ceph_conf = $ceph_conf

[subsystem $SUB]
allow_host = any

[namespace $SUB 1]
path = rbd:rbd/bench
block_size = 4096
EOF
	taskset -c "$CT" "$nvmfd" -c "$work/nvmfd-rbd.ini" >"$work/nvmfd.log" 2>&1 &
	dpid=$!
	for _ in $(seq 100); do
		timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_IO" 2>/dev/null && break
		sleep 0.1
	done
	say "rbd: target pid $dpid; filling the image"
	"$perf" -n 1 -w write -o 128k -q 16 -t 0.001 --fill -c "$CC_" "127.0.0.1:$P_IO" "$SUB" >/dev/null
	for row in "${RBD_MATRIX[@]}"; do
		read -r name wl bs qd rtype rpat rsize rtotal <<<"$row"
		[[ $ROWS == all || " $ROWS " == *" $name "* ]] || continue
		for r in $(seq "$RUNS"); do
			say "$name nvmfd run $r/$RUNS"
			j=$("$perf" --json -n 1 -w "$wl" -o "$bs" -q "$qd" -P 1 -c "$CC_" -t "$SECS" \
				-a "$WARMUP" "${perf_args[@]}" --target-pid "$dpid" "127.0.0.1:$P_IO" "$SUB" |
				tr -d '\n') || say "  run failed"
			[[ -n $j ]] && echo "{\"kind\": \"perf\", \"row\": \"$name\", \"workers\": 1, \"busy_poll\": \"50us\", \"client\": \"sleep\", \"digests\": \"none\", \"r\": $j}" >>"$raw"
			say "$name rbd bench run $r/$RUNS"
			# its last line: "elapsed: S  ops: N  ops/sec: X  bytes/sec: ..."
			ops=$(taskset -c "$CC_" rbd -c "$ceph_conf" bench --rbd-cache=false \
				--io-type "$rtype" --io-pattern "$rpat" --io-size "$rsize" \
				--io-threads "$qd" --io-total "$rtotal" rbd/bench 2>"$work/rbd-bench.err" |
				sed -n 's/.*ops\/sec: *\([0-9.]*\).*/\1/p' | tail -1) || true
			[[ -z $ops ]] && say "  rbd bench failed: $(tail -n 1 "$work/rbd-bench.err")"
			[[ -n $ops ]] && echo "{\"kind\": \"rbd_bench\", \"row\": \"$name\", \"io_size\": \"$bs\", \"iops\": $ops}" >>"$raw"
		done
	done
	stop_target
	"$mc" stop "$cephdir" >/dev/null 2>&1
	cephdir=''
else
	say "rbd: skipped ($rbd_why)"
fi

# --- TLS: the record layer's cost ------------------------------------------------
TLS_HOST=nqn.2026-11.io.nvmfd:bench-host
if [[ $TLS != 0 ]]; then
	python3 -c 'import base64,os,struct,zlib; k=os.urandom(32); print("NVMeTLSkey-1:01:" + base64.b64encode(k + struct.pack("<I", zlib.crc32(k))).decode() + ":")' >"$work/psk"
	chmod 600 "$work/psk"
	start_target 1 0
	stop_target
	P_TLS=$(port)
	sed -i "s/^discovery_listen = none/tls_listen = 127.0.0.1:$P_TLS\ndiscovery_listen = none/" "$work/nvmfd.ini"
	printf '[host %s]\ntls_key = @%s\n' "$TLS_HOST" "$work/psk" >>"$work/nvmfd.ini"
	taskset -c "$CT" "$nvmfd" -c "$work/nvmfd.ini" >"$work/nvmfd.log" 2>&1 &
	dpid=$!
	for _ in $(seq 100); do timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P_TLS" 2>/dev/null && break; sleep 0.1; done
	say "TLS: target pid $dpid, plain :$P_IO, TLS :$P_TLS"
	"$perf" -n 1 -w write -o 128k -q 16 -t 0.001 --fill -c "$CC_" --hostnqn "$TLS_HOST" \
		"127.0.0.1:$P_IO" "$SUB" >/dev/null
	# AES-128-GCM on one core (16 KiB records), for the cost in passes over the data
	aes=$(taskset -c "$CT" openssl speed -evp aes-128-gcm -bytes 16384 -seconds 2 2>/dev/null |
		awk '/^AES-128-GCM|^aes-128-gcm/ {v=$NF; sub(/k$/, "", v); print v * 1000}')
	echo "{\"kind\": \"aes\", \"bytes_per_s\": ${aes:-null}}" >>"$raw"
	for row in "rr4k-qd32 randread 4k 32" "rw4k-qd32 randwrite 4k 32" "sr128k-qd16 read 128k 16" \
		"sw128k-qd16 write 128k 16"; do
		read -r name wl bs qd <<<"$row"
		for r in $(seq "$RUNS"); do
			for mode in plain tls; do
				targ=("127.0.0.1:$P_IO")
				tla=()
				[[ $mode == tls ]] && targ=("127.0.0.1:$P_TLS") tla=(--tls-key "@$work/psk")
				say "TLS pass: $name $mode run $r/$RUNS"
				j=$("$perf" --json -n 1 -w "$wl" -o "$bs" -q "$qd" -c "$CC_" -t "$SECS" \
					-a "$WARMUP" --poll --hostnqn "$TLS_HOST" "${tla[@]}" "${perf_args[@]}" \
					--target-pid "$dpid" "${targ[@]}" "$SUB" | tr -d '\n') || say "  run failed"
				[[ -n $j ]] && echo "{\"kind\": \"tls\", \"row\": \"$name\", \"mode\": \"$mode\", \"r\": $j}" >>"$raw"
			done
		done
	done
	stop_target
fi

iperf_samples end

# --- report ------------------------------------------------------------------------
stamp=$(date -u +%Y%m%d-%H%M%S)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
python3 "$here/report.py" "$raw" "$out/bench-$stamp" \
	--machine "$cpu, $ncpu CPUs, Linux $(uname -r)" --date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
	--runs "$RUNS" --secs "$SECS" --warmup "$WARMUP" --cc "$defcc" --perf-args="${PERF_ARGS:-}"
cp "$out/bench-$stamp.md" "$out/latest.md"
cp "$out/bench-$stamp.json" "$out/latest.json"
cat "$out/latest.md"
say "written: $out/bench-$stamp.md, $out/bench-$stamp.json"

# --- authentication: what DH-HMAC-CHAP adds to a queue's Connect --------------------
# (AUTH=0 skips it; auth_connect.sh: RUNS_AUTH connects per group, default 51)
if [[ ${AUTH:-1} == 1 && $TLS_ONLY != 1 && $RBD_BENCH != only ]]; then
	say "authentication: Connect time per queue (no key, null, ffdhe2048, ffdhe8192)"
	bash "$here/auth_connect.sh" "$bdir" "${RUNS_AUTH:-51}" | tee "$out/auth-$stamp.txt" ||
		say "the authentication step failed (see above)"
	cp "$out/auth-$stamp.txt" "$out/auth-latest.txt" 2>/dev/null || true
fi

# --- SPDK side by side ------------------------------------------------------------
# The same rows against SPDK's nvmf_tgt, spdk_nvme_perf driving both targets,
# alternating round by round (spdk_side_by_side.py); skipped with a note
# unless SPDK_DIR points at an SPDK build.
python3 "$here/spdk_side_by_side.py" "$bdir/daemon/nvmfd" "$out" ||
	say "the SPDK comparison failed (see above)"
