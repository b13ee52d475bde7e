//! Importing a tarball into the hosted registry: a `docker save` archive (legacy, or Docker
//! 25+, which is an OCI layout with a `manifest.json`) or an OCI image layout, gzip-compressed
//! or not.
//!
//! The body is read once, as a stream, on a blocking thread ([`archive`]): small documents stay
//! in memory and everything else streams into blob-store upload sessions that hash while they
//! write. Only when the whole tarball has been read and [`layout`] has checked every manifest
//! against what arrived are the sessions finished (fsync, rename), the blobs linked and the
//! manifests stored, through the same store calls a registry push makes. A failure before
//! that cancels every session, so a refused tarball leaves no blob, repository or tag behind.
//!
//! Direction rule: the API calls this module; this module calls the store and the blob store.

mod archive;
mod layout;

use archive::{Archive, Content, OpenSessions, Sink, Tripwire};
use axum::body::Body;
use berth_blobs::BlobStore;
use berth_http::InFlight;
use berth_oci::{Algorithm, Digest, RepoName, Tag};
use berth_store::hosted::NewManifest;
use bytes::Bytes;
use futures::StreamExt;
use layout::{Plan, Wanted};

use crate::ApiState;

pub use archive::MAX_UPLOAD_BYTES;
pub use layout::Format;

/// What to import, and where.
pub struct ImportRequest {
    /// The hosted space the image goes into.
    pub space: String,
    /// The repository, when the caller named one; otherwise the tarball's name is used.
    pub repository: Option<RepoName>,
    /// The tag, when the caller named one; otherwise the tarball's, then `latest`.
    pub tag: Option<Tag>,
    /// Recorded as the pusher.
    pub pushed_by: String,
}

/// What was stored.
#[derive(Debug)]
pub struct Imported {
    pub repository: RepoName,
    pub tag: Tag,
    /// The digest of the root manifest (or index).
    pub digest: Digest,
    pub media_type: String,
    /// The image's size as the catalog records it (see `StoredManifest::size`).
    pub size: i64,
    pub format: Format,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The tarball, or a name, is not acceptable; the message says why.
    #[error("{0}")]
    Invalid(String),
    /// The body is over the size limit.
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<berth_store::StoreError> for ImportError {
    fn from(error: berth_store::StoreError) -> ImportError {
        ImportError::Internal(error.into())
    }
}

impl From<berth_blobs::BlobError> for ImportError {
    fn from(error: berth_blobs::BlobError) -> ImportError {
        ImportError::Internal(error.into())
    }
}

/// The answer to a tarball over [`MAX_UPLOAD_BYTES`].
pub fn too_large_message() -> String {
    format!(
        "the tarball is larger than {}; split the images into several uploads",
        archive::human_size(MAX_UPLOAD_BYTES)
    )
}

/// The repository `path` names inside `space`: `app` and `team/app` become `<space>/app` and
/// `<space>/team/app`; a path that already starts with `<space>/` is kept as it is.
pub fn repository_in_space(space: &str, path: &str) -> Result<RepoName, String> {
    let path = path.trim_matches('/');
    let full = if path.starts_with(&format!("{space}/")) {
        path.to_string()
    } else {
        format!("{space}/{path}")
    };
    RepoName::parse(&full).map_err(|e| format!("repository `{full}`: {e}"))
}

/// Imports the tarball in `body`. Runs to completion even if the client goes away, so that a
/// started commit is never cut in half and every session is cleaned up.
pub async fn import(
    state: &ApiState,
    request: ImportRequest,
    body: Body,
) -> Result<Imported, ImportError> {
    let state = state.clone();
    tokio::spawn(async move {
        let _in_flight = InFlight::start();
        let sessions = OpenSessions::default();
        let result = read_and_commit(&state, &request, body, &sessions).await;
        // On success only sessions of files no manifest used are left; on failure, all.
        sessions.cancel_all(state.blobs.as_ref()).await;
        result
    })
    .await
    .map_err(|e| ImportError::Internal(anyhow::anyhow!("import task failed: {e}")))?
}

async fn read_and_commit(
    state: &ApiState,
    request: &ImportRequest,
    body: Body,
    sessions: &OpenSessions,
) -> Result<Imported, ImportError> {
    let handle = tokio::runtime::Handle::current();
    let tripwire = Tripwire::default();
    let sink = Sink {
        blobs: state.blobs.clone(),
        handle: handle.clone(),
        sessions: sessions.clone(),
        label: request
            .repository
            .as_ref()
            .map_or_else(|| request.space.clone(), |r| r.to_string()),
    };
    let archive = tokio::task::spawn_blocking(move || {
        let reader = archive::body_reader(body, tripwire.clone(), handle);
        archive::read(reader, &sink, &tripwire)
    })
    .await
    .map_err(|e| ImportError::Internal(anyhow::anyhow!("tarball reader failed: {e}")))??;

    let repository_path = request.repository.as_ref().map(|r| r.as_str().to_string());
    let plan = layout::plan(
        &archive,
        &Wanted {
            repository: repository_path.as_deref(),
            tag: request.tag.as_ref().map(Tag::as_str),
        },
    )
    .map_err(ImportError::Invalid)?;
    let repository = match (&request.repository, &plan.name) {
        (Some(repository), _) => repository.clone(),
        (None, Some(name)) => repository_in_space(&request.space, name).map_err(|e| {
            ImportError::Invalid(format!(
                "the tarball names its image `{name}`, which cannot be a repository here ({e}); pass `repository`"
            ))
        })?,
        (None, None) => {
            return Err(ImportError::Invalid(
                "the tarball does not name its image (no RepoTags in manifest.json, no \
                 org.opencontainers.image.ref.name in index.json); pass `repository`"
                    .into(),
            ))
        }
    };
    let tag = match (&request.tag, &plan.tag) {
        (Some(tag), _) => tag.clone(),
        (None, Some(tag)) => Tag::parse(tag).map_err(|e| {
            ImportError::Invalid(format!(
                "the tarball tags its image `{tag}`, which is not a valid tag ({e}); pass `tag`"
            ))
        })?,
        (None, None) => Tag::parse("latest").expect("`latest` is a valid tag"),
    };
    commit(state, &archive, plan, &repository, &tag, request, sessions).await
}

/// Stores what the plan says: blobs first (finished, then linked), then the manifests,
/// children before their index, the root last with the tag.
async fn commit(
    state: &ApiState,
    archive: &Archive,
    plan: Plan,
    repository: &RepoName,
    tag: &Tag,
    request: &ImportRequest,
    sessions: &OpenSessions,
) -> Result<Imported, ImportError> {
    // Every blob is made durable before anything is linked, so a failing disk refuses the
    // import while the catalog is still untouched.
    for blob in &plan.blobs {
        let (_, file) = archive
            .get(&blob.path)
            .expect("the plan only names files of the archive");
        let present = state.blobs.stat(&blob.digest).await?.is_some();
        match (&file.content, present) {
            (Content::Session(id), true) => {
                state.blobs.cancel(id).await?;
                sessions.remove(id);
            }
            (Content::Session(id), false) => {
                state.blobs.finish(id, &blob.digest).await?;
                sessions.remove(id);
            }
            (Content::Memory(_), true) => {}
            (Content::Memory(bytes), false) => {
                write_blob(state.blobs.as_ref(), &request.space, &blob.digest, bytes).await?;
            }
        }
    }
    for blob in &plan.blobs {
        state
            .store
            .link_blob(repository, &blob.digest, blob.size)
            .await?;
    }
    let root = plan
        .manifests
        .last()
        .expect("a plan holds at least its root manifest");
    let mut size = 0;
    for planned in &plan.manifests {
        let is_root = std::ptr::eq(planned, root);
        let tags = if is_root {
            std::slice::from_ref(tag)
        } else {
            &[]
        };
        let stored = state
            .store
            .put_manifest(NewManifest {
                repository,
                digest: &planned.digest,
                bytes: &planned.bytes,
                manifest: &planned.manifest,
                config: planned.config.as_ref(),
                tags,
                pushed_by: &request.pushed_by,
            })
            .await?;
        if is_root {
            // The answer gives the size the catalog recorded, so the upload, the image list
            // and the details all say the same for the same image.
            size = stored.size;
        }
    }
    tracing::info!(%repository, %tag, digest = %root.digest, format = plan.format.as_str(), pushed_by = %request.pushed_by, "tarball imported");
    Ok(Imported {
        repository: repository.clone(),
        tag: tag.clone(),
        digest: root.digest.clone(),
        media_type: root.manifest.media_type.clone(),
        size,
        format: plan.format,
    })
}

/// What [`attach_referrer`] attaches to an image of the hosted registry.
pub struct Attachment<'a> {
    pub repository: &'a RepoName,
    /// The manifest it refers to: digest, media type and size.
    pub subject: (&'a Digest, &'a str, i64),
    /// The artifact type, which is also its one layer's media type (`application/spdx+json`).
    pub artifact_type: &'a str,
    pub content: Bytes,
    pub annotations: serde_json::Value,
    pub pushed_by: &'a str,
}

/// Stores `attachment` as an OCI artifact whose `subject` is the image, as `oras attach`
/// would: the content as its one layer, the empty config, the manifest untagged. The registry's
/// referrers API lists it from then on. Answers the artifact's manifest digest and size.
pub async fn attach_referrer(
    state: &ApiState,
    attachment: Attachment<'_>,
) -> Result<(Digest, i64), ImportError> {
    let space = berth_oci::space_of(attachment.repository.as_str()).to_string();
    let empty = Bytes::from_static(b"{}");
    let parts = [
        (Digest::sha256_of(&empty), empty),
        (
            Digest::sha256_of(&attachment.content),
            attachment.content.clone(),
        ),
    ];
    for (digest, bytes) in &parts {
        if state.blobs.stat(digest).await?.is_none() {
            write_blob(state.blobs.as_ref(), &space, digest, bytes).await?;
        }
        state
            .store
            .link_blob(attachment.repository, digest, bytes.len() as u64)
            .await?;
    }
    let (subject_digest, subject_type, subject_size) = attachment.subject;
    let bytes = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": berth_oci::media_types::OCI_MANIFEST,
        "artifactType": attachment.artifact_type,
        "config": {
            "mediaType": berth_oci::media_types::OCI_EMPTY,
            "digest": parts[0].0.to_string(),
            "size": 2,
        },
        "layers": [{
            "mediaType": attachment.artifact_type,
            "digest": parts[1].0.to_string(),
            "size": parts[1].1.len(),
        }],
        "subject": {
            "mediaType": subject_type,
            "digest": subject_digest.to_string(),
            "size": subject_size,
        },
        "annotations": attachment.annotations,
    }))
    .expect("a manifest serialises");
    let manifest =
        berth_oci::manifest::Manifest::parse(Some(berth_oci::media_types::OCI_MANIFEST), &bytes)
            .map_err(|e| ImportError::Internal(anyhow::anyhow!("the attached manifest: {e}")))?;
    let digest = Digest::sha256_of(&bytes);
    let stored = state
        .store
        .put_manifest(NewManifest {
            repository: attachment.repository,
            digest: &digest,
            bytes: &bytes,
            manifest: &manifest,
            config: None,
            tags: &[],
            pushed_by: attachment.pushed_by,
        })
        .await?;
    Ok((digest, stored.size))
}

/// Stores a blob held in memory through a session of its own, like any upload.
async fn write_blob(
    blobs: &dyn BlobStore,
    label: &str,
    digest: &Digest,
    bytes: &Bytes,
) -> Result<(), ImportError> {
    let algorithm: Algorithm = digest.algorithm();
    let id = blobs.start_upload(label, algorithm).await?;
    let body = futures::stream::once(std::future::ready(Ok(bytes.clone()))).boxed();
    let written = match blobs.append(&id, None, body).await {
        Ok(_) => blobs.finish(&id, digest).await,
        Err(error) => {
            let _ = blobs.cancel(&id).await;
            Err(error)
        }
    };
    written?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_placed_in_their_space() {
        let check = |path: &str| match repository_in_space("team", path) {
            Ok(name) => name.to_string(),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(check("app"), "team/app");
        assert_eq!(check("tools/app"), "team/tools/app");
        assert_eq!(check("team/app"), "team/app");
        assert_eq!(check("team"), "team/team");
        assert!(check("App").starts_with("error: repository `team/App`"));
    }
}
