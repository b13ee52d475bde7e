//! Syncing external registries into the image list, against the real CNCF registry (Debian's
//! `docker-registry`, started per test on loopback) without auth and with htpasswd, and against
//! a second Berth as a token-auth OCI registry.

use std::time::{Duration, Instant};

use berth_testkit::distribution::{self, DistributionRegistry, Options, StorageWriter};
use berth_testkit::image::{index, layer, Image, ImageBuilder};
use serde_json::{json, Value};

use crate::support::api::Api;
use crate::support::{Backend, ADMIN_PASSWORD};

const WS: &str = "team-sync";
const OTHER_WS: &str = "team-other";

fn image(seed: &str) -> Image {
    ImageBuilder::new()
        .platform("linux", "amd64", None)
        .created("2024-05-01T10:00:00Z")
        .layer(
            layer(&[("etc/seed", seed.as_bytes())]),
            &format!("ADD seed {seed}"),
        )
        .empty_history("CMD [\"/bin/sh\"]")
        .layer(layer(&[("app/run", b"#!/bin/sh\n")]), "COPY run /app/run")
        .build()
}

fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Adds platform registry `name` (which queues its first sync) and waits for that sync.
async fn add_registry(api: &Api, name: &str, body: Value) -> Value {
    let mut body = body;
    body["name"] = json!(name);
    api.post("/registries", api.as_admin(), body)
        .await
        .expect(201);
    wait_idle(api, name).await
}

/// Polls the sync state until no sync is queued or running.
async fn wait_idle(api: &Api, name: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let sync = api
            .get(&format!("/registries/{name}/sync"), api.as_admin())
            .await
            .expect(200);
        if sync["state"] == "idle" && sync["last_finished_at"].is_string() {
            return sync;
        }
        assert!(
            Instant::now() < deadline,
            "the sync of {name} did not end: {sync}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Requests a sync and waits for it to end.
async fn sync_now(api: &Api, name: &str, mode: &str) -> Value {
    let before = api
        .get(&format!("/registries/{name}/sync"), api.as_admin())
        .await
        .expect(200);
    let started = api
        .post(
            &format!("/registries/{name}/sync"),
            api.as_admin(),
            json!({ "mode": mode }),
        )
        .await
        .expect(202);
    assert!(
        ["queued", "running"].contains(&started["state"].as_str().unwrap()),
        "{started}"
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let sync = wait_idle(api, name).await;
        if sync["last_finished_at"] != before["last_finished_at"] {
            return sync;
        }
        assert!(Instant::now() < deadline, "no new sync of {name} ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn bind(api: &Api, registry: &str, space: &str, workspaces: &[&str]) {
    api.put(
        &format!("/registries/{registry}/spaces/{space}/bindings"),
        api.as_admin(),
        json!({ "workspaces": workspaces }),
    )
    .await
    .expect(200);
}

/// The workspace's image list rows of `registry`, by repository.
async fn rows(api: &Api, ws: &str, registry: &str) -> Vec<Value> {
    let list = api
        .get(
            &format!("/workspaces/{ws}/images?registry={registry}&limit=500"),
            api.as_admin(),
        )
        .await
        .expect(200);
    let mut items = list["items"].as_array().unwrap().clone();
    items.sort_by_key(|r| r["repository"].as_str().unwrap().to_string());
    items
}

fn names(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["repository"].as_str().unwrap().to_string())
        .collect()
}

/// The artifact page of `digest` in `repository` as `ws` sees it.
async fn artifact_page(
    api: &Api,
    ws: &str,
    registry: &str,
    repository: &str,
    digest: &str,
) -> Value {
    api.get(
        &format!(
            "/workspaces/{ws}/registries/{registry}/repositories/{}/artifacts/{digest}",
            enc(repository)
        ),
        api.as_admin(),
    )
    .await
    .expect(200)
}

/// An artifact's tags, sorted.
fn sorted_tags(artifact: &Value) -> Vec<String> {
    let mut tags: Vec<String> = artifact["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    tags.sort();
    tags
}

async fn tag_names(api: &Api, ws: &str, registry: &str, repository: &str) -> Vec<String> {
    let page = api
        .get(
            &format!(
                "/workspaces/{ws}/registries/{registry}/repositories/{}/tags?limit=100",
                enc(repository)
            ),
            api.as_admin(),
        )
        .await
        .expect(200);
    let mut tags: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    tags.sort();
    tags
}

crate::on_both_backends!(multi_thread:
    distribution_without_auth_is_synced_with_details_and_changes,
    htpasswd_registry_and_wrong_password,
    second_berth_behind_token_auth,
    stopped_registry_fails_the_sync_and_keeps_the_catalog,
    distribution_notifications_sync_the_repository_within_seconds,
    incremental_syncs_trust_events_and_re_examine_a_slice_in_turn,
    harbor_projects_become_spaces_with_push_times,
    harbor_bindings_make_robots_that_pull_secrets_and_push_logins_hand_out,
    hosted_platform_and_workspace_registries_share_one_list,
);

/// Anonymous Distribution: the first sync lists every repository with its images' facts, the
/// space reaches only the workspaces it is bound to, and a moved tag, a deleted tag and a
/// deleted repository show after the next sync.
async fn distribution_without_auth_is_synced_with_details_and_changes(backend: Backend) {
    let upstream = DistributionRegistry::start(Options::default());
    let web = image("web-1");
    let web2 = image("web-2");
    let api_image = image("api-1");
    let multi = index(vec![
        ImageBuilder::new()
            .platform("linux", "amd64", None)
            .layer(layer(&[("a", b"amd64")]), "ADD a")
            .build(),
        ImageBuilder::new()
            .platform("linux", "arm64", Some("v8"))
            .layer(layer(&[("a", b"arm64")]), "ADD a")
            .build(),
    ]);
    distribution::push(&upstream.url(), "team/web", "1.0", &web, None)
        .await
        .unwrap();
    distribution::push(&upstream.url(), "team/web", "stable", &web, None)
        .await
        .unwrap();
    distribution::push(&upstream.url(), "team/web", "2.0", &web2, None)
        .await
        .unwrap();
    distribution::push(&upstream.url(), "team/api", "1.0", &api_image, None)
        .await
        .unwrap();
    distribution::push(&upstream.url(), "tools/multi", "latest", &multi, None)
        .await
        .unwrap();

    let api = Api::start(backend).await;
    api.workspace(WS).await;
    api.workspace(OTHER_WS).await;
    let sync = add_registry(
        &api,
        "dist",
        json!({ "kind": "distribution", "url": upstream.url() }),
    )
    .await;
    assert_eq!(sync["last_error"], Value::Null, "{sync}");
    assert_eq!(sync["repositories"], 3, "{sync}");
    assert_eq!(sync["tags"], 5, "{sync}");
    assert_eq!(sync["mode"], "full");
    assert_eq!(sync["stale"], false);

    // Spaces found upstream start private: nobody sees them until they are bound.
    let spaces = api
        .names("/registries/dist/spaces", api.as_admin(), "name")
        .await;
    assert_eq!(spaces, ["team", "tools"]);
    let space = api
        .get("/registries/dist/spaces/team", api.as_admin())
        .await
        .expect(200);
    assert_eq!(space["public"], false);
    assert!(rows(&api, WS, "dist").await.is_empty());
    bind(&api, "dist", "team", &[WS]).await;
    api.patch(
        "/registries/dist/spaces/tools",
        api.as_admin(),
        json!({ "public": true }),
    )
    .await
    .expect(200);

    let listed = rows(&api, WS, "dist").await;
    assert_eq!(names(&listed), ["team/api", "team/web", "tools/multi"]);
    let web_row = &listed[1];
    assert_eq!(web_row["registry_kind"], "distribution");
    assert_eq!(web_row["tag_count"], 3);
    // Berth proxies Distribution registries, so their images are pulled from Berth's address.
    assert_eq!(
        web_row["reference"],
        format!("{}/dist/team/web", api.server.host)
    );
    // The other workspace sees the public space only.
    assert_eq!(names(&rows(&api, OTHER_WS, "dist").await), ["tools/multi"]);
    api.get(
        &format!(
            "/workspaces/{OTHER_WS}/registries/dist/repositories/{}",
            enc("team/web")
        ),
        api.as_admin(),
    )
    .await
    .expect(404);

    // The artifact page has the facts a push would have recorded.
    let artifact = artifact_page(&api, WS, "dist", "team/web", &web.manifest.digest).await;
    assert_eq!(sorted_tags(&artifact), ["1.0", "stable"]);
    let layers = artifact["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0]["created_by"], "ADD seed web-1");
    assert_eq!(layers[1]["created_by"], "COPY run /app/run");
    let history = artifact["history"].as_array().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[1]["empty_layer"], true);
    assert_eq!(artifact["config"]["created"], "2024-05-01T10:00:00Z");
    assert_eq!(artifact["platforms"][0]["architecture"], "amd64");
    // The same size a push of the image records: the manifest and all it references.
    let expected_size: u64 =
        web.manifest.size() + web.config.size() + web.layers.iter().map(|l| l.size()).sum::<u64>();
    assert_eq!(artifact["size"], expected_size);
    // Distribution does not say when an image was pushed.
    assert_eq!(artifact["pushed_at"], Value::Null, "{artifact}");
    let multi_artifact =
        artifact_page(&api, WS, "dist", "tools/multi", &multi.manifest.digest).await;
    let architectures: Vec<&str> = multi_artifact["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(architectures, ["amd64", "arm64"]);

    // An incremental sync of an unchanged registry fetches no manifest.
    let again = sync_now(&api, "dist", "incremental").await;
    assert_eq!(again["manifests_fetched"], 0, "{again}");
    assert_eq!(again["repositories"], 3);

    // Upstream changes: `stable` moves to 2.0's image, `1.0` of team/web goes, and the whole of
    // tools/multi.
    distribution::push_manifest(&upstream.url(), "team/web", "stable", &web2.manifest, None)
        .await
        .unwrap();
    delete_tag(&upstream, "team/web", "1.0");
    std::fs::remove_dir_all(
        upstream
            .storage_dir()
            .join("docker/registry/v2/repositories/tools/multi"),
    )
    .unwrap();
    let after = sync_now(&api, "dist", "incremental").await;
    assert_eq!(after["last_error"], Value::Null, "{after}");
    assert_eq!(after["repositories"], 2, "{after}");
    assert_eq!(
        names(&rows(&api, WS, "dist").await),
        ["team/api", "team/web"]
    );
    assert_eq!(
        tag_names(&api, WS, "dist", "team/web").await,
        ["2.0", "stable"]
    );
    let moved = artifact_page(&api, WS, "dist", "team/web", &web2.manifest.digest).await;
    assert_eq!(sorted_tags(&moved), ["2.0", "stable"]);
    api.server.stop().await;
}

/// A registry that sends Berth its events (it has an event secret) is trusted for the
/// repositories Berth has: an incremental sync lists the catalog, so new and removed
/// repositories show at once, but re-examines only one slice of the rest per run, so a change
/// whose event was lost shows by the time the rotation reaches its repository.
async fn incremental_syncs_trust_events_and_re_examine_a_slice_in_turn(backend: Backend) {
    let upstream = DistributionRegistry::start(Options::default());
    let old = image("slice-1");
    let new = image("slice-2");
    distribution::push(&upstream.url(), "team/web", "stable", &old, None)
        .await
        .unwrap();
    distribution::push(&upstream.url(), "team/gone", "1.0", &old, None)
        .await
        .unwrap();
    let api = Api::start(backend).await;
    add_registry(
        &api,
        "trusting",
        json!({ "kind": "distribution", "url": upstream.url(), "sync_interval_seconds": 0 }),
    )
    .await;
    api.post(
        "/registries/trusting/event-secret",
        api.as_admin(),
        json!({}),
    )
    .await
    .expect(201);
    let id = registry_id(&api, "trusting").await;
    api.workspace(WS).await;
    api.patch(
        "/registries/trusting/spaces/team",
        api.as_admin(),
        json!({ "public": true }),
    )
    .await
    .expect(200);
    let stable_digest = || async {
        let page = api
            .get(
                &format!(
                    "/workspaces/{WS}/registries/trusting/repositories/{}/tags?q=stable",
                    enc("team/web")
                ),
                api.as_admin(),
            )
            .await
            .expect(200);
        page["items"][0]["digest"].as_str().unwrap().to_string()
    };
    assert_eq!(stable_digest().await, old.manifest.digest);

    // Changes whose events never came: a moved tag, a new and a removed repository.
    distribution::push(&upstream.url(), "team/web", "stable", &new, None)
        .await
        .unwrap();
    distribution::push(&upstream.url(), "team/new", "1.0", &new, None)
        .await
        .unwrap();
    std::fs::remove_dir_all(
        upstream
            .storage_dir()
            .join("docker/registry/v2/repositories/team/gone"),
    )
    .unwrap();
    let slice = berth_sync::slice_of("team/web");
    let mut runs = 0;
    loop {
        let record = api
            .server
            .state
            .store
            .sync_record(id)
            .await
            .unwrap()
            .unwrap();
        let examined_now = record.succeeded_runs as u64 % berth_sync::DEEP_CHECK_SLICES == slice;
        let sync = sync_now(&api, "trusting", "incremental").await;
        runs += 1;
        assert_eq!(sync["last_error"], Value::Null, "{sync}");
        // The catalog is listed every time.
        let listed = names(&rows(&api, WS, "trusting").await);
        assert_eq!(listed, ["team/new", "team/web"], "run {runs}");
        let digest = stable_digest().await;
        if examined_now {
            assert_eq!(digest, new.manifest.digest, "run {runs} examines team/web");
            break;
        }
        assert_eq!(digest, old.manifest.digest, "run {runs} trusts team/web");
        assert!(
            runs <= berth_sync::DEEP_CHECK_SLICES,
            "the rotation never came"
        );
    }
    // A full sync examines everything, events or not.
    let full = sync_now(&api, "trusting", "full").await;
    assert_eq!(full["repositories"], 2, "{full}");
    api.server.stop().await;
}

/// Removes a tag in Distribution's storage, as `DELETE` of a manifest would not (it removes
/// every tag of the digest).
fn delete_tag(upstream: &DistributionRegistry, repository: &str, tag: &str) {
    std::fs::remove_dir_all(
        upstream
            .storage_dir()
            .join("docker/registry/v2/repositories")
            .join(repository)
            .join("_manifests/tags")
            .join(tag),
    )
    .unwrap();
}

/// htpasswd: the right password syncs; a wrong one makes the health check and the sync say
/// so, and the catalog stays.
async fn htpasswd_registry_and_wrong_password(backend: Backend) {
    let upstream = DistributionRegistry::start(Options::htpasswd("puller", "pull-secret-1"));
    distribution::push(
        &upstream.url(),
        "team/web",
        "1.0",
        &image("basic"),
        Some(("puller", "pull-secret-1")),
    )
    .await
    .unwrap();
    let api = Api::start(backend).await;
    let sync = add_registry(
        &api,
        "basic",
        json!({ "kind": "distribution", "url": upstream.url(),
                "username": "puller", "password": "pull-secret-1" }),
    )
    .await;
    assert_eq!(sync["last_error"], Value::Null, "{sync}");
    assert_eq!(sync["repositories"], 1);
    let healthy = api
        .post("/registries/basic/health", api.as_admin(), json!({}))
        .await
        .expect(200);
    assert_eq!(healthy["health"]["status"], "reachable", "{healthy}");
    assert_eq!(
        healthy["health"]["listing"],
        "with Basic authentication; lists its catalog"
    );

    api.patch(
        "/registries/basic",
        api.as_admin(),
        json!({ "password": "wrong-password" }),
    )
    .await
    .expect(200);
    let unhealthy = api
        .post("/registries/basic/health", api.as_admin(), json!({}))
        .await
        .expect(200);
    assert_eq!(unhealthy["health"]["status"], "unreachable");
    let reason = unhealthy["health"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("401") || reason.contains("credentials"),
        "{reason}"
    );
    assert!(!reason.contains("wrong-password"), "{reason}");
    let failed = sync_now(&api, "basic", "full").await;
    let error = failed["last_error"].as_str().unwrap();
    assert!(
        error.contains("401") || error.contains("credentials"),
        "{error}"
    );
    assert!(!error.contains("wrong-password"), "{error}");
    assert_eq!(failed["stale"], true);
    assert_eq!(failed["repositories"], 1, "the last success's counts stay");
    // The catalog of the last success is still there.
    let stored = api
        .server
        .state
        .store
        .stored_catalog(registry_id(&api, "basic").await, None)
        .await
        .unwrap();
    assert!(stored.contains_key("team/web"));
    api.server.stop().await;
}

async fn registry_id(api: &Api, name: &str) -> i64 {
    api.server
        .state
        .store
        .registry(berth_store::registry_records::RegistryOwner::Platform, name)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A second Berth is an OCI registry behind Docker token auth; its tags come in pages.
async fn second_berth_behind_token_auth(backend: Backend) {
    let upstream = crate::support::TestServer::spawn(backend).await;
    let token = upstream.admin_token(&["apps/svc"]).await;
    let svc = image("svc");
    crate::support::push_image(&upstream.url, &token, "apps/svc", &svc, "v0").await;
    // More tags than one page holds (the client asks 100 at a time).
    for n in 1..=120 {
        crate::support::put_manifest(&upstream.url, &token, "apps/svc", &svc, &format!("v{n}"))
            .await;
    }
    let api = Api::start(backend).await;
    let sync = add_registry(
        &api,
        "peer",
        json!({ "kind": "oci", "url": upstream.url,
                "username": "admin", "password": ADMIN_PASSWORD }),
    )
    .await;
    assert_eq!(sync["last_error"], Value::Null, "{sync}");
    assert_eq!(sync["repositories"], 1, "{sync}");
    assert_eq!(sync["tags"], 121, "{sync}");
    let healthy = api
        .post("/registries/peer/health", api.as_admin(), json!({}))
        .await
        .expect(200);
    assert_eq!(healthy["health"]["status"], "reachable", "{healthy}");
    assert!(
        healthy["health"]["listing"]
            .as_str()
            .unwrap()
            .starts_with("with token authentication"),
        "{healthy}"
    );
    api.workspace(WS).await;
    bind(&api, "peer", "apps", &[WS]).await;
    let listed = rows(&api, WS, "peer").await;
    assert_eq!(names(&listed), ["apps/svc"]);
    assert_eq!(listed[0]["tag_count"], 121);
    assert_eq!(listed[0]["registry_kind"], "oci");
    api.server.stop().await;
    upstream.stop().await;
}

/// A Distribution storage of `count` repositories `fleet/service-NNNN`, each tagged `1.0`
/// with one shared image.
fn fleet_storage(count: usize) -> tempfile::TempDir {
    let storage = tempfile::tempdir().unwrap();
    let mut writer = StorageWriter::new(storage.path());
    let shared = image("shared");
    for n in 0..count {
        writer
            .put(&format!("fleet/service-{n:04}"), "1.0", &shared)
            .unwrap();
    }
    storage
}

/// Two `berth serve` processes on one PostgreSQL database: the sync one of them runs is taken
/// over by the other when it is killed, and finishes once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_whose_process_is_killed_is_taken_over() {
    use crate::support::api::{call, Auth};
    use crate::support::BinaryServer;
    use reqwest::Method;

    let storage = fleet_storage(400);
    let upstream = DistributionRegistry::start(Options::default().with_storage(storage.path()));
    let database = berth_testkit::db::TestDatabase::new(Backend::Postgres).await;
    // Both processes share the data dir as replicas share a volume: its key decrypts the
    // registries' stored credentials.
    let data = tempfile::tempdir().unwrap();
    let spawn = || {
        BinaryServer::spawn_with(data.path(), Some(&database.url), |command| {
            command
                .env("BERTH_SYNC_LEASE_SECONDS", "3")
                .env("BERTH_SYNC_CONCURRENCY", "1")
                .env("BERTH_SYNC_WORKERS", "1");
        })
    };
    let first = spawn();
    let admin = Auth::Basic("admin", ADMIN_PASSWORD);
    let first_url = first.url.clone();
    call(
        &first_url,
        Method::POST,
        "/registries",
        admin,
        Some(json!({ "name": "fleet", "kind": "distribution", "url": upstream.url() })),
    )
    .await
    .expect(201);
    // Kill the first process once its sync has made progress.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sync = call(
            &first_url,
            Method::GET,
            "/registries/fleet/sync",
            admin,
            None,
        )
        .await
        .expect(200);
        if sync["progress"]["repositories_seen"].as_u64().unwrap_or(0) > 0 {
            assert_eq!(sync["state"], "running");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first process never synced: {sync}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill();
    let second = spawn();
    let deadline = Instant::now() + Duration::from_secs(180);
    let sync = loop {
        let sync = call(
            &second.url,
            Method::GET,
            "/registries/fleet/sync",
            admin,
            None,
        )
        .await
        .expect(200);
        if sync["state"] == "idle" && sync["last_succeeded_at"].is_string() {
            break sync;
        }
        assert!(
            Instant::now() < deadline,
            "the second process did not finish the sync: {sync}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(sync["repositories"], 400, "{sync}");
    assert_eq!(sync["last_error"], Value::Null);
    // One job ran, taken twice: by the killed process and by its successor.
    let store = berth_store::Store::connect(&database.url).await.unwrap();
    let job = store
        .latest_job(berth_sync::JOB_KIND, &sync_key(&store, "fleet").await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.attempts, 2, "{job:?}");
    assert_eq!(job.state, berth_store::jobs::JobState::Succeeded);
}

async fn sync_key(store: &berth_store::Store, name: &str) -> String {
    store
        .registry(berth_store::registry_records::RegistryOwner::Platform, name)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

/// 2,000 repositories across catalog pages sync; a registry stopped in the middle of the next
/// sync fails it with a reason, and the catalog of the last success stays whole.
async fn stopped_registry_fails_the_sync_and_keeps_the_catalog(backend: Backend) {
    let storage = fleet_storage(2000);
    let mut upstream = DistributionRegistry::start(Options::default().with_storage(storage.path()));
    let api = Api::start(backend).await;
    let sync = add_registry(
        &api,
        "fleet",
        json!({ "kind": "distribution", "url": upstream.url() }),
    )
    .await;
    assert_eq!(sync["last_error"], Value::Null, "{sync}");
    assert_eq!(sync["repositories"], 2000, "{sync}");
    assert_eq!(sync["tags"], 2000);
    api.workspace(WS).await;
    bind(&api, "fleet", "fleet", &[WS]).await;
    assert_eq!(rows(&api, WS, "fleet").await.len(), 500, "a page of 500");
    let total = api
        .get(
            &format!("/workspaces/{WS}/images?registry=fleet&limit=1"),
            api.as_admin(),
        )
        .await
        .expect(200)["total"]
        .clone();
    assert_eq!(total, 2000);

    // Stop the registry while the next sync is under way.
    api.post(
        "/registries/fleet/sync",
        api.as_admin(),
        json!({ "mode": "full" }),
    )
    .await
    .expect(202);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sync = api
            .get("/registries/fleet/sync", api.as_admin())
            .await
            .expect(200);
        if sync["state"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "the sync never ran: {sync}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    upstream.stop();
    let failed = wait_idle(&api, "fleet").await;
    let error = failed["last_error"].as_str().expect("the sync failed");
    assert!(
        error.contains("cannot reach") || error.contains("listing"),
        "{error}"
    );
    assert_eq!(failed["stale"], true);
    assert!(failed["last_succeeded_at"].is_string());
    let total = api
        .get(
            &format!("/workspaces/{WS}/images?registry=fleet&limit=1"),
            api.as_admin(),
        )
        .await
        .expect(200)["total"]
        .clone();
    assert_eq!(total, 2000, "a failed sync empties nothing");
    api.server.stop().await;
}

/// Distribution's notifications, sent with the registry's event secret, sync the repository
/// they name without a sync being asked for; a wrong secret or an unknown registry gets 401,
/// audited.
async fn distribution_notifications_sync_the_repository_within_seconds(backend: Backend) {
    let mut first = DistributionRegistry::start(Options::default());
    distribution::push(&first.url(), "team/web", "1.0", &image("n-1"), None)
        .await
        .unwrap();
    let api = Api::start(backend).await;
    api.workspace(WS).await;
    let sync = add_registry(
        &api,
        "notified",
        json!({ "kind": "distribution", "url": first.url(), "sync_interval_seconds": 0 }),
    )
    .await;
    assert_eq!(sync["repositories"], 1, "{sync}");
    bind(&api, "notified", "team", &[WS]).await;
    let made = api
        .post(
            "/registries/notified/event-secret",
            api.as_admin(),
            json!({}),
        )
        .await
        .expect(201);
    let endpoint = made["endpoint"].as_str().unwrap().to_string();
    let authorization = made["authorization"].as_str().unwrap().to_string();
    assert!(endpoint.starts_with(&api.server.url), "{endpoint}");
    assert!(authorization.starts_with("Bearer "));
    // The secret is shown once: reading the registry never shows it.
    let shown = api
        .get("/registries/notified", api.as_admin())
        .await
        .expect(200);
    assert!(!shown.to_string().contains(&authorization[7..]));

    // The same storage behind a registry that notifies Berth.
    let storage = first.storage_dir().to_path_buf();
    first.stop();
    let notifying = DistributionRegistry::start(Options {
        notifications: Some((
            endpoint.clone(),
            vec![("Authorization".to_string(), authorization.clone())],
        )),
        ..Options::default().with_storage(&storage)
    });
    api.patch(
        "/registries/notified",
        api.as_admin(),
        json!({ "url": notifying.url() }),
    )
    .await
    .expect(200);
    distribution::push(&notifying.url(), "team/web", "2.0", &image("n-2"), None)
        .await
        .unwrap();
    distribution::push(&notifying.url(), "team/new", "1.0", &image("n-3"), None)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = rows(&api, WS, "notified").await;
        let web_tags = tag_names(&api, WS, "notified", "team/web").await;
        if names(&listed) == ["team/new", "team/web"] && web_tags == ["1.0", "2.0"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the notifications did not sync: {:?} {web_tags:?}\n{:?}",
            names(&listed),
            api.server
                .state
                .store
                .live_jobs(berth_sync::JOB_KIND)
                .await
                .unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Refused: a wrong secret, none, and a registry that does not exist.
    let http = crate::support::client();
    let envelope =
        json!({ "events": [{ "action": "push", "target": { "repository": "team/web" } }] });
    for (url, auth) in [
        (endpoint.clone(), Some("Bearer not-the-secret")),
        (endpoint.clone(), None),
        (
            format!("{}/api/v1/registry-events/999999", api.server.url),
            Some(authorization.as_str()),
        ),
    ] {
        let mut request = http.post(&url).json(&envelope);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{url} {auth:?}");
    }
    let refused = api
        .get(
            "/audit?action=registry.event.refused&limit=10",
            api.as_admin(),
        )
        .await
        .expect(200);
    assert_eq!(refused["items"].as_array().unwrap().len(), 3, "{refused}");
    api.server.stop().await;
}

/// A Harbor stand-in: Harbor's REST answers for two projects in the shapes its API gives
/// (`crates/remote/tests/harbor_contract.rs` checks the client against the published spec),
/// and `/v2/` served by a real CNCF registry behind it, as Harbor's own registry is.
mod harbor {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::extract::{Path, Request, State};
    use axum::http::{header, HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{any, delete, get};
    use axum::{Json, Router};
    use serde_json::json;
    use std::sync::Mutex;

    pub const USER: &str = "harbor-admin";
    pub const PASSWORD: &str = "Harbor12345";
    pub const PUSHED: &str = "2024-03-04T05:06:07.000Z";

    #[derive(Default)]
    pub struct Upstream {
        /// The stand-in's base URL, set when it is served.
        pub url: String,
        pub registry: String,
        /// `(project, repository within it, tag, digest)`.
        pub artifacts: Vec<(String, String, String, String)>,
        /// Robot accounts made through the API: id, full name, secret and the request body.
        pub robots: Mutex<Vec<Robot>>,
        /// The bodies of `POST /projects`.
        pub created_projects: Mutex<Vec<serde_json::Value>>,
    }

    #[derive(Debug, Clone)]
    pub struct Robot {
        pub id: i64,
        pub name: String,
        pub secret: String,
        pub body: serde_json::Value,
    }

    impl Upstream {
        pub fn robots(&self) -> Vec<Robot> {
            self.robots.lock().unwrap().clone()
        }
    }

    async fn create_robot(
        State(upstream): State<Arc<Upstream>>,
        headers: HeaderMap,
        Json(body): Json<serde_json::Value>,
    ) -> Response {
        if !authorized(&headers) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let mut robots = upstream.robots.lock().unwrap();
        let id = robots.iter().map(|r| r.id).max().unwrap_or(0) + 1;
        let name = format!(
            "robot${}+{}",
            body["permissions"][0]["namespace"].as_str().unwrap(),
            body["name"].as_str().unwrap()
        );
        let secret = format!("harbor-robot-secret-{id}");
        robots.push(Robot {
            id,
            name: name.clone(),
            secret: secret.clone(),
            body,
        });
        (
            StatusCode::CREATED,
            Json(json!({ "id": id, "name": name, "secret": secret,
                         "creation_time": PUSHED, "expires_at": -1 })),
        )
            .into_response()
    }

    async fn delete_robot(
        State(upstream): State<Arc<Upstream>>,
        headers: HeaderMap,
        Path(id): Path<i64>,
    ) -> Response {
        if !authorized(&headers) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let mut robots = upstream.robots.lock().unwrap();
        let before = robots.len();
        robots.retain(|r| r.id != id);
        if robots.len() == before {
            return StatusCode::NOT_FOUND.into_response();
        }
        StatusCode::OK.into_response()
    }

    async fn create_project(
        State(upstream): State<Arc<Upstream>>,
        headers: HeaderMap,
        Json(body): Json<serde_json::Value>,
    ) -> Response {
        if !authorized(&headers) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let mut created = upstream.created_projects.lock().unwrap();
        created.push(body);
        let id = 10 + created.len();
        (
            StatusCode::CREATED,
            [(header::LOCATION, format!("/api/v2.0/projects/{id}"))],
        )
            .into_response()
    }

    fn authorized(headers: &HeaderMap) -> bool {
        use base64::Engine as _;
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        );
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            == Some(&expected)
    }

    fn page(items: Vec<serde_json::Value>) -> Response {
        let total = items.len().to_string();
        ([("x-total-count", total)], Json(items)).into_response()
    }

    async fn current(headers: HeaderMap) -> Response {
        if !authorized(&headers) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"errors": [{"code": "UNAUTHORIZED", "message": "unauthorized"}]})),
            )
                .into_response();
        }
        Json(json!({ "user_id": 1, "username": USER })).into_response()
    }

    async fn projects(headers: HeaderMap) -> Response {
        if !authorized(&headers) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        page(vec![
            json!({ "project_id": 1, "name": "team", "metadata": { "public": "false" }, "repo_count": 1 }),
            json!({ "project_id": 2, "name": "open", "metadata": { "public": "true" }, "repo_count": 0 }),
        ])
    }

    async fn repositories(
        State(upstream): State<Arc<Upstream>>,
        Path(project): Path<String>,
    ) -> Response {
        let mut names: Vec<String> = upstream
            .artifacts
            .iter()
            .filter(|a| a.0 == project)
            .map(|a| format!("{}/{}", a.0, a.1))
            .collect();
        names.dedup();
        page(
            names
                .into_iter()
                .enumerate()
                .map(|(i, name)| json!({ "id": i + 1, "project_id": 1, "name": name, "artifact_count": 1 }))
                .collect(),
        )
    }

    async fn artifacts(
        State(upstream): State<Arc<Upstream>>,
        Path((project, repository)): Path<(String, String)>,
    ) -> Response {
        // Harbor's paths carry the repository name encoded twice; the router decoded once.
        let repository = percent_encoding::percent_decode_str(&repository)
            .decode_utf8()
            .unwrap()
            .to_string();
        page(
            upstream
                .artifacts
                .iter()
                .filter(|a| a.0 == project && a.1 == repository)
                .enumerate()
                .map(|(i, a)| {
                    json!({
                        "id": i + 1, "type": "IMAGE", "digest": a.3,
                        "media_type": "application/vnd.oci.image.config.v1+json",
                        "manifest_media_type": "application/vnd.oci.image.manifest.v1+json",
                        "size": 100, "push_time": PUSHED, "tags": [{ "name": a.2 }],
                        "extra_attrs": { "architecture": "amd64", "os": "linux" },
                        // Harbor's own scan of it, as `with_scan_overview=true` reports it.
                        "scan_overview": {
                            "application/vnd.security.vulnerability.report; version=1.1": {
                                "report_id": format!("report-{}", i + 1),
                                "scan_status": "Success", "severity": "High",
                                "duration": 4, "complete_percent": 100,
                                "start_time": "2024-03-04T05:07:00Z",
                                "end_time": "2024-03-04T05:07:04Z",
                                "summary": {
                                    "total": 5, "fixable": 3,
                                    "summary": { "High": 2, "Medium": 1, "Low": 2 },
                                },
                                "scanner": {
                                    "name": "Trivy", "vendor": "Aqua Security",
                                    "version": "v0.50.1",
                                },
                            },
                        },
                    })
                })
                .collect(),
        )
    }

    /// `/v2/…` is the real registry's.
    async fn distribution(State(upstream): State<Arc<Upstream>>, request: Request) -> Response {
        let url = format!("{}{}", upstream.registry, request.uri());
        let mut forwarded = reqwest::Client::new().request(request.method().clone(), url);
        if let Some(accept) = request.headers().get(header::ACCEPT) {
            forwarded = forwarded.header(header::ACCEPT, accept);
        }
        let answer = forwarded.send().await.unwrap();
        let mut response = Response::builder().status(answer.status().as_u16());
        for (name, value) in answer.headers() {
            response = response.header(name.as_str(), value.as_bytes());
        }
        response
            .body(Body::from(answer.bytes().await.unwrap()))
            .unwrap()
    }

    /// Serves the stand-in and answers its state, with its base URL, which the test reads.
    pub async fn serve(mut upstream: Upstream) -> Arc<Upstream> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        upstream.url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(upstream);
        let shared = state.clone();
        let app = Router::new()
            .route(
                "/api/v2.0/systeminfo",
                get(|| async {
                    Json(json!({ "harbor_version": "v2.11.0", "auth_mode": "db_auth" }))
                }),
            )
            .route("/api/v2.0/users/current", get(current))
            .route("/api/v2.0/projects", get(projects).post(create_project))
            .route("/api/v2.0/robots", axum::routing::post(create_robot))
            .route("/api/v2.0/robots/{id}", delete(delete_robot))
            .route(
                "/api/v2.0/projects/{project}/repositories",
                get(repositories),
            )
            .route(
                "/api/v2.0/projects/{project}/repositories/{repository}/artifacts",
                get(artifacts),
            )
            .route("/v2/", any(distribution))
            .route("/v2/{*rest}", any(distribution))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        shared
    }
}

/// A Harbor stand-in holding `team/web:1.0` (an image made from `seed`) in front of a real
/// registry, and a Berth with it added as platform registry `harbor`, its first sync queued.
async fn harbor_with_team_web(
    backend: Backend,
    seed: &str,
) -> (
    DistributionRegistry,
    Image,
    std::sync::Arc<harbor::Upstream>,
    Api,
) {
    let backing = DistributionRegistry::start(Options::default());
    let web = image(seed);
    distribution::push(&backing.url(), "team/web", "1.0", &web, None)
        .await
        .unwrap();
    let upstream = harbor::serve(harbor::Upstream {
        registry: backing.url(),
        artifacts: vec![(
            "team".into(),
            "web".into(),
            "1.0".into(),
            web.manifest.digest.clone(),
        )],
        ..Default::default()
    })
    .await;
    let api = Api::start(backend).await;
    add_registry(
        &api,
        "harbor",
        json!({ "kind": "harbor", "url": upstream.url,
                "username": harbor::USER, "password": harbor::PASSWORD }),
    )
    .await;
    (backing, web, upstream, api)
}

/// A Harbor registry: its projects become spaces with Harbor's public flag (empty ones too),
/// and its push times are shown, where Distribution's are unknown.
async fn harbor_projects_become_spaces_with_push_times(backend: Backend) {
    let (backing, web, _, api) = harbor_with_team_web(backend, "harbor-web").await;
    api.workspace(WS).await;
    let sync = wait_idle(&api, "harbor").await;
    assert_eq!(sync["last_error"], Value::Null, "{sync}");
    assert_eq!(sync["repositories"], 1, "{sync}");
    let spaces = api
        .get("/registries/harbor/spaces", api.as_admin())
        .await
        .expect(200);
    let mut found: Vec<(String, bool)> = spaces["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["public"].as_bool().unwrap(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [("open".to_string(), true), ("team".to_string(), false)],
        "{spaces}"
    );
    bind(&api, "harbor", "team", &[WS]).await;
    let listed = rows(&api, WS, "harbor").await;
    assert_eq!(names(&listed), ["team/web"]);
    assert_eq!(listed[0]["registry_kind"], "harbor");
    assert_eq!(listed[0]["pushed_at"], "2024-03-04T05:06:07Z");
    let artifact = artifact_page(&api, WS, "harbor", "team/web", &web.manifest.digest).await;
    assert_eq!(artifact["pushed_at"], "2024-03-04T05:06:07Z");
    // Harbor's own scan shows where Berth has not scanned the image, saying whose it is.
    let scan = &artifact["scan"];
    assert_eq!(scan["status"], "success", "{scan}");
    assert_eq!(scan["source"], "harbor");
    assert_eq!(scan["scanner"]["name"], "Trivy");
    assert_eq!(scan["scanner"]["version"], "v0.50.1");
    assert_eq!(scan["severity"], "high");
    assert_eq!(
        (
            &scan["counts"]["high"],
            &scan["counts"]["medium"],
            &scan["counts"]["low"]
        ),
        (&json!(2), &json!(1), &json!(2))
    );
    assert_eq!((&scan["total"], &scan["fixable"]), (&json!(5), &json!(3)));
    assert_eq!(scan["finished_at"], "2024-03-04T05:07:04Z");
    assert_eq!(artifact["layers"].as_array().unwrap().len(), 2);
    let healthy = api
        .post("/registries/harbor/health", api.as_admin(), json!({}))
        .await
        .expect(200);
    assert_eq!(healthy["health"]["status"], "reachable", "{healthy}");

    // Webhook intake: Harbor's PUSH_ARTIFACT, with the auth header its policy was given,
    // syncs the repository within seconds, without a sync of the registry.
    let made = api
        .post("/registries/harbor/event-secret", api.as_admin(), json!({}))
        .await
        .expect(201);
    let web2 = image("harbor-web-2");
    distribution::push(&backing.url(), "team/web", "2.0", &web2, None)
        .await
        .unwrap();
    let webhook = json!({
        "type": "PUSH_ARTIFACT", "occur_at": 1_714_000_000, "operator": "admin",
        "event_data": {
            "resources": [{ "digest": web2.manifest.digest, "tag": "2.0",
                            "resource_url": "harbor.example.com/team/web:2.0" }],
            "repository": { "date_created": 1_714_000_000, "name": "web", "namespace": "team",
                            "repo_full_name": "team/web", "repo_type": "private" },
        },
    });
    let response = crate::support::client()
        .post(made["endpoint"].as_str().unwrap())
        .header("authorization", made["authorization"].as_str().unwrap())
        .json(&webhook)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let deadline = Instant::now() + Duration::from_secs(20);
    while tag_names(&api, WS, "harbor", "team/web").await != ["1.0", "2.0"] {
        assert!(
            Instant::now() < deadline,
            "the webhook did not sync team/web"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    api.server.stop().await;
}

/// Waits until the Harbor stand-in holds robots for exactly `workspaces` (by name), and
/// answers them in that order.
async fn harbor_robots_for(upstream: &harbor::Upstream, workspaces: &[&str]) -> Vec<harbor::Robot> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let robots = upstream.robots();
        let found: Option<Vec<harbor::Robot>> = workspaces
            .iter()
            .map(|ws| {
                let prefix = format!("berth-{ws}-");
                robots
                    .iter()
                    .find(|r| r.body["name"].as_str().unwrap().starts_with(&prefix))
                    .cloned()
            })
            .collect();
        if let Some(found) = found.filter(|f| f.len() == robots.len()) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "Harbor holds robots {:?}, not ones for {workspaces:?}",
            robots.iter().map(|r| &r.name).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Binding a Harbor project makes a robot of the workspace in it, scoped to the project, which
/// pull secrets and push logins hand out; unbinding and deleting the workspace delete it in
/// Harbor; a space made in Berth is made in Harbor first.
async fn harbor_bindings_make_robots_that_pull_secrets_and_push_logins_hand_out(backend: Backend) {
    let (_backing, _, upstream, api) = harbor_with_team_web(backend, "harbor-robots").await;
    let url = upstream.url.clone();
    api.workspace(WS).await;
    api.workspace(OTHER_WS).await;
    bind(&api, "harbor", "team", &[WS, OTHER_WS]).await;
    let robots = harbor_robots_for(&upstream, &[WS, OTHER_WS]).await;
    // The body Harbor's API takes for a project robot that pulls and pushes, forever.
    assert_eq!(robots[0].body["level"], "project");
    assert_eq!(robots[0].body["duration"], -1);
    assert_eq!(
        robots[0].body["permissions"],
        json!([{ "kind": "project", "namespace": "team", "access": [
            { "resource": "repository", "action": "pull" },
            { "resource": "repository", "action": "push" },
        ]}])
    );
    let mine = &robots[0];

    // The pull secret carries the workspace's robot for the project, beside Berth's own.
    let harbor_host = url.trim_start_matches("http://");
    let secret = api
        .post(
            &format!("/workspaces/{WS}/pull-secret"),
            api.as_admin(),
            json!({ "namespace": "apps", "name": "regcred" }),
        )
        .await
        .expect(200);
    let config = crate::support::docker_config(&secret);
    let project_key = format!("{harbor_host}/team");
    let login = &config["auths"][&project_key];
    assert_eq!(login["username"], mine.name, "{config}");
    assert_eq!(login["password"], mine.secret);
    assert!(config["auths"][&api.server.host].is_object(), "{config}");
    assert!(!config.to_string().contains(harbor::PASSWORD));

    // A push login for the project is the same robot, and only for who may hold it.
    let push = api
        .get(
            &format!("/workspaces/{WS}/registries/harbor/spaces/team/push-command?temporary=true"),
            api.as_admin(),
        )
        .await
        .expect(200);
    assert_eq!(push["login"]["username"], mine.name, "{push}");
    assert!(push.to_string().contains(&mine.secret), "{push}");
    let viewer = api.user("harbor-viewer").await;
    api.member(WS, "harbor-viewer", "viewer").await;
    api.get(
        &format!("/workspaces/{WS}/registries/harbor/spaces/team/push-command?temporary=true"),
        crate::support::api::Auth::Bearer(&viewer),
    )
    .await
    .expect(403);

    // Unbinding deletes the other workspace's robot in Harbor; deleting the workspace its own.
    bind(&api, "harbor", "team", &[WS]).await;
    harbor_robots_for(&upstream, &[WS]).await;
    let after = api
        .post(
            &format!("/workspaces/{OTHER_WS}/pull-secret"),
            api.as_admin(),
            json!({ "namespace": "apps", "name": "regcred" }),
        )
        .await
        .expect(200);
    let config = crate::support::docker_config(&after);
    assert!(!config.to_string().contains(&project_key), "{config}");
    api.delete(&format!("/workspaces/{WS}"), api.as_admin())
        .await
        .expect(204);
    harbor_robots_for(&upstream, &[]).await;

    // A space made in Berth is a Harbor project first, with its public flag.
    api.post(
        "/registries/harbor/spaces",
        api.as_admin(),
        json!({ "name": "fresh", "public": true }),
    )
    .await
    .expect(201);
    assert_eq!(
        *upstream.created_projects.lock().unwrap(),
        [json!({ "project_name": "fresh", "metadata": { "public": "true" } })]
    );
    api.server.stop().await;
}

/// One image list holds the hosted registry's images, a platform registry's bound space and
/// the workspace's own registry, each with why the workspace sees it; another workspace sees
/// none of the workspace registry's images.
async fn hosted_platform_and_workspace_registries_share_one_list(backend: Backend) {
    let platform = DistributionRegistry::start(Options::default());
    distribution::push(&platform.url(), "team/web", "1.0", &image("p"), None)
        .await
        .unwrap();
    let own = DistributionRegistry::start(Options::default());
    distribution::push(&own.url(), "mine/tool", "1.0", &image("w"), None)
        .await
        .unwrap();
    let api = Api::start(backend).await;
    api.workspace(WS).await;
    api.workspace(OTHER_WS).await;
    add_registry(
        &api,
        "dist",
        json!({ "kind": "distribution", "url": platform.url() }),
    )
    .await;
    bind(&api, "dist", "team", &[WS]).await;
    // The workspace connects its own registry; its first sync runs under the workspace's path.
    api.post(
        &format!("/workspaces/{WS}/registries"),
        api.as_admin(),
        json!({ "name": "own", "kind": "distribution", "url": own.url() }),
    )
    .await
    .expect(201);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sync = api
            .get(
                &format!("/workspaces/{WS}/registries/own/sync"),
                api.as_admin(),
            )
            .await
            .expect(200);
        if sync["state"] == "idle" && sync["last_succeeded_at"].is_string() {
            assert_eq!(sync["repositories"], 1, "{sync}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the workspace registry did not sync: {sync}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A hosted image in a public space.
    let token = api.server.admin_token(&["library/base"]).await;
    crate::support::push_image(&api.server.url, &token, "library/base", &image("h"), "1.0").await;

    let list = api
        .get(
            &format!("/workspaces/{WS}/images?limit=100"),
            api.as_admin(),
        )
        .await
        .expect(200);
    let mut seen: Vec<(String, String, Value, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["registry"].as_str().unwrap().to_string(),
                r["repository"].as_str().unwrap().to_string(),
                r["sources"].clone(),
                r["visibility"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(
        seen,
        [
            (
                "dist".into(),
                "team/web".into(),
                json!(["bound"]),
                "private".into()
            ),
            (
                "hosted".into(),
                "library/base".into(),
                json!(["public"]),
                "public".into()
            ),
            (
                "own".into(),
                "mine/tool".into(),
                json!(["workspace-registry"]),
                "private".into()
            ),
        ],
        "{list}"
    );
    let other = api
        .get(
            &format!("/workspaces/{OTHER_WS}/images?limit=100"),
            api.as_admin(),
        )
        .await
        .expect(200);
    let other_names: Vec<&str> = other["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repository"].as_str().unwrap())
        .collect();
    assert_eq!(other_names, ["library/base"], "{other}");
    api.server.stop().await;
}
