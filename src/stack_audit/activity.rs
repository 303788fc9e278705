//! Whether a seat is dormant, judged the way the inactive-seat finding judges it: no activity
//! for the app's threshold, a never-used seat once it is older than the threshold, and
//! "unknown" (None) when the seat's source reports no activity at all.

use crate::inventory::Account;
use chrono::NaiveDate;

/// Days without activity after which a seat is dormant when its app sets none.
pub const DEFAULT_INACTIVE_DAYS: i64 = 60;

/// The app's threshold in days.
pub fn threshold(app_inactive_days: Option<i32>) -> i64 {
    app_inactive_days.map(i64::from).unwrap_or(DEFAULT_INACTIVE_DAYS)
}

/// True when `a` had no activity for `days` days before `today`; None when activity is unknown.
pub fn dormant(a: &Account, days: i64, today: NaiveDate) -> Option<bool> {
    if !a.activity_tracked {
        return None;
    }
    let cutoff = (today - chrono::Duration::days(days)).and_hms_opt(0, 0, 0).unwrap_or_default();
    Some(match a.last_active_at {
        Some(t) => t < cutoff,
        None => a.vendor_created_at.unwrap_or(a.first_seen_at).min(a.first_seen_at) < cutoff,
    })
}

/// Why a seat is dormant, or that its activity is unknown, in words.
pub fn reason(a: &Account, days: i64, dormant: Option<bool>) -> Option<String> {
    match (dormant, a.last_active_at) {
        (None, _) => Some("activity unknown: the seat's source reports no activity".into()),
        (Some(true), None) => Some(format!("never used in {days}+ days")),
        (Some(true), Some(_)) => Some(format!("no activity for {days}+ days")),
        (Some(false), _) => None,
    }
}
