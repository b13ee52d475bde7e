//! Vulnerability scans through the REST API: images pushed to the hosted registry are scanned
//! on push against the real OSV exports (imported with the real `berth vulndb import`), their
//! reports, logs and summaries read back; the layer cache, a multi-arch index, an artifact that
//! is no image, a corrupt layer, a stopped scan and a rescan after the database changes.
//!
//! Every test body runs once per database backend (`<name>::sqlite`, `<name>::postgres`).

use std::time::{Duration, Instant};

use berth_testkit::{index, layer, Blob, Image, ImageBuilder};
use serde_json::{json, Value};

use crate::support::api::{Api, Auth};
use crate::support::{create_space, create_workspace, push_image, run_berth, Backend};

crate::on_both_backends!(
    multi_thread:
    pushed_images_are_scanned_with_reports_logs_and_the_layer_cache,
    indexes_artifacts_corrupt_layers_stops_and_database_changes,
);

/// The Debian 12 packages of a real minbase image's status database (six paragraphs).
const DPKG_STATUS: &[u8] = include_bytes!("../../../scan/tests/data/dpkg-status");
const OS_RELEASE: &[u8] = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";

/// The Debian base layer every test image is built on.
fn base_layer() -> berth_testkit::Layer {
    layer(&[
        ("etc/os-release", OS_RELEASE),
        ("var/lib/dpkg/status", DPKG_STATUS),
    ])
}

/// An old urllib3, as pip installs it.
fn urllib3_layer() -> berth_testkit::Layer {
    layer(&[(
        "usr/local/lib/python3.11/site-packages/urllib3-1.26.4.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.4\n",
    )])
}

/// An application layer of no packages.
fn app_layer(name: &str) -> berth_testkit::Layer {
    layer(&[(&format!("srv/{name}/main.sh")[..], b"#!/bin/sh\necho hi\n")])
}

/// Imports the advisories the scans match against with the real binary: the full OSV exports
/// of `shared/data/osv/` when they are there, else the real advisories of the test images'
/// packages copied from them (`crates/scanner/tests/data/osv/`), then the folders of `extra`.
pub fn import_advisories(api: &Api, extra: &[&str]) {
    let exports: Vec<_> = ["Debian", "PyPI", "crates.io"]
        .into_iter()
        .filter_map(berth_testkit::shared::osv_export)
        .collect();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../scanner/tests/data/osv");
    let mut sources: Vec<&str> = if exports.len() == 3 {
        exports.iter().map(|p| p.to_str().unwrap()).collect()
    } else {
        vec![fixtures]
    };
    sources.extend(extra);
    let config = tempfile::tempdir().unwrap();
    let mut args = vec!["vulndb", "import"];
    args.extend(sources);
    args.extend(["--database-url", api.server.database_url()]);
    let (ok, out, err) = run_berth(config.path(), &args);
    assert!(ok, "{out}{err}");
}

fn artifact_path(repository: &str, digest: &str) -> String {
    let repository = repository.replace('/', "%2F");
    format!("/workspaces/ops/registries/hosted/repositories/{repository}/artifacts/{digest}")
}

/// Polls the artifact's scan until it is final (not queued or running), answering it.
pub async fn finished_scan(api: &Api, repository: &str, digest: &str) -> Value {
    let path = artifact_path(repository, digest);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let artifact = api.get(&path, api.as_admin()).await.expect(200);
        let scan = artifact["scan"].clone();
        let status = scan["status"].as_str().unwrap().to_string();
        if !matches!(status.as_str(), "queued" | "running" | "not_scanned") {
            return scan;
        }
        assert!(
            Instant::now() < deadline,
            "the scan of {repository}@{digest} is still {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn log_lines(api: &Api, repository: &str, digest: &str) -> Vec<String> {
    let log = api
        .get(
            &format!("{}/scan-log", artifact_path(repository, digest)),
            api.as_admin(),
        )
        .await
        .expect(200);
    log["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}: {}",
                l["level"].as_str().unwrap(),
                l["message"].as_str().unwrap()
            )
        })
        .collect()
}

async fn start(backend: Backend) -> Api {
    let api = Api::start(backend).await;
    let store = &api.server.state.store;
    create_space(store, "team", true).await;
    create_workspace(store, "ops").await;
    api
}

async fn pushed_images_are_scanned_with_reports_logs_and_the_layer_cache(backend: Backend) {
    let api = start(backend).await;
    import_advisories(&api, &[]);
    let token = api
        .server
        .admin_token(&["team/py", "team/other", "team/quiet"])
        .await;
    let python = ImageBuilder::new()
        .layer(base_layer(), "debootstrap")
        .layer(urllib3_layer(), "pip install urllib3==1.26.4")
        .build();
    push_image(&api.server.url, &token, "team/py", &python, "1").await;
    let digest = python.manifest.digest.clone();

    // Scanned on push, as nobody asked.
    let scan = finished_scan(&api, "team/py", &digest).await;
    assert_eq!(scan["status"], "success", "{scan}");
    assert_eq!(scan["scanner"]["name"], "berth");
    assert!(scan["db_updated_at"].is_string() && scan["finished_at"].is_string());
    let total = scan["total"].as_i64().unwrap();
    let counts = &scan["counts"];
    let counted: i64 = ["critical", "high", "medium", "low", "none", "unknown"]
        .iter()
        .map(|s| counts[s].as_i64().unwrap())
        .sum();
    assert_eq!(counted, total, "{scan}");
    // libssl3 21, libc6 6, zlib1g 3 (as `dpkg --compare-versions` agrees, see berth-scan's
    // tests), and two of urllib3 1.26.4's PyPI advisories at least.
    assert!(total >= 32, "{scan}");
    assert!(scan["fixable"].as_i64().unwrap() > 0);

    // The report: the binary packages as installed, each advisory naming the source package.
    let path = artifact_path("team/py", &digest);
    let report = api
        .get(&format!("{path}/vulnerabilities?limit=500"), api.as_admin())
        .await
        .expect(200);
    assert_eq!(report["total"], total);
    let items = report["items"].as_array().unwrap();
    let find = |id: &str, package: &str| {
        items
            .iter()
            .find(|v| v["id"] == id && v["package"] == package)
            .unwrap_or_else(|| panic!("{id} of {package} is not reported"))
    };
    let count = |package: &str| items.iter().filter(|v| v["package"] == package).count();
    assert_eq!(
        ["libssl3", "libc6", "zlib1g", "bash", "base-files", "tzdata"].map(count),
        [21, 6, 3, 0, 0, 0]
    );
    let zlib = find("DEBIAN-CVE-2026-27171", "zlib1g");
    assert_eq!(zlib["ecosystem"], "Debian:12");
    assert_eq!(zlib["installed_version"], "1:1.2.13.dfsg-1");
    assert_eq!(zlib["fixed_version"], "1:1.2.13.dfsg-1+deb12u1");
    // Debian rates nothing itself: each finding says who did.
    for v in items.iter().filter(|v| v["ecosystem"] == "Debian:12") {
        let source = &v["severity_source"];
        match source["kind"].as_str().unwrap() {
            "related" => assert!(source["advisory"].is_string(), "{v}"),
            "debian-urgency" => assert!(source["urgency"].is_string(), "{v}"),
            "unrated" => assert_eq!(v["severity"], "unknown", "{v}"),
            other => panic!("a Debian finding rated by {other}: {v}"),
        }
    }
    let urllib3 = find("PYSEC-2021-108", "urllib3");
    assert_eq!(urllib3["installed_version"], "1.26.4");
    assert_eq!(urllib3["fixed_version"], "1.26.5");
    assert!(urllib3["found_in"]
        .as_str()
        .unwrap()
        .ends_with("urllib3-1.26.4.dist-info/METADATA"));
    // Most severe first.
    let ranks: Vec<i64> = items
        .iter()
        .map(|v| match v["severity"].as_str().unwrap() {
            "critical" => 5,
            "high" => 4,
            "medium" => 3,
            "low" => 2,
            "none" => 1,
            _ => 0,
        })
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");

    // Filters and pages.
    let high = api
        .get(
            &format!("{path}/vulnerabilities?severity=high&limit=500"),
            api.as_admin(),
        )
        .await
        .expect(200);
    let expected_high = counts["critical"].as_i64().unwrap() + counts["high"].as_i64().unwrap();
    assert_eq!(high["total"], expected_high);
    let unfixable = api
        .get(
            &format!("{path}/vulnerabilities?fixable=false"),
            api.as_admin(),
        )
        .await
        .expect(200);
    assert_eq!(
        unfixable["total"].as_i64().unwrap(),
        total - scan["fixable"].as_i64().unwrap()
    );
    assert!(unfixable["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["fixed_version"].is_null()));
    let first = api
        .get(&format!("{path}/vulnerabilities?limit=5"), api.as_admin())
        .await
        .expect(200);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = api
        .get(
            &format!("{path}/vulnerabilities?limit=5&cursor={cursor}"),
            api.as_admin(),
        )
        .await
        .expect(200);
    assert_eq!(first["items"].as_array().unwrap()[..], items[..5]);
    assert_eq!(second["items"].as_array().unwrap()[..], items[5..10]);
    api.get(
        &format!("{path}/vulnerabilities?severity=urgent"),
        api.as_admin(),
    )
    .await
    .error(400, "invalid", "severity must be");

    // The log says what was read and matched.
    let log = log_lines(&api, "team/py", &digest).await;
    let text = log.join("\n");
    assert!(text.contains("vulnerability database: import"), "{text}");
    // The log is the digest's, read wherever the digest is visible: it names no repository and
    // nobody who asked.
    assert!(
        !text.contains("team/py") && !text.contains("admin"),
        "{text}"
    );
    assert!(
        text.contains("operating system: Debian GNU/Linux 12 (bookworm)"),
        "{text}"
    );
    assert!(text.contains("7 packages (Debian:12 6, PyPI 1)"), "{text}");
    assert_eq!(
        log.iter().filter(|l| l.contains(": read (")).count(),
        2,
        "{text}"
    );

    // A second image on the same base reads the base from the cache.
    let other = ImageBuilder::new()
        .layer(base_layer(), "debootstrap")
        .layer(app_layer("other"), "COPY main.sh")
        .build();
    push_image(&api.server.url, &token, "team/other", &other, "1").await;
    let scan = finished_scan(&api, "team/other", &other.manifest.digest).await;
    assert_eq!(scan["status"], "success", "{scan}");
    let log = log_lines(&api, "team/other", &other.manifest.digest).await;
    let base = &python.layers[0].digest;
    assert!(
        log.iter()
            .any(|l| l.contains(&format!("layer 1/2 {base}: from the cache"))),
        "{log:#?}"
    );
    assert!(log
        .iter()
        .any(|l| l.contains("layer 2/2") && l.contains(": read (")));

    // A space with scan-on-push off queues nothing for a push; its images scan on request.
    let space = api
        .patch(
            "/registries/hosted/spaces/team",
            api.as_admin(),
            json!({"scan_on_push": false}),
        )
        .await
        .expect(200);
    assert_eq!(space["scan_on_push"], false);
    let quiet = ImageBuilder::new()
        .layer(base_layer(), "debootstrap")
        .layer(app_layer("quiet"), "COPY main.sh")
        .build();
    push_image(&api.server.url, &token, "team/quiet", &quiet, "1").await;
    let store = &api.server.state.store;
    let job = store
        .latest_job(berth_scanner::JOB_KIND, &quiet.manifest.digest)
        .await
        .unwrap();
    assert!(job.is_none(), "{job:?}");
    let artifact = api
        .get(
            &artifact_path("team/quiet", &quiet.manifest.digest),
            api.as_admin(),
        )
        .await
        .expect(200);
    assert_eq!(artifact["scan"]["status"], "not_scanned");
    api.patch(
        "/registries/hosted/spaces/team",
        api.as_admin(),
        json!({"scan_on_push": true}),
    )
    .await
    .expect(200);

    // The list filters by the latest tag's severity, and sorts by it.
    let py_scan = finished_scan(&api, "team/py", &digest).await;
    let highest = py_scan["severity"].as_str().unwrap().to_string();
    let listed = api
        .get(
            &format!("/workspaces/ops/images?scan={highest}"),
            api.as_admin(),
        )
        .await
        .expect(200);
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repository"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"team/py"), "{listed}");
    assert_eq!(listed["items"][0]["scan"]["severity"], highest.as_str());
    if highest != "critical" {
        let none = api
            .get("/workspaces/ops/images?scan=critical", api.as_admin())
            .await
            .expect(200);
        assert_eq!(none["total"], 0, "{none}");
    }
    let sorted = api
        .get("/workspaces/ops/images?sort=severity", api.as_admin())
        .await
        .expect(200);
    let first = &sorted["items"][0];
    assert_eq!(first["scan"]["severity"], highest.as_str(), "{sorted}");
    api.get("/workspaces/ops/images?scan=urgent", api.as_admin())
        .await
        .error(400, "invalid", "scan must be");

    // Tags and the selector carry the summary too.
    let tags = api
        .get(
            "/workspaces/ops/registries/hosted/repositories/team%2Fpy/tags",
            api.as_admin(),
        )
        .await
        .expect(200);
    assert_eq!(tags["items"][0]["scan"]["total"], total);
    let selector = api
        .get("/workspaces/ops/selector?q=team/py", api.as_admin())
        .await
        .expect(200);
    assert_eq!(selector["items"][0]["scan"]["status"], "success");

    // Who may start a scan: push rights in the space. A viewer of the workspace reads the
    // report but may not start one.
    let viewer = api.user("vic").await;
    api.member("ops", "vic", "viewer").await;
    api.get(&format!("{path}/vulnerabilities"), Auth::Bearer(&viewer))
        .await
        .expect(200);
    api.post(&format!("{path}/scan"), Auth::Bearer(&viewer), json!({}))
        .await
        .error(403, "forbidden", "scan");
    let requested = api
        .post(&format!("{path}/scan"), api.as_admin(), json!({}))
        .await
        .expect(202);
    assert_eq!(requested["queued"], 1);
    assert!(matches!(
        requested["scan"]["status"].as_str().unwrap(),
        "queued" | "running" | "success"
    ));
    let rescanned = finished_scan(&api, "team/py", &digest).await;
    assert_eq!(rescanned["total"], total);
    // The rescan reads every layer from the cache.
    let log = log_lines(&api, "team/py", &digest).await;
    assert_eq!(
        log.iter().filter(|l| l.contains("from the cache")).count(),
        2
    );

    // A scan of the whole registry queues each tagged image (platform admins only).
    api.post("/registries/hosted/scan", Auth::Bearer(&viewer), json!({}))
        .await
        .error(403, "forbidden", "admin");
    let all = api
        .post("/registries/hosted/scan", api.as_admin(), json!({}))
        .await
        .expect(202);
    assert_eq!(all["queued"], 3, "{all}");
    finished_scan(&api, "team/py", &digest).await;
    finished_scan(&api, "team/other", &other.manifest.digest).await;
    let quiet_scan = finished_scan(&api, "team/quiet", &quiet.manifest.digest).await;
    assert_eq!(quiet_scan["status"], "success");
    api.assert_audited(&["registry.scan"]).await;

    // SBOMs of the packages the scan read, valid against their formats' published schemas.
    for (format, media_type) in [
        ("spdx-json", "application/spdx+json"),
        ("cyclonedx-json", "application/vnd.cyclonedx+json"),
    ] {
        let answer = api
            .get(&format!("{path}/sbom?format={format}"), api.as_admin())
            .await;
        assert_eq!(answer.content_type(), media_type);
        let document = answer.expect(200);
        let text = serde_json::to_string(&document).unwrap();
        assert!(
            text.contains("pkg:deb/debian/libssl3@") && text.contains("pkg:pypi/urllib3@1.26.4"),
            "{text}"
        );
        validate_sbom(format, &text);
    }
    let spdx = api
        .get(&format!("{path}/sbom"), api.as_admin())
        .await
        .expect(200);
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert_eq!(
        spdx["packages"].as_array().unwrap().len(),
        8,
        "the image and 7 packages"
    );
    api.get(&format!("{path}/sbom?format=xml"), api.as_admin())
        .await
        .error(400, "invalid", "format must be");

    // Attached on request as an OCI artifact referring to the image (push rights): the
    // registry's referrers API lists it, and its one layer is the document.
    api.post(&format!("{path}/sbom"), Auth::Bearer(&viewer), json!({}))
        .await
        .error(403, "forbidden", "attach");
    let attached = api
        .post(
            &format!("{path}/sbom?format=cyclonedx-json"),
            api.as_admin(),
            json!({}),
        )
        .await
        .expect(201);
    assert_eq!(attached["artifact_type"], "application/vnd.cyclonedx+json");
    let http = crate::support::client();
    let referrers: Value = http
        .get(format!("{}/v2/team/py/referrers/{digest}", api.server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = &referrers["manifests"][0];
    assert_eq!(listed["digest"], attached["digest"], "{referrers}");
    assert_eq!(listed["artifactType"], "application/vnd.cyclonedx+json");
    let manifest: Value = http
        .get(format!(
            "{}/v2/team/py/manifests/{}",
            api.server.url,
            attached["digest"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["subject"]["digest"], digest.as_str());
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let document: Value = http
        .get(format!("{}/v2/team/py/blobs/{layer}", api.server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["bomFormat"], "CycloneDX");
    validate_sbom("cyclonedx-json", &document.to_string());
    api.assert_audited(&["sbom.attach"]).await;
    let chart_free = ImageBuilder::new()
        .layer(app_layer("unscanned"), "COPY main.sh")
        .build();
    push_image(
        &api.server.url,
        &token,
        "team/other",
        &chart_free,
        &chart_free.manifest.digest,
    )
    .await;
    let unscanned = artifact_path("team/other", &chart_free.manifest.digest);
    api.get(&format!("{unscanned}/sbom"), api.as_admin())
        .await
        .error(409, "conflict", "scan it first");

    // The CLI: `berth scan --wait`, `berth vulns`, `berth sbom`, `berth scan --log`.
    let config = tempfile::tempdir().unwrap();
    let globals = [
        "--server",
        api.server.url.as_str(),
        "--token",
        api.admin.as_str(),
    ];
    let berth = |args: &[&str]| {
        let args: Vec<&str> = args.iter().chain(globals.iter()).copied().collect();
        let (ok, out, err) = run_berth(config.path(), &args);
        assert!(ok, "berth {args:?}: {out}{err}");
        out
    };
    let out = berth(&["scan", "team/py:1", "-w", "ops", "--wait"]);
    assert!(out.contains("success"), "{out}");
    assert!(out.contains(&format!("{total}")), "{out}");
    let out = berth(&[
        "vulns",
        "team/py:1",
        "-w",
        "ops",
        "--severity",
        "high",
        "-o",
        "json",
    ]);
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed["total"], expected_high, "{out}");
    let out = berth(&[
        "vulns",
        &format!("team/py@{digest}"),
        "-w",
        "ops",
        "--fixable",
        "true",
    ]);
    assert!(
        out.contains("PYSEC-2021-108") && out.contains("1.26.5"),
        "{out}"
    );
    let out = berth(&[
        "sbom",
        "team/py:1",
        "-w",
        "ops",
        "--format",
        "cyclonedx-json",
    ]);
    let bom: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(bom["specVersion"], "1.5");
    assert_eq!(bom["components"].as_array().unwrap().len(), 7);
    let pinned = format!("team/py@{digest}");
    let out = berth(&["scan", &pinned, "-w", "ops", "--log"]);
    assert!(out.contains("from the cache"), "{out}");
    let (ok, _, err) = run_berth(
        config.path(),
        &[&["scan", "team/py:nope", "-w", "ops"][..], &globals[..]].concat(),
    );
    assert!(!ok && err.contains("has no tag `nope`"), "{err}");
    api.server.stop().await;
}

async fn indexes_artifacts_corrupt_layers_stops_and_database_changes(backend: Backend) {
    let api = start(backend).await;
    import_advisories(&api, &[]);
    let token = api
        .server
        .admin_token(&["team/multi", "team/chart", "team/broken", "team/big"])
        .await;

    // A multi-arch index: each image is scanned and reported on its own, and the index's
    // report is the union.
    let amd = ImageBuilder::new()
        .platform("linux", "amd64", None)
        .layer(base_layer(), "debootstrap")
        .build();
    let arm = ImageBuilder::new()
        .platform("linux", "arm64", Some("v8"))
        .layer(base_layer(), "debootstrap")
        .layer(urllib3_layer(), "pip install urllib3==1.26.4")
        .build();
    let multi = index(vec![amd.clone(), arm.clone()]);
    for image in &multi.images {
        push_image(
            &api.server.url,
            &token,
            "team/multi",
            image,
            &image.manifest.digest,
        )
        .await;
    }
    crate::support::put_manifest(
        &api.server.url,
        &token,
        "team/multi",
        &Image {
            manifest: multi.manifest.clone(),
            ..amd.clone()
        },
        "latest",
    )
    .await;
    let union = finished_scan(&api, "team/multi", &multi.manifest.digest).await;
    assert_eq!(union["status"], "success", "{union}");
    let amd_scan = finished_scan(&api, "team/multi", &amd.manifest.digest).await;
    let arm_scan = finished_scan(&api, "team/multi", &arm.manifest.digest).await;
    assert_eq!(arm_scan["status"], "success");
    assert!(arm_scan["total"].as_i64() > amd_scan["total"].as_i64());
    assert_eq!(
        union["total"], arm_scan["total"],
        "arm64 holds all of amd64 and more"
    );

    // An artifact that is no image is unsupported, saying why.
    let chart = chart_image();
    push_image(&api.server.url, &token, "team/chart", &chart, "0.1.0").await;
    let scan = finished_scan(&api, "team/chart", &chart.manifest.digest).await;
    assert_eq!(scan["status"], "unsupported", "{scan}");
    assert!(scan["reason"]
        .as_str()
        .unwrap()
        .contains("not a container image"));

    // A corrupt layer fails the scan with the reason; nothing else breaks.
    let broken = ImageBuilder::new()
        .layer(base_layer(), "debootstrap")
        .layer(
            berth_testkit::Layer {
                blob: Blob::new(
                    "application/vnd.oci.image.layer.v1.tar+gzip",
                    b"\x1f\x8b\x08\x00garbage that is no gzip stream".to_vec(),
                ),
                diff_id: format!("sha256:{}", "0".repeat(64)),
            },
            "corrupt",
        )
        .build();
    push_image(&api.server.url, &token, "team/broken", &broken, "1").await;
    let scan = finished_scan(&api, "team/broken", &broken.manifest.digest).await;
    assert_eq!(scan["status"], "failed", "{scan}");
    let reason = scan["reason"].as_str().unwrap();
    assert!(
        reason.contains("layer 2/2") && reason.contains("cannot be read"),
        "{reason}"
    );
    let log = log_lines(&api, "team/broken", &broken.manifest.digest).await;
    assert!(
        log.iter().any(|l| l.starts_with("warning: layer 2/2")),
        "{log:#?}"
    );
    // The index's report still stands, and the corrupt layer was not kept as read.
    let again = finished_scan(&api, "team/multi", &multi.manifest.digest).await;
    assert_eq!(again["total"], union["total"]);
    assert!(api
        .server
        .state
        .store
        .layer_analysis(
            &broken.layers[1].digest,
            berth_scan::layer::LAYER_READER_VERSION
        )
        .await
        .unwrap()
        .is_none());

    // A stop asked of an image with no live scan is refused; one asked of a queued or running
    // scan leaves the previous report standing.
    let multi_path = artifact_path("team/multi", &multi.manifest.digest);
    api.delete(&format!("{multi_path}/scan"), api.as_admin())
        .await
        .error(409, "conflict", "no scan");
    let big = ImageBuilder::new()
        .layer(base_layer(), "debootstrap")
        .layer(berth_testkit::random_layer(96 << 20, 7, 0), "a big layer")
        .build();
    push_image(
        &api.server.url,
        &token,
        "team/big",
        &big,
        &big.manifest.digest,
    )
    .await;
    let big_path = artifact_path("team/big", &big.manifest.digest);
    api.post(&format!("{big_path}/scan"), api.as_admin(), json!({}))
        .await
        .expect(202);
    let stopped = api
        .delete(&format!("{big_path}/scan"), api.as_admin())
        .await;
    if stopped.status == 202 {
        // The worker learns of the stop at its next renewal, or when it would write the
        // report, and ends the job as cancelled, writing nothing.
        let store = &api.server.state.store;
        let deadline = Instant::now() + Duration::from_secs(60);
        let job = loop {
            let job = store
                .latest_job(berth_scanner::JOB_KIND, &big.manifest.digest)
                .await
                .unwrap()
                .unwrap();
            if !job.state.is_live() {
                break job;
            }
            assert!(Instant::now() < deadline, "the stopped scan still runs");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(job.state.as_str(), "cancelled");
        // Nothing had finished before, so the image is still not scanned.
        let artifact = api.get(&big_path, api.as_admin()).await.expect(200);
        assert_eq!(
            artifact["scan"]["status"], "not_scanned",
            "{}",
            artifact["scan"]
        );
    } else {
        // The scan finished before the stop arrived.
        assert_eq!(stopped.status, 409, "{}", stopped.text);
    }

    // A newer database scans the images again: a new advisory about zlib reaches the report
    // without anyone asking.
    let before = finished_scan(&api, "team/multi", &amd.manifest.digest).await;
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("BERTH-TEST-1.json"),
        json!({
            "id": "BERTH-TEST-1",
            "modified": "2030-01-01T00:00:00Z",
            "summary": "a test advisory about every zlib",
            "affected": [{
                "package": {"ecosystem": "Debian:12", "name": "zlib"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]
            }]
        })
        .to_string(),
    )
    .unwrap();
    import_advisories(&api, &[folder.path().to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let scan = finished_scan(&api, "team/multi", &amd.manifest.digest).await;
        if scan["total"].as_i64() == before["total"].as_i64().map(|t| t + 1) {
            assert_ne!(scan["db_updated_at"], before["db_updated_at"]);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no rescan after the import: {scan}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let report = api
        .get(
            &format!(
                "{}/vulnerabilities?limit=500",
                artifact_path("team/multi", &amd.manifest.digest)
            ),
            api.as_admin(),
        )
        .await
        .expect(200);
    let added = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "BERTH-TEST-1")
        .expect("the new advisory is reported");
    assert_eq!(added["package"], "zlib1g");
    assert_eq!(added["severity"], "unknown");
    assert!(added["fixed_version"].is_null());
    api.server.stop().await;
}

/// Checks `document` against the published schema of `format` with the format's own tools
/// (`scripts/validate-sbom`); skipped with a note when they are not installed, unless
/// `BERTH_REQUIRE_SBOM_VALIDATORS=1` (which `scripts/test` sets once it installed them).
pub fn validate_sbom(format: &str, document: &str) {
    // The SPDX tools tell the format by the file's extension.
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(file.path(), document).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/validate-sbom");
    let output = std::process::Command::new("python3")
        .args([script, format, file.path().to_str().unwrap()])
        .output()
        .expect("running scripts/validate-sbom");
    let errors = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {}
        Some(3) if std::env::var("BERTH_REQUIRE_SBOM_VALIDATORS").as_deref() != Ok("1") => {
            eprintln!("note: {errors}; the {format} document was not validated");
        }
        _ => panic!("the {format} document is not valid: {errors}\n{document}"),
    }
}

/// A Helm chart as an OCI artifact: a manifest with a Helm config and one chart layer.
fn chart_image() -> Image {
    let config = Blob::new(
        "application/vnd.cncf.helm.config.v1+json",
        br#"{"name":"chart","version":"0.1.0"}"#.to_vec(),
    );
    let content = app_layer("chart")
        .blob
        .with_media_type("application/vnd.cncf.helm.chart.content.v1.tar+gzip");
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": berth_testkit::image::OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [content.descriptor()],
    });
    Image {
        manifest: Blob::new(
            berth_testkit::image::OCI_MANIFEST,
            serde_json::to_vec(&manifest).unwrap(),
        ),
        config,
        layers: vec![content],
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    }
}
