//! Vulnerability analysis: layer bytes and advisories in, findings out, with no HTTP and no
//! SQL, so that all of it is tested with data.
//!
//! - [`layer`] reads layer streams into the files the inventory needs, and stacks layers
//!   with their whiteouts and opaque directories.
//! - [`distribution`] tells an image's distribution from its `os-release` file.
//! - [`dpkg`] reads Debian's package database, each binary package with its source.
//! - [`python`], [`node`] and [`rust`] read installed Python distributions, Node packages and
//!   `Cargo.lock` files.
//! - [`inventory`] gathers an image's distribution and packages from its stacked files.
//! - [`findings`] matches an inventory against an index of advisories.
//! - [`severity`] rates a vulnerability and says who rated it.
//! - [`version`] orders versions as each ecosystem does (dpkg, SemVer, Go, PEP 440).
//! - [`advisory`] decides, per the OSV evaluation rules, whether an advisory covers an
//!   installed package and which version fixes it.

pub mod advisory;
pub mod distribution;
pub mod dpkg;
pub mod findings;
pub mod inventory;
pub mod layer;
pub mod node;
pub mod python;
pub mod rust;
pub mod severity;
pub mod version;
