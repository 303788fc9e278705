//! Apps: the tools in the stack, their owners and lifecycle status. Apps are retired, never deleted.

use super::domains::Domains;
use super::error::{InventoryError, Result};
use super::validate::{self, Invalid};
use crate::audit::{self, Actor};
use crate::db::schema::apps;
use crate::db::{Conn, Page};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

crate::id_type!(
    /// Id of an app.
    AppId
);

crate::text_enum!(
    /// Where an app stands in the stack's lifecycle.
    AppStatus {
        /// Found by a connector or import, not yet reviewed.
        Discovered => "discovered",
        /// Being evaluated.
        UnderReview => "under_review",
        /// Sanctioned for use.
        Approved => "approved",
        /// Still in use but being phased out.
        Deprecated => "deprecated",
        /// No longer in use; kept for history.
        Retired => "retired",
    }
);

diesel::define_sql_function!(
    /// SQL `lower()`, the same on both backends for ASCII.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text
);

/// An app in the inventory.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = apps, treat_none_as_null = true)]
pub struct App {
    /// App id.
    #[diesel(skip_insertion)]
    pub id: AppId,
    /// Name, unique regardless of case.
    pub name: String,
    /// Company that sells it.
    pub vendor: Option<String>,
    /// Category, e.g. `video conferencing`.
    pub category: Option<String>,
    /// Home page.
    pub website: Option<String>,
    /// Domains it is reached at.
    pub domains: Domains,
    /// Business owner, who answers for its use and cost.
    pub owner_email: Option<String>,
    /// Technical owner, who administers it.
    pub technical_owner_email: Option<String>,
    /// Billing owner, who holds the contract.
    pub billing_owner_email: Option<String>,
    /// Lifecycle status.
    pub status: AppStatus,
    /// Free text.
    pub notes: Option<String>,
    /// When the record was created (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: NaiveDateTime,
    /// When the record last changed (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub updated_at: NaiveDateTime,
    /// Days without activity after which a seat counts as inactive; null = the default (60).
    pub inactive_days: Option<i32>,
}

impl App {
    /// The defaults a new app starts from before its fields are applied (approved, nothing else set).
    pub fn blank(now: NaiveDateTime) -> Self {
        App {
            id: AppId(0),
            name: String::new(),
            vendor: None,
            category: None,
            website: None,
            domains: Domains::default(),
            owner_email: None,
            technical_owner_email: None,
            billing_owner_email: None,
            status: AppStatus::Approved,
            notes: None,
            created_at: now,
            updated_at: now,
            inactive_days: None,
        }
    }
}

/// Fields to set on an app; absent fields stay as they are, `null` clears an optional one.
#[serde_with::serde_as]
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppChanges {
    /// Name (required when creating).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub name: Option<String>,
    /// Vendor.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub vendor: Option<Option<String>>,
    /// Category.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// Home page.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    /// Domains.
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub domains: Option<Domains>,
    /// Business owner's email.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub owner_email: Option<Option<String>>,
    /// Technical owner's email.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub technical_owner_email: Option<Option<String>>,
    /// Billing owner's email.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub billing_owner_email: Option<Option<String>>,
    /// Lifecycle status (default `approved` when created by hand).
    #[serde(default, deserialize_with = "crate::inventory::validate::not_null")]
    pub status: Option<AppStatus>,
    /// Free text.
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    /// Days without activity after which a seat counts as inactive; null for the default (60).
    #[serde(default, with = "serde_with::rust::double_option")]
    #[schema(value_type = Option<i32>)]
    pub inactive_days: Option<Option<i32>>,
}

impl AppChanges {
    fn apply(self, app: &mut App) {
        crate::apply_changes!(self, app; name, vendor, category, website, domains, owner_email,
            technical_owner_email, billing_owner_email, status, notes, inactive_days);
    }
}

fn validate(app: &mut App) -> std::result::Result<(), Invalid> {
    validate::required("name", &mut app.name)?;
    validate::optional("vendor", &mut app.vendor)?;
    validate::optional("category", &mut app.category)?;
    if let Some(c) = app.category.as_mut() {
        *c = c.to_lowercase();
    }
    validate::optional("website", &mut app.website)?;
    if let Some(w) = &app.website {
        if url::Url::parse(w).map(|u| !matches!(u.scheme(), "http" | "https")).unwrap_or(true) {
            return Err(Invalid::new("website", format!("{w:?} is not an http(s) URL")));
        }
    }
    app.domains.normalise().map_err(|m| Invalid::new("domains", m))?;
    validate::optional_email("owner_email", &mut app.owner_email)?;
    validate::optional_email("technical_owner_email", &mut app.technical_owner_email)?;
    validate::optional_email("billing_owner_email", &mut app.billing_owner_email)?;
    validate::optional("notes", &mut app.notes)?;
    if app.inactive_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(Invalid::new("inactive_days", "must be between 1 and 3650"));
    }
    Ok(())
}

fn duplicate_name(name: &str) -> impl FnOnce(diesel::result::Error) -> InventoryError {
    InventoryError::conflict_on("name", format!("an app named {name:?} already exists"))
}

/// Which apps to list.
#[derive(Debug, Default, Clone)]
pub struct AppFilter {
    /// Only apps in this status.
    pub status: Option<AppStatus>,
    /// Only apps in this category.
    pub category: Option<String>,
    /// Only apps whose name contains this text (any case).
    pub q: Option<String>,
}

/// Finds an app by id.
pub fn find(conn: &mut Conn, id: AppId) -> Result<App> {
    apps::table
        .find(id)
        .select(App::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| InventoryError::not_found("app", id))
}

/// Finds an app by name, ignoring case.
pub fn find_by_name(conn: &mut Conn, name: &str) -> QueryResult<Option<App>> {
    apps::table.filter(lower(apps::name).eq(name.trim().to_lowercase())).select(App::as_select()).first(conn).optional()
}

/// One page of apps in id order.
pub fn list(conn: &mut Conn, filter: &AppFilter, page: Page) -> Result<(Vec<App>, Option<i64>)> {
    let mut q = apps::table.filter(apps::id.gt(page.after)).into_boxed();
    if let Some(s) = filter.status {
        q = q.filter(apps::status.eq(s));
    }
    if let Some(c) = &filter.category {
        q = q.filter(apps::category.eq(c.trim().to_lowercase()));
    }
    if let Some(text) = &filter.q {
        // `_` and `%` in the search are the characters themselves, not wildcards.
        let pattern = format!("%{}%", crate::db::escape_like(&text.trim().to_lowercase()));
        q = q.filter(lower(apps::name).like(pattern).escape('\\'));
    }
    let rows = q.order(apps::id.asc()).limit(page.fetch()).select(App::as_select()).load(conn)?;
    Ok(page.finish(rows, |a| a.id.0))
}

/// Creates an app from `changes` and records it in the audit log.
pub fn create(conn: &mut Conn, actor: &Actor, changes: AppChanges) -> Result<App> {
    let now = crate::time::now();
    let mut app = App::blank(now);
    changes.apply(&mut app);
    validate(&mut app)?;
    crate::db::write_tx(conn, |conn| {
        let app: App = diesel::insert_into(apps::table)
            .values(&app)
            .returning(apps::all_columns)
            .get_result(conn)
            .map_err(duplicate_name(&app.name))?;
        audit::record(conn, actor, "app.create", "app", app.id, None, Some(&app))?;
        Ok(app)
    })
}

/// Applies `changes` to app `id`; a change that alters nothing writes nothing.
pub fn update(conn: &mut Conn, actor: &Actor, id: AppId, changes: AppChanges) -> Result<App> {
    crate::db::write_tx(conn, |conn| {
        let before = find(conn, id)?;
        let mut app = before.clone();
        changes.apply(&mut app);
        validate(&mut app)?;
        if app == before {
            return Ok(before);
        }
        app.updated_at = crate::time::now();
        let app: App = diesel::update(apps::table.find(id))
            .set(&app)
            .returning(apps::all_columns)
            .get_result(conn)
            .map_err(duplicate_name(&app.name))?;
        audit::record(conn, actor, "app.update", "app", id, Some(&before), Some(&app))?;
        Ok(app)
    })
}

/// Retires app `id`: it leaves the active stack but stays for reports.
pub fn retire(conn: &mut Conn, actor: &Actor, id: AppId) -> Result<App> {
    let changes = AppChanges { status: Some(AppStatus::Retired), ..Default::default() };
    update(conn, actor, id, changes)
}
