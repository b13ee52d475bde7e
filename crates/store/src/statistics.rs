//! What an operator watches: how much each registry's catalog holds, how many bytes the hosted
//! registry stores, and how busy the connection pools are.

use sqlx::FromRow;

use crate::{Backend, Store, StoreError};

/// The name the workspace registries' statistics are summed under.
pub const WORKSPACE_REGISTRIES: &str = "(workspace registries)";

/// The size of one registry's catalog.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct RegistryStatistics {
    pub registry: String,
    /// Repositories holding at least one manifest.
    pub repositories: i64,
    pub artifacts: i64,
    pub tags: i64,
}

/// Bytes the hosted registry keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredBytes {
    /// Each blob once, however many repositories link it, plus every manifest: what the
    /// storage holds.
    pub deduplicated: i64,
    /// Each repository's blobs counted in that repository, plus every manifest: what the
    /// storage would hold without sharing.
    pub logical: i64,
}

/// One connection pool's use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUse {
    /// `writer` and `reader` on SQLite (one writer connection beside a read pool); `shared`
    /// on PostgreSQL, where one pool serves both.
    pub pool: &'static str,
    /// Connections open now.
    pub size: u32,
    /// Of those, the ones waiting for work.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

#[derive(FromRow)]
struct Total {
    total: i64,
}

impl Store {
    /// Every platform registry's catalog size, by registry name, and the workspace
    /// registries' together under [`WORKSPACE_REGISTRIES`]: metrics are read without signing
    /// in, and must not name the workspaces the REST API hides.
    pub async fn registry_statistics(&self) -> Result<Vec<RegistryStatistics>, StoreError> {
        let rows = sqlx::query_as::<_, RegistryStatistics>(
            "SELECT registry, CAST(SUM(repositories) AS BIGINT) AS repositories, \
                 CAST(SUM(artifacts) AS BIGINT) AS artifacts, CAST(SUM(tags) AS BIGINT) AS tags \
             FROM (SELECT CASE WHEN g.workspace_id IS NULL THEN g.name ELSE $1 END AS registry, \
                     (SELECT COUNT(*) FROM repositories r \
                         WHERE r.registry_id = g.id AND r.artifact_count > 0) AS repositories, \
                     (SELECT COUNT(*) FROM artifacts a \
                         JOIN repositories r ON r.id = a.repository_id \
                         WHERE r.registry_id = g.id) AS artifacts, \
                     (SELECT COUNT(*) FROM tags t JOIN repositories r ON r.id = t.repository_id \
                         WHERE r.registry_id = g.id) AS tags \
                 FROM registries g) per_registry \
             GROUP BY registry ORDER BY registry",
        )
        .bind(WORKSPACE_REGISTRIES)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows)
    }

    /// The bytes the hosted registry's blobs and manifests take.
    pub async fn stored_bytes(&self) -> Result<StoredBytes, StoreError> {
        // `CAST … AS BIGINT` keeps each sum an integer on PostgreSQL, where SUM of BIGINT is
        // NUMERIC, which the `Any` driver cannot decode. Blobs are linked only in `hosted`;
        // manifests of every registry are kept, so they are counted for `hosted` alone.
        let total = |sql: &'static str| async move {
            let row = sqlx::query_as::<_, Total>(sql)
                .bind(self.hosted_registry_id())
                .fetch_one(&self.reader)
                .await?;
            Ok::<i64, StoreError>(row.total)
        };
        let manifests = total(
            "SELECT CAST(COALESCE(SUM(a.manifest_size), 0) AS BIGINT) AS total FROM artifacts a \
             JOIN repositories r ON r.id = a.repository_id WHERE r.registry_id = $1",
        )
        .await?;
        let unique_blobs = total(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS total FROM \
             (SELECT b.digest, MAX(b.size) AS size FROM repository_blobs b \
              JOIN repositories r ON r.id = b.repository_id WHERE r.registry_id = $1 \
              GROUP BY b.digest) blobs",
        )
        .await?;
        let linked_blobs = total(
            "SELECT CAST(COALESCE(SUM(b.size), 0) AS BIGINT) AS total FROM repository_blobs b \
             JOIN repositories r ON r.id = b.repository_id WHERE r.registry_id = $1",
        )
        .await?;
        Ok(StoredBytes {
            deduplicated: unique_blobs + manifests,
            logical: linked_blobs + manifests,
        })
    }

    /// How busy the connection pools are now.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        let describe = |pool: &'static str, pool_of: &sqlx::AnyPool| PoolUse {
            pool,
            size: pool_of.size(),
            idle: pool_of.num_idle() as u32,
            max: pool_of.options().get_max_connections(),
        };
        match self.backend() {
            Backend::Sqlite => vec![
                describe("writer", &self.writer),
                describe("reader", &self.reader),
            ],
            Backend::Postgres => vec![describe("shared", &self.reader)],
        }
    }
}
