//! `/api/v1/check-ins`: start a quarter's owner check-ins (one question set per app, mailed to
//! each owner), list them, answer one; and `/api/v1/apps/{id}/check-ins` for an app's answers.

use crate::context::Context;
use crate::db::DbError;
use crate::inventory::AppId;
use crate::stack_audit::checkins::{self, Answers, CheckIn, CheckInFilter, CheckInId, RenewalIntention};
use crate::stack_audit::{self, StackAuditError};
use crate::web::access::{ANYONE, CHECK_IN_STARTERS, INVENTORY_READERS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json, Query};
use crate::workflow::Decider;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};

/// The quarter to check in on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartCheckIns {
    /// `YYYY-Q1` to `YYYY-Q4`.
    #[schema(example = "2026-Q4")]
    quarter: String,
}

/// An owner's answers.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswersBody {
    /// Is the app still needed?
    still_needed: Option<bool>,
    /// Is the number of seats right?
    seats_right: Option<bool>,
    /// How many seats it should have instead.
    seats_wanted: Option<i64>,
    /// keep, reduce or cancel at renewal.
    renewal_intention: Option<RenewalIntention>,
    /// Anything else.
    comment: Option<String>,
}

/// Which check-ins to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckInQuery {
    /// Only this quarter's.
    quarter: Option<String>,
    /// Only this app's.
    #[param(value_type = Option<String>)]
    app_id: Option<AppId>,
}

/// One app's check-in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckInBody {
    /// Check-in id.
    #[schema(value_type = String)]
    pub id: CheckInId,
    /// Quarter.
    pub quarter: String,
    /// The app.
    #[schema(value_type = String)]
    pub app_id: AppId,
    /// The owner asked.
    pub owner_email: String,
    /// Seats bought when asked; null when unlimited or without a contract.
    pub seats_bought: Option<i64>,
    /// Seats active when asked.
    pub seats_active: i64,
    /// When asked (RFC 3339).
    pub created_at: String,
    /// When answered; null while unanswered.
    pub answered_at: Option<String>,
    /// Who answered.
    pub answered_by: Option<String>,
    /// Still needed?
    pub still_needed: Option<bool>,
    /// Right number of seats?
    pub seats_right: Option<bool>,
    /// Seats wanted instead.
    pub seats_wanted: Option<i64>,
    /// keep, reduce or cancel.
    pub renewal_intention: Option<RenewalIntention>,
    /// The owner's comment.
    pub comment: Option<String>,
}

/// What starting check-ins did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StartedBody {
    /// The quarter.
    pub quarter: String,
    /// Check-ins made now (apps already asked this quarter are not asked again).
    pub created: usize,
    /// Them.
    pub check_ins: Vec<CheckInBody>,
}

impl AnswersBody {
    /// The answers as the check-in service takes them (a missing answer names its field).
    pub fn into_answers(self) -> Result<Answers, ApiError> {
        let required = |field: &str, what: &str| ApiError::invalid(field, format!("is required: {what}"));
        Ok(Answers {
            still_needed: self.still_needed.ok_or_else(|| required("still_needed", "true or false"))?,
            seats_right: self.seats_right.ok_or_else(|| required("seats_right", "true or false"))?,
            seats_wanted: self.seats_wanted,
            renewal_intention: self
                .renewal_intention
                .ok_or_else(|| required("renewal_intention", "keep, reduce or cancel"))?,
            comment: self.comment,
        })
    }
}

/// A check-in as answered.
pub fn body(c: CheckIn) -> CheckInBody {
    CheckInBody {
        id: c.id,
        quarter: c.quarter,
        app_id: c.app_id,
        owner_email: c.owner_email,
        seats_bought: c.seats_bought,
        seats_active: c.seats_active,
        created_at: crate::time::format(&c.created_at),
        answered_at: c.answered_at.as_ref().map(crate::time::format),
        answered_by: c.answered_by,
        still_needed: c.still_needed,
        seats_right: c.seats_right,
        seats_wanted: c.seats_wanted,
        renewal_intention: c.renewal_intention,
        comment: c.comment,
    }
}

/// Start a quarter's check-ins: every app owner is mailed one question set per app they own.
#[utoipa::path(tag = "check-ins", description = "Roles: admin, it, finance.", request_body = StartCheckIns,
    responses((status = 201, body = StartedBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[post("/check-ins")]
pub async fn start(ctx: web::Data<Context>, auth: Auth, input: Json<StartCheckIns>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(CHECK_IN_STARTERS)?;
    let input = input.parse()?;
    let quarter = stack_audit::parse_quarter(&input.quarter)?;
    let (actor, url) = (who.actor(), ctx.settings.public_url());
    let made = ctx.db.run(move |c| checkins::start(c, &actor, quarter, &url, crate::time::now())).await?;
    Ok(HttpResponse::Created().json(StartedBody {
        quarter: quarter.to_string(),
        created: made.len(),
        check_ins: made.into_iter().map(body).collect(),
    }))
}

/// Check-ins in id order; owners without a reading role see their own.
#[utoipa::path(tag = "check-ins", params(CheckInQuery), description = "Roles: any; employees and approvers see their own.",
    responses((status = 200, body = Vec<CheckInBody>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[get("/check-ins")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<CheckInQuery>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(ANYONE)?;
    let q = q.parse()?;
    if let Some(raw) = &q.quarter {
        stack_audit::parse_quarter(raw)?;
    }
    let owner = if who.holds_any(INVENTORY_READERS) { None } else { Some(who.email.clone().unwrap_or_default()) };
    let filter = CheckInFilter { quarter: q.quarter, app_id: q.app_id, owner_email: owner };
    let rows = ctx.db.run(move |c| checkins::list(c, &filter).map_err(DbError::from)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(body).collect::<Vec<_>>()))
}

/// One check-in.
#[utoipa::path(tag = "check-ins", description = "Roles: any; employees and approvers see their own.",
    responses((status = 200, body = CheckInBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/check-ins/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(ANYONE)?;
    let id: CheckInId = path_id("check-in", &id)?;
    let c = ctx.db.run(move |c| checkins::find(c, id)).await?;
    let own = who.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&c.owner_email));
    if !own && !who.holds_any(INVENTORY_READERS) {
        return Err(ApiError::NotFound(format!("check-in {id} not found")));
    }
    Ok(HttpResponse::Ok().json(body(c)))
}

/// Answer a check-in: the app's owner (or an admin). Answering again replaces the answers.
#[utoipa::path(tag = "check-ins", description = "Roles: any; the owner asked, or an admin.", request_body = AnswersBody,
    responses((status = 200, body = CheckInBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/check-ins/{id}/answers")]
pub async fn answer(
    ctx: web::Data<Context>,
    auth: Auth,
    id: web::Path<String>,
    input: Json<AnswersBody>,
) -> Result<HttpResponse, ApiError> {
    let who = Decider::from_principal(&auth.require(ANYONE)?);
    let id: CheckInId = path_id("check-in", &id)?;
    let answers = input.parse()?.into_answers()?;
    let c = ctx
        .db
        .run(move |c| -> Result<_, StackAuditError> { checkins::answer(c, &who, id, answers, crate::time::now()) })
        .await?;
    Ok(HttpResponse::Ok().json(body(c)))
}

/// An app's check-ins, newest quarter last: what its owner answered.
#[utoipa::path(tag = "check-ins", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Vec<CheckInBody>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[get("/apps/{id}/check-ins")]
pub async fn for_app(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let id: AppId = path_id("app", &id)?;
    let rows = ctx
        .db
        .run(move |c| -> Result<_, StackAuditError> {
            crate::inventory::apps::find(c, id)?;
            let filter = CheckInFilter { app_id: Some(id), ..Default::default() };
            Ok(checkins::list(c, &filter)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(body).collect::<Vec<_>>()))
}
