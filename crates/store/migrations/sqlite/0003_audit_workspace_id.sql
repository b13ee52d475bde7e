-- Audit events point at their workspace by id as well as by name, so a workspace re-created
-- under an old name does not inherit the old one's history.
-- Keep this file and ../postgres/0003_audit_workspace_id.sql identical.

ALTER TABLE audit_events ADD COLUMN workspace_id BIGINT;
UPDATE audit_events SET workspace_id = (SELECT w.id FROM workspaces w WHERE w.name = audit_events.workspace);
CREATE INDEX audit_events_by_workspace_id ON audit_events (workspace_id, id);
