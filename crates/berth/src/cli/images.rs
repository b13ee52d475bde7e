//! `berth images …` (also `berth image …`): the workspace image list, image details, deletes
//! and tarball uploads; `berth select`: deployable references from the image selector.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Context as _;
use berth_client::{ImageFilters, Page, SelectorParams, TagFilters, UploadParams, UploadTarget};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::output::{bytes, col, Column, Output};
use super::{Context, InWorkspace, WORKSPACE};

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// List a workspace's images: every repository it may see and deploy.
    List(ListArgs),
    /// Show a repository, or one artifact of it (with --tag or --digest) with its layers.
    Show(ShowArgs),
    /// List a repository's tags, newest first.
    Tags(TagsArgs),
    /// Delete a tag, an artifact, or (with --confirm) a whole repository.
    Delete(DeleteArgs),
    /// Upload a `docker save` or OCI image layout tarball (gzip-compressed or not) into a
    /// hosted space.
    Upload(UploadArgs),
}

impl ImageCommand {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            ImageCommand::List(args) => list(ctx, args).await,
            ImageCommand::Show(args) => show(ctx, args).await,
            ImageCommand::Tags(args) => tags(ctx, args).await,
            ImageCommand::Delete(args) => delete(ctx, args).await,
            ImageCommand::Upload(args) => upload(ctx, args).await,
        }
    }
}

// --- list, show, tags, delete ----------------------------------------------------------------

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub workspace: InWorkspace,
    /// Only repositories whose path contains this (any case).
    #[arg(long, short)]
    pub q: Option<String>,
    /// Only repositories with a tag containing this (any case).
    #[arg(long)]
    pub tag: Option<String>,
    #[arg(long)]
    pub registry: Option<String>,
    #[arg(long)]
    pub space: Option<String>,
    /// public or private.
    #[arg(long)]
    pub visibility: Option<String>,
    /// Why the workspace sees it: public, bound or workspace-registry.
    #[arg(long)]
    pub source: Option<String>,
    /// Only images whose latest tag's scan found this severity or worse (critical, high, …).
    #[arg(long, value_name = "SEVERITY")]
    pub scan: Option<String>,
    /// name, pushed_at, pulls, size or severity.
    #[arg(long)]
    pub sort: Option<String>,
    /// asc or desc [default: asc for name, desc otherwise].
    #[arg(long)]
    pub order: Option<String>,
    /// How many rows to show.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// A repository, addressed inside a workspace.
#[derive(Debug, Args)]
pub struct RepositoryArgs {
    #[command(flatten)]
    pub workspace: InWorkspace,
    /// The repository path, space first (`team-a/api`).
    pub repository: String,
    /// The registry: `hosted`, a platform registry, or one of the workspace's own.
    #[arg(long, default_value = "hosted")]
    pub registry: String,
}

impl RepositoryArgs {
    /// The workspace, the repository and the registry.
    fn resolve(&self) -> anyhow::Result<(String, String, String)> {
        let workspace = self.workspace.clone().resolve()?;
        Ok((workspace, self.repository.clone(), self.registry.clone()))
    }
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub repository: RepositoryArgs,
    /// Show the artifact this tag points at.
    #[arg(long, conflicts_with = "digest")]
    pub tag: Option<String>,
    /// Show the artifact with this digest.
    #[arg(long)]
    pub digest: Option<String>,
}

#[derive(Debug, Args)]
pub struct TagsArgs {
    #[command(flatten)]
    pub repository: RepositoryArgs,
    /// Only tags containing this (any case).
    #[arg(long, short)]
    pub q: Option<String>,
    /// pushed_at (newest first) or name.
    #[arg(long)]
    pub sort: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").args(["tag", "digest", "confirm"]).required(true)))]
pub struct DeleteArgs {
    #[command(flatten)]
    pub repository: RepositoryArgs,
    /// Delete this tag; the artifact stays.
    #[arg(long)]
    pub tag: Option<String>,
    /// Delete the artifact with this digest and every tag pointing at it.
    #[arg(long)]
    pub digest: Option<String>,
    /// Delete the whole repository: repeat its path here to confirm.
    #[arg(long, value_name = "REPOSITORY")]
    pub confirm: Option<String>,
}

pub const IMAGE: &[Column] = &[
    col("REFERENCE", "reference"),
    col("VISIBILITY", "visibility"),
    col("SEEN AS", "sources"),
    col("TAGS", "tag_count"),
    col("LATEST", "latest_tag"),
    col("PUSHED", "pushed_at"),
    bytes("SIZE", "size"),
    col("PULLS", "pulls"),
    col("SEVERITY", "scan.severity"),
];

pub const REPOSITORY: &[Column] = &[
    col("REFERENCE", "reference"),
    col("REGISTRY", "registry"),
    col("SPACE", "space"),
    col("VISIBILITY", "visibility"),
    col("SEEN AS", "sources"),
    col("TAGS", "tag_count"),
    col("ARTIFACTS", "artifact_count"),
    col("LATEST", "latest_tag"),
    col("PUSHED", "pushed_at"),
    bytes("SIZE", "size"),
    col("PULLS", "pulls"),
    col("PULL", "pull_command"),
    col("DESCRIPTION", "description"),
];

pub const TAG: &[Column] = &[
    col("TAG", "name"),
    col("DIGEST", "digest"),
    bytes("SIZE", "size"),
    col("PUSHED", "pushed_at"),
    col("PUSHED BY", "pushed_by"),
    col("PULLS", "pulls"),
    col("LAST PULL", "pulled_at"),
];

pub const ARTIFACT: &[Column] = &[
    col("DIGEST", "digest"),
    col("MEDIA TYPE", "media_type"),
    bytes("SIZE", "size"),
    col("TAGS", "tags"),
    col("CREATED", "config.created"),
    col("AUTHOR", "config.author"),
    col("OS", "config.os"),
    col("ARCHITECTURE", "config.architecture"),
    col("ENTRYPOINT", "config.entrypoint"),
    col("CMD", "config.cmd"),
    col("PUSHED BY", "pushed_by"),
    col("PUSHED", "pushed_at"),
    col("PULLS", "pull_count"),
    col("BY TAG", "pull_command.by_tag"),
    col("BY DIGEST", "pull_command.by_digest"),
];

pub const LAYER: &[Column] = &[
    col("LAYER", "digest"),
    bytes("SIZE", "size"),
    col("CREATED BY", "created_by"),
];

pub const SELECTION: &[Column] = &[
    col("REFERENCE", "reference"),
    col("PINNED", "pinned"),
    col("NEEDS PULL SECRET", "needs_pull_secret"),
];

async fn list(ctx: &Context, args: ListArgs) -> anyhow::Result<()> {
    let filters = ImageFilters {
        q: args.q,
        tag: args.tag,
        registry: args.registry,
        space: args.space,
        visibility: args.visibility,
        source: args.source,
        scan: args.scan,
        sort: args.sort,
        order: args.order,
    };
    let workspace = args.workspace.resolve()?;
    let images = ctx
        .client
        .images(&workspace, &filters, Some(args.limit))
        .await?;
    ctx.output.list(&images, IMAGE)
}

async fn show(ctx: &Context, args: ShowArgs) -> anyhow::Result<()> {
    let (workspace, repository, registry) = &args.repository.resolve()?;
    let client = &ctx.client;
    let digest = match (&args.tag, &args.digest) {
        (_, Some(digest)) => digest.clone(),
        (Some(tag), None) => digest_of_tag(ctx, workspace, registry, repository, tag).await?,
        (None, None) => {
            let detail = client.repository(workspace, registry, repository).await?;
            return ctx.output.one(&detail, REPOSITORY);
        }
    };
    let artifact = client
        .artifact(workspace, registry, repository, &digest)
        .await?;
    if ctx.output == Output::Json {
        return super::output::print_json(&artifact);
    }
    ctx.output.one(&artifact, ARTIFACT)?;
    println!();
    let layers = Page {
        total: artifact.layers.len() as i64,
        items: artifact.layers,
        next_cursor: None,
    };
    ctx.output.list(&layers, LAYER)
}

/// The digest tag `tag` of a repository points at.
pub(super) async fn digest_of_tag(
    ctx: &Context,
    workspace: &str,
    registry: &str,
    repository: &str,
    tag: &str,
) -> anyhow::Result<String> {
    // The tag list searches by substring; the exact name picks the one meant.
    let search = TagFilters {
        q: Some(tag.to_string()),
        sort: None,
    };
    let tags = ctx
        .client
        .image_tags(workspace, registry, repository, &search, Some(500))
        .await?;
    tags.items
        .into_iter()
        .find(|t| t.name == tag)
        .map(|t| t.digest)
        .with_context(|| format!("`{repository}` has no tag `{tag}`"))
}

async fn tags(ctx: &Context, args: TagsArgs) -> anyhow::Result<()> {
    let (workspace, repository, registry) = &args.repository.resolve()?;
    let tags = ctx
        .client
        .image_tags(
            workspace,
            registry,
            repository,
            &TagFilters {
                q: args.q,
                sort: args.sort,
            },
            Some(args.limit),
        )
        .await?;
    ctx.output.list(&tags, TAG)
}

async fn delete(ctx: &Context, args: DeleteArgs) -> anyhow::Result<()> {
    let (workspace, repository, registry) = &args.repository.resolve()?;
    let client = &ctx.client;
    let what = if let Some(tag) = &args.tag {
        client
            .delete_image_tag(workspace, registry, repository, tag)
            .await?;
        format!("tag {repository}:{tag}")
    } else if let Some(digest) = &args.digest {
        client
            .delete_artifact(workspace, registry, repository, digest)
            .await?;
        format!("artifact {repository}@{digest}")
    } else {
        let confirm = args.confirm.as_deref().unwrap_or_default();
        client
            .delete_repository(workspace, registry, repository, confirm)
            .await?;
        format!("repository {repository}")
    };
    if ctx.output == Output::Json {
        return super::output::print_json(&serde_json::json!({ "deleted": what }));
    }
    println!("deleted {what}");
    Ok(())
}

/// `berth select`: deployable references for a workspace.
#[derive(Debug, Args)]
pub struct SelectArgs {
    #[command(flatten)]
    pub workspace: InWorkspace,
    /// Part of a repository path, or `repo:tag` to match tags too [default: everything].
    pub query: Option<String>,
    /// How many references to show (1–100).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

pub async fn select(ctx: &Context, args: SelectArgs) -> anyhow::Result<()> {
    let (workspace, query) = args.workspace.resolve_with(args.query)?;
    let items = ctx
        .client
        .select(
            &workspace,
            &SelectorParams {
                q: query,
                limit: Some(args.limit),
            },
        )
        .await?;
    let list = Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    };
    ctx.output.list(&list, SELECTION)
}

// --- upload ----------------------------------------------------------------------------------

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The tarball: `docker save` output or an OCI image layout, `.tar` or `.tar.gz`.
    pub file: PathBuf,
    /// The workspace to push for; it must be bound to the space.
    #[arg(long, short = 'w', value_name = WORKSPACE)]
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
    bytes("SIZE", "size"),
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
        params: UploadParams {
            repository: args.repository,
            tag: args.tag,
        },
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
