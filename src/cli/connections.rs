//! `connectors`, `connections` and `sync`: the connector definitions this build knows, the
//! connections to vendors, and syncing them in the foreground with progress.

use crate::audit::Actor;
use crate::config::Settings;
use crate::context::Context;
use crate::sync::{self, connections, NewConnection};
use anyhow::{bail, Context as _};
use clap::Subcommand;
use std::io::Write;

// What `stackward connectors` does (its doc comments are the --help text).
#[derive(Subcommand)]
pub enum ConnectorsCommand {
    /// List the connectors (the default).
    List,
    /// Validate a connector definition file; problems are reported with their line.
    Check {
        /// The TOML file.
        file: std::path::PathBuf,
    },
}

// What `stackward connections` does (its doc comments are the --help text).
#[derive(Subcommand)]
pub enum ConnectionsCommand {
    /// Connect a vendor; secrets are stored encrypted and never shown again.
    Add {
        /// The connector's name (see `stackward connectors`).
        #[arg(long)]
        connector: String,
        /// A unique name for this connection.
        #[arg(long)]
        name: String,
        /// The vendor's address when it is not the connector's default (self-hosted, test double).
        #[arg(long)]
        base_url: Option<String>,
        /// A setting, KEY=VALUE (repeatable).
        #[arg(long = "setting", value_name = "KEY=VALUE")]
        settings: Vec<String>,
        /// A secret, KEY=@FILE or KEY=env:VARIABLE (repeatable); KEY=VALUE works but lands in shell history.
        #[arg(long = "secret", value_name = "KEY=@FILE")]
        secrets: Vec<String>,
        /// Cron schedule with seconds, UTC (default daily at 03:00); empty for syncs by hand only.
        #[arg(long)]
        schedule: Option<String>,
    },
    /// List connections (secret names only).
    List,
    /// Delete a connection by name: it stops syncing; its runs and seats stay.
    Remove {
        /// The connection's name.
        name: String,
    },
}

/// Lists the connectors (and files that failed to load), or checks one definition file.
pub fn connectors(settings: &Settings, action: Option<ConnectorsCommand>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match action.unwrap_or(ConnectorsCommand::List) {
        ConnectorsCommand::List => {
            let registry = crate::connectors::Registry::load(settings.integrations_dir.as_deref());
            let mut table = super::table::new(&["NAME", "TITLE", "AUTH", "EMITS"], &[]);
            for (d, _) in registry.all() {
                let emits = sync::emits(d).join(", ");
                table.add_row(vec![d.name.clone(), d.title.clone(), d.auth.kind().to_string(), emits]);
            }
            super::table::write(&mut out, &table)?;
            for p in registry.problems() {
                eprintln!("not loaded: {p}");
            }
        }
        ConnectorsCommand::Check { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            match crate::connectors::check(&file.display().to_string(), &text) {
                Ok(d) => {
                    writeln!(out, "{}: connector {} is valid ({} streams)", file.display(), d.name, d.streams.len())?;
                }
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    bail!("{}: {} problem(s); the connector cannot be used", file.display(), problems.len());
                }
            }
        }
    }
    Ok(())
}

/// KEY=VALUE, KEY=@FILE or KEY=env:VAR into a pair; values from files lose a trailing newline.
fn key_value(arg: &str, allow_indirect: bool) -> anyhow::Result<(String, String)> {
    let Some((k, v)) = arg.split_once('=') else { bail!("{arg:?} is not KEY=VALUE") };
    let v = match (allow_indirect, v.strip_prefix('@'), v.strip_prefix("env:")) {
        (true, Some(path), _) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {path}"))?
            .trim_end_matches(['\n', '\r'])
            .to_string(),
        (true, _, Some(var)) => std::env::var(var).with_context(|| format!("environment variable {var} is not set"))?,
        _ => v.to_string(),
    };
    Ok((k.trim().to_string(), v))
}

/// Adds, lists or removes connections.
pub async fn connections(ctx: &Context, action: ConnectionsCommand) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match action {
        ConnectionsCommand::Add { connector, name, base_url, settings, secrets, schedule } => {
            let settings = settings.iter().map(|s| key_value(s, false)).collect::<anyhow::Result<_>>()?;
            let secrets = secrets.iter().map(|s| key_value(s, true)).collect::<anyhow::Result<_>>()?;
            let new = NewConnection { connector, name, base_url, settings, secrets, schedule };
            let (registry, sealer) = (ctx.registry.clone(), ctx.secrets.clone());
            let c = ctx.db.run(move |c| connections::create(c, &Actor::cli(), &registry, &sealer, new)).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&c)?)?;
        }
        ConnectionsCommand::List => {
            let rows = ctx.db.run(|c| connections::list(c, false)).await?;
            let mut table = super::table::new(&["ID", "NAME", "CONNECTOR", "SCHEDULE", "NEXT SYNC"], &[]);
            for r in rows {
                let next = r.next_sync_at.map(|t| crate::time::format(&t)).unwrap_or_else(|| "-".into());
                table.add_row(vec![r.id.to_string(), r.name, r.connector, r.schedule, next]);
            }
            super::table::write(&mut out, &table)?;
        }
        ConnectionsCommand::Remove { name } => {
            let sealer = ctx.secrets.clone();
            let c = ctx
                .db
                .run(move |c| {
                    let row = connections::find_by_name(c, &name)?;
                    connections::delete(c, &Actor::cli(), &sealer, row.id)
                })
                .await?;
            eprintln!("deleted connection {} (its runs and seats are kept)", c.id);
        }
    }
    Ok(())
}

/// Syncs one connection by name, or all, in the foreground; fails if any sync failed.
pub async fn sync(ctx: &Context, connection: Option<String>, all: bool) -> anyhow::Result<()> {
    let targets = match (connection, all) {
        (Some(name), false) => vec![ctx.db.run(move |c| connections::find_by_name(c, &name)).await?],
        (None, true) => ctx.db.run(|c| connections::list(c, false)).await?,
        _ => bail!("name one connection with --connection NAME, or use --all"),
    };
    let mut failed = 0;
    for row in targets {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_prefix(row.name.clone());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        let shown = bar.clone();
        let progress: sync::Progress = std::sync::Arc::new(move |c: &sync::Counts, pages: u64| {
            shown.set_message(format!("{pages} pages, {} seen, {} added, {} updated", c.seen, c.added, c.updated));
        });
        // The bar shows only on a terminal; the outcome line is always printed, for scripts.
        match sync::run_now(ctx, row.id, "cli", Some(progress)).await {
            Ok(run) => {
                bar.finish_and_clear();
                println!(
                    "{}: done: {} seen, {} added, {} updated, {} removed, {} API calls (run {})",
                    row.name, run.seen, run.added, run.updated, run.removed, run.api_calls, run.id
                );
            }
            Err(e) => {
                failed += 1;
                bar.finish_and_clear();
                eprintln!("{}: failed: {e}", row.name);
            }
        }
    }
    if failed > 0 {
        bail!("{failed} sync(s) failed; nothing they did not see was removed");
    }
    Ok(())
}
