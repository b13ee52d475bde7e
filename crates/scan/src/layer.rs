//! An image's files as its layers leave them, read straight from the layer streams (tar,
//! plain, gzip or zstd): nothing
//! is unpacked to disk, and only the files the inventory reads are kept.
//!
//! Each layer is read once into a [`LayerContents`]: the wanted files it writes (contents, or
//! a symlink's target), the paths it deletes (whiteouts, `.wh.<name>`) and the directories it
//! empties of everything below it (opaque directories, `.wh..wh..opq`), as the OCI image
//! layer spec defines them. A layer's contents depend on its bytes alone, so they can be
//! kept by layer digest and shared by every image built on that layer. [`ImageFiles::stack`]
//! applies the layers bottom to top: a layer's deletions to what lies below it, then its own
//! files.

use std::collections::BTreeMap;
use std::io::{self, Read};

use berth_oci::layer_paths::{clamped_to_root, within_root};
use serde::{Deserialize, Serialize};

/// What a kept [`LayerContents`] was read by: a reader that keeps other files, or reads them
/// differently, raises it, so that contents kept by an older one are read from the layer
/// again rather than trusted.
pub const LAYER_READER_VERSION: i64 = 1;

/// The largest wanted file kept; a bigger one is left out with a note (a dpkg status file
/// of a large image is a few MB).
pub const MAX_WANTED_FILE_BYTES: u64 = 64 << 20;

/// The most bytes of wanted files one layer may keep in all: hard links to a large wanted
/// file would otherwise copy it without end.
pub const MAX_KEPT_BYTES: u64 = 256 << 20;

/// The most notes one layer records; a layer of a million hostile entries says so once.
const MAX_NOTES: usize = 1_000;

/// How many symlinks a path may go through before it counts as a loop.
const MAX_SYMLINK_HOPS: usize = 16;

/// Whether the inventory reads the file at `path` (relative to the root, normalised).
pub fn is_wanted(path: &str) -> bool {
    matches!(
        path,
        "etc/os-release" | "usr/lib/os-release" | "var/lib/dpkg/status"
    ) || path
        .strip_prefix("var/lib/dpkg/status.d/")
        .is_some_and(|name| !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums"))
        || crate::python::is_metadata_path(path)
        || crate::node::is_installed_manifest(path)
        || crate::rust::is_lockfile_path(path)
}

/// A wanted file as one layer writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WantedFile {
    /// The file's bytes, kept as base64 when serialised: image content need not be UTF-8.
    Contents(#[serde(with = "base64_bytes")] Vec<u8>),
    /// A symlink, with its target as written (relative to the link's directory, or absolute).
    Symlink(String),
}

/// What one layer does to the files the inventory reads. It serialises (as JSON, say) so that
/// it can be kept by layer digest and read back instead of the layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerContents {
    pub files: BTreeMap<String, WantedFile>,
    /// Paths deleted from the layers below (each with everything under it).
    pub whiteouts: Vec<String>,
    /// Directories whose contents in the layers below are hidden.
    pub opaque_dirs: Vec<String>,
    /// Entries read, for the scan log.
    pub entries: u64,
    /// What could not be read, each a sentence for the scan log.
    pub notes: Vec<String>,
}

/// Why a layer could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("the layer is not a readable tar archive: {0}")]
    Archive(#[source] io::Error),
}

/// Reads one layer blob: a tar archive, plain, gzip- or zstd-compressed (told by its first
/// bytes, not by a media type a registry may have wrong), of at most
/// [`MAX_LAYER_TAR_BYTES`] once decompressed.
pub fn read_layer(blob: impl Read) -> Result<LayerContents, LayerError> {
    read_layer_within(blob, MAX_LAYER_TAR_BYTES)
}

/// The most tar bytes a layer may expand to. Real layers of many gigabytes exist, but a
/// compression bomb expands without end, and every byte of it costs time to read through.
pub const MAX_LAYER_TAR_BYTES: u64 = 64 << 30;

/// [`read_layer`] with a limit of `max_tar_bytes` decompressed.
pub fn read_layer_within(
    mut blob: impl Read,
    max_tar_bytes: u64,
) -> Result<LayerContents, LayerError> {
    // The first bytes tell the compression; a stream may hand them over one at a time.
    let mut head = [0u8; 4];
    let got = read_up_to(&mut blob, &mut head).map_err(LayerError::Archive)?;
    let magic = &head[..got];
    let blob = io::BufReader::with_capacity(
        INFLATE_CHUNK,
        io::Cursor::new(head).take(got as u64).chain(blob),
    );
    let skippable =
        magic.len() >= 4 && magic[0] & 0xf0 == 0x50 && magic[1..4] == [0x2a, 0x4d, 0x18];
    if magic.starts_with(&ZSTD_MAGIC) || skippable {
        read_tar(Bounded::new(ZstdFrames::new(blob), max_tar_bytes))
    } else if magic.starts_with(&GZIP_MAGIC) {
        // Inflated in large pieces: tar reads headers 512 bytes at a time, and inflating into
        // buffers that small keeps zlib off its fast path.
        let inflated = io::BufReader::with_capacity(INFLATE_CHUNK, GzipMembers::new(blob)?);
        read_tar(Bounded::new(inflated, max_tar_bytes))
    } else {
        read_tar(Bounded::new(blob, max_tar_bytes))
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How much of a layer is read, and inflated, at a time.
const INFLATE_CHUNK: usize = 256 << 10;

/// The gzip members of a layer one after another (RFC 1952), inflated without checking their
/// CRC-32s: the layer's digest already vouches for every byte, and the check took a tenth of
/// the time a large layer takes to read. A stream cut inside a member is refused.
struct GzipMembers<R: io::BufRead> {
    reader: R,
    inflate: flate2::Decompress,
    /// Between members: the last one's deflate data ended and its trailer was read.
    ended: bool,
}

impl<R: io::BufRead> GzipMembers<R> {
    fn new(mut reader: R) -> Result<GzipMembers<R>, LayerError> {
        skip_gzip_header(&mut reader).map_err(LayerError::Archive)?;
        Ok(GzipMembers {
            reader,
            inflate: flate2::Decompress::new(false),
            ended: false,
        })
    }
}

impl<R: io::BufRead> Read for GzipMembers<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.ended {
                let mut magic = [0u8; 2];
                if read_up_to(&mut self.reader, &mut magic)? < 2 || magic != GZIP_MAGIC {
                    // Bytes after the last member (padding some tools write) end the stream.
                    return Ok(0);
                }
                skip_gzip_header_after_magic(&mut self.reader)?;
                self.inflate.reset(false);
                self.ended = false;
            }
            let input = self.reader.fill_buf()?;
            if input.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the gzip stream ends inside a member",
                ));
            }
            let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(input, buffer, flate2::FlushDecompress::None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let consumed = (self.inflate.total_in() - before_in) as usize;
            let produced = (self.inflate.total_out() - before_out) as usize;
            self.reader.consume(consumed);
            if consumed == 0 && produced == 0 && status != flate2::Status::StreamEnd {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the gzip stream's deflate data does not progress",
                ));
            }
            if status == flate2::Status::StreamEnd {
                // The trailer (CRC-32 and size) must follow whole.
                let mut trailer = [0; 8];
                self.reader.read_exact(&mut trailer).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the gzip stream ends inside a member's trailer",
                    )
                })?;
                self.ended = true;
            }
            if produced > 0 || buffer.is_empty() {
                return Ok(produced);
            }
        }
    }
}

/// Reads past a gzip member's header: the fixed ten bytes and the optional extra field, file
/// name, comment and header CRC its flags announce.
fn skip_gzip_header(reader: &mut impl io::BufRead) -> io::Result<()> {
    let mut magic = [0; 2];
    reader
        .read_exact(&mut magic)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the gzip header is cut short"))?;
    if magic != GZIP_MAGIC {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a gzip member",
        ));
    }
    skip_gzip_header_after_magic(reader)
}

/// [`skip_gzip_header`] once its two magic bytes are read.
fn skip_gzip_header_after_magic(reader: &mut impl io::BufRead) -> io::Result<()> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut fixed = [0; 8];
    reader
        .read_exact(&mut fixed)
        .map_err(|_| invalid("the gzip header is cut short"))?;
    if fixed[0] != 8 {
        return Err(invalid("not a gzip member of deflate data"));
    }
    let flags = fixed[1];
    if flags & 0x04 != 0 {
        let mut length = [0; 2];
        reader.read_exact(&mut length)?;
        let length = u64::from(u16::from_le_bytes(length));
        let skipped = io::copy(&mut reader.by_ref().take(length), &mut io::sink())?;
        if skipped != length {
            return Err(invalid("the gzip header's extra field is cut short"));
        }
    }
    for (flag, what) in [(0x08, "file name"), (0x10, "comment")] {
        if flags & flag != 0 {
            // A name without its terminating zero would otherwise read the whole stream.
            let mut text = Vec::new();
            io::BufRead::read_until(&mut reader.by_ref().take(64 << 10), 0, &mut text)?;
            if text.last() != Some(&0) {
                return Err(invalid(&format!("the gzip header's {what} is cut short")));
            }
        }
    }
    if flags & 0x02 != 0 {
        reader.read_exact(&mut [0; 2])?;
    }
    Ok(())
}

/// Reads into `buffer` until it is full or the stream ends; answers how many bytes came.
fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buffer.len() {
        match reader.read(&mut buffer[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A stream that fails once more than `limit` bytes came out of it, with a reason the scan
/// log can give.
struct Bounded<R> {
    inner: R,
    limit: u64,
    read: u64,
}

impl<R: Read> Bounded<R> {
    fn new(inner: R, limit: u64) -> Bounded<R> {
        Bounded {
            inner,
            limit,
            read: 0,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.read += read as u64;
        if self.read > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the layer expands past {} bytes of tar (a compression bomb?); not read further",
                    self.limit
                ),
            ));
        }
        Ok(read)
    }
}

/// The first bytes of a zstd frame (skippable frames start `0x184D2A5?`).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// A zstd stream of any number of frames read as one, skippable frames (the table of
/// contents `zstd:chunked` layers carry) stepped over. `ruzstd`'s streaming decoder reads a
/// single frame, so this drives its frame decoder across them.
struct ZstdFrames<R: io::BufRead> {
    source: R,
    decoder: ruzstd::decoding::FrameDecoder,
    in_frame: bool,
}

impl<R: io::BufRead> ZstdFrames<R> {
    fn new(source: R) -> ZstdFrames<R> {
        ZstdFrames {
            source,
            decoder: ruzstd::decoding::FrameDecoder::new(),
            in_frame: false,
        }
    }
}

impl<R: io::BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
        loop {
            if self.in_frame {
                while self.decoder.can_collect() == 0 && !self.decoder.is_finished() {
                    self.decoder
                        .decode_blocks(
                            &mut self.source,
                            ruzstd::decoding::BlockDecodingStrategy::UptoBlocks(1),
                        )
                        .map_err(io::Error::other)?;
                }
                let read = self.decoder.read(buffer)?;
                if read > 0 || buffer.is_empty() {
                    return Ok(read);
                }
                self.in_frame = false;
            }
            if self.source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => self.in_frame = true,
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.source).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped < u64::from(length) {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the stream ends inside a skippable zstd frame",
                        ));
                    }
                }
                Err(error) => return Err(io::Error::other(error)),
            }
        }
    }
}

fn read_tar(stream: impl Read) -> Result<LayerContents, LayerError> {
    let mut archive = tar::Archive::new(stream);
    let mut contents = LayerContents::default();
    let mut kept = 0u64;
    for entry in archive.entries().map_err(LayerError::Archive)? {
        let mut entry = entry.map_err(LayerError::Archive)?;
        contents.entries += 1;
        let raw_path = entry.path_bytes().into_owned();
        let Some(path) = within_root(&String::from_utf8_lossy(&raw_path)) else {
            contents.notes.push(format!(
                "skipped `{}`: the path leaves the image's root",
                String::from_utf8_lossy(&raw_path)
            ));
            continue;
        };
        let (parent, name) = match path.rsplit_once('/') {
            Some((parent, name)) => (parent, name),
            None => ("", path.as_str()),
        };
        if name == ".wh..wh..opq" {
            contents.opaque_dirs.push(parent.to_string());
            continue;
        }
        if let Some(hidden) = name.strip_prefix(".wh.") {
            contents.whiteouts.push(join(parent, hidden));
            continue;
        }
        if !is_wanted(&path) {
            continue;
        }
        let kind = entry.header().entry_type();
        if kind.is_symlink() {
            match entry.link_name_bytes() {
                Some(target) => {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    contents.files.insert(path, WantedFile::Symlink(target));
                }
                None => contents
                    .notes
                    .push(format!("skipped `{path}`: a symlink without a target")),
            }
        } else if kind.is_file() {
            let size = entry.size();
            if size > MAX_WANTED_FILE_BYTES {
                contents.notes.push(format!(
                    "skipped `{path}`: {size} bytes, more than the {MAX_WANTED_FILE_BYTES} read"
                ));
                continue;
            }
            let mut bytes = Vec::with_capacity(size as usize);
            entry
                .by_ref()
                .take(MAX_WANTED_FILE_BYTES)
                .read_to_end(&mut bytes)
                .map_err(LayerError::Archive)?;
            keep(&mut contents, &mut kept, path, WantedFile::Contents(bytes))?;
        } else if kind.is_hard_link() {
            // A hard link names another entry of this layer, already read if it is wanted.
            let target = entry
                .link_name_bytes()
                .and_then(|t| within_root(&String::from_utf8_lossy(&t)));
            match target.and_then(|t| contents.files.get(&t).cloned()) {
                Some(file) => keep(&mut contents, &mut kept, path, file)?,
                None => contents.notes.push(format!(
                    "skipped `{path}`: a hard link to a file this layer does not hold"
                )),
            }
        } else {
            contents.notes.push(format!(
                "skipped `{path}`: a {kind:?} entry, not a file or a symlink"
            ));
        }
    }
    if contents.notes.len() > MAX_NOTES {
        contents.notes.truncate(MAX_NOTES);
        contents
            .notes
            .push("… and more entries skipped for the same reasons".to_string());
    }
    Ok(contents)
}

/// Keeps `file` at `path`, counting its bytes against [`MAX_KEPT_BYTES`].
fn keep(
    contents: &mut LayerContents,
    kept: &mut u64,
    path: String,
    file: WantedFile,
) -> Result<(), LayerError> {
    if let WantedFile::Contents(bytes) = &file {
        *kept += bytes.len() as u64;
        if *kept > MAX_KEPT_BYTES {
            return Err(LayerError::Archive(io::Error::other(format!(
                "the layer keeps more than {} MiB of package files (hard links to one, or too \
                 many)",
                MAX_KEPT_BYTES >> 20
            ))));
        }
    }
    contents.files.insert(path, file);
    Ok(())
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// Whether `path` is `dir` or lies under it.
fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The wanted files of a whole image, its layers applied in order.
#[derive(Debug, Default)]
pub struct ImageFiles<'a> {
    files: BTreeMap<&'a str, &'a WantedFile>,
}

impl<'a> ImageFiles<'a> {
    /// Applies `layers`, bottom first.
    pub fn stack(layers: impl IntoIterator<Item = &'a LayerContents>) -> ImageFiles<'a> {
        let mut files: BTreeMap<&'a str, &'a WantedFile> = BTreeMap::new();
        for layer in layers {
            // Opaque directories and whiteouts hide only what the layers below hold.
            for dir in &layer.opaque_dirs {
                files.retain(|path, _| !(is_under(path, dir) && *path != dir.as_str()));
            }
            for hidden in &layer.whiteouts {
                files.retain(|path, _| !is_under(path, hidden));
            }
            for (path, file) in &layer.files {
                files.insert(path.as_str(), file);
            }
        }
        ImageFiles { files }
    }

    /// The contents at `path`, through symlinks; `Err` says why there are none when the
    /// path exists but leads nowhere (a loop, a link out of the root, a missing target).
    pub fn read(&self, path: &str) -> Result<Option<&'a [u8]>, String> {
        let mut current = match within_root(path) {
            Some(p) => p,
            None => return Ok(None),
        };
        for _ in 0..MAX_SYMLINK_HOPS {
            match self.files.get(current.as_str()) {
                None => return Ok(None),
                Some(WantedFile::Contents(bytes)) => return Ok(Some(bytes)),
                Some(WantedFile::Symlink(target)) => {
                    let base = if target.starts_with('/') {
                        ""
                    } else {
                        current.rsplit_once('/').map_or("", |(dir, _)| dir)
                    };
                    // A link that climbs past the root stops at it, as the kernel's do.
                    current = clamped_to_root(&join(base, target));
                }
            }
        }
        Err(format!(
            "`{path}` goes through more than {MAX_SYMLINK_HOPS} symlinks (a loop)"
        ))
    }

    /// The wanted paths that exist, in order.
    pub fn paths(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.files.keys().copied()
    }
}

/// Bytes as one base64 string, for [`WantedFile::Contents`].
mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    enum Entry<'a> {
        File(&'a str, &'a [u8]),
        Symlink(&'a str, &'a str),
        HardLink(&'a str, &'a str),
        Dir(&'a str),
    }

    fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for entry in entries {
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o644);
            match entry {
                Entry::File(path, bytes) => {
                    header.set_size(bytes.len() as u64);
                    header.set_entry_type(tar::EntryType::Regular);
                    // Written raw: `append_data` would refuse the `..` paths tests need.
                    header.as_gnu_mut().unwrap().name[..path.len()]
                        .copy_from_slice(path.as_bytes());
                    header.set_cksum();
                    builder.append(&header, *bytes).unwrap();
                }
                Entry::Symlink(path, target) | Entry::HardLink(path, target) => {
                    header.set_size(0);
                    header.set_entry_type(if matches!(entry, Entry::Symlink(..)) {
                        tar::EntryType::Symlink
                    } else {
                        tar::EntryType::Link
                    });
                    builder.append_link(&mut header, path, target).unwrap();
                }
                Entry::Dir(path) => {
                    header.set_size(0);
                    header.set_entry_type(tar::EntryType::Directory);
                    builder.append_data(&mut header, path, io::empty()).unwrap();
                }
            }
        }
        builder.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut encoder, bytes).unwrap();
        encoder.finish().unwrap()
    }

    const OS_RELEASE: &[u8] = b"ID=debian\nVERSION_ID=\"12\"\n";

    #[test]
    fn layers_stack_with_symlinks_whiteouts_and_opaque_directories() {
        let base = read_layer(
            tar(&[
                Entry::Dir("etc/"),
                Entry::Symlink("etc/os-release", "../usr/lib/os-release"),
                Entry::File("usr/lib/os-release", OS_RELEASE),
                Entry::File("var/lib/dpkg/status", b"Package: base\nVersion: 1\n"),
                Entry::File("var/lib/dpkg/status.d/old", b"Package: old\nVersion: 1\n"),
                Entry::File("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
            ])
            .as_slice(),
        )
        .unwrap();
        assert_eq!(base.entries, 6);
        assert_eq!(
            base.files.len(),
            4,
            "etc/passwd is not wanted: {:?}",
            base.files
        );
        // The next layer, gzip-compressed: the status file deleted, status.d emptied and
        // refilled.
        let upper = read_layer(
            gzip(&tar(&[
                Entry::File("var/lib/dpkg/.wh.status", b""),
                Entry::File("var/lib/dpkg/status.d/.wh..wh..opq", b""),
                Entry::File("var/lib/dpkg/status.d/new", b"Package: new\nVersion: 2\n"),
                Entry::File("./var/lib/dpkg/status.d/new.md5sums", b"abc  /x\n"),
            ]))
            .as_slice(),
        )
        .unwrap();
        assert_eq!(upper.whiteouts, ["var/lib/dpkg/status"]);
        assert_eq!(upper.opaque_dirs, ["var/lib/dpkg/status.d"]);
        let image = ImageFiles::stack([&base, &upper]);
        assert_eq!(image.read("/etc/os-release").unwrap(), Some(OS_RELEASE));
        assert_eq!(image.read("var/lib/dpkg/status").unwrap(), None);
        assert_eq!(
            image.paths().collect::<Vec<_>>(),
            [
                "etc/os-release",
                "usr/lib/os-release",
                "var/lib/dpkg/status.d/new"
            ]
        );
        // Alone, the lower layer still shows what the upper one hides.
        let lower_only = ImageFiles::stack([&base]);
        assert!(lower_only.read("var/lib/dpkg/status").unwrap().is_some());
    }

    /// zstd layers, in one frame or several, with a skippable frame before them as
    /// `zstd:chunked` writes its table of contents.
    #[test]
    fn gzip_members_with_header_fields_are_read_and_a_cut_one_refused() {
        let first = tar(&[Entry::File("etc/os-release", b"ID=debian\n")]);
        // A member with a file name, a comment and an extra field, then a second member.
        let mut named = flate2::GzBuilder::new()
            .filename("layer.tar")
            .comment("from a test")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut named, &first[..first.len() - 1024]).unwrap();
        let mut blob = named.finish().unwrap();
        blob.extend(gzip(&first[first.len() - 1024..]));
        let contents = read_layer(&blob[..]).unwrap();
        assert!(contents.files.contains_key("etc/os-release"));
        // Cut inside the first member's data: refused, though what came before was a tar.
        let cut = &blob[..40];
        assert!(read_layer(cut).is_err());
        let mut streamed = GzipMembers::new(&blob[..blob.len() - 4]).unwrap();
        let error = io::copy(&mut streamed, &mut io::sink()).unwrap_err();
        assert!(error.to_string().contains("trailer"), "{error}");
        // A header whose file name never ends is refused, not read to the end of memory.
        let mut endless = vec![0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3];
        endless.extend(std::iter::repeat_n(b'a', 100_000));
        assert!(read_layer(&endless[..]).is_err());
    }

    #[test]
    fn hard_links_to_a_large_wanted_file_stop_at_the_kept_limit() {
        let big = vec![b'x'; 4 << 20];
        let names: Vec<String> = (0..70)
            .map(|n| format!("var/lib/dpkg/status.d/link{n}"))
            .collect();
        let mut entries = vec![Entry::File("var/lib/dpkg/status", &big)];
        entries.extend(
            names
                .iter()
                .map(|name| Entry::HardLink(name, "var/lib/dpkg/status")),
        );
        let error = read_layer(&tar(&entries)[..]).unwrap_err();
        assert!(error.to_string().contains("more than 256 MiB"), "{error}");
    }

    #[test]
    fn kept_contents_read_back_as_they_were() {
        let layer = tar(&[
            Entry::File("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
            Entry::File("var/lib/dpkg/status", &[0xff, 0xfe, b'\n']),
            Entry::Symlink("usr/lib/os-release", "../../etc/os-release"),
            Entry::File("var/.wh.cache", b""),
        ]);
        let contents = read_layer(&layer[..]).unwrap();
        let kept = serde_json::to_string(&contents).unwrap();
        assert!(kept.contains("\"contents\":\"//4K\""), "{kept}");
        assert_eq!(
            serde_json::from_str::<LayerContents>(&kept).unwrap(),
            contents
        );
    }

    #[test]
    fn zstd_layers_are_read_across_frames() {
        let archive = tar(&[
            Entry::File("usr/lib/os-release", OS_RELEASE),
            Entry::File("var/lib/dpkg/status", &[b'x'; 70_000]),
        ]);
        let compress = |bytes: &[u8]| {
            ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
        };
        let middle = archive.len() / 2;
        let mut skippable = vec![0x50, 0x2a, 0x4d, 0x18, 5, 0, 0, 0];
        skippable.extend_from_slice(b"table");
        for blob in [
            compress(&archive),
            [compress(&archive[..middle]), compress(&archive[middle..])].concat(),
            [skippable.clone(), compress(&archive)].concat(),
        ] {
            let layer = read_layer(blob.as_slice()).unwrap();
            assert_eq!(layer.entries, 2);
            let image = ImageFiles::stack([&layer]);
            assert_eq!(image.read("usr/lib/os-release").unwrap(), Some(OS_RELEASE));
            assert_eq!(
                image.read("var/lib/dpkg/status").unwrap().map(<[u8]>::len),
                Some(70_000)
            );
        }
        // A stream that ends inside a skippable frame says so.
        let truncated = [&skippable[..10]].concat();
        assert!(read_layer(truncated.as_slice()).is_err());
    }

    /// A gzip bomb (here 64 MiB of zeros in a 64 KiB blob, under a 16 MiB limit) stops at the
    /// limit with a reason; under a limit it fits in, the same layer reads whole.
    #[test]
    fn a_compression_bomb_stops_at_the_limit() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let mut header = tar::Header::new_gnu();
        header.set_size(64 << 20);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_path("zeros").unwrap();
        header.set_cksum();
        io::Write::write_all(&mut encoder, header.as_bytes()).unwrap();
        io::copy(&mut io::repeat(0).take(64 << 20), &mut encoder).unwrap();
        io::Write::write_all(&mut encoder, &[0; 1024]).unwrap();
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
        let error = read_layer_within(bomb.as_slice(), 16 << 20).unwrap_err();
        assert!(error.to_string().contains("compression bomb"), "{error}");
        assert_eq!(
            read_layer_within(bomb.as_slice(), 128 << 20)
                .unwrap()
                .entries,
            1
        );
    }

    #[test]
    fn hostile_entries_are_skipped_with_a_reason() {
        let layer = read_layer(
            tar(&[
                Entry::File("../../var/lib/dpkg/status", b"Package: evil\nVersion: 1\n"),
                Entry::Symlink("etc/os-release", "../../../../../etc/loop"),
                Entry::Symlink("usr/lib/os-release", "/usr/lib/os-release"),
                Entry::HardLink("var/lib/dpkg/status", "var/lib/dpkg/elsewhere"),
            ])
            .as_slice(),
        )
        .unwrap();
        assert!(
            layer.notes[0].contains("leaves the image's root"),
            "{:?}",
            layer.notes
        );
        assert!(layer.notes[1].contains("hard link"), "{:?}", layer.notes);
        let image = ImageFiles::stack([&layer]);
        // The link out of the root stops at it and finds nothing; the self-link is a loop.
        assert_eq!(image.read("etc/os-release").unwrap(), None);
        let error = image.read("usr/lib/os-release").unwrap_err();
        assert!(error.contains("a loop"), "{error}");
        assert_eq!(image.read("var/lib/dpkg/status").unwrap(), None);
    }

    #[test]
    fn what_is_not_a_layer_says_so() {
        let error = read_layer(&[0x28, 0xb5, 0x2f, 0xfd, 0, 0][..]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the layer is not a readable tar"),
            "{error}"
        );
        let truncated = &tar(&[Entry::File("var/lib/dpkg/status", &[b'x'; 4096])])[..1024];
        let error = read_layer(truncated).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the layer is not a readable tar"),
            "{error}"
        );
        let mut corrupt_gzip = gzip(&tar(&[Entry::File("etc/os-release", OS_RELEASE)]));
        let middle = corrupt_gzip.len() / 2;
        corrupt_gzip[middle] ^= 0xff;
        assert!(read_layer(corrupt_gzip.as_slice()).is_err());
    }

    proptest! {
        /// Any bytes, and a real layer with bytes changed: contents or an error, no panic.
        #[test]
        fn fuzz_any_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            let _ = read_layer(bytes.as_slice());
        }

        #[test]
        fn fuzz_a_mutated_zstd_layer_is_read_or_refused(edits in prop::collection::vec((0usize..4096, any::<u8>()), 1..8)) {
            let archive = tar(&[Entry::File("usr/lib/os-release", OS_RELEASE)]);
            let mut bytes = ruzstd::encoding::compress_to_vec(
                archive.as_slice(),
                ruzstd::encoding::CompressionLevel::Fastest,
            );
            for (at, byte) in edits {
                let at = at % bytes.len();
                // The magic stays, so the decoder, not the sniffing, meets the damage.
                if at >= 4 {
                    bytes[at] = byte;
                }
            }
            let _ = read_layer(bytes.as_slice());
        }

        #[test]
        fn fuzz_a_mutated_layer_is_read_or_refused(edits in prop::collection::vec((0usize..3072, any::<u8>()), 1..12)) {
            let mut bytes = tar(&[
                Entry::Symlink("etc/os-release", "../usr/lib/os-release"),
                Entry::File("usr/lib/os-release", OS_RELEASE),
                Entry::File("var/lib/dpkg/.wh.status", b""),
            ]);
            for (at, byte) in edits {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            if let Ok(layer) = read_layer(bytes.as_slice()) {
                let image = ImageFiles::stack([&layer]);
                let _ = image.read("etc/os-release");
            }
        }
    }
}
