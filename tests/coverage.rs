//! Data coverage per app (how seats, usage and tiers are known, how fresh), the share of spend
//! with usage known, "activity unknown" in findings, stale-sync alerts, and the usage push.

use crate::per_backend;
use crate::support::{Test, TestApp, TestBackend};
use crate::sync::{connect, sync};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use stackward::auth::Role;
use stackward::db::schema::{accounts, connections, outbox, sync_runs};
use stackward::fakes::{FakeServer, Vendor, TOKEN};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(coverage_says_how_seats_usage_and_tiers_are_known),
        per_backend!(a_stale_connection_is_flagged_and_alerted_once_before_a_deadline),
        per_backend!(findings_say_activity_unknown_instead_of_guessing),
        per_backend!(a_usage_push_moves_activity_only_forward_and_lists_unknowns),
        per_backend!(bad_pushes_are_refused_naming_the_field_and_write_nothing),
        per_backend!(a_usage_token_may_push_and_do_nothing_else),
    ]
}

fn ago(days: i64) -> String {
    stackward::time::format(&(stackward::time::now() - chrono::Duration::days(days)))
}

async fn app_named(app: &TestApp, name: &str) -> Value {
    let list = app.get(&format!("/api/v1/apps?q={name}")).await.expect(200);
    let found = list["items"].as_array().unwrap().iter().find(|a| a["name"] == name).cloned();
    found.unwrap_or_else(|| panic!("no app {name}: {list}"))
}

async fn monthly_subscription(app: &TestApp, app_id: &str, seats: i64, price: i64, currency: &str) -> String {
    let body = json!({"app_id": app_id, "plan": "Business", "seats_purchased": seats, "unit_price_cents": price,
        "currency": currency, "billing_frequency": "monthly", "term_start": "2026-01-01"});
    app.post("/api/v1/subscriptions", body).await.expect(201)["id"].as_str().unwrap().to_string()
}

async fn coverage_says_how_seats_usage_and_tiers_are_known(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    // A SCIM-fed app: seats from a connector, no activity.
    let scim = FakeServer::start(Vendor::Scim, 30).await.unwrap();
    let figma_conn = connect(&app, &scim, "figma", "Figma").await;
    assert_eq!(sync(&app, &figma_conn).await["status"], "succeeded");
    // A Slack-fed app: its access logs report activity.
    let slack = FakeServer::start(Vendor::Slack, 20).await.unwrap();
    let body = json!({"connector": "slack", "name": "slack", "base_url": slack.base_url, "secrets": {"token": TOKEN}});
    let slack_conn = app.post("/api/v1/connections", body).await.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(sync(&app, &slack_conn).await["status"], "succeeded");
    // An app whose seats come only from a CSV file.
    let lucid = app.app("Lucid").await;
    let csv = format!("app_id,email,status\n{lucid},a@example.com,active\n{lucid},b@example.com,active\n");
    app.send_raw(Role::Admin, Method::POST, "/api/v1/import/accounts", "text/csv", csv).await.expect(200);
    // An app with nothing known.
    let empty = app.app("Nothing").await;

    let figma = app_named(&app, "Figma").await;
    let c = &figma["coverage"];
    assert_eq!((c["seats"].as_str(), c["usage"].as_str()), (Some("connector"), Some("none")), "{c}");
    assert_eq!(c["tiers"], true, "SCIM reports a licence per seat: {c}");
    assert_eq!((c["last_sync_status"].as_str(), c["stale"].as_bool()), (Some("succeeded"), Some(false)), "{c}");
    assert!(c["last_sync_at"].is_string() && c["last_error"].is_null(), "{c}");
    assert_eq!(c["score"], 70, "40 seats + 0 usage + 10 tiers + 20 fresh: {c}");
    let one = app.get(&format!("/api/v1/apps/{}", figma["id"].as_str().unwrap())).await.expect(200);
    assert_eq!(one["coverage"], figma["coverage"], "the app alone says the same as the list");

    let c = &app_named(&app, "Slack").await["coverage"];
    assert_eq!((c["seats"].as_str(), c["usage"].as_str()), (Some("connector"), Some("connector")), "{c}");

    let c = app.get(&format!("/api/v1/apps/{lucid}")).await.expect(200)["coverage"].clone();
    assert_eq!(
        (c["seats"].as_str(), c["usage"].as_str(), c["tiers"].as_bool()),
        (Some("csv"), Some("none"), Some(false))
    );
    assert!(c["last_sync_at"].is_null() && c["last_sync_status"].is_null() && c["stale"] == false, "{c}");
    assert_eq!(c["score"], 35, "25 csv seats + 10 entered lately: {c}");

    let c = app.get(&format!("/api/v1/apps/{empty}")).await.expect(200)["coverage"].clone();
    assert_eq!((c["seats"].as_str(), c["usage"].as_str(), c["score"].as_i64()), (Some("none"), Some("none"), Some(0)));

    // Spend with usage known: Slack's is, Figma's is not; never summed across currencies.
    let figma_id = figma["id"].as_str().unwrap().to_string();
    let slack_id = app_named(&app, "Slack").await["id"].as_str().unwrap().to_string();
    monthly_subscription(&app, &figma_id, 30, 1500, "USD").await; // 5,400.00 a year
    monthly_subscription(&app, &slack_id, 20, 1000, "USD").await; // 2,400.00 a year
    monthly_subscription(&app, &lucid, 2, 1000, "EUR").await; // 240.00 a year
    let summary = app.get("/api/v1/findings/summary").await.expect(200);
    let cov = summary["usage_coverage"].as_array().expect("usage_coverage").clone();
    assert_eq!(cov.len(), 2, "{summary}");
    assert_eq!(cov[0]["currency"], "EUR");
    assert_eq!((cov[0]["annual_spend_cents"].as_i64(), cov[0]["usage_known_cents"].as_i64()), (Some(24000), Some(0)));
    assert_eq!(cov[1]["currency"], "USD");
    assert_eq!(
        (cov[1]["annual_spend_cents"].as_i64(), cov[1]["usage_known_cents"].as_i64()),
        (Some(780_000), Some(240_000))
    );
    assert_eq!(cov[1]["share"].as_f64(), Some(0.3077));
}

/// Moves every finished run of a connection, and the connection itself, `days` into the past.
fn age_connection(app: &TestApp, connection: &str, days: i64) {
    let id: i64 = connection.parse().unwrap();
    let then = stackward::time::now() - chrono::Duration::days(days);
    let mut conn = app.db.db.get().unwrap();
    diesel::update(sync_runs::table.filter(sync_runs::connection_id.eq(id)))
        .set((sync_runs::started_at.eq(then), sync_runs::finished_at.eq(Some(then)), sync_runs::heartbeat_at.eq(then)))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(connections::table.find(id)).set(connections::created_at.eq(then)).execute(&mut *conn).unwrap();
}

fn stale_mail(app: &TestApp) -> Vec<(String, String, String)> {
    let mut conn = app.db.db.get().unwrap();
    outbox::table
        .filter(outbox::kind.eq("stale_sync"))
        .select((outbox::dedupe_key, outbox::recipients, outbox::subject))
        .load(&mut *conn)
        .unwrap()
}

async fn a_stale_connection_is_flagged_and_alerted_once_before_a_deadline(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    // The it role is told through the email its tokens name.
    app.token_for(Role::It, "ian@example.com");
    app.post("/api/v1/apps", json!({"name": "Figma", "owner_email": "olga@example.com"})).await.expect(201);
    let scim = FakeServer::start(Vendor::Scim, 10).await.unwrap();
    let conn = connect(&app, &scim, "figma", "Figma").await;
    assert_eq!(sync(&app, &conn).await["status"], "succeeded");
    let figma = app_named(&app, "Figma").await;
    let figma_id = figma["id"].as_str().unwrap().to_string();
    assert_eq!(figma["coverage"]["stale"], false);

    // The default schedule is daily: a last success three days old is more than twice that.
    age_connection(&app, &conn, 3);
    let c = app.get(&format!("/api/v1/apps/{figma_id}")).await.expect(200)["coverage"].clone();
    assert_eq!((c["stale"].as_bool(), c["last_sync_status"].as_str()), (Some(true), Some("succeeded")), "{c}");
    assert_eq!(c["score"], 50, "freshness lost: {c}");

    let today = chrono::Utc::now().date_naive();
    let job = stackward::scheduler::JobKind::RenewalReminders;
    stackward::scheduler::run_job(&app.ctx, job, today).await.unwrap();
    assert!(stale_mail(&app).is_empty(), "no deadline near: no alert");
    let alerts = app.get("/api/v1/stale-alerts").await.expect(200);
    assert_eq!(alerts, json!([]));

    // A yearly term renewing in 30 days with no notice period: the deadline is 30 days away.
    let term_end = today + chrono::Duration::days(29);
    let term_start = term_end - chrono::Duration::days(364);
    let body = json!({"app_id": figma_id, "plan": "Professional", "seats_purchased": 10, "unit_price_cents": 18000,
        "currency": "USD", "billing_frequency": "annual", "term_start": term_start, "term_end": term_end,
        "renewal_type": "auto", "notice_days": 0});
    app.post("/api/v1/subscriptions", body).await.expect(201);
    let alerts = app.get("/api/v1/stale-alerts").await.expect(200);
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!((alerts[0]["app_name"].as_str(), alerts[0]["stale"].as_bool()), (Some("Figma"), Some(true)));
    assert_eq!(alerts[0]["days_to_deadline"], 30);

    stackward::scheduler::run_job(&app.ctx, job, today).await.unwrap();
    stackward::scheduler::run_job(&app.ctx, job, today).await.unwrap();
    let mail = stale_mail(&app);
    assert_eq!(mail.len(), 1, "once per app and deadline, however often the job runs: {mail:?}");
    assert!(mail[0].0.starts_with(&format!("stale_sync:app:{figma_id}:deadline:")), "{mail:?}");
    let to: Vec<&str> = mail[0].1.split(',').collect();
    assert!(to.contains(&"olga@example.com") && to.contains(&"ian@example.com"), "owner and the it role: {to:?}");
    assert!(mail[0].2.starts_with("Figma: its data is stale"), "{}", mail[0].2);

    // A fresh sync clears it; a failing one brings it back (already sent for this deadline).
    assert_eq!(sync(&app, &conn).await["status"], "succeeded");
    assert_eq!(app.get("/api/v1/stale-alerts").await.expect(200), json!([]));
}

async fn findings_say_activity_unknown_instead_of_guessing(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let zoom = app.app("Zoom").await;
    monthly_subscription(&app, &zoom, 5, 1500, "USD").await;
    for e in ["a@example.com", "b@example.com"] {
        app.post("/api/v1/accounts", json!({"app_id": zoom, "email": e})).await.expect(201);
    }
    app.post("/api/v1/accounts", json!({"app_id": zoom, "email": "idle@example.com", "last_active_at": ago(120)}))
        .await
        .expect(201);
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    let found = app.get(&format!("/api/v1/findings?kind=inactive_seat&app_id={zoom}")).await.expect(200);
    let f = &found["items"][0];
    assert_eq!(f["seats"], 1, "seats entered without a time are not called never used: {f}");
    assert!(f["explanation"].as_str().unwrap().ends_with("; activity unknown for 2 more seat(s), not counted"), "{f}");
    assert_eq!(f["evidence"]["seats_activity_unknown"], 2);

    // Once usage is pushed for the app, its seats' activity is known: a seat the push never saw
    // active was never active (and, being new, is not idle yet).
    let body = json!({"app_id": zoom, "events": [{"email": "a@example.com", "last_active_at": ago(1)}]});
    app.post("/api/v1/usage", body).await.expect(200);
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    let found = app.get(&format!("/api/v1/findings?kind=inactive_seat&app_id={zoom}")).await.expect(200);
    let f = &found["items"][0];
    assert_eq!((f["seats"].as_i64(), f["evidence"]["seats_activity_unknown"].as_i64()), (Some(1), Some(0)), "{f}");
    assert_eq!(f["explanation"], "1 of 3 Zoom Business seats had no sign-in for 60+ days; USD 180.00/yr");
}

fn last_active(app: &TestApp, app_id: &str) -> Vec<(Option<String>, Option<String>)> {
    let id: i64 = app_id.parse().unwrap();
    let mut conn = app.db.db.get().unwrap();
    let rows: Vec<(Option<String>, Option<chrono::NaiveDateTime>)> = accounts::table
        .filter(accounts::app_id.eq(id))
        .order(accounts::id.asc())
        .select((accounts::email, accounts::last_active_at))
        .load(&mut *conn)
        .unwrap();
    rows.into_iter().map(|(e, t)| (e, t.map(|t| stackward::time::format(&t)))).collect()
}

async fn a_usage_push_moves_activity_only_forward_and_lists_unknowns(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let tool = app.app("Retool").await;
    app.post("/api/v1/accounts", json!({"app_id": tool, "email": "a@example.com"})).await.expect(201);
    app.post("/api/v1/accounts", json!({"app_id": tool, "external_id": "u-2", "email": "b@example.com"}))
        .await
        .expect(201);
    let (t1, t2, t3) = ("2026-03-01T09:00:00Z", "2026-04-01T09:00:00Z", "2026-05-01T09:00:00Z");
    let body = json!({"app": "retool", "events": [
        {"email": "A@Example.com", "last_active_at": t2},
        {"external_id": "u-2", "last_active_at": t1, "premium_used": true},
        {"email": "nobody@example.com", "last_active_at": t1},
        {"external_id": "u-404", "last_active_at": t1},
        {"email": "a@example.com", "last_active_at": t1},
    ]});
    let r = app.post("/api/v1/usage", body.clone()).await.expect(200);
    assert_eq!(
        (r["matched"].as_i64(), r["updated"].as_i64(), r["created"].as_i64()),
        (Some(3), Some(2), Some(0)),
        "{r}"
    );
    let unknown: Vec<i64> = r["unknown"].as_array().unwrap().iter().map(|u| u["index"].as_i64().unwrap()).collect();
    assert_eq!(unknown, [2, 3], "{r}");
    let want = vec![
        (Some("a@example.com".to_string()), Some(t2.to_string())),
        (Some("b@example.com".to_string()), Some(t1.to_string())),
    ];
    assert_eq!(last_active(&app, &tool), want, "the later of two events for one seat wins");

    // The same push again changes nothing; an older one is ignored; a newer one wins.
    let again = app.post("/api/v1/usage", body).await.expect(200);
    assert_eq!(again["updated"], 0, "{again}");
    let older = json!({"app_id": tool, "events": [{"email": "a@example.com", "last_active_at": t1}]});
    assert_eq!(app.post("/api/v1/usage", older).await.expect(200)["updated"], 0);
    assert_eq!(last_active(&app, &tool), want, "an older time never moves activity back");
    let newer = json!({"app_id": tool, "events": [{"email": "a@example.com", "last_active_at": t3}]});
    assert_eq!(app.post("/api/v1/usage", newer).await.expect(200)["updated"], 1);
    assert_eq!(last_active(&app, &tool)[0].1.as_deref(), Some(t3));

    // With create_seats, unknown emails become seats.
    let body = json!({"app_id": tool, "create_seats": true, "events": [
        {"email": "new@example.com", "last_active_at": t2}, {"external_id": "u-404", "last_active_at": t2}]});
    let r = app.post("/api/v1/usage", body).await.expect(200);
    assert_eq!((r["created"].as_i64(), r["unknown"][0]["index"].as_i64()), (Some(1), Some(1)), "{r}");
    assert_eq!(last_active(&app, &tool)[2], (Some("new@example.com".into()), Some(t2.into())));
    let c = app.get(&format!("/api/v1/apps/{tool}")).await.expect(200)["coverage"].clone();
    assert_eq!(c["usage"], "push", "{c}");

    // Premium use comes with the event that moves activity; an event that does not say keeps it.
    let premium = |app: &TestApp| -> Vec<Option<bool>> {
        let mut conn = app.db.db.get().unwrap();
        let id: i64 = tool.parse().unwrap();
        accounts::table
            .filter(accounts::app_id.eq(id))
            .order(accounts::id.asc())
            .select(accounts::premium_used)
            .load(&mut *conn)
            .unwrap()
    };
    assert_eq!(premium(&app), [None, Some(true), None]);
    let later = json!({"app_id": tool, "events": [{"external_id": "u-2", "last_active_at": t3}]});
    assert_eq!(app.post("/api/v1/usage", later).await.expect(200)["updated"], 1);
    assert_eq!(premium(&app), [None, Some(true), None], "an event without premium_used keeps it");

    // More seats than one statement moves: every one of them moves, once.
    let many = |t: &str| -> Vec<Value> {
        (0..5_001).map(|i| json!({"email": format!("bulk{i}@example.com"), "last_active_at": t})).collect()
    };
    let r = app.post("/api/v1/usage", json!({"app_id": tool, "create_seats": true, "events": many(t1)})).await;
    assert_eq!(r.expect(200)["created"], 5_001);
    let r = app.post("/api/v1/usage", json!({"app_id": tool, "events": many(t2)})).await.expect(200);
    assert_eq!((r["matched"].as_i64(), r["updated"].as_i64()), (Some(5_001), Some(5_001)), "{r}");
    let moved = last_active(&app, &tool).iter().filter(|(_, t)| t.as_deref() == Some(t2)).count();
    assert_eq!(moved, 5_001 + 1, "the bulk seats and new@example.com");
}

async fn bad_pushes_are_refused_naming_the_field_and_write_nothing(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let tool = app.app("Retool").await;
    app.post("/api/v1/accounts", json!({"app_id": tool, "email": "a@example.com"})).await.expect(201);
    let before = (last_active(&app, &tool), app.audit_count().await);
    let event = json!({"email": "a@example.com", "last_active_at": "2026-04-01T09:00:00Z"});

    let many: Vec<Value> = (0..10_001).map(|_| event.clone()).collect();
    let r = app.post("/api/v1/usage", json!({"app_id": tool, "events": many})).await;
    let body = r.expect_error(400, "invalid", Some("events"));
    assert!(body["error"]["message"].as_str().unwrap().contains("10000"), "{body}");

    let bad_time =
        json!({"app_id": tool, "events": [event, {"email": "a@example.com", "last_active_at": "yesterday"}]});
    app.post("/api/v1/usage", bad_time).await.expect_error(400, "invalid", Some("events[1].last_active_at"));

    let unknown_id = json!({"app_id": "999999", "events": [event]});
    app.post("/api/v1/usage", unknown_id).await.expect_error(400, "invalid", Some("app_id"));
    let unknown_name = json!({"app": "No Such App", "events": [event]});
    app.post("/api/v1/usage", unknown_name).await.expect_error(400, "invalid", Some("app"));
    let bad_email =
        json!({"app_id": tool, "events": [event, {"email": "not-an-email", "last_active_at": "2026-04-01T09:00:00Z"}]});
    app.post("/api/v1/usage", bad_email).await.expect_error(400, "invalid", Some("events[1].email"));

    assert_eq!((last_active(&app, &tool), app.audit_count().await), before, "nothing was written");
    let c = app.get(&format!("/api/v1/apps/{tool}")).await.expect(200)["coverage"].clone();
    assert_eq!(c["usage"], "none", "a refused push marks nothing: {c}");
}

async fn a_usage_token_may_push_and_do_nothing_else(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let tool = app.app("Retool").await;
    app.post("/api/v1/accounts", json!({"app_id": tool, "email": "a@example.com"})).await.expect(201);
    let token = app.post("/api/v1/tokens", json!({"name": "usage-feed", "role": "auditor", "scope": "usage"})).await;
    let secret = token.expect(201)["secret"].as_str().unwrap().to_string();
    let body =
        json!({"app_id": tool, "events": [{"email": "a@example.com", "last_active_at": "2026-04-01T09:00:00Z"}]});
    let r = app.call_as(&secret, Method::POST, "/api/v1/usage", Some(body.clone())).await.expect(200);
    assert_eq!(r["updated"], 1);
    app.call_as(&secret, Method::GET, "/api/v1/apps", None).await.expect_error(403, "forbidden", None);
    // Ordinary tokens: it and admin may push, others may not.
    app.call(Some(Role::It), Method::POST, "/api/v1/usage", Some(body.clone())).await.expect(200);
    for role in [Role::Finance, Role::Employee, Role::Auditor] {
        app.call(Some(role), Method::POST, "/api/v1/usage", Some(body.clone())).await.expect_error(
            403,
            "forbidden",
            None,
        );
    }
    app.call(None, Method::POST, "/api/v1/usage", Some(body)).await.expect_error(401, "unauthorized", None);
}
