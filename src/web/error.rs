//! The one mapping from domain errors to HTTP: stable snake_case codes, one exhaustive match for
//! statuses, and a body of `{"error":{"code","message","field"}}`. Database and internal causes
//! are logged and answered with a generic message, never shown.

use crate::auth::TokenError;
use crate::db::DbError;
use crate::inventory::transfer::TransferError;
use crate::inventory::InventoryError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// An error answered by the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `invalid`: a field's value broke a rule.
    #[error("{message}")]
    Invalid {
        /// The field (or CSV column) at fault.
        field: Option<String>,
        /// What is wrong.
        message: String,
        /// The CSV data row at fault (1 = first row after the header).
        row: Option<usize>,
    },
    /// 400 `malformed`: the body could not be parsed at all.
    #[error("{0}")]
    Malformed(String),
    /// 401 `unauthorized`: no token, or an unknown or revoked one.
    #[error("{0}")]
    Unauthorized(String),
    /// 403 `forbidden`: the token's role or person may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `not_found`.
    #[error("{0}")]
    NotFound(String),
    /// 409 `conflict`: a duplicate or a clash with the current state.
    #[error("{message}")]
    Conflict {
        /// The field whose value collides.
        field: Option<String>,
        /// What collides.
        message: String,
    },
    /// 503 `unavailable`: the database cannot be reached, or a needed service is not configured.
    #[error("{0}")]
    Unavailable(String),
    /// 500 `internal`: logged with its cause, answered without it.
    #[error("internal error")]
    Internal,
}

/// The body every error is answered with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`code`, `field`) and people (`message`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code: invalid, malformed, unauthorized, forbidden, not_found, conflict, unavailable, internal.
    pub code: &'static str,
    /// A sentence a person can act on.
    pub message: String,
    /// The field or CSV column at fault, when one is.
    pub field: Option<String>,
    /// For CSV imports, the data row at fault (1 = first row after the header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
}

impl ApiError {
    /// A field-level validation failure.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid { field: Some(field.to_string()), message: message.into(), row: None }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid { .. } => "invalid",
            ApiError::Malformed(_) => "malformed",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict { .. } => "conflict",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal => "internal",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } | ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (field, row) = match self {
            ApiError::Invalid { field, row, .. } => (field.clone(), *row),
            ApiError::Conflict { field, .. } => (field.clone(), None),
            _ => (None, None),
        };
        let body = ErrorBody { error: ErrorDetail { code: self.code(), message: self.to_string(), field, row } };
        let mut resp = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized(_)) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        resp.json(body)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                ApiError::Unavailable("the database is unavailable; try again shortly".into())
            }
            other => {
                tracing::error!(error = %other, "database error");
                ApiError::Internal
            }
        }
    }
}

impl From<InventoryError> for ApiError {
    fn from(e: InventoryError) -> Self {
        match e {
            InventoryError::Invalid(i) => ApiError::Invalid { field: Some(i.field), message: i.message, row: None },
            e @ InventoryError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            InventoryError::Conflict { field, message } => ApiError::Conflict { field: Some(field.into()), message },
            InventoryError::Db(db) => db.into(),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid { field, message } => ApiError::invalid(field, message),
            e @ TokenError::NotFound(_) => ApiError::NotFound(e.to_string()),
            TokenError::Db(db) => db.into(),
        }
    }
}

impl From<crate::findings::store::FindingError> for ApiError {
    fn from(e: crate::findings::store::FindingError) -> Self {
        use crate::findings::store::FindingError;
        match e {
            FindingError::Invalid { field, message } => ApiError::invalid(field, message),
            e @ FindingError::NotFound(_) => ApiError::NotFound(e.to_string()),
            FindingError::Db(db) => db.into(),
        }
    }
}

impl From<crate::sync::SyncError> for ApiError {
    fn from(e: crate::sync::SyncError) -> Self {
        use crate::connectors::ConnectorError;
        use crate::sync::SyncError;
        match e {
            SyncError::Invalid { field, message } => ApiError::Invalid { field: Some(field), message, row: None },
            e @ SyncError::NotFound(..) => ApiError::NotFound(e.to_string()),
            SyncError::Conflict { field, message } => ApiError::Conflict { field: Some(field), message },
            SyncError::Connector(
                c @ (ConnectorError::Unauthorized(_) | ConnectorError::Upstream { .. } | ConnectorError::Network(_)),
            ) => ApiError::Invalid { field: None, message: c.to_string(), row: None },
            SyncError::Connector(c) => ApiError::Invalid { field: None, message: c.to_string(), row: None },
            SyncError::Secret(s) => {
                tracing::error!(error = %s, "connection secrets");
                ApiError::Internal
            }
            SyncError::Db(db) => db.into(),
        }
    }
}

impl From<TransferError> for ApiError {
    fn from(e: TransferError) -> Self {
        match e {
            TransferError::Cell { row, column, message } => {
                ApiError::Invalid { field: Some(column), message: format!("row {row}: {message}"), row: Some(row) }
            }
            TransferError::Header { column, message } => {
                ApiError::Invalid { field: Some(column), message: format!("header: {message}"), row: None }
            }
            TransferError::Malformed(m) => ApiError::Malformed(m),
            TransferError::Inventory(i) => i.into(),
            TransferError::Io(e) => {
                tracing::error!(error = %e, "CSV I/O failed");
                ApiError::Internal
            }
        }
    }
}

impl From<crate::workflow::WorkflowError> for ApiError {
    fn from(e: crate::workflow::WorkflowError) -> Self {
        use crate::workflow::WorkflowError;
        match e {
            WorkflowError::Invalid { field, message } => ApiError::Invalid { field: Some(field), message, row: None },
            WorkflowError::Forbidden(m) => ApiError::Forbidden(m),
            WorkflowError::NotFound(m) => ApiError::NotFound(m),
            WorkflowError::Conflict(message) => ApiError::Conflict { field: None, message },
            WorkflowError::Inventory(i) => i.into(),
            WorkflowError::Db(db) => db.into(),
        }
    }
}

impl From<crate::auth::SignInError> for ApiError {
    fn from(e: crate::auth::SignInError) -> Self {
        use crate::auth::SignInError;
        match e {
            SignInError::Invalid { field, message } => ApiError::invalid(field, message),
            SignInError::Db(db) => db.into(),
        }
    }
}
