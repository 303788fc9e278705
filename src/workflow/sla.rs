//! The `request_slas` job: a pending step past its SLA reminds its approvers once; past its
//! escalation period it adds its fallback role to the approvers and writes to them once; a
//! request left waiting for the requester's changes too long is closed as cancelled. Each
//! change is a compare-and-set on its marker column in the transaction that queues its mail
//! (under a unique key), so it happens once whatever restarts or replicas.
//! Reads `request_changes_max_days` through [`SlaSettings`].

use super::error::Result;
use super::mail::{self, Nudge, Update};
use super::model::{Request, RequestStatus, Step};
use super::routing;
use super::store::{self, NewEvent};
use crate::audit::{self, Actor};
use crate::auth::Role;
use crate::db::{Conn, JsonText};
use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

/// Most steps or requests one run handles; the rest wait for the next run.
pub const BATCH: i64 = 500;

/// What the job needs from the settings.
#[derive(Debug, Clone)]
pub struct SlaSettings {
    /// Base of links in mail.
    pub public_url: String,
    /// Days a request may wait for the requester's changes before it is closed (at least 1).
    pub changes_max_days: u32,
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SlaReport {
    /// Steps whose approvers were reminded.
    pub reminded: usize,
    /// Steps that escalated to their fallback.
    pub escalated: usize,
    /// Requests closed after waiting too long for changes.
    pub expired: usize,
}

fn actor() -> Actor {
    Actor("job:request_slas".into())
}

/// Runs the job as of `now`.
pub fn run(conn: &mut Conn, settings: &SlaSettings, now: NaiveDateTime) -> Result<SlaReport> {
    let mut report = SlaReport::default();
    let steps = store::pending_steps(conn, BATCH)?;
    if steps.len() as i64 == BATCH {
        tracing::info!(batch = BATCH, "request_slas: batch cap reached; the rest wait for the next run");
    }
    for step in steps {
        let Some(since) = step.pending_since else { continue };
        let escalate = since + Duration::hours(i64::from(step.escalate_after_hours)) <= now;
        let late = since + Duration::hours(i64::from(step.sla_hours)) <= now;
        let result = if escalate && step.escalated_at.is_none() {
            escalate_step(conn, settings, &step, now).map(|done| report.escalated += usize::from(done))
        } else if late && step.reminded_at.is_none() {
            remind_step(conn, settings, &step, now).map(|done| report.reminded += usize::from(done))
        } else {
            Ok(())
        };
        if let Err(e) = result {
            tracing::error!(request = %step.request_id, step = %step.name, error = %e, "request SLA step failed");
        }
    }
    let days = i64::from(settings.changes_max_days.max(1));
    for r in store::stale_changes_requested(conn, now - Duration::days(days), BATCH)? {
        match expire(conn, settings, &r, days, now) {
            Ok(done) => report.expired += usize::from(done),
            Err(e) => tracing::error!(request = %r.id, error = %e, "closing a stale request failed"),
        }
    }
    Ok(report)
}

fn remind_step(conn: &mut Conn, settings: &SlaSettings, step: &Step, now: NaiveDateTime) -> Result<bool> {
    crate::db::write_tx(conn, |conn| {
        if !store::mark_reminded(conn, step.id, now)? {
            return Ok(false);
        }
        let r = store::find(conn, step.request_id)?;
        let after = Step { reminded_at: Some(now), ..step.clone() };
        let comment = format!("no decision within {} hours", step.sla_hours);
        let e = NewEvent { event: "reminded", step: Some(&step.name), comment: Some(&comment), details: None };
        store::record_event(conn, r.id, &actor().0, e, now)?;
        audit::record(conn, &actor(), "request.remind", "request", r.id, Some(step), Some(&after))?;
        mail::approvers(conn, &settings.public_url, &r, step, Nudge::Reminder, None)?;
        Ok(true)
    })
}

fn escalate_step(conn: &mut Conn, settings: &SlaSettings, step: &Step, now: NaiveDateTime) -> Result<bool> {
    crate::db::write_tx(conn, |conn| {
        let fallback = step.fallback.parse::<Role>().unwrap_or(Role::Admin);
        let entry = routing::role(fallback);
        let mut approvers = step.approver_list();
        if !approvers.contains(&entry) {
            approvers.push(entry.clone());
        }
        let note = format!("no decision within {} hours; escalated to the {fallback} role", step.escalate_after_hours);
        if !store::mark_escalated(conn, step.id, &approvers, &note, now)? {
            return Ok(false);
        }
        // One late email says everything: a reminder not sent yet is not sent after this.
        store::mark_reminded(conn, step.id, now)?;
        let r = store::find(conn, step.request_id)?;
        let after = Step {
            escalated_at: Some(now),
            approvers: JsonText(approvers.clone()),
            note: Some(note.clone()),
            ..step.clone()
        };
        let details = Some(serde_json::json!({"approvers": approvers}));
        let e = NewEvent { event: "escalated", step: Some(&step.name), comment: Some(&note), details };
        store::record_event(conn, r.id, &actor().0, e, now)?;
        audit::record(conn, &actor(), "request.escalate", "request", r.id, Some(step), Some(&after))?;
        let to = mail::addresses(conn, &[entry])?;
        mail::approvers(conn, &settings.public_url, &r, &after, Nudge::Escalation, Some(to))?;
        Ok(true)
    })
}

fn expire(conn: &mut Conn, settings: &SlaSettings, stale: &Request, days: i64, now: NaiveDateTime) -> Result<bool> {
    crate::db::write_tx(conn, |conn| {
        let before = store::find(conn, stale.id)?;
        // Re-read inside the transaction: the requester may have resubmitted meanwhile.
        if before.status != RequestStatus::ChangesRequested || before.updated_at != stale.updated_at {
            return Ok(false);
        }
        let mut r = before.clone();
        r.status = RequestStatus::Cancelled;
        r.closed_at = Some(now);
        let r = store::save(conn, &r, now)?;
        let why = format!("closed after {days} days waiting for the requester's changes");
        let e = NewEvent { event: "expired", step: None, comment: Some(&why), details: None };
        store::record_event(conn, r.id, &actor().0, e, now)?;
        audit::record(conn, &actor(), "request.expire", "request", r.id, Some(&before), Some(&r))?;
        let message = format!("Your request was {why}. Make a new request if it is still needed.");
        let u = Update { what: "expired", message, step: None, actor: None, comment: None };
        mail::requester(conn, &settings.public_url, &r, u)?;
        Ok(true)
    })
}
