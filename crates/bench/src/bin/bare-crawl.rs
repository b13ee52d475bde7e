//! `bare-crawl`: the network work of a registry sync and nothing else, as the peer
//! `scripts/bench-sync` measures Berth's sync against. It lists `/v2/_catalog` (paged), then,
//! `--concurrency` repositories at once, lists each repository's tags, GETs each tag's manifest
//! and GETs each distinct image config. Nothing is stored.
//!
//! It talks through `berth_remote::DistributionClient` with Berth's default client settings
//! (the same HTTP stack, page size and per-registry request limit as a sync), so the difference
//! between the two is what Berth does besides the requests it needs.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use berth_oci::{Digest, ManifestKind};
use berth_remote::{DistributionClient, Endpoint, RemoteRegistry, Settings};
use clap::{Parser, ValueEnum};
use futures::stream::{self, StreamExt, TryStreamExt};

/// Image configs larger than this are refused, as the sync refuses them.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

#[derive(Debug, Parser)]
#[command(name = "bare-crawl")]
struct Args {
    /// The registry's base URL, e.g. http://127.0.0.1:5000.
    url: url::Url,
    /// Repositories crawled at once; also the client's limit of requests in flight.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Where a config digest counts as seen: once per registry (the least a crawler needs,
    /// as blobs are content-addressed), or once per repository.
    #[arg(long, value_enum, default_value_t = ConfigScope::Registry)]
    configs: ConfigScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ConfigScope {
    Registry,
    Repository,
}

impl ConfigScope {
    fn as_str(self) -> &'static str {
        match self {
            ConfigScope::Registry => "registry",
            ConfigScope::Repository => "repository",
        }
    }
}

/// Requests made, by kind.
#[derive(Debug, Default)]
struct Counts {
    tag_lists: AtomicU64,
    tags: AtomicU64,
    manifests: AtomicU64,
    configs: AtomicU64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let concurrency = args.concurrency.max(1);
    let settings = Settings {
        max_concurrency: concurrency,
        ..Settings::default()
    };
    let client = Arc::new(DistributionClient::new(
        Endpoint::new(args.url.clone()),
        settings,
    )?);
    let started = Instant::now();
    let names = client.repositories().await.context("listing the catalog")?;
    let listed = started.elapsed();

    let counts = Arc::new(Counts::default());
    let seen_configs: Arc<Mutex<HashSet<Digest>>> = Arc::default();
    let repositories = names.len();
    stream::iter(names)
        .map(|name| {
            let client = client.clone();
            let counts = counts.clone();
            let seen_configs = seen_configs.clone();
            async move {
                crawl(&client, &name, &counts, &seen_configs, args.configs)
                    .await
                    .with_context(|| format!("repository {name}"))
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    let elapsed = started.elapsed();

    let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
    // Besides the catalog's pages, which the client pages through on its own.
    let requests = load(&counts.tag_lists) + load(&counts.manifests) + load(&counts.configs);
    // One line of key=value pairs, which scripts/bench-sync parses.
    println!(
        "BARE elapsed_ms={} listing_ms={} repositories={repositories} tags={} \
         tag_lists={} manifests={} configs={} requests={requests} concurrency={concurrency} \
         configs_per={}",
        elapsed.as_millis(),
        listed.as_millis(),
        load(&counts.tags),
        load(&counts.tag_lists),
        load(&counts.manifests),
        load(&counts.configs),
        args.configs.as_str(),
    );
    Ok(())
}

/// One repository: its tags, each tag's manifest (an index's children too), and the configs
/// not seen yet in `scope`. Requests go one after another: the repositories crawled at once
/// are what keeps `--concurrency` requests in flight.
async fn crawl(
    client: &DistributionClient,
    name: &str,
    counts: &Counts,
    seen_configs: &Mutex<HashSet<Digest>>,
    scope: ConfigScope,
) -> anyhow::Result<()> {
    let tags = client.tags(name).await?;
    counts.tag_lists.fetch_add(1, Ordering::Relaxed);
    counts.tags.fetch_add(tags.len() as u64, Ordering::Relaxed);
    let mut local_configs: HashSet<Digest> = HashSet::new();
    let mut seen_children: HashSet<Digest> = HashSet::new();
    for tag in &tags {
        let fetched = client.manifest(name, tag).await?;
        counts.manifests.fetch_add(1, Ordering::Relaxed);
        let manifest = fetched
            .parse()
            .with_context(|| format!("{name}:{tag} is not a manifest"))?;
        match manifest.kind {
            ManifestKind::Index => {
                // A sync reads an index's children to weigh the index; so does the peer.
                for child in &manifest.children {
                    if seen_children.insert(child.descriptor.digest.clone()) {
                        let digest = child.descriptor.digest.to_string();
                        client.manifest(name, &digest).await?;
                        counts.manifests.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            ManifestKind::Image => {
                let Some(config) = manifest.config else {
                    continue;
                };
                let first = match scope {
                    ConfigScope::Registry => seen_configs
                        .lock()
                        .expect("the config set is never poisoned")
                        .insert(config.digest.clone()),
                    ConfigScope::Repository => local_configs.insert(config.digest.clone()),
                };
                if first {
                    client
                        .blob(name, &config.digest, MAX_CONFIG_BYTES)
                        .await
                        .with_context(|| format!("{name}:{tag}: its config"))?;
                    counts.configs.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    Ok(())
}
