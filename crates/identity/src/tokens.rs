//! Signing and verifying registry tokens (Docker token authentication, JWT with ES256).
//!
//! The signing key is an ECDSA P-256 key created on first start and kept in the data dir, so
//! tokens stay valid across restarts and never depend on a shared secret.

use std::path::Path;
use std::time::Duration;

use berth_access::Scope;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The `service` and issuer name in challenges and tokens.
pub const SERVICE: &str = "berth";
const KEY_FILE: &str = "token-signing-key.pem";

/// The audience of REST API session tokens. Registry tokens carry [`SERVICE`], so neither
/// kind of token is accepted where the other is expected.
pub const SESSION_AUDIENCE: &str = "berth-api";
/// How long a session from `POST /api/v1/auth/login` lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Verified registry tokens remembered at most; past this the memory is cleared wholesale.
const MAX_VERIFIED: usize = 10_000;

pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    session_validation: Validation,
    key_id: String,
    pub ttl: Duration,
    /// Registry tokens whose signature was already checked, by SHA-256 of the token. Clients
    /// send the same token with every request for its lifetime; checking an ECDSA signature
    /// each time would cost more than the rest of the request. Expiry is still checked on
    /// every use.
    verified: std::sync::Mutex<std::collections::HashMap<[u8; 32], Claims>>,
}

/// One entry of the `access` claim, as the Docker token spec writes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessEntry {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The username, or empty for an anonymous token.
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub access: Vec<AccessEntry>,
    /// A tag of the credential the holder signed in with (see
    /// `principals::credential_tag`). When the password is reset, or the account is deleted
    /// and another made under the same name, the tag no longer matches and the token stops
    /// working wherever the account is looked up.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cred: String,
    /// The `access` claim as scopes, parsed once when the token is signed or verified (it is
    /// not part of the token), so that checking a request against its token is a lookup.
    #[serde(skip)]
    pub granted: Vec<Scope>,
}

impl Claims {
    pub fn is_anonymous(&self) -> bool {
        self.sub.is_empty()
    }

    /// The granted scopes, parsed back from the claim.
    fn scopes(&self) -> Vec<Scope> {
        self.access
            .iter()
            .filter_map(|entry| {
                Scope::parse(&format!(
                    "{}:{}:{}",
                    entry.resource_type,
                    entry.name,
                    entry.actions.join(",")
                ))
                .ok()
            })
            .collect()
    }
}

fn access_entry(scope: &Scope) -> AccessEntry {
    match scope {
        Scope::Repository { name, actions } => AccessEntry {
            resource_type: "repository".into(),
            name: name.clone(),
            actions: actions.iter().map(|a| a.as_str().to_string()).collect(),
        },
        Scope::Catalog => AccessEntry {
            resource_type: "registry".into(),
            name: "catalog".into(),
            actions: vec!["*".into()],
        },
    }
}

impl TokenService {
    /// Loads the signing key from `data_dir`, creating it (readable by the owner only) on
    /// first start.
    pub fn open(data_dir: &Path, ttl: Duration) -> anyhow::Result<TokenService> {
        let path = data_dir.join(KEY_FILE);
        let secret = if path.exists() {
            let pem = std::fs::read_to_string(&path)?;
            p256::SecretKey::from_pkcs8_pem(&pem)
                .map_err(|e| anyhow::anyhow!("{} is not a PKCS#8 P-256 key: {e}", path.display()))?
        } else {
            let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
            let pem = secret
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("encoding the signing key: {e}"))?;
            write_private_file(&path, pem.as_bytes())?;
            secret
        };
        let private_pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("encoding the signing key: {e}"))?;
        let public_pem = secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("encoding the public key: {e}"))?;
        let public_der = secret
            .public_key()
            .to_public_key_der()
            .map_err(|e| anyhow::anyhow!("encoding the public key: {e}"))?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[SERVICE]);
        validation.set_issuer(&[SERVICE]);
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);
        // Requiring `nbf` only checks that it is present; the token spec also asks that the
        // current time be past it, which jsonwebtoken checks only when told to.
        validation.validate_nbf = true;
        validation.leeway = 5;
        let mut session_validation = validation.clone();
        session_validation.set_audience(&[SESSION_AUDIENCE]);
        Ok(TokenService {
            encoding: EncodingKey::from_ec_pem(private_pem.as_bytes())?,
            decoding: DecodingKey::from_ec_pem(public_pem.as_bytes())?,
            validation,
            session_validation,
            verified: Default::default(),
            key_id: hex::encode(&sha2::Sha256::digest(public_der.as_bytes())[..16]),
            ttl,
        })
    }

    /// Signs a registry token for `subject` (empty for anonymous) carrying exactly `granted`.
    pub fn issue(
        &self,
        subject: &str,
        credential: &str,
        granted: &[Scope],
    ) -> anyhow::Result<(String, Claims)> {
        self.issue_until(subject, credential, granted, None)
    }

    /// Like [`TokenService::issue`], but the token expires no later than `not_after` (Unix
    /// seconds): a robot's token must not outlive the robot, since a request whose token
    /// already carries its scope does not look the account up again.
    pub fn issue_until(
        &self,
        subject: &str,
        credential: &str,
        granted: &[Scope],
        not_after: Option<i64>,
    ) -> anyhow::Result<(String, Claims)> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = match not_after {
            Some(at) => self
                .ttl
                .min(Duration::from_secs(at.saturating_sub(now).max(0) as u64)),
            None => self.ttl,
        };
        self.sign(
            subject,
            credential,
            SERVICE,
            ttl,
            granted.iter().map(access_entry).collect(),
        )
    }

    /// Signs a REST API session token for `username`.
    pub fn issue_session(
        &self,
        username: &str,
        credential: &str,
    ) -> anyhow::Result<(String, Claims)> {
        self.sign(
            username,
            credential,
            SESSION_AUDIENCE,
            SESSION_TTL,
            Vec::new(),
        )
    }

    fn sign(
        &self,
        subject: &str,
        credential: &str,
        audience: &str,
        ttl: Duration,
        access: Vec<AccessEntry>,
    ) -> anyhow::Result<(String, Claims)> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut claims = Claims {
            iss: SERVICE.into(),
            sub: subject.into(),
            aud: audience.into(),
            exp: now + ttl.as_secs() as i64,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            access,
            cred: credential.into(),
            granted: Vec::new(),
        };
        claims.granted = claims.scopes();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)?;
        Ok((token, claims))
    }

    /// Verifies a registry token: signature, issuer, audience, not-before and expiry. A token
    /// seen before skips the signature check but never the time checks.
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let key: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let leeway = self.validation.leeway as i64;
        if let Some(claims) = self.verified.lock().unwrap().get(&key) {
            if claims.exp + leeway > now && claims.nbf - leeway <= now {
                return Ok(claims.clone());
            }
        }
        let mut claims =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?.claims;
        claims.granted = claims.scopes();
        let mut verified = self.verified.lock().unwrap();
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        verified.insert(key, claims.clone());
        Ok(claims)
    }

    /// Verifies a REST API session token and returns its claims.
    pub fn verify_session(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.session_validation)
            .map(|data| data.claims)
    }
}

/// Writes a secret file readable by its owner only, atomically.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let temp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&temp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_access::Action;

    #[test]
    fn issues_and_verifies_and_rejects_forgeries() {
        let dir = tempfile::tempdir().unwrap();
        let service = TokenService::open(dir.path(), Duration::from_secs(300)).unwrap();
        let scope = Scope::parse("repository:a/b:pull,push").unwrap();
        let (token, _) = service
            .issue("alice", "", std::slice::from_ref(&scope))
            .unwrap();
        let claims = service.verify(&token).unwrap();
        assert_eq!(claims.sub, "alice");
        assert!(berth_access::allows(&claims.granted, "a/b", Action::Push));
        assert!(!berth_access::allows(
            &claims.granted,
            "a/b",
            Action::Delete
        ));
        assert_eq!(claims.granted, vec![scope.clone()]);

        // Sessions and registry tokens are not interchangeable.
        let (session, _) = service.issue_session("alice", "").unwrap();
        assert_eq!(service.verify_session(&session).unwrap().sub, "alice");
        assert!(service.verify(&session).is_err());
        assert!(service.verify_session(&token).is_err());

        // The same key is loaded after a restart.
        let reopened = TokenService::open(dir.path(), Duration::from_secs(300)).unwrap();
        assert!(reopened.verify(&token).is_ok());

        // A token for an account that expires soon ends with it.
        let soon = time::OffsetDateTime::now_utc().unix_timestamp() + 60;
        let (_, claims) = service
            .issue_until("robot$a+b", "", std::slice::from_ref(&scope), Some(soon))
            .unwrap();
        assert_eq!(claims.exp, soon);
        let (_, claims) = service
            .issue_until(
                "robot$a+b",
                "",
                std::slice::from_ref(&scope),
                Some(soon + 3600),
            )
            .unwrap();
        assert_eq!(claims.exp, claims.iat + 300);

        // A token signed by another key is refused.
        let other_dir = tempfile::tempdir().unwrap();
        let other = TokenService::open(other_dir.path(), Duration::from_secs(300)).unwrap();
        let (forged, _) = other.issue("alice", "", &[scope]).unwrap();
        assert!(service.verify(&forged).is_err());

        // Tampering with the payload breaks the signature.
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        parts[1].insert(3, 'x');
        assert!(service.verify(&parts.join(".")).is_err());
    }
}
