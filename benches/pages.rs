//! Benchmark: server-side render time of every HTML page over a large stack, on SQLite and
//! PostgreSQL. Requests go through the real actix app in-process (no network), so the figure
//! is the handler, its queries and the template.
//!
//! `cargo bench --bench pages` (1,000,000 accounts over 300 apps by default;
//! `STACKWARD_BENCH_ACCOUNTS=100000` for a quick run; `STACKWARD_BENCH_ROUNDS` renders per page,
//! default 50). PostgreSQL runs too when `STACKWARD_BENCH_POSTGRES_URL` (or
//! `STACKWARD_TEST_POSTGRES_URL`) is set, in a fresh schema. Goal: p99 under 50 ms per page.
//!
//! The API's list routes are timed the same way, then served on a loopback port and put under a
//! bounded load with `wrk` (Debian's package; 2 threads, 16 connections, 5 s per route or
//! `STACKWARD_BENCH_LOAD_SECONDS`), each route's requests/s and p99 printed beside `/healthz`'s,
//! the HTTP ceiling. Before each route one seat is written, so its first request reads the
//! remembered figures afresh (printed as "first"; the percentiles are of the requests after it),
//! and each route is asked once before its load.

#[path = "support/stack.rs"]
mod stack;

use actix_web::test;
use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use stack::{seed, APPS, PEOPLE};
use stackward::audit::Actor;
use stackward::auth::{self, Role, TokenScope};
use stackward::context::Context;
use stackward::db::{Conn, Db};
use stackward::findings::{self, RuleSettings};
use stackward::workflow::{self, Decider, Env, RequestInput, RequestKind};
use std::time::{Duration as Elapsed, Instant};

const PAGES: &[&str] = &[
    "/",
    "/apps",
    "/apps/7",
    "/findings",
    "/requests",
    "/requests/new",
    "/requests/1",
    "/renewals",
    "/connections",
    "/people",
    "/audit-log",
    "/settings",
];

/// A few hundred requests, so the requests pages and the dashboard have something to read.
fn requests(conn: &mut Conn, ctx: &Context) -> anyhow::Result<()> {
    let url = ctx.settings.public_url();
    let env = Env {
        catalog: &ctx.catalog,
        public_url: &url,
        default_notice_days: i32::from(ctx.settings.default_notice_days),
    };
    for i in 0..200i64 {
        let who = Decider {
            email: Some(format!("p{}@bench.example", 1 + i * 7)),
            roles: vec![Role::Employee],
            actor: Actor("bench".into()),
        };
        let input = RequestInput {
            kind: Some(RequestKind::AddSeats),
            app_id: Some(stackward::inventory::AppId(1 + i % APPS)),
            seats: Some(2),
            purpose: Some("bench".into()),
            ..Default::default()
        };
        workflow::submit(conn, env, &who, input, stackward::time::now())?;
    }
    Ok(())
}

fn percentile(sorted: &[Elapsed], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn run(label: &str, db: Db, n_accounts: i64, rounds: usize) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    db.migrate()?;
    let dir = tempfile::tempdir()?;
    let key = dir.path().join("secret.key").display().to_string();
    let flags = ["--secret-key-file", key.as_str(), "--public-url", "http://bench.test"];
    let ctx = Context::new(db.clone(), stackward::config::Settings::from_flags(&flags)?)?;
    let t = Instant::now();
    let secret = {
        let mut conn = db.get()?;
        seed(&mut conn, n_accounts, today, true)?;
        findings::refresh(&mut conn, today, RuleSettings::default(), Some(&ctx.catalog))?;
        requests(&mut conn, &ctx)?;
        auth::create(
            &mut conn,
            &Actor("bench".into()),
            "bench",
            Role::Admin,
            Some("p10@bench.example"),
            TokenScope::Api,
        )?
        .secret
    };
    println!(
        "{label}: seeded {n_accounts} accounts, {APPS} apps, {PEOPLE} people, findings and 200 requests in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let largest: i64 = {
        use stackward::db::schema::accounts;
        let mut conn = db.get()?;
        accounts::table
            .group_by(accounts::app_id)
            .select(accounts::app_id)
            .order(diesel::dsl::count_star().desc())
            .first(&mut conn)?
    };
    let app = test::init_service(stackward::web::build_app(ctx.clone(), stackward::web::Metrics::new())).await;
    let api = api_routes(largest);
    let paths = PAGES.iter().map(|p| p.to_string()).chain(api.iter().cloned());
    // Routes too slow to load: 16 connections on a route that takes seconds would only queue
    // work that outlives its own run and spoils the next route's.
    let mut too_slow = Vec::new();
    for path in paths {
        let path = path.as_str();
        // A write to one seat first: figures remembered from the seats are read afresh by the
        // first request, as after a sync or a usage push; that request is printed as "first".
        {
            use stackward::db::schema::accounts;
            let mut conn = db.get()?;
            diesel::update(accounts::table.find(1i64))
                .set(accounts::updated_at.eq(stackward::time::now()))
                .execute(&mut conn)?;
        }
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let req = test::TestRequest::get()
                .uri(path)
                .insert_header(("authorization", format!("Bearer {secret}")))
                .to_request();
            let t = Instant::now();
            let resp = test::call_service(&app, req).await;
            let status = resp.status();
            let body = test::read_body(resp).await;
            times.push(t.elapsed());
            anyhow::ensure!(status.is_success(), "{path}: {status}: {}", String::from_utf8_lossy(&body));
        }
        // The first request is printed apart; the percentiles are of the others.
        let first = times.remove(0).as_secs_f64() * 1000.0;
        times.sort();
        println!(
            "{label}: {path:<44} first {first:>7.1} ms  p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&times, 1.0)
        );
        if percentile(&times, 0.99) > TOO_SLOW_TO_LOAD_MS {
            too_slow.push(path.to_string());
        }
    }
    let loaded: Vec<String> = api.into_iter().filter(|r| !too_slow.contains(r)).collect();
    for r in too_slow.iter().filter(|r| r.starts_with("/api/")) {
        println!("{label}: load {r:<44} not loaded: p99 above {TOO_SLOW_TO_LOAD_MS} ms one at a time");
    }
    under_load(label, ctx, &secret, &loaded).await
}

/// Routes slower than this one request at a time are not put under load.
const TOO_SLOW_TO_LOAD_MS: f64 = 100.0;

/// The API's list routes (the largest app's seats for accounts), with `/healthz` first.
fn api_routes(largest_app: i64) -> Vec<String> {
    let mut routes: Vec<String> = [
        "/healthz",
        "/api/v1/findings?limit=50",
        "/api/v1/findings/summary",
        "/api/v1/apps?limit=50",
        "/api/v1/people?limit=50",
        "/api/v1/subscriptions?limit=50",
        "/api/v1/renewals?limit=50",
        "/api/v1/requests?limit=50",
        "/api/v1/audit-log?limit=50",
        "/api/v1/connections",
    ]
    .iter()
    .map(|r| r.to_string())
    .collect();
    routes.insert(3, format!("/api/v1/accounts?app_id={largest_app}&limit=50"));
    routes
}

/// Seconds of load per route: `STACKWARD_BENCH_LOAD_SECONDS`, default 5.
fn load_seconds() -> u32 {
    std::env::var("STACKWARD_BENCH_LOAD_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5)
}

/// What `wrk --latency` reported of one route.
struct Load {
    rps: f64,
    p99_ms: f64,
    failed: bool,
}

/// Reads requests/s, the 99th percentile and any non-2xx count from `wrk --latency` output.
fn parse_wrk(out: &str) -> Option<Load> {
    let ms = |v: &str| -> Option<f64> {
        let (n, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
        let n: f64 = n.parse().ok()?;
        Some(match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            "m" => n * 60_000.0,
            _ => return None,
        })
    };
    let p99 = out.lines().find_map(|l| l.trim().strip_prefix("99%").map(str::trim)).and_then(ms)?;
    let rps = out.lines().find_map(|l| l.strip_prefix("Requests/sec:")).and_then(|v| v.trim().parse().ok())?;
    let failed = out.contains("Non-2xx or 3xx responses") || out.contains("Socket errors") || rps == 0.0;
    Some(Load { rps, p99_ms: p99, failed })
}

/// Serves the app on a loopback port and puts `wrk` on each route in turn.
async fn under_load(label: &str, ctx: Context, secret: &str, routes: &[String]) -> anyhow::Result<()> {
    if std::process::Command::new("wrk").arg("--version").output().is_err() {
        println!("{label}: load: skipped (install wrk)");
        return Ok(());
    }
    let metrics = stackward::web::Metrics::new();
    let server = actix_web::HttpServer::new(move || stackward::web::build_app(ctx.clone(), metrics.clone()))
        .workers(2)
        .bind(("127.0.0.1", 0))?;
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let mut ceiling = None;
    let client = reqwest::Client::new();
    for route in routes {
        // One request first: the load measures a route whose figures are remembered; what the
        // first request after a write costs is the "first" column above.
        let warm = client.get(format!("http://{addr}{route}")).bearer_auth(secret).send().await?;
        anyhow::ensure!(warm.status().is_success(), "{route}: {}", warm.status());
        let out = tokio::process::Command::new("wrk")
            .args(["-t2", "-c16", &format!("-d{}s", load_seconds()), "--latency", "-H"])
            .arg(format!("Authorization: Bearer {secret}"))
            .arg(format!("http://{addr}{route}"))
            .output()
            .await?;
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(load) = parse_wrk(&text) else { anyhow::bail!("{route}: wrk said: {text}") };
        let ceiling = *ceiling.get_or_insert(load.rps);
        println!(
            "{label}: load {route:<44} {:>8.0} req/s  p99 {:>7.1} ms  ({:.3} of /healthz){}",
            load.rps,
            load.p99_ms,
            load.rps / ceiling,
            if load.failed { "  ERRORS" } else { "" }
        );
    }
    handle.stop(true).await;
    Ok(())
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: run small then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let env = |k: &str| std::env::var(k).ok();
    let n: i64 =
        env("STACKWARD_BENCH_ACCOUNTS").and_then(|v| v.parse().ok()).unwrap_or(if quick { 3_000 } else { 1_000_000 });
    let rounds: usize =
        env("STACKWARD_BENCH_ROUNDS").and_then(|v| v.parse().ok()).unwrap_or(if quick { 3 } else { 50 }).max(2);
    let dir = tempfile::tempdir()?;
    // `STACKWARD_BENCH_KEEP_DB=FILE` keeps the SQLite database there, to look into afterwards.
    let file = env("STACKWARD_BENCH_KEEP_DB").unwrap_or_else(|| dir.path().join("bench.db").display().to_string());
    let sqlite = Db::open(&format!("sqlite://{file}"), 4)?;
    run("sqlite", sqlite, n, rounds).await?;

    let pg = std::env::var("STACKWARD_BENCH_POSTGRES_URL").or_else(|_| std::env::var("STACKWARD_TEST_POSTGRES_URL"));
    match pg {
        Ok(url) => {
            let schema = format!("bench_pages_{}", std::process::id());
            let mut admin = PgConnection::establish(&url)?;
            admin.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
            let sep = if url.contains('?') { '&' } else { '?' };
            let db = Db::open(&format!("{url}{sep}options=-csearch_path%3D{schema}"), 4)?;
            let result = run("postgres", db, n, rounds).await;
            admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))?;
            result?;
        }
        Err(_) => println!("postgres: skipped (set STACKWARD_BENCH_POSTGRES_URL)"),
    }
    Ok(())
}
