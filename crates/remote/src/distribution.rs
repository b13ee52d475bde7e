//! The OCI distribution API, as CNCF Distribution (registry kinds `distribution` and `oci`)
//! and every other registry serve it under `/v2/`.

use std::collections::{BTreeMap, HashSet};
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use berth_oci::media_types::{self as mt, essence};
use berth_oci::{Digest, Digester, Reference, RepoName, MAX_MANIFEST_BYTES};
use bytes::Bytes;
use futures::Stream;
use reqwest::{Method, StatusCode};
use url::Url;

use crate::auth::Session;
use crate::error::RemoteError;
use crate::headers::next_link;
use crate::http::{body_error, Answer};
use crate::{
    BlobStream, CheckReport, Descriptor, Endpoint, FetchedManifest, Listing, RemoteRegistry,
    Settings,
};

/// Catalog and tag pages are JSON lists of names; 64 MiB holds a million long names.
const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;
/// More pages than this is a registry paging wrongly rather than a big registry.
const MAX_PAGES: usize = 100_000;

/// `Accept` for manifests: OCI and Docker schema 2, images and indexes.
fn manifest_accept() -> String {
    mt::MANIFEST_TYPES.join(", ")
}

/// The follow list, parsed: repository names and catalog prefixes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Follow {
    pub repositories: Vec<String>,
    /// Each ends in `/`.
    pub prefixes: Vec<String>,
}

impl Follow {
    fn parse(entries: &[String]) -> Result<Follow, RemoteError> {
        let mut follow = Follow::default();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let name = entry.strip_suffix('/').unwrap_or(entry);
            RepoName::parse(name).map_err(|e| {
                RemoteError::Invalid(format!("the repository to follow `{entry}`: {e}"))
            })?;
            if entry.ends_with('/') {
                follow.prefixes.push(entry.to_string());
            } else {
                follow.repositories.push(entry.to_string());
            }
        }
        Ok(follow)
    }

    pub fn is_empty(&self) -> bool {
        self.repositories.is_empty() && self.prefixes.is_empty()
    }

    /// How `check` reports this list.
    pub fn listing(&self) -> Listing {
        if self.is_empty() {
            Listing::Catalog
        } else {
            Listing::Followed {
                repositories: self.repositories.len(),
                prefixes: self.prefixes.len(),
            }
        }
    }
}

/// A client of one registry that speaks the OCI distribution API.
pub struct DistributionClient {
    /// The base URL, ending in `/`, without credentials.
    base: Url,
    follow: Follow,
    session: Session,
}

impl std::fmt::Debug for DistributionClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistributionClient")
            .field("base", &self.base.as_str())
            .field("follow", &self.follow)
            .finish_non_exhaustive()
    }
}

impl DistributionClient {
    /// A client of `endpoint`. Fails only on configuration that can never work: a URL that is
    /// not HTTP(S), a follow entry that is not a repository name, a CA bundle that is not PEM.
    /// Credentials written into the URL (`https://user:pass@host`) are taken out of it and
    /// used unless the endpoint names others.
    pub fn new(endpoint: Endpoint, settings: Settings) -> Result<DistributionClient, RemoteError> {
        let mut endpoint = endpoint;
        if !matches!(endpoint.url.scheme(), "http" | "https") || endpoint.url.host().is_none() {
            return Err(RemoteError::Invalid(format!(
                "the registry URL must be http:// or https:// with a host, not `{}://…`",
                endpoint.url.scheme()
            )));
        }
        if !endpoint.url.username().is_empty() {
            if endpoint.username.is_none() {
                endpoint.username = Some(percent_decode(endpoint.url.username()));
                endpoint.password = endpoint.url.password().map(percent_decode);
            }
            let _ = endpoint.url.set_username("");
            let _ = endpoint.url.set_password(None);
        }
        let mut base = endpoint.url.clone();
        base.set_query(None);
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        endpoint.url = base.clone();
        Ok(DistributionClient {
            follow: Follow::parse(&endpoint.follow)?,
            session: Session::new(&endpoint, &settings)?,
            base,
        })
    }

    fn settings(&self) -> &Settings {
        self.session.http().settings()
    }

    /// The base URL, ending in `/`, without credentials: where other APIs of the same
    /// registry (Harbor's `/api/v2.0/`) are found.
    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// The session, so that other APIs of the same registry share its HTTP core (one
    /// connection pool, one concurrency limit) and its credentials.
    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    pub(crate) fn follow(&self) -> &Follow {
        &self.follow
    }

    /// `GET /v2/` with the configured credentials; the `Docker-Distribution-API-Version` it
    /// answers with.
    pub(crate) async fn api_version(&self) -> Result<Option<String>, RemoteError> {
        let answer = self.ping().await?;
        Ok(answer
            .header("docker-distribution-api-version")
            .map(str::to_string))
    }

    /// `<base>v2/<path>`; `path` has been checked against the name grammar by the caller.
    fn url(&self, path: &str) -> Url {
        self.base
            .join(&format!("v2/{path}"))
            .expect("a checked path joins onto an http(s) base")
    }

    fn repository_scope(repository: &RepoName) -> String {
        format!("repository:{repository}:pull")
    }

    async fn get(
        &self,
        method: Method,
        url: &Url,
        accept: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Answer, RemoteError> {
        self.session.send(method, url, accept, scope).await
    }

    /// `GET /v2/`: whether the API is there and lets us in.
    async fn ping(&self) -> Result<Answer, RemoteError> {
        let answer = self.get(Method::GET, &self.url(""), None, None).await?;
        match answer.status().as_u16() {
            200..=299 => Ok(answer),
            404 => Err(RemoteError::Protocol {
                request: answer.request.clone(),
                reason: "no registry API here (HTTP 404); check the URL".into(),
            }),
            _ => Err(answer.into_error().await),
        }
    }

    /// Every repository of the catalog. 401 (when `/v2/` itself lets us in), 403 and 404 mean
    /// the registry does not offer it: [`RemoteError::CatalogUnavailable`].
    async fn catalog(&self) -> Result<Vec<String>, RemoteError> {
        let url = self.url("_catalog");
        match self
            .paged(url, "repositories", Some("registry:catalog:*"))
            .await
        {
            Ok(names) => Ok(names),
            Err(RemoteError::Unauthorized { request, .. }) => {
                // A wrong password also fails here; tell it from a catalog kept from
                // everyone by asking `/v2/`.
                self.ping().await?;
                Err(RemoteError::CatalogUnavailable {
                    request,
                    status: 401,
                })
            }
            Err(RemoteError::Forbidden { request, .. }) => Err(RemoteError::CatalogUnavailable {
                request,
                status: 403,
            }),
            Err(RemoteError::NotFound { request, .. }) => Err(RemoteError::CatalogUnavailable {
                request,
                status: 404,
            }),
            Err(other) => Err(other),
        }
    }

    /// Every name of a paged list (`repositories` of the catalog, `tags` of a repository):
    /// follows `Link: <…>; rel="next"` (relative or absolute), or where a registry pages
    /// without it, asks again with `last=` after a full page. Stops at a link already
    /// followed or a page that adds nothing.
    async fn paged(
        &self,
        first: Url,
        field: &str,
        scope: Option<&str>,
    ) -> Result<Vec<String>, RemoteError> {
        let mut page_size = self.settings().list_page_size.max(1);
        let with_n = |mut url: Url, page_size: usize, last: Option<&str>| {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "n" && k != "last")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            {
                let mut query = url.query_pairs_mut();
                query.clear();
                query.extend_pairs(kept);
                query.append_pair("n", &page_size.to_string());
                if let Some(last) = last {
                    query.append_pair("last", last);
                }
            }
            url
        };
        let mut url = with_n(first.clone(), page_size, None);
        let mut followed = HashSet::new();
        let mut seen = HashSet::new();
        let mut names = Vec::new();
        for _ in 0..MAX_PAGES {
            if !followed.insert(url.to_string()) {
                tracing::debug!(url = %url.path(), "paging returned to a page already read");
                return Ok(names);
            }
            let answer = self.get(Method::GET, &url, None, scope).await?;
            let smaller = self.settings().page_size.max(1);
            if answer.status() == StatusCode::BAD_REQUEST && names.is_empty() && page_size > smaller
            {
                // A registry whose pages are capped below ours (Distribution's
                // `catalog.maxentries` under 1,000) refuses the first page: ask again with the
                // page size every registry accepts.
                page_size = smaller;
                url = with_n(first.clone(), page_size, None);
                followed.clear();
                continue;
            }
            if !answer.status().is_success() {
                return Err(answer.into_error().await);
            }
            let request = answer.request.clone();
            let next = answer
                .header("link")
                .and_then(next_link)
                .map(|link| url.join(&link))
                .transpose()
                .map_err(|e| RemoteError::Protocol {
                    request: request.clone(),
                    reason: format!("the next page's link is not a URL: {e}"),
                })?;
            let body = answer.bytes(MAX_PAGE_BYTES).await?;
            let page = parse_names(&body, field).map_err(|reason| RemoteError::Protocol {
                request: request.clone(),
                reason,
            })?;
            let full = page.len() >= page_size;
            let last = page.last().cloned();
            let mut added = 0;
            for name in page {
                if seen.insert(name.clone()) {
                    names.push(name);
                    added += 1;
                }
            }
            if added == 0 {
                return Ok(names);
            }
            url = match (next, last) {
                (Some(next), _) => next,
                (None, Some(last)) if full => with_n(first.clone(), page_size, Some(&last)),
                _ => return Ok(names),
            };
        }
        Err(RemoteError::Protocol {
            request: self.session.http().describe(&Method::GET, &first),
            reason: format!("the registry's list runs past {MAX_PAGES} pages"),
        })
    }

    fn check_repository(repository: &str) -> Result<RepoName, RemoteError> {
        RepoName::parse(repository).map_err(|e| RemoteError::Invalid(e.to_string()))
    }

    fn check_reference(reference: &str) -> Result<Reference, RemoteError> {
        Reference::parse(reference).map_err(|e| RemoteError::Invalid(e.to_string()))
    }

    /// `GET` or `HEAD` of a manifest; `None` on 404.
    async fn manifest_answer(
        &self,
        method: Method,
        repository: &RepoName,
        reference: &Reference,
    ) -> Result<Option<Answer>, RemoteError> {
        let url = self.url(&format!("{repository}/manifests/{reference}"));
        let scope = Self::repository_scope(repository);
        let answer = self
            .get(method, &url, Some(&manifest_accept()), Some(&scope))
            .await?;
        match answer.status() {
            status if status.is_success() => Ok(Some(answer)),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(answer.into_error().await),
        }
    }

    async fn blob_answer(&self, repository: &str, digest: &Digest) -> Result<Answer, RemoteError> {
        let repository = Self::check_repository(repository)?;
        let url = self.url(&format!("{repository}/blobs/{digest}"));
        let scope = Self::repository_scope(&repository);
        let answer = self.get(Method::GET, &url, None, Some(&scope)).await?;
        if answer.status().is_success() {
            Ok(answer)
        } else {
            Err(answer.into_error().await)
        }
    }

    /// The referrers API; `None` when the registry does not have it.
    async fn referrers_api(
        &self,
        repository: &RepoName,
        digest: &Digest,
    ) -> Result<Option<Vec<Descriptor>>, RemoteError> {
        let scope = Self::repository_scope(repository);
        let mut url = self.url(&format!("{repository}/referrers/{digest}"));
        let mut followed = HashSet::new();
        let mut found = Vec::new();
        while followed.insert(url.to_string()) && followed.len() <= MAX_PAGES {
            let answer = self
                .get(Method::GET, &url, Some(mt::OCI_INDEX), Some(&scope))
                .await?;
            match answer.status().as_u16() {
                200 => {}
                // Not implemented: the spec's fallback is the tag schema. 400 and 405 are what
                // some registries answer for a path they do not route.
                400 | 404 | 405 | 501 if found.is_empty() => return Ok(None),
                _ => return Err(answer.into_error().await),
            }
            let content_type = answer.header("content-type").map(str::to_string);
            if content_type.as_deref().map(essence) != Some(mt::OCI_INDEX) && found.is_empty() {
                // A 200 that is not an index (an HTML page behind a proxy, say) is no API.
                let request = answer.request.clone();
                let body = answer.bytes(MAX_MANIFEST_BYTES as u64).await?;
                return match parse_index_descriptors(&body) {
                    Ok(descriptors) => Ok(Some(descriptors)),
                    Err(reason) => {
                        tracing::debug!(%request, %reason, "no referrers API");
                        Ok(None)
                    }
                };
            }
            let request = answer.request.clone();
            let next = answer.header("link").and_then(next_link);
            let body = answer.bytes(MAX_MANIFEST_BYTES as u64).await?;
            found.extend(
                parse_index_descriptors(&body)
                    .map_err(|reason| RemoteError::Protocol { request, reason })?,
            );
            match next.map(|link| url.join(&link)) {
                Some(Ok(next)) => url = next,
                _ => break,
            }
        }
        Ok(Some(found))
    }
}

#[async_trait]
impl RemoteRegistry for DistributionClient {
    async fn check(&self) -> Result<CheckReport, RemoteError> {
        let api_version = self.api_version().await?;
        let listing = self.follow.listing();
        if self.follow.repositories.is_empty() || !self.follow.prefixes.is_empty() {
            // The catalog is needed: see that it answers, with one name.
            let url = self.url("_catalog?n=1");
            let answer = self
                .get(Method::GET, &url, None, Some("registry:catalog:*"))
                .await;
            let unavailable = |request: String, status: u16| {
                Err(RemoteError::CatalogUnavailable { request, status })
            };
            match answer {
                Ok(answer) if answer.status().is_success() => {}
                Ok(answer) if matches!(answer.status().as_u16(), 403 | 404) => {
                    return unavailable(answer.request.clone(), answer.status().as_u16())
                }
                Ok(answer) => return Err(answer.into_error().await),
                Err(RemoteError::Unauthorized { request, .. }) => return unavailable(request, 401),
                Err(other) => return Err(other),
            }
        }
        Ok(CheckReport {
            listing,
            authentication: self.session.authentication(),
            api_version,
        })
    }

    async fn repositories(&self) -> Result<Vec<String>, RemoteError> {
        if self.follow.is_empty() {
            return self.catalog().await;
        }
        let mut names: Vec<String> = self.follow.repositories.clone();
        if !self.follow.prefixes.is_empty() {
            names.extend(self.catalog().await?.into_iter().filter(|name| {
                self.follow
                    .prefixes
                    .iter()
                    .any(|prefix| name.starts_with(prefix.as_str()))
            }));
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    async fn tags(&self, repository: &str) -> Result<Vec<String>, RemoteError> {
        let repository = Self::check_repository(repository)?;
        let url = self.url(&format!("{repository}/tags/list"));
        self.paged(url, "tags", Some(&Self::repository_scope(&repository)))
            .await
    }

    async fn manifest_digest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<Descriptor>, RemoteError> {
        let name = Self::check_repository(repository)?;
        let parsed = Self::check_reference(reference)?;
        let Some(answer) = self.manifest_answer(Method::HEAD, &name, &parsed).await? else {
            return Ok(None);
        };
        let header_digest = answer
            .header("docker-content-digest")
            .and_then(|d| Digest::parse(d.trim()).ok());
        let media_type = answer
            .header("content-type")
            .map(|t| essence(t).to_string());
        // From the header: reqwest reports a HEAD answer's (empty) body length instead.
        let size = answer
            .header("content-length")
            .and_then(|n| n.trim().parse::<u64>().ok());
        let digest = match (header_digest, &parsed) {
            (Some(digest), _) => Some(digest),
            (None, Reference::Digest(digest)) => Some(digest.clone()),
            (None, Reference::Tag(_)) => None,
        };
        match (digest, media_type.filter(|t| is_manifest_type(t)), size) {
            (Some(digest), Some(media_type), Some(size)) => Ok(Some(Descriptor {
                media_type,
                digest,
                size,
                artifact_type: None,
                annotations: BTreeMap::new(),
            })),
            // The HEAD left something out: the manifest itself says it all.
            _ => {
                drop(answer);
                match self.manifest(repository, reference).await {
                    Ok(manifest) => Ok(Some(Descriptor {
                        size: manifest.bytes.len() as u64,
                        media_type: manifest.media_type,
                        digest: manifest.digest,
                        artifact_type: None,
                        annotations: BTreeMap::new(),
                    })),
                    Err(RemoteError::NotFound { .. }) => Ok(None),
                    Err(other) => Err(other),
                }
            }
        }
    }

    async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<FetchedManifest, RemoteError> {
        let name = Self::check_repository(repository)?;
        let parsed = Self::check_reference(reference)?;
        let Some(answer) = self.manifest_answer(Method::GET, &name, &parsed).await? else {
            return Err(RemoteError::NotFound {
                request: self.session.http().describe(
                    &Method::GET,
                    &self.url(&format!("{name}/manifests/{parsed}")),
                ),
                detail: String::new(),
            });
        };
        let request = answer.request.clone();
        let content_type = answer
            .header("content-type")
            .map(|t| essence(t).to_string());
        let announced = answer
            .header("docker-content-digest")
            .and_then(|d| Digest::parse(d.trim()).ok());
        let bytes = answer.bytes(MAX_MANIFEST_BYTES as u64).await?;
        // Asked by digest, that digest is the one to match; by tag, the registry's word.
        let expected = match parsed {
            Reference::Digest(digest) => Some(digest),
            Reference::Tag(_) => announced,
        };
        let digest = match expected {
            Some(expected) => {
                let actual = Digest::of(expected.algorithm(), &bytes);
                if actual != expected {
                    return Err(RemoteError::DigestMismatch {
                        request,
                        expected: expected.to_string(),
                        actual: actual.to_string(),
                    });
                }
                actual
            }
            None => Digest::sha256_of(&bytes),
        };
        Ok(FetchedManifest {
            media_type: manifest_media_type(content_type.as_deref(), &bytes),
            bytes,
            digest,
        })
    }

    async fn blob(
        &self,
        repository: &str,
        digest: &Digest,
        max_bytes: u64,
    ) -> Result<Bytes, RemoteError> {
        let answer = self.blob_answer(repository, digest).await?;
        let request = answer.request.clone();
        let bytes = answer.bytes(max_bytes).await?;
        let actual = Digest::of(digest.algorithm(), &bytes);
        if &actual != digest {
            return Err(RemoteError::DigestMismatch {
                request,
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(bytes)
    }

    async fn blob_stream(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<BlobStream, RemoteError> {
        let answer = self.blob_answer(repository, digest).await?;
        let length = answer.response.content_length();
        Ok(BlobStream {
            length,
            stream: Box::pin(VerifiedStream {
                request: answer.request.clone(),
                read_timeout: answer.read_timeout,
                expected: digest.clone(),
                length,
                read: 0,
                digester: Some(Digester::new(digest.algorithm())),
                body: Box::pin(answer.response.bytes_stream()),
                _permit: answer.permit,
            }),
        })
    }

    async fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Vec<Descriptor>, RemoteError> {
        let name = Self::check_repository(repository)?;
        if let Some(found) = self.referrers_api(&name, digest).await? {
            return Ok(found);
        }
        // The tag schema: `<algorithm>-<hex>`, cut to a tag's 128 characters.
        let tag: String = format!("{}-{}", digest.algorithm().as_str(), digest.hex())
            .chars()
            .take(128)
            .collect();
        match self.manifest(repository, &tag).await {
            Ok(index) => {
                parse_index_descriptors(&index.bytes).map_err(|reason| RemoteError::Protocol {
                    request: self
                        .session
                        .http()
                        .describe(&Method::GET, &self.url(&format!("{name}/manifests/{tag}"))),
                    reason,
                })
            }
            Err(RemoteError::NotFound { .. }) => Ok(Vec::new()),
            Err(other) => Err(other),
        }
    }
}

/// A blob's body, hashed as it passes; the last item is an error if the bytes do not match.
struct VerifiedStream {
    request: String,
    read_timeout: std::time::Duration,
    expected: Digest,
    length: Option<u64>,
    read: u64,
    digester: Option<Digester>,
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    /// Holds the registry's concurrency slot while the blob streams.
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Stream for VerifiedStream {
    type Item = Result<Bytes, RemoteError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.digester.is_none() {
            return Poll::Ready(None);
        }
        match this.body.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                this.read += chunk.len() as u64;
                if let Some(digester) = this.digester.as_mut() {
                    digester.update(&chunk);
                }
                if this.length.is_some_and(|n| this.read > n) {
                    this.digester = None;
                    return Poll::Ready(Some(Err(RemoteError::Protocol {
                        request: this.request.clone(),
                        reason: format!(
                            "the blob is longer than its Content-Length of {} bytes",
                            this.length.unwrap_or_default()
                        ),
                    })));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.digester = None;
                Poll::Ready(Some(Err(body_error(
                    &this.request,
                    &error,
                    this.read_timeout,
                ))))
            }
            Poll::Ready(None) => {
                let actual = this.digester.take().expect("checked above").finish();
                if actual != this.expected {
                    return Poll::Ready(Some(Err(RemoteError::DigestMismatch {
                        request: this.request.clone(),
                        expected: this.expected.to_string(),
                        actual: actual.to_string(),
                    })));
                }
                Poll::Ready(None)
            }
        }
    }
}

fn is_manifest_type(media_type: &str) -> bool {
    mt::MANIFEST_TYPES.contains(&media_type)
        || media_type == mt::DOCKER_SCHEMA1
        || media_type == mt::DOCKER_SCHEMA1_SIGNED
}

/// A manifest's media type: `Content-Type` when it names a manifest type, else the body's
/// `mediaType`, else its shape (OCI manifests may omit both), else whatever the header said.
fn manifest_media_type(content_type: Option<&str>, bytes: &[u8]) -> String {
    if let Some(header) = content_type.filter(|t| is_manifest_type(t)) {
        return header.to_string();
    }
    let body: Option<serde_json::Value> = serde_json::from_slice(bytes).ok();
    let object = body.as_ref().and_then(|b| b.as_object());
    if let Some(object) = object {
        if let Some(media_type) = object.get("mediaType").and_then(|v| v.as_str()) {
            return media_type.to_string();
        }
        if object.contains_key("manifests") {
            return mt::OCI_INDEX.to_string();
        }
        if object.contains_key("config") {
            return mt::OCI_MANIFEST.to_string();
        }
    }
    content_type
        .unwrap_or("application/octet-stream")
        .to_string()
}

/// `field` of a page: `{"repositories": [...]}` or `{"name": "a", "tags": [...]}` (`null`
/// counts as empty, as Distribution answers for a repository without tags).
fn parse_names(body: &[u8], field: &str) -> Result<Vec<String>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the page is not JSON: {e}"))?;
    match value.get(field) {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{field}` holds something other than names"))
            })
            .collect(),
        Some(_) => Err(format!("`{field}` is not a list")),
    }
}

/// The `manifests` of an index (the referrers API's answer or a tag-schema index).
fn parse_index_descriptors(body: &[u8]) -> Result<Vec<Descriptor>, String> {
    #[derive(serde::Deserialize)]
    struct Index {
        #[serde(default)]
        manifests: Vec<Raw>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        media_type: String,
        digest: String,
        size: u64,
        artifact_type: Option<String>,
        #[serde(default)]
        annotations: BTreeMap<String, String>,
    }
    let index: Index =
        serde_json::from_slice(body).map_err(|e| format!("not an image index: {e}"))?;
    index
        .manifests
        .into_iter()
        .map(|raw| {
            Ok(Descriptor {
                digest: Digest::parse(&raw.digest).map_err(|e| e.to_string())?,
                media_type: raw.media_type,
                size: raw.size,
                artifact_type: raw.artifact_type,
                annotations: raw.annotations,
            })
        })
        .collect()
}

/// `url` keeps userinfo percent-encoded.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_entries_are_names_or_prefixes() {
        let follow =
            Follow::parse(&["library/alpine".into(), " team/ ".into(), "".into()]).unwrap();
        assert_eq!(follow.repositories, ["library/alpine"]);
        assert_eq!(follow.prefixes, ["team/"]);
        let error = Follow::parse(&["Bad Name".into()]).unwrap_err();
        assert!(error.to_string().contains("Bad Name"), "{error}");
        assert!(Follow::parse(&["a/../b".into()]).is_err());
    }

    #[test]
    fn names_pages_accept_null_and_refuse_other_shapes() {
        assert_eq!(
            parse_names(br#"{"repositories":["a","b/c"]}"#, "repositories").unwrap(),
            ["a", "b/c"]
        );
        assert!(parse_names(br#"{"name":"a","tags":null}"#, "tags")
            .unwrap()
            .is_empty());
        assert!(parse_names(br#"{"tags":[1]}"#, "tags").is_err());
        assert!(parse_names(b"<html>", "tags").is_err());
    }

    #[test]
    fn media_type_falls_back_to_the_body() {
        assert_eq!(
            manifest_media_type(Some(mt::DOCKER_MANIFEST), b"{}"),
            mt::DOCKER_MANIFEST
        );
        assert_eq!(
            manifest_media_type(
                Some("application/octet-stream"),
                br#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#
            ),
            mt::OCI_INDEX
        );
        assert_eq!(
            manifest_media_type(None, br#"{"schemaVersion":2,"config":{}}"#),
            mt::OCI_MANIFEST
        );
    }

    #[test]
    fn credentials_in_the_url_move_out_of_it() {
        let client = DistributionClient::new(
            Endpoint::new(
                "https://al%40ice:s%3Acret@registry.example/prefix"
                    .parse()
                    .unwrap(),
            ),
            Settings::default(),
        )
        .unwrap();
        assert_eq!(client.base.as_str(), "https://registry.example/prefix/");
        assert_eq!(
            client.url("a/b/tags/list").as_str(),
            "https://registry.example/prefix/v2/a/b/tags/list"
        );
        assert!(!format!("{client:?}").contains("cret"));
        assert_eq!(percent_decode("al%40ice"), "al@ice");
        assert_eq!(percent_decode("s%3Acret%"), "s:cret%");
        assert!(DistributionClient::new(
            Endpoint::new("ftp://registry.example".parse().unwrap()),
            Settings::default()
        )
        .is_err());
    }
}
