//! What an image holds: its distribution, its dpkg packages, and its Python distributions,
//! Node packages and Rust lock files, read from the files its layers leave (see
//! [`crate::layer`]).

use osv::schema::Ecosystem;

use crate::distribution::Distribution;
use crate::dpkg;
use crate::layer::ImageFiles;
use crate::{node, python, rust};

/// A package found in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The ecosystem its advisories are filed under (`Debian:12`).
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// For distribution packages, the source package advisories name, and its version.
    pub source: Option<(String, String)>,
    /// The file it was read from.
    pub found_in: String,
}

impl Package {
    /// The name and version advisories are matched on: the source package's where there is
    /// one.
    pub fn advisory_name_and_version(&self) -> (&str, &str) {
        match &self.source {
            Some((name, version)) => (name, version),
            None => (&self.name, &self.version),
        }
    }
}

/// An image's packages, with what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub distribution: Option<Distribution>,
    pub packages: Vec<Package>,
    /// Sentences for the scan log.
    pub notes: Vec<String>,
}

/// Reads the inventory of an image from its stacked files.
pub fn inventory(files: &ImageFiles<'_>) -> Inventory {
    let mut inventory = Inventory::default();
    let read = |path: &str, notes: &mut Vec<String>| match files.read(path) {
        Ok(bytes) => bytes,
        Err(reason) => {
            notes.push(reason);
            None
        }
    };
    let os_release = ["etc/os-release", "usr/lib/os-release"]
        .into_iter()
        .find_map(|path| read(path, &mut inventory.notes));
    inventory.distribution = os_release.and_then(Distribution::from_os_release);
    for path in files.paths() {
        let ecosystem = if python::is_metadata_path(path) {
            Ecosystem::PyPI
        } else if node::is_installed_manifest(path) {
            Ecosystem::Npm
        } else if rust::is_lockfile_path(path) {
            Ecosystem::CratesIO
        } else {
            continue;
        };
        let Some(bytes) = read(path, &mut inventory.notes) else {
            continue;
        };
        let found = match ecosystem {
            Ecosystem::PyPI => python::distribution(bytes)
                .map(|one| vec![one])
                .map_err(|e| e.to_string()),
            Ecosystem::Npm => node::package(bytes)
                .map(|one| vec![one])
                .map_err(|e| e.to_string()),
            _ => rust::lockfile_packages(bytes).map_err(|e| e.to_string()),
        };
        match found {
            Ok(packages) => {
                inventory
                    .packages
                    .extend(packages.into_iter().map(|(name, version)| Package {
                        ecosystem: ecosystem.clone(),
                        name,
                        version,
                        source: None,
                        found_in: path.to_string(),
                    }))
            }
            Err(error) => inventory.notes.push(format!("`{path}`: {error}")),
        }
    }
    let dpkg_files: Vec<&str> = files
        .paths()
        .filter(|p| *p == "var/lib/dpkg/status" || p.starts_with("var/lib/dpkg/status.d/"))
        .collect();
    if dpkg_files.is_empty() {
        return inventory;
    }
    let ecosystem = match inventory.distribution.as_ref().map(|d| (d, d.ecosystem())) {
        Some((_, Some(ecosystem @ Ecosystem::Debian(_)))) => ecosystem,
        Some((distribution, _)) => {
            inventory.notes.push(format!(
                "dpkg packages in an image of `{}`, whose advisories Berth does not hold: read as Debian packages of no release",
                distribution.id
            ));
            Ecosystem::Debian(None)
        }
        None => {
            inventory.notes.push(
                "dpkg packages but no os-release: read as Debian packages of no release"
                    .to_string(),
            );
            Ecosystem::Debian(None)
        }
    };
    for path in dpkg_files {
        let Some(bytes) = read(path, &mut inventory.notes) else {
            continue;
        };
        match dpkg::installed_packages(bytes) {
            Ok(packages) => inventory
                .packages
                .extend(packages.into_iter().map(|p| Package {
                    ecosystem: ecosystem.clone(),
                    name: p.name,
                    version: p.version,
                    source: Some((p.source_name, p.source_version)),
                    found_in: path.to_string(),
                })),
            Err(error) => inventory.notes.push(format!("`{path}`: {error}")),
        }
    }
    inventory
}
