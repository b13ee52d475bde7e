//! The access matrix of the REST API (docs/api-contract.md), cell by cell, over HTTP.
//!
//! Ten principals (the columns) meet every operation the contract gates (the rows):
//!
//! - `platform`: the platform admin, `admin`;
//! - `ws-admin`, `editor`, `viewer`: the admin, an editor and a viewer of workspace `team`;
//! - `outsider`: the admin of workspace `others` and of nothing else;
//! - `pull-bot`, `push-bot`: robots of `team` with pull, and with pull and push;
//! - `other-bot`: a robot of `others` with pull and push;
//! - `temp-login`: a temporary push login of `team`, limited to space `team-space` (made by
//!   the editor through `push-command?temporary=true`, as the console makes one);
//! - `anonymous`: no credentials at all.
//!
//! Users send the session token `POST /auth/login` gave them, robots HTTP Basic, as the CLI,
//! the console and registry clients do. Every workspace-scoped row targets `team`, whose
//! private spaces `team-space` and `team-other` are bound to it and hold the images.
//!
//! Each cell is the HTTP status the principal gets. The expected statuses are written out
//! below by hand from the contract and from the rule of ARCHITECTURE.md that a resource the
//! caller may not see answers 404 exactly like a missing one; they are not computed by
//! `berth_access`, so the test checks the implementation instead of repeating it. Every
//! state-changing cell works on a target made for that principal alone (a user, space,
//! registry, robot, repository, tag or artifact named after it), so no cell changes what
//! another sees. Every cell of a principal from whom `team` is hidden is also asked of a
//! workspace that does not exist, and must read the same but for the name. Run with
//! `--nocapture` to see the matrix.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use reqwest::header::WWW_AUTHENTICATE;
use reqwest::Method;
use serde_json::{json, Value};

use crate::image_details::{artifact_path, repo_path, small_image};
use crate::push_commands::{lines, secret_of};
use crate::support::api::{answer, with_auth, Answer, Api, Auth, PASSWORD};
use crate::support::{
    bind, client, create_robot, create_space, create_workspace, push_image, put_manifest, set_role,
    Backend,
};
use crate::uploads::oci_tarball;

crate::on_both_backends!(matrix);

// ---------------------------------------------------------------------------------------------
// The expected matrix
// ---------------------------------------------------------------------------------------------

/// The principals, in column order.
const PRINCIPALS: [&str; 10] = [
    "platform",
    "ws-admin",
    "editor",
    "viewer",
    "outsider",
    "pull-bot",
    "push-bot",
    "other-bot",
    "temp-login",
    "anonymous",
];

/// One row of statuses, in [`PRINCIPALS`] order.
type Row = [u16; 10];

/// What each principal gets from each operation (section, operation, statuses), from
/// docs/api-contract.md:
///
/// - Anonymous callers are not signed in, so every gated operation answers them 401.
/// - Users, settings, the whole audit log, workspace creation and deletion, platform
///   registries' changes, spaces' changes and bindings are for platform admins: everyone
///   else who may see the resource gets 403.
/// - Robots may read `/me`, `GET /workspaces`, their workspace's spaces and the platform
///   spaces they can see, and push tarballs (with `push`); everything else of their own
///   workspace, and every person-only platform read, is 403.
/// - Workspace `team` and everything under it are hidden from the outsider and from the
///   other workspace's robot: 404, as for a workspace that does not exist. The same holds
///   for a space they cannot see (`team-space`, private and bound to `team` only), and for a
///   repository outside the image list of the workspace asked through (`others`' list does
///   not hold `team-space/app`, so even the platform admin gets 404 there).
/// - Inside `team`: members read, admins change (members, registries, robots, the
///   workspace's audit events), editors and admins push (repository descriptions, temporary
///   logins, pull secrets, uploads), admins delete images.
/// - The temporary login is a robot limited to `team-space`: the contract says its image
///   list shows that space alone and that it may do nothing in any other space, so a
///   repository in `team-other`, its tags and its artifacts are outside its list (404), and
///   so is any other space bound to `team` it is asked to change (docs/model.md: it sees its
///   one space alone).
#[rustfmt::skip]
const EXPECTED: &[(&str, &str, Row)] = &[
    // section               operation                      platform ws-admin editor viewer outsider pull-bot push-bot other-bot temp-login anonymous
    ("session",              "me",                          [200,     200,     200,   200,   200,     200,     200,     200,      200,       401]),
    ("users",                "list",                        [200,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("users",                "create",                      [201,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("users",                "get",                         [200,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("users",                "update",                      [200,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("users",                "delete",                      [204,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("workspaces",           "list",                        [200,     200,     200,   200,   200,     200,     200,     200,      200,       401]),
    ("workspaces",           "create",                      [201,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("workspaces",           "get team",                    [200,     200,     200,   200,   404,     403,     403,     404,      403,       401]),
    ("workspaces",           "update team",                 [200,     200,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("workspaces",           "delete team",                 [204,     403,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("members",              "list",                        [200,     200,     200,   200,   404,     403,     403,     404,      403,       401]),
    ("members",              "set",                         [200,     200,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("members",              "remove",                      [204,     204,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("workspace spaces",     "list",                        [200,     200,     200,   200,   404,     200,     200,     404,      200,       401]),
    ("platform registries",  "list",                        [200,     200,     200,   200,   200,     403,     403,     403,      403,       401]),
    ("platform registries",  "create",                      [201,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("platform registries",  "get",                         [200,     200,     200,   200,   200,     403,     403,     403,      403,       401]),
    ("platform registries",  "update",                      [200,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("platform registries",  "delete",                      [204,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("platform registries",  "health check",                [200,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("spaces",               "list",                        [200,     200,     200,   200,   200,     200,     200,     200,      200,       401]),
    ("spaces",               "create",                      [201,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("spaces",               "get team-space",              [200,     200,     200,   200,   404,     200,     200,     404,      200,       401]),
    ("spaces",               "update",                      [200,     403,     403,   403,   404,     403,     403,     404,      404,       401]),
    ("spaces",               "delete",                      [204,     403,     403,   403,   404,     403,     403,     404,      404,       401]),
    ("bindings",             "get",                         [200,     403,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("bindings",             "set",                         [200,     403,     403,   403,   404,     403,     403,     404,      404,       401]),
    ("workspace registries", "list",                        [200,     200,     200,   200,   404,     403,     403,     404,      403,       401]),
    ("workspace registries", "create",                      [201,     201,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("workspace registries", "get",                         [200,     200,     200,   200,   404,     403,     403,     404,      403,       401]),
    ("workspace registries", "update",                      [200,     200,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("workspace registries", "delete",                      [204,     204,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("robots",               "list",                        [200,     200,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("robots",               "create",                      [201,     201,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("robots",               "update",                      [200,     200,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("robots",               "delete",                      [204,     204,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("images",               "list",                        [200,     200,     200,   200,   404,     200,     200,     404,      200,       401]),
    ("images",               "selector",                    [200,     200,     200,   200,   404,     200,     200,     404,      200,       401]),
    ("images",               "repository get",              [200,     200,     200,   200,   404,     200,     200,     404,      200,       401]),
    ("images",               "repository get (team-other)", [200,     200,     200,   200,   404,     200,     200,     404,      404,       401]),
    ("images",               "repository get via others",   [404,     404,     404,   404,   404,     404,     404,     404,      404,       401]),
    ("images",               "repository patch",            [200,     200,     200,   403,   404,     403,     403,     404,      403,       401]),
    ("images",               "repository delete",           [204,     204,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("images",               "tags list",                   [200,     200,     200,   200,   404,     200,     200,     404,      200,       401]),
    ("images",               "tags list (team-other)",      [200,     200,     200,   200,   404,     200,     200,     404,      404,       401]),
    ("images",               "tag delete",                  [204,     204,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("images",               "artifact get",                [200,     200,     200,   200,   404,     200,     200,     404,      200,       401]),
    ("images",               "artifact get (team-other)",   [200,     200,     200,   200,   404,     200,     200,     404,      404,       401]),
    ("images",               "artifact delete",             [204,     204,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("credentials",          "push command",                [200,     200,     200,   200,   404,     403,     403,     404,      403,       401]),
    ("credentials",          "push command, temporary",     [200,     200,     200,   403,   404,     403,     403,     404,      403,       401]),
    ("credentials",          "pull secret",                 [200,     200,     200,   403,   404,     403,     403,     404,      403,       401]),
    ("credentials",          "tarball upload",              [201,     201,     201,   403,   404,     403,     201,     404,      201,       401]),
    ("audit",                "whole log",                   [200,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("audit",                "workspace=team",              [200,     200,     403,   403,   404,     403,     403,     404,      403,       401]),
    ("settings",             "get",                         [200,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
    ("settings",             "update",                      [200,     403,     403,   403,   403,     403,     403,     403,      403,       401]),
];

/// Whether a row's cells run after every other row's. Deleting `team` is the one change
/// that cannot be given a target per principal (a robot belongs to its workspace alone), so
/// it runs last: should the server wrongly let someone delete `team`, only the cells after
/// theirs in that row are disturbed.
fn runs_last(section: &str, operation: &str) -> bool {
    (section, operation) == ("workspaces", "delete team")
}

/// The name of the target a principal's state-changing cell works on, so that cells never
/// share one: `<kind>-<principal>`.
fn target(kind: &str, who: &str) -> String {
    format!("{kind}-{who}")
}

// ---------------------------------------------------------------------------------------------
// The world the matrix runs in
// ---------------------------------------------------------------------------------------------

/// How a principal signs in.
enum Credentials {
    /// A session token from `POST /auth/login`, as the CLI and the console send it.
    Session(String),
    /// HTTP Basic with a robot's name and secret, as registry clients and CI send them.
    Basic(String, String),
    Anonymous,
}

struct Principal {
    label: &'static str,
    credentials: Credentials,
}

impl Principal {
    fn auth(&self) -> Auth<'_> {
        match &self.credentials {
            Credentials::Session(token) => Auth::Bearer(token),
            Credentials::Basic(name, secret) => Auth::Basic(name, secret),
            Credentials::Anonymous => Auth::Anonymous,
        }
    }
}

/// The users who sign in as principals, with their workspace and role.
const MEMBERS: [(&str, &str, &str); 4] = [
    ("team-admin", "team", "admin"),
    ("team-editor", "team", "editor"),
    ("team-viewer", "team", "viewer"),
    ("outsider", "others", "admin"),
];

/// A request a cell makes.
#[derive(Clone)]
struct Request {
    method: Method,
    /// Below `/api/v1`.
    path: String,
    body: Body,
}

#[derive(Clone)]
enum Body {
    Empty,
    Json(Value),
    /// The world's OCI layout tarball.
    Tarball,
}

fn get(path: impl Into<String>) -> Request {
    Request {
        method: Method::GET,
        path: path.into(),
        body: Body::Empty,
    }
}

fn delete(path: impl Into<String>) -> Request {
    Request {
        method: Method::DELETE,
        ..get(path)
    }
}

fn with_body(method: Method, path: impl Into<String>, body: Value) -> Request {
    Request {
        method,
        path: path.into(),
        body: Body::Json(body),
    }
}

/// The body of a new external registry. Nothing ever contacts its address: the health
/// check asks `mirror`, which points at the test server itself.
fn registry_body(name: &str) -> Value {
    json!({ "name": name, "kind": "distribution", "url": "http://127.0.0.1:1" })
}

/// Where one kind of registry lives. Platform registries and a workspace's own take the
/// same bodies and operations; only the path and who may change them differ.
#[derive(Clone, Copy)]
struct RegistryScope {
    /// The list's path below `/api/v1`.
    base: &'static str,
    /// What the names of each principal's targets start with, so the two kinds never share
    /// a name (a workspace registry named like a platform one is refused).
    prefix: &'static str,
    /// The registry every principal's read cell asks for.
    read: &'static str,
}

/// Platform registries; `mirror` points at the test server, so its health check is quick.
const PLATFORM_REGISTRIES: RegistryScope = RegistryScope {
    base: "/registries",
    prefix: "reg",
    read: "mirror",
};

const TEAM_REGISTRIES: RegistryScope = RegistryScope {
    base: "/workspaces/team/registries",
    prefix: "wreg",
    read: "team-mirror",
};

impl RegistryScope {
    /// The registry `who`'s `change` cell (`new`, `upd` or `del`) works on.
    fn target(self, change: &str, who: &str) -> String {
        target(&format!("{}-{change}", self.prefix), who)
    }

    /// The request of `who`'s cell of `operation`; `changed` is the body of an update.
    fn request(self, operation: &str, who: &str, changed: Value) -> Request {
        let base = self.base;
        match operation {
            "list" => get(base),
            "create" => with_body(Method::POST, base, registry_body(&self.target("new", who))),
            "get" => get(format!("{base}/{}", self.read)),
            "update" => with_body(
                Method::PATCH,
                format!("{base}/{}", self.target("upd", who)),
                changed,
            ),
            "delete" => delete(format!("{base}/{}", self.target("del", who))),
            other => panic!("the matrix has no request for {base} {other:?}"),
        }
    }
}

/// A server with workspaces `team` (ws-admin, editor and viewer, the two robots, the
/// temporary login), `others` (the outsider, the other robot) and `doomed` (deleted by the
/// platform admin's cell); private spaces `team-space` and `team-other` bound to `team`, each
/// holding `app:v1`; platform registry `mirror` and `team`'s registry `team-mirror`; and
/// every principal's own targets.
struct World {
    api: Api,
    principals: Vec<Principal>,
    /// The digest of `team-space/app:v1`.
    app_digest: String,
    /// The digest of each principal's own artifact in `team-space/artifacts`.
    artifacts: BTreeMap<&'static str, String>,
    /// An OCI layout tarball of a small image, for uploads.
    tarball: Vec<u8>,
}

impl World {
    async fn build(backend: Backend) -> World {
        let api = Api::start(backend).await;
        let server = &api.server;
        let store = &server.state.store;
        for workspace in ["team", "others", "doomed"] {
            create_workspace(store, workspace).await;
        }
        for (user, workspace, role) in MEMBERS {
            server.create_user(user, PASSWORD, false).await;
            set_role(store, workspace, user, role).await;
        }
        for space in ["team-space", "team-other"] {
            create_space(store, space, false).await;
            bind(store, space, &["team"]).await;
        }
        let (pull_name, pull_secret) = create_robot(store, "team", "puller", true, false).await;
        let (push_name, push_secret) = create_robot(store, "team", "pusher", true, true).await;
        let (other_name, other_secret) = create_robot(store, "others", "ci", true, true).await;

        // Each user signs in once: a password check costs an argon2 hash, and the token then
        // serves every cell.
        let mut sessions = BTreeMap::new();
        for (user, _, _) in MEMBERS {
            sessions.insert(user, api.login(user, PASSWORD).await);
        }
        let (temp_name, temp_secret) = temporary_login(&api, &sessions["team-editor"]).await;
        let session = |user: &str| Credentials::Session(sessions[user].clone());
        let credentials = [
            Credentials::Session(api.admin.clone()),
            session("team-admin"),
            session("team-editor"),
            session("team-viewer"),
            session("outsider"),
            Credentials::Basic(pull_name, pull_secret),
            Credentials::Basic(push_name, push_secret),
            Credentials::Basic(other_name, other_secret),
            Credentials::Basic(temp_name, temp_secret),
            Credentials::Anonymous,
        ];
        let principals = PRINCIPALS
            .into_iter()
            .zip(credentials)
            .map(|(label, credentials)| Principal { label, credentials })
            .collect();
        let mut world = World {
            api,
            principals,
            app_digest: String::new(),
            artifacts: BTreeMap::new(),
            tarball: oci_tarball(&small_image("rest matrix: upload"), "v1"),
        };
        world.seed_targets().await;
        world.seed_images().await;
        world
    }

    /// Users, spaces, robots and registries for the state-changing cells, one of each kind
    /// per principal, and the registries the reading cells look at.
    async fn seed_targets(&self) {
        let server = &self.api.server;
        let store = &server.state.store;
        let hash = berth_identity::passwords::hash(PASSWORD).await.unwrap();
        let admin = self.api.as_admin();
        for scope in [PLATFORM_REGISTRIES, TEAM_REGISTRIES] {
            let body = json!({ "name": scope.read, "kind": "distribution", "url": server.url });
            self.api.post(scope.base, admin, body).await.expect(201);
        }
        for who in PRINCIPALS {
            for kind in ["upd", "del", "mem", "rm"] {
                server
                    .create_user_with_hash(&target(kind, who), &hash, false)
                    .await;
            }
            set_role(store, "team", &target("rm", who), "viewer").await;
            for kind in ["sp-upd", "sp-del", "sp-bind"] {
                let space = target(kind, who);
                create_space(store, &space, false).await;
                bind(store, &space, &["team"]).await;
            }
            for kind in ["bot-upd", "bot-del"] {
                create_robot(store, "team", &target(kind, who), true, false).await;
            }
            for scope in [PLATFORM_REGISTRIES, TEAM_REGISTRIES] {
                for change in ["upd", "del"] {
                    let body = registry_body(&scope.target(change, who));
                    self.api.post(scope.base, admin, body).await.expect(201);
                }
            }
        }
    }

    /// `app:v1` in `team-space` and `team-other`; in `team-space`, one repository per
    /// principal to delete, one tag per principal on `tagged`, and one artifact per principal
    /// in `artifacts`.
    async fn seed_images(&mut self) {
        let url = self.api.server.url.clone();
        let doomed = PRINCIPALS.map(|who| format!("team-space/{}", target("doomed", who)));
        let mut repositories = vec![
            "team-space/app",
            "team-other/app",
            "team-space/tagged",
            "team-space/artifacts",
        ];
        repositories.extend(doomed.iter().map(String::as_str));
        let token = self.api.server.admin_token(&repositories).await;
        let app = small_image("rest matrix: app");
        for repository in ["team-space/app", "team-other/app", "team-space/tagged"] {
            push_image(&url, &token, repository, &app, "v1").await;
        }
        for (who, repository) in PRINCIPALS.into_iter().zip(&doomed) {
            push_image(&url, &token, repository, &app, "v1").await;
            put_manifest(&url, &token, "team-space/tagged", &app, &target("t", who)).await;
            let own = small_image(&format!("rest matrix: artifact of {who}"));
            push_image(
                &url,
                &token,
                "team-space/artifacts",
                &own,
                &target("a", who),
            )
            .await;
            self.artifacts.insert(who, own.manifest.digest.clone());
        }
        self.app_digest = app.manifest.digest.clone();
    }

    /// The request `who`'s cell of `operation` makes.
    fn request(&self, section: &str, operation: &str, who: &str) -> Request {
        let team = "/workspaces/team";
        let space = |name: &str| format!("/registries/hosted/spaces/{name}");
        let app = repo_path("team", "hosted", "team-space/app");
        let push_command = format!("{team}/registries/hosted/spaces/team-space/push-command");
        let changed = json!({ "description": "changed by the access matrix" });
        match (section, operation) {
            ("session", "me") => get("/me"),

            ("users", "list") => get("/users"),
            ("users", "create") => with_body(
                Method::POST,
                "/users",
                json!({ "username": target("new", who), "password": PASSWORD }),
            ),
            ("users", "get") => get("/users/team-viewer"),
            ("users", "update") => with_body(
                Method::PATCH,
                format!("/users/{}", target("upd", who)),
                json!({ "email": "changed@example.com" }),
            ),
            ("users", "delete") => delete(format!("/users/{}", target("del", who))),

            ("workspaces", "list") => get("/workspaces"),
            ("workspaces", "create") => with_body(
                Method::POST,
                "/workspaces",
                json!({ "name": target("new-ws", who) }),
            ),
            ("workspaces", "get team") => get(team),
            // A description no cell reads: changing it disturbs nothing.
            ("workspaces", "update team") => with_body(Method::PATCH, team, changed),
            // The platform admin may delete any workspace alike, so its cell deletes
            // `doomed` and leaves `team` standing for the cells after it.
            ("workspaces", "delete team") if who == "platform" => delete("/workspaces/doomed"),
            ("workspaces", "delete team") => delete(team),

            ("members", "list") => get(format!("{team}/members")),
            ("members", "set") => with_body(
                Method::PUT,
                format!("{team}/members/{}", target("mem", who)),
                json!({ "role": "viewer" }),
            ),
            ("members", "remove") => delete(format!("{team}/members/{}", target("rm", who))),

            ("workspace spaces", "list") => get(format!("{team}/spaces")),

            ("platform registries", "health check") => Request {
                method: Method::POST,
                ..get("/registries/mirror/health")
            },
            ("platform registries", operation) => {
                PLATFORM_REGISTRIES.request(operation, who, changed)
            }

            ("spaces", "list") => get("/registries/hosted/spaces"),
            ("spaces", "create") => with_body(
                Method::POST,
                "/registries/hosted/spaces",
                json!({ "name": target("new-space", who) }),
            ),
            ("spaces", "get team-space") => get(space("team-space")),
            ("spaces", "update") => {
                with_body(Method::PATCH, space(&target("sp-upd", who)), changed)
            }
            ("spaces", "delete") => delete(space(&target("sp-del", who))),

            ("bindings", "get") => get(format!("{}/bindings", space("team-space"))),
            // The same set again, so a wrongly allowed cell still leaves its space as it was.
            ("bindings", "set") => with_body(
                Method::PUT,
                format!("{}/bindings", space(&target("sp-bind", who))),
                json!({ "workspaces": ["team"] }),
            ),

            ("workspace registries", operation) => TEAM_REGISTRIES.request(operation, who, changed),

            ("robots", "list") => get(format!("{team}/robots")),
            ("robots", "create") => with_body(
                Method::POST,
                format!("{team}/robots"),
                json!({ "name": target("new-bot", who), "permissions": ["pull"] }),
            ),
            ("robots", "update") => with_body(
                Method::PATCH,
                format!("{team}/robots/{}", target("bot-upd", who)),
                json!({ "disabled": true }),
            ),
            ("robots", "delete") => delete(format!("{team}/robots/{}", target("bot-del", who))),

            ("images", "list") => get(format!("{team}/images")),
            ("images", "selector") => get(format!("{team}/selector")),
            ("images", "repository get") => get(app),
            ("images", "repository get (team-other)") => {
                get(repo_path("team", "hosted", "team-other/app"))
            }
            ("images", "repository get via others") => {
                get(repo_path("others", "hosted", "team-space/app"))
            }
            // A description no cell reads: changing it disturbs nothing.
            ("images", "repository patch") => with_body(Method::PATCH, app, changed),
            ("images", "repository delete") => {
                let repository = format!("team-space/{}", target("doomed", who));
                let path = repo_path("team", "hosted", &repository);
                delete(format!("{path}?confirm={repository}"))
            }
            ("images", "tags list") => get(format!("{app}/tags")),
            ("images", "tags list (team-other)") => get(format!(
                "{}/tags",
                repo_path("team", "hosted", "team-other/app")
            )),
            ("images", "tag delete") => delete(format!(
                "{}/tags/{}",
                repo_path("team", "hosted", "team-space/tagged"),
                target("t", who)
            )),
            ("images", "artifact get") => get(artifact_path(
                "team",
                "hosted",
                "team-space/app",
                &self.app_digest,
            )),
            ("images", "artifact get (team-other)") => get(artifact_path(
                "team",
                "hosted",
                "team-other/app",
                &self.app_digest,
            )),
            ("images", "artifact delete") => delete(artifact_path(
                "team",
                "hosted",
                "team-space/artifacts",
                &self.artifacts[who],
            )),

            ("credentials", "push command") => get(push_command),
            ("credentials", "push command, temporary") => {
                get(format!("{push_command}?temporary=true"))
            }
            ("credentials", "pull secret") => with_body(
                Method::POST,
                format!("{team}/pull-secret"),
                json!({ "namespace": target("ns", who), "name": "pull" }),
            ),
            ("credentials", "tarball upload") => Request {
                method: Method::POST,
                path: format!(
                    "{team}/registries/hosted/spaces/team-space/uploads?repository={}",
                    target("upload", who)
                ),
                body: Body::Tarball,
            },

            ("audit", "whole log") => get("/audit"),
            ("audit", "workspace=team") => get("/audit?workspace=team"),

            ("settings", "get") => get("/settings"),
            // The value it already has, so the access rule stays as every other cell saw it.
            ("settings", "update") => with_body(
                Method::PATCH,
                "/settings",
                json!({ "anonymous_pull": true }),
            ),

            other => panic!("the matrix has no request for {other:?}"),
        }
    }

    async fn send(&self, who: &Principal, request: &Request) -> Answer {
        let path = request.path.as_str();
        let method = request.method.clone();
        match &request.body {
            Body::Empty => self.api.call(method, path, who.auth(), None).await,
            Body::Json(body) => {
                self.api
                    .call(method, path, who.auth(), Some(body.clone()))
                    .await
            }
            Body::Tarball => {
                let url = format!("{}/api/v1{path}", self.api.server.url);
                let upload = client()
                    .request(method, url)
                    .header("content-type", "application/x-tar")
                    .body(self.tarball.clone());
                answer(with_auth(upload, who.auth())).await
            }
        }
    }
}

/// A temporary push login of `team`, limited to `team-space`, made by the editor whose
/// session is `editor` the way the console makes one: its full name and secret.
async fn temporary_login(api: &Api, editor: &str) -> (String, String) {
    let path = "/workspaces/team/registries/hosted/spaces/team-space/push-command?temporary=true";
    let command = api.get(path, Auth::Bearer(editor)).await.expect(200);
    let username = command["login"]["username"].as_str().unwrap().to_string();
    let secret = secret_of(&lines(&command, "docker")[0]);
    (username, secret)
}

/// The principals from whom workspace `team` is hidden.
const TEAM_HIDDEN_FROM: [&str; 2] = ["outsider", "other-bot"];

/// A workspace that does not exist.
const MISSING_WORKSPACE: &str = "no-such-team";

/// For a cell of a principal from whom `team` is hidden, the same request to a workspace that
/// does not exist: the two must answer alike, so that probing cannot tell `team` exists.
fn missing_twin(who: &str, request: &Request) -> Option<Request> {
    if !TEAM_HIDDEN_FROM.contains(&who) {
        return None;
    }
    let rest = request.path.strip_prefix("/workspaces/team")?;
    if !(rest.is_empty() || rest.starts_with(['/', '?'])) {
        return None;
    }
    Some(Request {
        path: format!("/workspaces/{MISSING_WORKSPACE}{rest}"),
        ..request.clone()
    })
}

/// What is wrong with the shape of an error answer, if anything: its `error.code` must name
/// its status, and a 401 must carry the Bearer challenge.
fn shape_problem(answer: &Answer) -> Option<String> {
    let code = match answer.status {
        400 => "invalid",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        _ => return None,
    };
    if answer.body["error"]["code"] != code {
        return Some(format!("the body is not a `{code}` error: {}", answer.text));
    }
    let challenge = answer
        .headers
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok());
    if answer.status == 401 && challenge != Some(r#"Bearer realm="berth""#) {
        return Some(format!("the challenge is {challenge:?}"));
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

/// Every cell of the matrix, over HTTP.
async fn matrix(backend: Backend) {
    let started = Instant::now();
    let world = World::build(backend).await;
    let built = started.elapsed();

    let mut observed: Vec<Row> = vec![[0; 10]; EXPECTED.len()];
    let mut mismatches = Vec::new();
    let mut twins = 0;
    let rows = 0..EXPECTED.len();
    let order = rows
        .clone()
        .filter(|&i| !runs_last(EXPECTED[i].0, EXPECTED[i].1))
        .chain(rows.filter(|&i| runs_last(EXPECTED[i].0, EXPECTED[i].1)));
    for i in order {
        let (section, operation, expected) = EXPECTED[i];
        for (column, who) in world.principals.iter().enumerate() {
            let request = world.request(section, operation, who.label);
            let answer = world.send(who, &request).await;
            observed[i][column] = answer.status;
            let cell = format!(
                "{} / {section} {operation} ({} {})",
                who.label, request.method, request.path
            );
            if answer.status != expected[column] {
                let message = answer.body["error"]["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| answer.text.chars().take(200).collect());
                mismatches.push(format!(
                    "{cell}: got {}, expected {}: {message}",
                    answer.status, expected[column]
                ));
            }
            if let Some(problem) = shape_problem(&answer) {
                mismatches.push(format!("{cell}: {problem}"));
            }
            if let Some(twin) = missing_twin(who.label, &request) {
                let missing = world.send(who, &twin).await;
                twins += 1;
                let unmasked = missing.text.replace(MISSING_WORKSPACE, "team");
                if (missing.status, unmasked.as_str()) != (answer.status, answer.text.as_str()) {
                    mismatches.push(format!(
                        "{cell}: answers {} {} where a missing workspace answers {} {}",
                        answer.status, answer.text, missing.status, missing.text
                    ));
                }
            }
        }
    }
    println!("{}", render(backend, &observed));
    println!(
        "{}: {} cells checked (and {twins} twins asking a missing workspace) in {:.1?} \
         (setup {built:.1?}), {} mismatched",
        backend.name(),
        EXPECTED.len() * PRINCIPALS.len(),
        started.elapsed() - built,
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{}: the REST access matrix disagrees with docs/api-contract.md:\n{}",
        backend.name(),
        mismatches.join("\n")
    );
    world.api.server.stop().await;
}

/// The observed matrix as a table: one line per operation under its section, one column per
/// principal; a status that differs from the expected one is marked `!`.
fn render(backend: Backend, observed: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "REST access matrix on {} (observed statuses; `!` marks a cell that differs from the \
         expected one)",
        backend.name()
    );
    let _ = write!(out, "{:<30}", "");
    for label in PRINCIPALS {
        let _ = write!(out, " {label:<10}");
    }
    let _ = writeln!(out);
    let mut section = "";
    for ((this_section, operation, expected), statuses) in EXPECTED.iter().zip(observed) {
        if *this_section != section {
            section = this_section;
            let _ = writeln!(out, "{section}");
        }
        let _ = write!(out, "  {operation:<28}");
        for (got, want) in statuses.iter().zip(expected) {
            let mark = if got == want { "" } else { "!" };
            let _ = write!(out, " {:<10}", format!("{got}{mark}"));
        }
        let _ = writeln!(out);
    }
    out
}
