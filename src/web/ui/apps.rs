//! `/apps` and `/apps/{id}`: the tools in the stack. Everyone may read apps (as in the API);
//! the seats, findings and connection of an app are shown to inventory readers only.

use super::error::PageError;
use super::forms::{self, next_href};
use super::render;
use super::viewer::Viewer;
use crate::context::Context;
use crate::db::Page;
use crate::findings::store::{self as findings, FindingFilter};
use crate::inventory::{accounts, apps, subscriptions, AccountFilter, AppFilter, AppId, AppStatus, SubscriptionFilter};
use crate::sync::connections;
use crate::web::access::{ANYONE, INVENTORY_READERS};
use crate::web::extract::path_id;
use crate::workflow::{self, ListQuery};
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Apps per page.
const PER_PAGE: i64 = 50;
/// Seat holders per page of an app.
const SEATS_PER_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
struct AppsQuery {
    q: Option<String>,
    category: Option<String>,
    status: Option<AppStatus>,
    cursor: Option<String>,
}

/// The apps list with search and filters.
#[get("/apps")]
pub async fn list(ctx: web::Data<Context>, viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let q: AppsQuery = forms::query(&req)?;
    let page = forms::page(q.cursor.as_deref(), PER_PAGE)?;
    let filter = AppFilter { status: q.status, category: q.category.clone(), q: q.q.clone() };
    let (items, next, categories) = ctx
        .db
        .run(move |c| {
            let (items, next) = apps::list(c, &filter, page)?;
            Ok::<_, PageError>((items, next, categories(c)?))
        })
        .await?;
    let statuses: Vec<&str> = AppStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filtered = q.q.is_some() || q.category.is_some() || q.status.is_some();
    let ctx = minijinja::context! {
        title => "Apps", active => "/apps",
        apps => items, categories, statuses, filtered,
        q => q.q, category => q.category, status => q.status.map(|s| s.as_str()),
        next_href => next_href(&req, forms::cursor(next)),
    };
    render::page(&viewer, "apps.html", ctx)
}

/// Every category an app has, for the filter.
fn categories(c: &mut crate::db::Conn) -> Result<Vec<String>, PageError> {
    let mut out = BTreeSet::new();
    let mut page = Page::first(500);
    loop {
        let (rows, next) = apps::list(c, &AppFilter::default(), page)?;
        out.extend(rows.into_iter().filter_map(|a| a.category));
        match next {
            Some(after) => page = Page { after, limit: 500 },
            None => return Ok(out.into_iter().collect()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct AppQuery {
    cursor: Option<String>,
}

/// A contract with its past terms.
#[derive(Debug, Serialize)]
struct Contract {
    subscription: subscriptions::Subscription,
    terms: Vec<subscriptions::Term>,
}

/// One app: owners, contracts and terms, seats, the people holding them, findings, requests
/// and the connections that bring its seats.
#[get("/apps/{id}")]
pub async fn show(
    ctx: web::Data<Context>,
    viewer: Viewer,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let id: AppId = path_id("app", &id)?;
    let q: AppQuery = forms::query(&req)?;
    let page = forms::page(q.cursor.as_deref(), SEATS_PER_PAGE)?;
    let full = viewer.has_any(INVENTORY_READERS);
    let who = viewer.decider.clone();
    let data = ctx
        .db
        .run(move |c| {
            let app = apps::find(c, id)?;
            if !full {
                return Ok::<_, PageError>((app, None));
            }
            let filter = SubscriptionFilter { app_id: Some(id), ..Default::default() };
            let (subs, _) = subscriptions::list(c, &filter, Page::first(100))?;
            let mut contracts = Vec::new();
            for s in subs {
                let terms = subscriptions::terms(c, s.id)?;
                contracts.push(Contract { subscription: s, terms });
            }
            let bought: Option<i64> = contracts
                .iter()
                .filter(|k| k.subscription.status == crate::inventory::SubscriptionStatus::Active)
                .map(|k| k.subscription.seats_purchased)
                .sum();
            let seats = accounts::seat_counts(c, id)?;
            let holders_filter = AccountFilter { app_id: Some(id), ..Default::default() };
            let (holders, next) = accounts::list(c, &holders_filter, page)?;
            let to_act_on = FindingFilter { app_id: Some(id), to_act_on: true, ..Default::default() };
            let (open, _) = findings::list_page(c, &to_act_on, Page::first(50))?;
            let filter = workflow::RequestFilter { app_id: Some(id), ..Default::default() };
            let requests = workflow::list(c, &who, &ListQuery { filter, limit: 50, ..Default::default() })?.0;
            let conn_ids: BTreeSet<_> = holders.iter().filter_map(|a| a.connection_id).collect();
            let mut conns = Vec::new();
            for cid in conn_ids {
                let row = connections::find(c, cid)?;
                conns.push(minijinja::context! { id => row.id.0, name => row.name, connector => row.connector });
            }
            let more = minijinja::context! {
                contracts, bought, seats, holders, findings => open, requests, connections => conns,
                next_cursor => forms::cursor(next),
            };
            Ok((app, Some(more)))
        })
        .await?;
    let (app, more) = data;
    let next = more.as_ref().and_then(|m| m.get_attr("next_cursor").ok()).and_then(|v| v.as_str().map(str::to_string));
    let ctx = minijinja::context! {
        title => app.name.clone(), active => "/apps",
        app, full, more => more.unwrap_or_default(),
        next_href => next_href(&req, next),
    };
    render::page(&viewer, "app.html", ctx)
}
