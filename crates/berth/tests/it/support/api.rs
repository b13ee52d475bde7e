//! A REST API client for tests: a server with a signed-in platform admin, calls with any
//! credentials, and answers checked by status and error code.

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use super::{client, Backend, TestServer, ADMIN_PASSWORD};

pub const PASSWORD: &str = "a-password-for-tests";

/// How a request authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    Anonymous,
    Bearer(&'a str),
    Basic(&'a str, &'a str),
}

/// A server with a signed-in platform admin.
pub struct Api {
    pub server: TestServer,
    pub admin: String,
}

/// An answer: the status and the JSON body (null when there is none).
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        self.body
    }

    /// Asserts an error answer: its status, its code, and that the message mentions `needle`.
    #[track_caller]
    pub fn error(self, status: u16, code: &str, needle: &str) {
        self.error_in("unexpected answer", status, code, needle)
    }

    /// As [`Answer::error`], naming `case` in every failure, for tests that walk a table of
    /// cases.
    #[track_caller]
    pub fn error_in(self, case: &str, status: u16, code: &str, needle: &str) {
        assert_eq!(self.status, status, "{case}: {}", self.text);
        assert_eq!(self.body["error"]["code"], code, "{case}: {}", self.text);
        let message = self.body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "{case}: `{message}` does not mention `{needle}`"
        );
    }

    /// The answer's `Content-Type`, empty when it has none.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl Api {
    pub async fn start(backend: Backend) -> Api {
        let server = TestServer::spawn(backend).await;
        let mut api = Api {
            server,
            admin: String::new(),
        };
        api.admin = api.login("admin", ADMIN_PASSWORD).await;
        api
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> Answer {
        call(&self.server.url, method, path, auth, body).await
    }

    pub async fn get(&self, path: &str, auth: Auth<'_>) -> Answer {
        self.call(Method::GET, path, auth, None).await
    }

    pub async fn post(&self, path: &str, auth: Auth<'_>, body: Value) -> Answer {
        self.call(Method::POST, path, auth, Some(body)).await
    }

    pub async fn put(&self, path: &str, auth: Auth<'_>, body: Value) -> Answer {
        self.call(Method::PUT, path, auth, Some(body)).await
    }

    pub async fn patch(&self, path: &str, auth: Auth<'_>, body: Value) -> Answer {
        self.call(Method::PATCH, path, auth, Some(body)).await
    }

    pub async fn delete(&self, path: &str, auth: Auth<'_>) -> Answer {
        self.call(Method::DELETE, path, auth, None).await
    }

    pub fn as_admin(&self) -> Auth<'_> {
        Auth::Bearer(&self.admin)
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let body = json!({ "username": username, "password": password });
        let session = self
            .post("/auth/login", Auth::Anonymous, body)
            .await
            .expect(200);
        session["token"].as_str().unwrap().to_string()
    }

    /// Creates a user through the API and answers a session token for them.
    pub async fn user(&self, username: &str) -> String {
        let body = json!({ "username": username, "password": PASSWORD });
        self.post("/users", self.as_admin(), body).await.expect(201);
        self.login(username, PASSWORD).await
    }

    pub async fn workspace(&self, name: &str) {
        let body = json!({ "name": name, "description": format!("The {name} team") });
        self.post("/workspaces", self.as_admin(), body)
            .await
            .expect(201);
    }

    pub async fn member(&self, workspace: &str, username: &str, role: &str) {
        let path = format!("/workspaces/{workspace}/members/{username}");
        self.put(&path, self.as_admin(), json!({ "role": role }))
            .await
            .expect(200);
    }

    /// The names in a list answer's `items`, by `field`.
    pub async fn names(&self, path: &str, auth: Auth<'_>, field: &str) -> Vec<String> {
        let list = self.get(path, auth).await.expect(200);
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item[field].as_str().unwrap().to_string())
            .collect()
    }

    /// The actions of every audit event, oldest first.
    /// Asserts that each of `actions` appears in the audit log.
    pub async fn assert_audited(&self, actions: &[&str]) {
        let recorded = self.audit_actions().await;
        for action in actions {
            assert!(
                recorded.iter().any(|a| a == action),
                "{action} missing from {recorded:?}"
            );
        }
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        let mut actions = self
            .names("/audit?limit=500", self.as_admin(), "action")
            .await;
        actions.reverse();
        actions
    }
}

/// One API request to the server at `url` (`path` below `/api/v1`).
pub async fn call(
    url: &str,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    body: Option<Value>,
) -> Answer {
    let mut request = with_auth(
        client().request(method, format!("{url}/api/v1{path}")),
        auth,
    );
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request).await
}

/// `request` carrying `auth`'s credentials.
pub fn with_auth(request: RequestBuilder, auth: Auth<'_>) -> RequestBuilder {
    match auth {
        Auth::Anonymous => request,
        Auth::Bearer(token) => request.bearer_auth(token),
        Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
    }
}

/// Sends `request` and reads the answer, for requests `call` cannot make (raw bodies, query
/// strings, other headers).
pub async fn answer(request: RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
        headers,
    }
}
