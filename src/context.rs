//! The shared state handed to handlers and jobs: the database, the settings, the mailer and
//! the scheduler's heartbeat.

use crate::catalog::{Catalog, CatalogError};
use crate::config::Settings;
use crate::db::Db;
use crate::notify::Mailer;
use chrono::Utc;
use std::sync::atomic::{AtomicI64, Ordering};
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
    /// Known SaaS apps: builtin plus the user's catalog files.
    pub catalog: Arc<Catalog>,
    /// Connector definitions: builtin plus the user's files.
    pub registry: Arc<crate::connectors::Registry>,
    /// Seals and opens connection secrets.
    pub secrets: crate::auth::SecretBox,
    /// The one outbound HTTP client.
    pub http: reqwest::Client,
    /// The OpenID Connect provider for single sign-on; None when not configured.
    pub oidc: Option<Arc<crate::auth::Oidc>>,
}

/// Why the context could not be built from the settings.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The mail settings are unusable.
    #[error(transparent)]
    Mail(#[from] crate::notify::MailError),
    /// A catalog file is malformed.
    #[error("app catalog: {0}")]
    Catalog(#[from] CatalogError),
    /// The secret key file cannot be read or created.
    #[error(transparent)]
    Secrets(#[from] crate::auth::SecretError),
    /// The single sign-on settings are unusable.
    #[error(transparent)]
    Oidc(#[from] crate::auth::OidcError),
}

impl Context {
    /// A context for `settings` over `db`, with the mailer the settings name.
    pub fn new(db: Db, settings: Settings) -> Result<Self, ContextError> {
        let mailer = match settings.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(url) => Some(Mailer::new(url, &settings.mail_from)?),
            None => None,
        };
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        let catalog = Arc::new(Catalog::load(settings.integrations_dir.as_deref())?);
        let registry = Arc::new(crate::connectors::Registry::load(settings.integrations_dir.as_deref()));
        let secrets = crate::auth::SecretBox::load_or_create(&settings.secret_key_file)?;
        let oidc = crate::auth::Oidc::from_settings(&settings)?.map(Arc::new);
        Ok(Self {
            db,
            settings: Arc::new(settings),
            mailer,
            heartbeat: Arc::new(Heartbeat::default()),
            scheduler_running: false,
            instance: format!("{host}:{}", std::process::id()),
            catalog,
            registry,
            secrets,
            http: crate::connectors::http::client(),
            oidc,
        })
    }
}

/// When the scheduler last ticked, for `/readyz`.
#[derive(Debug, Default)]
pub struct Heartbeat {
    last_tick: AtomicI64,
}

impl Heartbeat {
    /// Records a tick now.
    pub fn beat(&self) {
        self.last_tick.store(Utc::now().timestamp(), Ordering::Relaxed);
    }

    /// Seconds since the last tick; None if it never ticked.
    pub fn age_secs(&self) -> Option<i64> {
        match self.last_tick.load(Ordering::Relaxed) {
            0 => None,
            t => Some(Utc::now().timestamp() - t),
        }
    }
}
