//! Spaces of platform registries and their bindings to workspaces.

use serde::{Deserialize, Serialize};

/// A space: the first path segment of repository names in a registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Space {
    pub registry: String,
    pub name: String,
    pub public: bool,
    #[serde(default)]
    pub description: String,
    /// Whether images pushed into it (hosted spaces) are scanned as they arrive.
    #[serde(default = "scan_on_push_default")]
    pub scan_on_push: bool,
    pub created_at: String,
    /// The workspaces the space is bound to; platform admins only, omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_workspaces: Option<Vec<String>>,
}

/// `POST /registries/{reg}/spaces`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSpace {
    pub name: String,
    /// Default: private.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PATCH /registries/{reg}/spaces/{space}`: fields left out keep their value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SpacePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_on_push: Option<bool>,
}

/// Spaces scan pushed images unless told not to.
fn scan_on_push_default() -> bool {
    true
}

/// The workspaces a space is bound to, read and written as a whole set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Bindings {
    pub workspaces: Vec<String>,
}
