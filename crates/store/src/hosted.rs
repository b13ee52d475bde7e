//! The hosted registry's catalog: repositories, blob links, manifests (artifacts), tags,
//! referrers and pull counts. Everything a manifest PUT or DELETE changes is written in one
//! transaction, so the catalog never disagrees with what the registry serves.

use std::collections::HashMap;

use berth_oci::{Digest, ImageConfig, Manifest, RepoName, Tag};
use sqlx::{Any, Transaction};

use crate::artifact_facts::{insert_layers_and_history, ArtifactFacts};
use crate::audit::{insert_audit, NewAuditEvent};
use crate::values::Flag;
use crate::{now_millis, Store, StoreError};

/// The registry name of Berth's own registry. Repository rows are keyed by registry id, so
/// catalogs of external registries share the same tables.
pub const HOSTED: &str = "hosted";

/// A manifest as the registry serves it.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    pub artifact_id: i64,
    pub digest: Digest,
    pub media_type: String,
    pub bytes: Vec<u8>,
    pub subject: Option<String>,
    /// The image's size, the one figure Berth gives for it everywhere: the manifest's bytes,
    /// its config's and its layers'; for an index, its own bytes and each child's size.
    pub size: i64,
}

/// Everything needed to record a pushed manifest.
pub struct NewManifest<'a> {
    pub repository: &'a RepoName,
    pub digest: &'a Digest,
    pub bytes: &'a [u8],
    pub manifest: &'a Manifest,
    /// The parsed image config, when the manifest has one that parses.
    pub config: Option<&'a ImageConfig>,
    pub tags: &'a [Tag],
    pub pushed_by: &'a str,
}

/// A referrer of a subject manifest, as the referrers API lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Referrer {
    pub digest: String,
    pub media_type: String,
    /// The referrer's own manifest size, as its descriptor states it.
    #[sqlx(rename = "manifest_size")]
    pub size: i64,
    pub artifact_type: Option<String>,
    pub annotations: serde_json_text::Annotations,
}

/// Annotations are stored as a JSON object in a TEXT column; this keeps the store free of a
/// JSON dependency by handing the raw text to the caller.
pub mod serde_json_text {
    pub type Annotations = String;
}

/// A pull to be counted; pulls are buffered by the caller and recorded in batches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PullKey {
    pub artifact_id: i64,
    pub tag: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct Platform {
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LayerRecord {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub created_by: Option<String>,
    pub created: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRecord {
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub author: Option<String>,
    pub comment: Option<String>,
    #[sqlx(try_from = "Flag")]
    pub empty_layer: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChildRecord {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    #[sqlx(flatten)]
    pub platform: Platform,
}

/// The catalog's record of one artifact (a manifest in a repository).
#[derive(Debug, Clone)]
pub struct ArtifactRecord {
    pub id: i64,
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub size: i64,
    pub manifest_size: i64,
    pub subject_digest: Option<String>,
    pub config_digest: Option<String>,
    pub created: Option<String>,
    pub author: Option<String>,
    pub platform: Platform,
    /// The remaining config fields (env, entrypoint, cmd, …) as a JSON object.
    pub config_json: Option<String>,
    pub pushed_by: Option<String>,
    /// When pushed; for an image synced from a registry that does not say (Distribution), the
    /// time a sync first saw it, with `pushed_at_known` false.
    pub pushed_at: i64,
    pub pushed_at_known: bool,
    pub pull_count: i64,
    pub pulled_at: Option<i64>,
    pub tags: Vec<String>,
    pub layers: Vec<LayerRecord>,
    pub history: Vec<HistoryRecord>,
    pub children: Vec<ChildRecord>,
}

/// The columns of an `artifacts` row that [`ArtifactRecord`] carries; the tags, layers,
/// history and children come from their own tables.
#[derive(sqlx::FromRow)]
struct ArtifactRow {
    id: i64,
    digest: String,
    media_type: String,
    artifact_type: Option<String>,
    size: i64,
    manifest_size: i64,
    subject_digest: Option<String>,
    config_digest: Option<String>,
    created: Option<String>,
    author: Option<String>,
    #[sqlx(flatten)]
    platform: Platform,
    config: Option<String>,
    pushed_by: Option<String>,
    pushed_at: i64,
    #[sqlx(try_from = "Flag")]
    pushed_at_known: bool,
    pull_count: i64,
    pulled_at: Option<i64>,
}

/// A stored manifest as read, before its digest is parsed into a [`StoredManifest`].
#[derive(sqlx::FromRow)]
struct ManifestRow {
    id: i64,
    digest: String,
    media_type: String,
    manifest: Vec<u8>,
    subject_digest: Option<String>,
    size: i64,
}

impl TryFrom<ManifestRow> for StoredManifest {
    type Error = StoreError;

    fn try_from(row: ManifestRow) -> Result<StoredManifest, StoreError> {
        let digest = Digest::parse(&row.digest)
            .map_err(|e| corrupt(format!("stored digest {}: {e}", row.digest)))?;
        Ok(StoredManifest {
            artifact_id: row.id,
            digest,
            media_type: row.media_type,
            bytes: row.manifest,
            subject: row.subject_digest,
            size: row.size,
        })
    }
}

/// What a child manifest of an index being pushed must match: its sizes, and the platform its
/// config gave it, for an index entry that names none.
#[derive(sqlx::FromRow)]
struct ChildFacts {
    size: i64,
    manifest_size: i64,
    #[sqlx(flatten)]
    platform: Platform,
}

/// The per-repository summary kept up to date on every change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RepositorySummary {
    pub name: String,
    pub artifact_count: i64,
    pub tag_count: i64,
    pub latest_tag: Option<String>,
    pub pushed_at: Option<i64>,
    pub latest_size: Option<i64>,
    pub pulls: i64,
}

impl Store {
    /// Records that `repository` holds blob `digest` (after an upload or a mount), creating
    /// the repository row on first use.
    pub async fn link_blob(
        &self,
        repository: &RepoName,
        digest: &Digest,
        size: u64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let repository_id = ensure_repository(&mut tx, self.hosted_registry_id, repository).await?;
        sqlx::query(
            "INSERT INTO repository_blobs (repository_id, digest, size, linked_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (repository_id, digest) DO NOTHING",
        )
        .bind(repository_id)
        .bind(digest.to_string())
        .bind(size as i64)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The size of `digest` if `repository` may serve it.
    pub async fn linked_blob_size(
        &self,
        repository: &RepoName,
        digest: &Digest,
    ) -> Result<Option<u64>, StoreError> {
        let size: Option<i64> = sqlx::query_scalar(
            "SELECT b.size FROM repository_blobs b JOIN repositories r ON r.id = b.repository_id \
             WHERE r.registry_id = $1 AND r.name = $2 AND b.digest = $3",
        )
        .bind(self.hosted_registry_id)
        .bind(repository.as_str())
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?;
        Ok(size.map(|s| s as u64))
    }

    /// The names of repositories that hold `digest`, for mounting without `from`.
    pub async fn repositories_with_blob(&self, digest: &Digest) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT r.name FROM repository_blobs b JOIN repositories r ON r.id = b.repository_id \
             WHERE r.registry_id = $1 AND b.digest = $2 ORDER BY r.name",
        )
        .bind(self.hosted_registry_id)
        .bind(digest.to_string())
        .fetch_all(&self.reader)
        .await?)
    }

    /// Removes `digest` from `repository`. The file itself stays until garbage collection,
    /// because other repositories may share it. Returns whether a link existed.
    pub async fn unlink_blob(
        &self,
        repository: &RepoName,
        digest: &Digest,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "DELETE FROM repository_blobs WHERE digest = $1 AND repository_id = \
             (SELECT id FROM repositories WHERE registry_id = $2 AND name = $3)",
        )
        .bind(digest.to_string())
        .bind(self.hosted_registry_id)
        .bind(repository.as_str())
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn repository_exists(&self, repository: &RepoName) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS present FROM repositories WHERE registry_id = $1 AND name = $2",
        )
        .bind(self.hosted_registry_id)
        .bind(repository.as_str())
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.is_some())
    }

    /// Stores a validated manifest with its catalog facts and tags, in one transaction.
    ///
    /// Refuses with `MissingReferences` when a config, layer or child manifest is not in the
    /// repository; the check runs inside the transaction so it cannot race a delete.
    pub async fn put_manifest(&self, new: NewManifest<'_>) -> Result<StoredManifest, StoreError> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let repository_id =
            ensure_repository(&mut tx, self.hosted_registry_id, new.repository).await?;
        lock_repository(&mut tx, repository_id).await?;

        let mut missing = Vec::new();
        let mut referenced_size: i64 = 0;
        for descriptor in new.manifest.config.iter().chain(new.manifest.layers.iter()) {
            if berth_oci::media_types::is_non_distributable(&descriptor.media_type) {
                referenced_size += descriptor.size as i64;
                continue;
            }
            let size: Option<i64> = sqlx::query_scalar(
                "SELECT size FROM repository_blobs WHERE repository_id = $1 AND digest = $2",
            )
            .bind(repository_id)
            .bind(descriptor.digest.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            match size {
                None => missing.push(descriptor.digest.to_string()),
                Some(size) => {
                    if size != descriptor.size as i64 {
                        missing.push(format!(
                            "{} (descriptor says {} bytes, the blob has {size})",
                            descriptor.digest, descriptor.size
                        ));
                    }
                    referenced_size += size;
                }
            }
        }
        let mut child_platforms = Vec::with_capacity(new.manifest.children.len());
        for child in &new.manifest.children {
            let facts: Option<ChildFacts> = sqlx::query_as(
                "SELECT size, manifest_size, os, architecture, variant FROM artifacts \
                 WHERE repository_id = $1 AND digest = $2",
            )
            .bind(repository_id)
            .bind(child.descriptor.digest.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            match facts {
                None => missing.push(child.descriptor.digest.to_string()),
                Some(facts) => {
                    // Clients check a fetched manifest against its descriptor's size, so an
                    // entry with the wrong size makes that platform unpullable, just like a
                    // layer descriptor with the wrong size.
                    let manifest_size = facts.manifest_size;
                    if manifest_size != child.descriptor.size as i64 {
                        missing.push(format!(
                            "{} (descriptor says {} bytes, the manifest has {manifest_size})",
                            child.descriptor.digest, child.descriptor.size
                        ));
                    }
                    referenced_size += facts.size;
                    // The index's own platform entry wins; the child's config fills the gap.
                    let platform = match &child.platform {
                        Some(p) => Platform {
                            os: Some(p.os.clone()),
                            architecture: Some(p.architecture.clone()),
                            variant: p.variant.clone(),
                        },
                        None => facts.platform,
                    };
                    child_platforms.push(platform);
                }
            }
        }
        if !missing.is_empty() {
            return Err(StoreError::MissingReferences(missing));
        }

        let digest_text = new.digest.to_string();
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM artifacts WHERE repository_id = $1 AND digest = $2")
                .bind(repository_id)
                .bind(&digest_text)
                .fetch_optional(&mut *tx)
                .await?;
        // An image's size: its manifest and everything the manifest references (config and
        // layers, or each child's own size for an index). The same digest always has the same
        // size, so a repeated push leaves the stored row as it is.
        let size = new.bytes.len() as i64 + referenced_size;
        let artifact_id: i64 = match existing {
            Some(id) => id,
            None => {
                insert_artifact(&mut tx, repository_id, &new, size, &child_platforms, now).await?
            }
        };
        for tag in new.tags {
            sqlx::query(
                "INSERT INTO tags (repository_id, name, artifact_id, pushed_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (repository_id, name) DO UPDATE SET artifact_id = excluded.artifact_id, \
                 pushed_at = excluded.pushed_at",
            )
            .bind(repository_id)
            .bind(tag.as_str())
            .bind(artifact_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        refresh_summary(&mut tx, repository_id, Some(now)).await?;
        tx.commit().await?;
        self.changes.repositories_changed([repository_id]);
        Ok(StoredManifest {
            artifact_id,
            digest: new.digest.clone(),
            media_type: new.manifest.media_type.clone(),
            bytes: new.bytes.to_vec(),
            subject: new.manifest.subject.as_ref().map(|s| s.digest.to_string()),
            size,
        })
    }

    /// Looks a manifest up by tag or digest. `None` when the repository has no such manifest.
    pub async fn get_manifest(
        &self,
        repository: &RepoName,
        reference: &berth_oci::Reference,
    ) -> Result<Option<StoredManifest>, StoreError> {
        let (sql, key) = match reference {
            berth_oci::Reference::Digest(d) => (
                "SELECT a.id, a.digest, a.media_type, a.manifest, a.subject_digest, a.size FROM artifacts a \
                 JOIN repositories r ON r.id = a.repository_id \
                 WHERE r.registry_id = $1 AND r.name = $2 AND a.digest = $3",
                d.to_string(),
            ),
            berth_oci::Reference::Tag(t) => (
                "SELECT a.id, a.digest, a.media_type, a.manifest, a.subject_digest, a.size FROM tags t \
                 JOIN repositories r ON r.id = t.repository_id JOIN artifacts a ON a.id = t.artifact_id \
                 WHERE r.registry_id = $1 AND r.name = $2 AND t.name = $3",
                t.to_string(),
            ),
        };
        let row: Option<ManifestRow> = sqlx::query_as(sql)
            .bind(self.hosted_registry_id)
            .bind(repository.as_str())
            .bind(key)
            .fetch_optional(&self.reader)
            .await?;
        row.map(StoredManifest::try_from).transpose()
    }

    /// Deletes a manifest and every tag pointing at it, with `audit` (when given) in the same
    /// transaction. Returns whether it existed.
    pub async fn delete_manifest(
        &self,
        repository: &RepoName,
        digest: &Digest,
        audit: Option<&NewAuditEvent<'_>>,
    ) -> Result<bool, StoreError> {
        self.delete_in_repository(
            repository,
            "DELETE FROM artifacts WHERE repository_id = $1 AND digest = $2",
            digest.to_string(),
            audit,
        )
        .await
    }

    /// Deletes one tag; the manifest it pointed at stays. Returns whether the tag existed.
    pub async fn delete_tag(
        &self,
        repository: &RepoName,
        tag: &Tag,
        audit: Option<&NewAuditEvent<'_>>,
    ) -> Result<bool, StoreError> {
        self.delete_in_repository(
            repository,
            "DELETE FROM tags WHERE repository_id = $1 AND name = $2",
            tag.to_string(),
            audit,
        )
        .await
    }

    /// Runs `delete` (with `$1` the repository id and `$2` the key) under the repository's
    /// lock and refreshes its summary, all in one transaction with the audit event. Returns
    /// whether a row went; nothing is recorded when none did.
    async fn delete_in_repository(
        &self,
        repository: &RepoName,
        delete: &str,
        key: String,
        audit: Option<&NewAuditEvent<'_>>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(repository_id) =
            repository_id(&mut tx, self.hosted_registry_id, repository).await?
        else {
            return Ok(false);
        };
        lock_repository(&mut tx, repository_id).await?;
        let result = sqlx::query(delete)
            .bind(repository_id)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        refresh_summary(&mut tx, repository_id, None).await?;
        if let Some(audit) = audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        self.changes.repositories_changed([repository_id]);
        Ok(true)
    }

    /// Tags of a repository in byte order, after `last`, at most `limit`. `None` when the
    /// repository does not exist or holds no manifests.
    pub async fn list_tags(
        &self,
        repository: &RepoName,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let summary = self.repository_summary(repository).await?;
        if summary.is_none_or(|s| s.artifact_count == 0) {
            return Ok(None);
        }
        let names = sqlx::query_scalar(
            "SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id \
             WHERE r.registry_id = $1 AND r.name = $2 AND t.name > $3 ORDER BY t.name LIMIT $4",
        )
        .bind(self.hosted_registry_id)
        .bind(repository.as_str())
        .bind(last.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        Ok(Some(names))
    }

    /// Repository names holding at least one manifest, in byte order, after `last`.
    pub async fn catalog(&self, last: Option<&str>, limit: i64) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT name FROM repositories WHERE registry_id = $1 AND artifact_count > 0 AND name > $2 \
             ORDER BY name LIMIT $3",
        )
        .bind(self.hosted_registry_id)
        .bind(last.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Manifests in `repository` whose `subject` is `subject`, optionally of one artifact type.
    pub async fn referrers(
        &self,
        repository: &RepoName,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Referrer>, StoreError> {
        self.referrers_in(
            self.hosted_registry_id,
            repository.as_str(),
            subject,
            artifact_type,
        )
        .await
    }

    /// Referrers of `subject` in a repository of any registry.
    pub async fn referrers_in(
        &self,
        registry_id: i64,
        repository: &str,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Referrer>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT a.digest, a.media_type, a.manifest_size, a.artifact_type, a.annotations \
             FROM artifacts a JOIN repositories r ON r.id = a.repository_id \
             WHERE r.registry_id = $1 AND r.name = $2 AND a.subject_digest = $3 \
             AND ($4 = '' OR a.artifact_type = $4) ORDER BY a.digest",
        )
        .bind(registry_id)
        .bind(repository)
        .bind(subject.to_string())
        .bind(artifact_type.unwrap_or(""))
        .fetch_all(&self.reader)
        .await?)
    }

    /// Adds buffered pull counts. One transaction for the whole batch keeps the cost of
    /// counting pulls to one commit per flush, however many pulls there were.
    pub async fn record_pulls(
        &self,
        pulls: &HashMap<PullKey, i64>,
        at: i64,
    ) -> Result<(), StoreError> {
        if pulls.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let mut counted = Vec::with_capacity(pulls.len());
        for (key, count) in pulls {
            // The repository row first, like every other writer (see `lock_repository`): taking
            // the artifact row first could deadlock against a concurrent `delete_manifest`.
            let repository_id: Option<i64> = sqlx::query_scalar(
                "UPDATE repositories SET pulls = pulls + $1 \
                 WHERE id = (SELECT repository_id FROM artifacts WHERE id = $2) RETURNING id",
            )
            .bind(*count)
            .bind(key.artifact_id)
            .fetch_optional(&mut *tx)
            .await?;
            counted.extend(repository_id);
            sqlx::query(
                "UPDATE artifacts SET pull_count = pull_count + $1, pulled_at = $2 WHERE id = $3",
            )
            .bind(*count)
            .bind(at)
            .bind(key.artifact_id)
            .execute(&mut *tx)
            .await?;
            if let Some(tag) = &key.tag {
                sqlx::query("UPDATE tags SET pulled_at = $1 WHERE name = $2 AND artifact_id = $3")
                    .bind(at)
                    .bind(tag)
                    .bind(key.artifact_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        self.changes.summaries_changed(counted);
        Ok(())
    }

    pub async fn repository_summary(
        &self,
        repository: &RepoName,
    ) -> Result<Option<RepositorySummary>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT name, artifact_count, tag_count, latest_tag, pushed_at, latest_size, pulls \
             FROM repositories WHERE registry_id = $1 AND name = $2",
        )
        .bind(self.hosted_registry_id)
        .bind(repository.as_str())
        .fetch_optional(&self.reader)
        .await?)
    }

    /// The full catalog record of one artifact of the hosted registry, with layers, history,
    /// children and tags.
    pub async fn artifact(
        &self,
        repository: &RepoName,
        digest: &Digest,
    ) -> Result<Option<ArtifactRecord>, StoreError> {
        self.artifact_in(self.hosted_registry_id, repository.as_str(), digest)
            .await
    }

    /// The full catalog record of one artifact of any registry.
    pub async fn artifact_in(
        &self,
        registry_id: i64,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<ArtifactRecord>, StoreError> {
        let row: Option<ArtifactRow> = sqlx::query_as(
            "SELECT a.* FROM artifacts a JOIN repositories r ON r.id = a.repository_id \
             WHERE r.registry_id = $1 AND r.name = $2 AND a.digest = $3",
        )
        .bind(registry_id)
        .bind(repository)
        .bind(digest.to_string())
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id = row.id;
        let tags = sqlx::query_scalar("SELECT name FROM tags WHERE artifact_id = $1 ORDER BY name")
            .bind(id)
            .fetch_all(&self.reader)
            .await?;
        let layers = sqlx::query_as(
            "SELECT digest, media_type, size, created_by, created FROM artifact_layers \
             WHERE artifact_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        let history = sqlx::query_as(
            "SELECT created, created_by, author, comment, empty_layer FROM artifact_history \
             WHERE artifact_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        let children = sqlx::query_as(
            "SELECT digest, media_type, size, os, architecture, variant FROM artifact_children \
             WHERE artifact_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        Ok(Some(ArtifactRecord {
            id,
            digest: row.digest,
            media_type: row.media_type,
            artifact_type: row.artifact_type,
            size: row.size,
            manifest_size: row.manifest_size,
            subject_digest: row.subject_digest,
            config_digest: row.config_digest,
            created: row.created,
            author: row.author,
            platform: row.platform,
            config_json: row.config,
            pushed_by: row.pushed_by,
            pushed_at: row.pushed_at,
            pushed_at_known: row.pushed_at_known,
            pull_count: row.pull_count,
            pulled_at: row.pulled_at,
            tags,
            layers,
            history,
            children,
        }))
    }
}

fn corrupt(message: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(message.into()))
}

async fn repository_id(
    tx: &mut Transaction<'_, Any>,
    registry_id: i64,
    repository: &RepoName,
) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM repositories WHERE registry_id = $1 AND name = $2")
            .bind(registry_id)
            .bind(repository.as_str())
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// The id of `repository`, creating its row on first use.
///
/// Concurrent first pushes to one repository are normal (a client uploads layers in parallel),
/// and on PostgreSQL two transactions can both miss the row and both insert it. `ON CONFLICT
/// DO NOTHING` makes the loser wait for the winner's commit and insert nothing instead of
/// failing with a unique violation; the SELECT after it then sees the committed row, because
/// each statement under READ COMMITTED takes a fresh snapshot. The first SELECT keeps the
/// common case (the repository exists) from burning a sequence value on every call.
async fn ensure_repository(
    tx: &mut Transaction<'_, Any>,
    registry_id: i64,
    repository: &RepoName,
) -> Result<i64, StoreError> {
    if let Some(id) = repository_id(tx, registry_id, repository).await? {
        return Ok(id);
    }
    // The space is looked up once, here: spaces cannot be renamed, and one that still holds
    // images cannot be deleted.
    sqlx::query(
        "INSERT INTO repositories (registry_id, space_id, name, created_at) VALUES ($1, \
         (SELECT id FROM spaces WHERE registry_id = $1 AND name = $3), $2, $4) \
         ON CONFLICT (registry_id, name) DO NOTHING",
    )
    .bind(registry_id)
    .bind(repository.as_str())
    .bind(repository.space())
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    repository_id(tx, registry_id, repository)
        .await?
        .ok_or_else(|| {
            corrupt(format!(
                "repository {repository} is neither present nor insertable"
            ))
        })
}

/// Serialises the transactions that change a repository's manifests, tags or counters, by
/// taking the repository row's lock before anything else.
///
/// `refresh_summary` recounts artifacts and tags with subqueries. Under PostgreSQL's READ
/// COMMITTED two concurrent pushes would each count without the other's uncommitted rows, and
/// whichever committed last would store counts missing the other's manifest; two pushes of one
/// digest would also both miss the artifact and collide on its unique key. Once the second
/// transaction has waited here for the first to commit, its later statements take snapshots
/// that include the first one's rows. The no-op UPDATE is the lock both databases accept
/// (SQLite has no `SELECT … FOR UPDATE`, and its single writer connection serialises writes
/// anyway). Every transaction that writes artifacts, tags or counters takes this lock before
/// touching any artifact or tag row, so two of them cannot deadlock on each other.
pub(crate) async fn lock_repository(
    tx: &mut Transaction<'_, Any>,
    repository_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE repositories SET artifact_count = artifact_count WHERE id = $1")
        .bind(repository_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_artifact(
    tx: &mut Transaction<'_, Any>,
    repository_id: i64,
    new: &NewManifest<'_>,
    size: i64,
    child_platforms: &[Platform],
    now: i64,
) -> Result<i64, StoreError> {
    let manifest = new.manifest;
    let facts = ArtifactFacts::of(manifest, new.config);
    let config = new.config;
    let artifact_id: i64 = sqlx::query_scalar(
        "INSERT INTO artifacts (repository_id, digest, media_type, artifact_type, manifest, manifest_size, \
         size, subject_digest, config_digest, annotations, created, author, os, architecture, variant, \
         config, pushed_by, pushed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
    )
    .bind(repository_id)
    .bind(new.digest.to_string())
    .bind(&manifest.media_type)
    .bind(facts.artifact_type.as_deref())
    .bind(new.bytes.to_vec())
    .bind(new.bytes.len() as i64)
    .bind(size)
    .bind(facts.subject_digest.as_deref())
    .bind(facts.config_digest.as_deref())
    .bind(facts.annotations.as_str())
    .bind(facts.created.as_deref())
    .bind(facts.author.as_deref())
    .bind(config.map(|c| c.os.clone()))
    .bind(config.map(|c| c.architecture.clone()))
    .bind(config.and_then(|c| c.variant.clone()))
    .bind(facts.config_fields.as_deref())
    .bind(new.pushed_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    insert_layers_and_history(tx, &[(artifact_id, &facts)]).await?;
    for (position, (child, platform)) in manifest.children.iter().zip(child_platforms).enumerate() {
        sqlx::query(
            "INSERT INTO artifact_children (artifact_id, position, digest, media_type, size, os, \
             architecture, variant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(artifact_id)
        .bind(position as i64)
        .bind(child.descriptor.digest.to_string())
        .bind(&child.descriptor.media_type)
        .bind(child.descriptor.size as i64)
        .bind(platform.os.clone())
        .bind(platform.architecture.clone())
        .bind(platform.variant.clone())
        .execute(&mut **tx)
        .await?;
    }
    Ok(artifact_id)
}

/// Recomputes a repository's counters after a change. `pushed_at` moves only on pushes.
pub(crate) async fn refresh_summary(
    tx: &mut Transaction<'_, Any>,
    repository_id: i64,
    pushed_at: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE repositories SET \
         artifact_count = (SELECT COUNT(*) FROM artifacts WHERE repository_id = $1), \
         tag_count = (SELECT COUNT(*) FROM tags WHERE repository_id = $1), \
         latest_tag = (SELECT name FROM tags WHERE repository_id = $1 ORDER BY pushed_at DESC, name DESC LIMIT 1), \
         latest_size = (SELECT a.size FROM tags t JOIN artifacts a ON a.id = t.artifact_id \
                        WHERE t.repository_id = $1 ORDER BY t.pushed_at DESC, t.name DESC LIMIT 1), \
         pushed_at = COALESCE($2, pushed_at) \
         WHERE id = $1",
    )
    .bind(repository_id)
    .bind(pushed_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
