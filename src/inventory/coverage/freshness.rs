//! How fresh a connection's data is: its last finished run, its last successful one, and
//! whether that success is older than twice its schedule's interval (stale).

use crate::db::schema::{connections, sync_runs};
use crate::db::Conn;
use crate::db::ConnectionId;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

/// One connection's freshness.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionHealth {
    /// When its last run finished.
    pub last_run_at: Option<NaiveDateTime>,
    /// How its last run ended: `succeeded` or `failed`.
    pub last_status: Option<String>,
    /// Why its last run failed.
    pub last_error: Option<String>,
    /// When its last successful run finished.
    pub last_success_at: Option<NaiveDateTime>,
    /// True when the last success is older than twice the schedule (or the connection is deleted).
    pub stale: bool,
}

impl ConnectionHealth {
    /// Orders connections from healthiest to weakest: stale, then failing, then oldest success.
    pub fn weakness(&self) -> (bool, bool, std::cmp::Reverse<Option<NaiveDateTime>>) {
        (self.stale, self.last_status.as_deref() == Some("failed"), std::cmp::Reverse(self.last_success_at))
    }
}

/// The time between a cron schedule's next two occurrences; None for a blank (by hand only) or
/// unparsable schedule. Parsed as the scheduler parses it: seconds first, UTC.
pub fn schedule_interval(schedule: &str, now: NaiveDateTime) -> Option<Duration> {
    use croner::parser::{CronParser, Seconds};
    let expr = schedule.trim();
    if expr.is_empty() {
        return None;
    }
    let cron = CronParser::builder().seconds(Seconds::Required).dom_and_dow(true).build().parse(expr).ok()?;
    let first = cron.find_next_occurrence(&now.and_utc(), false).ok()?;
    let second = cron.find_next_occurrence(&first, false).ok()?;
    Some(second - first)
}

/// Health of each of `ids`, as of `now`.
pub fn health(
    conn: &mut Conn,
    ids: &[ConnectionId],
    now: NaiveDateTime,
) -> QueryResult<HashMap<ConnectionId, ConnectionHealth>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(ConnectionId, String, String, NaiveDateTime)> = connections::table
        .filter(connections::id.eq_any(&ids))
        .select((connections::id, connections::schedule, connections::status, connections::created_at))
        .load(conn)?;
    let finished: Vec<(ConnectionId, String, Option<NaiveDateTime>)> = sync_runs::table
        .filter(sync_runs::connection_id.eq_any(&ids))
        .filter(sync_runs::status.ne("running"))
        .group_by((sync_runs::connection_id, sync_runs::status))
        .select((sync_runs::connection_id, sync_runs::status, diesel::dsl::max(sync_runs::finished_at)))
        .load(conn)?;
    let mut last: HashMap<ConnectionId, (Option<NaiveDateTime>, Option<NaiveDateTime>)> = HashMap::new();
    for (id, status, at) in finished {
        let e = last.entry(id).or_default();
        if status == "succeeded" {
            e.0 = e.0.max(at);
        } else {
            e.1 = e.1.max(at);
        }
    }
    let mut out = HashMap::new();
    for (id, schedule, status, created_at) in rows {
        let (success, failure) = last.get(&id).copied().unwrap_or_default();
        let failed_last = failure.is_some() && failure > success;
        let last_error = if failed_last {
            sync_runs::table
                .filter(sync_runs::connection_id.eq(id))
                .filter(sync_runs::status.eq("failed"))
                .order(sync_runs::id.desc())
                .select(sync_runs::error)
                .first::<Option<String>>(conn)
                .optional()?
                .flatten()
        } else {
            None
        };
        let last_status = match (success, failure) {
            (None, None) => None,
            _ if failed_last => Some("failed".to_string()),
            _ => Some("succeeded".to_string()),
        };
        // A connection that never succeeded is stale once two intervals have passed since it was made.
        let since = success.unwrap_or(created_at);
        let late = schedule_interval(&schedule, now).is_some_and(|i| now - since > i * 2);
        let stale = status != "active" || late;
        let last_error = match (status.as_str(), last_error) {
            ("active", e) => e,
            (_, e) => e.or_else(|| Some("the connection was deleted; its seats are no longer synced".into())),
        };
        out.insert(
            id,
            ConnectionHealth {
                last_run_at: success.max(failure),
                last_status,
                last_error,
                last_success_at: success,
                stale,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_intervals() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap().and_hms_opt(12, 0, 0).unwrap();
        assert_eq!(schedule_interval("0 0 3 * * *", now), Some(Duration::days(1)));
        assert_eq!(schedule_interval("0 0 * * * *", now), Some(Duration::hours(1)));
        assert_eq!(schedule_interval("", now), None, "by hand only: never late");
        assert_eq!(schedule_interval("nonsense", now), None);
    }
}
