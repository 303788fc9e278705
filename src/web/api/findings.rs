//! `/api/v1/findings`: waste and risk with their savings; triage (acknowledge, dismiss, snooze),
//! refresh, totals and exclusions.

use super::views::{self, Account, ExclusionRecord, Finding};
use crate::context::Context;
use crate::db::DbError;
use crate::findings::exclusions::{self, NewExclusion};
use crate::findings::store::{self, FindingFilter, FindingUpdate};
use crate::findings::subjects;
use crate::findings::summary::Totals;
use crate::findings::{self, FindingId, FindingKind, FindingStatus, RefreshReport};
use crate::inventory::AppId;
use crate::web::access::{FINDING_TRIAGERS, INVENTORY_READERS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json, Query};
use crate::web::paging::{self, ListOf};
use actix_web::{delete, get, patch, post, web, HttpResponse};

/// Filters and paging for findings.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FindingQuery {
    /// Only this kind.
    kind: Option<FindingKind>,
    /// Only this app's.
    #[param(value_type = Option<String>)]
    app_id: Option<AppId>,
    /// Only in this status.
    status: Option<FindingStatus>,
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

/// Paging for a finding's seats.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeatPageQuery {
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Findings, largest annual savings first (unknown savings last). In the list, each evidence
/// array keeps its first 10 items and `<name>_total` gives its length; `GET /findings/{id}`
/// has the whole evidence.
#[utoipa::path(tag = "findings", params(FindingQuery), description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = ListOf<Finding>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[get("/findings")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<FindingQuery>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let filter = FindingFilter { kind: q.kind, app_id: q.app_id, status: q.status, to_act_on: false };
    let (items, next) = ctx.db.run(move |c| store::list_page(c, &filter, page).map_err(DbError::from)).await?;
    Ok(HttpResponse::Ok().json(paging::list_of(views::all::<_, Finding>(items), next)))
}

/// Savings still to be had (open and acknowledged findings): overall, per app (with its name),
/// per category (the app's, else the catalog's), each seat counted once, and how many findings
/// were de-duplicated.
#[utoipa::path(tag = "findings", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Totals), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/findings/summary")]
pub async fn summary(ctx: web::Data<Context>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let catalog = ctx.catalog.clone();
    let totals =
        ctx.db.run(move |c| crate::findings::summary::summary(c, Some(&catalog)).map_err(DbError::from)).await?;
    Ok(HttpResponse::Ok().json(totals))
}

/// One finding with its evidence.
#[utoipa::path(tag = "findings", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Finding), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[get("/findings/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let id: FindingId = path_id("finding", &id)?;
    let found = ctx.db.run(move |c| store::find(c, id).map_err(DbError::from)).await?;
    found
        .map(|f| HttpResponse::Ok().json(Finding::from(f)))
        .ok_or_else(|| ApiError::NotFound(format!("finding {id} not found")))
}

/// The seats a finding names, as account records in id order: an idle-seat finding can name every
/// seat of an app, which its list entry cuts to the first 10.
#[utoipa::path(tag = "findings", params(SeatPageQuery), description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = ListOf<Account>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/findings/{id}/accounts")]
pub async fn accounts(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    q: Query<SeatPageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let id: FindingId = path_id("finding", &id)?;
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let found = ctx.db.run(move |c| subjects::accounts_of(c, id, page).map_err(DbError::from)).await?;
    let (items, next) = found.ok_or_else(|| ApiError::NotFound(format!("finding {id} not found")))?;
    Ok(HttpResponse::Ok().json(paging::list_of(views::all::<_, Account>(items), next)))
}

/// Acknowledge, dismiss (with a reason), snooze (until a day) or reopen a finding.
#[utoipa::path(tag = "findings", description = "Roles: admin, it, finance.", request_body = FindingUpdate,
    responses((status = 200, body = Finding), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[patch("/findings/{id}")]
pub async fn update(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    body: Json<FindingUpdate>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(FINDING_TRIAGERS)?;
    let changes = body.parse()?;
    let id: FindingId = path_id("finding", &id)?;
    let f = ctx.db.run(move |c| store::update(c, &who.actor(), id, changes, today())).await?;
    Ok(HttpResponse::Ok().json(Finding::from(f)))
}

/// Run every rule now.
#[utoipa::path(tag = "findings", description = "Roles: admin, it, finance.",
    responses((status = 200, body = RefreshReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/findings/refresh")]
pub async fn refresh(ctx: web::Data<Context>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(FINDING_TRIAGERS)?;
    let report = findings::refresh_now(&ctx, today()).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Apps and accounts the rules leave out.
#[utoipa::path(tag = "findings", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Vec<ExclusionRecord>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/findings/exclusions")]
pub async fn exclusions_list(ctx: web::Data<Context>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let rows = ctx.db.run(|c| exclusions::list(c).map_err(DbError::from)).await?;
    Ok(HttpResponse::Ok().json(views::all::<_, ExclusionRecord>(rows)))
}

/// Leave an app or account (e.g. a service account) out of one kind of finding or all.
#[utoipa::path(tag = "findings", description = "Roles: admin, it, finance.", request_body = NewExclusion,
    responses((status = 201, body = ExclusionRecord), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[post("/findings/exclusions")]
pub async fn exclusions_add(
    ctx: web::Data<Context>,
    auth: Auth,
    body: Json<NewExclusion>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(FINDING_TRIAGERS)?;
    let changes = body.parse()?;
    let rec = ctx.db.run(move |c| exclusions::add(c, &who.actor(), changes)).await?;
    Ok(HttpResponse::Created().json(ExclusionRecord::from(rec)))
}

/// Stop excluding; the next refresh judges the app or account again.
#[utoipa::path(tag = "findings", description = "Roles: admin, it, finance.",
    responses((status = 200, body = ExclusionRecord), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[delete("/findings/exclusions/{id}")]
pub async fn exclusions_remove(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(FINDING_TRIAGERS)?;
    let id: i64 = path_id("exclusion", &id)?;
    let rec = ctx.db.run(move |c| exclusions::remove(c, &who.actor(), id)).await?;
    Ok(HttpResponse::Ok().json(ExclusionRecord::from(rec)))
}
