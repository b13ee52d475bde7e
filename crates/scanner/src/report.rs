//! What a scan's outcome looks like to the API: summaries from stored reports and live jobs,
//! and findings as the report lists them.

use berth_api_types::{
    ScanSummary, ScannerView, SeverityCounts, SeveritySource, VulnerabilityView,
};
use berth_scan::advisory::ecosystem_name;
use berth_scan::findings::Finding;
use berth_scan::severity::{RatingSource, Severity};
use berth_store::jobs::{Job, JobState};
use berth_store::rfc3339;
use berth_store::scans::ScanSummaryRecord;

/// The status of an image no scan has finished for.
pub const NOT_SCANNED: &str = "not_scanned";

/// An image's scan state: `live`, its queued or running scan job, shows as `queued` or
/// `running` (with progress) above the figures of `report`, the last finished scan.
pub fn summary(live: Option<&Job>, report: Option<&ScanSummaryRecord>) -> ScanSummary {
    let mut summary = match report {
        Some(report) => ScanSummary {
            status: report.status.clone(),
            reason: report.reason.clone(),
            progress: None,
            severity: report.severity.clone(),
            counts: serde_json::from_str(&report.counts).unwrap_or_default(),
            fixable: report.fixable,
            total: report.total,
            scanner: Some(ScannerView {
                name: report.scanner_name.clone(),
                version: report.scanner_version.clone(),
            }),
            source: Some(report.source.clone()),
            db_updated_at: report.db_updated_at.map(rfc3339),
            finished_at: Some(rfc3339(report.finished_at)),
        },
        None => ScanSummary {
            status: NOT_SCANNED.to_string(),
            reason: None,
            progress: None,
            severity: None,
            counts: SeverityCounts::default(),
            fixable: 0,
            total: 0,
            scanner: None,
            source: None,
            db_updated_at: None,
            finished_at: None,
        },
    };
    if let Some(job) = live.filter(|j| j.state.is_live()) {
        summary.status = job.state.as_str().to_string();
        if job.state == JobState::Running {
            summary.progress = Some(serde_json::from_str(&job.progress).unwrap_or_default());
        }
    }
    summary
}

/// Vulnerabilities per severity, and how many are fixable, of `found`.
pub(crate) fn tally(found: &[VulnerabilityView]) -> (SeverityCounts, i64) {
    let mut counts = SeverityCounts::default();
    let mut fixable = 0;
    for v in found {
        let severity = Severity::from_name(&v.severity).unwrap_or(Severity::Unknown);
        *count_of(&mut counts, severity) += 1;
        fixable += i64::from(v.fixed_version.is_some());
    }
    (counts, fixable)
}

/// The rank of a severity name, higher being worse, as `severity_rank` stores it.
pub(crate) fn rank(severity: &str) -> i64 {
    severity_rank(severity).map_or(0, i64::from)
}

/// The rank of a severity name ([`Severity::rank`]); `None` for another word.
pub fn severity_rank(severity: &str) -> Option<u8> {
    Severity::from_name(severity).map(Severity::rank)
}

/// The count of `severity` in `counts`.
pub fn count_of(counts: &mut SeverityCounts, severity: Severity) -> &mut i64 {
    match severity {
        Severity::Critical => &mut counts.critical,
        Severity::High => &mut counts.high,
        Severity::Medium => &mut counts.medium,
        Severity::Low => &mut counts.low,
        Severity::None => &mut counts.none,
        Severity::Unknown => &mut counts.unknown,
    }
}

/// A finding as the report lists it.
pub(crate) fn vulnerability_view(finding: &Finding) -> VulnerabilityView {
    VulnerabilityView {
        id: finding.advisory.clone(),
        aliases: finding.aliases.clone(),
        package: finding.package.clone(),
        ecosystem: ecosystem_name(&finding.ecosystem),
        installed_version: finding.installed.clone(),
        fixed_version: finding.fixed.clone(),
        severity: finding.rating.severity.as_str().to_string(),
        severity_source: severity_source(&finding.rating.source),
        cvss_score: finding.rating.score,
        links: finding.links.clone(),
        summary: finding.summary.clone(),
        found_in: finding.found_in.clone(),
    }
}

fn severity_source(source: &RatingSource) -> SeveritySource {
    let mut view = SeveritySource {
        kind: String::new(),
        vector: None,
        advisory: None,
        urgency: None,
    };
    match source {
        RatingSource::Cvss { vector } => {
            view.kind = "cvss".into();
            view.vector = Some(vector.clone());
        }
        RatingSource::Database => view.kind = "database".into(),
        RatingSource::Related { advisory, source } => {
            let inner = severity_source(source);
            view = SeveritySource {
                kind: "related".into(),
                advisory: Some(advisory.clone()),
                ..inner
            };
        }
        RatingSource::DebianUrgency { urgency } => {
            view.kind = "debian-urgency".into();
            view.urgency = Some(urgency.clone());
        }
        RatingSource::Unrated => view.kind = "unrated".into(),
    }
    view
}

/// Whether `vulnerability` passes the report's filters: at least `min_severity`, and fixable
/// or not as asked.
pub fn vulnerability_matches(
    vulnerability: &VulnerabilityView,
    min_severity: Option<&str>,
    fixable: Option<bool>,
) -> bool {
    min_severity.is_none_or(|min| rank(&vulnerability.severity) >= rank(min))
        && fixable.is_none_or(|wanted| vulnerability.fixed_version.is_some() == wanted)
}
