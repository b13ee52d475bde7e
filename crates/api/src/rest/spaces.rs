//! Spaces of platform registries and their bindings to workspaces.
//!
//! Who sees which space, who changes spaces and bindings, and who sees whom a space is bound
//! to are decided by `berth_access::rest`; any space the caller may not see answers like a
//! missing one.

use axum::extract::State;
use axum::http::StatusCode;
use berth_access::rest::{self, SpaceFilter};
use berth_api_types::{Bindings, ListParams, NewSpace, Page, Space, SpacePatch};
use berth_store::registry_records::{RegistryOwner, RegistryRecord};
use berth_store::tenancy::{SpaceChange, SpaceRow};
use serde_json::json;

use super::caller::Caller;
use super::error::{ApiError, ErrorResponses};
use super::input::{self, timestamp, Json, PageRequest, Path, Query};
use crate::ApiState;

/// A space as `caller` may see it.
pub fn space_view(caller: &Caller, space: SpaceRow) -> Space {
    Space {
        bound_workspaces: rest::sees_bindings(&caller.subject)
            .then(|| space.bound.into_iter().map(|(_, name)| name).collect()),
        registry: space.registry,
        name: space.name,
        public: space.public,
        description: space.description,
        scan_on_push: space.scan_on_push,
        created_at: timestamp(space.created_at),
    }
}

fn space_target(registry: &str, space: &str) -> String {
    format!("space/{registry}/{space}")
}

/// Loads platform registry `name`. Any signed-in caller, robots included, may look up the
/// spaces they can see in it; changes check for platform admins separately.
async fn platform_registry(state: &ApiState, name: &str) -> Result<RegistryRecord, ApiError> {
    state
        .store
        .registry(RegistryOwner::Platform, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("registry `{name}`")))
}

/// Whether the spaces `filter` lets a caller see include `space`.
pub(super) fn admits(filter: &SpaceFilter, space: &SpaceRow) -> bool {
    filter.admits(space.id, space.public, space.bound_ids())
}

/// Loads a space the caller may see; any other answers like a missing one.
pub(super) async fn visible_space(
    state: &ApiState,
    caller: &Caller,
    registry: &str,
    name: &str,
) -> Result<SpaceRow, ApiError> {
    let registry = platform_registry(state, registry).await?;
    space_in(state, caller, &registry, name).await
}

/// Space `name` of `registry`, when the caller may see it.
async fn space_in(
    state: &ApiState,
    caller: &Caller,
    registry: &RegistryRecord,
    name: &str,
) -> Result<SpaceRow, ApiError> {
    let not_found = || ApiError::not_found(format_args!("space `{}/{name}`", registry.name));
    let space = state
        .store
        .space(registry.id, name)
        .await?
        .ok_or_else(not_found)?;
    admits(&rest::visible_spaces(&caller.subject), &space)
        .then_some(space)
        .ok_or_else(not_found)
}

/// Loads a space and its registry for a change: the caller must see the space, then be a
/// platform admin.
async fn space_for_change(
    state: &ApiState,
    caller: &Caller,
    registry: &str,
    name: &str,
) -> Result<(RegistryRecord, SpaceRow), ApiError> {
    let registry = platform_registry(state, registry).await?;
    let space = space_in(state, caller, &registry, name).await?;
    caller.require_platform_admin()?;
    Ok((registry, space))
}

/// The spaces of a platform registry the caller may see.
#[utoipa::path(get, path = "/registries/{reg}/spaces", tag = "spaces",
    params(("reg" = String, Path, description = "Platform registry name"), ListParams),
    responses((status = 200, body = Page<Space>), ErrorResponses))]
pub async fn list_spaces(
    State(state): State<ApiState>,
    caller: Caller,
    Path(registry): Path<String>,
    Query(list): Query<ListParams>,
) -> Result<Json<Page<Space>>, ApiError> {
    let registry = platform_registry(&state, &registry).await?;
    let page = PageRequest::of(&list)?;
    let filter = rest::visible_spaces(&caller.subject);
    let spaces = state
        .store
        .spaces(
            registry.id,
            |space| admits(&filter, space),
            &page.after,
            page.limit + 1,
        )
        .await?;
    Ok(Json(input::fetched_page(
        spaces.items,
        spaces.total,
        page.limit,
        |s| s.name.clone(),
        |s| space_view(&caller, s),
    )))
}

/// Creates a space in a platform registry (platform admins).
#[utoipa::path(post, path = "/registries/{reg}/spaces", tag = "spaces",
    params(("reg" = String, Path, description = "Platform registry name")),
    request_body = NewSpace,
    responses((status = 201, body = Space), ErrorResponses))]
pub async fn create_space(
    State(state): State<ApiState>,
    caller: Caller,
    Path(registry): Path<String>,
    Json(new): Json<NewSpace>,
) -> Result<(StatusCode, Json<Space>), ApiError> {
    let registry = platform_registry(&state, &registry).await?;
    caller.require_platform_admin()?;
    input::resource_name("space name", &new.name)?;
    let description = new.description.unwrap_or_default();
    input::text("description", &description)?;
    let public = new.public.unwrap_or(false);
    // A registry with spaces of its own (Harbor) gets the space first, so Berth never lists a
    // space its registry lacks; a crash in between leaves a project the next sync adopts.
    state
        .sync
        .create_upstream_space(&registry, &new.name, public)
        .await?;
    let event = caller.event(
        "space.create",
        space_target(&registry.name, &new.name),
        None,
        json!({ "public": public, "description": description }),
    );
    let space = state
        .store
        .create_space(
            registry.id,
            &new.name,
            public,
            &description,
            &event.borrow(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(space_view(&caller, space))))
}

/// One space, when the caller may see it.
#[utoipa::path(get, path = "/registries/{reg}/spaces/{space}", tag = "spaces",
    params(("reg" = String, Path, description = "Platform registry name"),
           ("space" = String, Path, description = "Space name")),
    responses((status = 200, body = Space), ErrorResponses))]
pub async fn get_space(
    State(state): State<ApiState>,
    caller: Caller,
    Path((registry, name)): Path<(String, String)>,
) -> Result<Json<Space>, ApiError> {
    let space = visible_space(&state, &caller, &registry, &name).await?;
    Ok(Json(space_view(&caller, space)))
}

/// Changes a space's visibility or description (platform admins).
#[utoipa::path(patch, path = "/registries/{reg}/spaces/{space}", tag = "spaces",
    params(("reg" = String, Path, description = "Platform registry name"),
           ("space" = String, Path, description = "Space name")),
    request_body = SpacePatch,
    responses((status = 200, body = Space), ErrorResponses))]
pub async fn update_space(
    State(state): State<ApiState>,
    caller: Caller,
    Path((registry, name)): Path<(String, String)>,
    Json(patch): Json<SpacePatch>,
) -> Result<Json<Space>, ApiError> {
    let (_, space) = space_for_change(&state, &caller, &registry, &name).await?;
    if let Some(description) = &patch.description {
        input::text("description", description)?;
    }
    let event = caller.event(
        "space.update",
        space_target(&registry, &name),
        None,
        json!({ "public": patch.public, "description": patch.description, "scan_on_push": patch.scan_on_push }),
    );
    let space = state
        .store
        .update_space(
            space.registry_id,
            &name,
            SpaceChange {
                public: patch.public,
                description: patch.description.as_deref(),
                scan_on_push: patch.scan_on_push,
            },
            &event.borrow(),
        )
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("space `{registry}/{name}`")))?;
    Ok(Json(space_view(&caller, space)))
}

/// Deletes a space and its bindings (platform admins).
#[utoipa::path(delete, path = "/registries/{reg}/spaces/{space}", tag = "spaces",
    params(("reg" = String, Path, description = "Platform registry name"),
           ("space" = String, Path, description = "Space name")),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
pub async fn delete_space(
    State(state): State<ApiState>,
    caller: Caller,
    Path((registry, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (record, space) = space_for_change(&state, &caller, &registry, &name).await?;
    let event = caller.event(
        "space.delete",
        space_target(&registry, &name),
        None,
        json!(null),
    );
    if !state
        .store
        .delete_space(space.registry_id, &name, &event.borrow())
        .await?
    {
        return Err(ApiError::not_found(format_args!(
            "space `{registry}/{name}`"
        )));
    }
    // Its bindings went with it, and with them its Harbor robots.
    state.sync.request_robots(&record).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspaces a space is bound to (platform admins).
#[utoipa::path(get, path = "/registries/{reg}/spaces/{space}/bindings", tag = "bindings",
    params(("reg" = String, Path, description = "Platform registry name"),
           ("space" = String, Path, description = "Space name")),
    responses((status = 200, body = Bindings), ErrorResponses))]
pub async fn get_bindings(
    State(state): State<ApiState>,
    caller: Caller,
    Path((registry, name)): Path<(String, String)>,
) -> Result<Json<Bindings>, ApiError> {
    let space = visible_space(&state, &caller, &registry, &name).await?;
    if !rest::sees_bindings(&caller.subject) {
        return Err(ApiError::Forbidden(
            "only platform admins see which workspaces a space is bound to".into(),
        ));
    }
    Ok(Json(Bindings {
        workspaces: space.bound.into_iter().map(|(_, name)| name).collect(),
    }))
}

/// Replaces the whole set of workspaces a space is bound to (platform admins). An unknown
/// workspace is a 400 naming it, and then nothing changes.
#[utoipa::path(put, path = "/registries/{reg}/spaces/{space}/bindings", tag = "bindings",
    params(("reg" = String, Path, description = "Platform registry name"),
           ("space" = String, Path, description = "Space name")),
    request_body = Bindings,
    responses((status = 200, body = Bindings), ErrorResponses))]
pub async fn set_bindings(
    State(state): State<ApiState>,
    caller: Caller,
    Path((registry, name)): Path<(String, String)>,
    Json(body): Json<Bindings>,
) -> Result<Json<Bindings>, ApiError> {
    let (record, space) = space_for_change(&state, &caller, &registry, &name).await?;
    let mut workspaces = body.workspaces;
    workspaces.sort();
    workspaces.dedup();
    // The store adds a `binding.add` / `binding.remove` event per workspace gained or lost.
    let event = caller.event(
        "binding.set",
        space_target(&registry, &name),
        None,
        json!({ "workspaces": workspaces }),
    );
    state
        .store
        .set_bindings(space.id, &workspaces, &event.borrow())
        .await?;
    // A Harbor registry gets a robot per bound workspace, made in the background.
    state.sync.request_robots(&record).await?;
    Ok(Json(Bindings { workspaces }))
}
