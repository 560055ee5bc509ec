#!/usr/bin/env bash
# Integration check: every man page renders without a warning.
#   man_pages.sh PAGE...
# TAP; exit 0, 1, or 77 (skip) when man(1) is not installed.
set -uo pipefail
command -v man >/dev/null || { echo "1..0 # SKIP man is not installed"; exit 77; }
n=0 failed=0
for page in "$@"; do
	n=$((n + 1))
	out=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
	if [[ -z $out ]]; then
		echo "ok $n - $(basename "$page") renders without warnings"
	else
		failed=$((failed + 1))
		echo "not ok $n - $(basename "$page") renders without warnings"
		sed 's/^/#   /' <<<"$out"
	fi
done
echo "1..$n"
((failed == 0))
