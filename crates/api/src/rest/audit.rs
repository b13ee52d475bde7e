//! Reading the audit log: the whole log for platform admins, one workspace's events for that
//! workspace's admins.

use axum::extract::State;
use berth_store::audit::AuditQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::{Caller, WorkspaceNeed};
use super::error::{ApiError, ErrorResponses};
use super::input::{self, timestamp, Json, ListParams, Page, Query};
use crate::ApiState;

#[derive(Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    pub at: String,
    pub actor: String,
    /// A dotted verb, e.g. `workspace.create`, `binding.set`, `manifest.push`.
    pub action: String,
    pub target: String,
    pub workspace: Option<String>,
    /// The client's address.
    pub source: Option<String>,
    /// Facts about the change (never secrets); the shape depends on the action.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<berth_store::audit::AuditEvent> for AuditEvent {
    fn from(event: berth_store::audit::AuditEvent) -> AuditEvent {
        AuditEvent {
            id: event.id,
            at: timestamp(event.at),
            actor: event.actor,
            action: event.action,
            target: event.target,
            workspace: event.workspace,
            source: event.source,
            detail: event
                .detail
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only events by this user or robot.
    pub actor: Option<String>,
    /// An action, or every action under a prefix ending in `.` (`space.`).
    pub action: Option<String>,
    /// RFC 3339; only events at or after it.
    pub since: Option<String>,
    /// Only this workspace's events; required unless the caller is a platform admin.
    pub workspace: Option<String>,
    /// Events per page, 1–500 (default 100). Paging fields are repeated here rather than
    /// flattened from [`ListParams`]: flattened query fields lose their number types.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Audit events, newest first.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, body = Page<AuditEvent>), ErrorResponses))]
pub async fn list_audit(
    State(state): State<ApiState>,
    caller: Caller,
    Query(filter): Query<AuditFilter>,
) -> Result<Json<Page<AuditEvent>>, ApiError> {
    match &filter.workspace {
        _ if caller.is_platform_admin() => {}
        Some(workspace) => {
            caller
                .workspace(&state, workspace, WorkspaceNeed::Admin)
                .await?;
        }
        None => {
            return Err(ApiError::Forbidden(
                "only platform admins may read the whole audit log; workspace admins pass workspace=<name>".into(),
            ))
        }
    }
    let page = ListParams {
        limit: filter.limit,
        cursor: filter.cursor.clone(),
    }
    .page()?;
    // The cursor is `<at>:<id>` of the last event of the previous page, the key the log is
    // ordered by, so the next page is everything older.
    let before =
        if page.after.is_empty() {
            None
        } else {
            let parsed = page
                .after
                .split_once(':')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.parse::<i64>().ok()?)));
            Some(parsed.ok_or_else(|| {
                ApiError::Invalid("cursor is not one this server handed out".into())
            })?)
        };
    let since = filter
        .since
        .as_deref()
        .map(|since| input::parse_timestamp("since", since))
        .transpose()?;
    let mut query = AuditQuery {
        actor: filter.actor.as_deref(),
        action: filter.action.as_deref(),
        workspace: filter.workspace.as_deref(),
        since,
        before,
        limit: page.limit + 1,
    };
    let events = state.store.audit_events(query.clone()).await?;
    query.before = None;
    let total = state.store.audit_total(&query).await?;
    Ok(Json(Page::from_fetched(
        events,
        total,
        page.limit,
        |e| format!("{}:{}", e.at, e.id),
        AuditEvent::from,
    )))
}
