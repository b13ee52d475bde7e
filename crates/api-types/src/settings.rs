//! Deployment-wide settings.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// Whether anonymous clients may pull public spaces.
    pub anonymous_pull: bool,
    /// Whether a platform admin's push to a missing space of `hosted` creates it.
    pub auto_create_spaces: bool,
}

/// `PATCH /settings`: fields left out keep their value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_pull: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_create_spaces: Option<bool>,
}
