-- A queue of background work (registry syncs, scans) shared by every `berth serve` process on
-- one database, so work survives a restart and runs once across replicas. The store knows
-- nothing of what a job does: `kind` names the work, `key` its subject (a registry id, say),
-- and `payload` and `progress` are JSON the job's own code reads.
-- Keep this file and ../postgres/0008_jobs.sql identical outside DIALECT lines.

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- DIALECT
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress TEXT NOT NULL DEFAULT '{}',
    -- How many times the job was claimed; a claim beyond max_attempts fails it instead.
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_after BIGINT NOT NULL,
    -- Who holds a running job, and until when: a job whose lease ran out is claimed again.
    worker TEXT,
    lease_until BIGINT,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
-- At most one live job per subject: enqueueing again answers the live one.
CREATE UNIQUE INDEX jobs_live_by_subject ON jobs (kind, key) WHERE state IN ('queued', 'running');
-- Claiming looks for queued jobs that are due and running jobs whose lease ran out.
CREATE INDEX jobs_by_state ON jobs (state, run_after);
-- The latest job of a subject, and pruning all but it.
CREATE INDEX jobs_by_subject ON jobs (kind, key, created_at);
