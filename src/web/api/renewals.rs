//! `/api/v1/renewals` and its iCalendar feed `/api/v1/renewals.ics`.

use crate::auth::{self, TokenScope};
use crate::context::Context;
use crate::renewals::calendar;
use crate::renewals::upcoming::{self, UpcomingRenewal};
use crate::web::access::INVENTORY_READERS;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{bearer_secret, Auth, Query};
use crate::web::paging::{self, ListOf};
use actix_web::{get, web, HttpRequest, HttpResponse};

/// Which renewals to list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RenewalQuery {
    /// Deadlines at most this many days away (0–3650, default 90); passed ones are included.
    within_days: Option<i64>,
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

/// Feed parameters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// A calendar token (`stackward token create --calendar`); it grants this feed only.
    token: Option<String>,
    /// Deadlines at most this many days away (default 3650: every renewing subscription, a
    /// multi-year contract's included).
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
    responses((status = 200, body = ListOf<UpcomingRenewal>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/renewals")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<RenewalQuery>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let q = q.parse()?;
    let days = horizon(q.within_days, 90)?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    // Listed in deadline order, not id order, so the cursor counts the rows already given.
    let rows = load(&ctx, days).await?;
    let skip = usize::try_from(page.after).unwrap_or(0);
    let limit = usize::try_from(page.limit).unwrap_or(1);
    let items: Vec<_> = rows.into_iter().skip(skip).take(limit + 1).collect();
    let (items, next) = match items.len() > limit {
        true => (items.into_iter().take(limit).collect(), i64::try_from(skip + limit).ok()),
        false => (items, None),
    };
    Ok(HttpResponse::Ok().json(paging::list_of(items, next)))
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
    // A bearer header holds either an API token of a reading role or the calendar token itself.
    let (secret, bearer) = match bearer_secret(&req)? {
        Some(secret) => (secret, true),
        None => match q.token {
            Some(secret) => (secret, false),
            None => {
                return Err(ApiError::Unauthorized(
                    "subscribe with ?token=CALENDAR_TOKEN or send a bearer token".into(),
                ))
            }
        },
    };
    let calendar = ctx.db.run(move |c| auth::authenticate(c, &secret, TokenScope::Calendar)).await?;
    let principal = match calendar {
        Some(p) if p.employee_only() => {
            return Err(ApiError::Forbidden("an employee token may not read the renewals calendar".into()))
        }
        Some(p) => p,
        None if bearer => Auth::from_request_parts(&req).await?.require(INVENTORY_READERS)?,
        None => return Err(ApiError::Unauthorized("the calendar token is unknown or revoked".into())),
    };
    let days = horizon(q.within_days, 3650)?;
    let rows = load(&ctx, days).await?;
    tracing::debug!(token = %principal.name, "calendar feed read");
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(calendar::feed(&rows, &ctx.settings.public_url())))
}

/// Apps whose data is stale or failing with a notice deadline within 60 days (the dashboard's
/// alert list), nearest deadline first.
#[utoipa::path(tag = "renewals", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Vec<crate::renewals::stale::StaleAlert>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[get("/stale-alerts")]
pub async fn stale_alerts(ctx: web::Data<Context>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let stages = crate::scheduler::reminder_settings(&ctx.settings).map_err(|e| {
        tracing::error!(error = %e, "reminder settings");
        ApiError::Internal
    })?;
    let today = chrono::Utc::now().date_naive();
    let rows = ctx
        .db
        .run(move |c| {
            crate::renewals::stale::stale_alerts(c, today, &stages.default_stages).map_err(crate::db::DbError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}
