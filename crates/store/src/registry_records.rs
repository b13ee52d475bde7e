//! Registries: `hosted`, the platform registries integrated by platform admins, and each
//! workspace's own registries, with the outcome of their last health check.
//!
//! The stored password is opaque bytes here (the server encrypts it before it arrives), so
//! this layer never sees a plaintext credential. Every change runs in one transaction with
//! its audit event.

use crate::audit::{insert_audit, NewAuditEvent};
use crate::hosted::HOSTED;
use crate::tenancy::Page;
use crate::values::Flag;
use crate::{now_millis, Store, StoreError};

/// Which registries a call is about: the platform's, or one workspace's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryOwner {
    Platform,
    /// A workspace, by id.
    Workspace(i64),
}

impl RegistryOwner {
    /// The value bound for the owner in queries: platform registries have no workspace,
    /// which the queries express as `-1`, an id no workspace has.
    fn bind_value(self) -> i64 {
        match self {
            RegistryOwner::Platform => -1,
            RegistryOwner::Workspace(id) => id,
        }
    }

    fn workspace_id(self) -> Option<i64> {
        match self {
            RegistryOwner::Platform => None,
            RegistryOwner::Workspace(id) => Some(id),
        }
    }
}

/// A registry as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegistryRecord {
    pub id: i64,
    pub name: String,
    /// `hosted`, `distribution`, `harbor` or `oci`.
    pub kind: String,
    pub url: String,
    pub username: String,
    /// The encrypted password (nonce first), when one is stored.
    pub secret: Option<Vec<u8>>,
    #[sqlx(try_from = "Flag")]
    pub insecure: bool,
    pub description: String,
    pub workspace_id: Option<i64>,
    /// The owning workspace's name, for workspace registries.
    pub workspace: Option<String>,
    /// `reachable`, `unreachable` or `unknown`.
    pub health: String,
    pub health_reason: Option<String>,
    pub health_checked_at: Option<i64>,
    /// How a reachable registry lists its repositories, as the last check found.
    pub health_listing: Option<String>,
    pub created_at: i64,
    /// The repositories a sync follows, one per line (see migration 0009); empty for the
    /// whole catalog.
    pub follow: String,
    /// Seconds between scheduled syncs; `None` for the server's default, 0 for none.
    pub sync_interval_seconds: Option<i64>,
    /// The digest of the secret its event endpoint takes; `None` until one is made.
    pub event_secret_sha256: Option<String>,
}

impl RegistryRecord {
    pub fn is_hosted(&self) -> bool {
        self.kind == HOSTED
    }
}

pub struct NewRegistry<'a> {
    pub owner: RegistryOwner,
    pub name: &'a str,
    pub kind: &'a str,
    pub url: &'a str,
    pub username: &'a str,
    /// The encrypted password.
    pub secret: Option<&'a [u8]>,
    pub insecure: bool,
    pub description: &'a str,
    pub follow: &'a str,
    pub sync_interval_seconds: Option<i64>,
}

/// A change to a registry; fields left `None` keep their value. A new kind or URL resets the
/// health to `unknown`, since the last check was about another endpoint.
#[derive(Debug, Clone, Default)]
pub struct RegistryChange<'a> {
    pub kind: Option<&'a str>,
    pub url: Option<&'a str>,
    pub username: Option<&'a str>,
    /// `Some(None)` removes the stored password; `Some(Some(..))` replaces it (encrypted).
    pub secret: Option<Option<&'a [u8]>>,
    pub insecure: Option<bool>,
    pub description: Option<&'a str>,
    pub follow: Option<&'a str>,
    /// `Some(None)` returns to the server's default.
    pub sync_interval_seconds: Option<Option<i64>>,
}

/// The outcome of a health check.
#[derive(Debug, Clone, Copy)]
pub struct HealthCheck<'a> {
    /// `reachable` or `unreachable`.
    pub status: &'a str,
    pub reason: Option<&'a str>,
    /// How a reachable registry lists its repositories.
    pub listing: Option<&'a str>,
    /// Milliseconds since the epoch.
    pub checked_at: i64,
}

const REGISTRY_COLUMNS: &str = "r.id, r.name, r.kind, r.url, r.username, r.secret, r.insecure, \
     r.description, r.workspace_id, w.name AS workspace, r.health, r.health_reason, \
     r.health_checked_at, r.health_listing, r.created_at, r.follow, r.sync_interval_seconds, \
     r.event_secret_sha256";
const REGISTRY_FROM: &str = "registries r LEFT JOIN workspaces w ON w.id = r.workspace_id";
/// Selects the registries of the owner bound as `$1` (see [`RegistryOwner::bind_value`]).
const OWNED_BY: &str = "(($1 < 0 AND r.workspace_id IS NULL) OR r.workspace_id = $1)";

impl Store {
    /// Registry `id`, of any owner.
    pub async fn registry_by_id(&self, id: i64) -> Result<Option<RegistryRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {REGISTRY_COLUMNS} FROM {REGISTRY_FROM} WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.reader)
        .await?)
    }

    /// Every registry but `hosted`, platform and workspace ones alike, by id.
    pub async fn external_registries(&self) -> Result<Vec<RegistryRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {REGISTRY_COLUMNS} FROM {REGISTRY_FROM} WHERE r.kind <> 'hosted' ORDER BY r.id"
        ))
        .fetch_all(&self.reader)
        .await?)
    }

    /// The platform registry `name` when Berth serves it as a pull-through proxy.
    pub async fn proxied_registry(&self, name: &str) -> Result<Option<RegistryRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {REGISTRY_COLUMNS} FROM {REGISTRY_FROM} WHERE r.name = $1 AND {}",
            crate::facts::PROXIED
        ))
        .bind(name)
        .fetch_optional(&self.reader)
        .await?)
    }

    /// The owner's registries by name after `after`, at most `limit`, with the total.
    pub async fn registries(
        &self,
        owner: RegistryOwner,
        after: &str,
        limit: i64,
    ) -> Result<Page<RegistryRecord>, StoreError> {
        let items = sqlx::query_as(&format!(
            "SELECT {REGISTRY_COLUMNS} FROM {REGISTRY_FROM} WHERE {OWNED_BY} AND r.name > $2 \
             ORDER BY r.name LIMIT $3"
        ))
        .bind(owner.bind_value())
        .bind(after)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        let total = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) AS n FROM registries r WHERE {OWNED_BY}"
        ))
        .bind(owner.bind_value())
        .fetch_one(&self.reader)
        .await?;
        Ok(Page { items, total })
    }

    /// The owner's registry `name`.
    pub async fn registry(
        &self,
        owner: RegistryOwner,
        name: &str,
    ) -> Result<Option<RegistryRecord>, StoreError> {
        let mut conn = self.reader.acquire().await?;
        registry_in(&mut conn, owner, name).await
    }

    pub async fn create_registry(
        &self,
        registry: NewRegistry<'_>,
        audit: &NewAuditEvent<'_>,
    ) -> Result<RegistryRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        if registry.owner == RegistryOwner::Platform {
            // A platform registry's name is the first path component of the images Berth
            // proxies for it (`<berth>/<registry>/<repository>`), so it must not be a space of
            // the hosted registry as well.
            let taken: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM spaces s JOIN registries h ON h.id = s.registry_id \
                 WHERE h.name = $1 AND h.workspace_id IS NULL AND s.name = $2",
            )
            .bind(HOSTED)
            .bind(registry.name)
            .fetch_one(&mut *tx)
            .await?;
            if taken > 0 {
                return Err(StoreError::Conflict(format!(
                    "`{}` is a space of the hosted registry, and a platform registry's name is the first path component of its images on Berth; choose another name",
                    registry.name
                )));
            }
        }
        sqlx::query(
            "INSERT INTO registries (name, kind, url, username, secret, insecure, description, \
             workspace_id, created_at, follow, sync_interval_seconds) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(registry.name)
        .bind(registry.kind)
        .bind(registry.url)
        .bind(registry.username)
        .bind(registry.secret)
        .bind(i64::from(registry.insecure))
        .bind(registry.description)
        .bind(registry.owner.workspace_id())
        .bind(now_millis())
        .bind(registry.follow)
        .bind(registry.sync_interval_seconds)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::on_unique(e, || format!("registry `{}` already exists", registry.name))
        })?;
        insert_audit(&mut tx, audit).await?;
        let created = registry_in(&mut tx, registry.owner, registry.name)
            .await?
            .ok_or_else(|| StoreError::Missing(format!("registry `{}`", registry.name)))?;
        tx.commit().await?;
        self.changes.tenancy_changed();
        Ok(created)
    }

    /// Applies `change` to the owner's registry `name`. `None` when it does not exist;
    /// `Conflict` for `hosted`, whose configuration is Berth itself.
    pub async fn update_registry(
        &self,
        owner: RegistryOwner,
        name: &str,
        change: &RegistryChange<'_>,
        audit: &NewAuditEvent<'_>,
    ) -> Result<Option<RegistryRecord>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(current) = registry_in(&mut tx, owner, name).await? else {
            return Ok(None);
        };
        refuse_hosted(&current, "changed")?;
        let retarget = change.kind.is_some_and(|k| k != current.kind)
            || change.url.is_some_and(|u| u != current.url);
        sqlx::query(
            "UPDATE registries SET kind = COALESCE($1, kind), url = COALESCE($2, url), \
             username = COALESCE($3, username), \
             secret = CASE WHEN $4 = 1 THEN $5 ELSE secret END, \
             insecure = COALESCE($6, insecure), description = COALESCE($7, description), \
             health = CASE WHEN $8 = 1 THEN 'unknown' ELSE health END, \
             health_reason = CASE WHEN $8 = 1 THEN NULL ELSE health_reason END, \
             health_checked_at = CASE WHEN $8 = 1 THEN NULL ELSE health_checked_at END, \
             health_listing = CASE WHEN $8 = 1 THEN NULL ELSE health_listing END, \
             follow = COALESCE($10, follow), \
             sync_interval_seconds = CASE WHEN $11 = 1 THEN $12 ELSE sync_interval_seconds END \
             WHERE id = $9",
        )
        .bind(change.kind)
        .bind(change.url)
        .bind(change.username)
        .bind(i64::from(change.secret.is_some()))
        .bind(change.secret.flatten())
        .bind(change.insecure.map(i64::from))
        .bind(change.description)
        .bind(i64::from(retarget))
        .bind(current.id)
        .bind(change.follow)
        .bind(i64::from(change.sync_interval_seconds.is_some()))
        .bind(change.sync_interval_seconds.flatten())
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        let updated = registry_in(&mut tx, owner, name).await?;
        tx.commit().await?;
        self.changes.tenancy_changed();
        Ok(updated)
    }

    /// Deletes the owner's registry `name` with its spaces. Returns whether it existed;
    /// `Conflict` for `hosted`.
    pub async fn delete_registry(
        &self,
        owner: RegistryOwner,
        name: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(current) = registry_in(&mut tx, owner, name).await? else {
            return Ok(false);
        };
        refuse_hosted(&current, "deleted")?;
        sqlx::query("DELETE FROM registries WHERE id = $1")
            .bind(current.id)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.tenancy_changed();
        Ok(true)
    }

    /// Stores the outcome of a health check of the owner's registry `name`. `None` when it was
    /// deleted while the check ran.
    pub async fn set_registry_health(
        &self,
        owner: RegistryOwner,
        name: &str,
        check: HealthCheck<'_>,
        audit: &NewAuditEvent<'_>,
    ) -> Result<Option<RegistryRecord>, StoreError> {
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(&format!(
            "UPDATE registries SET health = $2, health_reason = $3, health_checked_at = $4, \
             health_listing = $6 WHERE id = (SELECT r.id FROM registries r WHERE {OWNED_BY} AND r.name = $5)"
        ))
        .bind(owner.bind_value())
        .bind(check.status)
        .bind(check.reason)
        .bind(check.checked_at)
        .bind(name)
        .bind(check.listing)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Ok(None);
        }
        insert_audit(&mut tx, audit).await?;
        let updated = registry_in(&mut tx, owner, name).await?;
        tx.commit().await?;
        Ok(updated)
    }
}

async fn registry_in(
    conn: &mut sqlx::AnyConnection,
    owner: RegistryOwner,
    name: &str,
) -> Result<Option<RegistryRecord>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REGISTRY_COLUMNS} FROM {REGISTRY_FROM} WHERE {OWNED_BY} AND r.name = $2"
    ))
    .bind(owner.bind_value())
    .bind(name)
    .fetch_optional(conn)
    .await?)
}

/// `hosted` is Berth's own registry: its configuration is the server's, and removing it would
/// orphan every pushed image.
fn refuse_hosted(registry: &RegistryRecord, verb: &str) -> Result<(), StoreError> {
    if registry.is_hosted() {
        return Err(StoreError::Conflict(format!(
            "the hosted registry cannot be {verb}"
        )));
    }
    Ok(())
}
