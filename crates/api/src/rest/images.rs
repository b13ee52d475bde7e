//! The workspace image list, repository and artifact details, deletes, and the image selector.
//!
//! The list and the selector read the in-memory index (`crate::image_list`), which applies the
//! image-list rule (`berth_access::list_sources`) per workspace; details read the catalog
//! tables.
//! A repository outside the workspace's list answers 404 exactly like a missing one.

use axum::extract::State;
use axum::http::StatusCode;
use berth_access::rest::{self, Refusal};
use berth_access::{Action, ListSources, Policy, SpaceFacts};
use berth_api_types::{
    ArtifactView, ChildView, ConfigView, ConfirmParams, HistoryView, ImageFilters, ImageRow,
    LayerView, ListParams, Page, PlatformView, PullCommands, ReferrerView, RepositoryPatch,
    RepositoryView, SelectorAnswer, SelectorItem, SelectorParams, TagFilters, TagView,
};
use berth_oci::{Digest, RepoName, Tag};
use berth_store::hosted::{ArtifactRecord, Platform};
use berth_store::registry_records::RegistryOwner;
use berth_store::repositories::{
    CatalogRepository, TagCursor, TagOrder, TagRecord, RECENT_TAGS_KEPT,
};
use berth_store::tenancy::WorkspaceRecord;
use serde_json::json;

use super::caller::{Caller, WorkspaceNeed};
use super::error::{ApiError, ErrorResponses};
use super::input::{self, decode_cursor, encode_cursor, timestamp, Json, Path, Query};
use crate::image_list::index::{
    ListCursor, ListQuery, ListRow, RecentTags, SelectableTag, SortKey, SourceFilter, SpaceEntry,
    Visibility,
};
use crate::ApiState;

/// Rows of the image list per page when the request does not say.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = input::MAX_LIMIT;

// ---- helpers -------------------------------------------------------------------------------

fn platform_view(platform: &Platform) -> PlatformView {
    PlatformView {
        os: platform.os.clone(),
        architecture: platform.architecture.clone(),
        variant: platform.variant.clone(),
    }
}

fn source_names(sources: ListSources) -> Vec<String> {
    [
        (sources.public, "public"),
        (sources.bound, "bound"),
        (sources.workspace_registry, "workspace-registry"),
    ]
    .into_iter()
    .filter(|(yes, _)| *yes)
    .map(|(_, name)| name.to_string())
    .collect()
}

fn image_row(row: ListRow) -> ImageRow {
    ImageRow {
        reference: format!("{}/{}", row.space.host, row.repository),
        registry: row.space.registry_name.to_string(),
        registry_kind: row.space.registry_kind.to_string(),
        space: row.space.name.to_string(),
        repository: row.repository,
        visibility: visibility(&row.space).into(),
        sources: source_names(row.sources),
        tag_count: row.tag_count,
        latest_tag: row.latest_tag,
        pushed_at: row.pushed_at.map(timestamp),
        size: row.size,
        pulls: row.pulls,
        description: row.description,
        scan: None,
    }
}

fn visibility(space: &SpaceEntry) -> &'static str {
    if space.public {
        "public"
    } else {
        "private"
    }
}

fn tag_view(tag: TagRecord) -> TagView {
    TagView {
        platforms: tag.platforms.iter().map(platform_view).collect(),
        name: tag.name,
        digest: tag.digest,
        media_type: tag.media_type,
        artifact_type: tag.artifact_type,
        pushed_at: tag.pushed_at_known.then(|| timestamp(tag.pushed_at)),
        pulled_at: tag.pulled_at.map(timestamp),
        size: tag.size,
        pushed_by: tag.pushed_by,
        pulls: tag.pull_count,
        scan: None,
    }
}

/// A search parameter, trimmed and lower-cased; empty means none.
fn needle(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_lowercase)
}

fn sort_name(sort: SortKey) -> &'static str {
    match sort {
        SortKey::Name => "name",
        SortKey::PushedAt => "pushed_at",
        SortKey::Pulls => "pulls",
        SortKey::Size => "size",
        SortKey::Severity => "severity",
    }
}

/// Cursors name their sort and order, so one from another ordering is refused instead of
/// silently starting somewhere odd.
fn list_cursor_text(sort: SortKey, descending: bool, cursor: &ListCursor) -> String {
    let order = if descending { "desc" } else { "asc" };
    format!(
        "{}\n{order}\n{}\n{}\n{}",
        sort_name(sort),
        cursor.value,
        cursor.id,
        cursor.name
    )
}

fn parse_list_cursor(text: &str, sort: SortKey, descending: bool) -> Result<ListCursor, ApiError> {
    let bad = || ApiError::Invalid("cursor is not one this server handed out".into());
    let mismatch = || {
        ApiError::Invalid(
            "cursor belongs to another sort or order; start from the first page".into(),
        )
    };
    let mut parts = text.splitn(5, '\n');
    let (Some(s), Some(o), Some(value), Some(id), Some(name)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad());
    };
    if s != sort_name(sort) || o != if descending { "desc" } else { "asc" } {
        return Err(mismatch());
    }
    Ok(ListCursor {
        value: value.parse().map_err(|_| bad())?,
        id: id.parse().map_err(|_| bad())?,
        name: name.to_string(),
    })
}

/// A registry the workspace may address: a platform registry (or `hosted`) or one of its own.
async fn registry_id(
    state: &ApiState,
    workspace: &WorkspaceRecord,
    name: &str,
) -> Result<(i64, String), ApiError> {
    if let Some(registry) = state.store.registry(RegistryOwner::Platform, name).await? {
        return Ok((registry.id, registry.kind));
    }
    match state
        .store
        .registry(RegistryOwner::Workspace(workspace.id), name)
        .await?
    {
        Some(registry) => Ok((registry.id, registry.kind)),
        None => Err(ApiError::not_found(format_args!("registry `{name}`"))),
    }
}

/// A repository in the workspace's list, with its space and why the workspace sees it.
pub(crate) struct Located {
    pub(crate) workspace: WorkspaceRecord,
    pub(crate) registry_name: String,
    pub(crate) registry_kind: String,
    pub(crate) repository: CatalogRepository,
    pub(crate) space: SpaceEntry,
    pub(crate) sources: ListSources,
}

impl Located {
    pub(crate) fn target(&self) -> String {
        format!("{}/{}", self.registry_name, self.repository.name)
    }

    pub(crate) fn hosted_name(&self) -> Result<RepoName, ApiError> {
        RepoName::parse(&self.repository.name)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored repository name: {e}")))
    }

    /// The repository's space as the access rule sees it.
    fn space_facts(&self) -> SpaceFacts {
        SpaceFacts {
            id: self.space.id,
            public: self.space.public,
            bound: self.space.bound.clone(),
        }
    }

    /// What the caller may do to this repository (push rights edit the description, delete
    /// rights delete), as `berth_access::rest` decides.
    fn may(&self, caller: &Caller, action: Action) -> bool {
        rest::repository_actions(
            &caller.subject,
            &self.space_facts(),
            self.space.registry_owner,
        )
        .contains(&action)
    }

    pub(crate) fn require(
        &self,
        caller: &Caller,
        action: Action,
        what: &str,
    ) -> Result<(), ApiError> {
        let decision = rest::repository_change(
            &caller.subject,
            &self.space_facts(),
            self.space.registry_owner,
            action,
        );
        match decision {
            Ok(()) => Ok(()),
            Err(Refusal::NeedsPush | Refusal::NeedsDelete) => Err(ApiError::Forbidden(format!(
                "you may not {what} `{}`: that needs {} rights in space `{}`",
                self.target(),
                action.as_str(),
                self.space.name
            ))),
            Err(other) => Err(other.into()),
        }
    }

    /// Deleting images of external registries happens in those registries.
    /// The catalog's record of artifact `digest` of this repository; 404 when there is none.
    pub(crate) async fn artifact(
        &self,
        state: &ApiState,
        digest: &Digest,
    ) -> Result<ArtifactRecord, ApiError> {
        state
            .store
            .artifact_in(self.space.registry_id, &self.repository.name, digest)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format_args!("artifact {digest} of `{}`", self.target()))
            })
    }

    pub(crate) fn require_hosted(&self) -> Result<(), ApiError> {
        if self.registry_kind == "hosted" {
            return Ok(());
        }
        Err(ApiError::Conflict(format!(
            "`{}` is in external registry `{}`; delete it there",
            self.repository.name, self.registry_name
        )))
    }
}

pub(crate) async fn locate(
    state: &ApiState,
    caller: &Caller,
    workspace: &str,
    registry: &str,
    repository: &str,
) -> Result<Located, ApiError> {
    let workspace = caller
        .workspace(state, workspace, WorkspaceNeed::List)
        .await?;
    let (registry_id, registry_kind) = registry_id(state, &workspace, registry).await?;
    let not_found = || ApiError::not_found(format_args!("repository `{registry}/{repository}`"));
    let found = state
        .store
        .catalog_repository(registry_id, repository)
        .await?
        .filter(|r| r.artifact_count > 0)
        .ok_or_else(not_found)?;
    let index = state.image_list.read().await?;
    let (space, sources) = index
        .visible_space(workspace.id, registry_id, berth_oci::space_of(&found.name))
        // A space-limited robot's list holds its space alone, and so do the details it reads.
        .filter(|(space, _)| rest::within_limit(&caller.subject, space.id))
        .ok_or_else(not_found)?;
    let space = space.clone();
    drop(index);
    Ok(Located {
        workspace,
        registry_name: registry.to_string(),
        registry_kind,
        repository: found,
        space,
        sources,
    })
}

fn repository_row(located: &Located) -> ImageRow {
    let repository = &located.repository;
    ImageRow {
        registry: located.registry_name.clone(),
        registry_kind: located.registry_kind.clone(),
        space: located.space.name.to_string(),
        repository: repository.name.clone(),
        reference: format!("{}/{}", located.space.host, repository.name),
        visibility: visibility(&located.space).into(),
        sources: source_names(located.sources),
        tag_count: repository.tag_count,
        latest_tag: repository.latest_tag.clone(),
        pushed_at: repository.pushed_at.map(timestamp),
        size: repository.latest_size,
        pulls: repository.pulls,
        description: repository.description.clone(),
        scan: None,
    }
}

// ---- handlers ------------------------------------------------------------------------------

/// The workspace's image list: every repository the visibility rule admits, from the hosted
/// registry, platform registries and the workspace's own registries. Answered from the
/// catalog, never by calling a registry.
#[utoipa::path(get, path = "/workspaces/{ws}/images", tag = "images",
    params(("ws" = String, Path, description = "Workspace name"), ImageFilters, ListParams),
    responses((status = 200, body = Page<ImageRow>), ErrorResponses))]
pub async fn list_images(
    State(state): State<ApiState>,
    caller: Caller,
    Path(ws): Path<String>,
    Query(params): Query<ImageFilters>,
    Query(list): Query<ListParams>,
) -> Result<Json<Page<ImageRow>>, ApiError> {
    let workspace = caller.workspace(&state, &ws, WorkspaceNeed::List).await?;
    let sort = match params.sort.as_deref().unwrap_or("name") {
        "name" => SortKey::Name,
        "pushed_at" => SortKey::PushedAt,
        "pulls" => SortKey::Pulls,
        "size" => SortKey::Size,
        "severity" => SortKey::Severity,
        other => {
            return Err(ApiError::Invalid(format!(
                "sort must be name, pushed_at, pulls, size or severity, not `{other}`"
            )))
        }
    };
    let min_severity = match params.scan.as_deref() {
        None | Some("") => None,
        Some(name) => Some(berth_scanner::severity_rank(name).ok_or_else(|| {
            ApiError::Invalid(format!(
                "scan must be critical, high, medium, low, none or unknown, not `{name}`"
            ))
        })?),
    };
    let descending = match params.order.as_deref() {
        None => sort != SortKey::Name,
        Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "order must be asc or desc, not `{other}`"
            )))
        }
    };
    let visibility = match params.visibility.as_deref() {
        None | Some("") => None,
        Some("public") => Some(Visibility::Public),
        Some("private") => Some(Visibility::Private),
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "visibility must be public or private, not `{other}`"
            )))
        }
    };
    let source = match params.source.as_deref() {
        None | Some("") => None,
        Some("public") => Some(SourceFilter::Public),
        Some("bound") => Some(SourceFilter::Bound),
        Some("workspace-registry") => Some(SourceFilter::WorkspaceRegistry),
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "source must be public, bound or workspace-registry, not `{other}`"
            )))
        }
    };
    let limit = list.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let after = match &list.cursor {
        None => None,
        Some(cursor) => Some(parse_list_cursor(
            &decode_cursor(cursor)?,
            sort,
            descending,
        )?),
    };
    let q = needle(&params.q);
    let tag = needle(&params.tag);
    let query = ListQuery {
        workspace: workspace.id,
        q: q.as_deref(),
        tag: tag.as_deref(),
        registry: params.registry.as_deref().filter(|v| !v.is_empty()),
        space: params.space.as_deref().filter(|v| !v.is_empty()),
        only_space: caller.subject.limited_space(),
        visibility,
        source,
        min_severity,
        sort,
        descending,
        after,
        limit: limit as usize,
    };
    let page = state.image_list.read().await?.list(&query);
    let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    let mut items: Vec<ImageRow> = page.rows.into_iter().map(image_row).collect();
    add_row_scans(&state, &ids, &mut items).await?;
    Ok(Json(Page {
        next_cursor: page
            .next
            .map(|c| encode_cursor(&list_cursor_text(sort, descending, &c))),
        total: page.total as i64,
        items,
    }))
}

/// Sets each row's `scan` to the scan of what its latest tag points at; `repositories` are
/// the rows' repository ids, in order.
async fn add_row_scans(
    state: &ApiState,
    repositories: &[i64],
    rows: &mut [ImageRow],
) -> Result<(), ApiError> {
    let digests: std::collections::HashMap<i64, String> = state
        .store
        .latest_tag_digests(repositories)
        .await?
        .into_iter()
        .collect();
    let wanted: Vec<&str> = digests.values().map(String::as_str).collect();
    let scans = state.scans.summaries(&wanted).await?;
    for (id, row) in repositories.iter().zip(rows.iter_mut()) {
        row.scan = digests.get(id).and_then(|d| scans.get(d)).cloned();
    }
    Ok(())
}

/// One repository of the workspace's list.
#[utoipa::path(get, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}", tag = "images",
    params(("ws" = String, Path, description = "Workspace name"),
        ("reg" = String, Path, description = "Registry name (`hosted`, a platform registry, or the workspace's own)"),
        ("repo" = String, Path, description = "Repository path, percent-encoded once (`team%2Fapi`)")),
    responses((status = 200, body = RepositoryView), ErrorResponses))]
pub async fn get_repository(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo)): Path<(String, String, String)>,
) -> Result<Json<RepositoryView>, ApiError> {
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    Ok(Json(repository_view(&state, &caller, &located).await?))
}

async fn repository_view(
    state: &ApiState,
    caller: &Caller,
    located: &Located,
) -> Result<RepositoryView, ApiError> {
    let mut row = repository_row(located);
    add_row_scans(
        state,
        &[located.repository.id],
        std::slice::from_mut(&mut row),
    )
    .await?;
    let mut permissions = Vec::new();
    if located.may(caller, Action::Push) {
        // Push rights edit the description and start or stop scans.
        permissions.push("edit".to_string());
        permissions.push("scan".to_string());
    }
    if located.may(caller, Action::Delete) && located.registry_kind == "hosted" {
        permissions.push("delete".to_string());
    }
    Ok(RepositoryView {
        pull_command: row
            .latest_tag
            .as_ref()
            .map(|tag| format!("docker pull {}:{tag}", row.reference)),
        created_at: timestamp(located.repository.created_at),
        artifact_count: located.repository.artifact_count,
        permissions,
        description_html: description_html(&row.description),
        row,
    })
}

/// Renders a description to HTML the console may insert as it is. Raw HTML in the Markdown
/// becomes text (so `<script>` shows rather than runs), and ammonia then removes anything
/// unsafe that Markdown itself can produce: `javascript:` and relative links, and images, which
/// the console's content policy would not load anyway and which could track readers elsewhere.
fn description_html(markdown: &str) -> String {
    use pulldown_cmark::{html, Event, Options, Parser};
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut rendered = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut rendered, events);
    ammonia::Builder::default()
        .rm_tags(["img"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .clean(&rendered)
        .to_string()
}

/// Changes a repository's description (Markdown). Editors and admins of a workspace bound to
/// its space (or owning its registry), and platform admins.
#[utoipa::path(patch, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}", tag = "images",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path)),
    request_body = RepositoryPatch,
    responses((status = 200, body = RepositoryView), ErrorResponses))]
pub async fn update_repository(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo)): Path<(String, String, String)>,
    Json(patch): Json<RepositoryPatch>,
) -> Result<Json<RepositoryView>, ApiError> {
    if patch.description.len() > 64 * 1024 {
        return Err(ApiError::Invalid(
            "description must be at most 64 KiB".into(),
        ));
    }
    let mut located = locate(&state, &caller, &ws, &reg, &repo).await?;
    located.require(&caller, Action::Push, "edit")?;
    let event = caller.event(
        "repository.update",
        located.target(),
        Some(&located.workspace.name),
        json!({"description_bytes": patch.description.len()}),
    );
    state
        .store
        .set_repository_description(located.repository.id, &patch.description, &event.borrow())
        .await?;
    located.repository.description = patch.description;
    Ok(Json(repository_view(&state, &caller, &located).await?))
}

/// Deletes a repository with all its tags and artifacts. `confirm` must repeat the path.
#[utoipa::path(delete, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}", tag = "images",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), ConfirmParams),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
pub async fn delete_repository(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo)): Path<(String, String, String)>,
    Query(params): Query<ConfirmParams>,
) -> Result<StatusCode, ApiError> {
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    located.require(&caller, Action::Delete, "delete")?;
    located.require_hosted()?;
    if params.confirm.as_deref() != Some(located.repository.name.as_str()) {
        return Err(ApiError::Invalid(format!(
            "to delete the repository and all its tags, pass confirm={}",
            located.repository.name
        )));
    }
    let event = caller.event(
        "repository.delete",
        located.target(),
        Some(&located.workspace.name),
        json!({"artifacts": located.repository.artifact_count, "tags": located.repository.tag_count}),
    );
    state
        .store
        .delete_repository(located.repository.id, &event.borrow())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of a repository's tags, searchable, newest first by default.
#[utoipa::path(get, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}/tags", tag = "images",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), TagFilters, ListParams),
    responses((status = 200, body = Page<TagView>), ErrorResponses))]
pub async fn list_tags(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo)): Path<(String, String, String)>,
    Query(params): Query<TagFilters>,
    Query(list): Query<ListParams>,
) -> Result<Json<Page<TagView>>, ApiError> {
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    let order = match params.sort.as_deref().unwrap_or("pushed_at") {
        "pushed_at" => TagOrder::NewestFirst,
        "name" => TagOrder::Name,
        other => {
            return Err(ApiError::Invalid(format!(
                "sort must be pushed_at or name, not `{other}`"
            )))
        }
    };
    let limit = list.limit.unwrap_or(input::DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let cursor = match &list.cursor {
        None => None,
        Some(text) => {
            let text = decode_cursor(text)?;
            let (pushed_at, name) = text
                .split_once('\n')
                .and_then(|(p, n)| Some((p.parse().ok()?, n.to_string())))
                .ok_or_else(|| {
                    ApiError::Invalid("cursor is not one this server handed out".into())
                })?;
            Some(TagCursor { pushed_at, name })
        }
    };
    let search = needle(&params.q);
    let (tags, total) = state
        .store
        .tag_page(
            located.repository.id,
            search.as_deref(),
            order,
            cursor.as_ref(),
            limit + 1,
        )
        .await?;
    let mut page = input::fetched_page(
        tags,
        total,
        limit,
        |t| format!("{}\n{}", t.pushed_at, t.name),
        tag_view,
    );
    let digests: Vec<&str> = page.items.iter().map(|t| t.digest.as_str()).collect();
    let scans = state.scans.summaries(&digests).await?;
    for tag in &mut page.items {
        // Several tags may name one digest, and each shows its scan.
        tag.scan = scans.get(&tag.digest).cloned();
    }
    Ok(Json(page))
}

/// Removes one tag; the artifact stays.
#[utoipa::path(delete, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}/tags/{tag}", tag = "images",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), ("tag" = String, Path)),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
pub async fn delete_tag(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo, tag)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    located.require(&caller, Action::Delete, "delete tags of")?;
    located.require_hosted()?;
    let tag = Tag::parse(&tag).map_err(|e| ApiError::Invalid(format!("tag: {e}")))?;
    let event = caller.event(
        "tag.delete",
        format!("{}:{tag}", located.target()),
        Some(&located.workspace.name),
        serde_json::Value::Null,
    );
    let deleted = state
        .store
        .delete_tag(&located.hosted_name()?, &tag, Some(&event.borrow()))
        .await?;
    if !deleted {
        return Err(ApiError::not_found(format_args!(
            "tag `{tag}` of `{}`",
            located.target()
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn parse_digest(text: &str) -> Result<Digest, ApiError> {
    Digest::parse(text).map_err(|e| ApiError::Invalid(format!("digest: {e}")))
}

/// One artifact: manifest, config, layers with their history lines, children, referrers.
#[utoipa::path(get, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}/artifacts/{digest}", tag = "images",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), ("digest" = String, Path)),
    responses((status = 200, body = ArtifactView), ErrorResponses))]
pub async fn get_artifact(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo, digest)): Path<(String, String, String, String)>,
) -> Result<Json<ArtifactView>, ApiError> {
    let digest = parse_digest(&digest)?;
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    let registry_id = located.space.registry_id;
    let artifact = located.artifact(&state, &digest).await?;
    let referrers = state
        .store
        .referrers_in(registry_id, &located.repository.name, &digest, None)
        .await?;
    let manifest = state
        .store
        .artifact_manifest(artifact.id)
        .await?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(serde_json::Value::Null);
    let reference = format!("{}/{}", located.space.host, located.repository.name);
    let scan = state.scans.summary(&artifact.digest).await?;
    let mut view = artifact_view(&located, artifact, referrers, manifest, &reference);
    view.scan = Some(scan);
    Ok(Json(view))
}

fn artifact_view(
    located: &Located,
    artifact: ArtifactRecord,
    referrers: Vec<berth_store::hosted::Referrer>,
    manifest: serde_json::Value,
    reference: &str,
) -> ArtifactView {
    let config = artifact.config_json.as_deref().map(|text| {
        let fields: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let list = |key: &str| -> Vec<String> {
            fields[key]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        ConfigView {
            created: artifact.created.clone(),
            author: artifact.author.clone(),
            os: artifact.platform.os.clone(),
            architecture: artifact.platform.architecture.clone(),
            variant: artifact.platform.variant.clone(),
            env: list("env"),
            entrypoint: list("entrypoint"),
            cmd: list("cmd"),
            working_dir: fields["working_dir"].as_str().map(str::to_string),
            // The config keeps ports as JSON object keys, which the parser collects in hash
            // order; sorted, they are stable and in the order `docker`/`skopeo` print them.
            exposed_ports: {
                let mut ports = list("exposed_ports");
                ports.sort();
                ports
            },
            labels: fields["labels"].as_object().cloned().unwrap_or_default(),
        }
    });
    let platforms = if artifact.children.is_empty() {
        let own = &artifact.platform;
        if own.os.is_some() || own.architecture.is_some() {
            vec![platform_view(own)]
        } else {
            Vec::new()
        }
    } else {
        artifact
            .children
            .iter()
            .map(|c| platform_view(&c.platform))
            .collect()
    };
    ArtifactView {
        registry: located.registry_name.clone(),
        repository: located.repository.name.clone(),
        pull_command: PullCommands {
            by_tag: artifact
                .tags
                .first()
                .map(|tag| format!("docker pull {reference}:{tag}")),
            by_digest: format!("docker pull {reference}@{}", artifact.digest),
        },
        digest: artifact.digest,
        media_type: artifact.media_type,
        artifact_type: artifact.artifact_type,
        size: artifact.size,
        platforms,
        children: artifact
            .children
            .iter()
            .map(|c| ChildView {
                digest: c.digest.clone(),
                media_type: c.media_type.clone(),
                size: c.size,
                platform: platform_view(&c.platform),
            })
            .collect(),
        config,
        layers: artifact
            .layers
            .into_iter()
            .map(|l| LayerView {
                digest: l.digest,
                media_type: l.media_type,
                size: l.size,
                created_by: l.created_by,
                created: l.created,
            })
            .collect(),
        history: artifact
            .history
            .into_iter()
            .map(|h| HistoryView {
                created: h.created,
                created_by: h.created_by,
                author: h.author,
                comment: h.comment,
                empty_layer: h.empty_layer,
            })
            .collect(),
        tags: artifact.tags,
        pushed_by: artifact.pushed_by,
        pushed_at: artifact
            .pushed_at_known
            .then(|| timestamp(artifact.pushed_at)),
        pull_count: artifact.pull_count,
        pulled_at: artifact.pulled_at.map(timestamp),
        referrers: referrers
            .into_iter()
            .map(|r| ReferrerView {
                digest: r.digest,
                media_type: r.media_type,
                artifact_type: r.artifact_type,
                size: r.size,
            })
            .collect(),
        manifest,
        scan: None,
    }
}

/// Deletes an artifact and every tag pointing at it.
#[utoipa::path(delete, path = "/workspaces/{ws}/registries/{reg}/repositories/{repo}/artifacts/{digest}", tag = "images",
    params(("ws" = String, Path), ("reg" = String, Path), ("repo" = String, Path), ("digest" = String, Path)),
    responses((status = 204, description = "Deleted"), ErrorResponses))]
pub async fn delete_artifact(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, repo, digest)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let digest = parse_digest(&digest)?;
    let located = locate(&state, &caller, &ws, &reg, &repo).await?;
    located.require(&caller, Action::Delete, "delete artifacts of")?;
    located.require_hosted()?;
    let event = caller.event(
        "manifest.delete",
        format!("{}@{digest}", located.target()),
        Some(&located.workspace.name),
        serde_json::Value::Null,
    );
    let deleted = state
        .store
        .delete_manifest(&located.hosted_name()?, &digest, Some(&event.borrow()))
        .await?;
    if !deleted {
        return Err(ApiError::not_found(format_args!(
            "artifact {digest} of `{}`",
            located.target()
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Deployable references for the workspace: the newest tags of the best-matching
/// repositories, each by tag and pinned by digest, with platforms and whether pulling needs
/// a pull secret.
#[utoipa::path(get, path = "/workspaces/{ws}/selector", tag = "images",
    params(("ws" = String, Path, description = "Workspace name"), SelectorParams),
    responses((status = 200, body = SelectorAnswer), ErrorResponses))]
pub async fn selector(
    State(state): State<ApiState>,
    caller: Caller,
    Path(ws): Path<String>,
    Query(params): Query<SelectorParams>,
) -> Result<Json<SelectorAnswer>, ApiError> {
    let workspace = caller.workspace(&state, &ws, WorkspaceNeed::List).await?;
    let limit = params.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::Invalid("limit must be between 1 and 100".into()));
    }
    // `app:1.2` matches repositories containing `app` with tags containing `1.2`.
    let q = needle(&params.q);
    let (repository_part, tag_part) = match q.as_deref().and_then(|q| q.rsplit_once(':')) {
        Some((repository, tag)) => (
            Some(repository).filter(|r| !r.is_empty()),
            Some(tag).filter(|t| !t.is_empty()),
        ),
        None => (q.as_deref(), None),
    };
    let per_repository = RECENT_TAGS_KEPT;
    let repositories = limit.div_ceil(per_repository).max(1);
    let list = ListQuery {
        workspace: workspace.id,
        q: repository_part,
        tag: tag_part,
        registry: None,
        space: None,
        only_space: caller.subject.limited_space(),
        visibility: None,
        source: None,
        min_severity: None,
        sort: SortKey::PushedAt,
        descending: true,
        after: None,
        limit: repositories,
    };
    // The index holds each repository's newest tags, so most selections never reach the
    // store; only a tag filter matching older tags of a long repository asks it.
    let mut picks: Vec<(ListRow, Option<Vec<SelectableTag>>)> = {
        let index = state.image_list.read().await?;
        index
            .list(&list)
            .rows
            .into_iter()
            .map(|row| {
                let known = match index.recent_tags(row.id, tag_part, per_repository) {
                    Some(RecentTags::Known(tags)) => Some(tags),
                    Some(RecentTags::AskStore) | None => None,
                };
                (row, known)
            })
            .collect()
    };
    let unknown: Vec<i64> = picks
        .iter()
        .filter(|(_, known)| known.is_none())
        .map(|(row, _)| row.id)
        .collect();
    if !unknown.is_empty() {
        let found = state
            .store
            .recent_tags(&unknown, tag_part, per_repository as i64)
            .await?;
        for (row, known) in picks.iter_mut().filter(|(_, known)| known.is_none()) {
            let tags = found
                .iter()
                .filter(|(id, _)| *id == row.id)
                .map(|(_, tag)| SelectableTag {
                    name: tag.name.as_str().into(),
                    digest: tag.digest.clone(),
                    pushed_at: tag.pushed_at_known.then_some(tag.pushed_at),
                    size: tag.size,
                    platforms: tag.platforms.clone().into(),
                })
                .collect();
            *known = Some(tags);
        }
    }
    let anonymous_pull = state.store.access_settings().await?.anonymous_pull;
    let mut items = Vec::new();
    for (row, tags) in picks {
        let host = &row.space.host;
        // Berth's own anonymous-pull setting governs what Berth serves (`hosted` and the
        // registries it proxies); another external registry is taken to serve its public
        // spaces to anyone.
        let served_by_berth = &*row.space.registry_kind == "hosted"
            || berth_store::facts::is_proxied(&row.space.registry_kind, row.space.registry_owner);
        let policy = if served_by_berth {
            Policy { anonymous_pull }
        } else {
            Policy::default()
        };
        let space = SpaceFacts {
            id: row.space.id,
            public: row.space.public,
            bound: Vec::new(),
        };
        let needs_pull_secret = !berth_access::anonymous_may_pull(policy, &space);
        for tag in tags.unwrap_or_default() {
            items.push(SelectorItem {
                registry: row.space.registry_name.to_string(),
                repository: row.repository.clone(),
                tag: tag.name.to_string(),
                reference: format!("{host}/{}:{}", row.repository, tag.name),
                pinned: format!("{host}/{}@{}", row.repository, tag.digest),
                platforms: tag.platforms.iter().map(platform_view).collect(),
                digest: tag.digest,
                needs_pull_secret,
                pushed_at: tag.pushed_at.map(timestamp),
                size: tag.size,
                scan: None,
            });
        }
    }
    items.truncate(limit);
    let digests: Vec<&str> = items.iter().map(|i| i.digest.as_str()).collect();
    let scans = state.scans.summaries(&digests).await?;
    for item in &mut items {
        item.scan = scans.get(&item.digest).cloned();
    }
    Ok(Json(SelectorAnswer { items }))
}
