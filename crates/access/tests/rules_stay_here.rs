//! Keeps access decisions in this crate: the crates that serve requests (the registry, the
//! REST API, the server that assembles them, and the identity and HTTP crates they share) must
//! ask `berth_access` rather than decide by role or admin flag themselves.
//!
//! The check reads their sources as text and refuses the marks of a role table: a role
//! variant (`Role::Editor`), a match on the admin flag (`Subject::User { is_admin`), a call of
//! the registry rule's raw table (`space_actions`), a role lookup (`role_in`), an admin check
//! (`is_platform_admin`), or a role name as a string literal. Comments are skipped, so the
//! rules may still be described where they are applied.

use std::path::{Path, PathBuf};

/// The crates that serve requests, relative to this crate.
const SERVING_CRATES: [&str; 5] = [
    "../registry",
    "../api",
    "../server",
    "../identity",
    "../http",
];

/// Text that only a decision about who may do what would contain.
const FORBIDDEN: [&str; 10] = [
    "Role::Admin",
    "Role::Editor",
    "Role::Viewer",
    "Subject::User { is_admin",
    "space_actions(",
    ".role_in(",
    "is_platform_admin(",
    "\"admin\" =>",
    "\"editor\"",
    "\"viewer\"",
];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every line of `source` that holds forbidden text outside a comment, as `line: text`.
fn offending_lines(source: &str) -> Vec<String> {
    source
        .lines()
        .enumerate()
        .filter_map(|(number, line)| {
            let code = line.split("//").next().unwrap_or_default();
            FORBIDDEN
                .iter()
                .any(|mark| code.contains(mark))
                .then(|| format!("{}: {}", number + 1, line.trim()))
        })
        .collect()
}

#[test]
fn serving_crates_hold_no_role_table() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for krate in SERVING_CRATES {
        let src = here.join(krate).join("src");
        assert!(
            src.is_dir(),
            "{} is missing; update SERVING_CRATES",
            src.display()
        );
        rust_files(&src, &mut files);
    }
    assert!(files.len() > 20, "found only {} source files", files.len());
    let mut offences = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for line in offending_lines(&source) {
            offences.push(format!("{}:{line}", file.display()));
        }
    }
    assert!(
        offences.is_empty(),
        "access decisions belong in berth-access; ask one of its functions instead:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_check_catches_a_role_table() {
    let table = "match role {\n    Role::Editor => true, // may push\n    _ => false,\n}\n";
    assert_eq!(
        offending_lines(table),
        ["2: Role::Editor => true, // may push"]
    );
    assert!(offending_lines("// Role::Editor in a comment is fine\n").is_empty());
    assert_eq!(
        offending_lines("if subject.is_platform_admin() {}").len(),
        1
    );
}
