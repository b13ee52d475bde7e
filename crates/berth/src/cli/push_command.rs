//! `berth push-command`: the lines that push into a space with each common client, optionally
//! with a temporary login limited to that space.

use berth_client::{PushCommand, PushCommandQuery};
use clap::Args;

use super::args::parse_duration;
use super::output::{print_json, Output};
use super::{Context, WORKSPACE};

/// The clients the server prints lines for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientName {
    Docker,
    Podman,
    Nerdctl,
    Skopeo,
    Helm,
    Oras,
}

impl ClientName {
    fn as_str(self) -> &'static str {
        match self {
            ClientName::Docker => "docker",
            ClientName::Podman => "podman",
            ClientName::Nerdctl => "nerdctl",
            ClientName::Skopeo => "skopeo",
            ClientName::Helm => "helm",
            ClientName::Oras => "oras",
        }
    }
}

#[derive(Debug, Args)]
pub struct PushCommandArgs {
    /// The workspace whose image list holds the space.
    #[arg(long, short = 'w', value_name = WORKSPACE)]
    pub workspace: String,
    /// The registry: `hosted`, a platform registry, or one of the workspace's.
    #[arg(long, default_value = "hosted")]
    pub registry: String,
    /// The space to push into.
    #[arg(long)]
    pub space: String,
    /// The repository path inside the space [default: my-image].
    #[arg(long)]
    pub repository: Option<String>,
    /// The tag [default: latest].
    #[arg(long)]
    pub tag: Option<String>,
    /// Log in with a new robot limited to this space, whose secret the printed lines carry
    /// (hosted registry; editors and admins).
    #[arg(long)]
    pub temporary: bool,
    /// How long the temporary login lasts, such as 3600, 30m or 12h (at most 24h) [default: 1h].
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration, requires = "temporary")]
    pub expires_in: Option<u64>,
    /// Print only this client's lines [default: every client's, grouped].
    #[arg(long, value_enum)]
    pub client: Option<ClientName>,
}

/// The lines to print: one client's as they are, or every client's under a `# <client>`
/// comment, so the output stays valid shell either way. Control characters are dropped, so
/// text from the server cannot send escape sequences to the terminal.
pub fn render_lines(command: &PushCommand, client: Option<ClientName>) -> String {
    let clean = |line: &str| -> String { line.chars().filter(|c| !c.is_control()).collect() };
    let mut out = String::new();
    for (name, lines) in command.commands.by_client() {
        match client {
            Some(wanted) if wanted.as_str() != name => continue,
            Some(_) => {}
            None => {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&format!("# {name}\n"));
            }
        }
        for line in lines {
            out.push_str(&clean(line));
            out.push('\n');
        }
    }
    out
}

pub async fn run(ctx: &Context, args: PushCommandArgs) -> anyhow::Result<()> {
    let request = PushCommandQuery {
        temporary: args.temporary.then_some(true),
        expires_in_seconds: args.expires_in,
        repository: args.repository,
        tag: args.tag,
    };
    let command = ctx
        .client
        .push_command(&args.workspace, &args.registry, &args.space, &request)
        .await?;
    match ctx.output {
        Output::Json => print_json(&command),
        Output::Table => {
            print!("{}", render_lines(&command, args.client));
            // On stderr, so the lines on stdout can be piped to a shell as they are.
            for note in &command.notes {
                eprintln!("note: {note}");
            }
            Ok(())
        }
    }
}
