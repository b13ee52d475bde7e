-- Vulnerability scans. What a scanner read from a layer is kept by the layer's digest, so a
-- base layer shared by many images is read once; a scan's outcome is kept by the scanned
-- manifest's digest, since the same content scans alike in every repository holding it. The
-- scan that runs now is a job (kind `artifact.scan`, keyed by digest) and is not here.
-- Keep this file and ../sqlite/0014_scans.sql identical outside DIALECT lines.

CREATE TABLE layer_analyses (
    digest TEXT PRIMARY KEY,
    -- Which reader wrote `contents`; contents of another reader are read again.
    reader_version BIGINT NOT NULL,
    -- The layer's wanted files, whiteouts and notes, as JSON.
    contents TEXT NOT NULL,
    analysed_at BIGINT NOT NULL
);

CREATE TABLE scan_reports (
    digest TEXT PRIMARY KEY,
    -- `success`, `failed` or `unsupported`.
    status TEXT NOT NULL,
    -- Why it failed or is unsupported.
    reason TEXT,
    scanner_version TEXT NOT NULL,
    -- The id of the vulnerability database's newest import the scan matched against, and its
    -- time; NULL when none had been made.
    vulndb_import_id BIGINT,
    db_updated_at BIGINT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- The highest severity found, and its rank (critical 5 … unknown 0), NULL when none.
    severity TEXT,
    severity_rank BIGINT,
    -- Vulnerabilities per severity, as JSON.
    counts TEXT NOT NULL,
    fixable BIGINT NOT NULL,
    total BIGINT NOT NULL,
    -- The full report, the inventory and the log, as JSON.
    vulnerabilities TEXT NOT NULL,
    packages TEXT NOT NULL,
    log TEXT NOT NULL
);
