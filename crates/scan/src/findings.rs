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
        let spelled = ecosystem_name(ecosystem);
        let release_less = spelled.split_once(':').map(|(base, _)| base.to_string());
        let name = comparable_name(ecosystem, name).into_owned();
        [Some(spelled), release_less]
            .into_iter()
            .flatten()
            .filter_map(move |e| self.by_package.get(&(e, name.clone())))
            .flatten()
            .map(|&position| &self.advisories[position])
    }
}

/// One advisory that covers one installed package.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub advisory: String,
    pub aliases: Vec<String>,
    pub package: String,
    pub installed: String,
    /// The first version that fixes it, when there is one (the vulnerability is fixable).
    pub fixed: Option<String>,
    pub rating: Rating,
    pub summary: Option<String>,
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
                        installed: package.version.clone(),
                        fixed,
                        rating: rating(advisory, entry, |id| index.related(id)),
                        summary: advisory.summary.clone(),
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
