//! A connection's values as a definition's templates see them: `{settings.x}`, `{secrets.x}`,
//! `{base_url}`; and the rule that a connection's `base_url` replaces the origin of every URL the
//! definition names (so one override points token, licensing and directory hosts at a test double).

use super::ConnectorError;
use crate::auth::Secrets;
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use url::Url;

/// What a connection gives its connector.
#[derive(Clone)]
pub struct Params {
    /// The connection's name (for messages).
    pub connection: String,
    /// Settings, with the definition's defaults filled in.
    pub settings: BTreeMap<String, String>,
    /// Secrets, opened.
    pub secrets: Secrets,
    /// The API root: the connection's override, else the definition's.
    pub base_url: String,
    /// True when the connection overrides the base URL (every other vendor host follows it).
    pub overridden: bool,
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params")
            .field("connection", &self.connection)
            .field("settings", &self.settings)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// True for a placeholder name (`settings.org`, `cursor`, `^/id`); anything else between braces
/// (a JSON object in a body template) is literal text.
fn is_placeholder(name: &str) -> bool {
    match name.strip_prefix('^') {
        Some(ptr) => ptr.starts_with('/') && !ptr.contains(['"', ' ']),
        None => !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'),
    }
}

/// Fills `{…}` placeholders through `lookup`; an unknown placeholder is an error naming it.
pub fn fill(template: &str, mut lookup: impl FnMut(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name = after.find('}').map(|close| &after[..close]).filter(|n| is_placeholder(n));
        match name {
            Some(name) => {
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => return Err(format!("{{{name}}} has no value")),
                }
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

impl Params {
    /// The value of a connection placeholder (`settings.x`, `secrets.x`, `base_url`).
    pub fn value(&self, name: &str) -> Option<String> {
        if let Some(k) = name.strip_prefix("settings.") {
            return self.settings.get(k).cloned();
        }
        if let Some(k) = name.strip_prefix("secrets.") {
            return self.secrets.get(k).map(|s| s.expose_secret().to_string());
        }
        // Report windows: `{today}` and `{days_ago.30}`, UTC dates.
        let today = chrono::Utc::now().date_naive();
        if name == "today" {
            return Some(today.to_string());
        }
        if let Some(n) = name.strip_prefix("days_ago.").and_then(|n| n.parse::<i64>().ok()) {
            return Some((today - chrono::Duration::days(n)).to_string());
        }
        (name == "base_url").then(|| self.base_url.trim_end_matches('/').to_string())
    }

    /// Fills a template from the connection's values alone.
    pub fn render(&self, template: &str) -> Result<String, ConnectorError> {
        fill(template, |n| self.value(n)).map_err(ConnectorError::Definition)
    }

    /// An absolute URL of the definition, moved onto the overriding base URL when there is one.
    pub fn absolute(&self, url: &str) -> Result<Url, ConnectorError> {
        let parsed = Url::parse(url).map_err(|e| ConnectorError::Definition(format!("{url:?} is not a URL: {e}")))?;
        if !self.overridden {
            return Ok(parsed);
        }
        let base = self.base()?;
        let mut moved = base.clone();
        let prefix = base.path().trim_end_matches('/');
        moved.set_path(&format!("{prefix}{}", parsed.path()));
        moved.set_query(parsed.query());
        Ok(moved)
    }

    /// A path under the base URL (keeping the base's own path prefix, e.g. GitHub Enterprise `/api/v3`).
    pub fn under_base(&self, path: &str) -> Result<Url, ConnectorError> {
        let base = self.base()?;
        let mut url = base.clone();
        let (p, q) = path.split_once('?').unwrap_or((path, ""));
        url.set_path(&format!("{}{}", base.path().trim_end_matches('/'), p));
        url.set_query((!q.is_empty()).then_some(q));
        Ok(url)
    }

    /// The base URL, parsed.
    pub fn base(&self) -> Result<Url, ConnectorError> {
        Url::parse(&self.base_url)
            .map_err(|e| ConnectorError::Setting(format!("base_url {:?} is not a URL: {e}", self.base_url)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn params(base: &str, overridden: bool) -> Params {
        Params {
            connection: "c".into(),
            settings: BTreeMap::from([("org".into(), "acme".into())]),
            secrets: Secrets::from([("token".into(), SecretString::from("s3cret"))]),
            base_url: base.into(),
            overridden,
        }
    }

    #[test]
    fn templates_and_base_url_override() {
        let p = params("http://127.0.0.1:9000/api/v3", true);
        assert_eq!(p.render("Bearer {secrets.token} for {settings.org}").unwrap(), "Bearer s3cret for acme");
        let today = chrono::Utc::now().date_naive();
        assert_eq!(
            p.render("{days_ago.30}..{today}").unwrap(),
            format!("{}..{today}", today - chrono::Duration::days(30))
        );
        assert!(p.render("{settings.nope}").unwrap_err().to_string().contains("settings.nope"));
        assert_eq!(
            p.render(r#"{"limit": 1000, "org": "{settings.org}", "q": {}}"#).unwrap(),
            r#"{"limit": 1000, "org": "acme", "q": {}}"#,
            "JSON braces are text"
        );
        assert_eq!(
            p.absolute("https://oauth2.googleapis.com/token?x=1").unwrap().as_str(),
            "http://127.0.0.1:9000/api/v3/token?x=1"
        );
        assert_eq!(
            p.under_base("/orgs/acme/members").unwrap().as_str(),
            "http://127.0.0.1:9000/api/v3/orgs/acme/members"
        );
        let real = params("https://api.github.com", false);
        assert_eq!(
            real.absolute("https://oauth2.googleapis.com/token").unwrap().host_str(),
            Some("oauth2.googleapis.com")
        );
        assert!(!format!("{p:?}").contains("s3cret"));
    }
}
