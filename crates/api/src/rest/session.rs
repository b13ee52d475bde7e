//! Signing in (`POST /auth/login`) and who the caller is (`GET /me`).

use axum::extract::State;
use berth_access::Subject;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::Caller;
use super::error::{ApiError, ErrorResponses};
use super::input::{timestamp, Json};
use super::types::RoleName;
use crate::ApiState;
use berth_identity::principals;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Session {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: String,
}

/// Signs in with a username and password (or a robot name and secret) and answers a session
/// token.
#[utoipa::path(post, path = "/auth/login", tag = "session", security(()),
    request_body = LoginRequest,
    responses((status = 200, body = Session), ErrorResponses))]
pub async fn login(
    State(state): State<ApiState>,
    Json(request): Json<LoginRequest>,
) -> Result<Json<Session>, ApiError> {
    let signed_in = principals::authenticate(
        &state.store,
        &state.passwords,
        &request.username,
        &request.password,
    )
    .await?
    .ok_or(ApiError::BadCredentials)?;
    let (token, claims) = state
        .tokens
        .issue_session(signed_in.subject.name(), &signed_in.credential)?;
    Ok(Json(Session {
        token,
        expires_at: timestamp(claims.exp * 1000),
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    User,
    Robot,
}

#[derive(Serialize, ToSchema)]
pub struct MyWorkspace {
    pub name: String,
    pub role: RoleName,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub email: Option<String>,
    pub is_admin: bool,
    pub kind: SubjectKind,
    /// A user's workspaces with their role; for a robot, its own workspace, with the role
    /// whose registry rights match its permissions (`editor` with push, `viewer` without).
    pub workspaces: Vec<MyWorkspace>,
}

/// Who the caller is, and the workspaces they belong to.
#[utoipa::path(get, path = "/me", tag = "session",
    responses((status = 200, body = Me), ErrorResponses))]
pub async fn me(State(state): State<ApiState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let me = match &caller.subject {
        Subject::User {
            username, is_admin, ..
        } => {
            let user = state
                .store
                .find_user(username)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            let workspaces = state
                .store
                .user_workspaces(user.id)
                .await?
                .into_iter()
                .filter_map(|(name, role)| {
                    Some(MyWorkspace {
                        name,
                        role: RoleName::parse(&role)?,
                    })
                })
                .collect();
            Me {
                username: username.clone(),
                email: user.email,
                is_admin: *is_admin,
                kind: SubjectKind::User,
                workspaces,
            }
        }
        Subject::Robot { name, can_push, .. } => {
            let (workspace, _) =
                principals::parse_robot_name(name).ok_or(ApiError::Unauthorized)?;
            Me {
                username: name.clone(),
                email: None,
                is_admin: false,
                kind: SubjectKind::Robot,
                workspaces: vec![MyWorkspace {
                    name: workspace.to_string(),
                    role: RoleName::from(berth_access::rest::robot_role(*can_push)),
                }],
            }
        }
        Subject::Anonymous => return Err(ApiError::Unauthorized),
    };
    Ok(Json(me))
}
