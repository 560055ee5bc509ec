#!/usr/bin/env bash
# Interop test: our host tool (nvmfdd) against the Linux kernel NVMe/TCP
# target (nvmet, kernel 6.1) running in a qemu guest from
# ../shared/tools/linux-host. See tests/interop/README.md.
#
#   tests/interop/kernel-target.sh BUILD/tools/nvmfdd [BUILD/tools/nvmf-perf]
#
# With nvmf-perf, also a few seconds of nvmf-perf --verify against nvmet
# (fill + random writes with digests, mixed 128 KiB I/O over two queues).
#
# Boots ONE guest running guest/nvmet-serve.sh with its port 4420 forwarded to
# 127.0.0.1:P1 here and its hold port to 127.0.0.1:P2, runs every check with
# nvmfdd against 127.0.0.1:P1, releases the guest and checks that it tore the
# target down cleanly. Prints TAP ("ok N - ...", "not ok N - ...", the plan
# last) and exits 0 if every check passed, 1 otherwise, 77 (skip) when the
# linux-host tool, qemu or nvmfdd is missing.
#
# Environment:
#   LINUX_HOST_DIR   the linux-host tool (default: <source root>/../shared/tools/linux-host)
#   REQUIRE_INTEROP  1: a missing tool is a failure, not a skip (meson -Dinterop=enabled)
#   INTEROP_KEEP     1: keep the work directory (guest log, data files)
#   READY_TIMEOUT    seconds to wait for the guest's target (180)
#   INTEROP_BUDGET   seconds for the checks before the rest are failed unrun (420)
set -uo pipefail
# shellcheck source=../lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
# shellcheck source=../lib/guest.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
lh=${LINUX_HOST_DIR:-$src/../shared/tools/linux-host}
nvmfdd=${1:-}
nvmf_perf=${2:-}

NQN=nqn.2014-08.org.nvmexpress:nvmfd-interop
HOSTNQN=nqn.2014-08.org.nvmexpress:nvmfd-interop-host
BADHOST=nqn.2014-08.org.nvmexpress:nvmfd-interop-intruder
BADNQN=nqn.2014-08.org.nvmexpress:no-such-subsystem
RAM_MB=64
LBS=512
NSZE=$((RAM_MB * 1024 * 1024 / LBS))
HOLD_SECONDS=480

# --- skipping --------------------------------------------------------------
[[ -n $nvmfdd ]] || { echo "usage: $0 NVMFDD" >&2; exit 2; }
[[ -x $nvmfdd ]] || skip "nvmfdd not built: $nvmfdd"
nvmfdd=$(cd "$(dirname "$nvmfdd")" && pwd)/$(basename "$nvmfdd")
[[ -x $lh/run ]] || skip "no linux-host tool at $lh (set LINUX_HOST_DIR)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (run $lh/setup)"
command -v python3 >/dev/null || skip "python3 is not installed"
# Idempotent (0.5 s when done); builds the guest image if it is missing.
if ! setup_out=$("$lh/setup" 2>&1); then
	printf '%s\n' "$setup_out" | tail -n 5 | sed 's/^/# /'
	skip "$lh/setup failed"
fi

# --- bookkeeping -----------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/nvmfd-interop.XXXXXX")
glog=$work/guest.log
gpid=''
n=0 failed=0 skipped=0
t0=$SECONDS
budget=${INTEROP_BUDGET:-420}

cleanup() {
	if [[ -n $gpid ]]; then kill "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null; fi
	if [[ ${INTEROP_KEEP:-0} == 1 ]]; then echo "# work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "Bail out! interrupted"; exit 1' INT TERM HUP

out_of_time() { ((SECONDS - t0 > budget)); }

# nv OUT ERR ARGS...: run nvmfdd with a hard time limit; returns its status.
nv() {
	local out=$1 err=$2
	shift 2
	timeout -k 5 60 "$nvmfdd" "$@" >"$out" 2>"$err"
}


# --- the guest -------------------------------------------------------------
read -r P1 P2 P3 P4 < <(free_ports 4)
ADDR=127.0.0.1:$P1
echo "# nvmfdd: $nvmfdd"
echo "# guest: nvmet on 127.0.0.1:$P1 (guest 4420), hold port $P2, silent port $P4; closed port $P3; work $work"
lh_run --timeout $((HOLD_SECONDS + 60)) \
	--fwd "127.0.0.1:$P1:4420" --fwd "127.0.0.1:$P2:5555" --fwd "127.0.0.1:$P4:6000" \
	--env NVMET_NQN="$NQN" --env HOST_NQN="$HOSTNQN" --env RAMDISK_MB="$RAM_MB" \
	--env HOLD_PORT=5555 --env HOLD_SECONDS="$HOLD_SECONDS" \
	"$here/guest/nvmet-serve.sh" >"$glog" 2>&1 &
gpid=$!

ready_deadline=$((SECONDS + ${READY_TIMEOUT:-180}))
until grep -q '^NVMET-READY' "$glog"; do
	if ! kill -0 "$gpid" 2>/dev/null || ((SECONDS > ready_deadline)); then
		notok "guest serves the kernel target (no NVMET-READY after $((SECONDS - t0))s)"
		diag "$glog"
		echo "1..$n"
		exit 1
	fi
	sleep 0.5
done
boot_s=$((SECONDS - t0))
# qemu accepts forwarded connections before the guest listens: check that a
# real NVMe/TCP ICResp comes back before testing anything.
probe=$lh/examples/icreq-probe.py
if [[ -f $probe ]]; then
	if python3 "$probe" 127.0.0.1 "$P1" --wait 30 >"$work/probe" 2>&1; then
		ok "guest target up after ${boot_s}s, ICReq/ICResp through the forward"
	else
		notok "ICReq probe of 127.0.0.1:$P1"
		diag "$work/probe"
	fi
else
	ok "guest target up after ${boot_s}s (no icreq-probe.py; not probed)"
fi

# --- checks ----------------------------------------------------------------
# Each check: one TAP line; on failure, nvmfdd's stderr (and stdout when short)
# as diagnostics.

# 1. discovery
if out_of_time; then notok "discover: not run (time budget)"; else
	rc=0
	nv "$work/disc" "$work/disc.err" discover -q "$HOSTNQN" "$ADDR" || rc=$?
	if ((rc == 0)); then
		if grep -Eq "^[[:space:]]*subnqn:[[:space:]]*${NQN}[[:space:]]*$" "$work/disc" &&
			grep -Eq '^[[:space:]]*trsvcid:[[:space:]]*4420[[:space:]]*$' "$work/disc"; then
			ok "discover lists $NQN on trsvcid 4420"
		else
			notok "discover lists $NQN on trsvcid 4420"
			show "$work/disc" "$work/disc.err"
		fi
	else
		notok "discover (exit $rc)"
		show "$work/disc" "$work/disc.err"
	fi
fi

# 2. identify: namespace size and LBA size
if out_of_time; then notok "identify: not run (time budget)"; else
	rc=0
	nv "$work/id" "$work/id.err" identify -q "$HOSTNQN" -n 1 "$ADDR" "$NQN" || rc=$?
	if ((rc == 0)); then
		nsze=$(num nsze "$work/id")
		if [[ $nsze == "$NSZE" ]] && grep -Eiq "(lba|block)[^:]*:.*\<$LBS\>|\<$LBS\>[[:space:]]*(bytes|b\>)|lbads[^:]*:[[:space:]]*9\>" "$work/id"; then
			ok "identify: nsze $NSZE, $LBS-byte LBAs"
		else
			notok "identify: nsze ${nsze:-?} (want $NSZE) and $LBS-byte LBAs"
			show "$work/id" "$work/id.err"
		fi
	else
		notok "identify (exit $rc)"
		show "$work/id" "$work/id.err"
	fi
fi

# 3. write / read back / compare, for each digest mode and size
sizes=(512 4096 8192 65536 1048576 1049088)
modes=("" "-g" "-G" "-g -G")
bytes_moved=0 rw_start=$SECONDS
# rw LABEL OFFSET LENGTH [NVMFDD OPTIONS...]
rw() {
	local label=$1 off=$2 len=$3
	shift 3
	if out_of_time; then notok "$label: not run (time budget)"; return; fi
	head -c "$len" /dev/urandom >"$work/in"
	local rc=0
	nv "$work/w.out" "$work/w.err" write "$@" -q "$HOSTNQN" -o "$off" -l "$len" "$ADDR" "$NQN" <"$work/in" || rc=$?
	if ((rc != 0)); then
		notok "$label: write failed (exit $rc)"
		show "$work/w.err" "$work/w.out"
		return
	fi
	nv "$work/out" "$work/r.err" read "$@" -q "$HOSTNQN" -o "$off" -l "$len" "$ADDR" "$NQN" || rc=$?
	if ((rc != 0)); then
		notok "$label: read failed (exit $rc)"
		show "$work/r.err"
		return
	fi
	if cmp -s "$work/in" "$work/out"; then
		ok "$label"
		bytes_moved=$((bytes_moved + 2 * len))
	else
		notok "$label: read back differs ($(stat -c %s "$work/out") bytes read; $(cmp "$work/in" "$work/out" 2>&1 | head -n1))"
		show "$work/r.err"
	fi
}
crc32c() {  # crc32c FILE LENGTH: CRC-32C of the first LENGTH bytes, as the kernel prints it (%#x)
	PYTHONPATH=$here/../lib python3 -c '
import sys
from nvmftcp import crc32c
print(hex(crc32c(open(sys.argv[1], "rb").read(int(sys.argv[2]))) ^ 0xFFFFFFFF))' "$1" "$2"
}
# split_ddgst LABEL OFFSET LENGTH PDU-SIZE [NVMFDD OPTIONS...]: a write split
# into H2CData PDUs with data digests, which nvmet 6.1 refuses (see below).
ddgst_sent=()
split_ddgst() {
	local label=$1 off=$2 len=$3 pdu=$4 rc=0
	shift 4
	if out_of_time; then notok "$label: not run (time budget)"; return; fi
	head -c "$len" /dev/urandom >"$work/in"
	nv "$work/w.out" "$work/w.err" write --max-h2c "$pdu" "$@" -q "$HOSTNQN" -o "$off" -l "$len" \
		"$ADDR" "$NQN" <"$work/in" || rc=$?
	if ((rc == 0)); then  # a kernel without the bug: check the data too
		nv "$work/out" "$work/r.err" read "$@" -q "$HOSTNQN" -o "$off" -l "$len" "$ADDR" "$NQN" || rc=$?
		if ((rc == 0)) && cmp -s "$work/in" "$work/out"; then ok "$label (this nvmet accepts split data digests)"
		else notok "$label: read back failed or differs (exit $rc)"; show "$work/r.err"; fi
	elif ((rc == 1)); then
		ddgst_sent+=("$(crc32c "$work/in" "$pdu")")
		skipcase "$label" "nvmet 6.1 computes an H2CData digest over the whole command; our digest is checked below"
	else
		notok "$label: write exit $rc (want 0, or 1 when nvmet refuses the digest)"
		show "$work/w.err"
	fi
}
mi=0
for mode in "${modes[@]}"; do
	# Each mode writes its own 8 MiB region, so a stale read-back cannot pass.
	base=$((mi * 8 << 20))
	si=0
	for size in "${sizes[@]}"; do
		off=$((base + si * (2 << 20) + (si % 2) * LBS))  # every other one not 4 KiB-aligned
		# shellcheck disable=SC2086  # $mode is zero, one or two options
		rw "write+read $size B at $off${mode:+, $mode}" "$off" "$size" $mode
		si=$((si + 1))
	done
	off=$((base + 7 * (1 << 20) - 4096))
	label="write+read 1049088 B at $off, --max-h2c 8192 (many H2CData PDUs per R2T)${mode:+, $mode}"
	if [[ $mode == *-G* ]]; then
		# nvmet in Linux 6.1 checks each H2CData PDU's data digest against a
		# CRC of the whole command buffer, so any command split over several
		# H2CData PDUs fails there (the guest logs "data digest error: recv
		# <CRC of this PDU> expected <CRC of the whole buffer>"). The Linux
		# host never splits a command below nvmet's 4 MiB MAXH2CDATA, so it
		# never meets this. So: send it anyway, expect the refusal, and check
		# after the release that the digest nvmet received for the first PDU
		# is the CRC32C of that PDU's 8192 bytes (NVMe/TCP 3.6.1.2).
		# shellcheck disable=SC2086
		split_ddgst "$label" "$off" 1049088 8192 $mode
	else
		# shellcheck disable=SC2086
		rw "$label" "$off" 1049088 --max-h2c 8192 $mode
	fi
	mi=$((mi + 1))
done
# One invocation larger than nvmet's 4 MiB MAXH2CDATA: several commands.
rw "write+read 8389120 B at $((48 << 20)) (more than MAXH2CDATA), -g -G" $((48 << 20)) 8389120 -g -G
rw_s=$((SECONDS - rw_start))
echo "# data checks moved $((bytes_moved >> 10)) KiB in ${rw_s}s"

# 4. a region never written reads back as zeros
if out_of_time; then notok "unwritten region: not run (time budget)"; else
	zoff=$((40 << 20))
	if nv "$work/z" "$work/z.err" read -q "$HOSTNQN" -o "$zoff" -l 65536 "$ADDR" "$NQN" &&
		cmp -s "$work/z" <(head -c 65536 /dev/zero); then
		ok "an unwritten region reads back as 64 KiB of zeros"
	else
		notok "an unwritten region reads back as 64 KiB of zeros"
		show "$work/z.err"
	fi
fi

# Expected failures: exit status 1 (not a usage error, a timeout or a crash),
# a message on stderr, nothing half-written on stdout for reads.
# xfail LABEL PATTERN NVMFDD-ARGS... (PATTERN: extended regexp the message must match, case-insensitive)
xfail() {
	local label=$1 pat=$2 rc=0 t=$SECONDS
	shift 2
	if out_of_time; then notok "$label: not run (time budget)"; return; fi
	nv "$work/x.out" "$work/x.err" "$@" </dev/null || rc=$?
	if ((rc != 1)); then
		notok "$label: exit $rc, want 1"
		show "$work/x.err"
	elif [[ ! -s $work/x.err ]] || ! grep -Eiq -- "$pat" "$work/x.err"; then
		notok "$label: no message matching /$pat/ on stderr"
		show "$work/x.err"
	else
		ok "$label ($((SECONDS - t))s): $(head -n1 "$work/x.err")"
	fi
}
last=$(((NSZE - 1) * LBS))
xfail "read past the end of the namespace fails" 'range|capacity|exceed|beyond|end of' \
	read -q "$HOSTNQN" -o "$last" -l 1024 "$ADDR" "$NQN"
xfail "write past the end of the namespace fails" 'range|capacity|exceed|beyond|end of' \
	write -q "$HOSTNQN" -o "$((NSZE * LBS))" -l 512 "$ADDR" "$NQN"
xfail "a length that is not a multiple of the LBA size fails" 'multiple' \
	read -q "$HOSTNQN" -o 0 -l 1000 "$ADDR" "$NQN"
xfail "a namespace that is not active fails" 'not active|namespace' \
	read -q "$HOSTNQN" -n 2 -l 512 "$ADDR" "$NQN"
xfail "an unknown subsystem NQN fails" '.' \
	identify -q "$HOSTNQN" "$ADDR" "$BADNQN"
xfail "a host NQN the subsystem does not allow fails" '.' \
	read -q "$BADHOST" -o 0 -l 512 "$ADDR" "$NQN"
xfail "a closed port fails cleanly" 'refused|connect' \
	identify -q "$HOSTNQN" "127.0.0.1:$P3" "$NQN"
# qemu accepts on a forwarded port where nothing listens in the guest, then resets.
xfail "a connection reset before the ICResp fails cleanly" 'reset|closed|connect' \
	identify -q "$HOSTNQN" "127.0.0.1:$P4" "$NQN"

# nvmf-perf (io_uring engine, detached libnvmf queues) against nvmet: short
# --verify runs; the JSON must say every block read matched.
perf_run() {  # perf_run LABEL NAME ARGS...
	local label=$1 name=$2 rc=0
	shift 2
	if [[ -z $nvmf_perf || ! -x $nvmf_perf ]]; then skipcase "nvmf-perf: $label" "nvmf-perf not built"; return; fi
	if out_of_time; then notok "nvmf-perf: $label: not run (time budget)"; return; fi
	timeout -k 5 60 "$nvmf_perf" --json --hostnqn "$HOSTNQN" --timeout 10 "$@" "$ADDR" "$NQN" \
		>"$work/$name.json" 2>"$work/$name.err" || rc=$?
	if ((rc == 0)) && python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
ok = j["status"] == 0 and j["errors"] == 0 and j["verify_errors"] == 0 and j["total"]["ios"] > 0
ok = ok and (j["read"]["ios"] == 0 or j["verified_blocks"] > 0)
sys.exit(0 if ok else 1)' "$work/$name.json"; then
		ok "nvmf-perf: $label ($(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["total"]["iops"]))' "$work/$name.json") IOPS)"
	else
		notok "nvmf-perf: $label (exit $rc)"
		show "$work/$name.err" "$work/$name.json"
	fi
}
perf_run "fill 8 MiB + 4 KiB randwrite --verify, header and data digests" perf_w \
	-w randwrite -q 16 -t 1 --fill --verify --size 8M -g -G
perf_run "randrw 50% --verify, 128 KiB over 2 queues" perf_m \
	-w randrw -o 128k -q 4 -P 2 -t 1 --verify --size 8M

# Usage errors exit 2.
rc=0
"$nvmfdd" read >/dev/null 2>&1 || rc=$?
if ((rc == 2)); then ok "missing arguments: exit 2"; else notok "missing arguments: exit $rc, want 2"; fi

# --- release the guest, check its teardown ----------------------------------
released=0
for _ in $(seq 30); do
	# shellcheck disable=SC2016  # $0 is expanded by the inner bash
	r=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && head -c 8 <&3' "$P2" 2>/dev/null) || true
	[[ $r == released ]] && { released=1; break; }
	sleep 1
done
grc=0
if ((released)); then
	wait "$gpid" || grc=$?
else
	kill "$gpid" 2>/dev/null
	wait "$gpid" 2>/dev/null
	grc=-1
fi
gpid=''
if ((released && grc == 0)) && grep -q '^NVMET-SERVE EXIT 0' "$glog"; then
	ok "guest released, nvmet torn down cleanly"
else
	notok "guest released (released=$released, status $grc) and nvmet torn down cleanly"
fi
# The target's own view of the refused connections.
if grep -q "connect by host $BADHOST for subsystem $NQN not allowed" "$glog"; then
	ok "the target logged the refused host NQN"
else
	notok "the target logged the refused host NQN"
fi
if grep -q "connect request for invalid subsystem $BADNQN" "$glog"; then
	ok "the target logged the unknown subsystem NQN"
else
	notok "the target logged the unknown subsystem NQN"
fi

# What nvmet logged for the split data-digest writes: "data digest error:
# recv <the digest we sent> expected <its CRC of the whole buffer>".
for crc in "${ddgst_sent[@]}"; do
	if grep -q "data digest error: recv $crc expected" "$glog"; then
		ok "split write: nvmet received data digest $crc, the CRC32C of our first 8192-byte H2CData PDU"
	else
		notok "split write: nvmet did not log receiving data digest $crc (the CRC32C of our first H2CData PDU)"
	fi
done

echo "# guest output:"
diag "$glog"
echo "1..$n"
echo "# $((n - failed - skipped)) of $n checks passed, $skipped skipped, in $((SECONDS - t0))s (guest up in ${boot_s}s, data checks ${rw_s}s)"
((failed == 0))
