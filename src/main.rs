//! The stackward command: serve, migrate, tokens, CSV import and export.

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use stackward::audit::Actor;
use stackward::auth::{self, Role, TokenId};
use stackward::config::Settings;
use stackward::context::Context;
use stackward::db::Db;
use stackward::inventory::transfer::{self, Kind};
use std::io::Write;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "stackward", version, about = "SaaS tool-stack and licence governance")]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create, list or revoke API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Import a CSV file (header row first); all rows or none.
    Import {
        /// What the file holds: apps, subscriptions, people or accounts.
        #[arg(long)]
        kind: Kind,
        /// The CSV file, or - for standard input.
        file: String,
    },
    /// Export every record of a kind as CSV.
    Export {
        /// What to export: apps, subscriptions, people or accounts.
        #[arg(long)]
        kind: Kind,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print its secret alone on stdout (it is not shown again).
    Create {
        /// The role it grants: admin, it, finance, security, approver, employee, auditor.
        #[arg(long)]
        role: Role,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// The person it acts for (required for employee tokens).
        #[arg(long)]
        email: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke {
        /// The token's id.
        id: TokenId,
    },
}

fn init_logging(settings: &Settings) {
    let (filter, json) = settings.log_filter_and_format();
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn open(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::open(&settings.database_url, settings.db_pool_size).context("cannot open the database")?;
    let report = db.migrate().context("cannot migrate the database")?;
    for version in report.applied {
        tracing::info!(%version, "migration applied");
    }
    Ok(db)
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(&cli.settings);
    let settings = cli.settings;
    match cli.command {
        Command::Serve => {
            let db = open(&settings)?;
            let ctx = Context { db, settings: Arc::new(settings) };
            stackward::web::serve(ctx).await.context("the HTTP server stopped")?;
        }
        Command::Migrate => {
            open(&settings)?;
            eprintln!("database is up to date");
        }
        Command::Token { action } => token(&open(&settings)?, action)?,
        Command::Import { kind, file } => {
            let db = open(&settings)?;
            let input: Box<dyn std::io::Read> = if file == "-" {
                Box::new(std::io::stdin())
            } else {
                Box::new(std::fs::File::open(&file).with_context(|| format!("cannot open {file}"))?)
            };
            let report = transfer::import(&mut *db.get()?, &Actor::cli(), kind, input)?;
            eprintln!(
                "imported {kind}: {} created, {} updated, {} unchanged",
                report.created, report.updated, report.unchanged
            );
        }
        Command::Export { kind, output } => {
            let db = open(&settings)?;
            let mut conn = db.get()?;
            match output {
                Some(path) => {
                    let file = std::fs::File::create(&path).with_context(|| format!("cannot create {path}"))?;
                    transfer::export(&mut conn, kind, file)?;
                }
                None => transfer::export(&mut conn, kind, std::io::stdout().lock())?,
            }
        }
    }
    Ok(())
}

fn token(db: &Db, action: TokenCommand) -> anyhow::Result<()> {
    let mut conn = db.get()?;
    let actor = Actor::cli();
    match action {
        TokenCommand::Create { role, name, email } => {
            let t = auth::create(&mut conn, &actor, &name, role, email.as_deref())?;
            eprintln!("created token {} ({}, role {}); it is shown once:", t.token.id, t.token.name, t.token.role);
            println!("{}", t.secret);
        }
        TokenCommand::List => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{:<6} {:<10} {:<24} {:<28} {:<8}", "ID", "ROLE", "NAME", "EMAIL", "STATUS")?;
            for t in auth::list(&mut conn)? {
                let status = if t.revoked_at.is_some() { "revoked" } else { "active" };
                let email = t.email.unwrap_or_default();
                writeln!(out, "{:<6} {:<10} {:<24} {:<28} {:<8}", t.id, t.role, t.name, email, status)?;
            }
        }
        TokenCommand::Revoke { id } => match auth::revoke(&mut conn, &actor, id) {
            Ok(t) => eprintln!("revoked token {} ({})", t.id, t.name),
            Err(auth::TokenError::NotFound(id)) => bail!("no token has id {id}"),
            Err(e) => return Err(e.into()),
        },
    }
    Ok(())
}
