//! A new tool after its last approval: the `it` step's people get a task (buy it, set it up,
//! record the contract's real figures), the request staying `approved` until they complete it;
//! completing writes those figures on the subscription the approval created and ends the
//! request `done`.

use super::error::{Result, WorkflowError};
use super::mail;
use super::model::Request;
use super::store;
use crate::db::{Conn, JsonText};
use crate::inventory::{subscriptions, SubscriptionChanges};
use chrono::NaiveDate;
use serde_json::json;

/// The step whose people provision an approved new tool.
const IT_STEP: &str = "it";

/// How a task is completed: a comment, and for a new tool the contract as signed.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteInput {
    /// What was done.
    pub comment: Option<String>,
    /// New tool: the real yearly price per seat, in minor units.
    pub unit_price_cents: Option<i64>,
    /// New tool: the price's ISO 4217 currency.
    pub currency: Option<String>,
    /// New tool: days of notice the contract needs before it renews.
    pub notice_days: Option<i32>,
    /// New tool: seats bought.
    pub seats: Option<i64>,
    /// New tool: first day of the contract term.
    #[schema(value_type = Option<String>, format = Date)]
    pub term_start: Option<NaiveDate>,
    /// New tool: last day of the contract term.
    #[schema(value_type = Option<String>, format = Date)]
    pub term_end: Option<NaiveDate>,
}

impl CompleteInput {
    /// The first contract figure given, by field name (a reclaim takes none).
    pub fn first_figure(&self) -> Option<&'static str> {
        [
            ("unit_price_cents", self.unit_price_cents.is_some()),
            ("currency", self.currency.is_some()),
            ("notice_days", self.notice_days.is_some()),
            ("seats", self.seats.is_some()),
            ("term_start", self.term_start.is_some()),
            ("term_end", self.term_end.is_some()),
        ]
        .into_iter()
        .find_map(|(name, given)| given.then_some(name))
    }
}

/// Mails the provisioning task for approved new tool `r` to its `it` step's people, adding
/// who was asked to `details` (the request's outcome).
pub fn task(conn: &mut Conn, public_url: &str, r: &Request, details: &mut serde_json::Value) -> Result<()> {
    let steps = store::steps(conn, r.id, r.round)?;
    let approvers = steps
        .iter()
        .find(|s| s.name == IT_STEP)
        .map(|s| s.approver_list())
        .unwrap_or_else(|| vec![format!("role:{IT_STEP}")]);
    let to = mail::addresses(conn, &approvers)?;
    if to.is_empty() {
        tracing::warn!(request = %r.id, "approved new tool: nobody holds the it step; an admin can complete it");
    } else {
        mail::provision_task(conn, public_url, r, to.clone())?;
    }
    details["task"] = json!(
        "it buys and sets up the tool, records the contract's price and notice period, and completes the request"
    );
    details["provisioners"] = json!(approvers);
    Ok(())
}

/// Records the contract figures `input` gives on the subscription approved new tool `r`
/// created; nothing is written when one is refused (the caller's transaction rolls back).
pub fn record(conn: &mut Conn, actor: &crate::audit::Actor, r: &mut Request, input: &CompleteInput) -> Result<()> {
    let id = r.subscription_id.ok_or_else(|| WorkflowError::invalid("subscription_id", "the request made none"))?;
    let currency = match input.currency.as_deref().map(str::trim) {
        Some("") => return Err(WorkflowError::invalid("currency", "must be an ISO 4217 code such as USD")),
        other => other.map(str::to_uppercase),
    };
    if input.unit_price_cents.is_some_and(|p| p < 0) {
        return Err(WorkflowError::invalid("unit_price_cents", "must not be negative"));
    }
    if input.seats.is_some_and(|s| s < 1) {
        return Err(WorkflowError::invalid("seats", "must be at least 1"));
    }
    let changes = SubscriptionChanges {
        unit_price_cents: input.unit_price_cents.map(Some),
        currency,
        notice_days: input.notice_days.map(Some),
        seats_purchased: input.seats.map(Some),
        term_start: input.term_start,
        term_end: input.term_end.map(Some),
        ..Default::default()
    };
    let sub = subscriptions::update(conn, actor, id, changes)?;
    let mut outcome = r.outcome.as_ref().map(|o| o.0.clone()).unwrap_or_else(|| json!({}));
    outcome["provisioned"] = json!({
        "subscription_id": sub.id, "seats_purchased": sub.seats_purchased, "unit_price_cents": sub.unit_price_cents,
        "currency": sub.currency, "notice_days": sub.notice_days, "term_start": sub.term_start, "term_end": sub.term_end,
    });
    r.outcome = Some(JsonText(outcome));
    Ok(())
}
