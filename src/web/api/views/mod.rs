//! The API's bodies, apart from the rows they are built from: one file per area. Rows and
//! domain types stay free to change shape; these types are the wire and the OpenAPI document.

mod audit;
mod findings;
mod inventory;
mod operations;
mod requests;
mod tokens;

pub use audit::AuditEntry;
pub use findings::{ExclusionRecord, Finding};
pub use inventory::{Account, App, Person, Subscription, Term};
pub use operations::{JobStatus, OutboxEntry, SyncRun};
pub use requests::RequestDetail;
pub use tokens::{ApiToken, NewToken};

/// Converts every item of a list into its view.
pub fn all<T, V: From<T>>(items: Vec<T>) -> Vec<V> {
    items.into_iter().map(V::from).collect()
}
