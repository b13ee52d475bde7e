//! `berth scan IMAGE`: start (or stop) a vulnerability scan, wait for it with a progress bar,
//! print its log; `berth vulns IMAGE`: the vulnerabilities the last scan found; `berth sbom
//! IMAGE`: its SPDX or CycloneDX document.

use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::Context as _;
use berth_client::{SbomParams, ScanSummary, VulnerabilityFilters};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::images::digest_of_tag;
use super::output::{col, print_json, Column, Output};
use super::{Context, InWorkspace};

/// An image of a workspace's list: `repository:tag`, `repository@digest`, or `repository`
/// (its `latest` tag).
#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(flatten)]
    pub workspace: InWorkspace,
    /// `team/api:1.2`, `team/api@sha256:…`, or `team/api` for its `latest` tag.
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The registry: `hosted`, a platform registry, or one of the workspace's own.
    #[arg(long, default_value = "hosted")]
    pub registry: String,
}

/// An image, resolved to its digest.
struct Located {
    workspace: String,
    registry: String,
    repository: String,
    digest: String,
}

impl ImageArgs {
    async fn locate(self, ctx: &Context) -> anyhow::Result<Located> {
        let workspace = self.workspace.resolve()?;
        let (repository, digest) = match self.image.split_once('@') {
            Some((repository, digest)) => (repository.to_string(), digest.to_string()),
            None => {
                // A `:` after the last `/` starts the tag (`host:5000/…` has none here).
                let (repository, tag) = match self.image.rsplit_once(':') {
                    Some((repository, tag)) if !tag.contains('/') => (repository, tag),
                    _ => (self.image.as_str(), "latest"),
                };
                let digest =
                    digest_of_tag(ctx, &workspace, &self.registry, repository, tag).await?;
                (repository.to_string(), digest)
            }
        };
        Ok(Located {
            workspace,
            registry: self.registry,
            repository,
            digest,
        })
    }
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub image: ImageArgs,
    /// Wait for the scan to finish, with a progress bar, and print its summary.
    #[arg(long, conflicts_with_all = ["stop", "log"])]
    pub wait: bool,
    /// Stop the queued or running scan instead of starting one.
    #[arg(long, conflicts_with = "log")]
    pub stop: bool,
    /// Print the last finished scan's log instead of starting one.
    #[arg(long)]
    pub log: bool,
}

#[derive(Debug, Args)]
pub struct VulnsArgs {
    #[command(flatten)]
    pub image: ImageArgs,
    /// The lowest severity to show: critical, high, medium, low, none or unknown.
    #[arg(long)]
    pub severity: Option<String>,
    /// Only vulnerabilities with a fixed version (true) or without one (false).
    #[arg(long)]
    pub fixable: Option<bool>,
    /// How many to show.
    #[arg(long, default_value_t = 500)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    #[command(flatten)]
    pub image: ImageArgs,
    /// spdx-json (SPDX 2.3) or cyclonedx-json (CycloneDX 1.5).
    #[arg(long, default_value = "spdx-json")]
    pub format: String,
}

const SUMMARY: &[Column] = &[
    col("STATUS", "status"),
    col("REASON", "reason"),
    col("SEVERITY", "severity"),
    col("CRITICAL", "counts.critical"),
    col("HIGH", "counts.high"),
    col("MEDIUM", "counts.medium"),
    col("LOW", "counts.low"),
    col("NONE", "counts.none"),
    col("UNKNOWN", "counts.unknown"),
    col("FIXABLE", "fixable"),
    col("TOTAL", "total"),
    col("DATABASE", "db_updated_at"),
    col("FINISHED", "finished_at"),
];

const VULNERABILITY: &[Column] = &[
    col("SEVERITY", "severity"),
    col("ID", "id"),
    col("PACKAGE", "package"),
    col("INSTALLED", "installed_version"),
    col("FIXED", "fixed_version"),
    col("RATED BY", "severity_source.kind"),
    col("SUMMARY", "summary"),
];

const LOG_LINE: &[Column] = &[col("LEVEL", "level"), col("MESSAGE", "message")];

pub async fn scan(ctx: &Context, args: ScanArgs) -> anyhow::Result<()> {
    let image = args.image.locate(ctx).await?;
    let client = &ctx.client;
    let (ws, reg, repo, digest) = (
        &image.workspace,
        &image.registry,
        &image.repository,
        &image.digest,
    );
    if args.log {
        let log = client.scan_log(ws, reg, repo, digest).await?;
        if ctx.output == Output::Json {
            return print_json(&log);
        }
        let lines = berth_client::Page {
            total: log.lines.len() as i64,
            items: log.lines,
            next_cursor: None,
        };
        return ctx.output.list(&lines, LOG_LINE);
    }
    let requested = if args.stop {
        client.stop_scan(ws, reg, repo, digest).await?
    } else {
        client.start_scan(ws, reg, repo, digest).await?
    };
    if !args.wait {
        let scan = requested
            .scan
            .context("the server answered no scan state")?;
        return ctx.output.one(&scan, SUMMARY);
    }
    let bar = progress_bar(ctx.output);
    let scan = loop {
        let scan = client.artifact(ws, reg, repo, digest).await?.scan;
        let scan: ScanSummary = scan.context("the server answered no scan state")?;
        match scan.status.as_str() {
            "queued" => bar.set_message("queued"),
            "running" => {
                bar.set_message("reading layers");
                if let Some(progress) = &scan.progress {
                    bar.set_length(progress.layers_total.max(1));
                    bar.set_position(progress.layers_done);
                }
            }
            _ => break scan,
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    bar.finish_and_clear();
    ctx.output.one(&scan, SUMMARY)?;
    if scan.status == "failed" {
        anyhow::bail!(
            "the scan failed: {}",
            scan.reason.as_deref().unwrap_or("no reason given")
        );
    }
    Ok(())
}

pub async fn vulns(ctx: &Context, args: VulnsArgs) -> anyhow::Result<()> {
    let image = args.image.locate(ctx).await?;
    let filters = VulnerabilityFilters {
        severity: args.severity,
        fixable: args.fixable,
    };
    let found = ctx
        .client
        .vulnerabilities(
            &image.workspace,
            &image.registry,
            &image.repository,
            &image.digest,
            &filters,
            Some(args.limit),
        )
        .await?;
    ctx.output.list(&found, VULNERABILITY)
}

pub async fn sbom(ctx: &Context, args: SbomArgs) -> anyhow::Result<()> {
    let image = args.image.locate(ctx).await?;
    let params = SbomParams {
        format: Some(args.format),
    };
    let document = ctx
        .client
        .sbom(
            &image.workspace,
            &image.registry,
            &image.repository,
            &image.digest,
            &params,
        )
        .await?;
    // The document is the answer whatever --output says: it is a file format of its own.
    print_json(&document)
}

/// A bar of layers read, on stderr; hidden when stdout is not a terminal and with `--output
/// json`.
fn progress_bar(output: Output) -> ProgressBar {
    if output == Output::Json || !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{spinner} {msg} {bar:30} {pos}/{len} layers")
        .expect("the template is valid");
    let bar = ProgressBar::new(1).with_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
