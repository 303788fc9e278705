//! Contract changes that lower spend, made through the inventory and recorded in the ledger in
//! one transaction: a subscription cancelled or set not to renew (its yearly cost), its seat
//! count lowered (the seats given up; reclaims that waited for this are settled rather than
//! counted again), or a cheaper price per seat for the same seats (a downgrade).

use super::{NewEntry, SavingsAction, SavingsEntry, SavingsKind};
use crate::audit::Actor;
use crate::db::schema::{accounts, savings_entries};
use crate::db::Conn;
use crate::findings::money;
use crate::inventory::{
    self, subscriptions, AccountStatus, Renewal, RenewalType, Subscription, SubscriptionChanges, SubscriptionId,
    SubscriptionStatus,
};
use diesel::prelude::*;

/// Changes subscription `id` (as `PATCH /subscriptions/{id}`) and records what it saved.
pub fn update(
    conn: &mut Conn,
    actor: &Actor,
    id: SubscriptionId,
    changes: SubscriptionChanges,
    request: Option<i64>,
) -> inventory::Result<Subscription> {
    crate::db::write_tx(conn, |conn| {
        let before = subscriptions::find(conn, id)?;
        let after = subscriptions::update(conn, actor, id, changes)?;
        record_change(conn, actor, &before, &after, request)?;
        Ok(after)
    })
}

/// Cancels subscription `id` and records its yearly cost as saved.
pub fn cancel(conn: &mut Conn, actor: &Actor, id: SubscriptionId) -> inventory::Result<Subscription> {
    crate::db::write_tx(conn, |conn| {
        let before = subscriptions::find(conn, id)?;
        let after = subscriptions::cancel(conn, actor, id)?;
        record_change(conn, actor, &before, &after, None)?;
        Ok(after)
    })
}

/// Records a renewal of subscription `id`; fewer seats or a cheaper price are recorded as saved.
pub fn renew(conn: &mut Conn, actor: &Actor, id: SubscriptionId, renewal: Renewal) -> inventory::Result<Subscription> {
    crate::db::write_tx(conn, |conn| {
        let before = subscriptions::find(conn, id)?;
        let after = subscriptions::renew(conn, actor, id, renewal)?;
        record_change(conn, actor, &before, &after, None)?;
        Ok(after)
    })
}

fn seats_in_use(conn: &mut Conn, sub: &Subscription) -> QueryResult<i64> {
    accounts::table
        .filter(accounts::app_id.eq(sub.app_id))
        .filter(accounts::status.eq(AccountStatus::Active))
        .count()
        .get_result(conn)
}

fn annual(per_month: f64, seats: i64) -> i64 {
    (per_month * seats as f64 * 12.0).round() as i64
}

/// Compares a subscription before and after a change and records what the change saved.
pub fn record_change(
    conn: &mut Conn,
    actor: &Actor,
    before: &Subscription,
    after: &Subscription,
    request: Option<i64>,
) -> QueryResult<Vec<SavingsEntry>> {
    let mut out = Vec::new();
    if before.status != SubscriptionStatus::Active {
        return Ok(out);
    }
    let c = Change { actor, before, after, request };
    let stops = after.status == SubscriptionStatus::Cancelled
        || (before.renewal_type != RenewalType::None && after.renewal_type == RenewalType::None);
    if stops {
        if let Some(e) = cancellation(conn, &c)? {
            out.extend(super::record(conn, &e)?);
        }
        return Ok(out);
    }
    let (Some(from), Some(to)) = (before.seats_purchased, after.seats_purchased) else { return Ok(out) };
    if let Some(e) = seat_reduction(conn, &c, from, to)? {
        out.extend(super::record(conn, &e)?);
    }
    if let Some(e) = downgrade(&c, to) {
        out.extend(super::record(conn, &e)?);
    }
    Ok(out)
}

/// A subscription change as the ledger sees it.
struct Change<'a> {
    actor: &'a Actor,
    before: &'a Subscription,
    after: &'a Subscription,
    request: Option<i64>,
}

impl Change<'_> {
    /// A realised saving of this change, with no seats or price filled in yet.
    fn entry(&self, action: SavingsAction, key: String, note: String) -> NewEntry {
        NewEntry {
            key,
            kind: SavingsKind::Realised,
            action,
            app_id: Some(self.after.app_id),
            subscription_id: Some(self.after.id),
            request_id: self.request,
            term_number: Some(self.before.term_number),
            seats_before: None,
            seats_after: None,
            unit_price_cents: None,
            annual_cents: 0,
            currency: self.before.currency.clone(),
            contract_lowered: true,
            note,
            actor: self.actor.0.clone(),
        }
    }
}

/// A subscription cancelled or set not to renew: its seats are no longer paid for.
fn cancellation(conn: &mut Conn, c: &Change<'_>) -> QueryResult<Option<NewEntry>> {
    let (before, after) = (c.before, c.after);
    let Some(per_month) = money::seat_per_month(before) else { return Ok(None) };
    let seats = match before.seats_purchased {
        Some(s) => s,
        None => seats_in_use(conn, before)?,
    };
    let how = if after.status == SubscriptionStatus::Cancelled { "cancelled" } else { "set not to renew" };
    let mut e = c.entry(
        SavingsAction::Cancellation,
        format!("cancellation:sub:{}:term:{}", before.id, before.term_number),
        format!("{} {} {how}: {seats} seat(s) no longer paid for from the end of the term", before.plan, before.id),
    );
    e.seats_before = Some(seats);
    e.seats_after = Some(0);
    e.unit_price_cents = Some(per_month.round() as i64);
    e.annual_cents = annual(per_month, seats);
    Ok(Some(e))
}

/// The contract lowered from `from` to `to` seats, less what reclaims counted before.
fn seat_reduction(conn: &mut Conn, c: &Change<'_>, from: i64, to: i64) -> QueryResult<Option<NewEntry>> {
    let (before, after) = (c.before, c.after);
    if to >= from || after.currency != before.currency {
        return Ok(None);
    }
    let Some(per_month) = money::seat_per_month(after).or_else(|| money::seat_per_month(before)) else {
        return Ok(None);
    };
    let given_up = from - to;
    let settled = settle_reclaims(conn, after.id, given_up)?;
    let counted = given_up - settled;
    if counted <= 0 {
        return Ok(None);
    }
    let earlier =
        if settled > 0 { format!("; {settled} of them were counted by reclaims before") } else { String::new() };
    let mut e = c.entry(
        SavingsAction::SeatReduction,
        format!("seat_reduction:sub:{}:term:{}:seats:{from}-{to}", after.id, after.term_number),
        format!("contract lowered from {from} to {to} seats{earlier}"),
    );
    e.term_number = Some(after.term_number);
    e.seats_before = Some(from);
    e.seats_after = Some(to);
    e.unit_price_cents = Some(per_month.round() as i64);
    e.annual_cents = annual(per_month, counted);
    Ok(Some(e))
}

/// The same `to` seats at a lower price per seat: a downgrade (a cheaper plan or a better price).
fn downgrade(c: &Change<'_>, to: i64) -> Option<NewEntry> {
    let (before, after) = (c.before, c.after);
    let (old, new) = (money::seat_per_month(before)?, money::seat_per_month(after)?);
    if !(new < old && after.currency == before.currency && to > 0) {
        return None;
    }
    let mut e = c.entry(
        SavingsAction::Downgrade,
        format!(
            "downgrade:sub:{}:term:{}:{}:{}",
            after.id,
            after.term_number,
            after.plan,
            after.unit_price_cents.unwrap_or_default()
        ),
        format!("{} seat(s) moved from {} to {} at a lower price per seat", to, before.plan, after.plan),
    );
    e.term_number = Some(after.term_number);
    e.seats_before = Some(to);
    e.seats_after = Some(to);
    e.unit_price_cents = Some(new.round() as i64);
    e.annual_cents = annual(old - new, to);
    Some(e)
}

/// Marks reclaims of `sub` that waited for the contract to be lowered as settled, up to
/// `seats` seats; returns how many seats they had counted already.
fn settle_reclaims(conn: &mut Conn, sub: SubscriptionId, seats: i64) -> QueryResult<i64> {
    let waiting: Vec<(super::SavingsEntryId, Option<i64>, Option<i64>)> = savings_entries::table
        .filter(savings_entries::subscription_id.eq(sub))
        .filter(savings_entries::action.eq(SavingsAction::Reclaim))
        .filter(savings_entries::contract_lowered.eq(false))
        .order(savings_entries::id.asc())
        .select((savings_entries::id, savings_entries::seats_before, savings_entries::seats_after))
        .load(conn)?;
    let mut settled = 0;
    for (id, before, after) in waiting {
        let n = before.unwrap_or(0) - after.unwrap_or(0);
        if settled + n > seats {
            break;
        }
        diesel::update(savings_entries::table.find(id))
            .set(savings_entries::contract_lowered.eq(true))
            .execute(conn)?;
        settled += n;
    }
    Ok(settled)
}
