//! Workspaces and their members, spaces and their bindings, and robots.
//!
//! Every change runs in one transaction together with the audit event describing it, so a
//! change is either recorded and done, or neither.

use sqlx::{Any, Transaction};

use crate::audit::{insert_audit, NewAuditEvent};
use crate::values::Flag;
use crate::{now_millis, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WorkspaceRecord {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub members: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRecord {
    pub user_id: i64,
    pub username: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceRow {
    pub id: i64,
    pub registry_id: i64,
    pub registry: String,
    pub name: String,
    pub public: bool,
    pub description: String,
    /// Whether images pushed into it are scanned as they arrive.
    pub scan_on_push: bool,
    pub created_at: i64,
    /// The bound workspaces as (id, name), by name.
    pub bound: Vec<(i64, String)>,
}

impl SpaceRow {
    /// The ids of the workspaces the space is bound to, as the access rule takes them.
    pub fn bound_ids(&self) -> Vec<i64> {
        self.bound.iter().map(|(id, _)| *id).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RobotRow {
    pub id: i64,
    pub workspace_id: i64,
    pub workspace: String,
    pub name: String,
    #[sqlx(try_from = "Flag")]
    pub can_pull: bool,
    #[sqlx(try_from = "Flag")]
    pub can_push: bool,
    pub expires_at: Option<i64>,
    #[sqlx(try_from = "Flag")]
    pub disabled: bool,
    pub created_by: String,
    pub created_at: i64,
    /// The one hosted space the robot is limited to, as (id, name), if any.
    #[sqlx(flatten, try_from = "LimitedSpace")]
    pub space: Option<(i64, String)>,
}

/// The columns [`RobotRow::space`] is read from: the robot's `space_id` and, from the joined
/// space, its name.
#[derive(sqlx::FromRow)]
struct LimitedSpace {
    space_id: Option<i64>,
    space: Option<String>,
}

impl From<LimitedSpace> for Option<(i64, String)> {
    fn from(columns: LimitedSpace) -> Self {
        columns.space_id.zip(columns.space)
    }
}

/// One row of a space joined with its bindings (the space once per bound workspace, or once
/// with no workspace), folded into [`SpaceRow`]s by [`spaces_from_rows`].
#[derive(sqlx::FromRow)]
struct SpaceBindingRow {
    id: i64,
    registry_id: i64,
    registry: String,
    name: String,
    #[sqlx(try_from = "Flag")]
    public: bool,
    description: String,
    #[sqlx(try_from = "Flag")]
    scan_on_push: bool,
    created_at: i64,
    workspace_id: Option<i64>,
    workspace: Option<String>,
}

/// What [`Store::update_space`] changes; `None` keeps a field.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpaceChange<'a> {
    pub public: Option<bool>,
    pub description: Option<&'a str>,
    pub scan_on_push: Option<bool>,
}

pub struct NewRobot<'a> {
    pub workspace_id: i64,
    pub name: &'a str,
    pub secret_sha256: &'a str,
    pub can_pull: bool,
    pub can_push: bool,
    pub expires_at: Option<i64>,
    pub created_by: &'a str,
    /// Limits the robot to this space (by id); `None` for a robot of the whole workspace.
    pub space_id: Option<i64>,
}

/// What [`Store::put_pull_robot`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutRobot {
    Created,
    /// The robot existed and now has the new secret; the old one no longer works.
    Rotated,
}

/// A page of a listing ordered by name: items after `after`, at most `limit`, and the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

const WORKSPACE_COLUMNS: &str = "w.id, w.name, w.description, w.created_at, \
     (SELECT COUNT(*) FROM workspace_members m WHERE m.workspace_id = w.id) AS members";
/// Spaces joined with their bindings, one row per binding (or one with no workspace), for
/// [`spaces_from_rows`]; callers add the `WHERE` and `ORDER BY`.
const SPACES_WITH_BINDINGS: &str =
    "SELECT s.id, s.registry_id, r.name AS registry, s.name, s.public, \
     s.description, s.scan_on_push, s.created_at, w.id AS workspace_id, w.name AS workspace FROM spaces s \
     JOIN registries r ON r.id = s.registry_id LEFT JOIN bindings b ON b.space_id = s.id \
     LEFT JOIN workspaces w ON w.id = b.workspace_id";
const ROBOT_COLUMNS: &str =
    "r.id, r.workspace_id, w.name AS workspace, r.name, r.can_pull, r.can_push, \
     r.expires_at, r.disabled, r.created_by, r.created_at, r.space_id, s.name AS space";
/// Robots with their workspace and, for robots limited to one space, that space.
const ROBOTS_FROM: &str = "robots r JOIN workspaces w ON w.id = r.workspace_id \
     LEFT JOIN spaces s ON s.id = r.space_id";

impl Store {
    // ---- workspaces ------------------------------------------------------------------

    pub async fn create_workspace(
        &self,
        name: &str,
        description: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<WorkspaceRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO workspaces (name, description, created_at) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(description)
            .bind(now_millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                StoreError::on_unique(e, || format!("workspace `{name}` already exists"))
            })?;
        insert_audit(&mut tx, audit).await?;
        let record = workspace_in(&mut tx, name)
            .await?
            .ok_or_else(|| StoreError::Missing(name.into()))?;
        tx.commit().await?;
        self.changes.principals_changed();
        Ok(record)
    }

    pub async fn workspace(&self, name: &str) -> Result<Option<WorkspaceRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.reader)
        .await?)
    }

    /// Workspaces by name after `after`; only those `member` (a user id) belongs to, when given.
    pub async fn workspaces(
        &self,
        member: Option<i64>,
        after: &str,
        limit: i64,
    ) -> Result<Page<WorkspaceRecord>, StoreError> {
        let filter = "($1 < 0 OR EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.user_id = $1))";
        let items = sqlx::query_as(&format!(
            "SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE {filter} AND w.name > $2 ORDER BY w.name LIMIT $3"
        ))
        .bind(member.unwrap_or(-1))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        let total = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) AS n FROM workspaces w WHERE {filter}"
        ))
        .bind(member.unwrap_or(-1))
        .fetch_one(&self.reader)
        .await?;
        Ok(Page { items, total })
    }

    /// Changes a workspace's description. `None` when it does not exist.
    pub async fn update_workspace(
        &self,
        name: &str,
        description: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<Option<WorkspaceRecord>, StoreError> {
        let mut tx = self.begin_write().await?;
        let result = sqlx::query("UPDATE workspaces SET description = $1 WHERE name = $2")
            .bind(description)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Ok(None);
        }
        insert_audit(&mut tx, audit).await?;
        let record = workspace_in(&mut tx, name).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        Ok(record)
    }

    /// Deletes a workspace with its members, bindings, robots and workspace registries.
    pub async fn delete_workspace(
        &self,
        name: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        let deleted = self
            .change(audit, "DELETE FROM workspaces WHERE name = $1", |q| {
                q.bind(name.to_string())
            })
            .await?;
        self.changes.tenancy_changed();
        Ok(deleted)
    }

    // ---- members ---------------------------------------------------------------------

    pub async fn members(&self, workspace_id: i64) -> Result<Vec<MemberRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT m.user_id, u.username, m.role FROM workspace_members m JOIN users u ON u.id = m.user_id \
             WHERE m.workspace_id = $1 ORDER BY u.username",
        )
        .bind(workspace_id)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Adds a member or changes their role. `role` must be `admin`, `editor` or `viewer`.
    pub async fn set_member(
        &self,
        workspace_id: i64,
        user_id: i64,
        role: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, role, added_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(workspace_id)
        .bind(user_id)
        .bind(role)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        Ok(())
    }

    pub async fn remove_member(
        &self,
        workspace_id: i64,
        user_id: i64,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        self.change(
            audit,
            "DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2",
            |q| q.bind(workspace_id).bind(user_id),
        )
        .await
    }

    /// The workspaces user `user_id` belongs to as (workspace name, role), by name.
    pub async fn user_workspaces(&self, user_id: i64) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT w.name, m.role FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id \
             WHERE m.user_id = $1 ORDER BY w.name",
        )
        .bind(user_id)
        .fetch_all(&self.reader)
        .await?)
    }

    // ---- spaces and bindings -----------------------------------------------------------

    pub async fn space(
        &self,
        registry_id: i64,
        name: &str,
    ) -> Result<Option<SpaceRow>, StoreError> {
        let rows = sqlx::query_as(&format!(
            "{SPACES_WITH_BINDINGS} WHERE s.registry_id = $1 AND s.name = $2 ORDER BY w.name"
        ))
        .bind(registry_id)
        .bind(name)
        .fetch_all(&self.reader)
        .await?;
        Ok(spaces_from_rows(rows).into_iter().next())
    }

    /// Whether images pushed into space `space` of registry `registry_id` are scanned as they
    /// arrive; `true` for a space not recorded (yet), as spaces start with it on.
    pub async fn scans_on_push(&self, registry_id: i64, space: &str) -> Result<bool, StoreError> {
        let on: Option<i64> = sqlx::query_scalar(
            "SELECT scan_on_push FROM spaces WHERE registry_id = $1 AND name = $2",
        )
        .bind(registry_id)
        .bind(space)
        .fetch_optional(&self.reader)
        .await?;
        Ok(on.is_none_or(|on| on != 0))
    }

    /// Spaces of a registry by name after `after`, keeping only those `visible` admits (the
    /// caller's view, decided by the access rule); the total counts the visible ones.
    pub async fn spaces(
        &self,
        registry_id: i64,
        visible: impl Fn(&SpaceRow) -> bool,
        after: &str,
        limit: i64,
    ) -> Result<Page<SpaceRow>, StoreError> {
        // One read of the registry's spaces gives both the page and the total, which counts
        // the visible spaces before the cursor too.
        let sql =
            format!("{SPACES_WITH_BINDINGS} WHERE s.registry_id = $1 ORDER BY s.name, w.name");
        let rows = sqlx::query_as(&sql)
            .bind(registry_id)
            .fetch_all(&self.reader)
            .await?;
        let visible: Vec<SpaceRow> = spaces_from_rows(rows)
            .into_iter()
            .filter(|space| visible(space))
            .collect();
        let total = visible.len() as i64;
        let all = visible
            .into_iter()
            .filter(|space| space.name.as_str() > after);
        Ok(Page {
            items: all.take(limit.max(0) as usize).collect(),
            total,
        })
    }

    /// The spaces (of any platform registry) bound to a workspace: the reverse view.
    pub async fn workspace_spaces(&self, workspace_id: i64) -> Result<Vec<SpaceRow>, StoreError> {
        let sql = format!(
            "{SPACES_WITH_BINDINGS} WHERE s.id IN (SELECT space_id FROM bindings WHERE workspace_id = $1) \
             ORDER BY r.name, s.name, w.name"
        );
        let rows = sqlx::query_as(&sql)
            .bind(workspace_id)
            .fetch_all(&self.reader)
            .await?;
        Ok(spaces_from_rows(rows))
    }

    pub async fn create_space(
        &self,
        registry_id: i64,
        name: &str,
        public: bool,
        description: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<SpaceRow, StoreError> {
        let mut tx = self.begin_write().await?;
        // Platform registries' names are reserved as first path components on Berth (it
        // serves their images as `<registry>/<repository>`), so the hosted registry may not
        // have a space of such a name.
        let reserved: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM registries h JOIN registries p ON p.name = $2 \
             WHERE h.id = $1 AND h.kind = 'hosted' AND {}",
            crate::facts::RESERVED_BY_PLATFORM_REGISTRY
        ))
        .bind(registry_id)
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        if reserved > 0 {
            return Err(StoreError::Conflict(format!(
                "`{name}` is the name of a platform registry, whose images Berth serves under `{name}/`; a hosted space cannot take it"
            )));
        }
        sqlx::query(
            "INSERT INTO spaces (registry_id, name, public, description, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(registry_id)
        .bind(name)
        .bind(i64::from(public))
        .bind(description)
        .bind(now_millis())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::on_unique(e, || format!("space `{name}` already exists in this registry")))?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        self.changes.tenancy_changed();
        self.space(registry_id, name)
            .await?
            .ok_or_else(|| StoreError::Missing(name.into()))
    }

    /// Changes what `change` names of a space. `None` when it does not exist.
    pub async fn update_space(
        &self,
        registry_id: i64,
        name: &str,
        change: SpaceChange<'_>,
        audit: &NewAuditEvent<'_>,
    ) -> Result<Option<SpaceRow>, StoreError> {
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE spaces SET public = COALESCE($1, public), \
             description = COALESCE($2, description), \
             scan_on_push = COALESCE($3, scan_on_push) WHERE registry_id = $4 AND name = $5",
        )
        .bind(change.public.map(i64::from))
        .bind(change.description)
        .bind(change.scan_on_push.map(i64::from))
        .bind(registry_id)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Ok(None);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        self.changes.tenancy_changed();
        self.space(registry_id, name).await
    }

    /// Deletes an empty space. A space that still holds images is refused with `Conflict`:
    /// deleting it would leave its images behind, and a new space of the same name (perhaps
    /// public, perhaps bound elsewhere) would inherit them.
    pub async fn delete_space(
        &self,
        registry_id: i64,
        name: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let holding: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) AS n FROM repositories r JOIN registries g ON g.id = r.registry_id \
             WHERE g.id = $1 AND g.workspace_id IS NULL AND r.artifact_count > 0 \
             AND (r.name = $2 OR substr(r.name, 1, length($2) + 1) = $2 || '/')",
        )
        .bind(registry_id)
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        if holding > 0 {
            return Err(StoreError::Conflict(format!(
                "space `{name}` still holds {holding} repositories; delete them first"
            )));
        }
        let result = sqlx::query("DELETE FROM spaces WHERE registry_id = $1 AND name = $2")
            .bind(registry_id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        self.changes.tenancy_changed();
        Ok(true)
    }

    /// Replaces the set of workspaces a space is bound to, and records `audit` plus, for each
    /// workspace gained or lost, a `binding.add` or `binding.remove` event carrying that
    /// workspace, so its admins see the change in their own view. The space row is locked
    /// first, so concurrent replacements apply one after the other and each computes its
    /// gains and losses against what the previous one left. Every name must exist; otherwise
    /// nothing changes and `Missing` names the first unknown workspace.
    pub async fn set_bindings(
        &self,
        space_id: i64,
        workspaces: &[String],
        audit: &NewAuditEvent<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE spaces SET id = id WHERE id = $1")
            .bind(space_id)
            .execute(&mut *tx)
            .await?;
        let mut wanted = Vec::with_capacity(workspaces.len());
        for name in workspaces {
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM workspaces WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
            match id {
                Some(id) => wanted.push((id, name.clone())),
                None => {
                    return Err(StoreError::Missing(format!(
                        "workspace `{name}` does not exist"
                    )))
                }
            }
        }
        wanted.sort();
        wanted.dedup();
        let current: Vec<(i64, String)> = sqlx::query_as(
            "SELECT w.id, w.name FROM bindings b JOIN workspaces w ON w.id = b.workspace_id \
             WHERE b.space_id = $1",
        )
        .bind(space_id)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM bindings WHERE space_id = $1")
            .bind(space_id)
            .execute(&mut *tx)
            .await?;
        for (id, _) in &wanted {
            sqlx::query(
                "INSERT INTO bindings (space_id, workspace_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(space_id)
            .bind(id)
            .bind(now_millis())
            .execute(&mut *tx)
            .await?;
        }
        insert_audit(&mut tx, audit).await?;
        let added = wanted
            .iter()
            .filter(|w| !current.contains(w))
            .map(|(_, n)| ("binding.add", n));
        let removed = current
            .iter()
            .filter(|w| !wanted.contains(w))
            .map(|(_, n)| ("binding.remove", n));
        for (action, workspace) in added.chain(removed) {
            let event = NewAuditEvent {
                action,
                workspace: Some(workspace),
                detail: None,
                ..audit.clone()
            };
            insert_audit(&mut tx, &event).await?;
        }
        tx.commit().await?;
        self.changes.principals_changed();
        self.changes.tenancy_changed();
        Ok(())
    }

    // ---- robots ----------------------------------------------------------------------

    pub async fn create_robot(
        &self,
        robot: NewRobot<'_>,
        audit: &NewAuditEvent<'_>,
    ) -> Result<RobotRow, StoreError> {
        let mut tx = self.begin_write().await?;
        insert_robot(&mut tx, &robot, false).await.map_err(|e| {
            StoreError::on_unique(e, || {
                format!("robot `{}` already exists in this workspace", robot.name)
            })
        })?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        self.robot(robot.workspace_id, robot.name)
            .await?
            .ok_or_else(|| StoreError::Missing(robot.name.into()))
    }

    /// Creates the pull-only robot `robot.name`, or gives the existing one `robot`'s secret,
    /// recording `created` or `rotated` in the same transaction. Only a robot that is itself
    /// pull-only, of the whole workspace, enabled and without expiry is rotated; any other
    /// robot of that name is a `Conflict`, so this never changes what a robot may do nor
    /// revives one an admin disabled.
    pub async fn put_pull_robot(
        &self,
        robot: NewRobot<'_>,
        created: &NewAuditEvent<'_>,
        rotated: &NewAuditEvent<'_>,
    ) -> Result<(RobotRow, PutRobot), StoreError> {
        let mut tx = self.begin_write().await?;
        // On PostgreSQL a concurrent insert of the same name makes this wait for it and then
        // do nothing, so the update below rotates the robot the other request created.
        let inserted = insert_robot(&mut tx, &robot, true).await?;
        let outcome = if inserted {
            PutRobot::Created
        } else {
            let result = sqlx::query(
                "UPDATE robots SET secret_sha256 = $1 WHERE workspace_id = $2 AND name = $3 \
                 AND can_pull = 1 AND can_push = 0 AND space_id IS NULL AND disabled = 0 \
                 AND expires_at IS NULL",
            )
            .bind(robot.secret_sha256)
            .bind(robot.workspace_id)
            .bind(robot.name)
            .execute(&mut *tx)
            .await?;
            if result.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!(
                    "robot `{}` already exists in this workspace and is not a pull-secret robot \
                     (it can push, expires, is limited to a space or is disabled); a workspace \
                     admin must delete it first",
                    robot.name
                )));
            }
            PutRobot::Rotated
        };
        let event = match outcome {
            PutRobot::Created => created,
            PutRobot::Rotated => rotated,
        };
        insert_audit(&mut tx, event).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        let row = self
            .robot(robot.workspace_id, robot.name)
            .await?
            .ok_or_else(|| StoreError::Missing(robot.name.into()))?;
        Ok((row, outcome))
    }

    /// Deletes the workspace's robots that are limited to a space and expired before
    /// `before` (temporary push logins left behind), recording `audit` when any were.
    /// Returns their names.
    pub async fn delete_expired_space_robots(
        &self,
        workspace_id: i64,
        before: i64,
        audit: &NewAuditEvent<'_>,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let names: Vec<String> = sqlx::query_scalar(
            "DELETE FROM robots WHERE workspace_id = $1 AND space_id IS NOT NULL \
             AND expires_at IS NOT NULL AND expires_at < $2 RETURNING name",
        )
        .bind(workspace_id)
        .bind(before)
        .fetch_all(&mut *tx)
        .await?;
        if names.is_empty() {
            return Ok(names);
        }
        let detail = serde_json::json!({ "robots": names }).to_string();
        let event = NewAuditEvent {
            detail: Some(&detail),
            ..audit.clone()
        };
        insert_audit(&mut tx, &event).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        Ok(names)
    }

    pub async fn robot(
        &self,
        workspace_id: i64,
        name: &str,
    ) -> Result<Option<RobotRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ROBOT_COLUMNS} FROM {ROBOTS_FROM} WHERE r.workspace_id = $1 AND r.name = $2"
        ))
        .bind(workspace_id)
        .bind(name)
        .fetch_optional(&self.reader)
        .await?)
    }

    pub async fn robots(&self, workspace_id: i64) -> Result<Vec<RobotRow>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ROBOT_COLUMNS} FROM {ROBOTS_FROM} WHERE r.workspace_id = $1 ORDER BY r.name"
        ))
        .bind(workspace_id)
        .fetch_all(&self.reader)
        .await?)
    }

    pub async fn set_robot_disabled(
        &self,
        workspace_id: i64,
        name: &str,
        disabled: bool,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        self.change(
            audit,
            "UPDATE robots SET disabled = $1 WHERE workspace_id = $2 AND name = $3",
            |q| {
                q.bind(i64::from(disabled))
                    .bind(workspace_id)
                    .bind(name.to_string())
            },
        )
        .await
    }

    pub async fn delete_robot(
        &self,
        workspace_id: i64,
        name: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        self.change(
            audit,
            "DELETE FROM robots WHERE workspace_id = $1 AND name = $2",
            |q| q.bind(workspace_id).bind(name.to_string()),
        )
        .await
    }

    /// Runs one statement and, when it changed a row, its audit event, in one transaction.
    /// Returns whether a row changed; nothing is recorded when none did.
    pub(crate) async fn change<'q>(
        &self,
        audit: &NewAuditEvent<'_>,
        sql: &'q str,
        bind: impl FnOnce(
            sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
        ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let result = bind(sqlx::query(sql)).execute(&mut *tx).await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        Ok(true)
    }
}

/// Inserts `robot`. With `skip_existing`, a robot of the same name is left as it is and the
/// answer is `false`; without, it is a unique violation.
async fn insert_robot(
    tx: &mut Transaction<'_, Any>,
    robot: &NewRobot<'_>,
    skip_existing: bool,
) -> Result<bool, sqlx::Error> {
    let conflict = if skip_existing {
        " ON CONFLICT (workspace_id, name) DO NOTHING"
    } else {
        ""
    };
    let result = sqlx::query(&format!(
        "INSERT INTO robots (workspace_id, name, secret_sha256, can_pull, can_push, expires_at, \
         created_by, created_at, space_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9){conflict}"
    ))
    .bind(robot.workspace_id)
    .bind(robot.name)
    .bind(robot.secret_sha256)
    .bind(i64::from(robot.can_pull))
    .bind(i64::from(robot.can_push))
    .bind(robot.expires_at)
    .bind(robot.created_by)
    .bind(now_millis())
    .bind(robot.space_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() > 0)
}

async fn workspace_in(
    tx: &mut Transaction<'_, Any>,
    name: &str,
) -> Result<Option<WorkspaceRecord>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.name = $1"
    ))
    .bind(name)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Folds rows of spaces joined with their bindings (one row per binding, or one with no
/// workspace) into one record per space, in row order.
fn spaces_from_rows(rows: Vec<SpaceBindingRow>) -> Vec<SpaceRow> {
    let mut spaces: Vec<SpaceRow> = Vec::new();
    for row in rows {
        if spaces.last().is_none_or(|s| s.id != row.id) {
            spaces.push(SpaceRow {
                id: row.id,
                registry_id: row.registry_id,
                registry: row.registry,
                name: row.name,
                public: row.public,
                description: row.description,
                scan_on_push: row.scan_on_push,
                created_at: row.created_at,
                bound: Vec::new(),
            });
        }
        if let Some(binding) = row.workspace_id.zip(row.workspace) {
            spaces.last_mut().expect("pushed above").bound.push(binding);
        }
    }
    spaces
}
