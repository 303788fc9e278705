//! `/access-reviews` and `/access-reviews/{id}`: the reviews the viewer takes part in, and one
//! review's seats, where a reviewer keeps or revokes them one by one or several at once (the
//! review service's rules: only the item's reviewers, a comment to keep a dormant seat or a
//! leaver's); starters close it from here. The review mails link to these pages.

use super::error::PageError;
use super::forms::{self, next_href, Form};
use super::render;
use super::viewer::Viewer;
use crate::context::Context;
use crate::stack_audit::reviews::{self, ItemFilter, ReviewDecision, ReviewId, ReviewItemId, ReviewStatus};
use crate::stack_audit::StackAuditError;
use crate::web::access::{ANYONE, INVENTORY_READERS, REVIEW_STARTERS};
use crate::web::api::access_reviews::{item_body, review_body, DecisionBody};
use crate::web::extract::path_id;
use crate::workflow::Env;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// Seats per page.
const PER_PAGE: i64 = 100;

/// The reviews the viewer may see: all of them for inventory readers, else those with a seat
/// they review.
#[get("/access-reviews")]
pub async fn list(ctx: web::Data<Context>, viewer: Viewer) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let reads_all = viewer.has_any(INVENTORY_READERS);
    let who = viewer.decider.clone();
    let rows = ctx
        .db
        .run(move |c| -> Result<_, StackAuditError> {
            let mut out = Vec::new();
            for r in reviews::list(c)? {
                if reads_all
                    || reviews::items(c, r.id, ItemFilter::default())?.iter().any(|i| reviews::is_reviewer(&who, i))
                {
                    out.push(review_body(&r, reviews::counts(c, r.id)?));
                }
            }
            Ok(out)
        })
        .await?;
    let ctx = minijinja::context! { title => "Access reviews", active => "/access-reviews", reviews => rows };
    render::page(&viewer, "access_reviews.html", ctx)
}

#[derive(Debug, Default, Deserialize)]
struct ItemsQuery {
    app: Option<crate::inventory::AppId>,
    /// `keep`, `revoke` or `undecided`.
    decision: Option<String>,
    cursor: Option<String>,
}

fn decision_filter(raw: Option<&str>) -> Result<Option<Option<ReviewDecision>>, PageError> {
    match raw {
        None => Ok(None),
        Some("undecided") => Ok(Some(None)),
        Some(d) => d.parse::<ReviewDecision>().map(|d| Some(Some(d))).map_err(|_| PageError::Invalid {
            field: Some("decision".into()),
            message: format!("unknown value {d:?}, expected one of: keep, revoke, undecided"),
        }),
    }
}

/// One review: its counts, its seats (those the viewer reviews, or all for inventory readers)
/// and the decision forms.
#[get("/access-reviews/{id}")]
pub async fn show(
    ctx: web::Data<Context>,
    viewer: Viewer,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let id: ReviewId = path_id("access review", &id)?;
    let q: ItemsQuery = forms::query(&req)?;
    let filter = ItemFilter { app_id: q.app, decision: decision_filter(q.decision.as_deref())? };
    let page = forms::page(q.cursor.as_deref(), PER_PAGE)?;
    let reads_all = viewer.has_any(INVENTORY_READERS);
    let who = viewer.decider.clone();
    let (review, items, next, apps) = ctx
        .db
        .run(move |c| -> Result<_, StackAuditError> {
            let r = reviews::find(c, id)?;
            let counts = reviews::counts(c, id)?;
            let names = reviews::app_names(c)?;
            let all = reviews::items(c, id, ItemFilter::default())?;
            let mut apps: Vec<(String, String)> = Vec::new();
            for i in all.iter().filter(|i| reads_all || reviews::is_reviewer(&who, i)) {
                let name = names.get(&i.app_id).cloned().unwrap_or_default();
                if !apps.iter().any(|(a, _)| *a == i.app_id.to_string()) {
                    apps.push((i.app_id.to_string(), name));
                }
            }
            if apps.is_empty() && !reads_all {
                return Err(StackAuditError::Forbidden(
                    "You review no seat in this access review; its reviewers are the apps' owners (else IT).".into(),
                ));
            }
            let shown =
                reviews::items(c, id, filter)?.into_iter().filter(|i| reads_all || reviews::is_reviewer(&who, i));
            let (rows, next) = paged(shown, page);
            let rows = rows
                .into_iter()
                .map(|i| {
                    let may = reviews::is_reviewer(&who, &i);
                    let name = names.get(&i.app_id).cloned().unwrap_or_default();
                    (item_body(i, name), may)
                })
                .collect::<Vec<_>>();
            Ok((review_body(&r, counts), rows, next, apps))
        })
        .await?;
    let open = review.status == ReviewStatus::Open;
    let may_decide = open && items.iter().any(|(_, may)| *may);
    let items: Vec<minijinja::Value> = items
        .into_iter()
        .map(|(item, may)| minijinja::context! { may_decide => open && may, ..minijinja::Value::from_serialize(&item) })
        .collect();
    let ctx = minijinja::context! {
        title => format!("Access review: {}", review.name), active => "/access-reviews",
        may_decide,
        may_close => open && viewer.has_any(REVIEW_STARTERS),
        review, items, apps, app => q.app, decision => q.decision,
        next_href => next_href(&req, forms::cursor(next)),
    };
    render::page(&viewer, "access_review.html", ctx)
}

/// A page of `rows` after the cursor (an offset), and the next cursor.
fn paged<T>(rows: impl Iterator<Item = T>, page: crate::db::Page) -> (Vec<T>, Option<i64>) {
    let start = page.after.max(0) as usize;
    let mut rows: Vec<T> = rows.skip(start).take(page.fetch() as usize).collect();
    let has_more = rows.len() as i64 > page.limit;
    rows.truncate(page.limit as usize);
    let next = has_more.then_some((start + rows.len()) as i64);
    (rows, next)
}

/// Records the viewer's decision on each of `items`, all or none (one refused item, e.g. a
/// dormant seat kept without a comment, leaves every seat as it was).
async fn decide_all(
    ctx: &Context,
    viewer: &Viewer,
    id: ReviewId,
    items: Vec<ReviewItemId>,
    body: DecisionBody,
) -> Result<HttpResponse, PageError> {
    let input = body.into_input()?;
    if items.is_empty() {
        return Err(PageError::Invalid { field: Some("item".into()), message: "select at least one seat".into() });
    }
    let who = viewer.decider.clone();
    let now = crate::time::now();
    ctx.db
        .run(move |c| {
            crate::db::write_tx(c, |c| -> Result<(), StackAuditError> {
                for item in items {
                    reviews::decide(c, &who, id, item, input.clone(), now)?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(render::see_other(&format!("/access-reviews/{id}")))
}

/// Keep or revoke one seat (the row's button).
#[post("/access-reviews/{id}/items/{item}/decision")]
pub async fn decide(
    ctx: web::Data<Context>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    // The row's button submits the whole table's form: the ticked boxes are not this decision's.
    let (_, body): (Vec<String>, DecisionBody) = form.parse_with_list(&viewer, "item")?;
    let id: ReviewId = path_id("access review", &path.0)?;
    let item: ReviewItemId = path_id("access review item", &path.1)?;
    decide_all(&ctx, &viewer, id, vec![item], body).await
}

/// Keep or revoke every ticked seat.
#[post("/access-reviews/{id}/decisions")]
pub async fn decide_many(
    ctx: web::Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(ANYONE)?;
    let (ticked, body): (Vec<String>, DecisionBody) = form.parse_with_list(&viewer, "item")?;
    let id: ReviewId = path_id("access review", &id)?;
    let items = ticked.iter().map(|t| path_id("access review item", t)).collect::<Result<Vec<ReviewItemId>, _>>()?;
    decide_all(&ctx, &viewer, id, items, body).await
}

/// Closes the review: defaults for undecided seats, one reclaim request per app.
#[post("/access-reviews/{id}/close")]
pub async fn close(
    ctx: web::Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(REVIEW_STARTERS)?;
    let _: std::collections::HashMap<String, String> = form.parse(&viewer)?;
    let id: ReviewId = path_id("access review", &id)?;
    let who = viewer.decider.clone();
    let (catalog, url) = (ctx.catalog.clone(), ctx.settings.public_url());
    ctx.db
        .run(move |c| {
            let env = Env { catalog: &catalog, public_url: &url };
            reviews::close(c, env, &who, id, crate::time::now())
        })
        .await?;
    Ok(render::see_other(&format!("/access-reviews/{id}")))
}
