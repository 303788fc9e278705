//! API tokens. The secret is shown once at creation; only its SHA-256 hash is stored, which is
//! enough for 256-bit random secrets (no password stretching needed, as for crates.io tokens).

use super::{Principal, Role, Via};
use crate::audit::{self, Actor};
use crate::db::schema::api_tokens;
use crate::db::{Conn, DbError};
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

crate::id_type!(
    /// Id of an API token.
    TokenId
);

const PREFIX: &str = "sw_";

crate::text_enum!(
    /// What a token may be used for.
    TokenScope {
        /// The API, as a bearer token, within its role.
        Api => "api",
        /// Only the renewals calendar feed, passed in the feed's URL.
        Calendar => "calendar",
    }
);

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The name or email given is unusable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No token has that id.
    #[error("token {0} not found")]
    NotFound(TokenId),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for TokenError {
    fn from(e: diesel::result::Error) -> Self {
        TokenError::Db(DbError::Query(e))
    }
}

/// A token as listed: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    /// Token id.
    pub id: TokenId,
    /// What the token is for, e.g. `ci-import`.
    pub name: String,
    /// The role it grants.
    pub role: Role,
    /// The person it acts for, when it is personal.
    pub email: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// When it was created.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// When it was last used (to within a few minutes).
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<NaiveDateTime>,
    /// When it was revoked; a revoked token is refused.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<NaiveDateTime>,
    /// What it may be used for.
    pub scope: TokenScope,
}

/// A just-created token with its secret, which is never shown again.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    /// The token as stored.
    #[serde(flatten)]
    pub token: ApiToken,
    /// The bearer secret to send as `Authorization: Bearer …`.
    pub secret: String,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a token and returns it with its secret.
pub fn create(
    conn: &mut Conn,
    actor: &Actor,
    name: &str,
    role: Role,
    email: Option<&str>,
    scope: TokenScope,
) -> Result<NewToken, TokenError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(TokenError::Invalid { field: "name", message: "must be 1 to 200 characters".into() });
    }
    let mut email = email.map(str::to_string);
    crate::inventory::validate::optional_email("email", &mut email)
        .map_err(|e| TokenError::Invalid { field: "email", message: e.message })?;
    if role == Role::Employee && email.is_none() {
        let message = "an employee token must name the employee's email".into();
        return Err(TokenError::Invalid { field: "email", message });
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    crate::db::write_tx(conn, |conn| {
        let token: ApiToken = diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::name.eq(name),
                api_tokens::role.eq(role),
                api_tokens::email.eq(&email),
                api_tokens::token_hash.eq(hash(&secret)),
                api_tokens::created_by.eq(&actor.0),
                api_tokens::created_at.eq(crate::time::now()),
                api_tokens::scope.eq(scope),
            ))
            .returning((
                api_tokens::id,
                api_tokens::name,
                api_tokens::role,
                api_tokens::email,
                api_tokens::created_by,
                api_tokens::created_at,
                api_tokens::last_used_at,
                api_tokens::revoked_at,
                api_tokens::scope,
            ))
            .get_result(conn)?;
        audit::record(conn, actor, "token.create", "token", token.id, None, Some(&token))?;
        Ok(NewToken { token, secret })
    })
}

/// Every token, newest last.
pub fn list(conn: &mut Conn) -> Result<Vec<ApiToken>, TokenError> {
    Ok(api_tokens::table.order(api_tokens::id.asc()).select(ApiToken::as_select()).load(conn)?)
}

/// Revokes token `id`; revoking twice keeps the first time.
pub fn revoke(conn: &mut Conn, actor: &Actor, id: TokenId) -> Result<ApiToken, TokenError> {
    crate::db::write_tx(conn, |conn| {
        let before: ApiToken = api_tokens::table
            .find(id)
            .select(ApiToken::as_select())
            .first(conn)
            .optional()?
            .ok_or(TokenError::NotFound(id))?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        diesel::update(api_tokens::table.find(id))
            .set(api_tokens::revoked_at.eq(Some(crate::time::now())))
            .execute(conn)?;
        let after: ApiToken = api_tokens::table.find(id).select(ApiToken::as_select()).first(conn)?;
        audit::record(conn, actor, "token.revoke", "token", id, Some(&before), Some(&after))?;
        Ok(after)
    })
}

/// The principal for a secret used in `scope`, or none when it is unknown, revoked or of another scope.
pub fn authenticate(conn: &mut Conn, secret: &str, scope: TokenScope) -> Result<Option<Principal>, TokenError> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    let found: Option<ApiToken> = api_tokens::table
        .filter(api_tokens::token_hash.eq(hash(secret)))
        .filter(api_tokens::scope.eq(scope))
        .filter(api_tokens::revoked_at.is_null())
        .select(ApiToken::as_select())
        .first(conn)
        .optional()?;
    let Some(t) = found else { return Ok(None) };
    let now = crate::time::now();
    // Touch last_used_at at most every five minutes so reads do not each cost a write.
    if t.last_used_at.is_none_or(|last| now - last > chrono::Duration::minutes(5)) {
        diesel::update(api_tokens::table.find(t.id)).set(api_tokens::last_used_at.eq(Some(now))).execute(conn)?;
    }
    Ok(Some(Principal::new(t.name, vec![t.role], t.email, Via::Token(t.id))))
}
