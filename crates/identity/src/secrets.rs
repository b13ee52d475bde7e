//! Encryption of stored credentials (registry passwords) with AES-256-GCM.
//!
//! The 256-bit key is created on first start in `<data dir>/secrets.key`, readable by its
//! owner only, so a copy of the database alone reveals no credential. A sealed value is the
//! 96-bit random nonce followed by the ciphertext and its tag; a fresh nonce per value means
//! the same password never encrypts to the same bytes twice.

use std::path::Path;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::Context;

const KEY_FILE: &str = "secrets.key";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

/// Seals and opens secrets with the data dir's key.
pub struct SecretBox {
    cipher: Aes256Gcm,
}

/// A sealed value that does not open: truncated, altered, or sealed under another key.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret could not be decrypted (altered, or sealed under another key)")]
pub struct OpenError;

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key redacted>)")
    }
}

impl SecretBox {
    /// Loads the key from `data_dir`, creating it on first start.
    pub fn open(data_dir: &Path) -> anyhow::Result<SecretBox> {
        let path = data_dir.join(KEY_FILE);
        let key = if path.exists() {
            let key =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            anyhow::ensure!(
                key.len() == KEY_LEN,
                "{} holds {} bytes; an AES-256 key is {KEY_LEN}",
                path.display(),
                key.len()
            );
            key
        } else {
            let key = Aes256Gcm::generate_key(OsRng);
            crate::tokens::write_private_file(&path, &key)
                .with_context(|| format!("writing {}", path.display()))?;
            key.to_vec()
        };
        let cipher = Aes256Gcm::new_from_slice(&key).expect("the key length was checked above");
        Ok(SecretBox { cipher })
    }

    /// Encrypts `plaintext` under a fresh nonce: nonce, then ciphertext with its tag.
    pub fn seal(&self, plaintext: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("AES-GCM encrypts any input shorter than 64 GiB");
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts a value made by [`SecretBox::seal`].
    pub fn unseal(&self, sealed: &[u8]) -> Result<String, OpenError> {
        if sealed.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at the nonce length");
        let plaintext = self
            .cipher
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| OpenError)?;
        String::from_utf8(plaintext).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_detects_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = SecretBox::open(dir.path()).unwrap();
        let sealed = secrets.seal("hunter2");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(secrets.unseal(&sealed).unwrap(), "hunter2");
        // Fresh nonces: the same password never seals to the same bytes.
        assert_ne!(secrets.seal("hunter2"), sealed);

        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(secrets.unseal(&altered).is_err());
        assert!(secrets.unseal(&sealed[..5]).is_err());

        // The key survives a restart; another data dir's key opens nothing.
        let reopened = SecretBox::open(dir.path()).unwrap();
        assert_eq!(reopened.unseal(&sealed).unwrap(), "hunter2");
        let other = SecretBox::open(tempfile::tempdir().unwrap().path()).unwrap();
        assert!(other.unseal(&sealed).is_err());
        assert!(!format!("{secrets:?}").contains(&hex::encode(&sealed)));
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        SecretBox::open(dir.path()).unwrap();
        let metadata = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap();
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
        assert_eq!(metadata.len(), KEY_LEN as u64);
    }
}
