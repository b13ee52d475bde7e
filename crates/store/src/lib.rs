//! The metadata database.
//!
//! **Architecture invariant:** one code path serves SQLite and PostgreSQL. Every query is
//! written once in the SQL both accept (`$1` placeholders, `ON CONFLICT`, `RETURNING`), and
//! the dialect differences live only in the two migration folders. The store never calls
//! services or knows about HTTP; callers hand it parsed values from `berth-oci`.

/// The audit log.
pub mod audit;
/// The catalog as image lists and detail pages read it, and what a registry sync writes.
pub mod catalog;
/// Connecting, pooling (one SQLite writer beside a read pool) and migrations.
mod db;
/// The error type of this layer.
mod error;
/// The facts the access rule needs: spaces with bindings, memberships, robots, settings.
pub mod facts;
/// Platform and workspace registries, their stored credentials and health.
pub mod registries;
/// Repositories, blob links, manifests, tags, referrers and pull counts of a registry.
pub mod registry;
/// Catalog sizes, stored bytes and connection pool use, for metrics.
pub mod statistics;
/// Workspaces, members, spaces, bindings and robots.
pub mod tenancy;
/// Users and their password hashes.
pub mod users;

pub use db::{now_millis, Backend, CatalogChanges, RepositoryChanges, Store};
pub use error::StoreError;
