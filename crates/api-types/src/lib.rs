//! The shapes of Berth's REST API (`/api/v1`, docs/api-contract.md): every request body,
//! query string and answer, written once. The server deserializes requests and serializes
//! answers with these types, and the client and the CLI do the reverse, so a field added here
//! reaches all three.
//!
//! Conventions:
//! - Request bodies refuse unknown fields (a typo is a 400 naming the field) and leave unset
//!   optional fields out when serialized, so a PATCH changes only what its caller named.
//! - Query strings are their own types, without `limit` and `cursor`, which every list takes
//!   as [`ListParams`]; the server reads both from the same query string.
//! - Times are RFC 3339 text in UTC, sizes are bytes.
//! - Passwords, session tokens and robot secrets in fields of their own are [`Secret`], whose
//!   `Debug` output is redacted. A temporary push login's secret is also inside the push
//!   command's login lines, which must carry it to be pasted.
//!
//! **Architecture invariant:** shapes only. No behaviour, no validation beyond what serde's
//! types say, and no dependency on any other Berth crate, so the client stays independent of
//! the server. With the `openapi` feature every type also derives its utoipa schema.

/// Audit log events and their filters.
mod audit;
/// The error answer.
mod error;
/// The image list, image details and the image selector.
mod images;
/// Push commands and pull secrets.
mod push;
/// Platform and workspace registries.
mod registries;
/// Robot accounts.
mod robots;
/// Vulnerability scans and their reports.
mod scans;
/// Signing in and `GET /me`.
mod session;
/// Deployment-wide settings.
mod settings;
/// Spaces and their bindings.
mod spaces;
/// Tarball uploads.
mod uploads;
/// Users.
mod users;
/// Workspaces and their members.
mod workspaces;

mod common;

pub use audit::*;
pub use common::*;
pub use error::*;
pub use images::*;
pub use push::*;
pub use registries::*;
pub use robots::*;
pub use scans::*;
pub use session::*;
pub use settings::*;
pub use spaces::*;
pub use uploads::*;
pub use users::*;
pub use workspaces::*;
