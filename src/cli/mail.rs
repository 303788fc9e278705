//! `remind` and `outbox`: the renewal reminder pass and the mail waiting to go.

use crate::context::Context;
use crate::db::{DbError, Page};
use crate::{notify, scheduler};
use std::io::Write;

/// Runs the reminder pass for `today` (default: today in UTC), then delivers unless `dry_run`.
pub async fn remind(ctx: &Context, today: Option<chrono::NaiveDate>, dry_run: bool) -> anyhow::Result<()> {
    let today = today.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let report = scheduler::remind(ctx, today, dry_run).await?;
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
        deliver_and_print(ctx, &mut out).await?;
    }
    Ok(())
}

/// Lists pending and failed mail; with `retry`, queues failed mail again and delivers first.
pub async fn outbox(ctx: &Context, retry: bool) -> anyhow::Result<()> {
    if retry {
        let n = ctx.db.run(|c| notify::outbox::retry_failed(c, None).map_err(DbError::from)).await?;
        eprintln!("{n} failed emails queued again");
    }
    let mut out = std::io::stdout().lock();
    if retry {
        deliver_and_print(ctx, &mut out).await?;
    }
    for status in [notify::OutboxStatus::Pending, notify::OutboxStatus::Failed] {
        let page = Page::first(500);
        let (rows, _) = ctx.db.run(move |c| notify::outbox::list(c, Some(status), page).map_err(DbError::from)).await?;
        for r in rows {
            let err = r.last_error.as_deref().unwrap_or("");
            writeln!(
                out,
                "{:<7} #{:<5} attempts {} next {}  {}  {}  {err}",
                r.status,
                r.id,
                r.attempts,
                crate::time::format(&r.next_attempt_at),
                r.recipients,
                r.subject
            )?;
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
