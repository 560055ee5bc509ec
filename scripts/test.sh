#!/usr/bin/env bash
# Install, build and run every test. This is what CI runs (.ci/run) and the
# README's second command; run it as root on Debian 12 (or with --no-install
# when the dependencies are there).
#
#   scripts/test.sh [--no-install] [--quick]
#
#   1. scripts/install-deps.sh (Debian packages, the linux-host VM image)
#   2. build-test/:  -Dwerror=true; meson test: every suite (unit, fuzz corpus
#                    replay, interop against the kernel in the VM)
#   3. build-asan/:  -Db_sanitize=address,undefined -Dwerror=true; meson test:
#                    the whole suite again (unit, fuzz corpus replay,
#                    integration, interop), the daemon under the sanitizers
#                    (LeakSanitizer at each daemon's exit); valgrind_tools
#                    skips there (it runs the tools under valgrind in stage 2);
#                    the 'slow' suite (the guest tests of TLS, authentication,
#                    reservations, failover, and kernel-host from the trixie
#                    guest) runs in stage 2 only
#   4. libFuzzer:    tests/fuzz/run-fuzzers.sh (clang build in build-fuzz/),
#                    FUZZ_SECONDS (30) per fuzzer
#   5. /var/lib/nvmfd is as it was before stage 1 (tests keep their state in
#      their own directories), else a failed step;
#      tests/print-summary.py: the failures, each skip with its reason, then
#      "N passed, N failed, N skipped"
#
# The RBD tests (suite rbd) each start a throwaway Ceph cluster
# (tests/lib/with-ceph.sh, ../shared/tools/mini-ceph) and stop it after.
# --quick skips stages 3 and 4. Environment: INTEROP (auto|enabled|disabled;
# default enabled when ../shared/tools/linux-host is there, else auto),
# RBD_TESTS (auto|enabled; default enabled when Ceph and mini-ceph are there),
# MINI_CEPH,
# FUZZ_SECONDS, WERROR (true), LINUX_HOST_DIR.
# Exit status: 0 when everything passed, 1 otherwise.
set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$src" || exit 1
lh=$(realpath -m "${LINUX_HOST_DIR:-$src/../shared/tools/linux-host}")
install=1 quick=0
for a; do
	case $a in
	--no-install) install=0 ;;
	--quick) quick=1 ;;
	*) echo "usage: $0 [--no-install] [--quick]" >&2; exit 2 ;;
	esac
done
# RBD tests: required (a failure if no cluster starts) where Ceph and
# mini-ceph are there, as after install-deps.sh; else they skip, saying why.
mc=$(realpath -m "${MINI_CEPH:-$src/../shared/tools/mini-ceph/mini-ceph}")
if [[ -z ${RBD_TESTS:-} ]]; then
	if [[ -x $mc ]] && command -v ceph-mon >/dev/null; then RBD_TESTS=enabled; else RBD_TESTS=auto; fi
fi
if [[ -z ${INTEROP:-} ]]; then
	if [[ -x $lh/run ]]; then INTEROP=enabled; else INTEROP=auto; fi
fi
werror=${WERROR:-true}
export FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# meson 1.0 sets no sanitizer options; make UBSan fail the test, not just print.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:print_summary=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:print_summary=1}

logs=()
steps=$(mktemp "${TMPDIR:-/tmp}/nvmfd-steps.XXXXXX")
state_before=$(mktemp "${TMPDIR:-/tmp}/nvmfd-state.XXXXXX")
state_after=$(mktemp "${TMPDIR:-/tmp}/nvmfd-state.XXXXXX")
trap 'rm -f "$steps" "$state_before" "$state_after"' EXIT
t_all=$SECONDS
timings=()
stage() { printf '\n======== %s\n' "$*"; stage_t=$SECONDS; stage_name=$*; }
done_stage() { timings+=("$(printf '%5ss  %s' $((SECONDS - stage_t)) "$stage_name")"); }
step_fail() { echo "FAIL $*" >>"$steps"; echo "!!! $*"; }

# Tests never touch the system's state: /var/lib/nvmfd (a real service's
# health counters) must be left as it was, absent or not. system_state prints
# what it holds: every entry's name, type, mode and size, and each file's
# SHA-256. While an nvmfd that the tests did not start runs (a real service,
# which rewrites its health file every minute), only what a test daemon would
# change is compared: the entries, and the health file's power cycles, unsafe
# shutdowns and subsystem / namespace names.
STATE_DIR=/var/lib/nvmfd
service_pids=$(pgrep -x nvmfd | tr '\n' ' ')
system_state() {
	if [[ ! -e $STATE_DIR ]]; then
		echo "$STATE_DIR: absent"
		return
	fi
	(
		cd "$STATE_DIR" || { echo "$STATE_DIR: unreadable"; exit 0; }
		find . -printf '%p %y %m %s\n' 2>&1 | sort
		if [[ -z $service_pids ]]; then
			find . -type f -exec sha256sum {} + 2>&1 | sort -k2
		elif [[ -f health ]]; then
			grep -E '^(power_cycles|unsafe_shutdowns) |^(subsystem|namespace) ' health 2>&1 |
				awk '{ print $1, $2, ($1 == "namespace" ? $3 : "") }'
		fi
	) | if [[ -n $service_pids ]]; then
		# a size or mode the service may change is not the tests' doing
		sed -E 's/^(\.\/health(\.[^ ]*)? f) [0-9]+ [0-9]+$/\1/; /^\.\/\.health\./d'
	else
		cat
	fi
}
system_state >"$state_before"

# configure DIR OPTIONS...: meson setup, or reconfigure an existing build dir.
configure() {
	local dir=$1
	shift
	if [[ -f $dir/meson-private/coredata.dat ]]; then
		meson setup --reconfigure "$dir" "$@"
	else
		rm -rf "$dir"
		meson setup "$dir" "$@"
	fi
}

# build_and_test DIR "SETUP OPTIONS" [MESON TEST OPTIONS...]; adds DIR's test log
# to logs[] unless the setup or the build failed (that is one failed step).
build_and_test() {
	local dir=$1 opts=$2
	shift 2
	# shellcheck disable=SC2086  # opts is a list of words
	if ! configure "$dir" $opts; then step_fail "$dir: meson setup failed"; return 1; fi
	if ! ninja -C "$dir"; then step_fail "$dir: build failed"; return 1; fi
	# Failures are counted from the test log by print-summary.py.
	meson test -C "$dir" --print-errorlogs "$@" || true
	logs+=("$dir/meson-logs/testlog.json")
}

if ((install)); then
	stage "1. dependencies (scripts/install-deps.sh)"
	if ! scripts/install-deps.sh; then
		step_fail "scripts/install-deps.sh failed"
		python3 tests/print-summary.py --steps "$steps"
		exit 1
	fi
	done_stage
fi

stage "2. build-test: werror=$werror, interop=$INTEROP; all suites"
rm -f build-test/meson-logs/testlog.json
build_and_test build-test "-Dwerror=$werror -Dinterop=$INTEROP -Drbd_tests=$RBD_TESTS -Dmini_ceph=$mc"
done_stage

if ((!quick)); then
	stage "3. build-asan: address,undefined sanitizers; every suite, interop=$INTEROP"
	rm -f build-asan/meson-logs/testlog.json
	build_and_test build-asan "-Db_sanitize=address,undefined -Dwerror=$werror -Dinterop=$INTEROP -Drbd_tests=$RBD_TESTS -Dmini_ceph=$mc" --no-suite slow
	done_stage

	stage "4. libFuzzer, ${FUZZ_SECONDS}s per fuzzer"
	# tests/fuzz/run-fuzzers.sh builds the clang -Dfuzz=true targets in
	# build-fuzz/ and runs each for FUZZ_SECONDS; each fuzzer counts as one
	# result, from its summary line "fuzz_NAME ... N crashes  (exit N)".
	fuzzlog=$(mktemp "${TMPDIR:-/tmp}/nvmfd-fuzz.XXXXXX")
	frc=0
	if [[ -x tests/fuzz/run-fuzzers.sh ]]; then
		tests/fuzz/run-fuzzers.sh 2>&1 | tee "$fuzzlog" || frc=$?
	else
		step_fail "tests/fuzz/run-fuzzers.sh is missing"
	fi
	nf=0
	while read -r name crashes exitcode; do
		nf=$((nf + 1))
		if [[ $crashes == 0 && $exitcode == 0 ]]; then echo "PASS $name" >>"$steps"
		else step_fail "$name: $crashes crashes, exit $exitcode (see build-fuzz/fuzz-work/)"; fi
	done < <(sed -nE 's/^(fuzz_[A-Za-z0-9_]+) .* ([0-9]+) crashes +\(exit ([0-9]+)\)$/\1 \2 \3/p' "$fuzzlog")
	if ((frc != 0 && nf == 0)) || ((frc == 2)); then
		step_fail "tests/fuzz/run-fuzzers.sh failed (exit $frc)"
	fi
	rm -f "$fuzzlog"
	done_stage
fi

system_state >"$state_after"
if cmp -s "$state_before" "$state_after"; then
	echo "PASS $STATE_DIR left as it was" >>"$steps"
else
	step_fail "$STATE_DIR changed during the tests (a test without its own state directory?): $(
		diff "$state_before" "$state_after" | grep '^[<>]' | head -5 | tr '\n' ';')"
fi

stage "5. summary"
printf '%s\n' "${timings[@]}" "$(printf '%5ss  total' $((SECONDS - t_all)))"
python3 tests/print-summary.py --steps "$steps" "${logs[@]}"
