//! The workspace image list (`GET /api/v1/workspaces/{ws}/images`): the visibility rule with
//! its reasons, every query option, keyset paging, and changes showing on the next request.
//! Every body runs on SQLite and PostgreSQL.

use berth_store::hosted::Platform;
use berth_store::repositories::{SyncedRepository, SyncedTag};
use berth_testkit::{layer, ImageBuilder};
use serde_json::{json, Value};

use crate::support::api::{Api, Auth};
use crate::support::{bind, push_image, Backend};

crate::on_both_backends!(
    list_follows_the_rule_with_reasons,
    every_query_option,
    cursor_pages_are_stable_under_pushes,
    binding_changes_show_on_the_next_request,
);

/// A deployment with two workspaces and images from every source:
/// - `library/alpine` (hosted, public) — every workspace;
/// - `both/tool` (hosted, public and bound to `ws-a`) — listed once with two reasons;
/// - `team-a/api`, `team-a/worker` (hosted, private, bound to `ws-a`);
/// - `secret/hidden` (hosted, private, bound to `ws-b` only);
/// - `ext/nginx` (platform registry `harbor-eu`, public space);
/// - `vault/db` (platform registry `harbor-eu`, private space bound to nobody);
/// - `mine/tool` (`ws-a`'s own registry `own`).
struct World {
    api: Api,
    alice: String,
    bob: String,
}

async fn world(backend: Backend) -> World {
    let api = Api::start(backend).await;
    for ws in ["ws-a", "ws-b"] {
        api.workspace(ws).await;
    }
    let alice = api.user("alice").await;
    let bob = api.user("bob").await;
    api.member("ws-a", "alice", "viewer").await;
    api.member("ws-b", "bob", "viewer").await;
    for (space, public) in [("both", true), ("team-a", false), ("secret", false)] {
        api.post(
            "/registries/hosted/spaces",
            api.as_admin(),
            json!({"name": space, "public": public}),
        )
        .await
        .expect(201);
    }
    let store = &api.server.state.store;
    bind(store, "both", &["ws-a"]).await;
    bind(store, "team-a", &["ws-a"]).await;
    bind(store, "secret", &["ws-b"]).await;

    let token = api.server.admin_token(&[]).await;
    let pushes: [(&str, &[&str]); 5] = [
        ("library/alpine", &["3.19", "latest"]),
        ("both/tool", &["1.0"]),
        ("team-a/api", &["v1.0.0", "latest"]),
        ("team-a/worker", &["nightly"]),
        ("secret/hidden", &["latest"]),
    ];
    for (i, (repository, tags)) in pushes.iter().enumerate() {
        let token = api.server.admin_token(&[repository]).await;
        let image = ImageBuilder::new()
            .layer(
                layer(&[("file", format!("{repository}-{i}").repeat(i + 1).as_bytes())]),
                "COPY file /",
            )
            .build();
        for tag in *tags {
            push_image(&api.server.url, &token, repository, &image, tag).await;
        }
    }
    drop(token);

    api.post(
        "/registries",
        api.as_admin(),
        json!({"name": "harbor-eu", "kind": "harbor", "url": "https://harbor-eu.example.com"}),
    )
    .await
    .expect(201);
    // No Harbor runs here, and the API would create a Harbor space in Harbor first; a sync of
    // its projects would make them so.
    let harbor_eu = registry_id(&api, None, "harbor-eu").await;
    for (space, public) in [("ext", true), ("vault", false)] {
        crate::support::create_space_in(
            &api.server.state.store,
            (harbor_eu, "harbor-eu"),
            space,
            public,
        )
        .await;
    }
    api.post(
        "/workspaces/ws-a/registries",
        api.as_admin(),
        json!({"name": "own", "kind": "distribution", "url": "http://own.example.com:5000"}),
    )
    .await
    .expect(201);
    let harbor = registry_id(&api, None, "harbor-eu").await;
    let own = registry_id(&api, Some("ws-a"), "own").await;
    let own_space_audit = berth_store::audit::NewAuditEvent {
        actor: "test",
        action: "space.create",
        target: "own/mine",
        ..Default::default()
    };
    store
        .create_space(own, "mine", false, "", &own_space_audit)
        .await
        .unwrap();
    store
        .sync_repositories(
            harbor,
            &[
                synced("ext/nginx", &[("1.25", 100), ("mainline", 200)]),
                synced("vault/db", &[("16", 50)]),
            ],
        )
        .await
        .unwrap();
    store
        .sync_repositories(own, &[synced("mine/tool", &[("edge", 300)])])
        .await
        .unwrap();
    World { api, alice, bob }
}

async fn registry_id(api: &Api, workspace: Option<&str>, name: &str) -> i64 {
    let owner = match workspace {
        None => berth_store::registry_records::RegistryOwner::Platform,
        Some(ws) => berth_store::registry_records::RegistryOwner::Workspace(
            api.server
                .state
                .store
                .workspace(ws)
                .await
                .unwrap()
                .unwrap()
                .id,
        ),
    };
    api.server
        .state
        .store
        .registry(owner, name)
        .await
        .unwrap()
        .unwrap()
        .id
}

fn synced(name: &str, tags: &[(&str, i64)]) -> SyncedRepository {
    SyncedRepository {
        name: name.into(),
        description: format!("{name} from upstream"),
        tags: tags
            .iter()
            .enumerate()
            .map(|(i, (tag, size))| SyncedTag {
                name: tag.to_string(),
                digest: format!("sha256:{:064x}", i as u64 + name.len() as u64 * 1000),
                media_type: "application/vnd.oci.image.manifest.v1+json".into(),
                manifest: b"{}".to_vec(),
                size: *size,
                pushed_at: 1_700_000_000_000 + i as i64,
                platform: Platform {
                    os: Some("linux".into()),
                    architecture: Some("amd64".into()),
                    variant: None,
                },
                children: Vec::new(),
                pushed_at_known: true,
                facts: Default::default(),
            })
            .collect(),
    }
}

fn repositories(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|row| row["repository"].as_str().unwrap().to_string())
        .collect()
}

async fn list(api: &Api, auth: Auth<'_>, ws: &str, query: &str) -> Value {
    api.get(&format!("/workspaces/{ws}/images?{query}"), auth)
        .await
        .expect(200)
}

async fn list_follows_the_rule_with_reasons(backend: Backend) {
    let World { api, alice, bob } = world(backend).await;
    let page = list(&api, Auth::Bearer(&alice), "ws-a", "").await;
    assert_eq!(
        repositories(&page),
        [
            "both/tool",
            "ext/nginx",
            "library/alpine",
            "mine/tool",
            "team-a/api",
            "team-a/worker"
        ]
    );
    assert_eq!(page["total"], 6);
    let rows = page["items"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|r| r["repository"] == name).unwrap();
    assert_eq!(
        row("both/tool")["sources"],
        json!(["public", "bound"]),
        "seen two ways, listed once with both reasons"
    );
    assert_eq!(row("ext/nginx")["sources"], json!(["public"]));
    assert_eq!(row("mine/tool")["sources"], json!(["workspace-registry"]));
    assert_eq!(row("team-a/api")["sources"], json!(["bound"]));

    let api_row = row("team-a/api");
    assert_eq!(api_row["registry"], "hosted");
    assert_eq!(api_row["space"], "team-a");
    assert_eq!(
        api_row["reference"],
        format!("{}/team-a/api", api.server.host)
    );
    assert_eq!(api_row["visibility"], "private");
    assert_eq!(api_row["tag_count"], 2);
    assert_eq!(api_row["latest_tag"], "latest");
    assert!(api_row["size"].as_i64().unwrap() > 0);
    assert!(api_row["pushed_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(api_row["pulls"], 0);
    assert_eq!(api_row["description"], "");
    // Tagged pushes are scanned: the row carries the latest tag's scan.
    assert!(api_row["scan"]["status"].is_string(), "{api_row}");
    let nginx = row("ext/nginx");
    assert_eq!(nginx["reference"], "harbor-eu.example.com/ext/nginx");
    assert_eq!(nginx["registry_kind"], "harbor");
    assert_eq!(nginx["size"], 200, "the latest tag's artifact");
    assert_eq!(nginx["description"], "ext/nginx from upstream");
    assert_eq!(
        row("mine/tool")["reference"],
        "own.example.com:5000/mine/tool"
    );

    // ws-b sees its bound space and the public ones, never ws-a's private or own registry.
    let page = list(&api, Auth::Bearer(&bob), "ws-b", "").await;
    assert_eq!(
        repositories(&page),
        ["both/tool", "ext/nginx", "library/alpine", "secret/hidden"]
    );
    // Another workspace's list is a missing one; a platform admin may open any.
    api.get("/workspaces/ws-a/images", Auth::Bearer(&bob))
        .await
        .error(404, "not_found", "workspace `ws-a`");
    let page = list(&api, api.as_admin(), "ws-b", "").await;
    assert_eq!(page["total"], 4);
    api.get("/workspaces/ws-a/images", Auth::Anonymous)
        .await
        .error(401, "unauthorized", "");
}

async fn every_query_option(backend: Backend) {
    let World { api, alice, .. } = world(backend).await;
    let me = Auth::Bearer(&alice);
    let names = |query: &'static str| {
        let api = &api;
        async move { repositories(&list(api, me, "ws-a", query).await) }
    };
    assert_eq!(names("q=TEAM-A/").await, ["team-a/api", "team-a/worker"]);
    assert_eq!(names("q=tool").await, ["both/tool", "mine/tool"]);
    assert_eq!(names("q=nothing-like-this").await, Vec::<String>::new());
    assert_eq!(names("tag=V1.").await, ["team-a/api"]);
    assert_eq!(names("tag=latest").await, ["library/alpine", "team-a/api"]);
    assert_eq!(names("tag=main").await, ["ext/nginx"]);
    assert_eq!(names("q=team&tag=night").await, ["team-a/worker"]);
    assert_eq!(names("registry=harbor-eu").await, ["ext/nginx"]);
    assert_eq!(names("registry=own").await, ["mine/tool"]);
    assert_eq!(names("space=team-a").await, ["team-a/api", "team-a/worker"]);
    assert_eq!(
        names("visibility=private").await,
        ["mine/tool", "team-a/api", "team-a/worker"]
    );
    assert_eq!(
        names("visibility=public").await,
        ["both/tool", "ext/nginx", "library/alpine"]
    );
    assert_eq!(
        names("source=public").await,
        ["both/tool", "ext/nginx", "library/alpine"]
    );
    assert_eq!(
        names("source=bound").await,
        ["both/tool", "team-a/api", "team-a/worker"]
    );
    assert_eq!(names("source=workspace-registry").await, ["mine/tool"]);
    let page = list(&api, me, "ws-a", "q=team&limit=1").await;
    assert_eq!(page["total"], 2, "total counts every match, not the page");

    // Sorting by size: the rows' sizes are monotonic, and the two orders mirror each other.
    let by_size = list(&api, me, "ws-a", "sort=size&order=desc").await;
    let sizes: Vec<i64> = by_size["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["size"].as_i64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    assert_eq!(
        repositories(&by_size).last().unwrap(),
        "ext/nginx",
        "200 bytes, the smallest"
    );
    let ascending = repositories(&list(&api, me, "ws-a", "sort=size&order=asc").await);
    let mut descending = repositories(&by_size);
    descending.reverse();
    assert_eq!(ascending, descending);
    let by_push = names("sort=pushed_at").await;
    assert_eq!(by_push.len(), 6);
    assert_eq!(
        &by_push[4..],
        ["ext/nginx", "mine/tool"],
        "newest first by default; the synced ones were pushed in 2023, nginx's a moment later"
    );
    assert_eq!(
        names("sort=pushed_at&order=asc").await,
        by_push.iter().rev().cloned().collect::<Vec<_>>()
    );
    assert_eq!(
        names("sort=name&order=desc").await.first().unwrap(),
        "team-a/worker"
    );

    // Pulls: pull team-a/api twice, then it leads the pull order.
    let token = api.server.admin_token(&["team-a/api"]).await;
    for _ in 0..2 {
        let response = crate::support::client()
            .get(format!("{}/v2/team-a/api/manifests/latest", api.server.url))
            .bearer_auth(&token)
            .header("accept", "application/vnd.oci.image.manifest.v1+json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    api.server.flush_pulls().await;
    let page = list(&api, me, "ws-a", "sort=pulls").await;
    assert_eq!(repositories(&page)[0], "team-a/api");
    assert_eq!(page["items"][0]["pulls"], 2);

    // Bad options say what is wrong.
    for (query, needle) in [
        ("sort=stars", "sort must be"),
        ("order=up", "order must be"),
        ("visibility=secret", "visibility must be"),
        ("source=friends", "source must be"),
        ("limit=0", "limit must be"),
        ("limit=501", "limit must be"),
        ("cursor=!!!", "cursor"),
    ] {
        api.get(&format!("/workspaces/ws-a/images?{query}"), me)
            .await
            .error(400, "invalid", needle);
    }
    let page = list(&api, me, "ws-a", "limit=2").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    api.get(
        &format!("/workspaces/ws-a/images?sort=pulls&cursor={cursor}"),
        me,
    )
    .await
    .error(400, "invalid", "another sort");
    assert_eq!(list(&api, me, "ws-a", "limit=500").await["total"], 6);
}

async fn cursor_pages_are_stable_under_pushes(backend: Backend) {
    let World { api, alice, .. } = world(backend).await;
    let me = Auth::Bearer(&alice);
    for (sort, order) in [
        ("name", "asc"),
        ("pushed_at", "desc"),
        ("pulls", "desc"),
        ("size", "asc"),
    ] {
        let mut seen = Vec::new();
        let mut query = format!("sort={sort}&order={order}&limit=2");
        let mut pushed = false;
        loop {
            let page = list(&api, me, "ws-a", &query).await;
            assert_eq!(
                page["total"], 6,
                "{sort}: a push to an existing repository adds no row"
            );
            seen.extend(repositories(&page));
            // A push between pages moves `team-a/api` to the front of the push order; keyset
            // paging neither repeats nor skips the rows that did not move.
            if !pushed {
                let token = api.server.admin_token(&["team-a/api"]).await;
                let image = ImageBuilder::new()
                    .layer(layer(&[("new", sort.as_bytes())]), "COPY new /")
                    .build();
                push_image(&api.server.url, &token, "team-a/api", &image, sort).await;
                pushed = true;
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    query = format!("sort={sort}&order={order}&limit=2&cursor={cursor}")
                }
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{sort}: no row twice: {seen:?}");
        for must in [
            "both/tool",
            "ext/nginx",
            "library/alpine",
            "mine/tool",
            "team-a/worker",
        ] {
            assert!(
                seen.iter().any(|s| s == must),
                "{sort}: {must} skipped: {seen:?}"
            );
        }
    }
}

async fn binding_changes_show_on_the_next_request(backend: Backend) {
    let World { api, alice, .. } = world(backend).await;
    let me = Auth::Bearer(&alice);
    let store = &api.server.state.store;
    assert!(repositories(&list(&api, me, "ws-a", "").await).contains(&"team-a/api".to_string()));
    bind(store, "team-a", &[]).await;
    let names = repositories(&list(&api, me, "ws-a", "").await);
    assert!(!names.iter().any(|n| n.starts_with("team-a/")), "{names:?}");
    // Bound through the API this time; the very next request sees it.
    api.put(
        "/registries/hosted/spaces/secret/bindings",
        api.as_admin(),
        json!({"workspaces": ["ws-a", "ws-b"]}),
    )
    .await
    .expect(200);
    let page = list(&api, me, "ws-a", "").await;
    assert!(repositories(&page).contains(&"secret/hidden".to_string()));
    // Making a space public adds it to every workspace, with the reason.
    api.patch(
        "/registries/harbor-eu/spaces/vault",
        api.as_admin(),
        json!({"public": true}),
    )
    .await
    .expect(200);
    let page = list(&api, me, "ws-a", "q=vault").await;
    assert_eq!(repositories(&page), ["vault/db"]);
    assert_eq!(page["items"][0]["sources"], json!(["public"]));
    // Deleting the workspace's own registry takes its images out of the list.
    api.delete("/workspaces/ws-a/registries/own", api.as_admin())
        .await
        .expect(204);
    let names = repositories(&list(&api, me, "ws-a", "").await);
    assert!(!names.contains(&"mine/tool".to_string()), "{names:?}");
    // Removing the member ends their view on the very next request with the same session,
    // though the server remembers checked sessions.
    api.delete("/workspaces/ws-a/members/alice", api.as_admin())
        .await
        .expect(204);
    api.get("/workspaces/ws-a/images", me)
        .await
        .error(404, "not_found", "workspace `ws-a`");
    api.member("ws-a", "alice", "viewer").await;
    list(&api, me, "ws-a", "").await;
    // Deleting the workspace and making another of the same name is not the same workspace.
    api.delete("/workspaces/ws-a", api.as_admin())
        .await
        .expect(204);
    api.get("/workspaces/ws-a/images", me)
        .await
        .error(404, "not_found", "workspace `ws-a`");
}
