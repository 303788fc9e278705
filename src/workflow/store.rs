//! Queries over requests, approval steps and request history. Callers own the transaction.

use super::error::{Result, WorkflowError};
use super::model::{Event, Request, RequestId, RequestKind, RequestStatus, Step, StepId, StepStatus};
use crate::db::schema::{approval_steps, request_events, requests};
use crate::db::{Conn, JsonText};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

/// Which requests to list (visibility is applied by the caller).
#[derive(Debug, Default, Clone)]
pub struct RequestFilter {
    /// Only in this status.
    pub status: Option<RequestStatus>,
    /// Only of this kind.
    pub kind: Option<RequestKind>,
    /// Only made by this email.
    pub requester: Option<String>,
    /// Only about this app.
    pub app_id: Option<crate::inventory::AppId>,
    /// Only with an id above this (keyset paging).
    pub after: i64,
}

/// Finds a request.
pub fn find(conn: &mut Conn, id: RequestId) -> Result<Request> {
    requests::table
        .find(id)
        .select(Request::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| WorkflowError::NotFound(format!("request {id} not found")))
}

/// Inserts a request and returns it with its id.
pub fn insert(conn: &mut Conn, r: &Request) -> Result<Request> {
    Ok(diesel::insert_into(requests::table).values(r).returning(requests::all_columns).get_result(conn)?)
}

/// Writes every field of `r`, stamping `updated_at` with `now`.
pub fn save(conn: &mut Conn, r: &Request, now: NaiveDateTime) -> Result<Request> {
    let mut r = r.clone();
    r.updated_at = now;
    Ok(diesel::update(requests::table.find(r.id)).set(&r).returning(requests::all_columns).get_result(conn)?)
}

/// Requests in id order matching `filter`.
pub fn list(conn: &mut Conn, filter: &RequestFilter) -> Result<Vec<Request>> {
    let mut q = requests::table.filter(requests::id.gt(filter.after)).into_boxed();
    if let Some(s) = filter.status {
        q = q.filter(requests::status.eq(s));
    }
    if let Some(k) = filter.kind {
        q = q.filter(requests::kind.eq(k));
    }
    if let Some(e) = &filter.requester {
        q = q.filter(requests::requester_email.eq(e.to_lowercase()));
    }
    if let Some(a) = filter.app_id {
        q = q.filter(requests::app_id.eq(a));
    }
    Ok(q.order(requests::id.asc()).select(Request::as_select()).load(conn)?)
}

/// The steps of one round of a request, in order.
pub fn steps(conn: &mut Conn, id: RequestId, round: i32) -> Result<Vec<Step>> {
    Ok(approval_steps::table
        .filter(approval_steps::request_id.eq(id))
        .filter(approval_steps::round.eq(round))
        .order(approval_steps::position.asc())
        .select(Step::as_select())
        .load(conn)?)
}

/// The steps of each request's current round, in order, read in a few statements for a whole list.
pub fn current_steps(conn: &mut Conn, requests: &[Request]) -> Result<HashMap<RequestId, Vec<Step>>> {
    let round_of: HashMap<RequestId, i32> = requests.iter().map(|r| (r.id, r.round)).collect();
    let ids: Vec<RequestId> = requests.iter().map(|r| r.id).collect();
    let mut out: HashMap<RequestId, Vec<Step>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Step> = approval_steps::table
            .filter(approval_steps::request_id.eq_any(chunk))
            .order((approval_steps::request_id.asc(), approval_steps::round.asc(), approval_steps::position.asc()))
            .select(Step::as_select())
            .load(conn)?;
        for s in rows.into_iter().filter(|s| round_of.get(&s.request_id) == Some(&s.round)) {
            out.entry(s.request_id).or_default().push(s);
        }
    }
    Ok(out)
}

/// Inserts the steps of a round.
pub fn insert_steps(conn: &mut Conn, steps: &[Step]) -> Result<Vec<Step>> {
    let mut out = Vec::with_capacity(steps.len());
    // One at a time: multi-row INSERT … RETURNING is not portable through the enum connection.
    for s in steps {
        out.push(
            diesel::insert_into(approval_steps::table)
                .values(s)
                .returning(approval_steps::all_columns)
                .get_result(conn)?,
        );
    }
    Ok(out)
}

/// Decides a pending step; false when it was no longer pending (another decision won the race).
pub fn decide_step(
    conn: &mut Conn,
    id: StepId,
    to: StepStatus,
    by: &str,
    comment: Option<&str>,
    note: Option<&str>,
    now: NaiveDateTime,
) -> Result<bool> {
    let n = diesel::update(approval_steps::table.find(id).filter(approval_steps::status.eq(StepStatus::Pending)))
        .set((
            approval_steps::status.eq(to),
            approval_steps::decided_at.eq(Some(now)),
            approval_steps::decided_by.eq(Some(by)),
            approval_steps::comment.eq(comment),
            approval_steps::note.eq(note),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Makes a waiting step pending from `now`.
pub fn open_step(conn: &mut Conn, id: StepId, now: NaiveDateTime) -> Result<()> {
    diesel::update(approval_steps::table.find(id))
        .set((approval_steps::status.eq(StepStatus::Pending), approval_steps::pending_since.eq(Some(now))))
        .execute(conn)?;
    Ok(())
}

/// Pending steps of pending requests not yet escalated, oldest first (for the SLA job).
/// Escalated steps need nothing more from the job, so they never crowd out the rest.
pub fn pending_steps(conn: &mut Conn, limit: i64) -> Result<Vec<Step>> {
    Ok(approval_steps::table
        .inner_join(requests::table)
        .filter(approval_steps::status.eq(StepStatus::Pending))
        .filter(approval_steps::escalated_at.is_null())
        .filter(requests::status.eq(RequestStatus::Pending))
        .filter(approval_steps::round.eq(requests::round))
        .order(approval_steps::pending_since.asc())
        .limit(limit)
        .select(Step::as_select())
        .load(conn)?)
}

/// Records a step's late reminder; false when another run recorded it first.
pub fn mark_reminded(conn: &mut Conn, id: StepId, now: NaiveDateTime) -> Result<bool> {
    let n = diesel::update(approval_steps::table.find(id).filter(approval_steps::reminded_at.is_null()))
        .set(approval_steps::reminded_at.eq(Some(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a step's escalation with its new approvers; false when another run did it first.
pub fn mark_escalated(
    conn: &mut Conn,
    id: StepId,
    approvers: &[String],
    note: &str,
    now: NaiveDateTime,
) -> Result<bool> {
    let n = diesel::update(approval_steps::table.find(id).filter(approval_steps::escalated_at.is_null()))
        .set((
            approval_steps::escalated_at.eq(Some(now)),
            approval_steps::approvers.eq(JsonText(approvers.to_vec())),
            approval_steps::note.eq(Some(note)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// What to write in a request's history.
#[derive(Debug, Clone, Default)]
pub struct NewEvent<'a> {
    /// What happened.
    pub event: &'a str,
    /// The step concerned.
    pub step: Option<&'a str>,
    /// The comment given.
    pub comment: Option<&'a str>,
    /// Details.
    pub details: Option<serde_json::Value>,
}

/// Appends to a request's history.
pub fn record_event(conn: &mut Conn, id: RequestId, actor: &str, e: NewEvent<'_>, now: NaiveDateTime) -> Result<()> {
    diesel::insert_into(request_events::table)
        .values((
            request_events::request_id.eq(id),
            request_events::at.eq(now),
            request_events::actor.eq(actor),
            request_events::event.eq(e.event),
            request_events::step.eq(e.step),
            request_events::comment.eq(e.comment),
            request_events::details.eq(e.details.map(JsonText)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A request's history, oldest first.
pub fn history(conn: &mut Conn, id: RequestId) -> Result<Vec<Event>> {
    Ok(request_events::table
        .filter(request_events::request_id.eq(id))
        .order(request_events::id.asc())
        .select(Event::as_select())
        .load(conn)?)
}

/// Requests waiting on their requester since before `cutoff` (for the SLA job).
pub fn stale_changes_requested(conn: &mut Conn, cutoff: NaiveDateTime, limit: i64) -> Result<Vec<Request>> {
    Ok(requests::table
        .filter(requests::status.eq(RequestStatus::ChangesRequested))
        .filter(requests::updated_at.lt(cutoff))
        .order(requests::id.asc())
        .limit(limit)
        .select(Request::as_select())
        .load(conn)?)
}
