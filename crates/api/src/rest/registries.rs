//! Registries: `hosted`, platform registries (configured by platform admins, listed to every
//! user) and workspace registries (configured by a workspace's admins, visible to that
//! workspace alone). Both kinds share one body and one set of operations here; the paths
//! differ only in who owns the registry.
//!
//! Passwords are encrypted with the data dir's key before they are stored, and no answer or
//! log line ever carries them: answers say only `has_password`.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use berth_api_types::{
    from_wire_name, wire_name, Health, HealthStatus, ListParams, NewRegistry, Page, Registry,
    RegistryKind, RegistryPatch, Secret,
};
use berth_store::registry_records::{
    HealthCheck, NewRegistry as StoreNewRegistry, RegistryChange, RegistryOwner, RegistryRecord,
};
use serde_json::json;

use super::caller::{Caller, WorkspaceNeed};
use super::error::{ApiError, ErrorResponses};
use super::input::{self, timestamp, Json, PageRequest, Path, Query};
use crate::ApiState;

/// How long a health check waits for `GET <url>/v2/`.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);
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

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format_args!("registry `{name}`"))
}

fn view(state: &ApiState, registry: RegistryRecord) -> Registry {
    // The schema's CHECK admits only the four kinds, so the fallback is never taken.
    let kind = from_wire_name(&registry.kind).unwrap_or(RegistryKind::Distribution);
    Registry {
        url: if kind == RegistryKind::Hosted {
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
        },
        created_at: timestamp(registry.created_at),
    }
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
    Ok(Json(input::fetched_page(
        found.items,
        found.total,
        page.limit,
        |r| r.name.clone(),
        |r| view(&state, r),
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
            },
            &event.borrow(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view(&state, registry))))
}

async fn get(
    state: ApiState,
    caller: Caller,
    scope: Scope<'_>,
    name: &str,
) -> Result<Json<Registry>, ApiError> {
    let owner = authorize(&state, &caller, scope, Need::Read).await?;
    let registry = state
        .store
        .registry(owner, name)
        .await?
        .ok_or_else(|| not_found(name))?;
    Ok(Json(view(&state, registry)))
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
    };
    let event = caller.event(
        "registry.update",
        scope.target(name),
        scope.workspace(),
        json!({
            "kind": patch.kind, "url": url, "username": patch.username,
            "insecure": patch.insecure, "description": patch.description,
            "password_changed": patch.password.is_some(),
        }),
    );
    let registry = state
        .store
        .update_registry(owner, name, &change, &event.borrow())
        .await?
        .ok_or_else(|| not_found(name))?;
    Ok(Json(view(&state, registry)))
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

/// Asks `<url>/v2/` whether a registry is there: 200 or 401 (it wants credentials) means it
/// is; anything else, or no answer within the timeout, means it is not, and why.
async fn probe(url: &str, insecure: bool) -> Result<(), String> {
    // reqwest is built without a crypto provider of its own (see the workspace's Cargo.toml);
    // aws-lc becomes the process default unless one is installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(HEALTH_TIMEOUT)
        .danger_accept_invalid_certs(insecure)
        .build()
        .map_err(|e| format!("cannot set up an HTTP client: {e}"))?;
    match client.get(format!("{url}/v2/")).send().await {
        Ok(response) if matches!(response.status().as_u16(), 200 | 401) => Ok(()),
        Ok(response) => Err(format!("GET /v2/ answered HTTP {}", response.status())),
        Err(error) if error.is_timeout() => Err(format!(
            "no answer from GET /v2/ within {} seconds",
            HEALTH_TIMEOUT.as_secs()
        )),
        Err(error) => Err(error_chain(&error)),
    }
}

/// An error with its causes, e.g. `error sending request: … : Connection refused`: the
/// outermost message alone rarely says what went wrong.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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

/// Checks now whether a platform registry answers at `<url>/v2/` (platform admins), stores
/// the outcome and answers the registry with it.
#[utoipa::path(post, path = "/registries/{reg}/health", tag = "registries",
    params(("reg" = String, Path, description = "Registry name")),
    responses((status = 200, body = Registry), ErrorResponses))]
pub async fn check_health(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Registry>, ApiError> {
    let owner = authorize(&state, &caller, Scope::Platform, Need::Change).await?;
    let registry = state
        .store
        .registry(owner, &name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    // `hosted` is this server, which is answering this very request.
    if registry.is_hosted() {
        return Ok(Json(view(&state, registry)));
    }
    let outcome = probe(&registry.url, registry.insecure).await;
    let status = wire_name(&if outcome.is_ok() {
        HealthStatus::Reachable
    } else {
        HealthStatus::Unreachable
    });
    let reason = outcome.err();
    let event = caller.event(
        "registry.health",
        Scope::Platform.target(&name),
        None,
        json!({ "status": status, "reason": reason }),
    );
    let check = HealthCheck {
        status: &status,
        reason: reason.as_deref(),
        checked_at: berth_store::now_millis(),
    };
    let registry = state
        .store
        .set_registry_health(owner, &name, check, &event.borrow())
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(view(&state, registry)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn probe_reports_why_a_registry_is_unreachable() {
        let reason = probe("http://127.0.0.1:1", false).await.unwrap_err();
        assert!(
            reason.contains("refused") || reason.contains("connect"),
            "{reason}"
        );
        // HTTPS needs the crypto provider reqwest is built without; a missing one would panic
        // here rather than fail the connection.
        for insecure in [false, true] {
            let reason = probe("https://127.0.0.1:1", insecure).await.unwrap_err();
            assert!(reason.contains("connect"), "{reason}");
        }
    }
}
