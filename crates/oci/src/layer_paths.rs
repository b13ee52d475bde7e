//! Paths inside image layers and layouts, which are untrusted: tar entry names and link
//! targets may try to reach outside the root they unpack into.

/// `path` relative to the root, with empty, `.` and `..` components resolved; `None` when a
/// `..` climbs above the root. For entry names, where climbing out is an attack to refuse.
pub fn within_root(path: &str) -> Option<String> {
    let (resolved, climbed_out) = resolve(path);
    (!climbed_out).then_some(resolved)
}

/// `path` resolved as a kernel resolves a symlink target inside a root it is confined to: a
/// `..` at the root stays at the root.
pub fn clamped_to_root(path: &str) -> String {
    resolve(path).0
}

/// `path` resolved, each `..` at the root dropped, and whether there was one.
fn resolve(path: &str) -> (String, bool) {
    let mut parts: Vec<&str> = Vec::new();
    let mut climbed_out = false;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => climbed_out |= parts.pop().is_none(),
            part => parts.push(part),
        }
    }
    (parts.join("/"), climbed_out)
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
