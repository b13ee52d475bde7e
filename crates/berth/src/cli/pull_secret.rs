//! `berth pull-secret`: a Kubernetes pull secret for a workspace, printed for
//! `kubectl apply -f -`.

use berth_client::PullSecretRequest;
use clap::Args;

use super::output::{print_json, Output};
use super::{Context, WORKSPACE};

/// How the Secret is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct PullSecretArgs {
    /// The workspace whose images the Secret pulls.
    #[arg(long, short = 'w', value_name = WORKSPACE)]
    pub workspace: String,
    /// The Kubernetes namespace the Secret is for.
    #[arg(long)]
    pub namespace: String,
    /// The Secret's name.
    #[arg(long)]
    pub name: String,
    /// yaml or json [default: yaml, or json with --output json].
    #[arg(long, value_enum)]
    pub format: Option<SecretFormat>,
}

/// `--format` when given; otherwise JSON only when `--output json` asked for it, since
/// `kubectl apply -f -` is what the Secret is for and people read YAML more easily.
pub fn format(args: &PullSecretArgs, output: Output) -> SecretFormat {
    args.format.unwrap_or(match output {
        Output::Json => SecretFormat::Json,
        Output::Table => SecretFormat::Yaml,
    })
}

pub async fn run(ctx: &Context, args: PullSecretArgs) -> anyhow::Result<()> {
    let request = PullSecretRequest {
        namespace: args.namespace.clone(),
        name: args.name.clone(),
    };
    match format(&args, ctx.output) {
        SecretFormat::Yaml => {
            let yaml = ctx
                .client
                .pull_secret_yaml(&args.workspace, &request)
                .await?;
            let yaml = yaml.expose();
            print!("{yaml}");
            if !yaml.ends_with('\n') {
                println!();
            }
        }
        SecretFormat::Json => {
            let secret = ctx.client.pull_secret(&args.workspace, &request).await?;
            print_json(&secret)?;
        }
    }
    // On stderr, so the Secret on stdout can be piped to kubectl as it is.
    eprintln!(
        "Apply with `kubectl apply -f -`. Asking again for {}/{} replaces this secret.",
        args.namespace, args.name
    );
    Ok(())
}
