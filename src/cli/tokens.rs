//! `token create | list | revoke`: API tokens from the command line.

use crate::audit::Actor;
use crate::auth::{self, Role, TokenId};
use crate::db::Db;
use anyhow::bail;
use clap::Subcommand;

// What `stackward token` does (its doc comments are the --help text).
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret alone on stdout (it is not shown again).
    Create {
        /// The role it grants: admin, it, finance, security, approver, employee, auditor.
        #[arg(long)]
        role: Role,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// The person it acts for (required for employee tokens).
        #[arg(long)]
        email: Option<String>,
        /// A token only for the renewals calendar feed (GET /api/v1/renewals.ics?token=…).
        #[arg(long)]
        calendar: bool,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke {
        /// The token's id.
        id: TokenId,
    },
}

/// Runs `action`.
pub async fn run(db: &Db, action: TokenCommand) -> anyhow::Result<()> {
    let actor = Actor::cli();
    match action {
        TokenCommand::Create { role, name, email, calendar } => {
            let scope = if calendar { auth::TokenScope::Calendar } else { auth::TokenScope::Api };
            let t = db.run(move |c| auth::create(c, &actor, &name, role, email.as_deref(), scope)).await?;
            eprintln!("created token {} ({}, role {}); it is shown once:", t.token.id, t.token.name, t.token.role);
            println!("{}", t.secret);
        }
        TokenCommand::List => {
            let tokens = db.run(auth::list).await?;
            let mut out = std::io::stdout().lock();
            let mut rows = super::table::new(&["ID", "ROLE", "NAME", "EMAIL", "STATUS"], &[]);
            for t in tokens {
                let status = if t.revoked_at.is_some() { "revoked" } else { "active" };
                let email = t.email.unwrap_or_default();
                rows.add_row(vec![t.id.to_string(), t.role.to_string(), t.name, email, status.to_string()]);
            }
            super::table::write(&mut out, &rows)?;
        }
        TokenCommand::Revoke { id } => match db.run(move |c| auth::revoke(c, &actor, id)).await {
            Ok(t) => eprintln!("revoked token {} ({})", t.id, t.name),
            Err(auth::TokenError::NotFound(id)) => bail!("no token has id {id}"),
            Err(e) => return Err(e.into()),
        },
    }
    Ok(())
}
