//! The hosted registry: the OCI Distribution API at `/v2/`.
//!
//! Repository names contain slashes, so there is one route for all of `/v2/…` and the path is
//! parsed here, once, into a [`Route`]. Handlers receive parsed names and digests.
//! Direction rule: handlers call the store and the blob store; neither calls back.

mod blobs;
mod error;
mod listing;
mod manifests;
pub(crate) mod proxy;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use berth_access::{Action, Refused, Scope, Subject};
use berth_http::RouteLabel;
use berth_identity::principals;
use berth_identity::tokens::{Claims, SERVICE};
use berth_oci::{Digest, RepoName};
use berth_store::audit::OwnedAuditEvent;

use crate::RegistryState;

pub use error::RegistryError;

pub(crate) fn router() -> Router<RegistryState> {
    Router::new()
        .route("/v2", any(dispatch))
        .route("/v2/", any(dispatch))
        .route("/v2/{*path}", any(dispatch))
}

/// A `/v2` path, parsed.
#[derive(Debug)]
enum Route {
    Base,
    Catalog,
    Tags(RepoName),
    Manifest(RepoName, String),
    Blob(RepoName, String),
    Uploads(RepoName),
    Upload(RepoName, String),
    Referrers(RepoName, String),
}

impl Route {
    /// The repository the route names, if any.
    fn name(&self) -> Option<&RepoName> {
        match self {
            Route::Base | Route::Catalog => None,
            Route::Tags(name)
            | Route::Manifest(name, _)
            | Route::Blob(name, _)
            | Route::Uploads(name)
            | Route::Upload(name, _)
            | Route::Referrers(name, _) => Some(name),
        }
    }

    /// The operation `method` performs on this route: its metrics label and what its token
    /// must allow. `None` when the route does not serve the method. This is the one place
    /// that says which requests need pull, push or delete.
    fn operation(&self, method: &Method) -> Option<(&'static str, Need<'_>)> {
        use Action::{Delete, Pull, Push};
        use Method as M;
        let repository = |name, action| Need::Repository(name, action);
        Some(match (self, method) {
            (Route::Base, &M::GET | &M::HEAD) => ("base", Need::Ping),
            (Route::Catalog, &M::GET) => ("catalog", Need::Catalog),
            (Route::Tags(name), &M::GET) => ("tags_list", repository(name, Pull)),
            (Route::Referrers(name, _), &M::GET) => ("referrers", repository(name, Pull)),
            (Route::Manifest(name, _), &M::GET | &M::HEAD) => {
                ("manifest_get", repository(name, Pull))
            }
            (Route::Manifest(name, _), &M::PUT) => ("manifest_put", repository(name, Push)),
            (Route::Manifest(name, _), &M::DELETE) => ("manifest_delete", repository(name, Delete)),
            (Route::Blob(name, _), &M::GET | &M::HEAD) => ("blob_get", repository(name, Pull)),
            (Route::Blob(name, _), &M::DELETE) => ("blob_delete", repository(name, Delete)),
            (Route::Uploads(name), &M::POST) => ("upload_start", repository(name, Push)),
            (Route::Upload(name, _), &M::PATCH) => ("upload_patch", repository(name, Push)),
            (Route::Upload(name, _), &M::PUT) => ("upload_put", repository(name, Push)),
            (Route::Upload(name, _), &M::GET) => ("upload_status", repository(name, Push)),
            (Route::Upload(name, _), &M::DELETE) => ("upload_cancel", repository(name, Push)),
            _ => return None,
        })
    }

    /// The methods this route serves, for the `Allow` header every 405 must carry.
    fn allowed_methods(&self) -> String {
        use Method as M;
        [M::GET, M::HEAD, M::POST, M::PATCH, M::PUT, M::DELETE]
            .iter()
            .filter(|m| self.operation(m).is_some())
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Splits `<name>/<kind>/<rest>` from the right: the name is everything before the last
    /// `/blobs/`, `/manifests/`… that fits, so names may themselves contain those words.
    fn parse(path: &str) -> Result<Route, RegistryError> {
        let path = path.trim_start_matches('/');
        if path.is_empty() {
            return Ok(Route::Base);
        }
        if path == "_catalog" {
            return Ok(Route::Catalog);
        }
        let name = |n: &str| RepoName::parse(n).map_err(RegistryError::from);
        if let Some(n) = path.strip_suffix("/tags/list") {
            return Ok(Route::Tags(name(n)?));
        }
        if let Some(n) = path
            .strip_suffix("/blobs/uploads/")
            .or_else(|| path.strip_suffix("/blobs/uploads"))
        {
            return Ok(Route::Uploads(name(n)?));
        }
        let Some((head, last)) = path.rsplit_once('/') else {
            return Err(not_found());
        };
        let last = percent_decode(last);
        if let Some(n) = head.strip_suffix("/blobs/uploads") {
            return Ok(Route::Upload(name(n)?, last));
        }
        if let Some(n) = head.strip_suffix("/blobs") {
            return Ok(Route::Blob(name(n)?, last));
        }
        if let Some(n) = head.strip_suffix("/manifests") {
            return Ok(Route::Manifest(name(n)?, last));
        }
        if let Some(n) = head.strip_suffix("/referrers") {
            return Ok(Route::Referrers(name(n)?, last));
        }
        Err(not_found())
    }
}

fn not_found() -> RegistryError {
    RegistryError::NameUnknown
}

/// The pairs of a query string or form body, percent-decoded, in order.
pub(crate) fn form_pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// One request to the registry, as the handlers see it, without its body. The body is passed
/// separately to the handlers that read one: `Body` is not `Sync`, and keeping it out lets
/// handlers hold `&RegistryRequest` across awaits.
pub(crate) struct RegistryRequest {
    pub method: Method,
    pub headers: HeaderMap,
    pub query: Vec<(String, String)>,
    /// The client's address, for the audit log.
    pub source: Option<String>,
}

impl RegistryRequest {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn dispatch(State(state): State<RegistryState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().strip_prefix("/v2").unwrap_or("");
    let request = RegistryRequest {
        query: form_pairs(parts.uri.query().unwrap_or("")),
        source: berth_http::client_address(&parts.extensions),
        method: parts.method,
        headers: parts.headers,
    };
    let (label, result) = match Route::parse(path) {
        Ok(route) => handle(&state, route, &request, body).await,
        Err(error) => ("invalid", Err(error)),
    };
    let mut response = result.unwrap_or_else(|e| e.into_response());
    response.headers_mut().insert(
        "Docker-Distribution-API-Version",
        HeaderValue::from_static("registry/2.0"),
    );
    response.extensions_mut().insert(RouteLabel(label));
    response
}

/// Authorizes the request for its operation, then runs the operation's handler.
async fn handle(
    state: &RegistryState,
    route: Route,
    request: &RegistryRequest,
    body: Body,
) -> (&'static str, Result<Response, RegistryError>) {
    use Method as M;
    let Some((label, need)) = route.operation(&request.method) else {
        let allow = route.allowed_methods();
        return (
            "not_allowed",
            Err(RegistryError::MethodNotAllowed { allow }),
        );
    };
    let caller = match authorize(state, &request.headers, need).await {
        Ok(claims) => claims,
        Err(error) => return (label, Err(error)),
    };
    // A proxied registry's repository is served from its upstream, after the same
    // authorization as any other.
    if let Some(name) = route.name() {
        match proxy::resolve(state, name).await {
            Ok(Some(proxied)) => {
                let result = proxy::handle(state, &caller, &proxied, &route, request).await;
                return (label, result);
            }
            Ok(None) => {}
            Err(error) => return (label, Err(error)),
        }
    }
    let result = match (route, &request.method) {
        (Route::Base, _) => {
            Ok(([(header::CONTENT_TYPE, "application/json")], "{}").into_response())
        }
        (Route::Catalog, _) => listing::catalog(state, &caller, request).await,
        (Route::Tags(name), _) => listing::tags(state, &name, request).await,
        (Route::Referrers(name, digest), _) => {
            listing::referrers(state, &name, &digest, request).await
        }
        (Route::Manifest(name, reference), &M::PUT) => {
            manifests::put(state, &caller, &name, &reference, request, body).await
        }
        (Route::Manifest(name, reference), &M::DELETE) => {
            manifests::delete(state, &caller, &name, &reference, request).await
        }
        (Route::Manifest(name, reference), _) => {
            manifests::get(state, &caller, &name, &reference, request).await
        }
        (Route::Blob(name, digest), &M::DELETE) => {
            blobs::delete(state, &caller, &name, &digest, request).await
        }
        (Route::Blob(name, digest), _) => blobs::get(state, &name, &digest, request).await,
        (Route::Uploads(name), _) => {
            blobs::start_upload(state, &caller, &name, request, body).await
        }
        (Route::Upload(name, id), &M::PATCH) => {
            blobs::patch_upload(state, &name, &id, request, body).await
        }
        (Route::Upload(name, id), &M::PUT) => {
            blobs::put_upload(state, &name, &id, request, body).await
        }
        (Route::Upload(name, id), &M::DELETE) => blobs::cancel_upload(state, &name, &id).await,
        (Route::Upload(name, id), _) => blobs::upload_status(state, &name, &id).await,
    };
    (label, result)
}

/// What a request needs from its token.
pub(crate) enum Need<'a> {
    Ping,
    Catalog,
    Repository(&'a RepoName, Action),
}

/// Checks the request's bearer token against what it needs, and returns the verified claims.
///
/// No token, or a bad one, gets 401 with a challenge naming the scope to ask for. A valid
/// token that lacks the scope gets 401 too when a fresh token would carry it (the client
/// simply asks again), and 403 `DENIED` when the access rule refuses it outright.
pub(crate) async fn authorize(
    state: &RegistryState,
    headers: &HeaderMap,
    need: Need<'_>,
) -> Result<Claims, RegistryError> {
    let scope = match &need {
        Need::Ping => None,
        Need::Catalog => Some(Scope::Catalog.to_string()),
        // Clients that push also pull (to check for existing blobs), so ask for both.
        Need::Repository(name, Action::Push) => Some(format!("repository:{name}:pull,push")),
        Need::Repository(name, action) => Some(format!("repository:{name}:{}", action.as_str())),
    };
    let challenge = |error: Option<&str>| {
        let mut challenge = format!(
            "Bearer realm=\"{}/auth/token\",service=\"{SERVICE}\"",
            state.external_url
        );
        if let Some(scope) = &scope {
            challenge.push_str(&format!(",scope=\"{scope}\""));
        }
        if let Some(error) = error {
            challenge.push_str(&format!(",error=\"{error}\""));
        }
        RegistryError::Unauthorized { challenge }
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let Some(token) = token else {
        return Err(challenge(None));
    };
    let claims = state
        .tokens
        .verify(token.trim())
        .map_err(|_| challenge(Some("invalid_token")))?;
    match need {
        Need::Ping | Need::Catalog => Ok(claims),
        Need::Repository(name, action) => {
            if berth_access::allows(&claims.granted, name.as_str(), action) {
                return Ok(claims);
            }
            let Some(subject) =
                principals::current_subject(&state.store, &claims.sub, &claims.cred).await?
            else {
                // The account was deleted, disabled or expired after the token was issued.
                return Err(challenge(Some("invalid_token")));
            };
            let facts = principals::facts_for(&state.store, [name.as_str()]).await?;
            // A proxied repository's space is its upstream repository's (`team` for
            // `dist/team/web`); the refusal names that one.
            let space = match berth_oci::split_proxied(name.as_str()) {
                Some((_, upstream)) if facts.proxied.contains(name.as_str()) => {
                    berth_oci::space_of(upstream)
                }
                _ => name.space(),
            };
            Err(match berth_access::refusal(&subject, &facts, name.as_str(), action) {
                Refused::AskAgain => challenge(Some("insufficient_scope")),
                Refused::Denied => {
                    RegistryError::Denied(format!("requested access to `{name}` is denied"))
                }
                Refused::Hidden { plainly: true } => RegistryError::SpaceUnknown(format!(
                    "space `{space}` does not exist on this registry; create it (or turn on auto-create) before pushing to it"
                )),
                Refused::Hidden { plainly: false } => RegistryError::SpaceUnknown(format!(
                    "repository `{name}` not found: space `{space}` does not exist or is not open to you; platform admins create spaces and bind them to workspaces"
                )),
            })
        }
    }
}

/// The token holder as the access rule sees them now, or `None` when the account is gone.
pub(crate) async fn token_subject(
    state: &RegistryState,
    claims: &Claims,
) -> Result<Option<Subject>, RegistryError> {
    Ok(principals::current_subject(&state.store, &claims.sub, &claims.cred).await?)
}

/// An audit event by the token holder of this request. Robots' events belong to their
/// workspace, so its admins can read them.
pub(crate) fn audit_event(
    claims: &Claims,
    request: &RegistryRequest,
    action: &str,
    target: String,
    detail: Option<String>,
) -> OwnedAuditEvent {
    OwnedAuditEvent {
        // The time of the request, not of the write: pull events are written up to a second
        // later, and the log must order them among the changes made meanwhile.
        at: Some(berth_store::now_millis()),
        actor: claims.sub.clone(),
        action: action.to_string(),
        target,
        workspace: principals::parse_robot_name(&claims.sub)
            .map(|(workspace, _)| workspace.to_string()),
        source: request.source.clone(),
        detail,
    }
}

/// Parses a digest from a URL path segment.
fn parse_digest(text: &str) -> Result<Digest, RegistryError> {
    Digest::parse(text).map_err(RegistryError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, expected: &str) {
        let got = match Route::parse(path) {
            Ok(route) => format!("{route:?}"),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expected, "{path}");
    }

    #[test]
    fn parses_paths() {
        check("/", "Base");
        check("", "Base");
        check("/_catalog", "Catalog");
        check("/a/b/tags/list", "Tags(RepoName(\"a/b\"))");
        check("/a/blobs/uploads/", "Uploads(RepoName(\"a\"))");
        check("/a/blobs/uploads", "Uploads(RepoName(\"a\"))");
        check("/a/blobs/uploads/123", "Upload(RepoName(\"a\"), \"123\")");
        check("/a/blobs/sha256:ab", "Blob(RepoName(\"a\"), \"sha256:ab\")");
        check(
            "/a/blobs/sha256%3Aab",
            "Blob(RepoName(\"a\"), \"sha256:ab\")",
        );
        check(
            "/x/manifests/y/manifests/latest",
            "Manifest(RepoName(\"x/manifests/y\"), \"latest\")",
        );
        check(
            "/a/referrers/sha256:ab",
            "Referrers(RepoName(\"a\"), \"sha256:ab\")",
        );
        check("/UPPER/manifests/latest", "error: invalid repository name: `UPPER` is not a valid path component: use lowercase letters and digits, separated by `.`, `_`, `__` or `-`");
        check(
            "/a/unknown/x",
            "error: repository name not known to registry",
        );
    }
}
