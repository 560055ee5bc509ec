#!/usr/bin/env bash
# Interop test: two nvmfd gateways serving one subsystem to the Linux
# kernel's native NVMe multipath (nvme-tcp 6.1 in a qemu guest from
# ../shared/tools/linux-host), failing over with ANA while fio verifies.
#
#   tests/interop/failover.sh BUILD/daemon/nvmfd
#
# Gateway A (group 1 optimized, cntlid_range 1-999) and gateway B (group 1
# non-optimized, cntlid_range 1000-1999) are two nvmfd processes on free
# loopback ports with the same subsystem and namespace 1 on one shared
# store: an RBD image on a throwaway Ceph cluster (../shared/tools/mini-ceph)
# when this nvmfd has the rbd: backend and the cluster starts, else a
# regular file both open (direct = yes). The first check names the store
# used; with the file, the RBD case is a SKIP with the reason (no rbd:
# backend, no mini-ceph, a cluster that did not start), or a failure when
# FAILOVER_STORE=rbd (meson sets it with -Drbd_tests=enabled, as CI does).
# Each gateway's discovery controller refers to the other's. The guest (guest/failover-checks.sh)
# connects both paths and runs fio verify on the multipath head while this
# script, at the guest's hold requests:
#   swap     reloads A with group 1 inaccessible and B optimized (SIGHUP)
#   kill-a   kills A with SIGKILL
#   start-a  starts A again, group 1 optimized
#   b-out    reloads B with group 1 inaccessible
#   a-dies   kills A (optimized now) with SIGKILL and at once reloads B with
#            group 1 optimized: an unplanned loss, the survivor promoted
#   a-back   starts A again, group 1 optimized
# fio must end with no error and every block verified; the guest's
# "FAILOVER step=... max_gap_ms=... max_lat_ms=..." lines (after each event:
# the longest time without an I/O completion, and the largest I/O latency,
# from fio's log) are relayed as the failover times.
#
# Prints TAP; exits 0 / 1, 77 (skip) when the linux-host tool, qemu or
# nvmfd is missing. Environment: LINUX_HOST_DIR, REQUIRE_INTEROP,
# INTEROP_KEEP, GUEST_TIMEOUT (300), FAILOVER_STORE (auto|file|rbd),
# MINI_CEPH.
set -uo pipefail
# shellcheck source=../lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
# shellcheck source=../lib/guest.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
lh=${LINUX_HOST_DIR:-$src/../shared/tools/linux-host}
ceph_tool=${MINI_CEPH:-$src/../shared/tools/mini-ceph/mini-ceph}
nvmfd=${1:-}
SUB=nqn.2026-11.io.nvmfd:failover
NS_MB=64
GUEST_TIMEOUT=${GUEST_TIMEOUT:-300}

[[ -n $nvmfd ]] || { echo "usage: $0 NVMFD" >&2; exit 2; }
[[ -x $nvmfd ]] || skip "nvmfd not built: $nvmfd"
nvmfd=$(abspath "$nvmfd")
[[ -x $lh/run ]] || skip "no linux-host tool at $lh (set LINUX_HOST_DIR)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (run $lh/setup)"
if ! setup_out=$("$lh/setup" 2>&1); then
	printf '%s\n' "$setup_out" | tail -n 5 | sed 's/^/# /'
	skip "$lh/setup failed"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nvmfd-failover.XXXXXX")
glog=$work/guest.log
gpid='' pid_a='' pid_b='' ceph_dir=''
n=0 failed=0 skipped=0
t0=$SECONDS

cleanup() {
	local p
	if [[ -n $gpid ]]; then kill "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null; fi
	for p in $pid_a $pid_b; do kill -TERM "$p" 2>/dev/null; done
	sleep 1
	for p in $pid_a $pid_b; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[[ -n $ceph_dir ]] && "$ceph_tool" stop "$ceph_dir" >/dev/null 2>&1
	if [[ ${INTEROP_KEEP:-0} == 1 ]]; then echo "# work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "Bail out! interrupted"; exit 1' INT TERM HUP

read -r P_A P_B D_A D_B P_HOLD < <(free_ports 5)
# mon_ports FROM: the monitor's two ports (msgr v2, then v1 on the next one),
# both free, from FROM on
mon_ports() {
	python3 -c '
import socket, sys
for base in range(int(sys.argv[1]), 60000, 2):
    try:
        socks = [socket.socket() for _ in (0, 1)]
        for i, x in enumerate(socks): x.bind(("127.0.0.1", base + i))
        print(base)
        break
    except OSError:
        pass
    finally:
        for x in socks: x.close()' "$1"
}

# --- the shared store ------------------------------------------------------------
# RBD needs the rbd: backend in this nvmfd (a config check that does not
# refuse the path: its ceph_conf is absent, so that it fails at once
# without trying a cluster) and a cluster; otherwise one regular file for both.
store=file why_not_rbd=''
ns_path=$work/shared.img ns_extra='direct = yes' global_extra=''
probe_rbd() {
	printf '[nvmfd]\nlisten = 127.0.0.1:1\nceph_conf = %s\n[subsystem %s]\nallow_host = any\n[namespace %s 1]\npath = rbd:rbd/probe\n' \
		"$work/absent.conf" "$SUB" "$SUB" >"$work/probe.ini"
	local out
	out=$("$nvmfd" --check -c "$work/probe.ini" 2>&1)
	if grep -Eq 'path must be absolute|built without RBD support' <<<"$out"; then
		why_not_rbd="this nvmfd has no rbd: backend (built without librbd)"
		return 1
	fi
	[[ -x $ceph_tool ]] || { why_not_rbd="no mini-ceph at $ceph_tool"; return 1; }
	# a busy machine can make a start time out: one more try, on other ports
	local try mon=41000
	for try in 1 2; do
		mon=$(mon_ports "$mon")
		out=$(MON_PORT=$mon IMG_SIZE=${NS_MB}M "$ceph_tool" start "$work/ceph" 2>&1) && break
		echo "# mini-ceph start $try failed: $(tail -n1 <<<"$out")"
		mon=$((mon + 2))
	done
	if [[ $out != *CEPH_CONF=* ]]; then
		why_not_rbd="mini-ceph did not start: $(tail -n1 <<<"$out")"
		return 1
	fi
	ceph_dir=$work/ceph
	ns_path=rbd:rbd/img ns_extra=''
	global_extra="ceph_conf = $work/ceph/ceph.conf"
	store=rbd
}
case ${FAILOVER_STORE:-auto} in
rbd | auto) probe_rbd || true ;;
*) why_not_rbd="FAILOVER_STORE=$FAILOVER_STORE" ;;
esac
if [[ $store == rbd ]]; then
	ok "shared store: RBD image rbd/img on mini-ceph ($work/ceph)"
else
	[[ ${FAILOVER_STORE:-auto} == rbd ]] && notok "shared store: RBD (${why_not_rbd})"
	truncate -s $((NS_MB << 20)) "$ns_path"
	skipcase "shared store: RBD image" "$why_not_rbd; a regular file both gateways open (direct I/O) instead"
fi

# gw_ini NAME PORT DISCPORT OTHERDISC STATE RANGE: one gateway's configuration.
gw_ini() {
	cat >"$work/$1.ini.tmp" <<EOF2
; generated by tests/interop/failover.sh: gateway $1
[nvmfd]
listen = 127.0.0.1:$2 ana_state=1:$5
discovery_listen = 127.0.0.1:$3
referral = 127.0.0.1:$4
cntlid_range = $6
workers = 2
state_dir = $work/state-$1
$global_extra

[subsystem $SUB]
allow_host = any

[namespace $SUB 1]
path = $ns_path
$ns_extra
EOF2
	mv "$work/$1.ini.tmp" "$work/$1.ini"
}
cfg_a() { gw_ini a "$P_A" "$D_A" "$D_B" "$1" 1-999; }
cfg_b() { gw_ini b "$P_B" "$D_B" "$D_A" "$1" 1000-1999; }
# start_gw NAME PORT: nvmfd on NAME.ini, its pid in pid_NAME; 0 once it accepts.
start_gw() {
	local p
	mkdir -p "$work/state-$1"
	"$nvmfd" -c "$work/$1.ini" >>"$work/$1.log" 2>&1 </dev/null &
	p=$!
	printf -v "pid_$1" %s "$p"
	for _ in $(seq 100); do
		port_open "$2" && return 0
		kill -0 "$p" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# reload_gw NAME: SIGHUP, and wait for its "reload:" summary (0) in the log.
reload_gw() {
	local pidv=pid_$1 before
	before=$(grep -c 'reload: ' "$work/$1.log")
	kill -HUP "${!pidv}"
	for _ in $(seq 100); do
		(($(grep -c 'reload: ' "$work/$1.log") > before)) && return 0
		sleep 0.1
	done
	return 1
}

cfg_a optimized
cfg_b non-optimized
if start_gw a "$P_A" && start_gw b "$P_B"; then
	ok "gateways A (127.0.0.1:$P_A, optimized) and B (127.0.0.1:$P_B, non-optimized) serve $SUB on $store"
else
	notok "both gateways start"
	tail -n 5 "$work"/a.log "$work"/b.log | diag
	echo "1..$n"
	exit 1
fi

# --- the guest -------------------------------------------------------------------
lh_run --timeout "$GUEST_TIMEOUT" --fwd "127.0.0.1:$P_HOLD:5555" \
	--env ADDR=10.0.2.2 --env PORT_A="$P_A" --env PORT_B="$P_B" --env SUB="$SUB" \
	--env FIO_MB=4 --env FIO_SECS=60 --env HOLD_PORT=5555 --env HOLD_SECONDS=120 \
	"$here/guest/failover-checks.sh" >"$glog" 2>&1 &
gpid=$!

release() { guest_release "$P_HOLD" "$1"; }

event() {
	local what=$1 answer
	case $what in
	swap)
		cfg_a inaccessible
		cfg_b optimized
		if reload_gw a && reload_gw b; then
			answer="A inaccessible, B optimized"
			ok "swap: SIGHUP to both: $(grep 'ANA group 1' "$work/a.log" | tail -n1 | sed 's/^[^]]*] //'); $(grep 'ANA group 1' "$work/b.log" | tail -n1 | sed 's/^[^]]*] //')"
		else
			answer="swap failed"
			notok "swap: both gateways reloaded"
		fi
		;;
	kill-a)
		kill -KILL "$pid_a"
		wait "$pid_a" 2>/dev/null
		pid_a=''
		answer="A killed"
		ok "kill-a: gateway A killed with SIGKILL"
		;;
	start-a)
		cfg_a optimized
		if start_gw a "$P_A"; then answer="A started"; ok "start-a: gateway A started again, optimized"
		else answer="A did not start"; notok "start-a: gateway A starts again"; tail -n 5 "$work/a.log" | diag; fi
		;;
	b-out)
		cfg_b inaccessible
		if reload_gw b; then answer="B inaccessible"; ok "b-out: SIGHUP to B: $(grep 'ANA group 1' "$work/b.log" | tail -n1 | sed 's/^[^]]*] //')"
		else answer="reload of B failed"; notok "b-out: gateway B reloaded"; fi
		;;
	a-dies)
		kill -KILL "$pid_a"
		wait "$pid_a" 2>/dev/null
		pid_a=''
		cfg_b optimized
		if reload_gw b; then
			answer="A killed, B optimized"
			ok "a-dies: gateway A (optimized) killed with SIGKILL, then SIGHUP to B: $(grep 'ANA group 1' "$work/b.log" | tail -n1 | sed 's/^[^]]*] //')"
		else
			answer="A killed, reload of B failed"
			notok "a-dies: gateway B reloaded optimized"
		fi
		;;
	a-back)
		cfg_a optimized
		if start_gw a "$P_A"; then answer="A started"; ok "a-back: gateway A started again, optimized"
		else answer="A did not start"; notok "a-back: gateway A starts again"; tail -n 5 "$work/a.log" | diag; fi
		;;
	esac
	release "$answer" || notok "$what: the guest's hold port never answered"
}

failover=''
guest_line() {
	case $1 in
	"HOLD "*) echo "# guest asks: $1"; event "${1#HOLD }" ;;
	"FAILOVER "*) failover+="${1#FAILOVER }; "; echo "# $1" ;;
	*) return 1 ;;
	esac
	return 0
}
guest_wait "HOST-CHECKS EXIT"
echo "# failover times seen by the host (per event: the longest wait for an I/O completion, max_gap_ms, and the largest I/O latency): ${failover:-none}"

# --- the gateways after all that -------------------------------------------------
for g in a b; do
	pidv=pid_$g
	if [[ -n ${!pidv} ]] && kill -0 "${!pidv}" 2>/dev/null; then
		kill -TERM "${!pidv}"
		st=0
		for _ in $(seq 150); do kill -0 "${!pidv}" 2>/dev/null || break; sleep 0.1; done
		wait "${!pidv}" || st=$?
		printf -v "pid_$g" %s ''
		if ((st == 0)); then ok "gateway ${g^^}: SIGTERM, exit 0"; else notok "gateway ${g^^}: SIGTERM, exit 0 (status $st)"; tail -n 5 "$work/$g.log" | diag; fi
	else
		notok "gateway ${g^^} still runs at the end"
	fi
	if grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$work/$g.log"; then notok "no sanitizer report from ${g^^}"; fi
done
echo "1..$n"
echo "# $((n - failed - skipped)) of $n checks passed, $skipped skipped, in $((SECONDS - t0))s"
((failed == 0))
