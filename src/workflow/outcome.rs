//! Outcomes: what an approved (or, for renewals, rejected) request changes in the inventory,
//! through the inventory's own functions so every change is validated and audited.

use super::engine::Env;
use super::error::Result;
use super::model::{Request, RequestKind};
use crate::audit::Actor;
use crate::db::Conn;
use crate::inventory::{
    apps, subscriptions, AppChanges, AppStatus, BillingFrequency, RenewalType, SubscriptionChanges,
};
use chrono::{Months, NaiveDateTime};
use serde_json::json;

/// What an approval did; `finished` is false when someone must still act (a reclaim's
/// removals, a new tool's provisioning).
pub struct Done {
    /// Details for the request's outcome and history.
    pub details: serde_json::Value,
    /// True when the inventory change is complete.
    pub finished: bool,
}

/// Carries out approved request `r` as `actor`, filling in the app and subscription it created.
pub fn approved(conn: &mut Conn, actor: &Actor, env: Env<'_>, r: &mut Request, now: NaiveDateTime) -> Result<Done> {
    let details = match r.kind {
        RequestKind::NewTool => {
            let mut details = new_tool(conn, actor, r, env.default_notice_days, now)?;
            super::provision::task(conn, env.public_url, r, &mut details)?;
            return Ok(Done { details, finished: false });
        }
        RequestKind::AddSeats => add_seats(conn, actor, r)?,
        RequestKind::Renewal => {
            let id = r.subscription_id.ok_or_else(|| super::WorkflowError::invalid("subscription_id", "missing"))?;
            let changes = SubscriptionChanges { no_action_needed: Some(true), ..Default::default() };
            subscriptions::update(conn, actor, id, changes)?;
            json!({"action": "renewal_approved", "subscription_id": id,
                   "note": "renewal reminders stop; record the new term with POST /api/v1/subscriptions/{id}/renewals once signed"})
        }
        RequestKind::Reclaim => {
            return Ok(Done { details: super::reclaim::start(conn, env.public_url, r)?, finished: false });
        }
    };
    Ok(Done { details, finished: true })
}

/// Records a rejected renewal on its subscription: it is not to renew, so the reminders turn
/// into expiry notices and the owner knows to give notice by the deadline.
pub fn renewal_rejected(conn: &mut Conn, actor: &Actor, r: &Request) -> Result<Option<serde_json::Value>> {
    let (RequestKind::Renewal, Some(id)) = (r.kind, r.subscription_id) else { return Ok(None) };
    let changes = SubscriptionChanges {
        renewal_type: Some(RenewalType::None),
        no_action_needed: Some(false),
        ..Default::default()
    };
    // Not renewing is a cancellation at renewal: the ledger records its yearly cost.
    crate::savings::contracts::update(conn, actor, id, changes, Some(r.id.0))?;
    Ok(Some(json!({"action": "renewal_rejected", "subscription_id": id,
        "note": "the subscription is marked not to renew (renewal_type none): give the vendor notice by the deadline"})))
}

fn new_tool(
    conn: &mut Conn,
    actor: &Actor,
    r: &mut Request,
    notice_days: i32,
    now: NaiveDateTime,
) -> Result<serde_json::Value> {
    let name = r.name.clone().unwrap_or_default();
    let category = Some(r.category.replace('_', " ")).filter(|c| !c.is_empty());
    let app = match apps::find_by_name(conn, &name)? {
        // A tool found earlier (shadow IT, an import) becomes approved rather than duplicated.
        Some(existing) => {
            let changes = AppChanges {
                status: Some(AppStatus::Approved),
                vendor: existing.vendor.is_none().then(|| r.vendor.clone()),
                website: existing.website.is_none().then(|| r.website.clone()),
                category: existing.category.is_none().then(|| category.clone()),
                owner_email: existing.owner_email.is_none().then(|| Some(r.requester_email.clone())),
                ..Default::default()
            };
            apps::update(conn, actor, existing.id, changes)?
        }
        None => apps::create(
            conn,
            actor,
            AppChanges {
                name: Some(name),
                vendor: Some(r.vendor.clone()),
                website: Some(r.website.clone()),
                category: Some(category),
                owner_email: Some(Some(r.requester_email.clone())),
                status: Some(AppStatus::Approved),
                notes: Some(Some(format!(
                    "Approved through request #{}: {}",
                    r.id,
                    r.purpose.clone().unwrap_or_default()
                ))),
                ..Default::default()
            },
        )?,
    };
    let seats = r.seats.unwrap_or(1).max(1);
    let cost = r.annual_cost_cents.unwrap_or(0);
    // A yearly price per seat, rounded to the nearest minor unit.
    let unit_price = (cost + seats / 2) / seats;
    let start = now.date();
    let end = start.checked_add_months(Months::new(12)).and_then(|d| d.pred_opt()).unwrap_or(start);
    let sub = subscriptions::create(
        conn,
        actor,
        SubscriptionChanges {
            app_id: Some(app.id),
            plan: Some("Standard".into()),
            seats_purchased: Some(Some(seats)),
            unit_price_cents: Some(Some(unit_price)),
            currency: r.currency.clone(),
            billing_frequency: Some(BillingFrequency::Annual),
            term_start: Some(start),
            term_end: Some(Some(end)),
            renewal_type: Some(RenewalType::Auto),
            // Until it records the contract's own, the configured default: never a zero-day notice.
            notice_days: Some(Some(notice_days)),
            owner_email: Some(Some(r.requester_email.clone())),
            ..Default::default()
        },
    )?;
    r.app_id = Some(app.id);
    r.subscription_id = Some(sub.id);
    Ok(json!({"action": "app_created", "app_id": app.id, "subscription_id": sub.id,
        "seats_purchased": seats, "unit_price_cents": unit_price, "currency": sub.currency,
        "notice_days": notice_days}))
}

fn add_seats(conn: &mut Conn, actor: &Actor, r: &Request) -> Result<serde_json::Value> {
    let id = r.subscription_id.ok_or_else(|| super::WorkflowError::invalid("subscription_id", "missing"))?;
    let sub = subscriptions::find(conn, id)?;
    let seats = r.seats.unwrap_or(0);
    let Some(before) = sub.seats_purchased else {
        return Ok(json!({"action": "seats_unlimited", "subscription_id": id,
            "note": "the subscription has unlimited seats; nothing to raise"}));
    };
    let after = before.saturating_add(seats);
    let changes = SubscriptionChanges { seats_purchased: Some(Some(after)), ..Default::default() };
    subscriptions::update(conn, actor, id, changes)?;
    Ok(json!({"action": "seats_added", "subscription_id": id, "seats_before": before, "seats_after": after}))
}
