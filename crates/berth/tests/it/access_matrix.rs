//! The access matrix of the hosted registry (docs/model.md, "The visibility rule"), cell by cell, over the real
//! token flow.
//!
//! Nine principals (the platform admin; the admin, an editor, a viewer, a pull robot and a
//! push robot of workspace `team`; an anonymous client; the admin and a robot of another
//! workspace) meet three spaces (public; private and bound to `team`; private and bound to
//! nobody). For every pair the test asks `GET /auth/token` for the scope a client would ask for
//! and makes the real `/v2` request with that token: manifest and blob HEADs for pull, an
//! upload POST for push, a manifest DELETE for delete. It also checks whether `/v2/_catalog`
//! lists the space's repository and whether `GET /api/v1/registries/hosted/spaces/<space>`
//! shows the space to the principal.
//!
//! The expected cells are written out below from docs/model.md and docs/api-contract.md, not
//! computed by the access crate, so that the test checks the implementation instead of
//! repeating it. Run with `--nocapture` to see the matrix.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use base64::Engine;
use berth_testkit::{layer, Image, ImageBuilder};
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::skopeo::{app_image, assert_same_bytes, oci_layout, Skopeo};
use crate::support::{
    bind, client, create_robot, create_space, create_workspace, delete_robot, push_image,
    set_auto_create_spaces, set_role, Backend, TestServer, ADMIN_PASSWORD,
};

crate::on_both_backends!(
    multi_thread:
    refusals_do_not_reveal_private_spaces,
    matrix,
    matrix_with_skopeo,
    changes_take_effect_on_the_next_token,
    missing_spaces_are_refused_unless_auto_created,
);

// ---------------------------------------------------------------------------------------------
// The expected matrix
// ---------------------------------------------------------------------------------------------

/// The three kinds of space, in column order.
const SPACES: [&str; 3] = ["public-space", "bound-space", "unbound-space"];

/// What each principal may do in each space of [`SPACES`], written out from docs/model.md ("The visibility rule"):
///
/// - pull: anyone when the space is public (anonymous pull is on by default); members and
///   robots (with `pull`) of a workspace bound to the space; platform admins.
/// - push: admins and editors of a bound workspace; robots of a bound workspace with `push`;
///   platform admins.
/// - delete: admins of a bound workspace; platform admins.
/// - catalog: `/v2/_catalog` lists exactly what the caller may pull.
/// - api: `GET /api/v1/registries/hosted/spaces/<space>` answers 200 to whoever may see the
///   space (public, bound to one of their workspaces, or everything for platform admins) and
///   404 to everyone else signed in, as if it did not exist (docs/api-contract.md). Anonymous
///   clients are not signed in, so the API answers them 401 whatever the space.
///
/// Each cell lists the allowed columns; `-` allows none.
#[rustfmt::skip]
const EXPECTED: [(&str, [&str; 3]); 9] = [
    // principal         public-space                     bound-space                      unbound-space
    ("platform-admin",  ["pull push delete catalog api", "pull push delete catalog api", "pull push delete catalog api"]),
    ("team-admin",      ["pull catalog api",             "pull push delete catalog api", "-"]),
    ("team-editor",     ["pull catalog api",             "pull push catalog api",        "-"]),
    ("team-viewer",     ["pull catalog api",             "pull catalog api",             "-"]),
    ("team-robot-pull", ["pull catalog api",             "pull catalog api",             "-"]),
    ("team-robot-push", ["pull catalog api",             "pull push catalog api",        "-"]),
    ("anonymous",       ["pull catalog",                 "-",                            "-"]),
    ("other-admin",     ["pull catalog api",             "-",                            "-"]),
    ("other-robot",     ["pull catalog api",             "-",                            "-"]),
];

/// The columns of one cell.
const COLUMNS: [&str; 5] = ["pull", "push", "delete", "catalog", "api"];

/// One cell of the matrix: expected, or as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cell {
    pull: bool,
    push: bool,
    delete: bool,
    catalog: bool,
    /// The status of `GET /api/v1/registries/hosted/spaces/<space>`.
    api: u16,
}

impl Cell {
    fn expected(spec: &str, anonymous: bool) -> Cell {
        let allowed: BTreeSet<&str> = spec.split_whitespace().filter(|c| *c != "-").collect();
        for column in &allowed {
            assert!(COLUMNS.contains(column), "unknown column `{column}`");
        }
        Cell {
            pull: allowed.contains("pull"),
            push: allowed.contains("push"),
            delete: allowed.contains("delete"),
            catalog: allowed.contains("catalog"),
            api: match (anonymous, allowed.contains("api")) {
                (true, _) => 401,
                (false, true) => 200,
                (false, false) => 404,
            },
        }
    }

    /// The cell's values in [`COLUMNS`] order, as printed.
    fn values(&self) -> [String; 5] {
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        [
            yes_no(self.pull),
            yes_no(self.push),
            yes_no(self.delete),
            yes_no(self.catalog),
            self.api.to_string(),
        ]
    }

    /// The token actions this cell allows on a repository of its space.
    fn actions(&self) -> BTreeSet<String> {
        [
            ("pull", self.pull),
            ("push", self.push),
            ("delete", self.delete),
        ]
        .into_iter()
        .filter(|(_, allowed)| *allowed)
        .map(|(action, _)| action.to_string())
        .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The world the matrix runs in
// ---------------------------------------------------------------------------------------------

/// Who is asking: a label and the Basic credentials they sign in with (none: anonymous).
#[derive(Debug, Clone)]
struct Principal {
    label: &'static str,
    credentials: Option<(String, String)>,
}

impl Principal {
    fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()))
    }
}

/// A server with workspaces `team` and `others`, their members and robots, and the three
/// spaces of [`SPACES`], each seeded by the platform admin with [`app_image`] as `<space>/app:v1`.
/// Auto-create is off, as in a deployment that did not turn it on.
struct World {
    server: TestServer,
    http: reqwest::Client,
    principals: Vec<Principal>,
    image: Image,
}

const PASSWORD: &str = "matrix-password";

impl World {
    async fn build(backend: Backend) -> World {
        let server = TestServer::spawn(backend).await;
        let store = &server.state.store;
        set_auto_create_spaces(store, false).await;
        create_workspace(store, "team").await;
        create_workspace(store, "others").await;
        for (user, workspace, role) in [
            ("team-admin", "team", "admin"),
            ("team-editor", "team", "editor"),
            ("team-viewer", "team", "viewer"),
            ("other-admin", "others", "admin"),
        ] {
            server.create_user(user, PASSWORD, false).await;
            set_role(store, workspace, user, role).await;
        }
        let robot_pull = create_robot(store, "team", "puller", true, false).await;
        let robot_push = create_robot(store, "team", "pusher", true, true).await;
        let other_robot = create_robot(store, "others", "ci", true, true).await;
        create_space(store, "public-space", true).await;
        create_space(store, "bound-space", false).await;
        create_space(store, "unbound-space", false).await;
        bind(store, "bound-space", &["team"]).await;

        let user = |label: &'static str, name: &str, password: &str| Principal {
            label,
            credentials: Some((name.to_string(), password.to_string())),
        };
        let principals = vec![
            user("platform-admin", "admin", ADMIN_PASSWORD),
            user("team-admin", "team-admin", PASSWORD),
            user("team-editor", "team-editor", PASSWORD),
            user("team-viewer", "team-viewer", PASSWORD),
            user("team-robot-pull", &robot_pull.0, &robot_pull.1),
            user("team-robot-push", &robot_push.0, &robot_push.1),
            Principal {
                label: "anonymous",
                credentials: None,
            },
            user("other-admin", "other-admin", PASSWORD),
            user("other-robot", &other_robot.0, &other_robot.1),
        ];
        let world = World {
            server,
            http: client(),
            principals,
            image: app_image(),
        };
        for space in SPACES {
            world
                .seed(&format!("{space}/app"), &world.image, "v1")
                .await;
        }
        world
    }

    fn principal(&self, label: &str) -> &Principal {
        self.principals
            .iter()
            .find(|p| p.label == label)
            .unwrap_or_else(|| panic!("no principal `{label}`"))
    }

    /// Pushes `image` as the platform admin.
    async fn seed(&self, repository: &str, image: &Image, reference: &str) {
        let token = self.server.admin_token(&[repository]).await;
        push_image(&self.server.url, &token, repository, image, reference).await;
    }

    /// `GET /auth/token` for `scope`, signed in as `who`: the token, and the actions it grants
    /// on `repository`. Every grant must name the asked-for repository.
    async fn token(
        &self,
        who: &Principal,
        scope: &str,
        repository: &str,
    ) -> (String, BTreeSet<String>) {
        let mut request = self
            .http
            .get(format!("{}/auth/token", self.server.url))
            .query(&[("service", "berth"), ("scope", scope)]);
        if let Some((user, password)) = who.credentials() {
            request = request.basic_auth(user, Some(password));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{}: token for {scope}", who.label);
        let body: Value = response.json().await.unwrap();
        let token = body["token"].as_str().unwrap().to_string();
        let mut actions = BTreeSet::new();
        for entry in claims(&token)["access"].as_array().unwrap() {
            if entry["type"] == "registry" {
                continue;
            }
            assert_eq!(
                entry["name"], repository,
                "{}: {scope} granted {entry}",
                who.label
            );
            for action in entry["actions"].as_array().unwrap() {
                actions.insert(action.as_str().unwrap().to_string());
            }
        }
        (token, actions)
    }

    fn v2(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/v2/{path}", self.server.url))
            .bearer_auth(token)
    }

    /// The status of `GET /api/v1/registries/hosted/spaces/<space>` for `who`.
    async fn api_space_status(&self, who: &Principal, space: &str) -> u16 {
        let mut request = self.http.get(format!(
            "{}/api/v1/registries/hosted/spaces/{space}",
            self.server.url
        ));
        if let Some((user, password)) = who.credentials() {
            request = request.basic_auth(user, Some(password));
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// The repositories `/v2/_catalog` lists for `who`.
    async fn catalog(&self, who: &Principal) -> Vec<String> {
        let (token, _) = self.token(who, "registry:catalog:*", "").await;
        let response = self
            .v2(reqwest::Method::GET, "_catalog", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}: catalog", who.label);
        let body: Value = response.json().await.unwrap();
        serde_json::from_value(body["repositories"].clone()).unwrap()
    }

    /// Whether `who` may pull `repository` with a fresh pull token (manifest and blob HEAD),
    /// checking that a refusal has the right shape. Problems go to `odd`.
    async fn try_pull(&self, who: &Principal, repository: &str, odd: &mut Vec<String>) -> bool {
        let (token, _) = self
            .token(who, &format!("repository:{repository}:pull"), repository)
            .await;
        let manifest = self
            .v2(
                reqwest::Method::HEAD,
                &format!("{repository}/manifests/v1"),
                &token,
            )
            .send()
            .await
            .unwrap();
        let blob = self
            .v2(
                reqwest::Method::HEAD,
                &format!("{repository}/blobs/{}", self.image.config.digest),
                &token,
            )
            .send()
            .await
            .unwrap();
        let manifest = outcome(who, manifest, StatusCode::OK, odd, "manifest HEAD").await;
        let blob = outcome(who, blob, StatusCode::OK, odd, "blob HEAD").await;
        if manifest != blob {
            odd.push(format!(
                "{} on {repository}: the manifest HEAD {} but the blob HEAD {}",
                who.label,
                if manifest { "succeeded" } else { "was refused" },
                if blob { "succeeded" } else { "was refused" },
            ));
        }
        manifest && blob
    }

    /// Asks for a push token (scope `pull,push`, as clients ask) as `who` and starts an upload
    /// to `repository` with it. Answers the token, what it granted, and the registry's reply.
    async fn start_upload(
        &self,
        who: &Principal,
        repository: &str,
    ) -> (String, BTreeSet<String>, reqwest::Response) {
        let scope = format!("repository:{repository}:pull,push");
        let (token, granted) = self.token(who, &scope, repository).await;
        let response = self
            .v2(
                reqwest::Method::POST,
                &format!("{repository}/blobs/uploads/"),
                &token,
            )
            .send()
            .await
            .unwrap();
        (token, granted, response)
    }

    /// Whether `who` may start an upload to `repository` with a fresh push token. An upload
    /// that starts is cancelled again.
    async fn try_push(&self, who: &Principal, repository: &str, odd: &mut Vec<String>) -> bool {
        let (token, _, response) = self.start_upload(who, repository).await;
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let started = outcome(who, response, StatusCode::ACCEPTED, odd, "upload POST").await;
        if started {
            let location = location.expect("a started upload has a Location");
            let cancel = self
                .http
                .delete(format!("{}{location}", self.server.url))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(cancel.status(), 204, "{}: cancelling {location}", who.label);
        }
        started
    }

    /// Whether `who` may delete the manifest `doomed` from `repository` with a fresh delete
    /// token; checks that the manifest is gone exactly when the delete was allowed.
    async fn try_delete(
        &self,
        who: &Principal,
        repository: &str,
        doomed: &Image,
        odd: &mut Vec<String>,
    ) -> bool {
        let (token, _) = self
            .token(who, &format!("repository:{repository}:delete"), repository)
            .await;
        let path = format!("{repository}/manifests/{}", doomed.manifest.digest);
        let response = self
            .v2(reqwest::Method::DELETE, &path, &token)
            .send()
            .await
            .unwrap();
        let deleted = outcome(who, response, StatusCode::ACCEPTED, odd, "manifest DELETE").await;
        let admin = self.server.admin_token(&[repository]).await;
        let after = self
            .v2(reqwest::Method::HEAD, &path, &admin)
            .send()
            .await
            .unwrap()
            .status();
        let expected_after = if deleted { 404 } else { 200 };
        if after != expected_after {
            odd.push(format!(
                "{} on {repository}: after the delete the manifest answers {after}",
                who.label
            ));
        }
        deleted
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

/// The claims of a token, unverified.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Reads a `/v2` answer as allowed (`success`) or refused. A refusal must have the shape the
/// token spec gives it: 401 with an `insufficient_scope` challenge for anonymous clients (who
/// may sign in); for everyone else 403 `DENIED` where they may see the space, or 404
/// `NAME_UNKNOWN` where they may not (exactly as for a missing space, so private names do not
/// leak; `refusals_do_not_reveal_private_spaces` pins which is which). Anything else is noted
/// in `odd` and counts as refused.
async fn outcome(
    who: &Principal,
    response: reqwest::Response,
    success: StatusCode,
    odd: &mut Vec<String>,
    what: &str,
) -> bool {
    let status = response.status();
    if status == success {
        return true;
    }
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let url = response.url().path().to_string();
    let body = response.text().await.unwrap_or_default();
    let refused_right = if who.credentials.is_none() {
        status == StatusCode::UNAUTHORIZED && challenge.contains("error=\"insufficient_scope\"")
    } else {
        // HEAD answers carry no body, so only their status can be checked.
        (status == StatusCode::FORBIDDEN && (body.is_empty() || body.contains("\"DENIED\"")))
            || (status == StatusCode::NOT_FOUND
                && (body.is_empty() || body.contains("\"NAME_UNKNOWN\"")))
    };
    if !refused_right {
        odd.push(format!(
            "{}: {what} {url} answered {status} {challenge} {body}",
            who.label
        ));
    }
    false
}

/// A small image unique to `seed`, to be deleted by one principal.
fn doomed_image(seed: &str) -> Image {
    ImageBuilder::new()
        .layer(layer(&[("doomed", seed.as_bytes())]), "ADD doomed /")
        .config_field("Labels", json!({ "doomed-by": seed }))
        .build()
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

/// Every cell of the matrix, over HTTP.
async fn matrix(backend: Backend) {
    let world = World::build(backend).await;
    // One manifest per principal and space for that principal to try to delete, so that one
    // cell's delete never changes what another cell sees.
    for principal in &world.principals {
        for space in SPACES {
            let doomed = doomed_image(&format!("{}@{space}", principal.label));
            world
                .seed(&format!("{space}/app"), &doomed, &doomed.manifest.digest)
                .await;
        }
    }

    let mut mismatches = Vec::new();
    let mut odd = Vec::new();
    let mut rows = Vec::new();
    for (label, specs) in EXPECTED {
        let who = world.principal(label).clone();
        let listed = world.catalog(&who).await;
        let mut row = Vec::new();
        for (space, spec) in SPACES.into_iter().zip(specs) {
            let repository = format!("{space}/app");
            let expected = Cell::expected(spec, who.credentials.is_none());
            // What a token carries, asked for the way clients ask for each action.
            let (_, granted) = world
                .token(
                    &who,
                    &format!("repository:{repository}:pull,push,delete"),
                    &repository,
                )
                .await;
            if granted != expected.actions() {
                mismatches.push(format!(
                    "{label} / {space}: a token for pull,push,delete carries {granted:?}, expected {:?}",
                    expected.actions()
                ));
            }
            let doomed = doomed_image(&format!("{label}@{space}"));
            let observed = Cell {
                pull: world.try_pull(&who, &repository, &mut odd).await,
                push: world.try_push(&who, &repository, &mut odd).await,
                delete: world.try_delete(&who, &repository, &doomed, &mut odd).await,
                catalog: listed.contains(&repository),
                api: world.api_space_status(&who, space).await,
            };
            for ((column, got), want) in
                COLUMNS.iter().zip(observed.values()).zip(expected.values())
            {
                if got != want {
                    mismatches.push(format!(
                        "{label} / {space} / {column}: got {got}, expected {want}"
                    ));
                }
            }
            row.push((observed, expected));
        }
        rows.push((label, row));
    }
    println!("{}", render(backend, &rows));
    let cells = rows.len() * SPACES.len() * COLUMNS.len();
    println!(
        "{}: {cells} cells checked, {} mismatched",
        backend.name(),
        mismatches.len()
    );
    mismatches.extend(odd);
    assert!(
        mismatches.is_empty(),
        "{}: the access matrix disagrees with docs/model.md and docs/api-contract.md:\n{}",
        backend.name(),
        mismatches.join("\n")
    );
    world.stop().await;
}

/// The matrix as a table: one row per principal, five columns per space; a value that differs
/// from the expected one is marked `!`.
fn render(backend: Backend, rows: &[(&str, Vec<(Cell, Cell)>)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "access matrix on {} (observed; `!` marks a cell that differs from the expected one)",
        backend.name()
    );
    let _ = write!(out, "{:<16}", "");
    for space in SPACES {
        let _ = write!(out, " | {space:<39}");
    }
    let _ = writeln!(out);
    let _ = write!(out, "{:<16}", "principal");
    for _ in SPACES {
        let _ = write!(out, " |");
        for column in COLUMNS {
            let _ = write!(out, " {column:<7}");
        }
    }
    let _ = writeln!(out);
    for (label, cells) in rows {
        let _ = write!(out, "{label:<16}");
        for (observed, expected) in cells {
            let _ = write!(out, " |");
            for (got, want) in observed.values().iter().zip(expected.values()) {
                let mark = if *got == want { "" } else { "!" };
                let _ = write!(out, " {:<7}", format!("{got}{mark}"));
            }
        }
        let _ = writeln!(out);
    }
    out
}

/// A representative subset of the matrix with real `skopeo --creds`: a push robot pushes into
/// its bound space, a pull robot may pull there but not push, another workspace's robot can do
/// neither, and an anonymous client pulls a public space.
async fn matrix_with_skopeo(backend: Backend) {
    let world = World::build(backend).await;
    let host = world.server.host.clone();
    let skopeo = |label: &str| Skopeo::new(&host, world.principal(label).credentials());
    let source = oci_layout("v1", &world.image);
    let seeded = "bound-space/app:v1";

    // A robot with push pushes into the space its workspace is bound to, and is the pusher.
    let pusher = skopeo("team-robot-push");
    let pushed = pusher.image("bound-space/ci:v1");
    pusher.copy(&[], &source.reference, &pushed).await;
    assert_same_bytes(
        &pusher.ok(&[], "inspect", &["--raw", &pushed]).await,
        &world.image.manifest,
        "the robot's push",
    );
    let record = world
        .server
        .state
        .store
        .artifact(
            &berth_oci::RepoName::parse("bound-space/ci").unwrap(),
            &berth_oci::Digest::parse(&world.image.manifest.digest).unwrap(),
        )
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(record.pushed_by.as_deref(), Some("robot$team+pusher"));

    // A robot with pull only pulls there, and its push is refused.
    let puller = skopeo("team-robot-pull");
    assert_same_bytes(
        &puller
            .ok(&[], "inspect", &["--raw", &puller.image(seeded)])
            .await,
        &world.image.manifest,
        "the pull robot's inspect",
    );
    let error = puller
        .fails(
            &[],
            "copy",
            &[&source.reference, &puller.image("bound-space/refused:v1")],
        )
        .await;
    println!("pull robot pushing: {}", error.trim());
    assert_refused_by_rule(&error);

    // Another workspace's robot may neither pull nor push in a private space bound to `team`.
    let other = skopeo("other-robot");
    let error = other
        .fails(&[], "inspect", &["--raw", &other.image(seeded)])
        .await;
    println!("other workspace's robot pulling: {}", error.trim());
    assert_refused_by_rule(&error);
    let error = other
        .fails(
            &[],
            "copy",
            &[&source.reference, &other.image("bound-space/intruder:v1")],
        )
        .await;
    println!("other workspace's robot pushing: {}", error.trim());
    assert_refused_by_rule(&error);
    for refused in ["bound-space/refused", "bound-space/intruder"] {
        assert!(
            !world
                .server
                .state
                .store
                .repository_exists(&berth_oci::RepoName::parse(refused).unwrap())
                .await
                .unwrap(),
            "a refused push created {refused}"
        );
    }

    // Anonymous clients pull public spaces, byte for byte.
    let anonymous = skopeo("anonymous");
    anonymous
        .pulls_intact(
            &[],
            &anonymous.image("public-space/app:v1"),
            "v1",
            &world.image,
        )
        .await;
    world.stop().await;
}

/// A caller refused on a private space it may not see gets exactly the answer it gets for a
/// space that does not exist, so probing cannot tell private names from missing ones; a caller
/// who may see the space is told plainly that the action is denied.
async fn refusals_do_not_reveal_private_spaces(backend: Backend) {
    let world = World::build(backend).await;
    let answer = |who: &'static str, repository: &'static str| {
        let world = &world;
        async move {
            let who = world.principal(who).clone();
            let (_, _, response) = world.start_upload(&who, repository).await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or_default();
            let message = body["errors"][0]["message"].as_str().unwrap_or_default();
            let code = body["errors"][0]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (
                status,
                code,
                message.replace(repository.split('/').next().unwrap(), "<space>"),
            )
        }
    };
    for who in ["other-admin", "other-robot", "team-robot-pull"] {
        let private = answer(who, "unbound-space/app").await;
        let missing = answer(who, "no-such-space/app").await;
        assert_eq!(private.0, 404, "{who}: {private:?}");
        assert_eq!(private.1, "NAME_UNKNOWN", "{who}");
        assert_eq!(
            private, missing,
            "{who}: a private space answers like a missing one"
        );
    }
    let visible = answer("team-viewer", "public-space/app").await;
    assert_eq!((visible.0, visible.1.as_str()), (403, "DENIED"));
    world.stop().await;
}

/// Asserts that skopeo failed because the registry refused: with 403 `DENIED` (its message,
/// or only the status for a HEAD), or with 404 for a space the caller may not see.
fn assert_refused_by_rule(error: &str) {
    let lower = error.to_lowercase();
    assert!(
        lower.contains("denied: requested access")
            || lower.contains("403 (forbidden)")
            || lower.contains("not open to you"),
        "expected a refusal, got:\n{error}"
    );
}

/// Bindings, roles and robots are read fresh for every token: binding a space to a workspace
/// lets its robot pull with the very next token, unbinding takes that away again, demoting an
/// editor to viewer removes push at once, and a deleted robot's credentials stop working at once.
async fn changes_take_effect_on_the_next_token(backend: Backend) {
    let world = World::build(backend).await;
    let store = &world.server.state.store;
    let mut odd = Vec::new();

    // A robot of `team` cannot pull a private space bound to nobody...
    let robot = world.principal("team-robot-pull").clone();
    let repository = "unbound-space/app";
    let pull_scope = format!("repository:{repository}:pull");
    assert!(world
        .token(&robot, &pull_scope, repository)
        .await
        .1
        .is_empty());
    assert!(!world.try_pull(&robot, repository, &mut odd).await);
    // ...until the space is bound to `team`: the next token carries pull and the pull works...
    bind(store, "unbound-space", &["team"]).await;
    assert_eq!(
        world.token(&robot, &pull_scope, repository).await.1,
        actions(&["pull"])
    );
    assert!(world.try_pull(&robot, repository, &mut odd).await);
    // ...and after unbinding, the next token lacks pull and the pull is refused.
    bind(store, "unbound-space", &[]).await;
    assert!(world
        .token(&robot, &pull_scope, repository)
        .await
        .1
        .is_empty());
    assert!(!world.try_pull(&robot, repository, &mut odd).await);

    // An editor pushes into the bound space until demoted to viewer; then the next token
    // carries pull only and the push is refused.
    let editor = world.principal("team-editor").clone();
    let repository = "bound-space/app";
    let push_scope = format!("repository:{repository}:pull,push");
    assert_eq!(
        world.token(&editor, &push_scope, repository).await.1,
        actions(&["pull", "push"])
    );
    assert!(world.try_push(&editor, repository, &mut odd).await);
    set_role(store, "team", "team-editor", "viewer").await;
    assert_eq!(
        world.token(&editor, &push_scope, repository).await.1,
        actions(&["pull"])
    );
    assert!(!world.try_push(&editor, repository, &mut odd).await);
    assert!(world.try_pull(&editor, repository, &mut odd).await);

    // A deleted robot's credentials fail at the token endpoint at once.
    let pusher = world.principal("team-robot-push").clone();
    assert!(world.try_push(&pusher, repository, &mut odd).await);
    delete_robot(store, "team", "pusher").await;
    let (user, secret) = pusher.credentials().unwrap();
    for scope in [push_scope.as_str(), "registry:catalog:*"] {
        let response = world
            .http
            .get(format!("{}/auth/token", world.server.url))
            .query(&[("service", "berth"), ("scope", scope)])
            .basic_auth(user, Some(secret))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            401,
            "a deleted robot still signs in for {scope}"
        );
    }
    assert!(odd.is_empty(), "unexpected answers:\n{}", odd.join("\n"));
    world.stop().await;
}

/// Pushing into a space that does not exist is refused with 404 `NAME_UNKNOWN` and a message saying
/// so, even for the platform admin, until the admin turns `auto_create_spaces` on; then the
/// admin's push creates the space, private and bound to nobody, and nobody else's does.
async fn missing_spaces_are_refused_unless_auto_created(backend: Backend) {
    let world = World::build(backend).await;
    let store = &world.server.state.store;
    let repository = "nowhere/app";
    let admin = world.principal("platform-admin").clone();
    let team_admin = world.principal("team-admin").clone();

    assert_refused_as_missing(&world, &admin, repository).await;
    assert_refused_as_missing(&world, &team_admin, repository).await;

    set_auto_create_spaces(store, true).await;
    assert_refused_as_missing(&world, &team_admin, repository).await;
    assert!(store.hosted_spaces(&["nowhere"]).await.unwrap().is_empty());
    let mut odd = Vec::new();
    assert!(world.try_push(&admin, repository, &mut odd).await);
    let spaces = store.hosted_spaces(&["nowhere"]).await.unwrap();
    let created = spaces
        .get("nowhere")
        .expect("the admin's push created the space");
    assert!(!created.public && created.bound.is_empty(), "{created:?}");
    // Existing now, the space is private and unbound: still nothing for a workspace admin.
    assert!(!world.try_push(&team_admin, repository, &mut odd).await);
    assert!(odd.is_empty(), "unexpected answers:\n{}", odd.join("\n"));
    world.stop().await;
}

/// Asserts that `who` is refused an upload to `repository` because its space does not exist:
/// the token carries nothing, and the POST answers 404 `NAME_UNKNOWN` with a message that says so.
async fn assert_refused_as_missing(world: &World, who: &Principal, repository: &str) {
    let (_, granted, response) = world.start_upload(who, repository).await;
    assert!(granted.is_empty(), "{}: granted {granted:?}", who.label);
    assert_eq!(response.status(), 404, "{}", who.label);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "NAME_UNKNOWN", "{}", who.label);
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    let space = repository.split('/').next().unwrap();
    assert!(
        message.contains(space) && message.contains("does not exist"),
        "{}: the refusal should say that space `{space}` does not exist: {message}",
        who.label
    );
}

fn actions(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|a| a.to_string()).collect()
}
