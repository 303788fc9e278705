//! The workflow's records: requests, their approval steps and their history, with the enums
//! they are made of.

use super::advice::Advice;
use crate::db::schema::{approval_steps, request_events, requests};
use crate::db::JsonText;
use crate::findings::FindingId;
use crate::inventory::{AccountId, AppId, SubscriptionId};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

crate::id_type!(
    /// Id of a request.
    RequestId
);

crate::id_type!(
    /// Id of an approval step.
    StepId
);

crate::text_enum!(
    /// What a request asks for.
    RequestKind {
        /// A tool the stack does not have yet.
        NewTool => "new_tool",
        /// More seats of an app the stack has.
        AddSeats => "add_seats",
        /// Renewing a subscription at its notice deadline.
        Renewal => "renewal",
        /// Taking back seats a finding names.
        Reclaim => "reclaim",
    }
);

crate::text_enum!(
    /// Where a request stands.
    RequestStatus {
        /// Waiting for a step's decision.
        Pending => "pending",
        /// Every step approved; the outcome waits for someone (a reclaim's removals, a new tool's provisioning).
        Approved => "approved",
        /// A step rejected it.
        Rejected => "rejected",
        /// A step asked the requester for changes.
        ChangesRequested => "changes_requested",
        /// Withdrawn by the requester, or closed after waiting too long for changes.
        Cancelled => "cancelled",
        /// Approved and carried out in the inventory.
        Done => "done",
    }
);

impl RequestStatus {
    /// True when no decision can change the request any more.
    pub fn is_closed(self) -> bool {
        matches!(self, RequestStatus::Rejected | RequestStatus::Cancelled | RequestStatus::Done)
    }
}

crate::text_enum!(
    /// Where an approval step stands.
    StepStatus {
        /// Not reached yet: an earlier step decides first.
        Waiting => "waiting",
        /// Waiting for its approvers.
        Pending => "pending",
        /// Approved.
        Approved => "approved",
        /// Rejected; the request ended here.
        Rejected => "rejected",
        /// Sent back to the requester for changes.
        ChangesRequested => "changes_requested",
        /// Its condition was false for this request.
        Skipped => "skipped",
    }
);

crate::text_enum!(
    /// How sensitive the data a tool will hold is.
    DataClass {
        /// Meant for anyone.
        Public => "public",
        /// Company-internal.
        Internal => "internal",
        /// Customer or employee data, contracts.
        Confidential => "confidential",
        /// Regulated or secret data.
        Restricted => "restricted",
    }
);

crate::text_enum!(
    /// What an approver decides on a step.
    Decision {
        /// Go on to the next step.
        Approve => "approve",
        /// End the request.
        Reject => "reject",
        /// Send it back to the requester.
        RequestChanges => "request_changes",
    }
);

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = requests, treat_none_as_null = true)]
pub struct Request {
    /// Request id.
    #[diesel(skip_insertion)]
    pub id: RequestId,
    /// What it asks for.
    pub kind: RequestKind,
    /// Where it stands.
    pub status: RequestStatus,
    /// Who asked (the token's email), lower-case.
    pub requester_email: String,
    /// New tool: its name.
    pub name: Option<String>,
    /// New tool: who sells it.
    pub vendor: Option<String>,
    /// New tool: its home page.
    pub website: Option<String>,
    /// Why it is needed.
    pub purpose: Option<String>,
    /// Seats asked for.
    pub seats: Option<i64>,
    /// Expected cost per year, in minor units of `currency`.
    pub annual_cost_cents: Option<i64>,
    /// ISO 4217 currency of the cost.
    pub currency: Option<String>,
    /// The most sensitive data it will hold.
    pub data_class: DataClass,
    /// When it is needed.
    pub needed_by: Option<NaiveDate>,
    /// The app concerned (add_seats, renewal, reclaim; new_tool once created).
    pub app_id: Option<AppId>,
    /// The subscription concerned.
    pub subscription_id: Option<SubscriptionId>,
    /// Reclaim: the finding it acts on.
    pub finding_id: Option<FindingId>,
    /// Reclaim: the accounts to remove, stored as a JSON list of ids.
    pub account_ids: JsonText<Vec<AccountId>>,
    /// Catalog category key (`whiteboard`), or "" when unknown.
    pub category: String,
    /// True when the tool or vendor is in the catalog or the inventory.
    pub known_vendor: bool,
    /// New tool: what the stack already has in the category.
    pub advice: Option<JsonText<Advice>>,
    /// New tool: the requester's answer to the advice.
    pub advice_response: Option<String>,
    /// What the outcome did in the inventory.
    pub outcome: Option<JsonText<serde_json::Value>>,
    /// Submission round: 1, then +1 at each resubmission.
    pub round: i32,
    /// The policy version that routed the current round (0 = the built-in default).
    pub policy_version: i32,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// When it last changed.
    pub updated_at: NaiveDateTime,
    /// When it was closed (rejected, cancelled, done).
    pub closed_at: Option<NaiveDateTime>,
}

/// One approval step of one round of a request.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = approval_steps)]
pub struct Step {
    /// Step id.
    #[diesel(skip_insertion)]
    pub id: StepId,
    /// The request.
    pub request_id: RequestId,
    /// The round it belongs to.
    pub round: i32,
    /// Order within the round, from 0.
    pub position: i32,
    /// The policy step's name.
    pub name: String,
    /// Where it stands.
    pub status: StepStatus,
    /// Who may decide: `person:EMAIL` and `role:ROLE` entries, stored as a JSON list.
    pub approvers: JsonText<Vec<String>>,
    /// Why it was skipped, escalated or overridden.
    pub note: Option<String>,
    /// Hours before the approvers are reminded.
    pub sla_hours: i32,
    /// Hours before the step escalates to the fallback role.
    pub escalate_after_hours: i32,
    /// The role it escalates to.
    pub fallback: String,
    /// When it became pending.
    pub pending_since: Option<NaiveDateTime>,
    /// When it was decided.
    pub decided_at: Option<NaiveDateTime>,
    /// Who decided (the actor).
    pub decided_by: Option<String>,
    /// The decision's comment.
    pub comment: Option<String>,
    /// When the late reminder was queued.
    pub reminded_at: Option<NaiveDateTime>,
    /// When it escalated.
    pub escalated_at: Option<NaiveDateTime>,
}

impl Step {
    /// The approvers as a list.
    pub fn approver_list(&self) -> Vec<String> {
        self.approvers.0.clone()
    }
}

/// One entry of a request's history.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = request_events)]
pub struct Event {
    /// Entry id.
    #[serde(skip)]
    pub id: i64,
    /// The request.
    #[serde(skip)]
    pub request_id: RequestId,
    /// When it happened (UTC).
    #[serde(with = "crate::time::rfc3339")]
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
    pub details: Option<JsonText<serde_json::Value>>,
}
