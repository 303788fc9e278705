//! The inventory's errors; the web layer maps them to HTTP statuses.

use super::validate::Invalid;
use crate::db::DbError;

/// Why an inventory operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// Input broke a rule; nothing was changed.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The named record does not exist.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Kind of record: app, subscription, person, account.
        entity: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The change collides with existing data (a duplicate key).
    #[error("{message}")]
    Conflict {
        /// The field whose value collides.
        field: &'static str,
        /// What collides with what.
        message: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for InventoryError {
    fn from(e: diesel::result::Error) -> Self {
        InventoryError::Db(DbError::Query(e))
    }
}

impl InventoryError {
    /// Not found, for `entity` with `id`.
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        InventoryError::NotFound { entity, id: id.to_string() }
    }

    /// Maps a unique violation to a conflict on `field`; other errors pass through.
    pub fn conflict_on(field: &'static str, message: impl Into<String>) -> impl FnOnce(diesel::result::Error) -> Self {
        let message = message.into();
        move |e| {
            if crate::db::is_unique_violation(&e) {
                InventoryError::Conflict { field, message }
            } else {
                e.into()
            }
        }
    }
}

/// Result of an inventory operation.
pub type Result<T> = std::result::Result<T, InventoryError>;
