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
#[derive(Debug, Default)]
pub struct CatalogChanges {
    tenancy_generation: std::sync::atomic::AtomicU64,
    principals_generation: std::sync::atomic::AtomicU64,
    repositories: std::sync::Mutex<RepositoryChanges>,
}

/// Repositories changed since a reader last took them.
#[derive(Debug, Default)]
pub struct RepositoryChanges {
    /// Tags or manifests changed: reload the repository with its tag names.
    pub tags: std::collections::HashSet<i64>,
    /// Only summary fields changed (pull counts, the description): the tag names stand.
    pub summaries: std::collections::HashSet<i64>,
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
        let mut changed = self.repositories.lock().expect("catalog changes lock");
        changed.tags.extend(ids);
    }

    pub(crate) fn summaries_changed(&self, ids: impl IntoIterator<Item = i64>) {
        let mut changed = self.repositories.lock().expect("catalog changes lock");
        changed.summaries.extend(ids);
    }

    /// Increases with every committed change to spaces, bindings, registries or workspaces.
    pub fn tenancy_generation(&self) -> u64 {
        self.tenancy_generation
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether any repository changed since the last `take_repositories`.
    pub fn has_repository_changes(&self) -> bool {
        !self
            .repositories
            .lock()
            .expect("catalog changes lock")
            .is_empty()
    }

    /// Records again changes a reader took but failed to apply.
    pub fn requeue(&self, changes: RepositoryChanges) {
        let mut changed = self.repositories.lock().expect("catalog changes lock");
        changed.tags.extend(changes.tags);
        changed.summaries.extend(changes.summaries);
    }

    /// The repositories changed since the last call, which the caller now owns applying.
    pub fn take_repositories(&self) -> RepositoryChanges {
        let mut changed = self.repositories.lock().expect("catalog changes lock");
        let mut taken = std::mem::take(&mut *changed);
        // A full reload covers a summary change of the same repository.
        taken.summaries.retain(|id| !taken.tags.contains(id));
        taken
    }
}
