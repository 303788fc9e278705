//! `/api/v1/renewals` and its iCalendar feed `/api/v1/renewals.ics`.

use crate::auth::{self, TokenScope};
use crate::context::Context;
use crate::renewals::calendar;
use crate::renewals::upcoming::{self, UpcomingRenewal};
use crate::web::access::INVENTORY_READERS;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{Auth, Query};
use actix_web::{get, web, HttpRequest, HttpResponse};

/// Which renewals to list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RenewalQuery {
    /// Deadlines at most this many days away (0–3650, default 90); passed ones are included.
    within_days: Option<i64>,
}

/// Feed parameters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// A calendar token (`stackward token create --calendar`); it grants this feed only.
    token: Option<String>,
    /// Deadlines at most this many days away (default 730).
    within_days: Option<i64>,
}

fn horizon(days: Option<i64>, default: i64) -> Result<i64, ApiError> {
    let days = days.unwrap_or(default);
    if !(0..=3650).contains(&days) {
        return Err(ApiError::invalid("within_days", "must be between 0 and 3650"));
    }
    Ok(days)
}

async fn load(ctx: &Context, days: i64) -> Result<Vec<UpcomingRenewal>, ApiError> {
    let stages = crate::scheduler::reminder_settings(&ctx.settings).map_err(|e| {
        tracing::error!(error = %e, "reminder settings");
        ApiError::Internal
    })?;
    let today = chrono::Utc::now().date_naive();
    let rows = ctx
        .db
        .run(move |c| upcoming::upcoming(c, today, days, &stages.default_stages).map_err(crate::db::DbError::from))
        .await?;
    Ok(rows)
}

/// Upcoming renewals: owner, cost, seats used and a recommendation, soonest notice deadline first.
#[utoipa::path(tag = "renewals", params(RenewalQuery), description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Vec<UpcomingRenewal>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/renewals")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<RenewalQuery>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let days = horizon(q.parse()?.within_days, 90)?;
    Ok(HttpResponse::Ok().json(load(&ctx, days).await?))
}

/// iCalendar feed of notice deadlines and renewal dates. A calendar app subscribes with
/// `?token=` holding a calendar token, which opens this feed and nothing else; a bearer API
/// token of a reading role works too.
#[utoipa::path(tag = "renewals", params(FeedQuery), description = "Roles: admin, it, finance, security, approver, auditor (or a calendar token).",
    responses((status = 200, content_type = "text/calendar", body = String), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/renewals.ics")]
pub async fn feed(ctx: web::Data<Context>, req: HttpRequest, q: Query<FeedQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.parse()?;
    let principal = match req.headers().get("authorization") {
        Some(_) => Auth::from_request_parts(&req).await?.require(INVENTORY_READERS)?,
        None => {
            let Some(secret) = q.token else {
                return Err(ApiError::Unauthorized(
                    "subscribe with ?token=CALENDAR_TOKEN or send a bearer token".into(),
                ));
            };
            let found = ctx.db.run(move |c| auth::authenticate(c, &secret, TokenScope::Calendar)).await?;
            let p = found.ok_or_else(|| ApiError::Unauthorized("the calendar token is unknown or revoked".into()))?;
            if p.employee_only() {
                return Err(ApiError::Forbidden("an employee token may not read the renewals calendar".into()));
            }
            p
        }
    };
    let days = horizon(q.within_days, 730)?;
    let rows = load(&ctx, days).await?;
    tracing::debug!(token = %principal.name, "calendar feed read");
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(calendar::feed(&rows, &ctx.settings.public_url())))
}
