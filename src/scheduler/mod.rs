//! Scheduler: cron jobs (findings, renewal and access review reminders, outbox delivery, weekly
//! owner digest, request SLAs, quarterly owner check-ins) run by tokio-cron-scheduler in every
//! process. A tick only claims the period's lease in the database and runs the job if it won,
//! so with several replicas each job runs once per period. Reads the `cron_*` settings: cron with seconds, UTC; blank disables a job;
//! and `request_changes_max_days`.

pub mod leases;

pub use leases::JobStatus;

use crate::config::Settings;
use crate::context::Context;
use crate::db::DbError;
use crate::renewals::reminders::{self, PassReport, ReminderSettings};
use crate::workflow::SlaSettings;
use chrono::{DateTime, NaiveDateTime, Utc};
use croner::Cron;
use std::time::Instant;
use tokio_cron_scheduler::{Job, JobScheduler};

/// Most outbox rows one delivery run sends; the rest wait for the next run.
pub const OUTBOX_BATCH: i64 = 200;

/// How long a run may hold its lease before another process may take over.
const LEASE: chrono::Duration = chrono::Duration::minutes(30);

/// Jobs stackward runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Queue due renewal reminders, then deliver.
    RenewalReminders,
    /// Deliver due outbox rows.
    Outbox,
    /// Queue the weekly owner digests, then deliver.
    OwnerDigest,
    /// Run every findings rule.
    Findings,
    /// Sync the connections whose schedule is due.
    ConnectionSyncs,
    /// Remind and escalate late approval steps, close requests left waiting for changes.
    RequestSlas,
    /// Start the current quarter's owner check-ins (apps already asked are not asked again).
    CheckIns,
}

impl JobKind {
    /// The job's name in the `jobs` table and the API.
    pub fn name(self) -> &'static str {
        match self {
            JobKind::RenewalReminders => "renewal_reminders",
            JobKind::Outbox => "outbox",
            JobKind::OwnerDigest => "owner_digest",
            JobKind::Findings => "findings",
            JobKind::ConnectionSyncs => "connection_syncs",
            JobKind::RequestSlas => "request_slas",
            JobKind::CheckIns => "check_ins",
        }
    }
}

/// The enabled jobs and their schedules, validated.
pub fn schedules(settings: &Settings) -> Result<Vec<(JobKind, String, Cron)>, String> {
    let all = [
        (JobKind::RenewalReminders, "STACKWARD_CRON_REMINDERS", &settings.cron_reminders),
        (JobKind::Outbox, "STACKWARD_CRON_OUTBOX", &settings.cron_outbox),
        (JobKind::OwnerDigest, "STACKWARD_CRON_DIGEST", &settings.cron_digest),
        (JobKind::Findings, "STACKWARD_CRON_FINDINGS", &settings.cron_findings),
        (JobKind::ConnectionSyncs, "STACKWARD_CRON_SYNC", &settings.cron_sync),
        (JobKind::RequestSlas, "STACKWARD_CRON_REQUESTS", &settings.cron_requests),
        (JobKind::CheckIns, "STACKWARD_CRON_CHECK_INS", &settings.cron_check_ins),
    ];
    let mut out = Vec::new();
    for (kind, setting, expr) in all {
        if let Some(cron) = crate::time::parse_schedule(setting, expr)? {
            out.push((kind, expr.trim().to_string(), cron));
        }
    }
    Ok(out)
}

/// The reminder settings, validated.
pub fn reminder_settings(settings: &Settings) -> Result<ReminderSettings, String> {
    let default_stages =
        crate::time::parse_stages(&settings.reminder_days).map_err(|e| format!("STACKWARD_REMINDER_DAYS: {e}"))?;
    Ok(ReminderSettings { default_stages, finance: settings.finance_list(), public_url: settings.public_url() })
}

/// The request SLA settings, validated: a request must be given at least a day for changes.
pub fn sla_settings(settings: &Settings) -> Result<SlaSettings, String> {
    if settings.request_changes_max_days == 0 {
        return Err("STACKWARD_REQUEST_CHANGES_MAX_DAYS is 0, which would close every request the moment changes \
            are asked for: give the days a requester has to answer (default 30)"
            .into());
    }
    Ok(SlaSettings { public_url: settings.public_url(), changes_max_days: settings.request_changes_max_days })
}

fn next_after(cron: &Cron, now: DateTime<Utc>) -> Option<NaiveDateTime> {
    cron.find_next_occurrence(&now, false).ok().map(|t| t.naive_utc())
}

/// Starts the scheduler: registers the jobs in the database and schedules them.
pub async fn start(ctx: Context) -> anyhow::Result<JobScheduler> {
    let specs = schedules(&ctx.settings).map_err(anyhow::Error::msg)?;
    let sched = JobScheduler::new().await?;
    let heartbeat = ctx.heartbeat.clone();
    sched
        .add(Job::new_async("*/20 * * * * *", move |_, _| {
            heartbeat.beat();
            Box::pin(async {})
        })?)
        .await?;
    for (kind, expr, cron) in specs {
        let (db, name) = (ctx.db.clone(), kind.name());
        let next = next_after(&cron, Utc::now());
        let e = expr.clone();
        db.run(move |c| leases::ensure(c, name, &e, next).map_err(DbError::from)).await?;
        let ctx = ctx.clone();
        let job = Job::new_async(expr.as_str(), move |_, _| {
            let (ctx, cron) = (ctx.clone(), cron.clone());
            Box::pin(async move {
                let now = Utc::now();
                // The tick this run serves: the same in every process however their clocks jitter.
                let period = cron.find_previous_occurrence(&now, true).map(|t| t.to_rfc3339()).unwrap_or_default();
                run_scheduled(&ctx, kind, &period, next_after(&cron, now)).await;
            })
        })?;
        sched.add(job).await?;
        tracing::info!(job = name, schedule = %expr, "job scheduled");
    }
    ctx.heartbeat.beat();
    sched.start().await?;
    Ok(sched)
}

async fn run_scheduled(ctx: &Context, kind: JobKind, period: &str, next: Option<NaiveDateTime>) {
    let (name, holder, period) = (kind.name(), ctx.instance.clone(), period.to_string());
    let h = holder.clone();
    let started = ctx.db.run(move |c| leases::try_start(c, name, &period, &h, LEASE).map_err(DbError::from)).await;
    match started {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::error!(job = name, error = %e, "cannot take the job lease");
            return;
        }
    }
    let clock = Instant::now();
    let result = run_job(ctx, kind, Utc::now().date_naive()).await;
    let ms = clock.elapsed().as_millis() as i64;
    let error = match &result {
        // An idle outbox run every 15 s would flood the log.
        Ok(summary) if matches!(kind, JobKind::Outbox | JobKind::ConnectionSyncs) && summary.starts_with("0 ") => {
            tracing::debug!(job = name, ms, "{summary}");
            None
        }
        Ok(summary) => {
            tracing::info!(job = name, ms, "{summary}");
            None
        }
        Err(e) => {
            tracing::error!(job = name, ms, error = %e, "job failed");
            Some(format!("{e:#}"))
        }
    };
    let finished =
        ctx.db.run(move |c| leases::finish(c, name, &holder, error.as_deref(), ms, next).map_err(DbError::from)).await;
    if let Err(e) = finished {
        tracing::error!(job = name, error = %e, "cannot record the job run");
    }
}

/// Runs one job now, for `today`, and says what it did.
pub async fn run_job(ctx: &Context, kind: JobKind, today: chrono::NaiveDate) -> anyhow::Result<String> {
    match kind {
        JobKind::RenewalReminders => {
            let report = remind(ctx, today, false).await?;
            // Access reviews due soon remind their reviewers on the same daily pass.
            let url = ctx.settings.public_url();
            let reviews = ctx.db.run(move |c| crate::stack_audit::reviews::remind_due(c, today, &url)).await?;
            let sent = deliver(ctx).await?;
            Ok(format!(
                "{} reminders queued, {reviews} access review reminders queued, {sent} emails sent",
                report.queued.len()
            ))
        }
        JobKind::Outbox => Ok(format!("{} emails sent", deliver(ctx).await?)),
        JobKind::ConnectionSyncs => {
            let reclaims = crate::actions::run_queued(ctx).await?;
            Ok(format!("{} connections synced, {reclaims} reclaims run", crate::sync::run_due(ctx).await?))
        }
        JobKind::Findings => {
            let r = crate::findings::refresh_now(ctx, today).await?;
            Ok(format!(
                "findings: {} opened, {} updated, {} resolved, {} unchanged",
                r.opened, r.updated, r.resolved, r.unchanged
            ))
        }
        JobKind::CheckIns => {
            let quarter = crate::stack_audit::Quarter::of(today);
            let url = ctx.settings.public_url();
            let actor = crate::audit::Actor("scheduler".into());
            let made = ctx
                .db
                .run(move |c| crate::stack_audit::checkins::start(c, &actor, quarter, &url, crate::time::now()))
                .await?;
            let sent = deliver(ctx).await?;
            Ok(format!("{quarter} check-ins: {} started; {sent} emails sent", made.len()))
        }
        JobKind::RequestSlas => {
            let s = sla_settings(&ctx.settings).map_err(anyhow::Error::msg)?;
            let now = crate::time::now();
            let r = ctx.db.run(move |c| crate::workflow::sla::run(c, &s, now)).await?;
            let sent = deliver(ctx).await?;
            Ok(format!(
                "requests: {} reminded, {} escalated, {} closed; {sent} emails sent",
                r.reminded, r.escalated, r.expired
            ))
        }
        JobKind::OwnerDigest => {
            let rs = reminder_settings(&ctx.settings).map_err(anyhow::Error::msg)?;
            let queued = ctx
                .db
                .run(move |c| {
                    // Every renewal: the digest shows seats bought for all of an owner's apps and
                    // lists only the next 90 days' deadlines itself.
                    let renewals = crate::renewals::upcoming::upcoming(c, today, 3650, &rs.default_stages)?;
                    crate::renewals::digest::queue_owner_digests(c, today, &renewals, &rs.public_url)
                })
                .await?;
            let sent = deliver(ctx).await?;
            Ok(format!("{queued} digests queued, {sent} emails sent"))
        }
    }
}

/// The reminder pass for `today`.
pub async fn remind(ctx: &Context, today: chrono::NaiveDate, dry_run: bool) -> anyhow::Result<PassReport> {
    let rs = reminder_settings(&ctx.settings).map_err(anyhow::Error::msg)?;
    Ok(ctx.db.run(move |c| reminders::run(c, &rs, today, dry_run)).await?)
}

/// Delivers due outbox rows; without SMTP settings they wait. Returns how many were sent.
pub async fn deliver(ctx: &Context) -> anyhow::Result<usize> {
    let Some(mailer) = &ctx.mailer else {
        tracing::debug!("STACKWARD_SMTP_URL is not set; mail waits in the outbox");
        return Ok(0);
    };
    let report = crate::notify::deliver_due(&ctx.db, mailer, OUTBOX_BATCH).await?;
    Ok(report.sent.len())
}
