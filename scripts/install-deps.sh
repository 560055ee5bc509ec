#!/usr/bin/env bash
# Install what nvmfd needs, on Debian 12, as root.
#
#   scripts/install-deps.sh [--no-vm | --run-only]
#
# Default (scripts/test.sh): Debian packages for the build, the unit and fuzz
# tests (clang + its runtime for libFuzzer and the sanitizers), then, unless
# --no-vm, the linux-host VM used by the interop tests:
# ../shared/tools/linux-host/setup installs its own packages (qemu,
# nvme-cli, ...) and builds its guest image (idempotent; LINUX_HOST_DIR
# overrides where it is); the tests also get Ceph's monitor, OSD and tools,
# with which the RBD tests start throwaway clusters. --run-only
# (scripts/demo.sh): only what building nvmfd and its tools without the
# tests (meson setup -Dtests=false) and running them needs (librbd
# included: RBD namespaces); no test tools, no Ceph daemons, no VM. Does
# nothing when all is there.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lh=$(realpath -m "${LINUX_HOST_DIR:-$src/../shared/tools/linux-host}")
vm=1 tests=1
case ${1:-} in
--no-vm) vm=0 ;;
--run-only) vm=0 tests=0 ;;
'') ;;
*) echo "usage: $0 [--no-vm | --run-only]" >&2; exit 2 ;;
esac

pkgs=(
	build-essential meson ninja-build pkg-config
	liburing-dev libisal-dev libinih-dev
	libssl-dev                      # libcrypto: DH-HMAC-CHAP (transport/dhchap*.c)
	librbd-dev librados-dev         # Ceph RBD namespaces (backend/rbd.c; meson -Drbd=auto)
)
if ((tests)); then
	pkgs+=(
		git libcmocka-dev               # the unit tests
		clang libclang-rt-14-dev llvm   # libFuzzer, sanitizer runtimes, llvm-symbolizer
		clang-format-19                 # tests/layout/format.sh: the tree follows .clang-format
		valgrind python3                # tests/integration/valgrind_tools.sh
		python3-fusepy                  # tests/integration/faults.py: a device that returns EIO
		man-db                          # tests/integration/man_pages.sh (man --warnings)
		# the RBD tests' throwaway clusters (tests/lib/with-ceph.sh runs
		# ../shared/tools/mini-ceph; ~220 MB)
		ceph-mon ceph-osd ceph-common uuid-runtime bc
	)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	if ((EUID != 0)); then
		echo "install-deps: missing ${missing[*]}; run as root, or: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	echo "install-deps: Debian packages already installed"
fi

if ((vm)); then
	if [[ -x $lh/setup ]]; then
		echo "install-deps: linux-host VM ($lh/setup)"
		"$lh/setup"
	else
		echo "install-deps: no $lh/setup: the interop tests will be skipped"
	fi
fi
