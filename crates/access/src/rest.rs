//! Who may do what through the REST API: workspaces, platform-wide resources, spaces,
//! credentials Berth makes for a workspace, and the repositories of an image list.
//!
//! The REST API asks these functions and only maps their answers to statuses: a [`Refusal`] is
//! a 403 with its sentence, and [`Decision::Hidden`] a 404 worded like a missing resource.

use std::fmt;

use crate::registry::{space_actions, Policy, SpaceFacts};
use crate::scope::Action;
use crate::subject::{Role, SpaceId, Subject, WorkspaceId};

/// The answer to "may this subject do this?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// The subject may see the resource but may not do this to it.
    Refused(Refusal),
    /// The subject may not even know the resource exists: answer as if it did not.
    Hidden,
}

#[cfg(test)]
impl From<Result<(), Refusal>> for Decision {
    fn from(result: Result<(), Refusal>) -> Decision {
        match result {
            Ok(()) => Decision::Allowed,
            Err(refusal) => Decision::Refused(refusal),
        }
    }
}

/// Why a request was refused. Each displays as a sentence for the person refused; callers
/// that know the names involved may word their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    PlatformAdminsOnly,
    /// Robots are for registry clients, not for managing the platform.
    PeopleOnly,
    WorkspaceAdminsOnly,
    /// A robot asked for more of its workspace than listing its spaces and pushing images.
    RobotsListAndPushOnly,
    /// Only the people who may push for a workspace may have Berth make credentials for it.
    EditorsOnly,
    /// The space is not bound to the workspace, so the workspace's robots cannot push there.
    SpaceNotBound,
    /// Changing a repository (its description) takes push rights in its space.
    NeedsPush,
    /// Deleting images takes delete rights in their space.
    NeedsDelete,
    /// Only platform admins read the audit log of every workspace.
    WholeAuditLog,
}

impl Refusal {
    fn sentence(self) -> &'static str {
        match self {
            Refusal::PlatformAdminsOnly => "only platform admins may do this",
            Refusal::PeopleOnly => {
                "robot accounts may only read /me and lists of their own workspace"
            }
            Refusal::WorkspaceAdminsOnly => "only admins of this workspace may do this",
            Refusal::RobotsListAndPushOnly => {
                "robot accounts may only read /me and their workspace's spaces, and push images"
            }
            Refusal::EditorsOnly => {
                "only editors and admins of the workspace (and platform admins) may do this"
            }
            Refusal::SpaceNotBound => {
                "the space is not bound to the workspace, so the workspace's robots cannot push \
                 there; a platform admin can bind it"
            }
            Refusal::NeedsPush => "that needs push rights in the repository's space",
            Refusal::NeedsDelete => "that needs delete rights in the repository's space",
            Refusal::WholeAuditLog => {
                "only platform admins may read the whole audit log; workspace admins pass \
                 workspace=<name>"
            }
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sentence())
    }
}

/// What a request needs of a platform-wide resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformNeed {
    /// Reading what every person on the platform may read (the platform registries): users,
    /// not robots.
    Person,
    /// Users, settings, the whole audit log, workspaces' creation and deletion, spaces and
    /// bindings, platform registries' changes: platform admins.
    Admin,
}

/// Whether `subject` meets `need` on the platform. Platform resources are never hidden, so
/// the answer is a refusal or nothing.
pub fn platform(subject: &Subject, need: PlatformNeed) -> Result<(), Refusal> {
    match (subject, need) {
        (Subject::User { is_admin: true, .. }, _) => Ok(()),
        (Subject::User { .. }, PlatformNeed::Person) => Ok(()),
        (_, PlatformNeed::Admin) => Err(Refusal::PlatformAdminsOnly),
        (Subject::Robot { .. } | Subject::Anonymous, PlatformNeed::Person) => {
            Err(Refusal::PeopleOnly)
        }
    }
}

/// How much of a workspace a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceNeed {
    /// Reading the workspace's spaces and images: members, and the workspace's own robots (a
    /// CI job may look up where it can push).
    List,
    /// Reading anything else of it: members only.
    Read,
    /// Pushing images in its name (tarball uploads): members, and the workspace's own robots;
    /// the registry rule then decides per space.
    Push,
    /// Changing it: the workspace's admins.
    Admin,
}

/// Whether `subject` meets `need` on workspace `id`. Platform admins meet every need; anyone
/// who is neither a member nor one of its robots is not told the workspace exists.
pub fn workspace(subject: &Subject, id: WorkspaceId, need: WorkspaceNeed) -> Decision {
    match subject {
        Subject::User { is_admin: true, .. } => Decision::Allowed,
        Subject::User { .. } => match subject.role_in(id) {
            None => Decision::Hidden,
            Some(Role::Admin) => Decision::Allowed,
            Some(_) if need == WorkspaceNeed::Admin => {
                Decision::Refused(Refusal::WorkspaceAdminsOnly)
            }
            Some(_) => Decision::Allowed,
        },
        Subject::Robot { workspace, .. } if *workspace == id => {
            if matches!(need, WorkspaceNeed::List | WorkspaceNeed::Push) {
                Decision::Allowed
            } else {
                Decision::Refused(Refusal::RobotsListAndPushOnly)
            }
        }
        Subject::Robot { .. } | Subject::Anonymous => Decision::Hidden,
    }
}

/// What reading the audit log takes. Platform admins read all of it (`Ok(None)`); anyone else
/// reads one workspace's events when they meet the returned need on it, its admins, and
/// without naming a workspace is refused.
pub fn audit_log(
    subject: &Subject,
    names_workspace: bool,
) -> Result<Option<WorkspaceNeed>, Refusal> {
    if subject.is_platform_admin() {
        Ok(None)
    } else if names_workspace {
        Ok(Some(WorkspaceNeed::Admin))
    } else {
        Err(Refusal::WholeAuditLog)
    }
}

/// Which workspaces a subject's list of workspaces holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceListing {
    /// Platform admins see every workspace.
    Every,
    /// A user sees the workspaces they are a member of.
    Memberships,
    /// A robot sees the one workspace it belongs to.
    Own,
    /// Anonymous callers see none.
    Nothing,
}

pub fn workspace_listing(subject: &Subject) -> WorkspaceListing {
    match subject {
        Subject::User { is_admin: true, .. } => WorkspaceListing::Every,
        Subject::User { .. } => WorkspaceListing::Memberships,
        Subject::Robot { .. } => WorkspaceListing::Own,
        Subject::Anonymous => WorkspaceListing::Nothing,
    }
}

/// The role a robot's registry rights amount to, as `GET /me` shows it: `editor` when it may
/// push, `viewer` when it may only pull.
pub fn robot_role(can_push: bool) -> Role {
    if can_push {
        Role::Editor
    } else {
        Role::Viewer
    }
}

/// Which spaces of a platform registry a subject sees; see [`visible_spaces`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceFilter {
    /// Platform admins see every space.
    every: bool,
    /// Everyone else sees public spaces and the spaces bound to these workspaces (a user's
    /// memberships, a robot's own workspace).
    bound_to: Vec<WorkspaceId>,
    /// A space-limited robot (a temporary push login) sees at most its one space.
    only: Option<SpaceId>,
}

impl SpaceFilter {
    /// Whether space `id`, `public` and bound to the workspaces `bound`, passes the filter.
    pub fn admits(
        &self,
        id: SpaceId,
        public: bool,
        bound: impl IntoIterator<Item = WorkspaceId>,
    ) -> bool {
        self.only.is_none_or(|only| only == id)
            && (self.every || public || bound.into_iter().any(|w| self.bound_to.contains(&w)))
    }
}

/// The spaces `subject` may see: looking at any other answers like a missing space.
pub fn visible_spaces(subject: &Subject) -> SpaceFilter {
    SpaceFilter {
        every: subject.is_platform_admin(),
        bound_to: subject.workspaces(),
        only: subject.limited_space(),
    }
}

/// Whether a space-limited robot's limit (a temporary push login's) lets it see space `space`
/// at all; true for everyone without such a limit. Outside its space such a robot is told
/// nothing exists, as `/v2` tells it.
pub fn within_limit(subject: &Subject, space: SpaceId) -> bool {
    subject.limited_space().is_none_or(|only| only == space)
}

/// Whether `subject` sees which workspaces a space is bound to: platform admins only, as
/// bindings are theirs to make and name other workspaces.
pub fn sees_bindings(subject: &Subject) -> bool {
    subject.is_platform_admin()
}

/// Whether `subject` may have Berth make credentials of workspace `id` (temporary push
/// logins, pull secrets backed by robots): its admins and editors, and platform admins, the
/// same people the registry rule lets push into the workspace's spaces. Robots may not mint
/// credentials.
pub fn workspace_credentials(subject: &Subject, id: WorkspaceId) -> Result<(), Refusal> {
    let allowed = subject.is_platform_admin()
        || matches!(subject.role_in(id), Some(Role::Admin | Role::Editor));
    allowed.then_some(()).ok_or(Refusal::EditorsOnly)
}

/// What the robot Berth keeps for a workspace bound to a space of a registry that enforces
/// access itself (a Harbor project) may do there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundRobotRights {
    pub pull: bool,
    pub push: bool,
}

/// The rights of the robot a bound workspace gets in a Harbor project: what binding gives a
/// workspace in a space of the hosted registry, pull and push. Viewers of the workspace pull
/// in Berth but never hold this robot: only those [`workspace_credentials`] admits are handed
/// it (in pull secrets and push logins).
pub fn bound_robot_rights() -> BoundRobotRights {
    BoundRobotRights {
        pull: true,
        push: true,
    }
}

/// Whether `subject` may make a temporary push login of workspace `id` for a space bound to
/// `space_bound`: they must be allowed to make the workspace's credentials, and the space must
/// be bound to the workspace, or the login (a robot of the workspace) could not push there.
pub fn temporary_push_login(
    subject: &Subject,
    id: WorkspaceId,
    space_bound: &[WorkspaceId],
) -> Result<(), Refusal> {
    workspace_credentials(subject, id)?;
    space_bound
        .contains(&id)
        .then_some(())
        .ok_or(Refusal::SpaceNotBound)
}

/// What `subject` may do through the REST API to a repository of an image list (describe it
/// with push rights, delete its images with delete rights), by the registry rule. A workspace
/// registry's spaces count as bound to their owner alone. Robots and anonymous callers only
/// read.
pub fn repository_actions(
    subject: &Subject,
    space: &SpaceFacts,
    registry_owner: Option<WorkspaceId>,
) -> Vec<Action> {
    if matches!(subject, Subject::Robot { .. } | Subject::Anonymous) {
        return Vec::new();
    }
    let facts = match registry_owner {
        None => space.clone(),
        Some(owner) => SpaceFacts {
            bound: vec![owner],
            ..space.clone()
        },
    };
    space_actions(Policy::default(), subject, Some(&facts), false)
}

/// Whether `subject` may change (`Action::Push`) or delete from (`Action::Delete`) a
/// repository of an image list; see [`repository_actions`].
pub fn repository_change(
    subject: &Subject,
    space: &SpaceFacts,
    registry_owner: Option<WorkspaceId>,
    action: Action,
) -> Result<(), Refusal> {
    platform(subject, PlatformNeed::Person)?;
    if repository_actions(subject, space, registry_owner).contains(&action) {
        Ok(())
    } else if action == Action::Delete {
        Err(Refusal::NeedsDelete)
    } else {
        Err(Refusal::NeedsPush)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEAM: WorkspaceId = 1;
    const OTHER: WorkspaceId = 2;

    fn user(role: Option<Role>) -> Subject {
        Subject::User {
            username: "u".into(),
            is_admin: false,
            memberships: role.map(|r| vec![(TEAM, r)]).unwrap_or_default(),
        }
    }

    fn robot(workspace: WorkspaceId) -> Subject {
        Subject::Robot {
            name: "robot$team+ci".into(),
            workspace,
            can_pull: true,
            can_push: true,
            space: None,
        }
    }

    fn platform_admin() -> Subject {
        Subject::User {
            username: "root".into(),
            is_admin: true,
            memberships: vec![],
        }
    }

    /// The decision as one short word, so that a table row reads at a glance.
    fn word(decision: impl Into<Decision>) -> &'static str {
        match decision.into() {
            Decision::Allowed => "yes",
            Decision::Refused(_) => "403",
            Decision::Hidden => "404",
        }
    }

    /// One row of the REST rule for `subject` on workspace TEAM: list, read, push, admin,
    /// platform-person, platform-admin, credentials.
    fn check(subject: Subject, expected: [&str; 7]) {
        use WorkspaceNeed::*;
        let got = [
            word(workspace(&subject, TEAM, List)),
            word(workspace(&subject, TEAM, Read)),
            word(workspace(&subject, TEAM, Push)),
            word(workspace(&subject, TEAM, Admin)),
            word(platform(&subject, PlatformNeed::Person)),
            word(platform(&subject, PlatformNeed::Admin)),
            word(workspace_credentials(&subject, TEAM)),
        ];
        assert_eq!(got, expected, "{subject:?}");
    }

    #[test]
    fn the_rest_rule_as_a_table() {
        #[rustfmt::skip]
        let rows = [
            //                          list   read   push   admin  person admin  credentials
            (platform_admin(),          ["yes", "yes", "yes", "yes", "yes", "yes", "yes"]),
            (user(Some(Role::Admin)),   ["yes", "yes", "yes", "yes", "yes", "403", "yes"]),
            (user(Some(Role::Editor)),  ["yes", "yes", "yes", "403", "yes", "403", "yes"]),
            (user(Some(Role::Viewer)),  ["yes", "yes", "yes", "403", "yes", "403", "403"]),
            (user(None),                ["404", "404", "404", "404", "yes", "403", "403"]),
            (robot(TEAM),               ["yes", "403", "yes", "403", "403", "403", "403"]),
            (robot(OTHER),              ["404", "404", "404", "404", "403", "403", "403"]),
            (Subject::Anonymous,        ["404", "404", "404", "404", "403", "403", "403"]),
        ];
        for (subject, expected) in rows {
            check(subject, expected);
        }
    }

    #[test]
    fn spaces_seen() {
        let viewer = user(Some(Role::Viewer));
        let filter = visible_spaces(&viewer);
        assert!(filter.admits(1, true, []));
        assert!(filter.admits(1, false, [OTHER, TEAM]));
        assert!(!filter.admits(1, false, [OTHER]));
        assert!(visible_spaces(&platform_admin()).admits(1, false, []));
        assert!(visible_spaces(&robot(TEAM)).admits(1, false, [TEAM]));
        assert!(!visible_spaces(&Subject::Anonymous).admits(1, false, [TEAM]));
        let limited = Subject::Robot {
            name: "robot$team+tmp".into(),
            workspace: TEAM,
            can_pull: true,
            can_push: true,
            space: Some(7),
        };
        assert!(within_limit(&limited, 7));
        assert!(!within_limit(&limited, 8));
        assert!(within_limit(&robot(TEAM), 8));
        // Its space list holds its own space alone, public spaces and neighbours left out.
        let seen = visible_spaces(&limited);
        assert!(seen.admits(7, false, [TEAM]));
        assert!(!seen.admits(8, false, [TEAM]));
        assert!(!seen.admits(9, true, []));
        assert!(sees_bindings(&platform_admin()));
        assert!(!sees_bindings(&user(Some(Role::Admin))));
    }

    #[test]
    fn temporary_logins_need_an_editor_and_a_bound_space() {
        let editor = user(Some(Role::Editor));
        assert_eq!(temporary_push_login(&editor, TEAM, &[TEAM]), Ok(()));
        assert_eq!(
            temporary_push_login(&editor, TEAM, &[OTHER]),
            Err(Refusal::SpaceNotBound)
        );
        assert_eq!(
            temporary_push_login(&user(Some(Role::Viewer)), TEAM, &[TEAM]),
            Err(Refusal::EditorsOnly)
        );
        assert_eq!(
            temporary_push_login(&platform_admin(), TEAM, &[]),
            Err(Refusal::SpaceNotBound)
        );
    }

    #[test]
    fn repository_changes_follow_the_registry_rule() {
        let space = SpaceFacts {
            id: 10,
            public: true,
            bound: vec![TEAM],
        };
        let push = |subject: &Subject, owner| {
            word(repository_change(subject, &space, owner, Action::Push))
        };
        let delete = |subject: &Subject, owner| {
            word(repository_change(subject, &space, owner, Action::Delete))
        };
        assert_eq!(push(&user(Some(Role::Editor)), None), "yes");
        assert_eq!(delete(&user(Some(Role::Editor)), None), "403");
        assert_eq!(delete(&user(Some(Role::Admin)), None), "yes");
        assert_eq!(push(&user(None), None), "403");
        assert_eq!(push(&robot(TEAM), None), "403");
        // A workspace registry's spaces are bound to their owner only, whatever the bindings.
        assert_eq!(push(&user(Some(Role::Editor)), Some(OTHER)), "403");
        assert_eq!(
            repository_actions(&user(Some(Role::Admin)), &space, Some(TEAM)),
            vec![Action::Pull, Action::Push, Action::Delete]
        );
        assert_eq!(workspace_listing(&robot(OTHER)), WorkspaceListing::Own);
        assert_eq!(audit_log(&platform_admin(), false), Ok(None));
        assert_eq!(
            audit_log(&user(Some(Role::Admin)), true),
            Ok(Some(WorkspaceNeed::Admin))
        );
        assert_eq!(
            audit_log(&user(Some(Role::Admin)), false),
            Err(Refusal::WholeAuditLog)
        );
        assert_eq!(
            workspace_listing(&platform_admin()),
            WorkspaceListing::Every
        );
        assert_eq!(robot_role(false), Role::Viewer);
    }
}
