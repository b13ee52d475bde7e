//! Signing in (`POST /auth/login`) and who the caller is (`GET /me`).

use axum::extract::State;
use berth_access::Subject;
use berth_api_types::{
    from_wire_name, LoginRequest, Me, MyWorkspace, Role, Secret, Session, SubjectKind,
};
use berth_identity::principals;

use super::caller::Caller;
use super::error::{ApiError, ErrorResponses};
use super::input::{timestamp, Json};
use crate::ApiState;

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
        request.password.expose(),
    )
    .await?
    .ok_or(ApiError::BadCredentials)?;
    let (token, claims) = state
        .tokens
        .issue_session(signed_in.subject.name(), &signed_in.credential)?;
    Ok(Json(Session {
        token: Secret::new(token),
        expires_at: timestamp(claims.exp * 1000),
    }))
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
                        role: from_wire_name(&role)?,
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
                    role: role_name(berth_access::rest::robot_role(*can_push)),
                }],
            }
        }
        Subject::Anonymous => return Err(ApiError::Unauthorized),
    };
    Ok(Json(me))
}

/// The API's name of a role of the access rule.
pub(super) fn role_name(role: berth_access::Role) -> Role {
    from_wire_name(role.as_str()).expect("the API names every role of the access rule")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The access rule's roles and the API's are two enums over one set of names (the store
    /// keeps the same names); every role must cross between them unchanged.
    #[test]
    fn every_role_of_the_rule_has_its_api_name() {
        for role in berth_access::Role::ALL {
            assert_eq!(berth_api_types::wire_name(&role_name(role)), role.as_str());
        }
    }
}
