//! `berth images list|show|tags|delete` and `berth select` with the real binary against a real
//! server: images arrive with `berth image upload`, then are found, inspected, picked and
//! deleted from the command line.

use berth_client::Client;
use serde_json::Value;
use tempfile::TempDir;

use crate::cli::Berths;
use crate::support::{workspace_with_private_space, BinaryServer, ADMIN_PASSWORD};
use crate::uploads::oci_tarball;

#[tokio::test]
async fn the_cli_lists_shows_selects_and_deletes_images() {
    let data = TempDir::new().unwrap();
    let server = BinaryServer::spawn(data.path(), None);
    let url = server.url.as_str();
    let config = TempDir::new().unwrap();
    let berth = Berths {
        config_dir: config.path(),
    };
    berth.ok_with(
        &["login", url, "--username", "admin", "--password-stdin"],
        Some(&format!("{ADMIN_PASSWORD}\n")),
    );
    let admin = Client::new(url)
        .unwrap()
        .with_basic("admin", ADMIN_PASSWORD.into());
    workspace_with_private_space(&admin, "team", "apps").await;

    let files = TempDir::new().unwrap();
    let image = crate::skopeo::app_image();
    let tarball = files.path().join("api.tar");
    std::fs::write(&tarball, oci_tarball(&image, "v1")).unwrap();
    for tag in ["1.0.0", "1.1.0", "latest"] {
        let file = tarball.display().to_string();
        berth.ok(&[
            "image",
            "upload",
            &file,
            "--workspace",
            "team",
            "--space",
            "apps",
            "--repository",
            "api",
            "--tag",
            tag,
        ]);
    }

    // The list: a table for people, the server's rows with --output json.
    let table = berth.ok(&["images", "list", "team"]);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("REFERENCE"), "{table}");
    assert!(
        table.contains(&format!("{}/apps/api", server.host)),
        "{table}"
    );
    let rows = berth.json(&["images", "list", "team", "--q", "API", "--tag", "1.1"]);
    assert_eq!(rows["total"], 1);
    assert_eq!(rows["items"][0]["repository"], "apps/api");
    assert_eq!(rows["items"][0]["sources"], serde_json::json!(["bound"]));
    assert_eq!(rows["items"][0]["tag_count"], 3);
    let none = berth.json(&["images", "list", "team", "--q", "nothing"]);
    assert_eq!(none["total"], 0);
    assert!(berth
        .fails(&["images", "list", "team", "--sort", "stars"])
        .contains("sort must be"));

    // Details: the repository, its tags, and one artifact with its layers.
    let repository = berth.json(&["images", "show", "team", "apps/api"]);
    assert_eq!(repository["latest_tag"], "latest");
    assert_eq!(repository["visibility"], "private");
    let tags = berth.json(&["images", "tags", "team", "apps/api", "--q", "1."]);
    let names: Vec<&str> = tags["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{tags}");
    assert!(
        names.contains(&"1.0.0") && names.contains(&"1.1.0"),
        "{tags}"
    );
    let artifact = berth.json(&["images", "show", "team", "apps/api", "--tag", "1.0.0"]);
    assert_eq!(artifact["digest"], image.manifest.digest);
    assert_eq!(
        artifact["layers"].as_array().unwrap().len(),
        image.layers.len()
    );
    let shown = berth.ok(&["images", "show", "team", "apps/api", "--tag", "1.0.0"]);
    assert!(shown.contains("CREATED BY"), "{shown}");
    assert!(shown.contains(&image.manifest.digest), "{shown}");

    // The selector: by tag and pinned by digest, and the private space needs a pull secret.
    let picked: Value = berth.json(&["select", "team", "api:1.1"]);
    let first = &picked["items"][0];
    assert_eq!(
        first["reference"],
        format!("{}/apps/api:1.1.0", server.host)
    );
    assert_eq!(
        first["pinned"],
        format!("{}/apps/api@{}", server.host, image.manifest.digest)
    );
    assert_eq!(first["needs_pull_secret"], true);
    let table = berth.ok(&["select", "team", "api"]);
    assert!(table.starts_with("REFERENCE"), "{table}");

    // Deleting: a tag, then the repository, which needs --confirm with its path.
    berth.ok(&["images", "delete", "team", "apps/api", "--tag", "1.0.0"]);
    let tags = berth.json(&["images", "tags", "team", "apps/api"]);
    assert_eq!(tags["total"], 2);
    assert!(berth
        .fails(&[
            "images",
            "delete",
            "team",
            "apps/api",
            "--confirm",
            "apps/other"
        ])
        .contains("confirm=apps/api"));
    let done = berth.ok(&[
        "images",
        "delete",
        "team",
        "apps/api",
        "--confirm",
        "apps/api",
    ]);
    assert!(done.contains("deleted repository apps/api"), "{done}");
    assert_eq!(berth.json(&["images", "list", "team"])["total"], 0);
    assert!(berth
        .fails(&["images", "show", "team", "apps/api"])
        .contains("not found"));
    server.kill();
}
