//! The test registry: plain tests run once; storage tests run once per backend, and their
//! PostgreSQL run is reported as ignored (never passed) when no PostgreSQL URL is set.

use super::db::{TestBackend, PG_ENV};
use futures_util::future::BoxFuture;

/// A registered test.
pub struct Test {
    pub name: String,
    pub body: Body,
}

/// How a test runs.
pub enum Body {
    /// Once, on no particular backend.
    Once(fn() -> BoxFuture<'static, ()>),
    /// Once per backend.
    PerBackend(fn(TestBackend) -> BoxFuture<'static, ()>),
    /// Once, needing PostgreSQL as well as SQLite.
    NeedsPostgres(fn() -> BoxFuture<'static, ()>),
    /// Once, in Chromium through ChromeDriver with an OpenID provider (ignored when missing).
    Browser(fn() -> BoxFuture<'static, ()>),
}

/// Registers `async fn name()`.
#[macro_export]
macro_rules! once {
    ($f:path) => {
        $crate::support::Test {
            name: format!("{}::{}", module_path!().trim_start_matches("integration::"), stringify!($f)),
            body: $crate::support::registry::Body::Once(|| Box::pin($f())),
        }
    };
}

/// Registers `async fn name(backend: TestBackend)` to run on each backend.
#[macro_export]
macro_rules! per_backend {
    ($f:path) => {
        $crate::support::Test {
            name: format!("{}::{}", module_path!().trim_start_matches("integration::"), stringify!($f)),
            body: $crate::support::registry::Body::PerBackend(|b| Box::pin($f(b))),
        }
    };
}

/// Registers `async fn name()` that drives a browser.
#[macro_export]
macro_rules! browser {
    ($f:path) => {
        $crate::support::Test {
            name: format!("{}::{}", module_path!().trim_start_matches("integration::"), stringify!($f)),
            body: $crate::support::registry::Body::Browser(|| Box::pin($f())),
        }
    };
}

/// Registers `async fn name()` that needs both backends.
#[macro_export]
macro_rules! needs_postgres {
    ($f:path) => {
        $crate::support::Test {
            name: format!("{}::{}", module_path!().trim_start_matches("integration::"), stringify!($f)),
            body: $crate::support::registry::Body::NeedsPostgres(|| Box::pin($f())),
        }
    };
}

fn run(fut: BoxFuture<'static, ()>) -> Result<(), libtest_mimic::Failed> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| libtest_mimic::Failed::from(format!("runtime: {e}")))?;
    rt.block_on(fut);
    Ok(())
}

/// Turns registered tests into harness trials.
pub fn trials(tests: Vec<Test>) -> Vec<libtest_mimic::Trial> {
    let pg = std::env::var(PG_ENV).is_ok_and(|v| !v.is_empty());
    let no_browser = super::browser::missing();
    if let Some(why) = &no_browser {
        eprintln!("note: {why}, so every browser test is reported as ignored (not run)");
    }
    let mut out = Vec::new();
    for t in tests {
        match t.body {
            Body::Once(f) => out.push(libtest_mimic::Trial::test(t.name, move || run(f()))),
            Body::Browser(f) => {
                out.push(libtest_mimic::Trial::test(t.name, move || run(f())).with_ignored_flag(no_browser.is_some()));
            }
            Body::NeedsPostgres(f) => {
                out.push(libtest_mimic::Trial::test(t.name, move || run(f())).with_ignored_flag(!pg));
            }
            Body::PerBackend(f) => {
                for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
                    let name = format!("{}::{}", t.name, backend.name());
                    let skip = backend == TestBackend::Postgres && !pg;
                    out.push(libtest_mimic::Trial::test(name, move || run(f(backend))).with_ignored_flag(skip));
                }
            }
        }
    }
    out
}
