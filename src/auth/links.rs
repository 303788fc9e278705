//! One-time sign-in links: `stackward signin-link` prints one, and the sign-in page can mail
//! one. A link works once, for 15 minutes; only its hash is stored.

use super::users::{self, User, UserId};
use super::{opaque, SignInError};
use crate::db::schema::signin_links;
use crate::db::Conn;
use chrono::Duration;
use diesel::prelude::*;

const PREFIX: &str = "swl_";

/// How long a sign-in link works.
pub const LINK_LIFETIME: Duration = Duration::minutes(15);

/// A link that was used: who signs in, and where they go next.
#[derive(Debug, Clone)]
pub struct UsedLink {
    /// The person signing in.
    pub user: User,
    /// The local path to go to after signing in.
    pub next: String,
}

/// `next` when it is a path on this site, else `/` (a link must never lead elsewhere).
pub fn local_path(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(p)
            if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control) =>
        {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Makes a link token for `email` (creating the user when unknown), leading to `next`.
/// `mailed` links ask for a click before signing in, as mail scanners open links.
pub fn create(conn: &mut Conn, email: &str, next: Option<&str>, mailed: bool) -> Result<String, SignInError> {
    let token = opaque::generate(PREFIX);
    crate::db::write_tx(conn, |conn| {
        let user = users::find_or_create(conn, email, None)?;
        let now = crate::time::now();
        diesel::insert_into(signin_links::table)
            .values((
                signin_links::token_hash.eq(opaque::hash(&token)),
                signin_links::user_id.eq(user.id),
                signin_links::next_path.eq(local_path(next)),
                signin_links::mailed.eq(mailed),
                signin_links::created_at.eq(now),
                signin_links::expires_at.eq(now + LINK_LIFETIME),
            ))
            .execute(conn)?;
        Ok(token.clone())
    })
}

/// For a link that still works: its user's email and whether it was mailed. Uses nothing up.
pub fn peek(conn: &mut Conn, token: &str) -> QueryResult<Option<(String, bool)>> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let found: Option<(UserId, bool)> = signin_links::table
        .filter(signin_links::token_hash.eq(opaque::hash(token)))
        .filter(signin_links::used_at.is_null())
        .filter(signin_links::expires_at.gt(crate::time::now()))
        .select((signin_links::user_id, signin_links::mailed))
        .first(conn)
        .optional()?;
    match found {
        Some((user, mailed)) => Ok(Some((users::find(conn, user)?.email, mailed))),
        None => Ok(None),
    }
}

/// Uses a link up: the one caller that marks it used gets its user; every other gets none.
pub fn consume(conn: &mut Conn, token: &str) -> QueryResult<Option<UsedLink>> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let now = crate::time::now();
    let hash = opaque::hash(token);
    crate::db::write_tx(conn, |conn| {
        // A compare-and-set: of two clicks at once, only one updates the row.
        let taken = diesel::update(
            signin_links::table
                .filter(signin_links::token_hash.eq(&hash))
                .filter(signin_links::used_at.is_null())
                .filter(signin_links::expires_at.gt(now)),
        )
        .set(signin_links::used_at.eq(Some(now)))
        .execute(conn)?;
        if taken == 0 {
            return Ok(None);
        }
        let (user, next): (UserId, String) = signin_links::table
            .filter(signin_links::token_hash.eq(&hash))
            .select((signin_links::user_id, signin_links::next_path))
            .first(conn)?;
        Ok(Some(UsedLink { user: users::find(conn, user)?, next }))
    })
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(local_path(Some("/requests/4?x=1")), "/requests/4?x=1");
        for bad in ["https://evil.example", "//evil.example/x", "/\\evil.example", "", "relative", "/a\nb"] {
            assert_eq!(local_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(local_path(None), "/");
    }
}
