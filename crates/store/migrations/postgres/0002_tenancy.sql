-- Tenancy: workspaces and members, registries and spaces, bindings, robots, audit, settings.
-- Keep this file and ../sqlite/0002_tenancy.sql identical except for lines marked DIALECT.

CREATE TABLE workspaces (
    id BIGSERIAL PRIMARY KEY, -- DIALECT
    name TEXT COLLATE "C" NOT NULL UNIQUE, -- DIALECT
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE workspace_members (
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_by_user ON workspace_members (user_id);

-- Platform registries have no workspace; workspace registries belong to one workspace and are
-- visible to it alone. Names are unique among platform registries and within a workspace.
CREATE TABLE registries (
    id BIGSERIAL PRIMARY KEY, -- DIALECT
    name TEXT COLLATE "C" NOT NULL, -- DIALECT
    kind TEXT NOT NULL CHECK (kind IN ('hosted', 'distribution', 'harbor', 'oci')),
    url TEXT NOT NULL DEFAULT '',
    username TEXT NOT NULL DEFAULT '',
    -- The password, encrypted with AES-256-GCM under the key in the data dir (nonce first).
    secret BYTEA, -- DIALECT
    insecure BIGINT NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    workspace_id BIGINT REFERENCES workspaces (id) ON DELETE CASCADE,
    health TEXT NOT NULL DEFAULT 'unknown',
    health_reason TEXT,
    health_checked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX registries_platform_name ON registries (name) WHERE workspace_id IS NULL;
CREATE UNIQUE INDEX registries_workspace_name ON registries (workspace_id, name) WHERE workspace_id IS NOT NULL;
INSERT INTO registries (name, kind, health, created_at) VALUES ('hosted', 'hosted', 'reachable', 0);

CREATE TABLE spaces (
    id BIGSERIAL PRIMARY KEY, -- DIALECT
    registry_id BIGINT NOT NULL REFERENCES registries (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL, -- DIALECT
    public BIGINT NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (registry_id, name)
);
INSERT INTO spaces (registry_id, name, public, description, created_at)
    SELECT id, 'library', 1, 'Public images for every workspace', 0 FROM registries WHERE name = 'hosted';

CREATE TABLE bindings (
    space_id BIGINT NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (space_id, workspace_id)
);
CREATE INDEX bindings_by_workspace ON bindings (workspace_id);

-- Robot secrets are 256 random bits, so a plain SHA-256 is enough to store them.
CREATE TABLE robots (
    id BIGSERIAL PRIMARY KEY, -- DIALECT
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL, -- DIALECT
    secret_sha256 TEXT NOT NULL,
    can_pull BIGINT NOT NULL,
    can_push BIGINT NOT NULL,
    expires_at BIGINT,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

-- The audit log keeps workspace and target names as text, so history outlives what it names.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY, -- DIALECT
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    workspace TEXT,
    source TEXT,
    detail TEXT
);
CREATE INDEX audit_events_by_time ON audit_events (at);
CREATE INDEX audit_events_by_workspace ON audit_events (workspace, at);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings (name, value) VALUES ('anonymous_pull', 'true'), ('auto_create_spaces', 'false');
