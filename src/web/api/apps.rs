//! `/api/v1/apps`: the tools in the stack. Everyone may read (employees see what exists before
//! asking for a tool); admin and it change them. Retiring replaces deleting.

use super::views::{self, App};
use crate::context::Context;
use crate::inventory::{apps, AppChanges, AppFilter, AppId, AppStatus};
use crate::web::access::{ANYONE, INVENTORY_WRITERS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json, Query};
use crate::web::paging::{self, ListOf};
use actix_web::{delete, get, patch, post, web, HttpResponse};

/// Filters and paging for listing apps.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AppListQuery {
    /// Only apps in this status.
    status: Option<AppStatus>,
    /// Only apps in this category.
    category: Option<String>,
    /// Only apps whose name contains this text.
    q: Option<String>,
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

/// List apps.
#[utoipa::path(tag = "apps", params(AppListQuery), description = "Roles: any.",
    responses((status = 200, body = ListOf<App>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[get("/apps")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<AppListQuery>) -> Result<HttpResponse, ApiError> {
    auth.require(ANYONE)?;
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let filter = AppFilter { status: q.status, category: q.category, q: q.q };
    let (items, next) = ctx.db.run(move |c| apps::list(c, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(paging::list_of(views::all::<_, App>(items), next)))
}

/// Get one app.
#[utoipa::path(tag = "apps", description = "Roles: any.",
    responses((status = 200, body = App), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/apps/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(ANYONE)?;
    let id: AppId = path_id("app", &id)?;
    let app = ctx.db.run(move |c| apps::find(c, id)).await?;
    Ok(HttpResponse::Ok().json(App::from(app)))
}

/// Create an app.
#[utoipa::path(tag = "apps", description = "Roles: admin, it.", request_body = AppChanges,
    responses((status = 201, body = App), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/apps")]
pub async fn create(ctx: web::Data<Context>, auth: Auth, body: Json<AppChanges>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let changes = body.parse()?;
    let app = ctx.db.run(move |c| apps::create(c, &who.actor(), changes)).await?;
    Ok(HttpResponse::Created().json(App::from(app)))
}

/// Change an app; absent fields stay, `null` clears.
#[utoipa::path(tag = "apps", description = "Roles: admin, it.", request_body = AppChanges,
    responses((status = 200, body = App), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[patch("/apps/{id}")]
pub async fn update(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    body: Json<AppChanges>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let changes = body.parse()?;
    let id: AppId = path_id("app", &id)?;
    let app = ctx.db.run(move |c| apps::update(c, &who.actor(), id, changes)).await?;
    Ok(HttpResponse::Ok().json(App::from(app)))
}

/// Retire an app: it leaves the active stack but stays for reports. Never deletes.
#[utoipa::path(tag = "apps", description = "Roles: admin, it.",
    responses((status = 200, body = App), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[delete("/apps/{id}")]
pub async fn retire(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let id: AppId = path_id("app", &id)?;
    let app = ctx.db.run(move |c| apps::retire(c, &who.actor(), id)).await?;
    Ok(HttpResponse::Ok().json(App::from(app)))
}
