#!/bin/bash
# Instructions per command of nvmfd's user-space code (its own functions,
# libc, liburing, ISA-L), counted by callgrind, which unlike wall clock is
# repeatable on a shared machine. One worker, a RAM namespace, nvmf-perf
# with a fixed queue depth; collection is on only while nvmf-perf runs (the
# window includes its Connect, a constant few hundred thousand instructions).
#
#   tests/bench/callgrind.sh [BUILD_DIR]     (default build-bench, release)
#   ROWS="randread:4k:32 randwrite:4k:32" SECS=3 tests/bench/callgrind.sh
#
# Prints "workload bs qd ios Ir Ir/io" per row; the callgrind files stay in
# $OUT (default /tmp/nvmfd-callgrind) for callgrind_annotate.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bdir=${1:-$root/build-bench}
ROWS=${ROWS:-"randread:4k:32 randwrite:4k:32"}
SECS=${SECS:-3}
OUT=${OUT:-/tmp/nvmfd-callgrind}
PERF_ARGS=${PERF_ARGS:-}
SUB=nqn.2026-11.io.nvmfd:cg
if [[ ! -x $bdir/daemon/nvmfd ]]; then
	meson setup "$bdir" -Dbuildtype=release -Db_ndebug=true >/dev/null
fi
ninja -C "$bdir" >/dev/null
mkdir -p "$OUT"
work=$(mktemp -d /dev/shm/nvmfd-cg.XXXXXX)
port=$((20000 + RANDOM % 20000))
cat >"$work/nvmfd.ini" <<EOI
[nvmfd]
listen = 127.0.0.1:$port
discovery_listen = none
workers = 1
state_dir = $work
queue_depth = 256

[subsystem $SUB]
allow_host = any

[namespace $SUB 1]
path = ram:256M
block_size = 4096
EOI
for row in $ROWS; do
	IFS=: read -r wl bs qd <<<"$row"
	f=$OUT/cg.$wl.$bs.$qd
	rm -f "$f" "$f".*
	valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$f" \
		"$bdir/daemon/nvmfd" -c "$work/nvmfd.ini" >"$work/log" 2>&1 &
	vpid=$!
	for _ in $(seq 300); do
		timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break
		sleep 0.1
	done
	callgrind_control -i on "$vpid" >/dev/null
	# shellcheck disable=SC2086
	j=$("$bdir/tools/nvmf-perf" --json -w "$wl" -o "$bs" -q "$qd" -t "$SECS" -a 0 $PERF_ARGS \
		"127.0.0.1:$port" "$SUB")
	callgrind_control -i off "$vpid" >/dev/null
	# nvmfd's SIGTERM does not get through valgrind's signal handling: dump, then kill
	callgrind_control -d "$vpid" >/dev/null
	kill -9 "$vpid"
	wait "$vpid" 2>/dev/null || true
	ios=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["total"]["ios"])' <<<"$j")
	ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$f".1)
	echo "$wl $bs $qd ios=$ios Ir=$ir Ir/io=$((ir / ios))"
done
rm -rf "$work"
