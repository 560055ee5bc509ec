#!/bin/bash
# Guest script for ../shared/tools/linux-host/run: serve the Linux kernel
# NVMe/TCP target (nvmet) so that tools on the machine can talk to it through
# `run --fwd 127.0.0.1:P:4420`. Used by tests/interop/kernel-target.sh and
# scripts/demo.sh.
#
# It configures, over configfs (kernel 6.1):
#   - one brd RAM disk (512-byte logical blocks) as namespace 1,
#   - a subsystem that admits one host NQN only (attr_allow_any_host=0,
#     hosts/<nqn>, allowed_hosts/ symlink), so that another NQN is refused,
#   - a TCP port on 0.0.0.0:4420, addr_treq "not specified" (nvmet-tcp grants
#     header and data digests whenever the host asks: no knob to set),
# prints "NVMET-READY ..." and holds the target up until a TCP connection
# arrives on HOLD_PORT (busybox nc answers "released") or HOLD_SECONDS pass,
# then prints the kernel's nvmet messages and tears everything down.
#
# Environment (all optional):
#   NVMET_NQN     subsystem NQN    (nqn.2014-08.org.nvmexpress:nvmfd-interop)
#   HOST_NQN      the one allowed host NQN (nqn.2014-08.org.nvmexpress:nvmfd-interop-host)
#   NVMET_PORT    TCP port         (4420)
#   RAMDISK_MB    namespace size   (64)
#   HOLD_PORT     guest port whose first connection ends the hold (5555)
#   HOLD_SECONDS  upper bound for the hold (240)
#   DHCHAP_KEY, DHCHAP_CTRL_KEY, DHCHAP_HASH, DHCHAP_DHGROUP  the host entry's
#                 DH-HMAC-CHAP secret (the host must authenticate), the
#                 controller's (bidirectional), hash and group (kernels with
#                 NVMe authentication: the trixie guest). Unset: none.
# Exit status: 0 after a release and a clean teardown; 3 if the hold timed
# out (nobody released us); 1 on any setup or teardown error.
set -euo pipefail

[[ -e /etc/linux-host-release ]] || { echo "run this inside the guest: shared/tools/linux-host/run $0" >&2; exit 2; }

nqn=${NVMET_NQN:-nqn.2014-08.org.nvmexpress:nvmfd-interop}
hostnqn=${HOST_NQN:-nqn.2014-08.org.nvmexpress:nvmfd-interop-host}
port=${NVMET_PORT:-4420}
size_mb=${RAMDISK_MB:-64}
hold_port=${HOLD_PORT:-5555}
hold_secs=${HOLD_SECONDS:-240}
cfs=/sys/kernel/config/nvmet
subsys=$cfs/subsystems/$nqn
host=$cfs/hosts/$hostnqn
portdir=$cfs/ports/1

step() { printf '=== %s\n' "$*"; }
teardown() {
	local rc=$? bad=0
	set +e
	step "kernel messages (nvmet; $(dmesg | grep -c 'nvmet: creating') controllers created)"
	dmesg | grep -E 'nvmet' | grep -v 'nvmet: creating' | tail -n 60 | sed 's/^/dmesg| /'
	step "teardown"
	if [[ -L $portdir/subsystems/$nqn ]]; then rm -f "$portdir/subsystems/$nqn" || bad=1; fi
	if [[ -d $portdir ]]; then rmdir "$portdir" || bad=1; fi
	if [[ -d $subsys/namespaces/1 ]]; then
		echo 0 >"$subsys/namespaces/1/enable" && rmdir "$subsys/namespaces/1" || bad=1
	fi
	if [[ -L $subsys/allowed_hosts/$hostnqn ]]; then rm -f "$subsys/allowed_hosts/$hostnqn" || bad=1; fi
	if [[ -d $subsys ]]; then rmdir "$subsys" || bad=1; fi
	if [[ -d $host ]]; then rmdir "$host" || bad=1; fi
	((rc == 0 && bad)) && rc=1
	echo "NVMET-SERVE EXIT $rc"
	exit "$rc"
}
trap teardown EXIT

w() {  # w FILE VALUE: write a configfs attribute, saying which one failed
	printf '%s\n' "$2" >"$1" || { echo "cannot write '$2' to $1" >&2; return 1; }
}

step "kernel $(uname -r): nvmet on tcp 0.0.0.0:$port, $nqn, ${size_mb} MiB brd, host $hostnqn"
modprobe brd rd_nr=1 rd_size=$((size_mb * 1024)) max_part=0
modprobe nvmet-tcp
for _ in $(seq 50); do [[ -b /dev/ram0 ]] && break; sleep 0.1; done
[[ -b /dev/ram0 ]] || { echo "no /dev/ram0 after modprobe brd" >&2; exit 1; }

mkdir "$host"
if [[ -n ${DHCHAP_KEY:-} ]]; then
	w "$host/dhchap_key" "$DHCHAP_KEY"
	[[ -z ${DHCHAP_CTRL_KEY:-} ]] || w "$host/dhchap_ctrl_key" "$DHCHAP_CTRL_KEY"
	[[ -z ${DHCHAP_HASH:-} ]] || w "$host/dhchap_hash" "$DHCHAP_HASH"
	[[ -z ${DHCHAP_DHGROUP:-} ]] || w "$host/dhchap_dhgroup" "$DHCHAP_DHGROUP"
	echo "host $hostnqn: DH-HMAC-CHAP $(cat "$host/dhchap_hash"), $(cat "$host/dhchap_dhgroup")${DHCHAP_CTRL_KEY:+, controller key}"
fi
mkdir "$subsys"
w "$subsys/attr_allow_any_host" 0
w "$subsys/attr_serial" 4e564d46442d494f   # "NVMFD-IO" in hex digits
ln -s "$host" "$subsys/allowed_hosts/$hostnqn"
mkdir "$subsys/namespaces/1"
w "$subsys/namespaces/1/device_path" /dev/ram0
w "$subsys/namespaces/1/enable" 1
mkdir "$portdir"
w "$portdir/addr_trtype" tcp
w "$portdir/addr_adrfam" ipv4
w "$portdir/addr_traddr" 0.0.0.0
w "$portdir/addr_trsvcid" "$port"
w "$portdir/addr_treq" "not specified"
ln -s "$subsys" "$portdir/subsystems/$nqn"   # the listener starts here

lbs=$(cat /sys/block/ram0/queue/logical_block_size)
blocks=$(($(cat /sys/block/ram0/size) * 512 / lbs))
echo "namespace 1: $blocks blocks of $lbs bytes"
echo "NVMET-READY port=$port nqn=$nqn hostnqn=$hostnqn lbs=$lbs blocks=$blocks"

step "holding the target up until a connection on port $hold_port (at most ${hold_secs}s)"
start=$SECONDS
echo released | timeout "$hold_secs" nc -l -p "$hold_port" >/dev/null || true
if ((SECONDS - start >= hold_secs)); then
	echo "hold timed out after ${hold_secs}s: nobody released the target" >&2
	exit 3
fi
echo "released after $((SECONDS - start))s"
