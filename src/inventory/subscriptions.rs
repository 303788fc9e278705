//! Subscriptions: the contracts that pay for an app's seats. A renewal starts a new term and
//! keeps the old one in `subscription_terms`; a cancelled subscription stays for reports.

use super::apps::{self, AppId};
use super::error::{InventoryError, Result};
use super::validate::{self, Invalid};
use crate::audit::{self, Actor};
use crate::db::schema::{subscription_terms, subscriptions};
use crate::db::{Conn, Page};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

crate::id_type!(
    /// Id of a subscription.
    SubscriptionId
);

crate::text_enum!(
    /// How often the subscription is billed.
    BillingFrequency {
        /// Billed every month.
        Monthly => "monthly",
        /// Billed every year.
        Annual => "annual",
        /// One bill for a term of several years.
        MultiYear => "multi_year" | "multi-year",
        /// Billed by consumption.
        Usage => "usage",
    }
);

crate::text_enum!(
    /// What happens at the end of a term.
    RenewalType {
        /// Renews unless cancelled before the notice deadline.
        Auto => "auto",
        /// Ends unless someone renews it.
        Manual => "manual",
        /// Expires at the end of the term.
        None => "none",
    }
);

crate::text_enum!(
    /// Whether the contract is still in force.
    SubscriptionStatus {
        /// In force.
        Active => "active",
        /// Cancelled or expired; kept for history.
        Cancelled => "cancelled",
    }
);

/// A subscription (contract) for an app, in its current term.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = subscriptions, treat_none_as_null = true)]
pub struct Subscription {
    /// Subscription id.
    #[diesel(skip_insertion)]
    pub id: SubscriptionId,
    /// The app it pays for.
    pub app_id: AppId,
    /// Plan or SKU, e.g. `Business`.
    pub plan: String,
    /// Seats bought; null means unlimited.
    pub seats_purchased: Option<i64>,
    /// Price of one seat per billing period, in minor units (cents); null when unknown.
    pub unit_price_cents: Option<i64>,
    /// ISO 4217 currency of the price.
    pub currency: String,
    /// Billing period.
    pub billing_frequency: BillingFrequency,
    /// First day of the current term.
    pub term_start: NaiveDate,
    /// Last day of the current term; null when open-ended.
    pub term_end: Option<NaiveDate>,
    /// What happens at the end of the term.
    pub renewal_type: RenewalType,
    /// Days of notice needed before the term ends to cancel or change.
    pub notice_days: Option<i32>,
    /// Explicit last day to opt out, when the contract names one.
    pub opt_out_date: Option<NaiveDate>,
    /// Who owns the contract.
    pub owner_email: Option<String>,
    /// Cost centre charged.
    pub cost_centre: Option<String>,
    /// Whether the contract is in force.
    pub status: SubscriptionStatus,
    /// 1 for the first term, +1 at each renewal.
    pub term_number: i32,
    /// When the record was created (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: NaiveDateTime,
    /// When the record last changed (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub updated_at: NaiveDateTime,
    /// Reminder stages in days before the notice deadline, e.g. `90,30,7`; null = the global default.
    pub reminder_days: Option<String>,
    /// True when the owner has said no renewal reminders are needed.
    pub no_action_needed: bool,
    /// Months each renewal runs (the contract term, whatever the billing period); null = as long
    /// as the current term.
    pub renewal_term_months: Option<i32>,
}

/// Fields to set on a subscription; absent fields stay as they are, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionChanges {
    /// The app (required when creating).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub app_id: Option<AppId>,
    /// Plan or SKU (required when creating).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub plan: Option<String>,
    /// Seats bought (at most 10,000,000); null for unlimited.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000)]
    pub seats_purchased: Option<Option<i64>>,
    /// Price of one seat per billing period in cents (at most 1,000,000,000); null when unknown.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000)]
    pub unit_price_cents: Option<Option<i64>>,
    /// ISO 4217 currency (required when creating).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub currency: Option<String>,
    /// Billing period (default `annual`).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub billing_frequency: Option<BillingFrequency>,
    /// First day of the term (default today).
    #[serde(default, deserialize_with = "crate::time::date_not_null::deserialize")]
    #[schema(value_type = Option<String>, format = Date)]
    pub term_start: Option<NaiveDate>,
    /// Last day of the term.
    #[serde(default, deserialize_with = "crate::time::double_option_date::deserialize")]
    #[schema(value_type = Option<String>, format = Date)]
    pub term_end: Option<Option<NaiveDate>>,
    /// Renewal type (default `auto`).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub renewal_type: Option<RenewalType>,
    /// Notice days.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<i32>)]
    pub notice_days: Option<Option<i32>>,
    /// Opt-out date.
    #[serde(default, deserialize_with = "crate::time::double_option_date::deserialize")]
    #[schema(value_type = Option<String>, format = Date)]
    pub opt_out_date: Option<Option<NaiveDate>>,
    /// Contract owner's email.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub owner_email: Option<Option<String>>,
    /// Cost centre.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub cost_centre: Option<Option<String>>,
    /// Status (default `active`).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub status: Option<SubscriptionStatus>,
    /// Reminder stages in days before the deadline, e.g. `90,30,7`; null for the global default.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub reminder_days: Option<Option<String>>,
    /// Set true to stop renewal reminders for this subscription.
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub no_action_needed: Option<bool>,
    /// Months each renewal runs (1–120), whatever the billing period; null = as long as the
    /// current term.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 120)]
    pub renewal_term_months: Option<Option<i32>>,
}

impl SubscriptionChanges {
    fn apply(self, s: &mut Subscription) {
        crate::apply_changes!(self, s; app_id, plan, seats_purchased, unit_price_cents, currency,
            billing_frequency, term_start, term_end, renewal_type, notice_days, opt_out_date,
            owner_email, cost_centre, status, reminder_days, no_action_needed, renewal_term_months);
    }
}

/// The next term's figures when a subscription is renewed; unset fields carry over,
/// except the opt-out date, which belonged to the old term.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    /// First day of the new term (default: the old term's last day + 1).
    #[serde(default, deserialize_with = "crate::time::date_opt::deserialize")]
    #[schema(value_type = Option<String>, format = Date)]
    pub term_start: Option<NaiveDate>,
    /// Last day of the new term (required).
    #[serde(default, deserialize_with = "crate::time::date_opt::deserialize")]
    #[schema(value_type = Option<String>, format = Date)]
    pub term_end: Option<NaiveDate>,
    /// Plan for the new term.
    pub plan: Option<String>,
    /// Seats for the new term.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000)]
    pub seats_purchased: Option<Option<i64>>,
    /// Seat price for the new term.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000)]
    pub unit_price_cents: Option<Option<i64>>,
    /// Currency for the new term.
    pub currency: Option<String>,
    /// Billing period for the new term.
    pub billing_frequency: Option<BillingFrequency>,
    /// Renewal type for the new term.
    pub renewal_type: Option<RenewalType>,
    /// Notice days for the new term.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<i32>)]
    pub notice_days: Option<Option<i32>>,
    /// Opt-out date of the new term.
    #[serde(default, deserialize_with = "crate::time::date_opt::deserialize")]
    #[schema(value_type = Option<String>, format = Date)]
    pub opt_out_date: Option<NaiveDate>,
}

/// One term of a subscription, past or current.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = subscription_terms)]
pub struct Term {
    /// Which term: 1 is the first.
    pub term_number: i32,
    /// Plan in that term.
    pub plan: String,
    /// Seats bought in that term.
    pub seats_purchased: Option<i64>,
    /// Seat price in that term, in cents.
    pub unit_price_cents: Option<i64>,
    /// Currency in that term.
    pub currency: String,
    /// Billing period in that term.
    pub billing_frequency: BillingFrequency,
    /// First day.
    pub term_start: NaiveDate,
    /// Last day.
    pub term_end: Option<NaiveDate>,
    /// Renewal type in that term.
    pub renewal_type: RenewalType,
    /// Notice days in that term.
    pub notice_days: Option<i32>,
    /// Opt-out date in that term.
    pub opt_out_date: Option<NaiveDate>,
}

impl Subscription {
    fn current_term(&self) -> Term {
        Term {
            term_number: self.term_number,
            plan: self.plan.clone(),
            seats_purchased: self.seats_purchased,
            unit_price_cents: self.unit_price_cents,
            currency: self.currency.clone(),
            billing_frequency: self.billing_frequency,
            term_start: self.term_start,
            term_end: self.term_end,
            renewal_type: self.renewal_type,
            notice_days: self.notice_days,
            opt_out_date: self.opt_out_date,
        }
    }
}

fn validate(conn: &mut Conn, s: &mut Subscription) -> Result<()> {
    match apps::find(conn, s.app_id) {
        Err(InventoryError::NotFound { .. }) => {
            return Err(Invalid::new("app_id", format!("no app has id {}", s.app_id)).into())
        }
        other => other.map(|_| ())?,
    }
    validate::required("plan", &mut s.plan)?;
    validate::at_most("seats_purchased", s.seats_purchased, validate::MAX_SEATS)?;
    validate::at_most("unit_price_cents", s.unit_price_cents, validate::MAX_UNIT_PRICE_CENTS)?;
    validate::currency("currency", &mut s.currency)?;
    if let Some(end) = s.term_end {
        if end < s.term_start {
            return Err(Invalid::new("term_end", "must not be before term_start").into());
        }
        if s.opt_out_date.is_some_and(|o| o > end) {
            return Err(Invalid::new("opt_out_date", "must not be after term_end").into());
        }
    }
    if s.notice_days.is_some_and(|d| !(0..=3650).contains(&d)) {
        return Err(Invalid::new("notice_days", "must be between 0 and 3650").into());
    }
    if s.renewal_term_months.is_some_and(|m| !(1..=120).contains(&m)) {
        return Err(Invalid::new("renewal_term_months", "must be between 1 and 120").into());
    }
    validate::optional_email("owner_email", &mut s.owner_email)?;
    validate::optional("cost_centre", &mut s.cost_centre)?;
    validate::optional("reminder_days", &mut s.reminder_days)?;
    if let Some(days) = s.reminder_days.as_mut() {
        let stages = crate::time::parse_stages(days).map_err(|m| Invalid::new("reminder_days", m))?;
        *days = stages.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    }
    Ok(())
}

/// Which subscriptions to list.
#[derive(Debug, Default, Clone)]
pub struct SubscriptionFilter {
    /// Only this app's.
    pub app_id: Option<AppId>,
    /// Only in this status.
    pub status: Option<SubscriptionStatus>,
    /// Only with this renewal type.
    pub renewal_type: Option<RenewalType>,
}

/// Finds a subscription by id.
pub fn find(conn: &mut Conn, id: SubscriptionId) -> Result<Subscription> {
    subscriptions::table
        .find(id)
        .select(Subscription::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| InventoryError::not_found("subscription", id))
}

/// One page of subscriptions in id order.
pub fn list(conn: &mut Conn, filter: &SubscriptionFilter, page: Page) -> Result<(Vec<Subscription>, Option<i64>)> {
    let mut q = subscriptions::table.filter(subscriptions::id.gt(page.after)).into_boxed();
    if let Some(a) = filter.app_id {
        q = q.filter(subscriptions::app_id.eq(a));
    }
    if let Some(s) = filter.status {
        q = q.filter(subscriptions::status.eq(s));
    }
    if let Some(r) = filter.renewal_type {
        q = q.filter(subscriptions::renewal_type.eq(r));
    }
    let rows = q.order(subscriptions::id.asc()).limit(page.fetch()).select(Subscription::as_select()).load(conn)?;
    Ok(page.finish(rows, |s| s.id.0))
}

/// Creates a subscription and records it in the audit log.
pub fn create(conn: &mut Conn, actor: &Actor, changes: SubscriptionChanges) -> Result<Subscription> {
    let now = crate::time::now();
    let Some(app_id) = changes.app_id else {
        return Err(Invalid::new("app_id", "is required").into());
    };
    if changes.currency.is_none() {
        return Err(Invalid::new("currency", "is required: an ISO 4217 code such as USD").into());
    }
    let mut s = Subscription {
        id: SubscriptionId(0),
        app_id,
        plan: String::new(),
        seats_purchased: None,
        unit_price_cents: None,
        currency: String::new(),
        billing_frequency: BillingFrequency::Annual,
        term_start: now.date(),
        term_end: None,
        renewal_type: RenewalType::Auto,
        notice_days: None,
        opt_out_date: None,
        owner_email: None,
        cost_centre: None,
        status: SubscriptionStatus::Active,
        term_number: 1,
        created_at: now,
        updated_at: now,
        reminder_days: None,
        no_action_needed: false,
        renewal_term_months: None,
    };
    changes.apply(&mut s);
    crate::db::write_tx(conn, |conn| {
        validate(conn, &mut s)?;
        let s: Subscription = diesel::insert_into(subscriptions::table)
            .values(&s)
            .returning(subscriptions::all_columns)
            .get_result(conn)?;
        audit::record(conn, actor, "subscription.create", "subscription", s.id, None, Some(&s))?;
        Ok(s)
    })
}

fn save(
    conn: &mut Conn,
    actor: &Actor,
    action: &str,
    before: &Subscription,
    mut s: Subscription,
) -> Result<Subscription> {
    s.updated_at = crate::time::now();
    let s: Subscription = diesel::update(subscriptions::table.find(s.id))
        .set(&s)
        .returning(subscriptions::all_columns)
        .get_result(conn)?;
    audit::record(conn, actor, action, "subscription", s.id, Some(before), Some(&s))?;
    Ok(s)
}

/// Applies `changes` to subscription `id` within its current term; a change that alters nothing writes nothing.
pub fn update(
    conn: &mut Conn,
    actor: &Actor,
    id: SubscriptionId,
    changes: SubscriptionChanges,
) -> Result<Subscription> {
    crate::db::write_tx(conn, |conn| {
        let before = find(conn, id)?;
        let mut s = before.clone();
        changes.apply(&mut s);
        validate(conn, &mut s)?;
        if s == before {
            return Ok(before);
        }
        save(conn, actor, "subscription.update", &before, s)
    })
}

/// Cancels subscription `id`; it stays readable with its terms.
pub fn cancel(conn: &mut Conn, actor: &Actor, id: SubscriptionId) -> Result<Subscription> {
    let changes = SubscriptionChanges { status: Some(SubscriptionStatus::Cancelled), ..Default::default() };
    update(conn, actor, id, changes)
}

/// Starts the next term: the current one is kept in the history, the subscription takes the new figures.
pub fn renew(conn: &mut Conn, actor: &Actor, id: SubscriptionId, renewal: Renewal) -> Result<Subscription> {
    crate::db::write_tx(conn, |conn| {
        let before = find(conn, id)?;
        let Some(term_end) = renewal.term_end else {
            return Err(Invalid::new("term_end", "is required: the last day of the new term").into());
        };
        let default_start = before.term_end.and_then(|d| d.succ_opt()).unwrap_or(before.term_start);
        let term_start = renewal.term_start.unwrap_or(default_start);
        if term_start <= before.term_start {
            return Err(Invalid::new("term_start", "must come after the current term's start").into());
        }
        diesel::insert_into(subscription_terms::table)
            .values((
                before.current_term(),
                subscription_terms::subscription_id.eq(id),
                subscription_terms::recorded_at.eq(crate::time::now()),
            ))
            .execute(conn)?;
        let mut s = before.clone();
        s.term_start = term_start;
        s.term_end = Some(term_end);
        s.opt_out_date = renewal.opt_out_date;
        s.term_number += 1;
        s.status = SubscriptionStatus::Active;
        crate::apply_changes!(renewal, s; plan, seats_purchased, unit_price_cents, currency,
            billing_frequency, renewal_type, notice_days);
        validate(conn, &mut s)?;
        save(conn, actor, "subscription.renew", &before, s)
    })
}

/// Every term of subscription `id`, oldest first, the current one last.
pub fn terms(conn: &mut Conn, id: SubscriptionId) -> Result<Vec<Term>> {
    let current = find(conn, id)?;
    let mut past: Vec<Term> = subscription_terms::table
        .filter(subscription_terms::subscription_id.eq(id))
        .order(subscription_terms::term_number.asc())
        .select(Term::as_select())
        .load(conn)?;
    past.push(current.current_term());
    Ok(past)
}
