//! Request extractors that answer bad input in the API's error shape: JSON and query strings
//! whose errors name the field, and the caller's principal (bearer token or session cookie).

use super::{session, ApiError};
use crate::auth::{self, Principal, Role};
use crate::context::Context;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// A JSON body, parsed only when the handler asks (after its role check, so a caller without
/// the role is told 403 whatever they sent). Unknown fields, wrong types and bad values are
/// 400 `invalid` naming the field.
pub struct Json<T> {
    bytes: web::Bytes,
    _into: PhantomData<T>,
}

impl<T: DeserializeOwned> Json<T> {
    /// Parses the body.
    pub fn parse(&self) -> Result<T, ApiError> {
        if self.bytes.is_empty() {
            return Err(ApiError::Malformed("the request needs a JSON body".into()));
        }
        parse_json(&self.bytes)
    }

    /// Parses the body when there is one; an empty body is None.
    pub fn parse_optional(&self) -> Result<Option<T>, ApiError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        parse_json(&self.bytes).map(Some)
    }
}

fn field_error(path: String, message: String) -> ApiError {
    // At the top level serde reports an unknown field at path "."; name the field itself.
    let field = match message.strip_prefix("unknown field `").and_then(|m| m.split('`').next()) {
        Some(unknown) if path == "." => unknown.to_string(),
        _ => path,
    };
    ApiError::Invalid { field: Some(field).filter(|f| f != "."), message, row: None }
}

/// Parses a JSON body with the field path of any error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => field_error(path, strip_position(&inner.to_string())),
            _ => ApiError::Malformed(format!("the body is not valid JSON: {inner}")),
        }
    })
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

impl<T: 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| ApiError::Malformed(format!("the request body cannot be read: {e}")))?;
            Ok(Json { bytes, _into: PhantomData })
        })
    }
}

/// A query string, parsed when the handler asks (after its role check). Unknown parameters
/// and bad values are 400 `invalid` naming the parameter.
pub struct Query<T> {
    raw: String,
    _into: PhantomData<T>,
}

impl<T: DeserializeOwned> Query<T> {
    /// Parses the query string.
    pub fn parse(&self) -> Result<T, ApiError> {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(self.raw.as_bytes()));
        serde_path_to_error::deserialize(de).map_err(|e| field_error(e.path().to_string(), e.into_inner().to_string()))
    }
}

impl<T> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Query { raw: req.query_string().to_string(), _into: PhantomData }))
    }
}

/// The caller, proven by a bearer token or a browser session; checked against a route's roles
/// with [`Auth::require`].
pub struct Auth(pub Principal);

impl Auth {
    /// The principal, if one of its roles is among `roles`; otherwise 403.
    pub fn require(self, roles: &[Role]) -> Result<Principal, ApiError> {
        if self.0.holds_any(roles) {
            return Ok(self.0);
        }
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let held: Vec<&str> = self.0.roles.iter().map(|r| r.as_str()).collect();
        let who =
            if held.len() == 1 { format!("the {} role", held[0]) } else { format!("the roles {}", held.join(", ")) };
        Err(ApiError::Forbidden(format!("{who} may not do this; it needs one of: {}", allowed.join(", "))))
    }
}

impl Auth {
    /// Authenticates a request's bearer token outside the extractor (for routes with another way in).
    pub async fn from_request_parts(req: &HttpRequest) -> Result<Self, ApiError> {
        <Self as FromRequest>::from_request(req, &mut Payload::None).await
    }
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = req.headers().get("authorization").and_then(|h| h.to_str().ok()).map(str::to_string);
        let ctx = req.app_data::<web::Data<Context>>().cloned();
        let cookie = session::session_secret(req);
        // A browser's state-changing call must prove it comes from our pages (the origin is
        // checked by the middleware for every such request).
        let csrf = session::changes_state(req.method())
            .then(|| req.headers().get(session::CSRF_HEADER).and_then(|h| h.to_str().ok()).unwrap_or("").to_string());
        Box::pin(async move {
            let Some(header) = header else {
                let Some(secret) = cookie else {
                    return Err(ApiError::Unauthorized("send an API token as Authorization: Bearer TOKEN".into()));
                };
                if csrf.as_deref().is_some_and(|token| !auth::sessions::csrf_matches(&secret, token)) {
                    return Err(ApiError::Forbidden(format!(
                        "a signed-in browser must send the session's CSRF token in the {} header",
                        session::CSRF_HEADER
                    )));
                }
                let ctx = ctx.ok_or(ApiError::Internal)?;
                let limits = auth::SessionLimits::from_settings(&ctx.settings);
                let found = ctx.db.run(move |c| auth::sessions::authenticate(c, &secret, limits)).await?;
                return found
                    .map(Auth)
                    .ok_or_else(|| ApiError::Unauthorized("the session has ended; sign in again".into()));
            };
            let Some(secret) = header.strip_prefix("Bearer ").map(|s| s.trim().to_string()) else {
                return Err(ApiError::Unauthorized("the Authorization header must be Bearer TOKEN".into()));
            };
            let ctx = ctx.ok_or(ApiError::Internal)?;
            let found = ctx.db.run(move |c| auth::authenticate(c, &secret, auth::TokenScope::Api)).await?;
            found.map(Auth).ok_or_else(|| ApiError::Unauthorized("the token is unknown or revoked".into()))
        })
    }
}

/// Parses a path id; one that is not a number is simply not found.
pub fn path_id<T: std::str::FromStr>(entity: &str, raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound(format!("{entity} {raw} not found")))
}
