//! One sync run: list the registry, examine each repository, write what changed in batches,
//! then remove what is gone.
//!
//! Requests are spent where something may have changed: a tag the catalog already has is
//! asked with `HEAD` (its digest alone), and a manifest or config is fetched only when neither
//! this run nor the manifest cache has its digest. An incremental run of a registry whose
//! events reach Berth asks nothing about most repositories it has (see [`trusted_slice`]).
//! Repositories are examined several at once (the client limits requests per registry) in a
//! task of their own, while the writes go one batch at a time beside them, so the store's
//! single SQLite writer is never contended by the sync itself and the requests never wait
//! for a write.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use berth_oci::{ImageConfig, Manifest, ManifestKind};
use berth_remote::{RemoteError, RemoteRegistry};
use berth_store::artifact_facts::ArtifactFacts;
use berth_store::audit::NewAuditEvent;
use berth_store::external::{CachedManifest, StoredTag, SyncCounts, UpstreamSpace};
use berth_store::hosted::{ChildRecord, Platform};
use berth_store::registry_records::RegistryRecord;
use berth_store::repositories::{SyncedRepository, SyncedTag};
use berth_store::{now_millis, Store};
use futures::{StreamExt, TryStreamExt};
use tokio_util::task::AbortOnDropHandle;

use crate::{Client, Counters, Mode, SyncError, SyncService};

/// Image configs larger than this are not read: real ones are kilobytes.
const MAX_CONFIG_BYTES: u64 = 4 << 20;
/// A batch is written once it holds this many tags or repositories.
const BATCH_TAGS: usize = 2000;
const BATCH_REPOSITORIES: usize = 200;
/// Tags of one repository resolved at once.
const TAGS_AT_ONCE: usize = 4;
/// An incremental run of a registry whose events reach Berth re-examines one slice in this
/// many of the repositories it trusts; see [`trusted_slice`].
pub const DEEP_CHECK_SLICES: u64 = 128;

/// The catalog as the last sync stored it.
type StoredCatalog = HashMap<String, HashMap<String, StoredTag>>;

/// What examining one repository found.
enum Examined {
    /// Gone upstream between the listing and its tags.
    Gone,
    /// Same tags and digests as stored, in an incremental sync.
    Unchanged { tags: usize },
    Changed {
        repository: SyncedRepository,
        /// Manifests fetched for it that the cache lacks.
        fetched: Vec<CachedManifest>,
    },
}

/// What one run shares with the tasks examining repositories.
struct Run {
    store: Store,
    registry_id: i64,
    client: Arc<dyn RemoteRegistry>,
    /// Set for Harbor, which tells push times.
    harbor: Option<Arc<berth_remote::HarborClient>>,
    /// Whether the platform admin integrated the registry. Only such a registry's own scans
    /// are copied: reports are shared by digest with every workspace holding the image, and
    /// a workspace's own registry could claim any digest clean.
    platform: bool,
    mode: Mode,
    stored: StoredCatalog,
    counters: Arc<Counters>,
    /// The time new tags are first seen, as their push time where the registry tells none.
    now: i64,
    /// Image configs fetched in this run, by digest: repositories built from one image share
    /// its config, which would otherwise be fetched once per repository.
    configs: std::sync::Mutex<HashMap<String, Vec<u8>>>,
}

impl Run {
    /// A run of `registry` compared with its stored catalog (of the repositories in `only`,
    /// when given).
    async fn start(
        store: &Store,
        registry: &RegistryRecord,
        client: &Client,
        mode: Mode,
        counters: Arc<Counters>,
        only: Option<&[String]>,
    ) -> Result<Run, SyncError> {
        Ok(Run {
            stored: store.stored_catalog(registry.id, only).await?,
            store: store.clone(),
            registry_id: registry.id,
            client: client.remote(),
            harbor: harbor_of(client),
            platform: registry.workspace_id.is_none(),
            mode,
            counters,
            now: now_millis(),
            configs: Default::default(),
        })
    }
}

pub(crate) async fn run(
    service: &SyncService,
    registry: &RegistryRecord,
    mode: Mode,
    counters: Arc<Counters>,
) -> Result<SyncCounts, SyncError> {
    let store = service.store().clone();
    let connected = service.connect(registry)?;
    let client = connected.remote();
    let names = client
        .repositories()
        .await
        .map_err(|e| SyncError::remote("listing the repositories", &e))?;
    counters.total.store(names.len() as u64, Ordering::Relaxed);
    counters.listed.store(true, Ordering::Relaxed);
    sync_spaces(&store, registry, &connected, &names).await?;
    let run =
        Arc::new(Run::start(&store, registry, &connected, mode, counters.clone(), None).await?);

    let mut listed: HashSet<String> = HashSet::new();
    let mut counts = SyncCounts::default();
    let (examined_names, trusted) = match trusted_slice(&store, registry, mode).await? {
        Some(slice) => names
            .into_iter()
            .partition(|name| !run.stored.contains_key(name) || slice_of(name) == slice),
        None => (names, Vec::new()),
    };
    for name in trusted {
        counts.tags += run.stored[&name].len() as i64;
        counters.seen.fetch_add(1, Ordering::Relaxed);
        listed.insert(name);
    }

    // Repositories are examined in a task of their own, so that the requests go on while a
    // batch is written; the channel holds what waits for the writer.
    let (found_sender, mut found) = tokio::sync::mpsc::channel(BATCH_REPOSITORIES);
    let concurrency = service.settings().concurrency.max(1);
    let examiner = AbortOnDropHandle::new(tokio::spawn({
        let run = run.clone();
        async move {
            let mut examined = futures::stream::iter(examined_names)
                .map(|name| {
                    let run = run.clone();
                    async move {
                        let found = examine(&run, &name).await;
                        (name, found)
                    }
                })
                .buffer_unordered(concurrency);
            while let Some(found) = examined.next().await {
                if found_sender.send(found).await.is_err() {
                    return;
                }
            }
        }
    }));

    let mut batch = Batch::default();
    while let Some((name, found)) = found.recv().await {
        let found = found?;
        counters.seen.fetch_add(1, Ordering::Relaxed);
        match found {
            Examined::Gone => {}
            Examined::Unchanged { tags } => {
                counts.tags += tags as i64;
                listed.insert(name);
            }
            Examined::Changed {
                repository,
                fetched,
            } => {
                counts.tags += repository.tags.len() as i64;
                listed.insert(name);
                batch.tags += repository.tags.len();
                batch.repositories.push(repository);
                batch.fetched.extend(fetched);
                if batch.tags >= BATCH_TAGS || batch.repositories.len() >= BATCH_REPOSITORIES {
                    batch.write(&store, registry.id).await?;
                }
            }
        }
    }
    // The channel closes when the examiner ends; a panic there must not pass for a listing.
    examiner
        .await
        .map_err(|e| SyncError::Remote(format!("examining the repositories stopped: {e}")))?;
    batch.write(&store, registry.id).await?;
    // Only now is the listing known complete: what it lacks is gone upstream.
    store
        .remove_synced_repositories(registry.id, &listed)
        .await?;
    counts.repositories = listed.len() as i64;
    counts.manifests_fetched = counters.manifests.load(Ordering::Relaxed) as i64;
    Ok(counts)
}

/// Which slice of the stored repositories an incremental run re-examines, when the registry
/// sends Berth its events (it has an event secret): the events keep every other repository
/// current, so the run lists the catalog, examines the repositories new to it and this slice,
/// and trusts the rest. The slice moves on with every successful run, so each repository is
/// examined at least once every [`DEEP_CHECK_SLICES`] runs, and an event the registry lost
/// (it restarted with events still queued, say) is made up for within a day at the default
/// interval. `None`: the run examines every repository.
async fn trusted_slice(
    store: &Store,
    registry: &RegistryRecord,
    mode: Mode,
) -> Result<Option<u64>, SyncError> {
    if mode != Mode::Incremental || registry.event_secret_sha256.is_none() {
        return Ok(None);
    }
    let runs = store
        .sync_record(registry.id)
        .await?
        .map_or(0, |record| record.succeeded_runs);
    Ok(Some(runs.unsigned_abs() % DEEP_CHECK_SLICES))
}

/// The slice a repository falls in, the same in every process and release: FNV-1a of its
/// name, which spreads names that differ in one character. An incremental run re-examines
/// the trusted repositories of slice `succeeded runs % DEEP_CHECK_SLICES`.
pub fn slice_of(name: &str) -> u64 {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    hash % DEEP_CHECK_SLICES
}

/// Syncs the repositories an event named, and only those: each is examined as an incremental
/// sync would, and one the registry no longer has is removed.
pub(crate) async fn run_repositories(
    service: &SyncService,
    registry: &RegistryRecord,
    names: &[String],
    counters: Arc<Counters>,
) -> Result<SyncCounts, SyncError> {
    let store = service.store().clone();
    let connected = service.connect(registry)?;
    let run = Run::start(
        &store,
        registry,
        &connected,
        Mode::Incremental,
        counters,
        Some(names),
    )
    .await?;
    sync_spaces(&store, registry, &connected, names).await?;
    let mut counts = SyncCounts::default();
    let mut batch = Batch::default();
    for name in names {
        match examine(&run, name).await? {
            Examined::Gone => {
                store.remove_synced_repository(registry.id, name).await?;
            }
            Examined::Unchanged { tags } => {
                counts.repositories += 1;
                counts.tags += tags as i64;
            }
            Examined::Changed {
                repository,
                fetched,
            } => {
                counts.repositories += 1;
                counts.tags += repository.tags.len() as i64;
                batch.repositories.push(repository);
                batch.fetched.extend(fetched);
            }
        }
    }
    batch.write(&store, registry.id).await?;
    counts.manifests_fetched = run.counters.manifests.load(Ordering::Relaxed) as i64;
    Ok(counts)
}

fn harbor_of(client: &Client) -> Option<Arc<berth_remote::HarborClient>> {
    match client {
        Client::Harbor(harbor) => Some(harbor.clone()),
        Client::Distribution(_) => None,
    }
}

/// Creates the spaces `names` fall in that the registry lacks in Berth, audited as the sync's.
/// Harbor's projects are its spaces, empty ones too, with Harbor's public flag; elsewhere a
/// space is the first path component of repository names, new ones private.
async fn sync_spaces(
    store: &Store,
    registry: &RegistryRecord,
    client: &Client,
    names: &[String],
) -> Result<(), SyncError> {
    let spaces: Vec<UpstreamSpace> = match client {
        Client::Harbor(harbor) => harbor
            .projects()
            .await
            .map_err(|e| SyncError::remote("listing the projects", &e))?
            .into_iter()
            .map(|project| UpstreamSpace {
                name: project.name,
                public: Some(project.public),
            })
            .collect(),
        Client::Distribution(_) => names
            .iter()
            .map(|n| berth_oci::space_of(n))
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .map(|name| UpstreamSpace {
                name: name.to_string(),
                public: None,
            })
            .collect(),
    };
    let source = format!("sync of registry {}", registry.name);
    store
        .sync_spaces(
            registry.id,
            &spaces,
            &NewAuditEvent {
                at: None,
                actor: "sync",
                action: "space.create",
                target: "",
                workspace: registry.workspace.as_deref(),
                source: Some(&source),
                detail: None,
            },
        )
        .await?;
    Ok(())
}

/// Listings and cache rows waiting to be written.
#[derive(Default)]
struct Batch {
    repositories: Vec<SyncedRepository>,
    fetched: Vec<CachedManifest>,
    tags: usize,
}

impl Batch {
    async fn write(&mut self, store: &Store, registry_id: i64) -> Result<(), SyncError> {
        // The cache first: a listing that refers to a digest implies its manifest is cached.
        store.cache_manifests(registry_id, &self.fetched).await?;
        store
            .sync_repositories(registry_id, &self.repositories)
            .await?;
        *self = Batch::default();
        Ok(())
    }
}

/// A tag resolved to its digest, with the manifest when resolving fetched it.
struct Resolved {
    tag: String,
    digest: String,
    fetched: Option<CachedManifest>,
}

async fn examine(run: &Run, name: &str) -> Result<Examined, SyncError> {
    let client = &run.client;
    let tags = match client.tags(name).await {
        Ok(tags) => tags,
        Err(RemoteError::NotFound { .. }) => return Ok(Examined::Gone),
        Err(e) => return Err(SyncError::remote(&format!("repository {name}"), &e)),
    };
    let previous = run.stored.get(name);
    let resolved: Vec<Option<Resolved>> = futures::stream::iter(tags)
        .map(|tag| resolve(run, name, previous, tag))
        .buffered(TAGS_AT_ONCE)
        .try_collect()
        .await?;
    let resolved: Vec<Resolved> = resolved.into_iter().flatten().collect();
    if run.mode == Mode::Incremental {
        if let Some(previous) = previous {
            let same = previous.len() == resolved.len()
                && resolved
                    .iter()
                    .all(|r| previous.get(&r.tag).is_some_and(|p| p.digest == r.digest));
            if same {
                return Ok(Examined::Unchanged {
                    tags: resolved.len(),
                });
            }
        }
    }
    let mut manifests = Manifests::new(run, name);
    for r in &resolved {
        if let Some(fetched) = &r.fetched {
            manifests
                .known
                .insert(fetched.digest.clone(), fetched.clone());
        }
    }
    let digests: Vec<String> = resolved.iter().map(|r| r.digest.clone()).collect();
    manifests.load_cached(&digests).await?;

    let push_times = push_times(run, name).await?;
    let mut facts_of: HashMap<String, TagFacts> = HashMap::new();
    let mut tags = Vec::with_capacity(resolved.len());
    for r in resolved {
        if !facts_of.contains_key(&r.digest) {
            let facts = manifests.facts(&r.digest).await?;
            facts_of.insert(r.digest.clone(), facts);
        }
        let facts = &facts_of[&r.digest];
        // A tag that still names what it named keeps the time it was first seen.
        let kept = previous
            .and_then(|p| p.get(&r.tag))
            .filter(|p| p.digest == r.digest);
        let told = push_times.get(&r.digest).copied();
        tags.push(SyncedTag {
            name: r.tag,
            digest: r.digest,
            media_type: facts.cached.media_type.clone(),
            manifest: facts.cached.manifest.clone(),
            size: facts.size,
            pushed_at: told.unwrap_or_else(|| kept.map_or(run.now, |p| p.pushed_at)),
            pushed_at_known: told.is_some(),
            platform: facts.platform.clone(),
            children: facts.children.clone(),
            facts: facts.facts.clone(),
        });
    }
    Ok(Examined::Changed {
        repository: SyncedRepository {
            name: name.to_string(),
            description: String::new(),
            tags,
        },
        fetched: manifests.fetched,
    })
}

/// When each artifact of repository `name` was pushed, by digest (milliseconds), as Harbor
/// tells it; empty for registries that do not. Harbor's scan overviews of the artifacts are
/// kept too, as reports of Harbor's scanner where Berth has not scanned the digest itself.
async fn push_times(run: &Run, name: &str) -> Result<HashMap<String, i64>, SyncError> {
    let Some(harbor) = &run.harbor else {
        return Ok(HashMap::new());
    };
    // Harbor names a repository inside its project: `project/a/b` is `a/b` in `project`.
    let Some((project, repository)) = name.split_once('/') else {
        return Ok(HashMap::new());
    };
    let artifacts = harbor
        .artifacts(project, repository)
        .await
        .map_err(|e| SyncError::remote(&format!("repository {name}: its artifacts"), &e))?;
    for artifact in artifacts
        .iter()
        .filter(|a| run.platform && !a.tags.is_empty())
    {
        let summaries = artifact.scan_overview.values();
        if let Some(report) = summaries.filter_map(|s| harbor_report(artifact, s)).next() {
            run.store.put_external_scan_report(&report).await?;
        }
    }
    Ok(artifacts
        .into_iter()
        .filter_map(|a| {
            let at = a.push_time?;
            let millis = (at.unix_timestamp_nanos() / 1_000_000) as i64;
            Some((a.digest.to_string(), millis))
        })
        .collect())
}

/// A finished Harbor scan of `artifact` as a report of Harbor's scanner: the counts and the
/// highest severity, no list of vulnerabilities (the overview has none). `None` while Harbor's
/// scan is pending or running.
fn harbor_report(
    artifact: &berth_remote::harbor::Artifact,
    summary: &berth_remote::harbor::ScanSummary,
) -> Option<berth_store::scans::ScanReportRecord> {
    use berth_remote::harbor::Severity;
    let status = match summary.scan_status.as_deref()? {
        "Success" => "success",
        "Error" => "failed",
        _ => return None,
    };
    use berth_scan::severity::Severity as Level;
    let mut counts = berth_api_types::SeverityCounts::default();
    let mut highest: Option<Level> = None;
    for (word, &n) in summary.summary.iter().flat_map(|s| s.by_severity.iter()) {
        // Harbor's words in Berth's levels: negligible counts as none.
        let (level, slot) = match Severity::parse(word) {
            Severity::Critical => (Level::Critical, &mut counts.critical),
            Severity::High => (Level::High, &mut counts.high),
            Severity::Medium => (Level::Medium, &mut counts.medium),
            Severity::Low => (Level::Low, &mut counts.low),
            Severity::Negligible | Severity::None => (Level::None, &mut counts.none),
            Severity::Unknown | Severity::Other(_) => (Level::Unknown, &mut counts.unknown),
        };
        *slot += n as i64;
        if n > 0 {
            highest = highest.max(Some(level));
        }
    }
    let finished_at = summary
        .end_time
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or_else(berth_store::now_millis);
    let started_at = summary
        .start_time
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(finished_at);
    let scanner = summary.scanner.clone().unwrap_or_default();
    let name = scanner
        .name
        .unwrap_or_else(|| "Harbor's scanner".to_string());
    let version = scanner.version.unwrap_or_default();
    let line = format!(
        "reported by Harbor's scanner {name} {version}; Berth has not scanned {} itself",
        artifact.digest
    );
    Some(berth_store::scans::ScanReportRecord {
        digest: artifact.digest.to_string(),
        status: status.to_string(),
        reason: (status == "failed").then(|| "Harbor's scan failed".to_string()),
        source: "harbor".to_string(),
        scanner_name: name,
        scanner_version: version,
        vulndb_import_id: None,
        db_updated_at: None,
        started_at,
        finished_at,
        severity: highest.map(|level| level.as_str().to_string()),
        severity_rank: highest.map(|level| i64::from(level.rank())),
        counts: serde_json::to_string(&counts).expect("counts serialise"),
        fixable: summary.summary.as_ref().map_or(0, |s| s.fixable as i64),
        total: summary.summary.as_ref().map_or(0, |s| s.total as i64),
        vulnerabilities: "[]".to_string(),
        packages: "[]".to_string(),
        log: serde_json::json!([{"level": "info", "message": line}]).to_string(),
    })
}

/// Finds what `tag` names: a `HEAD` for a tag the catalog has (usually unchanged), a `GET` for
/// a new one, whose manifest is needed anyway. `None` when the tag vanished meanwhile.
async fn resolve(
    run: &Run,
    name: &str,
    previous: Option<&HashMap<String, StoredTag>>,
    tag: String,
) -> Result<Option<Resolved>, SyncError> {
    let context = || format!("{name}:{tag}");
    if previous.is_some_and(|p| p.contains_key(&tag)) {
        return match run.client.manifest_digest(name, &tag).await {
            Ok(Some(descriptor)) => Ok(Some(Resolved {
                digest: descriptor.digest.to_string(),
                tag,
                fetched: None,
            })),
            Ok(None) | Err(RemoteError::NotFound { .. }) => Ok(None),
            Err(e) => Err(SyncError::remote(&context(), &e)),
        };
    }
    match run.client.manifest(name, &tag).await {
        Ok(fetched) => {
            run.counters.manifests.fetch_add(1, Ordering::Relaxed);
            Ok(Some(Resolved {
                digest: fetched.digest.to_string(),
                tag,
                fetched: Some(CachedManifest {
                    digest: fetched.digest.to_string(),
                    media_type: fetched.media_type,
                    manifest: fetched.bytes.to_vec(),
                    config: None,
                }),
            }))
        }
        Err(RemoteError::NotFound { .. }) => Ok(None),
        Err(e) => Err(SyncError::remote(&context(), &e)),
    }
}

/// What the catalog records for one digest.
struct TagFacts {
    cached: CachedManifest,
    size: i64,
    platform: Platform,
    children: Vec<ChildRecord>,
    facts: ArtifactFacts,
}

/// The manifests of one repository's examination: from this run, the cache, or the registry.
struct Manifests<'a> {
    run: &'a Run,
    repository: &'a str,
    known: HashMap<String, CachedManifest>,
    /// Fetched here and not cached yet (configs added to fetched manifests included).
    fetched: Vec<CachedManifest>,
}

impl<'a> Manifests<'a> {
    fn new(run: &'a Run, repository: &'a str) -> Manifests<'a> {
        Manifests {
            run,
            repository,
            known: HashMap::new(),
            fetched: Vec::new(),
        }
    }

    async fn load_cached(&mut self, digests: &[String]) -> Result<(), SyncError> {
        let missing: Vec<String> = digests
            .iter()
            .filter(|d| !self.known.contains_key(*d))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        for cached in self
            .run
            .store
            .cached_manifests(self.run.registry_id, &missing)
            .await?
        {
            self.known.insert(cached.digest.clone(), cached);
        }
        Ok(())
    }

    /// The manifest of `digest`, fetched when neither this run nor the cache has it.
    async fn manifest(&mut self, digest: &str) -> Result<CachedManifest, SyncError> {
        if let Some(known) = self.known.get(digest) {
            return Ok(known.clone());
        }
        self.load_cached(&[digest.to_string()]).await?;
        if let Some(known) = self.known.get(digest) {
            return Ok(known.clone());
        }
        let fetched = self
            .run
            .client
            .manifest(self.repository, digest)
            .await
            .map_err(|e| SyncError::remote(&format!("{}@{digest}", self.repository), &e))?;
        self.run.counters.manifests.fetch_add(1, Ordering::Relaxed);
        let cached = CachedManifest {
            digest: digest.to_string(),
            media_type: fetched.media_type,
            manifest: fetched.bytes.to_vec(),
            config: None,
        };
        self.known.insert(digest.to_string(), cached.clone());
        self.fetched.push(cached.clone());
        Ok(cached)
    }

    /// The manifest of `digest` with its image config, fetching the config once.
    async fn with_config(
        &mut self,
        digest: &str,
    ) -> Result<(CachedManifest, Manifest, Option<ImageConfig>), SyncError> {
        let mut cached = self.manifest(digest).await?;
        let manifest =
            Manifest::parse(Some(&cached.media_type), &cached.manifest).map_err(|e| {
                SyncError::Remote(format!(
                    "{}@{digest}: the registry serves a manifest Berth cannot read: {e}",
                    self.repository
                ))
            })?;
        let config_descriptor = match (&manifest.kind, &manifest.config) {
            (ManifestKind::Image, Some(config)) => Some(config.clone()),
            _ => None,
        };
        if let (Some(descriptor), None) = (&config_descriptor, &cached.config) {
            let config_digest = descriptor.digest.to_string();
            let known = self
                .run
                .configs
                .lock()
                .expect("config cache lock")
                .get(&config_digest)
                .cloned();
            let bytes = match known {
                Some(bytes) => bytes,
                None => {
                    let bytes = self
                        .run
                        .client
                        .blob(self.repository, &descriptor.digest, MAX_CONFIG_BYTES)
                        .await
                        .map_err(|e| {
                            SyncError::remote(
                                &format!("{}@{digest}: its config", self.repository),
                                &e,
                            )
                        })?
                        .to_vec();
                    self.run
                        .configs
                        .lock()
                        .expect("config cache lock")
                        .insert(config_digest, bytes.clone());
                    bytes
                }
            };
            cached.config = Some(bytes);
            self.known.insert(digest.to_string(), cached.clone());
            match self.fetched.iter_mut().find(|f| f.digest == digest) {
                Some(entry) => entry.config = cached.config.clone(),
                None => self.fetched.push(cached.clone()),
            }
        }
        // A config that is not an image config (an artifact's) records no config fields.
        let config = cached
            .config
            .as_deref()
            .and_then(|bytes| ImageConfig::parse(bytes).ok());
        Ok((cached, manifest, config))
    }

    /// The catalog's facts of the manifest `digest`: size, platform and children, config
    /// fields, layers and history, as a push records them.
    async fn facts(&mut self, digest: &str) -> Result<TagFacts, SyncError> {
        let (cached, manifest, config) = self.with_config(digest).await?;
        let facts = ArtifactFacts::of(&manifest, config.as_ref());
        // Sizes as a push records them: the manifest's own bytes and all it references.
        let mut size: i64 = cached.manifest.len() as i64 + referenced_size(&manifest);
        let mut children = Vec::with_capacity(manifest.children.len());
        for child in &manifest.children {
            let platform = match &child.platform {
                Some(p) => Platform {
                    os: Some(p.os.clone()),
                    architecture: Some(p.architecture.clone()),
                    variant: p.variant.clone(),
                },
                None => Platform::default(),
            };
            // An index weighs what its children weigh, as a pushed index does.
            let child_digest = child.descriptor.digest.to_string();
            let child_manifest = self.manifest(&child_digest).await?;
            size += child_manifest.manifest.len() as i64;
            if let Ok(parsed) =
                Manifest::parse(Some(&child_manifest.media_type), &child_manifest.manifest)
            {
                size += referenced_size(&parsed);
            }
            children.push(ChildRecord {
                digest: child_digest,
                media_type: child.descriptor.media_type.clone(),
                size: child.descriptor.size as i64,
                platform,
            });
        }
        let platform = match &config {
            Some(c) => Platform {
                os: Some(c.os.clone()),
                architecture: Some(c.architecture.clone()),
                variant: c.variant.clone(),
            },
            None => Platform::default(),
        };
        Ok(TagFacts {
            cached,
            size,
            platform,
            children,
            facts,
        })
    }
}

/// The bytes of the config and layers `manifest` references.
fn referenced_size(manifest: &Manifest) -> i64 {
    manifest
        .config
        .iter()
        .chain(manifest.layers.iter())
        .map(|d| d.size as i64)
        .sum()
}
