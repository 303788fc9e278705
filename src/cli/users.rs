//! `users grant | revoke | list` and `signin-link`: who can sign in to the pages, their roles,
//! and one-time sign-in links printed for a person.

use crate::audit::Actor;
use crate::auth::{self, Role};
use crate::config::Settings;
use crate::db::Db;
use anyhow::bail;
use clap::Subcommand;

// What `stackward users` does (its doc comments are the --help text).
#[derive(Subcommand)]
pub enum UsersCommand {
    /// Give a person a role, kept across sign-ins (e.g. the first admin); creates them if unknown.
    Grant {
        /// Their email.
        email: String,
        /// admin, it, finance, security, approver, employee or auditor.
        #[arg(long)]
        role: Role,
    },
    /// Take away a role granted with `users grant` (roles from the identity provider follow its groups).
    Revoke {
        /// Their email.
        email: String,
        /// The role.
        #[arg(long)]
        role: Role,
    },
    /// List the people who can sign in, with their roles.
    List,
}

/// Runs `action`.
pub async fn run(db: &Db, action: UsersCommand) -> anyhow::Result<()> {
    let actor = Actor::cli();
    match action {
        UsersCommand::Grant { email, role } => {
            let user = db.run(move |c| auth::users::grant(c, &actor, &email, role)).await?;
            eprintln!("{} holds the {role} role", user.email);
        }
        UsersCommand::Revoke { email, role } => {
            let who = email.clone();
            if !db.run(move |c| auth::users::revoke(c, &actor, &who, role)).await? {
                bail!("{email} holds no {role} role granted here");
            }
            eprintln!("took the {role} role from {email}");
        }
        UsersCommand::List => {
            let all = db.run(|c| auth::users::list(c).map_err(crate::db::DbError::from)).await?;
            let mut out = std::io::stdout().lock();
            let mut rows = super::table::new(&["EMAIL", "ROLES", "LAST SIGN-IN"], &[]);
            for (user, held) in all {
                let roles: Vec<String> = held.iter().map(|h| format!("{} ({})", h.role, h.source)).collect();
                let roles = if roles.is_empty() { "employee".to_string() } else { roles.join(", ") };
                let last = user.last_sign_in_at.map(|t| crate::time::format(&t)).unwrap_or_else(|| "never".into());
                rows.add_row(vec![user.email, roles, last]);
            }
            super::table::write(&mut out, &rows)?;
        }
    }
    Ok(())
}

/// Prints a one-time sign-in URL for `email` that opens `next`.
pub async fn signin_link(settings: &Settings, db: &Db, email: String, next: String) -> anyhow::Result<()> {
    if settings.oidc_issuer_url.is_some() {
        eprintln!("note: single sign-on is configured; this link signs in without the identity provider");
    }
    let shown = email.trim().to_lowercase();
    let token = db.run(move |c| auth::links::create(c, &email, Some(&next), false)).await?;
    eprintln!("a one-time sign-in link for {shown}; it works once, for 15 minutes:");
    println!("{}/auth/link/{token}", settings.public_url());
    Ok(())
}
