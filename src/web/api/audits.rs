//! `/api/v1/audits`: take a quarterly audit (a frozen snapshot), list and read them, and
//! download an audit's pack as a zip.

use crate::context::Context;
use crate::db::DbError;
use crate::stack_audit::{self, pack, store, Audit, AuditId, Summary};
use crate::web::access::{AUDIT_TAKERS, INVENTORY_READERS};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::extract::{path_id, Auth, Json};
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};

/// The audit to take.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAudit {
    /// The quarter audited, `YYYY-Q1` to `YYYY-Q4`.
    #[schema(example = "2026-Q4")]
    quarter: String,
}

/// Rows one sheet of the audit holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SheetCount {
    /// The sheet's name in the workbook.
    pub sheet: String,
    /// Its CSV file in the pack.
    pub file: String,
    /// Rows.
    pub rows: i64,
}

/// An audit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditBody {
    /// Audit id.
    #[schema(value_type = String)]
    pub id: AuditId,
    /// The quarter audited.
    pub quarter: String,
    /// When the snapshot was taken (UTC, RFC 3339).
    pub taken_at: String,
    /// Who took it.
    pub created_by: String,
    /// The audit its Changes compare against.
    #[schema(value_type = Option<String>)]
    pub previous_id: Option<AuditId>,
    /// The stackward version that took it.
    pub stackward_version: String,
    /// Headline figures.
    pub summary: Summary,
    /// Rows per sheet (on single reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheets: Option<Vec<SheetCount>>,
    /// Where to download the pack.
    pub pack_url: String,
}

/// An audit pack as downloaded: the bytes of a zip file (a string of binary, not a JSON array).
pub struct PackZip;

impl utoipa::PartialSchema for PackZip {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("A zip file."))
            .into()
    }
}

impl utoipa::ToSchema for PackZip {}

fn body(a: &Audit, sheets: Option<Vec<SheetCount>>) -> AuditBody {
    AuditBody {
        id: a.id,
        quarter: a.quarter.clone(),
        taken_at: crate::time::format(&a.taken_at),
        created_by: a.created_by.clone(),
        previous_id: a.previous_id,
        stackward_version: a.stackward_version.clone(),
        summary: a.summary.0.clone(),
        sheets,
        pack_url: format!("/api/v1/audits/{}/pack", a.id),
    }
}

/// Take the audit of a quarter now: everything the pack needs is frozen, so later inventory
/// changes never change it. Changes are against the latest audit before it.
#[utoipa::path(tag = "audits", description = "Roles: admin, it, finance.", request_body = NewAudit,
    responses((status = 201, body = AuditBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[post("/audits")]
pub async fn create(ctx: web::Data<Context>, auth: Auth, input: Json<NewAudit>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(AUDIT_TAKERS)?;
    let input = input.parse()?;
    let quarter = stack_audit::parse_quarter(&input.quarter)?;
    let actor = who.actor();
    let audit = ctx.db.run(move |c| stack_audit::take(c, &actor, quarter, crate::time::now())).await?;
    Ok(HttpResponse::Created().json(body(&audit, None)))
}

/// Every audit, newest first.
#[utoipa::path(tag = "audits", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = Vec<AuditBody>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/audits")]
pub async fn list(ctx: web::Data<Context>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let rows = ctx.db.run(|c| store::list(c).map_err(DbError::from)).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|a| body(a, None)).collect::<Vec<_>>()))
}

/// One audit with its summary and the rows of each sheet.
#[utoipa::path(tag = "audits", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, body = AuditBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[get("/audits/{id}")]
pub async fn get(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let id: AuditId = path_id("audit", &id)?;
    let (audit, counts) = ctx
        .db
        .run(move |c| -> Result<_, stack_audit::StackAuditError> {
            let a = store::find(c, id)?;
            Ok((a, store::counts(c, id)?))
        })
        .await?;
    let sheets =
        counts.into_iter().map(|(s, rows)| SheetCount { sheet: s.title().into(), file: s.csv_name(), rows }).collect();
    Ok(HttpResponse::Ok().json(body(&audit, Some(sheets))))
}

/// The audit pack: a zip of report.html, report.md, workbook.xlsx, one CSV per sheet and
/// manifest.json. The same audit always gives the same bytes.
#[utoipa::path(tag = "audits", description = "Roles: admin, it, finance, security, approver, auditor.",
    responses((status = 200, content_type = "application/zip", body = PackZip), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/audits/{id}/pack")]
pub async fn download(ctx: web::Data<Context>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    auth.require(INVENTORY_READERS)?;
    let id: AuditId = path_id("audit", &id)?;
    let (quarter, bytes) = ctx
        .db
        .run(move |c| -> Result<_, stack_audit::StackAuditError> {
            let a = store::find(c, id)?;
            let mut out = std::io::Cursor::new(Vec::new());
            pack::write_zip(c, id, &mut out)?;
            Ok((a.quarter, out.into_inner()))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"stackward-audit-{quarter}-{id}.zip\"")))
        .body(bytes))
}
