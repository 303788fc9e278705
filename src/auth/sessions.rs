//! Browser sessions: a random id in an `HttpOnly` cookie, stored only as its hash, with an idle
//! and an absolute expiry; signing out deletes the row, so a copied cookie stops working too.
//! Each session has a CSRF token derived from its secret id (HMAC-SHA256), so the token needs
//! no storage and is worthless without the cookie.

use super::users::{self, UserId};
use super::{opaque, Principal, SignInError, Via};
use crate::audit::{self, Actor};
use crate::db::schema::sessions;
use crate::db::Conn;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

crate::id_type!(
    /// Id of a browser session (not its secret).
    SessionId
);

crate::text_enum!(
    /// How a session was signed in.
    SignInMethod {
        /// Through the OpenID Connect provider.
        Oidc => "oidc",
        /// With a one-time sign-in link.
        Link => "link",
    }
);

const PREFIX: &str = "sws_";

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute: Duration,
}

impl SessionLimits {
    /// The limits the settings name (at least a minute idle and an hour in all).
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        SessionLimits {
            idle: Duration::minutes(i64::from(settings.session_idle_minutes.max(1))),
            absolute: Duration::hours(i64::from(settings.session_max_hours.max(1))),
        }
    }
}

/// A session as stored, without its secret.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = sessions)]
struct Session {
    id: SessionId,
    user_id: UserId,
    method: SignInMethod,
    #[serde(with = "crate::time::rfc3339")]
    created_at: NaiveDateTime,
    #[serde(with = "crate::time::rfc3339")]
    last_seen_at: NaiveDateTime,
    #[serde(with = "crate::time::rfc3339")]
    expires_at: NaiveDateTime,
}

/// A new session: the secret for the cookie (never stored) and its id.
pub struct NewSession {
    /// The cookie value; shown to the browser only.
    pub secret: String,
    /// The stored session's id.
    pub id: SessionId,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Starts a session for `user`, recording the sign-in.
pub fn start(
    conn: &mut Conn,
    user: UserId,
    method: SignInMethod,
    limits: SessionLimits,
) -> Result<NewSession, SignInError> {
    let secret = opaque::generate(PREFIX);
    let now = crate::time::now();
    crate::db::write_tx(conn, |conn| {
        let id: SessionId = diesel::insert_into(sessions::table)
            .values((
                sessions::secret_hash.eq(opaque::hash(&secret)),
                sessions::user_id.eq(user),
                sessions::method.eq(method),
                sessions::created_at.eq(now),
                sessions::last_seen_at.eq(now),
                sessions::expires_at.eq(now + limits.absolute),
            ))
            .returning(sessions::id)
            .get_result(conn)?;
        let row: Session = sessions::table.find(id).select(Session::as_select()).first(conn)?;
        diesel::update(crate::db::schema::users::table.find(user))
            .set(crate::db::schema::users::last_sign_in_at.eq(Some(now)))
            .execute(conn)?;
        let email = users::find(conn, user)?.email;
        audit::record(conn, &Actor(format!("user:{email}")), "session.start", "session", row.id, None, Some(&row))?;
        Ok(NewSession { secret: secret.clone(), id: row.id })
    })
}

/// The principal of a live session, or none when the secret is unknown or the session expired
/// (an expired session is deleted). Touches the session at most once a minute.
pub fn authenticate(conn: &mut Conn, secret: &str, limits: SessionLimits) -> Result<Option<Principal>, SignInError> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    let found: Option<Session> = sessions::table
        .filter(sessions::secret_hash.eq(opaque::hash(secret)))
        .select(Session::as_select())
        .first(conn)
        .optional()?;
    let Some(s) = found else { return Ok(None) };
    let now = crate::time::now();
    if now >= s.expires_at || now - s.last_seen_at >= limits.idle {
        diesel::delete(sessions::table.find(s.id)).execute(conn)?;
        return Ok(None);
    }
    if now - s.last_seen_at > Duration::minutes(1) {
        diesel::update(sessions::table.find(s.id)).set(sessions::last_seen_at.eq(now)).execute(conn)?;
    }
    let user = users::find(conn, s.user_id)?;
    let roles = users::roles_held(conn, user.id)?.into_iter().map(|h| h.role).collect();
    Ok(Some(Principal::new(user.email.clone(), roles, Some(user.email), Via::Session(s.id))))
}

/// Ends the session with this secret (signing out); true when there was one.
pub fn end(conn: &mut Conn, secret: &str) -> Result<bool, SignInError> {
    crate::db::write_tx(conn, |conn| {
        let found: Option<Session> = sessions::table
            .filter(sessions::secret_hash.eq(opaque::hash(secret)))
            .select(Session::as_select())
            .first(conn)
            .optional()?;
        let Some(s) = found else { return Ok(false) };
        diesel::delete(sessions::table.find(s.id)).execute(conn)?;
        let email = users::find(conn, s.user_id)?.email;
        audit::record(conn, &Actor(format!("user:{email}")), "session.end", "session", s.id, Some(&s), None)?;
        Ok(true)
    })
}

/// Deletes expired sessions; returns how many.
pub fn purge_expired(conn: &mut Conn, limits: SessionLimits) -> QueryResult<usize> {
    let now = crate::time::now();
    diesel::delete(
        sessions::table.filter(sessions::expires_at.le(now).or(sessions::last_seen_at.le(now - limits.idle))),
    )
    .execute(conn)
}

fn csrf_mac(secret: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(b"stackward csrf v1");
    mac
}

/// The CSRF token of the session with this secret, to embed in its forms.
pub fn csrf_token(secret: &str) -> String {
    hex::encode(csrf_mac(secret).finalize().into_bytes())
}

/// True when `token` is the CSRF token of the session with this secret (compared in constant time).
pub fn csrf_matches(secret: &str, token: &str) -> bool {
    match hex::decode(token.trim()) {
        Ok(bytes) => csrf_mac(secret).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_token_belongs_to_its_session() {
        let a = opaque::generate(PREFIX);
        let b = opaque::generate(PREFIX);
        let t = csrf_token(&a);
        assert!(csrf_matches(&a, &t));
        assert!(!csrf_matches(&b, &t), "another session's token is refused");
        assert!(!csrf_matches(&a, "") && !csrf_matches(&a, "zz") && !csrf_matches(&a, &t[..10]));
        assert!(!t.contains(&a[PREFIX.len()..]));
    }
}
