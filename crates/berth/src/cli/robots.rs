//! `berth robot …`: robot accounts of a workspace, for workspace admins.

use berth_client::{NewRobot, Permission, RobotPatch};
use clap::{ArgGroup, Args, Subcommand};

use super::args::{parse_duration, robot_short_name};
use super::output::{col, Column};
use super::{Context, InWorkspace};

#[derive(Debug, Subcommand)]
pub enum RobotCommand {
    /// List a workspace's robots (never their secrets).
    List {
        #[command(flatten)]
        workspace: InWorkspace,
    },
    /// Create a robot and print its secret, once.
    #[command(visible_alias = "add")]
    #[command(group(ArgGroup::new("permissions").args(["pull", "push"]).required(true).multiple(true)))]
    Create {
        #[command(flatten)]
        workspace: InWorkspace,
        /// The short name; the robot signs in as robot$<workspace>+<name>.
        name: String,
        /// May pull from the workspace's spaces.
        #[arg(long)]
        pull: bool,
        /// May push to the workspace's spaces.
        #[arg(long)]
        push: bool,
        /// Expire after this long, such as 30d, 12h or 3600s [default: never].
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires_in: Option<u64>,
    },
    /// Disable a robot: its secret stops working until it is enabled again.
    Disable(RobotArgs),
    /// Enable a disabled robot.
    Enable(RobotArgs),
    /// Delete a robot.
    Delete(RobotArgs),
}

/// One robot of a workspace.
#[derive(Debug, Args)]
pub struct RobotArgs {
    #[command(flatten)]
    pub workspace: InWorkspace,
    /// The robot, by its short name or its full name robot$<workspace>+<name>.
    pub name: String,
}

pub const ROBOT: &[Column] = &[
    col("NAME", "name"),
    col("PERMISSIONS", "permissions"),
    col("EXPIRES", "expires_at"),
    col("DISABLED", "disabled"),
    col("CREATED BY", "created_by"),
    col("CREATED", "created_at"),
];

/// The answer to creating a robot, the one view that shows a secret.
pub const CREATED_ROBOT: &[Column] = &[
    col("NAME", "name"),
    col("SECRET", "secret"),
    col("PERMISSIONS", "permissions"),
    col("EXPIRES", "expires_at"),
];

impl RobotCommand {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let client = &ctx.client;
        let out = ctx.output;
        match self {
            RobotCommand::List { workspace } => {
                out.list(&client.robots(&workspace.resolve()?, None).await?, ROBOT)
            }
            RobotCommand::Create {
                workspace,
                name,
                pull,
                push,
                expires_in,
            } => {
                let workspace = workspace.resolve()?;
                let permissions = [(pull, Permission::Pull), (push, Permission::Push)]
                    .into_iter()
                    .filter_map(|(wanted, permission)| wanted.then_some(permission))
                    .collect();
                let robot = NewRobot {
                    name: robot_short_name(&workspace, &name).to_string(),
                    permissions,
                    expires_in_seconds: expires_in,
                };
                let created = client.create_robot(&workspace, &robot).await?;
                out.one(&created, CREATED_ROBOT)?;
                // On stderr, so `--output json` stays parseable and a script that captures
                // stdout still shows the warning to the person running it.
                eprintln!("Save the secret now: it will not be shown again.");
                Ok(())
            }
            RobotCommand::Disable(robot) => set_disabled(ctx, robot, true).await,
            RobotCommand::Enable(robot) => set_disabled(ctx, robot, false).await,
            RobotCommand::Delete(RobotArgs { workspace, name }) => {
                let workspace = workspace.resolve()?;
                client
                    .delete_robot(&workspace, robot_short_name(&workspace, &name))
                    .await?;
                out.done(format!("Deleted robot {name} of workspace {workspace}."));
                Ok(())
            }
        }
    }
}

async fn set_disabled(ctx: &Context, robot: RobotArgs, disabled: bool) -> anyhow::Result<()> {
    let workspace = robot.workspace.resolve()?;
    let name = robot_short_name(&workspace, &robot.name);
    let robot = ctx
        .client
        .update_robot(&workspace, name, &RobotPatch { disabled })
        .await?;
    ctx.output.one(&robot, ROBOT)
}
