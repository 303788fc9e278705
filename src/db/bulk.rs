//! Writes of many seats in one statement where the two dialects differ. PostgreSQL takes the
//! rows as arrays (`unnest`): one statement, one round trip and one run of the seat table's
//! statement trigger per batch. SQLite runs one prepared statement per row inside the caller's
//! transaction: in-process and as fast as a batch there, with no array type to bind.

use super::schema::accounts;
use super::Conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Timestamp};

/// A seat's newer sign of activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    /// The seat.
    pub id: i64,
    /// When it was last active.
    pub at: NaiveDateTime,
    /// Whether paid features were used; None keeps what the seat says.
    pub premium_used: Option<bool>,
}

/// Moves each seat's last activity forward to `at`, never back: the guard is in SQL, so a
/// concurrent newer write is never overwritten. Returns how many seats moved.
pub fn move_activity_forward(conn: &mut Conn, rows: &[Activity], now: NaiveDateTime) -> QueryResult<usize> {
    match conn {
        Conn::Postgres(c) => {
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let ats: Vec<NaiveDateTime> = rows.iter().map(|r| r.at).collect();
            let premium: Vec<Option<bool>> = rows.iter().map(|r| r.premium_used).collect();
            diesel::sql_query(
                "UPDATE accounts SET last_active_at = v.at, \
                 premium_used = COALESCE(v.premium, accounts.premium_used), updated_at = $4 \
                 FROM unnest($1::bigint[], $2::timestamp[], $3::boolean[]) AS v(id, at, premium) \
                 WHERE accounts.id = v.id AND (accounts.last_active_at IS NULL OR accounts.last_active_at < v.at)",
            )
            .bind::<Array<BigInt>, _>(ids)
            .bind::<Array<Timestamp>, _>(ats)
            .bind::<Array<Nullable<Bool>>, _>(premium)
            .bind::<Timestamp, _>(now)
            .execute(c)
        }
        Conn::Sqlite(c) => {
            let mut moved = 0;
            for r in rows {
                let newer = accounts::last_active_at.is_null().or(accounts::last_active_at.lt(r.at));
                moved += diesel::update(accounts::table.find(r.id).filter(newer))
                    .set((
                        accounts::last_active_at.eq(Some(r.at)),
                        accounts::premium_used.eq(diesel::dsl::sql::<Nullable<Bool>>("COALESCE(")
                            .bind::<Nullable<Bool>, _>(r.premium_used)
                            .sql(", premium_used)")),
                        accounts::updated_at.eq(now),
                    ))
                    .execute(c)?;
            }
            Ok(moved)
        }
    }
}
