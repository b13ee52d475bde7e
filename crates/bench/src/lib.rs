//! Benchmark support for Berth. `gen-catalog` (in `src/bin`) fills a deployment with a large
//! catalog through `berth-store`; the pieces here decide what it writes. `gen-distribution`
//! lays out a CNCF Distribution storage with many repositories and `bare-crawl` crawls it
//! without a store, for `scripts/bench-sync`.
//!
//! **Architecture invariant:** nothing here is a dependency of the server or the binary; the
//! generated shape is a pure function of the sizes and a seed, so two runs with the same
//! arguments write the same names, tags and digests.

/// One repository's history: builds with their tags, push times, manifests and digests.
pub mod history;
/// The shape of the deployment: workspaces, registries, spaces, bindings, users, and which
/// repository goes where with how many tags.
pub mod plan;
/// The word lists names are made of.
pub mod words;
