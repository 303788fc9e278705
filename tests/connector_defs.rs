//! The builtin connector definitions (`integrations/*.toml`) run by the engine against the
//! in-process vendor fakes: records per kind, key fields, pages, throttling and refused
//! credentials. No database is involved.

use crate::once;
use crate::support::Test;
use chrono::{DateTime, NaiveDateTime, Utc};
use secrecy::SecretString;
use stackward::connectors::{self, Batch, ConnectorError, Definition, Outcome, Params, Record, RecordKind, Registry};
use stackward::fakes::{FakeServer, FakeUser, Vendor, CLIENT_ID, CLIENT_SECRET};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn tests() -> Vec<Test> {
    vec![once!(salesforce_reads_users_and_licences_by_soql_pages)]
}

/// Collects every page a run hands over.
#[derive(Default)]
struct Collect(Vec<Batch>);

impl connectors::Sink for Collect {
    async fn batch(&mut self, b: Batch) -> Result<(), String> {
        self.0.push(b);
        Ok(())
    }
}

impl Collect {
    fn records(&self, kind: RecordKind) -> Vec<&Record> {
        self.0.iter().flat_map(|b| b.records.iter()).filter(|r| r.kind == kind).collect()
    }

    fn count(&self, kind: RecordKind) -> usize {
        self.records(kind).len()
    }

    /// The one record of `kind` whose `field` is `value`.
    fn find(&self, kind: RecordKind, field: &str, value: &str) -> &Record {
        let found: Vec<&Record> = self.records(kind).into_iter().filter(|r| r.text(field) == Some(value)).collect();
        assert_eq!(found.len(), 1, "{} {field} = {value}: {found:?}", kind.name());
        found[0]
    }
}

fn definition(name: &str) -> Arc<Definition> {
    let registry = Registry::load(None);
    assert!(registry.problems().is_empty(), "{:?}", registry.problems());
    registry.get(name).unwrap_or_else(|| panic!("no builtin connector {name}"))
}

/// A connection to the fake: the given settings over the definition's defaults, and secrets.
fn params(def: &Definition, base_url: &str, settings: &[(&str, &str)], secrets: &[(&str, &str)]) -> Params {
    let mut s: std::collections::BTreeMap<String, String> =
        def.settings.iter().filter_map(|(k, p)| p.default.clone().map(|d| (k.clone(), d))).collect();
    s.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Params {
        connection: "test".into(),
        settings: s,
        secrets: secrets.iter().map(|(k, v)| (k.to_string(), SecretString::from(v.to_string()))).collect(),
        base_url: base_url.to_string(),
        overridden: true,
    }
}

/// Runs the connector on a runtime of its own: the engine's run future is not `Send` (its fan-out
/// closure is not general over lifetimes), and the test harness wants `Send` futures.
async fn run(def: &Arc<Definition>, p: Params) -> (Result<Outcome, ConnectorError>, Collect) {
    let def = def.clone();
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut sink = Collect::default();
            let r = connectors::run(&def, p, connectors::http::client(), &mut sink).await;
            (r, sink)
        })
    })
    .await
    .unwrap()
}

/// The fake's live users.
fn users(fake: &FakeServer) -> Vec<FakeUser> {
    let dir = fake.state.users();
    dir.indices().filter_map(|i| dir.user(i)).collect()
}

fn user(fake: &FakeServer, pick: impl Fn(&FakeUser) -> bool) -> FakeUser {
    users(fake).into_iter().find(|u| pick(u)).expect("the directory rules give such a user")
}

/// A fake's time as the vendor writes it, to `precision` (seconds the vendor keeps).
fn near(got: Option<NaiveDateTime>, want: DateTime<Utc>, precision: Duration) {
    let got = got.expect("a time");
    let diff = (got - want.naive_utc()).abs().to_std().unwrap();
    assert!(diff <= precision, "{got} vs {want}");
}

fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size) as u64
}

async fn salesforce_reads_users_and_licences_by_soql_pages() {
    let fake = FakeServer::start(Vendor::Salesforce, 250).await.unwrap();
    fake.remove_user(7);
    let def = definition("salesforce");
    let settings = [("my_domain", "acme"), ("client_id", CLIENT_ID), ("batch_size", "200")];
    let p = params(&def, &fake.base_url, &settings, &[("client_secret", CLIENT_SECRET)]);
    let (r, got) = run(&def, p.clone()).await;
    let outcome = r.unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let all = users(&fake);
    assert_eq!(got.count(RecordKind::Account), all.len());
    // The users in pages of 200 by nextRecordsUrl, then one licence query; the token is not counted.
    assert_eq!(outcome.api_calls, pages(all.len(), 200) + 1, "{outcome:?}");
    let query_pages = fake.log().iter().filter(|l| l.path_and_query.contains("/query/01g")).count();
    assert_eq!(query_pages, 1, "one nextRecordsUrl page");

    let admin = got.find(RecordKind::Account, "email", "user0@example.com");
    assert!(admin.text("external_id").is_some_and(|id| id.len() == 18 && id.starts_with("005")));
    assert_eq!(admin.text("username"), Some("user0@example.com.sf"));
    assert_eq!(admin.text("role"), Some("System Administrator"));
    assert_eq!(admin.text("licence"), Some("Salesforce"));
    let suspended = user(&fake, |u| u.suspended);
    let s = got.find(RecordKind::Account, "email", &suspended.email);
    assert_eq!((s.text("status"), s.bool("billable")), (Some("suspended"), Some(false)));
    let unlicensed = user(&fake, |u| !u.licensed && !u.suspended);
    let a = got.find(RecordKind::Account, "email", &unlicensed.email);
    assert_eq!((a.text("status"), a.text("licence")), (Some("active"), Some("Salesforce Platform")));
    let never = user(&fake, |u| u.last_active.is_none());
    assert_eq!(got.find(RecordKind::Account, "email", &never.email).time("last_active_at"), None);
    let signed_in = user(&fake, |u| u.last_active.is_some());
    let r = got.find(RecordKind::Account, "email", &signed_in.email);
    near(r.time("last_active_at"), signed_in.last_active.unwrap(), Duration::from_millis(1));
    assert!(got.0.iter().filter(|b| b.stream == "users").all(|b| b.tracks_activity));

    let pools = got.records(RecordKind::LicencePool);
    assert_eq!(pools.len(), 2, "{pools:?}");
    let active = all.iter().filter(|u| !u.suspended);
    let full = active.clone().filter(|u| u.licensed).count() as i64;
    let sfdc = got.find(RecordKind::LicencePool, "sku", "SFDC");
    assert_eq!(
        (sfdc.text("name"), sfdc.int("consumed"), sfdc.int("purchased")),
        (Some("Salesforce"), Some(full), Some(full + 7))
    );
    let platform = got.find(RecordKind::LicencePool, "sku", "AUL");
    assert_eq!(platform.int("consumed"), Some(active.filter(|u| !u.licensed).count() as i64));

    // Salesforce's only limit signal is the spent 24-hour allocation: reported, never waited.
    fake.throttle("/query", 1);
    let started = Instant::now();
    let (r, _) = run(&def, p.clone()).await;
    assert!(matches!(r, Err(ConnectorError::RateLimited { until: None, .. })), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(1));

    let bad = params(&def, &fake.base_url, &settings, &[("client_secret", "wrong")]);
    let (r, _) = run(&def, bad).await;
    assert!(matches!(r, Err(ConnectorError::Unauthorized(_))), "{r:?}");
    assert!(def.actions.iter().any(|a| a.name == "reclaim" && a.method == "PATCH"));
    fake.stop().await;
}
