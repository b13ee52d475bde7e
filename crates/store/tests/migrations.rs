//! The two migration folders say the same thing: `migrations/sqlite` and `migrations/postgres`
//! hold the same files, and each pair differs only on lines marked as a dialect difference.
//!
//! The store runs one code path on both databases (ARCHITECTURE.md), which holds only while
//! both schemas are the same schema. A change made to one folder and forgotten in the other
//! would otherwise show only as a query that fails on one database, perhaps long after.
//!
//! Applied migrations cannot be edited to fit this test: sqlx stores a checksum of every
//! migration it ran and refuses to start on a database whose files no longer match. So the
//! rules below describe the files as they are, and new migrations follow them:
//!
//! - a line that ends in `-- DIALECT`, on either side, may differ from its counterpart (the
//!   released files mark only one side of some pairs, such as PostgreSQL's `COLLATE "C"`);
//! - each file's note naming its twin (`../postgres/…` in the SQLite file, `../sqlite/…` in
//!   the PostgreSQL one) is the same line with the folder names swapped;
//! - [`EXCEPTIONS`] lists the files whose two versions differ beyond that, each with its reason.
//!
//! Everything else must match line for line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The marker that makes a line a dialect difference.
const MARKER: &str = "-- DIALECT";

/// Migrations whose two versions differ beyond marked lines, with the reason. Each must exist
/// in both folders, so a renamed file cannot leave a stale exception that exempts nothing.
const EXCEPTIONS: &[(&str, &str)] = &[(
    "0004_catalog_sources.sql",
    "SQLite cannot drop a column that a UNIQUE constraint names, so it rebuilds `repositories` \
     (create, copy, drop, rename) where PostgreSQL alters the table in place",
)];

fn folder(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect)
}

/// The `.sql` file names in `dir`.
fn migrations(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect()
}

fn is_marked(line: &str) -> bool {
    line.trim_end().ends_with(MARKER)
}

/// `line` with the note naming the twin file made the same on both sides.
fn without_twin_folder(line: &str) -> String {
    line.replace("../postgres/", "../<twin>/")
        .replace("../sqlite/", "../<twin>/")
}

/// The differences between the two versions of one migration that no rule allows, each as a
/// sentence naming the line.
fn unmarked_differences(name: &str, sqlite: &str, postgres: &str) -> Vec<String> {
    let sqlite: Vec<&str> = sqlite.lines().collect();
    let postgres: Vec<&str> = postgres.lines().collect();
    let mut differences = Vec::new();
    for (i, (s, p)) in sqlite.iter().zip(&postgres).enumerate() {
        if is_marked(s) || is_marked(p) || without_twin_folder(s) == without_twin_folder(p) {
            continue;
        }
        differences.push(format!(
            "{name} line {}: sqlite has `{s}`, postgres has `{p}`",
            i + 1
        ));
    }
    if sqlite.len() != postgres.len() {
        differences.push(format!(
            "{name}: sqlite has {} lines, postgres {}",
            sqlite.len(),
            postgres.len()
        ));
    }
    differences
}

#[test]
fn sqlite_and_postgres_migrations_differ_only_on_dialect_lines() {
    let sqlite_dir = folder("sqlite");
    let postgres_dir = folder("postgres");
    let sqlite = migrations(&sqlite_dir);
    let postgres = migrations(&postgres_dir);
    assert_eq!(
        sqlite, postgres,
        "both folders must hold the same migrations"
    );
    assert!(!sqlite.is_empty(), "no migrations found");
    for (name, reason) in EXCEPTIONS {
        assert!(
            sqlite.contains(*name),
            "the exception for {name} ({reason}) names no migration"
        );
    }

    let mut differences = Vec::new();
    for name in &sqlite {
        if EXCEPTIONS.iter().any(|(exception, _)| exception == name) {
            continue;
        }
        let read = |dir: &Path| std::fs::read_to_string(dir.join(name)).unwrap();
        differences.extend(unmarked_differences(
            name,
            &read(&sqlite_dir),
            &read(&postgres_dir),
        ));
    }
    assert!(
        differences.is_empty(),
        "the migrations differ outside lines marked `{MARKER}`:\n{}",
        differences.join("\n")
    );
}

/// The check itself: it passes marked lines and the twin note, and fails on anything else, so
/// the test above cannot pass by accident.
#[test]
fn the_check_finds_unmarked_differences() {
    let sqlite = "-- Keep this file and ../postgres/0009_x.sql identical.\n\
                  CREATE TABLE t (\n    \
                      id INTEGER PRIMARY KEY AUTOINCREMENT, -- DIALECT\n    \
                      name TEXT NOT NULL\n);\n";
    let postgres = "-- Keep this file and ../sqlite/0009_x.sql identical.\n\
                    CREATE TABLE t (\n    \
                        id BIGSERIAL PRIMARY KEY, -- DIALECT\n    \
                        name TEXT COLLATE \"C\" NOT NULL -- DIALECT\n);\n";
    assert_eq!(
        unmarked_differences("same.sql", sqlite, postgres),
        Vec::<String>::new()
    );

    let unmarked = postgres.replace("NOT NULL -- DIALECT", "NOT NULL");
    assert_eq!(
        unmarked_differences("unmarked.sql", sqlite, &unmarked),
        ["unmarked.sql line 4: sqlite has `    name TEXT NOT NULL`, \
             postgres has `    name TEXT COLLATE \"C\" NOT NULL`"]
    );

    let longer = format!("{postgres}CREATE INDEX t_name ON t (name);\n");
    assert_eq!(
        unmarked_differences("longer.sql", sqlite, &longer),
        ["longer.sql: sqlite has 5 lines, postgres 6"]
    );

    let other_note = postgres.replace("identical", "alike");
    assert_eq!(
        unmarked_differences("note.sql", sqlite, &other_note).len(),
        1
    );
}
