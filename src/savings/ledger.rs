//! Ledger entries: recorded once per key, listed by when they were recorded, and totalled per
//! currency with the potential savings of open findings.

use super::{SavingsAction, SavingsKind};
use crate::db::schema::{findings, savings_entries};
use crate::db::Conn;
use crate::inventory::{AppId, SubscriptionId};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

crate::id_type!(
    /// Id of a ledger entry.
    SavingsEntryId
);

/// A ledger entry as stored and shown.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = savings_entries)]
pub struct SavingsEntry {
    /// Entry id.
    pub id: SavingsEntryId,
    /// What makes it unique, e.g. `reclaim:request:12`: one entry per action.
    pub entry_key: String,
    /// Realised or avoided.
    pub kind: SavingsKind,
    /// The action it records.
    pub action: SavingsAction,
    /// The app concerned.
    pub app_id: Option<AppId>,
    /// The subscription concerned.
    pub subscription_id: Option<SubscriptionId>,
    /// The request it came from.
    #[serde(serialize_with = "id_text")]
    #[schema(value_type = Option<String>)]
    pub request_id: Option<i64>,
    /// The subscription's term it came from (renewals, contract changes).
    pub term_number: Option<i32>,
    /// Seats before the action (in use, or on contract for contract changes).
    pub seats_before: Option<i64>,
    /// Seats after it.
    pub seats_after: Option<i64>,
    /// The price used: one seat per month, in minor units.
    pub unit_price_cents: Option<i64>,
    /// Saved (or not spent) per year, in minor units.
    pub annual_cents: i64,
    /// Currency of the figures.
    pub currency: String,
    /// True when the contract was lowered too (or is billed per seat in use), so the saving
    /// holds now; false when it waits for the contract to be lowered at the renewal.
    pub contract_lowered: bool,
    /// The action in a sentence.
    pub note: String,
    /// Who did it.
    pub actor: String,
    /// When it was recorded (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: NaiveDateTime,
}

fn id_text<S: serde::Serializer>(id: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// An entry to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// Unique per action: recording the same key twice records it once.
    pub key: String,
    /// Realised or avoided.
    pub kind: SavingsKind,
    /// The action.
    pub action: SavingsAction,
    /// The app.
    pub app_id: Option<AppId>,
    /// The subscription.
    pub subscription_id: Option<SubscriptionId>,
    /// The request.
    pub request_id: Option<i64>,
    /// The term.
    pub term_number: Option<i32>,
    /// Seats before.
    pub seats_before: Option<i64>,
    /// Seats after.
    pub seats_after: Option<i64>,
    /// One seat per month, minor units.
    pub unit_price_cents: Option<i64>,
    /// Per year, minor units.
    pub annual_cents: i64,
    /// Currency.
    pub currency: String,
    /// Whether the contract was lowered too.
    pub contract_lowered: bool,
    /// The action in a sentence.
    pub note: String,
    /// Who did it.
    pub actor: String,
}

/// Records `e` unless its key is recorded already; returns the new entry, or None for a repeat.
/// Call inside the transaction of the action it records.
pub fn record(conn: &mut Conn, e: &NewEntry) -> QueryResult<Option<SavingsEntry>> {
    let exists = savings_entries::table
        .filter(savings_entries::entry_key.eq(&e.key))
        .select(savings_entries::id)
        .first::<SavingsEntryId>(conn)
        .optional()?;
    if exists.is_some() {
        return Ok(None);
    }
    // A concurrent writer with the same key fails on the unique index; the savepoint keeps the
    // caller's transaction usable on PostgreSQL.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(savings_entries::table)
            .values((
                savings_entries::entry_key.eq(&e.key),
                savings_entries::kind.eq(e.kind),
                savings_entries::action.eq(e.action),
                savings_entries::app_id.eq(e.app_id),
                savings_entries::subscription_id.eq(e.subscription_id),
                savings_entries::request_id.eq(e.request_id),
                savings_entries::term_number.eq(e.term_number),
                savings_entries::seats_before.eq(e.seats_before),
                savings_entries::seats_after.eq(e.seats_after),
                savings_entries::unit_price_cents.eq(e.unit_price_cents),
                savings_entries::annual_cents.eq(e.annual_cents),
                savings_entries::currency.eq(&e.currency),
                savings_entries::contract_lowered.eq(e.contract_lowered),
                savings_entries::note.eq(&e.note),
                savings_entries::actor.eq(&e.actor),
                savings_entries::recorded_at.eq(crate::time::now()),
            ))
            .returning(savings_entries::all_columns)
            .get_result::<SavingsEntry>(conn)
    });
    match inserted {
        Ok(entry) => Ok(Some(entry)),
        Err(e) if crate::db::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Entries recorded from `from` to `to` (whole UTC days, both included), oldest first.
pub fn list(conn: &mut Conn, from: Option<NaiveDate>, to: Option<NaiveDate>) -> QueryResult<Vec<SavingsEntry>> {
    let mut q = savings_entries::table.into_boxed();
    if let Some(d) = from {
        q = q.filter(savings_entries::recorded_at.ge(d.and_hms_opt(0, 0, 0).unwrap_or_default()));
    }
    if let Some(d) = to.and_then(|d| d.succ_opt()) {
        q = q.filter(savings_entries::recorded_at.lt(d.and_hms_opt(0, 0, 0).unwrap_or_default()));
    }
    q.order(savings_entries::id.asc()).select(SavingsEntry::as_select()).load(conn)
}

/// Totals in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CurrencyTotal {
    /// ISO 4217 code.
    pub currency: String,
    /// What open and acknowledged findings could still save per year (now, whatever the period).
    pub potential_annual_cents: i64,
    /// Saved per year by actions in the period.
    pub realised_annual_cents: i64,
    /// Not spent per year thanks to decisions in the period.
    pub avoided_annual_cents: i64,
}

/// The ledger for a period: its entries and the totals per currency.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Ledger {
    /// Entries recorded in the period, oldest first.
    pub items: Vec<SavingsEntry>,
    /// One row per currency; amounts in different currencies are never added up.
    pub totals: Vec<CurrencyTotal>,
}

/// The ledger from `from` to `to`.
pub fn ledger(conn: &mut Conn, from: Option<NaiveDate>, to: Option<NaiveDate>) -> QueryResult<Ledger> {
    let items = list(conn, from, to)?;
    let mut totals: BTreeMap<String, CurrencyTotal> = BTreeMap::new();
    let potential: Vec<(Option<String>, Option<i64>)> = findings::table
        .filter(findings::status.eq_any(["open", "acknowledged"]))
        .filter(findings::annual_savings_cents.is_not_null())
        .select((findings::currency, findings::annual_savings_cents))
        .load(conn)?;
    for (currency, cents) in potential {
        let (Some(currency), Some(cents)) = (currency, cents) else { continue };
        let t = totals.entry(currency.clone()).or_insert_with(|| CurrencyTotal { currency, ..Default::default() });
        t.potential_annual_cents += cents;
    }
    for e in &items {
        let c = e.currency.clone();
        let t = totals.entry(c.clone()).or_insert_with(|| CurrencyTotal { currency: c, ..Default::default() });
        match e.kind {
            SavingsKind::Realised => t.realised_annual_cents += e.annual_cents,
            SavingsKind::Avoided => t.avoided_annual_cents += e.annual_cents,
        }
    }
    Ok(Ledger { items, totals: totals.into_values().collect() })
}
