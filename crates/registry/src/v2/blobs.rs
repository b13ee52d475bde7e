//! Blob reads and deletes, and the upload protocol: monolithic POST, POST then PUT, chunked
//! and streamed PATCH, status, cancel, and cross-repository mounts.

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_access::Action;
use berth_blobs::{BlobError, ByteStream};
use berth_http::{InFlight, BYTES_RECEIVED, BYTES_SENT};
use berth_identity::principals;
use berth_identity::tokens::Claims;
use berth_oci::{Algorithm, Digest, RepoName};
use futures::{StreamExt, TryStreamExt};

use super::{audit_event, parse_digest, token_subject, RegistryError, RegistryRequest};
use crate::RegistryState;

fn blob_location(name: &RepoName, digest: &Digest) -> String {
    format!("/v2/{name}/blobs/{digest}")
}

fn upload_location(name: &RepoName, id: &str) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

/// The `Range` header value for an upload holding `size` bytes.
fn upload_range(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

fn body_stream(body: Body) -> ByteStream {
    body.into_data_stream()
        .map_err(std::io::Error::other)
        .inspect_ok(|chunk| metrics::counter!(BYTES_RECEIVED).increment(chunk.len() as u64))
        .boxed()
}

/// `GET`/`HEAD /v2/<name>/blobs/<digest>`, with single-range `Range` support.
pub(super) async fn get(
    state: &RegistryState,
    name: &RepoName,
    digest: &str,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let digest = parse_digest(digest)?;
    if state.store.linked_blob_size(name, &digest).await?.is_none() {
        return Err(RegistryError::BlobUnknown);
    }
    serve_stored(state, &digest, request).await
}

/// Answers a blob GET or HEAD from Berth's blob store, honouring a byte range. The caller has
/// checked that the request's repository may serve `digest`.
pub(super) async fn serve_stored(
    state: &RegistryState,
    digest: &Digest,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let digest = digest.clone();
    let Some(size) = state.blobs.stat(&digest).await? else {
        return Err(RegistryError::BlobUnknown);
    };
    let range = match request.header(header::RANGE) {
        Some(value) => parse_range(value, size)?,
        None => None,
    };
    let (status, length) = match range {
        Some((first, last)) => (StatusCode::PARTIAL_CONTENT, last + 1 - first),
        None => (StatusCode::OK, size),
    };
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, length)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, format!("\"{digest}\""))
        .header(header::CACHE_CONTROL, "max-age=31536000")
        .header("Docker-Content-Digest", digest.to_string());
    if let Some((first, last)) = range {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {first}-{last}/{size}"),
        );
    }
    if request.method == axum::http::Method::HEAD {
        return Ok(builder.body(Body::empty()).map_err(anyhow::Error::from)?);
    }
    let Some(blob) = state.blobs.read(&digest, range).await? else {
        return Err(RegistryError::BlobUnknown);
    };
    metrics::counter!(BYTES_SENT).increment(length);
    Ok(builder
        .body(Body::from_stream(blob.stream))
        .map_err(anyhow::Error::from)?)
}

/// Parses `bytes=first-last`, `bytes=first-` or `bytes=-suffix` against a blob of `size`
/// bytes, as RFC 9110 section 14 reads them. A header that is not one valid byte range
/// (`bytes=10-5`, `bytes=a-b`, another unit, several ranges) is ignored and the whole blob is
/// served, which section 14.2 prescribes for invalid ranges and allows for multiple ones. A
/// valid range that starts past the end, or a suffix of zero bytes, is unsatisfiable: 416.
fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, RegistryError> {
    let unsatisfiable = || RegistryError::BlobRangeUnsatisfiable {
        message: format!("range `{value}` is outside the blob's {size} bytes"),
        size,
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let Some(suffix) = range_position(last) else {
            return Ok(None);
        };
        if suffix == 0 {
            return Err(unsatisfiable());
        }
        // RFC 9110 calls a suffix of an empty blob satisfiable, but there is no byte range
        // to send for it, so the whole (empty) blob answers.
        if size == 0 {
            return Ok(None);
        }
        return Ok(Some((size.saturating_sub(suffix), size - 1)));
    }
    let Some(first) = range_position(first) else {
        return Ok(None);
    };
    let last = if last.is_empty() {
        u64::MAX
    } else {
        match range_position(last) {
            Some(last) => last,
            None => return Ok(None),
        }
    };
    if last < first {
        return Ok(None);
    }
    if first >= size {
        return Err(unsatisfiable());
    }
    Ok(Some((first, last.min(size - 1))))
}

/// A byte position as RFC 9110 writes it, `1*DIGIT`. A number too large for `u64` is past
/// the end of any blob, so it saturates rather than making the range invalid.
fn range_position(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// `DELETE /v2/<name>/blobs/<digest>`: the blob leaves this repository.
pub(super) async fn delete(
    state: &RegistryState,
    claims: &Claims,
    name: &RepoName,
    digest: &str,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let digest = parse_digest(digest)?;
    if !state.store.unlink_blob(name, &digest).await? {
        return Err(RegistryError::BlobUnknown);
    }
    let target = format!("hosted/{name}@{digest}");
    state
        .store
        .record_audit_after(&audit_event(claims, request, "blob.delete", target, None))
        .await;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `POST /v2/<name>/blobs/uploads/`: mount, monolithic upload, or open a session.
pub(super) async fn start_upload(
    state: &RegistryState,
    claims: &Claims,
    name: &RepoName,
    request: &RegistryRequest,
    body: Body,
) -> Result<Response, RegistryError> {
    if let Some(mount) = request.param("mount") {
        let digest = parse_digest(mount)?;
        if let Some(response) =
            try_mount(state, claims, name, &digest, request.param("from")).await?
        {
            return Ok(response);
        }
    }
    let algorithm = match request.param("digest-algorithm") {
        Some(name) => Algorithm::parse(name)?,
        None => Algorithm::Sha256,
    };
    if let Some(digest) = request.param("digest") {
        let digest = parse_digest(digest)?;
        let id = state
            .blobs
            .start_upload(name.as_str(), digest.algorithm())
            .await?;
        return complete_upload(state, name, &id, &digest, None, Some(body)).await;
    }
    let id = state.blobs.start_upload(name.as_str(), algorithm).await?;
    Ok(upload_accepted(name, &id, 0))
}

/// Links an existing blob into `name` when the caller may pull it from a repository that
/// has it: the named `from`, or, when `from` is absent, any repository holding the digest.
/// `None` means the client should upload instead.
async fn try_mount(
    state: &RegistryState,
    claims: &Claims,
    name: &RepoName,
    digest: &Digest,
    from: Option<&str>,
) -> Result<Option<Response>, RegistryError> {
    let candidates: Vec<String> = match from {
        Some(from) => vec![from.to_string()],
        None => state.store.repositories_with_blob(digest).await?,
    };
    for candidate in candidates {
        let Ok(source) = RepoName::parse(&candidate) else {
            continue;
        };
        if !may_pull(state, claims, &source).await {
            continue;
        }
        let Some(size) = state.store.linked_blob_size(&source, digest).await? else {
            continue;
        };
        if state.blobs.stat(digest).await?.is_none() {
            continue;
        }
        state.store.link_blob(name, digest, size).await?;
        return Ok(Some(blob_created(name, digest)));
    }
    Ok(None)
}

/// Whether the token holder may read `source`: either the token names it, or the access
/// rule would grant it on asking (clients mounting without `from` cannot know to ask).
async fn may_pull(state: &RegistryState, claims: &Claims, source: &RepoName) -> bool {
    if berth_access::allows(&claims.granted, source.as_str(), Action::Pull) {
        return true;
    }
    let Ok(Some(subject)) = token_subject(state, claims).await else {
        return false;
    };
    match principals::facts_for(&state.store, [source.as_str()]).await {
        Ok(facts) => berth_access::may(&subject, &facts, source.as_str(), Action::Pull),
        Err(_) => false,
    }
}

fn blob_created(name: &RepoName, digest: &Digest) -> Response {
    (
        StatusCode::CREATED,
        [
            (header::LOCATION, blob_location(name, digest)),
            (
                header::HeaderName::from_static("docker-content-digest"),
                digest.to_string(),
            ),
            (header::CONTENT_LENGTH, "0".to_string()),
        ],
    )
        .into_response()
}

fn upload_accepted(name: &RepoName, id: &str, size: u64) -> Response {
    (
        StatusCode::ACCEPTED,
        [
            (header::LOCATION, upload_location(name, id)),
            (header::RANGE, upload_range(size)),
            (
                header::HeaderName::from_static("docker-upload-uuid"),
                id.to_string(),
            ),
            (header::CONTENT_LENGTH, "0".to_string()),
        ],
    )
        .into_response()
}

/// The upload session `id`, if it belongs to `name`.
async fn session_size(
    state: &RegistryState,
    name: &RepoName,
    id: &str,
) -> Result<u64, RegistryError> {
    let status = state.blobs.upload_status(id).await?;
    if status.repository != name.as_str() {
        return Err(RegistryError::BlobUploadUnknown);
    }
    Ok(status.size)
}

/// Parses a `Content-Range` of an upload chunk. The spec writes `<first>-<last>`; some clients
/// send the HTTP form `bytes <first>-<last>/<total>`, which is accepted too.
fn parse_content_range(value: &str) -> Result<(u64, u64), RegistryError> {
    let invalid = || {
        RegistryError::BlobUploadInvalid(format!(
            "malformed Content-Range `{value}`: expected `<first>-<last>`"
        ))
    };
    let trimmed = value.trim();
    let trimmed = trimmed
        .strip_prefix("bytes")
        .map(|s| s.trim_start_matches(['=', ' ']))
        .unwrap_or(trimmed);
    let trimmed = trimmed.split('/').next().unwrap_or("");
    let (first, last) = trimmed.split_once('-').ok_or_else(invalid)?;
    let first: u64 = first.trim().parse().map_err(|_| invalid())?;
    let last: u64 = last.trim().parse().map_err(|_| invalid())?;
    if last < first {
        return Err(invalid());
    }
    Ok((first, last))
}

/// Checks a chunk's `Content-Range` against the session, returning the offset it must start at.
fn chunk_offset(
    request: &RegistryRequest,
    name: &RepoName,
    id: &str,
    current: u64,
) -> Result<Option<(u64, u64)>, RegistryError> {
    let Some(value) = request.header(header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let (first, last) = parse_content_range(value)?;
    if first != current {
        return Err(out_of_order(name, id, first, current));
    }
    if let Some(length) = request
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok())
    {
        if length != last - first + 1 {
            return Err(RegistryError::SizeInvalid(format!(
                "Content-Range covers {} bytes but Content-Length is {length}",
                last - first + 1
            )));
        }
    }
    Ok(Some((first, last)))
}

fn out_of_order(name: &RepoName, id: &str, requested: u64, current: u64) -> RegistryError {
    RegistryError::RangeNotSatisfiable {
        message: format!("chunk starts at byte {requested}, but the upload holds {current} bytes"),
        headers: vec![
            (header::LOCATION, upload_location(name, id)),
            (header::RANGE, upload_range(current)),
        ],
    }
}

/// Appends a request body to a session, mapping an out-of-order race to 416.
async fn append(
    state: &RegistryState,
    name: &RepoName,
    id: &str,
    offset: Option<u64>,
    body: Body,
) -> Result<u64, RegistryError> {
    let _in_flight = InFlight::start();
    match state.blobs.append(id, offset, body_stream(body)).await {
        Err(BlobError::OutOfOrder { requested, current }) => {
            Err(out_of_order(name, id, requested, current))
        }
        other => Ok(other?),
    }
}

/// `PATCH <location>`: a chunk (with `Content-Range`) or a stream (without).
pub(super) async fn patch_upload(
    state: &RegistryState,
    name: &RepoName,
    id: &str,
    request: &RegistryRequest,
    body: Body,
) -> Result<Response, RegistryError> {
    let current = session_size(state, name, id).await?;
    let range = chunk_offset(request, name, id, current)?;
    let size = append(state, name, id, range.map(|r| r.0), body).await?;
    if let Some((_, last)) = range {
        if size != last + 1 {
            return Err(RegistryError::SizeInvalid(format!(
                "Content-Range ends at byte {last} but the upload now holds {size} bytes; GET the upload for its state"
            )));
        }
    }
    Ok(upload_accepted(name, id, size))
}

/// `PUT <location>?digest=`: the last chunk (optional) and the digest that closes the upload.
pub(super) async fn put_upload(
    state: &RegistryState,
    name: &RepoName,
    id: &str,
    request: &RegistryRequest,
    body: Body,
) -> Result<Response, RegistryError> {
    let current = session_size(state, name, id).await?;
    let Some(digest) = request.param("digest") else {
        return Err(RegistryError::DigestInvalid(
            "the `digest` query parameter is required to complete an upload".into(),
        ));
    };
    let digest = parse_digest(digest)?;
    let range = chunk_offset(request, name, id, current)?;
    let has_body = request.header(header::CONTENT_LENGTH) != Some("0");
    let body = has_body.then_some(body);
    complete_upload(state, name, id, &digest, range.map(|r| r.0), body).await
}

/// Appends the final body (if any), verifies the digest, and links the blob into `name`.
/// On failure the session is removed, so nothing partial lingers.
async fn complete_upload(
    state: &RegistryState,
    name: &RepoName,
    id: &str,
    digest: &Digest,
    offset: Option<u64>,
    body: Option<Body>,
) -> Result<Response, RegistryError> {
    if let Some(body) = body {
        if let Err(error) = append(state, name, id, offset, body).await {
            if !matches!(error, RegistryError::RangeNotSatisfiable { .. }) {
                let _ = state.blobs.cancel(id).await;
            }
            return Err(error);
        }
    }
    let size = state.blobs.finish(id, digest).await?;
    state.store.link_blob(name, digest, size).await?;
    Ok(blob_created(name, digest))
}

/// `GET <location>`: how much of the upload the registry holds.
pub(super) async fn upload_status(
    state: &RegistryState,
    name: &RepoName,
    id: &str,
) -> Result<Response, RegistryError> {
    let size = session_size(state, name, id).await?;
    let mut response = upload_accepted(name, id, size);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response.headers_mut().remove(header::CONTENT_LENGTH);
    Ok(response)
}

/// `DELETE <location>`: abandon the upload.
pub(super) async fn cancel_upload(
    state: &RegistryState,
    name: &RepoName,
    id: &str,
) -> Result<Response, RegistryError> {
    session_size(state, name, id).await?;
    state.blobs.cancel(id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        let check = |value: &str, size: u64| -> String {
            match parse_range(value, size) {
                Ok(Some((a, b))) => format!("{a}-{b}"),
                Ok(None) => "whole".into(),
                Err(_) => "416".into(),
            }
        };
        assert_eq!(check("bytes=0-9", 100), "0-9");
        assert_eq!(check("bytes=90-", 100), "90-99");
        assert_eq!(check("bytes=-10", 100), "90-99");
        assert_eq!(check("bytes=50-500", 100), "50-99");
        assert_eq!(check("bytes=-500", 100), "0-99");
        assert_eq!(check("bytes=0-99999999999999999999999", 100), "0-99");
        // Well-formed but starting past the end (or empty): unsatisfiable.
        assert_eq!(check("bytes=100-", 100), "416");
        assert_eq!(check("bytes=100-200", 100), "416");
        assert_eq!(check("bytes=99999999999999999999999-", 100), "416");
        assert_eq!(check("bytes=-0", 100), "416");
        assert_eq!(check("bytes=0-", 0), "416");
        // Not one valid byte range: ignored, so the whole blob is served (RFC 9110 14.2).
        assert_eq!(check("bytes=9-3", 100), "whole");
        assert_eq!(check("bytes=10-5", 100), "whole");
        assert_eq!(check("bytes=a-b", 100), "whole");
        assert_eq!(check("bytes=+1-5", 100), "whole");
        assert_eq!(check("bytes=-", 100), "whole");
        assert_eq!(check("bytes=-5", 0), "whole");
        assert_eq!(check("bytes=0-1,5-6", 100), "whole");
        assert_eq!(check("items=0-1", 100), "whole");
    }

    #[test]
    fn parses_content_ranges() {
        assert_eq!(parse_content_range("0-99").unwrap(), (0, 99));
        assert_eq!(parse_content_range("bytes 10-19/100").unwrap(), (10, 19));
        assert_eq!(parse_content_range("bytes=10-19").unwrap(), (10, 19));
        assert!(parse_content_range("abc").is_err());
        assert!(parse_content_range("9-3").is_err());
        assert!(parse_content_range("-3").is_err());
    }
}
