//! What the client's calls take besides the API's own shapes (which are `berth-api-types`,
//! re-exported at the crate root).

use berth_api_types::UploadParams;

/// Where `POST /workspaces/{ws}/registries/hosted/spaces/{space}/uploads` puts a tarball.
#[derive(Debug, Clone, Default)]
pub struct UploadTarget {
    /// The workspace the caller pushes for.
    pub workspace: String,
    /// The hosted space.
    pub space: String,
    /// The repository and tag inside the space; each defaults to what the tarball names.
    pub params: UploadParams,
}
