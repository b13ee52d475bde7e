//! Harbor (registry kind `harbor`): its REST API v2.0 under `/api/v2.0/` for what the OCI
//! distribution API does not tell (projects and whether they are public, repositories with
//! their pull counts, artifacts with tags, platform and scan overview, robot accounts), and the
//! OCI distribution API that Harbor serves under `/v2/` for the content itself.
//!
//! Both APIs go through one HTTP core: REST requests are sent by the session of the inner
//! [`DistributionClient`], so the registry's timeouts, retries and concurrency limit cover
//! `/v2/` and `/api/v2.0/` together.
//!
//! Authentication differs between the two. `/v2/` challenges, and the session answers the
//! challenge through Harbor's token service. The REST API never challenges: a request without
//! credentials, and a request with a wrong password too, is served as anonymous and sees
//! public projects only. So REST requests carry HTTP Basic from the first request on, and
//! before the first REST request the client asks `GET /api/v2.0/users/current` once, which is
//! where Harbor tells a wrong password (HTTP 401) from a login. Without that, a mistyped
//! password would quietly list the public projects instead of failing.
//!
//! Names in paths: a project name is one path segment, percent-encoded once; a repository
//! name, which may hold `/`, is percent-encoded twice (`a/b` → `a%252Fb`), because Harbor's
//! router decodes the path once before matching it and decodes the repository name again
//! itself.
//!
//! Robot secrets live in [`Secret`](crate::harbor::Secret), whose `Debug` does not show them;
//! neither they nor the password reach an error message or a log.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use berth_oci::{Digest, RepoName};
use futures::{StreamExt, TryStreamExt};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use url::Url;

use crate::auth::Session;
use crate::distribution::DistributionClient;
use crate::error::RemoteError;
use crate::headers::next_link;
use crate::http::{error_detail, Answer};
use crate::{
    Authentication, BlobStream, CheckReport, Descriptor, Endpoint, FetchedManifest, RemoteRegistry,
    Settings,
};

/// Where the REST API lives below the registry's base URL (the spec's `basePath`).
const API_PATH: &str = "api/v2.0/";
/// The spec's maximum for `page_size`; Harbor refuses larger pages.
const MAX_PAGE_SIZE: usize = 100;
/// A page of at most 100 artifacts with their scan overviews is far below this.
const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;
/// Single objects (system info, the current user, a created robot) are small.
const MAX_OBJECT_BYTES: u64 = 1024 * 1024;
/// Error bodies are read this far for their message.
const MAX_ERROR_BYTES: u64 = 16 * 1024;
/// More pages than this is a server paging wrongly rather than a big Harbor.
const MAX_PAGES: usize = 100_000;
/// The scan report types whose summaries the artifact listing should include (the spec's
/// default for `X-Accept-Vulnerabilities`, sent explicitly so that a Harbor with another
/// default answers the same).
const ACCEPT_VULNERABILITIES: &str = "application/vnd.security.vulnerability.report; version=1.1, application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
/// What a path segment keeps unencoded: RFC 3986's unreserved characters.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A Harbor project: a Berth space. Fields are named as in Harbor's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub project_id: i64,
    pub name: String,
    /// `metadata.public`, which Harbor sends as the string `"true"` or `"false"`.
    pub public: bool,
    /// The number of repositories, when Harbor sent it.
    pub repo_count: Option<u64>,
    pub creation_time: Option<OffsetDateTime>,
    pub update_time: Option<OffsetDateTime>,
}

/// Who may pull from a new project without credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone, anonymously.
    Public,
    /// Members and robot accounts only.
    Private,
}

/// A repository of a Harbor project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub id: i64,
    pub project_id: i64,
    /// The name within its project (`tools/builder` for Harbor's `team/tools/builder`): what
    /// [`HarborClient::artifacts`] takes.
    pub name: String,
    /// The name as Harbor reports it and `/v2/` uses it, project first: `team/tools/builder`.
    pub full_name: String,
    pub description: Option<String>,
    pub artifact_count: u64,
    pub pull_count: u64,
    pub creation_time: Option<OffsetDateTime>,
    pub update_time: Option<OffsetDateTime>,
}

/// An artifact (a manifest or an index) of a repository, with its tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub id: i64,
    pub digest: Digest,
    /// Harbor's `type`: `IMAGE`, `CHART`, `CNAB`, …
    pub kind: Option<String>,
    /// The config's media type (Harbor's `media_type`).
    pub media_type: String,
    pub manifest_media_type: String,
    /// `artifactType` of the manifest, for OCI artifacts that set it.
    pub artifact_type: Option<String>,
    pub size: u64,
    pub push_time: Option<OffsetDateTime>,
    /// `None` for an artifact never pulled (Harbor sends Go's zero time).
    pub pull_time: Option<OffsetDateTime>,
    /// The tag names.
    pub tags: Vec<String>,
    pub extra_attrs: ExtraAttrs,
    /// The scan summaries, keyed by the report's MIME type (usually one entry); empty when
    /// the artifact has not been scanned or the scanner is not configured.
    pub scan_overview: BTreeMap<String, ScanSummary>,
}

/// An artifact's `extra_attrs`: for images, fields of the image config. Their content depends
/// on the artifact's type, so the whole object is kept; the fields images carry are also read
/// out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExtraAttrs {
    pub architecture: Option<String>,
    pub os: Option<String>,
    pub author: Option<String>,
    /// When the image was built.
    pub created: Option<OffsetDateTime>,
    /// Everything Harbor sent, the fields above included.
    pub raw: serde_json::Map<String, serde_json::Value>,
}

impl ExtraAttrs {
    /// The image config's `config` (entrypoint, environment, labels, …), when Harbor sent it.
    pub fn config(&self) -> Option<&serde_json::Value> {
        self.raw.get("config")
    }
}

/// One scan report's summary (the spec's `NativeReportSummary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSummary {
    pub report_id: Option<String>,
    /// `Success`, `Running`, `Error`, … as Harbor words it.
    pub scan_status: Option<String>,
    /// The most severe vulnerability found.
    pub severity: Option<Severity>,
    pub duration_seconds: Option<i64>,
    pub summary: Option<VulnerabilityCounts>,
    pub start_time: Option<OffsetDateTime>,
    pub end_time: Option<OffsetDateTime>,
    pub complete_percent: Option<i64>,
    pub scanner: Option<Scanner>,
}

/// A vulnerability severity as Harbor's scanners report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Severity {
    None,
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
    /// A word this client does not know, as sent.
    Other(String),
}

impl Severity {
    /// Reads Harbor's word for a severity, in any case.
    pub fn parse(text: &str) -> Severity {
        match text.to_ascii_lowercase().as_str() {
            "none" => Severity::None,
            "unknown" => Severity::Unknown,
            "negligible" => Severity::Negligible,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => Severity::Other(text.to_string()),
        }
    }
}

/// How many vulnerabilities a scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VulnerabilityCounts {
    pub total: u64,
    pub fixable: u64,
    /// Counts per severity, keyed by Harbor's word for it (`Critical`, `High`, …).
    pub by_severity: BTreeMap<String, u64>,
}

/// The scanner that wrote a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scanner {
    pub name: Option<String>,
    pub vendor: Option<String>,
    pub version: Option<String>,
}

/// What a robot account may do in its project's repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RobotAccess {
    pub pull: bool,
    pub push: bool,
}

/// How long a robot account's secret works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobotLifetime {
    /// Until the robot is deleted (Harbor's duration `-1`).
    Never,
    Days(NonZeroU32),
}

/// A robot account as Harbor created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedRobot {
    /// What [`HarborClient::delete_robot`] takes.
    pub id: i64,
    /// The login name: Harbor's prefix, the project and the name, e.g. `robot$team+ci`.
    pub name: String,
    /// The password, shown by Harbor this once.
    pub secret: Secret,
    /// `None` for a robot that does not expire.
    pub expires_at: Option<OffsetDateTime>,
}

/// A secret that `Debug` does not show; [`Secret::expose`] hands it out on purpose.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What Harbor says about itself (`GET /api/v2.0/systeminfo`); anonymous callers are told
/// less.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemInfo {
    pub harbor_version: Option<String>,
    /// `db_auth`, `ldap_auth`, `oidc_auth`, …
    pub auth_mode: Option<String>,
    pub external_url: Option<String>,
    pub read_only: Option<bool>,
}

/// Who the configured credentials log in as.
enum Account {
    User,
    /// Robot accounts have no user profile: Harbor answers `/users/current` with 412 for them.
    Robot,
}

/// A client of one Harbor: its REST API, and its OCI distribution API through an inner
/// [`DistributionClient`] on the same endpoint.
pub struct HarborClient {
    registry: DistributionClient,
    /// `<base>api/v2.0/`.
    api: Url,
    /// Set once `/users/current` has accepted the configured credentials.
    login_checked: AtomicBool,
}

impl fmt::Debug for HarborClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HarborClient")
            .field("api", &self.api.as_str())
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

impl HarborClient {
    /// A client of the Harbor at `endpoint` (its base URL, e.g. `https://harbor.example`).
    /// Fails only on configuration that can never work, as [`DistributionClient::new`] does.
    pub fn new(endpoint: Endpoint, settings: Settings) -> Result<HarborClient, RemoteError> {
        let registry = DistributionClient::new(endpoint, settings)?;
        let api = registry
            .base()
            .join(API_PATH)
            .expect("a relative path joins onto an http(s) base");
        Ok(HarborClient {
            registry,
            api,
            login_checked: AtomicBool::new(false),
        })
    }

    /// `GET /api/v2.0/systeminfo`, which anyone may ask.
    pub async fn system_info(&self) -> Result<SystemInfo, RemoteError> {
        #[derive(Deserialize)]
        struct Wire {
            harbor_version: Option<String>,
            auth_mode: Option<String>,
            external_url: Option<String>,
            read_only: Option<bool>,
        }
        let url = self.api_url("systeminfo");
        let answer = self.send(Method::GET, &url, None, &[]).await?;
        let wire: Wire = read_json(answer, MAX_OBJECT_BYTES).await?;
        Ok(SystemInfo {
            harbor_version: wire.harbor_version,
            auth_mode: wire.auth_mode,
            external_url: wire.external_url,
            read_only: wire.read_only,
        })
    }

    /// Every project the credentials may see: their own, and every public one.
    pub async fn projects(&self) -> Result<Vec<Project>, RemoteError> {
        #[derive(Deserialize)]
        struct Wire {
            project_id: i64,
            name: String,
            metadata: Option<Metadata>,
            repo_count: Option<u64>,
            creation_time: Option<String>,
            update_time: Option<String>,
        }
        #[derive(Deserialize)]
        struct Metadata {
            public: Option<String>,
        }
        self.ensure_login().await?;
        let wires: Vec<Wire> = self
            .list("projects", &[], &[], |p: &Wire| p.project_id)
            .await?;
        Ok(wires
            .into_iter()
            .map(|wire| Project {
                project_id: wire.project_id,
                public: wire
                    .metadata
                    .and_then(|m| m.public)
                    .is_some_and(|public| is_true(&public)),
                name: wire.name,
                repo_count: wire.repo_count,
                creation_time: harbor_time(wire.creation_time.as_deref()),
                update_time: harbor_time(wire.update_time.as_deref()),
            })
            .collect())
    }

    /// Every repository of `project`.
    pub async fn project_repositories(
        &self,
        project: &str,
    ) -> Result<Vec<Repository>, RemoteError> {
        #[derive(Deserialize)]
        struct Wire {
            id: i64,
            #[serde(default)]
            project_id: i64,
            name: String,
            description: Option<String>,
            artifact_count: Option<u64>,
            pull_count: Option<u64>,
            creation_time: Option<String>,
            update_time: Option<String>,
        }
        let path = format!("projects/{}/repositories", project_segment(project)?);
        self.ensure_login().await?;
        let wires: Vec<Wire> = self.list(&path, &[], &[], |r: &Wire| r.id).await?;
        let prefix = format!("{project}/");
        Ok(wires
            .into_iter()
            .map(|wire| Repository {
                id: wire.id,
                project_id: wire.project_id,
                name: wire
                    .name
                    .strip_prefix(&prefix)
                    .unwrap_or(&wire.name)
                    .to_string(),
                full_name: wire.name,
                description: wire.description.filter(|d| !d.is_empty()),
                artifact_count: wire.artifact_count.unwrap_or_default(),
                pull_count: wire.pull_count.unwrap_or_default(),
                creation_time: harbor_time(wire.creation_time.as_deref()),
                update_time: harbor_time(wire.update_time.as_deref()),
            })
            .collect())
    }

    /// Every artifact of `repository` (its name within `project`, as
    /// [`Repository::name`]), with tags and scan overviews.
    pub async fn artifacts(
        &self,
        project: &str,
        repository: &str,
    ) -> Result<Vec<Artifact>, RemoteError> {
        let path = format!(
            "projects/{}/repositories/{}/artifacts",
            project_segment(project)?,
            repository_segment(repository)?
        );
        self.ensure_login().await?;
        let wires: Vec<WireArtifact> = self
            .list(
                &path,
                &[("with_tag", "true"), ("with_scan_overview", "true")],
                &[("x-accept-vulnerabilities", ACCEPT_VULNERABILITIES)],
                |a: &WireArtifact| a.id,
            )
            .await?;
        let request = self.describe(&Method::GET, &self.api_url(&path));
        wires
            .into_iter()
            .map(|wire| {
                wire.into_artifact()
                    .map_err(|reason| RemoteError::Protocol {
                        request: request.clone(),
                        reason,
                    })
            })
            .collect()
    }

    /// Creates a project; its ID, when Harbor's answer names it (it does, in `Location`).
    /// A project of that name existing already is HTTP 409 ([`RemoteError::Status`]).
    pub async fn create_project(
        &self,
        name: &str,
        visibility: Visibility,
    ) -> Result<Option<i64>, RemoteError> {
        #[derive(Serialize)]
        struct Body<'a> {
            project_name: &'a str,
            metadata: Metadata,
        }
        #[derive(Serialize)]
        struct Metadata {
            public: &'static str,
        }
        project_segment(name)?;
        let body = Body {
            project_name: name,
            metadata: Metadata {
                public: match visibility {
                    Visibility::Public => "true",
                    Visibility::Private => "false",
                },
            },
        };
        self.ensure_login().await?;
        let url = self.api_url("projects");
        let answer = self
            .send(Method::POST, &url, Some(to_json(&body)), &[])
            .await?;
        // `Location: /api/v2.0/projects/12`.
        Ok(answer
            .header("location")
            .and_then(|location| location.trim_end_matches('/').rsplit('/').next())
            .and_then(|id| id.parse().ok()))
    }

    /// Creates a robot account of `project` that may pull and/or push its repositories.
    pub async fn create_robot(
        &self,
        project: &str,
        name: &str,
        access: RobotAccess,
        lifetime: RobotLifetime,
    ) -> Result<CreatedRobot, RemoteError> {
        #[derive(Serialize)]
        struct Body<'a> {
            name: &'a str,
            level: &'static str,
            disable: bool,
            duration: i64,
            permissions: [Permission<'a>; 1],
        }
        #[derive(Serialize)]
        struct Permission<'a> {
            kind: &'static str,
            namespace: &'a str,
            access: Vec<Access>,
        }
        #[derive(Serialize)]
        struct Access {
            resource: &'static str,
            action: &'static str,
        }
        #[derive(Deserialize)]
        struct Wire {
            id: i64,
            name: String,
            secret: String,
            expires_at: Option<i64>,
        }
        project_segment(project)?;
        if name.is_empty() {
            return Err(RemoteError::Invalid("a robot account needs a name".into()));
        }
        let mut actions = Vec::new();
        if access.pull {
            actions.push(Access {
                resource: "repository",
                action: "pull",
            });
        }
        if access.push {
            actions.push(Access {
                resource: "repository",
                action: "push",
            });
        }
        if actions.is_empty() {
            return Err(RemoteError::Invalid(
                "a robot account that may neither pull nor push can do nothing".into(),
            ));
        }
        let body = Body {
            name,
            level: "project",
            disable: false,
            duration: match lifetime {
                RobotLifetime::Never => -1,
                RobotLifetime::Days(days) => i64::from(days.get()),
            },
            permissions: [Permission {
                kind: "project",
                namespace: project,
                access: actions,
            }],
        };
        self.ensure_login().await?;
        let url = self.api_url("robots");
        let answer = self
            .send(Method::POST, &url, Some(to_json(&body)), &[])
            .await?;
        let request = answer.request.clone();
        let bytes = answer.bytes(MAX_OBJECT_BYTES).await?;
        // serde's messages quote the offending value, which could be the secret.
        let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| RemoteError::Protocol {
            request,
            reason:
                "the answer is not the created robot (id, name and secret) Harbor's API describes"
                    .into(),
        })?;
        Ok(CreatedRobot {
            id: wire.id,
            name: wire.name,
            secret: Secret(wire.secret),
            expires_at: wire
                .expires_at
                .filter(|&at| at > 0)
                .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok()),
        })
    }

    /// Deletes a robot account; one that does not exist is [`RemoteError::NotFound`].
    pub async fn delete_robot(&self, id: i64) -> Result<(), RemoteError> {
        self.ensure_login().await?;
        let url = self.api_url(&format!("robots/{id}"));
        self.send(Method::DELETE, &url, None, &[]).await?;
        Ok(())
    }

    fn session(&self) -> &Session {
        self.registry.session()
    }

    /// `<base>api/v2.0/<path>`; `path` is made of encoded segments.
    fn api_url(&self, path: &str) -> Url {
        self.api
            .join(path)
            .expect("encoded segments join onto an http(s) base")
    }

    fn describe(&self, method: &Method, url: &Url) -> String {
        self.session().http().describe(method, url)
    }

    /// Asks `/users/current` once, when credentials are configured, so that a wrong password
    /// fails here instead of quietly listing what anonymous callers see.
    async fn ensure_login(&self) -> Result<(), RemoteError> {
        if !self.session().has_credentials() || self.login_checked.load(Ordering::Acquire) {
            return Ok(());
        }
        self.account().await?;
        self.login_checked.store(true, Ordering::Release);
        Ok(())
    }

    /// Who the configured credentials log in as. A 401 means a wrong password, or a robot
    /// account on a Harbor that answers robots 401 here rather than 412; `/v2/`, where robots
    /// log in too and a wrong password is refused, tells which.
    async fn account(&self) -> Result<Account, RemoteError> {
        let url = self.api_url("users/current");
        let answer = self.send_raw(Method::GET, &url, None, &[]).await?;
        match answer.status().as_u16() {
            200..=299 => Ok(Account::User),
            412 => Ok(Account::Robot),
            401 => {
                let request = answer.request.clone();
                drop(answer);
                match self.registry.api_version().await {
                    Ok(_) => Ok(Account::Robot),
                    Err(RemoteError::Unauthorized { .. }) => Err(RemoteError::Unauthorized {
                        request,
                        reason: "Harbor refused the configured credentials (HTTP 401; it serves a wrong password as anonymous elsewhere, so it is checked here)".into(),
                    }),
                    Err(other) => Err(other),
                }
            }
            _ => Err(self.error(answer).await),
        }
    }

    fn request(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Vec<u8>>,
        headers: &[(&'static str, &str)],
    ) -> reqwest::Request {
        let mut builder = self
            .session()
            .http()
            .client()
            .request(method.clone(), url.clone())
            .header(ACCEPT, "application/json");
        if let Some(authorization) = self.session().basic_header() {
            builder = builder.header(AUTHORIZATION, authorization);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some(body) = body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body);
        }
        builder
            .build()
            .expect("a request from a parsed URL and valid headers builds")
    }

    /// Sends a REST request and returns the answer, whatever its status.
    async fn send_raw(
        &self,
        method: Method,
        url: &Url,
        body: Option<Vec<u8>>,
        headers: &[(&'static str, &str)],
    ) -> Result<Answer, RemoteError> {
        self.session()
            .http()
            .send(self.request(&method, url, body, headers))
            .await
    }

    /// Sends a REST request; any status but 2xx is an error.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<Vec<u8>>,
        headers: &[(&'static str, &str)],
    ) -> Result<Answer, RemoteError> {
        let answer = self.send_raw(method, url, body, headers).await?;
        if answer.status().is_success() {
            Ok(answer)
        } else {
            Err(self.error(answer).await)
        }
    }

    /// The error an unwanted status stands for, with Harbor's messages
    /// (`{"errors":[{"code","message"}]}`) and its request ID, which its logs are searched by.
    async fn error(&self, answer: Answer) -> RemoteError {
        let status = answer.status().as_u16();
        let request = answer.request.clone();
        let request_id = answer.header("x-request-id").map(str::to_string);
        let body = answer.bytes(MAX_ERROR_BYTES).await.unwrap_or_default();
        let mut detail = self.session().redact(&error_detail(&body));
        if let Some(id) = request_id.filter(|id| !id.is_empty()) {
            detail.push_str(&format!(" (Harbor request ID {id})"));
        }
        match status {
            401 if self.session().has_credentials() => RemoteError::Unauthorized {
                request,
                reason: format!("Harbor refused the configured credentials (HTTP 401){detail}"),
            },
            401 => RemoteError::Unauthorized {
                request,
                reason: format!(
                    "Harbor requires credentials for this and none are configured (HTTP 401){detail}"
                ),
            },
            403 => RemoteError::Forbidden { request, detail },
            404 => RemoteError::NotFound { request, detail },
            _ => RemoteError::Status {
                request,
                status,
                detail,
            },
        }
    }

    /// Every item of a paged listing at `path` (with `query`), in pages of `page_size`
    /// (`Settings::page_size`, at most the spec's 100). The next page is the `Link` header's
    /// `rel="next"` when Harbor sends one; otherwise the next page number while fewer items
    /// than `X-Total-Count` have arrived; without either, the next page number after a full
    /// page. An empty page, a page of items already seen (by `key`) or a link back to a page
    /// already read ends the listing, so a server paging wrongly cannot loop it.
    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&'static str, &str)],
        key: impl Fn(&T) -> i64,
    ) -> Result<Vec<T>, RemoteError> {
        let page_size = self
            .session()
            .http()
            .settings()
            .page_size
            .clamp(1, MAX_PAGE_SIZE);
        let page_url = |page: usize| {
            let mut url = self.api_url(path);
            {
                let mut pairs = url.query_pairs_mut();
                pairs.extend_pairs(query);
                pairs.append_pair("page", &page.to_string());
                pairs.append_pair("page_size", &page_size.to_string());
            }
            url
        };
        let mut page = 1;
        let mut url = page_url(page);
        let mut followed = HashSet::new();
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            if !followed.insert(url.to_string()) {
                tracing::debug!(url = %url.path(), "paging returned to a page already read");
                return Ok(items);
            }
            let answer = self.send(Method::GET, &url, None, headers).await?;
            let request = answer.request.clone();
            let next = answer
                .header("link")
                .and_then(next_link)
                .map(|link| url.join(&link))
                .transpose()
                .map_err(|e| RemoteError::Protocol {
                    request: request.clone(),
                    reason: format!("the next page's link is not a URL: {e}"),
                })?;
            let total = answer
                .header("x-total-count")
                .and_then(|count| count.trim().parse::<usize>().ok());
            let batch: Vec<T> = read_json(answer, MAX_PAGE_BYTES).await?;
            let received = batch.len();
            let mut added = 0;
            for item in batch {
                if seen.insert(key(&item)) {
                    items.push(item);
                    added += 1;
                }
            }
            if added == 0 {
                return Ok(items);
            }
            url = match (next, total) {
                (Some(next), _) => {
                    page = page_number(&next).unwrap_or(page + 1);
                    next
                }
                (None, Some(total)) if items.len() < total => {
                    page += 1;
                    page_url(page)
                }
                (None, None) if received >= page_size => {
                    page += 1;
                    page_url(page)
                }
                _ => return Ok(items),
            };
        }
        Err(RemoteError::Protocol {
            request: self.describe(&Method::GET, &page_url(1)),
            reason: format!("the listing runs past {MAX_PAGES} pages"),
        })
    }
}

#[async_trait]
impl RemoteRegistry for HarborClient {
    /// Asks `systeminfo` (is this Harbor?), `users/current` (are the credentials right?),
    /// `/v2/` with the credentials (can content be pulled? anonymous callers skip it, since
    /// Harbor's `/v2/` wants a login) and one page of projects (can repositories be listed?).
    async fn check(&self) -> Result<CheckReport, RemoteError> {
        match self.system_info().await {
            Ok(info) => {
                tracing::debug!(version = ?info.harbor_version, "reached Harbor");
            }
            Err(RemoteError::NotFound { request, .. }) => {
                return Err(RemoteError::Protocol {
                    request,
                    reason: "no Harbor API here (HTTP 404); check the URL, or choose the registry kind for a plain distribution registry".into(),
                })
            }
            Err(other) => return Err(other),
        }
        let mut api_version = None;
        if self.session().has_credentials() {
            self.ensure_login().await?;
            api_version = self.registry.api_version().await?;
        }
        let follow = self.registry.follow();
        if follow.repositories.is_empty() || !follow.prefixes.is_empty() {
            let url = self.api_url("projects?page=1&page_size=1");
            self.send(Method::GET, &url, None, &[]).await?;
        }
        Ok(CheckReport {
            listing: follow.listing(),
            authentication: if self.session().has_credentials() {
                self.session().authentication()
            } else {
                Authentication::Anonymous
            },
            api_version,
        })
    }

    /// Full names (`project/repository`) from the REST API: every repository of every project
    /// when nothing is followed; otherwise the followed names, and for each followed prefix
    /// the repositories of its project (the prefix's first segment) that start with it.
    async fn repositories(&self) -> Result<Vec<String>, RemoteError> {
        let follow = self.registry.follow();
        let mut projects: Vec<String> = if follow.is_empty() {
            self.projects()
                .await?
                .into_iter()
                .map(|project| project.name)
                .collect()
        } else {
            follow
                .prefixes
                .iter()
                .filter_map(|prefix| prefix.split('/').next())
                .map(str::to_string)
                .collect()
        };
        projects.sort();
        projects.dedup();
        let concurrency = self.session().http().settings().max_concurrency.max(1);
        let listed: Vec<Vec<Repository>> = futures::stream::iter(projects)
            .map(|project| async move {
                match self.project_repositories(&project).await {
                    Ok(repositories) => Ok(repositories),
                    // A project deleted since it was listed, or a prefix that names no
                    // project, has no repositories.
                    Err(RemoteError::NotFound { .. }) => Ok(Vec::new()),
                    Err(other) => Err(other),
                }
            })
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
        let mut names = follow.repositories.clone();
        names.extend(
            listed
                .into_iter()
                .flatten()
                .map(|repository| repository.full_name)
                .filter(|name| {
                    follow.prefixes.is_empty()
                        || follow
                            .prefixes
                            .iter()
                            .any(|prefix| name.starts_with(prefix.as_str()))
                }),
        );
        names.sort();
        names.dedup();
        Ok(names)
    }

    async fn tags(&self, repository: &str) -> Result<Vec<String>, RemoteError> {
        self.registry.tags(repository).await
    }

    async fn manifest_digest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<Descriptor>, RemoteError> {
        self.registry.manifest_digest(repository, reference).await
    }

    async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<FetchedManifest, RemoteError> {
        self.registry.manifest(repository, reference).await
    }

    async fn blob(
        &self,
        repository: &str,
        digest: &Digest,
        max_bytes: u64,
    ) -> Result<bytes::Bytes, RemoteError> {
        self.registry.blob(repository, digest, max_bytes).await
    }

    async fn blob_stream(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<BlobStream, RemoteError> {
        self.registry.blob_stream(repository, digest).await
    }

    async fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Vec<Descriptor>, RemoteError> {
        self.registry.referrers(repository, digest).await
    }
}

/// An artifact as the listing sends it.
#[derive(Deserialize)]
struct WireArtifact {
    id: i64,
    #[serde(rename = "type")]
    kind: Option<String>,
    media_type: Option<String>,
    manifest_media_type: Option<String>,
    artifact_type: Option<String>,
    digest: String,
    size: Option<u64>,
    push_time: Option<String>,
    pull_time: Option<String>,
    tags: Option<Vec<WireTag>>,
    extra_attrs: Option<serde_json::Map<String, serde_json::Value>>,
    scan_overview: Option<BTreeMap<String, WireScanSummary>>,
}

#[derive(Deserialize)]
struct WireTag {
    name: String,
}

#[derive(Deserialize)]
struct WireScanSummary {
    report_id: Option<String>,
    scan_status: Option<String>,
    severity: Option<String>,
    duration: Option<i64>,
    summary: Option<WireVulnerabilities>,
    start_time: Option<String>,
    end_time: Option<String>,
    complete_percent: Option<i64>,
    scanner: Option<WireScanner>,
}

#[derive(Deserialize)]
struct WireVulnerabilities {
    total: Option<u64>,
    fixable: Option<u64>,
    summary: Option<BTreeMap<String, u64>>,
}

#[derive(Deserialize)]
struct WireScanner {
    name: Option<String>,
    vendor: Option<String>,
    version: Option<String>,
}

impl WireArtifact {
    fn into_artifact(self) -> Result<Artifact, String> {
        let digest = Digest::parse(&self.digest)
            .map_err(|e| format!("artifact {} has no valid digest: {e}", self.id))?;
        let raw = self.extra_attrs.unwrap_or_default();
        let text = |name: &str| {
            raw.get(name)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let extra_attrs = ExtraAttrs {
            architecture: text("architecture"),
            os: text("os"),
            author: text("author"),
            created: harbor_time(raw.get("created").and_then(|v| v.as_str())),
            raw,
        };
        Ok(Artifact {
            id: self.id,
            digest,
            kind: self.kind,
            media_type: self.media_type.unwrap_or_default(),
            manifest_media_type: self.manifest_media_type.unwrap_or_default(),
            artifact_type: self.artifact_type.filter(|t| !t.is_empty()),
            size: self.size.unwrap_or_default(),
            push_time: harbor_time(self.push_time.as_deref()),
            pull_time: harbor_time(self.pull_time.as_deref()),
            tags: self
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(|tag| tag.name)
                .collect(),
            extra_attrs,
            scan_overview: self
                .scan_overview
                .unwrap_or_default()
                .into_iter()
                .map(|(mime_type, wire)| (mime_type, wire.into_summary()))
                .collect(),
        })
    }
}

impl WireScanSummary {
    fn into_summary(self) -> ScanSummary {
        ScanSummary {
            report_id: self.report_id.filter(|id| !id.is_empty()),
            scan_status: self.scan_status,
            severity: self.severity.as_deref().map(Severity::parse),
            duration_seconds: self.duration,
            summary: self.summary.map(|counts| VulnerabilityCounts {
                total: counts.total.unwrap_or_default(),
                fixable: counts.fixable.unwrap_or_default(),
                by_severity: counts.summary.unwrap_or_default(),
            }),
            start_time: harbor_time(self.start_time.as_deref()),
            end_time: harbor_time(self.end_time.as_deref()),
            complete_percent: self.complete_percent,
            scanner: self.scanner.map(|s| Scanner {
                name: s.name,
                vendor: s.vendor,
                version: s.version,
            }),
        }
    }
}

async fn read_json<T: DeserializeOwned>(answer: Answer, limit: u64) -> Result<T, RemoteError> {
    let request = answer.request.clone();
    let body = answer.bytes(limit).await?;
    serde_json::from_slice(&body).map_err(|e| RemoteError::Protocol {
        request,
        reason: format!("the answer is not the JSON Harbor's API describes: {e}"),
    })
}

fn to_json(body: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(body).expect("request bodies are plain structs that serialise")
}

/// A project name as one path segment. Harbor's project names are single lowercase path
/// components (`[a-z0-9]+([._-][a-z0-9]+)*`); anything that is not even a path component,
/// `..` above all, is refused before it reaches a URL.
fn project_segment(project: &str) -> Result<String, RemoteError> {
    let invalid = || RemoteError::Invalid(format!("`{project}` is not a Harbor project name"));
    if project.contains('/') {
        return Err(invalid());
    }
    RepoName::parse(project).map_err(|_| invalid())?;
    Ok(utf8_percent_encode(project, PATH_SEGMENT).to_string())
}

/// A repository name (within its project) as one path segment, encoded twice: `a/b` →
/// `a%2Fb` → `a%252Fb`.
fn repository_segment(repository: &str) -> Result<String, RemoteError> {
    RepoName::parse(repository).map_err(|e| {
        RemoteError::Invalid(format!("`{repository}` is not a repository name: {e}"))
    })?;
    let once = utf8_percent_encode(repository, PATH_SEGMENT).to_string();
    Ok(utf8_percent_encode(&once, PATH_SEGMENT).to_string())
}

/// The `page` a next-page link asks for.
fn page_number(url: &Url) -> Option<usize> {
    url.query_pairs()
        .find(|(name, _)| name == "page")
        .and_then(|(_, value)| value.parse().ok())
}

/// Harbor's booleans in strings (`metadata.public`), read as Go's `strconv.ParseBool` reads
/// them, which is what Harbor itself uses.
fn is_true(text: &str) -> bool {
    matches!(text, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

/// A `date-time` from Harbor. Go's zero time (`0001-01-01T00:00:00Z`) is how Harbor says
/// "never", and a time that does not parse is as good as none.
fn harbor_time(text: Option<&str>) -> Option<OffsetDateTime> {
    let time = OffsetDateTime::parse(text?, &Rfc3339).ok()?;
    (time.year() > 1).then_some(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_are_encoded_twice_and_projects_once() {
        assert_eq!(repository_segment("a/b").unwrap(), "a%252Fb");
        assert_eq!(
            repository_segment("tools/build-x/v1.2_3").unwrap(),
            "tools%252Fbuild-x%252Fv1.2_3"
        );
        assert_eq!(repository_segment("app").unwrap(), "app");
        assert!(repository_segment("a/../b").is_err());
        assert!(repository_segment("").is_err());
        assert_eq!(project_segment("team-1.x").unwrap(), "team-1.x");
        for bad in ["", "..", "a/b", "Upper", "with space"] {
            assert!(project_segment(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_read_rfc3339_and_go_zero_time_is_none() {
        assert_eq!(
            harbor_time(Some("2024-05-06T07:08:09.123Z")),
            Some(time::macros::datetime!(2024-05-06 07:08:09.123 UTC))
        );
        assert_eq!(harbor_time(Some("0001-01-01T00:00:00.000Z")), None);
        assert_eq!(harbor_time(Some("yesterday")), None);
        assert_eq!(harbor_time(None), None);
    }

    #[test]
    fn booleans_in_strings_and_severities() {
        assert!(is_true("true") && is_true("1") && !is_true("false") && !is_true(""));
        assert_eq!(Severity::parse("Critical"), Severity::Critical);
        assert_eq!(Severity::parse("none"), Severity::None);
        assert_eq!(
            Severity::parse("Apocalyptic"),
            Severity::Other("Apocalyptic".into())
        );
    }

    #[test]
    fn artifacts_keep_extra_attrs_and_typed_scan_summaries() {
        let wire: WireArtifact = serde_json::from_value(serde_json::json!({
            "id": 7,
            "type": "IMAGE",
            "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "media_type": "application/vnd.oci.image.config.v1+json",
            "manifest_media_type": "application/vnd.oci.image.manifest.v1+json",
            "size": 1234,
            "push_time": "2024-01-02T03:04:05.000Z",
            "pull_time": "0001-01-01T00:00:00.000Z",
            "tags": [{"name": "v1"}, {"name": "latest"}],
            "extra_attrs": {"architecture": "amd64", "os": "linux", "created": "2023-12-31T00:00:00Z", "config": {"Env": ["A=1"]}},
            "scan_overview": {"application/vnd.security.vulnerability.report; version=1.1": {
                "scan_status": "Success", "severity": "High",
                "summary": {"total": 3, "fixable": 1, "summary": {"High": 1, "Low": 2}}
            }}
        }))
        .unwrap();
        let artifact = wire.into_artifact().unwrap();
        assert_eq!(artifact.tags, ["v1", "latest"]);
        assert_eq!(artifact.pull_time, None);
        assert_eq!(artifact.extra_attrs.architecture.as_deref(), Some("amd64"));
        assert_eq!(
            artifact.extra_attrs.config(),
            Some(&serde_json::json!({"Env": ["A=1"]}))
        );
        let summary = artifact.scan_overview.values().next().unwrap();
        assert_eq!(summary.severity, Some(Severity::High));
        assert_eq!(summary.summary.as_ref().unwrap().by_severity["Low"], 2);
    }

    #[test]
    fn artifacts_without_tags_extras_or_scans_still_read() {
        // Harbor sends `null` for empty lists and leaves out what it has not got.
        let wire: WireArtifact = serde_json::from_value(serde_json::json!({
            "id": 8,
            "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
            "tags": null,
            "extra_attrs": null
        }))
        .unwrap();
        let artifact = wire.into_artifact().unwrap();
        assert!(artifact.tags.is_empty() && artifact.scan_overview.is_empty());
        assert_eq!(artifact.extra_attrs, ExtraAttrs::default());
        assert_eq!((artifact.size, artifact.push_time), (0, None));

        let broken: WireArtifact =
            serde_json::from_value(serde_json::json!({"id": 9, "digest": "md5:abc"})).unwrap();
        assert!(broken.into_artifact().unwrap_err().contains("artifact 9"));
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let robot = CreatedRobot {
            id: 1,
            name: "robot$p+ci".into(),
            secret: Secret("s3cr3t-value".into()),
            expires_at: None,
        };
        let shown = format!("{robot:?}");
        assert!(
            !shown.contains("s3cr3t-value") && shown.contains("robot$p+ci"),
            "{shown}"
        );
        assert_eq!(robot.secret.expose(), "s3cr3t-value");
    }
}
