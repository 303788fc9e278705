//! `/requests` and `/requests/{id}`: the requests the viewer may read (employees: their own and
//! those waiting for them; other roles: all), one request's steps, who waits and its history,
//! and — to an entitled approver — Approve / Reject / Request changes with a comment; to it and
//! admins, completing an approved new tool's provisioning with its contract figures.

use super::act;
use super::error::PageError;
use super::forms::{self, next_href, Form};
use super::render;
use super::viewer::Viewer;
use crate::auth::Role;
use crate::context::Context;
use crate::web::access::ANYONE;
use crate::web::extract::path_id;
use crate::workflow::{
    self, CompleteInput, DecisionInput, ListQuery, RequestDetail, RequestFilter, RequestId, RequestKind, RequestStatus,
    StepStatus,
};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// Requests per page.
const PER_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
struct RequestsQuery {
    status: Option<RequestStatus>,
    kind: Option<RequestKind>,
    /// `me`: only those waiting for the viewer.
    waiting_for: Option<String>,
    /// `true`: only the viewer's own.
    mine: Option<bool>,
    cursor: Option<String>,
}

/// The requests list with filters.
#[get("/requests")]
pub async fn list(ctx: web::Data<Context>, viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let q: RequestsQuery = forms::query(&req)?;
    let page = forms::page(q.cursor.as_deref(), PER_PAGE)?;
    let query = ListQuery {
        filter: RequestFilter { status: q.status, kind: q.kind, requester: None, after: page.after, app_id: None },
        waiting_for_me: q.waiting_for.as_deref() == Some("me"),
        mine: q.mine.unwrap_or(false),
        limit: page.limit,
    };
    let who = viewer.decider.clone();
    let (items, next) = ctx.db.run(move |c| workflow::list(c, &who, &query)).await?;
    let statuses: Vec<&str> = RequestStatus::ALL.iter().map(|s| s.as_str()).collect();
    let kinds: Vec<&str> = RequestKind::ALL.iter().map(|s| s.as_str()).collect();
    let filtered = q.status.is_some() || q.kind.is_some() || q.waiting_for.is_some() || q.mine.is_some();
    let ctx = minijinja::context! {
        title => "Requests", active => "/requests",
        requests => items, statuses, kinds, filtered,
        status => q.status.map(|s| s.as_str()), kind => q.kind.map(|k| k.as_str()),
        waiting => q.waiting_for.as_deref() == Some("me"), mine => q.mine.unwrap_or(false),
        next_href => next_href(&req, forms::cursor(next)),
    };
    render::page(&viewer, "requests.html", ctx)
}

/// Whether the viewer may decide `r`'s current step, and whether as an admin override.
fn decision_right(viewer: &Viewer, r: &RequestDetail) -> Option<&'static str> {
    if r.status != RequestStatus::Pending || viewer.is(&r.requester_email) {
        return None;
    }
    let step = r.steps.iter().find(|s| s.status == StepStatus::Pending)?;
    match workflow::entitlement(&step.approvers, &viewer.decider)? {
        workflow::Entitlement::Approver => Some("approver"),
        workflow::Entitlement::Override => Some("override"),
    }
}

/// One request.
#[get("/requests/{id}")]
pub async fn show(ctx: web::Data<Context>, viewer: Viewer, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let id: RequestId = path_id("request", &id)?;
    let who = viewer.decider.clone();
    let r = ctx.db.run(move |c| workflow::show(c, &who, id)).await?;
    let right = decision_right(&viewer, &r);
    let mine = viewer.is(&r.requester_email);
    let waiting: Vec<String> = r
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Pending)
        .flat_map(|s| s.approvers.iter().map(|a| a.replacen(':', " ", 1)))
        .collect();
    let ctx = minijinja::context! {
        title => format!("Request #{}", r.id), active => "/requests",
        may_cancel => mine && matches!(r.status, RequestStatus::Pending | RequestStatus::ChangesRequested),
        may_resubmit => mine && r.status == RequestStatus::ChangesRequested,
        may_complete => r.kind == RequestKind::Reclaim && r.status == RequestStatus::Approved && !viewer.is_employee_only(),
        may_provision => r.kind == RequestKind::NewTool && r.status == RequestStatus::Approved
            && viewer.decider.roles.iter().any(|role| matches!(role, Role::Admin | Role::It)),
        decide => right, waiting, r,
    };
    render::page(&viewer, "request.html", ctx)
}

/// Approve, reject or ask for changes at the current step, with a comment.
#[post("/requests/{id}/decisions")]
pub async fn decide(
    ctx: web::Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let input: DecisionInput = form.parse(&viewer)?;
    let id: RequestId = path_id("request", &id)?;
    let r =
        act::as_viewer(&ctx, &viewer, move |c, env, who, now| workflow::decide(c, env, who, id, input, now)).await?;
    if r.kind == RequestKind::Reclaim && r.status == RequestStatus::Approved {
        // As in the API: the connector's reclaim runs in the background; the scheduler retries it.
        let ctx = ctx.get_ref().clone();
        tokio::spawn(async move {
            if let Err(e) = crate::actions::run_queued(&ctx).await {
                tracing::error!(error = %e, "reclaim through the connector failed");
            }
        });
    }
    Ok(render::see_other(&format!("/requests/{id}")))
}

/// Withdraw one's own pending request.
#[post("/requests/{id}/cancel")]
pub async fn cancel(
    ctx: web::Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    form.check(&viewer)?;
    let id: RequestId = path_id("request", &id)?;
    act::as_viewer(&ctx, &viewer, move |c, env, who, now| workflow::cancel(c, env, who, id, now)).await?;
    Ok(render::see_other(&format!("/requests/{id}")))
}

/// Completes an approved reclaim (it, admins and the app's owners) or new tool (it and admins).
#[post("/requests/{id}/complete")]
pub async fn complete(
    ctx: web::Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let f: CompleteInput = form.parse(&viewer)?;
    let id: RequestId = path_id("request", &id)?;
    act::as_viewer(&ctx, &viewer, move |c, env, who, now| workflow::complete(c, env, who, id, f, now)).await?;
    Ok(render::see_other(&format!("/requests/{id}")))
}
