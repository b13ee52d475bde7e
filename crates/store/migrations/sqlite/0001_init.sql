-- The initial schema. Keep this file and ../postgres/0001_init.sql identical except for the
-- dialect lines marked DIALECT: auto-increment keys, the binary column type, and byte-order
-- collation on names so that `ORDER BY name` pages the same way as SQLite's BINARY collation.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- DIALECT
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email TEXT,
    is_admin BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- One row per repository of a registry. The counters are maintained in the same transaction as
-- every manifest and tag change, so image lists never aggregate tags at request time.
CREATE TABLE repositories (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- DIALECT
    registry TEXT NOT NULL DEFAULT 'hosted',
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    artifact_count BIGINT NOT NULL DEFAULT 0,
    tag_count BIGINT NOT NULL DEFAULT 0,
    latest_tag TEXT,
    pushed_at BIGINT,
    latest_size BIGINT,
    pulls BIGINT NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    UNIQUE (registry, name)
);

-- Which blobs a repository may serve. Blob files are shared by digest on disk, but a blob is
-- only visible through the repositories it was uploaded or mounted into.
CREATE TABLE repository_blobs (
    repository_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    size BIGINT NOT NULL,
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (repository_id, digest)
);
CREATE INDEX repository_blobs_by_digest ON repository_blobs (digest);

CREATE TABLE artifacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- DIALECT
    repository_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    artifact_type TEXT,
    manifest BLOB NOT NULL, -- DIALECT
    manifest_size BIGINT NOT NULL,
    size BIGINT NOT NULL,
    subject_digest TEXT,
    config_digest TEXT,
    annotations TEXT NOT NULL DEFAULT '{}',
    created TEXT,
    author TEXT,
    os TEXT,
    architecture TEXT,
    variant TEXT,
    config TEXT,
    pushed_by TEXT,
    pushed_at BIGINT NOT NULL,
    pull_count BIGINT NOT NULL DEFAULT 0,
    pulled_at BIGINT,
    UNIQUE (repository_id, digest)
);
CREATE INDEX artifacts_by_subject ON artifacts (repository_id, subject_digest);

-- The child manifests of an index, with the platform each serves.
CREATE TABLE artifact_children (
    artifact_id BIGINT NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    os TEXT,
    architecture TEXT,
    variant TEXT,
    PRIMARY KEY (artifact_id, position)
);

-- Layers of an image manifest, joined at push time with the history entry that created each.
CREATE TABLE artifact_layers (
    artifact_id BIGINT NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    history_position BIGINT,
    created_by TEXT,
    created TEXT,
    PRIMARY KEY (artifact_id, position)
);

-- Every history entry of the image config in order, including empty-layer steps.
CREATE TABLE artifact_history (
    artifact_id BIGINT NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    created TEXT,
    created_by TEXT,
    author TEXT,
    comment TEXT,
    empty_layer BIGINT NOT NULL,
    PRIMARY KEY (artifact_id, position)
);

CREATE TABLE tags (
    repository_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    artifact_id BIGINT NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    pushed_at BIGINT NOT NULL,
    pulled_at BIGINT,
    PRIMARY KEY (repository_id, name)
);
CREATE INDEX tags_by_artifact ON tags (artifact_id);
