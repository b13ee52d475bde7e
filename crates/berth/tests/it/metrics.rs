//! `/metrics` as a Prometheus scraper reads it: every metric described by `# HELP` and
//! `# TYPE`, and the gauges read at scrape time (the catalog per registry, stored bytes, open
//! upload sessions, database pools, the image list index) telling the truth after a push.
//!
//! The metrics recorder is one per process, shared by every in-process test server, so these
//! tests run the real binary, whose gauges no other test can touch.

use std::collections::BTreeMap;

use berth_testkit::image::{layer, ImageBuilder};

use crate::support::{
    client, push_image, put_manifest, Backend, BinaryServer, TestDatabase, ADMIN_PASSWORD,
};

crate::on_both_backends!(multi_thread: metrics_describe_themselves_and_count_a_push);

/// After pushing one image into two repositories of `hosted` (one of them under two tags)
/// and opening an upload session, the catalog, stored-bytes, upload-session and index gauges
/// count exactly that, and every metric shown has its `# HELP` and `# TYPE` lines.
async fn metrics_describe_themselves_and_count_a_push(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let data = database.dir.path().join("data");
    let url = database.url.clone();
    let server = tokio::task::spawn_blocking(move || BinaryServer::spawn(&data, Some(&url)))
        .await
        .unwrap();
    let base = server.url.as_str();
    let token = admin_token(base, &["library/app", "library/copy"]).await;
    let image = ImageBuilder::new()
        .layer(layer(&[("one", b"first layer")]), "ADD one /")
        .layer(layer(&[("two", b"second layer")]), "ADD two /")
        .build();
    push_image(base, &token, "library/app", &image, "v1").await;
    put_manifest(base, &token, "library/app", &image, "latest").await;
    push_image(base, &token, "library/copy", &image, "v1").await;
    let status = async |method: reqwest::Method, path: &str| {
        let response = client()
            .request(method, format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    };
    // An upload that is started and left open.
    let uploads = "/v2/library/app/blobs/uploads/";
    assert_eq!(status(reqwest::Method::POST, uploads).await, 202);
    // A blob served, so the bytes-sent counter exists.
    let layer = format!("/v2/library/app/blobs/{}", image.layers[0].digest);
    assert_eq!(status(reqwest::Method::GET, &layer).await, 200);

    // A workspace with a registry of its own, whose names the REST API hides from outsiders.
    let admin = |path: &str, body: serde_json::Value| {
        client()
            .post(format!("{base}/api/v1{path}"))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .json(&body)
            .send()
    };
    let made = admin("/workspaces", serde_json::json!({"name": "hidden-team"})).await;
    assert_eq!(made.unwrap().status(), 201);
    let mirror = serde_json::json!({
        "name": "private-mirror", "kind": "distribution", "url": "http://127.0.0.1:9"
    });
    let made = admin("/workspaces/hidden-team/registries", mirror).await;
    assert_eq!(made.unwrap().status(), 201);

    let response = client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    // `/metrics` is read without signing in, so it names no workspace: workspace registries
    // are counted together.
    assert!(!text.contains("hidden-team"), "{text}");
    assert!(!text.contains("private-mirror"), "{text}");
    let samples = samples(&text);
    let value = |sample: &str| {
        *samples
            .get(sample)
            .unwrap_or_else(|| panic!("no sample `{sample}` in:\n{text}"))
    };

    // The catalog of `hosted`: two repositories, each holding the one manifest, three tags.
    assert_eq!(value(r#"berth_repositories{registry="hosted"}"#), 2.0);
    assert_eq!(value(r#"berth_artifacts{registry="hosted"}"#), 2.0);
    assert_eq!(value(r#"berth_tags{registry="hosted"}"#), 3.0);
    assert_eq!(
        value(r#"berth_repositories{registry="(workspace registries)"}"#),
        0.0
    );
    // Bytes: the blobs once, or once per repository they are in, and each stored manifest.
    let blobs: usize = image.blobs().iter().map(|b| b.bytes.len()).sum();
    let manifests = 2 * image.manifest.bytes.len();
    assert_eq!(
        value(r#"berth_stored_bytes{count="deduplicated"}"#),
        (blobs + manifests) as f64
    );
    assert_eq!(
        value(r#"berth_stored_bytes{count="logical"}"#),
        (2 * blobs + manifests) as f64
    );
    assert_eq!(value("berth_upload_sessions"), 1.0);
    // The image list index holds `library` and both repositories, whose tags are `v1` and
    // `latest`.
    assert_eq!(value("berth_image_list_index_spaces"), 1.0);
    assert_eq!(value("berth_image_list_index_repositories"), 2.0);
    assert_eq!(value("berth_image_list_index_tag_names"), 2.0);
    assert!(value("berth_image_list_index_load_seconds") >= 0.0);
    // Database pools: how many connections are open, idle and allowed.
    let pools: Vec<&String> = samples
        .keys()
        .filter(|k| k.starts_with("berth_database_pool_max_connections{"))
        .collect();
    assert!(!pools.is_empty(), "no pool gauges in:\n{text}");
    for pool in pools {
        assert!(value(pool) >= 1.0, "{pool}");
        let open = pool.replace("_max_connections", "_connections");
        assert!(value(&open) <= value(pool), "{open}");
        assert!(value(&pool.replace("_max_", "_idle_")) <= value(&open));
    }

    let kinds = [
        ("berth_http_requests_total", "counter"),
        ("berth_http_request_duration_seconds", "histogram"),
        ("berth_bytes_received_total", "counter"),
        ("berth_bytes_sent_total", "counter"),
        ("berth_uploads_in_flight", "gauge"),
        ("berth_upload_sessions", "gauge"),
        ("berth_repositories", "gauge"),
        ("berth_artifacts", "gauge"),
        ("berth_tags", "gauge"),
        ("berth_stored_bytes", "gauge"),
        ("berth_database_pool_connections", "gauge"),
        ("berth_database_pool_idle_connections", "gauge"),
        ("berth_database_pool_max_connections", "gauge"),
        ("berth_image_list_index_spaces", "gauge"),
        ("berth_image_list_index_repositories", "gauge"),
        ("berth_image_list_index_tag_names", "gauge"),
        ("berth_image_list_index_load_seconds", "gauge"),
    ];
    for (name, kind) in kinds {
        let help = format!("# HELP {name} ");
        assert!(
            text.lines()
                .any(|l| l.starts_with(&help) && l.len() > help.len()),
            "no `# HELP {name}` in:\n{text}"
        );
        let type_line = format!("# TYPE {name} {kind}");
        assert!(
            text.lines().any(|l| l == type_line),
            "no `{type_line}` in:\n{text}"
        );
    }
    // And no metric is shown without them.
    for sample in samples.keys() {
        let name = sample.split(['{', ' ']).next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|family| text.contains(&format!("# TYPE {family} histogram")))
            .unwrap_or(name);
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "`{sample}` has no TYPE line"
        );
    }
    server.kill();
}

/// A token from the binary's token service for pull and push on `repositories`, as admin.
async fn admin_token(url: &str, repositories: &[&str]) -> String {
    let scopes: Vec<(&str, String)> = repositories
        .iter()
        .map(|r| ("scope", format!("repository:{r}:pull,push")))
        .collect();
    let response = client()
        .get(format!("{url}/auth/token?service=berth"))
        .query(&scopes)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// The samples of a Prometheus text exposition, by name with labels as printed.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (sample, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("a sample line without a value: {line}"));
            let value = value.parse().unwrap_or_else(|e| panic!("`{line}`: {e}"));
            (sample.to_string(), value)
        })
        .collect()
}
