-- Whose scan a report is: Berth's own (`berth`), or one an external registry made and a sync
-- copied (`harbor`: Harbor's scan overview), which Berth's own scan of the same digest replaces
-- and which never replaces Berth's. `scanner_name` names the scanner (`berth`, `Trivy`, …).
-- Keep this file and ../postgres/0016_scan_report_source.sql identical.

ALTER TABLE scan_reports ADD COLUMN source TEXT NOT NULL DEFAULT 'berth';
ALTER TABLE scan_reports ADD COLUMN scanner_name TEXT NOT NULL DEFAULT 'berth';
