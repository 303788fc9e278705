//! Cursor pagination for list routes: `limit` and an opaque `cursor` in, `next_cursor` out.

use super::ApiError;
use crate::db::Page;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

/// Rows per page when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 50;
/// Most rows one page may ask for.
pub const MAX_LIMIT: i64 = 500;

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListOf<T> {
    /// The records, in id order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The page a request asks for, refusing a bad `limit` or `cursor`.
pub fn page(limit: Option<i64>, cursor: Option<&str>) -> Result<Page, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    let after = match cursor.filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("after:").and_then(|n| n.parse::<i64>().ok()))
            .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this server gave out"))?,
    };
    Ok(Page { after, limit })
}

/// Wraps rows and the id to continue after into a list body.
pub fn list_of<T>(items: Vec<T>, next: Option<i64>) -> ListOf<T> {
    ListOf { items, next_cursor: next.map(|id| URL_SAFE_NO_PAD.encode(format!("after:{id}"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_bad_input_is_refused() {
        let body = list_of(vec![1], Some(42));
        let p = page(Some(10), body.next_cursor.as_deref()).unwrap();
        assert_eq!((p.after, p.limit), (42, 10));
        assert!(page(Some(0), None).is_err());
        assert!(page(Some(MAX_LIMIT + 1), None).is_err());
        assert!(page(None, Some("garbage!")).is_err());
        assert_eq!(page(None, None).unwrap().limit, DEFAULT_LIMIT);
    }
}
