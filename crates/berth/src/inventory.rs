//! `berth inventory DIR`: the distribution and packages of an image in an OCI image layout
//! directory (`skopeo copy … oci:DIR`), read on this machine with the scanner's own readers,
//! without a server or a database: what a scan would find in it, to compare with other tools.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use berth_oci::manifest::{Manifest, ManifestKind};
use berth_oci::Digest;
use berth_scan::advisory::ecosystem_name;
use berth_scan::inventory::inventory;
use berth_scan::layer::{read_layer, ImageFiles};
use clap::Args;
use serde_json::json;

use crate::cli::output::{col, render_table, Column, Output};

#[derive(Args)]
pub struct InventoryArgs {
    /// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/`).
    path: PathBuf,
    /// The platform to read from an index, `os/architecture` [default: linux/amd64, else the
    /// first].
    #[arg(long)]
    platform: Option<String>,
    /// A table of packages for people, or JSON.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Table)]
    output: Output,
}

const PACKAGE: &[Column] = &[
    col("NAME", "name"),
    col("VERSION", "version"),
    col("ECOSYSTEM", "ecosystem"),
    col("SOURCE", "source"),
    col("FOUND IN", "found_in"),
];

/// The largest manifest or index read.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

pub fn run(args: InventoryArgs) -> anyhow::Result<()> {
    let layout = &args.path;
    let index: serde_json::Value = serde_json::from_slice(
        &std::fs::read(layout.join("index.json"))
            .with_context(|| format!("{} is not an OCI image layout", layout.display()))?,
    )
    .context("index.json is not JSON")?;
    let first = index["manifests"]
        .get(0)
        .context("index.json lists no manifest")?;
    let mut manifest = read_manifest(layout, first["digest"].as_str().unwrap_or_default())?;
    if manifest.kind == ManifestKind::Index {
        let wanted = args.platform.as_deref().unwrap_or("linux/amd64");
        let child = manifest
            .children
            .iter()
            .find(|c| {
                c.platform
                    .as_ref()
                    .is_some_and(|p| format!("{}/{}", p.os, p.architecture) == wanted)
            })
            .or_else(|| {
                args.platform
                    .is_none()
                    .then(|| manifest.children.first())
                    .flatten()
            })
            .with_context(|| format!("the index has no image for {wanted}"))?;
        manifest = read_manifest(layout, &child.descriptor.digest.to_string())?;
    }
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for layer in &manifest.layers {
        let file = File::open(blob_path(layout, &layer.digest))
            .with_context(|| format!("layer {} is not in the layout", layer.digest))?;
        let contents =
            read_layer(file).with_context(|| format!("reading layer {}", layer.digest))?;
        for note in &contents.notes {
            eprintln!("note: layer {}: {note}", layer.digest);
        }
        layers.push(contents);
    }
    let found = inventory(&ImageFiles::stack(&layers));
    for note in &found.notes {
        eprintln!("note: {note}");
    }
    let packages: Vec<serde_json::Value> = found
        .packages
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "version": p.version,
                "ecosystem": ecosystem_name(&p.ecosystem),
                "source": p.source.as_ref().map(|(name, version)| format!("{name} {version}")),
                "found_in": p.found_in,
            })
        })
        .collect();
    match args.output {
        Output::Json => {
            let distribution = found.distribution.as_ref().map(
                |d| json!({"id": d.id, "version_id": d.version_id, "pretty_name": d.pretty_name}),
            );
            let answer = json!({"distribution": distribution, "packages": packages});
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
        Output::Table => {
            if let Some(d) = &found.distribution {
                println!("{}", d.pretty_name.as_deref().unwrap_or(&d.id));
            }
            print!("{}", render_table(PACKAGE, &packages));
            eprintln!("{} packages", packages.len());
        }
    }
    Ok(())
}

fn blob_path(layout: &Path, digest: &Digest) -> PathBuf {
    layout
        .join("blobs")
        .join(digest.algorithm().as_str())
        .join(digest.hex())
}

fn read_manifest(layout: &Path, digest: &str) -> anyhow::Result<Manifest> {
    let digest = Digest::parse(digest).context("index.json names no valid digest")?;
    let path = blob_path(layout, &digest);
    let size = std::fs::metadata(&path)
        .with_context(|| format!("manifest {digest} is not in the layout"))?
        .len();
    if size > MAX_MANIFEST_BYTES {
        bail!("manifest {digest} is too large");
    }
    let bytes = std::fs::read(&path)?;
    Manifest::parse(None, &bytes).with_context(|| format!("manifest {digest} cannot be read"))
}
