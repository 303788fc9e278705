//! The sign-in routes: `/auth/login` (the page, or the redirect to the identity provider),
//! `/auth/callback`, `/auth/link/{token}`, `/auth/logout`, and `/settings/users` (who can sign
//! in, for admins).

use super::page::{render, urlencode};
use super::{FormPost, PageError, Visitor};
use crate::auth::oidc::PendingSignIn;
use crate::auth::{self, links, users, OidcError, Role, SessionLimits, SignInMethod, UserId};
use crate::context::Context;
use crate::web::session::{self, removal_cookie, session_cookie};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// The cookie holding a started OpenID Connect sign-in (sealed), only for `/auth`.
const PENDING_COOKIE: &str = "stackward_oidc";

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_string())).finish()
}

#[derive(Serialize, Default)]
struct LoginPage<'a> {
    oidc: bool,
    can_mail: bool,
    next: &'a str,
    /// `next`, percent-encoded for a query string.
    next_query: String,
    signed_out: bool,
    sent: Option<&'a str>,
    error: Option<String>,
    csrf_token: Option<String>,
}

/// Query of the sign-in page.
#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

/// Starts a session for `user` and sends the browser on to `next` with its cookie.
async fn sign_in(ctx: &Context, user: UserId, method: SignInMethod, next: &str) -> Result<HttpResponse, PageError> {
    let limits = SessionLimits::from_settings(&ctx.settings);
    let new = ctx.db.run(move |c| auth::sessions::start(c, user, method, limits)).await?;
    let mut resp = see_other(&links::local_path(Some(next)));
    resp.add_cookie(&session_cookie(new.secret, &ctx.settings)).map_err(|_| PageError::Internal)?;
    Ok(resp)
}

/// The sign-in page; with single sign-on configured, a redirect to the identity provider.
#[get("/auth/login")]
pub async fn login(
    ctx: web::Data<Context>,
    req: HttpRequest,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, PageError> {
    let next = links::local_path(q.next.as_deref());
    let signed_out = q.signed_out.is_some();
    if !signed_out && Visitor::of(&req, next.clone()).await.is_ok() {
        return Ok(see_other(&next));
    }
    let mut page = LoginPage {
        oidc: ctx.oidc.is_some(),
        can_mail: ctx.mailer.is_some(),
        next: &next,
        next_query: urlencode(&next),
        signed_out,
        ..Default::default()
    };
    if let (Some(oidc), false) = (&ctx.oidc, signed_out) {
        match oidc.begin(&next).await {
            Ok((url, pending)) => {
                let sealed = pending.seal(&ctx.secrets).map_err(|e| {
                    tracing::error!(error = %e, "cannot seal the sign-in state");
                    PageError::Internal
                })?;
                let cookie = Cookie::build(PENDING_COOKIE, sealed)
                    .path("/auth")
                    .http_only(true)
                    .same_site(SameSite::Lax)
                    .secure(ctx.settings.public_url_is_https())
                    .max_age(actix_web::cookie::time::Duration::minutes(10))
                    .finish();
                let mut resp = see_other(url.as_str());
                resp.add_cookie(&cookie).map_err(|_| PageError::Internal)?;
                return Ok(resp);
            }
            Err(e) => {
                tracing::warn!(error = %e, "single sign-on cannot start");
                page.error = Some("The identity provider cannot be reached right now; try again in a minute.".into());
                return render(StatusCode::BAD_GATEWAY, "login.html", &page);
            }
        }
    }
    render(StatusCode::OK, "login.html", &page)
}

/// Query of the provider's redirect back.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Where the identity provider sends the browser back: checks state, nonce and the ID token,
/// finds or creates the person by email, sets their roles from the claim, signs them in.
#[get("/auth/callback")]
pub async fn callback(
    ctx: web::Data<Context>,
    req: HttpRequest,
    q: web::Query<CallbackQuery>,
) -> Result<HttpResponse, PageError> {
    let Some(oidc) = ctx.oidc.clone() else {
        return Err(PageError::NotFound("single sign-on is not configured here".into()));
    };
    let pending =
        req.cookie(PENDING_COOKIE).and_then(|c| PendingSignIn::open(c.value(), &ctx.secrets)).ok_or_else(|| {
            PageError::Invalid("This sign-in was not started in this browser, or took too long. Sign in again.".into())
        })?;
    if let Some(error) = &q.error {
        let detail = q.error_description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
        return Err(PageError::Invalid(format!("The identity provider did not sign you in: {error}{detail}.")));
    }
    let (Some(code), Some(state)) = (q.code.as_deref(), q.state.as_deref()) else {
        return Err(PageError::Invalid("The identity provider's answer has no code or state.".into()));
    };
    let next = pending.next().to_string();
    let identity = oidc.finish(pending, code, state).await.map_err(|e| {
        tracing::warn!(error = %e, "single sign-on refused");
        match e {
            OidcError::Refused(m) => PageError::Invalid(format!("Sign-in refused: {m}.")),
            OidcError::Provider(_) | OidcError::Config(_) => {
                PageError::Provider("The identity provider could not complete the sign-in; try again.".into())
            }
        }
    })?;
    let user = ctx
        .db
        .run(move |c| {
            let user = users::find_or_create(c, &identity.email, identity.name.as_deref())?;
            users::set_provider_roles(c, user.id, &identity.roles)?;
            Ok::<_, auth::SignInError>(user)
        })
        .await?;
    tracing::info!(email = %user.email, "signed in through the identity provider");
    let mut resp = sign_in(&ctx, user.id, SignInMethod::Oidc, &next).await?;
    resp.add_cookie(&removal_cookie(PENDING_COOKIE, "/auth", &ctx.settings)).map_err(|_| PageError::Internal)?;
    Ok(resp)
}

/// The sign-out form.
#[derive(Deserialize)]
pub struct LogoutForm {
    csrf_token: Option<String>,
}

/// Signs out: the session ends on the server, the cookie is cleared.
#[post("/auth/logout")]
pub async fn logout(
    ctx: web::Data<Context>,
    req: HttpRequest,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, PageError> {
    if let Some(secret) = session::session_secret(&req) {
        let token = form.csrf_token.as_deref().unwrap_or("");
        if !auth::sessions::csrf_matches(&secret, token) {
            return Err(PageError::BadForm);
        }
        ctx.db.run(move |c| auth::sessions::end(c, &secret)).await?;
    }
    let mut resp = see_other("/auth/login?signed_out=1");
    resp.add_cookie(&removal_cookie(session::SESSION_COOKIE, "/", &ctx.settings)).map_err(|_| PageError::Internal)?;
    Ok(resp)
}

fn link_gone() -> PageError {
    PageError::Invalid(
        "This sign-in link does not work any more: a link works once, for 15 minutes. Ask for a new one.".into(),
    )
}

#[derive(Serialize)]
struct LinkConfirm {
    email: String,
    action: String,
    csrf_token: Option<String>,
}

/// Opens a one-time sign-in link. A printed link signs in at once; a mailed one asks for a
/// click first (mail scanners open links, and would use it up).
#[get("/auth/link/{token}")]
pub async fn link_get(ctx: web::Data<Context>, token: web::Path<String>) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let lookup = token.clone();
    let Some((email, mailed)) = ctx.db.run(move |c| links::peek(c, &lookup).map_err(crate::db::DbError::from)).await?
    else {
        return Err(link_gone());
    };
    if mailed {
        let page = LinkConfirm { email, action: format!("/auth/link/{}", urlencode(&token)), csrf_token: None };
        return render(StatusCode::OK, "link_confirm.html", &page);
    }
    use_link(&ctx, token).await
}

/// Uses a one-time sign-in link (the button of a mailed link's page).
#[post("/auth/link/{token}")]
pub async fn link_post(ctx: web::Data<Context>, token: web::Path<String>) -> Result<HttpResponse, PageError> {
    use_link(&ctx, token.into_inner()).await
}

async fn use_link(ctx: &Context, token: String) -> Result<HttpResponse, PageError> {
    let used = ctx.db.run(move |c| links::consume(c, &token).map_err(crate::db::DbError::from)).await?;
    let used = used.ok_or_else(link_gone)?;
    tracing::info!(email = %used.user.email, "signed in with a one-time link");
    sign_in(ctx, used.user.id, SignInMethod::Link, &used.next).await
}

/// The form asking for a mailed sign-in link.
#[derive(Deserialize)]
pub struct MailLinkForm {
    email: String,
    next: Option<String>,
}

/// Mails a one-time sign-in link to a known person (with SMTP set). The answer is the same
/// whether or not the address is known, so the form does not reveal who may sign in.
#[post("/auth/login")]
pub async fn mail_link(ctx: web::Data<Context>, form: web::Form<MailLinkForm>) -> Result<HttpResponse, PageError> {
    let Some(mailer) = ctx.mailer.clone() else {
        return Err(PageError::NotFound("mail is not configured here; ask an administrator for a sign-in link".into()));
    };
    let form = form.into_inner();
    let email = form.email.trim().to_lowercase();
    let next = links::local_path(form.next.as_deref());
    if email_address::EmailAddress::parse_with_options(&email, Default::default()).is_err() {
        let page = LoginPage {
            can_mail: true,
            next: &next,
            error: Some(format!("{email:?} is not an email address.")),
            ..Default::default()
        };
        return render(StatusCode::BAD_REQUEST, "login.html", &page);
    }
    let (lookup, link_next) = (email.clone(), next.clone());
    let token = ctx
        .db
        .run(move |c| {
            if !users::is_known(c, &lookup)? {
                return Ok::<_, auth::SignInError>(None);
            }
            links::create(c, &lookup, Some(&link_next), true).map(Some)
        })
        .await?;
    if let Some(token) = token {
        let link = format!("{}/auth/link/{token}", ctx.settings.public_url());
        // Sent now, not through the outbox: the outbox keeps bodies in the database, and a
        // 15-minute link is worthless when retried later.
        if let Err(e) = crate::notify::send_signin_link(&mailer, &email, &link).await {
            tracing::warn!(error = %e, "a sign-in link could not be mailed");
            let page = LoginPage {
                can_mail: true,
                next: &next,
                error: Some("The mail could not be sent right now; try again in a minute.".into()),
                ..Default::default()
            };
            return render(StatusCode::SERVICE_UNAVAILABLE, "login.html", &page);
        }
    }
    let page = LoginPage { can_mail: true, next: &next, sent: Some(&email), ..Default::default() };
    render(StatusCode::OK, "login.html", &page)
}

#[derive(Serialize)]
struct UserRow {
    email: String,
    name: Option<String>,
    roles: String,
    last_sign_in_at: Option<String>,
}

#[derive(Serialize)]
struct UsersPage {
    users: Vec<UserRow>,
    oidc: Option<String>,
    csrf_token: String,
    signed_in_as: String,
    roles: Vec<&'static str>,
}

/// Who can sign in and the roles they hold (admins only).
#[get("/settings/users")]
pub async fn users_page(ctx: web::Data<Context>, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let visitor = visitor.require(&[Role::Admin])?;
    let all = ctx.db.run(|c| users::list(c).map_err(crate::db::DbError::from)).await?;
    let users = all
        .into_iter()
        .map(|(u, held)| {
            let roles: Vec<String> = held.iter().map(|h| format!("{} ({})", h.role, h.source)).collect();
            UserRow {
                email: u.email,
                name: u.name,
                roles: if roles.is_empty() { "employee".into() } else { roles.join(", ") },
                last_sign_in_at: u.last_sign_in_at.map(|t| crate::time::format(&t)),
            }
        })
        .collect();
    let page = UsersPage {
        users,
        oidc: ctx.oidc.as_ref().map(|o| o.issuer().to_string()),
        csrf_token: visitor.csrf_token,
        signed_in_as: visitor.principal.name,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
    };
    render(StatusCode::OK, "users.html", &page)
}

/// The form granting a role.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantForm {
    email: String,
    role: Role,
}

/// Grants a role to a person (admins only); they keep it across sign-ins.
#[post("/settings/users")]
pub async fn grant_role(ctx: web::Data<Context>, form: FormPost<GrantForm>) -> Result<HttpResponse, PageError> {
    let visitor = form.visitor.require(&[Role::Admin])?;
    let GrantForm { email, role } = form.fields;
    let actor = visitor.principal.actor();
    ctx.db.run(move |c| users::grant(c, &actor, &email, role)).await?;
    Ok(see_other("/settings/users"))
}
