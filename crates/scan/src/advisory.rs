//! Whether an OSV advisory covers an installed package, by the evaluation the OSV schema
//! gives (`IsVulnerable` in its "Evaluation" section), and which version fixes it.
//!
//! A package is affected when its version is in an entry's `versions` list or inside one of
//! its ranges. A range is walked in version order: `introduced` at or below the version
//! makes it vulnerable, `fixed` at or below it or `last_affected` below it makes it safe
//! again, and a range with `limit` events covers only versions below one of them.
//! `ECOSYSTEM` ranges use the ecosystem's order and `SEMVER` ranges SemVer's; `GIT` ranges
//! need the repository's history, so only the `versions` list OSV requires beside them
//! counts. A withdrawn advisory covers nothing.

use std::borrow::Cow;
use std::cmp::Ordering;

use osv::schema::{Affected, Ecosystem, Event, RangeType, Vulnerability};

use crate::version::{Version, VersionError, VersionScheme};

/// A package as an image holds it, named as advisories name it: for Debian, the source
/// package and the release (`Debian:12`).
#[derive(Debug, Clone, Copy)]
pub struct InstalledPackage<'a> {
    pub ecosystem: &'a Ecosystem,
    pub name: &'a str,
    pub version: &'a str,
}

/// What one advisory says of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    NotAffected,
    /// `fixed` is the first version past the installed one that the advisory calls fixed;
    /// `None` when there is none (unfixed, or known only up to a `last_affected`).
    Affected {
        fixed: Option<String>,
    },
}

/// Why an advisory could not be evaluated for a package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    #[error("versions of the {0} ecosystem cannot be ordered yet")]
    UnsupportedEcosystem(String),
    #[error(transparent)]
    Version(#[from] VersionError),
}

/// Evaluates `advisory` for `package`.
pub fn evaluate(
    advisory: &Vulnerability,
    package: InstalledPackage<'_>,
) -> Result<Verdict, MatchError> {
    if advisory.withdrawn.is_some() {
        return Ok(Verdict::NotAffected);
    }
    let scheme = VersionScheme::of(package.ecosystem)
        .ok_or_else(|| MatchError::UnsupportedEcosystem(ecosystem_name(package.ecosystem)))?;
    let mut installed = InstalledVersion::new(package.version);
    for affected in advisory.affected.iter().flatten() {
        if !names_package(affected, package) {
            continue;
        }
        if let Some(verdict) = evaluate_entry(affected, scheme, &mut installed)? {
            return Ok(verdict);
        }
    }
    Ok(Verdict::NotAffected)
}

/// The installed version, parsed in each scheme a range asks for once it does.
struct InstalledVersion<'a> {
    text: &'a str,
    parsed: Vec<Version>,
}

impl<'a> InstalledVersion<'a> {
    fn new(text: &'a str) -> InstalledVersion<'a> {
        InstalledVersion {
            text,
            parsed: Vec::new(),
        }
    }

    fn in_scheme(&mut self, scheme: VersionScheme) -> Result<&Version, VersionError> {
        let position = match self.parsed.iter().position(|v| v.scheme() == scheme) {
            Some(position) => position,
            None => {
                self.parsed.push(scheme.parse(self.text)?);
                self.parsed.len() - 1
            }
        };
        Ok(&self.parsed[position])
    }
}

fn evaluate_entry(
    affected: &Affected,
    scheme: VersionScheme,
    installed: &mut InstalledVersion<'_>,
) -> Result<Option<Verdict>, MatchError> {
    for range in affected.ranges.iter().flatten() {
        let range_scheme = match range.range_type {
            RangeType::Ecosystem => scheme,
            // Go module versions are SemVer with a `v`; the Go scheme reads both spellings.
            RangeType::Semver if scheme == VersionScheme::Go => VersionScheme::Go,
            RangeType::Semver => VersionScheme::SemVer,
            // Commit ranges need the repository; the `versions` list stands in for them.
            _ => continue,
        };
        let version = installed.in_scheme(range_scheme)?;
        if let Some(fixed) = walk_range(&range.events, range_scheme, version)? {
            return Ok(Some(Verdict::Affected { fixed }));
        }
    }
    // Listed versions are compared as versions where they read as one, so `1.0` matches an
    // installed `1.0.0` under PEP 440; one that does not read matches its exact text only.
    for listed in affected.versions.iter().flatten() {
        let matches = match scheme.parse(listed) {
            Ok(listed) => installed.in_scheme(scheme).is_ok_and(|v| *v == listed),
            Err(_) => listed == installed.text,
        };
        if matches {
            return Ok(Some(Verdict::Affected { fixed: None }));
        }
    }
    Ok(None)
}

/// One event of a range, its version parsed: `None` for `introduced: "0"`, which sorts
/// before every version, and for a `*` limit, which no version reaches (limits are checked
/// before the walk and play no part in it).
struct ParsedEvent<'a> {
    kind: EventKind,
    text: &'a str,
    version: Option<Version>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

/// `Some(fixed)` when `version` is inside the range the events describe.
fn walk_range(
    events: &[Event],
    scheme: VersionScheme,
    version: &Version,
) -> Result<Option<Option<String>>, VersionError> {
    let mut parsed = Vec::with_capacity(events.len());
    for event in events {
        let (kind, text) = match event {
            Event::Introduced(text) => (EventKind::Introduced, text),
            Event::Fixed(text) => (EventKind::Fixed, text),
            Event::LastAffected(text) => (EventKind::LastAffected, text),
            Event::Limit(text) => (EventKind::Limit, text),
            // An event kind a later schema adds is not understood, so it cannot be applied.
            _ => continue,
        };
        let unbounded = (kind == EventKind::Introduced && text == "0")
            || (kind == EventKind::Limit && text.contains('*'));
        let version = if unbounded {
            None
        } else {
            Some(scheme.parse(text)?)
        };
        parsed.push(ParsedEvent {
            kind,
            text,
            version,
        });
    }
    let mut limits = parsed
        .iter()
        .filter(|e| e.kind == EventKind::Limit)
        .peekable();
    let below_a_limit = limits.peek().is_none()
        || limits.any(|limit| limit.version.as_ref().is_none_or(|limit| version < limit));
    if !below_a_limit {
        return Ok(None);
    }
    // The unbounded `introduced: "0"` sorts first; the sort is stable, so events of one
    // version keep the order the advisory gives them.
    parsed.sort_by(|a, b| match (&a.version, &b.version) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
    });
    let mut vulnerable = false;
    for event in &parsed {
        let at_or_below = event.version.as_ref().is_none_or(|v| v <= version);
        match event.kind {
            EventKind::Introduced if at_or_below => vulnerable = true,
            EventKind::Fixed if at_or_below => vulnerable = false,
            EventKind::LastAffected if event.version.as_ref().is_some_and(|v| v < version) => {
                vulnerable = false
            }
            _ => {}
        }
    }
    if !vulnerable {
        return Ok(None);
    }
    let fixed = parsed
        .iter()
        .filter(|e| e.kind == EventKind::Fixed)
        .find(|e| e.version.as_ref().is_some_and(|v| v > version))
        .map(|e| e.text.to_string());
    Ok(Some(fixed))
}

/// Whether `affected` is about `package`: the same name (PyPI's normalised, as PEP 503
/// compares them) in the same ecosystem, where an advisory for a distribution without a
/// release covers every release.
pub(crate) fn names_package(affected: &Affected, package: InstalledPackage<'_>) -> bool {
    let Some(named) = &affected.package else {
        return false;
    };
    let same_ecosystem = named.ecosystem == *package.ecosystem
        || matches!(
            (&named.ecosystem, package.ecosystem),
            (Ecosystem::Debian(None), Ecosystem::Debian(_))
        );
    if !same_ecosystem {
        return false;
    }
    comparable_name(&named.ecosystem, &named.name)
        == comparable_name(package.ecosystem, package.name)
}

/// A package name as its ecosystem compares names: PyPI's normalised, others as written.
pub fn comparable_name<'a>(ecosystem: &Ecosystem, name: &'a str) -> Cow<'a, str> {
    match ecosystem {
        Ecosystem::PyPI => Cow::Owned(normalized_python_name(name)),
        _ => Cow::Borrowed(name),
    }
}

/// PEP 503: lower case, every run of `-`, `_` and `.` one `-`.
fn normalized_python_name(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !normalized.ends_with('-') {
                normalized.push('-');
            }
        } else {
            normalized.extend(c.to_lowercase());
        }
    }
    normalized
}

/// How the vulnerability database files an advisory: its keys, and its times in
/// milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub modified: i64,
    pub withdrawn: Option<i64>,
    /// (ecosystem as OSV spells it, name as the ecosystem compares names), each once.
    pub packages: Vec<(String, String)>,
    /// Its aliases and upstream ids, each once.
    pub aliases: Vec<String>,
}

/// The keys `advisory` is filed and found under.
pub fn index_entry(advisory: &Vulnerability) -> IndexEntry {
    let mut packages: Vec<(String, String)> = advisory
        .affected
        .iter()
        .flatten()
        .filter_map(|a| a.package.as_ref())
        .map(|p| {
            let name = comparable_name(&p.ecosystem, &p.name).into_owned();
            (ecosystem_name(&p.ecosystem), name)
        })
        .collect();
    packages.sort_unstable();
    packages.dedup();
    let mut aliases: Vec<String> = advisory
        .aliases
        .iter()
        .flatten()
        .chain(advisory.upstream.iter().flatten())
        .filter(|a| **a != advisory.id)
        .cloned()
        .collect();
    aliases.sort_unstable();
    aliases.dedup();
    IndexEntry {
        modified: advisory.modified.timestamp_millis(),
        withdrawn: advisory.withdrawn.map(|w| w.timestamp_millis()),
        packages,
        aliases,
    }
}

/// The ecosystem as OSV spells it (`Debian:12`).
pub fn ecosystem_name(ecosystem: &Ecosystem) -> String {
    serde_json::to_value(ecosystem)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{ecosystem:?}"))
}
