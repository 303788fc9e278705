//! The connection enum over both backends and the r2d2 manager that opens it by URL scheme.

use diesel::connection::SimpleConnection;
use diesel::{Connection, ConnectionError, PgConnection, SqliteConnection};

/// One connection type for both backends; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    /// PostgreSQL, for several replicas sharing one database.
    Postgres(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://path` or `sqlite::memory:`
    Sqlite,
    /// `postgres://…` or `postgresql://…`
    Postgres,
}

/// A database URL split into its backend and the string that backend's driver accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// The backend named by the scheme.
    pub backend: Backend,
    /// What is handed to the driver: a file path for SQLite, the URL itself for PostgreSQL.
    pub target: String,
}

/// Why a database URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    /// The scheme is neither sqlite nor postgres.
    #[error("unsupported database URL scheme in {0:?}: use sqlite://FILE or postgres://…")]
    Scheme(String),
    /// `sqlite://` with no file.
    #[error("the SQLite URL names no file: use sqlite://stackward.db")]
    EmptyPath,
}

impl DatabaseUrl {
    /// Picks the backend from the scheme; SQLite would accept any string, so unknown schemes are refused here.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if rest.is_empty() {
                return Err(UrlError::EmptyPath);
            }
            return Ok(Self { backend: Backend::Sqlite, target: rest.to_string() });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self { backend: Backend::Postgres, target: url.to_string() });
        }
        // Redact credentials before the URL appears in an error message.
        let shown = url.split('@').next_back().unwrap_or_default().to_string();
        Err(UrlError::Scheme(shown))
    }

    /// Opens one connection and applies the per-connection settings.
    pub fn connect(&self) -> Result<Conn, ConnectionError> {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(&self.target)?;
                // WAL lets readers work while a writer commits; busy_timeout waits for the lock
                // instead of failing at once when two pool connections write together.
                c.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(Conn::Sqlite(c))
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.target)?;
                c.batch_execute("SET TIME ZONE 'UTC'").map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(Conn::Postgres(c))
            }
        }
    }
}

/// r2d2 manager that opens connections for one database URL.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    /// A manager for the given URL.
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = ConnectionError;

    fn connect(&self) -> Result<Conn, ConnectionError> {
        self.url.connect()
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnectionError> {
        conn.batch_execute("SELECT 1").map_err(ConnectionError::CouldntSetupConfiguration)
    }

    // A connection handed back inside a transaction (a task panicked mid-way) or with a broken
    // transaction manager would poison the next user; r2d2 drops it instead.
    fn has_broken(&self, conn: &mut Conn) -> bool {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let depth = match conn {
            Conn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
            Conn::Postgres(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
        };
        !matches!(depth, Ok(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_left_inside_a_transaction_is_not_reused() {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = crate::db::Db::open(&url, 1).unwrap();
        {
            let mut conn = db.get().unwrap();
            if let Conn::Sqlite(c) = &mut *conn {
                AnsiTransactionManager::begin_transaction(c).unwrap();
            }
            // Dropped here mid-transaction, as when a blocking task panics.
        }
        let mut conn = db.get().unwrap();
        let depth = match &mut *conn {
            Conn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth().unwrap(),
            Conn::Postgres(_) => unreachable!(),
        };
        assert_eq!(depth, None, "the pool hands out a clean connection");
        crate::db::write_tx(&mut conn, |_| Ok::<_, diesel::result::Error>(())).unwrap();
    }

    #[test]
    fn url_schemes() {
        let u = DatabaseUrl::parse("sqlite://stackward.db").unwrap();
        assert_eq!(u.backend, Backend::Sqlite);
        assert_eq!(u.target, "stackward.db");
        assert_eq!(DatabaseUrl::parse("sqlite::memory:").unwrap().target, ":memory:");
        let p = DatabaseUrl::parse("postgres://u:p@h/db").unwrap();
        assert_eq!(p.backend, Backend::Postgres);
        assert_eq!(DatabaseUrl::parse("sqlite://"), Err(UrlError::EmptyPath));
        let err = DatabaseUrl::parse("mysql://user:secret@host/db").unwrap_err().to_string();
        assert!(err.contains("host/db") && !err.contains("secret"), "{err}");
    }
}
