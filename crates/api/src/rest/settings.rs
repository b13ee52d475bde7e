//! Deployment-wide settings that change the access rule (platform admins).

use axum::extract::State;
use berth_store::facts::AccessSettings;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::caller::Caller;
use super::error::{ApiError, ErrorResponses};
use super::input::Json;
use crate::ApiState;

#[derive(Serialize, ToSchema)]
pub struct Settings {
    /// Whether anonymous clients may pull public spaces.
    pub anonymous_pull: bool,
    /// Whether a platform admin's push to a missing space of `hosted` creates it.
    pub auto_create_spaces: bool,
}

impl From<AccessSettings> for Settings {
    fn from(settings: AccessSettings) -> Settings {
        Settings {
            anonymous_pull: settings.anonymous_pull,
            auto_create_spaces: settings.auto_create_spaces,
        }
    }
}

/// Fields left out keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub anonymous_pull: Option<bool>,
    pub auto_create_spaces: Option<bool>,
}

/// The current settings.
#[utoipa::path(get, path = "/settings", tag = "settings",
    responses((status = 200, body = Settings), ErrorResponses))]
pub async fn get_settings(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Settings>, ApiError> {
    caller.require_platform_admin()?;
    Ok(Json(state.store.access_settings().await?.into()))
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
    Ok(Json(settings.into()))
}
