//! Who may do what on the hosted registry, as pure functions over facts.
//!
//! **Architecture invariant:** no I/O. The token service gathers the facts (who is asking,
//! what they asked for) and this crate decides what to grant. Replacing [`grant`] is how
//! the tenancy rules of workspaces and spaces arrive, without touching the HTTP layer.

use std::fmt;

/// An action on a repository, as named in Docker token scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Pull,
    Push,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }

    fn parse(text: &str) -> Option<Action> {
        match text {
            "pull" => Some(Action::Pull),
            "push" => Some(Action::Push),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// One requested or granted scope, e.g. `repository:library/alpine:pull,push`.
///
/// Only two resources exist on the hosted registry: repositories, and the `registry:catalog`
/// listing. Actions Berth does not know (and `*`, which clients use for "everything") are
/// expanded or dropped here so that a token never names an action nobody decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Repository { name: String, actions: Vec<Action> },
    Catalog,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope `{0}`: expected `repository:<name>:<actions>` or `registry:catalog:*`")]
pub struct ScopeError(pub String);

impl Scope {
    /// Parses `type:name:actions`. The name may itself contain `:` (a host with a port), so
    /// the type is split at the first colon and the actions at the last.
    pub fn parse(text: &str) -> Result<Scope, ScopeError> {
        let error = || ScopeError(text.chars().take(200).collect());
        let (resource_type, rest) = text.split_once(':').ok_or_else(error)?;
        let (name, actions) = rest.rsplit_once(':').ok_or_else(error)?;
        if name.is_empty() {
            return Err(error());
        }
        match resource_type {
            "repository" => {
                let mut parsed: Vec<Action> = Vec::new();
                for action in actions.split(',') {
                    match action {
                        "*" => parsed.extend([Action::Pull, Action::Push, Action::Delete]),
                        other => parsed.extend(Action::parse(other)),
                    }
                }
                parsed.sort();
                parsed.dedup();
                Ok(Scope::Repository {
                    name: name.to_string(),
                    actions: parsed,
                })
            }
            "registry" if name == "catalog" => Ok(Scope::Catalog),
            _ => Err(error()),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Repository { name, actions } => {
                let actions: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
                write!(f, "repository:{name}:{}", actions.join(","))
            }
            Scope::Catalog => f.write_str("registry:catalog:*"),
        }
    }
}

/// A member's role in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "editor" => Some(Role::Editor),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// A workspace, by its database id.
pub type WorkspaceId = i64;

/// A space, by its database id.
pub type SpaceId = i64;

/// Who is asking, with the facts the rule needs about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Anonymous,
    User {
        username: String,
        is_admin: bool,
        /// The workspaces the user belongs to, with their role in each.
        memberships: Vec<(WorkspaceId, Role)>,
    },
    Robot {
        /// The full robot name, `robot$<workspace>+<name>`.
        name: String,
        workspace: WorkspaceId,
        can_pull: bool,
        can_push: bool,
        /// The one space the robot is limited to, if any. Such a robot (a temporary push
        /// login) may do nothing anywhere else, not even pull public spaces, so the
        /// credential is worth exactly one space to whoever holds it.
        space: Option<SpaceId>,
    },
}

impl Subject {
    /// The name recorded as the actor (`pushed_by`, the audit log); empty when anonymous.
    pub fn name(&self) -> &str {
        match self {
            Subject::Anonymous => "",
            Subject::User { username, .. } => username,
            Subject::Robot { name, .. } => name,
        }
    }

    pub fn is_platform_admin(&self) -> bool {
        matches!(self, Subject::User { is_admin: true, .. })
    }
}

/// What the rule needs to know about a space.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpaceFacts {
    pub id: SpaceId,
    pub public: bool,
    /// The workspaces the space is bound to.
    pub bound: Vec<WorkspaceId>,
}

/// Deployment-wide settings that change the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Whether anonymous clients may pull public spaces.
    pub anonymous_pull: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            anonymous_pull: true,
        }
    }
}

/// What `subject` may do in a space of a platform registry (DESIGN.md section 3):
///
/// | action | allowed for |
/// | --- | --- |
/// | pull | anyone when the space is public (anonymous clients only when the policy allows); members and robots (with `pull`) of a bound workspace; platform admins |
/// | push | admins and editors of a bound workspace; robots (with `push`) of a bound workspace; platform admins |
/// | delete | admins of a bound workspace; platform admins |
///
/// A robot limited to one space is allowed nothing in any other space.
///
/// A space that does not exist (`None`) allows nothing to anyone but platform admins, who may
/// push into it only when `create_missing` (auto-create) is on.
pub fn space_actions(
    policy: Policy,
    subject: &Subject,
    space: Option<&SpaceFacts>,
    create_missing: bool,
) -> Vec<Action> {
    let Some(space) = space else {
        return if subject.is_platform_admin() && create_missing {
            vec![Action::Pull, Action::Push, Action::Delete]
        } else {
            Vec::new()
        };
    };
    let bound = |workspace: &WorkspaceId| space.bound.contains(workspace);
    let public_pull = space.public && (policy.anonymous_pull || *subject != Subject::Anonymous);
    let mut actions = Vec::new();
    let (pull, push, delete) = match subject {
        Subject::Anonymous => (public_pull, false, false),
        Subject::User { is_admin: true, .. } => (true, true, true),
        Subject::User { memberships, .. } => {
            let roles: Vec<Role> = memberships
                .iter()
                .filter(|(w, _)| bound(w))
                .map(|(_, r)| *r)
                .collect();
            (
                public_pull || !roles.is_empty(),
                roles
                    .iter()
                    .any(|r| matches!(r, Role::Admin | Role::Editor)),
                roles.contains(&Role::Admin),
            )
        }
        Subject::Robot {
            space: Some(only), ..
        } if *only != space.id => (false, false, false),
        Subject::Robot {
            workspace,
            can_pull,
            can_push,
            ..
        } => {
            let bound = bound(workspace);
            (
                public_pull || (bound && *can_pull),
                bound && *can_push,
                false,
            )
        }
    };
    if pull {
        actions.push(Action::Pull);
    }
    if push {
        actions.push(Action::Push);
    }
    if delete {
        actions.push(Action::Delete);
    }
    actions
}

/// The space a repository belongs to: its first path segment.
pub fn space_of(repository: &str) -> &str {
    repository.split('/').next().unwrap_or(repository)
}

/// The facts `grant` decides on: the policy, and each requested repository's space (absent
/// when the space does not exist).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub policy: Policy,
    pub spaces: std::collections::HashMap<String, SpaceFacts>,
    /// Whether pushing to a missing space creates it (platform admins only).
    pub auto_create_spaces: bool,
}

/// Decides which of the `requested` scopes `subject` receives: each repository scope keeps
/// only the actions the rule allows in its space, scopes left empty are dropped, and the
/// catalog (which filters per repository itself) is open to everyone. The result never holds
/// more than was asked for.
pub fn grant(subject: &Subject, facts: &Facts, requested: &[Scope]) -> Vec<Scope> {
    requested
        .iter()
        .filter_map(|scope| match scope {
            Scope::Repository { name, actions } => {
                let allowed = space_actions(
                    facts.policy,
                    subject,
                    facts.spaces.get(space_of(name)),
                    facts.auto_create_spaces,
                );
                let actions: Vec<Action> = actions
                    .iter()
                    .copied()
                    .filter(|a| allowed.contains(a))
                    .collect();
                (!actions.is_empty()).then(|| Scope::Repository {
                    name: name.clone(),
                    actions,
                })
            }
            Scope::Catalog => Some(Scope::Catalog),
        })
        .collect()
}

/// Whether the rule lets `subject` do `action` on repository `name`, given `facts` about its space.
pub fn may(subject: &Subject, facts: &Facts, name: &str, action: Action) -> bool {
    let scope = Scope::Repository {
        name: name.to_string(),
        actions: vec![action],
    };
    !grant(subject, facts, &[scope]).is_empty()
}

/// Whether the `granted` scopes of a token allow `action` on repository `name`.
pub fn allows(granted: &[Scope], name: &str, action: Action) -> bool {
    granted.iter().any(|scope| match scope {
        Scope::Repository { name: n, actions } => n == name && actions.contains(&action),
        Scope::Catalog => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_parse(input: &str, expected: Option<&str>) {
        let got = Scope::parse(input).ok().map(|s| s.to_string());
        assert_eq!(got.as_deref(), expected, "{input}");
    }

    #[test]
    fn parses_scopes() {
        check_parse(
            "repository:library/alpine:pull",
            Some("repository:library/alpine:pull"),
        );
        check_parse("repository:a/b:push,pull", Some("repository:a/b:pull,push"));
        check_parse("repository:a/b:*", Some("repository:a/b:pull,push,delete"));
        check_parse(
            "repository:host:5000/a:pull",
            Some("repository:host:5000/a:pull"),
        );
        check_parse("repository:a:frobnicate", Some("repository:a:"));
        check_parse("registry:catalog:*", Some("registry:catalog:*"));
        check_parse("registry:other:*", None);
        check_parse("repository::pull", None);
        check_parse("nonsense", None);
    }

    const BOUND: WorkspaceId = 1;
    const OTHER: WorkspaceId = 2;

    fn user(role: Option<Role>, workspace: WorkspaceId) -> Subject {
        Subject::User {
            username: "u".into(),
            is_admin: false,
            memberships: role.map(|r| vec![(workspace, r)]).unwrap_or_default(),
        }
    }

    fn robot(pull: bool, push: bool, workspace: WorkspaceId) -> Subject {
        Subject::Robot {
            name: "robot$w+r".into(),
            workspace,
            can_pull: pull,
            can_push: push,
            space: None,
        }
    }

    /// A robot limited to space `only`.
    fn robot_in(pull: bool, push: bool, workspace: WorkspaceId, only: SpaceId) -> Subject {
        Subject::Robot {
            name: "robot$w+tmp".into(),
            workspace,
            can_pull: pull,
            can_push: push,
            space: Some(only),
        }
    }

    const PUBLIC_SPACE: SpaceId = 100;
    const BOUND_SPACE: SpaceId = 101;
    const UNBOUND_SPACE: SpaceId = 102;

    /// One row of the rule: what `subject` may do in a public, a bound private, an unbound
    /// private and a missing space.
    fn check(subject: Subject, expected: [&str; 4]) {
        let public = SpaceFacts {
            id: PUBLIC_SPACE,
            public: true,
            bound: vec![],
        };
        let bound_private = SpaceFacts {
            id: BOUND_SPACE,
            public: false,
            bound: vec![BOUND],
        };
        let unbound_private = SpaceFacts {
            id: UNBOUND_SPACE,
            public: false,
            bound: vec![OTHER + 10],
        };
        let spaces = [
            Some(&public),
            Some(&bound_private),
            Some(&unbound_private),
            None,
        ];
        for (space, want) in spaces.iter().zip(expected) {
            let got: Vec<&str> = space_actions(Policy::default(), &subject, *space, false)
                .iter()
                .map(|a| a.as_str())
                .collect();
            assert_eq!(got.join(","), want, "{subject:?} in {space:?}");
        }
    }

    #[test]
    fn the_rule_as_a_table() {
        let admin = Subject::User {
            username: "root".into(),
            is_admin: true,
            memberships: vec![],
        };
        check(
            admin,
            [
                "pull,push,delete",
                "pull,push,delete",
                "pull,push,delete",
                "",
            ],
        );
        check(
            user(Some(Role::Admin), BOUND),
            ["pull", "pull,push,delete", "", ""],
        );
        check(
            user(Some(Role::Editor), BOUND),
            ["pull", "pull,push", "", ""],
        );
        check(user(Some(Role::Viewer), BOUND), ["pull", "pull", "", ""]);
        check(user(Some(Role::Admin), OTHER), ["pull", "", "", ""]);
        check(user(None, BOUND), ["pull", "", "", ""]);
        check(robot(true, false, BOUND), ["pull", "pull", "", ""]);
        check(robot(true, true, BOUND), ["pull", "pull,push", "", ""]);
        check(robot(false, true, BOUND), ["pull", "push", "", ""]);
        check(robot(true, true, OTHER), ["pull", "", "", ""]);
        // A robot limited to one space keeps its rights there and has none elsewhere, not
        // even the public pull everyone else gets; the limit never widens what a binding
        // allows.
        check(
            robot_in(true, true, BOUND, BOUND_SPACE),
            ["", "pull,push", "", ""],
        );
        check(
            robot_in(true, false, BOUND, BOUND_SPACE),
            ["", "pull", "", ""],
        );
        check(
            robot_in(true, true, BOUND, PUBLIC_SPACE),
            ["pull", "", "", ""],
        );
        check(robot_in(true, true, OTHER, BOUND_SPACE), ["", "", "", ""]);
        check(robot_in(true, true, BOUND, UNBOUND_SPACE), ["", "", "", ""]);
        check(Subject::Anonymous, ["pull", "", "", ""]);
    }

    #[test]
    fn anonymous_pull_can_be_turned_off_and_auto_create_is_for_admins() {
        let public = SpaceFacts {
            id: PUBLIC_SPACE,
            public: true,
            bound: vec![],
        };
        let closed = Policy {
            anonymous_pull: false,
        };
        assert!(space_actions(closed, &Subject::Anonymous, Some(&public), false).is_empty());
        assert_eq!(
            space_actions(closed, &user(None, BOUND), Some(&public), false),
            vec![Action::Pull]
        );
        let admin = Subject::User {
            username: "root".into(),
            is_admin: true,
            memberships: vec![],
        };
        assert_eq!(
            space_actions(Policy::default(), &admin, None, true).len(),
            3
        );
        assert!(space_actions(
            Policy::default(),
            &user(Some(Role::Admin), BOUND),
            None,
            true
        )
        .is_empty());
    }

    #[test]
    fn grant_never_exceeds_the_request() {
        let mut facts = Facts::default();
        facts.spaces.insert(
            "team".into(),
            SpaceFacts {
                id: BOUND_SPACE,
                public: false,
                bound: vec![BOUND],
            },
        );
        let requested = vec![
            Scope::parse("repository:team/app:pull").unwrap(),
            Scope::parse("repository:team/app:*").unwrap(),
            Scope::parse("repository:missing/app:pull").unwrap(),
            Scope::Catalog,
        ];
        let editor = user(Some(Role::Editor), BOUND);
        let granted = grant(&editor, &facts, &requested);
        assert_eq!(
            granted.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            vec![
                "repository:team/app:pull",
                "repository:team/app:pull,push",
                "registry:catalog:*"
            ]
        );
        assert!(grant(&Subject::Anonymous, &facts, &requested[..3]).is_empty());
        assert!(may(&editor, &facts, "team/x", Action::Push));
        assert!(!may(&editor, &facts, "team/x", Action::Delete));
        assert_eq!(space_of("team/a/b"), "team");
    }

    #[test]
    fn a_robot_limited_to_one_space_gets_nothing_in_a_sibling_space() {
        let mut facts = Facts::default();
        for (name, id) in [("team", BOUND_SPACE), ("team-b", BOUND_SPACE + 50)] {
            facts.spaces.insert(
                name.into(),
                SpaceFacts {
                    id,
                    public: false,
                    bound: vec![BOUND],
                },
            );
        }
        let temporary = robot_in(true, true, BOUND, BOUND_SPACE);
        let requested = vec![
            Scope::parse("repository:team/app:pull,push").unwrap(),
            Scope::parse("repository:team-b/app:pull,push").unwrap(),
        ];
        assert_eq!(
            grant(&temporary, &facts, &requested)
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
            vec!["repository:team/app:pull,push"]
        );
        let unlimited = robot(true, true, BOUND);
        assert_eq!(grant(&unlimited, &facts, &requested).len(), 2);
    }
}

/// Why a workspace's image list holds a repository (DESIGN.md section 3). A space can be in
/// the list for more than one reason, e.g. public and also bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListSources {
    /// The space is public on a platform registry.
    pub public: bool,
    /// The space is on a platform registry and bound to the workspace.
    pub bound: bool,
    /// The space is on one of the workspace's own registries.
    pub workspace_registry: bool,
}

impl ListSources {
    pub fn any(self) -> bool {
        self.public || self.bound || self.workspace_registry
    }
}

/// What the image-list rule needs to know about a space.
#[derive(Debug, Clone, Copy)]
pub struct ListedSpace<'a> {
    pub public: bool,
    /// The workspace that owns the space's registry; `None` for platform registries
    /// (`hosted` and the ones platform admins integrate).
    pub registry_owner: Option<WorkspaceId>,
    /// The workspaces the space is bound to (bindings only exist on platform registries).
    pub bound: &'a [WorkspaceId],
}

/// Why `workspace`'s image list holds the repositories of `space`; nothing when it does not.
///
/// The list holds a platform registry's public spaces, a platform registry's spaces bound to
/// the workspace, and every space of the workspace's own registries. Another workspace's
/// registry is never listed, whatever its spaces say.
pub fn list_sources(space: ListedSpace<'_>, workspace: WorkspaceId) -> ListSources {
    match space.registry_owner {
        None => ListSources {
            public: space.public,
            bound: space.bound.contains(&workspace),
            workspace_registry: false,
        },
        Some(owner) => ListSources {
            workspace_registry: owner == workspace,
            ..ListSources::default()
        },
    }
}

#[cfg(test)]
mod list_tests {
    use super::*;

    #[test]
    fn image_list_rule() {
        let platform = |public, bound: &'static [WorkspaceId]| ListedSpace {
            public,
            registry_owner: None,
            bound,
        };
        let both = list_sources(platform(true, &[1]), 1);
        assert!(both.public && both.bound && !both.workspace_registry);
        assert_eq!(
            list_sources(platform(true, &[]), 2),
            ListSources {
                public: true,
                ..Default::default()
            }
        );
        assert!(!list_sources(platform(false, &[2]), 1).any());
        assert!(list_sources(platform(false, &[1, 2]), 2).bound);
        let own = ListedSpace {
            public: false,
            registry_owner: Some(1),
            bound: &[],
        };
        assert!(list_sources(own, 1).workspace_registry);
        assert!(!list_sources(own, 2).any());
        // A public space of another workspace's registry stays private to that workspace.
        let others_public = ListedSpace {
            public: true,
            registry_owner: Some(3),
            bound: &[1],
        };
        assert!(!list_sources(others_public, 1).any());
    }
}
