//! Behaviour real registries show but CNCF Distribution cannot be made to: rate limiting,
//! a disabled catalog (GHCR, Docker Hub), tag pages, paging without `Link`, paging loops.
//! In-test axum servers play the registry.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use berth_remote::{Listing, RemoteError, RemoteRegistry};
use common::{client, endpoint, serve};
use serde_json::json;

#[derive(Default)]
struct Counters {
    catalog: AtomicUsize,
}

#[tokio::test]
async fn retries_honour_retry_after() {
    let counters = Arc::new(Counters::default());
    let router = Router::new()
        .route("/v2/", get(|| async { Json(json!({})) }))
        .route(
            "/v2/_catalog",
            get(|State(c): State<Arc<Counters>>| async move {
                if c.catalog.fetch_add(1, Ordering::SeqCst) == 0 {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [(header::RETRY_AFTER, "1")],
                        "slow down",
                    )
                        .into_response()
                } else {
                    Json(json!({ "repositories": ["a/b"] })).into_response()
                }
            }),
        )
        .with_state(counters.clone());
    let url = serve(router).await;
    let remote = client(endpoint(&url));
    let started = Instant::now();
    assert_eq!(remote.repositories().await.unwrap(), ["a/b"]);
    let waited = started.elapsed();
    assert_eq!(counters.catalog.load(Ordering::SeqCst), 2);
    // The test settings back off 50 ms at most; only Retry-After explains a second.
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test]
async fn retries_give_up_with_the_last_status() {
    let counters = Arc::new(Counters::default());
    let router = Router::new()
        .route(
            "/v2/",
            get(|State(c): State<Arc<Counters>>| async move {
                c.catalog.fetch_add(1, Ordering::SeqCst);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({"errors": [{"code": "UNAVAILABLE", "message": "maintenance"}]})),
                )
            }),
        )
        .with_state(counters.clone());
    let url = serve(router).await;
    let error = client(endpoint(&url)).check().await.unwrap_err();
    // The first try and the test settings' two retries.
    assert_eq!(counters.catalog.load(Ordering::SeqCst), 3);
    assert!(
        matches!(error, RemoteError::Status { status: 503, .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("UNAVAILABLE: maintenance"),
        "{error}"
    );
}

/// A registry without a catalog, as GHCR and Docker Hub: `_catalog` is 404.
async fn catalogless() -> (String, Arc<Counters>) {
    let counters = Arc::new(Counters::default());
    let router = Router::new()
        .route("/v2/", get(|| async { Json(json!({})) }))
        .route(
            "/v2/_catalog",
            get(|State(c): State<Arc<Counters>>| async move {
                c.catalog.fetch_add(1, Ordering::SeqCst);
                StatusCode::NOT_FOUND
            }),
        )
        .fallback(|uri: Uri| async move {
            match uri.path().strip_suffix("/tags/list") {
                Some(name) => Json(json!({ "name": &name[4..], "tags": ["1.0"] })).into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        })
        .with_state(counters.clone());
    (serve(router).await, counters)
}

#[tokio::test]
async fn without_a_catalog_repositories_must_be_followed() {
    let (url, counters) = catalogless().await;

    let all = client(endpoint(&url));
    for error in [
        all.check().await.unwrap_err(),
        all.repositories().await.unwrap_err(),
    ] {
        assert!(
            matches!(error, RemoteError::CatalogUnavailable { status: 404, .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("repositories to follow"),
            "{error}"
        );
    }

    // Named repositories need no catalog.
    let before = counters.catalog.load(Ordering::SeqCst);
    let followed = client(endpoint(&url).with_follow(["library/alpine", "org/tool"]));
    assert_eq!(
        followed.check().await.unwrap().listing,
        Listing::Followed {
            repositories: 2,
            prefixes: 0
        }
    );
    assert_eq!(
        followed.repositories().await.unwrap(),
        ["library/alpine", "org/tool"]
    );
    assert_eq!(followed.tags("library/alpine").await.unwrap(), ["1.0"]);
    assert_eq!(counters.catalog.load(Ordering::SeqCst), before);

    // A prefix filters the catalog, so it needs one.
    let prefixed = client(endpoint(&url).with_follow(["library/"]));
    let error = prefixed.repositories().await.unwrap_err();
    assert!(
        matches!(error, RemoteError::CatalogUnavailable { .. }),
        "{error}"
    );
}

#[derive(serde::Deserialize)]
struct Page {
    n: Option<usize>,
    last: Option<String>,
}

fn page_of(names: &[String], page: &Page) -> Vec<String> {
    let start = match &page.last {
        Some(last) => names.iter().position(|n| n > last).unwrap_or(names.len()),
        None => 0,
    };
    names
        .iter()
        .skip(start)
        .take(page.n.unwrap_or(usize::MAX))
        .cloned()
        .collect()
}

#[tokio::test]
async fn pages_follow_links_or_last_and_stop_at_loops() {
    let tags: Vec<String> = (0..23).map(|i| format!("v{i:02}")).collect();
    let repositories: Vec<String> = (0..31).map(|i| format!("r/{i:02}")).collect();
    // Bound first, so the absolute links below can name the server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new()
        .route("/v2/", get(|| async { Json(json!({})) }))
        // Tag pages with absolute Links, as some registries send them.
        .route(
            "/v2/linked/tags/list",
            get({
                let (tags, url) = (tags.clone(), url.clone());
                move |Query(page): Query<Page>| async move {
                    let names = page_of(&tags, &page);
                    let mut response =
                        Json(json!({"name": "linked", "tags": names})).into_response();
                    if let (Some(last), Some(n)) = (names.last(), page.n) {
                        if names.len() == n {
                            let link = format!(
                                "<{url}/v2/linked/tags/list?n={n}&last={last}>; rel=\"next\""
                            );
                            response
                                .headers_mut()
                                .insert(header::LINK, link.parse().unwrap());
                        }
                    }
                    response
                }
            }),
        )
        // A catalog that pages by `last=` but sends no Link.
        .route(
            "/v2/_catalog",
            get({
                let repositories = repositories.clone();
                move |Query(page): Query<Page>| async move {
                    Json(json!({"repositories": page_of(&repositories, &page)}))
                }
            }),
        )
        // A broken registry whose next link is the page itself.
        .route(
            "/v2/loop/tags/list",
            get(|| async {
                (
                    [(header::LINK, "</v2/loop/tags/list?n=10>; rel=\"next\"")],
                    Json(json!({"name": "loop", "tags": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]})),
                )
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let remote = client(endpoint(&url));
    assert_eq!(remote.repositories().await.unwrap(), repositories);
    assert_eq!(remote.tags("linked").await.unwrap(), tags);
    assert_eq!(remote.tags("loop").await.unwrap().len(), 10);
}

#[tokio::test]
async fn content_is_checked_against_its_digest() {
    let good = b"the real bytes".to_vec();
    let announced = berth_oci::Digest::sha256_of(&good);
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}"#;
    let router = Router::new()
        .route("/v2/", get(|| async { Json(json!({})) }))
        // Every blob answers with other bytes than asked for.
        .fallback(move |uri: Uri| async move {
            if uri.path().contains("/blobs/") {
                b"tampered bytes".to_vec().into_response()
            } else {
                (
                    [
                        (header::CONTENT_TYPE, "application/vnd.oci.image.manifest.v1+json"),
                        (
                            header::HeaderName::from_static("docker-content-digest"),
                            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                        ),
                    ],
                    manifest.to_vec(),
                )
                    .into_response()
            }
        });
    let url = serve(router).await;
    let remote = client(endpoint(&url));

    let error = remote.blob("a/b", &announced, 1024).await.unwrap_err();
    assert!(
        matches!(error, RemoteError::DigestMismatch { .. }),
        "{error}"
    );
    let mut stream = remote.blob_stream("a/b", &announced).await.unwrap();
    let mut items = Vec::new();
    while let Some(item) = futures::StreamExt::next(&mut stream.stream).await {
        items.push(item);
    }
    assert!(items[0].is_ok());
    assert!(
        matches!(items.last(), Some(Err(RemoteError::DigestMismatch { .. }))),
        "the stream must end in an error: {items:?}"
    );

    // By tag, the registry's Docker-Content-Digest is checked; by digest, the digest asked for.
    let error = remote.manifest("a/b", "v1").await.unwrap_err();
    assert!(
        matches!(error, RemoteError::DigestMismatch { .. }),
        "{error}"
    );
    let error = remote
        .manifest("a/b", &announced.to_string())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RemoteError::DigestMismatch { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn requests_in_flight_stay_within_the_limit() {
    #[derive(Default)]
    struct Gauge {
        now: AtomicUsize,
        most: AtomicUsize,
    }
    let gauge = Arc::new(Gauge::default());
    let router = Router::new()
        .fallback(|State(g): State<Arc<Gauge>>| async move {
            let now = g.now.fetch_add(1, Ordering::SeqCst) + 1;
            g.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            g.now.fetch_sub(1, Ordering::SeqCst);
            Json(json!({"tags": ["v1"]}))
        })
        .with_state(gauge.clone());
    let url = serve(router).await;
    let remote = Arc::new(
        berth_remote::DistributionClient::new(
            endpoint(&url),
            berth_remote::Settings {
                max_concurrency: 3,
                ..common::settings()
            },
        )
        .unwrap(),
    );
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let remote = remote.clone();
            tokio::spawn(async move { remote.tags(&format!("r/{i}")).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), ["v1"]);
    }
    assert_eq!(gauge.most.load(Ordering::SeqCst), 3);
}

/// A registry that caps pages below the client's `list_page_size` (Distribution with a small
/// `catalog.maxentries`) refuses the first page with 400 PAGINATION_NUMBER_INVALID; the
/// client lists again in pages of `page_size`, which every registry accepts.
#[tokio::test]
async fn a_refused_page_size_falls_back_to_the_small_one() {
    let router = Router::new().route(
        "/v2/_catalog",
        get(|Query(query): Query<Vec<(String, String)>>| async move {
            let value = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
            let n: usize = value("n").and_then(|n| n.parse().ok()).unwrap_or(100);
            if n > 3 {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"errors": [{"code": "PAGINATION_NUMBER_INVALID",
                                            "message": "invalid number of results requested"}]})),
                )
                    .into_response();
            }
            let all: Vec<String> = (0..7).map(|i| format!("team/r{i}")).collect();
            let after = value("last");
            let rest: Vec<&String> = all
                .iter()
                .filter(|name| after.as_ref().is_none_or(|last| *name > last))
                .take(n)
                .collect();
            Json(json!({ "repositories": rest })).into_response()
        }),
    );
    let url = serve(router).await;
    let settings = berth_remote::Settings {
        page_size: 3,
        list_page_size: 1000,
        ..common::settings()
    };
    let remote = berth_remote::DistributionClient::new(endpoint(&url), settings).unwrap();
    let names = remote.repositories().await.unwrap();
    assert_eq!(names.len(), 7, "{names:?}");
    assert_eq!(names[6], "team/r6");
}
