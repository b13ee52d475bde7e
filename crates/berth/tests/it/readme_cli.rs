//! Every `berth` command line in README.md, run as printed against the real binary and a real
//! server, in the README's order: what a new user following the walkthrough on a fresh data
//! dir types, they get. Output the README shows (a table's header, a record's first line) is
//! checked too.
//!
//! Only two things are changed on the way: the server's address and the admin password are
//! the test server's. `berth` is the binary under test on `PATH`, `kubectl` a stand-in that
//! keeps what it is given, and the README's `docker save` output is made by the test.

use std::path::Path;
use std::process::{Command, Stdio};

use berth_client::{Client, NewUser};
use tempfile::TempDir;

use crate::support::{BinaryServer, ADMIN_PASSWORD};

/// The README's server address and admin password, replaced by the test server's.
const README_URL: &str = "http://127.0.0.1:5050";
const README_HOST: &str = "127.0.0.1:5050";
const README_PASSWORD: &str = "change-me-please";

/// One command line of the README, with what the README says it prints, if anything.
#[derive(Debug)]
struct Line {
    /// The shell line as printed, continuation lines joined.
    shell: String,
    /// Words the first line of its output starts with: from a trailing `# COLUMN …` comment
    /// or from a `# …` line right after the command.
    prints: Option<Vec<String>>,
}

/// Whether a shell line runs `berth` (directly, or at the end of `echo … |`).
fn runs_berth(shell: &str) -> bool {
    shell.starts_with("berth ")
        || shell
            .split(" | ")
            .nth(1)
            .is_some_and(|s| s.starts_with("berth "))
}

/// The README's `berth` lines in order: those of `sh` blocks and the `berth …` code spans of the
/// prose. `berth serve` is left out: it is the server, which this test starts itself.
fn readme_lines(readme: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut in_sh = false;
    let mut in_other_block = false;
    let mut pending = String::new();
    let mut last_was_berth = false;
    for raw in readme.lines() {
        if let Some(info) = raw.strip_prefix("```") {
            if in_sh || in_other_block {
                (in_sh, in_other_block) = (false, false);
            } else if info.trim() == "sh" {
                in_sh = true;
            } else {
                in_other_block = true;
            }
            last_was_berth = false;
            continue;
        }
        if in_other_block {
            continue;
        }
        if !in_sh {
            // Prose: code spans that are whole `berth` commands.
            for (i, span) in raw.split('`').enumerate() {
                if i % 2 == 1 && span.starts_with("berth ") && !span.starts_with("berth serve") {
                    lines.push(Line {
                        shell: span.to_string(),
                        prints: None,
                    });
                }
            }
            continue;
        }
        if let Some(joined) = raw.strip_suffix('\\') {
            pending.push_str(joined);
            continue;
        }
        let shell = std::mem::take(&mut pending) + raw;
        let shell = shell.trim();
        if let Some(comment) = shell.strip_prefix('#') {
            // A comment line right after a berth line shows what it printed.
            if last_was_berth {
                let last = lines.last_mut().unwrap();
                last.prints.get_or_insert_with(|| words(comment));
            }
            continue;
        }
        last_was_berth = runs_berth(shell);
        if !last_was_berth {
            continue;
        }
        // A trailing comment in capitals is the header of the table the command prints.
        let (command, comment) = match shell.split_once("  #") {
            Some((command, comment)) => (command.trim_end(), Some(comment)),
            None => (shell, None),
        };
        let prints = comment.map(words).filter(|w| {
            w.first()
                .is_some_and(|w| w.chars().all(|c| c.is_ascii_uppercase()))
        });
        lines.push(Line {
            shell: command.to_string(),
            prints,
        });
    }
    lines
}

/// The words of a README output line, without the `…` that stands for the rest.
fn words(text: &str) -> Vec<String> {
    text.replace(README_HOST, "{host}")
        .split_whitespace()
        .filter(|w| *w != "…")
        .map(str::to_string)
        .collect()
}

/// A directory for `PATH` with `berth`, the binary under test, and a `kubectl` that writes
/// what it is given to `$KUBECTL_APPLIED`, as `kubectl apply -f -` would take it.
fn tools(dir: &Path) {
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_berth"), dir.join("berth")).unwrap();
    let kubectl = dir.join("kubectl");
    std::fs::write(
        &kubectl,
        "#!/bin/sh\n[ \"$*\" = \"apply -f -\" ] || exit 2\ncat > \"$KUBECTL_APPLIED\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cli_line_of_the_readme_works_as_printed() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("reading README.md");
    let lines = readme_lines(&readme);
    // The walkthrough has over twenty; fewer means the reading above broke.
    assert!(lines.len() >= 20, "{lines:#?}");
    assert!(
        lines.iter().filter(|l| l.prints.is_some()).count() >= 2,
        "the README's upload record and image list header not read: {lines:#?}"
    );
    let shown: Vec<&str> = lines.iter().map(|l| l.shell.as_str()).collect();
    for expected in [
        "berth images list --workspace team-a",
        "berth member set alice --workspace team-a --role editor",
        "berth settings set --anonymous-pull false",
    ] {
        assert!(shown.contains(&expected), "{expected} not read: {shown:#?}");
    }

    let data = TempDir::new().unwrap();
    let server = BinaryServer::spawn(data.path(), None);
    let config = TempDir::new().unwrap();
    let bin = TempDir::new().unwrap();
    tools(bin.path());
    let work = TempDir::new().unwrap();
    let applied = work.path().join("applied.yaml");
    // What `docker save my-image:latest -o my-image.tar` writes.
    let (tarball, _) =
        crate::uploads::docker_save_tarball(&crate::skopeo::app_image(), "my-image:latest");
    std::fs::write(work.path().join("my-image.tar"), tarball).unwrap();
    // The walkthrough gives alice a role; her account is the one thing it takes as given.
    Client::new(&server.url)
        .unwrap()
        .with_basic("admin", ADMIN_PASSWORD.into())
        .create_user(&NewUser {
            username: "alice".into(),
            password: "alice-password-1".into(),
            email: None,
            is_admin: None,
        })
        .await
        .unwrap();

    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in &lines {
        let shell = line
            .shell
            .replace(README_URL, &server.url)
            .replace(README_PASSWORD, ADMIN_PASSWORD);
        let output = Command::new("bash")
            .args(["-o", "pipefail", "-c", &shell])
            .current_dir(work.path())
            .env("PATH", &path)
            .env("BERTH_CONFIG_DIR", config.path())
            .env("KUBECTL_APPLIED", &applied)
            .env_remove("BERTH_URL")
            .env_remove("BERTH_TOKEN")
            .env_remove("BERTH_PASSWORD")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "README line `{}` failed:\n{stdout}{}",
            line.shell,
            String::from_utf8_lossy(&output.stderr)
        );
        if let Some(prints) = &line.prints {
            let first: Vec<String> = words(stdout.lines().next().unwrap_or_default())
                .into_iter()
                .map(|w| w.replace(&server.host, "{host}"))
                .collect();
            assert!(
                first.starts_with(prints),
                "README line `{}` printed:\n{stdout}\nnot {prints:?}",
                line.shell
            );
        }
    }

    // The pull secret reached kubectl.
    let secret = std::fs::read_to_string(&applied).expect("kubectl was given the pull secret");
    assert!(secret.contains("kind: Secret"), "{secret}");
    server.kill();
}
