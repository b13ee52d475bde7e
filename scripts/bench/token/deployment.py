"""The benchmark deployment: a deterministic layout of workspaces, users, spaces, bindings and
robots, shared by scripts/seed-deployment (which writes it) and scripts/bench-token (which
builds its requests from it). Python standard library only.

Names and credentials (all derived from the index, so the bench needs no manifest):
  workspaces  w0001 … w1000                (zero-padded to at least 4 digits)
  spaces      s00001 … s10000 on `hosted`   (at least 5 digits); every 10th is public
  users       u00001 … u05000               (at least 5 digits), password `pw-<username>`
  robots      robot$<ws>+bench-<n>, n = 1 … robots_per_workspace, pull+push, no expiry,
              secret `secret-<ws>-bench-<n>` (stored as lowercase hex SHA-256)
Memberships: user j (0-based) belongs to workspace j mod W; the first user of a workspace is
its admin, then editor, viewer, editor, viewer, …; every third user also joins a second
workspace, as an editor or viewer.
Bindings: space i is bound to workspace i mod W and to up to two more (stride W/3), 1–3 per
space, adding up to exactly the requested number.
"""

import hashlib
from dataclasses import dataclass

REPOSITORY = "app"  # the repository inside each space that token scopes name


@dataclass(frozen=True)
class Layout:
    workspaces: int = 1000
    spaces: int = 10000
    bindings: int = 20000
    users: int = 5000
    robots_per_workspace: int = 1

    def validate(self):
        problems = []
        if self.workspaces < 1:
            problems.append("--workspaces must be at least 1")
        if self.spaces < 1:
            problems.append("--spaces must be at least 1")
        if self.users < 0:
            problems.append("--users must not be negative")
        if self.robots_per_workspace < 0:
            problems.append("--robots-per-workspace must not be negative")
        most = min(3, max(self.workspaces, 1)) * self.spaces
        if not self.spaces <= self.bindings <= most:
            problems.append(
                f"--bindings must be between --spaces ({self.spaces}) and "
                f"min(3, --workspaces) x --spaces ({most}): every space is bound to 1-3 "
                f"distinct workspaces"
            )
        return problems

    # ---- names
    def _width(self, count, least):
        return max(least, len(str(count)))

    def workspace(self, i):
        return f"w{i + 1:0{self._width(self.workspaces, 4)}d}"

    def space(self, i):
        return f"s{i + 1:0{self._width(self.spaces, 5)}d}"

    def user(self, j):
        return f"u{j + 1:0{self._width(self.users, 5)}d}"

    @staticmethod
    def password(username):
        return f"pw-{username}"

    @staticmethod
    def robot_short(n):
        return f"bench-{n + 1}"

    def robot_full(self, ws_index, n):
        return f"robot${self.workspace(ws_index)}+{self.robot_short(n)}"

    def robot_secret(self, ws_index, n):
        return f"secret-{self.workspace(ws_index)}-{self.robot_short(n)}"

    # ---- structure
    def space_public(self, i):
        return i % 10 == 0

    def binding_counts(self):
        """How many workspaces each space is bound to: 1, 2 or 3, adding up to `bindings`."""
        cap = min(3, self.workspaces)
        extra = [min(i % 3, cap - 1) for i in range(self.spaces)]
        want = self.bindings - self.spaces
        have = sum(extra)
        i = self.spaces - 1
        while have > want:  # take from the end
            if extra[i] > 0:
                extra[i] -= 1
                have -= 1
            i = i - 1 if i > 0 else self.spaces - 1
        i = 0
        while have < want:  # add from the start
            if extra[i] < cap - 1:
                extra[i] += 1
                have += 1
            i = (i + 1) % self.spaces
        return [1 + e for e in extra]

    def space_workspaces(self):
        """For each space index, the workspace indexes it is bound to (distinct)."""
        step = max(1, self.workspaces // 3)
        out = []
        for i, count in enumerate(self.binding_counts()):
            chosen = []
            k = 0
            while len(chosen) < count:
                w = (i + k * step) % self.workspaces
                if w not in chosen:
                    chosen.append(w)
                k += 1
            out.append(chosen)
        return out

    def memberships(self):
        """(user index, workspace index, role) for every membership."""
        out = []
        for j in range(self.users):
            w = j % self.workspaces
            k = j // self.workspaces
            role = "admin" if k == 0 else ("editor" if k % 2 == 1 else "viewer")
            out.append((j, w, role))
            if j % 3 == 0 and self.workspaces > 1:
                second = (j * 7 + self.workspaces // 2) % self.workspaces
                if second != w:
                    out.append((j, second, "viewer" if j % 2 else "editor"))
        return out

    def robots(self):
        """(workspace index, robot number) for every robot, robot number outermost."""
        return [
            (w, n) for n in range(self.robots_per_workspace) for w in range(self.workspaces)
        ]


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def expected_actions(public, roles_in_bound, robot=False):
    """What the access rule grants on a space (pull, push only; the bench never asks for
    delete): DESIGN.md section 3, as berth_access::space_actions states it."""
    if robot:  # a robot of a bound workspace with pull+push
        return ["pull", "push"]
    actions = []
    if public or roles_in_bound:
        actions.append("pull")
    if any(r in ("admin", "editor") for r in roles_in_bound):
        actions.append("push")
    return actions


# ---------------------------------------------------------------- SQL
def _q(text):
    return "'" + text.replace("'", "''") + "'"


def _chunks(rows, size=1000):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def seed_statements(layout, user_hashes, now_ms, created_by="admin"):
    """The INSERT statements that add `layout` to a migrated database, in order. They run
    unchanged on SQLite and PostgreSQL: rows refer to each other by name through a CTE, so no
    generated id is needed in advance. `user_hashes[j]` is user j's PHC string."""
    stmts = []
    ws_rows = [f"({_q(layout.workspace(w))}, '', {now_ms})" for w in range(layout.workspaces)]
    for part in _chunks(ws_rows):
        stmts.append(
            "INSERT INTO workspaces (name, description, created_at) VALUES\n" + ",\n".join(part)
        )
    user_rows = [
        f"({_q(layout.user(j))}, {_q(user_hashes[j])}, {_q(layout.user(j) + '@bench.invalid')}, 0, 0, {now_ms})"
        for j in range(layout.users)
    ]
    for part in _chunks(user_rows):
        stmts.append(
            "INSERT INTO users (username, password_hash, email, is_admin, disabled, created_at) VALUES\n"
            + ",\n".join(part)
        )
    space_rows = [
        f"({_q(layout.space(i))}, {1 if layout.space_public(i) else 0})" for i in range(layout.spaces)
    ]
    for part in _chunks(space_rows):
        stmts.append(
            "WITH v(name, public) AS (VALUES\n" + ",\n".join(part) + ")\n"
            "INSERT INTO spaces (registry_id, name, public, description, created_at)\n"
            f"SELECT r.id, v.name, v.public, '', {now_ms} FROM v CROSS JOIN registries r\n"
            "WHERE r.name = 'hosted' AND r.workspace_id IS NULL"
        )
    member_rows = [
        f"({_q(layout.workspace(w))}, {_q(layout.user(j))}, {_q(role)})"
        for j, w, role in layout.memberships()
    ]
    for part in _chunks(member_rows):
        stmts.append(
            "WITH v(ws, usr, role) AS (VALUES\n" + ",\n".join(part) + ")\n"
            "INSERT INTO workspace_members (workspace_id, user_id, role, added_at)\n"
            f"SELECT w.id, u.id, v.role, {now_ms} FROM v\n"
            "JOIN workspaces w ON w.name = v.ws JOIN users u ON u.username = v.usr"
        )
    binding_rows = [
        f"({_q(layout.space(i))}, {_q(layout.workspace(w))})"
        for i, wss in enumerate(layout.space_workspaces())
        for w in wss
    ]
    for part in _chunks(binding_rows):
        stmts.append(
            "WITH v(space, ws) AS (VALUES\n" + ",\n".join(part) + ")\n"
            "INSERT INTO bindings (space_id, workspace_id, created_at)\n"
            f"SELECT s.id, w.id, {now_ms} FROM v\n"
            "JOIN registries r ON r.name = 'hosted' AND r.workspace_id IS NULL\n"
            "JOIN spaces s ON s.registry_id = r.id AND s.name = v.space\n"
            "JOIN workspaces w ON w.name = v.ws"
        )
    robot_rows = [
        f"({_q(layout.workspace(w))}, {_q(layout.robot_short(n))}, {_q(sha256_hex(layout.robot_secret(w, n)))})"
        for w, n in layout.robots()
    ]
    for part in _chunks(robot_rows):
        stmts.append(
            "WITH v(ws, name, secret) AS (VALUES\n" + ",\n".join(part) + ")\n"
            "INSERT INTO robots (workspace_id, name, secret_sha256, can_pull, can_push, expires_at,"
            " disabled, created_by, created_at)\n"
            f"SELECT w.id, v.name, v.secret, 1, 1, NULL, 0, {_q(created_by)}, {now_ms} FROM v\n"
            "JOIN workspaces w ON w.name = v.ws"
        )
    return stmts


def expected_counts(layout):
    """Rows each table gains."""
    return {
        "workspaces": layout.workspaces,
        "users": layout.users,
        "workspace_members": len(layout.memberships()),
        "spaces": layout.spaces,
        "bindings": layout.bindings,
        "robots": layout.workspaces * layout.robots_per_workspace,
    }


COUNT_SQL = {
    "workspaces": "SELECT count(*) FROM workspaces",
    "users": "SELECT count(*) FROM users",
    "workspace_members": "SELECT count(*) FROM workspace_members",
    "spaces": "SELECT count(*) FROM spaces",
    "bindings": "SELECT count(*) FROM bindings",
    "robots": "SELECT count(*) FROM robots",
}
