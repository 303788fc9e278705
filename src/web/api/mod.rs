//! JSON API handlers, one file per resource.

pub mod accounts;
pub mod apps;
pub mod audit_log;
pub mod people;
pub mod subscriptions;
pub mod tokens;
pub mod transfer;
