//! Licence pools as syncs left them: purchased and consumed units per SKU of an app, as each
//! connection last read them. A vendor that does not say a number leaves it unknown (None),
//! never 0. Pools a later complete sync no longer saw are kept with `removed_at` and not listed.

use crate::db::schema::licence_pools;
use crate::db::{Conn, Page};
use crate::inventory::AppId;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::ConnectionId;

/// A licence pool as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = licence_pools)]
pub struct LicencePool {
    /// Id.
    pub id: i64,
    /// The connection that reads it.
    pub connection_id: ConnectionId,
    /// The app it licenses.
    pub app_id: AppId,
    /// The subscription it belongs to, when known.
    pub subscription_id: Option<i64>,
    /// The vendor's SKU.
    pub sku: String,
    /// The SKU's name.
    pub name: Option<String>,
    /// Units bought; None when the vendor does not say.
    pub purchased: Option<i64>,
    /// Units assigned; None when the vendor does not say.
    pub consumed: Option<i64>,
    /// When a sync last read it.
    pub last_seen_at: NaiveDateTime,
    /// When a complete sync stopped seeing it.
    pub removed_at: Option<NaiveDateTime>,
}

/// Current pools (not removed), by id, optionally of one app; one page.
pub fn list(conn: &mut Conn, app: Option<AppId>, page: Page) -> QueryResult<(Vec<LicencePool>, Option<i64>)> {
    let mut q = licence_pools::table
        .filter(licence_pools::removed_at.is_null())
        .filter(licence_pools::id.gt(page.after))
        .into_boxed();
    if let Some(app) = app {
        q = q.filter(licence_pools::app_id.eq(app));
    }
    let rows = q.order(licence_pools::id.asc()).limit(page.fetch()).select(LicencePool::as_select()).load(conn)?;
    Ok(page.finish(rows, |p| p.id))
}

/// Every current pool of one app, by id.
pub fn list_for_app(conn: &mut Conn, app: AppId) -> QueryResult<Vec<LicencePool>> {
    licence_pools::table
        .filter(licence_pools::removed_at.is_null())
        .filter(licence_pools::app_id.eq(app))
        .order(licence_pools::id.asc())
        .select(LicencePool::as_select())
        .load(conn)
}
