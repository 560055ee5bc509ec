#!/usr/bin/env bash
# What DH-HMAC-CHAP adds to a queue's Connect: nvmfd on loopback, one
# subsystem, four host NQNs (no key; SHA-256 with the null group; with
# ffdhe2048; with ffdhe8192). build/tests/bench/auth_connect connects an admin
# queue RUNS times as each (TCP, ICReq, Connect, the whole authentication
# transaction) and times each connect alone: the median, the 10th and 90th
# percentiles, and the CPU time per connect of the host (that process) and
# of the target (nvmfd's utime + stime, /proc). The difference to "none" is
# what authenticating one queue costs; every I/O queue pays it again.
#
#   tests/bench/auth_connect.sh BUILD [RUNS]     (RUNS: 51)
set -euo pipefail
build=${1:?usage: $0 BUILD [RUNS]}
runs=${2:-51}
nvmfd=$build/daemon/nvmfd bench=$build/tests/bench/auth_connect
work=$(mktemp -d "${TMPDIR:-/tmp}/nvmfd-auth-bench.XXXXXX")
dpid=''
trap '[[ -n $dpid ]] && kill "$dpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sub=nqn.2026-11.io.nvmfd:auth-bench
key=$(python3 -c 'import base64,os,struct,zlib
k=os.urandom(32); print("DHHC-1:01:%s:" % base64.b64encode(k + struct.pack("<I", zlib.crc32(k))).decode())')
printf '%s\n' "$key" >"$work/key"
chmod 600 "$work/key"
{
	printf '[nvmfd]\nlisten = 127.0.0.1:%s\ndiscovery = no\nworkers = 1\nstate_dir = %s\n' "$port" "$work"
	printf 'log_level = warn\n[subsystem %s]\nallow_host = any\n[namespace %s 1]\npath = ram:16M\n' "$sub" "$sub"
	for g in null ffdhe2048 ffdhe8192; do
		printf '[host nqn.2026-11.io.nvmfd:bench-%s]\ndhchap_key = @%s/key\n' "$g" "$work"
		printf 'dhchap_hashes = sha256\ndhchap_dhgroups = %s\n' "$g"
	done
} >"$work/nvmfd.ini"
"$nvmfd" -c "$work/nvmfd.ini" >"$work/nvmfd.log" 2>&1 &
dpid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
tck=$(getconf CLK_TCK)
dcpu() { awk -v t="$tck" '{print ($14 + $15) * 1000000 / t}' "/proc/$dpid/stat"; }
printf '%-10s %11s %9s %9s %12s %12s %14s\n' group "median us" "p10 us" "p90 us" "host cpu us" "nvmfd cpu us" "median adds us"
base=''
for g in none null ffdhe2048 ffdhe8192; do
	if [[ $g == none ]]; then args=(nqn.2026-11.io.nvmfd:bench-nokey "$runs")
	else args=("nqn.2026-11.io.nvmfd:bench-$g" "$runs" "$key"); fi
	c0=$(dcpu)
	read -r med p10 p90 hcpu < <("$bench" 127.0.0.1 "$port" "$sub" "${args[@]}")
	c1=$(dcpu)
	[[ -n $base ]] || base=$med
	printf '%-10s %11d %9d %9d %12d %12.0f %14d\n' "$g" "$med" "$p10" "$p90" "$hcpu" \
		"$(echo "($c1 - $c0) / $runs" | bc -l)" $((med - base))
done
echo "# $runs connects each; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
