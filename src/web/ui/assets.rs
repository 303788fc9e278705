//! Static files served from the binary: the stylesheet (no CDN, no build step).

use actix_web::{get, HttpResponse};

const STYLE: &str = include_str!("static/style.css");

/// The one stylesheet.
#[get("/static/style.css")]
pub async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(STYLE)
}
