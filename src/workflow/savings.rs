//! What the workflow's decisions save, recorded in the savings ledger in the same transaction
//! as the decision: a completed reclaim (realised: the seats at their subscription's price), a
//! rejected renewal (realised: the subscription cancelled at renewal), a rejected new-tool or
//! add-seats request and a new-tool request withdrawn after the advice named a tool the stack
//! has (avoided: the cost asked). Keys make each count once.

use super::error::Result;
use super::model::{Request, RequestKind};
use crate::audit::Actor;
use crate::db::schema::accounts;
use crate::db::Conn;
use crate::findings::money;
use crate::inventory::{subscriptions, AccountStatus, Subscription, SubscriptionStatus};
use crate::savings::{self, NewEntry, SavingsAction, SavingsKind};
use diesel::prelude::*;

/// The subscription a reclaim's seats were paid by: the request's, the seats' own, or the
/// app's only active one.
fn paying(conn: &mut Conn, r: &Request, seats: &[crate::inventory::Account]) -> Result<Option<Subscription>> {
    let named = r.subscription_id.or_else(|| seats.iter().find_map(|a| a.subscription_id));
    if let Some(id) = named {
        return Ok(Some(subscriptions::find(conn, id)?));
    }
    let Some(app) = r.app_id else { return Ok(None) };
    let filter = crate::inventory::SubscriptionFilter {
        app_id: Some(app),
        status: Some(SubscriptionStatus::Active),
        ..Default::default()
    };
    let (subs, _) = subscriptions::list(conn, &filter, crate::db::Page { after: 0, limit: 2 })?;
    Ok(if subs.len() == 1 { subs.into_iter().next() } else { None })
}

/// Records what a completed reclaim saved: its seats at their subscription's unit price.
pub fn reclaim_done(conn: &mut Conn, actor: &Actor, r: &Request) -> Result<()> {
    let seats = super::reclaim::accounts_of(conn, r)?;
    let n = seats.len() as i64;
    let Some(sub) = paying(conn, r, &seats)? else {
        tracing::info!(request = %r.id, "reclaim done; no subscription to price its seats, so no ledger entry");
        return Ok(());
    };
    let Some(per_month) = money::seat_per_month(&sub) else {
        tracing::info!(request = %r.id, "reclaim done; the subscription has no price, so no ledger entry");
        return Ok(());
    };
    let ids: Vec<_> = seats.iter().map(|a| a.id).collect();
    let in_use: i64 = accounts::table
        .filter(accounts::app_id.eq(sub.app_id))
        .filter(accounts::status.eq(AccountStatus::Active))
        .filter(accounts::id.ne_all(&ids))
        .count()
        .get_result(conn)?;
    let annual = (per_month * n as f64 * 12.0).round() as i64;
    // A contract that counts seats still bills them until its seat count is lowered.
    let lowered = sub.seats_purchased.is_none();
    let note = if lowered {
        format!("{n} seat(s) reclaimed; billed per seat in use, so the saving holds from now")
    } else {
        format!(
            "{n} seat(s) reclaimed; the contract still counts {} seats, so the saving waits until its seat count is lowered (at the latest at the renewal)",
            sub.seats_purchased.unwrap_or_default()
        )
    };
    let entry = NewEntry {
        key: format!("reclaim:request:{}", r.id),
        kind: SavingsKind::Realised,
        action: SavingsAction::Reclaim,
        app_id: Some(sub.app_id),
        subscription_id: Some(sub.id),
        request_id: Some(r.id.0),
        term_number: Some(sub.term_number),
        seats_before: Some(in_use + n),
        seats_after: Some(in_use),
        unit_price_cents: Some(per_month.round() as i64),
        annual_cents: annual,
        currency: sub.currency.clone(),
        contract_lowered: lowered,
        note,
        actor: actor.0.clone(),
    };
    savings::record(conn, &entry)?;
    Ok(())
}

/// Records the cost a rejected new-tool or add-seats request asked for, as avoided.
pub fn request_rejected(conn: &mut Conn, actor: &Actor, r: &Request) -> Result<()> {
    avoided(conn, actor, r, SavingsAction::RequestRejected, "rejected")
}

/// Records a new-tool request withdrawn after its advice named tools the stack has, as avoided.
pub fn request_withdrawn(conn: &mut Conn, actor: &Actor, r: &Request) -> Result<()> {
    let named_apps = r.advice.as_ref().is_some_and(|a| !a.0.apps.is_empty());
    if r.kind != RequestKind::NewTool || !named_apps {
        return Ok(());
    }
    avoided(conn, actor, r, SavingsAction::RequestRedirected, "withdrawn for a tool the stack has")
}

fn avoided(conn: &mut Conn, actor: &Actor, r: &Request, action: SavingsAction, what: &str) -> Result<()> {
    if !matches!(r.kind, RequestKind::NewTool | RequestKind::AddSeats) {
        return Ok(());
    }
    let (Some(cost), Some(currency)) = (r.annual_cost_cents, r.currency.clone()) else {
        tracing::info!(request = %r.id, "request {what} without a stated cost; no ledger entry");
        return Ok(());
    };
    let label = r.name.clone().map(|n| format!(" for {n}")).unwrap_or_default();
    let entry = NewEntry {
        key: format!("request:{}:{}", r.id, action),
        kind: SavingsKind::Avoided,
        action,
        app_id: r.app_id,
        subscription_id: r.subscription_id,
        request_id: Some(r.id.0),
        term_number: None,
        seats_before: None,
        seats_after: None,
        unit_price_cents: None,
        annual_cents: cost,
        currency,
        contract_lowered: false,
        note: format!(
            "{} request{label} {what}: the {} seat(s) it asked for are not bought",
            r.kind,
            r.seats.unwrap_or(0)
        ),
        actor: actor.0.clone(),
    };
    savings::record(conn, &entry)?;
    Ok(())
}
