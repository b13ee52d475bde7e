//! Integration tests of the job queue (`berth_store::jobs`).
//!
//! Like `store.rs`, every case runs on SQLite and PostgreSQL: `store_test!(name)` generates
//! `name::sqlite` and `name::postgres`, each with a fresh database. Leases that must run out
//! are 50 ms long, and the tests sleep past them.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use berth_store::jobs::{Job, JobOutcome, JobState, Lease};
use berth_store::{now_millis, Store};
use berth_testkit::db::{Backend, TestDatabase};

/// Generates one test per backend for an `async fn` of the same name taking a `Store`.
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
}

/// Runs `test` against a store on a fresh database of `backend`.
async fn with_store<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDatabase::new(backend).await;
    let store = Store::connect(&db.url).await.expect("connecting the store");
    test(store.clone()).await;
    store.close().await;
}

const SYNC: &str = "registry.sync";
const SCAN: &str = "scan";
/// A lease no test outlives.
const LONG: Duration = Duration::from_secs(60);
/// A lease the tests let run out.
const SHORT: Duration = Duration::from_millis(50);

/// Sleeps until a lease of [`SHORT`] taken before the call has run out.
async fn past_short_lease() {
    tokio::time::sleep(SHORT * 3).await;
}

/// Queues a job due now that may be claimed three times.
async fn enqueue(store: &Store, kind: &str, key: &str) -> Job {
    store
        .enqueue_job(kind, key, r#"{"n":1}"#, now_millis(), 3)
        .await
        .unwrap()
        .job
}

async fn claim(store: &Store, kinds: &[&str], worker: &str, lease: Duration) -> Option<Job> {
    store.claim_job(kinds, worker, lease).await.unwrap()
}

async fn job(store: &Store, id: i64) -> Job {
    store.job(id).await.unwrap().expect("the job exists")
}

store_test!(enqueue_answers_the_live_job_of_a_subject);
async fn enqueue_answers_the_live_job_of_a_subject(store: Store) {
    let first = store
        .enqueue_job(SYNC, "7", r#"{"full":true}"#, now_millis(), 3)
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.job.state, JobState::Queued);
    assert_eq!(first.job.payload, r#"{"full":true}"#);
    assert_eq!(first.job.progress, "{}");
    assert_eq!(first.job.attempts, 0);
    assert_eq!(first.job.max_attempts, 3);
    assert!(!first.job.cancel_requested);
    assert_eq!(
        (first.job.worker.as_deref(), first.job.started_at),
        (None, None)
    );

    // Queued: the same subject answers the same job and its payload stands.
    let again = store
        .enqueue_job(SYNC, "7", r#"{"full":false}"#, now_millis(), 5)
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.job, first.job);

    // Another kind or another key is another subject.
    assert!(enqueue_created(&store, SCAN, "7").await);
    assert!(enqueue_created(&store, SYNC, "8").await);

    // Running is live too.
    let running = claim(&store, &[SYNC], "w", LONG).await.unwrap();
    assert_eq!(running.id, first.job.id);
    let while_running = store
        .enqueue_job(SYNC, "7", "{}", now_millis(), 3)
        .await
        .unwrap();
    assert!(!while_running.created);
    assert!(while_running.rerun);
    assert_eq!(while_running.job.id, first.job.id);
    assert_eq!(while_running.job.state, JobState::Running);
    assert_eq!(while_running.job.rerun_payload.as_deref(), Some("{}"));

    // Once it finished, the subject may be queued again.
    let done = claim(&store, &[SCAN], "w", LONG).await.unwrap();
    assert!(store
        .finish_job(done.id, "w", JobOutcome::Succeeded)
        .await
        .unwrap());
    let next = store
        .enqueue_job(SCAN, "7", "{}", now_millis(), 3)
        .await
        .unwrap();
    assert!(next.created);
    assert_ne!(next.job.id, done.id);

    // A job may always be claimed at least once.
    let never = store
        .enqueue_job(SYNC, "9", "{}", now_millis(), 0)
        .await
        .unwrap();
    assert_eq!(never.job.max_attempts, 1);
}

store_test!(work_asked_for_while_a_job_runs_runs_once_it_ends);
async fn work_asked_for_while_a_job_runs_runs_once_it_ends(store: Store) {
    let first = enqueue(&store, SYNC, "1").await;
    let running = claim(&store, &[SYNC], "w", LONG).await.unwrap();
    assert_eq!(running.id, first.id);
    // Two requests while it runs: the newest payload is the one run again, once.
    for payload in [r#"{"n":2}"#, r#"{"n":3}"#] {
        let asked = store
            .enqueue_job(SYNC, "1", payload, now_millis(), 3)
            .await
            .unwrap();
        assert!(asked.rerun && !asked.created);
    }
    assert!(claim(&store, &[SYNC], "v", LONG).await.is_none());
    assert!(store
        .finish_job(first.id, "w", JobOutcome::Succeeded)
        .await
        .unwrap());
    let rerun = claim(&store, &[SYNC], "v", LONG).await.unwrap();
    assert_ne!(rerun.id, first.id);
    assert_eq!(rerun.payload, r#"{"n":3}"#);
    assert_eq!((rerun.attempts, rerun.max_attempts), (1, 3));
    assert_eq!(rerun.rerun_payload, None);

    // A failure runs the asked-for work too: it may pass by then.
    store
        .enqueue_job(SYNC, "1", r#"{"n":4}"#, now_millis(), 3)
        .await
        .unwrap();
    assert!(store
        .finish_job(rerun.id, "v", JobOutcome::Failed("down".into()))
        .await
        .unwrap());
    let after_failure = claim(&store, &[SYNC], "w", LONG).await.unwrap();
    assert_eq!(after_failure.payload, r#"{"n":4}"#);

    // Put back to retry, the job keeps the asked-for work for when it ends.
    store
        .enqueue_job(SYNC, "1", r#"{"n":5}"#, now_millis(), 3)
        .await
        .unwrap();
    assert_eq!(
        store
            .retry_job_later(after_failure.id, "w", now_millis(), "blip")
            .await
            .unwrap(),
        Some(JobState::Queued)
    );
    let retried = claim(&store, &[SYNC], "w", LONG).await.unwrap();
    assert_eq!(retried.id, after_failure.id);
    assert_eq!(retried.rerun_payload.as_deref(), Some(r#"{"n":5}"#));
    // A worker that dies with the job for good still leaves the asked-for work queued.
    past_short_lease().await;
    store.renew_job(retried.id, "w", SHORT, None).await.unwrap();
    past_short_lease().await;
    let taken = claim(&store, &[SYNC], "x", SHORT).await.unwrap();
    assert_eq!(taken.id, retried.id, "its third and last attempt");
    past_short_lease().await;
    let rerun = claim(&store, &[SYNC], "y", LONG).await.unwrap();
    assert_eq!(job(&store, retried.id).await.state, JobState::Failed);
    assert_eq!(rerun.payload, r#"{"n":5}"#);

    // A cancel drops the work asked for before it; work asked for after it still runs.
    store
        .enqueue_job(SYNC, "1", r#"{"n":6}"#, now_millis(), 3)
        .await
        .unwrap();
    store.request_job_cancel(rerun.id).await.unwrap();
    assert!(store
        .finish_job(rerun.id, "y", JobOutcome::Cancelled)
        .await
        .unwrap());
    assert!(store.live_jobs(SYNC).await.unwrap().is_empty());
    let again = enqueue(&store, SYNC, "1").await;
    claim(&store, &[SYNC], "y", LONG).await.unwrap();
    store.request_job_cancel(again.id).await.unwrap();
    store
        .enqueue_job(SYNC, "1", r#"{"n":7}"#, now_millis(), 3)
        .await
        .unwrap();
    assert!(store
        .finish_job(again.id, "y", JobOutcome::Cancelled)
        .await
        .unwrap());
    let live = store.live_jobs(SYNC).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].payload, r#"{"n":7}"#);
}

async fn enqueue_created(store: &Store, kind: &str, key: &str) -> bool {
    store
        .enqueue_job(kind, key, "{}", now_millis(), 3)
        .await
        .unwrap()
        .created
}

store_test!(concurrent_enqueues_of_a_subject_make_one_job);
/// Several processes noticing the same work at once queue it once.
async fn concurrent_enqueues_of_a_subject_make_one_job(store: Store) {
    for round in 0..5 {
        let key = format!("registry-{round}");
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                let key = key.clone();
                tokio::spawn(async move {
                    store
                        .enqueue_job(SYNC, &key, "{}", now_millis(), 3)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut created = 0;
        let mut ids = HashSet::new();
        for task in tasks {
            let enqueued = task.await.unwrap();
            created += usize::from(enqueued.created);
            ids.insert(enqueued.job.id);
        }
        assert_eq!(created, 1, "round {round}");
        assert_eq!(ids.len(), 1, "round {round}");
    }
    assert_eq!(store.live_jobs(SYNC).await.unwrap().len(), 5);
}

store_test!(claims_take_due_jobs_oldest_first);
async fn claims_take_due_jobs_oldest_first(store: Store) {
    let now = now_millis();
    let later = store
        .enqueue_job(SYNC, "later", "{}", now + 60_000, 3)
        .await
        .unwrap()
        .job;
    let second = store
        .enqueue_job(SYNC, "second", "{}", now - 1_000, 3)
        .await
        .unwrap()
        .job;
    let first = store
        .enqueue_job(SYNC, "first", "{}", now - 2_000, 3)
        .await
        .unwrap()
        .job;

    let before = now_millis();
    let claimed = claim(&store, &[SYNC], "worker-a", LONG).await.unwrap();
    let after = now_millis();
    assert_eq!(claimed.id, first.id);
    assert_eq!(claimed.state, JobState::Running);
    assert_eq!(claimed.worker.as_deref(), Some("worker-a"));
    assert_eq!(claimed.attempts, 1);
    let started = claimed.started_at.expect("started");
    assert!((before..=after).contains(&started));
    let lease_until = claimed.lease_until.expect("leased");
    let lease = LONG.as_millis() as i64;
    assert!((before + lease..=after + lease).contains(&lease_until));
    assert_eq!(job(&store, first.id).await, claimed);

    assert_eq!(
        claim(&store, &[SYNC], "worker-b", LONG).await.unwrap().id,
        second.id
    );
    // The last one is not due yet, and held jobs are not taken.
    assert_eq!(claim(&store, &[SYNC], "worker-c", LONG).await, None);
    assert_eq!(job(&store, later.id).await.state, JobState::Queued);
}

store_test!(claims_take_only_the_kinds_asked_for);
async fn claims_take_only_the_kinds_asked_for(store: Store) {
    let sync = enqueue(&store, SYNC, "1").await;
    let scan = enqueue(&store, SCAN, "1").await;
    enqueue(&store, "gc", "all").await;

    assert_eq!(claim(&store, &[], "w", LONG).await, None);
    assert_eq!(claim(&store, &["unknown"], "w", LONG).await, None);
    assert_eq!(claim(&store, &[SCAN], "w", LONG).await.unwrap().id, scan.id);
    assert_eq!(claim(&store, &[SCAN], "w", LONG).await, None);
    assert_eq!(
        claim(&store, &[SCAN, SYNC], "w", LONG).await.unwrap().id,
        sync.id
    );
    assert_eq!(claim(&store, &[SCAN, SYNC], "w", LONG).await, None);
    assert_eq!(
        claim(&store, &["gc"], "w", LONG).await.unwrap().key,
        "all".to_string()
    );
}

store_test!(concurrent_claimers_take_every_job_exactly_once);
/// Eight workers on cloned handles (on PostgreSQL, as many connections at once) drain sixty
/// jobs: each job is claimed by one worker, once, and succeeds.
async fn concurrent_claimers_take_every_job_exactly_once(store: Store) {
    let mut queued = HashSet::new();
    for n in 0..60 {
        queued.insert(enqueue(&store, SYNC, &n.to_string()).await.id);
    }
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let worker = format!("worker-{w}");
                let mut taken = Vec::new();
                loop {
                    match claim(&store, &[SYNC], &worker, LONG).await {
                        Some(job) => {
                            assert_eq!(job.worker.as_deref(), Some(worker.as_str()));
                            assert!(store
                                .finish_job(job.id, &worker, JobOutcome::Succeeded)
                                .await
                                .unwrap());
                            taken.push(job.id);
                        }
                        // On PostgreSQL a claim passes over rows other claims hold, so "none"
                        // means done only once nothing is live.
                        None if store.live_jobs(SYNC).await.unwrap().is_empty() => break,
                        None => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
                taken
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for worker in workers {
        claimed.extend(worker.await.unwrap());
    }
    let distinct: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), 60, "no job was claimed twice");
    assert_eq!(distinct, queued);
    for id in queued {
        let done = job(&store, id).await;
        assert_eq!(done.state, JobState::Succeeded);
        assert_eq!(done.attempts, 1);
        assert!(done.finished_at.is_some());
        assert_eq!(done.lease_until, None);
    }
}

store_test!(an_expired_lease_passes_the_job_to_another_worker);
async fn an_expired_lease_passes_the_job_to_another_worker(store: Store) {
    let queued = enqueue(&store, SYNC, "1").await;
    let dead = claim(&store, &[SYNC], "dead", LONG).await.unwrap();
    // The lease runs: nobody else may take the job.
    assert_eq!(claim(&store, &[SYNC], "alive", LONG).await, None);
    // The worker's last renewal reports progress and asks for a short lease, then it stops.
    assert_eq!(
        store
            .renew_job(dead.id, "dead", SHORT, Some(r#"{"page":2}"#))
            .await
            .unwrap(),
        Lease::Held
    );

    past_short_lease().await;
    let taken = claim(&store, &[SYNC], "alive", LONG).await.unwrap();
    assert_eq!(taken.id, queued.id);
    assert_eq!(taken.worker.as_deref(), Some("alive"));
    assert_eq!(taken.attempts, 2);
    assert_eq!(taken.started_at, dead.started_at, "first start is kept");
    assert_eq!(taken.progress, r#"{"page":2}"#, "progress survives");

    // The worker that stopped learns it lost the job, and cannot end it.
    assert_eq!(
        store
            .renew_job(dead.id, "dead", LONG, Some(r#"{"page":9}"#))
            .await
            .unwrap(),
        Lease::Lost
    );
    assert!(!store
        .finish_job(dead.id, "dead", JobOutcome::Failed("late".into()))
        .await
        .unwrap());
    assert_eq!(
        store
            .retry_job_later(dead.id, "dead", now_millis(), "late")
            .await
            .unwrap(),
        None
    );
    let held = job(&store, taken.id).await;
    assert_eq!(
        (held.state, held.worker.as_deref(), held.progress.as_str()),
        (JobState::Running, Some("alive"), r#"{"page":2}"#)
    );

    assert_eq!(
        store
            .renew_job(taken.id, "alive", LONG, None)
            .await
            .unwrap(),
        Lease::Held
    );
    assert!(store
        .finish_job(taken.id, "alive", JobOutcome::Succeeded)
        .await
        .unwrap());
    assert_eq!(
        store
            .renew_job(taken.id, "alive", LONG, None)
            .await
            .unwrap(),
        Lease::Lost,
        "a finished job is held by nobody"
    );
    assert!(!store
        .finish_job(taken.id, "alive", JobOutcome::Succeeded)
        .await
        .unwrap());
}

store_test!(renewing_keeps_the_job_and_records_progress);
async fn renewing_keeps_the_job_and_records_progress(store: Store) {
    let queued = enqueue(&store, SYNC, "1").await;
    let held = claim(&store, &[SYNC], "w", SHORT).await.unwrap();
    let before = now_millis();
    assert_eq!(
        store
            .renew_job(held.id, "w", LONG, Some(r#"{"done":10}"#))
            .await
            .unwrap(),
        Lease::Held
    );
    past_short_lease().await;
    // The first lease would have run out by now; the renewed one has not.
    assert_eq!(claim(&store, &[SYNC], "other", LONG).await, None);
    let renewed = job(&store, queued.id).await;
    assert!(renewed.lease_until.unwrap() >= before + LONG.as_millis() as i64);
    assert_eq!(renewed.progress, r#"{"done":10}"#);
    assert_eq!(renewed.attempts, 1);

    // Without progress, the last report stands; another worker's name holds nothing.
    assert_eq!(
        store.renew_job(held.id, "w", LONG, None).await.unwrap(),
        Lease::Held
    );
    assert_eq!(job(&store, queued.id).await.progress, r#"{"done":10}"#);
    assert_eq!(
        store
            .renew_job(held.id, "other", LONG, Some("{}"))
            .await
            .unwrap(),
        Lease::Lost
    );
    assert_eq!(
        store
            .renew_job(held.id + 100, "w", LONG, None)
            .await
            .unwrap(),
        Lease::Lost
    );
    assert_eq!(job(&store, queued.id).await.progress, r#"{"done":10}"#);
}

store_test!(a_job_abandoned_max_attempts_times_fails);
async fn a_job_abandoned_max_attempts_times_fails(store: Store) {
    let fragile = store
        .enqueue_job(SYNC, "fragile", "{}", now_millis() - 1_000, 2)
        .await
        .unwrap()
        .job;
    assert_eq!(
        claim(&store, &[SYNC], "first", SHORT).await.unwrap().id,
        fragile.id
    );
    past_short_lease().await;
    let second = claim(&store, &[SYNC], "second", SHORT).await.unwrap();
    assert_eq!((second.id, second.attempts), (fragile.id, 2));

    let next = enqueue(&store, SYNC, "next").await;
    past_short_lease().await;
    // A third claim would exceed max_attempts: the job fails and the claim takes the next one.
    let third = claim(&store, &[SYNC], "third", LONG).await.unwrap();
    assert_eq!(third.id, next.id);
    let failed = job(&store, fragile.id).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("its worker stopped 2 times without finishing")
    );
    assert_eq!(failed.attempts, 2);
    assert_eq!(failed.lease_until, None);
    assert!(failed.finished_at.is_some());
    assert_eq!(
        store
            .renew_job(fragile.id, "second", LONG, None)
            .await
            .unwrap(),
        Lease::Lost
    );
    // The subject is free again.
    assert!(enqueue_created(&store, SYNC, "fragile").await);

    // A claim for other kinds leaves an abandoned job of this kind alone.
    let other = store
        .enqueue_job(SCAN, "once", "{}", now_millis(), 1)
        .await
        .unwrap()
        .job;
    claim(&store, &[SCAN], "w", SHORT).await.unwrap();
    past_short_lease().await;
    claim(&store, &["gc"], "w", LONG).await;
    assert_eq!(job(&store, other.id).await.state, JobState::Running);
    assert_eq!(claim(&store, &[SCAN], "w", LONG).await, None);
    assert_eq!(job(&store, other.id).await.state, JobState::Failed);
}

store_test!(cancelling_stops_queued_jobs_at_once_and_running_ones_at_renewal);
async fn cancelling_stops_queued_jobs_at_once_and_running_ones_at_renewal(store: Store) {
    let queued = enqueue(&store, SYNC, "queued").await;
    let cancelled = store.request_job_cancel(queued.id).await.unwrap().unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert!(cancelled.finished_at.is_some());
    assert_eq!(claim(&store, &[SYNC], "w", LONG).await, None);
    assert!(enqueue_created(&store, SYNC, "queued").await);

    let running = enqueue(&store, SCAN, "running").await;
    claim(&store, &[SCAN], "w", LONG).await.unwrap();
    let asked = store.request_job_cancel(running.id).await.unwrap().unwrap();
    assert_eq!(asked.state, JobState::Running);
    assert!(asked.cancel_requested);
    assert_eq!(asked.finished_at, None);
    assert_eq!(
        store
            .renew_job(running.id, "w", LONG, Some(r#"{"n":3}"#))
            .await
            .unwrap(),
        Lease::CancelRequested
    );
    assert_eq!(job(&store, running.id).await.progress, r#"{"n":3}"#);
    assert!(store
        .finish_job(running.id, "w", JobOutcome::Cancelled)
        .await
        .unwrap());
    let stopped = job(&store, running.id).await;
    assert_eq!(stopped.state, JobState::Cancelled);
    assert!(stopped.finished_at.is_some());

    // A finished job stays as it is; a missing one is none.
    assert_eq!(
        store.request_job_cancel(running.id).await.unwrap(),
        Some(stopped)
    );
    assert_eq!(
        store.request_job_cancel(running.id + 100).await.unwrap(),
        None
    );

    // A job whose worker stopped after a cancel was asked is cancelled, not run again.
    let abandoned = enqueue(&store, SCAN, "abandoned").await;
    claim(&store, &[SCAN], "dead", SHORT).await.unwrap();
    store.request_job_cancel(abandoned.id).await.unwrap();
    past_short_lease().await;
    assert_eq!(claim(&store, &[SCAN], "w", LONG).await, None);
    let ended = job(&store, abandoned.id).await;
    assert_eq!((ended.state, ended.attempts), (JobState::Cancelled, 1));
}

store_test!(retrying_later_requeues_with_attempts_kept);
async fn retrying_later_requeues_with_attempts_kept(store: Store) {
    let queued = store
        .enqueue_job(SYNC, "1", "{}", now_millis(), 2)
        .await
        .unwrap()
        .job;
    let first = claim(&store, &[SYNC], "w", LONG).await.unwrap();
    let later = now_millis() + 500;
    assert_eq!(
        store
            .retry_job_later(first.id, "w", later, "registry did not answer")
            .await
            .unwrap(),
        Some(JobState::Queued)
    );
    let waiting = job(&store, queued.id).await;
    assert_eq!(waiting.state, JobState::Queued);
    assert_eq!(waiting.attempts, 1);
    assert_eq!(waiting.run_after, later);
    assert_eq!(waiting.error.as_deref(), Some("registry did not answer"));
    assert_eq!((waiting.worker, waiting.lease_until), (None, None));
    assert_eq!(waiting.finished_at, None);
    // Still live, and not due until `later`; the old worker no longer holds it.
    assert!(!enqueue_created(&store, SYNC, "1").await);
    assert_eq!(claim(&store, &[SYNC], "w", LONG).await, None);
    assert_eq!(
        store.renew_job(queued.id, "w", LONG, None).await.unwrap(),
        Lease::Lost
    );

    tokio::time::sleep(Duration::from_millis(550)).await;
    let second = claim(&store, &[SYNC], "v", LONG).await.unwrap();
    assert_eq!((second.id, second.attempts), (queued.id, 2));
    assert_eq!(second.started_at, first.started_at);
    // Its attempts are used up, so retrying fails it with the reason.
    assert_eq!(
        store
            .retry_job_later(second.id, "v", now_millis(), "still down")
            .await
            .unwrap(),
        Some(JobState::Failed)
    );
    let failed = job(&store, queued.id).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.error.as_deref(), Some("still down"));
    assert_eq!(failed.worker.as_deref(), Some("v"));
    assert!(failed.finished_at.is_some());

    // A retry after a cancel was asked cancels.
    let asked = enqueue(&store, SYNC, "2").await;
    claim(&store, &[SYNC], "w", LONG).await.unwrap();
    store.request_job_cancel(asked.id).await.unwrap();
    assert_eq!(
        store
            .retry_job_later(asked.id, "w", now_millis(), "timeout")
            .await
            .unwrap(),
        Some(JobState::Cancelled)
    );
    assert_eq!(job(&store, asked.id).await.state, JobState::Cancelled);

    // A success after a retried failure clears the error; a failure keeps its message.
    let flaky = enqueue(&store, SYNC, "3").await;
    claim(&store, &[SYNC], "w", LONG).await.unwrap();
    store
        .retry_job_later(flaky.id, "w", now_millis(), "blip")
        .await
        .unwrap();
    claim(&store, &[SYNC], "w", LONG).await.unwrap();
    assert!(store
        .finish_job(flaky.id, "w", JobOutcome::Succeeded)
        .await
        .unwrap());
    let ok = job(&store, flaky.id).await;
    assert_eq!((ok.state, ok.error), (JobState::Succeeded, None));

    let broken = enqueue(&store, SYNC, "4").await;
    claim(&store, &[SYNC], "w", LONG).await.unwrap();
    assert!(store
        .finish_job(
            broken.id,
            "w",
            JobOutcome::Failed("no such registry".into())
        )
        .await
        .unwrap());
    let broken = job(&store, broken.id).await;
    assert_eq!(broken.state, JobState::Failed);
    assert_eq!(broken.error.as_deref(), Some("no such registry"));
}

store_test!(latest_and_live_jobs_and_pruning);
async fn latest_and_live_jobs_and_pruning(store: Store) {
    assert_eq!(store.latest_job(SYNC, "a").await.unwrap(), None);
    // Three finished runs of subject a, one of b, then a live job of a.
    let mut finished_a = Vec::new();
    for _ in 0..3 {
        finished_a.push(run_to_success(&store, "a").await);
    }
    let finished_b = run_to_success(&store, "b").await;
    assert_eq!(
        store.latest_job(SYNC, "a").await.unwrap().unwrap().id,
        finished_a[2]
    );
    let live_a = enqueue(&store, SYNC, "a").await;
    let live_c = enqueue(&store, SYNC, "c").await;
    enqueue(&store, SCAN, "a").await;
    assert_eq!(
        store.latest_job(SYNC, "a").await.unwrap(),
        Some(live_a.clone())
    );
    let live: Vec<i64> = store
        .live_jobs(SYNC)
        .await
        .unwrap()
        .into_iter()
        .map(|job| job.id)
        .collect();
    assert_eq!(live, [live_a.id, live_c.id]);

    // Nothing finished before the epoch.
    assert_eq!(store.prune_jobs(0).await.unwrap(), 0);
    // Of the finished jobs, each subject keeps its newest; live jobs stay.
    assert_eq!(store.prune_jobs(now_millis() + 1).await.unwrap(), 2);
    for gone in &finished_a[..2] {
        assert_eq!(store.job(*gone).await.unwrap(), None);
    }
    for kept in [finished_a[2], finished_b, live_a.id, live_c.id] {
        assert!(store.job(kept).await.unwrap().is_some(), "job {kept} kept");
    }
    assert_eq!(store.prune_jobs(now_millis() + 1).await.unwrap(), 0);
    assert_eq!(
        store.latest_job(SYNC, "b").await.unwrap().unwrap().id,
        finished_b
    );

    // Once a newer run of a finishes, the run it replaced goes; the newer one finished after
    // the cutoff, so it would be kept even if it were not the newest.
    let cutoff = now_millis() + 1;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let live_a = claim(&store, &[SYNC], "w", LONG).await.unwrap();
    assert!(store
        .finish_job(live_a.id, "w", JobOutcome::Succeeded)
        .await
        .unwrap());
    assert_eq!(
        store.prune_jobs(cutoff).await.unwrap(),
        1,
        "only the older run of a"
    );
    assert_eq!(store.job(finished_a[2]).await.unwrap(), None);
    assert!(store.job(live_a.id).await.unwrap().is_some());
}

/// Queues, claims and succeeds a sync of `key`, answering its id.
async fn run_to_success(store: &Store, key: &str) -> i64 {
    let queued = enqueue(store, SYNC, key).await;
    let held = claim(store, &[SYNC], "w", LONG).await.unwrap();
    assert_eq!(held.id, queued.id);
    assert!(store
        .finish_job(held.id, "w", JobOutcome::Succeeded)
        .await
        .unwrap());
    queued.id
}

/// On PostgreSQL a claim passes over a job another transaction holds locked (another process
/// in the middle of claiming or renewing it) instead of waiting for it. SQLite has no row
/// locks to pass over: its one writer runs claims one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claim_on_postgres_passes_over_a_locked_job_without_waiting() {
    use sqlx::Connection;

    let db = TestDatabase::new(Backend::Postgres).await;
    let store = Store::connect(&db.url).await.expect("connecting the store");
    let locked = store
        .enqueue_job(SYNC, "locked", "{}", now_millis() - 1_000, 3)
        .await
        .unwrap()
        .job;
    let free = enqueue(&store, SYNC, "free").await;

    let mut other = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    let mut tx = other.begin().await.unwrap();
    sqlx::query("SELECT id FROM jobs WHERE id = $1 FOR UPDATE")
        .bind(locked.id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let claimed = tokio::time::timeout(Duration::from_secs(5), store.claim_job(&[SYNC], "w", LONG))
        .await
        .expect("the claim did not wait for the lock")
        .unwrap();
    assert_eq!(claimed.map(|job| job.id), Some(free.id));
    let nothing = tokio::time::timeout(Duration::from_secs(5), store.claim_job(&[SYNC], "w", LONG))
        .await
        .expect("the claim did not wait for the lock")
        .unwrap();
    assert_eq!(nothing, None);

    tx.rollback().await.unwrap();
    let _ = other.close().await;
    assert_eq!(
        claim(&store, &[SYNC], "w", LONG).await.map(|job| job.id),
        Some(locked.id)
    );
    store.close().await;
}
