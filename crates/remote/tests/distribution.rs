//! `DistributionClient` against the real CNCF Distribution (`/usr/bin/docker-registry`).

mod common;

use berth_oci::{Digest, ManifestKind};
use berth_remote::{Authentication, Listing, RemoteError, RemoteRegistry};
use berth_testkit::distribution::{
    push, push_blob, push_manifest, DistributionRegistry, Options, StorageWriter,
};
use berth_testkit::image::{Blob, Image, OCI_INDEX, OCI_MANIFEST};
use berth_testkit::{index, layer, ImageBuilder};
use common::{client, endpoint};
use futures::StreamExt;
use serde_json::json;

fn image(seed: &str) -> Image {
    ImageBuilder::new()
        .layer(
            layer(&[("etc/seed", seed.as_bytes())]),
            "COPY seed /etc/seed",
        )
        .build()
}

fn digest(text: &str) -> Digest {
    Digest::parse(text).unwrap()
}

/// 35 repositories in four spaces, one with 25 tags, written straight into the storage.
fn populated_storage() -> (tempfile::TempDir, Image) {
    let storage = tempfile::tempdir().unwrap();
    let shared = image("shared");
    let mut writer = StorageWriter::new(storage.path());
    for i in 0..35 {
        writer
            .put(&format!("team-{}/app-{i:02}", i % 4), "v1", &shared)
            .unwrap();
    }
    for t in 0..25 {
        writer
            .put("team-0/app-00", &format!("t{t:02}"), &shared)
            .unwrap();
    }
    (storage, shared)
}

#[tokio::test]
async fn lists_catalog_and_tags_across_pages() {
    let (storage, _) = populated_storage();
    let registry = DistributionRegistry::start(Options::default().with_storage(storage.path()));
    let remote = client(endpoint(&registry.url()));

    let report = remote.check().await.unwrap();
    assert_eq!(report.listing, Listing::Catalog);
    assert_eq!(report.authentication, Authentication::Anonymous);
    assert_eq!(report.api_version.as_deref(), Some("registry/2.0"));

    // Pages of 10: four requests, followed through Link headers.
    let repositories = remote.repositories().await.unwrap();
    let mut expected: Vec<String> = (0..35)
        .map(|i| format!("team-{}/app-{i:02}", i % 4))
        .collect();
    expected.sort();
    assert_eq!(repositories, expected);

    // Distribution 2.8 answers every tag at once, unordered, whatever `n` says (paging of
    // tags is tested against an in-test server in http_behaviour.rs).
    let mut tags = remote.tags("team-0/app-00").await.unwrap();
    tags.sort();
    let mut expected: Vec<String> = (0..25).map(|t| format!("t{t:02}")).collect();
    expected.push("v1".into());
    assert_eq!(tags, expected);
    assert_eq!(remote.tags("team-1/app-01").await.unwrap(), ["v1"]);

    let missing = remote.tags("team-9/none").await.unwrap_err();
    assert!(matches!(missing, RemoteError::NotFound { .. }), "{missing}");
    assert!(
        missing.to_string().contains("/v2/team-9/none/tags/list"),
        "{missing}"
    );
}

#[tokio::test]
async fn fetches_manifests_blobs_indexes_and_referrers() {
    let registry = DistributionRegistry::start(Options::default());
    let url = registry.url();
    let single = image("single");
    let arm = ImageBuilder::new()
        .platform("linux", "arm64", Some("v8"))
        .layer(layer(&[("etc/seed", b"arm")]), "COPY seed /etc/seed")
        .build();
    let multi = index(vec![single.clone(), arm]);
    push(&url, "team/app", "v1", &single, None).await.unwrap();
    push(&url, "team/multi", "latest", &multi, None)
        .await
        .unwrap();
    let remote = client(endpoint(&url));

    // HEAD, then GET with the same digest.
    let head = remote
        .manifest_digest("team/app", "v1")
        .await
        .unwrap()
        .expect("the tag exists");
    assert_eq!(head.digest, digest(&single.manifest.digest));
    assert_eq!(head.media_type, OCI_MANIFEST);
    assert_eq!(head.size, single.manifest.size());
    let fetched = remote.manifest("team/app", "v1").await.unwrap();
    assert_eq!(fetched.digest, head.digest);
    assert_eq!(fetched.bytes, single.manifest.bytes);
    assert_eq!(fetched.media_type, OCI_MANIFEST);
    let by_digest = remote
        .manifest("team/app", &single.manifest.digest)
        .await
        .unwrap();
    assert_eq!(by_digest.bytes, single.manifest.bytes);
    assert!(remote
        .manifest_digest("team/app", "nope")
        .await
        .unwrap()
        .is_none());
    let missing = remote.manifest("team/app", "nope").await.unwrap_err();
    assert!(matches!(missing, RemoteError::NotFound { .. }), "{missing}");

    // The config blob, whole and streamed.
    let manifest = fetched.parse().unwrap();
    let config = manifest.config.expect("an image has a config");
    let bytes = remote
        .blob("team/app", &config.digest, 1024 * 1024)
        .await
        .unwrap();
    assert_eq!(bytes, single.config.bytes);
    let small = remote
        .blob("team/app", &config.digest, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(small, RemoteError::TooLarge { limit: 10, .. }),
        "{small}"
    );
    let layer_digest = digest(&single.layers[0].digest);
    let mut stream = remote.blob_stream("team/app", &layer_digest).await.unwrap();
    assert_eq!(stream.length, Some(single.layers[0].size()));
    let mut streamed = Vec::new();
    while let Some(chunk) = stream.stream.next().await {
        streamed.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(streamed, single.layers[0].bytes);
    let absent = remote
        .blob("team/app", &digest(&multi.images[1].config.digest), 1024)
        .await
        .unwrap_err();
    assert!(matches!(absent, RemoteError::NotFound { .. }), "{absent}");

    // An index and its children.
    let top = remote.manifest("team/multi", "latest").await.unwrap();
    assert_eq!(top.media_type, OCI_INDEX);
    let parsed = top.parse().unwrap();
    assert_eq!(parsed.kind, ManifestKind::Index);
    assert_eq!(parsed.children.len(), 2);
    assert_eq!(
        parsed.children[1].platform.as_ref().unwrap().architecture,
        "arm64"
    );
    for (child, built) in parsed.children.iter().zip(&multi.images) {
        let fetched = remote
            .manifest("team/multi", &child.descriptor.digest.to_string())
            .await
            .unwrap();
        assert_eq!(fetched.bytes, built.manifest.bytes);
    }

    // Distribution 2.8 has no referrers API: the fallback finds no tag-schema index yet.
    assert!(remote
        .referrers("team/app", &head.digest)
        .await
        .unwrap()
        .is_empty());
    // A signature-like artifact whose subject is the image, and the tag-schema index that
    // lists it, as clients without the referrers API push them.
    let empty = Blob::new("application/vnd.oci.empty.v1+json", b"{}".to_vec());
    push_blob(&url, "team/app", &empty, None).await.unwrap();
    let artifact = Blob::new(
        OCI_MANIFEST,
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.signature",
            "config": empty.descriptor(),
            "layers": [empty.descriptor()],
            "subject": single.manifest.descriptor(),
            "annotations": { "org.example.signed-by": "tests" },
        }))
        .unwrap(),
    );
    push_manifest(&url, "team/app", &artifact.digest, &artifact, None)
        .await
        .unwrap();
    let mut listed = artifact.descriptor();
    listed["artifactType"] = json!("application/vnd.example.signature");
    listed["annotations"] = json!({ "org.example.signed-by": "tests" });
    let tag_schema = Blob::new(
        OCI_INDEX,
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [listed],
        }))
        .unwrap(),
    );
    let tag = format!("sha256-{}", head.digest.hex());
    push_manifest(&url, "team/app", &tag, &tag_schema, None)
        .await
        .unwrap();
    let referrers = remote.referrers("team/app", &head.digest).await.unwrap();
    assert_eq!(referrers.len(), 1);
    assert_eq!(referrers[0].digest, digest(&artifact.digest));
    assert_eq!(
        referrers[0].artifact_type.as_deref(),
        Some("application/vnd.example.signature")
    );
    assert_eq!(referrers[0].annotations["org.example.signed-by"], "tests");
}

#[tokio::test]
async fn basic_auth_with_right_and_wrong_passwords() {
    let registry = DistributionRegistry::start(Options::htpasswd("alice", "s3cret"));
    push(
        &registry.url(),
        "team/app",
        "v1",
        &image("auth"),
        Some(("alice", "s3cret")),
    )
    .await
    .unwrap();

    let remote = client(endpoint(&registry.url()).with_credentials("alice", "s3cret"));
    let report = remote.check().await.unwrap();
    assert_eq!(report.authentication, Authentication::Basic);
    assert_eq!(remote.repositories().await.unwrap(), ["team/app"]);
    assert_eq!(remote.tags("team/app").await.unwrap(), ["v1"]);

    let wrong = client(endpoint(&registry.url()).with_credentials("alice", "wrong"));
    for error in [
        wrong.check().await.unwrap_err(),
        wrong.repositories().await.unwrap_err(),
    ] {
        assert!(matches!(error, RemoteError::Unauthorized { .. }), "{error}");
        let text = error.to_string();
        assert!(
            text.contains("refused the configured credentials"),
            "{text}"
        );
        assert!(!text.contains("wrong"), "the password leaked: {text}");
    }

    let anonymous = client(endpoint(&registry.url()));
    let error = anonymous.check().await.unwrap_err();
    assert!(matches!(error, RemoteError::Unauthorized { .. }), "{error}");
    assert!(error.to_string().contains("none are configured"), "{error}");
}

#[tokio::test]
async fn follow_list_names_and_prefixes() {
    let (storage, _) = populated_storage();
    let registry = DistributionRegistry::start(Options::default().with_storage(storage.path()));
    let remote = client(endpoint(&registry.url()).with_follow(["team-1/", "team-2/app-02"]));
    let report = remote.check().await.unwrap();
    assert_eq!(
        report.listing,
        Listing::Followed {
            repositories: 1,
            prefixes: 1
        }
    );
    let mut expected: Vec<String> = (0..35)
        .filter(|i| i % 4 == 1)
        .map(|i| format!("team-1/app-{i:02}"))
        .collect();
    expected.push("team-2/app-02".into());
    expected.sort();
    assert_eq!(remote.repositories().await.unwrap(), expected);
}

#[tokio::test]
async fn a_stopped_registry_is_unreachable() {
    let mut registry = DistributionRegistry::start(Options::default());
    let remote = client(endpoint(&registry.url()));
    assert!(remote.check().await.is_ok());
    registry.stop();
    let error = remote.check().await.unwrap_err();
    assert!(matches!(error, RemoteError::Unreachable { .. }), "{error}");
    let text = error.to_string();
    assert!(text.contains("GET /v2/"), "{text}");
    assert!(
        text.contains("refused") || text.contains("connect"),
        "{text}"
    );
    // And back.
    registry.restart();
    assert!(remote.check().await.is_ok());
}
