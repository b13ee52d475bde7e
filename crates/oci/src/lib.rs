//! The OCI grammar and formats, as pure functions over bytes and strings.
//!
//! **Architecture invariant:** this crate does no I/O and knows nothing about HTTP or SQL.
//! Everything else in Berth receives already-parsed values from here (`Digest`, `RepoName`,
//! `Reference`, `Manifest`) and never re-checks them.

/// Content digests (`sha256:…`, `sha512:…`) and streaming hashing.
pub mod digest;
/// Image configuration fields and the layer ↔ history pairing.
pub mod image_config;
/// Untrusted paths inside layers and layouts.
pub mod layer_paths;
/// Manifest and index parsing and validation, for OCI and Docker schema 2 formats.
pub mod manifest;
/// The media type strings Berth understands.
pub mod media_types;
/// Repository names, tags and references.
pub mod names;

pub use digest::{Algorithm, Digest, DigestError, Digester};
pub use image_config::{HistoryEntry, ImageConfig};
pub use manifest::{
    ChildManifest, DescriptorRef, Manifest, ManifestError, ManifestKind, Platform,
    MAX_MANIFEST_BYTES,
};
pub use names::{
    is_resource_name, is_username, space_of, split_proxied, NameError, Reference, RepoName, Tag,
    RESOURCE_NAME_RULE, USERNAME_RULE,
};
