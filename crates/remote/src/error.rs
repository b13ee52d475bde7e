//! What can go wrong talking to a registry, worded for the person who configured it.
//!
//! Every variant names the request (`GET /v2/_catalog`: method and URL path, never
//! credentials or tokens) and, where there is one, the underlying cause with its chain.

/// An error from an external registry or from reaching it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// The connection could not be made: DNS, refused, TLS, reset.
    #[error("{request}: cannot reach the registry: {reason}")]
    Unreachable { request: String, reason: String },
    /// Connecting or reading took longer than the configured timeout.
    #[error("{request}: no answer within {seconds} seconds ({reason})")]
    Timeout {
        request: String,
        seconds: u64,
        reason: String,
    },
    /// The registry (or its token service) refused the configured credentials, or wants
    /// credentials and none are configured.
    #[error("{request}: {reason}")]
    Unauthorized { request: String, reason: String },
    /// The credentials were accepted but do not allow this request.
    #[error("{request}: the registry denied access (HTTP 403){detail}")]
    Forbidden { request: String, detail: String },
    /// The repository, tag, manifest or blob does not exist on the registry.
    #[error("{request}: not found on the registry (HTTP 404){detail}")]
    NotFound { request: String, detail: String },
    /// The registry does not offer its catalog (`/v2/_catalog`), as GHCR and Docker Hub do not.
    #[error(
        "{request}: the registry does not list its repositories (HTTP {status}); configure the repositories to follow instead"
    )]
    CatalogUnavailable { request: String, status: u16 },
    /// The registry answered something this client cannot use.
    #[error("{request}: unexpected answer from the registry: {reason}")]
    Protocol { request: String, reason: String },
    /// Content arrived whose digest is not the one asked for or announced.
    #[error("{request}: the content's digest is {actual}, expected {expected}")]
    DigestMismatch {
        request: String,
        expected: String,
        actual: String,
    },
    /// Content is larger than the caller allows.
    #[error("{request}: the content is larger than the limit of {limit} bytes")]
    TooLarge { request: String, limit: u64 },
    /// Any other HTTP status, after retries where the request could be retried.
    #[error("{request}: the registry answered HTTP {status}{detail}")]
    Status {
        request: String,
        status: u16,
        detail: String,
    },
    /// The caller's input cannot be sent: a repository name or reference that breaks the
    /// distribution grammar, a base URL that cannot carry paths.
    #[error("{0}")]
    Invalid(String),
}

impl RemoteError {
    /// The HTTP status behind the error, when it came from one.
    pub fn status(&self) -> Option<u16> {
        match self {
            RemoteError::Unauthorized { .. } => Some(401),
            RemoteError::Forbidden { .. } => Some(403),
            RemoteError::NotFound { .. } => Some(404),
            RemoteError::CatalogUnavailable { status, .. } | RemoteError::Status { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }
}

/// An error with its causes, e.g. `error sending request: … : Connection refused`: the
/// outermost message alone rarely says what went wrong.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // reqwest and hyper sometimes repeat their cause in their own message.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
