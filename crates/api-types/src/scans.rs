//! Vulnerability scans: the summary every image answer carries, the full report, the scan log.

use serde::{Deserialize, Serialize};

/// Where an image's scan stands and what it found: the `scan` field of list rows,
/// repositories, tags, artifacts and selector items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanSummary {
    /// `not_scanned`, `queued`, `running`, `success`, `failed` or `unsupported`.
    pub status: String,
    /// Why it failed or is unsupported; null otherwise.
    pub reason: Option<String>,
    /// While it runs: how far it is.
    pub progress: Option<ScanProgress>,
    /// The highest severity found (`critical` … `none`, `unknown`); null when nothing was found
    /// or no scan has finished.
    pub severity: Option<String>,
    pub counts: SeverityCounts,
    /// Vulnerabilities with a fixed version to upgrade to.
    pub fixable: i64,
    pub total: i64,
    /// Who scanned: Berth itself, or for an image of a Harbor registry that Berth has not
    /// scanned, Harbor's own scanner.
    pub scanner: Option<ScannerView>,
    /// Whose result it is: `berth`, or `harbor` (Harbor's scan, as its registry reported it;
    /// it has counts but no list of vulnerabilities). Null before any scan.
    #[serde(default)]
    pub source: Option<String>,
    /// When the vulnerability database the result was matched against was last updated.
    pub db_updated_at: Option<String>,
    pub finished_at: Option<String>,
}

/// Vulnerabilities per severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeverityCounts {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub none: i64,
    pub unknown: i64,
}

/// How far a running scan is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanProgress {
    pub layers_done: u64,
    pub layers_total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScannerView {
    pub name: String,
    pub version: String,
}

/// One vulnerability of one package of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VulnerabilityView {
    /// The advisory's id (`DEBIAN-CVE-2023-0464`, `PYSEC-2021-108`).
    pub id: String,
    /// The other ids it is known by (`CVE-2023-0464`, `GHSA-…`).
    pub aliases: Vec<String>,
    /// The package as installed (a Debian binary package, even where the advisory names its
    /// source package).
    pub package: String,
    /// The ecosystem its advisory is filed under (`Debian:12`, `PyPI`).
    pub ecosystem: String,
    pub installed_version: String,
    /// The first version without it; null when none is known (not fixable).
    pub fixed_version: Option<String>,
    /// `critical`, `high`, `medium`, `low`, `none` or `unknown`.
    pub severity: String,
    pub severity_source: SeveritySource,
    pub cvss_score: Option<f64>,
    pub links: Vec<String>,
    pub summary: Option<String>,
    /// The file the package was read from.
    pub found_in: String,
}

/// Who rated a vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeveritySource {
    /// `cvss` (computed from `vector`), `database` (the advisory database's own severity),
    /// `related` (another record of the same vulnerability, `advisory`), `debian-urgency`, or
    /// `unrated`.
    pub kind: String,
    /// The CVSS vector the score was computed from.
    pub vector: Option<String>,
    /// For `related`: the advisory whose rating this is.
    pub advisory: Option<String>,
    /// For `debian-urgency`: the urgency Debian gave.
    pub urgency: Option<String>,
}

/// The filters of `GET …/artifacts/{digest}/vulnerabilities`; paging is [`crate::ListParams`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct VulnerabilityFilters {
    /// The lowest severity to include (`high` includes `critical`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// `true`: only vulnerabilities with a fixed version; `false`: only those without.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixable: Option<bool>,
}

/// The answer of `GET …/artifacts/{digest}/vulnerabilities`: the summary, and a page of the
/// report, most severe first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VulnerabilityReport {
    pub digest: String,
    pub scan: ScanSummary,
    pub items: Vec<VulnerabilityView>,
    pub next_cursor: Option<String>,
    /// How many match the filters, across all pages.
    pub total: i64,
}

/// What a scan did, line by line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanLog {
    pub digest: String,
    pub scan: ScanSummary,
    pub started_at: Option<String>,
    pub lines: Vec<ScanLogLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanLogLine {
    /// `info`, or `warning` for what could not be read or matched.
    pub level: String,
    pub message: String,
}

/// The query of `GET …/artifacts/{digest}/sbom`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SbomParams {
    /// `spdx-json` (SPDX 2.3, the default) or `cyclonedx-json` (CycloneDX 1.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// The answer of `POST …/scan`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanRequested {
    /// Images queued: the artifact, or every image of a registry.
    pub queued: i64,
    /// The artifact's scan state after the request (absent for a registry's).
    pub scan: Option<ScanSummary>,
}

/// A package found in an image, as the scan read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PackageView {
    pub name: String,
    pub version: String,
    /// The ecosystem its advisories are filed under (`Debian:12`, `PyPI`, `npm`, `crates.io`).
    pub ecosystem: String,
    /// For a distribution package, the source package it was built from, which advisories
    /// name.
    pub source_name: Option<String>,
    pub source_version: Option<String>,
    pub found_in: String,
}
