//! The image-list rule: which spaces' repositories a workspace's image list holds, and why.

use crate::subject::WorkspaceId;

/// Why a workspace's image list holds a repository (docs/model.md, "The visibility rule"). A space can be in
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
