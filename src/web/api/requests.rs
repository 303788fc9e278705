//! `/api/v1/requests`: tool, seat, renewal and reclaim requests and their decisions. Anyone
//! whose token names a person may make one; employees read their own and those waiting for
//! them, other roles read all. Who may decide is checked per step, on every decision.

use super::views::{self, RequestDetail};
use crate::context::Context;
use crate::web::access::ANYONE;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json, Query};
use crate::web::paging::{self, ListOf};
use crate::workflow::{
    self, Advice, CompleteInput, Decider, DecisionInput, Env, ListQuery, RequestFilter, RequestId, RequestInput,
    RequestKind, RequestStatus,
};
use actix_web::{get, patch, post, web, HttpResponse};
use serde::Deserialize;

/// Filters and paging for requests.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// Only in this status.
    status: Option<RequestStatus>,
    /// Only of this kind.
    kind: Option<RequestKind>,
    /// `me`: only requests whose current step waits for you.
    waiting_for: Option<String>,
    /// `true`: only your own requests.
    mine: Option<bool>,
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

fn env_parts(ctx: &Context) -> (std::sync::Arc<crate::catalog::Catalog>, String, i32) {
    (ctx.catalog.clone(), ctx.settings.public_url(), i32::from(ctx.settings.default_notice_days))
}

/// Make a request (the requester is the token's email); answers with its advice and steps.
#[utoipa::path(tag = "requests", description = "Roles: any whose token names a person (an email).",
    request_body = RequestInput,
    responses((status = 201, body = RequestDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[post("/requests")]
pub async fn create(ctx: web::Data<Context>, auth: Auth, body: Json<RequestInput>) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(ANYONE)?);
    let input = body.parse()?;
    let (catalog, url, notice) = env_parts(&ctx);
    let now = crate::time::now();
    let r = ctx
        .db
        .run(move |c| {
            let env = Env { catalog: &catalog, public_url: &url, default_notice_days: notice };
            workflow::submit(c, env, &who, input, now)
        })
        .await?;
    Ok(HttpResponse::Created().json(RequestDetail::from(r)))
}

/// The advice a new tool request would get (what the stack already has), making nothing.
#[utoipa::path(tag = "requests", description = "Roles: any whose token names a person (an email).",
    request_body = RequestInput,
    responses((status = 200, body = Option<Advice>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[post("/requests/advice")]
pub async fn advice(ctx: web::Data<Context>, auth: Auth, body: Json<RequestInput>) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(ANYONE)?);
    let input = body.parse()?;
    let (catalog, url, notice) = env_parts(&ctx);
    let now = crate::time::now();
    let a = ctx
        .db
        .run(move |c| {
            let env = Env { catalog: &catalog, public_url: &url, default_notice_days: notice };
            workflow::preview_advice(c, env, &who, input, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(a))
}

/// Requests you may read: employees their own and those waiting for them; other roles all.
#[utoipa::path(tag = "requests", params(RequestQuery), description = "Roles: any; employee: own requests and those waiting for them.",
    responses((status = 200, body = ListOf<RequestDetail>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[get("/requests")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<RequestQuery>) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(ANYONE)?);
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let waiting_for_me = match q.waiting_for.as_deref() {
        None => false,
        Some("me") => true,
        Some(_) => return Err(ApiError::invalid("waiting_for", "the only value is `me`")),
    };
    let query = ListQuery {
        filter: RequestFilter { status: q.status, kind: q.kind, requester: None, after: page.after, app_id: None },
        waiting_for_me,
        mine: q.mine.unwrap_or(false),
        limit: page.limit,
    };
    let (items, next) = ctx.db.run(move |c| workflow::list(c, &who, &query)).await?;
    Ok(HttpResponse::Ok().json(paging::list_of(views::all::<_, RequestDetail>(items), next)))
}

/// One request with its steps and history.
#[utoipa::path(tag = "requests", description = "Roles: any; employee: own requests, those they are an approver of, and those about an app they own.",
    responses((status = 200, body = RequestDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[get("/requests/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(ANYONE)?);
    let id: RequestId = path_id("request", &id)?;
    let r = ctx.db.run(move |c| workflow::show(c, &who, id)).await?;
    Ok(HttpResponse::Ok().json(RequestDetail::from(r)))
}

/// Change a request after changes were asked for, and send it again (steps restart).
#[utoipa::path(tag = "requests", description = "Roles: any; only the requester, while changes_requested.",
    request_body = RequestInput,
    responses((status = 200, body = RequestDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[patch("/requests/{id}")]
pub async fn resubmit(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    body: Json<RequestInput>,
) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(ANYONE)?);
    let input = body.parse()?;
    let id: RequestId = path_id("request", &id)?;
    let (catalog, url, notice) = env_parts(&ctx);
    let now = crate::time::now();
    let r = ctx
        .db
        .run(move |c| {
            let env = Env { catalog: &catalog, public_url: &url, default_notice_days: notice };
            workflow::resubmit(c, env, &who, id, input, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(RequestDetail::from(r)))
}

/// Approve, reject or ask for changes at the current step, with a comment.
#[utoipa::path(tag = "requests", description = "Roles: any; only the current step's approvers (person or role), \
    or an admin as a recorded override; never the requester.",
    request_body = DecisionInput,
    responses((status = 200, body = RequestDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/requests/{id}/decisions")]
pub async fn decide(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    body: Json<DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(ANYONE)?);
    let input = body.parse()?;
    let id: RequestId = path_id("request", &id)?;
    let (catalog, url, notice) = env_parts(&ctx);
    let now = crate::time::now();
    let r = ctx
        .db
        .run(move |c| {
            let env = Env { catalog: &catalog, public_url: &url, default_notice_days: notice };
            workflow::decide(c, env, &who, id, input, now)
        })
        .await?;
    if r.kind == crate::workflow::RequestKind::Reclaim && r.status == crate::workflow::RequestStatus::Approved {
        // The connector's reclaim runs in the background; the scheduler retries it if this process stops.
        let ctx = ctx.get_ref().clone();
        tokio::spawn(async move {
            if let Err(e) = crate::actions::run_queued(&ctx).await {
                tracing::error!(error = %e, "reclaim through the connector failed");
            }
        });
    }
    Ok(HttpResponse::Ok().json(RequestDetail::from(r)))
}

/// Withdraw a pending request or one waiting for changes.
#[utoipa::path(tag = "requests", description = "Roles: any; only the requester or an admin.",
    responses((status = 200, body = RequestDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/requests/{id}/cancel")]
pub async fn cancel(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(ANYONE)?);
    let id: RequestId = path_id("request", &id)?;
    let (catalog, url, notice) = env_parts(&ctx);
    let now = crate::time::now();
    let r = ctx
        .db
        .run(move |c| {
            let env = Env { catalog: &catalog, public_url: &url, default_notice_days: notice };
            workflow::cancel(c, env, &who, id, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(RequestDetail::from(r)))
}

/// Complete an approved request's task: a reclaim once its seats are removed, a new tool once
/// it is bought and set up, with the contract's real price, seats, term and notice period.
#[utoipa::path(tag = "requests", description = "Roles: any; a reclaim: only it, an admin or the app's owners; \
    a new tool: only it or an admin. Contract figures are for a new tool only.",
    request_body = Option<CompleteInput>,
    responses((status = 200, body = RequestDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/requests/{id}/complete")]
pub async fn complete(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    body: Json<CompleteInput>,
) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(ANYONE)?);
    let input = body.parse_optional()?.unwrap_or_default();
    let id: RequestId = path_id("request", &id)?;
    let (catalog, url, notice) = env_parts(&ctx);
    let now = crate::time::now();
    let r = ctx
        .db
        .run(move |c| {
            let env = Env { catalog: &catalog, public_url: &url, default_notice_days: notice };
            workflow::complete(c, env, &who, id, input, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(RequestDetail::from(r)))
}
