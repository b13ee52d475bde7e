//! Scan jobs: the join between `berth-scan` (layer bytes and advisories in, inventory and
//! findings out, with no I/O) and the store, the blob store, the job queue and the external
//! registries' clients.
//!
//! **Architecture invariant:** this crate holds no HTTP handlers and no access rules; the
//! REST API and the registry ask it to queue, stop and describe scans after deciding who
//! may. What a layer holds is read once per layer digest and kept in the store, so a base
//! layer shared by a thousand images is read once; what a scan found is kept per manifest
//! digest. A scan is a job of kind [`JOB_KIND`] keyed by the manifest digest, so one runs per
//! image across every `berth serve` on the database, and a worker that dies loses its lease
//! and another takes the job again. A scan that is stopped or dies midway leaves the previous
//! report standing; one that fails or finds the image unsupported replaces it with the reason.

mod report;
mod run;
/// SPDX and CycloneDX documents of a scanned image's packages.
pub mod sbom;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use berth_api_types::ScanSummary;
use berth_blobs::BlobStore;
use berth_oci::Digest;
use berth_store::jobs::{work_on, Enqueued, Job};
use berth_store::{now_millis, Store, StoreError};
use berth_sync::SyncService;
use serde::{Deserialize, Serialize};

pub use report::{severity_rank, summary, vulnerability_matches, NOT_SCANNED};

/// The job kind of a scan; the job's key is the scanned manifest's digest.
pub const JOB_KIND: &str = "artifact.scan";
/// The scanner's name and version, as reports name them.
pub const SCANNER_NAME: &str = "berth";
pub const SCANNER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// How many times a scan job is taken before it fails for good: a worker that died holding
/// it counts as a try.
const MAX_ATTEMPTS: i64 = 3;

/// How scans run.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// Scans running at once in this process.
    pub workers: usize,
    /// How long a worker holds a job without renewing it.
    pub lease: Duration,
    /// How long an idle worker waits before looking for queued jobs again (jobs queued by
    /// this process wake it at once).
    pub poll: Duration,
    /// How often the scheduler looks for a vulnerability database newer than the reports.
    pub scheduler_tick: Duration,
    /// The most a layer may expand to once decompressed.
    pub max_layer_tar_bytes: u64,
    /// Whether what a layer holds is kept and read back by digest (on unless a benchmark
    /// measures scans without it): off, every scan reads every layer.
    pub layer_cache: bool,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            workers: 2,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(2),
            scheduler_tick: Duration::from_secs(30),
            max_layer_tar_bytes: berth_scan::layer::MAX_LAYER_TAR_BYTES,
            layer_cache: true,
        }
    }
}

/// What a scan job carries: where to read the image from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Payload {
    registry_id: i64,
    repository: String,
    /// Who asked: a user's name, `push`, `vulndb` or a robot.
    requested_by: String,
}

/// What [`ScanService::cancel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// The scan was asked to stop.
    Asked,
    /// No scan of the digest is queued or running.
    NoneLive,
    /// The live scan was asked for from another repository holding the image.
    AskedElsewhere,
}

/// An image to scan: a manifest of a repository of a registry.
#[derive(Debug, Clone)]
pub struct ScanTarget {
    pub registry_id: i64,
    pub repository: String,
    pub digest: Digest,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Queues, runs and describes scans.
#[derive(Clone)]
pub struct ScanService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    blobs: Arc<dyn BlobStore>,
    sync: SyncService,
    settings: ScanSettings,
    /// Names this process's workers uniquely among every process on the database.
    process: String,
    /// Wakes idle workers when this process queues a job.
    wake: tokio::sync::Notify,
}

impl ScanService {
    pub fn new(
        store: Store,
        blobs: Arc<dyn BlobStore>,
        sync: SyncService,
        settings: ScanSettings,
    ) -> ScanService {
        ScanService {
            inner: Arc::new(Inner {
                store,
                blobs,
                sync,
                settings,
                process: uuid::Uuid::new_v4().simple().to_string(),
                wake: tokio::sync::Notify::new(),
            }),
        }
    }

    /// Queues a scan of `target`, or answers the one already queued, or the one running,
    /// which then runs again once it ends.
    pub async fn request(
        &self,
        target: &ScanTarget,
        requested_by: &str,
    ) -> Result<Enqueued, ScanError> {
        let payload = Payload {
            registry_id: target.registry_id,
            repository: target.repository.clone(),
            requested_by: requested_by.to_string(),
        };
        let payload = serde_json::to_string(&payload).expect("a payload serialises");
        let enqueued = self
            .inner
            .store
            .enqueue_job(
                JOB_KIND,
                &target.digest.to_string(),
                &payload,
                now_millis(),
                MAX_ATTEMPTS,
            )
            .await?;
        self.inner.wake.notify_one();
        Ok(enqueued)
    }

    /// Queues the scan a push asks for: a tagged image or index pushed to the hosted registry
    /// (by the registry protocol or an upload) is scanned as it arrives, unless its space has
    /// scan-on-push off. An index's images are pushed untagged before it and its scan covers
    /// them, and a push by digest alone is scanned on request. A failure to queue is logged,
    /// never the push's failure.
    pub async fn scan_push(&self, target: &ScanTarget, tagged: bool) {
        if !tagged {
            return;
        }
        let space = berth_oci::space_of(&target.repository);
        let wanted = self
            .inner
            .store
            .scans_on_push(target.registry_id, space)
            .await;
        let queued = match wanted {
            Ok(false) => return,
            Ok(true) => self.request(target, "push").await,
            Err(error) => Err(error.into()),
        };
        if let Err(error) = queued {
            tracing::warn!(%error, repository = %target.repository, digest = %target.digest, "cannot queue the scan of a push");
        }
    }

    /// Asks the queued or running scan of `target`'s digest to stop, when it was asked for
    /// from `target`'s repository: a scan queued from another repository holding the same
    /// image is its requesters' to stop.
    pub async fn cancel(&self, target: &ScanTarget) -> Result<Cancelled, ScanError> {
        let store = &self.inner.store;
        let Some(job) = store
            .latest_job(JOB_KIND, &target.digest.to_string())
            .await?
            .filter(|j| j.state.is_live())
        else {
            return Ok(Cancelled::NoneLive);
        };
        let from_here = serde_json::from_str::<Payload>(&job.payload).is_ok_and(|p| {
            p.registry_id == target.registry_id && p.repository == target.repository
        });
        if !from_here {
            return Ok(Cancelled::AskedElsewhere);
        }
        store.request_job_cancel(job.id).await?;
        Ok(Cancelled::Asked)
    }

    /// The scan state of each of `digests`: the live scan where one is queued or running,
    /// with the last report's figures, else the last report, else [`NOT_SCANNED`].
    pub async fn summaries(
        &self,
        digests: &[&str],
    ) -> Result<HashMap<String, ScanSummary>, ScanError> {
        let store = &self.inner.store;
        let reports: HashMap<String, _> = store
            .scan_summaries(digests)
            .await?
            .into_iter()
            .map(|r| (r.digest.clone(), r))
            .collect();
        let live: HashMap<String, Job> = store
            .live_jobs_about(JOB_KIND, digests)
            .await?
            .into_iter()
            .map(|j| (j.key.clone(), j))
            .collect();
        Ok(digests
            .iter()
            .map(|d| {
                let summary = summary(live.get(*d), reports.get(*d));
                (d.to_string(), summary)
            })
            .collect())
    }

    /// The scan state of `digest`.
    pub async fn summary(&self, digest: &str) -> Result<ScanSummary, ScanError> {
        let mut all = self.summaries(&[digest]).await?;
        Ok(all.remove(digest).unwrap_or_else(|| summary(None, None)))
    }

    /// Starts the workers and the scheduler on the current runtime.
    pub fn start(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        for n in 0..self.inner.settings.workers.max(1) {
            let service = self.clone();
            let worker = format!("{}/scan-{n}", self.inner.process);
            tasks.push(tokio::spawn(async move { service.work(worker).await }));
        }
        let service = self.clone();
        tasks.push(tokio::spawn(async move { service.schedule().await }));
        tasks
    }

    /// A worker: takes scan jobs one at a time, for ever.
    async fn work(&self, worker: String) {
        let settings = &self.inner.settings;
        let (store, wake) = (&self.inner.store, &self.inner.wake);
        work_on(
            store,
            &[JOB_KIND],
            &worker,
            settings.lease,
            settings.poll,
            wake,
            |job| self.run(job, &worker),
        )
        .await
    }

    /// The scheduler: when the vulnerability database changed since images were scanned,
    /// scans them again. Every process runs one; the one-live-job rule keeps them from
    /// queueing twice.
    async fn schedule(&self) {
        let mut tick = tokio::time::interval(self.inner.settings.scheduler_tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = self.rescan_outdated().await {
                tracing::warn!(%error, "cannot queue rescans after a database change");
            }
        }
    }

    /// Queues a scan of every image last scanned against an older vulnerability database, at
    /// the place it was last scanned from. Answers how many were queued.
    pub async fn rescan_outdated(&self) -> Result<usize, ScanError> {
        let store = &self.inner.store;
        let Some((import, imported_at)) = store.latest_vulndb_import().await? else {
            return Ok(0);
        };
        let mut queued = 0;
        for digest in store.scans_before_import(import).await? {
            let Some(last) = store.latest_job(JOB_KIND, &digest).await? else {
                continue;
            };
            // Once per import: a rescan that failed or was stopped since this import is not
            // queued again (and again) until the next.
            if last.state.is_live() || last.created_at >= imported_at {
                continue;
            }
            let Ok(mut payload) = serde_json::from_str::<Payload>(&last.payload) else {
                continue;
            };
            payload.requested_by = "vulndb".to_string();
            let payload = serde_json::to_string(&payload).expect("a payload serialises");
            let enqueued = store
                .enqueue_job(JOB_KIND, &digest, &payload, now_millis(), MAX_ATTEMPTS)
                .await?;
            queued += usize::from(enqueued.created);
        }
        if queued > 0 {
            tracing::info!(
                queued,
                "rescans queued after a vulnerability database change"
            );
            self.inner.wake.notify_waiters();
        }
        Ok(queued)
    }
}
