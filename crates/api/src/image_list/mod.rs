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
//! Refreshes are serialised, so an older read of a repository never overwrites a newer one,
//! and a change stays pending until a refresh has put it in the index, so a read never
//! answers from an index that lacks a change it follows, even while another read is applying
//! it or after that read was dropped halfway.

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
            let covered = catalog.store.catalog_changes().pending_repositories();
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
            catalog.store.catalog_changes().acknowledge(&covered);
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
    ///
    /// A change counts as applied only once it is in the index: the generation is stored,
    /// and repository changes acknowledged, after the reload. Until then every other read
    /// sees the change pending and queues behind the refresh under way, instead of
    /// answering from the index without it. And a refresh that stops halfway, with an error
    /// or because its request was dropped (hyper drops the handler of a client that went
    /// away, wherever it waits), leaves the change pending for the next read.
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
            let changed = changes.pending_repositories();
            if !changed.is_empty() {
                self.reload_repositories(&changed).await?;
                changes.acknowledge(&changed);
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

/// What image references of a registry start with, `host[:port]` and any path prefix before
/// the repository: Berth's external address for `hosted`; Berth's address and the registry's
/// name for a registry Berth proxies (`berth.example:5050/dist`, its images pulled through
/// Berth with Berth credentials); the configured URL's authority for the others. The image
/// list, the detail pages' pull commands and the selector all build references from this.
fn host_of(space: &CatalogSpace, hosted: &str) -> String {
    if space.registry_kind == "hosted" {
        return hosted.to_string();
    }
    if berth_store::facts::is_proxied(&space.registry_kind, space.registry_workspace_id) {
        return format!("{hosted}/{}", space.registry_name);
    }
    crate::host_of_url(&space.registry_url)
}

#[cfg(test)]
mod tests {
    use std::task::Poll;

    use berth_store::audit::NewAuditEvent;
    use berth_store::hosted::Platform;
    use berth_store::registry_records::{NewRegistry, RegistryOwner};
    use berth_store::repositories::{SyncedRepository, SyncedTag};

    use super::*;

    fn event(target: &str) -> NewAuditEvent<'_> {
        NewAuditEvent {
            actor: "test",
            action: "test.setup",
            target,
            ..Default::default()
        }
    }

    /// A store with a platform registry and a public space `ext` in it, and the image list
    /// loaded from it. Answers the registry's id.
    async fn catalog() -> (tempfile::TempDir, Store, ImageList, i64) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("berth.db").display());
        let store = Store::connect(&url).await.unwrap();
        let registry = store
            .create_registry(
                NewRegistry {
                    owner: RegistryOwner::Platform,
                    name: "mirror",
                    kind: "distribution",
                    url: "https://mirror.example.com",
                    username: "",
                    secret: None,
                    insecure: false,
                    description: "",
                    follow: "",
                    sync_interval_seconds: Some(0),
                },
                &event("mirror"),
            )
            .await
            .unwrap();
        store
            .create_space(registry.id, "ext", true, "", &event("mirror/ext"))
            .await
            .unwrap();
        let list = ImageList::load(store.clone(), "berth.test".into())
            .await
            .unwrap();
        (dir, store, list, registry.id)
    }

    /// Syncs `ext/nginx` into the registry and answers its id, once the list holds it.
    async fn nginx(store: &Store, registry: i64, list: &ImageList) -> i64 {
        let tag = SyncedTag {
            name: "latest".into(),
            digest: format!("sha256:{:064x}", 1),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            manifest: b"{}".to_vec(),
            size: 1000,
            pushed_at: 1_000,
            platform: Platform {
                os: Some("linux".into()),
                architecture: Some("amd64".into()),
                variant: None,
            },
            children: Vec::new(),
            pushed_at_known: true,
            facts: Default::default(),
        };
        let repository = SyncedRepository {
            name: "ext/nginx".into(),
            description: String::new(),
            tags: vec![tag],
        };
        store
            .sync_repositories(registry, &[repository])
            .await
            .unwrap();
        assert_eq!(count(list).await, 1);
        store
            .catalog_repository(registry, "ext/nginx")
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// How many repositories a read finds; the index lock is let go before it returns.
    async fn count(list: &ImageList) -> usize {
        list.read().await.unwrap().repository_count()
    }

    /// The refresh is caught waiting for the database by polling a read once, which now and
    /// then finds the database so quick that the read completes at once: then it is tried
    /// again, with the repository synced anew.
    const ATTEMPTS: usize = 50;

    // A request whose client goes away is dropped wherever it waits, as hyper drops the
    // handler of a closed connection: here in the middle of applying a delete. The next read
    // must still apply it. (The console's own list request after a delete is cut off like
    // this when the page navigates again at once.)
    #[tokio::test]
    async fn a_refresh_dropped_midway_is_done_by_the_next_read() {
        let (_dir, store, list, registry) = catalog().await;
        for _ in 0..ATTEMPTS {
            let id = nginx(&store, registry, &list).await;
            assert!(store
                .delete_repository(id, &event("ext/nginx"))
                .await
                .unwrap());
            let mut dropped = Box::pin(count(&list));
            // The first poll starts the refresh, which then waits for the database.
            if futures::poll!(dropped.as_mut()).is_ready() {
                continue;
            }
            drop(dropped);
            assert_eq!(
                count(&list).await,
                0,
                "the deleted repository is gone from the list"
            );
            return;
        }
        panic!("no read waited for the database in {ATTEMPTS} attempts");
    }

    // A read that comes while another is applying changes waits for it, rather than answer
    // from the index as it was before those changes.
    #[tokio::test]
    async fn a_read_during_a_refresh_waits_for_it() {
        let (_dir, store, list, registry) = catalog().await;
        for _ in 0..ATTEMPTS {
            let id = nginx(&store, registry, &list).await;
            assert!(store
                .delete_repository(id, &event("ext/nginx"))
                .await
                .unwrap());
            let mut first = Box::pin(count(&list));
            if futures::poll!(first.as_mut()).is_ready() {
                continue;
            }
            let mut second = Box::pin(count(&list));
            let second = match futures::poll!(second.as_mut()) {
                Poll::Ready(n) => n,
                Poll::Pending => tokio::join!(first, second).1,
            };
            assert_eq!(
                second, 0,
                "a read after the delete does not list the repository"
            );
            return;
        }
        panic!("no read waited for the database in {ATTEMPTS} attempts");
    }
}
