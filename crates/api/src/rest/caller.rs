//! Who is calling, and what they may do: the authentication extractor, the authorization
//! checks (one function per kind of resource), and the audit event a caller's change writes.
//!
//! The subject is loaded fresh from the store on every request, so a disabled user, a
//! removed member or a deleted robot loses access on their very next request, even with a
//! session token that has not expired.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use berth_access::rest::{self, Decision, PlatformNeed};
use berth_access::Subject;
use berth_identity::principals;
use berth_store::audit::OwnedAuditEvent;
use berth_store::tenancy::WorkspaceRecord;

use super::error::ApiError;
use crate::ApiState;

pub use berth_access::WorkspaceNeed;

/// An authenticated caller: a user or a robot, never anonymous.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: Subject,
    /// The client's IP address, for the audit log.
    pub source: Option<String>,
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Caller, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let (scheme, credentials) = header.split_once(' ').ok_or(ApiError::Unauthorized)?;
        let credentials = credentials.trim();
        let subject = if scheme.eq_ignore_ascii_case("bearer") {
            state
                .sessions
                .subject(&state.store, &state.tokens, credentials)
                .await?
        } else if scheme.eq_ignore_ascii_case("basic") {
            let (name, password) =
                berth_http::decode_basic(credentials).ok_or(ApiError::Unauthorized)?;
            // Credentials that do not check out are answered as `/auth/login` answers them.
            let signed_in =
                principals::authenticate(&state.store, &state.passwords, &name, &password)
                    .await?
                    .ok_or(ApiError::BadCredentials)?;
            Some(signed_in.subject)
        } else {
            None
        };
        let subject = subject
            .filter(|s| *s != Subject::Anonymous)
            .ok_or(ApiError::Unauthorized)?;
        let source = berth_http::client_address(&parts.extensions);
        Ok(Caller { subject, source })
    }
}

impl Caller {
    pub fn name(&self) -> &str {
        self.subject.name()
    }

    /// Platform-wide changes and reads (users, settings, the whole audit log, platform
    /// registries' configuration) are for platform admins.
    pub fn require_platform_admin(&self) -> Result<(), ApiError> {
        Ok(rest::platform(&self.subject, PlatformNeed::Admin)?)
    }

    /// Robots are for registry clients: beyond `/me`, they may only read lists of their own
    /// workspace.
    pub fn require_user(&self) -> Result<(), ApiError> {
        Ok(rest::platform(&self.subject, PlatformNeed::Person)?)
    }

    /// Loads workspace `name` and checks `need` on it. A workspace the caller may not see
    /// answers exactly like a missing one.
    pub async fn workspace(
        &self,
        state: &ApiState,
        name: &str,
        need: WorkspaceNeed,
    ) -> Result<WorkspaceRecord, ApiError> {
        let not_found = || ApiError::not_found(format_args!("workspace `{name}`"));
        let workspace = state
            .sessions
            .workspace(&state.store, name)
            .await?
            .ok_or_else(not_found)?;
        match rest::workspace(&self.subject, workspace.id, need) {
            Decision::Allowed => Ok(workspace),
            Decision::Refused(refusal) => Err(refusal.into()),
            Decision::Hidden => Err(not_found()),
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
            at: None,
            actor: self.name().to_string(),
            action: action.to_string(),
            target: target.into(),
            workspace: workspace.map(str::to_string),
            source: self.source.clone(),
            detail: (!detail.is_null()).then(|| detail.to_string()),
        }
    }
}
