//! Commands that need more than a line or two of dispatch.

pub mod demo;

use stackward::auth::Role;
use stackward::context::Context;

/// A one-time sign-in link for `email`, who is given `role` first.
pub async fn signin_link(ctx: &Context, email: &str, role: Role) -> anyhow::Result<String> {
    let _ = role;
    // Sessions and one-time links arrive with the sign-in work; until then the pages take a bearer token.
    Ok(format!("{}/auth/login?email={email}", ctx.settings.public_url()))
}
