//! Workspaces, their members, and the spaces bound to them.

use axum::extract::State;
use axum::http::StatusCode;
use berth_access::rest::{self, WorkspaceListing};
use berth_api_types::{
    from_wire_name, wire_name, ListParams, Member, MemberRole, NewWorkspace, Page, Role, Space,
    Workspace, WorkspacePatch,
};
use berth_identity::principals;
use berth_store::tenancy::WorkspaceRecord;
use serde_json::json;

use super::caller::{Caller, WorkspaceNeed};
use super::error::{ApiError, ErrorResponses};
use super::input::{self, timestamp, Json, PageRequest, Path, Query};
use super::spaces::{admits, space_view};
use crate::ApiState;

fn workspace_view(workspace: WorkspaceRecord) -> Workspace {
    Workspace {
        name: workspace.name,
        description: workspace.description,
        created_at: timestamp(workspace.created_at),
        members: workspace.members,
    }
}

pub fn workspace_target(name: &str) -> String {
    format!("workspace/{name}")
}

/// Lists workspaces: all of them for platform admins, the caller's own for everyone else.
#[utoipa::path(get, path = "/workspaces", tag = "workspaces", params(ListParams),
    responses((status = 200, body = Page<Workspace>), ErrorResponses))]
pub async fn list_workspaces(
    State(state): State<ApiState>,
    caller: Caller,
    Query(list): Query<ListParams>,
) -> Result<Json<Page<Workspace>>, ApiError> {
    let page = PageRequest::of(&list)?;
    let found = match rest::workspace_listing(&caller.subject) {
        WorkspaceListing::Every => {
            state
                .store
                .workspaces(None, &page.after, page.limit + 1)
                .await?
        }
        WorkspaceListing::Memberships => {
            let user = state
                .store
                .find_user(caller.name())
                .await?
                .ok_or(ApiError::Unauthorized)?;
            state
                .store
                .workspaces(Some(user.id), &page.after, page.limit + 1)
                .await?
        }
        // A robot belongs to exactly one workspace, the one its name names.
        WorkspaceListing::Own => {
            let (workspace, _) =
                principals::parse_robot_name(caller.name()).ok_or(ApiError::Unauthorized)?;
            let own: Vec<WorkspaceRecord> = state
                .store
                .workspace(workspace)
                .await?
                .into_iter()
                .collect();
            let page = input::page_of_all(own, &page, |w| w.name.clone(), workspace_view);
            return Ok(Json(page));
        }
        WorkspaceListing::Nothing => return Err(ApiError::Unauthorized),
    };
    Ok(Json(input::fetched_page(
        found.items,
        found.total,
        page.limit,
        |w| w.name.clone(),
        workspace_view,
    )))
}

/// Creates a workspace.
#[utoipa::path(post, path = "/workspaces", tag = "workspaces", request_body = NewWorkspace,
    responses((status = 201, body = Workspace), ErrorResponses))]
pub async fn create_workspace(
    State(state): State<ApiState>,
    caller: Caller,
    Json(new): Json<NewWorkspace>,
) -> Result<(StatusCode, Json<Workspace>), ApiError> {
    caller.require_platform_admin()?;
    input::resource_name("workspace name", &new.name)?;
    let description = new.description.unwrap_or_default();
    input::text("description", &description)?;
    let event = caller.event(
        "workspace.create",
        workspace_target(&new.name),
        Some(&new.name),
        json!({ "description": description }),
    );
    let workspace = state
        .store
        .create_workspace(&new.name, &description, &event.borrow())
        .await?;
    Ok((StatusCode::CREATED, Json(workspace_view(workspace))))
}

/// One workspace, for its members and platform admins.
#[utoipa::path(get, path = "/workspaces/{ws}", tag = "workspaces",
    params(("ws" = String, Path, description = "Workspace name")),
    responses((status = 200, body = Workspace), ErrorResponses))]
pub async fn get_workspace(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Workspace>, ApiError> {
    let workspace = caller.workspace(&state, &name, WorkspaceNeed::Read).await?;
    Ok(Json(workspace_view(workspace)))
}

/// Changes a workspace's description (workspace admins).
#[utoipa::path(patch, path = "/workspaces/{ws}", tag = "workspaces",
    params(("ws" = String, Path, description = "Workspace name")),
    request_body = WorkspacePatch,
    responses((status = 200, body = Workspace), ErrorResponses))]
pub async fn update_workspace(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(patch): Json<WorkspacePatch>,
) -> Result<Json<Workspace>, ApiError> {
    caller
        .workspace(&state, &name, WorkspaceNeed::Admin)
        .await?;
    input::text("description", &patch.description)?;
    let event = caller.event(
        "workspace.update",
        workspace_target(&name),
        Some(&name),
        json!({ "description": patch.description }),
    );
    let workspace = state
        .store
        .update_workspace(&name, &patch.description, &event.borrow())
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("workspace `{name}`")))?;
    Ok(Json(workspace_view(workspace)))
}

/// Deletes a workspace with its members, bindings, robots and workspace registries
/// (platform admins).
#[utoipa::path(delete, path = "/workspaces/{ws}", tag = "workspaces",
    params(("ws" = String, Path, description = "Workspace name")),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
pub async fn delete_workspace(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    // Whoever may not see the workspace is told it is not there, as for any other change.
    caller.workspace(&state, &name, WorkspaceNeed::List).await?;
    caller.require_platform_admin()?;
    let event = caller.event(
        "workspace.delete",
        workspace_target(&name),
        Some(&name),
        json!(null),
    );
    if !state.store.delete_workspace(&name, &event.borrow()).await? {
        return Err(ApiError::not_found(format_args!("workspace `{name}`")));
    }
    // The workspace's robots in Harbor projects go too, in the background.
    state.sync.request_all_robots().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's members and their roles.
#[utoipa::path(get, path = "/workspaces/{ws}/members", tag = "members",
    params(("ws" = String, Path, description = "Workspace name"), ListParams),
    responses((status = 200, body = Page<Member>), ErrorResponses))]
pub async fn list_members(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(list): Query<ListParams>,
) -> Result<Json<Page<Member>>, ApiError> {
    let workspace = caller.workspace(&state, &name, WorkspaceNeed::Read).await?;
    let page = PageRequest::of(&list)?;
    let members = state
        .store
        .members(workspace.id)
        .await?
        .into_iter()
        .map(|m| {
            // The schema's CHECK admits only the roles the API names.
            let role = from_wire_name::<Role>(&m.role).ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("stored role `{}` is unknown", m.role))
            })?;
            Ok(Member {
                username: m.username,
                role,
            })
        })
        .collect::<Result<Vec<Member>, ApiError>>()?;
    Ok(Json(input::page_of_all(
        members,
        &page,
        |m| m.username.clone(),
        |m| m,
    )))
}

/// Adds a member, or changes their role (workspace admins).
#[utoipa::path(put, path = "/workspaces/{ws}/members/{user}", tag = "members",
    params(("ws" = String, Path, description = "Workspace name"),
           ("user" = String, Path, description = "Username")),
    request_body = MemberRole,
    responses((status = 200, body = Member), ErrorResponses))]
pub async fn set_member(
    State(state): State<ApiState>,
    caller: Caller,
    Path((name, username)): Path<(String, String)>,
    Json(body): Json<MemberRole>,
) -> Result<Json<Member>, ApiError> {
    let workspace = caller
        .workspace(&state, &name, WorkspaceNeed::Admin)
        .await?;
    let user = state
        .store
        .find_user(&username)
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("user `{username}`")))?;
    let event = caller.event(
        "member.set",
        format!("{}/member/{username}", workspace_target(&name)),
        Some(&name),
        json!({ "username": username, "role": body.role }),
    );
    state
        .store
        .set_member(
            workspace.id,
            user.id,
            &wire_name(&body.role),
            &event.borrow(),
        )
        .await?;
    Ok(Json(Member {
        username,
        role: body.role,
    }))
}

/// Removes a member (workspace admins).
#[utoipa::path(delete, path = "/workspaces/{ws}/members/{user}", tag = "members",
    params(("ws" = String, Path, description = "Workspace name"),
           ("user" = String, Path, description = "Username")),
    responses((status = 204, description = "Removed"), ErrorResponses))]
pub async fn remove_member(
    State(state): State<ApiState>,
    caller: Caller,
    Path((name, username)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let workspace = caller
        .workspace(&state, &name, WorkspaceNeed::Admin)
        .await?;
    let not_member =
        || ApiError::not_found(format_args!("member `{username}` of workspace `{name}`"));
    let user = state
        .store
        .find_user(&username)
        .await?
        .ok_or_else(not_member)?;
    let event = caller.event(
        "member.remove",
        format!("{}/member/{username}", workspace_target(&name)),
        Some(&name),
        json!({ "username": username }),
    );
    if !state
        .store
        .remove_member(workspace.id, user.id, &event.borrow())
        .await?
    {
        return Err(not_member());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The spaces of platform registries bound to the workspace: the reverse view of bindings.
#[utoipa::path(get, path = "/workspaces/{ws}/spaces", tag = "workspaces",
    params(("ws" = String, Path, description = "Workspace name"), ListParams),
    responses((status = 200, body = Page<Space>), ErrorResponses))]
pub async fn list_workspace_spaces(
    State(state): State<ApiState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(list): Query<ListParams>,
) -> Result<Json<Page<Space>>, ApiError> {
    let workspace = caller.workspace(&state, &name, WorkspaceNeed::List).await?;
    let page = PageRequest::of(&list)?;
    // Every space bound to the workspace is in its members' view; a temporary login sees its
    // own alone.
    let seen = berth_access::rest::visible_spaces(&caller.subject);
    let spaces: Vec<_> = state
        .store
        .workspace_spaces(workspace.id)
        .await?
        .into_iter()
        .filter(|space| admits(&seen, space))
        .collect();
    Ok(Json(input::page_of_all(
        spaces,
        &page,
        // Spaces of several registries, ordered by registry, then space. A space sorts below
        // every name character, so these keys sort in that same order.
        |s| format!("{} {}", s.registry, s.name),
        |s| space_view(&caller, s),
    )))
}
