//! `/`: the dashboard. Readers of the inventory see annual spend by category, the waste found,
//! renewals whose notice deadline falls in the next 90 days, requests waiting for them and the
//! last sync of each connection (failures highlighted). An employee sees their tools, their
//! requests and the way to ask for a tool.

use super::error::PageError;
use super::render;
use super::viewer::Viewer;
use crate::context::Context;
use crate::db::{Conn, Page};
use crate::findings::summary;
use crate::inventory::{accounts, apps, AccountFilter, AppFilter, AppId};
use crate::renewals::upcoming::{self, UpcomingRenewal};
use crate::sync::{connections, runs};
use crate::web::access::INVENTORY_READERS;
use crate::workflow::{self, Decider, ListQuery};
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Rows each dashboard list shows before linking to its page.
const SHOWN: i64 = 10;
/// Days ahead the renewals list looks.
const RENEWAL_DAYS: i64 = 90;

/// Annual spend of one category in one currency.
#[derive(Debug, Serialize)]
struct Spend {
    category: String,
    currency: String,
    annual_cost_cents: i64,
    subscriptions: usize,
    /// Subscriptions whose price is unknown (not in the sum).
    unpriced: usize,
}

/// A connection with its latest run.
#[derive(Debug, Serialize)]
struct LastSync {
    id: i64,
    name: String,
    connector: String,
    run: Option<runs::SyncRun>,
}

/// A seat the employee holds.
#[derive(Debug, Serialize)]
struct MyTool {
    app_id: AppId,
    app: String,
    licence: Option<String>,
    last_active_at: Option<String>,
}

/// Spend per category and currency over every active subscription's yearly cost.
fn spend(rows: &[UpcomingRenewal], category_of: &HashMap<AppId, String>) -> Vec<Spend> {
    let mut by: BTreeMap<(String, String), Spend> = BTreeMap::new();
    for r in rows {
        let category = category_of.get(&r.app_id).cloned().unwrap_or_else(|| "uncategorised".into());
        let e = by.entry((category.clone(), r.currency.clone())).or_insert_with(|| Spend {
            category,
            currency: r.currency.clone(),
            annual_cost_cents: 0,
            subscriptions: 0,
            unpriced: 0,
        });
        e.subscriptions += 1;
        match r.annual_cost_cents {
            Some(c) => e.annual_cost_cents += c,
            None => e.unpriced += 1,
        }
    }
    let mut out: Vec<Spend> = by.into_values().collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.annual_cost_cents));
    out
}

fn categories(c: &mut Conn) -> Result<HashMap<AppId, String>, PageError> {
    let mut out = HashMap::new();
    let mut page = Page::first(500);
    loop {
        let (rows, next) = apps::list(c, &AppFilter::default(), page)?;
        out.extend(rows.into_iter().map(|a| (a.id, a.category.unwrap_or_else(|| "uncategorised".into()))));
        match next {
            Some(after) => page = Page { after, limit: 500 },
            None => return Ok(out),
        }
    }
}

fn last_syncs(c: &mut Conn) -> Result<Vec<LastSync>, PageError> {
    let mut out = Vec::new();
    for row in connections::list(c, false)? {
        let run = runs::list_for_connection(c, row.id, 1)?.into_iter().next();
        out.push(LastSync { id: row.id.0, name: row.name, connector: row.connector, run });
    }
    Ok(out)
}

fn my_tools(c: &mut Conn, email: &str) -> Result<Vec<MyTool>, PageError> {
    let filter = AccountFilter { belonging_to: Some(email.to_string()), ..Default::default() };
    let (seats, _) = accounts::list(c, &filter, Page::first(100))?;
    let mut out = Vec::new();
    for a in seats.into_iter().filter(|a| a.removed_at.is_none()) {
        let app = apps::find(c, a.app_id)?;
        out.push(MyTool {
            app_id: a.app_id,
            app: app.name,
            licence: a.licence,
            last_active_at: a.last_active_at.map(|t| crate::time::format(&t)),
        });
    }
    Ok(out)
}

fn requests(c: &mut Conn, who: &Decider, waiting: bool) -> Result<Vec<workflow::RequestDetail>, PageError> {
    let q = ListQuery { waiting_for_me: waiting, mine: !waiting, limit: SHOWN, ..Default::default() };
    Ok(workflow::list(c, who, &q)?.0)
}

/// The dashboard.
#[get("/")]
pub async fn show(ctx: web::Data<Context>, viewer: Viewer) -> Result<HttpResponse, PageError> {
    let who = viewer.decider.clone();
    let email = viewer.email().to_string();
    let mine = ctx.db.run(move |c| Ok::<_, PageError>((my_tools(c, &email)?, requests(c, &who, false)?))).await?;
    if !viewer.has_any(INVENTORY_READERS) {
        let ctx = minijinja::context! { title => "Dashboard", active => "/", tools => mine.0, my_requests => mine.1 };
        return render::page(&viewer, "dashboard.html", ctx);
    }
    let stages = crate::scheduler::reminder_settings(&ctx.settings).map_err(|e| {
        tracing::error!(error = %e, "reminder settings");
        PageError::Internal
    })?;
    let who = viewer.decider.clone();
    let today = chrono::Utc::now().date_naive();
    let (spend, waste, renewals, waiting, syncs) = ctx
        .db
        .run(move |c| {
            let all = upcoming::upcoming(c, today, 3650, &stages.default_stages)?;
            let spend = spend(&all, &categories(c)?);
            let soon: Vec<UpcomingRenewal> =
                all.into_iter().filter(|r| (0..=RENEWAL_DAYS).contains(&r.days_to_deadline)).collect();
            let waste = summary::overall(c)?;
            Ok::<_, PageError>((spend, waste, soon, requests(c, &who, true)?, last_syncs(c)?))
        })
        .await?;
    let ctx = minijinja::context! {
        title => "Dashboard", active => "/",
        spend, waste, renewals, waiting, syncs,
        tools => mine.0, my_requests => mine.1,
        renewal_days => RENEWAL_DAYS,
    };
    render::page(&viewer, "dashboard.html", ctx)
}
