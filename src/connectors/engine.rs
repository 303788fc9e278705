//! Runs a definition's streams: builds each request, follows the pages, fans out over parent
//! records with bounded concurrency, maps records and hands each page to the sink as it comes,
//! so memory stays flat however many users a vendor has.

use super::auth::Authenticator;
use super::definition::{Definition, Paging, Stream};
use super::http::{Reply, Sender};
use super::mapping::{self, FieldError, Lookups, Scope};
use super::params::{fill, Params};
use super::records::{Batch, MergeOn, RecordKind, Skipped};
use super::ConnectorError;
use futures_util::StreamExt;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use url::Url;

/// Receives each page of records as it is read.
#[expect(async_fn_in_trait, reason = "only this crate implements Sink, and its futures need not be Send")]
pub trait Sink {
    /// Stores one page; an error stops the run.
    async fn batch(&mut self, batch: Batch) -> Result<(), String>;
}

/// What a completed run reports.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Requests made (token requests excluded).
    pub api_calls: u64,
    /// Optional fields that could not be read (the first few), and how many there were.
    pub warnings: Vec<String>,
    /// How many optional values were unreadable in all.
    pub warning_count: u64,
    /// Optional streams skipped because the vendor refused them (plan without the feature).
    pub skipped_streams: Vec<String>,
    /// Tokens refreshed during the run, to store with the connection.
    pub tokens: Option<crate::auth::Secrets>,
    /// Seconds spent waiting out throttling.
    pub throttled_secs: u64,
    /// Records skipped for a missing or unreadable required field (the first few).
    pub skipped: Vec<Skipped>,
    /// How many records were skipped in all.
    pub skipped_count: u64,
}

/// How many skipped records a run keeps to show.
pub const SKIPPED_KEPT: usize = 10;

/// The next request of a stream.
#[derive(Debug, Clone)]
enum Next {
    First,
    Url(Url),
    Query(String, String),
    Body(Url, Value),
}

struct Engine<'a> {
    def: &'a Definition,
    params: Params,
    sender: Sender,
    auth: Authenticator,
    lookups: std::sync::Mutex<Lookups>,
    pages: HashMap<String, AtomicU64>,
    warnings: std::sync::Mutex<(Vec<String>, u64)>,
    skipped: std::sync::Mutex<(Vec<Skipped>, u64)>,
}

fn encode_segment(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Runs every stream of `def` for one connection and feeds the sink. Nothing is stored here.
pub async fn run<S: Sink>(
    def: &Definition,
    params: Params,
    client: reqwest::Client,
    sink: &mut S,
) -> Result<Outcome, ConnectorError> {
    run_counted(def, params, client, sink).await.map_err(|f| f.error)
}

/// A run that stopped, with the requests it had made by then (a failed run's record keeps them).
#[derive(Debug)]
pub struct Failure {
    /// Why it stopped.
    pub error: ConnectorError,
    /// Requests made before it stopped (token requests excluded).
    pub api_calls: u64,
}

/// [`run`], with the requests made so far when it fails.
pub async fn run_counted<S: Sink>(
    def: &Definition,
    params: Params,
    client: reqwest::Client,
    sink: &mut S,
) -> Result<Outcome, Failure> {
    let budget = def.request_budget.unwrap_or(1_000_000);
    let engine = Engine {
        def,
        sender: Sender::new(client, def.throttle.clone(), def.body_errors.clone(), budget)
            .with_errors(def.errors.clone()),
        auth: Authenticator::new(def.auth.clone(), params.clone()),
        params,
        lookups: Default::default(),
        pages: def.streams.iter().map(|s| (s.name.clone(), AtomicU64::new(0))).collect(),
        warnings: Default::default(),
        skipped: Default::default(),
    };
    let mut skipped = Vec::new();
    for stream in def.streams.iter().filter(|s| s.for_each.is_none()) {
        match engine.stream(stream, None, sink).await {
            Err(ConnectorError::Upstream { status: 403 | 404, message }) if stream.optional => {
                tracing::info!(connector = %def.name, stream = %stream.name, %message, "optional stream skipped");
                skipped.push(format!("{}: {message}", stream.name));
            }
            Err(ConnectorError::Upstream { status, message }) if stream.optional && status == 200 => {
                skipped.push(format!("{}: {message}", stream.name));
            }
            Err(error) => return Err(Failure { error, api_calls: engine.sender.calls() }),
            Ok(()) => {}
        }
    }
    let (warnings, warning_count) = engine.warnings.lock().map(|w| w.clone()).unwrap_or_default();
    let (skipped_kept, skipped_count) = engine.skipped.lock().map(|w| w.clone()).unwrap_or_default();
    Ok(Outcome {
        api_calls: engine.sender.calls(),
        warnings,
        warning_count,
        skipped_streams: skipped,
        tokens: engine.auth.changed_tokens(),
        throttled_secs: engine.sender.waited().as_secs(),
        skipped: skipped_kept,
        skipped_count,
    })
}

impl Engine<'_> {
    fn children(&self, parent: &str) -> Vec<&Stream> {
        self.def.streams.iter().filter(|s| s.for_each.as_deref() == Some(parent)).collect()
    }

    /// A stream template: connection values, `{^/pointer}` from the parent, `{cursor}`.
    fn render(&self, template: &str, parent: Option<&Value>, encode: bool) -> Result<String, ConnectorError> {
        fill(template, |name| {
            if let Some(ptr) = name.strip_prefix('^') {
                let lookups = Lookups::new();
                let scope = Scope { record: &Value::Null, parent, element: None, lookups: &lookups };
                let v = mapping::resolve(&scope, &format!("^{ptr}")).first().map(|v| mapping::as_text(v))?;
                return Some(if encode { encode_segment(&v) } else { v });
            }
            self.params.value(name)
        })
        .map_err(ConnectorError::Definition)
    }

    fn first_url(&self, s: &Stream, parent: Option<&Value>) -> Result<Url, ConnectorError> {
        let mut url = match (&s.url, &s.path) {
            (Some(u), _) => self.params.absolute(&self.render(u, parent, true)?)?,
            (None, Some(p)) => self.params.under_base(&self.render(p, parent, true)?)?,
            (None, None) => return Err(ConnectorError::Definition(format!("stream {} names no path or url", s.name))),
        };
        if !s.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &s.query {
                q.append_pair(k, &self.render(v, parent, false)?);
            }
        }
        Ok(url)
    }

    async fn request(&self, s: &Stream, parent: Option<&Value>, next: &Next) -> Result<Reply, ConnectorError> {
        let (method, url, body) = match next {
            Next::First => {
                let body = match &s.body {
                    Some(b) => Some(serde_json::from_str::<Value>(&self.render(b, parent, false)?).map_err(|e| {
                        ConnectorError::Definition(format!("stream {}: body is not JSON: {e}", s.name))
                    })?),
                    None => None,
                };
                (s.method.clone(), self.first_url(s, parent)?, body)
            }
            Next::Url(u) => (s.method.clone(), u.clone(), None),
            Next::Query(param, value) => {
                let mut url = self.first_url(s, parent)?;
                let kept: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(k, _)| k != param)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                url.query_pairs_mut().clear().extend_pairs(kept).append_pair(param, value);
                let body = match &s.body {
                    Some(b) => serde_json::from_str::<Value>(&self.render(b, parent, false)?).ok(),
                    None => None,
                };
                (s.method.clone(), url, body)
            }
            Next::Body(url, body) => ("POST".into(), url.clone(), Some(body.clone())),
        };
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| ConnectorError::Definition(format!("stream {}: bad method {method}", s.name)))?;
        let headers: Vec<(String, String)> = s
            .headers
            .iter()
            .map(|(k, v)| Ok((k.clone(), self.render(v, parent, false)?)))
            .collect::<Result<_, ConnectorError>>()?;
        let mut refreshed = false;
        loop {
            let authed = self.auth.apply(self.sender.client().request(method.clone(), url.clone())).await?;
            let build = || {
                let mut rb =
                    authed.try_clone().unwrap_or_else(|| self.sender.client().request(method.clone(), url.clone()));
                for (k, v) in &headers {
                    rb = rb.header(k.as_str(), v.as_str());
                }
                match &body {
                    // Dropbox RPCs without arguments take the JSON literal `null`.
                    Some(b) => rb.header("content-type", "application/json").body(b.to_string()),
                    None => rb,
                }
            };
            match self.sender.send(build).await {
                Err(ConnectorError::Unauthorized(m)) if !refreshed && self.auth.invalidate().await => {
                    tracing::info!(connector = %self.def.name, "access token refused; fetching a new one ({m})");
                    refreshed = true;
                }
                other => return other,
            }
        }
    }

    /// Reads every page of a stream (for one parent record, when fanned out) into the sink.
    async fn stream<S: Sink>(&self, s: &Stream, parent: Option<&Value>, sink: &mut S) -> Result<(), ConnectorError> {
        let mut next = Next::First;
        let mut seen_cursors = std::collections::HashSet::new();
        let mut offset = 0u64;
        let mut fetched = 0u64;
        // The largest total the vendor stated on any page: the listing must reach it.
        let mut stated: Option<u64> = None;
        loop {
            let reply = self.request(s, parent, &next).await?;
            let page = self.pages.get(&s.name).map(|c| c.fetch_add(1, Ordering::Relaxed) + 1).unwrap_or(1);
            let records = self.records(s, &reply.body, page)?;
            let count = records.len() as u64;
            fetched += 1;
            if let Some(t) = self.total_of(s, &reply.body) {
                stated = Some(stated.map_or(t, |s| s.max(t)));
            }
            // An empty page before the stated end is a broken listing (a proxy, a vendor fault), not its end.
            if count == 0 && stated.is_some_and(|t| offset < t) {
                return Err(self.incomplete(s, offset, stated));
            }
            self.keep(s, &records);
            let batch = self.map(s, parent, &records, page)?;
            if !batch.records.is_empty() || !batch.skipped.is_empty() {
                sink.batch(batch).await.map_err(ConnectorError::Sink)?;
            }
            let children = self.children(&s.name);
            if !children.is_empty() {
                self.fan_out(&children, &records, sink).await?;
            }
            offset += count;
            next = match self.next(s, &reply, count, offset, fetched)? {
                Some(n) => n,
                None if stated.is_some_and(|t| offset < t) => return Err(self.incomplete(s, offset, stated)),
                None => return Ok(()),
            };
            let key = format!("{next:?}");
            if !seen_cursors.insert(key) {
                return Err(ConnectorError::Upstream {
                    status: reply.status,
                    message: format!("stream {} page {page}: the vendor returned the same next page twice", s.name),
                });
            }
        }
    }

    async fn fan_out<S: Sink>(
        &self,
        children: &[&Stream],
        parents: &[Value],
        sink: &mut S,
    ) -> Result<(), ConnectorError> {
        let limit = self.def.concurrency.unwrap_or(4).max(1);
        for child in children {
            // Futures collected first: a lazy iterator adapter here trips the Send check on spawn.
            let fetches: Vec<_> = parents.iter().map(|p| self.fetch_child(child, p)).collect();
            let mut fetches = futures_util::stream::iter(fetches).buffered(limit);
            while let Some(batches) = fetches.next().await {
                for b in batches? {
                    sink.batch(b).await.map_err(ConnectorError::Sink)?;
                }
            }
        }
        Ok(())
    }

    /// Every page of a fanned-out stream for one parent record.
    async fn fetch_child(&self, child: &Stream, parent: &Value) -> Result<Vec<Batch>, ConnectorError> {
        let mut collected = Collect(Vec::new());
        // Boxed: a stream and its fan-out call each other.
        Box::pin(self.stream(child, Some(parent), &mut collected)).await?;
        Ok(collected.0)
    }

    fn records(&self, s: &Stream, body: &Value, page: u64) -> Result<Vec<Value>, ConnectorError> {
        let at = if s.records.is_empty() { Some(body) } else { body.pointer(&s.records) };
        let Some(at) = at.filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
        if s.single {
            return Ok(vec![at.clone()]);
        }
        if s.entries {
            let Value::Object(m) = at else {
                return Err(self.field_error(
                    s,
                    page,
                    FieldError { field: s.records.clone(), message: "is not an object".into() },
                ));
            };
            return Ok(m.iter().map(|(k, v)| serde_json::json!({"key": k, "value": v})).collect());
        }
        match at {
            Value::Array(items) => Ok(items.clone()),
            _ => Err(self.field_error(
                s,
                page,
                FieldError {
                    field: if s.records.is_empty() { "(body)".into() } else { s.records.clone() },
                    message: "is not a list".into(),
                },
            )),
        }
    }

    fn keep(&self, s: &Stream, records: &[Value]) {
        let Some(k) = &s.keep else { return };
        let mut lookups = self.lookups.lock().unwrap_or_else(|e| e.into_inner());
        let table = lookups.entry(k.name.clone()).or_default();
        for r in records {
            if let (Some(key), Some(value)) = (r.pointer(&k.key), r.pointer(&k.value)) {
                table.insert(mapping::as_text(key), mapping::as_text(value));
            }
        }
    }

    /// The total the vendor states for the listing: the stream's `total` pointer, SCIM's `totalResults`.
    fn total_of(&self, s: &Stream, body: &Value) -> Option<u64> {
        let pointer = match (&s.total, &s.paging) {
            (Some(p), _) => p.as_str(),
            (None, Paging::Scim { .. }) => "/totalResults",
            (None, _) => return None,
        };
        let v = body.pointer(pointer)?;
        v.as_u64().or_else(|| v.as_str().and_then(|t| t.trim().parse().ok()))
    }

    fn incomplete(&self, s: &Stream, seen: u64, total: Option<u64>) -> ConnectorError {
        let total = total.unwrap_or(seen);
        tracing::warn!(connector = %self.def.name, stream = %s.name, seen, total, "listing ended before the stated total");
        ConnectorError::Incomplete { stream: s.name.clone(), seen, total }
    }

    fn field_error(&self, s: &Stream, page: u64, e: FieldError) -> ConnectorError {
        ConnectorError::Field {
            connector: self.def.name.clone(),
            stream: s.name.clone(),
            page,
            field: e.field,
            message: e.message,
        }
    }

    fn map(&self, s: &Stream, parent: Option<&Value>, records: &[Value], page: u64) -> Result<Batch, ConnectorError> {
        let lookups = self.lookups.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut out = Vec::new();
        let mut warnings = Vec::new();
        let mut skipped = Vec::new();
        let mappings: Vec<(RecordKind, &super::definition::Mapping)> = RecordKind::ALL
            .iter()
            .filter_map(|k| {
                let m = match k {
                    RecordKind::Person => s.person.as_ref(),
                    RecordKind::Account => s.account.as_ref(),
                    RecordKind::LicencePool => s.licence_pool.as_ref(),
                    RecordKind::AppGrant => s.app_grant.as_ref(),
                    RecordKind::Activity => s.activity.as_ref(),
                };
                m.map(|m| (*k, m))
            })
            .collect();
        for r in records {
            let elements: Vec<Option<&Value>> = match &s.explode {
                Some(p) => {
                    r.pointer(p).and_then(Value::as_array).map(|a| a.iter().map(Some).collect()).unwrap_or_default()
                }
                None => vec![None],
            };
            for element in elements {
                let scope = Scope { record: r, parent, element, lookups: &lookups };
                let mut mapped = Vec::new();
                let mut failed = None;
                for (kind, m) in &mappings {
                    match mapping::map_record(*kind, m, &scope, &mut warnings) {
                        Ok(Some(rec)) => mapped.push(rec),
                        Ok(None) => {}
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                // One unreadable record is left out whole (all its kinds); the listing carries on.
                match failed {
                    None => out.extend(mapped),
                    Some(e) => skipped.push(Skipped {
                        stream: s.name.clone(),
                        page,
                        field: e.field,
                        problem: e.message,
                        external_id: external_id_of(&mappings, &scope),
                    }),
                }
            }
        }
        if !skipped.is_empty() {
            let mut kept = self.skipped.lock().unwrap_or_else(|e| e.into_inner());
            kept.1 += skipped.len() as u64;
            let room = SKIPPED_KEPT.saturating_sub(kept.0.len());
            kept.0.extend(skipped.iter().take(room).cloned());
            tracing::warn!(connector = %self.def.name, stream = %s.name, page, skipped = skipped.len(), "records skipped: a required field is missing or unreadable");
        }
        if !warnings.is_empty() {
            let mut w = self.warnings.lock().unwrap_or_else(|e| e.into_inner());
            w.1 += warnings.len() as u64;
            for e in warnings.into_iter().take(20usize.saturating_sub(w.0.len())) {
                w.0.push(format!("stream {}, page {page}: {e}", s.name));
            }
        }
        let merge_on = match s.merge_on.as_deref() {
            Some("email") => MergeOn::Email,
            Some("username") => MergeOn::Username,
            _ => MergeOn::ExternalId,
        };
        let tracks_activity = s.account.as_ref().is_some_and(|m| m.contains_key("last_active_at"));
        Ok(Batch { stream: s.name.clone(), page, records: out, skipped, merge_on, tracks_activity })
    }

    fn next(
        &self,
        s: &Stream,
        reply: &Reply,
        count: u64,
        offset: u64,
        fetched: u64,
    ) -> Result<Option<Next>, ConnectorError> {
        let text =
            |p: &str| reply.body.pointer(p).filter(|v| !v.is_null()).map(mapping::as_text).filter(|v| !v.is_empty());
        let flag = |p: &Option<String>| p.as_deref().and_then(|p| reply.body.pointer(p)).and_then(Value::as_bool);
        Ok(match &s.paging {
            Paging::None => None,
            Paging::LinkHeader => {
                let link =
                    reply.headers.get_all("link").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
                match next_link(&link) {
                    Some(u) => Some(Next::Url(self.same_host(&reply.url, &u)?)),
                    None => None,
                }
            }
            Paging::Cursor { param, next, has_more } => match (text(next), flag(has_more)) {
                (_, Some(false)) | (None, _) => None,
                (Some(c), _) => Some(Next::Query(param.clone(), c)),
            },
            Paging::NextUrl { next, done } => match (text(next), flag(done)) {
                (_, Some(true)) | (None, _) => None,
                (Some(u), _) => Some(Next::Url(self.same_host(&reply.url, &u)?)),
            },
            Paging::Page { param, start, pages, size } => {
                let current = start + fetched - 1;
                let last_by_count = pages
                    .as_deref()
                    .and_then(|p| reply.body.pointer(p))
                    .and_then(Value::as_u64)
                    .is_some_and(|n| current >= n);
                let short = size.is_some_and(|sz| count < sz);
                if count == 0 || last_by_count || short {
                    None
                } else {
                    Some(Next::Query(param.clone(), (current + 1).to_string()))
                }
            }
            Paging::Offset { param, size } => {
                if count < *size {
                    None
                } else {
                    Some(Next::Query(param.clone(), offset.to_string()))
                }
            }
            Paging::Scim { count: _ } => {
                let total = self.total_of(s, &reply.body).unwrap_or(0);
                if count == 0 || offset >= total {
                    None
                } else {
                    Some(Next::Query("startIndex".into(), (offset + 1).to_string()))
                }
            }
            Paging::PostCursor { path, cursor, has_more } => {
                let more = reply.body.pointer(has_more).and_then(Value::as_bool).unwrap_or(false);
                match (more, text(cursor)) {
                    (true, Some(c)) => Some(Next::Body(
                        self.params.under_base(&self.render(path, None, true)?)?,
                        serde_json::json!({"cursor": c}),
                    )),
                    _ => None,
                }
            }
        })
    }

    /// A next-page URL must stay on the host that gave it (relative URLs are joined to it).
    fn same_host(&self, from: &Url, next: &str) -> Result<Url, ConnectorError> {
        let url = from.join(next).map_err(|e| ConnectorError::Upstream {
            status: 200,
            message: format!("next page URL {next:?} is not a URL: {e}"),
        })?;
        if url.host_str() != from.host_str() || url.port_or_known_default() != from.port_or_known_default() {
            return Err(ConnectorError::Upstream {
                status: 200,
                message: format!("refusing a next page on another host ({})", url.host_str().unwrap_or("?")),
            });
        }
        Ok(url)
    }
}

/// The vendor's id of a record, read through the seat's or the person's `external_id` mapping.
fn external_id_of(mappings: &[(RecordKind, &super::definition::Mapping)], scope: &Scope) -> Option<String> {
    mappings.iter().filter(|(k, _)| matches!(k, RecordKind::Account | RecordKind::Person)).find_map(|(_, m)| {
        match mapping::read("external_id", super::records::Target::Text, m.get("external_id")?, scope) {
            Ok(Some(super::records::Val::Text(id))) if !id.is_empty() => Some(id),
            _ => None,
        }
    })
}

struct Collect(Vec<Batch>);

impl Sink for Collect {
    async fn batch(&mut self, batch: Batch) -> Result<(), String> {
        self.0.push(batch);
        Ok(())
    }
}

/// The `rel="next"` URL of a Link header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn link_headers() {
        let h = r#"<https://api.github.com/orgs/x/members?page=2>; rel="next", <https://api.github.com/orgs/x/members?page=9>; rel="last""#;
        assert_eq!(super::next_link(h).as_deref(), Some("https://api.github.com/orgs/x/members?page=2"));
        assert_eq!(super::next_link(r#"<https://o.okta.com/api/v1/users?limit=2>; rel="self""#), None);
    }
}
