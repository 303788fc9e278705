//! `findings`: list findings (largest savings first) as a table, JSON or CSV, after refreshing
//! them when asked.

use crate::context::Context;
use crate::findings::{self, Finding};
use crate::renewals::upcoming::money;

// How findings are printed. No doc comments on the values: clap would print them in --help.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Refreshes findings if asked, then prints them all in `format`.
pub async fn run(ctx: &Context, refresh: bool, format: Format) -> anyhow::Result<()> {
    if refresh {
        let r = findings::refresh_now(ctx, chrono::Utc::now().date_naive()).await?;
        eprintln!(
            "findings: {} opened, {} updated, {} resolved, {} unchanged",
            r.opened, r.updated, r.resolved, r.unchanged
        );
    }
    let rows = ctx.db.run(|c| findings::store::list(c, &Default::default()).map_err(crate::db::DbError::from)).await?;
    print(&rows, format)
}

fn print(rows: &[Finding], format: Format) -> anyhow::Result<()> {
    let out = std::io::stdout().lock();
    match format {
        Format::Json => serde_json::to_writer_pretty(out, rows)?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "id",
                "kind",
                "app_id",
                "status",
                "seats",
                "monthly_savings_cents",
                "annual_savings_cents",
                "currency",
                "explanation",
            ])?;
            for f in rows {
                let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                w.write_record([
                    f.id.to_string(),
                    f.kind.to_string(),
                    f.app_id.map(|a| a.to_string()).unwrap_or_default(),
                    f.status.to_string(),
                    opt(f.seats),
                    opt(f.monthly_savings_cents),
                    opt(f.annual_savings_cents),
                    f.currency.clone().unwrap_or_default(),
                    f.explanation.clone(),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut out = out;
            let mut table = super::table::new(&["ID", "KIND", "STATUS", "PER YEAR", "EXPLANATION"], &[3]);
            for f in rows {
                let yearly = match (f.annual_savings_cents, &f.currency) {
                    (Some(c), Some(cur)) => money(c, cur),
                    _ => "unknown".to_string(),
                };
                table.add_row(vec![
                    f.id.to_string(),
                    f.kind.to_string(),
                    f.status.to_string(),
                    yearly,
                    f.explanation.clone(),
                ]);
            }
            super::table::write(&mut out, &table)?;
        }
    }
    Ok(())
}
