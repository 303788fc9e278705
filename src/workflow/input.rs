//! What a requester sends, checked per kind and completed from the inventory (the app,
//! subscription or finding a request names) into a request record.

use super::error::{Result, WorkflowError};
use super::model::{DataClass, Request, RequestId, RequestKind, RequestStatus};
use crate::db::{Conn, JsonText};
use crate::findings::FindingId;
use crate::inventory::validate::{self, Invalid};
use crate::inventory::{
    accounts, apps, subscriptions, AccountId, AppId, AppStatus, BillingFrequency, InventoryError, Subscription,
    SubscriptionFilter, SubscriptionId, SubscriptionStatus,
};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

/// A request as sent: `POST /api/v1/requests`, and the changed fields of a resubmission.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    /// new_tool, add_seats, renewal or reclaim (required when creating; cannot change).
    pub kind: Option<RequestKind>,
    /// new_tool: the tool's name.
    pub name: Option<String>,
    /// new_tool: who sells it.
    pub vendor: Option<String>,
    /// new_tool: its home page (http or https).
    pub website: Option<String>,
    /// Why it is needed (required for new_tool).
    pub purpose: Option<String>,
    /// Seats asked for (new_tool, add_seats: at least 1).
    pub seats: Option<i64>,
    /// Expected cost per year in minor units (new_tool: required; others: computed from the
    /// subscription's price when not given).
    pub annual_cost_cents: Option<i64>,
    /// ISO 4217 currency of the cost (new_tool: required).
    pub currency: Option<String>,
    /// The most sensitive data it will hold (new_tool: required; others default to internal).
    pub data_class: Option<DataClass>,
    /// When it is needed (renewal: default the notice deadline).
    #[serde(default, deserialize_with = "crate::time::date_opt::deserialize")]
    #[schema(value_type = Option<String>, format = Date)]
    pub needed_by: Option<NaiveDate>,
    /// add_seats: the app.
    #[schema(value_type = Option<String>)]
    pub app_id: Option<AppId>,
    /// add_seats: the subscription (default: the app's first active one); renewal: required.
    #[schema(value_type = Option<String>)]
    pub subscription_id: Option<SubscriptionId>,
    /// reclaim: the finding whose seats to take back.
    #[schema(value_type = Option<String>)]
    pub finding_id: Option<FindingId>,
    /// reclaim: the accounts to remove (default: every seat the finding names).
    #[schema(value_type = Option<Vec<String>>)]
    pub account_ids: Option<Vec<AccountId>>,
    /// new_tool: why the tools the advice names will not do.
    pub advice_response: Option<String>,
}

fn inv(e: Invalid) -> WorkflowError {
    WorkflowError::invalid(&e.field, e.message)
}

fn absent<T>(field: &str, value: &Option<T>, kind: RequestKind) -> Result<()> {
    match value {
        Some(_) => Err(WorkflowError::invalid(field, format!("is not used by {kind} requests"))),
        None => Ok(()),
    }
}

fn seats_at_least_one(seats: Option<i64>) -> Result<i64> {
    match seats {
        Some(s) if s > validate::MAX_SEATS => {
            Err(WorkflowError::invalid("seats", format!("must be at most {}", validate::MAX_SEATS)))
        }
        Some(s) if s >= 1 => Ok(s),
        Some(_) => Err(WorkflowError::invalid("seats", "must be at least 1")),
        None => Err(WorkflowError::invalid("seats", "is required: how many seats")),
    }
}

/// Yearly cost of `seats` seats of `s`, when its price and period say.
pub fn annual_cost(s: &Subscription, seats: i64) -> Option<i64> {
    let per_year = match s.billing_frequency {
        BillingFrequency::Monthly => 12,
        BillingFrequency::Annual => 1,
        // A multi-year or usage price says nothing certain about one year.
        BillingFrequency::MultiYear | BillingFrequency::Usage => return None,
    };
    s.unit_price_cents.and_then(|p| p.checked_mul(seats)).and_then(|c| c.checked_mul(per_year))
}

fn found<T>(field: &str, what: &str, r: std::result::Result<T, InventoryError>) -> Result<T> {
    match r {
        Ok(v) => Ok(v),
        Err(InventoryError::NotFound { id, .. }) => {
            Err(WorkflowError::invalid(field, format!("no {what} has id {id}")))
        }
        Err(e) => Err(e.into()),
    }
}

fn active_subscription(conn: &mut Conn, app: AppId, given: Option<SubscriptionId>) -> Result<Subscription> {
    if let Some(id) = given {
        let s = found("subscription_id", "subscription", subscriptions::find(conn, id))?;
        if s.app_id != app {
            return Err(WorkflowError::invalid("subscription_id", format!("subscription {id} is not for app {app}")));
        }
        if s.status != SubscriptionStatus::Active {
            return Err(WorkflowError::invalid("subscription_id", format!("subscription {id} is cancelled")));
        }
        return Ok(s);
    }
    let filter =
        SubscriptionFilter { app_id: Some(app), status: Some(SubscriptionStatus::Active), ..Default::default() };
    let (subs, _) = subscriptions::list(conn, &filter, crate::db::Page::first(1))?;
    subs.into_iter().next().ok_or_else(|| {
        WorkflowError::invalid("app_id", format!("app {app} has no active subscription to add seats to"))
    })
}

/// A new request record (not yet stored) from `input`, or `base` with `input`'s changes when
/// resubmitting. Category, known vendor and advice are filled in by the caller.
pub fn build(
    conn: &mut Conn,
    requester: &str,
    input: RequestInput,
    base: Option<&Request>,
    now: NaiveDateTime,
) -> Result<Request> {
    let mut r = match base {
        Some(b) => {
            if input.kind.is_some_and(|k| k != b.kind) {
                return Err(WorkflowError::invalid("kind", "cannot change; make a new request instead"));
            }
            b.clone()
        }
        None => {
            let kind = input.kind.ok_or_else(|| {
                WorkflowError::invalid("kind", "is required: new_tool, add_seats, renewal or reclaim")
            })?;
            blank(kind, requester, now)
        }
    };
    let kind = r.kind;
    // Another app on resubmission means its subscription is looked up afresh unless named.
    if base.is_some() && input.app_id.is_some_and(|a| Some(a) != r.app_id) && input.subscription_id.is_none() {
        r.subscription_id = None;
    }
    macro_rules! take {
        ($($f:ident),+) => { $(if let Some(v) = input.$f.clone() { r.$f = Some(v); })+ };
    }
    take!(name, vendor, website, purpose, seats, annual_cost_cents, currency, needed_by, app_id, subscription_id);
    take!(finding_id, advice_response);
    if let Some(d) = input.data_class {
        r.data_class = d;
    }
    if let Some(ids) = &input.account_ids {
        r.account_ids = JsonText(ids.clone());
    }
    validate::optional("purpose", &mut r.purpose).map_err(inv)?;
    validate::optional("advice_response", &mut r.advice_response).map_err(inv)?;
    validate::not_negative("annual_cost_cents", r.annual_cost_cents).map_err(inv)?;
    match kind {
        RequestKind::NewTool => new_tool(&mut r, &input)?,
        RequestKind::AddSeats => add_seats(conn, &mut r, &input)?,
        RequestKind::Renewal => renewal(conn, &mut r, &input)?,
        RequestKind::Reclaim => reclaim(conn, &mut r, &input)?,
    }
    Ok(r)
}

fn blank(kind: RequestKind, requester: &str, now: NaiveDateTime) -> Request {
    Request {
        id: RequestId(0),
        kind,
        status: RequestStatus::Pending,
        requester_email: requester.to_lowercase(),
        name: None,
        vendor: None,
        website: None,
        purpose: None,
        seats: None,
        annual_cost_cents: None,
        currency: None,
        data_class: DataClass::Internal,
        needed_by: None,
        app_id: None,
        subscription_id: None,
        finding_id: None,
        account_ids: JsonText::default(),
        category: String::new(),
        known_vendor: false,
        advice: None,
        advice_response: None,
        outcome: None,
        round: 1,
        policy_version: 0,
        created_at: now,
        updated_at: now,
        closed_at: None,
    }
}

fn new_tool(r: &mut Request, input: &RequestInput) -> Result<()> {
    let kind = r.kind;
    absent("app_id", &r.app_id, kind)?;
    absent("subscription_id", &r.subscription_id, kind)?;
    absent("finding_id", &r.finding_id, kind)?;
    absent("account_ids", &input.account_ids, kind)?;
    let mut name = r.name.clone().unwrap_or_default();
    validate::required("name", &mut name).map_err(inv)?;
    r.name = Some(name);
    validate::optional("vendor", &mut r.vendor).map_err(inv)?;
    validate::optional("website", &mut r.website).map_err(inv)?;
    if let Some(w) = &r.website {
        if url::Url::parse(w).map(|u| !matches!(u.scheme(), "http" | "https")).unwrap_or(true) {
            return Err(WorkflowError::invalid("website", format!("{w:?} is not an http(s) URL")));
        }
    }
    if r.purpose.is_none() {
        return Err(WorkflowError::invalid("purpose", "is required: what the tool is for"));
    }
    r.seats = Some(seats_at_least_one(r.seats)?);
    if r.annual_cost_cents.is_none() {
        return Err(WorkflowError::invalid("annual_cost_cents", "is required: the expected cost per year in cents"));
    }
    let mut currency = r
        .currency
        .clone()
        .ok_or_else(|| WorkflowError::invalid("currency", "is required: an ISO 4217 code such as USD"))?;
    validate::currency("currency", &mut currency).map_err(inv)?;
    r.currency = Some(currency);
    if input.data_class.is_none() && r.id.0 == 0 {
        return Err(WorkflowError::invalid("data_class", "is required: public, internal, confidential or restricted"));
    }
    Ok(())
}

fn no_tool_fields(r: &Request, input: &RequestInput) -> Result<()> {
    absent("name", &input.name, r.kind)?;
    absent("vendor", &input.vendor, r.kind)?;
    absent("website", &input.website, r.kind)?;
    absent("advice_response", &input.advice_response, r.kind)
}

fn add_seats(conn: &mut Conn, r: &mut Request, input: &RequestInput) -> Result<()> {
    no_tool_fields(r, input)?;
    absent("finding_id", &r.finding_id, r.kind)?;
    absent("account_ids", &input.account_ids, r.kind)?;
    let app_id = r.app_id.ok_or_else(|| WorkflowError::invalid("app_id", "is required: the app to add seats to"))?;
    let app = found("app_id", "app", apps::find(conn, app_id))?;
    if app.status == AppStatus::Retired {
        return Err(WorkflowError::invalid("app_id", format!("{} is retired", app.name)));
    }
    let seats = seats_at_least_one(r.seats)?;
    let sub = active_subscription(conn, app_id, r.subscription_id)?;
    r.subscription_id = Some(sub.id);
    r.name = Some(app.name.clone());
    r.vendor = app.vendor.clone();
    if r.annual_cost_cents.is_none() || input.seats.is_some() && input.annual_cost_cents.is_none() {
        r.annual_cost_cents = annual_cost(&sub, seats);
    }
    r.currency = Some(sub.currency.clone());
    r.known_vendor = true;
    Ok(())
}

fn renewal(conn: &mut Conn, r: &mut Request, input: &RequestInput) -> Result<()> {
    no_tool_fields(r, input)?;
    absent("finding_id", &r.finding_id, r.kind)?;
    absent("account_ids", &input.account_ids, r.kind)?;
    let id = r
        .subscription_id
        .ok_or_else(|| WorkflowError::invalid("subscription_id", "is required: the subscription to renew"))?;
    let sub = found("subscription_id", "subscription", subscriptions::find(conn, id))?;
    if r.app_id.is_some_and(|a| a != sub.app_id) {
        return Err(WorkflowError::invalid("app_id", format!("subscription {id} is not for app {}", sub.app_id)));
    }
    let sub = active_subscription(conn, sub.app_id, Some(id))?;
    let app = apps::find(conn, sub.app_id)?;
    r.app_id = Some(app.id);
    r.name = Some(app.name);
    r.vendor = app.vendor;
    if r.seats.is_none() {
        r.seats = sub.seats_purchased;
    }
    validate::at_most("seats", r.seats, validate::MAX_SEATS).map_err(inv)?;
    if r.annual_cost_cents.is_none() || input.seats.is_some() && input.annual_cost_cents.is_none() {
        r.annual_cost_cents = r.seats.and_then(|s| annual_cost(&sub, s));
    }
    // Decide by the notice deadline: after it, the contract renews (or ends) whatever is decided.
    if r.needed_by.is_none() {
        let notice = chrono::Days::new(u64::try_from(sub.notice_days.unwrap_or(0)).unwrap_or(0));
        r.needed_by = sub.opt_out_date.or_else(|| sub.term_end.and_then(|end| end.checked_sub_days(notice)));
    }
    r.currency = Some(sub.currency);
    r.known_vendor = true;
    Ok(())
}

fn reclaim(conn: &mut Conn, r: &mut Request, input: &RequestInput) -> Result<()> {
    no_tool_fields(r, input)?;
    absent("annual_cost_cents", &input.annual_cost_cents, r.kind)?;
    let Some(id) = r.finding_id else { return reclaim_seats(conn, r) };
    let finding = crate::findings::store::find(conn, id)?
        .ok_or_else(|| WorkflowError::invalid("finding_id", format!("no finding has id {id}")))?;
    let app_id = finding
        .app_id
        .ok_or_else(|| WorkflowError::invalid("finding_id", format!("finding {id} names no single app")))?;
    if r.app_id.is_some_and(|a| a != app_id) {
        return Err(WorkflowError::invalid("app_id", format!("finding {id} is about app {app_id}")));
    }
    let app = apps::find(conn, app_id)?;
    let ids = r.account_ids.0.clone();
    for a in &ids {
        let account = found("account_ids", "account", accounts::find(conn, *a))?;
        if account.app_id != app_id {
            return Err(WorkflowError::invalid("account_ids", format!("account {a} is not in {}", app.name)));
        }
    }
    r.app_id = Some(app_id);
    r.subscription_id = finding.subscription_id;
    r.name = Some(app.name);
    r.vendor = app.vendor;
    r.seats = if ids.is_empty() { finding.seats } else { Some(ids.len() as i64) };
    r.currency = finding.currency;
    r.known_vendor = true;
    Ok(())
}

/// A reclaim of named seats with no finding behind it (an access review's revocations): the
/// app and the accounts are required, and every account must be a live seat of that app.
fn reclaim_seats(conn: &mut Conn, r: &mut Request) -> Result<()> {
    let app_id = r.app_id.ok_or_else(|| {
        WorkflowError::invalid("finding_id", "is required: the finding to act on (or app_id with account_ids)")
    })?;
    let app = found("app_id", "app", apps::find(conn, app_id))?;
    let ids = r.account_ids.0.clone();
    if ids.is_empty() {
        return Err(WorkflowError::invalid("account_ids", "name the seats to reclaim when no finding_id is given"));
    }
    for a in &ids {
        let account = found("account_ids", "account", accounts::find(conn, *a))?;
        if account.app_id != app_id {
            return Err(WorkflowError::invalid("account_ids", format!("account {a} is not in {}", app.name)));
        }
    }
    r.subscription_id = None;
    r.name = Some(app.name);
    r.vendor = app.vendor;
    r.seats = Some(ids.len() as i64);
    r.known_vendor = true;
    Ok(())
}
