//! Paths inside image layers and layouts, which are untrusted: tar entry names and link
//! targets may try to reach outside the root they unpack into.

/// `path` relative to the root, with empty, `.` and `..` components resolved; `None` when a
/// `..` climbs above the root. For entry names, where climbing out is an attack to refuse.
pub fn within_root(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// `path` resolved as a kernel resolves a symlink target inside a root it is confined to: a
/// `..` at the root stays at the root.
pub fn clamped_to_root(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_inside_the_root() {
        assert_eq!(
            within_root("./usr//lib/../lib/os-release").as_deref(),
            Some("usr/lib/os-release")
        );
        assert_eq!(
            within_root("/etc/os-release").as_deref(),
            Some("etc/os-release")
        );
        assert_eq!(within_root("a/../../etc/passwd"), None);
        assert_eq!(clamped_to_root("a/../../etc/passwd"), "etc/passwd");
        assert_eq!(clamped_to_root("/"), "");
    }
}
