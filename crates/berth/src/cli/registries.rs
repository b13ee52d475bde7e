//! `berth registry …`: external registries, platform-wide or of one workspace.

use berth_client::{NewRegistry, RegistryKind, RegistryPatch, RegistryScope};
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
    /// Check that a platform registry is reachable now.
    Check {
        /// The registry's name.
        name: String,
    },
}

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
                scope,
            } => {
                let patch = RegistryPatch {
                    kind,
                    url,
                    username,
                    password: password_stdin.then(read_password_stdin).transpose()?,
                    insecure,
                    description,
                };
                let updated = client.update_registry(scope.get(), &name, &patch).await?;
                out.one(&updated, REGISTRY_DETAIL)
            }
            RegistryCommand::Delete { name, scope } => {
                client.delete_registry(scope.get(), &name).await?;
                out.done(format!("Deleted registry {name}."));
                Ok(())
            }
            RegistryCommand::Check { name } => {
                out.one(&client.check_registry(&name).await?, REGISTRY_DETAIL)
            }
        }
    }
}
