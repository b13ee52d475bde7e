//! `berth space …` and `berth bind …`.

use berth_client::{Bindings, Client, NewSpace, Page, RegistryScope, Space, SpacePatch};
use clap::{Args, Subcommand};
use serde_json::json;

use super::output::{col, render_table, Column, Output};
use super::{Context, WORKSPACE};

/// `--registry`: which registry's spaces; the hosted one unless named.
#[derive(Debug, Args)]
pub struct RegistryName {
    /// The registry the space is in.
    #[arg(long, default_value = "hosted")]
    pub registry: String,
}

#[derive(Debug, Subcommand)]
pub enum SpaceCommand {
    /// List the spaces you may see in every platform registry, or in one; or those bound to a
    /// workspace.
    List {
        /// Only the spaces of this registry [default: every registry's].
        #[arg(long)]
        registry: Option<String>,
        /// List the spaces bound to this workspace instead (only --registry's, if given).
        #[arg(long, short = 'w', value_name = WORKSPACE)]
        workspace: Option<String>,
    },
    /// Create a space (platform admins); private unless --public.
    #[command(visible_alias = "add")]
    Create {
        /// The space's name: the first path segment of its repositories.
        name: String,
        #[command(flatten)]
        registry: RegistryName,
        /// Let anyone pull from it.
        #[arg(long)]
        public: bool,
        #[arg(long)]
        description: Option<String>,
    },
    /// Show a space.
    Show {
        /// The space's name.
        name: String,
        #[command(flatten)]
        registry: RegistryName,
    },
    /// Change a space; only the options given change.
    Update {
        /// The space's name.
        name: String,
        #[command(flatten)]
        registry: RegistryName,
        #[arg(long, value_name = "true|false")]
        public: Option<bool>,
        #[arg(long)]
        description: Option<String>,
        /// Scan images pushed into the space as they arrive (on for new spaces).
        #[arg(long, value_name = "true|false")]
        scan_on_push: Option<bool>,
    },
    /// Delete a space.
    Delete {
        /// The space's name.
        name: String,
        #[command(flatten)]
        registry: RegistryName,
    },
}

#[derive(Debug, Subcommand)]
pub enum BindCommand {
    /// List the workspaces a space is bound to.
    List {
        /// The space's name.
        space: String,
        #[command(flatten)]
        registry: RegistryName,
    },
    /// Bind a space to exactly these workspaces (none unbinds it from all).
    Set {
        /// The space's name.
        space: String,
        /// The workspaces to bind it to.
        workspaces: Vec<String>,
        #[command(flatten)]
        registry: RegistryName,
    },
    /// Bind a space to more workspaces, keeping the others.
    Add {
        /// The space's name.
        space: String,
        /// The workspaces to bind it to as well.
        #[arg(required = true)]
        workspaces: Vec<String>,
        #[command(flatten)]
        registry: RegistryName,
    },
    /// Unbind a space from some workspaces, keeping the others.
    Remove {
        /// The space's name.
        space: String,
        /// The workspaces to unbind it from.
        #[arg(required = true)]
        workspaces: Vec<String>,
        #[command(flatten)]
        registry: RegistryName,
    },
}

pub const SPACE: &[Column] = &[
    col("REGISTRY", "registry"),
    col("NAME", "name"),
    col("PUBLIC", "public"),
    col("BOUND TO", "bound_workspaces"),
    col("SCAN ON PUSH", "scan_on_push"),
    col("DESCRIPTION", "description"),
    col("CREATED", "created_at"),
];

pub const BINDING: &[Column] = &[col("WORKSPACE", "workspace")];

impl SpaceCommand {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let client = &ctx.client;
        let out = ctx.output;
        match self {
            SpaceCommand::List {
                registry,
                workspace: Some(workspace),
            } => {
                let mut spaces = client.workspace_spaces(&workspace, None).await?;
                if let Some(registry) = registry {
                    spaces.items.retain(|space| space.registry == registry);
                    spaces.total = spaces.items.len() as i64;
                }
                out.list(&spaces, SPACE)
            }
            SpaceCommand::List {
                registry: Some(registry),
                workspace: None,
            } => out.list(&client.spaces(&registry, None).await?, SPACE),
            SpaceCommand::List {
                registry: None,
                workspace: None,
            } => out.list(&every_registrys_spaces(client).await?, SPACE),
            SpaceCommand::Create {
                name,
                registry,
                public,
                description,
            } => {
                let space = NewSpace {
                    name,
                    public: Some(public),
                    description,
                };
                out.one(
                    &client.create_space(&registry.registry, &space).await?,
                    SPACE,
                )
            }
            SpaceCommand::Show { name, registry } => {
                out.one(&client.space(&registry.registry, &name).await?, SPACE)
            }
            SpaceCommand::Update {
                name,
                registry,
                public,
                description,
                scan_on_push,
            } => {
                let patch = SpacePatch {
                    public,
                    description,
                    scan_on_push,
                };
                let space = client
                    .update_space(&registry.registry, &name, &patch)
                    .await?;
                out.one(&space, SPACE)
            }
            SpaceCommand::Delete { name, registry } => {
                client.delete_space(&registry.registry, &name).await?;
                out.done(format!("Deleted space {}/{name}.", registry.registry));
                Ok(())
            }
        }
    }
}

impl BindCommand {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let client = &ctx.client;
        let (space, registry, bindings) = match self {
            BindCommand::List { space, registry } => {
                let bindings = client.bindings(&registry.registry, &space).await?;
                (space, registry, bindings)
            }
            BindCommand::Set {
                space,
                workspaces,
                registry,
            } => {
                let wanted = Bindings { workspaces };
                let bindings = client
                    .set_bindings(&registry.registry, &space, &wanted)
                    .await?;
                (space, registry, bindings)
            }
            BindCommand::Add {
                space,
                workspaces,
                registry,
            } => {
                let bindings = edit_bindings(ctx, &registry.registry, &space, |set| {
                    for workspace in workspaces {
                        if !set.contains(&workspace) {
                            set.push(workspace);
                        }
                    }
                })
                .await?;
                (space, registry, bindings)
            }
            BindCommand::Remove {
                space,
                workspaces,
                registry,
            } => {
                let bindings = edit_bindings(ctx, &registry.registry, &space, |set| {
                    set.retain(|w| !workspaces.contains(w));
                })
                .await?;
                (space, registry, bindings)
            }
        };
        print_bindings(ctx.output, &registry.registry, &space, &bindings)
    }
}

/// The spaces the caller may see in each platform registry it may list, one registry after
/// another, as one list. The API lists spaces per registry, so a person asking for "the
/// spaces" would otherwise see only `hosted`'s without being told.
async fn every_registrys_spaces(client: &Client) -> anyhow::Result<Page<Space>> {
    let registries = client.registries(RegistryScope::Platform, None).await?;
    let mut spaces = Page {
        items: Vec::new(),
        next_cursor: None,
        total: 0,
    };
    for registry in registries.items {
        let page = client.spaces(&registry.name, None).await?;
        spaces.total += page.total;
        spaces.items.extend(page.items);
    }
    Ok(spaces)
}

/// Reads a space's bindings, applies `edit`, and writes the whole set back, as the API
/// replaces the set in one transaction. Nothing is written when nothing changes, so the audit
/// log records only real changes. Two admins editing one space's bindings at the same moment
/// can overwrite each other; the audit log shows both writes.
async fn edit_bindings(
    ctx: &Context,
    registry: &str,
    space: &str,
    edit: impl FnOnce(&mut Vec<String>),
) -> anyhow::Result<Bindings> {
    let current = ctx.client.bindings(registry, space).await?;
    let mut wanted = current.clone();
    edit(&mut wanted.workspaces);
    if wanted == current {
        return Ok(current);
    }
    Ok(ctx.client.set_bindings(registry, space, &wanted).await?)
}

/// Prints a space's bindings: one workspace per line, or the server's `{workspaces}`.
fn print_bindings(
    output: Output,
    registry: &str,
    space: &str,
    bindings: &Bindings,
) -> anyhow::Result<()> {
    match output {
        Output::Json => super::output::print_json(bindings),
        Output::Table if bindings.workspaces.is_empty() => {
            println!("Space {registry}/{space} is bound to no workspace.");
            Ok(())
        }
        Output::Table => {
            let rows: Vec<_> = bindings
                .workspaces
                .iter()
                .map(|w| json!({ "workspace": w }))
                .collect();
            print!("{}", render_table(BINDING, &rows));
            Ok(())
        }
    }
}
