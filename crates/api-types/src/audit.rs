//! The audit log: who changed what, when, and from where.

use serde::{Deserialize, Serialize};

/// One entry of the audit log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub id: i64,
    /// When it happened (RFC 3339); the log is ordered by it, newest first.
    pub at: String,
    pub actor: String,
    /// A dotted verb, e.g. `workspace.create`, `binding.set`, `manifest.push`.
    pub action: String,
    pub target: String,
    pub workspace: Option<String>,
    /// The client's address.
    pub source: Option<String>,
    /// Facts about the change (never secrets); the shape depends on the action.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[serde(default)]
    pub detail: serde_json::Value,
}

/// The filters of `GET /audit`, all optional; paging is [`crate::ListParams`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditFilter {
    /// Only events by this user or robot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// An action, or every action under a prefix ending in `.` (`space.`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// RFC 3339; only events at or after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Only this workspace's events; required unless the caller is a platform admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
}
