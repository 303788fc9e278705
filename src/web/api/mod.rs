//! JSON API handlers, one file per resource.

pub mod access_reviews;
pub mod accounts;
pub mod apps;
pub mod audit_log;
pub mod audits;
pub mod check_ins;
pub mod connections;
pub mod findings;
pub mod licence_pools;
pub mod mail;
pub mod people;
pub mod policy;
pub mod renewals;
pub mod requests;
pub mod savings;
pub mod subscriptions;
pub mod tokens;
pub mod transfer;
pub mod usage;
pub mod views;
