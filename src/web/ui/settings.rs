//! `/settings`: the approval policy text and the renewal reminder stages (inventory readers),
//! and API and calendar tokens (admins: create — the secret is shown once — and revoke).

use super::error::PageError;
use super::forms::Form;
use super::render;
use super::viewer::Viewer;
use crate::auth::{self, Role, TokenId, TokenScope};
use crate::context::Context;
use crate::web::access::{INVENTORY_READERS, TOKEN_ADMINS};
use crate::web::extract::path_id;
use crate::workflow;
use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;

async fn page(ctx: &Context, viewer: &Viewer, created: Option<auth::NewToken>) -> Result<HttpResponse, PageError> {
    let admin = viewer.has_any(TOKEN_ADMINS);
    let (policy, tokens) = ctx
        .db
        .run(move |c| {
            let policy = workflow::current_policy(c)?;
            let tokens = if admin { auth::list(c)? } else { Vec::new() };
            Ok::<_, PageError>((policy, tokens))
        })
        .await?;
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let ctx = minijinja::context! {
        title => "Settings", active => "/settings",
        policy, tokens, admin, roles, created,
        reminder_days => ctx.settings.reminder_days.clone(),
        public_url => ctx.settings.public_url(),
    };
    render::page(viewer, "settings.html", ctx)
}

/// The settings page.
#[get("/settings")]
pub async fn show(ctx: web::Data<Context>, viewer: Viewer) -> Result<HttpResponse, PageError> {
    viewer.require(INVENTORY_READERS)?;
    page(&ctx, &viewer, None).await
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    name: String,
    role: Role,
    email: Option<String>,
    scope: Option<TokenScope>,
}

/// Creates a token and shows its secret once.
#[post("/settings/tokens")]
pub async fn create_token(ctx: web::Data<Context>, viewer: Viewer, form: Form) -> Result<HttpResponse, PageError> {
    viewer.require(TOKEN_ADMINS)?;
    let f: TokenForm = form.parse(&viewer)?;
    let actor = viewer.decider.actor.clone();
    let created = ctx
        .db
        .run(move |c| auth::create(c, &actor, &f.name, f.role, f.email.as_deref(), f.scope.unwrap_or(TokenScope::Api)))
        .await?;
    page(&ctx, &viewer, Some(created)).await
}

/// Revokes a token.
#[post("/settings/tokens/{id}/revoke")]
pub async fn revoke_token(
    ctx: web::Data<Context>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    viewer.require(TOKEN_ADMINS)?;
    form.pairs(&viewer)?;
    let id: TokenId = path_id("token", &id)?;
    let actor = viewer.decider.actor.clone();
    ctx.db.run(move |c| auth::revoke(c, &actor, id)).await?;
    Ok(render::see_other("/settings"))
}
