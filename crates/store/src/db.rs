use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::StoreError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database handle. Cheap to clone.
///
/// Writes go through `writer` and reads through `reader`. On SQLite the writer pool holds one
/// connection, so write transactions queue in the process instead of failing with
/// `SQLITE_BUSY`, while WAL lets the read pool run beside it. On PostgreSQL both are one pool.
#[derive(Clone)]
pub struct Store {
    pub(crate) writer: AnyPool,
    pub(crate) reader: AnyPool,
    backend: Backend,
    /// The access settings as last read, with when; see `Store::access_settings`.
    pub(crate) settings_cache: std::sync::Arc<
        std::sync::Mutex<Option<(std::time::Instant, crate::facts::AccessSettings)>>,
    >,
    /// The `registries` row id of `hosted`, read once at connect.
    pub(crate) hosted_registry_id: i64,
    /// What changed in the catalog since readers last looked; see [`CatalogChanges`].
    pub(crate) changes: std::sync::Arc<CatalogChanges>,
}

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let store = if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await?
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options =
                AnyConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(e.to_string()))?;
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Store {
                writer: pool.clone(),
                reader: pool,
                backend: Backend::Postgres,
                settings_cache: Default::default(),
                hosted_registry_id: 0,
                changes: Default::default(),
            }
        } else {
            return Err(StoreError::BadUrl(format!(
                "`{}` is neither sqlite:// nor postgres://",
                url.split('@').next_back().unwrap_or("")
            )));
        };
        let migrator = match store.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        // SQLite migrations run with foreign keys off, as SQLite's documentation prescribes
        // for schema changes: a table rebuild (drop, then rename a copy into place) would
        // otherwise cascade into every table that references it. Keys are checked after, and
        // the single writer connection turns them back on before anything else runs on it.
        let mut connection = store.writer.acquire().await?;
        if store.backend == Backend::Sqlite {
            connection.execute("PRAGMA foreign_keys = OFF").await?;
        }
        migrator.run(&mut *connection).await?;
        if store.backend == Backend::Sqlite {
            let broken = sqlx::query("PRAGMA foreign_key_check")
                .fetch_all(&mut *connection)
                .await?;
            if !broken.is_empty() {
                return Err(StoreError::Database(sqlx::Error::Protocol(format!(
                    "{} rows violate foreign keys after migrating",
                    broken.len()
                ))));
            }
            connection.execute("PRAGMA foreign_keys = ON").await?;
        }
        drop(connection);
        let hosted: i64 = sqlx::query_scalar("SELECT id FROM registries WHERE kind = 'hosted'")
            .fetch_one(&store.writer)
            .await?;
        Ok(Store {
            hosted_registry_id: hosted,
            ..store
        })
    }

    async fn connect_sqlite(url: &str) -> Result<Store, StoreError> {
        // `mode=rwc` creates the file on first start.
        let url = if url.contains('?') {
            url.to_string()
        } else {
            format!("{url}?mode=rwc")
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|e| StoreError::BadUrl(e.to_string()))?;
        // FULL makes every commit durable before it is acknowledged, so a crash never loses a
        // push the client was told succeeded. Commits are rare next to blob I/O.
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(connect_error)?;
        let reader = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                         PRAGMA query_only = 1;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        Ok(Store {
            writer,
            reader,
            backend: Backend::Sqlite,
            settings_cache: Default::default(),
            hosted_registry_id: 0,
            changes: Default::default(),
        })
    }

    /// Begins a transaction on the writer that holds the database's write lock from its first
    /// statement. On SQLite a transaction that reads first and writes later fails at once with
    /// "database is locked" when another process (`berth vulndb import` beside `berth serve`)
    /// wrote in between, as the busy timeout cannot help it; `BEGIN IMMEDIATE` waits for the
    /// lock up front instead. PostgreSQL locks rows, not the database, and needs nothing.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The id of the `hosted` registry's row.
    pub fn hosted_registry_id(&self) -> i64 {
        self.hosted_registry_id
    }

    /// The record of catalog changes this process made, for in-memory read models.
    pub fn catalog_changes(&self) -> &CatalogChanges {
        &self.changes
    }

    /// A trivial query on both pools, for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        sqlx::query("SELECT 1").execute(&self.writer).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// The Any driver hands most URL options to the backend driver only when the first connection
/// is made, so an option it rejects then (`?mode=sideways`, a bad `sslmode`) is still a mistake
/// in the URL, not a database that is down, and is reported as such.
fn connect_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Configuration(e) => StoreError::BadUrl(e.to_string()),
        other => StoreError::Database(other),
    }
}

/// What this process changed in the catalog, so an in-memory read model (the image list
/// index) can catch up before it answers.
///
/// The store records every change here after its transaction commits, in the one place that
/// makes the change, so no caller can forget to. Tenancy changes (spaces, bindings,
/// registries, workspaces) bump a generation: they are rare and the model reloads them whole.
/// Repository changes (pushes, deletes, pull counts, descriptions) name the repository, which
/// the model reloads alone.
///
/// A repository change stays pending until the reader that applied it says so with
/// [`CatalogChanges::acknowledge`]. So a reader that is dropped halfway (the request of a
/// client that went away) loses nothing, and a second reader sees the change still pending,
/// and waits for the first rather than answer from a model that lacks it.
#[derive(Debug, Default)]
pub struct CatalogChanges {
    tenancy_generation: std::sync::atomic::AtomicU64,
    principals_generation: std::sync::atomic::AtomicU64,
    repositories: std::sync::Mutex<PendingRepositories>,
}

/// Each pending repository with the number of its latest change, so acknowledging a
/// snapshot keeps a change recorded again after the snapshot was taken.
#[derive(Debug, Default)]
struct PendingRepositories {
    /// The number of the latest change recorded.
    last: u64,
    tags: std::collections::HashMap<i64, u64>,
    summaries: std::collections::HashMap<i64, u64>,
}

/// Repositories changed and not yet applied, as [`CatalogChanges::pending_repositories`]
/// found them.
#[derive(Debug, Default)]
pub struct RepositoryChanges {
    /// Tags or manifests changed: reload the repository with its tag names.
    pub tags: std::collections::HashSet<i64>,
    /// Only summary fields changed (pull counts, the description): the tag names stand.
    pub summaries: std::collections::HashSet<i64>,
    /// The number of the latest change this snapshot covers.
    upto: u64,
}

impl RepositoryChanges {
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.summaries.is_empty()
    }
}

impl CatalogChanges {
    pub(crate) fn tenancy_changed(&self) {
        self.tenancy_generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Users, memberships, workspaces or robots changed (every commit of `users.rs` and
    /// `tenancy.rs` calls this), so anything remembered about a caller is stale.
    pub(crate) fn principals_changed(&self) {
        self.principals_generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Increases with every committed change to users, members, workspaces or robots.
    pub fn principals_generation(&self) -> u64 {
        self.principals_generation
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn repositories_changed(&self, ids: impl IntoIterator<Item = i64>) {
        let mut pending = self.repositories.lock().expect("catalog changes lock");
        pending.last += 1;
        let number = pending.last;
        pending.tags.extend(ids.into_iter().map(|id| (id, number)));
    }

    pub(crate) fn summaries_changed(&self, ids: impl IntoIterator<Item = i64>) {
        let mut pending = self.repositories.lock().expect("catalog changes lock");
        pending.last += 1;
        let number = pending.last;
        pending
            .summaries
            .extend(ids.into_iter().map(|id| (id, number)));
    }

    /// Increases with every committed change to spaces, bindings, registries or workspaces.
    pub fn tenancy_generation(&self) -> u64 {
        self.tenancy_generation
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether any repository change is pending: recorded and not yet acknowledged.
    pub fn has_repository_changes(&self) -> bool {
        let pending = self.repositories.lock().expect("catalog changes lock");
        !pending.tags.is_empty() || !pending.summaries.is_empty()
    }

    /// The repositories changed and not yet acknowledged. They stay pending: the caller
    /// acknowledges them once it has applied them.
    pub fn pending_repositories(&self) -> RepositoryChanges {
        let pending = self.repositories.lock().expect("catalog changes lock");
        let tags: std::collections::HashSet<i64> = pending.tags.keys().copied().collect();
        // A full reload covers a summary change of the same repository.
        let summaries = pending
            .summaries
            .keys()
            .copied()
            .filter(|id| !tags.contains(id))
            .collect();
        RepositoryChanges {
            tags,
            summaries,
            upto: pending.last,
        }
    }

    /// Ends what `changes` holds: every change it covers has been applied. A repository
    /// changed again since `changes` was taken stays pending.
    pub fn acknowledge(&self, changes: &RepositoryChanges) {
        let mut pending = self.repositories.lock().expect("catalog changes lock");
        pending.tags.retain(|_, number| *number > changes.upto);
        pending.summaries.retain(|_, number| *number > changes.upto);
    }

    /// The pending repositories, acknowledged at once: for a caller that only wants to know
    /// what changed.
    pub fn take_repositories(&self) -> RepositoryChanges {
        let taken = self.pending_repositories();
        self.acknowledge(&taken);
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_stay_pending_until_acknowledged() {
        let changes = CatalogChanges::default();
        changes.repositories_changed([1, 2]);
        changes.summaries_changed([2, 3]);
        let pending = changes.pending_repositories();
        assert_eq!(pending.tags, [1, 2].into());
        assert_eq!(pending.summaries, [3].into(), "a reload covers the summary");
        assert!(changes.has_repository_changes(), "seen is not yet applied");
        assert_eq!(changes.pending_repositories().tags, [1, 2].into());

        // While the reader applies them, repository 1 changes again and 4 changes.
        changes.repositories_changed([1]);
        changes.summaries_changed([4]);
        changes.acknowledge(&pending);
        let rest = changes.pending_repositories();
        assert_eq!(rest.tags, [1].into(), "the later change of 1 stays");
        assert_eq!(rest.summaries, [4].into());

        changes.acknowledge(&rest);
        assert!(!changes.has_repository_changes());
        assert!(changes.take_repositories().is_empty());
    }
}
