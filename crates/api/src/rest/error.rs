//! The one error type of the REST API and its mapping to statuses and the
//! `{"error": {"code", "message"}}` body.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_api_types::{ErrorBody, ErrorDetail};
use berth_store::StoreError;
use utoipa::IntoResponses;

/// Every way an API request fails. The message of each client error is a sentence naming
/// what was wrong; internal errors keep their cause for the log only.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A bad name, role, body or parameter; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// No credentials, or credentials that do not check out.
    #[error("authentication required: sign in, or send a session token or Basic credentials")]
    Unauthorized,
    /// A sign-in whose username and password (or robot name and secret) match no account.
    #[error("incorrect username or password")]
    BadCredentials,
    /// The caller may see the resource but may not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// Missing, or invisible to the caller: the two answer alike so that another workspace's
    /// private resources cannot be discovered by probing names.
    #[error("{0}")]
    NotFound(String),
    /// A duplicate name, or a change the platform refuses (deleting `hosted`).
    #[error("{0}")]
    Conflict(String),
    /// A request body over the endpoint's limit (tarball uploads).
    #[error("{0}")]
    TooLarge(String),
    /// A registry Berth had to change first (creating a Harbor project) refused or did not
    /// answer; the message says which and why, without credentials.
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// The answer for a resource that does not exist or that the caller may not see.
    pub fn not_found(what: impl std::fmt::Display) -> ApiError {
        ApiError::NotFound(format!("{what} not found"))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            ApiError::Unauthorized | ApiError::BadCredentials => {
                (StatusCode::UNAUTHORIZED, "unauthorized")
            }
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// The error answers any endpoint may give, listed once for the OpenAPI document. It only
/// describes responses (handlers answer [`ApiError`]), so its variants are never built.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ErrorResponses {
    /// A bad name, role, body or parameter; the message names the field.
    #[response(status = 400)]
    Invalid(ErrorBody),
    /// No or bad credentials; carries `WWW-Authenticate: Bearer realm="berth"`.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Signed in, but not allowed to do this.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Missing, or not visible to the caller.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// A duplicate name, or a change that is refused.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Something failed on the server; details are in its log only.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// A registry Berth had to change first refused or did not answer.
    #[response(status = 502)]
    Upstream(ErrorBody),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            ApiError::Internal(error) => {
                // The cause may hold SQL, paths or addresses; it goes to the log, and the
                // client learns only that the server failed.
                tracing::error!(error = format!("{error:#}"), "API request failed");
                "internal server error; see the server log".to_string()
            }
            other => other.to_string(),
        };
        let body = axum::Json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message,
            },
        });
        if status == StatusCode::UNAUTHORIZED {
            let challenge = [(header::WWW_AUTHENTICATE, r#"Bearer realm="berth""#)];
            return (status, challenge, body).into_response();
        }
        (status, body).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Conflict(message) => ApiError::Conflict(message),
            // A change named something that does not exist (a binding to an unknown
            // workspace): the request was wrong, and the message names what is missing.
            StoreError::Missing(message) => ApiError::Invalid(message),
            error @ (StoreError::MissingReferences(_)
            | StoreError::BadUrl(_)
            | StoreError::Database(_)
            | StoreError::Migrate(_)) => ApiError::Internal(error.into()),
        }
    }
}

impl From<berth_sync::SyncError> for ApiError {
    fn from(error: berth_sync::SyncError) -> ApiError {
        use berth_sync::SyncError;
        match error {
            SyncError::Hosted => ApiError::Conflict(error.to_string()),
            SyncError::Store(e) => e.into(),
            // berth-remote's messages name the request and never carry credentials.
            SyncError::Remote(message) => ApiError::Upstream(message),
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<crate::import::ImportError> for ApiError {
    fn from(error: crate::import::ImportError) -> ApiError {
        use crate::import::ImportError;
        match error {
            ImportError::Invalid(message) => ApiError::Invalid(message),
            ImportError::TooLarge(message) => ApiError::TooLarge(message),
            ImportError::Internal(error) => ApiError::Internal(error),
        }
    }
}

impl From<berth_scanner::ScanError> for ApiError {
    fn from(error: berth_scanner::ScanError) -> ApiError {
        match error {
            berth_scanner::ScanError::Store(error) => error.into(),
        }
    }
}

impl From<berth_access::Refusal> for ApiError {
    fn from(refusal: berth_access::Refusal) -> ApiError {
        ApiError::Forbidden(refusal.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        ApiError::Invalid(format!("request body: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::Invalid(format!("query parameters: {}", rejection.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::Invalid(format!("path: {}", rejection.body_text()))
    }
}
