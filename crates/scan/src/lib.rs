//! Vulnerability analysis: layer bytes and advisories in, findings out, with no HTTP and no
//! SQL, so that all of it is tested with data.
//!
//! - [`version`] orders versions as each ecosystem does (dpkg, SemVer, Go, PEP 440).
//! - [`advisory`] decides, per the OSV evaluation rules, whether an advisory covers an
//!   installed package and which version fixes it.

pub mod advisory;
pub mod version;
