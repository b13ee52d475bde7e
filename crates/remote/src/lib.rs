//! Clients of external registries: HTTP, authentication, retries and the registry APIs
//! behind one [`RemoteRegistry`] trait: the OCI distribution API as CNCF Distribution serves
//! it ([`DistributionClient`]), and Harbor ([`HarborClient`]), whose REST API v2.0 adds
//! projects, repository statistics, artifacts with scan overviews and robot accounts to the
//! distribution API it also serves. Quay and GHCR may follow.
//!
//! **Architecture invariant:** this crate knows nothing of Berth's store, tenancy or access
//! rules. It is handed an [`Endpoint`] (URL, credentials, TLS settings, the repositories to
//! follow) and answers with names, digests and bytes; what is synced where, and who may see
//! it, is decided by its callers. Among Berth's crates it depends on `berth-oci` alone, for
//! digests, names and media types. Credentials and tokens are never logged, never shown by
//! `Debug`, and never part of an error message.

/// Authentication: anonymous, Basic, and the Docker token flow.
mod auth;
/// `DistributionClient`: the OCI distribution API (kinds `distribution` and `oci`).
pub mod distribution;
/// What can go wrong, worded for people.
pub mod error;
/// `HarborClient`: Harbor's REST API v2.0 beside its distribution API (kind `harbor`).
pub mod harbor;
/// `Link` and `WWW-Authenticate` header grammars.
pub mod headers;
/// The one HTTP core: a client per registry, timeouts, retries, a concurrency limit.
mod http;

use std::collections::BTreeMap;
use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use berth_oci::Digest;
use bytes::Bytes;
use futures::Stream;

pub use distribution::DistributionClient;
pub use error::{error_chain, RemoteError};
pub use harbor::HarborClient;

/// Where a registry is and how to talk to it.
#[derive(Clone)]
pub struct Endpoint {
    /// The base URL; may carry a path prefix (`https://host/prefix` → `https://host/prefix/v2/`).
    pub url: url::Url,
    pub username: Option<String>,
    /// Never logged; `Debug` shows it redacted.
    pub password: Option<String>,
    /// Accept any TLS certificate (self-signed test registries).
    pub insecure: bool,
    /// Extra trusted root certificates, PEM (one or more).
    pub ca_bundle_pem: Option<Vec<u8>>,
    /// The repositories to sync. Empty: every repository of the catalog. Entries ending in
    /// `/` are prefixes that filter the catalog; other entries name repositories directly,
    /// which works without a catalog.
    pub follow: Vec<String>,
}

impl Endpoint {
    /// An endpoint with no credentials, TLS verified, following the catalog.
    pub fn new(url: url::Url) -> Endpoint {
        Endpoint {
            url,
            username: None,
            password: None,
            insecure: false,
            ca_bundle_pem: None,
            follow: Vec::new(),
        }
    }

    /// The same endpoint with Basic credentials.
    pub fn with_credentials(mut self, username: &str, password: &str) -> Endpoint {
        self.username = Some(username.to_string());
        self.password = Some(password.to_string());
        self
    }

    /// The same endpoint following `follow` (see [`Endpoint::follow`]).
    pub fn with_follow<S: Into<String>>(mut self, follow: impl IntoIterator<Item = S>) -> Endpoint {
        self.follow = follow.into_iter().map(Into::into).collect();
        self
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url.as_str())
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("insecure", &self.insecure)
            .field(
                "ca_bundle_pem",
                &self.ca_bundle_pem.as_ref().map(|pem| pem.len()),
            )
            .field("follow", &self.follow)
            .finish()
    }
}

/// How hard to try.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Time to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of an answer (not for the whole answer, so large
    /// blobs are fine).
    pub read_timeout: Duration,
    /// Requests in flight to this registry at once, including ones whose body is being read.
    pub max_concurrency: usize,
    /// Further attempts after the first for GET and HEAD on 429, 500, 502, 503, 504 and
    /// connection errors.
    pub retries: u32,
    /// The first backoff step; attempt `n` waits a random time in `[0, base · 2ⁿ]` (full
    /// jitter), capped by `max_backoff`, unless the registry sent `Retry-After`.
    pub backoff_base: Duration,
    pub max_backoff: Duration,
    /// `page_size` for Harbor's REST listings, where the API allows at most 100, and `n` for
    /// catalog and tag pages of a registry that refuses `list_page_size`.
    pub page_size: usize,
    /// `n` for catalog and tag pages. Distribution walks its storage from the start for every
    /// catalog page, so a listing costs about the square of its page count: 1,000, its default
    /// cap (`catalog.maxentries`), lists 10,000 repositories in a tenth of the time 100 takes.
    pub list_page_size: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
            max_concurrency: 8,
            retries: 4,
            backoff_base: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            page_size: 100,
            list_page_size: 1000,
        }
    }
}

/// A content descriptor as a registry reports it (manifest HEAD, referrers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    /// Referrers only: the artifact's type (`artifactType`).
    pub artifact_type: Option<String>,
    /// Referrers only: the artifact's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// A manifest as fetched, with its digest checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    /// The exact bytes, whose digest is `digest`.
    pub bytes: Bytes,
    /// From `Content-Type`, or the body's `mediaType` when the header is missing or generic.
    pub media_type: String,
    pub digest: Digest,
}

impl FetchedManifest {
    /// Parses and validates the manifest with Berth's grammar.
    pub fn parse(&self) -> Result<berth_oci::Manifest, berth_oci::ManifestError> {
        berth_oci::Manifest::parse(Some(&self.media_type), &self.bytes)
    }
}

/// A blob's bytes as they arrive, for a pull-through proxy.
///
/// The stream checks the digest as it goes: when the bytes end and do not match, or there are
/// more or fewer than announced, its last item is an error ([`RemoteError::DigestMismatch`]),
/// so a proxy that forwards chunks can abort the download instead of finishing it.
pub struct BlobStream {
    /// `Content-Length`, when the registry sent it.
    pub length: Option<u64>,
    pub stream: Pin<Box<dyn Stream<Item = Result<Bytes, RemoteError>> + Send>>,
}

impl fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStream")
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// How a registry's repositories are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// Every repository of the catalog.
    Catalog,
    /// The configured follow list: names used directly, and prefixes that filter the catalog.
    Followed {
        repositories: usize,
        prefixes: usize,
    },
}

/// How the registry let us in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    /// No credentials asked for.
    Anonymous,
    /// HTTP Basic on every request.
    Basic,
    /// Docker token flow (bearer tokens from the registry's token service), with or without
    /// configured credentials.
    Token,
}

/// What a successful [`RemoteRegistry::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub listing: Listing,
    pub authentication: Authentication,
    /// `Docker-Distribution-API-Version` from `/v2/`, e.g. `registry/2.0`.
    pub api_version: Option<String>,
}

/// A client of one external registry. Every kind (Distribution, OCI, Harbor, later Quay,
/// GHCR) implements it; callers hold it as `Arc<dyn RemoteRegistry>`.
#[async_trait]
pub trait RemoteRegistry: Send + Sync {
    /// Reaches `/v2/` with the configured credentials and checks that the repositories can be
    /// listed as configured (the catalog, unless only repository names are followed).
    async fn check(&self) -> Result<CheckReport, RemoteError>;
    /// The repositories to sync, as configured by the endpoint's follow list.
    async fn repositories(&self) -> Result<Vec<String>, RemoteError>;
    /// Every tag of `repository`, across pages.
    async fn tags(&self, repository: &str) -> Result<Vec<String>, RemoteError>;
    /// `HEAD` of a manifest: its digest, media type and size; `None` when it does not exist.
    async fn manifest_digest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<Descriptor>, RemoteError>;
    /// A manifest's bytes, media type and digest. Asked by digest, the bytes are checked
    /// against it; asked by tag, against `Docker-Content-Digest` when the registry sends it,
    /// and the digest is computed from the bytes otherwise.
    async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<FetchedManifest, RemoteError>;
    /// A whole blob of at most `max_bytes`, its digest checked.
    async fn blob(
        &self,
        repository: &str,
        digest: &Digest,
        max_bytes: u64,
    ) -> Result<Bytes, RemoteError>;
    /// A blob as a stream (see [`BlobStream`]).
    async fn blob_stream(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<BlobStream, RemoteError>;
    /// The manifests whose `subject` is `digest`: the referrers API, or where the registry
    /// lacks it, the index tagged `sha256-<hex>` (the spec's tag schema); empty when neither
    /// has any.
    async fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Vec<Descriptor>, RemoteError>;
}
