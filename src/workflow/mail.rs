//! The workflow's mail, queued in the outbox inside the transaction of the change it reports,
//! each under a unique key so it goes once: to a step's approvers when it becomes pending (and
//! when it is late or escalates), to the requester at each decision and outcome.

use super::error::Result;
use super::model::{Request, RequestKind, Step};
use crate::auth::names;
use crate::db::{Conn, DbError};
use crate::notify::{self, outbox, Email};
use serde_json::json;

/// Why approvers are written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nudge {
    /// The step has just become theirs.
    Pending,
    /// The step is past its SLA.
    Reminder,
    /// The step has escalated to them.
    Escalation,
}

impl Nudge {
    fn as_str(self) -> &'static str {
        match self {
            Nudge::Pending => "pending",
            Nudge::Reminder => "reminder",
            Nudge::Escalation => "escalation",
        }
    }
}

/// The addresses behind approver entries: a person's email, or everyone holding the role
/// (users granted it here or by single sign-on, and live API tokens acting for someone).
pub fn addresses(conn: &mut Conn, approvers: &[String]) -> Result<Vec<String>> {
    Ok(crate::auth::names::addresses(conn, approvers)?)
}

fn kind_label(k: RequestKind) -> &'static str {
    match k {
        RequestKind::NewTool => "new tool",
        RequestKind::AddSeats => "more seats",
        RequestKind::Renewal => "renewal",
        RequestKind::Reclaim => "reclaim",
    }
}

/// What the request is about, in a few words.
pub fn title(r: &Request) -> String {
    r.name.clone().unwrap_or_else(|| format!("request {}", r.id))
}

fn cost(r: &Request) -> String {
    match (r.annual_cost_cents, r.currency.as_deref()) {
        (Some(c), Some(cur)) => format!("{}/yr", crate::renewals::upcoming::money(c, cur)),
        _ => "unknown".into(),
    }
}

fn link(public_url: &str, r: &Request) -> String {
    format!("{public_url}/requests/{}", r.id)
}

fn queue(conn: &mut Conn, kind: &str, key: String, to: Vec<String>, ctx: &serde_json::Value) -> Result<()> {
    if to.is_empty() {
        tracing::warn!(key = %key, "request email has no recipient; not queued");
        return Ok(());
    }
    let (subject, text, html) =
        notify::render(kind, ctx).map_err(|e| DbError::Task(format!("{kind} template: {e}")))?;
    outbox::enqueue(conn, &Email { key, kind: kind.into(), to, subject, text, html: Some(html) })?;
    Ok(())
}

/// Writes to `to` (or the step's approvers) that `step` of `r` waits for them.
pub fn approvers(
    conn: &mut Conn,
    public_url: &str,
    r: &Request,
    step: &Step,
    nudge: Nudge,
    to: Option<Vec<String>>,
) -> Result<()> {
    let to = match to {
        Some(t) => t,
        None => addresses(conn, &step.approver_list())?,
    };
    // Never ask the requester to decide their own request.
    let to: Vec<String> = to.into_iter().filter(|e| !e.eq_ignore_ascii_case(&r.requester_email)).collect();
    let advice: Option<serde_json::Value> = r.advice.as_ref().and_then(|a| serde_json::to_value(&a.0).ok());
    let ctx = json!({
        "reason": nudge.as_str(),
        "id": r.id.0,
        "kind_label": kind_label(r.kind),
        "title": title(r),
        "step": step.name,
        "sla_hours": step.sla_hours,
        "escalate_after_hours": step.escalate_after_hours,
        "requester": names::person(conn, &r.requester_email)?,
        "purpose": r.purpose,
        "seats": r.seats,
        "cost": cost(r),
        "data_class": r.data_class.as_str(),
        "advice": advice.as_ref().and_then(|a| a["message"].as_str()).filter(|_| r.kind == RequestKind::NewTool),
        "advice_response": r.advice_response,
        "link": link(public_url, r),
    });
    let key = format!("request:{}:round:{}:step:{}:{}", r.id, r.round, step.name, nudge.as_str());
    queue(conn, "request_pending", key, to, &ctx)
}

/// What the requester is told about.
#[derive(Debug, Clone)]
pub struct Update<'a> {
    /// Short status for the subject and key: approved, rejected, changes_requested, done, cancelled, expired.
    pub what: &'a str,
    /// A sentence for the body.
    pub message: String,
    /// The step decided, if any.
    pub step: Option<&'a str>,
    /// Who decided.
    pub actor: Option<&'a str>,
    /// Their comment.
    pub comment: Option<&'a str>,
}

/// Tells the requester of `r` about a decision or outcome.
pub fn requester(conn: &mut Conn, public_url: &str, r: &Request, u: Update<'_>) -> Result<()> {
    let headline = match u.what {
        "approved" => "approved",
        "rejected" => "rejected",
        "changes_requested" => "changes requested",
        "done" => "done",
        "cancelled" => "cancelled",
        "expired" => "closed",
        other => other,
    };
    let ctx = json!({
        "id": r.id.0,
        "kind_label": kind_label(r.kind),
        "title": title(r),
        "headline": match u.step { Some(s) if u.what != "done" => format!("{headline} at {s}"), _ => headline.to_string() },
        "message": u.message,
        "step": u.step,
        "actor": match u.actor {
            Some(a) => Some(names::of_actor(conn, a)?),
            None => None,
        },
        "comment": u.comment,
        "status": r.status.as_str(),
        "link": link(public_url, r),
    });
    let key = format!("request:{}:round:{}:{}:{}", r.id, r.round, u.step.unwrap_or("request"), u.what);
    queue(conn, "request_update", key, vec![r.requester_email.clone()], &ctx)
}

/// Asks `owner` to remove the seats of an approved reclaim request.
pub fn reclaim_task(
    conn: &mut Conn,
    public_url: &str,
    r: &Request,
    to: Vec<String>,
    accounts: &[String],
    explanation: &str,
) -> Result<()> {
    let ctx = json!({
        "id": r.id.0,
        "app": title(r),
        "count": if accounts.is_empty() { r.seats.unwrap_or(0) } else { accounts.len() as i64 },
        "accounts": accounts,
        "finding_id": r.finding_id.map(|f| f.0),
        "explanation": explanation,
        "link": link(public_url, r),
    });
    queue(conn, "request_task", format!("request:{}:reclaim_task", r.id), to, &ctx)
}

/// Asks `to` (the `it` step's people) to buy and set up the approved new tool `r`.
pub fn provision_task(conn: &mut Conn, public_url: &str, r: &Request, to: Vec<String>) -> Result<()> {
    let ctx = json!({
        "id": r.id.0,
        "app": title(r),
        "requester": names::person(conn, &r.requester_email)?,
        "seats": r.seats.unwrap_or(1),
        "cost": cost(r),
        "link": link(public_url, r),
    });
    queue(conn, "request_provision", format!("request:{}:provision_task", r.id), to, &ctx)
}
