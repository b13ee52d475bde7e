//! An in-test Harbor: the REST endpoints `HarborClient` uses, `/v2/` behind Harbor's token
//! service, and a contract check of every REST request and answer against the spec.
//!
//! The double routes by its own rules, not by the spec, so that the spec check is a second
//! opinion on both the client and the double: each request is matched against the spec's
//! path templates, and the operation found must be the one the double served. Its behaviour
//! follows Harbor's where the client depends on it:
//! - A wrong password is served as anonymous (Harbor's security middleware falls through to
//!   an anonymous context); only `/users/current` and private resources answer 401.
//! - Robot accounts log in with Basic too; `/users/current` answers them 412.
//! - The path is decoded once before routing (Go's HTTP server does), and the repository name
//!   is decoded once more by the handler, hence the double encoding.
//! - Listings page with `page`/`page_size` (default 10), and answer with `X-Total-Count` and
//!   a `Link` header naming the previous and next pages, unless a test turns those off.
//! - The token service hands anonymous tokens to wrong credentials, and `/v2/` refuses
//!   anonymous tokens, as Harbor's does.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::spec::{self, Spec};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct-horse-battery";
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "Harbor12345-admin";
/// The robot name prefix of Harbor's default configuration.
pub const ROBOT_PREFIX: &str = "robot$";

/// How listings say that more pages follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// As Harbor does: `X-Total-Count` and `Link`.
    Harbor,
    /// `X-Total-Count` alone.
    TotalCountOnly,
    /// Neither: the client must stop at a short page.
    Neither,
}

/// The data the double serves.
#[derive(Default)]
pub struct Data {
    projects: Vec<FakeProject>,
    robots: Vec<FakeRobot>,
    next_id: i64,
}

struct FakeProject {
    id: i64,
    name: String,
    public: bool,
    /// Users other than the admin who may see it when it is private.
    members: Vec<String>,
    repositories: Vec<FakeRepository>,
}

struct FakeRepository {
    id: i64,
    /// The full name, project first.
    name: String,
    pull_count: u64,
    artifacts: Vec<Value>,
}

struct FakeRobot {
    id: i64,
    /// The full name: prefix, project, `+`, name.
    name: String,
    secret: String,
}

impl Data {
    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// A project that `USER` is a member of.
    pub fn project(mut self, name: &str, public: bool) -> Data {
        let id = self.id();
        self.projects.push(FakeProject {
            id,
            name: name.into(),
            public,
            members: vec![USER.into()],
            repositories: Vec::new(),
        });
        self
    }

    /// A project only the admin sees, unless it is public.
    pub fn foreign_project(mut self, name: &str, public: bool) -> Data {
        let id = self.id();
        self.projects.push(FakeProject {
            id,
            name: name.into(),
            public,
            members: Vec::new(),
            repositories: Vec::new(),
        });
        self
    }

    /// A repository (its name within `project`) with `artifacts` artifacts, each tagged
    /// `v<n>`; the first is also `latest` and has been scanned.
    pub fn repository(mut self, project: &str, name: &str, artifacts: usize) -> Data {
        let id = self.id();
        let full_name = format!("{project}/{name}");
        let artifacts = (0..artifacts)
            .map(|n| artifact_json(id * 100_000 + n as i64, &full_name, n))
            .collect();
        let project = self
            .projects
            .iter_mut()
            .find(|p| p.name == project)
            .expect("the repository's project was added first");
        project.repositories.push(FakeRepository {
            id,
            name: full_name,
            pull_count: 7,
            artifacts,
        });
        self
    }
}

/// An artifact as Harbor lists it with tags and scan overview.
fn artifact_json(id: i64, repository: &str, n: usize) -> Value {
    let digest = format!("sha256:{:064x}", id);
    let mut tags = vec![json!({
        "id": id, "repository_id": id / 100_000, "artifact_id": id, "name": format!("v{n}"),
        "push_time": "2024-03-01T10:00:00.000Z", "pull_time": "0001-01-01T00:00:00.000Z",
        "immutable": false
    })];
    let mut artifact = json!({
        "id": id,
        "type": "IMAGE",
        "media_type": "application/vnd.oci.image.config.v1+json",
        "manifest_media_type": "application/vnd.oci.image.manifest.v1+json",
        "project_id": 1,
        "repository_id": id / 100_000,
        "repository_name": repository,
        "digest": digest,
        "size": 1000 + n,
        "icon": "sha256:0048162a3f6b5a4d1d4f5e1b1b0ff3e68f6a6e1d2a4d3c29f39b3e2f2b1b2b2b",
        "push_time": "2024-03-01T10:00:00.000Z",
        "pull_time": "0001-01-01T00:00:00.000Z",
        "extra_attrs": {
            "architecture": "amd64",
            "os": "linux",
            "author": "",
            "created": "2024-02-29T08:00:00Z",
            "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/app"]}
        },
        "annotations": {"org.opencontainers.image.source": "https://example.invalid/src"},
        "addition_links": {
            "build_history": {"href": format!("/api/v2.0/projects/x/repositories/y/artifacts/{digest}/additions/build_history"), "absolute": false}
        }
    });
    if n == 0 {
        tags.push(json!({
            "id": id + 50_000, "repository_id": id / 100_000, "artifact_id": id, "name": "latest",
            "push_time": "2024-03-01T10:00:00.000Z", "pull_time": "2024-03-02T10:00:00.000Z",
            "immutable": false
        }));
        artifact["scan_overview"] = json!({
            "application/vnd.security.vulnerability.report; version=1.1": {
                "report_id": "5f62c830-f996-11e9-957f-0242c0a89008",
                "scan_status": "Success",
                "severity": "High",
                "duration": 12,
                "summary": {"total": 5, "fixable": 2, "summary": {"High": 2, "Medium": 1, "Low": 2}},
                "start_time": "2024-03-01T10:01:00Z",
                "end_time": "2024-03-01T10:01:12Z",
                "complete_percent": 100,
                "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "v0.50.0"}
            }
        });
    }
    artifact["tags"] = Value::Array(tags);
    artifact
}

/// A REST request as the double received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    /// As sent, still encoded.
    pub raw_path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Option<Value>,
}

struct Shared {
    spec: Option<Arc<Spec>>,
    paging: Paging,
    data: Mutex<Data>,
    requests: Mutex<Vec<Recorded>>,
    violations: Mutex<Vec<String>>,
    checked: AtomicUsize,
    /// Answers 429 to this many more REST requests first.
    throttle: AtomicUsize,
    /// Makes 404 messages quote the caller's password, as a careless server might.
    echo_credentials: bool,
    /// The token service's URL, known once the server listens.
    realm: String,
}

/// A running double.
pub struct Harbor {
    pub url: String,
    shared: Arc<Shared>,
}

/// Who a request is.
#[derive(Debug, Clone, PartialEq)]
enum Principal {
    Anonymous,
    User { name: String, admin: bool },
    Robot { name: String },
}

impl Harbor {
    pub async fn start(data: Data, paging: Paging) -> Harbor {
        Harbor::start_with(data, paging, false).await
    }

    pub async fn start_with(data: Data, paging: Paging, echo_credentials: bool) -> Harbor {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            spec: spec::load(),
            paging,
            data: Mutex::new(data),
            requests: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            checked: AtomicUsize::new(0),
            throttle: AtomicUsize::new(0),
            echo_credentials,
            realm: format!("{url}/service/token"),
        });
        let router = Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Harbor { url, shared }
    }

    /// Every REST request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The REST requests whose decoded path is `path` (below `/api/v2.0`).
    pub fn requests_to(&self, method: Method, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.raw_path == format!("/api/v2.0{path}"))
            .collect()
    }

    /// The contract violations seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.shared.violations.lock().unwrap().clone()
    }

    pub fn throttle(&self, answers: usize) {
        self.shared.throttle.store(answers, Ordering::SeqCst);
    }

    /// Whether the spec was there to check against.
    pub fn checks_contract(&self) -> bool {
        self.shared.spec.is_some()
    }

    /// Panics with every contract violation seen; with the spec present, also when no request
    /// was checked at all, which would make the test prove nothing about the contract.
    pub fn assert_contract_kept(&self) {
        let violations = self.shared.violations.lock().unwrap().clone();
        assert!(
            violations.is_empty(),
            "requests or answers that break Harbor's API definition:\n{}",
            violations.join("\n")
        );
        if self.checks_contract() {
            assert!(
                self.shared.checked.load(Ordering::SeqCst) > 0,
                "no request was checked against the spec"
            );
        }
    }
}

/// The double's answer before it is checked and sent.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Option<Value>,
}

impl Answer {
    fn json(status: StatusCode, body: Value) -> Answer {
        Answer {
            status,
            headers: HeaderMap::new(),
            body: Some(body),
        }
    }

    fn empty(status: StatusCode) -> Answer {
        Answer {
            status,
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// Harbor's error envelope.
    fn error(status: StatusCode, code: &str, message: &str) -> Answer {
        Answer::json(
            status,
            json!({"errors": [{"code": code, "message": message}]}),
        )
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Answer {
        self.headers
            .insert(name, HeaderValue::from_str(value).unwrap());
        self
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw_path = uri.path().to_string();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    if raw_path == "/service/token" {
        return token(&shared, &headers);
    }
    if raw_path.starts_with("/v2/") {
        return registry(&shared, &raw_path, &headers);
    }
    if !raw_path.starts_with("/api/v2.0/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    shared.requests.lock().unwrap().push(Recorded {
        method: method.clone(),
        raw_path: raw_path.clone(),
        query: query.clone(),
        headers: headers.clone(),
        body: serde_json::from_slice(&body).ok(),
    });
    let operation = shared.spec.as_ref().map(|spec| {
        shared.checked.fetch_add(1, Ordering::SeqCst);
        let found = spec.operation(&method, &raw_path);
        if let Ok(operation) = &found {
            let problems = spec.check_request(operation, &query, &headers, &body);
            shared.violations.lock().unwrap().extend(problems);
        }
        found
    });
    if let Some(Err(problem)) = &operation {
        shared.violations.lock().unwrap().push(problem.clone());
    }
    // A proxy in front of Harbor limits the rate; its 429 is not part of the API, so it is
    // not checked against it.
    if shared
        .throttle
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "slow down",
        )
            .into_response();
    }
    let principal = principal(&shared, &headers);
    let (served, answer) = api(
        &shared, &method, &raw_path, &query, &principal, &body, &headers,
    );
    let body = answer
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    if let (Some(spec), Some(Ok(operation))) = (&shared.spec, &operation) {
        let mut problems = Vec::new();
        if operation.id != served {
            problems.push(format!(
                "the double served {raw_path} as {served}, the spec says {}",
                operation.id
            ));
        }
        problems.extend(spec.check_response(
            operation,
            answer.status.as_u16(),
            &answer.headers,
            &body,
        ));
        shared.violations.lock().unwrap().extend(problems);
    }
    let mut response = (answer.status, body).into_response();
    response.headers_mut().extend(answer.headers);
    if answer.body.is_some() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    response
        .headers_mut()
        .insert("x-request-id", HeaderValue::from_static("req-0042"));
    response
}

/// Basic credentials of a user or robot; anything else, wrong passwords included, is
/// anonymous, as in Harbor.
fn principal(shared: &Shared, headers: &HeaderMap) -> Principal {
    let Some((name, password)) = basic(headers) else {
        return Principal::Anonymous;
    };
    if name == USER && password == PASSWORD {
        return Principal::User { name, admin: false };
    }
    if name == ADMIN && password == ADMIN_PASSWORD {
        return Principal::User { name, admin: true };
    }
    let data = shared.data.lock().unwrap();
    if data
        .robots
        .iter()
        .any(|r| r.name == name && r.secret == password)
    {
        return Principal::Robot { name };
    }
    Principal::Anonymous
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, password) = text.split_once(':')?;
    Some((name.to_string(), password.to_string()))
}

fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap()
}

/// The REST API: which operation served the request, and its answer.
fn api(
    shared: &Shared,
    method: &Method,
    raw_path: &str,
    query: &[(String, String)],
    principal: &Principal,
    body: &[u8],
    headers: &HeaderMap,
) -> (&'static str, Answer) {
    // Go's server decodes the path once before routing.
    let path = percent_encoding::percent_decode_str(&raw_path["/api/v2.0/".len()..])
        .decode_utf8_lossy()
        .into_owned();
    let segments: Vec<&str> = path.split('/').collect();
    let mut data = shared.data.lock().unwrap();
    let not_found = |what: &str| {
        let mut message = format!("{what} not found");
        if shared.echo_credentials {
            if let Some((name, password)) = basic(headers) {
                message.push_str(&format!(" for {name}:{password}"));
            }
        }
        Answer::error(StatusCode::NOT_FOUND, "NOT_FOUND", &message)
    };
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["systeminfo"]) => (
            "getSystemInfo",
            Answer::json(
                StatusCode::OK,
                json!({
                    "harbor_version": "v2.11.0-double",
                    "auth_mode": "db_auth",
                    "external_url": "https://harbor.example.invalid",
                    "registry_url": "harbor.example.invalid",
                    "current_time": now(),
                    "read_only": false,
                    "self_registration": false,
                    "has_ca_root": false,
                    "project_creation_restriction": "everyone"
                }),
            ),
        ),
        ("GET", ["users", "current"]) => (
            "getCurrentUserInfo",
            match principal {
                Principal::User { name, admin } => Answer::json(
                    StatusCode::OK,
                    json!({
                        "user_id": 3, "username": name, "email": format!("{name}@example.invalid"),
                        "realname": name, "comment": "", "sysadmin_flag": admin,
                        "admin_role_in_auth": false, "creation_time": "2024-01-01T00:00:00Z",
                        "update_time": "2024-01-01T00:00:00Z"
                    }),
                ),
                Principal::Robot { .. } => Answer::error(
                    StatusCode::PRECONDITION_FAILED,
                    "PRECONDITION",
                    "the security context is not a local user",
                ),
                Principal::Anonymous => {
                    Answer::error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "unauthorized")
                }
            },
        ),
        ("GET", ["projects"]) => {
            let visible: Vec<Value> = data
                .projects
                .iter()
                .filter(|p| sees(principal, p))
                .map(|p| {
                    json!({
                        "project_id": p.id,
                        "owner_id": 1,
                        "owner_name": "admin",
                        "name": p.name,
                        "creation_time": "2024-01-01T00:00:00.000Z",
                        "update_time": format!("2024-02-{:02}T12:00:00.000Z", 1 + p.id % 28),
                        "deleted": false,
                        "repo_count": p.repositories.len(),
                        "togglable": true,
                        "current_user_role_ids": [1],
                        "metadata": {"public": if p.public { "true" } else { "false" }},
                        "cve_allowlist": {"id": p.id, "project_id": p.id, "items": [], "creation_time": "2024-01-01T00:00:00Z", "update_time": "2024-01-01T00:00:00Z"}
                    })
                })
                .collect();
            (
                "listProjects",
                page(shared.paging, raw_path, query, visible),
            )
        }
        ("POST", ["projects"]) => {
            let Principal::User { .. } = principal else {
                return (
                    "createProject",
                    Answer::error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "unauthorized"),
                );
            };
            let request: Value = serde_json::from_slice(body).unwrap_or_default();
            let name = request["project_name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if name.is_empty() {
                return (
                    "createProject",
                    Answer::error(
                        StatusCode::BAD_REQUEST,
                        "BAD_REQUEST",
                        "project_name is required",
                    ),
                );
            }
            if data.projects.iter().any(|p| p.name == name) {
                return (
                    "createProject",
                    Answer::error(
                        StatusCode::CONFLICT,
                        "CONFLICT",
                        &format!("The project named {name} already exists"),
                    ),
                );
            }
            let id = data.id();
            data.projects.push(FakeProject {
                id,
                name,
                public: request["metadata"]["public"] == "true",
                members: vec![USER.into()],
                repositories: Vec::new(),
            });
            (
                "createProject",
                Answer::empty(StatusCode::CREATED)
                    .with_header("location", &format!("/api/v2.0/projects/{id}")),
            )
        }
        ("GET", ["projects", project, "repositories"]) => {
            let Some(project) = data.projects.iter().find(|p| p.name == *project) else {
                return ("listRepositories", not_found(&format!("project {project}")));
            };
            if let Some(refusal) = refuse(principal, project) {
                return ("listRepositories", refusal);
            }
            let items = project
                .repositories
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id, "project_id": project.id, "name": r.name,
                        "description": "", "artifact_count": r.artifacts.len(),
                        "pull_count": r.pull_count,
                        "creation_time": "2024-01-05T00:00:00.000Z",
                        "update_time": "2024-03-01T10:00:00.000Z"
                    })
                })
                .collect();
            (
                "listRepositories",
                page(shared.paging, raw_path, query, items),
            )
        }
        ("GET", ["projects", project, "repositories", repository, "artifacts"]) => {
            // Harbor decodes the repository name a second time.
            let repository = percent_encoding::percent_decode_str(repository)
                .decode_utf8_lossy()
                .into_owned();
            let Some(project) = data.projects.iter().find(|p| p.name == *project) else {
                return ("listArtifacts", not_found(&format!("project {project}")));
            };
            if let Some(refusal) = refuse(principal, project) {
                return ("listArtifacts", refusal);
            }
            let full_name = format!("{}/{repository}", project.name);
            let Some(repository) = project.repositories.iter().find(|r| r.name == full_name) else {
                return (
                    "listArtifacts",
                    not_found(&format!("repository {full_name}")),
                );
            };
            let artifacts = repository.artifacts.clone();
            (
                "listArtifacts",
                page(shared.paging, raw_path, query, artifacts),
            )
        }
        ("POST", ["robots"]) => ("CreateRobot", create_robot(&mut data, principal, body)),
        ("DELETE", ["robots", id]) => {
            if !matches!(principal, Principal::User { .. }) {
                return (
                    "DeleteRobot",
                    Answer::error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "unauthorized"),
                );
            }
            let id: i64 = id.parse().unwrap_or(-1);
            let before = data.robots.len();
            data.robots.retain(|r| r.id != id);
            if data.robots.len() == before {
                ("DeleteRobot", not_found(&format!("robot {id}")))
            } else {
                ("DeleteRobot", Answer::empty(StatusCode::OK))
            }
        }
        _ => ("", not_found(&format!("{method} {raw_path}"))),
    }
}

fn sees(principal: &Principal, project: &FakeProject) -> bool {
    project.public
        || match principal {
            Principal::Anonymous => false,
            Principal::User { admin: true, .. } => true,
            Principal::User { name, .. } => project.members.contains(name),
            Principal::Robot { name } => {
                name.starts_with(&format!("{ROBOT_PREFIX}{}+", project.name))
            }
        }
}

/// Harbor's answer to a request for a private project the caller may not see: 401 for
/// anonymous callers, 403 for others.
fn refuse(principal: &Principal, project: &FakeProject) -> Option<Answer> {
    if sees(principal, project) {
        None
    } else if *principal == Principal::Anonymous {
        Some(Answer::error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "unauthorized",
        ))
    } else {
        Some(Answer::error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "forbidden",
        ))
    }
}

/// Harbor's checks of a new robot account, beyond what the spec's schema says.
fn create_robot(data: &mut Data, principal: &Principal, body: &[u8]) -> Answer {
    let Principal::User { name: user, admin } = principal else {
        return Answer::error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "unauthorized");
    };
    let bad = |message: &str| Answer::error(StatusCode::BAD_REQUEST, "BAD_REQUEST", message);
    let request: Value = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(_) => return bad("the body is not JSON"),
    };
    if request["level"] != "project" {
        return bad("a project robot must have level `project`");
    }
    let duration = request["duration"].as_i64().unwrap_or(0);
    if duration != -1 && duration <= 0 {
        return bad("duration must be either -1(Never) or a positive integer");
    }
    let Some([permission]) = request["permissions"].as_array().map(Vec::as_slice) else {
        return bad("a project robot has exactly one permission entry");
    };
    if permission["kind"] != "project" {
        return bad("the permission's kind must be `project`");
    }
    let namespace = permission["namespace"].as_str().unwrap_or_default();
    let Some(project) = data.projects.iter().find(|p| p.name == namespace) else {
        return Answer::error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("project {namespace} not found"),
        );
    };
    if !admin && !project.members.contains(user) {
        return Answer::error(StatusCode::FORBIDDEN, "FORBIDDEN", "forbidden");
    }
    let access = permission["access"].as_array().cloned().unwrap_or_default();
    if access.is_empty()
        || !access.iter().all(|a| {
            a["resource"] == "repository" && matches!(a["action"].as_str(), Some("pull" | "push"))
        })
    {
        return bad("access must be repository pull and/or push");
    }
    let name = request["name"].as_str().unwrap_or_default();
    let full_name = format!("{ROBOT_PREFIX}{namespace}+{name}");
    if data.robots.iter().any(|r| r.name == full_name) {
        return Answer::error(
            StatusCode::CONFLICT,
            "CONFLICT",
            &format!("robot account {full_name} already exists"),
        );
    }
    let id = data.id();
    let secret = format!("S3cr3t{id}xKq9ZrT2mW");
    data.robots.push(FakeRobot {
        id,
        name: full_name.clone(),
        secret: secret.clone(),
    });
    let expires_at = if duration == -1 {
        -1
    } else {
        OffsetDateTime::now_utc().unix_timestamp() + duration * 86_400
    };
    Answer::json(
        StatusCode::CREATED,
        json!({
            "id": id, "name": full_name, "secret": secret,
            "creation_time": now(), "expires_at": expires_at
        }),
    )
    .with_header("location", &format!("/api/v2.0/robots/{id}"))
}

/// One page of `items` as Harbor pages: `page` from 1, `page_size` 10 unless asked.
fn page(paging: Paging, raw_path: &str, query: &[(String, String)], items: Vec<Value>) -> Answer {
    let number = |name: &str, default: usize| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(default)
    };
    let page = number("page", 1).max(1);
    let size = number("page_size", 10).max(1);
    let total = items.len();
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    let mut answer = Answer::json(StatusCode::OK, Value::Array(slice));
    if paging == Paging::Neither {
        return answer;
    }
    answer = answer.with_header("x-total-count", &total.to_string());
    if paging == Paging::Harbor {
        // Harbor's links keep the other query parameters and change `page`.
        let link_to = |target: usize| {
            let mut pairs = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in query.iter().filter(|(k, _)| k != "page") {
                pairs.append_pair(k, v);
            }
            pairs.append_pair("page", &target.to_string());
            format!("<{raw_path}?{}>", pairs.finish())
        };
        let mut links = Vec::new();
        if page > 1 {
            links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
        }
        if page * size < total {
            links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        }
        if !links.is_empty() {
            answer = answer.with_header("link", &links.join(" , "));
        }
    }
    answer
}

/// Harbor's token service: a token for the credentials, or an anonymous one for wrong or
/// missing credentials.
fn token(shared: &Shared, headers: &HeaderMap) -> Response {
    let token = match principal(shared, headers) {
        Principal::Anonymous => "anonymous".to_string(),
        Principal::User { name, .. } | Principal::Robot { name } => format!("login:{name}"),
    };
    axum::Json(json!({"token": token, "expires_in": 1800, "issued_at": now()})).into_response()
}

/// `/v2/`: anonymous tokens may not ping, and may read public projects only.
fn registry(shared: &Shared, raw_path: &str, headers: &HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let challenge = |scope: Option<&str>| {
        let mut value = format!(
            "Bearer realm=\"{}\",service=\"harbor-registry\"",
            shared.realm
        );
        if let Some(scope) = scope {
            value.push_str(&format!(",scope=\"{scope}\""));
        }
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, value)],
            axum::Json(
                json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
            ),
        )
            .into_response()
    };
    let logged_in = token.as_deref().is_some_and(|t| t.starts_with("login:"));
    if raw_path == "/v2/" {
        return if logged_in {
            (
                [("docker-distribution-api-version", "registry/2.0")],
                axum::Json(json!({})),
            )
                .into_response()
        } else {
            challenge(None)
        };
    }
    let Some(name) = raw_path
        .strip_prefix("/v2/")
        .and_then(|rest| rest.strip_suffix("/tags/list"))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let scope = format!("repository:{name}:pull");
    if token.is_none() {
        return challenge(Some(&scope));
    }
    let data = shared.data.lock().unwrap();
    let found = data.projects.iter().find_map(|project| {
        let repository = project.repositories.iter().find(|r| r.name == name)?;
        Some((project, repository))
    });
    match found {
        Some((project, repository)) if project.public || logged_in => {
            let mut tags: BTreeMap<String, ()> = BTreeMap::new();
            for artifact in &repository.artifacts {
                for tag in artifact["tags"].as_array().into_iter().flatten() {
                    tags.insert(tag["name"].as_str().unwrap().to_string(), ());
                }
            }
            let tags: Vec<String> = tags.into_keys().collect();
            axum::Json(json!({"name": name, "tags": tags})).into_response()
        }
        Some(_) => challenge(Some(&scope)),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}]})),
        )
            .into_response(),
    }
}
