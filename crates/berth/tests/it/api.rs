//! The REST API at `/api/v1` over HTTP: sessions, users, workspaces and members, registries
//! and their health, spaces and bindings, workspace registries, robots, the audit log,
//! settings and the OpenAPI document, checked against docs/api-contract.md.
//!
//! Every test body runs once per database backend (`<name>::sqlite`, `<name>::postgres`).

use serde_json::{json, Value};

use crate::support::api::{Api, Auth, PASSWORD};
use crate::support::{client, Backend, ADMIN_PASSWORD};

crate::on_both_backends!(
    login_and_me,
    users,
    workspaces_and_members,
    invalid_and_duplicate_names,
    spaces_and_bindings,
    registries,
    workspace_registries,
    robots,
    audit_log,
    a_buffered_pull_is_logged_at_its_request_time,
    settings,
    openapi_and_docs,
    spaces_holding_images_are_not_deleted,
    sessions_end_when_credentials_change,
    recreated_workspaces_do_not_inherit_history,
);

async fn login_and_me(backend: Backend) {
    let api = Api::start(backend).await;
    let me = api.get("/me", api.as_admin()).await.expect(200);
    assert_eq!(me["username"], "admin");
    assert_eq!(me["is_admin"], true);
    assert_eq!(me["kind"], "user");
    assert_eq!(me["workspaces"], json!([]));

    let session = api
        .post(
            "/auth/login",
            Auth::Anonymous,
            json!({ "username": "admin", "password": ADMIN_PASSWORD }),
        )
        .await
        .expect(200);
    assert!(session["expires_at"].as_str().unwrap().ends_with('Z'));

    // Basic credentials work as well as a session.
    let me = api
        .get("/me", Auth::Basic("admin", ADMIN_PASSWORD))
        .await
        .expect(200);
    assert_eq!(me["username"], "admin");

    // Every failure to authenticate is the same 401 with a challenge. A sign-in that fails
    // says why, as `/auth/token` does, and the same for a wrong password and an unknown user.
    for (username, password) in [("admin", "wrong"), ("nobody", "x")] {
        let answer = api
            .post(
                "/auth/login",
                Auth::Anonymous,
                json!({ "username": username, "password": password }),
            )
            .await;
        assert_eq!(
            answer.headers["www-authenticate"],
            r#"Bearer realm="berth""#
        );
        assert_eq!(
            answer.body["error"]["message"], "incorrect username or password",
            "{username}"
        );
        answer.error(401, "unauthorized", "");
    }
    for (auth, says) in [
        (Auth::Anonymous, "authentication required"),
        (Auth::Bearer("not-a-token"), "authentication required"),
        // Basic credentials that do not check out say so on every endpoint, as at sign-in.
        (
            Auth::Basic("admin", "wrong"),
            "incorrect username or password",
        ),
        (Auth::Basic("nobody", "x"), "incorrect username or password"),
    ] {
        let answer = api.get("/me", auth).await;
        assert_eq!(
            answer.headers["www-authenticate"],
            r#"Bearer realm="berth""#
        );
        answer.error(401, "unauthorized", says);
    }
    // A body missing a field is a 400 naming it.
    api.post(
        "/auth/login",
        Auth::Anonymous,
        json!({ "username": "admin" }),
    )
    .await
    .error(400, "invalid", "password");
    // Unknown API paths answer in the error shape too.
    api.get("/nothing-here", api.as_admin())
        .await
        .error(404, "not_found", "");
    api.server.stop().await;
}

async fn users(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    let created = api
        .post(
            "/users",
            admin,
            json!({ "username": "alice", "password": PASSWORD, "email": "alice@example.com" }),
        )
        .await
        .expect(201);
    assert_eq!(created["username"], "alice");
    assert_eq!(created["email"], "alice@example.com");
    assert_eq!(created["is_admin"], false);
    assert_eq!(created["disabled"], false);
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());

    api.post(
        "/users",
        admin,
        json!({ "username": "alice", "password": PASSWORD }),
    )
    .await
    .error(409, "conflict", "alice");
    for bad in ["Alice", "robot$team+ci", "-x", ""] {
        api.post(
            "/users",
            admin,
            json!({ "username": bad, "password": PASSWORD }),
        )
        .await
        .error(400, "invalid", "username");
    }
    for short in ["", "1234567"] {
        api.post(
            "/users",
            admin,
            json!({ "username": "bob", "password": short }),
        )
        .await
        .error(400, "invalid", "password");
    }
    api.post(
        "/users",
        admin,
        json!({ "username": "bob", "password": PASSWORD, "email": "nope" }),
    )
    .await
    .error(400, "invalid", "email");
    api.post(
        "/users",
        admin,
        json!({ "username": "bob", "password": PASSWORD, "colour": "red" }),
    )
    .await
    .error(400, "invalid", "colour");

    assert_eq!(
        api.names("/users", admin, "username").await,
        ["admin", "alice"]
    );
    let page = api.get("/users?limit=1", admin).await.expect(200);
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"][0]["username"], "admin");
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = api
        .get(&format!("/users?limit=1&cursor={cursor}"), admin)
        .await
        .expect(200);
    assert_eq!(next["items"][0]["username"], "alice");
    assert_eq!(next["next_cursor"], Value::Null);
    api.get("/users?limit=501", admin)
        .await
        .error(400, "invalid", "limit");

    let alice = api.login("alice", PASSWORD).await;
    let me = api.get("/me", Auth::Bearer(&alice)).await.expect(200);
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["is_admin"], false);
    // Users are for platform admins.
    api.get("/users", Auth::Bearer(&alice))
        .await
        .error(403, "forbidden", "");
    api.get("/users/alice", Auth::Bearer(&alice))
        .await
        .error(403, "forbidden", "");

    let updated = api
        .patch("/users/alice", admin, json!({ "email": "a@example.org" }))
        .await
        .expect(200);
    assert_eq!(updated["email"], "a@example.org");
    assert_eq!(
        api.get("/users/alice", admin).await.expect(200)["email"],
        "a@example.org"
    );
    api.get("/users/nobody", admin)
        .await
        .error(404, "not_found", "nobody");
    api.patch("/users/nobody", admin, json!({ "disabled": true }))
        .await
        .error(404, "not_found", "nobody");

    // Disabling locks alice out at once: no new session, and the old one stops working.
    let disabled = api
        .patch("/users/alice", admin, json!({ "disabled": true }))
        .await
        .expect(200);
    assert_eq!(disabled["disabled"], true);
    api.post(
        "/auth/login",
        Auth::Anonymous,
        json!({ "username": "alice", "password": PASSWORD }),
    )
    .await
    .error(401, "unauthorized", "");
    api.get("/me", Auth::Bearer(&alice))
        .await
        .error(401, "unauthorized", "");
    api.get("/me", Auth::Basic("alice", PASSWORD))
        .await
        .error(401, "unauthorized", "");
    api.patch("/users/alice", admin, json!({ "disabled": false }))
        .await
        .expect(200);
    api.get("/me", Auth::Bearer(&alice)).await.expect(200);

    // A password reset replaces the old password.
    api.patch("/users/alice", admin, json!({ "password": "new-password" }))
        .await
        .expect(200);
    api.post(
        "/auth/login",
        Auth::Anonymous,
        json!({ "username": "alice", "password": PASSWORD }),
    )
    .await
    .error(401, "unauthorized", "");
    api.login("alice", "new-password").await;

    // The platform keeps an enabled admin, and nobody deletes themselves.
    api.patch("/users/admin", admin, json!({ "is_admin": false }))
        .await
        .error(409, "conflict", "admin");
    api.patch("/users/admin", admin, json!({ "disabled": true }))
        .await
        .error(409, "conflict", "admin");
    api.delete("/users/admin", admin)
        .await
        .error(409, "conflict", "");

    api.delete("/users/alice", admin).await.expect(204);
    api.get("/users/alice", admin)
        .await
        .error(404, "not_found", "alice");
    api.get("/me", Auth::Bearer(&alice))
        .await
        .error(401, "unauthorized", "");
    api.delete("/users/alice", admin)
        .await
        .error(404, "not_found", "alice");

    api.assert_audited(&[
        "user.create",
        "user.update",
        "user.disable",
        "user.enable",
        "user.password_reset",
        "user.delete",
    ])
    .await;
    api.server.stop().await;
}

async fn workspaces_and_members(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    let alice = api.user("alice").await;
    let bob = api.user("bob").await;

    let created = api
        .post(
            "/workspaces",
            admin,
            json!({ "name": "team-a", "description": "Team A" }),
        )
        .await
        .expect(201);
    assert_eq!(created["name"], "team-a");
    assert_eq!(created["description"], "Team A");
    assert_eq!(created["members"], 0);
    api.workspace("team-b").await;
    // Creating workspaces is for platform admins.
    api.post(
        "/workspaces",
        Auth::Bearer(&alice),
        json!({ "name": "mine" }),
    )
    .await
    .error(403, "forbidden", "");

    // Another workspace answers exactly like a missing one.
    let hidden = api.get("/workspaces/team-a", Auth::Bearer(&alice)).await;
    let missing = api.get("/workspaces/team-zz", Auth::Bearer(&alice)).await;
    assert_eq!(hidden.status, 404);
    assert_eq!(
        hidden.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace("team-a", "X"),
        missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace("team-zz", "X")
    );
    assert!(api
        .names("/workspaces", Auth::Bearer(&alice), "name")
        .await
        .is_empty());
    assert_eq!(
        api.names("/workspaces", admin, "name").await,
        ["team-a", "team-b"]
    );

    let member = api
        .put(
            "/workspaces/team-a/members/alice",
            admin,
            json!({ "role": "editor" }),
        )
        .await
        .expect(200);
    assert_eq!(member, json!({ "username": "alice", "role": "editor" }));
    api.put(
        "/workspaces/team-a/members/alice",
        admin,
        json!({ "role": "owner" }),
    )
    .await
    .error(400, "invalid", "role");
    api.put(
        "/workspaces/team-a/members/nobody",
        admin,
        json!({ "role": "viewer" }),
    )
    .await
    .error(404, "not_found", "nobody");
    assert_eq!(
        api.names("/workspaces", Auth::Bearer(&alice), "name").await,
        ["team-a"]
    );
    let workspace = api
        .get("/workspaces/team-a", Auth::Bearer(&alice))
        .await
        .expect(200);
    assert_eq!(workspace["members"], 1);
    let me = api.get("/me", Auth::Bearer(&alice)).await.expect(200);
    assert_eq!(
        me["workspaces"],
        json!([{ "name": "team-a", "role": "editor" }])
    );

    // Editors may read but not administer.
    api.patch(
        "/workspaces/team-a",
        Auth::Bearer(&alice),
        json!({ "description": "x" }),
    )
    .await
    .error(403, "forbidden", "");
    api.put(
        "/workspaces/team-a/members/bob",
        Auth::Bearer(&alice),
        json!({ "role": "viewer" }),
    )
    .await
    .error(403, "forbidden", "");
    // Non-members cannot even see it to try.
    api.patch(
        "/workspaces/team-a",
        Auth::Bearer(&bob),
        json!({ "description": "x" }),
    )
    .await
    .error(404, "not_found", "team-a");

    api.member("team-a", "alice", "admin").await;
    let patched = api
        .patch(
            "/workspaces/team-a",
            Auth::Bearer(&alice),
            json!({ "description": "Ours" }),
        )
        .await
        .expect(200);
    assert_eq!(patched["description"], "Ours");
    api.put(
        "/workspaces/team-a/members/bob",
        Auth::Bearer(&alice),
        json!({ "role": "viewer" }),
    )
    .await
    .expect(200);
    let members = api
        .get("/workspaces/team-a/members", Auth::Bearer(&bob))
        .await
        .expect(200);
    assert_eq!(
        members["items"],
        json!([{ "username": "alice", "role": "admin" }, { "username": "bob", "role": "viewer" }])
    );
    assert_eq!(members["total"], 2);
    api.delete("/workspaces/team-a/members/bob", Auth::Bearer(&alice))
        .await
        .expect(204);
    api.delete("/workspaces/team-a/members/bob", Auth::Bearer(&alice))
        .await
        .error(404, "not_found", "bob");
    api.get("/workspaces/team-a", Auth::Bearer(&bob))
        .await
        .error(404, "not_found", "");

    // Deleting a workspace is for platform admins.
    api.delete("/workspaces/team-a", Auth::Bearer(&alice))
        .await
        .error(403, "forbidden", "");
    api.delete("/workspaces/team-a", admin).await.expect(204);
    api.get("/workspaces/team-a", admin)
        .await
        .error(404, "not_found", "team-a");
    api.delete("/workspaces/team-a", admin)
        .await
        .error(404, "not_found", "team-a");

    api.assert_audited(&[
        "workspace.create",
        "member.set",
        "workspace.update",
        "member.remove",
        "workspace.delete",
    ])
    .await;
    api.server.stop().await;
}

async fn invalid_and_duplicate_names(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    api.workspace("team-a").await;
    for bad in [
        "Team",
        "a",
        "team a",
        "-team",
        "team-",
        "te--am",
        "t/eam",
        &"x".repeat(64),
    ] {
        api.post("/workspaces", admin, json!({ "name": bad }))
            .await
            .error(400, "invalid", "workspace name");
        api.post("/registries/hosted/spaces", admin, json!({ "name": bad }))
            .await
            .error(400, "invalid", "space name");
        api.post(
            "/workspaces/team-a/robots",
            admin,
            json!({ "name": bad, "permissions": ["pull"] }),
        )
        .await
        .error(400, "invalid", "robot name");
        let registry = json!({ "name": bad, "kind": "oci", "url": "http://127.0.0.1:1" });
        api.post("/registries", admin, registry)
            .await
            .error(400, "invalid", "registry name");
    }
    api.post("/workspaces", admin, json!({ "name": "team-a" }))
        .await
        .error(409, "conflict", "team-a");
    api.post("/workspaces", admin, json!({ "description": "no name" }))
        .await
        .error(400, "invalid", "name");
    api.post(
        "/registries/hosted/spaces",
        admin,
        json!({ "name": "apps" }),
    )
    .await
    .expect(201);
    api.post(
        "/registries/hosted/spaces",
        admin,
        json!({ "name": "apps" }),
    )
    .await
    .error(409, "conflict", "apps");
    let robot = json!({ "name": "ci", "permissions": ["pull"] });
    api.post("/workspaces/team-a/robots", admin, robot.clone())
        .await
        .expect(201);
    api.post("/workspaces/team-a/robots", admin, robot)
        .await
        .error(409, "conflict", "ci");
    api.post(
        "/workspaces/team-a/robots",
        admin,
        json!({ "name": "cd", "permissions": ["delete"] }),
    )
    .await
    .error(400, "invalid", "permissions");
    api.post(
        "/workspaces/team-a/robots",
        admin,
        json!({ "name": "cd", "permissions": [] }),
    )
    .await
    .error(400, "invalid", "permissions");
    api.post(
        "/workspaces/team-a/robots",
        admin,
        json!({ "name": "cd", "permissions": ["pull"], "expires_in_seconds": 0 }),
    )
    .await
    .error(400, "invalid", "expires_in_seconds");
    api.server.stop().await;
}

async fn spaces_and_bindings(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    let alice = api.user("alice").await;
    api.workspace("team-a").await;
    api.workspace("team-b").await;
    api.member("team-a", "alice", "editor").await;

    let space = api
        .post(
            "/registries/hosted/spaces",
            admin,
            json!({ "name": "apps", "description": "Apps" }),
        )
        .await
        .expect(201);
    assert_eq!(space["registry"], "hosted");
    assert_eq!(space["public"], false);
    assert_eq!(space["bound_workspaces"], json!([]));
    api.post(
        "/registries/hosted/spaces",
        Auth::Bearer(&alice),
        json!({ "name": "mine" }),
    )
    .await
    .error(403, "forbidden", "");
    api.post("/registries/nowhere/spaces", admin, json!({ "name": "x1" }))
        .await
        .error(404, "not_found", "nowhere");

    // A private space nobody bound alice to is invisible to her.
    api.get("/registries/hosted/spaces/apps", Auth::Bearer(&alice))
        .await
        .error(404, "not_found", "apps");
    api.patch(
        "/registries/hosted/spaces/apps",
        Auth::Bearer(&alice),
        json!({ "public": true }),
    )
    .await
    .error(404, "not_found", "apps");
    assert_eq!(
        api.names("/registries/hosted/spaces", Auth::Bearer(&alice), "name")
            .await,
        ["library"]
    );
    assert_eq!(
        api.names("/registries/hosted/spaces", admin, "name").await,
        ["apps", "library"]
    );
    // The built-in registry and space were made when the database was, before `apps`, and
    // not in 1970.
    let apps = api
        .get("/registries/hosted/spaces/apps", admin)
        .await
        .expect(200);
    let library = api
        .get("/registries/hosted/spaces/library", admin)
        .await
        .expect(200);
    let hosted = api.get("/registries/hosted", admin).await.expect(200);
    let time = |value: &Value| {
        time::OffsetDateTime::parse(
            value["created_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let an_hour_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    for built_in in [&library, &hosted] {
        assert!(time(built_in) > an_hour_ago, "{built_in}");
        assert!(time(built_in) <= time(&apps), "{built_in}");
    }

    let bound = api
        .put(
            "/registries/hosted/spaces/apps/bindings",
            admin,
            json!({ "workspaces": ["team-a"] }),
        )
        .await
        .expect(200);
    assert_eq!(bound, json!({ "workspaces": ["team-a"] }));
    let seen = api
        .get("/registries/hosted/spaces/apps", Auth::Bearer(&alice))
        .await
        .expect(200);
    assert_eq!(seen["name"], "apps");
    assert!(
        seen.get("bound_workspaces").is_none(),
        "only admins see bindings: {seen}"
    );
    let seen = api
        .get("/registries/hosted/spaces/apps", admin)
        .await
        .expect(200);
    assert_eq!(seen["bound_workspaces"], json!(["team-a"]));
    assert_eq!(
        api.names("/registries/hosted/spaces", Auth::Bearer(&alice), "name")
            .await,
        ["apps", "library"]
    );
    assert_eq!(
        api.names("/workspaces/team-a/spaces", Auth::Bearer(&alice), "name")
            .await,
        ["apps"]
    );
    assert!(api
        .names("/workspaces/team-b/spaces", admin, "name")
        .await
        .is_empty());
    // Seeing a space does not make alice its admin; bindings are for platform admins.
    api.patch(
        "/registries/hosted/spaces/apps",
        Auth::Bearer(&alice),
        json!({ "public": true }),
    )
    .await
    .error(403, "forbidden", "");
    api.get(
        "/registries/hosted/spaces/apps/bindings",
        Auth::Bearer(&alice),
    )
    .await
    .error(403, "forbidden", "");

    // An unknown workspace in the set is a 400 naming it, and nothing changes.
    api.put(
        "/registries/hosted/spaces/apps/bindings",
        admin,
        json!({ "workspaces": ["team-b", "ghost"] }),
    )
    .await
    .error(400, "invalid", "ghost");
    let unchanged = api
        .get("/registries/hosted/spaces/apps/bindings", admin)
        .await
        .expect(200);
    assert_eq!(unchanged, json!({ "workspaces": ["team-a"] }));
    let both = api
        .put(
            "/registries/hosted/spaces/apps/bindings",
            admin,
            json!({ "workspaces": ["team-b", "team-a", "team-b"] }),
        )
        .await
        .expect(200);
    assert_eq!(both, json!({ "workspaces": ["team-a", "team-b"] }));

    let patched = api
        .patch(
            "/registries/hosted/spaces/apps",
            admin,
            json!({ "public": true, "description": "Open" }),
        )
        .await
        .expect(200);
    assert_eq!(patched["public"], true);
    assert_eq!(patched["description"], "Open");
    api.put(
        "/registries/hosted/spaces/apps/bindings",
        admin,
        json!({ "workspaces": [] }),
    )
    .await
    .expect(200);
    // Public spaces are visible to every signed-in user, bound or not.
    api.get("/registries/hosted/spaces/apps", Auth::Bearer(&alice))
        .await
        .expect(200);

    api.delete("/registries/hosted/spaces/apps", admin)
        .await
        .expect(204);
    api.get("/registries/hosted/spaces/apps", admin)
        .await
        .error(404, "not_found", "apps");
    api.delete("/registries/hosted/spaces/apps", admin)
        .await
        .error(404, "not_found", "apps");

    api.assert_audited(&[
        "space.create",
        "binding.set",
        "space.update",
        "space.delete",
    ])
    .await;
    let actions = api.audit_actions().await;
    // The refused binding left no event: three successful sets, three events.
    assert_eq!(actions.iter().filter(|a| *a == "binding.set").count(), 3);
    api.server.stop().await;
}

async fn registries(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    let alice = api.user("alice").await;
    const SECRET: &str = "s3cret-registry-password";

    let created = api
        .post(
            "/registries",
            admin,
            json!({
                "name": "mirror", "kind": "distribution", "url": "http://127.0.0.1:1/",
                "username": "puller", "password": SECRET, "description": "Nothing listens here",
            }),
        )
        .await;
    assert!(!created.text.contains(SECRET));
    let created = created.expect(201);
    assert_eq!(created["url"], "http://127.0.0.1:1");
    assert_eq!(created["username"], "puller");
    assert_eq!(created["has_password"], true);
    assert_eq!(created["insecure"], false);
    assert_eq!(created["workspace"], Value::Null);
    assert_eq!(created["health"]["status"], "unknown");
    assert!(created.get("password").is_none() && created.get("secret").is_none());

    // At rest the password is encrypted under the data dir's key.
    let stored = api
        .server
        .state
        .store
        .registry(
            berth_store::registry_records::RegistryOwner::Platform,
            "mirror",
        )
        .await
        .unwrap()
        .unwrap();
    let sealed = stored.secret.expect("a stored secret");
    assert!(!sealed.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    assert_eq!(api.server.state.secrets.unseal(&sealed).unwrap(), SECRET);

    // Reads never carry it, for admins or anyone else.
    for auth in [admin, Auth::Bearer(&alice)] {
        let list = api.get("/registries", auth).await;
        assert!(!list.text.contains(SECRET));
        let names: Vec<&str> = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["hosted", "mirror"]);
        let one = api.get("/registries/mirror", auth).await;
        assert!(!one.text.contains(SECRET));
        assert_eq!(one.expect(200)["has_password"], true);
    }
    let hosted = api.get("/registries/hosted", admin).await.expect(200);
    assert_eq!(hosted["kind"], "hosted");
    assert_eq!(hosted["url"], api.server.url.as_str());
    assert_eq!(hosted["health"]["status"], "reachable");

    api.post(
        "/registries",
        admin,
        json!({ "name": "mirror", "kind": "oci", "url": "http://x.example" }),
    )
    .await
    .error(409, "conflict", "mirror");
    for (body, field) in [
        (
            json!({ "name": "r1", "kind": "hosted", "url": "http://x.example" }),
            "kind",
        ),
        (
            json!({ "name": "r1", "kind": "quay", "url": "http://x.example" }),
            "kind",
        ),
        (
            json!({ "name": "r1", "kind": "oci", "url": "x.example" }),
            "url",
        ),
        (
            json!({ "name": "r1", "kind": "oci", "url": "https://u:p@x.example" }),
            "url",
        ),
        (json!({ "name": "r1", "kind": "oci" }), "url"),
    ] {
        api.post("/registries", admin, body)
            .await
            .error(400, "invalid", field);
    }
    api.post(
        "/registries",
        Auth::Bearer(&alice),
        json!({ "name": "r1", "kind": "oci", "url": "http://x.example" }),
    )
    .await
    .error(403, "forbidden", "");
    api.post("/registries/mirror/health", Auth::Bearer(&alice), json!({}))
        .await
        .error(403, "forbidden", "");

    // Nothing listens on port 1: unreachable, with the reason.
    let checked = api
        .post("/registries/mirror/health", admin, json!({}))
        .await
        .expect(200);
    assert_eq!(checked["health"]["status"], "unreachable");
    let reason = checked["health"]["reason"].as_str().unwrap();
    assert!(!reason.is_empty());
    assert!(checked["health"]["checked_at"].is_string());
    // This very server answers `/v2/` with 401: reachable.
    let this = json!({ "name": "itself", "kind": "distribution", "url": api.server.url });
    api.post("/registries", admin, this).await.expect(201);
    let checked = api
        .post("/registries/itself/health", admin, json!({}))
        .await
        .expect(200);
    assert_eq!(checked["health"]["status"], "reachable", "{checked}");
    assert_eq!(checked["health"]["reason"], Value::Null);
    assert_eq!(
        api.get("/registries/itself", admin).await.expect(200)["health"]["status"],
        "reachable"
    );

    // A new URL makes the last check meaningless; an empty password removes the stored one.
    let patched = api
        .patch(
            "/registries/itself",
            admin,
            json!({ "url": "http://127.0.0.1:2", "insecure": true, "password": "" }),
        )
        .await
        .expect(200);
    assert_eq!(patched["health"]["status"], "unknown");
    assert_eq!(patched["insecure"], true);
    assert_eq!(patched["has_password"], false);
    let patched = api
        .patch(
            "/registries/mirror",
            admin,
            json!({ "description": "Still nothing" }),
        )
        .await
        .expect(200);
    assert_eq!(patched["has_password"], true);
    assert_eq!(patched["health"]["status"], "unreachable");

    // `hosted` is Berth itself.
    api.delete("/registries/hosted", admin)
        .await
        .error(409, "conflict", "hosted");
    api.patch("/registries/hosted", admin, json!({ "description": "x" }))
        .await
        .error(409, "conflict", "hosted");
    api.delete("/registries/mirror", Auth::Bearer(&alice))
        .await
        .error(403, "forbidden", "");
    api.delete("/registries/mirror", admin).await.expect(204);
    api.get("/registries/mirror", admin)
        .await
        .error(404, "not_found", "mirror");

    api.assert_audited(&[
        "registry.create",
        "registry.health",
        "registry.update",
        "registry.delete",
    ])
    .await;
    let log = api.get("/audit?action=registry.", admin).await;
    assert!(!log.text.contains(SECRET), "the audit log holds a password");
    api.server.stop().await;
}

async fn workspace_registries(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    let alice = api.user("alice").await;
    let bob = api.user("bob").await;
    api.workspace("team-a").await;
    api.workspace("team-b").await;
    api.member("team-a", "alice", "admin").await;
    api.member("team-b", "bob", "admin").await;

    let body = json!({ "name": "own", "kind": "harbor", "url": "https://harbor.example.com", "password": "pw" });
    let created = api
        .post(
            "/workspaces/team-a/registries",
            Auth::Bearer(&alice),
            body.clone(),
        )
        .await
        .expect(201);
    assert_eq!(created["workspace"], "team-a");
    assert_eq!(created["has_password"], true);
    // Names are unique per owner: team-b and the platform may reuse it.
    api.post(
        "/workspaces/team-b/registries",
        Auth::Bearer(&bob),
        body.clone(),
    )
    .await
    .expect(201);
    api.post(
        "/workspaces/team-a/registries",
        Auth::Bearer(&alice),
        body.clone(),
    )
    .await
    .error(409, "conflict", "own");
    // Platform registry names are not available to workspaces, `hosted` least of all.
    api.post(
        "/registries",
        admin,
        json!({ "name": "central", "kind": "oci", "url": "https://central.example.com" }),
    )
    .await
    .expect(201);
    for taken in ["hosted", "central"] {
        let clash = json!({ "name": taken, "kind": "oci", "url": "https://x.example.com" });
        api.post("/workspaces/team-a/registries", Auth::Bearer(&alice), clash)
            .await
            .error(409, "conflict", taken);
    }
    // Moving a registry to another address drops its stored password unless a new one is
    // given: credentials never follow a registry to a host someone else chose.
    let moved = api
        .patch(
            "/workspaces/team-a/registries/own",
            Auth::Bearer(&alice),
            json!({ "url": "https://elsewhere.example.com" }),
        )
        .await
        .expect(200);
    assert_eq!(moved["has_password"], false);
    let kept = api
        .patch(
            "/workspaces/team-a/registries/own",
            Auth::Bearer(&alice),
            json!({ "url": "https://elsewhere.example.com", "password": "pw2" }),
        )
        .await
        .expect(200);
    assert_eq!(kept["has_password"], true);
    let same_url = api
        .patch(
            "/workspaces/team-a/registries/own",
            Auth::Bearer(&alice),
            json!({ "url": "https://elsewhere.example.com", "description": "x" }),
        )
        .await
        .expect(200);
    assert_eq!(same_url["has_password"], true);

    // Only team-a sees team-a's registry; to others it does not exist.
    assert_eq!(
        api.names(
            "/workspaces/team-a/registries",
            Auth::Bearer(&alice),
            "name"
        )
        .await,
        ["own"]
    );
    api.get("/workspaces/team-a/registries", Auth::Bearer(&bob))
        .await
        .error(404, "not_found", "team-a");
    api.get("/workspaces/team-a/registries/own", Auth::Bearer(&bob))
        .await
        .error(404, "not_found", "");
    api.patch(
        "/workspaces/team-a/registries/own",
        Auth::Bearer(&bob),
        json!({ "description": "x" }),
    )
    .await
    .error(404, "not_found", "");
    assert_eq!(
        api.names("/registries", Auth::Bearer(&alice), "name").await,
        ["central", "hosted"]
    );
    api.get("/registries/own", admin)
        .await
        .error(404, "not_found", "own");
    // Platform admins see every workspace's registries.
    api.get("/workspaces/team-a/registries/own", admin)
        .await
        .expect(200);

    // Members read; only workspace admins change.
    api.member("team-a", "bob", "viewer").await;
    api.get("/workspaces/team-a/registries/own", Auth::Bearer(&bob))
        .await
        .expect(200);
    api.patch(
        "/workspaces/team-a/registries/own",
        Auth::Bearer(&bob),
        json!({ "description": "x" }),
    )
    .await
    .error(403, "forbidden", "");
    let patched = api
        .patch(
            "/workspaces/team-a/registries/own",
            Auth::Bearer(&alice),
            json!({ "description": "Ours" }),
        )
        .await
        .expect(200);
    assert_eq!(patched["description"], "Ours");
    api.delete("/workspaces/team-a/registries/own", Auth::Bearer(&bob))
        .await
        .error(403, "forbidden", "");
    api.delete("/workspaces/team-a/registries/own", Auth::Bearer(&alice))
        .await
        .expect(204);
    // team-b's registry of the same name is untouched.
    api.get("/workspaces/team-b/registries/own", Auth::Bearer(&bob))
        .await
        .expect(200);

    let events = api
        .get("/audit?workspace=team-a", Auth::Bearer(&alice))
        .await
        .expect(200);
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["registry.create", "registry.update", "registry.delete"] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    api.server.stop().await;
}

async fn robots(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    let alice = api.user("alice").await;
    let bob = api.user("bob").await;
    api.workspace("team-a").await;
    api.workspace("team-b").await;
    api.member("team-a", "alice", "admin").await;
    api.member("team-a", "bob", "editor").await;

    let created = api
        .post(
            "/workspaces/team-a/robots",
            Auth::Bearer(&alice),
            json!({ "name": "ci", "permissions": ["pull", "push"], "expires_in_seconds": 3600 }),
        )
        .await
        .expect(201);
    assert_eq!(created["name"], "robot$team-a+ci");
    assert_eq!(created["short_name"], "ci");
    assert_eq!(created["permissions"], json!(["pull", "push"]));
    assert!(created["expires_at"].is_string());
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 43, "256 bits of secret");

    // The secret is shown once: never in a list.
    let list = api
        .get("/workspaces/team-a/robots", Auth::Bearer(&alice))
        .await;
    assert!(!list.text.contains(&secret));
    let list = list.expect(200);
    assert_eq!(list["items"][0]["name"], "robot$team-a+ci");
    assert_eq!(list["items"][0]["created_by"], "alice");
    assert_eq!(list["items"][0]["disabled"], false);
    assert!(list["items"][0].get("secret").is_none());
    // Robots are for workspace admins.
    api.get("/workspaces/team-a/robots", Auth::Bearer(&bob))
        .await
        .error(403, "forbidden", "");
    api.post(
        "/workspaces/team-a/robots",
        Auth::Bearer(&bob),
        json!({ "name": "x1", "permissions": ["pull"] }),
    )
    .await
    .error(403, "forbidden", "");

    // The robot signs in with Basic, reads /me and its workspace's spaces, and nothing else:
    // members and registry URLs are for people (the contract says "member").
    let robot = Auth::Basic("robot$team-a+ci", &secret);
    let me = api.get("/me", robot).await.expect(200);
    assert_eq!(me["kind"], "robot");
    assert_eq!(me["username"], "robot$team-a+ci");
    assert_eq!(me["workspaces"][0]["name"], "team-a");
    assert_eq!(api.names("/workspaces", robot, "name").await, ["team-a"]);
    api.get("/workspaces/team-a/members", robot)
        .await
        .error(403, "forbidden", "");
    api.get("/workspaces/team-a/spaces", robot)
        .await
        .expect(200);
    api.get("/workspaces/team-a/registries", robot)
        .await
        .error(403, "forbidden", "");
    api.get("/workspaces/team-a/robots", robot)
        .await
        .error(403, "forbidden", "");
    api.get("/workspaces/team-b/members", robot)
        .await
        .error(404, "not_found", "");
    api.get("/users", robot).await.error(403, "forbidden", "");
    api.get("/registries", robot)
        .await
        .error(403, "forbidden", "");
    api.get("/me", Auth::Basic("robot$team-a+ci", "wrong"))
        .await
        .error(401, "unauthorized", "");
    // A session from its secret works the same way.
    let session = api.login("robot$team-a+ci", &secret).await;
    api.get("/me", Auth::Bearer(&session)).await.expect(200);

    let disabled = api
        .patch(
            "/workspaces/team-a/robots/ci",
            Auth::Bearer(&alice),
            json!({ "disabled": true }),
        )
        .await
        .expect(200);
    assert_eq!(disabled["disabled"], true);
    api.get("/me", robot).await.error(401, "unauthorized", "");
    api.get("/me", Auth::Bearer(&session))
        .await
        .error(401, "unauthorized", "");
    api.patch(
        "/workspaces/team-a/robots/ci",
        Auth::Bearer(&alice),
        json!({ "disabled": false }),
    )
    .await
    .expect(200);
    api.get("/me", robot).await.expect(200);
    api.patch(
        "/workspaces/team-a/robots/nope",
        Auth::Bearer(&alice),
        json!({ "disabled": true }),
    )
    .await
    .error(404, "not_found", "nope");

    api.delete("/workspaces/team-a/robots/ci", Auth::Bearer(&alice))
        .await
        .expect(204);
    api.get("/me", robot).await.error(401, "unauthorized", "");
    api.delete("/workspaces/team-a/robots/ci", Auth::Bearer(&alice))
        .await
        .error(404, "not_found", "ci");
    // Platform admins administer every workspace.
    api.post(
        "/workspaces/team-b/robots",
        admin,
        json!({ "name": "deploy", "permissions": ["pull"] }),
    )
    .await
    .expect(201);

    api.assert_audited(&[
        "robot.create",
        "robot.disable",
        "robot.enable",
        "robot.delete",
    ])
    .await;
    let log = api.get("/audit?action=robot.", admin).await;
    assert!(
        !log.text.contains(&secret),
        "the audit log holds a robot secret"
    );
    api.server.stop().await;
}

async fn audit_log(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    let alice = api.user("alice").await;
    let bob = api.user("bob").await;
    api.workspace("team-a").await;
    api.workspace("team-b").await;
    api.member("team-a", "alice", "admin").await;
    api.member("team-b", "bob", "viewer").await;
    api.post(
        "/workspaces/team-a/robots",
        Auth::Bearer(&alice),
        json!({ "name": "ci", "permissions": ["pull"] }),
    )
    .await
    .expect(201);

    let all = api.get("/audit", admin).await.expect(200);
    let events = all["items"].as_array().unwrap();
    // Newest first, each with its actor, target, workspace, source and detail.
    let newest = &events[0];
    assert_eq!(newest["action"], "robot.create");
    assert_eq!(newest["actor"], "alice");
    assert_eq!(newest["target"], "workspace/team-a/robot/ci");
    assert_eq!(newest["workspace"], "team-a");
    assert_eq!(newest["source"], "127.0.0.1");
    assert_eq!(newest["detail"]["pull"], true);
    assert!(newest["at"].as_str().unwrap().ends_with('Z'));
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert_eq!(all["total"], events.len());

    // Paging walks the same events.
    assert_eq!(audit_ids_in_pages_of_two(&api).await, ids);

    // Filters.
    let by_alice = api.names("/audit?actor=alice", admin, "action").await;
    assert_eq!(by_alice, ["robot.create"]);
    let members = api.names("/audit?action=member.", admin, "action").await;
    assert_eq!(members, ["member.set", "member.set"]);
    let future = api
        .get("/audit?since=2999-01-01T00:00:00Z", admin)
        .await
        .expect(200);
    assert_eq!(future["total"], 0);
    api.get("/audit?since=yesterday", admin)
        .await
        .error(400, "invalid", "since");

    // A workspace admin reads their workspace's events, and only those.
    let team_a = api
        .get("/audit?workspace=team-a", Auth::Bearer(&alice))
        .await
        .expect(200);
    let team_a = team_a["items"].as_array().unwrap();
    assert!(
        team_a.len() >= 3,
        "workspace.create, member.set, robot.create"
    );
    assert!(team_a.iter().all(|e| e["workspace"] == "team-a"));

    // Binding a space to the workspace, and unbinding it, show in that workspace's view.
    api.post(
        "/registries/hosted/spaces",
        admin,
        json!({ "name": "shared", "public": false }),
    )
    .await
    .expect(201);
    for workspaces in [json!(["team-a", "team-b"]), json!(["team-b"])] {
        api.put(
            "/registries/hosted/spaces/shared/bindings",
            admin,
            json!({ "workspaces": workspaces }),
        )
        .await
        .expect(200);
    }
    let bindings = api
        .names(
            "/audit?workspace=team-a&action=binding.",
            Auth::Bearer(&alice),
            "action",
        )
        .await;
    assert_eq!(bindings, ["binding.remove", "binding.add"]);
    api.get("/audit", Auth::Bearer(&alice))
        .await
        .error(403, "forbidden", "");
    api.get("/audit?workspace=team-b", Auth::Bearer(&alice))
        .await
        .error(404, "not_found", "team-b");
    // Members who are not admins may not.
    api.get("/audit?workspace=team-b", Auth::Bearer(&bob))
        .await
        .error(403, "forbidden", "");
    api.server.stop().await;
}

/// The ids of the whole audit log, read two at a time by following `next_cursor`; every page
/// counts the whole log in `total`.
async fn audit_ids_in_pages_of_two(api: &Api) -> Vec<i64> {
    let mut paged = Vec::new();
    let mut path = "/audit?limit=2".to_string();
    let mut totals = Vec::new();
    loop {
        let page = api.get(&path, api.as_admin()).await.expect(200);
        totals.push(page["total"].as_u64().unwrap() as usize);
        paged.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/audit?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert!(totals.iter().all(|t| *t == paged.len()), "{totals:?}");
    paged
}

/// A pull of a private image is audited when the buffer is flushed, up to a second later, but
/// with the time of its request: a binding removed right after the pull (before the flush) is
/// listed as newer than the pull although its event was written first, and paging walks every
/// event exactly once in that order.
async fn a_buffered_pull_is_logged_at_its_request_time(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    api.workspace("team-a").await;
    api.workspace("team-b").await;
    let (token, image) = private_space_with_image(&api, "vault").await;
    let bind = async |workspaces: Value| {
        let body = json!({ "workspaces": workspaces });
        api.put("/registries/hosted/spaces/vault/bindings", admin, body)
            .await
            .expect(200);
    };

    // The background flush runs once a second; a round in which it ran between the pull and
    // the binding change shows nothing, so rounds repeat until one did not (almost always
    // the first).
    let mut rounds = 0;
    let (pull, removal, events) = loop {
        rounds += 1;
        assert!(
            rounds <= 5,
            "the flush ran between pull and change in every round"
        );
        bind(json!(["team-a", "team-b"])).await;
        api.server.flush_pulls().await;
        let pulled = client()
            .get(format!("{}/v2/vault/app/manifests/v1", api.server.url))
            .bearer_auth(&token)
            .header("accept", berth_testkit::image::OCI_MANIFEST)
            .send()
            .await
            .unwrap();
        assert_eq!(pulled.status(), 200);
        // Events in the same millisecond order by id, which would put the later-written pull
        // first; the change comes a little later, as any change made by a person does.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        bind(json!(["team-a"])).await;
        api.server.flush_pulls().await;

        let events = api.get("/audit?limit=500", admin).await.expect(200)["items"]
            .as_array()
            .unwrap()
            .clone();
        let position = |action: &str| {
            events
                .iter()
                .position(|e| e["action"] == action)
                .unwrap_or_else(|| panic!("no {action} in {events:#?}"))
        };
        let (pull, removal) = (position("manifest.pull"), position("binding.remove"));
        let id = |i: usize| events[i]["id"].as_i64().unwrap();
        if id(pull) > id(removal) {
            break (pull, removal, events);
        }
    };

    // Newest first: the removal, then the pull, which happened first though written last.
    assert!(removal < pull, "the pull is listed as older: {events:#?}");
    let at = |i: usize| {
        time::OffsetDateTime::parse(
            events[i]["at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert!(at(pull) <= at(removal), "{events:#?}");
    assert_eq!(
        events[pull]["target"],
        format!("hosted/vault/app@{}", image.manifest.digest)
    );
    assert_eq!(events[pull]["actor"], "admin");
    let times: Vec<_> = (0..events.len()).map(at).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first by time: {events:#?}"
    );

    // Paging two at a time walks the same events in the same order, each once.
    let listed: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(audit_ids_in_pages_of_two(&api).await, listed);
    api.server.stop().await;
}

async fn settings(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    let alice = api.user("alice").await;
    // The test server turns auto-create on for registry tests.
    let settings = api.get("/settings", admin).await.expect(200);
    assert_eq!(
        settings,
        json!({ "anonymous_pull": true, "auto_create_spaces": true })
    );
    let changed = api
        .patch("/settings", admin, json!({ "anonymous_pull": false }))
        .await
        .expect(200);
    assert_eq!(
        changed,
        json!({ "anonymous_pull": false, "auto_create_spaces": true })
    );
    assert_eq!(api.get("/settings", admin).await.expect(200), changed);
    // The rule sees the change at once: anonymous pulls of public spaces stop.
    let facts = api.server.state.store.access_settings().await.unwrap();
    assert!(!facts.anonymous_pull);

    api.patch("/settings", admin, json!({ "anonymous_pull": "no" }))
        .await
        .error(400, "invalid", "anonymous_pull");
    api.patch("/settings", admin, json!({ "colour": true }))
        .await
        .error(400, "invalid", "colour");
    api.get("/settings", Auth::Bearer(&alice))
        .await
        .error(403, "forbidden", "");
    api.patch(
        "/settings",
        Auth::Bearer(&alice),
        json!({ "anonymous_pull": true }),
    )
    .await
    .error(403, "forbidden", "");
    // The test server's own set-up also changed settings, as actor `test-setup`.
    let event = api
        .get("/audit?action=settings.update&actor=admin", admin)
        .await
        .expect(200);
    assert_eq!(event["total"], 1);
    assert_eq!(event["items"][0]["detail"]["anonymous_pull"], false);
    api.server.stop().await;
}

/// A session stops working when the credential it was opened with changes: a password reset,
/// or an account deleted and made again under the same name (user or robot).
async fn sessions_end_when_credentials_change(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    let alice = api.user("alice").await;
    api.get("/me", Auth::Bearer(&alice)).await.expect(200);
    api.patch(
        "/users/alice",
        admin,
        json!({ "password": "a-new-password-1" }),
    )
    .await
    .expect(200);
    api.get("/me", Auth::Bearer(&alice))
        .await
        .error(401, "unauthorized", "");
    let alice = api.login("alice", "a-new-password-1").await;
    api.get("/me", Auth::Bearer(&alice)).await.expect(200);
    api.delete("/users/alice", admin).await.expect(204);
    api.post(
        "/users",
        admin,
        json!({ "username": "alice", "password": PASSWORD }),
    )
    .await
    .expect(201);
    api.get("/me", Auth::Bearer(&alice))
        .await
        .error(401, "unauthorized", "");

    api.workspace("team").await;
    let create = json!({ "name": "ci", "permissions": ["pull"] });
    let robot = api
        .post("/workspaces/team/robots", admin, create.clone())
        .await
        .expect(201);
    let secret = robot["secret"].as_str().unwrap().to_string();
    let session = api.login("robot$team+ci", &secret).await;
    api.get("/me", Auth::Bearer(&session)).await.expect(200);
    api.delete("/workspaces/team/robots/ci", admin)
        .await
        .expect(204);
    api.post("/workspaces/team/robots", admin, create)
        .await
        .expect(201);
    api.get("/me", Auth::Bearer(&session))
        .await
        .error(401, "unauthorized", "");
    api.server.stop().await;
}

/// A workspace deleted and created again under the same name starts with an empty audit
/// history: its new admins cannot read what happened in the old one.
async fn recreated_workspaces_do_not_inherit_history(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    api.user("alice").await;
    let bob = api.user("bob").await;
    api.workspace("phoenix").await;
    api.member("phoenix", "alice", "admin").await;
    api.post(
        "/workspaces/phoenix/robots",
        admin,
        json!({ "name": "old-ci", "permissions": ["pull"] }),
    )
    .await
    .expect(201);
    api.delete("/workspaces/phoenix", admin).await.expect(204);
    api.workspace("phoenix").await;
    api.member("phoenix", "bob", "admin").await;
    let seen = api
        .get("/audit?workspace=phoenix", Auth::Bearer(&bob))
        .await
        .expect(200);
    let targets: Vec<&str> = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert!(!targets.is_empty());
    assert!(
        targets
            .iter()
            .all(|t| !t.contains("alice") && !t.contains("old-ci")),
        "the new workspace's admin sees the old one's history: {targets:?}"
    );
    api.server.stop().await;
}

/// Creates the private hosted space `space` and pushes an image to `<space>/app:v1` as admin;
/// answers the admin's registry token for `<space>/app` and the image.
async fn private_space_with_image(api: &Api, space: &str) -> (String, berth_testkit::Image) {
    api.post(
        "/registries/hosted/spaces",
        api.as_admin(),
        json!({ "name": space, "public": false }),
    )
    .await
    .expect(201);
    let repository = format!("{space}/app");
    let token = api.server.admin_token(&[&repository]).await;
    let image = berth_testkit::image::ImageBuilder::new()
        .layer(
            berth_testkit::image::layer(&[("hello", b"world")]),
            "ADD hello /",
        )
        .build();
    crate::support::push_image(&api.server.url, &token, &repository, &image, "v1").await;
    (token, image)
}

/// A space that still holds images cannot be deleted: its images would stay behind, and a
/// new space of the same name (public, or bound elsewhere) would inherit them.
async fn spaces_holding_images_are_not_deleted(backend: Backend) {
    let api = Api::start(backend).await;
    let admin = api.as_admin();
    let (token, image) = private_space_with_image(&api, "acme").await;
    api.delete("/registries/hosted/spaces/acme", admin)
        .await
        .error(409, "conflict", "acme");
    // Once its images are gone, the space can go.
    let digest = &image.manifest.digest;
    let deleted = client()
        .delete(format!("{}/v2/acme/app/manifests/{digest}", api.server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 202);
    api.delete("/registries/hosted/spaces/acme", admin)
        .await
        .expect(204);
    api.server.stop().await;
}

/// The document lists every path and method of docs/api-contract.md, and the docs page
/// serves Swagger UI pointed at it, without signing in.
async fn openapi_and_docs(backend: Backend) {
    let api = Api::start(backend).await;
    let document = api.get("/openapi.json", Auth::Anonymous).await.expect(200);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    let contract = include_str!("../../../../docs/api-contract.md");
    let endpoints = contract_endpoints(contract);
    assert!(
        endpoints.len() >= 40,
        "read {} endpoints from the contract",
        endpoints.len()
    );
    for (method, path) in &endpoints {
        let operation = paths
            .get(path)
            .and_then(|item| item.get(method.to_lowercase()));
        assert!(operation.is_some(), "the document lacks {method} {path}");
    }
    for schema in [
        "User",
        "Workspace",
        "Registry",
        "Space",
        "Robot",
        "AuditEvent",
        "ErrorBody",
    ] {
        assert!(
            document["components"]["schemas"].get(schema).is_some(),
            "the document lacks the {schema} schema"
        );
    }

    let redirect = api.get("/docs", Auth::Anonymous).await;
    assert_eq!(redirect.status, 303);
    assert_eq!(redirect.headers["location"], "docs/");
    let page = api.get("/docs/", Auth::Anonymous).await;
    assert_eq!(page.status, 200);
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    let initializer = api
        .get("/docs/swagger-initializer.js", Auth::Anonymous)
        .await;
    assert_eq!(initializer.status, 200);
    assert!(
        initializer.text.contains("../openapi.json"),
        "{}",
        initializer.text
    );
    api.get("/docs/no-such-file.js", Auth::Anonymous)
        .await
        .error(404, "not_found", "");
    api.server.stop().await;
}

/// The (method, path) pairs of the contract's resource table: each row's first cell holds
/// one or more `` `METHODS /path` `` with methods joined by `/` and an optional query.
fn contract_endpoints(contract: &str) -> Vec<(String, String)> {
    let mut endpoints = Vec::new();
    for row in contract.lines().filter(|line| line.starts_with("| `")) {
        let cell = row.split(" | ").next().unwrap();
        for code in cell.split('`').skip(1).step_by(2) {
            let (methods, path) = code.split_once(' ').expect("METHOD /path");
            let path = path.split('?').next().unwrap();
            for method in methods.split('/') {
                endpoints.push((method.to_string(), path.to_string()));
            }
        }
    }
    endpoints
}

#[test]
fn contract_rows_are_read() {
    let endpoints = contract_endpoints(
        "| `GET/PATCH /a/{x}` | who | body |\n| `GET /b?q=`, `POST /c` | x | y |\n| --- |",
    );
    let expected = [
        ("GET", "/a/{x}"),
        ("PATCH", "/a/{x}"),
        ("GET", "/b"),
        ("POST", "/c"),
    ];
    assert_eq!(
        endpoints,
        expected.map(|(m, p)| (m.to_string(), p.to_string()))
    );
}
