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
/// the role is told 403 whatever they sent). A body sent as anything but `application/json`
/// is 415; text after the JSON value is 400 `malformed`; unknown fields, wrong types, bad
/// values and NUL characters are 400 `invalid` naming the field.
pub struct Json<T> {
    bytes: web::Bytes,
    /// Whether the request said its body is JSON.
    json_type: bool,
    _into: PhantomData<T>,
}

impl<T: DeserializeOwned> Json<T> {
    /// Parses the body.
    pub fn parse(&self) -> Result<T, ApiError> {
        if self.bytes.is_empty() {
            return Err(ApiError::Malformed("the request needs a JSON body".into()));
        }
        self.check_type()?;
        parse_json(&self.bytes)
    }

    /// Parses the body when there is one; an empty body is None.
    pub fn parse_optional(&self) -> Result<Option<T>, ApiError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        self.check_type()?;
        parse_json(&self.bytes).map(Some)
    }

    fn check_type(&self) -> Result<(), ApiError> {
        if self.json_type {
            return Ok(());
        }
        Err(ApiError::UnsupportedMediaType("send the body as Content-Type: application/json".into()))
    }
}

/// True for `application/json` and `application/…+json`, with any parameters.
fn is_json(req: &HttpRequest) -> bool {
    use actix_web::HttpMessage;
    match req.mime_type() {
        Ok(Some(m)) => {
            m.type_() == actix_web::mime::APPLICATION
                && (m.subtype() == actix_web::mime::JSON || m.suffix() == Some(actix_web::mime::JSON))
        }
        _ => false,
    }
}

fn field_error(path: String, message: String) -> ApiError {
    // At the top level serde reports an unknown or repeated field at path "."; name the field itself.
    let named = message.strip_prefix("unknown field `").or_else(|| message.strip_prefix("duplicate field `"));
    let field = match named.and_then(|m| m.split('`').next()) {
        Some(unknown) if path == "." => unknown.to_string(),
        _ => path,
    };
    ApiError::Invalid { field: Some(field).filter(|f| f != "."), message, row: None }
}

/// Parses a JSON body with the field path of any error: the whole body must be one JSON value,
/// and no text in it may hold a NUL character (PostgreSQL cannot store one, so neither backend does).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let malformed = |e: serde_json::Error| ApiError::Malformed(format!("the body is not valid JSON: {e}"));
    // A NUL can only arrive escaped (`\u0000`: raw control characters are not JSON); only then
    // is the body walked to name the field that holds it.
    if bytes.windows(6).any(|w| w == br"\u0000") {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(malformed)?;
        if let Some(path) = nul_path(&value, String::new()) {
            return Err(nul_refused(&path));
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => field_error(path, strip_position(&inner.to_string())),
            _ => malformed(inner),
        }
    })?;
    de.end().map_err(malformed)?;
    Ok(value)
}

fn nul_refused(field: &str) -> ApiError {
    let field = Some(field.to_string()).filter(|f| !f.is_empty());
    ApiError::Invalid { field, message: "must not contain a NUL character".into(), row: None }
}

/// The dotted path of the first key or string holding a NUL character.
fn nul_path(v: &serde_json::Value, at: String) -> Option<String> {
    let join = |key: &str| if at.is_empty() { key.to_string() } else { format!("{at}.{key}") };
    match v {
        serde_json::Value::String(s) if s.contains('\0') => Some(at),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, x)| nul_path(x, join(&i.to_string())))
        }
        serde_json::Value::Object(map) => {
            map.iter().find_map(
                |(k, x)| {
                    if k.contains('\0') {
                        Some(join(&k.replace('\0', "")))
                    } else {
                        nul_path(x, join(k))
                    }
                },
            )
        }
        _ => None,
    }
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
        let json_type = is_json(req);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| ApiError::Malformed(format!("the request body cannot be read: {e}")))?;
            Ok(Json { bytes, json_type, _into: PhantomData })
        })
    }
}

/// A query string, parsed when the handler asks (after its role check). Unknown parameters,
/// bad values and NUL characters are 400 `invalid` naming the parameter.
pub struct Query<T> {
    raw: String,
    _into: PhantomData<T>,
}

impl<T: DeserializeOwned> Query<T> {
    /// Parses the query string.
    pub fn parse(&self) -> Result<T, ApiError> {
        let pairs = form_urlencoded::parse(self.raw.as_bytes());
        if let Some((key, _)) = pairs.clone().find(|(k, v)| k.contains('\0') || v.contains('\0')) {
            return Err(nul_refused(&key.replace('\0', "")));
        }
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
        let secret = bearer_secret(req);
        let ctx = req.app_data::<web::Data<Context>>().cloned();
        let cookie = session::session_secret(req);
        // A browser's state-changing call must prove it comes from our pages (the origin is
        // checked by the middleware for every such request).
        let csrf = session::changes_state(req.method())
            .then(|| req.headers().get(session::CSRF_HEADER).and_then(|h| h.to_str().ok()).unwrap_or("").to_string());
        Box::pin(async move {
            let Some(secret) = secret? else {
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
            let ctx = ctx.ok_or(ApiError::Internal)?;
            let found = ctx
                .db
                .run(move |c| {
                    let principal = auth::authenticate(c, &secret, auth::TokenScope::Api)?;
                    let scope = match principal {
                        Some(_) => None,
                        None => auth::live_scope(c, &secret)?,
                    };
                    Ok::<_, auth::TokenError>((principal, scope))
                })
                .await?;
            match found {
                (Some(p), _) => Ok(Auth(p)),
                (None, Some(auth::TokenScope::Calendar)) => {
                    Err(ApiError::Forbidden("this token opens only the calendar feed".into()))
                }
                (None, Some(auth::TokenScope::Usage)) => {
                    Err(ApiError::Forbidden("this token only pushes usage (POST /api/v1/usage)".into()))
                }
                (None, _) => Err(ApiError::Unauthorized("the token is unknown or revoked".into())),
            }
        })
    }
}

/// The token of an `Authorization: Bearer TOKEN` header (the scheme in any case, RFC 7235);
/// none when there is no header, 401 when it is of another scheme.
pub fn bearer_secret(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(header) = req.headers().get("authorization") else { return Ok(None) };
    let header = header.to_str().unwrap_or_default().trim();
    let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthorized("the Authorization header must be Bearer TOKEN".into()));
    }
    Ok(Some(token.trim().to_string()))
}

/// The principal behind a request's bearer token, tried in each of `scopes` in turn, with the
/// scope it holds (for routes a narrow-scope token may use too, such as the usage push).
pub fn authenticate(
    req: &HttpRequest,
    scopes: &[auth::TokenScope],
) -> LocalBoxFuture<'static, Result<(Principal, auth::TokenScope), ApiError>> {
    let secret = bearer_secret(req);
    let ctx = req.app_data::<web::Data<Context>>().cloned();
    let scopes = scopes.to_vec();
    Box::pin(async move {
        let secret =
            secret?.ok_or_else(|| ApiError::Unauthorized("send an API token as Authorization: Bearer TOKEN".into()))?;
        let ctx = ctx.ok_or(ApiError::Internal)?;
        let found = ctx
            .db
            .run(move |c| {
                for scope in scopes {
                    if let Some(p) = auth::authenticate(c, &secret, scope)? {
                        return Ok(Some((p, scope)));
                    }
                }
                Ok::<_, auth::TokenError>(None)
            })
            .await?;
        found.ok_or_else(|| ApiError::Unauthorized("the token is unknown or revoked".into()))
    })
}

/// Parses a path id; one that is not a number is simply not found.
pub fn path_id<T: std::str::FromStr>(entity: &str, raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound(format!("{entity} {raw} not found")))
}
