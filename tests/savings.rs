//! The savings ledger through the API: realised entries from a completed reclaim and contract
//! changes (each counted once), avoided entries from rejected and redirected requests, totals
//! per currency, the period filter and who may read it.

use crate::per_backend;
use crate::requests::{id, tool, Org, IT, MANAGER};
use crate::support::{Test, TestApp, TestBackend};
use reqwest::Method;
use serde_json::{json, Value};
use stackward::auth::Role;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_completed_reclaim_is_realised_once_and_contract_changes_are_not_counted_twice),
        per_backend!(rejected_and_redirected_requests_are_avoided_per_currency),
        per_backend!(the_ledger_filters_by_period_and_refuses_bad_input_and_roles),
    ]
}

fn ago(days: i64) -> String {
    stackward::time::format(&(stackward::time::now() - chrono::Duration::days(days)))
}

async fn ledger(app: &TestApp) -> Value {
    app.get("/api/v1/savings").await.expect(200)
}

fn entries(l: &Value) -> Vec<(String, String, i64, bool)> {
    l["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
                e["annual_cents"].as_i64().unwrap(),
                e["contract_lowered"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn e(kind: &str, action: &str, cents: i64, lowered: bool) -> (String, String, i64, bool) {
    (kind.into(), action.into(), cents, lowered)
}

async fn a_completed_reclaim_is_realised_once_and_contract_changes_are_not_counted_twice(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let loom = app.post("/api/v1/apps", json!({"name": "Loom", "owner_email": "olga@example.com"})).await.expect(201);
    let loom = id(&loom);
    let body = json!({"app_id": loom, "plan": "Business", "seats_purchased": 4, "unit_price_cents": 2000,
        "currency": "USD", "billing_frequency": "monthly", "term_start": "2026-01-01"});
    let sub = id(&app.post("/api/v1/subscriptions", body).await.expect(201));
    let mut idle = Vec::new();
    for i in 0..2 {
        let body = json!({"app_id": loom, "email": format!("idle{i}@example.com"), "last_active_at": ago(200)});
        idle.push(id(&app.post("/api/v1/accounts", body).await.expect(201)));
    }
    for who in ["busy@example.com", "keen@example.com"] {
        app.post("/api/v1/accounts", json!({"app_id": loom, "email": who, "last_active_at": ago(1)})).await.expect(201);
    }
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    let found = app.get(&format!("/api/v1/findings?kind=inactive_seat&app_id={loom}")).await.expect(200);
    let finding = id(&found["items"][0]);
    let potential = ledger(&app).await;
    assert_eq!(
        potential["totals"],
        json!([{"currency": "USD", "potential_annual_cents": 48000,
        "realised_annual_cents": 0, "avoided_annual_cents": 0}])
    );

    let ian = app.token_for(Role::It, IT);
    let body = json!({"kind": "reclaim", "finding_id": finding, "account_ids": idle});
    let r = app.call_as(&ian, Method::POST, "/api/v1/requests", Some(body)).await.expect(201);
    let rid = id(&r);
    for role in [Role::Admin, Role::It] {
        let body = json!({"decision": "approve", "comment": "take them back"});
        app.call(Some(role), Method::POST, &format!("/api/v1/requests/{rid}/decisions"), Some(body)).await.expect(200);
    }
    assert!(entries(&ledger(&app).await).is_empty(), "approved is not done: nothing realised yet");
    let done = format!("/api/v1/requests/{rid}/complete");
    app.call(Some(Role::It), Method::POST, &done, Some(json!({"comment": "removed"}))).await.expect(200);
    let l = ledger(&app).await;
    assert_eq!(entries(&l), [e("realised", "reclaim", 48000, false)], "2 seats × 20.00 × 12: {l}");
    let item = &l["items"][0];
    assert_eq!(
        (item["request_id"].as_str(), item["subscription_id"].as_str()),
        (Some(rid.as_str()), Some(sub.as_str()))
    );
    assert_eq!((item["seats_before"].as_i64(), item["seats_after"].as_i64()), (Some(4), Some(2)));
    assert_eq!((item["unit_price_cents"].as_i64(), item["currency"].as_str()), (Some(2000), Some("USD")));
    assert!(item["note"].as_str().unwrap().contains("waits until its seat count is lowered"), "{item}");
    assert_eq!(item["actor"], "token:test-it");
    assert_eq!(l["totals"][0]["realised_annual_cents"], 48000);

    // Completing it again is refused and adds nothing.
    app.call(Some(Role::It), Method::POST, &done, Some(json!({}))).await.expect_error(409, "conflict", None);
    assert_eq!(entries(&ledger(&app).await).len(), 1);

    // Lowering the contract by the two reclaimed seats settles the reclaim instead of counting again.
    app.patch(&format!("/api/v1/subscriptions/{sub}"), json!({"seats_purchased": 2})).await.expect(200);
    assert_eq!(entries(&ledger(&app).await), [e("realised", "reclaim", 48000, true)]);
    // One seat more is a seat reduction of its own; repeating the same change records nothing.
    app.patch(&format!("/api/v1/subscriptions/{sub}"), json!({"seats_purchased": 1})).await.expect(200);
    app.patch(&format!("/api/v1/subscriptions/{sub}"), json!({"seats_purchased": 1})).await.expect(200);
    // A cheaper price for the same seats is a downgrade.
    app.patch(&format!("/api/v1/subscriptions/{sub}"), json!({"plan": "Starter", "unit_price_cents": 1500}))
        .await
        .expect(200);
    // Cancelling stops the rest.
    app.delete(&format!("/api/v1/subscriptions/{sub}")).await.expect(200);
    let l = ledger(&app).await;
    assert_eq!(
        entries(&l),
        [
            e("realised", "reclaim", 48000, true),
            e("realised", "seat_reduction", 24000, true),
            e("realised", "downgrade", 500 * 12, true),
            e("realised", "cancellation", 1500 * 12, true),
        ],
        "{l}"
    );
    assert_eq!(l["totals"][0]["realised_annual_cents"], 48000 + 24000 + 6000 + 18000);
}

async fn rejected_and_redirected_requests_are_avoided_per_currency(backend: TestBackend) {
    let org = Org::new(backend).await;
    let app = &org.app;
    // A rejected 1,200.00 a year request.
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 120_000, "internal")).await;
    let rid = id(&r);
    org.decide(&org.mia, &rid, "reject", "we have a whiteboard").await.expect(200);
    let l = ledger(app).await;
    assert_eq!(entries(&l), [e("avoided", "request_rejected", 120_000, false)], "{l}");
    assert_eq!(l["items"][0]["request_id"], rid.as_str());
    assert_eq!(l["items"][0]["actor"], format!("token:employee-{MANAGER}"));

    // A request in another currency, withdrawn after the advice named a tool the stack has.
    app.post("/api/v1/apps", json!({"name": "Mural", "category": "Whiteboard"})).await.expect(201);
    let mut body = tool("Miro", "https://miro.com", 50_000, "internal");
    body["currency"] = json!("EUR");
    let r = org.submit(&org.erin, body).await;
    assert!(!r["advice"]["apps"].as_array().unwrap().is_empty(), "{r}");
    let cancel = format!("/api/v1/requests/{}/cancel", id(&r));
    app.call_as(&org.erin, Method::POST, &cancel, None).await.expect(200);
    // A withdrawn request the advice had nothing to say about is not a saving.
    let r = org.submit(&org.erin, tool("Zoom", "https://zoom.us", 90_000, "internal")).await;
    app.call_as(&org.erin, Method::POST, &format!("/api/v1/requests/{}/cancel", id(&r)), None).await.expect(200);

    let l = ledger(app).await;
    assert_eq!(
        entries(&l),
        [e("avoided", "request_rejected", 120_000, false), e("avoided", "request_redirected", 50_000, false)]
    );
    assert_eq!(
        l["totals"],
        json!([
            {"currency": "EUR", "potential_annual_cents": 0, "realised_annual_cents": 0, "avoided_annual_cents": 50000},
            {"currency": "USD", "potential_annual_cents": 0, "realised_annual_cents": 0, "avoided_annual_cents": 120000},
        ]),
        "one row per currency, never added up"
    );
}

async fn the_ledger_filters_by_period_and_refuses_bad_input_and_roles(backend: TestBackend) {
    let org = Org::new(backend).await;
    let app = &org.app;
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 120_000, "internal")).await;
    org.decide(&org.mia, &id(&r), "reject", "no").await.expect(200);
    let today = chrono::Utc::now().date_naive();
    let l = app.get(&format!("/api/v1/savings?from={today}&to={today}")).await.expect(200);
    assert_eq!(l["items"].as_array().unwrap().len(), 1);
    let l = app.get("/api/v1/savings?from=2020-01-01&to=2020-12-31").await.expect(200);
    assert_eq!((l["items"].as_array().unwrap().len(), l["totals"].as_array().unwrap().len()), (0, 0), "{l}");
    app.get("/api/v1/savings?from=yesterday").await.expect_error(400, "invalid", Some("from"));
    app.get("/api/v1/savings?from=2026-02-01&to=2026-01-01").await.expect_error(400, "invalid", Some("to"));
    app.get("/api/v1/savings?since=2026-01-01").await.expect_error(400, "invalid", Some("since"));
    for role in [Role::Finance, Role::Admin, Role::It, Role::Auditor] {
        app.call(Some(role), Method::GET, "/api/v1/savings", None).await.expect(200);
    }
    for role in [Role::Employee, Role::Approver, Role::Security] {
        app.call(Some(role), Method::GET, "/api/v1/savings", None).await.expect_error(403, "forbidden", None);
    }
}
