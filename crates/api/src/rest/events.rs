//! Events from external registries: CNCF Distribution notifications and Harbor webhooks, each
//! telling which repository changed so that only it is synced again, within seconds.
//!
//! The endpoint is `/registry-events/{id}` with the registry's own secret as a bearer token
//! (made by `POST …/registries/{reg}/event-secret`, shown once, stored as its SHA-256). An
//! unknown registry and a wrong secret get the same 401, and both are audited, so probing
//! for registries learns nothing and an admin sees who tried.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use berth_api_types::EventReceipt;
use berth_store::audit::OwnedAuditEvent;
use serde::Deserialize;

use super::error::{ApiError, ErrorResponses};
use super::input::{Json, Path};
use crate::ApiState;

/// A Distribution notification envelope (`application/vnd.docker.distribution.events.v1+json`).
#[derive(Deserialize)]
struct Envelope {
    events: Vec<DistributionEvent>,
}

#[derive(Deserialize)]
struct DistributionEvent {
    action: String,
    target: DistributionTarget,
}

#[derive(Deserialize)]
struct DistributionTarget {
    repository: String,
    #[serde(default, rename = "mediaType")]
    media_type: String,
}

/// A Harbor webhook payload (`PUSH_ARTIFACT`, `DELETE_ARTIFACT`, …).
#[derive(Deserialize)]
struct HarborEvent {
    #[serde(rename = "type")]
    kind: String,
    event_data: HarborEventData,
}

#[derive(Deserialize)]
struct HarborEventData {
    repository: HarborRepository,
}

#[derive(Deserialize)]
struct HarborRepository {
    repo_full_name: String,
}

/// The repositories an event body names, for the actions that change a catalog: pushes and
/// deletes. Pulls and mounts change nothing.
fn changed_repositories(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let mut names: Vec<String> = if let Ok(envelope) = serde_json::from_slice::<Envelope>(body) {
        envelope
            .events
            .into_iter()
            // A pushed blob changes no catalog until a manifest names it, and reacting to it
            // would sync the repository before the manifest arrives.
            .filter(|e| match e.action.as_str() {
                "push" => is_manifest(&e.target.media_type),
                "delete" => true,
                _ => false,
            })
            .map(|e| e.target.repository)
            .collect()
    } else if let Ok(event) = serde_json::from_slice::<HarborEvent>(body) {
        match event.kind.as_str() {
            "PUSH_ARTIFACT" | "DELETE_ARTIFACT" => vec![event.event_data.repository.repo_full_name],
            _ => Vec::new(),
        }
    } else {
        return Err(ApiError::Invalid(
            "not a Distribution notification envelope nor a Harbor webhook payload".into(),
        ));
    };
    for name in &names {
        if berth_oci::RepoName::parse(name).is_err() {
            return Err(ApiError::Invalid(format!(
                "`{name}` is not a repository name"
            )));
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

fn is_manifest(media_type: &str) -> bool {
    use berth_oci::media_types::*;
    [
        OCI_MANIFEST,
        OCI_INDEX,
        DOCKER_MANIFEST,
        DOCKER_MANIFEST_LIST,
        DOCKER_SCHEMA1,
        DOCKER_SCHEMA1_SIGNED,
    ]
    .contains(&media_type)
}

/// Receives a registry's events and queues a sync of each repository they name.
#[utoipa::path(post, path = "/registry-events/{id}", tag = "registries",
    params(("id" = i64, Path, description = "The registry's id, as its event secret's endpoint names it")),
    request_body(content = String, description = "A Distribution notification envelope or a Harbor webhook payload"),
    security(("bearer" = [])),
    responses((status = 202, body = EventReceipt), ErrorResponses))]
pub async fn receive(
    State(state): State<ApiState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<EventReceipt>), ApiError> {
    let source = berth_http::client_address(request.extensions());
    let body: Bytes = axum::body::to_bytes(request.into_body(), EVENT_BODY_LIMIT)
        .await
        .map_err(|_| ApiError::TooLarge("an event body is at most 1 MiB".into()))?;
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let registry = state.store.registry_by_id(id).await?;
    let accepted = registry.as_ref().filter(|r| {
        r.event_secret_sha256
            .as_deref()
            .is_some_and(|digest| berth_identity::principals::secret_matches(presented, digest))
    });
    let Some(registry) = accepted else {
        let reason = match &registry {
            None => "no such registry",
            Some(r) if r.event_secret_sha256.is_none() => "the registry has no event secret",
            Some(_) if presented.is_empty() => "no bearer secret",
            Some(_) => "wrong secret",
        };
        state
            .store
            .record_audit_after(&OwnedAuditEvent {
                actor: "anonymous".into(),
                action: "registry.event.refused".into(),
                target: format!("registry-events/{id}"),
                workspace: registry.as_ref().and_then(|r| r.workspace.clone()),
                source,
                detail: Some(serde_json::json!({ "reason": reason }).to_string()),
                ..Default::default()
            })
            .await;
        return Err(ApiError::Unauthorized);
    };
    let repositories = changed_repositories(&body)?;
    if !repositories.is_empty() {
        state
            .sync
            .request_repositories(registry, &repositories)
            .await
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
    }
    Ok((StatusCode::ACCEPTED, Json(EventReceipt { repositories })))
}

/// Registries batch their events; a megabyte holds hundreds.
const EVENT_BODY_LIMIT: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_and_deletes_name_their_repositories_and_pulls_nothing() {
        let distribution = br#"{"events":[
            {"action":"push","target":{"repository":"team/web","tag":"1.0","mediaType":"application/vnd.oci.image.manifest.v1+json"}},
            {"action":"push","target":{"repository":"team/blobs","mediaType":"application/octet-stream"}},
            {"action":"pull","target":{"repository":"team/other"}},
            {"action":"delete","target":{"repository":"team/api"}},
            {"action":"push","target":{"repository":"team/web","tag":"1.1","mediaType":"application/vnd.docker.distribution.manifest.v2+json"}}]}"#;
        assert_eq!(
            changed_repositories(distribution).unwrap(),
            ["team/api", "team/web"]
        );
        let harbor = br#"{"type":"PUSH_ARTIFACT","occur_at":1,"operator":"admin",
            "event_data":{"resources":[{"tag":"v1"}],
            "repository":{"name":"web","namespace":"team","repo_full_name":"team/web"}}}"#;
        assert_eq!(changed_repositories(harbor).unwrap(), ["team/web"]);
        let scan = br#"{"type":"SCANNING_COMPLETED","event_data":{"repository":{"repo_full_name":"team/web"}}}"#;
        assert!(changed_repositories(scan).unwrap().is_empty());
        assert!(changed_repositories(b"{}").is_err());
        let bad = br#"{"events":[{"action":"delete","target":{"repository":"../etc"}}]}"#;
        assert!(changed_repositories(bad).is_err());
    }
}
