//! The workflow's errors; the web layer maps them to HTTP statuses.

use crate::db::DbError;
use crate::inventory::InventoryError;

/// Why a workflow operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// Input broke a rule (a request field, or a policy that does not load); nothing changed.
    #[error("{message}")]
    Invalid {
        /// The field at fault (`policy` for a policy file).
        field: String,
        /// What is wrong, with the line and column for a policy file.
        message: String,
    },
    /// The caller is not the person or role this needs (self-approval, not an approver).
    #[error("{0}")]
    Forbidden(String),
    /// The request does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request or step is closed to this action (decided, cancelled, done).
    #[error("{0}")]
    Conflict(String),
    /// An outcome's inventory change was refused or failed.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for WorkflowError {
    fn from(e: diesel::result::Error) -> Self {
        WorkflowError::Db(DbError::Query(e))
    }
}

impl WorkflowError {
    /// Invalid input in `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        WorkflowError::Invalid { field: field.to_string(), message: message.into() }
    }
}

/// Result of a workflow operation.
pub type Result<T> = std::result::Result<T, WorkflowError>;
