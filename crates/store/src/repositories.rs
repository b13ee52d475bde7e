//! The catalog as the image list and the detail pages read it: every registry's repositories
//! with their summaries, tag pages, one repository's record, and the writes the API makes
//! (descriptions, repository deletes) and a registry sync makes (external repositories).
//!
//! The hosted registry's own writes (pushes, tag and manifest deletes) live in `hosted.rs`,
//! which keys everything by repository name inside `hosted`; this module keys by registry id,
//! so it serves external platform and workspace registries too.

use std::collections::HashMap;

use sqlx::{Any, Transaction};

use crate::artifact_facts::{insert_layers_and_history, ArtifactFacts};
use crate::audit::NewAuditEvent;
use crate::batch::{execute_for_ids, group, placeholders, values, MAX_PARAMETERS};
use crate::hosted::{ChildRecord, Platform};
use crate::values::Flag;
use crate::{now_millis, Store, StoreError};

/// A space with what the image list needs of its registry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CatalogSpace {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "Flag")]
    pub public: bool,
    pub registry_id: i64,
    pub registry_name: String,
    #[sqlx(rename = "kind")]
    pub registry_kind: String,
    #[sqlx(rename = "url")]
    pub registry_url: String,
    /// The owning workspace of a workspace registry; `None` for platform registries.
    #[sqlx(rename = "workspace_id")]
    pub registry_workspace_id: Option<i64>,
}

/// A repository with its precomputed summary and its tag names.
#[derive(Debug, Clone, Default)]
pub struct CatalogRepository {
    pub id: i64,
    pub registry_id: i64,
    pub space_id: Option<i64>,
    pub name: String,
    pub artifact_count: i64,
    pub tag_count: i64,
    pub latest_tag: Option<String>,
    pub pushed_at: Option<i64>,
    pub latest_size: Option<i64>,
    pub pulls: i64,
    pub description: String,
    pub created_at: i64,
    /// The rank of the highest severity the last scan of the latest tag's artifact found
    /// (critical 5 … unknown 0); `None` when it found nothing or has no scan.
    pub scan_severity_rank: Option<i64>,
    /// Filled by the loaders that say so; empty otherwise.
    pub tags: Vec<String>,
    /// The newest [`RECENT_TAGS_KEPT`] tags, newest first, filled with `tags`.
    pub recent_tags: Vec<TagRecord>,
}

/// The [`REPOSITORY_COLUMNS`] of a `repositories` row, which a [`CatalogRepository`] carries
/// without the tags that loaders add from their own query.
#[derive(sqlx::FromRow)]
struct RepositoryRow {
    id: i64,
    registry_id: i64,
    space_id: Option<i64>,
    name: String,
    artifact_count: i64,
    tag_count: i64,
    latest_tag: Option<String>,
    pushed_at: Option<i64>,
    latest_size: Option<i64>,
    pulls: i64,
    description: String,
    created_at: i64,
    scan_severity_rank: Option<i64>,
}

impl From<RepositoryRow> for CatalogRepository {
    fn from(row: RepositoryRow) -> CatalogRepository {
        CatalogRepository {
            id: row.id,
            registry_id: row.registry_id,
            space_id: row.space_id,
            name: row.name,
            artifact_count: row.artifact_count,
            tag_count: row.tag_count,
            latest_tag: row.latest_tag,
            pushed_at: row.pushed_at,
            latest_size: row.latest_size,
            pulls: row.pulls,
            description: row.description,
            created_at: row.created_at,
            scan_severity_rank: row.scan_severity_rank,
            tags: Vec::new(),
            recent_tags: Vec::new(),
        }
    }
}

/// How many of its newest tags a repository loaded with its tag names carries in full: the
/// references per repository the image selector offers, so it needs no query of its own.
pub const RECENT_TAGS_KEPT: usize = 3;

/// How a tag page is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOrder {
    /// By name, ascending.
    Name,
    /// Newest push first, then by name.
    NewestFirst,
}

/// Where a tag page starts: after this tag in the page's order.
#[derive(Debug, Clone)]
pub struct TagCursor {
    pub pushed_at: i64,
    pub name: String,
}

/// One tag with the artifact it points at.
#[derive(Debug, Clone)]
pub struct TagRecord {
    pub name: String,
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    /// See [`crate::hosted::ArtifactRecord::pushed_at`].
    pub pushed_at: i64,
    pub pushed_at_known: bool,
    pub pulled_at: Option<i64>,
    pub size: i64,
    /// The image's own platform, or each child's for an index.
    pub platforms: Vec<Platform>,
    pub pushed_by: Option<String>,
    pub pull_count: i64,
}

/// The [`TAG_COLUMNS`] of one tag joined with its artifact, before [`Store::tags_from_rows`]
/// gives it its platforms.
#[derive(sqlx::FromRow)]
struct TagRow {
    name: String,
    pushed_at: i64,
    pulled_at: Option<i64>,
    artifact_id: i64,
    digest: String,
    media_type: String,
    artifact_type: Option<String>,
    size: i64,
    /// The artifact's own platform; an index has none.
    #[sqlx(flatten)]
    platform: Platform,
    pushed_by: Option<String>,
    pull_count: i64,
    #[sqlx(try_from = "Flag")]
    pushed_at_known: bool,
}

/// A [`TagRow`] of a query over several repositories, with the repository it belongs to.
#[derive(sqlx::FromRow)]
struct RepositoryTagRow {
    repository_id: i64,
    #[sqlx(flatten)]
    tag: TagRow,
}

/// The platform of one child of an index, for [`Store::child_platforms`].
#[derive(sqlx::FromRow)]
struct ChildPlatformRow {
    artifact_id: i64,
    #[sqlx(flatten)]
    platform: Platform,
}

/// A repository of an external registry as a sync sees it.
#[derive(Debug, Clone)]
pub struct SyncedRepository {
    pub name: String,
    pub description: String,
    pub tags: Vec<SyncedTag>,
}

#[derive(Debug, Clone)]
pub struct SyncedTag {
    pub name: String,
    pub digest: String,
    pub media_type: String,
    /// The manifest bytes when the sync fetched them.
    pub manifest: Vec<u8>,
    pub size: i64,
    /// When the registry says the tag was pushed (Harbor does); otherwise the time of the
    /// sync that first saw it, with `pushed_at_known` false.
    pub pushed_at: i64,
    pub pushed_at_known: bool,
    pub platform: Platform,
    pub children: Vec<ChildRecord>,
    /// Config fields, layers and history, as a push records them.
    pub facts: ArtifactFacts,
}

const REPOSITORY_COLUMNS: &str = "id, registry_id, space_id, name, artifact_count, tag_count, \
     latest_tag, pushed_at, latest_size, pulls, description, created_at, \
     (SELECT s.severity_rank FROM tags t JOIN artifacts a ON a.id = t.artifact_id \
      JOIN scan_reports s ON s.digest = a.digest \
      WHERE t.repository_id = repositories.id AND t.name = repositories.latest_tag) \
     AS scan_severity_rank";

/// What [`Store::tags_from_rows`] reads, from `tags t JOIN artifacts a`.
const TAG_COLUMNS: &str = "t.name, t.pushed_at, t.pulled_at, a.id AS artifact_id, a.digest, \
     a.media_type, a.artifact_type, a.size, a.os, a.architecture, a.variant, a.pushed_by, \
     a.pull_count, a.pushed_at_known";

impl Store {
    /// The digest the latest tag of each of `repositories` points at, by repository id, for
    /// those that have one: what an image list row's scan is the scan of.
    pub async fn latest_tag_digests(
        &self,
        repositories: &[i64],
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let mut found = Vec::new();
        for chunk in repositories.chunks(crate::batch::MAX_PARAMETERS) {
            let sql = format!(
                "SELECT r.id, a.digest FROM repositories r \
                 JOIN tags t ON t.repository_id = r.id AND t.name = r.latest_tag \
                 JOIN artifacts a ON a.id = t.artifact_id WHERE r.id IN ({})",
                crate::batch::placeholders(chunk.len())
            );
            let rows: Vec<(i64, String)> = chunk
                .iter()
                .fold(sqlx::query_as(&sql), |q, id| q.bind(*id))
                .fetch_all(&self.reader)
                .await?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// Every tagged artifact of registry `registry_id`, as (repository, digest), each once:
    /// what a scan of the whole registry scans.
    pub async fn tagged_artifacts(
        &self,
        registry_id: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT DISTINCT r.name, a.digest FROM tags t \
             JOIN artifacts a ON a.id = t.artifact_id \
             JOIN repositories r ON r.id = t.repository_id \
             WHERE r.registry_id = $1 ORDER BY r.name, a.digest",
        )
        .bind(registry_id)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Every space of every registry with its registry's facts.
    pub async fn catalog_spaces(&self) -> Result<Vec<CatalogSpace>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.id, s.name, s.public, g.id AS registry_id, g.name AS registry_name, \
             g.kind, g.url, g.workspace_id FROM spaces s JOIN registries g ON g.id = s.registry_id \
             ORDER BY s.id",
        )
        .fetch_all(&self.reader)
        .await?)
    }

    /// Every binding as `(space id, workspace id)`.
    pub async fn catalog_bindings(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT space_id, workspace_id FROM bindings")
                .fetch_all(&self.reader)
                .await?,
        )
    }

    /// Repositories with ids after `after_id`, at most `limit`, in id order, each with its tag
    /// names. Repositories without manifests (blobs uploaded, nothing pushed yet) are included.
    pub async fn catalog_repositories_after(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<CatalogRepository>, StoreError> {
        let rows: Vec<RepositoryRow> = sqlx::query_as(&format!(
            "SELECT {REPOSITORY_COLUMNS} FROM repositories WHERE id > $1 \
             ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        let mut repositories: Vec<CatalogRepository> = rows.into_iter().map(Into::into).collect();
        let Some(last) = repositories.last().map(|r| r.id) else {
            return Ok(repositories);
        };
        // One range scan over the tags' primary key fetches every tag of the page.
        let tags = sqlx::query_as(
            "SELECT repository_id, name FROM tags WHERE repository_id > $1 AND repository_id <= $2 \
             ORDER BY repository_id, name",
        )
        .bind(after_id)
        .bind(last)
        .fetch_all(&self.reader)
        .await?;
        attach_tags(&mut repositories, tags);
        let sql = recent_tags_sql("t.repository_id > $1 AND t.repository_id <= $2");
        let rows = sqlx::query_as(&sql)
            .bind(after_id)
            .bind(last)
            .fetch_all(&self.reader)
            .await?;
        self.attach_recent_tags(&mut repositories, rows).await?;
        Ok(repositories)
    }

    /// The repositories with these ids that still exist, each with its tag names when
    /// `with_tags`.
    pub async fn catalog_repositories_by_id(
        &self,
        ids: &[i64],
        with_tags: bool,
    ) -> Result<Vec<CatalogRepository>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        // Bounded batches keep the statement under every database's parameter limit.
        for batch in ids.chunks(500) {
            let placeholders = placeholders(batch.len());
            let sql = format!(
                "SELECT {REPOSITORY_COLUMNS} FROM repositories WHERE id IN ({placeholders}) ORDER BY id"
            );
            let rows: Vec<RepositoryRow> = bind_ids(&sql, batch).fetch_all(&self.reader).await?;
            let mut repositories: Vec<CatalogRepository> =
                rows.into_iter().map(Into::into).collect();
            if !with_tags {
                found.extend(repositories);
                continue;
            }
            let sql = format!(
                "SELECT repository_id, name FROM tags WHERE repository_id IN ({placeholders}) \
                 ORDER BY repository_id, name"
            );
            let tags = bind_ids(&sql, batch).fetch_all(&self.reader).await?;
            attach_tags(&mut repositories, tags);
            let sql = recent_tags_sql(&format!("t.repository_id IN ({placeholders})"));
            let rows = bind_ids(&sql, batch).fetch_all(&self.reader).await?;
            self.attach_recent_tags(&mut repositories, rows).await?;
            found.extend(repositories);
        }
        Ok(found)
    }

    /// One repository of a registry by its path, without tag names.
    pub async fn catalog_repository(
        &self,
        registry_id: i64,
        name: &str,
    ) -> Result<Option<CatalogRepository>, StoreError> {
        let row: Option<RepositoryRow> = sqlx::query_as(&format!(
            "SELECT {REPOSITORY_COLUMNS} FROM repositories WHERE registry_id = $1 AND name = $2"
        ))
        .bind(registry_id)
        .bind(name)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(Into::into))
    }

    /// A page of a repository's tags, optionally only names containing `search` (any case),
    /// after `cursor`, with the total that match.
    pub async fn tag_page(
        &self,
        repository_id: i64,
        search: Option<&str>,
        order: TagOrder,
        cursor: Option<&TagCursor>,
        limit: i64,
    ) -> Result<(Vec<TagRecord>, i64), StoreError> {
        let pattern = search.map(like_pattern).unwrap_or_else(|| "%".into());
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) AS n FROM tags WHERE repository_id = $1 AND LOWER(name) LIKE $2 ESCAPE '\\'",
        )
        .bind(repository_id)
        .bind(&pattern)
        .fetch_one(&self.reader)
        .await?;
        let (after, order_by) = match order {
            TagOrder::Name => ("($3 = 0 OR t.name > $5)", "t.name"),
            TagOrder::NewestFirst => (
                "($3 = 0 OR t.pushed_at < $4 OR (t.pushed_at = $4 AND t.name > $5))",
                "t.pushed_at DESC, t.name",
            ),
        };
        let rows = sqlx::query_as(&format!(
            "SELECT {TAG_COLUMNS} FROM tags t JOIN artifacts a ON a.id = t.artifact_id \
             WHERE t.repository_id = $1 AND LOWER(t.name) LIKE $2 ESCAPE '\\' AND {after} \
             ORDER BY {order_by} LIMIT $6"
        ))
        .bind(repository_id)
        .bind(&pattern)
        .bind(i64::from(cursor.is_some()))
        .bind(cursor.map(|c| c.pushed_at).unwrap_or(0))
        .bind(cursor.map(|c| c.name.clone()).unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        let tags = self.tags_from_rows(rows).await?;
        Ok((tags, total))
    }

    /// The newest `per_repository` tags of each repository (optionally only names containing
    /// `search`, any case), as `(repository id, tag)`, newest first within each repository.
    /// One statement: each repository's arm is an index seek on `(repository_id, pushed_at)`.
    pub async fn recent_tags(
        &self,
        repository_ids: &[i64],
        search: Option<&str>,
        per_repository: i64,
    ) -> Result<Vec<(i64, TagRecord)>, StoreError> {
        if repository_ids.is_empty() {
            return Ok(Vec::new());
        }
        let pattern = search.map(like_pattern).unwrap_or_else(|| "%".into());
        let arms: Vec<String> = (0..repository_ids.len())
            .map(|i| {
                format!(
                    "SELECT * FROM (SELECT t.repository_id, {TAG_COLUMNS} \
                     FROM tags t JOIN artifacts a ON a.id = t.artifact_id \
                     WHERE t.repository_id = ${} AND LOWER(t.name) LIKE $1 ESCAPE '\\' \
                     ORDER BY t.pushed_at DESC, t.name LIMIT $2) AS arm{i}",
                    i + 3
                )
            })
            .collect();
        let sql = arms.join(" UNION ALL ");
        let mut query = sqlx::query_as(&sql).bind(&pattern).bind(per_repository);
        for id in repository_ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.reader).await?;
        self.repository_tags_from_rows(rows).await
    }

    /// Hands the rows of a [`recent_tags_sql`] query to their repositories.
    async fn attach_recent_tags(
        &self,
        repositories: &mut [CatalogRepository],
        rows: Vec<RepositoryTagRow>,
    ) -> Result<(), StoreError> {
        let position: HashMap<i64, usize> = repositories
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, i))
            .collect();
        for (id, tag) in self.repository_tags_from_rows(rows).await? {
            if let Some(&i) = position.get(&id) {
                repositories[i].recent_tags.push(tag);
            }
        }
        Ok(())
    }

    /// [`Store::tags_from_rows`] for rows of several repositories, each tag with its
    /// repository's id.
    async fn repository_tags_from_rows(
        &self,
        rows: Vec<RepositoryTagRow>,
    ) -> Result<Vec<(i64, TagRecord)>, StoreError> {
        let (ids, rows): (Vec<i64>, Vec<TagRow>) =
            rows.into_iter().map(|r| (r.repository_id, r.tag)).unzip();
        let tags = self.tags_from_rows(rows).await?;
        Ok(ids.into_iter().zip(tags).collect())
    }

    /// Tags from rows of the tag-and-artifact join, with index children's platforms.
    async fn tags_from_rows(&self, rows: Vec<TagRow>) -> Result<Vec<TagRecord>, StoreError> {
        // Only indexes have children, and an index has no config, hence no platform of its
        // own; images skip the second query entirely.
        let index_ids: Vec<i64> = rows
            .iter()
            .filter(|r| !has_platform(&r.platform))
            .map(|r| r.artifact_id)
            .collect();
        let mut children = self.child_platforms(&index_ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let platforms = match children.remove(&r.artifact_id) {
                    Some(list) => list,
                    None if has_platform(&r.platform) => vec![r.platform],
                    None => Vec::new(),
                };
                TagRecord {
                    name: r.name,
                    digest: r.digest,
                    media_type: r.media_type,
                    artifact_type: r.artifact_type,
                    pushed_at: r.pushed_at,
                    pushed_at_known: r.pushed_at_known,
                    pulled_at: r.pulled_at,
                    size: r.size,
                    platforms,
                    pushed_by: r.pushed_by,
                    pull_count: r.pull_count,
                }
            })
            .collect())
    }

    /// The platforms of the children of those artifacts that are indexes.
    async fn child_platforms(
        &self,
        artifact_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<Platform>>, StoreError> {
        let mut platforms: HashMap<i64, Vec<Platform>> = HashMap::new();
        if artifact_ids.is_empty() {
            return Ok(platforms);
        }
        for batch in artifact_ids.chunks(500) {
            let placeholders = placeholders(batch.len());
            let sql = format!(
                "SELECT artifact_id, os, architecture, variant FROM artifact_children \
                 WHERE artifact_id IN ({placeholders}) ORDER BY artifact_id, position"
            );
            let rows: Vec<ChildPlatformRow> = bind_ids(&sql, batch).fetch_all(&self.reader).await?;
            for row in rows {
                if has_platform(&row.platform) {
                    platforms
                        .entry(row.artifact_id)
                        .or_default()
                        .push(row.platform);
                }
            }
        }
        Ok(platforms)
    }

    /// The stored manifest bytes of an artifact.
    pub async fn artifact_manifest(&self, artifact_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT manifest FROM artifacts WHERE id = $1")
                .bind(artifact_id)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// Sets a repository's description (Markdown). `false` when it does not exist.
    pub async fn set_repository_description(
        &self,
        repository_id: i64,
        description: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        let changed = self
            .change(
                audit,
                "UPDATE repositories SET description = $1 WHERE id = $2",
                |q| q.bind(description.to_string()).bind(repository_id),
            )
            .await?;
        if changed {
            self.changes.summaries_changed([repository_id]);
        }
        Ok(changed)
    }

    /// Deletes a repository with every artifact, tag and blob link. `false` when it did not
    /// exist. The blob files stay for garbage collection, as other repositories may share them.
    pub async fn delete_repository(
        &self,
        repository_id: i64,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        let deleted = self
            .change(audit, "DELETE FROM repositories WHERE id = $1", |q| {
                q.bind(repository_id)
            })
            .await?;
        if deleted {
            self.changes.repositories_changed([repository_id]);
        }
        Ok(deleted)
    }

    /// Writes the catalog of external registry `registry_id` as a sync found it: each listed
    /// repository's tags are replaced by `tags`, in one transaction per call. Repositories not
    /// listed are left alone. The upstream description fills an empty one only, so a
    /// description written in Berth survives the next sync. Refuses `hosted`, whose catalog
    /// only pushes write.
    pub async fn sync_repositories(
        &self,
        registry_id: i64,
        repositories: &[SyncedRepository],
    ) -> Result<(), StoreError> {
        if registry_id == self.hosted_registry_id {
            return Err(StoreError::Conflict(
                "the hosted registry's catalog is written by pushes, not by a sync".into(),
            ));
        }
        let listings = merge_listings(repositories);
        if listings.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let changed = write_listings(&mut tx, registry_id, &listings).await?;
        tx.commit().await?;
        self.changes.repositories_changed(changed);
        Ok(())
    }
}

// ---- the steps of a sync ---------------------------------------------------------------

/// One repository as a sync writes it: the listing whose tags win, and the description it
/// brings.
struct Listing<'a> {
    synced: &'a SyncedRepository,
    description: &'a str,
}

/// An artifact of a sync: the repository it goes into, and the first tag naming its digest,
/// which describes it.
type SyncedArtifact<'a> = (i64, &'a SyncedTag);

/// The ids of the artifacts a sync inserted, by repository id and digest.
type ArtifactIds = HashMap<(i64, String), i64>;

/// Writes `listings` into external registry `registry_id` on the caller's transaction, step by
/// step, and returns the ids of the repositories written, which the caller records as changed
/// once it commits. A sync that records more in the same transaction calls this.
async fn write_listings(
    tx: &mut Transaction<'_, Any>,
    registry_id: i64,
    listings: &[Listing<'_>],
) -> Result<Vec<i64>, StoreError> {
    upsert_repositories(tx, registry_id, listings).await?;
    let repository_ids = repository_ids(tx, registry_id, listings).await?;
    delete_tags_and_artifacts(tx, &repository_ids).await?;
    let artifacts = distinct_artifacts(listings, &repository_ids);
    let artifact_ids = insert_artifacts(tx, &artifacts).await?;
    insert_children(tx, &artifacts, &artifact_ids).await?;
    insert_tags(tx, listings, &repository_ids, &artifact_ids).await?;
    refresh_synced_summaries(tx, &repository_ids).await?;
    Ok(repository_ids)
}

/// Folds the listings of a repository listed twice into one, so that it ends as if each
/// listing had been written in turn: with the tags of the last, and the first description
/// that is not empty.
fn merge_listings(repositories: &[SyncedRepository]) -> Vec<Listing<'_>> {
    let mut position: HashMap<&str, usize> = HashMap::new();
    let mut listings: Vec<Listing<'_>> = Vec::with_capacity(repositories.len());
    for synced in repositories {
        match position.get(synced.name.as_str()) {
            Some(&i) => {
                let listing = &mut listings[i];
                listing.synced = synced;
                if listing.description.is_empty() {
                    listing.description = &synced.description;
                }
            }
            None => {
                position.insert(&synced.name, listings.len());
                listings.push(Listing {
                    synced,
                    description: &synced.description,
                });
            }
        }
    }
    listings
}

/// Creates the listed repositories in their spaces, or gives an existing one the upstream
/// description when its own is empty. The upsert also takes each existing row's lock (see
/// `lock_repository`) before any artifact or tag row is touched; rows it creates are this
/// transaction's alone until it commits.
async fn upsert_repositories(
    tx: &mut Transaction<'_, Any>,
    registry_id: i64,
    listings: &[Listing<'_>],
) -> Result<(), StoreError> {
    let now = now_millis();
    for chunk in listings.chunks(MAX_PARAMETERS / 3) {
        let sql = format!(
            "INSERT INTO repositories (registry_id, space_id, name, created_at, description) \
             VALUES {} ON CONFLICT (registry_id, name) DO UPDATE SET description = \
             CASE WHEN repositories.description = '' THEN excluded.description \
             ELSE repositories.description END",
            values(3, chunk.len(), 3, |p| {
                format!(
                    "($1, (SELECT id FROM spaces WHERE registry_id = $1 AND name = {}), {}, $2, {})",
                    p[1], p[0], p[2]
                )
            })
        );
        let mut query = sqlx::query(&sql).bind(registry_id).bind(now);
        for listing in chunk {
            let name = listing.synced.name.as_str();
            query = query
                .bind(name)
                .bind(berth_oci::space_of(name))
                .bind(listing.description);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The listed repositories' ids in listing order, which every later step keys its rows by.
async fn repository_ids(
    tx: &mut Transaction<'_, Any>,
    registry_id: i64,
    listings: &[Listing<'_>],
) -> Result<Vec<i64>, StoreError> {
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(listings.len());
    for chunk in listings.chunks(MAX_PARAMETERS) {
        let sql = format!(
            "SELECT id, name FROM repositories WHERE registry_id = $1 AND name IN ({})",
            values(2, chunk.len(), 1, |p| p[0].clone())
        );
        let mut query = sqlx::query_as(&sql).bind(registry_id);
        for listing in chunk {
            query = query.bind(listing.synced.name.as_str());
        }
        let rows: Vec<(i64, String)> = query.fetch_all(&mut **tx).await?;
        ids.extend(rows.into_iter().map(|(id, name)| (name, id)));
    }
    listings
        .iter()
        .map(|listing| {
            let name = &listing.synced.name;
            ids.get(name).copied().ok_or_else(|| {
                StoreError::Missing(format!(
                    "repository `{name}` is neither present nor insertable"
                ))
            })
        })
        .collect()
}

/// Removes the listed repositories' old tags and artifacts (children go with their
/// artifacts), since a sync replaces a repository's catalog whole.
async fn delete_tags_and_artifacts(
    tx: &mut Transaction<'_, Any>,
    repository_ids: &[i64],
) -> Result<(), StoreError> {
    for table in ["tags", "artifacts"] {
        execute_for_ids(tx, repository_ids, |list| {
            format!("DELETE FROM {table} WHERE repository_id IN ({list})")
        })
        .await?;
    }
    Ok(())
}

/// One artifact per digest of each repository, described by the first tag naming it: tags of
/// one repository that name the same digest share its artifact, as pushed tags do.
fn distinct_artifacts<'a>(
    listings: &[Listing<'a>],
    repository_ids: &[i64],
) -> Vec<SyncedArtifact<'a>> {
    let mut artifacts = Vec::new();
    let mut seen: std::collections::HashSet<(i64, &str)> = std::collections::HashSet::new();
    for (listing, &repository_id) in listings.iter().zip(repository_ids) {
        for tag in &listing.synced.tags {
            if seen.insert((repository_id, tag.digest.as_str())) {
                artifacts.push((repository_id, tag));
            }
        }
    }
    artifacts
}

/// Inserts the artifacts and returns their new ids, which children and tags refer to.
async fn insert_artifacts(
    tx: &mut Transaction<'_, Any>,
    artifacts: &[SyncedArtifact<'_>],
) -> Result<ArtifactIds, StoreError> {
    let mut artifact_ids = ArtifactIds::with_capacity(artifacts.len());
    for chunk in artifacts.chunks(MAX_PARAMETERS / ARTIFACT_COLUMNS) {
        // RETURNING hands rows back in no promised order, so each says which it is.
        let sql = format!(
            "INSERT INTO artifacts (repository_id, digest, media_type, manifest, manifest_size, \
             size, os, architecture, variant, pushed_at, pushed_at_known, artifact_type, \
             subject_digest, config_digest, annotations, created, author, config) VALUES {} \
             RETURNING id, repository_id, digest",
            values(1, chunk.len(), ARTIFACT_COLUMNS, group)
        );
        let mut query = sqlx::query_as(&sql);
        for (repository_id, tag) in chunk {
            let facts = &tag.facts;
            query = query
                .bind(*repository_id)
                .bind(tag.digest.as_str())
                .bind(tag.media_type.as_str())
                .bind(tag.manifest.as_slice())
                .bind(tag.manifest.len() as i64)
                .bind(tag.size)
                .bind(tag.platform.os.as_deref())
                .bind(tag.platform.architecture.as_deref())
                .bind(tag.platform.variant.as_deref())
                .bind(tag.pushed_at)
                .bind(i64::from(tag.pushed_at_known))
                .bind(facts.artifact_type.as_deref())
                .bind(facts.subject_digest.as_deref())
                .bind(facts.config_digest.as_deref())
                .bind(annotations_or_empty(&facts.annotations))
                .bind(facts.created.as_deref())
                .bind(facts.author.as_deref())
                .bind(facts.config_fields.as_deref());
        }
        let rows: Vec<(i64, i64, String)> = query.fetch_all(&mut **tx).await?;
        artifact_ids.extend(
            rows.into_iter()
                .map(|(id, repository_id, digest)| ((repository_id, digest), id)),
        );
    }
    let with_facts: Vec<(i64, &ArtifactFacts)> = artifacts
        .iter()
        .map(|(repository_id, tag)| {
            artifact_id(&artifact_ids, *repository_id, &tag.digest).map(|id| (id, &tag.facts))
        })
        .collect::<Result<_, _>>()?;
    insert_layers_and_history(tx, &with_facts).await?;
    Ok(artifact_ids)
}

/// The columns [`insert_artifacts`] writes per artifact.
const ARTIFACT_COLUMNS: usize = 18;

/// Annotations as stored: `{}` when a sync had no manifest to read them from.
fn annotations_or_empty(annotations: &str) -> &str {
    if annotations.is_empty() {
        "{}"
    } else {
        annotations
    }
}

/// The id [`insert_artifacts`] gave the artifact of `digest` in `repository_id`.
fn artifact_id(ids: &ArtifactIds, repository_id: i64, digest: &str) -> Result<i64, StoreError> {
    ids.get(&(repository_id, digest.to_string()))
        .copied()
        .ok_or_else(|| StoreError::Missing(format!("artifact {digest} was not recorded")))
}

/// Records the children of the index artifacts with their platforms, which the image list
/// shows for an index, since an index has no platform of its own.
async fn insert_children(
    tx: &mut Transaction<'_, Any>,
    artifacts: &[SyncedArtifact<'_>],
    artifact_ids: &ArtifactIds,
) -> Result<(), StoreError> {
    let mut children = Vec::new();
    for (repository_id, tag) in artifacts {
        let id = artifact_id(artifact_ids, *repository_id, &tag.digest)?;
        children.extend(
            tag.children
                .iter()
                .enumerate()
                .map(|(position, child)| (id, position as i64, child)),
        );
    }
    for chunk in children.chunks(MAX_PARAMETERS / 8) {
        let sql = format!(
            "INSERT INTO artifact_children (artifact_id, position, digest, media_type, size, os, \
             architecture, variant) VALUES {}",
            values(1, chunk.len(), 8, group)
        );
        let mut query = sqlx::query(&sql);
        for (id, position, child) in chunk {
            query = query
                .bind(*id)
                .bind(*position)
                .bind(child.digest.as_str())
                .bind(child.media_type.as_str())
                .bind(child.size)
                .bind(child.platform.os.as_deref())
                .bind(child.platform.architecture.as_deref())
                .bind(child.platform.variant.as_deref());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Points every listed tag at its repository's artifact of the tag's digest.
async fn insert_tags(
    tx: &mut Transaction<'_, Any>,
    listings: &[Listing<'_>],
    repository_ids: &[i64],
    artifact_ids: &ArtifactIds,
) -> Result<(), StoreError> {
    let mut tags = Vec::new();
    for (listing, &repository_id) in listings.iter().zip(repository_ids) {
        for tag in &listing.synced.tags {
            let id = artifact_id(artifact_ids, repository_id, &tag.digest)?;
            tags.push((repository_id, tag, id));
        }
    }
    for chunk in tags.chunks(MAX_PARAMETERS / 4) {
        let sql = format!(
            "INSERT INTO tags (repository_id, name, artifact_id, pushed_at) VALUES {}",
            values(1, chunk.len(), 4, group)
        );
        let mut query = sqlx::query(&sql);
        for (repository_id, tag, artifact_id) in chunk {
            query = query
                .bind(*repository_id)
                .bind(tag.name.as_str())
                .bind(*artifact_id)
                .bind(tag.pushed_at);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Brings the written repositories' summaries up to date, as a push does: a synced repository
/// was last pushed when its newest tag was (never, without tags), and its counts and latest
/// tag are recomputed from the new rows.
async fn refresh_synced_summaries(
    tx: &mut Transaction<'_, Any>,
    repository_ids: &[i64],
) -> Result<(), StoreError> {
    execute_for_ids(tx, repository_ids, |list| {
        format!(
            "UPDATE repositories SET pushed_at = \
             (SELECT MAX(t.pushed_at) FROM tags t JOIN artifacts a ON a.id = t.artifact_id \
             WHERE t.repository_id = repositories.id AND a.pushed_at_known = 1) \
             WHERE id IN ({list})"
        )
    })
    .await?;
    for &repository_id in repository_ids {
        crate::hosted::refresh_summary(tx, repository_id, None).await?;
    }
    Ok(())
}

/// Whether `platform` names one: an index's row has none of its own, and a child whose config
/// gave none adds nothing to its index's list.
fn has_platform(platform: &Platform) -> bool {
    platform.os.is_some() || platform.architecture.is_some()
}

/// Distributes `(repository_id, name)` rows, sorted by repository, onto `repositories`
/// (sorted by id).
fn attach_tags(repositories: &mut [CatalogRepository], tags: Vec<(i64, String)>) {
    let position: HashMap<i64, usize> = repositories
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i))
        .collect();
    for (id, name) in tags {
        if let Some(&i) = position.get(&id) {
            repositories[i].tags.push(name);
        }
    }
}

/// The newest [`RECENT_TAGS_KEPT`] tags of each repository `filter` (over `tags t`) picks, in
/// repository order and newest first, in one pass over the tags.
fn recent_tags_sql(filter: &str) -> String {
    format!(
        "SELECT * FROM (SELECT t.repository_id, {TAG_COLUMNS}, ROW_NUMBER() OVER \
         (PARTITION BY t.repository_id ORDER BY t.pushed_at DESC, t.name) AS recency \
         FROM tags t JOIN artifacts a ON a.id = t.artifact_id WHERE {filter}) AS ranked \
         WHERE recency <= {RECENT_TAGS_KEPT} ORDER BY repository_id, recency"
    )
}

/// `sql`, whose `IN (…)` list [`placeholders`] made, with `ids` bound in order, its rows read
/// as `O`s.
fn bind_ids<'q, O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>>(
    sql: &'q str,
    ids: &[i64],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    ids.iter()
        .fold(sqlx::query_as(sql), |query, id| query.bind(*id))
}

/// A LIKE pattern matching names that contain `search`, compared in lower case, with the
/// pattern's own wildcards escaped.
fn like_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in search.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
