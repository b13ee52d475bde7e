//! Integration tests of the metadata store.
//!
//! The store promises one code path for SQLite and PostgreSQL, so every case here runs on both:
//! `store_test!(name)` generates `name::sqlite` and `name::postgres`, each of which gets a fresh
//! database and calls the one `async fn name(store: Store)`. Images are built with the testkit
//! and parsed with `berth-oci`, exactly as the registry hands them to the store.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use berth_oci::media_types::{OCI_EMPTY, OCI_INDEX, OCI_MANIFEST};
use berth_oci::{Digest, ImageConfig, Manifest, Reference, RepoName, Tag};
use berth_store::audit::{AuditQuery, NewAuditEvent};
use berth_store::hosted::{
    ChildRecord, NewManifest, Platform, PullKey, RepositorySummary, StoredManifest,
};
use berth_store::registry_records::{NewRegistry, RegistryOwner};
use berth_store::repositories::{CatalogRepository, SyncedRepository, SyncedTag, TagOrder};
use berth_store::users::NewUser;
use berth_store::{Store, StoreError};
use berth_testkit::db::{Backend, TestDatabase};
use berth_testkit::image::{DEFAULT_CREATED, OCI_CONFIG, OCI_LAYER_GZIP};
use berth_testkit::{index, layer, Blob, Image, ImageBuilder, Index};
use serde_json::{json, Value};

/// Generates one test per backend for an `async fn` of the same name.
///
/// `store_test!(name)` passes a connected `Store`. `store_test!(name, url)` passes the backend
/// and the database URL instead, for the few tests that connect themselves or need SQL the
/// store does not expose.
macro_rules! store_test {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::with_store(super::Backend::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::with_store(super::Backend::Postgres, super::$name).await;
            }
        }
    };
    ($name:ident, url) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::with_url(super::Backend::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::with_url(super::Backend::Postgres, super::$name).await;
            }
        }
    };
}

/// Runs `test` against a store on a fresh database of `backend`.
async fn with_store<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDatabase::new(backend).await;
    let store = Store::connect(&db.url).await.expect("connecting the store");
    // The handle is cheap to clone; closing a clone closes the shared pools, so PostgreSQL can
    // drop the test database without waiting for idle connections to time out.
    test(store.clone()).await;
    store.close().await;
}

/// Runs `test` with the URL of a fresh database of `backend`, which outlives the test.
async fn with_url<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Backend, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDatabase::new(backend).await;
    test(backend, db.url.clone()).await;
}

/// A plain sqlx pool on the test database, for facts the store has no API for (flags it never
/// sets, tag pull times, column collations). Must be opened after `Store::connect` created the
/// schema and installed the Any drivers.
async fn raw_pool(url: &str) -> sqlx::AnyPool {
    sqlx::AnyPool::connect(url)
        .await
        .expect("opening a raw pool")
}

// Small constructors, so that each test reads as data.

fn repo(name: &str) -> RepoName {
    RepoName::parse(name).unwrap()
}

fn tag(name: &str) -> Tag {
    Tag::parse(name).unwrap()
}

fn digest(blob: &Blob) -> Digest {
    Digest::parse(&blob.digest).unwrap()
}

fn by_tag(name: &str) -> Reference {
    Reference::Tag(tag(name))
}

fn by_digest(blob: &Blob) -> Reference {
    Reference::Digest(digest(blob))
}

/// A JSON document as a blob of `media_type`, for hand-written manifests and configs.
fn json_blob(media_type: &str, value: Value) -> Blob {
    Blob::new(media_type, serde_json::to_vec(&value).unwrap())
}

/// A single-layer image whose digests are unique to `name`.
fn image(name: &str) -> Image {
    ImageBuilder::new()
        .layer(layer(&[(name, name.as_bytes())]), &format!("ADD {name} /"))
        .build()
}

/// An OCI image manifest over `config` and `layers`, with extra top-level fields merged in.
fn image_manifest(config: &Blob, layers: &[&Blob], extra: Value) -> Blob {
    let mut body = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": layers.iter().map(|l| l.descriptor()).collect::<Vec<_>>(),
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    json_blob(OCI_MANIFEST, body)
}

/// An OCI index over the given child descriptors (which may or may not carry a platform).
fn index_manifest(children: Vec<Value>, extra: Value) -> Blob {
    let mut body = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    json_blob(OCI_INDEX, body)
}

/// Spaces out pushes whose order a test asserts: timestamps have millisecond resolution, and
/// two pushes in the same millisecond would tie.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(3)).await;
}

/// Links every blob into `repository`, as finished uploads do.
async fn link(store: &Store, repository: &str, blobs: &[&Blob]) {
    for blob in blobs {
        store
            .link_blob(&repo(repository), &digest(blob), blob.size())
            .await
            .unwrap();
    }
}

/// Stores `manifest` in `repository` under `tags`, parsing it (and `config`, when given) the way
/// the registry does. Nothing is linked first, so missing references surface as errors.
async fn put(
    store: &Store,
    repository: &str,
    manifest: &Blob,
    config: Option<&Blob>,
    tags: &[&str],
) -> Result<StoredManifest, StoreError> {
    let parsed = Manifest::parse(Some(&manifest.media_type), &manifest.bytes).unwrap();
    let config = config.map(|c| ImageConfig::parse(&c.bytes).unwrap());
    let tags: Vec<Tag> = tags.iter().map(|t| tag(t)).collect();
    store
        .put_manifest(NewManifest {
            repository: &repo(repository),
            digest: &digest(manifest),
            bytes: &manifest.bytes,
            manifest: &parsed,
            config: config.as_ref(),
            tags: &tags,
            pushed_by: "alice",
        })
        .await
}

/// Links an image's blobs and stores its manifest, like a complete `docker push`.
async fn push_image(store: &Store, repository: &str, image: &Image, tags: &[&str]) -> i64 {
    link(store, repository, &image.blobs()).await;
    put(
        store,
        repository,
        &image.manifest,
        Some(&image.config),
        tags,
    )
    .await
    .unwrap()
    .artifact_id
}

/// Pushes an index's children untagged, then the index under `tags`.
async fn push_index(store: &Store, repository: &str, index: &Index, tags: &[&str]) -> i64 {
    for child in &index.images {
        push_image(store, repository, child, &[]).await;
    }
    put(store, repository, &index.manifest, None, tags)
        .await
        .unwrap()
        .artifact_id
}

/// The digests (or digest-and-explanation entries) of a `MissingReferences` refusal.
fn missing(result: Result<StoredManifest, StoreError>) -> Vec<String> {
    match result {
        Err(StoreError::MissingReferences(missing)) => missing,
        other => panic!("expected MissingReferences, got {other:?}"),
    }
}

async fn summary(store: &Store, repository: &str) -> RepositorySummary {
    store
        .repository_summary(&repo(repository))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("repository {repository} has no summary"))
}

async fn tags(store: &Store, repository: &str) -> Option<Vec<String>> {
    store
        .list_tags(&repo(repository), None, 1000)
        .await
        .unwrap()
}

async fn catalog(store: &Store) -> Vec<String> {
    store.catalog(None, 1000).await.unwrap()
}

/// The bytes served for `reference`, or `None`.
async fn served(store: &Store, repository: &str, reference: &Reference) -> Option<Vec<u8>> {
    store
        .get_manifest(&repo(repository), reference)
        .await
        .unwrap()
        .map(|m| m.bytes)
}

/// Everything a client can observe of a repository, to prove a refused push changed nothing.
#[derive(Debug, PartialEq)]
struct Observed {
    summary: Option<Counters>,
    tags: Option<Vec<String>>,
    catalog: Vec<String>,
    exists: bool,
}

/// The fields of a `RepositorySummary`, which does not implement `PartialEq` itself.
#[derive(Debug, PartialEq)]
struct Counters {
    artifact_count: i64,
    tag_count: i64,
    latest_tag: Option<String>,
    pushed_at: Option<i64>,
    latest_size: Option<i64>,
    pulls: i64,
}

async fn observe(store: &Store, repository: &str) -> Observed {
    let summary = store.repository_summary(&repo(repository)).await.unwrap();
    Observed {
        summary: summary.map(|s| Counters {
            artifact_count: s.artifact_count,
            tag_count: s.tag_count,
            latest_tag: s.latest_tag,
            pushed_at: s.pushed_at,
            latest_size: s.latest_size,
            pulls: s.pulls,
        }),
        tags: tags(store, repository).await,
        catalog: catalog(store).await,
        exists: store.repository_exists(&repo(repository)).await.unwrap(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// Connecting and migrations.

store_test!(migrations_apply_and_rerun, url);
async fn migrations_apply_and_rerun(backend: Backend, url: String) {
    let first = Store::connect(&url).await.unwrap();
    first.ping().await.unwrap();
    let expected = match backend {
        Backend::Sqlite => berth_store::Backend::Sqlite,
        Backend::Postgres => berth_store::Backend::Postgres,
    };
    assert_eq!(first.backend(), expected);
    push_image(&first, "app", &image("one"), &["v1"]).await;

    // A second connection re-runs the migrator, which must find nothing to do and keep the data,
    // as happens whenever a second replica starts or the server restarts.
    let second = Store::connect(&url).await.unwrap();
    second.ping().await.unwrap();
    assert_eq!(tags(&second, "app").await, Some(strings(&["v1"])));
    second.close().await;
    first.close().await;
}

store_test!(
    builtin_registry_and_library_are_dated_by_their_migration,
    url
);
/// Migration 0002 inserted `hosted` and `library` with a creation time of 0, which showed as
/// 1970-01-01. 0007 dates them from sqlx's record of when 0002 ran: on a new database that is
/// now, and on one migrated long ago it is then, not the time of the upgrade.
async fn builtin_registry_and_library_are_dated_by_their_migration(backend: Backend, url: String) {
    // SQLite records migration times to the second.
    let before = berth_store::now_millis() / 1000 * 1000;
    let store = Store::connect(&url).await.unwrap();
    let after = berth_store::now_millis();
    let raw = raw_pool(&url).await;
    let created = || async {
        let registry: i64 =
            sqlx::query_scalar("SELECT created_at FROM registries WHERE kind = 'hosted'")
                .fetch_one(&raw)
                .await
                .unwrap();
        let library = store
            .space(store.hosted_registry_id(), "library")
            .await
            .unwrap()
            .expect("the built-in library space")
            .created_at;
        (registry, library)
    };
    let (registry, library) = created().await;
    assert!(
        (before..=after).contains(&registry),
        "hosted created at {registry}, not within {before}..={after}"
    );
    assert_eq!(library, registry, "library was made with hosted");

    // An older deployment: 0002 ran at 2020-01-02T03:04:05Z, and 0007 runs only now.
    sqlx::query("UPDATE registries SET created_at = 0 WHERE kind = 'hosted'")
        .execute(&raw)
        .await
        .unwrap();
    sqlx::query("UPDATE spaces SET created_at = 0 WHERE name = 'library'")
        .execute(&raw)
        .await
        .unwrap();
    let set_recorded_time = |at: &'static str| {
        let sql = match backend {
            Backend::Sqlite => {
                format!("UPDATE _sqlx_migrations SET installed_on = '{at}' WHERE version = 2")
            }
            Backend::Postgres => format!(
                "UPDATE _sqlx_migrations SET installed_on = TIMESTAMPTZ '{at}+00' WHERE version = 2"
            ),
        };
        let raw = &raw;
        async move { sqlx::query(&sql).execute(raw).await.unwrap() }
    };
    let migration = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend.name())
            .join("0007_builtin_created_at.sql"),
    )
    .unwrap();
    set_recorded_time("2020-01-02 03:04:05").await;
    sqlx::raw_sql(&migration).execute(&raw).await.unwrap();
    let january_2020 = 1_577_934_245_000;
    assert_eq!(created().await, (january_2020, january_2020));

    // A time that is no longer 0 is never replaced.
    set_recorded_time("2021-06-07 08:09:10").await;
    sqlx::raw_sql(&migration).execute(&raw).await.unwrap();
    assert_eq!(created().await, (january_2020, january_2020));
    raw.close().await;
    store.close().await;
}

store_test!(bad_urls_are_refused, url);
async fn bad_urls_are_refused(backend: Backend, url: String) {
    for bad in ["mysql://root@localhost/berth", "berth.db", ""] {
        match Store::connect(bad).await {
            Err(StoreError::BadUrl(message)) => assert!(!message.is_empty()),
            other => panic!("{bad:?}: expected BadUrl, got {:?}", other.err()),
        }
    }
    // A URL of the right scheme with a malformed part or an unknown option value is a BadUrl
    // as well, not a database error, so that operators see the configuration is wrong rather
    // than the database down. Some options are only checked when connecting.
    let separator = if url.contains('?') { '&' } else { '?' };
    let malformed = match backend {
        Backend::Sqlite => vec![format!("{url}{separator}mode=sideways")],
        Backend::Postgres => vec![
            "postgres://postgres@127.0.0.1:port/berth".to_string(),
            format!("{url}{separator}sslmode=sideways"),
        ],
    };
    for bad in malformed {
        match Store::connect(&bad).await {
            Err(StoreError::BadUrl(_)) => {}
            other => panic!("{bad}: expected BadUrl, got {:?}", other.err()),
        }
    }
}

// Users.

store_test!(users, url);
async fn users(_: Backend, url: String) {
    let store = Store::connect(&url).await.unwrap();
    let alice = NewUser {
        username: "alice",
        password_hash: "$argon2id$alice",
        email: Some("alice@example.com"),
        is_admin: true,
    };
    let id = store.create_user(alice).await.unwrap();
    let bob = NewUser {
        username: "bob",
        password_hash: "$argon2id$bob",
        email: None,
        is_admin: false,
    };
    let bob_id = store.create_user(bob).await.unwrap();
    assert_ne!(id, bob_id);

    let found = store.find_user("alice").await.unwrap().unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.username, "alice");
    assert_eq!(found.password_hash, "$argon2id$alice");
    assert_eq!(found.email.as_deref(), Some("alice@example.com"));
    assert!(found.is_admin);
    assert!(!found.disabled);
    assert!(found.created_at > 0);
    let found = store.find_user("bob").await.unwrap().unwrap();
    assert_eq!((found.email, found.is_admin), (None, false));
    assert!(store.find_user("carol").await.unwrap().is_none());

    let again = NewUser {
        username: "alice",
        password_hash: "other",
        email: None,
        is_admin: false,
    };
    match store.create_user(again).await {
        Err(StoreError::Conflict(message)) => assert!(message.contains("`alice`"), "{message}"),
        other => panic!("expected Conflict, got {other:?}"),
    }

    // The store has no API to disable a user yet, so the flag is set in SQL to prove it reads
    // back as a boolean on both backends.
    let raw = raw_pool(&url).await;
    sqlx::query("UPDATE users SET disabled = 1 WHERE username = 'bob'")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    assert!(store.find_user("bob").await.unwrap().unwrap().disabled);
    assert!(!store.find_user("alice").await.unwrap().unwrap().disabled);
    store.close().await;
}

// Auto-created spaces.

store_test!(auto_created_spaces_are_recorded_with_their_event);
async fn auto_created_spaces_are_recorded_with_their_event(store: Store) {
    let event = NewAuditEvent {
        actor: "admin",
        action: "space.auto_create",
        target: "hosted/fresh",
        ..Default::default()
    };
    let changes = store.catalog_changes();
    let generation = changes.tenancy_generation();
    assert!(store
        .create_hosted_space_if_missing("fresh", &event)
        .await
        .unwrap());
    assert_eq!(
        store.hosted_space_is_public("fresh").await.unwrap(),
        Some(false)
    );
    assert!(changes.tenancy_generation() > generation);

    // A space that exists is neither created again nor recorded again.
    let generation = changes.tenancy_generation();
    assert!(!store
        .create_hosted_space_if_missing("fresh", &event)
        .await
        .unwrap());
    assert_eq!(changes.tenancy_generation(), generation);
    let events = store
        .audit_events(AuditQuery {
            action: Some("space.auto_create"),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let recorded: Vec<_> = events
        .iter()
        .map(|e| (e.actor.as_str(), e.target.as_str()))
        .collect();
    assert_eq!(recorded, [("admin", "hosted/fresh")]);
}

// Blob links.

store_test!(blob_links);
async fn blob_links(store: Store) {
    let blob = Blob::new(OCI_LAYER_GZIP, b"layer bytes".to_vec());
    let (a, b) = (repo("team/a"), repo("team/b"));
    assert!(!store.repository_exists(&a).await.unwrap());

    link(&store, "team/a", &[&blob]).await;
    assert!(store.repository_exists(&a).await.unwrap());
    assert_eq!(
        store.linked_blob_size(&a, &digest(&blob)).await.unwrap(),
        Some(11)
    );
    // Links are per repository: a blob uploaded to one is invisible through another.
    assert_eq!(
        store.linked_blob_size(&b, &digest(&blob)).await.unwrap(),
        None
    );
    // Linking again (a re-upload or a mount) is idempotent.
    link(&store, "team/a", &[&blob]).await;
    link(&store, "team/b", &[&blob]).await;
    assert_eq!(
        store.repositories_with_blob(&digest(&blob)).await.unwrap(),
        strings(&["team/a", "team/b"])
    );

    assert!(store.unlink_blob(&a, &digest(&blob)).await.unwrap());
    assert!(!store.unlink_blob(&a, &digest(&blob)).await.unwrap());
    assert!(!store
        .unlink_blob(&repo("nowhere"), &digest(&blob))
        .await
        .unwrap());
    assert_eq!(
        store.linked_blob_size(&a, &digest(&blob)).await.unwrap(),
        None
    );
    assert_eq!(
        store.linked_blob_size(&b, &digest(&blob)).await.unwrap(),
        Some(11)
    );
    assert_eq!(
        store.repositories_with_blob(&digest(&blob)).await.unwrap(),
        strings(&["team/b"])
    );

    // Repositories that hold only blobs have no manifests to list.
    assert_eq!(catalog(&store).await, Vec::<String>::new());
    assert_eq!(tags(&store, "team/b").await, None);
}

// Manifests.

/// An image with every config field the catalog records and an empty-layer history step.
fn detailed_image() -> Image {
    ImageBuilder::new()
        .platform("linux", "arm64", Some("v8"))
        .created("2021-02-03T04:05:06Z")
        .author("Berth tests")
        .layer(layer(&[("etc/motd", b"hello\n")]), "COPY motd /etc/motd")
        .empty_history("ENV A=b")
        .layer(layer(&[("bin/app", b"app")]), "RUN make app")
        .config_field("Env", json!(["A=b", "PATH=/bin"]))
        .config_field("Cmd", json!(["/bin/app", "--serve"]))
        .config_field("Labels", json!({ "org.example.team": "registry \"core\"" }))
        .annotation("org.example.purpose", "test")
        .build()
}

store_test!(put_manifest_records_catalog_facts);
async fn put_manifest_records_catalog_facts(store: Store) {
    let image = detailed_image();
    push_image(&store, "app", &image, &["v1"]).await;

    for reference in [by_tag("v1"), by_digest(&image.manifest)] {
        let stored = store
            .get_manifest(&repo("app"), &reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.bytes, image.manifest.bytes, "{reference}");
        assert_eq!(stored.media_type, OCI_MANIFEST);
        assert_eq!(stored.digest, digest(&image.manifest));
        assert_eq!(stored.subject, None);
    }
    assert!(served(&store, "app", &by_tag("v2")).await.is_none());
    assert!(served(&store, "other", &by_tag("v1")).await.is_none());

    let record = store
        .artifact(&repo("app"), &digest(&image.manifest))
        .await
        .unwrap()
        .unwrap();
    let blob_sizes: u64 = image.blobs().iter().map(|b| b.size()).sum();
    assert_eq!(record.size as u64, image.manifest.size() + blob_sizes);
    assert_eq!(record.manifest_size as u64, image.manifest.size());
    assert_eq!(record.media_type, OCI_MANIFEST);
    // Without `artifactType` an image's type is its config media type, as referrers report it.
    assert_eq!(record.artifact_type.as_deref(), Some(OCI_CONFIG));
    assert_eq!(record.config_digest.as_deref(), Some(&*image.config.digest));
    assert_eq!(record.subject_digest, None);
    assert_eq!(record.pushed_by.as_deref(), Some("alice"));
    assert!(record.pushed_at > 0);
    assert_eq!((record.pull_count, record.pulled_at), (0, None));
    assert_eq!(record.platform.os.as_deref(), Some("linux"));
    assert_eq!(record.platform.architecture.as_deref(), Some("arm64"));
    assert_eq!(record.platform.variant.as_deref(), Some("v8"));
    assert_eq!(record.created.as_deref(), Some("2021-02-03T04:05:06Z"));
    assert_eq!(record.author.as_deref(), Some("Berth tests"));
    assert_eq!(record.tags, strings(&["v1"]));
    assert!(record.children.is_empty());

    let config: Value = serde_json::from_str(record.config_json.as_deref().unwrap()).unwrap();
    assert_eq!(config["env"], json!(["A=b", "PATH=/bin"]));
    assert_eq!(config["cmd"], json!(["/bin/app", "--serve"]));
    assert_eq!(config["entrypoint"], json!([]));
    assert_eq!(config["working_dir"], Value::Null);
    assert_eq!(
        config["labels"],
        json!({ "org.example.team": "registry \"core\"" })
    );

    // Layers pair with the non-empty history steps in order, skipping the ENV step.
    let layers: Vec<_> = record
        .layers
        .iter()
        .map(|l| {
            (
                l.digest.as_str(),
                l.media_type.as_str(),
                l.size as u64,
                l.created_by.as_deref(),
                l.created.as_deref(),
            )
        })
        .collect();
    let expected: Vec<_> = image
        .layers
        .iter()
        .zip(["COPY motd /etc/motd", "RUN make app"])
        .map(|(l, by)| {
            (
                l.digest.as_str(),
                OCI_LAYER_GZIP,
                l.size(),
                Some(by),
                Some(DEFAULT_CREATED),
            )
        })
        .collect();
    assert_eq!(layers, expected);

    let history: Vec<_> = record
        .history
        .iter()
        .map(|h| (h.created_by.as_deref(), h.empty_layer, h.created.as_deref()))
        .collect();
    assert_eq!(
        history,
        [
            (Some("COPY motd /etc/motd"), false, Some(DEFAULT_CREATED)),
            (Some("ENV A=b"), true, Some(DEFAULT_CREATED)),
            (Some("RUN make app"), false, Some(DEFAULT_CREATED)),
        ]
    );
    assert!(store
        .artifact(&repo("other"), &digest(&image.manifest))
        .await
        .unwrap()
        .is_none());
}

/// Rebuilds `image` with a config that has no `history`, as some build tools write.
fn without_history(image: &Image) -> (Blob, Blob) {
    let mut config: Value = serde_json::from_slice(&image.config.bytes).unwrap();
    config.as_object_mut().unwrap().remove("history");
    let config = json_blob(OCI_CONFIG, config);
    let layers: Vec<&Blob> = image.layers.iter().collect();
    (image_manifest(&config, &layers, json!({})), config)
}

store_test!(layers_without_history_have_no_created_by);
async fn layers_without_history_have_no_created_by(store: Store) {
    let image = detailed_image();
    let (manifest, config) = without_history(&image);
    link(
        &store,
        "app",
        &[&config, &image.layers[0], &image.layers[1]],
    )
    .await;
    put(&store, "app", &manifest, Some(&config), &["bare"])
        .await
        .unwrap();

    let record = store
        .artifact(&repo("app"), &digest(&manifest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.layers.len(), 2);
    assert!(record
        .layers
        .iter()
        .all(|l| l.created_by.is_none() && l.created.is_none()));
    assert!(record.history.is_empty());
}

store_test!(docker_manifests_are_served_as_pushed);
async fn docker_manifests_are_served_as_pushed(store: Store) {
    let image = ImageBuilder::new()
        .layer(layer(&[("f", b"docker")]), "ADD f /")
        .docker()
        .build();
    push_image(&store, "app", &image, &["docker"]).await;
    let stored = store
        .get_manifest(&repo("app"), &by_tag("docker"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.bytes, image.manifest.bytes);
    assert_eq!(stored.media_type, image.manifest.media_type);
}

store_test!(index_records_children_with_platforms);
async fn index_records_children_with_platforms(store: Store) {
    let amd64 = image("amd64");
    let arm64 = ImageBuilder::new()
        .platform("linux", "arm64", Some("v8"))
        .layer(layer(&[("arm", b"arm")]), "ADD arm /")
        .build();
    let idx = index(vec![amd64.clone(), arm64.clone()]);
    push_index(&store, "multi", &idx, &["latest"]).await;

    let record = store
        .artifact(&repo("multi"), &digest(&idx.manifest))
        .await
        .unwrap()
        .unwrap();
    let children: Vec<_> = record
        .children
        .iter()
        .map(|c| {
            (
                c.digest.clone(),
                c.media_type.as_str(),
                c.size as u64,
                c.platform.os.as_deref(),
                c.platform.architecture.as_deref(),
                c.platform.variant.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        children,
        [
            (
                amd64.manifest.digest.clone(),
                OCI_MANIFEST,
                amd64.manifest.size(),
                Some("linux"),
                Some("amd64"),
                None
            ),
            (
                arm64.manifest.digest.clone(),
                OCI_MANIFEST,
                arm64.manifest.size(),
                Some("linux"),
                Some("arm64"),
                Some("v8")
            ),
        ]
    );
    assert!(record.layers.is_empty() && record.history.is_empty());
    assert_eq!(record.config_digest, None);
    assert_eq!(record.artifact_type, None);
    assert_eq!(
        served(&store, "multi", &by_tag("latest")).await,
        Some(idx.manifest.bytes.clone())
    );

    // Without a platform entry the child's own config supplies it; with one, the index wins
    // even where it disagrees with the config, because that is what clients select by.
    let sparse = index_manifest(
        vec![
            arm64.manifest.descriptor(),
            json!({
                "mediaType": OCI_MANIFEST,
                "digest": amd64.manifest.digest,
                "size": amd64.manifest.size(),
                "platform": { "os": "linux", "architecture": "riscv64" },
            }),
        ],
        json!({}),
    );
    put(&store, "multi", &sparse, None, &["sparse"])
        .await
        .unwrap();
    let record = store
        .artifact(&repo("multi"), &digest(&sparse))
        .await
        .unwrap()
        .unwrap();
    let platforms: Vec<_> = record
        .children
        .iter()
        .map(|c| {
            (
                c.platform.os.as_deref(),
                c.platform.architecture.as_deref(),
                c.platform.variant.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        platforms,
        [
            (Some("linux"), Some("arm64"), Some("v8")),
            (Some("linux"), Some("riscv64"), None)
        ]
    );
}

store_test!(missing_references_write_nothing);
async fn missing_references_write_nothing(store: Store) {
    let kept = image("kept");
    push_image(&store, "app", &kept, &["keep"]).await;
    let before = observe(&store, "app").await;

    // One layer missing: exactly that digest is reported, and the tag `keep` does not move.
    let partial = detailed_image();
    link(&store, "app", &[&partial.config, &partial.layers[0]]).await;
    let result = put(
        &store,
        "app",
        &partial.manifest,
        Some(&partial.config),
        &["keep", "new"],
    )
    .await;
    assert_eq!(missing(result), [partial.layers[1].digest.clone()]);

    // Nothing linked: the config and every layer are reported, in manifest order.
    let unlinked = image("unlinked");
    let result = put(&store, "app", &unlinked.manifest, None, &["keep"]).await;
    assert_eq!(
        missing(result),
        [
            unlinked.config.digest.clone(),
            unlinked.layers[0].digest.clone()
        ]
    );

    // An index whose children were never pushed reports each child.
    let idx = index(vec![image("x"), kept.clone(), image("y")]);
    let result = put(&store, "app", &idx.manifest, None, &["keep"]).await;
    assert_eq!(
        missing(result),
        [
            idx.images[0].manifest.digest.clone(),
            idx.images[2].manifest.digest.clone()
        ]
    );

    assert_eq!(observe(&store, "app").await, before);
    assert_eq!(
        served(&store, "app", &by_tag("keep")).await,
        Some(kept.manifest.bytes.clone())
    );
    for manifest in [&partial.manifest, &unlinked.manifest, &idx.manifest] {
        assert!(served(&store, "app", &by_digest(manifest)).await.is_none());
    }
    assert!(served(&store, "app", &by_tag("new")).await.is_none());

    // In a repository that did not exist, the refused push does not leave an empty repository
    // behind: its creation rolls back with the rest of the transaction.
    let fresh_before = observe(&store, "fresh").await;
    assert!(!fresh_before.exists);
    let result = put(&store, "fresh", &unlinked.manifest, None, &["v1"]).await;
    assert_eq!(missing(result).len(), 2);
    assert_eq!(observe(&store, "fresh").await, fresh_before);
}

store_test!(size_mismatches_are_refused);
async fn size_mismatches_are_refused(store: Store) {
    let image = image("sized");
    link(&store, "app", &image.blobs()).await;
    let before = observe(&store, "app").await;

    // A descriptor that claims one byte more than the linked layer: clients verify sizes, so
    // such a manifest could never be pulled.
    let mut wrong_layer = image.layers[0].descriptor();
    wrong_layer["size"] = json!(image.layers[0].size() + 1);
    let mut body: Value = serde_json::from_slice(&image.manifest.bytes).unwrap();
    body["layers"] = json!([wrong_layer]);
    let manifest = json_blob(OCI_MANIFEST, body);
    let reported = missing(put(&store, "app", &manifest, Some(&image.config), &["v1"]).await);
    assert_eq!(reported.len(), 1);
    assert!(
        reported[0].starts_with(&image.layers[0].digest),
        "{reported:?}"
    );
    assert!(
        reported[0].contains(&image.layers[0].size().to_string()),
        "{reported:?}"
    );
    assert_eq!(observe(&store, "app").await, before);

    // The same holds for an index entry whose size differs from the stored child manifest.
    put(&store, "app", &image.manifest, Some(&image.config), &[])
        .await
        .unwrap();
    let before = observe(&store, "app").await;
    let mut child = image.manifest.descriptor();
    child["size"] = json!(image.manifest.size() - 1);
    let idx = index_manifest(vec![child], json!({}));
    let reported = missing(put(&store, "app", &idx, None, &["v1"]).await);
    assert_eq!(reported.len(), 1);
    assert!(
        reported[0].starts_with(&image.manifest.digest),
        "{reported:?}"
    );
    assert_eq!(observe(&store, "app").await, before);
}

store_test!(repushing_and_moving_tags);
async fn repushing_and_moving_tags(store: Store) {
    let first = image("first");
    let second = image("second");
    let id = push_image(&store, "app", &first, &["v1"]).await;
    // Pushing the same digest again under another tag adds the tag to the one artifact.
    assert_eq!(push_image(&store, "app", &first, &["v2"]).await, id);
    let record = store
        .artifact(&repo("app"), &digest(&first.manifest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.tags, strings(&["v1", "v2"]));
    let s = summary(&store, "app").await;
    assert_eq!((s.artifact_count, s.tag_count), (1, 2));

    // Pushing another manifest under `v1` moves the tag; `v2` stays where it was.
    push_image(&store, "app", &second, &["v1"]).await;
    assert_eq!(
        served(&store, "app", &by_tag("v1")).await,
        Some(second.manifest.bytes.clone())
    );
    assert_eq!(
        served(&store, "app", &by_tag("v2")).await,
        Some(first.manifest.bytes.clone())
    );
    for (image, expected) in [(&first, ["v2"]), (&second, ["v1"])] {
        let record = store
            .artifact(&repo("app"), &digest(&image.manifest))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.tags, strings(&expected));
    }
    let s = summary(&store, "app").await;
    assert_eq!((s.artifact_count, s.tag_count), (2, 2));
}

// Tags and the catalog.

store_test!(tags_list_in_byte_order_with_pagination);
async fn tags_list_in_byte_order_with_pagination(store: Store) {
    // Byte order puts digits before upper case before `_` before lower case, and `-` before
    // `.`; linguistic collations (en_US and friends) would interleave them differently.
    let pushed = ["b", "a.1", "a", "_x", "A", "1.0", "a-1"];
    push_image(&store, "app", &image("tags"), &pushed).await;
    let sorted = strings(&["1.0", "A", "_x", "a", "a-1", "a.1", "b"]);
    assert_eq!(tags(&store, "app").await, Some(sorted.clone()));

    let page = |last: Option<&'static str>, limit: i64| {
        let store = store.clone();
        async move { store.list_tags(&repo("app"), last, limit).await.unwrap() }
    };
    assert_eq!(page(None, 3).await, Some(sorted[..3].to_vec()));
    assert_eq!(page(Some("_x"), 3).await, Some(sorted[3..6].to_vec()));
    assert_eq!(page(Some("a.1"), 3).await, Some(sorted[6..].to_vec()));
    assert_eq!(page(Some("b"), 3).await, Some(vec![]));
    // `last` need not be an existing tag; the page starts after where it would sort.
    assert_eq!(page(Some("B"), 2).await, Some(sorted[2..4].to_vec()));

    assert_eq!(tags(&store, "unknown").await, None);
    // A repository with manifests but no tags lists no tags rather than being unknown.
    push_image(&store, "untagged", &image("untagged"), &[]).await;
    assert_eq!(tags(&store, "untagged").await, Some(vec![]));
}

store_test!(postgres_names_collate_in_byte_order, url);
async fn postgres_names_collate_in_byte_order(backend: Backend, url: String) {
    // SQLite compares TEXT bytewise by default. PostgreSQL follows the database's locale, which
    // on many servers is linguistic; the ordering tests above cannot tell when the test server
    // happens to use C, so the columns that are sorted or paged through must say so themselves.
    if backend != Backend::Postgres {
        return;
    }
    let store = Store::connect(&url).await.unwrap();
    let raw = raw_pool(&url).await;
    for (table, column) in [
        ("users", "username"),
        ("repositories", "name"),
        ("artifacts", "digest"),
        ("tags", "name"),
    ] {
        let row: (Option<String>,) = sqlx::query_as(
            "SELECT collation_name::text FROM information_schema.columns \
             WHERE table_name = $1 AND column_name = $2",
        )
        .bind(table)
        .bind(column)
        .fetch_one(&raw)
        .await
        .unwrap();
        assert_eq!(row.0.as_deref(), Some("C"), "{table}.{column}");
    }
    raw.close().await;
    store.close().await;
}

store_test!(catalog_lists_repositories_with_artifacts);
async fn catalog_lists_repositories_with_artifacts(store: Store) {
    let shared = image("shared");
    for name in ["b", "a_b", "a/b", "ab", "a-b", "a", "a.b"] {
        push_image(&store, name, &shared, &["v1"]).await;
    }
    // Blobs alone do not make a repository appear in the catalog.
    link(&store, "c", &shared.blobs()).await;

    let sorted = strings(&["a", "a-b", "a.b", "a/b", "a_b", "ab", "b"]);
    assert_eq!(catalog(&store).await, sorted);
    assert_eq!(store.catalog(None, 2).await.unwrap(), sorted[..2]);
    assert_eq!(store.catalog(Some("a-b"), 3).await.unwrap(), sorted[2..5]);
    assert_eq!(store.catalog(Some("a_b"), 10).await.unwrap(), sorted[5..]);
    assert_eq!(
        store.catalog(Some("b"), 10).await.unwrap(),
        Vec::<String>::new()
    );
}

// Deletes.

store_test!(deletes_update_tags_and_summary);
async fn deletes_update_tags_and_summary(store: Store) {
    let (a, b) = (image("a"), image("b"));
    push_image(&store, "app", &a, &["one"]).await;
    tick().await;
    push_image(&store, "app", &b, &["two"]).await;
    tick().await;
    push_image(&store, "app", &a, &["three"]).await;
    let s = summary(&store, "app").await;
    assert_eq!((s.artifact_count, s.tag_count), (2, 3));
    assert_eq!(s.latest_tag.as_deref(), Some("three"));
    let size_of = |image: &Image| {
        (image.manifest.size() + image.config.size() + image.layers[0].size()) as i64
    };
    assert_eq!(s.latest_size, Some(size_of(&a)));
    let pushed_at = s.pushed_at;

    // Deleting a tag keeps its manifest, and the latest tag falls back to the previous one.
    assert!(store
        .delete_tag(&repo("app"), &tag("three"), None)
        .await
        .unwrap());
    assert!(!store
        .delete_tag(&repo("app"), &tag("three"), None)
        .await
        .unwrap());
    assert!(served(&store, "app", &by_digest(&a.manifest))
        .await
        .is_some());
    let s = summary(&store, "app").await;
    assert_eq!((s.artifact_count, s.tag_count), (2, 2));
    assert_eq!(s.latest_tag.as_deref(), Some("two"));
    assert_eq!(s.latest_size, Some(size_of(&b)));

    // Deleting a manifest deletes the tags pointing at it.
    assert!(store
        .delete_manifest(&repo("app"), &digest(&b.manifest), None)
        .await
        .unwrap());
    assert!(!store
        .delete_manifest(&repo("app"), &digest(&b.manifest), None)
        .await
        .unwrap());
    assert!(served(&store, "app", &by_tag("two")).await.is_none());
    assert!(served(&store, "app", &by_digest(&b.manifest))
        .await
        .is_none());
    assert_eq!(tags(&store, "app").await, Some(strings(&["one"])));
    let s = summary(&store, "app").await;
    assert_eq!((s.artifact_count, s.tag_count), (1, 1));
    assert_eq!(s.latest_tag.as_deref(), Some("one"));

    // Unknown repositories and tags are not errors.
    assert!(!store
        .delete_manifest(&repo("nowhere"), &digest(&a.manifest), None)
        .await
        .unwrap());
    assert!(!store
        .delete_tag(&repo("nowhere"), &tag("one"), None)
        .await
        .unwrap());
    assert!(!store
        .delete_tag(&repo("app"), &tag("never"), None)
        .await
        .unwrap());

    // Deleting the last manifest empties the repository: it leaves the catalog and the tag
    // list, but keeps its row (blob links, pull counts) and its last push time.
    assert!(store
        .delete_manifest(&repo("app"), &digest(&a.manifest), None)
        .await
        .unwrap());
    let s = summary(&store, "app").await;
    assert_eq!((s.artifact_count, s.tag_count), (0, 0));
    assert_eq!((s.latest_tag, s.latest_size), (None, None));
    assert_eq!(s.pushed_at, pushed_at);
    assert_eq!(catalog(&store).await, Vec::<String>::new());
    assert_eq!(tags(&store, "app").await, None);
}

// Referrers.

store_test!(referrers_by_subject_and_artifact_type);
async fn referrers_by_subject_and_artifact_type(store: Store) {
    let subject = image("subject");
    push_image(&store, "app", &subject, &["v1"]).await;
    let subject_descriptor = json!({ "subject": subject.manifest.descriptor() });

    // An SBOM with an explicit artifact type, the empty config and annotations that need
    // escaping in JSON.
    let empty = Blob::new(OCI_EMPTY, b"{}".to_vec());
    let sbom_layer = Blob::new("application/spdx+json", b"{\"spdx\":1}".to_vec());
    let annotations = json!({
        "org.opencontainers.image.created": "2024-01-02T03:04:05Z",
        "org.example.note": "quote \" backslash \\ newline \n tab \t control \u{1} \u{8} \u{c} unicode é",
    });
    let mut extra = subject_descriptor.clone();
    extra["artifactType"] = json!("application/vnd.example.sbom");
    extra["annotations"] = annotations.clone();
    let sbom = image_manifest(&empty, &[&sbom_layer], extra);

    // A signature without `artifactType`: its type is its config's media type.
    let sig_config = Blob::new("application/vnd.example.sig.config+json", b"{}".to_vec());
    let sig_layer = Blob::new("application/vnd.example.sig", b"signature".to_vec());
    let signature = image_manifest(&sig_config, &[&sig_layer], subject_descriptor);

    link(
        &store,
        "app",
        &[&empty, &sbom_layer, &sig_config, &sig_layer],
    )
    .await;
    let stored = put(&store, "app", &sbom, None, &[]).await.unwrap();
    assert_eq!(stored.subject.as_deref(), Some(&*subject.manifest.digest));
    put(&store, "app", &signature, None, &[]).await.unwrap();

    let subject_digest = digest(&subject.manifest);
    let all = store
        .referrers(&repo("app"), &subject_digest, None)
        .await
        .unwrap();
    let mut expected = vec![
        (
            sbom.digest.clone(),
            sbom.size() as i64,
            Some("application/vnd.example.sbom".to_string()),
            annotations,
        ),
        (
            signature.digest.clone(),
            signature.size() as i64,
            Some("application/vnd.example.sig.config+json".to_string()),
            json!({}),
        ),
    ];
    expected.sort_by(|x, y| x.0.cmp(&y.0));
    let listed: Vec<_> = all
        .iter()
        .map(|r| {
            assert_eq!(r.media_type, OCI_MANIFEST);
            (
                r.digest.clone(),
                r.size,
                r.artifact_type.clone(),
                serde_json::from_str::<Value>(&r.annotations).unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, expected);

    let only = |artifact_type: &'static str| {
        let store = store.clone();
        let subject_digest = subject_digest.clone();
        async move {
            store
                .referrers(&repo("app"), &subject_digest, Some(artifact_type))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.digest)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        only("application/vnd.example.sbom").await,
        [sbom.digest.as_str()]
    );
    assert_eq!(
        only("application/vnd.example.sig.config+json").await,
        [signature.digest.as_str()]
    );
    assert!(only("application/vnd.example.none").await.is_empty());

    // Referrers belong to a repository and a subject.
    assert!(store
        .referrers(&repo("other"), &subject_digest, None)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .referrers(&repo("app"), &digest(&sbom), None)
        .await
        .unwrap()
        .is_empty());
    let record = store
        .artifact(&repo("app"), &digest(&sbom))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.subject_digest.as_deref(),
        Some(&*subject.manifest.digest)
    );
    // A config that is not an image config records no config fields.
    assert_eq!(record.config_json, None);
    assert_eq!(record.platform.os, None);
}

// Pulls.

async fn tag_pulled_at(raw: &sqlx::AnyPool, repository: &str, tag: &str) -> Option<i64> {
    sqlx::query_as::<_, (Option<i64>,)>(
        "SELECT t.pulled_at FROM tags t JOIN repositories r ON r.id = t.repository_id \
         WHERE r.name = $1 AND t.name = $2",
    )
    .bind(repository)
    .bind(tag)
    .fetch_one(raw)
    .await
    .unwrap()
    .0
}

fn pulls(entries: &[(i64, Option<&str>, i64)]) -> HashMap<PullKey, i64> {
    entries
        .iter()
        .map(|(artifact_id, tag, count)| {
            (
                PullKey {
                    artifact_id: *artifact_id,
                    tag: tag.map(str::to_string),
                },
                *count,
            )
        })
        .collect()
}

store_test!(pulls_accumulate, url);
async fn pulls_accumulate(_: Backend, url: String) {
    let store = Store::connect(&url).await.unwrap();
    let raw = raw_pool(&url).await;
    let (a, b, gone) = (image("a"), image("b"), image("gone"));
    let a_id = push_image(&store, "app", &a, &["v1", "v2", "idle"]).await;
    let b_id = push_image(&store, "app", &b, &["w"]).await;
    let other_id = push_image(&store, "other", &a, &["v1"]).await;
    let gone_id = push_image(&store, "app", &gone, &[]).await;
    // A pull buffered before its manifest was deleted is dropped silently at flush time.
    store
        .delete_manifest(&repo("app"), &digest(&gone.manifest), None)
        .await
        .unwrap();

    store.record_pulls(&HashMap::new(), 500).await.unwrap();
    store
        .record_pulls(
            &pulls(&[
                (a_id, Some("v1"), 3),
                (a_id, None, 2),
                (b_id, Some("w"), 1),
                (other_id, None, 4),
                (gone_id, None, 9),
            ]),
            1000,
        )
        .await
        .unwrap();
    store
        .record_pulls(&pulls(&[(a_id, Some("v2"), 1)]), 2000)
        .await
        .unwrap();

    let pull_facts = |image: &Image, repository: &'static str| {
        let store = store.clone();
        let digest = digest(&image.manifest);
        async move {
            let record = store
                .artifact(&repo(repository), &digest)
                .await
                .unwrap()
                .unwrap();
            (record.pull_count, record.pulled_at)
        }
    };
    assert_eq!(pull_facts(&a, "app").await, (6, Some(2000)));
    assert_eq!(pull_facts(&b, "app").await, (1, Some(1000)));
    assert_eq!(pull_facts(&a, "other").await, (4, Some(1000)));
    assert_eq!(summary(&store, "app").await.pulls, 7);
    assert_eq!(summary(&store, "other").await.pulls, 4);

    assert_eq!(tag_pulled_at(&raw, "app", "v1").await, Some(1000));
    assert_eq!(tag_pulled_at(&raw, "app", "v2").await, Some(2000));
    assert_eq!(tag_pulled_at(&raw, "app", "w").await, Some(1000));
    assert_eq!(tag_pulled_at(&raw, "app", "idle").await, None);
    // Pulls by digest mark the artifact only, and a tag of the same name in another
    // repository is a different tag.
    assert_eq!(tag_pulled_at(&raw, "other", "v1").await, None);
    raw.close().await;
    store.close().await;
}

// Summaries.

store_test!(summary_tracks_latest_push);
async fn summary_tracks_latest_push(store: Store) {
    assert!(store
        .repository_summary(&repo("app"))
        .await
        .unwrap()
        .is_none());
    let (a, b, c) = (image("a"), image("b"), image("c"));
    link(&store, "app", &a.blobs()).await;
    let s = summary(&store, "app").await;
    assert_eq!(s.name, "app");
    assert_eq!((s.artifact_count, s.tag_count, s.pulls), (0, 0, 0));
    assert_eq!(
        (s.latest_tag, s.latest_size, s.pushed_at),
        (None, None, None)
    );

    let started = berth_store::now_millis();
    push_image(&store, "app", &b, &["zzz"]).await;
    let s = summary(&store, "app").await;
    assert_eq!((s.artifact_count, s.tag_count), (1, 1));
    assert_eq!(s.latest_tag.as_deref(), Some("zzz"));
    let first_push = s.pushed_at.unwrap();
    assert!(first_push >= started && first_push <= berth_store::now_millis());

    // The latest tag is the most recently pushed one, not the greatest name.
    tick().await;
    push_image(&store, "app", &a, &["aaa"]).await;
    let s = summary(&store, "app").await;
    assert_eq!((s.artifact_count, s.tag_count), (2, 2));
    assert_eq!(s.latest_tag.as_deref(), Some("aaa"));
    let size = a.manifest.size() + a.config.size() + a.layers[0].size();
    assert_eq!(s.latest_size, Some(size as i64));
    assert!(s.pushed_at.unwrap() > first_push);

    // An untagged push moves `pushed_at` but not the latest tag.
    tick().await;
    push_image(&store, "app", &c, &[]).await;
    let after = summary(&store, "app").await;
    assert_eq!((after.artifact_count, after.tag_count), (3, 2));
    assert_eq!(after.latest_tag.as_deref(), Some("aaa"));
    assert!(after.pushed_at > s.pushed_at);
}

// Concurrency.

/// An index with no children, unique to `n`: a manifest that needs no blobs, so concurrent
/// pushes of it race on creating the repository itself.
fn empty_index(n: usize) -> Blob {
    index_manifest(vec![], json!({ "annotations": { "n": n.to_string() } }))
}

store_test!(concurrent_writes_succeed);
async fn concurrent_writes_succeed(store: Store) {
    const N: usize = 20;
    let images: Vec<Image> = (0..N).map(|i| image(&format!("image{i}"))).collect();

    // Concurrent uploads into a repository that does not exist yet all create or find it.
    let mut set = tokio::task::JoinSet::new();
    for image in images.clone() {
        let store = store.clone();
        set.spawn(async move { link(&store, "busy", &image.blobs()).await });
    }
    set.join_all().await;

    // Concurrent pushes of distinct manifests, each with its own tag.
    let mut set = tokio::task::JoinSet::new();
    for (i, image) in images.iter().cloned().enumerate() {
        let store = store.clone();
        set.spawn(async move {
            let tag = format!("t{i:02}");
            put(
                &store,
                "busy",
                &image.manifest,
                Some(&image.config),
                &[&tag],
            )
            .await
            .unwrap();
        });
    }
    set.join_all().await;
    let s = summary(&store, "busy").await;
    assert_eq!((s.artifact_count, s.tag_count), (N as i64, N as i64));
    let expected: Vec<String> = (0..N).map(|i| format!("t{i:02}")).collect();
    assert_eq!(tags(&store, "busy").await, Some(expected));

    // Concurrent pushes of one manifest under different tags, as parallel CI jobs do.
    let shared = images[0].clone();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..N {
        let store = store.clone();
        let shared = shared.clone();
        set.spawn(async move {
            let tag = format!("shared{i:02}");
            put(
                &store,
                "busy",
                &shared.manifest,
                Some(&shared.config),
                &[&tag],
            )
            .await
            .unwrap()
            .artifact_id
        });
    }
    let ids = set.join_all().await;
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let s = summary(&store, "busy").await;
    assert_eq!((s.artifact_count, s.tag_count), (N as i64, 2 * N as i64));

    // Concurrent pushes into a repository that does not exist yet.
    let mut set = tokio::task::JoinSet::new();
    for n in 0..N {
        let store = store.clone();
        set.spawn(async move {
            put(
                &store,
                "fresh",
                &empty_index(n),
                None,
                &[&format!("i{n:02}")],
            )
            .await
            .unwrap();
        });
    }
    set.join_all().await;
    let s = summary(&store, "fresh").await;
    assert_eq!((s.artifact_count, s.tag_count), (N as i64, N as i64));
    assert_eq!(catalog(&store).await, strings(&["busy", "fresh"]));
}

// ---- the catalog as image lists read it ----------------------------------------------------

fn setup_event(target: &str) -> berth_store::audit::NewAuditEvent<'_> {
    berth_store::audit::NewAuditEvent {
        actor: "test",
        action: "test.setup",
        target,
        ..Default::default()
    }
}

fn synced_tag(
    name: &str,
    digest_seed: u64,
    pushed_at: i64,
) -> berth_store::repositories::SyncedTag {
    berth_store::repositories::SyncedTag {
        name: name.into(),
        digest: format!("sha256:{digest_seed:064x}"),
        media_type: OCI_MANIFEST.into(),
        manifest: b"{}".to_vec(),
        size: 1000 + digest_seed as i64,
        pushed_at,
        platform: berth_store::hosted::Platform {
            os: Some("linux".into()),
            architecture: Some("amd64".into()),
            variant: None,
        },
        children: Vec::new(),
        pushed_at_known: true,
        facts: Default::default(),
    }
}

store_test!(catalog_reads_syncs_and_records_changes);
async fn catalog_reads_syncs_and_records_changes(store: Store) {
    use berth_store::registry_records::{NewRegistry, RegistryOwner};
    use berth_store::repositories::{SyncedRepository, TagCursor, TagOrder};

    let changes = store.catalog_changes();
    let generation = changes.tenancy_generation();
    let registry = store
        .create_registry(
            NewRegistry {
                owner: RegistryOwner::Platform,
                name: "mirror",
                kind: "distribution",
                url: "https://mirror.example.com",
                username: "",
                secret: None,
                insecure: false,
                description: "",
                follow: "",
                sync_interval_seconds: None,
            },
            &setup_event("mirror"),
        )
        .await
        .unwrap();
    let space = store
        .create_space(registry.id, "ext", true, "", &setup_event("mirror/ext"))
        .await
        .unwrap();
    let workspace = store
        .create_workspace("team", "", &setup_event("team"))
        .await
        .unwrap();
    store
        .set_bindings(space.id, &["team".to_string()], &setup_event("bind"))
        .await
        .unwrap();
    assert!(
        changes.tenancy_generation() >= generation + 3,
        "registry, space and binding changes are recorded"
    );

    let nginx = SyncedRepository {
        name: "ext/nginx".into(),
        description: "upstream nginx".into(),
        tags: vec![
            synced_tag("1.25", 1, 1_000),
            synced_tag("latest", 2, 3_000),
            synced_tag("mainline", 2, 2_000),
        ],
    };
    let redis = SyncedRepository {
        name: "ext/cache/redis".into(),
        description: String::new(),
        tags: vec![synced_tag("7", 3, 500)],
    };
    changes.take_repositories();
    store
        .sync_repositories(registry.id, &[nginx.clone(), redis])
        .await
        .unwrap();
    assert_eq!(changes.take_repositories().tags.len(), 2);

    // The loaders see spaces with their registries, bindings, and repositories with tag names.
    let spaces = store.catalog_spaces().await.unwrap();
    let ext = spaces.iter().find(|s| s.id == space.id).unwrap();
    assert_eq!(
        (
            ext.registry_name.as_str(),
            ext.registry_url.as_str(),
            ext.public
        ),
        ("mirror", "https://mirror.example.com", true)
    );
    assert!(store
        .catalog_bindings()
        .await
        .unwrap()
        .contains(&(space.id, workspace.id)));
    let all = store.catalog_repositories_after(0, 100).await.unwrap();
    let loaded = all.iter().find(|r| r.name == "ext/nginx").unwrap();
    assert_eq!(loaded.space_id, Some(space.id));
    assert_eq!(loaded.tags, ["1.25", "latest", "mainline"]);
    assert_eq!((loaded.tag_count, loaded.artifact_count), (3, 2));
    assert_eq!(loaded.latest_tag.as_deref(), Some("latest"));
    assert_eq!(loaded.latest_size, Some(1002));
    assert_eq!(loaded.pushed_at, Some(3_000));
    let by_id = store
        .catalog_repositories_by_id(&[loaded.id], false)
        .await
        .unwrap();
    assert!(by_id[0].tags.is_empty(), "summaries come without tag names");

    // Tag pages: newest first or by name, searched in any case, with keyset cursors.
    let (page, total) = store
        .tag_page(loaded.id, None, TagOrder::NewestFirst, None, 2)
        .await
        .unwrap();
    let names: Vec<&str> = page.iter().map(|t| t.name.as_str()).collect();
    assert_eq!((names, total), (vec!["latest", "mainline"], 3));
    assert_eq!(page[0].platforms[0].architecture.as_deref(), Some("amd64"));
    let cursor = TagCursor {
        pushed_at: page[1].pushed_at,
        name: page[1].name.clone(),
    };
    let (rest, _) = store
        .tag_page(loaded.id, None, TagOrder::NewestFirst, Some(&cursor), 10)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["1.25"]
    );
    let (found, total) = store
        .tag_page(loaded.id, Some("MAIN"), TagOrder::Name, None, 10)
        .await
        .unwrap();
    assert_eq!((found.len(), total), (1, 1));
    let (none, total) = store
        .tag_page(loaded.id, Some("%"), TagOrder::Name, None, 10)
        .await
        .unwrap();
    assert_eq!((none.len(), total), (0, 0), "LIKE wildcards are escaped");
    let recent = store.recent_tags(&[loaded.id], Some("a"), 1).await.unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].1.name, "latest");

    // A description set in Berth survives the next sync; the tags follow upstream.
    assert!(store
        .set_repository_description(loaded.id, "ours", &setup_event("ext/nginx"))
        .await
        .unwrap());
    assert!(changes.take_repositories().summaries.contains(&loaded.id));
    let mut resynced = nginx;
    resynced.tags.truncate(1);
    store
        .sync_repositories(registry.id, &[resynced])
        .await
        .unwrap();
    let again = store
        .catalog_repository(registry.id, "ext/nginx")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.description, "ours");
    assert_eq!((again.tag_count, again.artifact_count), (1, 1));

    // Deleting a repository takes its tags and artifacts; hosted is never synced.
    assert!(store
        .delete_repository(again.id, &setup_event("ext/nginx"))
        .await
        .unwrap());
    assert!(store
        .catalog_repository(registry.id, "ext/nginx")
        .await
        .unwrap()
        .is_none());
    let refused = store
        .sync_repositories(store.hosted_registry_id(), &[])
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));
}

// Registry syncs.

fn linux(architecture: &str) -> Platform {
    Platform {
        os: Some("linux".into()),
        architecture: Some(architecture.into()),
        variant: None,
    }
}

/// A synced tag on digest `sha256:<n as 64 hex digits>`, with `children` platforms for an
/// index.
fn tag_on(name: &str, n: u64, pushed_at: i64, size: i64, children: &[Platform]) -> SyncedTag {
    let digest = |n: u64| format!("sha256:{n:064x}");
    SyncedTag {
        name: name.into(),
        digest: digest(n),
        media_type: if children.is_empty() {
            OCI_MANIFEST
        } else {
            OCI_INDEX
        }
        .into(),
        manifest: format!("{{\"n\":{n}}}").into_bytes(),
        size,
        pushed_at,
        pushed_at_known: true,
        facts: Default::default(),
        platform: if children.is_empty() {
            linux("amd64")
        } else {
            Platform {
                os: None,
                architecture: None,
                variant: None,
            }
        },
        children: children
            .iter()
            .enumerate()
            .map(|(i, p)| ChildRecord {
                digest: digest(n * 100 + i as u64),
                media_type: OCI_MANIFEST.into(),
                size: size / 2,
                platform: p.clone(),
            })
            .collect(),
    }
}

fn listing(name: &str, description: &str, tags: Vec<SyncedTag>) -> SyncedRepository {
    SyncedRepository {
        name: name.into(),
        description: description.into(),
        tags,
    }
}

store_test!(sync_replaces_listed_repositories);
async fn sync_replaces_listed_repositories(store: Store) {
    let audit = NewAuditEvent {
        actor: "test",
        action: "test",
        target: "test",
        ..Default::default()
    };
    let registry = store
        .create_registry(
            NewRegistry {
                owner: RegistryOwner::Platform,
                name: "harbor-eu",
                kind: "harbor",
                url: "https://harbor-eu.example.com",
                username: "",
                secret: None,
                insecure: false,
                description: "",
                follow: "",
                sync_interval_seconds: None,
            },
            &audit,
        )
        .await
        .unwrap();
    let space = store
        .create_space(registry.id, "payments", false, "", &audit)
        .await
        .unwrap();
    let hosted = store
        .sync_repositories(
            store.hosted_registry_id(),
            &[listing("library/x", "", vec![])],
        )
        .await;
    assert!(matches!(hosted, Err(StoreError::Conflict(_))), "{hosted:?}");
    store.catalog_changes().take_repositories();

    // More tags than one statement takes, so the writes go in several batches.
    let many: Vec<SyncedTag> = (0..3_000)
        .map(|i| {
            tag_on(
                &format!("main-{i}"),
                10_000 + i / 2,
                10_000 + i as i64,
                7,
                &[],
            )
        })
        .collect();
    let arm = [linux("amd64"), linux("arm64")];
    store
        .sync_repositories(
            registry.id,
            &[
                listing("payments/api", "", vec![tag_on("old", 9, 1, 1, &[])]),
                listing("payments/web/ui", "", vec![tag_on("1.0", 5, 500, 40, &arm)]),
                listing("nospace/tool", "", vec![tag_on("latest", 6, 600, 1, &[])]),
                listing("payments/ci", "", many),
                // The last listing's tags count, and the first description that is not empty.
                listing(
                    "payments/api",
                    "Payments API",
                    vec![
                        tag_on("v1.0", 1, 1_000, 100, &[]),
                        // The first tag naming a digest describes its artifact.
                        tag_on("1.1", 2, 2_000, 200, &[]),
                        tag_on("latest", 2, 3_000, 999, &[]),
                    ],
                ),
            ],
        )
        .await
        .unwrap();

    let api = store
        .catalog_repository(registry.id, "payments/api")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(api.space_id, Some(space.id));
    assert_eq!(api.description, "Payments API");
    assert_eq!(
        (api.artifact_count, api.tag_count, api.latest_tag.as_deref()),
        (2, 3, Some("latest"))
    );
    assert_eq!((api.pushed_at, api.latest_size), (Some(3_000), Some(200)));
    let (page, total) = store
        .tag_page(api.id, None, TagOrder::NewestFirst, None, 10)
        .await
        .unwrap();
    assert_eq!(total, 3);
    let names: Vec<_> = page.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["latest", "1.1", "v1.0"]);
    assert_eq!((page[0].pushed_at, page[0].size), (3_000, 200));
    assert_eq!(page[0].platforms, [linux("amd64")]);

    let web = store
        .catalog_repository(registry.id, "payments/web/ui")
        .await
        .unwrap()
        .unwrap();
    let (page, _) = store
        .tag_page(web.id, None, TagOrder::Name, None, 10)
        .await
        .unwrap();
    assert_eq!(page[0].media_type, OCI_INDEX);
    assert_eq!(
        page[0].platforms, arm,
        "an index lists its children's platforms"
    );

    let tool = store
        .catalog_repository(registry.id, "nospace/tool")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tool.space_id, None, "no such space");

    let ci = store
        .catalog_repository(registry.id, "payments/ci")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ci.artifact_count, ci.tag_count), (1_500, 3_000));
    assert_eq!(
        (ci.latest_tag.as_deref(), ci.pushed_at),
        (Some("main-2999"), Some(12_999))
    );
    let (_, total) = store
        .tag_page(ci.id, Some("MAIN-29"), TagOrder::Name, None, 1)
        .await
        .unwrap();
    assert_eq!(total, 111, "main-29 and main-290 … main-2999");

    let mut changed: Vec<i64> = store
        .catalog_changes()
        .take_repositories()
        .tags
        .into_iter()
        .collect();
    changed.sort_unstable();
    let mut expected = vec![api.id, web.id, tool.id, ci.id];
    expected.sort_unstable();
    assert_eq!(
        changed, expected,
        "each synced repository is recorded as changed"
    );

    // A later sync replaces the tags of the repositories it lists and leaves the rest alone;
    // a description, once there, stays.
    store
        .sync_repositories(
            registry.id,
            &[listing(
                "payments/api",
                "Upstream says otherwise",
                vec![tag_on("2.0", 3, 4_000, 300, &[])],
            )],
        )
        .await
        .unwrap();
    let api_after = store
        .catalog_repository(registry.id, "payments/api")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(api_after.id, api.id);
    assert_eq!(api_after.description, "Payments API");
    assert_eq!(
        (
            api_after.artifact_count,
            api_after.tag_count,
            api_after.latest_tag.as_deref()
        ),
        (1, 1, Some("2.0"))
    );
    assert_eq!(
        (api_after.pushed_at, api_after.latest_size),
        (Some(4_000), Some(300))
    );
    let loaded = store
        .catalog_repositories_by_id(&[api.id, web.id], true)
        .await
        .unwrap();
    let tags: Vec<_> = loaded.iter().map(|r| r.tags.clone()).collect();
    assert_eq!(tags, [vec!["2.0".to_string()], vec!["1.0".to_string()]]);
    assert_eq!(
        loaded[1].recent_tags[0].platforms, arm,
        "an index's recent tag carries its children's platforms"
    );

    // Both loaders carry each repository's newest tags in full, newest first, at most
    // RECENT_TAGS_KEPT of them, for the image selector.
    let recent_names = |repository: &CatalogRepository| -> Vec<String> {
        repository
            .recent_tags
            .iter()
            .map(|t| t.name.clone())
            .collect()
    };
    let newest_ci = ["main-2999", "main-2998", "main-2997"];
    let by_id = store
        .catalog_repositories_by_id(&[ci.id], true)
        .await
        .unwrap();
    assert_eq!(recent_names(&by_id[0]), newest_ci);
    assert_eq!(
        by_id[0].recent_tags[0].digest,
        format!("sha256:{:064x}", 10_000 + 2_999 / 2)
    );
    let all = store.catalog_repositories_after(0, 100).await.unwrap();
    let ci_loaded = all.iter().find(|r| r.id == ci.id).unwrap();
    assert_eq!(recent_names(ci_loaded), newest_ci);
    let api_loaded = all.iter().find(|r| r.id == api.id).unwrap();
    assert_eq!(recent_names(api_loaded), ["2.0"]);
    assert_eq!(api_loaded.recent_tags[0].size, 300);
}

store_test!(upstream_robots_outlive_their_bindings_until_deleted);
/// Robots kept in a Harbor registry: the wanted set follows the bindings, while a recorded
/// robot stays until it is deleted on purpose, even once its workspace is gone.
async fn upstream_robots_outlive_their_bindings_until_deleted(store: Store) {
    use berth_store::registry_records::{NewRegistry, RegistryOwner};
    use berth_store::upstream_robots::UpstreamRobot;

    let registry = store
        .create_registry(
            NewRegistry {
                owner: RegistryOwner::Platform,
                name: "harbor",
                kind: "harbor",
                url: "https://harbor.example.com",
                username: "admin",
                secret: None,
                insecure: false,
                description: "",
                follow: "",
                sync_interval_seconds: None,
            },
            &setup_event("harbor"),
        )
        .await
        .unwrap();
    let team = store
        .create_space(registry.id, "team", false, "", &setup_event("harbor/team"))
        .await
        .unwrap();
    let a = store
        .create_workspace("a", "", &setup_event("a"))
        .await
        .unwrap();
    let b = store
        .create_workspace("b", "", &setup_event("b"))
        .await
        .unwrap();
    store
        .set_bindings(team.id, &strings(&["a", "b"]), &setup_event("bind"))
        .await
        .unwrap();
    let wanted = store.wanted_upstream_robots(registry.id).await.unwrap();
    let pairs: Vec<(&str, i64, &str)> = wanted
        .iter()
        .map(|w| (w.space.as_str(), w.workspace_id, w.workspace.as_str()))
        .collect();
    assert_eq!(pairs, [("team", a.id, "a"), ("team", b.id, "b")]);

    let robot = |workspace_id: i64, remote_id: i64| UpstreamRobot {
        registry_id: registry.id,
        space: "team".into(),
        workspace_id,
        remote_id,
        username: format!("robot$team+berth-{remote_id}"),
        secret: vec![1, 2, 3, remote_id as u8],
        can_push: true,
        created_at: 1_000,
    };
    store.save_upstream_robot(&robot(a.id, 7)).await.unwrap();
    store.save_upstream_robot(&robot(b.id, 8)).await.unwrap();
    // Saving again for the same binding replaces the row.
    store.save_upstream_robot(&robot(b.id, 9)).await.unwrap();
    assert_eq!(
        store.upstream_robots(registry.id).await.unwrap(),
        [robot(a.id, 7), robot(b.id, 9)]
    );
    assert_eq!(
        store.upstream_robots_of_workspace(b.id).await.unwrap(),
        [robot(b.id, 9)]
    );

    // Unbinding and deleting a workspace change what is wanted, not what is recorded.
    store
        .set_bindings(team.id, &strings(&["a"]), &setup_event("unbind"))
        .await
        .unwrap();
    store
        .delete_workspace("a", &setup_event("a"))
        .await
        .unwrap();
    assert!(store
        .wanted_upstream_robots(registry.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.upstream_robots(registry.id).await.unwrap().len(), 2);
    assert!(store
        .delete_upstream_robot(registry.id, "team", a.id)
        .await
        .unwrap());
    assert!(!store
        .delete_upstream_robot(registry.id, "team", a.id)
        .await
        .unwrap());
    assert_eq!(
        store.upstream_robots(registry.id).await.unwrap(),
        [robot(b.id, 9)]
    );
}

store_test!(advisories_import_incrementally_and_honour_withdrawals);
/// Advisories go in by batch; a re-import replaces one only with a newer `modified` (index
/// and all), an older or equal one changes nothing, and a withdrawn one leaves the package
/// index while its row still counts.
async fn advisories_import_incrementally_and_honour_withdrawals(store: Store) {
    use berth_store::advisories::{AdvisoryRecord, ImportCounts, VulnDbImport};
    let record = |id: &str, modified: i64, package: &str, alias: &str| AdvisoryRecord {
        id: id.into(),
        modified,
        withdrawn: None,
        document: format!(r#"{{"id":"{id}","modified":{modified}}}"#),
        packages: vec![("Debian:12".into(), package.into())],
        aliases: vec![alias.into()],
    };
    let key = |package: &str| vec![("Debian:12".to_string(), package.to_string())];
    let first = store
        .import_advisories(&[
            record("DEBIAN-CVE-1", 10, "zlib", "CVE-1"),
            record("DEBIAN-CVE-2", 10, "openssl", "CVE-2"),
            // The same id twice in a batch: the newer document wins.
            record("DEBIAN-CVE-2", 12, "openssl", "CVE-2"),
        ])
        .await
        .unwrap();
    assert_eq!(
        first,
        ImportCounts {
            added: 2,
            unchanged: 1,
            ..ImportCounts::default()
        }
    );
    let found = store.advisories_for(&key("openssl")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].1.contains(r#""modified":12"#), "{found:?}");

    // Re-importing an older or the same document changes nothing; a newer one moves the
    // advisory to another package and alias.
    let again = store
        .import_advisories(&[
            record("DEBIAN-CVE-1", 9, "zlib", "CVE-1"),
            record("DEBIAN-CVE-2", 12, "openssl", "CVE-2"),
            record("DEBIAN-CVE-1", 20, "zlib1", "CVE-1b"),
        ])
        .await
        .unwrap();
    assert_eq!(
        again,
        ImportCounts {
            updated: 1,
            unchanged: 2,
            ..ImportCounts::default()
        }
    );
    assert!(store.advisories_for(&key("zlib")).await.unwrap().is_empty());
    assert_eq!(store.advisories_for(&key("zlib1")).await.unwrap().len(), 1);
    assert!(store.advisories_aliased("CVE-1").await.unwrap().is_empty());
    assert_eq!(store.advisories_aliased("CVE-1b").await.unwrap().len(), 1);
    // Both packages in one lookup, each advisory once.
    let both = store
        .advisories_for(&[key("zlib1"), key("openssl"), key("openssl")].concat())
        .await
        .unwrap();
    let ids: Vec<&str> = both.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["DEBIAN-CVE-1", "DEBIAN-CVE-2"]);

    // A withdrawal is a newer document: the advisory stays counted but is no longer found.
    let mut withdrawn = record("DEBIAN-CVE-2", 30, "openssl", "CVE-2");
    withdrawn.withdrawn = Some(30);
    let counts = store.import_advisories(&[withdrawn]).await.unwrap();
    assert_eq!((counts.updated, counts.withdrawn), (1, 1));
    assert!(store
        .advisories_for(&key("openssl"))
        .await
        .unwrap()
        .is_empty());

    // Batches larger than one statement's parameters go in whole.
    let many: Vec<AdvisoryRecord> = (0..1_200)
        .map(|i| {
            record(
                &format!("GO-{i:05}"),
                1,
                &format!("pkg{}", i % 7),
                &format!("CVE-9-{i}"),
            )
        })
        .collect();
    let counts = store.import_advisories(&many).await.unwrap();
    assert_eq!(counts.added, 1_200);
    let all_packages: Vec<(String, String)> = (0..7)
        .map(|i| ("Debian:12".to_string(), format!("pkg{i}")))
        .collect();
    assert_eq!(
        store.advisories_for(&all_packages).await.unwrap().len(),
        1_200
    );

    store
        .record_vulndb_import(&VulnDbImport {
            source: "Debian.zip".into(),
            started_at: 1,
            finished_at: 2,
            added: 2,
            updated: 1,
            unchanged: 3,
            withdrawn: 1,
            refused: 0,
        })
        .await
        .unwrap();
    let status = store.vulndb_status().await.unwrap();
    assert_eq!((status.advisories, status.withdrawn), (1_202, 1));
    assert_eq!(status.newest_modified, Some(30));
    assert_eq!(status.by_ecosystem, [("Debian:12".to_string(), 1_201)]);
    assert_eq!(status.imports.len(), 1);
    assert_eq!(status.imports[0].source, "Debian.zip");
}

store_test!(scan_reports_and_layer_contents_are_kept_and_berths_own_report_wins);
/// A report is replaced whole by the next one of its digest; a report an external registry
/// made (Harbor's, copied by a sync) never replaces Berth's own, which replaces it; summaries
/// and the reports a database change should rescan are read back; layer contents are kept per
/// reader version.
async fn scan_reports_and_layer_contents_are_kept_and_berths_own_report_wins(store: Store) {
    use berth_store::scans::ScanReportRecord;
    let report = |source: &str, total: i64, import: Option<i64>| ScanReportRecord {
        digest: "sha256:aa".into(),
        status: "success".into(),
        reason: None,
        source: source.into(),
        scanner_name: if source == "berth" { "berth" } else { "Trivy" }.into(),
        scanner_version: "1".into(),
        vulndb_import_id: import,
        db_updated_at: import,
        started_at: 1,
        finished_at: 2,
        severity: Some("high".into()),
        severity_rank: Some(4),
        counts: r#"{"high":1}"#.into(),
        fixable: 0,
        total,
        vulnerabilities: "[]".into(),
        packages: "[]".into(),
        log: "[]".into(),
    };
    store
        .put_external_scan_report(&report("harbor", 5, None))
        .await
        .unwrap();
    assert_eq!(
        store.scan_report("sha256:aa").await.unwrap().unwrap().total,
        5
    );
    store
        .put_scan_report(&report("berth", 7, Some(3)))
        .await
        .unwrap();
    store
        .put_external_scan_report(&report("harbor", 9, None))
        .await
        .unwrap();
    let kept = store.scan_report("sha256:aa").await.unwrap().unwrap();
    assert_eq!((kept.source.as_str(), kept.total), ("berth", 7));
    let summaries = store
        .scan_summaries(&["sha256:aa", "sha256:bb"])
        .await
        .unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].scanner_name, "berth");
    assert_eq!(store.scans_before_import(4).await.unwrap(), ["sha256:aa"]);
    assert!(store.scans_before_import(3).await.unwrap().is_empty());

    assert_eq!(store.layer_analysis("sha256:cc", 1).await.unwrap(), None);
    store
        .put_layer_analysis("sha256:cc", 1, "{\"files\":{}}")
        .await
        .unwrap();
    assert_eq!(
        store
            .layer_analysis("sha256:cc", 1)
            .await
            .unwrap()
            .as_deref(),
        Some("{\"files\":{}}")
    );
    assert_eq!(store.layer_analysis("sha256:cc", 2).await.unwrap(), None);
}
