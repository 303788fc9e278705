//! What a page answers when it cannot show what was asked: sign in first (303 to the sign-in
//! page and back), a 403 page saying the role may not see it, a 404 page, a page naming the
//! field a form got wrong, and a generic 500 page (the cause is logged, never shown).

use super::render;
use crate::web::ApiError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Signed out: sign in, then come back to this path.
    #[error("sign in first")]
    SignIn(String),
    /// The viewer's role may not see or do this.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// A form value was refused.
    #[error("{message}")]
    Invalid {
        /// The form field at fault.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The change clashes with the current state (e.g. a decision on a closed step).
    #[error("{0}")]
    Conflict(String),
    /// The database is unreachable or a service is not configured.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else; logged where it happened.
    #[error("internal error")]
    Internal,
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        match e {
            // A revoked or expired sign-in: start again from the home page.
            ApiError::Unauthorized(_) => PageError::SignIn("/".into()),
            ApiError::Invalid { field, message, .. } => PageError::Invalid { field, message },
            ApiError::Malformed(m) | ApiError::UnsupportedMediaType(m) => {
                PageError::Invalid { field: None, message: m }
            }
            ApiError::Forbidden(m) => PageError::Forbidden(m),
            ApiError::NotFound(m) => PageError::NotFound(m),
            ApiError::Conflict { message, .. } => PageError::Conflict(message),
            ApiError::Unavailable(m) => PageError::Unavailable(m),
            ApiError::Internal => PageError::Internal,
        }
    }
}

/// Maps any domain error through the API's one mapping.
macro_rules! via_api {
    ($($t:ty),*) => {$(
        impl From<$t> for PageError {
            fn from(e: $t) -> Self {
                PageError::from(ApiError::from(e))
            }
        }
    )*};
}
via_api!(
    crate::db::DbError,
    crate::inventory::InventoryError,
    crate::workflow::WorkflowError,
    crate::findings::store::FindingError,
    crate::sync::SyncError,
    crate::auth::TokenError,
    crate::stack_audit::StackAuditError
);

impl From<diesel::result::Error> for PageError {
    fn from(e: diesel::result::Error) -> Self {
        PageError::from(crate::db::DbError::from(e))
    }
}

impl From<minijinja::Error> for PageError {
    fn from(e: minijinja::Error) -> Self {
        tracing::error!(error = %e, "page template");
        PageError::Internal
    }
}

impl PageError {
    fn title(&self) -> &'static str {
        match self {
            PageError::SignIn(_) => "Sign in",
            PageError::Forbidden(_) => "Not allowed",
            PageError::NotFound(_) => "Not found",
            PageError::Invalid { .. } => "Please check the form",
            PageError::Conflict(_) => "Already changed",
            PageError::Unavailable(_) => "Unavailable",
            PageError::Internal => "Something went wrong",
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn(_) => StatusCode::SEE_OTHER,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Invalid { .. } => StatusCode::BAD_REQUEST,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::SignIn(next) = self {
            let to = format!(
                "/auth/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish();
        }
        let field = match self {
            PageError::Invalid { field, .. } => field.clone(),
            _ => None,
        };
        let ctx = minijinja::context! {
            title => self.title(),
            message => self.to_string(),
            field => field,
            status => self.status_code().as_u16(),
            narrow => true,
        };
        let body = render::standalone("error.html", ctx).unwrap_or_else(|_| self.to_string());
        HttpResponse::build(self.status_code()).content_type("text/html; charset=utf-8").body(body)
    }
}
