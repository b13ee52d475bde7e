//! The deployment's shape, decided up front from the sizes and a seed.
//!
//! - Registries: `hosted` (index 0), then platform registries (Harbor, Distribution and OCI
//!   kinds) and a few workspace registries, each owned by one workspace.
//! - Spaces: `hosted` gets about as many as its share of repositories asks for (its `library`
//!   space, made by the migrations, is one of them), each workspace registry 1.5% of all,
//!   the platform registries the rest, the first ones more than the last. About 3% of
//!   platform spaces are public (`base-images`, `tools-ml`); workspace registry spaces are
//!   mostly private, which makes no difference to who sees them.
//! - Bindings: each workspace is bound to 5–20 private platform spaces (10 on average); most
//!   spaces have one workspace, some are shared by two or three.
//! - Repositories: spread over spaces with a heavy tail (many small spaces, a few with
//!   hundreds of repositories, some empty), named `<space>/<service>` or
//!   `<space>/<group>/<service>`. `hosted` gets its fixed share, including one repository with
//!   many tags in the public `library` space.
//! - Tags per repository: most have 1–20, a few hundreds, about one in a thousand 1,000 or
//!   more; hosted ones 1–6. The counts add up to exactly the total asked for.

use std::collections::{HashMap, HashSet};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::words::{
    DOMAINS, GROUPS, PLATFORM_REGISTRIES, PUBLIC_SPACES, SERVICES, TEAM_SUFFIXES,
    WORKSPACE_REGISTRIES,
};

/// How big a deployment to plan.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub workspaces: usize,
    /// Including `hosted`.
    pub registries: usize,
    /// Including `hosted`'s `library`.
    pub spaces: usize,
    pub repositories: usize,
    pub tags: usize,
    /// Repositories pushed to `hosted`, including the big one.
    pub hosted_repositories: usize,
    /// Tags of the one big repository in `library`.
    pub big_repository_tags: usize,
    /// Workspaces the `bench` user is a member of.
    pub bench_workspaces: usize,
    pub seed: u64,
}

impl Sizes {
    /// Refuses sizes that cannot be planned, naming the option.
    pub fn check(&self) -> Result<(), String> {
        let rule = |ok: bool, message: &str| if ok { Ok(()) } else { Err(message.to_string()) };
        rule(self.workspaces >= 1, "--workspaces must be at least 1")?;
        rule(
            self.registries >= 2,
            "--registries must be at least 2 (hosted and one platform registry)",
        )?;
        rule(
            self.spaces >= self.registries,
            "--spaces must be at least --registries (every registry gets a space)",
        )?;
        rule(
            self.hosted_repositories >= 1,
            "--hosted-repositories must be at least 1 (the big repository)",
        )?;
        rule(
            self.repositories > self.hosted_repositories,
            "--repositories must exceed --hosted-repositories",
        )?;
        rule(
            self.big_repository_tags >= 1,
            "--big-repository-tags must be at least 1",
        )?;
        rule(
            self.tags >= self.big_repository_tags + self.repositories - 1,
            "--tags must be at least --big-repository-tags plus one per other repository",
        )?;
        rule(
            self.bench_workspaces >= 1 && self.bench_workspaces <= self.workspaces,
            "--bench-workspaces must be between 1 and --workspaces",
        )
    }
}

#[derive(Debug, Clone)]
pub struct RegistryPlan {
    pub name: String,
    /// `hosted`, `harbor`, `distribution` or `oci`.
    pub kind: &'static str,
    pub url: String,
    /// The owning workspace (an index into `Plan::workspaces`) of a workspace registry.
    pub owner: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct SpacePlan {
    /// An index into `Plan::registries`.
    pub registry: usize,
    pub name: String,
    pub public: bool,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct RepositoryPlan {
    /// An index into `Plan::spaces`.
    pub space: usize,
    /// The full path, starting with the space.
    pub name: String,
    pub tags: usize,
    /// Seeds the repository's history, independently of every other repository.
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct UserPlan {
    pub username: String,
    /// Workspace indexes with the role in each.
    pub memberships: Vec<(usize, &'static str)>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub workspaces: Vec<String>,
    /// `hosted` first.
    pub registries: Vec<RegistryPlan>,
    /// `hosted`'s `library` first; it exists already.
    pub spaces: Vec<SpacePlan>,
    /// Each bound space with its workspaces.
    pub bindings: Vec<(usize, Vec<usize>)>,
    pub repositories: Vec<RepositoryPlan>,
    /// The repository with `Sizes::big_repository_tags` tags, in `library`.
    pub big_repository: usize,
    pub users: Vec<UserPlan>,
    /// The workspaces the `bench` user belongs to, workspace registry owners first.
    pub bench_workspaces: Vec<usize>,
}

/// The name of the repository with many tags.
pub const BIG_REPOSITORY: &str = "library/ci-runner";
/// The user made for benchmarks.
pub const BENCH_USER: &str = "bench";
/// Largest number of repositories in one space (there are enough distinct names for it).
const MAX_PER_SPACE: usize = 1_000;

/// A 64-bit mix of `seed` and `n`, so each repository's randomness is its own.
pub fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Plan {
    pub fn new(sizes: &Sizes) -> Result<Plan, String> {
        sizes.check()?;
        let mut rng = StdRng::seed_from_u64(sizes.seed);
        let team_names = team_names();
        let workspaces = unique_names(&team_names, sizes.workspaces, &mut rng);

        // Registries.
        let others = sizes.registries - 1;
        let workspace_registries = (others * 5 + 9) / 19;
        let platform_registries = others - workspace_registries;
        let mut registries = vec![RegistryPlan {
            name: "hosted".into(),
            kind: "hosted",
            url: String::new(),
            owner: None,
        }];
        for i in 0..platform_registries {
            let (name, kind, url) = PLATFORM_REGISTRIES[i % PLATFORM_REGISTRIES.len()];
            let round = i / PLATFORM_REGISTRIES.len();
            let (name, url) = if round == 0 {
                (name.to_string(), url.to_string())
            } else {
                let n = round + 1;
                (
                    format!("{name}-{n}"),
                    url.replacen("://", &format!("://r{n}."), 1),
                )
            };
            registries.push(RegistryPlan {
                name,
                kind,
                url,
                owner: None,
            });
        }
        let mut owners: Vec<usize> = (0..workspaces.len()).collect();
        owners.shuffle(&mut rng);
        owners.truncate(workspace_registries.min(workspaces.len()));
        for i in 0..workspace_registries {
            let (name, kind) = WORKSPACE_REGISTRIES[i % WORKSPACE_REGISTRIES.len()];
            let owner = owners[i % owners.len()];
            let name = if i < WORKSPACE_REGISTRIES.len() {
                name.to_string()
            } else {
                format!("{name}-{}", i / WORKSPACE_REGISTRIES.len() + 1)
            };
            let url = format!("https://{name}.{}.example.com", workspaces[owner]);
            registries.push(RegistryPlan {
                name,
                kind,
                url,
                owner: Some(owner),
            });
        }

        // Spaces per registry.
        let hosted_spaces = ((sizes.spaces as f64 * sizes.hosted_repositories as f64
            / sizes.repositories as f64)
            .round() as usize)
            .clamp(1, sizes.spaces - others);
        let per_workspace_registry = if workspace_registries == 0 {
            0
        } else {
            ((sizes.spaces as f64 * 0.015 / workspace_registries as f64).round() as usize).max(1)
        };
        let platform_total = sizes
            .spaces
            .saturating_sub(hosted_spaces + per_workspace_registry * workspace_registries)
            .max(platform_registries);
        let weights: Vec<f64> = (0..platform_registries)
            .map(|i| 1.0 / ((i + 1) as f64).powf(0.7))
            .collect();
        let mut space_counts = vec![hosted_spaces];
        space_counts.extend(apportion(platform_total, &weights, 1));
        space_counts.extend(std::iter::repeat_n(
            per_workspace_registry,
            workspace_registries,
        ));
        // Rounding may have gone past the total; the largest registry gives the difference.
        let planned: usize = space_counts.iter().sum();
        if planned > sizes.spaces {
            let largest = (1..space_counts.len())
                .max_by_key(|&i| space_counts[i])
                .unwrap_or(0);
            space_counts[largest] -= (planned - sizes.spaces).min(space_counts[largest] - 1);
        }

        let public_names = public_names();
        let mut spaces = Vec::with_capacity(sizes.spaces);
        for (registry, &count) in space_counts.iter().enumerate() {
            let platform = registries[registry].owner.is_none();
            let share = if platform { 0.03 } else { 0.1 };
            let mut public = ((count as f64 * share).round() as usize).min(count);
            if registry == 0 {
                spaces.push(SpacePlan {
                    registry,
                    name: "library".into(),
                    public: true,
                    description: "Public images for every workspace".into(),
                });
                public = public.saturating_sub(1);
            }
            let taken = spaces.iter().filter(|s| s.registry == registry).count();
            let private = count - taken - public.min(count - taken);
            let mut names = unique_names(&public_names, public.min(count - taken), &mut rng);
            names.retain(|n| n != "library");
            for name in names {
                spaces.push(SpacePlan {
                    registry,
                    description: format!("Shared {name} images"),
                    name,
                    public: true,
                });
            }
            let used: HashSet<String> = spaces
                .iter()
                .filter(|s| s.registry == registry)
                .map(|s| s.name.clone())
                .collect();
            let pool: Vec<String> = team_names
                .iter()
                .filter(|n| !used.contains(*n))
                .cloned()
                .collect();
            for name in unique_names(&pool, private, &mut rng) {
                spaces.push(SpacePlan {
                    registry,
                    name,
                    public: false,
                    description: String::new(),
                });
            }
        }

        // Bindings: private spaces of platform registries, hosted included.
        let mut bindable: Vec<usize> = (0..spaces.len())
            .filter(|&s| !spaces[s].public && registries[spaces[s].registry].owner.is_none())
            .collect();
        bindable.shuffle(&mut rng);
        let mut bound: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut shareable: Vec<usize> = Vec::new();
        let mut fresh = bindable.into_iter();
        for workspace in 0..workspaces.len() {
            let wanted = 5 + (15.0 * rng.gen::<f64>().powi(2)) as usize;
            let mut mine: HashSet<usize> = HashSet::new();
            for _ in 0..wanted * 3 {
                if mine.len() == wanted {
                    break;
                }
                let share = rng.gen_bool(0.15) && !shareable.is_empty();
                let space = if share {
                    shareable[rng.gen_range(0..shareable.len())]
                } else if let Some(space) = fresh.next() {
                    space
                } else if !shareable.is_empty() {
                    shareable[rng.gen_range(0..shareable.len())]
                } else {
                    break;
                };
                if !mine.insert(space) {
                    continue;
                }
                let list = bound.entry(space).or_default();
                list.push(workspace);
                if list.len() == 1 {
                    shareable.push(space);
                } else if list.len() == 3 {
                    shareable.retain(|&s| s != space);
                }
            }
        }
        let mut bindings: Vec<(usize, Vec<usize>)> = bound.into_iter().collect();
        bindings.sort_unstable();

        // Users and memberships.
        let mut bench_workspaces: Vec<usize> = owners.clone();
        let mut rest: Vec<usize> = (0..workspaces.len())
            .filter(|w| !owners.contains(w))
            .collect();
        rest.shuffle(&mut rng);
        bench_workspaces.extend(rest);
        bench_workspaces.truncate(sizes.bench_workspaces);
        let mut users = vec![UserPlan {
            username: BENCH_USER.into(),
            memberships: bench_workspaces.iter().map(|&w| (w, "viewer")).collect(),
        }];
        for (username, count, role) in [
            ("alice", 3, "admin"),
            ("bob", 8, "editor"),
            ("carol", 15, "viewer"),
            ("dave", 1, "editor"),
            ("erin", 0, "viewer"),
        ] {
            let mut picked: Vec<usize> = (0..workspaces.len()).collect();
            picked.shuffle(&mut rng);
            picked.truncate(count);
            users.push(UserPlan {
                username: username.into(),
                memberships: picked.into_iter().map(|w| (w, role)).collect(),
            });
        }

        // Repositories: hosted ones in hosted spaces, the rest everywhere else.
        let hosted_space_ids: Vec<usize> = (0..spaces.len())
            .filter(|&s| spaces[s].registry == 0)
            .collect();
        let external_space_ids: Vec<usize> = (0..spaces.len())
            .filter(|&s| spaces[s].registry != 0)
            .collect();
        let mut per_space = vec![0usize; spaces.len()];
        for (ids, total) in [
            (&hosted_space_ids, sizes.hosted_repositories - 1),
            (
                &external_space_ids,
                sizes.repositories - sizes.hosted_repositories,
            ),
        ] {
            let weights: Vec<f64> = ids
                .iter()
                .map(|_| {
                    if rng.gen_bool(0.1) {
                        0.0
                    } else {
                        rng.gen_range(0.0005f64..1.0).powf(-1.0 / 1.6)
                    }
                })
                .collect();
            let weights = if weights.iter().all(|&w| w == 0.0) {
                vec![1.0; ids.len()]
            } else {
                weights
            };
            let counts = apportion(total, &weights, 0);
            let mut counts = cap(counts, MAX_PER_SPACE, &mut rng);
            // Tiny deployments may ask for more than the spaces hold; the rest go anywhere.
            let mut missing = total - counts.iter().sum::<usize>();
            while missing > 0 {
                let i = rng.gen_range(0..counts.len());
                counts[i] += 1;
                missing -= 1;
            }
            for (&space, count) in ids.iter().zip(counts) {
                per_space[space] = count;
            }
        }

        let mut repositories = Vec::with_capacity(sizes.repositories);
        repositories.push(RepositoryPlan {
            space: 0,
            name: BIG_REPOSITORY.into(),
            tags: sizes.big_repository_tags,
            seed: 0,
        });
        let big_repository = 0;
        for (space, &count) in per_space.iter().enumerate() {
            let mut taken: HashSet<String> = HashSet::new();
            if space == 0 {
                taken.insert(BIG_REPOSITORY.into());
            }
            for _ in 0..count {
                let name = repository_name(&spaces[space].name, &mut taken, &mut rng);
                repositories.push(RepositoryPlan {
                    space,
                    name,
                    tags: 0,
                    seed: 0,
                });
            }
        }
        for (i, repository) in repositories.iter_mut().enumerate() {
            repository.seed = mix(sizes.seed, i as u64 + 1);
        }

        // Tag counts.
        let hosted = |r: &RepositoryPlan| spaces[r.space].registry == 0;
        let mut hosted_tags = 0;
        for repository in repositories.iter_mut().skip(1) {
            repository.tags = if hosted(repository) {
                rng.gen_range(1..=6)
            } else {
                external_tag_count(&mut rng)
            };
            if hosted(repository) {
                hosted_tags += repository.tags;
            }
        }
        let external: Vec<usize> = (1..repositories.len())
            .filter(|&i| !hosted(&repositories[i]))
            .collect();
        let budget = sizes.tags - sizes.big_repository_tags;
        if budget < hosted_tags + external.len() {
            // Too few tags for the usual hosted counts: one each.
            for repository in repositories.iter_mut().skip(1) {
                if hosted(repository) {
                    repository.tags = 1;
                }
            }
            hosted_tags = sizes.hosted_repositories - 1;
        }
        let mut counts: Vec<usize> = external.iter().map(|&i| repositories[i].tags).collect();
        fit_total(&mut counts, budget - hosted_tags, &mut rng);
        for (&i, count) in external.iter().zip(counts) {
            repositories[i].tags = count;
        }

        Ok(Plan {
            workspaces,
            registries,
            spaces,
            bindings,
            repositories,
            big_repository,
            users,
            bench_workspaces,
        })
    }

    /// Whether repository `index` lives in `hosted`.
    pub fn is_hosted(&self, index: usize) -> bool {
        self.spaces[self.repositories[index].space].registry == 0
    }

    /// Whether repository `index` is in every workspace's list (a public platform space).
    pub fn is_public(&self, index: usize) -> bool {
        let space = &self.spaces[self.repositories[index].space];
        space.public && self.registries[space.registry].owner.is_none()
    }
}

/// Team-like names: `payments`, `search-eu`, `team-k-ml`.
fn team_names() -> Vec<String> {
    let mut names = Vec::new();
    for domain in DOMAINS {
        for suffix in TEAM_SUFFIXES {
            names.push(format!("{domain}{suffix}"));
        }
    }
    for letter in 'a'..='z' {
        for domain in DOMAINS {
            names.push(format!("team-{letter}-{domain}"));
        }
    }
    names
}

/// Names of shared spaces: `base-images`, `tools-ml`.
fn public_names() -> Vec<String> {
    let mut names: Vec<String> = PUBLIC_SPACES.iter().map(|s| s.to_string()).collect();
    for word in PUBLIC_SPACES {
        for domain in DOMAINS {
            names.push(format!("{word}-{domain}"));
        }
    }
    names
}

/// `n` distinct names drawn from `pool`; past its size, numbered copies (`payments-2`).
fn unique_names(pool: &[String], n: usize, rng: &mut StdRng) -> Vec<String> {
    let mut shuffled = pool.to_vec();
    shuffled.shuffle(rng);
    let mut names = Vec::with_capacity(n);
    let mut round = 1;
    while names.len() < n {
        for name in &shuffled {
            if names.len() == n {
                break;
            }
            names.push(if round == 1 {
                name.clone()
            } else {
                format!("{name}-{round}")
            });
        }
        round += 1;
    }
    names
}

/// A new repository name in `space`, mostly `<space>/<service>`, some nested in a group.
fn repository_name(space: &str, taken: &mut HashSet<String>, rng: &mut StdRng) -> String {
    for attempt in 0.. {
        let service = SERVICES[rng.gen_range(0..SERVICES.len())];
        let mut name = if rng.gen_bool(0.3) {
            let group = GROUPS[rng.gen_range(0..GROUPS.len())];
            format!("{space}/{group}/{service}")
        } else {
            format!("{space}/{service}")
        };
        if attempt >= 50 {
            name = format!("{name}-{attempt}");
        }
        if taken.insert(name.clone()) {
            return name;
        }
    }
    unreachable!("the loop returns once a name is free")
}

/// Tags of an external repository: mostly 1–20, some up to hundreds, one in a thousand over
/// 1,000.
fn external_tag_count(rng: &mut StdRng) -> usize {
    let log_uniform = |rng: &mut StdRng, low: f64, high: f64| {
        (low * (high / low).powf(rng.gen::<f64>())).round() as usize
    };
    let u: f64 = rng.gen();
    if u < 0.55 {
        rng.gen_range(1..=5)
    } else if u < 0.90 {
        rng.gen_range(6..=15)
    } else if u < 0.994 {
        log_uniform(rng, 16.0, 60.0)
    } else if u < 0.999 {
        log_uniform(rng, 61.0, 600.0)
    } else {
        log_uniform(rng, 1_000.0, 2_000.0)
    }
}

/// Adjusts `counts` (each at least 1) to add up to `total`, one tag at a time on repositories
/// of ordinary size, so the shape of the distribution stays.
fn fit_total(counts: &mut [usize], total: usize, rng: &mut StdRng) {
    let mut sum: usize = counts.iter().sum();
    let mut misses = 0;
    while sum != total {
        let i = rng.gen_range(0..counts.len());
        // Large repositories are left alone unless nothing else can move.
        let ordinary = counts[i] <= 60 || misses > 10_000;
        if sum > total && counts[i] > 1 && ordinary {
            counts[i] -= 1;
            sum -= 1;
            misses = 0;
        } else if sum < total && ordinary {
            counts[i] += 1;
            sum += 1;
            misses = 0;
        } else {
            misses += 1;
        }
    }
}

/// Splits `total` in proportion to `weights`, each share at least `min` (largest remainders
/// get the rounding).
fn apportion(total: usize, weights: &[f64], min: usize) -> Vec<usize> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let spare = total.saturating_sub(min * n);
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| spare as f64 * w / sum).collect();
    let mut shares: Vec<usize> = exact.iter().map(|e| min + e.floor() as usize).collect();
    let mut left = (min * n + spare).saturating_sub(shares.iter().sum());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa)
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}

/// Caps every count at `max`, moving the excess to random others below the cap.
fn cap(mut counts: Vec<usize>, max: usize, rng: &mut StdRng) -> Vec<usize> {
    let mut excess = 0;
    for count in counts.iter_mut() {
        if *count > max {
            excess += *count - max;
            *count = max;
        }
    }
    let room: usize = counts.iter().map(|c| max - c).sum();
    excess = excess.min(room);
    while excess > 0 {
        let i = rng.gen_range(0..counts.len());
        if counts[i] < max {
            counts[i] += 1;
            excess -= 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes() -> Sizes {
        Sizes {
            workspaces: 50,
            registries: 20,
            spaces: 500,
            repositories: 5_000,
            tags: 50_000,
            hosted_repositories: 100,
            big_repository_tags: 1_000,
            bench_workspaces: 10,
            seed: 7,
        }
    }

    #[test]
    fn plans_exactly_the_sizes_asked_for() {
        let sizes = sizes();
        let plan = Plan::new(&sizes).unwrap();
        assert_eq!(plan.workspaces.len(), sizes.workspaces);
        assert_eq!(plan.registries.len(), sizes.registries);
        let owned = plan.registries.iter().filter(|r| r.owner.is_some()).count();
        assert_eq!(owned, 5);
        assert_eq!(plan.spaces.len(), sizes.spaces);
        assert_eq!(plan.repositories.len(), sizes.repositories);
        let hosted = (0..plan.repositories.len())
            .filter(|&i| plan.is_hosted(i))
            .count();
        assert_eq!(hosted, sizes.hosted_repositories);
        let tags: usize = plan.repositories.iter().map(|r| r.tags).sum();
        assert_eq!(tags, sizes.tags);
        assert!(plan.repositories.iter().all(|r| r.tags >= 1));
        let big = &plan.repositories[plan.big_repository];
        assert_eq!((big.name.as_str(), big.tags), (BIG_REPOSITORY, 1_000));
        assert_eq!(plan.bench_workspaces.len(), sizes.bench_workspaces);
    }

    #[test]
    fn names_are_valid_and_unique() {
        let plan = Plan::new(&sizes()).unwrap();
        let mut seen = HashSet::new();
        for r in &plan.repositories {
            berth_oci::RepoName::parse(&r.name).unwrap();
            let space = &plan.spaces[r.space];
            assert!(r.name.starts_with(&format!("{}/", space.name)));
            assert!(seen.insert((space.registry, r.name.clone())), "{}", r.name);
        }
        let mut seen = HashSet::new();
        for s in &plan.spaces {
            assert!(seen.insert((s.registry, s.name.clone())), "{}", s.name);
        }
        let unique: HashSet<_> = plan.workspaces.iter().collect();
        assert_eq!(unique.len(), plan.workspaces.len());
    }

    #[test]
    fn bindings_are_private_platform_spaces_shared_by_at_most_three() {
        let plan = Plan::new(&sizes()).unwrap();
        for (space, workspaces) in &plan.bindings {
            let space = &plan.spaces[*space];
            assert!(!space.public && plan.registries[space.registry].owner.is_none());
            assert!((1..=3).contains(&workspaces.len()));
        }
        let mut per_workspace = vec![0; plan.workspaces.len()];
        for (_, workspaces) in &plan.bindings {
            for &w in workspaces {
                per_workspace[w] += 1;
            }
        }
        assert!(per_workspace.iter().all(|&n| (5..=20).contains(&n)));
    }

    #[test]
    fn the_same_seed_plans_the_same_deployment() {
        let a = Plan::new(&sizes()).unwrap();
        let b = Plan::new(&sizes()).unwrap();
        let names = |p: &Plan| {
            p.repositories
                .iter()
                .map(|r| r.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
    }
}
