//! `berth audit` and `berth settings …`.

use berth_client::{AuditFilter, SettingsPatch};
use clap::{ArgGroup, Args, Subcommand};

use super::args::parse_since;
use super::output::{col, Column};
use super::{Context, WORKSPACE};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only events by this user or robot.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this action, or every action under a prefix ending in `.` (such as `space.`).
    #[arg(long)]
    pub action: Option<String>,
    /// Only events since this RFC 3339 time, or this long ago (such as 24h or 7d).
    #[arg(long, value_name = "TIME|DURATION", value_parser = parse_since)]
    pub since: Option<String>,
    /// Only events of this workspace (required for workspace admins).
    #[arg(long, short = 'w', value_name = WORKSPACE)]
    pub workspace: Option<String>,
    /// Show at most this many events [default: all].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show the platform settings.
    Show,
    /// Change platform settings; only the options given change.
    #[command(group(ArgGroup::new("changes").args(["anonymous_pull", "auto_create_spaces"]).required(true).multiple(true)))]
    Set {
        /// Let anyone pull from public spaces without signing in.
        #[arg(long, value_name = "true|false")]
        anonymous_pull: Option<bool>,
        /// Create a space when someone pushes to a space that does not exist.
        #[arg(long, value_name = "true|false")]
        auto_create_spaces: Option<bool>,
    },
}

pub const AUDIT: &[Column] = &[
    col("AT", "at"),
    col("ACTOR", "actor"),
    col("ACTION", "action"),
    col("TARGET", "target"),
    col("WORKSPACE", "workspace"),
    col("SOURCE", "source"),
];

pub const SETTINGS: &[Column] = &[
    col("ANONYMOUS PULL", "anonymous_pull"),
    col("AUTO-CREATE SPACES", "auto_create_spaces"),
];

pub async fn audit(ctx: &Context, args: AuditArgs) -> anyhow::Result<()> {
    let filter = AuditFilter {
        actor: args.actor,
        action: args.action,
        since: args.since,
        workspace: args.workspace,
    };
    let events = ctx
        .client
        .audit(&filter, args.limit.map(|n| n as usize))
        .await?;
    ctx.output.list(&events, AUDIT)
}

impl SettingsCommand {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let settings = match self {
            SettingsCommand::Show => ctx.client.settings().await?,
            SettingsCommand::Set {
                anonymous_pull,
                auto_create_spaces,
            } => {
                let patch = SettingsPatch {
                    anonymous_pull,
                    auto_create_spaces,
                };
                ctx.client.update_settings(&patch).await?
            }
        };
        ctx.output.one(&settings, SETTINGS)
    }
}
