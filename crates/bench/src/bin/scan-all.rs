//! `scan-all`: the scan-all benchmark's client. Pushes `--images` images that share three base
//! layers into one repository of a running Berth (with scan-on-push off for its space, so the
//! pushes scan nothing), then asks for a scan of the whole registry
//! (`POST /registries/hosted/scan`) and waits until every image's scan has finished. Prints
//! one JSON line: images, seconds to push, seconds to scan them all, scans per second, and how
//! many scans succeeded.
//!
//! The base layers are a real Debian root filesystem (`--base-layer`, a gzip tar such as the
//! one `scripts/debian-image` builds), a layer of Python distributions and one of Node
//! packages; each image adds a small layer of its own, so every image is distinct and the
//! three base layers are each read once when scans share them by digest.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use berth_testkit::{layer, Layer};
use clap::Parser;
use serde_json::{json, Value};
use sha2::Digest as _;

#[derive(Parser)]
struct Args {
    /// Berth's base URL, e.g. `http://127.0.0.1:5050`.
    #[arg(long)]
    url: String,
    #[arg(long, default_value = "admin")]
    user: String,
    #[arg(long, env = "BENCH_PASSWORD")]
    password: String,
    /// The first base layer: a gzip-compressed tar of a root filesystem.
    #[arg(long)]
    base_layer: std::path::PathBuf,
    #[arg(long, default_value_t = 1000)]
    images: usize,
    /// Space and repository inside it.
    #[arg(long, default_value = "bench")]
    space: String,
    /// Give up waiting for the scans after this many seconds.
    #[arg(long, default_value_t = 3600)]
    timeout: u64,
}

struct Blob {
    media_type: &'static str,
    digest: String,
    bytes: Vec<u8>,
}

impl Blob {
    fn new(media_type: &'static str, bytes: Vec<u8>) -> Blob {
        let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&bytes)));
        Blob {
            media_type,
            digest,
            bytes,
        }
    }

    fn descriptor(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.bytes.len()})
    }
}

const LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn layer_blob(layer: Layer) -> (Blob, String) {
    (Blob::new(LAYER, layer.blob.bytes.to_vec()), layer.diff_id)
}

/// A layer of `count` Python distributions, as pip installs them.
fn python_layer(count: usize) -> Layer {
    let files: Vec<(String, Vec<u8>)> = (0..count)
        .map(|n| {
            (
                format!(
                    "usr/local/lib/python3.11/site-packages/package_{n}-1.{n}.0.dist-info/METADATA"
                ),
                format!("Metadata-Version: 2.1\nName: package-{n}\nVersion: 1.{n}.0\n")
                    .into_bytes(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    layer(&refs)
}

/// A layer of `count` Node packages under `node_modules`.
fn node_layer(count: usize) -> Layer {
    let files: Vec<(String, Vec<u8>)> = (0..count)
        .map(|n| {
            (
                format!("srv/app/node_modules/module-{n}/package.json"),
                format!(r#"{{"name": "module-{n}", "version": "2.{n}.1"}}"#).into_bytes(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    layer(&refs)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::new();
    let url = args.url.trim_end_matches('/');
    let repository = format!("{}/app", args.space);

    let session: Value = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"username": args.user, "password": args.password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let api_token = session["token"]
        .as_str()
        .context("no session token")?
        .to_string();
    let created = http
        .post(format!("{url}/api/v1/registries/hosted/spaces"))
        .bearer_auth(&api_token)
        .json(&json!({"name": args.space, "public": true}))
        .send()
        .await?;
    if !created.status().is_success() && created.status() != 409 {
        bail!("creating space {}: {}", args.space, created.text().await?);
    }
    http.patch(format!(
        "{url}/api/v1/registries/hosted/spaces/{}",
        args.space
    ))
    .bearer_auth(&api_token)
    .json(&json!({"scan_on_push": false}))
    .send()
    .await?
    .error_for_status()?;
    let token: Value = http
        .get(format!(
            "{url}/auth/token?service=berth&scope=repository:{repository}:pull,push"
        ))
        .basic_auth(&args.user, Some(&args.password))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = token["token"]
        .as_str()
        .context("no registry token")?
        .to_string();

    let push_blob = |blob: &Blob| {
        let request = http
            .post(format!(
                "{url}/v2/{repository}/blobs/uploads/?digest={}",
                blob.digest
            ))
            .bearer_auth(&token)
            .body(blob.bytes.clone());
        async move {
            let answer = request.send().await?;
            if answer.status() != 201 {
                bail!("pushing a blob: {}", answer.status());
            }
            anyhow::Ok(())
        }
    };

    let started = Instant::now();
    let base = std::fs::read(&args.base_layer)
        .with_context(|| format!("reading {}", args.base_layer.display()))?;
    let base_diff_id = {
        let mut plain = Vec::new();
        std::io::copy(&mut flate2::read::GzDecoder::new(&base[..]), &mut plain)?;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&plain)))
    };
    let bases = [
        (Blob::new(LAYER, base), base_diff_id),
        layer_blob(python_layer(40)),
        layer_blob(node_layer(60)),
    ];
    for (blob, _) in &bases {
        push_blob(blob).await?;
    }
    for n in 0..args.images {
        let own = format!("image {n}\n");
        let (top, top_diff) = layer_blob(layer(&[("srv/app/build-id", own.as_bytes())]));
        let diff_ids: Vec<&str> = bases
            .iter()
            .map(|(_, d)| d.as_str())
            .chain([top_diff.as_str()])
            .collect();
        let config = Blob::new(
            CONFIG,
            serde_json::to_vec(&json!({
                "architecture": "amd64", "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
            }))?,
        );
        push_blob(&top).await?;
        push_blob(&config).await?;
        let layers: Vec<Value> = bases
            .iter()
            .map(|(b, _)| b.descriptor())
            .chain([top.descriptor()])
            .collect();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": config.descriptor(), "layers": layers,
        }))?;
        let answer = http
            .put(format!("{url}/v2/{repository}/manifests/v{n}"))
            .bearer_auth(&token)
            .header("content-type", MANIFEST)
            .body(manifest)
            .send()
            .await?;
        if answer.status() != 201 {
            bail!("pushing manifest v{n}: {}", answer.text().await?);
        }
    }
    let pushed = started.elapsed();

    let started = Instant::now();
    let requested: Value = http
        .post(format!("{url}/api/v1/registries/hosted/scan"))
        .bearer_auth(&api_token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let deadline = started + Duration::from_secs(args.timeout);
    let workspace = format!("bench-{}", std::process::id());
    http.post(format!("{url}/api/v1/workspaces"))
        .bearer_auth(&api_token)
        .json(&json!({"name": workspace}))
        .send()
        .await?
        .error_for_status()?;
    let (succeeded, finished) = loop {
        let mut finished = 0;
        let mut succeeded = 0;
        let mut cursor: Option<String> = None;
        loop {
            let mut request = http
                .get(format!(
                    "{url}/api/v1/workspaces/{workspace}/registries/hosted/repositories/{}/tags",
                    repository.replace('/', "%2F")
                ))
                .bearer_auth(&api_token)
                .query(&[("limit", "500")]);
            if let Some(cursor) = &cursor {
                request = request.query(&[("cursor", cursor)]);
            }
            let page: Value = request.send().await?.error_for_status()?.json().await?;
            for tag in page["items"].as_array().into_iter().flatten() {
                match tag["scan"]["status"].as_str() {
                    Some("success") => {
                        finished += 1;
                        succeeded += 1;
                    }
                    Some("failed" | "unsupported") => finished += 1,
                    _ => {}
                }
            }
            cursor = page["next_cursor"].as_str().map(str::to_string);
            if cursor.is_none() {
                break;
            }
        }
        if finished >= args.images {
            break (succeeded, finished);
        }
        if Instant::now() > deadline {
            bail!("{finished} of {} scans finished in time", args.images);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let scanned = started.elapsed().as_secs_f64();
    let line = json!({
        "images": args.images,
        "queued": requested["queued"],
        "push_seconds": (pushed.as_secs_f64() * 100.0).round() / 100.0,
        "scan_seconds": (scanned * 100.0).round() / 100.0,
        "scans_per_second": ((finished as f64 / scanned) * 10.0).round() / 10.0,
        "succeeded": succeeded,
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    Ok(())
}
