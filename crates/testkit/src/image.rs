//! Hand-built OCI and Docker schema 2 images for tests.
//!
//! Integration tests must not download images or depend on a Docker daemon, so this module
//! builds every piece of an image (layers, config, manifest, index) in memory from plain bytes.
//! The results can be pushed over HTTP directly (every piece is a [`Blob`] carrying its exact
//! bytes and digest) or written to an OCI image layout on disk with [`write_oci_layout`] so that
//! `skopeo copy oci:<dir>:<tag> docker://...` can push them like a real client would.
//!
//! Everything is deterministic: the same inputs always give byte-identical blobs and therefore
//! identical digests, which lets tests assert on digests and exercise blob deduplication.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Media type of an OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Media type of an OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of a gzip-compressed OCI layer.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Media type of a Docker schema 2 image manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Media type of a Docker schema 2 manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Media type of a Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Media type of a gzip-compressed Docker layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The annotation in `index.json` that names a tag in an OCI image layout.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// The timestamp used for history entries and, unless overridden, for the config's `created`.
///
/// A fixed value keeps configs byte-identical between runs, so digests are reproducible.
pub const DEFAULT_CREATED: &str = "2024-01-02T03:04:05Z";

/// The gzip level used by [`layer`], matching the default of gzip and of most image builders.
pub const DEFAULT_GZIP_LEVEL: u32 = 6;

/// Returns `"sha256:<hex>"` for `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A content-addressed piece of an image: a layer, a config, a manifest or an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// The media type used when this blob is referenced from a descriptor or pushed.
    pub media_type: String,
    /// The digest of `bytes`, formatted as `"sha256:<hex>"`.
    pub digest: String,
    /// The exact bytes; for manifests these are the bytes whose digest is the manifest digest.
    pub bytes: Vec<u8>,
}

impl Blob {
    /// Wraps `bytes`, computing their SHA-256 digest.
    pub fn new(media_type: &str, bytes: Vec<u8>) -> Blob {
        Blob {
            media_type: media_type.to_owned(),
            digest: sha256_digest(&bytes),
            bytes,
        }
    }

    /// The length of the blob in bytes, as it appears in descriptors.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The hex part of the digest, which is also the file name under `blobs/sha256/`.
    pub fn hex(&self) -> &str {
        self.digest
            .strip_prefix("sha256:")
            .expect("Blob digests are always sha256")
    }

    /// An OCI descriptor `{"mediaType", "digest", "size"}` pointing at this blob.
    pub fn descriptor(&self) -> Value {
        json!({
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size(),
        })
    }

    /// Returns a copy of this blob under another media type.
    ///
    /// The digest is unchanged because it covers only the bytes, which is how the same layer
    /// can be referenced both as an OCI layer and as a Docker layer.
    pub fn with_media_type(&self, media_type: &str) -> Blob {
        Blob {
            media_type: media_type.to_owned(),
            digest: self.digest.clone(),
            bytes: self.bytes.clone(),
        }
    }
}

/// A gzip-compressed tar layer together with its uncompressed digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The compressed layer, with media type [`OCI_LAYER_GZIP`].
    pub blob: Blob,
    /// The `"sha256:<hex>"` digest of the uncompressed tar, as listed in the config's
    /// `rootfs.diff_ids`.
    pub diff_id: String,
}

/// A gzip-compressed tar layer containing `files` as `(path, contents)` pairs, compressed at
/// [`DEFAULT_GZIP_LEVEL`].
///
/// See [`layer_with_level`] for how entries are written.
pub fn layer(files: &[(&str, &[u8])]) -> Layer {
    layer_with_level(files, DEFAULT_GZIP_LEVEL)
}

/// A gzip-compressed tar layer containing `files` as `(path, contents)` pairs, compressed at
/// gzip `level` (0 to 9).
///
/// Every entry is a regular file with mtime 0, uid and gid 0 and mode 0644, and the gzip header
/// carries no timestamp or file name, so equal inputs always produce equal digests. Leading `/`
/// characters are stripped because tar entries in image layers are relative to the root. No
/// directory entries are added for parent directories; container runtimes create them as needed.
///
/// # Panics
///
/// Panics if `level` is above 9 or a path contains a `..` component.
pub fn layer_with_level(files: &[(&str, &[u8])], level: u32) -> Layer {
    build_layer(level, |builder| {
        for (path, contents) in files {
            append_file(builder, path, contents.len() as u64, *contents)?;
        }
        Ok(())
    })
}

/// A layer holding a single file, `random.bin`, of `size` pseudo-random bytes derived from
/// `seed`, compressed at gzip `level` (0 to 9).
///
/// Random bytes do not compress, so the blob is slightly larger than `size`, which makes this
/// suitable for benchmarks and for tests that need big uploads. The bytes are produced by
/// [`StdRng::seed_from_u64`] and streamed into the archive, so the uncompressed tar is never held
/// in memory in full.
///
/// # Panics
///
/// Panics if `level` is above 9.
pub fn random_layer(size: usize, seed: u64, level: u32) -> Layer {
    build_layer(level, |builder| {
        let reader = RandomReader::new(size, seed);
        append_file(builder, "random.bin", size as u64, reader)
    })
}

/// Builds a layer by letting `fill` append entries to a tar archive whose bytes are hashed (for
/// the diff ID) and compressed in a single streaming pass.
fn build_layer(
    level: u32,
    fill: impl FnOnce(&mut tar::Builder<HashingWriter<GzEncoder<Vec<u8>>>>) -> io::Result<()>,
) -> Layer {
    assert!(
        level <= 9,
        "gzip level must be between 0 and 9, got {level}"
    );
    // `GzEncoder::new` writes a header with mtime 0, no file name and a fixed OS byte, which is
    // what keeps the compressed digest reproducible.
    let encoder = GzEncoder::new(Vec::new(), Compression::new(level));
    let mut builder = tar::Builder::new(HashingWriter {
        inner: encoder,
        hasher: Sha256::new(),
    });
    // Writing to memory cannot fail, so any error here is an invalid path from the caller.
    fill(&mut builder).unwrap_or_else(|e| panic!("{e}"));
    let hashing = builder
        .into_inner()
        .expect("finishing a tar archive in memory cannot fail");
    let diff_id = format!("sha256:{}", hex::encode(hashing.hasher.finalize()));
    let compressed = hashing
        .inner
        .finish()
        .expect("finishing gzip into memory cannot fail");
    Layer {
        blob: Blob::new(OCI_LAYER_GZIP, compressed),
        diff_id,
    }
}

/// Appends one regular file with the fixed ownership, mode and mtime that keep layers
/// deterministic.
fn append_file<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    data: impl Read,
) -> io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    let relative = path.trim_start_matches('/');
    builder
        .append_data(&mut header, relative, data)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot add {path:?} to a layer: {e}")))
}

/// A writer that hashes everything passing through it, used to compute the diff ID of the
/// uncompressed tar while it is being compressed.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader yielding `remaining` pseudo-random bytes from a seeded [`StdRng`].
///
/// The generator is always asked for fixed-size chunks, because `fill_bytes` may discard
/// partially used words between calls; with fixed chunks the output depends only on the seed and
/// the total size, not on how the caller sizes its reads.
struct RandomReader {
    rng: StdRng,
    chunk: Vec<u8>,
    pos: usize,
    remaining: usize,
}

impl RandomReader {
    const CHUNK: usize = 64 * 1024;

    fn new(size: usize, seed: u64) -> Self {
        RandomReader {
            rng: StdRng::seed_from_u64(seed),
            chunk: Vec::new(),
            pos: 0,
            remaining: size,
        }
    }
}

impl Read for RandomReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.chunk.len() {
            if self.remaining == 0 {
                return Ok(0);
            }
            let len = self.remaining.min(Self::CHUNK);
            self.chunk.resize(len, 0);
            self.rng.fill_bytes(&mut self.chunk);
            self.remaining -= len;
            self.pos = 0;
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Builds a single-platform image from layers and config settings.
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    os: String,
    architecture: String,
    variant: Option<String>,
    layers: Vec<Layer>,
    history: Vec<Value>,
    config: Map<String, Value>,
    author: Option<String>,
    created: String,
    docker: bool,
    annotations: BTreeMap<String, String>,
}

impl Default for ImageBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ImageBuilder {
    /// An image for linux/amd64 with no layers, an empty runtime config and OCI media types.
    pub fn new() -> Self {
        ImageBuilder {
            os: "linux".to_owned(),
            architecture: "amd64".to_owned(),
            variant: None,
            layers: Vec::new(),
            history: Vec::new(),
            config: Map::new(),
            author: None,
            created: DEFAULT_CREATED.to_owned(),
            docker: false,
            annotations: BTreeMap::new(),
        }
    }

    /// Sets the platform recorded in the config and, when the image is part of an index, in its
    /// index descriptor.
    pub fn platform(mut self, os: &str, arch: &str, variant: Option<&str>) -> Self {
        self.os = os.to_owned();
        self.architecture = arch.to_owned();
        self.variant = variant.map(str::to_owned);
        self
    }

    /// Appends a layer and the history entry describing the command that created it.
    pub fn layer(mut self, layer: Layer, created_by: &str) -> Self {
        self.history.push(json!({
            "created": DEFAULT_CREATED,
            "created_by": created_by,
        }));
        self.layers.push(layer);
        self
    }

    /// Appends a history entry for a step that produced no layer, such as `ENV A=b`.
    pub fn empty_history(mut self, created_by: &str) -> Self {
        self.history.push(json!({
            "created": DEFAULT_CREATED,
            "created_by": created_by,
            "empty_layer": true,
        }));
        self
    }

    /// Sets `config.config.<key>` (for example `Env`, `Cmd`, `Entrypoint`, `WorkingDir`,
    /// `ExposedPorts` or `Labels`), replacing any earlier value.
    pub fn config_field(mut self, key: &str, value: Value) -> Self {
        self.config.insert(key.to_owned(), value);
        self
    }

    /// Sets the config's `author`.
    pub fn author(mut self, a: &str) -> Self {
        self.author = Some(a.to_owned());
        self
    }

    /// Sets the config's `created` timestamp, which should be RFC 3339.
    ///
    /// History entries keep [`DEFAULT_CREATED`] so that changing this only changes the config.
    pub fn created(mut self, rfc3339: &str) -> Self {
        self.created = rfc3339.to_owned();
        self
    }

    /// Emits Docker schema 2 media types for the manifest, config and layers instead of OCI ones.
    ///
    /// The layer and config bytes are the same either way, so only the manifest digest differs.
    pub fn docker(mut self) -> Self {
        self.docker = true;
        self
    }

    /// Adds a manifest annotation.
    ///
    /// Annotations are only defined for OCI manifests, so [`ImageBuilder::build`] panics if they
    /// are combined with [`ImageBuilder::docker`] rather than silently dropping them.
    pub fn annotation(mut self, k: &str, v: &str) -> Self {
        self.annotations.insert(k.to_owned(), v.to_owned());
        self
    }

    /// Serializes the config and manifest and returns the finished image.
    ///
    /// # Panics
    ///
    /// Panics if annotations were added to a Docker image.
    pub fn build(self) -> Image {
        assert!(
            !self.docker || self.annotations.is_empty(),
            "Docker schema 2 manifests have no annotations; use an OCI image instead"
        );
        let (manifest_type, config_type, layer_type) = if self.docker {
            (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_GZIP)
        } else {
            (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP)
        };

        let mut config = Map::new();
        config.insert("created".into(), json!(self.created));
        if let Some(author) = &self.author {
            config.insert("author".into(), json!(author));
        }
        config.insert("architecture".into(), json!(self.architecture));
        config.insert("os".into(), json!(self.os));
        if let Some(variant) = &self.variant {
            config.insert("variant".into(), json!(variant));
        }
        config.insert("config".into(), Value::Object(self.config));
        let diff_ids: Vec<&str> = self.layers.iter().map(|l| l.diff_id.as_str()).collect();
        config.insert(
            "rootfs".into(),
            json!({ "type": "layers", "diff_ids": diff_ids }),
        );
        config.insert("history".into(), Value::Array(self.history));
        let config = Blob::new(config_type, to_bytes(&Value::Object(config)));

        let layers: Vec<Blob> = self
            .layers
            .iter()
            .map(|l| l.blob.with_media_type(layer_type))
            .collect();

        let mut manifest = Map::new();
        manifest.insert("schemaVersion".into(), json!(2));
        manifest.insert("mediaType".into(), json!(manifest_type));
        manifest.insert("config".into(), config.descriptor());
        manifest.insert(
            "layers".into(),
            Value::Array(layers.iter().map(Blob::descriptor).collect()),
        );
        if !self.annotations.is_empty() {
            manifest.insert("annotations".into(), json!(self.annotations));
        }
        let manifest = Blob::new(manifest_type, to_bytes(&Value::Object(manifest)));

        Image {
            manifest,
            config,
            layers,
            os: self.os,
            architecture: self.architecture,
            variant: self.variant,
        }
    }
}

/// Serializes `value` as compact JSON; the result is what gets hashed and pushed.
fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("serializing a serde_json::Value cannot fail")
}

/// A built single-platform image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The image manifest; its media type is the manifest media type (OCI or Docker).
    pub manifest: Blob,
    /// The image config.
    pub config: Blob,
    /// The compressed layers, in manifest order.
    pub layers: Vec<Blob>,
    /// The platform's operating system, such as `linux`.
    pub os: String,
    /// The platform's CPU architecture, such as `amd64`.
    pub architecture: String,
    /// The platform's CPU variant, such as `v8`.
    pub variant: Option<String>,
}

impl Image {
    /// The blobs the manifest references: the config first, then the layers in order.
    pub fn blobs(&self) -> Vec<&Blob> {
        std::iter::once(&self.config)
            .chain(self.layers.iter())
            .collect()
    }

    /// The `platform` object used for this image in an index descriptor.
    pub fn platform(&self) -> Value {
        let mut platform = Map::new();
        platform.insert("architecture".into(), json!(self.architecture));
        platform.insert("os".into(), json!(self.os));
        if let Some(variant) = &self.variant {
            platform.insert("variant".into(), json!(variant));
        }
        Value::Object(platform)
    }

    /// A descriptor for the manifest including its `platform`, as listed in an index.
    pub fn platform_descriptor(&self) -> Value {
        let mut descriptor = self.manifest.descriptor();
        descriptor["platform"] = self.platform();
        descriptor
    }
}

/// A multi-platform image: an index over child images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The index itself; an OCI image index, or a Docker manifest list if every child is a
    /// Docker image.
    pub manifest: Blob,
    /// The child images, in the order they are listed in the index.
    pub images: Vec<Image>,
}

impl Index {
    /// Every blob the children reference (configs and layers), without duplicates, in first-use
    /// order. Layers shared between platforms are listed once.
    pub fn blobs(&self) -> Vec<&Blob> {
        let mut seen = HashSet::new();
        self.images
            .iter()
            .flat_map(Image::blobs)
            .filter(|b| seen.insert(b.digest.as_str()))
            .collect()
    }

    /// The children's manifests, in index order.
    pub fn manifests(&self) -> Vec<&Blob> {
        self.images.iter().map(|i| &i.manifest).collect()
    }
}

/// An index over `images`, with each child's platform in its descriptor.
///
/// The index is a Docker manifest list when there is at least one child and all children are
/// Docker images, because a manifest list may only reference Docker manifests; otherwise it is an
/// OCI image index, which may reference either kind.
pub fn index(images: Vec<Image>) -> Index {
    let all_docker = !images.is_empty()
        && images
            .iter()
            .all(|i| i.manifest.media_type == DOCKER_MANIFEST);
    let media_type = if all_docker {
        DOCKER_MANIFEST_LIST
    } else {
        OCI_INDEX
    };
    let manifests: Vec<Value> = images.iter().map(Image::platform_descriptor).collect();
    let body = json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": manifests,
    });
    Index {
        manifest: Blob::new(media_type, to_bytes(&body)),
        images,
    }
}

/// Something that can be written to disk for skopeo: an [`Image`] or an [`Index`].
pub trait LayoutContent {
    /// The manifest or index that a tag points at.
    fn root(&self) -> &Blob;

    /// The manifests of an index's children; empty for a single image.
    fn child_manifests(&self) -> Vec<&Blob>;

    /// The configs and layers of every image involved, without duplicates.
    fn content_blobs(&self) -> Vec<&Blob>;
}

impl LayoutContent for Image {
    fn root(&self) -> &Blob {
        &self.manifest
    }

    fn child_manifests(&self) -> Vec<&Blob> {
        Vec::new()
    }

    fn content_blobs(&self) -> Vec<&Blob> {
        self.blobs()
    }
}

impl LayoutContent for Index {
    fn root(&self) -> &Blob {
        &self.manifest
    }

    fn child_manifests(&self) -> Vec<&Blob> {
        self.manifests()
    }

    fn content_blobs(&self) -> Vec<&Blob> {
        self.blobs()
    }
}

/// Writes `bytes` to `path` unless a file of the same size is already there.
///
/// Blobs are content addressed, so an existing file of the right size already holds these bytes
/// and rewriting a large layer would only waste time.
fn write_blob_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let present = fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64);
    if present {
        Ok(())
    } else {
        fs::write(path, bytes)
    }
}

/// Writes `content` into the OCI image layout at `dir` under `tag`, for skopeo's
/// `oci:<dir>:<tag>` transport.
///
/// The directory is created if missing. An existing layout is extended rather than replaced:
/// blobs already present are kept, and `index.json` keeps its other entries except any entry
/// that already carried `tag`, which is replaced so that re-tagging behaves like a registry.
///
/// Docker schema 2 images and manifest lists are written the same way, but skopeo 1.9 (the
/// version these tests run against) only resolves tags whose `index.json` entry has an OCI media
/// type, so use [`write_dir_layout`] to push those with skopeo.
pub fn write_oci_layout(
    dir: &Path,
    tag: &str,
    content: &impl LayoutContent,
) -> std::io::Result<()> {
    let blob_dir = dir.join("blobs").join("sha256");
    fs::create_dir_all(&blob_dir)?;
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;

    let root = content.root();
    let mut blobs = content.child_manifests();
    blobs.extend(content.content_blobs());
    blobs.push(root);
    for blob in blobs {
        write_blob_file(&blob_dir.join(blob.hex()), &blob.bytes)?;
    }

    let index_path = dir.join("index.json");
    let mut index_json = match fs::read(&index_path) {
        Ok(bytes) => serde_json::from_slice::<Value>(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not valid JSON: {e}", index_path.display()),
            )
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [],
        }),
        Err(e) => return Err(e),
    };
    let object = index_json.as_object_mut().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a JSON object", index_path.display()),
        )
    })?;
    let mut manifests = match object.remove("manifests") {
        Some(Value::Array(entries)) => entries,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: manifests is not an array", index_path.display()),
            ))
        }
    };
    manifests.retain(|entry| entry["annotations"][REF_NAME_ANNOTATION] != tag);
    let mut entry = root.descriptor();
    entry["annotations"] = json!({ REF_NAME_ANNOTATION: tag });
    manifests.push(entry);
    object.insert("manifests".into(), Value::Array(manifests));
    fs::write(&index_path, to_bytes(&index_json))
}

/// The marker file contents that identify a directory in skopeo's `dir:` transport format.
const DIR_TRANSPORT_VERSION: &[u8] = b"Directory Transport Version: 1.1\n";

/// Writes `content` into `dir` in the format of skopeo's `dir:<dir>` transport.
///
/// Unlike an OCI layout this format keeps any manifest type, so it is the way to push Docker
/// schema 2 images and manifest lists unchanged with `skopeo copy [--all] dir:<dir> docker://...`.
/// The directory holds exactly one image or index: `manifest.json` is the root manifest, child
/// manifests of an index are `<hex>.manifest.json`, and configs and layers are `<hex>`. The
/// directory is created if missing, and an existing `manifest.json` is replaced.
pub fn write_dir_layout(dir: &Path, content: &impl LayoutContent) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(dir.join("version"), DIR_TRANSPORT_VERSION)?;
    for blob in content.content_blobs() {
        write_blob_file(&dir.join(blob.hex()), &blob.bytes)?;
    }
    for manifest in content.child_manifests() {
        let name = format!("{}.manifest.json", manifest.hex());
        write_blob_file(&dir.join(name), &manifest.bytes)?;
    }
    fs::write(dir.join("manifest.json"), &content.root().bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::process::Command;

    fn sample_image() -> Image {
        ImageBuilder::new()
            .layer(
                layer(&[("etc/hostname", b"berth\n"), ("/bin/hello", b"#!/bin/sh\n")]),
                "COPY . /",
            )
            .empty_history("ENV A=b")
            .layer(layer(&[("app/data.txt", b"data")]), "RUN make data")
            .config_field("Env", json!(["A=b"]))
            .config_field("Cmd", json!(["/bin/hello"]))
            .author("Berth tests")
            .annotation("org.example.purpose", "test")
            .build()
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
        out
    }

    fn parse(blob: &Blob) -> Value {
        serde_json::from_slice(&blob.bytes).unwrap()
    }

    /// Runs skopeo with `args` and returns its stdout, failing the test with skopeo's stderr
    /// because that is the only useful explanation when a layout is rejected.
    fn skopeo(args: &[&str]) -> Vec<u8> {
        let output = Command::new("skopeo")
            .args(args)
            .output()
            .expect("skopeo must be installed to run these tests");
        assert!(
            output.status.success(),
            "skopeo {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    #[test]
    fn blob_digest_and_descriptor() {
        let blob = Blob::new("text/plain", b"hello".to_vec());
        assert_eq!(
            blob.digest,
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(blob.size(), 5);
        assert_eq!(
            blob.descriptor(),
            json!({"mediaType": "text/plain", "digest": blob.digest, "size": 5})
        );
    }

    #[test]
    fn layers_are_deterministic() {
        let files: &[(&str, &[u8])] = &[("a.txt", b"a"), ("dir/b.txt", b"bb")];
        assert_eq!(layer(files), layer(files));
        assert_eq!(random_layer(100_000, 7, 1), random_layer(100_000, 7, 1));
        assert_ne!(
            random_layer(1000, 7, 1).diff_id,
            random_layer(1000, 8, 1).diff_id
        );
        // Different levels give different compressed bytes for the same tar.
        let fast = layer_with_level(files, 1);
        let stored = layer_with_level(files, 0);
        assert_eq!(fast.diff_id, stored.diff_id);
        assert_ne!(fast.blob.digest, stored.blob.digest);
    }

    #[test]
    fn images_are_deterministic() {
        let a = sample_image();
        let b = sample_image();
        assert_eq!(a.manifest.digest, b.manifest.digest);
        assert_eq!(a.config.digest, b.config.digest);
        assert_eq!(a, b);
        let ia = index(vec![
            a,
            ImageBuilder::new()
                .platform("linux", "arm64", Some("v8"))
                .build(),
        ]);
        let ib = index(vec![
            b,
            ImageBuilder::new()
                .platform("linux", "arm64", Some("v8"))
                .build(),
        ]);
        assert_eq!(ia.manifest, ib.manifest);
    }

    #[test]
    fn diff_id_is_sha256_of_uncompressed_tar() {
        let l = layer(&[("/etc/os-release", b"ID=berth\n"), ("x", b"")]);
        assert_eq!(l.blob.media_type, OCI_LAYER_GZIP);
        let tar_bytes = gunzip(&l.blob.bytes);
        assert_eq!(l.diff_id, sha256_digest(&tar_bytes));

        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header();
            assert_eq!(header.mode().unwrap(), 0o644);
            assert_eq!(header.mtime().unwrap(), 0);
            assert_eq!(header.uid().unwrap(), 0);
            assert_eq!(header.gid().unwrap(), 0);
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut contents = Vec::new();
            entry.read_to_end(&mut contents).unwrap();
            seen.push((path, contents));
        }
        assert_eq!(
            seen,
            vec![
                ("etc/os-release".to_owned(), b"ID=berth\n".to_vec()),
                ("x".to_owned(), Vec::new()),
            ]
        );
    }

    #[test]
    fn random_layer_holds_incompressible_file() {
        let size = 300_000;
        let l = random_layer(size, 42, 9);
        let tar_bytes = gunzip(&l.blob.bytes);
        assert_eq!(l.diff_id, sha256_digest(&tar_bytes));
        assert!(
            l.blob.size() > size as u64,
            "random data should not compress"
        );
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(entry.path().unwrap().to_str(), Some("random.bin"));
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents).unwrap();
        let mut expected = vec![0; size];
        let mut rng = StdRng::seed_from_u64(42);
        for chunk in expected.chunks_mut(RandomReader::CHUNK) {
            rng.fill_bytes(chunk);
        }
        assert_eq!(contents, expected);
    }

    #[test]
    fn manifest_references_config_and_layers() {
        let image = sample_image();
        assert_eq!(image.manifest.media_type, OCI_MANIFEST);
        assert_eq!(image.config.media_type, OCI_CONFIG);
        let manifest = parse(&image.manifest);
        assert_eq!(manifest["schemaVersion"], 2);
        assert_eq!(manifest["mediaType"], OCI_MANIFEST);
        assert_eq!(manifest["config"], image.config.descriptor());
        assert_eq!(manifest["config"]["size"], image.config.bytes.len());
        assert_eq!(
            manifest["config"]["digest"],
            sha256_digest(&image.config.bytes)
        );
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 2);
        for (descriptor, blob) in layers.iter().zip(&image.layers) {
            assert_eq!(descriptor["mediaType"], OCI_LAYER_GZIP);
            assert_eq!(descriptor["digest"], sha256_digest(&blob.bytes));
            assert_eq!(descriptor["size"], blob.bytes.len());
        }
        assert_eq!(manifest["annotations"]["org.example.purpose"], "test");
        assert_eq!(image.manifest.digest, sha256_digest(&image.manifest.bytes));
        let blobs: Vec<&str> = image.blobs().iter().map(|b| b.digest.as_str()).collect();
        assert_eq!(
            blobs,
            [
                &image.config.digest,
                &image.layers[0].digest,
                &image.layers[1].digest
            ]
        );
    }

    #[test]
    fn config_is_a_valid_image_config() {
        let image = sample_image();
        let config = parse(&image.config);
        assert_eq!(config["created"], DEFAULT_CREATED);
        assert_eq!(config["author"], "Berth tests");
        assert_eq!(config["os"], "linux");
        assert_eq!(config["architecture"], "amd64");
        assert!(config.get("variant").is_none());
        assert_eq!(config["config"]["Env"], json!(["A=b"]));
        assert_eq!(config["config"]["Cmd"], json!(["/bin/hello"]));
        assert_eq!(config["rootfs"]["type"], "layers");

        let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
        let expected: Vec<String> = image
            .layers
            .iter()
            .map(|l| sha256_digest(&gunzip(&l.bytes)))
            .collect();
        assert_eq!(
            diff_ids,
            &expected.iter().map(|d| json!(d)).collect::<Vec<_>>()
        );

        // One history entry per layer, in order, plus the empty ENV step between them.
        let history = config["history"].as_array().unwrap();
        let non_empty: Vec<&str> = history
            .iter()
            .filter(|h| h.get("empty_layer") != Some(&json!(true)))
            .map(|h| h["created_by"].as_str().unwrap())
            .collect();
        assert_eq!(non_empty, ["COPY . /", "RUN make data"]);
        assert_eq!(non_empty.len(), image.layers.len());
        assert_eq!(history[1]["created_by"], "ENV A=b");
        assert_eq!(history[1]["empty_layer"], true);
        assert!(history.iter().all(|h| h["created"] == DEFAULT_CREATED));

        let created = ImageBuilder::new().created("2020-05-06T07:08:09Z").build();
        assert_eq!(parse(&created.config)["created"], "2020-05-06T07:08:09Z");
    }

    #[test]
    fn docker_images_use_docker_media_types() {
        let l = layer(&[("f", b"x")]);
        let oci = ImageBuilder::new().layer(l.clone(), "ADD f /").build();
        let docker = ImageBuilder::new().layer(l, "ADD f /").docker().build();
        assert_eq!(docker.manifest.media_type, DOCKER_MANIFEST);
        assert_eq!(docker.config.media_type, DOCKER_CONFIG);
        assert_eq!(docker.layers[0].media_type, DOCKER_LAYER_GZIP);
        let manifest = parse(&docker.manifest);
        assert_eq!(manifest["mediaType"], DOCKER_MANIFEST);
        assert_eq!(manifest["config"]["mediaType"], DOCKER_CONFIG);
        assert_eq!(manifest["layers"][0]["mediaType"], DOCKER_LAYER_GZIP);
        // Only the manifest changes: configs and layers are byte-identical.
        assert_eq!(docker.config.digest, oci.config.digest);
        assert_eq!(docker.layers[0].digest, oci.layers[0].digest);
        assert_ne!(docker.manifest.digest, oci.manifest.digest);

        let list = index(vec![docker.clone(), docker.clone()]);
        assert_eq!(list.manifest.media_type, DOCKER_MANIFEST_LIST);
        let mixed = index(vec![docker, oci]);
        assert_eq!(mixed.manifest.media_type, OCI_INDEX);
    }

    #[test]
    #[should_panic(expected = "cannot add \"../escape\" to a layer")]
    fn layers_reject_parent_paths() {
        layer(&[("../escape", b"x")]);
    }

    #[test]
    #[should_panic(expected = "no annotations")]
    fn docker_images_reject_annotations() {
        ImageBuilder::new().docker().annotation("a", "b").build();
    }

    fn two_platform_index() -> Index {
        let shared = layer(&[("etc/motd", b"welcome\n")]);
        let amd64 = ImageBuilder::new()
            .layer(shared.clone(), "COPY motd /etc/motd")
            .layer(layer(&[("bin/app", b"amd64 binary")]), "COPY app /bin/app")
            .config_field("Entrypoint", json!(["/bin/app"]))
            .build();
        let arm64 = ImageBuilder::new()
            .platform("linux", "arm64", Some("v8"))
            .layer(shared, "COPY motd /etc/motd")
            .layer(layer(&[("bin/app", b"arm64 binary")]), "COPY app /bin/app")
            .config_field("Entrypoint", json!(["/bin/app"]))
            .build();
        index(vec![amd64, arm64])
    }

    #[test]
    fn index_lists_children_with_platforms() {
        let idx = two_platform_index();
        assert_eq!(idx.manifest.media_type, OCI_INDEX);
        let body = parse(&idx.manifest);
        assert_eq!(body["schemaVersion"], 2);
        assert_eq!(body["mediaType"], OCI_INDEX);
        let manifests = body["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[0]["digest"], idx.images[0].manifest.digest);
        assert_eq!(manifests[0]["size"], idx.images[0].manifest.size());
        assert_eq!(manifests[0]["mediaType"], OCI_MANIFEST);
        assert_eq!(
            manifests[0]["platform"],
            json!({"architecture": "amd64", "os": "linux"})
        );
        assert_eq!(
            manifests[1]["platform"],
            json!({"architecture": "arm64", "os": "linux", "variant": "v8"})
        );
        assert_eq!(parse(&idx.images[1].config)["variant"], "v8");
        // The shared layer is listed once: two configs, one shared layer, two app layers.
        assert_eq!(idx.blobs().len(), 5);
    }

    #[test]
    fn skopeo_accepts_image_layout() {
        let dir = tempfile::tempdir().unwrap();
        let image = sample_image();
        write_oci_layout(dir.path(), "v1", &image).unwrap();
        let reference = format!("oci:{}:v1", dir.path().display());

        let raw = skopeo(&["inspect", "--raw", &reference]);
        assert_eq!(raw, image.manifest.bytes);
        let raw_config = skopeo(&["inspect", "--config", "--raw", &reference]);
        assert_eq!(raw_config, image.config.bytes);
        let config: Value = serde_json::from_slice(&skopeo(&["inspect", "--config", &reference]))
            .expect("skopeo prints the config as JSON");
        assert_eq!(config["architecture"], "amd64");
        assert_eq!(config["config"]["Cmd"], json!(["/bin/hello"]));
        assert_eq!(
            config["rootfs"]["diff_ids"],
            parse(&image.config)["rootfs"]["diff_ids"]
        );

        // Copying verifies every blob's digest and size, which inspect alone does not.
        let copy = tempfile::tempdir().unwrap();
        let target = format!("oci:{}:copied", copy.path().display());
        skopeo(&["--insecure-policy", "copy", "--quiet", &reference, &target]);
        assert_eq!(skopeo(&["inspect", "--raw", &target]), image.manifest.bytes);
    }

    #[test]
    fn skopeo_accepts_docker_image_dir() {
        let dir = tempfile::tempdir().unwrap();
        let image = ImageBuilder::new()
            .layer(layer(&[("f", b"x")]), "ADD f /")
            .docker()
            .build();
        write_dir_layout(dir.path(), &image).unwrap();
        let reference = format!("dir:{}", dir.path().display());
        assert_eq!(
            skopeo(&["inspect", "--raw", &reference]),
            image.manifest.bytes
        );
        assert_eq!(
            skopeo(&["inspect", "--config", "--raw", &reference]),
            image.config.bytes
        );

        // Copying verifies every blob's digest and size, which inspect alone does not.
        let copy = tempfile::tempdir().unwrap();
        let target = format!("dir:{}", copy.path().display());
        skopeo(&["--insecure-policy", "copy", "--quiet", &reference, &target]);
        assert_eq!(skopeo(&["inspect", "--raw", &target]), image.manifest.bytes);
    }

    #[test]
    fn skopeo_accepts_docker_manifest_list_dir() {
        let shared = layer(&[("etc/motd", b"welcome\n")]);
        let list = index(vec![
            ImageBuilder::new()
                .layer(shared.clone(), "COPY motd /etc/motd")
                .docker()
                .build(),
            ImageBuilder::new()
                .platform("linux", "arm64", Some("v8"))
                .layer(shared, "COPY motd /etc/motd")
                .docker()
                .build(),
        ]);
        assert_eq!(list.manifest.media_type, DOCKER_MANIFEST_LIST);
        let dir = tempfile::tempdir().unwrap();
        write_dir_layout(dir.path(), &list).unwrap();
        let reference = format!("dir:{}", dir.path().display());
        assert_eq!(
            skopeo(&["inspect", "--raw", &reference]),
            list.manifest.bytes
        );
        let arm64_config = skopeo(&[
            "--override-arch",
            "arm64",
            "--override-variant",
            "v8",
            "inspect",
            "--config",
            "--raw",
            &reference,
        ]);
        assert_eq!(arm64_config, list.images[1].config.bytes);

        let copy = tempfile::tempdir().unwrap();
        let target = format!("dir:{}", copy.path().display());
        skopeo(&[
            "--insecure-policy",
            "copy",
            "--quiet",
            "--all",
            &reference,
            &target,
        ]);
        assert_eq!(skopeo(&["inspect", "--raw", &target]), list.manifest.bytes);
    }

    #[test]
    fn skopeo_accepts_index_layout() {
        let dir = tempfile::tempdir().unwrap();
        let idx = two_platform_index();
        write_oci_layout(dir.path(), "multi", &idx).unwrap();
        let reference = format!("oci:{}:multi", dir.path().display());

        assert_eq!(
            skopeo(&["inspect", "--raw", &reference]),
            idx.manifest.bytes
        );
        for (image, arch, variant) in [
            (&idx.images[0], "amd64", ""),
            (&idx.images[1], "arm64", "v8"),
        ] {
            // Overriding the platform makes skopeo pick each child regardless of the host.
            let mut platform = vec!["--override-os", "linux", "--override-arch", arch];
            if !variant.is_empty() {
                platform.extend(["--override-variant", variant]);
            }
            let raw_args = [&platform[..], &["inspect", "--config", "--raw", &reference]].concat();
            assert_eq!(skopeo(&raw_args), image.config.bytes, "config for {arch}");
            let args = [&platform[..], &["inspect", "--config", &reference]].concat();
            let config: Value = serde_json::from_slice(&skopeo(&args)).unwrap();
            assert_eq!(config["architecture"], arch);
        }

        let copy = tempfile::tempdir().unwrap();
        let target = format!("oci:{}:all", copy.path().display());
        skopeo(&[
            "--insecure-policy",
            "copy",
            "--quiet",
            "--all",
            &reference,
            &target,
        ]);
        assert_eq!(skopeo(&["inspect", "--raw", &target]), idx.manifest.bytes);
    }

    #[test]
    fn layouts_merge_and_retag() {
        let dir = tempfile::tempdir().unwrap();
        let first = sample_image();
        let second = ImageBuilder::new()
            .layer(layer(&[("other", b"other")]), "ADD other /")
            .build();
        write_oci_layout(dir.path(), "first", &first).unwrap();
        write_oci_layout(dir.path(), "second", &second).unwrap();
        // Rewriting a tag must replace its entry instead of adding a duplicate.
        write_oci_layout(dir.path(), "second", &second).unwrap();

        let layout: Value =
            serde_json::from_slice(&fs::read(dir.path().join("oci-layout")).unwrap()).unwrap();
        assert_eq!(layout, json!({"imageLayoutVersion": "1.0.0"}));
        let index_json: Value =
            serde_json::from_slice(&fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(index_json["schemaVersion"], 2);
        let entries = index_json["manifests"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        for blob in first.blobs().into_iter().chain(second.blobs()) {
            let path = dir.path().join("blobs/sha256").join(blob.hex());
            assert_eq!(fs::read(path).unwrap(), blob.bytes);
        }

        for (tag, image) in [("first", &first), ("second", &second)] {
            let reference = format!("oci:{}:{tag}", dir.path().display());
            assert_eq!(
                skopeo(&["inspect", "--raw", &reference]),
                image.manifest.bytes
            );
        }

        // Moving a tag to another image leaves the other tag alone.
        write_oci_layout(dir.path(), "second", &first).unwrap();
        let reference = format!("oci:{}:second", dir.path().display());
        assert_eq!(
            skopeo(&["inspect", "--raw", &reference]),
            first.manifest.bytes
        );
    }
}
