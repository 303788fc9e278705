//! Request bodies as the API sends them: a request with its current steps and history.

use crate::findings::FindingId;
use crate::inventory::{AccountId, AppId, SubscriptionId};
use crate::workflow::{self, Advice, DataClass, RequestId, RequestKind, RequestStatus, StepStatus};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

/// A request with its current steps and, when read alone, its history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestDetail {
    /// Request id.
    #[schema(value_type = String)]
    pub id: RequestId,
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
    #[schema(value_type = Option<String>, format = Date)]
    pub needed_by: Option<NaiveDate>,
    /// The app concerned (for new_tool, once created).
    #[schema(value_type = Option<String>)]
    pub app_id: Option<AppId>,
    /// The subscription concerned.
    #[schema(value_type = Option<String>)]
    pub subscription_id: Option<SubscriptionId>,
    /// Reclaim: the finding.
    #[schema(value_type = Option<String>)]
    pub finding_id: Option<FindingId>,
    /// Reclaim: the accounts to remove.
    #[schema(value_type = Vec<String>)]
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
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<serde_json::Value>,
    /// Submission round (1, +1 per resubmission).
    pub round: i32,
    /// The policy version that routed this round (0 = built-in default).
    pub policy_version: i32,
    /// The current round's steps, in order.
    pub steps: Vec<Step>,
    /// Every event, oldest first (only when one request is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Event>>,
    /// When it was made.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// When it last changed.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
    /// When it closed.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<NaiveDateTime>,
}

impl From<workflow::RequestDetail> for RequestDetail {
    fn from(r: workflow::RequestDetail) -> Self {
        RequestDetail {
            id: r.id,
            kind: r.kind,
            status: r.status,
            requester_email: r.requester_email,
            name: r.name,
            vendor: r.vendor,
            website: r.website,
            purpose: r.purpose,
            seats: r.seats,
            annual_cost_cents: r.annual_cost_cents,
            currency: r.currency,
            data_class: r.data_class,
            needed_by: r.needed_by,
            app_id: r.app_id,
            subscription_id: r.subscription_id,
            finding_id: r.finding_id,
            account_ids: r.account_ids,
            category: r.category,
            known_vendor: r.known_vendor,
            advice: r.advice,
            advice_response: r.advice_response,
            outcome: r.outcome,
            round: r.round,
            policy_version: r.policy_version,
            steps: r.steps.into_iter().map(Step::from).collect(),
            history: r.history.map(|h| h.into_iter().map(Event::from).collect()),
            created_at: r.created_at,
            updated_at: r.updated_at,
            closed_at: r.closed_at,
        }
    }
}

/// One step of the current round.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Step {
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
    #[schema(value_type = Option<String>, format = DateTime)]
    pub pending_since: Option<NaiveDateTime>,
    /// When the approvers are (or were) reminded: pending_since + sla_hours.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<NaiveDateTime>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<NaiveDateTime>,
    /// Their comment.
    pub comment: Option<String>,
}

impl From<workflow::StepView> for Step {
    fn from(r: workflow::StepView) -> Self {
        Step {
            name: r.name,
            status: r.status,
            approvers: r.approvers,
            note: r.note,
            pending_since: r.pending_since,
            due_at: r.due_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            comment: r.comment,
        }
    }
}

/// One entry of a request's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    /// When it happened (UTC).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    /// Who did it: `token:NAME`, `cli:USER as EMAIL`, `job:request_slas`.
    pub actor: String,
    /// What happened: submitted, skipped, pending, approved, rejected, changes_requested,
    /// resubmitted, cancelled, reminded, escalated, expired, outcome, done.
    pub event: String,
    /// The step concerned.
    pub step: Option<String>,
    /// The comment given.
    pub comment: Option<String>,
    /// Details.
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl From<workflow::Event> for Event {
    fn from(r: workflow::Event) -> Self {
        Event {
            at: r.at,
            actor: r.actor,
            event: r.event,
            step: r.step,
            comment: r.comment,
            details: r.details.map(|d| d.into_inner()),
        }
    }
}
