-- Repositories belong to a registry by id and to a space, so catalogs of external platform and
-- workspace registries (whose names repeat across workspaces) share the table with `hosted`.
--
-- This file differs from ../postgres/0004_catalog_sources.sql: SQLite cannot drop a column that
-- a UNIQUE constraint names, so it rebuilds the table. The rebuild relies on foreign keys being
-- off while migrations run (`Store::connect` sees to it and checks them afterwards): with them
-- on, dropping the old table would cascade into artifacts, tags and blob links.
CREATE TABLE repositories_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    registry_id BIGINT NOT NULL REFERENCES registries (id) ON DELETE CASCADE,
    -- NULL only for repositories whose space row is gone or never existed; such a repository
    -- is served by the registry but appears in no image list.
    space_id BIGINT REFERENCES spaces (id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    artifact_count BIGINT NOT NULL DEFAULT 0,
    tag_count BIGINT NOT NULL DEFAULT 0,
    latest_tag TEXT,
    pushed_at BIGINT,
    latest_size BIGINT,
    pulls BIGINT NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    UNIQUE (registry_id, name)
);
INSERT INTO repositories_rebuilt (id, registry_id, space_id, name, created_at, artifact_count,
        tag_count, latest_tag, pushed_at, latest_size, pulls, description)
    SELECT r.id, g.id,
        (SELECT s.id FROM spaces s WHERE s.registry_id = g.id
            AND substr(r.name, 1, length(s.name) + 1) = s.name || '/'),
        r.name, r.created_at, r.artifact_count, r.tag_count, r.latest_tag, r.pushed_at,
        r.latest_size, r.pulls, r.description
    FROM repositories r JOIN registries g ON g.name = r.registry AND g.workspace_id IS NULL;
DROP TABLE repositories;
ALTER TABLE repositories_rebuilt RENAME TO repositories;
CREATE INDEX repositories_by_space ON repositories (space_id);
-- Tag pages of one repository sort by push time.
CREATE INDEX tags_by_push ON tags (repository_id, pushed_at);
