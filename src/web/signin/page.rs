//! Page rendering (minijinja, as for mail; HTML escapes every value) and the errors pages answer.

use crate::auth::SignInError;
use crate::db::DbError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use minijinja::Value;
use serde::Serialize;

/// The heading and window title of each sign-in page; a message page brings its own.
fn title_of(name: &str) -> Option<&'static str> {
    match name {
        "login.html" | "link_confirm.html" => Some("Sign in"),
        "users.html" => Some("Sign-in and roles"),
        _ => None,
    }
}

/// Renders sign-in page `name` with `context` as an HTML response with `status`, in the pages'
/// one layout (the templates live in `web::ui::render`); who is signed in shows in its header.
pub fn render<T: Serialize>(status: StatusCode, name: &str, context: &T) -> Result<HttpResponse, PageError> {
    let ctx = Value::from_serialize(context);
    let attr = |key: &str| ctx.get_attr(key).unwrap_or_default();
    let title = title_of(name).map_or_else(|| attr("title"), Value::from);
    let viewer = minijinja::context! { email => attr("signed_in_as"), csrf => attr("csrf_token") };
    let ctx = minijinja::context! { title, viewer, narrow => true, ..ctx.clone() };
    let html = crate::web::ui::render::standalone(&format!("signin/{name}"), ctx).map_err(|e| {
        tracing::error!(error = %e, template = name, "page template failed");
        PageError::Internal
    })?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// What a page answers instead of itself.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not signed in: 303 to the sign-in page, which comes back to `next` after it.
    #[error("sign in first")]
    SignIn {
        /// The path and query to return to.
        next: String,
    },
    /// 403: the person's roles may not see or do this; the page still offers sign-out.
    #[error("{message}")]
    Forbidden {
        /// What was refused and why.
        message: String,
        /// Who is signed in, and their CSRF token for the sign-out form.
        signed_in: Option<(String, String)>,
    },
    /// 403: a state-changing post from another site.
    #[error("this form was sent from another site, so it was refused")]
    CrossOrigin,
    /// 403: a form without this session's CSRF token.
    #[error("this form has expired or did not come from stackward; go back, reload the page and send it again")]
    BadForm,
    /// 400: a link or field that cannot be used, with a sentence saying why.
    #[error("{0}")]
    Invalid(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 502: the identity provider failed.
    #[error("{0}")]
    Provider(String),
    /// 503: the database is unavailable.
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    /// 500: logged with its cause, shown without it.
    #[error("something went wrong on our side; it has been logged")]
    Internal,
}

#[derive(Serialize)]
struct Message<'a> {
    title: &'a str,
    message: String,
    link: Option<Link<'a>>,
    csrf_token: Option<&'a str>,
    signed_in_as: Option<&'a str>,
}

#[derive(Serialize)]
struct Link<'a> {
    href: &'a str,
    text: &'a str,
}

impl PageError {
    fn title(&self) -> &'static str {
        match self {
            PageError::SignIn { .. } => "Sign in",
            PageError::Forbidden { .. } | PageError::CrossOrigin | PageError::BadForm => "Not allowed",
            PageError::Invalid(_) => "This cannot be used",
            PageError::NotFound(_) => "Not found",
            PageError::Provider(_) => "Sign-in failed",
            PageError::Unavailable | PageError::Internal => "Something went wrong",
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::Forbidden { .. } | PageError::CrossOrigin | PageError::BadForm => StatusCode::FORBIDDEN,
            PageError::Invalid(_) => StatusCode::BAD_REQUEST,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Provider(_) => StatusCode::BAD_GATEWAY,
            PageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::SignIn { next } = self {
            let to = format!("/auth/login?next={}", urlencode(next));
            return HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish();
        }
        let link = match self {
            PageError::Invalid(_) | PageError::Provider(_) => Some(Link { href: "/auth/login", text: "Sign in again" }),
            _ => Some(Link { href: "/", text: "Back to the start page" }),
        };
        let (signed_in_as, csrf_token) = match self {
            PageError::Forbidden { signed_in: Some((who, token)), .. } => (Some(who.as_str()), Some(token.as_str())),
            _ => (None, None),
        };
        let page = Message { title: self.title(), message: self.to_string(), link, csrf_token, signed_in_as };
        render(self.status_code(), "message.html", &page).unwrap_or_else(|_| {
            HttpResponse::build(self.status_code()).content_type("text/plain; charset=utf-8").body(self.to_string())
        })
    }
}

/// Percent-encodes a query value.
pub(super) fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl From<DbError> for PageError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                PageError::Unavailable
            }
            other => {
                tracing::error!(error = %other, "database error");
                PageError::Internal
            }
        }
    }
}

impl From<SignInError> for PageError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::Invalid { message, .. } => PageError::Invalid(message),
            SignInError::Db(db) => db.into(),
        }
    }
}

impl From<diesel::result::Error> for PageError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::Query(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_renders_and_escapes() {
        let login = serde_json::json!({"oidc": true, "can_mail": false, "next": "/a?b=<c>", "next_query": "%2Fa",
            "signed_out": true, "sent": null, "error": "<b>x</b>", "csrf_token": null});
        let body = |page: &serde_json::Value| {
            let resp = render(StatusCode::OK, "login.html", page).unwrap();
            let bytes = actix_web::body::to_bytes(resp.into_body());
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            String::from_utf8(rt.block_on(bytes).unwrap().to_vec()).unwrap()
        };
        let html = body(&login);
        assert!(html.contains("You are signed out") && html.contains("&lt;b&gt;x") && !html.contains("<b>x"), "{html}");
        let mail = serde_json::json!({"oidc": false, "can_mail": true, "next": "/", "next_query": "%2F",
            "signed_out": false, "sent": null, "error": null, "csrf_token": null});
        assert!(body(&mail).contains("Email me a sign-in link"));
        assert!(html.contains("<title>Sign in · stackward</title>") && html.contains("/static/style.css"), "{html}");
        let forbidden = PageError::Forbidden { message: "no".into(), signed_in: Some(("a@b.c".into(), "tok".into())) };
        let resp = forbidden.error_response();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let signin = PageError::SignIn { next: "/apps?q=a b".into() }.error_response();
        assert_eq!(signin.headers().get(header::LOCATION).unwrap(), "/auth/login?next=%2Fapps%3Fq%3Da+b");
    }
}
