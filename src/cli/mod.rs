//! The command line: one file per command group. `main.rs` parses and calls [`run`]; each
//! command's database work runs on the blocking pool through `Db::run`, as the service's does.
//! Reads every setting (flags and `STACKWARD_*` variables) through [`Settings`].

mod audit;
mod connections;
mod demo;
mod findings;
mod mail;
mod requests;
mod savings;
mod serve;
mod table;
mod tokens;
mod transfer;
mod usage;
mod users;

/// The demo's company, for tools that need realistic data (the browser tests' screenshots).
pub use demo::{seed as seed_demo, PERSONAS as DEMO_PERSONAS};

use crate::config::Settings;
use crate::context::Context;
use crate::db::Db;
use crate::inventory::transfer::Kind;
use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// The command line as parsed.
#[derive(Parser)]
#[command(name = "stackward", version, about = "SaaS tool-stack and licence governance")]
pub struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A filled stackward in one command: a fresh database in a new folder (or --database-url),
    /// vendor fakes for a 300-person company, synced; serves and prints a sign-in link per persona.
    Demo,
    /// Serve the HTTP API (migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create, list or revoke API tokens.
    Token {
        #[command(subcommand)]
        action: tokens::TokenCommand,
    },
    /// Import a CSV file (header row first); all rows or none.
    Import {
        /// What the file holds: apps, subscriptions, people or accounts.
        #[arg(long)]
        kind: Kind,
        /// The CSV file, or - for standard input.
        file: String,
    },
    /// Run the renewal reminder pass for a day, then deliver the outbox; prints what was sent.
    Remind {
        /// The day to run for (YYYY-MM-DD, default today in UTC).
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        /// Show what would be queued; queue and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show pending and failed email; with --retry, queue failed email again and deliver.
    Outbox {
        /// Queue failed email again and deliver everything due now.
        #[arg(long)]
        retry: bool,
    },
    /// List findings, largest savings first; --refresh runs the rules first.
    Findings {
        /// Run every rule before listing.
        #[arg(long)]
        refresh: bool,
        /// Output: table (for people), json or csv.
        #[arg(long, value_enum, default_value_t = findings::Format::Table)]
        format: findings::Format,
    },
    /// List the connectors this build knows (and user files that failed to load), or check one file.
    Connectors {
        #[command(subcommand)]
        action: Option<connections::ConnectorsCommand>,
    },
    /// Add, list or delete connections to vendors.
    Connections {
        #[command(subcommand)]
        action: connections::ConnectionsCommand,
    },
    /// Sync connections now, in the foreground with progress; exits non-zero if a sync fails.
    Sync {
        /// The connection to sync, by name.
        #[arg(long)]
        connection: Option<String>,
        /// Sync every connection, one after another.
        #[arg(long)]
        all: bool,
    },
    /// List, show or decide approval requests.
    Requests {
        #[command(subcommand)]
        action: requests::RequestsCommand,
    },
    /// Feed usage for an app no connector reaches.
    Usage {
        #[command(subcommand)]
        action: usage::UsageCommand,
    },
    /// The savings ledger: realised, avoided and potential savings per currency, and its entries.
    Savings {
        /// Output: table (for people) or csv (the entries).
        #[arg(long, value_enum, default_value_t = savings::Format::Table)]
        format: savings::Format,
        /// First day of entries (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day of entries (YYYY-MM-DD, UTC).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
    },
    /// Print a one-time sign-in URL for a person; it works once, for 15 minutes.
    SigninLink {
        /// The person's email (they become a user when unknown).
        #[arg(long)]
        email: String,
        /// The page to open after signing in, as a path (e.g. /requests/12).
        #[arg(long, default_value = "/")]
        next: String,
    },
    /// Who can sign in to the pages, and their roles.
    Users {
        #[command(subcommand)]
        action: users::UsersCommand,
    },
    /// Take a quarterly audit, or write an audit's pack into a directory.
    Audit {
        #[command(subcommand)]
        action: audit::AuditCommand,
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

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    init_logging(&cli.settings);
    let settings = cli.settings;
    match cli.command {
        Command::Demo => demo::run(settings).await,
        Command::Serve => serve::serve(settings).await,
        Command::Migrate => serve::migrate(&settings),
        Command::Token { action } => tokens::run(&open(&settings)?, action).await,
        Command::Import { kind, file } => transfer::import(&open(&settings)?, kind, file).await,
        Command::Export { kind, output } => transfer::export(&open(&settings)?, kind, output).await,
        Command::Remind { today, dry_run } => mail::remind(&context(settings)?, today, dry_run).await,
        Command::Outbox { retry } => mail::outbox(&context(settings)?, retry).await,
        Command::Findings { refresh, format } => findings::run(&context(settings)?, refresh, format).await,
        Command::Connectors { action } => connections::connectors(&settings, action),
        Command::Connections { action } => connections::connections(&context(settings)?, action).await,
        Command::Sync { connection, all } => connections::sync(&context(settings)?, connection, all).await,
        Command::Requests { action } => requests::run(&context(settings)?, action).await,
        Command::Usage { action } => usage::run(&open(&settings)?, action).await,
        Command::Savings { format, from, to } => savings::run(&open(&settings)?, format, from, to).await,
        Command::SigninLink { email, next } => users::signin_link(&settings, &open(&settings)?, email, next).await,
        Command::Users { action } => users::run(&open(&settings)?, action).await,
        Command::Audit { action } => audit::run(&open(&settings)?, action).await,
    }
}

fn init_logging(settings: &Settings) {
    let (filter, json) = settings.log_filter_and_format();
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into());
    // Colour codes only help a person at a terminal; in a file, a pipe or a journal they are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Opens the database named by the settings and applies pending migrations.
fn open(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::open(&settings.database_url, settings.db_pool_size).context("cannot open the database")?;
    let report = db.migrate().context("cannot migrate the database")?;
    for version in report.applied {
        tracing::info!(%version, "migration applied");
    }
    Ok(db)
}

/// The shared state over a freshly opened and migrated database.
fn context(settings: Settings) -> anyhow::Result<Context> {
    Ok(Context::new(open(&settings)?, settings)?)
}
