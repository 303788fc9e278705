//! Commands that need more than a line or two of dispatch.

pub mod demo;

use stackward::audit::Actor;
use stackward::auth::{self, Role};
use stackward::context::Context;

/// A one-time sign-in link (valid 15 minutes) for `email`, who is granted `role` first.
pub async fn signin_link(ctx: &Context, email: &str, role: Role) -> anyhow::Result<String> {
    let who = email.to_string();
    let token = ctx
        .db
        .run(move |c| -> anyhow::Result<String> {
            auth::users::grant(c, &Actor("demo".into()), &who, role)?;
            Ok(auth::links::create(c, &who, Some("/"), false)?)
        })
        .await?;
    Ok(format!("{}/auth/link/{token}", ctx.settings.public_url()))
}
