//! Benchmark: one usage push of 10,000 events (`POST /api/v1/usage`'s work, without HTTP) on
//! SQLite and, when `STACKWARD_BENCH_POSTGRES_URL` (or `STACKWARD_TEST_POSTGRES_URL`) is set, on
//! PostgreSQL in a fresh schema. Three pushes: every seat moved forward, the same push again
//! (nothing to write), and 10,000 unknown emails with `create_seats`.
//!
//! `cargo bench --bench usage`. The target is under 1 s for the first push on SQLite.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use stackward::audit::Actor;
use stackward::db::schema::{accounts, apps};
use stackward::db::{Conn, Db};
use stackward::inventory::usage::{self, UsageEvent, UsagePush};
use stackward::inventory::{AppId, UsageSource};
use std::time::Instant;

const EVENTS: usize = usage::MAX_EVENTS;

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

fn seed(conn: &mut Conn) -> anyhow::Result<AppId> {
    let now = stackward::time::now();
    let app: AppId = diesel::insert_into(apps::table)
        .values((
            apps::name.eq("Long Tail"),
            apps::domains.eq(""),
            apps::status.eq("approved"),
            apps::created_at.eq(now),
            apps::updated_at.eq(now),
        ))
        .returning(apps::id)
        .get_result(conn)?;
    let rows: Vec<_> = (0..EVENTS)
        .map(|i| {
            (
                accounts::app_id.eq(app),
                accounts::external_id.eq(Some(format!("u-{i}"))),
                accounts::email.eq(Some(format!("user{i}@example.com"))),
                accounts::status.eq("active"),
                accounts::billable.eq(true),
                accounts::last_active_at.eq(Some(now - chrono::Duration::days(90))),
                accounts::first_seen_at.eq(now),
                accounts::last_seen_at.eq(now),
                accounts::created_at.eq(now),
                accounts::updated_at.eq(now),
                accounts::activity_tracked.eq(true),
            )
        })
        .collect();
    stackward::db::write_tx(conn, |c| {
        for chunk in rows.chunks(1000) {
            on_backend!(&mut *c, |c| diesel::insert_into(accounts::table).values(chunk).execute(c))?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(app)
}

/// Events for seats `{prefix}{i}`, all active at `at` (one instant for a run, so a repeated push
/// is truly the same).
fn events(prefix: &str, by_email: bool, at: chrono::NaiveDateTime) -> Vec<UsageEvent> {
    (0..EVENTS)
        .map(|i| UsageEvent {
            external_id: (!by_email).then(|| format!("u-{i}")),
            email: by_email.then(|| format!("{prefix}{i}@example.com")),
            last_active_at: at,
            premium_used: Some(i % 3 == 0),
        })
        .collect()
}

fn push(conn: &mut Conn, label: &str, app: AppId, events: Vec<UsageEvent>, create_seats: bool) -> anyhow::Result<()> {
    let p = UsagePush { app_id: Some(app), app: None, events, create_seats };
    let started = Instant::now();
    let r = usage::push(conn, &Actor("bench".into()), p, UsageSource::Push)?;
    let took = started.elapsed();
    println!(
        "  {label:<44} {:>8.1} ms  (matched {}, updated {}, created {}, unknown {})",
        took.as_secs_f64() * 1000.0,
        r.matched,
        r.updated,
        r.created,
        r.unknown.len()
    );
    Ok(())
}

fn run(name: &str, db: &Db) -> anyhow::Result<()> {
    db.migrate()?;
    let mut conn = db.get()?;
    let app = seed(&mut conn)?;
    println!("{name}: {EVENTS} seats");
    let hour_ago = stackward::time::now() - chrono::Duration::hours(1);
    let later = hour_ago + chrono::Duration::minutes(30);
    push(&mut conn, "10,000 events by external id, all forward", app, events("", false, hour_ago), false)?;
    push(&mut conn, "the same 10,000 again (nothing to write)", app, events("", false, hour_ago), false)?;
    push(&mut conn, "10,000 events by email, all forward", app, events("user", true, later), false)?;
    push(&mut conn, "10,000 new emails with create_seats", app, events("new", true, later), true)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite = Db::open(&format!("sqlite://{}", dir.path().join("bench.db").display()), 2)?;
    run("sqlite", &sqlite)?;
    let pg = std::env::var("STACKWARD_BENCH_POSTGRES_URL").or_else(|_| std::env::var("STACKWARD_TEST_POSTGRES_URL"));
    match pg {
        Ok(url) => {
            let schema = format!("bench_usage_{}", std::process::id());
            let mut admin = PgConnection::establish(&url)?;
            admin.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
            let sep = if url.contains('?') { '&' } else { '?' };
            let db = Db::open(&format!("{url}{sep}options=-csearch_path%3D{schema}"), 2)?;
            let result = run("postgres", &db);
            drop(db);
            admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))?;
            result?;
        }
        Err(_) => println!("postgres: skipped (set STACKWARD_BENCH_POSTGRES_URL)"),
    }
    Ok(())
}
