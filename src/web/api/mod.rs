//! JSON API handlers, one file per resource.

pub mod accounts;
pub mod apps;
pub mod audit_log;
pub mod connections;
pub mod findings;
pub mod mail;
pub mod people;
pub mod renewals;
pub mod subscriptions;
pub mod tokens;
pub mod transfer;
