//! Outbound HTTP for connectors: the shared client (timeout, user agent, redirects kept on the
//! same host, link-local targets refused), and one request with the vendor's throttling rules —
//! waits from Retry-After or a reset header, exponential backoff with jitter otherwise, a cap on
//! any one wait and on retries, a per-run request budget. Never retries in a hot loop.

use super::address::GuardedResolver;
use super::definition::{BodyErrors, BodyMatch, ErrorFields, Throttle};
use super::ConnectorError;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use url::Url;

/// The one outbound client: 60 s timeout, a user agent, at most 5 redirects and only on the same
/// host, and a resolver that refuses link-local, metadata and (by DNS) loopback addresses.
pub fn client() -> reqwest::Client {
    client_with(GuardedResolver::default())
}

/// The outbound client over a given resolver (tests point names at loopback listeners).
pub fn client_with(resolver: GuardedResolver) -> reqwest::Client {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let same_host = attempt.previous().last().map(|u| u.host_str()) == Some(attempt.url().host_str());
        if attempt.previous().len() >= 5 || !same_host {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .user_agent(concat!("stackward/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(15))
        .redirect(policy)
        .dns_resolver(std::sync::Arc::new(resolver))
        .build()
        .unwrap_or_default()
}

pub use super::address::guard;

/// A reply: status, headers, the body as JSON (Null when empty) and the URL it came from.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The body as JSON; Null when empty.
    pub body: Value,
    /// The URL requested.
    pub url: Url,
}

/// Sends requests for one run, counting them against the budget.
pub struct Sender {
    client: reqwest::Client,
    throttle: Throttle,
    body_errors: Option<BodyErrors>,
    errors: ErrorFields,
    budget: u64,
    calls: AtomicU64,
    waited_ms: AtomicU64,
}

/// How long to wait after a throttled reply, or that waiting is pointless.
#[derive(Debug, PartialEq)]
enum Verdict {
    Go,
    Wait(Duration),
    Exhausted(String),
}

/// A response read whole: status, headers, and the body as JSON (Null when empty or not JSON).
async fn read(resp: reqwest::Response, url: Url) -> Result<Reply, ConnectorError> {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let raw = resp.text().await.map_err(|e| ConnectorError::Network(e.without_url().to_string()))?;
    let body: Value =
        if raw.trim().is_empty() { Value::Null } else { serde_json::from_str(&raw).unwrap_or(Value::Null) };
    Ok(Reply { status, headers, body, url })
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string())
}

fn matches(rules: &[BodyMatch], status: u16, body: &Value) -> bool {
    rules.iter().any(|m| {
        m.status.is_none_or(|s| s == status)
            && super::mapping::resolve(
                &super::mapping::Scope { record: body, parent: None, element: None, lookups: &Default::default() },
                &m.pointer,
            )
            .iter()
            .any(|v| m.equals.iter().any(|e| *v == e))
    })
}

/// What stackward keeps of an error reply: the vendor's own code and message where the
/// definition names them (`[errors]`), at most 300 characters. Never the body itself: a vendor
/// or a proxy may put anything there, and the run's error is shown and logged.
pub fn vendor_error(fields: &ErrorFields, body: &Value) -> String {
    let pick = |p: &Option<String>| {
        p.as_deref()
            .and_then(|p| body.pointer(p))
            .filter(|v| v.is_string() || v.is_number())
            .map(super::mapping::as_text)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    let text = match (pick(&fields.code), pick(&fields.message)) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => String::new(),
    };
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(300).collect()
}

impl Sender {
    /// A sender with the definition's throttling rules and request budget.
    pub fn new(client: reqwest::Client, throttle: Throttle, body_errors: Option<BodyErrors>, budget: u64) -> Self {
        Sender {
            client,
            throttle,
            body_errors,
            errors: ErrorFields::default(),
            budget,
            calls: AtomicU64::new(0),
            waited_ms: AtomicU64::new(0),
        }
    }

    /// Keeps the vendor's own error code and message from error replies (status alone without).
    pub fn with_errors(mut self, errors: ErrorFields) -> Self {
        self.errors = errors;
        self
    }

    /// Requests made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Time spent waiting out throttling.
    pub fn waited(&self) -> Duration {
        Duration::from_millis(self.waited_ms.load(Ordering::Relaxed))
    }

    /// The shared client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    fn judge(&self, status: u16, headers: &HeaderMap, body: &Value, attempt: u32) -> Verdict {
        let t = &self.throttle;
        if matches(&t.exhausted, status, body) {
            return Verdict::Exhausted(vendor_error(&self.errors, body));
        }
        let remaining_zero = t.remaining_header.as_deref().and_then(|h| header(headers, h)).is_some_and(|v| v == "0");
        let throttled = t.statuses.contains(&status)
            || (matches!(status, 403 | 429) && remaining_zero)
            || matches(&t.body, status, body);
        if !throttled {
            return Verdict::Go;
        }
        if let Some(secs) = header(headers, "retry-after").and_then(|v| v.parse::<u64>().ok()) {
            return Verdict::Wait(Duration::from_secs(secs.max(1)));
        }
        if let Some(at) = header(headers, "retry-after").and_then(|v| DateTime::parse_from_rfc2822(&v).ok()) {
            let secs = (at.with_timezone(&Utc) - Utc::now()).num_seconds().max(1) as u64;
            return Verdict::Wait(Duration::from_secs(secs));
        }
        if let Some(reset) =
            t.reset_header.as_deref().and_then(|h| header(headers, h)).and_then(|v| v.parse::<i64>().ok())
        {
            let secs = (reset - Utc::now().timestamp()).max(0) as u64 + 1;
            return Verdict::Wait(Duration::from_secs(secs));
        }
        // No hint: exponential backoff from 1 s with up to 50 % jitter, at most a minute.
        let base = 1u64 << attempt.min(6);
        let jitter = rand::random::<f64>() * 0.5;
        Verdict::Wait(Duration::from_secs_f64((base as f64 * (1.0 + jitter)).min(60.0)))
    }

    /// Sends one request (built fresh for each attempt) and applies the throttling rules.
    pub async fn send(&self, build: impl Fn() -> reqwest::RequestBuilder) -> Result<Reply, ConnectorError> {
        let mut throttled = 0u32;
        let mut failures = 0u32;
        loop {
            let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
            if n > self.budget {
                return Err(ConnectorError::Budget(self.budget));
            }
            let request = build().build().map_err(|e| ConnectorError::Network(e.without_url().to_string()))?;
            let url = request.url().clone();
            guard(&url)?;
            let resp = match self.client.execute(request).await {
                Ok(r) => r,
                Err(e) if failures < 3 => {
                    failures += 1;
                    tracing::warn!(host = url.host_str().unwrap_or(""), error = %e.without_url(), "request failed; retrying");
                    self.sleep(Duration::from_secs(1 << failures)).await;
                    continue;
                }
                Err(e) => {
                    let origin = url.origin().ascii_serialization();
                    return Err(ConnectorError::Network(format!("{origin}: {}", e.without_url())));
                }
            };
            let reply = read(resp, url).await?;
            match self.judge(reply.status, &reply.headers, &reply.body, throttled) {
                Verdict::Go => {}
                Verdict::Exhausted(message) => {
                    return Err(ConnectorError::RateLimited {
                        until: None,
                        message: format!("the vendor's quota is used up: {message}"),
                    })
                }
                Verdict::Wait(d) => {
                    throttled += 1;
                    self.wait_throttled(&reply.url, d, throttled).await?;
                    continue;
                }
            }
            // A vendor's 5xx is usually brief: two quick retries, then the run fails (removing nothing).
            if matches!(reply.status, 500 | 502 | 503 | 504) && failures < 2 {
                failures += 1;
                self.sleep(Duration::from_millis(500 << failures)).await;
                continue;
            }
            return self.accept(reply);
        }
    }

    /// Waits `d` after the `throttled`-th throttling reply, or gives up when the wait or the
    /// count is past the definition's limits.
    async fn wait_throttled(&self, url: &Url, d: Duration, throttled: u32) -> Result<(), ConnectorError> {
        let until = Utc::now() + chrono::Duration::from_std(d).unwrap_or_default();
        if d.as_secs() > self.throttle.max_wait_secs || throttled > self.throttle.max_retries {
            return Err(ConnectorError::RateLimited {
                until: Some(until),
                message: format!("throttled {throttled} times; the limit resets at {}", until.to_rfc3339()),
            });
        }
        tracing::info!(
            host = url.host_str().unwrap_or(""),
            wait_ms = d.as_millis() as u64,
            "throttled by the vendor; waiting"
        );
        self.sleep(d).await;
        Ok(())
    }

    /// The reply when it is a success; else the error its status or body says.
    fn accept(&self, reply: Reply) -> Result<Reply, ConnectorError> {
        let status = reply.status;
        if status == 401 {
            return Err(ConnectorError::Unauthorized(vendor_error(&self.errors, &reply.body)));
        }
        if !(200..300).contains(&status) {
            return Err(ConnectorError::Upstream { status, message: vendor_error(&self.errors, &reply.body) });
        }
        if let Some(message) = self.body_error(&reply.body) {
            if matches!(message.as_str(), "invalid_auth" | "not_authed" | "token_revoked" | "account_inactive") {
                return Err(ConnectorError::Unauthorized(message));
            }
            return Err(ConnectorError::Upstream { status, message });
        }
        Ok(reply)
    }

    /// The message of an error reported in a 200 body (Slack's `"ok": false`), if any.
    fn body_error(&self, body: &Value) -> Option<String> {
        let be = self.body_errors.as_ref()?;
        let scope = super::mapping::Scope { record: body, parent: None, element: None, lookups: &Default::default() };
        if super::mapping::resolve(&scope, &be.ok).first().and_then(|v| v.as_bool()) != Some(false) {
            return None;
        }
        let message = super::mapping::resolve(&scope, &be.message)
            .first()
            .map(|v| super::mapping::as_text(v))
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        Some(message)
    }

    async fn sleep(&self, d: Duration) {
        self.waited_ms.fetch_add(d.as_millis() as u64, Ordering::Relaxed);
        tokio::time::sleep(d).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    fn sender(t: Throttle) -> Sender {
        Sender::new(client(), t, None, 10)
    }

    #[test]
    fn throttle_signals_each_vendor_uses() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(sender(Throttle::default()).judge(429, &h, &Value::Null, 0), Verdict::Wait(Duration::from_secs(7)));
        let okta = Throttle { reset_header: Some("x-rate-limit-reset".into()), ..Default::default() };
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", HeaderValue::from_str(&(Utc::now().timestamp() + 4).to_string()).unwrap());
        assert!(
            matches!(sender(okta).judge(429, &h, &Value::Null, 0), Verdict::Wait(d) if (4..=5).contains(&d.as_secs()))
        );
        let github = Throttle {
            remaining_header: Some("x-ratelimit-remaining".into()),
            reset_header: Some("x-ratelimit-reset".into()),
            ..Default::default()
        };
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        assert!(matches!(sender(github.clone()).judge(403, &h, &Value::Null, 2), Verdict::Wait(d) if d.as_secs() >= 4));
        assert_eq!(
            sender(github).judge(403, &HeaderMap::new(), &Value::Null, 0),
            Verdict::Go,
            "a plain 403 is no throttle"
        );
        let google = Throttle {
            body: vec![BodyMatch {
                status: Some(403),
                pointer: "/error/errors/0/reason".into(),
                equals: vec![json!("userRateLimitExceeded")],
            }],
            ..Default::default()
        };
        let body = json!({"error": {"errors": [{"reason": "userRateLimitExceeded"}]}});
        assert!(matches!(sender(google).judge(403, &HeaderMap::new(), &body, 0), Verdict::Wait(_)));
        let sf = Throttle {
            exhausted: vec![BodyMatch {
                status: None,
                pointer: "/0/errorCode".into(),
                equals: vec![json!("REQUEST_LIMIT_EXCEEDED")],
            }],
            ..Default::default()
        };
        let body = json!([{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]);
        let salesforce_errors = ErrorFields { code: Some("/0/errorCode".into()), message: Some("/0/message".into()) };
        assert_eq!(
            sender(sf).with_errors(salesforce_errors).judge(403, &HeaderMap::new(), &body, 0),
            Verdict::Exhausted("REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.".into())
        );
    }

    #[test]
    fn error_replies_keep_only_the_named_fields() {
        let graph = ErrorFields { code: Some("/error/code".into()), message: Some("/error/message".into()) };
        let body = json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist.",
            "innerError": {"request-id": "secret-tenant-detail"}}, "debug": "stack trace with a token"});
        let kept = vendor_error(&graph, &body);
        assert_eq!(kept, "Request_ResourceNotFound: Resource 'x' does not exist.");
        assert_eq!(vendor_error(&ErrorFields::default(), &body), "", "no named fields: the status alone");
        let long = json!({"error": {"code": "E", "message": "x".repeat(5000)}});
        assert_eq!(vendor_error(&graph, &long).chars().count(), 300);
    }
}
