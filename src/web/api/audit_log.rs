//! `/api/v1/audit-log`: every change, who made it and what it was before and after.

use super::views::{self, AuditEntry};
use crate::audit::{self, AuditFilter};
use crate::context::Context;
use crate::web::access::AUDIT_READERS;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{Auth, Query};
use crate::web::paging::{self, ListOf};
use actix_web::{get, web, HttpResponse};

/// Filters and paging for the audit log.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditListQuery {
    /// Only this kind of record: app, subscription, person, account, token.
    entity: Option<String>,
    /// Only this record.
    entity_id: Option<String>,
    /// Only changes by this actor, e.g. `token:ci`.
    actor: Option<String>,
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

/// List audit log entries, oldest first.
#[utoipa::path(tag = "audit", params(AuditListQuery), description = "Roles: admin, security, auditor.",
    responses((status = 200, body = ListOf<AuditEntry>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/audit-log")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<AuditListQuery>) -> Result<HttpResponse, ApiError> {
    auth.require(AUDIT_READERS)?;
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let filter = AuditFilter { entity: q.entity, entity_id: q.entity_id, actor: q.actor };
    let (items, next) = ctx.db.run(move |c| audit::list(c, &filter, page).map_err(crate::db::DbError::from)).await?;
    Ok(HttpResponse::Ok().json(paging::list_of(views::all::<_, AuditEntry>(items), next)))
}
