//! Parsers for argument values that clap does not know: durations and points in time.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Parses a duration such as `3600s`, `90m`, `12h`, `30d` or `2w` (a bare number is seconds)
/// into seconds. Months and years are refused: their length varies, so they would not mean
/// the same to everyone.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 3600s, 90m, 12h or 30d"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "`{text}` has an unknown unit `{unit}`; use s, m, h, d or w"
            ))
        }
    };
    let seconds = number
        .checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too long"))?;
    if seconds == 0 {
        return Err("a duration must be longer than zero".into());
    }
    Ok(seconds)
}

/// Parses `--since`: an RFC 3339 time, passed on as given, or a duration such as `24h`,
/// meaning that long before now, sent as an RFC 3339 time in UTC.
pub fn parse_since(text: &str) -> Result<String, String> {
    if OffsetDateTime::parse(text, &Rfc3339).is_ok() {
        return Ok(text.to_string());
    }
    let seconds = parse_duration(text).map_err(|_| {
        format!("`{text}` is neither an RFC 3339 time (2026-01-31T12:00:00Z) nor a duration (24h)")
    })?;
    let seconds = i64::try_from(seconds).map_err(|_| format!("`{text}` is too long"))?;
    let at = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(|e| e.to_string())?
        .checked_sub(time::Duration::seconds(seconds))
        .ok_or_else(|| format!("`{text}` reaches back too far"))?;
    at.format(&Rfc3339).map_err(|e| e.to_string())
}

/// Accepts a robot by its short name or by its full name `robot$<ws>+<short>`, since the full
/// name is what people copy from `robot list`; answers the short name the API addresses.
pub fn robot_short_name<'a>(workspace: &str, name: &'a str) -> &'a str {
    name.strip_prefix("robot$")
        .and_then(|rest| rest.strip_prefix(workspace))
        .and_then(|rest| rest.strip_prefix('+'))
        .unwrap_or(name)
}

/// Parses a value the contract spells in lowercase (a role, a registry kind) into the
/// client's type, through the same serde names the API uses, so the two cannot disagree.
/// serde's message already lists the accepted values.
pub fn contract_value<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|e| e.to_string())
}
