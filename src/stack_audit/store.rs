//! Audits as stored: the `audits` row (quarter, when, by whom, the summary) and the frozen rows
//! of each sheet in `audit_chunks`, a JSON array of up to [`CHUNK`] rows per chunk, written
//! and read in order so that a million seats never sit in memory at once.

use super::error::{Result, StackAuditError};
use super::sheets::{Sheet, SheetRow};
use super::summary::Summary;
use crate::db::schema::{audit_chunks, audits};
use crate::db::{Conn, JsonText};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

crate::id_type!(
    /// Id of an audit.
    AuditId
);

/// Rows per stored chunk.
pub const CHUNK: usize = 1000;

/// Chunks fetched per query when reading a sheet back.
const CHUNKS_PER_READ: i64 = 8;

/// An audit as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = audits)]
pub struct Audit {
    /// Audit id.
    pub id: AuditId,
    /// The quarter audited, e.g. `2026-Q4`.
    pub quarter: String,
    /// When the snapshot was taken (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub taken_at: NaiveDateTime,
    /// Who took it.
    pub created_by: String,
    /// The audit its Changes compare against.
    pub previous_id: Option<AuditId>,
    /// Its headline figures (stored as JSON; a corrupt value is an error when read).
    #[serde(skip)]
    pub summary: JsonText<Summary>,
    /// The stackward version that took it.
    pub stackward_version: String,
}

/// Stores a new audit row; the summary is filled in when the snapshot is complete.
pub fn insert(
    conn: &mut Conn,
    quarter: &str,
    taken_at: NaiveDateTime,
    created_by: &str,
    previous: Option<AuditId>,
) -> QueryResult<Audit> {
    diesel::insert_into(audits::table)
        .values((
            audits::quarter.eq(quarter),
            audits::taken_at.eq(taken_at),
            audits::created_by.eq(created_by),
            audits::previous_id.eq(previous),
            audits::summary.eq("{}"),
            audits::stackward_version.eq(env!("CARGO_PKG_VERSION")),
        ))
        .returning(audits::all_columns)
        .get_result(conn)
}

/// Stores the summary of audit `id`.
pub fn set_summary(conn: &mut Conn, id: AuditId, summary: &JsonText<Summary>) -> QueryResult<()> {
    diesel::update(audits::table.find(id)).set(audits::summary.eq(summary)).execute(conn).map(|_| ())
}

/// Finds an audit.
pub fn find(conn: &mut Conn, id: AuditId) -> Result<Audit> {
    audits::table
        .find(id)
        .select(Audit::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StackAuditError::NotFound(format!("audit {id} not found")))
}

/// Every audit, newest first.
pub fn list(conn: &mut Conn) -> QueryResult<Vec<Audit>> {
    audits::table.order(audits::id.desc()).select(Audit::as_select()).load(conn)
}

/// The latest audit, the one a new audit compares against.
pub fn latest(conn: &mut Conn) -> QueryResult<Option<Audit>> {
    audits::table.order(audits::id.desc()).select(Audit::as_select()).first(conn).optional()
}

/// Rows of one sheet of an audit, stored in order as they are pushed.
pub struct ChunkWriter<R: SheetRow> {
    audit: AuditId,
    position: i64,
    written: i64,
    buf: Vec<R>,
}

impl<R: SheetRow> ChunkWriter<R> {
    /// A writer for `R`'s sheet of `audit`.
    pub fn new(audit: AuditId) -> Self {
        Self { audit, position: 0, written: 0, buf: Vec::with_capacity(CHUNK) }
    }

    /// Adds a row; stores a chunk when one is full.
    pub fn push(&mut self, conn: &mut Conn, row: R) -> Result<()> {
        self.buf.push(row);
        if self.buf.len() >= CHUNK {
            self.flush(conn)?;
        }
        Ok(())
    }

    fn flush(&mut self, conn: &mut Conn) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let data = serde_json::to_string(&self.buf).map_err(|e| StackAuditError::Pack(e.to_string()))?;
        diesel::insert_into(audit_chunks::table)
            .values((
                audit_chunks::audit_id.eq(self.audit),
                audit_chunks::sheet.eq(R::SHEET.key()),
                audit_chunks::position.eq(self.position),
                audit_chunks::rows_count.eq(self.buf.len() as i64),
                audit_chunks::data.eq(data),
            ))
            .execute(conn)?;
        self.position += 1;
        self.written += self.buf.len() as i64;
        self.buf.clear();
        Ok(())
    }

    /// Stores what is left and says how many rows the sheet holds.
    pub fn finish(mut self, conn: &mut Conn) -> Result<i64> {
        self.flush(conn)?;
        Ok(self.written)
    }
}

/// Calls `f` with every row of `R`'s sheet of `audit`, in stored order, a few chunks in memory at a time.
pub fn each<R: SheetRow>(conn: &mut Conn, audit: AuditId, mut f: impl FnMut(R) -> Result<()>) -> Result<()> {
    let mut next = 0i64;
    loop {
        let chunks: Vec<(i64, String)> = audit_chunks::table
            .filter(audit_chunks::audit_id.eq(audit))
            .filter(audit_chunks::sheet.eq(R::SHEET.key()))
            .filter(audit_chunks::position.ge(next))
            .order(audit_chunks::position.asc())
            .limit(CHUNKS_PER_READ)
            .select((audit_chunks::position, audit_chunks::data))
            .load(conn)?;
        let Some(last) = chunks.last().map(|c| c.0) else { return Ok(()) };
        for (position, data) in chunks {
            let rows: Vec<R> = serde_json::from_str(&data).map_err(|e| {
                StackAuditError::Pack(format!("audit {audit}, {} chunk {position} is unreadable: {e}", R::SHEET.key()))
            })?;
            for r in rows {
                f(r)?;
            }
        }
        next = last + 1;
    }
}

/// Every row of `R`'s sheet of `audit` (for the small sheets).
pub fn load<R: SheetRow>(conn: &mut Conn, audit: AuditId) -> Result<Vec<R>> {
    let mut out = Vec::new();
    each::<R>(conn, audit, |r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// How many rows each sheet of `audit` holds.
pub fn counts(conn: &mut Conn, audit: AuditId) -> QueryResult<Vec<(Sheet, i64)>> {
    let rows: Vec<(String, i64)> = audit_chunks::table
        .filter(audit_chunks::audit_id.eq(audit))
        .select((audit_chunks::sheet, audit_chunks::rows_count))
        .load(conn)?;
    Ok(Sheet::ALL.iter().map(|s| (*s, rows.iter().filter(|(k, _)| k == s.key()).map(|(_, n)| n).sum())).collect())
}
