//! Authentication: anonymous, HTTP Basic, and Docker's token flow.
//!
//! A request first goes out with what is known to work: nothing, Basic credentials once the
//! registry asked for Basic, or a cached bearer token for its scope (fetched before the
//! request once the registry's token service is known). On 401 the `WWW-Authenticate`
//! challenge says what the registry wants; the credentials or a fresh token for the
//! challenge's scope are fetched and the request is sent once more. A second 401 means the
//! registry refused them, which is a [`RemoteError::Unauthorized`] saying so.
//!
//! Tokens are cached per scope until shortly before they expire. Neither tokens nor the
//! password ever reach a log or an error message.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::error::RemoteError;
use crate::headers::{parse_challenges, Challenge};
use crate::http::{Answer, Http};
use crate::{Authentication, Endpoint, Settings};

/// Token lifetime when the token service does not say (the Docker token spec's default).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// Token service answers are small JSON documents.
const MAX_TOKEN_RESPONSE: u64 = 1024 * 1024;

struct Credentials {
    username: String,
    password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    fn basic_header(&self) -> HeaderValue {
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.password));
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
            .expect("base64 is a valid header value");
        value.set_sensitive(true);
        value
    }
}

/// What the registry has asked for so far.
#[derive(Clone)]
enum Scheme {
    /// Nothing asked yet: requests go out without credentials.
    Unknown,
    Basic,
    Bearer {
        realm: Url,
        service: Option<String>,
    },
}

struct CachedToken {
    header: HeaderValue,
    refresh_at: Instant,
}

/// What a request carried, to tell a refusal from a stale token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sent {
    Nothing,
    Basic,
    Token,
}

/// An HTTP core with the registry's authentication on top.
pub(crate) struct Session {
    http: Http,
    credentials: Option<Credentials>,
    scheme: Mutex<Scheme>,
    tokens: Mutex<HashMap<String, CachedToken>>,
}

impl Session {
    pub fn new(endpoint: &Endpoint, settings: &Settings) -> Result<Session, RemoteError> {
        let credentials = match (&endpoint.username, &endpoint.password) {
            (Some(username), password) if !username.is_empty() => Some(Credentials {
                username: username.clone(),
                password: password.clone().unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(Session {
            http: Http::new(endpoint, settings)?,
            credentials,
            scheme: Mutex::new(Scheme::Unknown),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// Whether a username is configured.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The Basic `Authorization` value (marked sensitive), for APIs such as Harbor's REST API
    /// that want it on every request instead of challenging for it.
    pub fn basic_header(&self) -> Option<HeaderValue> {
        self.credentials.as_ref().map(Credentials::basic_header)
    }

    /// `text` with the configured password cut out, for text a server wrote (an error message
    /// may quote a request back), so that it cannot reach an error or a log.
    pub fn redact(&self, text: &str) -> String {
        match &self.credentials {
            Some(credentials) if !credentials.password.is_empty() => {
                text.replace(&credentials.password, "<redacted>")
            }
            _ => text.to_string(),
        }
    }

    /// How the registry let us in, as far as requests so far have shown.
    pub fn authentication(&self) -> Authentication {
        match &*self.scheme.lock().expect("scheme lock") {
            Scheme::Unknown => Authentication::Anonymous,
            Scheme::Basic => Authentication::Basic,
            Scheme::Bearer { .. } => Authentication::Token,
        }
    }

    /// Sends `method url` with `accept`, authenticated for `scope` (`repository:a/b:pull`,
    /// `registry:catalog:*`, or none for `/v2/`). Returns any answer but 401.
    pub async fn send(
        &self,
        method: Method,
        url: &Url,
        accept: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Answer, RemoteError> {
        let (header, sent) = self.known_header(scope).await?;
        let answer = self
            .http
            .send(self.request(&method, url, accept, header.as_ref()))
            .await?;
        if answer.status() != StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        let challenges: Vec<Challenge> = answer
            .response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(parse_challenges)
            .collect();
        let request = answer.request.clone();
        drop(answer);
        let header = self
            .answer_challenge(&challenges, url, scope, sent, &request)
            .await?;
        let answer = self
            .http
            .send(self.request(&method, url, accept, Some(&header)))
            .await?;
        if answer.status() == StatusCode::UNAUTHORIZED {
            if let Some(scope) = scope {
                self.tokens.lock().expect("token lock").remove(scope);
            }
            return Err(self.refused(request));
        }
        Ok(answer)
    }

    fn request(
        &self,
        method: &Method,
        url: &Url,
        accept: Option<&str>,
        authorization: Option<&HeaderValue>,
    ) -> reqwest::Request {
        let mut builder = self.http.client().request(method.clone(), url.clone());
        if let Some(accept) = accept {
            builder = builder.header(ACCEPT, accept);
        }
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value.clone());
        }
        builder
            .build()
            .expect("a request from a parsed URL and valid headers builds")
    }

    /// The Authorization header to send before any challenge: Basic once the registry asked
    /// for it, or a token for `scope` (cached, or fetched now from the known token service).
    async fn known_header(
        &self,
        scope: Option<&str>,
    ) -> Result<(Option<HeaderValue>, Sent), RemoteError> {
        let scheme = self.scheme.lock().expect("scheme lock").clone();
        match scheme {
            Scheme::Unknown => Ok((None, Sent::Nothing)),
            Scheme::Basic => Ok((
                self.credentials.as_ref().map(Credentials::basic_header),
                Sent::Basic,
            )),
            Scheme::Bearer { realm, service } => {
                let key = scope.unwrap_or_default();
                if let Some(header) = self.cached_token(key) {
                    return Ok((Some(header), Sent::Token));
                }
                let scopes: Vec<&str> = scope.into_iter().collect();
                let header = self
                    .fetch_token(&realm, service.as_deref(), &scopes, key)
                    .await?;
                Ok((Some(header), Sent::Token))
            }
        }
    }

    fn cached_token(&self, key: &str) -> Option<HeaderValue> {
        let tokens = self.tokens.lock().expect("token lock");
        tokens
            .get(key)
            .filter(|t| Instant::now() < t.refresh_at)
            .map(|t| t.header.clone())
    }

    /// The credentials a 401's challenge asks for, or why there are none to give.
    async fn answer_challenge(
        &self,
        challenges: &[Challenge],
        url: &Url,
        scope: Option<&str>,
        sent: Sent,
        request: &str,
    ) -> Result<HeaderValue, RemoteError> {
        let bearer = challenges.iter().find(|c| c.scheme == "bearer");
        let basic = challenges.iter().find(|c| c.scheme == "basic");
        if let Some(bearer) = bearer {
            let Some(realm) = bearer.param("realm") else {
                return Err(RemoteError::Protocol {
                    request: request.to_string(),
                    reason: "the registry asked for a bearer token without naming its token service (no realm in WWW-Authenticate)".into(),
                });
            };
            let realm = url.join(realm).map_err(|e| RemoteError::Protocol {
                request: request.to_string(),
                reason: format!("the token service's realm `{realm}` is not a URL: {e}"),
            })?;
            if !matches!(realm.scheme(), "http" | "https") {
                return Err(RemoteError::Protocol {
                    request: request.to_string(),
                    reason: format!("the token service's realm `{realm}` is not an HTTP URL"),
                });
            }
            let service = bearer.param("service").map(str::to_string);
            *self.scheme.lock().expect("scheme lock") = Scheme::Bearer {
                realm: realm.clone(),
                service: service.clone(),
            };
            // The challenge's scope says exactly what this request needs (it may name several,
            // space-separated); ours is the fallback and the cache key.
            let scopes: Vec<&str> = match bearer.param("scope") {
                Some(scopes) => scopes.split_ascii_whitespace().collect(),
                None => scope.into_iter().collect(),
            };
            let key = scope.unwrap_or_default();
            self.tokens.lock().expect("token lock").remove(key);
            return self
                .fetch_token(&realm, service.as_deref(), &scopes, key)
                .await;
        }
        if basic.is_some() {
            let Some(credentials) = &self.credentials else {
                return Err(RemoteError::Unauthorized {
                    request: request.to_string(),
                    reason:
                        "the registry requires credentials (HTTP Basic) and none are configured"
                            .into(),
                });
            };
            if sent == Sent::Basic {
                return Err(self.refused(request.to_string()));
            }
            *self.scheme.lock().expect("scheme lock") = Scheme::Basic;
            return Ok(credentials.basic_header());
        }
        let offered: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        Err(RemoteError::Unauthorized {
            request: request.to_string(),
            reason: if offered.is_empty() {
                "the registry answered HTTP 401 without a WWW-Authenticate challenge".into()
            } else {
                format!(
                    "the registry answered HTTP 401 asking for {}, which this client does not speak (it speaks Basic and Bearer)",
                    offered.join(", ")
                )
            },
        })
    }

    /// The error for a 401 that came back although the credentials were fresh.
    fn refused(&self, request: String) -> RemoteError {
        let reason = match (&self.credentials, self.authentication()) {
            (Some(_), _) => "the registry refused the configured credentials (HTTP 401)",
            (None, Authentication::Token) => {
                "the registry requires credentials: the token its token service gives anonymous clients does not allow this (HTTP 401), and none are configured"
            }
            (None, _) => "the registry requires credentials and none are configured (HTTP 401)",
        };
        RemoteError::Unauthorized {
            request,
            reason: reason.into(),
        }
    }

    /// Asks the token service for a token for `scopes` (Basic credentials if configured,
    /// anonymously otherwise, as Docker Hub and GHCR hand out tokens for public content) and
    /// caches it under `key`.
    async fn fetch_token(
        &self,
        realm: &Url,
        service: Option<&str>,
        scopes: &[&str],
        key: &str,
    ) -> Result<HeaderValue, RemoteError> {
        let mut url = realm.clone();
        if service.is_some() || !scopes.is_empty() {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            for scope in scopes {
                query.append_pair("scope", scope);
            }
        }
        let mut builder = self.http.client().get(url.clone());
        if let Some(credentials) = &self.credentials {
            builder = builder.header(AUTHORIZATION, credentials.basic_header());
        }
        let request = builder
            .build()
            .expect("a request from a parsed URL and valid headers builds");
        let answer = self.http.send(request).await?;
        let described = answer.request.clone();
        match answer.status().as_u16() {
            200 => {}
            401 | 403 => {
                return Err(RemoteError::Unauthorized {
                    request: described,
                    reason: match self.credentials {
                        Some(_) => format!(
                            "the registry's token service refused the configured credentials (HTTP {})",
                            answer.status().as_u16()
                        ),
                        None => format!(
                            "the registry's token service requires credentials and none are configured (HTTP {})",
                            answer.status().as_u16()
                        ),
                    },
                })
            }
            _ => return Err(answer.into_error().await),
        }
        let body = answer.bytes(MAX_TOKEN_RESPONSE).await?;
        let issued = Instant::now();
        let token = parse_token(&body, time::OffsetDateTime::now_utc()).map_err(|reason| {
            RemoteError::Protocol {
                request: described,
                reason,
            }
        })?;
        let mut header =
            HeaderValue::from_str(&format!("Bearer {}", token.value)).map_err(|_| {
                RemoteError::Protocol {
                    request: self.http.describe(&Method::GET, realm),
                    reason: "the token service's token cannot be sent in a header".into(),
                }
            })?;
        header.set_sensitive(true);
        self.tokens.lock().expect("token lock").insert(
            key.to_string(),
            CachedToken {
                header: header.clone(),
                refresh_at: issued + refresh_after(token.lifetime),
            },
        );
        Ok(header)
    }
}

/// A token service's answer.
#[derive(Debug, PartialEq, Eq)]
struct Token {
    value: String,
    /// How long it stays valid from now.
    lifetime: Duration,
}

/// Reads `{"token"|"access_token", "expires_in", "issued_at"}`. The lifetime counts from
/// `issued_at` when that lies in the past (a token that spent time in transit or a cache
/// expires sooner), from now otherwise.
fn parse_token(body: &[u8], now: time::OffsetDateTime) -> Result<Token, String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        token: Option<String>,
        access_token: Option<String>,
        expires_in: Option<u64>,
        issued_at: Option<String>,
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("the token service's answer is not the expected JSON: {e}"))?;
    let value = answer
        .token
        .filter(|t| !t.is_empty())
        .or(answer.access_token.filter(|t| !t.is_empty()))
        .ok_or("the token service's answer has no token")?;
    let mut lifetime = answer
        .expires_in
        .filter(|&s| s > 0)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TOKEN_LIFETIME);
    if let Some(issued_at) = answer.issued_at.as_deref().and_then(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    }) {
        let age = now - issued_at;
        if age.is_positive() {
            lifetime = lifetime.saturating_sub(age.unsigned_abs());
        }
    }
    Ok(Token { value, lifetime })
}

/// When to stop using a token of `lifetime`: a tenth of its life (at least 5 s, at most 30 s)
/// before it ends, so a request never carries a token that expires on the way.
fn refresh_after(lifetime: Duration) -> Duration {
    let margin = (lifetime / 10).clamp(Duration::from_secs(5), Duration::from_secs(30));
    lifetime.saturating_sub(margin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn tokens_come_as_token_or_access_token() {
        let now = datetime!(2024-01-02 03:04:05 UTC);
        assert_eq!(
            parse_token(br#"{"token":"abc","expires_in":300}"#, now),
            Ok(Token {
                value: "abc".into(),
                lifetime: Duration::from_secs(300)
            })
        );
        assert_eq!(
            parse_token(br#"{"access_token":"xyz"}"#, now),
            Ok(Token {
                value: "xyz".into(),
                lifetime: DEFAULT_TOKEN_LIFETIME
            })
        );
        // Docker Hub sends both, equal.
        assert_eq!(
            parse_token(br#"{"token":"t","access_token":"t","expires_in":0}"#, now)
                .unwrap()
                .value,
            "t"
        );
        assert!(parse_token(br#"{"expires_in":60}"#, now).is_err());
        assert!(parse_token(br#"{"token":""}"#, now).is_err());
        assert!(parse_token(b"not json", now).is_err());
    }

    #[test]
    fn issued_at_in_the_past_shortens_the_lifetime() {
        let now = datetime!(2024-01-02 03:04:05 UTC);
        let body = br#"{"token":"t","expires_in":300,"issued_at":"2024-01-02T03:03:05Z"}"#;
        assert_eq!(
            parse_token(body, now).unwrap().lifetime,
            Duration::from_secs(240)
        );
        // A clock ahead of ours does not lengthen it.
        let body = br#"{"token":"t","expires_in":300,"issued_at":"2024-01-02T03:09:05Z"}"#;
        assert_eq!(
            parse_token(body, now).unwrap().lifetime,
            Duration::from_secs(300)
        );
        // Already expired: used for this request only.
        let body = br#"{"token":"t","expires_in":60,"issued_at":"2024-01-01T00:00:00Z"}"#;
        assert_eq!(parse_token(body, now).unwrap().lifetime, Duration::ZERO);
    }

    #[test]
    fn tokens_are_refreshed_shortly_before_expiry() {
        assert_eq!(
            refresh_after(Duration::from_secs(60)),
            Duration::from_secs(54)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(300)),
            Duration::from_secs(270)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(3600)),
            Duration::from_secs(3570)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(20)),
            Duration::from_secs(15)
        );
        assert_eq!(refresh_after(Duration::from_secs(3)), Duration::ZERO);
    }

    #[test]
    fn credentials_are_redacted() {
        let credentials = Credentials {
            username: "alice".into(),
            password: "hunter2".into(),
        };
        let shown = format!("{credentials:?}");
        assert!(
            shown.contains("alice") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(credentials.basic_header().is_sensitive());
    }
}
