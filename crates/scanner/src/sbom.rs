//! Software bills of materials of a scanned image, from the packages its last scan read: SPDX
//! 2.3 and CycloneDX 1.5, both as JSON. Each package carries its package URL (purl), and the
//! image is the document's subject, containing every package.

use berth_api_types::PackageView;
use berth_scan::advisory::comparable_name;
use packageurl::PackageUrl;
use serde_json::{json, Value};

/// The SBOM formats served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    SpdxJson,
    CycloneDxJson,
}

impl SbomFormat {
    /// The format a `format=` parameter names, if any.
    pub fn parse(name: &str) -> Option<SbomFormat> {
        match name {
            "spdx-json" => Some(SbomFormat::SpdxJson),
            "cyclonedx-json" => Some(SbomFormat::CycloneDxJson),
            _ => None,
        }
    }

    /// The media type of a document in this format.
    pub fn media_type(self) -> &'static str {
        match self {
            SbomFormat::SpdxJson => "application/spdx+json",
            SbomFormat::CycloneDxJson => "application/vnd.cyclonedx+json",
        }
    }
}

/// The image an SBOM describes.
#[derive(Debug, Clone)]
pub struct SbomSubject<'a> {
    /// `<host>/<repository>`, as it is pulled.
    pub reference: &'a str,
    pub digest: &'a str,
    /// When the scan that read the packages finished, in milliseconds since the epoch.
    pub created: i64,
    /// A URL this document is unique under, for SPDX's `documentNamespace`.
    pub namespace: &'a str,
}

/// The SBOM of `packages` in `format`.
pub fn sbom(format: SbomFormat, subject: &SbomSubject<'_>, packages: &[PackageView]) -> Value {
    match format {
        SbomFormat::SpdxJson => spdx(subject, packages),
        SbomFormat::CycloneDxJson => cyclonedx(subject, packages),
    }
}

/// A package's purl (`pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12`), or `None`
/// for an ecosystem purl has no type for.
pub fn purl(package: &PackageView) -> Option<String> {
    let (ecosystem, release) = match package.ecosystem.split_once(':') {
        Some((ecosystem, release)) => (ecosystem, Some(release)),
        None => (package.ecosystem.as_str(), None),
    };
    let (ty, namespace, name) = match ecosystem {
        "Debian" => ("deb", Some("debian"), package.name.as_str()),
        "PyPI" => ("pypi", None, package.name.as_str()),
        "crates.io" => ("cargo", None, package.name.as_str()),
        "Go" => ("golang", None, package.name.as_str()),
        "npm" => match package.name.split_once('/') {
            Some((scope, name)) if scope.starts_with('@') => ("npm", Some(scope), name),
            _ => ("npm", None, package.name.as_str()),
        },
        _ => return None,
    };
    // PyPI names are normalised as PEP 503 does, as the purl spec asks.
    let name = if ty == "pypi" {
        comparable_name(&osv::schema::Ecosystem::PyPI, name).into_owned()
    } else {
        name.to_string()
    };
    let mut url = PackageUrl::new(ty, name).ok()?;
    if let Some(namespace) = namespace {
        url.with_namespace(namespace);
    }
    url.with_version(package.version.as_str());
    if ty == "deb" {
        if let Some(release) = release {
            url.add_qualifier("distro", format!("debian-{release}"))
                .ok()?;
        }
        if let Some(source) = package
            .source_name
            .as_deref()
            .filter(|s| *s != package.name)
        {
            url.add_qualifier("upstream", source.to_string()).ok()?;
        }
    }
    Some(url.to_string())
}

fn spdx(subject: &SbomSubject<'_>, packages: &[PackageView]) -> Value {
    let image = json!({
        "SPDXID": "SPDXRef-Image",
        "name": subject.reference,
        "versionInfo": subject.digest,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "CONTAINER",
    });
    let mut items = vec![image];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Image",
    })];
    for (n, package) in packages.iter().enumerate() {
        let id = format!("SPDXRef-Package-{n}");
        let mut item = json!({
            "SPDXID": id,
            "name": package.name,
            "versionInfo": package.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "sourceInfo": format!("read from /{} ({})", package.found_in, package.ecosystem),
            "primaryPackagePurpose": "LIBRARY",
        });
        if let Some(purl) = purl(package) {
            item["externalRefs"] = json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }]);
        }
        items.push(item);
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Image",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{}@{}", subject.reference, subject.digest),
        "documentNamespace": subject.namespace,
        "creationInfo": {
            // SPDX 2.3 wants whole seconds (`2010-02-03T00:00:00Z`).
            "created": berth_store::rfc3339(subject.created.div_euclid(1000) * 1000),
            "creators": [format!("Tool: {}-{}", crate::SCANNER_NAME, crate::SCANNER_VERSION)],
        },
        "packages": items,
        "relationships": relationships,
    })
}

fn cyclonedx(subject: &SbomSubject<'_>, packages: &[PackageView]) -> Value {
    let components: Vec<Value> = packages
        .iter()
        .enumerate()
        .map(|(n, package)| {
            let mut component = json!({
                "type": "library",
                "bom-ref": format!("package-{n}"),
                "name": package.name,
                "version": package.version,
                "properties": [
                    {"name": "berth:ecosystem", "value": package.ecosystem},
                    {"name": "berth:found_in", "value": format!("/{}", package.found_in)},
                ],
            });
            if let Some(purl) = purl(package) {
                component["purl"] = json!(purl);
            }
            component
        })
        .collect();
    let dependencies: Vec<&str> = components
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "version": 1,
        "metadata": {
            "timestamp": berth_store::rfc3339(subject.created),
            "tools": {"components": [{
                "type": "application",
                "name": crate::SCANNER_NAME,
                "version": crate::SCANNER_VERSION,
            }]},
            "component": {
                "type": "container",
                "bom-ref": "image",
                "name": subject.reference,
                "version": subject.digest,
            },
        },
        "components": components,
        "dependencies": [{"ref": "image", "dependsOn": dependencies}],
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn package(ecosystem: &str, name: &str, version: &str, source: Option<&str>) -> PackageView {
        PackageView {
            name: name.into(),
            version: version.into(),
            ecosystem: ecosystem.into(),
            source_name: source.map(Into::into),
            source_version: source.map(|_| version.into()),
            found_in: "var/lib/dpkg/status".into(),
        }
    }

    #[test]
    fn purls_follow_the_spec_of_each_type() {
        let cases = [
            (
                package("Debian:12", "libssl3", "3.0.11-1~deb12u2", Some("openssl")),
                "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12&upstream=openssl",
            ),
            (
                package("Debian:12", "zlib1g", "1:1.2.13.dfsg-1", Some("zlib")),
                "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?distro=debian-12&upstream=zlib",
            ),
            (
                package("PyPI", "Django_REST.framework", "3.14.0", None),
                "pkg:pypi/django-rest-framework@3.14.0",
            ),
            (
                package("npm", "@types/node", "20.1.0", None),
                "pkg:npm/%40types/node@20.1.0",
            ),
            (
                package("crates.io", "smallvec", "1.6.0", None),
                "pkg:cargo/smallvec@1.6.0",
            ),
        ];
        for (package, expected) in cases {
            let found = purl(&package).unwrap();
            // The crate may encode `:` and `~` in versions; both spellings parse alike.
            let parsed = PackageUrl::from_str(&found).unwrap();
            let wanted = PackageUrl::from_str(expected).unwrap();
            assert_eq!(parsed, wanted, "{found} is not {expected}");
        }
        assert_eq!(purl(&package("Alpine:v3.19", "musl", "1.2", None)), None);
    }
}
