-- Whether images pushed into a space (by the registry protocol or an upload) are scanned as
-- they arrive: on unless a platform admin turns it off. Only hosted spaces receive pushes
-- through Berth.
-- Keep this file and ../postgres/0015_space_scan_on_push.sql identical.

ALTER TABLE spaces ADD COLUMN scan_on_push BIGINT NOT NULL DEFAULT 1;
