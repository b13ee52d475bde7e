//! The reference files and data beside the checkout (`../shared/` of the repository: the
//! published specs and the real OSV exports), which tests check Berth against.

use std::path::{Path, PathBuf};

/// `shared/<relative>` beside the checkout, or under `$<variable>` when that is set. `None`,
/// with a note on standard error, when it is not there, unless `BERTH_REQUIRE_SPECS=1` makes
/// its absence a failure.
pub fn shared_path(variable: &str, relative: &str) -> Option<PathBuf> {
    let path = match std::env::var_os(variable) {
        Some(folder) => PathBuf::from(folder),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
    .join(relative);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("BERTH_REQUIRE_SPECS").as_deref() == Ok("1") {
        panic!("BERTH_REQUIRE_SPECS=1, but {} is not there", path.display());
    }
    // Written to stderr directly: the harness shows `eprintln!` only for failing tests.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "note: {} is not there; the test that needs it is skipped\n",
            path.display()
        )
        .as_bytes(),
    );
    None
}

/// One of the real OSV exports (`shared/data/osv/<ecosystem>.zip`, or under `$BERTH_OSV_DIR`).
pub fn osv_export(ecosystem: &str) -> Option<PathBuf> {
    match std::env::var_os("BERTH_OSV_DIR") {
        Some(_) => shared_path("BERTH_OSV_DIR", &format!("{ecosystem}.zip")),
        None => shared_path("BERTH_SHARED_DIR", &format!("data/osv/{ecosystem}.zip")),
    }
}
