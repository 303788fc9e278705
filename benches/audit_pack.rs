//! Benchmark: taking a quarterly audit and writing its pack for a large synthetic stack.
//!
//! `cargo bench --bench audit_pack` (1,000,000 accounts over 300 apps and 200,000 people by
//! default; `STACKWARD_BENCH_ACCOUNTS=100000` for a quick run). Prints the seconds and peak RSS
//! of the snapshot and of the pack (written to a file, as `stackward audit pack` does), the
//! pack's size, and checks that packing twice gives the same bytes. SQLite; PostgreSQL too when
//! `STACKWARD_BENCH_POSTGRES_URL` (or `STACKWARD_TEST_POSTGRES_URL`) is set, in a fresh schema.

use chrono::{Duration, NaiveDate, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sha2::Digest;
use stackward::audit::Actor;
use stackward::db::schema::{accounts, apps, people, subscriptions};
use stackward::db::{Conn, Db};
use stackward::stack_audit::{self, pack, Quarter};
use std::time::Instant;

const APPS: i64 = 300;
const PEOPLE: i64 = 200_000;

/// Runs a batch insert on the concrete connection: multi-row VALUES is not available through
/// the MultiConnection enum, while each backend has it.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            Conn::Sqlite($c) => $body,
            Conn::Postgres($c) => $body,
        }
    };
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn seed(conn: &mut Conn, n_accounts: i64, today: NaiveDate) -> QueryResult<()> {
    let now = stackward::time::now();
    let at = |days: i64| now - Duration::days(days);
    stackward::db::write_tx(conn, |c| {
        let app_rows: Vec<_> = (1..=APPS)
            .map(|i| {
                (
                    apps::name.eq(format!("App {i}")),
                    apps::category.eq(Some(format!("category {}", i % 30))),
                    apps::domains.eq(""),
                    apps::status.eq("approved"),
                    apps::created_at.eq(now),
                    apps::updated_at.eq(now),
                )
            })
            .collect();
        on_backend!(c, |c| diesel::insert_into(apps::table).values(&app_rows).execute(c))?;
        let per_app = n_accounts / APPS + 1;
        let sub_rows: Vec<_> = (1..=APPS)
            .map(|i| {
                (
                    subscriptions::app_id.eq(i),
                    subscriptions::plan.eq("Business"),
                    subscriptions::seats_purchased.eq(Some(per_app + per_app / 10)),
                    subscriptions::unit_price_cents.eq(if i % 10 == 0 { None } else { Some(500 + (i * 37) % 4500) }),
                    subscriptions::currency.eq("USD"),
                    subscriptions::billing_frequency.eq("monthly"),
                    subscriptions::term_start.eq(today - Duration::days(300)),
                    subscriptions::term_end.eq(Some(today + Duration::days(i % 200))),
                    subscriptions::renewal_type.eq("auto"),
                    subscriptions::notice_days.eq(Some(30)),
                    subscriptions::status.eq("active"),
                    subscriptions::term_number.eq(1),
                    subscriptions::created_at.eq(now),
                    subscriptions::updated_at.eq(now),
                )
            })
            .collect();
        on_backend!(c, |c| diesel::insert_into(subscriptions::table).values(&sub_rows).execute(c))?;
        Ok::<_, diesel::result::Error>(())
    })?;
    let batch = 2000;
    for start in (0..PEOPLE).step_by(batch) {
        let rows: Vec<_> = (start..(start + batch as i64).min(PEOPLE))
            .map(|p| {
                (
                    people::email.eq(format!("p{p}@bench.example")),
                    people::name.eq(format!("Person {p}")),
                    people::status.eq(if p % 50 == 0 { "departed" } else { "active" }),
                    people::created_at.eq(now),
                    people::updated_at.eq(now),
                )
            })
            .collect();
        stackward::db::write_tx(conn, |c| {
            on_backend!(c, |c| diesel::insert_into(people::table).values(&rows).execute(c))
        })?;
    }
    let mut rng = Lcg(42);
    for start in (0..n_accounts).step_by(batch) {
        let rows: Vec<_> = (start..(start + batch as i64).min(n_accounts))
            .map(|i| {
                let app = i % APPS + 1;
                let person = (rng.next() % PEOPLE as u64) as i64;
                let roll = rng.next() % 100;
                let last_active = match roll {
                    0..=69 => Some(at((rng.next() % 30) as i64)),
                    70..=89 => Some(at(61 + (rng.next() % 140) as i64)),
                    _ => None,
                };
                (
                    accounts::app_id.eq(app),
                    accounts::subscription_id.eq(Some(app)),
                    accounts::person_id.eq(Some(person + 1)),
                    accounts::external_id.eq(Some(format!("a{i}"))),
                    accounts::email.eq(Some(format!("p{person}@bench.example"))),
                    accounts::status.eq("active"),
                    accounts::billable.eq(true),
                    accounts::last_active_at.eq(last_active),
                    accounts::first_seen_at.eq(at(365)),
                    accounts::last_seen_at.eq(at(0)),
                    accounts::created_at.eq(at(365)),
                    accounts::updated_at.eq(at(0)),
                )
            })
            .collect();
        stackward::db::write_tx(conn, |c| {
            on_backend!(c, |c| diesel::insert_into(accounts::table).values(&rows).execute(c))
        })?;
    }
    Ok(())
}

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
    seed(&mut conn, n_accounts, today)?;
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
