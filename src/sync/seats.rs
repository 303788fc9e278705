//! Seats from one page, applied as sets: per app one read of the stored seats the page names,
//! one multi-row upsert of the new and changed ones, and one statement moving the "last seen"
//! time of the unchanged rest. Activity records merged into seats live here too.

use super::runs::Counts;
use super::store::{lower, people_by_email, resolve_app, RunState};
use crate::catalog::Catalog;
use crate::connectors::Record;
use crate::db::schema::accounts;
use crate::db::Conn;
use crate::inventory::{Account, AccountId, AccountStatus, AppId, PersonId};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Rows per multi-row statement: 500 seats × 20 columns stays under both backends' bind limits.
const CHUNK: usize = 500;

/// Applies the seat records of one page.
pub(super) fn apply_accounts(
    conn: &mut Conn,
    state: &mut RunState,
    catalog: &Catalog,
    records: Vec<&Record>,
    stream_reports_activity: bool,
    now: NaiveDateTime,
) -> QueryResult<Counts> {
    let mut counts = Counts::default();
    if records.is_empty() {
        return Ok(counts);
    }
    let mut by_app: BTreeMap<AppId, Vec<&Record>> = BTreeMap::new();
    for r in records {
        let name = r.text("app").unwrap_or(&state.default_app).to_string();
        let app = resolve_app(conn, state, catalog, &name, now)?;
        state.covered_apps.insert(app);
        by_app.entry(app).or_default().push(r);
    }
    let emails: Vec<String> = by_app.values().flatten().filter_map(|r| lower(r.text("email"))).collect();
    let persons = people_by_email(conn, &emails)?;
    let mut unchanged = Vec::new();
    for (app, recs) in by_app {
        let existing = stored_seats(conn, app, &recs)?;
        let mut writes = Vec::new();
        let mut seen_here = HashSet::new();
        for r in recs {
            let Some(ext) = r.text("external_id") else { continue };
            if !seen_here.insert(ext) {
                continue; // the vendor listed the same seat twice on one page
            }
            counts.seen += 1;
            let before = existing.get(ext);
            let mut a = merge_seat(state, r, ext, app, before, &persons, stream_reports_activity, now);
            match before {
                None => {
                    a.first_seen_at = now;
                    a.last_seen_at = now;
                    counts.added += 1;
                    writes.push(a);
                }
                Some(b) if a != *b => {
                    a.last_seen_at = now;
                    a.updated_at = now;
                    counts.updated += 1;
                    writes.push(a);
                }
                Some(b) => unchanged.push(b.id),
            }
        }
        upsert_seats(conn, &writes)?;
    }
    touch_accounts(conn, &unchanged, now)?;
    Ok(counts)
}

/// The app's stored seats among the page's external ids, in one statement per chunk.
fn stored_seats(conn: &mut Conn, app: AppId, recs: &[&Record]) -> QueryResult<HashMap<String, Account>> {
    let ids: Vec<&str> = recs.iter().filter_map(|r| r.text("external_id")).collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<Account> = accounts::table
            .filter(accounts::app_id.eq(app))
            .filter(accounts::external_id.eq_any(chunk))
            .select(Account::as_select())
            .load(conn)?;
        out.extend(rows.into_iter().filter_map(|a| a.external_id.clone().map(|id| (id, a))));
    }
    Ok(out)
}

/// The seat as the record says it is now, starting from the stored one (or a blank one).
#[expect(clippy::too_many_arguments, reason = "one record merged with what the run knows")]
fn merge_seat(
    state: &RunState,
    r: &Record,
    ext: &str,
    app: AppId,
    before: Option<&Account>,
    persons: &HashMap<String, PersonId>,
    stream_reports_activity: bool,
    now: NaiveDateTime,
) -> Account {
    let mut a = before.cloned().unwrap_or_else(|| Account::blank(app, now));
    let stored = before.is_some();
    a.external_id = Some(ext.to_string());
    a.email = lower(r.text("email"));
    a.username = r.text("username").map(str::to_string);
    a.name = r.text("name").map(str::to_string);
    // A field an activity stream merges in is that stream's to say when the seat omits it.
    let merged = |f: &str| stored && !r.fields.contains_key(f) && state.merged_fields.contains(f);
    if !merged("role") {
        a.role = r.text("role").map(str::to_string);
    }
    if r.fields.contains_key("licence") || !stored {
        a.licence = r.text("licence").map(str::to_string);
    }
    if !merged("status") {
        a.status = account_status(r.text("status"));
    }
    if let Some(b) = r.bool("billable") {
        a.billable = b;
    }
    if let Some(p) = r.bool("premium_used") {
        a.premium_used = Some(p);
    }
    a.vendor_created_at = r.time("created_at").or(before.and_then(|b| b.vendor_created_at));
    // A stream that reports activity says "never" with a missing value; one that does not
    // leaves what an activity stream merged in.
    if stream_reports_activity {
        a.last_active_at = r.time("last_active_at");
    }
    a.activity_tracked = state.tracks_activity;
    a.connection_id = Some(state.connection);
    a.person_id = a.email.as_ref().and_then(|e| persons.get(e).copied());
    a.removed_at = match (a.status, before.and_then(|b| b.removed_at)) {
        (AccountStatus::Removed, Some(t)) => Some(t),
        (AccountStatus::Removed, None) => Some(now),
        _ => None,
    };
    a
}

/// Inserts new seats and rewrites changed ones in one statement per chunk. The key is
/// (app, external id); what a person set by hand (the paying subscription) and when the seat was
/// first seen are kept.
fn upsert_seats(conn: &mut Conn, rows: &[Account]) -> QueryResult<()> {
    use diesel::upsert::excluded;
    for chunk in rows.chunks(CHUNK) {
        crate::on_backend!(conn, |c| diesel::insert_into(accounts::table)
            .values(chunk)
            .on_conflict((accounts::app_id, accounts::external_id))
            .do_update()
            .set((
                accounts::person_id.eq(excluded(accounts::person_id)),
                accounts::email.eq(excluded(accounts::email)),
                accounts::username.eq(excluded(accounts::username)),
                accounts::name.eq(excluded(accounts::name)),
                accounts::role.eq(excluded(accounts::role)),
                accounts::licence.eq(excluded(accounts::licence)),
                accounts::status.eq(excluded(accounts::status)),
                accounts::billable.eq(excluded(accounts::billable)),
                accounts::vendor_created_at.eq(excluded(accounts::vendor_created_at)),
                accounts::last_active_at.eq(excluded(accounts::last_active_at)),
                accounts::last_seen_at.eq(excluded(accounts::last_seen_at)),
                accounts::removed_at.eq(excluded(accounts::removed_at)),
                accounts::updated_at.eq(excluded(accounts::updated_at)),
                accounts::connection_id.eq(excluded(accounts::connection_id)),
                accounts::activity_tracked.eq(excluded(accounts::activity_tracked)),
                accounts::premium_used.eq(excluded(accounts::premium_used)),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// Moves "last seen" of unchanged seats, one statement per chunk.
pub(super) fn touch_accounts(conn: &mut Conn, ids: &[AccountId], now: NaiveDateTime) -> QueryResult<()> {
    for chunk in ids.chunks(CHUNK) {
        diesel::update(accounts::table.filter(accounts::id.eq_any(chunk)))
            .set(accounts::last_seen_at.eq(now))
            .execute(conn)?;
    }
    Ok(())
}

/// A seat status as a connector spells it.
pub(super) fn account_status(status: Option<&str>) -> AccountStatus {
    match status {
        Some("suspended") => AccountStatus::Suspended,
        Some("removed") => AccountStatus::Removed,
        _ => AccountStatus::Active,
    }
}
