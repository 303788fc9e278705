//! People: the directory of employees, from identity providers, imports or the API.
//! Accounts are matched to people by email, case-insensitively (emails are stored lower-case).

use super::error::{InventoryError, Result};
use super::validate::{self, Invalid};
use crate::audit::{self, Actor};
use crate::db::schema::{accounts, people};
use crate::db::ConnectionId;
use crate::db::{Conn, Page};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

crate::id_type!(
    /// Id of a person.
    PersonId
);

crate::text_enum!(
    /// Whether a person still works here.
    PersonStatus {
        /// Employed and able to sign in.
        Active => "active",
        /// Blocked from signing in, still employed.
        Suspended => "suspended",
        /// Has left the company.
        Departed => "departed",
    }
);

/// A person in the directory.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = people, treat_none_as_null = true)]
pub struct Person {
    /// Person id.
    #[diesel(skip_insertion)]
    pub id: PersonId,
    /// Work email, unique, lower-case.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Department.
    pub department: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Manager's email.
    pub manager_email: Option<String>,
    /// Employment status.
    pub status: PersonStatus,
    /// Last working day, for departed people.
    pub left_on: Option<NaiveDate>,
    /// When the record was created (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: NaiveDateTime,
    /// When the record last changed (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub updated_at: NaiveDateTime,
    /// The identity provider connection that keeps this person up to date; null when kept by hand.
    pub source_connection_id: Option<ConnectionId>,
    /// When that connection last listed this person.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub last_synced_at: Option<NaiveDateTime>,
}

impl Person {
    /// The defaults a new person starts from (active, kept by hand).
    pub fn blank(now: NaiveDateTime) -> Self {
        Person {
            id: PersonId(0),
            email: String::new(),
            name: String::new(),
            department: None,
            title: None,
            manager_email: None,
            status: PersonStatus::Active,
            left_on: None,
            created_at: now,
            updated_at: now,
            source_connection_id: None,
            last_synced_at: None,
        }
    }
}

/// Fields to set on a person; absent fields stay as they are, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonChanges {
    /// Work email (required when creating).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub email: Option<String>,
    /// Full name (required when creating).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub name: Option<String>,
    /// Department.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub department: Option<Option<String>>,
    /// Job title.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    /// Manager's email.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub manager_email: Option<Option<String>>,
    /// Employment status (default `active`).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub status: Option<PersonStatus>,
    /// Last working day.
    #[serde(default, deserialize_with = "crate::time::double_option_date::deserialize")]
    #[schema(value_type = Option<String>, format = Date)]
    pub left_on: Option<Option<NaiveDate>>,
}

impl PersonChanges {
    fn apply(self, p: &mut Person) {
        crate::apply_changes!(self, p; email, name, department, title, manager_email, status, left_on);
    }
}

fn validate(p: &mut Person) -> std::result::Result<(), Invalid> {
    validate::email("email", &mut p.email)?;
    validate::required("name", &mut p.name)?;
    validate::optional("department", &mut p.department)?;
    validate::optional("title", &mut p.title)?;
    validate::optional_email("manager_email", &mut p.manager_email)?;
    if p.manager_email.as_deref() == Some(p.email.as_str()) {
        return Err(Invalid::new("manager_email", "a person cannot be their own manager"));
    }
    Ok(())
}

fn duplicate_email(email: &str) -> impl FnOnce(diesel::result::Error) -> InventoryError {
    InventoryError::conflict_on("email", format!("a person with email {email:?} already exists"))
}

/// Which people to list.
#[derive(Debug, Default, Clone)]
pub struct PersonFilter {
    /// Only people in this status.
    pub status: Option<PersonStatus>,
    /// Only this department.
    pub department: Option<String>,
    /// Only the person with this email (any case).
    pub email: Option<String>,
    /// Only people reporting to this manager.
    pub manager_email: Option<String>,
}

/// Finds a person by id.
pub fn find(conn: &mut Conn, id: PersonId) -> Result<Person> {
    people::table
        .find(id)
        .select(Person::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| InventoryError::not_found("person", id))
}

/// Finds a person by email, ignoring case.
pub fn find_by_email(conn: &mut Conn, email: &str) -> QueryResult<Option<Person>> {
    people::table
        .filter(people::email.eq(email.trim().to_lowercase()))
        .select(Person::as_select())
        .first(conn)
        .optional()
}

/// One page of people in id order.
pub fn list(conn: &mut Conn, filter: &PersonFilter, page: Page) -> Result<(Vec<Person>, Option<i64>)> {
    let mut q = people::table.filter(people::id.gt(page.after)).into_boxed();
    if let Some(s) = filter.status {
        q = q.filter(people::status.eq(s));
    }
    if let Some(d) = &filter.department {
        q = q.filter(people::department.eq(d.trim().to_string()));
    }
    if let Some(e) = &filter.email {
        q = q.filter(people::email.eq(e.trim().to_lowercase()));
    }
    if let Some(m) = &filter.manager_email {
        q = q.filter(people::manager_email.eq(m.trim().to_lowercase()));
    }
    let rows = q.order(people::id.asc()).limit(page.fetch()).select(Person::as_select()).load(conn)?;
    Ok(page.finish(rows, |p| p.id.0))
}

/// Points accounts at this person by email, and away from it where the email no longer matches.
fn link_accounts(conn: &mut Conn, p: &Person) -> QueryResult<()> {
    diesel::update(accounts::table.filter(accounts::person_id.eq(p.id)).filter(accounts::email.ne(&p.email)))
        .set(accounts::person_id.eq(None::<PersonId>))
        .execute(conn)?;
    diesel::update(accounts::table.filter(accounts::email.eq(&p.email)))
        .set(accounts::person_id.eq(Some(p.id)))
        .execute(conn)?;
    Ok(())
}

/// Creates a person, links their accounts and records it in the audit log.
pub fn create(conn: &mut Conn, actor: &Actor, changes: PersonChanges) -> Result<Person> {
    let now = crate::time::now();
    let mut p = Person::blank(now);
    changes.apply(&mut p);
    validate(&mut p)?;
    crate::db::write_tx(conn, |conn| {
        let p: Person = diesel::insert_into(people::table)
            .values(&p)
            .returning(people::all_columns)
            .get_result(conn)
            .map_err(duplicate_email(&p.email))?;
        link_accounts(conn, &p)?;
        audit::record(conn, actor, "person.create", "person", p.id, None, Some(&p))?;
        Ok(p)
    })
}

/// Applies `changes` to person `id`; a change that alters nothing writes nothing.
pub fn update(conn: &mut Conn, actor: &Actor, id: PersonId, changes: PersonChanges) -> Result<Person> {
    crate::db::write_tx(conn, |conn| {
        let before = find(conn, id)?;
        let mut p = before.clone();
        changes.apply(&mut p);
        validate(&mut p)?;
        if p == before {
            return Ok(before);
        }
        p.updated_at = crate::time::now();
        let p: Person = diesel::update(people::table.find(id))
            .set(&p)
            .returning(people::all_columns)
            .get_result(conn)
            .map_err(duplicate_email(&p.email))?;
        if p.email != before.email {
            link_accounts(conn, &p)?;
        }
        audit::record(conn, actor, "person.update", "person", id, Some(&before), Some(&p))?;
        Ok(p)
    })
}

/// Marks person `id` departed (today, unless a last day is known); people are never deleted.
pub fn mark_departed(conn: &mut Conn, actor: &Actor, id: PersonId) -> Result<Person> {
    let current = find(conn, id)?;
    let left_on = current.left_on.unwrap_or_else(|| crate::time::now().date());
    let changes =
        PersonChanges { status: Some(PersonStatus::Departed), left_on: Some(Some(left_on)), ..Default::default() };
    update(conn, actor, id, changes)
}
