#!/usr/bin/env bash
# lh_run (tests/lib/guest.sh) against a stand-in for ../shared/tools/linux-host/run:
# a guest whose kernel died while booting, before its script printed a
# line, is booted once more; one that died after its script started is not
# (its status stands); a TERM to lh_run stops run. Prints TAP.
set -uo pipefail
# shellcheck source=../lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
# shellcheck source=../lib/guest.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

n=0 failed=0
lh=$(mktemp -d "${TMPDIR:-/tmp}/nvmfd-guest-retry.XXXXXX")
trap 'rm -rf "$lh"' EXIT
# the stand-in: MODE says how its boots go; each boot is counted in $lh/boots
cat >"$lh/run" <<'RUN'
#!/usr/bin/env bash
b=$(($(cat "$(dirname "$0")/boots" 2>/dev/null || echo 0) + 1))
echo "$b" >"$(dirname "$0")/boots"
echo "[linux-host] booting trixie (tcg, 2 vCPU, 2048 MiB, limit 60s)" >&2
case $MODE in
panic-once)
	if ((b == 1)); then
		echo "[linux-host] the guest gave no exit status (qemu status 0)" >&2
		echo "  klog| [    2.227432] Kernel panic - not syncing: Fatal exception in interrupt" >&2
		exit 125
	fi
	echo "ok 1 - the script ran with $*"
	exit 0 ;;
panic-late)
	echo "ok 1 - the script started"
	echo "  klog| [   30.1] Kernel panic - not syncing: Fatal exception" >&2
	exit 125 ;;
fails)
	echo "not ok 1 - a check failed"
	exit 1 ;;
hangs)
	trap 'echo "[linux-host] interrupted" >&2; exit 130' TERM
	sleep 60 &
	wait ;;
esac
RUN
chmod +x "$lh/run"

# boot MODE: lh_run as the interop scripts run it; its status, boots in $boots
boot() {
	rm -f "$lh/boots"
	MODE=$1 lh_run a b >"$lh/glog" 2>&1 &
	local p=$! rc=0
	wait "$p" || rc=$?
	boots=$(cat "$lh/boots")
	return "$rc"
}

rc=0; boot panic-once || rc=$?
if ((rc == 0 && boots == 2)) && grep -q '^ok 1 - the script ran with a b$' "$lh/glog" &&
	grep -q 'booting it once more' "$lh/glog"; then
	ok "a kernel panic before the script ran: booted once more, the second boot's status (0)"
else
	notok "a kernel panic before the script ran: status $rc after $boots boots"
	diag "$lh/glog"
fi

rc=0; boot panic-late || rc=$?
if ((rc == 125 && boots == 1)); then
	ok "a kernel panic after the script started: not booted again, status 125"
else
	notok "a kernel panic after the script started: status $rc after $boots boots"
	diag "$lh/glog"
fi

rc=0; boot fails || rc=$?
if ((rc == 1 && boots == 1)); then
	ok "a failed check: not booted again, the script's status (1)"
else
	notok "a failed check: status $rc after $boots boots"
fi

rm -f "$lh/boots"
MODE=hangs lh_run >"$lh/glog" 2>&1 &
p=$!
for _ in $(seq 50); do [[ -f $lh/boots ]] && break; sleep 0.1; done
sleep 0.3
kill "$p"
rc=0; wait "$p" || rc=$?
sleep 0.3
if ((rc == 143)) && grep -q 'interrupted' "$lh/glog" && ! pgrep -f "$lh/run" >/dev/null; then
	ok "a TERM to lh_run stops run (status 143, run interrupted)"
else
	notok "a TERM to lh_run: status $rc; run still there: $(pgrep -f "$lh/run" || echo no)"
	diag "$lh/glog"
	pkill -f "$lh/run"
fi

echo "1..$n"
((failed == 0))
