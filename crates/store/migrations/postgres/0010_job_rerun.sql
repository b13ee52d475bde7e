-- Work asked for while its job already runs must not be lost: the running job may have read
-- its subject before the change that asked for the work. Enqueueing a running job's subject
-- stores the new payload here, and the job is queued again with it once it finishes.
-- Keep this file and ../sqlite/0010_job_rerun.sql identical outside DIALECT lines.

ALTER TABLE jobs ADD COLUMN rerun_payload TEXT;
