//! The metadata database.
//!
//! **Architecture invariant:** one code path serves SQLite and PostgreSQL. Every query is
//! written once in the SQL both accept (`$1` placeholders, `ON CONFLICT`, `RETURNING`), and
//! the dialect differences live in the two migration folders, save the row lock of the job
//! claim (`Store::claim_job` in `jobs.rs`). The store never calls services or knows about
//! HTTP; callers hand it parsed values from `berth-oci`.

/// The vulnerability database: imported OSV advisories and their package index.
pub mod advisories;
/// The facts a push and a sync record about an artifact: config fields, layers, history.
pub mod artifact_facts;
/// The audit log.
pub mod audit;
/// Multi-row statements within the parameter limit.
mod batch;
/// Connecting, pooling (one SQLite writer beside a read pool) and migrations.
mod db;
/// The error type of this layer.
mod error;
/// Syncing external registries: stored catalogs, cached manifests, sync outcomes.
pub mod external;
/// The facts the access rule needs: spaces with bindings, memberships, robots, settings.
pub mod facts;
/// The hosted registry's protocol state: blob links, manifests, tags, referrers and pull
/// counts, keyed by repository name inside `hosted`.
pub mod hosted;
/// A queue of background jobs, leased to workers and shared by every process on the database.
pub mod jobs;
/// Registry records: `hosted`, platform and workspace registries, their stored credentials
/// and health.
pub mod registry_records;
/// Every registry's repositories by registry id, as image lists and detail pages read them,
/// and what the API and a registry sync write (descriptions, deletes, synced listings).
pub mod repositories;
/// Vulnerability scans: layer contents kept by layer digest, and scan reports.
pub mod scans;
/// Catalog sizes, stored bytes and connection pool use, for metrics.
pub mod statistics;
/// Workspaces, members, spaces, bindings and robots.
pub mod tenancy;
/// Robot accounts Berth keeps in registries that enforce access themselves (Harbor).
pub mod upstream_robots;
/// Users and their password hashes.
pub mod users;
/// How times and booleans are stored on both databases.
mod values;

pub use db::{Backend, CatalogChanges, RepositoryChanges, Store};
pub use error::StoreError;
pub use values::{now_millis, rfc3339};
