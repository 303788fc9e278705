//! `GET /api/v1/savings`: the savings ledger for a period, with totals per currency.

use crate::context::Context;
use crate::db::DbError;
use crate::savings::{self, Ledger};
use crate::web::access::SAVINGS_READERS;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{Auth, Query};
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;

/// The period.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SavingsQuery {
    /// First day (UTC) of entries to include; default: from the beginning.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<NaiveDate>,
    /// Last day (UTC) of entries to include; default: up to now.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<NaiveDate>,
}

/// Savings realised and avoided in the period, and what open findings could still save.
#[utoipa::path(tag = "savings", params(SavingsQuery), description = "Roles: finance, admin, it, auditor.",
    responses((status = 200, body = Ledger), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[get("/savings")]
pub async fn list(ctx: web::Data<Context>, auth: Auth, q: Query<SavingsQuery>) -> Result<HttpResponse, ApiError> {
    auth.require(SAVINGS_READERS)?;
    let q = q.parse()?;
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if from > to {
            return Err(ApiError::invalid("to", format!("{to} is before from ({from})")));
        }
    }
    let ledger = ctx.db.run(move |c| savings::ledger(c, q.from, q.to).map_err(DbError::from)).await?;
    Ok(HttpResponse::Ok().json(ledger))
}
