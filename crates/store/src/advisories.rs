//! The vulnerability database: imported OSV advisories and the index the scanner looks them
//! up by. The store keeps documents and keys; what an advisory means is `berth-scan`'s.
//!
//! **Invariant:** an import batch is one transaction, and an advisory is replaced only by a
//! document with a newer `modified`, so re-importing an older export changes nothing and a
//! crash mid-import leaves whole batches, each advisory either old or new with its index.

use std::collections::HashMap;

use sqlx::{Any, Transaction};

use crate::batch::{group, placeholders, values, MAX_PARAMETERS};
use crate::{now_millis, Store, StoreError};

/// An advisory as the importer hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryRecord {
    pub id: String,
    /// `modified`, in milliseconds since the epoch.
    pub modified: i64,
    pub withdrawn: Option<i64>,
    /// The OSV JSON document.
    pub document: String,
    /// (ecosystem, comparable name) of every package it names.
    pub packages: Vec<(String, String)>,
    /// Its aliases and upstream ids.
    pub aliases: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub added: i64,
    pub updated: i64,
    /// Already held with this or a newer `modified`.
    pub unchanged: i64,
    /// Of the added and updated, those withdrawn.
    pub withdrawn: i64,
    /// Documents the importer could not read.
    pub refused: i64,
}

impl ImportCounts {
    pub fn add(&mut self, other: ImportCounts) {
        self.added += other.added;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.withdrawn += other.withdrawn;
        self.refused += other.refused;
    }
}

/// One past import.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VulnDbImport {
    pub source: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub withdrawn: i64,
    pub refused: i64,
}

/// What the database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VulnDbStatus {
    pub advisories: i64,
    pub withdrawn: i64,
    /// Advisories by ecosystem (standing ones), by ecosystem name.
    pub by_ecosystem: Vec<(String, i64)>,
    /// The newest `modified` of any advisory, the database's version.
    pub newest_modified: Option<i64>,
    /// The latest imports, newest first.
    pub imports: Vec<VulnDbImport>,
}

/// Parameters of one advisory row.
const ADVISORY_PARAMETERS: usize = 5;

/// Inserts text rows of `N` columns into `table (columns…)`, as many a statement as the
/// parameter limit allows.
async fn insert_rows<const N: usize>(
    tx: &mut Transaction<'_, Any>,
    table: &str,
    rows: &[[&str; N]],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(MAX_PARAMETERS / N) {
        let sql = format!(
            "INSERT INTO {table} VALUES {}",
            values(1, chunk.len(), N, group)
        );
        let query = chunk
            .iter()
            .flatten()
            .fold(sqlx::query(&sql), |q, value| q.bind(*value));
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Writes a batch of advisories in one transaction: new ones are added, ones held with
    /// an older `modified` replaced (index and all), the rest left alone.
    pub async fn import_advisories(
        &self,
        records: &[AdvisoryRecord],
    ) -> Result<ImportCounts, StoreError> {
        let mut counts = ImportCounts::default();
        let mut tx = self.begin_write().await?;
        let mut held: HashMap<String, i64> = HashMap::new();
        for chunk in records.chunks(MAX_PARAMETERS) {
            let sql = format!(
                "SELECT id, modified FROM advisories WHERE id IN ({})",
                placeholders(chunk.len())
            );
            let rows: Vec<(String, i64)> = chunk
                .iter()
                .fold(sqlx::query_as(&sql), |q, r| q.bind(r.id.as_str()))
                .fetch_all(&mut *tx)
                .await?;
            held.extend(rows);
        }
        // A batch naming one id twice keeps its newest document.
        let mut newest: HashMap<&str, &AdvisoryRecord> = HashMap::new();
        for record in records {
            match newest.get(record.id.as_str()) {
                Some(kept) if kept.modified >= record.modified => counts.unchanged += 1,
                Some(_) => {
                    counts.unchanged += 1;
                    newest.insert(&record.id, record);
                }
                None => {
                    newest.insert(&record.id, record);
                }
            }
        }
        let mut changed: Vec<&AdvisoryRecord> = Vec::new();
        for record in newest.into_values() {
            match held.get(&record.id) {
                Some(&modified) if modified >= record.modified => counts.unchanged += 1,
                Some(_) => {
                    counts.updated += 1;
                    changed.push(record);
                }
                None => {
                    counts.added += 1;
                    changed.push(record);
                }
            }
        }
        counts.withdrawn = changed.iter().filter(|r| r.withdrawn.is_some()).count() as i64;
        changed.sort_by(|a, b| a.id.cmp(&b.id));
        let ids: Vec<&str> = changed.iter().map(|r| r.id.as_str()).collect();
        for table in ["advisory_packages", "advisory_aliases"] {
            for chunk in ids.chunks(MAX_PARAMETERS) {
                let sql = format!(
                    "DELETE FROM {table} WHERE advisory_id IN ({})",
                    placeholders(chunk.len())
                );
                chunk
                    .iter()
                    .fold(sqlx::query(&sql), |q, id| q.bind(*id))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let now = now_millis();
        for chunk in changed.chunks(MAX_PARAMETERS / ADVISORY_PARAMETERS) {
            let sql = format!(
                "INSERT INTO advisories (id, modified, withdrawn, document, imported_at) \
                 VALUES {} ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, \
                 withdrawn = excluded.withdrawn, document = excluded.document, \
                 imported_at = excluded.imported_at",
                values(1, chunk.len(), ADVISORY_PARAMETERS, group)
            );
            let mut query = sqlx::query(&sql);
            for record in chunk {
                query = query
                    .bind(record.id.as_str())
                    .bind(record.modified)
                    .bind(record.withdrawn)
                    .bind(record.document.as_str())
                    .bind(now);
            }
            query.execute(&mut *tx).await?;
        }
        // Withdrawn advisories leave the package index: nothing should find them.
        let mut packages: Vec<(&str, &str, &str)> = changed
            .iter()
            .filter(|r| r.withdrawn.is_none())
            .flat_map(|r| {
                r.packages
                    .iter()
                    .map(|(e, n)| (e.as_str(), n.as_str(), r.id.as_str()))
            })
            .collect();
        packages.sort_unstable();
        packages.dedup();
        let mut aliases: Vec<(&str, &str)> = changed
            .iter()
            .flat_map(|r| r.aliases.iter().map(|a| (a.as_str(), r.id.as_str())))
            .collect();
        aliases.sort_unstable();
        aliases.dedup();
        let packages: Vec<[&str; 3]> = packages.into_iter().map(|(e, n, id)| [e, n, id]).collect();
        insert_rows(
            &mut tx,
            "advisory_packages (ecosystem, name, advisory_id)",
            &packages,
        )
        .await?;
        let aliases: Vec<[&str; 2]> = aliases.into_iter().map(|(a, id)| [a, id]).collect();
        insert_rows(&mut tx, "advisory_aliases (alias, advisory_id)", &aliases).await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Records a finished import.
    pub async fn record_vulndb_import(&self, import: &VulnDbImport) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO vulndb_imports (source, started_at, finished_at, added, updated, \
             unchanged, withdrawn, refused) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(import.source.as_str())
        .bind(import.started_at)
        .bind(import.finished_at)
        .bind(import.added)
        .bind(import.updated)
        .bind(import.unchanged)
        .bind(import.withdrawn)
        .bind(import.refused)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The standing advisories filed under any of `packages` (ecosystem, comparable name),
    /// as documents, each once, by id.
    pub async fn advisories_for(
        &self,
        packages: &[(String, String)],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut found: Vec<(String, String)> = Vec::new();
        for chunk in packages.chunks(MAX_PARAMETERS / 2) {
            let sql = format!(
                "SELECT DISTINCT a.id, a.document FROM advisory_packages p \
                 JOIN advisories a ON a.id = p.advisory_id \
                 WHERE a.withdrawn IS NULL AND (p.ecosystem, p.name) IN (VALUES {})",
                values(1, chunk.len(), 2, group)
            );
            let rows: Vec<(String, String)> = chunk
                .iter()
                .fold(sqlx::query_as(&sql), |q, (e, n)| {
                    q.bind(e.as_str()).bind(n.as_str())
                })
                .fetch_all(&self.reader)
                .await?;
            found.extend(rows);
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        found.dedup_by(|a, b| a.0 == b.0);
        Ok(found)
    }

    /// The standing advisories with any of `ids` as their id, an alias or an upstream id: the
    /// other records of the vulnerabilities `ids` name. Documents, each once, by id.
    pub async fn advisories_related(
        &self,
        ids: &[&str],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut found: Vec<(String, String)> = Vec::new();
        for chunk in ids.chunks(MAX_PARAMETERS / 2) {
            let sql = format!(
                "SELECT a.id, a.document FROM advisories a WHERE a.withdrawn IS NULL AND \
                 (a.id IN ({}) OR a.id IN (SELECT x.advisory_id FROM advisory_aliases x \
                 WHERE x.alias IN ({})))",
                placeholders(chunk.len()),
                crate::batch::placeholders_from(chunk.len() + 1, chunk.len())
            );
            let rows: Vec<(String, String)> = chunk
                .iter()
                .chain(chunk.iter())
                .fold(sqlx::query_as(&sql), |q, id| q.bind(*id))
                .fetch_all(&self.reader)
                .await?;
            found.extend(rows);
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        found.dedup_by(|a, b| a.0 == b.0);
        Ok(found)
    }

    /// The newest import's id and when it finished: the vulnerability database's version, as
    /// scans record it. `None` before the first import.
    pub async fn latest_vulndb_import(&self) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, finished_at FROM vulndb_imports ORDER BY id DESC LIMIT 1")
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// The advisories known by `alias` (as an alias or upstream id), as documents.
    pub async fn advisories_aliased(&self, alias: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT a.document FROM advisory_aliases x JOIN advisories a ON a.id = x.advisory_id \
             WHERE x.alias = $1 ORDER BY a.id",
        )
        .bind(alias)
        .fetch_all(&self.reader)
        .await?)
    }

    /// What the database holds and its latest imports.
    pub async fn vulndb_status(&self) -> Result<VulnDbStatus, StoreError> {
        let (advisories, withdrawn, newest_modified): (i64, i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), COUNT(withdrawn), MAX(modified) FROM advisories")
                .fetch_one(&self.reader)
                .await?;
        let by_ecosystem: Vec<(String, i64)> = sqlx::query_as(
            "SELECT ecosystem, COUNT(DISTINCT advisory_id) FROM advisory_packages \
             GROUP BY ecosystem ORDER BY ecosystem",
        )
        .fetch_all(&self.reader)
        .await?;
        let imports = sqlx::query_as(
            "SELECT source, started_at, finished_at, added, updated, unchanged, withdrawn, \
             refused FROM vulndb_imports ORDER BY id DESC LIMIT 10",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(VulnDbStatus {
            advisories,
            withdrawn,
            by_ecosystem,
            newest_modified,
            imports,
        })
    }
}
