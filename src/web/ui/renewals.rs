//! `/renewals`: notice deadlines as a list by month with cost, seats used and the
//! recommendation; the owner's decision (keep, reduce seats, cancel) goes in as a renewal
//! request that the approval policy routes; and the iCalendar subscription link.

use super::act;
use super::error::PageError;
use super::forms::{self, Form};
use super::render;
use super::viewer::Viewer;
use crate::context::Context;
use crate::inventory::SubscriptionId;
use crate::renewals::upcoming::{self, UpcomingRenewal};
use crate::web::access::{CONTRACT_WRITERS, INVENTORY_READERS};
use crate::web::extract::path_id;
use crate::workflow::{self, RequestInput, RequestKind};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// Days ahead the page looks unless asked.
const DEFAULT_DAYS: i64 = 365;

#[derive(Debug, Default, Deserialize)]
struct RenewalsQuery {
    within_days: Option<i64>,
}

/// One renewal and whether the viewer may decide it.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    renewal: UpcomingRenewal,
    may_decide: bool,
}

/// The renewals of one month.
#[derive(Debug, Serialize)]
struct Month {
    month: String,
    renewals: Vec<Row>,
}

/// The renewals list by month.
#[get("/renewals")]
pub async fn list(ctx: web::Data<Context>, viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, PageError> {
    viewer.require(INVENTORY_READERS)?;
    let q: RenewalsQuery = forms::query(&req)?;
    let days = q.within_days.unwrap_or(DEFAULT_DAYS);
    if !(0..=3650).contains(&days) {
        return Err(PageError::Invalid {
            field: Some("within_days".into()),
            message: "must be between 0 and 3650".into(),
        });
    }
    let stages = crate::scheduler::reminder_settings(&ctx.settings).map_err(|e| {
        tracing::error!(error = %e, "reminder settings");
        PageError::Internal
    })?;
    let today = chrono::Utc::now().date_naive();
    let rows = ctx
        .db
        .run(move |c| upcoming::upcoming(c, today, days, &stages.default_stages).map_err(PageError::from))
        .await?;
    let writer = viewer.has_any(CONTRACT_WRITERS);
    let mut months: Vec<Month> = Vec::new();
    for r in rows {
        let month = r.notice_deadline.format("%B %Y").to_string();
        let owner = r.owner_email.iter().chain(r.app_owner_emails.iter()).any(|o| viewer.is(o));
        let row = Row { may_decide: writer || owner, renewal: r };
        match months.last_mut() {
            Some(m) if m.month == month => m.renewals.push(row),
            _ => months.push(Month { month, renewals: vec![row] }),
        }
    }
    let feed = format!("{}/api/v1/renewals.ics?token=CALENDAR_TOKEN", ctx.settings.public_url());
    let ctx = minijinja::context! {
        title => "Renewals", active => "/renewals", months, days, feed,
        token_admin => viewer.has_any(crate::web::access::TOKEN_ADMINS),
    };
    render::page(&viewer, "renewals.html", ctx)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Choice {
    Keep,
    Reduce,
    Cancel,
}

#[derive(Debug, Deserialize)]
struct DecisionForm {
    decision: Choice,
    seats: Option<i64>,
    comment: Option<String>,
}

/// The owner's decision on a renewal, sent as a renewal request.
#[post("/renewals/{subscription_id}/decision")]
pub async fn decide(
    ctx: web::Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(INVENTORY_READERS)?;
    let f: DecisionForm = form.parse(&viewer)?;
    let id: SubscriptionId = path_id("subscription", &id)?;
    let (seats, what) = match f.decision {
        Choice::Keep => (None, "Keep: renew as it is.".to_string()),
        Choice::Reduce => {
            let n = f.seats.ok_or_else(|| PageError::Invalid {
                field: Some("seats".into()),
                message: "is required: how many seats to renew with".into(),
            })?;
            (Some(n), format!("Reduce seats: renew with {n}."))
        }
        Choice::Cancel => (Some(0), "Cancel: do not renew.".to_string()),
    };
    let purpose = match f.comment {
        Some(c) => format!("{what} {c}"),
        None => what,
    };
    let input = RequestInput {
        kind: Some(RequestKind::Renewal),
        subscription_id: Some(id),
        seats,
        purpose: Some(purpose),
        ..Default::default()
    };
    let r = act::as_viewer(&ctx, &viewer, move |c, env, who, now| workflow::submit(c, env, who, input, now)).await?;
    Ok(render::see_other(&format!("/requests/{}", r.id)))
}
