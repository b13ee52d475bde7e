//! Reading the tarball: one pass over the request body on a blocking thread.
//!
//! Each regular file is written once. Small files and JSON documents (manifests, configs,
//! `index.json`, `manifest.json`) are kept in memory, within a budget; everything else streams
//! into a blob-store upload session, which hashes while it writes. Entry names are checked as
//! they arrive: a name or link that leads outside the archive refuses the whole tarball. Files
//! named `blobs/<algorithm>/<hex>` must hash to their name.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use berth_blobs::BlobStore;
use berth_http::BYTES_RECEIVED;
use berth_oci::{Algorithm, Digest};
use bytes::Bytes;
use futures::StreamExt;
use tokio::runtime::Handle;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::ImportError;

/// The largest request body accepted (the upload route's body limit).
pub const MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The largest tar stream accepted after decompression, so a small gzip bomb cannot fill the
/// disk. Image layers compress about 2–4×, so a real 2 GiB `.tar.gz` stays well below it.
const MAX_TAR_BYTES: u64 = 4 * MAX_UPLOAD_BYTES;
/// The largest JSON document kept in memory: the registry's manifest size limit.
pub const MAX_DOCUMENT_BYTES: u64 = berth_oci::MAX_MANIFEST_BYTES as u64;
/// Files this small are kept in memory whatever they hold: a session per `VERSION` file or
/// empty layer would cost a directory and an fsync each.
const SMALL_FILE_BYTES: u64 = 64 * 1024;
/// How much one import keeps in memory in all. Past it, files go to sessions, and a document
/// that is needed later is reported as too large.
const MEMORY_BUDGET: u64 = 64 * 1024 * 1024;
/// Reads from the tarball and writes to sessions in chunks of this size (the blob store's).
const CHUNK: usize = 256 * 1024;
/// Symlink chains longer than this are refused, as a loop would be.
const MAX_LINK_HOPS: usize = 16;

/// Where a file's bytes are.
pub enum Content {
    Memory(Bytes),
    /// An open upload session holding the bytes, not yet finished.
    Session(String),
}

/// A regular file of the tarball.
pub struct File {
    pub content: Content,
    pub size: u64,
    /// The digest of the content: SHA-256, or SHA-512 for `blobs/sha512/…` files.
    pub digest: Digest,
    /// The first bytes, enough to tell gzip and zstd from plain tar.
    pub head: Vec<u8>,
}

/// Everything the tarball held, by normalized path (`blobs/sha256/ab…`, `manifest.json`).
#[derive(Default)]
pub struct Archive {
    pub files: HashMap<String, File>,
    /// Symbolic and hard links: path → the path they point at, already normalized.
    pub links: HashMap<String, String>,
    pub compressed: bool,
}

impl Archive {
    /// The file at `path`, following links; `None` when there is no such file.
    pub fn get(&self, path: &str) -> Option<(&str, &File)> {
        let mut path = path;
        for _ in 0..=MAX_LINK_HOPS {
            if let Some((name, file)) = self.files.get_key_value(path) {
                return Some((name.as_str(), file));
            }
            path = self.links.get(path)?;
        }
        None
    }
}

/// Upload sessions this import has opened and not yet finished or cancelled. Shared by the
/// reading thread and the async side, so whichever fails can cancel them all.
#[derive(Clone, Default)]
pub struct OpenSessions(Arc<Mutex<Vec<String>>>);

impl OpenSessions {
    fn add(&self, id: &str) {
        self.0.lock().unwrap().push(id.to_string());
    }

    /// Forgets a session that was finished or cancelled elsewhere.
    pub fn remove(&self, id: &str) {
        self.0.lock().unwrap().retain(|open| open != id);
    }

    /// Cancels every open session, removing its files. Failures are logged: the stale-upload
    /// purge removes whatever is left.
    pub async fn cancel_all(&self, blobs: &dyn BlobStore) {
        let open = std::mem::take(&mut *self.0.lock().unwrap());
        for id in open {
            if let Err(error) = blobs.cancel(&id).await {
                tracing::warn!(upload = %id, error = %error, "cancelling an import session failed");
            }
        }
    }
}

/// Why reading stopped, when the cause was the body rather than its content. The readers
/// below set it, because by the time their error has passed through gzip and tar it is only
/// an `io::Error` with someone else's message.
#[derive(Clone, Default)]
pub struct Tripwire(Arc<OnceLock<Stop>>);

#[derive(Clone)]
enum Stop {
    Interrupted(String),
    TooLarge(String),
}

impl Tripwire {
    fn trip(&self, stop: Stop) -> io::Error {
        let message = match &stop {
            Stop::Interrupted(m) | Stop::TooLarge(m) => m.clone(),
        };
        let _ = self.0.set(stop);
        io::Error::other(message)
    }

    fn take(&self) -> Option<ImportError> {
        self.0.get().map(|stop| match stop.clone() {
            Stop::Interrupted(message) => ImportError::Invalid(message),
            Stop::TooLarge(message) => ImportError::TooLarge(message),
        })
    }
}

/// The request body as a blocking reader. The body comes limited by the route
/// (`DefaultBodyLimit`); going over the limit stops the import as too large.
pub fn body_reader(body: Body, tripwire: Tripwire, handle: Handle) -> impl Read {
    let stream = body
        .into_data_stream()
        .map(move |chunk| {
            let chunk = chunk.map_err(|e| {
                let e = e.into_inner();
                tripwire.trip(if e.is::<http_body_util::LengthLimitError>() {
                    Stop::TooLarge(super::too_large_message())
                } else {
                    Stop::Interrupted(format!("the upload was interrupted: {e}"))
                })
            })?;
            metrics::counter!(BYTES_RECEIVED).increment(chunk.len() as u64);
            Ok::<_, io::Error>(chunk)
        })
        .boxed();
    SyncIoBridge::new_with_handle(StreamReader::new(stream), handle)
}

/// "2 GiB" for the limits in messages (which are whole GiB or MiB).
pub fn human_size(bytes: u64) -> String {
    const GIB: u64 = 1024 * 1024 * 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= GIB {
        format!("{} GiB", bytes / GIB)
    } else {
        format!("{} MiB", bytes / MIB)
    }
}

/// Counts the bytes of the decompressed tar stream and stops past a limit.
struct Counted<R> {
    inner: R,
    read: u64,
    limit: u64,
    tripwire: Tripwire,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(self.tripwire.trip(Stop::TooLarge(format!(
                "the tarball unpacks to more than {}",
                human_size(self.limit)
            ))));
        }
        Ok(n)
    }
}

/// What the reading thread needs to write sessions.
pub struct Sink {
    pub blobs: Arc<dyn BlobStore>,
    pub handle: Handle,
    pub sessions: OpenSessions,
    /// The repository the sessions are opened for. They are never handed out, so this only
    /// labels them.
    pub label: String,
}

/// Reads the whole tarball from `body`, gzip-compressed or not. Blocking: run it on a
/// blocking thread. Sessions it opens are registered in `sink.sessions`, also on failure.
pub fn read(body: impl Read, sink: &Sink, tripwire: &Tripwire) -> Result<Archive, ImportError> {
    let mut buffered = BufReader::with_capacity(CHUNK, body);
    let magic = buffered.fill_buf().map_err(|e| body_error(tripwire, e))?;
    if magic.is_empty() {
        return Err(ImportError::Invalid(
            "the request body is empty: send a `docker save` or OCI image layout tarball".into(),
        ));
    }
    let compressed = magic.starts_with(&[0x1f, 0x8b]);
    if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(ImportError::Invalid(
            "the body is zstd-compressed, which uploads do not support: send the tarball plain or gzip-compressed".into(),
        ));
    }
    let tar: Box<dyn Read> = if compressed {
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let counted = Counted {
        inner: tar,
        read: 0,
        limit: MAX_TAR_BYTES,
        tripwire: tripwire.clone(),
    };
    let mut reader = Reader {
        archive: Archive {
            compressed,
            ..Archive::default()
        },
        sink,
        tripwire,
        budget: MEMORY_BUDGET,
        last: None,
    };
    reader.read_all(counted)?;
    Ok(reader.archive)
}

struct Reader<'a> {
    archive: Archive,
    sink: &'a Sink,
    tripwire: &'a Tripwire,
    /// What may still be kept in memory.
    budget: u64,
    /// The last entry read, to say where a damaged tarball went wrong.
    last: Option<String>,
}

impl Reader<'_> {
    fn read_all(&mut self, tar: impl Read) -> Result<(), ImportError> {
        let mut tar = tar::Archive::new(tar);
        let entries = tar.entries().map_err(|e| self.damaged(e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| self.damaged(e))?;
            let path = entry_path(&entry.path_bytes())?;
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                let target = entry.link_name_bytes().unwrap_or_default();
                let target = link_target(&path, &target, kind.is_symlink())?;
                self.archive.links.insert(path.clone(), target);
            } else if kind.is_file() || kind == tar::EntryType::Continuous {
                if self.archive.files.contains_key(&path) || self.archive.links.contains_key(&path)
                {
                    return Err(ImportError::Invalid(format!(
                        "entry `{path}` appears twice in the tarball"
                    )));
                }
                let size = entry.size();
                let file = self.read_file(&mut entry, &path, size)?;
                self.archive.files.insert(path.clone(), file);
            }
            // Directories, pax global headers and device nodes carry nothing an image needs.
            self.last = Some(path);
        }
        Ok(())
    }

    /// Reads one regular file into memory or into a new session, and checks a blob file's
    /// content against its name.
    fn read_file(
        &mut self,
        entry: &mut impl Read,
        path: &str,
        size: u64,
    ) -> Result<File, ImportError> {
        let named = blob_digest(path);
        let algorithm = named.as_ref().map_or(Algorithm::Sha256, Digest::algorithm);
        let mut first = vec![0; size.min(CHUNK as u64) as usize];
        self.fill_exact(entry, &mut first, path)?;
        let head = first[..first.len().min(4)].to_vec();
        let json = first
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b'{' | b'['));
        let in_memory = size <= self.budget
            && (size <= SMALL_FILE_BYTES || (json && size <= MAX_DOCUMENT_BYTES));
        let (content, digest) = if in_memory {
            let mut bytes = first;
            bytes.resize(size as usize, 0);
            let start = size.min(CHUNK as u64) as usize;
            self.fill_exact(entry, &mut bytes[start..], path)?;
            self.budget -= size;
            let digest = Digest::of(algorithm, &bytes);
            (Content::Memory(bytes.into()), digest)
        } else {
            let id = self.stream_to_session(entry, path, size, first, algorithm)?;
            let digest = self
                .sink
                .handle
                .block_on(self.sink.blobs.upload_digest(&id))
                .map_err(internal)?;
            (Content::Session(id), digest)
        };
        if let Some(named) = named {
            if named != digest {
                return Err(ImportError::Invalid(format!(
                    "entry `{path}` does not hold what its name says: its content has digest {digest}"
                )));
            }
        }
        Ok(File {
            content,
            size,
            digest,
            head,
        })
    }

    /// Streams `first` and the rest of the entry into a new upload session. A blocking send
    /// into a small queue keeps memory at a few chunks while the blob store's writer thread
    /// hashes and writes.
    fn stream_to_session(
        &self,
        entry: &mut impl Read,
        path: &str,
        size: u64,
        first: Vec<u8>,
        algorithm: Algorithm,
    ) -> Result<String, ImportError> {
        let sink = self.sink;
        let id = sink
            .handle
            .block_on(sink.blobs.start_upload(&sink.label, algorithm))
            .map_err(internal)?;
        sink.sessions.add(&id);
        let (sender, receiver) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(2);
        let stream = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        })
        .boxed();
        let writer = sink.handle.spawn({
            let blobs = sink.blobs.clone();
            let id = id.clone();
            async move { blobs.append(&id, None, stream).await }
        });
        let mut sent = first.len() as u64;
        let mut outcome = Ok(());
        if sender.blocking_send(Ok(Bytes::from(first))).is_ok() {
            while sent < size {
                let mut chunk = vec![0; (size - sent).min(CHUNK as u64) as usize];
                if let Err(error) = self.fill_exact(entry, &mut chunk, path) {
                    outcome = Err(error);
                    break;
                }
                sent += chunk.len() as u64;
                if sender.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                    break; // The writer failed; its error is reported below.
                }
            }
        }
        drop(sender);
        let written = sink
            .handle
            .block_on(writer)
            .map_err(|e| ImportError::Internal(anyhow::anyhow!("session writer failed: {e}")))?
            .map_err(internal)?;
        outcome?;
        if written != size {
            return Err(ImportError::Internal(anyhow::anyhow!(
                "session for `{path}` holds {written} bytes, not {size}"
            )));
        }
        Ok(id)
    }

    /// Fills `buf` from the entry; an entry that ends early means the tarball was cut short.
    fn fill_exact(
        &self,
        entry: &mut impl Read,
        buf: &mut [u8],
        path: &str,
    ) -> Result<(), ImportError> {
        let mut filled = 0;
        while filled < buf.len() {
            match entry.read(&mut buf[filled..]) {
                Ok(0) => {
                    return Err(ImportError::Invalid(format!(
                        "the tarball is truncated: it ends inside entry `{path}`"
                    )))
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.damaged(e)),
            }
        }
        Ok(())
    }

    /// The error for a failed read: the body's own failure when there was one, otherwise
    /// damage in the gzip or tar format, named by where it happened.
    fn damaged(&self, error: io::Error) -> ImportError {
        if let Some(cause) = self.tripwire.take() {
            return cause;
        }
        let format = if self.archive.compressed {
            "a gzip-compressed tar archive"
        } else {
            "a tar archive (nor gzip-compressed)"
        };
        match &self.last {
            None => ImportError::Invalid(format!("the body is not {format}: {error}")),
            Some(last) => ImportError::Invalid(format!(
                "the tarball is truncated or damaged after entry `{last}`: {error}"
            )),
        }
    }
}

fn body_error(tripwire: &Tripwire, error: io::Error) -> ImportError {
    tripwire
        .take()
        .unwrap_or_else(|| ImportError::Invalid(format!("reading the upload failed: {error}")))
}

fn internal(error: berth_blobs::BlobError) -> ImportError {
    ImportError::Internal(error.into())
}

/// An entry's name as a normalized relative path: `./` and empty segments dropped, `/` as the
/// separator. Absolute names and `..` are refused, since extracting such a tarball anywhere
/// would write outside its directory.
fn entry_path(raw: &[u8]) -> Result<String, ImportError> {
    let name = std::str::from_utf8(raw).map_err(|_| {
        ImportError::Invalid(format!(
            "entry `{}` has a name that is not UTF-8",
            String::from_utf8_lossy(raw)
        ))
    })?;
    if name.starts_with('/') {
        return Err(ImportError::Invalid(format!(
            "entry `{name}` has an absolute path; image tarballs hold only relative paths"
        )));
    }
    berth_oci::layer_paths::within_root(name).ok_or_else(|| {
        ImportError::Invalid(format!(
            "entry `{name}` points outside the tarball (`..`); the upload is refused"
        ))
    })
}

/// Where a link entry at `path` points, as a normalized path inside the archive. A symlink's
/// target is relative to its own directory, a hard link's to the archive's root.
fn link_target(path: &str, target: &[u8], symbolic: bool) -> Result<String, ImportError> {
    let outside = || {
        ImportError::Invalid(format!(
            "link `{path}` points outside the tarball (to `{}`); the upload is refused",
            String::from_utf8_lossy(target)
        ))
    };
    let target = std::str::from_utf8(target).map_err(|_| outside())?;
    if target.starts_with('/') {
        return Err(outside());
    }
    let joined = match (symbolic, path.rsplit_once('/')) {
        (true, Some((directory, _))) => format!("{directory}/{target}"),
        _ => target.to_string(),
    };
    berth_oci::layer_paths::within_root(&joined).ok_or_else(outside)
}

/// The digest a layout's blob file is named by: `blobs/sha256/<hex>` → `sha256:<hex>`.
pub fn blob_digest(path: &str) -> Option<Digest> {
    let (algorithm, hex) = path.strip_prefix("blobs/")?.split_once('/')?;
    Digest::parse(&format!("{algorithm}:{hex}")).ok()
}

/// The path of a blob in an OCI image layout.
pub fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm().as_str(), digest.hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        let check = |raw: &str| match entry_path(raw.as_bytes()) {
            Ok(path) => path,
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(check("./blobs//sha256/ab"), "blobs/sha256/ab");
        assert_eq!(check("a/./b/../c"), "a/c");
        assert!(check("../evil").contains("outside"), "{}", check("../evil"));
        assert!(check("a/../../evil").contains("outside"));
        assert!(check("/etc/passwd").contains("absolute"));
    }

    #[test]
    fn link_targets() {
        let check = |path: &str, target: &str, symbolic: bool| {
            link_target(path, target.as_bytes(), symbolic).map_err(|e| e.to_string())
        };
        assert_eq!(
            check("abc/layer.tar", "../blobs/sha256/ff", true).unwrap(),
            "blobs/sha256/ff"
        );
        assert_eq!(
            check("x", "blobs/sha256/ff", false).unwrap(),
            "blobs/sha256/ff"
        );
        assert!(check("abc/layer.tar", "../../etc/passwd", true)
            .unwrap_err()
            .contains("outside"));
        assert!(check("a", "/etc/passwd", true)
            .unwrap_err()
            .contains("outside"));
    }

    #[test]
    fn blob_names() {
        let hex = "a".repeat(64);
        let digest = blob_digest(&format!("blobs/sha256/{hex}")).unwrap();
        assert_eq!(blob_path(&digest), format!("blobs/sha256/{hex}"));
        assert!(blob_digest("blobs/sha256/short").is_none());
        assert!(blob_digest("manifest.json").is_none());
    }

    #[test]
    fn archives_follow_links_but_not_loops() {
        let mut archive = Archive::default();
        archive.files.insert(
            "blobs/sha256/x".into(),
            File {
                content: Content::Memory(Bytes::from_static(b"x")),
                size: 1,
                digest: Digest::sha256_of(b"x"),
                head: b"x".to_vec(),
            },
        );
        archive
            .links
            .insert("id/layer.tar".into(), "blobs/sha256/x".into());
        archive.links.insert("loop/a".into(), "loop/b".into());
        archive.links.insert("loop/b".into(), "loop/a".into());
        assert_eq!(archive.get("id/layer.tar").unwrap().0, "blobs/sha256/x");
        assert!(archive.get("loop/a").is_none());
        assert!(archive.get("missing").is_none());
    }

    /// A body over the route's limit stops reading as too large, not as a damaged tarball.
    #[tokio::test]
    async fn bodies_over_the_limit_are_too_large() {
        let limited = Body::new(http_body_util::Limited::new(
            Body::from(vec![0u8; 4096]),
            1000,
        ));
        let tripwire = Tripwire::default();
        let handle = Handle::current();
        let reader = body_reader(limited, tripwire.clone(), handle);
        let error = tokio::task::spawn_blocking(move || {
            let mut reader = reader;
            std::io::copy(&mut reader, &mut std::io::sink())
        })
        .await
        .unwrap()
        .unwrap_err();
        assert!(error.to_string().contains("2 GiB"), "{error}");
        assert!(matches!(tripwire.take(), Some(ImportError::TooLarge(_))));
    }

    #[test]
    fn sizes_read_plainly() {
        assert_eq!(human_size(MAX_UPLOAD_BYTES), "2 GiB");
        assert_eq!(human_size(MAX_DOCUMENT_BYTES), "4 MiB");
    }
}
