//! Write transactions that behave the same under load on both backends.

use super::Conn;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;

/// Runs `f` in a transaction meant to write. On SQLite it starts with `BEGIN IMMEDIATE`: a
/// deferred transaction that reads first cannot upgrade to a writer while another writer
/// holds the lock and fails at once, while an immediate one waits out `busy_timeout`.
/// Nested calls become savepoints, as with `Connection::transaction`.
pub fn write_tx<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let outermost_sqlite = match conn {
        Conn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?.is_none(),
        Conn::Postgres(_) => false,
    };
    if !outermost_sqlite {
        return conn.transaction(f);
    }
    if let Conn::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let result = f(conn);
    if let Conn::Sqlite(c) = conn {
        match &result {
            Ok(_) => AnsiTransactionManager::commit_transaction(c)?,
            Err(_) => AnsiTransactionManager::rollback_transaction(c)?,
        }
    }
    result
}
