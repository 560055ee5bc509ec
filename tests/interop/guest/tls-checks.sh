#!/bin/bash
# Guest script for ../shared/tools/linux-host/run --guest trixie: NVMe/TCP
# over TLS 1.3 with pre-shared keys (NVMe/TCP 1.1 3.6.1) between the Linux
# 6.12 kernel (nvme-tcp / nvmet-tcp, tlshd, nvme-cli 2.13) and the machine.
# Used by tests/interop/kernel-tls.sh, which writes nvmfd's configuration and
# answers the hold request.
#
# Part 1, the kernel host against nvmfd at ADDR (the machine's 127.0.0.1):
#   TLS_PORT requires TLS; PLAIN_PORT serves the discovery log in plain text.
#   HOST1 (/etc/nvme/hostnqn) has KEY1 (SHA-256, hh 01) in nvmfd's [host]
#   section, HOST2 has KEY2 (SHA-384, hh 02).
#   - discovery lists TLS_PORT with treq "required" and sectype tls1.3
#     (nvme-cli 2.13 prints "tls13");
#   - KEY1 inserted with nvme check-tls-key --insert (identity NVMe0R01,
#     derived as nvme-cli 2.13 does: nvmfd's default tls_psk_derivation),
#     connect --tls with 2 I/O queues, fio verify, disconnect; again with
#     header and data digests;
#   - HOST2 with --tls-key=KEY2 (identity NVMe1R02 with its digest), fio
#     verify, disconnect;
#   - refusals: a wrong key for HOST1, and a connect without --tls.
# Part 2, the kernel target for the machine's nvmfdd: nvmet with a 32 MiB
#   brd namespace in SUB on 0.0.0.0:NVMET_PORT with addr_tsas tls1.3, KEY1
#   inserted for TOOL_NQN and SUB (identity NVMe0R01 and, with --identity=1,
#   NVMe1R01). Prints "HOLD nvmet" and waits on HOLD_PORT until the machine
#   has run its checks.
# Part 3, kernel TLS in nvmfd (when NVMFD_BIN names the machine's nvmfd,
#   copied in with its libraries in NVMFD_LIBS): nvmfd runs here on
#   127.0.0.1:4430 with KEY1 for HOST1, the host connects with --tls over
#   loopback, fio verify; /proc/net/tls_stat must count kernel TLS sockets
#   for nvmfd's queues as well as the host's, and nvmfd must log "records by
#   the kernel" for each queue; then with NVMFD_KTLS=0, where only the
#   host's sockets use kernel TLS.
#
# Prints TAP ("ok N - ...", "# ..." notes, the plan last), then
# "TLS-CHECKS EXIT <status>".
#
# Environment: ADDR, TLS_PORT, PLAIN_PORT, SUB, HOST2, KEY1, KEY2, WRONG_KEY,
# TOOL_NQN, NVMET_PORT (4420), HOLD_PORT (5555), HOLD_SECONDS (120), FIO_MB (4),
# NVMFD_BIN, NVMFD_LIBS.
set -uo pipefail

[[ -e /etc/linux-host-release ]] || { echo "run this inside the guest: run --guest trixie $0" >&2; exit 2; }

addr=${ADDR:-10.0.2.2}
tls_port=${TLS_PORT:?}
plain_port=${PLAIN_PORT:?}
sub=${SUB:?}
host2=${HOST2:?}
key1=${KEY1:?}
key2=${KEY2:?}
wrong=${WRONG_KEY:?}
tool_nqn=${TOOL_NQN:?}
nvmet_port=${NVMET_PORT:-4420}
hold_port=${HOLD_PORT:-5555}
hold_secs=${HOLD_SECONDS:-120}
fio_mb=${FIO_MB:-4}
host1=$(cat /etc/nvme/hostnqn)
host2_id=5a1e3c7b-2d4f-4b8e-9c61-7e0f2a3b4c5d
cfs=/sys/kernel/config/nvmet

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
note() { sed 's/^/#   /'; }
step() { echo "# === $*"; }
t0=$(date +%s)
finish() {
	local rc=$?
	set +e
	nvme disconnect-all >/dev/null 2>&1
	rm -f "$cfs/ports/1/subsystems/"* 2>/dev/null
	rmdir "$cfs/ports/1" 2>/dev/null
	[[ -d $cfs/subsystems/$sub/namespaces/1 ]] && echo 0 >"$cfs/subsystems/$sub/namespaces/1/enable" &&
		rmdir "$cfs/subsystems/$sub/namespaces/1"
	rmdir "$cfs/subsystems/$sub" 2>/dev/null
	echo "# kernel messages about nvme / tls:"
	dmesg | grep -iE 'nvme|tls|handshake' | tail -n 30 | note
	echo "1..$n"
	echo "# guest: $((n - failed)) of $n checks passed in $(($(date +%s) - t0))s"
	((rc == 0 && failed)) && rc=1
	echo "TLS-CHECKS EXIT $rc"
	exit "$rc"
}
trap finish EXIT

ctrl_of() {  # NQN HOSTNQN -> nvmeN of a live controller
	local c
	for c in /sys/class/nvme/nvme*; do
		[[ -e $c/subsysnqn && "$(cat "$c/subsysnqn")" == "$1" && "$(cat "$c/hostnqn")" == "$2" ]] &&
			{ echo "${c##*/}"; return 0; }
	done
	return 1
}
ns_of() {  # nvmeN -> its namespace block device, waiting up to 10 s
	local b
	for _ in $(seq 50); do
		for b in /sys/block/nvme*n*; do
			[[ -e $b && ${b##*/} != *c* ]] || continue
			[[ "$(cat "$b/device/subsysnqn" 2>/dev/null)" == "$sub" && -b /dev/${b##*/} ]] &&
				{ echo "/dev/${b##*/}"; return 0; }
		done
		sleep 0.2
	done
	return 1
}
io_check() {  # DEV: random writes 4k-128k with crc32c verify, QD 8 over the I/O queues
	fio --name=verify --filename="$1" --ioengine=libaio --direct=1 --rw=randwrite \
		--bsrange=4k-128k --iodepth=8 --numjobs=2 --offset_increment=$((fio_mb))M \
		--size="${fio_mb}M" --verify=crc32c --do_verify=1 --verify_fatal=1 \
		--eta=never --output-format=terse --terse-version=3 >/tmp/fio.out 2>&1 ||
		{ note </tmp/fio.out; return 1; }
}
disconnect() {  # nvmeN
	nvme disconnect -d "$1" >/dev/null || return 1
	for _ in $(seq 25); do [[ -e /sys/class/nvme/$1 ]] || return 0; sleep 0.2; done
	return 1
}
# tls_run LABEL HOSTNQN ARGS...: connect with ARGS, check the queues, fio, disconnect.
tls_run() {
	local label=$1 h=$2 c dev
	shift 2
	if ! timeout 90 nvme connect -t tcp -a "$addr" -s "$tls_port" -n "$sub" --hostnqn="$h" "$@" >/tmp/conn.out 2>&1; then
		notok "$label: nvme connect $* (exit $?)"
		note </tmp/conn.out
		return
	fi
	c=$(ctrl_of "$sub" "$h") dev=$(ns_of)
	if [[ -n $c && -n $dev ]] && io_check "$dev"; then
		ok "$label: connect $*, fio write+verify on $dev ($(cat "/sys/class/nvme/$c/queue_count" 2>/dev/null || echo ?) queues, tls_key $(cat "/sys/class/nvme/$c/tls_key" 2>/dev/null || echo ?))"
	else
		notok "$label: I/O on ${dev:-no namespace} of ${c:-no controller}"
	fi
	if [[ -n $c ]] && disconnect "$c"; then ok "$label: disconnect"; else notok "$label: disconnect"; fi
}
refused() {  # LABEL HOSTNQN ARGS...: the connect must fail and leave no controller
	local label=$1 h=$2 c
	shift 2
	if timeout 90 nvme connect -t tcp -a "$addr" -s "$tls_port" -n "$sub" --hostnqn="$h" "$@" >/tmp/conn.out 2>&1; then
		notok "$label: the connect succeeded"
		c=$(ctrl_of "$sub" "$h") && disconnect "$c"
	elif ctrl_of "$sub" "$h" >/dev/null; then
		notok "$label: a controller remains"
	else
		ok "$label: refused ($(tail -n1 /tmp/conn.out))"
	fi
}

step "kernel $(uname -r); $(nvme version | head -n1); tlshd pid $(pidof tlshd || echo none); nvmfd TLS $addr:$tls_port"
pidof tlshd >/dev/null || notok "tlshd runs"

# ---- part 1: the kernel host against nvmfd ------------------------------------
nvme discover -t tcp -a "$addr" -s "$plain_port" --hostnqn="$host1" >/tmp/disc.out 2>&1
entry=$(awk -v p="$tls_port" -v s="$sub" '/^=====/ {e = ""} {e = e $0 "\n"} /^sectype:/ && e ~ ("trsvcid: " p "\n") && e ~ ("subnqn: +" s "\n") {print e}' /tmp/disc.out)
if grep -q 'treq: *required' <<<"$entry" && grep -qE 'sectype: *tls1\.?3' <<<"$entry"; then
	ok "discovery (plain port $plain_port) shows port $tls_port: $(grep -E 'treq|sectype' <<<"$entry" | tr -s ' \n' ' ')"
else
	notok "discovery shows port $tls_port with treq required and sectype tls1.3"
	note </tmp/disc.out
fi

keyctl clear %:.nvme 2>/dev/null
if nvme check-tls-key --keydata="$key1" --hostnqn="$host1" --subsysnqn="$sub" --insert >/tmp/ins.out 2>&1; then
	ok "nvme check-tls-key --insert: $(tail -n1 /tmp/ins.out)"
else
	notok "nvme check-tls-key --insert"
	note </tmp/ins.out
fi
keyctl show %:.nvme 2>&1 | note
tls_run "TLS SHA-256 (keyring, NVMe0R01)" "$host1" --tls --nr-io-queues=2
tls_run "TLS SHA-256 with header and data digests" "$host1" --tls --nr-io-queues=2 --hdr-digest --data-digest
tls_run "TLS SHA-384 via --tls-key (NVMe1R02)" "$host2" --hostid="$host2_id" --tls --tls-key="$key2" --nr-io-queues=2

keyctl clear %:.nvme 2>/dev/null
nvme check-tls-key --keydata="$wrong" --hostnqn="$host1" --subsysnqn="$sub" --insert >/dev/null 2>&1
refused "a wrong PSK" "$host1" --tls
refused "no --tls on the TLS port" "$host1"
keyctl clear %:.nvme 2>/dev/null

# ---- part 2: the kernel target for the machine's tools --------------------------
step "nvmet: $sub on 0.0.0.0:$nvmet_port, addr_tsas tls1.3, PSK for $tool_nqn"
modprobe brd rd_nr=1 rd_size=32768 max_part=0
s=$cfs/subsystems/$sub p=$cfs/ports/1
if mkdir "$s" && mkdir "$s/namespaces/1" && echo /dev/ram0 >"$s/namespaces/1/device_path" &&
	echo 1 >"$s/namespaces/1/enable" && echo 1 >"$s/attr_allow_any_host" &&
	mkdir "$p" && echo tcp >"$p/addr_trtype" && echo ipv4 >"$p/addr_adrfam" &&
	echo 0.0.0.0 >"$p/addr_traddr" && echo "$nvmet_port" >"$p/addr_trsvcid" &&
	echo tls1.3 >"$p/addr_tsas" && ln -s "$s" "$p/subsystems/$sub"; then
	ok "nvmet TLS port: tsas $(cat "$p/addr_tsas"), treq $(cat "$p/addr_treq")"
else
	notok "nvmet TLS port set up"
fi
nvme check-tls-key --keydata="$key1" --hostnqn="$tool_nqn" --subsysnqn="$sub" --insert >/dev/null 2>&1 &&
	nvme check-tls-key --keydata="$key1" --hostnqn="$tool_nqn" --subsysnqn="$sub" --insert --identity=1 >/dev/null 2>&1 &&
	ok "PSKs for $tool_nqn inserted (identities 0 and 1)" || notok "PSKs for $tool_nqn inserted"
keyctl show %:.nvme 2>&1 | note
rm -f /tmp/hold.out
(echo released | timeout "$hold_secs" nc -l -p "$hold_port" >/tmp/hold.out 2>&1) &
ncpid=$!
hex=$(printf '%04X' "$hold_port")
for _ in $(seq 50); do grep -q ":$hex 0\+:0000 0A" /proc/net/tcp 2>/dev/null && break; sleep 0.1; done
echo "HOLD nvmet"
wait "$ncpid"
echo "# the machine says: $(tr -d '\r' </tmp/hold.out | head -n1)"

# ---- part 3: nvmfd in this guest, kernel TLS --------------------------------------
nvmfd_bin=${NVMFD_BIN:-}
if [[ -z $nvmfd_bin || ! -x $nvmfd_bin ]]; then
	echo "# part 3 skipped: no NVMFD_BIN"
	exit 0
fi
step "nvmfd in the guest: kernel TLS ($nvmfd_bin)"
rm -f "$cfs/ports/1/subsystems/"* 2>/dev/null
keyctl clear %:.nvme 2>/dev/null
mkdir -p /tmp/nvmfd-state
printf '%s\n' "$key1" >/tmp/key1 && chmod 600 /tmp/key1
printf '%s\n' '[nvmfd]' 'tls_listen = 127.0.0.1:4430' 'discovery_listen = none' 'workers = 2' \
	'state_dir = /tmp/nvmfd-state' "[subsystem $sub]" 'allow_host = any' "[namespace $sub 1]" \
	'path = ram:64M' "[host $host1]" 'tls_key = @/tmp/key1' >/tmp/nvmfd.ini
chmod 600 /tmp/nvmfd.ini
tls_stat() { awk -v k="$1" '$1 == k {print $2}' /proc/net/tls_stat; }
ktls_q='' ktls_tx='' ktls_rx=''
# With ktls_stop_first set, nvmfd is stopped while the host is still
# connected (its queues close from nvmfd's side: close_notify, then FIN).
ktls_run() {  # LABEL ENV...: nvmfd with ENV, connect, fio; sets ktls_q/tx/rx
	local label=$1 pid c='' dev
	shift
	ktls_q='' ktls_tx='' ktls_rx=''
	env "$@" LD_LIBRARY_PATH="${NVMFD_LIBS:-}" "$nvmfd_bin" -v -c /tmp/nvmfd.ini >/tmp/nvmfd.log 2>&1 &
	pid=$!
	for _ in $(seq 50); do grep -q 'listening on 127.0.0.1:4430' /tmp/nvmfd.log && break; sleep 0.2; done
	if ! kill -0 "$pid" 2>/dev/null; then
		notok "$label: nvmfd starts in the guest"
		note </tmp/nvmfd.log
		return
	fi
	nvme check-tls-key --keydata="$key1" --hostnqn="$host1" --subsysnqn="$sub" --insert >/dev/null 2>&1
	if timeout 90 nvme connect -t tcp -a 127.0.0.1 -s 4430 -n "$sub" --hostnqn="$host1" --tls \
		--nr-io-queues=2 >/tmp/conn.out 2>&1; then
		c=$(ctrl_of "$sub" "$host1") dev=$(ns_of)
		ktls_tx=$(tls_stat TlsCurrTxSw) ktls_rx=$(tls_stat TlsCurrRxSw)
		ktls_q=$(cat "/sys/class/nvme/$c/queue_count" 2>/dev/null)
		if [[ -n $dev ]] && io_check "$dev"; then
			ok "$label: connect --tls over loopback, fio write+verify ($ktls_q queues; TlsCurrTxSw $ktls_tx, TlsCurrRxSw $ktls_rx)"
		else
			notok "$label: I/O on ${dev:-no namespace}"
		fi
		[[ -n $c && -z ${ktls_stop_first:-} ]] && disconnect "$c"
	else
		notok "$label: nvme connect --tls to nvmfd in the guest"
		note </tmp/conn.out
	fi
	kill -TERM "$pid"
	wait "$pid"
	[[ -n $c && -n ${ktls_stop_first:-} ]] && disconnect "$c"
	echo "# nvmfd's TLS lines:"
	grep -E 'TLS|kTLS' /tmp/nvmfd.log | head -n 8 | note
	keyctl clear %:.nvme 2>/dev/null
}
ktls_stop_first=1 ktls_run "nvmfd with kernel TLS"
n_k=$(grep -c 'records by the kernel (kTLS)' /tmp/nvmfd.log)
n_cn=$(grep -c 'close_notify sent (kernel TLS)' /tmp/nvmfd.log)
if ((n_cn >= 1)); then
	ok "nvmfd stopped with the host connected: close_notify through kernel TLS on $n_cn of ${ktls_q:-?} queues (RFC 8446 6.1)"
else
	notok "close_notify through kernel TLS when nvmfd stops ($n_cn sent)"
	grep -E 'close_notify|closing' /tmp/nvmfd.log | head -n 6 | note
fi
if [[ -n $ktls_q ]] && ((n_k == ktls_q && ktls_tx >= 2 * ktls_q && ktls_rx >= 2 * ktls_q)); then
	ok "kernel TLS on both ends: nvmfd logged $n_k kTLS queues of $ktls_q; TlsCurrTxSw $ktls_tx, TlsCurrRxSw $ktls_rx (host + nvmfd)"
else
	notok "kernel TLS on both ends (nvmfd kTLS queues $n_k of ${ktls_q:-?}; TlsCurrTxSw ${ktls_tx:-?}, TlsCurrRxSw ${ktls_rx:-?})"
fi
ktls_run "nvmfd with NVMFD_KTLS=0 (user space records)" NVMFD_KTLS=0
n_k=$(grep -c 'records by the kernel (kTLS)' /tmp/nvmfd.log)
n_u=$(grep -c 'records in user space (' /tmp/nvmfd.log)
if [[ -n $ktls_q ]] && ((n_k == 0 && n_u == ktls_q && ktls_tx < 2 * ktls_q)) &&
	grep -q 'kernel TLS off' /tmp/nvmfd.log; then
	ok "NVMFD_KTLS=0: nvmfd seals and opens the records itself on all $n_u queues (TlsCurrTxSw $ktls_tx: the host's only)"
else
	notok "NVMFD_KTLS=0: user space records (kTLS queues $n_k, our record layer $n_u, TlsCurrTxSw ${ktls_tx:-?}, queues ${ktls_q:-?})"
fi
