//! UTC time as stored (naive timestamps that always mean UTC) and as written (RFC 3339), cron
//! schedules as the scheduler reads them, and reminder day lists.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use croner::parser::{CronParser, Seconds};
use croner::Cron;

/// Now, in UTC, truncated to microseconds so both backends store the same value.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// Formats a stored timestamp as RFC 3339 with a `Z`.
pub fn format(t: &NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Parses RFC 3339 (any offset, converted to UTC) or a bare date (midnight UTC).
pub fn parse(s: &str) -> Result<NaiveDateTime, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc).naive_utc().trunc_subsecs(6));
    }
    if let Ok(d) = parse_date(s) {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default());
    }
    Err(format!("{s:?} is not an RFC 3339 time such as 2026-01-31T09:00:00Z"))
}

/// Parses a cron schedule (seconds first) as the scheduler will; blank means disabled.
pub fn parse_schedule(setting: &str, expr: &str) -> Result<Option<Cron>, String> {
    let expr = expr.trim();
    if expr.is_empty() {
        return Ok(None);
    }
    CronParser::builder()
        .seconds(Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expr)
        .map(Some)
        .map_err(|e| format!("{setting} {expr:?} is not a cron schedule with seconds (e.g. \"0 0 7 * * *\"): {e}"))
}

/// Parses a stage list such as "90,60,30,7" (any order, spaces allowed); sorted descending.
pub fn parse_stages(s: &str) -> Result<Vec<u32>, String> {
    let mut stages = Vec::new();
    for part in s.split(',').map(str::trim) {
        if part.is_empty() {
            continue;
        }
        let days: u32 = part.parse().map_err(|_| format!("{part:?} is not a whole number of days"))?;
        if !(1..=3650).contains(&days) {
            return Err(format!("{days} must be between 1 and 3650 days"));
        }
        if stages.contains(&days) {
            return Err(format!("{days} appears twice"));
        }
        stages.push(days);
    }
    if stages.is_empty() {
        return Err("needs at least one number of days, e.g. 90,30,7".into());
    }
    stages.sort_unstable_by(|a, b| b.cmp(a));
    Ok(stages)
}

/// Parses a calendar day written `YYYY-MM-DD`, with exactly four year digits: chrono alone
/// reads `26-01-01` as the year 26, which is never what a person meant.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let refused = || format!("{s:?} is not a date written YYYY-MM-DD with a four-digit year, such as 2026-01-31");
    if !shaped {
        return Err(refused());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| refused())
}

/// serde for calendar days: `YYYY-MM-DD` in both directions, four year digits required.
pub mod date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `YYYY-MM-DD`.
    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&d.format("%Y-%m-%d"))
    }

    /// Reads `YYYY-MM-DD`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_date(&s).map_err(serde::de::Error::custom)
    }
}

/// serde for optional calendar days: null reads as none.
pub mod date_opt {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer};

    /// Reads `YYYY-MM-DD` or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::parse_date(&s).map(Some).map_err(serde::de::Error::custom),
        }
    }
}

/// serde for a calendar day in a change set whose field cannot be cleared: absent = unchanged
/// (with `#[serde(default)]`), null refused.
pub mod date_not_null {
    use chrono::NaiveDate;
    use serde::Deserializer;

    /// Reads `YYYY-MM-DD`; null is an error naming the field.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        match super::date_opt::deserialize(d)? {
            None => Err(serde::de::Error::custom(crate::time::NULL_REFUSED)),
            some => Ok(some),
        }
    }
}

/// serde for a clearable calendar day in a change set: absent = unchanged (with
/// `#[serde(default)]`), null = clear.
pub mod double_option_date {
    use chrono::NaiveDate;
    use serde::Deserializer;

    /// Reads a present value: null as `Some(None)`, a day as `Some(Some(d))`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<NaiveDate>>, D::Error> {
        super::date_opt::deserialize(d).map(Some)
    }
}

/// What a change set says when a field that cannot be cleared is sent as null.
pub const NULL_REFUSED: &str = "must not be null: leave the field out to keep its value";

/// serde for `NaiveDateTime` fields that mean UTC: RFC 3339 out, RFC 3339 or a date in.
pub mod rfc3339 {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes RFC 3339 with a `Z`.
    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(t))
    }

    /// Reads RFC 3339 or a bare date.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        super::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// serde for optional UTC timestamps; an empty string reads as none (CSV cells).
pub mod rfc3339_opt {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes RFC 3339 with a `Z`, or null.
    pub fn serialize<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(t)),
            None => s.serialize_none(),
        }
    }

    /// Reads RFC 3339, a bare date, null or an empty string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => super::parse(&s).map(Some).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_into_utc_and_dates() {
        let t = parse("2026-03-01T10:00:00+02:00").unwrap();
        assert_eq!(format(&t), "2026-03-01T08:00:00Z");
        assert_eq!(format(&parse("2026-03-01").unwrap()), "2026-03-01T00:00:00Z");
        assert!(parse("yesterday").unwrap_err().contains("RFC 3339"));
        assert!(parse("26-01-01").is_err(), "a two-digit year is not a date");
    }

    #[test]
    fn dates_need_four_year_digits() {
        assert_eq!(parse_date("2026-01-31").unwrap(), NaiveDate::from_ymd_opt(2026, 1, 31).unwrap());
        for bad in ["26-01-01", "026-01-01", "2026-1-01", "12026-01-01", "+2026-01-01", "2026-02-30", " 2026-01-01"] {
            assert!(parse_date(bad).unwrap_err().contains("four-digit year"), "{bad}");
        }
    }

    #[test]
    fn parse_stages_table() {
        assert_eq!(parse_stages("90,60,30,7"), Ok(vec![90, 60, 30, 7]));
        assert_eq!(parse_stages(" 7, 90 ,30"), Ok(vec![90, 30, 7]));
        assert_eq!(parse_stages("14"), Ok(vec![14]));
        for bad in ["", " , ", "90,x", "0", "90,90", "4000", "-7", "7.5"] {
            assert!(parse_stages(bad).is_err(), "{bad:?} must be refused");
        }
    }
}

/// serde for optional timestamps in change sets: absent = unchanged, null or "" = clear.
pub mod double_option_rfc3339 {
    use chrono::NaiveDateTime;
    use serde::Deserializer;

    /// Reads a present value: null or "" as `Some(None)`, a time as `Some(Some(t))`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<NaiveDateTime>>, D::Error> {
        super::rfc3339_opt::deserialize(d).map(Some)
    }
}
