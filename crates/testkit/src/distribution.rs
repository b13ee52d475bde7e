//! CNCF Distribution (`/usr/bin/docker-registry`, Debian's `docker-registry` package) as a
//! registry for tests and benchmarks: started on a free loopback port with its own config
//! and storage, killed on drop.
//!
//! Besides the process, this module writes repositories straight into Distribution's
//! filesystem storage layout ([`StorageWriter`]), which is how a test gets thousands of
//! repositories in a second, and pushes images through the HTTP API ([`push`]) like a client.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::image::{Blob, LayoutContent};

/// Where Debian installs CNCF Distribution.
pub const DOCKER_REGISTRY: &str = "/usr/bin/docker-registry";

/// How long [`DistributionRegistry::start`] waits for `/v2/` to answer.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How the registry authenticates clients.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// Anyone may pull and push.
    #[default]
    None,
    /// HTTP Basic against an htpasswd file holding this one user (bcrypt, which is all
    /// Distribution accepts).
    Htpasswd { username: String, password: String },
    /// Docker token auth: Distribution sends clients to `realm` and accepts JWTs for `service`
    /// signed by `issuer` with a key whose certificate is in `root_cert_bundle_path`.
    Token {
        realm: String,
        service: String,
        issuer: String,
        root_cert_bundle_path: PathBuf,
    },
}

/// What [`DistributionRegistry::start`] configures.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub auth: Auth,
    /// One `notifications.endpoints` entry: Distribution POSTs its events to the URL with
    /// these headers.
    pub notifications: Option<(String, Vec<(String, String)>)>,
    /// Storage to use (and keep): a directory laid out by an earlier run or by
    /// [`StorageWriter`]. A fresh temporary directory when `None`.
    pub storage_dir: Option<PathBuf>,
}

impl Options {
    pub fn htpasswd(username: &str, password: &str) -> Options {
        Options {
            auth: Auth::Htpasswd {
                username: username.into(),
                password: password.into(),
            },
            ..Options::default()
        }
    }

    pub fn with_storage(mut self, dir: &Path) -> Options {
        self.storage_dir = Some(dir.to_path_buf());
        self
    }
}

/// A running `docker-registry serve` on `127.0.0.1`. Killed when dropped.
pub struct DistributionRegistry {
    /// Holds the config, the htpasswd file, the log and (by default) the storage.
    dir: TempDir,
    storage: PathBuf,
    addr: SocketAddr,
    child: Option<Child>,
}

impl std::fmt::Debug for DistributionRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistributionRegistry")
            .field("addr", &self.addr)
            .field("storage", &self.storage)
            .field("running", &self.child.is_some())
            .finish()
    }
}

/// A loopback port nothing listens on: bound to port 0, then released.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

impl DistributionRegistry {
    /// Writes `config.yml` and starts the registry, waiting until `/v2/` answers.
    ///
    /// # Panics
    ///
    /// If `/usr/bin/docker-registry` is missing, or the registry does not answer within
    /// 20 seconds (the message carries its log).
    pub fn start(options: Options) -> DistributionRegistry {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let storage = options
            .storage_dir
            .clone()
            .unwrap_or_else(|| dir.path().join("storage"));
        fs::create_dir_all(&storage).expect("create the storage directory");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let config = config(&options, dir.path(), &storage, addr);
        // JSON is YAML, so the config is written with serde_json and needs no escaping rules.
        fs::write(
            dir.path().join("config.yml"),
            serde_json::to_vec_pretty(&config).expect("serialize the config"),
        )
        .expect("write config.yml");
        let mut registry = DistributionRegistry {
            dir,
            storage,
            addr,
            child: None,
        };
        registry.spawn();
        registry
    }

    fn spawn(&mut self) {
        assert!(
            Path::new(DOCKER_REGISTRY).exists(),
            "{DOCKER_REGISTRY} is missing: install Debian's docker-registry package"
        );
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open the registry log");
        let child = Command::new(DOCKER_REGISTRY)
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.v2_status() {
                if status == 200 || status == 401 {
                    return;
                }
            }
            if let Some(Ok(Some(exit))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                panic!("docker-registry exited ({exit}):\n{}", self.log());
            }
            if Instant::now() > deadline {
                self.stop();
                panic!(
                    "docker-registry did not answer on {} within {START_TIMEOUT:?}:\n{}",
                    self.addr,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The status of `GET /v2/`, by hand over a socket so that starting needs no runtime.
    fn v2_status(&self) -> Option<u16> {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(
            stream,
            "GET /v2/ HTTP/1.0\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).ok()?;
        std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn storage_dir(&self) -> &Path {
        &self.storage
    }

    /// Everything the registry printed so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    /// Kills the registry (SIGKILL) and waits for it; the port then refuses connections.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the registry again on the same port, config and storage.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for DistributionRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Distribution's configuration for `options`.
fn config(options: &Options, dir: &Path, storage: &Path, addr: SocketAddr) -> Value {
    let mut config = json!({
        "version": "0.1",
        "log": { "level": "warn", "accesslog": { "disabled": true } },
        "storage": {
            "filesystem": { "rootdirectory": storage },
            "delete": { "enabled": true },
            "maintenance": { "uploadpurging": { "enabled": false } },
        },
        "http": {
            "addr": addr.to_string(),
            "secret": "berth-testkit",
            "headers": { "X-Content-Type-Options": ["nosniff"] },
        },
    });
    match &options.auth {
        Auth::None => {}
        Auth::Htpasswd { username, password } => {
            let path = dir.join("htpasswd");
            fs::write(&path, htpasswd_line(username, password)).expect("write htpasswd");
            config["auth"] = json!({ "htpasswd": { "realm": "berth-test", "path": path } });
        }
        Auth::Token {
            realm,
            service,
            issuer,
            root_cert_bundle_path,
        } => {
            config["auth"] = json!({ "token": {
                "realm": realm,
                "service": service,
                "issuer": issuer,
                "rootcertbundle": root_cert_bundle_path,
            }});
        }
    }
    if let Some((url, headers)) = &options.notifications {
        let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, value) in headers {
            grouped.entry(name).or_default().push(value);
        }
        config["notifications"] = json!({ "endpoints": [{
            "name": "berth-test",
            "url": url,
            "headers": grouped,
            "timeout": "2s",
            "threshold": 3,
            "backoff": "1s",
        }]});
    }
    config
}

/// One htpasswd line, `user:$2y$…`, bcrypt at the lowest cost (tests need speed, not strength).
pub fn htpasswd_line(username: &str, password: &str) -> String {
    let hash = bcrypt::hash_with_result(password, 4)
        .expect("bcrypt a password")
        .format_for_version(bcrypt::Version::TwoY);
    format!("{username}:{hash}\n")
}

/// Writes repositories directly in Distribution's filesystem storage format, as its own
/// pushes would leave them:
///
/// ```text
/// docker/registry/v2/blobs/sha256/<2>/<hex>/data
/// docker/registry/v2/repositories/<name>/_layers/sha256/<hex>/link
/// docker/registry/v2/repositories/<name>/_manifests/revisions/sha256/<hex>/link
/// docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/current/link
/// docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/index/sha256/<hex>/link
/// ```
///
/// Each link file holds the digest (`sha256:<hex>`). Blobs are written once per writer, so
/// thousands of repositories sharing layers cost one copy. Start a [`DistributionRegistry`]
/// with [`Options::with_storage`] on the same directory to serve them.
#[derive(Debug)]
pub struct StorageWriter {
    root: PathBuf,
    written: HashSet<String>,
}

impl StorageWriter {
    /// A writer into `storage_dir` (the registry's `rootdirectory`).
    pub fn new(storage_dir: &Path) -> StorageWriter {
        StorageWriter {
            root: storage_dir.join("docker/registry/v2"),
            written: HashSet::new(),
        }
    }

    /// Stores `content` (an image or an index with its children) in `repository` under `tag`.
    pub fn put(
        &mut self,
        repository: &str,
        tag: &str,
        content: &impl LayoutContent,
    ) -> io::Result<()> {
        for blob in content.content_blobs() {
            self.put_blob(repository, blob)?;
        }
        for child in content.child_manifests() {
            self.put_manifest(repository, child)?;
        }
        self.put_manifest(repository, content.root())?;
        self.tag(repository, tag, content.root())
    }

    /// Stores `blob` and links it into `repository` as a layer (configs are layers too).
    pub fn put_blob(&mut self, repository: &str, blob: &Blob) -> io::Result<()> {
        self.write_data(blob)?;
        let repo = self.repository_dir(repository);
        write_link(&repo.join("_layers/sha256").join(blob.hex()), &blob.digest)
    }

    /// Stores a manifest and links it into `repository` as a revision, untagged.
    pub fn put_manifest(&mut self, repository: &str, manifest: &Blob) -> io::Result<()> {
        self.write_data(manifest)?;
        let repo = self.repository_dir(repository);
        write_link(
            &repo
                .join("_manifests/revisions/sha256")
                .join(manifest.hex()),
            &manifest.digest,
        )
    }

    /// Points `tag` of `repository` at a manifest already stored there.
    pub fn tag(&mut self, repository: &str, tag: &str, manifest: &Blob) -> io::Result<()> {
        let tag_dir = self
            .repository_dir(repository)
            .join("_manifests/tags")
            .join(tag);
        write_link(&tag_dir.join("current"), &manifest.digest)?;
        write_link(
            &tag_dir.join("index/sha256").join(manifest.hex()),
            &manifest.digest,
        )
    }

    fn repository_dir(&self, repository: &str) -> PathBuf {
        assert!(
            !repository
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == ".."),
            "`{repository}` is not a repository name"
        );
        self.root.join("repositories").join(repository)
    }

    fn write_data(&mut self, blob: &Blob) -> io::Result<()> {
        if !self.written.insert(blob.digest.clone()) {
            return Ok(());
        }
        let dir = self
            .root
            .join("blobs/sha256")
            .join(&blob.hex()[..2])
            .join(blob.hex());
        fs::create_dir_all(&dir)?;
        fs::write(dir.join("data"), &blob.bytes)
    }
}

/// `<dir>/link` holding `digest`.
fn write_link(dir: &Path, digest: &str) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(dir.join("link"), digest)
}

/// Pushes `content` to `repository:tag` on the registry at `base_url` through the HTTP API:
/// each blob as a monolithic upload (`POST` then `PUT ?digest=`), each child manifest by
/// digest, then the root manifest by tag. `credentials` are sent as HTTP Basic.
pub async fn push(
    base_url: &str,
    repository: &str,
    tag: &str,
    content: &impl LayoutContent,
    credentials: Option<(&str, &str)>,
) -> Result<(), String> {
    let pusher = Pusher::new(base_url, credentials);
    for blob in content.content_blobs() {
        pusher.blob(repository, blob).await?;
    }
    for child in content.child_manifests() {
        pusher.manifest(repository, &child.digest, child).await?;
    }
    pusher.manifest(repository, tag, content.root()).await
}

/// Pushes one manifest under `reference` (a tag or its digest), e.g. a tag-schema referrers
/// index. Its blobs and children must be there already.
pub async fn push_manifest(
    base_url: &str,
    repository: &str,
    reference: &str,
    manifest: &Blob,
    credentials: Option<(&str, &str)>,
) -> Result<(), String> {
    Pusher::new(base_url, credentials)
        .manifest(repository, reference, manifest)
        .await
}

/// Pushes one blob into `repository`.
pub async fn push_blob(
    base_url: &str,
    repository: &str,
    blob: &Blob,
    credentials: Option<(&str, &str)>,
) -> Result<(), String> {
    Pusher::new(base_url, credentials)
        .blob(repository, blob)
        .await
}

struct Pusher {
    client: reqwest::Client,
    base: String,
    credentials: Option<(String, String)>,
}

impl Pusher {
    fn new(base_url: &str, credentials: Option<(&str, &str)>) -> Pusher {
        // reqwest is built without a crypto provider of its own (see the workspace's Cargo.toml).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        Pusher {
            client: reqwest::Client::new(),
            base: base_url.trim_end_matches('/').to_string(),
            credentials: credentials.map(|(u, p)| (u.to_string(), p.to_string())),
        }
    }

    fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.credentials {
            Some((username, password)) => request.basic_auth(username, Some(password)),
            None => request,
        }
    }

    async fn blob(&self, repository: &str, blob: &Blob) -> Result<(), String> {
        let start = format!("{}/v2/{repository}/blobs/uploads/", self.base);
        let answer = self
            .authed(self.client.post(&start))
            .send()
            .await
            .map_err(|e| format!("POST {start}: {e}"))?;
        if answer.status() != reqwest::StatusCode::ACCEPTED {
            return Err(format!("POST {start}: HTTP {}", answer.status()));
        }
        let location = answer
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("POST {start}: no Location"))?;
        let mut upload = reqwest::Url::parse(&start)
            .and_then(|u| u.join(location))
            .map_err(|e| format!("POST {start}: bad Location `{location}`: {e}"))?;
        upload.query_pairs_mut().append_pair("digest", &blob.digest);
        let answer = self
            .authed(self.client.put(upload.clone()))
            .header("content-type", "application/octet-stream")
            .body(blob.bytes.clone())
            .send()
            .await
            .map_err(|e| format!("PUT {}: {e}", upload.path()))?;
        if answer.status() != reqwest::StatusCode::CREATED {
            let status = answer.status();
            let body = answer.text().await.unwrap_or_default();
            return Err(format!("PUT {}: HTTP {status}: {body}", upload.path()));
        }
        Ok(())
    }

    async fn manifest(
        &self,
        repository: &str,
        reference: &str,
        manifest: &Blob,
    ) -> Result<(), String> {
        let url = format!("{}/v2/{repository}/manifests/{reference}", self.base);
        let answer = self
            .authed(self.client.put(&url))
            .header("content-type", &manifest.media_type)
            .body(manifest.bytes.clone())
            .send()
            .await
            .map_err(|e| format!("PUT {url}: {e}"))?;
        if answer.status() != reqwest::StatusCode::CREATED {
            let status = answer.status();
            let body = answer.text().await.unwrap_or_default();
            return Err(format!("PUT {url}: HTTP {status}: {body}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{index, layer, ImageBuilder};

    fn get(registry: &DistributionRegistry, path: &str) -> (u16, Vec<u8>) {
        let mut stream = TcpStream::connect(registry.addr()).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: {}\r\nAccept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json\r\n\r\n",
            registry.addr()
        )
        .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an HTTP answer");
        let status = std::str::from_utf8(&answer[9..12])
            .unwrap()
            .parse()
            .unwrap();
        (status, answer[split + 4..].to_vec())
    }

    fn json_of(body: &[u8]) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[test]
    fn written_storage_is_served_by_distribution() {
        let storage = tempfile::tempdir().unwrap();
        let shared = layer(&[("etc/motd", b"hi\n")]);
        let image = ImageBuilder::new()
            .layer(shared.clone(), "COPY motd /")
            .build();
        let multi = index(vec![
            image.clone(),
            ImageBuilder::new()
                .platform("linux", "arm64", None)
                .layer(shared, "COPY motd /")
                .build(),
        ]);
        let mut writer = StorageWriter::new(storage.path());
        for i in 0..50 {
            writer
                .put(&format!("team-{}/app-{i}", i % 3), "v1", &image)
                .unwrap();
        }
        writer.put("team-0/app-0", "v2", &image).unwrap();
        writer.put("multi/arch", "latest", &multi).unwrap();

        let registry = DistributionRegistry::start(Options::default().with_storage(storage.path()));
        let (status, body) = get(&registry, "/v2/_catalog?n=1000");
        assert_eq!(status, 200);
        let names = json_of(&body)["repositories"].as_array().unwrap().len();
        assert_eq!(names, 51);
        let (_, body) = get(&registry, "/v2/team-0/app-0/tags/list");
        assert_eq!(json_of(&body)["tags"], json!(["v1", "v2"]));
        let (status, body) = get(&registry, "/v2/team-1/app-1/manifests/v1");
        assert_eq!(status, 200);
        assert_eq!(body, image.manifest.bytes);
        let (status, body) = get(&registry, "/v2/multi/arch/manifests/latest");
        assert_eq!((status, body), (200, multi.manifest.bytes.clone()));
        let child = &multi.images[1].manifest.digest;
        let (status, _) = get(&registry, &format!("/v2/multi/arch/manifests/{child}"));
        assert_eq!(status, 200);
        let (status, body) = get(
            &registry,
            &format!("/v2/team-2/app-2/blobs/{}", image.config.digest),
        );
        assert_eq!((status, body), (200, image.config.bytes.clone()));
        // A blob the repository was never given is not served from it.
        let (status, _) = get(
            &registry,
            &format!("/v2/team-2/app-2/blobs/{}", multi.images[1].config.digest),
        );
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn pushes_and_restarts_keep_content() {
        let mut registry = DistributionRegistry::start(Options::htpasswd("alice", "s3cret"));
        let image = ImageBuilder::new()
            .layer(layer(&[("a", b"a")]), "ADD a /")
            .build();
        let refused = push(
            &registry.url(),
            "team/app",
            "v1",
            &image,
            Some(("alice", "wrong")),
        )
        .await;
        assert!(refused.unwrap_err().contains("401"));
        push(
            &registry.url(),
            "team/app",
            "v1",
            &image,
            Some(("alice", "s3cret")),
        )
        .await
        .unwrap();
        registry.restart();
        let written = registry
            .storage_dir()
            .join("docker/registry/v2/repositories/team/app/_manifests/tags/v1/current/link");
        assert_eq!(fs::read_to_string(written).unwrap(), image.manifest.digest);
        let (status, _) = get(&registry, "/v2/");
        assert_eq!(status, 401);
        registry.stop();
        assert!(TcpStream::connect(registry.addr()).is_err());
    }
}
