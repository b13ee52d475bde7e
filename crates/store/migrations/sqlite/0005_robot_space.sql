-- A robot may be limited to one space (temporary push logins are): it may then do nothing in
-- any other space. Deleting the space deletes such robots, since they are good for nothing else.
-- Keep this file and ../postgres/0005_robot_space.sql identical.

ALTER TABLE robots ADD COLUMN space_id BIGINT REFERENCES spaces (id) ON DELETE CASCADE;
CREATE INDEX robots_by_space ON robots (space_id);
