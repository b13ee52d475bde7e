//! Who is calling, and what they may do: the authentication extractor, the authorization
//! checks (one function per kind of resource), and the audit event a caller's change writes.
//!
//! The subject is loaded fresh from the store on every request, so a disabled user, a
//! removed member or a deleted robot loses access on their very next request, even with a
//! session token that has not expired.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;
use berth_access::{Role, SpaceId, Subject, WorkspaceId};
use berth_store::audit::OwnedAuditEvent;
use berth_store::tenancy::WorkspaceRecord;

use super::error::ApiError;
use crate::principals;
use crate::state::AppState;

/// An authenticated caller: a user or a robot, never anonymous.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: Subject,
    /// The client's IP address, for the audit log.
    pub source: Option<String>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let (scheme, credentials) = header.split_once(' ').ok_or(ApiError::Unauthorized)?;
        let credentials = credentials.trim();
        let subject = if scheme.eq_ignore_ascii_case("bearer") {
            state.sessions.subject(state, credentials).await?
        } else if scheme.eq_ignore_ascii_case("basic") {
            let (name, password) = decode_basic(credentials).ok_or(ApiError::Unauthorized)?;
            principals::authenticate(state, &name, &password)
                .await?
                .map(|signed_in| signed_in.subject)
        } else {
            None
        };
        let subject = subject
            .filter(|s| *s != Subject::Anonymous)
            .ok_or(ApiError::Unauthorized)?;
        let source = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip().to_string());
        Ok(Caller { subject, source })
    }
}

fn decode_basic(credentials: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, password) = text.split_once(':')?;
    Some((name.to_string(), password.to_string()))
}

/// How much of a workspace a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceNeed {
    /// Reading the workspace's spaces: members, and the workspace's own robots (a CI job may
    /// look up where it can push).
    List,
    /// Reading anything else of it: members only.
    Read,
    /// Pushing images in its name (tarball uploads): members, and the workspace's own robots;
    /// the access rule then decides per space.
    Push,
    /// Changing it: the workspace's admins.
    Admin,
}

impl Caller {
    pub fn name(&self) -> &str {
        self.subject.name()
    }

    pub fn is_platform_admin(&self) -> bool {
        self.subject.is_platform_admin()
    }

    /// Platform-wide changes and reads (users, settings, the whole audit log, platform
    /// registries' configuration) are for platform admins.
    pub fn require_platform_admin(&self) -> Result<(), ApiError> {
        if self.is_platform_admin() {
            return Ok(());
        }
        Err(ApiError::Forbidden(
            "only platform admins may do this".into(),
        ))
    }

    /// Robots are for registry clients: beyond `/me`, they may only read lists of their own
    /// workspace.
    pub fn require_user(&self) -> Result<(), ApiError> {
        match self.subject {
            Subject::User { .. } => Ok(()),
            Subject::Robot { .. } | Subject::Anonymous => Err(ApiError::Forbidden(
                "robot accounts may only read /me and lists of their own workspace".into(),
            )),
        }
    }

    /// The one space a space-limited robot (a temporary push login) may touch; `None` for
    /// everyone else. Lists answer such a robot with that space's images only.
    pub fn limited_space(&self) -> Option<SpaceId> {
        match &self.subject {
            Subject::Robot { space, .. } => *space,
            _ => None,
        }
    }

    /// The workspaces whose private spaces the caller sees: a user's memberships, or a
    /// robot's own workspace.
    pub fn workspace_ids(&self) -> Vec<WorkspaceId> {
        match &self.subject {
            Subject::User { memberships, .. } => memberships.iter().map(|(id, _)| *id).collect(),
            Subject::Robot { workspace, .. } => vec![*workspace],
            Subject::Anonymous => Vec::new(),
        }
    }

    /// Whether `need` is met on workspace `id`; `None` when the caller may not even see it.
    fn workspace_access(&self, id: WorkspaceId, need: WorkspaceNeed) -> Option<Result<(), String>> {
        match &self.subject {
            Subject::User { is_admin: true, .. } => Some(Ok(())),
            Subject::User { memberships, .. } => {
                let role = memberships
                    .iter()
                    .find(|(w, _)| *w == id)
                    .map(|(_, r)| *r)?;
                Some(if need == WorkspaceNeed::Admin && role != Role::Admin {
                    Err("only admins of this workspace may do this".into())
                } else {
                    Ok(())
                })
            }
            Subject::Robot { workspace, .. } if *workspace == id => Some(
                if matches!(need, WorkspaceNeed::List | WorkspaceNeed::Push) {
                    Ok(())
                } else {
                    Err("robot accounts may only read /me and their workspace's spaces, and push images".into())
                },
            ),
            Subject::Robot { .. } | Subject::Anonymous => None,
        }
    }

    /// The caller as the access rule should see them when acting for workspace `id`: a user
    /// keeps only their role there, so bindings of their other workspaces do not count. Robots
    /// belong to one workspace and platform admins to none, so they stay as they are.
    pub fn acting_for(&self, id: WorkspaceId) -> Subject {
        match &self.subject {
            Subject::User {
                username,
                is_admin,
                memberships,
            } => Subject::User {
                username: username.clone(),
                is_admin: *is_admin,
                memberships: memberships
                    .iter()
                    .filter(|(w, _)| *w == id)
                    .copied()
                    .collect(),
            },
            other => other.clone(),
        }
    }

    /// Loads workspace `name` and checks `need` on it. A workspace the caller may not see
    /// answers exactly like a missing one.
    pub async fn workspace(
        &self,
        state: &AppState,
        name: &str,
        need: WorkspaceNeed,
    ) -> Result<WorkspaceRecord, ApiError> {
        let not_found = || ApiError::not_found(format_args!("workspace `{name}`"));
        let workspace = state
            .sessions
            .workspace(state, name)
            .await?
            .ok_or_else(not_found)?;
        match self.workspace_access(workspace.id, need) {
            None => Err(not_found()),
            Some(Err(why)) => Err(ApiError::Forbidden(why)),
            Some(Ok(())) => Ok(workspace),
        }
    }

    /// The audit event of a change this caller makes. `detail` must hold no secret.
    pub fn event(
        &self,
        action: &str,
        target: impl Into<String>,
        workspace: Option<&str>,
        detail: serde_json::Value,
    ) -> OwnedAuditEvent {
        OwnedAuditEvent {
            actor: self.name().to_string(),
            action: action.to_string(),
            target: target.into(),
            workspace: workspace.map(str::to_string),
            source: self.source.clone(),
            detail: (!detail.is_null()).then(|| detail.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(is_admin: bool, memberships: Vec<(WorkspaceId, Role)>) -> Caller {
        Caller {
            subject: Subject::User {
                username: "u".into(),
                is_admin,
                memberships,
            },
            source: None,
        }
    }

    #[test]
    fn workspace_access_by_role() {
        use WorkspaceNeed::*;
        let admin = user(true, vec![]);
        assert_eq!(admin.workspace_access(1, Admin), Some(Ok(())));
        let viewer = user(false, vec![(1, Role::Viewer)]);
        assert_eq!(viewer.workspace_access(1, Read), Some(Ok(())));
        assert!(matches!(viewer.workspace_access(1, Admin), Some(Err(_))));
        assert_eq!(viewer.workspace_access(2, List), None);
        let ws_admin = user(false, vec![(1, Role::Admin)]);
        assert_eq!(ws_admin.workspace_access(1, Admin), Some(Ok(())));
        let robot = Caller {
            subject: Subject::Robot {
                name: "robot$a+b".into(),
                workspace: 1,
                can_pull: true,
                can_push: false,
                space: None,
            },
            source: None,
        };
        assert_eq!(robot.workspace_access(1, List), Some(Ok(())));
        assert_eq!(robot.workspace_access(1, Push), Some(Ok(())));
        assert_eq!(robot.workspace_access(2, Push), None);
        let member_of_two = user(false, vec![(1, Role::Editor), (2, Role::Viewer)]);
        let Subject::User { memberships, .. } = member_of_two.acting_for(2) else {
            panic!("a user acts as a user")
        };
        assert_eq!(memberships, vec![(2, Role::Viewer)]);
        assert!(matches!(robot.workspace_access(1, Read), Some(Err(_))));
        assert_eq!(robot.workspace_access(2, List), None);
        assert!(robot.require_user().is_err());
        assert!(viewer.require_platform_admin().is_err());
    }

    #[test]
    fn basic_credentials() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("robot$ws+ci:s3:cret");
        assert_eq!(
            decode_basic(&encoded),
            Some(("robot$ws+ci".into(), "s3:cret".into()))
        );
        assert_eq!(decode_basic("not base64!"), None);
    }
}
