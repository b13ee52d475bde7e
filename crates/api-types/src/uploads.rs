//! Importing `docker save` and OCI layout tarballs into the hosted registry.

use serde::{Deserialize, Serialize};

/// Where in the space an uploaded tarball goes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UploadParams {
    /// The repository inside the space (`app` or `tools/app`, stored as `<space>/app`);
    /// default: the name the tarball gives (docker `RepoTags`, or the OCI
    /// `org.opencontainers.image.ref.name` annotation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The tag; default: the tarball's tag, then `latest`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// The imported image.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Upload {
    /// The repository, with its space: `team/app`.
    pub repository: String,
    pub tag: String,
    /// The digest of the stored manifest (or index).
    pub digest: String,
    pub media_type: String,
    /// The image's [size](crate::ArtifactView::size), as the image list and details give it.
    pub size: i64,
    /// Pullable: `<registry host>/<repository>:<tag>`.
    pub reference: String,
}
