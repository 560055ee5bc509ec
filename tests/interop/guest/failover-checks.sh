#!/bin/bash
# Guest script for ../shared/tools/linux-host/run: the Linux kernel's native
# NVMe multipath (nvme-core 6.1, nvme-cli 2.3, fio 3.33) over two nvmfd
# gateways serving one subsystem. Used by tests/interop/failover.sh, which
# starts the gateways on the machine (10.0.2.2 here) and answers our holds.
#
# Gateway A on PORT_A (group 1 optimized), gateway B on PORT_B (group 1
# non-optimized), one subsystem SUB with namespace 1 (NS_MB MiB) on one
# shared store. The checks:
#   - nvme connect to both; one subsystem, two paths, one namespace head;
#     nvme list-subsys and sysfs show the ANA states optimized and
#     non-optimized; the controllers' IDs differ;
#   - fio (randwrite, crc32c verify_backlog: every block written is read
#     back and checked) on the multipath head while the machine does, at our
#     hold requests (each "HOLD <step>" line waits for the machine to connect
#     to HOLD_PORT and send what it did):
#       HOLD swap      a reload makes A inaccessible and B optimized
#       HOLD kill-a    A is killed with SIGKILL
#       HOLD start-a   A is started again (optimized); we wait for its path
#       HOLD b-out     a reload makes B inaccessible
#       HOLD a-dies    A, optimized, is killed with SIGKILL and B reloaded
#                      optimized at once (an unplanned loss, the survivor
#                      promoted as a gateway monitor would)
#       HOLD a-back    A is started again (optimized)
#     and the path states are checked after each (the last two only when
#     fio has 20 s left, else a SKIP);
#   - fio exits 0 with zero errors; from fio's per-I/O latency log (ms since
#     fio started), for each event up to the next: the largest gap between
#     two completions (the failover time the host saw) and the largest I/O
#     latency, printed as "FAILOVER step=... max_gap_ms=... max_lat_ms=..."
#     for the machine's report.
#
# Prints TAP, then "HOST-CHECKS EXIT <status>".
# Environment: ADDR, PORT_A, PORT_B, SUB, NS_MB (8), FIO_MB (4), FIO_SECS (60),
# HOLD_PORT (5555), HOLD_SECONDS (120).
set -uo pipefail

[[ -e /etc/linux-host-release ]] || { echo "run this inside the guest: shared/tools/linux-host/run $0" >&2; exit 2; }

addr=${ADDR:-10.0.2.2}
port_a=${PORT_A:?}
port_b=${PORT_B:?}
sub=${SUB:?}
fio_mb=${FIO_MB:-4}
fio_secs=${FIO_SECS:-60}
hold_port=${HOLD_PORT:-5555}
hold_secs=${HOLD_SECONDS:-120}

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
note() { sed 's/^/#   /'; }
step() { echo "# === $*"; }
t0=$(date +%s)
fiopid=''
finish() {
	local rc=$?
	set +e
	[[ -n $fiopid ]] && kill "$fiopid" 2>/dev/null
	for c in /sys/class/nvme/nvme*; do
		[[ -e $c ]] && timeout 10 nvme disconnect -d "${c##*/}" >/dev/null 2>&1
	done
	echo "# kernel messages about nvme:"
	dmesg | grep -iE 'nvme' | tail -n 60 | note
	echo "1..$n"
	echo "# guest: $((n - failed)) of $n checks passed in $(($(date +%s) - t0))s"
	((rc == 0 && failed)) && rc=1
	echo "HOST-CHECKS EXIT $rc"
	exit "$rc"
}
trap finish EXIT

hold_answer=''
hold_ask() {
	local ncpid hex
	rm -f /tmp/hold.out
	(echo released | timeout "$hold_secs" nc -l -p "$hold_port" >/tmp/hold.out 2>&1) &
	ncpid=$!
	hex=$(printf '%04X' "$hold_port")
	for _ in $(seq 50); do cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ":$hex 0\+:0000 0A" && break; sleep 0.1; done
	echo "$1"
	wait "$ncpid"
	hold_answer=$(tr -d '\r' </tmp/hold.out | head -n1)
}
# milliseconds since boot (busybox date has no %N)
now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# ctrl_on PORT: the controller (nvmeN) whose address has trsvcid=PORT.
ctrl_on() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[[ -e $c/address ]] || continue
		[[ $(cat "$c/subsysnqn" 2>/dev/null) == "$sub" ]] || continue
		grep -q "trsvcid=$1\(,\|$\)" "$c/address" && { echo "${c##*/}"; return 0; }
	done
	return 1
}
# ana_on PORT: the ANA state of namespace 1's path through PORT ("none" if no path).
ana_on() {
	local c p
	c=$(ctrl_on "$1") || { echo none; return; }
	for p in /sys/class/nvme/"$c"/nvme*c*n1; do
		[[ -e $p/ana_state ]] && { cat "$p/ana_state"; return; }
	done
	echo none
}
# wait_ana PORT STATE SECS: until the path through PORT is in STATE.
wait_ana() {
	local end=$(($(date +%s) + $3))
	while (($(date +%s) < end)); do
		[[ $(ana_on "$1") == "$2" ]] && return 0
		sleep 0.2
	done
	return 1
}

step "kernel $(uname -r); $(nvme version | head -n1); multipath $(cat /sys/module/nvme_core/parameters/multipath)"

# ---- two paths, one subsystem -------------------------------------------------
for p in "$port_a" "$port_b"; do
	rc=0
	timeout 60 nvme connect -t tcp -a "$addr" -s "$p" -n "$sub" --reconnect-delay=1 \
		--ctrl-loss-tmo=120 --keep-alive-tmo=5 >/tmp/c.out 2>&1 || rc=$?
	if ((rc == 0)); then ok "nvme connect -s $p"; else notok "nvme connect -s $p (exit $rc)"; note </tmp/c.out; fi
done
sleep 2
ca=$(ctrl_on "$port_a") cb=$(ctrl_on "$port_b")
subsys_a=''
for s in /sys/class/nvme-subsystem/nvme-subsys*; do
	[[ -n $ca && -n $cb && -e $s/$ca && -e $s/$cb ]] && subsys_a=$s
done
nheads=$(ls -d /sys/block/nvme*n1 2>/dev/null | grep -vc 'c[0-9]*n1$')
if [[ -n $subsys_a && $(ls "$subsys_a" | grep -cE '^nvme[0-9]+$') -eq 2 && $nheads -eq 1 ]]; then
	ok "one subsystem ($(basename "$subsys_a")), two controllers ($ca on $port_a, $cb on $port_b), one namespace head"
else
	notok "one subsystem with two paths: A=${ca:-none} B=${cb:-none} subsys=${subsys_a:-none} heads=$nheads"
fi
id_a=$(cat "/sys/class/nvme/$ca/cntlid" 2>/dev/null) id_b=$(cat "/sys/class/nvme/$cb/cntlid" 2>/dev/null)
if [[ -n $id_a && -n $id_b && $id_a != "$id_b" ]]; then ok "controller IDs differ: A $id_a, B $id_b"
else notok "controller IDs differ: A ${id_a:-?}, B ${id_b:-?}"; fi
head=$(ls -d /sys/block/nvme*n1 | grep -v 'c[0-9]*n1$' | head -n1)
dev=/dev/${head##*/}
nvme list-subsys "$dev" >/tmp/ls.out 2>&1
note </tmp/ls.out
if grep -q "trsvcid=$port_a.* live optimized" /tmp/ls.out && grep -q "trsvcid=$port_b.* live non-optimized" /tmp/ls.out; then
	ok "nvme list-subsys: A live optimized, B live non-optimized"
else
	notok "nvme list-subsys shows A live optimized, B live non-optimized"
fi
if [[ $(ana_on "$port_a") == optimized && $(ana_on "$port_b") == non-optimized ]]; then
	ok "sysfs ana_state: A optimized, B non-optimized"
else
	notok "sysfs ana_state: A $(ana_on "$port_a"), B $(ana_on "$port_b")"
fi

# ---- fio verify through the events -------------------------------------------------
step "fio on $dev: ${fio_mb} MiB randwrite, crc32c verify_backlog, ${fio_secs} s"
cd /tmp || exit 1
fio --name=failover --filename="$dev" --ioengine=libaio --direct=1 --rw=randwrite --bs=4k \
	--size="${fio_mb}M" --iodepth=4 --verify=crc32c --verify_backlog=32 --verify_fatal=1 \
	--do_verify=1 --time_based --runtime="$fio_secs" --write_lat_log=/tmp/failover \
	--log_avg_msec=0 --output-format=json --output=/tmp/fio.json --eta=never \
	>/tmp/fio.out 2>&1 &
fiopid=$!
fio_t0=$(now_ms)
sleep 4
declare -A at=()
event() {
	at[$1]=$(($(now_ms) - fio_t0))
	hold_ask "HOLD $1"
	echo "# machine: $hold_answer"
}
event swap
if wait_ana "$port_a" inaccessible 15 && wait_ana "$port_b" optimized 15; then
	ok "after the reload: A inaccessible, B optimized (ANA change event; no reconnect)"
else
	notok "after the reload: A $(ana_on "$port_a"), B $(ana_on "$port_b")"
fi
sleep 4
event kill-a
sleep 4
if [[ $(ana_on "$port_b") == optimized ]]; then ok "A killed: B still optimized, I/O goes on"
else notok "A killed: B $(ana_on "$port_b")"; fi
event start-a
if wait_ana "$port_a" optimized 30; then ok "A is back: its path reconnected, optimized"
else notok "A is back: path $(ana_on "$port_a")"; fi
sleep 2
event b-out
if wait_ana "$port_b" inaccessible 15 && [[ $(ana_on "$port_a") == optimized ]]; then
	ok "after the reload of B: B inaccessible, A optimized"
else
	notok "after the reload of B: A $(ana_on "$port_a"), B $(ana_on "$port_b")"
fi
sleep 2
if (($(now_ms) - fio_t0 < fio_secs * 1000 - 20000)); then
	event a-dies
	if wait_ana "$port_b" optimized 15; then
		ok "A killed while optimized, B promoted: B optimized, I/O moves to it"
	else
		notok "A killed while optimized, B promoted: B $(ana_on "$port_b")"
	fi
	sleep 2
	event a-back
	if wait_ana "$port_a" optimized 30; then ok "A is back again: its path reconnected, optimized"
	else notok "A is back again: path $(ana_on "$port_a")"; fi
else
	ok "an unplanned loss of A # SKIP less than 20 s of fio left after the planned events"
fi
nvme list-subsys "$dev" 2>&1 | note
wait "$fiopid"
frc=$?
fiopid=''
errs=$(sed -n '/^{/,$p' /tmp/fio.json | python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]; print(j["error"], j["write"]["total_ios"], j["read"]["total_ios"])' 2>/dev/null) ||
	errs=$(grep -o '"error" : [0-9]*' /tmp/fio.json | head -n1)
if ((frc == 0)) && grep -q '"error" : 0' /tmp/fio.json; then
	ok "fio verify through the events: exit 0, no error ($(grep -o '"total_ios" : [0-9]*' /tmp/fio.json | head -n2 | awk '{print $3}' | tr '\n' ' ')I/Os written, verified)"
else
	notok "fio verify through the events: exit $frc (${errs:-?})"
	note </tmp/fio.out
	head -c 3000 /tmp/fio.json | note
fi
# The failover time each event cost the host, from fio's per-I/O completion
# log (ms since fio started, latency ns, direction, block size, ...): in the
# window from the event to the next one (the last event: 10 s; a dead
# gateway is noticed by the host's keep-alive, seconds later), the longest
# time without a completion (counted from the event at the earliest: the
# failover time the host saw) and the largest single I/O latency.
lat=$(ls /tmp/failover_clat.*.log 2>/dev/null | head -n1)
marks=''
for e in swap kill-a start-a b-out a-dies a-back; do
	[[ -n ${at[$e]:-} ]] && marks+="$e:${at[$e]} "
done
if [[ -n $lat && -n $marks ]]; then
	sort -t, -k1,1n "$lat" | awk -F', *' -v marks="$marks" '
		BEGIN {
			n = split(marks, m, " ")
			for (i = 1; i <= n; i++) { split(m[i], kv, ":"); name[i] = kv[1]; from[i] = kv[2] + 0 }
			name[0] = "before"; from[0] = 0
		}
		{
			t = $1 + 0; l = $2 + 0
			for (i = n; i > 0 && t < from[i]; i--) ;
			if (i == n && t >= from[n] + 10000) i = -1 # settled: 10 s after the last event
			if (l > maxl[i]) { maxl[i] = l; lat_at[i] = t }
			# a gap counts for an event from the event on
			g = t - (prev > from[i] ? prev : from[i])
			if (seen && g > gap[i]) { gap[i] = g; gap_end[i] = t }
			if (l > all_l) { all_l = l; all_l_at = t }
			if (seen && t - prev > all_g) { all_g = t - prev; all_g_end = t }
			prev = t; seen = 1; last = t
		}
		END {
			for (i = 1; i <= n; i++)
				printf "FAILOVER step=%s at_ms=%d max_gap_ms=%d gap_end_ms=%d max_lat_ms=%.1f max_lat_at_ms=%d\n", \
					name[i], from[i], gap[i], gap_end[i], maxl[i] / 1e6, lat_at[i]
			printf "FAILOVER step=all ios=%d max_gap_ms=%d gap_end_ms=%d max_lat_ms=%.1f max_lat_at_ms=%d fio_end_ms=%d\n", \
				NR, all_g, all_g_end, all_l / 1e6, all_l_at, last
		}'
fi
dmesg | grep -E 'nvme|ANA' | grep -iE 'ana|reconnect|error|recover|resetting' | tail -n 30 | note
