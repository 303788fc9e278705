//! The shared state handed to handlers and jobs: the database and the settings.

use crate::config::Settings;
use crate::db::Db;
use std::sync::Arc;

/// What every handler and job works with.
#[derive(Clone)]
pub struct Context {
    /// The database pool.
    pub db: Db,
    /// Settings read at start.
    pub settings: Arc<Settings>,
}
