//! The web console's HTTP surface: pages, assets, caching and the security headers that keep
//! API data from running as script. What the pages do is tested in Chromium (`e2e/`).

use crate::support::{client, Backend, TestServer};

/// Every console path answers the same page with a strict policy, only the selector may be
/// framed, assets carry their type and an ETag that turns a repeat load into a 304, and
/// nothing outside the console folder can be read.
#[tokio::test]
async fn console_pages_and_assets() {
    let server = TestServer::spawn(Backend::Sqlite).await;
    let get = |path: &str| client().get(format!("{}{path}", server.url)).send();

    let mut pages = Vec::new();
    for path in [
        "/",
        "/login",
        "/images",
        "/images/hosted/team/app",
        "/admin/users",
        "/select",
    ] {
        let response = get(path).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "text/html", "{path}");
        let policy = headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        let framing = if path == "/select" {
            "frame-ancestors *"
        } else {
            "frame-ancestors 'none'"
        };
        assert!(policy.contains(framing), "{path}: {policy}");
        let body = response.text().await.unwrap();
        assert!(body.contains(r#"<script type="module" src="/assets/app.js">"#));
        pages.push(body);
    }
    assert!(
        pages.windows(2).all(|w| w[0] == w[1]),
        "one page, routed in the browser"
    );

    let response = get("/assets/app.js").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/javascript");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let again = client()
        .get(format!("{}/assets/app.js", server.url))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    let css = get("/assets/style.css").await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css");

    for missing in [
        "/assets/nope.js",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/src/console.rs",
        // Encoded slashes reach the handler as one path; rust-embed still answers only files
        // inside the console folder.
        "/assets/..%2F..%2FCargo.toml",
        "/assets/css%2F..%2F..%2F..%2Fsrc%2Fconsole.rs",
        "/assets/index.html",
        "/nowhere",
    ] {
        let response = get(missing).await.unwrap();
        assert_eq!(response.status(), 404, "{missing}");
    }
    // The API and the registry keep their own answers.
    assert_eq!(get("/v2/").await.unwrap().status(), 401);
    assert_eq!(get("/api/v1/me").await.unwrap().status(), 401);
    server.stop().await;
}
