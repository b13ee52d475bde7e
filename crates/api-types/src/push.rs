//! Push commands (the lines that push into a space with each common client) and Kubernetes
//! pull secrets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Secret;

/// The options of `GET /workspaces/{ws}/registries/{reg}/spaces/{space}/push-command`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PushCommandQuery {
    /// Create a temporary robot of the workspace, limited to this space, and put its secret
    /// in the login lines (hosted registry only; editors and admins of a bound workspace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary: Option<bool>,
    /// The temporary robot's lifetime, 1–86400 seconds (default 3600). Only with
    /// `temporary=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<u64>,
    /// The repository path inside the space (default `my-image`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The tag (default `latest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// The lines of each client, in the order they are run: log in, tag (where the client needs
/// it), push. A temporary login's secret is inside the login lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushCommands {
    pub docker: Vec<String>,
    pub podman: Vec<String>,
    pub nerdctl: Vec<String>,
    pub skopeo: Vec<String>,
    pub helm: Vec<String>,
    pub oras: Vec<String>,
}

impl PushCommands {
    /// Each client's name with its lines, in the order the answer lists them.
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushLogin {
    pub username: String,
    /// When a temporary login stops working; `null` otherwise.
    pub expires_at: Option<String>,
    pub temporary: bool,
}

/// The answer of the push-command call.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushCommand {
    pub registry: String,
    pub space: String,
    /// `host[:port]` as clients address the registry.
    pub host: String,
    /// The repository path inside the space.
    pub repository: String,
    pub tag: String,
    pub commands: PushCommands,
    pub login: PushLogin,
    /// Things to know before running the lines (plain HTTP, what a temporary login allows).
    pub notes: Vec<String>,
}

/// `POST /workspaces/{ws}/pull-secret`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PullSecretRequest {
    /// The Kubernetes namespace the Secret is for (a DNS-1123 label).
    pub namespace: String,
    /// The Secret's name (a DNS-1123 subdomain).
    pub name: String,
}

/// The name and namespace of a Kubernetes object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretMetadata {
    pub name: String,
    pub namespace: String,
}

/// A Kubernetes Secret of type `kubernetes.io/dockerconfigjson`, ready for `kubectl apply`.
/// Its data carries credentials, so each value is a [`Secret`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KubernetesSecret {
    #[serde(rename = "apiVersion")]
    #[cfg_attr(feature = "openapi", schema(example = "v1"))]
    pub api_version: String,
    #[cfg_attr(feature = "openapi", schema(example = "Secret"))]
    pub kind: String,
    pub metadata: SecretMetadata,
    #[serde(rename = "type")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "kubernetes.io/dockerconfigjson")
    )]
    pub secret_type: String,
    /// `.dockerconfigjson`: base64 of `{"auths": {"<host>": {"username", "password", "auth"}}}`.
    pub data: BTreeMap<String, Secret>,
}
