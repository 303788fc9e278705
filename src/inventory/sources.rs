//! How an app's seats and usage are known when no connection brings them: the last way seats
//! were entered (a CSV import or by hand) and usage was fed (the push API or a CSV file).
//! Coverage reads these marks; connections speak for themselves through their seats.

use super::apps::AppId;
use crate::db::schema::app_sources;
use crate::db::Conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

crate::text_enum!(
    /// How seats were entered without a connection.
    SeatsSource {
        /// A CSV import.
        Csv => "csv",
        /// By hand (the API or the UI), or created by a usage push.
        Manual => "manual",
    }
);

crate::text_enum!(
    /// How usage (last activity) was fed without a connection.
    UsageSource {
        /// `POST /api/v1/usage`.
        Push => "push",
        /// A CSV file (`stackward usage import`, or an accounts import with `last_active_at`).
        Csv => "csv",
    }
);

/// An app's marks.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = app_sources)]
pub struct AppSources {
    /// The app.
    pub app_id: AppId,
    /// The last way seats were entered without a connection.
    pub seats_source: Option<SeatsSource>,
    /// When.
    pub seats_updated_at: Option<NaiveDateTime>,
    /// The last way usage was fed without a connection.
    pub usage_source: Option<UsageSource>,
    /// When.
    pub usage_updated_at: Option<NaiveDateTime>,
}

fn ensure(conn: &mut Conn, app: AppId) -> QueryResult<()> {
    let exists = app_sources::table.find(app).select(app_sources::app_id).first::<AppId>(conn).optional()?;
    if exists.is_none() {
        // A concurrent writer may insert first; the savepoint keeps the caller's transaction usable.
        let inserted = conn
            .transaction(|c| diesel::insert_into(app_sources::table).values(app_sources::app_id.eq(app)).execute(c));
        match inserted {
            Err(e) if !crate::db::is_unique_violation(&e) => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Records that `app`'s seats were entered by `source` at `now`.
pub fn mark_seats(conn: &mut Conn, app: AppId, source: SeatsSource, now: NaiveDateTime) -> QueryResult<()> {
    ensure(conn, app)?;
    diesel::update(app_sources::table.find(app))
        .set((app_sources::seats_source.eq(Some(source)), app_sources::seats_updated_at.eq(Some(now))))
        .execute(conn)?;
    Ok(())
}

/// Records that `app`'s usage was fed by `source` at `now`.
pub fn mark_usage(conn: &mut Conn, app: AppId, source: UsageSource, now: NaiveDateTime) -> QueryResult<()> {
    ensure(conn, app)?;
    diesel::update(app_sources::table.find(app))
        .set((app_sources::usage_source.eq(Some(source)), app_sources::usage_updated_at.eq(Some(now))))
        .execute(conn)?;
    Ok(())
}

/// The marks of the given apps (all apps when `apps` is None).
pub fn for_apps(conn: &mut Conn, apps: Option<&[AppId]>) -> QueryResult<HashMap<AppId, AppSources>> {
    let mut q = app_sources::table.into_boxed();
    if let Some(ids) = apps {
        q = q.filter(app_sources::app_id.eq_any(ids.to_vec()));
    }
    Ok(q.select(AppSources::as_select()).load(conn)?.into_iter().map(|s| (s.app_id, s)).collect())
}
