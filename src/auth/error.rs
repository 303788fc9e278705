//! Why a sign-in, session or user operation failed.

use crate::db::DbError;

/// Why a sign-in, session or user operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// An email or other input is unusable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for SignInError {
    fn from(e: diesel::result::Error) -> Self {
        SignInError::Db(DbError::Query(e))
    }
}
