//! `berth login`, `berth logout` and `berth whoami`.

use anyhow::Context as _;
use berth_client::{Client, Secret};
use clap::Args;
use serde_json::json;

use super::credentials::{self, Credentials};
use super::output::{col, Column, Output};
use super::{read_password_stdin, Context, Globals};

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server's URL, such as https://berth.example.com [default: --server or BERTH_URL].
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// The user to sign in as.
    #[arg(long, short = 'u')]
    pub username: String,
    /// Read the password from standard input [default: from BERTH_PASSWORD].
    #[arg(long)]
    pub password_stdin: bool,
}

/// Columns of `whoami`.
pub const ME: &[Column] = &[
    col("USERNAME", "username"),
    col("KIND", "kind"),
    col("ADMIN", "is_admin"),
    col("EMAIL", "email"),
    col("WORKSPACES", "workspaces"),
];

/// Signs in and saves `{url, token}`. The token is never printed, not even as JSON.
pub async fn login(globals: &Globals, args: LoginArgs) -> anyhow::Result<()> {
    let url = args
        .url
        .or_else(|| globals.server.clone())
        .context("give the server's URL: `berth login <URL>`, or --server, or BERTH_URL")?;
    let password = if args.password_stdin {
        read_password_stdin()?
    } else {
        // The password is not prompted for: the CLI is meant for scripts, which pipe it in
        // or set it in the environment, where it stays out of the process list.
        std::env::var("BERTH_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
            .map(Secret::new)
            .context("give the password with --password-stdin or in BERTH_PASSWORD")?
    };
    let client = Client::new(&url)?;
    let session = client.login(&args.username, password).await?;
    let path = credentials::save(&Credentials {
        url: client.server().to_string(),
        token: session.token,
    })?;
    match globals.output {
        Output::Json => super::output::print_json(&json!({
            "url": client.server(),
            "username": args.username,
            "expires_at": session.expires_at,
        })),
        Output::Table => {
            println!(
                "Logged in to {} as {}; the session lasts until {} (saved in {}).",
                client.server(),
                args.username,
                session.expires_at,
                path.display()
            );
            Ok(())
        }
    }
}

/// Forgets the saved session. The API has no call to revoke a session token (it expires on
/// its own), so this is local.
pub fn logout(output: Output) -> anyhow::Result<()> {
    match credentials::remove()? {
        Some(saved) => output.done(format!("Logged out of {}.", saved.url)),
        None => output.done("Not logged in."),
    }
    Ok(())
}

pub async fn whoami(ctx: &Context) -> anyhow::Result<()> {
    let me = ctx.client.me().await?;
    if ctx.output == Output::Json {
        return ctx.output.one(&me, ME);
    }
    // Memberships read best as `team (admin)`, which the generic cell cannot know.
    let mut view = serde_json::to_value(&me)?;
    view["workspaces"] = me
        .workspaces
        .iter()
        .map(|w| json!(format!("{} ({})", w.name, berth_client::wire_name(&w.role))))
        .collect();
    ctx.output.one(&view, ME)
}
