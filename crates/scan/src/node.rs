//! Node packages installed in an image: each `node_modules/<name>/package.json` (scoped ones
//! at `node_modules/@scope/<name>/package.json`), which npm writes for every installed
//! package, nested `node_modules` included.

/// Whether `path` is the manifest of an installed package.
pub fn is_installed_manifest(path: &str) -> bool {
    let Some(folder) = path.strip_suffix("/package.json") else {
        return false;
    };
    let mut parts = folder.rsplit('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(name), Some("node_modules"), _) => !name.starts_with('@') && !name.is_empty(),
        (Some(name), Some(scope), Some("node_modules")) => {
            scope.starts_with('@') && scope.len() > 1 && !name.is_empty()
        }
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    #[error("the package.json cannot be read: {0}")]
    Unreadable(String),
    #[error("the package.json has no `{0}` string")]
    Missing(&'static str),
}

/// The name and version a `package.json` declares.
pub fn package(manifest: &[u8]) -> Result<(String, String), NodeError> {
    let value: serde_json::Value =
        serde_json::from_slice(manifest).map_err(|e| NodeError::Unreadable(e.to_string()))?;
    let field = |name: &'static str| {
        value
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or(NodeError::Missing(name))
    };
    Ok((field("name")?, field("version")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_installed_packages() {
        for (path, installed) in [
            ("usr/lib/node_modules/npm/package.json", true),
            ("app/node_modules/lodash/package.json", true),
            ("app/node_modules/@babel/core/package.json", true),
            ("app/node_modules/a/node_modules/b/package.json", true),
            ("app/package.json", false),
            ("app/node_modules/@babel/package.json", false),
            ("app/node_modules/lodash/fp/package.json", false),
        ] {
            assert_eq!(is_installed_manifest(path), installed, "{path}");
        }
    }

    #[test]
    fn reads_name_and_version() {
        let manifest = br#"{"name": "lodash", "version": "4.17.20", "main": "lodash.js"}"#;
        assert_eq!(
            package(manifest).unwrap(),
            ("lodash".into(), "4.17.20".into())
        );
        assert_eq!(
            package(br#"{"name": "x"}"#),
            Err(NodeError::Missing("version"))
        );
        assert!(matches!(package(b"{"), Err(NodeError::Unreadable(_))));
    }

    proptest! {
        #[test]
        fn fuzz_any_bytes_give_a_package_or_a_reason(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = package(&bytes);
        }
    }
}
