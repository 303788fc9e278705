//! Data coverage per app: how its seat list is known (a connection, a CSV import, by hand),
//! whether and from where its activity is known (a connection, the usage push, a CSV file),
//! whether licence tiers are known, and how fresh the connection(s) feeding it are, with a
//! 0–100 score (formula in the README). Reads the inventory, the connections and their sync
//! runs; writes nothing.

mod freshness;

pub use freshness::{schedule_interval, ConnectionHealth};

use super::{sources, AccountStatus, AppId, SeatsSource, UsageSource};
use crate::db::schema::{accounts, licence_pools};
use crate::db::{Conn, Stamped};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

crate::text_enum!(
    /// How an app's seat list is known.
    SeatCoverage {
        /// A connection syncs the seats.
        Connector => "connector",
        /// Imported from a CSV file.
        Csv => "csv",
        /// Entered by hand.
        Manual => "manual",
        /// No seats are recorded.
        None => "none",
    }
);

crate::text_enum!(
    /// Whether and from where an app's activity (last sign-in) is known.
    UsageCoverage {
        /// The connection that syncs the seats reports activity.
        Connector => "connector",
        /// Pushed through `POST /api/v1/usage`.
        Push => "push",
        /// Imported from a CSV file.
        Csv => "csv",
        /// Unknown: findings that depend on activity say so instead of guessing.
        None => "none",
    }
);

impl UsageCoverage {
    /// True when activity is known from some source.
    pub fn is_known(self) -> bool {
        self != UsageCoverage::None
    }
}

/// How well stackward knows an app's seats, usage and tiers, and how fresh that knowledge is.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// How the seat list is known.
    pub seats: SeatCoverage,
    /// Whether and from where activity is known.
    pub usage: UsageCoverage,
    /// Whether licence tiers (SKUs) are known for its seats.
    pub tiers: bool,
    /// When the feeding connection's last sync finished (the least fresh one, when several feed it).
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sync_at: Option<NaiveDateTime>,
    /// `succeeded` or `failed`; null when no connection feeds it or none has finished a run.
    pub last_sync_status: Option<String>,
    /// Why that last sync failed.
    pub last_error: Option<String>,
    /// True when a feeding connection's last successful sync is older than twice its schedule.
    pub stale: bool,
    /// 0–100: seats, usage, tiers and freshness weighed as the README says.
    pub score: u8,
}

/// Days within which data entered without a connection still counts as fresh.
const MANUAL_FRESH_DAYS: i64 = 30;

/// The score: seats (connector 40, csv 25, manual 20), usage (connector 30, push 25, csv 20),
/// tiers 10, freshness 20 (a fed app: fresh and last sync succeeded 20, fresh but last sync
/// failed 10, stale 0; an app without a connection: 10 when its seats or usage were entered in
/// the last 30 days). An app with no seats scores nothing for freshness.
pub fn score(c: &Coverage, fed: bool, manual_fresh: bool) -> u8 {
    let seats = match c.seats {
        SeatCoverage::Connector => 40,
        SeatCoverage::Csv => 25,
        SeatCoverage::Manual => 20,
        SeatCoverage::None => 0,
    };
    let usage = match c.usage {
        UsageCoverage::Connector => 30,
        UsageCoverage::Push => 25,
        UsageCoverage::Csv => 20,
        UsageCoverage::None => 0,
    };
    let tiers = if c.tiers { 10 } else { 0 };
    let fresh = match (c.seats, fed) {
        (SeatCoverage::None, _) => 0,
        (_, true) if c.stale => 0,
        (_, true) if c.last_sync_status.as_deref() == Some("succeeded") => 20,
        (_, true) => 10,
        (_, false) if manual_fresh => 10,
        (_, false) => 0,
    };
    seats + usage + tiers + fresh
}

#[derive(Default)]
struct AppFacts {
    connections: BTreeSet<crate::db::ConnectionId>,
    connector_seats: i64,
    tracked_connector_seats: i64,
    other_seats: i64,
    tiers: bool,
}

/// Coverage of the given apps (every app with data when `apps` is None), as of `now`.
pub fn for_apps(conn: &mut Conn, apps: Option<&[AppId]>, now: NaiveDateTime) -> QueryResult<HashMap<AppId, Coverage>> {
    let facts = app_facts(conn, apps)?;
    let marks = sources::for_apps(conn, apps)?;
    let all_connections: Vec<_> = facts.values().flat_map(|f| f.connections.iter().copied()).collect();
    let health = freshness::health(conn, &all_connections, now)?;
    let mut wanted: Vec<AppId> = match apps {
        Some(ids) => ids.to_vec(),
        None => facts.keys().chain(marks.keys()).copied().collect(),
    };
    wanted.sort();
    wanted.dedup();
    let empty = AppFacts::default();
    let out = wanted
        .into_iter()
        .map(|app| (app, coverage(facts.get(&app).unwrap_or(&empty), marks.get(&app), &health, now)))
        .collect();
    Ok(out)
}

/// What the accounts and licence pools of the given apps (all when None) say about them.
fn app_facts(conn: &mut Conn, apps: Option<&[AppId]>) -> QueryResult<HashMap<AppId, AppFacts>> {
    type SeatRow = (AppId, Option<crate::db::ConnectionId>, bool, i64, Option<String>);
    // Boxed queries cannot group, so the filter is written out per case.
    macro_rules! seats {
        ($conn:expr, $q:expr) => {
            $q.filter(accounts::status.ne(AccountStatus::Removed))
                .group_by((accounts::app_id, accounts::connection_id, accounts::activity_tracked))
                .select((
                    accounts::app_id,
                    accounts::connection_id,
                    accounts::activity_tracked,
                    diesel::dsl::count_star(),
                    diesel::dsl::max(accounts::licence),
                ))
                .load($conn)?
        };
    }
    // Read over every seat: remembered until a seat changes.
    let key = format!("coverage seats {apps:?}");
    let rows: Vec<SeatRow> = crate::db::remember(conn, Stamped::Accounts, key, |conn| {
        Ok(match apps {
            Some(ids) => seats!(conn, accounts::table.filter(accounts::app_id.eq_any(ids.to_vec()))),
            None => seats!(conn, accounts::table),
        })
    })?;
    let mut facts: HashMap<AppId, AppFacts> = HashMap::new();
    for (app, connection, tracked, n, licence) in rows {
        let f = facts.entry(app).or_default();
        match connection {
            Some(c) => {
                f.connections.insert(c);
                f.connector_seats += n;
                if tracked {
                    f.tracked_connector_seats += n;
                }
            }
            None => f.other_seats += n,
        }
        f.tiers |= licence.is_some();
    }
    let mut q = licence_pools::table.filter(licence_pools::removed_at.is_null()).into_boxed();
    if let Some(ids) = apps {
        q = q.filter(licence_pools::app_id.eq_any(ids.to_vec()));
    }
    let pools: Vec<(AppId, crate::db::ConnectionId)> =
        q.select((licence_pools::app_id, licence_pools::connection_id)).load(conn)?;
    for (app, connection) in pools {
        let f = facts.entry(app).or_default();
        f.tiers = true;
        f.connections.insert(connection);
    }
    Ok(facts)
}

/// One app's coverage from its facts, its source marks and its connections' health.
fn coverage(
    f: &AppFacts,
    mark: Option<&sources::AppSources>,
    health: &HashMap<crate::db::ConnectionId, ConnectionHealth>,
    now: NaiveDateTime,
) -> Coverage {
    let seats = if f.connector_seats > 0 {
        SeatCoverage::Connector
    } else if f.other_seats > 0 {
        match mark.and_then(|m| m.seats_source) {
            Some(SeatsSource::Csv) => SeatCoverage::Csv,
            _ => SeatCoverage::Manual,
        }
    } else {
        SeatCoverage::None
    };
    // Usage fed on purpose (a push, a file) speaks for the seats its source cannot.
    let usage = match mark.and_then(|m| m.usage_source) {
        Some(UsageSource::Push) => UsageCoverage::Push,
        Some(UsageSource::Csv) => UsageCoverage::Csv,
        None if f.tracked_connector_seats > 0 => UsageCoverage::Connector,
        None => UsageCoverage::None,
    };
    let weakest = f.connections.iter().filter_map(|c| health.get(c)).max_by_key(|h| h.weakness());
    let manual_fresh = mark
        .and_then(|m| m.seats_updated_at.max(m.usage_updated_at))
        .is_some_and(|t| now - t <= chrono::Duration::days(MANUAL_FRESH_DAYS));
    let mut c = Coverage {
        seats,
        usage,
        tiers: f.tiers,
        last_sync_at: weakest.and_then(|h| h.last_run_at),
        last_sync_status: weakest.and_then(|h| h.last_status.clone()),
        last_error: weakest.and_then(|h| h.last_error.clone()),
        stale: f.connections.iter().filter_map(|c| health.get(c)).any(|h| h.stale),
        score: 0,
    };
    c.score = score(&c, !f.connections.is_empty(), manual_fresh);
    c
}

/// Coverage of one app.
pub fn for_app(conn: &mut Conn, app: AppId, now: NaiveDateTime) -> QueryResult<Coverage> {
    let mut all = for_apps(conn, Some(&[app]), now)?;
    Ok(all.remove(&app).unwrap_or_else(unknown))
}

/// The coverage of an app nothing is known about.
pub fn unknown() -> Coverage {
    Coverage {
        seats: SeatCoverage::None,
        usage: UsageCoverage::None,
        tiers: false,
        last_sync_at: None,
        last_sync_status: None,
        last_error: None,
        stale: false,
        score: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cov(seats: SeatCoverage, usage: UsageCoverage, tiers: bool, status: Option<&str>, stale: bool) -> Coverage {
        Coverage {
            seats,
            usage,
            tiers,
            last_sync_at: None,
            last_sync_status: status.map(str::to_string),
            last_error: None,
            stale,
            score: 0,
        }
    }

    #[test]
    fn the_score_weighs_seats_usage_tiers_and_freshness() {
        use SeatCoverage as S;
        use UsageCoverage as U;
        let cases = [
            (
                "slack: everything known and fresh",
                cov(S::Connector, U::Connector, true, Some("succeeded"), false),
                true,
                false,
                100,
            ),
            ("scim: seats only", cov(S::Connector, U::None, false, Some("succeeded"), false), true, false, 60),
            ("scim with pushed usage", cov(S::Connector, U::Push, false, Some("succeeded"), false), true, false, 85),
            (
                "last sync failed, not yet stale",
                cov(S::Connector, U::Connector, true, Some("failed"), false),
                true,
                false,
                90,
            ),
            ("stale", cov(S::Connector, U::Connector, true, Some("succeeded"), true), true, false, 80),
            ("csv seats entered lately", cov(S::Csv, U::None, false, None, false), false, true, 35),
            ("csv seats and usage, old", cov(S::Csv, U::Csv, false, None, false), false, false, 45),
            ("manual seats", cov(S::Manual, U::None, false, None, false), false, false, 20),
            ("nothing", cov(S::None, U::None, false, None, false), false, true, 0),
        ];
        for (label, c, fed, manual_fresh, want) in cases {
            assert_eq!(score(&c, fed, manual_fresh), want, "{label}");
        }
    }
}
