//! The HTTP surface of Berth: the hosted registry at `/v2/`, the token service at
//! `/auth/token`, health at `/healthz` and `/readyz`, metrics at `/metrics`, and the web
//! console at `/`.
//!
//! **Architecture invariant:** handlers parse and authorize, then call the store and the blob
//! store. Business rules about who may do what live in `berth-access`, not here.

/// The REST API at `/api/v1`.
pub mod api;
/// `/auth/token`, the Docker token service.
pub mod auth;
/// The image list's in-memory read model of the catalog.
pub mod catalog;
/// The web console's pages and assets.
pub mod console;
/// Importing `docker save` and OCI layout tarballs into the hosted registry.
pub mod import;
/// Request metrics and the Prometheus endpoint.
pub mod metrics;
/// Argon2 password hashing.
pub mod passwords;
/// Users and robots: authentication and the facts the access rule needs.
pub mod principals;
/// The OCI Distribution API.
pub mod registry;
/// Encryption of stored registry credentials.
pub mod secrets;
/// Shared application state.
pub mod state;
/// Registry token signing and verification.
pub mod tokens;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use berth_blobs::FsBlobStore;
use berth_store::users::NewUser;
use berth_store::Store;
use tokio::net::TcpListener;

use crate::state::{AppState, PullCounter};
use crate::tokens::TokenService;

/// What the server needs to start. The binary fills it from the configuration.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The address clients use, without a trailing slash.
    pub external_url: String,
    /// The bootstrap admin's password; random when unset.
    pub admin_password: Option<String>,
    pub token_ttl: Duration,
    /// Upload sessions idle for longer are removed.
    pub upload_ttl: Duration,
}

/// A started application: state plus the router serving it.
pub struct App {
    pub state: AppState,
    pub router: Router,
    /// Set when this start created the admin user with a generated password.
    pub generated_admin_password: Option<String>,
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
        let blobs = FsBlobStore::open(settings.data_dir.join("blobs"))
            .await
            .context("opening blob storage")?;
        let tokens = TokenService::open(&settings.data_dir, settings.token_ttl)
            .context("loading the token signing key")?;
        let secrets =
            secrets::SecretBox::open(&settings.data_dir).context("loading the secrets key")?;
        let generated_admin_password = bootstrap_admin(&store, &settings).await?;
        let external_url: Arc<str> = settings.external_url.trim_end_matches('/').into();
        let catalog = catalog::Catalog::load(store.clone(), state::host_of_url(&external_url))
            .await
            .context("loading the image list index")?;
        let state = AppState {
            store,
            blobs: Arc::new(blobs),
            tokens: Arc::new(tokens),
            passwords: Arc::default(),
            pulls: Arc::new(PullCounter::default()),
            pull_audit: Arc::default(),
            metrics: metrics::handle(),
            external_url,
            secrets: Arc::new(secrets),
            catalog: Arc::new(catalog),
            sessions: Arc::default(),
        };
        spawn_maintenance(state.clone(), settings.upload_ttl);
        let router = router(state.clone());
        Ok(App {
            state,
            router,
            generated_admin_password,
        })
    }

    /// Serves until `shutdown` completes, then flushes buffered pull counts.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;
        state.flush_buffers().await;
        state.store.close().await;
        Ok(())
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(registry::router())
        .nest("/api/v1", api::router())
        .route("/auth/token", get(auth::get_token).post(auth::post_token))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics::render))
        .merge(console::router())
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Ready when the database answers on both pools.
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// Creates `admin` when the database has no such user. Returns the password when it was
/// generated, so the caller can show it once.
async fn bootstrap_admin(
    store: &Store,
    settings: &ServerSettings,
) -> anyhow::Result<Option<String>> {
    if store.find_user("admin").await?.is_some() {
        return Ok(None);
    }
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.clone(), false),
        None => (passwords::generate(), true),
    };
    let hash = passwords::hash(&password).await?;
    store
        .create_user(NewUser {
            username: "admin",
            password_hash: &hash,
            email: None,
            is_admin: true,
        })
        .await?;
    if generated {
        let path = settings.data_dir.join("initial-admin-password");
        tokens::write_private_file(&path, format!("{password}\n").as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        return Ok(Some(password));
    }
    Ok(None)
}

/// Background upkeep: flush pull counts every second, purge stale upload sessions hourly.
fn spawn_maintenance(state: AppState, upload_ttl: Duration) {
    let flush_state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            flush_state.flush_buffers().await;
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match state.blobs.purge_stale_uploads(upload_ttl).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "purged stale upload sessions"),
                Err(error) => tracing::warn!(error = %error, "purging upload sessions failed"),
            }
        }
    });
}
