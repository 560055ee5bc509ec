#!/usr/bin/env python3
"""Summarise `meson test` runs (and extra steps) as one plain closing line.

    tests/print-summary.py [--steps FILE] [LABEL=]BUILD/meson-logs/testlog.json ...

Reads each testlog.json that `meson test` wrote (one JSON object per test),
and optionally a steps file with lines "PASS|FAIL|SKIP NAME [DETAIL]" for
things that are not meson tests (a build that failed, a fuzzer run). Lists
every failure (with the TAP "not ok" lines and the last lines of its output)
and ends with the line CI reads:

    N passed, N failed, N skipped

A testlog that is missing counts as one failure (its tests did not run).
Exit status: 0 when nothing failed, 1 otherwise.
"""
import argparse
import json
import os
import sys

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}
# everything else (FAIL, ERROR, TIMEOUT, UNEXPECTEDPASS, INTERRUPT, ...) fails


def tail(text, n):
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return lines[-n:]


def failure_detail(entry):
    """The TAP 'not ok' lines of a failed test, else the last lines of its output."""
    out = entry.get("stdout") or ""
    notok = [ln for ln in out.splitlines() if ln.startswith("not ok") or ln.startswith("Bail out!")]
    if notok:
        return notok[:40]
    return tail(out, 10) + tail(entry.get("stderr"), 10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", help='file of "PASS|FAIL|SKIP NAME [DETAIL]" lines')
    ap.add_argument("logs", nargs="*", metavar="[LABEL=]TESTLOG")
    args = ap.parse_args()

    passed = failed = skipped = 0
    failures = []
    for spec in args.logs:
        label, _, path = spec.rpartition("=")
        if not label:
            # BUILD/meson-logs/testlog.json -> BUILD
            label = os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(path))))
        if not os.path.exists(path):
            failed += 1
            failures.append((f"{label}: no test log ({path}): its tests did not run", []))
            print(f"[{label}] no test log")
            continue
        counts = {"pass": 0, "fail": 0, "skip": 0}
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                e = json.loads(line)
                res = e.get("result", "ERROR")
                if res in PASS:
                    counts["pass"] += 1
                elif res in SKIP:
                    counts["skip"] += 1
                else:
                    counts["fail"] += 1
                    dur = e.get("duration") or 0
                    failures.append((f"{label}: {e.get('name')} ({res}, {dur:.1f}s)", failure_detail(e)))
        print(f"[{label}] {counts['pass']} ok, {counts['fail']} failing, {counts['skip']} skipped")
        passed += counts["pass"]
        failed += counts["fail"]
        skipped += counts["skip"]

    if args.steps and os.path.exists(args.steps):
        with open(args.steps, encoding="utf-8") as f:
            for line in f:
                word, _, rest = line.strip().partition(" ")
                if word == "PASS":
                    passed += 1
                elif word == "SKIP":
                    skipped += 1
                elif word == "FAIL":
                    failed += 1
                    failures.append((rest or "unnamed step", []))

    if failures:
        print("Failures:")
        for title, detail in failures:
            print(f"  FAILED {title}")
            for ln in detail:
                print(f"      {ln}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
