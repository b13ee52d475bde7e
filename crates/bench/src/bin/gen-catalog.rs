//! `gen-catalog`: fills an empty Berth database with a large, realistic deployment through
//! `berth-store` (the same schema, migrations and writes Berth uses). Run it through
//! `scripts/gen-catalog`, whose header describes the shape; `berth_bench::plan` and
//! `berth_bench::history` decide it.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use berth_bench::history::{self, Build, Content, Profile};
use berth_bench::plan::{Plan, Sizes, BENCH_USER};
use berth_oci::{Digest, ImageConfig, Manifest, RepoName, Tag};
use berth_store::audit::NewAuditEvent;
use berth_store::hosted::{ChildRecord, NewManifest, Platform, PullKey};
use berth_store::registry_records::{NewRegistry, RegistryOwner};
use berth_store::repositories::{SyncedRepository, SyncedTag};
use berth_store::users::NewUser;
use berth_store::{Backend, Store};
use clap::Parser;
use futures::stream::{self, StreamExt, TryStreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// Who the audit log says made the deployment.
const ACTOR: &str = "gen-catalog";

/// Substrings searched for in repository names (`q`); those found in public repositories
/// are handed to the benchmark.
const Q_TERMS: &[&str] = &[
    "api",
    "pay",
    "worker",
    "gate",
    "auth",
    "ingest",
    "ml",
    "search",
    "web",
    "export",
    "sched",
    "notif",
    "ledger",
    "front",
    "model",
    "etl",
    "proxy",
    "cache",
    "index",
    "report",
    "bff",
    "kafka",
    "postgres",
    "redis",
    "e2e",
    "grpc",
    "team-",
    "base",
    "tools",
    "service",
    "engine",
    "fraud",
    "billing",
    "stream",
    "agent",
    "operator",
    "sdk",
    "/backend/",
    "data",
    "ranker",
];
/// Substrings searched for in tag names (`tag`).
const TAG_TERMS: &[&str] = &[
    "alpine", "1.4", "2.1", "sha-3f", "sha-a0", "2026.0", "2025.1", "main-12", "main-4", "pr-8",
    "pr-1", "rc.", "v1.", "v3.", "0.9", "latest", "-alpine", "12.",
];

/// Fills a Berth database with a large catalog through the store. The shape is described in
/// scripts/gen-catalog.
#[derive(Debug, Parser)]
#[command(name = "gen-catalog")]
struct Args {
    /// The database: sqlite://PATH, postgres://…, or a path to a SQLite file.
    database: String,
    #[arg(long, default_value_t = 1_000)]
    workspaces: usize,
    /// Registries including `hosted`: about 3/4 of the others are platform registries, the
    /// rest workspace registries.
    #[arg(long, default_value_t = 20)]
    registries: usize,
    /// Spaces including `hosted`'s `library`.
    #[arg(long, default_value_t = 10_000)]
    spaces: usize,
    #[arg(long, default_value_t = 100_000)]
    repositories: usize,
    #[arg(long, default_value_t = 1_000_000)]
    tags: usize,
    /// Repositories pushed to `hosted` (blob links and manifest PUTs, as a push writes them).
    #[arg(long, default_value_t = 2_000)]
    hosted_repositories: usize,
    /// Tags of `library/ci-runner`, the one repository with very many tags.
    #[arg(long, default_value_t = 10_000)]
    big_repository_tags: usize,
    /// Workspaces the `bench` user is a viewer of.
    #[arg(long, default_value_t = 100)]
    bench_workspaces: usize,
    /// The password of every user made (`bench`, `alice`, `bob`, `carol`, `dave`, `erin`).
    #[arg(long, default_value = "bench-password")]
    password: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write what a benchmark needs to know (users, workspaces, search terms).
    #[arg(long, default_value = "gen-catalog.json")]
    out: PathBuf,
    /// Writes in flight at once (default: 8 on PostgreSQL, 2 on SQLite, whose single writer
    /// takes them in turn while the next batch is being generated).
    #[arg(long)]
    concurrency: Option<usize>,
    /// External repositories per sync call (one transaction each).
    #[arg(long, default_value_t = 200)]
    sync_batch: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let sizes = Sizes {
        workspaces: args.workspaces,
        registries: args.registries,
        spaces: args.spaces,
        repositories: args.repositories,
        tags: args.tags,
        hosted_repositories: args.hosted_repositories,
        big_repository_tags: args.big_repository_tags,
        bench_workspaces: args.bench_workspaces,
        seed: args.seed,
    };
    sizes.check().map_err(anyhow::Error::msg)?;
    if args.password.len() < 8 {
        bail!("--password must be at least 8 bytes, as Berth requires");
    }
    let url = if args.database.contains("://") || args.database.starts_with("sqlite:") {
        args.database.clone()
    } else {
        format!("sqlite://{}", args.database)
    };
    let started = Instant::now();
    let mut phases: Vec<(&str, Duration)> = Vec::new();
    let mut phase = Instant::now();
    let mut done = |name: &'static str, phase: &mut Instant| {
        let took = phase.elapsed();
        progress(&format!("{name}: {:.1} s", took.as_secs_f64()));
        phases.push((name, took));
        *phase = Instant::now();
    };

    let store = Store::connect(&url)
        .await
        .with_context(|| format!("opening {}", redact(&url)))?;
    if store.workspaces(None, "", 1).await?.total > 0
        || !store.catalog_repositories_after(0, 1).await?.is_empty()
    {
        bail!(
            "{} already holds workspaces or repositories; gen-catalog fills an empty deployment",
            redact(&url)
        );
    }
    let concurrency = args.concurrency.unwrap_or(match store.backend() {
        Backend::Postgres => 8,
        Backend::Sqlite => 2,
    });
    done("migrate", &mut phase);

    let plan = Arc::new(Plan::new(&sizes).map_err(anyhow::Error::msg)?);
    done("plan", &mut phase);

    let ids = write_tenancy(&store, &plan, concurrency).await?;
    done("tenancy", &mut phase);
    write_users(&store, &plan, &ids, &args.password).await?;
    done("users", &mut phase);

    let now = berth_store::now_millis();
    let hosted = push_hosted(&store, &plan, concurrency, now).await?;
    done("hosted pushes", &mut phase);
    let synced = sync_external(&store, &plan, &ids, concurrency, args.sync_batch, now).await?;
    done("external syncs", &mut phase);
    let pulls = record_pulls(&store, &plan, &hosted, &synced, args.seed).await?;
    done("pull counts", &mut phase);
    store.close().await;

    // What the benchmark needs.
    let mut public_names: Vec<&str> = Vec::new();
    let mut public_tags: HashSet<&str> = HashSet::new();
    for (name, tags) in hosted.public.iter().chain(&synced.public) {
        public_names.push(name);
        public_tags.extend(tags.iter().map(String::as_str));
    }
    let hits = |term: &str, haystack: &mut dyn Iterator<Item = &&str>| {
        haystack.filter(|s| s.contains(term)).count()
    };
    let q_terms: Vec<(&str, usize)> = Q_TERMS
        .iter()
        .map(|&t| (t, hits(t, &mut public_names.iter())))
        .filter(|(_, n)| *n >= 3)
        .collect();
    let tag_terms: Vec<(&str, usize)> = TAG_TERMS
        .iter()
        .map(|&t| (t, hits(t, &mut public_tags.iter())))
        .filter(|(_, n)| *n >= 3)
        .collect();
    let bench_workspaces: Vec<&str> = plan
        .bench_workspaces
        .iter()
        .map(|&w| plan.workspaces[w].as_str())
        .collect();
    let other_workspaces: Vec<&str> = plan
        .workspaces
        .iter()
        .filter(|w| !bench_workspaces.contains(&w.as_str()))
        .take(100)
        .map(String::as_str)
        .collect();
    let big = &plan.repositories[plan.big_repository];
    let totals = Totals {
        workspaces: plan.workspaces.len(),
        registries: plan.registries.len(),
        spaces: plan.spaces.len(),
        public_spaces: plan
            .spaces
            .iter()
            .filter(|s| s.public && plan.registries[s.registry].owner.is_none())
            .count(),
        bindings: plan.bindings.iter().map(|(_, w)| w.len()).sum(),
        repositories: plan.repositories.len(),
        tags: hosted.tags + synced.tags,
        artifacts: hosted.artifacts + synced.artifacts,
    };
    let users: Vec<serde_json::Value> = plan
        .users
        .iter()
        .map(|u| {
            json!({
                "username": u.username,
                "memberships": u.memberships.iter()
                    .map(|&(w, role)| json!({ "workspace": plan.workspaces[w], "role": role }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let document = json!({
        "database": redact(&url),
        "seed": args.seed,
        "totals": {
            "workspaces": totals.workspaces,
            "registries": totals.registries,
            "spaces": totals.spaces,
            "public_spaces": totals.public_spaces,
            "bindings": totals.bindings,
            "repositories": totals.repositories,
            "hosted_repositories": hosted.repositories,
            "tags": totals.tags,
            "artifacts": totals.artifacts,
            "public_repositories": public_names.len(),
        },
        "password": args.password,
        "bench_user": BENCH_USER,
        "users": users,
        "bench_workspaces": bench_workspaces,
        "other_workspaces": other_workspaces,
        "big_repository": {
            "registry": "hosted",
            "space": "library",
            "repository": big.name,
            "tags": big.tags,
        },
        "q_terms": q_terms.iter().map(|(t, _)| t).collect::<Vec<_>>(),
        "tag_terms": tag_terms.iter().map(|(t, _)| t).collect::<Vec<_>>(),
        "public_hits": {
            "q": q_terms.iter().map(|(t, n)| json!([t, n])).collect::<Vec<_>>(),
            "tag": tag_terms.iter().map(|(t, n)| json!([t, n])).collect::<Vec<_>>(),
        },
    });
    std::fs::write(&args.out, serde_json::to_vec_pretty(&document)?)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let elapsed = started.elapsed();

    let platform = plan
        .registries
        .iter()
        .filter(|r| r.owner.is_none() && r.kind != "hosted")
        .count();
    println!("gen-catalog: {}", redact(&url));
    println!("  workspaces      {:>9}", totals.workspaces);
    println!(
        "  registries      {:>9}  (hosted, {platform} platform, {} workspace registries)",
        totals.registries,
        totals.registries - 1 - platform
    );
    println!(
        "  spaces          {:>9}  ({} public platform spaces)",
        totals.spaces, totals.public_spaces
    );
    println!(
        "  bindings        {:>9}  ({} spaces bound)",
        totals.bindings,
        plan.bindings.len()
    );
    println!(
        "  users           {:>9}  ({} memberships; `{BENCH_USER}` in {} workspaces; password `{}`)",
        plan.users.len(),
        plan.users
            .iter()
            .map(|u| u.memberships.len())
            .sum::<usize>(),
        plan.bench_workspaces.len(),
        args.password
    );
    println!(
        "  repositories    {:>9}  ({} hosted, pushed; {} external, synced; {} public)",
        totals.repositories,
        hosted.repositories,
        synced.repositories,
        public_names.len()
    );
    println!("  tags            {:>9}", totals.tags);
    println!("  artifacts       {:>9}", totals.artifacts);
    println!("  pull counts     {:>9}  repositories", pulls);
    println!(
        "  big repository  hosted {} ({} tags, public space `library`)",
        big.name, big.tags
    );
    println!("  written         {}", args.out.display());
    println!(
        "  elapsed         {:.1} s  ({})",
        elapsed.as_secs_f64(),
        phases
            .iter()
            .map(|(name, took)| format!("{name} {:.1} s", took.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

struct Totals {
    workspaces: usize,
    registries: usize,
    spaces: usize,
    public_spaces: usize,
    bindings: usize,
    repositories: usize,
    tags: usize,
    artifacts: usize,
}

fn progress(message: &str) {
    eprintln!(
        "[gen-catalog {}] {message}",
        history::rfc3339(berth_store::now_millis())
            .get(11..19)
            .unwrap_or("")
    );
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

fn event<'a>(action: &'a str, target: &'a str, workspace: Option<&'a str>) -> NewAuditEvent<'a> {
    NewAuditEvent {
        actor: ACTOR,
        action,
        target,
        workspace,
        ..Default::default()
    }
}

/// Database ids of what the plan names, by plan index.
struct Ids {
    workspaces: Vec<i64>,
    registries: Vec<i64>,
}

/// Runs `work` on every item, `concurrency` at a time on the runtime's threads, and returns
/// the results in any order.
async fn run_all<I, T, F, Fut>(items: I, concurrency: usize, work: F) -> anyhow::Result<Vec<T>>
where
    I: IntoIterator,
    F: Fn(I::Item) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    stream::iter(items)
        .map(|item| {
            let task = tokio::spawn(work(item));
            async move { task.await.context("a writer task panicked")? }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await
}

async fn write_tenancy(store: &Store, plan: &Arc<Plan>, concurrency: usize) -> anyhow::Result<Ids> {
    // Workspaces.
    let created = run_all(0..plan.workspaces.len(), concurrency, |w| {
        let (store, plan) = (store.clone(), plan.clone());
        async move {
            let name = &plan.workspaces[w];
            let target = format!("workspace/{name}");
            let description = format!("The {name} team");
            let record = store
                .create_workspace(
                    name,
                    &description,
                    &event("workspace.create", &target, Some(name)),
                )
                .await?;
            Ok((w, record.id))
        }
    })
    .await?;
    let mut workspaces = vec![0; plan.workspaces.len()];
    for (w, id) in created {
        workspaces[w] = id;
    }
    progress(&format!("{} workspaces", workspaces.len()));

    // Registries.
    let mut registries = vec![store.hosted_registry_id()];
    for registry in plan.registries.iter().skip(1) {
        let (owner, target, workspace) = match registry.owner {
            None => (
                RegistryOwner::Platform,
                format!("registry/{}", registry.name),
                None,
            ),
            Some(w) => (
                RegistryOwner::Workspace(workspaces[w]),
                format!(
                    "workspace/{}/registry/{}",
                    plan.workspaces[w], registry.name
                ),
                Some(plan.workspaces[w].as_str()),
            ),
        };
        let record = store
            .create_registry(
                NewRegistry {
                    owner,
                    name: &registry.name,
                    kind: registry.kind,
                    url: &registry.url,
                    username: "",
                    secret: None,
                    insecure: false,
                    description: "",
                    // Generated catalogs name no real registry: never sync them.
                    follow: "",
                    sync_interval_seconds: Some(0),
                },
                &event("registry.create", &target, workspace),
            )
            .await?;
        registries.push(record.id);
    }
    progress(&format!("{} registries", registries.len()));

    // Spaces; `library` is there already.
    let library = store
        .space(store.hosted_registry_id(), "library")
        .await?
        .context("the migrations made no `library` space")?;
    let registry_ids = Arc::new(registries.clone());
    let created = run_all(1..plan.spaces.len(), concurrency, |s| {
        let (store, plan, registry_ids) = (store.clone(), plan.clone(), registry_ids.clone());
        async move {
            let space = &plan.spaces[s];
            let registry = &plan.registries[space.registry];
            let target = format!("space/{}/{}", registry.name, space.name);
            let row = store
                .create_space(
                    registry_ids[space.registry],
                    &space.name,
                    space.public,
                    &space.description,
                    &event("space.create", &target, None),
                )
                .await?;
            Ok((s, row.id))
        }
    })
    .await?;
    let mut spaces = vec![library.id; plan.spaces.len()];
    for (s, id) in created {
        spaces[s] = id;
    }
    progress(&format!("{} spaces", spaces.len()));

    // Bindings.
    let space_ids = Arc::new(spaces.clone());
    run_all(0..plan.bindings.len(), concurrency, |b| {
        let (store, plan, space_ids) = (store.clone(), plan.clone(), space_ids.clone());
        async move {
            let (space, bound) = &plan.bindings[b];
            let names: Vec<String> = bound.iter().map(|&w| plan.workspaces[w].clone()).collect();
            let registry = &plan.registries[plan.spaces[*space].registry];
            let target = format!("space/{}/{}", registry.name, plan.spaces[*space].name);
            store
                .set_bindings(
                    space_ids[*space],
                    &names,
                    &event("binding.set", &target, None),
                )
                .await?;
            Ok(())
        }
    })
    .await?;
    progress(&format!("{} spaces bound", plan.bindings.len()));
    Ok(Ids {
        workspaces,
        registries,
    })
}

async fn write_users(store: &Store, plan: &Plan, ids: &Ids, password: &str) -> anyhow::Result<()> {
    for user in &plan.users {
        let hash = berth_identity::passwords::hash(password).await?;
        let target = format!("user/{}", user.username);
        let email = format!("{}@example.com", user.username);
        let created = store
            .create_user_audited(
                NewUser {
                    username: &user.username,
                    password_hash: &hash,
                    email: Some(&email),
                    is_admin: false,
                },
                &event("user.create", &target, None),
            )
            .await?;
        for &(w, role) in &user.memberships {
            let workspace = &plan.workspaces[w];
            let target = format!("workspace/{workspace}/member/{}", user.username);
            store
                .set_member(
                    ids.workspaces[w],
                    created.id,
                    role,
                    &event("member.set", &target, Some(workspace)),
                )
                .await?;
        }
    }
    Ok(())
}

/// What the hosted pushes wrote.
#[derive(Default)]
struct Hosted {
    repositories: usize,
    tags: usize,
    artifacts: usize,
    /// The newest tagged artifact of each repository, by plan index.
    newest: Vec<(usize, i64)>,
    /// Names and tags of repositories in public spaces.
    public: Vec<(String, Vec<String>)>,
}

/// Pushes the hosted repositories as a client would leave them: blobs linked, then each
/// build's manifests (children first), the tagged one with its tags. Tags get the time of
/// the push, as they do on a real registry; the image configs carry the planned times.
async fn push_hosted(
    store: &Store,
    plan: &Arc<Plan>,
    concurrency: usize,
    now: i64,
) -> anyhow::Result<Hosted> {
    let hosted: Vec<usize> = (0..plan.repositories.len())
        .filter(|&r| plan.is_hosted(r))
        .collect();
    let pushers: Arc<HashMap<usize, String>> = Arc::new(
        plan.bindings
            .iter()
            .map(|(space, bound)| (*space, format!("robot${}+ci", plan.workspaces[bound[0]])))
            .collect(),
    );
    let total = hosted.len();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // The big repository comes first: its thousands of pushes are one after the other.
    let results = run_all(hosted, concurrency, |r| {
        let (store, plan, pushers, done) =
            (store.clone(), plan.clone(), pushers.clone(), done.clone());
        async move {
            let repository = &plan.repositories[r];
            let pushed_by = pushers
                .get(&repository.space)
                .map(String::as_str)
                .unwrap_or("admin");
            let result =
                push_repository(&store, repository, r == plan.big_repository, pushed_by, now)
                    .await
                    .with_context(|| format!("pushing hosted {}", repository.name))?;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if n % (total / 10).max(1) == 0 {
                progress(&format!("hosted: {n} of {total} repositories pushed"));
            }
            Ok((r, result))
        }
    })
    .await?;
    let mut out = Hosted::default();
    for (r, (tags, artifacts, newest, tag_names)) in results {
        out.repositories += 1;
        out.tags += tags;
        out.artifacts += artifacts;
        out.newest.push((r, newest));
        if plan.is_public(r) {
            out.public
                .push((plan.repositories[r].name.clone(), tag_names));
        }
    }
    Ok(out)
}

/// Pushes one repository; returns its tag and artifact counts, the newest tagged artifact's
/// id and the tag names.
async fn push_repository(
    store: &Store,
    repository: &berth_bench::plan::RepositoryPlan,
    big: bool,
    pushed_by: &str,
    now: i64,
) -> anyhow::Result<(usize, usize, i64, Vec<String>)> {
    let profile = Profile::new(&repository.name, repository.seed, big, false);
    let builds = history::builds(&profile, repository.seed, repository.tags, now);
    let name = RepoName::parse(&repository.name)?;
    let mut linked: HashSet<String> = HashSet::new();
    let (mut tags, mut artifacts, mut newest) = (0, 0, 0);
    let mut tag_names = Vec::new();
    for build in &builds {
        let content = history::content(&profile, &repository.name, repository.seed, build);
        let tagged: Vec<Tag> = build
            .tags
            .iter()
            .map(|t| Tag::parse(t))
            .collect::<Result<_, _>>()?;
        for image in &content.images {
            let blobs = std::iter::once((&image.config_digest, image.config.len() as i64))
                .chain(image.layers.iter().map(|l| (&l.digest, l.size)));
            for (digest, size) in blobs {
                if linked.insert(digest.clone()) {
                    store
                        .link_blob(&name, &Digest::parse(digest)?, size as u64)
                        .await?;
                }
            }
            let parsed = Manifest::parse(Some(image.media_type), &image.manifest)?;
            let config = ImageConfig::parse(&image.config).map_err(anyhow::Error::msg)?;
            let image_tags: &[Tag] = if content.index.is_some() {
                &[]
            } else {
                &tagged
            };
            let stored = store
                .put_manifest(NewManifest {
                    repository: &name,
                    digest: &Digest::parse(&image.digest)?,
                    bytes: &image.manifest,
                    manifest: &parsed,
                    config: Some(&config),
                    tags: image_tags,
                    pushed_by,
                })
                .await?;
            artifacts += 1;
            newest = stored.artifact_id;
        }
        if let Some(index) = &content.index {
            let parsed = Manifest::parse(Some(index.media_type), &index.manifest)?;
            let stored = store
                .put_manifest(NewManifest {
                    repository: &name,
                    digest: &Digest::parse(&index.digest)?,
                    bytes: &index.manifest,
                    manifest: &parsed,
                    config: None,
                    tags: &tagged,
                    pushed_by,
                })
                .await?;
            artifacts += 1;
            newest = stored.artifact_id;
        }
        tags += build.tags.len();
        tag_names.extend(build.tags.iter().cloned());
    }
    Ok((tags, artifacts, newest, tag_names))
}

/// What the syncs wrote.
#[derive(Default)]
struct Synced {
    repositories: usize,
    tags: usize,
    artifacts: usize,
    /// Repositories of Harbor registries to give pull counts: registry id, name, digest of
    /// the newest build.
    harbor_newest: Vec<(i64, String, String)>,
    public: Vec<(String, Vec<String>)>,
}

/// Writes every external repository through `sync_repositories`, as a registry sync would,
/// `batch` repositories per call.
async fn sync_external(
    store: &Store,
    plan: &Arc<Plan>,
    ids: &Ids,
    concurrency: usize,
    batch: usize,
    now: i64,
) -> anyhow::Result<Synced> {
    let mut by_registry: HashMap<usize, Vec<usize>> = HashMap::new();
    for r in 0..plan.repositories.len() {
        if !plan.is_hosted(r) {
            let registry = plan.spaces[plan.repositories[r].space].registry;
            by_registry.entry(registry).or_default().push(r);
        }
    }
    let mut batches: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut registries: Vec<usize> = by_registry.keys().copied().collect();
    registries.sort_unstable();
    for registry in registries {
        for chunk in by_registry[&registry].chunks(batch.max(1)) {
            batches.push((registry, chunk.to_vec()));
        }
    }
    let total = batches.len();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let registry_ids = Arc::new(ids.registries.clone());
    let results = run_all(batches, concurrency, |(registry, repositories)| {
        let (store, plan, registry_ids, done) = (
            store.clone(),
            plan.clone(),
            registry_ids.clone(),
            done.clone(),
        );
        async move {
            let generated = {
                let plan = plan.clone();
                let repositories = repositories.clone();
                tokio::task::spawn_blocking(move || generate_synced(&plan, &repositories, now))
                    .await?
            };
            store
                .sync_repositories(registry_ids[registry], &generated.listing)
                .await
                .with_context(|| format!("syncing into {}", plan.registries[registry].name))?;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if n % (total / 10).max(1) == 0 {
                progress(&format!("external: {n} of {total} sync batches written"));
            }
            Ok((registry, generated))
        }
    })
    .await?;
    let mut out = Synced::default();
    let mut rng = StdRng::seed_from_u64(plan.repositories.len() as u64);
    for (registry, generated) in results {
        let harbor = plan.registries[registry].kind == "harbor";
        out.repositories += generated.listing.len();
        out.tags += generated
            .listing
            .iter()
            .map(|r| r.tags.len())
            .sum::<usize>();
        out.artifacts += generated.artifacts;
        for (synced, newest) in generated.listing.iter().zip(&generated.newest) {
            // Harbor reports pull counts; a sample of its repositories gets some.
            if harbor && rng.gen_bool(0.05) {
                out.harbor_newest.push((
                    ids.registries[registry],
                    synced.name.clone(),
                    newest.clone(),
                ));
            }
        }
        out.public.extend(generated.public);
    }
    Ok(out)
}

struct Generated {
    listing: Vec<SyncedRepository>,
    /// The newest build's digest of each listed repository.
    newest: Vec<String>,
    artifacts: usize,
    public: Vec<(String, Vec<String>)>,
}

fn generate_synced(plan: &Plan, repositories: &[usize], now: i64) -> Generated {
    let mut generated = Generated {
        listing: Vec::with_capacity(repositories.len()),
        newest: Vec::with_capacity(repositories.len()),
        artifacts: 0,
        public: Vec::new(),
    };
    for &r in repositories {
        let repository = &plan.repositories[r];
        let registry = &plan.registries[plan.spaces[repository.space].registry];
        let profile = Profile::new(
            &repository.name,
            repository.seed,
            false,
            registry.kind == "distribution",
        );
        let builds = history::builds(&profile, repository.seed, repository.tags, now);
        let mut tags = Vec::with_capacity(repository.tags);
        let mut newest = String::new();
        for build in &builds {
            let content = history::content(&profile, &repository.name, repository.seed, build);
            newest = content.digest().to_string();
            synced_tags(&content, build, &mut tags);
            generated.artifacts += 1;
        }
        if plan.is_public(r) {
            let names = tags.iter().map(|t: &SyncedTag| t.name.clone()).collect();
            generated.public.push((repository.name.clone(), names));
        }
        let mut rng = StdRng::seed_from_u64(repository.seed);
        let description = if rng.gen_bool(0.3) {
            format!(
                "`{}` of the {} team.",
                profile.service,
                berth_oci::space_of(&repository.name)
            )
        } else {
            String::new()
        };
        generated.listing.push(SyncedRepository {
            name: repository.name.clone(),
            description,
            tags,
        });
        generated.newest.push(newest);
    }
    generated
}

/// The tags of one build as a sync reads them. Only the first carries the manifest bytes:
/// the store describes an artifact by the first tag naming its digest.
fn synced_tags(content: &Content, build: &Build, out: &mut Vec<SyncedTag>) {
    let (digest, media_type, manifest, size, platform, children) = match &content.index {
        Some(index) => (
            &index.digest,
            index.media_type,
            &index.manifest,
            index.size,
            Platform {
                os: None,
                architecture: None,
                variant: None,
            },
            content
                .images
                .iter()
                .map(|image| ChildRecord {
                    digest: image.digest.clone(),
                    media_type: image.media_type.into(),
                    size: image.manifest.len() as i64,
                    platform: platform_of(image),
                })
                .collect(),
        ),
        None => {
            let image = &content.images[0];
            (
                &image.digest,
                image.media_type,
                &image.manifest,
                image.size,
                platform_of(image),
                Vec::new(),
            )
        }
    };
    for (i, name) in build.tags.iter().enumerate() {
        out.push(SyncedTag {
            name: name.clone(),
            digest: digest.clone(),
            media_type: media_type.into(),
            manifest: if i == 0 { manifest.clone() } else { Vec::new() },
            size,
            pushed_at: build.pushed_at,
            platform: platform.clone(),
            children: if i == 0 { children.clone() } else { Vec::new() },
            pushed_at_known: true,
            facts: Default::default(),
        });
    }
}

fn platform_of(image: &history::Image) -> Platform {
    Platform {
        os: Some(image.os.into()),
        architecture: Some(image.architecture.into()),
        variant: image.variant.map(Into::into),
    }
}

/// Pull counts, heavy-tailed: every hosted repository's newest artifact, the big repository
/// most of all, and a sample of Harbor repositories. Returns how many repositories got some.
async fn record_pulls(
    store: &Store,
    plan: &Plan,
    hosted: &Hosted,
    synced: &Synced,
    seed: u64,
) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x9011);
    let count = |rng: &mut StdRng| (3.0 * rng.gen_range(0.0005f64..1.0).powf(-1.3)) as i64 + 1;
    let mut pulls: HashMap<PullKey, i64> = HashMap::new();
    for &(r, artifact_id) in &hosted.newest {
        let n = if r == plan.big_repository {
            250_000
        } else {
            count(&mut rng)
        };
        pulls.insert(
            PullKey {
                artifact_id,
                tag: Some("latest".into()),
            },
            n,
        );
    }
    for (registry_id, name, digest) in &synced.harbor_newest {
        let artifact = store
            .artifact_in(*registry_id, name, &Digest::parse(digest)?)
            .await?
            .with_context(|| format!("synced {name}@{digest} is missing"))?;
        pulls.insert(
            PullKey {
                artifact_id: artifact.id,
                tag: Some("latest".into()),
            },
            count(&mut rng),
        );
    }
    let repositories = pulls.len();
    store
        .record_pulls(&pulls, berth_store::now_millis())
        .await?;
    Ok(repositories)
}
