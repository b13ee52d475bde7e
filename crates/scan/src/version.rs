//! Versions as each ecosystem orders them.
//!
//! A version is parsed once in its scheme and then compared with others of the same scheme.
//! The orders come from crates made for them (dpkg's from `debversion`, PEP 440's from
//! `pep440_rs`, SemVer's from `semver`); this module only picks the scheme an ecosystem uses
//! and smooths the spellings each ecosystem allows around the core grammar.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use osv::schema::Ecosystem;

/// How an ecosystem orders its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionScheme {
    /// Debian's: `[epoch:]upstream[-revision]`, where `~` sorts before everything, even the
    /// end of the string (`1.0~rc1` < `1.0`).
    Dpkg,
    /// Semantic Versioning 2.0.0 (crates.io, npm, and OSV's `SEMVER` ranges).
    SemVer,
    /// Go modules: SemVer with a leading `v`, pseudo-versions being pre-releases.
    Go,
    /// Python's PEP 440 (`1.0.dev1` < `1.0a1` < `1.0rc1` < `1.0` < `1.0.post1`).
    Pep440,
}

/// A version that its scheme cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a {scheme} version: {reason}")]
pub struct VersionError {
    pub text: String,
    pub scheme: VersionScheme,
    pub reason: String,
}

impl fmt::Display for VersionScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VersionScheme::Dpkg => "dpkg",
            VersionScheme::SemVer => "SemVer",
            VersionScheme::Go => "Go module",
            VersionScheme::Pep440 => "PEP 440",
        })
    }
}

impl VersionScheme {
    /// The scheme an ecosystem's `ECOSYSTEM` ranges and versions use, or `None` for one Berth
    /// cannot order yet.
    pub fn of(ecosystem: &Ecosystem) -> Option<VersionScheme> {
        match ecosystem {
            Ecosystem::Debian(_) => Some(VersionScheme::Dpkg),
            Ecosystem::CratesIO | Ecosystem::Npm => Some(VersionScheme::SemVer),
            Ecosystem::Go => Some(VersionScheme::Go),
            Ecosystem::PyPI => Some(VersionScheme::Pep440),
            _ => None,
        }
    }

    pub fn parse(self, text: &str) -> Result<Version, VersionError> {
        let error = |reason: String| VersionError {
            text: text.to_string(),
            scheme: self,
            reason,
        };
        match self {
            VersionScheme::Dpkg => debversion::Version::from_str(text)
                .map(Version::Dpkg)
                .map_err(|e| error(e.to_string())),
            VersionScheme::SemVer => semver::Version::parse(text)
                .map(Version::SemVer)
                .map_err(|e| error(e.to_string())),
            // Module versions are written `v1.2.3`, OSV's Go ranges `1.2.3`: the same version.
            VersionScheme::Go => semver::Version::parse(text.strip_prefix('v').unwrap_or(text))
                .map(Version::Go)
                .map_err(|e| error(e.to_string())),
            VersionScheme::Pep440 => pep440_rs::Version::from_str(text)
                .map(Version::Pep440)
                .map_err(|e| error(e.to_string())),
        }
    }

    /// Orders two versions of this scheme.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        let (a, b) = (self.parse(a)?, self.parse(b)?);
        Ok(a.partial_cmp(&b).expect("versions of one scheme compare"))
    }
}

/// A parsed version. Versions of one scheme are ordered; versions of two are not comparable.
#[derive(Debug, Clone)]
pub enum Version {
    Dpkg(debversion::Version),
    SemVer(semver::Version),
    Go(semver::Version),
    Pep440(pep440_rs::Version),
}

impl Version {
    pub fn scheme(&self) -> VersionScheme {
        match self {
            Version::Dpkg(_) => VersionScheme::Dpkg,
            Version::SemVer(_) => VersionScheme::SemVer,
            Version::Go(_) => VersionScheme::Go,
            Version::Pep440(_) => VersionScheme::Pep440,
        }
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        match (self, other) {
            (Version::Dpkg(a), Version::Dpkg(b)) => Some(a.cmp(b)),
            // SemVer precedence ignores build metadata (`1.0.0+a` and `1.0.0+b` are equal),
            // where `semver::Version`'s `Ord` orders it too.
            (Version::SemVer(a), Version::SemVer(b)) | (Version::Go(a), Version::Go(b)) => {
                Some(a.cmp_precedence(b))
            }
            (Version::Pep440(a), Version::Pep440(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each list is strictly ascending in its scheme, taken from the scheme's own
    /// documentation: deb-version(7), semver.org §11, PEP 440's examples and the Go modules
    /// reference.
    const ASCENDING: &[(VersionScheme, &[&str])] = &[
        (
            VersionScheme::Dpkg,
            &[
                // deb-version(7): "~~" < "~~a" < "~" < "" < "a".
                "1.0~~",
                "1.0~~a",
                "1.0~",
                "1.0",
                // A revision after the upstream part; `~` in the revision sorts first too.
                "1.0-1~bpo1",
                "1.0-1",
                "1.0-1+deb12u1",
                "1.0-2",
                // Letters sort after the end of the string (but before non-letters).
                "1.0a",
                "1.0a-1",
                "1.0+dfsg",
                // Digit runs compare as numbers, not as text.
                "1.2",
                "1.10",
                "1.10.1",
                // An epoch outranks everything after it.
                "1:0.1",
                "1:1.2.11.dfsg-4",
                "2:0",
            ],
        ),
        (
            VersionScheme::SemVer,
            &[
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
                "2.0.0",
                "2.1.0",
                "2.1.1",
            ],
        ),
        (
            VersionScheme::Go,
            &[
                "v0.0.0-20190101000000-abcdefabcdef",
                "v0.0.0-20200101000000-abcdefabcdef",
                "v0.1.0",
                "1.19.9",
                "v1.19.10",
                "v1.20.0-rc.1",
                "1.20.0",
            ],
        ),
        (
            VersionScheme::Pep440,
            &[
                "1.0.dev456",
                "1.0a1",
                "1.0a2.dev456",
                "1.0a12.dev456",
                "1.0a12",
                "1.0b1.dev456",
                "1.0b2",
                "1.0b2.post345.dev456",
                "1.0b2.post345",
                "1.0rc1.dev456",
                "1.0rc1",
                "1.0",
                "1.0+abc.5",
                "1.0+abc.7",
                "1.0+5",
                "1.0.post456.dev34",
                "1.0.post456",
                "1.0.15",
                "1.1.dev1",
            ],
        ),
    ];

    #[test]
    fn documented_examples_are_in_order() {
        for (scheme, versions) in ASCENDING {
            for (i, a) in versions.iter().enumerate() {
                for (j, b) in versions.iter().enumerate() {
                    assert_eq!(
                        scheme.compare(a, b).unwrap(),
                        i.cmp(&j),
                        "{scheme}: {a} against {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn equal_spellings_are_equal() {
        for (scheme, a, b) in [
            // A missing epoch is 0, and a missing revision equals `0`.
            (VersionScheme::Dpkg, "0:1.0-1", "1.0-1"),
            (VersionScheme::Dpkg, "1.0", "1.0-0"),
            (VersionScheme::SemVer, "1.0.0+build.1", "1.0.0+build.2"),
            (VersionScheme::Go, "v1.2.3", "1.2.3"),
            (VersionScheme::Pep440, "1.0", "1.0.0"),
            (VersionScheme::Pep440, "1.0RC1", "1.0rc1"),
            (VersionScheme::Pep440, "v1.0", "1.0"),
        ] {
            assert_eq!(scheme.compare(a, b).unwrap(), Ordering::Equal, "{a} = {b}");
        }
    }

    #[test]
    fn unreadable_versions_say_why() {
        for (scheme, text) in [
            (VersionScheme::Dpkg, "1.0 beta"),
            (VersionScheme::SemVer, "1.0"),
            (VersionScheme::Go, "go1.21"),
            (VersionScheme::Pep440, "not-a-version"),
        ] {
            let error = scheme.parse(text).unwrap_err();
            assert_eq!((error.text.as_str(), error.scheme), (text, scheme));
            assert!(error.to_string().contains(&format!("`{text}`")), "{error}");
        }
    }

    #[test]
    fn versions_of_two_schemes_do_not_compare() {
        let dpkg = VersionScheme::Dpkg.parse("1.0").unwrap();
        let semver = VersionScheme::SemVer.parse("1.0.0").unwrap();
        assert_eq!(dpkg.partial_cmp(&semver), None);
        assert_ne!(dpkg, semver);
    }

    fn dpkg_versions() -> impl Strategy<Value = String> {
        (
            prop::option::of(0u32..3),
            "[0-9]{1,3}([.+~][0-9a-z]{1,3}){0,3}",
            prop::option::of("[0-9]{1,2}(~[a-z0-9]{1,4}|\\+deb[0-9]{1,2}u[0-9])?"),
        )
            .prop_map(|(epoch, upstream, revision)| {
                let epoch = epoch.map(|e| format!("{e}:")).unwrap_or_default();
                let revision = revision.map(|r| format!("-{r}")).unwrap_or_default();
                format!("{epoch}{upstream}{revision}")
            })
    }

    fn pep440_versions() -> impl Strategy<Value = String> {
        "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}((a|b|rc)[0-9])?(\\.post[0-9])?(\\.dev[0-9])?"
    }

    fn semver_versions() -> impl Strategy<Value = String> {
        // No leading zeros: SemVer forbids them in numbers and numeric identifiers.
        "(0|[1-9][0-9]?)\\.(0|[1-9][0-9]?)\\.(0|[1-9][0-9]?)(-(alpha|beta|rc|0|[1-9][0-9]?)(\\.([a-z][0-9a-z]{0,2}|0|[1-9][0-9]?)){0,2})?"
            .prop_map(String::from)
    }

    /// An order must be total and consistent, or sorting events and deciding "affected"
    /// would depend on the order advisories list them in.
    fn is_a_total_order(scheme: VersionScheme, a: &str, b: &str, c: &str) {
        let (x, y, z) = (
            scheme.parse(a).unwrap(),
            scheme.parse(b).unwrap(),
            scheme.parse(c).unwrap(),
        );
        let xy = x.partial_cmp(&y).unwrap();
        assert_eq!(y.partial_cmp(&x).unwrap(), xy.reverse(), "{a} {b}");
        if xy != Ordering::Greater && y.partial_cmp(&z).unwrap() != Ordering::Greater {
            assert_ne!(x.partial_cmp(&z).unwrap(), Ordering::Greater, "{a} {b} {c}");
        }
    }

    proptest! {
        #[test]
        fn dpkg_is_a_total_order(a in dpkg_versions(), b in dpkg_versions(), c in dpkg_versions()) {
            is_a_total_order(VersionScheme::Dpkg, &a, &b, &c);
        }

        #[test]
        fn pep440_is_a_total_order(a in pep440_versions(), b in pep440_versions(), c in pep440_versions()) {
            is_a_total_order(VersionScheme::Pep440, &a, &b, &c);
        }

        #[test]
        fn semver_is_a_total_order(a in semver_versions(), b in semver_versions(), c in semver_versions()) {
            is_a_total_order(VersionScheme::SemVer, &a, &b, &c);
        }

        /// A `~` suffix always sorts before the version without it, whatever follows it.
        #[test]
        fn dpkg_tilde_sorts_first(base in "[0-9]{1,3}(\\.[0-9]{1,3}){0,2}", suffix in "[a-z0-9.+~]{0,6}") {
            let earlier = format!("{base}~{suffix}");
            prop_assert_eq!(VersionScheme::Dpkg.compare(&earlier, &base).unwrap(), Ordering::Less);
        }
    }
}
