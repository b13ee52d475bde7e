//! Robot accounts of a workspace, for CI and clusters: `robot$<ws>+<name>` with a secret
//! shown once at creation. Only the secret's SHA-256 is stored.

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use berth_api_types::{
    CreatedRobot, ListParams, NewRobot, Page, Permission, Robot, RobotPatch, Secret,
};
use berth_identity::principals;
use berth_store::tenancy::{NewRobot as StoreNewRobot, RobotRow};
use rand::RngCore as _;
use serde_json::json;

use super::caller::{Caller, WorkspaceNeed};
use super::error::{ApiError, ErrorResponses};
use super::input::{self, timestamp, Json, PageRequest, Path, Query};
use crate::ApiState;

/// The longest lifetime a robot may be given: ten years.
const MAX_EXPIRES_IN_SECONDS: u64 = 10 * 365 * 24 * 3600;

fn robot_view(robot: RobotRow) -> Robot {
    let permissions = [
        (robot.can_pull, Permission::Pull),
        (robot.can_push, Permission::Push),
    ]
    .into_iter()
    .filter_map(|(granted, permission)| granted.then_some(permission))
    .collect();
    Robot {
        name: principals::robot_name(&robot.workspace, &robot.name),
        short_name: robot.name,
        workspace: robot.workspace,
        permissions,
        expires_at: robot.expires_at.map(timestamp),
        disabled: robot.disabled,
        created_by: robot.created_by,
        created_at: timestamp(robot.created_at),
        space: robot.space.map(|(_, name)| name),
    }
}

pub(crate) fn robot_target(workspace: &str, short: &str) -> String {
    format!("workspace/{workspace}/robot/{short}")
}

fn not_found(workspace: &str, short: &str) -> ApiError {
    ApiError::not_found(format_args!("robot `{short}` of workspace `{workspace}`"))
}

/// 256 random bits, base64url without padding: enough that the plain SHA-256 stored for it
/// cannot be reversed, and free of `:` so it works as a Basic password (and of quotes, so it
/// can be printed inside a single-quoted shell word).
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The workspace's robots (workspace admins).
#[utoipa::path(get, path = "/workspaces/{ws}/robots", tag = "robots",
    params(("ws" = String, Path, description = "Workspace name"), ListParams),
    responses((status = 200, body = Page<Robot>), ErrorResponses))]
pub async fn list_robots(
    State(state): State<ApiState>,
    caller: Caller,
    Path(ws): Path<String>,
    Query(list): Query<ListParams>,
) -> Result<Json<Page<Robot>>, ApiError> {
    let workspace = caller.workspace(&state, &ws, WorkspaceNeed::Admin).await?;
    let page = PageRequest::of(&list)?;
    let robots = state.store.robots(workspace.id).await?;
    Ok(Json(input::page_of_all(
        robots,
        &page,
        |r| r.name.clone(),
        robot_view,
    )))
}

/// Creates a robot and answers its secret, once (workspace admins).
#[utoipa::path(post, path = "/workspaces/{ws}/robots", tag = "robots",
    params(("ws" = String, Path, description = "Workspace name")),
    request_body = NewRobot,
    responses((status = 201, body = CreatedRobot), ErrorResponses))]
pub async fn create_robot(
    State(state): State<ApiState>,
    caller: Caller,
    Path(ws): Path<String>,
    Json(new): Json<NewRobot>,
) -> Result<(StatusCode, Json<CreatedRobot>), ApiError> {
    let workspace = caller.workspace(&state, &ws, WorkspaceNeed::Admin).await?;
    input::resource_name("robot name", &new.name)?;
    if new.permissions.is_empty() {
        return Err(ApiError::Invalid(
            "permissions must name at least one of pull, push".into(),
        ));
    }
    let expires_at = match new.expires_in_seconds {
        None => None,
        Some(seconds @ 1..=MAX_EXPIRES_IN_SECONDS) => {
            Some(berth_store::now_millis() + seconds as i64 * 1000)
        }
        Some(_) => {
            return Err(ApiError::Invalid(format!(
                "expires_in_seconds must be between 1 and {MAX_EXPIRES_IN_SECONDS}"
            )))
        }
    };
    let can_pull = new.permissions.contains(&Permission::Pull);
    let can_push = new.permissions.contains(&Permission::Push);
    let secret = new_secret();
    let digest = principals::robot_secret_digest(&secret);
    let event = caller.event(
        "robot.create",
        robot_target(&ws, &new.name),
        Some(&ws),
        json!({ "pull": can_pull, "push": can_push, "expires_at": expires_at.map(timestamp) }),
    );
    let robot = state
        .store
        .create_robot(
            StoreNewRobot {
                workspace_id: workspace.id,
                name: &new.name,
                secret_sha256: &digest,
                can_pull,
                can_push,
                expires_at,
                created_by: caller.name(),
                space_id: None,
            },
            &event.borrow(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedRobot {
            robot: robot_view(robot),
            secret: Secret::new(secret),
        }),
    ))
}

/// Disables or re-enables a robot (workspace admins). `{robot}` is the short name.
#[utoipa::path(patch, path = "/workspaces/{ws}/robots/{robot}", tag = "robots",
    params(("ws" = String, Path, description = "Workspace name"),
           ("robot" = String, Path, description = "The robot's short name")),
    request_body = RobotPatch,
    responses((status = 200, body = Robot), ErrorResponses))]
pub async fn update_robot(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, short)): Path<(String, String)>,
    Json(patch): Json<RobotPatch>,
) -> Result<Json<Robot>, ApiError> {
    let workspace = caller.workspace(&state, &ws, WorkspaceNeed::Admin).await?;
    let action = if patch.disabled {
        "robot.disable"
    } else {
        "robot.enable"
    };
    let event = caller.event(
        action,
        robot_target(&ws, &short),
        Some(&ws),
        json!({ "disabled": patch.disabled }),
    );
    if !state
        .store
        .set_robot_disabled(workspace.id, &short, patch.disabled, &event.borrow())
        .await?
    {
        return Err(not_found(&ws, &short));
    }
    let robot = state
        .store
        .robot(workspace.id, &short)
        .await?
        .ok_or_else(|| not_found(&ws, &short))?;
    Ok(Json(robot_view(robot)))
}

/// Deletes a robot (workspace admins); its secret stops working at once.
#[utoipa::path(delete, path = "/workspaces/{ws}/robots/{robot}", tag = "robots",
    params(("ws" = String, Path, description = "Workspace name"),
           ("robot" = String, Path, description = "The robot's short name")),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
pub async fn delete_robot(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, short)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let workspace = caller.workspace(&state, &ws, WorkspaceNeed::Admin).await?;
    let event = caller.event(
        "robot.delete",
        robot_target(&ws, &short),
        Some(&ws),
        json!(null),
    );
    if !state
        .store
        .delete_robot(workspace.id, &short, &event.borrow())
        .await?
    {
        return Err(not_found(&ws, &short));
    }
    Ok(StatusCode::NO_CONTENT)
}
