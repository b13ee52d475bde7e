-- Syncing external registries into the catalog tables the hosted registry uses.
-- Keep this file and ../sqlite/0009_registry_sync.sql identical outside DIALECT lines.

-- The repositories a registry's sync follows, one per line: empty means the whole catalog;
-- a line ending in '/' is a prefix that filters the catalog; other lines name repositories,
-- which works where the catalog is disabled (GHCR, Docker Hub, most clouds).
ALTER TABLE registries ADD COLUMN follow TEXT NOT NULL DEFAULT '';
-- How the last successful health check found the repositories: the catalog, or the follow
-- list because the catalog is disabled or not wanted.
ALTER TABLE registries ADD COLUMN health_listing TEXT;
-- The SHA-256 of the secret the registry's webhooks and notifications authenticate with;
-- the secret itself is shown once, when made.
ALTER TABLE registries ADD COLUMN event_secret_sha256 TEXT;
-- Seconds between scheduled syncs; NULL takes the server's default, 0 schedules none.
ALTER TABLE registries ADD COLUMN sync_interval_seconds BIGINT;

-- The outcome of each registry's syncs. A failed run writes only the error columns, so the
-- counts and the last success describe the catalog the list still shows.
CREATE TABLE registry_syncs (
    registry_id BIGINT PRIMARY KEY REFERENCES registries (id) ON DELETE CASCADE,
    last_started_at BIGINT,
    last_finished_at BIGINT,
    last_succeeded_at BIGINT,
    last_full_succeeded_at BIGINT,
    last_mode TEXT,
    last_error TEXT,
    last_error_at BIGINT,
    repositories BIGINT NOT NULL DEFAULT 0,
    tags BIGINT NOT NULL DEFAULT 0,
    manifests_fetched BIGINT NOT NULL DEFAULT 0,
    duration_ms BIGINT
);

-- Manifests and image configs of external registries by digest, so a sync fetches each
-- digest once and a detail page never waits on the remote registry for one it has seen.
CREATE TABLE remote_manifests (
    registry_id BIGINT NOT NULL REFERENCES registries (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    manifest BYTEA NOT NULL, -- DIALECT
    config BYTEA, -- DIALECT
    cached_at BIGINT NOT NULL,
    PRIMARY KEY (registry_id, digest)
);

-- Distribution does not say when an image was pushed: its synced artifacts and tags carry
-- the time of the sync that first saw them, and 0 here, so nobody reads that as a push time.
ALTER TABLE artifacts ADD COLUMN pushed_at_known BIGINT NOT NULL DEFAULT 1;
