//! The image list, image details, deletes and the image selector.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::{Client, Extra, List, Result, NO_BODY};

/// One row of a workspace's image list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRow {
    pub registry: String,
    pub space: String,
    pub repository: String,
    pub reference: String,
    pub visibility: String,
    pub sources: Vec<String>,
    pub tag_count: i64,
    pub latest_tag: Option<String>,
    pub pushed_at: Option<String>,
    pub size: Option<i64>,
    pub pulls: i64,
    pub description: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Filters and order of the image list; `None` leaves a filter off.
#[derive(Debug, Clone, Default)]
pub struct ImageQuery {
    pub q: Option<String>,
    pub tag: Option<String>,
    pub registry: Option<String>,
    pub space: Option<String>,
    pub visibility: Option<String>,
    pub source: Option<String>,
    pub sort: Option<String>,
    pub order: Option<String>,
}

impl ImageQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("q", &self.q),
            ("tag", &self.tag),
            ("registry", &self.registry),
            ("space", &self.space),
            ("visibility", &self.visibility),
            ("source", &self.source),
            ("sort", &self.sort),
            ("order", &self.order),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect()
    }
}

/// A repository's detail record: the list row plus detail-only fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepositoryDetail {
    #[serde(flatten)]
    pub row: ImageRow,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageTag {
    pub name: String,
    pub digest: String,
    pub pushed_at: String,
    pub pulled_at: Option<String>,
    pub size: i64,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Layer {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub created_by: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One artifact with its config, layers, history, children and referrers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Artifact {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub tags: Vec<String>,
    pub layers: Vec<Layer>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A deployable reference from the image selector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Selection {
    pub repository: String,
    pub tag: String,
    pub reference: String,
    pub pinned: String,
    pub needs_pull_secret: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SelectorAnswer {
    items: Vec<Selection>,
}

#[derive(Debug, Serialize)]
struct DescriptionPatch<'a> {
    description: &'a str,
}

impl Client {
    /// `GET /workspaces/{ws}/images`, at most `max` rows (following cursors).
    pub async fn images(
        &self,
        workspace: &str,
        query: &ImageQuery,
        max: Option<usize>,
    ) -> Result<List<ImageRow>> {
        self.list(&["workspaces", workspace, "images"], &query.pairs(), max)
            .await
    }

    /// `GET /workspaces/{ws}/registries/{reg}/repositories/{repo}`.
    pub async fn repository(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
    ) -> Result<RepositoryDetail> {
        let path = repository_path(workspace, registry, repository, &[]);
        self.send(Method::GET, &path, &[], NO_BODY).await
    }

    /// `PATCH …/repositories/{repo}` with a new description (Markdown).
    pub async fn set_description(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        description: &str,
    ) -> Result<RepositoryDetail> {
        let path = repository_path(workspace, registry, repository, &[]);
        self.send(
            Method::PATCH,
            &path,
            &[],
            Some(&DescriptionPatch { description }),
        )
        .await
    }

    /// `GET …/repositories/{repo}/tags`, optionally searched, at most `max` tags.
    pub async fn image_tags(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        search: Option<&str>,
        sort: Option<&str>,
        max: Option<usize>,
    ) -> Result<List<ImageTag>> {
        let path = repository_path(workspace, registry, repository, &["tags"]);
        let mut query = Vec::new();
        if let Some(search) = search {
            query.push(("q", search.to_string()));
        }
        if let Some(sort) = sort {
            query.push(("sort", sort.to_string()));
        }
        self.list(&path, &query, max).await
    }

    /// `GET …/repositories/{repo}/artifacts/{digest}`.
    pub async fn artifact(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<Artifact> {
        let path = repository_path(workspace, registry, repository, &["artifacts", digest]);
        self.send(Method::GET, &path, &[], NO_BODY).await
    }

    /// Deletes a repository; `confirm` must repeat its path.
    pub async fn delete_repository(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        confirm: &str,
    ) -> Result<()> {
        let path = repository_path(workspace, registry, repository, &[]);
        self.send(
            Method::DELETE,
            &path,
            &[("confirm", confirm.to_string())],
            NO_BODY,
        )
        .await
    }

    /// Deletes one tag.
    pub async fn delete_image_tag(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        tag: &str,
    ) -> Result<()> {
        let path = repository_path(workspace, registry, repository, &["tags", tag]);
        self.send(Method::DELETE, &path, &[], NO_BODY).await
    }

    /// Deletes an artifact with its tags.
    pub async fn delete_artifact(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<()> {
        let path = repository_path(workspace, registry, repository, &["artifacts", digest]);
        self.send(Method::DELETE, &path, &[], NO_BODY).await
    }

    /// `GET /workspaces/{ws}/selector?q=`.
    pub async fn select(
        &self,
        workspace: &str,
        search: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Selection>> {
        let mut query = Vec::new();
        if let Some(search) = search {
            query.push(("q", search.to_string()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        let answer: SelectorAnswer = self
            .send(
                Method::GET,
                &["workspaces", workspace, "selector"],
                &query,
                NO_BODY,
            )
            .await?;
        Ok(answer.items)
    }
}

/// The segments of a repository's path; the repository is one segment (its `/` encoded once).
fn repository_path<'a>(
    workspace: &'a str,
    registry: &'a str,
    repository: &'a str,
    rest: &[&'a str],
) -> Vec<&'a str> {
    let mut path = vec![
        "workspaces",
        workspace,
        "registries",
        registry,
        "repositories",
        repository,
    ];
    path.extend_from_slice(rest);
    path
}
