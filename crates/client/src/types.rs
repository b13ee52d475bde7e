//! Request and response bodies, mirroring docs/api-contract.md.
//!
//! Every response struct keeps fields it does not know in `extra`, so a client built against an
//! older contract still passes newer fields through when it re-serialises an answer (the CLI's
//! `--output json` does exactly that). Optional request fields are left out of the body when
//! unset, so a PATCH changes only what the caller named.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Fields of an answer that this version of the client does not model.
pub type Extra = Map<String, Value>;

/// A secret string (password, session token, robot secret) whose `Debug` output is redacted,
/// so it cannot reach a log or a panic message by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send or show it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_string())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

/// One page of a list, or several pages joined by the client's list helpers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct List<T> {
    pub items: Vec<T>,
    /// Where the next page starts; `None` when there are no more items.
    pub next_cursor: Option<String>,
    /// How many items match in all, across pages.
    pub total: u64,
}

/// `POST /auth/login`.
#[derive(Debug, Clone, Serialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: Secret,
}

/// The answer to `POST /auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub token: Secret,
    pub expires_at: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Whether a signed-in subject is a person or a robot account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    User,
    Robot,
}

/// A role in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

/// A workspace the caller belongs to, as `GET /me` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MyWorkspace {
    pub name: String,
    pub role: Role,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /me`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub email: Option<String>,
    pub is_admin: bool,
    pub kind: SubjectKind,
    pub workspaces: Vec<MyWorkspace>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A user account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub email: Option<String>,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `POST /users`.
#[derive(Debug, Clone, Serialize)]
pub struct NewUser {
    pub username: String,
    pub password: Secret,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
}

/// `PATCH /users/{user}`; a password resets the user's password.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UserPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
}

/// A workspace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workspace {
    pub name: String,
    pub description: Option<String>,
    pub created_at: String,
    /// How many members it has.
    pub members: u64,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `POST /workspaces`.
#[derive(Debug, Clone, Serialize)]
pub struct NewWorkspace {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PATCH /workspaces/{ws}`.
#[derive(Debug, Clone, Serialize)]
pub struct WorkspacePatch {
    pub description: String,
}

/// A member of a workspace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub username: String,
    pub role: Role,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `PUT /workspaces/{ws}/members/{user}`.
#[derive(Debug, Clone, Serialize)]
pub struct MemberRole {
    pub role: Role,
}

/// The protocol a registry speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistryKind {
    /// Berth's own registry. Only `hosted` has this kind; a registry cannot be created with it.
    Hosted,
    Distribution,
    Harbor,
    Oci,
}

/// The outcome of a registry's last health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Reachable,
    Unreachable,
    Unknown,
}

/// A registry's health as last checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub reason: Option<String>,
    pub checked_at: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A registry: `hosted`, a platform registry, or a workspace's own. Never carries the password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registry {
    pub name: String,
    pub kind: RegistryKind,
    pub url: String,
    pub username: Option<String>,
    pub insecure: bool,
    pub description: Option<String>,
    /// The owning workspace of a workspace registry; `None` for platform registries.
    pub workspace: Option<String>,
    pub has_password: bool,
    pub health: Health,
    pub created_at: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `POST /registries` and `POST /workspaces/{ws}/registries`.
#[derive(Debug, Clone, Serialize)]
pub struct NewRegistry {
    pub name: String,
    pub kind: RegistryKind,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PATCH` of a registry.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegistryPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<RegistryKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A space: the first path segment of repository names in a registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Space {
    pub registry: String,
    pub name: String,
    pub public: bool,
    pub description: Option<String>,
    pub created_at: String,
    /// The workspaces it is bound to; only platform admins see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_workspaces: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `POST /registries/{reg}/spaces`.
#[derive(Debug, Clone, Serialize)]
pub struct NewSpace {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PATCH /registries/{reg}/spaces/{space}`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SpacePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The workspaces a space is bound to, read and written as a whole set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bindings {
    pub workspaces: Vec<String>,
}

/// What a robot account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Pull,
    Push,
}

/// A robot account. Never carries the secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Robot {
    /// The full name, `robot$<ws>+<short>`, as used to log in.
    pub name: String,
    pub short_name: String,
    pub workspace: String,
    pub permissions: Vec<Permission>,
    pub expires_at: Option<String>,
    pub disabled: bool,
    pub created_by: Option<String>,
    pub created_at: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `POST /workspaces/{ws}/robots`.
#[derive(Debug, Clone, Serialize)]
pub struct NewRobot {
    pub name: String,
    pub permissions: Vec<Permission>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<u64>,
}

/// The answer to creating a robot: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedRobot {
    pub name: String,
    pub secret: Secret,
    pub permissions: Vec<Permission>,
    pub expires_at: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `PATCH /workspaces/{ws}/robots/{robot}`.
#[derive(Debug, Clone, Serialize)]
pub struct RobotPatch {
    pub disabled: bool,
}

/// The options of `GET /workspaces/{ws}/registries/{reg}/spaces/{space}/push-command`.
#[derive(Debug, Clone, Default)]
pub struct PushCommandRequest {
    /// Log in with a new short-lived robot limited to the space (hosted registry only).
    pub temporary: bool,
    /// The temporary robot's lifetime in seconds (1–86400; default 3600).
    pub expires_in_seconds: Option<u64>,
    /// The repository path inside the space (default `my-image`).
    pub repository: Option<String>,
    /// The tag (default `latest`).
    pub tag: Option<String>,
}

/// The lines of each client: log in, tag (where the client needs it), push. A temporary
/// login's secret is inside the login lines.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushCommands {
    pub docker: Vec<String>,
    pub podman: Vec<String>,
    pub nerdctl: Vec<String>,
    pub skopeo: Vec<String>,
    pub helm: Vec<String>,
    pub oras: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl PushCommands {
    /// Each client's name with its lines, in the order the server lists them.
    pub fn by_client(&self) -> [(&'static str, &[String]); 6] {
        [
            ("docker", &self.docker),
            ("podman", &self.podman),
            ("nerdctl", &self.nerdctl),
            ("skopeo", &self.skopeo),
            ("helm", &self.helm),
            ("oras", &self.oras),
        ]
    }
}

/// Who a push command's login lines sign in as.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushLogin {
    pub username: String,
    pub expires_at: Option<String>,
    pub temporary: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer of the push-command call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushCommand {
    pub registry: String,
    pub space: String,
    pub host: String,
    pub repository: String,
    pub tag: String,
    pub commands: PushCommands,
    pub login: PushLogin,
    pub notes: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `POST /workspaces/{ws}/pull-secret`.
#[derive(Debug, Clone, Serialize)]
pub struct PullSecretRequest {
    pub namespace: String,
    pub name: String,
}

/// The name and namespace of a Kubernetes object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretMetadata {
    pub name: String,
    pub namespace: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Kubernetes `kubernetes.io/dockerconfigjson` Secret. Its data carries credentials, so
/// each value is a [`Secret`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KubernetesSecret {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub metadata: SecretMetadata,
    #[serde(rename = "type")]
    pub secret_type: String,
    pub data: std::collections::BTreeMap<String, Secret>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One entry of the audit log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub workspace: Option<String>,
    pub source: Option<String>,
    /// Extra facts about the event; shape depends on the action.
    #[serde(default)]
    pub detail: Value,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Filters of `GET /audit`; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// An action, or every action under a prefix ending in `.` (`space.`).
    pub action: Option<String>,
    /// RFC 3339; only events at or after it.
    pub since: Option<String>,
    pub workspace: Option<String>,
}

/// Platform-wide settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub anonymous_pull: bool,
    pub auto_create_spaces: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `PATCH /settings`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SettingsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous_pull: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_create_spaces: Option<bool>,
}

/// Where `POST /workspaces/{ws}/registries/hosted/spaces/{space}/uploads` puts a tarball.
#[derive(Debug, Clone, Default)]
pub struct UploadTarget {
    /// The workspace the caller pushes for.
    pub workspace: String,
    /// The hosted space.
    pub space: String,
    /// The repository inside the space; default: the name the tarball gives.
    pub repository: Option<String>,
    /// The tag; default: the tarball's, then `latest`.
    pub tag: Option<String>,
}

/// An imported image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Uploaded {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// `<registry host>/<repository>:<tag>`, ready to pull.
    pub reference: String,
    #[serde(flatten)]
    pub extra: Extra,
}
