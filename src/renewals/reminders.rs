//! The reminder pass: for each subscription whose reminder stage is due, queue one email to its
//! owners and finance, and mark the stage, in one transaction. The mark and the outbox key are
//! unique, so however often the pass runs, and in however many processes, a stage is queued once.

use super::dates;
use super::upcoming::{self, money, UpcomingRenewal};
use crate::db::schema::renewal_reminders;
use crate::db::{Conn, DbError};
use crate::inventory::SubscriptionId;
use crate::notify::{self, outbox, Email};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

/// What the pass needs from the settings.
#[derive(Debug, Clone)]
pub struct ReminderSettings {
    /// Stages for subscriptions that set none.
    pub default_stages: Vec<u32>,
    /// Finance addresses copied on every reminder.
    pub finance: Vec<String>,
    /// Base of links in mail.
    pub public_url: String,
}

/// A reminder the pass queued (or, in a dry run, would queue).
#[derive(Debug, Clone, Serialize)]
pub struct Reminder {
    /// The subscription.
    pub subscription_id: SubscriptionId,
    /// App and plan, for people.
    pub label: String,
    /// The deadline reminded of.
    pub deadline: NaiveDate,
    /// The stage, in days before the deadline.
    pub stage: u32,
    /// True when the stage's day had already passed (the service was down).
    pub late: bool,
    /// Who it goes to.
    pub recipients: Vec<String>,
    /// The outbox row, when queued.
    pub outbox_id: Option<notify::OutboxId>,
}

/// What a pass did.
#[derive(Debug, Default, Serialize)]
pub struct PassReport {
    /// Reminders queued now.
    pub queued: Vec<Reminder>,
    /// Subscriptions with a due stage but nobody to tell.
    pub without_recipients: Vec<SubscriptionId>,
}

/// How far ahead the pass looks: beyond the largest stage anyone may set.
const HORIZON_DAYS: i64 = 3650;

fn outcome_key(sub: SubscriptionId, deadline: NaiveDate, stage: u32) -> String {
    format!("renewal:{sub}:{deadline}:{stage}")
}

fn recipients(r: &UpcomingRenewal, settings: &ReminderSettings) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let all = r.owner_email.iter().chain(&r.app_owner_emails).chain(&settings.finance);
    for e in all {
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    out
}

/// The app's open and acknowledged findings, largest savings first, as their explanations.
/// Read from the findings table itself: the findings module builds on this one (renewal dates).
fn open_findings(conn: &mut Conn, app: crate::inventory::AppId) -> QueryResult<Vec<String>> {
    use crate::db::schema::findings;
    let mut rows: Vec<(String, Option<i64>)> = findings::table
        .filter(findings::app_id.eq(app))
        .filter(findings::status.eq_any(["open", "acknowledged"]))
        .order(findings::id.asc())
        .select((findings::explanation, findings::annual_savings_cents))
        .load(conn)?;
    rows.sort_by_key(|(_, cents)| std::cmp::Reverse(cents.unwrap_or(-1)));
    Ok(rows.into_iter().map(|(explanation, _)| explanation).collect())
}

/// "9 seats are held on a contract for 8…", when more seats are held than bought.
fn over_assigned_line(r: &UpcomingRenewal) -> Option<String> {
    let over = r.seats_over_assigned;
    let bought = r.seats_purchased?;
    (over > 0).then(|| {
        format!(
            "{} seats are held on a contract for {bought}: the vendor may bill the {over} extra at the next true-up; buy {over} more or remove {over}",
            r.seats_used
        )
    })
}

/// The email for stage `stage` of renewal `r`, naming the app's open findings.
pub fn render(
    r: &UpcomingRenewal,
    stage: u32,
    late: bool,
    to: Vec<String>,
    findings: &[String],
    settings: &ReminderSettings,
) -> Result<Email, DbError> {
    let activity = super::seat_use::SeatUse {
        held: r.seats_used,
        active: r.seats_active,
        idle: r.seats_idle,
        unknown: r.seats_activity_unknown,
        idle_days: r.idle_days,
    }
    .breakdown(r.seats_purchased);
    let kind = match r.deadline_kind {
        dates::DeadlineKind::Cancel => "cancel",
        dates::DeadlineKind::Renew => "renew",
        dates::DeadlineKind::Expiry => "expiry",
    };
    let ctx = serde_json::json!({
        "kind": kind,
        "app": r.app_name,
        "plan": r.plan,
        "deadline": r.notice_deadline.to_string(),
        "renewal_date": r.renewal_date.to_string(),
        "term_start": r.term_start.to_string(),
        "term_end": r.term_end.to_string(),
        "days_left": r.days_to_deadline,
        "stage": stage,
        "late": late,
        "seats_used": r.seats_used,
        "activity": activity,
        "over_assigned": over_assigned_line(r),
        "findings": findings,
        "seats_purchased": r.seats_purchased.map(|s| s.to_string()).unwrap_or_else(|| "unlimited".into()),
        "utilisation": r.utilisation_percent.map(|p| format!("{p}%")),
        "annual_cost": r.annual_cost_cents.map(|c| format!("{}/yr", money(c, &r.currency))).unwrap_or_else(|| "unknown (no price recorded)".into()),
        "owner": r.owner_email,
        "recommendation": r.recommendation.to_string(),
        // The renewals page, where the owner decides (after signing in): never a decision by link.
        "link": format!("{}/renewals#subscription-{}", settings.public_url, r.subscription_id),
    });
    let (subject, text, html) = notify::render("renewal_reminder", &ctx)
        .map_err(|e| DbError::Task(format!("renewal reminder template: {e}")))?;
    Ok(Email {
        key: outcome_key(r.subscription_id, r.notice_deadline, stage),
        kind: "renewal_reminder".into(),
        to,
        subject,
        text,
        html: Some(html),
    })
}

fn already_marked(conn: &mut Conn, sub: SubscriptionId, deadline: NaiveDate, stage: u32) -> QueryResult<bool> {
    let found = renewal_reminders::table
        .filter(renewal_reminders::subscription_id.eq(sub))
        .filter(renewal_reminders::deadline.eq(deadline))
        .filter(renewal_reminders::stage_days.eq(stage as i32))
        .select(renewal_reminders::id)
        .first::<i64>(conn)
        .optional()?;
    Ok(found.is_some())
}

fn mark(
    conn: &mut Conn,
    sub: SubscriptionId,
    deadline: NaiveDate,
    stage: u32,
    outcome: &str,
    outbox_id: Option<notify::OutboxId>,
) -> QueryResult<()> {
    diesel::insert_into(renewal_reminders::table)
        .values((
            renewal_reminders::subscription_id.eq(sub),
            renewal_reminders::deadline.eq(deadline),
            renewal_reminders::stage_days.eq(stage as i32),
            renewal_reminders::outcome.eq(outcome),
            renewal_reminders::outbox_id.eq(outbox_id),
            renewal_reminders::created_at.eq(crate::time::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Runs the pass for `today`. With `dry_run`, reports what would be queued and writes nothing.
pub fn run(
    conn: &mut Conn,
    settings: &ReminderSettings,
    today: NaiveDate,
    dry_run: bool,
) -> Result<PassReport, DbError> {
    let mut report = PassReport::default();
    for r in upcoming::upcoming(conn, today, HORIZON_DAYS, &settings.default_stages)? {
        if r.no_action_needed {
            continue;
        }
        let Some(stage) = dates::due_stage(r.notice_deadline, &r.reminder_days, today) else { continue };
        if already_marked(conn, r.subscription_id, r.notice_deadline, stage)? {
            continue;
        }
        let to = recipients(&r, settings);
        if to.is_empty() {
            tracing::warn!(subscription = %r.subscription_id, "renewal reminder due but the subscription and app have no owner and no finance list is set");
            report.without_recipients.push(r.subscription_id);
            continue;
        }
        let late = r.notice_deadline - chrono::Days::new(u64::from(stage)) < today;
        let findings = open_findings(conn, r.app_id)?;
        let email = render(&r, stage, late, to.clone(), &findings, settings)?;
        let mut reminder = Reminder {
            subscription_id: r.subscription_id,
            label: format!("{} {}", r.app_name, r.plan),
            deadline: r.notice_deadline,
            stage,
            late,
            recipients: to,
            outbox_id: None,
        };
        if dry_run {
            report.queued.push(reminder);
            continue;
        }
        let superseded = dates::superseded_stages(r.notice_deadline, &r.reminder_days, today);
        let result = crate::db::write_tx(conn, |conn| -> QueryResult<Option<notify::OutboxId>> {
            let Some(id) = outbox::enqueue(conn, &email)? else { return Ok(None) };
            mark(conn, r.subscription_id, r.notice_deadline, stage, "sent", Some(id))?;
            // Earlier stages missed while the service was down are recorded, not sent: one late
            // reminder says everything they would have.
            for s in superseded {
                if !already_marked(conn, r.subscription_id, r.notice_deadline, s)? {
                    mark(conn, r.subscription_id, r.notice_deadline, s, "superseded", None)?;
                }
            }
            Ok(Some(id))
        });
        match result {
            Ok(Some(id)) => {
                reminder.outbox_id = Some(id);
                report.queued.push(reminder);
            }
            // Another process queued this stage first.
            Ok(None) => {}
            Err(e) if crate::db::is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}
