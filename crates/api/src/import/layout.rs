//! What a tarball means: which manifests to store and which blobs they need, checked against
//! what the tarball holds. No I/O: everything is read from the [`Archive`] already in hand.
//!
//! Two layouts are understood. An OCI image layout (`index.json`, `blobs/<alg>/<hex>`), which
//! is also what `docker save` writes since Docker 25 (with a `manifest.json` beside it), keeps
//! its manifests byte for byte, so digests survive the import. The legacy `docker save`
//! layout (`manifest.json`, `<id>/layer.tar`, `<config>.json`) has no registry manifest, so
//! one is built: an OCI image manifest over the config and the layers as they are (plain tar).

use std::collections::{BTreeMap, HashSet};

use berth_oci::{media_types, Digest, ImageConfig, Manifest, ManifestKind};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use super::archive::{blob_path, Archive, Content, File, MAX_DOCUMENT_BYTES};

/// The annotation that names a tag (or a whole reference) in an OCI layout's `index.json`.
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The annotation containerd (and so Docker 25+) adds with the full image name.
const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// How deep indexes may nest (an index of indexes of manifests is already unusual).
const MAX_DEPTH: usize = 4;

const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// Which kind of tarball it was, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OciLayout,
    /// Docker 25+: an OCI layout with `manifest.json` beside it.
    DockerOciSave,
    DockerLegacySave,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OciLayout => "oci-layout",
            Format::DockerOciSave => "docker-save (oci layout)",
            Format::DockerLegacySave => "docker-save",
        }
    }
}

/// A manifest to store.
pub struct PlannedManifest {
    pub digest: Digest,
    pub bytes: Bytes,
    pub manifest: Manifest,
    /// The parsed image config, for the catalog.
    pub config: Option<ImageConfig>,
}

/// A blob to store: its digest and the file in the archive that holds it.
pub struct PlannedBlob {
    pub digest: Digest,
    pub path: String,
    pub size: u64,
}

/// What to store, in order.
pub struct Plan {
    pub format: Format,
    /// Children before the indexes that list them; the last one is the root, which gets the tag.
    pub manifests: Vec<PlannedManifest>,
    pub blobs: Vec<PlannedBlob>,
    /// The image name the tarball gives, if any (`app`, `ghcr.io/team/app`).
    pub name: Option<String>,
    /// The tag the tarball gives, if any.
    pub tag: Option<String>,
}

/// What the caller asked for, used to pick one image out of a tarball holding several.
pub struct Wanted<'a> {
    /// The repository path inside the space, as given.
    pub repository: Option<&'a str>,
    pub tag: Option<&'a str>,
}

/// Interprets the archive. Every error is the client's: a message naming what is wrong.
pub fn plan(archive: &Archive, wanted: &Wanted<'_>) -> Result<Plan, String> {
    if archive.get("index.json").is_some() {
        let format = if archive.get("manifest.json").is_some() {
            Format::DockerOciSave
        } else {
            Format::OciLayout
        };
        return oci_layout(archive, wanted, format);
    }
    if archive.get("manifest.json").is_some() {
        return docker_legacy(archive, wanted);
    }
    Err("the tarball has neither index.json (an OCI image layout) nor manifest.json (docker save); \
         upload the output of `docker save` or an OCI image layout"
        .into())
}

/// A small JSON file's bytes, or why it cannot be read.
fn document<'a>(archive: &'a Archive, path: &str, what: &str) -> Result<&'a Bytes, String> {
    let (_, file) = archive
        .get(path)
        .ok_or_else(|| format!("{what} `{path}` is not in the tarball"))?;
    match &file.content {
        Content::Memory(bytes) => Ok(bytes),
        Content::Session(_) => Err(format!(
            "{what} `{path}` is {} bytes; documents are limited to {} (and to 64 MiB in all)",
            file.size,
            super::archive::human_size(MAX_DOCUMENT_BYTES)
        )),
    }
}

// ---- OCI image layout ------------------------------------------------------------------------

#[derive(Deserialize)]
struct LayoutIndex {
    #[serde(default)]
    manifests: Vec<LayoutEntry>,
}

#[derive(Deserialize)]
struct LayoutEntry {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

fn oci_layout(archive: &Archive, wanted: &Wanted<'_>, format: Format) -> Result<Plan, String> {
    let bytes = document(archive, "index.json", "the layout's index")?;
    let index: LayoutIndex = serde_json::from_slice(bytes)
        .map_err(|e| format!("index.json is not an OCI image index: {e}"))?;
    let entry = choose_entry(&index.manifests, wanted)?;
    let digest = Digest::parse(&entry.digest)
        .map_err(|e| format!("index.json names `{}`: {e}", entry.digest))?;
    let mut planner = Planner {
        archive,
        plan: Plan {
            format,
            manifests: Vec::new(),
            blobs: Vec::new(),
            name: None,
            tag: None,
        },
        seen_blobs: HashSet::new(),
    };
    planner.manifest(&digest, &entry.media_type, entry.size, "index.json", 0)?;
    let (name, tag) = layout_name(entry);
    let mut plan = planner.plan;
    plan.name = name.or_else(|| docker_repo_tag(archive).and_then(|(n, _)| n));
    plan.tag = tag.or_else(|| docker_repo_tag(archive).and_then(|(_, t)| t));
    Ok(plan)
}

/// The one entry of `index.json` to import: the only one, or the one tagged as asked.
fn choose_entry<'a>(
    entries: &'a [LayoutEntry],
    wanted: &Wanted<'_>,
) -> Result<&'a LayoutEntry, String> {
    match entries {
        [] => Err("index.json lists no images".into()),
        [only] => Ok(only),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|e| {
                    let (name, tag) = layout_name(e);
                    match (name, tag) {
                        (Some(n), Some(t)) => format!("{n}:{t}"),
                        (None, Some(t)) => t,
                        (Some(n), None) => n,
                        (None, None) => e.digest.clone(),
                    }
                })
                .collect();
            let matches: Vec<&LayoutEntry> = several
                .iter()
                .filter(|e| {
                    let (name, tag) = layout_name(e);
                    wanted.tag.is_some_and(|t| tag.as_deref() == Some(t))
                        && wanted
                            .repository
                            .is_none_or(|r| name.is_none_or(|n| names_match(&n, r)))
                })
                .collect();
            match matches.as_slice() {
                [one] => Ok(*one),
                _ => Err(format!(
                    "index.json lists {} images ({}); choose one with `tag` (and `repository`)",
                    several.len(),
                    names.join(", ")
                )),
            }
        }
    }
}

/// The name and tag an `index.json` entry gives: `org.opencontainers.image.ref.name` is a tag
/// (skopeo, buildx) or a whole reference; containerd adds the full name separately.
fn layout_name(entry: &LayoutEntry) -> (Option<String>, Option<String>) {
    let (mut name, mut tag) = (None, None);
    if let Some(full) = entry.annotations.get(CONTAINERD_NAME) {
        (name, tag) = split_reference(full);
    }
    if let Some(reference) = entry.annotations.get(REF_NAME) {
        if reference.contains(['/', ':', '@']) {
            let (n, t) = split_reference(reference);
            name = name.or(n);
            tag = tag.or(t);
        } else if !reference.is_empty() {
            tag = Some(reference.clone());
        }
    }
    (name, tag)
}

/// Walks the manifests from the root down, checking each and every blob it needs against the
/// archive, and records children before their parents.
struct Planner<'a> {
    archive: &'a Archive,
    plan: Plan,
    seen_blobs: HashSet<Digest>,
}

impl Planner<'_> {
    fn manifest(
        &mut self,
        digest: &Digest,
        media_type: &str,
        size: u64,
        named_by: &str,
        depth: usize,
    ) -> Result<(), String> {
        if self.plan.manifests.iter().any(|m| &m.digest == digest) {
            return Ok(());
        }
        if !media_types::MANIFEST_TYPES.contains(&media_type) {
            return Err(format!(
                "{named_by} points at {digest} with media type `{media_type}`, which is not a manifest type Berth stores \
                 (OCI image manifest or index, Docker schema 2 manifest or manifest list)"
            ));
        }
        if depth > MAX_DEPTH {
            return Err(format!(
                "indexes nest more than {MAX_DEPTH} deep at {digest}"
            ));
        }
        let path = blob_path(digest);
        let (_, file) = self.archive.get(&path).ok_or_else(|| {
            format!("{named_by} references manifest {digest}, which the tarball does not contain (no `{path}`)")
        })?;
        check_size(file, size, digest, named_by)?;
        let bytes = document(self.archive, &path, "manifest")?.clone();
        let manifest = Manifest::parse(Some(media_type), &bytes)
            .map_err(|e| format!("manifest {digest}: {e}"))?;
        let mut config = None;
        let what = format!("manifest {digest}");
        match manifest.kind {
            ManifestKind::Image => {
                for (i, descriptor) in manifest
                    .config
                    .iter()
                    .chain(manifest.layers.iter())
                    .enumerate()
                {
                    let role = if i == 0 {
                        "its config".to_string()
                    } else {
                        format!("layer {i}")
                    };
                    let blob = blob_path(&descriptor.digest);
                    let Some((path, file)) = self.archive.get(&blob) else {
                        // Non-distributable layers live elsewhere; clients fetch them from
                        // their URLs, and the registry lets them be absent.
                        if media_types::is_non_distributable(&descriptor.media_type) {
                            continue;
                        }
                        return Err(format!(
                            "{what} references blob {} ({role}), which the tarball does not contain (no `{blob}`)",
                            descriptor.digest
                        ));
                    };
                    check_size(file, descriptor.size, &descriptor.digest, &what)?;
                    if i == 0 && media_types::is_image_config(&descriptor.media_type) {
                        config = match &file.content {
                            Content::Memory(bytes) => ImageConfig::parse(bytes).ok(),
                            Content::Session(_) => None,
                        };
                    }
                    self.blob(&descriptor.digest, path, file.size);
                }
            }
            ManifestKind::Index => {
                for child in &manifest.children {
                    let descriptor = &child.descriptor;
                    self.manifest(
                        &descriptor.digest,
                        &descriptor.media_type,
                        descriptor.size,
                        &what,
                        depth + 1,
                    )?;
                }
            }
        }
        self.plan.manifests.push(PlannedManifest {
            digest: digest.clone(),
            bytes,
            manifest,
            config,
        });
        Ok(())
    }

    fn blob(&mut self, digest: &Digest, path: &str, size: u64) {
        if self.seen_blobs.insert(digest.clone()) {
            self.plan.blobs.push(PlannedBlob {
                digest: digest.clone(),
                path: path.to_string(),
                size,
            });
        }
    }
}

fn check_size(file: &File, expected: u64, digest: &Digest, named_by: &str) -> Result<(), String> {
    if file.size != expected {
        return Err(format!(
            "{named_by} says {digest} is {expected} bytes, but the tarball's copy is {} bytes",
            file.size
        ));
    }
    Ok(())
}

// ---- docker save (legacy) --------------------------------------------------------------------

#[derive(Deserialize)]
struct DockerEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

fn docker_entries(archive: &Archive) -> Result<Vec<DockerEntry>, String> {
    let bytes = document(archive, "manifest.json", "docker's manifest")?;
    serde_json::from_slice(bytes)
        .map_err(|e| format!("manifest.json is not the manifest `docker save` writes: {e}"))
}

/// The name and tag `manifest.json` gives, when it describes exactly one image.
fn docker_repo_tag(archive: &Archive) -> Option<(Option<String>, Option<String>)> {
    let entries = docker_entries(archive).ok()?;
    match entries.as_slice() {
        [only] => Some(first_repo_tag(only)),
        _ => None,
    }
}

fn first_repo_tag(entry: &DockerEntry) -> (Option<String>, Option<String>) {
    entry
        .repo_tags
        .iter()
        .flatten()
        .next()
        .map_or((None, None), |t| split_reference(t))
}

fn docker_legacy(archive: &Archive, wanted: &Wanted<'_>) -> Result<Plan, String> {
    let entries = docker_entries(archive)?;
    let entry = match entries.as_slice() {
        [] => return Err("manifest.json lists no images".into()),
        [only] => only,
        several => {
            let matching: Vec<&DockerEntry> = several
                .iter()
                .filter(|e| {
                    e.repo_tags.iter().flatten().any(|t| {
                        let (name, tag) = split_reference(t);
                        wanted.tag.is_some_and(|w| tag.as_deref() == Some(w))
                            && wanted
                                .repository
                                .is_none_or(|r| name.is_some_and(|n| names_match(&n, r)))
                    })
                })
                .collect();
            match matching.as_slice() {
                [one] => *one,
                _ => {
                    let tags: Vec<&str> = several
                        .iter()
                        .flat_map(|e| e.repo_tags.iter().flatten().map(String::as_str))
                        .collect();
                    return Err(format!(
                        "manifest.json lists {} images ({}); choose one with `repository` and `tag`",
                        several.len(),
                        tags.join(", ")
                    ));
                }
            }
        }
    };

    let config_path = entry_path(&entry.config);
    let (config_at, config_file) = archive.get(&config_path).ok_or_else(|| {
        format!(
            "manifest.json names config `{}`, which the tarball does not contain",
            entry.config
        )
    })?;
    let config_bytes = document(archive, config_at, "image config")?;
    let config_json: serde_json::Value = serde_json::from_slice(config_bytes)
        .map_err(|e| format!("image config `{}` is not JSON: {e}", entry.config))?;
    let diff_ids: Vec<&str> = config_json["rootfs"]["diff_ids"]
        .as_array()
        .map(|ids| ids.iter().filter_map(|id| id.as_str()).collect())
        .unwrap_or_default();
    if diff_ids.len() != entry.layers.len() {
        return Err(format!(
            "image config `{}` lists {} layers (rootfs.diff_ids), but manifest.json lists {}",
            entry.config,
            diff_ids.len(),
            entry.layers.len()
        ));
    }

    let mut blobs = vec![PlannedBlob {
        digest: config_file.digest.clone(),
        path: config_at.to_string(),
        size: config_file.size,
    }];
    let mut layers = Vec::new();
    for (i, layer) in entry.layers.iter().enumerate() {
        let (path, file) = archive.get(&entry_path(layer)).ok_or_else(|| {
            format!("manifest.json names layer `{layer}`, which the tarball does not contain")
        })?;
        let media_type = layer_media_type(&file.head);
        // Docker checks each uncompressed layer against the config when it loads an image,
        // so a mismatch here would make an image nobody can run.
        if media_type == OCI_LAYER_TAR && diff_ids[i] != file.digest.to_string() {
            return Err(format!(
                "layer `{layer}` has digest {}, but the image config lists {} for it (rootfs.diff_ids[{i}])",
                file.digest, diff_ids[i]
            ));
        }
        layers.push(json!({
            "mediaType": media_type,
            "digest": file.digest.to_string(),
            "size": file.size,
        }));
        if !blobs.iter().any(|b| b.digest == file.digest) {
            blobs.push(PlannedBlob {
                digest: file.digest.clone(),
                path: path.to_string(),
                size: file.size,
            });
        }
    }
    let manifest_json = json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "config": {
            "mediaType": media_types::OCI_CONFIG,
            "digest": config_file.digest.to_string(),
            "size": config_file.size,
        },
        "layers": layers,
    });
    let bytes = Bytes::from(serde_json::to_vec(&manifest_json).expect("JSON values serialize"));
    let manifest = Manifest::parse(Some(media_types::OCI_MANIFEST), &bytes)
        .map_err(|e| format!("the image in manifest.json does not make a valid manifest: {e}"))?;
    let (name, tag) = first_repo_tag(entry);
    Ok(Plan {
        format: Format::DockerLegacySave,
        manifests: vec![PlannedManifest {
            digest: Digest::sha256_of(&bytes),
            bytes,
            manifest,
            config: ImageConfig::parse(config_bytes).ok(),
        }],
        blobs,
        name,
        tag,
    })
}

/// `docker save` writes paths relative to the archive root, sometimes with `./`.
fn entry_path(path: &str) -> String {
    path.trim_start_matches("./").to_string()
}

/// A layer's media type from its first bytes: gzip and zstd have magic numbers; anything else
/// is taken as plain tar, which is what `docker save` writes.
fn layer_media_type(head: &[u8]) -> &'static str {
    if head.starts_with(&[0x1f, 0x8b]) {
        OCI_LAYER_GZIP
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        OCI_LAYER_ZSTD
    } else {
        OCI_LAYER_TAR
    }
}

// ---- names -----------------------------------------------------------------------------------

/// Splits an image reference (`app:v1`, `ghcr.io/team/app:v1`, `docker.io/library/app@sha256:…`)
/// into the repository path (without a registry host, and without Docker Hub's `library/`)
/// and the tag.
pub fn split_reference(reference: &str) -> (Option<String>, Option<String>) {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let (name, tag) = match without_digest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag.to_string())),
        _ => (without_digest, None),
    };
    let (host, path) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, name),
    };
    let path = match host {
        Some("docker.io" | "index.docker.io" | "registry-1.docker.io") => {
            path.strip_prefix("library/").unwrap_or(path)
        }
        _ => path,
    };
    let name = (!path.is_empty()).then(|| path.to_string());
    (name, tag.filter(|t| !t.is_empty()))
}

/// Whether a tarball's image name is the repository the caller asked for, allowing the
/// caller's to carry the space in front.
fn names_match(tarball: &str, wanted: &str) -> bool {
    tarball == wanted || wanted.ends_with(&format!("/{tarball}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(bytes: &[u8]) -> File {
        File {
            content: Content::Memory(Bytes::copy_from_slice(bytes)),
            size: bytes.len() as u64,
            digest: Digest::sha256_of(bytes),
            head: bytes[..bytes.len().min(4)].to_vec(),
        }
    }

    fn archive(files: &[(&str, &[u8])]) -> Archive {
        let mut archive = Archive::default();
        for (path, bytes) in files {
            archive.files.insert(path.to_string(), memory(bytes));
        }
        archive
    }

    fn blob(bytes: &[u8]) -> (String, Digest) {
        let digest = Digest::sha256_of(bytes);
        (blob_path(&digest), digest)
    }

    const ANY: Wanted<'static> = Wanted {
        repository: None,
        tag: None,
    };

    #[test]
    fn references() {
        let check = |text: &str, name: Option<&str>, tag: Option<&str>| {
            assert_eq!(
                split_reference(text),
                (name.map(String::from), tag.map(String::from)),
                "{text}"
            );
        };
        check("app:v1", Some("app"), Some("v1"));
        check("app", Some("app"), None);
        check("team/app:v1", Some("team/app"), Some("v1"));
        check("ghcr.io/team/app:v1", Some("team/app"), Some("v1"));
        check("localhost:5000/app", Some("app"), None);
        check("127.0.0.1:5050/team/app:v2", Some("team/app"), Some("v2"));
        check("docker.io/library/alpine:3", Some("alpine"), Some("3"));
        check("docker.io/org/alpine:3", Some("org/alpine"), Some("3"));
        check("app@sha256:abc", Some("app"), None);
        assert!(names_match("app", "team/app"));
        assert!(names_match("team/app", "team/app"));
        assert!(!names_match("app", "team/other"));
    }

    #[test]
    fn oci_layouts_plan_children_before_the_index() {
        let config =
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let (config_path, config_digest) = blob(config);
        let layer = b"\x1f\x8blayer";
        let (layer_path, layer_digest) = blob(layer);
        let image = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"{OCI_LAYER_GZIP}","digest":"{layer_digest}","size":{}}}]}}"#,
            media_types::OCI_MANIFEST,
            media_types::OCI_CONFIG,
            config.len(),
            layer.len()
        );
        let (image_path, image_digest) = blob(image.as_bytes());
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","digest":"{image_digest}","size":{}}}]}}"#,
            media_types::OCI_INDEX,
            media_types::OCI_MANIFEST,
            image.len()
        );
        let (index_path, index_digest) = blob(index.as_bytes());
        let layout = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{}","digest":"{index_digest}","size":{},"annotations":{{"{REF_NAME}":"v1"}}}}]}}"#,
            media_types::OCI_INDEX,
            index.len()
        );
        let files: Vec<(&str, &[u8])> = vec![
            ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
            ("index.json", layout.as_bytes()),
            (&config_path, config),
            (&layer_path, layer),
            (&image_path, image.as_bytes()),
            (&index_path, index.as_bytes()),
        ];
        let plan = plan(&archive(&files), &ANY).unwrap();
        assert_eq!(plan.format, Format::OciLayout);
        let order: Vec<&Digest> = plan.manifests.iter().map(|m| &m.digest).collect();
        assert_eq!(order, [&image_digest, &index_digest]);
        let blobs: Vec<&Digest> = plan.blobs.iter().map(|b| &b.digest).collect();
        assert_eq!(blobs, [&config_digest, &layer_digest]);
        assert_eq!((plan.name, plan.tag.as_deref()), (None, Some("v1")));
        assert!(plan.manifests[0].config.is_some());

        // Without the layer, the manifest names what is missing.
        let without_layer: Vec<(&str, &[u8])> = files
            .iter()
            .filter(|(p, _)| *p != layer_path)
            .cloned()
            .collect();
        let error = plan_error(&without_layer);
        assert!(error.contains(&layer_digest.to_string()), "{error}");
    }

    fn plan_error(files: &[(&str, &[u8])]) -> String {
        match plan(&archive(files), &ANY) {
            Ok(_) => panic!("the plan should fail"),
            Err(error) => error,
        }
    }

    #[test]
    fn docker_legacy_saves_get_a_manifest_over_plain_layers() {
        let layer = b"plain tar bytes";
        let layer_digest = Digest::sha256_of(layer);
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{layer_digest}"]}}}}"#
        );
        let manifest_json =
            r#"[{"Config":"cfg.json","RepoTags":["app:v1"],"Layers":["abc/layer.tar"]}]"#;
        let files: Vec<(&str, &[u8])> = vec![
            ("cfg.json", config.as_bytes()),
            ("abc/layer.tar", layer),
            ("manifest.json", manifest_json.as_bytes()),
        ];
        let plan = plan(&archive(&files), &ANY).unwrap();
        assert_eq!(plan.format, Format::DockerLegacySave);
        assert_eq!(
            (plan.name.as_deref(), plan.tag.as_deref()),
            (Some("app"), Some("v1"))
        );
        let root = &plan.manifests[0];
        assert_eq!(root.manifest.media_type, media_types::OCI_MANIFEST);
        assert_eq!(root.manifest.layers[0].media_type, OCI_LAYER_TAR);
        assert_eq!(root.manifest.layers[0].digest, layer_digest);
        assert_eq!(root.digest, Digest::sha256_of(&root.bytes));
        assert_eq!(plan.blobs.len(), 2);

        let wrong = config.replace(
            &layer_digest.to_string(),
            &Digest::sha256_of(b"x").to_string(),
        );
        let files: Vec<(&str, &[u8])> = vec![
            ("cfg.json", wrong.as_bytes()),
            ("abc/layer.tar", layer),
            ("manifest.json", manifest_json.as_bytes()),
        ];
        assert!(plan_error(&files).contains("rootfs.diff_ids[0]"));
        let files: Vec<(&str, &[u8])> = vec![
            ("cfg.json", config.as_bytes()),
            ("manifest.json", manifest_json.as_bytes()),
        ];
        assert!(plan_error(&files).contains("abc/layer.tar"));
    }

    #[test]
    fn layout_entries_name_their_image() {
        let entry = |annotations: &[(&str, &str)]| LayoutEntry {
            media_type: media_types::OCI_MANIFEST.into(),
            digest: Digest::sha256_of(b"m").to_string(),
            size: 1,
            annotations: annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let owned = |n: Option<&str>, t: Option<&str>| (n.map(String::from), t.map(String::from));
        // What Docker 25+ writes: the tag in ref.name, the full name in containerd's annotation.
        let docker = entry(&[
            (CONTAINERD_NAME, "docker.io/library/app:latest"),
            (REF_NAME, "latest"),
        ]);
        assert_eq!(layout_name(&docker), owned(Some("app"), Some("latest")));
        let full = entry(&[(REF_NAME, "ghcr.io/team/app:v1")]);
        assert_eq!(layout_name(&full), owned(Some("team/app"), Some("v1")));
        assert_eq!(
            layout_name(&entry(&[(REF_NAME, "v1.0")])),
            owned(None, Some("v1.0"))
        );
        assert_eq!(layout_name(&entry(&[])), owned(None, None));

        let entries = [entry(&[(REF_NAME, "v1")]), entry(&[(REF_NAME, "v2")])];
        let pick = |tag: Option<&str>| {
            choose_entry(
                &entries,
                &Wanted {
                    repository: Some("team/app"),
                    tag,
                },
            )
            .map(|e| e.annotations[REF_NAME].clone())
        };
        assert_eq!(pick(Some("v2")).unwrap(), "v2");
        assert!(pick(None).unwrap_err().contains("v1, v2"));
    }

    #[test]
    fn neither_layout_is_refused() {
        let error = plan_error(&[("hello.txt", b"hi")]);
        assert!(
            error.contains("index.json") && error.contains("manifest.json"),
            "{error}"
        );
    }
}
