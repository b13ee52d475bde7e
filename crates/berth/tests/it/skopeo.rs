//! Real skopeo against the in-process server: pushes from OCI layouts and `dir:` layouts,
//! inspects, tag listing, pulls back into fresh layouts, deletes, and Docker token
//! authentication, with the catalog facts Berth records checked after each push.
//!
//! Every image is built by the test from plain bytes (see `berth_testkit::image`), so the
//! expected digest of every manifest, config and layer is known before skopeo runs. skopeo
//! 1.9 cannot read Docker-format images from an OCI layout, so Docker images and manifest
//! lists are pushed from `dir:` layouts instead.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use berth_oci::{Digest, RepoName};
use berth_store::hosted::{ArtifactRecord, Platform};
use berth_testkit::image::{
    DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX,
    OCI_MANIFEST, REF_NAME_ANNOTATION,
};
use berth_testkit::{
    index, layer, random_layer, write_dir_layout, write_oci_layout, Blob, Image, ImageBuilder,
    Index, LayoutContent,
};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::{
    bind, create_robot, create_space, create_workspace, set_role, Backend, TestServer,
    ADMIN_PASSWORD,
};

crate::on_both_backends!(
    multi_thread:
    oci_image_round_trip,
    multi_arch_index_round_trip,
    docker_image_and_manifest_list,
    bad_or_missing_credentials_are_refused,
    non_admin_pushes_and_pulls_but_cannot_delete,
    the_readme_shows_what_skopeo_prints_when_refused,
);

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// An OCI image goes in from a layout and comes back out byte for byte, every read command
/// reports what was built, the catalog records who pushed it and what each layer came from,
/// and `skopeo delete` removes it.
async fn oci_image_round_trip(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let skopeo = Skopeo::new(&server.host, Some(("admin", ADMIN_PASSWORD)));
    let image = app_image();
    let source = oci_layout("v1", &image);

    // The same image under two tags, so that `list-tags` has more than one to list; the second
    // push finds every blob present and only adds the tag.
    let v1 = skopeo.image("library/app:v1");
    skopeo.copy(&[], &source.reference, &v1).await;
    skopeo
        .copy(&[], &source.reference, &skopeo.image("library/app:latest"))
        .await;

    let inspect = skopeo.inspect(&[], &v1).await;
    assert_eq!(inspect["Digest"], image.manifest.digest);
    assert_eq!(inspect["Architecture"], "amd64");
    assert_eq!(inspect["Os"], "linux");
    assert_eq!(inspect["Layers"], json!(digests(&image.layers)));
    assert_eq!(inspect["Labels"], app_labels());
    assert_eq!(inspect["Env"], app_env());

    assert_same_bytes(
        &skopeo.ok(&[], "inspect", &["--raw", &v1]).await,
        &image.manifest,
        "inspect --raw",
    );
    assert_same_bytes(
        &skopeo.ok(&[], "inspect", &["--config", "--raw", &v1]).await,
        &image.config,
        "inspect --config --raw",
    );
    assert_eq!(
        skopeo.tags("library/app").await,
        ["latest", "v1"],
        "list-tags"
    );

    skopeo.pulls_intact(&[], &v1, "v1", &image).await;

    let record = artifact(&server, "library/app", &image.manifest).await;
    assert_eq!(record.pushed_by.as_deref(), Some("admin"));
    assert_eq!(record.media_type, OCI_MANIFEST);
    assert_eq!(
        record.config_digest.as_deref(),
        Some(image.config.digest.as_str())
    );
    assert_eq!(record.tags, ["latest", "v1"]);
    assert_eq!(record.platform, platform("linux", "amd64", None));
    assert_eq!(
        layer_facts(&record),
        layer_facts_of(&image, &APP_LAYER_STEPS)
    );
    let history: Vec<(Option<&str>, bool)> = record
        .history
        .iter()
        .map(|h| (h.created_by.as_deref(), h.empty_layer))
        .collect();
    assert_eq!(
        history,
        [
            (Some(APP_LAYER_STEPS[0]), false),
            (Some(APP_ENV_STEP), true),
            (Some(APP_LAYER_STEPS[1]), false),
            (Some(APP_LAYER_STEPS[2]), false),
        ]
    );
    let config: Value = serde_json::from_str(record.config_json.as_deref().unwrap()).unwrap();
    assert_eq!(config["cmd"], json!(["/usr/bin/app"]));
    assert_eq!(config["env"], app_env());
    assert_eq!(config["labels"], app_labels());

    // Deleting through one tag deletes the manifest, so neither tag resolves afterwards.
    skopeo.ok(&[], "delete", &[&v1]).await;
    for tag in ["v1", "latest"] {
        let error = skopeo
            .fails(
                &[],
                "inspect",
                &[&skopeo.image(&format!("library/app:{tag}"))],
            )
            .await;
        assert_mentions(&error, &["manifest unknown"]);
    }
    server.stop().await;
}

/// A two-platform OCI index goes in with `--all`, skopeo picks either platform out of it, and
/// it comes back out with every child intact.
async fn multi_arch_index_round_trip(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let skopeo = Skopeo::new(&server.host, Some(("admin", ADMIN_PASSWORD)));
    let index = two_platform_index(false);
    let source = oci_layout("multi", &index);
    let target = skopeo.image("library/multi:v1");
    skopeo.copy(&["--all"], &source.reference, &target).await;

    assert_same_bytes(
        &skopeo.ok(&[], "inspect", &["--raw", &target]).await,
        &index.manifest,
        "inspect --raw of the index",
    );
    for image in &index.images {
        let platform = platform_flags(image);
        let inspect = skopeo.inspect(&platform, &target).await;
        assert_eq!(inspect["Architecture"], image.architecture);
        assert_eq!(inspect["Os"], image.os);
        assert_eq!(inspect["Layers"], json!(digests(&image.layers)));
        assert_same_bytes(
            &skopeo
                .ok(&platform, "inspect", &["--config", "--raw", &target])
                .await,
            &image.config,
            &format!("config for {}", image.architecture),
        );
    }

    skopeo.pulls_intact(&["--all"], &target, "v1", &index).await;

    let record = artifact(&server, "library/multi", &index.manifest).await;
    assert_eq!(record.media_type, OCI_INDEX);
    assert_eq!(record.pushed_by.as_deref(), Some("admin"));
    assert_children(&record, &index, OCI_MANIFEST);
    for image in &index.images {
        let child = artifact(&server, "library/multi", &image.manifest).await;
        assert_eq!(child.platform, image_platform(image));
        assert_eq!(
            layer_facts(&child),
            layer_facts_of(image, &BASE_AND_APP_STEPS)
        );
    }
    server.stop().await;
}

/// Docker schema 2 content keeps its Docker media types: the registry stores and serves the
/// exact bytes skopeo sent, and `--preserve-digests` guarantees skopeo sent them unchanged.
async fn docker_image_and_manifest_list(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let skopeo = Skopeo::new(&server.host, Some(("admin", ADMIN_PASSWORD)));

    let image = docker_app_image();
    let record = push_and_pull_dir(&server, &skopeo, "docker/image:v1", &image).await;
    assert_eq!(record.media_type, DOCKER_MANIFEST);
    assert_eq!(
        layer_facts(&record),
        layer_facts_of(&image, &APP_LAYER_STEPS[..1])
    );
    let manifest: Value = serde_json::from_slice(&image.manifest.bytes).unwrap();
    assert_eq!(manifest["config"]["mediaType"], DOCKER_CONFIG);
    assert_eq!(manifest["layers"][0]["mediaType"], DOCKER_LAYER_GZIP);

    let list = two_platform_index(true);
    let record = push_and_pull_dir(&server, &skopeo, "docker/list:v1", &list).await;
    assert_eq!(record.media_type, DOCKER_MANIFEST_LIST);
    assert_children(&record, &list, DOCKER_MANIFEST);
    server.stop().await;
}

/// Wrong credentials fail at the token endpoint, and no credentials get an anonymous token that
/// pulls public spaces only; either way skopeo reports an authentication failure for anything
/// else, and nothing is stored.
async fn bad_or_missing_credentials_are_refused(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let admin = Skopeo::new(&server.host, Some(("admin", ADMIN_PASSWORD)));
    let image = app_image();
    let source = oci_layout("v1", &image);
    // `library` is public; the admin's push auto-creates the space `private`, bound to nobody.
    let public = admin.image("library/pushed:v1");
    admin.copy(&[], &source.reference, &public).await;
    let pushed = admin.image("private/pushed:v1");
    admin.copy(&[], &source.reference, &pushed).await;

    // Bad credentials are refused by the token endpoint itself. Without credentials the client
    // gets an anonymous token that grants only pulls of public spaces, and the registry answers
    // 401 to every other request made with it, which skopeo reports as access denied.
    let bad_credentials: &[&str] = &[
        "unable to retrieve auth token",
        "incorrect username or password",
    ];
    let no_credentials: &[&str] = &["requested access to the resource is denied"];
    let cases = [
        (Some(("admin", "not-the-password")), bad_credentials),
        (Some(("nobody", ADMIN_PASSWORD)), bad_credentials),
        (None, no_credentials),
    ];
    for (credentials, phrases) in cases {
        let client = Skopeo::new(&server.host, credentials);
        let target = client.image("library/refused:v1");
        let error = client
            .fails(&[], "copy", &[&source.reference, &target])
            .await;
        assert_mentions(&error, phrases);
        let error = client.fails(&[], "inspect", &[&pushed]).await;
        assert_mentions(&error, phrases);
        if credentials.is_some() {
            let error = client.fails(&[], "inspect", &[&public]).await;
            assert_mentions(&error, phrases);
        }
    }
    // Anonymous pull of a public space is on by default.
    let anonymous = Skopeo::new(&server.host, None);
    assert_same_bytes(
        &anonymous.ok(&[], "inspect", &["--raw", &public]).await,
        &image.manifest,
        "an anonymous inspect of a public image",
    );
    let refused = RepoName::parse("library/refused").unwrap();
    assert!(
        !server
            .state
            .store
            .repository_exists(&refused)
            .await
            .unwrap(),
        "a refused push must not create the repository"
    );
    server.stop().await;
}

/// An editor of a workspace bound to the space pushes and pulls like the admin and is recorded
/// as the pusher, but deleting is reserved to administrators: the registry answers 403 DENIED
/// and the image stays.
async fn non_admin_pushes_and_pulls_but_cannot_delete(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    server.create_user("alice", "alice-password", false).await;
    let store = &server.state.store;
    create_space(store, "team", false).await;
    create_workspace(store, "team").await;
    set_role(store, "team", "alice", "editor").await;
    bind(store, "team", &["team"]).await;
    let alice = Skopeo::new(&server.host, Some(("alice", "alice-password")));
    let image = app_image();
    let source = oci_layout("v1", &image);
    let target = alice.image("team/app:v1");
    alice.copy(&[], &source.reference, &target).await;

    alice.pulls_intact(&[], &target, "v1", &image).await;
    let record = artifact(&server, "team/app", &image.manifest).await;
    assert_eq!(record.pushed_by.as_deref(), Some("alice"));

    let error = alice.fails(&[], "delete", &[&target]).await;
    assert_mentions(&error, &["denied"]);
    assert_same_bytes(
        &alice.ok(&[], "inspect", &["--raw", &target]).await,
        &image.manifest,
        "the manifest after a refused delete",
    );
    server.stop().await;
}

/// The README's walkthrough, as far as team B's refusal: the robot of a workspace the private
/// space is not bound to is refused a pull and a push, and skopeo's words for the pull are the
/// ones the README shows (on a terminal skopeo prints `FATA[0000] <message>`; elsewhere it
/// prints the same message as `msg="…"`).
async fn the_readme_shows_what_skopeo_prints_when_refused(backend: Backend) {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("reading README.md");
    let command = "skopeo inspect --tls-verify=false --creds 'robot$team-b+ci:<secret>' \
                   docker://127.0.0.1:5050/team-a/app:1.0";
    let mut lines = readme.lines().skip_while(|line| *line != command);
    assert!(
        lines.next().is_some(),
        "README.md no longer shows `{command}`"
    );
    let shown = lines
        .next()
        .and_then(|line| line.strip_prefix("# FATA[0000] "))
        .expect("README.md shows skopeo's answer under the command, as `# FATA[0000] …`");

    let server = TestServer::spawn(backend).await;
    let store = &server.state.store;
    create_workspace(store, "team-a").await;
    create_workspace(store, "team-b").await;
    create_space(store, "team-a", false).await;
    bind(store, "team-a", &["team-a"]).await;
    let team_a = create_robot(store, "team-a", "ci", true, true).await;
    let team_b = create_robot(store, "team-b", "ci", true, true).await;
    let source = oci_layout("latest", &app_image());
    let pusher = Skopeo::new(&server.host, Some((&team_a.0, &team_a.1)));
    pusher
        .copy(&[], &source.reference, &pusher.image("team-a/app:1.0"))
        .await;

    let refused = Skopeo::new(&server.host, Some((&team_b.0, &team_b.1)));
    let target = refused.image("team-a/app:1.0");
    let error = refused.fails(&[], "inspect", &[&target]).await;
    let printed = error
        .lines()
        .find_map(|line| line.split_once(" msg=\"").map(|(_, rest)| rest))
        .and_then(|rest| rest.trim_end().strip_suffix('"'))
        .unwrap_or_else(|| panic!("skopeo printed no fatal message:\n{error}"))
        .replace("\\\"", "\"");
    assert_eq!(
        printed,
        shown.replace("127.0.0.1:5050", &server.host),
        "README.md must show what skopeo prints"
    );
    let error = refused
        .fails(&[], "copy", &[&source.reference, &target])
        .await;
    assert_mentions(&error, &["name unknown: repository `team-a/app` not found"]);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------------

/// The `created_by` of each layer of [`app_image`], in layer order.
const APP_LAYER_STEPS: [&str; 3] = [
    "ADD rootfs.tar /",
    "COPY app /usr/bin/app",
    "RUN /usr/bin/app --generate-data",
];
/// The step of [`app_image`] that changes the config but adds no layer.
const APP_ENV_STEP: &str = "ENV APP_MODE=production";
/// The `created_by` of each layer of the images in [`two_platform_index`].
const BASE_AND_APP_STEPS: [&str; 2] = ["ADD base.tar /", "COPY app /bin/app"];

fn app_labels() -> Value {
    json!({"org.opencontainers.image.title": "app", "maintainer": "berth tests"})
}

fn app_env() -> Value {
    json!(["PATH=/usr/bin:/bin", "APP_MODE=production"])
}

/// Three gzip layers, one of them large enough (256 KiB of random bytes) that skopeo streams
/// it in more than one write, and a history with an empty-layer step between them.
pub(crate) fn app_image() -> Image {
    ImageBuilder::new()
        .layer(
            layer(&[("etc/os-release", b"ID=berth\n"), ("etc/motd", b"hello\n")]),
            APP_LAYER_STEPS[0],
        )
        .empty_history(APP_ENV_STEP)
        .layer(
            layer(&[("usr/bin/app", b"#!/bin/sh\necho app\n")]),
            APP_LAYER_STEPS[1],
        )
        .layer(random_layer(256 * 1024, 7, 6), APP_LAYER_STEPS[2])
        .config_field("Env", app_env())
        .config_field("Cmd", json!(["/usr/bin/app"]))
        .config_field("Labels", app_labels())
        .build()
}

/// A one-layer Docker schema 2 image.
fn docker_app_image() -> Image {
    ImageBuilder::new()
        .layer(
            layer(&[("etc/os-release", b"ID=berth-docker\n")]),
            APP_LAYER_STEPS[0],
        )
        .config_field("Cmd", json!(["/bin/sh"]))
        .docker()
        .build()
}

/// linux/amd64 and linux/arm64/v8 builds of one program sharing their base layer, as an OCI
/// index or, with `docker`, a Docker manifest list.
fn two_platform_index(docker: bool) -> Index {
    let base = layer(&[("etc/os-release", b"ID=multi\n")]);
    let images = [("amd64", None), ("arm64", Some("v8"))]
        .into_iter()
        .map(|(arch, variant)| {
            let binary = format!("{arch} binary");
            let builder = ImageBuilder::new()
                .platform("linux", arch, variant)
                .layer(base.clone(), BASE_AND_APP_STEPS[0])
                .layer(
                    layer(&[("bin/app", binary.as_bytes())]),
                    BASE_AND_APP_STEPS[1],
                )
                .config_field("Entrypoint", json!(["/bin/app"]));
            if docker { builder.docker() } else { builder }.build()
        })
        .collect();
    index(images)
}

// ---------------------------------------------------------------------------------------------
// skopeo
// ---------------------------------------------------------------------------------------------

/// Runs skopeo against one registry host, with fixed credentials and a private blob-info cache.
///
/// skopeo remembers where it has seen each blob in a cache shared by every run (for root,
/// `/var/lib/containers/cache`) and uses it to try cross-repository mounts, which would make
/// tests depend on each other and on earlier runs. skopeo has no flag for the cache location,
/// but for a rootless user it lives under `$XDG_DATA_HOME`, and `_CONTAINERS_ROOTLESS_UID`
/// makes skopeo treat the process as rootless. `REGISTRY_AUTH_FILE` points at a file that does
/// not exist, so credentials a developer has stored never leak into a test.
pub(crate) struct Skopeo {
    host: String,
    creds: Option<String>,
    home: TempDir,
}

impl Skopeo {
    /// A client for `host` (`127.0.0.1:<port>`) signing in as `credentials`, or anonymous.
    pub(crate) fn new(host: &str, credentials: Option<(&str, &str)>) -> Skopeo {
        Skopeo {
            host: host.to_string(),
            creds: credentials.map(|(user, password)| format!("{user}:{password}")),
            home: TempDir::new().unwrap(),
        }
    }

    /// `docker://<host>/<name_and_reference>`.
    pub(crate) fn image(&self, name_and_reference: &str) -> String {
        format!("docker://{}/{name_and_reference}", self.host)
    }

    /// Runs skopeo with `global` options, then `command` with the TLS and credential flags
    /// that fit it, then `args`. Running it asynchronously matters: the server under test
    /// shares this test's runtime, and a blocking wait would starve it.
    async fn run(&self, global: &[&str], command: &str, args: &[&str]) -> Output {
        let mut cmd = tokio::process::Command::new("skopeo");
        cmd.arg("--insecure-policy").args(global).arg(command);
        let creds = self.creds.as_deref();
        if command == "copy" {
            cmd.args(["--src-tls-verify=false", "--dest-tls-verify=false"]);
            if let Some(creds) = creds {
                cmd.args(["--src-creds", creds, "--dest-creds", creds]);
            }
        } else {
            cmd.arg("--tls-verify=false");
            if let Some(creds) = creds {
                cmd.args(["--creds", creds]);
            }
        }
        cmd.args(args)
            .env("_CONTAINERS_ROOTLESS_UID", "1000")
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("XDG_RUNTIME_DIR", self.home.path().join("run"))
            .env("REGISTRY_AUTH_FILE", self.home.path().join("auth.json"))
            .kill_on_drop(true)
            .output()
            .await
            .expect("running skopeo (apt-get install skopeo)")
    }

    /// Runs skopeo and returns its standard output, panicking with its output if it fails.
    pub(crate) async fn ok(&self, global: &[&str], command: &str, args: &[&str]) -> Vec<u8> {
        let output = self.run(global, command, args).await;
        assert!(
            output.status.success(),
            "skopeo {command} {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// Runs skopeo expecting it to fail, and returns its standard error.
    pub(crate) async fn fails(&self, global: &[&str], command: &str, args: &[&str]) -> String {
        let output = self.run(global, command, args).await;
        assert!(
            !output.status.success(),
            "skopeo {command} {} succeeded but should have failed",
            args.join(" ")
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// `skopeo copy <extra> <from> <to>`.
    pub(crate) async fn copy(&self, extra: &[&str], from: &str, to: &str) {
        let args = [extra, &["--quiet", from, to]].concat();
        self.ok(&[], "copy", &args).await;
    }

    /// Pulls `from` (with `extra` copy flags, such as `--all`) into a fresh OCI layout under
    /// `tag` and asserts the layout holds `content` byte for byte.
    pub(crate) async fn pulls_intact(
        &self,
        extra: &[&str],
        from: &str,
        tag: &str,
        content: &impl LayoutContent,
    ) {
        let pulled = TempDir::new().unwrap();
        self.copy(extra, from, &oci_reference(pulled.path(), tag))
            .await;
        assert_oci_layout_holds(pulled.path(), tag, content);
    }

    /// `skopeo inspect` as JSON.
    async fn inspect(&self, global: &[&str], reference: &str) -> Value {
        let stdout = self.ok(global, "inspect", &[reference]).await;
        serde_json::from_slice(&stdout).expect("skopeo inspect prints JSON")
    }

    /// The tags `skopeo list-tags` reports for `name`, sorted.
    async fn tags(&self, name: &str) -> Vec<String> {
        let stdout = self.ok(&[], "list-tags", &[&self.image(name)]).await;
        let listing: Value = serde_json::from_slice(&stdout).expect("list-tags prints JSON");
        assert_eq!(listing["Repository"], format!("{}/{name}", self.host));
        let mut tags: Vec<String> = serde_json::from_value(listing["Tags"].clone()).unwrap();
        tags.sort();
        tags
    }
}

/// `--override-*` flags that make skopeo pick `image`'s platform out of an index.
fn platform_flags(image: &Image) -> Vec<&str> {
    let mut flags = vec![
        "--override-os",
        &image.os,
        "--override-arch",
        &image.architecture,
    ];
    if let Some(variant) = &image.variant {
        flags.extend(["--override-variant", variant]);
    }
    flags
}

/// Asserts that skopeo's error output mentions every one of `phrases`, ignoring case.
fn assert_mentions(error: &str, phrases: &[&str]) {
    let lower = error.to_lowercase();
    assert!(
        phrases.iter().all(|p| lower.contains(p)),
        "expected the error to mention all of {phrases:?}, got:\n{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// Layouts
// ---------------------------------------------------------------------------------------------

/// An OCI layout written for one test, with the skopeo reference of its tag.
pub(crate) struct Layout {
    _dir: TempDir,
    pub(crate) reference: String,
}

pub(crate) fn oci_layout(tag: &str, content: &impl LayoutContent) -> Layout {
    let dir = TempDir::new().unwrap();
    write_oci_layout(dir.path(), tag, content).unwrap();
    Layout {
        reference: oci_reference(dir.path(), tag),
        _dir: dir,
    }
}

pub(crate) fn oci_reference(dir: &Path, tag: &str) -> String {
    format!("oci:{}:{tag}", dir.display())
}

/// Pushes `content` from a `dir:` layout to `name_and_tag` with `--all --preserve-digests`,
/// checks `inspect --raw`, pulls it back into a fresh `dir:` layout, compares every file with
/// what was built, and returns the catalog record of the pushed root manifest.
async fn push_and_pull_dir(
    server: &TestServer,
    skopeo: &Skopeo,
    name_and_tag: &str,
    content: &impl LayoutContent,
) -> ArtifactRecord {
    let flags = ["--all", "--preserve-digests"];
    let source = TempDir::new().unwrap();
    write_dir_layout(source.path(), content).unwrap();
    let target = skopeo.image(name_and_tag);
    skopeo
        .copy(&flags, &format!("dir:{}", source.path().display()), &target)
        .await;
    assert_same_bytes(
        &skopeo.ok(&[], "inspect", &["--raw", &target]).await,
        content.root(),
        &format!("inspect --raw {name_and_tag}"),
    );

    let pulled = TempDir::new().unwrap();
    skopeo
        .copy(&flags, &target, &format!("dir:{}", pulled.path().display()))
        .await;
    let dir = pulled.path();
    let mut files = vec![(dir.join("manifest.json"), content.root())];
    files.extend(
        content
            .child_manifests()
            .into_iter()
            .map(|m| (dir.join(format!("{}.manifest.json", m.hex())), m)),
    );
    files.extend(
        content
            .content_blobs()
            .into_iter()
            .map(|b| (dir.join(b.hex()), b)),
    );
    assert_files_hold(files);

    let (name, _tag) = name_and_tag.split_once(':').unwrap();
    let record = artifact(server, name, content.root()).await;
    assert_eq!(record.pushed_by.as_deref(), Some("admin"));
    record
}

/// Asserts that the OCI layout at `dir` tags `content`'s root as `tag` and holds every one of
/// its manifests, configs and layers with exactly the bytes that were built.
pub(crate) fn assert_oci_layout_holds(dir: &Path, tag: &str, content: &impl LayoutContent) {
    let index: Value = serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"][REF_NAME_ANNOTATION] == tag)
        .unwrap_or_else(|| panic!("{} has no tag {tag}: {index}", dir.display()));
    let root = content.root();
    assert_eq!(
        entry["digest"], root.digest,
        "digest of the tagged manifest"
    );
    assert_eq!(
        entry["mediaType"], root.media_type,
        "media type of the tagged manifest"
    );
    let blobs = dir.join("blobs").join("sha256");
    let mut expected = vec![root];
    expected.extend(content.child_manifests());
    expected.extend(content.content_blobs());
    assert_files_hold(expected.into_iter().map(|b| (blobs.join(b.hex()), b)));
}

fn assert_files_hold<'a>(files: impl IntoIterator<Item = (PathBuf, &'a Blob)>) {
    for (path, blob) in files {
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        assert_same_bytes(&bytes, blob, &path.display().to_string());
    }
}

/// Compares bytes with a blob, reporting digests and sizes instead of dumping both on failure.
pub(crate) fn assert_same_bytes(actual: &[u8], expected: &Blob, what: &str) {
    assert!(
        actual == expected.bytes.as_slice(),
        "{what}: got {} bytes with digest {}, expected {} bytes with digest {}",
        actual.len(),
        berth_testkit::image::sha256_digest(actual),
        expected.size(),
        expected.digest
    );
}

// ---------------------------------------------------------------------------------------------
// Catalog facts
// ---------------------------------------------------------------------------------------------

async fn artifact(server: &TestServer, name: &str, manifest: &Blob) -> ArtifactRecord {
    let repository = RepoName::parse(name).unwrap();
    let digest = Digest::parse(&manifest.digest).unwrap();
    server
        .state
        .store
        .artifact(&repository, &digest)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the catalog has no {name}@{}", manifest.digest))
}

fn digests(blobs: &[Blob]) -> Vec<&str> {
    blobs.iter().map(|b| b.digest.as_str()).collect()
}

fn platform(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
    Platform {
        os: Some(os.into()),
        architecture: Some(architecture.into()),
        variant: variant.map(Into::into),
    }
}

fn image_platform(image: &Image) -> Platform {
    platform(&image.os, &image.architecture, image.variant.as_deref())
}

/// `(digest, media type, size, created_by)` of each layer the catalog recorded.
fn layer_facts(record: &ArtifactRecord) -> Vec<(String, String, i64, Option<String>)> {
    record
        .layers
        .iter()
        .map(|l| {
            (
                l.digest.clone(),
                l.media_type.clone(),
                l.size,
                l.created_by.clone(),
            )
        })
        .collect()
}

/// What [`layer_facts`] should return for `image`, whose layers came from `steps`.
fn layer_facts_of(image: &Image, steps: &[&str]) -> Vec<(String, String, i64, Option<String>)> {
    assert_eq!(image.layers.len(), steps.len(), "one step per layer");
    image
        .layers
        .iter()
        .zip(steps)
        .map(|(l, step)| {
            (
                l.digest.clone(),
                l.media_type.clone(),
                l.size() as i64,
                Some(step.to_string()),
            )
        })
        .collect()
}

/// Asserts that the catalog lists `index`'s children in order, with their platforms.
fn assert_children(record: &ArtifactRecord, index: &Index, media_type: &str) {
    let children: Vec<(&str, &str, i64, &Platform)> = record
        .children
        .iter()
        .map(|c| {
            (
                c.digest.as_str(),
                c.media_type.as_str(),
                c.size,
                &c.platform,
            )
        })
        .collect();
    let platforms: Vec<Platform> = index.images.iter().map(image_platform).collect();
    let expected: Vec<(&str, &str, i64, &Platform)> = index
        .images
        .iter()
        .zip(&platforms)
        .map(|(i, p)| {
            (
                i.manifest.digest.as_str(),
                media_type,
                i.manifest.size() as i64,
                p,
            )
        })
        .collect();
    assert_eq!(children, expected);
}
