//! Embedded migrations, one tree per backend, applied at `serve` and by `migrate`.

use super::{Conn, DbError};
use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

// Arbitrary constant naming stackward's migration lock among other advisory locks.
const PG_MIGRATION_LOCK: i64 = 0x5374_6163_6b77;

/// Which migrations a run applied.
#[derive(Debug, Default)]
pub struct MigrationReport {
    /// Versions applied by this run, oldest first.
    pub applied: Vec<String>,
}

fn failed(e: impl std::fmt::Display) -> DbError {
    DbError::Migration(e.to_string())
}

pub(super) fn run_pending(conn: &mut Conn) -> Result<MigrationReport, DbError> {
    let applied = match conn {
        Conn::Sqlite(c) => c.run_pending_migrations(SQLITE).map_err(failed)?.iter().map(|v| v.to_string()).collect(),
        Conn::Postgres(c) => {
            // Replicas that start together wait here instead of racing on the same DDL.
            c.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
            let result = c
                .run_pending_migrations(POSTGRES)
                .map(|vs| vs.iter().map(|v| v.to_string()).collect::<Vec<_>>())
                .map_err(failed);
            c.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
            result?
        }
    };
    Ok(MigrationReport { applied })
}

pub(super) fn pending_count(conn: &mut Conn) -> Result<usize, DbError> {
    match conn {
        Conn::Sqlite(c) => c.pending_migrations(SQLITE).map(|p| p.len()).map_err(failed),
        Conn::Postgres(c) => c.pending_migrations(POSTGRES).map(|p| p.len()).map_err(failed),
    }
}

/// Reverts every applied migration (tests use it to prove down.sql works).
pub fn revert_all(conn: &mut Conn) -> Result<(), DbError> {
    match conn {
        Conn::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|_| ()).map_err(failed),
        Conn::Postgres(c) => c.revert_all_migrations(POSTGRES).map(|_| ()).map_err(failed),
    }
}
