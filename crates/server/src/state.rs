use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use berth_blobs::BlobStore;
use berth_store::audit::OwnedAuditEvent;
use berth_store::registry::PullKey;
use berth_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::tokens::TokenService;

/// Everything a request handler may use. Cheap to clone: every field is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub blobs: Arc<dyn BlobStore>,
    pub tokens: Arc<TokenService>,
    pub passwords: Arc<crate::passwords::PasswordChecker>,
    pub pulls: Arc<PullCounter>,
    /// Audit events of the registry's read path (pulls of private images), buffered like pull
    /// counts so that a pull never waits for a durable commit.
    pub pull_audit: Arc<Mutex<Vec<OwnedAuditEvent>>>,
    pub metrics: PrometheusHandle,
    /// The address clients reach Berth at, without a trailing slash, e.g.
    /// `http://registry.example.com`. Used in token challenges.
    pub external_url: Arc<str>,
    /// Encrypts stored registry credentials with the data dir's key.
    pub secrets: Arc<crate::secrets::SecretBox>,
    /// The image list's read model.
    pub catalog: Arc<crate::catalog::Catalog>,
    /// Subjects of REST session tokens already checked.
    pub sessions: Arc<crate::principals::SessionCache>,
}

/// `host[:port]` of a URL, as it appears in image references (`host:5050/space/repo`).
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

/// Pull audit events held at most while the database is unreachable; past this, new ones are
/// dropped with an error in the log rather than growing memory without bound.
const MAX_BUFFERED_PULL_EVENTS: usize = 100_000;

impl AppState {
    /// `host[:port]` of the hosted registry as clients reach it.
    pub fn registry_host(&self) -> String {
        host_of_url(&self.external_url)
    }

    /// Buffers the audit event of a private pull, to be written with the next flush.
    pub fn audit_pull(&self, event: OwnedAuditEvent) {
        let mut buffer = self.pull_audit.lock().unwrap();
        if buffer.len() < MAX_BUFFERED_PULL_EVENTS {
            buffer.push(event);
        } else {
            tracing::error!(target = %event.target, actor = %event.actor, "pull audit buffer full; event dropped");
        }
    }

    /// Writes buffered pull counts and pull audit events.
    pub async fn flush_buffers(&self) {
        self.pulls.flush(&self.store).await;
        let events = std::mem::take(&mut *self.pull_audit.lock().unwrap());
        if let Err(error) = self.store.record_audits(&events).await {
            tracing::warn!(error = %error, "recording pull audit events failed; will retry");
            for event in events {
                self.audit_pull(event);
            }
        }
    }

    /// Records a change in the audit log now. Failures are logged, not returned: the change
    /// itself already happened and the client must learn that it did.
    pub async fn audit(&self, event: OwnedAuditEvent) {
        if let Err(error) = self.store.record_audits(std::slice::from_ref(&event)).await {
            tracing::error!(error = %error, action = %event.action, target = %event.target, "recording an audit event failed");
        }
    }
}

/// Pull counts buffered in memory and written in one transaction per flush. Counting each
/// manifest GET with its own commit would put a durable write on the hottest read path; a
/// crash loses at most one flush interval of counts, which are statistics, not content.
#[derive(Default)]
pub struct PullCounter {
    pending: Mutex<HashMap<PullKey, i64>>,
}

impl PullCounter {
    pub fn record(&self, key: PullKey) {
        *self.pending.lock().unwrap().entry(key).or_insert(0) += 1;
    }

    /// Writes the buffered counts. On failure they are put back, so none are lost to a
    /// passing database error.
    pub async fn flush(&self, store: &Store) {
        let batch = std::mem::take(&mut *self.pending.lock().unwrap());
        if batch.is_empty() {
            return;
        }
        if let Err(error) = store.record_pulls(&batch, berth_store::now_millis()).await {
            tracing::warn!(error = %error, "recording pull counts failed; will retry");
            let mut pending = self.pending.lock().unwrap();
            for (key, count) in batch {
                *pending.entry(key).or_insert(0) += count;
            }
        }
    }
}
