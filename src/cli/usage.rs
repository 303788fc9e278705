//! `usage import`: last activity for an app's seats from a CSV file, as `POST /api/v1/usage`
//! applies it (forward only, unknown seats listed, nothing written on a bad file).

use crate::audit::Actor;
use crate::db::Db;
use crate::inventory::{usage, InventoryError, UsageSource};
use anyhow::{bail, Context as _};
use clap::Subcommand;

/// What `usage` does.
#[derive(Subcommand)]
pub enum UsageCommand {
    /// Apply a CSV of `email,last_active_at` (RFC 3339) to an app's seats, as POST /api/v1/usage does.
    Import {
        /// The app, by name.
        #[arg(long)]
        app: String,
        /// Create a seat for each email that matches none.
        #[arg(long)]
        create_seats: bool,
        /// The CSV file, or - for standard input.
        file: String,
    },
}

/// Runs a `usage` command.
pub async fn run(db: &Db, action: UsageCommand) -> anyhow::Result<()> {
    let UsageCommand::Import { app, create_seats, file } = action;
    let input: Box<dyn std::io::Read> = if file == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&file).with_context(|| format!("cannot open {file}"))?)
    };
    let events = usage::events_from_csv(input).map_err(|e| anyhow::anyhow!("{file}: {}: {}", e.field, e.message))?;
    let push = usage::UsagePush { app_id: None, app: Some(app), events, create_seats };
    let report = match db.run(move |c| usage::push(c, &Actor::cli(), push, UsageSource::Csv)).await {
        Ok(r) => r,
        Err(InventoryError::Invalid(i)) => bail!("{file}: {}: {}", i.field, i.message),
        Err(e) => return Err(e.into()),
    };
    eprintln!(
        "usage imported: {} matched, {} moved forward, {} seats created, {} unknown",
        report.matched,
        report.updated,
        report.created,
        report.unknown.len()
    );
    for u in &report.unknown {
        // Row numbers as in the file: 1 = the first row after the header.
        eprintln!("  row {}: {}", u.index + 1, u.reason);
    }
    Ok(())
}
