//! The body of every error answer: `{"error": {"code", "message"}}`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// One of `invalid`, `unauthorized`, `forbidden`, `not_found`, `conflict`, `too_large`,
    /// `internal`.
    #[cfg_attr(feature = "openapi", schema(example = "not_found"))]
    pub code: String,
    /// A sentence for people.
    pub message: String,
}
