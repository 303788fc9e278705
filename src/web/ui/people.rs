//! `/people`: the directory. Inventory readers see everyone, with filters; an employee sees
//! only their own record (as in the API).

use super::error::PageError;
use super::forms::{self, next_href};
use super::render;
use super::viewer::Viewer;
use crate::context::Context;
use crate::inventory::{people, PersonFilter, PersonStatus};
use crate::web::access::{ANYONE, INVENTORY_READERS};
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// People per page.
const PER_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
struct PeopleQuery {
    status: Option<PersonStatus>,
    department: Option<String>,
    email: Option<String>,
    cursor: Option<String>,
}

/// The directory.
#[get("/people")]
pub async fn list(ctx: web::Data<Context>, viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let q: PeopleQuery = forms::query(&req)?;
    let page = forms::page(q.cursor.as_deref(), PER_PAGE)?;
    let everyone = viewer.has_any(INVENTORY_READERS);
    let email = if everyone { q.email.clone() } else { Some(viewer.email().to_string()) };
    let filter = PersonFilter { status: q.status, department: q.department.clone(), email, manager_email: None };
    let (items, next) = ctx.db.run(move |c| people::list(c, &filter, page)).await?;
    let statuses: Vec<&str> = PersonStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filtered = q.status.is_some() || q.department.is_some() || q.email.is_some();
    let ctx = minijinja::context! {
        title => if everyone { "People" } else { "My record" }, active => "/people",
        people => items, statuses, everyone, filtered,
        status => q.status.map(|s| s.as_str()), department => q.department, email => q.email,
        next_href => next_href(&req, forms::cursor(next)),
    };
    render::page(&viewer, "people.html", ctx)
}
