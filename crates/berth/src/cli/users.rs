//! `berth user …`: user accounts, for platform admins.

use berth_client::{NewUser, UserPatch};
use clap::Subcommand;

use super::output::{col, Column};
use super::{read_password_stdin, Context};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List users.
    List,
    /// Create a user, reading the password from standard input.
    #[command(visible_alias = "add")]
    Create {
        /// The user's name, to sign in with.
        name: String,
        /// Read the password from standard input (required: passwords never go in arguments,
        /// which other users can see in the process list).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        email: Option<String>,
        /// Make the user a platform admin.
        #[arg(long)]
        admin: bool,
    },
    /// Show a user.
    Show {
        /// The user's name.
        name: String,
    },
    /// Disable a user: they can no longer sign in or use their sessions.
    Disable {
        /// The user's name.
        name: String,
    },
    /// Enable a disabled user.
    Enable {
        /// The user's name.
        name: String,
    },
    /// Delete a user.
    Delete {
        /// The user's name.
        name: String,
    },
    /// Set a new password, read from standard input.
    ResetPassword {
        /// The user's name.
        name: String,
        /// Read the new password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

pub const USER: &[Column] = &[
    col("USERNAME", "username"),
    col("EMAIL", "email"),
    col("ADMIN", "is_admin"),
    col("DISABLED", "disabled"),
    col("CREATED", "created_at"),
];

impl UserCommand {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let client = &ctx.client;
        let out = ctx.output;
        match self {
            UserCommand::List => out.list(&client.users(None).await?, USER),
            UserCommand::Create {
                name, email, admin, ..
            } => {
                let user = NewUser {
                    username: name,
                    password: read_password_stdin()?,
                    email,
                    is_admin: admin.then_some(true),
                };
                out.one(&client.create_user(&user).await?, USER)
            }
            UserCommand::Show { name } => out.one(&client.user(&name).await?, USER),
            UserCommand::Disable { name } => patch(ctx, &name, disabled(true)).await,
            UserCommand::Enable { name } => patch(ctx, &name, disabled(false)).await,
            UserCommand::Delete { name } => {
                client.delete_user(&name).await?;
                out.done(format!("Deleted user {name}."));
                Ok(())
            }
            UserCommand::ResetPassword { name, .. } => {
                let reset = UserPatch {
                    password: Some(read_password_stdin()?),
                    ..UserPatch::default()
                };
                patch(ctx, &name, reset).await
            }
        }
    }
}

fn disabled(disabled: bool) -> UserPatch {
    UserPatch {
        disabled: Some(disabled),
        ..UserPatch::default()
    }
}

async fn patch(ctx: &Context, name: &str, patch: UserPatch) -> anyhow::Result<()> {
    let user = ctx.client.update_user(name, &patch).await?;
    ctx.output.one(&user, USER)
}
