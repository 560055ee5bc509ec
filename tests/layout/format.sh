#!/usr/bin/env bash
# Every C file of the tree follows .clang-format: clang-format-19 --dry-run
# --Werror on each, listing those that do not (fix: clang-format-19 -i FILE).
# Skips (77) when clang-format-19 is not installed (scripts/install-deps.sh
# installs it).
#
#   tests/layout/format.sh SOURCE_ROOT
set -uo pipefail
root=${1:-.}
cd "$root" || exit 2
cf=$(command -v clang-format-19) || { echo "1..0 # SKIP clang-format-19 is not installed"; exit 77; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find transport backend conf daemon tools tests -name '*.[ch]' | sort)
fi
# One run over every file; each difference is a "FILE:LINE:COL: error" line.
mapfile -t bad < <("$cf" --dry-run --Werror "${files[@]}" 2>&1 | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error.*/\1/p' | sort -u)
for f in "${bad[@]}"; do
	echo "$f: not formatted as .clang-format says (clang-format-19 -i $f)"
done
echo "${#files[@]} files checked, ${#bad[@]} not formatted"
((${#bad[@]} == 0))
