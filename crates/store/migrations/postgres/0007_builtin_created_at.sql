-- The built-in registry `hosted` and its space `library` were inserted by 0002 with a
-- creation time of 0, which showed as 1970-01-01. They came into being when 0002 ran, and
-- sqlx recorded that time in `_sqlx_migrations` (to the second on SQLite, finer on
-- PostgreSQL), so they get it. Rows whose time is not 0 keep theirs, and so does a database
-- that has no record of 0002.
-- Keep this file and ../sqlite/0007_builtin_created_at.sql identical outside DIALECT lines.

UPDATE registries SET created_at = COALESCE((
    SELECT
        CAST(FLOOR(EXTRACT(EPOCH FROM installed_on) * 1000) AS BIGINT) -- DIALECT
    FROM _sqlx_migrations WHERE version = 2), created_at)
    WHERE kind = 'hosted' AND created_at = 0;
UPDATE spaces SET created_at = (
    SELECT r.created_at FROM registries r WHERE r.id = spaces.registry_id)
    WHERE name = 'library' AND created_at = 0
        AND registry_id IN (SELECT id FROM registries WHERE kind = 'hosted');
