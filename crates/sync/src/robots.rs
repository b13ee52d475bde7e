//! Robot accounts in registries that enforce access themselves (Harbor): one per workspace
//! bound to a project, scoped to that project, so that Harbor itself refuses every workspace
//! a private project is not bound to.
//!
//! A reconciliation compares the bindings of the registry's spaces with the robots the store
//! records, creates the missing robots and deletes the ones no binding wants any more
//! (unbound, or their workspace deleted). It runs as a job of the queue keyed by the
//! registry's id, queued whenever bindings may have changed, so a Harbor that is down when a
//! binding changes gets its robots once it answers again, and two processes never reconcile
//! one registry at once.

use std::collections::HashSet;
use std::time::Duration;

use berth_remote::harbor::{RobotAccess, RobotLifetime};
use berth_remote::RemoteError;
use berth_store::jobs::Lease;
use berth_store::registry_records::RegistryRecord;
use berth_store::upstream_robots::UpstreamRobot;
use berth_store::{now_millis, Store};

use crate::{SyncError, SyncService};

/// The job kind of a robot reconciliation; the job's key is the registry's id.
pub const ROBOTS_JOB_KIND: &str = "registry.robots";

/// What one reconciliation changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub created: usize,
    pub deleted: usize,
}

/// Whether Berth keeps robots in `registry`: a platform Harbor registry, whose spaces are
/// bound to workspaces. A workspace's own registry has no bindings.
pub fn keeps_robots(registry: &RegistryRecord) -> bool {
    registry.kind == "harbor" && registry.workspace_id.is_none()
}

/// The name of a new robot of `workspace`: Harbor prefixes it with `robot$<project>+`. The
/// random part keeps a robot left behind by a crash (created upstream, never recorded) from
/// blocking its successor's name.
fn robot_name(workspace: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("berth-{workspace}-{}", &random[..8])
}

/// The job a reconciliation runs under, whose lease it renews before every change upstream:
/// a second worker taking the job over while this one still worked would make a robot twice.
pub(crate) struct Holder<'a> {
    pub job: i64,
    pub worker: &'a str,
    pub lease: Duration,
}

impl Holder<'_> {
    async fn renew(&self, store: &Store) -> Result<(), SyncError> {
        match store
            .renew_job(self.job, self.worker, self.lease, None)
            .await?
        {
            Lease::Held | Lease::CancelRequested => Ok(()),
            Lease::Lost => Err(SyncError::Cancelled),
        }
    }
}

/// Makes the registry's robots match its bindings. Each change is recorded as it is made, so
/// a run that fails halfway keeps what it did and the next run does the rest.
pub(crate) async fn reconcile(
    service: &SyncService,
    registry: &RegistryRecord,
    holder: &Holder<'_>,
) -> Result<Reconciled, SyncError> {
    let mut done = Reconciled::default();
    if !keeps_robots(registry) {
        return Ok(done);
    }
    let Some(harbor) = service.harbor(registry)? else {
        return Ok(done);
    };
    let store = service.store();
    let rights = berth_access::rest::bound_robot_rights();
    let wanted = store.wanted_upstream_robots(registry.id).await?;
    let wanted_keys: HashSet<(&str, i64)> = wanted
        .iter()
        .map(|w| (w.space.as_str(), w.workspace_id))
        .collect();
    let kept = store.upstream_robots(registry.id).await?;
    // A kept robot with other rights than a binding gives now is replaced.
    let current: HashSet<(&str, i64)> = kept
        .iter()
        .filter(|r| r.can_push == rights.push)
        .map(|r| (r.space.as_str(), r.workspace_id))
        .collect();

    for robot in &kept {
        let key = (robot.space.as_str(), robot.workspace_id);
        if wanted_keys.contains(&key) && current.contains(&key) {
            continue;
        }
        holder.renew(store).await?;
        match harbor.delete_robot(robot.remote_id).await {
            // Deleted by hand in Harbor already: nothing is left to refuse.
            Ok(()) | Err(RemoteError::NotFound { .. }) => {}
            Err(e) => {
                return Err(SyncError::remote(
                    &format!(
                        "deleting robot {} of project {}",
                        robot.username, robot.space
                    ),
                    &e,
                ))
            }
        }
        store
            .delete_upstream_robot(registry.id, &robot.space, robot.workspace_id)
            .await?;
        tracing::info!(registry = %registry.name, space = %robot.space, robot = %robot.username, "robot deleted");
        done.deleted += 1;
    }

    for binding in &wanted {
        if current.contains(&(binding.space.as_str(), binding.workspace_id)) {
            continue;
        }
        holder.renew(store).await?;
        let created = harbor
            .create_robot(
                &binding.space,
                &robot_name(&binding.workspace),
                RobotAccess {
                    pull: rights.pull,
                    push: rights.push,
                },
                RobotLifetime::Never,
            )
            .await
            .map_err(|e| {
                SyncError::remote(
                    &format!(
                        "creating the robot of workspace {} in project {}",
                        binding.workspace, binding.space
                    ),
                    &e,
                )
            })?;
        let robot = UpstreamRobot {
            registry_id: registry.id,
            space: binding.space.clone(),
            workspace_id: binding.workspace_id,
            remote_id: created.id,
            username: created.name.clone(),
            secret: service.seal(created.secret.expose()),
            can_push: rights.push,
            created_at: now_millis(),
        };
        if let Err(error) = store.save_upstream_robot(&robot).await {
            // Unrecorded, the robot could never be deleted by Berth: take it back.
            let _ = harbor.delete_robot(created.id).await;
            return Err(error.into());
        }
        tracing::info!(registry = %registry.name, space = %binding.space, workspace = %binding.workspace, robot = %created.name, "robot created");
        done.created += 1;
    }
    Ok(done)
}
