//! The HTTP face: the JSON API under `/api/v1` with its OpenAPI document, sign-in and sessions
//! for the pages, and the operations endpoints. Handlers hold only HTTP; the rules live in the
//! area modules.

mod access;
mod api;
mod error;
mod extract;
mod metrics;
mod ops;
mod paging;
mod routes;
pub mod session;
pub mod signin;
pub mod ui;

pub use error::{ApiError, ErrorBody};
pub use metrics::Metrics;
pub use routes::build_app;

use crate::context::Context;
use actix_web::HttpServer;

/// Serves HTTP on the listen address until the process is told to stop.
pub async fn serve(ctx: Context) -> std::io::Result<()> {
    let listen = ctx.settings.listen.clone();
    let metrics = Metrics::new();
    let server = HttpServer::new(move || build_app(ctx.clone(), metrics.clone())).bind(&listen)?;
    tracing::info!(%listen, "stackward is serving");
    server.run().await
}
