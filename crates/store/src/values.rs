//! How values are stored on both databases: times as BIGINT milliseconds since the Unix epoch
//! (UTC), booleans as BIGINT 0 or 1, because the `Any` driver decodes only what both share.

use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::{Any, Decode, Type};

/// Timestamps are stored as milliseconds since the Unix epoch (UTC) in BIGINT columns, which
/// sort and compare the same way on both databases.
pub fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A stored time as the API writes times: RFC 3339 in UTC, e.g. `2026-01-02T03:04:05.678Z`.
pub fn rfc3339(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A boolean column as stored: BIGINT 0 or 1 on both databases, because the `Any` driver
/// decodes no boolean from SQLite's integers. Row types read such a column into a plain
/// `bool` with `#[sqlx(try_from = "Flag")]`, so the public records keep their `bool` fields.
pub(crate) struct Flag(bool);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(Flag(<i64 as Decode<'r, Any>>::decode(value)? != 0))
    }
}
