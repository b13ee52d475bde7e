//! The one HTTP core every registry client sends through: one `reqwest::Client` per registry
//! (timeouts, TLS settings, extra roots), a concurrency limit, and retries with backoff.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use rand::Rng;
use reqwest::{Method, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::error::{error_chain, RemoteError};
use crate::headers;
use crate::{Endpoint, Settings};

/// The longest `Retry-After` honoured; a registry asking for more gets retried sooner.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Statuses worth another try: rate limiting and a struggling or restarting server.
fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// The wait before retry `attempt` (0 for the first retry): "full jitter", a uniformly random
/// time in `[0, min(max, base · 2^attempt)]`, which spreads clients that failed together
/// (AWS's "Exponential Backoff And Jitter"). A few lines instead of a crate: `backon`'s jitter
/// adds to the exponential delay rather than drawing below it, and `Retry-After` (which wins
/// when present) would need its adjust hook anyway.
pub(crate) fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let ceiling = base
        .checked_mul(1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX))
        .unwrap_or(max)
        .min(max);
    if ceiling.is_zero() {
        return Duration::ZERO;
    }
    rand::thread_rng().gen_range(Duration::ZERO..=ceiling)
}

/// A response together with the concurrency permit it holds until its body is read (or the
/// answer dropped), and the request as errors name it.
pub(crate) struct Answer {
    pub response: reqwest::Response,
    pub permit: OwnedSemaphorePermit,
    pub request: String,
    /// The registry's read timeout, for the error when the body stalls.
    pub read_timeout: Duration,
}

impl Answer {
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
    }

    /// The whole body, refusing more than `limit` bytes.
    pub async fn bytes(mut self, limit: u64) -> Result<Bytes, RemoteError> {
        let too_large = || RemoteError::TooLarge {
            request: self.request.clone(),
            limit,
        };
        if self.response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = self
            .response
            .chunk()
            .await
            .map_err(|e| body_error(&self.request, &e, self.read_timeout))?
        {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// The error an unwanted status stands for, with the registry's own message (the OCI
    /// error envelope's first code and message) when it sent one. 401 is handled by the
    /// authentication layer before this is reached.
    pub async fn into_error(self) -> RemoteError {
        let status = self.status().as_u16();
        let request = self.request.clone();
        let detail = match self.bytes(16 * 1024).await {
            Ok(body) => error_detail(&body),
            Err(_) => String::new(),
        };
        match status {
            401 => RemoteError::Unauthorized {
                request,
                reason: format!("the registry refused the request (HTTP 401){detail}"),
            },
            403 => RemoteError::Forbidden { request, detail },
            404 => RemoteError::NotFound { request, detail },
            _ => RemoteError::Status {
                request,
                status,
                detail,
            },
        }
    }
}

/// `: CODE: message` from an error envelope (`{"errors":[{"code","message"}]}`, which the OCI
/// distribution API and Harbor's REST API share; several entries are joined with `; `), or a
/// short plain-text body; empty otherwise.
pub(crate) fn error_detail(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Envelope {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(body) {
        let entries: Vec<String> = envelope
            .errors
            .iter()
            .filter_map(
                |entry| match (entry.code.is_empty(), entry.message.is_empty()) {
                    (false, false) => Some(format!("{}: {}", entry.code, entry.message)),
                    (false, true) => Some(entry.code.clone()),
                    (true, false) => Some(entry.message.clone()),
                    (true, true) => None,
                },
            )
            .collect();
        if !envelope.errors.is_empty() {
            return if entries.is_empty() {
                String::new()
            } else {
                format!(": {}", entries.join("; "))
            };
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if !text.is_empty() && text.len() <= 200 && !text.starts_with('<') && !text.contains('\n') {
        format!(": {text}")
    } else {
        String::new()
    }
}

/// A failure while reading a body that had started.
pub(crate) fn body_error(
    request: &str,
    error: &reqwest::Error,
    read_timeout: Duration,
) -> RemoteError {
    if error.is_timeout() {
        RemoteError::Timeout {
            request: request.to_string(),
            seconds: read_timeout.as_secs(),
            reason: error_chain(error),
        }
    } else {
        RemoteError::Unreachable {
            request: request.to_string(),
            reason: format!("the connection broke while reading: {}", error_chain(error)),
        }
    }
}

/// One registry's HTTP client.
pub(crate) struct Http {
    client: reqwest::Client,
    limit: Arc<Semaphore>,
    settings: Settings,
    /// The registry's origin (scheme, host, port), so errors name its requests by path alone.
    origin: url::Origin,
}

impl Http {
    pub fn new(endpoint: &Endpoint, settings: &Settings) -> Result<Http, RemoteError> {
        // reqwest is built without a crypto provider of its own (see the workspace's
        // Cargo.toml); aws-lc becomes the process default unless one is installed already.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .danger_accept_invalid_certs(endpoint.insecure)
            .user_agent(concat!("berth-remote/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &endpoint.ca_bundle_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                RemoteError::Invalid(format!(
                    "the CA bundle is not PEM certificates: {}",
                    error_chain(&e)
                ))
            })?;
            if certificates.is_empty() {
                return Err(RemoteError::Invalid(
                    "the CA bundle holds no PEM certificate".into(),
                ));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder.build().map_err(|e| {
            RemoteError::Invalid(format!("cannot set up an HTTP client: {}", error_chain(&e)))
        })?;
        Ok(Http {
            client,
            limit: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            settings: settings.clone(),
            origin: endpoint.url.origin(),
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// `GET /v2/x/tags/list?n=10` for the registry's own URLs, the whole URL (without
    /// credentials) for others such as a token service.
    pub fn describe(&self, method: &Method, url: &Url) -> String {
        if url.origin() == self.origin {
            match url.query() {
                Some(query) => format!("{method} {}?{query}", url.path()),
                None => format!("{method} {}", url.path()),
            }
        } else {
            let mut shown = url.clone();
            let _ = shown.set_username("");
            let _ = shown.set_password(None);
            format!("{method} {shown}")
        }
    }

    /// Sends `request` and returns the last answer, whatever its status. GET and HEAD are
    /// retried on 429, 500, 502, 503, 504 and connection errors, up to `retries` more times,
    /// waiting `Retry-After` when the registry says (at most a minute) and a jittered
    /// exponential backoff otherwise. Errors mid-body are not retried here.
    pub async fn send(&self, request: reqwest::Request) -> Result<Answer, RemoteError> {
        let described = self.describe(request.method(), request.url());
        let idempotent = matches!(*request.method(), Method::GET | Method::HEAD);
        let mut original = Some(request);
        let mut attempt = 0u32;
        loop {
            let retry_left = idempotent && attempt < self.settings.retries;
            let this =
                match original
                    .as_ref()
                    .and_then(|r| if retry_left { r.try_clone() } else { None })
                {
                    Some(copy) => copy,
                    None => original
                        .take()
                        .expect("the request is sent at most once uncloned"),
                };
            let can_retry = retry_left && original.is_some();
            let permit = self
                .limit
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let wait = match self.client.execute(this).await {
                Ok(response) if can_retry && is_retryable(response.status()) => {
                    let status = response.status();
                    let asked = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| headers::retry_after(v, SystemTime::now(), MAX_RETRY_AFTER));
                    let wait = asked.unwrap_or_else(|| self.backoff(attempt));
                    tracing::debug!(request = %described, %status, ?wait, "retrying");
                    wait
                }
                Ok(response) => {
                    return Ok(Answer {
                        response,
                        permit,
                        request: described,
                        read_timeout: self.settings.read_timeout,
                    })
                }
                Err(error) if can_retry && error.is_connect() => {
                    let wait = self.backoff(attempt);
                    tracing::debug!(request = %described, error = %error_chain(&error), ?wait, "retrying");
                    wait
                }
                Err(error) => return Err(self.send_error(described, &error)),
            };
            drop(permit);
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        backoff(
            attempt,
            self.settings.backoff_base,
            self.settings.max_backoff,
        )
    }

    fn send_error(&self, request: String, error: &reqwest::Error) -> RemoteError {
        let reason = error_chain(error);
        if error.is_timeout() {
            let limit = if error.is_connect() {
                self.settings.connect_timeout
            } else {
                self.settings.read_timeout
            };
            RemoteError::Timeout {
                request,
                seconds: limit.as_secs(),
                reason,
            }
        } else if error.is_redirect() {
            RemoteError::Protocol { request, reason }
        } else {
            RemoteError::Unreachable { request, reason }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_below_a_doubling_ceiling() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for attempt in 0..8 {
            let ceiling = (base * 2u32.pow(attempt)).min(max);
            for _ in 0..50 {
                assert!(backoff(attempt, base, max) <= ceiling);
            }
        }
        assert_eq!(backoff(3, Duration::ZERO, max), Duration::ZERO);
        // Huge attempt numbers saturate at the cap instead of overflowing.
        assert!(backoff(u32::MAX, base, max) <= max);
    }

    #[test]
    fn error_detail_reads_the_oci_envelope() {
        assert_eq!(
            error_detail(br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{}}]}"#),
            ": NAME_UNKNOWN: repository name not known to registry"
        );
        assert_eq!(
            error_detail(b"404 page not found\n"),
            ": 404 page not found"
        );
        // Harbor may send several entries; each says something.
        assert_eq!(
            error_detail(br#"{"errors":[{"code":"BAD_REQUEST","message":"a"},{"code":"","message":"b"},{}]}"#),
            ": BAD_REQUEST: a; b"
        );
        assert_eq!(error_detail(br#"{"errors":[{}]}"#), "");
        assert_eq!(error_detail(b"<html><body>nope</body></html>"), "");
        assert_eq!(error_detail(b""), "");
    }
}
