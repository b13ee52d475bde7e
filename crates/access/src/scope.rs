//! Docker token scopes: what a client asks `/auth/token` for, and what a token carries.

use std::fmt;

/// An action on a repository, as named in Docker token scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Pull,
    Push,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }

    fn parse(text: &str) -> Option<Action> {
        match text {
            "pull" => Some(Action::Pull),
            "push" => Some(Action::Push),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// One requested or granted scope, e.g. `repository:library/alpine:pull,push`.
///
/// Only two resources exist on the hosted registry: repositories, and the `registry:catalog`
/// listing. Actions Berth does not know (and `*`, which clients use for "everything") are
/// expanded or dropped here so that a token never names an action nobody decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Repository { name: String, actions: Vec<Action> },
    Catalog,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope `{0}`: expected `repository:<name>:<actions>` or `registry:catalog:*`")]
pub struct ScopeError(pub String);

impl Scope {
    /// Parses `type:name:actions`. The name may itself contain `:` (a host with a port), so
    /// the type is split at the first colon and the actions at the last.
    pub fn parse(text: &str) -> Result<Scope, ScopeError> {
        let error = || ScopeError(text.chars().take(200).collect());
        let (resource_type, rest) = text.split_once(':').ok_or_else(error)?;
        let (name, actions) = rest.rsplit_once(':').ok_or_else(error)?;
        if name.is_empty() {
            return Err(error());
        }
        match resource_type {
            "repository" => {
                let mut parsed: Vec<Action> = Vec::new();
                for action in actions.split(',') {
                    match action {
                        "*" => parsed.extend([Action::Pull, Action::Push, Action::Delete]),
                        other => parsed.extend(Action::parse(other)),
                    }
                }
                parsed.sort();
                parsed.dedup();
                Ok(Scope::Repository {
                    name: name.to_string(),
                    actions: parsed,
                })
            }
            "registry" if name == "catalog" => Ok(Scope::Catalog),
            _ => Err(error()),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Repository { name, actions } => {
                let actions: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
                write!(f, "repository:{name}:{}", actions.join(","))
            }
            Scope::Catalog => f.write_str("registry:catalog:*"),
        }
    }
}

/// Whether the `granted` scopes of a token allow `action` on repository `name`. A token is
/// checked this way on every `/v2` request, so this is the only reading of a token's rights.
pub fn allows(granted: &[Scope], name: &str, action: Action) -> bool {
    granted.iter().any(|scope| match scope {
        Scope::Repository { name: n, actions } => n == name && actions.contains(&action),
        Scope::Catalog => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_parse(input: &str, expected: Option<&str>) {
        let got = Scope::parse(input).ok().map(|s| s.to_string());
        assert_eq!(got.as_deref(), expected, "{input}");
    }

    #[test]
    fn parses_scopes() {
        check_parse(
            "repository:library/alpine:pull",
            Some("repository:library/alpine:pull"),
        );
        check_parse("repository:a/b:push,pull", Some("repository:a/b:pull,push"));
        check_parse("repository:a/b:*", Some("repository:a/b:pull,push,delete"));
        check_parse(
            "repository:host:5000/a:pull",
            Some("repository:host:5000/a:pull"),
        );
        check_parse("repository:a:frobnicate", Some("repository:a:"));
        check_parse("registry:catalog:*", Some("registry:catalog:*"));
        check_parse("registry:other:*", None);
        check_parse("repository::pull", None);
        check_parse("nonsense", None);
    }

    #[test]
    fn a_token_allows_only_what_it_names() {
        let granted = [
            Scope::parse("repository:a/b:pull,push").unwrap(),
            Scope::Catalog,
        ];
        assert!(allows(&granted, "a/b", Action::Push));
        assert!(!allows(&granted, "a/b", Action::Delete));
        assert!(!allows(&granted, "a/c", Action::Pull));
        assert!(!allows(&granted, "catalog", Action::Pull));
    }
}
