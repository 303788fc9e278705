//! The layout's navigation: the page areas the viewer's roles may open, in the same role sets
//! as the API.

use super::viewer::Viewer;
use crate::web::access::{ANYONE, AUDIT_READERS, INVENTORY_READERS};
use serde::Serialize;

/// One entry of the navigation.
#[derive(Debug, Serialize)]
pub struct NavItem {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
}

const AREAS: &[(&str, &str, &[crate::auth::Role])] = &[
    ("/", "Dashboard", ANYONE),
    ("/apps", "Apps", ANYONE),
    ("/findings", "Findings", INVENTORY_READERS),
    ("/requests", "Requests", ANYONE),
    ("/renewals", "Renewals", INVENTORY_READERS),
    ("/access-reviews", "Access reviews", ANYONE),
    ("/connections", "Connections", INVENTORY_READERS),
    ("/people", "People", INVENTORY_READERS),
    ("/audit-log", "Audit log", AUDIT_READERS),
    ("/settings", "Settings", INVENTORY_READERS),
];

/// The areas `viewer` may open.
pub fn items(viewer: &Viewer) -> Vec<NavItem> {
    AREAS.iter().filter(|(_, _, roles)| viewer.has_any(roles)).map(|(href, label, _)| NavItem { href, label }).collect()
}
