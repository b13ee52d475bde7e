//! Issue 4's image details and selector over the REST API: artifact details checked field by
//! field against what real skopeo reads back from the registry (a 10-step build history and a
//! multi-arch index), repository details, descriptions, tag pages, deletes and their audit
//! events, a repository of an external platform registry, the deploy selector, and bad input.
//!
//! Every test body runs once per database backend (`<name>::sqlite`, `<name>::postgres`).

use std::collections::BTreeMap;
use std::time::Duration;

use berth_store::hosted::{ChildRecord, Platform};
use berth_store::registry_records::RegistryOwner;
use berth_store::repositories::{SyncedRepository, SyncedTag};
use berth_testkit::image::{sha256_digest, OCI_INDEX, OCI_MANIFEST};
use berth_testkit::{index, layer, random_layer, Image, ImageBuilder, Index};
use reqwest::Method;
use serde_json::{json, Value};

use crate::skopeo::{oci_layout, Skopeo};
use crate::support::api::{Answer, Auth};
use crate::support::{
    bind, client, create_space, create_workspace, push_image, put_manifest, set_role, Backend,
    TestServer, ADMIN_PASSWORD,
};

crate::on_both_backends!(
    multi_thread:
    build_history_matches_skopeo_inspect,
    multi_arch_index_matches_skopeo_inspect,
);

crate::on_both_backends!(
    repository_details_and_description,
    tag_pages,
    deletes_and_their_audit_events,
    external_registry_repository,
    selector,
    bad_input,
);

// ---------------------------------------------------------------------------------------------
// Who is who
// ---------------------------------------------------------------------------------------------

const PASSWORD: &str = "a-password-for-tests";

/// Basic credentials of a caller, or none.
type Who = Option<(&'static str, &'static str)>;

const ANONYMOUS: Who = None;
const ADMIN: Who = Some(("admin", ADMIN_PASSWORD));
/// Admin of `payments`, which is bound to the private space `squad`.
const WS_ADMIN: Who = Some(("ada", PASSWORD));
/// Editor of `payments`.
const EDITOR: Who = Some(("edna", PASSWORD));
/// Viewer of `payments`.
const VIEWER: Who = Some(("vic", PASSWORD));
/// Editor of `other`, which nothing private is bound to.
const OUTSIDER: Who = Some(("otto", PASSWORD));

/// A server with private space `squad` bound to workspace `payments` (members ada: admin,
/// edna: editor, vic: viewer) and workspace `other` (otto: editor).
async fn start(backend: Backend) -> TestServer {
    let server = TestServer::spawn(backend).await;
    let store = &server.state.store;
    create_space(store, "squad", false).await;
    create_workspace(store, "payments").await;
    create_workspace(store, "other").await;
    bind(store, "squad", &["payments"]).await;
    for (user, workspace, role) in [
        ("ada", "payments", "admin"),
        ("edna", "payments", "editor"),
        ("vic", "payments", "viewer"),
        ("otto", "other", "editor"),
    ] {
        server.create_user(user, PASSWORD, false).await;
        set_role(store, workspace, user, role).await;
    }
    server
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    who: Who,
    body: Option<Value>,
) -> Answer {
    let auth = match who {
        Some((user, password)) => Auth::Basic(user, password),
        None => Auth::Anonymous,
    };
    crate::support::api::call(&server.url, method, path, auth, body).await
}

async fn get(server: &TestServer, path: &str, who: Who) -> Answer {
    call(server, Method::GET, path, who, None).await
}

async fn patch(server: &TestServer, path: &str, who: Who, body: Value) -> Answer {
    call(server, Method::PATCH, path, who, Some(body)).await
}

async fn post(server: &TestServer, path: &str, who: Who, body: Value) -> Answer {
    call(server, Method::POST, path, who, Some(body)).await
}

async fn delete(server: &TestServer, path: &str, who: Who) -> Answer {
    call(server, Method::DELETE, path, who, None).await
}

/// Percent-encodes a path segment or query value (`squad/api` → `squad%2Fapi`).
fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `/workspaces/{ws}/registries/{reg}/repositories/{repo}`, the repository encoded once.
pub(crate) fn repo_path(workspace: &str, registry: &str, repository: &str) -> String {
    format!(
        "/workspaces/{workspace}/registries/{registry}/repositories/{}",
        enc(repository)
    )
}

pub(crate) fn artifact_path(
    workspace: &str,
    registry: &str,
    repository: &str,
    digest: &str,
) -> String {
    format!(
        "{}/artifacts/{digest}",
        repo_path(workspace, registry, repository)
    )
}

/// The `items` of a list answer.
fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().expect("a list answer has items")
}

/// `field` of each item of a list answer.
fn field_of(body: &Value, field: &str) -> Vec<String> {
    items(body)
        .iter()
        .map(|item| item[field].as_str().unwrap().to_string())
        .collect()
}

/// The rows of `GET /workspaces/{ws}/images` with `query`, by repository path.
async fn image_rows(server: &TestServer, workspace: &str, query: &str, who: Who) -> Vec<Value> {
    let list = get(
        server,
        &format!("/workspaces/{workspace}/images?{query}"),
        who,
    )
    .await
    .expect(200);
    items(&list).clone()
}

/// The audit event with `action` and `target`, newest first, as the platform admin reads it.
async fn audit_event(server: &TestServer, action: &str, target: &str) -> Value {
    let events = get(server, &format!("/audit?action={action}&limit=500"), ADMIN)
        .await
        .expect(200);
    items(&events)
        .iter()
        .find(|e| e["target"] == target)
        .cloned()
        .unwrap_or_else(|| panic!("no {action} event for {target} in {events}"))
}

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

/// The status of a registry GET of `/v2/<path>` as the platform admin, and its body.
async fn registry_get(server: &TestServer, repository: &str, path: &str) -> (u16, Value) {
    let token = server.admin_token(&[repository]).await;
    let response = client()
        .get(format!("{}/v2/{repository}/{path}", server.url))
        .bearer_auth(token)
        .header("accept", format!("{OCI_MANIFEST}, {OCI_INDEX}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A one-layer image whose bytes depend on `seed`.
pub(crate) fn small_image(seed: &str) -> Image {
    ImageBuilder::new()
        .layer(
            layer(&[("etc/release", seed.as_bytes())]),
            "ADD release /etc/release",
        )
        .config_field("Cmd", json!(["/bin/sh"]))
        .build()
}

/// Manifest, config and layers, in bytes: what the API reports as an image's size.
fn image_size(image: &Image) -> u64 {
    image.manifest.size() + image.config.size() + image.layers.iter().map(|l| l.size()).sum::<u64>()
}

fn platform_json(image: &Image) -> Value {
    json!({"os": image.os, "architecture": image.architecture, "variant": image.variant})
}

// ---------------------------------------------------------------------------------------------
// Images with real build histories
// ---------------------------------------------------------------------------------------------

/// Ten build steps, four of which made a layer; every runtime field a Dockerfile can set.
fn ten_step_image() -> Image {
    ImageBuilder::new()
        .layer(
            layer(&[
                ("etc/os-release", b"ID=berth\n"),
                ("etc/motd", b"welcome\n"),
            ]),
            "ADD rootfs.tar /",
        )
        .empty_history("ENV PATH=/usr/local/bin:/usr/bin:/bin SHOP_MODE=production")
        .empty_history("LABEL org.opencontainers.image.title=shop")
        .layer(
            layer(&[("etc/ssl/certs/ca.pem", b"-----BEGIN CERTIFICATE-----\n")]),
            "RUN /bin/sh -c apk add --no-cache ca-certificates",
        )
        .empty_history("WORKDIR /srv/shop")
        .layer(
            layer(&[("srv/shop/shop", b"#!/bin/sh\nexec shop \"$@\"\n")]),
            "COPY shop /srv/shop/shop # buildkit",
        )
        .empty_history("EXPOSE map[443/tcp:{} 8080/tcp:{} 9090/udp:{}]")
        .layer(
            random_layer(64 * 1024, 11, 6),
            "RUN /bin/sh -c ./shop --warm-cache",
        )
        .empty_history("ENTRYPOINT [\"/srv/shop/shop\"]")
        .empty_history("CMD [\"--serve\" \"--port=8080\"]")
        .config_field(
            "Env",
            json!(["PATH=/usr/local/bin:/usr/bin:/bin", "SHOP_MODE=production"]),
        )
        .config_field("Entrypoint", json!(["/srv/shop/shop"]))
        .config_field("Cmd", json!(["--serve", "--port=8080"]))
        .config_field("WorkingDir", json!("/srv/shop"))
        .config_field(
            "ExposedPorts",
            json!({"8080/tcp": {}, "443/tcp": {}, "9090/udp": {}}),
        )
        .config_field(
            "Labels",
            json!({
                "org.opencontainers.image.title": "shop",
                "org.opencontainers.image.source": "https://git.example/shop",
                "maintainer": "berth tests",
            }),
        )
        .author("Berth Tests <tests@berth.example>")
        .created("2024-05-06T07:08:09Z")
        .build()
}

/// One platform's build of a small program: five steps, two of them layers.
fn platform_image(architecture: &str, variant: Option<&str>) -> Image {
    let binary = format!("{architecture}{} binary", variant.unwrap_or_default());
    ImageBuilder::new()
        .platform("linux", architecture, variant)
        .layer(
            layer(&[("etc/os-release", b"ID=multi\n")]),
            "ADD base.tar /",
        )
        .empty_history("ENV APP=multi")
        .layer(
            layer(&[("bin/app", binary.as_bytes())]),
            "COPY app /bin/app",
        )
        .empty_history("USER 1000")
        .empty_history("ENTRYPOINT [\"/bin/app\"]")
        .config_field("Env", json!(["APP=multi"]))
        .config_field("Entrypoint", json!(["/bin/app"]))
        .config_field("User", json!("1000"))
        .author("multi builder")
        .build()
}

fn three_platform_index() -> Index {
    index(vec![
        platform_image("amd64", None),
        platform_image("arm64", Some("v8")),
        platform_image("arm", Some("v7")),
    ])
}

/// Asserts that the API's details of an image manifest agree, field by field, with what
/// skopeo read back from the registry: `raw` from `inspect --raw`, `config` from
/// `inspect --config`.
#[track_caller]
fn assert_image_details(details: &Value, raw: &[u8], config: &Value) {
    let manifest: Value = serde_json::from_slice(raw).unwrap();
    assert_eq!(details["digest"], sha256_digest(raw), "digest");
    assert_eq!(details["media_type"], manifest["mediaType"], "media_type");
    assert_eq!(details["manifest"], manifest, "manifest");
    assert_eq!(details["children"], json!([]), "children of an image");

    let layers = manifest["layers"].as_array().unwrap();
    let referenced: u64 = manifest["config"]["size"].as_u64().unwrap()
        + layers
            .iter()
            .map(|l| l["size"].as_u64().unwrap())
            .sum::<u64>();
    assert_eq!(details["size"], raw.len() as u64 + referenced, "size");

    // Layers in manifest order, each with the history entry of the step that made it: the
    // n-th history entry that is not an empty layer.
    let history = config["history"].as_array().unwrap();
    let layer_steps: Vec<&Value> = history
        .iter()
        .filter(|h| !h["empty_layer"].as_bool().unwrap_or(false))
        .collect();
    let got_layers = details["layers"].as_array().unwrap();
    assert_eq!(got_layers.len(), layers.len(), "layer count");
    for (n, (got, want)) in got_layers.iter().zip(layers).enumerate() {
        assert_eq!(got["digest"], want["digest"], "layer {n} digest");
        assert_eq!(got["media_type"], want["mediaType"], "layer {n} media type");
        assert_eq!(got["size"], want["size"], "layer {n} size");
        assert_eq!(
            got["created_by"], layer_steps[n]["created_by"],
            "layer {n} created_by"
        );
        assert_eq!(
            got["created"], layer_steps[n]["created"],
            "layer {n} created"
        );
    }

    // Every history entry, in order, empty layers included.
    let expected_history: Vec<Value> = history
        .iter()
        .map(|h| {
            json!({
                "created": h["created"],
                "created_by": h["created_by"],
                "author": h["author"],
                "comment": h["comment"],
                "empty_layer": h["empty_layer"].as_bool().unwrap_or(false),
            })
        })
        .collect();
    assert_eq!(details["history"], json!(expected_history), "history");

    // The config's fields.
    let runtime = &config["config"];
    let strings = |key: &str| -> Value {
        if runtime[key].is_null() {
            json!([])
        } else {
            runtime[key].clone()
        }
    };
    let mut ports: Vec<&String> = runtime["ExposedPorts"]
        .as_object()
        .map(|ports| ports.keys().collect())
        .unwrap_or_default();
    ports.sort();
    let expected_config = json!({
        "created": config["created"],
        "author": config["author"],
        "os": config["os"],
        "architecture": config["architecture"],
        "variant": config["variant"],
        "env": strings("Env"),
        "entrypoint": strings("Entrypoint"),
        "cmd": strings("Cmd"),
        "working_dir": runtime["WorkingDir"],
        "exposed_ports": ports,
        "labels": if runtime["Labels"].is_null() { json!({}) } else { runtime["Labels"].clone() },
    });
    assert_eq!(details["config"], expected_config, "config");
    assert_eq!(
        details["platforms"],
        json!([{"os": config["os"], "architecture": config["architecture"], "variant": config["variant"]}]),
        "platforms"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Details against skopeo
// ---------------------------------------------------------------------------------------------

/// An image with a 10-step build history pushed by real skopeo into a private space: its
/// details, read by a viewer of the bound workspace, match `skopeo inspect --raw` and
/// `skopeo inspect --config` field by field.
async fn build_history_matches_skopeo_inspect(backend: Backend) {
    let server = start(backend).await;
    let skopeo = Skopeo::new(&server.host, Some(("admin", ADMIN_PASSWORD)));
    let image = ten_step_image();
    let source = oci_layout("v1", &image);
    let target = skopeo.image("squad/shop:v1");
    skopeo.copy(&[], &source.reference, &target).await;

    let raw = skopeo.ok(&[], "inspect", &["--raw", &target]).await;
    let config: Value =
        serde_json::from_slice(&skopeo.ok(&[], "inspect", &["--config", &target]).await).unwrap();
    let digest = sha256_digest(&raw);
    assert_eq!(
        digest, image.manifest.digest,
        "skopeo kept the built manifest"
    );
    assert_eq!(config["history"].as_array().unwrap().len(), 10);

    let details = get(
        &server,
        &artifact_path("payments", "hosted", "squad/shop", &digest),
        VIEWER,
    )
    .await
    .expect(200);
    assert_image_details(&details, &raw, &config);
    assert_eq!(details["registry"], "hosted");
    assert_eq!(details["repository"], "squad/shop");
    assert_eq!(details["tags"], json!(["v1"]));
    assert_eq!(details["pushed_by"], "admin");
    assert!(details["pushed_at"].is_string());
    assert_eq!(details["referrers"], json!([]));
    let reference = format!("{}/squad/shop", server.host);
    assert_eq!(
        details["pull_command"],
        json!({
            "by_tag": format!("docker pull {reference}:v1"),
            "by_digest": format!("docker pull {reference}@{digest}"),
        })
    );
    // A few of the facts spelled out, so that a wrong reading of skopeo's output cannot
    // make the comparison above vacuous.
    assert_eq!(details["config"]["working_dir"], "/srv/shop");
    assert_eq!(
        details["config"]["exposed_ports"],
        json!(["443/tcp", "8080/tcp", "9090/udp"])
    );
    assert_eq!(
        details["config"]["author"],
        "Berth Tests <tests@berth.example>"
    );
    assert_eq!(details["layers"].as_array().unwrap().len(), 4);
    assert_eq!(
        details["layers"][3]["created_by"],
        "RUN /bin/sh -c ./shop --warm-cache"
    );
    let empty: Vec<bool> = details["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["empty_layer"].as_bool().unwrap())
        .collect();
    assert_eq!(
        empty,
        [false, true, true, false, true, false, true, false, true, true]
    );

    // The tag list and the image list agree with the details.
    let tags = get(
        &server,
        &format!("{}/tags", repo_path("payments", "hosted", "squad/shop")),
        VIEWER,
    )
    .await
    .expect(200);
    assert_eq!(field_of(&tags, "name"), ["v1"]);
    assert_eq!(items(&tags)[0]["digest"], digest);
    assert_eq!(items(&tags)[0]["size"], details["size"]);
    assert_eq!(items(&tags)[0]["platforms"], details["platforms"]);
    let rows = image_rows(&server, "payments", "q=shop", VIEWER).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["size"], details["size"]);
    assert_eq!(rows[0]["latest_tag"], "v1");
    server.stop().await;
}

/// A three-platform index (arm64 with variant v8) pushed by `skopeo copy --all`: its children,
/// platforms and sizes match the raw index, each child's details match skopeo's reading of
/// it, and the tag list shows the index tag with the three platforms.
async fn multi_arch_index_matches_skopeo_inspect(backend: Backend) {
    let server = start(backend).await;
    let skopeo = Skopeo::new(&server.host, Some(("admin", ADMIN_PASSWORD)));
    let built = three_platform_index();
    let source = oci_layout("v2", &built);
    let target = skopeo.image("squad/multi:v2");
    skopeo.copy(&["--all"], &source.reference, &target).await;

    let raw = skopeo.ok(&[], "inspect", &["--raw", &target]).await;
    let raw_index: Value = serde_json::from_slice(&raw).unwrap();
    let digest = sha256_digest(&raw);
    assert_eq!(digest, built.manifest.digest, "skopeo kept the built index");

    let details = get(
        &server,
        &artifact_path("payments", "hosted", "squad/multi", &digest),
        EDITOR,
    )
    .await
    .expect(200);
    assert_eq!(details["digest"], digest);
    assert_eq!(details["media_type"], raw_index["mediaType"]);
    assert_eq!(details["manifest"], raw_index);
    assert_eq!(details["config"], Value::Null);
    assert_eq!(details["layers"], json!([]));
    assert_eq!(details["history"], json!([]));
    assert_eq!(details["tags"], json!(["v2"]));
    let entries = raw_index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let expected_children: Vec<Value> = entries
        .iter()
        .map(|m| {
            json!({
                "digest": m["digest"],
                "media_type": m["mediaType"],
                "size": m["size"],
                "platform": {
                    "os": m["platform"]["os"],
                    "architecture": m["platform"]["architecture"],
                    "variant": m["platform"]["variant"],
                },
            })
        })
        .collect();
    assert_eq!(details["children"], json!(expected_children));
    let platforms: Vec<Value> = expected_children
        .iter()
        .map(|c| c["platform"].clone())
        .collect();
    assert_eq!(details["platforms"], json!(platforms));
    assert_eq!(
        details["platforms"],
        json!(built.images.iter().map(platform_json).collect::<Vec<_>>())
    );
    assert_eq!(details["platforms"][1]["variant"], "v8");

    // Each child resolves on its own and matches skopeo's reading of it.
    let mut children_size = 0;
    for (entry, image) in entries.iter().zip(&built.images) {
        let child_digest = entry["digest"].as_str().unwrap();
        let reference = skopeo.image(&format!("squad/multi@{child_digest}"));
        let child_raw = skopeo.ok(&[], "inspect", &["--raw", &reference]).await;
        let child_config: Value =
            serde_json::from_slice(&skopeo.ok(&[], "inspect", &["--config", &reference]).await)
                .unwrap();
        let child = get(
            &server,
            &artifact_path("payments", "hosted", "squad/multi", child_digest),
            EDITOR,
        )
        .await
        .expect(200);
        assert_image_details(&child, &child_raw, &child_config);
        assert_eq!(child["platforms"], json!([platform_json(image)]));
        assert_eq!(child["size"], image_size(image));
        assert_eq!(child["tags"], json!([]));
        children_size += child["size"].as_u64().unwrap();
    }
    assert_eq!(
        details["size"],
        raw.len() as u64 + children_size,
        "index size"
    );

    // The tag list shows the index tag with the three platforms.
    let tags = get(
        &server,
        &format!("{}/tags", repo_path("payments", "hosted", "squad/multi")),
        EDITOR,
    )
    .await
    .expect(200);
    assert_eq!(tags["total"], 1);
    let tag = &items(&tags)[0];
    assert_eq!(tag["name"], "v2");
    assert_eq!(tag["digest"], digest);
    assert_eq!(tag["media_type"], OCI_INDEX);
    assert_eq!(tag["platforms"], json!(platforms));
    assert_eq!(tag["size"], details["size"]);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 2. Repository details, descriptions, tag pages, deletes, external registries
// ---------------------------------------------------------------------------------------------

/// The repository page holds the list row plus its own fields; editors of the bound
/// workspace change the description (visible in the page, the list and the audit log),
/// viewers may not, and members of another workspace cannot see it at all.
async fn repository_details_and_description(backend: Backend) {
    let server = start(backend).await;
    let token = server.admin_token(&["squad/api"]).await;
    let old = small_image("old");
    let new = small_image("new");
    push_image(&server.url, &token, "squad/api", &old, "v1").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    push_image(&server.url, &token, "squad/api", &new, "v2").await;
    let path = repo_path("payments", "hosted", "squad/api");

    let view = get(&server, &path, VIEWER).await.expect(200);
    let reference = format!("{}/squad/api", server.host);
    assert_eq!(view["registry"], "hosted");
    assert_eq!(view["registry_kind"], "hosted");
    assert_eq!(view["space"], "squad");
    assert_eq!(view["repository"], "squad/api");
    assert_eq!(view["reference"], reference);
    assert_eq!(view["visibility"], "private");
    assert_eq!(view["sources"], json!(["bound"]));
    assert_eq!(view["tag_count"], 2);
    assert_eq!(view["latest_tag"], "v2");
    assert_eq!(view["size"], image_size(&new));
    assert_eq!(view["pulls"], 0);
    assert_eq!(view["description"], "");
    assert_eq!(view["description_html"], "");
    // Pushed with a tag, the image is scanned as it arrives (its layers hold no packages).
    assert!(view["scan"]["status"].is_string(), "{}", view["scan"]);
    assert_eq!(view["artifact_count"], 2);
    assert!(view["created_at"].as_str().unwrap().ends_with('Z'));
    // Compared as times: the text drops trailing zeros of the milliseconds, so `…36.59Z` and
    // `…36.5Z` do not sort as text the way they do as times.
    let at = |field: &str| {
        time::OffsetDateTime::parse(
            view[field].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert!(at("pushed_at") >= at("created_at"), "{view}");
    assert_eq!(view["pull_command"], format!("docker pull {reference}:v2"));
    assert_eq!(view["permissions"], json!([]));

    // Every field of the list row is in the page, with the same value.
    let rows = image_rows(&server, "payments", "q=squad/api", VIEWER).await;
    assert_eq!(rows.len(), 1);
    for (key, value) in rows[0].as_object().unwrap() {
        // The scan may move on between the two reads.
        if key == "scan" {
            continue;
        }
        assert_eq!(
            &view[key], value,
            "`{key}` differs between the list and the page"
        );
    }

    // What each caller may do, as the page says.
    for (who, permissions) in [
        (EDITOR, json!(["edit", "scan"])),
        (WS_ADMIN, json!(["edit", "scan", "delete"])),
        (ADMIN, json!(["edit", "scan", "delete"])),
    ] {
        let view = get(&server, &path, who).await.expect(200);
        assert_eq!(view["permissions"], permissions, "{who:?}");
    }

    // An editor changes the description.
    let markdown =
        "# API\n\nServes **payments**.\n\n- `GET /pay`\n- [docs](https://docs.example/api)\n";
    let changed = patch(&server, &path, EDITOR, json!({ "description": markdown }))
        .await
        .expect(200);
    assert_eq!(changed["description"], markdown);
    assert_eq!(changed["repository"], "squad/api");
    let html = changed["description_html"].as_str().unwrap();
    assert!(html.contains("<h1>API</h1>"), "{html}");
    assert!(html.contains("<strong>payments</strong>"), "{html}");
    assert!(
        html.contains(r#"<a href="https://docs.example/api" rel="noopener noreferrer">docs</a>"#),
        "{html}"
    );

    // The rendered HTML is sanitised: raw HTML shows as text, and only http(s) and mailto
    // links survive, so the console may insert it as it is.
    let hostile = "# Title\n\n<script>alert(1)</script>\n\n<b onclick=\"x()\">bold</b> \
        [bad](javascript:alert(1)) [mail](mailto:a@b.example) ![pixel](https://t.example/p.gif)\n";
    let changed = patch(&server, &path, EDITOR, json!({ "description": hostile }))
        .await
        .expect(200);
    let html = changed["description_html"].as_str().unwrap();
    assert!(html.starts_with("<h1>Title</h1>"), "{html}");
    for unsafe_part in ["<script", "<b ", "javascript:", "<img"] {
        assert!(!html.contains(unsafe_part), "`{unsafe_part}` in {html}");
    }
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(html.contains(r#"href="mailto:a@b.example""#), "{html}");
    patch(&server, &path, EDITOR, json!({ "description": markdown }))
        .await
        .expect(200);
    assert_eq!(
        get(&server, &path, VIEWER).await.expect(200)["description"],
        markdown
    );
    let rows = image_rows(&server, "payments", "q=squad/api", VIEWER).await;
    assert_eq!(rows[0]["description"], markdown);
    let event = audit_event(&server, "repository.update", "hosted/squad/api").await;
    assert_eq!(event["actor"], "edna");
    assert_eq!(event["workspace"], "payments");

    // A viewer may see but not change it.
    patch(&server, &path, VIEWER, json!({ "description": "mine" }))
        .await
        .error(403, "forbidden", "");
    // A member of another workspace cannot see it, through either workspace.
    let outside = repo_path("other", "hosted", "squad/api");
    patch(
        &server,
        &outside,
        OUTSIDER,
        json!({ "description": "mine" }),
    )
    .await
    .error(404, "not_found", "");
    get(&server, &outside, OUTSIDER)
        .await
        .error(404, "not_found", "");
    patch(&server, &path, OUTSIDER, json!({ "description": "mine" }))
        .await
        .error(404, "not_found", "");
    get(&server, &path, OUTSIDER)
        .await
        .error(404, "not_found", "");
    assert!(image_rows(&server, "other", "q=squad", OUTSIDER)
        .await
        .is_empty());
    // Nothing changed.
    assert_eq!(
        get(&server, &path, VIEWER).await.expect(200)["description"],
        markdown
    );

    // Bad bodies.
    patch(&server, &path, EDITOR, json!({}))
        .await
        .error(400, "invalid", "");
    patch(
        &server,
        &path,
        EDITOR,
        json!({ "description": "x".repeat(64 * 1024 + 1) }),
    )
    .await
    .error(400, "invalid", "");
    server.stop().await;
}

/// 25 tags paged ten at a time following `next_cursor`, newest first and by name, and
/// searched with `q`, with `total` counting the matches.
async fn tag_pages(backend: Backend) {
    let server = start(backend).await;
    let token = server.admin_token(&["squad/pages"]).await;
    let image = small_image("pages");
    // Names in an order unlike their sort order: rel-00, rel-07, rel-14, rel-21, rel-03, …
    let pushed: Vec<String> = (0..25)
        .map(|i| format!("rel-{:02}", (i * 7) % 25))
        .collect();
    push_image(&server.url, &token, "squad/pages", &image, &pushed[0]).await;
    for tag in &pushed[1..] {
        // Distinct push times, so that newest first is one order.
        tokio::time::sleep(Duration::from_millis(3)).await;
        put_manifest(&server.url, &token, "squad/pages", &image, tag).await;
    }
    let base = format!("{}/tags", repo_path("payments", "hosted", "squad/pages"));

    let newest_first: Vec<String> = pushed.iter().rev().cloned().collect();
    assert_eq!(
        all_pages(&server, &base, "limit=10", 25, &[10, 10, 5]).await,
        newest_first
    );
    let mut by_name = pushed.clone();
    by_name.sort();
    assert_eq!(
        all_pages(&server, &base, "limit=10&sort=name", 25, &[10, 10, 5]).await,
        by_name
    );

    // `q` searches names, ignoring case; `total` counts the matches, not the page.
    let matching: Vec<String> = newest_first
        .iter()
        .filter(|t| t.starts_with("rel-1"))
        .cloned()
        .collect();
    assert_eq!(matching.len(), 10);
    assert_eq!(
        all_pages(&server, &base, "limit=4&q=REL-1", 10, &[4, 4, 2]).await,
        matching
    );
    let one = get(&server, &format!("{base}?q=rel-07"), VIEWER)
        .await
        .expect(200);
    assert_eq!(one["total"], 1);
    assert_eq!(field_of(&one, "name"), ["rel-07"]);
    assert_eq!(items(&one)[0]["digest"], image.manifest.digest);
    let none = get(&server, &format!("{base}?q=nothing"), VIEWER)
        .await
        .expect(200);
    assert_eq!(none["total"], 0);
    assert_eq!(none["next_cursor"], Value::Null);
    // Wildcards of SQL LIKE are plain characters.
    let percent = get(&server, &format!("{base}?q=%25"), VIEWER)
        .await
        .expect(200);
    assert_eq!(percent["total"], 0);

    for bad in ["limit=0", "limit=501", "sort=size", "cursor=not-a-cursor"] {
        get(&server, &format!("{base}?{bad}"), VIEWER)
            .await
            .error(400, "invalid", "");
    }
    server.stop().await;
}

/// Follows `next_cursor` from the first page of `base?query`, checking each page's size and
/// `total`, and answers every tag name in order.
async fn all_pages(
    server: &TestServer,
    base: &str,
    query: &str,
    total: u64,
    sizes: &[usize],
) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    for (n, size) in sizes.iter().enumerate() {
        let mut path = format!("{base}?{query}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={}", enc(cursor)));
        }
        let page = get(server, &path, VIEWER).await.expect(200);
        assert_eq!(page["total"], total, "{query}: total on page {n}");
        assert_eq!(items(&page).len(), *size, "{query}: size of page {n}");
        names.extend(field_of(&page, "name"));
        cursor = page["next_cursor"].as_str().map(str::to_string);
        assert_eq!(
            cursor.is_some(),
            n + 1 < sizes.len(),
            "{query}: next_cursor on page {n}"
        );
    }
    names
}

/// Tag, artifact and repository deletes: who may, what goes, the confirmation guard, the
/// registry agreeing afterwards, and an audit event for each.
async fn deletes_and_their_audit_events(backend: Backend) {
    let server = start(backend).await;
    let repository = "squad/api";
    let token = server.admin_token(&[repository]).await;
    let kept = small_image("kept");
    let doomed = small_image("doomed");
    push_image(&server.url, &token, repository, &kept, "v1").await;
    put_manifest(&server.url, &token, repository, &kept, "v2").await;
    push_image(&server.url, &token, repository, &doomed, "v3").await;
    put_manifest(&server.url, &token, repository, &doomed, "v3-rc").await;
    let path = repo_path("payments", "hosted", repository);
    let tags_of = |who: Who| {
        let server = &server;
        let path = &path;
        async move {
            let mut names = field_of(
                &get(server, &format!("{path}/tags?sort=name"), who)
                    .await
                    .expect(200),
                "name",
            );
            names.sort();
            names
        }
    };
    let registry_tags = || async {
        let (status, body) = registry_get(&server, repository, "tags/list").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value::<Vec<String>>(body["tags"].clone()).unwrap()
    };

    // A tag: viewers and editors may not, members of other workspaces do not see it,
    // a workspace admin may.
    let tag_path = format!("{path}/tags/v1");
    delete(&server, &tag_path, VIEWER)
        .await
        .error(403, "forbidden", "");
    delete(&server, &tag_path, EDITOR)
        .await
        .error(403, "forbidden", "");
    delete(
        &server,
        &format!("{}/tags/v1", repo_path("other", "hosted", repository)),
        OUTSIDER,
    )
    .await
    .error(404, "not_found", "");
    assert_eq!(tags_of(VIEWER).await, ["v1", "v2", "v3", "v3-rc"]);
    delete(&server, &tag_path, WS_ADMIN).await.expect(204);
    assert_eq!(tags_of(VIEWER).await, ["v2", "v3", "v3-rc"]);
    assert_eq!(registry_tags().await, ["v2", "v3", "v3-rc"]);
    delete(&server, &tag_path, WS_ADMIN)
        .await
        .error(404, "not_found", "");
    delete(&server, &format!("{path}/tags/bad%20tag"), WS_ADMIN)
        .await
        .error(400, "invalid", "");
    // The manifest stays, under its other tag.
    let kept_view = get(
        &server,
        &artifact_path("payments", "hosted", repository, &kept.manifest.digest),
        VIEWER,
    )
    .await
    .expect(200);
    assert_eq!(kept_view["tags"], json!(["v2"]));
    let event = audit_event(&server, "tag.delete", "hosted/squad/api:v1").await;
    assert_eq!(event["actor"], "ada");
    assert_eq!(event["workspace"], "payments");

    // An artifact by digest, with its tags.
    let doomed_path = artifact_path("payments", "hosted", repository, &doomed.manifest.digest);
    delete(&server, &doomed_path, VIEWER)
        .await
        .error(403, "forbidden", "");
    delete(&server, &doomed_path, WS_ADMIN).await.expect(204);
    assert_eq!(tags_of(VIEWER).await, ["v2"]);
    assert_eq!(registry_tags().await, ["v2"]);
    get(&server, &doomed_path, VIEWER)
        .await
        .error(404, "not_found", "");
    let (status, _) = registry_get(
        &server,
        repository,
        &format!("manifests/{}", doomed.manifest.digest),
    )
    .await;
    assert_eq!(
        status, 404,
        "the registry still serves the deleted manifest"
    );
    delete(&server, &doomed_path, WS_ADMIN)
        .await
        .error(404, "not_found", "");
    let view = get(&server, &path, VIEWER).await.expect(200);
    assert_eq!(view["artifact_count"], 1);
    assert_eq!(view["tag_count"], 1);
    assert_eq!(view["latest_tag"], "v2");
    let event = audit_event(
        &server,
        "manifest.delete",
        &format!("hosted/squad/api@{}", doomed.manifest.digest),
    )
    .await;
    assert_eq!(event["actor"], "ada");
    assert_eq!(event["workspace"], "payments");

    // The repository, only with the confirmation repeating its path.
    delete(&server, &path, VIEWER)
        .await
        .error(403, "forbidden", "");
    delete(&server, &path, WS_ADMIN)
        .await
        .error(400, "invalid", "");
    delete(&server, &format!("{path}?confirm=squad%2Fother"), WS_ADMIN)
        .await
        .error(400, "invalid", "");
    delete(&server, &format!("{path}?confirm=api"), WS_ADMIN)
        .await
        .error(400, "invalid", "");
    assert_eq!(
        get(&server, &path, VIEWER).await.expect(200)["tag_count"],
        1
    );
    delete(
        &server,
        &format!("{path}?confirm={}", enc(repository)),
        WS_ADMIN,
    )
    .await
    .expect(204);
    get(&server, &path, VIEWER)
        .await
        .error(404, "not_found", "");
    assert!(image_rows(&server, "payments", "q=squad/api", VIEWER)
        .await
        .is_empty());
    assert!(image_rows(&server, "payments", "", ADMIN)
        .await
        .iter()
        .all(|row| row["repository"] != repository));
    let (status, body) = registry_get(&server, repository, "tags/list").await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = registry_get(
        &server,
        repository,
        &format!("manifests/{}", kept.manifest.digest),
    )
    .await;
    assert_eq!(status, 404);
    delete(
        &server,
        &format!("{path}?confirm={}", enc(repository)),
        WS_ADMIN,
    )
    .await
    .error(404, "not_found", "");
    let event = audit_event(&server, "repository.delete", "hosted/squad/api").await;
    assert_eq!(event["actor"], "ada");
    assert_eq!(event["workspace"], "payments");
    assert_eq!(event["detail"]["artifacts"], 1);

    // The repository can be pushed again from scratch.
    push_image(&server.url, &token, repository, &kept, "again").await;
    let view = get(&server, &path, VIEWER).await.expect(200);
    assert_eq!(view["tag_count"], 1);
    assert_eq!(view["description"], "");
    server.stop().await;
}

/// A repository of an external platform registry, written by a sync, is listed with that
/// registry's host, its details and tags resolve, and deleting any of it answers 409.
async fn external_registry_repository(backend: Backend) {
    let server = start(backend).await;
    post(
        &server,
        "/registries",
        ADMIN,
        json!({"name": "mirror", "kind": "distribution", "url": "https://mirror.example.test:5443"}),
    )
    .await
    .expect(201);
    post(
        &server,
        "/registries/mirror/spaces",
        ADMIN,
        json!({"name": "vendor", "public": true}),
    )
    .await
    .expect(201);
    let registry_id = server
        .state
        .store
        .registry(RegistryOwner::Platform, "mirror")
        .await
        .unwrap()
        .unwrap()
        .id;
    let image = small_image("vendor tool");
    let multi = index(vec![
        platform_image("amd64", None),
        platform_image("arm64", Some("v8")),
    ]);
    let linux = |architecture: &str, variant: Option<&str>| Platform {
        os: Some("linux".into()),
        architecture: Some(architecture.into()),
        variant: variant.map(Into::into),
    };
    let image_tag = SyncedTag {
        name: "1.0".into(),
        digest: image.manifest.digest.clone(),
        media_type: OCI_MANIFEST.into(),
        manifest: image.manifest.bytes.clone(),
        size: image_size(&image) as i64,
        pushed_at: 1_700_000_000_000,
        platform: linux("amd64", None),
        children: Vec::new(),
        pushed_at_known: true,
        facts: Default::default(),
    };
    let index_tag = SyncedTag {
        name: "latest".into(),
        digest: multi.manifest.digest.clone(),
        media_type: OCI_INDEX.into(),
        manifest: multi.manifest.bytes.clone(),
        size: 4096,
        pushed_at: 1_700_000_100_000,
        platform: Platform {
            os: None,
            architecture: None,
            variant: None,
        },
        pushed_at_known: true,
        facts: Default::default(),
        children: multi
            .images
            .iter()
            .map(|i| ChildRecord {
                digest: i.manifest.digest.clone(),
                media_type: OCI_MANIFEST.into(),
                size: i.manifest.size() as i64,
                platform: linux(&i.architecture, i.variant.as_deref()),
            })
            .collect(),
    };
    server
        .state
        .store
        .sync_repositories(
            registry_id,
            &[SyncedRepository {
                name: "vendor/tool".into(),
                description: "The vendor's tool".into(),
                tags: vec![image_tag, index_tag],
            }],
        )
        .await
        .unwrap();

    // Listed for every workspace (the space is public), at Berth's address under the
    // registry's name: Berth serves a Distribution registry's images as a pull-through proxy.
    let host = format!("{}/mirror", server.host);
    for (workspace, who) in [("payments", VIEWER), ("other", OUTSIDER)] {
        let rows = image_rows(&server, workspace, "registry=mirror", who).await;
        assert_eq!(rows.len(), 1, "{workspace}: {rows:?}");
        let row = &rows[0];
        assert_eq!(row["registry"], "mirror");
        assert_eq!(row["registry_kind"], "distribution");
        assert_eq!(row["space"], "vendor");
        assert_eq!(row["repository"], "vendor/tool");
        assert_eq!(row["reference"], format!("{host}/vendor/tool"));
        assert_eq!(row["visibility"], "public");
        assert_eq!(row["sources"], json!(["public"]));
        assert_eq!(row["tag_count"], 2);
        assert_eq!(row["latest_tag"], "latest");
        assert_eq!(row["description"], "The vendor's tool");
    }

    // Its page, tags and artifacts resolve.
    let path = repo_path("payments", "mirror", "vendor/tool");
    let view = get(&server, &path, VIEWER).await.expect(200);
    assert_eq!(view["reference"], format!("{host}/vendor/tool"));
    assert_eq!(view["artifact_count"], 2);
    assert_eq!(
        view["pull_command"],
        format!("docker pull {host}/vendor/tool:latest")
    );
    assert_eq!(view["permissions"], json!([]));
    let admin_view = get(&server, &path, ADMIN).await.expect(200);
    assert_eq!(
        admin_view["permissions"],
        json!(["edit", "scan"]),
        "never `delete`"
    );
    let tags = get(&server, &format!("{path}/tags"), VIEWER)
        .await
        .expect(200);
    assert_eq!(tags["total"], 2);
    assert_eq!(field_of(&tags, "name"), ["latest", "1.0"]);
    assert_eq!(items(&tags)[0]["digest"], multi.manifest.digest);
    assert_eq!(
        items(&tags)[0]["platforms"],
        json!(multi.images.iter().map(platform_json).collect::<Vec<_>>())
    );
    assert_eq!(items(&tags)[1]["digest"], image.manifest.digest);
    assert_eq!(items(&tags)[1]["platforms"], json!([platform_json(&image)]));

    let details = get(
        &server,
        &artifact_path("payments", "mirror", "vendor/tool", &image.manifest.digest),
        VIEWER,
    )
    .await
    .expect(200);
    assert_eq!(details["registry"], "mirror");
    assert_eq!(details["media_type"], OCI_MANIFEST);
    assert_eq!(
        details["manifest"],
        serde_json::from_slice::<Value>(&image.manifest.bytes).unwrap()
    );
    assert_eq!(details["tags"], json!(["1.0"]));
    assert_eq!(details["platforms"], json!([platform_json(&image)]));
    assert_eq!(
        details["pull_command"]["by_digest"],
        format!("docker pull {host}/vendor/tool@{}", image.manifest.digest)
    );
    // An outsider asking through a workspace they are not in gets 404; through their own
    // (the space is public) the index resolves.
    get(
        &server,
        &artifact_path("payments", "mirror", "vendor/tool", &multi.manifest.digest),
        OUTSIDER,
    )
    .await
    .error(404, "not_found", "");
    let index_details = get(
        &server,
        &artifact_path("other", "mirror", "vendor/tool", &multi.manifest.digest),
        OUTSIDER,
    )
    .await
    .expect(200);
    assert_eq!(index_details["media_type"], OCI_INDEX);
    assert_eq!(
        index_details["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["digest"].as_str().unwrap())
            .collect::<Vec<_>>(),
        multi
            .images
            .iter()
            .map(|i| i.manifest.digest.as_str())
            .collect::<Vec<_>>()
    );
    assert_eq!(index_details["children"][1]["platform"]["variant"], "v8");

    // The selector offers it without a pull secret.
    let selected = get(&server, "/workspaces/other/selector?q=vendor", OUTSIDER)
        .await
        .expect(200);
    let references: Vec<String> = field_of(&selected, "reference");
    assert_eq!(
        references,
        [
            format!("{host}/vendor/tool:latest"),
            format!("{host}/vendor/tool:1.0")
        ]
    );
    assert!(items(&selected)
        .iter()
        .all(|i| i["needs_pull_secret"] == false));

    // Deleting happens in the external registry, never here.
    delete(&server, &format!("{path}?confirm=vendor%2Ftool"), ADMIN)
        .await
        .error(409, "conflict", "");
    delete(&server, &format!("{path}/tags/1.0"), ADMIN)
        .await
        .error(409, "conflict", "");
    delete(
        &server,
        &artifact_path("payments", "mirror", "vendor/tool", &image.manifest.digest),
        ADMIN,
    )
    .await
    .error(409, "conflict", "");
    assert_eq!(
        get(&server, &path, VIEWER).await.expect(200)["tag_count"],
        2
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 3. Selector
// ---------------------------------------------------------------------------------------------

/// The selector offers the workspace's images by tag and pinned by digest, says which need a
/// pull secret, narrows tags with `repo:tag`, never leaks a private image to another
/// workspace, and validates `limit`.
async fn selector(backend: Backend) {
    let server = start(backend).await;
    let token = server
        .admin_token(&["squad/checkout-api", "library/checkout-web"])
        .await;
    let v1 = small_image("checkout 1.0");
    let v11 = small_image("checkout 1.1");
    let v2 = small_image("checkout 2.0");
    let web = small_image("web");
    // Four tags, one more than the selector offers per repository: the oldest, `0.9`, is
    // found only when asked for by name.
    push_image(&server.url, &token, "squad/checkout-api", &v1, "0.9").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    push_image(&server.url, &token, "squad/checkout-api", &v1, "1.0").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    push_image(&server.url, &token, "squad/checkout-api", &v11, "1.1").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    push_image(&server.url, &token, "squad/checkout-api", &v2, "2.0").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    push_image(&server.url, &token, "library/checkout-web", &web, "stable").await;
    let host = &server.host;

    let answer = get(&server, "/workspaces/payments/selector?q=checkout", VIEWER)
        .await
        .expect(200);
    let by_reference: BTreeMap<String, &Value> = items(&answer)
        .iter()
        .map(|i| (i["reference"].as_str().unwrap().to_string(), i))
        .collect();
    assert_eq!(by_reference.len(), 4, "{answer}");
    for (repository, tag, image, private) in [
        ("squad/checkout-api", "1.0", &v1, true),
        ("squad/checkout-api", "1.1", &v11, true),
        ("squad/checkout-api", "2.0", &v2, true),
        ("library/checkout-web", "stable", &web, false),
    ] {
        let item = by_reference
            .get(&format!("{host}/{repository}:{tag}"))
            .unwrap_or_else(|| panic!("{repository}:{tag} missing from {answer}"));
        assert_eq!(
            item["pinned"],
            format!("{host}/{repository}@{}", image.manifest.digest)
        );
        assert_eq!(item["digest"], image.manifest.digest);
        assert_eq!(item["repository"], repository);
        assert_eq!(item["tag"], tag);
        assert_eq!(item["registry"], "hosted");
        assert_eq!(item["platforms"], json!([platform_json(image)]));
        assert_eq!(item["needs_pull_secret"], private, "{repository}");
        assert_eq!(item["size"], image_size(image));
    }

    // `repo:tag` narrows the tags, and drops repositories without a matching one.
    let answer = get(
        &server,
        &format!("/workspaces/payments/selector?q={}", enc("checkout:1.")),
        VIEWER,
    )
    .await
    .expect(200);
    let mut references = field_of(&answer, "reference");
    references.sort();
    assert_eq!(
        references,
        [
            format!("{host}/squad/checkout-api:1.0"),
            format!("{host}/squad/checkout-api:1.1"),
        ]
    );
    let answer = get(
        &server,
        &format!("/workspaces/payments/selector?q={}", enc("API:2")),
        VIEWER,
    )
    .await
    .expect(200);
    assert_eq!(
        field_of(&answer, "pinned"),
        [format!("{host}/squad/checkout-api@{}", v2.manifest.digest)]
    );
    let answer = get(
        &server,
        &format!(
            "/workspaces/payments/selector?q={}",
            enc("checkout-api:0.9")
        ),
        VIEWER,
    )
    .await
    .expect(200);
    assert_eq!(
        field_of(&answer, "pinned"),
        [format!("{host}/squad/checkout-api@{}", v1.manifest.digest)],
        "an older tag than the newest three: {answer}"
    );
    assert_eq!(items(&answer)[0]["tag"], "0.9");
    let answer = get(
        &server,
        "/workspaces/payments/selector?q=nothing-like-it",
        VIEWER,
    )
    .await
    .expect(200);
    assert_eq!(answer["items"], json!([]));

    // Another workspace gets only the public image, however it asks.
    for q in ["checkout", "squad", "checkout-api", "checkout:1.0", ""] {
        let answer = get(
            &server,
            &format!("/workspaces/other/selector?q={}", enc(q)),
            OUTSIDER,
        )
        .await
        .expect(200);
        assert!(
            items(&answer)
                .iter()
                .all(|i| i["repository"] == "library/checkout-web"),
            "q={q}: {answer}"
        );
    }
    get(
        &server,
        "/workspaces/payments/selector?q=checkout",
        OUTSIDER,
    )
    .await
    .error(404, "not_found", "");

    // `limit` caps the items and is validated.
    let answer = get(
        &server,
        "/workspaces/payments/selector?q=checkout&limit=1",
        VIEWER,
    )
    .await
    .expect(200);
    assert_eq!(items(&answer).len(), 1);
    for bad in ["0", "101", "-1", "many"] {
        get(
            &server,
            &format!("/workspaces/payments/selector?q=checkout&limit={bad}"),
            VIEWER,
        )
        .await
        .error(400, "invalid", "");
    }
    get(&server, "/workspaces/payments/selector?limit=100", VIEWER)
        .await
        .expect(200);

    // With anonymous pull off, even the public image needs a pull secret.
    patch(
        &server,
        "/settings",
        ADMIN,
        json!({"anonymous_pull": false}),
    )
    .await
    .expect(200);
    let answer = get(&server, "/workspaces/other/selector?q=checkout", OUTSIDER)
        .await
        .expect(200);
    assert_eq!(items(&answer).len(), 1);
    assert_eq!(items(&answer)[0]["needs_pull_secret"], true);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 4. Bad input
// ---------------------------------------------------------------------------------------------

/// Invalid digests answer 400, unknown repositories, registries and workspaces 404, and
/// requests without (valid) credentials 401.
async fn bad_input(backend: Backend) {
    let server = start(backend).await;
    let token = server.admin_token(&["squad/api"]).await;
    let image = small_image("bad input");
    push_image(&server.url, &token, "squad/api", &image, "v1").await;
    let digest = image.manifest.digest.as_str();

    for bad in [
        "sha256:not-hex",
        "sha256:abc",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "latest",
        "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
    ] {
        let path = artifact_path("payments", "hosted", "squad/api", &enc(bad));
        get(&server, &path, VIEWER).await.error(400, "invalid", "");
        delete(&server, &path, WS_ADMIN)
            .await
            .error(400, "invalid", "");
    }
    // A well-formed digest the repository does not hold.
    let absent = sha256_digest(b"absent");
    get(
        &server,
        &artifact_path("payments", "hosted", "squad/api", &absent),
        VIEWER,
    )
    .await
    .error(404, "not_found", "");

    // Unknown repositories, registries and workspaces.
    for path in [
        repo_path("payments", "hosted", "squad/nope"),
        repo_path("payments", "hosted", "nowhere/api"),
        format!("{}/tags", repo_path("payments", "hosted", "squad/nope")),
        artifact_path("payments", "hosted", "squad/nope", digest),
        repo_path("payments", "nowhere", "squad/api"),
        format!("{}/tags", repo_path("payments", "nowhere", "squad/api")),
        artifact_path("payments", "nowhere", "squad/api", digest),
        repo_path("nowhere", "hosted", "squad/api"),
        "/workspaces/nowhere/images".to_string(),
        "/workspaces/nowhere/selector".to_string(),
    ] {
        get(&server, &path, VIEWER)
            .await
            .error(404, "not_found", "");
    }
    delete(
        &server,
        &format!(
            "{}?confirm=squad%2Fnope",
            repo_path("payments", "hosted", "squad/nope")
        ),
        ADMIN,
    )
    .await
    .error(404, "not_found", "");
    patch(
        &server,
        &repo_path("payments", "nowhere", "squad/api"),
        ADMIN,
        json!({"description": "x"}),
    )
    .await
    .error(404, "not_found", "");

    // No credentials, or wrong ones.
    let repository = repo_path("payments", "hosted", "squad/api");
    let artifact = artifact_path("payments", "hosted", "squad/api", digest);
    let paths = [
        "/workspaces/payments/images".to_string(),
        repository.clone(),
        format!("{repository}/tags"),
        artifact.clone(),
        "/workspaces/payments/selector?q=api".to_string(),
    ];
    for who in [ANONYMOUS, Some(("vic", "wrong password"))] {
        for path in &paths {
            let answer = get(&server, path, who).await;
            assert!(
                answer.headers.contains_key("www-authenticate"),
                "{path}: {}",
                answer.text
            );
            answer.error(401, "unauthorized", "");
        }
        patch(&server, &repository, who, json!({"description": "x"}))
            .await
            .error(401, "unauthorized", "");
        delete(&server, &format!("{repository}/tags/v1"), who)
            .await
            .error(401, "unauthorized", "");
        delete(&server, &artifact, who)
            .await
            .error(401, "unauthorized", "");
        delete(&server, &format!("{repository}?confirm=squad%2Fapi"), who)
            .await
            .error(401, "unauthorized", "");
    }
    // Nothing went.
    let view = get(&server, &repository, VIEWER).await.expect(200);
    assert_eq!(view["tag_count"], 1);
    assert_eq!(view["description"], "");
    server.stop().await;
}
