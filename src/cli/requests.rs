//! `requests list | show | decide`: approval requests from the command line. Deciding checks
//! the person's entitlement as the API does; an approved reclaim then runs its connector.

use crate::audit::Actor;
use crate::auth::{self, Role};
use crate::context::Context;
use crate::workflow::{self, Decider, Decision, RequestId, RequestStatus};
use anyhow::bail;
use clap::Subcommand;
use std::io::Write;

// What `stackward requests` does (its doc comments are the --help text).
#[derive(Subcommand)]
pub enum RequestsCommand {
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

// No doc comments on the values: clap would print them in --help.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

/// Runs `action`, then any reclaim a decision queued.
pub async fn run(ctx: &Context, action: RequestsCommand) -> anyhow::Result<()> {
    match action {
        RequestsCommand::List { status, format } => list(ctx, status, format).await?,
        RequestsCommand::Show { id } => {
            let r = ctx.db.run(move |c| workflow::show(c, &cli_reader(), id)).await?;
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        }
        RequestsCommand::Decide { id, decision, comment, as_email } => {
            decide(ctx, id, workflow::DecisionInput { decision, comment: Some(comment) }, as_email).await?;
        }
    }
    // An approved reclaim of synced seats runs through its connector now.
    let ran = crate::actions::run_queued(ctx).await?;
    if ran > 0 {
        eprintln!("{ran} reclaim(s) run through the connector");
    }
    Ok(())
}

/// A reader of every request, for listing and showing from the command line.
fn cli_reader() -> Decider {
    Decider { email: None, roles: vec![Role::Auditor], actor: Actor::cli() }
}

async fn list(ctx: &Context, status: Option<RequestStatus>, format: ListFormat) -> anyhow::Result<()> {
    let filter = workflow::RequestFilter { status, ..Default::default() };
    let query = workflow::ListQuery { filter, limit: i64::MAX, ..Default::default() };
    let (rows, _) = ctx.db.run(move |c| workflow::list(c, &cli_reader(), &query)).await?;
    let mut out = std::io::stdout().lock();
    match format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut out, &rows)?,
        ListFormat::Table => {
            let mut table = super::table::new(&["ID", "KIND", "STATUS", "REQUESTER", "NAME", "WAITING FOR"], &[]);
            for r in rows {
                let waiting = r
                    .steps
                    .iter()
                    .find(|s| s.status == workflow::StepStatus::Pending)
                    .map(|s| format!("{}: {}", s.name, s.approvers.join(", ")))
                    .unwrap_or_default();
                let name = r.name.clone().unwrap_or_default();
                table.add_row(vec![
                    r.id.to_string(),
                    r.kind.to_string(),
                    r.status.to_string(),
                    r.requester_email.clone(),
                    name,
                    waiting,
                ]);
            }
            super::table::write(&mut out, &table)?;
        }
    }
    Ok(())
}

async fn decide(ctx: &Context, id: RequestId, input: workflow::DecisionInput, as_email: String) -> anyhow::Result<()> {
    let email = as_email.trim().to_lowercase();
    if email.is_empty() {
        bail!("--as needs the email of the person deciding");
    }
    let (catalog, public_url) = (ctx.catalog.clone(), ctx.settings.public_url());
    let notice = i32::from(ctx.settings.default_notice_days);
    let r = ctx
        .db
        .run(move |c| {
            let roles = auth::list(c)?
                .into_iter()
                .filter(|t| t.revoked_at.is_none() && t.scope == auth::TokenScope::Api)
                .filter(|t| t.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&email)))
                .map(|t| t.role)
                .collect();
            let user = Actor::cli().0;
            let who = Decider { email: Some(email.clone()), roles, actor: Actor(format!("{user} as {email}")) };
            let env = workflow::Env { catalog: &catalog, public_url: &public_url, default_notice_days: notice };
            Ok::<_, anyhow::Error>(workflow::decide(c, env, &who, id, input, crate::time::now())?)
        })
        .await?;
    let current = r.steps.iter().find(|s| s.status == workflow::StepStatus::Pending).map(|s| s.name.clone());
    eprintln!(
        "request {} is {}{}",
        r.id,
        r.status,
        current.map(|s| format!(", waiting for the {s} step")).unwrap_or_default()
    );
    Ok(())
}
