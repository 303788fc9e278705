//! A large synthetic stack for the benches: 300 apps with one subscription each, 200,000
//! people (one in 50 departed) and `n` accounts spread over the apps, most active lately, some
//! dormant, some with no activity known. The same seed gives the same stack in every bench.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use stackward::db::schema::{accounts, apps, people, subscriptions};
use stackward::db::Conn;

/// Apps in the stack.
pub const APPS: i64 = 300;
/// People in the directory.
pub const PEOPLE: i64 = 200_000;
/// Rows per insert statement.
const BATCH: usize = 2000;

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

/// A small deterministic generator, so every run seeds the same stack.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Seeds the stack with `n_accounts` accounts. With `owners`, apps name an owner and people a
/// manager (the pages show them); without, those columns stay empty.
pub fn seed(conn: &mut Conn, n_accounts: i64, today: NaiveDate, owners: bool) -> QueryResult<()> {
    let now = stackward::time::now();
    seed_apps(conn, n_accounts, today, now, owners)?;
    seed_people(conn, now, owners)?;
    seed_accounts(conn, n_accounts, now)
}

fn seed_apps(conn: &mut Conn, n_accounts: i64, today: NaiveDate, now: NaiveDateTime, owners: bool) -> QueryResult<()> {
    stackward::db::write_tx(conn, |c| {
        let app_rows: Vec<_> = (1..=APPS)
            .map(|i| {
                (
                    apps::name.eq(format!("App {i}")),
                    apps::category.eq(Some(format!("category {}", i % 30))),
                    apps::domains.eq(""),
                    apps::status.eq("approved"),
                    apps::owner_email.eq(owners.then(|| format!("p{i}@bench.example"))),
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
    })
}

fn seed_people(conn: &mut Conn, now: NaiveDateTime, owners: bool) -> QueryResult<()> {
    for start in (0..PEOPLE).step_by(BATCH) {
        let rows: Vec<_> = (start..(start + BATCH as i64).min(PEOPLE))
            .map(|p| {
                (
                    people::email.eq(format!("p{p}@bench.example")),
                    people::name.eq(format!("Person {p}")),
                    people::manager_email.eq(owners.then(|| format!("p{}@bench.example", p / 10 * 10))),
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
    Ok(())
}

fn seed_accounts(conn: &mut Conn, n_accounts: i64, now: NaiveDateTime) -> QueryResult<()> {
    let at = |days: i64| now - Duration::days(days);
    let mut rng = Lcg(42);
    for start in (0..n_accounts).step_by(BATCH) {
        let rows: Vec<_> = (start..(start + BATCH as i64).min(n_accounts))
            .map(|i| {
                let app = i % APPS + 1;
                let person = (rng.next() % PEOPLE as u64) as i64;
                let last_active = match rng.next() % 100 {
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
