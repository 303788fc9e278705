//! `savings`: the savings ledger's totals per currency and its entries, as a table or CSV.

use crate::db::{Db, DbError};
use crate::renewals::upcoming::money;
use crate::savings::{self, Ledger};
use chrono::NaiveDate;
use std::io::Write;

/// How the ledger is printed.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Totals per currency, then the entries, for people.
    Table,
    /// The entries, one row each.
    Csv,
}

/// Prints the ledger from `from` to `to`.
pub async fn run(db: &Db, format: Format, from: Option<NaiveDate>, to: Option<NaiveDate>) -> anyhow::Result<()> {
    let ledger = db.run(move |c| savings::ledger(c, from, to).map_err(DbError::from)).await?;
    match format {
        Format::Csv => csv(&ledger),
        Format::Table => table(&ledger),
    }
}

fn csv(ledger: &Ledger) -> anyhow::Result<()> {
    let mut w = ::csv::Writer::from_writer(std::io::stdout().lock());
    w.write_record([
        "id",
        "recorded_at",
        "kind",
        "action",
        "app_id",
        "subscription_id",
        "request_id",
        "seats_before",
        "seats_after",
        "unit_price_cents",
        "annual_cents",
        "currency",
        "contract_lowered",
        "actor",
        "note",
    ])?;
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for e in &ledger.items {
        w.write_record([
            e.id.to_string(),
            crate::time::format(&e.recorded_at),
            e.kind.to_string(),
            e.action.to_string(),
            opt(e.app_id.map(|a| a.0)),
            opt(e.subscription_id.map(|s| s.0)),
            opt(e.request_id),
            opt(e.seats_before),
            opt(e.seats_after),
            opt(e.unit_price_cents),
            e.annual_cents.to_string(),
            e.currency.clone(),
            e.contract_lowered.to_string(),
            e.actor.clone(),
            e.note.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn table(ledger: &Ledger) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut totals = super::table::new(&["CURRENCY", "POTENTIAL/YR", "REALISED/YR", "AVOIDED/YR"], &[1, 2, 3]);
    for t in &ledger.totals {
        totals.add_row(vec![
            t.currency.clone(),
            money(t.potential_annual_cents, &t.currency),
            money(t.realised_annual_cents, &t.currency),
            money(t.avoided_annual_cents, &t.currency),
        ]);
    }
    super::table::write(&mut out, &totals)?;
    if ledger.items.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let mut entries = super::table::new(&["ID", "DAY", "KIND", "ACTION", "PER YEAR", "NOTE"], &[4]);
    for e in &ledger.items {
        entries.add_row(vec![
            e.id.to_string(),
            e.recorded_at.date().to_string(),
            e.kind.to_string(),
            e.action.to_string(),
            money(e.annual_cents, &e.currency),
            e.note.clone(),
        ]);
    }
    super::table::write(&mut out, &entries)?;
    Ok(())
}
