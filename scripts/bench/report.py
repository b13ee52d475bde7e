#!/usr/bin/env python3
"""Summarise bench-registry results.

Usage: report.py <results.tsv> <rss-berth.log> <rss-dist.log> [--target-ratio R]
                 [--dd-target-pct P] [--rss-target-mib M] [--berth-label L]

results.tsv columns: metric side run seconds bytes note
  metric: push | pull | upload | download | dd ;  side: B (berth) | D (distribution) | M (machine)
rss logs: one VmRSS sample in kB per line.
MB = 10^6 bytes throughout (like dd).
"""
import argparse
import statistics
import sys
from collections import defaultdict

# (metric, label, target ratio berth/distribution) — the targets of the registry issue.
METRICS = [
    ("push", "skopeo push", 1.2),
    ("pull", "skopeo pull", 1.0),
    ("upload", "raw upload", 2.0),
    ("download", "raw download", 0.9),
]


def mbps(nbytes, secs):
    return nbytes / 1e6 / secs if secs > 0 else float("inf")


def read_rss(path):
    vals = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.isdigit():
                    vals.append(int(line))
    except FileNotFoundError:
        pass
    return vals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("rss_berth")
    ap.add_argument("rss_dist")
    ap.add_argument("--target-ratio", type=float, default=None, help="override every ratio target")
    ap.add_argument("--dd-target-pct", type=float, default=70.0)
    ap.add_argument("--rss-target-mib", type=float, default=100.0)
    ap.add_argument("--berth-label", default="berth")
    args = ap.parse_args()

    rows = defaultdict(list)  # (metric, side) -> [(run, secs, bytes, note)]
    with open(args.results) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5:
                continue
            metric, side, run, secs, nbytes = parts[:5]
            note = parts[5] if len(parts) > 5 else ""
            rows[(metric, side)].append((int(run), float(secs), int(nbytes), note))

    bl = args.berth_label
    out = []
    width = max(len(label) for _, label, _ in METRICS)
    failures = []

    for metric, label, target in METRICS:
        if args.target_ratio is not None:
            target = args.target_ratio
        b, d = rows.get((metric, "B"), []), rows.get((metric, "D"), [])
        if not b or not d:
            out.append(f"{label:<{width}}  (no data)")
            continue
        bt = statistics.median(r[1] for r in b)
        dt = statistics.median(r[1] for r in d)
        bbytes, dbytes = b[0][2], d[0][2]
        bthr, dthr = mbps(bbytes, bt), mbps(dbytes, dt)
        ratio = bthr / dthr if dthr > 0 else float("inf")
        ok = ratio >= target
        if not ok:
            failures.append(label)
        out.append(
            f"{label:<{width}}  {bl} median {bt:.2f} s ({bthr:.1f} MB/s)   "
            f"distribution median {dt:.2f} s ({dthr:.1f} MB/s)   "
            f"ratio {bl}/distribution {ratio:.2f}x (target >= {target:g}x)"
            f"{'' if ok else '  <-- BELOW TARGET'}"
        )
        fmt = lambda rs: " ".join(f"{r[1]:.2f}" for r in sorted(rs))
        out.append(
            f"{'':<{width}}    runs: {bl} [{fmt(b)}] s   distribution [{fmt(d)}] s   "
            f"({bbytes / 1e6:.1f} MB per run)"
        )
        if metric == "upload":
            bm = sorted({r[3] for r in b if r[3]})
            dm = sorted({r[3] for r in d if r[3]})
            out.append(f"{'':<{width}}    method: {bl}: {'; '.join(bm) or '?'}   distribution: {'; '.join(dm) or '?'}")
            dd = rows.get(("dd", "M"), [])
            if dd:
                dd_thr = [mbps(r[2], r[1]) for r in sorted(dd)]
                dd_med = statistics.median(dd_thr)
                out.append(
                    f"{'':<{width}}    dd fsync write ({dd[0][2] / (1 << 20):.0f} MiB): runs [{' '.join(f'{x:.1f}' for x in dd_thr)}] MB/s, "
                    f"median {dd_med:.1f} MB/s"
                )
                pct = 100.0 * bthr / dd_med
                dpct = 100.0 * dthr / dd_med
                ok = pct >= args.dd_target_pct
                if not ok:
                    failures.append("raw upload vs dd")
                out.append(
                    f"{bl} raw upload = {pct:.0f}% of dd fsync speed (target >= {args.dd_target_pct:g}%)"
                    f"{'' if ok else '  <-- BELOW TARGET'}   (distribution: {dpct:.0f}%)"
                )
        if metric == "download":
            out.append(f"{'':<{width}}    (4 parallel GETs of a {bbytes / 4 / (1 << 20):.0f} MiB blob; MB/s is aggregate)")

    brss, drss = read_rss(args.rss_berth), read_rss(args.rss_dist)
    if brss:
        bmax = max(brss) / 1024
        ok = bmax < args.rss_target_mib
        if not ok:
            failures.append("RSS")
        out.append(
            f"{bl} max RSS {bmax:.1f} MiB (target < {args.rss_target_mib:g} MiB){'' if ok else '  <-- ABOVE TARGET'}"
            f"   [{len(brss)} samples @0.2s]"
        )
    else:
        out.append(f"{bl} max RSS: no samples")
        failures.append("RSS (no samples)")
    if drss:
        out.append(f"distribution max RSS {max(drss) / 1024:.1f} MiB   [{len(drss)} samples @0.2s]")
    else:
        out.append("distribution max RSS: no samples")

    print("\n".join(out))
    print()
    print("targets missed: " + (", ".join(failures) if failures else "none"))


if __name__ == "__main__":
    main()
