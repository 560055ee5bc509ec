#!/bin/bash
# Runs INSIDE the linux-host guest (kernel 6.1, nvme-cli 2.3), started by
# tests/interop/kernel-resv.sh: reservations from the Linux host with two host
# identities (two `nvme connect` with their own --hostnqn / --hostid, so two
# controllers of one subsystem, one per host). Commands go to one host's
# controller through its character device (/dev/nvmeX -n 1: the kernel sends
# them on that controller's queues), so each host's I/O takes its own path.
#   A registers (persistently: CPTPL 11b) and takes Write Exclusive; B
#   registers; B's write fails with Reservation Conflict, B's read succeeds;
#   the report; "HOLD kill9": the machine kills nvmfd with SIGKILL and starts
#   it again, both controllers reconnect, the reservation is still there;
#   B preempts and aborts A: A's write fails, B's succeeds, A's controller
#   has a Registration Preempted entry in log page 80h; B clears.
# Prints TAP, then "RESV-CHECKS EXIT <status>".
# Environment: ADDR, IO_PORT, SUB, HOLD_PORT, HOLD_SECONDS.
set -uo pipefail

[[ -e /etc/linux-host-release ]] || { echo "run this inside the guest" >&2; exit 2; }

addr=${ADDR:-10.0.2.2}
io_port=${IO_PORT:?}
sub=${SUB:?}
hold_port=${HOLD_PORT:-5555}
hold_secs=${HOLD_SECONDS:-120}
NQN_A=nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa
NQN_B=nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb
ID_A=aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa
ID_B=bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
note() { sed 's/^/#   /'; }
finish() { echo "1..$n"; echo "RESV-CHECKS EXIT $((failed > 0))"; exit $((failed > 0)); }

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

# ctrl_of HOSTNQN: the controller (nvmeX) of sub connected as that host
ctrl_of() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[[ $(cat "$c/subsysnqn" 2>/dev/null) == "$sub" && $(cat "$c/hostnqn" 2>/dev/null) == "$1" ]] &&
			{ basename "$c"; return 0; }
	done
	return 1
}
# io DEV OPC: one 4 KiB Write (01h) or Read (02h) of LBA 8 through that controller; output in /tmp/io.out
io() {
	local dir=-r
	[[ $2 == 0x01 ]] && dir=-w
	timeout 30 nvme io-passthru "/dev/$1" --namespace-id=1 --opcode="$2" --cdw10=8 --cdw12=0 \
		--data-len=4096 $dir --input-file=/tmp/blk >/tmp/io.out 2>&1
}
conflict() { grep -qi 'RESERVATION_CONFLICT\|Reservation Conflict\|0x83' /tmp/io.out; }
report() { timeout 30 nvme resv-report "/dev/$1" --namespace-id=1 --eds -o json >/tmp/report.json 2>&1; }

echo "# kernel $(uname -r); $(nvme version | head -n1)"
# nvme-cli 2.3 refuses a second connect to the same address and subsystem
# ("already connected", whatever the host NQN, --duplicate-connect or not):
# both hosts connect through the kernel's own interface, /dev/nvme-fabrics,
# with the options `nvme connect` would write there.
connect() {  # connect HOSTNQN HOSTID: prints the kernel's answer (instance=N,cntlid=M)
	local line
	exec 3<>/dev/nvme-fabrics || return 1
	printf 'transport=tcp,traddr=%s,trsvcid=%s,nqn=%s,hostnqn=%s,hostid=%s,reconnect_delay=1,ctrl_loss_tmo=120' \
		"$addr" "$io_port" "$sub" "$1" "$2" >&3 || { exec 3>&-; return 1; }
	read -r line <&3
	exec 3>&-
	echo "$line"
}
for h in "A $NQN_A $ID_A" "B $NQN_B $ID_B"; do
	read -r name nqn id <<<"$h"
	if connect "$nqn" "$id" >/tmp/conn.out 2>&1; then
		ok "host $name connects (hostnqn $nqn, hostid $id): $(cat /tmp/conn.out)"
	else
		notok "host $name connects"; note </tmp/conn.out; finish
	fi
done
A=$(ctrl_of "$NQN_A") B=$(ctrl_of "$NQN_B")
if [[ -n $A && -n $B && $A != "$B" ]]; then ok "two controllers of $sub: $A (host A), $B (host B)"
else notok "two controllers of $sub (A '$A', B '$B')"; finish; fi
head -c 4096 /dev/urandom >/tmp/blk

if nvme resv-register "/dev/$A" --namespace-id=1 --nrkey=0xa --rrega=0 --cptpl=3 >/tmp/r.out 2>&1; then
	ok "A: nvme resv-register --nrkey=0xa --cptpl=3"
else notok "A: nvme resv-register"; note </tmp/r.out; fi
if nvme resv-register "/dev/$B" --namespace-id=1 --nrkey=0xb --rrega=0 >/tmp/r.out 2>&1; then
	ok "B: nvme resv-register --nrkey=0xb"
else notok "B: nvme resv-register"; note </tmp/r.out; fi
if nvme resv-acquire "/dev/$A" --namespace-id=1 --crkey=0xa --rtype=1 --racqa=0 >/tmp/r.out 2>&1; then
	ok "A: nvme resv-acquire --rtype=1 (Write Exclusive)"
else notok "A: nvme resv-acquire Write Exclusive"; note </tmp/r.out; fi

b_sees() {  # b_sees LABEL: B's write conflicts, B's read succeeds, A's write succeeds
	if io "$B" 0x01; then notok "$1: B's write fails"; note </tmp/io.out
	elif conflict; then ok "$1: B's write fails with Reservation Conflict ($(head -c 80 /tmp/io.out | tr '\n' ' '))"
	else notok "$1: B's write fails with Reservation Conflict"; note </tmp/io.out; fi
	if io "$B" 0x02; then ok "$1: B's read succeeds"; else notok "$1: B's read succeeds"; note </tmp/io.out; fi
	if io "$A" 0x01; then ok "$1: A's write succeeds"; else notok "$1: A's write succeeds"; note </tmp/io.out; fi
}
b_sees "Write Exclusive held by A"
report_has() {  # report_has LABEL CTRL: rtype 1, two registrants, A (0xa) holding
	report "$2"
	if grep -q '"rtype" *: *1' /tmp/report.json && grep -q '"regctl" *: *2' /tmp/report.json; then
		ok "$1: nvme resv-report --eds: rtype 1, regctl 2 ($(tr -d ' \n' </tmp/report.json | head -c 160))"
	else
		notok "$1: nvme resv-report --eds: rtype 1, regctl 2"; note </tmp/report.json
	fi
}
report_has "report" "$B"

hold_ask "HOLD kill9"
[[ $hold_answer == restarted ]] || notok "the machine restarted nvmfd after kill -9 (answer: '${hold_answer:-none}')"
for _ in $(seq 60); do
	[[ $(cat "/sys/class/nvme/$A/state" 2>/dev/null) == live && $(cat "/sys/class/nvme/$B/state" 2>/dev/null) == live ]] && break
	sleep 1
done
if [[ $(cat "/sys/class/nvme/$A/state") == live && $(cat "/sys/class/nvme/$B/state") == live ]]; then
	ok "both controllers reconnected after kill -9 of nvmfd"
else notok "both controllers reconnected ($(cat "/sys/class/nvme/$A/state") / $(cat "/sys/class/nvme/$B/state"))"; fi
report_has "after kill -9 and restart" "$A"
b_sees "after kill -9 and restart"

if nvme resv-acquire "/dev/$B" --namespace-id=1 --crkey=0xb --prkey=0xa --rtype=1 --racqa=2 >/tmp/r.out 2>&1; then
	ok "B: nvme resv-acquire --racqa=2 --prkey=0xa (Preempt and Abort)"
else notok "B: preempt and abort"; note </tmp/r.out; fi
if io "$A" 0x01; then notok "preempted A's write fails"; note </tmp/io.out
elif conflict; then ok "preempted A's write fails with Reservation Conflict"
else notok "preempted A's write fails with Reservation Conflict"; note </tmp/io.out; fi
if io "$B" 0x01; then ok "B (holder now) writes"; else notok "B writes"; note </tmp/io.out; fi
if nvme get-log "/dev/$A" --log-id=0x80 --log-len=64 -b >/tmp/log80 2>/tmp/log.err; then
	t=$(od -An -tu1 -j8 -N1 /tmp/log80 | tr -d ' ') ns=$(od -An -tu4 -j12 -N4 /tmp/log80 | tr -d ' ')
	if [[ $t == 1 && $ns == 1 ]]; then ok "A: nvme get-log --log-id=0x80: Registration Preempted, namespace 1"
	else notok "A: log page 80h says Registration Preempted of namespace 1 (type '$t', nsid '$ns')"; od -Ax -tx1 /tmp/log80 | note; fi
else notok "A: nvme get-log --log-id=0x80"; note </tmp/log.err; fi
if report "$A" && grep -q '"regctl" *: *1' /tmp/report.json; then ok "report after the preemption: B alone"
else notok "report after the preemption: B alone"; note </tmp/report.json; fi
if nvme resv-release "/dev/$B" --namespace-id=1 --crkey=0xb --rrela=1 >/tmp/r.out 2>&1; then ok "B: nvme resv-release --rrela=1 (Clear)"
else notok "B: clear"; note </tmp/r.out; fi
if io "$A" 0x01; then ok "after Clear: A writes again"; else notok "after Clear: A writes"; note </tmp/io.out; fi
for c in "$A" "$B"; do nvme disconnect -d "$c" >/dev/null 2>&1 || notok "nvme disconnect $c"; done
finish
