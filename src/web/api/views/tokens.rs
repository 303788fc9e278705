//! Token bodies: a token as listed (never its secret or hash), and a new one with its secret.

use crate::auth::{self, Role, TokenId, TokenScope};
use chrono::NaiveDateTime;
use serde::Serialize;

/// A token as listed: never its secret or hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

impl From<auth::ApiToken> for ApiToken {
    fn from(r: auth::ApiToken) -> Self {
        ApiToken {
            id: r.id,
            name: r.name,
            role: r.role,
            email: r.email,
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            scope: r.scope,
        }
    }
}

/// A just-created token with its secret, which is never shown again.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewToken {
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
    /// The bearer secret to send as `Authorization: Bearer …`.
    pub secret: String,
}

impl From<auth::NewToken> for NewToken {
    fn from(t: auth::NewToken) -> Self {
        let r = t.token;
        NewToken {
            id: r.id,
            name: r.name,
            role: r.role,
            email: r.email,
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            scope: r.scope,
            secret: t.secret,
        }
    }
}
