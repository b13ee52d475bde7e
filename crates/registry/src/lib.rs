//! The hosted registry: the OCI Distribution API at `/v2/` and the Docker token service at
//! `/auth/token` that its clients sign in with.
//!
//! **Architecture invariant:** this crate speaks the registry protocols and nothing else. It
//! knows nothing of the REST API, the console, the image list or tarball imports, and no crate
//! edge lets it reach them. Who may pull, push or delete is `berth-access`'s decision, asked
//! once per request in `v2::authorize` against the one table of operations
//! (`v2::Route::operation`); who is asking is `berth-identity`'s answer.
//!
//! It also serves the repositories of `distribution` and `oci` platform registries as a
//! pull-through proxy under `/v2/<registry name>/…` (`v2::proxy`). Their clients come from
//! `berth-sync` ([`SyncService::client`]), which alone unseals stored credentials and builds
//! HTTP clients; this crate only calls the `berth_remote::RemoteRegistry` trait.

/// The pull counts and pull audit events buffered between flushes.
mod reads;
/// `/auth/token`, the Docker token service.
mod token_endpoint;
/// The OCI Distribution API.
mod v2;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use berth_blobs::BlobStore;
use berth_identity::passwords::PasswordChecker;
use berth_identity::tokens::TokenService;
use berth_store::Store;
use berth_sync::SyncService;

use crate::reads::ReadBuffer;

pub use v2::RegistryError;

/// What the registry's handlers use. Cheap to clone: every field is shared.
#[derive(Clone)]
pub struct RegistryState {
    pub store: Store,
    pub blobs: Arc<dyn BlobStore>,
    pub tokens: Arc<TokenService>,
    pub passwords: Arc<PasswordChecker>,
    /// The address clients reach Berth at, without a trailing slash, e.g.
    /// `http://registry.example.com`. Token challenges name it as the realm.
    pub external_url: Arc<str>,
    /// Where clients of proxied upstream registries come from.
    pub sync: SyncService,
    /// Scans pushed images.
    pub scans: berth_scanner::ScanService,
    upstreams: Arc<v2::proxy::Upstreams>,
    reads: Arc<ReadBuffer>,
}

impl RegistryState {
    pub fn new(
        store: Store,
        blobs: Arc<dyn BlobStore>,
        tokens: Arc<TokenService>,
        passwords: Arc<PasswordChecker>,
        external_url: Arc<str>,
        sync: SyncService,
        scans: berth_scanner::ScanService,
    ) -> RegistryState {
        RegistryState {
            store,
            blobs,
            tokens,
            passwords,
            external_url,
            sync,
            scans,
            upstreams: Arc::default(),
            reads: Arc::default(),
        }
    }

    /// Writes the buffered pull counts and pull audit events. The server calls it once a
    /// second and at shutdown.
    pub async fn flush_buffers(&self) {
        self.reads.flush(&self.store).await;
    }
}

/// `/v2/…` and `/auth/token`.
pub fn router(state: RegistryState) -> Router {
    v2::router()
        .route(
            "/auth/token",
            get(token_endpoint::get_token).post(token_endpoint::post_token),
        )
        .with_state(state)
}
