//! Auth: roles, API tokens (shown once, stored as SHA-256 hashes, revocable), the people who
//! sign in to the pages with their roles, browser sessions with CSRF tokens, one-time sign-in
//! links, OpenID Connect single sign-on, and the principal a request acts as.

mod error;
pub mod links;
pub mod names;
pub mod oidc;
mod opaque;
mod principal;
mod roles;
pub mod secrets;
pub mod sessions;
mod tokens;
pub mod users;

pub use error::SignInError;
pub use oidc::{Oidc, OidcError};
pub use principal::{Principal, Via};
pub use roles::Role;
pub use secrets::{SecretBox, SecretError, Secrets};
pub use sessions::{SessionId, SessionLimits, SignInMethod};
pub use tokens::{authenticate, create, list, live_scope, revoke, ApiToken, NewToken, TokenError, TokenId, TokenScope};
pub use users::{User, UserId};
