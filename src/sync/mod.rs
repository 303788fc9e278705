//! Sync: runs a connection's connector and applies what it reads to the inventory — upserts
//! keyed by (app, external id), people from identity providers, licence pools and app grants —
//! then, only after a complete successful run, marks what was not seen as removed.

pub mod connections;

pub use connections::ConnectionId;
