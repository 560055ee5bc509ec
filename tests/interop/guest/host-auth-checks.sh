#!/bin/bash
# Guest side of tests/interop/kernel-host-auth.sh (trixie guest: kernel 6.12,
# nvme-cli 2.13): the kernel's NVMe/TCP host authenticating to nvmfd with
# DH-HMAC-CHAP. Prints TAP (the plan last) and, when the host script must act,
# "HOLD rotate" then waits on HOLD_PORT until released.
#
# Each host NQN has its own [host NQN] section on the nvmfd side, whose
# dhchap_hashes / dhchap_dhgroups make nvmfd pick one hash and one group:
#   H1: SHA-256, null group (key hh 01), unidirectional
#   H2: SHA-384, ffdhe2048 (key hh 02), unidirectional
#   H3: SHA-512, ffdhe3072 (key hh 03), bidirectional (a controller key), 2 I/O queues
# then refusals (a wrong secret, no secret, a wrong controller secret) and a
# key rotated by SIGHUP. nvmfd slows an address down after a failure (1 s,
# doubling): the guest's connections all come from one address, so it waits
# those windows out before the next connect that must succeed.
set -uo pipefail
[[ -e /etc/linux-host-release ]] || { echo "run inside the trixie guest" >&2; exit 2; }

addr=${ADDR:-10.0.2.2} port=${IO_PORT:?} sub=${SUB:?}
hold_port=${HOLD_PORT:-5555} hold_secs=${HOLD_SECONDS:-120}
fio_size=${FIO_SIZE:-4M}
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
note() { sed 's/^/#   /'; }
finish() {
	set +e
	nvme disconnect-all >/dev/null 2>&1
	echo "1..$n"
	echo "AUTH-CHECKS EXIT $failed"
}
trap finish EXIT

ctrl_of() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[[ -e $c/subsysnqn && "$(cat "$c/subsysnqn")" == "$1" ]] && { echo "${c##*/}"; return 0; }
	done
	return 1
}
ns_of() {
	local b
	for _ in $(seq 50); do
		for b in /sys/block/nvme*n*; do
			[[ -e $b && ${b##*/} != *c* && "$(cat "$b/device/subsysnqn" 2>/dev/null)" == "$1" ]] &&
				[[ -b /dev/${b##*/} ]] && { echo "/dev/${b##*/}"; return 0; }
		done
		sleep 0.2
	done
	return 1
}
ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }
gone() { for _ in $(seq 25); do ctrl_of "$sub" >/dev/null || return 0; sleep 0.2; done; return 1; }
fio_verify() {
	fio --name=verify --filename="$1" --ioengine=libaio --direct=1 --rw=randwrite --bs=4k \
		--iodepth=8 --numjobs=1 --size="$fio_size" --verify=crc32c --do_verify=1 --verify_fatal=1 \
		--eta=never --output-format=terse --terse-version=3 >/tmp/fio.out 2>&1 || { note </tmp/fio.out; return 1; }
}
# conn NQN HOSTID ARGS...: nvme connect to nvmfd as host NQN
conn() {
	local nqn=$1 id=$2
	shift 2
	timeout 60 nvme connect -t tcp -a "$addr" -s "$port" -n "$sub" --hostnqn="$nqn" --hostid="$id" "$@" >/tmp/conn.out 2>&1
}
hold_answer=''
hold_ask() {
	local ncpid hex
	(echo released | timeout "$hold_secs" nc -l -p "$hold_port" >/tmp/hold.out 2>&1) &
	ncpid=$!
	hex=$(printf '%04X' "$hold_port")
	for _ in $(seq 50); do grep -q ":$hex 0\+:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null && break; sleep 0.1; done
	echo "$1"
	wait "$ncpid"
	hold_answer=$(tr -d '\r' </tmp/hold.out | head -n1)
}
# good NAME NQN HOSTID ARGS...: connect (nvmfd checks every queue authenticated), fio, disconnect
good() {
	local name=$1 nqn=$2 id=$3 c dev t0 t1
	shift 3
	t0=$(ms)
	if ! conn "$nqn" "$id" "$@"; then
		notok "$name: nvme connect"
		note </tmp/conn.out
		dmesg | tail -n 8 | note
		return
	fi
	t1=$(ms)
	c=$(ctrl_of "$sub") dev=$(ns_of "$sub")
	ok "$name: nvme connect in $((t1 - t0)) ms ($c, $dev; dmesg: $(dmesg | grep "$c: qid 0: authenticated" | tail -n1 | sed 's/^\[[^]]*\] //'))"
	if [[ -n $dev ]] && fio_verify "$dev"; then ok "$name: fio randwrite $fio_size with crc32c verify"
	else notok "$name: fio verify on ${dev:-(no namespace)}"; fi
	if nvme disconnect -n "$sub" >/dev/null 2>&1 && gone; then ok "$name: disconnect"
	else notok "$name: disconnect"; fi
	dmesg -c >/dev/null
}
# bad NAME NQN HOSTID ARGS...: the connect must fail and leave no controller
bad() {
	local name=$1 nqn=$2 id=$3
	shift 3
	if conn "$nqn" "$id" "$@"; then
		notok "$name: the connect succeeded"
		nvme disconnect -n "$sub" >/dev/null 2>&1
	elif ctrl_of "$sub" >/dev/null; then
		notok "$name: a controller remains"
	else
		ok "$name: refused ($(tr '\n' ' ' </tmp/conn.out | cut -c1-100); dmesg: $(dmesg | grep -iE 'auth|fail' | tail -n1 | sed 's/^\[[^]]*\] //'))"
	fi
	dmesg -c >/dev/null
}

echo "# kernel $(uname -r), $(nvme version | head -n1)"
dmesg -c >/dev/null
good "SHA-256, null group, unidirectional" "$H1" "$H1_ID" --dhchap-secret="$K1"
good "SHA-384, ffdhe2048, unidirectional" "$H2" "$H2_ID" --dhchap-secret="$K2"
good "SHA-512, ffdhe3072, bidirectional, 2 I/O queues" "$H3" "$H3_ID" -i 2 \
	--dhchap-secret="$K3" --dhchap-ctrl-secret="$C3"

bad "a wrong host secret" "$H1" "$H1_ID" --dhchap-secret="$KWRONG"
bad "no secret" "$H1" "$H1_ID"
sleep 1.5  # the window the wrong secret opened (1 s)
bad "a wrong controller secret (the host refuses nvmfd)" "$H3" "$H3_ID" \
	--dhchap-secret="$K3" --dhchap-ctrl-secret="$CWRONG"

sleep 2.5  # the window of the second failure (2 s)
# A controller connected with the old key across the rotation.
kept=''
if conn "$H1" "$H1_ID" --dhchap-secret="$K1"; then
	kept=$(ctrl_of "$sub") kdev=$(ns_of "$sub")
	echo "# connected before the rotation: $kept, $kdev"
else
	notok "connect before the rotation"; note </tmp/conn.out
fi
hold_ask "HOLD rotate"
[[ $hold_answer == rotated ]] || notok "rotate: the host script answered '$hold_answer'"
if [[ -n $kept ]]; then
	if dd if="$kdev" of=/dev/null bs=1M count=4 iflag=direct status=none; then
		ok "after SIGHUP, the controller connected with the old key keeps working"
	else
		notok "after SIGHUP, I/O on the controller connected with the old key"
	fi
	# the host re-authenticates every queue with the new key (kernel: dhchap_secret store)
	dmesg -c >/dev/null
	echo "$K1NEW" >"/sys/class/nvme/$kept/dhchap_secret"
	for _ in $(seq 50); do dmesg | grep -q "$kept: qid 0: authenticated" && break; sleep 0.2; done
	if dmesg | grep -q "$kept: qid 0: authenticated" &&
		dd if="$kdev" of=/dev/null bs=1M count=4 iflag=direct status=none; then
		ok "re-authentication with the new key (dhchap_secret written): $(dmesg | grep -m1 "$kept: qid 0: authenticated" | sed 's/^\[[^]]*\] //'), I/O goes on"
	else
		notok "re-authentication with the new key"; dmesg | tail -n 8 | note
	fi
	echo "RE-AUTH-DONE"
	nvme disconnect -n "$sub" >/dev/null 2>&1; gone
	dmesg -c >/dev/null
fi
good "after SIGHUP, the rotated key" "$H1" "$H1_ID" --dhchap-secret="$K1NEW"
bad "after SIGHUP, the old key" "$H1" "$H1_ID" --dhchap-secret="$K1"
