//! Robot accounts of a workspace.

use serde::{Deserialize, Serialize};

use crate::{Permission, Secret};

/// A robot account. Never carries its secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Robot {
    /// The full name to sign in with, `robot$<ws>+<short_name>`.
    pub name: String,
    pub short_name: String,
    pub workspace: String,
    pub permissions: Vec<Permission>,
    pub expires_at: Option<String>,
    pub disabled: bool,
    #[serde(default)]
    pub created_by: String,
    pub created_at: String,
    /// The one hosted space the robot is limited to (temporary push logins); `null` for a
    /// robot of the whole workspace.
    #[serde(default)]
    pub space: Option<String>,
}

/// `POST /workspaces/{ws}/robots`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRobot {
    /// The short name; the account is `robot$<ws>+<name>`.
    pub name: String,
    pub permissions: Vec<Permission>,
    /// Lifetime from now; without it the robot does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<u64>,
}

/// A new robot with its secret: the only answer that ever shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedRobot {
    #[serde(flatten)]
    pub robot: Robot,
    /// Use as the password with the robot's full name. Shown once.
    pub secret: Secret,
}

/// `PATCH /workspaces/{ws}/robots/{robot}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RobotPatch {
    pub disabled: bool,
}
