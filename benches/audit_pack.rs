//! Benchmark: taking a quarterly audit and writing its pack for a large synthetic stack.
//!
//! `cargo bench --bench audit_pack` (1,000,000 accounts over 300 apps and 200,000 people by
//! default; `STACKWARD_BENCH_ACCOUNTS=100000` for a quick run). Prints the seconds and peak RSS
//! of the snapshot and of the pack (written to a file, as `stackward audit pack` does), the
//! pack's size, and checks that packing twice gives the same bytes. SQLite; PostgreSQL too when
//! `STACKWARD_BENCH_POSTGRES_URL` (or `STACKWARD_TEST_POSTGRES_URL`) is set, in a fresh schema.

#[path = "support/stack.rs"]
mod stack;

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sha2::Digest;
use stack::{seed, APPS, PEOPLE};
use stackward::audit::Actor;
use stackward::db::Db;
use stackward::stack_audit::{self, pack, Quarter};
use std::time::Instant;

/// Peak RSS in KiB since the last reset.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the peak to the current RSS, so each phase's peak is its own (Linux ≥ 4.0).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
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
    let t = Instant::now();
    let r = stackward::findings::refresh(&mut conn, today, stackward::findings::RuleSettings::default(), None)?;
    println!("{label}: findings refreshed in {:.1} s ({} opened)", t.elapsed().as_secs_f64(), r.opened);

    let resettable = reset_peak();
    let t = Instant::now();
    let audit = stack_audit::take(&mut conn, &Actor("bench".into()), Quarter::of(today), stackward::time::now())?;
    println!(
        "{label}: snapshot taken in {:.1} s, peak RSS {} MiB{}",
        t.elapsed().as_secs_f64(),
        peak_kib() / 1024,
        if resettable { "" } else { " (process peak: the kernel refused a reset)" }
    );

    let dir = tempfile::tempdir()?;
    let mut digests = Vec::new();
    for round in ["first", "second"] {
        reset_peak();
        let path = dir.path().join(format!("{round}.zip"));
        let t = Instant::now();
        let files = pack::write_zip(&mut conn, audit.id, std::io::BufWriter::new(std::fs::File::create(&path)?))?;
        let secs = t.elapsed().as_secs_f64();
        let bytes = std::fs::read(&path)?;
        let seats = files.iter().find(|f| f.name == "seats.csv").map(|f| f.bytes).unwrap_or(0);
        let xlsx = files.iter().find(|f| f.name == "workbook.xlsx").map(|f| f.bytes).unwrap_or(0);
        println!(
            "{label}: {round} pack of {n_accounts} seats in {secs:.1} s, peak RSS {} MiB; zip {:.1} MiB \
             (workbook.xlsx {:.1} MiB, seats.csv {:.1} MiB)",
            peak_kib() / 1024,
            bytes.len() as f64 / 1048576.0,
            xlsx as f64 / 1048576.0,
            seats as f64 / 1048576.0
        );
        digests.push(hex::encode(sha2::Sha256::digest(&bytes)));
    }
    assert_eq!(digests[0], digests[1], "two packs of one audit are the same bytes");
    println!("{label}: both packs sha256 {}", digests[0]);
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
