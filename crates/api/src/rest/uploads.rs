//! Tarball uploads into the hosted registry: `docker save` output or an OCI image layout,
//! posted as the request body and imported by [`crate::import`].
//!
//! The caller acts for workspace `{ws}`: they must be a member of it (or its robot, or a
//! platform admin), see the space, and be allowed to push there by the access rule as a
//! member of `{ws}` alone, the way a registry push would be decided.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::RequestExt as _;
use berth_access::Action;
use berth_api_types::{ErrorBody, Upload, UploadParams};
use berth_identity::principals;
use berth_oci::Tag;
use serde_json::json;
use utoipa::ToSchema;

use super::caller::{Caller, WorkspaceNeed};
use super::error::{ApiError, ErrorResponses};
use super::input::{Json, Path, Query};
use super::spaces::visible_space;
use crate::import::{self, ImportRequest, MAX_UPLOAD_BYTES};
use crate::ApiState;

/// The largest tarball an upload takes, in bytes: the route's own body limit, far above the
/// API's default for JSON bodies.
pub const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES as usize;

/// A tar archive, plain or gzip-compressed, sent as raw bytes.
// Only describes the body for the OpenAPI document (as a binary string, where `Vec<u8>` would
// show as an array of numbers); the handler streams the body itself, so this is never built.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct Tarball(Vec<u8>);

/// Imports a `docker save` tarball (legacy or Docker 25+) or an OCI image layout tarball,
/// gzip-compressed or not, into a hosted space. The body is streamed, never held whole; if
/// anything in the tarball is wrong, nothing of it is stored. For an OCI layout holding an
/// index, the child manifests are stored before the index.
#[utoipa::path(post, path = "/workspaces/{ws}/registries/hosted/spaces/{space}/uploads", tag = "uploads",
    params(("ws" = String, Path, description = "The workspace the caller pushes for"),
           ("space" = String, Path, description = "Hosted space"),
           UploadParams),
    request_body(content = Tarball, content_type = "application/x-tar",
        description = "The tarball, up to 2 GiB; gzip-compressed tarballs are detected by their first bytes"),
    responses((status = 201, description = "The image is stored and tagged", body = Upload),
              (status = 413, description = "The tarball is over 2 GiB", body = ErrorBody),
              ErrorResponses))]
pub async fn upload(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, space)): Path<(String, String)>,
    Query(params): Query<UploadParams>,
    request: Request,
) -> Result<(StatusCode, Json<Upload>), ApiError> {
    let workspace = caller.workspace(&state, &ws, WorkspaceNeed::Push).await?;
    let space = visible_space(&state, &caller, berth_store::hosted::HOSTED, &space).await?;
    let facts = principals::facts_for(&state.store, [space.name.as_str()]).await?;
    if !berth_access::may(
        &caller.subject.acting_for(workspace.id),
        &facts,
        &space.name,
        Action::Push,
    ) {
        return Err(ApiError::Forbidden(format!(
            "you may not push to space `{}` for workspace `{}`: that takes an admin or editor \
             role (or a robot with push) in a workspace bound to the space",
            space.name, workspace.name
        )));
    }
    let repository = params
        .repository
        .as_deref()
        .map(|path| import::repository_in_space(&space.name, path))
        .transpose()
        .map_err(ApiError::Invalid)?;
    let tag = params
        .tag
        .as_deref()
        .map(Tag::parse)
        .transpose()
        .map_err(|e| ApiError::Invalid(format!("tag: {e}")))?;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_UPLOAD_BYTES) {
        return Err(too_large());
    }
    let imported = import::import(
        &state,
        ImportRequest {
            space: space.name.clone(),
            repository,
            tag,
            pushed_by: caller.name().to_string(),
        },
        request.into_limited_body(),
    )
    .await?;

    let event = caller.event(
        "image.upload",
        format!("hosted/{}@{}", imported.repository, imported.digest),
        Some(&workspace.name),
        json!({
            "tag": imported.tag.as_str(),
            "media_type": imported.media_type,
            "size": imported.size,
            "format": imported.format.as_str(),
        }),
    );
    // Like a registry push, the audit event follows the commit: the store writes manifests
    // in their own transaction, and the client must learn that the image is in.
    state.store.record_audit_after(&event).await;
    let target = berth_scanner::ScanTarget {
        registry_id: state.store.hosted_registry_id(),
        repository: imported.repository.to_string(),
        digest: imported.digest.clone(),
    };
    state.scans.scan_push(&target, true).await;
    let reference = format!(
        "{}/{}:{}",
        state.hosted_host, imported.repository, imported.tag
    );
    Ok((
        StatusCode::CREATED,
        Json(Upload {
            repository: imported.repository.to_string(),
            tag: imported.tag.to_string(),
            digest: imported.digest.to_string(),
            media_type: imported.media_type,
            size: imported.size,
            reference,
        }),
    ))
}

fn too_large() -> ApiError {
    ApiError::TooLarge(import::too_large_message())
}
