#!/usr/bin/env python3
"""Summarise the requests a docker-registry served, from its info-level log, for bench-sync.

  registry_log.py LOG START_EPOCH

LOG is Distribution's log at level info, whose "response completed" lines carry each request's
method, URI, status and duration; START_EPOCH (seconds, as `date +%s.%N`) is when the phase
began. Prints, indented for the report:

  * every kind of request (catalog pages, tags/list, manifest GET and HEAD, blob GET) with its
    count, the registry's total and mean time on it, and when the last one ended;
  * how busy the registry was: the time at least one request was in flight, and the mean number
    in flight. A client that keeps its concurrency's worth of requests in flight is waiting on
    the registry; gaps are time the client spent elsewhere (its store, its own work).
"""

import re
import sys
from datetime import datetime, timezone

LINE = re.compile(r'^time="([^"]+)".*msg="response completed"')
FIELD = re.compile(r'(http\.request\.method|http\.request\.uri|http\.response\.duration|http\.response\.status)=("[^"]*"|\S+)')
UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
DURATION = re.compile(r"([0-9.]+)(ns|us|µs|μs|ms|s|m|h)")


def go_duration(text):
    """Seconds in a Go duration such as 3.64ms, 850µs or 1m2.5s."""
    return sum(float(n) * UNITS[u] for n, u in DURATION.findall(text))


def timestamp(text):
    """Seconds since the epoch of an RFC 3339 time with up to nanoseconds."""
    head, _, frac = text.rstrip("Z").partition(".")
    seconds = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return seconds + (float("0." + frac) if frac else 0.0)


def kind(method, uri):
    path = uri.split("?", 1)[0]
    if path.endswith("/_catalog"):
        return "catalog page"
    if path.endswith("/tags/list"):
        return "tags/list"
    if "/manifests/" in path:
        return f"manifest {method}"
    if "/blobs/" in path:
        return f"blob {method}"
    return f"other {method}"


def main():
    log, start = sys.argv[1], float(sys.argv[2])
    kinds = {}
    intervals = []
    errors = 0
    with open(log, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            fields = {k: v.strip('"') for k, v in FIELD.findall(line)}
            end = timestamp(m.group(1)) - start
            took = go_duration(fields.get("http.response.duration", "0s"))
            k = kind(fields.get("http.request.method", "?"), fields.get("http.request.uri", ""))
            entry = kinds.setdefault(k, {"count": 0, "time": 0.0, "last": 0.0})
            entry["count"] += 1
            entry["time"] += took
            entry["last"] = max(entry["last"], end)
            intervals.append((end - took, end))
            if not fields.get("http.response.status", "").startswith("2"):
                errors += 1
    if not intervals:
        print("    registry log: no requests recorded")
        return
    intervals.sort()
    busy, cur_start, cur_end = 0.0, None, None
    for s, e in intervals:
        if cur_end is None or s > cur_end:
            if cur_end is not None:
                busy += cur_end - cur_start
            cur_start, cur_end = s, e
        else:
            cur_end = max(cur_end, e)
    busy += cur_end - cur_start
    span = max(e for _, e in intervals)
    total = sum(v["time"] for v in kinds.values())
    count = sum(v["count"] for v in kinds.values())
    print(
        f"    registry log: {count:,} requests ({errors} not 2xx) over {span:.1f} s; at least one in flight "
        f"{busy:.1f} s ({100 * busy / span:.0f}%); mean in flight {total / span:.2f}"
    )
    order = ["catalog page", "tags/list", "manifest GET", "manifest HEAD", "blob GET"]
    for k in sorted(kinds, key=lambda k: (order.index(k) if k in order else len(order), k)):
        v = kinds[k]
        print(
            f"      {k:<14} {v['count']:>8,}   registry time {v['time']:7.1f} s   "
            f"mean {1000 * v['time'] / v['count']:6.2f} ms   last ended at {v['last']:7.1f} s"
        )


if __name__ == "__main__":
    main()
