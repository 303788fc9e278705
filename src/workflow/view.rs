//! A request as people and programs read it: the record, its current steps with their
//! approvers, and (for one request) its history; plus who may read which.

use super::advice::Advice;
use super::error::{Result, WorkflowError};
use super::model::{DataClass, Event, Request, RequestKind, RequestStatus, Step, StepStatus};
use super::routing::{self, Decider};
use super::store::{self, RequestFilter};
use crate::db::{Conn, JsonText};
use crate::findings::FindingId;
use crate::inventory::{AccountId, AppId, SubscriptionId};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

/// One step of the current round.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    /// The policy step's name.
    pub name: String,
    /// waiting, pending, approved, rejected, changes_requested or skipped.
    pub status: StepStatus,
    /// Who may decide: `person:EMAIL` or `role:ROLE` entries (admins may also decide, as an override).
    pub approvers: Vec<String>,
    /// Why it was skipped, went to a fallback, escalated or was overridden.
    pub note: Option<String>,
    /// When it became pending.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub pending_since: Option<NaiveDateTime>,
    /// When the approvers are (or were) reminded: pending_since + sla_hours.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub due_at: Option<NaiveDateTime>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub decided_at: Option<NaiveDateTime>,
    /// Their comment.
    pub comment: Option<String>,
}

impl From<&Step> for StepView {
    fn from(s: &Step) -> Self {
        StepView {
            name: s.name.clone(),
            status: s.status,
            approvers: s.approver_list(),
            note: s.note.clone(),
            pending_since: s.pending_since,
            due_at: s.pending_since.map(|p| p + chrono::Duration::hours(i64::from(s.sla_hours))),
            decided_by: s.decided_by.clone(),
            decided_at: s.decided_at,
            comment: s.comment.clone(),
        }
    }
}

/// A request with its current steps and, when read alone, its history.
#[derive(Debug, Clone, Serialize)]
pub struct RequestDetail {
    /// Request id.
    pub id: super::model::RequestId,
    /// new_tool, add_seats, renewal or reclaim.
    pub kind: RequestKind,
    /// pending, approved, rejected, changes_requested, cancelled or done.
    pub status: RequestStatus,
    /// Who asked.
    pub requester_email: String,
    /// Tool or app name.
    pub name: Option<String>,
    /// Vendor.
    pub vendor: Option<String>,
    /// Home page.
    pub website: Option<String>,
    /// Why it is needed.
    pub purpose: Option<String>,
    /// Seats asked for.
    pub seats: Option<i64>,
    /// Expected cost per year in minor units.
    pub annual_cost_cents: Option<i64>,
    /// Currency of the cost.
    pub currency: Option<String>,
    /// The most sensitive data it will hold.
    pub data_class: DataClass,
    /// When it is needed.
    pub needed_by: Option<NaiveDate>,
    /// The app concerned (for new_tool, once created).
    pub app_id: Option<AppId>,
    /// The subscription concerned.
    pub subscription_id: Option<SubscriptionId>,
    /// Reclaim: the finding.
    pub finding_id: Option<FindingId>,
    /// Reclaim: the accounts to remove.
    pub account_ids: Vec<AccountId>,
    /// Catalog category key, or "".
    pub category: String,
    /// True when the tool is in the catalog or the inventory.
    pub known_vendor: bool,
    /// New tool: what the stack already has in the category.
    pub advice: Option<Advice>,
    /// New tool: the requester's answer to the advice.
    pub advice_response: Option<String>,
    /// What the outcome did.
    pub outcome: Option<serde_json::Value>,
    /// Submission round (1, +1 per resubmission).
    pub round: i32,
    /// The policy version that routed this round (0 = built-in default).
    pub policy_version: i32,
    /// The current round's steps, in order.
    pub steps: Vec<StepView>,
    /// Every event, oldest first (only when one request is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Event>>,
    /// When it was made.
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: NaiveDateTime,
    /// When it last changed.
    #[serde(with = "crate::time::rfc3339")]
    pub updated_at: NaiveDateTime,
    /// When it closed.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub closed_at: Option<NaiveDateTime>,
}

/// The detail of `r` with `steps` (and `history` if given).
pub fn detail(r: &Request, steps: &[Step], history: Option<Vec<Event>>) -> RequestDetail {
    RequestDetail {
        id: r.id,
        kind: r.kind,
        status: r.status,
        requester_email: r.requester_email.clone(),
        name: r.name.clone(),
        vendor: r.vendor.clone(),
        website: r.website.clone(),
        purpose: r.purpose.clone(),
        seats: r.seats,
        annual_cost_cents: r.annual_cost_cents,
        currency: r.currency.clone(),
        data_class: r.data_class,
        needed_by: r.needed_by,
        app_id: r.app_id,
        subscription_id: r.subscription_id,
        finding_id: r.finding_id,
        account_ids: r.account_ids.0.clone(),
        category: r.category.clone(),
        known_vendor: r.known_vendor,
        advice: r.advice.clone().map(JsonText::into_inner),
        advice_response: r.advice_response.clone(),
        outcome: r.outcome.clone().map(JsonText::into_inner),
        round: r.round,
        policy_version: r.policy_version,
        steps: steps.iter().map(StepView::from).collect(),
        history,
        created_at: r.created_at,
        updated_at: r.updated_at,
        closed_at: r.closed_at,
    }
}

/// True when `who` may read `r`: every role but employee reads all; an employee reads their
/// own requests and those they are an approver of.
pub fn may_read(who: &Decider, r: &Request, steps: &[Step]) -> bool {
    who.reads_all() || who.is_requester(r) || steps.iter().any(|s| routing::is_approver(&s.approver_list(), who))
}

/// True when `r`'s current step waits for `who` (as an approver, not as an admin override).
pub fn waits_for(who: &Decider, r: &Request, steps: &[Step]) -> bool {
    r.status == RequestStatus::Pending
        && !who.is_requester(r)
        && steps.iter().any(|s| s.status == StepStatus::Pending && routing::is_approver(&s.approver_list(), who))
}

/// True when `who` owns the app `r` is about (an app owner is asked to act on reclaims).
fn owns_app(conn: &mut Conn, who: &Decider, r: &Request) -> Result<bool> {
    let (Some(email), Some(app)) = (who.email.as_deref(), r.app_id) else { return Ok(false) };
    let app = crate::inventory::apps::find(conn, app)?;
    let owners = [app.owner_email, app.technical_owner_email];
    Ok(owners.iter().flatten().any(|o| o.eq_ignore_ascii_case(email)))
}

/// One request with its history, if `who` may read it (also the owners of its app).
pub fn show(conn: &mut Conn, who: &Decider, id: super::model::RequestId) -> Result<RequestDetail> {
    let r = store::find(conn, id)?;
    let steps = store::steps(conn, id, r.round)?;
    if !may_read(who, &r, &steps) && !owns_app(conn, who, &r)? {
        return Err(WorkflowError::Forbidden("you may read only your own requests and those waiting for you".into()));
    }
    let history = store::history(conn, id)?;
    Ok(detail(&r, &steps, Some(history)))
}

/// How to narrow a list.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    /// Store filters.
    pub filter: RequestFilter,
    /// Only requests whose current step waits for the caller.
    pub waiting_for_me: bool,
    /// Only the caller's own requests.
    pub mine: bool,
    /// Most rows.
    pub limit: i64,
}

/// Requests `who` may read that match `q`, in id order, and the id to continue after.
pub fn list(conn: &mut Conn, who: &Decider, q: &ListQuery) -> Result<(Vec<RequestDetail>, Option<i64>)> {
    let mut filter = q.filter.clone();
    if q.mine {
        let Some(me) = &who.email else { return Ok((Vec::new(), None)) };
        filter.requester = Some(me.clone());
    }
    if q.waiting_for_me {
        // Only a pending request waits for anyone: the others need not be read.
        match filter.status {
            None => filter.status = Some(super::model::RequestStatus::Pending),
            Some(s) if s != super::model::RequestStatus::Pending => return Ok((Vec::new(), None)),
            Some(_) => {}
        }
    }
    let requests = store::list(conn, &filter)?;
    let mut steps_of = store::current_steps(conn, &requests)?;
    let mut out = Vec::new();
    for r in requests {
        let steps = steps_of.remove(&r.id).unwrap_or_default();
        if !may_read(who, &r, &steps) || q.waiting_for_me && !waits_for(who, &r, &steps) {
            continue;
        }
        if out.len() as i64 == q.limit {
            let last = out.last().map(|d: &RequestDetail| d.id.0);
            return Ok((out, last));
        }
        out.push(detail(&r, &steps, None));
    }
    Ok((out, None))
}
