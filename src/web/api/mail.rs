//! `/api/v1/jobs`, `/api/v1/outbox` and `/api/v1/mail/test`: is mail going out, and is the
//! scheduler running? The answers to "the alerts never arrived".

use super::views::{self, JobStatus, OutboxEntry};
use crate::context::Context;
use crate::db::DbError;
use crate::notify::{self, outbox, Email, OutboxStatus};
use crate::scheduler::leases;
use crate::web::access::{INVENTORY_WRITERS, OPERATORS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{Auth, Json, Query};
use crate::web::paging::{self, ListOf};
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};

/// Every scheduled job with its last run, outcome and next run.
#[utoipa::path(tag = "operations", description = "Roles: admin, it, auditor.",
    responses((status = 200, body = Vec<JobStatus>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/jobs")]
pub async fn jobs(ctx: web::Data<Context>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(OPERATORS)?;
    let rows = ctx.db.run(|c| leases::list(c).map_err(crate::db::DbError::from)).await?;
    Ok(HttpResponse::Ok().json(views::all::<_, JobStatus>(rows)))
}

/// Filters and paging for the outbox.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only in this status.
    status: Option<OutboxStatus>,
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

/// Emails queued, sent and failed, with the last error as advice.
#[utoipa::path(tag = "operations", params(OutboxQuery), description = "Roles: admin, it, auditor.",
    responses((status = 200, body = ListOf<OutboxEntry>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/outbox")]
pub async fn outbox_list(ctx: web::Data<Context>, auth: Auth, q: Query<OutboxQuery>) -> Result<HttpResponse, ApiError> {
    auth.require(OPERATORS)?;
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let (items, next) = ctx.db.run(move |c| outbox::list(c, q.status, page).map_err(crate::db::DbError::from)).await?;
    Ok(HttpResponse::Ok().json(paging::list_of(views::all::<_, OutboxEntry>(items), next)))
}

/// Where to send a test email.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestMail {
    /// The address to send to.
    to: String,
}

/// The outcome of a test email.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestMailResult {
    /// `sent`, or `failed` with the reason in `error`.
    status: String,
    /// The SMTP server's answer as advice, when it failed.
    error: Option<String>,
    /// The outbox row.
    outbox_id: notify::OutboxId,
}

/// Send a test email now through the outbox and report what the SMTP server said.
#[utoipa::path(tag = "operations", description = "Roles: admin, it.", request_body = TestMail,
    responses((status = 200, body = TestMailResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[post("/mail/test")]
pub async fn test_mail(ctx: web::Data<Context>, auth: Auth, body: Json<TestMail>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let mut to = body.parse()?.to;
    crate::inventory::validate::email("to", &mut to).map_err(|e| ApiError::invalid("to", e.message))?;
    let Some(mailer) = ctx.mailer.clone() else {
        return Err(ApiError::Unavailable("mail is not configured: set STACKWARD_SMTP_URL".into()));
    };
    let now = chrono::Utc::now();
    let actor = who.actor().0;
    let sender = ctx.db.run(move |c| crate::auth::names::of_actor(c, &actor).map_err(DbError::from)).await?;
    let ctx_json = serde_json::json!({"link": ctx.settings.public_url(), "sent_at": now.to_rfc3339(), "actor": sender});
    let (subject, text, html) = notify::render("test", &ctx_json).map_err(|e| {
        tracing::error!(error = %e, "test template");
        ApiError::Internal
    })?;
    let email = Email {
        key: format!("test:{}:{}", to, now.timestamp_nanos_opt().unwrap_or_default()),
        kind: "test".into(),
        to: vec![to],
        subject,
        text,
        html: Some(html),
    };
    let id = ctx
        .db
        .run(move |c| outbox::enqueue(c, &email).map_err(crate::db::DbError::from))
        .await?
        .ok_or(ApiError::Internal)?;
    let result = notify::deliver_one(&ctx.db, &mailer, id).await?;
    let (status, error) = match result {
        Some((_, Ok(()))) => ("sent".to_string(), None),
        Some((_, Err((e, _)))) => ("failed".to_string(), Some(e.to_string())),
        None => ("queued".to_string(), None),
    };
    Ok(HttpResponse::Ok().json(TestMailResult { status, error, outbox_id: id }))
}
