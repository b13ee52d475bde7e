//! Robot accounts Berth keeps in registries that enforce access themselves (Harbor): one per
//! workspace bound to a space there. The store only remembers them; `berth-sync` makes and
//! deletes them upstream and decides which should exist ([`Store::wanted_upstream_robots`]
//! says which bindings there are).
//!
//! **Invariant:** a row stands for a robot that exists upstream, so it is written only after
//! the registry created the robot and deleted only after the registry deleted it; a row whose
//! binding or workspace is gone is what the next reconciliation deletes upstream.

use crate::values::Flag;
use crate::{Store, StoreError};

/// A robot account Berth made upstream, with its sealed secret.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UpstreamRobot {
    pub registry_id: i64,
    /// The space (Harbor project) the robot may reach, and nothing else.
    pub space: String,
    /// The workspace it was made for, which may since have been deleted.
    pub workspace_id: i64,
    /// The registry's id of the robot.
    pub remote_id: i64,
    /// The login name the registry gave it.
    pub username: String,
    /// The secret, sealed by `berth_identity::secrets::SecretBox`.
    pub secret: Vec<u8>,
    #[sqlx(try_from = "Flag")]
    pub can_push: bool,
    pub created_at: i64,
}

/// A binding of one of a registry's spaces to a workspace: a robot that should exist.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WantedRobot {
    pub space: String,
    pub workspace_id: i64,
    /// The workspace's name, for the robot's name and the logs.
    pub workspace: String,
}

const ROBOT_COLUMNS: &str =
    "registry_id, space, workspace_id, remote_id, username, secret, can_push, created_at";

impl Store {
    /// The robots Berth keeps in registry `registry_id`, by space and workspace.
    pub async fn upstream_robots(
        &self,
        registry_id: i64,
    ) -> Result<Vec<UpstreamRobot>, StoreError> {
        self.upstream_robots_where("registry_id", registry_id, "space, workspace_id")
            .await
    }

    /// The robots kept for workspace `workspace_id`, in every registry, by registry and space.
    pub async fn upstream_robots_of_workspace(
        &self,
        workspace_id: i64,
    ) -> Result<Vec<UpstreamRobot>, StoreError> {
        self.upstream_robots_where("workspace_id", workspace_id, "registry_id, space")
            .await
    }

    /// The robots whose `column` is `id`, in `order`; both are this module's constants.
    async fn upstream_robots_where(
        &self,
        column: &str,
        id: i64,
        order: &str,
    ) -> Result<Vec<UpstreamRobot>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ROBOT_COLUMNS} FROM upstream_robots WHERE {column} = $1 ORDER BY {order}"
        ))
        .bind(id)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Every binding of registry `registry_id`'s spaces, by space and workspace: the robots
    /// that should exist there.
    pub async fn wanted_upstream_robots(
        &self,
        registry_id: i64,
    ) -> Result<Vec<WantedRobot>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.name AS space, w.id AS workspace_id, w.name AS workspace \
             FROM spaces s JOIN bindings b ON b.space_id = s.id \
             JOIN workspaces w ON w.id = b.workspace_id \
             WHERE s.registry_id = $1 ORDER BY s.name, w.id",
        )
        .bind(registry_id)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Records a robot the registry just created; one recorded for the same space and
    /// workspace before is replaced (its upstream robot must have been deleted first).
    pub async fn save_upstream_robot(&self, robot: &UpstreamRobot) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO upstream_robots (registry_id, space, workspace_id, remote_id, username, \
             secret, can_push, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (registry_id, space, workspace_id) DO UPDATE SET \
             remote_id = excluded.remote_id, username = excluded.username, \
             secret = excluded.secret, can_push = excluded.can_push, \
             created_at = excluded.created_at",
        )
        .bind(robot.registry_id)
        .bind(&robot.space)
        .bind(robot.workspace_id)
        .bind(robot.remote_id)
        .bind(&robot.username)
        .bind(&robot.secret)
        .bind(i64::from(robot.can_push))
        .bind(robot.created_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets the robot of `space` and `workspace_id`, once the registry deleted it; `false`
    /// when none was recorded.
    pub async fn delete_upstream_robot(
        &self,
        registry_id: i64,
        space: &str,
        workspace_id: i64,
    ) -> Result<bool, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM upstream_robots \
             WHERE registry_id = $1 AND space = $2 AND workspace_id = $3",
        )
        .bind(registry_id)
        .bind(space)
        .bind(workspace_id)
        .execute(&self.writer)
        .await?;
        Ok(deleted.rows_affected() == 1)
    }
}
