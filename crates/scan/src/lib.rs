//! Vulnerability analysis: layer bytes and advisories in, findings out, with no HTTP and no
//! SQL, so that all of it is tested with data.
//!
//! - [`distribution`] tells an image's distribution from its `os-release` file.
//! - [`dpkg`] reads Debian's package database, each binary package with its source.
//! - [`version`] orders versions as each ecosystem does (dpkg, SemVer, Go, PEP 440).
//! - [`advisory`] decides, per the OSV evaluation rules, whether an advisory covers an
//!   installed package and which version fixes it.

pub mod advisory;
pub mod distribution;
pub mod dpkg;
pub mod version;
