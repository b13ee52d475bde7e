//! Vulnerability scans: what was read from each layer, kept by layer digest, and each scan's
//! outcome, kept by the scanned manifest's digest. The store keeps JSON it does not read;
//! what the contents and reports mean is the scanner's.
//!
//! **Invariant:** a report is written whole in one statement, replacing the previous one of
//! its digest, so a scan killed midway leaves the previous report standing.

use crate::batch::{placeholders, MAX_PARAMETERS};
use crate::{Store, StoreError};

/// A scan's outcome, as the scanner writes it and the API reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScanReportRecord {
    pub digest: String,
    /// `success`, `failed` or `unsupported`.
    pub status: String,
    pub reason: Option<String>,
    /// Whose scan it is: `berth`, or the external registry's (`harbor`), copied by a sync.
    pub source: String,
    pub scanner_name: String,
    pub scanner_version: String,
    /// The vulnerability database's newest import when the scan matched, and its time.
    pub vulndb_import_id: Option<i64>,
    pub db_updated_at: Option<i64>,
    pub started_at: i64,
    pub finished_at: i64,
    /// The highest severity found and its rank (higher is worse).
    pub severity: Option<String>,
    pub severity_rank: Option<i64>,
    /// Vulnerabilities per severity, as JSON.
    pub counts: String,
    pub fixable: i64,
    pub total: i64,
    /// The findings, the inventory and the log, as JSON.
    pub vulnerabilities: String,
    pub packages: String,
    pub log: String,
}

/// A report without its findings, inventory and log: what lists show.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScanSummaryRecord {
    pub digest: String,
    pub status: String,
    pub reason: Option<String>,
    pub source: String,
    pub scanner_name: String,
    pub scanner_version: String,
    pub vulndb_import_id: Option<i64>,
    pub db_updated_at: Option<i64>,
    pub finished_at: i64,
    pub severity: Option<String>,
    pub counts: String,
    pub fixable: i64,
    pub total: i64,
}

const SUMMARY_COLUMNS: &str = "digest, status, reason, source, scanner_name, scanner_version, \
     vulndb_import_id, db_updated_at, finished_at, severity, counts, fixable, total";

/// The source of Berth's own reports.
pub const BERTH_SOURCE: &str = "berth";

impl Store {
    /// What reader `reader_version` kept of layer `digest`; `None` when it was never read, or
    /// read by another reader.
    pub async fn layer_analysis(
        &self,
        digest: &str,
        reader_version: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT contents FROM layer_analyses WHERE digest = $1 AND reader_version = $2",
        )
        .bind(digest)
        .bind(reader_version)
        .fetch_optional(&self.reader)
        .await?)
    }

    /// Keeps what was read of layer `digest`, replacing what another reader kept.
    pub async fn put_layer_analysis(
        &self,
        digest: &str,
        reader_version: i64,
        contents: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO layer_analyses (digest, reader_version, contents, analysed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO UPDATE SET \
             reader_version = excluded.reader_version, contents = excluded.contents, \
             analysed_at = excluded.analysed_at",
        )
        .bind(digest)
        .bind(reader_version)
        .bind(contents)
        .bind(crate::now_millis())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Writes a scan's outcome, replacing the digest's previous one.
    pub async fn put_scan_report(&self, report: &ScanReportRecord) -> Result<(), StoreError> {
        self.upsert_scan_report(report, "").await
    }

    /// Writes a report another scanner made (an external registry's, copied by a sync) unless
    /// Berth has scanned the digest itself, whose report stands.
    pub async fn put_external_scan_report(
        &self,
        report: &ScanReportRecord,
    ) -> Result<(), StoreError> {
        self.upsert_scan_report(report, " WHERE scan_reports.source <> 'berth'")
            .await
    }

    async fn upsert_scan_report(
        &self,
        report: &ScanReportRecord,
        only_when: &str,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO scan_reports (digest, status, reason, source, scanner_name, \
             scanner_version, vulndb_import_id, db_updated_at, started_at, finished_at, \
             severity, severity_rank, counts, fixable, total, vulnerabilities, packages, log) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18) ON CONFLICT (digest) DO UPDATE SET status = excluded.status, \
             reason = excluded.reason, source = excluded.source, \
             scanner_name = excluded.scanner_name, scanner_version = excluded.scanner_version, \
             vulndb_import_id = excluded.vulndb_import_id, \
             db_updated_at = excluded.db_updated_at, started_at = excluded.started_at, \
             finished_at = excluded.finished_at, severity = excluded.severity, \
             severity_rank = excluded.severity_rank, counts = excluded.counts, \
             fixable = excluded.fixable, total = excluded.total, \
             vulnerabilities = excluded.vulnerabilities, packages = excluded.packages, \
             log = excluded.log{only_when}"
        );
        sqlx::query(&sql)
            .bind(report.digest.as_str())
            .bind(report.status.as_str())
            .bind(report.reason.as_deref())
            .bind(report.source.as_str())
            .bind(report.scanner_name.as_str())
            .bind(report.scanner_version.as_str())
            .bind(report.vulndb_import_id)
            .bind(report.db_updated_at)
            .bind(report.started_at)
            .bind(report.finished_at)
            .bind(report.severity.as_deref())
            .bind(report.severity_rank)
            .bind(report.counts.as_str())
            .bind(report.fixable)
            .bind(report.total)
            .bind(report.vulnerabilities.as_str())
            .bind(report.packages.as_str())
            .bind(report.log.as_str())
            .execute(&self.writer)
            .await?;
        // The image list shows each repository's latest tag's severity: the repositories
        // whose latest tag is this digest read theirs again.
        let repositories: Vec<i64> = sqlx::query_scalar(
            "SELECT r.id FROM repositories r \
             JOIN tags t ON t.repository_id = r.id AND t.name = r.latest_tag \
             JOIN artifacts a ON a.id = t.artifact_id WHERE a.digest = $1",
        )
        .bind(report.digest.as_str())
        .fetch_all(&self.reader)
        .await?;
        self.changes.summaries_changed(repositories);
        Ok(())
    }

    /// The latest finished scan of `digest`.
    pub async fn scan_report(&self, digest: &str) -> Result<Option<ScanReportRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT digest, status, reason, source, scanner_name, scanner_version, \
             vulndb_import_id, db_updated_at, started_at, finished_at, severity, severity_rank, \
             counts, fixable, total, vulnerabilities, packages, log FROM scan_reports \
             WHERE digest = $1",
        )
        .bind(digest)
        .fetch_optional(&self.reader)
        .await?)
    }

    /// The summaries of the latest finished scans of `digests`, for those that have one.
    pub async fn scan_summaries(
        &self,
        digests: &[&str],
    ) -> Result<Vec<ScanSummaryRecord>, StoreError> {
        let mut found = Vec::new();
        for chunk in digests.chunks(MAX_PARAMETERS) {
            let sql = format!(
                "SELECT {SUMMARY_COLUMNS} FROM scan_reports WHERE digest IN ({})",
                placeholders(chunk.len())
            );
            let rows: Vec<ScanSummaryRecord> = chunk
                .iter()
                .fold(sqlx::query_as(&sql), |q, d| q.bind(*d))
                .fetch_all(&self.reader)
                .await?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// The digests of finished scans matched against an older vulnerability database than
    /// import `import_id` (or none at all), which a database change should scan again.
    pub async fn scans_before_import(&self, import_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT digest FROM scan_reports WHERE status = 'success' AND source = 'berth' \
             AND (vulndb_import_id IS NULL OR vulndb_import_id < $1) ORDER BY digest",
        )
        .bind(import_id)
        .fetch_all(&self.reader)
        .await?)
    }
}
