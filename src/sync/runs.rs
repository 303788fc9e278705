//! Sync runs: one row per run with its status, counts, API calls and error. One connection runs
//! at most once at a time; a run whose process died (no heartbeat for 10 minutes) is marked
//! failed when the next one starts.

use super::{ConnectionId, SyncError};
use crate::db::schema::sync_runs;
use crate::db::{Conn, JsonText};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

crate::id_type!(
    /// Id of a sync run.
    SyncRunId
);

/// A run older than this without a heartbeat is taken for dead.
const STALE: chrono::Duration = chrono::Duration::minutes(10);

/// A sync run as stored and shown.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = sync_runs)]
pub struct SyncRun {
    /// Run id.
    pub id: SyncRunId,
    /// The connection.
    pub connection_id: ConnectionId,
    /// running | succeeded | failed.
    pub status: String,
    /// api | cli | schedule.
    pub trigger: String,
    /// Started.
    #[serde(with = "crate::time::rfc3339")]
    pub started_at: NaiveDateTime,
    /// Last sign of life.
    #[serde(skip)]
    pub heartbeat_at: NaiveDateTime,
    /// Finished.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub finished_at: Option<NaiveDateTime>,
    /// Records read (people, seats, pools, grants).
    pub seen: i64,
    /// Records new to the inventory.
    pub added: i64,
    /// Records that changed.
    pub updated: i64,
    /// Seats and people marked removed or departed (only after a complete run).
    pub removed: i64,
    /// Requests made to the vendor.
    pub api_calls: i64,
    /// Why it failed: the vendor's status and its own error code and message, never its reply body.
    pub error: Option<String>,
    /// Records left out for a missing or unreadable required field; a succeeded run with some
    /// succeeded with warnings.
    pub skipped: i64,
    /// The first few skipped records: stream, page, field and the vendor's id.
    pub skipped_records: JsonText<Vec<crate::connectors::Skipped>>,
}

/// Counts a run adds up.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Records read.
    pub seen: i64,
    /// New.
    pub added: i64,
    /// Changed.
    pub updated: i64,
    /// Removed.
    pub removed: i64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.seen += o.seen;
        self.added += o.added;
        self.updated += o.updated;
        self.removed += o.removed;
    }
}

/// Starts a run unless one is live for the connection (a dead one is marked failed first).
pub fn start(conn: &mut Conn, connection: ConnectionId, trigger: &str) -> Result<SyncRun, SyncError> {
    crate::db::write_tx(conn, |conn| {
        let now = crate::time::now();
        diesel::update(
            sync_runs::table
                .filter(sync_runs::connection_id.eq(connection))
                .filter(sync_runs::status.eq("running"))
                .filter(sync_runs::heartbeat_at.lt(now - STALE)),
        )
        .set((
            sync_runs::status.eq("failed"),
            sync_runs::finished_at.eq(Some(now)),
            sync_runs::error.eq(Some("interrupted: the process running it stopped; nothing was removed")),
        ))
        .execute(conn)?;
        let live: Option<SyncRunId> = sync_runs::table
            .filter(sync_runs::connection_id.eq(connection))
            .filter(sync_runs::status.eq("running"))
            .select(sync_runs::id)
            .first(conn)
            .optional()?;
        if let Some(id) = live {
            return Err(SyncError::Conflict {
                field: "connection_id".into(),
                message: format!("run {id} of this connection is still running"),
            });
        }
        Ok(diesel::insert_into(sync_runs::table)
            .values((
                sync_runs::connection_id.eq(connection),
                sync_runs::status.eq("running"),
                sync_runs::trigger.eq(trigger),
                sync_runs::started_at.eq(now),
                sync_runs::heartbeat_at.eq(now),
                sync_runs::seen.eq(0),
                sync_runs::added.eq(0),
                sync_runs::updated.eq(0),
                sync_runs::removed.eq(0),
                sync_runs::api_calls.eq(0),
                sync_runs::skipped.eq(0),
                sync_runs::skipped_records.eq("[]"),
            ))
            .returning(sync_runs::all_columns)
            .get_result(conn)?)
    })
}

/// Records progress (and that the run is alive).
pub fn progress(conn: &mut Conn, id: SyncRunId, c: Counts) -> QueryResult<()> {
    diesel::update(sync_runs::table.find(id))
        .set((
            sync_runs::heartbeat_at.eq(crate::time::now()),
            sync_runs::seen.eq(c.seen),
            sync_runs::added.eq(c.added),
            sync_runs::updated.eq(c.updated),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records skipped by a run: how many, and the first few.
#[derive(Debug, Clone, Default)]
pub struct SkippedRecords {
    /// How many in all.
    pub count: u64,
    /// The first few.
    pub first: Vec<crate::connectors::Skipped>,
}

/// Ends a run.
pub fn finish(
    conn: &mut Conn,
    id: SyncRunId,
    c: Counts,
    api_calls: u64,
    skipped: &SkippedRecords,
    error: Option<&str>,
) -> QueryResult<SyncRun> {
    let first = JsonText(skipped.first.clone());
    diesel::update(sync_runs::table.find(id))
        .set((
            sync_runs::status.eq(if error.is_some() { "failed" } else { "succeeded" }),
            sync_runs::finished_at.eq(Some(crate::time::now())),
            sync_runs::seen.eq(c.seen),
            sync_runs::added.eq(c.added),
            sync_runs::updated.eq(c.updated),
            sync_runs::removed.eq(c.removed),
            sync_runs::api_calls.eq(api_calls as i64),
            sync_runs::error.eq(error),
            sync_runs::skipped.eq(skipped.count as i64),
            sync_runs::skipped_records.eq(first),
        ))
        .returning(sync_runs::all_columns)
        .get_result(conn)
}

/// One run.
pub fn find(conn: &mut Conn, id: SyncRunId) -> Result<SyncRun, SyncError> {
    sync_runs::table
        .find(id)
        .select(SyncRun::as_select())
        .first(conn)
        .optional()?
        .ok_or(SyncError::NotFound("sync run", id.to_string()))
}

/// A connection's runs, newest first.
pub fn list_for_connection(conn: &mut Conn, connection: ConnectionId, limit: i64) -> QueryResult<Vec<SyncRun>> {
    sync_runs::table
        .filter(sync_runs::connection_id.eq(connection))
        .order(sync_runs::id.desc())
        .limit(limit)
        .select(SyncRun::as_select())
        .load(conn)
}
