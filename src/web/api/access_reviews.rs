//! `/api/v1/access-reviews`: start a review of who holds seats in some apps, list its items,
//! record reviewers' keep/revoke decisions (only the item's reviewers: its app's owners, else
//! the it role), and close it (defaults for undecided items, reclaim requests for revoked seats).

use crate::context::Context;
use crate::db::DbError;
use crate::inventory::{AccountId, AppId, PersonStatus};
use crate::stack_audit::reviews::{
    self, AccessReview, DecisionInput, ItemFilter, ReviewDecision, ReviewId, ReviewInput, ReviewItem, ReviewItemId,
    ReviewStatus,
};
use crate::stack_audit::StackAuditError;
use crate::web::access::{ANYONE, INVENTORY_READERS, REVIEW_STARTERS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json, Query};
use crate::workflow::{Decider, Env, RequestId};
use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A review to start.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    /// What the review covers, e.g. `2026-Q4 engineering tools`.
    name: Option<String>,
    /// The apps whose live seats are reviewed.
    #[schema(value_type = Option<Vec<String>>)]
    app_ids: Option<Vec<AppId>>,
    /// When decisions are due (YYYY-MM-DD); reviewers are reminded three days before.
    #[schema(value_type = Option<String>, format = Date)]
    due_on: Option<NaiveDate>,
}

/// A reviewer's decision on one seat.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// keep or revoke.
    decision: Option<ReviewDecision>,
    /// Why; required to keep a dormant seat or a departed person's.
    comment: Option<String>,
}

/// Which items to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// Only this app's seats.
    #[param(value_type = Option<String>)]
    app_id: Option<AppId>,
    /// `keep`, `revoke` or `undecided`.
    decision: Option<String>,
}

/// An access review.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewBody {
    /// Review id.
    #[schema(value_type = String)]
    pub id: ReviewId,
    /// Name.
    pub name: String,
    /// When decisions are due.
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    /// open or closed.
    pub status: ReviewStatus,
    /// Who started it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// When it was closed.
    pub closed_at: Option<String>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// Seats under review.
    pub items_count: i64,
    /// Of which undecided.
    pub undecided: i64,
    /// Kept.
    pub kept: i64,
    /// Revoked.
    pub revoked: i64,
}

/// One seat under review.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewItemBody {
    /// Item id.
    #[schema(value_type = String)]
    pub id: ReviewItemId,
    /// The seat.
    #[schema(value_type = String)]
    pub account_id: AccountId,
    /// Its app.
    #[schema(value_type = String)]
    pub app_id: AppId,
    /// The app's name.
    pub app_name: String,
    /// The person's email (the seat's when it matches nobody).
    pub person_email: Option<String>,
    /// active, suspended or departed; null when the seat matches no person.
    pub person_status: Option<PersonStatus>,
    /// Role at the vendor.
    pub role: Option<String>,
    /// Last activity when the review started (RFC 3339).
    pub last_active_at: Option<String>,
    /// No activity for the app's threshold; null when the seat's source reports no activity (unknown).
    pub dormant: Option<bool>,
    /// Why dormant or unknown, in words.
    pub dormant_reason: Option<String>,
    /// Who may decide: `person:EMAIL` or `role:ROLE` entries.
    pub reviewers: Vec<String>,
    /// keep or revoke; null while undecided.
    pub decision: Option<ReviewDecision>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When (RFC 3339).
    pub decided_at: Option<String>,
    /// Decided by the review's close, not a reviewer.
    pub by_default: bool,
    /// The reviewer's comment.
    pub comment: Option<String>,
    /// The reclaim request a revoked seat went into.
    #[schema(value_type = Option<String>)]
    pub request_id: Option<RequestId>,
}

/// A reclaim request a close made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReclaimMade {
    /// The app.
    #[schema(value_type = String)]
    pub app_id: AppId,
    /// The request, with the revoked seats in its `account_ids`.
    #[schema(value_type = String)]
    pub request_id: RequestId,
}

/// What closing a review did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClosedBody {
    /// The review, now closed.
    pub review: ReviewBody,
    /// Undecided seats kept by default.
    pub kept_by_default: i64,
    /// Undecided seats revoked by default (dormant, or their person left).
    pub revoked_by_default: i64,
    /// One reclaim request per app with revoked seats.
    pub reclaim_requests: Vec<ReclaimMade>,
}

impl DecisionBody {
    /// The decision as the review service takes it (a missing decision names its field).
    pub fn into_input(self) -> Result<DecisionInput, ApiError> {
        Ok(DecisionInput {
            decision: self.decision.ok_or_else(|| ApiError::invalid("decision", "is required: keep or revoke"))?,
            comment: self.comment,
        })
    }
}

/// A review as answered, with its (items, undecided, kept, revoked) counts.
pub fn review_body(r: &AccessReview, counts: (i64, i64, i64, i64)) -> ReviewBody {
    ReviewBody {
        id: r.id,
        name: r.name.clone(),
        due_on: r.due_on,
        status: r.status,
        created_by: r.created_by.clone(),
        created_at: crate::time::format(&r.created_at),
        closed_at: r.closed_at.as_ref().map(crate::time::format),
        closed_by: r.closed_by.clone(),
        items_count: counts.0,
        undecided: counts.1,
        kept: counts.2,
        revoked: counts.3,
    }
}

/// An item as answered, with its app's name.
pub fn item_body(i: ReviewItem, app_name: String) -> ReviewItemBody {
    ReviewItemBody {
        id: i.id,
        account_id: i.account_id,
        app_id: i.app_id,
        app_name,
        reviewers: i.reviewer_list().to_vec(),
        person_email: i.person_email,
        person_status: i.person_status,
        role: i.role,
        last_active_at: i.last_active_at.as_ref().map(crate::time::format),
        dormant: i.dormant,
        dormant_reason: i.dormant_reason,
        decision: i.decision,
        decided_by: i.decided_by,
        decided_at: i.decided_at.as_ref().map(crate::time::format),
        by_default: i.by_default,
        comment: i.comment,
        request_id: i.request_id,
    }
}

/// Start an access review of every live seat of some apps; their owners (else the it role)
/// are mailed now and reminded before `due_on`.
#[utoipa::path(tag = "access reviews", description = "Roles: admin, it, security.", request_body = NewReview,
    responses((status = 201, body = ReviewBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[post("/access-reviews")]
pub async fn create(ctx: web::Data<Context>, auth: Auth, input: Json<NewReview>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(REVIEW_STARTERS)?;
    let input = input.parse()?;
    let input = ReviewInput {
        name: input.name.ok_or_else(|| ApiError::invalid("name", "is required: what the review covers"))?,
        app_ids: input.app_ids.ok_or_else(|| ApiError::invalid("app_ids", "is required: the apps to review"))?,
        due_on: input.due_on.ok_or_else(|| ApiError::invalid("due_on", "is required: YYYY-MM-DD"))?,
    };
    let (actor, url) = (who.actor(), ctx.settings.public_url());
    let body = ctx
        .db
        .run(move |c| -> Result<_, StackAuditError> {
            let (r, _) = reviews::create(c, &actor, input, &url, crate::time::now())?;
            Ok(review_body(&r, reviews::counts(c, r.id)?))
        })
        .await?;
    Ok(HttpResponse::Created().json(body))
}

/// Every access review, newest first, with its counts.
#[utoipa::path(tag = "access reviews", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Vec<ReviewBody>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/access-reviews")]
pub async fn list(ctx: web::Data<Context>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let rows = ctx
        .db
        .run(|c| -> Result<_, DbError> {
            let mut out = Vec::new();
            for r in reviews::list(c)? {
                let counts = reviews::counts(c, r.id)?;
                out.push(review_body(&r, counts));
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// One access review with its counts.
#[utoipa::path(tag = "access reviews", description = "Roles: any; employees and approvers see reviews they take part in.",
    responses((status = 200, body = ReviewBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[get("/access-reviews/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(ANYONE)?;
    let id: ReviewId = path_id("access review", &id)?;
    let reads_all = who.holds_any(INVENTORY_READERS);
    let decider = Decider::from_principal(&who);
    let body = ctx
        .db
        .run(move |c| -> Result<_, StackAuditError> {
            let r = reviews::find(c, id)?;
            if !reads_all
                && !reviews::items(c, id, ItemFilter::default())?.iter().any(|i| reviews::is_reviewer(&decider, i))
            {
                return Err(StackAuditError::NotFound(format!("access review {id} not found")));
            }
            Ok(review_body(&r, reviews::counts(c, id)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// A review's items in id order; reviewers without a reading role see only the seats they review.
#[utoipa::path(tag = "access reviews", params(ItemQuery),
    description = "Roles: any; employees and approvers see the items they review.",
    responses((status = 200, body = Vec<ReviewItemBody>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/access-reviews/{id}/items")]
pub async fn items(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    q: Query<ItemQuery>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(ANYONE)?;
    let q = q.parse()?;
    let id: ReviewId = path_id("access review", &id)?;
    let decision = match q.decision.as_deref() {
        None => None,
        Some("undecided") => Some(None),
        Some(d) => Some(Some(d.parse::<ReviewDecision>().map_err(|_| {
            ApiError::invalid("decision", format!("unknown value {d:?}, expected one of: keep, revoke, undecided"))
        })?)),
    };
    let reads_all = who.holds_any(INVENTORY_READERS);
    let decider = Decider::from_principal(&who);
    let rows = ctx
        .db
        .run(move |c| -> Result<_, StackAuditError> {
            let names = reviews::app_names(c)?;
            let rows = reviews::items(c, id, ItemFilter { app_id: q.app_id, decision })?;
            Ok(rows
                .into_iter()
                .filter(|i| reads_all || reviews::is_reviewer(&decider, i))
                .map(|i| {
                    let name = names.get(&i.app_id).cloned().unwrap_or_default();
                    item_body(i, name)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Keep or revoke one seat. Only the item's reviewers may decide (anyone else: 403); keeping a
/// dormant seat or a departed person's needs a comment.
#[utoipa::path(tag = "access reviews", description = "Roles: any; the item's reviewers only.", request_body = DecisionBody,
    responses((status = 200, body = ReviewItemBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/access-reviews/{id}/items/{item_id}/decision")]
pub async fn decide(
    ctx: web::Data<Context>,
    auth: Auth,
    path: web::Path<(String, String)>,
    input: Json<DecisionBody>,
) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(ANYONE)?);
    let id: ReviewId = path_id("access review", &path.0)?;
    let item: ReviewItemId = path_id("access review item", &path.1)?;
    let input = input.parse()?.into_input()?;
    let body = ctx
        .db
        .run(move |c| -> Result<_, StackAuditError> {
            let i = reviews::decide(c, &who, id, item, input, crate::time::now())?;
            let name = reviews::app_names(c)?.get(&i.app_id).cloned().unwrap_or_default();
            Ok(item_body(i, name))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Close a review: undecided seats of departed people and dormant seats are revoked, other
/// undecided seats kept (each marked `by_default`), and every revoked seat goes into one
/// reclaim request per app, made in the closer's name (their token must name a person).
#[utoipa::path(tag = "access reviews", description = "Roles: admin, it, security (with an email).",
    responses((status = 200, body = ClosedBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/access-reviews/{id}/close")]
pub async fn close(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(REVIEW_STARTERS)?);
    let id: ReviewId = path_id("access review", &id)?;
    let (catalog, url, notice) =
        (ctx.catalog.clone(), ctx.settings.public_url(), i32::from(ctx.settings.default_notice_days));
    let body = ctx
        .db
        .run(move |c| -> Result<_, StackAuditError> {
            let env = Env { catalog: &catalog, public_url: &url, default_notice_days: notice };
            let (r, report) = reviews::close(c, env, &who, id, crate::time::now())?;
            Ok(ClosedBody {
                review: review_body(&r, reviews::counts(c, id)?),
                kept_by_default: report.kept_by_default,
                revoked_by_default: report.revoked_by_default,
                reclaim_requests: report
                    .requests
                    .into_iter()
                    .map(|(app_id, request_id)| ReclaimMade { app_id, request_id })
                    .collect(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}
