//! The registry's errors and their mapping to the OCI error envelope. Every variant names its
//! spec code and status here and nowhere else.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_blobs::BlobError;
use berth_oci::{DigestError, ManifestError, NameError};
use berth_store::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("blob unknown to registry")]
    BlobUnknown,
    #[error("blob upload invalid: {0}")]
    BlobUploadInvalid(String),
    /// An upload chunk out of order: 416 with the session's current range.
    #[error("requested range not satisfiable: {message}")]
    RangeNotSatisfiable {
        message: String,
        /// The headers that let the client resynchronise: the session's `Location` and the
        /// `Range` it holds.
        headers: Vec<(header::HeaderName, String)>,
    },
    /// A blob read whose byte range starts past the end of the blob's `size` bytes: 416
    /// with `Content-Range: bytes */<size>`, as RFC 9110 section 15.5.17 asks.
    #[error("requested range not satisfiable: {message}")]
    BlobRangeUnsatisfiable { message: String, size: u64 },
    #[error("blob upload unknown to registry")]
    BlobUploadUnknown,
    #[error("{0}")]
    DigestInvalid(String),
    #[error("manifest references unknown blobs or manifests: {}", .0.join(", "))]
    ManifestBlobUnknown(Vec<String>),
    #[error("{0}")]
    ManifestInvalid(String),
    #[error("manifest is larger than the 4 MiB limit")]
    ManifestTooLarge,
    #[error("{0}")]
    ManifestUnknown(String),
    #[error("{0}")]
    NameInvalid(String),
    #[error("repository name not known to registry")]
    NameUnknown,
    /// The repository's space does not exist; the message says so and what to do.
    #[error("{0}")]
    SpaceUnknown(String),
    #[error("{0}")]
    SizeInvalid(String),
    #[error("authentication required")]
    Unauthorized { challenge: String },
    /// The access rule refuses; the message says why (no such space, no right to it).
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    Unsupported(String),
    /// A method the route does not support; `allow` lists those it does, for the `Allow`
    /// header every 405 must carry (RFC 9110 15.5.6).
    #[error("the operation is not allowed on this resource")]
    MethodNotAllowed { allow: String },
    /// A proxied registry could not answer and Berth holds no copy: 502. The message names
    /// the registry, never its address or the upstream's words.
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl RegistryError {
    fn code_and_status(&self) -> (&'static str, StatusCode) {
        use RegistryError::*;
        match self {
            BlobUnknown => ("BLOB_UNKNOWN", StatusCode::NOT_FOUND),
            BlobUploadInvalid(_) => ("BLOB_UPLOAD_INVALID", StatusCode::BAD_REQUEST),
            RangeNotSatisfiable { .. } => {
                ("BLOB_UPLOAD_INVALID", StatusCode::RANGE_NOT_SATISFIABLE)
            }
            // The OCI Distribution Spec lists no code for a read outside a blob, and its
            // upload codes describe an upload. This follows CNCF Distribution, whose error
            // registry (registry/api/v2/errors.go) defines `RANGE_INVALID`, "invalid content
            // range", as its 416 answer; its blob GET answers such a range with 416 and
            // `Content-Range: bytes */<size>` (Go's http.ServeContent), which Berth sends too.
            BlobRangeUnsatisfiable { .. } => ("RANGE_INVALID", StatusCode::RANGE_NOT_SATISFIABLE),
            BlobUploadUnknown => ("BLOB_UPLOAD_UNKNOWN", StatusCode::NOT_FOUND),
            DigestInvalid(_) => ("DIGEST_INVALID", StatusCode::BAD_REQUEST),
            ManifestBlobUnknown(_) => ("MANIFEST_BLOB_UNKNOWN", StatusCode::BAD_REQUEST),
            ManifestInvalid(_) => ("MANIFEST_INVALID", StatusCode::BAD_REQUEST),
            ManifestTooLarge => ("MANIFEST_INVALID", StatusCode::PAYLOAD_TOO_LARGE),
            ManifestUnknown(_) => ("MANIFEST_UNKNOWN", StatusCode::NOT_FOUND),
            NameInvalid(_) => ("NAME_INVALID", StatusCode::BAD_REQUEST),
            NameUnknown | SpaceUnknown(_) => ("NAME_UNKNOWN", StatusCode::NOT_FOUND),
            SizeInvalid(_) => ("SIZE_INVALID", StatusCode::BAD_REQUEST),
            Unauthorized { .. } => ("UNAUTHORIZED", StatusCode::UNAUTHORIZED),
            Denied(_) => ("DENIED", StatusCode::FORBIDDEN),
            Unsupported(_) => ("UNSUPPORTED", StatusCode::BAD_REQUEST),
            MethodNotAllowed { .. } => ("UNSUPPORTED", StatusCode::METHOD_NOT_ALLOWED),
            // Distribution's own pull-through cache answers an unreachable upstream with
            // `UNAVAILABLE`; as a gateway Berth says so with 502.
            Upstream(_) => ("UNAVAILABLE", StatusCode::BAD_GATEWAY),
            Internal(_) => ("UNKNOWN", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let (code, status) = self.code_and_status();
        let message = match &self {
            RegistryError::Internal(error) => {
                // The cause is for the operator's log only; clients learn nothing internal.
                tracing::error!(error = format!("{error:#}"), "registry request failed");
                "internal server error".to_string()
            }
            other => other.to_string(),
        };
        let detail = match &self {
            RegistryError::ManifestBlobUnknown(digests) => json!({ "digests": digests }),
            _ => serde_json::Value::Null,
        };
        let mut response = (
            status,
            Json(json!({"errors": [{"code": code, "message": message, "detail": detail}]})),
        )
            .into_response();
        let headers = response.headers_mut();
        match self {
            RegistryError::Unauthorized { challenge } => {
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            RegistryError::MethodNotAllowed { allow } => {
                if let Ok(value) = HeaderValue::from_str(&allow) {
                    headers.insert(header::ALLOW, value);
                }
            }
            RegistryError::RangeNotSatisfiable { headers: extra, .. } => {
                for (name, value) in extra {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        headers.insert(name, value);
                    }
                }
            }
            RegistryError::BlobRangeUnsatisfiable { size, .. } => {
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    headers.insert(header::CONTENT_RANGE, value);
                }
            }
            _ => {}
        }
        headers.insert(
            "Docker-Distribution-API-Version",
            HeaderValue::from_static("registry/2.0"),
        );
        response
    }
}

impl From<NameError> for RegistryError {
    fn from(error: NameError) -> RegistryError {
        match error {
            NameError::InvalidName(m) => {
                RegistryError::NameInvalid(format!("invalid repository name: {m}"))
            }
            NameError::InvalidTag(m) => RegistryError::ManifestInvalid(format!("invalid tag: {m}")),
            NameError::InvalidDigest(e) => e.into(),
        }
    }
}

impl From<DigestError> for RegistryError {
    fn from(error: DigestError) -> RegistryError {
        match error {
            DigestError::Invalid(m) => RegistryError::DigestInvalid(format!("invalid digest: {m}")),
            DigestError::UnsupportedAlgorithm(_) => RegistryError::Unsupported(error.to_string()),
        }
    }
}

impl From<ManifestError> for RegistryError {
    fn from(error: ManifestError) -> RegistryError {
        match error {
            ManifestError::Invalid(_) => RegistryError::ManifestInvalid(error.to_string()),
            ManifestError::Unsupported(_) => RegistryError::Unsupported(error.to_string()),
            ManifestError::TooLarge(_) => RegistryError::ManifestTooLarge,
        }
    }
}

impl From<StoreError> for RegistryError {
    fn from(error: StoreError) -> RegistryError {
        match error {
            StoreError::MissingReferences(digests) => RegistryError::ManifestBlobUnknown(digests),
            StoreError::Missing(m) => {
                RegistryError::Internal(anyhow::anyhow!("unexpected missing reference: {m}"))
            }
            StoreError::Conflict(m) => {
                RegistryError::Internal(anyhow::anyhow!("unexpected conflict: {m}"))
            }
            StoreError::BadUrl(_) | StoreError::Database(_) | StoreError::Migrate(_) => {
                RegistryError::Internal(error.into())
            }
        }
    }
}

impl From<BlobError> for RegistryError {
    fn from(error: BlobError) -> RegistryError {
        match error {
            BlobError::UploadUnknown => RegistryError::BlobUploadUnknown,
            BlobError::DigestMismatch { .. } => RegistryError::DigestInvalid(error.to_string()),
            BlobError::OutOfOrder { .. } => RegistryError::BlobUploadInvalid(error.to_string()),
            BlobError::Body(_) => RegistryError::BlobUploadInvalid(error.to_string()),
            BlobError::Io(e) => {
                RegistryError::Internal(anyhow::Error::from(e).context("blob storage"))
            }
        }
    }
}
