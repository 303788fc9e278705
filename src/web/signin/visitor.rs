//! `Visitor`: the signed-in person a page is for, with their session's CSRF token for forms.
//! A visit without a live session is sent to sign in and brought back afterwards.

use super::PageError;
use crate::auth::{self, Principal, Role};
use crate::context::Context;
use crate::web::session;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

/// The signed-in person on a page.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// Who they are and the roles they hold.
    pub principal: Principal,
    /// The token every state-changing form must carry as the `csrf_token` field.
    pub csrf_token: String,
}

impl Visitor {
    /// The visitor, if one of their roles is among `roles`; otherwise a 403 page.
    pub fn require(self, roles: &[Role]) -> Result<Self, PageError> {
        if self.principal.holds_any(roles) {
            return Ok(self);
        }
        let held: Vec<&str> = self.principal.roles.iter().map(|r| r.as_str()).collect();
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let message = format!(
            "You are signed in as {} with the role {}, and this page is only for: {}. Ask an administrator if you need it.",
            self.principal.name,
            held.join(", "),
            allowed.join(", ")
        );
        Err(PageError::Forbidden { message, signed_in: Some((self.principal.name, self.csrf_token)) })
    }

    /// The visitor of a request, or the sign-in redirect that comes back to `next`.
    pub async fn of(req: &HttpRequest, next: String) -> Result<Self, PageError> {
        let ctx = req.app_data::<web::Data<Context>>().cloned().ok_or(PageError::Internal)?;
        let Some(secret) = session::session_secret(req) else { return Err(PageError::SignIn { next }) };
        let limits = auth::SessionLimits::from_settings(&ctx.settings);
        let lookup = secret.clone();
        let found = ctx.db.run(move |c| auth::sessions::authenticate(c, &lookup, limits)).await?;
        match found {
            Some(principal) => Ok(Visitor { principal, csrf_token: auth::sessions::csrf_token(&secret) }),
            None => Err(PageError::SignIn { next }),
        }
    }
}

/// Where to come back to after signing in: this page for a GET, the start page otherwise.
pub(super) fn return_path(req: &HttpRequest) -> String {
    if req.method() == actix_web::http::Method::GET {
        req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into())
    } else {
        "/".into()
    }
}

impl FromRequest for Visitor {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Visitor::of(&req, return_path(&req)).await })
    }
}
