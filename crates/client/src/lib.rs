//! A typed async client of Berth's REST API at `/api/v1` (docs/api-contract.md).
//!
//! ```no_run
//! # async fn example() -> berth_client::Result<()> {
//! let anonymous = berth_client::Client::new("http://127.0.0.1:5050")?;
//! let session = anonymous.login("admin", "secret".into()).await?;
//! let client = anonymous.with_token(session.token);
//! for workspace in client.workspaces(None).await?.items {
//!     println!("{}", workspace.name);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Every call goes through one request helper, which percent-encodes each name once as a path
//! segment, sends the credentials, and turns an error answer into [`Error::Api`] with the
//! server's status, code and message. List calls follow `next_cursor` until the list is
//! exhausted or the caller's maximum is reached.

mod error;
mod images;
mod types;

pub use berth_api_types::*;
pub use error::{Error, Result};
pub use types::UploadTarget;

use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;
use url::Url;

/// The largest page the contract allows; bigger pages mean fewer round trips when listing all.
const MAX_PAGE: usize = 500;

/// Which registries a registry call addresses: the platform's, or one workspace's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryScope<'a> {
    Platform,
    Workspace(&'a str),
}

impl<'a> RegistryScope<'a> {
    /// The path segments of the registry collection.
    fn collection(self) -> Vec<&'a str> {
        match self {
            RegistryScope::Platform => vec!["registries"],
            RegistryScope::Workspace(ws) => vec!["workspaces", ws, "registries"],
        }
    }
}

#[derive(Clone)]
enum Auth {
    None,
    Bearer(Secret),
    Basic(String, Secret),
}

/// A client of one Berth server, with or without credentials. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    server: Url,
    auth: Auth,
    /// How many items list calls ask for per request.
    page_size: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server.as_str())
            .finish_non_exhaustive()
    }
}

/// Sent where a helper takes an optional body and the call has none.
const NO_BODY: Option<&()> = None;
/// Sent where a helper takes a query string and the call has none.
const NO_QUERY: &[(&str, &str)] = &[];

impl Client {
    /// A client of the server at `server` (`http://host:port`, optionally with a path prefix),
    /// without credentials.
    pub fn new(server: &str) -> Result<Client> {
        let parsed = Url::parse(server.trim_end_matches('/'))
            .map_err(|e| Error::Invalid(format!("invalid server URL `{server}`: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
            return Err(Error::Invalid(format!(
                "invalid server URL `{server}`: it must start with http:// or https://"
            )));
        }
        // reqwest is built without a crypto provider of its own (see the workspace's
        // Cargo.toml); aws-lc becomes the process default unless one is installed already.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("berth-client/", env!("CARGO_PKG_VERSION")))
            // A server that is down or unroutable must fail a command, not hang it. API calls
            // are small; a registry health check waits on another registry, and two minutes
            // leaves room for that.
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| Error::Invalid(format!("cannot set up HTTP: {e}")))?;
        Ok(Client {
            http,
            server: parsed,
            auth: Auth::None,
            page_size: MAX_PAGE,
        })
    }

    /// The same client, authenticating with a session token from [`Client::login`].
    pub fn with_token(mut self, token: Secret) -> Client {
        self.auth = Auth::Bearer(token);
        self
    }

    /// The same client, authenticating with HTTP Basic as a user or a robot
    /// (`robot$<ws>+<name>`).
    pub fn with_basic(mut self, username: &str, password: Secret) -> Client {
        self.auth = Auth::Basic(username.to_string(), password);
        self
    }

    /// The same client, reading lists `size` items per request (at most the contract's 500).
    /// Smaller pages are for tests of paging; the default is the largest page.
    pub fn with_page_size(mut self, size: usize) -> Client {
        self.page_size = size.clamp(1, MAX_PAGE);
        self
    }

    /// The server's URL as given, without a trailing slash.
    pub fn server(&self) -> &str {
        self.server.as_str().trim_end_matches('/')
    }

    /// The URL of an API path, each segment percent-encoded once.
    fn url(&self, segments: &[&str]) -> Result<Url> {
        for segment in segments {
            // A segment of dots would be resolved away by URL normalisation (even encoded, per
            // the URL standard) and address a different resource, so it is refused here.
            if segment.is_empty() || segment.chars().all(|c| c == '.') {
                return Err(Error::Invalid(format!("`{segment}` is not a valid name")));
            }
        }
        let mut url = self.server.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Invalid(format!("invalid server URL `{}`", self.server)))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        Ok(url)
    }

    /// The one request helper: sends `body` as JSON, maps an error answer to [`Error::Api`],
    /// and decodes a success answer as `T`. An empty answer (204) decodes as JSON `null`, so
    /// calls without an answer ask for `()`.
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &(impl Serialize + ?Sized),
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<T> {
        let mut request = self.request(method, segments, query)?;
        if let Some(body) = body {
            request = request.json(body);
        }
        self.answer(request).await
    }

    /// Sends a request asking for `accept` and answers the body of a success answer as it
    /// came, with the URL's path; error answers become [`Error::Api`] as in [`Client::send`].
    async fn send_raw(
        &self,
        method: Method,
        segments: &[&str],
        query: &(impl Serialize + ?Sized),
        body: Option<&(impl Serialize + ?Sized)>,
        accept: &str,
    ) -> Result<(String, Vec<u8>)> {
        let mut request = self
            .request(method, segments, query)?
            .header(reqwest::header::ACCEPT, accept);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.answer_bytes(request).await
    }

    /// A request to an API path with the client's credentials, for [`Client::answer`].
    fn request(
        &self,
        method: Method,
        segments: &[&str],
        query: &(impl Serialize + ?Sized),
    ) -> Result<reqwest::RequestBuilder> {
        let request = self.http.request(method, self.url(segments)?).query(query);
        Ok(match &self.auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token.expose()),
            Auth::Basic(user, password) => request.basic_auth(user, Some(password.expose())),
        })
    }

    /// Sends a request, maps an error answer to [`Error::Api`], and decodes the answer.
    async fn answer<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T> {
        let (path, bytes) = self.answer_bytes(request).await?;
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| Error::Decode {
            url: path,
            reason: e.to_string(),
        })
    }

    /// Sends a request and answers the URL's path and the body of a success answer; an error
    /// answer becomes [`Error::Api`].
    async fn answer_bytes(&self, request: reqwest::RequestBuilder) -> Result<(String, Vec<u8>)> {
        let request = request
            .build()
            .map_err(|e| Error::Invalid(format!("cannot build the request: {e}")))?;
        let path = request.url().path().to_string();
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| Error::transport(self.server(), &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Error::transport(self.server(), &e))?;
        if !status.is_success() {
            return Err(Error::from_answer(status, &bytes));
        }
        Ok((path, bytes.to_vec()))
    }

    /// Reads a list, following `next_cursor` until it is exhausted or `max` items are read.
    /// The answer joins the pages; its `next_cursor` is set only when `max` stopped it early.
    async fn list<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        filters: &(impl Serialize + ?Sized),
        max: Option<usize>,
    ) -> Result<Page<T>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let want = max.map_or(self.page_size, |max| {
                (max - items.len()).min(self.page_size)
            });
            let paging = ListParams {
                limit: Some(want as i64),
                cursor: cursor.clone(),
            };
            let request = self.request(Method::GET, segments, filters)?.query(&paging);
            let page: Page<T> = self.answer(request).await?;
            // An empty page that still names a cursor would loop forever; stop at it.
            let empty = page.items.is_empty();
            items.extend(page.items);
            cursor = page.next_cursor;
            let full = max.is_some_and(|max| items.len() >= max);
            if cursor.is_none() || full || empty {
                if let Some(max) = max {
                    items.truncate(max);
                }
                return Ok(Page {
                    items,
                    next_cursor: cursor,
                    total: page.total,
                });
            }
        }
    }

    // --- Session ---------------------------------------------------------------------------

    /// `POST /auth/login`: a session token for a user.
    pub async fn login(&self, username: &str, password: Secret) -> Result<Session> {
        let body = LoginRequest {
            username: username.to_string(),
            password,
        };
        self.send(Method::POST, &["auth", "login"], NO_QUERY, Some(&body))
            .await
    }

    /// `GET /me`: who the credentials belong to.
    pub async fn me(&self) -> Result<Me> {
        self.send(Method::GET, &["me"], NO_QUERY, NO_BODY).await
    }

    // --- Users ------------------------------------------------------------------------------

    pub async fn users(&self, max: Option<usize>) -> Result<Page<User>> {
        self.list(&["users"], NO_QUERY, max).await
    }

    pub async fn create_user(&self, user: &NewUser) -> Result<User> {
        self.send(Method::POST, &["users"], NO_QUERY, Some(user))
            .await
    }

    pub async fn user(&self, name: &str) -> Result<User> {
        self.send(Method::GET, &["users", name], NO_QUERY, NO_BODY)
            .await
    }

    pub async fn update_user(&self, name: &str, patch: &UserPatch) -> Result<User> {
        self.send(Method::PATCH, &["users", name], NO_QUERY, Some(patch))
            .await
    }

    pub async fn delete_user(&self, name: &str) -> Result<()> {
        self.send(Method::DELETE, &["users", name], NO_QUERY, NO_BODY)
            .await
    }

    // --- Workspaces and members -------------------------------------------------------------

    pub async fn workspaces(&self, max: Option<usize>) -> Result<Page<Workspace>> {
        self.list(&["workspaces"], NO_QUERY, max).await
    }

    pub async fn create_workspace(&self, workspace: &NewWorkspace) -> Result<Workspace> {
        self.send(Method::POST, &["workspaces"], NO_QUERY, Some(workspace))
            .await
    }

    pub async fn workspace(&self, name: &str) -> Result<Workspace> {
        self.send(Method::GET, &["workspaces", name], NO_QUERY, NO_BODY)
            .await
    }

    pub async fn update_workspace(&self, name: &str, patch: &WorkspacePatch) -> Result<Workspace> {
        self.send(Method::PATCH, &["workspaces", name], NO_QUERY, Some(patch))
            .await
    }

    pub async fn delete_workspace(&self, name: &str) -> Result<()> {
        self.send(Method::DELETE, &["workspaces", name], NO_QUERY, NO_BODY)
            .await
    }

    pub async fn members(&self, workspace: &str, max: Option<usize>) -> Result<Page<Member>> {
        self.list(&["workspaces", workspace, "members"], NO_QUERY, max)
            .await
    }

    /// Adds `user` to the workspace or changes their role.
    pub async fn set_member(&self, workspace: &str, user: &str, role: Role) -> Result<Member> {
        let path = ["workspaces", workspace, "members", user];
        self.send(Method::PUT, &path, NO_QUERY, Some(&MemberRole { role }))
            .await
    }

    pub async fn remove_member(&self, workspace: &str, user: &str) -> Result<()> {
        let path = ["workspaces", workspace, "members", user];
        self.send(Method::DELETE, &path, NO_QUERY, NO_BODY).await
    }

    /// The spaces bound to a workspace (the reverse of [`Client::bindings`]).
    pub async fn workspace_spaces(
        &self,
        workspace: &str,
        max: Option<usize>,
    ) -> Result<Page<Space>> {
        self.list(&["workspaces", workspace, "spaces"], NO_QUERY, max)
            .await
    }

    // --- Registries -------------------------------------------------------------------------

    pub async fn registries(
        &self,
        scope: RegistryScope<'_>,
        max: Option<usize>,
    ) -> Result<Page<Registry>> {
        self.list(&scope.collection(), NO_QUERY, max).await
    }

    pub async fn create_registry(
        &self,
        scope: RegistryScope<'_>,
        registry: &NewRegistry,
    ) -> Result<Registry> {
        self.send(Method::POST, &scope.collection(), NO_QUERY, Some(registry))
            .await
    }

    pub async fn registry(&self, scope: RegistryScope<'_>, name: &str) -> Result<Registry> {
        let path = [scope.collection(), vec![name]].concat();
        self.send(Method::GET, &path, NO_QUERY, NO_BODY).await
    }

    pub async fn update_registry(
        &self,
        scope: RegistryScope<'_>,
        name: &str,
        patch: &RegistryPatch,
    ) -> Result<Registry> {
        let path = [scope.collection(), vec![name]].concat();
        self.send(Method::PATCH, &path, NO_QUERY, Some(patch)).await
    }

    pub async fn delete_registry(&self, scope: RegistryScope<'_>, name: &str) -> Result<()> {
        let path = [scope.collection(), vec![name]].concat();
        self.send(Method::DELETE, &path, NO_QUERY, NO_BODY).await
    }

    /// Checks a registry now and answers it with the fresh health.
    pub async fn check_registry(&self, scope: RegistryScope<'_>, name: &str) -> Result<Registry> {
        let path = [scope.collection(), vec![name, "health"]].concat();
        self.send(Method::POST, &path, NO_QUERY, NO_BODY).await
    }

    /// Queues a sync of a registry (or finds the one queued or running) and answers its state.
    pub async fn start_sync(
        &self,
        scope: RegistryScope<'_>,
        name: &str,
        request: &SyncRequest,
    ) -> Result<RegistrySync> {
        let path = [scope.collection(), vec![name, "sync"]].concat();
        self.send(Method::POST, &path, NO_QUERY, Some(request))
            .await
    }

    /// A registry's sync state and progress.
    pub async fn sync_status(&self, scope: RegistryScope<'_>, name: &str) -> Result<RegistrySync> {
        let path = [scope.collection(), vec![name, "sync"]].concat();
        self.send(Method::GET, &path, NO_QUERY, NO_BODY).await
    }

    /// Cancels a registry's queued or running sync.
    pub async fn cancel_sync(&self, scope: RegistryScope<'_>, name: &str) -> Result<RegistrySync> {
        let path = [scope.collection(), vec![name, "sync"]].concat();
        self.send(Method::DELETE, &path, NO_QUERY, NO_BODY).await
    }

    // --- Spaces and bindings ----------------------------------------------------------------

    /// The spaces of a registry the caller may see.
    pub async fn spaces(&self, registry: &str, max: Option<usize>) -> Result<Page<Space>> {
        self.list(&["registries", registry, "spaces"], NO_QUERY, max)
            .await
    }

    pub async fn create_space(&self, registry: &str, space: &NewSpace) -> Result<Space> {
        let path = ["registries", registry, "spaces"];
        self.send(Method::POST, &path, NO_QUERY, Some(space)).await
    }

    pub async fn space(&self, registry: &str, name: &str) -> Result<Space> {
        let path = ["registries", registry, "spaces", name];
        self.send(Method::GET, &path, NO_QUERY, NO_BODY).await
    }

    pub async fn update_space(
        &self,
        registry: &str,
        name: &str,
        patch: &SpacePatch,
    ) -> Result<Space> {
        let path = ["registries", registry, "spaces", name];
        self.send(Method::PATCH, &path, NO_QUERY, Some(patch)).await
    }

    pub async fn delete_space(&self, registry: &str, name: &str) -> Result<()> {
        let path = ["registries", registry, "spaces", name];
        self.send(Method::DELETE, &path, NO_QUERY, NO_BODY).await
    }

    /// The workspaces a space is bound to.
    pub async fn bindings(&self, registry: &str, space: &str) -> Result<Bindings> {
        let path = ["registries", registry, "spaces", space, "bindings"];
        self.send(Method::GET, &path, NO_QUERY, NO_BODY).await
    }

    /// Replaces the whole set of workspaces a space is bound to.
    pub async fn set_bindings(
        &self,
        registry: &str,
        space: &str,
        bindings: &Bindings,
    ) -> Result<Bindings> {
        let path = ["registries", registry, "spaces", space, "bindings"];
        self.send(Method::PUT, &path, NO_QUERY, Some(bindings))
            .await
    }

    // --- Robots -----------------------------------------------------------------------------

    pub async fn robots(&self, workspace: &str, max: Option<usize>) -> Result<Page<Robot>> {
        self.list(&["workspaces", workspace, "robots"], NO_QUERY, max)
            .await
    }

    /// Creates a robot; the answer is the only time its secret is shown.
    pub async fn create_robot(&self, workspace: &str, robot: &NewRobot) -> Result<CreatedRobot> {
        let path = ["workspaces", workspace, "robots"];
        self.send(Method::POST, &path, NO_QUERY, Some(robot)).await
    }

    /// Changes a robot, addressed by its short name.
    pub async fn update_robot(
        &self,
        workspace: &str,
        name: &str,
        patch: &RobotPatch,
    ) -> Result<Robot> {
        let path = ["workspaces", workspace, "robots", name];
        self.send(Method::PATCH, &path, NO_QUERY, Some(patch)).await
    }

    pub async fn delete_robot(&self, workspace: &str, name: &str) -> Result<()> {
        let path = ["workspaces", workspace, "robots", name];
        self.send(Method::DELETE, &path, NO_QUERY, NO_BODY).await
    }

    // --- Push commands and pull secrets ----------------------------------------------------

    /// The lines that push into `space` of `registry` with each common client; with
    /// `query.temporary`, they log in with a new short-lived robot limited to that space.
    pub async fn push_command(
        &self,
        workspace: &str,
        registry: &str,
        space: &str,
        query: &PushCommandQuery,
    ) -> Result<PushCommand> {
        let path = [
            "workspaces",
            workspace,
            "registries",
            registry,
            "spaces",
            space,
            "push-command",
        ];
        self.send(Method::GET, &path, query, NO_BODY).await
    }

    /// A Kubernetes pull secret for the workspace; asking again for the same namespace and
    /// name rotates the robot behind it.
    pub async fn pull_secret(
        &self,
        workspace: &str,
        request: &PullSecretRequest,
    ) -> Result<KubernetesSecret> {
        let path = ["workspaces", workspace, "pull-secret"];
        self.send(Method::POST, &path, NO_QUERY, Some(request))
            .await
    }

    /// [`Client::pull_secret`] as the server renders it in YAML, ready for
    /// `kubectl apply -f -`.
    pub async fn pull_secret_yaml(
        &self,
        workspace: &str,
        request: &PullSecretRequest,
    ) -> Result<Secret> {
        let path = ["workspaces", workspace, "pull-secret"];
        let (url, bytes) = self
            .send_raw(
                Method::POST,
                &path,
                NO_QUERY,
                Some(request),
                "application/yaml",
            )
            .await?;
        String::from_utf8(bytes)
            .map(Secret::new)
            .map_err(|e| Error::Decode {
                url,
                reason: e.to_string(),
            })
    }

    // --- Audit and settings -----------------------------------------------------------------

    /// Audit events matching `filter`, newest first.
    pub async fn audit(
        &self,
        filter: &AuditFilter,
        max: Option<usize>,
    ) -> Result<Page<AuditEvent>> {
        self.list(&["audit"], filter, max).await
    }

    pub async fn settings(&self) -> Result<Settings> {
        self.send(Method::GET, &["settings"], NO_QUERY, NO_BODY)
            .await
    }

    pub async fn update_settings(&self, patch: &SettingsPatch) -> Result<Settings> {
        self.send(Method::PATCH, &["settings"], NO_QUERY, Some(patch))
            .await
    }

    // --- Uploads ----------------------------------------------------------------------------

    /// `POST /workspaces/{ws}/registries/hosted/spaces/{space}/uploads`: streams a `docker save`
    /// or OCI image layout tarball of `length` bytes from `tarball` into the hosted registry,
    /// in 256 KiB chunks; the tarball is never held whole.
    pub async fn upload_image(
        &self,
        target: &UploadTarget,
        tarball: impl AsyncRead + Send + 'static,
        length: u64,
    ) -> Result<Upload> {
        let segments = [
            "workspaces",
            target.workspace.as_str(),
            "registries",
            "hosted",
            "spaces",
            target.space.as_str(),
            "uploads",
        ];
        let body = reqwest::Body::wrap_stream(ReaderStream::with_capacity(tarball, UPLOAD_CHUNK));
        let request = self
            .request(Method::POST, &segments, &target.params)?
            .header(reqwest::header::CONTENT_TYPE, "application/x-tar")
            // Declared up front, so a server refuses a tarball over its limit before any of it
            // is sent.
            .header(reqwest::header::CONTENT_LENGTH, length)
            .timeout(UPLOAD_TIMEOUT)
            .body(body);
        self.answer(request).await
    }
}

/// Tarballs are read and sent in chunks of this size.
const UPLOAD_CHUNK: usize = 256 * 1024;
/// The client's two-minute limit suits API calls, not gigabytes over a slow link; an upload
/// only gives up after this long.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_once_as_path_segments() {
        let client = Client::new("http://127.0.0.1:5050/").unwrap();
        let url = client.url(&["workspaces", "a/b c%", "members"]).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:5050/api/v1/workspaces/a%2Fb%20c%25/members"
        );
        let prefixed = Client::new("https://example.test/berth").unwrap();
        assert_eq!(
            prefixed.url(&["me"]).unwrap().as_str(),
            "https://example.test/berth/api/v1/me"
        );
        assert!(client.url(&["workspaces", ".."]).is_err());
        assert!(client.url(&["workspaces", ""]).is_err());
    }

    #[test]
    fn server_urls_must_be_http() {
        assert!(Client::new("ftp://example.test").is_err());
        assert!(Client::new("not a url").is_err());
        assert!(Client::new("mailto:someone@example.test").is_err());
    }

    #[test]
    fn error_answers_keep_the_server_message_and_status() {
        let body = br#"{"error":{"code":"conflict","message":"workspace `team` exists"}}"#;
        let error = Error::from_answer(reqwest::StatusCode::CONFLICT, body);
        assert_eq!(error.status(), Some(409));
        assert_eq!(error.code(), Some("conflict"));
        assert_eq!(error.to_string(), "workspace `team` exists");

        let error = Error::from_answer(reqwest::StatusCode::NOT_FOUND, b"");
        assert_eq!(error.status(), Some(404));
        assert_eq!(error.code(), Some("http_404"));
        assert!(error.to_string().contains("404"), "{error}");
    }

    #[test]
    fn secrets_are_redacted_in_debug_output_but_sent() {
        let body = LoginRequest {
            username: "admin".into(),
            password: Secret::new("hunter2"),
        };
        assert!(!format!("{body:?}").contains("hunter2"));
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"username": "admin", "password": "hunter2"})
        );
    }

    #[test]
    fn patches_send_only_what_is_set() {
        let patch = SpacePatch {
            public: Some(true),
            description: None,
            scan_on_push: None,
        };
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            serde_json::json!({"public": true})
        );
        // A newer server's extra fields do not stop an answer from reading.
        let answer = serde_json::json!({
            "registry": "hosted", "name": "team", "public": false, "description": "",
            "created_at": "2026-01-01T00:00:00Z", "repositories": 3
        });
        let space: Space = serde_json::from_value(answer).unwrap();
        assert_eq!(space.bound_workspaces, None);
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_transport_error() {
        // Port 9 (discard) is closed on loopback, so the connection is refused at once.
        let client = Client::new("http://127.0.0.1:9").unwrap();
        let error = client.me().await.unwrap_err();
        assert!(matches!(error, Error::Transport { .. }), "{error:?}");
        assert!(error.to_string().contains("127.0.0.1:9"), "{error}");
    }
}
