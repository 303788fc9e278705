//! The stackward command: serve, migrate, tokens, CSV import and export, requests.

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use stackward::audit::Actor;
use stackward::auth::{self, Role, TokenId};
use stackward::config::Settings;
use stackward::context::Context;
use stackward::db::Db;
use stackward::inventory::transfer::{self, Kind};
use stackward::workflow::{self, Decider, Decision, RequestId, RequestStatus};
use stackward::{notify, scheduler};
use std::io::Write;

mod cli;

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
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List the connectors this build knows (and user files that failed to load), or check one file.
    Connectors {
        #[command(subcommand)]
        action: Option<ConnectorsCommand>,
    },
    /// Add, list or delete connections to vendors.
    Connections {
        #[command(subcommand)]
        action: ConnectionsCommand,
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
        action: RequestsCommand,
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
        action: UsersCommand,
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

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

#[derive(Subcommand)]
enum RequestsCommand {
    /// List requests, oldest first.
    List {
        /// Only in this status: pending, approved, rejected, changes_requested, cancelled, done.
        #[arg(long)]
        status: Option<RequestStatus>,
        /// Output: table (for people) or json.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Show one request with its steps and history, as JSON.
    Show {
        /// The request's id.
        id: RequestId,
    },
    /// Decide the current step of a request as a person; their entitlement is checked as in the API.
    Decide {
        /// The request's id.
        id: RequestId,
        /// approve, reject or request_changes.
        #[arg(long)]
        decision: Decision,
        /// Why (required to reject or ask for changes).
        #[arg(long, default_value = "")]
        comment: String,
        /// The email of the person deciding; their roles are those of their live API tokens.
        #[arg(long = "as")]
        as_email: String,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Give a person a role, kept across sign-ins (e.g. the first admin); creates them if unknown.
    Grant {
        /// Their email.
        email: String,
        /// admin, it, finance, security, approver, employee or auditor.
        #[arg(long)]
        role: Role,
    },
    /// Take away a role granted with `users grant` (roles from the identity provider follow its groups).
    Revoke {
        /// Their email.
        email: String,
        /// The role.
        #[arg(long)]
        role: Role,
    },
    /// List the people who can sign in, with their roles.
    List,
}

#[derive(Subcommand)]
enum ConnectorsCommand {
    /// List the connectors (the default).
    List,
    /// Validate a connector definition file; problems are reported with their line.
    Check {
        /// The TOML file.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum ConnectionsCommand {
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
        /// A token only for the renewals calendar feed (GET /api/v1/renewals.ics?token=…).
        #[arg(long)]
        calendar: bool,
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
        Command::Demo => cli::demo::run(settings).await?,
        Command::Serve => {
            // Refuse bad schedules and stages before serving anything.
            scheduler::schedules(&settings).map_err(anyhow::Error::msg)?;
            scheduler::reminder_settings(&settings).map_err(anyhow::Error::msg)?;
            scheduler::sla_settings(&settings).map_err(anyhow::Error::msg)?;
            let db = open(&settings)?;
            let mut ctx = Context::new(db, settings)?;
            ctx.scheduler_running = true;
            let mut sched = scheduler::start(ctx.clone()).await.context("cannot start the scheduler")?;
            let served = stackward::web::serve(ctx).await;
            let _ = sched.shutdown().await;
            served.context("the HTTP server stopped")?;
        }
        Command::Remind { today, dry_run } => {
            let ctx = Context::new(open(&settings)?, settings)?;
            let today = today.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let report = scheduler::remind(&ctx, today, dry_run).await?;
            let mut out = std::io::stdout().lock();
            for r in &report.queued {
                let late = if r.late { " (late)" } else { "" };
                let verb = if dry_run { "would remind" } else { "queued" };
                writeln!(
                    out,
                    "{verb}: {} — {}-day reminder{late} for deadline {} to {}",
                    r.label,
                    r.stage,
                    r.deadline,
                    r.recipients.join(", ")
                )?;
            }
            for s in &report.without_recipients {
                writeln!(out, "not sent: subscription {s} has a reminder due but no owner and no finance list")?;
            }
            if !dry_run {
                deliver_and_print(&ctx, &mut out).await?;
            }
        }
        Command::Outbox { retry } => {
            let ctx = Context::new(open(&settings)?, settings)?;
            if retry {
                let n =
                    ctx.db.run(|c| notify::outbox::retry_failed(c, None).map_err(stackward::db::DbError::from)).await?;
                eprintln!("{n} failed emails queued again");
            }
            let mut out = std::io::stdout().lock();
            if retry {
                deliver_and_print(&ctx, &mut out).await?;
            }
            for status in [notify::OutboxStatus::Pending, notify::OutboxStatus::Failed] {
                let page = stackward::db::Page::first(500);
                let (rows, _) = ctx
                    .db
                    .run(move |c| notify::outbox::list(c, Some(status), page).map_err(stackward::db::DbError::from))
                    .await?;
                for r in rows {
                    let err = r.last_error.as_deref().unwrap_or("");
                    writeln!(
                        out,
                        "{:<7} #{:<5} attempts {} next {}  {}  {}  {err}",
                        r.status,
                        r.id,
                        r.attempts,
                        stackward::time::format(&r.next_attempt_at),
                        r.recipients,
                        r.subject
                    )?;
                }
            }
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
        Command::Findings { refresh, format } => {
            let ctx = Context::new(open(&settings)?, settings)?;
            if refresh {
                let r = stackward::findings::refresh_now(&ctx, chrono::Utc::now().date_naive()).await?;
                eprintln!(
                    "findings: {} opened, {} updated, {} resolved, {} unchanged",
                    r.opened, r.updated, r.resolved, r.unchanged
                );
            }
            let rows =
                ctx.db.get().map(|mut conn| stackward::findings::store::list(&mut conn, &Default::default()))??;
            print_findings(&rows, format)?;
        }
        Command::Connectors { action } => connectors_command(&settings, action)?,
        Command::Connections { action } => {
            let ctx = Context::new(open(&settings)?, settings)?;
            connections_command(&ctx, action).await?;
        }
        Command::Sync { connection, all } => {
            let ctx = Context::new(open(&settings)?, settings)?;
            sync_command(&ctx, connection, all).await?;
        }
        Command::Requests { action } => {
            let ctx = Context::new(open(&settings)?, settings)?;
            requests(&ctx, action)?;
            // An approved reclaim of synced seats runs through its connector now.
            let ran = stackward::actions::run_queued(&ctx).await?;
            if ran > 0 {
                eprintln!("{ran} reclaim(s) run through the connector");
            }
        }
        Command::SigninLink { email, next } => {
            let db = open(&settings)?;
            if settings.oidc_issuer_url.is_some() {
                eprintln!("note: single sign-on is configured; this link signs in without the identity provider");
            }
            let token = auth::links::create(&mut *db.get()?, &email, Some(&next), false)?;
            eprintln!("a one-time sign-in link for {}; it works once, for 15 minutes:", email.trim().to_lowercase());
            println!("{}/auth/link/{token}", settings.public_url());
        }
        Command::Users { action } => users_command(&open(&settings)?, action)?,
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

fn print_findings(rows: &[stackward::findings::Finding], format: Format) -> anyhow::Result<()> {
    let money = |c: Option<i64>, cur: &Option<String>| match (c, cur) {
        (Some(c), Some(cur)) => stackward::renewals::upcoming::money(c, cur),
        _ => "unknown".to_string(),
    };
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
            writeln!(out, "{:<6} {:<18} {:<13} {:>20}  EXPLANATION", "ID", "KIND", "STATUS", "PER YEAR")?;
            for f in rows {
                let yearly = money(f.annual_savings_cents, &f.currency);
                writeln!(out, "{:<6} {:<18} {:<13} {:>20}  {}", f.id, f.kind, f.status, yearly, f.explanation)?;
            }
        }
    }
    Ok(())
}

async fn deliver_and_print(ctx: &Context, out: &mut impl Write) -> anyhow::Result<()> {
    let Some(mailer) = &ctx.mailer else {
        writeln!(out, "STACKWARD_SMTP_URL is not set: the mail waits in the outbox")?;
        return Ok(());
    };
    let report = notify::deliver_due(&ctx.db, mailer, scheduler::OUTBOX_BATCH).await?;
    for e in &report.sent {
        writeln!(out, "sent: {} to {}", e.subject, e.recipients)?;
    }
    if report.retrying + report.failed > 0 {
        writeln!(
            out,
            "not sent: {} will be retried, {} failed for good (see `stackward outbox`)",
            report.retrying, report.failed
        )?;
        anyhow::bail!("some email could not be delivered through {}", mailer.server());
    }
    Ok(())
}

fn token(db: &Db, action: TokenCommand) -> anyhow::Result<()> {
    let mut conn = db.get()?;
    let actor = Actor::cli();
    match action {
        TokenCommand::Create { role, name, email, calendar } => {
            let scope = if calendar { auth::TokenScope::Calendar } else { auth::TokenScope::Api };
            let t = auth::create(&mut conn, &actor, &name, role, email.as_deref(), scope)?;
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

fn users_command(db: &Db, action: UsersCommand) -> anyhow::Result<()> {
    let mut conn = db.get()?;
    match action {
        UsersCommand::Grant { email, role } => {
            let user = auth::users::grant(&mut conn, &Actor::cli(), &email, role)?;
            eprintln!("{} holds the {role} role", user.email);
        }
        UsersCommand::Revoke { email, role } => {
            if !auth::users::revoke(&mut conn, &Actor::cli(), &email, role)? {
                bail!("{email} holds no {role} role granted here");
            }
            eprintln!("took the {role} role from {email}");
        }
        UsersCommand::List => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{:<36} {:<40} LAST SIGN-IN", "EMAIL", "ROLES")?;
            for (user, held) in auth::users::list(&mut conn)? {
                let roles: Vec<String> = held.iter().map(|h| format!("{} ({})", h.role, h.source)).collect();
                let roles = if roles.is_empty() { "employee".to_string() } else { roles.join(", ") };
                let last = user.last_sign_in_at.map(|t| stackward::time::format(&t)).unwrap_or_else(|| "never".into());
                writeln!(out, "{:<36} {:<40} {last}", user.email, roles)?;
            }
        }
    }
    Ok(())
}

fn connectors_command(settings: &Settings, action: Option<ConnectorsCommand>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match action.unwrap_or(ConnectorsCommand::List) {
        ConnectorsCommand::List => {
            let registry = stackward::connectors::Registry::load(settings.integrations_dir.as_deref());
            writeln!(out, "{:<20} {:<28} {:<28} EMITS", "NAME", "TITLE", "AUTH")?;
            for (d, _) in registry.all() {
                let emits = stackward::sync::emits(d).join(", ");
                writeln!(out, "{:<20} {:<28} {:<28} {emits}", d.name, d.title, d.auth.kind())?;
            }
            for p in registry.problems() {
                eprintln!("not loaded: {p}");
            }
        }
        ConnectorsCommand::Check { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            match stackward::connectors::check(&file.display().to_string(), &text) {
                Ok(d) => {
                    writeln!(out, "{}: connector {} is valid ({} streams)", file.display(), d.name, d.streams.len())?
                }
                Err(p) => bail!("{p}"),
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

async fn connections_command(ctx: &Context, action: ConnectionsCommand) -> anyhow::Result<()> {
    use stackward::sync::{connections, NewConnection};
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
            writeln!(out, "{:<6} {:<28} {:<20} {:<16} NEXT SYNC", "ID", "NAME", "CONNECTOR", "SCHEDULE")?;
            for r in rows {
                let next = r.next_sync_at.map(|t| stackward::time::format(&t)).unwrap_or_else(|| "-".into());
                writeln!(out, "{:<6} {:<28} {:<20} {:<16} {next}", r.id, r.name, r.connector, r.schedule)?;
            }
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

/// A reader of every request, for listing and showing from the command line.
fn cli_reader() -> Decider {
    Decider { email: None, roles: vec![Role::Auditor], actor: Actor::cli() }
}

fn requests(ctx: &Context, action: RequestsCommand) -> anyhow::Result<()> {
    let mut conn = ctx.db.get()?;
    let mut out = std::io::stdout().lock();
    match action {
        RequestsCommand::List { status, format } => {
            let filter = workflow::RequestFilter { status, ..Default::default() };
            let query = workflow::ListQuery { filter, limit: i64::MAX, ..Default::default() };
            let (rows, _) = workflow::list(&mut conn, &cli_reader(), &query)?;
            match format {
                ListFormat::Json => serde_json::to_writer_pretty(&mut out, &rows)?,
                ListFormat::Table => {
                    writeln!(
                        out,
                        "{:<6} {:<10} {:<18} {:<28} {:<20} WAITING FOR",
                        "ID", "KIND", "STATUS", "REQUESTER", "NAME"
                    )?;
                    for r in rows {
                        let waiting = r
                            .steps
                            .iter()
                            .find(|s| s.status == workflow::StepStatus::Pending)
                            .map(|s| format!("{}: {}", s.name, s.approvers.join(", ")))
                            .unwrap_or_default();
                        let name = r.name.clone().unwrap_or_default();
                        writeln!(
                            out,
                            "{:<6} {:<10} {:<18} {:<28} {:<20} {waiting}",
                            r.id, r.kind, r.status, r.requester_email, name
                        )?;
                    }
                }
            }
        }
        RequestsCommand::Show { id } => {
            let r = workflow::show(&mut conn, &cli_reader(), id)?;
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        }
        RequestsCommand::Decide { id, decision, comment, as_email } => {
            let email = as_email.trim().to_lowercase();
            if email.is_empty() {
                bail!("--as needs the email of the person deciding");
            }
            let roles = auth::list(&mut conn)?
                .into_iter()
                .filter(|t| t.revoked_at.is_none() && t.scope == auth::TokenScope::Api)
                .filter(|t| t.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&email)))
                .map(|t| t.role)
                .collect();
            let user = Actor::cli().0;
            let who = Decider { email: Some(email.clone()), roles, actor: Actor(format!("{user} as {email}")) };
            let input = workflow::DecisionInput { decision, comment: Some(comment) };
            let public_url = ctx.settings.public_url();
            let env = workflow::Env { catalog: &ctx.catalog, public_url: &public_url };
            let r = workflow::decide(&mut conn, env, &who, id, input, stackward::time::now())?;
            let current = r.steps.iter().find(|s| s.status == workflow::StepStatus::Pending).map(|s| s.name.clone());
            eprintln!(
                "request {} is {}{}",
                r.id,
                r.status,
                current.map(|s| format!(", waiting for the {s} step")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn sync_command(ctx: &Context, connection: Option<String>, all: bool) -> anyhow::Result<()> {
    use stackward::sync::{self, connections};
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
