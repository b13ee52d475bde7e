//! Signing in, and who the caller is.

use serde::{Deserialize, Serialize};

use crate::{Role, Secret};

/// `POST /auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: Secret,
}

/// The answer to `POST /auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    /// Send as `Authorization: Bearer <token>`.
    pub token: Secret,
    pub expires_at: String,
}

/// Whether a signed-in subject is a person or a robot account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    User,
    Robot,
}

/// A workspace the caller belongs to, as `GET /me` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyWorkspace {
    pub name: String,
    pub role: Role,
}

/// `GET /me`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub username: String,
    pub email: Option<String>,
    pub is_admin: bool,
    pub kind: SubjectKind,
    /// A user's workspaces with their role; for a robot, its own workspace, with the role
    /// whose registry rights match its permissions (`editor` with push, `viewer` without).
    pub workspaces: Vec<MyWorkspace>,
}
