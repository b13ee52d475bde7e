//! `berth workspace …` and `berth member …`.

use berth_client::{NewWorkspace, Role, WorkspacePatch};
use clap::Subcommand;

use super::args::contract_value;
use super::output::{col, Column};
use super::{Context, InWorkspace};

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// List workspaces (platform admins see all, others their own).
    List,
    /// Create a workspace (platform admins).
    #[command(visible_alias = "add")]
    Create {
        /// The workspace's name.
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Show a workspace.
    Show {
        /// The workspace's name.
        name: String,
    },
    /// Change a workspace's description.
    Update {
        /// The workspace's name.
        name: String,
        #[arg(long)]
        description: String,
    },
    /// Delete a workspace (platform admins).
    Delete {
        /// The workspace's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// List the members of a workspace.
    List {
        #[command(flatten)]
        workspace: InWorkspace,
    },
    /// Add a user to a workspace, or change their role.
    #[command(visible_alias = "add")]
    Set {
        #[command(flatten)]
        workspace: InWorkspace,
        /// The user's name.
        user: String,
        #[arg(long, value_name = "admin|editor|viewer", value_parser = contract_value::<Role>)]
        role: Role,
    },
    /// Remove a user from a workspace.
    Remove {
        #[command(flatten)]
        workspace: InWorkspace,
        /// The user's name.
        user: String,
    },
}

pub const WORKSPACE: &[Column] = &[
    col("NAME", "name"),
    col("MEMBERS", "members"),
    col("DESCRIPTION", "description"),
    col("CREATED", "created_at"),
];

pub const MEMBER: &[Column] = &[col("USERNAME", "username"), col("ROLE", "role")];

impl WorkspaceCommand {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let client = &ctx.client;
        let out = ctx.output;
        match self {
            WorkspaceCommand::List => out.list(&client.workspaces(None).await?, WORKSPACE),
            WorkspaceCommand::Create { name, description } => {
                let workspace = NewWorkspace { name, description };
                out.one(&client.create_workspace(&workspace).await?, WORKSPACE)
            }
            WorkspaceCommand::Show { name } => out.one(&client.workspace(&name).await?, WORKSPACE),
            WorkspaceCommand::Update { name, description } => {
                let patch = WorkspacePatch { description };
                out.one(&client.update_workspace(&name, &patch).await?, WORKSPACE)
            }
            WorkspaceCommand::Delete { name } => {
                client.delete_workspace(&name).await?;
                out.done(format!("Deleted workspace {name}."));
                Ok(())
            }
        }
    }
}

impl MemberCommand {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let client = &ctx.client;
        let out = ctx.output;
        match self {
            MemberCommand::List { workspace } => {
                out.list(&client.members(&workspace.resolve()?, None).await?, MEMBER)
            }
            MemberCommand::Set {
                workspace,
                user,
                role,
            } => {
                let workspace = workspace.resolve()?;
                out.one(&client.set_member(&workspace, &user, role).await?, MEMBER)
            }
            MemberCommand::Remove { workspace, user } => {
                let workspace = workspace.resolve()?;
                client.remove_member(&workspace, &user).await?;
                out.done(format!("Removed {user} from workspace {workspace}."));
                Ok(())
            }
        }
    }
}
