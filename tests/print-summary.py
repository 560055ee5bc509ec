#!/usr/bin/env python3
"""Summarise `meson test` runs (and extra steps) as one plain closing line.

    tests/print-summary.py [--steps FILE] [LABEL=]BUILD/meson-logs/testlog.json ...

Reads each testlog.json that `meson test` wrote (one JSON object per test),
and optionally a steps file with lines "PASS|FAIL|SKIP NAME [DETAIL]" for
things that are not meson tests (a build that failed, a fuzzer run). A test
whose output is TAP counts once per case ("ok" / "not ok" line; "# SKIP"
cases as skipped), plus one failure if meson judged it failed while no case
did (a crash, a timeout); any other test counts once. Lists every skip with
its reason (a TAP case's "# SKIP reason"; a whole test that exited 77: its
"1..0 # SKIP reason" line, else its last line of output), every failure
(with its "not ok" lines, else the last lines of its output) and ends with
the line CI reads:

    N passed, N failed, N skipped

A testlog that is missing counts as one failure (its tests did not run).
Exit status: 0 when nothing failed, 1 otherwise.
"""
import argparse
import json
import os
import re
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


TAP_CASE = re.compile(r"^(not )?ok\b\s*\d*\s*-?\s*([^#]*)(#\s*(\w+)\s*(.*))?", re.IGNORECASE)
TAP_PLAN_SKIP = re.compile(r"^1\.\.0\b\s*#\s*SKIP\b:?\s*(.*)", re.IGNORECASE)


def tap_counts(stdout, skips=None):
    """(passed, failed, skipped) cases of a TAP stream, or None if it has none;
    each skipped case's (name, reason) appended to skips."""
    p = f = s = 0
    seen = False
    for line in (stdout or "").splitlines():
        m = TAP_CASE.match(line)
        if not m:
            continue
        seen = True
        directive = (m.group(4) or "").upper()
        if directive == "SKIP" or (m.group(1) and directive == "TODO"):
            s += 1  # a known failure (not ok # TODO) is not a pass either
            if skips is not None:
                why = (m.group(5) or "").strip() or "no reason given"
                skips.append((m.group(2).strip(), why if directive == "SKIP" else "TODO: " + why))
        elif m.group(1):
            f += 1
        else:
            p += 1
    return (p, f, s) if seen else None


def skip_reason(entry):
    """Why a whole test was skipped (exit status 77): its TAP "1..0 # SKIP
    reason", else the last line it printed."""
    out, err = entry.get("stdout") or "", entry.get("stderr") or ""
    for line in (out + "\n" + err).splitlines():
        m = TAP_PLAN_SKIP.match(line.strip())
        if m and m.group(1).strip():
            return m.group(1).strip()
    last = tail(out, 1) or tail(err, 1)
    return last[0].strip() if last else "no reason given (exit status 77)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", help='file of "PASS|FAIL|SKIP NAME [DETAIL]" lines')
    ap.add_argument("logs", nargs="*", metavar="[LABEL=]TESTLOG")
    args = ap.parse_args()

    passed = failed = skipped = 0
    failures = []
    skips = []  # (title, reason)
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
        tests = 0
        counts = [0, 0, 0]  # passed, failed, skipped cases
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                e = json.loads(line)
                tests += 1
                res = e.get("result", "ERROR")
                case_skips = []
                cases = tap_counts(e.get("stdout"), case_skips) if res not in SKIP else None
                if cases:
                    p, fl, sk = cases
                    if res not in PASS and fl == 0:
                        fl = 1  # meson saw a failure that no case reported
                elif res in PASS:
                    p, fl, sk = 1, 0, 0
                elif res in SKIP:
                    p, fl, sk = 0, 0, 1
                else:
                    p, fl, sk = 0, 1, 0
                counts = [counts[0] + p, counts[1] + fl, counts[2] + sk]
                if res in SKIP:
                    skips.append((f"{label}: {e.get('name')}", skip_reason(e)))
                elif cases:
                    skips += [(f"{label}: {e.get('name')}: {case}", why)
                              for case, why in case_skips]
                if res not in PASS and res not in SKIP:
                    dur = e.get("duration") or 0
                    failures.append((f"{label}: {e.get('name')} ({res}, {dur:.1f}s)", failure_detail(e)))
        noun = "test" if tests == 1 else "tests"
        print(f"[{label}] {tests} {noun}: {counts[0]} cases passed, {counts[1]} failed, "
              f"{counts[2]} skipped")
        passed += counts[0]
        failed += counts[1]
        skipped += counts[2]

    if args.steps and os.path.exists(args.steps):
        with open(args.steps, encoding="utf-8") as f:
            for line in f:
                word, _, rest = line.strip().partition(" ")
                if word == "PASS":
                    passed += 1
                elif word == "SKIP":
                    skipped += 1
                    name, _, why = rest.partition(" ")
                    skips.append((name or "unnamed step", why or "no reason given"))
                elif word == "FAIL":
                    failed += 1
                    failures.append((rest or "unnamed step", []))

    if skips:
        print("Skipped:")
        for title, why in skips:
            print(f"  SKIPPED {title}: {why}")
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
