//! Benchmark: every findings rule over a large synthetic stack, on SQLite and PostgreSQL.
//!
//! `cargo bench --bench findings` (1,000,000 accounts over 300 apps by default;
//! `STACKWARD_BENCH_ACCOUNTS=100000` for a quick run). PostgreSQL runs too when
//! `STACKWARD_BENCH_POSTGRES_URL` (or `STACKWARD_TEST_POSTGRES_URL`) is set, in a fresh schema.

#[path = "support/stack.rs"]
mod stack;

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use stack::{seed, APPS, PEOPLE};
use stackward::db::Db;
use stackward::findings::{self, rules, snapshot::Snapshot, store, RuleSettings};
use std::time::Instant;

fn peak_rss_mib() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{} MiB", kb / 1024))
        .unwrap_or_else(|| "unknown".into())
}

/// Starts the peak RSS over (Linux: `5` into clear_refs), so each backend's figure is its
/// refreshes' own, not the seeding's or the backend run before. Where the kernel refuses, the
/// figure covers the whole process, which only overstates it.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn run(label: &str, db: &Db, n_accounts: i64) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    let mut conn = db.get()?;
    db.migrate()?;
    let t = Instant::now();
    seed(&mut conn, n_accounts, today, false)?;
    println!(
        "{label}: seeded {n_accounts} accounts, {APPS} apps, {PEOPLE} people in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    reset_peak_rss();
    let t = Instant::now();
    let snapshot = Snapshot::load(&mut conn, today, RuleSettings::default(), None)?;
    let load = t.elapsed();
    let t = Instant::now();
    let (computed, per_rule) = rules::all_timed(&snapshot);
    let compute = t.elapsed();
    let per_rule: Vec<String> = per_rule.iter().map(|(n, d)| format!("{n} {:.2} s", d.as_secs_f64())).collect();
    println!("{label}: rules: {}", per_rule.join(", "));
    let found = computed.len();
    drop(snapshot);
    let t = Instant::now();
    let first = store::refresh(&mut conn, computed, today)?;
    let write = t.elapsed();
    let first_peak = peak_rss_mib();
    let t = Instant::now();
    let second = findings::refresh(&mut conn, today, RuleSettings::default(), None)?;
    let rerun = t.elapsed();
    println!(
        "{label}: load {:.2} s, rules {:.2} s, store {:.2} s ({} findings opened); unchanged re-run {:.2} s ({} unchanged); total first refresh {:.2} s; peak RSS {first_peak} (first refresh), {} (with the re-run)",
        load.as_secs_f64(),
        compute.as_secs_f64(),
        write.as_secs_f64(),
        first.opened,
        rerun.as_secs_f64(),
        second.unchanged,
        (load + compute + write).as_secs_f64(),
        peak_rss_mib()
    );
    assert_eq!(found, first.opened);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: run small then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: i64 = std::env::var("STACKWARD_BENCH_ACCOUNTS").ok().and_then(|v| v.parse().ok()).unwrap_or(if quick {
        3_000
    } else {
        1_000_000
    });
    let dir = tempfile::tempdir()?;
    let sqlite = Db::open(&format!("sqlite://{}", dir.path().join("bench.db").display()), 2)?;
    run("sqlite", &sqlite, n)?;

    let pg = std::env::var("STACKWARD_BENCH_POSTGRES_URL").or_else(|_| std::env::var("STACKWARD_TEST_POSTGRES_URL"));
    match pg {
        Ok(url) => {
            let schema = format!("bench_{}", std::process::id());
            let mut admin = PgConnection::establish(&url)?;
            admin.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
            let sep = if url.contains('?') { '&' } else { '?' };
            let db = Db::open(&format!("{url}{sep}options=-csearch_path%3D{schema}"), 2)?;
            let result = run("postgres", &db, n);
            drop(db);
            admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))?;
            result?;
        }
        Err(_) => println!("postgres: skipped (set STACKWARD_BENCH_POSTGRES_URL)"),
    }
    Ok(())
}
