//! Connections and sync against real vendor fakes on loopback: the inventory they produce,
//! re-runs that change nothing, mark & sweep only after complete runs, secrets that never
//! appear in the database file, API answers or logs.

use crate::support::{Test, TestApp, TestBackend};
use crate::{needs_postgres, once, per_backend};
use reqwest::Method;
use serde_json::{json, Value};
use stackward::auth::Role;
use stackward::fakes::{FakeServer, Vendor, TOKEN};
use std::time::{Duration, Instant};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_scim_sync_fills_the_inventory_and_a_rerun_changes_nothing),
        per_backend!(a_user_removed_at_the_vendor_is_removed_after_the_next_complete_sync),
        per_backend!(a_sync_failing_on_page_3_of_5_removes_nothing),
        per_backend!(connections_refuse_bad_input_and_never_show_secrets),
        per_backend!(deleting_a_connection_keeps_its_runs_and_seats),
        per_backend!(due_connections_sync_on_schedule_once),
        once!(secrets_are_not_in_the_database_file_or_the_logs),
        per_backend!(a_google_sync_finds_shadow_it_and_approving_the_app_ends_it),
        per_backend!(a_zoom_sync_finds_licensed_seats_that_only_attend),
        needs_postgres!(a_first_sync_of_many_seats_refreshes_the_planner_statistics),
    ]
}

/// Connects the SCIM fake as app `app_name`; returns the connection id.
pub async fn connect(app: &TestApp, fake: &FakeServer, name: &str, app_name: &str) -> String {
    let body = json!({"connector": "scim", "name": name, "base_url": fake.base_url,
        "settings": {"app": app_name}, "secrets": {"token": TOKEN}});
    let c = app.post("/api/v1/connections", body).await.expect(201);
    c["id"].as_str().expect("id").to_string()
}

/// Starts a sync through the API and waits for its run to end.
pub async fn sync(app: &TestApp, id: &str) -> Value {
    let started = app.post(&format!("/api/v1/connections/{id}/sync"), json!({})).await.expect(202);
    let run_id = started["run_id"].as_str().expect("run_id").to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = app.get(&format!("/api/v1/sync-runs/{run_id}")).await.expect(200);
        if run["status"] != "running" {
            return run;
        }
        assert!(Instant::now() < deadline, "sync run {run_id} did not finish: {run}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every account of a connection, by external id.
pub async fn accounts(app: &TestApp, connection: &str) -> std::collections::BTreeMap<String, Value> {
    let mut out = std::collections::BTreeMap::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get(&format!("/api/v1/accounts?connection_id={connection}&limit=500&cursor={cursor}"))
            .await
            .expect(200);
        for a in page["items"].as_array().expect("items") {
            out.insert(a["external_id"].as_str().unwrap_or_default().to_string(), a.clone());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => return out,
        }
    }
}

fn guid(index: usize) -> String {
    format!("00000000-0000-4000-8000-{index:012x}")
}

fn counts(run: &Value) -> (i64, i64, i64, i64) {
    let n = |k: &str| run[k].as_i64().unwrap_or(-1);
    (n("seen"), n("added"), n("updated"), n("removed"))
}

async fn a_scim_sync_fills_the_inventory_and_a_rerun_changes_nothing(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 250).await.unwrap();
    let id = connect(&app, &fake, "figma", "Figma").await;
    let run = sync(&app, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(counts(&run), (250, 250, 0, 0), "{run}");
    assert_eq!(run["api_calls"], 3, "three pages of 100: {run}");
    let seats = accounts(&app, &id).await;
    assert_eq!(seats.len(), 250);
    let u0 = &seats[&guid(0)];
    assert_eq!((u0["email"].as_str(), u0["username"].as_str()), (Some("user0@example.com"), Some("user0@example.com")));
    assert_eq!(u0["licence"], "Full");
    assert_eq!(u0["last_active_at"], Value::Null, "SCIM reports no activity");
    assert_eq!(u0["activity_tracked"], false);
    assert_eq!(seats[&guid(5)]["status"], "suspended", "active=false reads as suspended");
    assert_eq!(seats[&guid(6)]["licence"], "View");
    let apps = app.get("/api/v1/apps?q=figma").await.expect(200);
    assert_eq!(apps["items"][0]["status"], "discovered", "an app first seen by a sync awaits review");
    assert_eq!(apps["items"][0]["category"], "design", "placed by the catalog");

    let again = sync(&app, &id).await;
    assert_eq!(again["status"], "succeeded");
    assert_eq!(counts(&again), (250, 0, 0, 0), "a re-run changes nothing: {again}");
    let after = accounts(&app, &id).await;
    for (k, a) in &seats {
        let b = &after[k];
        for field in ["status", "email", "licence", "updated_at", "person_id", "removed_at"] {
            assert_eq!(a[field], b[field], "{k} {field}");
        }
    }
}

async fn a_user_removed_at_the_vendor_is_removed_after_the_next_complete_sync(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 120).await.unwrap();
    app.post("/api/v1/people", json!({"email": "user7@example.com", "name": "Seven"})).await.expect(201);
    let id = connect(&app, &fake, "notion", "Notion").await;
    sync(&app, &id).await;
    let before = accounts(&app, &id).await;
    assert!(before[&guid(7)]["person_id"].is_string(), "matched to the person by email");
    fake.remove_user(7);
    assert_eq!(accounts(&app, &id).await[&guid(7)]["status"], "active", "not before the next sync");
    let run = sync(&app, &id).await;
    assert_eq!(counts(&run), (119, 0, 0, 1), "{run}");
    let after = accounts(&app, &id).await;
    assert_eq!(after[&guid(7)]["status"], "removed");
    assert!(after[&guid(7)]["removed_at"].is_string());
    assert_eq!(after.values().filter(|a| a["status"] == "removed").count(), 1);
}

async fn a_sync_failing_on_page_3_of_5_removes_nothing(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 500).await.unwrap();
    let id = connect(&app, &fake, "1password", "1Password").await;
    assert_eq!(sync(&app, &id).await["status"], "succeeded");
    fake.remove_user(10);
    fake.remove_user(450);
    // The third page answers 500 and so do both retries.
    fake.fail_after("/Users", 2);
    fake.fail_after("/Users", 0);
    fake.fail_after("/Users", 0);
    let run = sync(&app, &id).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert!(run["error"].as_str().unwrap_or("").contains("500"), "{run}");
    assert_eq!(run["removed"], 0);
    let seats = accounts(&app, &id).await;
    assert_eq!(seats[&guid(10)]["status"], "active", "a failed run removes nothing it did not see");
    assert_eq!(seats[&guid(450)]["status"], "active");
    let run = sync(&app, &id).await;
    assert_eq!((run["status"].as_str(), run["removed"].as_i64()), (Some("succeeded"), Some(2)), "{run}");
}

async fn connections_refuse_bad_input_and_never_show_secrets(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 3).await.unwrap();
    let post = |body: Value| app.post("/api/v1/connections", body);
    post(json!({"connector": "nope", "name": "x"})).await.expect_error(400, "invalid", Some("connector"));
    post(json!({"connector": "scim", "name": "x", "base_url": fake.base_url})).await.expect_error(
        400,
        "invalid",
        Some("secrets.token"),
    );
    post(json!({"connector": "scim", "name": "x", "base_url": fake.base_url, "secrets": {"token": "t", "extra": "e"}}))
        .await
        .expect_error(400, "invalid", Some("secrets.extra"));
    post(json!({"connector": "scim", "name": "x", "base_url": fake.base_url, "settings": {"colour": "red"}, "secrets": {"token": "t"}}))
        .await
        .expect_error(400, "invalid", Some("settings.colour"));
    post(json!({"connector": "scim", "name": "x", "secrets": {"token": "t"}})).await.expect_error(
        400,
        "invalid",
        Some("base_url"),
    );
    post(json!({"connector": "scim", "name": "x", "base_url": "ftp://x", "secrets": {"token": "t"}}))
        .await
        .expect_error(400, "invalid", Some("base_url"));
    post(json!({"connector": "scim", "name": "x", "base_url": "http://169.254.169.254", "secrets": {"token": "t"}}))
        .await
        .expect_error(400, "invalid", Some("base_url"));
    post(json!({"connector": "scim", "name": "x", "base_url": fake.base_url, "secrets": {"token": "t"}, "schedule": "every day"}))
        .await
        .expect_error(400, "invalid", Some("schedule"));
    let secret = "scim-token-d41d8cd98f00b204";
    let made =
        post(json!({"connector": "scim", "name": "figma", "base_url": fake.base_url, "secrets": {"token": secret}}))
            .await;
    assert!(!made.text.contains(secret));
    let made = made.expect(201);
    assert_eq!(made["secrets"], json!(["token"]), "names only");
    post(json!({"connector": "scim", "name": "figma", "base_url": fake.base_url, "secrets": {"token": "t"}}))
        .await
        .expect_error(409, "conflict", Some("name"));
    let id = made["id"].as_str().unwrap();
    for path in [
        "/api/v1/connections".to_string(),
        format!("/api/v1/connections/{id}"),
        "/api/v1/audit-log?entity=connection".into(),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(!r.text.contains(secret), "{path} shows the secret");
    }
    // A wrong token fails the run with the vendor's refusal, and the secret can be replaced.
    let run = sync(&app, id).await;
    assert_eq!(run["status"], "failed");
    assert!(run["error"].as_str().unwrap_or("").contains("refused the credentials"), "{run}");
    app.patch(&format!("/api/v1/connections/{id}"), json!({"secrets": {"token": TOKEN}})).await.expect(200);
    assert_eq!(sync(&app, id).await["status"], "succeeded");
    let listed = app.get("/api/v1/connectors").await.expect(200);
    let scim = listed["items"].as_array().unwrap().iter().find(|c| c["name"] == "scim").cloned().unwrap();
    assert_eq!(scim["secrets"]["token"]["required"], true);
    assert_eq!(scim["actions"], json!(["reclaim"]));
}

async fn deleting_a_connection_keeps_its_runs_and_seats(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 20).await.unwrap();
    let id = connect(&app, &fake, "figma", "Figma").await;
    let run = sync(&app, &id).await;
    let deleted = app.delete(&format!("/api/v1/connections/{id}")).await.expect(200);
    assert_eq!(deleted["status"], "deleted");
    assert_eq!(deleted["secrets"], json!([]), "credentials are dropped");
    assert_eq!(accounts(&app, &id).await.len(), 20, "the seats stay");
    let runs = app.get(&format!("/api/v1/connections/{id}/runs")).await.expect(200);
    assert_eq!(runs[0]["id"], run["id"]);
    app.post(&format!("/api/v1/connections/{id}/sync"), json!({})).await.expect_error(409, "conflict", None);
    let listed = app.get("/api/v1/connections").await.expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 0);
    let all = app.get("/api/v1/connections?include_deleted=true").await.expect(200);
    assert_eq!(all.as_array().unwrap().len(), 1);
    // The name is free again.
    connect(&app, &fake, "figma", "Figma").await;
    let r = app.call(Some(Role::Finance), Method::POST, &format!("/api/v1/connections/{id}/sync"), None).await;
    r.expect_error(403, "forbidden", None);
}

async fn due_connections_sync_on_schedule_once(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 10).await.unwrap();
    let id = connect(&app, &fake, "figma", "Figma").await;
    let c = app.get(&format!("/api/v1/connections/{id}")).await.expect(200);
    assert!(c["next_sync_at"].as_str().unwrap_or("").ends_with("03:00:00Z"), "daily at 03:00 UTC by default: {c}");
    assert_eq!(stackward::sync::run_due(&app.ctx).await.unwrap(), 0, "not due yet");
    {
        use diesel::prelude::*;
        use stackward::db::schema::connections;
        let mut conn = app.db.db.get().unwrap();
        let past = stackward::time::now() - chrono::Duration::minutes(1);
        diesel::update(connections::table).set(connections::next_sync_at.eq(Some(past))).execute(&mut *conn).unwrap();
    }
    assert_eq!(stackward::sync::run_due(&app.ctx).await.unwrap(), 1);
    assert_eq!(stackward::sync::run_due(&app.ctx).await.unwrap(), 0, "claimed and moved on: once per due time");
    let runs = app.get(&format!("/api/v1/connections/{id}/runs")).await.expect(200);
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["trigger"], "schedule");
}

async fn secrets_are_not_in_the_database_file_or_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeServer::start(Vendor::Scim, 30).await.unwrap();
    // The fake accepts only its own token, so that is the secret looked for everywhere.
    let secret = TOKEN;
    std::fs::write(dir.path().join("token.txt"), format!("{secret}\n")).unwrap();
    let path = dir.path().to_path_buf();
    let run = move |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_stackward"))
            .current_dir(&path)
            .env_remove("STACKWARD_DATABASE_URL")
            .env("STACKWARD_LOG", "debug")
            .args(args)
            .output()
            .expect("run stackward")
    };
    // The fake needs the test's runtime to answer while the binary runs.
    let base = fake.base_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let add = run(&[
            "connections",
            "add",
            "--connector",
            "scim",
            "--name",
            "figma",
            "--base-url",
            &base,
            "--secret",
            "token=@token.txt",
        ]);
        let sync = run(&["sync", "--connection", "figma"]);
        (add, sync)
    })
    .await
    .unwrap();
    let (add, sync) = out;
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    assert!(sync.status.success(), "{}", String::from_utf8_lossy(&sync.stderr));
    let logs = [add.stdout, add.stderr, sync.stdout, sync.stderr].concat();
    let logs = String::from_utf8_lossy(&logs);
    assert!(logs.contains("done: 30 seen"), "{logs}");
    assert!(!logs.contains(secret), "a log line shows the secret: {logs}");
    // The token the fake received proves the stored secret is the real one.
    assert!(fake.log().iter().any(|r| r.authorization.as_deref() == Some(&format!("Bearer {secret}"))));
    let mut stored = Vec::new();
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let path = f.unwrap().path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("stackward.db")) {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(stored.len() > 10_000, "the database file was read");
    let needle = secret.as_bytes();
    assert!(!stored.windows(needle.len()).any(|w| w == needle), "the secret is in the database file in plain text");
    assert!(dir.path().join("stackward-secret.key").exists(), "the key file was created at first start");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("stackward-secret.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

async fn a_google_sync_finds_shadow_it_and_approving_the_app_ends_it(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::GoogleWorkspace, 40).await.unwrap();
    let key = stackward::fakes::google_service_account_json(&format!("{}/token", fake.base_url));
    let body = json!({"connector": "google_workspace", "name": "workspace", "base_url": fake.base_url,
        "settings": {"admin_email": "user0@example.com", "customer_id": "C0fake000"},
        "secrets": {"service_account_key": key}});
    let id = app.post("/api/v1/connections", body).await.expect(201)["id"].as_str().unwrap().to_string();
    let run = sync(&app, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let people = app.get("/api/v1/people?limit=500").await.expect(200);
    assert_eq!(people["items"].as_array().unwrap().len(), 40, "the identity provider fills the directory");
    let found = app.get("/api/v1/findings?kind=shadow_it").await.expect(200);
    let items = found["items"].as_array().unwrap();
    let calendly =
        items.iter().find(|f| f["explanation"].as_str().unwrap_or("").contains("Calendly")).expect("Calendly grants");
    // Users with index % 4 == 1 granted Calendly in the fake: 1, 5, 9 … 37.
    assert_eq!(calendly["evidence"]["users"].as_array().unwrap().len(), 10, "{calendly}");
    assert_eq!(calendly["annual_savings_cents"], Value::Null);
    let again = sync(&app, &id).await;
    assert_eq!(counts(&again).1 + counts(&again).2 + counts(&again).3, 0, "a re-run changes nothing: {again}");
    app.post("/api/v1/apps", json!({"name": "Calendly", "status": "approved"})).await.expect(201);
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    let f = app.get(&format!("/api/v1/findings/{}", calendly["id"].as_str().unwrap())).await.expect(200);
    assert_eq!(f["status"], "resolved", "approving the app resolves its shadow IT finding");
}

async fn a_zoom_sync_finds_licensed_seats_that_only_attend(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Zoom, 60).await.unwrap();
    let body = json!({"connector": "zoom", "name": "zoom", "base_url": fake.base_url,
        "settings": {"account_id": "fake-account", "client_id": stackward::fakes::CLIENT_ID},
        "secrets": {"client_secret": stackward::fakes::CLIENT_SECRET}});
    let id = app.post("/api/v1/connections", body).await.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(sync(&app, &id).await["status"], "succeeded");
    let zoom = app.get("/api/v1/apps?q=zoom").await.expect(200)["items"][0]["id"].as_str().unwrap().to_string();
    let sub = json!({"app_id": zoom, "plan": "Business", "unit_price_cents": 1500, "currency": "USD",
        "billing_frequency": "monthly", "term_start": "2026-01-01", "term_end": "2026-12-31"});
    app.post("/api/v1/subscriptions", sub).await.expect(201);
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    let found = app.get("/api/v1/findings?kind=downgrade&status=open").await.expect(200);
    let f = &found["items"][0];
    // Licensed (index % 7 != 6), not suspended (index % 23 != 5), hosted nothing (index % 4 == 2).
    let want = (0..60).filter(|i| i % 7 != 6 && i % 23 != 5 && i % 4 == 2).count();
    assert_eq!(f["seats"].as_i64(), Some(want as i64), "{f}");
    assert_eq!(f["annual_savings_cents"], Value::Null, "no cheaper plan on contract: unknown");
    assert!(f["explanation"].as_str().unwrap().contains("Zoom Business seats hold a premium licence"), "{f}");
    let again = sync(&app, &id).await;
    assert_eq!((counts(&again).1, counts(&again).2, counts(&again).3), (0, 0, 0), "{again}");
}

/// PostgreSQL plans from its last ANALYZE: a seat table that grew from nothing during a first
/// sync must not be planned as if it were still empty, whether or not autovacuum runs.
async fn a_first_sync_of_many_seats_refreshes_the_planner_statistics() {
    use diesel::prelude::*;
    let app = TestApp::new(TestBackend::Postgres).await;
    let fake = FakeServer::start(Vendor::Scim, 1_200).await.unwrap();
    let id = connect(&app, &fake, "figma", "Figma").await;
    let run = sync(&app, &id).await;
    assert_eq!(counts(&run), (1_200, 1_200, 0, 0), "{run}");
    let mut conn = app.db.db.get().unwrap();
    let stackward::db::Conn::Postgres(pg) = &mut *conn else { panic!("a PostgreSQL test") };
    // analyze_count counts explicit ANALYZE only, never autovacuum's.
    let analyzed: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT analyze_count FROM pg_stat_user_tables WHERE relid = 'accounts'::regclass)",
    ))
    .get_result(pg)
    .unwrap();
    assert!(analyzed >= 1, "accounts analyzed {analyzed} times");
}
