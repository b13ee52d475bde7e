//! The command-line client: thin commands over the REST API, one module per resource.
//!
//! Every command goes through [`berth_client::Client`]; nothing here knows HTTP. Output is a
//! table for people or, with `--output json`, the server's JSON. A failure prints
//! `error: <message>` on stderr (the server's message unchanged for API errors) and exits 1.
//! A command that acts inside a workspace names it with `--workspace`/`-w` ([`InWorkspace`]).
//!
//! This module refers to its parts only through `self`/`super`, never `crate::`, so the
//! integration tests can compile it into their own binary and test parsing and rendering
//! without a server.

pub mod admin;
pub mod args;
pub mod credentials;
pub mod images;
pub mod output;
pub mod pull_secret;
pub mod push_command;
pub mod registries;
pub mod robots;
pub mod scans;
pub mod session;
pub mod spaces;
pub mod users;
pub mod workspaces;

use anyhow::Context as _;
use berth_client::{Client, Secret};
use clap::{Args, Subcommand};

pub use output::Output;

/// The client subcommands; `main` flattens them next to `serve`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in to a Berth server and save the session for the other commands.
    Login(WithGlobals<session::LoginArgs>),
    /// Forget the saved session.
    Logout(WithGlobals<NoArgs>),
    /// Show who the current credentials belong to.
    Whoami(WithGlobals<NoArgs>),
    /// Manage user accounts (platform admins).
    User(Group<users::UserCommand>),
    /// Manage workspaces.
    Workspace(Group<workspaces::WorkspaceCommand>),
    /// Manage the members of a workspace.
    Member(Group<workspaces::MemberCommand>),
    /// Manage external registries, platform-wide or of one workspace.
    Registry(Group<registries::RegistryCommand>),
    /// Manage spaces (the first path segment of repository names) in a registry.
    Space(Group<spaces::SpaceCommand>),
    /// Manage which workspaces a space is bound to.
    Bind(Group<spaces::BindCommand>),
    /// Manage the robot accounts of a workspace.
    Robot(Group<robots::RobotCommand>),
    /// Work with a workspace's images: list, show, tags, delete, upload a tarball.
    #[command(visible_alias = "image")]
    Images(Group<images::ImageCommand>),
    /// Pick deployable images: references by tag and pinned by digest.
    Select(WithGlobals<images::SelectArgs>),
    /// Scan an image for vulnerabilities (or stop its scan, or print its log).
    Scan(WithGlobals<scans::ScanArgs>),
    /// List the vulnerabilities an image's last scan found, most severe first.
    Vulns(WithGlobals<scans::VulnsArgs>),
    /// Print an image's software bill of materials (SPDX 2.3 or CycloneDX 1.5 JSON).
    Sbom(WithGlobals<scans::SbomArgs>),
    /// Read the audit log, newest first.
    Audit(WithGlobals<admin::AuditArgs>),
    /// Show or change platform settings.
    Settings(Group<admin::SettingsCommand>),
    /// Print the lines that push into a space with docker, podman, nerdctl, skopeo, helm or
    /// oras, optionally with a temporary login.
    #[command(name = "push-command")]
    Push(WithGlobals<push_command::PushCommandArgs>),
    /// Print a Kubernetes pull secret for a workspace (YAML, for `kubectl apply -f -`).
    PullSecret(WithGlobals<pull_secret::PullSecretArgs>),
}

/// Options every client command takes. They live on each command rather than on `berth`
/// itself so that `berth serve` keeps only its own options.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct Globals {
    /// The Berth server [default: the one `berth login` saved].
    #[arg(long, global = true, env = "BERTH_URL", value_name = "URL")]
    pub server: Option<String>,
    /// A session token to use instead of the saved one.
    #[arg(long, global = true, env = "BERTH_TOKEN", hide_env_values = true, value_parser = secret)]
    pub token: Option<Secret>,
    /// How to print answers: tables for people, or the server's JSON.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

/// A command without subcommands, with the global options.
#[derive(Debug, Args)]
pub struct WithGlobals<A: Args> {
    #[command(flatten)]
    pub args: A,
    #[command(flatten)]
    pub globals: Globals,
}

/// A command group (`berth user …`), with the global options for all its subcommands.
#[derive(Debug, Args)]
pub struct Group<C: Subcommand> {
    #[command(flatten)]
    pub globals: Globals,
    #[command(subcommand)]
    pub command: C,
}

/// The arguments of a command that takes none.
#[derive(Debug, Args)]
pub struct NoArgs {}

/// The value name every `--workspace` option shows in help, so the convention reads the same
/// on every command.
pub const WORKSPACE: &str = "WORKSPACE";

/// The workspace a command acts inside, for the commands that once took it as their first
/// positional argument: `--workspace`/`-w` is the convention, and the positional form is still
/// accepted so that existing scripts keep working.
///
/// `allow_missing_positional` lets clap skip the optional positional workspace when only the
/// later positionals are given (`robot create ci -w team-a`), so the command's own arguments
/// keep their names and help.
#[derive(Debug, Clone, Args)]
#[command(allow_missing_positional = true)]
pub struct InWorkspace {
    /// The workspace to act in.
    #[arg(id = "workspace", long = "workspace", short = 'w', value_name = WORKSPACE)]
    pub flag: Option<String>,
    /// The workspace, when --workspace does not name it (the older spelling).
    #[arg(id = "workspace_positional", value_name = WORKSPACE)]
    pub positional: Option<String>,
}

impl InWorkspace {
    /// The workspace, named exactly once, either way.
    pub fn resolve(self) -> anyhow::Result<String> {
        match (self.flag, self.positional) {
            (Some(flag), None) => Ok(flag),
            (None, Some(positional)) => Ok(positional),
            (Some(flag), Some(positional)) => anyhow::bail!(
                "the workspace is given twice, as the argument `{positional}` and with \
                 --workspace {flag}; give it once"
            ),
            (None, None) => {
                anyhow::bail!("no workspace given: name it with --workspace <{WORKSPACE}> (-w)")
            }
        }
    }

    /// The workspace and the positional after it, for a command where that one is optional
    /// too (`select [WORKSPACE] [QUERY]`). clap then gives a lone positional to the later
    /// argument, so without --workspace a lone positional is the workspace, as it always was.
    pub fn resolve_with(self, next: Option<String>) -> anyhow::Result<(String, Option<String>)> {
        match (self, next) {
            (
                InWorkspace {
                    flag: None,
                    positional: None,
                },
                Some(workspace),
            ) => Ok((workspace, None)),
            (workspace, next) => Ok((workspace.resolve()?, next)),
        }
    }
}

/// What a command needs to run: a client with the chosen credentials, and the output format.
pub struct Context {
    pub client: Client,
    pub output: Output,
}

impl Globals {
    /// `--server`, treating an empty value (such as `BERTH_URL=`) as unset.
    pub fn server(&self) -> Option<&str> {
        self.server.as_deref().filter(|s| !s.is_empty())
    }

    /// `--token`, treating an empty value (such as `BERTH_TOKEN=`) as unset.
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref().filter(|s| !s.expose().is_empty())
    }
}

/// Parses a secret argument into [`Secret`], so the parsed command's `Debug` output (in a
/// test failure, say) redacts it.
fn secret(text: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::new(text))
}

impl Context {
    /// Connects as the global options and the saved session say. The saved token is only sent
    /// to the server it was issued by, so `--server` pointing elsewhere cannot leak it.
    fn new(globals: &Globals) -> anyhow::Result<Context> {
        // With both given, the saved session is not needed, and a damaged file must not stop
        // a command that does not use it.
        let saved = match (globals.server(), globals.token()) {
            (Some(_), Some(_)) => None,
            _ => credentials::load()?,
        };
        let server = match (globals.server(), &saved) {
            (Some(server), _) => server.to_string(),
            (None, Some(saved)) => saved.url.clone(),
            (None, None) => anyhow::bail!(
                "no server given: run `berth login <URL>`, or pass --server or set BERTH_URL"
            ),
        };
        let token = match (globals.token(), saved) {
            (Some(token), _) => Some(token.clone()),
            (None, Some(saved)) if same_server(&saved.url, &server) => Some(saved.token),
            _ => None,
        };
        let mut client = Client::new(&server)?;
        if let Some(token) = token {
            client = client.with_token(token);
        }
        Ok(Context {
            client,
            output: globals.output,
        })
    }
}

/// Whether two server URLs name the same server, after URL normalisation (case of the
/// scheme and host, default ports, a trailing slash).
pub fn same_server(a: &str, b: &str) -> bool {
    let normal = |url: &str| {
        url::Url::parse(url)
            .map(|u| u.as_str().trim_end_matches('/').to_string())
            .unwrap_or_else(|_| url.to_string())
    };
    normal(a) == normal(b)
}

/// Runs a client command and returns the process exit code.
pub fn run(command: Command) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return 1;
        }
    };
    match runtime.block_on(dispatch(command)) {
        Ok(()) => 0,
        Err(e) => {
            // `{:#}` shows the chain of contexts on one line; API errors carry none, so a
            // server error prints as exactly the server's message.
            eprintln!("error: {e:#}");
            1
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        // Login and logout manage the saved session rather than use it.
        Command::Login(c) => session::login(&c.globals, c.args).await,
        Command::Logout(c) => session::logout(c.globals.output),
        Command::Whoami(c) => session::whoami(&Context::new(&c.globals)?).await,
        Command::User(g) => g.command.run(&Context::new(&g.globals)?).await,
        Command::Workspace(g) => g.command.run(&Context::new(&g.globals)?).await,
        Command::Member(g) => g.command.run(&Context::new(&g.globals)?).await,
        Command::Registry(g) => g.command.run(&Context::new(&g.globals)?).await,
        Command::Space(g) => g.command.run(&Context::new(&g.globals)?).await,
        Command::Bind(g) => g.command.run(&Context::new(&g.globals)?).await,
        Command::Robot(g) => g.command.run(&Context::new(&g.globals)?).await,
        Command::Images(g) => g.command.run(&Context::new(&g.globals)?).await,
        Command::Select(c) => images::select(&Context::new(&c.globals)?, c.args).await,
        Command::Scan(c) => scans::scan(&Context::new(&c.globals)?, c.args).await,
        Command::Vulns(c) => scans::vulns(&Context::new(&c.globals)?, c.args).await,
        Command::Sbom(c) => scans::sbom(&Context::new(&c.globals)?, c.args).await,
        Command::Audit(c) => admin::audit(&Context::new(&c.globals)?, c.args).await,
        Command::Settings(g) => g.command.run(&Context::new(&g.globals)?).await,
        Command::Push(c) => push_command::run(&Context::new(&c.globals)?, c.args).await,
        Command::PullSecret(c) => pull_secret::run(&Context::new(&c.globals)?, c.args).await,
    }
}

/// Reads a password from standard input, for `--password-stdin`: everything up to the end,
/// less one trailing line break (what `echo` or a here-string adds).
pub fn read_password_stdin() -> anyhow::Result<Secret> {
    use std::io::Read;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the password from standard input")?;
    let password = input
        .strip_suffix('\n')
        .map(|rest| rest.strip_suffix('\r').unwrap_or(rest))
        .unwrap_or(&input);
    anyhow::ensure!(
        !password.is_empty(),
        "the password on standard input is empty"
    );
    Ok(Secret::new(password))
}
