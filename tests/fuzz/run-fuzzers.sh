#!/usr/bin/env bash
# Build the libFuzzer targets (clang, -Dfuzz=true, ASan + UBSan) in their own
# build directory and run each for a fixed time on a copy of its seed corpus.
#
#   tests/fuzz/run-fuzzers.sh [-t SECONDS] [-b BUILD_DIR] [TARGET...]
#
#   -t  seconds per fuzzer (default: $FUZZ_SECONDS, else 60)
#   -b  build directory (default: $FUZZ_BUILD_DIR, else build-fuzz/ in the
#       source tree; never the build/ others use)
#   TARGET: names as in tests/fuzz/meson.build (pdu_rx, config, ...);
#       default: every fuzz_* binary built.
#
# New inputs go to BUILD_DIR/fuzz-work/NAME/corpus, crashes to
# BUILD_DIR/fuzz-work/NAME/ (crash-*, leak-*, timeout-*); the committed
# corpus is only read. To keep a crash as a regression test, copy it into
# tests/fuzz/corpus/NAME/ (meson test --suite fuzz replays it).
# Prints one line per fuzzer: executions, exec/s, new corpus entries, crashes.
# Exit status: 0 if no fuzzer crashed, 1 otherwise, 2 on a setup failure.
set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${FUZZ_SECONDS:-60}
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
while getopts "t:b:h" opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	b) build=$OPTARG ;;
	*) sed -n '2,18p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

if ! command -v clang >/dev/null; then
	echo "run-fuzzers: clang is not installed" >&2
	exit 2
fi

opts=(-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dinterop=disabled
      -Dbuildtype=debugoptimized)
if [[ -f $build/meson-private/coredata.dat ]]; then
	meson setup --reconfigure "$build" "${opts[@]}" >/dev/null || exit 2
else
	CC=clang meson setup "$build" "$src" "${opts[@]}" >/dev/null || exit 2
fi
if ! ninja -C "$build" >/dev/null; then
	echo "run-fuzzers: the fuzz build failed (ninja -C $build)" >&2
	exit 2
fi

targets=("$@")
if ((${#targets[@]} == 0)); then
	for f in "$build"/tests/fuzz/fuzz_*; do
		[[ -x $f && -f $f ]] && targets+=("${f##*/fuzz_}")
	done
fi
if ((${#targets[@]} == 0)); then
	echo "run-fuzzers: no fuzz targets built in $build/tests/fuzz" >&2
	exit 2
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
summary=()
for name in "${targets[@]}"; do
	bin=$build/tests/fuzz/fuzz_$name
	work=$build/fuzz-work/$name
	seeds=$src/tests/fuzz/corpus/$name
	log=$work/fuzz.log
	if [[ ! -x $bin ]]; then
		echo "run-fuzzers: $bin not built" >&2
		status=1
		continue
	fi
	mkdir -p "$work/corpus"
	rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
	dirs=("$work/corpus")
	[[ -d $seeds ]] && dirs+=("$seeds")
	echo "== fuzz_$name: ${seconds}s (log: $log)"
	before=$(find "$work/corpus" -type f | wc -l)
	# -close_fd_mask=2: the target's stderr is dropped (fuzz_conn runs the
	# daemon, which logs every protocol error); libFuzzer's and the
	# sanitizers' reports still reach the log
	"$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-close_fd_mask=2 -artifact_prefix="$work/" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	after=$(find "$work/corpus" -type f | wc -l)
	crashes=$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	if ((rc != 0 || crashes > 0)); then
		status=1
		tail -n 30 "$log"
	fi
	fmt='fuzz_%-10s %12s execs  %8s exec/s  %5d new inputs  %d crashes  (exit %d)'
	summary+=("$(printf "$fmt" "$name" "${execs:-?}" "${rate:-?}" $((after - before)) \
		"$crashes" "$rc")")
done
printf '%s\n' "${summary[@]}"
exit $status
