-- The vulnerability database: OSV advisories imported by `berth vulndb import`, one row per
-- advisory id with the document as OSV published it, and the index the scanner looks them up
-- by. A re-import replaces an advisory only with a newer `modified`; a withdrawn advisory
-- keeps its row (so the status can count it) but leaves the package index.
-- Keep this file and ../postgres/0013_advisories.sql identical outside DIALECT lines.

CREATE TABLE advisories (
    id TEXT PRIMARY KEY,
    -- The document's `modified`, in milliseconds since the epoch.
    modified BIGINT NOT NULL,
    -- When it was withdrawn, in milliseconds; NULL while it stands.
    withdrawn BIGINT,
    document TEXT NOT NULL,
    imported_at BIGINT NOT NULL
);

-- The packages each standing advisory names: ecosystem as OSV spells it (`Debian:12`) and the
-- name as the ecosystem compares names (PyPI's normalised).
CREATE TABLE advisory_packages (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    advisory_id TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    PRIMARY KEY (ecosystem, name, advisory_id)
);
CREATE INDEX advisory_packages_by_advisory ON advisory_packages (advisory_id);

-- The other ids each advisory is known by (aliases and upstream ids), to find other records
-- of one vulnerability.
CREATE TABLE advisory_aliases (
    alias TEXT NOT NULL,
    advisory_id TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    PRIMARY KEY (alias, advisory_id)
);
CREATE INDEX advisory_aliases_by_advisory ON advisory_aliases (advisory_id);

-- Every import, for `berth vulndb status`.
CREATE TABLE vulndb_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- DIALECT
    source TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    added BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    withdrawn BIGINT NOT NULL,
    refused BIGINT NOT NULL
);
