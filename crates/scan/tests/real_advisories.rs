//! The matcher against real advisories: the OSV exports in `shared/data/osv/` beside the
//! checkout (or `$BERTH_OSV_DIR`), whose README says where each comes from.

use std::io::Read;
use std::path::PathBuf;

use berth_scan::advisory::{evaluate, InstalledPackage, Verdict};
use berth_scan::version::VersionScheme;
use osv::schema::{Ecosystem, Event, RangeType, Vulnerability};

/// Every advisory of one export, or `None` (with a note) when the data is not there and
/// `BERTH_REQUIRE_SPECS=1` does not demand it.
fn export(ecosystem: &str) -> Option<Vec<Vulnerability>> {
    let folder = match std::env::var_os("BERTH_OSV_DIR") {
        Some(folder) => PathBuf::from(folder),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv"),
    };
    let path = folder.join(format!("{ecosystem}.zip"));
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(error) if std::env::var("BERTH_REQUIRE_SPECS").as_deref() == Ok("1") => {
            panic!(
                "BERTH_REQUIRE_SPECS=1, but {} cannot be read: {error}",
                path.display()
            )
        }
        Err(error) => {
            eprintln!("note: {} is not there ({error}); skipped", path.display());
            return None;
        }
    };
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut advisories = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        let advisory: Vulnerability = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} in {ecosystem}.zip: {e}", entry.name()));
        advisories.push(advisory);
    }
    Some(advisories)
}

fn by_id<'a>(advisories: &'a [Vulnerability], id: &str) -> &'a Vulnerability {
    advisories
        .iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("{id} is in the export"))
}

fn verdict(advisory: &Vulnerability, ecosystem: &str, name: &str, version: &str) -> Verdict {
    let ecosystem: Ecosystem = serde_json::from_value(ecosystem.into()).unwrap();
    evaluate(
        advisory,
        InstalledPackage {
            ecosystem: &ecosystem,
            name,
            version,
        },
    )
    .unwrap()
}

fn affected(fixed: Option<&str>) -> Verdict {
    Verdict::Affected {
        fixed: fixed.map(str::to_string),
    }
}

/// Every export reads whole (the counts are its README's), and every version in its
/// `ECOSYSTEM` and `SEMVER` ranges reads in the scheme the matcher would use for it.
#[test]
fn every_real_advisory_reads_and_its_range_versions_parse() {
    for (ecosystem, count) in [
        ("Debian", 7_936),
        ("Go", 4_291),
        ("PyPI", 2_661),
        ("crates.io", 1_206),
    ] {
        let Some(advisories) = export(ecosystem) else {
            return;
        };
        assert_eq!(advisories.len(), count, "{ecosystem}");
        let mut unreadable = Vec::new();
        let mut events = 0;
        for advisory in &advisories {
            for affected in advisory.affected.iter().flatten() {
                let package = affected
                    .package
                    .as_ref()
                    .expect("every entry names a package");
                let scheme = VersionScheme::of(&package.ecosystem).expect("an ordered ecosystem");
                for range in affected.ranges.iter().flatten() {
                    let scheme = match range.range_type {
                        RangeType::Ecosystem => scheme,
                        RangeType::Semver if scheme == VersionScheme::Go => scheme,
                        RangeType::Semver => VersionScheme::SemVer,
                        _ => continue,
                    };
                    for event in &range.events {
                        let text = match event {
                            Event::Introduced(t) | Event::Fixed(t) | Event::LastAffected(t) => t,
                            _ => continue,
                        };
                        events += 1;
                        if text != "0" {
                            if let Err(error) = scheme.parse(text) {
                                unreadable.push(format!("{}: {error}", advisory.id));
                            }
                        }
                    }
                }
            }
        }
        assert!(events > count, "{ecosystem}: {events} range events");
        // Two PyPI ranges name versions PEP 440 has no spelling for (pip rejects them too
        // since `packaging` 22): upstream data, which the matcher reports as unevaluable
        // for a package of that name rather than guessing an order.
        let upstream_errors: &[&str] = match ecosystem {
            "PyPI" => &[
                "PYSEC-2019-125: `2019-09-12`",
                "PYSEC-2021-371: `0.2.0-n653`",
            ],
            _ => &[],
        };
        assert_eq!(
            unreadable.len(),
            upstream_errors.len(),
            "{ecosystem}: {unreadable:#?}"
        );
        for (found, known) in unreadable.iter().zip(upstream_errors) {
            assert!(found.starts_with(known), "{ecosystem}: {found}");
        }
    }
}

#[test]
fn debian_epochs_and_tildes() {
    let Some(debian) = export("Debian") else {
        return;
    };
    // zlib's fix in bookworm carries epoch 1, so a version without one is older than any.
    let zlib = by_id(&debian, "DEBIAN-CVE-2018-25032");
    for (version, expected) in [
        ("1:1.2.13.dfsg-1", Verdict::NotAffected),
        ("1:1.2.11.dfsg-4", Verdict::NotAffected),
        ("1:1.2.11.dfsg-2", affected(Some("1:1.2.11.dfsg-4"))),
        ("1.2.13.dfsg-1", affected(Some("1:1.2.11.dfsg-4"))),
    ] {
        assert_eq!(
            verdict(zlib, "Debian:12", "zlib", version),
            expected,
            "zlib {version}"
        );
    }
    // The advisory is about bookworm's zlib: another release or package is not covered.
    assert_eq!(
        verdict(zlib, "Debian:13", "zlib", "1:1.2.11.dfsg-2"),
        Verdict::NotAffected
    );
    assert_eq!(
        verdict(zlib, "Debian:12", "zlib1g", "1:1.2.11.dfsg-2"),
        Verdict::NotAffected
    );
    // A security upload `~deb12u1` is older than the unstable upload it backports, and a
    // bullseye build `~deb11u1` older still.
    let webkit = by_id(&debian, "DEBIAN-CVE-2014-1745");
    for (version, expected) in [
        ("2.42.1-1~deb11u1", affected(Some("2.42.1-1~deb12u1"))),
        ("2.42.1-1~deb12u1", Verdict::NotAffected),
        ("2.42.1-1", Verdict::NotAffected),
        ("2.40.5-1~deb12u1", affected(Some("2.42.1-1~deb12u1"))),
    ] {
        assert_eq!(
            verdict(webkit, "Debian:12", "webkit2gtk", version),
            expected,
            "webkit2gtk {version}"
        );
    }
}

#[test]
fn last_affected_bounds_the_range_and_names_no_fix() {
    let Some(pypi) = export("PyPI") else {
        return;
    };
    let py = by_id(&pypi, "PYSEC-2022-42969");
    assert_eq!(verdict(py, "PyPI", "py", "1.11.0"), affected(None));
    assert_eq!(verdict(py, "PyPI", "py", "1.10.0"), affected(None));
    assert_eq!(verdict(py, "PyPI", "py", "1.11.1"), Verdict::NotAffected);
}

#[test]
fn withdrawn_advisories_cover_nothing() {
    let (Some(go), Some(crates)) = (export("Go"), export("crates.io")) else {
        return;
    };
    let withdrawn = [
        (
            by_id(&go, "GO-2022-0617"),
            "Go",
            "k8s.io/kubernetes",
            "v1.25.0",
        ),
        (
            by_id(&crates, "RUSTSEC-2019-0031"),
            "crates.io",
            "spin",
            "0.0.0-alpha",
        ),
    ];
    for (advisory, ecosystem, name, version) in withdrawn {
        assert!(advisory.withdrawn.is_some(), "{}", advisory.id);
        assert_eq!(
            verdict(advisory, ecosystem, name, version),
            Verdict::NotAffected
        );
        // The same ranges would cover the version had the advisory stood.
        let mut standing = advisory.clone();
        standing.withdrawn = None;
        assert!(
            matches!(
                verdict(&standing, ecosystem, name, version),
                Verdict::Affected { .. }
            ),
            "{}",
            advisory.id
        );
    }
}
