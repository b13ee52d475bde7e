//! The matcher against the OSV schema's examples and against real advisories: the OSV
//! exports in `shared/data/osv/` beside the checkout (or `$BERTH_OSV_DIR`), whose README says
//! where each comes from.

use std::io::Read;

use berth_scan::advisory::{evaluate, InstalledPackage, MatchError, Verdict};
use berth_scan::severity::{RatingSource, Severity};
use berth_scan::version::VersionScheme;
use osv::schema::{Ecosystem, Event, RangeType, Vulnerability};

/// Every advisory of one export, or `None` (with a note) when the data is not there.
fn export(ecosystem: &str) -> Option<Vec<Vulnerability>> {
    let path = berth_testkit::shared::osv_export(ecosystem)?;
    let file = std::fs::File::open(&path).unwrap();
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

fn advisory(affected: serde_json::Value) -> Vulnerability {
    serde_json::from_value(serde_json::json!({
        "id": "TEST-1",
        "modified": "2026-01-01T00:00:00Z",
        "affected": affected,
    }))
    .unwrap()
}

/// The schema's own examples: several ranges, a re-introduction, and limits.
#[test]
fn ranges_follow_the_schema_examples() {
    let two_branches = advisory(serde_json::json!([{
        "package": {"ecosystem": "crates.io", "name": "demo"},
        "ranges": [{"type": "SEMVER", "events": [
            {"introduced": "1.0.0"}, {"fixed": "1.0.2"},
            {"introduced": "1.1.0"}, {"fixed": "1.1.5"},
        ]}],
    }]));
    for (version, expected) in [
        ("0.9.0", Verdict::NotAffected),
        ("1.0.0", affected(Some("1.0.2"))),
        ("1.0.1", affected(Some("1.0.2"))),
        ("1.0.2", Verdict::NotAffected),
        ("1.0.9", Verdict::NotAffected),
        ("1.1.0", affected(Some("1.1.5"))),
        ("1.1.5", Verdict::NotAffected),
        ("2.0.0", Verdict::NotAffected),
    ] {
        assert_eq!(
            verdict(&two_branches, "crates.io", "demo", version),
            expected,
            "{version}"
        );
    }
    // Events out of order are walked in version order.
    let unordered = advisory(serde_json::json!([{
        "package": {"ecosystem": "crates.io", "name": "demo"},
        "ranges": [{"type": "SEMVER", "events": [{"fixed": "2.0.0"}, {"introduced": "0"}]}],
    }]));
    assert_eq!(
        verdict(&unordered, "crates.io", "demo", "1.9.9"),
        affected(Some("2.0.0"))
    );
    assert_eq!(
        verdict(&unordered, "crates.io", "demo", "2.0.0"),
        Verdict::NotAffected
    );
    let limited = advisory(serde_json::json!([{
        "package": {"ecosystem": "crates.io", "name": "demo"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"limit": "1.5.0"}]}],
    }]));
    assert_eq!(
        verdict(&limited, "crates.io", "demo", "1.4.0"),
        affected(None)
    );
    assert_eq!(
        verdict(&limited, "crates.io", "demo", "1.5.0"),
        Verdict::NotAffected
    );
    let unlimited = advisory(serde_json::json!([{
        "package": {"ecosystem": "crates.io", "name": "demo"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"limit": "*"}]}],
    }]));
    assert_eq!(
        verdict(&unlimited, "crates.io", "demo", "99.0.0"),
        affected(None)
    );
}

#[test]
fn listed_versions_and_names_match_as_the_ecosystem_reads_them() {
    let listed = advisory(serde_json::json!([{
        "package": {"ecosystem": "PyPI", "name": "Zope.Interface"},
        "ranges": [{"type": "GIT", "repo": "https://example.com/z.git", "events": [
            {"introduced": "0"}, {"fixed": "0123456789abcdef0123456789abcdef01234567"},
        ]}],
        "versions": ["4.0", "4.1.1"],
    }]));
    assert_eq!(
        verdict(&listed, "PyPI", "zope-interface", "4.0.0"),
        affected(None)
    );
    assert_eq!(
        verdict(&listed, "PyPI", "zope_interface", "4.1.1"),
        affected(None)
    );
    assert_eq!(
        verdict(&listed, "PyPI", "zope-interface", "4.1"),
        Verdict::NotAffected
    );
    assert_eq!(
        verdict(&listed, "PyPI", "zope-interfaces", "4.0"),
        Verdict::NotAffected
    );
    // Another ecosystem's package of the same name is another package.
    let ecosystem = Ecosystem::CratesIO;
    let other = InstalledPackage {
        ecosystem: &ecosystem,
        name: "Zope.Interface",
        version: "4.0.0",
    };
    assert_eq!(evaluate(&listed, other), Ok(Verdict::NotAffected));
}

#[test]
fn a_release_less_distribution_advisory_covers_every_release() {
    let any_release = advisory(serde_json::json!([{
        "package": {"ecosystem": "Debian", "name": "zlib"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.11.dfsg-4"}]}],
    }]));
    assert_eq!(
        verdict(&any_release, "Debian:12", "zlib", "1:1.2.11.dfsg-2"),
        affected(Some("1:1.2.11.dfsg-4"))
    );
    let bookworm_only = advisory(serde_json::json!([{
        "package": {"ecosystem": "Debian:12", "name": "zlib"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
    }]));
    assert_eq!(
        verdict(&bookworm_only, "Debian:11", "zlib", "1:1.2.11"),
        Verdict::NotAffected
    );
}

#[test]
fn what_cannot_be_evaluated_says_why() {
    let advisory = advisory(serde_json::json!([{
        "package": {"ecosystem": "crates.io", "name": "demo"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "one"}]}],
    }]));
    let crates = Ecosystem::CratesIO;
    let error = evaluate(
        &advisory,
        InstalledPackage {
            ecosystem: &crates,
            name: "demo",
            version: "1.0.0",
        },
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("`one` is not a SemVer version"),
        "{error}"
    );
    let alpine = Ecosystem::Alpine(Some("v3.20".into()));
    let error = evaluate(
        &advisory,
        InstalledPackage {
            ecosystem: &alpine,
            name: "demo",
            version: "1.0-r0",
        },
    )
    .unwrap_err();
    assert_eq!(
        error,
        MatchError::UnsupportedEcosystem("Alpine:v3.20".into())
    );
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

/// A layer holding `files` (path, bytes), gzip-compressed like most registries' layers.
fn gzip_layer(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, path, *bytes).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// From layer bytes to findings: a Debian 12 image whose dpkg database is six packages of a
/// real bookworm system, against the real Debian advisories. The expected counts were taken
/// with dpkg itself (`dpkg --compare-versions` over every `Debian:12` range of the export),
/// the reference order, so the matcher agrees with dpkg here advisory for advisory.
#[test]
fn a_debian_image_is_matched_through_its_source_packages() {
    let Some(debian) = export("Debian") else {
        return;
    };
    let os_release =
        b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n";
    let base = gzip_layer(&[("usr/lib/os-release", os_release)]);
    let status = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/dpkg-status"
    ))
    .unwrap();
    let packages = gzip_layer(&[("var/lib/dpkg/status", &status)]);
    let layers: Vec<_> = [base, packages]
        .iter()
        .map(|blob| berth_scan::layer::read_layer(blob.as_slice()).unwrap())
        .collect();
    let files = berth_scan::layer::ImageFiles::stack(&layers);
    let inventory = berth_scan::inventory::inventory(&files);
    assert_eq!(inventory.notes, Vec::<String>::new());
    assert_eq!(
        inventory.distribution.as_ref().and_then(|d| d.ecosystem()),
        Some(Ecosystem::Debian(Some("12".into())))
    );
    assert_eq!(inventory.packages.len(), 6);
    let index = berth_scan::findings::AdvisoryIndex::new(debian);
    let (findings, notes) = berth_scan::findings::findings(&inventory.packages, &index);
    assert_eq!(notes, Vec::<String>::new());
    let count = |package: &str| findings.iter().filter(|f| f.package == package).count();
    // Binary packages are matched through the source packages the advisories name.
    assert_eq!(
        ["libssl3", "libc6", "zlib1g", "bash", "base-files", "tzdata"].map(count),
        [21, 6, 3, 0, 0, 0]
    );
    let find = |id: &str| findings.iter().find(|f| f.advisory == id).unwrap();
    let zlib = find("DEBIAN-CVE-2026-27171");
    assert_eq!(
        (
            zlib.package.as_str(),
            zlib.installed.as_str(),
            zlib.fixed.as_deref()
        ),
        ("zlib1g", "1:1.2.13.dfsg-1", Some("1:1.2.13.dfsg-1+deb12u1"))
    );
    // Unfixed in bookworm: affected, and not fixable.
    assert_eq!(find("DEBIAN-CVE-2019-1010023").fixed, None);
    assert_eq!(
        find("DEBIAN-CVE-2026-7383").fixed.as_deref(),
        Some("3.0.20-1~deb12u2")
    );
}

/// Debian's records carry no severity: a record of the same CVE from another database lends
/// its CVSS rating, else Debian's urgency rates it, else it is unknown, and each finding says
/// which.
#[test]
fn debian_findings_borrow_ratings_from_related_records() {
    let (Some(debian), Some(crates), Some(pypi)) =
        (export("Debian"), export("crates.io"), export("PyPI"))
    else {
        return;
    };
    let index =
        berth_scan::findings::AdvisoryIndex::new(debian.into_iter().chain(crates).chain(pypi));
    let package = |source: &str, version: &str| berth_scan::inventory::Package {
        ecosystem: Ecosystem::Debian(Some("12".into())),
        name: format!("{source}-bin"),
        version: version.into(),
        source: Some((source.into(), version.into())),
        found_in: "var/lib/dpkg/status".into(),
    };
    let (findings, notes) = berth_scan::findings::findings(
        &[package("openssl", "1.1.1d-1"), package("apt", "2.6.1")],
        &index,
    );
    assert_eq!(notes, Vec::<String>::new());
    let rating = |id: &str| {
        &findings
            .iter()
            .find(|f| f.advisory == id)
            .unwrap_or_else(|| panic!("{id} is found"))
            .rating
    };
    // CVE-2020-1967 is also RUSTSEC-2020-0015 (openssl-src), rated CVSS:3.1 …/A:H = 7.5.
    let borrowed = rating("DEBIAN-CVE-2020-1967");
    assert_eq!(
        (borrowed.severity, borrowed.score),
        (Severity::High, Some(7.5))
    );
    assert_eq!(
        borrowed.source,
        RatingSource::Related {
            advisory: "RUSTSEC-2020-0015".into(),
            source: Box::new(RatingSource::Cvss {
                vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H".into()
            }),
        }
    );
    let urgency = rating("DEBIAN-CVE-2011-3374");
    assert_eq!(
        (urgency.severity, &urgency.source),
        (
            Severity::Low,
            &RatingSource::DebianUrgency {
                urgency: "unimportant".into()
            }
        )
    );
    let unrated = rating("DEBIAN-CVE-2024-0727");
    assert_eq!(
        (unrated.severity, &unrated.source),
        (Severity::Unknown, &RatingSource::Unrated)
    );
}

/// Python distributions (and, beside them, a Node package) found by their metadata are matched against the real PyPI advisories,
/// names compared as PEP 503 normalises them and ranges walked in version order even where
/// the advisory lists them out of order (`PYSEC-2023-192` names the 2.x branch first).
#[test]
fn python_distributions_are_found_and_matched() {
    let Some(pypi) = export("PyPI") else {
        return;
    };
    let site = "usr/local/lib/python3.11/site-packages";
    let metadata = |name: &str, version: &str| {
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: x\n\nbody\n")
    };
    let urllib3 = metadata("urllib3", "1.26.4");
    let requests = metadata("Requests", "2.31.0");
    let layer = gzip_layer(&[
        (
            &format!("{site}/urllib3-1.26.4.dist-info/METADATA"),
            urllib3.as_bytes(),
        ),
        (
            &format!("{site}/urllib3-1.26.4.dist-info/RECORD"),
            b"urllib3/__init__.py,,\n",
        ),
        (
            &format!("{site}/requests-2.31.0.dist-info/METADATA"),
            requests.as_bytes(),
        ),
        (
            &format!("{site}/broken-1.0.dist-info/METADATA"),
            b"Name: broken\n",
        ),
        (
            "usr/local/lib/node_modules/lodash/package.json",
            br#"{"name": "lodash", "version": "4.17.20"}"#,
        ),
    ]);
    let layers = [berth_scan::layer::read_layer(layer.as_slice()).unwrap()];
    let files = berth_scan::layer::ImageFiles::stack(&layers);
    let inventory = berth_scan::inventory::inventory(&files);
    let found: Vec<(&str, &str)> = inventory
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("lodash", "4.17.20"),
            ("Requests", "2.31.0"),
            ("urllib3", "1.26.4")
        ]
    );
    assert_eq!(inventory.packages[0].ecosystem, Ecosystem::Npm);
    assert_eq!(inventory.notes.len(), 1, "{:?}", inventory.notes);
    assert!(
        inventory.notes[0].contains("broken-1.0.dist-info/METADATA")
            && inventory.notes[0].contains("`Version`")
    );
    let index = berth_scan::findings::AdvisoryIndex::new(pypi);
    let (findings, notes) = berth_scan::findings::findings(&inventory.packages, &index);
    assert_eq!(notes, Vec::<String>::new());
    let fixed = |id: &str| {
        findings
            .iter()
            .find(|f| f.advisory == id)
            .unwrap_or_else(|| panic!("{id} is found: {findings:#?}"))
            .fixed
            .as_deref()
    };
    assert_eq!(fixed("PYSEC-2021-108"), Some("1.26.5"));
    assert_eq!(fixed("PYSEC-2023-192"), Some("1.26.17"));
    assert_eq!(fixed("PYSEC-2023-212"), Some("1.26.18"));
    assert!(findings
        .iter()
        .all(|f| f.package == "urllib3" || f.package == "Requests"));
}

/// A `Cargo.lock` in an image is matched against the real crates.io advisories: its
/// crates.io packages only, each range of several branches walked in order, the rating the
/// advisory's own CVSS vector.
#[test]
fn a_cargo_lock_is_matched_against_rustsec() {
    let Some(crates) = export("crates.io") else {
        return;
    };
    let lockfile = "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n\
[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\n\
source = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
    let layer = gzip_layer(&[("srv/app/Cargo.lock", lockfile.as_bytes())]);
    let layers = [berth_scan::layer::read_layer(layer.as_slice()).unwrap()];
    let inventory =
        berth_scan::inventory::inventory(&berth_scan::layer::ImageFiles::stack(&layers));
    assert_eq!(inventory.packages.len(), 1, "{inventory:?}");
    assert_eq!(inventory.packages[0].ecosystem, Ecosystem::CratesIO);
    let index = berth_scan::findings::AdvisoryIndex::new(crates);
    let (findings, notes) = berth_scan::findings::findings(&inventory.packages, &index);
    assert_eq!(notes, Vec::<String>::new());
    let finding = findings
        .iter()
        .find(|f| f.advisory == "RUSTSEC-2021-0003")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(finding.fixed.as_deref(), Some("1.6.1"));
    assert!(
        matches!(finding.rating.source, RatingSource::Cvss { .. }),
        "{:?}",
        finding.rating
    );
    assert!(finding.rating.score.is_some());
}
