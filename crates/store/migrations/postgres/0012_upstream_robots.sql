-- Robot accounts Berth made in a registry that enforces access itself (Harbor): one per
-- workspace bound to a space there, so that the registry, not Berth, refuses every other
-- workspace. The secret is sealed like a registry's password. A row outlives its binding and
-- its workspace (hence no foreign key on either) until the robot is deleted upstream, so a
-- registry that was down when the workspace went still loses the robot later.
-- Keep this file and ../sqlite/0012_upstream_robots.sql identical outside DIALECT lines.

CREATE TABLE upstream_robots (
    registry_id BIGINT NOT NULL REFERENCES registries (id) ON DELETE CASCADE,
    space TEXT NOT NULL,
    workspace_id BIGINT NOT NULL,
    -- The registry's id of the robot, which deleting it takes.
    remote_id BIGINT NOT NULL,
    -- The login name, e.g. robot$team+berth-ws-1a2b3c4d.
    username TEXT NOT NULL,
    secret BYTEA NOT NULL, -- DIALECT
    can_push BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (registry_id, space, workspace_id)
);
