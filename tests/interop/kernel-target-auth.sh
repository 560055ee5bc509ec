#!/usr/bin/env bash
# Interop test: our host tools (nvmfdd, nvmf-perf, nvmf-stat) authenticating
# with DH-HMAC-CHAP to the Linux kernel target (nvmet, kernel 6.12 in the
# trixie guest of ../shared/tools/linux-host). See tests/interop/README.md.
#
#   tests/interop/kernel-target-auth.sh BUILD/tools/nvmfdd BUILD/tools/nvmf-perf BUILD/tools/nvmf-stat
#
# The guest runs guest/nvmet-serve.sh with a host entry holding a secret and
# a controller secret (configfs dhchap_key, dhchap_ctrl_key, dhchap_hash
# hmac(sha384), dhchap_dhgroup ffdhe2048). Checks: identify, a 1 MiB write
# and read back with --dhchap-secret and --dhchap-ctrl-secret (@FILE),
# nvmf-perf --verify over two I/O queues (each queue authenticates),
# nvmf-stat; refused with a wrong secret, with none, and with a wrong
# controller secret (we refuse nvmet). Prints TAP; exit 0 / 1 / 77 (skip).
set -uo pipefail
# shellcheck source=../lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
# shellcheck source=../lib/guest.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
lh=${LINUX_HOST_DIR:-$src/../shared/tools/linux-host}
nvmfdd=${1:-} nvmf_perf=${2:-} nvmf_stat=${3:-}
NQN=nqn.2014-08.org.nvmexpress:nvmfd-interop-auth
HOSTNQN=nqn.2014-08.org.nvmexpress:nvmfd-interop-auth-host
HOLD_SECONDS=300

[[ -n $nvmfdd ]] || { echo "usage: $0 NVMFDD NVMF-PERF NVMF-STAT" >&2; exit 2; }
for t in "$nvmfdd" "$nvmf_perf" "$nvmf_stat"; do [[ -x $t ]] || skip "not built: ${t:-a tool}"; done
[[ -x $lh/run ]] || skip "no linux-host tool at $lh (set LINUX_HOST_DIR)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (run $lh/setup)"
command -v python3 >/dev/null || skip "python3 is not installed"
if ! setup_out=$("$lh/setup" --guest trixie 2>&1); then
	printf '%s\n' "$setup_out" | tail -n 5 | sed 's/^/# /'
	skip "$lh/setup --guest trixie failed (the trixie guest is needed: kernel 6.12 has NVMe authentication)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nvmfd-interop-auth.XXXXXX")
glog=$work/guest.log
gpid='' n=0 failed=0
cleanup() {
	if [[ -n $gpid ]]; then kill "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null; fi
	if [[ ${INTEROP_KEEP:-0} == 1 ]]; then echo "# work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "Bail out! interrupted"; exit 1' INT TERM HUP

secret() {
	python3 -c 'import base64,os,struct,sys,zlib
k=os.urandom(int(sys.argv[2]))
print("DHHC-1:%02x:%s:" % (int(sys.argv[1]), base64.b64encode(k + struct.pack("<I", zlib.crc32(k))).decode()))' "$1" "$2"
}
KEY=$(secret 1 32) CKEY=$(secret 2 48) WRONG=$(secret 1 32) CWRONG=$(secret 2 48)
umask 077
printf '%s\n' "$KEY" >"$work/key"
printf '%s\n' "$CKEY" >"$work/ckey"
umask 022

read -r P1 P2 < <(free_ports 2)
ADDR=127.0.0.1:$P1
echo "# guest: nvmet with DH-HMAC-CHAP on 127.0.0.1:$P1 (guest 4420), hold port $P2; work $work"
lh_run --guest trixie --timeout $((HOLD_SECONDS + 60)) \
	--fwd "127.0.0.1:$P1:4420" --fwd "127.0.0.1:$P2:5555" \
	--env NVMET_NQN="$NQN" --env HOST_NQN="$HOSTNQN" --env RAMDISK_MB=64 \
	--env HOLD_PORT=5555 --env HOLD_SECONDS="$HOLD_SECONDS" \
	--env DHCHAP_KEY="$KEY" --env DHCHAP_CTRL_KEY="$CKEY" \
	--env "DHCHAP_HASH=hmac(sha384)" --env DHCHAP_DHGROUP=ffdhe2048 \
	"$here/guest/nvmet-serve.sh" >"$glog" 2>&1 &
gpid=$!
deadline=$((SECONDS + ${READY_TIMEOUT:-240}))
until grep -q '^NVMET-READY' "$glog"; do
	if ! kill -0 "$gpid" 2>/dev/null || ((SECONDS > deadline)); then
		notok "guest serves the kernel target with DH-HMAC-CHAP (no NVMET-READY)"
		diag "$glog"
		echo "1..$n"
		exit 1
	fi
	sleep 0.5
done
if python3 "$lh/examples/icreq-probe.py" 127.0.0.1 "$P1" --wait 30 >"$work/probe" 2>&1; then
	ok "guest target up: $(grep -m1 'DH-HMAC-CHAP' "$glog")"
else
	notok "ICReq probe of 127.0.0.1:$P1"; diag "$work/probe"
fi

auth=(-q "$HOSTNQN" --dhchap-secret "@$work/key")
bidi=("${auth[@]}" --dhchap-ctrl-secret "@$work/ckey")
# run NAME OUT ERR CMD...: a tool with a hard time limit
run() { local out=$1 err=$2; shift 2; timeout -k 5 120 "$@" >"$out" 2>"$err"; }

if run "$work/id" "$work/id.err" "$nvmfdd" identify "${auth[@]}" "$ADDR" "$NQN" &&
	grep -q 'nsze' "$work/id"; then
	ok "nvmfdd identify --dhchap-secret @FILE (unidirectional)"
else
	notok "nvmfdd identify --dhchap-secret"; diag "$work/id.err"
fi
head -c $((1 << 20)) /dev/urandom >"$work/data"
if run /dev/null "$work/w.err" "$nvmfdd" write -g -G -o 4096 -l $((1 << 20)) "${bidi[@]}" "$ADDR" "$NQN" <"$work/data" &&
	run "$work/back" "$work/r.err" "$nvmfdd" read -o 4096 -l $((1 << 20)) "${bidi[@]}" "$ADDR" "$NQN" &&
	cmp -s "$work/data" "$work/back"; then
	ok "nvmfdd write + read back 1 MiB with digests, bidirectional (--dhchap-ctrl-secret)"
else
	notok "nvmfdd write + read back, bidirectional"; diag "$work/w.err" "$work/r.err"
fi
if run "$work/perf" "$work/perf.err" "$nvmf_perf" -w randrw -q 8 -P 2 -o 4k -t 3 --size 4M --fill --verify \
	--hostnqn "$HOSTNQN" --dhchap-secret "@$work/key" --dhchap-ctrl-secret "@$work/ckey" "$ADDR" "$NQN"; then
	ok "nvmf-perf --verify, 2 I/O queues, each authenticated: $(grep -m1 '^total' "$work/perf" | tr -s ' ')"
else
	notok "nvmf-perf --verify with DH-HMAC-CHAP"; diag "$work/perf" "$work/perf.err"
fi
if run "$work/stat" "$work/stat.err" "$nvmf_stat" --json -t 20 -q "$HOSTNQN" --dhchap-secret "@$work/key" "$ADDR" "$NQN" &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "auth_failures" not in d["subsystems"][0]' "$work/stat"; then
	ok "nvmf-stat --json authenticates (and shows no nvmfd counters for nvmet)"
else
	notok "nvmf-stat with DH-HMAC-CHAP"; diag "$work/stat" "$work/stat.err"
fi

# refusals
if run /dev/null "$work/e1" "$nvmfdd" identify -q "$HOSTNQN" --dhchap-secret "$WRONG" "$ADDR" "$NQN"; then
	notok "a wrong secret is refused"
else
	ok "a wrong secret is refused: $(head -c 200 "$work/e1" | tr '\n' ' ')"
fi
if run /dev/null "$work/e2" "$nvmfdd" identify -q "$HOSTNQN" "$ADDR" "$NQN"; then
	notok "no secret is refused"
elif grep -q 'requires authentication' "$work/e2"; then
	ok "no secret: $(head -c 200 "$work/e2" | tr '\n' ' ')"
else
	notok "no secret: the error says authentication is required"; diag "$work/e2"
fi
if run /dev/null "$work/e3" "$nvmfdd" identify "${auth[@]}" --dhchap-ctrl-secret "$CWRONG" "$ADDR" "$NQN"; then
	notok "a wrong controller secret: we refuse nvmet"
elif grep -q 'failed to authenticate itself' "$work/e3"; then
	ok "a wrong controller secret: $(head -c 200 "$work/e3" | tr '\n' ' ')"
else
	notok "a wrong controller secret: the error says the controller failed"; diag "$work/e3"
fi
if grep -q 'DHHC-1' "$work"/*.err "$work/e1" "$work/e2" "$work/e3" 2>/dev/null; then
	notok "no secret in the tools' messages"
else
	ok "no secret in the tools' messages"
fi

released=0
for _ in $(seq 20); do
	r=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && head -c 8 <&3' "$P2" 2>/dev/null) || true
	[[ $r == released ]] && { released=1; break; }
	sleep 1
done
grc=0
wait "$gpid" || grc=$?
gpid=''
if ((released && grc == 0)) && grep -q '^NVMET-SERVE EXIT 0' "$glog"; then
	ok "guest released, nvmet torn down cleanly"
	grep -E 'dmesg\|.*(auth|DH-HMAC)' "$glog" | tail -n 8 | diag
else
	notok "guest released (released=$released, status $grc)"; tail -n 30 "$glog" | diag
fi
echo "1..$n"
((failed == 0))
