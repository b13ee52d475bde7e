//! Crash safety of the real `berth` binary: SIGKILL it while pushes and uploads are in flight,
//! restart it on the same data directory, and check that
//!
//! - every push that completed before the crash is intact, byte for byte;
//! - nothing partial is ever served: blobs whose upload was cut off are unknown, and every file
//!   in the blob store hashes to its own name;
//! - interrupted chunked uploads resume from the offset the server reports, and uploads started
//!   again from scratch succeed.
//!
//! Each test runs several rounds against one data directory, killing the server at a different
//! moment each round, so later rounds also check that earlier crashes left nothing behind that
//! breaks the next one.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_testkit::image::{sha256_digest, OCI_MANIFEST};
use berth_testkit::{layer, random_layer, write_oci_layout, Blob, Image, ImageBuilder};
use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::json;
use tempfile::TempDir;
use tokio::task::JoinHandle;

use crate::skopeo::{assert_oci_layout_holds, assert_same_bytes, oci_reference};
use crate::support::{
    client, create_space, skopeo, skopeo_result, Backend, BinaryServer, TestDatabase,
    ADMIN_PASSWORD,
};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// When each round kills the server, counted from the start of the concurrent skopeo push (by
/// then every stalled request has handed its bytes to the network). Spread over 50-500 ms so
/// that the push is caught at different stages (starting, uploading layers, pushing the
/// manifest, or done); fixed rather than random so that a failure can be reproduced by
/// rerunning the test.
const KILL_AFTER_MS: [u64; 4] = [50, 200, 350, 500];

/// The repository every raw upload goes to.
const UPLOADS: &str = "crash/uploads";

/// A chunked upload to interrupt: the chunks the server acknowledges before the crash, then how
/// many bytes of the next chunk a request sends before stalling (0: the client is idle between
/// chunks when the server dies).
struct ChunkedPlan {
    size: usize,
    acknowledged: &'static [usize],
    stalled: usize,
}

const CHUNKED_PLANS: [ChunkedPlan; 3] = [
    // Idle between chunks: the server must report exactly the acknowledged bytes.
    ChunkedPlan {
        size: 3 * MIB,
        acknowledged: &[MIB, MIB],
        stalled: 0,
    },
    // Mid-chunk, with more sent than the server buffers before writing (256 KiB): part of the
    // chunk is probably on disk, and the server may offer to resume after it.
    ChunkedPlan {
        size: 3 * MIB,
        acknowledged: &[MIB],
        stalled: 640 * KIB,
    },
    // Mid-chunk, with less sent than one write buffer: the chunk probably never reached disk.
    ChunkedPlan {
        size: 2 * MIB,
        acknowledged: &[512 * KIB],
        stalled: 64 * KIB,
    },
];

/// The monolithic upload cut off mid-stream: its size, and how much of it is sent.
const MONOLITHIC_SIZE: usize = 32 * MIB;
const MONOLITHIC_SENT: usize = 24 * MIB;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_push_sqlite() {
    crash_rounds(Backend::Sqlite, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_push_postgres() {
    let database = TestDatabase::new(Backend::Postgres).await;
    crash_rounds(Backend::Postgres, Some(&database.url)).await;
}

/// What the rounds observed, printed at the end (run with `--nocapture` to see it).
#[derive(Debug, Default)]
struct Observed {
    rounds: usize,
    images_verified: usize,
    blobs_verified: usize,
    blob_files_hashed: usize,
    blob_bytes_hashed: u64,
    uploads_resumed: usize,
    /// Bytes of stalled chunks the server kept and resumed after, beyond the acknowledged ones.
    bytes_kept_past_acknowledged: u64,
    uploads_restarted: usize,
    concurrent_pushes_finished_before_kill: usize,
    concurrent_pushes_interrupted: usize,
}

async fn crash_rounds(backend: Backend, database_url: Option<&str>) {
    let data = TempDir::new().unwrap();
    let mut server = start(data.path(), database_url).await;
    create_crash_space(data.path(), database_url).await;
    let mut completed_images: Vec<(String, Image)> = Vec::new();
    let mut completed_blobs: Vec<Blob> = Vec::new();
    let mut observed = Observed::default();

    for (round, kill_after) in KILL_AFTER_MS.into_iter().enumerate() {
        let seed = round as u64 * 100;

        // Pushes that complete before the crash.
        for k in 0..2 {
            let name = format!("crash/app-{round}-{k}");
            let image = finished_image(seed + k);
            push(&server, &name, &image).await;
            completed_images.push((name, image));
        }

        // Work in flight when the server dies: chunked uploads idle or stalled mid-chunk, a
        // monolithic upload cut off mid-body, and a skopeo push started last, so that the
        // kill delay decides how far it gets.
        let registry = Registry::connect(&server.url, &[UPLOADS]).await;
        let mut uploads = InFlightUploads::start(&registry, seed).await;
        let concurrent_name = format!("crash/concurrent-{round}");
        let concurrent = concurrent_image(seed + 10);
        let concurrent_layout = Layout::new(&concurrent);
        // skopeo runs to completion on a blocking thread; it gives up once the server is gone.
        let args = copy_args(
            &concurrent_layout.reference,
            &registry_image(&server, &concurrent_name),
        );
        let concurrent_push = tokio::task::spawn_blocking(move || skopeo_result(&as_strs(&args)));
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        server.kill();

        uploads.assert_stalls_failed().await;
        let (push_succeeded, push_error) =
            tokio::time::timeout(Duration::from_secs(60), concurrent_push)
                .await
                .expect("skopeo should give up once the server is gone")
                .unwrap();

        server = start(data.path(), database_url).await;
        let registry = Registry::connect(&server.url, &[UPLOADS, &concurrent_name]).await;
        let context = format!(
            "{} round {round}, killed after {kill_after} ms",
            backend.name()
        );

        // Nothing partial is served: the cut-off blobs are unknown, and every file in the
        // blob store is whole.
        for blob in uploads.blobs() {
            assert_eq!(
                registry.blob_status(UPLOADS, &blob.digest).await,
                StatusCode::NOT_FOUND,
                "{context}: the interrupted upload of {} is served",
                blob.digest
            );
        }
        let (files, bytes) = hash_blob_files(&server.data_dir).await;
        observed.blob_files_hashed += files;
        observed.blob_bytes_hashed += bytes;
        let pushed_before_kill =
            check_interrupted_push(&registry, &concurrent_name, &concurrent, &context).await;
        assert!(
            !push_succeeded || pushed_before_kill,
            "{context}: skopeo reported success but the manifest is missing"
        );
        if pushed_before_kill {
            observed.concurrent_pushes_finished_before_kill += 1;
        } else {
            observed.concurrent_pushes_interrupted += 1;
        }

        // Every completed push is intact.
        for (name, image) in &completed_images {
            pull_and_compare(&server, name, image).await;
            observed.images_verified += 1;
        }
        for blob in &completed_blobs {
            registry.assert_serves(UPLOADS, blob).await;
            observed.blobs_verified += 1;
        }

        // Interrupted chunked uploads resume where the server says they stopped.
        let mut kept = Vec::new();
        for upload in uploads.chunked {
            kept.push(upload.resume(&registry, &context).await);
            completed_blobs.push(upload.blob);
        }
        observed.uploads_resumed += kept.len();
        observed.bytes_kept_past_acknowledged += kept.iter().sum::<u64>();
        let push_outcome = if pushed_before_kill {
            "had finished".to_string()
        } else {
            let reason = push_error.lines().last().unwrap_or_default();
            format!("was interrupted ({reason})")
        };
        println!(
            "{context}: the concurrent push {push_outcome}; resumed uploads kept {kept:?} bytes past the acknowledged ones"
        );

        // Starting over works too, for the raw upload and for skopeo's push.
        registry.upload_whole(UPLOADS, &uploads.monolithic).await;
        registry.assert_serves(UPLOADS, &uploads.monolithic).await;
        completed_blobs.push(uploads.monolithic);
        push(&server, &concurrent_name, &concurrent).await;
        completed_images.push((concurrent_name, concurrent));
        observed.uploads_restarted += 2;
        observed.rounds += 1;

        // Recovery needs no operator: the restarted server logged no error while serving all
        // of the above.
        let errors: Vec<String> = server
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| {
                serde_json::from_str::<serde_json::Value>(line).is_ok_and(|e| e["level"] == "ERROR")
            })
            .cloned()
            .collect();
        assert!(
            errors.is_empty(),
            "{context}: the restarted server logged errors:\n{}",
            errors.join("\n")
        );
    }
    server.kill();
    println!("crash test on {}: {observed:#?}", backend.name());
}

/// Creates the private space `crash` that every repository here lives in. The binary runs as
/// deployed, without auto-create, so a push into a space nobody created is refused; a platform
/// admin creates it first, here straight in the binary's database (the SQLite file in its data
/// dir, or the PostgreSQL database it was given).
async fn create_crash_space(data_dir: &Path, database_url: Option<&str>) {
    let url = match database_url {
        Some(url) => url.to_string(),
        None => format!("sqlite://{}", data_dir.join("berth.db").display()),
    };
    let store = berth_store::Store::connect(&url).await.unwrap();
    create_space(&store, "crash", false).await;
    store.close().await;
}

/// Starts the binary on `data_dir`. Starting blocks until the server logs its address, so it
/// runs off the async worker threads.
pub(crate) async fn start(data_dir: &Path, database_url: Option<&str>) -> BinaryServer {
    let data_dir = data_dir.to_path_buf();
    let database_url = database_url.map(str::to_string);
    tokio::task::spawn_blocking(move || BinaryServer::spawn(&data_dir, database_url.as_deref()))
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Images and blobs
// ---------------------------------------------------------------------------------------------

/// A small image, unique to `seed`, that is pushed completely before a crash.
fn finished_image(seed: u64) -> Image {
    ImageBuilder::new()
        .layer(
            layer(&[("etc/seed", seed.to_string().as_bytes())]),
            "ADD seed /etc/seed",
        )
        .layer(random_layer(64 * KIB, seed, 6), "RUN generate")
        .config_field("Cmd", json!(["/bin/true"]))
        .build()
}

/// An image with two 8 MiB layers, big enough that the crash usually catches skopeo pushing it.
fn concurrent_image(seed: u64) -> Image {
    ImageBuilder::new()
        .layer(random_layer(8 * MIB, seed, 0), "RUN generate part 1")
        .layer(random_layer(8 * MIB, seed + 1, 0), "RUN generate part 2")
        .build()
}

/// `len` deterministic pseudo-random bytes (SplitMix64), cheaper than a seeded RNG in a debug
/// build and random enough that no two blobs share content.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        bytes.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// An OCI layout holding one image under the tag `v1`.
struct Layout {
    _dir: TempDir,
    reference: String,
}

impl Layout {
    fn new(image: &Image) -> Layout {
        let dir = TempDir::new().unwrap();
        write_oci_layout(dir.path(), "v1", image).unwrap();
        Layout {
            reference: oci_reference(dir.path(), "v1"),
            _dir: dir,
        }
    }
}

/// `docker://<host>/<name>:v1` on `server`.
fn registry_image(server: &BinaryServer, name: &str) -> String {
    format!("docker://{}/{name}:v1", server.host)
}

/// The arguments of `skopeo copy` between `from` and `to` as the admin, over plain HTTP.
fn copy_args(from: &str, to: &str) -> Vec<String> {
    let creds = format!("admin:{ADMIN_PASSWORD}");
    [
        "--insecure-policy",
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--src-creds",
        &creds,
        "--dest-creds",
        &creds,
        from,
        to,
    ]
    .map(str::to_string)
    .to_vec()
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Runs `skopeo copy` on a blocking thread. The server is another process, so blocking never
/// stalls it; skopeo's shared blob-info cache cannot skip work here either, since every server
/// start has a new port and skopeo checks the destination before trusting the cache.
async fn copy(from: String, to: String) {
    tokio::task::spawn_blocking(move || skopeo(&as_strs(&copy_args(&from, &to))))
        .await
        .unwrap();
}

async fn push(server: &BinaryServer, name: &str, image: &Image) {
    let layout = Layout::new(image);
    copy(layout.reference.clone(), registry_image(server, name)).await;
}

async fn pull_and_compare(server: &BinaryServer, name: &str, image: &Image) {
    let pulled = TempDir::new().unwrap();
    copy(
        registry_image(server, name),
        oci_reference(pulled.path(), "v1"),
    )
    .await;
    assert_oci_layout_holds(pulled.path(), "v1", image);
}

/// The push skopeo was making when the server died is all there or not there: each of its
/// blobs is either unknown or whole, and the manifest is served only with all its blobs.
/// Returns whether the manifest made it.
async fn check_interrupted_push(
    registry: &Registry,
    name: &str,
    image: &Image,
    context: &str,
) -> bool {
    let mut present = Vec::new();
    for blob in image.blobs() {
        match registry.blob_status(name, &blob.digest).await {
            StatusCode::OK => {
                registry.assert_serves(name, blob).await;
                present.push(blob.digest.as_str());
            }
            StatusCode::NOT_FOUND => {}
            other => panic!("{context}: HEAD {name}@{} answered {other}", blob.digest),
        }
    }
    let response = registry
        .request(Method::GET, &format!("/v2/{name}/manifests/v1"))
        .header(ACCEPT, OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    match response.status() {
        StatusCode::OK => {
            let bytes = response.bytes().await.unwrap();
            assert_same_bytes(&bytes, &image.manifest, &format!("{context}: {name}:v1"));
            assert_eq!(
                present.len(),
                image.blobs().len(),
                "{context}: the manifest of {name} is served without all its blobs"
            );
            true
        }
        StatusCode::NOT_FOUND => false,
        other => panic!("{context}: GET {name}:v1 answered {other}"),
    }
}

/// Hashes every file under `<data_dir>/blobs/sha256/` and asserts that each is named by its
/// own digest (`<2 hex>/<64 hex>`), which is what makes a torn write impossible to serve.
/// Returns how many files and bytes were checked.
async fn hash_blob_files(data_dir: &Path) -> (usize, u64) {
    let root = data_dir.join("blobs").join("sha256");
    tokio::task::spawn_blocking(move || {
        let mut files = 0;
        let mut bytes = 0;
        for prefix in std::fs::read_dir(&root).unwrap() {
            let prefix = prefix.unwrap().path();
            for file in std::fs::read_dir(&prefix).unwrap() {
                let path: PathBuf = file.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let content = std::fs::read(&path).unwrap();
                assert_eq!(
                    sha256_digest(&content),
                    format!("sha256:{name}"),
                    "{} does not hold the blob it is named after",
                    path.display()
                );
                assert!(
                    prefix.ends_with(&name[..2]),
                    "{} is in the wrong directory",
                    path.display()
                );
                files += 1;
                bytes += content.len() as u64;
            }
        }
        (files, bytes)
    })
    .await
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Raw uploads
// ---------------------------------------------------------------------------------------------

/// The Distribution API as the admin, with one token for the repositories a round touches.
struct Registry {
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Registry {
    async fn connect(url: &str, repositories: &[&str]) -> Registry {
        let http = client();
        let scopes: Vec<(&str, String)> = repositories
            .iter()
            .map(|r| ("scope", format!("repository:{r}:pull,push")))
            .collect();
        let response = http
            .get(format!("{url}/auth/token"))
            .query(&[("service", "berth")])
            .query(&scopes)
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "token request");
        let body: serde_json::Value = response.json().await.unwrap();
        Registry {
            url: url.to_string(),
            token: body["token"].as_str().unwrap().to_string(),
            http,
        }
    }

    /// A request to `path`, a path from the server such as an upload's `Location`.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    /// Opens an upload session and returns its `Location`.
    async fn start_upload(&self, repository: &str) -> String {
        let response = self
            .request(Method::POST, &format!("/v2/{repository}/blobs/uploads/"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED, "opening an upload");
        header(&response, "location")
    }

    /// Sends `bytes` as the chunk starting at `first` and checks the server acknowledges them.
    async fn patch(&self, location: &str, first: usize, bytes: &[u8]) {
        let last = first + bytes.len() - 1;
        let response = self
            .request(Method::PATCH, location)
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_RANGE, format!("{first}-{last}"))
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "PATCH {first}-{last}"
        );
        assert_eq!(header(&response, "range"), format!("0-{last}"));
    }

    /// How many bytes the upload at `location` holds, from `GET <location>`.
    async fn held(&self, location: &str) -> usize {
        let response = self.request(Method::GET, location).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "GET {location}");
        let range = header(&response, "range");
        let last: usize = range
            .strip_prefix("0-")
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("unexpected Range `{range}`"));
        last + 1
    }

    /// Closes the upload at `location` with `digest`.
    async fn finish(&self, location: &str, digest: &str) {
        let separator = if location.contains('?') { '&' } else { '?' };
        let response = self
            .request(
                Method::PUT,
                &format!("{location}{separator}digest={digest}"),
            )
            .header(CONTENT_LENGTH, 0)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "PUT ?digest={digest}"
        );
        assert_eq!(header(&response, "docker-content-digest"), digest);
    }

    /// Uploads `blob` in one POST.
    async fn upload_whole(&self, repository: &str, blob: &Blob) {
        let response = self
            .request(
                Method::POST,
                &format!("/v2/{repository}/blobs/uploads/?digest={}", blob.digest),
            )
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(blob.bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "monolithic upload");
    }

    async fn blob_status(&self, repository: &str, digest: &str) -> StatusCode {
        self.request(Method::HEAD, &format!("/v2/{repository}/blobs/{digest}"))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Asserts that `repository` serves `blob` whole, under its digest.
    async fn assert_serves(&self, repository: &str, blob: &Blob) {
        let response = self
            .request(
                Method::GET,
                &format!("/v2/{repository}/blobs/{}", blob.digest),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {}", blob.digest);
        assert_eq!(header(&response, "docker-content-digest"), blob.digest);
        let bytes = response.bytes().await.unwrap();
        assert_same_bytes(&bytes, blob, &format!("{repository}@{}", blob.digest));
    }
}

fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("the response has no {name} header"))
        .to_str()
        .unwrap()
        .to_string()
}

/// The raw uploads in flight when the server dies.
struct InFlightUploads {
    chunked: Vec<Chunked>,
    /// A monolithic upload (`POST ?digest=`) whose body stops part way.
    monolithic: Blob,
    monolithic_stall: Option<Stall>,
}

impl InFlightUploads {
    /// Starts every upload and returns once each stalled request has sent what it will send.
    async fn start(registry: &Registry, seed: u64) -> InFlightUploads {
        let mut chunked = Vec::new();
        for (i, plan) in CHUNKED_PLANS.iter().enumerate() {
            chunked.push(Chunked::start(registry, plan, seed + 20 + i as u64).await);
        }
        let monolithic = Blob::new(
            "application/octet-stream",
            pattern(seed + 30, MONOLITHIC_SIZE),
        );
        let request = registry
            .request(
                Method::POST,
                &format!("/v2/{UPLOADS}/blobs/uploads/?digest={}", monolithic.digest),
            )
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_LENGTH, MONOLITHIC_SIZE);
        let monolithic_stall = Stall::start(request, &monolithic.bytes[..MONOLITHIC_SENT]);
        let uploads = InFlightUploads {
            chunked,
            monolithic,
            monolithic_stall: Some(monolithic_stall),
        };
        for stall in uploads.stalls() {
            stall.wait_sent().await;
        }
        uploads
    }

    fn stalls(&self) -> impl Iterator<Item = &Stall> {
        self.chunked
            .iter()
            .filter_map(|c| c.stall.as_ref())
            .chain(self.monolithic_stall.as_ref())
    }

    /// The blobs being uploaded, none of which was complete when the server died.
    fn blobs(&self) -> impl Iterator<Item = &Blob> {
        self.chunked
            .iter()
            .map(|c| &c.blob)
            .chain([&self.monolithic])
    }

    /// After the crash: the stalled requests can only have failed. Their bodies are released
    /// only now, so the server never saw any of them end.
    async fn assert_stalls_failed(&mut self) {
        let chunked = self.chunked.iter_mut().filter_map(|c| c.stall.take());
        let stalls: Vec<Stall> = chunked.chain(self.monolithic_stall.take()).collect();
        for stall in stalls {
            stall.assert_failed().await;
        }
    }
}

/// A chunked upload interrupted by the crash.
struct Chunked {
    blob: Blob,
    location: String,
    /// Bytes the server acknowledged with a 202 before the crash.
    acknowledged: usize,
    /// The request that was sending the next chunk when the server died, if any.
    stall: Option<Stall>,
    /// Bytes of that chunk handed to the network; the server may have kept up to this many.
    stalled: usize,
}

impl Chunked {
    async fn start(registry: &Registry, plan: &ChunkedPlan, seed: u64) -> Chunked {
        let blob = Blob::new("application/octet-stream", pattern(seed, plan.size));
        let location = registry.start_upload(UPLOADS).await;
        let mut acknowledged = 0;
        for &size in plan.acknowledged {
            registry
                .patch(
                    &location,
                    acknowledged,
                    &blob.bytes[acknowledged..acknowledged + size],
                )
                .await;
            acknowledged += size;
        }
        // The stalled request announces the whole rest of the blob as its chunk, as a client
        // sending the last chunk would, but sends only part of it.
        let stall = (plan.stalled > 0).then(|| {
            let last = plan.size - 1;
            let request = registry
                .request(Method::PATCH, &location)
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(CONTENT_RANGE, format!("{acknowledged}-{last}"))
                .header(CONTENT_LENGTH, plan.size - acknowledged);
            Stall::start(
                request,
                &blob.bytes[acknowledged..acknowledged + plan.stalled],
            )
        });
        Chunked {
            blob,
            location,
            acknowledged,
            stall,
            stalled: plan.stalled,
        }
    }

    /// Resumes the upload after a restart: asks the server how much it holds, sends the rest
    /// from there, closes it, and checks the blob is served. Returns how many bytes the server
    /// kept beyond those it had acknowledged.
    async fn resume(&self, registry: &Registry, context: &str) -> u64 {
        let held = registry.held(&self.location).await;
        assert!(
            (self.acknowledged..=self.acknowledged + self.stalled).contains(&held),
            "{context}: the upload reports {held} bytes; {} were acknowledged and {} more sent",
            self.acknowledged,
            self.stalled
        );
        registry
            .patch(&self.location, held, &self.blob.bytes[held..])
            .await;
        registry.finish(&self.location, &self.blob.digest).await;
        registry.assert_serves(UPLOADS, &self.blob).await;
        (held - self.acknowledged) as u64
    }
}

/// A request whose body sends some bytes and then neither sends more nor ends, like a client
/// stalled mid-upload. The server sees it end only by dying.
struct Stall {
    /// Bytes the HTTP client has taken from the body so far.
    taken: Arc<AtomicU64>,
    offered: u64,
    /// Holding the sender open is what keeps the body from ending.
    _sender: UnboundedSender<Vec<u8>>,
    request: JoinHandle<reqwest::Result<Response>>,
}

impl Stall {
    fn start(request: RequestBuilder, bytes: &[u8]) -> Stall {
        let (sender, receiver) = unbounded::<Vec<u8>>();
        for piece in bytes.chunks(64 * KIB) {
            sender.unbounded_send(piece.to_vec()).unwrap();
        }
        let taken = Arc::new(AtomicU64::new(0));
        let counter = taken.clone();
        let body = reqwest::Body::wrap_stream(receiver.map(move |piece| {
            counter.fetch_add(piece.len() as u64, Ordering::SeqCst);
            Ok::<_, io::Error>(piece)
        }));
        Stall {
            taken,
            offered: bytes.len() as u64,
            _sender: sender,
            request: tokio::spawn(request.body(body).send()),
        }
    }

    /// Waits until the HTTP client has taken every offered byte, so that the crash finds them
    /// sent rather than still queued in the test.
    async fn wait_sent(&self) {
        let started = Instant::now();
        while self.taken.load(Ordering::SeqCst) < self.offered {
            assert!(
                !self.request.is_finished(),
                "a stalled request ended before the crash"
            );
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server stopped reading a stalled request"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// After the crash: the request cannot have succeeded, since its body never ended.
    async fn assert_failed(self) {
        let outcome = tokio::time::timeout(Duration::from_secs(30), self.request)
            .await
            .expect("a stalled request outlived the server")
            .unwrap();
        if let Ok(response) = outcome {
            assert!(
                !response.status().is_success(),
                "a request whose body never ended succeeded: {}",
                response.status()
            );
        }
    }
}
