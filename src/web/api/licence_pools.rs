//! `/api/v1/licence-pools`: purchased and consumed units per SKU, as syncs read them from the
//! vendors (Graph subscribedSkus, Google licence assignments, Salesforce user licences …). A
//! number the vendor does not give is null, never 0.

use crate::context::Context;
use crate::inventory::AppId;
use crate::sync::pools::{self, LicencePool};
use crate::sync::ConnectionId;
use crate::web::access::INVENTORY_READERS;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{Auth, Query};
use crate::web::paging::{self, ListOf};
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// A licence pool: one SKU's units as a connection last read them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LicencePoolView {
    /// Id.
    pub id: i64,
    /// The app it licenses.
    pub app_id: AppId,
    /// The connection that reads it.
    pub connection_id: ConnectionId,
    /// The vendor's SKU.
    pub sku: String,
    /// The SKU's name, when the vendor gives one.
    pub name: Option<String>,
    /// Units bought; null when the vendor does not say.
    pub purchased: Option<i64>,
    /// Units assigned; null when the vendor does not say.
    pub consumed: Option<i64>,
    /// Units bought and not assigned; null unless both are known.
    pub available: Option<i64>,
    /// When a sync last read it.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: NaiveDateTime,
}

impl From<LicencePool> for LicencePoolView {
    fn from(p: LicencePool) -> Self {
        LicencePoolView {
            id: p.id,
            app_id: p.app_id,
            connection_id: p.connection_id,
            available: p.purchased.zip(p.consumed).and_then(|(b, c)| b.checked_sub(c)),
            sku: p.sku,
            name: p.name,
            purchased: p.purchased,
            consumed: p.consumed,
            last_seen_at: p.last_seen_at,
        }
    }
}

/// Filters and paging for listing licence pools.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PoolQuery {
    /// Only this app's pools.
    #[param(value_type = Option<String>)]
    app_id: Option<AppId>,
    /// Rows per page (1–500, default 50).
    limit: Option<i64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
}

/// Licence pools: purchased and consumed units per SKU, as the last sync read them.
#[utoipa::path(tag = "inventory", params(PoolQuery), description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = ListOf<LicencePoolView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[get("/licence-pools")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<PoolQuery>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let q = q.parse()?;
    let page = paging::page(q.limit, q.cursor.as_deref())?;
    let app = q.app_id;
    let (rows, next) = ctx.db.run(move |c| pools::list(c, app, page).map_err(crate::db::DbError::from)).await?;
    let items: Vec<LicencePoolView> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(paging::list_of(items, next)))
}
