//! Decisions on a request's current step: approve (on to the next step, or the outcome),
//! reject (the request ends), or ask for changes (back to the requester). Only the first
//! pending step is decided, by one of its approvers (or an admin, recorded as an override),
//! never by the requester.

use super::engine::{self, Env};
use super::error::{Result, WorkflowError};
use super::mail::{self, Nudge, Update};
use super::model::{Decision, Request, RequestId, RequestKind, RequestStatus, Step, StepStatus};
use super::outcome;
use super::routing::{self, Decider, Entitlement};
use super::store::{self, NewEvent};
use super::view::{self, RequestDetail};
use crate::audit;
use crate::db::JsonText;
use chrono::NaiveDateTime;
use serde_json::json;

/// A decision with its comment, as sent.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// approve, reject or request_changes.
    pub decision: Decision,
    /// Why (required to reject or ask for changes).
    pub comment: Option<String>,
}

/// Carries out request `r` whose steps are all approved or skipped: the outcome runs, and the
/// request is done (or approved, while a reclaim waits for its seats to be removed or a new
/// tool for it to provision it).
pub(super) fn finish_approved(
    conn: &mut crate::db::Conn,
    env: Env<'_>,
    who: &Decider,
    mut r: Request,
    now: NaiveDateTime,
) -> Result<Request> {
    let before = r.clone();
    let done = outcome::approved(conn, &who.actor, env, &mut r, now)?;
    r.outcome = Some(JsonText(done.details.clone()));
    let actor = who.actor.0.as_str();
    store::record_event(conn, r.id, actor, NewEvent { event: "approved", ..Default::default() }, now)?;
    let (what, message) = if done.finished {
        r.status = RequestStatus::Done;
        r.closed_at = Some(now);
        let e = NewEvent { event: "done", details: Some(done.details.clone()), ..Default::default() };
        store::record_event(conn, r.id, actor, e, now)?;
        ("done", "Your request was approved and carried out in the inventory.")
    } else {
        r.status = RequestStatus::Approved;
        let e = NewEvent { event: "outcome", details: Some(done.details.clone()), ..Default::default() };
        store::record_event(conn, r.id, actor, e, now)?;
        let m = match r.kind {
            RequestKind::NewTool => "Your request was approved; it now buys and sets up the tool.",
            _ => "Your request was approved; the app owner now removes the seats.",
        };
        ("approved", m)
    };
    let r = store::save(conn, &r, now)?;
    let action = if done.finished { "request.done" } else { "request.approve" };
    audit::record(conn, &who.actor, action, "request", r.id, Some(&before), Some(&r))?;
    let u = Update { what, message: message.into(), step: None, actor: None, comment: None };
    mail::requester(conn, env.public_url, &r, u)?;
    Ok(r)
}

/// Decides the current step of request `id` as `who`.
pub fn decide(
    conn: &mut crate::db::Conn,
    env: Env<'_>,
    who: &Decider,
    id: RequestId,
    input: DecisionInput,
    now: NaiveDateTime,
) -> Result<RequestDetail> {
    let comment = checked_comment(input.comment, input.decision)?;
    crate::db::write_tx(conn, |conn| {
        let before = store::find(conn, id)?;
        if who.is_requester(&before) {
            return Err(WorkflowError::Forbidden("nobody may decide on a request they made".into()));
        }
        if before.status != RequestStatus::Pending {
            return Err(WorkflowError::Conflict(format!("request {id} is {}: it takes no decisions", before.status)));
        }
        let steps = store::steps(conn, id, before.round)?;
        let (step, overriding) = current_step(&steps, who, id)?;
        let d = Decided { request: id, step, actor: who.actor.0.as_str(), comment: comment.as_deref() };
        record_decision(conn, &d, input.decision, overriding, now)?;
        let r = match input.decision {
            Decision::Approve => approve(conn, env, who, &d, &steps, before.clone(), now)?,
            Decision::Reject => reject(conn, env, who, &d, before.clone(), now)?,
            Decision::RequestChanges => ask_for_changes(conn, env, &d, before.clone(), now)?,
        };
        audit::record(conn, &who.actor, "request.decide", "request", id, Some(&before), Some(&r))?;
        let steps = store::steps(conn, id, r.round)?;
        Ok(view::detail(&r, &steps, Some(store::history(conn, id)?)))
    })
}

/// The comment trimmed (none when blank); rejecting or asking for changes needs one.
fn checked_comment(comment: Option<String>, decision: Decision) -> Result<Option<String>> {
    let comment = comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if comment.is_none() && decision != Decision::Approve {
        return Err(WorkflowError::invalid("comment", "is required to reject or ask for changes: say why"));
    }
    if comment.as_ref().is_some_and(|c| c.chars().count() > 5000) {
        return Err(WorkflowError::invalid("comment", "must be at most 5000 characters"));
    }
    Ok(comment)
}

/// The first pending step of request `id`, and whether `who` decides it as an admin override.
fn current_step<'s>(steps: &'s [Step], who: &Decider, id: RequestId) -> Result<(&'s Step, bool)> {
    let Some(step) = steps.iter().find(|s| s.status == StepStatus::Pending) else {
        return Err(WorkflowError::Conflict(format!("request {id} has no step waiting for a decision")));
    };
    let approvers = step.approver_list();
    let entitled = routing::entitlement(&approvers, who).ok_or_else(|| {
        WorkflowError::Forbidden(format!(
            "you are not an approver of the {} step; it waits for {}",
            step.name,
            approvers.join(", ")
        ))
    })?;
    Ok((step, entitled == Entitlement::Override))
}

/// The step being decided, by whom and with what comment.
struct Decided<'a> {
    request: RequestId,
    step: &'a Step,
    actor: &'a str,
    comment: Option<&'a str>,
}

impl Decided<'_> {
    /// The requester's mail about this decision.
    fn update<'u>(&'u self, what: &'u str, message: &str) -> Update<'u> {
        Update {
            what,
            message: message.to_string(),
            step: Some(self.step.name.as_str()),
            actor: Some(self.actor),
            comment: self.comment,
        }
    }
}

/// Marks the step decided (failing if someone else decided it first) and records the event.
fn record_decision(
    conn: &mut crate::db::Conn,
    d: &Decided<'_>,
    decision: Decision,
    overriding: bool,
    now: NaiveDateTime,
) -> Result<()> {
    let note = if overriding {
        Some(format!("decided by an admin in place of {}", d.step.approver_list().join(", ")))
    } else {
        d.step.note.clone()
    };
    let to = match decision {
        Decision::Approve => StepStatus::Approved,
        Decision::Reject => StepStatus::Rejected,
        Decision::RequestChanges => StepStatus::ChangesRequested,
    };
    if !store::decide_step(conn, d.step.id, to, d.actor, d.comment, note.as_deref(), now)? {
        return Err(WorkflowError::Conflict(format!("the {} step was decided a moment ago", d.step.name)));
    }
    let details = Some(json!({"override": overriding, "decision": decision}));
    let e = NewEvent { event: to.as_str(), step: Some(&d.step.name), comment: d.comment, details };
    store::record_event(conn, d.request, d.actor, e, now)?;
    Ok(())
}

/// After an approved step: the next waiting step opens, or with none left the request is carried out.
fn approve(
    conn: &mut crate::db::Conn,
    env: Env<'_>,
    who: &Decider,
    d: &Decided<'_>,
    steps: &[Step],
    r: Request,
    now: NaiveDateTime,
) -> Result<Request> {
    mail::requester(conn, env.public_url, &r, d.update("approved", "A step of your request was approved."))?;
    let next = steps.iter().find(|s| s.position > d.step.position && s.status == StepStatus::Waiting);
    let Some(n) = next else {
        return finish_approved(conn, env, who, r, now);
    };
    store::open_step(conn, n.id, now)?;
    let details = Some(json!({"approvers": n.approver_list(), "note": n.note}));
    let e = NewEvent { event: "pending", step: Some(&n.name), comment: None, details };
    store::record_event(conn, d.request, d.actor, e, now)?;
    let mut opened = n.clone();
    opened.status = StepStatus::Pending;
    opened.pending_since = Some(now);
    mail::approvers(conn, env.public_url, &r, &opened, Nudge::Pending, None)?;
    store::save(conn, &r, now)
}

/// After a rejected step: the request ends as rejected.
fn reject(
    conn: &mut crate::db::Conn,
    env: Env<'_>,
    who: &Decider,
    d: &Decided<'_>,
    mut r: Request,
    now: NaiveDateTime,
) -> Result<Request> {
    r.status = RequestStatus::Rejected;
    r.closed_at = Some(now);
    engine::after_rejection(conn, who, &mut r)?;
    super::savings::request_rejected(conn, &who.actor, &r)?;
    let r = store::save(conn, &r, now)?;
    mail::requester(conn, env.public_url, &r, d.update("rejected", "Your request was rejected."))?;
    Ok(r)
}

/// After changes were asked for: the request goes back to the requester.
fn ask_for_changes(
    conn: &mut crate::db::Conn,
    env: Env<'_>,
    d: &Decided<'_>,
    mut r: Request,
    now: NaiveDateTime,
) -> Result<Request> {
    r.status = RequestStatus::ChangesRequested;
    let r = store::save(conn, &r, now)?;
    let m = "Changes were asked for. Change the request (PATCH it) to send it again, or cancel it.";
    mail::requester(conn, env.public_url, &r, d.update("changes_requested", m))?;
    Ok(r)
}
