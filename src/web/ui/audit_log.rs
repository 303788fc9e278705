//! `/audit-log`: every change, who made it, and what it was before and after (admin,
//! security and auditor, as in the API).

use super::error::PageError;
use super::forms::{self, next_href};
use super::render;
use super::viewer::Viewer;
use crate::audit::{self, AuditFilter};
use crate::context::Context;
use crate::web::access::AUDIT_READERS;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// Entries per page.
const PER_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    actor: Option<String>,
    cursor: Option<String>,
}

/// The audit log, oldest first as the API pages it.
#[get("/audit-log")]
pub async fn list(ctx: web::Data<Context>, viewer: Viewer, req: HttpRequest) -> Result<HttpResponse, PageError> {
    viewer.require(AUDIT_READERS)?;
    let q: AuditQuery = forms::query(&req)?;
    let page = forms::page(q.cursor.as_deref(), PER_PAGE)?;
    let filter = AuditFilter { entity: q.entity.clone(), entity_id: q.entity_id.clone(), actor: q.actor.clone() };
    let (items, next) = ctx.db.run(move |c| audit::list(c, &filter, page).map_err(PageError::from)).await?;
    let filtered = q.entity.is_some() || q.entity_id.is_some() || q.actor.is_some();
    let ctx = minijinja::context! {
        title => "Audit log", active => "/audit-log",
        entries => items, filtered, entity => q.entity, entity_id => q.entity_id, actor => q.actor,
        next_href => next_href(&req, forms::cursor(next)),
    };
    render::page(&viewer, "audit_log.html", ctx)
}
