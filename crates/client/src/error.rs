//! The client's one error type.

/// Everything a call can fail with. The server's own errors keep its HTTP status, code and
/// message, so callers can branch on `code()` and show `message` to a person unchanged.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status. `code` and `message` come from its
    /// `{"error":{"code","message"}}` body; when the body is not that envelope (a proxy's page,
    /// or a route the server does not have), they are derived from the status instead.
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// The request never got an answer: connection refused, DNS, TLS, timeout.
    #[error("cannot reach {url}: {reason}")]
    Transport { url: String, reason: String },
    /// The server answered success with a body that does not have the contract's shape.
    #[error("unexpected answer from {url}: {reason}")]
    Decode { url: String, reason: String },
    /// The request could not be built: a bad server URL or a name that cannot be a path segment.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The HTTP status of a server error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The contract's error code (`invalid`, `unauthorized`, `not_found`, `conflict`, …).
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Builds the error for a non-success answer from its status and body.
    pub(crate) fn from_answer(status: reqwest::StatusCode, body: &[u8]) -> Error {
        match serde_json::from_slice::<berth_api_types::ErrorBody>(body) {
            Ok(berth_api_types::ErrorBody { error }) => Error::Api {
                status: status.as_u16(),
                code: error.code,
                message: error.message,
            },
            // Without the envelope there is no message meant for people, so say what happened
            // in terms of HTTP; a 404 here usually means the server is older than the client.
            Err(_) => Error::Api {
                status: status.as_u16(),
                code: format!("http_{}", status.as_u16()),
                message: format!(
                    "the server answered {status} without an error description{}",
                    if status == reqwest::StatusCode::NOT_FOUND {
                        " (is this a Berth server, and does it have this endpoint?)"
                    } else {
                        ""
                    }
                ),
            },
        }
    }

    /// Builds the error for a request that got no answer. reqwest's own message is generic
    /// ("error sending request"), so the innermost cause is what tells a person what to fix.
    pub(crate) fn transport(url: &str, error: &reqwest::Error) -> Error {
        let mut cause: &dyn std::error::Error = error;
        while let Some(next) = cause.source() {
            cause = next;
        }
        Error::Transport {
            url: url.to_string(),
            reason: cause.to_string(),
        }
    }
}

/// The result of every client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;
