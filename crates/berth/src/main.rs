//! `berth`: the multi-tenant container image platform in one binary.
//!
//! `berth serve` runs everything on one port; the other subcommands are clients of the REST API.

/// The command-line client of the REST API.
mod cli;
/// Configuration layering and validation.
mod config;

use std::path::PathBuf;

use anyhow::Context;
use berth_server::{App, ServerSettings};
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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            return_large_allocations_to_the_system();
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(serve(args))
        }
        Command::Client(command) => std::process::exit(cli::run(command)),
    }
}

/// glibc serves an allocation above its mmap threshold straight from the kernel and returns it
/// on free, but it raises that threshold to the size of every large block freed, after which
/// such blocks come from per-thread arenas that keep them. Each argon2 check allocates 7 MiB on
/// some blocking thread, so a burst of logins left hundreds of MiB resident. A fixed 1 MiB
/// threshold keeps large blocks returning to the system; blob buffers (256 KiB) are unaffected.
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tuning value; it is called once, before any thread
    // of the server starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args.database_url,
        external_url: args.external_url,
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
        admin_password: config
            .admin_password
            .as_ref()
            .map(|s| s.expose().to_string()),
        token_ttl: config.token_ttl,
        upload_ttl: config.upload_ttl,
    })
    .await?;
    if let Some(password) = &app.generated_admin_password {
        // Shown once, on the terminal that started Berth; the log never carries it.
        eprintln!(
            "\n  Created user `admin` with password: {password}\n  (also saved to {})\n",
            config.data_dir.join("initial-admin-password").display()
        );
    }
    tracing::info!(listen = %bound, external_url = %external_url, database = %redact_url(&config.database_url), "berth is serving");
    app.serve(listener, shutdown_signal()).await
}

fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
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
