#!/usr/bin/env python3
"""Request lists and token checks for scripts/bench-token (Python standard library only).

  requests.py lists OUTDIR --service S [layout options] [--warm-users K]
      Writes the wrk request lists (`path<TAB>authorization<TAB>expected actions<TAB>repo`):
        robots-warm.tsv   robot bench-1 of every workspace, 3 bound spaces each, rotated
        robots-cold.tsv   robots bench-2… of every workspace, each used once
        users-warm.tsv    the first K users, 8 spaces each, rotated
        users-cold.tsv    every other user, each used once
        admin-warm.tsv    the `admin` user on 64 spaces (with --admin-password), a fallback
      and for each a `.sample.tsv` of entries to check by hand first. A cold list's samples
      are credentials that are not in the list, so checking them warms nothing the run uses.

  requests.py check BASE FILE [--limit N]
      Requests every line of FILE from BASE, decodes each token's JWT payload and checks that
      its `access` claim holds the expected actions for the repository. Prints one line per
      problem and a final `CHECK ok=… partial=… failed=… over=…` line; exit 0 when all ok.
      partial = 200 with a token lacking expected actions; over = granted more than expected.

  requests.py v2-tokens BASE OUT FILE… [--count 100]
      Obtains --count tokens, spread over the entries of the FILEs, checks them as above and
      writes `/v2/<TAB>Bearer <token>` lines to OUT for the authorization run.
"""

import argparse
import base64
import http.client
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import deployment  # noqa: E402

SAMPLES = 5


def basic(user, secret):
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def token_path(service, repo, actions=("pull", "push")):
    query = urllib.parse.urlencode({"service": service, "scope": f"repository:{repo}:{','.join(actions)}"})
    return f"/auth/token?{query}"


def write(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write("\t".join(row) + "\n")


def cmd_lists(args):
    layout = deployment.Layout(args.workspaces, args.spaces, args.bindings, args.users,
                               args.robots_per_workspace)
    space_ws = layout.space_workspaces()
    ws_spaces = [[] for _ in range(layout.workspaces)]
    for i, wss in enumerate(space_ws):
        for w in wss:
            ws_spaces[w].append(i)
    repo = lambda i: f"{layout.space(i)}/{deployment.REPOSITORY}"  # noqa: E731
    os.makedirs(args.out, exist_ok=True)
    counts = {}

    def robot_row(w, n, k):
        spaces = ws_spaces[w]
        i = spaces[k % len(spaces)]
        return (token_path(args.service, repo(i)),
                basic(layout.robot_full(w, n), layout.robot_secret(w, n)),
                "pull,push", repo(i))

    # Robots. Warm: bench-1 of every workspace, 3 spaces each, interleaved over workspaces.
    if layout.robots_per_workspace >= 1:
        warm = [robot_row(w, 0, k) for k in range(3) for w in range(layout.workspaces)]
        write(f"{args.out}/robots-warm.tsv", warm)
        write(f"{args.out}/robots-warm.sample.tsv", warm[:SAMPLES])
        counts["robots-warm"] = len(warm)
    cold = [robot_row(w, n, n) for n in range(1, layout.robots_per_workspace) for w in range(layout.workspaces)]
    if len(cold) > SAMPLES:
        write(f"{args.out}/robots-cold.tsv", cold[:-SAMPLES])
        write(f"{args.out}/robots-cold.sample.tsv", cold[-SAMPLES:])
        counts["robots-cold"] = len(cold) - SAMPLES

    # Users.
    members = {}
    for j, w, role in layout.memberships():
        members.setdefault(j, []).append((w, role))

    def user_row(j, k):
        w, _ = members[j][k % len(members[j])]
        spaces = ws_spaces[w]
        i = spaces[(j + k) % len(spaces)] if spaces else None
        if i is None:
            return None
        bound = set(space_ws[i])
        roles = [r for (w2, r) in members[j] if w2 in bound]
        expected = deployment.expected_actions(layout.space_public(i), roles)
        name = layout.user(j)
        return (token_path(args.service, repo(i)), basic(name, layout.password(name)),
                ",".join(expected), repo(i))

    k_warm = min(args.warm_users, layout.users)
    warm = [r for k in range(8) for j in range(k_warm) if j in members for r in [user_row(j, k)] if r]
    if warm:
        write(f"{args.out}/users-warm.tsv", warm)
        write(f"{args.out}/users-warm.sample.tsv", warm[:SAMPLES])
        counts["users-warm"] = len(warm)
    cold = [r for j in range(k_warm, layout.users) if j in members for r in [user_row(j, 0)] if r]
    if len(cold) > SAMPLES:
        write(f"{args.out}/users-cold.tsv", cold[:-SAMPLES])
        write(f"{args.out}/users-cold.sample.tsv", cold[-SAMPLES:])
        counts["users-cold"] = len(cold) - SAMPLES
    if args.admin_password:
        admin = [(token_path(args.service, repo(i)), basic("admin", args.admin_password), "pull,push", repo(i))
                 for i in range(0, layout.spaces, max(1, layout.spaces // 64))]
        write(f"{args.out}/admin-warm.tsv", admin)
        write(f"{args.out}/admin-warm.sample.tsv", admin[:SAMPLES])
        counts["admin-warm"] = len(admin)
    for name, n in counts.items():
        print(f"{name} {n}")
    return 0


# ---------------------------------------------------------------- checks
class Client:
    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port or 80
        self.conn = None

    def get(self, path, auth):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request("GET", path, headers={"Authorization": auth})
                response = self.conn.getresponse()
                return response.status, response.read().decode(errors="replace")
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def jwt_payload(token):
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def check_one(client, row):
    """('ok'|'partial'|'over'|'failed', message, token)."""
    path, auth, expected, repo = row[:4]
    status, body = client.get(path, auth)
    if status != 200:
        return "failed", f"HTTP {status}: {body[:300]}", None
    try:
        answer = json.loads(body)
        token = answer.get("token") or answer.get("access_token")
        claims = jwt_payload(token)
    except (ValueError, AttributeError, IndexError, TypeError) as e:
        return "failed", f"200 but no decodable JWT token ({e}): {body[:200]}", None
    granted = set()
    for entry in claims.get("access") or []:
        if entry.get("type") == "repository" and entry.get("name") == repo:
            granted.update(entry.get("actions") or [])
    want = {a for a in expected.split(",") if a}
    if not want <= granted:
        return ("partial",
                f"token for {claims.get('sub')!r} grants {sorted(granted)} on {repo}, expected "
                f"{sorted(want)} (access claim: {json.dumps(claims.get('access'))})", token)
    if granted - want:
        return ("over", f"token for {claims.get('sub')!r} grants {sorted(granted)} on {repo}, "
                        f"more than the rule's {sorted(want)}", token)
    return "ok", "", token


def read_rows(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def cmd_check(args):
    client = Client(args.base)
    tally = {"ok": 0, "partial": 0, "over": 0, "failed": 0}
    for row in read_rows(args.file)[: args.limit]:
        verdict, message, _ = check_one(client, row)
        tally[verdict] += 1
        if verdict != "ok":
            print(f"  {verdict}: {urllib.parse.unquote(row[0])} -> {message}")
    print("CHECK " + " ".join(f"{k}={v}" for k, v in tally.items()))
    return 0 if tally["ok"] + tally["over"] == sum(tally.values()) else 1


def cmd_v2_tokens(args):
    client = Client(args.base)
    lists = [read_rows(f) for f in args.files]
    per_list = -(-args.count // len(lists))
    tokens = []
    for rows in lists:
        step = max(1, len(rows) // per_list)
        for row in rows[::step][:per_list]:
            verdict, message, token = check_one(client, row)
            if verdict not in ("ok", "over"):
                print(f"v2-tokens: {verdict}: {message}", file=sys.stderr)
                return 1
            status, body = client.get("/v2/", f"Bearer {token}")
            if status != 200:
                print(f"v2-tokens: GET /v2/ with a fresh token -> HTTP {status}: {body[:300]}", file=sys.stderr)
                return 1
            tokens.append(token)
    write(args.out, [("/v2/", f"Bearer {t}") for t in tokens])
    print(f"TOKENS {len(tokens)}")
    return 0


def main():
    parser = argparse.ArgumentParser(prog="requests.py")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("lists")
    p.add_argument("out")
    p.add_argument("--service", default="berth")
    p.add_argument("--workspaces", type=int, default=1000)
    p.add_argument("--spaces", type=int, default=10000)
    p.add_argument("--bindings", type=int, default=20000)
    p.add_argument("--users", type=int, default=5000)
    p.add_argument("--robots-per-workspace", type=int, default=1)
    p.add_argument("--warm-users", type=int, default=16)
    p.add_argument("--admin-password", help="also write admin-warm.tsv for the `admin` user")
    p = sub.add_parser("check")
    p.add_argument("base")
    p.add_argument("file")
    p.add_argument("--limit", type=int, default=None)
    p = sub.add_parser("v2-tokens")
    p.add_argument("base")
    p.add_argument("out")
    p.add_argument("files", nargs="+")
    p.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    return {"lists": cmd_lists, "check": cmd_check, "v2-tokens": cmd_v2_tokens}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
