//! The image list, image details, deletes, the image selector, and scans.

use berth_api_types::{
    ArtifactView, ConfirmParams, ImageFilters, Page, RepositoryPatch, RepositoryView, SbomParams,
    ScanLog, ScanRequested, SelectorAnswer, SelectorItem, SelectorParams, TagFilters, TagView,
    VulnerabilityFilters, VulnerabilityView,
};
use reqwest::Method;

use crate::{Client, Result, NO_BODY, NO_QUERY};

impl Client {
    /// `GET /workspaces/{ws}/images`, at most `max` rows (following cursors).
    pub async fn images(
        &self,
        workspace: &str,
        filters: &ImageFilters,
        max: Option<usize>,
    ) -> Result<Page<berth_api_types::ImageRow>> {
        self.list(&["workspaces", workspace, "images"], filters, max)
            .await
    }

    /// `GET /workspaces/{ws}/registries/{reg}/repositories/{repo}`.
    pub async fn repository(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
    ) -> Result<RepositoryView> {
        let path = repository_path(workspace, registry, repository, &[]);
        self.send(Method::GET, &path, NO_QUERY, NO_BODY).await
    }

    /// `PATCH …/repositories/{repo}` with a new description (Markdown).
    pub async fn set_description(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        description: &str,
    ) -> Result<RepositoryView> {
        let path = repository_path(workspace, registry, repository, &[]);
        let patch = RepositoryPatch {
            description: description.to_string(),
        };
        self.send(Method::PATCH, &path, NO_QUERY, Some(&patch))
            .await
    }

    /// `GET …/repositories/{repo}/tags`, optionally searched, at most `max` tags.
    pub async fn image_tags(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        filters: &TagFilters,
        max: Option<usize>,
    ) -> Result<Page<TagView>> {
        let path = repository_path(workspace, registry, repository, &["tags"]);
        self.list(&path, filters, max).await
    }

    /// `GET …/repositories/{repo}/artifacts/{digest}`.
    pub async fn artifact(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<ArtifactView> {
        let path = repository_path(workspace, registry, repository, &["artifacts", digest]);
        self.send(Method::GET, &path, NO_QUERY, NO_BODY).await
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
        let guard = ConfirmParams {
            confirm: Some(confirm.to_string()),
        };
        self.send(Method::DELETE, &path, &guard, NO_BODY).await
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
        self.send(Method::DELETE, &path, NO_QUERY, NO_BODY).await
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
        self.send(Method::DELETE, &path, NO_QUERY, NO_BODY).await
    }

    /// `GET /workspaces/{ws}/selector?q=`.
    pub async fn select(
        &self,
        workspace: &str,
        params: &SelectorParams,
    ) -> Result<Vec<SelectorItem>> {
        let path = ["workspaces", workspace, "selector"];
        let answer: SelectorAnswer = self.send(Method::GET, &path, params, NO_BODY).await?;
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

impl Client {
    /// `POST …/artifacts/{digest}/scan`: queues a scan.
    pub async fn start_scan(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<ScanRequested> {
        let path = repository_path(
            workspace,
            registry,
            repository,
            &["artifacts", digest, "scan"],
        );
        self.send(Method::POST, &path, NO_QUERY, NO_BODY).await
    }

    /// `DELETE …/artifacts/{digest}/scan`: stops the queued or running scan.
    pub async fn stop_scan(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<ScanRequested> {
        let path = repository_path(
            workspace,
            registry,
            repository,
            &["artifacts", digest, "scan"],
        );
        self.send(Method::DELETE, &path, NO_QUERY, NO_BODY).await
    }

    /// `GET …/artifacts/{digest}/vulnerabilities`, filtered, at most `max` of them.
    pub async fn vulnerabilities(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        digest: &str,
        filters: &VulnerabilityFilters,
        max: Option<usize>,
    ) -> Result<Page<VulnerabilityView>> {
        let path = repository_path(
            workspace,
            registry,
            repository,
            &["artifacts", digest, "vulnerabilities"],
        );
        self.list(&path, filters, max).await
    }

    /// `GET …/artifacts/{digest}/sbom?format=`: the document as the server wrote it.
    pub async fn sbom(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        digest: &str,
        params: &SbomParams,
    ) -> Result<serde_json::Value> {
        let path = repository_path(
            workspace,
            registry,
            repository,
            &["artifacts", digest, "sbom"],
        );
        self.send(Method::GET, &path, params, NO_BODY).await
    }

    /// `GET …/artifacts/{digest}/scan-log`.
    pub async fn scan_log(
        &self,
        workspace: &str,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<ScanLog> {
        let path = repository_path(
            workspace,
            registry,
            repository,
            &["artifacts", digest, "scan-log"],
        );
        self.send(Method::GET, &path, NO_QUERY, NO_BODY).await
    }
}
