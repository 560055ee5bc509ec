# shellcheck shell=bash
# The machine's side of a guest run in the interop tests (tests/interop/*.sh):
# a guest script from tests/interop/guest/ prints TAP into $glog while
# ../shared/tools/linux-host/run (pid $gpid, in the background) runs it;
# guest_wait relays that TAP as it comes, hands the lines a test answers
# itself (its HOLD requests, its data lines) to the test, and ends with one
# check that the guest finished its plan. Source it after tap.sh (daemon.sh
# sources that); the script keeps n, failed (and skipped, if it counts them).
#
#   guest_line() {        # optional: 1 for a line the test leaves to guest_wait
#       case $1 in
#       "HOLD restart"*) restart_for_guest "$1" ;;
#       *) return 1 ;;
#       esac
#       return 0
#   }
#   guest_wait "HOST-CHECKS EXIT"
#
# guest_wait TAG: relays the guest's lines until run exits, at most
# GUEST_TIMEOUT + 30 s (run's own limit plus its shutdown): "ok N - X" and
# "not ok N - X" become this script's checks "guest: X" ("# SKIP" ones count
# as skipped), "1..N" is the guest's plan, "TAG S" its exit status S, "#"
# lines pass through as they are, anything else is shown as "# guest| ...".
# Then one check: run exited 0, the guest printed "TAG 0", and it printed as
# many results as its plan says (or, on failure, the last 20 lines of
# $glog). Leaves guest_n, guest_plan, guest_exit and grc (run's status, -1
# when it had to be killed) for the script, and gpid empty.

guest_n=0 guest_plan='' guest_exit='' guest_done_lines=0 grc=0

# lh_run ARG... >"$glog" 2>&1 &: $lh/run ARG... in the background (its
# output into the guest log, its status), booted once more when the guest's
# kernel died before the guest's script printed a line. Seen under TCG
# (2 vCPUs) once in a CI run: the 6.12 kernel hit an int3 oops in
# sched_clock_cpu while patching its text at boot, 2 s in, before init; run
# then says "the guest gave no exit status" (125) and shows the panic.
# Nothing of the test ran, so booting again tests the same thing; a guest
# that dies after its script started is never retried. A TERM (the test
# giving up on the guest: kill "$gpid") goes on to run, which stops qemu.
# shellcheck disable=SC2154  # $lh is the script's
lh_run() {
	local log attempt from rc=0 pid='' me=$BASHPID
	log=$(readlink -f "/proc/$me/fd/1") # the guest log
	trap '[[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; exit 143' TERM INT HUP
	for attempt in 1 2; do
		from=1
		[[ -f $log ]] && from=$(($(stat -c %s "$log") + 1))
		"$lh/run" "$@" 2>&1 &
		pid=$!
		rc=0
		wait "$pid" || rc=$?
		pid=''
		if ((attempt == 1 && rc == 125)) && [[ -f $log ]] &&
			tail -c +"$from" "$log" | grep -q 'Kernel panic' &&
			! tail -c +"$from" "$log" | grep -qv -e '^\[linux-host\]' -e '^  klog|'; then
			echo "[linux-host] the guest's kernel died while booting, before its script ran: booting it once more"
			continue
		fi
		break
	done
	return "$rc"
}
# shellcheck disable=SC2154  # $glog and $gpid are the script's

# guest_relay TAG: the complete lines of $glog not relayed yet.
guest_relay() {
	local tag=$1 total line lines=()
	total=$(wc -l <"$glog")
	((total > guest_done_lines)) || return 0
	# only complete lines (wc -l counts newlines): a line still being
	# written is read on the next round
	mapfile -t -s "$guest_done_lines" -n $((total - guest_done_lines)) lines <"$glog"
	guest_done_lines=$total
	for line in "${lines[@]}"; do
		if declare -F guest_line >/dev/null && guest_line "$line"; then continue; fi
		case $line in
		"ok "[0-9]*" # SKIP"*)
			guest_n=$((guest_n + 1)) skipped=$((${skipped:-0} + 1))
			ok "guest: ${line#ok * - }"
			;;
		"ok "[0-9]*) guest_n=$((guest_n + 1)); ok "guest: ${line#ok * - }" ;;
		"not ok "[0-9]*) guest_n=$((guest_n + 1)); notok "guest: ${line#not ok * - }" ;;
		1..[0-9]*) guest_plan=${line#1..} ;;
		"$tag "*) guest_exit=${line#"$tag "} ;;
		"#"*) echo "$line" ;;
		*) echo "# guest| $line" ;;
		esac
	done
}

guest_wait() {
	local tag=$1 t=$SECONDS deadline=$((SECONDS + ${GUEST_TIMEOUT:-300} + 30))
	while kill -0 "$gpid" 2>/dev/null && ((SECONDS < deadline)); do
		guest_relay "$tag"
		sleep 0.2
	done
	grc=0
	if kill -0 "$gpid" 2>/dev/null; then
		echo "# the guest still runs ${GUEST_TIMEOUT:-300} + 30 s on: stopping it"
		kill "$gpid" 2>/dev/null
		grc=-1
	fi
	wait "$gpid" || grc=$?
	gpid=''
	guest_relay "$tag"
	if ((grc == 0)) && [[ $guest_exit == 0 && $guest_plan == "$guest_n" ]]; then
		ok "the guest ran $guest_n checks and exited 0 in $((SECONDS - t))s"
	else
		notok "the guest finished: run status $grc, guest status '${guest_exit:-none}', plan '${guest_plan:-none}' for $guest_n results"
		tail -n 20 "$glog" | diag
	fi
}

# guest_release PORT MESSAGE: send MESSAGE to a guest script's hold port
# (forwarded to 127.0.0.1:PORT) until the guest answers "released"; 1 when
# it never does (20 s). qemu accepts a forwarded connection before the guest
# listens and then closes it, hence the retries.
guest_release() {
	local r
	for _ in $(seq 40); do
		# shellcheck disable=SC2016  # $0 and $1 are expanded by the inner bash
		r=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf "%s\n" "$1" >&3 && head -c 8 <&3' \
			"$1" "$2" 2>/dev/null) || true
		[[ $r == released ]] && return 0
		sleep 0.5
	done
	return 1
}
