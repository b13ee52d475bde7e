//! Debian's package database: `/var/lib/dpkg/status`, and the one-paragraph files of
//! `/var/lib/dpkg/status.d/` that distroless images carry instead.
//!
//! Each paragraph is one binary package. Debian's advisories name source packages, so each
//! package also carries its source: the `Source` field (`glibc`, or `bash (5.2.15-2)` when a
//! binary-only rebuild gave the binary another version), or the package itself when the
//! field is absent.

/// A binary package dpkg has installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpkgPackage {
    pub name: String,
    pub version: String,
    pub architecture: Option<String>,
    /// The source package it was built from, and that source's version.
    pub source_name: String,
    pub source_version: String,
}

/// Why a package database could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the dpkg database cannot be read: {0}")]
pub struct DpkgError(String);

/// The installed packages of a `status` file, or of one `status.d/` file (whose paragraphs
/// have no `Status` field, since only installed packages get one).
///
/// Paragraphs of removed packages (`deinstall ok config-files`), half-installed ones and ones
/// without a name or version are left out: they are not what the image runs.
pub fn installed_packages(database: &[u8]) -> Result<Vec<DpkgPackage>, DpkgError> {
    // Descriptions may be in any encoding; the fields read here are ASCII by policy.
    let text = String::from_utf8_lossy(database);
    let document: deb822_fast::Deb822 = text
        .parse()
        .map_err(|e: deb822_fast::Error| DpkgError(e.to_string()))?;
    let mut packages = Vec::new();
    for paragraph in document.iter() {
        let installed = paragraph
            .get("Status")
            .is_none_or(|status| status.split_whitespace().nth(2) == Some("installed"));
        let field = |name| paragraph.get(name).map(str::trim).filter(|v| !v.is_empty());
        let (Some(name), Some(version)) = (field("Package"), field("Version")) else {
            continue;
        };
        if !installed {
            continue;
        }
        let (source_name, source_version) = match field("Source") {
            None => (name, version),
            Some(source) => match source.split_once(' ') {
                // `name (version)`: the binary was rebuilt without a new source upload.
                Some((source_name, rest)) => (
                    source_name,
                    rest.trim()
                        .strip_prefix('(')
                        .and_then(|v| v.strip_suffix(')'))
                        .unwrap_or(version),
                ),
                None => (source, version),
            },
        };
        packages.push(DpkgPackage {
            name: name.to_string(),
            version: version.to_string(),
            architecture: field("Architecture").map(str::to_string),
            source_name: source_name.to_string(),
            source_version: source_version.to_string(),
        });
    }
    Ok(packages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Six paragraphs of a real Debian 12 status file (this repository's test data).
    const REAL_STATUS: &[u8] = include_bytes!("../tests/data/dpkg-status");

    fn summary(packages: &[DpkgPackage]) -> Vec<(&str, &str, &str, &str)> {
        packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.source_name.as_str(),
                    p.source_version.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn reads_binary_packages_and_their_sources() {
        let packages = installed_packages(REAL_STATUS).unwrap();
        assert_eq!(
            summary(&packages),
            [
                ("base-files", "12.4+deb12u11", "base-files", "12.4+deb12u11"),
                ("libc6", "2.36-9+deb12u14", "glibc", "2.36-9+deb12u14"),
                ("libssl3", "3.0.19-1~deb12u2", "openssl", "3.0.19-1~deb12u2"),
                ("tzdata", "2025b-0+deb12u2", "tzdata", "2025b-0+deb12u2"),
                ("zlib1g", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1"),
                ("bash", "5.2.15-2+b8", "bash", "5.2.15-2"),
            ]
        );
        assert_eq!(packages[1].architecture.as_deref(), Some("amd64"));
        assert_eq!(packages[3].architecture.as_deref(), Some("all"));
    }

    #[test]
    fn leaves_out_what_is_not_installed() {
        let status = b"Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0-1\n\n\
Package: half\nStatus: install reinstreq half-installed\nVersion: 2.0-1\n\n\
Package: nameless-version\nStatus: install ok installed\n\n\
Package: kept\nStatus: install ok installed\nVersion: 3.0-1\n";
        let packages = installed_packages(status).unwrap();
        assert_eq!(summary(&packages), [("kept", "3.0-1", "kept", "3.0-1")]);
        // A distroless `status.d/` file: one paragraph, no Status field.
        let distroless = b"Package: libssl3\nVersion: 3.0.11-1~deb12u2\nSource: openssl\n";
        assert_eq!(
            summary(&installed_packages(distroless).unwrap()),
            [("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2")]
        );
    }

    #[test]
    fn a_broken_database_says_so() {
        let error = installed_packages(b" leading space\nPackage: x\n").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the dpkg database cannot be read"),
            "{error}"
        );
    }

    proptest! {
        /// Image content is hostile: any bytes give packages or an error, never a panic.
        #[test]
        fn fuzz_any_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            let _ = installed_packages(&bytes);
        }

        /// The real file with bytes changed here and there: still no panic, and every
        /// package read has a name and a version.
        #[test]
        fn fuzz_a_mutated_real_database_is_read_or_refused(
            edits in prop::collection::vec((0..REAL_STATUS.len(), any::<u8>()), 1..16)
        ) {
            let mut bytes = REAL_STATUS.to_vec();
            for (at, byte) in edits {
                bytes[at] = byte;
            }
            if let Ok(packages) = installed_packages(&bytes) {
                for package in packages {
                    prop_assert!(!package.name.is_empty() && !package.version.is_empty());
                }
            }
        }
    }
}
