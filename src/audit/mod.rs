//! Audit: the log of every change made through the API or the CLI.

mod log;

pub use log::{list, record, Actor, AuditEntry, AuditEntryId, AuditFilter};
