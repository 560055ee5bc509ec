# shellcheck shell=bash
# The nvmfd harness of the bash integration tests (daemon.sh, blockdev.sh,
# nvmf_stat.sh, nvmf_perf.sh, valgrind_tools.sh) and interop/kernel-host.sh: the argument checks, the
# work directory and its cleanup, starting and stopping the daemon. Sourcing
# it sources tap.sh too. The script sets $nvmfd (and $nvmfdd for nv) and
# $dlog before start_nvmfd; the daemon's pid is $dpid ('' when none runs).

# shellcheck source=tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# need_built NAME PATH...: exit 2 with the usage line unless every PATH is
# given; skip the test unless each is an executable ("NAME is not built").
need_built() {
	local a=("$@") i usage=''
	for ((i = 0; i < ${#a[@]}; i += 2)); do usage+=" ${a[i]^^}"; done
	for ((i = 1; i < ${#a[@]}; i += 2)); do
		[[ -n ${a[i]} ]] || { echo "usage: $0$usage" >&2; exit 2; }
	done
	for ((i = 0; i < ${#a[@]}; i += 2)); do
		[[ -x ${a[i + 1]} ]] || skip "${a[i]} is not built (${a[i + 1]})"
	done
}

# work_dir PREFIX [keep-failed]: $work, a new ${TMPDIR:-/tmp}/PREFIX.XXXXXX. On
# exit the daemon is stopped, cleanup_more runs if the script defines it, and
# $work goes unless INTEGRATION_KEEP=1 (or, with keep-failed, a check failed).
work_dir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	keep_failed=${2:-}
	dpid=''
	trap cleanup EXIT
	trap 'echo "Bail out! interrupted"; exit 1' INT TERM HUP
}
cleanup() {
	stop_quietly
	if declare -F cleanup_more >/dev/null; then cleanup_more; fi
	if [[ ${INTEGRATION_KEEP:-0} == 1 || (-n $keep_failed && ${failed:-0} != 0) ]]; then
		echo "# work directory kept: $work"
	else
		rm -rf "$work"
	fi
}

# state_dir_given NVMFD-ARGS...: whether they give -s, or -c a file with state_dir.
state_dir_given() {
	local prev='' a
	for a; do
		[[ $a == -s || $a == --state-dir || $a == --state-dir=* ]] && return 0
		if [[ $prev == -c || $prev == --config ]] && grep -Eq '^[[:space:]]*state_dir[[:space:]]*=' "$a"; then
			return 0
		fi
		prev=$a
	done
	return 1
}

# shellcheck disable=SC2154  # $nvmfd is the script's
# start_nvmfd "PORT..." ARGS...: "$nvmfd" ARGS in the background, its output
# in $dlog; 0 once every PORT accepts on 127.0.0.1, 1 (saying why) when it
# exits or 10 s pass first.
start_nvmfd() {
	local ports=$1 p all deadline=$((SECONDS + 10))
	shift
	# Tests never touch the system's state directory (it holds a real
	# service's health counters): without -s or a state_dir in the file, -s
	# $work/state.
	if ! state_dir_given "$@"; then set -- "$@" -s "$work/state"; fi
	"$nvmfd" "$@" >"$dlog" 2>&1 </dev/null &
	dpid=$!
	while ((SECONDS < deadline)); do
		if ! kill -0 "$dpid" 2>/dev/null; then
			wait "$dpid" 2>/dev/null
			echo "#   nvmfd exited at start (status $?)"
			dpid=''
			return 1
		fi
		all=1
		for p in $ports; do port_open "$p" || { all=0; break; }; done
		((all)) && return 0
		sleep 0.1
	done
	echo "#   nvmfd did not accept on 127.0.0.1 ports $ports within 10 s"
	return 1
}

# stop_nvmfd [SECONDS]: SIGTERM; 0 if it exits within SECONDS (5) with status
# 0 (killed after that). Sets stop_ms.
stop_nvmfd() {
	local t=$(($(date +%s%N) / 1000000)) st secs=${1:-5}
	kill -TERM "$dpid" 2>/dev/null
	for _ in $(seq $((secs * 10))); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$dpid" 2>/dev/null; then
		echo "#   nvmfd still running $secs s after SIGTERM; killing it"
		kill -KILL "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
		dpid=''
		return 1
	fi
	wait "$dpid"
	st=$?
	dpid=''
	# shellcheck disable=SC2034  # stop_ms is for the script
	stop_ms=$(($(date +%s%N) / 1000000 - t))
	((st == 0)) || echo "#   nvmfd exited with status $st after SIGTERM"
	return "$st"
}

# no_sanitizer_report LABEL: one check, that $dlog has no sanitizer report.
no_sanitizer_report() {
	if grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$dlog"; then
		notok "$1"
		grep -E -A12 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$dlog" | head -n 40 | diag
	else
		ok "$1"
	fi
}

daemon_tail() {  # the daemon's last log lines as diagnostics
	[[ -n $dlog && -s $dlog ]] || return 0
	echo "#   --- daemon log (last 15 lines of ${dlog##*/})"
	tail -n 15 "$dlog" | diag
}

# nv OUT ERR ARGS...: nvmfdd with a hard time limit; its exit status.
# shellcheck disable=SC2154  # $nvmfdd is the script's
nv() {
	local out=$1 err=$2
	shift 2
	timeout -k 5 60 "$nvmfdd" "$@" -t 10 >"$out" 2>"$err"
}
