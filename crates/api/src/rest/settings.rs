//! Deployment-wide settings that change the access rule (platform admins).

use axum::extract::State;
use berth_api_types::{Settings, SettingsPatch};
use berth_store::facts::AccessSettings;
use serde_json::json;

use super::caller::Caller;
use super::error::{ApiError, ErrorResponses};
use super::input::Json;
use crate::ApiState;

fn settings_view(settings: AccessSettings) -> Settings {
    Settings {
        anonymous_pull: settings.anonymous_pull,
        auto_create_spaces: settings.auto_create_spaces,
    }
}

/// The current settings.
#[utoipa::path(get, path = "/settings", tag = "settings",
    responses((status = 200, body = Settings), ErrorResponses))]
pub async fn get_settings(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Settings>, ApiError> {
    caller.require_platform_admin()?;
    Ok(Json(settings_view(state.store.access_settings().await?)))
}

/// Changes settings; they apply to the very next request and token.
#[utoipa::path(patch, path = "/settings", tag = "settings", request_body = SettingsPatch,
    responses((status = 200, body = Settings), ErrorResponses))]
pub async fn update_settings(
    State(state): State<ApiState>,
    caller: Caller,
    Json(patch): Json<SettingsPatch>,
) -> Result<Json<Settings>, ApiError> {
    caller.require_platform_admin()?;
    let current = state.store.access_settings().await?;
    let settings = AccessSettings {
        anonymous_pull: patch.anonymous_pull.unwrap_or(current.anonymous_pull),
        auto_create_spaces: patch
            .auto_create_spaces
            .unwrap_or(current.auto_create_spaces),
    };
    let event = caller.event(
        "settings.update",
        "settings",
        None,
        json!({
            "anonymous_pull": settings.anonymous_pull,
            "auto_create_spaces": settings.auto_create_spaces,
        }),
    );
    state
        .store
        .set_access_settings(settings, &event.borrow())
        .await?;
    Ok(Json(settings_view(settings)))
}
