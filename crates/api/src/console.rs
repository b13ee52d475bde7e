//! The web console: hand-written HTML, CSS and JavaScript modules in `crates/server/console/`,
//! embedded in the binary by `rust-embed` (debug builds read them from disk, so an edit shows
//! on reload). The console is a client of the REST API and adds no behaviour of its own.
//!
//! Every console path (`/`, `/images/…`, `/select`, `/admin/…`, `/login`) answers the same
//! `index.html`, whose script routes in the browser; assets live under `/assets/`.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "console/"]
struct Assets;

/// What a console page may load: only its own origin's scripts, styles and API. The selector
/// is meant to be embedded in other tools' deployment forms, so only it may be framed.
const PAGE_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";
const SELECTOR_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors *";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(page))
        .route("/login", get(page))
        .route("/images", get(page))
        .route("/images/{*path}", get(page))
        .route("/admin", get(page))
        .route("/admin/{*path}", get(page))
        .route("/select", get(selector_page))
        .route("/assets/{*file}", get(asset))
}

async fn page(headers: HeaderMap) -> Response {
    serve("index.html", &headers, PAGE_POLICY)
}

async fn selector_page(headers: HeaderMap) -> Response {
    serve("index.html", &headers, SELECTOR_POLICY)
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    // `index.html` is a page, not an asset; everything else lives under `assets/`.
    serve(&format!("assets/{file}"), &headers, PAGE_POLICY)
}

/// Answers one embedded file, or 304 when the browser holds the same bytes. Every answer is
/// revalidated (`no-cache`), so a new Berth version is picked up on the next load while an
/// unchanged asset costs one round trip without a body.
fn serve(path: &str, headers: &HeaderMap, policy: &'static str) -> Response {
    // `rust-embed` only knows the files under `console/`, so `..` cannot reach anything else.
    let Some(file) = Assets::get(path) else {
        return (StatusCode::NOT_FOUND, "no such console file").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let common = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "no-cache".to_string()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        (header::REFERRER_POLICY, "same-origin".to_string()),
    ];
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    if unchanged {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let mut response = (
        common,
        [(header::CONTENT_TYPE, file.metadata.mimetype().to_string())],
        file.data.into_owned(),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    response
}
