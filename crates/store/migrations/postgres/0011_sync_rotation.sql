-- An incremental sync of a registry that sends Berth its events trusts them for most
-- repositories and re-examines a rotating slice of the rest; the slice of a run is this count
-- of the registry's successful runs, modulo the rotation.
-- Keep this file and ../sqlite/0011_sync_rotation.sql identical outside DIALECT lines.

ALTER TABLE registry_syncs ADD COLUMN succeeded_runs BIGINT NOT NULL DEFAULT 0;
