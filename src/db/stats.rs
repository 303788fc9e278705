//! Planner statistics and the statements the connection enum cannot express: with `bulk.rs`
//! (set-based seat writes), the only place where the two SQL dialects are told apart.

use super::Conn;
use diesel::connection::SimpleConnection;
use diesel::QueryResult;

/// Runs the same diesel statement on whichever backend `conn` holds. The connection enum has no
/// `ON CONFLICT`, though both backends do: each arm builds the statement for its own backend.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Postgres($c) => $body,
        }
    };
}

/// Tables whose statistics a sync keeps fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Seats.
    Accounts,
    /// The directory.
    People,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Accounts => "accounts",
            Table::People => "people",
        }
    }
}

/// Refreshes the planner's statistics of `tables` after they changed a lot. PostgreSQL plans
/// with what its last ANALYZE saw: a seat table that grew from nothing is still "tiny" to it, so
/// a lookup of 100 seats by key becomes a scan of the whole app (autovacuum may be off or late
/// on a user's server, so this does not wait for it). SQLite's `PRAGMA optimize` analyzes only
/// where its planner would gain.
pub fn refresh_statistics(conn: &mut Conn, tables: &[Table]) -> QueryResult<()> {
    if tables.is_empty() {
        return Ok(());
    }
    match conn {
        Conn::Postgres(c) => {
            let names: Vec<&str> = tables.iter().map(|t| t.name()).collect();
            c.batch_execute(&format!("ANALYZE {}", names.join(", ")))
        }
        Conn::Sqlite(c) => c.batch_execute("PRAGMA optimize"),
    }
}
