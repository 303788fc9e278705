//! The `jobs` table: one row per job with its lease and last run. A run starts only by a
//! compare-and-set that names the period (the cron tick it serves) and requires no live lease,
//! so when several processes tick together exactly one runs each period.

use crate::db::schema::jobs;
use crate::db::Conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// A job's schedule and last run, as `GET /api/v1/jobs` shows it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = jobs)]
pub struct JobStatus {
    /// Job name.
    pub name: String,
    /// Cron schedule (seconds first, UTC).
    pub schedule: String,
    /// Process holding the lease, while it runs.
    pub lease_holder: Option<String>,
    /// Lease expiry.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub lease_until: Option<NaiveDateTime>,
    /// The tick the last run served.
    pub last_period: Option<String>,
    /// When the last run started.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub last_started_at: Option<NaiveDateTime>,
    /// When the last run finished.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub last_finished_at: Option<NaiveDateTime>,
    /// How long it took.
    pub last_duration_ms: Option<i64>,
    /// `ok` or `failed`.
    pub last_outcome: Option<String>,
    /// What went wrong, when it failed.
    pub last_error: Option<String>,
    /// When it runs next.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub next_run_at: Option<NaiveDateTime>,
}

/// Registers a job (or updates its schedule); safe when several processes start together.
pub fn ensure(conn: &mut Conn, name: &str, schedule: &str, next_run: Option<NaiveDateTime>) -> QueryResult<()> {
    let updated = diesel::update(jobs::table.find(name))
        .set((jobs::schedule.eq(schedule), jobs::next_run_at.eq(next_run)))
        .execute(conn)?;
    if updated > 0 {
        return Ok(());
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(jobs::table)
            .values((jobs::name.eq(name), jobs::schedule.eq(schedule), jobs::next_run_at.eq(next_run)))
            .execute(conn)
    });
    match inserted {
        Err(e) if crate::db::is_unique_violation(&e) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Takes the lease for `period` if no one ran that period and no lease is live.
pub fn try_start(
    conn: &mut Conn,
    name: &str,
    period: &str,
    holder: &str,
    lease: chrono::Duration,
) -> QueryResult<bool> {
    let now = crate::time::now();
    let taken = diesel::update(
        jobs::table
            .filter(jobs::name.eq(name))
            .filter(jobs::last_period.is_null().or(jobs::last_period.ne(period)))
            .filter(jobs::lease_until.is_null().or(jobs::lease_until.lt(now))),
    )
    .set((
        jobs::lease_holder.eq(Some(holder)),
        jobs::lease_until.eq(Some(now + lease)),
        jobs::last_period.eq(Some(period)),
        jobs::last_started_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Records the end of a run and releases the lease.
pub fn finish(
    conn: &mut Conn,
    name: &str,
    holder: &str,
    error: Option<&str>,
    duration_ms: i64,
    next_run: Option<NaiveDateTime>,
) -> QueryResult<()> {
    diesel::update(jobs::table.filter(jobs::name.eq(name)).filter(jobs::lease_holder.eq(holder)))
        .set((
            jobs::lease_holder.eq(None::<String>),
            jobs::lease_until.eq(None::<NaiveDateTime>),
            jobs::last_finished_at.eq(Some(crate::time::now())),
            jobs::last_duration_ms.eq(Some(duration_ms)),
            jobs::last_outcome.eq(Some(if error.is_some() { "failed" } else { "ok" })),
            jobs::last_error.eq(error),
            jobs::next_run_at.eq(next_run),
        ))
        .execute(conn)?;
    Ok(())
}

/// Every job, by name.
pub fn list(conn: &mut Conn) -> QueryResult<Vec<JobStatus>> {
    jobs::table.order(jobs::name.asc()).select(JobStatus::as_select()).load(conn)
}
