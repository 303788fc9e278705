//! Prometheus metrics: requests by route and status, a latency histogram, and pool use.

use crate::context::Context;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};
use std::time::Instant;

/// The service's metrics, shared by every worker.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with stackward's metrics registered.
    #[expect(clippy::expect_used, reason = "the metric definitions are constants: they fail in every test or never")]
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("stackward_http_requests_total", "HTTP requests by method, route pattern and status"),
            &["method", "route", "status"],
        )
        .expect("static metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new("stackward_http_request_duration_seconds", "HTTP request latency by route pattern")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route"],
        )
        .expect("static metric definition");
        let pool = IntGaugeVec::new(
            Opts::new("stackward_db_pool_connections", "Database pool connections by state (in_use, idle, max)"),
            &["state"],
        )
        .expect("static metric definition");
        for m in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
        ] {
            registry.register(m).expect("metric registered once");
        }
        Self { registry, requests, latency, pool }
    }

    /// The Prometheus text exposition, with pool figures read now.
    pub fn render(&self, ctx: &Context) -> String {
        let (open, idle, max) = ctx.db.pool_state();
        self.pool.with_label_values(&["in_use"]).set(i64::from(open.saturating_sub(idle)));
        self.pool.with_label_values(&["idle"]).set(i64::from(idle));
        self.pool.with_label_values(&["max"]).set(i64::from(max));
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for the text format.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Middleware: counts, times and logs each request under its route pattern. Never the raw
/// path or query, which would make one series per id and could log a feed token.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_string());
    let res = next.call(req).await?;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    if let Some(m) = metrics {
        m.requests.with_label_values(&[&method, &route, &status.to_string()]).inc();
        m.latency.with_label_values(&[&method, &route]).observe(elapsed.as_secs_f64());
    }
    if !matches!(route.as_str(), "/healthz" | "/metrics" | "/readyz") {
        tracing::info!(%method, %route, status, ms = elapsed.as_secs_f64() * 1000.0, "request");
    }
    Ok(res)
}
