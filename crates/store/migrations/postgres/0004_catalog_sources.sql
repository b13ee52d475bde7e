-- Repositories belong to a registry by id and to a space, so catalogs of external platform and
-- workspace registries (whose names repeat across workspaces) share the table with `hosted`.
-- This file differs from ../sqlite/0004_catalog_sources.sql, which has to rebuild the table.
ALTER TABLE repositories ADD COLUMN registry_id BIGINT REFERENCES registries (id) ON DELETE CASCADE;
-- NULL only for repositories whose space row is gone or never existed; such a repository is
-- served by the registry but appears in no image list.
ALTER TABLE repositories ADD COLUMN space_id BIGINT REFERENCES spaces (id) ON DELETE SET NULL;
UPDATE repositories r SET registry_id = g.id FROM registries g
    WHERE g.name = r.registry AND g.workspace_id IS NULL;
DELETE FROM repositories WHERE registry_id IS NULL;
UPDATE repositories r SET space_id = (SELECT s.id FROM spaces s WHERE s.registry_id = r.registry_id
    AND substr(r.name, 1, length(s.name) + 1) = s.name || '/');
ALTER TABLE repositories ALTER COLUMN registry_id SET NOT NULL;
-- Dropping the column drops the old UNIQUE (registry, name) with it.
ALTER TABLE repositories DROP COLUMN registry;
ALTER TABLE repositories ADD CONSTRAINT repositories_registry_id_name_key UNIQUE (registry_id, name);
CREATE INDEX repositories_by_space ON repositories (space_id);
-- Tag pages of one repository sort by push time.
CREATE INDEX tags_by_push ON tags (repository_id, pushed_at);
