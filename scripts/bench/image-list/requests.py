#!/usr/bin/env python3
"""Request lists and sample checks for scripts/bench-image-list.

  requests.py lists BASE CATALOG_JSON OUTDIR --admin-password PW [--depth 20]
      Logs in as the catalog's bench user and as `admin`, walks `next_cursor` DEPTH pages deep
      in some workspaces, and writes one list per figure to OUTDIR (`list.tsv`, `q.tsv`,
      `tag.tsv`, `deep.tsv`, `selector.tsv`): lines `path<TAB>Authorization`, for
      scripts/bench/token/rotate.lua. Prints `LOGIN …` and `DEEP …` lines.

  requests.py check BASE LIST [--sample 12]
      Sends the first and some random lines of LIST and checks each answer by hand: status
      200, JSON with `items` (1–50 of them), and for the image list `total` > 0 and
      `next_cursor` when `total` says more rows follow. Prints one line per problem, a
      `SAMPLE …` line describing a typical answer, then `CHECK ok=N failed=M`.

Only the standard library, so it runs anywhere python3 does.
"""

import argparse
import json
import os
import random
import sys
import urllib.error
import urllib.parse
import urllib.request

LIMIT = 50


def request(base, path, token=None, body=None):
    """(status, parsed JSON or text)."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = token
    req = urllib.request.Request(base + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")[:300]


def login(base, username, password):
    status, answer = request(base, "/api/v1/auth/login", body={"username": username, "password": password})
    if status != 200 or not isinstance(answer, dict) or "token" not in answer:
        sys.exit(f"login as {username} failed: {status} {answer}")
    return "Bearer " + answer["token"]


def images(ws, **query):
    query.setdefault("limit", LIMIT)
    return f"/api/v1/workspaces/{urllib.parse.quote(ws, safe='')}/images?" + urllib.parse.urlencode(query)


def selector(ws, q):
    return f"/api/v1/workspaces/{urllib.parse.quote(ws, safe='')}/selector?" + urllib.parse.urlencode({"q": q})


def write(outdir, name, lines):
    with open(os.path.join(outdir, name), "w") as f:
        for path, auth in lines:
            f.write(f"{path}\t{auth}\n")


def lists(args):
    with open(args.catalog) as f:
        catalog = json.load(f)
    bench = login(args.base, catalog["bench_user"], catalog["password"])
    admin = login(args.base, "admin", args.admin_password)
    print(f"LOGIN {catalog['bench_user']} and admin")
    # The bench user over its own workspaces, the platform admin over others: both ways in.
    callers = [(ws, bench) for ws in catalog["bench_workspaces"]]
    callers += [(ws, admin) for ws in catalog["other_workspaces"]]
    q_terms, tag_terms = catalog["q_terms"], catalog["tag_terms"]
    if not q_terms or not tag_terms:
        sys.exit("the catalog offers no q or tag terms with hits")
    rng = random.Random(42)

    def mixed(terms, make, n=1000):
        out = []
        for i in range(n):
            ws, auth = callers[rng.randrange(len(callers))]
            out.append((make(ws, terms[i % len(terms)]), auth))
        return out

    write(args.outdir, "list.tsv", [(images(ws), auth) for ws, auth in callers])
    write(args.outdir, "q.tsv", mixed(q_terms, lambda ws, t: images(ws, q=t)))
    write(args.outdir, "tag.tsv", mixed(tag_terms, lambda ws, t: images(ws, tag=t)))
    write(args.outdir, "selector.tsv", mixed(q_terms, selector))

    # Deep pages: follow next_cursor in a sample of workspaces and keep the cursors of the
    # last pages reached (pages DEPTH-4 to DEPTH+1 when the list is that long).
    deep, reached = [], []
    walkers = rng.sample(callers, min(len(callers), args.walks))
    for ws, auth in walkers:
        cursors, cursor = [], None
        for depth in range(1, args.depth + 1):
            status, answer = request(args.base, images(ws, **({"cursor": cursor} if cursor else {})), auth)
            if status != 200:
                sys.exit(f"walking {ws}: page {depth} answered {status} {answer}")
            cursor = answer.get("next_cursor")
            if not cursor:
                break
            cursors.append(cursor)
        deep += [(images(ws, cursor=c), auth) for c in cursors[-6:]]
        reached.append(len(cursors) + 1)
    if not deep:
        sys.exit("no workspace's list has a second page")
    write(args.outdir, "deep.tsv", deep)
    print(f"DEEP {len(deep)} cursors from {len(walkers)} workspaces, walked {min(reached)}-{max(reached)} pages deep")


def check(args):
    with open(args.list) as f:
        lines = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    rng = random.Random(7)
    picks = lines[:3] + rng.sample(lines, min(len(lines), args.sample))
    ok = failed = 0
    sample = None
    for path, auth in picks:
        status, answer = request(args.base, path, auth)
        problem = None
        if status != 200:
            problem = f"status {status}: {answer}"
        elif not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
            problem = f"no items: {str(answer)[:200]}"
        elif not 1 <= len(answer["items"]) <= LIMIT:
            problem = f"{len(answer['items'])} items"
        elif "/selector?" not in path:
            total = answer.get("total", 0)
            if total <= 0:
                problem = f"total {total}"
            elif total > len(answer["items"]) and "cursor=" not in path and not answer.get("next_cursor"):
                problem = f"total {total} but no next_cursor after {len(answer['items'])} items"
        if problem:
            failed += 1
            print(f"BAD {path} -> {problem}")
        else:
            ok += 1
            if sample is None:
                first = answer["items"][0]
                what = first.get("reference") or first.get("repository")
                total = f", total {answer['total']}" if "total" in answer else ""
                sample = f"{path.split('?', 1)[1] or '-'}: {len(answer['items'])} items{total}, first {what}"
    if sample:
        print(f"SAMPLE {sample}")
    print(f"CHECK ok={ok} failed={failed}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lists")
    p.add_argument("base")
    p.add_argument("catalog")
    p.add_argument("outdir")
    p.add_argument("--admin-password", required=True)
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--walks", type=int, default=30)
    p = sub.add_parser("check")
    p.add_argument("base")
    p.add_argument("list")
    p.add_argument("--sample", type=int, default=12)
    args = parser.parse_args()
    if args.command == "lists":
        os.makedirs(args.outdir, exist_ok=True)
        lists(args)
    else:
        check(args)


if __name__ == "__main__":
    main()
