//! `/api/v1/import/{kind}` and `/api/v1/export/{kind}`: CSV in and out of the inventory.

use crate::auth::Role;
use crate::context::Context;
use crate::inventory::transfer::{self, ImportReport, Kind};
use crate::web::access::{CONTRACT_WRITERS, INVENTORY_READERS, INVENTORY_WRITERS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::Auth;
use actix_web::{get, post, web, HttpResponse};

fn kind(raw: &str) -> Result<Kind, ApiError> {
    raw.parse().map_err(|e| ApiError::NotFound(format!("no CSV kind {raw:?}: {e}")))
}

fn writers(kind: Kind) -> &'static [Role] {
    match kind {
        Kind::Subscriptions => CONTRACT_WRITERS,
        Kind::Apps | Kind::People | Kind::Accounts => INVENTORY_WRITERS,
    }
}

/// Import CSV (header row first); all rows apply or none do, and errors name the row and column.
#[utoipa::path(tag = "csv", description = "Roles: admin, it; subscriptions: admin, finance. Columns are those the \
    export writes, any subset; subscriptions and accounts may name their app by `app` (name) instead of `app_id`, \
    and accounts their person by `person_email`.",
    params(("kind" = String, Path, description = "apps, subscriptions, people or accounts")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/import/{kind}")]
pub async fn import(
    ctx: web::Data<Context>,
    auth: Auth,
    kind_raw: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let kind = kind(&kind_raw)?;
    let who = auth.require(writers(kind))?;
    let report = ctx.db.run(move |c| transfer::import(c, &who.actor(), kind, &body[..])).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Export every record of a kind as CSV, in the format import reads back.
#[utoipa::path(tag = "csv", description = "Roles: admin, it, finance, security, approver, auditor.",
    params(("kind" = String, Path, description = "apps, subscriptions, people or accounts")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/export/{kind}")]
pub async fn export(
    ctx: web::Data<Context>,
    auth: Auth,
    kind_raw: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let kind = kind(&kind_raw)?;
    auth.require(INVENTORY_READERS)?;
    let csv = ctx
        .db
        .run(move |c| {
            let mut out = Vec::new();
            transfer::export(c, kind, &mut out).map(|_| out)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{kind}.csv\"")))
        .body(csv))
}
