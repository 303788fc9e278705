//! `POST /api/v1/usage`: last activity for seats of an app no connector reaches, from it, an
//! admin, or a token made only for this (scope `usage`).

use crate::auth::TokenScope;
use crate::context::Context;
use crate::inventory::usage::{self, UsagePush, UsageReport};
use crate::inventory::UsageSource;
use crate::web::access::USAGE_PUSHERS;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{authenticate, Auth, Json};
use actix_web::{post, web, HttpRequest, HttpResponse};

/// Push usage: up to 10,000 events applied forward only (a later time wins); unknown seats
/// are listed with their index, or created from their email with `create_seats`.
#[utoipa::path(tag = "usage", description = "Roles: admin, it. A token with the usage scope may push too, whatever its role.",
    request_body = UsagePush,
    responses((status = 200, body = UsageReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[post("/usage")]
pub async fn push(ctx: web::Data<Context>, req: HttpRequest, body: Json<UsagePush>) -> Result<HttpResponse, ApiError> {
    let (who, scope) = authenticate(&req, &[TokenScope::Api, TokenScope::Usage]).await?;
    let who = match scope {
        TokenScope::Usage => who,
        _ => Auth(who).require(USAGE_PUSHERS)?,
    };
    let push = body.parse()?;
    let report = ctx.db.run(move |c| usage::push(c, &who.actor(), push, UsageSource::Push)).await?;
    Ok(HttpResponse::Ok().json(report))
}
