//! `hosted`, the platform registries, and each workspace's own registries.

use serde::{Deserialize, Serialize};

use crate::Secret;

/// The protocol of a registry. `hosted` is Berth's own registry; it exists once and cannot
/// be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RegistryKind {
    Hosted,
    Distribution,
    Harbor,
    Oci,
}

/// The outcome of a registry's last health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Reachable,
    Unreachable,
    Unknown,
}

/// A registry's health as last checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: HealthStatus,
    /// Why the registry is unreachable.
    pub reason: Option<String>,
    pub checked_at: Option<String>,
    /// How a reachable registry was entered and lists its repositories, e.g. `with Basic
    /// authentication; lists its catalog` or `…; follows 3 repositories and 1 prefixes instead
    /// of the catalog`.
    #[serde(default)]
    pub listing: Option<String>,
}

/// A registry: `hosted`, a platform registry, or a workspace's own. Never carries its
/// password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Registry {
    pub name: String,
    pub kind: RegistryKind,
    /// For `hosted`, the address clients reach Berth at.
    pub url: String,
    pub username: Option<String>,
    pub insecure: bool,
    #[serde(default)]
    pub description: String,
    /// The owning workspace of a workspace registry; null for platform registries.
    pub workspace: Option<String>,
    pub has_password: bool,
    pub health: Health,
    pub created_at: String,
    /// The repositories a sync follows (names, and prefixes ending in `/`); empty for the
    /// whole catalog. Always empty for `hosted`.
    #[serde(default)]
    pub follow: Vec<String>,
    /// Seconds between scheduled syncs (the server's default unless set; 0 for none); null
    /// for `hosted`, which is not synced.
    #[serde(default)]
    pub sync_interval_seconds: Option<i64>,
    /// The sync state; null for `hosted`.
    #[serde(default)]
    pub sync: Option<RegistrySync>,
}

/// Whether a sync is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SyncState {
    /// Waiting for a worker.
    Queued,
    Running,
    /// No sync queued or running.
    Idle,
}

/// A full sync rewrites every repository; an incremental one skips repositories whose tags
/// and digests are unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    #[default]
    Full,
    Incremental,
}

/// How far the running sync is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncProgress {
    /// Repositories examined so far.
    pub repositories_seen: u64,
    /// Repositories listed upstream; null until the listing is complete.
    pub repositories_total: Option<u64>,
    pub manifests_fetched: u64,
}

/// A registry's sync: what runs now, and how the last runs went.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistrySync {
    pub state: SyncState,
    /// The mode of the queued or running sync, else of the last one.
    pub mode: Option<SyncMode>,
    /// Progress of the queued or running sync.
    pub progress: Option<SyncProgress>,
    pub last_started_at: Option<String>,
    pub last_finished_at: Option<String>,
    /// When a sync last succeeded: the catalog shown is from then.
    pub last_succeeded_at: Option<String>,
    /// Why the latest run failed; null once a later run succeeds.
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    /// The catalog is from an earlier run than the latest, which failed.
    pub stale: bool,
    /// Counts of the last successful run.
    pub repositories: i64,
    pub tags: i64,
    pub manifests_fetched: i64,
    pub duration_ms: Option<i64>,
    /// When the scheduler queues the next sync; null when none is scheduled.
    pub next_at: Option<String>,
}

/// `POST /registries/{reg}/sync`: which sync to run. An empty body means a full sync.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    #[serde(default)]
    pub mode: SyncMode,
}

/// `POST /registries` and `POST /workspaces/{ws}/registries`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRegistry {
    pub name: String,
    /// `distribution`, `harbor` or `oci`; `hosted` exists once and cannot be created.
    pub kind: RegistryKind,
    /// `http(s)://host[:port][/path]`, without credentials.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Stored encrypted; never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Skip TLS certificate verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Repositories to follow where the catalog is disabled or too big: names, and prefixes
    /// ending in `/`. Empty or left out: the whole catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow: Option<Vec<String>>,
    /// Seconds between scheduled syncs; 0 for none; left out for the server's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_interval_seconds: Option<i64>,
}

/// `PATCH` of a registry: fields left out keep their value. An empty `password` removes the
/// stored one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegistryPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RegistryKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow: Option<Vec<String>>,
    /// Seconds between scheduled syncs; 0 for none; -1 returns to the server's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_interval_seconds: Option<i64>,
}

/// `POST /registries/{reg}/event-secret`: where the registry sends its events and the secret
/// it authenticates them with. Shown once; asking again replaces the secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventSecret {
    /// The URL to configure as the registry's notification endpoint (Distribution's
    /// `notifications.endpoints[].url`, Harbor's webhook endpoint).
    pub endpoint: String,
    /// The `Authorization` header value events must carry (Distribution's endpoint
    /// `headers`, Harbor's webhook "auth header").
    pub authorization: String,
}

/// The answer to an event: how many repositories it queued a sync of.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventReceipt {
    pub repositories: Vec<String>,
}
