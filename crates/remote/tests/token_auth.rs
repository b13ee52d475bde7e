//! The Docker token flow, against an in-test token service and an in-test `/v2/` that demands
//! its tokens. These servers are deliberately simple stand-ins (tokens are plain strings naming
//! their scope, not JWTs): what is tested here is our client's side of the flow (parsing the
//! challenge, asking the realm with service and scope, caching per scope, retrying once, and
//! reporting refusals), not a registry's token validation.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use berth_remote::{Authentication, Listing, RemoteError, RemoteRegistry};
use common::{client, endpoint, serve};
use serde_json::json;

const SERVICE: &str = "berth-test";

#[derive(Default)]
struct World {
    /// `Some`: the token service wants these Basic credentials; `None`: anonymous tokens.
    credentials: Option<(String, String)>,
    /// Answer with `access_token` instead of `token`.
    access_token: bool,
    /// The realm's URL, known once the server listens.
    realm: Mutex<String>,
    token_requests: AtomicUsize,
    scopes_asked: Mutex<Vec<String>>,
}

async fn token(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    world.token_requests.fetch_add(1, Ordering::SeqCst);
    let params: HashMap<_, _> = query.iter().cloned().collect();
    if params.get("service").map(String::as_str) != Some(SERVICE) {
        return (StatusCode::BAD_REQUEST, "unknown service").into_response();
    }
    if let Some((user, password)) = &world.credentials {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        if headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            != Some(&expected)
        {
            return (StatusCode::UNAUTHORIZED, "bad credentials").into_response();
        }
    }
    let scopes: Vec<String> = query
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    world.scopes_asked.lock().unwrap().extend(scopes.clone());
    let value = format!("tok|{}", scopes.join(" "));
    let body = if world.access_token {
        json!({ "access_token": value, "expires_in": 300 })
    } else {
        json!({ "token": value, "expires_in": 300, "issued_at": "2020-01-01T00:00:00Z" })
    };
    // issued_at long ago would expire the token at once; only the access_token variant is
    // cached, which the caching assertions below rely on.
    Json(body).into_response()
}

/// `/v2/…`: each path needs a token whose scope covers it.
async fn registry(State(world): State<Arc<World>>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches("/v2/");
    let needed = if path.is_empty() {
        None
    } else if path == "_catalog" {
        Some("registry:catalog:*".to_string())
    } else if let Some(name) = path.strip_suffix("/tags/list") {
        Some(format!("repository:{name}:pull"))
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer tok|"))
        .map(|scopes| scopes.split(' ').map(str::to_string).collect::<Vec<_>>());
    let allowed = match (&presented, &needed) {
        (Some(_), None) => true,
        (Some(scopes), Some(needed)) => scopes.contains(needed),
        (None, _) => false,
    };
    // Anonymous tokens do not open `private/…`.
    let anonymous_private =
        world.credentials.is_none() && path.starts_with("private/") && presented.is_some();
    if !allowed || anonymous_private {
        let realm = world.realm.lock().unwrap().clone();
        let mut challenge = format!(r#"Bearer realm="{realm}",service="{SERVICE}""#);
        if let Some(scope) = &needed {
            challenge.push_str(&format!(r#",scope="{scope}""#));
        }
        if presented.is_some() {
            challenge.push_str(r#",error="insufficient_scope""#);
        }
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, challenge)],
            Json(
                json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
            ),
        )
            .into_response();
    }
    match path {
        "" => Json(json!({})).into_response(),
        "_catalog" => {
            Json(json!({ "repositories": ["a/one", "b/two", "private/x"] })).into_response()
        }
        _ => {
            let name = path.strip_suffix("/tags/list").unwrap();
            Json(json!({ "name": name, "tags": ["v1", "v2"] })).into_response()
        }
    }
}

async fn start(world: World) -> (String, Arc<World>) {
    let world = Arc::new(world);
    let router = Router::new()
        .route("/token", get(token))
        .fallback(registry)
        .with_state(world.clone());
    let url = serve(router).await;
    *world.realm.lock().unwrap() = format!("{url}/token");
    (url, world)
}

#[tokio::test]
async fn bearer_tokens_with_credentials_are_fetched_per_scope_and_cached() {
    let (url, world) = start(World {
        credentials: Some(("bob".into(), "pa,ss\"word".into())),
        access_token: true,
        ..World::default()
    })
    .await;
    let remote = client(endpoint(&url).with_credentials("bob", "pa,ss\"word"));
    let report = remote.check().await.unwrap();
    assert_eq!(report.authentication, Authentication::Token);
    assert_eq!(report.listing, Listing::Catalog);
    assert_eq!(
        remote.repositories().await.unwrap(),
        ["a/one", "b/two", "private/x"]
    );
    assert_eq!(remote.tags("a/one").await.unwrap(), ["v1", "v2"]);
    assert_eq!(remote.tags("private/x").await.unwrap(), ["v1", "v2"]);
    let asked = world.token_requests.load(Ordering::SeqCst);
    // Again: every scope's token is cached, so the token service hears nothing more.
    remote.repositories().await.unwrap();
    remote.tags("a/one").await.unwrap();
    remote.tags("private/x").await.unwrap();
    assert_eq!(world.token_requests.load(Ordering::SeqCst), asked);
    let scopes = world.scopes_asked.lock().unwrap().clone();
    assert!(
        scopes.contains(&"registry:catalog:*".to_string()),
        "{scopes:?}"
    );
    assert!(
        scopes.contains(&"repository:a/one:pull".to_string()),
        "{scopes:?}"
    );
}

#[tokio::test]
async fn wrong_credentials_at_the_token_service_are_unauthorized() {
    let (url, _) = start(World {
        credentials: Some(("bob".into(), "right".into())),
        ..World::default()
    })
    .await;
    let remote = client(endpoint(&url).with_credentials("bob", "wrong"));
    for error in [
        remote.check().await.unwrap_err(),
        remote.repositories().await.unwrap_err(),
    ] {
        assert!(matches!(error, RemoteError::Unauthorized { .. }), "{error}");
        let text = error.to_string();
        assert!(
            text.contains("refused the configured credentials"),
            "{text}"
        );
        assert!(text.contains("/token"), "{text}");
        assert!(!text.contains("wrong"), "the password leaked: {text}");
    }
    // Without credentials the token service's refusal says none are configured.
    let anonymous = client(endpoint(&url));
    let error = anonymous.check().await.unwrap_err();
    assert!(error.to_string().contains("none are configured"), "{error}");
}

#[tokio::test]
async fn anonymous_tokens_open_public_content_only() {
    let (url, world) = start(World::default()).await;
    let remote = client(endpoint(&url).with_follow(["a/one", "private/x"]));
    let report = remote.check().await.unwrap();
    assert_eq!(report.authentication, Authentication::Token);
    assert_eq!(
        report.listing,
        Listing::Followed {
            repositories: 2,
            prefixes: 0
        }
    );
    assert_eq!(remote.tags("a/one").await.unwrap(), ["v1", "v2"]);
    // The token comes, but the registry still says no: credentials are needed.
    let error = remote.tags("private/x").await.unwrap_err();
    assert!(matches!(error, RemoteError::Unauthorized { .. }), "{error}");
    assert!(
        error.to_string().contains("requires credentials"),
        "{error}"
    );
    // `issued_at` in 2020 makes these tokens expire at once, so each request asks again.
    let before = world.token_requests.load(Ordering::SeqCst);
    remote.tags("a/one").await.unwrap();
    assert!(world.token_requests.load(Ordering::SeqCst) > before);
}
