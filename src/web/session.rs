//! The browser side of sessions: the session cookie, the CSRF token's names, and the
//! same-origin rule for state-changing requests (a middleware refuses a cross-origin post).

use crate::config::Settings;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{http::Method, HttpRequest};

/// The cookie holding the session's secret id.
pub const SESSION_COOKIE: &str = "stackward_session";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The header carrying the CSRF token on API calls made with a session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session secret a request's cookie carries.
pub fn session_secret(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()).filter(|v| !v.is_empty())
}

/// The cookie that keeps a session: `HttpOnly`, `SameSite=Lax`, `Secure` when served over https.
pub fn session_cookie(secret: String, settings: &Settings) -> Cookie<'static> {
    let max_age = actix_web::cookie::time::Duration::hours(i64::from(settings.session_max_hours.max(1)));
    Cookie::build(SESSION_COOKIE, secret)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.public_url_is_https())
        .max_age(max_age)
        .finish()
}

/// A cookie that makes the browser forget `name` (set on `path`).
pub fn removal_cookie(name: &'static str, path: &'static str, settings: &Settings) -> Cookie<'static> {
    let mut c = Cookie::build(name, "")
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.public_url_is_https())
        .finish();
    c.make_removal();
    c
}

/// True for methods that change state.
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok().map(|u| u.origin().ascii_serialization())
}

/// True when the request's `Origin` (or, without one, its `Referer`) is the public URL's
/// origin. A request with neither (a script, not a browser) passes: the CSRF token still
/// guards forms, and browsers always send `Origin` on a post.
pub fn same_origin(req: &HttpRequest, settings: &Settings) -> bool {
    let Some(public) = origin_of(&settings.public_url()) else { return false };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    match (header("origin"), header("referer")) {
        // "null" is what a sandboxed or privacy-redirected page sends: never our own.
        (Some(origin), _) => origin_of(&origin).is_some_and(|o| o == public),
        (None, Some(referer)) => origin_of(&referer).is_some_and(|o| o == public),
        (None, None) => true,
    }
}

/// Refuses a state-changing browser request from another origin (403) before any handler
/// runs. Calls with an `Authorization` header are API clients, which need no such guard.
pub async fn refuse_cross_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let guarded = changes_state(req.method()) && !req.headers().contains_key("authorization");
    if guarded {
        let settings = req.app_data::<actix_web::web::Data<crate::context::Context>>().map(|c| c.settings.clone());
        if let Some(settings) = settings {
            if !same_origin(req.request(), &settings) {
                let resp = if req.path().starts_with("/api/") {
                    let refused = super::ApiError::Forbidden("a cross-origin request was refused".into());
                    actix_web::ResponseError::error_response(&refused)
                } else {
                    actix_web::ResponseError::error_response(&super::signin::PageError::CrossOrigin)
                };
                let (http, _) = req.into_parts();
                return Ok(ServiceResponse::new(http, resp));
            }
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
