//! The columns of each kind, how a record becomes a row, and how a row becomes a change.

use super::cells::Cells;
use super::{Kind, Outcome, TransferError};
use crate::audit::Actor;
use crate::db::{Conn, Page};
use crate::inventory::{
    accounts, apps, people, subscriptions, Account, AccountChanges, App, AppChanges, Domains, Person, PersonChanges,
    Subscription, SubscriptionChanges,
};
use crate::time::format as fmt_time;

const APPS: &[&str] = &[
    "id",
    "name",
    "vendor",
    "category",
    "website",
    "domains",
    "owner_email",
    "technical_owner_email",
    "billing_owner_email",
    "status",
    "notes",
    "inactive_days",
    "created_at",
    "updated_at",
];
const SUBSCRIPTIONS: &[&str] = &[
    "id",
    "app_id",
    "app",
    "plan",
    "seats_purchased",
    "unit_price_cents",
    "currency",
    "billing_frequency",
    "term_start",
    "term_end",
    "renewal_type",
    "notice_days",
    "opt_out_date",
    "owner_email",
    "cost_centre",
    "status",
    "reminder_days",
    "no_action_needed",
    "term_number",
    "created_at",
    "updated_at",
];
const PEOPLE: &[&str] =
    &["id", "email", "name", "department", "title", "manager_email", "status", "left_on", "created_at", "updated_at"];
const ACCOUNTS: &[&str] = &[
    "id",
    "app_id",
    "app",
    "subscription_id",
    "person_id",
    "person_email",
    "external_id",
    "email",
    "username",
    "name",
    "role",
    "licence",
    "status",
    "billable",
    "vendor_created_at",
    "last_active_at",
    "first_seen_at",
    "last_seen_at",
    "removed_at",
    "created_at",
    "updated_at",
];

/// The columns written for `kind`, in order; an import accepts any subset (read-only ones are ignored).
pub(super) fn columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Apps => APPS,
        Kind::Subscriptions => SUBSCRIPTIONS,
        Kind::People => PEOPLE,
        Kind::Accounts => ACCOUNTS,
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn opt_time(v: &Option<chrono::NaiveDateTime>) -> String {
    v.as_ref().map(fmt_time).unwrap_or_default()
}

fn app_row(a: &App) -> Vec<String> {
    vec![
        a.id.to_string(),
        a.name.clone(),
        opt(&a.vendor),
        opt(&a.category),
        opt(&a.website),
        a.domains.joined().to_string(),
        opt(&a.owner_email),
        opt(&a.technical_owner_email),
        opt(&a.billing_owner_email),
        a.status.to_string(),
        opt(&a.notes),
        opt(&a.inactive_days),
        fmt_time(&a.created_at),
        fmt_time(&a.updated_at),
    ]
}

fn subscription_row(s: &Subscription, names: &mut Names) -> Result<Vec<String>, TransferError> {
    Ok(vec![
        s.id.to_string(),
        s.app_id.to_string(),
        names.app(s.app_id)?,
        s.plan.clone(),
        opt(&s.seats_purchased),
        opt(&s.unit_price_cents),
        s.currency.clone(),
        s.billing_frequency.to_string(),
        s.term_start.to_string(),
        opt(&s.term_end),
        s.renewal_type.to_string(),
        opt(&s.notice_days),
        opt(&s.opt_out_date),
        opt(&s.owner_email),
        opt(&s.cost_centre),
        s.status.to_string(),
        opt(&s.reminder_days),
        s.no_action_needed.to_string(),
        s.term_number.to_string(),
        fmt_time(&s.created_at),
        fmt_time(&s.updated_at),
    ])
}

fn person_row(p: &Person) -> Vec<String> {
    vec![
        p.id.to_string(),
        p.email.clone(),
        p.name.clone(),
        opt(&p.department),
        opt(&p.title),
        opt(&p.manager_email),
        p.status.to_string(),
        opt(&p.left_on),
        fmt_time(&p.created_at),
        fmt_time(&p.updated_at),
    ]
}

fn account_row(a: &Account, names: &mut Names) -> Result<Vec<String>, TransferError> {
    Ok(vec![
        a.id.to_string(),
        a.app_id.to_string(),
        names.app(a.app_id)?,
        opt(&a.subscription_id),
        opt(&a.person_id),
        match a.person_id {
            Some(p) => names.person(p)?,
            None => String::new(),
        },
        opt(&a.external_id),
        opt(&a.email),
        opt(&a.username),
        opt(&a.name),
        opt(&a.role),
        opt(&a.licence),
        a.status.to_string(),
        a.billable.to_string(),
        opt_time(&a.vendor_created_at),
        opt_time(&a.last_active_at),
        fmt_time(&a.first_seen_at),
        fmt_time(&a.last_seen_at),
        opt_time(&a.removed_at),
        fmt_time(&a.created_at),
        fmt_time(&a.updated_at),
    ])
}

/// App names and people's emails written next to their ids, each read once per export.
#[derive(Default)]
struct Names<'c> {
    conn: Option<&'c mut Conn>,
    apps: std::collections::HashMap<apps::AppId, String>,
    people: std::collections::HashMap<people::PersonId, String>,
}

impl Names<'_> {
    fn app(&mut self, id: apps::AppId) -> Result<String, TransferError> {
        if let Some(name) = self.apps.get(&id) {
            return Ok(name.clone());
        }
        let Some(conn) = self.conn.as_deref_mut() else { return Ok(String::new()) };
        let name = apps::find(conn, id).map_err(TransferError::Inventory)?.name;
        self.apps.insert(id, name.clone());
        Ok(name)
    }

    fn person(&mut self, id: people::PersonId) -> Result<String, TransferError> {
        if let Some(email) = self.people.get(&id) {
            return Ok(email.clone());
        }
        let Some(conn) = self.conn.as_deref_mut() else { return Ok(String::new()) };
        let email = people::find(conn, id).map_err(TransferError::Inventory)?.email;
        self.people.insert(id, email.clone());
        Ok(email)
    }
}

const EXPORT_BATCH: i64 = 500;

/// Streams every record of `kind` to `write`, a page at a time so memory stays flat.
pub(super) fn export_rows(
    conn: &mut Conn,
    kind: Kind,
    write: &mut dyn FnMut(Vec<String>) -> Result<(), TransferError>,
) -> Result<(), TransferError> {
    let mut page = Page::first(EXPORT_BATCH);
    loop {
        let inv = TransferError::Inventory;
        let next = match kind {
            Kind::Apps => {
                let (rows, next) = apps::list(conn, &Default::default(), page).map_err(inv)?;
                rows.iter().try_for_each(|r| write(app_row(r)))?;
                next
            }
            Kind::Subscriptions => {
                let (rows, next) = subscriptions::list(conn, &Default::default(), page).map_err(inv)?;
                let mut names = Names { conn: Some(&mut *conn), ..Default::default() };
                rows.iter().try_for_each(|r| write(subscription_row(r, &mut names)?))?;
                next
            }
            Kind::People => {
                let (rows, next) = people::list(conn, &Default::default(), page).map_err(inv)?;
                rows.iter().try_for_each(|r| write(person_row(r)))?;
                next
            }
            Kind::Accounts => {
                let (rows, next) = accounts::list(conn, &Default::default(), page).map_err(inv)?;
                let mut names = Names { conn: Some(&mut *conn), ..Default::default() };
                rows.iter().try_for_each(|r| write(account_row(r, &mut names)?))?;
                next
            }
        };
        match next {
            Some(after) => page.after = after,
            None => return Ok(()),
        }
    }
}

/// The record a row names, as a key for spotting two rows about one record: its id, else its
/// natural key (app name, person email, account app and external id). Also the column to blame.
pub(super) fn row_key(kind: Kind, c: &Cells) -> Option<(&'static str, String)> {
    let cell = |col: &str| c.text(col).map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty());
    if let Some(id) = cell("id") {
        return Some(("id", format!("id {id}")));
    }
    match kind {
        Kind::Apps => cell("name").map(|n| ("name", format!("name {n}"))),
        Kind::People => cell("email").map(|e| ("email", format!("email {e}"))),
        Kind::Accounts => match (cell("app_id").or_else(|| cell("app")), cell("external_id")) {
            (Some(app), Some(ext)) => Some(("external_id", format!("app {app} external_id {ext}"))),
            _ => None,
        },
        Kind::Subscriptions => None,
    }
}

/// Creates or updates the record a row describes.
pub(super) fn import_row(conn: &mut Conn, actor: &Actor, kind: Kind, c: &Cells) -> Result<Outcome, TransferError> {
    match kind {
        Kind::Apps => import_app(conn, actor, c),
        Kind::Subscriptions => import_subscription(conn, actor, c),
        Kind::People => import_person(conn, actor, c),
        Kind::Accounts => import_account(conn, actor, c),
    }
}

fn outcome<T: PartialEq>(before: Option<&T>, after: &T) -> Outcome {
    match before {
        None => Outcome::Created,
        Some(b) if b == after => Outcome::Unchanged,
        Some(_) => Outcome::Updated,
    }
}

fn import_app(conn: &mut Conn, actor: &Actor, c: &Cells) -> Result<Outcome, TransferError> {
    let changes = AppChanges {
        name: c.text("name"),
        vendor: c.opt_text("vendor"),
        category: c.opt_text("category"),
        website: c.opt_text("website"),
        domains: c.text("domains").map(|d| Domains::parse_list(&d)),
        owner_email: c.opt_text("owner_email"),
        technical_owner_email: c.opt_text("technical_owner_email"),
        billing_owner_email: c.opt_text("billing_owner_email"),
        status: c.value("status")?,
        notes: c.opt_text("notes"),
        inactive_days: c.opt_value("inactive_days")?,
    };
    let existing = match c.opt_value::<apps::AppId>("id")?.flatten() {
        Some(id) => Some(c.check(apps::find(conn, id))?),
        None => match &changes.name {
            Some(name) => apps::find_by_name(conn, name)?,
            None => None,
        },
    };
    let saved = match &existing {
        Some(e) => c.check(apps::update(conn, actor, e.id, changes))?,
        None => c.check(apps::create(conn, actor, changes))?,
    };
    Ok(outcome(existing.as_ref(), &saved))
}

/// The app a row names by `app_id` or by `app` (its name); when both are given they must agree.
fn app_of(conn: &mut Conn, c: &Cells) -> Result<Option<apps::AppId>, TransferError> {
    let by_id: Option<apps::AppId> = c.value("app_id")?;
    let Some(name) = c.text("app").filter(|n| !n.trim().is_empty()) else {
        if by_id.is_none() && c.text("app").is_some() {
            return Err(c.error("app", "must not be empty: give the app's name (or an app_id column)"));
        }
        return Ok(by_id);
    };
    let Some(found) = apps::find_by_name(conn, &name)? else {
        return Err(c.error("app", format!("no app is named {name:?}; import the apps first or give app_id")));
    };
    match by_id {
        Some(id) if id != found.id => {
            Err(c.error("app", format!("{name:?} is app {}, but app_id says {id}", found.id)))
        }
        _ => Ok(Some(found.id)),
    }
}

/// A seat's email from `email`, else from `person_email` (the person the seat belongs to, who
/// must be known); when both are given they must agree.
fn seat_email(conn: &mut Conn, c: &Cells) -> Result<Option<Option<String>>, TransferError> {
    let email = c.opt_text("email");
    let Some(person) = c.opt_text("person_email").flatten() else { return Ok(email) };
    match email.clone().flatten() {
        Some(e) if !e.eq_ignore_ascii_case(&person) => Err(c.error(
            "person_email",
            format!("{person} differs from the seat's email {e}; a seat belongs to the person with its email"),
        )),
        Some(_) => Ok(email),
        None => match people::find_by_email(conn, &person)? {
            Some(p) => Ok(Some(Some(p.email))),
            None => Err(c.error("person_email", format!("no person has the email {person}; import people first"))),
        },
    }
}

fn import_subscription(conn: &mut Conn, actor: &Actor, c: &Cells) -> Result<Outcome, TransferError> {
    let changes = SubscriptionChanges {
        app_id: app_of(conn, c)?,
        plan: c.text("plan"),
        seats_purchased: c.opt_value("seats_purchased")?,
        unit_price_cents: c.opt_value("unit_price_cents")?,
        currency: c.text("currency"),
        billing_frequency: c.value("billing_frequency")?,
        term_start: c.date("term_start")?,
        term_end: c.opt_date("term_end")?,
        renewal_type: c.value("renewal_type")?,
        notice_days: c.opt_value("notice_days")?,
        opt_out_date: c.opt_date("opt_out_date")?,
        owner_email: c.opt_text("owner_email"),
        cost_centre: c.opt_text("cost_centre"),
        status: c.value("status")?,
        reminder_days: c.opt_text("reminder_days"),
        no_action_needed: c.flag("no_action_needed")?,
        // Not a CSV column yet: an import leaves the renewal term as it is.
        renewal_term_months: None,
    };
    let existing = match c.opt_value::<subscriptions::SubscriptionId>("id")?.flatten() {
        Some(id) => Some(c.check(subscriptions::find(conn, id))?),
        None => None,
    };
    let saved = match &existing {
        Some(e) => c.check(subscriptions::update(conn, actor, e.id, changes))?,
        None => c.check(subscriptions::create(conn, actor, changes))?,
    };
    Ok(outcome(existing.as_ref(), &saved))
}

fn import_person(conn: &mut Conn, actor: &Actor, c: &Cells) -> Result<Outcome, TransferError> {
    let changes = PersonChanges {
        email: c.text("email"),
        name: c.text("name"),
        department: c.opt_text("department"),
        title: c.opt_text("title"),
        manager_email: c.opt_text("manager_email"),
        status: c.value("status")?,
        left_on: c.opt_date("left_on")?,
    };
    let existing = match c.opt_value::<people::PersonId>("id")?.flatten() {
        Some(id) => Some(c.check(people::find(conn, id))?),
        None => match &changes.email {
            Some(email) => people::find_by_email(conn, email)?,
            None => None,
        },
    };
    let saved = match &existing {
        Some(e) => c.check(people::update(conn, actor, e.id, changes))?,
        None => c.check(people::create(conn, actor, changes))?,
    };
    Ok(outcome(existing.as_ref(), &saved))
}

fn import_account(conn: &mut Conn, actor: &Actor, c: &Cells) -> Result<Outcome, TransferError> {
    let changes = AccountChanges {
        app_id: app_of(conn, c)?,
        subscription_id: c.opt_value("subscription_id")?,
        external_id: c.opt_text("external_id"),
        email: seat_email(conn, c)?,
        username: c.opt_text("username"),
        name: c.opt_text("name"),
        role: c.opt_text("role"),
        licence: c.opt_text("licence"),
        status: c.value("status")?,
        billable: c.flag("billable")?,
        vendor_created_at: c.opt_time("vendor_created_at")?,
        last_active_at: c.opt_time("last_active_at")?,
    };
    let existing = match c.opt_value::<accounts::AccountId>("id")?.flatten() {
        Some(id) => Some(c.check(accounts::find(conn, id))?),
        None => match (changes.app_id, changes.external_id.clone().flatten()) {
            (Some(app), Some(ext)) => accounts::find_by_external_id(conn, app, &ext)?,
            _ => None,
        },
    };
    let active_given = matches!(changes.last_active_at, Some(Some(_)));
    let saved = match &existing {
        Some(e) => c.check(accounts::update(conn, actor, e.id, changes))?,
        None => c.check(accounts::create(conn, actor, changes))?,
    };
    // Seats a connection brings stay the connection's; the rest are known from this file.
    if saved.connection_id.is_none() {
        let now = crate::time::now();
        crate::inventory::sources::mark_seats(conn, saved.app_id, crate::inventory::SeatsSource::Csv, now)?;
        if active_given {
            crate::inventory::sources::mark_usage(conn, saved.app_id, crate::inventory::UsageSource::Csv, now)?;
        }
    }
    Ok(outcome(existing.as_ref(), &saved))
}
