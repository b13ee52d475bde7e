//! Push commands and pull secrets over the real server: the printed skopeo lines are run
//! verbatim with a temporary login, and a generated Kubernetes pull secret's credentials pull
//! a private image, each checked for what the credentials must not do as well.
//!
//! Every test body runs once per database backend (`<name>::sqlite`, `<name>::postgres`).

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use berth_testkit::{layer, Image, ImageBuilder};
use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::skopeo::{oci_layout, Skopeo};
use crate::support::api::{answer, Answer};
use crate::support::{
    basic, bind, client, create_robot, create_space, create_workspace, push_image, set_role,
    Backend, TestServer, ADMIN_PASSWORD,
};

crate::on_both_backends!(
    multi_thread:
    the_printed_skopeo_lines_push_with_a_temporary_login,
    push_commands_check_access_and_input,
    a_pull_secret_pulls_private_images_and_nothing_more,
    pull_secrets_check_access_and_input,
);

const PASSWORD: &str = "a-password-for-tests";

/// A server with workspace `team` (alice editor, bob viewer) bound to private spaces
/// `team-images` and `team-other`, and workspace `ops` (carol admin) bound to `ops-images`.
async fn world(backend: Backend) -> TestServer {
    let server = TestServer::spawn(backend).await;
    let store = &server.state.store;
    for user in ["alice", "bob", "carol"] {
        server.create_user(user, PASSWORD, false).await;
    }
    create_workspace(store, "team").await;
    create_workspace(store, "ops").await;
    set_role(store, "team", "alice", "editor").await;
    set_role(store, "team", "bob", "viewer").await;
    set_role(store, "ops", "carol", "admin").await;
    for (space, workspace) in [
        ("team-images", "team"),
        ("team-other", "team"),
        ("ops-images", "ops"),
    ] {
        create_space(store, space, false).await;
        bind(store, space, &[workspace]).await;
    }
    server
}

/// Calls the API as `user` (with [`PASSWORD`], or the admin's) using Basic credentials.
async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    user: &str,
    password: &str,
    body: Option<Value>,
    accept: Option<&str>,
) -> Answer {
    let mut request = client()
        .request(method, format!("{}/api/v1{path}", server.url))
        .basic_auth(user, Some(password));
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    answer(request).await
}

async fn post(server: &TestServer, path: &str, user: &str, body: Value) -> Answer {
    call(
        server,
        Method::POST,
        path,
        user,
        password_of(user),
        Some(body),
        None,
    )
    .await
}

fn password_of(user: &str) -> &'static str {
    if user == "admin" {
        ADMIN_PASSWORD
    } else {
        PASSWORD
    }
}

async fn get(server: &TestServer, path: &str, user: &str) -> Answer {
    call(
        server,
        Method::GET,
        path,
        user,
        password_of(user),
        None,
        None,
    )
    .await
}

async fn push_command(server: &TestServer, user: &str, target: &str, query: &str) -> Answer {
    let path = format!("/workspaces/{target}/push-command?{query}");
    get(server, &path, user).await
}

/// A small image of its own, so each push has something new to send.
fn image(seed: &str) -> Image {
    ImageBuilder::new()
        .layer(
            layer(&[("etc/seed", seed.as_bytes())]),
            &format!("COPY seed {seed}"),
        )
        .build()
}

/// Writes `image` as the OCI archive `<dir>/<name>.tar` (what `podman save --format
/// oci-archive` makes), by copying it out of an OCI layout with skopeo.
async fn write_oci_archive(dir: &Path, name: &str, image: &Image) {
    let layout = oci_layout("latest", image);
    let archive = format!("oci-archive:{}", dir.join(format!("{name}.tar")).display());
    let output = tokio::process::Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--quiet", &layout.reference])
        .arg(&archive)
        .output()
        .await
        .expect("running skopeo (apt-get install skopeo)");
    assert!(
        output.status.success(),
        "writing {archive}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs one printed line with `sh -c` in `dir`, as a person pasting it into a terminal
/// would, with skopeo's login file and state kept in `home`.
async fn run_line(line: &str, dir: &Path, home: &Path) -> (bool, String) {
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("REGISTRY_AUTH_FILE", home.join("auth.json"))
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("_CONTAINERS_ROOTLESS_UID", "1000")
        .kill_on_drop(true)
        .output()
        .await
        .expect("running sh");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

pub(crate) fn lines(answer: &Value, client: &str) -> Vec<String> {
    answer["commands"][client]
        .as_array()
        .unwrap_or_else(|| panic!("no {client} lines in {answer}"))
        .iter()
        .map(|line| line.as_str().unwrap().to_string())
        .collect()
}

/// The skopeo lines of a temporary login push an image exactly as printed; the image is then
/// pullable; the login cannot push to another space of the same workspace; the robot shows
/// its space in the robot list and its creation in the audit log; and once it expires, both
/// a new login and the stored one are refused.
async fn the_printed_skopeo_lines_push_with_a_temporary_login(backend: Backend) {
    let server = world(backend).await;
    let answer = push_command(
        &server,
        "alice",
        "team/registries/hosted/spaces/team-images",
        "temporary=true&expires_in_seconds=600",
    )
    .await
    .expect(200);
    assert_eq!(answer["registry"], "hosted");
    assert_eq!(answer["space"], "team-images");
    assert_eq!(answer["host"], server.host);
    assert_eq!(answer["repository"], "my-image");
    assert_eq!(answer["tag"], "latest");
    assert_eq!(answer["login"]["temporary"], true);
    let robot = answer["login"]["username"].as_str().unwrap().to_string();
    assert!(robot.starts_with("robot$team+tmp-"), "{robot}");
    assert!(answer["login"]["expires_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    let skopeo_lines = lines(&answer, "skopeo");
    assert_eq!(skopeo_lines.len(), 2, "{skopeo_lines:?}");
    assert!(
        skopeo_lines[0].contains("--password-stdin") && skopeo_lines[0].contains(&robot),
        "{skopeo_lines:?}"
    );
    assert_eq!(
        skopeo_lines[1],
        format!(
            "skopeo copy --dest-tls-verify=false oci-archive:my-image.tar docker://{}/team-images/my-image:latest",
            server.host
        )
    );
    // The external URL is plain HTTP, so every client's lines say so. It is a loopback
    // address, which Docker treats as insecure already, so no note sends Docker users to
    // `insecure-registries`.
    assert!(lines(&answer, "podman")[0].contains("--tls-verify=false"));
    assert!(lines(&answer, "nerdctl")[2].contains("--insecure-registry"));
    assert!(lines(&answer, "oras")[1].contains("--plain-http"));
    assert!(lines(&answer, "helm")[1].contains("--plain-http"));
    let notes = answer["notes"].to_string();
    assert!(!notes.contains("insecure-registries"), "{notes}");
    assert!(notes.contains("loopback"), "{notes}");
    assert!(notes.contains("temporary robot"), "{notes}");

    // Run the lines verbatim where the user keeps `my-image.tar`.
    let work = TempDir::new().unwrap();
    let home = TempDir::new().unwrap();
    let pushed = image("temporary-login");
    write_oci_archive(work.path(), "my-image", &pushed).await;
    for line in &skopeo_lines {
        let (ok, output) = run_line(line, work.path(), home.path()).await;
        assert!(ok, "`{line}` failed:\n{output}");
    }

    // The image is there, byte for byte, and the catalog says the robot pushed it.
    let admin = Skopeo::new(&server.host, Some(("admin", ADMIN_PASSWORD)));
    admin
        .pulls_intact(
            &[],
            &admin.image("team-images/my-image:latest"),
            "latest",
            &pushed,
        )
        .await;
    let record = server
        .state
        .store
        .artifact(
            &berth_oci::RepoName::parse("team-images/my-image").unwrap(),
            &berth_oci::Digest::parse(&pushed.manifest.digest).unwrap(),
        )
        .await
        .unwrap()
        .expect("the catalog has the pushed image");
    assert_eq!(record.pushed_by.as_deref(), Some(robot.as_str()));

    // The same login cannot push to another space of the workspace.
    let elsewhere = skopeo_lines[1].replace("/team-images/", "/team-other/");
    let (ok, output) = run_line(&elsewhere, work.path(), home.path()).await;
    assert!(
        !ok,
        "`{elsewhere}` pushed with a login for team-images:\n{output}"
    );
    assert!(
        output.contains("space `team-other` does not exist or is not open to you"),
        "refused for another reason:\n{output}"
    );

    // Over the REST API the login sees only its space: another space of the workspace holds
    // an image, and neither the image list nor the selector shows it to the robot.
    let token = server.admin_token(&["team-other/hidden"]).await;
    push_image(
        &server.url,
        &token,
        "team-other/hidden",
        &image("hidden"),
        "v1",
    )
    .await;
    let secret = secret_of(&skopeo_lines[0]);
    // The `field` of every item a list answers the robot.
    let listed_to_robot = async |path: &str, field: &str| -> Vec<String> {
        let listed = call(&server, Method::GET, path, &robot, &secret, None, None)
            .await
            .expect(200);
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item[field].as_str().unwrap().to_string())
            .collect()
    };
    for path in ["/workspaces/team/images", "/workspaces/team/selector?q="] {
        let repositories = listed_to_robot(path, "repository").await;
        assert!(
            repositories.iter().all(|r| r == "team-images/my-image") && !repositories.is_empty(),
            "{path}: {repositories:?}"
        );
    }
    // Its lists of spaces hold its one space too, and the other spaces answer as missing.
    for path in ["/workspaces/team/spaces", "/registries/hosted/spaces"] {
        assert_eq!(
            listed_to_robot(path, "name").await,
            ["team-images"],
            "{path}"
        );
    }
    let other = "/registries/hosted/spaces/team-other";
    call(&server, Method::GET, other, &robot, &secret, None, None)
        .await
        .error(404, "not_found", "team-other");
    let everything = get(&server, "/workspaces/team/images", "alice")
        .await
        .expect(200);
    assert_eq!(
        everything["total"], 2,
        "alice sees both spaces: {everything}"
    );

    // The robot list shows what the login is limited to; the audit log who made it.
    let robots = get(&server, "/workspaces/team/robots", "admin")
        .await
        .expect(200);
    let listed = robots["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == robot.as_str())
        .unwrap_or_else(|| panic!("{robot} not in {robots}"))
        .clone();
    assert_eq!(listed["space"], "team-images");
    assert_eq!(listed["permissions"], json!(["pull", "push"]));
    assert_eq!(listed["created_by"], "alice");
    assert_eq!(listed["expires_at"], answer["login"]["expires_at"]);
    let audit = get(&server, "/audit?action=robot.create", "admin")
        .await
        .expect(200);
    let event = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["actor"] == "alice")
        .unwrap_or_else(|| panic!("alice's robot.create not in {audit}"))
        .clone();
    assert_eq!(event["workspace"], "team");
    assert_eq!(event["detail"]["space"], "team-images");
    assert!(
        !event.to_string().contains(&secret_of(&skopeo_lines[0])),
        "the audit log holds the secret"
    );

    // A login that expires in a second works until then and is refused afterwards, both
    // when logging in anew and with the credentials already stored.
    let short = push_command(
        &server,
        "alice",
        "team/registries/hosted/spaces/team-images",
        "temporary=true&expires_in_seconds=1&repository=short/lived&tag=v1",
    )
    .await
    .expect(200);
    let short_lines = lines(&short, "skopeo");
    let short_home = TempDir::new().unwrap();
    let (ok, output) = run_line(&short_lines[0], work.path(), short_home.path()).await;
    if ok {
        // Logged in before the second was up: the stored credentials must stop working.
        let deadline = Instant::now() + Duration::from_secs(20);
        write_oci_archive(work.path(), "lived", &image("short-lived")).await;
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (ok, output) = run_line(&short_lines[1], work.path(), short_home.path()).await;
            if !ok {
                assert!(
                    output.contains("unauthorized: incorrect username or password"),
                    "refused for another reason:\n{output}"
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "an expired login still pushes:\n{output}"
            );
        }
    } else {
        assert!(output.contains("unauthorized"), "{output}");
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later_home = TempDir::new().unwrap();
    let (ok, output) = run_line(&short_lines[0], work.path(), later_home.path()).await;
    assert!(!ok, "an expired login logs in:\n{output}");
    let token = client()
        .get(format!(
            "{}/auth/token?service=berth&scope=repository:team-images/x:pull",
            server.url
        ))
        .header(
            "authorization",
            basic(
                short["login"]["username"].as_str().unwrap(),
                &secret_of(&short_lines[0]),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        token.status(),
        401,
        "the token service accepts an expired robot"
    );
    server.stop().await;
}

/// The secret a login line pipes into the client: the first single-quoted word after
/// `printf '%s'`.
pub(crate) fn secret_of(line: &str) -> String {
    let rest = line
        .strip_prefix("printf '%s' '")
        .unwrap_or_else(|| panic!("not a secret login line: {line}"));
    rest.split('\'').next().unwrap().to_string()
}

/// Who may ask for push commands, and for temporary logins, and how input is checked.
async fn push_commands_check_access_and_input(backend: Backend) {
    let server = world(backend).await;
    let team_images = "team/registries/hosted/spaces/team-images";

    // A viewer gets lines that prompt for their own password, and a note that they may not
    // push; a temporary login is refused.
    let answer = push_command(&server, "bob", team_images, "repository=apps/web&tag=v2")
        .await
        .expect(200);
    assert_eq!(
        answer["login"],
        json!({ "username": "bob", "expires_at": null, "temporary": false })
    );
    let host = &server.host;
    assert_eq!(
        lines(&answer, "docker"),
        [
            format!("docker login -u bob {host}"),
            format!("docker tag apps/web:v2 {host}/team-images/apps/web:v2"),
            format!("docker push {host}/team-images/apps/web:v2"),
        ]
    );
    assert_eq!(
        lines(&answer, "skopeo")[0],
        format!("skopeo login --tls-verify=false -u bob {host}")
    );
    assert_eq!(
        lines(&answer, "helm")[1],
        format!("helm push --plain-http web-v2.tgz oci://{host}/team-images/apps")
    );
    assert!(answer["notes"].to_string().contains("may not push"));
    push_command(&server, "bob", team_images, "temporary=true")
        .await
        .error(403, "forbidden", "editors and admins");
    // An editor's lines carry no such note.
    let answer = push_command(&server, "alice", team_images, "")
        .await
        .expect(200);
    assert!(!answer["notes"].to_string().contains("may not push"));

    // Another workspace, and a space outside the workspace's view, answer like missing ones.
    push_command(&server, "carol", team_images, "").await.error(
        404,
        "not_found",
        "workspace `team`",
    );
    push_command(
        &server,
        "alice",
        "team/registries/hosted/spaces/ops-images",
        "",
    )
    .await
    .error(404, "not_found", "space `hosted/ops-images`");
    push_command(&server, "alice", "team/registries/hosted/spaces/nosuch", "")
        .await
        .error(404, "not_found", "space `hosted/nosuch`");
    push_command(
        &server,
        "alice",
        "team/registries/nosuch/spaces/team-images",
        "",
    )
    .await
    .error(404, "not_found", "registry `nosuch`");

    // A public space the workspace is not bound to is in its view, but its robots cannot
    // push there, so a temporary login is refused even to a platform admin.
    push_command(
        &server,
        "alice",
        "team/registries/hosted/spaces/library",
        "",
    )
    .await
    .expect(200);
    push_command(
        &server,
        "admin",
        "team/registries/hosted/spaces/library",
        "temporary=true",
    )
    .await
    .error(403, "forbidden", "not bound");
    push_command(&server, "admin", team_images, "temporary=true")
        .await
        .expect(200);

    // Robots use the registry, not this.
    let (robot, secret) = create_robot(&server.state.store, "team", "ci", true, true).await;
    let path = format!("/workspaces/{team_images}/push-command");
    call(&server, Method::GET, &path, &robot, &secret, None, None)
        .await
        .error(403, "forbidden", "robot");
    let anonymous = client()
        .get(format!("{}/api/v1{path}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // Input.
    for (query, needle) in [
        ("repository=Bad", "repository"),
        ("repository=a//b", "repository"),
        ("tag=no%20spaces", "tag"),
        ("tag=.dot", "tag"),
        ("expires_in_seconds=60", "temporary=true"),
        ("temporary=true&expires_in_seconds=0", "expires_in_seconds"),
        (
            "temporary=true&expires_in_seconds=86401",
            "expires_in_seconds",
        ),
        ("temporary=maybe", "temporary"),
    ] {
        push_command(&server, "alice", team_images, query)
            .await
            .error(400, "invalid", needle);
    }
    push_command(&server, "alice", "team/registries/hosted/spaces/Bad", "")
        .await
        .error(400, "invalid", "space name");
    push_command(
        &server,
        "alice",
        team_images,
        "temporary=true&expires_in_seconds=86400",
    )
    .await
    .expect(200);

    // External registries: the lines address the registry's own host, with its stored
    // username; Berth cannot make logins there.
    let body = json!({
        "name": "ext", "kind": "distribution", "url": "http://127.0.0.1:9",
        "username": "pusher", "password": "registry-password"
    });
    post(&server, "/registries", "admin", body)
        .await
        .expect(201);
    let body = json!({ "name": "shared", "public": true });
    post(&server, "/registries/ext/spaces", "admin", body)
        .await
        .expect(201);
    let answer = push_command(&server, "alice", "team/registries/ext/spaces/shared", "")
        .await
        .expect(200);
    assert_eq!(answer["host"], "127.0.0.1:9");
    assert_eq!(answer["login"]["username"], "pusher");
    assert_eq!(
        lines(&answer, "oras")[0],
        "oras login --plain-http -u pusher 127.0.0.1:9"
    );
    assert!(!answer.to_string().contains("registry-password"));
    push_command(
        &server,
        "alice",
        "team/registries/ext/spaces/shared",
        "temporary=true",
    )
    .await
    .error(400, "invalid", "only for the hosted registry");

    // A workspace's own registry: every space of it is in the workspace's view.
    let own_registry = async |name: &str, url: &str, space: &str| {
        let body = json!({ "name": name, "kind": "oci", "url": url });
        post(&server, "/workspaces/team/registries", "admin", body)
            .await
            .expect(201);
        let path = format!("team/registries/{name}/spaces/{space}");
        push_command(&server, "alice", &path, "").await.expect(200)
    };
    let answer = own_registry("own", "https://own.example.com", "anything").await;
    assert_eq!(
        lines(&answer, "podman"),
        [
            "podman login -u YOUR_USERNAME own.example.com",
            "podman tag my-image:latest own.example.com/anything/my-image:latest",
            "podman push own.example.com/anything/my-image:latest",
        ]
    );
    push_command(
        &server,
        "alice",
        "team/registries/own/spaces/anything",
        "temporary=true",
    )
    .await
    .error(400, "invalid", "only for the hosted registry");
    push_command(&server, "carol", "ops/registries/own/spaces/anything", "")
        .await
        .error(404, "not_found", "registry `own`");

    // A plain-HTTP registry off loopback is one Docker must be told about.
    let answer = own_registry("mirror", "http://mirror.example.com:5000", "apps").await;
    let notes = answer["notes"].to_string();
    assert!(
        notes.contains("`mirror.example.com:5000` is listed under `insecure-registries`"),
        "{notes}"
    );
    server.stop().await;
}

/// Asks for a pull secret as `user`, in JSON or (with `accept`) YAML.
async fn pull_secret(
    server: &TestServer,
    user: &str,
    workspace: &str,
    body: Value,
    accept: Option<&str>,
) -> Answer {
    let path = format!("/workspaces/{workspace}/pull-secret");
    call(
        server,
        Method::POST,
        &path,
        user,
        password_of(user),
        Some(body),
        accept,
    )
    .await
}

/// The `(username, password)` in a Secret's `.dockerconfigjson` for `host`, checking the
/// shape Kubernetes expects on the way.
fn credentials(secret: &Value, host: &str) -> (String, String) {
    assert_eq!(secret["apiVersion"], "v1");
    assert_eq!(secret["kind"], "Secret");
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    let config = crate::support::docker_config(secret);
    let base64 = base64::engine::general_purpose::STANDARD;
    let auths = config["auths"].as_object().unwrap();
    assert_eq!(auths.len(), 1, "{config}");
    let entry = &auths[host];
    let username = entry["username"].as_str().unwrap().to_string();
    let password = entry["password"].as_str().unwrap().to_string();
    let auth = base64
        .decode(entry["auth"].as_str().unwrap())
        .map(|bytes| String::from_utf8(bytes).unwrap())
        .unwrap();
    assert_eq!(auth, format!("{username}:{password}"));
    (username, password)
}

/// A pull secret's credentials pull a private image of the workspace with skopeo, cannot
/// push, cannot pull another workspace's private space, and stop working when the secret is
/// generated again; the YAML form carries the same Secret.
async fn a_pull_secret_pulls_private_images_and_nothing_more(backend: Backend) {
    let server = world(backend).await;
    let ours = image("ours");
    let theirs = image("theirs");
    let token = server
        .admin_token(&["team-images/app", "ops-images/app"])
        .await;
    push_image(&server.url, &token, "team-images/app", &ours, "v1").await;
    push_image(&server.url, &token, "ops-images/app", &theirs, "v1").await;

    let secret = pull_secret(
        &server,
        "alice",
        "team",
        json!({ "namespace": "default", "name": "regcred" }),
        None,
    )
    .await;
    assert!(
        secret.content_type().starts_with("application/json"),
        "{}",
        secret.content_type()
    );
    let secret = secret.expect(200);
    assert_eq!(
        secret["metadata"],
        json!({ "name": "regcred", "namespace": "default" })
    );
    let (username, password) = credentials(&secret, &server.host);
    assert_eq!(username, "robot$team+pull-default.regcred");

    let robot = Skopeo::new(&server.host, Some((&username, &password)));
    robot
        .pulls_intact(&[], &robot.image("team-images/app:v1"), "v1", &ours)
        .await;

    let source = oci_layout("v1", &ours);
    robot
        .fails(
            &[],
            "copy",
            &[&source.reference, &robot.image("team-images/pushed:v1")],
        )
        .await;
    robot
        .fails(
            &[],
            "inspect",
            &["--raw", &robot.image("ops-images/app:v1")],
        )
        .await;

    // Generating the same Secret again rotates the robot: the old password stops working,
    // the new one works. The YAML answer is the same Secret, as kubectl reads it.
    let yaml = pull_secret(
        &server,
        "admin",
        "team",
        json!({ "namespace": "default", "name": "regcred" }),
        Some("application/yaml"),
    )
    .await;
    assert_eq!(yaml.status, 200, "{}", yaml.text);
    assert_eq!(yaml.content_type(), "application/yaml");
    let parsed: Value = serde_saphyr::from_str(&yaml.text)
        .unwrap_or_else(|e| panic!("not YAML: {e}\n{}", yaml.text));
    let (same_user, new_password) = credentials(&parsed, &server.host);
    assert_eq!(same_user, username);
    assert_ne!(new_password, password);
    robot
        .fails(
            &[],
            "inspect",
            &["--raw", &robot.image("team-images/app:v1")],
        )
        .await;
    let rotated = Skopeo::new(&server.host, Some((&username, &new_password)));
    rotated
        .ok(
            &[],
            "inspect",
            &["--raw", &rotated.image("team-images/app:v1")],
        )
        .await;

    // The robot is pull-only and of the whole workspace; its creation and rotation are
    // audited under the workspace, without the secret.
    let robots = get(&server, "/workspaces/team/robots", "admin")
        .await
        .expect(200);
    let listed = robots["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == username.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["permissions"], json!(["pull"]));
    assert_eq!(listed["space"], Value::Null);
    assert_eq!(listed["expires_at"], Value::Null);
    assert_eq!(listed["created_by"], "alice");
    let audit = get(&server, "/audit?workspace=team", "admin")
        .await
        .expect(200);
    let actions: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "workspace/team/robot/pull-default.regcred")
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [("robot.rotate", "admin"), ("robot.create", "alice")]
    );
    assert!(!audit.to_string().contains(&new_password));
    assert!(!audit.to_string().contains(&password));
    server.stop().await;
}

/// Who may generate pull secrets, and how names are checked.
async fn pull_secrets_check_access_and_input(backend: Backend) {
    let server = world(backend).await;
    let body = json!({ "namespace": "apps", "name": "berth-pull" });
    pull_secret(&server, "bob", "team", body.clone(), None)
        .await
        .error(403, "forbidden", "editors and admins");
    pull_secret(&server, "carol", "team", body.clone(), None)
        .await
        .error(404, "not_found", "workspace `team`");
    let (robot, secret) = create_robot(&server.state.store, "team", "ci", true, true).await;
    call(
        &server,
        Method::POST,
        "/workspaces/team/pull-secret",
        &robot,
        &secret,
        Some(body.clone()),
        None,
    )
    .await
    .error(403, "forbidden", "robot");
    pull_secret(&server, "carol", "ops", body.clone(), None)
        .await
        .expect(200);

    for (body, needle) in [
        (
            json!({ "namespace": "Apps", "name": "x" }),
            "namespace `Apps`",
        ),
        (
            json!({ "namespace": "a.b", "name": "x" }),
            "namespace `a.b`",
        ),
        (json!({ "namespace": "", "name": "x" }), "namespace"),
        (json!({ "namespace": "apps", "name": "-x" }), "name `-x`"),
        (
            json!({ "namespace": "apps", "name": "x..y" }),
            "name `x..y`",
        ),
        (json!({ "namespace": "apps" }), "name"),
        (
            json!({ "namespace": "apps", "name": "x", "extra": 1 }),
            "extra",
        ),
    ] {
        pull_secret(&server, "alice", "team", body, None)
            .await
            .error(400, "invalid", needle);
    }

    // Names that do not fit a robot name get a hashed one, still unique per Secret.
    let long = "x".repeat(200);
    let first = pull_secret(
        &server,
        "alice",
        "team",
        json!({ "namespace": "apps--prod", "name": long }),
        None,
    )
    .await
    .expect(200);
    let (user, _) = credentials(&first, &server.host);
    assert!(user.starts_with("robot$team+pull-apps-prod-"), "{user}");

    // A robot of that name that can do more than pull is never taken over.
    let (_, _) = create_robot(&server.state.store, "team", "pull-apps.taken", true, true).await;
    pull_secret(
        &server,
        "alice",
        "team",
        json!({ "namespace": "apps", "name": "taken" }),
        None,
    )
    .await
    .error(409, "conflict", "pull-apps.taken");
    server.stop().await;
}
