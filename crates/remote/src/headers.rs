//! The header grammars registries use: `WWW-Authenticate` challenges (RFC 7235, as Docker's
//! token auth uses them), `Link` (RFC 8288, for catalog and tag pages) and `Retry-After`
//! (RFC 9110). Pure functions, so they are tested on their own.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// One challenge of a `WWW-Authenticate` header: a scheme and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lowercase: `basic`, `bearer`, …
    pub scheme: String,
    /// Parameter names lowercased; values unquoted and unescaped.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Parses every challenge of a `WWW-Authenticate` value, e.g.
/// `Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"`
/// or `Basic realm="x", Bearer realm="y"`. Commas inside quoted values belong to the value;
/// a `token68` after a scheme is skipped. Malformed trailing text is ignored.
pub fn parse_challenges(value: &str) -> Vec<Challenge> {
    let mut lexer = Lexer {
        bytes: value.as_bytes(),
        text: value,
        pos: 0,
    };
    let mut challenges = Vec::new();
    loop {
        lexer.skip_separators();
        let Some(scheme) = lexer.token() else { break };
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: BTreeMap::new(),
        };
        // Parameters: `name = value` separated by commas, until a token that is not followed
        // by `=`, which starts the next challenge.
        loop {
            let save = lexer.pos;
            lexer.skip_separators();
            let Some(name) = lexer.token() else {
                // A token68 (`Basic dXNlcjpw==`) or garbage: skip to the next comma.
                lexer.skip_until_comma();
                if lexer.pos == save {
                    break;
                }
                if lexer.at_end() {
                    break;
                }
                continue;
            };
            lexer.skip_spaces();
            if !lexer.eat(b'=') {
                // The start of the next challenge.
                lexer.pos = save;
                break;
            }
            lexer.skip_spaces();
            let value = if lexer.peek() == Some(b'"') {
                lexer.quoted()
            } else {
                lexer.bare_value().to_string()
            };
            challenge.params.insert(name.to_ascii_lowercase(), value);
            if lexer.at_end() {
                break;
            }
        }
        challenges.push(challenge);
        if lexer.at_end() {
            break;
        }
    }
    challenges
}

struct Lexer<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn skip_until_comma(&mut self) {
        while let Some(b) = self.peek() {
            if b == b',' {
                break;
            }
            self.pos += 1;
        }
    }

    /// An RFC 9110 `token`.
    fn token(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            if !tchar {
                break;
            }
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.text[start..self.pos])
    }

    /// An unquoted value: a token by the RFC, but registries also send URLs unquoted, so
    /// everything up to the next comma or space.
    fn bare_value(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if matches!(b, b',' | b' ' | b'\t') {
                break;
            }
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// A quoted string starting at `"`; `\x` stands for `x`. An unterminated string runs to
    /// the end.
    fn quoted(&mut self) -> String {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.pos += 1;
        let mut value = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        value.push(next);
                        self.pos += 1;
                    }
                }
                other => value.push(other),
            }
        }
        String::from_utf8_lossy(&value).into_owned()
    }
}

/// The target of the `rel="next"` link in a `Link` header value, as written (relative or
/// absolute; the caller resolves it against the request URL). Several links may be listed,
/// separated by commas; `rel` may be quoted and may hold several relation types.
pub fn next_link(value: &str) -> Option<String> {
    let mut rest = value;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        rest = &rest[close + 1..];
        // Parameters run until the next `<` that follows a comma outside quotes.
        let mut end = rest.len();
        let mut quoted = false;
        for (i, c) in rest.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted && rest[i + 1..].trim_start().starts_with('<') => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let params = &rest[..end];
        rest = &rest[end..];
        let is_next = params.split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.trim().to_string());
        }
    }
}

/// How long `Retry-After` asks to wait, at most `cap`: delay-seconds or an HTTP date (a date
/// in the past means now). `None` when the value is neither.
pub fn retry_after(value: &str, now: SystemTime, cap: Duration) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn bearer_challenge_keeps_commas_inside_quotes() {
        let challenges = parse_challenges(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        );
        assert_eq!(
            challenges,
            vec![Challenge {
                scheme: "bearer".into(),
                params: params(&[
                    ("realm", "https://auth.docker.io/token"),
                    ("service", "registry.docker.io"),
                    ("scope", "repository:samalba/my-app:pull,push"),
                ]),
            }]
        );
    }

    #[test]
    fn challenges_tolerate_spacing_case_and_escapes() {
        let challenges = parse_challenges(
            r#"basic Realm = "Registry \"Realm\"" , charset="UTF-8", BEARER realm=https://a/t, error="insufficient_scope""#,
        );
        assert_eq!(challenges.len(), 2, "{challenges:?}");
        assert_eq!(challenges[0].scheme, "basic");
        assert_eq!(challenges[0].param("realm"), Some(r#"Registry "Realm""#));
        assert_eq!(challenges[0].param("charset"), Some("UTF-8"));
        assert_eq!(challenges[1].scheme, "bearer");
        assert_eq!(challenges[1].param("realm"), Some("https://a/t"));
        assert_eq!(challenges[1].param("error"), Some("insufficient_scope"));
    }

    #[test]
    fn challenges_without_params_and_with_token68() {
        assert_eq!(
            parse_challenges("Basic"),
            vec![Challenge {
                scheme: "basic".into(),
                params: BTreeMap::new()
            }]
        );
        let challenges = parse_challenges(r#"Negotiate abc==, Bearer realm="r""#);
        assert_eq!(challenges.len(), 2, "{challenges:?}");
        assert_eq!(challenges[1].param("realm"), Some("r"));
        assert!(parse_challenges("").is_empty());
        assert!(parse_challenges("  ,, ").is_empty());
        // Unterminated quotes take the rest of the value rather than failing.
        assert_eq!(
            parse_challenges(r#"Bearer realm="https://a/t"#)[0].param("realm"),
            Some("https://a/t")
        );
    }

    #[test]
    fn next_link_finds_rel_next_relative_or_absolute() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=10>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=10")
        );
        assert_eq!(
            next_link(r#"<https://r.example/v2/a/tags/list?n=2&last=x>;rel=next"#).as_deref(),
            Some("https://r.example/v2/a/tags/list?n=2&last=x")
        );
        assert_eq!(
            next_link(r#"</first>; rel="prev first", </v2/x?a=1,2>; title="a, b"; rel="next""#)
                .as_deref(),
            Some("/v2/x?a=1,2")
        );
        assert_eq!(next_link(r#"</only>; rel="prev""#), None);
        assert_eq!(next_link(""), None);
        assert_eq!(next_link("garbage <unclosed"), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_caps_them() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let cap = Duration::from_secs(60);
        assert_eq!(retry_after("1", now, cap), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(" 0 ", now, cap), Some(Duration::ZERO));
        assert_eq!(retry_after("3600", now, cap), Some(cap));
        let in_ten = httpdate::fmt_http_date(now + Duration::from_secs(10));
        assert_eq!(
            retry_after(&in_ten, now, cap),
            Some(Duration::from_secs(10))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(10));
        assert_eq!(retry_after(&past, now, cap), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now, cap), None);
        assert_eq!(retry_after("-5", now, cap), None);
    }
}
