//! Pull secrets: a Kubernetes `kubernetes.io/dockerconfigjson` Secret holding the credentials
//! of a pull-only robot of the workspace, for clusters that deploy the workspace's images.
//!
//! Each (namespace, name) pair has its own robot, named by [`pull_robot_name`], so secrets in
//! different clusters or namespaces can be revoked one at a time. Asking again for the same
//! pair rotates that robot's secret: the old Secret stops working once the new one is
//! applied in its place.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use berth_api_types::{KubernetesSecret, PullSecretRequest, Secret, SecretMetadata};
use berth_identity::principals;
use berth_store::tenancy::{NewRobot, PutRobot};
use berth_store::upstream_robots::UpstreamRobot;
use serde_json::json;
use sha2::Digest as _;

use super::caller::{Caller, WorkspaceNeed};
use super::error::{ApiError, ErrorResponses};
use super::input::{Json, Path};
use super::robots::{new_secret, robot_target};
use crate::ApiState;

/// Checks a DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters), the
/// grammar of Kubernetes namespaces.
fn dns_label(field: &str, value: &str) -> Result<(), ApiError> {
    if !is_label(value, 63) {
        return Err(ApiError::Invalid(format!(
            "{field} `{}` is not a valid Kubernetes namespace: use at most 63 lowercase letters, \
             digits and `-`, starting and ending with a letter or digit (DNS-1123 label)",
            shown(value)
        )));
    }
    Ok(())
}

/// Lowercase letters, digits and `-`, starting and ending with a letter or digit, 1 to
/// `max_len` characters: a DNS-1123 label, or (up to 253) one dot-separated part of a
/// subdomain, which Kubernetes does not cap at 63.
fn is_label(value: &str, max_len: usize) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=max_len).contains(&value.len())
        && value.chars().all(|c| alnum(c) || c == '-')
        && value.starts_with(alnum)
        && value.ends_with(alnum)
}

/// Checks a DNS-1123 subdomain (labels joined by `.`, at most 253 characters), the grammar of
/// Kubernetes object names.
fn dns_subdomain(field: &str, value: &str) -> Result<(), ApiError> {
    let ok = value.len() <= 253 && value.split('.').all(|label| is_label(label, 253));
    if !ok {
        return Err(ApiError::Invalid(format!(
            "{field} `{}` is not a valid Kubernetes Secret name: use at most 253 lowercase \
             letters, digits, `-` and `.`, starting and ending with a letter or digit \
             (DNS-1123 subdomain)",
            shown(value)
        )));
    }
    Ok(())
}

/// A refused value as an error message may quote it: cut to 100 characters, escaped, so
/// control characters cannot garble the message.
fn shown(value: &str) -> String {
    value
        .chars()
        .take(100)
        .flat_map(char::escape_debug)
        .collect()
}

/// The short name of the robot behind the Secret `name` in `namespace`: `pull-<ns>.<name>`
/// when that is a valid robot name (a namespace has no `.`, so the first `.` tells the two
/// apart and no two pairs share a name), otherwise `pull-<ns, cut short>-<hash>`, where the
/// hash of both names keeps it unique; having no `.`, it never equals a name of the first
/// form.
pub fn pull_robot_name(namespace: &str, name: &str) -> String {
    let readable = format!("pull-{namespace}.{name}");
    if super::input::resource_name("robot name", &readable).is_ok() {
        return readable;
    }
    let hash = hex::encode(&sha2::Sha256::digest(format!("{namespace}/{name}").as_bytes())[..8]);
    // Runs of `-` are not allowed in robot names; a namespace may have them.
    let mut prefix = String::new();
    for c in namespace.chars().take(30) {
        if c != '-' || !prefix.ends_with('-') {
            prefix.push(c);
        }
    }
    let prefix = prefix.trim_matches('-');
    format!("pull-{prefix}-{hash}")
}

/// Whether the request asks for YAML (`application/yaml`, `application/x-yaml`, `text/yaml`).
fn wants_yaml(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|range| range.split(';').next().unwrap_or("").trim())
        .any(|media| {
            matches!(
                media.to_ascii_lowercase().as_str(),
                "application/yaml" | "application/x-yaml" | "text/yaml"
            )
        })
}

/// The robots Berth keeps for workspace `workspace_id` in Harbor projects still bound to it,
/// each under the `auths` key `<harbor host>/<project>`. A robot whose binding is gone waits
/// for deletion and is not handed out.
async fn harbor_logins(
    state: &ApiState,
    workspace_id: i64,
) -> Result<Vec<(String, UpstreamRobot)>, ApiError> {
    let mut logins = Vec::new();
    for robot in state
        .store
        .upstream_robots_of_workspace(workspace_id)
        .await?
    {
        let Some(registry) = state.store.registry_by_id(robot.registry_id).await? else {
            continue;
        };
        let bound = state
            .store
            .space(registry.id, &robot.space)
            .await?
            .is_some_and(|space| space.bound_ids().contains(&workspace_id));
        if bound {
            let host = crate::host_of_url(&registry.url);
            logins.push((format!("{host}/{}", robot.space), robot));
        }
    }
    Ok(logins)
}

/// A Kubernetes pull secret for the workspace's images (admins and editors of the workspace,
/// and platform admins).
///
/// The Secret holds a pull-only robot of the workspace for Berth's address (the hosted
/// registry and the registries Berth proxies), `pull-<namespace>.<name>` (or, when that does
/// not fit a robot name, `pull-<namespace>-<hash>`), and for each Harbor project bound to the
/// workspace the robot Berth keeps there, under `<harbor host>/<project>`. Asking again for
/// the same namespace and name rotates that robot's secret. The answer is JSON, or YAML with
/// `Accept: application/yaml`.
#[utoipa::path(post, path = "/workspaces/{ws}/pull-secret", tag = "pull secrets",
    params(("ws" = String, Path, description = "Workspace name")),
    request_body = PullSecretRequest,
    responses((status = 200, description = "The Secret",
        content((KubernetesSecret = "application/json"), (KubernetesSecret = "application/yaml"))),
        ErrorResponses))]
pub async fn pull_secret(
    State(state): State<ApiState>,
    caller: Caller,
    Path(ws): Path<String>,
    headers: HeaderMap,
    Json(request): Json<PullSecretRequest>,
) -> Result<Response, ApiError> {
    let workspace = caller.workspace(&state, &ws, WorkspaceNeed::Read).await?;
    if berth_access::rest::workspace_credentials(&caller.subject, workspace.id).is_err() {
        return Err(ApiError::Forbidden(format!(
            "only editors and admins of workspace `{ws}` (and platform admins) may create pull \
             secrets"
        )));
    }
    dns_label("namespace", &request.namespace)?;
    dns_subdomain("name", &request.name)?;

    let short = pull_robot_name(&request.namespace, &request.name);
    let secret = new_secret();
    let digest = principals::robot_secret_digest(&secret);
    let detail = json!({
        "pull": true,
        "push": false,
        "pull_secret": { "namespace": request.namespace, "name": request.name },
    });
    let target = robot_target(&ws, &short);
    let created = caller.event("robot.create", &target, Some(&ws), detail.clone());
    let rotated = caller.event("robot.rotate", &target, Some(&ws), detail);
    let (_, outcome) = state
        .store
        .put_pull_robot(
            NewRobot {
                workspace_id: workspace.id,
                name: &short,
                secret_sha256: &digest,
                can_pull: true,
                can_push: false,
                expires_at: None,
                created_by: caller.name(),
                space_id: None,
            },
            &created.borrow(),
            &rotated.borrow(),
        )
        .await?;
    tracing::info!(
        workspace = %ws,
        robot = %short,
        rotated = outcome == PutRobot::Rotated,
        "pull secret issued"
    );

    let username = principals::robot_name(&ws, &short);
    let base64 = base64::engine::general_purpose::STANDARD;
    let login = |username: &str, password: &str| {
        json!({
            "username": username,
            "password": password,
            "auth": base64.encode(format!("{username}:{password}")),
        })
    };
    let mut auths = serde_json::Map::new();
    auths.insert(state.hosted_host.to_string(), login(&username, &secret));
    // Harbor refuses Berth's robots, so each bound Harbor project gets the workspace's robot
    // there, under `<harbor host>/<project>`: kubelet picks the longest matching key, so one
    // Secret serves every project.
    for (key, robot) in harbor_logins(&state, workspace.id).await? {
        let password = state.sync.robot_secret(&robot)?;
        auths.insert(key, login(&robot.username, &password));
    }
    let config = json!({ "auths": auths });
    let body = KubernetesSecret {
        api_version: "v1".into(),
        kind: "Secret".into(),
        metadata: SecretMetadata {
            name: request.name,
            namespace: request.namespace,
        },
        secret_type: "kubernetes.io/dockerconfigjson".into(),
        data: BTreeMap::from([(
            ".dockerconfigjson".to_string(),
            Secret::new(base64.encode(config.to_string())),
        )]),
    };
    if wants_yaml(&headers) {
        let yaml = serde_saphyr::to_string(&body)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("rendering YAML: {e}")))?;
        return Ok(([(header::CONTENT_TYPE, "application/yaml")], yaml).into_response());
    }
    Ok(Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_names() {
        for good in ["default", "a", "team-a", "x1-2", &"a".repeat(63)] {
            assert!(dns_label("namespace", good).is_ok(), "{good}");
        }
        for bad in ["", "A", "-a", "a-", "a.b", "a_b", &"a".repeat(64)] {
            assert!(dns_label("namespace", bad).is_err(), "{bad}");
        }
        for good in ["regcred", "a.b-c", "a--b", &"a".repeat(253)] {
            assert!(dns_subdomain("name", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "a.-b",
            "Reg",
            "a_b",
            &"a".repeat(254),
        ] {
            assert!(dns_subdomain("name", bad).is_err(), "{bad}");
        }
        let message = dns_label("namespace", "Bad").unwrap_err().to_string();
        assert!(message.starts_with("namespace `Bad`"), "{message}");
    }

    #[test]
    fn robot_names_are_valid_and_distinct() {
        assert_eq!(
            pull_robot_name("default", "regcred"),
            "pull-default.regcred"
        );
        assert_eq!(pull_robot_name("a-b", "c"), "pull-a-b.c");
        assert_eq!(pull_robot_name("a", "b-c"), "pull-a.b-c");
        let long = pull_robot_name("team--a", &"x".repeat(200));
        assert!(long.starts_with("pull-team-a-"), "{long}");
        let pairs = [
            ("default", "regcred"),
            ("a-b", "c"),
            ("a", "b-c"),
            ("team--a", "x"),
            ("team-a", "x--y"),
            (&*"n".repeat(63), "x"),
            ("n", &*"y".repeat(253)),
            ("n", &*"y".repeat(252)),
        ];
        let names: Vec<String> = pairs
            .iter()
            .map(|(namespace, name)| pull_robot_name(namespace, name))
            .collect();
        for name in &names {
            assert!(
                super::super::input::resource_name("robot", name).is_ok(),
                "{name}"
            );
        }
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    #[test]
    fn yaml_is_chosen_by_accept() {
        let mut headers = HeaderMap::new();
        assert!(!wants_yaml(&headers));
        headers.insert(header::ACCEPT, "application/json".parse().unwrap());
        assert!(!wants_yaml(&headers));
        headers.insert(
            header::ACCEPT,
            "text/plain, application/yaml;q=0.9".parse().unwrap(),
        );
        assert!(wants_yaml(&headers));
    }

    #[test]
    fn the_secret_renders_as_yaml_kubectl_reads() {
        let secret = KubernetesSecret {
            api_version: "v1".into(),
            kind: "Secret".into(),
            metadata: SecretMetadata {
                name: "regcred".into(),
                namespace: "default".into(),
            },
            secret_type: "kubernetes.io/dockerconfigjson".into(),
            data: BTreeMap::from([(".dockerconfigjson".to_string(), Secret::new("e30="))]),
        };
        let yaml = serde_saphyr::to_string(&secret).unwrap();
        assert!(yaml.contains("apiVersion: v1"), "{yaml}");
        assert!(
            yaml.contains("type: kubernetes.io/dockerconfigjson"),
            "{yaml}"
        );
        assert!(yaml.contains(".dockerconfigjson: e30="), "{yaml}");
        assert!(yaml.contains("  namespace: default"), "{yaml}");
    }
}
