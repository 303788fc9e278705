//! Storage: the connection enum over SQLite and PostgreSQL, the pool, the bridge that runs
//! diesel off the async executor, and the embedded migrations. Reads `database_url` and
//! `db_pool_size` from the settings.

mod bulk;
mod conn;
mod id;
mod ids;
mod json_text;
mod memo;
mod migrate;
mod page;
pub mod schema;
mod stats;
mod text_enum;
mod tx;

pub use bulk::{move_activity_forward, Activity};
pub use conn::{Backend, Conn, DatabaseUrl, Manager, UrlError};
pub use ids::ConnectionId;
pub use json_text::JsonText;
pub use memo::{remember, stamp, Stamped};
pub use migrate::{revert_all, MigrationReport};
pub use page::Page;
pub use stats::{refresh_statistics, Table};
pub use tx::write_tx;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use std::time::Duration;

/// A pooled connection, as handed to query functions through `&mut Conn` (it derefs).
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// What can go wrong below the query functions.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL was refused before any connection was tried.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// No connection could be had from the pool in time.
    #[error("database unavailable: {0}")]
    Unavailable(#[from] r2d2::Error),
    /// A statement failed.
    #[error("database query failed: {0}")]
    Query(#[from] DieselError),
    /// Applying or reading migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The blocking task running the query panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
}

/// The database: a pool of connections to one backend.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
}

impl Db {
    /// Opens a pool for `url` of at most `pool_size` connections (SQLite files are created if missing).
    pub fn open(url: &str, pool_size: u32) -> Result<Self, DbError> {
        let url = DatabaseUrl::parse(url)?;
        let backend = url.backend;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .build(Manager::new(url))?;
        Ok(Self { pool, backend })
    }

    /// The backend this database runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for synchronous callers (CLI, migrations, blocking tasks).
    pub fn get(&self) -> Result<PooledConn, DbError> {
        Ok(self.pool.get()?)
    }

    /// Connections open and idle right now, and the pool's maximum.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections, self.pool.max_size())
    }

    /// Runs `f` with a connection on the blocking thread pool, never on an async worker.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(DbError::Task(e.to_string())))?
    }

    /// Applies pending migrations (under an advisory lock on PostgreSQL) and says which ran.
    pub fn migrate(&self) -> Result<MigrationReport, DbError> {
        migrate::run_pending(&mut *self.get()?)
    }

    /// How many embedded migrations are not yet applied.
    pub fn pending_migrations(&self) -> Result<usize, DbError> {
        migrate::pending_count(&mut *self.get()?)
    }
}

/// Escapes `\`, `%` and `_` so a search text matches literally in `LIKE … ESCAPE '\'`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// True when `err` is a unique-constraint violation, the portable signal of a duplicate.
pub fn is_unique_violation(err: &DieselError) -> bool {
    matches!(err, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
}
