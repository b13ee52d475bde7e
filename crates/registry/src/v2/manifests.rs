//! Manifests: GET/HEAD with content negotiation, PUT with validation and catalog facts,
//! DELETE by tag or digest.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_http::{BYTES_RECEIVED, BYTES_SENT};
use berth_identity::tokens::Claims;
use berth_oci::{
    media_types, Digest, ImageConfig, Manifest, Reference, RepoName, Tag, MAX_MANIFEST_BYTES,
};
use berth_store::hosted::{NewManifest, PullKey};

use super::{audit_event, RegistryError, RegistryRequest};
use crate::RegistryState;

/// Image configs larger than this are not read into the catalog (the push still succeeds).
const MAX_CONFIG_BYTES: u64 = 8 * 1024 * 1024;

fn parse_reference(text: &str) -> Result<Reference, RegistryError> {
    Reference::parse(text).map_err(RegistryError::from)
}

/// `GET`/`HEAD /v2/<name>/manifests/<reference>`.
pub(super) async fn get(
    state: &RegistryState,
    claims: &Claims,
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
    let Some(manifest) = state.store.get_manifest(name, &reference).await? else {
        return Err(unknown_manifest(state, name, &reference).await);
    };
    // Several Accept lines mean the same as one comma-joined line (RFC 9110 5.3), and
    // Docker's registry client sends one line per media type it accepts.
    let accept: Vec<&str> = request
        .headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !accepts(Some(&accept.join(",")), &manifest.media_type) {
        return Err(RegistryError::ManifestUnknown(format!(
            "the manifest is a `{}`, which the request's Accept header does not include",
            manifest.media_type
        )));
    }
    let length = manifest.bytes.len();
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, &manifest.media_type)
        .header(header::CONTENT_LENGTH, length)
        .header(header::ETAG, format!("\"{}\"", manifest.digest))
        .header("Docker-Content-Digest", manifest.digest.to_string());
    if request.method == Method::HEAD {
        return Ok(response.body(Body::empty()).map_err(anyhow::Error::from)?);
    }
    if let Some(subject) = &manifest.subject {
        response = response.header("OCI-Subject", subject);
    }
    // Pulls of private images are audited; public ones are not, or the log would be mostly
    // anonymous downloads.
    if state.store.hosted_space_is_public(name.space()).await? != Some(true) {
        let event = audit_event(
            claims,
            request,
            "manifest.pull",
            format!("hosted/{name}@{}", manifest.digest),
            None,
        );
        state.reads.audit_pull(event);
    }
    state
        .reads
        .count_pull(pull_key(manifest.artifact_id, &reference));
    metrics::counter!(BYTES_SENT).increment(length as u64);
    Ok(response
        .body(Body::from(manifest.bytes))
        .map_err(anyhow::Error::from)?)
}

/// The count a manifest GET adds to: its artifact, and the tag it was asked by.
pub(super) fn pull_key(artifact_id: i64, reference: &Reference) -> PullKey {
    PullKey {
        artifact_id,
        tag: match reference {
            Reference::Tag(tag) => Some(tag.to_string()),
            Reference::Digest(_) => None,
        },
    }
}

/// A missing manifest in an existing repository is `MANIFEST_UNKNOWN`; a repository that does
/// not exist at all is `NAME_UNKNOWN`.
async fn unknown_manifest(
    state: &RegistryState,
    name: &RepoName,
    reference: &Reference,
) -> RegistryError {
    match state.store.repository_exists(name).await {
        Ok(true) => {
            RegistryError::ManifestUnknown(format!("manifest `{reference}` is not in `{name}`"))
        }
        Ok(false) => RegistryError::NameUnknown,
        Err(error) => error.into(),
    }
}

/// Whether a manifest of `media_type` may be served to a client sending `accept`. No header,
/// or a wildcard, accepts anything; otherwise the type must be listed. Registries cannot
/// convert between formats, so an unacceptable manifest is reported as unknown.
pub(super) fn accepts(accept: Option<&str>, media_type: &str) -> bool {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return true;
    };
    accept
        .split(',')
        .map(media_types::essence)
        .any(|t| t == media_type || t == "*/*" || t == "application/*")
}

/// `PUT /v2/<name>/manifests/<reference>`.
pub(super) async fn put(
    state: &RegistryState,
    claims: &Claims,
    name: &RepoName,
    reference: &str,
    request: &RegistryRequest,
    body: Body,
) -> Result<Response, RegistryError> {
    let reference = parse_reference(reference)?;
    if let Some(length) = request
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok())
    {
        if length > MAX_MANIFEST_BYTES {
            return Err(RegistryError::ManifestTooLarge);
        }
    }
    let content_type = request.header(header::CONTENT_TYPE).map(str::to_string);
    let extra_tags = request
        .query
        .iter()
        .filter(|(k, _)| k == "tag")
        .map(|(_, v)| Tag::parse(v))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = read_limited(body, MAX_MANIFEST_BYTES).await?;

    let digest = match &reference {
        Reference::Digest(expected) => {
            let actual = Digest::of(expected.algorithm(), &bytes);
            if &actual != expected {
                return Err(RegistryError::DigestInvalid(format!(
                    "the manifest's digest is {actual}, not {expected}"
                )));
            }
            actual
        }
        Reference::Tag(_) => Digest::sha256_of(&bytes),
    };
    let manifest = Manifest::parse(content_type.as_deref(), &bytes)?;
    let config = read_config(state, &manifest).await?;
    let mut tags = extra_tags.clone();
    if let Reference::Tag(tag) = &reference {
        tags.push(tag.clone());
    }
    state
        .store
        .put_manifest(NewManifest {
            repository: name,
            digest: &digest,
            bytes: &bytes,
            manifest: &manifest,
            config: config.as_ref(),
            tags: &tags,
            pushed_by: &claims.sub,
        })
        .await?;
    tracing::info!(repository = %name, %digest, reference = %reference, pushed_by = %claims.sub, "manifest pushed");
    let target = berth_scanner::ScanTarget {
        registry_id: state.store.hosted_registry_id(),
        repository: name.to_string(),
        digest: digest.clone(),
    };
    state.scans.scan_push(&target, !tags.is_empty()).await;
    let tag_names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    let detail =
        serde_json::json!({"tags": tag_names, "media_type": manifest.media_type}).to_string();
    state
        .store
        .record_audit_after(&audit_event(
            claims,
            request,
            "manifest.push",
            format!("hosted/{name}@{digest}"),
            Some(detail),
        ))
        .await;

    let mut response = (
        StatusCode::CREATED,
        [
            (header::LOCATION, format!("/v2/{name}/manifests/{digest}")),
            (
                header::HeaderName::from_static("docker-content-digest"),
                digest.to_string(),
            ),
            (header::CONTENT_LENGTH, "0".to_string()),
        ],
    )
        .into_response();
    let headers = response.headers_mut();
    if let Some(subject) = &manifest.subject {
        if let Ok(value) = HeaderValue::from_str(&subject.digest.to_string()) {
            headers.insert("OCI-Subject", value);
        }
    }
    for tag in &extra_tags {
        if let Ok(value) = HeaderValue::from_str(tag.as_str()) {
            headers.append("OCI-Tag", value);
        }
    }
    Ok(response)
}

/// Reads a request body into memory, refusing more than `limit` bytes.
/// Reads a manifest body of at most `limit` bytes; a longer one is refused as too large
/// without reading the rest.
async fn read_limited(body: Body, limit: usize) -> Result<Bytes, RegistryError> {
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|error| {
        let too_large = std::error::Error::source(&error)
            .is_some_and(|cause| cause.is::<http_body_util::LengthLimitError>());
        if too_large {
            RegistryError::ManifestTooLarge
        } else {
            RegistryError::ManifestInvalid(format!("reading the manifest failed: {error}"))
        }
    })?;
    metrics::counter!(BYTES_RECEIVED).increment(bytes.len() as u64);
    Ok(bytes)
}

/// The image config of an image manifest, when it is an image config that parses. A config
/// that is missing from storage is left for the store's reference check to report.
async fn read_config(
    state: &RegistryState,
    manifest: &Manifest,
) -> Result<Option<ImageConfig>, RegistryError> {
    let Some(descriptor) = manifest.config.as_ref() else {
        return Ok(None);
    };
    if !media_types::is_image_config(&descriptor.media_type) || descriptor.size > MAX_CONFIG_BYTES {
        return Ok(None);
    }
    let Some(bytes) = state
        .blobs
        .read_all(&descriptor.digest, MAX_CONFIG_BYTES)
        .await?
    else {
        return Ok(None);
    };
    match ImageConfig::parse(&bytes) {
        Ok(config) => Ok(Some(config)),
        Err(reason) => {
            tracing::debug!(config = %descriptor.digest, %reason, "config not recorded in the catalog");
            Ok(None)
        }
    }
}

/// `DELETE /v2/<name>/manifests/<reference>`: by digest removes the manifest and its tags;
/// by tag removes only the tag.
pub(super) async fn delete(
    state: &RegistryState,
    claims: &Claims,
    name: &RepoName,
    reference: &str,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let reference = parse_reference(reference)?;
    let (action, target) = match &reference {
        Reference::Digest(digest) => ("manifest.delete", format!("hosted/{name}@{digest}")),
        Reference::Tag(tag) => ("tag.delete", format!("hosted/{name}:{tag}")),
    };
    let event = audit_event(claims, request, action, target, None);
    let deleted = match &reference {
        Reference::Digest(digest) => {
            state
                .store
                .delete_manifest(name, digest, Some(&event.borrow()))
                .await?
        }
        Reference::Tag(tag) => {
            state
                .store
                .delete_tag(name, tag, Some(&event.borrow()))
                .await?
        }
    };
    if !deleted {
        return Err(unknown_manifest(state, name, &reference).await);
    }
    tracing::info!(repository = %name, reference = %reference, "manifest deleted");
    Ok(StatusCode::ACCEPTED.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_content_types() {
        let oci = media_types::OCI_MANIFEST;
        assert!(accepts(None, oci));
        assert!(accepts(Some(""), oci));
        assert!(accepts(Some("*/*"), oci));
        assert!(accepts(Some("application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json; q=0.5"), oci));
        assert!(!accepts(Some(media_types::DOCKER_MANIFEST), oci));
    }
}
