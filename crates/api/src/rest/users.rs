//! User accounts, managed by platform admins.

use axum::extract::State;
use axum::http::StatusCode;
use berth_api_types::{ListParams, NewUser, Page, User, UserPatch};
use berth_identity::passwords;
use berth_store::users::{NewUser as StoreNewUser, UserChange};
use serde_json::json;

use super::caller::Caller;
use super::error::{ApiError, ErrorResponses};
use super::input::{self, timestamp, Json, PageRequest, Path, Query};
use crate::ApiState;

fn user_view(user: berth_store::users::User) -> User {
    User {
        username: user.username,
        email: user.email,
        is_admin: user.is_admin,
        disabled: user.disabled,
        created_at: timestamp(user.created_at),
    }
}

fn user_target(username: &str) -> String {
    format!("user/{username}")
}

fn not_found(username: &str) -> ApiError {
    ApiError::not_found(format_args!("user `{username}`"))
}

/// Lists users by name.
#[utoipa::path(get, path = "/users", tag = "users", params(ListParams),
    responses((status = 200, body = Page<User>), ErrorResponses))]
pub async fn list_users(
    State(state): State<ApiState>,
    caller: Caller,
    Query(list): Query<ListParams>,
) -> Result<Json<Page<User>>, ApiError> {
    caller.require_platform_admin()?;
    let page = PageRequest::of(&list)?;
    let users = state.store.users(&page.after, page.limit + 1).await?;
    Ok(Json(input::fetched_page(
        users.items,
        users.total,
        page.limit,
        |u| u.username.clone(),
        user_view,
    )))
}

/// Creates a user.
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), ErrorResponses))]
pub async fn create_user(
    State(state): State<ApiState>,
    caller: Caller,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    caller.require_platform_admin()?;
    input::username("username", &new.username)?;
    input::password("password", new.password.expose())?;
    let email = new.email.as_deref().filter(|e| !e.is_empty());
    if let Some(email) = email {
        input::email("email", email)?;
    }
    let is_admin = new.is_admin.unwrap_or(false);
    let hash = passwords::hash(new.password.expose()).await?;
    let event = caller.event(
        "user.create",
        user_target(&new.username),
        None,
        json!({ "email": email, "is_admin": is_admin }),
    );
    let user = state
        .store
        .create_user_audited(
            StoreNewUser {
                username: &new.username,
                password_hash: &hash,
                email,
                is_admin,
            },
            &event.borrow(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user_view(user))))
}

/// One user.
#[utoipa::path(get, path = "/users/{user}", tag = "users",
    params(("user" = String, Path, description = "Username")),
    responses((status = 200, body = User), ErrorResponses))]
pub async fn get_user(
    State(state): State<ApiState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<User>, ApiError> {
    caller.require_platform_admin()?;
    let user = state
        .store
        .find_user(&username)
        .await?
        .ok_or_else(|| not_found(&username))?;
    Ok(Json(user_view(user)))
}

/// Changes a user's email, admin flag or disabled flag, or resets their password. A change
/// that would leave no enabled platform admin is refused (409).
#[utoipa::path(patch, path = "/users/{user}", tag = "users",
    params(("user" = String, Path, description = "Username")),
    request_body = UserPatch,
    responses((status = 200, body = User), ErrorResponses))]
pub async fn update_user(
    State(state): State<ApiState>,
    caller: Caller,
    Path(username): Path<String>,
    Json(patch): Json<UserPatch>,
) -> Result<Json<User>, ApiError> {
    caller.require_platform_admin()?;
    if let Some(email) = patch.email.as_deref().filter(|e| !e.is_empty()) {
        input::email("email", email)?;
    }
    let hash = match &patch.password {
        Some(password) => {
            input::password("password", password.expose())?;
            Some(passwords::hash(password.expose()).await?)
        }
        None => None,
    };
    let change = UserChange {
        email: patch
            .email
            .as_deref()
            .map(|e| Some(e).filter(|e| !e.is_empty())),
        disabled: patch.disabled,
        is_admin: patch.is_admin,
        password_hash: hash.as_deref(),
    };
    // The action names the most telling part of the change, so that the log reads well and
    // can be filtered (`user.disable`), while the detail lists every field changed.
    let action = match patch.disabled {
        Some(true) => "user.disable",
        Some(false) => "user.enable",
        None if patch.password.is_some() => "user.password_reset",
        None => "user.update",
    };
    let event = caller.event(
        action,
        user_target(&username),
        None,
        json!({
            "email": patch.email,
            "disabled": patch.disabled,
            "is_admin": patch.is_admin,
            "password_reset": patch.password.is_some(),
        }),
    );
    let user = state
        .store
        .update_user(&username, &change, &event.borrow())
        .await?
        .ok_or_else(|| not_found(&username))?;
    Ok(Json(user_view(user)))
}

/// Deletes a user and their memberships. Nobody can delete their own account (409).
#[utoipa::path(delete, path = "/users/{user}", tag = "users",
    params(("user" = String, Path, description = "Username")),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
pub async fn delete_user(
    State(state): State<ApiState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_platform_admin()?;
    if username == caller.name() {
        return Err(ApiError::Conflict(
            "you cannot delete your own account".into(),
        ));
    }
    let event = caller.event("user.delete", user_target(&username), None, json!(null));
    if !state.store.delete_user(&username, &event.borrow()).await? {
        return Err(not_found(&username));
    }
    Ok(StatusCode::NO_CONTENT)
}
