//! Syncing external registries into the catalog.
//!
//! **Architecture invariant:** this crate is the thin join between the registry clients
//! (`berth-remote`, which knows HTTP and the registry APIs but not the store) and the store
//! (`berth-store`, whose job queue knows nothing of syncs and whose catalog tables the hosted
//! registry fills too). It holds no HTTP handlers and no access rules: the REST API asks it to
//! queue, cancel and describe syncs after deciding who may.
//!
//! A sync is a job of kind [`JOB_KIND`] keyed by the registry's id, so at most one runs per
//! registry across every `berth serve` on the database; a worker that dies loses its lease and
//! another worker takes the job again. A failed run never empties a catalog: repositories are
//! removed only after a complete listing.

mod crawl;
/// Robot accounts Berth keeps in Harbor projects for the workspaces bound to them.
mod robots;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use berth_identity::secrets::SecretBox;
use berth_remote::{
    CheckReport, DistributionClient, Endpoint, HarborClient, RemoteError, RemoteRegistry,
};
use berth_store::external::{SyncRecord, SyncRun};
use berth_store::jobs::{work_on, Enqueued, Job, JobOutcome, LeaseKeeper};
use berth_store::registry_records::RegistryRecord;
use berth_store::upstream_robots::UpstreamRobot;
use berth_store::{now_millis, Store, StoreError};
use serde::{Deserialize, Serialize};

pub use berth_remote::Settings as RemoteSettings;

/// The job kind of a registry sync; the job's key is the registry's id.
pub const JOB_KIND: &str = "registry.sync";

pub use crawl::{slice_of, DEEP_CHECK_SLICES};
pub use robots::{keeps_robots, Reconciled, ROBOTS_JOB_KIND};

/// How many times a sync job is taken before it fails for good: a worker that died holding it
/// counts as a try.
const MAX_ATTEMPTS: i64 = 3;
/// How many times a robot reconciliation is tried before it fails for good: a Harbor that is
/// down is waited for, with backoff, for about an hour and a half.
const ROBOTS_MAX_ATTEMPTS: i64 = 10;

/// How syncs run.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Between scheduled syncs of a registry that sets no interval of its own.
    pub default_interval: Duration,
    /// Syncs running at once in this process.
    pub workers: usize,
    /// How long a worker holds a job without renewing it; a worker that died is replaced
    /// after this long.
    pub lease: Duration,
    /// How often the scheduler looks for registries due a sync.
    pub scheduler_tick: Duration,
    /// How long an idle worker waits before looking for queued jobs again (jobs queued by
    /// this process wake it at once).
    pub poll: Duration,
    /// Repositories examined at once within one sync.
    pub concurrency: usize,
    /// The registry clients' timeouts, retries and per-registry request limit.
    pub remote: RemoteSettings,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            default_interval: Duration::from_secs(600),
            workers: 2,
            lease: Duration::from_secs(60),
            scheduler_tick: Duration::from_secs(15),
            poll: Duration::from_secs(2),
            concurrency: 8,
            remote: RemoteSettings::default(),
        }
    }
}

/// A full sync rewrites every repository's listing; an incremental one skips repositories
/// whose tags and digests did not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Full,
    Incremental,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Incremental => "incremental",
        }
    }
}

/// What a sync job carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Payload {
    mode: Mode,
    /// Who asked: a user's name, `scheduler`, or `event`.
    requested_by: String,
    /// The repositories an event named; empty for a sync of the whole registry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    repositories: Vec<String>,
}

/// How far a running sync is, as its job's progress column holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub repositories_seen: u64,
    /// Known once the listing is complete.
    pub repositories_total: Option<u64>,
    pub manifests_fetched: u64,
}

/// The live counters behind [`Progress`], shared by a run's tasks.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub seen: AtomicU64,
    pub total: AtomicU64,
    pub listed: AtomicBool,
    pub manifests: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Progress {
        Progress {
            repositories_seen: self.seen.load(Ordering::Relaxed),
            repositories_total: self
                .listed
                .load(Ordering::Relaxed)
                .then(|| self.total.load(Ordering::Relaxed)),
            manifests_fetched: self.manifests.load(Ordering::Relaxed),
        }
    }
}

/// A registry's sync state.
#[derive(Debug, Clone)]
pub struct SyncStatus {
    /// The queued or running sync, else the latest one.
    pub job: Option<Job>,
    pub mode: Option<Mode>,
    /// The queued or running sync's progress.
    pub progress: Option<Progress>,
    pub record: Option<SyncRecord>,
    /// When the scheduler queues the next sync (milliseconds); `None` when none is scheduled.
    pub next_at: Option<i64>,
}

impl SyncStatus {
    /// Whether a sync is queued or running.
    pub fn is_live(&self) -> bool {
        self.job.as_ref().is_some_and(|j| j.state.is_live())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the hosted registry is Berth's own and is not synced")]
    Hosted,
    #[error("the stored password of registry `{0}` cannot be decrypted with this data dir's key")]
    Credentials(String),
    #[error("registry URL `{0}` is not a valid URL")]
    Url(String),
    #[error("{0}")]
    Remote(String),
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    pub(crate) fn remote(context: &str, error: &RemoteError) -> SyncError {
        let text = berth_remote::error_chain(error);
        if context.is_empty() {
            SyncError::Remote(text)
        } else {
            SyncError::Remote(format!("{context}: {text}"))
        }
    }
}

/// Queues, runs, schedules and describes registry syncs.
#[derive(Clone)]
pub struct SyncService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    secrets: Arc<SecretBox>,
    settings: SyncSettings,
    /// Names this process's workers uniquely among every process on the database.
    process: String,
    /// Wakes idle workers when this process queues a job.
    wake: tokio::sync::Notify,
}

impl SyncService {
    pub fn new(store: Store, secrets: Arc<SecretBox>, settings: SyncSettings) -> SyncService {
        SyncService {
            inner: Arc::new(Inner {
                store,
                secrets,
                settings,
                process: uuid::Uuid::new_v4().simple().to_string(),
                wake: tokio::sync::Notify::new(),
            }),
        }
    }

    pub fn settings(&self) -> &SyncSettings {
        &self.inner.settings
    }

    /// The client for `registry`, with its stored credentials.
    pub fn client(&self, registry: &RegistryRecord) -> Result<Arc<dyn RemoteRegistry>, SyncError> {
        Ok(self.connect(registry)?.remote())
    }

    /// The Harbor client of `registry`, or `None` for a registry of another kind (which is
    /// not connected to at all, so a bad URL there is no error here).
    pub(crate) fn harbor(
        &self,
        registry: &RegistryRecord,
    ) -> Result<Option<Arc<HarborClient>>, SyncError> {
        if registry.kind != "harbor" {
            return Ok(None);
        }
        Ok(match self.connect(registry)? {
            Client::Harbor(harbor) => Some(harbor),
            Client::Distribution(_) => None,
        })
    }

    /// The client for `registry` by kind: Harbor's has more to say than the distribution API
    /// (projects with their public flag, push times).
    pub(crate) fn connect(&self, registry: &RegistryRecord) -> Result<Client, SyncError> {
        if registry.is_hosted() {
            return Err(SyncError::Hosted);
        }
        let url =
            url::Url::parse(&registry.url).map_err(|_| SyncError::Url(registry.url.clone()))?;
        let mut endpoint = Endpoint::new(url).with_follow(follow_list(&registry.follow));
        endpoint.insecure = registry.insecure;
        if let Some(sealed) = &registry.secret {
            let password = self
                .inner
                .secrets
                .unseal(sealed)
                .map_err(|_| SyncError::Credentials(registry.name.clone()))?;
            endpoint = endpoint.with_credentials(&registry.username, &password);
        } else if !registry.username.is_empty() {
            endpoint.username = Some(registry.username.clone());
        }
        let settings = self.inner.settings.remote.clone();
        let connect_error = |e: RemoteError| SyncError::remote("", &e);
        Ok(if registry.kind == "harbor" {
            Client::Harbor(Arc::new(
                HarborClient::new(endpoint, settings).map_err(connect_error)?,
            ))
        } else {
            Client::Distribution(Arc::new(
                DistributionClient::new(endpoint, settings).map_err(connect_error)?,
            ))
        })
    }

    /// Reaches the registry with its credentials and checks that it can be listed as
    /// configured: the health check.
    pub async fn check(&self, registry: &RegistryRecord) -> Result<CheckReport, SyncError> {
        let client = self.client(registry)?;
        client.check().await.map_err(|e| SyncError::remote("", &e))
    }

    /// Queues a sync of `registry`, or answers the one already queued, or the one running, which
    /// then runs again once it ends (it may have listed the registry before the change that
    /// made the caller ask).
    pub async fn request(
        &self,
        registry: &RegistryRecord,
        mode: Mode,
        requested_by: &str,
    ) -> Result<Enqueued, SyncError> {
        if registry.is_hosted() {
            return Err(SyncError::Hosted);
        }
        let payload = Payload {
            mode,
            requested_by: requested_by.to_string(),
            repositories: Vec::new(),
        };
        self.enqueue(&registry.id.to_string(), &payload).await
    }

    /// Queues the job of `payload` under `key`, or answers the live one there, and wakes an
    /// idle worker of this process.
    async fn enqueue(&self, key: &str, payload: &Payload) -> Result<Enqueued, SyncError> {
        let payload = serde_json::to_string(payload).expect("a payload serialises");
        self.enqueue_job(JOB_KIND, key, &payload, MAX_ATTEMPTS)
            .await
    }

    /// Queues a job of `kind` this crate's workers run, due now, and wakes an idle worker of
    /// this process.
    async fn enqueue_job(
        &self,
        kind: &str,
        key: &str,
        payload: &str,
        max_attempts: i64,
    ) -> Result<Enqueued, SyncError> {
        let enqueued = self
            .inner
            .store
            .enqueue_job(kind, key, payload, now_millis(), max_attempts)
            .await?;
        self.inner.wake.notify_one();
        Ok(enqueued)
    }

    /// Queues a sync of each of `repositories` alone, as events about them ask. Each is a job
    /// of its own (keyed `<registry id>/<repository>`), so events about one repository
    /// coalesce while it waits, and a sync of the whole registry does not swallow them. An
    /// event about a repository whose sync runs makes it sync again once it ends. The answer
    /// is how many syncs were queued or asked to run again.
    pub async fn request_repositories(
        &self,
        registry: &RegistryRecord,
        repositories: &[String],
    ) -> Result<usize, SyncError> {
        if registry.is_hosted() {
            return Err(SyncError::Hosted);
        }
        let mut queued = 0;
        for repository in repositories {
            let payload = Payload {
                mode: Mode::Incremental,
                requested_by: "event".to_string(),
                repositories: vec![repository.clone()],
            };
            let key = format!("{}/{repository}", registry.id);
            let enqueued = self.enqueue(&key, &payload).await?;
            queued += usize::from(enqueued.created || enqueued.rerun);
        }
        Ok(queued)
    }

    /// Asks the queued or running sync of `registry` to stop; `None` when none is live.
    pub async fn cancel(&self, registry: &RegistryRecord) -> Result<Option<Job>, SyncError> {
        let Some(job) = self
            .inner
            .store
            .latest_job(JOB_KIND, &registry.id.to_string())
            .await?
            .filter(|j| j.state.is_live())
        else {
            return Ok(None);
        };
        Ok(self.inner.store.request_job_cancel(job.id).await?)
    }

    /// Queues a reconciliation of the robots Berth keeps in `registry` with its bindings, when
    /// it keeps any ([`keeps_robots`]); callers ask after every change that may change which
    /// workspaces are bound to its spaces (bindings, a deleted space or workspace).
    pub async fn request_robots(&self, registry: &RegistryRecord) -> Result<(), SyncError> {
        if keeps_robots(registry) {
            let key = registry.id.to_string();
            self.enqueue_job(ROBOTS_JOB_KIND, &key, "{}", ROBOTS_MAX_ATTEMPTS)
                .await?;
        }
        Ok(())
    }

    /// [`request_robots`](Self::request_robots) for every registry that keeps robots, after a
    /// change that may touch the bindings of any (a workspace deleted).
    pub async fn request_all_robots(&self) -> Result<(), SyncError> {
        for registry in self.inner.store.external_registries().await? {
            self.request_robots(&registry).await?;
        }
        Ok(())
    }

    /// Makes space `name` exist in `registry` before Berth records it, where the registry has
    /// spaces of its own: a Harbor project, `public` or not, which an existing project of
    /// that name satisfies (Berth then adopts it). Registries whose spaces are only the first
    /// component of repository names need nothing.
    pub async fn create_upstream_space(
        &self,
        registry: &RegistryRecord,
        name: &str,
        public: bool,
    ) -> Result<(), SyncError> {
        let Some(harbor) = self.harbor(registry)? else {
            return Ok(());
        };
        let visibility = if public {
            berth_remote::harbor::Visibility::Public
        } else {
            berth_remote::harbor::Visibility::Private
        };
        match harbor.create_project(name, visibility).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(409) => Ok(()),
            Err(e) => Err(SyncError::remote(&format!("creating project {name}"), &e)),
        }
    }

    /// The secret of a robot Berth keeps upstream, to hand to those the access rule lets hold
    /// the workspace's credentials.
    pub fn robot_secret(&self, robot: &UpstreamRobot) -> Result<String, SyncError> {
        self.inner
            .secrets
            .unseal(&robot.secret)
            .map_err(|_| SyncError::Credentials(robot.username.clone()))
    }

    /// Seals a secret Berth keeps, as registry passwords are sealed.
    pub(crate) fn seal(&self, secret: &str) -> Vec<u8> {
        self.inner.secrets.seal(secret)
    }

    /// `registry`'s sync state.
    pub async fn status(&self, registry: &RegistryRecord) -> Result<SyncStatus, SyncError> {
        if registry.is_hosted() {
            return Err(SyncError::Hosted);
        }
        let store = &self.inner.store;
        let job = store.latest_job(JOB_KIND, &registry.id.to_string()).await?;
        let record = store.sync_record(registry.id).await?;
        let live = job.as_ref().filter(|j| j.state.is_live());
        let mode = job
            .as_ref()
            .and_then(|j| serde_json::from_str::<Payload>(&j.payload).ok())
            .map(|p| p.mode);
        let progress = live.map(|j| serde_json::from_str(&j.progress).unwrap_or_default());
        let next_at = self.interval(registry).map(|interval| {
            let last = record.as_ref().and_then(|r| r.last_started_at);
            last.map_or_else(now_millis, |t| t + interval.as_millis() as i64)
        });
        Ok(SyncStatus {
            job,
            mode,
            progress,
            record,
            next_at,
        })
    }

    /// The time between `registry`'s scheduled syncs; `None` when it has none.
    pub fn interval(&self, registry: &RegistryRecord) -> Option<Duration> {
        match registry.sync_interval_seconds {
            Some(0) => None,
            Some(seconds) => Some(Duration::from_secs(seconds.max(1) as u64)),
            None => Some(self.inner.settings.default_interval),
        }
    }

    /// Starts the workers and the scheduler on the current runtime.
    pub fn start(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        for n in 0..self.inner.settings.workers.max(1) {
            let service = self.clone();
            let worker = format!("{}/{n}", self.inner.process);
            tasks.push(tokio::spawn(async move { service.work(worker).await }));
        }
        let service = self.clone();
        tasks.push(tokio::spawn(async move { service.schedule().await }));
        tasks
    }

    /// A worker: takes sync and robot jobs one at a time, for ever.
    async fn work(&self, worker: String) {
        let settings = &self.inner.settings;
        let kinds = [JOB_KIND, ROBOTS_JOB_KIND];
        let (store, wake) = (&self.inner.store, &self.inner.wake);
        work_on(
            store,
            &kinds,
            &worker,
            settings.lease,
            settings.poll,
            wake,
            |job| async {
                if job.kind == ROBOTS_JOB_KIND {
                    self.run_robots(job, &worker).await
                } else {
                    self.run(job, &worker).await
                }
            },
        )
        .await
    }

    /// The registry a job of this crate is about: its key is the registry's id, or for a
    /// repository's sync `<registry id>/<repository>`. `None` when the registry is gone.
    async fn registry_of_job(&self, job: &Job) -> Result<Option<RegistryRecord>, StoreError> {
        let id = job.key.split('/').next().unwrap_or_default();
        match id.parse::<i64>() {
            Ok(id) => self.inner.store.registry_by_id(id).await,
            Err(_) => Ok(None),
        }
    }

    /// Runs one claimed robot reconciliation; a failure (Harbor down) is tried again later,
    /// waiting longer each time.
    async fn run_robots(&self, job: Job, worker: &str) {
        let store = &self.inner.store;
        let registry = match self.registry_of_job(&job).await {
            Ok(Some(registry)) => registry,
            // With the registry gone its robots cannot be reached, and its rows went with it.
            Ok(None) => return finish(store, &job, worker, JobOutcome::Succeeded).await,
            Err(error) => {
                tracing::warn!(%error, job = job.id, "cannot read the registry of a robot job");
                return;
            }
        };
        let holder = robots::Holder {
            job: job.id,
            worker,
            lease: self.inner.settings.lease,
        };
        match robots::reconcile(self, &registry, &holder).await {
            Ok(done) => {
                if done != Reconciled::default() {
                    tracing::info!(registry = %registry.name, created = done.created, deleted = done.deleted, "robots reconciled");
                }
                finish(store, &job, worker, JobOutcome::Succeeded).await;
            }
            // Another worker holds the job now and reports its own outcome.
            Err(SyncError::Cancelled) => {}
            Err(error) => {
                let wait = Duration::from_secs(15 * (job.attempts.max(1) as u64).pow(2))
                    .min(Duration::from_secs(600));
                tracing::warn!(registry = %registry.name, %error, retry_in_s = wait.as_secs(), "cannot reconcile robots");
                let run_after = now_millis() + wait.as_millis() as i64;
                if let Err(error) = store
                    .retry_job_later(job.id, worker, run_after, &error.to_string())
                    .await
                {
                    tracing::warn!(%error, job = job.id, "cannot requeue a robot job");
                }
            }
        }
    }

    /// Runs one claimed sync job to its end, renewing its lease as it goes.
    async fn run(&self, job: Job, worker: &str) {
        let store = &self.inner.store;
        let payload: Payload = match serde_json::from_str(&job.payload) {
            Ok(payload) => payload,
            Err(error) => {
                let reason = format!("the job's payload is not a sync request: {error}");
                finish(store, &job, worker, JobOutcome::Failed(reason)).await;
                return;
            }
        };
        let registry = match self.registry_of_job(&job).await {
            Ok(Some(registry)) => registry,
            Ok(None) => {
                let reason = "the registry no longer exists".to_string();
                finish(store, &job, worker, JobOutcome::Failed(reason)).await;
                return;
            }
            Err(error) => {
                tracing::warn!(%error, job = job.id, "cannot read the registry of a sync job");
                return;
            }
        };
        let counters = Arc::new(Counters::default());
        let keeper = {
            let counters = counters.clone();
            LeaseKeeper::start(
                store,
                job.id,
                worker,
                self.inner.settings.lease,
                move || progress_json(&counters),
            )
        };
        let started_at = now_millis();
        // An event's sync of named repositories is not the registry's sync: the registry's
        // record stays the last full or incremental run's.
        let whole_registry = payload.repositories.is_empty();
        let started = if whole_registry {
            tracing::info!(registry = %registry.name, mode = payload.mode.as_str(), "sync started");
            store
                .record_sync_start(registry.id, payload.mode.as_str(), started_at)
                .await
                .map_err(SyncError::from)
        } else {
            Ok(())
        };
        let result = match started {
            Ok(()) => {
                let crawl = async {
                    if whole_registry {
                        crawl::run(self, &registry, payload.mode, counters.clone()).await
                    } else {
                        let names = &payload.repositories;
                        crawl::run_repositories(self, &registry, names, counters.clone()).await
                    }
                };
                tokio::select! {
                    result = crawl => result,
                    _ = keeper.stopped() => Err(SyncError::Cancelled),
                }
            }
            Err(error) => Err(error),
        };
        let lost = keeper.lost();
        drop(keeper);
        if lost {
            tracing::warn!(registry = %registry.name, "sync lease lost; another worker holds it");
            return;
        }
        let finished_at = now_millis();
        if whole_registry {
            let reason = result.as_ref().err().map(ToString::to_string);
            let run = SyncRun {
                registry_id: registry.id,
                mode: payload.mode.as_str(),
                started_at,
                finished_at,
                outcome: match &result {
                    Ok(counts) => Ok(*counts),
                    Err(_) => Err(reason.as_deref().unwrap_or_default()),
                },
            };
            if let Err(error) = store.record_sync_outcome(&run).await {
                tracing::warn!(%error, registry = %registry.name, "cannot record a sync's outcome");
            }
        }
        let outcome = match result {
            Ok(counts) => {
                tracing::info!(
                    registry = %registry.name,
                    repositories = ?payload.repositories,
                    synced = counts.repositories,
                    tags = counts.tags,
                    manifests_fetched = counts.manifests_fetched,
                    elapsed_ms = finished_at - started_at,
                    "sync succeeded"
                );
                JobOutcome::Succeeded
            }
            Err(SyncError::Cancelled) => JobOutcome::Cancelled,
            Err(error) => {
                tracing::warn!(registry = %registry.name, repositories = ?payload.repositories, %error, "sync failed");
                JobOutcome::Failed(error.to_string())
            }
        };
        // The last progress stays on the finished job, for the status of the latest sync.
        let _ = store
            .renew_job(
                job.id,
                worker,
                self.inner.settings.lease,
                Some(&progress_json(&counters)),
            )
            .await;
        finish(store, &job, worker, outcome).await;
    }

    /// The scheduler: queues a sync of each external registry whose interval has passed
    /// since its last sync started. Every process runs one; the job queue's one-live-job rule
    /// keeps them from queueing twice.
    async fn schedule(&self) {
        let mut tick = tokio::time::interval(self.inner.settings.scheduler_tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = self.queue_due().await {
                tracing::warn!(%error, "cannot schedule registry syncs");
            }
        }
    }

    /// Queues the syncs that are due now.
    pub async fn queue_due(&self) -> Result<usize, SyncError> {
        let store = &self.inner.store;
        let now = now_millis();
        let mut queued = 0;
        for registry in store.external_registries().await? {
            let Some(interval) = self.interval(&registry) else {
                continue;
            };
            let record = store.sync_record(registry.id).await?;
            let last = record.as_ref().and_then(|r| r.last_started_at);
            if last.is_some_and(|t| now - t < interval.as_millis() as i64) {
                continue;
            }
            // A registry never fully synced gets a full sync; after that, incremental ones.
            let mode = match record.and_then(|r| r.last_full_succeeded_at) {
                Some(_) => Mode::Incremental,
                None => Mode::Full,
            };
            if self.request(&registry, mode, "scheduler").await?.created {
                queued += 1;
            }
        }
        Ok(queued)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }
}

/// A registry's client by kind.
#[derive(Clone)]
pub(crate) enum Client {
    /// Kinds `distribution` and `oci`.
    Distribution(Arc<DistributionClient>),
    Harbor(Arc<HarborClient>),
}

impl Client {
    pub(crate) fn remote(&self) -> Arc<dyn RemoteRegistry> {
        match self {
            Client::Distribution(client) => client.clone(),
            Client::Harbor(client) => client.clone(),
        }
    }
}

/// The follow list as stored (one entry per line) as the client takes it.
pub fn follow_list(stored: &str) -> Vec<String> {
    stored
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn progress_json(counters: &Counters) -> String {
    serde_json::to_string(&counters.snapshot()).expect("progress serialises")
}

async fn finish(store: &Store, job: &Job, worker: &str, outcome: JobOutcome) {
    match store.finish_job(job.id, worker, outcome).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(job = job.id, "a sync job was taken over before it finished"),
        Err(error) => tracing::warn!(%error, job = job.id, "cannot finish a sync job"),
    }
}
