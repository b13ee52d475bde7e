//! Who is asking: users and robots, authenticated by password or secret, and the facts the
//! access rule decides on. Everything is read fresh from the store, so a changed role,
//! binding or robot counts on the very next request.

use std::collections::HashMap;

use berth_access::{Facts, Policy, Role, SpaceFacts, Subject};
use berth_store::facts::RobotRecord;
use berth_store::{Store, StoreError};
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use crate::passwords::PasswordChecker;

/// Robot accounts are named `robot$<workspace>+<name>`, as Harbor names them.
pub const ROBOT_PREFIX: &str = "robot$";

/// Splits `robot$<workspace>+<name>` into its workspace and short name.
pub fn parse_robot_name(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix(ROBOT_PREFIX)?;
    let (workspace, short) = rest.split_once('+')?;
    (!workspace.is_empty() && !short.is_empty()).then_some((workspace, short))
}

pub fn robot_name(workspace: &str, short: &str) -> String {
    format!("{ROBOT_PREFIX}{workspace}+{short}")
}

/// The stored form of a robot secret. Secrets are 256 random bits, so one SHA-256 is as
/// strong as any slow hash, and checking one costs microseconds.
pub fn robot_secret_digest(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` is the one whose [`robot_secret_digest`] is `digest`, compared in time
/// independent of where they differ.
pub fn secret_matches(secret: &str, digest: &str) -> bool {
    robot_secret_digest(secret)
        .as_bytes()
        .ct_eq(digest.as_bytes())
        .into()
}

/// A short tag of an account's stored credential (a password hash, with its random salt, or a
/// robot secret's digest), carried in the tokens it signs in with. Any reset, and any new
/// account under an old name, has a new tag, so tokens issued before stop matching.
pub fn credential_tag(stored: &str) -> String {
    hex::encode(&sha2::Sha256::digest(stored.as_bytes())[..8])
}

/// A subject that proved its credentials, with the tag of the credential it used.
pub struct Authenticated {
    pub subject: Subject,
    pub credential: String,
    /// When the account stops working (robots with an expiry), in milliseconds since the
    /// epoch; tokens issued to it must end by then.
    pub expires_at: Option<i64>,
}

fn robot_usable(robot: &RobotRecord) -> bool {
    !robot.disabled
        && robot
            .expires_at
            .is_none_or(|at| at > berth_store::now_millis())
}

fn robot_subject(robot: RobotRecord) -> Subject {
    Subject::Robot {
        name: robot_name(&robot.workspace, &robot.name),
        workspace: robot.workspace_id,
        can_pull: robot.can_pull,
        can_push: robot.can_push,
        space: robot.space_id,
    }
}

async fn user_subject(
    store: &Store,
    user: berth_store::users::User,
) -> Result<Subject, StoreError> {
    let memberships = store
        .memberships(user.id)
        .await?
        .into_iter()
        .filter_map(|(workspace, role)| Some((workspace, Role::parse(&role)?)))
        .collect();
    Ok(Subject::User {
        username: user.username,
        is_admin: user.is_admin,
        memberships,
    })
}

/// Checks a name and password (or robot secret). `None` for unknown accounts, wrong
/// secrets, disabled accounts and expired robots alike, so the answer reveals nothing.
pub async fn authenticate(
    store: &Store,
    passwords: &PasswordChecker,
    name: &str,
    password: &str,
) -> Result<Option<Authenticated>, StoreError> {
    if let Some((workspace, short)) = parse_robot_name(name) {
        let Some(robot) = store.find_robot(workspace, short).await? else {
            return Ok(None);
        };
        // Compared in time independent of where the digests differ.
        let matches: bool = robot_secret_digest(password)
            .as_bytes()
            .ct_eq(robot.secret_sha256.as_bytes())
            .into();
        if !(matches && robot_usable(&robot)) {
            return Ok(None);
        }
        let credential = credential_tag(&robot.secret_sha256);
        let expires_at = robot.expires_at;
        return Ok(Some(Authenticated {
            subject: robot_subject(robot),
            credential,
            expires_at,
        }));
    }
    let Some(user) = store.find_user(name).await?.filter(|u| !u.disabled) else {
        passwords.reject_unknown(password).await;
        return Ok(None);
    };
    if !passwords.verify(&user.password_hash, password).await {
        return Ok(None);
    }
    let credential = credential_tag(&user.password_hash);
    Ok(Some(Authenticated {
        subject: user_subject(store, user).await?,
        credential,
        expires_at: None,
    }))
}

/// The subject a token was issued to, as the rule sees them now. `None` when the account was
/// deleted, disabled or (for robots) expired since, or when its credential changed since the
/// token was issued with `credential` (an empty tag is not checked).
pub async fn current_subject(
    store: &Store,
    name: &str,
    credential: &str,
) -> Result<Option<Subject>, StoreError> {
    let unchanged = |stored: &str| credential.is_empty() || credential_tag(stored) == credential;
    if name.is_empty() {
        return Ok(Some(Subject::Anonymous));
    }
    if let Some((workspace, short)) = parse_robot_name(name) {
        let robot = store.find_robot(workspace, short).await?;
        return Ok(robot
            .filter(|r| robot_usable(r) && unchanged(&r.secret_sha256))
            .map(robot_subject));
    }
    match store
        .find_user(name)
        .await?
        .filter(|u| !u.disabled && unchanged(&u.password_hash))
    {
        Some(user) => user_subject(store, user).await.map(Some),
        None => Ok(None),
    }
}

/// The facts about the spaces of `repositories`, and the deployment policy.
///
/// A repository whose first path component names a platform registry that Berth proxies
/// (`dist/team/web`) is that registry's repository `team/web`, in its space `team`; any
/// other is a hosted repository. Platform registries' names are never hosted spaces, so the
/// two readings cannot both apply.
pub async fn facts_for<'a>(
    store: &Store,
    repositories: impl IntoIterator<Item = &'a str>,
) -> Result<Facts, StoreError> {
    let repositories: Vec<&str> = repositories.into_iter().collect();
    let mut prefixes: Vec<&str> = repositories
        .iter()
        .filter_map(|r| berth_oci::split_proxied(r).map(|(registry, _)| registry))
        .collect();
    prefixes.sort_unstable();
    prefixes.dedup();
    let proxied = store.proxied_registries(&prefixes).await?;
    // Each repository's (registry, space) as the rule reads it.
    let located: Vec<(&str, &str, &str, bool)> = repositories
        .iter()
        .map(|repository| match berth_oci::split_proxied(repository) {
            Some((registry, upstream)) if proxied.contains_key(registry) => {
                (*repository, registry, berth_oci::space_of(upstream), true)
            }
            _ => (
                *repository,
                berth_store::hosted::HOSTED,
                berth_oci::space_of(repository),
                false,
            ),
        })
        .collect();
    let mut wanted: HashMap<&str, Vec<&str>> = HashMap::new();
    for (_, registry, space, _) in &located {
        let names = wanted.entry(registry).or_default();
        if !names.contains(space) {
            names.push(space);
        }
    }
    let settings = store.access_settings().await?;
    let mut spaces: HashMap<(&str, String), SpaceFacts> = HashMap::new();
    for (registry, names) in wanted {
        for (name, space) in store.platform_spaces(registry, &names).await? {
            let facts = SpaceFacts {
                id: space.id,
                public: space.public,
                bound: space.bound,
            };
            spaces.insert((registry, name), facts);
        }
    }
    let mut facts = Facts {
        policy: Policy {
            anonymous_pull: settings.anonymous_pull,
        },
        auto_create_spaces: settings.auto_create_spaces,
        ..Facts::default()
    };
    for (repository, registry, space, is_proxied) in located {
        if is_proxied {
            facts.proxied.insert(repository.to_string());
        }
        if let Some(space) = spaces.get(&(registry, space.to_string())) {
            facts
                .repositories
                .insert(repository.to_string(), space.clone());
        }
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robot_names() {
        assert_eq!(parse_robot_name("robot$team+ci"), Some(("team", "ci")));
        assert_eq!(parse_robot_name(&robot_name("a", "b")), Some(("a", "b")));
        assert_eq!(parse_robot_name("robot$team"), None);
        assert_eq!(parse_robot_name("robot$+x"), None);
        assert_eq!(parse_robot_name("alice"), None);
    }
}
