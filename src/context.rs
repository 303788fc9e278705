//! The shared state handed to handlers and jobs: the database, the settings, the mailer and
//! the scheduler's heartbeat.

use crate::config::Settings;
use crate::db::Db;
use crate::notify::Mailer;
use crate::scheduler::Heartbeat;
use std::sync::Arc;

/// What every handler and job works with.
#[derive(Clone)]
pub struct Context {
    /// The database pool.
    pub db: Db,
    /// Settings read at start.
    pub settings: Arc<Settings>,
    /// SMTP delivery; None when `STACKWARD_SMTP_URL` is not set (mail waits in the outbox).
    pub mailer: Option<Mailer>,
    /// When the scheduler last ticked; never ticks when the scheduler is not running.
    pub heartbeat: Arc<Heartbeat>,
    /// True when this process runs the scheduler (so `/readyz` checks its heartbeat).
    pub scheduler_running: bool,
    /// This process's name in job leases: host and process id.
    pub instance: String,
}

impl Context {
    /// A context for `settings` over `db`, with the mailer the settings name.
    pub fn new(db: Db, settings: Settings) -> Result<Self, crate::notify::MailError> {
        let mailer = match settings.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(url) => Some(Mailer::new(url, &settings.mail_from)?),
            None => None,
        };
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        Ok(Self {
            db,
            settings: Arc::new(settings),
            mailer,
            heartbeat: Arc::new(Heartbeat::default()),
            scheduler_running: false,
            instance: format!("{host}:{}", std::process::id()),
        })
    }
}
