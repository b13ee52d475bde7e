//! `berth images list|show|tags|delete` and `berth select` with the real binary against a real
//! server: images arrive with `berth image upload`, then are found, inspected, picked and
//! deleted from the command line.

use berth_client::Client;
use serde_json::Value;
use tempfile::TempDir;

use crate::cli::{app, Berths};
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
    let mut uploaded = String::new();
    for tag in ["1.0.0", "1.1.0", "latest"] {
        let file = tarball.display().to_string();
        uploaded = berth.ok(&[
            "image",
            "upload",
            &file,
            "-w",
            "team",
            "--space",
            "apps",
            "--repository",
            "api",
            "--tag",
            tag,
        ]);
    }

    // The list: a table for people, the server's rows with --output json. The workspace is
    // named with --workspace (-w), or in the older spelling as the first argument.
    let table = berth.ok(&["images", "list", "--workspace", "team"]);
    assert_eq!(berth.ok(&["images", "list", "team"]), table);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("REFERENCE"), "{table}");
    assert!(
        table.contains(&format!("{}/apps/api", server.host)),
        "{table}"
    );
    let rows = berth.json(&["images", "list", "-w", "team", "--q", "API", "--tag", "1.1"]);
    assert_eq!(rows["total"], 1);
    assert_eq!(rows["items"][0]["repository"], "apps/api");
    assert_eq!(rows["items"][0]["sources"], serde_json::json!(["bound"]));
    assert_eq!(rows["items"][0]["tag_count"], 3);
    let none = berth.json(&["images", "list", "team", "--q", "nothing"]);
    assert_eq!(none["total"], 0);
    assert!(berth
        .fails(&["images", "list", "-w", "team", "--sort", "stars"])
        .contains("sort must be"));

    // Sizes: raw bytes in JSON, as the server gives them; in tables as the console shows them.
    let size = rows["items"][0]["size"].as_u64().expect("a size in bytes");
    assert!(size > 0 && size < 1024 * 1024, "{size}");
    let human = app::output::human_size(size);
    assert!(human.ends_with(" KiB") || human.ends_with(" B"), "{human}");
    assert_eq!(size_column(&table), [human.as_str()], "{table}");

    // Details: the repository, its tags, and one artifact with its layers.
    let repository = berth.json(&["images", "show", "apps/api", "-w", "team"]);
    assert_eq!(repository["latest_tag"], "latest");
    assert_eq!(repository["visibility"], "private");
    assert_eq!(repository["size"], size);
    let shown = berth.ok(&["images", "show", "apps/api", "-w", "team"]);
    assert_eq!(record_size(&shown), Some(human.as_str()), "{shown}");
    assert_eq!(record_size(&uploaded), Some(human.as_str()), "{uploaded}");
    let table = berth.ok(&["images", "tags", "-w", "team", "apps/api"]);
    assert_eq!(size_column(&table), [human.as_str(); 3], "{table}");
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
    let artifact = berth.json(&["images", "show", "apps/api", "--tag", "1.0.0", "-w", "team"]);
    assert_eq!(artifact["digest"], image.manifest.digest);
    assert_eq!(artifact["size"], size);
    assert_eq!(
        artifact["layers"].as_array().unwrap().len(),
        image.layers.len()
    );
    let shown = berth.ok(&["images", "show", "team", "apps/api", "--tag", "1.0.0"]);
    assert!(shown.contains("CREATED BY"), "{shown}");
    assert!(shown.contains(&image.manifest.digest), "{shown}");
    // The layer table's sizes are the layers' bytes, written the same way.
    let layers = shown
        .split("\n\n")
        .nth(1)
        .expect("a layer table after the record");
    let expected: Vec<String> = artifact["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| app::output::human_size(l["size"].as_u64().unwrap()))
        .collect();
    assert_eq!(size_column(layers), expected, "{layers}");

    // The selector: by tag and pinned by digest, and the private space needs a pull secret.
    let picked: Value = berth.json(&["select", "-w", "team", "api:1.1"]);
    assert_eq!(berth.json(&["select", "team", "api:1.1"]), picked);
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
    berth.ok(&[
        "images", "delete", "apps/api", "--tag", "1.0.0", "-w", "team",
    ]);
    let tags = berth.json(&["images", "tags", "apps/api", "--workspace", "team"]);
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

/// The SIZE line's value of a record.
fn record_size(record: &str) -> Option<&str> {
    record
        .lines()
        .find_map(|line| line.strip_prefix("SIZE "))
        .map(str::trim)
}

/// The cells under a table's SIZE header, one per row.
fn size_column(table: &str) -> Vec<&str> {
    let mut lines = table.lines();
    let at = lines
        .next()
        .and_then(|header| header.find("SIZE"))
        .expect("a SIZE column");
    lines
        .map(|line| line[at..].split("   ").next().unwrap().trim_end())
        .collect()
}
