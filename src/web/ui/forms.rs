//! Form posts: the body read once, its CSRF token checked, blank fields dropped (a blank
//! input means "not given"), and the rest parsed into the handler's type with errors naming
//! the field. Also the query-string helpers pages share (page links).

use super::error::PageError;
use super::viewer::Viewer;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// The name of the hidden field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// A submitted form, parsed after the viewer's role check and CSRF check.
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// The form's values, once its CSRF token is the viewer's session token.
    pub fn parse<T: DeserializeOwned>(&self, viewer: &Viewer) -> Result<T, PageError> {
        decode(&self.pairs(viewer)?)
    }

    /// Every value of the repeated field `list` (a column of checkboxes), and the other fields
    /// parsed into `T`, once the CSRF token is checked.
    pub fn parse_with_list<T: DeserializeOwned>(
        &self,
        viewer: &Viewer,
        list: &str,
    ) -> Result<(Vec<String>, T), PageError> {
        let (listed, rest): (Vec<_>, Vec<_>) = self.pairs(viewer)?.into_iter().partition(|(k, _)| *k == list);
        Ok((listed.into_iter().map(|(_, v)| v.to_string()).collect(), decode(&rest)?))
    }
}

/// Parses name/value pairs into `T`; a bad value names its field.
fn decode<K: AsRef<str>, V: AsRef<str>, T: DeserializeOwned>(pairs: &[(K, V)]) -> Result<T, PageError> {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
    let encoded = serde_urlencoded::to_string(pairs).map_err(|_| PageError::Internal)?;
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        PageError::Invalid { field: Some(field).filter(|f| f != "."), message: e.into_inner().to_string() }
    })
}

impl Form {
    /// The non-blank fields other than the CSRF token, once the token is checked.
    pub fn pairs(&self, viewer: &Viewer) -> Result<Vec<(&str, &str)>, PageError> {
        let sent = self.pairs.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.as_str()).unwrap_or("");
        if !viewer.csrf_ok(sent) {
            return Err(PageError::Forbidden(
                "the form's security token is missing or stale; reload the page and try again".into(),
            ));
        }
        Ok(self
            .pairs
            .iter()
            .filter(|(k, v)| k != CSRF_FIELD && !v.trim().is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect())
    }
}

impl FromRequest for Form {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body
                .await
                .map_err(|_| PageError::Invalid { field: None, message: "the form cannot be read".into() })?;
            let pairs = form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            Ok(Form { pairs })
        })
    }
}

/// Parses a page's query string (unknown parameters are ignored; a bad value names its parameter).
pub fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, PageError> {
    let kept: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    decode(&kept)
}

/// The link to the next page: this page's query with `cursor` replaced.
pub fn next_href(req: &HttpRequest, next_cursor: Option<String>) -> Option<String> {
    let cursor = next_cursor?;
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k != "cursor" {
            out.append_pair(&k, &v);
        }
    }
    out.append_pair("cursor", &cursor);
    Some(format!("{}?{}", req.path(), out.finish()))
}

/// A page size and cursor from a query, as the API reads them.
pub fn page(cursor: Option<&str>, limit: i64) -> Result<crate::db::Page, PageError> {
    Ok(crate::web::paging::page(Some(limit), cursor)?)
}

/// The cursor that continues after `next`, in the API's encoding.
pub fn cursor(next: Option<i64>) -> Option<String> {
    crate::web::paging::list_of(Vec::<()>::new(), next).next_cursor
}
