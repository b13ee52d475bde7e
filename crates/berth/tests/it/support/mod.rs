//! Test servers and helpers shared by the integration tests.

/// Declares `mod <name> { fn sqlite(); fn postgres(); }` for each test body named, so that
/// every body runs once per database backend and a failure names the backend it happened on.
/// Bodies that run blocking clients (skopeo) next to the in-process server ask for
/// `multi_thread:`, so the server keeps answering while a client blocks its thread; the others
/// run on one thread, which keeps the order of events on a connection deterministic.
#[macro_export]
macro_rules! on_both_backends {
    (multi_thread: $($name:ident),* $(,)?) => {
        $crate::on_both_backends!(@each [tokio::test(flavor = "multi_thread", worker_threads = 2)] $($name),*);
    };
    (@each [$test:meta] $($name:ident),*) => {$(
        mod $name {
            use $crate::support::Backend;

            #[$test]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await;
            }

            #[$test]
            async fn postgres() {
                super::$name(Backend::Postgres).await;
            }
        }
    )*};
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!(@each [tokio::test] $($name),*);
    };
}

pub mod api;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use berth_server::{App, ServerSettings};
use berth_store::audit::NewAuditEvent;
use berth_store::tenancy::NewRobot;
use berth_store::Store;
pub use berth_testkit::db::{Backend, TestDatabase};
use berth_testkit::Image;
use sha2::Digest as _;
use tokio::net::TcpListener;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// Berth running inside the test process, on a port-0 listener bound before the server
/// starts, with a fresh database of the chosen backend.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub url: String,
    /// `127.0.0.1:<port>`, as skopeo wants it.
    pub host: String,
    /// The REST API's services (the store, the secrets box, the image list).
    pub state: berth_api::ApiState,
    registry: berth_registry::RegistryState,
    pub data_dir: PathBuf,
    pub backend: Backend,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _database: TestDatabase,
}

/// Syncs in tests: quick to notice a dead worker, quick to poll, and no schedule of their own
/// unless a test asks (a registry's interval), so a test's syncs are the ones it requests.
pub fn sync_settings() -> berth_server::SyncSettings {
    berth_server::SyncSettings {
        default_interval: Duration::from_secs(3600),
        lease: Duration::from_secs(5),
        scheduler_tick: Duration::from_secs(1),
        poll: Duration::from_millis(200),
        remote: berth_server::RemoteSettings {
            retries: 1,
            backoff_base: Duration::from_millis(50),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Scans as tests want them: short leases and polls, and a rescan check every second.
pub fn scan_settings() -> berth_server::ScanSettings {
    berth_server::ScanSettings {
        lease: Duration::from_secs(5),
        poll: Duration::from_millis(200),
        scheduler_tick: Duration::from_secs(1),
        ..Default::default()
    }
}

impl TestServer {
    pub async fn spawn(backend: Backend) -> TestServer {
        let database = TestDatabase::new(backend).await;
        let data_dir = database.dir.path().join("data");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let url = format!("http://{host}");
        let app = App::start(ServerSettings {
            data_dir: data_dir.clone(),
            database_url: database.url.clone(),
            external_url: url.clone(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            token_ttl: Duration::from_secs(300),
            upload_ttl: Duration::from_secs(3600),
            sync: sync_settings(),
            scan: scan_settings(),
        })
        .await
        .expect("starting berth");
        let state = app.api.clone();
        let registry = app.registry.clone();
        // Most tests push to made-up repositories as admin; auto-create gives each of them a
        // space, as a platform admin who turned the setting on would. Tests of the space rule
        // turn it off again.
        set_auto_create_spaces(&state.store, true).await;
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.serve(listener, async {
                let _ = signal.await;
            })
            .await
            .expect("serving");
        });
        TestServer {
            url,
            host,
            state,
            registry,
            data_dir,
            backend,
            shutdown: Some(shutdown),
            task: Some(task),
            _database: database,
        }
    }

    /// Stops serving and waits until buffered pull counts are written.
    /// The database URL the server runs on, for the binary's local commands
    /// (`berth vulndb import --database-url`).
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Writes buffered pull counts now, so tests can read them.
    pub async fn flush_pulls(&self) {
        self.registry.flush_buffers().await;
    }

    /// Creates a user directly in the store.
    pub async fn create_user(&self, username: &str, password: &str, is_admin: bool) {
        let hash = berth_identity::passwords::hash(password).await.unwrap();
        self.create_user_with_hash(username, &hash, is_admin).await;
    }

    /// Creates a user directly in the store with a password hash made earlier
    /// (`berth_identity::passwords::hash`), so that a test making many users pays for argon2
    /// once instead of once per user.
    pub async fn create_user_with_hash(&self, username: &str, password_hash: &str, is_admin: bool) {
        self.state
            .store
            .create_user(berth_store::users::NewUser {
                username,
                password_hash,
                email: None,
                is_admin,
            })
            .await
            .unwrap();
    }

    /// A token from `/auth/token` for `scopes`, as `credentials` (user, password) or anonymous.
    pub async fn token(&self, credentials: Option<(&str, &str)>, scopes: &[&str]) -> String {
        let mut url = format!("{}/auth/token?service=berth", self.url);
        for scope in scopes {
            url.push_str("&scope=");
            url.push_str(
                &url::form_urlencoded::byte_serialize(scope.as_bytes()).collect::<String>(),
            );
        }
        let mut request = client().get(url);
        if let Some((user, password)) = credentials {
            request = request.basic_auth(user, Some(password));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "token request failed");
        let body: serde_json::Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    /// An admin token with pull, push and delete on each of `repositories`.
    pub async fn admin_token(&self, repositories: &[&str]) -> String {
        let scopes: Vec<String> = repositories
            .iter()
            .map(|r| format!("repository:{r}:pull,push,delete"))
            .collect();
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        self.token(Some(("admin", ADMIN_PASSWORD)), &scopes).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Runs the real `berth` binary as a user would, without the caller's `BERTH_*` server,
/// session or data settings; `config_dir` is where it keeps its saved login. Answers whether
/// it succeeded, and its standard output and error.
pub fn run_berth(config_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .env("BERTH_CONFIG_DIR", config_dir)
        .env_remove("BERTH_URL")
        .env_remove("BERTH_TOKEN")
        .env_remove("BERTH_DATA_DIR")
        .env_remove("BERTH_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("running berth");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub fn client() -> reqwest::Client {
    // reqwest is built without a crypto provider of its own (see the workspace's Cargo.toml),
    // so one must be installed before any client is built, even for plain HTTP.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The real `berth` binary as a child process, for tests that must kill or restart it.
pub struct BinaryServer {
    pub url: String,
    pub host: String,
    pub data_dir: PathBuf,
    child: Child,
    /// Everything the server wrote to stderr (its log), for failure messages.
    pub log: Arc<Mutex<Vec<String>>>,
    /// Everything the server wrote to stdout (what it tells the person who started it).
    pub stdout: Arc<Mutex<Vec<String>>>,
}

impl BinaryServer {
    /// Starts `berth serve` on port 0 with `data_dir` (kept across restarts) and waits until
    /// it logs the address it listens on.
    pub fn spawn(data_dir: &Path, database_url: Option<&str>) -> BinaryServer {
        BinaryServer::spawn_with(data_dir, database_url, |_| {})
    }

    /// As [`BinaryServer::spawn`], with `configure` changing the command first (its
    /// environment, or flags after `serve`). By default the admin password is
    /// [`ADMIN_PASSWORD`] and the log is JSON; the log may be text too.
    pub fn spawn_with(
        data_dir: &Path,
        database_url: Option<&str>,
        configure: impl FnOnce(&mut Command),
    ) -> BinaryServer {
        let mut command = Command::new(env!("CARGO_BIN_EXE_berth"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BERTH_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = database_url {
            command.env("BERTH_DATABASE_URL", url);
        }
        configure(&mut command);
        let mut child = command.spawn().expect("starting the berth binary");
        let stdout_lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let stdout_writer = stdout_lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                stdout_writer.lock().unwrap().push(line);
            }
        });
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let log_writer = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(listen) = serving_address(&line) {
                    let _ = address_tx.send(listen);
                }
                log_writer.lock().unwrap().push(line);
            }
        });
        let started = Instant::now();
        let host = loop {
            match address_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(host) => break host,
                Err(_) if started.elapsed() > Duration::from_secs(60) => {
                    let _ = child.kill();
                    panic!("berth did not start:\n{}", log.lock().unwrap().join("\n"));
                }
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!(
                            "berth exited with {status}:\n{}",
                            log.lock().unwrap().join("\n")
                        );
                    }
                }
            }
        };
        BinaryServer {
            url: format!("http://{host}"),
            host,
            data_dir: data_dir.to_path_buf(),
            child,
            log,
            stdout: stdout_lines,
        }
    }

    /// What the server printed on stdout once it has printed the welcome (which ends with how
    /// to sign in as `admin`), waiting for it a while.
    pub fn welcome(&self) -> String {
        let started = Instant::now();
        loop {
            let text = self.stdout.lock().unwrap().join("\n");
            if text.contains("Berth is serving at") && text.contains("`admin`") {
                return text;
            }
            if started.elapsed() > Duration::from_secs(10) {
                panic!("berth printed no welcome; stdout:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown code runs, as in a crash or an OOM kill.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in the log line saying the server is serving, as JSON or as text
/// (`… berth is serving listen=127.0.0.1:1234 …`).
fn serving_address(line: &str) -> Option<String> {
    if let Ok(event) = serde_json::from_str::<serde_json::Value>(line) {
        return (event["fields"]["message"] == "berth is serving").then(|| {
            event["fields"]["listen"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        });
    }
    if !line.contains("berth is serving") {
        return None;
    }
    line.split_whitespace()
        .find_map(|word| word.strip_prefix("listen="))
        .map(str::to_string)
}

// ---------------------------------------------------------------------------------------------
// Tenancy set up straight in the store: spaces, workspaces, members, bindings and robots.
// These take a `Store` rather than a server so that tests of the binary, which has no
// in-process state, can open its database and use them too.
// ---------------------------------------------------------------------------------------------

/// The audit event every setup change is recorded with.
fn setup_event<'a>(action: &'a str, target: &'a str) -> NewAuditEvent<'a> {
    NewAuditEvent {
        actor: "test-setup",
        action,
        target,
        ..Default::default()
    }
}

/// The id of the hosted registry. The store looks registries up by id only; the migration
/// inserts `hosted` as the first registry (with its `library` space), so in a fresh database
/// it is 1, which this checks rather than assumes.
pub async fn hosted_registry_id(store: &Store) -> i64 {
    let library = store
        .space(1, "library")
        .await
        .unwrap()
        .expect("the hosted registry (id 1) holds the `library` space");
    assert_eq!(library.registry, "hosted");
    library.registry_id
}

/// Creates space `name` on the hosted registry and returns its id.
pub async fn create_space(store: &Store, name: &str, public: bool) -> i64 {
    let registry = hosted_registry_id(store).await;
    create_space_in(store, (registry, "hosted"), name, public).await
}

/// Creates space `name` on registry `(id, name)` straight in the store, as a sync of a
/// Harbor's projects does, and returns its id: the API would create it in the registry first.
pub async fn create_space_in(
    store: &Store,
    (registry, registry_name): (i64, &str),
    name: &str,
    public: bool,
) -> i64 {
    let target = format!("{registry_name}/{name}");
    store
        .create_space(
            registry,
            name,
            public,
            "",
            &setup_event("space.create", &target),
        )
        .await
        .unwrap()
        .id
}

/// The id of the existing hosted space `name` (created explicitly or by auto-create).
pub async fn space_id(store: &Store, name: &str) -> i64 {
    store
        .hosted_spaces(&[name])
        .await
        .unwrap()
        .get(name)
        .unwrap_or_else(|| panic!("space `{name}` does not exist"))
        .id
}

/// Binds hosted space `space` to exactly `workspaces` (none: unbinds it from all).
pub async fn bind(store: &Store, space: &str, workspaces: &[&str]) {
    let id = space_id(store, space).await;
    let names: Vec<String> = workspaces.iter().map(|w| w.to_string()).collect();
    let target = format!("hosted/{space}");
    store
        .set_bindings(id, &names, &setup_event("space.bind", &target))
        .await
        .unwrap();
}

/// Creates workspace `name` and returns its id.
pub async fn create_workspace(store: &Store, name: &str) -> i64 {
    let target = format!("workspace/{name}");
    store
        .create_workspace(name, "", &setup_event("workspace.create", &target))
        .await
        .unwrap()
        .id
}

/// Makes user `username` a member of `workspace` with `role` (`admin`, `editor`, `viewer`),
/// or changes their role.
pub async fn set_role(store: &Store, workspace: &str, username: &str, role: &str) {
    let workspace_id = store
        .workspace(workspace)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("workspace `{workspace}` does not exist"))
        .id;
    let user_id = store
        .find_user(username)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("user `{username}` does not exist"))
        .id;
    let target = format!("workspace/{workspace}/members/{username}");
    store
        .set_member(
            workspace_id,
            user_id,
            role,
            &setup_event("member.set", &target),
        )
        .await
        .unwrap();
}

/// Creates robot `short` in `workspace` and returns its credentials: the full name
/// `robot$<workspace>+<short>` and the secret.
pub async fn create_robot(
    store: &Store,
    workspace: &str,
    short: &str,
    can_pull: bool,
    can_push: bool,
) -> (String, String) {
    let workspace_id = store
        .workspace(workspace)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("workspace `{workspace}` does not exist"))
        .id;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let secret = hex::encode(sha2::Sha256::digest(format!("{workspace}+{short}@{nanos}")));
    let name = berth_identity::principals::robot_name(workspace, short);
    store
        .create_robot(
            NewRobot {
                workspace_id,
                name: short,
                secret_sha256: &berth_identity::principals::robot_secret_digest(&secret),
                can_pull,
                can_push,
                expires_at: None,
                created_by: "test-setup",
                space_id: None,
            },
            &setup_event("robot.create", &name),
        )
        .await
        .unwrap();
    (name, secret)
}

/// Deletes robot `short` of `workspace`.
pub async fn delete_robot(store: &Store, workspace: &str, short: &str) {
    let workspace_id = store.workspace(workspace).await.unwrap().unwrap().id;
    let name = berth_identity::principals::robot_name(workspace, short);
    assert!(store
        .delete_robot(workspace_id, short, &setup_event("robot.delete", &name))
        .await
        .unwrap());
}

/// Turns the `auto_create_spaces` setting on or off, keeping anonymous pull on.
pub async fn set_auto_create_spaces(store: &Store, on: bool) {
    store
        .set_access_settings(
            berth_store::facts::AccessSettings {
                anonymous_pull: true,
                auto_create_spaces: on,
            },
            &setup_event("settings.update", "settings"),
        )
        .await
        .unwrap();
}

/// Through the REST client of a platform admin: workspace `workspace`, and a private hosted
/// space `space` bound to it, the starting point of the CLI tests.
pub async fn workspace_with_private_space(
    admin: &berth_client::Client,
    workspace: &str,
    space: &str,
) {
    use berth_client::{Bindings, NewSpace, NewWorkspace};
    admin
        .create_workspace(&NewWorkspace {
            name: workspace.into(),
            description: None,
        })
        .await
        .unwrap();
    admin
        .create_space(
            "hosted",
            &NewSpace {
                name: space.into(),
                public: Some(false),
                description: None,
            },
        )
        .await
        .unwrap();
    admin
        .set_bindings(
            "hosted",
            space,
            &Bindings {
                workspaces: vec![workspace.into()],
            },
        )
        .await
        .unwrap();
}

/// Pushes `image` to `repository` under `reference` over plain HTTP with `token`: each blob
/// in one monolithic POST, then the manifest.
pub async fn push_image(url: &str, token: &str, repository: &str, image: &Image, reference: &str) {
    let http = client();
    for blob in image.blobs() {
        let response = http
            .post(format!(
                "{url}/v2/{repository}/blobs/uploads/?digest={}",
                blob.digest
            ))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(blob.bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "pushing a blob to {repository}");
    }
    put_manifest(url, token, repository, image, reference).await;
}

/// PUTs `image`'s manifest as `repository:reference`; its blobs must be there already (a
/// retag is this alone).
pub async fn put_manifest(
    url: &str,
    token: &str,
    repository: &str,
    image: &Image,
    reference: &str,
) {
    let response = client()
        .put(format!("{url}/v2/{repository}/manifests/{reference}"))
        .bearer_auth(token)
        .header("content-type", image.manifest.media_type.as_str())
        .body(image.manifest.bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        201,
        "pushing the manifest to {repository}:{reference}"
    );
}

/// Runs skopeo with `args`, panicking with its output when it fails.
pub fn skopeo(args: &[&str]) -> String {
    let output = Command::new("skopeo")
        .args(args)
        .output()
        .expect("running skopeo (apt-get install skopeo)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        panic!(
            "skopeo {} failed:\n{}\n{}",
            args.join(" "),
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    stdout
}

/// Runs skopeo and returns whether it succeeded and what it printed on stderr.
pub fn skopeo_result(args: &[&str]) -> (bool, String) {
    let output = Command::new("skopeo")
        .args(args)
        .output()
        .expect("running skopeo");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The Docker config (`{"auths": {…}}`) a Kubernetes pull secret's `.dockerconfigjson` holds.
pub fn docker_config(secret: &serde_json::Value) -> serde_json::Value {
    let encoded = secret["data"][".dockerconfigjson"]
        .as_str()
        .expect("a pull secret holds .dockerconfigjson");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect(".dockerconfigjson is base64");
    serde_json::from_slice(&decoded).expect(".dockerconfigjson is JSON")
}
