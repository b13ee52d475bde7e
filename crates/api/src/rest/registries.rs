//! Registries: `hosted`, platform registries (configured by platform admins, listed to every
//! user) and workspace registries (configured by a workspace's admins, visible to that
//! workspace alone). Both kinds share one body and one set of operations here; the paths
//! differ only in who owns the registry.
//!
//! Passwords are encrypted with the data dir's key before they are stored, and no answer or
//! log line ever carries them: answers say only `has_password`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use berth_api_types::{
    from_wire_name, wire_name, EventSecret, Health, HealthStatus, ListParams, NewRegistry, Page,
    Registry, RegistryKind, RegistryPatch, RegistrySync, ScanRequested, Secret, SyncMode,
    SyncProgress, SyncRequest, SyncState,
};
use berth_store::registry_records::{
    HealthCheck, NewRegistry as StoreNewRegistry, RegistryChange, RegistryOwner, RegistryRecord,
};
use berth_sync::{Mode, SyncError, SyncStatus};
use serde_json::json;

use super::caller::{Caller, WorkspaceNeed};
use super::error::{ApiError, ErrorResponses};
use super::input::{self, timestamp, Json, PageRequest, Path, Query};
use crate::ApiState;

/// Follow lists longer than this belong in a catalog.
const MAX_FOLLOW_ENTRIES: usize = 10_000;
/// Registry passwords are often tokens, some of them long JWTs.
const MAX_PASSWORD_BYTES: usize = 8192;

/// A health check outcome as the store records it (the API's names); anything else, such as a
/// registry never checked, is unknown.
fn health_status(text: &str) -> HealthStatus {
    from_wire_name(text).unwrap_or(HealthStatus::Unknown)
}

/// Whose registries a request is about.
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    Platform,
    Workspace(&'a str),
}

/// What a request does to registries, which decides who may make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    List,
    Read,
    Change,
}

/// Checks `need` in `scope` and answers the store's owner for it.
async fn authorize(
    state: &ApiState,
    caller: &Caller,
    scope: Scope<'_>,
    need: Need,
) -> Result<RegistryOwner, ApiError> {
    match scope {
        Scope::Platform => {
            caller.require_user()?;
            if need == Need::Change {
                caller.require_platform_admin()?;
            }
            Ok(RegistryOwner::Platform)
        }
        Scope::Workspace(name) => {
            let need = match need {
                // Registry URLs and usernames are for members; robots only push and pull.
                Need::List | Need::Read => WorkspaceNeed::Read,
                Need::Change => WorkspaceNeed::Admin,
            };
            let workspace = caller.workspace(state, name, need).await?;
            Ok(RegistryOwner::Workspace(workspace.id))
        }
    }
}

impl<'a> Scope<'a> {
    fn target(self, registry: &str) -> String {
        match self {
            Scope::Platform => format!("registry/{registry}"),
            Scope::Workspace(ws) => format!("workspace/{ws}/registry/{registry}"),
        }
    }

    /// The workspace an audit event of this scope belongs to, so its admins can read it.
    fn workspace(self) -> Option<&'a str> {
        match self {
            Scope::Platform => None,
            Scope::Workspace(ws) => Some(ws),
        }
    }
}

/// The scope's registry `name` after checking `need`, with its owner; 404 when it is missing.
async fn registry_of(
    state: &ApiState,
    caller: &Caller,
    scope: Scope<'_>,
    name: &str,
    need: Need,
) -> Result<(RegistryOwner, RegistryRecord), ApiError> {
    let owner = authorize(state, caller, scope, need).await?;
    let registry = state
        .store
        .registry(owner, name)
        .await?
        .ok_or_else(|| not_found(name))?;
    Ok((owner, registry))
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format_args!("registry `{name}`"))
}

fn view(state: &ApiState, registry: RegistryRecord, sync: Option<RegistrySync>) -> Registry {
    // The schema's CHECK admits only the four kinds, so the fallback is never taken.
    let kind = from_wire_name(&registry.kind).unwrap_or(RegistryKind::Distribution);
    let hosted = kind == RegistryKind::Hosted;
    Registry {
        url: if hosted {
            state.external_url.to_string()
        } else {
            registry.url
        },
        kind,
        name: registry.name,
        username: Some(registry.username).filter(|u| !u.is_empty()),
        insecure: registry.insecure,
        description: registry.description,
        workspace: registry.workspace,
        has_password: registry.secret.is_some(),
        health: Health {
            status: health_status(&registry.health),
            reason: registry.health_reason,
            checked_at: registry.health_checked_at.map(timestamp),
            listing: registry.health_listing,
        },
        created_at: timestamp(registry.created_at),
        follow: berth_sync::follow_list(&registry.follow),
        sync_interval_seconds: (!hosted).then(|| {
            registry
                .sync_interval_seconds
                .unwrap_or(state.sync.settings().default_interval.as_secs() as i64)
        }),
        sync,
    }
}

/// A registry's sync state as the API shows it; `None` for `hosted`.
async fn sync_of(
    state: &ApiState,
    registry: &RegistryRecord,
) -> Result<Option<RegistrySync>, ApiError> {
    if registry.is_hosted() {
        return Ok(None);
    }
    let status = state.sync.status(registry).await?;
    Ok(Some(sync_view(status)))
}

fn sync_view(status: SyncStatus) -> RegistrySync {
    let live = status.job.as_ref().filter(|j| j.state.is_live());
    let state = match live.map(|j| j.state) {
        Some(berth_store::jobs::JobState::Running) => SyncState::Running,
        Some(_) => SyncState::Queued,
        None => SyncState::Idle,
    };
    let record = status.record.unwrap_or_default();
    RegistrySync {
        state,
        mode: status.mode.map(|m| match m {
            Mode::Full => SyncMode::Full,
            Mode::Incremental => SyncMode::Incremental,
        }),
        progress: live.and(status.progress).map(|p| SyncProgress {
            repositories_seen: p.repositories_seen,
            repositories_total: p.repositories_total,
            manifests_fetched: p.manifests_fetched,
        }),
        last_started_at: record.last_started_at.map(timestamp),
        last_finished_at: record.last_finished_at.map(timestamp),
        last_succeeded_at: record.last_succeeded_at.map(timestamp),
        stale: record.last_error.is_some() && record.last_succeeded_at.is_some(),
        last_error: record.last_error,
        last_error_at: record.last_error_at.map(timestamp),
        repositories: record.repositories,
        tags: record.tags,
        manifests_fetched: record.manifests_fetched,
        duration_ms: record.duration_ms,
        next_at: status.next_at.map(timestamp),
    }
}

/// Checks a follow list: repository names, and prefixes ending in `/`.
fn check_follow(follow: &[String]) -> Result<String, ApiError> {
    if follow.len() > MAX_FOLLOW_ENTRIES {
        return Err(ApiError::Invalid(format!(
            "follow must list at most {MAX_FOLLOW_ENTRIES} repositories or prefixes"
        )));
    }
    for entry in follow {
        let name = entry.strip_suffix('/').unwrap_or(entry);
        if berth_oci::RepoName::parse(name).is_err() {
            return Err(ApiError::Invalid(format!(
                "follow: `{entry}` is neither a repository name nor a prefix ending in `/`"
            )));
        }
    }
    Ok(follow.join("\n"))
}

fn check_interval(seconds: i64) -> Result<(), ApiError> {
    if !(0..=366 * 86_400).contains(&seconds) || (1..60).contains(&seconds) {
        return Err(ApiError::Invalid(
            "sync_interval_seconds must be 0 (no scheduled syncs) or 60 to 31622400".into(),
        ));
    }
    Ok(())
}

fn check_kind(kind: RegistryKind) -> Result<(), ApiError> {
    if kind == RegistryKind::Hosted {
        return Err(ApiError::Invalid(
            "kind must be distribution, harbor or oci: the hosted registry exists once".into(),
        ));
    }
    Ok(())
}

fn check_username(username: &str) -> Result<(), ApiError> {
    if username.len() > 255 || username.chars().any(char::is_control) {
        return Err(ApiError::Invalid(
            "username must be at most 255 bytes without control characters".into(),
        ));
    }
    Ok(())
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::Invalid(format!(
            "password must be at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

async fn list(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    list: ListParams,
) -> Result<Json<Page<Registry>>, ApiError> {
    let owner = authorize(&state, &caller, scope, Need::List).await?;
    let page = PageRequest::of(&list)?;
    let found = state
        .store
        .registries(owner, &page.after, page.limit + 1)
        .await?;
    let mut syncs = HashMap::new();
    for registry in &found.items {
        syncs.insert(registry.id, sync_of(&state, registry).await?);
    }
    Ok(Json(input::fetched_page(
        found.items,
        found.total,
        page.limit,
        |r| r.name.clone(),
        |r| {
            let sync = syncs.remove(&r.id).flatten();
            view(&state, r, sync)
        },
    )))
}

async fn create(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    new: NewRegistry,
) -> Result<(StatusCode, Json<Registry>), ApiError> {
    let owner = authorize(&state, &caller, scope, Need::Change).await?;
    input::resource_name("registry name", &new.name)?;
    // A workspace registry named like a platform registry would make image references and
    // paths ambiguous for the workspace's members.
    if matches!(owner, RegistryOwner::Workspace(_))
        && (new.name == "hosted"
            || state
                .store
                .registry(RegistryOwner::Platform, &new.name)
                .await?
                .is_some())
    {
        return Err(ApiError::Conflict(format!(
            "`{}` is the name of a platform registry; choose another name",
            new.name
        )));
    }
    check_kind(new.kind)?;
    let url = input::registry_url("url", &new.url)?;
    let username = new.username.unwrap_or_default();
    check_username(&username)?;
    let password = new.password.filter(|p| !p.expose().is_empty());
    if let Some(password) = &password {
        check_password(password.expose())?;
    }
    let description = new.description.unwrap_or_default();
    input::text("description", &description)?;
    let insecure = new.insecure.unwrap_or(false);
    let follow = check_follow(new.follow.as_deref().unwrap_or_default())?;
    if let Some(seconds) = new.sync_interval_seconds {
        check_interval(seconds)?;
    }
    let secret = password.map(|p| state.secrets.seal(p.expose()));
    let event = caller.event(
        "registry.create",
        scope.target(&new.name),
        scope.workspace(),
        json!({
            "kind": new.kind, "url": url, "username": username, "insecure": insecure,
            "has_password": secret.is_some(),
        }),
    );
    let registry = state
        .store
        .create_registry(
            StoreNewRegistry {
                owner,
                name: &new.name,
                kind: &wire_name(&new.kind),
                url: &url,
                username: &username,
                secret: secret.as_deref(),
                insecure,
                description: &description,
                follow: &follow,
                sync_interval_seconds: new.sync_interval_seconds,
            },
            &event.borrow(),
        )
        .await?;
    // A new registry is synced at once, so its images appear without waiting for the schedule.
    state
        .sync
        .request(&registry, Mode::Full, caller.name())
        .await?;
    let sync = sync_of(&state, &registry).await?;
    Ok((StatusCode::CREATED, Json(view(&state, registry, sync))))
}

async fn get(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    name: &str,
) -> Result<Json<Registry>, ApiError> {
    let (_, registry) = registry_of(&state, &caller, scope, name, Need::Read).await?;
    let sync = sync_of(&state, &registry).await?;
    Ok(Json(view(&state, registry, sync)))
}

async fn update(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    name: &str,
    patch: RegistryPatch,
) -> Result<Json<Registry>, ApiError> {
    let owner = authorize(&state, &caller, scope, Need::Change).await?;
    if let Some(kind) = patch.kind {
        check_kind(kind)?;
    }
    let url = patch
        .url
        .as_deref()
        .map(|url| input::registry_url("url", url))
        .transpose()?;
    if let Some(username) = &patch.username {
        check_username(username)?;
    }
    if let Some(password) = &patch.password {
        check_password(password.expose())?;
    }
    if let Some(description) = &patch.description {
        input::text("description", description)?;
    }
    let follow = patch.follow.as_deref().map(check_follow).transpose()?;
    let interval = match patch.sync_interval_seconds {
        None => None,
        Some(-1) => Some(None),
        Some(seconds) => {
            check_interval(seconds)?;
            Some(Some(seconds))
        }
    };
    let current = state
        .store
        .registry(owner, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("registry `{name}`")))?;
    let moved = url.as_deref().is_some_and(|url| url != current.url);
    let secret = match patch.password.as_ref().map(Secret::expose) {
        Some(password) => Some((!password.is_empty()).then(|| state.secrets.seal(password))),
        // Stored credentials never follow a registry to a new address: whoever may change
        // the URL could otherwise send a colleague's password to a host of their choosing.
        None if moved => Some(None),
        None => None,
    };
    let kind_name = patch.kind.map(|kind| wire_name(&kind));
    let change = RegistryChange {
        kind: kind_name.as_deref(),
        url: url.as_deref(),
        username: patch.username.as_deref(),
        secret: secret.as_ref().map(Option::as_deref),
        insecure: patch.insecure,
        description: patch.description.as_deref(),
        follow: follow.as_deref(),
        sync_interval_seconds: interval,
    };
    let event = caller.event(
        "registry.update",
        scope.target(name),
        scope.workspace(),
        json!({
            "kind": patch.kind, "url": url, "username": patch.username,
            "insecure": patch.insecure, "description": patch.description,
            "password_changed": patch.password.is_some(), "follow": patch.follow,
            "sync_interval_seconds": patch.sync_interval_seconds,
        }),
    );
    let registry = state
        .store
        .update_registry(owner, name, &change, &event.borrow())
        .await?
        .ok_or_else(|| not_found(name))?;
    let sync = sync_of(&state, &registry).await?;
    Ok(Json(view(&state, registry, sync)))
}

async fn delete(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    name: &str,
) -> Result<StatusCode, ApiError> {
    let owner = authorize(&state, &caller, scope, Need::Change).await?;
    let event = caller.event(
        "registry.delete",
        scope.target(name),
        scope.workspace(),
        json!(null),
    );
    if !state
        .store
        .delete_registry(owner, name, &event.borrow())
        .await?
    {
        return Err(not_found(name));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Checks now whether a registry answers with its credentials and can be listed as
/// configured, stores the outcome and answers the registry with it.
async fn health(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    name: &str,
) -> Result<Json<Registry>, ApiError> {
    let (owner, registry) = registry_of(&state, &caller, scope, name, Need::Change).await?;
    // `hosted` is this server, which is answering this very request.
    if registry.is_hosted() {
        return Ok(Json(view(&state, registry, None)));
    }
    let outcome = state.sync.check(&registry).await;
    let status = wire_name(&if outcome.is_ok() {
        HealthStatus::Reachable
    } else {
        HealthStatus::Unreachable
    });
    let (reason, listing) = match &outcome {
        Ok(report) => (None, Some(listing_note(report))),
        Err(error) => (Some(error.to_string()), None),
    };
    let event = caller.event(
        "registry.health",
        scope.target(name),
        scope.workspace(),
        json!({ "status": status, "reason": reason, "listing": listing }),
    );
    let check = HealthCheck {
        status: &status,
        reason: reason.as_deref(),
        listing: listing.as_deref(),
        checked_at: berth_store::now_millis(),
    };
    let registry = state
        .store
        .set_registry_health(owner, name, check, &event.borrow())
        .await?
        .ok_or_else(|| not_found(name))?;
    let sync = sync_of(&state, &registry).await?;
    Ok(Json(view(&state, registry, sync)))
}

/// How a reachable registry is listed and entered, for the health line.
fn listing_note(report: &berth_remote::CheckReport) -> String {
    let listing = match &report.listing {
        berth_remote::Listing::Catalog => "lists its catalog".to_string(),
        berth_remote::Listing::Followed {
            repositories,
            prefixes,
        } => format!(
            "follows {repositories} repositories and {prefixes} prefixes instead of the catalog"
        ),
    };
    let authentication = match report.authentication {
        berth_remote::Authentication::Anonymous => "anonymously",
        berth_remote::Authentication::Basic => "with Basic authentication",
        berth_remote::Authentication::Token => "with token authentication",
    };
    format!("{authentication}; {listing}")
}

/// Makes a new event secret for a registry, replacing any earlier one, and answers it once.
async fn event_secret(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    name: &str,
) -> Result<(StatusCode, Json<EventSecret>), ApiError> {
    let (_, registry) = registry_of(&state, &caller, scope, name, Need::Change).await?;
    if registry.is_hosted() {
        return Err(SyncError::Hosted.into());
    }
    let secret = super::robots::new_secret();
    let digest = berth_identity::principals::robot_secret_digest(&secret);
    let event = caller.event(
        "registry.event_secret",
        scope.target(name),
        scope.workspace(),
        json!(null),
    );
    if !state
        .store
        .set_registry_event_secret(registry.id, &digest, &event.borrow())
        .await?
    {
        return Err(not_found(name));
    }
    Ok((
        StatusCode::CREATED,
        Json(EventSecret {
            endpoint: format!(
                "{}/api/v1/registry-events/{}",
                state.external_url, registry.id
            ),
            authorization: format!("Bearer {secret}"),
        }),
    ))
}

/// Queues a sync (or answers the one queued or running) and answers the sync state.
async fn start_sync(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    name: &str,
    body: Bytes,
) -> Result<(StatusCode, Json<RegistrySync>), ApiError> {
    let request: SyncRequest = input::optional_body(&body)?;
    let (_, registry) = registry_of(&state, &caller, scope, name, Need::Change).await?;
    let mode = match request.mode {
        SyncMode::Full => Mode::Full,
        SyncMode::Incremental => Mode::Incremental,
    };
    let enqueued = state.sync.request(&registry, mode, caller.name()).await?;
    // A request while a sync runs is audited too: it makes the registry sync again after.
    if enqueued.created || enqueued.rerun {
        let event = caller.event(
            "registry.sync",
            scope.target(name),
            scope.workspace(),
            json!({ "mode": request.mode, "after_running_sync": enqueued.rerun }),
        );
        state.store.record_audit_after(&event).await;
    }
    let sync = sync_of(&state, &registry).await?.expect("not hosted");
    Ok((StatusCode::ACCEPTED, Json(sync)))
}

async fn sync_status(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    name: &str,
) -> Result<Json<RegistrySync>, ApiError> {
    let (_, registry) = registry_of(&state, &caller, scope, name, Need::Read).await?;
    match sync_of(&state, &registry).await? {
        Some(sync) => Ok(Json(sync)),
        None => Err(SyncError::Hosted.into()),
    }
}

async fn cancel_sync(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    name: &str,
) -> Result<Json<RegistrySync>, ApiError> {
    let (_, registry) = registry_of(&state, &caller, scope, name, Need::Change).await?;
    if state.sync.cancel(&registry).await?.is_none() {
        return Err(ApiError::not_found(format_args!(
            "a queued or running sync of registry `{name}`"
        )));
    }
    let event = caller.event(
        "registry.sync.cancel",
        scope.target(name),
        scope.workspace(),
        json!(null),
    );
    state.store.record_audit_after(&event).await;
    let sync = sync_of(&state, &registry).await?.expect("not hosted");
    Ok(Json(sync))
}

// ---- handlers: platform registries ---------------------------------------------------------

/// Platform registries, `hosted` included.
#[utoipa::path(get, path = "/registries", tag = "registries", params(ListParams),
    responses((status = 200, body = Page<Registry>), ErrorResponses))]
pub async fn list_platform(
    State(state): State<ApiState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<Page<Registry>>, ApiError> {
    list(state, caller, Scope::Platform, params).await
}

/// Integrates an external registry for the whole platform (platform admins).
#[utoipa::path(post, path = "/registries", tag = "registries", request_body = NewRegistry,
    responses((status = 201, body = Registry), ErrorResponses))]
pub async fn create_platform(
    State(state): State<ApiState>,
    caller: Caller,
    Json(new): Json<NewRegistry>,
) -> Result<(StatusCode, Json<Registry>), ApiError> {
    create(state, caller, Scope::Platform, new).await
}

/// One platform registry.
#[utoipa::path(get, path = "/registries/{reg}", tag = "registries",
    params(("reg" = String, Path, description = "Registry name")),
    responses((status = 200, body = Registry), ErrorResponses))]
pub async fn get_platform(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Registry>, ApiError> {
    get(state, caller, Scope::Platform, &name).await
}

/// Changes a platform registry (platform admins); `hosted` cannot be changed (409).
#[utoipa::path(patch, path = "/registries/{reg}", tag = "registries",
    params(("reg" = String, Path, description = "Registry name")),
    request_body = RegistryPatch,
    responses((status = 200, body = Registry), ErrorResponses))]
pub async fn update_platform(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(patch): Json<RegistryPatch>,
) -> Result<Json<Registry>, ApiError> {
    update(state, caller, Scope::Platform, &name, patch).await
}

/// Removes a platform registry with its spaces (platform admins); `hosted` cannot be
/// deleted (409).
#[utoipa::path(delete, path = "/registries/{reg}", tag = "registries",
    params(("reg" = String, Path, description = "Registry name")),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
pub async fn delete_platform(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete(state, caller, Scope::Platform, &name).await
}

/// Checks now whether a platform registry answers with its credentials and can be listed as
/// configured (platform admins), stores the outcome and answers the registry with it.
#[utoipa::path(post, path = "/registries/{reg}/health", tag = "registries",
    params(("reg" = String, Path, description = "Registry name")),
    responses((status = 200, body = Registry), ErrorResponses))]
pub async fn check_health(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Registry>, ApiError> {
    health(state, caller, Scope::Platform, &name).await
}

/// Makes the secret a platform registry's events authenticate with (platform admins), and the
/// endpoint to send them to. Shown once; asking again replaces it.
#[utoipa::path(post, path = "/registries/{reg}/event-secret", tag = "registries",
    params(("reg" = String, Path, description = "Registry name")),
    responses((status = 201, body = EventSecret), ErrorResponses))]
pub async fn platform_event_secret(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<EventSecret>), ApiError> {
    event_secret(state, caller, Scope::Platform, &name).await
}

/// Makes the secret one of the workspace's registries' events authenticate with (workspace
/// admins). Shown once; asking again replaces it.
#[utoipa::path(post, path = "/workspaces/{ws}/registries/{reg}/event-secret", tag = "workspace registries",
    params(("ws" = String, Path, description = "Workspace name"),
           ("reg" = String, Path, description = "Registry name")),
    responses((status = 201, body = EventSecret), ErrorResponses))]
pub async fn workspace_event_secret(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, name)): Path<(String, String)>,
) -> Result<(StatusCode, Json<EventSecret>), ApiError> {
    event_secret(state, caller, Scope::Workspace(&ws), &name).await
}

/// Queues a sync of a platform registry (platform admins), or answers the one queued or
/// running. The body may choose `{"mode": "incremental"}`; empty means full.
#[utoipa::path(post, path = "/registries/{reg}/sync", tag = "registries",
    params(("reg" = String, Path, description = "Registry name")),
    request_body(content = Option<SyncRequest>, description = "Optional; a full sync when empty"),
    responses((status = 202, body = RegistrySync), ErrorResponses))]
pub async fn start_platform_sync(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<RegistrySync>), ApiError> {
    start_sync(state, caller, Scope::Platform, &name, body).await
}

/// A platform registry's sync state and progress.
#[utoipa::path(get, path = "/registries/{reg}/sync", tag = "registries",
    params(("reg" = String, Path, description = "Registry name")),
    responses((status = 200, body = RegistrySync), ErrorResponses))]
pub async fn platform_sync_status(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<RegistrySync>, ApiError> {
    sync_status(state, caller, Scope::Platform, &name).await
}

/// Cancels the queued or running sync of a platform registry (platform admins); 404 when
/// none is.
#[utoipa::path(delete, path = "/registries/{reg}/sync", tag = "registries",
    params(("reg" = String, Path, description = "Registry name")),
    responses((status = 200, body = RegistrySync), ErrorResponses))]
pub async fn cancel_platform_sync(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<RegistrySync>, ApiError> {
    cancel_sync(state, caller, Scope::Platform, &name).await
}

/// Queues a scan of every tagged image of a platform registry or `hosted` (platform admins);
/// images already queued are answered as they are, and running ones run again once they end.
#[utoipa::path(post, path = "/registries/{reg}/scan", tag = "scans",
    params(("reg" = String, Path, description = "Registry name")),
    responses((status = 202, body = ScanRequested), ErrorResponses))]
pub async fn scan_registry(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<ScanRequested>), ApiError> {
    let (_, registry) = registry_of(&state, &caller, Scope::Platform, &name, Need::Change).await?;
    let mut queued = 0;
    for (repository, digest) in state.store.tagged_artifacts(registry.id).await? {
        let Ok(digest) = berth_oci::Digest::parse(&digest) else {
            continue;
        };
        let target = berth_scanner::ScanTarget {
            registry_id: registry.id,
            repository,
            digest,
        };
        let enqueued = state.scans.request(&target, caller.name()).await?;
        queued += i64::from(enqueued.created || enqueued.rerun);
    }
    let event = caller.event(
        "registry.scan",
        Scope::Platform.target(&name),
        None,
        json!({ "queued": queued }),
    );
    state.store.record_audit_after(&event).await;
    Ok((
        StatusCode::ACCEPTED,
        Json(ScanRequested { queued, scan: None }),
    ))
}

// ---- handlers: workspace registries --------------------------------------------------------

/// The workspace's own registries (members; robots only push and pull, so they may not list them).
#[utoipa::path(get, path = "/workspaces/{ws}/registries", tag = "workspace registries",
    params(("ws" = String, Path, description = "Workspace name"), ListParams),
    responses((status = 200, body = Page<Registry>), ErrorResponses))]
pub async fn list_workspace(
    State(state): State<ApiState>,
    caller: Caller,
    Path(ws): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<Json<Page<Registry>>, ApiError> {
    list(state, caller, Scope::Workspace(&ws), params).await
}

/// Adds a registry only this workspace sees (workspace admins).
#[utoipa::path(post, path = "/workspaces/{ws}/registries", tag = "workspace registries",
    params(("ws" = String, Path, description = "Workspace name")),
    request_body = NewRegistry,
    responses((status = 201, body = Registry), ErrorResponses))]
pub async fn create_workspace(
    State(state): State<ApiState>,
    caller: Caller,
    Path(ws): Path<String>,
    Json(new): Json<NewRegistry>,
) -> Result<(StatusCode, Json<Registry>), ApiError> {
    create(state, caller, Scope::Workspace(&ws), new).await
}

/// One of the workspace's registries (members).
#[utoipa::path(get, path = "/workspaces/{ws}/registries/{reg}", tag = "workspace registries",
    params(("ws" = String, Path, description = "Workspace name"),
           ("reg" = String, Path, description = "Registry name")),
    responses((status = 200, body = Registry), ErrorResponses))]
pub async fn get_workspace(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, name)): Path<(String, String)>,
) -> Result<Json<Registry>, ApiError> {
    get(state, caller, Scope::Workspace(&ws), &name).await
}

/// Changes one of the workspace's registries (workspace admins).
#[utoipa::path(patch, path = "/workspaces/{ws}/registries/{reg}", tag = "workspace registries",
    params(("ws" = String, Path, description = "Workspace name"),
           ("reg" = String, Path, description = "Registry name")),
    request_body = RegistryPatch,
    responses((status = 200, body = Registry), ErrorResponses))]
pub async fn update_workspace(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, name)): Path<(String, String)>,
    Json(patch): Json<RegistryPatch>,
) -> Result<Json<Registry>, ApiError> {
    update(state, caller, Scope::Workspace(&ws), &name, patch).await
}

/// Removes one of the workspace's registries (workspace admins).
#[utoipa::path(delete, path = "/workspaces/{ws}/registries/{reg}", tag = "workspace registries",
    params(("ws" = String, Path, description = "Workspace name"),
           ("reg" = String, Path, description = "Registry name")),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
pub async fn delete_workspace(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    delete(state, caller, Scope::Workspace(&ws), &name).await
}

/// Checks now whether one of the workspace's registries answers (workspace admins).
#[utoipa::path(post, path = "/workspaces/{ws}/registries/{reg}/health", tag = "workspace registries",
    params(("ws" = String, Path, description = "Workspace name"),
           ("reg" = String, Path, description = "Registry name")),
    responses((status = 200, body = Registry), ErrorResponses))]
pub async fn check_workspace_health(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, name)): Path<(String, String)>,
) -> Result<Json<Registry>, ApiError> {
    health(state, caller, Scope::Workspace(&ws), &name).await
}

/// Queues a sync of one of the workspace's registries (workspace admins).
#[utoipa::path(post, path = "/workspaces/{ws}/registries/{reg}/sync", tag = "workspace registries",
    params(("ws" = String, Path, description = "Workspace name"),
           ("reg" = String, Path, description = "Registry name")),
    request_body(content = Option<SyncRequest>, description = "Optional; a full sync when empty"),
    responses((status = 202, body = RegistrySync), ErrorResponses))]
pub async fn start_workspace_sync(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<RegistrySync>), ApiError> {
    start_sync(state, caller, Scope::Workspace(&ws), &name, body).await
}

/// The sync state of one of the workspace's registries (members).
#[utoipa::path(get, path = "/workspaces/{ws}/registries/{reg}/sync", tag = "workspace registries",
    params(("ws" = String, Path, description = "Workspace name"),
           ("reg" = String, Path, description = "Registry name")),
    responses((status = 200, body = RegistrySync), ErrorResponses))]
pub async fn workspace_sync_status(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, name)): Path<(String, String)>,
) -> Result<Json<RegistrySync>, ApiError> {
    sync_status(state, caller, Scope::Workspace(&ws), &name).await
}

/// Cancels the sync of one of the workspace's registries (workspace admins).
#[utoipa::path(delete, path = "/workspaces/{ws}/registries/{reg}/sync", tag = "workspace registries",
    params(("ws" = String, Path, description = "Workspace name"),
           ("reg" = String, Path, description = "Registry name")),
    responses((status = 200, body = RegistrySync), ErrorResponses))]
pub async fn cancel_workspace_sync(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, name)): Path<(String, String)>,
) -> Result<Json<RegistrySync>, ApiError> {
    cancel_sync(state, caller, Scope::Workspace(&ws), &name).await
}
