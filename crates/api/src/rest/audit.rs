//! Reading the audit log: the whole log for platform admins, one workspace's events for that
//! workspace's admins.

use axum::extract::State;
use berth_api_types::{AuditEvent, AuditFilter, ListParams, Page};
use berth_store::audit::AuditQuery;

use super::caller::Caller;
use super::error::{ApiError, ErrorResponses};
use super::input::{self, timestamp, Json, PageRequest, Query};
use crate::ApiState;

fn audit_view(event: berth_store::audit::AuditEvent) -> AuditEvent {
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

/// Audit events, newest first.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditFilter, ListParams),
    responses((status = 200, body = Page<AuditEvent>), ErrorResponses))]
pub async fn list_audit(
    State(state): State<ApiState>,
    caller: Caller,
    Query(filter): Query<AuditFilter>,
    Query(list): Query<ListParams>,
) -> Result<Json<Page<AuditEvent>>, ApiError> {
    let need = berth_access::rest::audit_log(&caller.subject, filter.workspace.is_some())?;
    if let (Some(need), Some(workspace)) = (need, &filter.workspace) {
        caller.workspace(&state, workspace, need).await?;
    }
    let page = PageRequest::of(&list)?;
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
    Ok(Json(input::fetched_page(
        events,
        total,
        page.limit,
        |e| format!("{}:{}", e.at, e.id),
        audit_view,
    )))
}
