//! Settings: each a command-line flag with a `STACKWARD_*` environment variable and a default.

use clap::Args;

/// Settings shared by every command. `Debug` hides the passwords URLs may carry.
#[derive(Clone, Args)]
pub struct Settings {
    /// Database URL: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "STACKWARD_DATABASE_URL", default_value = "sqlite://stackward.db", global = true)]
    pub database_url: String,

    /// Most database connections held open at once.
    #[arg(long, env = "STACKWARD_DB_POOL_SIZE", default_value_t = 8, global = true)]
    pub db_pool_size: u32,

    /// Address and port the HTTP server listens on.
    #[arg(long, env = "STACKWARD_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: String,

    /// URL people reach stackward at, for links in mail (default: http://LISTEN).
    #[arg(long, env = "STACKWARD_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Log filter (error, warn, info, debug, or per module: stackward=debug), plus `json` for JSON lines.
    #[arg(long, env = "STACKWARD_LOG", default_value = "info", global = true)]
    pub log: String,

    /// A folder of your own integration files; `*catalog*.toml` files there add to or override the app catalog.
    #[arg(long, env = "STACKWARD_INTEGRATIONS_DIR", global = true)]
    pub integrations_dir: Option<std::path::PathBuf>,

    /// SMTP server for outgoing mail: smtps://user:pass@host:465 (TLS),
    /// smtp://user:pass@host:587?tls=required (STARTTLS), or smtp://relay:25 (plain, for a local
    /// relay). Unset: mail waits in the outbox.
    #[arg(long, env = "STACKWARD_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// The From address of stackward's mail.
    #[arg(long, env = "STACKWARD_MAIL_FROM", default_value = "stackward <stackward@localhost>", global = true)]
    pub mail_from: String,

    /// Finance addresses copied on every renewal reminder, comma-separated.
    #[arg(long, env = "STACKWARD_FINANCE_EMAILS", default_value = "", global = true)]
    pub finance_emails: String,

    /// Renewal reminder stages in days before the notice deadline (a subscription may override).
    #[arg(long, env = "STACKWARD_REMINDER_DAYS", default_value = "90,60,30,7", global = true)]
    pub reminder_days: String,

    /// When the reminder pass runs (cron with seconds, UTC); blank disables it.
    #[arg(long, env = "STACKWARD_CRON_REMINDERS", default_value = "0 0 7 * * *", global = true)]
    pub cron_reminders: String,

    /// When the outbox is delivered (cron with seconds, UTC); blank disables it.
    #[arg(long, env = "STACKWARD_CRON_OUTBOX", default_value = "*/15 * * * * *", global = true)]
    pub cron_outbox: String,

    /// When the findings rules run (cron with seconds, UTC); blank disables it.
    #[arg(long, env = "STACKWARD_CRON_FINDINGS", default_value = "0 30 6 * * *", global = true)]
    pub cron_findings: String,

    /// How often the scheduler looks for connections whose sync is due (cron with seconds, UTC); blank disables it.
    #[arg(long, env = "STACKWARD_CRON_SYNC", default_value = "0 * * * * *", global = true)]
    pub cron_sync: String,

    /// The file holding the 256-bit key that seals connection secrets (created, mode 0600, if missing).
    #[arg(long, env = "STACKWARD_SECRET_KEY_FILE", default_value = "stackward-secret.key", global = true)]
    pub secret_key_file: std::path::PathBuf,

    /// When app owners get their weekly digest (cron with seconds, UTC); blank disables it.
    #[arg(long, env = "STACKWARD_CRON_DIGEST", default_value = "0 0 8 * * Mon", global = true)]
    pub cron_digest: String,

    /// When pending approval steps are checked against their SLAs (cron with seconds, UTC); blank disables it.
    #[arg(long, env = "STACKWARD_CRON_REQUESTS", default_value = "0 */15 * * * *", global = true)]
    pub cron_requests: String,

    /// When the quarter's owner check-ins are started (cron with seconds, UTC, e.g. "0 0 9 1 1,4,7,10 *"
    /// for the first day of each quarter); blank (the default) disables it.
    #[arg(long, env = "STACKWARD_CRON_CHECK_INS", default_value = "", global = true)]
    pub cron_check_ins: String,

    /// Days a request may wait for its requester's changes before it is closed as cancelled (at least 1).
    #[arg(long, env = "STACKWARD_REQUEST_CHANGES_MAX_DAYS", default_value_t = 30, global = true)]
    pub request_changes_max_days: u32,

    /// Notice period in days a subscription made by an approved request gets until its real contract
    /// figures are recorded (0–3650).
    #[arg(long, env = "STACKWARD_DEFAULT_NOTICE_DAYS", default_value_t = 30, global = true,
        value_parser = clap::value_parser!(u16).range(0..=3650))]
    pub default_notice_days: u16,

    /// OpenID Connect issuer for single sign-on (https://…; http:// only on a loopback host).
    /// Unset: people sign in with one-time links (`stackward signin-link`).
    #[arg(long, env = "STACKWARD_OIDC_ISSUER_URL", global = true)]
    pub oidc_issuer_url: Option<String>,

    /// The client id registered at the OpenID Connect provider.
    #[arg(long, env = "STACKWARD_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,

    /// The client secret registered at the provider (prefer the _FILE variant).
    #[arg(long, env = "STACKWARD_OIDC_CLIENT_SECRET", global = true, hide_env_values = true)]
    pub oidc_client_secret: Option<String>,

    /// A file holding the client secret.
    #[arg(long, env = "STACKWARD_OIDC_CLIENT_SECRET_FILE", global = true)]
    pub oidc_client_secret_file: Option<std::path::PathBuf>,

    /// The ID token claim listing the person's groups.
    #[arg(long, env = "STACKWARD_OIDC_ROLES_CLAIM", default_value = "groups", global = true)]
    pub oidc_roles_claim: String,

    /// Which group gives which role: role=group,role=group (e.g. admin=stackward-admins,it=it-team).
    #[arg(long, env = "STACKWARD_OIDC_ROLE_MAP", default_value = "", global = true)]
    pub oidc_role_map: String,

    /// Minutes a signed-in session may sit unused before it ends.
    #[arg(long, env = "STACKWARD_SESSION_IDLE_MINUTES", default_value_t = 720, global = true)]
    pub session_idle_minutes: u32,

    /// Hours after sign-in a session ends, however busy.
    #[arg(long, env = "STACKWARD_SESSION_MAX_HOURS", default_value_t = 168, global = true)]
    pub session_max_hours: u32,
}

/// A URL with any password replaced by `***`.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "(unparsable URL)".to_string(),
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redacted(&self.database_url))
            .field("db_pool_size", &self.db_pool_size)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("log", &self.log)
            .field("integrations_dir", &self.integrations_dir)
            .field("smtp_url", &self.smtp_url.as_deref().map(redacted))
            .field("mail_from", &self.mail_from)
            .field("finance_emails", &self.finance_emails)
            .field("reminder_days", &self.reminder_days)
            .field("secret_key_file", &self.secret_key_file)
            .field("request_changes_max_days", &self.request_changes_max_days)
            .field("default_notice_days", &self.default_notice_days)
            .field("oidc_issuer_url", &self.oidc_issuer_url)
            .field("oidc_client_id", &self.oidc_client_id)
            .field("oidc_client_secret", &self.oidc_client_secret.as_ref().map(|_| "***"))
            .field("oidc_role_map", &self.oidc_role_map)
            .finish_non_exhaustive()
    }
}

#[derive(clap::Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    /// Settings from flags alone, as `stackward` would read them (environment variables still apply).
    pub fn from_flags(flags: &[&str]) -> Result<Self, clap::Error> {
        use clap::Parser;
        let args = std::iter::once("stackward").chain(flags.iter().copied());
        SettingsOnly::try_parse_from(args).map(|s| s.settings)
    }

    /// The public URL, defaulting to the listen address.
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen)).trim_end_matches('/').to_string()
    }

    /// True when the public URL is https, so cookies are marked `Secure`.
    pub fn public_url_is_https(&self) -> bool {
        self.public_url().starts_with("https://")
    }

    /// The finance list, lower-cased, blanks dropped.
    pub fn finance_list(&self) -> Vec<String> {
        self.finance_emails.split(',').map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()).collect()
    }

    /// Splits `log` into a tracing filter and whether to write JSON.
    pub fn log_filter_and_format(&self) -> (String, bool) {
        let mut json = false;
        let parts: Vec<&str> = self
            .log
            .split(',')
            .map(str::trim)
            .filter(|p| match *p {
                "json" => {
                    json = true;
                    false
                }
                "text" | "" => false,
                _ => true,
            })
            .collect();
        let filter = if parts.is_empty() { "info".to_string() } else { parts.join(",") };
        (filter, json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_log(log: &str) -> Settings {
        Settings::from_flags(&["--log", log, "--listen", "127.0.0.1:8080"]).unwrap()
    }

    #[test]
    fn debug_output_hides_passwords() {
        let s = Settings::from_flags(&[
            "--database-url",
            "postgres://app:pg-secret@db/stackward",
            "--smtp-url",
            "smtps://mailer:smtp-secret@mail.example.com:465",
        ])
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("pg-secret") && !shown.contains("smtp-secret"), "{shown}");
        assert!(shown.contains("mail.example.com") && shown.contains("***"), "{shown}");
    }

    #[test]
    fn default_notice_days_is_30_and_bounded() {
        assert_eq!(with_log("info").default_notice_days, 30);
        assert_eq!(Settings::from_flags(&["--default-notice-days", "3650"]).unwrap().default_notice_days, 3650);
        assert!(Settings::from_flags(&["--default-notice-days", "3651"]).is_err());
        assert!(Settings::from_flags(&["--default-notice-days", "-1"]).is_err());
    }

    #[test]
    fn log_setting_splits_format_from_filter() {
        assert_eq!(with_log("debug,json").log_filter_and_format(), ("debug".into(), true));
        assert_eq!(with_log("json").log_filter_and_format(), ("info".into(), true));
        assert_eq!(with_log("info,stackward=debug").log_filter_and_format(), ("info,stackward=debug".into(), false));
        assert_eq!(with_log("warn").public_url(), "http://127.0.0.1:8080");
    }
}
