//! `berth`: the multi-tenant container image platform in one binary.
//!
//! `berth serve` runs everything on one port; the other subcommands are clients of the REST API.

/// The command-line client of the REST API.
mod cli;
/// Configuration layering and validation.
mod config;
/// `berth inventory`: an image layout's packages, read locally.
mod inventory;
/// The vulnerability database's local commands.
mod vulndb;

use std::path::{Path, PathBuf};

use anyhow::Context;
use berth_server::{AdminAccount, App, ServerSettings, INITIAL_ADMIN_PASSWORD_FILE};
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{LogFormat, Overrides};

#[derive(Parser)]
#[command(
    name = "berth",
    version,
    about = "Berth: a multi-tenant container image platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the registry, token service, health and metrics endpoints.
    Serve(ServeArgs),
    /// Import OSV advisories into the vulnerability database, or show what it holds. Works
    /// on the deployment's database directly, as `serve` does.
    Vulndb {
        #[command(subcommand)]
        command: vulndb::VulnDbCommand,
    },
    /// List the distribution and packages of an image in an OCI image layout directory, as a
    /// scan reads them, on this machine (no server).
    Inventory(inventory::InventoryArgs),
    #[command(flatten)]
    Client(cli::Command),
}

#[derive(Args)]
struct ServeArgs {
    /// A TOML configuration file (see berth.example.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:5050].
    #[arg(long)]
    listen: Option<String>,
    /// Directory for the database, blobs and keys [default: ./berth-data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… [default: SQLite in the data dir].
    #[arg(long)]
    database_url: Option<String>,
    /// The URL clients reach Berth at [default: http://<listen address>].
    #[arg(long)]
    external_url: Option<String>,
    /// Log lines as text (coloured only on a terminal) or as JSON objects [default: text].
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        end_quietly_when_output_closes();
    }
    match cli.command {
        Command::Serve(args) => {
            return_large_allocations_to_the_system();
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(serve(args))
        }
        Command::Vulndb { command } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(vulndb::run(command)),
        Command::Inventory(args) => inventory::run(args),
        Command::Client(command) => std::process::exit(cli::run(command)),
    }
}

/// Rust ignores SIGPIPE, so a command whose output goes to a pipe that closes early
/// (`berth vulns … | head`) panics on its next print. The commands that print take the
/// signal's default again and end quietly, as other command-line tools do. `serve` keeps
/// ignoring it: a client that hangs up must not end the server.
fn end_quietly_when_output_closes() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition, once, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// glibc serves an allocation above its mmap threshold straight from the kernel and returns it
/// on free, but it raises that threshold to the size of every large block freed, after which
/// such blocks come from per-thread arenas that keep them. Each argon2 check allocates 7 MiB on
/// some blocking thread, so a burst of logins left hundreds of MiB resident. A fixed 1 MiB
/// threshold keeps large blocks returning to the system; blob buffers (256 KiB) are unaffected.
///
/// Fixing that threshold also fixes the trim threshold at glibc's 128 KiB: every arena whose
/// free top grew past it was shrunk, and the next requests faulted the pages back in. Under the
/// image-list benchmark that was two to four page faults per request and a fifth of its
/// throughput. Arenas now keep up to 8 MiB free at their top (and grow 1 MiB at a time), which
/// measured no page faults under load and no more resident memory.
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator tuning values; it is called once, before any thread
    // of the server starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 8 * 1024 * 1024);
        libc::mallopt(libc::M_TOP_PAD, 1024 * 1024);
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args.database_url,
        external_url: args.external_url,
        log_format: args.log_format,
    };
    let config =
        config::load(args.config.as_deref(), config::process_env(), &overrides)?.validate()?;
    init_logging(config.log_format, &config.log_level);

    // Bind before anything else, so the external URL can name the real port (port 0 picks one).
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {} (option `listen`)", config.listen))?;
    let bound = listener.local_addr()?;
    let external_url = config.external_url.clone().unwrap_or_else(|| {
        if bound.ip().is_unspecified() {
            tracing::warn!("listening on all interfaces; set BERTH_EXTERNAL_URL so clients get a reachable address");
            format!("http://127.0.0.1:{}", bound.port())
        } else {
            format!("http://{bound}")
        }
    });
    let app = App::start(ServerSettings {
        data_dir: config.data_dir.clone(),
        database_url: config.database_url.clone(),
        external_url: external_url.clone(),
        admin_password: config.admin_password.clone(),
        token_ttl: config.token_ttl,
        upload_ttl: config.upload_ttl,
        sync: config.sync.clone(),
        scan: config.scan.clone(),
    })
    .await?;
    // Shown once, to the person who started Berth, on standard output: the log is standard
    // error, which must never carry the password (`2>berth.log` would keep it) and must stay
    // one JSON object a line with `--log-format json`.
    println!("{}", welcome(&app.admin, &external_url, &config.data_dir));
    tracing::info!(listen = %bound, external_url = %external_url, database = %redact_url(&config.database_url), "berth is serving");
    app.serve(listener, shutdown_signal()).await
}

/// What a person starting Berth needs to know first: where the console is, and how to sign
/// in as `admin`.
fn welcome(admin: &AdminAccount, external_url: &str, data_dir: &Path) -> String {
    let console = format!("{}/", external_url.trim_end_matches('/'));
    let sign_in = match admin {
        AdminAccount::CreatedWithGeneratedPassword { password, saved_to } => format!(
            "Created user `admin` with password: {}\n  (also saved to {}; \
             change it after signing in)",
            password.expose(),
            saved_to.display()
        ),
        AdminAccount::CreatedWithGivenPassword => {
            "Created user `admin` with the password from BERTH_ADMIN_PASSWORD.".to_string()
        }
        AdminAccount::Existing => {
            let saved = data_dir.join(INITIAL_ADMIN_PASSWORD_FILE);
            if saved.exists() {
                format!(
                    "User `admin` exists; its first password is in {} unless it was changed.",
                    saved.display()
                )
            } else {
                "User `admin` exists; sign in with its password.".to_string()
            }
        }
    };
    format!(
        "\n  Berth is serving at {external_url}\n  Console:  {console}\n  API docs: \
         {console}api/v1/docs\n  {sign_in}\n"
    )
}

fn init_logging(format: LogFormat, level: &str) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colour codes help a person at a terminal and corrupt a log file or a collector's input.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Hides the password of a database URL before it is logged.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
