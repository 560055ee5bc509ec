#!/usr/bin/env bash
# Interop test: the Linux kernel's NVMe/TCP host (nvme-tcp 6.1, nvme-cli 2.3,
# fio 3.33; or trixie's 6.12, 2.13 and 3.39 with LINUX_HOST_GUEST=trixie) in a
# qemu guest from ../shared/tools/linux-host, against nvmfd running on this
# machine. See tests/interop/README.md.
#
#   tests/interop/kernel-host.sh BUILD/daemon/nvmfd BUILD/tools/nvmf-stat
#
# Starts nvmfd on free loopback ports (10.0.2.2 in the guest is this
# machine's 127.0.0.1) with two subsystems: one open to any host (a 64 MiB RAM
# namespace, 512-byte blocks) and one open to the guest's host NQN and a
# second NQN only (a 64 MiB regular file, 4096-byte blocks, and, when this
# runs as root with working losetup, a 64 MiB loop device with 4096-byte
# sectors as namespace 2: the block-device backend). Boots ONE guest
# running guest/host-checks.sh with a fixed host NQN: nvme discover (both
# ports, three host NQNs), connect, list, id-ctrl, id-ns, smart-log counters
# against the block layer's, fio verify jobs, digests, 1 and 2 I/O queues,
# refusals, and a restart of nvmfd while the host is connected: when the
# guest asks (a "HOLD restart" line), this script stops nvmfd with SIGTERM,
# checks that the flushed data is in the backing file, starts nvmfd again and
# releases the guest through a forwarded hold port; the host must reconnect
# by itself and read the data back. Then a live reload under the connected
# host ("HOLD reload"): this script adds namespace 2 (RAM) to SUB_ANY and
# sends SIGHUP while the guest runs fio on namespace 1; the guest must see
# the new namespace without reconnecting (Namespace Attribute Changed event)
# and fio must not fail. Last ("HOLD smart KEY=VALUE ..."), the guest's
# `nvme smart-log` of SUB_ANY is compared with what nvmf-stat --json prints
# for it here: the same counters. On the loop-device namespace the guest
# checks id-ns, blkdiscard, write-zeroes, fio verify and flush, and leaves
# 1 MiB of data ("BLKDATA off=O len=L md5=M") that this script then finds on
# the loop device itself; without root or losetup those checks are SKIPs.
# Then blkdiscard of 8 MiB on both SUB_RES namespaces between "HOLD alloc
# before" and "HOLD alloc after": here the backing files must have lost 8 MiB
# of allocation each and the loop device must have written nothing.
# Before the loop-device checks, fstrim on ext4: the guest kernel has no ext4
# module and the guest no mkfs.ext4, so this script extracts ext4.ko and its
# dependencies (modinfo -F depends) from the kernel .deb the guest image was
# built from (linux-host's cache, dl/), and passes them with this machine's
# mke2fs and fstrim (and their libraries and ld.so) in by run --file. The
# guest loads them, runs mke2fs -t ext4 -E nodiscard on both SUB_RES
# namespaces, mounts them, writes and deletes 8 MiB on each, and runs
# fstrim -v between "HOLD fstrim before" and "HOLD fstrim after
# trimmed=B1,B2": here each backing file must have lost at least 8 MiB of
# allocation and keep at most its size minus what fstrim trimmed (plus one
# block), and the loop device must have written nothing. Without the .deb or
# mke2fs here those checks are SKIPs with the reason.
#
# Prints TAP from both sides (the guest's checks relayed as "guest: ..." as
# they happen, the plan last) and exits 0 if every check passed, 1 otherwise,
# 77 (skip) when the linux-host tool, qemu or nvmfd is missing.
#
# Environment:
#   LINUX_HOST_DIR   the linux-host tool (default: <source root>/../shared/tools/linux-host)
#   REQUIRE_INTEROP  1: a missing tool is a failure, not a skip (meson -Dinterop=enabled)
#   INTEROP_KEEP     1: keep the work directory (guest log, daemon logs, config, image)
#   GUEST_TIMEOUT    seconds for the whole guest run (420: about 130 s under TCG
#                    on a quiet machine, up to three times that on a busy one)
#   LINUX_HOST_GUEST bookworm (default: kernel 6.1, nvme-cli 2.3) or trixie (6.12,
#                    nvme-cli 2.13; meson test kernel-host-trixie)
set -uo pipefail
# shellcheck source=../lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/daemon.sh"
# shellcheck source=../lib/guest.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
lh=${LINUX_HOST_DIR:-$src/../shared/tools/linux-host}
nvmfd=${1:-}
nvmfstat=${2:-}

SUB_ANY=nqn.2026-11.io.nvmfd:interop-any
SUB_RES=nqn.2026-11.io.nvmfd:interop-restricted
GUEST_NQN=nqn.2014-08.org.nvmexpress:uuid:3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a
OTHER_NQN=nqn.2026-11.io.nvmfd:interop-second-host
INTRUDER_NQN=nqn.2026-11.io.nvmfd:interop-intruder
MISSING_NQN=nqn.2026-11.io.nvmfd:interop-no-such-subsystem
RAM_MB=64
FILE_MB=64
BLK_MB=64  # the loop device: namespace 2 of SUB_RES, 4096-byte sectors
RELOAD_MB=32  # namespace 2 of SUB_ANY, added by a reload
GUEST_TIMEOUT=${GUEST_TIMEOUT:-420}

# --- skipping --------------------------------------------------------------
[[ -n $nvmfd ]] || { echo "usage: $0 NVMFD" >&2; exit 2; }
[[ -x $nvmfd ]] || skip "nvmfd not built: $nvmfd"
nvmfd=$(cd "$(dirname "$nvmfd")" && pwd)/$(basename "$nvmfd")
[[ -x $nvmfstat ]] || skip "nvmf-stat not built: ${nvmfstat:-no second argument}"
[[ -x $lh/run ]] || skip "no linux-host tool at $lh (set LINUX_HOST_DIR)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (run $lh/setup)"
command -v python3 >/dev/null || skip "python3 is not installed"
if ! setup_out=$("$lh/setup" 2>&1); then
	printf '%s\n' "$setup_out" | tail -n 5 | sed 's/^/# /'
	skip "$lh/setup failed (guest ${LINUX_HOST_GUEST:-bookworm})"
fi

# --- bookkeeping -----------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/nvmfd-kernel-host.XXXXXX")
glog=$work/guest.log
gpid='' dpid='' dlog='' dn=0 loopdev=''
n=0 failed=0 skipped=0
t0=$SECONDS

cleanup() {
	if [[ -n $gpid ]]; then kill "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null; fi
	stop_quietly
	if [[ -n $loopdev ]]; then
		losetup -d "$loopdev" 2>/dev/null || echo "# could not detach $loopdev"
		# still open (udev probing it): detached on the last close; wait for that
		for _ in $(seq 50); do [[ -e /sys/block/${loopdev##*/}/loop/backing_file ]] || break; sleep 0.1; done
	fi
	if [[ ${INTEROP_KEEP:-0} == 1 ]]; then echo "# work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "Bail out! interrupted"; exit 1' INT TERM HUP

start_daemon() {
	dn=$((dn + 1))
	dlog=$work/nvmfd.$dn.log
	# The guest reaches us from 127.0.0.1 (qemu's forwarding), which nvmfd
	# treats as a local host and answers with copying sends; force zero-copy
	# sends for reads of 16 KiB and more so the real host exercises that path.
	NVMFD_ZC_THRESHOLD=${NVMFD_ZC_THRESHOLD:-16k} start_nvmfd "$P_IO $P_DISC" -v -c "$work/nvmfd.ini"
}
# SIGTERM; 0 if it exits 0 within 15 s (its hard limit), with I/O in flight
stop_daemon() { stop_nvmfd 15; }
sanitizer_check() { no_sanitizer_report "no sanitizer report in ${dlog##*/}"; }

# --- nvmfd -------------------------------------------------------------------
read -r P_IO P_DISC P_HOLD < <(free_ports 3)
mkdir -p "$work/state"
img=$work/ns-file.img
truncate -s $((FILE_MB << 20)) "$img"
# The block device: a loop device over a sparse file, when we may make one.
blkimg=$work/ns-blk.img blk_skip=''
if ((EUID != 0)); then
	blk_skip="loop devices need root (uid $EUID)"
elif ! command -v losetup >/dev/null; then
	blk_skip="losetup is not installed"
else
	truncate -s $((BLK_MB << 20)) "$blkimg"
	dio=()
	losetup --help 2>&1 | grep -q -- '--direct-io' && dio=(--direct-io=on)
	loopdev=$(losetup -f --show --sector-size 4096 "${dio[@]}" "$blkimg" 2>"$work/losetup.err") ||
		loopdev=$(losetup -f --show --sector-size 4096 "$blkimg" 2>"$work/losetup.err") || loopdev=''
	[[ -n $loopdev && -b $loopdev ]] || { blk_skip="losetup does not work here: $(head -n1 "$work/losetup.err")"; loopdev=''; }
fi
cat >"$work/nvmfd.ini" <<EOF
; generated by tests/interop/kernel-host.sh
[nvmfd]
listen = 127.0.0.1:$P_IO
discovery_listen = 127.0.0.1:$P_DISC
workers = 2
state_dir = $work/state

[subsystem $SUB_ANY]
allow_host = any

[subsystem $SUB_RES]
allow_host = $GUEST_NQN
allow_host = $OTHER_NQN

[namespace $SUB_ANY 1]
path = ram:${RAM_MB}M
block_size = 512

[namespace $SUB_RES 1]
path = $img
block_size = 4096
EOF
if [[ -n $loopdev ]]; then
	cat >>"$work/nvmfd.ini" <<EOF

[namespace $SUB_RES 2]
path = $loopdev
EOF
	echo "# namespace 2 of $SUB_RES: $(losetup --list --noheadings -O NAME,DIO,LOG-SEC,BACK-FILE "$loopdev" | tr -s ' ')"
else
	BLK_MB=0
	echo "# no block-device namespace: $blk_skip"
fi
echo "$GUEST_NQN" >"$work/hostnqn"

# --- ext4 and fstrim for the guest ---------------------------------------------
# The guest kernels carry no ext4 module and the guests no mkfs.ext4: take
# ext4.ko and the modules it depends on from the very kernel .deb the guest's
# image was built from (its recipe names it; setup keeps it in dl/), and
# mke2fs and fstrim with every library they load (our dynamic loader and libc
# too, so they run on either guest's libc) from this machine. The guest gets
# them at $EXT4_GUEST_DIR: mods/ (uncompressed .ko; mods/order lists them
# dependencies first), bin/, lib/, mke2fs.conf. Sets ext4_skip when it cannot.
EXT4_GUEST_DIR=/opt/nvmfd-ext4
ext4_skip='' ext4_files=()
lh_cache=${LINUX_HOST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/linux-host}
[[ ${LINUX_HOST_GUEST:-bookworm} == bookworm ]] || lh_cache=$lh_cache/${LINUX_HOST_GUEST}
# ext4_modules DEB OUT: the .ko files of ext4 and its dependencies (modinfo
# -F depends, recursively) into OUT, uncompressed, and OUT/order.
ext4_modules() {
	local deb=$1 out=$2 x=$work/kdeb want=(ext4.ko\* jbd2.ko\* mbcache.ko\* crc16.ko\*) seen=' ' order=() deps m f dep pass
	mkdir -p "$x" "$out"
	for pass in 1 2 3 4; do
		((${#want[@]})) || break
		# one pass over the .deb's data for every module still missing
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$x" --wildcards --no-anchored "${want[@]}" 2>/dev/null
		want=() deps=''
		while read -r f; do
			m=$(basename "$f") m=${m%%.ko*}
			[[ $seen == *" $m "* ]] && continue
			seen+="$m "
			case $f in
			*.ko) cp "$f" "$out/$m.ko" ;;
			*.ko.xz) xz -dc "$f" >"$out/$m.ko" ;;
			*.ko.zst) zstd -qdc "$f" >"$out/$m.ko" ;;
			*.ko.gz) gzip -dc "$f" >"$out/$m.ko" ;;
			esac || return 1
			deps+=" $(modinfo -F depends "$out/$m.ko" | tr ',' ' ')"
		done < <(find "$x" -name '*.ko*' -type f)
		for dep in $deps; do
			[[ $seen == *" $dep "* || " ${want[*]} " == *" $dep.ko* "* ]] || want+=("$dep.ko*")
		done
	done
	((${#want[@]} == 0)) && [[ -s $out/ext4.ko ]] || return 1
	# dependencies first: depth-first, each module after what it needs
	visit() {
		local d
		[[ " ${order[*]} " == *" $1 "* ]] && return
		for d in $(modinfo -F depends "$out/$1.ko" | tr ',' ' '); do visit "$d"; done
		order+=("$1")
	}
	visit ext4
	printf '%s\n' "${order[@]}" >"$out/order"
}
# ext4_program PROG OUT: PROG into OUT/bin, the libraries it loads into OUT/lib.
ext4_program() {
	local p lib
	p=$(PATH=$PATH:/usr/sbin:/sbin command -v "$1") || return 1
	mkdir -p "$2/bin" "$2/lib"
	cp -L "$p" "$2/bin/" || return 1
	for lib in $(ldd "$p" | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}'); do
		cp -L "$lib" "$2/lib/" || return 1
	done
}
# image/info: "kernel 6.1.0-57-amd64 (linux-image-6.1.0-57-amd64_6.1.192-3_amd64), PVH boot"
kdeb=$(sed -n 's/^kernel [^ ]* (\(linux-image-[^)]*\)).*/\1.deb/p' "$lh_cache/image/info" 2>/dev/null | head -n1)
if [[ -z $kdeb || ! -r $lh_cache/dl/$kdeb ]]; then
	ext4_skip="the guest kernel's .deb is not cached (${kdeb:+$lh_cache/dl/$kdeb}${kdeb:-no kernel line in $lh_cache/image/info})"
elif ! command -v dpkg-deb >/dev/null || ! command -v modinfo >/dev/null; then
	ext4_skip="dpkg-deb or modinfo is not installed here"
elif ! PATH=$PATH:/usr/sbin:/sbin command -v mke2fs >/dev/null; then
	ext4_skip="mke2fs is not installed here (apt-get install e2fsprogs)"
elif ! PATH=$PATH:/usr/sbin:/sbin command -v fstrim >/dev/null; then
	ext4_skip="fstrim is not installed here (util-linux)"
else
	t=$SECONDS
	kdeb=$lh_cache/dl/$kdeb
	if ! ext4_modules "$kdeb" "$work/ext4/mods"; then
		ext4_skip="no ext4.ko (or one of its dependencies) in ${kdeb##*/}"
	elif ! ext4_program mke2fs "$work/ext4" || ! ext4_program fstrim "$work/ext4"; then
		ext4_skip="could not copy mke2fs or fstrim with their libraries"
	else
		[[ -r /etc/mke2fs.conf ]] && cp /etc/mke2fs.conf "$work/ext4/"
		ext4_files=(--file "$work/ext4:$EXT4_GUEST_DIR")
		echo "# ext4 for the guest from ${kdeb##*/} in $((SECONDS - t))s: $(tr '\n' ' ' <"$work/ext4/mods/order")+ $("$work/ext4/bin/mke2fs" -V 2>&1 | head -n1) + $(fstrim -V)"
	fi
	rm -rf "$work/kdeb"
fi
[[ -z $ext4_skip ]] || echo "# no fstrim on ext4 in the guest: $ext4_skip"
echo "# nvmfd: $nvmfd"
echo "# nvmfd on 127.0.0.1:$P_IO (I/O) and :$P_DISC (discovery) = 10.0.2.2 in the guest; hold port $P_HOLD; work $work"
if start_daemon; then
	ok "nvmfd serves on 127.0.0.1:$P_IO and discovery 127.0.0.1:$P_DISC"
	if [[ -n $loopdev ]]; then
		line=$(grep -F "namespace 2 of $SUB_RES: $loopdev," "$dlog" | head -n1)
		if [[ $line == *"$((BLK_MB * 256)) blocks of 4096 bytes"* ]]; then ok "nvmfd opened the loop device: ${line#*] }"
		else notok "nvmfd opened $loopdev as namespace 2: $((BLK_MB * 256)) blocks of 4096 bytes (log: ${line:-nothing})"; daemon_tail; fi
	else
		skipcase "nvmfd opened a loop device as namespace 2" "$blk_skip"
	fi
else
	notok "nvmfd starts on the generated configuration"
	daemon_tail
	echo "1..$n"
	exit 1
fi

# --- the guest ---------------------------------------------------------------
lh_run --timeout "$GUEST_TIMEOUT" --fwd "127.0.0.1:$P_HOLD:5555" \
	--file "$work/hostnqn:/etc/nvme/hostnqn" \
	--env ADDR=10.0.2.2 --env IO_PORT="$P_IO" --env DISC_PORT="$P_DISC" \
	--env SUB_ANY="$SUB_ANY" --env SUB_RES="$SUB_RES" --env OTHER_NQN="$OTHER_NQN" \
	--env INTRUDER_NQN="$INTRUDER_NQN" --env MISSING_NQN="$MISSING_NQN" \
	--env RAM_MB="$RAM_MB" --env FILE_MB="$FILE_MB" --env BLK_MB="$BLK_MB" \
	--env RELOAD_MB="$RELOAD_MB" \
	"${ext4_files[@]}" --env EXT4_DIR="${ext4_files[*]:+$EXT4_GUEST_DIR}" --env EXT4_SKIP="$ext4_skip" \
	--env HOLD_PORT=5555 --env HOLD_SECONDS=120 \
	"$here/guest/host-checks.sh" >"$glog" 2>&1 &
gpid=$!

# release MESSAGE: answer the guest's hold request (tests/lib/guest.sh).
release() { guest_release "$P_HOLD" "$1"; }

# The guest's "HOLD restart off=O len=L md5=M": stop nvmfd, check the file,
# start it again, release the guest.
restart_for_guest() {
	local line=$1 off len md5 got answer=restarted t
	echo "# guest asks: $line"
	off=$(sed -nE 's/.* off=([0-9]+).*/\1/p' <<<"$line")
	len=$(sed -nE 's/.* len=([0-9]+).*/\1/p' <<<"$line")
	md5=$(sed -nE 's/.* md5=([0-9a-f]+).*/\1/p' <<<"$line")
	t=$SECONDS
	if stop_daemon; then ok "restart: SIGTERM with the host connected, nvmfd exits 0 in ${stop_ms} ms"
	else notok "restart: SIGTERM with the host connected, nvmfd exits 0 within 15 s"; daemon_tail; answer="restarted (stop failed)"; fi
	sanitizer_check
	got=$(dd if="$img" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none | md5sum | cut -d' ' -f1)
	if [[ -n $md5 && $got == "$md5" ]]; then ok "restart: the data the guest flushed is in the backing file (md5 $md5)"
	else notok "restart: the data the guest flushed is in the backing file (md5 $got, guest wrote ${md5:-?})"; fi
	sleep 2  # the host's first reconnect attempts meet a closed port
	if start_daemon; then ok "restart: nvmfd started again on the same ports ($((SECONDS - t))s down)"
	else notok "restart: nvmfd started again"; daemon_tail; answer="restart failed"; fi
	if release "$answer"; then ok "restart: guest released"
	else notok "restart: the guest's hold port never answered"; fi
}

# The guest's "HOLD reload": namespace 2 (RAM) joins SUB_ANY, SIGHUP, the
# daemon must say so; then release the guest.
reload_for_guest() {
	local answer=reloaded lines
	echo "# guest asks: $1"
	lines=$(wc -l <"$dlog")
	printf '\n; added by the reload check\n[namespace %s 2]\npath = ram:%sM\n' \
		"$SUB_ANY" "$RELOAD_MB" >>"$work/nvmfd.ini"
	kill -HUP "$dpid"
	for _ in $(seq 300); do
		tail -n +$((lines + 1)) "$dlog" | grep -q 'reload: .*namespaces +1' && break
		sleep 0.1
	done
	if tail -n +$((lines + 1)) "$dlog" | grep -q 'reload: .*namespaces +1'; then
		ok "reload: SIGHUP with the host connected adds namespace 2 of $SUB_ANY: $(tail -n +$((lines + 1)) "$dlog" | grep -m1 'reload: ' | sed 's/^[^]]*] //')"
	else
		notok "reload: SIGHUP adds namespace 2 of $SUB_ANY (no 'reload: ... namespaces +1' line)"
		daemon_tail
		answer="reload failed"
	fi
	if release "$answer"; then ok "reload: guest released"
	else notok "reload: the guest's hold port never answered"; fi
}

# The guest's "HOLD alloc before" / "HOLD alloc after" around its blkdiscard
# of 8 MiB on each SUB_RES namespace: the backing files' allocated bytes must
# drop by 8 MiB each (holes: a sparse file, the file behind the loop device),
# and the loop device's sectors written (its stat, field 7) must not move.
alloc_before=()
alloc_now() {  # FILE: allocated bytes
	echo $(($(stat -c %b "$1") * $(stat -c %B "$1")))
}
loop_written() { [[ -n $loopdev ]] && awk '{print $7}' "/sys/block/${loopdev##*/}/stat" || echo 0; }
alloc_for_guest() {
	local line=$1 b a w
	if [[ $line == *before ]]; then
		alloc_before=("$(alloc_now "$img")" "$( [[ -n $loopdev ]] && alloc_now "$blkimg" || echo 0)" "$(loop_written)")
	else
		a=$(alloc_now "$img") b=${alloc_before[0]:-0}
		if ((b - a == 8 << 20)); then ok "blkdiscard in the guest: the file behind namespace 1 has 8 MiB fewer allocated bytes ($b -> $a)"
		else notok "blkdiscard in the guest: the file behind namespace 1 has 8 MiB fewer allocated bytes ($b -> $a)"; fi
		if [[ -n $loopdev ]]; then
			a=$(alloc_now "$blkimg") b=${alloc_before[1]:-0} w=$(loop_written)
			if ((b - a == 8 << 20)); then ok "blkdiscard in the guest: the file behind $loopdev has 8 MiB fewer allocated bytes ($b -> $a)"
			else notok "blkdiscard in the guest: the file behind $loopdev has 8 MiB fewer allocated bytes ($b -> $a)"; fi
			if [[ $w == "${alloc_before[2]}" ]]; then ok "blkdiscard in the guest: $loopdev wrote nothing (sectors written $w)"
			else notok "blkdiscard in the guest: $loopdev wrote nothing (sectors written ${alloc_before[2]} -> $w)"; fi
		fi
	fi
	release "alloc" || notok "alloc: the guest's hold port never answered"
}

# The guest's "HOLD fstrim before" / "HOLD fstrim after trimmed=B1[,B2]"
# around fstrim -v on ext4 (64 MiB, 8 MiB written and deleted) on namespace 1
# and 2 of SUB_RES: each backing file must have lost at least those 8 MiB of
# allocation and keep no more than the namespace's size minus the bytes
# fstrim reported trimmed, plus one block (every free block a hole), and the loop device must
# have written nothing during the fstrim.
fstrim_before=() fstrim_seen=0
fstrim_for_guest() {
	local line=$1 trimmed b a t w i=0 f size label
	echo "# guest asks: $line"
	if [[ $line == *before ]]; then
		fstrim_before=("$(alloc_now "$img")" "$( [[ -n $loopdev ]] && alloc_now "$blkimg" || echo 0)" "$(loop_written)")
		release "fstrim" || notok "fstrim: the guest's hold port never answered"
		return
	fi
	fstrim_seen=1
	trimmed=${line##*trimmed=}
	for f in "$img" ${loopdev:+"$blkimg"}; do
		b=${fstrim_before[i]:-0} a=$(alloc_now "$f") t=$(cut -d, -f$((i + 1)) <<<"$trimmed")
		size=$(stat -c %s "$f") label="namespace 1 (a sparse file)"
		[[ $f == "$blkimg" ]] && label="namespace 2 (the file behind $loopdev)"
		i=$((i + 1))
		# ext4 reports one block less than it leaves allocated (4096 bytes: the
		# same with a loop device under this machine's kernel), hence the + 4096
		if ((b - a >= 8 << 20 && a <= size - ${t:-0} + 4096)); then
			ok "fstrim on ext4 in the guest: $label lost $(((b - a) >> 10)) KiB of allocation ($b -> $a bytes; fstrim trimmed ${t:-?} of $size)"
		else
			notok "fstrim on ext4 in the guest: $label lost at least 8 MiB of allocation and keeps at most size - trimmed + 4 KiB ($b -> $a bytes; fstrim trimmed ${t:-?} of $size)"
		fi
	done
	if [[ -n $loopdev ]]; then
		w=$(loop_written)
		if [[ $w == "${fstrim_before[2]}" ]]; then ok "fstrim on ext4 in the guest: $loopdev wrote nothing (sectors written $w)"
		else notok "fstrim on ext4 in the guest: $loopdev wrote nothing (sectors written ${fstrim_before[2]} -> $w)"; fi
	fi
	release "fstrim" || notok "fstrim: the guest's hold port never answered"
}

# The guest's "HOLD smart KEY=VALUE ...": what nvme smart-log printed for
# SUB_ANY (NSID FFFFFFFFh), against nvmf-stat --json here.
smart_for_guest() {
	local line=$1 kv k v got diff='' same=0
	echo "# guest asks: $line"
	timeout -k 5 60 "$nvmfstat" --json -t 10 "127.0.0.1:$P_IO" "$SUB_ANY" >"$work/stat.json" 2>"$work/stat.err"
	for kv in ${line#HOLD smart }; do
		k=${kv%%=*} v=${kv#*=}
		got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["subsystems"][0]["controller"][sys.argv[2]])' \
			"$work/stat.json" "$k" 2>/dev/null)
		if [[ $got == "$v" ]]; then same=$((same + 1)); else diff+=" $k: guest $v, nvmf-stat ${got:-?};"; fi
	done
	if [[ -z $diff && $same -ge 8 ]]; then
		ok "nvme smart-log in the guest and nvmf-stat --json here agree on $same counters (${line#HOLD smart })"
	else
		notok "nvme smart-log and nvmf-stat --json agree:$diff ($same equal)"
		show "$work/stat.err"
	fi
	release compared || notok "smart: the guest's hold port never answered"
}

# Relay the guest's TAP as it comes (tests/lib/guest.sh), and answer its
# hold requests.
blkdata=''
guest_line() {
	case $1 in
	"HOLD restart"*) restart_for_guest "$1" ;;
	"HOLD reload"*) reload_for_guest "$1" ;;
	"HOLD smart"*) smart_for_guest "$1" ;;
	"HOLD alloc"*) alloc_for_guest "$1" ;;
	"HOLD fstrim"*) fstrim_for_guest "$1" ;;
	"HOLD skip"*) echo "# the guest skipped the restart (no connection to $SUB_RES)" ;;
	"BLKDATA "*) blkdata=$1; echo "# guest: $1" ;;
	*) return 1 ;;
	esac
	return 0
}
guest_wait "HOST-CHECKS EXIT"

# --- fstrim: skipped, or the guest never asked -----------------------------------
if [[ -n $ext4_skip ]]; then
	skipcase "fstrim on ext4 in the guest frees the backing files' blocks, the loop device writes nothing" "$ext4_skip"
elif ((!fstrim_seen)); then
	notok "fstrim on ext4 in the guest: the guest never asked for the allocation checks (HOLD fstrim after)"
fi

# --- the loop device after all that ----------------------------------------------
# The guest's "BLKDATA off=O len=L md5=M": what it wrote (and flushed) through
# namespace 2 is on the loop device itself.
if [[ -n $loopdev ]]; then
	off=$(sed -nE 's/.* off=([0-9]+).*/\1/p' <<<"$blkdata")
	len=$(sed -nE 's/.* len=([0-9]+).*/\1/p' <<<"$blkdata")
	md5=$(sed -nE 's/.* md5=([0-9a-f]+).*/\1/p' <<<"$blkdata")
	got=''
	[[ -n $off && -n $len ]] &&
		got=$(dd if="$loopdev" bs=1M iflag=direct,skip_bytes,count_bytes skip="$off" count="$len" status=none | md5sum | cut -d' ' -f1)
	if [[ -n $md5 && $got == "$md5" ]]; then ok "the $len bytes the guest wrote at $off on namespace 2 are on $loopdev (md5 $md5)"
	else notok "the data the guest wrote on namespace 2 is on $loopdev (guest: '${blkdata:-no BLKDATA line}', device md5 ${got:-?})"; fi
else
	skipcase "the data the guest wrote on namespace 2 is on the loop device" "$blk_skip"
fi

# --- nvmfd after all that ------------------------------------------------------
if [[ -n $dpid ]] && kill -0 "$dpid" 2>/dev/null; then ok "nvmfd is still running after the guest"
else notok "nvmfd is still running after the guest"; daemon_tail; fi
# logged LABEL STRING...: a line of the daemon's logs has every STRING and "refused".
logged() {
	local label=$1 line
	shift
	line=$(cat "$work"/nvmfd.*.log | grep -F refused | grep -F -- "$1")
	for s in "${@:2}"; do line=$(grep -F -- "$s" <<<"$line"); done
	if [[ -n $line ]]; then ok "$label: $(head -n1 <<<"$line")"
	else notok "$label"; fi
}
logged "nvmfd logged the refused host" "$INTRUDER_NQN" "$SUB_RES"
logged "nvmfd logged the unknown subsystem" "$MISSING_NQN"
if [[ -n $dpid ]]; then
	if stop_daemon; then ok "SIGTERM: nvmfd exits 0 in ${stop_ms} ms"; else notok "SIGTERM: nvmfd exits 0 within 15 s"; daemon_tail; fi
	sanitizer_check
fi

echo "1..$n"
echo "# $((n - failed - skipped)) of $n checks passed, $skipped skipped, in $((SECONDS - t0))s"
((failed == 0))
