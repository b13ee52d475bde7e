use std::fmt;

use crate::digest::{Digest, DigestError};

/// Repository names longer than this are refused. Docker and most clients cap the whole
/// `host/name` reference at 255 characters, so a longer name could never be pulled anyway.
pub const MAX_NAME_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("invalid repository name: {0}")]
    InvalidName(String),
    #[error("invalid tag: {0}")]
    InvalidTag(String),
    #[error(transparent)]
    InvalidDigest(#[from] DigestError),
}

/// A repository name that matches the distribution spec grammar:
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName(String);

impl RepoName {
    pub fn parse(text: &str) -> Result<RepoName, NameError> {
        if text.is_empty() {
            return Err(NameError::InvalidName("the name is empty".into()));
        }
        if text.len() > MAX_NAME_LEN {
            return Err(NameError::InvalidName(format!(
                "the name is {} characters long; the limit is {MAX_NAME_LEN}",
                text.len()
            )));
        }
        for component in text.split('/') {
            if !is_path_component(component) {
                return Err(NameError::InvalidName(format!(
                    "`{}` is not a valid path component: use lowercase letters and digits, separated by `.`, `_`, `__` or `-`",
                    component.chars().take(64).collect::<String>()
                )));
            }
        }
        Ok(RepoName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first path segment, which Berth calls the space (a Harbor project).
    pub fn space(&self) -> &str {
        space_of(&self.0)
    }
}

/// The space of a repository name: its first path segment (`team-a` for `team-a/app/x`).
///
/// This is the one place that knows how a space is found in a name. It takes unparsed text
/// because token scopes and external registries' catalogs name repositories before anything
/// has checked them; for a name with no `/` the whole name is the space.
pub fn space_of(repository: &str) -> &str {
    repository.split('/').next().unwrap_or(repository)
}

/// A name Berth serves as a pull-through proxy, split into the registry it names and the
/// repository inside that registry: `dist/team/web` is repository `team/web` of registry
/// `dist`, whose space is then `space_of("team/web")`. `None` for a name of one component,
/// which names no registry. Whether the first component really is a proxied registry is for
/// the caller to look up; this only says how such a name is read.
pub fn split_proxied(repository: &str) -> Option<(&str, &str)> {
    repository
        .split_once('/')
        .filter(|(registry, rest)| !registry.is_empty() && !rest.is_empty())
}

/// How [`is_resource_name`] names are made, as error messages describe it.
pub const RESOURCE_NAME_RULE: &str =
    "2 to 63 lowercase letters and digits, separated by single `.`, `_` or `-`";

/// Whether `value` is a name Berth gives its own resources: workspaces, spaces, robots and
/// registries. `[a-z0-9]+([._-][a-z0-9]+)*`, 2–63 characters. Spaces are the first segment of
/// repository names, so every such name is also a valid repository path component.
pub fn is_resource_name(value: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let separator = |c: char| matches!(c, '.' | '_' | '-');
    (2..=63).contains(&value.len())
        && value.chars().all(|c| alnum(c) || separator(c))
        && value
            .split(separator)
            .all(|part| !part.is_empty() && part.chars().all(alnum))
}

/// How [`is_username`] names are made, as error messages describe it.
pub const USERNAME_RULE: &str =
    "start with a lowercase letter or digit, then up to 62 lowercase letters, digits, `.`, `_` or `-`";

/// Whether `value` is a username: `[a-z0-9][a-z0-9._-]{0,62}`. `robot$…` names cannot match,
/// which keeps them for robot accounts.
pub fn is_username(value: &str) -> bool {
    let mut chars = value.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    first_ok
        && value.len() <= 63
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// One `/`-separated component: alphanumeric runs joined by `.`, `_`, `__` or any number of `-`.
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator run: exactly `.`, `_`, `__`, or one or more `-`.
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let valid = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-');
        if !valid {
            return false;
        }
    }
    true
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub fn parse(text: &str) -> Result<Tag, NameError> {
        let bytes = text.as_bytes();
        let first_ok = bytes
            .first()
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        let rest_ok = bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !first_ok || !rest_ok || bytes.len() > 128 {
            return Err(NameError::InvalidTag(format!(
                "`{}` must match [a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}",
                text.chars().take(140).collect::<String>()
            )));
        }
        Ok(Tag(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `<reference>` of a manifest URL: a tag or a digest. A `:` can only appear in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    Tag(Tag),
    Digest(Digest),
}

impl Reference {
    pub fn parse(text: &str) -> Result<Reference, NameError> {
        if text.contains(':') {
            Ok(Reference::Digest(Digest::parse(text)?))
        } else {
            Ok(Reference::Tag(Tag::parse(text)?))
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(t) => t.fmt(f),
            Reference::Digest(d) => d.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_name(input: &str, valid: bool) {
        assert_eq!(RepoName::parse(input).is_ok(), valid, "{input:?}");
    }

    #[test]
    fn repository_names_follow_the_grammar() {
        for ok in [
            "a",
            "library/alpine",
            "team-a/app",
            "a__b/c.d/e---f",
            "x0/y_z",
            "a/b/c/d/e",
        ] {
            check_name(ok, true);
        }
        for bad in [
            "",
            "../x",
            "Library/alpine",
            "a//b",
            "/a",
            "a/",
            "a___b",
            "a..b",
            "-a",
            "a-",
            "a/.b",
            "a b",
            "a%2Fb",
            &"a".repeat(300),
        ] {
            check_name(bad, false);
        }
        check_name(&"a".repeat(255), true);
        assert_eq!(RepoName::parse("team-a/app/x").unwrap().space(), "team-a");
    }

    #[test]
    fn tags_and_references() {
        assert!(Tag::parse("v1.0_rc-1").is_ok());
        assert!(Tag::parse("_x").is_ok());
        assert!(Tag::parse(".x").is_err());
        assert!(Tag::parse("-x").is_err());
        assert!(Tag::parse("").is_err());
        assert!(Tag::parse(&"a".repeat(128)).is_ok());
        assert!(Tag::parse(&"a".repeat(129)).is_err());
        assert!(matches!(Reference::parse("latest"), Ok(Reference::Tag(_))));
        assert!(matches!(
            Reference::parse(
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ),
            Ok(Reference::Digest(_))
        ));
        assert!(Reference::parse("sha256:zz").is_err());
    }
}
