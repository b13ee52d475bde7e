//! `berth vulndb import` and `berth vulndb status` as a user runs them: the real binary on a
//! fresh data directory, with the real OSV exports and a folder of documents.

use tempfile::TempDir;

#[test]
fn osv_exports_import_incrementally_and_the_status_tells_them() {
    let (Some(go), Some(crates)) = (
        berth_testkit::shared::osv_export("Go"),
        berth_testkit::shared::osv_export("crates.io"),
    ) else {
        return;
    };
    let data = TempDir::new().unwrap();
    let berth = |args: &[&str]| crate::support::run_berth(data.path(), args);
    let data_dir = data.path().join("data");
    let data_dir = data_dir.to_str().unwrap();
    let (go, crates) = (go.to_str().unwrap(), crates.to_str().unwrap());

    let (ok, out, err) = berth(&["vulndb", "import", go, crates, "--data-dir", data_dir]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("Go.zip: 4291 added, 0 updated, 0 unchanged (17 withdrawn), 0 refused"),
        "{out}"
    );
    assert!(
        out.contains("crates.io.zip: 1206 added, 0 updated, 0 unchanged (13 withdrawn)"),
        "{out}"
    );

    // The same export again changes nothing; a folder with one newer document, one new and
    // one broken one adds, updates and refuses each, saying which was refused.
    let (ok, out, err) = berth(&["vulndb", "import", go, "--data-dir", data_dir]);
    assert!(
        ok && out.contains("0 added, 0 updated, 4291 unchanged"),
        "{out}{err}"
    );
    let folder = data.path().join("osv");
    std::fs::create_dir_all(folder.join("nested")).unwrap();
    std::fs::write(
        folder.join("GO-2022-0617.json"),
        r#"{"id": "GO-2022-0617", "modified": "2030-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Go", "name": "k8s.io/kubernetes"}}]}"#,
    )
    .unwrap();
    std::fs::write(
        folder.join("nested/BERTH-1.json"),
        r#"{"id": "BERTH-1", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-2026-1"]}"#,
    )
    .unwrap();
    std::fs::write(folder.join("broken.json"), r#"{"id": 3}"#).unwrap();
    std::fs::write(folder.join("notes.txt"), "not an advisory").unwrap();
    let (ok, out, err) = berth(&[
        "vulndb",
        "import",
        folder.to_str().unwrap(),
        "--data-dir",
        data_dir,
    ]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("1 added, 1 updated, 0 unchanged (0 withdrawn), 1 refused"),
        "{out}"
    );
    assert!(
        err.contains("refused") && err.contains("broken.json"),
        "{err}"
    );

    let (ok, out, err) = berth(&["vulndb", "status", "--data-dir", data_dir]);
    assert!(ok, "{out}{err}");
    // 4291 + 1206 + 1; the update un-withdrew GO-2022-0617, leaving 16 + 13.
    assert!(out.contains("ADVISORIES        5498"), "{out}");
    assert!(out.contains("WITHDRAWN         29"), "{out}");
    assert!(
        out.contains("NEWEST MODIFIED   2030-01-01T00:00:00Z"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("crates.io") && l.ends_with("1193")),
        "{out}"
    );
    assert_eq!(
        out.matches("Go.zip").count(),
        2,
        "both imports of Go.zip are listed: {out}"
    );

    // A path that is not there fails, naming it.
    let (ok, _, err) = berth(&[
        "vulndb",
        "import",
        "/nowhere/Go.zip",
        "--data-dir",
        data_dir,
    ]);
    assert!(!ok && err.contains("/nowhere/Go.zip"), "{err}");
}
