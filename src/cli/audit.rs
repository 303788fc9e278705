//! `audit create | pack`: the quarterly stack audit from the command line.

use crate::audit::Actor;
use crate::db::Db;
use crate::stack_audit::{self, pack, AuditId};
use clap::Subcommand;

// What `stackward audit` does (its doc comments are the --help text).
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Freeze a snapshot of the stack for a quarter; prints the audit's id.
    Create {
        /// The quarter audited, e.g. 2026-Q4.
        #[arg(long)]
        quarter: String,
    },
    /// Write an audit's pack (report, workbook, CSVs, manifest) into a directory.
    Pack {
        /// The audit's id.
        id: AuditId,
        /// The directory to write into (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

/// Runs `action`.
pub async fn run(db: &Db, action: AuditCommand) -> anyhow::Result<()> {
    match action {
        AuditCommand::Create { quarter } => {
            let audit = db.run(move |c| stack_audit::create(c, &Actor::cli(), &quarter)).await?;
            let s = &audit.summary;
            eprintln!(
                "audit {} of {}: {} apps, {} seats, {} open findings, {} changes since the previous audit",
                audit.id, audit.quarter, s.apps, s.seats_assigned, s.findings_open, s.changes
            );
            println!("{}", audit.id);
        }
        AuditCommand::Pack { id, out } => {
            let dir = out.clone();
            let files = db.run(move |c| pack::write_dir(c, id, &dir)).await?;
            for f in &files {
                eprintln!("{}  {}  {} bytes", f.sha256, f.name, f.bytes);
            }
            eprintln!("wrote {} files and manifest.json into {}", files.len(), out.display());
        }
    }
    Ok(())
}
