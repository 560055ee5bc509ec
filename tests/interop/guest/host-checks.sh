#!/bin/bash
# Guest script for ../shared/tools/linux-host/run: the Linux kernel's NVMe/TCP
# host (nvme-tcp 6.1, nvme-cli 2.3, fio 3.33) against nvmfd running on the
# machine (10.0.2.2 here is the machine's 127.0.0.1). Used by
# tests/interop/kernel-host.sh, which writes the configuration below, starts
# nvmfd and answers our hold requests.
#
# The machine's nvmfd serves:
#   SUB_ANY  any host; namespace 1: RAM, RAM_MB MiB, 512-byte blocks
#   SUB_RES  this guest's host NQN (/etc/nvme/hostnqn, put there by run --file)
#            and OTHER_NQN only; namespace 1: a regular file, FILE_MB MiB,
#            4096-byte blocks; namespace 2 (when BLK_MB is not 0): a loop
#            device on the machine, BLK_MB MiB, 4096-byte sectors, whose block
#            size the configuration does not give (the device's must show)
# I/O on IO_PORT, discovery-only on DISC_PORT.
#
# Prints TAP ("ok N - ...", "not ok N - ...", "# ..." notes, the plan last),
# then "HOST-CHECKS EXIT <status>": 0 when every check passed, 1 otherwise.
# The checks go on after a failure where they can.
#
# On the loop-device namespace: id-ns, blkdiscard and write-zeroes reading
# back zeros, an 8 MiB fio verify (4k-64k, iodepth 16), 1 MiB written with
# O_DIRECT and nvme flush; then it prints
#   BLKDATA off=BYTES len=BYTES md5=HEX
# for the machine to find that data on the loop device. With BLK_MB 0 (no
# loop device on the machine) those checks are TAP SKIPs.
#
# Restart: after writing and flushing data on SUB_RES, it prints
#   HOLD restart off=BYTES len=BYTES md5=HEX
# and listens on HOLD_PORT; the machine stops nvmfd (checking the data in
# its backing file), starts it again, then connects to the forwarded hold
# port, sends "restarted" (or what went wrong) and reads "released". The
# host must reconnect by itself (reconnect_delay 1 s) and read the data back.
#
# Reload: with fio verifying on namespace 1 of SUB_ANY, it prints
#   HOLD reload
# and the machine adds namespace 2 (RELOAD_MB MiB) and sends nvmfd SIGHUP;
# the namespace must appear on the same controller, without a reconnect.
# Then "HOLD smart KEY=VALUE ..." gives the machine what nvme smart-log
# printed, to compare with nvmf-stat there.
#
# Environment: ADDR (10.0.2.2), IO_PORT, DISC_PORT, SUB_ANY, SUB_RES,
# OTHER_NQN, INTRUDER_NQN, MISSING_NQN, RAM_MB (64), FILE_MB (64), BLK_MB (0),
# RELOAD_MB (32), HOLD_PORT (5555), HOLD_SECONDS (120), FIO_MB (8).
set -uo pipefail

[[ -e /etc/linux-host-release ]] || { echo "run this inside the guest: shared/tools/linux-host/run $0" >&2; exit 2; }

addr=${ADDR:-10.0.2.2}
io_port=${IO_PORT:?}
disc_port=${DISC_PORT:?}
sub_any=${SUB_ANY:?}
sub_res=${SUB_RES:?}
other=${OTHER_NQN:?}
intruder=${INTRUDER_NQN:?}
missing=${MISSING_NQN:-nqn.2026-11.io.nvmfd:no-such-subsystem}
ram_mb=${RAM_MB:-64}
file_mb=${FILE_MB:-64}
blk_mb=${BLK_MB:-0}
hold_port=${HOLD_PORT:-5555}
hold_secs=${HOLD_SECONDS:-120}
fio_mb=${FIO_MB:-8}
hostnqn=$(cat /etc/nvme/hostnqn)
# Host IDs for the other host NQNs (kernels since 6.5 refuse one host ID under two NQNs).
other_id=6f0c2a4e-5b1d-4d9e-8a27-3c1b0e9f4d11
intruder_id=0d7e3b9a-2c4f-4e18-b6a5-9f2e1c8d7a33

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skipcase() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
note() { sed 's/^/#   /'; }
step() { echo "# === [$(($(date +%s) - t0))s] $*"; }
t0=$(date +%s)
finish() {
	local rc=$?
	set +e
	for c in /sys/class/nvme/nvme*; do  # leave nothing connected
		[[ -e $c ]] && timeout 10 nvme disconnect -d "${c##*/}" >/dev/null 2>&1
	done
	echo "# kernel messages about nvme:"
	dmesg | grep -iE 'nvme' | tail -n 40 | note
	echo "1..$n"
	echo "# guest: $((n - failed)) of $n checks passed in $(($(date +%s) - t0))s"
	((rc == 0 && failed)) && rc=1
	echo "HOST-CHECKS EXIT $rc"
	exit "$rc"
}
trap finish EXIT

# ---- helpers ----------------------------------------------------------------
# ctrl_of NQN [HOSTNQN]: the live controller (nvmeN) of that subsystem and host.
ctrl_of() {
	local c h=${2:-$hostnqn}
	for c in /sys/class/nvme/nvme*; do
		[[ -e $c/subsysnqn ]] || continue
		[[ $(cat "$c/subsysnqn") == "$1" && $(cat "$c/hostnqn" 2>/dev/null) == "$h" ]] || continue
		[[ $(cat "$c/state") == live ]] || continue
		echo "${c##*/}"
		return 0
	done
	return 1
}
# ns_dev NQN [NSID]: the namespace NSID (1) block device of that subsystem
# (multipath head or not).
ns_dev() {
	local b
	for b in /sys/block/nvme*n*; do
		[[ -e $b && ${b##*/} != *c* ]] || continue
		[[ $(cat "$b/device/subsysnqn" 2>/dev/null) == "$1" ]] || continue
		if [[ -e $b/nsid ]]; then [[ $(cat "$b/nsid") == "${2:-1}" ]] || continue; fi
		echo "/dev/${b##*/}"
		return 0
	done
	return 1
}
# connect NQN [NVME CONNECT OPTIONS...]: sets ctrl and dev; 0 when both are there.
ctrl='' dev=''
connect() {
	local nqn=$1 rc=0
	shift
	ctrl='' dev=''
	timeout 60 nvme connect -t tcp -a "$addr" -s "$io_port" -n "$nqn" "$@" >/tmp/connect.out 2>&1 || rc=$?
	if ((rc != 0)); then
		echo "#   nvme connect -n $nqn $* failed (exit $rc):"
		note </tmp/connect.out
		return 1
	fi
	# the namespace's block device comes from the host's scan work, after
	# connect returns: seconds when the machine is busy
	for _ in $(seq 300); do
		ctrl=$(ctrl_of "$nqn") && dev=$(ns_dev "$nqn") && [[ -b $dev ]] && return 0
		sleep 0.1
	done
	echo "#   after connect: controller '${ctrl:-none}', namespace device '${dev:-none}'"
	return 1
}
disconnect() {  # disconnect CTRL: and wait until it is gone
	local c=$1
	timeout 30 nvme disconnect -d "$c" >/tmp/disc.out 2>&1 || { note </tmp/disc.out; return 1; }
	for _ in $(seq 100); do [[ -e /sys/class/nvme/$c ]] || return 0; sleep 0.1; done
	echo "#   /sys/class/nvme/$c still there after disconnect"
	return 1
}
# fio_verify LABEL DEV MB [FIO OPTIONS...]: random writes 4k-128k, iodepth 32
# (FIO_BSRANGE, FIO_IODEPTH), crc32c verify.
fio_verify() {
	local label=$1 d=$2 mb=$3 t rc=0
	shift 3
	t=$(date +%s)
	timeout 240 fio --name=verify --filename="$d" --ioengine=libaio --direct=1 --rw=randwrite \
		--bsrange="${FIO_BSRANGE:-4k-128k}" --iodepth="${FIO_IODEPTH:-32}" --size="${mb}M" --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --verify_state_save=0 --eta=never --group_reporting "$@" \
		>/tmp/fio.out 2>&1 || rc=$?
	if ((rc == 0)) && ! grep -q 'err= *[1-9]' /tmp/fio.out; then
		ok "$label ($(($(date +%s) - t))s; $(grep -Eo 'WRITE: bw=[^ ]+' /tmp/fio.out | head -n1))"
	else
		notok "$label (fio exit $rc)"
		fio_failure /tmp/fio.out
	fi
}
# fio_failure FILE: what fio said went wrong (its error lines first), as notes.
fio_failure() {
	grep -iE 'error|err=|verify|bad |fail|mismatch' "$1" | grep -v '^ *lat\|clat\|slat' | head -n 15 | note
	tail -n 8 "$1" | note
	dmesg | grep -iE 'nvme' | tail -n 15 | note
}
# fio_background NAME IODEPTH MB: a fio verify job (random writes 4k-128k)
# on $dev in the background, output in /tmp/fio-NAME.out, its pid in
# fiopid; returns once its writes flow (fio_writes: how many so far), so
# that what comes next happens with I/O in flight.
fiopid='' fio_writes=0
fio_background() {
	local fw0 fw
	timeout 240 fio --name="$1" --filename="$dev" --ioengine=libaio --direct=1 --rw=randwrite \
		--bsrange=4k-128k --iodepth="$2" --size="$3M" --verify=crc32c --do_verify=1 --verify_fatal=1 \
		--verify_state_save=0 --eta=never >"/tmp/fio-$1.out" 2>&1 &
	fiopid=$!
	read -r _ _ fw0 _ <<<"$(blkstat "$ctrl")"
	for _ in $(seq 100); do
		read -r _ _ fw _ <<<"$(blkstat "$ctrl")"
		((fw > fw0 + 32)) && break
		sleep 0.1
	done
	fio_writes=$((fw - fw0))
}
# fio_wait NAME: wait for fio_background's job; 0 when it verified without
# error, else 1 with fio's complaints as notes (fio_rc: its exit status).
fio_rc=0
fio_wait() {
	fio_rc=0
	wait "$fiopid" || fio_rc=$?
	((fio_rc == 0)) && ! grep -q 'err= *[1-9]' "/tmp/fio-$1.out" && return 0
	fio_failure "/tmp/fio-$1.out"
	return 1
}
# smart CTRL KEY...: the values (plain integers) of smart-log fields, in order.
# Keys match without case, spaces or underscores (2.3 prints "Data Units Read").
smart() {
	local c=$1 k
	shift
	timeout 30 nvme smart-log "/dev/$c" >/tmp/smart.out 2>&1 || return 1
	for k; do
		awk -F: -v k="$k" 'function norm(s) {s = tolower(s); gsub(/[ \t_]/, "", s); return s}
			norm($1) == norm(k) {v = $2; sub(/^[ \t]+/, "", v); split(v, a, " "); gsub(/[^0-9]/, "", a[1]); print a[1]; exit}' /tmp/smart.out
	done
}
# blkstat CTRL: "reads read_sectors writes write_sectors" of CTRL's namespace
# disk: the path disk (nvmeXcYnZ) under native multipath, whose stats 6.1
# keeps (the head disk's stay zero there), else the namespace disk itself.
blkstat() {
	local d
	for d in /sys/class/nvme/"$1"/nvme*n*; do
		[[ -e $d/stat ]] && { awk '{print $1, $3, $5, $7}' "$d/stat"; return; }
	done
	echo "0 0 0 0"
}
# trim_checks DEV LBS: blkdiscard (the kernel sends a whole 4 KiB page of DSM
# ranges) and nvme write-zeroes on regions written with random data first;
# both must then read back as zeros.
trim_checks() {
	local d=$1 lbs=$2 rc=0
	[[ -e /tmp/zero1m ]] || dd if=/dev/zero of=/tmp/zero1m bs=1M count=1 status=none
	[[ -e /tmp/zero64k ]] || dd if=/dev/zero of=/tmp/zero64k bs=64k count=1 status=none
	timeout 60 dd if=/dev/urandom of="$d" bs=1M count=1 seek=50 oflag=direct status=none
	timeout 60 blkdiscard -o $((50 << 20)) -l $((1 << 20)) "$d" >/tmp/trim.out 2>&1 || rc=$?
	timeout 60 dd if="$d" of=/tmp/z bs=1M count=1 skip=50 iflag=direct status=none
	if ((rc == 0)) && cmp -s /tmp/z /tmp/zero1m; then ok "blkdiscard of 1 MiB on $d, then it reads back as zeros"
	else notok "blkdiscard of 1 MiB on $d (exit $rc), then it reads back as zeros"; note </tmp/trim.out; dmesg | tail -n 3 | note; fi
	rc=0
	timeout 60 dd if=/dev/urandom of="$d" bs=1M count=1 seek=52 oflag=direct status=none
	timeout 60 nvme write-zeroes "$d" -s $(((52 << 20) / lbs)) -c $(((64 << 10) / lbs - 1)) >/tmp/trim.out 2>&1 || rc=$?
	timeout 60 dd if="$d" of=/tmp/z bs=64k count=1 skip=$((52 << 4)) iflag=direct status=none
	if ((rc == 0)) && cmp -s /tmp/z /tmp/zero64k; then ok "nvme write-zeroes of 64 KiB on $d, then it reads back as zeros"
	else notok "nvme write-zeroes of 64 KiB on $d (exit $rc), then it reads back as zeros"; note </tmp/trim.out; fi
}
# blk_checks: namespace 2 of SUB_RES, a loop device on the machine (nvmfd's
# block-device backend). The controller is connected.
blk_checks() {
	local d2='' rc=0 nsze md5 what
	if ((blk_mb == 0)); then
		for what in "nvme id-ns" "blkdiscard" "nvme write-zeroes" "fio verify" "1 MiB written, nvme flush"; do
			skipcase "loop-device namespace 2: $what" "no loop device on the machine (not root, or no losetup)"
		done
		return
	fi
	for _ in $(seq 50); do d2=$(ns_dev "$sub_res" 2) && [[ -b $d2 ]] && break; d2=''; sleep 0.1; done
	if [[ -z $d2 ]]; then
		notok "namespace 2 of $sub_res (the loop device) shows up as a block device"
		printf "%s\n" /sys/block/* | note
		return
	fi
	timeout 30 nvme id-ns "$d2" >/tmp/idns.out 2>&1
	nsze=$(awk -F: '$1 ~ /^nsze/ {gsub(/ /, "", $2); print $2}' /tmp/idns.out)
	if [[ -n $nsze ]] && ((nsze == blk_mb * 256)) && grep -Eq 'lbads:12 .*in use' /tmp/idns.out; then
		ok "nvme id-ns $d2 (loop device): nsze $((nsze)), 4096-byte LBAs in use, as the device has them"
	else
		notok "nvme id-ns $d2 (loop device): nsze ${nsze:-?} (want $((blk_mb * 256))), lbads:12 in use"
		note </tmp/idns.out
	fi
	trim_checks "$d2" 4096
	FIO_BSRANGE=4k-64k FIO_IODEPTH=16 fio_verify "fio randwrite 4k-64k iodepth 16 + crc32c verify, 8 MiB on the loop-device namespace" "$d2" 8
	head -n1 /tmp/fio.out | note
	# 1 MiB at 56 MiB, read back, flushed; the machine then finds it on the loop device
	timeout 60 dd if=/dev/urandom of=/tmp/blk1m bs=1M count=1 status=none
	timeout 60 dd if=/tmp/blk1m of="$d2" bs=1M seek=56 oflag=direct status=none || rc=$?
	timeout 60 dd if="$d2" of=/tmp/blk1m.back bs=1M skip=56 count=1 iflag=direct status=none || rc=$?
	timeout 30 nvme flush "$d2" >/tmp/flush.out 2>&1 || rc=$?
	md5=$(md5sum </tmp/blk1m | cut -d' ' -f1)
	if ((rc == 0)) && cmp -s /tmp/blk1m /tmp/blk1m.back && grep -qi success /tmp/flush.out; then
		ok "1 MiB written at 56 MiB on $d2 reads back; nvme flush: $(head -n1 /tmp/flush.out)"
	else
		notok "1 MiB written at 56 MiB on $d2 reads back, then nvme flush (exit $rc)"
		note </tmp/flush.out
	fi
	echo "BLKDATA off=$((56 << 20)) len=$((1 << 20)) md5=$md5"
}
# discard_proof DEV1 [DEV2]: 8 MiB of data at 24 MiB on the file namespace
# (DEV1) and the loop-device one (DEV2), then "HOLD alloc before" (the
# machine notes its backing files' allocated bytes and the loop device's
# sectors written), blkdiscard of those 8 MiB, "HOLD alloc after": the
# machine checks the files lost 8 MiB each and the loop device wrote nothing.
discard_proof() {
	local d rc=0
	for d; do
		timeout 60 dd if=/dev/urandom of="$d" bs=1M count=8 seek=24 oflag=direct conv=fsync status=none || rc=$?
	done
	hold_ask "HOLD alloc before"
	for d; do
		timeout 60 blkdiscard -o $((24 << 20)) -l $((8 << 20)) "$d" >/tmp/trim.out 2>&1 || rc=$?
	done
	if ((rc == 0)); then ok "blkdiscard of 8 MiB on $* (the machine checks what it freed)"
	else notok "8 MiB written then blkdiscard on $* (exit $rc)"; note </tmp/trim.out; fi
	hold_ask "HOLD alloc after"
}
# fstrim_proof DEV...: a file system's own discards. On each device (the
# file namespace, the loop-device one): the machine's mke2fs -t ext4 (64 MiB,
# the whole namespace; -E nodiscard so that only fstrim discards, inode tables
# and journal written now rather than by ext4lazyinit later), mount -o noatime
# (so that opening the mount point dirties nothing), 8 MiB written and
# deleted, sync (ext4 frees blocks when the journal commits). Then "HOLD
# fstrim before" (the machine notes allocated bytes and the loop device's
# sectors written), fstrim -v of every mount point, "HOLD fstrim after
# trimmed=BYTES,BYTES": the machine checks each backing file lost at least
# the 8 MiB deleted and keeps no more than the namespace minus what fstrim
# trimmed, and that the loop device wrote nothing. ext4 and mke2fs are not in
# the guest: the machine passes ext4.ko and its dependencies from the guest
# kernel's .deb and its own mke2fs and fstrim (with their libraries, run by
# their own ld.so) in EXT4_DIR, or EXT4_SKIP says why not.
ext4_dir=${EXT4_DIR:-}
ext4_skip=${EXT4_SKIP:-}
ext4_run() {  # PROGRAM ARGS...: one of the machine's programs in EXT4_DIR, 120 s at most
	local p=$1
	shift
	timeout 120 env MKE2FS_CONFIG="$ext4_dir/mke2fs.conf" "$ext4_dir/lib/ld-linux-x86-64.so.2" \
		--library-path "$ext4_dir/lib" "$ext4_dir/bin/$p" "$@"
}
fstrim_proof() {
	local d m i=0 rc=0 t mnts=() trimmed=() out b
	if [[ -z $ext4_dir ]]; then
		skipcase "mkfs.ext4, 8 MiB written and deleted, fstrim on $*" "${ext4_skip:-no EXT4_DIR}"
		return
	fi
	t=$(date +%s)
	for m in $(cat "$ext4_dir/mods/order"); do
		[[ -e /sys/module/$m ]] || insmod "$ext4_dir/mods/$m.ko" >>/tmp/fstrim.out 2>&1 || rc=$?
	done
	if ((rc)) || ! grep -qw ext4 /proc/filesystems; then
		notok "insmod $(tr '\n' ' ' <"$ext4_dir/mods/order")from the guest kernel's .deb (exit $rc)"
		note </tmp/fstrim.out
		return
	fi
	: >/tmp/fstrim.out
	for d; do
		i=$((i + 1)) m=/mnt/fstrim$i
		mkdir -p "$m"
		ext4_run mke2fs -q -F -t ext4 -b 4096 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$d" >>/tmp/fstrim.out 2>&1 || rc=$?
		mount -t ext4 -o noatime "$d" "$m" >>/tmp/fstrim.out 2>&1 || { rc=$?; continue; }
		mnts+=("$m")
		for f in 1 2 3 4; do
			timeout 60 dd if=/dev/urandom of="$m/f$f" bs=1M count=2 conv=fsync status=none || rc=$?
		done
		rm -f "$m"/f[1-4]
	done
	sync
	if ((rc == 0)); then
		hold_ask "HOLD fstrim before"
		for m in "${mnts[@]}"; do
			out=$(ext4_run fstrim -v "$m" 2>&1) || rc=$?
			echo "$out" >>/tmp/fstrim.out
			b=$(sed -nE 's/.*\(([0-9]+) bytes\) trimmed.*/\1/p' <<<"$out")
			trimmed+=("${b:-0}")
		done
		hold_ask "HOLD fstrim after trimmed=$(IFS=,; echo "${trimmed[*]}")"
	fi
	for m in "${mnts[@]}"; do umount "$m" >>/tmp/fstrim.out 2>&1 || rc=$?; done
	if ((rc == 0)); then
		ok "mkfs.ext4 -E nodiscard, mount, 8 MiB written and deleted, fstrim -v on $* ($(($(date +%s) - t))s): $(grep -h trimmed /tmp/fstrim.out | tr '\n' ' ')"
	else
		notok "mkfs.ext4, mount, 8 MiB written and deleted, fstrim -v, umount on $* (exit $rc)"
		note </tmp/fstrim.out
	fi
}
# hold_ask LINE: print LINE for the machine, wait on HOLD_PORT until it
# connects; sets hold_answer to what it sent.
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
# disc_nqns OUTPUT-FILE: the NVMe subsystem NQNs a discovery log lists, sorted, one line.
disc_nqns() {
	awk '/^subtype:/ {nvm = ($0 ~ /nvme subsystem/)} /^subnqn:/ && nvm {print $2}' "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}

step "kernel $(uname -r); $(nvme version | head -n1); nvmfd at $addr:$io_port (discovery $disc_port); host $hostnqn"

# ---- discovery --------------------------------------------------------------
want_all=$(printf '%s\n' "$sub_any" "$sub_res" | sort | tr '\n' ' ' | sed 's/ $//')
for p in "$disc_port discovery" "$io_port I/O"; do
	read -r port kind <<<"$p"
	rc=0
	timeout 60 nvme discover -t tcp -a "$addr" -s "$port" >/tmp/d.out 2>&1 || rc=$?
	got=$(disc_nqns /tmp/d.out)
	ports=$(awk '/^subtype:/ {nvm = ($0 ~ /nvme subsystem/)} /^trsvcid:/ && nvm {print $2}' /tmp/d.out | sort -u | tr '\n' ' ')
	if ((rc == 0)) && [[ $got == "$want_all" && $ports == "$io_port " ]]; then
		ok "nvme discover -s $port ($kind port) lists both subsystems, trsvcid $io_port"
	else
		notok "nvme discover -s $port ($kind port) (exit $rc): want [$want_all] on trsvcid $io_port, got [$got] on trsvcid ${ports:-none}"
		note </tmp/d.out
	fi
done
for h in "$other $other_id $want_all" "$intruder $intruder_id $sub_any"; do
	read -r hn hid want <<<"$h"
	rc=0
	timeout 60 nvme discover -t tcp -a "$addr" -s "$disc_port" --hostnqn="$hn" --hostid="$hid" >/tmp/d.out 2>&1 || rc=$?
	got=$(disc_nqns /tmp/d.out)
	if ((rc == 0)) && [[ $got == "$want" ]]; then ok "nvme discover --hostnqn=${hn##*:} lists exactly: $want"
	else notok "nvme discover --hostnqn=${hn##*:} (exit $rc): want [$want], got [$got]"; note </tmp/d.out; fi
done

# ---- plain connect, list, identify, SMART, fio on the RAM namespace ----------
step "nvme connect $sub_any"
if connect "$sub_any"; then
	ok "nvme connect -n $sub_any: $ctrl, $dev"
	if timeout 30 nvme list >/tmp/list.out 2>&1 && grep -q "^$dev " /tmp/list.out; then ok "nvme list shows $dev"
	else notok "nvme list shows $dev"; note </tmp/list.out; fi
	timeout 30 nvme id-ctrl "/dev/$ctrl" >/tmp/idc.out 2>&1
	if grep -Eq "^subnqn +: $sub_any\$" /tmp/idc.out && grep -Eq '^cntrltype +: 1$' /tmp/idc.out; then
		ok "nvme id-ctrl: subnqn, cntrltype 1 (I/O), $(grep -E '^(mdts|maxcmd|ioccsz|kas) ' /tmp/idc.out | tr -s ' ' | tr '\n' ' ')"
	else
		notok "nvme id-ctrl /dev/$ctrl: subnqn $sub_any, cntrltype 1"
		note </tmp/idc.out
	fi
	# issue 13: the mandatory features (Base 2.0 5.27.1) and one power state.
	if grep -Eq '^npss +: 0$' /tmp/idc.out && grep -Eq '^ps +0 : mp:25.00W' /tmp/idc.out; then
		ok "nvme id-ctrl: npss 0, ps 0 described"
	else
		notok "nvme id-ctrl: npss 0 and ps 0"; grep -E '^(npss|ps )' /tmp/idc.out | note
	fi
	for f in 1 2 4 5 8; do
		if timeout 30 nvme get-feature "/dev/$ctrl" -f "$f" >/tmp/gf.out 2>&1 &&
			! grep -Eq 'NVMe status|[Ff]ail' /tmp/gf.out; then
			ok "nvme get-feature -f $f: $(head -1 /tmp/gf.out | tr -s ' ')"
		else
			notok "nvme get-feature -f $f"; note </tmp/gf.out
		fi
	done
	# Host Identifier (Base 2.0 5.27.1.26): with EXHID 1 the 16 bytes are the
	# HOSTID this host sent in Connect (sysfs hostid: the UUID's bytes in
	# order). Without --cdw11, nvme-cli sends EXHID 0 with 8 bytes of data (the
	# 64-bit identifier, libnvme's nvme_get_feature_length), which a Fabrics
	# controller does not have: Invalid Field in Command (nvmet, SPDK alike).
	want=$(tr -d '-' <"/sys/class/nvme/$ctrl/hostid" 2>/dev/null)
	got=$(timeout 30 nvme get-feature "/dev/$ctrl" -f 0x81 --cdw11=1 -b 2>/tmp/gf.err | od -An -tx1 -v | tr -d ' \n')
	if [[ -n $want && $got == "$want" ]]; then
		ok "nvme get-feature -f 0x81 --cdw11=1: the 128-bit HOSTID of Connect ($(cat "/sys/class/nvme/$ctrl/hostid"))"
	else
		notok "nvme get-feature -f 0x81 --cdw11=1: got '${got:-nothing}', want the Connect HOSTID '${want:-?}'"; note </tmp/gf.err
	fi
	rc=0
	timeout 30 nvme get-feature "/dev/$ctrl" -f 0x81 >/tmp/gf.out 2>&1 || rc=$?
	sent=''
	# nvme-cli 2.13 prints the command it sent at -vvv (2.3 does not)
	timeout 30 nvme get-feature "/dev/$ctrl" -f 0x81 -vvv >/tmp/gfv.out 2>&1
	grep -q '^cdw11' /tmp/gfv.out && sent=" (nvme-cli sent cdw11 $(awk '/^cdw11/ {print $3}' /tmp/gfv.out), data_len $(awk '/^data_len/ {print $3}' /tmp/gfv.out))"
	if ((rc != 0)) && grep -qi 'invalid field' /tmp/gf.out; then
		ok "nvme get-feature -f 0x81 (EXHID 0: a 64-bit identifier) is refused$sent: $(grep -Eio 'NVMe status: [^:(]*' /tmp/gf.out | head -n1)"
	else
		notok "nvme get-feature -f 0x81 without --cdw11=1: want Invalid Field in Command (exit $rc)$sent"; note </tmp/gf.out
	fi
	timeout 30 nvme id-ns "$dev" >/tmp/idns.out 2>&1
	nsze=$(awk -F: '$1 ~ /^nsze/ {gsub(/ /, "", $2); print $2}' /tmp/idns.out)
	if [[ -n $nsze ]] && ((nsze == ram_mb * 2048)) && grep -Eq 'lbads:9 .*in use' /tmp/idns.out; then
		ok "nvme id-ns $dev: nsze $nsze, 512-byte LBAs in use"
	else
		notok "nvme id-ns $dev: nsze ${nsze:-?} (want $((ram_mb * 2048))), lbads:9 in use"
		note </tmp/idns.out
	fi
	qc=$(cat "/sys/class/nvme/$ctrl/queue_count" 2>/dev/null)
	echo "#   $ctrl: queue_count ${qc:-?} (admin + I/O) with $(nproc) CPUs"

	# SMART: the daemon's counters move exactly as much as the block layer's.
	read -r w0 dw0 r0 dr0 <<<"$(smart "$ctrl" host_write_commands data_units_written host_read_commands data_units_read | tr '\n' ' ')"
	read -r br0 _ bw0 bws0 <<<"$(blkstat "$ctrl")"
	timeout 60 dd if=/dev/urandom of=/tmp/8m bs=1M count=8 status=none
	timeout 60 dd if=/tmp/8m of="$dev" bs=1M oflag=direct status=none
	read -r w1 dw1 <<<"$(smart "$ctrl" host_write_commands data_units_written | tr '\n' ' ')"
	read -r br1 _ bw1 bws1 <<<"$(blkstat "$ctrl")"
	# data units: thousands of 512-byte units, rounded up; 8 MiB = 16384 units
	if [[ -n $w0 && -n $w1 && $dw0 == 0 ]] && ((w1 - w0 == bw1 - bw0 && dw1 == (16384 + 999) / 1000)); then
		ok "smart-log after an 8 MiB O_DIRECT write on a fresh namespace: data_units_written $dw1 (= ceil(16384/1000)), host_write_commands +$((w1 - w0)) = the block layer's writes"
	else
		notok "smart-log after 8 MiB written: data_units_written ${dw0:-?} -> ${dw1:-?} (want 0 -> 17), host_write_commands ${w0:-?} -> ${w1:-?} (+$((${w1:-0} - ${w0:-0})), block layer +$((bw1 - bw0)) writes, +$((bws1 - bws0)) sectors)"
		note </tmp/smart.out
	fi
	# 16 x 512000 bytes = 16000 units: exactly 16 more data units either way
	read -r w0 dw0 r0 dr0 <<<"$(smart "$ctrl" host_write_commands data_units_written host_read_commands data_units_read | tr '\n' ' ')"
	read -r br0 _ bw0 bws0 <<<"$(blkstat "$ctrl")"
	timeout 60 dd if=/dev/urandom of="$dev" bs=512000 count=16 seek=40 oflag=direct status=none
	timeout 60 dd if="$dev" of=/dev/null bs=512000 count=16 skip=40 iflag=direct status=none
	read -r w1 dw1 r1 dr1 <<<"$(smart "$ctrl" host_write_commands data_units_written host_read_commands data_units_read | tr '\n' ' ')"
	read -r br1 _ bw1 bws1 <<<"$(blkstat "$ctrl")"
	if [[ -n $w1 && -n $r1 ]] && ((dw1 - dw0 == 16 && dr1 - dr0 == 16 && w1 - w0 == bw1 - bw0 && r1 - r0 == br1 - br0)); then
		ok "smart-log after 16 x 512000 B written and read: data units +16 each, commands +$((w1 - w0)) writes / +$((r1 - r0)) reads as the block layer counted"
	else
		notok "smart-log deltas after 8192000 B written and read: data_units_written +$((${dw1:-0} - ${dw0:-0})) read +$((${dr1:-0} - ${dr0:-0})) (want 16, 16); host_write_commands +$((${w1:-0} - ${w0:-0})) (block layer $((bw1 - bw0))), host_read_commands +$((${r1:-0} - ${r0:-0})) (block layer $((br1 - br0)))"
		note </tmp/smart.out
	fi
	timeout 60 dd if="$dev" of=/tmp/8m.back bs=1M count=8 iflag=direct status=none
	if cmp -s /tmp/8m /tmp/8m.back; then ok "dd: 8 MiB read back with O_DIRECT equals what was written"
	else notok "dd: 8 MiB read back with O_DIRECT equals what was written"; fi

	trim_checks "$dev" 512
	fio_verify "fio randwrite 4k-128k iodepth 32 + crc32c verify, ${fio_mb} MiB on the RAM namespace" "$dev" "$fio_mb"
	if disconnect "$ctrl"; then ok "nvme disconnect $ctrl"; else notok "nvme disconnect $ctrl"; fi
else
	notok "nvme connect -n $sub_any"
fi

# ---- digests ----------------------------------------------------------------
step "nvme connect -g -G $sub_any"
if connect "$sub_any" -g -G; then
	ok "nvme connect -g -G (header and data digests): $ctrl"
	fio_verify "fio verify with digests, 8 MiB" "$dev" 8 --offset=16M
	# Reads and writes of the same 256 KiB at once: each read's data digest
	# must cover the bytes sent, whichever of the overlapping writes they
	# show (a mismatch makes this host reset the association).
	lines=$(dmesg | wc -l)
	rc=0
	timeout 60 fio --name=overlap --filename="$dev" --ioengine=libaio --direct=1 --rw=randrw \
		--bsrange=4k-64k --iodepth=16 --numjobs=2 --offset=40M --size=256k --time_based \
		--runtime=4 --group_reporting --eta=never >/tmp/fio-overlap.out 2>&1 || rc=$?
	bad=$(dmesg | tail -n +$((lines + 1)) | grep -i nvme | grep -iE 'digest|recovery|reset|reconnect' | head -n3)
	if ((rc == 0)) && [[ -z $bad ]] && ! grep -q 'err= *[1-9]' /tmp/fio-overlap.out; then
		ok "fio randrw on one 256 KiB range with digests, 2 jobs: no digest error, no reset ($(grep -Eo 'read: IOPS=[^,]+' /tmp/fio-overlap.out | head -n1))"
	else
		notok "fio randrw on one 256 KiB range with digests (fio exit $rc)"
		printf '%s\n' "$bad" | note
		fio_failure /tmp/fio-overlap.out
	fi
	disconnect "$ctrl" || notok "nvme disconnect $ctrl (digests)"
else
	notok "nvme connect -g -G -n $sub_any"
fi

# ---- I/O queue counts -------------------------------------------------------
for nq in 1 2; do
	step "nvme connect -i $nq $sub_any"
	if connect "$sub_any" -i "$nq"; then
		qc=$(cat "/sys/class/nvme/$ctrl/queue_count" 2>/dev/null)
		if [[ $qc == $((nq + 1)) ]]; then ok "nvme connect -i $nq: queue_count $qc (admin + $nq I/O queues)"
		else notok "nvme connect -i $nq: queue_count ${qc:-?}, want $((nq + 1))"; fi
		if ((nq == 2)); then
			fio_verify "fio numjobs=2 on 2 I/O queues, 2 x 8 MiB" "$dev" 8 --numjobs=2 --offset_increment=8M
		fi
		disconnect "$ctrl" || notok "nvme disconnect $ctrl (-i $nq)"
	else
		notok "nvme connect -i $nq -n $sub_any"
	fi
done

# ---- refusals ---------------------------------------------------------------
step "refusals"
lines=$(dmesg | wc -l)
rc=0
timeout 60 nvme connect -t tcp -a "$addr" -s "$io_port" -n "$sub_res" --hostnqn="$intruder" --hostid="$intruder_id" >/tmp/c.out 2>&1 || rc=$?
sleep 0.5
msg=$(dmesg | tail -n +$((lines + 1)) | grep -iE 'not allowed|invalid host' | head -n1)
if ((rc != 0)) && ! ctrl_of "$sub_res" "$intruder" >/dev/null && [[ -n $msg ]]; then
	ok "a host NQN not on the allow-list is refused: ${msg#*] }"
else
	notok "a host NQN not on the allow-list is refused (nvme connect exit $rc; kernel said: ${msg:-nothing})"
	note </tmp/c.out
	dmesg | tail -n +$((lines + 1)) | note
fi
lines=$(dmesg | wc -l)
rc=0
timeout 60 nvme connect -t tcp -a "$addr" -s "$io_port" -n "$missing" >/tmp/c.out 2>&1 || rc=$?
sleep 0.5
msg=$(dmesg | tail -n +$((lines + 1)) | grep -iE 'subsysnqn|invalid' | head -n1)
if ((rc != 0)) && [[ -n $msg ]]; then ok "an unknown subsystem is refused: ${msg#*] }"
else notok "an unknown subsystem is refused (exit $rc; kernel said: ${msg:-nothing})"; note </tmp/c.out; fi
# The second allowed host NQN gets in.
ctrl=''
rc=0
timeout 60 nvme connect -t tcp -a "$addr" -s "$io_port" -n "$sub_res" --hostnqn="$other" --hostid="$other_id" >/tmp/c.out 2>&1 || rc=$?
for _ in $(seq 50); do ctrl=$(ctrl_of "$sub_res" "$other") && break; sleep 0.1; done
if ((rc == 0)) && [[ -n $ctrl ]]; then
	ok "the second allowed host NQN connects to $sub_res: $ctrl"
	disconnect "$ctrl" || notok "nvme disconnect $ctrl (second host)"
else
	notok "the second allowed host NQN connects to $sub_res (exit $rc)"
	note </tmp/c.out
fi

# ---- the file namespace, and a daemon restart under a connected host ---------
step "nvme connect --reconnect-delay=1 --ctrl-loss-tmo=60 $sub_res"
if connect "$sub_res" --reconnect-delay=1 --ctrl-loss-tmo=60; then
	ok "nvme connect (reconnect-delay 1, ctrl-loss-tmo 60) -n $sub_res: $ctrl, $dev"
	timeout 30 nvme id-ns "$dev" >/tmp/idns.out 2>&1
	nsze=$(awk -F: '$1 ~ /^nsze/ {gsub(/ /, "", $2); print $2}' /tmp/idns.out)
	if [[ -n $nsze ]] && ((nsze == file_mb * 256)) && grep -Eq 'lbads:12 .*in use' /tmp/idns.out; then
		ok "nvme id-ns $dev (file): nsze $nsze, 4096-byte LBAs in use"
	else
		notok "nvme id-ns $dev (file): nsze ${nsze:-?} (want $((file_mb * 256))), lbads:12 in use"
		note </tmp/idns.out
	fi
	trim_checks "$dev" 4096
	fio_verify "fio randwrite 4k-128k iodepth 32 + crc32c verify, ${fio_mb} MiB on the file namespace" "$dev" "$fio_mb"
	# before blk_checks: that leaves data on the loop device the machine checks last
	step "fstrim on ext4 frees space on the machine and writes nothing"
	d2=''
	if ((blk_mb > 0)); then
		for _ in $(seq 50); do d2=$(ns_dev "$sub_res" 2) && [[ -b $d2 ]] && break; d2=''; sleep 0.1; done
	fi
	fstrim_proof "$dev" ${d2:+"$d2"}
	step "namespace 2 of $sub_res: a loop device on the machine"
	blk_checks
	step "blkdiscard frees space on the machine and writes nothing"
	if ((blk_mb > 0)) && d2=$(ns_dev "$sub_res" 2) && [[ -b $d2 ]]; then
		discard_proof "$dev" "$d2"
	else
		discard_proof "$dev"
	fi

	off_mb=40 len_mb=4
	timeout 60 dd if=/dev/urandom of=/tmp/keep bs=1M count=$len_mb status=none
	rc=0
	timeout 60 dd if=/tmp/keep of="$dev" bs=1M seek=$off_mb oflag=direct conv=fsync status=none || rc=$?
	sync
	md5=$(md5sum </tmp/keep | cut -d' ' -f1)
	if ((rc == 0)); then ok "$len_mb MiB written at $off_mb MiB with O_DIRECT + fsync (md5 $md5)"
	else notok "$len_mb MiB written at $off_mb MiB with O_DIRECT + fsync (dd exit $rc)"; fi

	# A fio verify job keeps I/O in flight across the restart (0-24 MiB).
	fio_background across 32 24
	echo "#   fio across the restart: $fio_writes writes done at $(cut -d' ' -f1 /proc/uptime)s"

	# Ask the machine to restart nvmfd, and wait for its answer.
	lines=$(dmesg | wc -l)
	t=$(date +%s)
	hold_ask "HOLD restart off=$((off_mb << 20)) len=$((len_mb << 20)) md5=$md5"
	answer=$hold_answer
	if [[ $answer == restarted* ]]; then ok "the machine restarted nvmfd ($answer) after $(($(date +%s) - t))s"
	else notok "the machine restarted nvmfd (answer: '${answer:-none}')"; fi

	# The host reconnects by itself.
	state=''
	for _ in $(seq 600); do
		state=$(cat "/sys/class/nvme/$ctrl/state" 2>/dev/null) || state=gone
		[[ $state == live || $state == gone ]] && break
		sleep 0.1
	done
	msgs=$(dmesg | tail -n +$((lines + 1)))
	if [[ $state == live ]] && grep -qiE 'reconnected' <<<"$msgs"; then
		ok "$ctrl reconnected by itself after $(($(date +%s) - t))s: $(grep -iE 'reconnected' <<<"$msgs" | tail -n1 | sed 's/^\[[^]]*\] //')"
	else
		notok "$ctrl reconnected by itself (state ${state:-?} after $(($(date +%s) - t))s)"
		note <<<"$msgs"
	fi
	rc=0
	timeout 60 dd if="$dev" of=/tmp/keep.back bs=1M skip=$off_mb count=$len_mb iflag=direct status=none || rc=$?
	if ((rc == 0)) && cmp -s /tmp/keep /tmp/keep.back; then
		ok "after the restart, the $len_mb MiB flushed before it read back intact"
	else
		notok "after the restart, the $len_mb MiB flushed before it read back intact (dd exit $rc)"
	fi
	if fio_wait across; then
		ok "fio verify across the restart ($(grep -c 'requeuing I/O' <<<"$msgs") "requeuing I/O" messages while nvmfd was down; write phase $(grep -Eo 'WRITE: .*run=[0-9-]+msec' /tmp/fio-across.out | grep -Eo 'run=[0-9]+' | cut -d= -f2) ms): no error, data verified"
	else
		notok "fio verify with I/O in flight across the restart (fio exit $fio_rc)"
	fi
	fio_verify "fio verify after the reconnect, 8 MiB" "$dev" 8 --offset=24M
	if disconnect "$ctrl"; then ok "nvme disconnect $ctrl"; else notok "nvme disconnect $ctrl"; fi
else
	notok "nvme connect -n $sub_res"
	echo "HOLD skip"
fi

# ---- a live reload under a connected host, then smart-log against nvmf-stat ---
step "live reload: namespace 2 joins $sub_any while fio runs on namespace 1"
if connect "$sub_any"; then
	ok "nvme connect -n $sub_any: $ctrl, $dev"
	cntlid=$(cat "/sys/class/nvme/$ctrl/cntlid")
	fio_background reload 16 16
	lines=$(dmesg | wc -l)
	t=$(date +%s)
	hold_ask "HOLD reload"
	if [[ $hold_answer == reloaded ]]; then ok "the machine reloaded nvmfd's configuration"
	else notok "the machine reloaded nvmfd's configuration (answer: '${hold_answer:-none}')"; fi
	d2=''
	for _ in $(seq 300); do d2=$(ns_dev "$sub_any" 2) && [[ -b $d2 ]] && break; d2=''; sleep 0.1; done
	msgs=$(dmesg | tail -n +$((lines + 1)))
	state=$(cat "/sys/class/nvme/$ctrl/state" 2>/dev/null)
	if [[ -n $d2 && $state == live && $(cat "/sys/class/nvme/$ctrl/cntlid") == "$cntlid" ]] &&
		! grep -qiE 'reconnect|resetting' <<<"$msgs"; then
		ok "namespace 2 appeared as $d2 after $(($(date +%s) - t))s on the same controller ($ctrl, cntlid $cntlid, no reconnect): $(grep -iE 'rescan' <<<"$msgs" | tail -n1 | sed 's/^\[[^]]*\] //')"
	else
		notok "namespace 2 appears without a reconnect (device '${d2:-none}', $ctrl state ${state:-?}, cntlid $cntlid -> $(cat "/sys/class/nvme/$ctrl/cntlid" 2>/dev/null))"
		note <<<"$msgs"
	fi
	sz=$(($(blockdev --getsize64 "${d2:-/dev/null}" 2>/dev/null || echo 0) >> 20))
	rc=0
	timeout 60 dd if=/dev/urandom of=/tmp/r1m bs=1M count=1 status=none
	timeout 60 dd if=/tmp/r1m of="${d2:-/dev/null}" bs=1M seek=3 oflag=direct status=none || rc=$?
	timeout 60 dd if="${d2:-/dev/null}" of=/tmp/r1m.back bs=1M skip=3 count=1 iflag=direct status=none || rc=$?
	if [[ -n $d2 ]] && ((rc == 0 && sz == ${RELOAD_MB:-32})) && cmp -s /tmp/r1m /tmp/r1m.back; then
		ok "the new namespace $d2 ($sz MiB) takes 1 MiB and reads it back"
	else
		notok "the new namespace ${d2:-?} (${sz} MiB, want ${RELOAD_MB:-32}) takes 1 MiB and reads it back (dd exit $rc)"
	fi
	if fio_wait reload; then ok "fio verify on namespace 1 across the reload: no error, data verified"
	else notok "fio verify on namespace 1 across the reload (fio exit $fio_rc)"; fi
	# nvme smart-log (NSID FFFFFFFFh: the whole subsystem) against nvmf-stat on the machine
	kv=''
	if timeout 30 nvme smart-log "/dev/$ctrl" -o json >/tmp/smart.json 2>&1; then
		for k in data_units_read data_units_written host_read_commands host_write_commands \
			controller_busy_time power_cycles power_on_hours unsafe_shutdowns media_errors \
			num_err_log_entries temperature; do
			v=$(grep -Eo "\"$k\" *: *\"?[0-9]+" /tmp/smart.json | grep -Eo '[0-9]+$')
			[[ -n $v ]] && kv+=" $k=$v"
		done
	fi
	if [[ -n $kv ]]; then
		ok "nvme smart-log /dev/$ctrl -o json:$kv"
		hold_ask "HOLD smart$kv"
		[[ $hold_answer == compared ]] || notok "the machine compared smart-log with nvmf-stat (answer: '${hold_answer:-none}')"
	else
		notok "nvme smart-log /dev/$ctrl -o json"
		note </tmp/smart.json
	fi
	if disconnect "$ctrl"; then ok "nvme disconnect $ctrl"; else notok "nvme disconnect $ctrl"; fi
else
	notok "nvme connect -n $sub_any (reload)"
fi
