//! A fresh database per test: a temporary SQLite file, or a fresh PostgreSQL schema reached
//! through `search_path` and dropped at the end.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use stackward::db::Db;

/// The env var naming the PostgreSQL server tests may use.
pub const PG_ENV: &str = "STACKWARD_TEST_POSTGRES_URL";

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

impl TestBackend {
    pub fn name(self) -> &'static str {
        match self {
            TestBackend::Sqlite => "sqlite",
            TestBackend::Postgres => "postgres",
        }
    }
}

/// A migrated database that is removed when dropped.
pub struct TestDb {
    /// The pool over it.
    pub db: Db,
    /// Its URL, as the app would be configured.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[expect(dead_code, reason = "held only so the file is deleted when the test ends")] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("t_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// Appends libpq `options` so every pooled connection uses `schema`.
pub fn with_search_path(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

impl TestDb {
    /// An empty database (not migrated).
    pub fn empty(backend: TestBackend) -> Self {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                let db = Db::open(&url, 4).expect("open sqlite");
                TestDb { db, url, cleanup: Cleanup::Sqlite(dir) }
            }
            TestBackend::Postgres => {
                let admin_url = std::env::var(PG_ENV).expect("the harness runs postgres tests only when set");
                let schema = unique_name();
                let mut admin = PgConnection::establish(&admin_url).expect("connect to test PostgreSQL");
                admin.batch_execute(&format!("CREATE SCHEMA {schema}")).expect("create test schema");
                let url = with_search_path(&admin_url, &schema);
                let db = Db::open(&url, 4).expect("open postgres");
                TestDb { db, url, cleanup: Cleanup::Postgres { admin_url, schema } }
            }
        }
    }

    /// A database with every migration applied.
    pub fn new(backend: TestBackend) -> Self {
        let t = Self::empty(backend);
        t.db.migrate().expect("migrate test database");
        t
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, schema } = &self.cleanup {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}
