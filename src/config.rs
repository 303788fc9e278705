//! Settings: each a command-line flag with a `STACKWARD_*` environment variable and a default.

use clap::Args;

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
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
}

impl Settings {
    /// The public URL, defaulting to the listen address.
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen)).trim_end_matches('/').to_string()
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
        Settings {
            database_url: "sqlite://x.db".into(),
            db_pool_size: 1,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            log: log.into(),
        }
    }

    #[test]
    fn log_setting_splits_format_from_filter() {
        assert_eq!(with_log("debug,json").log_filter_and_format(), ("debug".into(), true));
        assert_eq!(with_log("json").log_filter_and_format(), ("info".into(), true));
        assert_eq!(with_log("info,stackward=debug").log_filter_and_format(), ("info,stackward=debug".into(), false));
        assert_eq!(with_log("warn").public_url(), "http://127.0.0.1:8080");
    }
}
