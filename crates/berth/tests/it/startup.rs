//! `berth serve` as the person starting it sees it: the welcome it prints (where the console
//! is, and how to sign in as `admin`), and a log that is fit for a file or a collector.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::support::{client, Backend, BinaryServer, TestDatabase, ADMIN_PASSWORD};

crate::on_both_backends!(
    multi_thread:
    serve_says_where_the_console_is_and_how_to_sign_in,
);

/// A first start without `BERTH_ADMIN_PASSWORD` prints the console's URL, the generated
/// password and the file that keeps it; a second start on the same data says `admin` exists
/// and where its first password is; a first start with `BERTH_ADMIN_PASSWORD` says it used
/// that. Stderr is not a terminal here, so the log carries no colour codes, as text or as
/// JSON, and never the password; `--log-format json` makes every line a JSON object.
async fn serve_says_where_the_console_is_and_how_to_sign_in(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let data = database.dir.path().join("data");
    let url = database.url.clone();
    let saved = data.join("initial-admin-password");

    let text_log_without_password = |command: &mut Command| {
        command
            .env_remove("BERTH_ADMIN_PASSWORD")
            .env("BERTH_LOG_FORMAT", "text");
    };
    let first = start(&data, &url, text_log_without_password).await;
    let welcome = first.welcome();
    let password = welcome
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Created user `admin` with password: ")
        })
        .unwrap_or_else(|| panic!("no generated password in the welcome:\n{welcome}"))
        .to_string();
    assert_welcome_names_the_console(&welcome, &first.url);
    assert!(
        welcome.contains(&format!("(also saved to {};", saved.display())),
        "{welcome}"
    );
    assert_eq!(
        std::fs::read_to_string(&saved).unwrap(),
        format!("{password}\n")
    );
    assert_signs_in(&first.url, &password).await;
    let log = stderr(&first);
    assert_no_colour_codes(&log);
    assert!(
        !log.contains(&password),
        "the log carries the password:\n{log}"
    );
    assert!(
        log.lines().any(|line| line.contains("berth is serving")),
        "{log}"
    );
    first.kill();

    // The same data again, asked for JSON on the command line (which wins over the
    // environment's `text`).
    let json_flag = |command: &mut Command| {
        command
            .env_remove("BERTH_ADMIN_PASSWORD")
            .env("BERTH_LOG_FORMAT", "text")
            .args(["--log-format", "json"]);
    };
    let second = start(&data, &url, json_flag).await;
    let welcome = second.welcome();
    assert_welcome_names_the_console(&welcome, &second.url);
    assert!(
        welcome.contains(&format!(
            "User `admin` exists; its first password is in {} unless it was changed.",
            saved.display()
        )),
        "{welcome}"
    );
    assert!(!welcome.contains(&password), "{welcome}");
    assert_signs_in(&second.url, &password).await;
    let log = stderr(&second);
    assert_no_colour_codes(&log);
    for line in log.lines() {
        let event: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line:?}"));
        assert!(event.is_object(), "{line}");
    }
    second.kill();
    drop(database);

    // A new deployment given its password.
    let database = TestDatabase::new(backend).await;
    let data = database.dir.path().join("data");
    let given = start(&data, &database.url, |_| {}).await;
    let welcome = given.welcome();
    assert_welcome_names_the_console(&welcome, &given.url);
    assert!(
        welcome.contains("Created user `admin` with the password from BERTH_ADMIN_PASSWORD."),
        "{welcome}"
    );
    assert!(!welcome.contains(ADMIN_PASSWORD), "{welcome}");
    assert!(!data.join("initial-admin-password").exists());
    assert_signs_in(&given.url, ADMIN_PASSWORD).await;
    assert_no_colour_codes(&stderr(&given));
    given.kill();
}

/// Starts the binary off the async workers, since starting blocks until it is serving.
async fn start(
    data: &Path,
    database_url: &str,
    configure: impl FnOnce(&mut Command) + Send + 'static,
) -> BinaryServer {
    let (data, database_url): (PathBuf, String) = (data.to_path_buf(), database_url.into());
    tokio::task::spawn_blocking(move || {
        BinaryServer::spawn_with(&data, Some(&database_url), configure)
    })
    .await
    .unwrap()
}

fn stderr(server: &BinaryServer) -> String {
    server.log.lock().unwrap().join("\n")
}

#[track_caller]
fn assert_welcome_names_the_console(welcome: &str, url: &str) {
    for line in [
        format!("Berth is serving at {url}"),
        format!("Console:  {url}/"),
        format!("API docs: {url}/api/v1/docs"),
    ] {
        assert!(welcome.contains(&line), "`{line}` missing from:\n{welcome}");
    }
}

#[track_caller]
fn assert_no_colour_codes(log: &str) {
    assert!(!log.is_empty(), "the server logged nothing");
    assert!(
        !log.contains("\x1b["),
        "colour codes in a log that is not a terminal:\n{log:?}"
    );
}

async fn assert_signs_in(url: &str, password: &str) {
    let response = client()
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({ "username": "admin", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "admin signs in with the password told"
    );
}
