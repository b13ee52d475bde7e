//! The pull-through proxy: a private space of a CNCF Distribution registry with htpasswd
//! auth, served by Berth as `<berth>/<registry>/<repository>` under its own token service, to
//! real skopeo holding only Berth credentials; refused to an unbound workspace exactly as a
//! hosted private space is; and served from Berth's cache once the upstream is gone.

use std::time::{Duration, Instant};

use berth_oci::Digest;
use berth_testkit::distribution::{DistributionRegistry, Options};
use berth_testkit::{layer, Image, ImageBuilder};
use serde_json::{json, Value};

use crate::skopeo::{oci_layout, Skopeo};
use crate::support::api::Api;
use crate::support::{bind, client, create_robot, create_space, push_image, Backend};
use sha2::Digest as _;

crate::on_both_backends!(
    multi_thread:
    a_private_distribution_space_is_pulled_through_berth,
);

const UPSTREAM_USER: &str = "puller";
const UPSTREAM_PASSWORD: &str = "upstream-secret-7f3a";

fn image() -> Image {
    ImageBuilder::new()
        .platform("linux", "amd64", None)
        .created("2024-05-01T10:00:00Z")
        .layer(
            layer(&[("etc/proxied", b"through berth\n")]),
            "ADD proxied /etc/proxied",
        )
        .layer(layer(&[("app/run", b"#!/bin/sh\n")]), "COPY run /app/run")
        .build()
}

/// Polls the registry's sync state until a sync has finished and none is queued or running.
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
        assert!(Instant::now() < deadline, "the sync of {name} did not end");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What `/v2` answers `credentials` (or an anonymous client) for a manifest GET (`push`
/// false) or an upload POST (`push` true) on `repository`, with a token asked for the scope a
/// client would ask: status, error code, and the message with the repository's and its
/// space's names replaced, so a proxied and a hosted repository can be compared.
async fn answer(
    api: &Api,
    credentials: Option<(&str, &str)>,
    (repository, space): (&str, &str),
    push: bool,
) -> (u16, String, String) {
    let actions = if push { "pull,push" } else { "pull" };
    let token = api
        .server
        .token(
            credentials,
            &[&format!("repository:{repository}:{actions}")],
        )
        .await;
    let url = &api.server.url;
    let request = if push {
        client().post(format!("{url}/v2/{repository}/blobs/uploads/"))
    } else {
        client()
            .get(format!("{url}/v2/{repository}/manifests/1.0"))
            .header("accept", berth_testkit::image::OCI_MANIFEST)
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    (
        status,
        body["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .replace(repository, "<repository>")
            .replace(&format!("`{space}`"), "`<space>`"),
    )
}

async fn a_private_distribution_space_is_pulled_through_berth(backend: Backend) {
    let mut upstream =
        DistributionRegistry::start(Options::htpasswd(UPSTREAM_USER, UPSTREAM_PASSWORD));
    let image = image();
    // skopeo pushes the image to the real registry, as a user of it would.
    let direct = Skopeo::new(
        &upstream.addr().to_string(),
        Some((UPSTREAM_USER, UPSTREAM_PASSWORD)),
    );
    let upstream_copy = direct.image("team/web:1.0");
    let source = oci_layout("1.0", &image);
    direct.copy(&[], &source.reference, &upstream_copy).await;
    let api = Api::start(backend).await;
    let store = api.server.state.store.clone();
    api.workspace("team-a").await;
    api.workspace("team-b").await;
    api.post(
        "/registries",
        api.as_admin(),
        json!({ "name": "dist", "kind": "distribution", "url": upstream.url(),
                "username": UPSTREAM_USER, "password": UPSTREAM_PASSWORD }),
    )
    .await
    .expect(201);
    let sync = wait_idle(&api, "dist").await;
    assert_eq!(sync["last_error"], Value::Null, "{sync}");
    api.put(
        "/registries/dist/spaces/team/bindings",
        api.as_admin(),
        json!({ "workspaces": ["team-a"] }),
    )
    .await
    .expect(200);
    let (robot_a, secret_a) = create_robot(&store, "team-a", "puller", true, true).await;
    let (robot_b, secret_b) = create_robot(&store, "team-b", "puller", true, true).await;

    // The synced details are what skopeo reads from the upstream copy.
    let raw = direct.ok(&[], "inspect", &["--raw", &upstream_copy]).await;
    let config: Value = serde_json::from_slice(
        &direct
            .ok(&[], "inspect", &["--config", "--raw", &upstream_copy])
            .await,
    )
    .unwrap();
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    let upstream_digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&raw)));
    let page = api
        .get(
            &format!("/workspaces/team-a/registries/dist/repositories/team%2Fweb/artifacts/{upstream_digest}"),
            api.as_admin(),
        )
        .await
        .expect(200);
    assert_eq!(page["manifest"], manifest, "{page}");
    assert_eq!(page["tags"], json!(["1.0"]));
    let layers = manifest["layers"].as_array().unwrap();
    let sizes = |descriptors: &[&Value]| -> u64 {
        descriptors
            .iter()
            .map(|d| d["size"].as_u64().unwrap())
            .sum()
    };
    let referenced: Vec<&Value> = layers.iter().chain([&manifest["config"]]).collect();
    assert_eq!(page["size"], raw.len() as u64 + sizes(&referenced));
    let shown_layers = page["layers"].as_array().unwrap();
    assert_eq!(shown_layers.len(), layers.len());
    for (shown, layer) in shown_layers.iter().zip(layers) {
        assert_eq!(shown["digest"], layer["digest"]);
        assert_eq!(shown["size"], layer["size"]);
        assert_eq!(shown["media_type"], layer["mediaType"]);
    }
    let history = config["history"].as_array().unwrap();
    let shown_history = page["history"].as_array().unwrap();
    assert_eq!(shown_history.len(), history.len());
    for (shown, step) in shown_history.iter().zip(history) {
        assert_eq!(shown["created_by"], step["created_by"]);
        assert_eq!(
            shown["empty_layer"],
            step["empty_layer"].as_bool().unwrap_or(false)
        );
    }
    assert_eq!(page["config"]["created"], config["created"]);
    assert_eq!(page["platforms"][0]["os"], config["os"]);
    assert_eq!(page["platforms"][0]["architecture"], config["architecture"]);
    assert_eq!(
        page["pushed_at"],
        Value::Null,
        "Distribution tells no push time"
    );

    // Workspace A's robot pulls with its Berth credential alone, the same image as a direct
    // pull from the registry.
    let skopeo_a = Skopeo::new(&api.server.host, Some((&robot_a, &secret_a)));
    let proxied = skopeo_a.image("dist/team/web:1.0");
    let inspect: Value =
        serde_json::from_slice(&skopeo_a.ok(&[], "inspect", &[&proxied]).await).unwrap();
    assert_eq!(inspect["Digest"], upstream_digest);
    assert_eq!(upstream_digest, image.manifest.digest);
    direct
        .pulls_intact(&[], &upstream_copy, "1.0", &image)
        .await;
    skopeo_a.pulls_intact(&[], &proxied, "1.0", &image).await;

    // The image list, detail page and selector point at the proxied address.
    let host = &api.server.host;
    let list = api
        .get("/workspaces/team-a/images?registry=dist", api.as_admin())
        .await
        .expect(200);
    assert_eq!(
        list["items"][0]["reference"],
        format!("{host}/dist/team/web"),
        "{list}"
    );
    let selector = api
        .get("/workspaces/team-a/selector?q=web", api.as_admin())
        .await
        .expect(200);
    let items = selector["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["reference"] == format!("{host}/dist/team/web:1.0")),
        "{selector}"
    );
    // A pull secret carries a Berth robot for Berth's address, never the upstream's.
    let secret = api
        .post(
            "/workspaces/team-a/pull-secret",
            api.as_admin(),
            json!({ "namespace": "apps", "name": "berth-pull" }),
        )
        .await;
    assert_eq!(secret.status, 200, "{}", secret.text);
    let config = crate::support::docker_config(&secret.body);
    let auths = config["auths"].as_object().unwrap();
    assert_eq!(auths.keys().collect::<Vec<_>>(), [host], "{config}");
    assert!(
        auths[host.as_str()]["username"]
            .as_str()
            .unwrap()
            .starts_with("robot$team-a+"),
        "{config}"
    );
    let text = config.to_string();
    assert!(
        !text.contains(UPSTREAM_PASSWORD) && !text.contains(UPSTREAM_USER),
        "{config}"
    );
    // The pull secret's credentials pull the image through Berth, digest for digest.
    let login = &auths[host.as_str()];
    let with_secret = Skopeo::new(
        host,
        Some((
            login["username"].as_str().unwrap(),
            login["password"].as_str().unwrap(),
        )),
    );
    with_secret
        .pulls_intact(&[], &with_secret.image("dist/team/web:1.0"), "1.0", &image)
        .await;

    // Workspace B is refused exactly as for a hosted private space bound to A alone, and
    // push and delete are refused to everyone, the platform admin included.
    create_space(&store, "mirror", false).await;
    bind(&store, "mirror", &["team-a"]).await;
    let admin_token = api.server.admin_token(&["mirror/web"]).await;
    push_image(&api.server.url, &admin_token, "mirror/web", &image, "1.0").await;
    let rows: [(&str, Option<(&str, &str)>); 3] = [
        ("workspace A's robot", Some((&robot_a, &secret_a))),
        ("workspace B's robot", Some((&robot_b, &secret_b))),
        ("anonymous", None),
    ];
    for (who, credentials) in rows {
        for push in [false, true] {
            let hosted = answer(&api, credentials, ("mirror/web", "mirror"), push).await;
            let through = answer(&api, credentials, ("dist/team/web", "team"), push).await;
            if push && who == "workspace A's robot" {
                // A bound robot may push to the hosted space but not through the proxy.
                assert_eq!(hosted.0, 202, "{who}: {hosted:?}");
                assert_eq!((through.0, through.1.as_str()), (403, "DENIED"), "{who}");
                continue;
            }
            assert_eq!(hosted, through, "{who}, push {push}: proxied as hosted");
        }
    }
    assert_eq!(
        answer(
            &api,
            Some((&robot_b, &secret_b)),
            ("dist/team/web", "team"),
            false
        )
        .await
        .0,
        404
    );
    let admin = Some(("admin", crate::support::ADMIN_PASSWORD));
    assert_eq!(
        answer(&api, admin, ("dist/team/web", "team"), true).await.1,
        "DENIED"
    );
    let skopeo_b = Skopeo::new(&api.server.host, Some((&robot_b, &secret_b)));
    let refused = skopeo_b
        .fails(&[], "inspect", &[&skopeo_b.image("dist/team/web:1.0")])
        .await;
    assert!(refused.contains("not open to you"), "{refused}");

    // Every blob the pull needed is now Berth's; wait for the last one's copy to commit.
    let registry_id = store
        .proxied_registry("dist")
        .await
        .unwrap()
        .expect("dist is proxied")
        .id;
    let repository_id = store
        .synced_repository_id(registry_id, "team/web")
        .await
        .unwrap()
        .expect("team/web was synced");
    let deadline = Instant::now() + Duration::from_secs(30);
    for blob in image.blobs() {
        let digest = Digest::parse(&blob.digest).unwrap();
        while store
            .proxied_blob_size(repository_id, &digest)
            .await
            .unwrap()
            .is_none()
        {
            assert!(Instant::now() < deadline, "{} was not cached", blob.digest);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let cached = store
        .cached_manifests(registry_id, std::slice::from_ref(&image.manifest.digest))
        .await
        .unwrap();
    assert_eq!(cached.len(), 1, "the manifest is in remote_manifests");

    // Proxied pulls count as hosted ones do: a GET by tag or digest adds one to the
    // repository and the artifact, a HEAD nothing.
    let token = api
        .server
        .token(
            Some((&robot_a, &secret_a)),
            &["repository:dist/team/web:pull"],
        )
        .await;
    let pulls = || async {
        api.server.flush_pulls().await;
        let page = api
            .get("/workspaces/team-a/images?q=team/web", api.as_admin())
            .await
            .expect(200);
        assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
        let artifact = api
            .get(
                &format!("/workspaces/team-a/registries/dist/repositories/team%2Fweb/artifacts/{upstream_digest}"),
                api.as_admin(),
            )
            .await
            .expect(200);
        (
            page["items"][0]["pulls"].as_i64().unwrap(),
            artifact["pull_count"].clone(),
        )
    };
    let (before, artifact_before) = pulls().await;
    assert!(before >= 1, "the pulls above were counted: {before}");
    assert_eq!(
        artifact_before,
        json!(before),
        "one artifact took every pull"
    );
    for (method, reference) in [
        (reqwest::Method::GET, "1.0"),
        (reqwest::Method::GET, upstream_digest.as_str()),
        (reqwest::Method::HEAD, "1.0"),
    ] {
        let answer = client()
            .request(
                method,
                format!("{}/v2/dist/team/web/manifests/{reference}", api.server.url),
            )
            .bearer_auth(&token)
            .header("accept", manifest["mediaType"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{reference}");
    }
    assert_eq!(pulls().await, (before + 2, json!(before + 2)));

    // With the upstream stopped, A still pulls: the tag as last synced, the manifest from
    // the cache and every blob from Berth's blob store.
    upstream.stop();
    skopeo_a.pulls_intact(&[], &proxied, "1.0", &image).await;
    // What Berth never pulled is not there to serve, and the client hears which registry
    // failed, not how Berth reaches it.
    let missing = client()
        .get(format!(
            "{}/v2/dist/team/web/blobs/sha256:{}",
            api.server.url,
            "0".repeat(64)
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 502);
    let text = missing.text().await.unwrap();
    assert!(
        text.contains("`dist`") && !text.contains(&upstream.url()),
        "{text}"
    );

    // Hosted spaces and platform registries may not share a name.
    api.post(
        "/registries/hosted/spaces",
        api.as_admin(),
        json!({ "name": "dist" }),
    )
    .await
    .error(409, "conflict", "platform registry");
    api.post(
        "/registries",
        api.as_admin(),
        json!({ "name": "mirror", "kind": "oci", "url": "http://127.0.0.1:9" }),
    )
    .await
    .error(409, "conflict", "space of the hosted registry");
    api.server.stop().await;
}
