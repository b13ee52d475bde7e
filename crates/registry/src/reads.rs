//! What the registry's read path records without waiting for a commit: pull counts, and the
//! audit events of pulls of private images. Both are buffered in memory and written in one
//! transaction per flush (once a second, and at shutdown).
//!
//! A commit per manifest GET would put a durable write on the hottest read path; a crash
//! loses at most one flush interval of counts, which are statistics, not content. Each pull
//! event keeps the time of its request, so the log orders it before a binding change that
//! followed it even when the flush comes after.

use std::collections::HashMap;
use std::sync::Mutex;

use berth_store::audit::OwnedAuditEvent;
use berth_store::hosted::PullKey;
use berth_store::Store;

/// Pull audit events held at most while the database is unreachable; past this, new ones are
/// dropped with an error in the log rather than growing memory without bound.
const MAX_BUFFERED_PULL_EVENTS: usize = 100_000;

#[derive(Default)]
pub struct ReadBuffer {
    pulls: Mutex<HashMap<PullKey, i64>>,
    events: Mutex<Vec<OwnedAuditEvent>>,
}

impl ReadBuffer {
    pub fn count_pull(&self, key: PullKey) {
        *self.pulls.lock().unwrap().entry(key).or_insert(0) += 1;
    }

    /// Buffers the audit event of a private pull, to be written with the next flush. The
    /// event must carry its request's time (`at`).
    pub fn audit_pull(&self, event: OwnedAuditEvent) {
        let mut buffer = self.events.lock().unwrap();
        if buffer.len() < MAX_BUFFERED_PULL_EVENTS {
            buffer.push(event);
        } else {
            tracing::error!(target = %event.target, actor = %event.actor, "pull audit buffer full; event dropped");
        }
    }

    /// Writes what is buffered. On failure it is put back, so nothing is lost to a passing
    /// database error.
    pub async fn flush(&self, store: &Store) {
        let batch = std::mem::take(&mut *self.pulls.lock().unwrap());
        if !batch.is_empty() {
            if let Err(error) = store.record_pulls(&batch, berth_store::now_millis()).await {
                tracing::warn!(error = %error, "recording pull counts failed; will retry");
                let mut pending = self.pulls.lock().unwrap();
                for (key, count) in batch {
                    *pending.entry(key).or_insert(0) += count;
                }
            }
        }
        let events = std::mem::take(&mut *self.events.lock().unwrap());
        if let Err(error) = store.record_audits(&events).await {
            tracing::warn!(error = %error, "recording pull audit events failed; will retry");
            for event in events {
                self.audit_pull(event);
            }
        }
    }
}
