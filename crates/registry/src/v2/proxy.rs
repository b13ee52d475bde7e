//! The pull-through proxy: repositories of `distribution` and `oci` platform registries,
//! served under `/v2/<registry name>/<upstream repository>`.
//!
//! Those registries have no access control of their own, so Berth serves their private spaces
//! itself: `handle` has already authorized the request with the same rule as a hosted space
//! (`berth-access`, narrowed to pull), and this module only fetches. The upstream credential
//! stays inside the client `berth-sync` builds; no answer here carries it.
//!
//! Manifests are served from the `remote_manifests` cache when their digest is known and
//! cached on first fetch. Blobs a repository already pulled through the proxy are served from
//! Berth's blob store; others are streamed from the upstream to the client while being
//! written into an upload session, which becomes the blob (and is linked to the proxied
//! repository) only when the upstream stream ended whole and its bytes match the digest. A
//! failed or aborted stream cancels the session, so it leaves nothing visible.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_http::BYTES_SENT;
use berth_identity::tokens::Claims;
use berth_oci::{Digest, Reference, RepoName};
use berth_remote::{RemoteError, RemoteRegistry};
use berth_store::external::CachedManifest;
use berth_store::registry_records::RegistryRecord;
use berth_sync::SyncService;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::json;

use super::{audit_event, blobs, listing, manifests, parse_digest, RegistryError};
use super::{RegistryRequest, Route};
use crate::RegistryState;

/// Chunks in flight between the upstream, the client and the blob store, per download.
const QUEUE: usize = 8;

/// The clients of proxied registries, one per registry, kept while its record is unchanged so
/// that connections and upstream tokens are reused across requests.
#[derive(Default)]
pub(crate) struct Upstreams {
    clients: Mutex<HashMap<i64, Built>>,
}

/// A client and what it was built from.
type Built = (Fingerprint, Arc<dyn RemoteRegistry>);

/// What a registry's client is built from; a change (a new URL or password) builds a new one.
type Fingerprint = (String, String, Option<Vec<u8>>, bool, String);

fn fingerprint(registry: &RegistryRecord) -> Fingerprint {
    (
        registry.url.clone(),
        registry.username.clone(),
        registry.secret.clone(),
        registry.insecure,
        registry.follow.clone(),
    )
}

impl Upstreams {
    fn client(
        &self,
        sync: &SyncService,
        registry: &RegistryRecord,
    ) -> Result<Arc<dyn RemoteRegistry>, RegistryError> {
        let wanted = fingerprint(registry);
        if let Some((built, client)) = self.clients.lock().unwrap().get(&registry.id) {
            if *built == wanted {
                return Ok(client.clone());
            }
        }
        let client = sync.client(registry).map_err(|error| {
            tracing::warn!(registry = %registry.name, %error, "no client for a proxied registry");
            unavailable(registry)
        })?;
        self.clients
            .lock()
            .unwrap()
            .insert(registry.id, (wanted, client.clone()));
        Ok(client)
    }
}

/// A repository Berth serves as a proxy.
pub(super) struct Proxied {
    pub registry: RegistryRecord,
    /// The repository's name on the upstream registry (`team/web` for `dist/team/web`).
    pub upstream: String,
    /// The repository's row as the last sync stored it; blobs are cached only for synced
    /// repositories, since the cache is linked to that row.
    pub repository_id: Option<i64>,
}

/// The proxied repository `name` names, if its first component is a proxied registry.
pub(super) async fn resolve(
    state: &RegistryState,
    name: &RepoName,
) -> Result<Option<Proxied>, RegistryError> {
    let Some((registry, upstream)) = berth_oci::split_proxied(name.as_str()) else {
        return Ok(None);
    };
    let Some(registry) = state.store.proxied_registry(registry).await? else {
        return Ok(None);
    };
    let repository_id = state
        .store
        .synced_repository_id(registry.id, upstream)
        .await?;
    Ok(Some(Proxied {
        registry,
        upstream: upstream.to_string(),
        repository_id,
    }))
}

/// Runs an authorized request on a proxied repository. Only reads reach the upstream; the
/// access rule never grants more, and anything else is refused here as well, since Berth
/// cannot write to a registry it proxies.
pub(super) async fn handle(
    state: &RegistryState,
    claims: &Claims,
    proxied: &Proxied,
    route: &Route,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let reading = matches!(request.method, Method::GET | Method::HEAD);
    match route {
        Route::Tags(name) if reading => tags(state, proxied, name, request).await,
        Route::Manifest(name, reference) if reading => {
            manifest(state, claims, proxied, name, reference, request).await
        }
        Route::Blob(_, digest) if reading => blob(state, proxied, digest, request).await,
        Route::Referrers(_, digest) if reading => referrers(state, proxied, digest).await,
        _ => Err(RegistryError::Denied(format!(
            "`{}/{}` is served from registry `{}`, which Berth proxies for pulls only",
            proxied.registry.name, proxied.upstream, proxied.registry.name
        ))),
    }
}

/// What a client hears when the upstream cannot answer: which registry, never how Berth
/// reaches it (the address and the reason go to the log).
fn unavailable(registry: &RegistryRecord) -> RegistryError {
    RegistryError::Upstream(format!(
        "registry `{}` is unavailable and Berth holds no copy of what was asked",
        registry.name
    ))
}

fn upstream_error(proxied: &Proxied, error: &RemoteError) -> RegistryError {
    tracing::warn!(
        registry = %proxied.registry.name,
        error = %berth_remote::error_chain(error),
        "proxied request failed upstream"
    );
    unavailable(&proxied.registry)
}

/// `GET`/`HEAD /v2/<registry>/<repository>/manifests/<reference>`.
async fn manifest(
    state: &RegistryState,
    claims: &Claims,
    proxied: &Proxied,
    name: &RepoName,
    reference: &str,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let reference = match Reference::parse(reference) {
        Ok(r) => r,
        Err(berth_oci::NameError::InvalidTag(m)) => {
            return Err(RegistryError::ManifestUnknown(format!("invalid tag: {m}")))
        }
        Err(other) => return Err(other.into()),
    };
    let client = state.upstreams.client(&state.sync, &proxied.registry)?;
    let unknown =
        || RegistryError::ManifestUnknown(format!("manifest `{reference}` is not in `{name}`"));
    let digest = match &reference {
        Reference::Digest(digest) => digest.clone(),
        Reference::Tag(tag) => match client
            .manifest_digest(&proxied.upstream, tag.as_str())
            .await
        {
            Ok(Some(descriptor)) => descriptor.digest,
            Ok(None) | Err(RemoteError::NotFound { .. }) => return Err(unknown()),
            // The upstream is down or refuses Berth: the tag as the last sync saw it still
            // names a manifest Berth may hold.
            Err(error) => match synced_tag(state, proxied, tag.as_str()).await? {
                Some(digest) => {
                    tracing::info!(
                        registry = %proxied.registry.name,
                        error = %berth_remote::error_chain(&error),
                        "serving a proxied tag as last synced"
                    );
                    digest
                }
                None => return Err(upstream_error(proxied, &error)),
            },
        },
    };
    let cached = state
        .store
        .cached_manifests(proxied.registry.id, &[digest.to_string()])
        .await?
        .into_iter()
        .next();
    let (media_type, bytes) = match cached {
        Some(cached) => (cached.media_type, Bytes::from(cached.manifest)),
        None => {
            let fetched = match client
                .manifest(&proxied.upstream, &digest.to_string())
                .await
            {
                Ok(fetched) => fetched,
                Err(RemoteError::NotFound { .. }) => return Err(unknown()),
                Err(error) => return Err(upstream_error(proxied, &error)),
            };
            // The client checks content against the digest asked for; this keeps the cache
            // keyed by what the bytes really hash to even if that ever changed.
            if fetched.digest != digest {
                return Err(unavailable(&proxied.registry));
            }
            state
                .store
                .cache_manifests(
                    proxied.registry.id,
                    &[CachedManifest {
                        digest: digest.to_string(),
                        media_type: fetched.media_type.clone(),
                        manifest: fetched.bytes.to_vec(),
                        config: None,
                    }],
                )
                .await?;
            (fetched.media_type, fetched.bytes)
        }
    };
    let accept: Vec<&str> = request
        .headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !manifests::accepts(Some(&accept.join(",")), &media_type) {
        return Err(RegistryError::ManifestUnknown(format!(
            "the manifest is a `{media_type}`, which the request's Accept header does not include"
        )));
    }
    let response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, &media_type)
        .header(header::CONTENT_LENGTH, bytes.len())
        .header(header::ETAG, format!("\"{digest}\""))
        .header("Docker-Content-Digest", digest.to_string());
    if request.method == Method::HEAD {
        return Ok(response.body(Body::empty()).map_err(anyhow::Error::from)?);
    }
    // Pulls of private images are audited, as on the hosted registry.
    let space = berth_oci::space_of(&proxied.upstream);
    let public = state
        .store
        .platform_spaces(&proxied.registry.name, &[space])
        .await?
        .get(space)
        .is_some_and(|s| s.public);
    if !public {
        let event = audit_event(
            claims,
            request,
            "manifest.pull",
            format!("{}/{}@{digest}", proxied.registry.name, proxied.upstream),
            None,
        );
        state.reads.audit_pull(event);
    }
    // Counted against the artifact the last sync stored; a manifest the sync has not seen
    // (pushed upstream since, or an index's child) has no row to count against yet.
    if let Some(artifact_id) = state
        .store
        .synced_artifact_id(proxied.registry.id, &proxied.upstream, &digest)
        .await?
    {
        state
            .reads
            .count_pull(manifests::pull_key(artifact_id, &reference));
    }
    metrics::counter!(BYTES_SENT).increment(bytes.len() as u64);
    Ok(response
        .body(Body::from(bytes))
        .map_err(anyhow::Error::from)?)
}

/// The digest tag `tag` named at the last sync, if it did.
async fn synced_tag(
    state: &RegistryState,
    proxied: &Proxied,
    tag: &str,
) -> Result<Option<Digest>, RegistryError> {
    let only = [proxied.upstream.clone()];
    let catalog = state
        .store
        .stored_catalog(proxied.registry.id, Some(&only))
        .await?;
    Ok(catalog
        .get(&proxied.upstream)
        .and_then(|tags| tags.get(tag))
        .and_then(|stored| Digest::parse(&stored.digest).ok()))
}

/// `GET`/`HEAD /v2/<registry>/<repository>/blobs/<digest>`.
async fn blob(
    state: &RegistryState,
    proxied: &Proxied,
    digest: &str,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let digest = parse_digest(digest)?;
    if let Some(repository_id) = proxied.repository_id {
        if state
            .store
            .proxied_blob_size(repository_id, &digest)
            .await?
            .is_some()
            && state.blobs.stat(&digest).await?.is_some()
        {
            return blobs::serve_stored(state, &digest, request).await;
        }
    }
    let client = state.upstreams.client(&state.sync, &proxied.registry)?;
    let upstream = match client.blob_stream(&proxied.upstream, &digest).await {
        Ok(upstream) => upstream,
        Err(RemoteError::NotFound { .. }) => return Err(RegistryError::BlobUnknown),
        Err(error) => return Err(upstream_error(proxied, &error)),
    };
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::ETAG, format!("\"{digest}\""))
        .header("Docker-Content-Digest", digest.to_string());
    if let Some(length) = upstream.length {
        response = response.header(header::CONTENT_LENGTH, length);
    }
    if request.method == Method::HEAD {
        return Ok(response.body(Body::empty()).map_err(anyhow::Error::from)?);
    }
    let session = match proxied.repository_id {
        Some(id) => Some((
            id,
            state
                .blobs
                .start_upload(
                    &format!("{}/{}", proxied.registry.name, proxied.upstream),
                    digest.algorithm(),
                )
                .await?,
        )),
        None => None,
    };
    let (to_client, from_upstream) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(QUEUE);
    // The copy runs in its own task, so a client that goes away does not cut the cache's copy
    // short: the blob is still stored for the next pull.
    tokio::spawn(tee(state.clone(), upstream, digest, session, to_client));
    let body = futures::stream::unfold(from_upstream, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok(response
        .body(Body::from_stream(body))
        .map_err(anyhow::Error::from)?)
}

/// Copies the upstream's blob to the client and, with a `session`, into the blob store,
/// which keeps it only if it arrived whole with the right digest.
async fn tee(
    state: RegistryState,
    mut upstream: berth_remote::BlobStream,
    digest: Digest,
    session: Option<(i64, String)>,
    to_client: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) {
    let (to_store, for_store) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(QUEUE);
    let writer = session.as_ref().map(|(_, id)| {
        let blobs = state.blobs.clone();
        let id = id.clone();
        let body = futures::stream::unfold(for_store, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        });
        tokio::spawn(async move { blobs.append(&id, None, Box::pin(body)).await })
    });
    let mut whole = true;
    let mut client_gone = false;
    while let Some(chunk) = upstream.stream.next().await {
        match chunk {
            Ok(bytes) => {
                let length = bytes.len() as u64;
                if writer.is_some() && to_store.send(Ok(bytes.clone())).await.is_err() {
                    // The store's writer failed; the client may still get the blob.
                    whole = false;
                }
                if !client_gone {
                    match to_client.send(Ok(bytes)).await {
                        Ok(()) => metrics::counter!(BYTES_SENT).increment(length),
                        Err(_) => client_gone = true,
                    }
                }
                if client_gone && (writer.is_none() || !whole) {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(
                    %digest,
                    error = %berth_remote::error_chain(&error),
                    "proxied blob stream failed"
                );
                whole = false;
                let _ = to_client
                    .send(Err(std::io::Error::other(
                        "the upstream registry's blob stream failed",
                    )))
                    .await;
                break;
            }
        }
    }
    drop(to_store);
    drop(to_client);
    let (Some(writer), Some((repository_id, id))) = (writer, session) else {
        return;
    };
    let appended = matches!(writer.await, Ok(Ok(_)));
    if !(whole && appended) {
        if let Err(error) = state.blobs.cancel(&id).await {
            tracing::warn!(%error, "cancelling a proxied blob's upload session failed");
        }
        return;
    }
    // `finish` hashes what arrived and refuses a mismatch, so only the right bytes become
    // visible at the digest; the link to the repository follows.
    match state.blobs.finish(&id, &digest).await {
        Ok(size) => {
            if let Err(error) = state
                .store
                .link_proxied_blob(repository_id, &digest, size)
                .await
            {
                tracing::warn!(%error, %digest, "linking a proxied blob failed");
            }
        }
        Err(error) => tracing::warn!(%error, %digest, "a proxied blob was not cached"),
    }
}

/// `GET /v2/<registry>/<repository>/tags/list`: the upstream's tags, or the last sync's when
/// the upstream cannot answer.
async fn tags(
    state: &RegistryState,
    proxied: &Proxied,
    name: &RepoName,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let page = listing::page(request)?;
    let client = state.upstreams.client(&state.sync, &proxied.registry)?;
    let mut tags = match client.tags(&proxied.upstream).await {
        Ok(tags) => tags,
        Err(RemoteError::NotFound { .. }) => return Err(RegistryError::NameUnknown),
        Err(error) => {
            let only = [proxied.upstream.clone()];
            let catalog = state
                .store
                .stored_catalog(proxied.registry.id, Some(&only))
                .await?;
            match catalog.get(&proxied.upstream) {
                Some(stored) => stored.keys().cloned().collect(),
                None => return Err(upstream_error(proxied, &error)),
            }
        }
    };
    tags.sort();
    tags.dedup();
    if let Some(last) = &page.last {
        tags.retain(|tag| tag > last);
    }
    tags.truncate((page.limit + 1) as usize);
    if page.limit == 0 {
        return Ok(Json(json!({"name": name.as_str(), "tags": []})).into_response());
    }
    Ok(listing::paged_response(
        &format!("/v2/{name}/tags/list"),
        "tags",
        Some(("name", json!(name.as_str()))),
        tags,
        page.limit,
    ))
}

/// `GET /v2/<registry>/<repository>/referrers/<digest>`, from the upstream.
async fn referrers(
    state: &RegistryState,
    proxied: &Proxied,
    digest: &str,
) -> Result<Response, RegistryError> {
    let digest = parse_digest(digest)?;
    let client = state.upstreams.client(&state.sync, &proxied.registry)?;
    let found = match client.referrers(&proxied.upstream, &digest).await {
        Ok(found) => found,
        Err(error) => return Err(upstream_error(proxied, &error)),
    };
    let manifests: Vec<serde_json::Value> = found
        .into_iter()
        .map(|d| {
            let mut entry = json!({
                "mediaType": d.media_type,
                "digest": d.digest.to_string(),
                "size": d.size,
            });
            if let Some(artifact_type) = d.artifact_type {
                entry["artifactType"] = json!(artifact_type);
            }
            if !d.annotations.is_empty() {
                entry["annotations"] = json!(d.annotations);
            }
            entry
        })
        .collect();
    Ok((
        [(header::CONTENT_TYPE, berth_oci::media_types::OCI_INDEX)],
        Json(json!({
            "schemaVersion": 2,
            "mediaType": berth_oci::media_types::OCI_INDEX,
            "manifests": manifests,
        })),
    )
        .into_response())
}
