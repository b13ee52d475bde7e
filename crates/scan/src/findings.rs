//! An inventory's vulnerabilities: each package against the advisories filed under its
//! ecosystem and (source) name.

use std::collections::HashMap;

use osv::schema::{Ecosystem, Vulnerability};

use crate::advisory::{
    comparable_name, ecosystem_name, evaluate, index_entry, names_package, InstalledPackage,
    Verdict,
};
use crate::inventory::Package;
use crate::severity::{rating, Rating};

/// Advisories by the ecosystem and package name they are filed under (`Debian:12`,
/// `openssl`), each advisory under every package it names.
#[derive(Debug, Default)]
pub struct AdvisoryIndex {
    by_package: HashMap<(String, String), Vec<usize>>,
    /// Advisories by their id and each of their aliases, to find other records of one
    /// vulnerability.
    by_id: HashMap<String, Vec<usize>>,
    advisories: Vec<Vulnerability>,
}

impl AdvisoryIndex {
    pub fn new(advisories: impl IntoIterator<Item = Vulnerability>) -> AdvisoryIndex {
        let mut index = AdvisoryIndex::default();
        for advisory in advisories {
            let position = index.advisories.len();
            for key in index_entry(&advisory).packages {
                index.by_package.entry(key).or_default().push(position);
            }
            let ids = std::iter::once(&advisory.id).chain(advisory.aliases.iter().flatten());
            for id in ids {
                index.by_id.entry(id.clone()).or_default().push(position);
            }
            index.advisories.push(advisory);
        }
        index
    }

    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// The advisories with id or alias `id`.
    fn related(&self, id: &str) -> Vec<&Vulnerability> {
        self.by_id
            .get(id)
            .into_iter()
            .flatten()
            .map(|&position| &self.advisories[position])
            .collect()
    }

    /// The advisories filed under `name` in `ecosystem` or in its release-less form
    /// (`Debian` for `Debian:12`).
    fn for_package<'a>(
        &'a self,
        ecosystem: &Ecosystem,
        name: &str,
    ) -> impl Iterator<Item = &'a Vulnerability> + 'a {
        package_keys(ecosystem, name)
            .into_iter()
            .filter_map(move |key| self.by_package.get(&key))
            .flatten()
            .map(|&position| &self.advisories[position])
    }
}

/// The (ecosystem, comparable name) keys advisories of a package are filed under: its
/// ecosystem as OSV spells it, and the release-less form (`Debian` for `Debian:12`).
fn package_keys(ecosystem: &Ecosystem, name: &str) -> Vec<(String, String)> {
    let spelled = ecosystem_name(ecosystem);
    let release_less = spelled.split_once(':').map(|(base, _)| base.to_string());
    let name = comparable_name(ecosystem, name).into_owned();
    [Some(spelled), release_less]
        .into_iter()
        .flatten()
        .map(|e| (e, name.clone()))
        .collect()
}

/// Every key the advisories of `packages` may be filed under, each once: what to look up in
/// a database of advisories before building an [`AdvisoryIndex`] of those found.
pub fn lookup_keys(packages: &[Package]) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = packages
        .iter()
        .flat_map(|p| package_keys(&p.ecosystem, p.advisory_name_and_version().0))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The ids other records of `advisories`' vulnerabilities may carry (their own ids, aliases
/// and upstream ids), each once: what rates an advisory that does not rate itself.
pub fn related_ids<'a>(advisories: impl IntoIterator<Item = &'a Vulnerability>) -> Vec<String> {
    let mut ids: Vec<String> = advisories
        .into_iter()
        .flat_map(|a| std::iter::once(a.id.clone()).chain(index_entry(a).aliases))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// One advisory that covers one installed package.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub advisory: String,
    pub aliases: Vec<String>,
    pub package: String,
    /// The ecosystem the package's advisories are filed under.
    pub ecosystem: Ecosystem,
    pub installed: String,
    /// The file the package was read from.
    pub found_in: String,
    /// The first version that fixes it, when there is one (the vulnerability is fixable).
    pub fixed: Option<String>,
    pub rating: Rating,
    pub summary: Option<String>,
    /// The advisory's references.
    pub links: Vec<String>,
}

/// Matches every package against `index`. Advisories that cannot be evaluated for a package
/// are left out with a note saying why, never counted as either verdict.
pub fn findings(packages: &[Package], index: &AdvisoryIndex) -> (Vec<Finding>, Vec<String>) {
    let mut found = Vec::new();
    let mut notes = Vec::new();
    for package in packages {
        let (name, version) = package.advisory_name_and_version();
        for advisory in index.for_package(&package.ecosystem, name) {
            let installed = InstalledPackage {
                ecosystem: &package.ecosystem,
                name,
                version,
            };
            match evaluate(advisory, installed) {
                Ok(Verdict::NotAffected) => {}
                Ok(Verdict::Affected { fixed }) => {
                    let entry = advisory
                        .affected
                        .iter()
                        .flatten()
                        .find(|a| names_package(a, installed));
                    found.push(Finding {
                        advisory: advisory.id.clone(),
                        aliases: advisory.aliases.clone().unwrap_or_default(),
                        package: package.name.clone(),
                        ecosystem: package.ecosystem.clone(),
                        installed: package.version.clone(),
                        found_in: package.found_in.clone(),
                        fixed,
                        rating: rating(advisory, entry, |id| index.related(id)),
                        summary: advisory.summary.clone(),
                        links: advisory
                            .references
                            .iter()
                            .flatten()
                            .map(|r| r.url.clone())
                            .collect(),
                    })
                }
                Err(error) => notes.push(format!(
                    "{} could not be evaluated for {} {}: {error}",
                    advisory.id, package.name, package.version
                )),
            }
        }
    }
    (found, notes)
}
