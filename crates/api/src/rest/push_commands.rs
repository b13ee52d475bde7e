//! Push commands: the lines a member pastes into a terminal to push into a space, for each
//! common client, with the registry's real address. With `temporary=true` the answer also
//! carries a short-lived robot, limited to that one space, whose secret the login lines feed
//! to the client non-interactively (the only time the secret is shown).
//!
//! The lines are built by pure functions from a [`Target`] and a [`LoginLines`], so what is
//! printed can be tested without a server; the handler only decides who may ask and where
//! the space is.

use axum::extract::State;
use berth_access::rest::{self, Refusal};
use berth_access::ListedSpace;
use berth_api_types::{PushCommand, PushCommandQuery, PushCommands, PushLogin};
use berth_identity::principals;
use berth_oci::{RepoName, Tag};
use berth_store::registry_records::{RegistryOwner, RegistryRecord};
use berth_store::tenancy::{NewRobot, SpaceRow, WorkspaceRecord};
use berth_store::upstream_robots::UpstreamRobot;
use rand::Rng as _;
use serde_json::json;

use super::caller::{Caller, WorkspaceNeed};
use super::error::{ApiError, ErrorResponses};
use super::input::{self, timestamp, Json, Path, Query};
use super::robots::{new_secret, robot_target};
use crate::ApiState;

/// How long a temporary login lasts when the request does not say: long enough for a build
/// and a push, short enough that a secret pasted into a chat soon stops mattering.
const DEFAULT_TEMPORARY_SECONDS: u64 = 3600;
/// The longest a temporary login may last: a day.
const MAX_TEMPORARY_SECONDS: u64 = 24 * 3600;
/// The repository filled into the commands when the request names none.
const DEFAULT_REPOSITORY: &str = "my-image";
const DEFAULT_TAG: &str = "latest";
/// Expired temporary robots are deleted once they have been expired this long; until then
/// the robot list still shows who pushed with which login.
const EXPIRED_ROBOT_GRACE_MILLIS: i64 = 24 * 3600 * 1000;

/// How a client must reach the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Https,
    /// HTTPS with a certificate clients cannot verify (an external registry marked insecure).
    HttpsUnverified,
    Http,
}

/// Where the lines push to.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host[:port]`.
    pub host: String,
    pub transport: Transport,
    pub space: String,
    /// The path inside the space.
    pub repository: String,
    pub tag: String,
}

impl Target {
    fn reference(&self) -> String {
        format!(
            "{}/{}/{}:{}",
            self.host, self.space, self.repository, self.tag
        )
    }

    /// The repository's last path segment: the name of the files the lines read.
    fn last_segment(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }
}

/// How the login lines authenticate.
#[derive(Debug, Clone)]
pub enum LoginLines {
    /// The client asks for the password of `username` when the line runs.
    Prompt { username: String },
    /// The secret is piped in, so the lines run without a terminal.
    Secret { username: String, secret: String },
}

/// Quotes `word` for a POSIX shell when it needs it: robot names carry `$` and `+`.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// One client's login line. `flags` go after the host.
fn login_line(client: &str, host: &str, login: &LoginLines, flags: &[&str]) -> String {
    let flags = flags_text(flags);
    match login {
        LoginLines::Prompt { username } => {
            format!("{client} login{flags} -u {} {host}", shell_quote(username))
        }
        LoginLines::Secret { username, secret } => {
            // Always quoted, so the line reads the same whatever the secret holds.
            let secret = format!("'{}'", secret.replace('\'', r"'\''"));
            format!(
                "printf '%s' {secret} | {client} login{flags} -u {} --password-stdin {host}",
                shell_quote(username)
            )
        }
    }
}

/// The lines of every client for `target`, logging in as `login`.
pub fn commands(target: &Target, login: &LoginLines) -> PushCommands {
    use Transport::*;
    let host = target.host.as_str();
    let reference = target.reference();
    let local = format!("{}:{}", target.repository, target.tag);
    let last = target.last_segment();
    let when = |on: bool, flag: &'static str| if on { vec![flag] } else { vec![] };
    let unverified = target.transport != Https;

    let docker = vec![
        login_line("docker", host, login, &[]),
        format!("docker tag {local} {reference}"),
        format!("docker push {reference}"),
    ];
    let podman_flags = when(unverified, "--tls-verify=false");
    let podman = vec![
        login_line("podman", host, login, &podman_flags),
        format!("podman tag {local} {reference}"),
        format!("podman push{} {reference}", flags_text(&podman_flags)),
    ];
    let nerdctl_flags = when(unverified, "--insecure-registry");
    let nerdctl = vec![
        login_line("nerdctl", host, login, &nerdctl_flags),
        format!("nerdctl tag {local} {reference}"),
        format!("nerdctl push{} {reference}", flags_text(&nerdctl_flags)),
    ];
    let skopeo = vec![
        login_line(
            "skopeo",
            host,
            login,
            &when(unverified, "--tls-verify=false"),
        ),
        format!(
            "skopeo copy{} oci-archive:{last}.tar docker://{reference}",
            flags_text(&when(unverified, "--dest-tls-verify=false"))
        ),
    ];
    // helm and oras tell plain HTTP apart from an unverified certificate.
    let (helm_login_flags, helm_push_flags, oras_flags) = match target.transport {
        Https => (vec![], vec![], vec![]),
        HttpsUnverified => (
            vec!["--insecure"],
            vec!["--insecure-skip-tls-verify"],
            vec!["--insecure"],
        ),
        Http => (
            vec!["--plain-http"],
            vec!["--plain-http"],
            vec!["--plain-http"],
        ),
    };
    // helm names the repository after the chart, so it pushes into the repository's parent.
    let chart_parent = match target.repository.rsplit_once('/') {
        Some((parent, _)) => format!("{}/{parent}", target.space),
        None => target.space.clone(),
    };
    let helm = vec![
        login_line("helm registry", host, login, &helm_login_flags),
        format!(
            "helm push{} {last}-{}.tgz oci://{host}/{chart_parent}",
            flags_text(&helm_push_flags),
            target.tag
        ),
    ];
    let oras = vec![
        login_line("oras", host, login, &oras_flags),
        format!(
            "oras push{} {reference} artifact.txt:text/plain",
            flags_text(&oras_flags)
        ),
    ];
    PushCommands {
        docker,
        podman,
        nerdctl,
        skopeo,
        helm,
        oras,
    }
}

fn flags_text(flags: &[&str]) -> String {
    flags.iter().map(|f| format!(" {f}")).collect()
}

/// What to know before running the lines, whoever logs in.
fn target_notes(target: &Target) -> Vec<String> {
    let host = &target.host;
    let last = target.last_segment();
    let mut notes = Vec::new();
    // Docker already treats a loopback registry as insecure (its default insecure-registries
    // hold 127.0.0.0/8), so telling its users to list one would send them to edit a file
    // and restart the daemon for nothing.
    let loopback = is_loopback(host);
    match target.transport {
        Transport::Http | Transport::HttpsUnverified if loopback => notes.push(format!(
            "Docker treats `{host}` as an insecure registry already, since it is a loopback \
             address; the other clients' lines carry their flags for it."
        )),
        Transport::Http => notes.push(format!(
            "{host} is served over plain HTTP: Docker only logs in and pushes after `{host}` is \
             listed under `insecure-registries` in /etc/docker/daemon.json and the daemon is \
             restarted; the other clients' lines carry their plain-HTTP flags."
        )),
        Transport::HttpsUnverified => notes.push(format!(
            "{host} has a certificate clients cannot verify: Docker needs `{host}` under \
             `insecure-registries` in /etc/docker/daemon.json (or its CA installed); the other \
             clients' lines skip verification."
        )),
        Transport::Https => {}
    }
    notes.push(format!(
        "docker, podman and nerdctl push the local image `{}:{}`; skopeo copies the OCI \
         archive `{last}.tar` (e.g. from `podman save --format oci-archive -o {last}.tar \
         <image>`).",
        target.repository, target.tag
    ));
    notes.push(format!(
        "helm takes the chart's name and version from the chart: the line pushes chart \
         `{last}` version `{}` packaged as `{last}-{}.tgz`. oras pushes the file \
         `artifact.txt`; name your own files instead.",
        target.tag, target.tag
    ));
    notes
}

/// Whether `host` (`host[:port]`, an IPv6 address in brackets) is `localhost` or a loopback
/// address (127.0.0.0/8, ::1).
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `host[:port]` of a URL, and whether it is plain HTTP.
fn address(url: &str) -> (String, bool) {
    let plain_http = url::Url::parse(url).is_ok_and(|parsed| parsed.scheme() == "http");
    (crate::host_of_url(url), plain_http)
}

/// The registry `{reg}` as workspace `workspace` sees it: a platform registry (hosted
/// included) or one of the workspace's own.
async fn registry_in_view(
    state: &ApiState,
    workspace: &WorkspaceRecord,
    name: &str,
) -> Result<RegistryRecord, ApiError> {
    if let Some(registry) = state.store.registry(RegistryOwner::Platform, name).await? {
        return Ok(registry);
    }
    state
        .store
        .registry(RegistryOwner::Workspace(workspace.id), name)
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("registry `{name}`")))
}

/// The lines to push into a space with each common client (members of the workspace).
///
/// The space must be in the workspace's image list (a public or bound space of a platform
/// registry, or any space of one of the workspace's own registries); any other answers 404.
/// `temporary=true` creates a robot of the workspace limited to this space (pull and push,
/// 1 hour by default, at most 24) and puts its secret in the login lines; that takes the
/// editor or admin role in the workspace, a space bound to it, and the hosted registry.
#[utoipa::path(get, path = "/workspaces/{ws}/registries/{reg}/spaces/{space}/push-command",
    tag = "push commands",
    params(("ws" = String, Path, description = "Workspace name"),
           ("reg" = String, Path, description = "Registry name (`hosted`, a platform registry or one of the workspace's)"),
           ("space" = String, Path, description = "Space name"),
           PushCommandQuery),
    responses((status = 200, body = PushCommand), ErrorResponses))]
pub async fn push_command(
    State(state): State<ApiState>,
    caller: Caller,
    Path((ws, reg, space)): Path<(String, String, String)>,
    Query(query): Query<PushCommandQuery>,
) -> Result<Json<PushCommand>, ApiError> {
    let workspace = caller.workspace(&state, &ws, WorkspaceNeed::Read).await?;
    let registry = registry_in_view(&state, &workspace, &reg).await?;
    let hidden = || ApiError::not_found(format_args!("space `{reg}/{space}`"));
    input::resource_name("space name", &space)?;
    let space_row = if registry.workspace_id.is_some() {
        // Berth does not list the spaces of a workspace's own registry, and all of them are
        // in the workspace's view, so any well-formed name is one.
        None
    } else {
        let row = state
            .store
            .space(registry.id, &space)
            .await?
            .ok_or_else(hidden)?;
        let bound = row.bound_ids();
        let listed = ListedSpace {
            public: row.public,
            registry_owner: None,
            bound: &bound,
        };
        if !berth_access::list_sources(listed, workspace.id).any() {
            return Err(hidden());
        }
        Some(row)
    };

    let repository = query
        .repository
        .unwrap_or_else(|| DEFAULT_REPOSITORY.to_string());
    RepoName::parse(&format!("{space}/{repository}"))
        .map_err(|e| ApiError::Invalid(format!("repository: {e}")))?;
    let tag = query.tag.unwrap_or_else(|| DEFAULT_TAG.to_string());
    Tag::parse(&tag).map_err(|e| ApiError::Invalid(format!("tag: {e}")))?;
    let temporary = query.temporary.unwrap_or(false);
    if query.expires_in_seconds.is_some() && !temporary {
        return Err(ApiError::Invalid(
            "expires_in_seconds applies only with temporary=true".into(),
        ));
    }

    let hosted = registry.is_hosted();
    let (host, plain_http) = if hosted {
        address(&state.external_url)
    } else {
        address(&registry.url)
    };
    let transport = match (plain_http, registry.insecure) {
        (true, _) => Transport::Http,
        (false, true) => Transport::HttpsUnverified,
        (false, false) => Transport::Https,
    };
    let target = Target {
        host,
        transport,
        space: space.clone(),
        repository,
        tag,
    };
    let mut notes = Vec::new();

    let harbor_robot = match (&space_row, berth_sync::keeps_robots(&registry)) {
        (Some(row), true) if temporary => {
            Some(harbor_robot(&state, &caller, &workspace, row).await?)
        }
        _ => None,
    };
    let (login_lines, login) = if let Some(robot) = harbor_robot {
        let secret = state.sync.robot_secret(&robot)?;
        notes.push(format!(
            "The login lines carry the secret of workspace `{ws}`'s robot in Harbor project \
             `{space}`, which Berth keeps while the project is bound to the workspace: whoever \
             holds it can push to and pull from the project until it is unbound."
        ));
        (
            LoginLines::Secret {
                username: robot.username.clone(),
                secret,
            },
            PushLogin {
                username: robot.username,
                expires_at: None,
                temporary: false,
            },
        )
    } else if temporary {
        let Some(space_row) = space_row.filter(|_| hosted) else {
            return Err(ApiError::Invalid(format!(
                "temporary=true works only for the hosted registry: Berth cannot create \
                 accounts on `{reg}`; log in with an account of that registry instead"
            )));
        };
        may_have_push_login(&caller, &workspace, &space_row)?;
        let seconds = query
            .expires_in_seconds
            .unwrap_or(DEFAULT_TEMPORARY_SECONDS);
        if !(1..=MAX_TEMPORARY_SECONDS).contains(&seconds) {
            return Err(ApiError::Invalid(format!(
                "expires_in_seconds must be between 1 and {MAX_TEMPORARY_SECONDS}"
            )));
        }
        let (username, secret, expires_at) =
            create_temporary_robot(&state, &caller, &workspace, &space_row, seconds).await?;
        notes.push(format!(
            "The login lines carry the secret of a temporary robot, shown only now: whoever \
             holds it can push to and pull from space `{space}` until {}.",
            timestamp(expires_at)
        ));
        (
            LoginLines::Secret {
                username: username.clone(),
                secret,
            },
            PushLogin {
                username,
                expires_at: Some(timestamp(expires_at)),
                temporary: true,
            },
        )
    } else {
        let username = if hosted {
            caller.name().to_string()
        } else if !registry.username.is_empty() {
            registry.username.clone()
        } else {
            "YOUR_USERNAME".to_string()
        };
        if hosted {
            notes.push(format!(
                "The login lines ask for the password of `{username}`."
            ));
            let repository = format!("{space}/{}", target.repository);
            let facts = principals::facts_for(&state.store, [repository.as_str()]).await?;
            let may_push = berth_access::may(
                &caller.subject,
                &facts,
                &repository,
                berth_access::Action::Push,
            );
            if !may_push {
                notes.push(format!(
                    "`{username}` may not push to space `{space}`: pushing takes the editor or \
                     admin role in a workspace bound to it."
                ));
            }
        } else if berth_sync::keeps_robots(&registry) {
            notes.push(format!(
                "Log in with an account of `{reg}` that may push to `{space}`, or ask with \
                 temporary=true for the login of the robot Berth keeps there for workspace \
                 `{ws}`."
            ));
        } else {
            notes.push(format!(
                "Berth holds no push credentials for `{reg}`: log in with an account of that \
                 registry that may push to `{space}`."
            ));
        }
        (
            LoginLines::Prompt {
                username: username.clone(),
            },
            PushLogin {
                username,
                expires_at: None,
                temporary: false,
            },
        )
    };
    notes.extend(target_notes(&target));
    Ok(Json(PushCommand {
        registry: registry.name,
        space,
        host: target.host.clone(),
        repository: target.repository.clone(),
        tag: target.tag.clone(),
        commands: commands(&target, &login_lines),
        login,
        notes,
    }))
}

/// Whether the caller may have a push login of `workspace` for `space` (`temporary=true`), a
/// temporary robot on `hosted` or the workspace's robot in a Harbor project, by
/// [`rest::temporary_push_login`].
fn may_have_push_login(
    caller: &Caller,
    workspace: &WorkspaceRecord,
    space: &SpaceRow,
) -> Result<(), ApiError> {
    let (ws, name) = (&workspace.name, &space.name);
    match rest::temporary_push_login(&caller.subject, workspace.id, &space.bound_ids()) {
        Ok(()) => Ok(()),
        Err(Refusal::EditorsOnly) => Err(ApiError::Forbidden(format!(
            "only editors and admins of workspace `{ws}` (and platform admins) may create a \
             temporary push login"
        ))),
        Err(Refusal::SpaceNotBound) => Err(ApiError::Forbidden(format!(
            "space `{name}` is not bound to workspace `{ws}`, so the workspace's robots cannot \
             push there; a platform admin can bind it"
        ))),
        Err(other) => Err(other.into()),
    }
}

/// The robot Berth keeps for `workspace` in Harbor project `space`, for a push login: the
/// caller must be one who may hold the workspace's credentials, and the project bound to it.
/// A binding whose robot Harbor has not made yet (Harbor is slow or down) is a conflict
/// worth retrying.
async fn harbor_robot(
    state: &ApiState,
    caller: &Caller,
    workspace: &WorkspaceRecord,
    space: &SpaceRow,
) -> Result<UpstreamRobot, ApiError> {
    let ws = &workspace.name;
    may_have_push_login(caller, workspace, space)?;
    state
        .store
        .upstream_robots_of_workspace(workspace.id)
        .await?
        .into_iter()
        .find(|r| r.registry_id == space.registry_id && r.space == space.name)
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "Harbor has not made workspace `{ws}`'s robot in project `{}` yet; try again \
                 in a minute (the registry's sync state shows whether Harbor answers)",
                space.name
            ))
        })
}

/// Creates the temporary robot and answers its full name, secret and expiry (milliseconds).
async fn create_temporary_robot(
    state: &ApiState,
    caller: &Caller,
    workspace: &WorkspaceRecord,
    space: &berth_store::tenancy::SpaceRow,
    seconds: u64,
) -> Result<(String, String, i64), ApiError> {
    let now = berth_store::now_millis();
    // Each temporary login leaves a robot behind; those long expired are of no use to anyone.
    let cleanup = caller.event(
        "robot.delete_expired",
        format!("workspace/{}/robots", workspace.name),
        Some(&workspace.name),
        json!(null),
    );
    state
        .store
        .delete_expired_space_robots(
            workspace.id,
            now - EXPIRED_ROBOT_GRACE_MILLIS,
            &cleanup.borrow(),
        )
        .await?;

    let short = temporary_name();
    let secret = new_secret();
    let digest = principals::robot_secret_digest(&secret);
    let expires_at = now + seconds as i64 * 1000;
    let event = caller.event(
        "robot.create",
        robot_target(&workspace.name, &short),
        Some(&workspace.name),
        json!({
            "pull": true,
            "push": true,
            "space": space.name,
            "temporary": true,
            "expires_at": timestamp(expires_at),
        }),
    );
    state
        .store
        .create_robot(
            NewRobot {
                workspace_id: workspace.id,
                name: &short,
                secret_sha256: &digest,
                can_pull: true,
                can_push: true,
                expires_at: Some(expires_at),
                created_by: caller.name(),
                space_id: Some(space.id),
            },
            &event.borrow(),
        )
        .await?;
    Ok((
        principals::robot_name(&workspace.name, &short),
        secret,
        expires_at,
    ))
}

/// `tmp-` and 12 random lowercase letters and digits: 62 bits, so two logins never meet.
fn temporary_name() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    let random: String = (0..12)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("tmp-{random}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(transport: Transport, repository: &str) -> Target {
        Target {
            host: "registry.example.com:5050".into(),
            transport,
            space: "team".into(),
            repository: repository.into(),
            tag: "v1".into(),
        }
    }

    fn check(transport: Transport, login: LoginLines, expected: PushCommands) {
        let got = commands(&target(transport, "apps/web"), &login);
        assert_eq!(got, expected);
    }

    fn lines(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn prompting_lines_over_https() {
        check(
            Transport::Https,
            LoginLines::Prompt {
                username: "alice".into(),
            },
            PushCommands {
                docker: lines(&[
                    "docker login -u alice registry.example.com:5050",
                    "docker tag apps/web:v1 registry.example.com:5050/team/apps/web:v1",
                    "docker push registry.example.com:5050/team/apps/web:v1",
                ]),
                podman: lines(&[
                    "podman login -u alice registry.example.com:5050",
                    "podman tag apps/web:v1 registry.example.com:5050/team/apps/web:v1",
                    "podman push registry.example.com:5050/team/apps/web:v1",
                ]),
                nerdctl: lines(&[
                    "nerdctl login -u alice registry.example.com:5050",
                    "nerdctl tag apps/web:v1 registry.example.com:5050/team/apps/web:v1",
                    "nerdctl push registry.example.com:5050/team/apps/web:v1",
                ]),
                skopeo: lines(&[
                    "skopeo login -u alice registry.example.com:5050",
                    "skopeo copy oci-archive:web.tar docker://registry.example.com:5050/team/apps/web:v1",
                ]),
                helm: lines(&[
                    "helm registry login -u alice registry.example.com:5050",
                    "helm push web-v1.tgz oci://registry.example.com:5050/team/apps",
                ]),
                oras: lines(&[
                    "oras login -u alice registry.example.com:5050",
                    "oras push registry.example.com:5050/team/apps/web:v1 artifact.txt:text/plain",
                ]),
            },
        );
    }

    #[test]
    fn secret_lines_over_plain_http() {
        let got = commands(
            &target(Transport::Http, "web"),
            &LoginLines::Secret {
                username: "robot$team+tmp-abc".into(),
                secret: "s3cr3t_-x".into(),
            },
        );
        let pipe = "printf '%s' 's3cr3t_-x' |";
        let user = "-u 'robot$team+tmp-abc' --password-stdin registry.example.com:5050";
        assert_eq!(
            got.docker[0],
            format!("{pipe} docker login {user}"),
            "docker has no flag for plain HTTP"
        );
        assert_eq!(
            got.podman[0],
            format!("{pipe} podman login --tls-verify=false {user}")
        );
        assert_eq!(
            got.podman[2],
            "podman push --tls-verify=false registry.example.com:5050/team/web:v1"
        );
        assert_eq!(
            got.nerdctl[2],
            "nerdctl push --insecure-registry registry.example.com:5050/team/web:v1"
        );
        assert_eq!(
            got.skopeo,
            lines(&[
                &format!("{pipe} skopeo login --tls-verify=false {user}"),
                "skopeo copy --dest-tls-verify=false oci-archive:web.tar docker://registry.example.com:5050/team/web:v1",
            ])
        );
        assert_eq!(
            got.helm,
            lines(&[
                &format!("{pipe} helm registry login --plain-http {user}"),
                "helm push --plain-http web-v1.tgz oci://registry.example.com:5050/team",
            ])
        );
        assert_eq!(
            got.oras[1],
            "oras push --plain-http registry.example.com:5050/team/web:v1 artifact.txt:text/plain"
        );
        let notes = target_notes(&target(Transport::Http, "web"));
        assert!(notes[0].contains("insecure-registries"), "{notes:?}");
    }

    #[test]
    fn docker_is_told_about_insecure_registries_only_for_hosts_off_loopback() {
        let notes = |host: &str, transport: Transport| {
            target_notes(&Target {
                host: host.into(),
                ..target(transport, "web")
            })
        };
        let loopback = [
            "127.0.0.1:5050",
            "127.8.9.10",
            "localhost:5050",
            "LocalHost",
            "[::1]:5050",
            "[::1]",
        ];
        let elsewhere = [
            "registry.example.com:5050",
            "10.1.2.3:5000",
            "[2001:db8::1]:5000",
            "128.0.0.1",
        ];
        for transport in [Transport::Http, Transport::HttpsUnverified] {
            for host in loopback {
                let notes = notes(host, transport);
                assert!(
                    !notes.join(" ").contains("insecure-registries"),
                    "{host}: {notes:?}"
                );
                assert!(notes[0].contains("loopback"), "{host}: {notes:?}");
            }
            for host in elsewhere {
                let notes = notes(host, transport);
                let advice = [
                    format!("`{host}` under `insecure-registries`"),
                    format!("`{host}` is listed under `insecure-registries`"),
                ];
                assert!(
                    advice.iter().any(|a| notes[0].contains(a)),
                    "{host}: {notes:?}"
                );
            }
        }
        // The notes about a target always number the same, which the console relies on.
        assert_eq!(
            notes(loopback[0], Transport::Http).len(),
            notes(elsewhere[0], Transport::Http).len()
        );
    }

    #[test]
    fn unverified_https_uses_each_clients_skip_flag() {
        let got = commands(
            &target(Transport::HttpsUnverified, "web"),
            &LoginLines::Prompt {
                username: "ci".into(),
            },
        );
        assert_eq!(
            got.helm[1],
            "helm push --insecure-skip-tls-verify web-v1.tgz oci://registry.example.com:5050/team"
        );
        assert_eq!(
            got.oras[0],
            "oras login --insecure -u ci registry.example.com:5050"
        );
        assert_eq!(
            got.skopeo[0],
            "skopeo login --tls-verify=false -u ci registry.example.com:5050"
        );
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_quote("alice"), "alice");
        assert_eq!(shell_quote("robot$ws+ci"), "'robot$ws+ci'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn temporary_names_are_robot_names() {
        let name = temporary_name();
        assert!(input::resource_name("robot name", &name).is_ok(), "{name}");
        assert_ne!(name, temporary_name());
    }

    #[test]
    fn addresses() {
        assert_eq!(
            address("http://127.0.0.1:5050"),
            ("127.0.0.1:5050".to_string(), true)
        );
        assert_eq!(
            address("https://registry.example.com"),
            ("registry.example.com".to_string(), false)
        );
        assert_eq!(
            address("https://registry.example.com:443/"),
            ("registry.example.com".to_string(), false)
        );
        assert_eq!(address("http://[::1]:80").0, "[::1]");
    }
}
