//! `gen-distribution`: lays out a CNCF Distribution filesystem storage directory holding many
//! repositories, for `scripts/bench-sync`. Writing the storage directly (with the testkit's
//! `StorageWriter`) takes seconds where pushing 50,000 tags over HTTP would take most of an hour,
//! and Distribution serves the result exactly as if it had been pushed.
//!
//! Every repository gets `--tags` tags: `1.0.0`, `1.1.0`, … and `latest` on the newest, so a
//! repository with 5 tags names 4 distinct manifests. The manifests come from a pool of
//! `--images` single-platform images (OCI and Docker media types, amd64 and arm64) sharing two
//! base layers, so the blobs are stored once and the storage stays small.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use berth_bench::words::SERVICES;
use berth_testkit::distribution::StorageWriter;
use berth_testkit::{layer, Image, ImageBuilder};
use clap::Parser;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(name = "gen-distribution")]
struct Args {
    /// The storage directory (Distribution's `storage.filesystem.rootdirectory`); created when
    /// missing, and it must hold no repositories yet.
    storage: PathBuf,
    #[arg(long, default_value_t = 10_000)]
    repositories: usize,
    /// Tags per repository, `latest` included.
    #[arg(long, default_value_t = 5)]
    tags: usize,
    /// Distinct images the tags point at.
    #[arg(long, default_value_t = 8)]
    images: usize,
    /// Spaces (first path components) the repositories are spread over.
    #[arg(long, default_value_t = 100)]
    spaces: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.repositories == 0 || args.tags == 0 || args.images == 0 || args.spaces == 0 {
        bail!("--repositories, --tags, --images and --spaces must be at least 1");
    }
    let repositories_dir = args.storage.join("docker/registry/v2/repositories");
    if repositories_dir.exists() {
        bail!(
            "{} already holds repositories; gen-distribution writes a fresh storage",
            args.storage.display()
        );
    }
    let started = Instant::now();
    let images = image_pool(args.images);
    let mut writer = StorageWriter::new(&args.storage);
    let mut tags_written = 0usize;
    for i in 0..args.repositories {
        let name = repository_name(i, args.spaces);
        // Versions cycle through the pool from a per-repository offset, so neighbouring
        // repositories do not all name the same digests in the same order.
        let versions = args.tags.saturating_sub(1).max(1);
        for v in 0..versions {
            let image = &images[(i * 7 + v) % images.len()];
            writer
                .put(&name, &format!("1.{v}.0"), image)
                .with_context(|| format!("writing {name}:1.{v}.0"))?;
            tags_written += 1;
        }
        if args.tags > 1 {
            let newest = &images[(i * 7 + versions - 1) % images.len()];
            writer
                .tag(&name, "latest", &newest.manifest)
                .with_context(|| format!("tagging {name}:latest"))?;
            tags_written += 1;
        }
        if (i + 1) % 1000 == 0 {
            eprintln!(
                "[gen-distribution] {} repositories, {:.1} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let distinct = images.len().min(args.tags.saturating_sub(1).max(1));
    println!(
        "gen-distribution: {} repositories in {} spaces, {} tags, {} images in the pool ({} distinct per repository), written in {:.1} s",
        args.repositories,
        args.spaces.min(args.repositories),
        tags_written,
        images.len(),
        distinct,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `<space>/<service>-<n>`, e.g. `team-042/ledger-00042`: names spread evenly over `spaces`
/// first components, as Berth makes one space per first component.
fn repository_name(i: usize, spaces: usize) -> String {
    let service = SERVICES[i % SERVICES.len()];
    format!("team-{:03}/{service}-{i:05}", i % spaces)
}

/// `count` small images sharing one of two base layers, each with a layer and a config of its
/// own, so every manifest and config digest differs while the layer blobs stay few.
fn image_pool(count: usize) -> Vec<Image> {
    let bases = [
        layer(&[("etc/os-release", b"ID=debian\nVERSION_ID=12\n")]),
        layer(&[("etc/os-release", b"ID=alpine\nVERSION_ID=3.20\n")]),
    ];
    (0..count)
        .map(|n| {
            let app = format!("#!/bin/sh\necho service build {n}\n");
            let mut builder = ImageBuilder::new()
                .layer(bases[n % 2].clone(), "ADD rootfs.tar /")
                .layer(
                    layer(&[("usr/local/bin/app", app.as_bytes())]),
                    "COPY app /usr/local/bin/app",
                )
                .empty_history("USER 65532")
                .config_field("Env", json!(["PATH=/usr/local/bin:/usr/bin:/bin"]))
                .config_field("Entrypoint", json!(["/usr/local/bin/app"]))
                .config_field("WorkingDir", json!("/"))
                .config_field(
                    "Labels",
                    json!({
                        "org.opencontainers.image.version": format!("1.{n}.0"),
                        "org.opencontainers.image.source": "https://git.example.com/bench",
                    }),
                )
                .created(&format!("2025-{:02}-01T00:00:00Z", n % 12 + 1));
            if n % 4 == 3 {
                builder = builder.platform("linux", "arm64", Some("v8"));
            }
            if n % 3 == 1 {
                builder = builder.docker();
            }
            builder.build()
        })
        .collect()
}
