//! A queue of background jobs in the database, shared by every `berth serve` process on it.
//!
//! The queue knows nothing of what a job does. A job has a `kind` (what work it is, such as a
//! registry sync), a `key` (what it is about, such as a registry id), an opaque JSON `payload`
//! and an opaque JSON `progress` that its worker reports; callers that run the work give these
//! their meaning, and record audit events themselves, since a job is not a tenancy change.
//!
//! **Invariants:** at most one live (queued or running) job exists per `(kind, key)`, which a
//! partial unique index enforces, so enqueueing the same work twice answers the live job. A
//! running job is held by one worker under a lease; a worker that dies stops renewing it, and
//! once the lease has run out the next claim takes the job again (or fails it, when it has
//! been taken `max_attempts` times). Work asked for while its subject's job runs is not lost:
//! the running job keeps the newest such payload, and the transaction that ends the job
//! queues a job with it (a cancel drops what was asked before it). Only the holder may renew,
//! retry or finish a job, so a worker that lost its lease learns so and cannot overwrite its
//! successor's outcome. On
//! PostgreSQL claims select with `FOR UPDATE SKIP LOCKED`, so processes claiming at once never
//! wait for each other nor take the same job; on SQLite the single writer connection runs one
//! claim at a time.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::values::Flag;
use crate::{now_millis, Backend, Store, StoreError};

/// Where a job is in its life. `Queued` and `Running` are live; the others are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting to be claimed once `run_after` has passed.
    Queued,
    /// Held by a worker until its lease runs out.
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    /// The name stored in `jobs.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Whether the job may still run: a live job of a subject stops a second one being queued.
    pub fn is_live(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name that is none of [`JobState`]'s, which only a foreign write could store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a job state")]
pub struct UnknownJobState(pub String);

impl FromStr for JobState {
    type Err = UnknownJobState;

    fn from_str(name: &str) -> Result<JobState, UnknownJobState> {
        Ok(match name {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            other => return Err(UnknownJobState(other.to_string())),
        })
    }
}

impl TryFrom<String> for JobState {
    type Error = UnknownJobState;

    fn try_from(name: String) -> Result<JobState, UnknownJobState> {
        name.parse()
    }
}

/// A job as stored. Times are milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    /// What work this is, e.g. `registry.sync`; claimers ask for the kinds they can run.
    pub kind: String,
    /// What the work is about, e.g. a registry id; one live job per `(kind, key)`.
    pub key: String,
    /// The job's input as JSON, opaque to the store.
    pub payload: String,
    #[sqlx(try_from = "String")]
    pub state: JobState,
    /// What the worker last reported, as JSON, opaque to the store. It survives a takeover, so
    /// the next worker may resume where the last one stopped.
    pub progress: String,
    /// How many times the job was claimed.
    pub attempts: i64,
    /// How many claims the job may take; a claim beyond it fails the job instead.
    pub max_attempts: i64,
    /// The job is not claimed before this time.
    pub run_after: i64,
    /// Who holds the job while it runs, and who ran it last once it finished.
    pub worker: Option<String>,
    /// When the holder's lease runs out, while the job runs.
    pub lease_until: Option<i64>,
    /// Someone asked a running job to stop; its worker learns so when it renews.
    #[sqlx(try_from = "Flag")]
    pub cancel_requested: bool,
    /// Why the job failed, or why its last attempt did when it was put back to retry.
    pub error: Option<String>,
    /// The payload of work asked for while the job ran, queued as a new job once it ends.
    pub rerun_payload: Option<String>,
    pub created_at: i64,
    /// When the job was first claimed.
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// What [`Store::enqueue_job`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    /// The new job, or the live job of the same subject that was already there.
    pub job: Job,
    /// Whether `job` was created by this call.
    pub created: bool,
    /// Whether `job` was running, so that this call's payload runs again once it ends: the
    /// running job may have read its subject before the change this call is about.
    pub rerun: bool,
}

/// What a worker learns when it renews its lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// The worker still holds the job, for the new lease.
    Held,
    /// The worker still holds the job, but someone asked it to stop: it should finish the job
    /// as [`JobOutcome::Cancelled`].
    CancelRequested,
    /// The worker no longer holds the job (its lease ran out and another worker took it, or it
    /// finished): it must stop without writing anything about the job.
    Lost,
}

/// How a worker ends a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Succeeded,
    /// The job cannot succeed; the message says why and is kept in `error`.
    Failed(String),
    /// The worker stopped because a cancel was requested.
    Cancelled,
}

/// The columns of [`Job`], in a `SELECT` or `RETURNING` list.
const JOB_COLUMNS: &str = "id, kind, key, payload, state, progress, attempts, max_attempts, \
     run_after, worker, lease_until, cancel_requested, error, rerun_payload, created_at, \
     started_at, finished_at";

/// What a statement that ends jobs returns of each, for [`queue_reruns`].
const ENDED_COLUMNS: &str = "kind, key, rerun_payload, max_attempts";

/// A job that just ended, as [`queue_reruns`] reads it.
#[derive(sqlx::FromRow)]
struct Ended {
    kind: String,
    key: String,
    rerun_payload: Option<String>,
    max_attempts: i64,
}

/// How many times [`Store::enqueue_job`] tries again when the live job it collided with
/// finished before it could read it. Each retry needs another job to finish in that moment.
const ENQUEUE_TRIES: usize = 8;

impl Store {
    /// Queues a job of `kind` about `key`, to be claimed from `run_after` on and at most
    /// `max_attempts` times (at least once). If a live job of the same `(kind, key)` exists,
    /// it answers that one with `created: false` and queues nothing, so a subject is never
    /// worked on twice at once, even when several processes enqueue together. A running live
    /// job keeps `payload` and runs it again once it ends (`rerun: true`), since it may have
    /// read its subject before whatever made the caller ask.
    pub async fn enqueue_job(
        &self,
        kind: &str,
        key: &str,
        payload: &str,
        run_after: i64,
        max_attempts: i64,
    ) -> Result<Enqueued, StoreError> {
        for _ in 0..ENQUEUE_TRIES {
            // The partial unique index decides between concurrent enqueuers: on PostgreSQL the
            // loser waits for the winner's commit and inserts nothing, on SQLite the single
            // writer runs them one after the other.
            let inserted = insert_queued(
                &self.writer,
                kind,
                key,
                payload,
                max_attempts.max(1),
                run_after,
            )
            .await?;
            if let Some(job) = inserted {
                return Ok(Enqueued {
                    job,
                    created: true,
                    rerun: false,
                });
            }
            let running: Option<Job> = sqlx::query_as(&format!(
                "UPDATE jobs SET rerun_payload = $3 \
                 WHERE kind = $1 AND key = $2 AND state = 'running' RETURNING {JOB_COLUMNS}"
            ))
            .bind(kind)
            .bind(key)
            .bind(payload)
            .fetch_optional(&self.writer)
            .await?;
            if let Some(job) = running {
                return Ok(Enqueued {
                    job,
                    created: false,
                    rerun: true,
                });
            }
            let queued: Option<Job> = sqlx::query_as(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND key = $2 AND state = 'queued'"
            ))
            .bind(kind)
            .bind(key)
            .fetch_optional(&self.writer)
            .await?;
            if let Some(job) = queued {
                return Ok(Enqueued {
                    job,
                    created: false,
                    rerun: false,
                });
            }
            // The live job finished between the statements: try to queue again.
        }
        Err(StoreError::Conflict(format!(
            "job `{kind}` of `{key}` kept finishing while another was queued"
        )))
    }

    /// Takes the oldest due job of one of `kinds` for `worker`, holding it for `lease`: a
    /// queued job whose `run_after` has passed, or a running one whose lease ran out because
    /// its worker stopped. The job becomes running, with its attempts counted. `None` when no
    /// such job exists (or `kinds` is empty).
    ///
    /// A job whose lease ran out after it was taken `max_attempts` times is failed instead
    /// (and one whose cancel was requested is cancelled), and the claim goes on to the next.
    /// `worker` must name one holder alone (a process and a task in it, say), since holding a
    /// job is proven by that name.
    pub async fn claim_job(
        &self,
        kinds: &[&str],
        worker: &str,
        lease: Duration,
    ) -> Result<Option<Job>, StoreError> {
        if kinds.is_empty() {
            return Ok(None);
        }
        // PostgreSQL runs claims of several processes at once: `FOR UPDATE SKIP LOCKED` locks
        // the row a claim selects and makes every other claim pass over it rather than wait
        // for it or take it too. SQLite accepts no `FOR UPDATE` and needs none, since its one
        // writer connection runs one claim at a time. This clause is the one piece of SQL the
        // store writes differently per database; every other difference is in the migrations.
        let lock = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let now = now_millis();
        let mut tx = self.begin_write().await?;

        // Jobs abandoned once too often, or abandoned after a cancel was asked, end here.
        let abandoned = format!(
            "UPDATE jobs SET \
                 state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'failed' END, \
                 error = CASE WHEN cancel_requested = 1 THEN error ELSE 'its worker stopped ' \
                     || CAST(attempts AS TEXT) || ' times without finishing' END, \
                 lease_until = NULL, finished_at = $1 \
             WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_until < $1 \
                 AND (attempts >= max_attempts OR cancel_requested = 1) AND kind IN ({}) {lock}) \
             RETURNING {ENDED_COLUMNS}",
            placeholders(2, kinds.len())
        );
        let mut query = sqlx::query_as(&abandoned).bind(now);
        for kind in kinds {
            query = query.bind(*kind);
        }
        let ended: Vec<Ended> = query.fetch_all(&mut *tx).await?;
        queue_reruns(&mut tx, ended, now).await?;

        // The condition repeats the one above: a row another claim held while this one ended
        // abandoned jobs may be such a job, and is left to the next claim.
        let claim = format!(
            "UPDATE jobs SET state = 'running', worker = $2, lease_until = $3, \
                 attempts = attempts + 1, started_at = COALESCE(started_at, $1) \
             WHERE id = (SELECT id FROM jobs \
                 WHERE ((state = 'queued' AND run_after <= $1) \
                     OR (state = 'running' AND lease_until < $1 \
                         AND attempts < max_attempts AND cancel_requested = 0)) \
                     AND kind IN ({}) \
                 ORDER BY run_after, id LIMIT 1 {lock}) \
             RETURNING {JOB_COLUMNS}",
            placeholders(4, kinds.len())
        );
        let mut query = sqlx::query_as(&claim)
            .bind(now)
            .bind(worker)
            .bind(now.saturating_add(millis(lease)));
        for kind in kinds {
            query = query.bind(*kind);
        }
        let job: Option<Job> = query.fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Extends `worker`'s lease on job `id` to `lease` from now and, when given, stores its
    /// `progress`, but only while `worker` still holds the job; otherwise nothing changes and
    /// the answer is [`Lease::Lost`]. A worker renews well within its lease, so that the job
    /// is not taken from it while it works.
    pub async fn renew_job(
        &self,
        id: i64,
        worker: &str,
        lease: Duration,
        progress: Option<&str>,
    ) -> Result<Lease, StoreError> {
        let cancel: Option<i64> = sqlx::query_scalar(
            "UPDATE jobs SET lease_until = $1, progress = COALESCE($2, progress) \
             WHERE id = $3 AND worker = $4 AND state = 'running' RETURNING cancel_requested",
        )
        .bind(now_millis().saturating_add(millis(lease)))
        .bind(progress)
        .bind(id)
        .bind(worker)
        .fetch_optional(&self.writer)
        .await?;
        Ok(match cancel {
            None => Lease::Lost,
            Some(0) => Lease::Held,
            Some(_) => Lease::CancelRequested,
        })
    }

    /// Ends job `id` with `outcome`, if `worker` still holds it. `false` when it does not
    /// (its lease ran out and another worker took the job, or it finished): the outcome is
    /// then dropped, since the job's present holder will report its own.
    pub async fn finish_job(
        &self,
        id: i64,
        worker: &str,
        outcome: JobOutcome,
    ) -> Result<bool, StoreError> {
        let (state, error) = match outcome {
            JobOutcome::Succeeded => (JobState::Succeeded, None),
            JobOutcome::Failed(error) => (JobState::Failed, Some(error)),
            JobOutcome::Cancelled => (JobState::Cancelled, None),
        };
        let mut tx = self.begin_write().await?;
        let ended: Option<Ended> = sqlx::query_as(&format!(
            "UPDATE jobs SET state = $1, error = $2, lease_until = NULL, finished_at = $3 \
             WHERE id = $4 AND worker = $5 AND state = 'running' RETURNING {ENDED_COLUMNS}"
        ))
        .bind(state.as_str())
        .bind(error)
        .bind(now_millis())
        .bind(id)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await?;
        let done = ended.is_some();
        queue_reruns(&mut tx, ended, now_millis()).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Puts job `id` back in the queue until `run_after`, after a failure that may pass (a
    /// registry that did not answer), keeping its attempts and `error` as the reason. If the
    /// job has used all its attempts it fails with `error` instead, and if a cancel was
    /// requested it is cancelled. The answer is the state the job is left in, or `None` when
    /// `worker` no longer holds it (and nothing changed). Work asked for while it ran stays
    /// with the job when it is queued again, and is queued on its own when the job ends.
    pub async fn retry_job_later(
        &self,
        id: i64,
        worker: &str,
        run_after: i64,
        error: &str,
    ) -> Result<Option<JobState>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Retried {
            state: String,
            #[sqlx(flatten)]
            ended: Ended,
        }
        let mut tx = self.begin_write().await?;
        let retried: Option<Retried> = sqlx::query_as(&format!(
            "UPDATE jobs SET \
                 state = CASE WHEN cancel_requested = 1 THEN 'cancelled' \
                     WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
                 worker = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts \
                     THEN worker ELSE NULL END, \
                 finished_at = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts \
                     THEN $1 ELSE NULL END, \
                 run_after = $2, error = $3, lease_until = NULL \
             WHERE id = $4 AND worker = $5 AND state = 'running' \
             RETURNING state, {ENDED_COLUMNS}"
        ))
        .bind(now_millis())
        .bind(run_after)
        .bind(error)
        .bind(id)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(Retried { state, ended }) = retried else {
            return Ok(None);
        };
        let state: JobState = state.parse().map_err(corrupt)?;
        if !state.is_live() {
            queue_reruns(&mut tx, Some(ended), now_millis()).await?;
        }
        tx.commit().await?;
        Ok(Some(state))
    }

    /// Asks job `id` to stop: a queued job is cancelled at once; a running one is marked, and
    /// its worker learns so when it next renews ([`Lease::CancelRequested`]), and work asked
    /// for while it ran is dropped with it. A finished job is left as it is. The answer is the
    /// job after the request, or `None` if there is no such job.
    pub async fn request_job_cancel(&self, id: i64) -> Result<Option<Job>, StoreError> {
        // Every right-hand side reads the row as it was before this UPDATE.
        let job: Option<Job> = sqlx::query_as(&format!(
            "UPDATE jobs SET \
                 state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END, \
                 finished_at = CASE WHEN state = 'queued' THEN $1 ELSE finished_at END, \
                 cancel_requested = CASE WHEN state = 'running' THEN 1 ELSE cancel_requested END, \
                 rerun_payload = NULL \
             WHERE id = $2 AND state IN ('queued', 'running') RETURNING {JOB_COLUMNS}"
        ))
        .bind(now_millis())
        .bind(id)
        .fetch_optional(&self.writer)
        .await?;
        match job {
            Some(job) => Ok(Some(job)),
            None => self.job(id).await,
        }
    }

    /// Job `id`.
    pub async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        Ok(
            sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    /// The newest job of `kind` about `key`, live or finished: what a page showing the
    /// subject's last sync or scan reads.
    pub async fn latest_job(&self, kind: &str, key: &str) -> Result<Option<Job>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND key = $2 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(kind)
        .bind(key)
        .fetch_optional(&self.reader)
        .await?)
    }

    /// The queued and running jobs of `kind`, oldest first.
    pub async fn live_jobs(&self, kind: &str) -> Result<Vec<Job>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND state IN ('queued', 'running') \
             ORDER BY created_at, id"
        ))
        .bind(kind)
        .fetch_all(&self.reader)
        .await?)
    }

    /// The queued and running jobs of `kind` about any of `keys`.
    pub async fn live_jobs_about(&self, kind: &str, keys: &[&str]) -> Result<Vec<Job>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(crate::batch::MAX_PARAMETERS - 1) {
            let sql = format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND state IN ('queued', \
                 'running') AND key IN ({})",
                crate::batch::placeholders_from(2, chunk.len())
            );
            let rows: Vec<Job> = chunk
                .iter()
                .fold(sqlx::query_as(&sql).bind(kind), |q, key| q.bind(*key))
                .fetch_all(&self.reader)
                .await?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// Deletes jobs that finished before `finished_before`, except the newest finished job of
    /// each `(kind, key)`, so the last outcome of every subject stays readable (even while a
    /// new job of it is queued). Live jobs are never deleted. Answers how many were deleted.
    pub async fn prune_jobs(&self, finished_before: i64) -> Result<u64, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') \
                 AND finished_at < $1 \
                 AND EXISTS (SELECT 1 FROM jobs newer \
                     WHERE newer.kind = jobs.kind AND newer.key = jobs.key \
                         AND newer.state IN ('succeeded', 'failed', 'cancelled') \
                         AND (newer.created_at > jobs.created_at \
                             OR (newer.created_at = jobs.created_at AND newer.id > jobs.id)))",
        )
        .bind(finished_before)
        .execute(&self.writer)
        .await?;
        Ok(deleted.rows_affected())
    }
}

/// Queues, inside the transaction that ended them, a job for the work asked for while each of
/// `ended` ran, so that neither a crash nor a concurrent enqueuer can lose it. A job that
/// another enqueuer queued meanwhile for the same subject already carries such work.
/// They are due at `now`.
async fn queue_reruns(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ended: impl IntoIterator<Item = Ended>,
    now: i64,
) -> Result<(), StoreError> {
    for job in ended {
        let Some(payload) = job.rerun_payload else {
            continue;
        };
        insert_queued(
            &mut **tx,
            &job.kind,
            &job.key,
            &payload,
            job.max_attempts,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Queues a job due from `run_after`, unless a live job of the same `(kind, key)` exists: the
/// partial unique index decides, and `None` says the live job was there.
async fn insert_queued<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    kind: &str,
    key: &str,
    payload: &str,
    max_attempts: i64,
    run_after: i64,
) -> Result<Option<Job>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO jobs (kind, key, payload, state, max_attempts, run_after, created_at) \
         VALUES ($1, $2, $3, 'queued', $4, $5, $6) \
         ON CONFLICT (kind, key) WHERE state IN ('queued', 'running') DO NOTHING \
         RETURNING {JOB_COLUMNS}"
    ))
    .bind(kind)
    .bind(key)
    .bind(payload)
    .bind(max_attempts)
    .bind(run_after)
    .bind(now_millis())
    .fetch_optional(executor)
    .await?)
}

/// `$start, $start+1, …`, `count` placeholders for an `IN` list.
fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A lease as milliseconds, saturating far beyond any sensible lease.
fn millis(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}

/// A stored value no write of this module makes.
fn corrupt(error: UnknownJobState) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(Box::new(error)))
}

/// A worker's loop, for ever: claims a job of `kinds` and hands it to `run`, or when none is
/// due waits `poll` (or until `wake` is notified, which a process does when it queues a job),
/// and after a database error waits `poll` before trying again.
pub async fn work_on<F, Fut>(
    store: &Store,
    kinds: &[&str],
    worker: &str,
    lease: Duration,
    poll: Duration,
    wake: &tokio::sync::Notify,
    mut run: F,
) where
    F: FnMut(Job) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        match store.claim_job(kinds, worker, lease).await {
            Ok(Some(job)) => {
                let id = job.id;
                // A job whose work panics (a bug on hostile input) must not end the worker:
                // its lease runs out and it is taken again, or failed after its attempts.
                let outcome =
                    futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(run(job)));
                if outcome.await.is_err() {
                    tracing::error!(job = id, "a job's work panicked; the worker goes on");
                }
            }
            Ok(None) => {
                let _ = tokio::time::timeout(poll, wake.notified()).await;
            }
            Err(error) => {
                tracing::warn!(%error, ?kinds, "cannot look for jobs");
                tokio::time::sleep(poll).await;
            }
        }
    }
}

/// Holds a claimed job's lease while its work runs: it renews the lease with the work's
/// progress every second (sooner for short leases) until dropped. A cancel request, or the
/// lease lost to another worker, makes [`stopped`](LeaseKeeper::stopped) complete, so the
/// work can end; after a loss the worker must write nothing about the job.
pub struct LeaseKeeper {
    stop: CancellationToken,
    lost: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl LeaseKeeper {
    /// Starts renewing `worker`'s lease on job `job`, reporting `progress()` each time.
    pub fn start(
        store: &Store,
        job: i64,
        worker: &str,
        lease: Duration,
        progress: impl Fn() -> String + Send + 'static,
    ) -> LeaseKeeper {
        let stop = CancellationToken::new();
        let lost = Arc::new(AtomicBool::new(false));
        let (store, worker) = (store.clone(), worker.to_string());
        let (task_stop, task_lost) = (stop.clone(), lost.clone());
        // Every second at least, so that progress shown while a job runs moves smoothly; a
        // third of the lease at most, so that two renewals can fail before the lease runs out.
        let every = (lease / 3).clamp(Duration::from_millis(100), Duration::from_secs(1));
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match store
                    .renew_job(job, &worker, lease, Some(&progress()))
                    .await
                {
                    Ok(Lease::Held) => {}
                    Ok(Lease::CancelRequested) => task_stop.cancel(),
                    Ok(Lease::Lost) => {
                        task_lost.store(true, Ordering::SeqCst);
                        task_stop.cancel();
                        return;
                    }
                    Err(error) => tracing::warn!(%error, job, "cannot renew a job's lease"),
                }
            }
        });
        LeaseKeeper { stop, lost, task }
    }

    /// Completes once the job should stop: a cancel was requested or the lease was lost.
    pub async fn stopped(&self) {
        self.stop.cancelled().await
    }

    /// Whether another worker took the job over.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_as_stored() {
        for state in [
            JobState::Queued,
            JobState::Running,
            JobState::Succeeded,
            JobState::Failed,
            JobState::Cancelled,
        ] {
            assert_eq!(state.as_str().parse(), Ok(state));
        }
        assert_eq!(
            "done".parse::<JobState>(),
            Err(UnknownJobState("done".into()))
        );
    }

    #[test]
    fn placeholders_number_from_start() {
        assert_eq!(placeholders(4, 3), "$4, $5, $6");
        assert_eq!(placeholders(2, 1), "$2");
    }
}
