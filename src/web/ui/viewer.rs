//! The person looking at a page: who they are, the roles they hold and the CSRF token their
//! forms carry. A signed-out visit is sent to sign in and back.

use super::error::PageError;
use crate::auth::Role;
use crate::context::Context;
use crate::workflow::Decider;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::Serialize;

/// The signed-in person behind a page request.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Who decides and is recorded in the audit log.
    pub decider: Decider,
    /// The token every state-changing form of this session carries ("" for a bearer token).
    pub csrf: String,
    /// The session's secret, which CSRF tokens are checked against; none for a bearer token.
    session: Option<String>,
}

/// What the layout shows of the viewer.
#[derive(Debug, Serialize)]
pub struct ViewerView {
    /// Their email.
    pub email: String,
    /// Their roles, as words.
    pub roles: Vec<&'static str>,
    /// The CSRF token for forms.
    pub csrf: String,
}

impl Viewer {
    /// True when they hold any of `roles`.
    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.decider.roles.iter().any(|r| roles.contains(r))
    }

    /// Themselves, if they hold one of `roles`; otherwise the 403 page.
    pub fn require(&self, roles: &[Role]) -> Result<&Self, PageError> {
        if self.has_any(roles) {
            return Ok(self);
        }
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(PageError::Forbidden(format!("This page is for these roles: {}.", allowed.join(", "))))
    }

    /// Their email, lower-case ("" for a sign-in that names no person).
    pub fn email(&self) -> &str {
        self.decider.email.as_deref().unwrap_or("")
    }

    /// True when `email` is theirs.
    pub fn is(&self, email: &str) -> bool {
        !email.is_empty() && self.email().eq_ignore_ascii_case(email)
    }

    /// True when every role they hold is employee (the narrowest view).
    pub fn is_employee_only(&self) -> bool {
        self.decider.roles.iter().all(|r| *r == Role::Employee)
    }

    /// What the layout shows.
    pub fn view(&self) -> ViewerView {
        ViewerView {
            email: self.email().to_string(),
            roles: self.decider.roles.iter().map(|r| r.as_str()).collect(),
            csrf: self.csrf.clone(),
        }
    }
}

/// The path and query to come back to after signing in.
pub fn here(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    }
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let ctx = req.app_data::<web::Data<Context>>().cloned().ok_or(PageError::Internal)?;
            match signed_in(&ctx, &req).await? {
                Some(v) => Ok(v),
                None => Err(PageError::SignIn(here(&req))),
            }
        })
    }
}

/// The viewer of a request, or None when it is signed out: a browser session cookie, or an API
/// token (scripts and the benchmark read pages too; a bearer token cannot be forged across
/// sites, so it needs no CSRF token).
async fn signed_in(ctx: &Context, req: &HttpRequest) -> Result<Option<Viewer>, PageError> {
    if req.headers().get("authorization").is_some() {
        let auth = crate::web::extract::Auth::from_request_parts(req).await?;
        return Ok(Some(Viewer { decider: Decider::from_principal(&auth.0), csrf: String::new(), session: None }));
    }
    let Some(secret) = crate::web::session::session_secret(req) else { return Ok(None) };
    let limits = crate::auth::SessionLimits::from_settings(&ctx.settings);
    let lookup = secret.clone();
    let found = ctx
        .db
        .run(move |c| crate::auth::sessions::authenticate(c, &lookup, limits).map_err(crate::web::ApiError::from))
        .await?;
    Ok(found.map(|p| Viewer {
        decider: Decider::from_principal(&p),
        csrf: crate::auth::sessions::csrf_token(&secret),
        session: Some(secret),
    }))
}

impl Viewer {
    /// True when `sent` is this session's CSRF token (bearer-token requests carry none).
    pub fn csrf_ok(&self, sent: &str) -> bool {
        match &self.session {
            Some(secret) => crate::auth::sessions::csrf_matches(secret, sent),
            None => true,
        }
    }
}
