//! The rules, one file each: pure functions from a snapshot to computed findings.
//! Shadow IT reads the app grants identity-provider connectors bring; overlap uses the apps'
//! categories.

mod dedupe;
mod downgrade;
mod duplicate_account;
mod inactive_seat;
mod orphaned_account;
mod overlap;
mod renewal_at_risk;
mod shadow_it;
mod unassigned_seats;

use super::money::{self, Savings};
use super::snapshot::Snapshot;
use super::Computed;
use crate::inventory::Subscription;

type Rule = fn(&Snapshot) -> Vec<Computed>;

const RULES: &[(&str, Rule)] = &[
    ("inactive_seat", inactive_seat::run),
    ("unassigned_seats", unassigned_seats::run),
    ("orphaned_account", orphaned_account::run),
    ("duplicate_account", duplicate_account::run),
    ("renewal_at_risk", renewal_at_risk::run),
    ("overlap", overlap::run),
    ("shadow_it", shadow_it::run),
    ("downgrade", downgrade::run),
];

/// Every rule's findings for the snapshot, each seat's savings counted once (`dedupe`).
pub fn all(s: &Snapshot) -> Vec<Computed> {
    all_timed(s).0
}

/// Every rule's findings, with how long each rule took (logged at debug, shown by the benchmark).
pub fn all_timed(s: &Snapshot) -> (Vec<Computed>, Vec<(&'static str, std::time::Duration)>) {
    let mut out = Vec::new();
    let mut times = Vec::new();
    for (name, rule) in RULES {
        let started = std::time::Instant::now();
        out.extend(rule(s));
        let took = started.elapsed();
        tracing::debug!(rule = name, ms = took.as_millis() as u64, "findings rule ran");
        times.push((*name, took));
    }
    let started = std::time::Instant::now();
    dedupe::apply(s, &mut out);
    times.push(("dedupe", started.elapsed()));
    (out, times)
}

/// Savings and currency for `seats` seats of `sub`, when the price is known.
fn savings(sub: Option<&Subscription>, seats: i64) -> (Option<Savings>, Option<String>) {
    match sub {
        Some(s) => (money::for_seats(s, seats), Some(s.currency.clone())),
        None => (None, None),
    }
}

/// "; USD 2,520.00/yr" or "; savings unknown (no price recorded)".
fn money_phrase(savings: Option<Savings>, currency: Option<&str>) -> String {
    match (savings, currency) {
        (Some(v), Some(c)) => format!("; {}/yr", crate::renewals::upcoming::money(v.annual_cents, c)),
        _ => "; savings unknown (no price recorded)".to_string(),
    }
}

/// How an account is named to people: email, else username, else the vendor's id.
fn who(a: &super::snapshot::Seat) -> String {
    a.email
        .clone()
        .or_else(|| a.username.clone())
        .or_else(|| a.external_id.clone())
        .unwrap_or_else(|| format!("account {}", a.id))
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A small inventory builder for rule tests, with a fixed clock.

    use crate::findings::snapshot::{Exclusion, Member, RuleSettings, Seat, Snapshot};
    use crate::inventory::*;
    use chrono::{NaiveDate, NaiveDateTime};

    pub fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
    }

    pub fn days_ago(n: i64) -> NaiveDateTime {
        (today() - chrono::Duration::days(n)).and_hms_opt(12, 0, 0).unwrap()
    }

    pub struct Fixture(pub Snapshot);

    impl Fixture {
        pub fn new() -> Self {
            Fixture(Snapshot::new(today(), RuleSettings::default()))
        }

        pub fn app(&mut self, id: i64, name: &str) -> &mut App {
            let mut app = App::blank(days_ago(400));
            app.id = AppId(id);
            app.name = name.into();
            self.0.apps.insert(AppId(id), app);
            self.0.apps.get_mut(&AppId(id)).unwrap()
        }

        pub fn sub(&mut self, id: i64, app: i64, seats: Option<i64>, monthly_price: Option<i64>) -> &mut Subscription {
            let t = days_ago(400);
            self.0.subscriptions.push(Subscription {
                id: SubscriptionId(id),
                app_id: AppId(app),
                plan: "Business".into(),
                seats_purchased: seats,
                unit_price_cents: monthly_price,
                currency: "USD".into(),
                billing_frequency: BillingFrequency::Monthly,
                term_start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                term_end: Some(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
                renewal_type: RenewalType::Auto,
                notice_days: Some(30),
                opt_out_date: None,
                owner_email: None,
                cost_centre: None,
                status: SubscriptionStatus::Active,
                term_number: 1,
                created_at: t,
                updated_at: t,
                reminder_days: None,
                no_action_needed: false,
                renewal_term_months: None,
            });
            self.0.subscriptions.last_mut().unwrap()
        }

        /// An active, billable account first seen `seen` days ago, last active `active` days ago.
        pub fn account(&mut self, id: i64, app: i64, email: &str, seen: i64, active: Option<i64>) -> &mut Seat {
            self.0.accounts.push(Seat {
                id: AccountId(id),
                app_id: AppId(app),
                subscription_id: None,
                person_id: None,
                external_id: Some(format!("ext-{id}")),
                email: Some(email.into()),
                username: None,
                licence: None,
                status: AccountStatus::Active,
                billable: true,
                vendor_created_at: None,
                last_active_at: active.map(days_ago),
                first_seen_at: days_ago(seen),
                last_seen_at: days_ago(0),
                connection_id: None,
                activity_tracked: true,
                premium_used: None,
            });
            self.0.accounts.last_mut().unwrap()
        }

        pub fn person(&mut self, id: i64, email: &str, status: PersonStatus) {
            let left_on = (status == PersonStatus::Departed).then(|| today() - chrono::Duration::days(10));
            let name = email.split('@').next().unwrap().into();
            self.0.people.insert(PersonId(id), Member { id: PersonId(id), email: email.into(), name, status, left_on });
        }

        pub fn exclude(&mut self, app: Option<i64>, account: Option<i64>, kind: Option<&str>) {
            let id = self.0.exclusions.len() as i64 + 1;
            self.0.exclusions.push(Exclusion {
                id,
                app_id: app.map(AppId),
                account_id: account.map(AccountId),
                kind: kind.map(str::to_string),
            });
        }
    }
}
