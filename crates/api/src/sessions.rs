//! Remembered REST sessions: the subject of a session token and workspaces by name, kept
//! while nothing about any account changed.

use berth_access::Subject;
use berth_identity::principals;
use berth_identity::tokens::TokenService;
use berth_store::tenancy::WorkspaceRecord;
use berth_store::{Store, StoreError};

/// Subjects of REST session tokens already checked, so a signed-in user's requests cost
/// neither a signature check nor database reads while nothing about any account changed.
///
/// An entry holds while the store's principals generation is the one it was made under: every
/// commit that changes users, memberships, workspaces or robots bumps it, so a disabled user,
/// a removed member or a changed role loses the cached subject on the very next request, as
/// without the cache. Only users are remembered (robots expire by the clock); the token's
/// own expiry is checked on every hit.
#[derive(Default)]
pub struct SessionCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedSession>>,
    /// Workspaces by name, with the principals generation they were read under: workspace
    /// and member changes bump it too, so a remembered record is never out of date.
    workspaces: std::sync::Mutex<(u64, std::collections::HashMap<String, WorkspaceRecord>)>,
}

struct CachedSession {
    subject: Subject,
    generation: u64,
    expires_at: u64,
}

/// Sessions remembered at most; past it the cache starts over.
const MAX_CACHED_SESSIONS: usize = 10_000;

impl SessionCache {
    /// Workspace `name`, remembered or read now; `None` when it does not exist.
    pub async fn workspace(
        &self,
        store: &Store,
        name: &str,
    ) -> Result<Option<WorkspaceRecord>, StoreError> {
        let generation = store.catalog_changes().principals_generation();
        {
            let cached = self.workspaces.lock().expect("workspace cache lock");
            if cached.0 == generation {
                if let Some(record) = cached.1.get(name) {
                    return Ok(Some(record.clone()));
                }
            }
        }
        let record = store.workspace(name).await?;
        if let Some(record) = &record {
            let mut cached = self.workspaces.lock().expect("workspace cache lock");
            if cached.0 != generation || cached.1.len() >= MAX_CACHED_SESSIONS {
                *cached = (generation, Default::default());
            }
            cached.1.insert(name.to_string(), record.clone());
        }
        Ok(record)
    }

    /// The subject behind session `token`: remembered, or verified and looked up now.
    pub async fn subject(
        &self,
        store: &Store,
        tokens: &TokenService,
        token: &str,
    ) -> Result<Option<Subject>, StoreError> {
        let generation = store.catalog_changes().principals_generation();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(u64::MAX);
        {
            let entries = self.entries.lock().expect("session cache lock");
            if let Some(entry) = entries.get(token) {
                if entry.generation == generation && now < entry.expires_at {
                    return Ok(Some(entry.subject.clone()));
                }
            }
        }
        let Ok(claims) = tokens.verify_session(token) else {
            return Ok(None);
        };
        let subject = principals::current_subject(store, &claims.sub, &claims.cred).await?;
        if let Some(subject @ Subject::User { .. }) = &subject {
            let mut entries = self.entries.lock().expect("session cache lock");
            if entries.len() >= MAX_CACHED_SESSIONS {
                entries.clear();
            }
            entries.insert(
                token.to_string(),
                CachedSession {
                    subject: subject.clone(),
                    generation,
                    expires_at: u64::try_from(claims.exp).unwrap_or(0),
                },
            );
        }
        Ok(subject)
    }
}
