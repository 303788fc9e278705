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
    let idle = report.queued.is_empty() && report.without_recipients.is_empty();
    if dry_run && idle {
        writeln!(out, "nothing to send: no reminder is due on {today}")?;
    }
    if !dry_run {
        deliver_and_print(ctx, &mut out).await?;
    }
    Ok(())
}

/// Lists pending and failed mail; with `retry`, queues failed mail again and delivers first.
pub async fn outbox(ctx: &Context, retry: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if retry {
        let (failed, waiting) = ctx
            .db
            .run(|c| {
                let failed = notify::outbox::retry_failed(c, None).map_err(DbError::from)?;
                Ok::<_, DbError>((failed, notify::outbox::due_now(c).map_err(DbError::from)?))
            })
            .await?;
        eprintln!("{failed} failed emails queued again, {waiting} waiting on a backoff made due now");
        deliver_and_print(ctx, &mut out).await?;
    }
    let mut table = super::table::new(&["STATUS", "ID", "ATTEMPTS", "NEXT TRY", "TO", "SUBJECT", "LAST ERROR"], &[]);
    for status in [notify::OutboxStatus::Pending, notify::OutboxStatus::Failed] {
        let page = Page::first(500);
        let (rows, _) = ctx.db.run(move |c| notify::outbox::list(c, Some(status), page).map_err(DbError::from)).await?;
        for r in rows {
            table.add_row(vec![
                r.status.to_string(),
                r.id.to_string(),
                r.attempts.to_string(),
                crate::time::format(&r.next_attempt_at),
                r.recipients,
                r.subject,
                r.last_error.unwrap_or_default(),
            ]);
        }
    }
    if table.row_count() > 0 {
        super::table::write(&mut out, &table)?;
    } else if !retry {
        writeln!(out, "nothing to send: no email is pending or failed")?;
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
    if report.sent.is_empty() && report.retrying + report.failed == 0 {
        writeln!(out, "nothing to send: no email is due")?;
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
