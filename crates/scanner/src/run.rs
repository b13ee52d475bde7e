//! One scan job: the manifest (an image, or an index whose images are scanned each), its
//! layers from the cache or the blob source, the inventory, the matching, the report.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use berth_api_types::{PackageView, ScanLogLine, ScanProgress, VulnerabilityView};
use berth_oci::manifest::{DescriptorRef, Manifest, ManifestKind};
use berth_oci::{media_types, Digest};
use berth_remote::RemoteRegistry;
use berth_scan::advisory::ecosystem_name;
use berth_scan::findings::{findings, lookup_keys, related_ids, AdvisoryIndex};
use berth_scan::inventory::{inventory, Inventory, Package};
use berth_scan::layer::{read_layer_within, ImageFiles, LayerContents, LAYER_READER_VERSION};
use berth_store::jobs::{Job, JobOutcome, Lease, LeaseKeeper};
use berth_store::registry_records::RegistryRecord;
use berth_store::scans::ScanReportRecord;
use berth_store::{now_millis, Store};
use futures::TryStreamExt;
use osv::schema::Vulnerability;

use crate::report::{rank, tally, vulnerability_view};
use crate::{Payload, ScanService, SCANNER_VERSION};

/// The largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// Why a scan ends without a report of findings.
enum Stop {
    /// The image cannot be scanned, for the reason given: a report says so.
    Unsupported(String),
    /// The scan could not finish, for the reason given: a report says so.
    Failed(String),
    /// A cancel was asked, or the lease was lost: nothing is written.
    Cancelled,
}

impl From<berth_store::StoreError> for Stop {
    fn from(error: berth_store::StoreError) -> Stop {
        Stop::Failed(format!("the database failed: {error}"))
    }
}

/// The log a scan keeps, line by line.
#[derive(Default)]
struct Log {
    lines: Vec<ScanLogLine>,
}

impl Log {
    fn info(&mut self, message: impl Into<String>) {
        self.push("info", message.into());
    }

    fn warning(&mut self, message: impl Into<String>) {
        self.push("warning", message.into());
    }

    fn push(&mut self, level: &str, message: String) {
        self.lines.push(ScanLogLine {
            level: level.to_string(),
            message,
        });
    }
}

/// What a finished image scan found.
#[derive(Default)]
struct Found {
    packages: Vec<PackageView>,
    vulnerabilities: Vec<VulnerabilityView>,
}

/// How far a scan is, shared with its lease keeper.
#[derive(Default)]
struct Counters {
    layers_done: AtomicU64,
    layers_total: AtomicU64,
}

impl Counters {
    fn json(&self) -> String {
        serde_json::to_string(&ScanProgress {
            layers_done: self.layers_done.load(Ordering::Relaxed),
            layers_total: self.layers_total.load(Ordering::Relaxed),
        })
        .expect("progress serialises")
    }
}

/// Where an image's manifests and blobs are read from.
enum Source {
    /// Berth's own registry: manifests from the store, blobs from the blob store.
    Hosted,
    /// An external registry, through its client.
    Remote(Arc<dyn RemoteRegistry>),
}

/// One scan's context.
struct Scan<'a> {
    service: &'a ScanService,
    registry_id: i64,
    repository: String,
    source: Source,
    counters: Arc<Counters>,
    /// The vulnerability database's newest import, when there is one: its id and time.
    import: Option<(i64, i64)>,
}

impl ScanService {
    /// Runs one claimed scan job to its end.
    pub(crate) async fn run(&self, job: Job, worker: &str) {
        let store = &self.inner.store;
        let started_at = now_millis();
        let counters = Arc::new(Counters::default());
        let keeper = {
            let counters = counters.clone();
            LeaseKeeper::start(
                store,
                job.id,
                worker,
                self.inner.settings.lease,
                move || counters.json(),
            )
        };
        let mut log = Log::default();
        let result = tokio::select! {
            result = self.scan_job(&job, &counters, &mut log) => result,
            _ = keeper.stopped() => Err(Stop::Cancelled),
        };
        drop(keeper);
        // A stop asked while the scan ran is honoured even when the scan finished first, and
        // a worker whose lease was taken over writes nothing: the last renewal decides.
        let lease = self.inner.settings.lease;
        match store
            .renew_job(job.id, worker, lease, Some(&counters.json()))
            .await
        {
            Ok(Lease::Held) => {}
            Ok(Lease::CancelRequested) => {
                return finish(store, &job, worker, JobOutcome::Cancelled).await;
            }
            Ok(Lease::Lost) => {
                tracing::warn!(digest = %job.key, "scan lease lost; another worker holds it");
                return;
            }
            Err(error) => {
                // The lease runs out and another worker scans again.
                tracing::warn!(%error, digest = %job.key, "cannot confirm a scan's lease");
                return;
            }
        }
        let outcome = match result {
            Ok(reports) => match write_reports(store, &reports).await {
                Ok(()) => {
                    let found = reports.last().map_or(0, |r| r.total);
                    tracing::info!(digest = %job.key, vulnerabilities = found, "scan succeeded");
                    JobOutcome::Succeeded
                }
                Err(error) => JobOutcome::Failed(format!("cannot write the report: {error}")),
            },
            Err(Stop::Cancelled) => JobOutcome::Cancelled,
            Err(stop) => {
                let (status, reason) = match stop {
                    Stop::Unsupported(reason) => ("unsupported", reason),
                    Stop::Failed(reason) => ("failed", reason),
                    Stop::Cancelled => unreachable!("handled above"),
                };
                log.warning(format!("{status}: {reason}"));
                // A failure to read the image now (its registry down, its repository gone)
                // says nothing about the image: a report of an earlier success stands.
                let succeeded_before = status == "failed"
                    && matches!(
                        store.scan_report(&job.key).await,
                        Ok(Some(r)) if r.status == "success"
                    );
                let import = store.latest_vulndb_import().await.ok().flatten();
                let report = report_record(
                    &job.key,
                    status,
                    Some(reason.clone()),
                    import,
                    started_at,
                    &Found::default(),
                    &log,
                );
                if succeeded_before {
                    tracing::info!(digest = %job.key, "the last successful report stands");
                } else if let Err(error) = store.put_scan_report(&report).await {
                    tracing::warn!(%error, digest = %job.key, "cannot write a scan's report");
                }
                tracing::warn!(digest = %job.key, %reason, status, "scan did not succeed");
                // An unsupported image is a finished scan; a failed one is the job's failure.
                if status == "unsupported" {
                    JobOutcome::Succeeded
                } else {
                    JobOutcome::Failed(reason)
                }
            }
        };
        finish(store, &job, worker, outcome).await;
    }
    /// Scans the job's image. Answers its report, preceded by its images' for an index, for
    /// the caller to write once it knows the scan was not stopped meanwhile.
    async fn scan_job(
        &self,
        job: &Job,
        counters: &Arc<Counters>,
        log: &mut Log,
    ) -> Result<Vec<ScanReportRecord>, Stop> {
        let store = &self.inner.store;
        let payload: Payload = serde_json::from_str(&job.payload)
            .map_err(|e| Stop::Failed(format!("the job's payload is not a scan request: {e}")))?;
        let digest = Digest::parse(&job.key)
            .map_err(|e| Stop::Failed(format!("the job's key is not a digest: {e}")))?;
        let registry = store
            .registry_by_id(payload.registry_id)
            .await?
            .ok_or_else(|| Stop::Failed("the image's registry no longer exists".into()))?;
        let source = self.source(&registry)?;
        let import = store.latest_vulndb_import().await?;
        let scan = Scan {
            service: self,
            registry_id: registry.id,
            repository: payload.repository.clone(),
            source,
            counters: counters.clone(),
            import,
        };
        // The report is kept by digest and read by everyone who sees any repository holding
        // it, so its log names neither the repository it was read from nor who asked.
        tracing::info!(digest = %digest, registry = %registry.name, repository = %payload.repository, requested_by = %payload.requested_by, "scan started");
        log.info(format!(
            "scanning {digest} with {} {SCANNER_VERSION}",
            crate::SCANNER_NAME
        ));
        match import {
            Some((id, at)) => log.info(format!(
                "vulnerability database: import {id}, finished {}",
                berth_store::rfc3339(at)
            )),
            None => log.warning(
                "no vulnerability database has been imported (`berth vulndb import`): packages \
                 are listed but matched against nothing",
            ),
        }
        let started_at = now_millis();
        let manifest = scan.manifest(&digest).await?;
        let mut reports = Vec::new();
        let found = match manifest.kind {
            ManifestKind::Index => {
                let mut union = Found::default();
                let images: Vec<_> = manifest
                    .children
                    .iter()
                    .filter(|c| {
                        media_types::MANIFEST_TYPES.contains(&c.descriptor.media_type.as_str())
                    })
                    .collect();
                log.info(format!("an index of {} manifests", images.len()));
                for child in images {
                    let child_digest = &child.descriptor.digest;
                    let platform = child
                        .platform
                        .as_ref()
                        .map(|p| format!("{}/{}", p.os, p.architecture))
                        .unwrap_or_else(|| "no platform".into());
                    log.info(format!("image {child_digest} ({platform})"));
                    let mut child_log = Log::default();
                    let child_started = now_millis();
                    let child_manifest = scan.manifest(child_digest).await?;
                    match scan.image(&child_manifest, &mut child_log).await {
                        Ok(found) => {
                            let record = report_record(
                                &child_digest.to_string(),
                                "success",
                                None,
                                import,
                                child_started,
                                &found,
                                &child_log,
                            );
                            reports.push(record);
                            log.lines.append(&mut child_log.lines);
                            merge(&mut union, found);
                        }
                        Err(Stop::Unsupported(reason)) => {
                            // An attestation or an image of an unknown OS beside the others
                            // does not stop the index's scan.
                            log.lines.append(&mut child_log.lines);
                            log.warning(format!("image {child_digest} skipped: {reason}"));
                        }
                        Err(other) => return Err(other),
                    }
                }
                if reports.is_empty() {
                    return Err(Stop::Unsupported(
                        "none of the index's manifests is an image that could be scanned".into(),
                    ));
                }
                union
            }
            ManifestKind::Image => scan.image(&manifest, log).await?,
        };
        reports.push(report_record(
            &digest.to_string(),
            "success",
            None,
            import,
            started_at,
            &found,
            log,
        ));
        Ok(reports)
    }

    fn source(&self, registry: &RegistryRecord) -> Result<Source, Stop> {
        if registry.is_hosted() {
            return Ok(Source::Hosted);
        }
        let client = self.inner.sync.client(registry).map_err(|e| {
            tracing::warn!(registry = %registry.name, error = %e, "cannot make a registry client for a scan");
            Stop::Failed("the image's registry cannot be reached".into())
        })?;
        Ok(Source::Remote(client))
    }
}

impl Scan<'_> {
    fn store(&self) -> &Store {
        &self.service.inner.store
    }

    /// The manifest `digest` of the scanned repository: the catalog's copy, else for an
    /// external registry the registry's.
    async fn manifest(&self, digest: &Digest) -> Result<Manifest, Stop> {
        let store = self.store();
        let stored = match store
            .artifact_in(self.registry_id, &self.repository, digest)
            .await?
        {
            Some(artifact) => store
                .artifact_manifest(artifact.id)
                .await?
                .map(|bytes| (Some(artifact.media_type), bytes)),
            None => None,
        };
        let (media_type, bytes) = match (stored, &self.source) {
            (Some(found), _) => found,
            (None, Source::Remote(client)) => {
                let fetched = client
                    .manifest(&self.repository, &digest.to_string())
                    .await
                    .map_err(|e| {
                        tracing::warn!(%digest, repository = %self.repository, error = %berth_remote::error_chain(&e), "cannot fetch a manifest to scan");
                        Stop::Failed(format!("manifest {digest} could not be fetched from its registry"))
                    })?;
                (Some(fetched.media_type), fetched.bytes.to_vec())
            }
            (None, Source::Hosted) => {
                return Err(Stop::Failed(format!(
                    "manifest {digest} is no longer in the repository it was scanned from"
                )))
            }
        };
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(Stop::Failed(format!("manifest {digest} is too large")));
        }
        Manifest::parse(media_type.as_deref(), &bytes)
            .map_err(|e| Stop::Failed(format!("manifest {digest} cannot be read: {e}")))
    }

    /// Scans one image: its layers, its inventory, its vulnerabilities.
    async fn image(&self, manifest: &Manifest, log: &mut Log) -> Result<Found, Stop> {
        let config_type = manifest.config.as_ref().map(|c| c.media_type.as_str());
        if !matches!(
            config_type,
            Some(media_types::OCI_CONFIG | media_types::DOCKER_CONFIG)
        ) {
            let what = manifest
                .effective_artifact_type()
                .or(config_type)
                .unwrap_or("no config");
            return Err(Stop::Unsupported(format!(
                "not a container image but an artifact of type {what}"
            )));
        }
        let layers: Vec<&DescriptorRef> = manifest.layers.iter().collect();
        self.counters
            .layers_total
            .fetch_add(layers.len() as u64, Ordering::Relaxed);
        let mut contents = Vec::with_capacity(layers.len());
        for (n, layer) in layers.iter().enumerate() {
            let position = format!("layer {}/{} {}", n + 1, layers.len(), layer.digest);
            if is_foreign(&layer.media_type) {
                log.warning(format!(
                    "{position}: skipped, a foreign layer ({}) is not distributed by registries",
                    layer.media_type
                ));
            } else {
                contents.push(self.layer(layer, &position, log).await?);
            }
            self.counters.layers_done.fetch_add(1, Ordering::Relaxed);
        }
        let files = ImageFiles::stack(contents.iter().map(|c| &**c));
        let inventory = inventory(&files);
        for note in &inventory.notes {
            log.warning(note.clone());
        }
        describe_inventory(&inventory, log);
        if inventory.packages.is_empty() {
            return Err(Stop::Unsupported(match &inventory.distribution {
                Some(d) if d.ecosystem().is_none() => format!(
                    "{} is not supported: its package database is not read (Debian's dpkg is), \
                     and no language packages were found",
                    d.pretty_name.as_deref().unwrap_or(&d.id)
                ),
                Some(d) => format!(
                    "no packages were found in {}",
                    d.pretty_name.as_deref().unwrap_or(&d.id)
                ),
                None => "no operating system was recognised (no os-release file names one) and no \
                         language packages were found"
                    .to_string(),
            }));
        }
        let vulnerabilities = self.matches(&inventory.packages, log).await?;
        Ok(Found {
            packages: inventory.packages.iter().map(package_view).collect(),
            vulnerabilities,
        })
    }

    /// One layer's contents: kept ones when a scan read the layer before, else read from the
    /// blob source now and kept.
    async fn layer(
        &self,
        layer: &DescriptorRef,
        position: &str,
        log: &mut Log,
    ) -> Result<Arc<LayerContents>, Stop> {
        let store = self.store();
        let digest = layer.digest.to_string();
        let cache = self.service.inner.settings.layer_cache;
        let kept = match cache {
            true => store.layer_analysis(&digest, LAYER_READER_VERSION).await?,
            false => None,
        };
        if let Some(kept) = kept {
            match serde_json::from_str::<LayerContents>(&kept) {
                Ok(contents) => {
                    log.info(format!(
                        "{position}: from the cache ({} entries, {} files kept)",
                        contents.entries,
                        contents.files.len()
                    ));
                    return Ok(Arc::new(contents));
                }
                Err(error) => log.warning(format!(
                    "{position}: the cached contents cannot be read ({error}); reading the layer"
                )),
            }
        }
        let stream = self.blob_stream(&layer.digest).await?;
        let max = self.service.inner.settings.max_layer_tar_bytes;
        let handle = tokio::runtime::Handle::current();
        // A stopped scan drops this future; the guard then stops the blocking read at its
        // next chunk instead of letting it inflate the rest of the layer for nobody.
        let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
        let stopped = stop.0.clone();
        let read = tokio::task::spawn_blocking(move || {
            let _entered = handle.enter();
            let mut raw = Stoppable {
                inner: tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream)),
                stopped,
            };
            let contents = read_layer_within(&mut raw, max)?;
            // The tar may end before the blob does (padding, a gzip trailer); reading the blob
            // to its end is what lets a registry client check its digest, so nothing read
            // from bytes other than the digest's is ever kept under it.
            std::io::copy(&mut raw, &mut std::io::sink())
                .map_err(berth_scan::layer::LayerError::Archive)?;
            Ok::<_, berth_scan::layer::LayerError>(contents)
        })
        .await
        .map_err(|e| Stop::Failed(format!("{position}: the reader stopped: {e}")))?;
        let contents = read.map_err(|e| {
            log.warning(format!("{position}: {e}"));
            Stop::Failed(format!("{position} cannot be read: {e}"))
        })?;
        log.info(format!(
            "{position}: read ({} bytes, {} entries, {} files kept)",
            layer.size,
            contents.entries,
            contents.files.len()
        ));
        for note in &contents.notes {
            log.warning(format!("{position}: {note}"));
        }
        if cache {
            let kept = serde_json::to_string(&contents).expect("layer contents serialise");
            store
                .put_layer_analysis(&digest, LAYER_READER_VERSION, &kept)
                .await?;
        }
        Ok(Arc::new(contents))
    }

    async fn blob_stream(&self, digest: &Digest) -> Result<berth_blobs::ByteStream, Stop> {
        match &self.source {
            Source::Hosted => {
                let body = self
                    .service
                    .inner
                    .blobs
                    .read(digest, None)
                    .await
                    .map_err(|e| Stop::Failed(format!("cannot read blob {digest}: {e}")))?
                    .ok_or_else(|| Stop::Failed(format!("blob {digest} is missing")))?;
                Ok(body.stream)
            }
            Source::Remote(client) => {
                let blob = client
                    .blob_stream(&self.repository, digest)
                    .await
                    .map_err(|e| {
                        tracing::warn!(%digest, repository = %self.repository, error = %berth_remote::error_chain(&e), "cannot fetch a layer to scan");
                        Stop::Failed(format!("blob {digest} could not be fetched from its registry"))
                    })?;
                // The registry client checks the digest once the stream ends, which the
                // layer reader makes sure it does; an error then names no address.
                Ok(Box::pin(blob.stream.map_err(|e| {
                    tracing::warn!(error = %berth_remote::error_chain(&e), "a layer stream failed");
                    std::io::Error::other(match e {
                        berth_remote::RemoteError::DigestMismatch { .. } => {
                            "the layer's bytes do not match its digest"
                        }
                        _ => "the layer could not be fetched whole",
                    })
                })))
            }
        }
    }

    /// The vulnerabilities of `packages`, from the advisories filed under them and the other
    /// records of those advisories' vulnerabilities (which rate those that do not rate
    /// themselves).
    async fn matches(
        &self,
        packages: &[Package],
        log: &mut Log,
    ) -> Result<Vec<VulnerabilityView>, Stop> {
        if self.import.is_none() {
            return Ok(Vec::new());
        }
        let started = std::time::Instant::now();
        let store = self.store();
        let mut held: HashSet<String> = HashSet::new();
        let mut advisories: Vec<Vulnerability> = Vec::new();
        let filed_documents = store.advisories_for(&lookup_keys(packages)).await?;
        add_advisories(&mut held, &mut advisories, filed_documents, log);
        let filed = advisories.len();
        let related = related_ids(&advisories);
        let related: Vec<&str> = related.iter().map(String::as_str).collect();
        let related_documents = store.advisories_related(&related).await?;
        add_advisories(&mut held, &mut advisories, related_documents, log);
        log.info(format!(
            "{filed} advisories are filed under these packages, with {} other records of \
             their vulnerabilities",
            advisories.len() - filed
        ));
        let index = AdvisoryIndex::new(advisories);
        let (found, notes) = findings(packages, &index);
        for note in notes {
            log.warning(note);
        }
        let mut views: Vec<VulnerabilityView> = found.iter().map(vulnerability_view).collect();
        most_severe_first(&mut views);
        let (counts, fixable) = tally(&views);
        log.info(format!(
            "{} vulnerabilities (critical {}, high {}, medium {}, low {}, none {}, unknown {}), \
             {fixable} fixable, matched in {} ms",
            views.len(),
            counts.critical,
            counts.high,
            counts.medium,
            counts.low,
            counts.none,
            counts.unknown,
            started.elapsed().as_millis()
        ));
        Ok(views)
    }
}

/// Writes a scan's reports, an index's images first.
async fn write_reports(
    store: &Store,
    reports: &[ScanReportRecord],
) -> Result<(), berth_store::StoreError> {
    for report in reports {
        store.put_scan_report(report).await?;
    }
    Ok(())
}

async fn finish(store: &Store, job: &Job, worker: &str, outcome: JobOutcome) {
    match store.finish_job(job.id, worker, outcome).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(job = job.id, "a scan job was taken over before it ended"),
        Err(error) => tracing::warn!(%error, job = job.id, "cannot finish a scan job"),
    }
}

/// Parses `documents` into `advisories`, each id once, noting those that cannot be read.
fn add_advisories(
    held: &mut HashSet<String>,
    advisories: &mut Vec<Vulnerability>,
    documents: Vec<(String, String)>,
    log: &mut Log,
) {
    for (id, document) in documents {
        if !held.insert(id.clone()) {
            continue;
        }
        match serde_json::from_str::<Vulnerability>(&document) {
            Ok(advisory) => advisories.push(advisory),
            Err(error) => log.warning(format!("advisory {id} cannot be read: {error}")),
        }
    }
}

/// Sets its flag when dropped: a scan that stops mid-layer drops it.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A layer stream that fails once its scan has stopped.
struct Stoppable<R> {
    inner: R,
    stopped: Arc<AtomicBool>,
}

impl<R: std::io::Read> std::io::Read for Stoppable<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("the scan stopped"));
        }
        self.inner.read(buffer)
    }
}

/// Whether a layer is one registries do not serve (Windows base layers).
fn is_foreign(media_type: &str) -> bool {
    media_type == media_types::DOCKER_FOREIGN_LAYER || media_type.contains(".nondistributable.")
}

fn describe_inventory(inventory: &Inventory, log: &mut Log) {
    match &inventory.distribution {
        Some(d) => log.info(format!(
            "operating system: {}",
            d.pretty_name.as_deref().unwrap_or(&d.id)
        )),
        None => log.info("no os-release file: no operating system recognised"),
    }
    let mut by_ecosystem: BTreeMap<String, usize> = BTreeMap::new();
    for package in &inventory.packages {
        *by_ecosystem
            .entry(ecosystem_name(&package.ecosystem))
            .or_default() += 1;
    }
    let parts: Vec<String> = by_ecosystem
        .iter()
        .map(|(ecosystem, n)| format!("{ecosystem} {n}"))
        .collect();
    log.info(format!(
        "{} packages ({})",
        inventory.packages.len(),
        parts.join(", ")
    ));
}

fn package_view(package: &Package) -> PackageView {
    PackageView {
        name: package.name.clone(),
        version: package.version.clone(),
        ecosystem: ecosystem_name(&package.ecosystem),
        source_name: package.source.as_ref().map(|(name, _)| name.clone()),
        source_version: package.source.as_ref().map(|(_, version)| version.clone()),
        found_in: package.found_in.clone(),
    }
}

/// Adds an index child's findings to the index's: packages and vulnerabilities each once.
fn merge(union: &mut Found, found: Found) {
    for package in found.packages {
        if !union.packages.contains(&package) {
            union.packages.push(package);
        }
    }
    for vulnerability in found.vulnerabilities {
        let same = |v: &VulnerabilityView| {
            v.id == vulnerability.id
                && v.package == vulnerability.package
                && v.installed_version == vulnerability.installed_version
        };
        if !union.vulnerabilities.iter().any(same) {
            union.vulnerabilities.push(vulnerability);
        }
    }
    most_severe_first(&mut union.vulnerabilities);
}

/// The report's order: most severe first, then by package and id.
fn most_severe_first(vulnerabilities: &mut [VulnerabilityView]) {
    vulnerabilities.sort_by(|a, b| {
        rank(&b.severity)
            .cmp(&rank(&a.severity))
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| a.id.cmp(&b.id))
    });
}

fn report_record(
    digest: &str,
    status: &str,
    reason: Option<String>,
    import: Option<(i64, i64)>,
    started_at: i64,
    found: &Found,
    log: &Log,
) -> ScanReportRecord {
    let (counts, fixable) = tally(&found.vulnerabilities);
    let severity = found
        .vulnerabilities
        .iter()
        .map(|v| v.severity.as_str())
        .max_by_key(|s| rank(s));
    ScanReportRecord {
        digest: digest.to_string(),
        status: status.to_string(),
        reason,
        source: berth_store::scans::BERTH_SOURCE.to_string(),
        scanner_name: crate::SCANNER_NAME.to_string(),
        scanner_version: SCANNER_VERSION.to_string(),
        vulndb_import_id: import.map(|(id, _)| id),
        db_updated_at: import.map(|(_, at)| at),
        started_at,
        finished_at: now_millis(),
        severity: severity.map(str::to_string),
        severity_rank: severity.map(rank),
        counts: serde_json::to_string(&counts).expect("counts serialise"),
        fixable,
        total: found.vulnerabilities.len() as i64,
        vulnerabilities: serde_json::to_string(&found.vulnerabilities).expect("findings serialise"),
        packages: serde_json::to_string(&found.packages).expect("packages serialise"),
        log: serde_json::to_string(&log.lines).expect("the log serialises"),
    }
}
