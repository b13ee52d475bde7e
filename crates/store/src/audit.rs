//! The audit log: who changed what, when, and from where.

use crate::{now_millis, Store, StoreError};

/// One audit event as recorded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: i64,
    /// Milliseconds since the epoch.
    pub at: i64,
    /// The user or robot name, or `anonymous`.
    pub actor: String,
    /// A dotted verb such as `workspace.create`, `manifest.push`, `manifest.pull`.
    pub action: String,
    /// What was acted on, e.g. `hosted/team/app@sha256:…` or `workspace/team`.
    pub target: String,
    /// The workspace the event belongs to, when there is one, so its admins can read it.
    pub workspace: Option<String>,
    /// The client's address.
    pub source: Option<String>,
    /// Extra facts as a JSON object, never secrets.
    pub detail: Option<String>,
}

/// An event to record.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEvent<'a> {
    /// When it happened, in milliseconds since the epoch; `None` for now. Events recorded
    /// after the fact (buffered pulls) carry the time of their request, so the log orders
    /// them among the changes around them as they really happened.
    pub at: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub workspace: Option<&'a str>,
    pub source: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// An event that owns its text, for callers that buffer events and record them in batches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedAuditEvent {
    /// When it happened; `None` for the time it is recorded. See [`NewAuditEvent::at`].
    pub at: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub workspace: Option<String>,
    pub source: Option<String>,
    pub detail: Option<String>,
}

impl OwnedAuditEvent {
    pub fn borrow(&self) -> NewAuditEvent<'_> {
        NewAuditEvent {
            at: self.at,
            actor: &self.actor,
            action: &self.action,
            target: &self.target,
            workspace: self.workspace.as_deref(),
            source: self.source.as_deref(),
            detail: self.detail.as_deref(),
        }
    }
}

/// Filters for reading the log; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery<'a> {
    pub actor: Option<&'a str>,
    /// Matches the action exactly, or every action under a prefix ending in `.` (`space.`).
    pub action: Option<&'a str>,
    pub workspace: Option<&'a str>,
    /// Only events at or after this time (milliseconds).
    pub since: Option<i64>,
    /// Only events older than this one, as `(at, id)`: the cursor for the next page.
    pub before: Option<(i64, i64)>,
    pub limit: i64,
}

impl Store {
    /// Records an event in its own transaction.
    pub async fn record_audit(&self, event: NewAuditEvent<'_>) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await?;
        insert_audit(&mut conn, &event).await
    }

    /// Records the event of a change that already happened, such as a push: a failure is
    /// logged, not returned, because the change stands and its client must learn that it did.
    pub async fn record_audit_after(&self, event: &OwnedAuditEvent) {
        if let Err(error) = self.record_audits(std::slice::from_ref(event)).await {
            tracing::error!(error = %error, action = %event.action, target = %event.target, "recording an audit event failed");
        }
    }

    /// Records many events in one transaction: one commit however many there are.
    pub async fn record_audits(&self, events: &[OwnedAuditEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for event in events {
            insert_audit(&mut tx, &event.borrow()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Events newest first, by the time they happened (then by id, the order they were
    /// recorded in, for events of the same millisecond).
    pub async fn audit_events(&self, query: AuditQuery<'_>) -> Result<Vec<AuditEvent>, StoreError> {
        let sql = format!(
            "SELECT id, at, actor, action, target, workspace, source, detail FROM audit_events \
             WHERE {FILTER} AND (at < $6 OR (at = $6 AND id < $7)) \
             ORDER BY at DESC, id DESC LIMIT $8"
        );
        let (before_at, before_id) = query.before.unwrap_or((i64::MAX, i64::MAX));
        Ok(bind_filter(sqlx::query_as(&sql), &query)
            .bind(before_at)
            .bind(before_id)
            .bind(query.limit)
            .fetch_all(&self.reader)
            .await?)
    }

    /// How many events match `query`'s filters across all pages (cursor and limit ignored).
    pub async fn audit_total(&self, query: &AuditQuery<'_>) -> Result<i64, StoreError> {
        let sql = format!("SELECT COUNT(*) AS n FROM audit_events WHERE {FILTER}");
        let (total,): (i64,) = bind_filter(sqlx::query_as(&sql), query)
            .fetch_one(&self.reader)
            .await?;
        Ok(total)
    }
}

/// The filters of [`AuditQuery`] as SQL over `$1`…`$5`, bound by [`bind_filter`]. An empty
/// text parameter means "any".
/// A workspace filter matches the workspace that has that name now, by id, so the events of an
/// earlier workspace of the same name stay out.
const FILTER: &str = "($1 = '' OR actor = $1) AND ($2 = '' OR action = $2) \
     AND ($3 = '' OR substr(action, 1, length($3)) = $3) \
     AND ($4 = '' OR workspace_id = (SELECT id FROM workspaces WHERE name = $4)) AND at >= $5";

/// A query whose rows become `O`s: the event list and the total share [`bind_filter`].
type AnyQueryAs<'q, O> = sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>;

fn bind_filter<'q, O>(sql: AnyQueryAs<'q, O>, query: &AuditQuery<'_>) -> AnyQueryAs<'q, O> {
    // An action ending in `.` is a prefix (`space.` matches every space action).
    let (action_exact, action_prefix) = match query.action {
        Some(a) if a.ends_with('.') => ("", a),
        Some(a) => (a, ""),
        None => ("", ""),
    };
    sql.bind(query.actor.unwrap_or("").to_string())
        .bind(action_exact.to_string())
        .bind(action_prefix.to_string())
        .bind(query.workspace.unwrap_or("").to_string())
        .bind(query.since.unwrap_or(0))
}

/// Inserts an event on `conn`, so a change and its audit record commit together when `conn`
/// is the change's transaction.
pub async fn insert_audit(
    conn: &mut sqlx::AnyConnection,
    event: &NewAuditEvent<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (at, actor, action, target, workspace, workspace_id, source, detail) \
         VALUES ($1, $2, $3, $4, $5, (SELECT id FROM workspaces WHERE name = $5), $6, $7)",
    )
    .bind(event.at.unwrap_or_else(now_millis))
    .bind(if event.actor.is_empty() {
        "anonymous"
    } else {
        event.actor
    })
    .bind(event.action)
    .bind(event.target)
    .bind(event.workspace)
    .bind(event.source)
    .bind(event.detail)
    .execute(conn)
    .await?;
    Ok(())
}
