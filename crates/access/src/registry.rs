//! The registry rule: what a subject may do in a space of a platform registry, and the
//! Docker token scopes granted from it.

use std::collections::{HashMap, HashSet};

use crate::scope::{Action, Scope};
use crate::subject::{Role, SpaceId, Subject, WorkspaceId};

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

/// What `subject` may do in a space of a platform registry (docs/model.md, "The visibility rule"):
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
pub(crate) fn space_actions(
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

/// The facts `grant` decides on: the policy, and the space of each repository the request
/// names.
///
/// Spaces are looked up by repository name, not by space name, so that how a space is found
/// in a name stays with the grammar (`berth_oci::space_of`); the caller that gathers the facts
/// applies it.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub policy: Policy,
    /// The space of each requested repository, by repository name; a repository missing here
    /// is in a space that does not exist.
    pub repositories: HashMap<String, SpaceFacts>,
    /// Whether pushing to a missing space creates it (platform admins only).
    pub auto_create_spaces: bool,
    /// The requested repositories that Berth serves as a pull-through proxy of an external
    /// registry (`<registry>/<upstream repository>`), whose space facts are those of the
    /// upstream repository's space. Berth cannot write to the upstream, so only pull is ever
    /// allowed there, and a missing space there is never created.
    pub proxied: HashSet<String>,
}

impl Facts {
    /// What `subject` may do on repository `name`: the rule of its space, which for a proxied
    /// repository is the same rule as for a hosted space, narrowed to pull.
    fn actions(&self, subject: &Subject, name: &str) -> Vec<Action> {
        let proxied = self.proxied.contains(name);
        let mut actions = space_actions(
            self.policy,
            subject,
            self.repositories.get(name),
            self.auto_create_spaces && !proxied,
        );
        if proxied {
            actions.retain(|action| *action == Action::Pull);
        }
        actions
    }
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
                let allowed = facts.actions(subject, name);
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
    facts.actions(subject, name).contains(&action)
}

/// Whether anyone may pull from `space` without credentials, so that deploying from it needs
/// no pull secret.
pub fn anonymous_may_pull(policy: Policy, space: &SpaceFacts) -> bool {
    space_actions(policy, &Subject::Anonymous, Some(space), false).contains(&Action::Pull)
}

/// How the registry answers a request whose token does not allow `action` on `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A fresh token would carry the scope (or an anonymous caller could sign in): the client
    /// should simply ask for one (401 `insufficient_scope`).
    AskAgain,
    /// The caller may see the repository but not do this to it (403 `DENIED`).
    Denied,
    /// The caller may not even pull here: answer as for a missing repository (404), worded
    /// alike for a private space and a missing one so names do not leak. `plainly` is set for
    /// platform admins, who see every space, so for them the space really is missing and may
    /// be said to be.
    Hidden { plainly: bool },
}

/// Why `subject` is refused `action` on `name` now, for a request whose token lacks it.
pub fn refusal(subject: &Subject, facts: &Facts, name: &str, action: Action) -> Refused {
    if *subject == Subject::Anonymous || may(subject, facts, name, action) {
        Refused::AskAgain
    } else if may(subject, facts, name, Action::Pull) {
        Refused::Denied
    } else {
        Refused::Hidden {
            plainly: subject.is_platform_admin(),
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(!anonymous_may_pull(closed, &public));
        assert!(anonymous_may_pull(Policy::default(), &public));
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
        let team = SpaceFacts {
            id: BOUND_SPACE,
            public: false,
            bound: vec![BOUND],
        };
        let mut facts = Facts::default();
        facts.repositories.insert("team/app".into(), team.clone());
        facts.repositories.insert("team/x".into(), team);
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
        assert_eq!(
            refusal(&editor, &facts, "team/x", Action::Push),
            Refused::AskAgain
        );
        assert_eq!(
            refusal(&editor, &facts, "team/x", Action::Delete),
            Refused::Denied
        );
        assert_eq!(
            refusal(
                &user(Some(Role::Editor), OTHER),
                &facts,
                "team/x",
                Action::Pull
            ),
            Refused::Hidden { plainly: false }
        );
        let admin = Subject::User {
            username: "root".into(),
            is_admin: true,
            memberships: vec![],
        };
        assert_eq!(
            refusal(&admin, &facts, "missing/x", Action::Push),
            Refused::Hidden { plainly: true }
        );
        assert_eq!(
            refusal(&Subject::Anonymous, &facts, "team/x", Action::Pull),
            Refused::AskAgain
        );
    }

    #[test]
    fn a_robot_limited_to_one_space_gets_nothing_in_a_sibling_space() {
        let mut facts = Facts::default();
        for (name, id) in [("team/app", BOUND_SPACE), ("team-b/app", BOUND_SPACE + 50)] {
            facts.repositories.insert(
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

    #[test]
    fn a_proxied_repository_follows_its_space_for_pulls_and_allows_nothing_else() {
        let mut facts = Facts {
            auto_create_spaces: true,
            ..Facts::default()
        };
        facts.repositories.insert(
            "dist/team/web".into(),
            SpaceFacts {
                id: BOUND_SPACE,
                public: false,
                bound: vec![BOUND],
            },
        );
        facts.proxied.insert("dist/team/web".into());
        facts.proxied.insert("dist/missing/web".into());
        let admin = Subject::User {
            username: "root".into(),
            is_admin: true,
            memberships: vec![],
        };
        let editor = user(Some(Role::Admin), BOUND);
        for subject in [&admin, &editor] {
            assert!(may(subject, &facts, "dist/team/web", Action::Pull));
            assert!(!may(subject, &facts, "dist/team/web", Action::Push));
            assert!(!may(subject, &facts, "dist/team/web", Action::Delete));
        }
        assert!(may(
            &robot(true, false, BOUND),
            &facts,
            "dist/team/web",
            Action::Pull
        ));
        // An unbound workspace is refused exactly as for a hosted private space.
        let outsider = robot(true, true, OTHER);
        assert!(!may(&outsider, &facts, "dist/team/web", Action::Pull));
        assert_eq!(
            refusal(&outsider, &facts, "dist/team/web", Action::Pull),
            Refused::Hidden { plainly: false }
        );
        assert_eq!(
            refusal(&editor, &facts, "dist/team/web", Action::Push),
            Refused::Denied
        );
        // Auto-create never applies behind a proxy: the upstream decides what exists.
        assert!(!may(&admin, &facts, "dist/missing/web", Action::Push));
        assert!(!may(&admin, &facts, "dist/missing/web", Action::Pull));
    }
}
