//! `berth image …`: images in registries.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Context as _;
use berth_client::UploadTarget;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::output::{col, Column, Output};
use super::Context;

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Upload a `docker save` or OCI image layout tarball (gzip-compressed or not) into a
    /// hosted space.
    Upload(UploadArgs),
}

impl ImageCommand {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            ImageCommand::Upload(args) => upload(ctx, args).await,
        }
    }
}

// --- upload ----------------------------------------------------------------------------------

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The tarball: `docker save` output or an OCI image layout, `.tar` or `.tar.gz`.
    pub file: PathBuf,
    /// The workspace to push for; it must be bound to the space.
    #[arg(long)]
    pub workspace: String,
    /// The hosted space to push into.
    #[arg(long)]
    pub space: String,
    /// The repository inside the space [default: the name the tarball gives].
    #[arg(long)]
    pub repository: Option<String>,
    /// The tag [default: the tarball's, then `latest`].
    #[arg(long)]
    pub tag: Option<String>,
}

pub const UPLOADED: &[Column] = &[
    col("REFERENCE", "reference"),
    col("DIGEST", "digest"),
    col("MEDIA TYPE", "media_type"),
    col("SIZE", "size"),
];

/// Streams the file to the server with a progress bar, then prints where the image is.
pub async fn upload(ctx: &Context, args: UploadArgs) -> anyhow::Result<()> {
    let shown = args.file.display();
    let file = tokio::fs::File::open(&args.file)
        .await
        .with_context(|| format!("opening {shown}"))?;
    let length = file
        .metadata()
        .await
        .with_context(|| format!("reading the size of {shown}"))?
        .len();
    let progress = progress_bar(length, ctx.output);
    let target = UploadTarget {
        workspace: args.workspace,
        space: args.space,
        repository: args.repository,
        tag: args.tag,
    };
    let uploaded = ctx
        .client
        .upload_image(&target, progress.wrap_async_read(file), length)
        .await;
    progress.finish_and_clear();
    ctx.output.one(&uploaded?, UPLOADED)
}

/// A bar of bytes sent, with rate and time left, on stderr. Hidden when stdout is not a
/// terminal (a script or a pipe reads the answer) and with `--output json`.
fn progress_bar(length: u64, output: Output) -> ProgressBar {
    if output == Output::Json || !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(
        "{bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta} left",
    )
    .expect("the template is valid");
    ProgressBar::new(length).with_style(style)
}
