//! Berth's server, assembled: it opens the data dir, the database and the blob store, creates
//! the admin on first start, and serves the hosted registry (`berth-registry`), the REST API and
//! the console (`berth-api`), health at `/healthz` and `/readyz` and metrics at `/metrics` on
//! one port, with the background upkeep they need.
//!
//! **Architecture invariant:** this crate holds no handler of its own beyond health and
//! metrics and no rule at all; it wires services together. The registry and the API know
//! nothing of each other, and only this crate depends on both.

/// Request metrics and the Prometheus endpoint.
pub mod metrics;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use berth_api::{ApiServices, ApiState};
use berth_api_types::Secret;
use berth_blobs::{BlobStore, FsBlobStore};
use berth_identity::passwords;
use berth_identity::secrets::SecretBox;
use berth_identity::tokens::{self, TokenService};
use berth_registry::RegistryState;
use berth_scanner::ScanService;
pub use berth_scanner::ScanSettings;
use berth_store::users::NewUser;
use berth_store::Store;
use berth_sync::SyncService;
pub use berth_sync::{RemoteSettings, SyncSettings};
use tokio::net::TcpListener;

/// What the server needs to start. The binary fills it from the configuration.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The address clients use, without a trailing slash.
    pub external_url: String,
    /// The bootstrap admin's password; random when unset.
    pub admin_password: Option<Secret>,
    pub token_ttl: Duration,
    /// Upload sessions idle for longer are removed.
    pub upload_ttl: Duration,
    /// Syncs of external registries.
    pub sync: SyncSettings,
    /// Vulnerability scans.
    pub scan: ScanSettings,
}

/// What this start did about the bootstrap user `admin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminAccount {
    /// `admin` existed already.
    Existing,
    /// Created now with the password from the settings (`BERTH_ADMIN_PASSWORD`).
    CreatedWithGivenPassword,
    /// Created now with this generated password, also written to `saved_to`.
    CreatedWithGeneratedPassword { password: Secret, saved_to: PathBuf },
}

/// The file the generated admin password is written to, in the data dir.
pub const INITIAL_ADMIN_PASSWORD_FILE: &str = "initial-admin-password";

/// A started application: the services, and the router serving them.
pub struct App {
    pub registry: RegistryState,
    pub api: ApiState,
    pub router: Router,
    pub admin: AdminAccount,
}

impl App {
    /// Opens the data dir, database and blob store, creates the admin on first start, and
    /// builds the router. Nothing listens yet.
    pub async fn start(settings: ServerSettings) -> anyhow::Result<App> {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
        let store = Store::connect(&settings.database_url)
            .await
            .context("opening the database")?;
        let blobs: Arc<dyn BlobStore> = Arc::new(
            FsBlobStore::open(settings.data_dir.join("blobs"))
                .await
                .context("opening blob storage")?,
        );
        let tokens = Arc::new(
            TokenService::open(&settings.data_dir, settings.token_ttl)
                .context("loading the token signing key")?,
        );
        let secrets =
            Arc::new(SecretBox::open(&settings.data_dir).context("loading the secrets key")?);
        let passwords = Arc::new(passwords::PasswordChecker::default());
        let admin = bootstrap_admin(&store, &settings).await?;
        let external_url: Arc<str> = settings.external_url.trim_end_matches('/').into();
        let sync = SyncService::new(store.clone(), secrets.clone(), settings.sync.clone());
        let scans = ScanService::new(
            store.clone(),
            blobs.clone(),
            sync.clone(),
            settings.scan.clone(),
        );
        let registry = RegistryState::new(
            store.clone(),
            blobs.clone(),
            tokens.clone(),
            passwords.clone(),
            external_url.clone(),
            sync.clone(),
            scans.clone(),
        );
        let api = ApiState::start(ApiServices {
            store: store.clone(),
            blobs: blobs.clone(),
            tokens,
            passwords,
            secrets,
            external_url,
            sync: sync.clone(),
            scans: scans.clone(),
        })
        .await
        .context("loading the image list index")?;
        spawn_maintenance(registry.clone(), blobs, settings.upload_ttl);
        sync.start();
        scans.start();
        spawn_job_pruning(store.clone());
        let router = router(registry.clone(), api.clone());
        Ok(App {
            registry,
            api,
            router,
            admin,
        })
    }

    /// Serves until `shutdown` completes, then flushes buffered pull counts.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;
        self.registry.flush_buffers().await;
        self.registry.store.close().await;
        Ok(())
    }
}

/// Every route of the server: the registry's, the API's and the console's, health and
/// metrics, behind request metrics and tracing.
pub fn router(registry: RegistryState, api: ApiState) -> Router {
    let store = registry.store.clone();
    let metrics = metrics::Metrics::new(
        store.clone(),
        registry.blobs.clone(),
        api.image_list.clone(),
    );
    berth_registry::router(registry)
        .merge(berth_api::router(api))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready).with_state(store))
        .route("/metrics", get(metrics::render).with_state(metrics))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Ready when the database answers on both pools.
async fn ready(State(store): State<Store>) -> impl IntoResponse {
    match store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// Creates `admin` when the database has no such user, with the configured password or a
/// generated one that is written to the data dir.
async fn bootstrap_admin(store: &Store, settings: &ServerSettings) -> anyhow::Result<AdminAccount> {
    if store.find_user("admin").await?.is_some() {
        return Ok(AdminAccount::Existing);
    }
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.clone(), false),
        None => (Secret::new(passwords::generate()), true),
    };
    let hash = passwords::hash(password.expose()).await?;
    store
        .create_user(NewUser {
            username: "admin",
            password_hash: &hash,
            email: None,
            is_admin: true,
        })
        .await?;
    if !generated {
        return Ok(AdminAccount::CreatedWithGivenPassword);
    }
    let saved_to = settings.data_dir.join(INITIAL_ADMIN_PASSWORD_FILE);
    write_password_file(&saved_to, password.expose())?;
    Ok(AdminAccount::CreatedWithGeneratedPassword { password, saved_to })
}

fn write_password_file(path: &Path, password: &str) -> anyhow::Result<()> {
    tokens::write_private_file(path, format!("{password}\n").as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// Background upkeep: flush pull counts every second, purge stale upload sessions hourly.
/// Finished jobs are kept this long, for the status of recent syncs.
const FINISHED_JOBS_KEPT: Duration = Duration::from_secs(7 * 86_400);

fn spawn_job_pruning(store: Store) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let before = berth_store::now_millis() - FINISHED_JOBS_KEPT.as_millis() as i64;
            match store.prune_jobs(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, "pruned finished jobs"),
                Err(error) => tracing::warn!(%error, "pruning finished jobs failed"),
            }
        }
    });
}

fn spawn_maintenance(registry: RegistryState, blobs: Arc<dyn BlobStore>, upload_ttl: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            registry.flush_buffers().await;
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match blobs.purge_stale_uploads(upload_ttl).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "purged stale upload sessions"),
                Err(error) => tracing::warn!(error = %error, "purging upload sessions failed"),
            }
        }
    });
}
