//! The builtin connector definitions (`integrations/*.toml`) run by the engine against the
//! in-process vendor fakes: records per kind, key fields, pages, throttling and refused
//! credentials. No database is involved.

use crate::once;
use crate::support::Test;
use chrono::{DateTime, NaiveDateTime, Utc};
use secrecy::SecretString;
use stackward::connectors::{self, Batch, ConnectorError, Definition, Outcome, Params, Record, RecordKind, Registry};
use stackward::fakes::{FakeServer, FakeUser, Vendor, CLIENT_ID, CLIENT_SECRET, TOKEN};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn tests() -> Vec<Test> {
    vec![
        once!(salesforce_reads_users_and_licences_by_soql_pages),
        once!(dropbox_signs_in_with_pkce_and_reads_members_and_licences),
        once!(atlassian_makes_one_seat_per_product),
        once!(hubspot_reads_users_by_after_cursor),
        once!(zendesk_reads_agents_by_cursor),
        once!(asana_merges_memberships_into_users),
    ]
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
    // Counted, not timed: a wait would show as a second query, and a timing bound fails on a busy machine.
    let queries = || fake.log().iter().filter(|l| l.path_and_query.contains("/query")).count();
    let before = queries();
    fake.throttle("/query", 1);
    let (r, _) = run(&def, p.clone()).await;
    assert!(matches!(r, Err(ConnectorError::RateLimited { until: None, .. })), "{r:?}");
    assert_eq!(queries(), before + 1, "the spent allocation is reported after one query, never retried");

    let bad = params(&def, &fake.base_url, &settings, &[("client_secret", "wrong")]);
    let (r, _) = run(&def, bad).await;
    assert!(matches!(r, Err(ConnectorError::Unauthorized(_))), "{r:?}");
    assert!(def.actions.iter().any(|a| a.name == "reclaim" && a.method == "PATCH"));
    fake.stop().await;
}

/// The Dropbox consent dance against the fake, as the connection's OAuth start and callback do it:
/// the definition's authorize URL with PKCE and its authorize_params, then the code exchange.
async fn dropbox_refresh_token(def: &Definition, p: &Params) -> String {
    use base64::Engine;
    use sha2::Digest;
    let connectors::definition::Auth::Oauth2AuthorizationCode { authorize_url, token_url, authorize_params, .. } =
        &def.auth
    else {
        panic!("dropbox signs in by authorization code")
    };
    let verifier = "a-code-verifier-of-at-least-forty-three-characters-0123456789";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
    let redirect = "http://localhost/oauth/callback";
    let mut url = p.absolute(authorize_url).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .extend_pairs(authorize_params.iter());
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let consent = http.get(url).send().await.unwrap();
    let location = consent.headers()["location"].to_str().unwrap().to_string();
    let code = url::Url::parse(&location).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("client_id", CLIENT_ID),
        ("code_verifier", verifier),
    ];
    let tokens: serde_json::Value =
        http.post(p.absolute(token_url).unwrap()).form(&form).send().await.unwrap().json().await.unwrap();
    tokens["refresh_token"].as_str().expect("offline access gives a refresh token").to_string()
}

async fn dropbox_signs_in_with_pkce_and_reads_members_and_licences() {
    // More than one 1000-member page, so continue_v2 is exercised.
    let fake = FakeServer::start(Vendor::Dropbox, 1250).await.unwrap();
    fake.remove_user(7);
    let def = definition("dropbox");
    let settings = [("client_id", CLIENT_ID)];
    let bare = params(&def, &fake.base_url, &settings, &[]);
    let refresh = dropbox_refresh_token(&def, &bare).await;
    let p = params(&def, &fake.base_url, &settings, &[("oauth_refresh_token", &refresh)]);
    let (r, got) = run(&def, p.clone()).await;
    let outcome = r.unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let all = users(&fake);
    assert_eq!(got.count(RecordKind::Account), all.len());
    assert_eq!(outcome.api_calls, pages(all.len(), 1000) + 1, "{outcome:?}");
    assert!(outcome.tokens.is_some(), "the access token fetched by refresh is handed back to be stored");
    let continued = fake.log().iter().filter(|l| l.path_and_query.ends_with("/continue_v2")).count();
    assert_eq!(continued, 1);

    let a = got.find(RecordKind::Account, "email", "user0@example.com");
    assert_eq!((a.text("role"), a.text("licence"), a.bool("billable")), (Some("Team admin"), Some("full"), Some(true)));
    assert!(a.text("external_id").is_some_and(|id| id.starts_with("dbmid:")));
    let suspended = user(&fake, |u| u.suspended);
    assert_eq!(got.find(RecordKind::Account, "email", &suspended.email).text("status"), Some("suspended"));
    let limited = user(&fake, |u| !u.licensed);
    let l = got.find(RecordKind::Account, "email", &limited.email);
    assert_eq!((l.text("licence"), l.bool("billable")), (Some("limited"), Some(false)));
    assert!(got.records(RecordKind::Account).iter().all(|r| r.time("last_active_at").is_none()));
    assert!(got.0.iter().all(|b| !b.tracks_activity), "Dropbox members carry no activity");

    let pools = got.records(RecordKind::LicencePool);
    assert_eq!(pools.len(), 1);
    let used = all.iter().filter(|u| u.licensed).count() as i64;
    assert_eq!((pools[0].int("consumed"), pools[0].int("purchased")), (Some(used), Some(used + 5)));

    // A stale stored access token is refreshed; a throttled continue page is waited out.
    fake.throttle("continue_v2", 1);
    let stale = [("oauth_refresh_token", refresh.as_str()), ("oauth_access_token", "stale")];
    let started = Instant::now();
    let (r, got) = run(&def, params(&def, &fake.base_url, &settings, &stale)).await;
    let outcome = r.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1) && outcome.throttled_secs >= 1, "{outcome:?}");
    assert_eq!(got.count(RecordKind::Account), all.len());

    let bad = params(&def, &fake.base_url, &settings, &[("oauth_refresh_token", "revoked")]);
    let (r, _) = run(&def, bad).await;
    assert!(matches!(r, Err(ConnectorError::Unauthorized(_))), "{r:?}");
    assert!(def.actions.is_empty(), "suspending a Dropbox member frees no licence");
    fake.stop().await;
}

async fn atlassian_makes_one_seat_per_product() {
    let fake = FakeServer::start(Vendor::Atlassian, 250).await.unwrap();
    fake.remove_user(7);
    let def = definition("atlassian");
    let settings = [("org_id", "org-1")];
    let p = params(&def, &fake.base_url, &settings, &[("api_key", TOKEN)]);
    let (r, got) = run(&def, p.clone()).await;
    let outcome = r.unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let all = users(&fake);
    // The fake's rule: licensed users use Jira Software, and every third of them Confluence too.
    let jira = all.iter().filter(|u| u.licensed).count();
    let confluence = all.iter().filter(|u| u.licensed && u.index % 3 == 0).count();
    let seats = got.records(RecordKind::Account);
    assert_eq!(seats.len(), jira + confluence);
    assert_eq!(seats.iter().filter(|r| r.text("app") == Some("Jira Software")).count(), jira);
    assert_eq!(seats.iter().filter(|r| r.text("app") == Some("Confluence")).count(), confluence);
    assert_eq!(outcome.api_calls, pages(all.len(), 100), "{outcome:?}");

    let u = user(&fake, |u| u.licensed && u.index % 3 == 0 && u.last_active.is_some() && !u.suspended);
    let mine: Vec<&&Record> = seats.iter().filter(|r| r.text("email") == Some(u.email.as_str())).collect();
    assert_eq!(mine.len(), 2);
    for r in &mine {
        assert_eq!(r.text("status"), Some("active"));
        assert_eq!(r.bool("billable"), Some(true));
        let day = u.last_active.unwrap().date_naive().and_hms_opt(0, 0, 0);
        assert_eq!(r.time("last_active_at"), day, "Atlassian reports the day");
    }
    assert_eq!(mine[0].text("external_id"), mine[1].text("external_id"));
    let never = user(&fake, |u| u.licensed && u.index % 3 != 0 && u.last_active.is_none());
    let r = got.find(RecordKind::Account, "email", &never.email);
    assert_eq!((r.text("app"), r.time("last_active_at")), (Some("Jira Software"), None));
    let suspended = user(&fake, |u| u.licensed && u.suspended);
    let s: Vec<&&Record> = seats.iter().filter(|r| r.text("email") == Some(suspended.email.as_str())).collect();
    assert!(!s.is_empty() && s.iter().all(|r| r.text("status") == Some("suspended")));
    let unlicensed = user(&fake, |u| !u.licensed);
    assert!(seats.iter().all(|r| r.text("email") != Some(unlicensed.email.as_str())), "no product, no seat");
    assert!(got.0.iter().all(|b| b.tracks_activity));

    fake.throttle("/users", 1);
    let started = Instant::now();
    let (r, again) = run(&def, p).await;
    r.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(again.count(RecordKind::Account), seats.len());

    let (r, _) = run(&def, params(&def, &fake.base_url, &settings, &[("api_key", "expired-key")])).await;
    assert!(matches!(r, Err(ConnectorError::Unauthorized(_))), "{r:?}");
    fake.stop().await;
}

async fn hubspot_reads_users_by_after_cursor() {
    let fake = FakeServer::start(Vendor::Hubspot, 250).await.unwrap();
    fake.remove_user(7);
    let def = definition("hubspot");
    let p = params(&def, &fake.base_url, &[], &[("token", TOKEN)]);
    let (r, got) = run(&def, p.clone()).await;
    let outcome = r.unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let all = users(&fake);
    assert_eq!(got.count(RecordKind::Account), all.len());
    assert_eq!(outcome.api_calls, pages(all.len(), 100), "{outcome:?}");
    let admin = got.find(RecordKind::Account, "email", "user0@example.com");
    assert_eq!((admin.text("name"), admin.text("role")), (Some("Ada Ng"), None));
    let seller = user(&fake, |u| u.licensed && !u.admin);
    let r = got.find(RecordKind::Account, "email", &seller.email);
    assert_eq!(r.text("external_id"), Some(seller.number().to_string().as_str()));
    assert_eq!(r.text("role"), Some("100001"));
    // HubSpot v3 says nothing of seats or sign-ins: unknown, never guessed.
    assert!(got
        .records(RecordKind::Account)
        .iter()
        .all(|r| r.bool("billable").is_none() && r.time("last_active_at").is_none() && r.text("status").is_none()));
    assert!(got.0.iter().all(|b| !b.tracks_activity));
    assert_eq!(got.count(RecordKind::LicencePool), 0);

    // The ten-secondly limit has no wait hint: backoff from one second.
    fake.throttle("/settings/v3/users", 1);
    let started = Instant::now();
    let (r, _) = run(&def, p).await;
    r.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));

    let (r, _) = run(&def, params(&def, &fake.base_url, &[], &[("token", "pat-na1-wrong")])).await;
    assert!(matches!(r, Err(ConnectorError::Unauthorized(_))), "{r:?}");
    fake.stop().await;
}

async fn zendesk_reads_agents_by_cursor() {
    let fake = FakeServer::start(Vendor::Zendesk, 250).await.unwrap();
    fake.remove_user(7);
    let def = definition("zendesk");
    let settings = [("subdomain", "acme"), ("email", "admin@example.com")];
    let p = params(&def, &fake.base_url, &settings, &[("api_token", TOKEN)]);
    // The definition's base URL is a template over the subdomain; the connection renders it.
    let real = p.render(def.base_url.as_deref().unwrap()).unwrap();
    assert_eq!(real, "https://acme.zendesk.com");
    let (r, got) = run(&def, p.clone()).await;
    let outcome = r.unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    // Admins and licensed users are agents (paid seats); end-users are not read.
    let agents: Vec<FakeUser> = users(&fake).into_iter().filter(|u| u.admin || u.licensed).collect();
    assert_eq!(got.count(RecordKind::Account), agents.len());
    assert_eq!(outcome.api_calls, pages(agents.len(), 100), "{outcome:?}");
    let log = fake.log();
    assert!(log
        .iter()
        .all(|l| l.path_and_query.contains("role[]=agent") || l.path_and_query.contains("role%5B%5D=agent")));

    let admin = got.find(RecordKind::Account, "email", "user0@example.com");
    assert_eq!((admin.text("role"), admin.bool("billable")), (Some("admin"), Some(true)));
    assert_eq!(admin.text("external_id"), Some("1000000"));
    let suspended = user(&fake, |u| u.licensed && u.suspended);
    assert_eq!(got.find(RecordKind::Account, "email", &suspended.email).text("status"), Some("suspended"));
    let never = user(&fake, |u| u.licensed && u.last_active.is_none());
    assert_eq!(got.find(RecordKind::Account, "email", &never.email).time("last_active_at"), None);
    let signed_in = user(&fake, |u| u.licensed && u.last_active.is_some());
    let r = got.find(RecordKind::Account, "email", &signed_in.email);
    near(r.time("last_active_at"), signed_in.last_active.unwrap(), Duration::from_secs(1));
    let end_user = user(&fake, |u| !u.licensed && !u.admin);
    assert!(got.records(RecordKind::Account).iter().all(|r| r.text("email") != Some(end_user.email.as_str())));

    fake.throttle("/api/v2/users", 1);
    let started = Instant::now();
    let (r, _) = run(&def, p).await;
    r.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));

    let (r, _) = run(&def, params(&def, &fake.base_url, &settings, &[("api_token", "revoked")])).await;
    assert!(matches!(r, Err(ConnectorError::Unauthorized(_))), "{r:?}");
    fake.stop().await;
}

async fn asana_merges_memberships_into_users() {
    let fake = FakeServer::start(Vendor::Asana, 250).await.unwrap();
    fake.remove_user(7);
    let def = definition("asana");
    let settings = [("workspace_gid", "1200000000000001")];
    let p = params(&def, &fake.base_url, &settings, &[("token", TOKEN)]);
    let (r, got) = run(&def, p.clone()).await;
    let outcome = r.unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let all = users(&fake);
    assert_eq!(got.count(RecordKind::Account), all.len());
    assert_eq!(got.count(RecordKind::Activity), all.len());
    assert_eq!(outcome.api_calls, 2 * pages(all.len(), 100), "{outcome:?}");
    let log = fake.log();
    assert!(log.iter().all(|l| l.path_and_query.contains("opt_fields=")));
    assert!(
        log.iter().any(|l| l.path_and_query.starts_with("/api/1.0/users?")
            && l.path_and_query.contains("workspace=1200000000000001")),
        "the paginated /users listing, not the 2,000-user one"
    );

    // Every membership keys onto a user read first.
    let ids: std::collections::BTreeSet<&str> =
        got.records(RecordKind::Account).iter().filter_map(|r| r.text("external_id")).collect();
    assert!(got.records(RecordKind::Activity).iter().all(|r| r.text("key").is_some_and(|k| ids.contains(k))));
    assert!(got.0.iter().filter(|b| b.stream == "memberships").all(|b| b.merge_on == connectors::MergeOn::ExternalId));
    let account = got.find(RecordKind::Account, "email", "user0@example.com");
    let key = account.text("external_id").unwrap();
    let admin = got.find(RecordKind::Activity, "key", key);
    assert_eq!((admin.text("role"), admin.bool("billable")), (Some("admin"), Some(true)));
    let viewer = user(&fake, |u| !u.licensed && !u.suspended);
    let key = got.find(RecordKind::Account, "email", &viewer.email).text("external_id").unwrap();
    let v = got.find(RecordKind::Activity, "key", key);
    assert_eq!(
        (v.bool("billable"), v.text("licence"), v.text("status")),
        (Some(false), Some("Viewer"), Some("active"))
    );
    let gone = user(&fake, |u| u.suspended);
    let key = got.find(RecordKind::Account, "email", &gone.email).text("external_id").unwrap();
    assert_eq!(got.find(RecordKind::Activity, "key", key).text("status"), Some("removed"));
    assert!(got.records(RecordKind::Activity).iter().all(|r| r.time("last_active_at").is_none()));

    fake.throttle("workspace_memberships", 1);
    let started = Instant::now();
    let (r, _) = run(&def, p).await;
    r.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));

    let (r, _) = run(&def, params(&def, &fake.base_url, &settings, &[("token", "0/expired")])).await;
    assert!(matches!(r, Err(ConnectorError::Unauthorized(_))), "{r:?}");
    fake.stop().await;
}
