//! `/api/v1/accounts`: seats. Inventory readers read all; an employee reads only their own.
//! Admin and it change them (for tools with no API); removing keeps the row.

use super::people::own_scope;
use super::views::{self, Account};
use crate::context::Context;
use crate::inventory::{
    accounts, AccountChanges, AccountFilter, AccountId, AccountStatus, AppId, PersonId, SubscriptionId,
};
use crate::web::access::{ANYONE, INVENTORY_WRITERS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json, Query};
use crate::web::paging::{self, ListOf};
use actix_web::{delete, get, patch, post, web, HttpResponse};

/// Filters and paging for listing accounts.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountListQuery {
    /// Only this app's seats.
    #[param(value_type = Option<String>)]
    app_id: Option<AppId>,
    /// Only seats paid by this subscription.
    #[param(value_type = Option<String>)]
    subscription_id: Option<SubscriptionId>,
    /// Only this person's seats.
    #[param(value_type = Option<String>)]
    person_id: Option<PersonId>,
    /// Only in this status.
    status: Option<AccountStatus>,
    /// Only with this email.
    email: Option<String>,
    /// Only seats this connection brought.
    #[param(value_type = Option<String>)]
    connection_id: Option<crate::db::ConnectionId>,
    /// Only seats not removed and with no activity for this many days (never used included; any whole number).
    inactive_days: Option<u32>,
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

/// List accounts (an employee sees only their own).
#[utoipa::path(tag = "accounts", params(AccountListQuery), description = "Roles: any; employee: own accounts only.",
    responses((status = 200, body = ListOf<Account>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[get("/accounts")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<AccountListQuery>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(ANYONE)?;
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let filter = AccountFilter {
        app_id: q.app_id,
        subscription_id: q.subscription_id,
        person_id: q.person_id,
        status: q.status,
        email: q.email,
        inactive_days: q.inactive_days,
        belonging_to: own_scope(&who)?,
        connection_id: q.connection_id,
    };
    let (items, next) = ctx.db.run(move |c| accounts::list(c, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(paging::list_of(views::all::<_, Account>(items), next)))
}

/// Get one account (an employee only their own).
#[utoipa::path(tag = "accounts", description = "Roles: any; employee: own accounts only.",
    responses((status = 200, body = Account), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[get("/accounts/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(ANYONE)?;
    let id: AccountId = path_id("account", &id)?;
    let account = ctx.db.run(move |c| accounts::find(c, id)).await?;
    if let Some(own) = own_scope(&who)? {
        if account.email.as_deref() != Some(own.as_str()) {
            return Err(ApiError::Forbidden("an employee may read only their own accounts".into()));
        }
    }
    Ok(HttpResponse::Ok().json(Account::from(account)))
}

/// Create an account by hand (tools with no API); it is matched to a person by email.
#[utoipa::path(tag = "accounts", description = "Roles: admin, it.", request_body = AccountChanges,
    responses((status = 201, body = Account), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/accounts")]
pub async fn create(ctx: web::Data<Context>, auth: Auth, body: Json<AccountChanges>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let changes = body.parse()?;
    let a = ctx.db.run(move |c| accounts::create(c, &who.actor(), changes)).await?;
    Ok(HttpResponse::Created().json(Account::from(a)))
}

/// Change an account; absent fields stay, `null` clears.
#[utoipa::path(tag = "accounts", description = "Roles: admin, it.", request_body = AccountChanges,
    responses((status = 200, body = Account), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[patch("/accounts/{id}")]
pub async fn update(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    body: Json<AccountChanges>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let changes = body.parse()?;
    let id: AccountId = path_id("account", &id)?;
    let a = ctx.db.run(move |c| accounts::update(c, &who.actor(), id, changes)).await?;
    Ok(HttpResponse::Ok().json(Account::from(a)))
}

/// Mark an account removed; the row stays for reports. Never deletes.
#[utoipa::path(tag = "accounts", description = "Roles: admin, it.",
    responses((status = 200, body = Account), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[delete("/accounts/{id}")]
pub async fn remove(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let id: AccountId = path_id("account", &id)?;
    let a = ctx.db.run(move |c| accounts::remove(c, &who.actor(), id)).await?;
    Ok(HttpResponse::Ok().json(Account::from(a)))
}
