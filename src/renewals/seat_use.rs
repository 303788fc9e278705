//! How a subscription's seats are used, for a renewal decision: seats held, and of those the
//! active ones, the idle ones (no sign-in for the app's inactivity threshold, default 60 days)
//! and those whose activity is unknown (their source reports none; counted as in use).

use crate::db::schema::{accounts, apps};
use crate::db::{remember, Conn, Stamped};
use crate::inventory::{AccountStatus, AppId, Subscription, SubscriptionId};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Days without a sign-in after which a seat is idle, where the app sets none (as the findings).
const DEFAULT_IDLE_DAYS: i64 = 60;

/// The use of one subscription's seats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeatUse {
    /// Active seats it pays for.
    pub held: i64,
    /// Of those, used within `idle_days`.
    pub active: i64,
    /// Of those, with no sign-in for `idle_days` or more (never used included, once old enough).
    pub idle: i64,
    /// Of those, whose activity is unknown.
    pub unknown: i64,
    /// The app's inactivity threshold in days.
    pub idle_days: i64,
}

impl SeatUse {
    /// Seats the renewal needs: the active ones and, not knowing better, the unknown ones.
    pub fn needed(&self) -> i64 {
        self.active + self.unknown
    }

    /// "31 active, 16 idle for 60+ days, 13 unassigned", for `bought` seats (None: unlimited).
    pub fn breakdown(&self, bought: Option<i64>) -> String {
        let mut parts = vec![format!("{} active", self.active)];
        if self.idle > 0 {
            parts.push(format!("{} idle for {}+ days", self.idle, self.idle_days));
        }
        if self.unknown > 0 {
            parts.push(format!("{} with activity unknown (counted as in use)", self.unknown));
        }
        match bought {
            Some(b) if b > self.held => parts.push(format!("{} unassigned", b - self.held)),
            _ => {}
        }
        parts.join(", ")
    }

    /// Seats held beyond those bought: a true-up the vendor may bill.
    pub fn over_assigned(&self, bought: Option<i64>) -> i64 {
        bought.map(|b| (self.held - b).max(0)).unwrap_or(0)
    }
}

/// Each subscription's seat use as of `today`. A seat counts for the subscription it is linked
/// to; an app's only subscription also counts the app's unlinked seats. Counted in the
/// database, one grouped query per inactivity threshold and usage feed: a renewal list over a
/// million seats reads a few hundred rows, not the seats.
pub fn by_subscription(
    conn: &mut Conn,
    subs: &[Subscription],
    today: NaiveDate,
) -> QueryResult<HashMap<SubscriptionId, SeatUse>> {
    let thresholds: Vec<(AppId, Option<i32>)> = apps::table.select((apps::id, apps::inactive_days)).load(conn)?;
    let fed: HashSet<AppId> = crate::inventory::sources::for_apps(conn, None)?
        .into_values()
        .filter(|s| s.usage_source.is_some())
        .map(|s| s.app_id)
        .collect();
    let idle_days_of: HashMap<AppId, i64> =
        thresholds.into_iter().map(|(app, days)| (app, days.map(i64::from).unwrap_or(DEFAULT_IDLE_DAYS))).collect();
    let mut groups: BTreeMap<(i64, bool), Vec<AppId>> = BTreeMap::new();
    for (&app, &idle_days) in &idle_days_of {
        groups.entry((idle_days, fed.contains(&app))).or_default().push(app);
    }
    let mut per_app: HashMap<AppId, Vec<SubscriptionId>> = HashMap::new();
    for s in subs {
        per_app.entry(s.app_id).or_default().push(s.id);
    }
    let mut out: HashMap<SubscriptionId, SeatUse> = HashMap::new();
    for ((idle_days, fed), mut apps_in_group) in groups {
        let cutoff = (today - chrono::Duration::days(idle_days)).and_hms_opt(0, 0, 0).unwrap_or_default();
        apps_in_group.sort();
        // Read over every seat: remembered until a seat changes (or the day, with the cutoff).
        let key = format!("seat use {fed} {cutoff} {apps_in_group:?}");
        let counted = remember(conn, Stamped::Accounts, key, |c| count_seats(c, &apps_in_group, fed, cutoff))?;
        for counted in counted {
            let sub = match per_app.get(&counted.app_id).map(Vec::as_slice) {
                Some([only]) => *only,
                _ => match counted.subscription_id {
                    Some(id) => id,
                    None => continue,
                },
            };
            let u = out.entry(sub).or_insert(SeatUse { idle_days, ..Default::default() });
            u.held += counted.held;
            u.unknown += counted.unknown;
            u.idle += counted.idle;
            u.active += counted.held - counted.unknown - counted.idle;
        }
    }
    for s in subs {
        let idle_days = idle_days_of.get(&s.app_id).copied().unwrap_or(DEFAULT_IDLE_DAYS);
        out.entry(s.id).or_insert(SeatUse { idle_days, ..Default::default() });
    }
    Ok(out)
}
/// Active seats of one app and subscription link, counted by how their activity reads.
#[derive(Debug, Clone, Queryable)]
struct Counted {
    app_id: AppId,
    subscription_id: Option<SubscriptionId>,
    held: i64,
    unknown: i64,
    idle: i64,
}

/// Counts the active seats of `apps_in_group` per app and subscription link: held, activity
/// unknown, and idle since `cutoff`. The tests mirror [`crate::inventory::Account::activity_known`]
/// and [`crate::inventory::Account::idle_since`]; `fed` says whether the apps' usage is fed (a push or a CSV).
fn count_seats(
    conn: &mut Conn,
    apps_in_group: &[AppId],
    fed: bool,
    cutoff: NaiveDateTime,
) -> QueryResult<Vec<Counted>> {
    use diesel::dsl::{count_star, sql};
    use diesel::sql_types::{BigInt, Timestamp};
    let known = if fed {
        "(connection_id IS NULL OR activity_tracked OR last_active_at IS NOT NULL)"
    } else {
        "((connection_id IS NOT NULL AND activity_tracked) OR (connection_id IS NULL AND last_active_at IS NOT NULL))"
    };
    let unknown = sql::<BigInt>(&format!("SUM(CASE WHEN {known} THEN 0 ELSE 1 END)"));
    // A seat never used is idle once it is older than the cutoff (its first sign of life being the
    // earlier of the vendor's creation date and our first sight of it).
    let idle = sql::<BigInt>(&format!("SUM(CASE WHEN {known} AND (last_active_at < "))
        .bind::<Timestamp, _>(cutoff)
        .sql(" OR (last_active_at IS NULL AND (first_seen_at < ")
        .bind::<Timestamp, _>(cutoff)
        .sql(" OR vendor_created_at < ")
        .bind::<Timestamp, _>(cutoff)
        .sql("))) THEN 1 ELSE 0 END)");
    accounts::table
        .filter(accounts::status.eq(AccountStatus::Active))
        .filter(accounts::app_id.eq_any(apps_in_group))
        .group_by((accounts::app_id, accounts::subscription_id))
        .select((accounts::app_id, accounts::subscription_id, count_star(), unknown, idle))
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdown_reads_as_the_owner_needs_it() {
        let u = SeatUse { held: 47, active: 31, idle: 16, unknown: 0, idle_days: 60 };
        assert_eq!(u.breakdown(Some(60)), "31 active, 16 idle for 60+ days, 13 unassigned");
        assert_eq!(u.needed(), 31);
        assert_eq!(u.over_assigned(Some(60)), 0);
        let over = SeatUse { held: 9, active: 9, idle: 0, unknown: 0, idle_days: 60 };
        assert_eq!(over.breakdown(Some(8)), "9 active");
        assert_eq!(over.over_assigned(Some(8)), 1);
        let unknown = SeatUse { held: 4, active: 0, idle: 0, unknown: 4, idle_days: 30 };
        assert_eq!(unknown.breakdown(Some(10)), "0 active, 4 with activity unknown (counted as in use), 6 unassigned");
        assert_eq!(unknown.over_assigned(None), 0);
    }
}
