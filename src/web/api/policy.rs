//! `/api/v1/policy`: the approval policy in force (TOML), which an admin may replace. A policy
//! that does not load is refused with its line and reason, and the old one stays in force.

use crate::context::Context;
use crate::web::access::{INVENTORY_READERS, POLICY_ADMINS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::Auth;
use crate::workflow::{self, Policy};
use actix_web::{get, put, web, HttpResponse};

/// The policy in force: its version (0 = built-in default), TOML text and parsed steps.
#[utoipa::path(tag = "requests", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Policy), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/policy")]
pub async fn get(ctx: web::Data<Context>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let p = ctx.db.run(workflow::current_policy).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Replace the policy with a TOML body (`text/plain` or `application/toml`).
#[utoipa::path(tag = "requests", description = "Roles: admin. A syntax error or unknown field is refused \
    with its line and column, a bad condition with its step; the old policy stays in force.",
    request_body(description = "The policy as TOML.", content((String = "application/toml"), (String = "text/plain"))),
    responses((status = 200, body = Policy), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[put("/policy")]
pub async fn replace(ctx: web::Data<Context>, auth: Auth, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let who = auth.require(POLICY_ADMINS)?;
    let text =
        String::from_utf8(body.to_vec()).map_err(|_| ApiError::Malformed("the policy must be UTF-8 text".into()))?;
    if text.contains('\0') {
        return Err(ApiError::invalid("policy", "must not contain a NUL character"));
    }
    let p = ctx.db.run(move |c| workflow::replace_policy(c, &who.actor(), &text)).await?;
    Ok(HttpResponse::Ok().json(p))
}
