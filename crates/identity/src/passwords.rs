//! Password hashing with argon2id. Hashing is deliberately slow, so it runs on the blocking
//! pool and never stalls the async workers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// argon2id with 7 MiB and 5 passes, one of OWASP's recommended equivalent settings. The
/// common 19 MiB setting buys no extra strength, but a burst of logins would then hold tens of
/// MiB that the allocator keeps long after, in a server meant to stay under 100 MiB.
fn argon2() -> Argon2<'static> {
    let params =
        argon2::Params::new(7 * 1024, 5, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

pub async fn hash(password: &str) -> anyhow::Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await?
}

/// Checks passwords against stored hashes, cheaply when the same credentials were verified
/// a moment ago.
///
/// Every argon2 verification costs ~19 MiB and tens of milliseconds, and clients such as
/// skopeo send the same credentials to `/auth/token` several times per push. So:
/// - successful checks are remembered for a few minutes under an HMAC-SHA-256, keyed with a
///   random key that lives only in this process, of the stored hash and the password. The
///   password is never kept; a changed password changes the stored hash (new salt), so it
///   never matches an old entry; failures are never remembered;
/// - at most one verification per CPU runs at a time, which bounds the memory argon2 can take
///   and keeps a burst of logins from starving everything else.
pub struct PasswordChecker {
    key: [u8; 32],
    /// A hash of a random password, checked against when the account does not exist so that
    /// a login for an unknown name takes as long as one for a known name.
    decoy: tokio::sync::OnceCell<String>,
    permits: tokio::sync::Semaphore,
    recent: Mutex<HashMap<[u8; 32], Instant>>,
    remember_for: Duration,
}

/// Remembered successes are dropped wholesale past this many entries, to bound memory.
const MAX_REMEMBERED: usize = 10_000;

impl Default for PasswordChecker {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        PasswordChecker {
            key,
            decoy: tokio::sync::OnceCell::new(),
            permits: tokio::sync::Semaphore::new(cpus),
            recent: Mutex::new(HashMap::new()),
            remember_for: Duration::from_secs(300),
        }
    }
}

impl PasswordChecker {
    pub async fn verify(&self, hash: &str, password: &str) -> bool {
        use hmac::Mac as _;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key)
            .expect("HMAC takes any key length");
        mac.update(hash.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        let key: [u8; 32] = mac.finalize().into_bytes().into();
        let now = Instant::now();
        if self
            .recent
            .lock()
            .unwrap()
            .get(&key)
            .is_some_and(|until| *until > now)
        {
            return true;
        }
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let matches = verify(hash, password).await;
        if matches {
            let mut recent = self.recent.lock().unwrap();
            if recent.len() >= MAX_REMEMBERED {
                recent.clear();
            }
            recent.insert(key, now + self.remember_for);
        }
        matches
    }
}

impl PasswordChecker {
    /// Spends the time of one real verification and fails, for accounts that do not exist or
    /// are disabled: timing must not tell which names are accounts.
    pub async fn reject_unknown(&self, password: &str) {
        let decoy = self
            .decoy
            .get_or_init(|| async { hash(&generate()).await.unwrap_or_default() })
            .await;
        if let Ok(_permit) = self.permits.acquire().await {
            let _ = verify(decoy, password).await;
        }
    }
}

/// Whether `password` matches the stored `hash`. A malformed stored hash never matches.
pub async fn verify(hash: &str, password: &str) -> bool {
    let (hash, password) = (hash.to_string(), password.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A random password for the bootstrap admin: 24 characters from a 62-letter alphabet.
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..24)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn remembers_only_successes_for_the_same_hash() {
        let checker = PasswordChecker::default();
        let first = hash("correct horse").await.unwrap();
        assert!(checker.verify(&first, "correct horse").await);
        assert!(checker.verify(&first, "correct horse").await);
        assert!(!checker.verify(&first, "wrong").await);
        assert!(!checker.verify(&first, "wrong").await);
        // A new hash of the same password (a reset) has a new salt and is checked afresh.
        let second = hash("another").await.unwrap();
        assert!(!checker.verify(&second, "correct horse").await);
        assert!(!checker.verify("not a hash", "correct horse").await);
    }
}
