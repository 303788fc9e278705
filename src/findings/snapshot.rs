//! The inventory as the rules see it: loaded once per refresh, read by every rule.

use super::FindingKind;
use crate::catalog::Catalog;
use crate::db::schema::{accounts, app_grants, apps, finding_exclusions, people, subscriptions};
use crate::db::Conn;
use crate::db::ConnectionId;
use crate::inventory::{
    AccountId, AccountStatus, App, AppId, AppStatus, PersonId, PersonStatus, SeatActivity, Subscription,
    SubscriptionId, SubscriptionStatus,
};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

/// Thresholds that apply where an app sets none.
#[derive(Debug, Clone)]
pub struct RuleSettings {
    /// Days without activity after which a seat is inactive (per app: `apps.inactive_days`).
    pub inactive_days: i64,
    /// Renewals whose notice deadline is at most this many days away are checked for risk.
    pub renewal_window_days: i64,
    /// Utilisation (0–1) under which a renewal is at risk.
    pub renewal_min_utilisation: f64,
}

impl Default for RuleSettings {
    fn default() -> Self {
        Self { inactive_days: 60, renewal_window_days: 90, renewal_min_utilisation: 0.7 }
    }
}

/// An exclusion: an app, an account, or both, from one kind of finding or all.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Exclusion {
    /// Exclusion id.
    pub id: i64,
    /// The app excluded (all its accounts).
    pub app_id: Option<AppId>,
    /// The account excluded (e.g. a service account).
    pub account_id: Option<AccountId>,
    /// Only from this kind; None = from every kind.
    pub kind: Option<String>,
}

/// An account as the rules read it: only the columns they use, so a refresh over a million seats
/// does not hold every seat's display name, role and bookkeeping times.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Seat {
    /// Account id.
    pub id: AccountId,
    /// The app the seat is in.
    pub app_id: AppId,
    /// The subscription that pays for it, when known.
    pub subscription_id: Option<SubscriptionId>,
    /// The person it belongs to.
    pub person_id: Option<PersonId>,
    /// The vendor's id for the user.
    pub external_id: Option<String>,
    /// Email, lower-case.
    pub email: Option<String>,
    /// Username at the vendor.
    pub username: Option<String>,
    /// Licence or SKU assigned.
    pub licence: Option<String>,
    /// Seat status.
    pub status: AccountStatus,
    /// Whether the vendor bills for this seat.
    pub billable: bool,
    /// When the vendor created the account.
    pub vendor_created_at: Option<NaiveDateTime>,
    /// Last sign-in or activity.
    pub last_active_at: Option<NaiveDateTime>,
    /// When stackward first saw the account.
    pub first_seen_at: NaiveDateTime,
    /// When stackward last saw the account.
    pub last_seen_at: NaiveDateTime,
    /// The connection that syncs this seat.
    pub connection_id: Option<ConnectionId>,
    /// False when the seat's source reports no activity.
    pub activity_tracked: bool,
    /// Whether the holder used premium features lately; None = unknown.
    pub premium_used: Option<bool>,
}

impl Seat {
    /// The facts that say whether and since when the seat was used.
    pub fn activity(&self) -> SeatActivity {
        SeatActivity {
            connection_id: self.connection_id,
            activity_tracked: self.activity_tracked,
            last_active_at: self.last_active_at,
            vendor_created_at: self.vendor_created_at,
            first_seen_at: self.first_seen_at,
        }
    }

    /// See [`SeatActivity::idle_since`].
    pub fn idle_since(&self, cutoff: NaiveDateTime) -> bool {
        self.activity().idle_since(cutoff)
    }
}

/// A person as the rules read them: who they are and whether they are still here.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = people)]
pub struct Member {
    /// Person id.
    pub id: PersonId,
    /// Work email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Active, suspended or departed.
    pub status: PersonStatus,
    /// The day they left, when departed.
    pub left_on: Option<NaiveDate>,
}

/// A third-party app a user authorised, as a connector reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The OAuth client id.
    pub client_id: String,
    /// The app's name as the vendor shows it.
    pub app_name: String,
    /// Scopes granted.
    pub scopes: Option<String>,
    /// The user (email, or the vendor's user id); `(organisation)` for an organisation-wide grant.
    pub user_key: String,
    /// Granted for every user of the organisation at once (admin consent).
    pub organisation_wide: bool,
    /// The connection that reported it.
    pub connection_id: crate::db::ConnectionId,
    /// When first seen.
    pub first_seen_at: NaiveDateTime,
    /// The catalog's name for the app, when it knows it (by client id or name).
    pub catalog_name: Option<String>,
    /// The catalog's category key.
    pub category: Option<String>,
}

/// Everything the rules read. Rows must not change once a rule has run (the index is built then).
#[derive(Debug)]
pub struct Snapshot {
    /// The day the rules judge by.
    pub today: NaiveDate,
    /// Apps not retired.
    pub apps: HashMap<AppId, App>,
    /// Active subscriptions.
    pub subscriptions: Vec<Subscription>,
    /// Accounts not removed.
    pub accounts: Vec<Seat>,
    /// Every person.
    pub people: HashMap<PersonId, Member>,
    /// Exclusions.
    pub exclusions: Vec<Exclusion>,
    /// Third-party app grants still in place.
    pub grants: Vec<Grant>,
    /// Catalog names (lower-case) of apps in the inventory, each with whether it is approved.
    pub known_apps: HashMap<String, bool>,
    /// Apps whose usage is fed without a connection (the usage push, a CSV file).
    pub usage_fed: std::collections::HashSet<AppId>,
    /// Thresholds.
    pub settings: RuleSettings,
    /// Subscriptions by id and by app and each app's data freshness, built on first use.
    index: std::sync::OnceLock<SubscriptionIndex>,
}

#[derive(Debug, Default)]
struct SubscriptionIndex {
    by_id: HashMap<SubscriptionId, usize>,
    by_app: HashMap<AppId, Vec<usize>>,
    usage_as_of: HashMap<AppId, NaiveDateTime>,
}

impl Snapshot {
    /// Loads the inventory; apps with no category take their catalog category.
    pub fn load(
        conn: &mut Conn,
        today: NaiveDate,
        settings: RuleSettings,
        catalog: Option<&Catalog>,
    ) -> QueryResult<Self> {
        let (apps, known_apps) = load_apps(conn, catalog)?;
        let subscriptions = subscriptions::table
            .filter(subscriptions::status.eq(SubscriptionStatus::Active))
            .order(subscriptions::id.asc())
            .select(Subscription::as_select())
            .load(conn)?;
        let accounts = load_seats(conn)?;
        let people = people::table.select(Member::as_select()).load_iter(conn)?.map(|p| p.map(|p: Member| (p.id, p)));
        let people = people.collect::<QueryResult<_>>()?;
        let exclusions = finding_exclusions::table
            .select((
                finding_exclusions::id,
                finding_exclusions::app_id,
                finding_exclusions::account_id,
                finding_exclusions::kind,
            ))
            .load(conn)?;
        let grants = load_grants(conn, catalog)?;
        let usage_fed = crate::inventory::sources::for_apps(conn, None)?
            .into_values()
            .filter(|s| s.usage_source.is_some())
            .map(|s| s.app_id)
            .collect();
        Ok(Snapshot {
            usage_fed,
            grants,
            known_apps,
            today,
            apps: apps.into_iter().map(|a| (a.id, a)).collect(),
            subscriptions,
            accounts,
            people,
            exclusions,
            settings,
            index: Default::default(),
        })
    }

    /// A snapshot of the given rows (tests and benchmarks build one without a database).
    pub fn new(today: NaiveDate, settings: RuleSettings) -> Self {
        Snapshot {
            today,
            apps: HashMap::new(),
            subscriptions: Vec::new(),
            accounts: Vec::new(),
            people: HashMap::new(),
            exclusions: Vec::new(),
            grants: Vec::new(),
            known_apps: HashMap::new(),
            usage_fed: Default::default(),
            settings,
            index: Default::default(),
        }
    }

    fn index(&self) -> &SubscriptionIndex {
        self.index.get_or_init(|| {
            let mut idx = SubscriptionIndex::default();
            for (i, s) in self.subscriptions.iter().enumerate() {
                idx.by_id.insert(s.id, i);
                idx.by_app.entry(s.app_id).or_default().push(i);
            }
            for a in &self.accounts {
                let latest = idx.usage_as_of.entry(a.app_id).or_insert(a.last_seen_at);
                *latest = (*latest).max(a.last_seen_at);
            }
            idx
        })
    }

    /// True when `kind` must skip this app or account.
    pub fn excluded(&self, kind: FindingKind, app: AppId, account: Option<AccountId>) -> bool {
        self.exclusions.iter().any(|e| {
            e.kind.as_deref().is_none_or(|k| k == kind.as_str())
                && e.app_id.is_none_or(|a| a == app)
                && e.account_id.is_none_or(|a| Some(a) == account)
                && (e.app_id.is_some() || e.account_id.is_some())
        })
    }

    /// The app's inactivity threshold in days.
    pub fn inactive_days(&self, app: AppId) -> i64 {
        self.apps.get(&app).and_then(|a| a.inactive_days).map(i64::from).unwrap_or(self.settings.inactive_days)
    }

    /// Active subscriptions of an app.
    pub fn subscriptions_of(&self, app: AppId) -> impl Iterator<Item = &Subscription> {
        self.index().by_app.get(&app).into_iter().flatten().map(|i| &self.subscriptions[*i])
    }

    /// An active subscription by id.
    pub fn subscription(&self, id: SubscriptionId) -> Option<&Subscription> {
        self.index().by_id.get(&id).map(|i| &self.subscriptions[*i])
    }

    /// The subscription paying for an account: its own, else its app's only active one.
    pub fn paying(&self, a: &Seat) -> Option<&Subscription> {
        if let Some(id) = a.subscription_id {
            return self.subscription(id);
        }
        let mut subs = self.subscriptions_of(a.app_id);
        match (subs.next(), subs.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// True when the seat's activity is known, so a missing sign-in means "never used": its
    /// connection reports activity, or (for seats without a connection) usage is pushed or
    /// imported for the app or a time was given; a push helps an untracked connection's seat
    /// only where it gave that seat a time.
    pub fn activity_known(&self, a: &Seat) -> bool {
        a.activity().activity_known(self.usage_fed.contains(&a.app_id))
    }

    /// True for an active, billed seat not excluded from `kind`.
    pub fn is_billed_seat(&self, kind: FindingKind, a: &Seat) -> bool {
        a.status == AccountStatus::Active && a.billable && !self.excluded(kind, a.app_id, Some(a.id))
    }

    /// "Zoom Business" for a subscription, "Zoom" without one.
    pub fn label(&self, app: AppId, sub: Option<SubscriptionId>) -> String {
        let name = self.apps.get(&app).map(|a| a.name.clone()).unwrap_or_else(|| format!("app {app}"));
        match sub.and_then(|id| self.subscription(id)) {
            Some(s) => format!("{name} {}", s.plan),
            None => name,
        }
    }

    /// When the app's usage data was last refreshed: the latest time any of its accounts was seen.
    pub fn usage_as_of(&self, app: AppId) -> Option<NaiveDateTime> {
        self.index().usage_as_of.get(&app).copied()
    }
}

/// Seats read per query: PostgreSQL hands over a whole result at once, so a million seats read in
/// one query would sit in memory twice (as the result and as seats) until the last was decoded.
const SEAT_PAGE: i64 = 50_000;

/// Accounts not removed, in id order, read in pages by id into a vector sized by a count first:
/// a million rows collected by doubling would hold up to half as many again while it grows.
fn load_seats(conn: &mut Conn) -> QueryResult<Vec<Seat>> {
    let live = || accounts::table.filter(accounts::status.ne(AccountStatus::Removed));
    let n: i64 = live().count().get_result(conn)?;
    let mut seats: Vec<Seat> = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    let mut after = AccountId(0);
    loop {
        let page = live()
            .filter(accounts::id.gt(after))
            .order(accounts::id.asc())
            .limit(SEAT_PAGE)
            .select(Seat::as_select())
            .load_iter(conn)?;
        let before = seats.len();
        for seat in page {
            seats.push(seat?);
        }
        match seats.last() {
            Some(last) if seats.len() - before == SEAT_PAGE as usize => after = last.id,
            _ => break,
        }
    }
    // A seat added between the count and the read only grows the vector; one gone leaves slack.
    seats.shrink_to_fit();
    Ok(seats)
}

/// Apps not retired, those without a category given their catalog's, and every name an inventory
/// app goes by (its own and its catalog entry's) with whether it is approved, for shadow IT.
fn load_apps(conn: &mut Conn, catalog: Option<&Catalog>) -> QueryResult<(Vec<App>, HashMap<String, bool>)> {
    let mut apps: Vec<App> =
        apps::table.filter(apps::status.ne(AppStatus::Retired)).select(App::as_select()).load(conn)?;
    let mut known_apps = HashMap::new();
    for app in &apps {
        let approved = matches!(app.status, AppStatus::Approved | AppStatus::Deprecated);
        let mut names = vec![crate::catalog::name_key(&app.name)];
        if let Some(e) = catalog.and_then(|c| c.identify(Some(&app.name), &[], None)) {
            names.push(crate::catalog::name_key(&e.name));
        }
        for n in names {
            let known = known_apps.entry(n).or_insert(false);
            *known |= approved;
        }
    }
    if let Some(catalog) = catalog {
        for app in apps.iter_mut().filter(|a| a.category.is_none()) {
            let mut hosts: Vec<&str> = app.domains.iter().collect();
            hosts.extend(app.website.as_deref());
            app.category = catalog.identify(Some(&app.name), &hosts, None).map(|e| e.category.replace('_', " "));
        }
    }
    Ok((apps, known_apps))
}

/// Third-party app grants still in place, each named as the catalog knows it.
fn load_grants(conn: &mut Conn, catalog: Option<&Catalog>) -> QueryResult<Vec<Grant>> {
    type GrantRow = (String, String, Option<String>, String, crate::db::ConnectionId, NaiveDateTime, bool);
    let rows: Vec<GrantRow> = app_grants::table
        .filter(app_grants::removed_at.is_null())
        .order(app_grants::id.asc())
        .select((
            app_grants::client_id,
            app_grants::app_name,
            app_grants::scopes,
            app_grants::user_key,
            app_grants::connection_id,
            app_grants::first_seen_at,
            app_grants::organisation_wide,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(client_id, app_name, scopes, user_key, connection_id, first_seen_at, organisation_wide)| {
            let entry = catalog.and_then(|c| c.identify(Some(&app_name), &[], Some(&client_id)));
            Grant {
                catalog_name: entry.map(|e| e.name.clone()),
                category: entry.map(|e| e.category.clone()),
                client_id,
                app_name,
                scopes,
                user_key,
                organisation_wide,
                connection_id,
                first_seen_at,
            }
        })
        .collect())
}
