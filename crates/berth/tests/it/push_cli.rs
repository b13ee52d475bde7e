//! `berth push-command` and `berth pull-secret`: parsing and rendering without a server, then
//! the real binary against the real server, down to running the printed skopeo lines.
//!
//! The CLI's source is compiled into this test binary once, by `cli.rs`, so parsing and
//! rendering are tested as functions.

use std::path::Path;

use berth_client::{Client, NewUser, Role};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::{workspace_with_private_space, BinaryServer, ADMIN_PASSWORD};

use crate::cli::{app, parse};
use app::pull_secret::SecretFormat;
use app::push_command::ClientName;

fn push_args(args: &[&str]) -> app::push_command::PushCommandArgs {
    let full: Vec<&str> = std::iter::once("push-command")
        .chain(args.iter().copied())
        .collect();
    match parse(&full) {
        Ok(app::Command::Push(c)) => c.args,
        Ok(_) => panic!("not push-command"),
        Err(e) => panic!("berth {}: {e}", full.join(" ")),
    }
}

#[test]
fn push_command_defaults_to_the_hosted_registry_and_every_client() {
    let args = push_args(&["--workspace", "team", "--space", "team-images"]);
    assert_eq!(args.registry, "hosted");
    assert_eq!(args.client, None);
    assert!(!args.temporary);
    assert_eq!(
        (args.repository, args.tag, args.expires_in),
        (None, None, None)
    );

    let args = push_args(&[
        "--workspace",
        "team",
        "--registry",
        "harbor",
        "--space",
        "s",
        "--repository",
        "apps/web",
        "--tag",
        "v1",
        "--temporary",
        "--expires-in",
        "30m",
        "--client",
        "skopeo",
    ]);
    assert_eq!(args.registry, "harbor");
    assert_eq!(args.repository.as_deref(), Some("apps/web"));
    assert_eq!(args.expires_in, Some(1800));
    assert_eq!(args.client, Some(ClientName::Skopeo));

    // A lifetime only means something for a temporary login; the space is required.
    assert!(parse(&[
        "push-command",
        "--workspace",
        "w",
        "--space",
        "s",
        "--expires-in",
        "60"
    ])
    .is_err());
    assert!(parse(&["push-command", "--workspace", "w"]).is_err());
    assert!(parse(&[
        "push-command",
        "--workspace",
        "w",
        "--space",
        "s",
        "--client",
        "rkt"
    ])
    .is_err());
}

#[test]
fn pull_secret_prints_yaml_unless_asked_for_json() {
    let app::Command::PullSecret(c) = parse(&[
        "pull-secret",
        "--workspace",
        "team",
        "--namespace",
        "apps",
        "--name",
        "regcred",
    ])
    .unwrap() else {
        panic!("not pull-secret")
    };
    assert_eq!(
        app::pull_secret::format(&c.args, c.globals.output),
        SecretFormat::Yaml
    );
    assert_eq!(
        app::pull_secret::format(&c.args, app::Output::Json),
        SecretFormat::Json
    );
    let app::Command::PullSecret(c) = parse(&[
        "pull-secret",
        "--workspace",
        "team",
        "--namespace",
        "apps",
        "--name",
        "regcred",
        "--format",
        "yaml",
        "-o",
        "json",
    ])
    .unwrap() else {
        panic!("not pull-secret")
    };
    assert_eq!(
        app::pull_secret::format(&c.args, c.globals.output),
        SecretFormat::Yaml,
        "--format wins over --output"
    );
    assert!(parse(&["pull-secret", "--workspace", "team", "--namespace", "apps"]).is_err());
    assert!(parse(&[
        "pull-secret",
        "--workspace",
        "t",
        "--namespace",
        "n",
        "--name",
        "x",
        "--format",
        "xml"
    ])
    .is_err());
}

fn sample_command() -> berth_client::PushCommand {
    serde_json::from_value(json!({
        "registry": "hosted", "space": "team", "host": "h:1", "repository": "app",
        "tag": "v1", "notes": ["a note"],
        "login": { "username": "alice", "expires_at": null, "temporary": false },
        "commands": {
            "docker": ["docker login -u alice h:1", "docker push h:1/team/app:v1"],
            "podman": ["podman push h:1/team/app:v1"],
            "nerdctl": ["nerdctl push h:1/team/app:v1"],
            "skopeo": ["skopeo login -u alice h:1", "skopeo copy \u{1b}[31mx y"],
            "helm": ["helm push app-v1.tgz oci://h:1/team"],
            "oras": ["oras push h:1/team/app:v1 artifact.txt:text/plain"],
            "future": ["a client this CLI does not know yet"]
        }
    }))
    .unwrap()
}

#[test]
fn lines_print_grouped_or_for_one_client() {
    let command = sample_command();
    let all = app::push_command::render_lines(&command, None);
    assert!(
        all.starts_with(
            "# docker\ndocker login -u alice h:1\ndocker push h:1/team/app:v1\n\n# podman\n"
        ),
        "{all}"
    );
    for client in ["docker", "podman", "nerdctl", "skopeo", "helm", "oras"] {
        assert!(all.contains(&format!("# {client}\n")), "{all}");
    }
    // Escape sequences from the server never reach the terminal.
    assert!(!all.contains('\u{1b}'), "{all:?}");
    assert_eq!(
        app::push_command::render_lines(&command, Some(ClientName::Skopeo)),
        "skopeo login -u alice h:1\nskopeo copy [31mx y\n"
    );
}

// --- The binary against the server -----------------------------------------------------------

fn berth(config_dir: &Path, args: &[&str]) -> (bool, String, String) {
    crate::support::run_berth(config_dir, args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_push_commands_and_pull_secrets() {
    let data = TempDir::new().unwrap();
    let config = TempDir::new().unwrap();
    let server = BinaryServer::spawn(data.path(), None);
    let url = server.url.as_str();
    let admin = Client::new(url)
        .unwrap()
        .with_basic("admin", ADMIN_PASSWORD.into());
    workspace_with_private_space(&admin, "team", "team-images").await;
    for (user, role) in [("alice", Role::Editor), ("bob", Role::Viewer)] {
        admin
            .create_user(&NewUser {
                username: user.into(),
                password: "a-password-for-tests".into(),
                email: None,
                is_admin: None,
            })
            .await
            .unwrap();
        admin.set_member("team", user, role).await.unwrap();
    }
    let session = |user: &str| {
        let url = url.to_string();
        let user = user.to_string();
        async move {
            Client::new(&url)
                .unwrap()
                .login(&user, "a-password-for-tests".into())
                .await
                .unwrap()
                .token
                .expose()
                .to_string()
        }
    };
    let alice = session("alice").await;
    let bob = session("bob").await;
    let as_user = |token: &str, args: &[&str]| {
        let args: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--server", url, "--token", token])
            .collect();
        berth(config.path(), &args)
    };
    let target = ["--workspace", "team", "--space", "team-images"];

    // Every client's lines, grouped; notes on stderr so stdout stays runnable.
    let (ok, stdout, stderr) = as_user(&bob, &[&["push-command"][..], &target].concat());
    assert!(ok, "{stderr}");
    let host = &server.host;
    assert!(
        stdout.starts_with(&format!("# docker\ndocker login -u bob {host}\n")),
        "{stdout}"
    );
    assert!(stdout.contains("\n# oras\n"), "{stdout}");
    assert!(
        stderr.contains("note: ") && stderr.contains("may not push"),
        "{stderr}"
    );

    // One client, and JSON.
    let (ok, stdout, _) = as_user(
        &bob,
        &[
            &["push-command"][..],
            &target,
            &["--client", "docker", "--tag", "v1"],
        ]
        .concat(),
    );
    assert!(ok);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(
        stdout.ends_with(&format!("docker push {host}/team-images/my-image:v1\n")),
        "{stdout}"
    );
    let (ok, stdout, _) = as_user(
        &bob,
        &[&["push-command"][..], &target, &["-o", "json"]].concat(),
    );
    assert!(ok);
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["login"]["username"], "bob");
    assert_eq!(answer["commands"]["skopeo"].as_array().unwrap().len(), 2);

    // A viewer's temporary login fails with the server's message.
    let (ok, stdout, stderr) = as_user(
        &bob,
        &[&["push-command"][..], &target, &["--temporary"]].concat(),
    );
    assert!(!ok && stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("error: only editors and admins"),
        "{stderr}"
    );

    // An editor's temporary skopeo lines push as printed.
    let (ok, stdout, stderr) = as_user(
        &alice,
        &[
            &["push-command"][..],
            &target,
            &["--temporary", "--expires-in", "10m", "--client", "skopeo"],
        ]
        .concat(),
    );
    assert!(ok, "{stderr}");
    assert!(stderr.contains("temporary robot"), "{stderr}");
    let work = TempDir::new().unwrap();
    let home = TempDir::new().unwrap();
    let image = berth_testkit::ImageBuilder::new()
        .layer(berth_testkit::layer(&[("etc/cli", b"cli\n")]), "COPY cli")
        .build();
    let layout = crate::skopeo::oci_layout("latest", &image);
    let archive = format!("oci-archive:{}", work.path().join("my-image.tar").display());
    crate::support::skopeo(&[
        "--insecure-policy",
        "copy",
        "--quiet",
        &layout.reference,
        &archive,
    ]);
    for line in stdout.lines() {
        let output = tokio::process::Command::new("sh")
            .args(["-c", line])
            .current_dir(work.path())
            .env("REGISTRY_AUTH_FILE", home.path().join("auth.json"))
            .env("HOME", home.path())
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "`{line}` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let tags = admin_tags(&server.host, "team-images/my-image").await;
    assert_eq!(tags, ["latest"]);

    // Pull secrets: YAML by default, JSON on request, the server's message on refusal.
    let secret_args = [
        "pull-secret",
        "--workspace",
        "team",
        "--namespace",
        "apps",
        "--name",
        "regcred",
    ];
    let (ok, stdout, stderr) = as_user(&alice, &secret_args);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("kubectl apply"), "{stderr}");
    let yaml: Value = serde_saphyr::from_str(&stdout).unwrap_or_else(|e| panic!("{e}:\n{stdout}"));
    assert_eq!(yaml["kind"], "Secret");
    assert_eq!(yaml["metadata"]["namespace"], "apps");
    assert!(yaml["data"][".dockerconfigjson"].is_string(), "{stdout}");
    let (ok, stdout, _) = as_user(&alice, &[&secret_args[..], &["--format", "json"]].concat());
    assert!(ok);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["type"], "kubernetes.io/dockerconfigjson");
    let (ok, _, stderr) = as_user(&bob, &secret_args);
    assert!(!ok);
    assert!(
        stderr.starts_with("error: only editors and admins"),
        "{stderr}"
    );
    let (ok, _, stderr) = as_user(
        &alice,
        &[
            "pull-secret",
            "--workspace",
            "team",
            "--namespace",
            "Apps",
            "--name",
            "x",
        ],
    );
    assert!(!ok);
    assert!(stderr.starts_with("error: namespace `Apps`"), "{stderr}");
    server.kill();
}

/// The tags of `repository` as the admin sees them with skopeo.
async fn admin_tags(host: &str, repository: &str) -> Vec<String> {
    let output = tokio::process::Command::new("skopeo")
        .args([
            "list-tags",
            "--tls-verify=false",
            "--creds",
            &format!("admin:{ADMIN_PASSWORD}"),
            &format!("docker://{host}/{repository}"),
        ])
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing: Value = serde_json::from_slice(&output.stdout).unwrap();
    serde_json::from_value(listing["Tags"].clone()).unwrap()
}
