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
}
