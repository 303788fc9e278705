//! `FormPost<T>`: a state-changing form from a signed-in person's page. The origin was checked
//! by the middleware; here the session's CSRF token (field `csrf_token`) is checked, then the
//! other fields are parsed into `T`. Without the token nothing is parsed and nothing changes.

use super::visitor::return_path;
use super::{PageError, Visitor};
use crate::auth;
use crate::web::session::{self, CSRF_FIELD};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// Form bodies are small; a larger one is refused rather than buffered.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// A checked form post: who sent it and its fields.
pub struct FormPost<T> {
    /// The signed-in sender.
    pub visitor: Visitor,
    /// The fields, without the CSRF token.
    pub fields: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for FormPost<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let visitor = Visitor::of(&req, return_path(&req)).await?;
            let bytes = body.await.map_err(|_| PageError::Invalid("the form could not be read".into()))?;
            if bytes.len() > MAX_FORM_BYTES {
                return Err(PageError::Invalid("the form is too large".into()));
            }
            let (fields, token) = split_token(&bytes);
            let secret = session::session_secret(&req).ok_or(PageError::BadForm)?;
            if !token.is_some_and(|t| auth::sessions::csrf_matches(&secret, &t)) {
                return Err(PageError::BadForm);
            }
            let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(fields.as_bytes()));
            let fields = serde_path_to_error::deserialize(de).map_err(|e| {
                PageError::Invalid(format!("{}: {}", e.path(), e.inner()).trim_start_matches(".: ").to_string())
            })?;
            Ok(FormPost { visitor, fields })
        })
    }
}

/// The form without its CSRF field, and the field's value.
fn split_token(body: &[u8]) -> (String, Option<String>) {
    let mut token = None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(body) {
        if k == CSRF_FIELD {
            token = Some(v.into_owned());
        } else {
            rest.append_pair(&k, &v);
        }
    }
    (rest.finish(), token)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_token_is_taken_out_of_the_fields() {
        let (rest, token) = super::split_token(b"name=Fig+ma&csrf_token=abc&seats=3");
        assert_eq!(token.as_deref(), Some("abc"));
        assert_eq!(rest, "name=Fig+ma&seats=3");
        assert_eq!(super::split_token(b"a=1").1, None);
    }
}
