//! `/findings`: waste and risk grouped by kind and app, with savings and the evidence sentence.
//! Inventory readers see them; admin, it and finance triage (acknowledge, dismiss with a
//! reason, snooze until a day, reopen); "reclaim these seats" opens a reclaim request.

use super::act;
use super::error::PageError;
use super::forms::{self, next_href, Form};
use super::render;
use super::viewer::Viewer;
use crate::context::Context;
use crate::findings::store::{self, Finding, FindingFilter, FindingUpdate};
use crate::findings::{FindingId, FindingKind, FindingStatus};
use crate::inventory::{apps, AppId};
use crate::web::access::{FINDING_TRIAGERS, INVENTORY_READERS};
use crate::web::extract::path_id;
use crate::workflow::{self, RequestInput, RequestKind};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Findings per page.
const PER_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
struct FindingsQuery {
    /// Only this app's (the mail digest links here).
    app: Option<AppId>,
    kind: Option<FindingKind>,
    /// A status, or `all`; default: the ones still to act on (open, acknowledged).
    status: Option<String>,
    cursor: Option<String>,
}

/// Findings of one kind for one app.
#[derive(Debug, Serialize)]
struct Group {
    kind: FindingKind,
    app_id: Option<AppId>,
    app: String,
    annual_savings_cents: i64,
    currency: Option<String>,
    findings: Vec<Finding>,
}

fn group(rows: Vec<Finding>, names: &HashMap<AppId, String>) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for f in rows {
        let at = out.iter().position(|g| g.kind == f.kind && g.app_id == f.app_id);
        let g = match at {
            Some(i) => &mut out[i],
            None => {
                let app = f.app_id.and_then(|a| names.get(&a).cloned()).unwrap_or_else(|| "no app".into());
                out.push(Group {
                    kind: f.kind,
                    app_id: f.app_id,
                    app,
                    annual_savings_cents: 0,
                    currency: f.currency.clone(),
                    findings: Vec::new(),
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        g.annual_savings_cents += f.annual_savings_cents.unwrap_or(0);
        g.findings.push(f);
    }
    out
}

/// Findings, grouped, with their triage forms.
#[get("/findings")]
pub async fn list(ctx: web::Data<Context>, viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, PageError> {
    viewer.require(INVENTORY_READERS)?;
    let q: FindingsQuery = forms::query(&req)?;
    let status = match q.status.as_deref() {
        None | Some("all") => None,
        Some(s) => Some(
            s.parse::<FindingStatus>().map_err(|m| PageError::Invalid { field: Some("status".into()), message: m })?,
        ),
    };
    let page = forms::page(q.cursor.as_deref(), PER_PAGE)?;
    let filter = FindingFilter { kind: q.kind, app_id: q.app, status, to_act_on: q.status.is_none() };
    let (groups, next, app_name) = ctx
        .db
        .run(move |c| {
            let (rows, next) = store::list_page(c, &filter, page)?;
            let mut names = HashMap::new();
            for id in rows.iter().filter_map(|f| f.app_id) {
                if let std::collections::hash_map::Entry::Vacant(e) = names.entry(id) {
                    e.insert(apps::find(c, id)?.name);
                }
            }
            let app_name = match filter.app_id {
                Some(id) => Some(apps::find(c, id)?.name),
                None => None,
            };
            Ok::<_, PageError>((group(rows, &names), next, app_name))
        })
        .await?;
    let kinds: Vec<&str> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
    let statuses: Vec<&str> = FindingStatus::ALL.iter().map(|k| k.as_str()).collect();
    let ctx = minijinja::context! {
        title => "Findings", active => "/findings",
        groups, kinds, statuses, app_name,
        app => q.app, kind => q.kind.map(|k| k.as_str()), status => q.status,
        may_triage => viewer.has_any(FINDING_TRIAGERS),
        today => chrono::Utc::now().date_naive().to_string(),
        next_href => next_href(&req, forms::cursor(next)),
    };
    render::page(&viewer, "findings.html", ctx)
}

/// Where to go back to after a triage form.
fn back(req: &HttpRequest) -> String {
    req.headers()
        .get("referer")
        .and_then(|r| r.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|u| u.path() == "/findings")
        .map(|u| match u.query() {
            Some(q) => format!("/findings?{q}"),
            None => "/findings".into(),
        })
        .unwrap_or_else(|| "/findings".into())
}

/// Acknowledge, dismiss (with a reason), snooze (until a day) or reopen a finding.
#[post("/findings/{id}")]
pub async fn triage(
    ctx: web::Data<Context>,
    viewer: Viewer,
    req: HttpRequest,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(FINDING_TRIAGERS)?;
    let change: FindingUpdate = form.parse(&viewer)?;
    let id: FindingId = path_id("finding", &id)?;
    let actor = viewer.decider.actor.clone();
    let today = chrono::Utc::now().date_naive();
    ctx.db.run(move |c| store::update(c, &actor, id, change, today)).await?;
    Ok(render::see_other(&back(&req)))
}

/// Opens a reclaim request for the seats a finding names, then shows it.
#[post("/findings/{id}/reclaim")]
pub async fn reclaim(
    ctx: web::Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(FINDING_TRIAGERS)?;
    #[derive(Deserialize)]
    struct Reclaim {
        purpose: Option<String>,
    }
    let f: Reclaim = form.parse(&viewer)?;
    let id: FindingId = path_id("finding", &id)?;
    let input = RequestInput {
        kind: Some(RequestKind::Reclaim),
        finding_id: Some(id),
        purpose: f.purpose,
        ..Default::default()
    };
    let r = act::as_viewer(&ctx, &viewer, move |c, env, who, now| workflow::submit(c, env, who, input, now)).await?;
    Ok(render::see_other(&format!("/requests/{}", r.id)))
}
