//! Operations endpoints, open without a token: liveness, readiness, metrics.

use super::Metrics;
use crate::context::Context;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;

/// The process is up.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// Whether the service can serve, and each check behind the answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// Each check's answer.
    checks: ReadinessChecks,
}

/// The checks behind readiness.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadinessChecks {
    /// `ok` or `unreachable`.
    database: String,
    /// `ok`, `N pending` or `unknown`.
    migrations: String,
    /// `ok`, `off` or `stalled: …`.
    scheduler: String,
}

/// Liveness: the process is up.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "the process is up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers, every migration is applied, and the scheduler ticks.
#[utoipa::path(tag = "operations", security(()), responses(
    (status = 200, description = "ready to serve", body = Readiness),
    (status = 503, description = "not ready; `checks` says why", body = Readiness)))]
#[get("/readyz")]
pub async fn readyz(ctx: web::Data<Context>) -> HttpResponse {
    let db = ctx.db.clone();
    let pending = tokio::task::spawn_blocking(move || db.pending_migrations()).await;
    let (database, migrations) = match pending {
        Ok(Ok(0)) => ("ok".to_string(), "ok".to_string()),
        Ok(Ok(n)) => ("ok".to_string(), format!("{n} pending")),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            ("unreachable".to_string(), "unknown".to_string())
        }
        Err(_) => ("unreachable".to_string(), "unknown".to_string()),
    };
    // The scheduler beats every 20 s; a silent one means no reminder will go out.
    let scheduler = match (ctx.scheduler_running, ctx.heartbeat.age_secs()) {
        (false, _) => "off".to_string(),
        (true, Some(age)) if age <= 90 => "ok".to_string(),
        (true, Some(age)) => format!("stalled: no tick for {age} s"),
        (true, None) => "stalled: never ticked".to_string(),
    };
    let ready = database == "ok" && migrations == "ok" && matches!(scheduler.as_str(), "ok" | "off");
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        checks: ReadinessChecks { database, migrations, scheduler },
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
pub async fn metrics(ctx: web::Data<Context>, metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(metrics.render(&ctx))
}
