//! Who may do what, as pure functions over facts: the registry rule behind Docker token
//! scopes, the image-list rule, and the REST API's decisions.
//!
//! **Architecture invariant:** no I/O. Callers gather the facts (who is asking, what they
//! asked for, the spaces and bindings concerned) fresh for each decision and this crate
//! decides, so a binding, role or robot change counts on the very next request. Every "who
//! may" question of Berth is answered here and nowhere else; `tests/rules_stay_here.rs` keeps
//! role tables out of the crates that serve requests.

/// Which spaces a workspace's image list holds, and why.
pub mod image_list;
/// What a subject may do in a space of a platform registry, and the token scopes granted.
pub mod registry;
/// The REST API's decisions: workspaces, platform resources, spaces, credentials.
pub mod rest;
/// Docker token scopes and the reading of a token's rights.
pub mod scope;
/// Who is asking: users with their roles, robots, anonymous clients.
pub mod subject;

pub use image_list::{list_sources, ListSources, ListedSpace};
pub use registry::{anonymous_may_pull, grant, may, refusal, Facts, Policy, Refused, SpaceFacts};
pub use rest::{Decision, PlatformNeed, Refusal, SpaceFilter, WorkspaceListing, WorkspaceNeed};
pub use scope::{allows, Action, Scope, ScopeError};
pub use subject::{Role, SpaceId, Subject, WorkspaceId};
