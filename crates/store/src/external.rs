//! What a sync of an external registry reads and writes beyond the listings themselves
//! (`Store::sync_repositories` in `repositories.rs`): the catalog as last synced, the manifest
//! cache, the spaces found upstream, repositories gone upstream, and each registry's sync
//! outcome.
//!
//! A failed run never empties a catalog: only [`Store::remove_synced_repositories`] removes
//! repositories, and a sync calls it only after listing the registry completely.

use std::collections::HashMap;

use crate::audit::{insert_audit, NewAuditEvent};
use crate::batch::{group, placeholders_from, values, MAX_PARAMETERS};
use crate::values::Flag;
use crate::{now_millis, Store, StoreError};

/// A tag as the last sync stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTag {
    pub digest: String,
    pub pushed_at: i64,
    pub pushed_at_known: bool,
}

/// A manifest of an external registry with its image config, by digest.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CachedManifest {
    pub digest: String,
    pub media_type: String,
    pub manifest: Vec<u8>,
    /// The image config blob, for image manifests whose config was fetched.
    pub config: Option<Vec<u8>>,
}

/// A space as the registry shows it: the first path component of its repository names
/// (Distribution), or a Harbor project with its public flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSpace {
    pub name: String,
    /// The registry's own public flag; `None` where the registry has none, so a new space
    /// starts private (bound to no workspace, it reaches nobody until an admin decides) and an
    /// existing one keeps what the admin chose.
    pub public: Option<bool>,
}

/// What a finished sync run found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    pub repositories: i64,
    pub tags: i64,
    pub manifests_fetched: i64,
}

/// The end of a sync run, as [`Store::record_sync_outcome`] stores it.
#[derive(Debug, Clone)]
pub struct SyncRun<'a> {
    pub registry_id: i64,
    /// `full` or `incremental`.
    pub mode: &'a str,
    pub started_at: i64,
    pub finished_at: i64,
    /// The counts of a run that succeeded, or why it failed.
    pub outcome: Result<SyncCounts, &'a str>,
}

/// A registry's sync history in brief; the default is a registry never synced.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct SyncRecord {
    pub registry_id: i64,
    pub last_started_at: Option<i64>,
    pub last_finished_at: Option<i64>,
    pub last_succeeded_at: Option<i64>,
    pub last_full_succeeded_at: Option<i64>,
    pub last_mode: Option<String>,
    /// Set when the latest run failed; cleared by the next success.
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    /// The counts of the last successful run.
    pub repositories: i64,
    pub tags: i64,
    pub manifests_fetched: i64,
    pub duration_ms: Option<i64>,
    /// How many runs of the whole registry succeeded, ever.
    pub succeeded_runs: i64,
}

#[derive(sqlx::FromRow)]
struct StoredTagRow {
    repository: String,
    tag: String,
    digest: String,
    pushed_at: i64,
    #[sqlx(try_from = "Flag")]
    pushed_at_known: bool,
}

impl Store {
    /// The catalog of registry `registry_id` as the last sync stored it: repository name →
    /// tag → what the tag named. With `only`, just those repositories (the ones an event
    /// named).
    pub async fn stored_catalog(
        &self,
        registry_id: i64,
        only: Option<&[String]>,
    ) -> Result<HashMap<String, HashMap<String, StoredTag>>, StoreError> {
        let filter = match only {
            Some(names) if names.len() < MAX_PARAMETERS => {
                format!("AND r.name IN ({})", placeholders_from(2, names.len()))
            }
            _ => String::new(),
        };
        let names_bound = if filter.is_empty() {
            &[][..]
        } else {
            only.unwrap_or_default()
        };
        let sql = format!(
            "SELECT r.name AS repository, t.name AS tag, a.digest, t.pushed_at, \
             a.pushed_at_known FROM repositories r JOIN tags t ON t.repository_id = r.id \
             JOIN artifacts a ON a.id = t.artifact_id WHERE r.registry_id = $1 {filter}"
        );
        let rows: Vec<StoredTagRow> = names_bound
            .iter()
            .fold(sqlx::query_as(&sql).bind(registry_id), |q, n| {
                q.bind(n.as_str())
            })
            .fetch_all(&self.reader)
            .await?;
        // Repositories without tags are part of the catalog too: a sync compares them.
        let sql = format!("SELECT r.name FROM repositories r WHERE r.registry_id = $1 {filter}");
        let names: Vec<String> = names_bound
            .iter()
            .fold(sqlx::query_scalar(&sql).bind(registry_id), |q, n| {
                q.bind(n.as_str())
            })
            .fetch_all(&self.reader)
            .await?;
        let mut catalog: HashMap<String, HashMap<String, StoredTag>> = HashMap::new();
        for name in names {
            catalog.entry(name).or_default();
        }
        for row in rows {
            catalog.entry(row.repository).or_default().insert(
                row.tag,
                StoredTag {
                    digest: row.digest,
                    pushed_at: row.pushed_at,
                    pushed_at_known: row.pushed_at_known,
                },
            );
        }
        Ok(catalog)
    }

    /// The id of repository `name` of registry `registry_id` as the last sync stored it.
    pub async fn synced_repository_id(
        &self,
        registry_id: i64,
        name: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM repositories WHERE registry_id = $1 AND name = $2")
                .bind(registry_id)
                .bind(name)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// The id of artifact `digest` of repository `repository` of registry `registry_id` as
    /// the last sync stored it, which pulls through the proxy count against.
    pub async fn synced_artifact_id(
        &self,
        registry_id: i64,
        repository: &str,
        digest: &berth_oci::Digest,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT a.id FROM artifacts a JOIN repositories r ON r.id = a.repository_id \
             WHERE r.registry_id = $1 AND r.name = $2 AND a.digest = $3",
        )
        .bind(registry_id)
        .bind(repository)
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?)
    }

    /// The size of blob `digest` when the proxied repository `repository_id` holds it in
    /// Berth's blob store, that is when a pull through the proxy cached it there.
    pub async fn proxied_blob_size(
        &self,
        repository_id: i64,
        digest: &berth_oci::Digest,
    ) -> Result<Option<u64>, StoreError> {
        let size: Option<i64> = sqlx::query_scalar(
            "SELECT size FROM repository_blobs WHERE repository_id = $1 AND digest = $2",
        )
        .bind(repository_id)
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?;
        Ok(size.map(|s| s as u64))
    }

    /// Records that the proxied repository `repository_id` may serve blob `digest` from
    /// Berth's blob store: the proxy calls it once the blob arrived whole and matched its
    /// digest. A repository a sync removed meanwhile records nothing.
    pub async fn link_proxied_blob(
        &self,
        repository_id: i64,
        digest: &berth_oci::Digest,
        size: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO repository_blobs (repository_id, digest, size, linked_at) \
             SELECT id, $2, $3, $4 FROM repositories WHERE id = $1 \
             ON CONFLICT (repository_id, digest) DO NOTHING",
        )
        .bind(repository_id)
        .bind(digest.to_string())
        .bind(size as i64)
        .bind(now_millis())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The cached manifests of `digests` in registry `registry_id`; digests not cached are
    /// left out.
    pub async fn cached_manifests(
        &self,
        registry_id: i64,
        digests: &[String],
    ) -> Result<Vec<CachedManifest>, StoreError> {
        let mut found = Vec::new();
        for chunk in digests.chunks(MAX_PARAMETERS - 1) {
            let sql = format!(
                "SELECT digest, media_type, manifest, config FROM remote_manifests \
                 WHERE registry_id = $1 AND digest IN ({})",
                placeholders_from(2, chunk.len())
            );
            let query = chunk
                .iter()
                .fold(sqlx::query_as(&sql).bind(registry_id), |q, d| {
                    q.bind(d.as_str())
                });
            found.extend(query.fetch_all(&self.reader).await?);
        }
        Ok(found)
    }

    /// Caches `manifests` of registry `registry_id`. A digest names its bytes, so a digest
    /// already cached keeps its row, gaining the config when it had none (the pull-through
    /// proxy caches manifests without their configs).
    pub async fn cache_manifests(
        &self,
        registry_id: i64,
        manifests: &[CachedManifest],
    ) -> Result<(), StoreError> {
        if manifests.is_empty() {
            return Ok(());
        }
        // One row per digest (repositories built from one image fetch it alike), the one with
        // a config where any has it: PostgreSQL refuses an upsert touching a row twice.
        let mut by_digest: HashMap<&str, &CachedManifest> = HashMap::new();
        for manifest in manifests {
            let entry = by_digest
                .entry(manifest.digest.as_str())
                .or_insert(manifest);
            if entry.config.is_none() && manifest.config.is_some() {
                *entry = manifest;
            }
        }
        let manifests: Vec<&CachedManifest> = by_digest.into_values().collect();
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        for chunk in manifests.chunks(MAX_PARAMETERS / 6) {
            let sql = format!(
                "INSERT INTO remote_manifests (registry_id, digest, media_type, manifest, config, \
                 cached_at) VALUES {} ON CONFLICT (registry_id, digest) DO UPDATE SET \
                 config = COALESCE(remote_manifests.config, excluded.config)",
                values(1, chunk.len(), 6, group)
            );
            let mut query = sqlx::query(&sql);
            for manifest in chunk {
                query = query
                    .bind(registry_id)
                    .bind(manifest.digest.as_str())
                    .bind(manifest.media_type.as_str())
                    .bind(manifest.manifest.as_slice())
                    .bind(manifest.config.as_deref())
                    .bind(now);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates the spaces of registry `registry_id` that `spaces` names and it lacks, and
    /// applies the registry's own public flag where it has one. Each created or changed space
    /// is audited with `audit`'s actor and source. Returns how many spaces were created.
    pub async fn sync_spaces(
        &self,
        registry_id: i64,
        spaces: &[UpstreamSpace],
        audit: &NewAuditEvent<'_>,
    ) -> Result<usize, StoreError> {
        let existing: HashMap<String, bool> = sqlx::query_as::<_, (String, i64)>(
            "SELECT name, public FROM spaces WHERE registry_id = $1",
        )
        .bind(registry_id)
        .fetch_all(&self.reader)
        .await?
        .into_iter()
        .map(|(name, public)| (name, public != 0))
        .collect();
        let created: Vec<&UpstreamSpace> = spaces
            .iter()
            .filter(|s| !existing.contains_key(&s.name))
            .collect();
        let changed: Vec<(&UpstreamSpace, bool)> = spaces
            .iter()
            .filter_map(|s| match (existing.get(&s.name), s.public) {
                (Some(&now), Some(upstream)) if now != upstream => Some((s, upstream)),
                _ => None,
            })
            .collect();
        if created.is_empty() && changed.is_empty() {
            return Ok(0);
        }
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        for space in &created {
            let inserted = sqlx::query(
                "INSERT INTO spaces (registry_id, name, public, description, created_at) \
                 VALUES ($1, $2, $3, '', $4) ON CONFLICT (registry_id, name) DO NOTHING",
            )
            .bind(registry_id)
            .bind(space.name.as_str())
            .bind(i64::from(space.public.unwrap_or(false)))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() > 0 {
                let detail = serde_json::json!({
                    "found_upstream": true,
                    "public": space.public == Some(true),
                })
                .to_string();
                insert_audit(
                    &mut tx,
                    &NewAuditEvent {
                        action: "space.create",
                        target: &space.name,
                        detail: Some(&detail),
                        ..*audit
                    },
                )
                .await?;
            }
        }
        for (space, public) in &changed {
            sqlx::query("UPDATE spaces SET public = $1 WHERE registry_id = $2 AND name = $3")
                .bind(i64::from(*public))
                .bind(registry_id)
                .bind(space.name.as_str())
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({ "public": public, "as_upstream": true }).to_string();
            insert_audit(
                &mut tx,
                &NewAuditEvent {
                    action: "space.update",
                    target: &space.name,
                    detail: Some(&detail),
                    ..*audit
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.changes.tenancy_changed();
        Ok(created.len())
    }

    /// Deletes the repositories of registry `registry_id` whose names are not in `listed`
    /// (the complete listing of a sync), with their tags and artifacts. Returns how many.
    pub async fn remove_synced_repositories(
        &self,
        registry_id: i64,
        listed: &std::collections::HashSet<String>,
    ) -> Result<usize, StoreError> {
        if registry_id == self.hosted_registry_id {
            return Err(StoreError::Conflict(
                "the hosted registry's repositories are deleted by clients, not by a sync".into(),
            ));
        }
        let stored: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM repositories WHERE registry_id = $1")
                .bind(registry_id)
                .fetch_all(&self.reader)
                .await?;
        let gone: Vec<i64> = stored
            .into_iter()
            .filter(|(_, name)| !listed.contains(name))
            .map(|(id, _)| id)
            .collect();
        if gone.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        for chunk in gone.chunks(MAX_PARAMETERS - 1) {
            let sql = format!(
                "DELETE FROM repositories WHERE registry_id = $1 AND id IN ({})",
                placeholders_from(2, chunk.len())
            );
            let query = chunk
                .iter()
                .fold(sqlx::query(&sql).bind(registry_id), |q, id| q.bind(*id));
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.changes.repositories_changed(gone.iter().copied());
        Ok(gone.len())
    }

    /// Replaces the digest of registry `registry_id`'s event secret, audited.
    pub async fn set_registry_event_secret(
        &self,
        registry_id: i64,
        digest: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query("UPDATE registries SET event_secret_sha256 = $1 WHERE id = $2")
            .bind(digest)
            .bind(registry_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if changed {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Deletes repository `name` of registry `registry_id` after an event said it is gone
    /// upstream. Returns whether it was there.
    pub async fn remove_synced_repository(
        &self,
        registry_id: i64,
        name: &str,
    ) -> Result<bool, StoreError> {
        if registry_id == self.hosted_registry_id {
            return Err(StoreError::Conflict(
                "the hosted registry's repositories are deleted by clients, not by a sync".into(),
            ));
        }
        let id: Option<i64> = sqlx::query_scalar(
            "DELETE FROM repositories WHERE registry_id = $1 AND name = $2 RETURNING id",
        )
        .bind(registry_id)
        .bind(name)
        .fetch_optional(&self.writer)
        .await?;
        if let Some(id) = id {
            self.changes.repositories_changed([id]);
        }
        Ok(id.is_some())
    }

    /// Records that a sync of registry `registry_id` started.
    pub async fn record_sync_start(
        &self,
        registry_id: i64,
        mode: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO registry_syncs (registry_id, last_started_at, last_mode) \
             VALUES ($1, $2, $3) ON CONFLICT (registry_id) DO UPDATE SET \
             last_started_at = excluded.last_started_at, last_mode = excluded.last_mode",
        )
        .bind(registry_id)
        .bind(at)
        .bind(mode)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records how a sync run ended. A failure keeps the last success's counts, which still
    /// describe the catalog shown.
    pub async fn record_sync_outcome(&self, run: &SyncRun<'_>) -> Result<(), StoreError> {
        let duration = run.finished_at - run.started_at;
        let query = match run.outcome {
            Ok(counts) => sqlx::query(
                "INSERT INTO registry_syncs (registry_id, last_started_at, last_finished_at, \
                 last_succeeded_at, last_full_succeeded_at, last_mode, repositories, tags, \
                 manifests_fetched, duration_ms, succeeded_runs) \
                 VALUES ($1, $2, $3, $3, CASE WHEN $4 = 'full' THEN $3 END, $4, $5, $6, $7, $8, \
                     1) \
                 ON CONFLICT (registry_id) DO UPDATE SET \
                 last_finished_at = excluded.last_finished_at, \
                 last_succeeded_at = excluded.last_succeeded_at, \
                 last_full_succeeded_at = COALESCE(excluded.last_full_succeeded_at, \
                     registry_syncs.last_full_succeeded_at), \
                 last_mode = excluded.last_mode, last_error = NULL, last_error_at = NULL, \
                 repositories = excluded.repositories, tags = excluded.tags, \
                 manifests_fetched = excluded.manifests_fetched, \
                 duration_ms = excluded.duration_ms, \
                 succeeded_runs = registry_syncs.succeeded_runs + 1",
            )
            .bind(run.registry_id)
            .bind(run.started_at)
            .bind(run.finished_at)
            .bind(run.mode)
            .bind(counts.repositories)
            .bind(counts.tags)
            .bind(counts.manifests_fetched)
            .bind(duration),
            Err(reason) => sqlx::query(
                "INSERT INTO registry_syncs (registry_id, last_started_at, last_finished_at, \
                 last_mode, last_error, last_error_at) VALUES ($1, $2, $3, $4, $5, $3) \
                 ON CONFLICT (registry_id) DO UPDATE SET \
                 last_finished_at = excluded.last_finished_at, last_mode = excluded.last_mode, \
                 last_error = excluded.last_error, last_error_at = excluded.last_error_at",
            )
            .bind(run.registry_id)
            .bind(run.started_at)
            .bind(run.finished_at)
            .bind(run.mode)
            .bind(reason),
        };
        query.execute(&self.writer).await?;
        Ok(())
    }

    /// Registry `registry_id`'s sync record; `None` before its first sync.
    pub async fn sync_record(&self, registry_id: i64) -> Result<Option<SyncRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT registry_id, last_started_at, last_finished_at, last_succeeded_at, \
             last_full_succeeded_at, last_mode, last_error, last_error_at, repositories, tags, \
             manifests_fetched, duration_ms, succeeded_runs \
             FROM registry_syncs WHERE registry_id = $1",
        )
        .bind(registry_id)
        .fetch_optional(&self.reader)
        .await?)
    }
}
