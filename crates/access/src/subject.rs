//! Who is asking, with the facts every rule needs about them.

/// A member's role in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Admin,
    Editor,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
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

    pub(crate) fn is_platform_admin(&self) -> bool {
        matches!(self, Subject::User { is_admin: true, .. })
    }

    /// The one space a space-limited robot (a temporary push login) may touch; `None` for
    /// everyone else.
    pub fn limited_space(&self) -> Option<SpaceId> {
        match self {
            Subject::Robot { space, .. } => *space,
            _ => None,
        }
    }

    /// The workspaces whose bound spaces count for this subject: a user's memberships, or a
    /// robot's own workspace.
    pub fn workspaces(&self) -> Vec<WorkspaceId> {
        match self {
            Subject::User { memberships, .. } => memberships.iter().map(|(id, _)| *id).collect(),
            Subject::Robot { workspace, .. } => vec![*workspace],
            Subject::Anonymous => Vec::new(),
        }
    }

    /// The subject as the rules should see them when acting for workspace `id` (a tarball
    /// upload, say): a user keeps only their role there, so bindings of their other
    /// workspaces do not count. Robots belong to one workspace and platform admins to none,
    /// so they stay as they are.
    pub fn acting_for(&self, id: WorkspaceId) -> Subject {
        match self {
            Subject::User {
                username,
                is_admin,
                memberships,
            } => Subject::User {
                username: username.clone(),
                is_admin: *is_admin,
                memberships: memberships
                    .iter()
                    .filter(|(w, _)| *w == id)
                    .copied()
                    .collect(),
            },
            other => other.clone(),
        }
    }

    /// The subject's role in workspace `id`, when they are a member.
    pub(crate) fn role_in(&self, id: WorkspaceId) -> Option<Role> {
        match self {
            Subject::User { memberships, .. } => memberships
                .iter()
                .find(|(w, _)| *w == id)
                .map(|(_, role)| *role),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acting_for_one_workspace_keeps_only_that_role() {
        let member_of_two = Subject::User {
            username: "u".into(),
            is_admin: false,
            memberships: vec![(1, Role::Editor), (2, Role::Viewer)],
        };
        assert_eq!(
            member_of_two.acting_for(2),
            Subject::User {
                username: "u".into(),
                is_admin: false,
                memberships: vec![(2, Role::Viewer)],
            }
        );
        assert_eq!(member_of_two.workspaces(), vec![1, 2]);
        assert_eq!(member_of_two.role_in(1), Some(Role::Editor));
        assert_eq!(member_of_two.role_in(3), None);
        let robot = Subject::Robot {
            name: "robot$a+b".into(),
            workspace: 7,
            can_pull: true,
            can_push: false,
            space: Some(9),
        };
        assert_eq!(robot.acting_for(1), robot);
        assert_eq!(robot.workspaces(), vec![7]);
        assert_eq!(robot.limited_space(), Some(9));
        assert_eq!(robot.role_in(7), None);
    }
}
