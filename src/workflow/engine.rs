//! The life of a request outside its decisions: submission (advice, routing, the first step's
//! mail), resubmission after changes were asked, cancellation, and completing a reclaim or a new tool's provisioning.
//! Each runs in one transaction with its history, audit entries and mail.

use super::advice;
use super::error::{Result, WorkflowError};
use super::input::{self, RequestInput};
use super::mail::{self, Nudge, Update};
use super::model::{Request, RequestId, RequestKind, RequestStatus, StepStatus};
use super::outcome;
use super::policy::Policy;
use super::policy_store;
use super::provision::{self, CompleteInput};
use super::routing::{self, Decider};
use super::store::{self, NewEvent};
use super::view::{self, RequestDetail};
use crate::audit;
use crate::auth::Role;
use crate::catalog::Catalog;
use crate::db::{Conn, JsonText};
use crate::inventory::apps;
use chrono::NaiveDateTime;
use serde_json::json;

/// What the engine needs besides the database.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The app catalog, for advice and categories.
    pub catalog: &'a Catalog,
    /// Base of links in mail.
    pub public_url: &'a str,
    /// Notice period of a subscription an approved request creates (`default_notice_days`).
    pub default_notice_days: i32,
}

fn requester_email(who: &Decider) -> Result<String> {
    who.email.clone().ok_or_else(|| {
        WorkflowError::Forbidden(
            "this token names no person, and requests are made by people: use a token created with an email".into(),
        )
    })
}

/// Fills in the category, known vendor and (for new tools) the advice of `r`.
fn enrich(conn: &mut Conn, catalog: &Catalog, r: &mut Request) -> Result<Option<advice::Advice>> {
    if r.kind == RequestKind::NewTool {
        let a = advice::advise(conn, catalog, r)?;
        r.category = a.category.clone();
        r.known_vendor = a.known_vendor;
        r.advice = Some(JsonText(a.clone()));
        return Ok(Some(a));
    }
    if let Some(id) = r.app_id {
        r.category = advice::app_category(&apps::find(conn, id)?, catalog);
    }
    r.known_vendor = true;
    Ok(None)
}

/// The advice a new tool request would get, without making it (`POST /requests/advice`).
pub fn preview_advice(
    conn: &mut Conn,
    env: Env<'_>,
    who: &Decider,
    input: RequestInput,
    now: NaiveDateTime,
) -> Result<Option<advice::Advice>> {
    let email = requester_email(who)?;
    let mut r = input::build(conn, &email, input, None, now)?;
    enrich(conn, env.catalog, &mut r)
}

/// Routes round `r.round` of stored request `r` through `policy`: stores its steps, records the
/// skipped ones, writes to the first step's approvers, or carries the request out when no
/// step applies.
pub(super) fn start_round(
    conn: &mut Conn,
    env: Env<'_>,
    who: &Decider,
    mut r: Request,
    policy: &Policy,
    now: NaiveDateTime,
) -> Result<Request> {
    let planned = routing::plan(conn, policy, &r, r.id, now)?;
    let steps = store::insert_steps(conn, &planned)?;
    let actor = who.actor.0.as_str();
    for s in &steps {
        match s.status {
            StepStatus::Skipped => {
                let e = NewEvent { event: "skipped", step: Some(&s.name), comment: s.note.as_deref(), details: None };
                store::record_event(conn, r.id, actor, e, now)?;
            }
            StepStatus::Pending => {
                let details = Some(json!({"approvers": s.approver_list(), "note": s.note}));
                let e = NewEvent { event: "pending", step: Some(&s.name), comment: None, details };
                store::record_event(conn, r.id, actor, e, now)?;
                mail::approvers(conn, env.public_url, &r, s, Nudge::Pending, None)?;
            }
            _ => {}
        }
    }
    if !steps.iter().any(|s| s.status == StepStatus::Pending) {
        r = super::decide::finish_approved(conn, env, who, r, now)?;
    }
    Ok(r)
}

/// Makes a request as `who` (the requester is their email) and routes it.
pub fn submit(
    conn: &mut Conn,
    env: Env<'_>,
    who: &Decider,
    input: RequestInput,
    now: NaiveDateTime,
) -> Result<RequestDetail> {
    let email = requester_email(who)?;
    crate::db::write_tx(conn, |conn| {
        let mut r = input::build(conn, &email, input, None, now)?;
        enrich(conn, env.catalog, &mut r)?;
        let policy = policy_store::current(conn)?;
        r.policy_version = policy.version;
        let r = store::insert(conn, &r)?;
        let details = Some(json!({"policy_version": policy.version}));
        let e = NewEvent { event: "submitted", step: None, comment: r.purpose.as_deref(), details };
        store::record_event(conn, r.id, &who.actor.0, e, now)?;
        audit::record(conn, &who.actor, "request.create", "request", r.id, None, Some(&r))?;
        let r = start_round(conn, env, who, r, &policy, now)?;
        let steps = store::steps(conn, r.id, r.round)?;
        Ok(view::detail(&r, &steps, Some(store::history(conn, r.id)?)))
    })
}

/// The requester's changed request after changes were asked: re-routed from the first step.
pub fn resubmit(
    conn: &mut Conn,
    env: Env<'_>,
    who: &Decider,
    id: RequestId,
    input: RequestInput,
    now: NaiveDateTime,
) -> Result<RequestDetail> {
    crate::db::write_tx(conn, |conn| {
        let before = store::find(conn, id)?;
        if !who.is_requester(&before) {
            return Err(WorkflowError::Forbidden("only the requester may change a request".into()));
        }
        if before.status != RequestStatus::ChangesRequested {
            return Err(WorkflowError::Conflict(format!(
                "request {id} is {}: it can be changed only after changes were asked for",
                before.status
            )));
        }
        let mut r = input::build(conn, &before.requester_email, input, Some(&before), now)?;
        enrich(conn, env.catalog, &mut r)?;
        let policy = policy_store::current(conn)?;
        r.round += 1;
        r.status = RequestStatus::Pending;
        r.policy_version = policy.version;
        let r = store::save(conn, &r, now)?;
        let details = Some(json!({"round": r.round, "policy_version": policy.version}));
        let e = NewEvent { event: "resubmitted", step: None, comment: None, details };
        store::record_event(conn, id, &who.actor.0, e, now)?;
        audit::record(conn, &who.actor, "request.resubmit", "request", id, Some(&before), Some(&r))?;
        let r = start_round(conn, env, who, r, &policy, now)?;
        let steps = store::steps(conn, id, r.round)?;
        Ok(view::detail(&r, &steps, Some(store::history(conn, id)?)))
    })
}

/// Withdraws a pending request or one waiting for changes (the requester, or an admin).
pub fn cancel(
    conn: &mut Conn,
    env: Env<'_>,
    who: &Decider,
    id: RequestId,
    now: NaiveDateTime,
) -> Result<RequestDetail> {
    crate::db::write_tx(conn, |conn| {
        let before = store::find(conn, id)?;
        let own = who.is_requester(&before);
        if !own && !who.roles.contains(&Role::Admin) {
            return Err(WorkflowError::Forbidden("only the requester or an admin may cancel a request".into()));
        }
        if !matches!(before.status, RequestStatus::Pending | RequestStatus::ChangesRequested) {
            return Err(WorkflowError::Conflict(format!("request {id} is {}: it cannot be cancelled", before.status)));
        }
        let mut r = before.clone();
        r.status = RequestStatus::Cancelled;
        r.closed_at = Some(now);
        let r = store::save(conn, &r, now)?;
        let e = NewEvent { event: "cancelled", ..Default::default() };
        store::record_event(conn, id, &who.actor.0, e, now)?;
        if own {
            // The requester withdrawing after the advice named a tool the stack has: redirected.
            super::savings::request_withdrawn(conn, &who.actor, &r)?;
        }
        audit::record(conn, &who.actor, "request.cancel", "request", id, Some(&before), Some(&r))?;
        if !own {
            let u = Update {
                what: "cancelled",
                message: "An admin cancelled your request.".into(),
                step: None,
                actor: Some(&who.actor.0),
                comment: None,
            };
            mail::requester(conn, env.public_url, &r, u)?;
        }
        let steps = store::steps(conn, id, r.round)?;
        Ok(view::detail(&r, &steps, Some(store::history(conn, id)?)))
    })
}

/// Completes an approved request's task: a reclaim once its seats are removed (it, an admin
/// or the app's owners), a new tool once it is bought and set up (it or an admin), recording
/// the contract's real figures on its subscription.
pub fn complete(
    conn: &mut Conn,
    env: Env<'_>,
    who: &Decider,
    id: RequestId,
    input: CompleteInput,
    now: NaiveDateTime,
) -> Result<RequestDetail> {
    let comment = input.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    crate::db::write_tx(conn, |conn| {
        let before = store::find(conn, id)?;
        may_complete(conn, who, &before)?;
        if !matches!(before.kind, RequestKind::Reclaim | RequestKind::NewTool)
            || before.status != RequestStatus::Approved
        {
            return Err(WorkflowError::Conflict(format!(
                "request {id} is a {} request in status {}: only an approved reclaim or new tool waits to be completed",
                before.kind, before.status
            )));
        }
        let mut r = before.clone();
        let message = if r.kind == RequestKind::NewTool {
            provision::record(conn, &who.actor, &mut r, &input)?;
            "The tool is bought and set up, its contract recorded; the request is done."
        } else if let Some(field) = input.first_figure() {
            return Err(WorkflowError::invalid(field, "only a new tool's provisioning records contract figures"));
        } else {
            "The seats were reclaimed and the request is done."
        };
        r.status = RequestStatus::Done;
        r.closed_at = Some(now);
        let r = store::save(conn, &r, now)?;
        let details = r.outcome.as_ref().and_then(|o| o.0.get("provisioned").cloned());
        let e = NewEvent { event: "done", step: None, comment: comment.as_deref(), details };
        store::record_event(conn, id, &who.actor.0, e, now)?;
        if r.kind == RequestKind::Reclaim {
            super::savings::reclaim_done(conn, &who.actor, &r)?;
        }
        audit::record(conn, &who.actor, "request.complete", "request", id, Some(&before), Some(&r))?;
        let u = Update {
            what: "done",
            message: message.into(),
            step: None,
            actor: Some(&who.actor.0),
            comment: comment.as_deref(),
        };
        mail::requester(conn, env.public_url, &r, u)?;
        let steps = store::steps(conn, id, r.round)?;
        Ok(view::detail(&r, &steps, Some(store::history(conn, id)?)))
    })
}

/// Refuses `who` completing `r` unless they are it or an admin, or (a reclaim) the app's owner.
fn may_complete(conn: &mut Conn, who: &Decider, r: &Request) -> Result<()> {
    if who.roles.iter().any(|role| matches!(role, Role::Admin | Role::It)) {
        return Ok(());
    }
    if r.kind == RequestKind::NewTool {
        return Err(WorkflowError::Forbidden("only it or an admin may complete a new tool's provisioning".into()));
    }
    let owners = match r.app_id {
        Some(app) => {
            let a = apps::find(conn, app)?;
            [a.owner_email, a.technical_owner_email].into_iter().flatten().collect::<Vec<_>>()
        }
        None => Vec::new(),
    };
    if who.email.as_deref().is_some_and(|e| owners.iter().any(|o| o.eq_ignore_ascii_case(e))) {
        return Ok(());
    }
    Err(WorkflowError::Forbidden("only the app's owners, it or an admin may complete a reclaim".into()))
}

/// Records a rejection's effect on the inventory (renewals only), for `decide`.
pub(super) fn after_rejection(conn: &mut Conn, who: &Decider, r: &mut Request) -> Result<()> {
    if let Some(details) = outcome::renewal_rejected(conn, &who.actor, r)? {
        r.outcome = Some(JsonText(details));
    }
    Ok(())
}
