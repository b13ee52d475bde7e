//! Enumerations shared by several resources. As request fields they are checked by serde, so
//! an unknown role, kind or permission is a 400 naming the field and the accepted values.

use berth_access::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A member's role in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    Admin,
    Editor,
    Viewer,
}

impl RoleName {
    pub fn parse(text: &str) -> Option<RoleName> {
        Role::parse(text).map(RoleName::from)
    }

    pub fn as_str(self) -> &'static str {
        Role::from(self).as_str()
    }
}

impl From<Role> for RoleName {
    fn from(role: Role) -> RoleName {
        match role {
            Role::Admin => RoleName::Admin,
            Role::Editor => RoleName::Editor,
            Role::Viewer => RoleName::Viewer,
        }
    }
}

impl From<RoleName> for Role {
    fn from(role: RoleName) -> Role {
        match role {
            RoleName::Admin => Role::Admin,
            RoleName::Editor => Role::Editor,
            RoleName::Viewer => Role::Viewer,
        }
    }
}

/// What a robot account may do on the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Pull,
    Push,
}

/// The protocol of a registry. `hosted` is Berth's own registry; it exists once and cannot
/// be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegistryKind {
    Hosted,
    Distribution,
    Harbor,
    Oci,
}

impl RegistryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryKind::Hosted => "hosted",
            RegistryKind::Distribution => "distribution",
            RegistryKind::Harbor => "harbor",
            RegistryKind::Oci => "oci",
        }
    }

    pub fn parse(text: &str) -> Option<RegistryKind> {
        [
            RegistryKind::Hosted,
            RegistryKind::Distribution,
            RegistryKind::Harbor,
            RegistryKind::Oci,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}
