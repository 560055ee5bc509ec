#!/usr/bin/env python3
"""Summarise the bench's raw results (run.sh): medians, spread, ratios.

    report.py RAW.jsonl OUTPREFIX --machine M --date D --runs N --secs S --warmup W --cc CC

Writes OUTPREFIX.md (Markdown) and OUTPREFIX.json. Every bandwidth is also
given as a fraction of the iperf3 single-stream figure of the same run, and
compared with SPDK's reference figures (from the project's issue 6: SPDK
nvmf_tgt + spdk_nvme_perf on this machine class) after scaling both by
their own iperf3 figure, since the shared machines drift by 15-25%.
"""
import argparse
import json
import statistics

# SPDK reference: row -> (IOPS, bytes/s, target core busy fraction); iperf3 36.5 Gbit/s (BBR).
SPDK_IPERF_GBIT = 36.5
SPDK = {
    ("rr4k-qd1", "none"): (108e3, 108e3 * 4096, 0.67),
    ("rr4k-qd32", "none"): (827e3, 827e3 * 4096, 0.96),
    ("rr4k-qd128", "none"): (900e3, 900e3 * 4096, 0.96),
    ("rw4k-qd32", "none"): (858e3, 858e3 * 4096, 0.73),
    ("sr128k-qd16", "none"): (6.4e9 / 131072, 6.4e9, 0.96),
    ("sw128k-qd16", "none"): (8.9e9 / 131072, 8.9e9, 0.94),
    ("rr4k-qd32", "hd"): (677e3, 677e3 * 4096, 0.80),
    ("sr128k-qd16", "hd"): (5.9e9 / 131072, 5.9e9, 0.96),
}
ORDER = ["rr4k-qd1", "rr4k-qd32", "rr4k-qd128", "rw4k-qd32", "sr128k-qd16", "sw128k-qd16",
         "file-rr4k-qd32", "file-sw128k-qd16", "rbd-rr4k-qd32", "rbd-rw4k-qd32",
         "rbd-sr128k-qd16", "rbd-sw128k-qd16"]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("out")
    for k in ("machine", "date", "runs", "secs", "warmup", "cc", "perf-args"):
        ap.add_argument("--" + k, default="")
    a = ap.parse_args()
    recs = [json.loads(line) for line in open(a.raw) if line.strip()]
    samples = {}
    for r in recs:
        if r["kind"] == "iperf3" and r["gbit_s"] is not None:
            samples.setdefault(r["cc"], []).append(r["gbit_s"])
    iperf = {cc: med(v) for cc, v in samples.items()}
    ip_ref = iperf.get(a.cc) or next((v for v in iperf.values() if v), None)
    pp = next((r["r"] for r in recs if r["kind"] == "pingpong"), None)
    idle = [r for r in recs if r["kind"] == "idle"]
    groups = {}
    for r in recs:
        if r["kind"] == "perf":
            key = (r["row"], r["workers"], r.get("busy_poll", "50us"), r.get("client", "sleep"),
                   r["digests"])
            groups.setdefault(key, []).append(r["r"])
    rows = []
    for (row, workers, bp, client, dg), runs in groups.items():
        iops = [x["total"]["iops"] for x in runs]
        bps = [x["total"]["bytes_per_s"] for x in runs]
        tcores = [x["target_cpu"]["cores"] if x.get("target_cpu") else None for x in runs]
        per_core = [x["target_cpu"]["iops_per_cpu_s"] if x.get("target_cpu") else None for x in runs]
        lat = {k: med([x["total"]["lat_us"][k] for x in runs])
               for k in ("avg", "p50", "p99", "p99_9", "max")}
        m = {
            "row": row, "workers": workers, "busy_poll": bp, "client": client, "digests": dg,
            "runs": len(runs),
            "iops": med(iops), "iops_min": min(iops), "iops_max": max(iops),
            "spread_pct": 100 * (max(iops) - min(iops)) / med(iops) if med(iops) else None,
            "bytes_per_s": med(bps), "lat_us": lat,
            "target_cores": med(tcores), "iops_per_target_cpu_s": med(per_core),
            "client_cores": med([x["client_cpu"]["worker_cores"] for x in runs]),
            "errors": sum(x["errors"] for x in runs),
        }
        m["bw_over_iperf"] = (m["bytes_per_s"] * 8 / 1e9 / ip_ref) if ip_ref else None
        ref = SPDK.get((row, dg))
        if ref and ip_ref:
            scale = ip_ref / SPDK_IPERF_GBIT  # our machine's speed relative to SPDK's run
            m["spdk_iops_scaled"] = ref[0] * scale
            m["vs_spdk_iops"] = m["iops"] / (ref[0] * scale)
            if m["iops_per_target_cpu_s"]:
                m["vs_spdk_per_core"] = m["iops_per_target_cpu_s"] / (ref[0] / ref[2] * scale)
        if row == "rr4k-qd1" and pp:
            m["p99_over_pingpong_p99"] = lat["p99"] / pp["p99_us"]
            m["p50_over_pingpong_p50"] = lat["p50"] / pp["p50_us"]
        rows.append(m)
    # digest cost: hd vs none of the same row, workers, target and client: in IOPS, and in
    # target CPU per I/O (the steadier figure where the target does not spin: busy_poll 0)
    by = {(m["row"], m["workers"], m["busy_poll"], m["client"], m["digests"]): m for m in rows}
    for m in rows:
        base = by.get((m["row"], m["workers"], m["busy_poll"], m["client"], "none"))
        if m["digests"] == "hd" and base and base["iops"]:
            m["digest_cost_pct"] = 100 * (1 - m["iops"] / base["iops"])
            if m["iops_per_target_cpu_s"] and base["iops_per_target_cpu_s"]:
                m["digest_cpu_cost_pct"] = 100 * (base["iops_per_target_cpu_s"]
                                                  / m["iops_per_target_cpu_s"] - 1)
    rows.sort(key=lambda m: (m["workers"], m["busy_poll"] == "0", m["client"] != "sleep",
                             ORDER.index(m["row"]) if m["row"] in ORDER else 99, m["digests"]))
    res = {"machine": a.machine, "date": a.date, "runs": a.runs, "secs": a.secs,
           "warmup": a.warmup, "perf_args": a.perf_args, "iperf3_gbit_s": iperf,
           "iperf3_samples_gbit_s": samples, "iperf3_reference_cc": a.cc,
           "pingpong": pp, "idle": [{"workers": r["workers"], "queues": r["r"]["queues"],
                                     "target_cores": (r["r"]["target_cpu"] or {}).get("cores")}
                                    for r in idle],
           "rows": rows}
    json.dump(res, open(a.out + ".json", "w"), indent=1)

    def f(v, fmt="{:.0f}"):
        return "-" if v is None else fmt.format(v)

    md = [f"## nvmfd benchmark, {a.date}", "",
          f"Machine: {a.machine}. nvmf-perf pinned to one CPU, the 1-worker target to another; "
          f"{a.runs} runs x {a.secs} s (+{a.warmup} s warm-up) each, medians; spread = "
          "(max - min) / median of IOPS."
          + (f" Extra nvmf-perf options: `{a.perf_args}`." if a.perf_args else ""), ""]
    md.append("Loopback ceiling, iperf3 single stream (server and client pinned as the target "
              "and nvmf-perf): " + ", ".join(
                  f"{k} {f(v, '{:.1f}')} Gbit/s" + (" (median of " + ", ".join(
                      f"{x:.1f}" for x in samples[k]) + ")" if len(samples[k]) > 1 else "")
                  for k, v in iperf.items())
              + f" (ratios below use {a.cc}).")
    if pp:
        md.append(f"Bare TCP round trip (72 B request, 4120 B answer): avg {pp['avg_us']:.1f} us, "
                  f"p50 {pp['p50_us']:.1f} us, p99 {pp['p99_us']:.1f} us.")
    for r in idle:
        tc = (r["r"]["target_cpu"] or {}).get("cores")
        md.append(f"Idle: {r['r']['queues']} connected idle queues cost the target "
                  f"{f(tc * 100 if tc is not None else None, '{:.2f}')}% of a core "
                  f"({r['workers']} worker(s)).")
    md += ["", "| row | workers | busy_poll | client | digests | IOPS | spread | MB/s | BW / iperf3 "
           "| avg us | p50 | p99 | p99.9 | max | target cores | IOPS per target CPU-s | client cores "
           "| digest cost | digest CPU / I/O | vs SPDK IOPS* | vs SPDK per core* |",
           "|" + "---|" * 21]
    for m in rows:
        l = m["lat_us"]
        md.append("| " + " | ".join([
            m["row"], str(m["workers"]), m["busy_poll"], m["client"], m["digests"], f(m["iops"]),
            f(m["spread_pct"], "{:.1f}%"), f(m["bytes_per_s"] / 1e6), f(m["bw_over_iperf"], "{:.2f}"),
            f(l["avg"], "{:.1f}"), f(l["p50"], "{:.1f}"), f(l["p99"], "{:.1f}"),
            f(l["p99_9"], "{:.1f}"), f(l["max"], "{:.0f}"), f(m["target_cores"], "{:.2f}"),
            f(m["iops_per_target_cpu_s"]), f(m["client_cores"], "{:.2f}"),
            f(m.get("digest_cost_pct"), "{:.1f}%"), f(m.get("digest_cpu_cost_pct"), "{:+.1f}%"),
            f(m.get("vs_spdk_iops"), "{:.2f}"),
            f(m.get("vs_spdk_per_core"), "{:.2f}")]) + " |")
    md += ["", "client: nvmf-perf sleeping on its ring (as most hosts do) or busy-polling it "
           "(`--poll`, as spdk_nvme_perf did for SPDK's reference figures). busy_poll: the "
           "target's (50us, the default; 0: it sleeps as soon as it has nothing to do, so its "
           "CPU is the work the load needs, as SPDK's busy time is). digest cost: IOPS lost "
           "with header + data digests; digest CPU / I/O: the target's CPU per I/O added.",
           "\\* SPDK reference figures (issue 6) scaled by (our iperf3 / SPDK run's 36.5 Gbit/s); "
           "per core = IOPS per target CPU-second against SPDK's IOPS / busy fraction."]
    for m in rows:
        if (m["row"] == "rr4k-qd1" and m["workers"] == 1 and m["digests"] == "none"
                and m["busy_poll"] != "0" and "p99_over_pingpong_p99" in m):
            md.append(f"QD1 4K read p99 / bare round-trip p99, {m['client']} client: "
                      f"{m['p99_over_pingpong_p99']:.2f} (p50 ratio {m['p50_over_pingpong_p50']:.2f}).")
    # RBD: the gateway against librbd on the same image in the same run
    rbdb = {}
    for r in recs:
        if r["kind"] == "rbd_bench":
            rbdb.setdefault(r["row"], []).append(r["iops"])
    rbd_rows = [m for m in rows if m["row"] in rbdb]
    if rbd_rows:
        md += ["", "RBD (a throwaway single-node cluster, one memstore OSD on the same CPUs: "
               "absolute figures say little, the ratio is the gateway's cost): nvmfd (one "
               "worker) serving the image to nvmf-perf, beside `rbd bench` (librbd, cache "
               "off, threads = queue depth) on the same image, medians:", "",
               "| row | nvmfd IOPS | rbd bench IOPS | nvmfd / rbd bench | nvmfd p99 us "
               "| target cores |", "|---|---|---|---|---|---|"]
        for m in rbd_rows:
            rb = med(rbdb[m["row"]])
            m["rbd_bench_iops"] = rb
            m["over_rbd_bench"] = m["iops"] / rb if rb and m["iops"] else None
            md.append("| " + " | ".join([
                m["row"], f(m["iops"]), f(rb), f(m["over_rbd_bench"], "{:.2f}"),
                f(m["lat_us"]["p99"], "{:.0f}"), f(m["target_cores"], "{:.2f}")]) + " |")
        res["rbd_bench_iops"] = {k: med(v) for k, v in rbdb.items()}
        json.dump(res, open(a.out + ".json", "w"), indent=1)
    errs = sum(m["errors"] for m in rows)
    md.append(f"Failed commands over all runs: {errs}.")
    open(a.out + ".md", "w").write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
