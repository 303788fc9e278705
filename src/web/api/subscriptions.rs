//! `/api/v1/subscriptions`: contracts, their renewals and term history. Inventory readers
//! read; admin and finance change them. Cancelling replaces deleting.

use super::views::{self, Subscription, Term};
use crate::context::Context;
use crate::inventory::{
    subscriptions, AppId, Renewal, RenewalType, SubscriptionChanges, SubscriptionFilter, SubscriptionId,
    SubscriptionStatus,
};
use crate::savings::contracts;
use crate::web::access::{CONTRACT_WRITERS, INVENTORY_READERS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json, Query};
use crate::web::paging::{self, ListOf};
use actix_web::{delete, get, patch, post, web, HttpResponse};

/// Filters and paging for listing subscriptions.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionListQuery {
    /// Only this app's subscriptions.
    #[param(value_type = Option<String>)]
    app_id: Option<AppId>,
    /// Only in this status.
    status: Option<SubscriptionStatus>,
    /// Only with this renewal type.
    renewal_type: Option<RenewalType>,
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

/// List subscriptions.
#[utoipa::path(tag = "subscriptions", params(SubscriptionListQuery),
    description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = ListOf<Subscription>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/subscriptions")]
pub async fn list(
    ctx: web::Data<Context>,
    auth: Auth,
    q: Query<SubscriptionListQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let filter = SubscriptionFilter { app_id: q.app_id, status: q.status, renewal_type: q.renewal_type };
    let (items, next) = ctx.db.run(move |c| subscriptions::list(c, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(paging::list_of(views::all::<_, Subscription>(items), next)))
}

/// Get one subscription.
#[utoipa::path(tag = "subscriptions", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Subscription), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[get("/subscriptions/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let id: SubscriptionId = path_id("subscription", &id)?;
    let s = ctx.db.run(move |c| subscriptions::find(c, id)).await?;
    Ok(HttpResponse::Ok().json(Subscription::from(s)))
}

/// Create a subscription.
#[utoipa::path(tag = "subscriptions", description = "Roles: admin, finance.", request_body = SubscriptionChanges,
    responses((status = 201, body = Subscription), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[post("/subscriptions")]
pub async fn create(
    ctx: web::Data<Context>,
    auth: Auth,
    body: Json<SubscriptionChanges>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(CONTRACT_WRITERS)?;
    let changes = body.parse()?;
    let s = ctx.db.run(move |c| subscriptions::create(c, &who.actor(), changes)).await?;
    Ok(HttpResponse::Created().json(Subscription::from(s)))
}

/// Change a subscription within its current term; absent fields stay, `null` clears.
#[utoipa::path(tag = "subscriptions", description = "Roles: admin, finance.", request_body = SubscriptionChanges,
    responses((status = 200, body = Subscription), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[patch("/subscriptions/{id}")]
pub async fn update(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    body: Json<SubscriptionChanges>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(CONTRACT_WRITERS)?;
    let changes = body.parse()?;
    let id: SubscriptionId = path_id("subscription", &id)?;
    let s = ctx.db.run(move |c| contracts::update(c, &who.actor(), id, changes, None)).await?;
    Ok(HttpResponse::Ok().json(Subscription::from(s)))
}

/// Cancel a subscription; it stays readable with its terms. Never deletes.
#[utoipa::path(tag = "subscriptions", description = "Roles: admin, finance.",
    responses((status = 200, body = Subscription), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[delete("/subscriptions/{id}")]
pub async fn cancel(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(CONTRACT_WRITERS)?;
    let id: SubscriptionId = path_id("subscription", &id)?;
    let s = ctx.db.run(move |c| contracts::cancel(c, &who.actor(), id)).await?;
    Ok(HttpResponse::Ok().json(Subscription::from(s)))
}

/// Record a renewal: the current term goes to the history and the new term's figures apply.
#[utoipa::path(tag = "subscriptions", description = "Roles: admin, finance.", request_body = Renewal,
    responses((status = 200, body = Subscription), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/subscriptions/{id}/renewals")]
pub async fn renew(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    body: Json<Renewal>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(CONTRACT_WRITERS)?;
    let changes = body.parse()?;
    let id: SubscriptionId = path_id("subscription", &id)?;
    let s = ctx.db.run(move |c| contracts::renew(c, &who.actor(), id, changes)).await?;
    Ok(HttpResponse::Ok().json(Subscription::from(s)))
}

/// Every term of a subscription, oldest first, the current one last.
#[utoipa::path(tag = "subscriptions", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Vec<Term>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[get("/subscriptions/{id}/terms")]
pub async fn terms(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let id: SubscriptionId = path_id("subscription", &id)?;
    let terms = ctx.db.run(move |c| subscriptions::terms(c, id)).await?;
    Ok(HttpResponse::Ok().json(views::all::<_, Term>(terms)))
}
