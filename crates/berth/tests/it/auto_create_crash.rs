//! Crash safety of an auto-created space and its audit event. With auto-create on, a token
//! request of a platform admin for push into a space that does not exist creates the space and
//! records `space.auto_create`; the architecture promises that a tenancy change is never
//! unrecorded, so a SIGKILL of the real binary at any moment must leave both or neither.

use std::time::{Duration, Instant};

use berth_store::audit::AuditQuery;
use berth_store::Store;
use reqwest::StatusCode;
use sqlx::{Connection, PgConnection};
use tempfile::TempDir;
use tokio::task::JoinHandle;

use crate::crash::start;
use crate::support::{client, set_auto_create_spaces, Backend, TestDatabase, ADMIN_PASSWORD};

/// The audit action of an auto-created space.
const AUTO_CREATE: &str = "space.auto_create";

/// PostgreSQL, deterministically: the test holds `audit_events` locked, so the binary stops
/// exactly between writing the space and writing its event (whether those are one transaction
/// or two), and is killed there.
///
/// The binary may already have sent the whole event INSERT when it dies (sqlx sends a
/// statement it prepared before on that connection in one go), and PostgreSQL would then run
/// it once the lock is released, which no process killed between its two writes ever asks for.
/// So the test ends the backend that waits on the lock before releasing the lock: what that
/// backend had not committed is rolled back, as for any client that dies. With the space and
/// its event in one transaction nothing remains; with two, the space stays without its event,
/// and the test fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_before_the_auto_create_event_postgres() {
    let database = TestDatabase::new(Backend::Postgres).await;
    let data = TempDir::new().unwrap();
    enable_auto_create(&database.url).await;
    let server = start(data.path(), Some(&database.url)).await;

    // One connection holds the lock; another watches the binary's backends, since a
    // transaction sees pg_stat_activity as it was when the transaction first read it.
    let mut locker = PgConnection::connect(&database.url).await.unwrap();
    let mut watcher = PgConnection::connect(&database.url).await.unwrap();
    let mut lock = locker.begin().await.unwrap();
    sqlx::query("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let request = request_push_token(&server.url, "locked");
    let waiting = backends_waiting_on_a_lock(&mut watcher, &request).await;
    server.kill();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid")
        .bind(&waiting)
        .execute(&mut watcher)
        .await
        .unwrap();
    wait_until_gone(&mut watcher, &waiting).await;
    lock.rollback().await.unwrap();
    assert_request_failed(request).await;

    let server = start(data.path(), Some(&database.url)).await;
    assert_eq!(
        observe(&database.url, "locked").await,
        Observed::Neither,
        "a crash before the audit event was written left something behind"
    );
    // The same request without the lock creates the space and records it once, so the kill
    // above is what kept both away.
    assert_request_succeeds(&server.url, "locked").await;
    assert_eq!(observe(&database.url, "locked").await, Observed::Both);
    server.kill();
}

/// When each SQLite round kills the binary, counted from the start of its token request:
/// before the password check is done, around the writes, and after the answer.
const SQLITE_KILL_AFTER_MS: [u64; 6] = [0, 10, 25, 50, 100, 250];

/// SQLite, at fixed moments: each round asks for push into a new space, kills the binary after
/// one of [`SQLITE_KILL_AFTER_MS`], restarts it and finds both or neither.
///
/// This is weaker than the PostgreSQL test. SQLite has no table lock another process could
/// hold to stop the binary between its two writes, and the window between them lasts
/// microseconds, so a kill at a fixed delay lands in it only by chance: against space and
/// event written in two transactions this test would almost always pass. It does check that
/// whatever moment each kill hits, including during the transaction, the restarted binary finds
/// the space and its event together or not at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_auto_create_sqlite() {
    let data = TempDir::new().unwrap();
    let url = format!("sqlite://{}", data.path().join("berth.db").display());
    enable_auto_create(&url).await;
    let mut server = start(data.path(), None).await;
    let mut outcomes = Vec::new();
    for (round, kill_after) in SQLITE_KILL_AFTER_MS.into_iter().enumerate() {
        let space = format!("round-{round}");
        let request = request_push_token(&server.url, &space);
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        server.kill();
        let _ = tokio::time::timeout(Duration::from_secs(30), request)
            .await
            .expect("the token request outlived the server");
        server = start(data.path(), None).await;
        let observed = observe(&url, &space).await;
        assert!(
            matches!(observed, Observed::Neither | Observed::Both),
            "killed {kill_after} ms into the token request: {observed:?}"
        );
        outcomes.push((kill_after, observed));
    }
    server.kill();
    println!("auto-create kills on sqlite (ms after the request, outcome): {outcomes:?}");
}

/// Turns auto-create on in the database at `url`, before the binary first reads the setting.
async fn enable_auto_create(url: &str) {
    let store = Store::connect(url).await.unwrap();
    set_auto_create_spaces(&store, true).await;
    store.close().await;
}

/// Starts the admin's token request for push into `<space>/app`, which creates the space.
fn request_push_token(url: &str, space: &str) -> JoinHandle<reqwest::Result<reqwest::Response>> {
    let request = client()
        .get(format!("{url}/auth/token"))
        .query(&[
            ("service", "berth".to_string()),
            ("scope", format!("repository:{space}/app:pull,push")),
        ])
        .basic_auth("admin", Some(ADMIN_PASSWORD));
    tokio::spawn(request.send())
}

/// Waits until a backend of the test database waits on a lock (the binary, writing the audit
/// event) and returns the process ids of those that do.
async fn backends_waiting_on_a_lock(
    watcher: &mut PgConnection,
    request: &JoinHandle<reqwest::Result<reqwest::Response>>,
) -> Vec<i32> {
    let started = Instant::now();
    loop {
        let waiting: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_all(&mut *watcher)
        .await
        .unwrap();
        if !waiting.is_empty() {
            return waiting;
        }
        assert!(
            !request.is_finished(),
            "the token request was answered without waiting for the audit log"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no backend started waiting on the audit log's lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the backends `pids` have exited, so that what they had not committed is rolled
/// back before anything else can see the tables.
async fn wait_until_gone(watcher: &mut PgConnection, pids: &[i32]) {
    let started = Instant::now();
    loop {
        let remaining: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])")
                .bind(pids)
                .fetch_one(&mut *watcher)
                .await
                .unwrap();
        if remaining == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the ended backends are still there"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The token request could not have been answered: the binary died while it waited.
async fn assert_request_failed(request: JoinHandle<reqwest::Result<reqwest::Response>>) {
    let outcome = tokio::time::timeout(Duration::from_secs(30), request)
        .await
        .expect("the token request outlived the server")
        .unwrap();
    if let Ok(response) = outcome {
        panic!("the token request was answered: {}", response.status());
    }
}

async fn assert_request_succeeds(url: &str, space: &str) {
    let response = request_push_token(url, space).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the token request");
}

/// What a crash left of an auto-created space.
#[derive(Debug, PartialEq, Eq)]
enum Observed {
    Neither,
    Both,
    /// The broken state: the space exists and nothing recorded its creation.
    SpaceOnly,
    /// The event names a space that is not there (or the event is there twice).
    EventOnly,
}

/// Reads, in the binary's database, whether hosted space `space` exists and how many
/// auto-create events name it.
async fn observe(url: &str, space: &str) -> Observed {
    let store = Store::connect(url).await.unwrap();
    let exists = store.hosted_space_is_public(space).await.unwrap().is_some();
    let target = format!("hosted/{space}");
    let events = store
        .audit_events(AuditQuery {
            action: Some(AUTO_CREATE),
            limit: 1_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|event| event.target == target)
        .count();
    store.close().await;
    match (exists, events) {
        (false, 0) => Observed::Neither,
        (true, 1) => Observed::Both,
        (true, 0) => Observed::SpaceOnly,
        _ => Observed::EventOnly,
    }
}
