#!/usr/bin/env python3
"""The inventory part of scripts/bench-scan: Berth, trivy and syft on one OCI layout.

Usage: scan_inventory.py <layout> <runs> <berth binary> <work dir>

Runs each tool `runs` times, interleaved (berth, trivy, syft, berth, …) after one warm-up
each, timing the whole process; prints min/median/max wall seconds per tool, the ratios of
the medians, and the packages each found (name and version), with any difference.
"""
import json
import os
import statistics
import subprocess
import sys
import time

layout, runs, berth, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
trivy_cache = os.path.join(work, "trivy-cache")
commands = {
    "berth": [berth, "inventory", layout, "-o", "json"],
    # trivy keeps what it read of each layer in its cache directory and answers later runs from
    # it; the in-memory cache makes every run read the image, as Berth's inventory does.
    "trivy": ["trivy", "image", "--input", layout, "--format", "cyclonedx", "-q", "--cache-dir", trivy_cache, "--cache-backend", "memory"],
    "syft": ["syft", f"oci-dir:{layout}", "-o", "json", "-q"],
}


def packages(tool, output):
    document = json.loads(output)
    if tool == "berth":
        return {(p["name"], p["version"]) for p in document["packages"]}
    if tool == "trivy":
        return {(c["name"], c["version"]) for c in document.get("components", []) if c.get("type") == "library"}
    return {(a["name"], a["version"]) for a in document["artifacts"]}


found = {}
times = {tool: [] for tool in commands}
for tool, command in commands.items():
    found[tool] = packages(tool, subprocess.run(command, check=True, capture_output=True).stdout)
for _ in range(runs):
    for tool, command in commands.items():
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times[tool].append(time.perf_counter() - start)
for tool, values in times.items():
    print(f"inventory {tool}: median {statistics.median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f}), {len(found[tool])} packages")
median = {tool: statistics.median(values) for tool, values in times.items()}
print(f"inventory ratio: trivy / berth = {median['trivy'] / median['berth']:.1f}x (target >= 3x), syft / berth = {median['syft'] / median['berth']:.1f}x")
for tool in ("trivy", "syft"):
    only_berth, only_tool = found["berth"] - found[tool], found[tool] - found["berth"]
    same = "the same packages" if not only_berth and not only_tool else f"Berth only {sorted(only_berth)}, {tool} only {sorted(only_tool)}"
    print(f"inventory berth vs {tool}: {same}")
