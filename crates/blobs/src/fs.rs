use std::collections::HashMap;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use berth_oci::{Algorithm, Digest, Digester};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use tokio::io::AsyncReadExt;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::{BlobBody, BlobError, BlobStore, ByteStream, UploadStatus};

/// Chunks handed to the writer thread are coalesced to at least this size, and blobs are read
/// back in chunks of it: small chunks cost a thread hop and a syscall each.
const CHUNK: usize = 256 * 1024;
/// How many chunks may wait for the writer thread; bounds memory per upload to ~1 MiB.
const WRITE_QUEUE: usize = 4;
/// How many chunks a reader may have ready before the client takes them.
const READ_AHEAD: usize = 4;
/// Uploads start disk writeback every this many bytes.
const WRITEBACK_STEP: u64 = 8 * 1024 * 1024;

/// Blobs on a local filesystem:
///
/// ```text
/// <root>/sha256/ab/abcdef…        a blob, named by its digest
/// <root>/_uploads/<uuid>/data     the bytes of an upload session so far
/// <root>/_uploads/<uuid>/info     the session's repository and hash algorithm
/// ```
///
/// Sessions live in the same filesystem as blobs so that finishing one is an atomic rename.
pub struct FsBlobStore {
    root: PathBuf,
    /// Sessions touched since start. Sessions from before a restart are loaded on first use.
    sessions: Mutex<HashMap<String, Arc<AsyncMutex<Session>>>>,
}

struct Session {
    dir: PathBuf,
    repository: String,
    size: u64,
    /// The running hash of `data`, or `None` after a restart or a failed write, when it must
    /// be rebuilt from the file before the next use.
    digester: Option<Digester>,
    algorithm: Algorithm,
    /// Set when the session has been finished or cancelled, so a waiter holding an old handle
    /// does not write into a removed directory.
    closed: bool,
}

impl FsBlobStore {
    pub async fn open(root: impl Into<PathBuf>) -> io::Result<FsBlobStore> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join("_uploads")).await?;
        Ok(FsBlobStore {
            root,
            sessions: Mutex::new(HashMap::new()),
        })
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.root
            .join(digest.algorithm().as_str())
            .join(&hex[..2])
            .join(hex)
    }

    fn session_dir(&self, id: &str) -> PathBuf {
        self.root.join("_uploads").join(id)
    }

    async fn session(&self, id: &str) -> Result<Arc<AsyncMutex<Session>>, BlobError> {
        // Ids are UUIDs we minted; anything else could be a path trick and is simply unknown.
        let id = uuid::Uuid::parse_str(id)
            .map_err(|_| BlobError::UploadUnknown)?
            .to_string();
        if let Some(session) = self.sessions.lock().unwrap().get(&id) {
            return Ok(session.clone());
        }
        let dir = self.session_dir(&id);
        let info = match tokio::fs::read(dir.join("info")).await {
            Ok(info) => info,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BlobError::UploadUnknown),
            Err(e) => return Err(e.into()),
        };
        let info: SessionInfo = serde_json::from_slice(&info)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let size = tokio::fs::metadata(dir.join("data")).await?.len();
        let session = Arc::new(AsyncMutex::new(Session {
            dir,
            repository: info.repository,
            size,
            digester: None,
            algorithm: Algorithm::parse(&info.algorithm).unwrap_or(Algorithm::Sha256),
            closed: false,
        }));
        let mut sessions = self.sessions.lock().unwrap();
        Ok(sessions.entry(id).or_insert(session).clone())
    }

    /// Locks session `id` and marks it closed, so that requests queued behind this one find
    /// it gone instead of writing into a directory about to be removed.
    async fn close_session(&self, id: &str) -> Result<OwnedMutexGuard<Session>, BlobError> {
        let mut session = self.session(id).await?.lock_owned().await;
        if session.closed {
            return Err(BlobError::UploadUnknown);
        }
        session.closed = true;
        Ok(session)
    }

    fn forget(&self, id: &str) {
        self.sessions.lock().unwrap().remove(id);
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SessionInfo {
    repository: String,
    algorithm: String,
}

/// Hashes a whole file; used only to rebuild a session's hash after a restart.
fn hash_file(path: &Path, algorithm: Algorithm) -> io::Result<Digester> {
    let mut digester = Digester::new(algorithm);
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(digester);
        }
        digester.update(&buffer[..n]);
    }
}

/// Streams `length` bytes of `file` from `first`. One blocking thread reads ahead into a small
/// bounded queue: each byte is copied once from the page cache, and a client that stops
/// reading stops the thread (the send fails) instead of buffering the blob.
fn stream_file(mut file: std::fs::File, first: u64, length: u64) -> ByteStream {
    let (sender, receiver) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        let result = (|| -> io::Result<()> {
            file.seek(io::SeekFrom::Start(first))?;
            let mut remaining = length;
            while remaining > 0 {
                let want = remaining.min(CHUNK as u64);
                let mut chunk = Vec::with_capacity(want as usize);
                let read = (&mut file).take(want).read_to_end(&mut chunk)?;
                if read == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "blob file is shorter than its size",
                    ));
                }
                remaining -= read as u64;
                if sender.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                    return Ok(()); // The client went away.
                }
            }
            Ok(())
        })();
        if let Err(error) = result {
            let _ = sender.blocking_send(Err(error));
        }
    });
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
    .boxed()
}

/// Asks the kernel to start writing `length` bytes at `offset` to disk now, without waiting.
/// Uploads call this as they go, so the disk works while the network does and the fsync at
/// the end only waits for the tail instead of flushing the whole blob.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, offset: u64, length: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call (we hold `file`), and
    // sync_file_range only reads its integer arguments. It is only a hint: if it fails, the
    // fsync before the rename still makes the blob durable, so the result is ignored.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as libc::off64_t,
            length as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &std::fs::File, _offset: u64, _length: u64) {}

fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| io::Error::other(format!("blocking task failed: {e}")))?
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, BlobError> {
        match tokio::fs::metadata(self.blob_path(digest)).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn read(
        &self,
        digest: &Digest,
        range: Option<(u64, u64)>,
    ) -> Result<Option<BlobBody>, BlobError> {
        let path = self.blob_path(digest);
        let opened = blocking(move || match std::fs::File::open(&path) {
            Ok(file) => {
                let size = file.metadata()?.len();
                Ok(Some((file, size)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await?;
        let Some((file, total_size)) = opened else {
            return Ok(None);
        };
        let (first, length) = match range {
            Some((first, last)) => (first, last + 1 - first),
            None => (0, total_size),
        };
        Ok(Some(BlobBody {
            total_size,
            stream: stream_file(file, first, length),
        }))
    }

    async fn read_all(&self, digest: &Digest, max_size: u64) -> Result<Option<Vec<u8>>, BlobError> {
        let file = match tokio::fs::File::open(self.blob_path(digest)).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut bytes = Vec::new();
        file.take(max_size).read_to_end(&mut bytes).await?;
        Ok(Some(bytes))
    }

    async fn start_upload(
        &self,
        repository: &str,
        algorithm: Algorithm,
    ) -> Result<String, BlobError> {
        let id = uuid::Uuid::new_v4().to_string();
        let dir = self.session_dir(&id);
        let info = serde_json::to_vec(&SessionInfo {
            repository: repository.to_string(),
            algorithm: algorithm.as_str().to_string(),
        })
        .map_err(io::Error::other)?;
        let dir_for_task = dir.clone();
        blocking(move || {
            std::fs::create_dir(&dir_for_task)?;
            std::fs::File::create(dir_for_task.join("data"))?;
            std::fs::write(dir_for_task.join("info"), info)?;
            Ok(())
        })
        .await?;
        let session = Session {
            dir,
            repository: repository.to_string(),
            size: 0,
            digester: Some(Digester::new(algorithm)),
            algorithm,
            closed: false,
        };
        self.sessions
            .lock()
            .unwrap()
            .insert(id.clone(), Arc::new(AsyncMutex::new(session)));
        Ok(id)
    }

    async fn upload_status(&self, id: &str) -> Result<UploadStatus, BlobError> {
        let session = self.session(id).await?;
        let session = session.lock().await;
        if session.closed {
            return Err(BlobError::UploadUnknown);
        }
        Ok(UploadStatus {
            repository: session.repository.clone(),
            size: session.size,
        })
    }

    async fn upload_digest(&self, id: &str) -> Result<Digest, BlobError> {
        let session = self.session(id).await?;
        let mut session = session.lock().await;
        if session.closed {
            return Err(BlobError::UploadUnknown);
        }
        if session.digester.is_none() {
            let (path, algorithm) = (session.dir.join("data"), session.algorithm);
            session.digester = Some(blocking(move || hash_file(&path, algorithm)).await?);
        }
        Ok(session
            .digester
            .as_ref()
            .expect("the digester was just rebuilt")
            .current())
    }

    async fn append(
        &self,
        id: &str,
        offset: Option<u64>,
        mut body: ByteStream,
    ) -> Result<u64, BlobError> {
        let session = self.session(id).await?;
        let mut session = session.lock().await;
        if session.closed {
            return Err(BlobError::UploadUnknown);
        }
        if let Some(requested) = offset {
            if requested != session.size {
                return Err(BlobError::OutOfOrder {
                    requested,
                    current: session.size,
                });
            }
        }
        let data_path = session.dir.join("data");
        let start_offset = session.size;
        let mut digester = match session.digester.take() {
            Some(d) => d,
            None => {
                let (path, algorithm) = (data_path.clone(), session.algorithm);
                blocking(move || hash_file(&path, algorithm)).await?
            }
        };

        // Hashing and writing run on a blocking thread while this task keeps receiving, so
        // network, CPU and disk overlap and no chunk is ever read back to hash it.
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Bytes>(WRITE_QUEUE);
        let writer = tokio::task::spawn_blocking(move || {
            let outcome = (|| -> io::Result<u64> {
                let mut file = std::fs::OpenOptions::new().append(true).open(&data_path)?;
                let mut written = 0u64;
                let mut scheduled = 0u64;
                while let Some(chunk) = receiver.blocking_recv() {
                    file.write_all(&chunk)?;
                    digester.update(&chunk);
                    written += chunk.len() as u64;
                    if written - scheduled >= WRITEBACK_STEP {
                        start_writeback(&file, start_offset + scheduled, written - scheduled);
                        scheduled = written;
                    }
                }
                // Data the client was told is received survives a crash, so the session can
                // resume from the offset we report.
                file.sync_data()?;
                Ok(written)
            })();
            (outcome, digester)
        });

        let mut body_error = None;
        let mut pending = BytesMut::new();
        while let Some(item) = body.next().await {
            match item {
                Ok(chunk) => {
                    let to_send = if pending.is_empty() && chunk.len() >= CHUNK {
                        chunk
                    } else {
                        pending.extend_from_slice(&chunk);
                        if pending.len() < CHUNK {
                            continue;
                        }
                        pending.split().freeze()
                    };
                    if sender.send(to_send).await.is_err() {
                        break; // The writer failed; its error is reported below.
                    }
                }
                Err(e) => {
                    body_error = Some(e);
                    break;
                }
            }
        }
        if !pending.is_empty() {
            let _ = sender.send(pending.freeze()).await;
        }
        drop(sender);
        let (outcome, digester) = writer
            .await
            .map_err(|e| io::Error::other(format!("writer task failed: {e}")))?;
        match outcome {
            Ok(written) => {
                session.size += written;
                session.digester = Some(digester);
            }
            Err(e) => {
                // The file may hold part of a chunk the hash did not see, or the reverse:
                // rebuild both from the file next time.
                session.size = tokio::fs::metadata(session.dir.join("data")).await?.len();
                session.digester = None;
                return Err(BlobError::Io(e));
            }
        }
        match body_error {
            Some(e) => Err(BlobError::Body(e)),
            None => Ok(session.size),
        }
    }

    async fn finish(&self, id: &str, digest: &Digest) -> Result<u64, BlobError> {
        let mut session = self.close_session(id).await?;
        let dir = session.dir.clone();
        let data_path = dir.join("data");
        let hashed = match session.digester.take() {
            Some(d) if d.algorithm() == digest.algorithm() => Some(d),
            _ => None,
        };
        let target = self.blob_path(digest);
        let expected = digest.clone();
        let size = session.size;
        let result = blocking(move || {
            let actual = match hashed {
                Some(d) => d.finish(),
                None => hash_file(&data_path, expected.algorithm())?.finish(),
            };
            if actual != expected {
                std::fs::remove_dir_all(&dir)?;
                return Ok(Err(BlobError::DigestMismatch { expected, actual }));
            }
            std::fs::File::open(&data_path)?.sync_all()?;
            let parent = target.parent().expect("blob paths have a parent");
            std::fs::create_dir_all(parent)?;
            // Identical content may already be in place from another repository; replacing it
            // with the same bytes is harmless, and rename is atomic either way.
            std::fs::rename(&data_path, &target)?;
            sync_dir(parent)?;
            std::fs::remove_dir_all(&dir)?;
            Ok(Ok(size))
        })
        .await;
        drop(session);
        self.forget(id);
        result?
    }

    async fn cancel(&self, id: &str) -> Result<(), BlobError> {
        let session = self.close_session(id).await?;
        let dir = session.dir.clone();
        blocking(move || std::fs::remove_dir_all(dir)).await?;
        drop(session);
        self.forget(id);
        Ok(())
    }

    async fn upload_sessions(&self) -> Result<usize, BlobError> {
        let uploads = self.root.join("_uploads");
        blocking(move || {
            let mut open = 0;
            for entry in std::fs::read_dir(&uploads)? {
                // Only directories named like a session id are sessions.
                if uuid::Uuid::parse_str(&entry?.file_name().to_string_lossy()).is_ok() {
                    open += 1;
                }
            }
            Ok(open)
        })
        .await
        .map_err(BlobError::from)
    }

    async fn purge_stale_uploads(&self, max_age: Duration) -> Result<usize, BlobError> {
        let uploads = self.root.join("_uploads");
        let stale: Vec<String> = blocking(move || {
            let mut stale = Vec::new();
            for entry in std::fs::read_dir(&uploads)? {
                let entry = entry?;
                let touched = std::fs::metadata(entry.path().join("data"))
                    .or_else(|_| entry.metadata())?
                    .modified()?;
                let age = SystemTime::now()
                    .duration_since(touched)
                    .unwrap_or_default();
                if age > max_age {
                    stale.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
            Ok(stale)
        })
        .await?;
        let mut purged = 0;
        for id in stale {
            match self.cancel(&id).await {
                Ok(()) => purged += 1,
                Err(BlobError::UploadUnknown) => {
                    // A session directory without a readable `info` (a crash during start):
                    // remove it directly. Anything not named like a session is left alone.
                    if uuid::Uuid::parse_str(&id).is_ok() {
                        let _ = tokio::fs::remove_dir_all(self.session_dir(&id)).await;
                        purged += 1;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: Vec<&'static [u8]>) -> ByteStream {
        futures::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p)))).boxed()
    }

    async fn read_to_vec(
        store: &FsBlobStore,
        digest: &Digest,
        range: Option<(u64, u64)>,
    ) -> Vec<u8> {
        let mut body = store.read(digest, range).await.unwrap().unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = body.stream.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn upload_in_chunks_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let id = store.start_upload("a/b", Algorithm::Sha256).await.unwrap();
        assert_eq!(
            store
                .append(&id, Some(0), body(vec![b"hello "]))
                .await
                .unwrap(),
            6
        );
        assert!(matches!(
            store.append(&id, Some(3), body(vec![b"x"])).await,
            Err(BlobError::OutOfOrder {
                requested: 3,
                current: 6
            })
        ));
        assert_eq!(
            store
                .append(&id, Some(6), body(vec![b"wor", b"ld"]))
                .await
                .unwrap(),
            11
        );
        let digest = Digest::sha256_of(b"hello world");
        assert_eq!(store.upload_digest(&id).await.unwrap(), digest);
        assert_eq!(store.finish(&id, &digest).await.unwrap(), 11);
        assert_eq!(store.stat(&digest).await.unwrap(), Some(11));
        assert_eq!(read_to_vec(&store, &digest, None).await, b"hello world");
        assert_eq!(read_to_vec(&store, &digest, Some((6, 10))).await, b"world");
        assert!(matches!(
            store.upload_status(&id).await,
            Err(BlobError::UploadUnknown)
        ));
    }

    #[tokio::test]
    async fn wrong_digest_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let id = store.start_upload("a", Algorithm::Sha256).await.unwrap();
        store.append(&id, None, body(vec![b"abc"])).await.unwrap();
        let claimed = Digest::sha256_of(b"abd");
        assert!(matches!(
            store.finish(&id, &claimed).await,
            Err(BlobError::DigestMismatch { .. })
        ));
        assert_eq!(store.stat(&claimed).await.unwrap(), None);
        assert_eq!(
            std::fs::read_dir(dir.path().join("_uploads"))
                .unwrap()
                .count(),
            0
        );
    }

    #[tokio::test]
    async fn sessions_resume_after_restart_and_verify_sha512() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = FsBlobStore::open(dir.path()).await.unwrap();
            let id = store.start_upload("r", Algorithm::Sha256).await.unwrap();
            store
                .append(&id, Some(0), body(vec![b"first-"]))
                .await
                .unwrap();
            id
        };
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let status = store.upload_status(&id).await.unwrap();
        assert_eq!(
            status,
            UploadStatus {
                repository: "r".into(),
                size: 6
            }
        );
        store
            .append(&id, Some(6), body(vec![b"second"]))
            .await
            .unwrap();
        let digest = Digest::of(Algorithm::Sha512, b"first-second");
        assert_eq!(
            store.upload_digest(&id).await.unwrap(),
            Digest::sha256_of(b"first-second"),
            "a resumed session rebuilds its running hash in its own algorithm"
        );
        assert_eq!(store.finish(&id, &digest).await.unwrap(), 12);
        assert_eq!(read_to_vec(&store, &digest, None).await, b"first-second");
    }

    #[tokio::test]
    async fn broken_body_keeps_what_arrived() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let id = store.start_upload("r", Algorithm::Sha256).await.unwrap();
        let broken = futures::stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "client went away",
            )),
        ])
        .boxed();
        assert!(matches!(
            store.append(&id, None, broken).await,
            Err(BlobError::Body(_))
        ));
        assert_eq!(store.upload_status(&id).await.unwrap().size, 3);
        store
            .append(&id, Some(3), body(vec![b"def"]))
            .await
            .unwrap();
        store
            .finish(&id, &Digest::sha256_of(b"abcdef"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn unknown_and_malicious_ids_are_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        for id in ["../../etc", "nope", "00000000-0000-0000-0000-000000000000"] {
            assert!(
                matches!(store.upload_status(id).await, Err(BlobError::UploadUnknown)),
                "{id}"
            );
        }
        let id = store.start_upload("r", Algorithm::Sha256).await.unwrap();
        store.cancel(&id).await.unwrap();
        assert!(matches!(
            store.cancel(&id).await,
            Err(BlobError::UploadUnknown)
        ));
        let old = store.start_upload("r", Algorithm::Sha256).await.unwrap();
        assert_eq!(
            store
                .purge_stale_uploads(Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        assert_eq!(store.purge_stale_uploads(Duration::ZERO).await.unwrap(), 1);
        assert!(matches!(
            store.upload_status(&old).await,
            Err(BlobError::UploadUnknown)
        ));
    }
}
