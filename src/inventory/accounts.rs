//! Accounts: a user's seat in one app, from a connector, an import or the API. Removed
//! accounts keep their row with `removed_at`, since reports count them.

use super::apps::{self, AppId};
use super::error::{InventoryError, Result};
use super::people::{self, PersonId};
use super::subscriptions::{self, SubscriptionId};
use super::validate::{self, Invalid};
use crate::audit::{self, Actor};
use crate::db::schema::accounts;
use crate::db::ConnectionId;
use crate::db::{Conn, Page, Stamped};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

crate::id_type!(
    /// Id of an account.
    AccountId
);

crate::text_enum!(
    /// Whether a seat is in use.
    AccountStatus {
        /// Can sign in.
        Active => "active",
        /// Blocked at the vendor; may still be billed.
        Suspended => "suspended",
        /// Gone from the vendor; kept for history.
        Removed => "removed",
    }
);

/// A seat: one user's account in one app.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = accounts, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Account {
    /// Account id.
    #[diesel(skip_insertion)]
    pub id: AccountId,
    /// The app the seat is in.
    pub app_id: AppId,
    /// The subscription that pays for it, when known.
    pub subscription_id: Option<SubscriptionId>,
    /// The person it belongs to, matched by email.
    pub person_id: Option<PersonId>,
    /// The vendor's id for the user.
    pub external_id: Option<String>,
    /// Email, lower-case.
    pub email: Option<String>,
    /// Username at the vendor.
    pub username: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Role at the vendor, e.g. `admin`.
    pub role: Option<String>,
    /// Licence or SKU assigned.
    pub licence: Option<String>,
    /// Seat status.
    pub status: AccountStatus,
    /// Whether the vendor bills for this seat.
    pub billable: bool,
    /// When the vendor created the account.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub vendor_created_at: Option<NaiveDateTime>,
    /// Last sign-in or activity; null when never seen active.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub last_active_at: Option<NaiveDateTime>,
    /// When stackward first saw the account.
    #[serde(with = "crate::time::rfc3339")]
    pub first_seen_at: NaiveDateTime,
    /// When stackward last saw the account.
    #[serde(with = "crate::time::rfc3339")]
    pub last_seen_at: NaiveDateTime,
    /// When the account was removed.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub removed_at: Option<NaiveDateTime>,
    /// When the record was created (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: NaiveDateTime,
    /// When the record last changed (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub updated_at: NaiveDateTime,
    /// The connection that syncs this seat; null for seats entered by hand or imported.
    pub connection_id: Option<ConnectionId>,
    /// False when the seat's source reports no activity, so a missing sign-in means "unknown", not "unused".
    pub activity_tracked: bool,
    /// Whether the holder used their licence's premium features lately (e.g. hosted a Zoom meeting); null = unknown.
    pub premium_used: Option<bool>,
}

impl Account {
    /// The defaults a new seat in `app_id` starts from (active, billable, first seen now).
    pub fn blank(app_id: AppId, now: NaiveDateTime) -> Self {
        Account {
            id: AccountId(0),
            app_id,
            subscription_id: None,
            person_id: None,
            external_id: None,
            email: None,
            username: None,
            name: None,
            role: None,
            licence: None,
            status: AccountStatus::Active,
            billable: true,
            vendor_created_at: None,
            last_active_at: None,
            first_seen_at: now,
            last_seen_at: now,
            removed_at: None,
            created_at: now,
            updated_at: now,
            connection_id: None,
            activity_tracked: true,
            premium_used: None,
        }
    }

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

    /// See [`SeatActivity::activity_known`].
    pub fn activity_known(&self, usage_fed: bool) -> bool {
        self.activity().activity_known(usage_fed)
    }

    /// See [`SeatActivity::idle_since`].
    pub fn idle_since(&self, cutoff: NaiveDateTime) -> bool {
        self.activity().idle_since(cutoff)
    }
}

/// The columns of a seat that say whether and since when it was used: one reading for a full
/// [`Account`] and for the narrow rows the findings rules load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatActivity {
    /// The connection that syncs the seat.
    pub connection_id: Option<ConnectionId>,
    /// False when the seat's source reports no activity.
    pub activity_tracked: bool,
    /// Last sign-in or activity.
    pub last_active_at: Option<NaiveDateTime>,
    /// When the vendor created the account.
    pub vendor_created_at: Option<NaiveDateTime>,
    /// When stackward first saw the account.
    pub first_seen_at: NaiveDateTime,
}

impl SeatActivity {
    /// True when the seat's activity is known, so a missing sign-in means "never used": its
    /// connection reports activity, or (for seats without a connection) usage is pushed or
    /// imported for the app (`usage_fed`) or a time was given; a push helps an untracked
    /// connection's seat only where it gave that seat a time.
    pub fn activity_known(&self, usage_fed: bool) -> bool {
        match self.connection_id {
            Some(_) => self.activity_tracked || (usage_fed && self.last_active_at.is_some()),
            None => usage_fed || self.last_active_at.is_some(),
        }
    }

    /// True when the seat (its activity known) shows no activity since `cutoff`; one never used
    /// counts once it is older than the cutoff, so a new seat is not idle yet.
    pub fn idle_since(&self, cutoff: NaiveDateTime) -> bool {
        match self.last_active_at {
            Some(t) => t < cutoff,
            None => self.vendor_created_at.unwrap_or(self.first_seen_at).min(self.first_seen_at) < cutoff,
        }
    }
}

/// Fields to set on an account; absent fields stay as they are, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountChanges {
    /// The app (required when creating).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub app_id: Option<AppId>,
    /// The subscription paying for it.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub subscription_id: Option<Option<SubscriptionId>>,
    /// The vendor's id for the user.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    /// Email.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Username.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub username: Option<Option<String>>,
    /// Display name.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Role.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub role: Option<Option<String>>,
    /// Licence or SKU.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub licence: Option<Option<String>>,
    /// Seat status (default `active`).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub status: Option<AccountStatus>,
    /// Whether it is billed (default true).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub billable: Option<bool>,
    /// When the vendor created it.
    #[serde(default, deserialize_with = "crate::time::double_option_rfc3339::deserialize")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub vendor_created_at: Option<Option<NaiveDateTime>>,
    /// Last sign-in or activity.
    #[serde(default, deserialize_with = "crate::time::double_option_rfc3339::deserialize")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_active_at: Option<Option<NaiveDateTime>>,
}

impl AccountChanges {
    fn apply(self, a: &mut Account) {
        crate::apply_changes!(self, a; app_id, subscription_id, external_id, email, username, name,
            role, licence, status, billable, vendor_created_at, last_active_at);
    }
}

fn validate(conn: &mut Conn, a: &mut Account) -> Result<()> {
    match apps::find(conn, a.app_id) {
        Err(InventoryError::NotFound { .. }) => {
            return Err(Invalid::new("app_id", format!("no app has id {}", a.app_id)).into())
        }
        other => other.map(|_| ())?,
    }
    if let Some(sid) = a.subscription_id {
        match subscriptions::find(conn, sid) {
            Ok(s) if s.app_id != a.app_id => {
                let msg = format!("subscription {sid} belongs to app {}, not app {}", s.app_id, a.app_id);
                return Err(Invalid::new("subscription_id", msg).into());
            }
            Err(InventoryError::NotFound { .. }) => {
                return Err(Invalid::new("subscription_id", format!("no subscription has id {sid}")).into())
            }
            other => other.map(|_| ())?,
        }
    }
    validate::optional("external_id", &mut a.external_id)?;
    validate::optional_email("email", &mut a.email)?;
    validate::optional("username", &mut a.username)?;
    validate::optional("name", &mut a.name)?;
    validate::optional("role", &mut a.role)?;
    validate::optional("licence", &mut a.licence)?;
    if a.email.is_none() && a.username.is_none() && a.external_id.is_none() {
        return Err(Invalid::new("email", "an account needs an email, a username or an external_id").into());
    }
    // removed_at follows the status so reports can rely on either.
    match (a.status, a.removed_at) {
        (AccountStatus::Removed, None) => a.removed_at = Some(crate::time::now()),
        (AccountStatus::Active | AccountStatus::Suspended, Some(_)) => a.removed_at = None,
        _ => {}
    }
    a.person_id = match &a.email {
        Some(e) => people::find_by_email(conn, e)?.map(|p| p.id),
        None => None,
    };
    Ok(())
}

fn duplicate_external_id(a: &Account) -> impl FnOnce(diesel::result::Error) -> InventoryError {
    let id = a.external_id.clone().unwrap_or_default();
    InventoryError::conflict_on(
        "external_id",
        format!("app {} already has an account with external_id {id:?}", a.app_id),
    )
}

/// Which accounts to list.
#[derive(Debug, Default, Clone)]
pub struct AccountFilter {
    /// Only this app's.
    pub app_id: Option<AppId>,
    /// Only this subscription's.
    pub subscription_id: Option<SubscriptionId>,
    /// Only this person's.
    pub person_id: Option<PersonId>,
    /// Only in this status.
    pub status: Option<AccountStatus>,
    /// Only with this email (any case).
    pub email: Option<String>,
    /// Only seats not removed and with no activity in this many days (never-used included).
    pub inactive_days: Option<u32>,
    /// Only seats belonging to this email, by the account's email or its matched person.
    pub belonging_to: Option<String>,
    /// Only seats a connection brought.
    pub connection_id: Option<ConnectionId>,
}

/// Finds an account by id.
pub fn find(conn: &mut Conn, id: AccountId) -> Result<Account> {
    accounts::table
        .find(id)
        .select(Account::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| InventoryError::not_found("account", id))
}

/// Finds an app's account by the vendor's id.
pub fn find_by_external_id(conn: &mut Conn, app_id: AppId, external_id: &str) -> QueryResult<Option<Account>> {
    accounts::table
        .filter(accounts::app_id.eq(app_id))
        .filter(accounts::external_id.eq(external_id))
        .select(Account::as_select())
        .first(conn)
        .optional()
}

/// Active seats per app.
pub fn active_count_by_app(conn: &mut Conn) -> QueryResult<std::collections::HashMap<AppId, i64>> {
    // Read over every seat: remembered until a seat changes.
    crate::db::remember(conn, Stamped::Accounts, "active seats by app".into(), |conn| {
        let rows: Vec<(AppId, i64)> = accounts::table
            .filter(accounts::status.eq(AccountStatus::Active))
            .group_by(accounts::app_id)
            .select((accounts::app_id, diesel::dsl::count_star()))
            .load(conn)?;
        Ok(rows.into_iter().collect())
    })
}

/// Active seats per paying subscription (None: seats linked to no subscription).
pub fn active_count_by_subscription(
    conn: &mut Conn,
) -> QueryResult<std::collections::HashMap<Option<SubscriptionId>, i64>> {
    let rows: Vec<(Option<SubscriptionId>, i64)> = accounts::table
        .filter(accounts::status.eq(AccountStatus::Active))
        .group_by(accounts::subscription_id)
        .select((accounts::subscription_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// One page of accounts in id order.
pub fn list(conn: &mut Conn, filter: &AccountFilter, page: Page) -> Result<(Vec<Account>, Option<i64>)> {
    let mut q = accounts::table.filter(accounts::id.gt(page.after)).into_boxed();
    if let Some(a) = filter.app_id {
        q = q.filter(accounts::app_id.eq(a));
    }
    if let Some(s) = filter.subscription_id {
        q = q.filter(accounts::subscription_id.eq(s));
    }
    if let Some(p) = filter.person_id {
        q = q.filter(accounts::person_id.eq(p));
    }
    if let Some(s) = filter.status {
        q = q.filter(accounts::status.eq(s));
    }
    if let Some(c) = filter.connection_id {
        q = q.filter(accounts::connection_id.eq(c));
    }
    if let Some(e) = &filter.email {
        q = q.filter(accounts::email.eq(e.trim().to_lowercase()));
    }
    if let Some(days) = filter.inactive_days {
        // Any day count is a valid question; one reaching before the year 1 simply means "no
        // activity since the year 1" rather than an overflow (or a time PostgreSQL cannot hold).
        let floor = chrono::NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default().and_time(chrono::NaiveTime::MIN);
        let cutoff = chrono::Duration::try_days(i64::from(days))
            .and_then(|d| crate::time::now().checked_sub_signed(d))
            .map_or(floor, |c| c.max(floor));
        q = q
            .filter(accounts::status.ne(AccountStatus::Removed))
            .filter(accounts::last_active_at.is_null().or(accounts::last_active_at.lt(cutoff)));
    }
    if let Some(owner) = &filter.belonging_to {
        let owner = owner.trim().to_lowercase();
        let person = people::find_by_email(conn, &owner)?.map(|p| p.id);
        // The seats are found through the email and person indexes first: asked for `email OR
        // person` in id order with a page limit, PostgreSQL walks every seat in id order instead
        // (176 ms at 1M seats for the dashboard's "my tools"). One person holds few seats.
        let mut ids: Vec<AccountId> =
            accounts::table.filter(accounts::email.eq(&owner)).select(accounts::id).load(conn)?;
        if let Some(pid) = person {
            ids.extend(
                accounts::table.filter(accounts::person_id.eq(pid)).select(accounts::id).load::<AccountId>(conn)?,
            );
        }
        ids.sort();
        ids.dedup();
        q = q.filter(accounts::id.eq_any(ids));
    }
    let rows = q.order(accounts::id.asc()).limit(page.fetch()).select(Account::as_select()).load(conn)?;
    Ok(page.finish(rows, |a| a.id.0))
}

/// Creates an account (seen now), matches it to a person and records it in the audit log.
pub fn create(conn: &mut Conn, actor: &Actor, changes: AccountChanges) -> Result<Account> {
    let now = crate::time::now();
    let Some(app_id) = changes.app_id else {
        return Err(Invalid::new("app_id", "is required").into());
    };
    let mut a = Account::blank(app_id, now);
    changes.apply(&mut a);
    crate::db::write_tx(conn, |conn| {
        validate(conn, &mut a)?;
        let a: Account = diesel::insert_into(accounts::table)
            .values(&a)
            .returning(accounts::all_columns)
            .get_result(conn)
            .map_err(duplicate_external_id(&a))?;
        // A seat entered by hand; a CSV import marks its own source after this.
        super::sources::mark_seats(conn, a.app_id, super::SeatsSource::Manual, now)?;
        audit::record(conn, actor, "account.create", "account", a.id, None, Some(&a))?;
        Ok(a)
    })
}

/// Applies `changes` to account `id`; a change that alters nothing writes nothing.
pub fn update(conn: &mut Conn, actor: &Actor, id: AccountId, changes: AccountChanges) -> Result<Account> {
    crate::db::write_tx(conn, |conn| {
        let before = find(conn, id)?;
        let mut a = before.clone();
        changes.apply(&mut a);
        validate(conn, &mut a)?;
        if a == before {
            return Ok(before);
        }
        a.updated_at = crate::time::now();
        let a: Account = diesel::update(accounts::table.find(id))
            .set(&a)
            .returning(accounts::all_columns)
            .get_result(conn)
            .map_err(duplicate_external_id(&a))?;
        audit::record(conn, actor, "account.update", "account", id, Some(&before), Some(&a))?;
        Ok(a)
    })
}

/// Marks account `id` removed; the row stays for reports.
pub fn remove(conn: &mut Conn, actor: &Actor, id: AccountId) -> Result<Account> {
    let changes = AccountChanges { status: Some(AccountStatus::Removed), ..Default::default() };
    update(conn, actor, id, changes)
}

/// Seats of one app: held (not removed) and active.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SeatCounts {
    /// Seats someone holds (active or suspended, not removed).
    pub assigned: i64,
    /// Active seats.
    pub active: i64,
}

/// Held and active seats of `app`.
pub fn seat_counts(conn: &mut Conn, app: AppId) -> QueryResult<SeatCounts> {
    // The largest apps hold hundreds of thousands of seats: remembered until a seat changes.
    crate::db::remember(conn, Stamped::Accounts, format!("seat counts {app}"), |conn| {
        let held = accounts::table.filter(accounts::app_id.eq(app)).filter(accounts::removed_at.is_null());
        let assigned = held.count().get_result(conn)?;
        let active = held.filter(accounts::status.eq(AccountStatus::Active)).count().get_result(conn)?;
        Ok(SeatCounts { assigned, active })
    })
}
