#!/usr/bin/env bash
# Integration test: the host tools under valgrind (memcheck) against a
# running nvmfd. See tests/integration/meson.build.
#
#   tests/integration/valgrind_tools.sh BUILD/daemon/nvmfd BUILD/tools/nvmfdd BUILD/tools/nvmf-stat
#
# nvmfdd write (in-capsule and R2T sizes, with digests), read, identify,
# discover, and nvmf-stat (--json, the table through discovery, --watch) each
# run under valgrind --error-exitcode=99 --leak-check=full
# --errors-for-leak-kinds=definite; any valgrind error (invalid access,
# uninitialised value, a definite leak) fails the check. The daemon is not
# run under valgrind (io_uring is not supported there; the daemon has the
# sanitizer build). Skips without valgrind, and in a sanitizer build (ASan
# and valgrind do not mix: the tools run under valgrind in the plain build).
#
# Prints TAP (the plan last); exit 0 / 1, or 77 (skip).
set -uo pipefail
# shellcheck source=../lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/daemon.sh"

nvmfd=${1:-}
nvmfdd=${2:-}
stat=${3:-}
need_built nvmfd "$nvmfd" nvmfdd "$nvmfdd" nvmf-stat "$stat"
command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/install-deps.sh)"
if grep -q __asan_init "$nvmfdd" 2>/dev/null; then
	skip "a sanitizer build: valgrind runs on the plain build's tools"
fi

SUB=nqn.2026-11.io.nvmfd:valgrind
HOST=nqn.2026-11.io.nvmfd:valgrind-host
work_dir nvmfd-valgrind keep-failed
dlog=$work/nvmfd.log
n=0 failed=0

read -r P_IO P_DISC < <(free_ports 2)
cat >"$work/vg.ini" <<EOF
[nvmfd]
listen = 127.0.0.1:$P_IO
discovery_listen = 127.0.0.1:$P_DISC
workers = 2
state_dir = $work

[subsystem $SUB]
allow_host = any

[namespace $SUB 1]
path = ram:16M
EOF
if start_nvmfd "$P_IO $P_DISC" -c "$work/vg.ini"; then ok "nvmfd started on 127.0.0.1:$P_IO"
else notok "nvmfd started"; show "$dlog"; echo "1..$n"; exit 1; fi

A=127.0.0.1:$P_IO
# vg NAME INPUT TOOL ARGS...: TOOL under valgrind, stdin from INPUT; ok when it
# and valgrind report nothing wrong (exit 0).
vg() {
	local name=$1 input=$2 rc=0
	shift 2
	timeout -k 5 300 valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --track-origins=yes \
		--log-file="$work/$name.vg" "$@" <"$input" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
	if ((rc == 0)) && ! [[ -s $work/$name.vg ]]; then
		ok "valgrind: $name"
	else
		notok "valgrind: $name (exit $rc)"
		show "$work/$name.vg" "$work/$name.err"
	fi
}

head -c $((256 << 10)) /dev/urandom >"$work/data"
head -c 4096 "$work/data" >"$work/small"
vg "nvmfdd write 4 KiB (in-capsule)" "$work/small" "$nvmfdd" write -q "$HOST" -l 4096 "$A" "$SUB"
vg "nvmfdd write 256 KiB (R2T, H2CData), digests" "$work/data" \
	"$nvmfdd" write -g -G -q "$HOST" -o 8192 -l $((256 << 10)) "$A" "$SUB"
vg "nvmfdd read 256 KiB, digests" /dev/null \
	"$nvmfdd" read -g -G -q "$HOST" -o 8192 -l $((256 << 10)) "$A" "$SUB"
if cmp -s "$work/data" "$work/nvmfdd read 256 KiB, digests.out"; then ok "the data read back under valgrind"
else notok "the data read back under valgrind"; fi
vg "nvmfdd identify" /dev/null "$nvmfdd" identify -q "$HOST" "$A" "$SUB"
vg "nvmfdd discover" /dev/null "$nvmfdd" discover -q "$HOST" "127.0.0.1:$P_DISC"
vg "nvmf-stat --json" /dev/null "$stat" --json -q "$HOST" "$A" "$SUB"
vg "nvmf-stat table through discovery" /dev/null "$stat" -q "$HOST" "127.0.0.1:$P_DISC"
vg "nvmf-stat --watch" /dev/null "$stat" --watch 1 --count 1 -q "$HOST" "$A" "$SUB"
# an error path: a subsystem that does not exist
rc=0
timeout -k 5 300 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--log-file="$work/nosub.vg" "$nvmfdd" identify -q "$HOST" "$A" nqn.2026-11.io.nvmfd:none \
	>/dev/null 2>"$work/nosub.err" </dev/null || rc=$?
if ((rc != 0 && rc != 99)) && ! [[ -s $work/nosub.vg ]]; then
	ok "valgrind: nvmfdd identify of an unknown subsystem fails cleanly (exit $rc)"
else
	notok "valgrind: nvmfdd identify of an unknown subsystem (exit $rc)"; show "$work/nosub.vg"
fi

kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
dpid=''
if ((rc == 0)); then ok "nvmfd exits 0 on SIGTERM"; else notok "nvmfd exit $rc"; show "$dlog"; fi
echo "1..$n"
((failed == 0))
