#!/usr/bin/env bash
# Install, build, start nvmfd on its embedded default configuration and show
# it serving: nvmfdd (our NVMe/TCP host tool) discovers it, identifies it,
# writes 1 MiB with header and data digests and reads it back, compares;
# nvmf-stat shows the target's SMART / Health counters; then nvmfd is
# stopped with SIGTERM. Its health counters live in a scratch state
# directory (-s), so every demo starts from a new drive. The README's first command; run it as
# root on Debian 12 (or with --no-install when the dependencies are there).
#
#   scripts/demo.sh [--no-install] [--keep]
#   scripts/demo.sh --kernel-target [--no-install] [--keep]
#
# The embedded default: subsystem nqn.2026-11.io.nvmfd:default (any host),
# a 1 GiB RAM namespace, I/O on 127.0.0.1:4420, discovery on 127.0.0.1:8009.
# --keep: after the demo, leave nvmfd up (and print how to reach it) until
# you press Enter. --kernel-target: the older demo instead, nvmfdd against
# the Linux kernel's target in a qemu guest (scripts/demo-kernel-target.sh).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$src"
install=1 keep=0
for a; do
	case $a in
	--kernel-target)
		args=()
		for b; do [[ $b == --kernel-target ]] || args+=("$b"); done
		exec "$src/scripts/demo-kernel-target.sh" "${args[@]}"
		;;
	--no-install) install=0 ;;
	--keep) keep=1 ;;
	*) echo "usage: $0 [--no-install] [--keep] | --kernel-target [--no-install] [--keep]" >&2; exit 2 ;;
	esac
done
NQN=nqn.2026-11.io.nvmfd:default
IO=127.0.0.1:4420
DISC=127.0.0.1:8009

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s>>> %s%s\n' "$bold" "$*" "$plain"; }
die() { echo "demo: $*" >&2; exit 1; }

if ((install)); then
	# what building and running nvmfd needs; the test tools and the qemu
	# guest are scripts/test.sh's
	say "installing dependencies (scripts/install-deps.sh --run-only)"
	scripts/install-deps.sh --run-only
fi

say "building into build/"
# without the tests (they need cmocka): meson configure build -Dtests=true adds them
[[ -f build/meson-private/coredata.dat ]] || meson setup build -Dtests=false
ninja -C build
nvmfd=$src/build/daemon/nvmfd
nvmfdd=$src/build/tools/nvmfdd
nvmfstat=$src/build/tools/nvmf-stat
[[ -x $nvmfd ]] || die "build/daemon/nvmfd was not built"
[[ -x $nvmfstat ]] || die "build/tools/nvmf-stat was not built"
[[ -x $nvmfdd ]] || die "build/tools/nvmfdd was not built"

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
for p in 4420 8009; do
	! port_open $p || die "127.0.0.1:$p is already in use (another nvmfd or NVMe/TCP target?); stop it first"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/nvmfd-demo.XXXXXX")
dpid=''
cleanup() {
	if [[ -n $dpid ]]; then
		kill -TERM "$dpid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$dpid" 2>/dev/null || true
		wait "$dpid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

exec 3>&1  # run's command echo goes here even when the command's stdout is redirected
run() { printf '\n$ %s\n' "$*" | sed "s|$src/||" >&3; "$@"; }

say "starting nvmfd with no configuration file: the embedded default"
printf '\n$ %s &\n' "build/daemon/nvmfd -s $work/state"
"$nvmfd" -s "$work/state" >"$work/nvmfd.log" 2>&1 </dev/null &
dpid=$!
ready=0
for _ in $(seq 100); do  # 10 s
	kill -0 "$dpid" 2>/dev/null || { cat "$work/nvmfd.log"; dpid=''; die "nvmfd stopped at start"; }
	if port_open 4420 && port_open 8009; then ready=1; break; fi
	sleep 0.1
done
((ready)) || { cat "$work/nvmfd.log"; die "nvmfd does not accept on $IO and $DISC after 10 s"; }
sed 's/^/  nvmfd| /' "$work/nvmfd.log"

say "discovery (the discovery port, 8009)"
run "$nvmfdd" discover "$DISC"
say "identify the controller and its namespace"
run "$nvmfdd" identify "$IO" "$NQN"
say "write 1 MiB of random data at offset 1 MiB, with header and data digests, and read it back"
head -c $((1 << 20)) /dev/urandom >"$work/data"
run "$nvmfdd" write -g -G -o $((1 << 20)) -l $((1 << 20)) "$IO" "$NQN" <"$work/data"
run "$nvmfdd" read -g -G -o $((1 << 20)) -l $((1 << 20)) "$IO" "$NQN" >"$work/back"
cmp "$work/data" "$work/back" || die "the data read back differs from the data written"
echo "read back == written ($(md5sum <"$work/data" | cut -d' ' -f1))"
say "the target's health counters: nvmf-stat reads the SMART / Health log over NVMe/TCP"
run "$nvmfstat" "$IO"

if ((keep)); then
	say "nvmfd stays up: try for example"
	echo "  $nvmfdd identify $IO $NQN"
	echo "  $nvmfstat --watch 1 $IO                          # rates, once a second"
	echo "  nvme discover -t tcp -a 127.0.0.1 -s 8009        # with nvme-cli and the nvme-tcp module"
	read -r -p "Press Enter to stop it. " _ || true
fi

say "stopping nvmfd (SIGTERM)"
printf '\n$ kill -TERM %s\n' "$dpid"
kill -TERM "$dpid"
rc=''
for _ in $(seq 50); do  # 5 s
	if ! kill -0 "$dpid" 2>/dev/null; then
		rc=0
		wait "$dpid" || rc=$?
		break
	fi
	sleep 0.1
done
[[ -n $rc ]] || die "nvmfd still runs 5 s after SIGTERM"
dpid=''
sed -n '/stopping/,$p' "$work/nvmfd.log" | sed 's/^/  nvmfd| /'
((rc == 0)) || die "nvmfd exited with status $rc"
echo "nvmfd exited with status 0"
say "demo done"
