#!/usr/bin/env bash
# Interop test: SPDK's userspace NVMe/TCP initiator against nvmfd (issue 13).
#
#   tests/interop/spdk-host.sh BUILD/daemon/nvmfd
#
# Runs spdk_nvme_identify and spdk_nvme_perf with their default options (no
# hostnqn: perf then sends an empty HOSTNQN, NVMe-oF 1.1 3.3) against nvmfd
# on a free loopback port, perf without and with header and data digests
# (-H -I). Each must exit 0, print no line with "failed" (identify prints
# "get_feature(0x..) failed" for a mandatory feature it cannot read), and
# perf must report nonzero IOPS. SPDK is not part of this repository: build
# it elsewhere and point SPDK_DIR at its source tree (build/bin/ inside).
#
# Prints TAP; exit 0 / 1, or 77 (skip, with the reason) when SPDK_DIR or its
# binaries are absent (REQUIRE_INTEROP=1 makes that a failure).
#
# Environment:
#   SPDK_DIR       SPDK's source tree with build/bin (default /work/spdk/src if present)
#   SPDK_MEM_ARGS  memory options for SPDK's apps (default: --no-huge -s 512
#                  unless free 2 MiB hugepages are mounted)
#   INTEROP_KEEP   1: keep the work directory (logs)
set -uo pipefail

nvmfd=${1:-}
spdk=${SPDK_DIR:-/work/spdk/src}
identify=$spdk/build/bin/spdk_nvme_identify
perf=$spdk/build/bin/spdk_nvme_perf
SUB=nqn.2026-11.io.nvmfd:spdk-host

skip() {
	if [[ ${REQUIRE_INTEROP:-0} == 1 ]]; then
		echo "not ok 1 - $*"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 77
}
[[ -x $nvmfd ]] || skip "nvmfd not built (${nvmfd:-no path given})"
[[ -x $identify && -x $perf ]] ||
	skip "SPDK's spdk_nvme_identify / spdk_nvme_perf not found under ${spdk}/build/bin (set SPDK_DIR)"

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
note() { sed 's/^/#   /'; }

work=$(mktemp -d /tmp/nvmfd-spdk-host.XXXXXX)
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	if [[ $fails == 0 && ${INTEROP_KEEP:-0} != 1 ]]; then rm -rf "$work"; else echo "# work directory kept: $work"; fi
}
trap cleanup EXIT

read -r port dport < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cat >"$work/nvmfd.ini" <<EOF
[nvmfd]
listen = 127.0.0.1:$port
discovery_listen = 127.0.0.1:$dport
workers = 2
state_dir = $work

[subsystem $SUB]
allow_host = any

[namespace $SUB 1]
path = ram:256M
block_size = 512
EOF
"$nvmfd" -c "$work/nvmfd.ini" >"$work/nvmfd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done

# Hugepages if some are free, else SPDK's --no-huge mode (slower, fine for a check).
if [[ -z ${SPDK_MEM_ARGS+x} ]]; then
	free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
	if ((${free:-0} >= 256)) && mount | grep -q hugetlbfs; then SPDK_MEM_ARGS=""
	else SPDK_MEM_ARGS="--no-huge -s 512"; fi
fi
read -ra mem <<<"$SPDK_MEM_ARGS"
T="trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$SUB"
echo "# SPDK: $spdk ($(git -C "$spdk" describe --tags 2>/dev/null || echo unknown)); memory: ${SPDK_MEM_ARGS:-hugepages}"

timeout 120 "$identify" "${mem[@]}" -r "$T" >"$work/identify.txt" 2>&1
rc=$?
if [[ $rc == 0 ]] && ! grep -qi failed "$work/identify.txt" && grep -q "Namespace ID:1" "$work/identify.txt"; then
	ok "spdk_nvme_identify (default options): no failure, namespace 1 listed"
else
	notok "spdk_nvme_identify: exit $rc, failures: $(grep -ci failed "$work/identify.txt")"
	grep -i -E 'failed|error' "$work/identify.txt" | head -20 | note
fi
grep -E '^(Serial Number|Model Number|NVMe Specification Version|Max Number of I/O Queues)' \
	"$work/identify.txt" | note

for dg in "" "-H -I"; do
	read -ra dgargs <<<"$dg"
	out=$work/perf${dg// /}.txt
	timeout 120 "$perf" "${mem[@]}" -q 16 -o 4096 -w randrw -M 50 -t 3 -c 0x1 "${dgargs[@]}" -r "$T" >"$out" 2>&1
	rc=$?
	iops=$(awk '/^Total/ {print int($3)}' "$out")
	label="spdk_nvme_perf randrw 4k q16 ${dg:-(no digests)}"
	if [[ $rc == 0 ]] && ! grep -qi failed "$out" && ((${iops:-0} > 0)); then
		ok "$label: $iops IOPS"
	else
		notok "$label: exit $rc, IOPS ${iops:-none}"
		grep -i -E 'failed|error|Total' "$out" | head -20 | note
	fi
done

grep -E 'warning: controller .* HOSTNQN' "$work/nvmfd.log" | head -2 | note
kill "$pid" && wait "$pid"
rc=$?
pid=
if [[ $rc == 0 ]]; then ok "nvmfd: SIGTERM, exit 0"; else notok "nvmfd: exit $rc"; fi
echo "1..$n"
((fails == 0))
