//! The builtin connector definitions against the vendor fakes: each reads its fake through the
//! connector engine alone (no database), and the records, page counts, throttling waits and
//! refusals are what the vendor's documented behaviour implies.

use crate::once;
use crate::support::Test;
use secrecy::SecretString;
use stackward::connectors::{self, Batch, ConnectorError, Outcome, Params, Record, RecordKind, Sink};
use stackward::fakes::{FakeServer, FakeUser, Vendor, TOKEN};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

pub fn tests() -> Vec<Test> {
    vec![
        once!(github_reads_members_plan_and_copilot_seats),
        once!(google_workspace_reads_people_licences_and_grants),
        once!(microsoft_365_reads_skus_people_seats_and_grants),
        once!(okta_reads_people_and_app_assignments),
        once!(slack_reads_members_billing_and_access_logs),
        once!(zoom_reads_users_and_plan_usage),
    ]
}

const USERS: usize = 250;

/// Every page the engine hands over, in order.
#[derive(Default)]
struct Collected(Vec<Batch>);

impl Sink for Collected {
    async fn batch(&mut self, batch: Batch) -> Result<(), String> {
        self.0.push(batch);
        Ok(())
    }
}

impl Collected {
    fn records(&self, stream: &str, kind: RecordKind) -> Vec<&Record> {
        self.0.iter().filter(|b| b.stream == stream).flat_map(|b| &b.records).filter(|r| r.kind == kind).collect()
    }

    /// Records of one stream and kind by a text field.
    fn by(&self, stream: &str, kind: RecordKind, field: &str) -> HashMap<String, &Record> {
        self.records(stream, kind).into_iter().filter_map(|r| Some((r.text(field)?.to_string(), r))).collect()
    }

    /// The last page number a stream handed over.
    fn pages(&self, stream: &str) -> u64 {
        self.0.iter().filter(|b| b.stream == stream).map(|b| b.page).max().unwrap_or(0)
    }

    fn batch(&self, stream: &str) -> &Batch {
        self.0.iter().find(|b| b.stream == stream).unwrap_or_else(|| panic!("no page from stream {stream}"))
    }
}

fn params(fake: &FakeServer, settings: &[(&str, &str)], secrets: &[(&str, &str)]) -> Params {
    Params {
        connection: "test".into(),
        settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
        secrets: secrets.iter().map(|(k, v)| (k.to_string(), SecretString::from(v.to_string()))).collect(),
        base_url: fake.base_url.clone(),
        overridden: true,
    }
}

async fn read(name: &str, p: Params) -> Result<(Outcome, Collected, Duration), ConnectorError> {
    let registry = connectors::Registry::load(None);
    assert!(registry.problems().is_empty(), "{:?}", registry.problems());
    let def = registry.get(name).unwrap_or_else(|| panic!("no builtin connector {name}"));
    let mut sink = Collected::default();
    let started = Instant::now();
    let outcome = connectors::run(&def, p, connectors::http::client(), &mut sink).await?;
    Ok((outcome, sink, started.elapsed()))
}

/// The directory's live users.
fn users(fake: &FakeServer) -> Vec<FakeUser> {
    let dir = fake.state.users();
    dir.indices().filter_map(|i| dir.user(i)).collect()
}

fn user(fake: &FakeServer, index: usize) -> FakeUser {
    fake.state.users().user(index).expect("a live user")
}

/// Seconds since the epoch of a record's time field (vendors write whole seconds or millis).
fn secs(r: &Record, field: &str) -> Option<i64> {
    r.time(field).map(|t| t.and_utc().timestamp())
}

fn last_active_secs(u: &FakeUser) -> Option<i64> {
    u.last_active.map(|t| t.timestamp())
}

fn pages(items: usize, size: usize) -> u64 {
    items.div_ceil(size).max(1) as u64
}

/// Asserts a run succeeded after waiting out one throttled reply for at least `hint`.
fn assert_waited(run: &Result<(Outcome, Collected, Duration), ConnectorError>, calls: u64, hint: Duration) {
    let (outcome, _, elapsed) = run.as_ref().expect("a throttled page is waited out");
    assert_eq!(outcome.api_calls, calls + 1, "the throttled request is sent again");
    assert!(*elapsed >= hint, "waited {elapsed:?}, the vendor asked for {hint:?}");
    assert!(outcome.throttled_secs >= hint.as_secs(), "{outcome:?}");
}

fn assert_unauthorized(run: Result<(Outcome, Collected, Duration), ConnectorError>) {
    match run {
        Err(ConnectorError::Unauthorized(_)) => {}
        Err(other) => panic!("expected Unauthorized, got {other}"),
        Ok((o, _, _)) => panic!("expected Unauthorized, the run succeeded: {o:?}"),
    }
}

async fn github_reads_members_plan_and_copilot_seats() {
    let fake = FakeServer::start(Vendor::Github, USERS).await.unwrap();
    let p = |token: &str| params(&fake, &[("org", "acme")], &[("token", token)]);
    let (outcome, got, _) = read("github", p(TOKEN)).await.unwrap();
    let live = users(&fake);
    let seat_holders: Vec<&FakeUser> = live.iter().filter(|u| u.licensed).collect();
    let (size, len) = {
        let dir = fake.state.users();
        (dir.size(), dir.len())
    };

    let plan = got.records("plan", RecordKind::LicencePool);
    assert_eq!(plan.len(), 1);
    assert_eq!((plan[0].text("sku"), plan[0].text("app")), (Some("github_team"), None));
    assert_eq!((plan[0].int("purchased"), plan[0].int("consumed")), (Some(size as i64 + 10), Some(len as i64)));

    let members = got.by("members", RecordKind::Account, "external_id");
    assert_eq!(members.len(), live.len());
    let m7 = members["1000007"];
    assert_eq!((m7.text("username"), m7.text("app"), m7.time("last_active_at")), (Some("user7"), None, None));
    assert!(!got.batch("members").tracks_activity, "GitHub reports no member activity");
    assert_eq!(got.pages("members"), pages(live.len(), 100));

    let copilot = got.records("copilot_billing", RecordKind::LicencePool);
    assert_eq!(copilot.len(), 1);
    assert_eq!(copilot[0].text("app"), Some("GitHub Copilot"));
    assert_eq!((copilot[0].int("consumed"), copilot[0].int("purchased")), (Some(seat_holders.len() as i64), None));

    let seats = got.by("copilot_seats", RecordKind::Account, "username");
    assert_eq!(seats.len(), seat_holders.len());
    assert!(seats.values().all(|s| s.text("app") == Some("GitHub Copilot") && s.text("licence") == Some("business")));
    assert!(got.batch("copilot_seats").tracks_activity);
    assert_eq!(secs(seats["user1"], "last_active_at"), last_active_secs(&user(&fake, 1)));
    assert_eq!(seats["user1"].text("external_id"), Some("1000001"));
    assert_eq!(seats["user3"].time("last_active_at"), None, "user3 never used Copilot");
    assert!(!seats.contains_key("user6"), "user6 holds no seat");
    assert_eq!(got.pages("copilot_seats"), pages(seat_holders.len(), 100));

    let calls = 1 + pages(live.len(), 100) + 1 + pages(seat_holders.len(), 100);
    assert_eq!(outcome.api_calls, calls);
    assert!(outcome.skipped_streams.is_empty() && outcome.warning_count == 0, "{outcome:?}");

    // The primary limit: 403 with x-ratelimit-remaining 0 and a reset one second ahead.
    fake.throttle("/members", 1);
    assert_waited(&read("github", p(TOKEN)).await, calls, Duration::from_secs(1));
    assert_unauthorized(read("github", p("wrong")).await);
    fake.stop().await;
}

async fn google_workspace_reads_people_licences_and_grants() {
    let fake = FakeServer::start(Vendor::GoogleWorkspace, USERS).await.unwrap();
    let key = stackward::fakes::google_service_account_json(&format!("{}/token", fake.base_url));
    let p = |admin: &str| {
        params(&fake, &[("admin_email", admin), ("customer_id", "C0fake000")], &[("service_account_key", &key)])
    };
    let (outcome, got, _) = read("google_workspace", p("user0@example.com")).await.unwrap();
    let live = users(&fake);

    let people = got.by("users", RecordKind::Person, "email");
    assert_eq!(people.len(), live.len());
    let p12 = people["user12@example.com"];
    assert_eq!(p12.text("manager_email"), Some("user10@example.com"));
    assert_eq!(
        (p12.text("department"), p12.text("status")),
        (Some(user(&fake, 12).department.as_str()), Some("active"))
    );
    assert_eq!(people["user5@example.com"].text("status"), Some("suspended"));

    let seats = got.by("users", RecordKind::Account, "email");
    assert_eq!(seats.len(), live.len());
    assert!(got.batch("users").tracks_activity);
    assert_eq!(seats["user3@example.com"].time("last_active_at"), None, "epoch-zero lastLoginTime is never");
    assert_eq!(secs(seats["user1@example.com"], "last_active_at"), last_active_secs(&user(&fake, 1)));
    assert_eq!(seats["user5@example.com"].text("status"), Some("suspended"));
    assert_eq!(seats["user0@example.com"].text("role"), Some("admin"));
    assert_eq!(got.pages("users"), pages(live.len(), 500));

    let licensed = live.iter().filter(|u| u.licensed).count();
    let licences = got.by("licence_assignments", RecordKind::Activity, "key");
    assert_eq!(licences.len(), licensed);
    assert_eq!(got.batch("licence_assignments").merge_on, stackward::connectors::MergeOn::Email);
    assert_eq!(licences["user0@example.com"].text("licence"), Some("Google Workspace Business Standard"));
    assert_eq!(licences["user1@example.com"].text("licence"), Some("Google Workspace Business Starter"));
    assert_eq!(licences["user1@example.com"].bool("billable"), Some(true));
    assert!(!licences.contains_key("user6@example.com"));

    let grants = got.records("oauth_grants", RecordKind::AppGrant);
    let expected: usize = live
        .iter()
        .map(|u| [u.index % 4 == 1, u.index % 9 == 2, u.index % 25 == 7].iter().filter(|g| **g).count())
        .sum();
    assert_eq!(grants.len(), expected);
    let calendly = grants.iter().find(|g| g.text("user_email") == Some("user1@example.com")).unwrap();
    assert_eq!(calendly.text("client_id"), Some("123-calendly.apps.googleusercontent.com"));
    assert_eq!(calendly.text("app_name"), Some("Calendly"));
    assert!(calendly.text("scopes").unwrap().contains("https://www.googleapis.com/auth/calendar,openid"));
    assert!(calendly.text("user_external_id").is_some());

    // One users page, one licence page, one grants request per user.
    let calls = pages(live.len(), 500) + pages(licensed, 1000) + live.len() as u64;
    assert_eq!(outcome.api_calls, calls);
    assert_eq!(outcome.warning_count, 0, "{outcome:?}");

    // 403 userRateLimitExceeded carries no hint: backoff from one second.
    fake.throttle("/admin/directory/v1/users?", 1);
    assert_waited(&read("google_workspace", p("user0@example.com")).await, calls, Duration::from_secs(1));
    // Domain-wide delegation refused for a subject who is no admin.
    assert_unauthorized(read("google_workspace", p("user1@example.com")).await);
    fake.stop().await;
}

async fn microsoft_365_reads_skus_people_seats_and_grants() {
    let fake = FakeServer::start(Vendor::Microsoft365, USERS).await.unwrap();
    let tenant = "5f0e8a3c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
    let p = |secret: &str| {
        params(
            &fake,
            &[("tenant_id", tenant), ("client_id", stackward::fakes::CLIENT_ID)],
            &[("client_secret", secret)],
        )
    };
    let (outcome, got, _) = read("microsoft_365", p(stackward::fakes::CLIENT_SECRET)).await.unwrap();
    let live = users(&fake);

    let pools = got.by("subscribed_skus", RecordKind::LicencePool, "sku");
    let e5 = live.iter().filter(|u| u.licensed && u.admin).count() as i64;
    let e3 = live.iter().filter(|u| u.licensed && !u.admin).count() as i64;
    assert_eq!(pools.len(), 2);
    assert_eq!((pools["SPE_E5"].int("purchased"), pools["SPE_E5"].int("consumed")), (Some(e5 + 5), Some(e5)));
    assert_eq!((pools["SPE_E3"].int("purchased"), pools["SPE_E3"].int("consumed")), (Some(e3 + 5), Some(e3)));

    let people = got.by("users", RecordKind::Person, "email");
    assert_eq!(people.len(), live.len());
    assert_eq!(people["user5@example.com"].text("status"), Some("suspended"), "accountEnabled false");
    assert_eq!(people["user4@example.com"].text("title"), Some("Specialist"));

    let seats = got.by("users", RecordKind::Account, "email");
    assert_eq!(seats.len(), live.len());
    let (s0, s1, s6) = (seats["user0@example.com"], seats["user1@example.com"], seats["user6@example.com"]);
    assert_eq!((s0.text("licence"), s0.bool("billable")), (Some("SPE_E5"), Some(true)));
    assert_eq!((s1.text("licence"), s1.bool("billable")), (Some("SPE_E3"), Some(true)));
    assert_eq!((s6.text("licence"), s6.bool("billable")), (None, Some(false)));
    assert_eq!(s1.text("external_id"), Some(user(&fake, 1).guid().as_str()));
    assert_eq!(secs(s1, "last_active_at"), last_active_secs(&user(&fake, 1)), "the later of the two sign-ins");
    assert_eq!(seats["user3@example.com"].time("last_active_at"), None);
    assert_eq!(seats["user5@example.com"].text("status"), Some("suspended"));
    assert_eq!(got.pages("users"), pages(live.len(), 999));

    let grants = got.records("oauth2_permission_grants", RecordKind::AppGrant);
    let expected: usize = live
        .iter()
        .map(|u| [u.index % 4 == 1, u.index % 9 == 2, u.index % 25 == 7].iter().filter(|g| **g).count())
        .sum();
    assert_eq!(grants.len(), expected);
    let guid1 = user(&fake, 1).guid();
    let calendly = grants.iter().find(|g| g.text("user_external_id") == Some(guid1.as_str())).unwrap();
    assert_eq!(calendly.text("client_id"), Some("a1b2c3d4-1111-4aaa-8bbb-000000000001"), "the app's appId");
    assert_eq!(calendly.text("app_name"), Some("Calendly"));
    assert_eq!(calendly.text("scopes"), Some("User.Read Calendars.ReadWrite offline_access"));
    // Graph's default page of grants is 100.
    assert_eq!(got.pages("oauth2_permission_grants"), pages(expected, 100));

    let calls = 1 + pages(live.len(), 999) + 2 + pages(expected, 100);
    assert_eq!(outcome.api_calls, calls);
    assert_eq!(outcome.warning_count, 0, "{outcome:?}");

    fake.throttle("/v1.0/users", 1);
    assert_waited(&read("microsoft_365", p(stackward::fakes::CLIENT_SECRET)).await, calls, Duration::from_secs(1));
    assert_unauthorized(read("microsoft_365", p("wrong")).await);
    fake.stop().await;
}

async fn okta_reads_people_and_app_assignments() {
    let fake = FakeServer::start(Vendor::Okta, USERS).await.unwrap();
    let p = |token: &str| params(&fake, &[], &[("token", token)]);
    let (outcome, got, _) = read("okta", p(TOKEN)).await.unwrap();
    let live = users(&fake);

    let people = got.by("users", RecordKind::Person, "email");
    assert_eq!(people.len(), live.len());
    assert_eq!(people["user5@example.com"].text("status"), Some("suspended"));
    assert_eq!(people["user12@example.com"].text("manager_email"), Some("user10@example.com"));
    assert_eq!(people["user12@example.com"].text("name"), Some(user(&fake, 12).full_name().as_str()));

    let seats = got.by("users", RecordKind::Account, "email");
    assert_eq!(seats.len(), live.len());
    assert!(seats.values().all(|s| s.text("app").is_none()), "seats in the definition's app, Okta");
    assert_eq!(seats["user3@example.com"].time("last_active_at"), None);
    assert_eq!(secs(seats["user1@example.com"], "last_active_at"), last_active_secs(&user(&fake, 1)));
    assert_eq!(seats["user1@example.com"].text("external_id"), Some(user(&fake, 1).id("00u").as_str()));
    assert_eq!(got.pages("users"), pages(live.len(), 200));

    let app_seats = got.records("app_users", RecordKind::Account);
    let count = |app: &str| app_seats.iter().filter(|s| s.text("app") == Some(app)).count();
    assert_eq!(count("Slack"), live.iter().filter(|u| u.licensed).count());
    assert_eq!(count("Zoom"), live.iter().filter(|u| u.index % 2 == 0).count());
    assert_eq!(count("Miro"), live.iter().filter(|u| u.index % 3 == 0).count());
    assert_eq!(count("Salesforce.com"), live.iter().filter(|u| u.index % 5 == 0).count());
    assert_eq!(app_seats.len(), count("Slack") + count("Zoom") + count("Miro") + count("Salesforce.com"));
    let zoom5 =
        app_seats.iter().find(|s| s.text("app") == Some("Zoom") && s.text("email") == Some("user10@example.com"));
    assert_eq!(zoom5.and_then(|s| s.text("status")), Some("active"));
    assert!(app_seats.iter().all(|s| s.time("last_active_at").is_none()), "Okta knows no per-app activity");

    // Users in pages of 200, one page of apps, one page (≤ 500) of assignments per app.
    let calls = pages(live.len(), 200) + 1 + 4;
    assert_eq!(outcome.api_calls, calls);
    assert_eq!(outcome.warning_count, 0, "{outcome:?}");

    // 429 E0000047 with X-Rate-Limit-Reset one second ahead.
    fake.throttle("/api/v1/users", 1);
    assert_waited(&read("okta", p(TOKEN)).await, calls, Duration::from_secs(1));
    assert_unauthorized(read("okta", p("wrong")).await);
    fake.stop().await;
}

async fn slack_reads_members_billing_and_access_logs() {
    let fake = FakeServer::start(Vendor::Slack, USERS).await.unwrap();
    let p = |fake: &FakeServer, token: &str| params(fake, &[], &[("token", token)]);
    let (outcome, got, _) = read("slack", p(&fake, TOKEN)).await.unwrap();
    let live = users(&fake);

    let seats = got.by("users", RecordKind::Account, "external_id");
    assert_eq!(seats.len(), live.len(), "the bot is no seat");
    assert!(!seats.contains_key("U0FAKEBOT"));
    let (s1, s5, s6) = (seats["U000001"], seats["U000005"], seats["U000006"]);
    assert_eq!(
        (s1.text("email"), s1.text("licence"), s1.text("status")),
        (Some("user1@example.com"), Some("member"), Some("active"))
    );
    assert_eq!(s5.text("status"), Some("removed"), "deactivated members are deleted");
    assert_eq!(s6.text("licence"), Some("guest"));
    assert_eq!(seats["U000000"].text("role"), Some("admin"));
    // users.list pages of 200, the bot taking a slot on the first.
    assert_eq!(got.pages("users"), pages(live.len() + 1, 200));

    let billable = got.by("billable", RecordKind::Activity, "key");
    assert_eq!(billable.len(), live.len());
    assert_eq!(got.batch("billable").merge_on, stackward::connectors::MergeOn::ExternalId);
    assert_eq!(billable["U000001"].bool("billable"), Some(true));
    assert_eq!(billable["U000005"].bool("billable"), Some(false));
    assert_eq!(billable["U000006"].bool("billable"), Some(false));

    let logins = got.records("access_logs", RecordKind::Activity);
    let rows: usize = live.iter().filter(|u| u.last_active.is_some()).map(|u| 1 + usize::from(u.index % 5 == 0)).sum();
    assert_eq!(logins.len(), rows);
    let mut latest: HashMap<&str, i64> = HashMap::new();
    for r in &logins {
        let t = secs(r, "last_active_at").unwrap();
        let e = latest.entry(r.text("key").unwrap()).or_insert(t);
        *e = (*e).max(t);
    }
    assert_eq!(latest.get("U000001").copied(), last_active_secs(&user(&fake, 1)));
    assert_eq!(latest.get("U00000A").copied(), last_active_secs(&user(&fake, 10)), "the latest of two clients");
    assert!(!latest.contains_key("U000003"), "user3 never signed in");

    let calls = pages(live.len() + 1, 200) + pages(live.len(), 200) + pages(rows, 1000);
    assert_eq!(outcome.api_calls, calls);
    assert!(outcome.skipped_streams.is_empty() && outcome.warning_count == 0, "{outcome:?}");

    fake.throttle("users.list", 1);
    assert_waited(&read("slack", p(&fake, TOKEN)).await, calls, Duration::from_secs(1));
    assert_unauthorized(read("slack", p(&fake, "wrong")).await);
    fake.stop().await;

    // A free workspace (the fake plays one with no users) has no access logs: skipped, not failed.
    let free = FakeServer::start(Vendor::Slack, 0).await.unwrap();
    let (outcome, _, _) = read("slack", p(&free, TOKEN)).await.unwrap();
    assert_eq!(outcome.skipped_streams.len(), 1, "{outcome:?}");
    assert!(outcome.skipped_streams[0].starts_with("access_logs: paid_only"), "{outcome:?}");
    free.stop().await;
}

async fn zoom_reads_users_and_plan_usage() {
    let fake = FakeServer::start(Vendor::Zoom, USERS).await.unwrap();
    let p = |secret: &str| {
        params(
            &fake,
            &[("account_id", "fake-account"), ("client_id", stackward::fakes::CLIENT_ID)],
            &[("client_secret", secret)],
        )
    };
    let (outcome, got, _) = read("zoom", p(stackward::fakes::CLIENT_SECRET)).await.unwrap();
    let live = users(&fake);
    let active: Vec<&FakeUser> = live.iter().filter(|u| !u.suspended).collect();
    let inactive: Vec<&FakeUser> = live.iter().filter(|u| u.suspended).collect();

    let seats = got.by("active_users", RecordKind::Account, "email");
    assert_eq!(seats.len(), active.len());
    let (s1, s6) = (seats["user1@example.com"], seats["user6@example.com"]);
    assert_eq!(
        (s1.text("licence"), s1.bool("billable"), s1.text("status")),
        (Some("Licensed"), Some(true), Some("active"))
    );
    assert_eq!((s6.text("licence"), s6.bool("billable")), (Some("Basic"), Some(false)));
    assert_eq!(s1.text("role"), Some("member"));
    assert_eq!(seats["user0@example.com"].text("role"), Some("owner"));
    assert_eq!(secs(s1, "last_active_at"), last_active_secs(&user(&fake, 1)));
    assert_eq!(seats["user3@example.com"].time("last_active_at"), None);
    assert!(got.batch("active_users").tracks_activity);

    let gone = got.by("inactive_users", RecordKind::Account, "email");
    assert_eq!(gone.len(), inactive.len());
    assert_eq!(gone["user5@example.com"].text("status"), Some("suspended"));

    let pool = got.records("plan_usage", RecordKind::LicencePool);
    let bought = (0..USERS).filter(|i| i % 7 != 6).count() as i64 + 5;
    let used = live.iter().filter(|u| !u.suspended && u.licensed).count() as i64;
    assert_eq!(pool.len(), 1);
    assert_eq!(
        (pool[0].text("sku"), pool[0].int("purchased"), pool[0].int("consumed")),
        (Some("Licensed"), Some(bought), Some(used))
    );

    // The hosts reports: who hosted meetings (premium use) and who only attended.
    let hosts = got.records("hosts_active", RecordKind::Activity);
    let attendees = got.records("hosts_inactive", RecordKind::Activity);
    assert!(hosts.iter().all(|r| r.bool("premium_used") == Some(true)));
    assert!(attendees.iter().all(|r| r.bool("premium_used") == Some(false)));
    assert_eq!(hosts.len() + attendees.len(), active.len(), "every active user is in one report");
    let calls = pages(active.len(), 300) + pages(inactive.len(), 300) + 2 + 1;
    assert_eq!(outcome.api_calls, calls);
    assert_eq!(outcome.warning_count, 0, "{outcome:?}");

    fake.throttle("/v2/users", 1);
    assert_waited(&read("zoom", p(stackward::fakes::CLIENT_SECRET)).await, calls, Duration::from_secs(1));
    assert_unauthorized(read("zoom", p("wrong")).await);
    fake.stop().await;
}
