//! The image list's read model: an in-memory [`ImageListIndex`] of every registry's catalog,
//! loaded from the store at start and kept current from the store's change record.
//!
//! Why in memory: a workspace's list is the union of thousands of public spaces and its own
//! bindings, filtered by substrings of repository and tag names and sorted four ways. Asked of
//! SQL, each request would scan every visible repository (and, for tag search, a million tag
//! rows); held in memory, the same scan is a few hundred microseconds on any database.
//!
//! Why it is never stale: every store write that changes what the list shows records itself
//! in `Store::catalog_changes` after it commits, and [`ImageList::read`] applies those changes
//! before it answers. A request that follows a push or a binding change therefore sees it.
//! Refreshes are serialised, so an older read of a repository never overwrites a newer one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard};

use berth_store::repositories::CatalogSpace;
use berth_store::{RepositoryChanges, Store, StoreError};

pub mod index;

pub use index::ImageListIndex;

/// Repositories loaded per query at start.
const LOAD_BATCH: i64 = 5_000;

pub struct ImageList {
    store: Store,
    /// `host[:port]` of the hosted registry as clients reach it.
    hosted_host: String,
    index: RwLock<ImageListIndex>,
    /// The tenancy generation the index reflects, for the check every read makes.
    generation: AtomicU64,
    /// Held while refreshing, so refreshes run one at a time.
    refreshing: tokio::sync::Mutex<()>,
    /// How long the load at start took.
    loaded_in: std::time::Duration,
}

impl ImageList {
    /// Loads the whole catalog.
    pub async fn load(store: Store, hosted_host: String) -> Result<ImageList, StoreError> {
        let mut catalog = ImageList {
            store,
            hosted_host,
            index: RwLock::new(ImageListIndex::default()),
            generation: AtomicU64::new(0),
            refreshing: tokio::sync::Mutex::new(()),
            loaded_in: std::time::Duration::ZERO,
        };
        let started = std::time::Instant::now();
        {
            let _refreshing = catalog.refreshing.lock().await;
            // Changes recorded from here on are applied by the next `read`; applying a change
            // twice is harmless, missing one is not.
            let generation = catalog.store.catalog_changes().tenancy_generation();
            catalog.store.catalog_changes().take_repositories();
            catalog.reload_spaces().await?;
            let mut after = 0;
            loop {
                let batch = catalog
                    .store
                    .catalog_repositories_after(after, LOAD_BATCH)
                    .await?;
                let Some(last) = batch.last().map(|r| r.id) else {
                    break;
                };
                let mut index = catalog.index.write().expect("catalog index lock");
                for repository in batch {
                    index.upsert(repository);
                }
                after = last;
            }
            catalog.generation.store(generation, Ordering::SeqCst);
        }
        catalog.loaded_in = started.elapsed();
        tracing::info!(
            repositories = catalog
                .index
                .read()
                .expect("catalog index lock")
                .repository_count(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "image list index loaded"
        );
        Ok(catalog)
    }

    /// How long loading the index at start took.
    pub fn loaded_in(&self) -> std::time::Duration {
        self.loaded_in
    }

    /// The index, after applying every change the store recorded so far.
    pub async fn read(&self) -> Result<RwLockReadGuard<'_, ImageListIndex>, StoreError> {
        let changes = self.store.catalog_changes();
        let stale = || {
            changes.tenancy_generation() != self.generation.load(Ordering::SeqCst)
                || changes.has_repository_changes()
        };
        // The common case, nothing changed, costs an atomic load and an uncontended lock.
        if stale() {
            let _refreshing = self.refreshing.lock().await;
            let generation = changes.tenancy_generation();
            if generation != self.generation.load(Ordering::SeqCst) {
                self.reload_spaces().await?;
                self.generation.store(generation, Ordering::SeqCst);
            }
            let changed = changes.take_repositories();
            if !changed.is_empty() {
                if let Err(e) = self.reload_repositories(&changed).await {
                    // Put them back so the next request tries again.
                    changes.requeue(changed);
                    return Err(e);
                }
            }
        }
        Ok(self.index.read().expect("catalog index lock"))
    }

    async fn reload_spaces(&self) -> Result<(), StoreError> {
        let spaces = self.store.catalog_spaces().await?;
        let bindings = self.store.catalog_bindings().await?;
        let hosted = self.hosted_host.clone();
        let mut index = self.index.write().expect("catalog index lock");
        index.set_spaces(spaces, bindings, |space| host_of(space, &hosted));
        Ok(())
    }

    async fn reload_repositories(&self, changed: &RepositoryChanges) -> Result<(), StoreError> {
        let tags: Vec<i64> = changed.tags.iter().copied().collect();
        let summaries: Vec<i64> = changed.summaries.iter().copied().collect();
        let found = self.store.catalog_repositories_by_id(&tags, true).await?;
        let updated = self
            .store
            .catalog_repositories_by_id(&summaries, false)
            .await?;
        let mut index = self.index.write().expect("catalog index lock");
        for id in &tags {
            index.remove(*id);
        }
        for repository in found {
            index.upsert(repository);
        }
        for id in &summaries {
            if !updated.iter().any(|r| r.id == *id) {
                index.remove(*id);
            }
        }
        for summary in updated {
            index.update_summary(summary);
        }
        Ok(())
    }
}

/// The `host[:port]` clients use for a registry: the external address for `hosted`, the
/// configured URL's authority for the others.
fn host_of(space: &CatalogSpace, hosted: &str) -> String {
    if space.registry_kind == "hosted" {
        return hosted.to_string();
    }
    crate::host_of_url(&space.registry_url)
}
