//! Applying what a connector read: seats upserted by (app, external id) as sets (`seats.rs`),
//! people from identity providers by email, licence pools by SKU, app grants by (client, user),
//! activity merged into seats. Unchanged rows only get their "last seen" time moved, in one
//! statement per page. Then, after a complete run only, what was not seen is marked removed
//! (mark & sweep). A run that moved a table far from its planner statistics refreshes them.

use super::runs::Counts;
use super::ConnectionId;
use crate::catalog::Catalog;
use crate::connectors::{Batch, MergeOn, Record, RecordKind, Skipped};
use crate::db::schema::{accounts, app_grants, apps, licence_pools, people};
use crate::db::{Conn, Table};
use crate::inventory::{Account, AccountStatus, App, AppId, AppStatus, Domains, Person, PersonId, PersonStatus};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What one run knows while it applies pages.
#[derive(Debug)]
pub struct RunState {
    /// The connection.
    pub connection: ConnectionId,
    /// The app seats belong to unless a record names one.
    pub default_app: String,
    /// The connector reports sign-in activity (so a missing one means "never").
    pub tracks_activity: bool,
    /// Its people are the directory.
    pub identity_provider: bool,
    /// When the run started: rows not seen since are swept.
    pub started: NaiveDateTime,
    /// Apps that received seats in this run.
    pub covered_apps: HashSet<AppId>,
    /// Account fields the connector's activity streams merge in (role, licence, status …): a seat
    /// record without them keeps the merged value rather than resetting it on every run.
    pub merged_fields: HashSet<String>,
    /// Why this run must not sweep: a skipped record that could not be tied to a stored seat or
    /// person might be one of them.
    pub sweep_blocked: Option<String>,
    apps: HashMap<String, AppId>,
    /// Seats of this connection when the planner's statistics were last refreshed (counted on
    /// the first page), and rows written since.
    stats: Option<StatsWatch>,
}

/// How far the tables have moved from what the planner's statistics describe.
#[derive(Debug, Clone, Copy, Default)]
struct StatsWatch {
    rows: i64,
    written: i64,
    added: i64,
}

/// Below this many rows written, statistics are left alone.
const STATS_MIN_WRITES: i64 = 1_000;

impl RunState {
    /// State for a run starting now.
    pub fn new(
        connection: ConnectionId,
        default_app: String,
        tracks_activity: bool,
        identity_provider: bool,
        started: NaiveDateTime,
    ) -> Self {
        RunState {
            connection,
            default_app,
            tracks_activity,
            identity_provider,
            started,
            covered_apps: HashSet::new(),
            merged_fields: HashSet::new(),
            sweep_blocked: None,
            apps: HashMap::new(),
            stats: None,
        }
    }
}

/// The app named `name`, created as `discovered` (with the catalog's vendor and category) if new.
pub(super) fn resolve_app(
    conn: &mut Conn,
    state: &mut RunState,
    catalog: &Catalog,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<AppId> {
    let key = name.trim().to_lowercase();
    if let Some(id) = state.apps.get(&key) {
        return Ok(*id);
    }
    let id = match crate::inventory::apps::find_by_name(conn, name)? {
        Some(app) => app.id,
        None => {
            let mut app = App::blank(now);
            app.name = name.trim().to_string();
            app.status = AppStatus::Discovered;
            if let Some(entry) = catalog.identify(Some(name), &[], None) {
                app.vendor = Some(entry.vendor.clone());
                app.category = Some(entry.category.replace('_', " "));
                app.domains = Domains::parse_list(&entry.domains.join(","));
            }
            let app: App =
                diesel::insert_into(apps::table).values(&app).returning(apps::all_columns).get_result(conn)?;
            let actor = crate::audit::Actor(format!("sync:{}", state.connection));
            crate::audit::record(conn, &actor, "app.discover", "app", app.id, None, Some(&app))?;
            app.id
        }
    };
    state.apps.insert(key, id);
    Ok(id)
}

/// Trimmed, lower-case, and None when empty.
pub(super) fn lower(s: Option<&str>) -> Option<String> {
    s.map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty())
}

/// People ids by (lower-case) email.
pub(super) fn people_by_email(conn: &mut Conn, emails: &[String]) -> QueryResult<HashMap<String, PersonId>> {
    let rows: Vec<(PersonId, String)> =
        people::table.filter(people::email.eq_any(emails)).select((people::id, people::email)).load(conn)?;
    Ok(rows.into_iter().map(|(id, e)| (e, id)).collect())
}

/// Applies one page of records in one transaction and says what changed.
pub fn apply(conn: &mut Conn, state: &mut RunState, catalog: &Catalog, batch: &Batch) -> QueryResult<Counts> {
    if state.stats.is_none() {
        let rows: i64 =
            accounts::table.filter(accounts::connection_id.eq(state.connection)).count().get_result(conn)?;
        state.stats = Some(StatsWatch { rows, written: 0, added: 0 });
    }
    let counts = apply_page(conn, state, catalog, batch)?;
    // A table that doubled since its statistics were taken is planned as if it were small (a
    // first sync starts from nothing): refresh them between pages, a handful of times per run.
    if let Some(w) = state.stats.as_mut() {
        w.written += counts.added + counts.updated;
        w.added += counts.added;
        if w.written >= STATS_MIN_WRITES.max(w.rows) {
            crate::db::refresh_statistics(conn, &[Table::Accounts, Table::People])?;
            *w = StatsWatch { rows: w.rows + w.added, written: 0, added: 0 };
        }
    }
    Ok(counts)
}

fn apply_page(conn: &mut Conn, state: &mut RunState, catalog: &Catalog, batch: &Batch) -> QueryResult<Counts> {
    crate::db::write_tx(conn, |conn| {
        let now = crate::time::now();
        let mut counts = Counts::default();
        let of = |k: RecordKind| batch.records.iter().filter(move |r| r.kind == k);
        if state.identity_provider || of(RecordKind::Person).next().is_some() {
            counts += apply_people(conn, state, of(RecordKind::Person).collect(), now)?;
        }
        counts += super::seats::apply_accounts(
            conn,
            state,
            catalog,
            of(RecordKind::Account).collect(),
            batch.tracks_activity,
            now,
        )?;
        counts += apply_pools(conn, state, catalog, of(RecordKind::LicencePool).collect(), now)?;
        counts += apply_grants(conn, state, of(RecordKind::AppGrant).collect(), now)?;
        counts += apply_activity(conn, state, catalog, of(RecordKind::Activity).collect(), batch.merge_on)?;
        keep_skipped(conn, state, &batch.skipped, now)?;
        Ok(counts)
    })
}

/// Skipped records count as seen: the seats of this connection with their external id, and the
/// people those seats belong to, keep their "last seen" time moving, so the sweep leaves them.
/// A skipped record with no readable id blocks this run's sweep instead: it might be anyone.
fn keep_skipped(conn: &mut Conn, state: &mut RunState, skipped: &[Skipped], now: NaiveDateTime) -> QueryResult<()> {
    if skipped.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = skipped.iter().filter_map(|s| s.external_id.as_deref()).collect();
    if ids.len() < skipped.len() {
        state.sweep_blocked.get_or_insert_with(|| "a skipped record has no readable external id".into());
    }
    let seats: Vec<Option<PersonId>> = accounts::table
        .filter(accounts::connection_id.eq(state.connection))
        .filter(accounts::external_id.eq_any(&ids))
        .select(accounts::person_id)
        .load(conn)?;
    touch_by_external_id(conn, state.connection, &ids, now)?;
    if state.identity_provider {
        let people: Vec<PersonId> = seats.into_iter().flatten().collect();
        for chunk in people.chunks(500) {
            diesel::update(
                people::table
                    .filter(people::id.eq_any(chunk))
                    .filter(people::source_connection_id.eq(state.connection)),
            )
            .set(people::last_synced_at.eq(Some(now)))
            .execute(conn)?;
        }
    }
    Ok(())
}

fn touch_by_external_id(
    conn: &mut Conn,
    connection: ConnectionId,
    ids: &[&str],
    now: NaiveDateTime,
) -> QueryResult<()> {
    for chunk in ids.chunks(500) {
        diesel::update(
            accounts::table.filter(accounts::connection_id.eq(connection)).filter(accounts::external_id.eq_any(chunk)),
        )
        .set(accounts::last_seen_at.eq(now))
        .execute(conn)?;
    }
    Ok(())
}

fn apply_people(conn: &mut Conn, state: &RunState, records: Vec<&Record>, now: NaiveDateTime) -> QueryResult<Counts> {
    let mut counts = Counts::default();
    let emails: Vec<String> = records.iter().filter_map(|r| lower(r.text("email"))).collect();
    let existing: HashMap<String, Person> = people::table
        .filter(people::email.eq_any(&emails))
        .select(Person::as_select())
        .load(conn)?
        .into_iter()
        .map(|p| (p.email.clone(), p))
        .collect();
    let mut unchanged = Vec::new();
    let mut seen_here = HashSet::new();
    for r in records {
        let Some(email) = lower(r.text("email")) else { continue };
        if !seen_here.insert(email.clone()) {
            continue;
        }
        counts.seen += 1;
        let mut p = existing.get(&email).cloned().unwrap_or_else(|| Person::blank(now));
        let before = p.clone();
        p.email = email.clone();
        p.name = r.text("name").map(str::to_string).unwrap_or_else(|| {
            if before.name.is_empty() {
                email.clone()
            } else {
                before.name.clone()
            }
        });
        p.department = r.text("department").map(str::to_string);
        p.title = r.text("title").map(str::to_string);
        p.manager_email = lower(r.text("manager_email")).filter(|m| *m != email);
        p.status = match r.text("status") {
            Some("suspended") => PersonStatus::Suspended,
            Some("departed") => PersonStatus::Departed,
            _ => PersonStatus::Active,
        };
        p.left_on = match p.status {
            PersonStatus::Departed => before.left_on.or(Some(now.date())),
            _ => None,
        };
        p.source_connection_id = Some(state.connection);
        let comparable = |x: &Person| {
            let mut x = x.clone();
            x.last_synced_at = None;
            x
        };
        if before.id.0 == 0 {
            p.last_synced_at = Some(now);
            let id: PersonId = diesel::insert_into(people::table).values(&p).returning(people::id).get_result(conn)?;
            diesel::update(accounts::table.filter(accounts::email.eq(&email)))
                .set(accounts::person_id.eq(Some(id)))
                .execute(conn)?;
            counts.added += 1;
        } else if comparable(&p) != comparable(&before) {
            p.last_synced_at = Some(now);
            p.updated_at = now;
            diesel::update(people::table.find(p.id)).set(&p).execute(conn)?;
            counts.updated += 1;
        } else {
            unchanged.push(p.id);
        }
    }
    for chunk in unchanged.chunks(500) {
        diesel::update(people::table.filter(people::id.eq_any(chunk)))
            .set(people::last_synced_at.eq(Some(now)))
            .execute(conn)?;
    }
    Ok(counts)
}

/// id, name, purchased, consumed, removed_at.
type PoolRow = (i64, Option<String>, Option<i64>, Option<i64>, Option<NaiveDateTime>);

fn apply_pools(
    conn: &mut Conn,
    state: &mut RunState,
    catalog: &Catalog,
    records: Vec<&Record>,
    now: NaiveDateTime,
) -> QueryResult<Counts> {
    let mut counts = Counts::default();
    for r in records {
        let Some(sku) = r.text("sku") else { continue };
        let name = r.text("app").unwrap_or(&state.default_app).to_string();
        let app = resolve_app(conn, state, catalog, &name, now)?;
        counts.seen += 1;
        let existing: Option<PoolRow> = licence_pools::table
            .filter(licence_pools::connection_id.eq(state.connection))
            .filter(licence_pools::app_id.eq(app))
            .filter(licence_pools::sku.eq(sku))
            .select((
                licence_pools::id,
                licence_pools::name,
                licence_pools::purchased,
                licence_pools::consumed,
                licence_pools::removed_at,
            ))
            .first(conn)
            .optional()?;
        let (label, purchased, consumed) = (r.text("name").map(str::to_string), r.int("purchased"), r.int("consumed"));
        match existing {
            None => {
                diesel::insert_into(licence_pools::table)
                    .values((
                        licence_pools::connection_id.eq(state.connection),
                        licence_pools::app_id.eq(app),
                        licence_pools::sku.eq(sku),
                        licence_pools::name.eq(&label),
                        licence_pools::purchased.eq(purchased),
                        licence_pools::consumed.eq(consumed),
                        licence_pools::last_seen_at.eq(now),
                    ))
                    .execute(conn)?;
                counts.added += 1;
            }
            Some((id, n, p, c, removed)) => {
                if (n, p, c, removed) != (label.clone(), purchased, consumed, None) {
                    counts.updated += 1;
                }
                diesel::update(licence_pools::table.find(id))
                    .set((
                        licence_pools::name.eq(&label),
                        licence_pools::purchased.eq(purchased),
                        licence_pools::consumed.eq(consumed),
                        licence_pools::last_seen_at.eq(now),
                        licence_pools::removed_at.eq(None::<NaiveDateTime>),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(counts)
}

/// The user key of a grant made for everyone in the organisation (admin consent for all users).
pub const ORGANISATION: &str = "(organisation)";

fn apply_grants(conn: &mut Conn, state: &RunState, records: Vec<&Record>, now: NaiveDateTime) -> QueryResult<Counts> {
    let mut counts = Counts::default();
    let emails: Vec<String> = records.iter().filter_map(|r| lower(r.text("user_email"))).collect();
    let persons = people_by_email(conn, &emails)?;
    for r in records {
        let (Some(client), Some(app_name)) = (r.text("client_id"), r.text("app_name")) else { continue };
        let organisation_wide = r.bool("organisation_wide").unwrap_or(false);
        let email = if organisation_wide { None } else { lower(r.text("user_email")) };
        let user = match (organisation_wide, email.clone().or_else(|| r.text("user_external_id").map(str::to_string))) {
            (true, _) => ORGANISATION.to_string(),
            (false, Some(user)) => user,
            (false, None) => continue,
        };
        counts.seen += 1;
        let person = email.as_ref().and_then(|e| persons.get(e).copied());
        let existing: Option<(i64, String, Option<String>, Option<NaiveDateTime>)> = app_grants::table
            .filter(app_grants::connection_id.eq(state.connection))
            .filter(app_grants::client_id.eq(client))
            .filter(app_grants::user_key.eq(&user))
            .select((app_grants::id, app_grants::app_name, app_grants::scopes, app_grants::removed_at))
            .first(conn)
            .optional()?;
        let scopes = r.text("scopes").map(str::to_string);
        match existing {
            None => {
                diesel::insert_into(app_grants::table)
                    .values((
                        app_grants::connection_id.eq(state.connection),
                        app_grants::client_id.eq(client),
                        app_grants::app_name.eq(app_name),
                        app_grants::scopes.eq(&scopes),
                        app_grants::user_key.eq(&user),
                        app_grants::person_id.eq(person),
                        app_grants::first_seen_at.eq(now),
                        app_grants::last_seen_at.eq(now),
                        app_grants::organisation_wide.eq(organisation_wide),
                    ))
                    .execute(conn)?;
                counts.added += 1;
            }
            Some((id, name, sc, removed)) => {
                if (name.as_str(), &sc, removed) != (app_name, &scopes, None) {
                    counts.updated += 1;
                }
                diesel::update(app_grants::table.find(id))
                    .set((
                        app_grants::app_name.eq(app_name),
                        app_grants::scopes.eq(&scopes),
                        app_grants::person_id.eq(person),
                        app_grants::last_seen_at.eq(now),
                        app_grants::removed_at.eq(None::<NaiveDateTime>),
                        app_grants::organisation_wide.eq(organisation_wide),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(counts)
}

fn apply_activity(
    conn: &mut Conn,
    state: &mut RunState,
    catalog: &Catalog,
    records: Vec<&Record>,
    merge_on: MergeOn,
) -> QueryResult<Counts> {
    let mut counts = Counts::default();
    if records.is_empty() {
        return Ok(counts);
    }
    // Several rows per user (Slack logs one per device): the latest activity wins.
    let mut merged: BTreeMap<(Option<String>, String), Record> = BTreeMap::new();
    for r in records {
        let Some(key) = r.text("key") else { continue };
        let key = if merge_on == MergeOn::ExternalId { key.to_string() } else { key.trim().to_lowercase() };
        let slot = merged.entry((r.text("app").map(str::to_string), key)).or_insert_with(|| (*r).clone());
        if r.time("last_active_at") > slot.time("last_active_at") {
            let keep = slot.fields.clone();
            *slot = (*r).clone();
            for (k, v) in keep {
                slot.fields.entry(k).or_insert(v);
            }
        }
    }
    let now = crate::time::now();
    for ((app, key), r) in merged {
        let mut q = accounts::table.filter(accounts::connection_id.eq(state.connection)).into_boxed();
        q = match merge_on {
            MergeOn::ExternalId => q.filter(accounts::external_id.eq(key)),
            MergeOn::Email => q.filter(accounts::email.eq(key)),
            MergeOn::Username => q.filter(accounts::username.eq(key)),
        };
        if let Some(name) = app {
            let id = resolve_app(conn, state, catalog, &name, now)?;
            q = q.filter(accounts::app_id.eq(id));
        }
        let found: Vec<Account> = q.select(Account::as_select()).load(conn)?;
        for before in found {
            let mut a = before.clone();
            if let Some(t) = r.time("last_active_at") {
                a.last_active_at = a.last_active_at.max(Some(t));
            }
            if let Some(b) = r.bool("billable") {
                a.billable = b;
            }
            if let Some(l) = r.text("licence") {
                a.licence = Some(l.to_string());
            }
            if let Some(role) = r.text("role") {
                a.role = Some(role.to_string());
            }
            if let Some(p) = r.bool("premium_used") {
                a.premium_used = Some(p);
            }
            if let Some(status) = r.text("status") {
                a.status = super::seats::account_status(Some(status));
                a.removed_at = match a.status {
                    AccountStatus::Removed => before.removed_at.or(Some(now)),
                    _ => None,
                };
            }
            if a != before {
                a.updated_at = now;
                diesel::update(accounts::table.find(a.id)).set(&a).execute(conn)?;
                counts.updated += 1;
            }
        }
    }
    Ok(counts)
}

/// After a complete run: seats of covered apps, people of an identity provider, pools and
/// grants not seen since the run started are marked removed (departed for people).
/// Then, when the run changed a large share (a tenth) of the seats, refreshes the statistics.
pub fn sweep(conn: &mut Conn, state: &RunState) -> QueryResult<i64> {
    let removed = match &state.sweep_blocked {
        Some(why) => {
            tracing::warn!(connection = %state.connection, reason = %why, "nothing swept this run");
            0
        }
        None => sweep_unseen(conn, state)?,
    };
    if let Some(w) = state.stats {
        let changed = w.written + removed;
        if changed >= STATS_MIN_WRITES && changed * 10 >= w.rows + w.added {
            crate::db::refresh_statistics(conn, &[Table::Accounts, Table::People])?;
        }
    }
    Ok(removed)
}

fn sweep_unseen(conn: &mut Conn, state: &RunState) -> QueryResult<i64> {
    crate::db::write_tx(conn, |conn| {
        let now = crate::time::now();
        let apps: Vec<AppId> = state.covered_apps.iter().copied().collect();
        let mut removed = diesel::update(
            accounts::table
                .filter(accounts::connection_id.eq(state.connection))
                .filter(accounts::app_id.eq_any(&apps))
                .filter(accounts::status.ne(AccountStatus::Removed))
                .filter(accounts::last_seen_at.lt(state.started)),
        )
        .set((
            accounts::status.eq(AccountStatus::Removed),
            accounts::removed_at.eq(Some(now)),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)? as i64;
        if state.identity_provider {
            removed += diesel::update(
                people::table
                    .filter(people::source_connection_id.eq(state.connection))
                    .filter(people::status.ne(PersonStatus::Departed))
                    .filter(people::last_synced_at.lt(state.started)),
            )
            .set((
                people::status.eq(PersonStatus::Departed),
                people::left_on.eq(Some(now.date())),
                people::updated_at.eq(now),
            ))
            .execute(conn)? as i64;
        }
        diesel::update(
            licence_pools::table
                .filter(licence_pools::connection_id.eq(state.connection))
                .filter(licence_pools::removed_at.is_null())
                .filter(licence_pools::last_seen_at.lt(state.started)),
        )
        .set(licence_pools::removed_at.eq(Some(now)))
        .execute(conn)?;
        diesel::update(
            app_grants::table
                .filter(app_grants::connection_id.eq(state.connection))
                .filter(app_grants::removed_at.is_null())
                .filter(app_grants::last_seen_at.lt(state.started)),
        )
        .set(app_grants::removed_at.eq(Some(now)))
        .execute(conn)?;
        Ok(removed)
    })
}
