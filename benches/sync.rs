//! Benchmark: syncing a SCIM connection of 10,000 / 50,000 / 100,000 users from the SCIM fake
//! over loopback, on SQLite and PostgreSQL. For each size: a first sync (all inserts), a second
//! (unchanged: touches only) and a third after 1% of users left (sweep). Reports seconds,
//! records/s, API calls, rows added/updated/removed, and peak / current RSS per size, so that
//! memory staying flat as users grow is visible.
//!
//! The ceiling is measured in the same run: the same number of seat rows loaded straight into a
//! fresh database with the same indexes (SQLite: one transaction of multi-row inserts;
//! PostgreSQL: COPY), and each sync prints "stackward / raw", its share of that speed.
//!
//! `cargo bench --bench sync`; `STACKWARD_BENCH_USERS=1000,5000` for other sizes. PostgreSQL runs
//! too when `STACKWARD_BENCH_POSTGRES_URL` (or `STACKWARD_TEST_POSTGRES_URL`) is set, in a fresh
//! schema per size. The fake runs in this process (one actix worker on the same runtime), so its
//! CPU time and memory are part of the figures.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::{Connection, PgConnection};
use stackward::audit::Actor;
use stackward::config::Settings;
use stackward::context::Context;
use stackward::db::schema::{accounts, apps};
use stackward::db::Conn;
use stackward::db::Db;
use stackward::fakes::{FakeServer, Vendor, TOKEN};
use stackward::inventory::{Account, App, AppId};
use stackward::sync::{self, connections, NewConnection, SyncRun};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A field of /proc/self/status in KiB (VmHWM = peak RSS, VmRSS = current RSS).
fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "?".into())
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0: `echo 5 > /proc/self/clear_refs`), so the
/// peak of each size can be read on its own. False when the kernel refuses.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

struct Row {
    backend: &'static str,
    users: usize,
    run: &'static str,
    secs: f64,
    /// Seconds until the last page was applied.
    paging_secs: f64,
    run_row: SyncRun,
    /// Highest RSS sampled after a page was applied (KiB).
    paging_rss: u64,
    /// Rows/s of the raw bulk load of the same number of seats (the ceiling).
    raw: f64,
}

struct SizeMem {
    backend: &'static str,
    users: usize,
    rss_before: Option<u64>,
    peak: Option<u64>,
    rss_after: Option<u64>,
}

/// Runs one sync; also returns the highest RSS (KiB) sampled after each applied page, which
/// excludes the findings refresh `run_now` does once the pages are in.
/// Also returns the seconds until the last page was applied (the rest is the sweep, closing the
/// run and the findings refresh).
async fn timed_sync(ctx: &Context, id: sync::ConnectionId) -> anyhow::Result<(f64, f64, SyncRun, u64)> {
    let paging_peak = Arc::new(AtomicU64::new(0));
    let last_page_us = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let (seen, last) = (paging_peak.clone(), last_page_us.clone());
    let progress: sync::Progress = Arc::new(move |_, _| {
        seen.fetch_max(status_kib("VmRSS").unwrap_or(0), Ordering::Relaxed);
        last.store(t.elapsed().as_micros() as u64, Ordering::Relaxed);
    });
    let run = sync::run_now(ctx, id, "cli", Some(progress)).await?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(run.status == "succeeded", "sync {} failed: {:?}", run.id, run.error);
    let paging_secs = last_page_us.load(Ordering::Relaxed) as f64 / 1e6;
    Ok((secs, paging_secs, run, paging_peak.load(Ordering::Relaxed)))
}

/// The ceiling: `users` seat rows loaded straight into a fresh, migrated database with the same
/// indexes, SQLite in one transaction of multi-row inserts, PostgreSQL with COPY. Rows/s.
fn raw_load(db: &Db, users: usize) -> anyhow::Result<f64> {
    db.migrate()?;
    let mut conn = db.get()?;
    let now = chrono::Utc::now().naive_utc();
    let mut app = App::blank(now);
    app.name = "Raw load".into();
    let app: AppId = diesel::insert_into(apps::table).values(&app).returning(apps::id).get_result(&mut *conn)?;
    let seats: Vec<Account> = (0..users)
        .map(|i| {
            let mut a = Account::blank(app, now);
            a.external_id = Some(format!("u{i:07}"));
            a.email = Some(format!("user{i}@example.com"));
            a.username = a.email.clone();
            a.name = Some(format!("User {i}"));
            a
        })
        .collect();
    let t = Instant::now();
    match &mut *conn {
        Conn::Sqlite(c) => c.transaction(|c| {
            for chunk in seats.chunks(500) {
                diesel::insert_into(accounts::table).values(chunk).execute(c)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?,
        Conn::Postgres(c) => {
            diesel::copy_from(accounts::table).from_insertable(&seats).execute(c)?;
        }
    }
    Ok(users as f64 / t.elapsed().as_secs_f64())
}

async fn one_size(
    backend: &'static str,
    db: Db,
    db_url: &str,
    key_file: &str,
    users: usize,
    raw: f64,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    db.migrate()?;
    let settings = Settings::from_flags(&["--database-url", db_url, "--secret-key-file", key_file])
        .map_err(|e| anyhow::anyhow!("settings: {e}"))?;
    let ctx = Context::new(db, settings)?;
    let fake = FakeServer::start(Vendor::Scim, users).await?;
    let new = NewConnection {
        connector: "scim".into(),
        name: format!("bench-{users}"),
        base_url: Some(fake.base_url.clone()),
        settings: BTreeMap::from([("app".to_string(), "Bench SCIM".to_string())]),
        secrets: BTreeMap::from([("token".to_string(), TOKEN.to_string())]),
        schedule: Some(String::new()),
    };
    let (registry, sealer) = (ctx.registry.clone(), ctx.secrets.clone());
    let conn = ctx.db.run(move |c| connections::create(c, &Actor("bench".into()), &registry, &sealer, new)).await?;

    for (label, remove) in [("first (inserts)", false), ("second (unchanged)", false), ("third (-1%, sweep)", true)] {
        if remove {
            for i in (0..users).step_by(100) {
                fake.remove_user(i);
            }
        }
        let (secs, paging_secs, run_row, paging_rss) = timed_sync(&ctx, conn.id).await?;
        println!(
            "{backend:8} {users:>7} {label:20} {secs:7.2} s (pages done at {paging_secs:.2} s) {:>9.0} rec/s \
             (stackward / raw {:.2}) {:>5} calls  +{} ~{} -{}  RSS {} MiB (max per page {} MiB, peak {} MiB)",
            run_row.seen as f64 / secs,
            run_row.seen as f64 / secs / raw,
            run_row.api_calls,
            run_row.added,
            run_row.updated,
            run_row.removed,
            mib(status_kib("VmRSS")),
            mib(Some(paging_rss)),
            mib(status_kib("VmHWM")),
        );
        rows.push(Row { backend, users, run: label, secs, paging_secs, run_row, paging_rss, raw });
    }
    fake.stop().await;
    Ok(())
}

async fn backend_runs(
    backend: &'static str,
    sizes: &[usize],
    open: &dyn Fn(&str) -> anyhow::Result<(Db, String)>,
    key_file: &str,
    rows: &mut Vec<Row>,
    mem: &mut Vec<SizeMem>,
) -> anyhow::Result<()> {
    for &users in sizes {
        let raw = raw_load(&open(&format!("raw_{users}"))?.0, users)?;
        println!("{backend:8} {users:>7} raw bulk load {raw:>9.0} rows/s (the ceiling)");
        let (db, url) = open(&users.to_string())?;
        let can_reset = reset_peak();
        let rss_before = status_kib("VmRSS");
        one_size(backend, db, &url, key_file, users, raw, rows).await?;
        mem.push(SizeMem {
            backend,
            users,
            rss_before,
            peak: if can_reset { status_kib("VmHWM") } else { None },
            rss_after: status_kib("VmRSS"),
        });
    }
    Ok(())
}

fn report(rows: &[Row], mem: &[SizeMem]) {
    println!();
    println!("| backend | users | run | seconds | pages done at (s) | records/s | raw rows/s | stackward / raw | API calls | added | updated | removed | max RSS while paging (MiB) |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.0} | {:.0} | {:.2} | {} | {} | {} | {} | {} |",
            r.backend,
            r.users,
            r.run,
            r.secs,
            r.paging_secs,
            r.run_row.seen as f64 / r.secs,
            r.raw,
            r.run_row.seen as f64 / r.secs / r.raw,
            r.run_row.api_calls,
            r.run_row.added,
            r.run_row.updated,
            r.run_row.removed,
            mib(Some(r.paging_rss))
        );
    }
    println!();
    println!("| backend | users | RSS before (MiB) | peak RSS during size (MiB) | growth over start (MiB) | RSS after (MiB) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for m in mem {
        let growth = match (m.peak, m.rss_before) {
            (Some(p), Some(b)) => format!("{:.1}", (p as f64 - b as f64) / 1024.0),
            _ => "?".into(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            m.backend,
            m.users,
            mib(m.rss_before),
            mib(m.peak),
            growth,
            mib(m.rss_after)
        );
    }
    for backend in ["sqlite", "postgres"] {
        let of: Vec<&SizeMem> = mem.iter().filter(|m| m.backend == backend).collect();
        if let (Some(small), Some(big)) = (of.first(), of.last()) {
            if small.users != big.users {
                let g = |m: &SizeMem| m.peak.zip(m.rss_before).map(|(p, b)| p as f64 - b as f64);
                if let (Some(gs), Some(gb)) = (g(small), g(big)) {
                    println!(
                        "{backend}: RSS growth during the {} run {:.1} MiB vs {:.1} MiB during the {} run ({:+.1} MiB for {}x the users)",
                        big.users,
                        gb / 1024.0,
                        gs / 1024.0,
                        small.users,
                        (gb - gs) / 1024.0,
                        big.users / small.users.max(1)
                    );
                }
            }
        }
    }
    println!("process peak RSS (VmHWM since last reset) {} MiB", mib(status_kib("VmHWM")));
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: run small then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = match std::env::var("STACKWARD_BENCH_USERS") {
        Ok(v) => v.split(',').filter_map(|s| s.trim().replace('_', "").parse().ok()).collect(),
        Err(_) if quick => vec![500, 1_000],
        Err(_) => vec![10_000, 50_000, 100_000],
    };
    anyhow::ensure!(!sizes.is_empty(), "STACKWARD_BENCH_USERS names no sizes");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let key_file = dir.path().join("secret.key").display().to_string();
    println!(
        "sync benchmark: sizes {sizes:?}; SCIM fake in this process on loopback (count=100 pages); \
         each timing includes the findings refresh that follows a successful sync"
    );
    let (mut rows, mut mem) = (Vec::new(), Vec::new());

    let sqlite_open = |name: &str| -> anyhow::Result<(Db, String)> {
        let url = format!("sqlite://{}", dir.path().join(format!("bench-{name}.db")).display());
        Ok((Db::open(&url, 4)?, url))
    };
    rt.block_on(backend_runs("sqlite", &sizes, &sqlite_open, &key_file, &mut rows, &mut mem))?;

    let pg = std::env::var("STACKWARD_BENCH_POSTGRES_URL").or_else(|_| std::env::var("STACKWARD_TEST_POSTGRES_URL"));
    match pg {
        Ok(admin_url) => {
            let mut admin = PgConnection::establish(&admin_url)?;
            let schemas = std::cell::RefCell::new(Vec::new());
            let pg_open = |name: &str| -> anyhow::Result<(Db, String)> {
                let schema = format!("bench_sync_{}_{name}", std::process::id());
                PgConnection::establish(&admin_url)?.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
                schemas.borrow_mut().push(schema.clone());
                let sep = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{sep}options=-csearch_path%3D{schema}");
                Ok((Db::open(&url, 4)?, url))
            };
            let result = rt.block_on(backend_runs("postgres", &sizes, &pg_open, &key_file, &mut rows, &mut mem));
            for schema in schemas.borrow().iter() {
                admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))?;
            }
            result?;
        }
        Err(_) => println!("postgres: skipped (set STACKWARD_BENCH_POSTGRES_URL)"),
    }
    report(&rows, &mem);
    Ok(())
}
