//! Tarball uploads into the hosted registry
//! (`POST /api/v1/workspaces/{ws}/registries/hosted/spaces/{space}/uploads`): OCI layouts
//! plain and gzip-compressed, a legacy `docker save` tarball, a multi-platform index, bad
//! tarballs that must leave nothing behind, who may upload, and `berth image upload`.
//!
//! Every tarball is built here from `berth_testkit` images; what goes in is pulled back out
//! with real skopeo and compared byte for byte.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use berth_oci::RepoName;
use berth_store::audit::AuditQuery;
use berth_testkit::image::{OCI_INDEX, OCI_MANIFEST};
use berth_testkit::{
    index, layer, random_layer, write_oci_layout, Blob, Image, ImageBuilder, Index, LayoutContent,
};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::skopeo::{app_image, assert_same_bytes, Skopeo};
use crate::support::api::{answer, with_auth, Answer, Auth};
use crate::support::{
    bind, client, create_robot, create_space, create_workspace, set_role, Backend, BinaryServer,
    TestServer, ADMIN_PASSWORD,
};

crate::on_both_backends!(
    multi_thread:
    oci_layout_tarballs_import_plain_and_gzip,
    docker_save_tarball_imports_with_its_own_name,
    multi_arch_index_imports_children_first,
    bad_tarballs_are_refused_and_leave_nothing_behind,
    uploads_follow_the_access_rule,
);

const UNCOMPRESSED_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// An OCI layout goes in as a plain tarball (named by `repository`, tagged by its
/// `index.json`) and again gzip-compressed under another tag; both come back out through the
/// registry byte for byte, the catalog lists both tags, and each upload is audited.
async fn oci_layout_tarballs_import_plain_and_gzip(backend: Backend) {
    let server = team_server(backend).await;
    let image = app_image();
    let tarball = oci_tarball(&image, "v1");

    let answer = upload(
        &server,
        ADMIN,
        "team",
        "team",
        &[("repository", "app")],
        tarball.clone(),
    )
    .await;
    let body = answer.expect(201);
    // An image's size is its manifest, config and layers, in every answer that gives one.
    let size = image.manifest.size() + image.blobs().iter().map(|b| b.size()).sum::<u64>();
    assert_eq!(
        body,
        json!({
            "repository": "team/app",
            "tag": "v1",
            "digest": image.manifest.digest,
            "media_type": OCI_MANIFEST,
            "size": size,
            "reference": format!("{}/team/app:v1", server.host),
        })
    );
    let admin = Auth::Basic("admin", ADMIN_PASSWORD);
    let get = |path: String| {
        let request = client().get(format!("{}/api/v1/{path}", server.url));
        crate::support::api::answer(with_auth(request, admin))
    };
    let listed = get("workspaces/team/images?q=team/app".into())
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["size"], size, "the image list: {listed}");
    let repository = "workspaces/team/registries/hosted/repositories/team%2Fapp";
    let shown = get(repository.into()).await.expect(200);
    assert_eq!(shown["size"], size, "the repository page: {shown}");
    let tagged = get(format!("{repository}/tags")).await.expect(200);
    assert_eq!(tagged["items"][0]["size"], size, "the tag list: {tagged}");
    let artifact = get(format!("{repository}/artifacts/{}", image.manifest.digest))
        .await
        .expect(200);
    assert_eq!(artifact["size"], size, "the artifact page: {artifact}");
    let answer = upload(
        &server,
        ADMIN,
        "team",
        "team",
        &[("repository", "team/app"), ("tag", "gz")],
        gzip(&tarball),
    )
    .await;
    let body = answer.expect(201);
    assert_eq!(
        body["repository"], "team/app",
        "the space is not prefixed twice"
    );
    assert_eq!(body["tag"], "gz");
    assert_eq!(body["digest"], image.manifest.digest);

    let skopeo = Skopeo::new(&server.host, Some(("admin", ADMIN_PASSWORD)));
    for tag in ["v1", "gz"] {
        let reference = skopeo.image(&format!("team/app:{tag}"));
        assert_same_bytes(
            &skopeo.ok(&[], "inspect", &["--raw", &reference]).await,
            &image.manifest,
            &format!("inspect --raw team/app:{tag}"),
        );
        skopeo.pulls_intact(&[], &reference, tag, &image).await;
    }
    assert_eq!(tags(&server, "team/app").await, ["gz", "v1"]);
    let record = server
        .state
        .store
        .artifact(
            &RepoName::parse("team/app").unwrap(),
            &berth_oci::Digest::parse(&image.manifest.digest).unwrap(),
        )
        .await
        .unwrap()
        .expect("the catalog records the uploaded image");
    assert_eq!(record.pushed_by.as_deref(), Some("admin"));
    assert_eq!(record.layers.len(), image.layers.len());

    let events = server
        .state
        .store
        .audit_events(AuditQuery {
            action: Some("image.upload"),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    for event in &events {
        assert_eq!(event.actor, "admin");
        assert_eq!(event.workspace.as_deref(), Some("team"));
        assert_eq!(
            event.target,
            format!("hosted/team/app@{}", image.manifest.digest)
        );
    }
    server.stop().await;
}

/// A legacy `docker save` tarball (uncompressed `layer.tar`s, `manifest.json` last) gets an
/// OCI manifest over its config and layers as they are, under the name and tag its
/// `RepoTags` give; pulled back, the config and every layer are the bytes that went in.
async fn docker_save_tarball_imports_with_its_own_name(backend: Backend) {
    let server = team_server(backend).await;
    let image = app_image();
    let (tarball, layers) = docker_save_tarball(&image, "docker.io/library/legacy:v2");
    let body = upload(&server, ADMIN, "team", "team", &[], tarball)
        .await
        .expect(201);
    assert_eq!(body["repository"], "team/legacy");
    assert_eq!(body["tag"], "v2");
    assert_eq!(body["media_type"], OCI_MANIFEST);
    assert_eq!(body["reference"], format!("{}/team/legacy:v2", server.host));

    let skopeo = Skopeo::new(&server.host, Some(("admin", ADMIN_PASSWORD)));
    let reference = skopeo.image("team/legacy:v2");
    let raw = skopeo.ok(&[], "inspect", &["--raw", &reference]).await;
    assert_eq!(body["digest"], berth_testkit::image::sha256_digest(&raw));
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(manifest["config"]["digest"], image.config.digest);
    let expected_layers: Vec<Value> = layers
        .iter()
        .map(|l| json!({"mediaType": UNCOMPRESSED_LAYER, "digest": l.digest, "size": l.size()}))
        .collect();
    assert_eq!(manifest["layers"], json!(expected_layers));

    // A `dir:` copy keeps layers as they are; an OCI layout destination would compress them.
    let pulled = TempDir::new().unwrap();
    let destination = format!("dir:{}", pulled.path().display());
    skopeo.copy(&[], &reference, &destination).await;
    assert_eq!(
        std::fs::read(pulled.path().join("manifest.json")).unwrap(),
        raw
    );
    for blob in std::iter::once(&image.config).chain(&layers) {
        let bytes = std::fs::read(pulled.path().join(blob.hex())).unwrap();
        assert_same_bytes(&bytes, blob, "a pulled blob of the docker save import");
    }
    assert_eq!(tags(&server, "team/legacy").await, ["v2"]);
    server.stop().await;
}

/// A two-platform OCI index: both child manifests are stored before the index, which gets
/// the tag, and `skopeo copy --all` takes everything back out unchanged.
async fn multi_arch_index_imports_children_first(backend: Backend) {
    let server = team_server(backend).await;
    let index = two_platforms();
    let body = upload(
        &server,
        ADMIN,
        "team",
        "team",
        &[("repository", "multi")],
        gzip(&oci_tarball(&index, "v1")),
    )
    .await
    .expect(201);
    assert_eq!(body["digest"], index.manifest.digest);
    assert_eq!(body["media_type"], OCI_INDEX);

    let skopeo = Skopeo::new(&server.host, Some(("admin", ADMIN_PASSWORD)));
    let reference = skopeo.image("team/multi:v1");
    assert_same_bytes(
        &skopeo.ok(&[], "inspect", &["--raw", &reference]).await,
        &index.manifest,
        "inspect --raw of the index",
    );
    skopeo
        .pulls_intact(&["--all"], &reference, "v1", &index)
        .await;

    let repository = RepoName::parse("team/multi").unwrap();
    let root = server
        .state
        .store
        .artifact(
            &repository,
            &berth_oci::Digest::parse(&index.manifest.digest).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(root.tags, ["v1"]);
    let children: Vec<&str> = root.children.iter().map(|c| c.digest.as_str()).collect();
    let expected: Vec<&str> = index
        .images
        .iter()
        .map(|i| i.manifest.digest.as_str())
        .collect();
    assert_eq!(children, expected);
    server.stop().await;
}

/// Every kind of bad tarball is a 400 `invalid` naming the problem (an oversize declared
/// length a 413), and afterwards no repository, blob file or upload session is left.
async fn bad_tarballs_are_refused_and_leave_nothing_behind(backend: Backend) {
    let server = team_server(backend).await;
    let image = app_image();
    let big = image
        .layers
        .iter()
        .max_by_key(|l| l.size())
        .unwrap()
        .clone();
    let big_path = format!("blobs/sha256/{}", big.hex());
    let good = oci_tarball(&image, "v1");
    let files = layout_files(&image, "v1");

    let mut damaged = files.clone();
    let content = &mut damaged.iter_mut().find(|(p, _)| *p == big_path).unwrap().1;
    let middle = content.len() / 2;
    content[middle] ^= 0xff;
    let without_layer: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|(p, _)| *p != big_path)
        .cloned()
        .collect();
    let mut schema1 = files.clone();
    let index_json = &mut schema1
        .iter_mut()
        .find(|(p, _)| p == "index.json")
        .unwrap()
        .1;
    *index_json = String::from_utf8(index_json.clone())
        .unwrap()
        .replace(
            OCI_MANIFEST,
            "application/vnd.docker.distribution.manifest.v1+json",
        )
        .into_bytes();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty body", Vec::new(), "empty"),
        (
            "not a tar",
            b"this is not a tarball at all".to_vec(),
            "not a tar archive",
        ),
        (
            "not gzip inside",
            gzip(b"plain text, compressed"),
            "not a gzip-compressed tar archive",
        ),
        ("truncated", good[..good.len() / 2].to_vec(), "truncated"),
        (
            "no manifest",
            tar_of(&[("hello.txt".into(), b"hello".to_vec())]),
            "manifest.json",
        ),
        ("digest mismatch", tar_of(&damaged), big_path.as_str()),
        ("missing blob", tar_of(&without_layer), big.digest.as_str()),
        ("unsupported media type", tar_of(&schema1), "media type"),
        (
            "parent path",
            tar_with_raw_name(&files, b"../evil"),
            "../evil",
        ),
        (
            "absolute path",
            tar_with_raw_name(&files, b"/etc/evil"),
            "absolute",
        ),
        (
            "link outside",
            tar_with_symlink(&files, "../../../etc/passwd"),
            "outside",
        ),
    ];
    assert_clean(&server, "before any upload").await;
    for (name, body, needle) in cases {
        let answer = upload(
            &server,
            ADMIN,
            "team",
            "team",
            &[("repository", "bad")],
            body,
        )
        .await;
        answer.error_in(name, 400, "invalid", needle);
        assert_clean(&server, name).await;
    }

    let (status, body) = declare_oversize(&server).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("2 GiB"), "{message}");
    assert_clean(&server, "oversize").await;
    server.stop().await;
}

/// Uploading takes push rights in the space as a member of `{ws}`: a viewer of the bound
/// workspace is refused (403), a member of another workspace is told the space is not there
/// (404), a robot of the bound workspace with push may, and nobody anonymous may (401).
async fn uploads_follow_the_access_rule(backend: Backend) {
    let server = team_server(backend).await;
    let store = &server.state.store;
    create_workspace(store, "other").await;
    for (user, workspace, role) in [("vera", "team", "viewer"), ("otto", "other", "editor")] {
        server
            .create_user(user, "a-password-for-tests", false)
            .await;
        set_role(store, workspace, user, role).await;
    }
    let (pusher, pusher_secret) = create_robot(store, "team", "ci", true, true).await;
    let (puller, puller_secret) = create_robot(store, "team", "reader", true, false).await;
    let tarball = oci_tarball(&app_image(), "v1");
    let query = [("repository", "app")];

    let viewer = Auth::Basic("vera", "a-password-for-tests");
    upload(&server, viewer, "team", "team", &query, tarball.clone())
        .await
        .error_in("viewer of the bound workspace", 403, "forbidden", "team");
    let outsider = Auth::Basic("otto", "a-password-for-tests");
    upload(&server, outsider, "other", "team", &query, tarball.clone())
        .await
        .error_in("member of another workspace", 404, "not_found", "space");
    upload(&server, outsider, "team", "team", &query, tarball.clone())
        .await
        .error_in(
            "not a member of the workspace",
            404,
            "not_found",
            "workspace",
        );
    upload(
        &server,
        Auth::Basic(&puller, &puller_secret),
        "team",
        "team",
        &query,
        tarball.clone(),
    )
    .await
    .error_in("robot without push", 403, "forbidden", "team");
    upload(
        &server,
        Auth::Anonymous,
        "team",
        "team",
        &query,
        tarball.clone(),
    )
    .await
    .error_in("anonymous", 401, "unauthorized", "authentication");
    assert!(!store
        .repository_exists(&RepoName::parse("team/app").unwrap())
        .await
        .unwrap());

    let body = upload(
        &server,
        Auth::Basic(&pusher, &pusher_secret),
        "team",
        "team",
        &query,
        tarball,
    )
    .await
    .expect(201);
    assert_eq!(body["repository"], "team/app");
    let record = store
        .artifact(
            &RepoName::parse("team/app").unwrap(),
            &berth_oci::Digest::parse(body["digest"].as_str().unwrap()).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.pushed_by.as_deref(), Some(pusher.as_str()));
    server.stop().await;
}

/// `berth image upload` streams a file, prints where the image went (JSON or a table), and
/// exits 1 with the server's message when the server refuses the tarball.
#[tokio::test]
async fn the_cli_uploads_a_tarball() {
    let data = TempDir::new().unwrap();
    let server = BinaryServer::spawn(data.path(), None);
    let http = client();
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", server.url))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let created = http
        .post(format!("{}/api/v1/workspaces", server.url))
        .bearer_auth(&token)
        .json(&json!({"name": "team"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let files = TempDir::new().unwrap();
    let image = app_image();
    let plain = files.path().join("app.tar");
    std::fs::write(&plain, oci_tarball(&image, "v1")).unwrap();
    let compressed = files.path().join("app.tar.gz");
    std::fs::write(&compressed, gzip(&oci_tarball(&image, "v1"))).unwrap();
    let berth = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(args)
            .env("BERTH_URL", &server.url)
            .env("BERTH_TOKEN", &token)
            .env("BERTH_CONFIG_DIR", files.path())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let upload_args = |file: &Path, extra: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = ["image", "upload"].map(String::from).to_vec();
        args.push(file.display().to_string());
        args.extend(["--workspace", "team", "--space", "library"].map(String::from));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let run = |args: Vec<String>| berth(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let (code, stdout, stderr) = run(upload_args(&plain, &["--repository", "app", "-o", "json"]));
    assert_eq!(code, Some(0), "{stderr}");
    let uploaded: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        uploaded["reference"],
        format!("{}/library/app:v1", server.host)
    );
    assert_eq!(uploaded["digest"], image.manifest.digest);

    let (code, stdout, stderr) = run(upload_args(
        &compressed,
        &["--repository", "app", "--tag", "gz"],
    ));
    assert_eq!(code, Some(0), "{stderr}");
    let reference = format!("{}/library/app:gz", server.host);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("REFERENCE") && l.ends_with(&reference)),
        "{stdout}"
    );
    assert!(stdout.contains(&image.manifest.digest), "{stdout}");

    // The layout only tags its image, so without --repository there is no name to use.
    let (code, stdout, stderr) = run(upload_args(&plain, &[]));
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("error: the tarball does not name its image"),
        "{stderr}"
    );
    let (code, _, stderr) = run(upload_args(&files.path().join("missing.tar"), &[]));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("missing.tar"), "{stderr}");
    server.kill();
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

const ADMIN: Auth<'static> = Auth::Basic("admin", ADMIN_PASSWORD);

fn uploads_path(workspace: &str, space: &str) -> String {
    format!("/api/v1/workspaces/{workspace}/registries/hosted/spaces/{space}/uploads")
}

async fn upload(
    server: &TestServer,
    auth: Auth<'_>,
    workspace: &str,
    space: &str,
    query: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let request = client()
        .post(format!("{}{}", server.url, uploads_path(workspace, space)))
        .query(query)
        .header("content-type", "application/x-tar")
        .body(body);
    answer(with_auth(request, auth)).await
}

/// Sends only the head of a request that declares a 3 GiB body, over a raw connection (an
/// HTTP client would insist on sending the body), and reads the answer.
async fn declare_oversize(server: &TestServer) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(&server.host).await.unwrap();
    let credentials = crate::support::basic("admin", ADMIN_PASSWORD);
    let head = format!(
        "POST {}?repository=bad HTTP/1.1\r\nHost: {}\r\nAuthorization: {credentials}\r\n\
         Content-Type: application/x-tar\r\nContent-Length: {}\r\n\r\n",
        uploads_path("team", "team"),
        server.host,
        3u64 << 30
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[0; 1024]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the server answers without waiting for the body")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status: u16 = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
    let (_, body) = answer.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/// A server with space `team` (private) bound to workspace `team`.
async fn team_server(backend: Backend) -> TestServer {
    let server = TestServer::spawn(backend).await;
    let store = &server.state.store;
    create_space(store, "team", false).await;
    create_workspace(store, "team").await;
    bind(store, "team", &["team"]).await;
    server
}

async fn tags(server: &TestServer, repository: &str) -> Vec<String> {
    server
        .state
        .store
        .list_tags(&RepoName::parse(repository).unwrap(), None, 100)
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Asserts that the failed uploads left nothing: no repository `team/bad`, no blob file, no
/// upload session.
async fn assert_clean(server: &TestServer, case: &str) {
    let blobs = server.data_dir.join("blobs");
    let files = count_files(&blobs.join("sha256"));
    assert_eq!(files, 0, "{case}: blob files were left behind");
    let sessions = std::fs::read_dir(blobs.join("_uploads")).unwrap().count();
    assert_eq!(sessions, 0, "{case}: upload sessions were left behind");
    let exists = server
        .state
        .store
        .repository_exists(&RepoName::parse("team/bad").unwrap())
        .await
        .unwrap();
    assert!(!exists, "{case}: the repository was created");
}

fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.unwrap())
        .map(|e| {
            if e.file_type().unwrap().is_dir() {
                count_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Tarballs
// ---------------------------------------------------------------------------------------------

/// linux/amd64 and linux/arm64/v8 images sharing a base layer, under one OCI index. Their
/// own layers are 3 MiB each, so the tarball is well over the API's default body limit for
/// JSON (2 MB), which the upload route must lift.
fn two_platforms() -> Index {
    let base = layer(&[("etc/os-release", b"ID=upload\n")]);
    index(
        [("amd64", None), ("arm64", Some("v8"))]
            .into_iter()
            .map(|(arch, variant)| {
                ImageBuilder::new()
                    .platform("linux", arch, variant)
                    .layer(base.clone(), "ADD base.tar /")
                    .layer(
                        random_layer(3 << 20, u64::from(variant.is_some()), 1),
                        "COPY app /",
                    )
                    .build()
            })
            .collect(),
    )
}

/// The files of an OCI image layout holding `content` tagged `tag`, as (path, bytes).
fn layout_files(content: &impl LayoutContent, tag: &str) -> Vec<(String, Vec<u8>)> {
    let dir = TempDir::new().unwrap();
    write_oci_layout(dir.path(), tag, content).unwrap();
    let mut files = Vec::new();
    collect_files(dir.path(), dir.path(), &mut files);
    files.sort();
    files
}

fn collect_files(root: &Path, dir: &Path, files: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(root, &path, files);
        } else {
            let name = path.strip_prefix(root).unwrap().display().to_string();
            files.push((name, std::fs::read(&path).unwrap()));
        }
    }
}

pub(crate) fn oci_tarball(content: &impl LayoutContent, tag: &str) -> Vec<u8> {
    tar_of(&layout_files(content, tag))
}

fn header(size: usize) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header
}

fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        builder
            .append_data(&mut header(bytes.len()), path, bytes.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

/// A layout tarball with one more entry whose name is written as is, bypassing the checks
/// the `tar` crate makes when it builds an archive, as a hostile tarball would.
fn tar_with_raw_name(files: &[(String, Vec<u8>)], name: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut evil = header(4);
    evil.as_old_mut().name[..name.len()].copy_from_slice(name);
    evil.set_cksum();
    builder.append(&evil, &b"evil"[..]).unwrap();
    for (path, bytes) in files {
        builder
            .append_data(&mut header(bytes.len()), path, bytes.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

fn tar_with_symlink(files: &[(String, Vec<u8>)], target: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        builder
            .append_data(&mut header(bytes.len()), path, bytes.as_slice())
            .unwrap();
    }
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    link.set_mode(0o777);
    link.as_gnu_mut().unwrap().linkname[..target.len()].copy_from_slice(target.as_bytes());
    builder
        .append_data(&mut link, "blobs/sha256/escape", &[][..])
        .unwrap();
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// What `docker save` wrote before Docker 25: `<config hex>.json`, one directory per layer
/// with an uncompressed `layer.tar`, `repositories`, and `manifest.json` last. Returns the
/// tarball and the uncompressed layers, whose digests the image config lists as diff_ids.
pub(crate) fn docker_save_tarball(image: &Image, repo_tag: &str) -> (Vec<u8>, Vec<Blob>) {
    let layers: Vec<Blob> = image
        .layers
        .iter()
        .map(|l| Blob::new(UNCOMPRESSED_LAYER, gunzip(&l.bytes)))
        .collect();
    let config: Value = serde_json::from_slice(&image.config.bytes).unwrap();
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    assert_eq!(config["rootfs"]["diff_ids"], json!(diff_ids));

    let config_name = format!("{}.json", image.config.hex());
    let mut files = vec![(config_name.clone(), image.config.bytes.clone())];
    let mut layer_paths = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let id = format!("{:064x}", i + 1);
        files.push((format!("{id}/VERSION"), b"1.0".to_vec()));
        files.push((
            format!("{id}/json"),
            format!(r#"{{"id":"{id}"}}"#).into_bytes(),
        ));
        files.push((format!("{id}/layer.tar"), layer.bytes.clone()));
        layer_paths.push(format!("{id}/layer.tar"));
    }
    let (name, tag) = repo_tag.rsplit_once(':').unwrap();
    files.push((
        "repositories".into(),
        serde_json::to_vec(&json!({ name: { tag: format!("{:064x}", layers.len()) } })).unwrap(),
    ));
    let manifest =
        json!([{ "Config": config_name, "RepoTags": [repo_tag], "Layers": layer_paths }]);
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    (tar_of(&files), layers)
}
