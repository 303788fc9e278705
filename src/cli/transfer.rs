//! `import` and `export`: inventory records as CSV, all rows or none.

use crate::audit::Actor;
use crate::db::Db;
use crate::inventory::transfer::{self, Kind};
use anyhow::Context as _;

/// Imports `file` (or standard input for `-`) as records of `kind`.
pub async fn import(db: &Db, kind: Kind, file: String) -> anyhow::Result<()> {
    let input: Box<dyn std::io::Read + Send> = if file == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&file).with_context(|| format!("cannot open {file}"))?)
    };
    let report = db.run(move |c| transfer::import(c, &Actor::cli(), kind, input)).await?;
    eprintln!(
        "imported {kind}: {} created, {} updated, {} unchanged",
        report.created, report.updated, report.unchanged
    );
    Ok(())
}

/// Exports every record of `kind` to `output` (or standard output).
pub async fn export(db: &Db, kind: Kind, output: Option<String>) -> anyhow::Result<()> {
    let file = match &output {
        Some(path) => Some(std::fs::File::create(path).with_context(|| format!("cannot create {path}"))?),
        None => None,
    };
    db.run(move |c| match file {
        Some(file) => transfer::export(c, kind, file),
        None => transfer::export(c, kind, std::io::stdout().lock()),
    })
    .await?;
    Ok(())
}
