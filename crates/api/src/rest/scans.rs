//! Vulnerability scans of an artifact: starting and stopping one, the report, the log.
//!
//! Reading a report takes what reading the artifact takes (the repository in the workspace's
//! list); starting or stopping a scan takes push rights in its space, as `berth-access`
//! decides for any change to a repository.

use axum::extract::State;
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_access::Action;
use berth_api_types::{
    ListParams, PackageView, ReferrerView, SbomParams, ScanLog, ScanLogLine, ScanRequested,
    VulnerabilityFilters, VulnerabilityReport, VulnerabilityView,
};
use berth_scanner::sbom::{sbom, SbomFormat, SbomSubject};
use berth_scanner::{vulnerability_matches, Cancelled, ScanTarget};

use super::caller::Caller;
use super::error::{ApiError, ErrorResponses};
use super::images::{locate, parse_digest, Located};
use super::input::{page_of_all, timestamp, Json, PageRequest, Path, Query};
use crate::import::{attach_referrer, Attachment};
use crate::ApiState;

/// The artifact `digest` of a located repository, which must exist there.
async fn artifact_target(
    state: &ApiState,
    located: &Located,
    digest: &str,
) -> Result<ScanTarget, ApiError> {
    let digest = parse_digest(digest)?;
    located.artifact(state, &digest).await?;
    Ok(ScanTarget {
        registry_id: located.space.registry_id,
        repository: located.repository.name.clone(),
        digest,
    })
}

/// Queues a scan of the artifact (each image of an index), or answers the one queued; a
/// running one runs again once it ends.
#[utoipa::path(post, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}/artifacts/{digest}/scan", tag = "scans",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), ("digest" = String, Path)),
    responses((status = 202, body = ScanRequested), ErrorResponses))]
pub async fn start_scan(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo, digest)): Path<(String, String, String, String)>,
) -> Result<(StatusCode, Json<ScanRequested>), ApiError> {
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    located.require(&caller, Action::Push, "scan images of")?;
    let target = artifact_target(&state, &located, &digest).await?;
    let enqueued = state.scans.request(&target, caller.subject.name()).await?;
    let scan = state.scans.summary(&target.digest.to_string()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ScanRequested {
            queued: i64::from(enqueued.created || enqueued.rerun),
            scan: Some(scan),
        }),
    ))
}

/// Stops the artifact's queued or running scan; the last finished report stays.
#[utoipa::path(delete, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}/artifacts/{digest}/scan", tag = "scans",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), ("digest" = String, Path)),
    responses((status = 202, body = ScanRequested, description = "Asked to stop"), ErrorResponses))]
pub async fn stop_scan(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo, digest)): Path<(String, String, String, String)>,
) -> Result<(StatusCode, Json<ScanRequested>), ApiError> {
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    located.require(&caller, Action::Push, "stop scans of")?;
    let target = artifact_target(&state, &located, &digest).await?;
    let digest = target.digest.to_string();
    match state.scans.cancel(&target).await? {
        Cancelled::Asked => {}
        Cancelled::NoneLive => {
            return Err(ApiError::Conflict(format!(
                "no scan of {digest} is queued or running"
            )))
        }
        Cancelled::AskedElsewhere => {
            return Err(ApiError::Conflict(format!(
                "the scan of {digest} was asked for from another repository holding the \
                 image; it can be stopped there"
            )))
        }
    }
    let scan = state.scans.summary(&digest).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ScanRequested {
            queued: 0,
            scan: Some(scan),
        }),
    ))
}

/// The artifact's vulnerabilities from its last finished scan, most severe first, filtered
/// by severity and fixability.
#[utoipa::path(get, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}/artifacts/{digest}/vulnerabilities", tag = "scans",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), ("digest" = String, Path), VulnerabilityFilters, ListParams),
    responses((status = 200, body = VulnerabilityReport), ErrorResponses))]
pub async fn vulnerabilities(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo, digest)): Path<(String, String, String, String)>,
    Query(filters): Query<VulnerabilityFilters>,
    Query(list): Query<ListParams>,
) -> Result<Json<VulnerabilityReport>, ApiError> {
    let page = PageRequest::of(&list)?;
    let min_severity = match filters.severity.as_deref() {
        None => None,
        Some(s) if berth_scanner::severity_rank(s).is_some() => Some(s),
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "severity must be critical, high, medium, low, none or unknown, not `{other}`"
            )))
        }
    };
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    let target = artifact_target(&state, &located, &digest).await?;
    let digest = target.digest.to_string();
    let scan = state.scans.summary(&digest).await?;
    let all: Vec<VulnerabilityView> = match state.store.scan_report(&digest).await? {
        Some(report) => serde_json::from_str(&report.vulnerabilities)
            .map_err(|e| anyhow::anyhow!("stored report of {digest}: {e}"))?,
        None => Vec::new(),
    };
    let matching: Vec<(usize, VulnerabilityView)> = all
        .into_iter()
        .filter(|v| vulnerability_matches(v, min_severity, filters.fixable))
        .enumerate()
        .collect();
    let found = page_of_all(
        matching,
        &page,
        |(position, _)| format!("{position:08}"),
        |(_, v)| v,
    );
    Ok(Json(VulnerabilityReport {
        digest,
        scan,
        items: found.items,
        next_cursor: found.next_cursor,
        total: found.total,
    }))
}

/// The log of the artifact's last finished scan: what was read, which layers came from the
/// cache, what could not be parsed, the database version.
#[utoipa::path(get, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}/artifacts/{digest}/scan-log", tag = "scans",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), ("digest" = String, Path)),
    responses((status = 200, body = ScanLog), ErrorResponses))]
pub async fn scan_log(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo, digest)): Path<(String, String, String, String)>,
) -> Result<Json<ScanLog>, ApiError> {
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    let target = artifact_target(&state, &located, &digest).await?;
    let digest = target.digest.to_string();
    let scan = state.scans.summary(&digest).await?;
    let report = state.store.scan_report(&digest).await?;
    let lines: Vec<ScanLogLine> = match &report {
        Some(report) => serde_json::from_str(&report.log)
            .map_err(|e| anyhow::anyhow!("stored scan log of {digest}: {e}"))?,
        None => Vec::new(),
    };
    Ok(Json(ScanLog {
        digest,
        scan,
        started_at: report.map(|r| timestamp(r.started_at)),
        lines,
    }))
}

/// The SBOM of the located artifact `digest` in the format `format` names, from its last
/// successful scan; with the format and the artifact's digest, media type and size.
async fn sbom_document(
    state: &ApiState,
    located: &Located,
    digest: &str,
    format: Option<&str>,
) -> Result<(SbomFormat, Vec<u8>, berth_store::hosted::ArtifactRecord), ApiError> {
    let name = format.unwrap_or("spdx-json");
    let format = SbomFormat::parse(name).ok_or_else(|| {
        ApiError::Invalid(format!(
            "format must be spdx-json or cyclonedx-json, not `{name}`"
        ))
    })?;
    let digest = parse_digest(digest)?;
    let artifact = located.artifact(state, &digest).await?;
    let digest = digest.to_string();
    let report = state
        .store
        .scan_report(&digest)
        .await?
        .filter(|r| r.status == "success" && r.source == berth_store::scans::BERTH_SOURCE)
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "{digest} has no successful scan by Berth to list its packages; scan it first"
            ))
        })?;
    let packages: Vec<PackageView> = serde_json::from_str(&report.packages)
        .map_err(|e| anyhow::anyhow!("stored packages of {digest}: {e}"))?;
    let reference = format!("{}/{}", located.space.host, located.repository.name);
    let namespace = format!(
        "{}/api/v1/sbom/{}/{}",
        state.external_url, digest, report.finished_at
    );
    let subject = SbomSubject {
        reference: &reference,
        digest: &digest,
        created: report.finished_at,
        namespace: &namespace,
    };
    let document = sbom(format, &subject, &packages);
    let bytes = serde_json::to_vec_pretty(&document).expect("a document serialises");
    Ok((format, bytes, artifact))
}

/// The artifact's software bill of materials, from the packages its last successful scan read:
/// SPDX 2.3 or CycloneDX 1.5, as JSON. 409 before a scan has read the image.
#[utoipa::path(get, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}/artifacts/{digest}/sbom", tag = "scans",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), ("digest" = String, Path), SbomParams),
    responses((status = 200, description = "The SBOM, as `application/spdx+json` or `application/vnd.cyclonedx+json`", body = Object), ErrorResponses))]
pub async fn get_sbom(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo, digest)): Path<(String, String, String, String)>,
    Query(params): Query<SbomParams>,
) -> Result<Response, ApiError> {
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    let (format, bytes, _) =
        sbom_document(&state, &located, &digest, params.format.as_deref()).await?;
    Ok(([(header::CONTENT_TYPE, format.media_type())], bytes).into_response())
}

/// Attaches the artifact's SBOM to it as an OCI artifact whose `subject` is the image, listed
/// by the registry's referrers API (push rights; hosted images only). Audited `sbom.attach`.
#[utoipa::path(post, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}/artifacts/{digest}/sbom", tag = "scans",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), ("digest" = String, Path), SbomParams),
    responses((status = 201, body = ReferrerView), ErrorResponses))]
pub async fn attach_sbom(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo, digest)): Path<(String, String, String, String)>,
    Query(params): Query<SbomParams>,
) -> Result<(StatusCode, Json<ReferrerView>), ApiError> {
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    located.require(&caller, Action::Push, "attach SBOMs to images of")?;
    located.require_hosted()?;
    let (format, bytes, artifact) =
        sbom_document(&state, &located, &digest, params.format.as_deref()).await?;
    let repository = located.hosted_name()?;
    let subject = parse_digest(&artifact.digest)?;
    let attachment = Attachment {
        repository: &repository,
        subject: (&subject, &artifact.media_type, artifact.manifest_size),
        artifact_type: format.media_type(),
        content: bytes.into(),
        annotations: serde_json::json!({
            "org.opencontainers.image.created": berth_store::rfc3339(berth_store::now_millis()),
            "dev.berth.sbom.scanner": format!("{} {}", berth_scanner::SCANNER_NAME, berth_scanner::SCANNER_VERSION),
        }),
        pushed_by: caller.name(),
    };
    let (referrer, size) = attach_referrer(&state, attachment).await?;
    let event = caller.event(
        "sbom.attach",
        format!("{}@{}", located.target(), artifact.digest),
        Some(&located.workspace.name),
        serde_json::json!({"format": format.media_type(), "referrer": referrer.to_string()}),
    );
    state.store.record_audit_after(&event).await;
    Ok((
        StatusCode::CREATED,
        Json(ReferrerView {
            digest: referrer.to_string(),
            media_type: berth_oci::media_types::OCI_MANIFEST.to_string(),
            artifact_type: Some(format.media_type().to_string()),
            size,
        }),
    ))
}
