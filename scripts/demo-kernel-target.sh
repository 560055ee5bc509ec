#!/usr/bin/env bash
# Install, build, and show nvmfdd (our NVMe/TCP host tool) at work against the
# Linux kernel's NVMe/TCP target, which runs in a qemu guest from
# ../shared/tools/linux-host. Run it as root on Debian 12 (or with
# --no-install when the dependencies are there); `scripts/demo.sh
# --kernel-target` runs it too.
#
#   scripts/demo-kernel-target.sh [--no-install] [--keep]
#
# --keep: after the demo, leave the target up (and print how to reach it)
# until you press Enter.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$src"
lh=$(realpath -m "${LINUX_HOST_DIR:-$src/../shared/tools/linux-host}")
install=1 keep=0
for a; do
	case $a in
	--no-install) install=0 ;;
	--keep) keep=1 ;;
	*) echo "usage: $0 [--no-install] [--keep]" >&2; exit 2 ;;
	esac
done
NQN=nqn.2014-08.org.nvmexpress:nvmfd-interop
HOSTNQN=nqn.2014-08.org.nvmexpress:nvmfd-interop-host

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s>>> %s%s\n' "$bold" "$*" "$plain"; }
die() { echo "demo: $*" >&2; exit 1; }

[[ -x $lh/run ]] || die "no linux-host tool at $lh (clone the project with ../shared beside it, or set LINUX_HOST_DIR)"
if ((install)); then
	say "installing dependencies (scripts/install-deps.sh)"
	scripts/install-deps.sh
fi

say "building into build/"
[[ -f build/meson-private/coredata.dat ]] || meson setup build
ninja -C build
nvmfdd=$src/build/tools/nvmfdd
[[ -x $nvmfdd ]] || die "build/tools/nvmfdd was not built"

read -r port hold < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
addr=127.0.0.1:$port
work=$(mktemp -d "${TMPDIR:-/tmp}/nvmfd-demo.XXXXXX")
gpid=''
cleanup() {
	if [[ -n $gpid ]]; then kill "$gpid" 2>/dev/null || true; wait "$gpid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

say "booting a guest with the kernel target (nvmet) on 127.0.0.1:$port (tests/interop/guest/nvmet-serve.sh)"
"$lh/run" --timeout 3600 --fwd "127.0.0.1:$port:4420" --fwd "127.0.0.1:$hold:5555" \
	--env NVMET_NQN="$NQN" --env HOST_NQN="$HOSTNQN" --env HOLD_SECONDS=3500 \
	tests/interop/guest/nvmet-serve.sh >"$work/guest.log" 2>&1 &
gpid=$!
ready_deadline=$((SECONDS + 180))
until grep -q '^NVMET-READY' "$work/guest.log"; do
	kill -0 "$gpid" 2>/dev/null || { cat "$work/guest.log"; die "the guest stopped"; }
	((SECONDS < ready_deadline)) || { cat "$work/guest.log"; die "the guest's target is not up after 180 s"; }
	sleep 0.5
done
sed 's/^/  guest| /' "$work/guest.log"
if [[ -f $lh/examples/icreq-probe.py ]]; then python3 "$lh/examples/icreq-probe.py" 127.0.0.1 "$port" --wait 30 >/dev/null; fi

exec 3>&1  # run's command echo goes here even when the command's stdout is redirected
run() { printf '\n$ %s\n' "$*" | sed "s|$src/||" >&3; "$@"; }
say "discovery"
run "$nvmfdd" discover -q "$HOSTNQN" "$addr"
say "identify"
run "$nvmfdd" identify -q "$HOSTNQN" "$addr" "$NQN"
say "write 1 MiB of random data at offset 1 MiB, with header and data digests, and read it back"
head -c $((1 << 20)) /dev/urandom >"$work/data"
run "$nvmfdd" write -g -G -q "$HOSTNQN" -o $((1 << 20)) -l $((1 << 20)) "$addr" "$NQN" <"$work/data"
run "$nvmfdd" read -g -G -q "$HOSTNQN" -o $((1 << 20)) -l $((1 << 20)) "$addr" "$NQN" >"$work/back"
cmp "$work/data" "$work/back" || die "the data read back differs from the data written"
echo "read back == written ($(md5sum <"$work/data" | cut -d' ' -f1))"
say "a host NQN that the subsystem does not allow is refused"
run "$nvmfdd" read -q nqn.2014-08.org.nvmexpress:someone-else -l 512 "$addr" "$NQN" || echo "(exit $?, as expected)"

if ((keep)); then
	say "the target stays up: try for example"
	echo "  $nvmfdd identify -q $HOSTNQN $addr $NQN"
	read -r -p "Press Enter to shut it down. " _ || true
fi
say "releasing the guest"
for _ in $(seq 30); do
	# shellcheck disable=SC2016  # $0 is expanded by the inner bash
	r=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && head -c 8 <&3' "$hold" 2>/dev/null) || true
	[[ $r == released ]] && break
	sleep 1
done
rc=0
wait "$gpid" || rc=$?
gpid=''
sed -n '/^=== holding/,$p' "$work/guest.log" | sed 's/^/  guest| /'
((rc == 0)) || die "the guest ended with status $rc"
say "demo done"
