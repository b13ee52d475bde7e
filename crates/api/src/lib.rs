//! What people and their tools use besides the registry protocol: the REST API at `/api/v1`
//! (docs/api-contract.md is its contract), the web console at `/`, tarball imports into the
//! hosted registry, and the image list's in-memory read model that the list and the selector
//! answer from.
//!
//! **Architecture invariant:** this crate knows nothing of the OCI Distribution API at `/v2`
//! or of the token service; no crate edge leads there. Imports write the hosted registry
//! through the same store calls a push makes. Who may do what is `berth-access`'s decision,
//! asked by `rest::caller`; handlers validate input with `rest::input` and make each change
//! with one store call that writes it and its audit event in one transaction.

/// The web console's pages and assets.
pub mod console;
/// The image list's in-memory read model of every registry's catalog.
pub mod image_list;
/// Importing `docker save` and OCI layout tarballs into the hosted registry.
pub mod import;
/// The REST API.
pub mod rest;
/// Remembered REST sessions.
mod sessions;

use std::sync::Arc;

use axum::Router;
use berth_blobs::BlobStore;
use berth_identity::passwords::PasswordChecker;
use berth_identity::secrets::SecretBox;
use berth_identity::tokens::TokenService;
use berth_store::Store;

use crate::image_list::ImageList;
use crate::sessions::SessionCache;

/// What the REST API, the console and imports use. Cheap to clone: every field is shared.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub blobs: Arc<dyn BlobStore>,
    pub tokens: Arc<TokenService>,
    pub passwords: Arc<PasswordChecker>,
    /// Encrypts stored registry credentials with the data dir's key.
    pub secrets: Arc<SecretBox>,
    /// The image list's read model.
    pub image_list: Arc<ImageList>,
    /// Queues, runs and describes syncs of external registries.
    pub sync: berth_sync::SyncService,
    /// Queues, runs and describes vulnerability scans.
    pub scans: berth_scanner::ScanService,
    /// The address clients reach Berth at, without a trailing slash.
    pub external_url: Arc<str>,
    /// `host[:port]` of the hosted registry as image references carry it.
    pub hosted_host: Arc<str>,
    sessions: Arc<SessionCache>,
}

/// The services the API is built from; [`ApiState::start`] adds what is its own.
pub struct ApiServices {
    pub store: Store,
    pub blobs: Arc<dyn BlobStore>,
    pub tokens: Arc<TokenService>,
    pub passwords: Arc<PasswordChecker>,
    pub secrets: Arc<SecretBox>,
    pub external_url: Arc<str>,
    pub sync: berth_sync::SyncService,
    pub scans: berth_scanner::ScanService,
}

impl ApiState {
    /// Loads the image list index (the one slow step, a read of the whole catalog) and
    /// builds the state.
    pub async fn start(services: ApiServices) -> anyhow::Result<ApiState> {
        let hosted_host: Arc<str> = host_of_url(&services.external_url).into();
        let image_list = ImageList::load(services.store.clone(), hosted_host.to_string()).await?;
        Ok(ApiState {
            store: services.store,
            blobs: services.blobs,
            tokens: services.tokens,
            passwords: services.passwords,
            secrets: services.secrets,
            image_list: Arc::new(image_list),
            sync: services.sync,
            scans: services.scans,
            external_url: services.external_url,
            hosted_host,
            sessions: Arc::default(),
        })
    }
}

/// `/api/v1/…` and the console.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .nest("/api/v1", rest::router())
        .merge(console::router())
        .with_state(state)
}

/// `host[:port]` of a URL, as image references carry it (`http://127.0.0.1:5050` →
/// `127.0.0.1:5050`); the text itself when it is not a URL.
pub fn host_of_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => match (parsed.host_str(), parsed.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_urls() {
        assert_eq!(host_of_url("http://127.0.0.1:5050"), "127.0.0.1:5050");
        assert_eq!(
            host_of_url("https://registry.example.com/"),
            "registry.example.com"
        );
        assert_eq!(
            host_of_url("https://registry.example.com:8443/x"),
            "registry.example.com:8443"
        );
    }
}
