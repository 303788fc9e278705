//! The one route table. Every route goes through `utoipa_actix_web::service`, so the OpenAPI
//! document lists exactly the routes that exist.

use super::{api, metrics, ops, session, signin, Metrics};
use crate::context::Context;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{middleware, web, App, HttpResponse};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, AppExt};

#[derive(OpenApi)]
#[openapi(
    info(title = "stackward", description = "SaaS tool-stack and licence governance API. \
        Errors are {\"error\":{\"code\",\"message\",\"field\"}} with codes: invalid (400), malformed (400), \
        unauthorized (401), forbidden (403), not_found (404), unsupported_media_type (415), conflict (409), unavailable (503), internal (500). \
        Every query parameter is given at most once: one given twice is refused with 400 invalid naming it."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(super::ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scheme = SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        doc.components.get_or_insert_with(Default::default).add_security_scheme("bearer", scheme);
    }
}

/// An error answer in the document: the `ErrorBody` JSON, with `description`.
fn error_answer(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
        .build()
}

/// Adds an error answer for `status` to `op`, unless the operation documents its own.
fn documents(op: &mut Operation, status: &str, description: &str) {
    op.responses.responses.entry(status.into()).or_insert_with(|| error_answer(description).into());
}

/// Every operation of the document with its path.
fn operations(doc: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = (&String, &mut Operation)> {
    doc.paths.paths.iter_mut().flat_map(|(path, item)| {
        [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch]
            .into_iter()
            .flatten()
            .map(move |op| (path, op))
    })
}

/// Documents on every API operation the two answers any of them can give: 500 `internal` (a
/// bug or a corrupt stored value; never database text) and 503 `unavailable` (no database).
struct ServerErrors;

impl Modify for ServerErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for (_, op) in operations(doc).filter(|(path, _)| path.starts_with("/api/v1")) {
            documents(op, "500", "internal: a server fault, logged");
            documents(op, "503", "unavailable: the database does not answer");
        }
    }
}

/// Documents on every API operation that needs a caller the two refusals any of them can give:
/// 401 `unauthorized` (no, unknown or revoked token or session) and 403 `forbidden` (a role not
/// allowed, a calendar-feed token, a cross-site state change).
struct CallerErrors;

impl Modify for CallerErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for (_, op) in operations(doc).filter(|(path, _)| path.starts_with("/api/v1")) {
            // An operation open to anyone says so with an empty security requirement.
            let open =
                op.security.iter().flatten().any(|r| {
                    serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(serde_json::Map::is_empty))
                });
            if open {
                continue;
            }
            documents(op, "401", "unauthorized: no token or session, or an unknown one");
            documents(op, "403", "forbidden: the caller's role or token may not do this");
        }
    }
}

/// Documents the 415 every JSON-body route answers when the body is sent as another type
/// (the `Json` extractor's check), so the document lists every status a route can give.
struct JsonBodies;

impl Modify for JsonBodies {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let refused = error_answer("The body was not sent as application/json.");
        for (_, op) in operations(doc) {
            let json_body = op.request_body.as_ref().is_some_and(|b| b.content.keys().any(|t| t == "application/json"));
            if json_body {
                op.responses.responses.entry("415".into()).or_insert_with(|| refused.clone().into());
            }
        }
    }
}

/// The actix app, with the OpenAPI document it generates.
#[expect(clippy::too_many_lines, reason = "the route table: one line a route, read as a list")]
pub fn build_app(
    ctx: Context,
    metrics: Metrics,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(web::Data::new(ctx))
        .app_data(web::Data::new(metrics.clone()))
        .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
        // Registered before the /api/v1 scope, which would otherwise answer 404 for it.
        .map(|app| app.route("/api/v1/openapi.json", web::get().to(openapi_json)))
        // Pages and sign-in: HTML, not part of the API document.
        .map(|app| {
            app.service(signin::login)
                .service(signin::mail_link)
                .service(signin::callback)
                .service(signin::logout)
                .service(signin::link_get)
                .service(signin::link_post)
                .service(signin::users_page)
                .service(signin::grant_role)
        })
        // The HTML pages; not API routes, so outside the OpenAPI document.
        .map(|app| app.configure(super::ui::routes))
        .service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(
            scope::scope("/api/v1")
                .service(api::apps::list)
                .service(api::apps::get)
                .service(api::apps::create)
                .service(api::apps::update)
                .service(api::apps::retire)
                .service(api::subscriptions::list)
                .service(api::subscriptions::get)
                .service(api::subscriptions::create)
                .service(api::subscriptions::update)
                .service(api::subscriptions::cancel)
                .service(api::subscriptions::renew)
                .service(api::subscriptions::terms)
                .service(api::people::list)
                .service(api::people::get)
                .service(api::people::create)
                .service(api::people::update)
                .service(api::people::depart)
                .service(api::accounts::list)
                .service(api::accounts::get)
                .service(api::accounts::create)
                .service(api::accounts::update)
                .service(api::accounts::remove)
                .service(api::licence_pools::list)
                .service(api::transfer::import)
                .service(api::transfer::export)
                .service(api::audit_log::list)
                .service(api::tokens::list)
                .service(api::tokens::create)
                .service(api::tokens::revoke)
                .service(api::tokens::me)
                .service(api::renewals::list)
                .service(api::renewals::feed)
                .service(api::renewals::stale_alerts)
                .service(api::mail::jobs)
                .service(api::mail::outbox_list)
                .service(api::mail::test_mail)
                .service(api::connections::connectors)
                .service(api::connections::list)
                .service(api::connections::create)
                .service(api::connections::get)
                .service(api::connections::update)
                .service(api::connections::remove)
                .service(api::connections::sync_now)
                .service(api::connections::runs_list)
                .service(api::connections::run_get)
                .service(api::connections::oauth_start)
                .service(api::connections::oauth_callback)
                // Fixed paths before /findings/{id}.
                .service(api::findings::summary)
                .service(api::findings::exclusions_list)
                .service(api::findings::exclusions_add)
                .service(api::findings::exclusions_remove)
                .service(api::findings::refresh)
                .service(api::findings::list)
                .service(api::findings::get)
                .service(api::findings::accounts)
                .service(api::findings::update)
                // Fixed paths before /requests/{id}.
                .service(api::requests::advice)
                .service(api::requests::list)
                .service(api::requests::create)
                .service(api::requests::get)
                .service(api::requests::resubmit)
                .service(api::requests::decide)
                .service(api::requests::cancel)
                .service(api::requests::complete)
                .service(api::policy::get)
                .service(api::policy::replace)
                .service(api::usage::push)
                .service(api::savings::list)
                .service(api::audits::create)
                .service(api::audits::list)
                .service(api::audits::get)
                .service(api::audits::download)
                .service(api::access_reviews::create)
                .service(api::access_reviews::list)
                .service(api::access_reviews::get)
                .service(api::access_reviews::items)
                .service(api::access_reviews::decide)
                .service(api::access_reviews::close)
                .service(api::check_ins::start)
                .service(api::check_ins::list)
                .service(api::check_ins::get)
                .service(api::check_ins::answer)
                .service(api::check_ins::for_app),
        )
        .split_for_parts();
    // After the routes are in: a modifier on ApiDoc would see no paths yet.
    JsonBodies.modify(&mut doc);
    CallerErrors.modify(&mut doc);
    ServerErrors.modify(&mut doc);
    let doc = web::Data::new(doc);
    app.app_data(doc)
        .default_service(web::to(not_found))
        .wrap(middleware::from_fn(session::refuse_cross_origin))
        .wrap(middleware::from_fn(metrics::observe))
}

async fn openapi_json(doc: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}

async fn not_found() -> Result<HttpResponse, super::ApiError> {
    Err(super::ApiError::NotFound("no such route".into()))
}
