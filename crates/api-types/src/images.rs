//! The workspace image list, image details (repositories, tags, artifacts) and the image
//! selector.

use serde::{Deserialize, Serialize};

/// One repository of a workspace's image list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageRow {
    pub registry: String,
    /// `hosted`, `harbor`, `distribution` or `oci`.
    pub registry_kind: String,
    pub space: String,
    /// The path inside the registry, space first (`team-a/api`).
    pub repository: String,
    /// Pullable, with host: `<registry host>/<repository>`.
    pub reference: String,
    /// `public` or `private`.
    pub visibility: String,
    /// Why the workspace sees it: any of `public`, `bound`, `workspace-registry`.
    pub sources: Vec<String>,
    pub tag_count: i64,
    pub latest_tag: Option<String>,
    /// Time of the last push (RFC 3339).
    pub pushed_at: Option<String>,
    /// The [size](ArtifactView::size) of the artifact the latest tag points at.
    pub size: Option<i64>,
    pub pulls: i64,
    /// Markdown.
    #[serde(default)]
    pub description: String,
    /// The scan of the artifact the latest tag points at; null when it has no tag.
    #[serde(default)]
    pub scan: Option<crate::ScanSummary>,
}

/// The filters and order of `GET /workspaces/{ws}/images`; paging is [`crate::ListParams`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ImageFilters {
    /// Case-insensitive substring of the repository path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Case-insensitive substring of a tag name: repositories with a matching tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Registry name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// Space name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    /// `public` or `private`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// `public`, `bound` or `workspace-registry`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Only repositories whose latest tag's last scan found this severity or worse:
    /// `critical`, `high`, `medium`, `low`, `none` or `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<String>,
    /// `name` (default), `pushed_at`, `pulls`, `size` or `severity` (the highest severity
    /// the latest tag's scan found; unscanned and clean repositories last).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// `asc` or `desc`; default `asc` for `name`, `desc` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
}

/// An image's platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlatformView {
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
}

/// One tag with the artifact it points at.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagView {
    pub name: String,
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    /// Null when the registry does not say (Distribution and plain OCI registries).
    pub pushed_at: Option<String>,
    pub pulled_at: Option<String>,
    /// The [size](ArtifactView::size) of the artifact.
    pub size: i64,
    pub platforms: Vec<PlatformView>,
    pub pushed_by: Option<String>,
    /// Pulls of the artifact the tag points at.
    pub pulls: i64,
    /// The scan of the artifact the tag points at.
    #[serde(default)]
    pub scan: Option<crate::ScanSummary>,
}

/// The search and order of `GET …/repositories/{repo}/tags`; paging is [`crate::ListParams`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct TagFilters {
    /// Case-insensitive substring of the tag name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// `pushed_at` (default, newest first) or `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

/// A repository's page: the list row plus what only the detail page shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryView {
    #[serde(flatten)]
    pub row: ImageRow,
    pub created_at: String,
    pub artifact_count: i64,
    /// `docker pull` of the latest tag.
    pub pull_command: Option<String>,
    /// What the caller may do here: `edit` (the description), `delete`.
    pub permissions: Vec<String>,
    /// The description rendered from Markdown to sanitised HTML: raw HTML in the Markdown shows
    /// as text, and links keep only `http`, `https` and `mailto` URLs.
    #[serde(default)]
    pub description_html: String,
}

/// `PATCH …/repositories/{repo}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RepositoryPatch {
    /// Markdown, up to 64 KiB.
    pub description: String,
}

/// The guard of a repository delete.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ConfirmParams {
    /// Must repeat the repository path, as a guard against deleting the wrong one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm: Option<String>,
}

/// An image's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigView {
    pub created: Option<String>,
    pub author: Option<String>,
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: Option<String>,
    pub exposed_ports: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub labels: serde_json::Map<String, serde_json::Value>,
}

/// A layer with the build step that made it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayerView {
    pub digest: String,
    pub media_type: String,
    /// Compressed size in bytes.
    pub size: i64,
    /// The history line (`created_by`) of the build step that made the layer.
    pub created_by: Option<String>,
    pub created: Option<String>,
}

/// One entry of an image's history, in order; `empty_layer` steps made no layer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryView {
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub author: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

/// A manifest an index points at.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildView {
    pub digest: String,
    pub media_type: String,
    /// Bytes of the child manifest itself, as the index's descriptor gives it.
    pub size: i64,
    pub platform: PlatformView,
}

/// An artifact whose `subject` is this one (a signature, an SBOM).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferrerView {
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub size: i64,
}

/// Lines that pull the artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullCommands {
    /// By the first tag; null when untagged.
    pub by_tag: Option<String>,
    pub by_digest: String,
}

/// One artifact (manifest) with everything known about it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArtifactView {
    pub registry: String,
    pub repository: String,
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    /// An image's size, the one figure every answer gives for it: the bytes of its manifest,
    /// its config and its layers; for an index, of the index and each child image's size.
    pub size: i64,
    pub platforms: Vec<PlatformView>,
    pub children: Vec<ChildView>,
    pub config: Option<ConfigView>,
    pub layers: Vec<LayerView>,
    pub history: Vec<HistoryView>,
    pub tags: Vec<String>,
    pub pushed_by: Option<String>,
    /// Null when the registry does not say (Distribution and plain OCI registries).
    pub pushed_at: Option<String>,
    pub pull_count: i64,
    pub pulled_at: Option<String>,
    pub referrers: Vec<ReferrerView>,
    pub pull_command: PullCommands,
    /// The manifest as stored, parsed.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub manifest: serde_json::Value,
    /// The scan of this artifact; for an index, the union of its images' scans.
    #[serde(default)]
    pub scan: Option<crate::ScanSummary>,
}

/// The search of `GET /workspaces/{ws}/selector`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SelectorParams {
    /// Substring of the repository path, optionally `repo:tag` to match tags too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// References to return, 1–100 (default 20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// A deployable image.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SelectorItem {
    pub registry: String,
    pub repository: String,
    pub tag: String,
    /// By tag: `<host>/<repository>:<tag>`.
    pub reference: String,
    /// Pinned by digest: `<host>/<repository>@sha256:…`.
    pub pinned: String,
    pub digest: String,
    pub platforms: Vec<PlatformView>,
    /// Whether pulling needs credentials (`POST /workspaces/{ws}/pull-secret` makes them).
    pub needs_pull_secret: bool,
    /// Null when the registry does not tell push times (Distribution, plain OCI).
    pub pushed_at: Option<String>,
    /// The [size](ArtifactView::size) of the artifact.
    pub size: i64,
    /// The artifact's scan, to tell a vulnerable image before deploying it.
    #[serde(default)]
    pub scan: Option<crate::ScanSummary>,
}

/// The answer of the selector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SelectorAnswer {
    pub items: Vec<SelectorItem>,
}
