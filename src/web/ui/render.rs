//! Page rendering: one minijinja environment (the engine mail uses) with the templates compiled
//! into the binary, a few filters for money and dates, and the layout's shared values.

use super::error::PageError;
use super::nav;
use super::viewer::Viewer;
use actix_web::HttpResponse;
use minijinja::{Environment, Value};
use std::sync::OnceLock;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("error.html", include_str!("templates/error.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("apps.html", include_str!("templates/apps.html")),
    ("app.html", include_str!("templates/app.html")),
    ("findings.html", include_str!("templates/findings.html")),
    ("requests.html", include_str!("templates/requests.html")),
    ("request_new.html", include_str!("templates/request_new.html")),
    ("request.html", include_str!("templates/request.html")),
    ("renewals.html", include_str!("templates/renewals.html")),
    ("connections.html", include_str!("templates/connections.html")),
    ("connection.html", include_str!("templates/connection.html")),
    ("people.html", include_str!("templates/people.html")),
    ("audit_log.html", include_str!("templates/audit_log.html")),
    ("settings.html", include_str!("templates/settings.html")),
    ("access_reviews.html", include_str!("templates/access_reviews.html")),
    ("access_review.html", include_str!("templates/access_review.html")),
    ("check_in.html", include_str!("templates/check_in.html")),
    // The sign-in pages share the layout; they are rendered by `web::signin`.
    ("signin/login.html", include_str!("../signin/templates/login.html")),
    ("signin/message.html", include_str!("../signin/templates/message.html")),
    ("signin/link_confirm.html", include_str!("../signin/templates/link_confirm.html")),
    ("signin/users.html", include_str!("../signin/templates/users.html")),
];

/// Formats minor units with their currency: `USD 1,234.50`.
fn money(cents: Option<i64>, currency: Option<String>) -> String {
    match (cents, currency) {
        (Some(c), Some(cur)) if !cur.is_empty() => crate::renewals::upcoming::money(c, &cur),
        (Some(c), _) => crate::renewals::upcoming::money(c, "USD"),
        (None, _) => "unknown".into(),
    }
}

/// The day of an RFC 3339 time or date (`2026-03-01T10:00:00Z` → `2026-03-01`).
fn day(value: Option<String>) -> String {
    match value {
        Some(v) => v.get(..10).unwrap_or(&v).to_string(),
        None => "—".into(),
    }
}

/// A time as `2026-03-01 10:00 UTC`.
fn when(value: Option<String>) -> String {
    match value {
        Some(v) if v.len() >= 16 => format!("{} {} UTC", &v[..10], &v[11..16]),
        Some(v) => v,
        None => "never".into(),
    }
}

/// Snake-case words as a phrase: `changes_requested` → `changes requested`.
fn words(value: String) -> String {
    value.replace('_', " ")
}

#[expect(
    clippy::expect_used,
    reason = "the page templates are compiled in and rendered by the page tests: a syntax error is a build defect"
)]
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        env.add_filter("money", money);
        env.add_filter("day", day);
        env.add_filter("when", when);
        env.add_filter("words", words);
        for (name, source) in TEMPLATES {
            // Compiled in and rendered by the page tests; a syntax error is a build defect.
            env.add_template(name, source).expect("built-in page template parses");
        }
        env
    })
}

/// Renders template `name` with `ctx` and no navigation (error and sign-in pages).
pub fn standalone(name: &str, ctx: Value) -> Result<String, minijinja::Error> {
    env().get_template(name)?.render(ctx)
}

/// Renders template `name` for `viewer`, with the layout's navigation and their CSRF token.
pub fn to_string(viewer: &Viewer, name: &str, ctx: Value) -> Result<String, PageError> {
    let ctx = minijinja::context! {
        viewer => viewer.view(),
        nav => nav::items(viewer),
        ..ctx
    };
    Ok(env().get_template(name)?.render(ctx)?)
}

/// A 200 HTML page.
pub fn page(viewer: &Viewer, name: &str, ctx: Value) -> Result<HttpResponse, PageError> {
    let body = to_string(viewer, name, ctx)?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body))
}

/// A 303 to `to` after a form was handled (post, redirect, get).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((actix_web::http::header::LOCATION, to.to_string())).finish()
}
