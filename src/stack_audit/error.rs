//! What can go wrong in audits, access reviews and check-ins, with no HTTP in it.

use crate::db::DbError;

/// An error of the quarterly audit area.
#[derive(Debug, thiserror::Error)]
pub enum StackAuditError {
    /// A field's value broke a rule (400).
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The caller may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The audit, review, item or check-in does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// A clash with the current state, e.g. deciding on a closed review (409).
    #[error("{0}")]
    Conflict(String),
    /// Writing the pack failed.
    #[error("writing the audit pack failed: {0}")]
    Pack(String),
    /// A workflow step (the reclaim request) failed.
    #[error(transparent)]
    Workflow(#[from] crate::workflow::WorkflowError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl StackAuditError {
    /// A field-level validation failure.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        StackAuditError::Invalid { field: field.to_string(), message: message.into() }
    }
}

impl From<diesel::result::Error> for StackAuditError {
    fn from(e: diesel::result::Error) -> Self {
        StackAuditError::Db(DbError::Query(e))
    }
}

impl From<crate::inventory::InventoryError> for StackAuditError {
    fn from(e: crate::inventory::InventoryError) -> Self {
        use crate::inventory::InventoryError;
        match e {
            InventoryError::Invalid(i) => StackAuditError::Invalid { field: i.field, message: i.message },
            e @ InventoryError::NotFound { .. } => StackAuditError::NotFound(e.to_string()),
            InventoryError::Conflict { message, .. } => StackAuditError::Conflict(message),
            InventoryError::Db(db) => StackAuditError::Db(db),
        }
    }
}

impl From<std::io::Error> for StackAuditError {
    fn from(e: std::io::Error) -> Self {
        StackAuditError::Pack(e.to_string())
    }
}

/// Results of this area.
pub type Result<T> = std::result::Result<T, StackAuditError>;
