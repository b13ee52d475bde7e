//! What requests carry, checked once at the edge: JSON bodies, query strings and paths whose
//! rejections become [`ApiError`]s, names checked against the contract's grammar with
//! messages naming the field, list paging, and timestamps.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use berth_api_types::{ListParams, Page};
use serde::Serialize;

use super::error::ApiError;

/// A JSON body in or out. As an extractor, a malformed body is a 400 `invalid` whose message
/// names the offending field (serde's path to it).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Query parameters whose rejection is a 400 `invalid`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters (percent-decoded once) whose rejection is a 400 `invalid`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// An optional JSON body: an empty one is `T`'s default, a malformed one a 400 `invalid`
/// saying what is wrong where.
pub fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::Invalid(format!("invalid body: {e}")))
}

// ---- names ---------------------------------------------------------------------------------

/// Checks a workspace, space, robot or registry name against `berth_oci::is_resource_name`.
pub fn resource_name(field: &str, value: &str) -> Result<(), ApiError> {
    if !berth_oci::is_resource_name(value) {
        return Err(ApiError::Invalid(format!(
            "{field} `{}` is not a valid name: use {}",
            printable(value),
            berth_oci::RESOURCE_NAME_RULE
        )));
    }
    Ok(())
}

/// Checks a username against `berth_oci::is_username`.
pub fn username(field: &str, value: &str) -> Result<(), ApiError> {
    if !berth_oci::is_username(value) {
        return Err(ApiError::Invalid(format!(
            "{field} `{}` is not a valid username: {}",
            printable(value),
            berth_oci::USERNAME_RULE
        )));
    }
    Ok(())
}

/// Checks a user's password: at least 8 bytes, as the bootstrap admin's must be, and at most
/// 1024 so that hashing it cannot be used to tie up the server.
pub fn password(field: &str, value: &str) -> Result<(), ApiError> {
    if !(8..=1024).contains(&value.len()) {
        return Err(ApiError::Invalid(format!(
            "{field} must be between 8 and 1024 bytes"
        )));
    }
    Ok(())
}

/// Checks an email address loosely (something@something); delivery is the only real test.
pub fn email(field: &str, value: &str) -> Result<(), ApiError> {
    let ok = value.len() <= 254
        && value
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(ApiError::Invalid(format!(
            "{field} `{}` is not an email address",
            printable(value)
        )));
    }
    Ok(())
}

/// Checks free text such as descriptions: bounded, without control characters other than
/// line breaks and tabs.
pub fn text(field: &str, value: &str) -> Result<(), ApiError> {
    if value.len() > 4096
        || value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(ApiError::Invalid(format!(
            "{field} must be at most 4096 bytes of text without control characters"
        )));
    }
    Ok(())
}

/// Parses an external registry's address: `http` or `https`, a host, no credentials (they
/// belong in `username` and `password`, which are stored encrypted), no query or fragment.
/// Returns it without a trailing slash, ready for `<url>/v2/`.
pub fn registry_url(field: &str, value: &str) -> Result<String, ApiError> {
    let invalid = |why: &str| ApiError::Invalid(format!("{field} `{}` {why}", printable(value)));
    let url = url::Url::parse(value).map_err(|e| invalid(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not carry credentials; use the username and password fields",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// A value quoted back in an error message: cut short, control characters escaped, so a
/// message never grows without bound or carries terminal escapes.
fn printable(value: &str) -> String {
    value
        .chars()
        .take(100)
        .flat_map(char::escape_debug)
        .collect()
}

// ---- lists ---------------------------------------------------------------------------------

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 500;

/// Where a page starts and how long it is, decoded from a [`ListParams`].
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// The sort key of the last item of the previous page; empty for the first page.
    pub after: String,
    pub limit: i64,
}

impl PageRequest {
    /// Where the page `params` asks for starts, and how long it is.
    pub fn of(params: &ListParams) -> Result<PageRequest, ApiError> {
        let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::Invalid(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let after = match &params.cursor {
            None => String::new(),
            Some(cursor) => decode_cursor(cursor)?,
        };
        Ok(PageRequest { after, limit })
    }
}

/// Cursors are opaque to clients: the sort key of the last item, base64url-encoded, so that
/// clients pass them back rather than build them.
pub fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

pub fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ApiError::Invalid("cursor is not one this server handed out".into()))
}

/// A page from up to `limit + 1` items fetched after the cursor: the extra item only tells
/// that another page exists. `key` gives an item's sort key for the cursor.
pub fn fetched_page<R, T>(
    mut fetched: Vec<R>,
    total: i64,
    limit: i64,
    key: impl Fn(&R) -> String,
    convert: impl FnMut(R) -> T,
) -> Page<T> {
    let limit = limit as usize;
    let next_cursor = (fetched.len() > limit).then(|| {
        fetched.truncate(limit);
        encode_cursor(&key(fetched.last().expect("limit is at least 1")))
    });
    Page {
        items: fetched.into_iter().map(convert).collect(),
        next_cursor,
        total,
    }
}

/// A page of a list held whole in memory, sorted by `key`.
pub fn page_of_all<R, T>(
    all: Vec<R>,
    page: &PageRequest,
    key: impl Fn(&R) -> String,
    convert: impl FnMut(R) -> T,
) -> Page<T> {
    let total = all.len() as i64;
    let fetched: Vec<R> = all
        .into_iter()
        .filter(|item| page.after.is_empty() || key(item) > page.after)
        .take(page.limit as usize + 1)
        .collect();
    fetched_page(fetched, total, page.limit, key, convert)
}

// ---- time ----------------------------------------------------------------------------------

/// Milliseconds since the epoch as RFC 3339 in UTC, e.g. `2026-01-02T03:04:05.678Z`.
pub fn timestamp(millis: i64) -> String {
    berth_store::rfc3339(millis)
}

/// An RFC 3339 parameter as milliseconds since the epoch.
pub fn parse_timestamp(field: &str, value: &str) -> Result<i64, ApiError> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            ApiError::Invalid(format!(
                "{field} `{}` is not an RFC 3339 time such as 2026-01-02T03:04:05Z",
                printable(value)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["ab", "team-a", "a.b_c-d", "x1", &"a".repeat(63)] {
            assert!(resource_name("name", good).is_ok(), "{good}");
        }
        for bad in [
            "a",
            "A1",
            "-ab",
            "ab-",
            "a--b",
            "a b",
            "",
            "ab/c",
            &"a".repeat(64),
            "é1",
        ] {
            assert!(resource_name("name", bad).is_err(), "{bad}");
        }
        let message = resource_name("workspace name", "Bad")
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("workspace name `Bad`"), "{message}");

        for good in ["a", "alice", "0day", "a.b-c_d", &"a".repeat(63)] {
            assert!(username("username", good).is_ok(), "{good}");
        }
        for bad in ["", "Alice", ".a", "robot$ws+ci", &"a".repeat(64), "a b"] {
            assert!(username("username", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            registry_url("url", "https://harbor.example.com/").unwrap(),
            "https://harbor.example.com"
        );
        assert_eq!(
            registry_url("url", "http://127.0.0.1:5000").unwrap(),
            "http://127.0.0.1:5000"
        );
        for bad in [
            "ftp://x",
            "harbor.example.com",
            "https://u:p@h",
            "https://h/?q=1",
            "http://",
        ] {
            assert!(registry_url("url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_and_pages() {
        assert_eq!(decode_cursor(&encode_cursor("team-a")).unwrap(), "team-a");
        assert!(decode_cursor("!!").is_err());
        let request = PageRequest {
            after: String::new(),
            limit: 2,
        };
        let all = vec!["a", "b", "c"];
        let page: Page<String> =
            page_of_all(all.clone(), &request, |s| s.to_string(), String::from);
        assert_eq!(page.items, ["a", "b"]);
        assert_eq!(page.total, 3);
        let next = PageRequest {
            after: decode_cursor(page.next_cursor.as_deref().unwrap()).unwrap(),
            limit: 2,
        };
        let last: Page<String> = page_of_all(all, &next, |s| s.to_string(), String::from);
        assert_eq!(last.items, ["c"]);
        assert!(last.next_cursor.is_none());
        assert!(PageRequest::of(&ListParams {
            limit: Some(501),
            cursor: None
        })
        .is_err());
        assert!(PageRequest::of(&ListParams {
            limit: Some(0),
            cursor: None
        })
        .is_err());
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_timestamp("since", "1970-01-01T00:00:01Z").unwrap(),
            1000
        );
        assert!(parse_timestamp("since", "yesterday").is_err());
    }
}
