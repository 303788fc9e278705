//! `/api/v1/people`: the directory. Inventory readers read everyone; an employee reads only
//! their own record. Admin and it change it; marking departed replaces deleting.

use crate::auth::Principal;
use crate::context::Context;
use crate::inventory::{people, Person, PersonChanges, PersonFilter, PersonId, PersonStatus};
use crate::web::access::{ANYONE, INVENTORY_WRITERS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json, Query};
use crate::web::paging::{self, ListOf};
use actix_web::{delete, get, patch, post, web, HttpResponse};

/// Filters and paging for listing people.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PersonListQuery {
    /// Only in this status.
    status: Option<PersonStatus>,
    /// Only this department.
    department: Option<String>,
    /// Only this email.
    email: Option<String>,
    /// Only people reporting to this manager.
    manager_email: Option<String>,
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

/// The email an employee is limited to; none for roles that read everyone.
pub(super) fn own_scope(who: &Principal) -> Result<Option<String>, ApiError> {
    if !who.employee_only() {
        return Ok(None);
    }
    who.email.clone().map(Some).ok_or_else(|| ApiError::Forbidden("this employee token names no person".into()))
}

/// List people (an employee sees only themself).
#[utoipa::path(tag = "people", params(PersonListQuery), description = "Roles: any; employee: own record only.",
    responses((status = 200, body = ListOf<Person>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[get("/people")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<PersonListQuery>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(ANYONE)?;
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let mut filter =
        PersonFilter { status: q.status, department: q.department, email: q.email, manager_email: q.manager_email };
    if let Some(own) = own_scope(&who)? {
        if filter.email.as_ref().is_some_and(|e| !e.eq_ignore_ascii_case(&own)) {
            return Err(ApiError::Forbidden("an employee may read only their own record".into()));
        }
        filter.email = Some(own);
    }
    let (items, next) = ctx.db.run(move |c| people::list(c, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(paging::list_of(items, next)))
}

/// Get one person (an employee only themself).
#[utoipa::path(tag = "people", description = "Roles: any; employee: own record only.",
    responses((status = 200, body = Person), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[get("/people/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(ANYONE)?;
    let id: PersonId = path_id("person", &id)?;
    let person = ctx.db.run(move |c| people::find(c, id)).await?;
    if own_scope(&who)?.is_some_and(|own| own != person.email) {
        return Err(ApiError::Forbidden("an employee may read only their own record".into()));
    }
    Ok(HttpResponse::Ok().json(person))
}

/// Create a person; accounts with the same email are matched to them.
#[utoipa::path(tag = "people", description = "Roles: admin, it.", request_body = PersonChanges,
    responses((status = 201, body = Person), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/people")]
pub async fn create(ctx: web::Data<Context>, auth: Auth, body: Json<PersonChanges>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let changes = body.parse()?;
    let p = ctx.db.run(move |c| people::create(c, &who.actor(), changes)).await?;
    Ok(HttpResponse::Created().json(p))
}

/// Change a person; absent fields stay, `null` clears.
#[utoipa::path(tag = "people", description = "Roles: admin, it.", request_body = PersonChanges,
    responses((status = 200, body = Person), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[patch("/people/{id}")]
pub async fn update(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    body: Json<PersonChanges>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let changes = body.parse()?;
    let id: PersonId = path_id("person", &id)?;
    let p = ctx.db.run(move |c| people::update(c, &who.actor(), id, changes)).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Mark a person departed (today unless a last day is set). Never deletes.
#[utoipa::path(tag = "people", description = "Roles: admin, it.",
    responses((status = 200, body = Person), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[delete("/people/{id}")]
pub async fn depart(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(INVENTORY_WRITERS)?;
    let id: PersonId = path_id("person", &id)?;
    let p = ctx.db.run(move |c| people::mark_departed(c, &who.actor(), id)).await?;
    Ok(HttpResponse::Ok().json(p))
}
