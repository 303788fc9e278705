//! The HTML pages under `/` for people: dashboard, apps, findings, requests, renewals,
//! connections, people, audit log, settings, access reviews and owner check-ins. Server-rendered with minijinja (the engine mail
//! uses), plain forms and links that work with JavaScript off. Handlers read through the same
//! domain queries as the API and show only what the viewer's roles may see (the same role sets
//! as the API, in `web::access`); every state-changing form carries the session's CSRF token.

mod access_reviews;
mod apps;
mod assets;
mod audit_log;
mod check_ins;
mod connections;
mod dashboard;
mod error;
mod findings;
mod forms;
mod nav;
mod people;
pub mod render;
mod renewals;
mod request_form;
mod requests;
mod settings;
mod viewer;

pub use error::PageError;
pub use viewer::Viewer;

use actix_web::web;

/// Registers every page route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(assets::style)
        .service(dashboard::show)
        .service(apps::list)
        .service(apps::show)
        .service(findings::list)
        .service(findings::triage)
        .service(findings::reclaim)
        // Fixed paths before /requests/{id}.
        .service(request_form::blank)
        .service(request_form::submit)
        .service(requests::list)
        .service(requests::show)
        .service(requests::decide)
        .service(requests::cancel)
        .service(requests::complete)
        .service(renewals::list)
        .service(renewals::decide)
        .service(connections::list)
        .service(connections::create)
        .service(connections::show)
        .service(connections::sync_now)
        .service(people::list)
        .service(audit_log::list)
        .service(settings::show)
        .service(settings::create_token)
        .service(settings::revoke_token)
        .service(access_reviews::list)
        .service(access_reviews::show)
        .service(access_reviews::decide)
        .service(access_reviews::decide_many)
        .service(access_reviews::close)
        .service(check_ins::show)
        .service(check_ins::answer);
}
