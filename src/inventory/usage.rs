//! Usage pushed for apps no connector reaches (`POST /api/v1/usage`, `stackward usage import`):
//! each event names a seat by external id or email and says when its holder was last active.
//! Applied idempotently and only forward: a later time wins, an older or equal one changes
//! nothing. Everything is checked before anything is written, and one push is one transaction.

use super::apps::{self, AppId};
use super::error::{InventoryError, Result};
use super::sources::{self, SeatsSource, UsageSource};
use super::validate::Invalid;
use super::{Account, AccountStatus};
use crate::audit::{self, Actor};
use crate::db::schema::{accounts, people};
use crate::db::{Activity, Conn};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Most events one push may carry.
pub const MAX_EVENTS: usize = 10_000;

/// Seats moved forward per statement (PostgreSQL binds them as three arrays).
const BATCH: usize = 5_000;

/// A push of usage events for one app.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsagePush {
    /// The app, by id (this or `app`).
    #[schema(value_type = Option<String>)]
    pub app_id: Option<AppId>,
    /// The app, by name (this or `app_id`).
    pub app: Option<String>,
    /// Up to 10,000 events.
    pub events: Vec<UsageEvent>,
    /// When true, events whose email matches no seat create one.
    #[serde(default)]
    pub create_seats: bool,
}

/// One seat's activity.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageEvent {
    /// The vendor's id of the seat (this or `email`).
    pub external_id: Option<String>,
    /// The seat holder's email (this or `external_id`).
    pub email: Option<String>,
    /// When the holder was last active (RFC 3339).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_active_at: NaiveDateTime,
    /// Whether the holder used the licence's premium features lately.
    pub premium_used: Option<bool>,
}

/// An event that matched no seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnknownEvent {
    /// Its position in `events`, from 0.
    pub index: usize,
    /// Why it was not applied.
    pub reason: String,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UsageReport {
    /// The app.
    #[schema(value_type = String)]
    pub app_id: AppId,
    /// Events that matched a seat (moved forward or not).
    pub matched: usize,
    /// Seats whose last activity moved forward.
    pub updated: usize,
    /// Seats created (`create_seats`).
    pub created: usize,
    /// Events whose seat was not found, with their index.
    pub unknown: Vec<UnknownEvent>,
}

/// The app a push names, or 400 naming `app_id` / `app`.
fn resolve_app(conn: &mut Conn, push: &UsagePush) -> Result<AppId> {
    match (&push.app_id, push.app.as_deref().map(str::trim)) {
        (Some(_), Some(_)) => Err(Invalid::new("app", "give app_id or app, not both").into()),
        (Some(id), None) => match apps::find(conn, *id) {
            Ok(a) => Ok(a.id),
            Err(InventoryError::NotFound { .. }) => Err(Invalid::new("app_id", format!("no app has id {id}")).into()),
            Err(e) => Err(e),
        },
        (None, Some(name)) if !name.is_empty() => apps::find_by_name(conn, name)?
            .map(|a| a.id)
            .ok_or_else(|| Invalid::new("app", format!("no app is named {name:?}")).into()),
        _ => Err(Invalid::new("app_id", "name the app with app_id or app").into()),
    }
}

/// An event's key, checked: a trimmed external id or a lower-case email.
enum Key {
    External(String),
    Email(String),
}

fn keys(events: &[UsageEvent]) -> Result<Vec<Key>> {
    let mut out = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let ext = e.external_id.as_deref().map(str::trim).filter(|v| !v.is_empty());
        let email = e.email.as_deref().map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty());
        out.push(match (ext, email) {
            (Some(x), _) => Key::External(x.to_string()),
            (None, Some(m)) if email_address::EmailAddress::is_valid(&m) => Key::Email(m),
            (None, Some(m)) => {
                return Err(Invalid::new(&format!("events[{i}].email"), format!("{m:?} is not an email address")).into())
            }
            (None, None) => {
                return Err(Invalid::new(&format!("events[{i}]"), "an event needs an external_id or an email").into())
            }
        });
    }
    Ok(out)
}

/// Applies a push as `actor`; nothing is written when any part of it is refused.
pub fn push(conn: &mut Conn, actor: &Actor, push: UsagePush, source: UsageSource) -> Result<UsageReport> {
    if push.events.len() > MAX_EVENTS {
        let msg = format!("has {} events; at most {MAX_EVENTS} may be pushed at once", push.events.len());
        return Err(Invalid::new("events", msg).into());
    }
    let keys = keys(&push.events)?;
    crate::db::write_tx(conn, |conn| {
        let app = resolve_app(conn, &push)?;
        let now = crate::time::now();
        let seats: Vec<Account> = accounts::table
            .filter(accounts::app_id.eq(app))
            .filter(accounts::status.ne(AccountStatus::Removed))
            .select(Account::as_select())
            .load(conn)?;
        let mut report = UsageReport { app_id: app, matched: 0, updated: 0, created: 0, unknown: Vec::new() };
        let plan = plan(&push, &keys, &seats, &mut report);
        report.updated = move_forward(conn, &seats, plan.latest, now)?;
        if !plan.new_seats.is_empty() {
            report.created = create_seats(conn, app, plan.new_seats, now)?;
            sources::mark_seats(conn, app, SeatsSource::Manual, now)?;
        }
        sources::mark_usage(conn, app, source, now)?;
        let summary = serde_json::json!({"source": source, "events": push.events.len(), "matched": report.matched,
            "updated": report.updated, "created": report.created, "unknown": report.unknown.len()});
        audit::record(conn, actor, "usage.push", "app", app, None, Some(&summary))?;
        Ok(report)
    })
}

/// The last activity (and premium use) an event gives a seat.
type Seen = (NaiveDateTime, Option<bool>);

/// What a push comes to before anything is written.
struct Plan {
    /// The newest event per existing seat, by index into the seats.
    latest: HashMap<usize, Seen>,
    /// Seats to create, by email, with their newest event.
    new_seats: Vec<(String, Seen)>,
}

/// Matches each event to a seat; counts matches and notes unknown events in `report`.
fn plan(push: &UsagePush, keys: &[Key], seats: &[Account], report: &mut UsageReport) -> Plan {
    let mut by_ext = HashMap::new();
    let mut by_email = HashMap::new();
    for (i, a) in seats.iter().enumerate() {
        if let Some(x) = &a.external_id {
            by_ext.insert(x.as_str(), i);
        }
        if let Some(m) = &a.email {
            by_email.entry(m.as_str()).or_insert(i);
        }
    }
    // The newest event per seat wins; older ones for the same seat change nothing.
    let mut plan = Plan { latest: HashMap::new(), new_seats: Vec::new() };
    let mut new_index: HashMap<&str, usize> = HashMap::new();
    for (index, (event, key)) in push.events.iter().zip(keys).enumerate() {
        let found = match key {
            Key::External(x) => by_ext.get(x.as_str()),
            Key::Email(m) => by_email.get(m.as_str()),
        };
        let seen = (event.last_active_at, event.premium_used);
        match (found, key) {
            (Some(i), _) => {
                report.matched += 1;
                let e = plan.latest.entry(*i).or_insert(seen);
                if seen.0 > e.0 {
                    *e = seen;
                }
            }
            (None, Key::Email(m)) if push.create_seats => match new_index.get(m.as_str()) {
                Some(j) if seen.0 > plan.new_seats[*j].1 .0 => plan.new_seats[*j] = (m.clone(), seen),
                Some(_) => {}
                None => {
                    new_index.insert(m, plan.new_seats.len());
                    plan.new_seats.push((m.clone(), seen));
                }
            },
            (None, Key::External(x)) => report
                .unknown
                .push(UnknownEvent { index, reason: format!("no seat of this app has external_id {x:?}") }),
            (None, Key::Email(m)) => {
                report.unknown.push(UnknownEvent { index, reason: format!("no seat of this app has email {m}") });
            }
        }
    }
    plan
}

/// Moves seats' last activity forward (never back), in one set-based write; returns how many moved.
fn move_forward(
    conn: &mut Conn,
    seats: &[Account],
    latest: HashMap<usize, Seen>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut newer: Vec<Activity> = latest
        .into_iter()
        .filter(|(i, (t, _))| seats[*i].last_active_at.is_none_or(|old| old < *t))
        .map(|(i, (at, premium_used))| Activity { id: seats[i].id.0, at, premium_used })
        .collect();
    newer.sort_by_key(|a| a.id);
    let mut moved = 0;
    for batch in newer.chunks(BATCH) {
        moved += crate::db::move_activity_forward(conn, batch, now)?;
    }
    Ok(moved)
}

/// Creates the seats of `app` that events named by an unknown email; returns how many.
fn create_seats(conn: &mut Conn, app: AppId, new_seats: Vec<(String, Seen)>, now: NaiveDateTime) -> QueryResult<usize> {
    let emails: Vec<String> = new_seats.iter().map(|s| s.0.clone()).collect();
    let persons: HashMap<String, super::PersonId> = emails
        .chunks(500)
        .map(|chunk| {
            people::table
                .filter(people::email.eq_any(chunk))
                .select((people::email, people::id))
                .load::<(String, super::PersonId)>(conn)
        })
        .collect::<QueryResult<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let seats: Vec<Account> = new_seats
        .into_iter()
        .map(|(email, (t, premium))| {
            let mut a = Account::blank(app, now);
            a.person_id = persons.get(&email).copied();
            a.email = Some(email);
            a.last_active_at = Some(t);
            a.premium_used = premium;
            a
        })
        .collect();
    let mut created = 0;
    // 500 seats of 22 columns per statement stay under both backends' limits on bound values;
    // the connection enum has no multi-row insert, each backend has one.
    for chunk in seats.chunks(500) {
        created += crate::on_backend!(&mut *conn, |c| diesel::insert_into(accounts::table).values(chunk).execute(c))?;
    }
    Ok(created)
}

/// Reads a CSV file of `email,last_active_at` (an `external_id` column may replace or join
/// `email`; `premium_used` is optional) into events. Errors name the row and column.
pub fn events_from_csv(input: impl std::io::Read) -> std::result::Result<Vec<UsageEvent>, Invalid> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Invalid::new("header", format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    for h in &header {
        if !["email", "external_id", "last_active_at", "premium_used"].contains(&h.as_str()) {
            let msg = "unknown column; known columns: email, external_id, last_active_at, premium_used";
            return Err(Invalid::new(h, msg));
        }
    }
    let (email, ext, at, premium) = (col("email"), col("external_id"), col("last_active_at"), col("premium_used"));
    if email.is_none() && ext.is_none() {
        return Err(Invalid::new("email", "the file needs an email or an external_id column"));
    }
    let Some(at) = at else { return Err(Invalid::new("last_active_at", "the file needs this column")) };
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let row = i + 1;
        let rec = rec.map_err(|e| Invalid::new("row", format!("row {row}: {e}")))?;
        let cell = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::to_string).filter(|v| !v.is_empty());
        let when = cell(Some(at)).unwrap_or_default();
        let last_active_at =
            crate::time::parse(&when).map_err(|e| Invalid::new("last_active_at", format!("row {row}: {e}")))?;
        let premium_used = match cell(premium).as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(v) => return Err(Invalid::new("premium_used", format!("row {row}: {v:?} is not true or false"))),
        };
        out.push(UsageEvent { external_id: cell(ext), email: cell(email), last_active_at, premium_used });
    }
    Ok(out)
}
