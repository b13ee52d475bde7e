//! `berth registry …`: external registries, platform-wide or of one workspace.

use std::time::Duration;

use berth_client::{
    NewRegistry, RegistryKind, RegistryPatch, RegistryScope, RegistrySync, SyncMode, SyncRequest,
    SyncState,
};
use clap::{Args, Subcommand};

use super::args::contract_value;
use super::output::{col, Column};
use super::{read_password_stdin, Context, WORKSPACE};

/// `--workspace`: address a workspace's own registries instead of the platform's.
#[derive(Debug, Args)]
pub struct Scope {
    /// Use this workspace's own registries instead of the platform's.
    #[arg(long, short = 'w', value_name = WORKSPACE)]
    pub workspace: Option<String>,
}

impl Scope {
    fn get(&self) -> RegistryScope<'_> {
        match &self.workspace {
            Some(ws) => RegistryScope::Workspace(ws),
            None => RegistryScope::Platform,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// List registries.
    List {
        #[command(flatten)]
        scope: Scope,
    },
    /// Add an external registry.
    #[command(visible_alias = "create")]
    Add {
        /// The registry's name.
        name: String,
        #[arg(long, value_name = "distribution|harbor|oci", value_parser = contract_value::<RegistryKind>)]
        kind: RegistryKind,
        #[arg(long)]
        url: String,
        #[arg(long)]
        username: Option<String>,
        /// Read the registry's password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Skip TLS verification, or use plain HTTP.
        #[arg(long)]
        insecure: bool,
        #[arg(long)]
        description: Option<String>,
        /// A repository to follow instead of the whole catalog, or a prefix ending in `/`
        /// (repeat for more). Needed where the catalog is disabled (GHCR, Docker Hub).
        #[arg(long = "follow", value_name = "REPOSITORY|PREFIX/")]
        follow: Vec<String>,
        /// Seconds between scheduled syncs (0: none; default: the server's).
        #[arg(long = "sync-interval", value_name = "SECONDS")]
        sync_interval: Option<i64>,
        #[command(flatten)]
        scope: Scope,
    },
    /// Show a registry.
    Show {
        /// The registry's name.
        name: String,
        #[command(flatten)]
        scope: Scope,
    },
    /// Change a registry; only the options given change.
    Update {
        /// The registry's name.
        name: String,
        #[arg(long, value_name = "distribution|harbor|oci", value_parser = contract_value::<RegistryKind>)]
        kind: Option<RegistryKind>,
        #[arg(long)]
        url: Option<String>,
        #[arg(long)]
        username: Option<String>,
        /// Read a new password from standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, value_name = "true|false")]
        insecure: Option<bool>,
        #[arg(long)]
        description: Option<String>,
        /// A repository to follow instead of the whole catalog, or a prefix ending in `/`
        /// (repeat for more); replaces the list.
        #[arg(long = "follow", value_name = "REPOSITORY|PREFIX/")]
        follow: Vec<String>,
        /// Seconds between scheduled syncs (0: none; -1: the server's default).
        #[arg(long = "sync-interval", value_name = "SECONDS")]
        sync_interval: Option<i64>,
        /// Follow the whole catalog again.
        #[arg(long, conflicts_with = "follow")]
        follow_catalog: bool,
        #[command(flatten)]
        scope: Scope,
    },
    /// Delete a registry.
    Delete {
        /// The registry's name.
        name: String,
        #[command(flatten)]
        scope: Scope,
    },
    /// Check now that a registry answers with its credentials and can be listed.
    Check {
        /// The registry's name.
        name: String,
        #[command(flatten)]
        scope: Scope,
    },
    /// Sync a registry's images into the catalog now.
    Sync {
        /// The registry's name.
        name: String,
        /// Wait for the sync to finish, showing its progress; fail if it fails.
        #[arg(long)]
        wait: bool,
        /// Skip repositories whose tags and digests are unchanged.
        #[arg(long)]
        incremental: bool,
        /// Cancel the queued or running sync instead.
        #[arg(long, conflicts_with_all = ["wait", "incremental"])]
        cancel: bool,
        #[command(flatten)]
        scope: Scope,
    },
    /// Show the sync state of one registry, or of every registry.
    Status {
        /// The registry's name; every registry when left out.
        name: Option<String>,
        #[command(flatten)]
        scope: Scope,
    },
}

/// One registry's sync state.
pub const SYNC: &[Column] = &[
    col("STATE", "state"),
    col("MODE", "mode"),
    col("SEEN", "progress.repositories_seen"),
    col("TOTAL", "progress.repositories_total"),
    col("LAST SUCCESS", "last_succeeded_at"),
    col("STALE", "stale"),
    col("LAST ERROR", "last_error"),
    col("REPOSITORIES", "repositories"),
    col("TAGS", "tags"),
    col("MANIFESTS FETCHED", "manifests_fetched"),
    col("DURATION MS", "duration_ms"),
    col("NEXT", "next_at"),
];

/// Every registry's sync state, one line each.
pub const SYNC_LIST: &[Column] = &[
    col("NAME", "name"),
    col("KIND", "kind"),
    col("HEALTH", "health.status"),
    col("SYNC", "sync.state"),
    col("LAST SUCCESS", "sync.last_succeeded_at"),
    col("STALE", "sync.stale"),
    col("REPOSITORIES", "sync.repositories"),
    col("TAGS", "sync.tags"),
    col("LAST ERROR", "sync.last_error"),
];

pub const REGISTRY: &[Column] = &[
    col("NAME", "name"),
    col("KIND", "kind"),
    col("URL", "url"),
    col("WORKSPACE", "workspace"),
    col("HEALTH", "health.status"),
    col("DESCRIPTION", "description"),
];

/// A single registry shows its credentials' state and the reason of its last health check too.
pub const REGISTRY_DETAIL: &[Column] = &[
    col("NAME", "name"),
    col("KIND", "kind"),
    col("URL", "url"),
    col("WORKSPACE", "workspace"),
    col("USERNAME", "username"),
    col("PASSWORD SET", "has_password"),
    col("INSECURE", "insecure"),
    col("HEALTH", "health.status"),
    col("REASON", "health.reason"),
    col("CHECKED", "health.checked_at"),
    col("DESCRIPTION", "description"),
    col("FOLLOW", "follow"),
    col("SYNC INTERVAL", "sync_interval_seconds"),
    col("SYNC", "sync.state"),
    col("LAST SYNC", "sync.last_succeeded_at"),
    col("SYNC ERROR", "sync.last_error"),
    col("CREATED", "created_at"),
];

impl RegistryCommand {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let client = &ctx.client;
        let out = ctx.output;
        match self {
            RegistryCommand::List { scope } => {
                out.list(&client.registries(scope.get(), None).await?, REGISTRY)
            }
            RegistryCommand::Add {
                name,
                kind,
                url,
                username,
                password_stdin,
                insecure,
                description,
                follow,
                sync_interval,
                scope,
            } => {
                let registry = NewRegistry {
                    name,
                    kind,
                    url,
                    username,
                    password: password_stdin.then(read_password_stdin).transpose()?,
                    insecure: insecure.then_some(true),
                    description,
                    follow: (!follow.is_empty()).then_some(follow),
                    sync_interval_seconds: sync_interval,
                };
                let created = client.create_registry(scope.get(), &registry).await?;
                out.one(&created, REGISTRY_DETAIL)
            }
            RegistryCommand::Show { name, scope } => {
                out.one(&client.registry(scope.get(), &name).await?, REGISTRY_DETAIL)
            }
            RegistryCommand::Update {
                name,
                kind,
                url,
                username,
                password_stdin,
                insecure,
                description,
                follow,
                sync_interval,
                follow_catalog,
                scope,
            } => {
                let patch = RegistryPatch {
                    kind,
                    url,
                    username,
                    password: password_stdin.then(read_password_stdin).transpose()?,
                    insecure,
                    description,
                    follow: if follow_catalog {
                        Some(Vec::new())
                    } else {
                        (!follow.is_empty()).then_some(follow)
                    },
                    sync_interval_seconds: sync_interval,
                };
                let updated = client.update_registry(scope.get(), &name, &patch).await?;
                out.one(&updated, REGISTRY_DETAIL)
            }
            RegistryCommand::Delete { name, scope } => {
                client.delete_registry(scope.get(), &name).await?;
                out.done(format!("Deleted registry {name}."));
                Ok(())
            }
            RegistryCommand::Check { name, scope } => out.one(
                &client.check_registry(scope.get(), &name).await?,
                REGISTRY_DETAIL,
            ),
            RegistryCommand::Sync {
                name,
                wait,
                incremental,
                cancel,
                scope,
            } => {
                if cancel {
                    let sync = client.cancel_sync(scope.get(), &name).await?;
                    out.done(format!("Asked the sync of {name} to stop."));
                    return out.one(&sync, SYNC);
                }
                let request = SyncRequest {
                    mode: if incremental {
                        SyncMode::Incremental
                    } else {
                        SyncMode::Full
                    },
                };
                let started = client.start_sync(scope.get(), &name, &request).await?;
                if !wait {
                    out.done(format!("Sync of {name} queued."));
                    return out.one(&started, SYNC);
                }
                let finished = wait_for_sync(ctx, scope.get(), &name, started).await?;
                // A success clears the last error, so one still there is this run's.
                match &finished.last_error {
                    Some(error) => anyhow::bail!("the sync of {name} failed: {error}"),
                    None => {
                        out.done(format!(
                            "Synced {name}: {} repositories, {} tags, {} manifests fetched.",
                            finished.repositories, finished.tags, finished.manifests_fetched
                        ));
                        out.one(&finished, SYNC)
                    }
                }
            }
            RegistryCommand::Status { name, scope } => match name {
                Some(name) => out.one(&client.sync_status(scope.get(), &name).await?, SYNC),
                None => out.list(&client.registries(scope.get(), None).await?, SYNC_LIST),
            },
        }
    }
}

/// Polls a sync until it is idle again, with a progress bar on a terminal.
async fn wait_for_sync(
    ctx: &Context,
    scope: RegistryScope<'_>,
    name: &str,
    mut sync: RegistrySync,
) -> anyhow::Result<RegistrySync> {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} repositories ({elapsed})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(format!("syncing {name}"));
    while sync.state != SyncState::Idle {
        if let Some(progress) = &sync.progress {
            if let Some(total) = progress.repositories_total {
                bar.set_length(total);
            }
            bar.set_position(progress.repositories_seen);
        }
        bar.tick();
        tokio::time::sleep(Duration::from_millis(250)).await;
        sync = ctx.client.sync_status(scope, name).await?;
    }
    bar.finish_and_clear();
    Ok(sync)
}
