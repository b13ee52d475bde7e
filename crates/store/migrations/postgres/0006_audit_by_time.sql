-- The audit log is read newest first by the time each event happened, then by id: buffered
-- pull events are recorded after the changes that followed them but carry their request's time.
-- Keep this file and its twin in the other dialect's folder identical.
DROP INDEX audit_events_by_time;
DROP INDEX audit_events_by_workspace_id;
CREATE INDEX audit_events_by_time ON audit_events (at, id);
CREATE INDEX audit_events_by_workspace_id ON audit_events (workspace_id, at, id);
