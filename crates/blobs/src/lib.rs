//! Content-addressed blob storage and resumable upload sessions.
//!
//! **Architecture invariant:** a blob becomes visible at its digest only after its bytes were
//! written to a temporary file, hashed while streaming, verified, fsynced and renamed into
//! place. A crash at any moment leaves either no blob or a whole one. This crate knows nothing
//! about repositories, tenants or HTTP: which repository may serve a blob is the store's job.

/// The filesystem implementation.
mod fs;

use std::io;

use async_trait::async_trait;
use berth_oci::{Algorithm, Digest};
use bytes::Bytes;
use futures::stream::BoxStream;

pub use fs::FsBlobStore;

/// A body of bytes arriving from a client, or leaving for one.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("upload session not found")]
    UploadUnknown,
    /// The uploaded bytes do not hash to the digest the client named. The upload is discarded.
    #[error("uploaded content has digest {actual}, not {expected}")]
    DigestMismatch { expected: Digest, actual: Digest },
    /// A chunk did not start where the upload ended.
    #[error("chunk starts at byte {requested}, but the upload holds {current} bytes")]
    OutOfOrder { requested: u64, current: u64 },
    /// The client's body ended early or failed mid-stream. Bytes before the break are kept.
    #[error("request body failed: {0}")]
    Body(io::Error),
    #[error("storage I/O failed: {0}")]
    Io(#[from] io::Error),
}

/// What an upload session holds so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadStatus {
    /// The repository the session was opened for; sessions are not shared across repositories.
    pub repository: String,
    /// Bytes received so far.
    pub size: u64,
}

/// A blob's bytes, or a byte range of them, ready to stream.
pub struct BlobBody {
    /// The total size of the blob.
    pub total_size: u64,
    pub stream: ByteStream,
}

/// Storage for blobs and upload sessions. The filesystem implements it now; an object store
/// (S3) can implement it later without touching callers.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// The size of a stored blob, or `None`.
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, BlobError>;

    /// Streams a blob, or the inclusive byte range `first..=last` of it. `None` when absent.
    async fn read(
        &self,
        digest: &Digest,
        range: Option<(u64, u64)>,
    ) -> Result<Option<BlobBody>, BlobError>;

    /// Reads a small blob (a config) whole. Callers cap the size they are willing to hold.
    async fn read_all(&self, digest: &Digest, max_size: u64) -> Result<Option<Vec<u8>>, BlobError>;

    /// Opens an upload session for `repository` and returns its id. `algorithm` is the digest
    /// algorithm to hash with while streaming (the final digest may still use another one).
    async fn start_upload(
        &self,
        repository: &str,
        algorithm: Algorithm,
    ) -> Result<String, BlobError>;

    async fn upload_status(&self, id: &str) -> Result<UploadStatus, BlobError>;

    /// The digest of what session `id` holds so far, in the algorithm it hashes with. An
    /// import learns a blob's digest from its content (or checks it against a name) before it
    /// decides whether to [`finish`](BlobStore::finish) the session, and this answers from the
    /// running hash without reading the bytes again.
    async fn upload_digest(&self, id: &str) -> Result<Digest, BlobError>;

    /// Appends `body` to the session. With `offset`, the chunk must start exactly there.
    /// Returns the session's new size.
    async fn append(
        &self,
        id: &str,
        offset: Option<u64>,
        body: ByteStream,
    ) -> Result<u64, BlobError>;

    /// Verifies the session's content against `digest`, and if it matches makes it the blob
    /// `digest`. The session ends either way. Returns the blob's size.
    async fn finish(&self, id: &str, digest: &Digest) -> Result<u64, BlobError>;

    async fn cancel(&self, id: &str) -> Result<(), BlobError>;

    /// Removes upload sessions untouched for longer than `max_age`. Returns how many.
    async fn purge_stale_uploads(&self, max_age: std::time::Duration) -> Result<usize, BlobError>;

    /// How many upload sessions are open: started and neither finished nor cancelled.
    async fn upload_sessions(&self) -> Result<usize, BlobError>;
}
