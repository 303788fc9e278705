//! Upcoming renewals with the figures a decision needs: seats used, cost, a recommendation.
//! One computation feeds the API, the reminder emails, the digest and the calendar feed.

use super::dates::{self, Contract, DeadlineKind, RenewalDates};
use super::seat_use::SeatUse;
use crate::db::schema::{accounts, apps, subscriptions};
use crate::db::Conn;
use crate::inventory::{AppId, BillingFrequency, RenewalType, Subscription, SubscriptionId, SubscriptionStatus};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Below this share of seats in use, the recommendation is to right-size.
const RIGHT_SIZE_BELOW: f64 = 0.8;

/// What to do at the renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Renew as is.
    Renew,
    /// Renew with fewer seats.
    RightSize,
    /// Let it go: no seat is used.
    Cancel,
    /// Not enough data to say; ask the owner.
    Review,
}

/// A recommendation with its reason in plain words.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Recommendation {
    /// What to do.
    pub action: Action,
    /// Seats to renew with.
    pub seats: Option<i64>,
    /// Why, in a sentence.
    pub reason: String,
}

impl std::fmt::Display for Recommendation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.action, self.seats) {
            (Action::Renew, _) => write!(f, "renew: {}", self.reason),
            (Action::RightSize, Some(n)) => write!(f, "right-size to {n} seats: {}", self.reason),
            (Action::RightSize, None) => write!(f, "right-size: {}", self.reason),
            (Action::Cancel, _) => write!(f, "cancel: {}", self.reason),
            (Action::Review, _) => write!(f, "review: {}", self.reason),
        }
    }
}

/// A subscription's next renewal and the figures around it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UpcomingRenewal {
    /// The subscription.
    pub subscription_id: SubscriptionId,
    /// Its app.
    pub app_id: AppId,
    /// The app's name.
    pub app_name: String,
    /// Plan.
    pub plan: String,
    /// Contract owner, else the app's business owner.
    pub owner_email: Option<String>,
    /// The app's owners (business, billing), who are reminded too.
    pub app_owner_emails: Vec<String>,
    /// Renewal type.
    pub renewal_type: RenewalType,
    /// First day of the current term.
    #[schema(value_type = String, format = Date)]
    pub term_start: NaiveDate,
    /// Last day of the current term.
    #[schema(value_type = String, format = Date)]
    pub term_end: NaiveDate,
    /// First day of the next term (or the day it expires).
    #[schema(value_type = String, format = Date)]
    pub renewal_date: NaiveDate,
    /// Last day to cancel, change or decide.
    #[schema(value_type = String, format = Date)]
    pub notice_deadline: NaiveDate,
    /// What the deadline asks for.
    pub deadline_kind: DeadlineKind,
    /// Days from today to the deadline (negative when passed).
    pub days_to_deadline: i64,
    /// Unrecorded automatic renewals assumed since the stated term.
    pub rolled_terms: u32,
    /// Seats bought; null = unlimited.
    pub seats_purchased: Option<i64>,
    /// Active seats it pays for (held, whether used lately or not).
    pub seats_used: i64,
    /// Of those, seats with a sign-in within `idle_days`.
    pub seats_active: i64,
    /// Of those, seats with no sign-in for `idle_days` or more.
    pub seats_idle: i64,
    /// Of those, seats whose source reports no activity (counted as in use).
    pub seats_activity_unknown: i64,
    /// The app's inactivity threshold, in days.
    pub idle_days: i64,
    /// Seats held beyond those bought (0 when within): a true-up the vendor may bill.
    pub seats_over_assigned: i64,
    /// Share of bought seats in use, in percent.
    pub utilisation_percent: Option<i64>,
    /// Cost per year in minor units; null when the price is unknown.
    pub annual_cost_cents: Option<i64>,
    /// Currency of the cost.
    pub currency: String,
    /// What to do.
    pub recommendation: Recommendation,
    /// Its reminder stages, in days before the deadline.
    pub reminder_days: Vec<u32>,
    /// True when the owner asked for no reminders.
    pub no_action_needed: bool,
}

/// Billing periods per year; None when a yearly cost cannot be known.
fn periods_per_year(s: &Subscription, dates: &RenewalDates) -> Option<f64> {
    match s.billing_frequency {
        BillingFrequency::Monthly => Some(12.0),
        BillingFrequency::Annual => Some(1.0),
        BillingFrequency::MultiYear => {
            let days = (dates.renewal_date - dates.term_start).num_days();
            (days > 0).then(|| 365.25 / days as f64)
        }
        BillingFrequency::Usage => None,
    }
}

/// The yearly cost of `seats` seats, in minor units; None when the price is unknown.
pub fn annual_cost(s: &Subscription, dates: &RenewalDates, seats: i64) -> Option<i64> {
    let per_year = periods_per_year(s, dates)?;
    Some((s.unit_price_cents? as f64 * seats as f64 * per_year).round() as i64)
}

/// Formats minor units as `USD 1,234.50`, with the currency's own number of decimals.
pub fn money(cents: i64, currency: &str) -> String {
    let exp = u32::from(iso_currency::Currency::from_code(currency).and_then(|c| c.exponent()).unwrap_or(2));
    let unit = 10i64.pow(exp);
    let (whole, frac) = (cents.abs() / unit, cents.abs() % unit);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if cents < 0 { "-" } else { "" };
    match exp {
        0 => format!("{currency} {sign}{grouped}"),
        _ => format!("{currency} {sign}{grouped}.{frac:0width$}", width = exp as usize),
    }
}

fn recommend(s: &Subscription, dates: &RenewalDates, u: &SeatUse, has_usage_data: bool) -> Recommendation {
    let Some(bought) = s.seats_purchased else {
        let reason = "unlimited plan; seat use does not change the price".into();
        return Recommendation { action: Action::Renew, seats: None, reason };
    };
    if !has_usage_data {
        let reason = "no seats are recorded for this app yet; check use with the owner before deciding".into();
        return Recommendation { action: Action::Review, seats: None, reason };
    }
    // Recommend from the seats people use; idle seats are the ones to give up.
    let needed = u.needed();
    let breakdown = u.breakdown(Some(bought));
    if needed == 0 {
        let reason = match u.held {
            0 => format!("none of the {bought} seats is in use"),
            held => format!("none of the {held} seats held was used in {}+ days ({breakdown})", u.idle_days),
        };
        return Recommendation { action: Action::Cancel, seats: Some(0), reason };
    }
    if needed > bought {
        let reason =
            format!("{breakdown}: {needed} seats are needed, {} more than the {bought} bought", needed - bought);
        return Recommendation { action: Action::Renew, seats: Some(needed), reason };
    }
    if (needed as f64) < RIGHT_SIZE_BELOW * bought as f64 {
        let saving = annual_cost(s, dates, bought - needed).map(|c| format!(", saving {}/yr", money(c, &s.currency)));
        let reason = format!("{breakdown}{}", saving.unwrap_or_default());
        return Recommendation { action: Action::RightSize, seats: Some(needed), reason };
    }
    Recommendation { action: Action::Renew, seats: Some(bought), reason: breakdown }
}

/// Every active subscription's next renewal as of `today` whose deadline is at most
/// `within_days` away, soonest deadline first (deadlines already passed included).
pub fn upcoming(
    conn: &mut Conn,
    today: NaiveDate,
    within_days: i64,
    default_stages: &[u32],
) -> QueryResult<Vec<UpcomingRenewal>> {
    let subs: Vec<Subscription> = subscriptions::table
        .filter(subscriptions::status.eq(SubscriptionStatus::Active))
        .order(subscriptions::id.asc())
        .select(Subscription::as_select())
        .load(conn)?;
    type AppRow = (AppId, String, Option<String>, Option<String>);
    let app_rows: Vec<AppRow> =
        apps::table.select((apps::id, apps::name, apps::owner_email, apps::billing_owner_email)).load(conn)?;
    let app_info: HashMap<AppId, AppRow> = app_rows.into_iter().map(|r| (r.0, r)).collect();
    let seat_use = super::seat_use::by_subscription(conn, &subs, today)?;
    // Any seat row at all, even a removed one, means the app's use is known.
    // One index probe per app, not a pass over every seat.
    let apps_with_seats: std::collections::HashSet<AppId> = apps::table
        .filter(diesel::dsl::exists(accounts::table.filter(accounts::app_id.eq(apps::id))))
        .select(apps::id)
        .load::<AppId>(conn)?
        .into_iter()
        .collect();

    let mut out = Vec::new();
    for s in subs {
        let contract = Contract::of(&s);
        let Some(d) = dates::next_renewal(&contract, today) else { continue };
        let days = (d.notice_deadline - today).num_days();
        if days > within_days {
            continue;
        }
        let u = seat_use.get(&s.id).copied().unwrap_or_default();
        let used = u.held;
        let (_, app_name, owner, billing) =
            app_info.get(&s.app_id).cloned().unwrap_or((s.app_id, String::new(), None, None));
        let reminder_days = s
            .reminder_days
            .as_deref()
            .and_then(|r| crate::time::parse_stages(r).ok())
            .unwrap_or_else(|| default_stages.to_vec());
        out.push(UpcomingRenewal {
            subscription_id: s.id,
            app_id: s.app_id,
            app_name,
            plan: s.plan.clone(),
            owner_email: s.owner_email.clone().or(owner.clone()),
            app_owner_emails: owner.into_iter().chain(billing).collect(),
            renewal_type: s.renewal_type,
            term_start: d.term_start,
            term_end: d.term_end,
            renewal_date: d.renewal_date,
            notice_deadline: d.notice_deadline,
            deadline_kind: d.kind,
            days_to_deadline: days,
            rolled_terms: d.rolled_terms,
            seats_purchased: s.seats_purchased,
            seats_used: used,
            seats_active: u.active,
            seats_idle: u.idle,
            seats_activity_unknown: u.unknown,
            idle_days: u.idle_days,
            seats_over_assigned: u.over_assigned(s.seats_purchased),
            utilisation_percent: s.seats_purchased.filter(|b| *b > 0).map(|b| (used * 100 + b / 2) / b),
            annual_cost_cents: s.seats_purchased.and_then(|b| annual_cost(&s, &d, b)),
            currency: s.currency.clone(),
            recommendation: recommend(&s, &d, &u, apps_with_seats.contains(&s.app_id)),
            reminder_days,
            no_action_needed: s.no_action_needed,
        });
    }
    out.sort_by_key(|r| (r.notice_deadline, r.subscription_id));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn money_uses_the_currency_exponent_and_groups_thousands() {
        assert_eq!(money(1_078_800, "USD"), "USD 10,788.00");
        assert_eq!(money(5, "EUR"), "EUR 0.05");
        assert_eq!(money(1_500_000, "JPY"), "JPY 1,500,000");
        assert_eq!(money(-250, "GBP"), "GBP -2.50");
        assert_eq!(money(0, "USD"), "USD 0.00");
    }
}
