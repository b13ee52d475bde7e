use std::collections::BTreeMap;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use crate::digest::Digest;
use crate::media_types::{self as mt, essence};

/// The largest manifest Berth accepts. The spec asks registries to take at least 4 MB, and
/// anything bigger is almost certainly abuse: manifests are held in memory and in the database.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest invalid: {0}")]
    Invalid(String),
    #[error("manifest format not supported: {0}")]
    Unsupported(String),
    #[error("manifest is {0} bytes; the limit is {MAX_MANIFEST_BYTES}")]
    TooLarge(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// An image manifest (OCI or Docker schema 2): a config and layers.
    Image,
    /// An index (OCI image index or Docker manifest list): a list of child manifests.
    Index,
}

/// A reference from a manifest to another blob or manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorRef {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildManifest {
    pub descriptor: DescriptorRef,
    pub platform: Option<Platform>,
}

/// A validated manifest: the facts the registry and the catalog need from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub kind: ManifestKind,
    /// The manifest's own media type, which is also its `Content-Type` when served.
    pub media_type: String,
    pub artifact_type: Option<String>,
    /// Present for image manifests only.
    pub config: Option<DescriptorRef>,
    pub layers: Vec<DescriptorRef>,
    /// Present for indexes only.
    pub children: Vec<ChildManifest>,
    pub subject: Option<DescriptorRef>,
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// Parses and validates manifest bytes as pushed, given the request's `Content-Type`.
    ///
    /// The media type comes from the body's `mediaType` field when present, which must then
    /// agree with a manifest `Content-Type`; otherwise from the `Content-Type`; otherwise from
    /// the document's shape, as OCI manifests may omit both.
    pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<Manifest, ManifestError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge(bytes.len()));
        }
        let document: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ManifestError::Invalid(format!("not valid JSON: {e}")))?;
        let Some(object) = document.as_object() else {
            return Err(ManifestError::Invalid(
                "the manifest is not a JSON object".into(),
            ));
        };
        let header_type = content_type.map(essence).filter(|t| {
            mt::MANIFEST_TYPES.contains(t)
                || *t == mt::DOCKER_SCHEMA1
                || *t == mt::DOCKER_SCHEMA1_SIGNED
        });
        let body_type = match object.get("mediaType") {
            None => None,
            Some(serde_json::Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                return Err(ManifestError::Invalid(
                    "`mediaType` must be a string".into(),
                ))
            }
        };
        if let (Some(header), Some(body)) = (header_type, body_type) {
            if header != body {
                return Err(ManifestError::Invalid(format!(
                    "Content-Type `{header}` does not match the manifest's mediaType `{body}`"
                )));
            }
        }
        match object.get("schemaVersion").and_then(|v| v.as_u64()) {
            Some(2) => {}
            Some(1) => {
                return Err(ManifestError::Unsupported(
                    "Docker schema 1 manifests are deprecated; push schema 2 or OCI".into(),
                ))
            }
            _ => return Err(ManifestError::Invalid("`schemaVersion` must be 2".into())),
        }
        let media_type = match body_type.or(header_type) {
            Some(t) => t.to_string(),
            None if object.contains_key("manifests") => mt::OCI_INDEX.to_string(),
            None if object.contains_key("config") => mt::OCI_MANIFEST.to_string(),
            None => {
                return Err(ManifestError::Invalid(
                    "the manifest has no mediaType, config or manifests".into(),
                ))
            }
        };
        match media_type.as_str() {
            mt::OCI_MANIFEST | mt::DOCKER_MANIFEST => parse_image(media_type, document),
            mt::OCI_INDEX | mt::DOCKER_MANIFEST_LIST => parse_index(media_type, document),
            other => Err(ManifestError::Unsupported(format!(
                "media type `{other}` is not a manifest type this registry stores (OCI image manifest or index, Docker schema 2 manifest or manifest list)"
            ))),
        }
    }

    /// Every blob and manifest this manifest points at and the registry must already hold.
    pub fn references(&self) -> impl Iterator<Item = &DescriptorRef> {
        self.config
            .iter()
            .chain(self.layers.iter())
            .chain(self.children.iter().map(|c| &c.descriptor))
    }

    /// The artifact type the referrers API reports: `artifactType`, or for an image manifest
    /// without one, the config's media type.
    pub fn effective_artifact_type(&self) -> Option<&str> {
        self.artifact_type.as_deref().or(match self.kind {
            ManifestKind::Image => self.config.as_ref().map(|c| c.media_type.as_str()),
            ManifestKind::Index => None,
        })
    }
}

fn parse_image(media_type: String, document: serde_json::Value) -> Result<Manifest, ManifestError> {
    let manifest: ImageManifest = serde_json::from_value(document)
        .map_err(|e| ManifestError::Invalid(format!("not a valid image manifest: {e}")))?;
    let config = descriptor(manifest.config(), "config")?;
    let layers = manifest
        .layers()
        .iter()
        .enumerate()
        .map(|(i, l)| descriptor(l, &format!("layers[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Manifest {
        kind: ManifestKind::Image,
        media_type,
        artifact_type: manifest.artifact_type().as_ref().map(|t| t.to_string()),
        config: Some(config),
        layers,
        children: Vec::new(),
        subject: manifest
            .subject()
            .as_ref()
            .map(|s| descriptor(s, "subject"))
            .transpose()?,
        annotations: annotations(manifest.annotations()),
    })
}

fn parse_index(media_type: String, document: serde_json::Value) -> Result<Manifest, ManifestError> {
    let index: ImageIndex = serde_json::from_value(document)
        .map_err(|e| ManifestError::Invalid(format!("not a valid image index: {e}")))?;
    let children = index
        .manifests()
        .iter()
        .enumerate()
        .map(|(i, child)| {
            Ok(ChildManifest {
                descriptor: descriptor(child, &format!("manifests[{i}]"))?,
                platform: child.platform().as_ref().map(|p| Platform {
                    os: p.os().to_string(),
                    architecture: p.architecture().to_string(),
                    variant: p.variant().clone(),
                }),
            })
        })
        .collect::<Result<Vec<_>, ManifestError>>()?;
    Ok(Manifest {
        kind: ManifestKind::Index,
        media_type,
        artifact_type: index.artifact_type().as_ref().map(|t| t.to_string()),
        config: None,
        layers: Vec::new(),
        children,
        subject: index
            .subject()
            .as_ref()
            .map(|s| descriptor(s, "subject"))
            .transpose()?,
        annotations: annotations(index.annotations()),
    })
}

fn descriptor(d: &Descriptor, field: &str) -> Result<DescriptorRef, ManifestError> {
    let digest = Digest::parse(d.digest().as_ref())
        .map_err(|e| ManifestError::Invalid(format!("{field}: {e}")))?;
    Ok(DescriptorRef {
        media_type: d.media_type().to_string(),
        digest,
        size: d.size(),
    })
}

fn annotations(
    map: &Option<std::collections::HashMap<String, String>>,
) -> BTreeMap<String, String> {
    map.iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn image_json(media_type: Option<&str>) -> String {
        let mt_field = media_type
            .map(|m| format!(r#""mediaType":"{m}","#))
            .unwrap_or_default();
        format!(
            r#"{{"schemaVersion":2,{mt_field}"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{D1}","size":10}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{D2}","size":20}}]}}"#
        )
    }

    fn check(content_type: Option<&str>, body: &str, expected: Result<&str, &str>) {
        let got = Manifest::parse(content_type, body.as_bytes());
        match (&got, expected) {
            (Ok(m), Ok(media_type)) => assert_eq!(m.media_type, media_type),
            (Err(e), Err(kind)) => {
                let actual = match e {
                    ManifestError::Invalid(_) => "invalid",
                    ManifestError::Unsupported(_) => "unsupported",
                    ManifestError::TooLarge(_) => "too-large",
                };
                assert_eq!(actual, kind, "{body}: {e}");
            }
            _ => panic!("{content_type:?} {body}: got {got:?}, want {expected:?}"),
        }
    }

    #[test]
    fn detects_media_types() {
        check(
            Some(mt::OCI_MANIFEST),
            &image_json(Some(mt::OCI_MANIFEST)),
            Ok(mt::OCI_MANIFEST),
        );
        check(None, &image_json(None), Ok(mt::OCI_MANIFEST));
        check(
            Some(mt::OCI_MANIFEST),
            &image_json(None),
            Ok(mt::OCI_MANIFEST),
        );
        check(
            Some("application/json"),
            &image_json(Some(mt::DOCKER_MANIFEST)),
            Ok(mt::DOCKER_MANIFEST),
        );
        check(
            Some(mt::OCI_INDEX),
            &image_json(Some(mt::OCI_MANIFEST)),
            Err("invalid"),
        );
        check(None, &image_json(Some("text/plain")), Err("unsupported"));
        check(
            None,
            r#"{"schemaVersion":1,"name":"x"}"#,
            Err("unsupported"),
        );
        check(None, r#"{"schemaVersion":3,"config":{}}"#, Err("invalid"));
        check(None, "not json", Err("invalid"));
        check(None, "[]", Err("invalid"));
        check(
            None,
            r#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:zz","size":1},"layers":[]}"#,
            Err("invalid"),
        );
        check(
            None,
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
            Err("invalid"),
        );
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","digest":"{D1}","size":5,"platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}}]}}"#,
            mt::OCI_INDEX,
            mt::OCI_MANIFEST
        );
        check(None, &index, Ok(mt::OCI_INDEX));
        let parsed = Manifest::parse(None, index.as_bytes()).unwrap();
        assert_eq!(parsed.kind, ManifestKind::Index);
        assert_eq!(
            parsed.children[0].platform,
            Some(Platform {
                os: "linux".into(),
                architecture: "arm64".into(),
                variant: Some("v8".into())
            })
        );
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_MANIFEST_BYTES));
        check(None, &big, Err("too-large"));
    }

    #[test]
    fn exposes_references_and_artifact_type() {
        let m = Manifest::parse(None, image_json(None).as_bytes()).unwrap();
        let refs: Vec<String> = m.references().map(|d| d.digest.to_string()).collect();
        assert_eq!(refs, vec![D1.to_string(), D2.to_string()]);
        assert_eq!(m.effective_artifact_type(), Some(mt::OCI_CONFIG));
        assert_eq!(m.layers[0].size, 20);
    }
}
