//! A repository's history: the builds it published, newest with `latest`, each with its tags,
//! push time, image config, layers and manifest (an index for multi-arch repositories).
//!
//! Tag styles, one per repository:
//! - semver: releases `v1.4.2` or `1.4.2`, the newest patch of each minor also `1.4`, some
//!   release candidates `1.5.0-rc.1`, and for some repositories an `-alpine` build of each
//!   release (a digest of its own, the newest also `alpine`);
//! - calver: one build a day or so, `2026.11.03` (`2026.11.03.2` for a second that day);
//! - ci: `main-1234` with `sha-3f9c2ab` on the same digest, and `pr-88` builds;
//! - mixed: ci builds with an occasional semver release among them.
//!
//! Push times go back from a newest push (mostly in the last month, some a year or two old)
//! in steps that suit the style, never more than two years back.

use std::collections::HashSet;

use berth_oci::media_types::{
    DOCKER_CONFIG, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::plan::mix;
use crate::words::BASE_IMAGES;

const DAY: i64 = 86_400_000;
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Semver,
    Calver,
    Ci,
    Mixed,
}

/// What a repository publishes, decided once per repository.
#[derive(Debug, Clone)]
pub struct Profile {
    pub style: Style,
    /// Semver tags start with `v`.
    pub v_prefix: bool,
    /// Each release also has an `-alpine` build.
    pub variants: bool,
    /// Every build is an index over linux/amd64 and linux/arm64 (and linux/arm/v7).
    pub multi_arch: bool,
    pub arm_v7: bool,
    /// The single platform of other repositories' builds.
    pub architecture: &'static str,
    /// Docker schema 2 media types instead of OCI ones.
    pub docker: bool,
    /// Which of `BASE_IMAGES`.
    pub base: usize,
    /// The typical compressed size of the repository's own layers, in bytes.
    pub size: i64,
    /// The service name (the last path component), for the image's command.
    pub service: String,
}

impl Profile {
    /// The profile of repository `name`. `docker` says the registry serves Docker media types.
    pub fn new(name: &str, seed: u64, mixed: bool, docker: bool) -> Profile {
        let mut rng = StdRng::seed_from_u64(mix(seed, 0x9f0f));
        let style = if mixed {
            Style::Mixed
        } else {
            match rng.gen::<f64>() {
                u if u < 0.35 => Style::Semver,
                u if u < 0.50 => Style::Calver,
                u if u < 0.80 => Style::Ci,
                _ => Style::Mixed,
            }
        };
        let multi_arch = rng.gen_bool(0.15);
        // Log-normal around 60 MB, from 1 MB (static binaries) to a few GB (ML images).
        let normal = {
            let (u1, u2): (f64, f64) = (rng.gen_range(1e-9..1.0), rng.gen());
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        };
        let size = (60e6 * normal.exp()).clamp(1e6, 4e9) as i64;
        Profile {
            style,
            v_prefix: rng.gen_bool(0.5),
            variants: style == Style::Semver && rng.gen_bool(0.3),
            multi_arch,
            arm_v7: multi_arch && rng.gen_bool(0.3),
            architecture: if rng.gen_bool(0.03) { "arm64" } else { "amd64" },
            docker: docker || rng.gen_bool(0.25),
            base: rng.gen_range(0..BASE_IMAGES.len()),
            size,
            service: name.rsplit('/').next().unwrap_or(name).to_string(),
        }
    }
}

/// One published build: a digest and the tags on it.
#[derive(Debug, Clone)]
pub struct Build {
    /// The tags on this build, floating ones (`latest`, `1.4`) first.
    pub tags: Vec<String>,
    /// Milliseconds since the epoch.
    pub pushed_at: i64,
    /// `alpine` for the variant builds of a release.
    pub flavor: Option<&'static str>,
    /// The source commit, 40 hex digits.
    pub revision: String,
    /// Distinguishes the build's content from every other build of the repository.
    pub number: u64,
}

#[derive(Debug, Clone, Copy)]
struct Version {
    major: u32,
    minor: u32,
    patch: u32,
}

impl Version {
    /// Steps back to the release before; `false` once there is none.
    fn previous(&mut self, rng: &mut StdRng) -> bool {
        if self.patch > 0 {
            self.patch -= 1;
        } else if self.minor > 0 {
            self.minor -= 1;
            self.patch = rng.gen_range(0..=12);
        } else if self.major > 0 {
            self.major -= 1;
            self.minor = rng.gen_range(0..=20);
            self.patch = rng.gen_range(0..=12);
        } else {
            return false;
        }
        true
    }
}

/// The builds of a repository with exactly `tags` tags, oldest first.
pub fn builds(profile: &Profile, seed: u64, tags: usize, now: i64) -> Vec<Build> {
    let mut rng = StdRng::seed_from_u64(mix(seed, 0xb111d));
    let newest_age = match rng.gen::<f64>() {
        u if u < 0.6 => rng.gen_range(0..30 * DAY),
        u if u < 0.9 => rng.gen_range(30 * DAY..365 * DAY),
        _ => rng.gen_range(365 * DAY..700 * DAY),
    };
    let newest = now - newest_age;
    let oldest = now - 730 * DAY;
    let tags_per_build = match profile.style {
        Style::Semver if profile.variants => 1.5,
        Style::Semver => 1.3,
        Style::Calver => 1.0,
        Style::Ci | Style::Mixed => 1.8,
    };
    let typical = match profile.style {
        Style::Semver => rng.gen_range(2 * DAY..30 * DAY),
        Style::Calver => DAY,
        Style::Ci | Style::Mixed => rng.gen_range(DAY / 24..3 * DAY),
    } as f64;
    let expected_builds = (tags as f64 / tags_per_build).max(1.0);
    let interval = typical.min((newest - oldest) as f64 / expected_builds);

    let mut style = profile.style;
    let prefix = if profile.v_prefix { "v" } else { "" };
    let mut version = Version {
        major: rng.gen_range(0..=4),
        minor: rng.gen_range(0..=20),
        patch: rng.gen_range(0..=12),
    };
    let mut minors_seen = HashSet::new();
    let mut build_number: u64 = rng.gen_range(100..5_000) + 4 * tags as u64;
    let mut pull_request: u64 = rng.gen_range(20..800) + tags as u64;
    let mut used: HashSet<String> = HashSet::new();
    let mut out: Vec<Build> = Vec::new();
    let mut remaining = tags;
    let mut at = newest as f64;
    let mut number = 0u64;
    while remaining > 0 {
        let first = out.is_empty();
        let pushed_at = (at as i64).max(oldest);
        let revision: String = (0..40)
            .map(|_| char::from_digit(rng.gen_range(0..16), 16).expect("a hex digit"))
            .collect();
        let latest = || first.then(|| "latest".to_string());
        let mut made: Vec<(Vec<String>, Option<&'static str>)> = Vec::new();
        let release = match style {
            Style::Semver => true,
            Style::Mixed => first || rng.gen_bool(0.1),
            Style::Calver | Style::Ci => false,
        };
        if release {
            let Version {
                major,
                minor,
                patch,
            } = version;
            let base = format!("{prefix}{major}.{minor}.{patch}");
            let candidate = !first && rng.gen_bool(0.06);
            let mut plain: Vec<String> = latest().into_iter().collect();
            if candidate {
                plain.push(format!("{base}-rc.{}", rng.gen_range(1..=3)));
            } else {
                if minors_seen.insert((major, minor)) {
                    plain.push(format!("{major}.{minor}"));
                }
                plain.push(base.clone());
            }
            made.push((plain, None));
            if profile.variants && !candidate {
                let mut alpine: Vec<String> =
                    first.then(|| "alpine".to_string()).into_iter().collect();
                alpine.push(format!("{base}-alpine"));
                made.push((alpine, Some("alpine")));
            }
            if !version.previous(&mut rng) {
                style = Style::Ci;
            }
        } else if style == Style::Calver {
            let date = calver(pushed_at);
            let mut tag = date.clone();
            let mut n = 2;
            while used.contains(&tag) {
                tag = format!("{date}.{n}");
                n += 1;
            }
            made.push((latest().into_iter().chain([tag]).collect(), None));
        } else if !first && rng.gen_bool(0.15) {
            made.push((vec![format!("pr-{pull_request}")], None));
            pull_request = pull_request.saturating_sub(rng.gen_range(1..=3)).max(1);
        } else {
            let tags = latest()
                .into_iter()
                .chain([
                    format!("main-{build_number}"),
                    format!("sha-{}", &revision[..7]),
                ])
                .collect();
            made.push((tags, None));
            build_number -= rng.gen_range(1..=4);
        }
        for (mut tags, flavor) in made {
            tags.retain(|t| used.insert(t.clone()));
            tags.truncate(remaining);
            remaining -= tags.len();
            if !tags.is_empty() {
                number += 1;
                out.push(Build {
                    tags,
                    pushed_at,
                    flavor,
                    revision: revision.clone(),
                    number,
                });
            }
        }
        at -= interval * rng.gen_range(0.5..1.5);
    }
    out.reverse();
    if profile.style == Style::Calver {
        // Going back in time, a second build of a day took the numbered tag; the later
        // build of a day is the one that gets it.
        let mut per_day: std::collections::HashMap<String, usize> = Default::default();
        for build in &mut out {
            let date = calver(build.pushed_at);
            for tag in build.tags.iter_mut().filter(|t| t.starts_with(&date)) {
                let n = per_day.entry(date.clone()).or_default();
                *n += 1;
                *tag = if *n == 1 {
                    date.clone()
                } else {
                    format!("{date}.{n}")
                };
            }
        }
    }
    out
}

/// `2026.11.03` for a time in milliseconds.
fn calver(millis: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(millis / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}.{:02}.{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// RFC 3339 in UTC, as image configs write `created`.
pub fn rfc3339(millis: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(millis / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A layer blob: its digest and size (the bytes are never made).
#[derive(Debug, Clone)]
pub struct Layer {
    pub digest: String,
    pub size: i64,
}

/// One platform's image of a build.
#[derive(Debug, Clone)]
pub struct Image {
    pub os: &'static str,
    pub architecture: &'static str,
    pub variant: Option<&'static str>,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub layers: Vec<Layer>,
    pub media_type: &'static str,
    pub manifest: Vec<u8>,
    pub digest: String,
    /// Manifest, config and layers.
    pub size: i64,
}

/// An index over a multi-arch build's images.
#[derive(Debug, Clone)]
pub struct IndexManifest {
    pub media_type: &'static str,
    pub manifest: Vec<u8>,
    pub digest: String,
    /// The index and every image it lists.
    pub size: i64,
}

/// What a build publishes: one image per platform, and an index when there are several.
#[derive(Debug, Clone)]
pub struct Content {
    pub images: Vec<Image>,
    pub index: Option<IndexManifest>,
}

impl Content {
    /// The tagged manifest's digest.
    pub fn digest(&self) -> &str {
        match &self.index {
            Some(index) => &index.digest,
            None => &self.images[0].digest,
        }
    }
}

/// The manifests, configs and layer digests of `build` of repository `name`.
pub fn content(profile: &Profile, name: &str, seed: u64, build: &Build) -> Content {
    let platforms: Vec<(&'static str, Option<&'static str>)> = if profile.multi_arch {
        let mut p = vec![("amd64", None), ("arm64", None)];
        if profile.arm_v7 {
            p.push(("arm", Some("v7")));
        }
        p
    } else {
        vec![(profile.architecture, None)]
    };
    let images: Vec<Image> = platforms
        .iter()
        .map(|&(architecture, variant)| image(profile, name, seed, build, architecture, variant))
        .collect();
    if images.len() == 1 {
        return Content {
            images,
            index: None,
        };
    }
    let media_type = if profile.docker {
        DOCKER_MANIFEST_LIST
    } else {
        OCI_INDEX
    };
    let manifests: Vec<serde_json::Value> = images
        .iter()
        .map(|image| {
            let mut platform = json!({ "os": image.os, "architecture": image.architecture });
            if let Some(variant) = image.variant {
                platform["variant"] = json!(variant);
            }
            json!({
                "mediaType": image.media_type,
                "digest": image.digest,
                "size": image.manifest.len(),
                "platform": platform,
            })
        })
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": manifests,
    }))
    .expect("JSON values serialise");
    let size = manifest.len() as i64 + images.iter().map(|i| i.size).sum::<i64>();
    Content {
        index: Some(IndexManifest {
            media_type,
            digest: sha256(&manifest),
            manifest,
            size,
        }),
        images,
    }
}

fn image(
    profile: &Profile,
    name: &str,
    seed: u64,
    build: &Build,
    architecture: &'static str,
    variant: Option<&'static str>,
) -> Image {
    let flavor = build.flavor.unwrap_or("");
    let (base_name, base_step) = BASE_IMAGES[if flavor == "alpine" { 0 } else { profile.base }];
    let fake = |parts: &str| sha256(format!("{seed}/{parts}").as_bytes());
    let mut rng = StdRng::seed_from_u64(mix(seed, build.number));
    let base_size = match base_name {
        "alpine" => 3_600_000,
        "distroless" => 2_300_000,
        _ => 29_000_000,
    };
    let own = profile.size as f64 * rng.gen_range(0.95..1.05);
    let layers = vec![
        Layer {
            digest: sha256(format!("base/{base_name}/{architecture}").as_bytes()),
            size: base_size,
        },
        Layer {
            digest: fake(&format!("deps/{flavor}/{architecture}")),
            size: (profile.size as f64 * 0.55) as i64,
        },
        Layer {
            digest: fake(&format!("app/{}/{architecture}", build.number)),
            size: (own * 0.45) as i64 + 1,
        },
    ];
    let created = rfc3339(build.pushed_at);
    let install = if base_name == "alpine" {
        "RUN /bin/sh -c apk add --no-cache ca-certificates tzdata # buildkit"
    } else {
        "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata # buildkit"
    };
    let service = &profile.service;
    let history = json!([
        { "created": created, "created_by": base_step },
        { "created": created, "created_by": install },
        { "created": created, "created_by": "ENV APP_HOME=/app", "empty_layer": true },
        { "created": created, "created_by": "WORKDIR /app", "empty_layer": true },
        { "created": created, "created_by": format!("COPY ./dist/{service} /app/{service} # buildkit") },
        { "created": created, "created_by": format!("CMD [\"/app/{service}\"]"), "empty_layer": true },
    ]);
    let mut config = json!({
        "created": created,
        "architecture": architecture,
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_HOME=/app"],
            "Cmd": [format!("/app/{service}")],
            "WorkingDir": "/app",
            "ExposedPorts": { "8080/tcp": {} },
            "Labels": {
                "org.opencontainers.image.source": format!("https://git.example.com/{name}"),
                "org.opencontainers.image.revision": build.revision,
                "org.opencontainers.image.version": build.tags.last().cloned().unwrap_or_default(),
            },
        },
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| sha256(l.digest.as_bytes())).collect::<Vec<_>>(),
        },
        "history": history,
    });
    if let Some(variant) = variant {
        config["variant"] = json!(variant);
    }
    let config = serde_json::to_vec(&config).expect("JSON values serialise");
    let config_digest = sha256(&config);
    let (media_type, config_type, layer_type) = if profile.docker {
        (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER)
    } else {
        (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER)
    };
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": { "mediaType": config_type, "digest": config_digest, "size": config.len() },
        "layers": layers.iter().map(|l| json!({
            "mediaType": layer_type, "digest": l.digest, "size": l.size,
        })).collect::<Vec<_>>(),
    }))
    .expect("JSON values serialise");
    let size =
        manifest.len() as i64 + config.len() as i64 + layers.iter().map(|l| l.size).sum::<i64>();
    Image {
        os: "linux",
        architecture,
        variant,
        digest: sha256(&manifest),
        config,
        config_digest,
        layers,
        media_type,
        manifest,
        size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000_000;

    fn check(style: Style, variants: bool, tags: usize) {
        let mut profile = Profile::new("team/app", 11, false, false);
        profile.style = style;
        profile.variants = variants;
        for seed in 0..20 {
            let builds = builds(&profile, seed, tags, NOW);
            let names: Vec<&String> = builds.iter().flat_map(|b| &b.tags).collect();
            assert_eq!(names.len(), tags, "{style:?} seed {seed}");
            let unique: HashSet<_> = names.iter().collect();
            assert_eq!(unique.len(), tags, "{style:?} seed {seed}: {names:?}");
            for name in &names {
                berth_oci::Tag::parse(name).unwrap();
            }
            let newest = builds.last().unwrap();
            assert_eq!(newest.tags[0], "latest", "{style:?}: {:?}", newest.tags);
            assert!(builds.windows(2).all(|w| w[0].pushed_at <= w[1].pushed_at));
            assert!(builds[0].pushed_at >= NOW - 730 * DAY);
        }
    }

    #[test]
    fn every_style_makes_exactly_the_tags_asked_for() {
        for tags in [1, 2, 3, 7, 40, 500] {
            check(Style::Semver, false, tags);
            check(Style::Semver, true, tags);
            check(Style::Calver, false, tags);
            check(Style::Ci, false, tags);
            check(Style::Mixed, false, tags);
        }
        check(Style::Mixed, false, 10_000);
    }

    #[test]
    fn semver_floats_minor_tags_on_the_newest_patch() {
        let mut profile = Profile::new("team/app", 3, false, false);
        profile.style = Style::Semver;
        profile.v_prefix = false;
        profile.variants = false;
        let builds = builds(&profile, 5, 60, NOW);
        let newest = builds.last().unwrap();
        // `latest`, the minor, then the version, all on the newest build.
        assert_eq!(newest.tags.len(), 3, "{:?}", newest.tags);
        assert!(newest.tags[2].starts_with(&format!("{}.", newest.tags[1])));
    }

    #[test]
    fn calver_numbers_the_later_builds_of_a_day() {
        let mut profile = Profile::new("team/app", 3, false, false);
        profile.style = Style::Calver;
        let builds = builds(&profile, 5, 2_000, NOW);
        let pushed: std::collections::HashMap<&str, i64> = builds
            .iter()
            .flat_map(|b| b.tags.iter().map(move |t| (t.as_str(), b.pushed_at)))
            .collect();
        let mut numbered = 0;
        for (tag, at) in &pushed {
            if let Some((date, n)) = tag.rsplit_once('.').filter(|(d, _)| d.len() == 10) {
                numbered += 1;
                let before = if n == "2" {
                    date.to_string()
                } else {
                    format!("{date}.{}", n.parse::<u32>().unwrap() - 1)
                };
                assert!(pushed[before.as_str()] <= *at, "{before} after {tag}");
            }
        }
        assert!(numbered > 0, "2,000 builds in two years share some days");
    }

    #[test]
    fn manifests_parse_and_digests_are_their_bytes() {
        let mut profile = Profile::new("team/app", 1, false, false);
        profile.multi_arch = true;
        profile.arm_v7 = true;
        let builds = builds(&profile, 9, 5, NOW);
        let content = content(&profile, "team/app", 9, &builds[0]);
        assert_eq!(content.images.len(), 3);
        let index = content.index.as_ref().unwrap();
        assert_eq!(index.digest, sha256(&index.manifest));
        let parsed = berth_oci::Manifest::parse(None, &index.manifest).unwrap();
        assert_eq!(parsed.children.len(), 3);
        for image in &content.images {
            assert_eq!(image.digest, sha256(&image.manifest));
            let parsed = berth_oci::Manifest::parse(None, &image.manifest).unwrap();
            assert_eq!(parsed.layers.len(), 3);
            let config = berth_oci::ImageConfig::parse(&image.config).unwrap();
            assert_eq!(config.architecture, image.architecture);
            assert_eq!(config.layer_history(3), [Some(0), Some(1), Some(4)]);
        }
    }
}
