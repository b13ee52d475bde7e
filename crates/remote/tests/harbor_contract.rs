//! `HarborClient` against an in-test Harbor (`harbor/double.rs`) whose every REST request and
//! answer is checked against Harbor's published API definition (`harbor/spec.rs`): the
//! client's requests must be operations the spec declares, with declared parameters and
//! bodies that fit its schemas, and the double's answers must fit the spec too, so the client
//! is tested against answers Harbor can give.

mod common;
mod harbor;

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method};
use berth_remote::harbor::{RobotAccess, RobotLifetime, Severity, Visibility};
use berth_remote::{Authentication, HarborClient, Listing, RemoteError, RemoteRegistry, Settings};
use harbor::double::{Data, Harbor, Paging, ADMIN, ADMIN_PASSWORD, PASSWORD, USER};
use harbor::spec;
use serde_json::json;

/// Harbor's largest page, so that 250 items take three pages; quick retries.
fn settings() -> Settings {
    Settings {
        page_size: 100,
        ..common::settings()
    }
}

fn client(harbor: &Harbor, user: &str, password: &str) -> HarborClient {
    HarborClient::new(
        common::endpoint(&harbor.url).with_credentials(user, password),
        settings(),
    )
    .expect("a valid endpoint")
}

fn anonymous(harbor: &Harbor) -> HarborClient {
    HarborClient::new(common::endpoint(&harbor.url), settings()).expect("a valid endpoint")
}

fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The `page` of every listing request to `path`, in order.
fn pages_asked(harbor: &Harbor, path: &str) -> Vec<String> {
    harbor
        .requests_to(Method::GET, path)
        .iter()
        .map(|r| query_value(&r.query, "page").unwrap_or("-").to_string())
        .collect()
}

/// 250 projects (even ones public), 250 repositories in `p000`, 250 artifacts in `p000/r000`.
fn big_harbor() -> Data {
    let mut data = Data::default();
    for i in 0..250 {
        data = data.project(&format!("p{i:03}"), i % 2 == 0);
    }
    for r in 0..250 {
        data = data.repository("p000", &format!("r{r:03}"), if r == 0 { 250 } else { 1 });
    }
    data
}

#[tokio::test]
async fn lists_projects_repositories_and_artifacts_across_three_pages() {
    let harbor = Harbor::start(big_harbor(), Paging::Harbor).await;
    let remote = client(&harbor, USER, PASSWORD);

    let projects = remote.projects().await.unwrap();
    assert_eq!(projects.len(), 250);
    assert_eq!(projects[0].name, "p000");
    assert!(projects[0].public);
    assert!(!projects[1].public);
    assert_eq!(projects[0].repo_count, Some(250));
    assert!(projects[0].update_time.is_some());
    assert_eq!(pages_asked(&harbor, "/projects"), ["1", "2", "3"]);

    let repositories = remote.project_repositories("p000").await.unwrap();
    assert_eq!(repositories.len(), 250);
    assert_eq!(repositories[0].name, "r000");
    assert_eq!(repositories[0].full_name, "p000/r000");
    assert_eq!(repositories[0].artifact_count, 250);
    assert_eq!(repositories[0].pull_count, 7);
    assert!(repositories[0].update_time.is_some());
    assert_eq!(
        pages_asked(&harbor, "/projects/p000/repositories"),
        ["1", "2", "3"]
    );

    let artifacts = remote.artifacts("p000", "r000").await.unwrap();
    assert_eq!(artifacts.len(), 250);
    let first = &artifacts[0];
    assert_eq!(first.tags, ["v0", "latest"]);
    assert_eq!(first.kind.as_deref(), Some("IMAGE"));
    assert_eq!(
        first.manifest_media_type,
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(first.size, 1000);
    assert!(first.push_time.is_some());
    assert_eq!(first.pull_time, None, "Go's zero time means never pulled");
    assert_eq!(first.extra_attrs.architecture.as_deref(), Some("amd64"));
    assert_eq!(first.extra_attrs.os.as_deref(), Some("linux"));
    assert_eq!(first.extra_attrs.author, None);
    assert!(first.extra_attrs.created.is_some());
    assert_eq!(first.extra_attrs.config().unwrap()["Cmd"], json!(["/app"]));
    let scan = &first.scan_overview["application/vnd.security.vulnerability.report; version=1.1"];
    assert_eq!(scan.scan_status.as_deref(), Some("Success"));
    assert_eq!(scan.severity, Some(Severity::High));
    let counts = scan.summary.as_ref().unwrap();
    assert_eq!((counts.total, counts.fixable), (5, 2));
    assert_eq!(counts.by_severity["High"], 2);
    assert_eq!(
        scan.scanner.as_ref().unwrap().name.as_deref(),
        Some("Trivy")
    );
    assert!(artifacts[1].scan_overview.is_empty());
    let artifact_path = "/projects/p000/repositories/r000/artifacts";
    assert_eq!(pages_asked(&harbor, artifact_path), ["1", "2", "3"]);
    for request in harbor.requests_to(Method::GET, artifact_path) {
        assert_eq!(query_value(&request.query, "with_tag"), Some("true"));
        assert_eq!(
            query_value(&request.query, "with_scan_overview"),
            Some("true")
        );
        assert_eq!(query_value(&request.query, "page_size"), Some("100"));
        assert!(request.headers.contains_key("x-accept-vulnerabilities"));
    }

    // Basic goes with every REST request, and the login is checked once, first.
    let requests = harbor.requests();
    assert!(requests.iter().all(|r| r
        .headers
        .get("authorization")
        .is_some_and(|v| v.to_str().unwrap().starts_with("Basic "))));
    assert_eq!(requests[0].raw_path, "/api/v2.0/users/current");
    assert_eq!(harbor.requests_to(Method::GET, "/users/current").len(), 1);
    harbor.assert_contract_kept();
}

#[tokio::test]
async fn paging_without_links_follows_the_total_count_or_stops_at_a_short_page() {
    for (paging, projects, pages) in [
        (Paging::TotalCountOnly, 250, &["1", "2", "3"][..]),
        (Paging::TotalCountOnly, 200, &["1", "2"][..]),
        (Paging::Neither, 250, &["1", "2", "3"][..]),
        // A full last page cannot be told from a middle one: the empty page after it ends.
        (Paging::Neither, 200, &["1", "2", "3"][..]),
    ] {
        let mut data = Data::default();
        for i in 0..projects {
            data = data.project(&format!("p{i:03}"), false);
        }
        let harbor = Harbor::start(data, paging).await;
        let listed = client(&harbor, USER, PASSWORD).projects().await.unwrap();
        assert_eq!(listed.len(), projects, "{paging:?}");
        assert_eq!(
            pages_asked(&harbor, "/projects"),
            pages,
            "{paging:?} {projects}"
        );
        harbor.assert_contract_kept();
    }
}

#[tokio::test]
async fn page_size_is_capped_at_the_specs_maximum() {
    let mut data = Data::default();
    for i in 0..150 {
        data = data.project(&format!("p{i:03}"), true);
    }
    let harbor = Harbor::start(data, Paging::Harbor).await;
    let remote = HarborClient::new(
        common::endpoint(&harbor.url).with_credentials(USER, PASSWORD),
        Settings {
            page_size: 1000,
            ..settings()
        },
    )
    .unwrap();
    assert_eq!(remote.projects().await.unwrap().len(), 150);
    let requests = harbor.requests_to(Method::GET, "/projects");
    assert_eq!(requests.len(), 2);
    assert!(requests
        .iter()
        .all(|r| query_value(&r.query, "page_size") == Some("100")));
    harbor.assert_contract_kept();
}

#[tokio::test]
async fn repository_names_with_slashes_are_encoded_twice() {
    let data = Data::default()
        .project("team", false)
        .repository("team", "tools/builder/x", 3)
        .repository("team", "app", 1);
    let harbor = Harbor::start(data, Paging::Harbor).await;
    let remote = client(&harbor, USER, PASSWORD);

    let repositories = remote.project_repositories("team").await.unwrap();
    let nested = repositories
        .iter()
        .find(|r| r.full_name == "team/tools/builder/x")
        .unwrap();
    assert_eq!(nested.name, "tools/builder/x");
    let artifacts = remote.artifacts("team", &nested.name).await.unwrap();
    assert_eq!(artifacts.len(), 3);
    let sent = harbor
        .requests()
        .into_iter()
        .find(|r| r.raw_path.ends_with("/artifacts"))
        .unwrap();
    assert_eq!(
        sent.raw_path,
        "/api/v2.0/projects/team/repositories/tools%252Fbuilder%252Fx/artifacts"
    );

    // The content API takes the full name as it is, through Harbor's token service.
    assert_eq!(
        remote.tags("team/tools/builder/x").await.unwrap(),
        ["latest", "v0", "v1", "v2"]
    );

    // Names that could leave their path segment are refused before anything is sent.
    let before = harbor.requests().len();
    for (project, repository) in [
        ("team", "a/../b"),
        ("..", "app"),
        ("a/b", "app"),
        ("team", ""),
    ] {
        let error = remote.artifacts(project, repository).await.unwrap_err();
        assert!(matches!(error, RemoteError::Invalid(_)), "{error}");
    }
    assert_eq!(harbor.requests().len(), before);
    harbor.assert_contract_kept();

    // Encoded once, the slashes come back when Harbor decodes the path: no such route.
    let once = reqwest::Client::new()
        .get(format!(
            "{}/api/v2.0/projects/team/repositories/tools%2Fbuilder%2Fx/artifacts",
            harbor.url
        ))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(once.status(), 404);
    if harbor.checks_contract() {
        let violations = harbor.violations();
        assert!(
            violations
                .iter()
                .any(|v| v.contains("no path of the spec matches")),
            "{violations:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_is_unauthorized_rather_than_anonymous() {
    let data = Data::default()
        .project("open", true)
        .project("closed", false)
        .repository("closed", "app", 1);
    let harbor = Harbor::start(data, Paging::Harbor).await;
    let wrong = "not-the-password-42";
    let remote = client(&harbor, USER, wrong);

    // Harbor would serve these as anonymous; the client must not take that for a login.
    let error = remote.check().await.unwrap_err();
    assert!(matches!(error, RemoteError::Unauthorized { .. }), "{error}");
    assert!(
        error.to_string().contains("GET /api/v2.0/users/current")
            && error
                .to_string()
                .contains("refused the configured credentials"),
        "{error}"
    );
    let error = remote.projects().await.unwrap_err();
    assert!(matches!(error, RemoteError::Unauthorized { .. }), "{error}");
    let error = remote.repositories().await.unwrap_err();
    assert!(matches!(error, RemoteError::Unauthorized { .. }), "{error}");
    for shown in [
        error.to_string(),
        format!("{error:?}"),
        format!("{remote:?}"),
    ] {
        assert!(!shown.contains(wrong), "{shown}");
    }

    // Without credentials, Harbor's anonymous view is what there is.
    let visitor = anonymous(&harbor);
    let report = visitor.check().await.unwrap();
    assert_eq!(report.authentication, Authentication::Anonymous);
    assert_eq!(report.api_version, None);
    let names: Vec<String> = visitor
        .projects()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["open"]);
    let error = visitor.project_repositories("closed").await.unwrap_err();
    assert!(matches!(error, RemoteError::Unauthorized { .. }), "{error}");
    assert!(error.to_string().contains("none are configured"), "{error}");

    let right = client(&harbor, USER, PASSWORD);
    assert_eq!(right.projects().await.unwrap().len(), 2);
    harbor.assert_contract_kept();
}

#[tokio::test]
async fn check_reports_harbor_and_repositories_come_from_projects() {
    let data = Data::default()
        .project("team", false)
        .repository("team", "app", 1)
        .repository("team", "tools/x", 1)
        .project("other", false)
        .repository("other", "svc", 1)
        .foreign_project("foreign", false)
        .repository("foreign", "secret", 1)
        .foreign_project("pub", true)
        .repository("pub", "lib", 1);
    let harbor = Harbor::start(data, Paging::Harbor).await;
    let remote = client(&harbor, USER, PASSWORD);

    let report = remote.check().await.unwrap();
    assert_eq!(report.listing, Listing::Catalog);
    assert_eq!(report.authentication, Authentication::Token);
    assert_eq!(report.api_version.as_deref(), Some("registry/2.0"));
    let asked: Vec<String> = harbor
        .requests()
        .iter()
        .map(|r| r.raw_path.clone())
        .collect();
    assert_eq!(
        asked,
        [
            "/api/v2.0/systeminfo",
            "/api/v2.0/users/current",
            "/api/v2.0/projects"
        ]
    );
    let system = remote.system_info().await.unwrap();
    assert_eq!(system.harbor_version.as_deref(), Some("v2.11.0-double"));
    assert_eq!(system.auth_mode.as_deref(), Some("db_auth"));

    assert_eq!(
        remote.repositories().await.unwrap(),
        ["other/svc", "pub/lib", "team/app", "team/tools/x"]
    );
    let admin = client(&harbor, ADMIN, ADMIN_PASSWORD);
    assert!(admin
        .repositories()
        .await
        .unwrap()
        .contains(&"foreign/secret".to_string()));

    // A followed prefix lists its project only; named repositories are taken as they are; a
    // prefix naming no project adds nothing.
    let followed = HarborClient::new(
        common::endpoint(&harbor.url)
            .with_credentials(USER, PASSWORD)
            .with_follow(["team/tools/", "named/repo", "ghost/"]),
        settings(),
    )
    .unwrap();
    let listed_before = harbor.requests_to(Method::GET, "/projects").len();
    assert_eq!(
        followed.repositories().await.unwrap(),
        ["named/repo", "team/tools/x"]
    );
    assert_eq!(
        harbor.requests_to(Method::GET, "/projects").len(),
        listed_before
    );
    assert_eq!(
        followed.check().await.unwrap().listing,
        Listing::Followed {
            repositories: 1,
            prefixes: 2
        }
    );
    harbor.assert_contract_kept();

    // A registry without Harbor's API says so.
    let plain = common::serve(axum::Router::new()).await;
    let error = HarborClient::new(common::endpoint(&plain), settings())
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(
        matches!(error, RemoteError::Protocol { .. })
            && error.to_string().contains("no Harbor API here"),
        "{error}"
    );
}

#[tokio::test]
async fn projects_are_created_with_their_visibility_and_conflicts_are_explained() {
    let harbor = Harbor::start(Data::default(), Paging::Harbor).await;
    let remote = client(&harbor, USER, PASSWORD);

    let id = remote
        .create_project("fresh", Visibility::Public)
        .await
        .unwrap();
    assert!(id.is_some());
    remote
        .create_project("hidden", Visibility::Private)
        .await
        .unwrap();
    let bodies: Vec<_> = harbor
        .requests_to(Method::POST, "/projects")
        .into_iter()
        .map(|r| r.body.unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"project_name": "fresh", "metadata": {"public": "true"}}),
            json!({"project_name": "hidden", "metadata": {"public": "false"}}),
        ]
    );
    let projects = remote.projects().await.unwrap();
    assert_eq!(projects[0].project_id, id.unwrap());
    assert!(projects[0].public && !projects[1].public);

    let error = remote
        .create_project("fresh", Visibility::Private)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(409), "{error}");
    let shown = error.to_string();
    assert!(
        shown.contains("POST /api/v2.0/projects")
            && shown.contains("CONFLICT: The project named fresh already exists")
            && shown.contains("Harbor request ID req-0042"),
        "{shown}"
    );
    let error = remote
        .create_project("Not A Name", Visibility::Public)
        .await
        .unwrap_err();
    assert!(matches!(error, RemoteError::Invalid(_)), "{error}");
    harbor.assert_contract_kept();
}

#[tokio::test]
async fn robot_accounts_are_created_and_deleted_with_the_specs_shapes() {
    let data = Data::default()
        .project("team", false)
        .repository("team", "app", 2);
    let harbor = Harbor::start(data, Paging::Harbor).await;
    let remote = client(&harbor, USER, PASSWORD);

    let ci = remote
        .create_robot(
            "team",
            "ci",
            RobotAccess {
                pull: true,
                push: true,
            },
            RobotLifetime::Never,
        )
        .await
        .unwrap();
    assert_eq!(ci.name, "robot$team+ci");
    assert!(!ci.secret.expose().is_empty());
    assert_eq!(ci.expires_at, None);
    let puller = remote
        .create_robot(
            "team",
            "puller",
            RobotAccess {
                pull: true,
                push: false,
            },
            RobotLifetime::Days(NonZeroU32::new(30).unwrap()),
        )
        .await
        .unwrap();
    let expires_in = puller.expires_at.unwrap() - time::OffsetDateTime::now_utc();
    assert!(
        (expires_in - time::Duration::days(30)).abs() < time::Duration::minutes(5),
        "{expires_in}"
    );
    let bodies: Vec<_> = harbor
        .requests_to(Method::POST, "/robots")
        .into_iter()
        .map(|r| r.body.unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({
                "name": "ci", "level": "project", "disable": false, "duration": -1,
                "permissions": [{"kind": "project", "namespace": "team", "access": [
                    {"resource": "repository", "action": "pull"},
                    {"resource": "repository", "action": "push"}
                ]}]
            }),
            json!({
                "name": "puller", "level": "project", "disable": false, "duration": 30,
                "permissions": [{"kind": "project", "namespace": "team", "access": [
                    {"resource": "repository", "action": "pull"}
                ]}]
            }),
        ]
    );

    // The robot logs in as Harbor's robots do: no user profile (412), yet a login.
    let robot = client(&harbor, &ci.name, ci.secret.expose());
    let report = robot.check().await.unwrap();
    assert_eq!(report.authentication, Authentication::Token);
    let names: Vec<String> = robot
        .projects()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["team"]);
    assert_eq!(
        robot.tags("team/app").await.unwrap(),
        ["latest", "v0", "v1"]
    );

    remote.delete_robot(ci.id).await.unwrap();
    let deletes = harbor.requests_to(Method::DELETE, &format!("/robots/{}", ci.id));
    assert_eq!(deletes.len(), 1);
    assert!(deletes[0].body.is_none());
    let error = remote.delete_robot(ci.id).await.unwrap_err();
    assert!(matches!(error, RemoteError::NotFound { .. }), "{error}");

    let before = harbor.requests().len();
    let error = remote
        .create_robot(
            "team",
            "idle",
            RobotAccess {
                pull: false,
                push: false,
            },
            RobotLifetime::Never,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, RemoteError::Invalid(_)), "{error}");
    assert_eq!(harbor.requests().len(), before);
    harbor.assert_contract_kept();
}

#[tokio::test]
async fn a_rate_limited_request_is_retried_after_retry_after() {
    let harbor = Harbor::start(Data::default().project("team", true), Paging::Harbor).await;
    let remote = client(&harbor, USER, PASSWORD);
    harbor.throttle(1);
    let started = Instant::now();
    assert_eq!(remote.projects().await.unwrap().len(), 1);
    let waited = started.elapsed();
    // The first request (the login check) was answered 429 with `Retry-After: 1`.
    assert_eq!(harbor.requests_to(Method::GET, "/users/current").len(), 2);
    // The test settings back off 50 ms at most; only Retry-After explains a second.
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    harbor.assert_contract_kept();
}

#[tokio::test]
async fn debug_and_errors_never_show_the_password_or_a_robot_secret() {
    // This Harbor quotes the caller's credentials in its 404 messages.
    let data = Data::default().project("team", false);
    let harbor = Harbor::start_with(data, Paging::Harbor, true).await;
    let remote = client(&harbor, USER, PASSWORD);
    let shown = format!("{remote:?}");
    assert!(
        !shown.contains(PASSWORD) && shown.contains("HarborClient"),
        "{shown}"
    );

    let error = remote.artifacts("team", "missing").await.unwrap_err();
    assert!(matches!(error, RemoteError::NotFound { .. }), "{error}");
    let text = error.to_string();
    assert!(text.contains("for alice:<redacted>"), "{text}");
    for shown in [text, format!("{error:?}")] {
        assert!(!shown.contains(PASSWORD), "{shown}");
    }

    let robot = remote
        .create_robot(
            "team",
            "ci",
            RobotAccess {
                pull: true,
                push: false,
            },
            RobotLifetime::Never,
        )
        .await
        .unwrap();
    let secret = robot.secret.expose().to_string();
    let as_robot = client(&harbor, &robot.name, &secret);
    let error = as_robot.artifacts("team", "missing").await.unwrap_err();
    for shown in [
        format!("{robot:?}"),
        format!("{as_robot:?}"),
        error.to_string(),
        format!("{error:?}"),
    ] {
        assert!(!shown.contains(&secret), "{shown}");
    }
    harbor.assert_contract_kept();
}

/// The checker itself: requests and answers that break the spec are caught, so that the
/// tests above passing means something.
#[tokio::test]
async fn the_contract_check_catches_what_breaks_the_spec() {
    let Some(spec) = spec::load() else {
        // `spec::load` has said why, outside the harness's capture.
        return;
    };
    let none = HeaderMap::new();
    let query = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let request_problems = |method: Method, path: &str, pairs: &[(&str, &str)], body: &str| {
        let operation = spec.operation(&method, path).unwrap();
        let mut headers = HeaderMap::new();
        if !body.is_empty() {
            headers.insert("content-type", HeaderValue::from_static("application/json"));
        }
        spec.check_request(&operation, &query(pairs), &headers, body.as_bytes())
            .join("\n")
    };

    assert_eq!(spec.base_path(), "/api/v2.0");
    assert_eq!(
        spec.operation(&Method::GET, "/api/v2.0/users/current")
            .unwrap()
            .id,
        "getCurrentUserInfo"
    );
    assert!(request_problems(
        Method::GET,
        "/api/v2.0/projects",
        &[("page", "2"), ("page_size", "100")],
        ""
    )
    .is_empty());
    for (pairs, expected) in [
        (&[("pagesize", "5")][..], "pagesize is not declared"),
        (&[("page_size", "500")][..], "above the maximum of 100"),
        (&[("page", "two")][..], "not an integer"),
        (&[("with_detail", "yes")][..], "not a boolean"),
    ] {
        let problems = request_problems(Method::GET, "/api/v2.0/projects", pairs, "");
        assert!(problems.contains(expected), "{pairs:?}: {problems}");
    }
    let operation = spec.operation(&Method::GET, "/api/v2.0/projects").unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("x-is-resource-name", HeaderValue::from_static("true"));
    let problems = spec
        .check_request(&operation, &[], &headers, b"")
        .join("\n");
    assert!(
        problems.contains("x-is-resource-name is not declared"),
        "{problems}"
    );

    // Bodies: a misspelt field, a wrong type, a missing body, a misspelt nested field.
    for (body, expected) in [
        (r#"{"projectname": "x"}"#, "projectname"),
        (r#"{"project_name": 5}"#, "project_name"),
        (
            r#"{"project_name": "x", "metadata": {"public": true}}"#,
            "metadata/public",
        ),
    ] {
        let problems = request_problems(Method::POST, "/api/v2.0/projects", &[], body);
        assert!(problems.contains(expected), "{body}: {problems}");
    }
    let problems = request_problems(Method::POST, "/api/v2.0/projects", &[], "");
    assert!(problems.contains("required body is missing"), "{problems}");
    let problems = request_problems(
        Method::POST,
        "/api/v2.0/robots",
        &[],
        r#"{"name": "x", "permissions": [{"kind": "project", "namespace": "p", "access": [{"resource": "repository", "acton": "pull"}]}]}"#,
    );
    assert!(problems.contains("acton"), "{problems}");
    let problems = request_problems(Method::DELETE, "/api/v2.0/robots/abc", &[], "");
    assert!(problems.contains("robot_id=abc"), "{problems}");
    let problems = request_problems(Method::DELETE, "/api/v2.0/robots/7", &[], "{}");
    assert!(problems.contains("takes none"), "{problems}");

    // Paths: a repository encoded once matches nothing; twice, it is one parameter.
    assert!(spec
        .operation(
            &Method::GET,
            "/api/v2.0/projects/p/repositories/a%2Fb/artifacts"
        )
        .is_err());
    let operation = spec
        .operation(
            &Method::GET,
            "/api/v2.0/projects/p/repositories/a%252Fb/artifacts",
        )
        .unwrap();
    assert_eq!(operation.id, "listArtifacts");
    assert_eq!(operation.path_values["repository_name"], "a%2Fb");
    assert!(spec
        .operation(&Method::PATCH, "/api/v2.0/projects")
        .is_err());
    assert!(spec.operation(&Method::GET, "/api/v2.0/projekts").is_err());

    // Answers.
    let list = spec.operation(&Method::GET, "/api/v2.0/projects").unwrap();
    let answer_problems =
        |operation: &spec::Operation, status: u16, headers: &HeaderMap, body: &str| {
            spec.check_response(operation, status, headers, body.as_bytes())
                .join("\n")
        };
    assert!(answer_problems(
        &list,
        200,
        &none,
        r#"[{"project_id": 1, "name": "a", "metadata": {"public": "true"}}]"#
    )
    .is_empty());
    for (status, body, expected) in [
        (200, r#"[{"name": 5}]"#, "/0/name"),
        // Harbor's `public` is a string; a boolean is what a careless double would send.
        (
            200,
            r#"[{"metadata": {"public": true}}]"#,
            "/0/metadata/public",
        ),
        (200, r#"[{"nmae": "a"}]"#, "nmae"),
        (418, "", "status 418 is not declared"),
        (
            401,
            r#"{"errors": [{"code": "UNAUTHORIZED", "mesage": "x"}]}"#,
            "mesage",
        ),
    ] {
        let problems = answer_problems(&list, status, &none, body);
        assert!(problems.contains(expected), "{body}: {problems}");
    }
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from_static("many"));
    assert!(answer_problems(&list, 200, &headers, "[]").contains("not an integer"));
    let create = spec.operation(&Method::POST, "/api/v2.0/projects").unwrap();
    assert!(answer_problems(&create, 201, &none, "{}").contains("declares no body"));
    // Nullable fields may be null; `extra_attrs` holds any values, as go-swagger reads it.
    let info = spec
        .operation(&Method::GET, "/api/v2.0/systeminfo")
        .unwrap();
    assert!(answer_problems(&info, 200, &none, r#"{"harbor_version": null}"#).is_empty());
    let artifacts = spec
        .operation(
            &Method::GET,
            "/api/v2.0/projects/p/repositories/r/artifacts",
        )
        .unwrap();
    assert!(answer_problems(
        &artifacts,
        200,
        &none,
        r#"[{"digest": "sha256:00", "extra_attrs": {"architecture": "amd64", "config": {}}}]"#
    )
    .is_empty());
    assert!(
        answer_problems(&artifacts, 200, &none, r#"[{"push_time": "last tuesday"}]"#)
            .contains("push_time")
    );
}
