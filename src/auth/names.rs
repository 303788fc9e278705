//! Who people are, in words a person reads: the name behind an audit actor (`token:…`,
//! `user:…`, `cli:…`) or an email; and who mail for `person:…` and `role:…` entries reaches.

use super::Role;
use crate::db::schema::{api_tokens, people, user_roles, users};
use crate::db::Conn;
use diesel::prelude::*;

/// The name of the person with `email`: their directory name, else the name their sign-in gave.
pub fn of_email(conn: &mut Conn, email: &str) -> QueryResult<Option<String>> {
    let email = email.trim().to_lowercase();
    let person: Option<String> =
        people::table.filter(people::email.eq(&email)).select(people::name).first(conn).optional()?;
    if let Some(name) = person.filter(|n| !n.trim().is_empty()) {
        return Ok(Some(name));
    }
    let user: Option<Option<String>> =
        users::table.filter(users::email.eq(&email)).select(users::name).first(conn).optional()?;
    Ok(user.flatten().filter(|n| !n.trim().is_empty()))
}

/// "Name <email>" when the person's name is known, else the email.
pub fn person(conn: &mut Conn, email: &str) -> QueryResult<String> {
    Ok(match of_email(conn, email)? {
        Some(name) => format!("{name} <{}>", email.trim().to_lowercase()),
        None => email.trim().to_lowercase(),
    })
}

/// The person behind an audit actor, by name where one is known: `user:kim@…` → "Kim Lee";
/// `token:ci` acting for an email → that person's name; a token for nobody → "API token ci";
/// `cli:root` → "root (command line)".
pub fn of_actor(conn: &mut Conn, actor: &str) -> QueryResult<String> {
    let email = match actor.split_once(':') {
        Some(("user", email)) => Some(email.to_string()),
        Some(("token", name)) => {
            let email: Option<Option<String>> = api_tokens::table
                .filter(api_tokens::name.eq(name))
                .order(api_tokens::id.desc())
                .select(api_tokens::email)
                .first(conn)
                .optional()?;
            match email.flatten() {
                Some(e) => Some(e),
                None => return Ok(format!("API token {name}")),
            }
        }
        Some(("cli", user)) => return Ok(format!("{user} (command line)")),
        _ => None,
    };
    match email {
        Some(e) => Ok(of_email(conn, &e)?.unwrap_or(e)),
        None => Ok(actor.to_string()),
    }
}

/// Everyone who holds `role`: users granted it here or by the identity provider, and the people
/// live API tokens with that role act for; lower-case, each once, in order.
pub fn emails_with_role(conn: &mut Conn, role: Role) -> QueryResult<Vec<String>> {
    let mut out: Vec<String> = users::table
        .inner_join(user_roles::table)
        .filter(user_roles::role.eq(role))
        .select(users::email)
        .distinct()
        .order(users::email.asc())
        .load(conn)?;
    let from_tokens: Vec<String> = api_tokens::table
        .filter(api_tokens::role.eq(role))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::scope.eq(super::TokenScope::Api))
        .filter(api_tokens::email.is_not_null())
        .select(api_tokens::email.assume_not_null())
        .order(api_tokens::id.asc())
        .load(conn)?;
    for e in from_tokens.into_iter().map(|e| e.to_lowercase()) {
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

/// The addresses behind approver or reviewer entries: `person:EMAIL` is that person, `role:ROLE`
/// everyone holding the role ([`emails_with_role`]). Entries nobody can be reached for are left
/// out with a warning; each address once, lower-case.
pub fn addresses(conn: &mut Conn, entries: &[String]) -> QueryResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for entry in entries {
        let found: Vec<String> = match entry.split_once(':') {
            Some(("person", e)) => vec![e.to_lowercase()],
            Some(("role", r)) => match r.parse::<Role>() {
                Ok(role) => emails_with_role(conn, role)?,
                Err(_) => Vec::new(),
            },
            _ => Vec::new(),
        };
        if found.is_empty() {
            tracing::warn!(%entry, "nobody to mail for this entry: grant the role to someone (`stackward users grant`) or map it from single sign-on");
        }
        for e in found {
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    Ok(out)
}
