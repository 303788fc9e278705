//! Advice at submission: before a new tool is requested, what the stack already has in the same
//! catalog category, with unused seats and owners ("You already have Miro: 34 unused seats,
//! owner olga@example.com"). Also decides the request's category and whether its vendor is known.

use super::model::Request;
use crate::catalog::Catalog;
use crate::db::schema::{apps, subscriptions};
use crate::db::Conn;
use crate::inventory::{accounts, App, AppId, AppStatus, SubscriptionStatus};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

/// One app of the stack in the requested tool's category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdviceApp {
    /// The app.
    #[schema(value_type = String)]
    pub app_id: AppId,
    /// Its name.
    pub name: String,
    /// Its business owner, who can hand out seats.
    pub owner_email: Option<String>,
    /// Seats bought over its active subscriptions; null when unlimited or none recorded.
    pub seats_purchased: Option<i64>,
    /// Active accounts.
    pub active_seats: i64,
    /// Seats bought and not in use; null when unknown.
    pub unused_seats: Option<i64>,
    /// One sentence for the requester.
    pub message: String,
    /// The add_seats request to send instead, as `POST /api/v1/requests` takes it.
    #[schema(value_type = Object)]
    pub switch_to: serde_json::Value,
}

/// What the stack already has for a new tool request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Advice {
    /// The catalog app the request was recognised as, if any.
    pub catalog_match: Option<String>,
    /// The catalog category key, or "" when unknown.
    pub category: String,
    /// True when the tool is in the catalog or the inventory.
    pub known_vendor: bool,
    /// Apps of the same category already in the stack, most unused seats first.
    pub apps: Vec<AdviceApp>,
    /// A summary sentence.
    pub message: String,
}

/// A category as a catalog key: lower-case, words joined by `_` ("video conferencing" →
/// "video_conferencing"), so an app's free-text category compares with the catalog's keys.
pub fn category_key(category: &str) -> String {
    category.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join("_")
}

/// The catalog key of an app's category: its own, or its catalog entry's.
pub fn app_category(app: &App, catalog: &Catalog) -> String {
    if let Some(c) = app.category.as_deref().filter(|c| !c.trim().is_empty()) {
        return category_key(c);
    }
    let mut hosts: Vec<&str> = app.domains.iter().collect();
    hosts.extend(app.website.as_deref());
    catalog.identify(Some(&app.name), &hosts, None).map(|e| e.category.clone()).unwrap_or_default()
}

fn seats_purchased(conn: &mut Conn, app: AppId) -> QueryResult<Option<i64>> {
    let seats: Vec<Option<i64>> = subscriptions::table
        .filter(subscriptions::app_id.eq(app))
        .filter(subscriptions::status.eq(SubscriptionStatus::Active))
        .select(subscriptions::seats_purchased)
        .load(conn)?;
    // Any unlimited subscription makes the total unlimited, and none recorded says nothing.
    if seats.is_empty() || seats.iter().any(Option::is_none) {
        return Ok(None);
    }
    Ok(Some(seats.into_iter().flatten().sum()))
}

/// Works out the category, known vendor and advice of a new tool request.
pub fn advise(conn: &mut Conn, catalog: &Catalog, r: &Request) -> QueryResult<Advice> {
    let name = r.name.clone().unwrap_or_default();
    let host = r.website.as_deref().map(crate::catalog::host_of);
    let hosts: Vec<&str> = host.as_deref().into_iter().collect();
    let entry = catalog.identify(Some(&name), &hosts, None);
    let stack: Vec<App> =
        apps::table.filter(apps::status.ne(AppStatus::Retired)).select(App::as_select()).load(conn)?;
    let same_name = stack.iter().find(|a| crate::catalog::name_key(&a.name) == crate::catalog::name_key(&name));
    let category = match (entry, same_name) {
        (Some(e), _) => e.category.clone(),
        (None, Some(app)) => app_category(app, catalog),
        (None, None) => String::new(),
    };
    let vendor_known = r.vendor.as_deref().is_some_and(|v| {
        stack.iter().any(|a| a.vendor.as_deref().is_some_and(|av| av.trim().eq_ignore_ascii_case(v.trim())))
    });
    let known_vendor = entry.is_some() || same_name.is_some() || vendor_known;
    let mut found = Vec::new();
    if !category.is_empty() {
        let active = accounts::active_count_by_app(conn)?;
        for app in stack.iter().filter(|a| app_category(a, catalog) == category) {
            let purchased = seats_purchased(conn, app.id)?;
            let active_seats = active.get(&app.id).copied().unwrap_or(0);
            let unused = purchased.map(|p| (p - active_seats).max(0));
            let owner = app.owner_email.as_deref().unwrap_or("nobody recorded");
            let seats = match unused {
                Some(n) => format!("{n} unused seats"),
                None => format!("{active_seats} seats in use"),
            };
            found.push(AdviceApp {
                app_id: app.id,
                name: app.name.clone(),
                owner_email: app.owner_email.clone(),
                seats_purchased: purchased,
                active_seats,
                unused_seats: unused,
                message: format!("You already have {}: {seats}, owner {owner}", app.name),
                switch_to: serde_json::json!({"kind": "add_seats", "app_id": app.id, "seats": r.seats,
                    "purpose": r.purpose, "needed_by": r.needed_by}),
            });
        }
    }
    found.sort_by_key(|a| std::cmp::Reverse(a.unused_seats.unwrap_or(-1)));
    let message = match found.as_slice() {
        [] if category.is_empty() => "This tool is not in the catalog; no similar apps could be looked for.".into(),
        [] => format!("Nothing in the stack is in the {} category yet.", category.replace('_', " ")),
        apps => format!(
            "The stack already has {} in the {} category: ask for seats of one of them (an add_seats request) or say why it will not do (advice_response).",
            apps.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
            category.replace('_', " ")
        ),
    };
    Ok(Advice { catalog_match: entry.map(|e| e.name.clone()), category, known_vendor, apps: found, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_compare_as_catalog_keys() {
        assert_eq!(category_key("Video  Conferencing "), "video_conferencing");
        assert_eq!(category_key("whiteboard"), "whiteboard");
        assert_eq!(category_key("video_conferencing"), "video_conferencing");
    }
}
