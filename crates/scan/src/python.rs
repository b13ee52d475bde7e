//! Python distributions installed in an image, from their core metadata: `METADATA` in a
//! `*.dist-info` folder (what pip and wheels install), `PKG-INFO` in a `*.egg-info` folder, or
//! a `*.egg-info` file (old distutils installs). The format is email headers (the core
//! metadata specification), read with `mailparse`.

/// Whether `path` is a distribution's core metadata file.
pub fn is_metadata_path(path: &str) -> bool {
    let (folder, file) = match path.rsplit_once('/') {
        Some((dir, file)) => (dir.rsplit('/').next().unwrap_or(dir), file),
        None => ("", path),
    };
    (file == "METADATA" && folder.ends_with(".dist-info"))
        || (file == "PKG-INFO" && folder.ends_with(".egg-info"))
        || (file.ends_with(".egg-info") && file.len() > ".egg-info".len())
}

/// Why a metadata file gave no distribution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PythonError {
    #[error("the metadata cannot be read: {0}")]
    Unreadable(String),
    #[error("the metadata has no `{0}` field")]
    Missing(&'static str),
}

/// The name and version a core metadata file declares.
pub fn distribution(metadata: &[u8]) -> Result<(String, String), PythonError> {
    let (headers, _) =
        mailparse::parse_headers(metadata).map_err(|e| PythonError::Unreadable(e.to_string()))?;
    let field = |name: &'static str| {
        mailparse::MailHeaderMap::get_first_value(headers.as_slice(), name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or(PythonError::Missing(name))
    };
    Ok((field("Name")?, field("Version")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The head of pip 23.2.1's `METADATA`, as pip installed it on this project's machines.
    const PIP: &[u8] = b"Metadata-Version: 2.1\nName: pip\nVersion: 23.2.1\n\
Summary: The PyPA recommended tool for installing Python packages.\nHome-page: https://pip.pypa.io/\n\
Author: The pip developers\nLicense: MIT\nProject-URL: Source, https://github.com/pypa/pip\n\
Classifier: Development Status :: 5 - Production/Stable\nRequires-Python: >=3.7\n\n\
pip - The Python Package Installer\n==================================\n";

    #[test]
    fn reads_name_and_version() {
        assert_eq!(distribution(PIP).unwrap(), ("pip".into(), "23.2.1".into()));
        // Folded headers and CRLF line ends, as old `PKG-INFO` files have them.
        let folded = b"Metadata-Version: 1.0\r\nName: zope.interface\r\nVersion:\r\n 4.1.1\r\n\r\n";
        assert_eq!(
            distribution(folded).unwrap(),
            ("zope.interface".into(), "4.1.1".into())
        );
        assert_eq!(
            distribution(b"Name: x\n\nVersion: 1.0\n"),
            Err(PythonError::Missing("Version"))
        );
    }

    #[test]
    fn knows_the_metadata_paths() {
        for (path, wanted) in [
            (
                "usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA",
                true,
            ),
            (
                "usr/local/lib/python3.11/site-packages/urllib3-1.26.4.dist-info/METADATA",
                true,
            ),
            (
                "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
                true,
            ),
            ("usr/lib/python2.7/dist-packages/old-1.0.egg-info", true),
            (
                "usr/lib/python3/dist-packages/requests-2.28.1.dist-info/RECORD",
                false,
            ),
            ("usr/share/doc/METADATA", false),
            (".egg-info", false),
        ] {
            assert_eq!(is_metadata_path(path), wanted, "{path}");
        }
    }

    proptest! {
        #[test]
        fn fuzz_any_bytes_give_a_distribution_or_a_reason(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
            let _ = distribution(&bytes);
        }

        #[test]
        fn fuzz_mutated_metadata_gives_a_distribution_or_a_reason(edits in prop::collection::vec((0..PIP.len(), any::<u8>()), 1..10)) {
            let mut bytes = PIP.to_vec();
            for (at, byte) in edits {
                bytes[at] = byte;
            }
            if let Ok((name, version)) = distribution(&bytes) {
                prop_assert!(!name.is_empty() && !version.is_empty());
            }
        }
    }
}
