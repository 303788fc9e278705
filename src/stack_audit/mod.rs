//! The quarterly stack audit: audits with a frozen snapshot of everything the pack needs, the
//! audit pack (report, workbook, CSVs, manifest; the same bytes every time), access reviews
//! and owner check-ins. The audit *log* (who changed what) is `crate::audit`.
//! Reads `public_url` (links in mail) through its callers.

pub mod activity;
pub mod cells;
mod changes;
pub mod checkins;
mod error;
pub mod pack;
mod quarter;
pub mod reviews;
pub mod sheets;
mod snapshot;
pub mod store;
pub mod summary;

pub use error::{Result, StackAuditError};
pub use quarter::Quarter;
pub use snapshot::{take, RENEWAL_WINDOW_DAYS};
pub use store::{Audit, AuditId};
pub use summary::Summary;

use crate::audit::Actor;
use crate::db::Conn;

/// Parses the `quarter` field of a request.
pub fn parse_quarter(raw: &str) -> Result<Quarter> {
    Quarter::parse(raw).map_err(|m| StackAuditError::invalid("quarter", m))
}

/// Takes the audit of quarter `raw` (e.g. `2026-Q4`) now, as `actor`.
pub fn create(conn: &mut Conn, actor: &Actor, raw: &str) -> Result<Audit> {
    let quarter = parse_quarter(raw)?;
    take(conn, actor, quarter, crate::time::now())
}
