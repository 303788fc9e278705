//! `/api/v1/apps`: the tools in the stack. Everyone may read (employees see what exists before
//! asking for a tool); admin and it change them. Retiring replaces deleting.

use super::views::App;
use crate::context::Context;
use crate::db::DbError;
use crate::inventory::{apps, coverage, AppChanges, AppFilter, AppId, AppStatus, Coverage};
use crate::web::access::{ANYONE, INVENTORY_WRITERS};
use crate::web::api::licence_pools::LicencePoolView;
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

/// An app with how well its seats, usage and tiers are known.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AppWithCoverage {
    /// The app.
    #[serde(flatten)]
    pub app: App,
    /// How its seat list, activity and tiers are known, and how fresh that is.
    pub coverage: Coverage,
}

/// List apps.
#[utoipa::path(tag = "apps", params(AppListQuery), description = "Roles: any.",
    responses((status = 200, body = ListOf<AppWithCoverage>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[get("/apps")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<AppListQuery>) -> Result<HttpResponse, ApiError> {
    auth.require(ANYONE)?;
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let filter = AppFilter { status: q.status, category: q.category, q: q.q };
    let (items, next) = ctx
        .db
        .run(move |c| {
            let (rows, next) = apps::list(c, &filter, page)?;
            let ids: Vec<AppId> = rows.iter().map(|a| a.id).collect();
            let mut cov = coverage::for_apps(c, Some(&ids), crate::time::now()).map_err(DbError::from)?;
            let items: Vec<AppWithCoverage> = rows
                .into_iter()
                .map(|app| {
                    let coverage = cov.remove(&app.id).unwrap_or_else(coverage::unknown);
                    AppWithCoverage { app: App::from(app), coverage }
                })
                .collect();
            Ok::<_, ApiError>((items, next))
        })
        .await?;
    Ok(HttpResponse::Ok().json(paging::list_of(items, next)))
}

/// One app with its licence pools (units per SKU as syncs read them).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AppDetail {
    /// The app.
    #[serde(flatten)]
    pub app: App,
    /// How its seat list, activity and tiers are known, and how fresh that is.
    pub coverage: Coverage,
    /// Its licence pools; a number the vendor does not give is null, never 0.
    pub licence_pools: Vec<LicencePoolView>,
}

/// Get one app, with its licence pools.
#[utoipa::path(tag = "apps", description = "Roles: any.",
    responses((status = 200, body = AppDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/apps/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(ANYONE)?;
    let id: AppId = path_id("app", &id)?;
    let (app, coverage, pools) = ctx
        .db
        .run(move |c| {
            let app = apps::find(c, id)?;
            let coverage = coverage::for_app(c, id, crate::time::now()).map_err(DbError::from)?;
            let pools = crate::sync::pools::list_for_app(c, id).map_err(DbError::from)?;
            Ok::<_, ApiError>((app, coverage, pools))
        })
        .await?;
    Ok(HttpResponse::Ok().json(AppDetail {
        app: App::from(app),
        coverage,
        licence_pools: pools.into_iter().map(Into::into).collect(),
    }))
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
