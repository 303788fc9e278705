//! `/api/v1/tokens` (admin) and `/api/v1/me` (anyone): API tokens and who the caller is.

use crate::auth::{self, ApiToken, NewToken, Role, TokenId, TokenScope};
use crate::context::Context;
use crate::web::access::{ANYONE, TOKEN_ADMINS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json};
use actix_web::{delete, get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};

/// A token to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for.
    name: String,
    /// The role it grants.
    role: Role,
    /// The person it acts for (required for employee tokens).
    email: Option<String>,
    /// `api` (default) or `calendar`: a token only for the renewals calendar feed URL.
    #[serde(default)]
    scope: Option<TokenScope>,
}

/// The caller as the server sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The token's name.
    name: String,
    /// The role it grants (for a signed-in person, the most powerful they hold).
    role: Role,
    /// Every role held (one for a token).
    roles: Vec<Role>,
    /// The person it acts for.
    email: Option<String>,
}

/// List tokens (never their secrets).
#[utoipa::path(tag = "tokens", description = "Roles: admin.",
    responses((status = 200, body = Vec<ApiToken>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/tokens")]
pub async fn list(ctx: web::Data<Context>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(TOKEN_ADMINS)?;
    let tokens = ctx.db.run(auth::list).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Create a token; its secret is in this response only.
#[utoipa::path(tag = "tokens", description = "Roles: admin.", request_body = TokenRequest,
    responses((status = 201, body = NewToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[post("/tokens")]
pub async fn create(ctx: web::Data<Context>, auth: Auth, body: Json<TokenRequest>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(TOKEN_ADMINS)?;
    let req = body.parse()?;
    let token = ctx
        .db
        .run(move |c| {
            auth::create(
                c,
                &who.actor(),
                &req.name,
                req.role,
                req.email.as_deref(),
                req.scope.unwrap_or(TokenScope::Api),
            )
        })
        .await?;
    Ok(HttpResponse::Created().insert_header(("Cache-Control", "no-store")).json(token))
}

/// Revoke a token; it is refused from then on.
#[utoipa::path(tag = "tokens", description = "Roles: admin.",
    responses((status = 200, body = ApiToken), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[delete("/tokens/{id}")]
pub async fn revoke(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(TOKEN_ADMINS)?;
    let id: TokenId = path_id("token", &id)?;
    let token = ctx.db.run(move |c| auth::revoke(c, &who.actor(), id)).await?;
    Ok(HttpResponse::Ok().json(token))
}

/// Who the caller's token says they are.
#[utoipa::path(tag = "tokens", description = "Roles: any.", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
#[get("/me")]
pub async fn me(auth: Auth) -> Result<HttpResponse, ApiError> {
    let who = auth.require(ANYONE)?;
    Ok(HttpResponse::Ok().json(Me { role: who.role(), roles: who.roles, name: who.name, email: who.email }))
}
