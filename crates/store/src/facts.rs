//! The facts the access rule decides on, read fresh for every token so that a change to a
//! binding, a role or a robot takes effect on the very next token.

use std::collections::HashMap;

use crate::hosted::HOSTED;
use crate::values::Flag;
use crate::{Store, StoreError};

/// A space of the hosted registry as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpaceRecord {
    pub id: i64,
    pub public: bool,
    /// Ids of the workspaces the space is bound to.
    pub bound: Vec<i64>,
}

/// One row of a space joined with its bindings: the space once per bound workspace, or once
/// with no workspace, folded into a [`SpaceRecord`].
#[derive(sqlx::FromRow)]
struct SpaceBindingRow {
    id: i64,
    #[sqlx(try_from = "Flag")]
    public: bool,
    workspace_id: Option<i64>,
}

/// A robot account as the token service needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RobotRecord {
    pub id: i64,
    pub workspace_id: i64,
    pub workspace: String,
    pub name: String,
    pub secret_sha256: String,
    #[sqlx(try_from = "Flag")]
    pub can_pull: bool,
    #[sqlx(try_from = "Flag")]
    pub can_push: bool,
    pub expires_at: Option<i64>,
    #[sqlx(try_from = "Flag")]
    pub disabled: bool,
    /// The one space the robot is limited to, by id.
    pub space_id: Option<i64>,
}

/// Deployment settings that change the access rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessSettings {
    pub anonymous_pull: bool,
    pub auto_create_spaces: bool,
}

/// The SQL condition on a registry `p` that reserves its name as a first path component:
/// every platform registry but `hosted` itself. Only `distribution` and `oci` registries are
/// proxied today, but Harbor's are reserved too, so proxying them later breaks no space.
pub(crate) const RESERVED_BY_PLATFORM_REGISTRY: &str =
    "p.workspace_id IS NULL AND p.kind <> 'hosted'";

/// The SQL condition on a registry `r` that Berth serves as a pull-through proxy under
/// `/v2/<registry name>/`: platform registries of the kinds without access control of their
/// own.
/// [`is_proxied`] is the same condition for a registry already read.
pub(crate) const PROXIED: &str = "r.workspace_id IS NULL AND r.kind IN ('distribution', 'oci')";

/// Whether Berth serves a registry of `kind`, owned by `workspace` (`None` for a platform
/// registry), as a pull-through proxy under `/v2/<registry name>/`, so that its images are
/// pulled from Berth's address. Workspace registries and Harbor are not proxied (yet).
pub fn is_proxied(kind: &str, workspace: Option<i64>) -> bool {
    workspace.is_none() && matches!(kind, "distribution" | "oci")
}

impl Store {
    /// The hosted registry's spaces named in `names` that exist, with their bindings.
    pub async fn hosted_spaces(
        &self,
        names: &[&str],
    ) -> Result<HashMap<String, SpaceRecord>, StoreError> {
        self.platform_spaces(HOSTED, names).await
    }

    /// Of the `names`, those of platform registries Berth serves as a pull-through proxy,
    /// with their ids.
    pub async fn proxied_registries(
        &self,
        names: &[&str],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let mut found = HashMap::new();
        for name in names {
            if found.contains_key(*name) {
                continue;
            }
            let id: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT r.id FROM registries r WHERE r.name = $1 AND {PROXIED}"
            ))
            .bind(*name)
            .fetch_optional(&self.reader)
            .await?;
            if let Some(id) = id {
                found.insert(name.to_string(), id);
            }
        }
        Ok(found)
    }

    /// The spaces named in `names` of platform registry `registry` that exist, with their
    /// bindings.
    pub async fn platform_spaces(
        &self,
        registry: &str,
        names: &[&str],
    ) -> Result<HashMap<String, SpaceRecord>, StoreError> {
        let mut spaces = HashMap::new();
        for name in names {
            if spaces.contains_key(*name) {
                continue;
            }
            let rows: Vec<SpaceBindingRow> = sqlx::query_as(
                "SELECT s.id, s.public, b.workspace_id FROM spaces s \
                 JOIN registries r ON r.id = s.registry_id \
                 LEFT JOIN bindings b ON b.space_id = s.id \
                 WHERE r.name = $1 AND r.workspace_id IS NULL AND s.name = $2",
            )
            .bind(registry)
            .bind(*name)
            .fetch_all(&self.reader)
            .await?;
            let Some(first) = rows.first() else { continue };
            let space = SpaceRecord {
                id: first.id,
                public: first.public,
                bound: rows.iter().filter_map(|row| row.workspace_id).collect(),
            };
            spaces.insert(name.to_string(), space);
        }
        Ok(spaces)
    }

    /// The workspaces `user_id` belongs to, with the role name in each.
    pub async fn memberships(&self, user_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT workspace_id, role FROM workspace_members WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&self.reader)
                .await?,
        )
    }

    /// The robot `name` of workspace `workspace`.
    pub async fn find_robot(
        &self,
        workspace: &str,
        name: &str,
    ) -> Result<Option<RobotRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT r.id, r.workspace_id, w.name AS workspace, r.name, r.secret_sha256, r.can_pull, \
             r.can_push, r.expires_at, r.disabled, r.space_id FROM robots r JOIN workspaces w ON w.id = r.workspace_id \
             WHERE w.name = $1 AND r.name = $2",
        )
        .bind(workspace)
        .bind(name)
        .fetch_optional(&self.reader)
        .await?)
    }

    /// The deployment's access settings. Every token request needs them and they almost never
    /// change, so a read is reused for a second: a change made through this `Store` is seen at
    /// once (writing forgets the cache), one made by another replica within a second.
    pub async fn access_settings(&self) -> Result<AccessSettings, StoreError> {
        if let Some((read_at, settings)) = *self.settings_cache.lock().unwrap() {
            if read_at.elapsed() < std::time::Duration::from_secs(1) {
                return Ok(settings);
            }
        }
        let settings = self.read_access_settings().await?;
        *self.settings_cache.lock().unwrap() = Some((std::time::Instant::now(), settings));
        Ok(settings)
    }

    async fn read_access_settings(&self) -> Result<AccessSettings, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, value FROM settings")
            .fetch_all(&self.reader)
            .await?;
        let mut settings = AccessSettings {
            anonymous_pull: true,
            auto_create_spaces: false,
        };
        for (name, value) in rows {
            let on = value == "true";
            match name.as_str() {
                "anonymous_pull" => settings.anonymous_pull = on,
                "auto_create_spaces" => settings.auto_create_spaces = on,
                _ => {}
            }
        }
        Ok(settings)
    }

    /// Writes the deployment settings and records `audit`, in one transaction.
    pub async fn set_access_settings(
        &self,
        settings: AccessSettings,
        audit: &crate::audit::NewAuditEvent<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for (name, on) in [
            ("anonymous_pull", settings.anonymous_pull),
            ("auto_create_spaces", settings.auto_create_spaces),
        ] {
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(name)
            .bind(if on { "true" } else { "false" })
            .execute(&mut *tx)
            .await?;
        }
        crate::audit::insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        *self.settings_cache.lock().unwrap() = None;
        Ok(())
    }

    /// Creates a private, unbound space on the hosted registry if it does not exist (the
    /// auto-create setting) and records `audit`, in one transaction, so the space is never
    /// there without its event. Returns whether it was created; nothing is recorded when the
    /// space already existed.
    pub async fn create_hosted_space_if_missing(
        &self,
        name: &str,
        audit: &crate::audit::NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(&format!(
            "INSERT INTO spaces (registry_id, name, public, description, created_at) \
             SELECT h.id, $2, 0, 'Created on first push', $3 FROM registries h \
             WHERE h.name = $1 AND h.workspace_id IS NULL \
             AND NOT EXISTS (SELECT 1 FROM registries p WHERE p.name = $2 AND {RESERVED_BY_PLATFORM_REGISTRY}) \
             ON CONFLICT (registry_id, name) DO NOTHING"
        ))
        .bind(HOSTED)
        .bind(name)
        .bind(crate::now_millis())
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        crate::audit::insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.tenancy_changed();
        Ok(true)
    }

    /// Whether the hosted space `name` is public; `None` when it does not exist.
    pub async fn hosted_space_is_public(&self, name: &str) -> Result<Option<bool>, StoreError> {
        Ok(self
            .hosted_spaces(&[name])
            .await?
            .get(name)
            .map(|s| s.public))
    }
}
