//! Listings: tags, the catalog, and referrers, with `n`/`last` pagination and `Link` headers.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_access::{Action, Subject};
use berth_identity::principals;
use berth_identity::tokens::Claims;
use berth_oci::RepoName;
use serde_json::{json, Value};

use super::{parse_digest, token_subject, RegistryError, RegistryRequest};
use crate::RegistryState;

/// A page without `n` holds at most this many entries; a larger `n` is capped to it. Either
/// way a `Link` header points at the rest, so no client is silently cut short.
const MAX_PAGE: i64 = 1000;

pub(super) struct Page {
    pub limit: i64,
    pub last: Option<String>,
}

pub(super) fn page(request: &RegistryRequest) -> Result<Page, RegistryError> {
    let limit = match request.param("n") {
        None => MAX_PAGE,
        Some(n) => n
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                RegistryError::Unsupported(format!(
                    "pagination parameter n=`{n}` is not a non-negative integer"
                ))
            })?
            .min(MAX_PAGE),
    };
    Ok(Page {
        limit,
        last: request.param("last").map(str::to_string),
    })
}

/// Builds the JSON response and, when the page is full, the `Link` to the next one.
pub(super) fn paged_response(
    path: &str,
    key: &str,
    extra: Option<(&str, Value)>,
    mut items: Vec<String>,
    limit: i64,
) -> Response {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let mut body = serde_json::Map::new();
    if let Some((k, v)) = extra {
        body.insert(k.into(), v);
    }
    body.insert(key.into(), json!(items));
    let mut response = Json(Value::Object(body)).into_response();
    if more {
        if let Some(last) = items.last() {
            let link = format!(
                "<{path}?n={limit}&last={}>; rel=\"next\"",
                url::form_urlencoded::byte_serialize(last.as_bytes()).collect::<String>()
            );
            if let Ok(value) = header::HeaderValue::from_str(&link) {
                response.headers_mut().insert(header::LINK, value);
            }
        }
    }
    response
}

/// `GET /v2/<name>/tags/list?n=&last=`.
pub(super) async fn tags(
    state: &RegistryState,
    name: &RepoName,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let page = page(request)?;
    if page.limit == 0 {
        // Asking the store for no tags still answers whether the repository is listable
        // (it holds manifests), so `n=0` agrees with every other page size.
        if state.store.list_tags(name, None, 0).await?.is_none() {
            return Err(RegistryError::NameUnknown);
        }
        return Ok(Json(json!({"name": name.as_str(), "tags": []})).into_response());
    }
    let Some(tags) = state
        .store
        .list_tags(name, page.last.as_deref(), page.limit + 1)
        .await?
    else {
        return Err(RegistryError::NameUnknown);
    };
    Ok(paged_response(
        &format!("/v2/{name}/tags/list"),
        "tags",
        Some(("name", json!(name.as_str()))),
        tags,
        page.limit,
    ))
}

/// `GET /v2/_catalog?n=&last=`: every caller may ask; each sees only what they may pull.
pub(super) async fn catalog(
    state: &RegistryState,
    claims: &Claims,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let page = page(request)?;
    if page.limit == 0 {
        return Ok(Json(json!({"repositories": []})).into_response());
    }
    let subject = token_subject(state, claims)
        .await?
        .unwrap_or(Subject::Anonymous);
    // Filter page by page until the page is full or the catalog ends, so hidden repositories
    // never shorten a page the client would take as the last.
    let mut visible = Vec::new();
    let mut cursor = page.last.clone();
    loop {
        let batch = state
            .store
            .catalog(cursor.as_deref(), page.limit + 1)
            .await?;
        let exhausted = (batch.len() as i64) < page.limit + 1;
        cursor = batch.last().cloned();
        let facts = principals::facts_for(&state.store, batch.iter().map(String::as_str)).await?;
        visible.extend(
            batch
                .into_iter()
                .filter(|name| berth_access::may(&subject, &facts, name, Action::Pull)),
        );
        if exhausted || visible.len() as i64 > page.limit {
            break;
        }
    }
    Ok(paged_response(
        "/v2/_catalog",
        "repositories",
        None,
        visible,
        page.limit,
    ))
}

/// `GET /v2/<name>/referrers/<digest>?artifactType=`: an image index of the manifests whose
/// `subject` is `<digest>`. Never 404 for a valid request, as the spec requires.
pub(super) async fn referrers(
    state: &RegistryState,
    name: &RepoName,
    digest: &str,
    request: &RegistryRequest,
) -> Result<Response, RegistryError> {
    let subject = parse_digest(digest)?;
    let artifact_type = request.param("artifactType").filter(|t| !t.is_empty());
    let referrers = state.store.referrers(name, &subject, artifact_type).await?;
    let manifests: Vec<Value> = referrers
        .into_iter()
        .map(|r| {
            let mut descriptor = json!({
                "mediaType": r.media_type,
                "digest": r.digest,
                "size": r.size,
            });
            if let Some(t) = r.artifact_type {
                descriptor["artifactType"] = json!(t);
            }
            let annotations: Value = serde_json::from_str(&r.annotations).unwrap_or(json!({}));
            if annotations.as_object().is_some_and(|a| !a.is_empty()) {
                descriptor["annotations"] = annotations;
            }
            descriptor
        })
        .collect();
    let body = json!({
        "schemaVersion": 2,
        "mediaType": berth_oci::media_types::OCI_INDEX,
        "manifests": manifests,
    });
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, berth_oci::media_types::OCI_INDEX)],
        body.to_string(),
    )
        .into_response();
    if artifact_type.is_some() {
        response.headers_mut().insert(
            "OCI-Filters-Applied",
            header::HeaderValue::from_static("artifactType"),
        );
    }
    Ok(response)
}
