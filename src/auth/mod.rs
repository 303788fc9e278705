//! Auth: roles, API tokens (shown once, stored as SHA-256 hashes, revocable) and the
//! principal a request acts as.

mod roles;
pub mod secrets;
mod tokens;

pub use roles::Role;
pub use secrets::{SecretBox, SecretError, Secrets};
pub use tokens::{
    authenticate, create, list, live_scope, revoke, ApiToken, NewToken, Principal, TokenError, TokenId, TokenScope,
};
