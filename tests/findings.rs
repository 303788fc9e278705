//! Findings through the API: refresh is idempotent, a cause that disappears resolves exactly its
//! finding, triage follows the lifecycle, savings sort and total, exclusions leave accounts out.

use crate::support::{Test, TestApp, TestBackend};
use crate::{once, per_backend};
use reqwest::Method;
use serde_json::{json, Value};
use stackward::auth::Role;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_rerun_changes_nothing_and_new_activity_resolves_exactly_its_finding),
        per_backend!(a_change_in_evidence_alone_is_written_and_then_left_alone),
        per_backend!(triage_follows_the_lifecycle),
        per_backend!(findings_sort_by_savings_and_total_with_unknown_prices_apart),
        per_backend!(exclusions_leave_service_accounts_out),
        per_backend!(the_summary_counts_each_seat_once_names_apps_and_files_them_by_catalog_category),
        per_backend!(a_list_shows_the_first_seats_of_a_large_finding_and_counts_them_all),
        once!(the_cli_lists_findings_as_table_json_and_csv),
    ]
}

fn ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339()
}

/// Zoom: 10 seats at USD 15/month, 3 seats idle 90 days, 1 active. Loom: one idle seat, no price.
/// Slack: a departed person's active seat.
async fn stack(app: &TestApp) -> (String, String, Vec<String>, String) {
    let zoom = app.app("Zoom").await;
    app.patch(&format!("/api/v1/apps/{zoom}"), json!({"category": "video conferencing"})).await.expect(200);
    let sub = app.subscription(&zoom, 10, 1500).await;
    // Relative dates keep the renewal outside the 90-day risk window whatever day the tests run.
    let end = (chrono::Utc::now().date_naive() + chrono::Days::new(200)).to_string();
    app.patch(&format!("/api/v1/subscriptions/{sub}"), json!({"billing_frequency": "monthly", "term_end": end}))
        .await
        .expect(200);
    let mut idle = Vec::new();
    for i in 0..3 {
        let a = app
            .post(
                "/api/v1/accounts",
                json!({"app_id": zoom, "email": format!("idle{i}@example.com"), "last_active_at": ago(90)}),
            )
            .await
            .expect(201);
        idle.push(a["id"].as_str().unwrap().to_string());
    }
    app.post("/api/v1/accounts", json!({"app_id": zoom, "email": "busy@example.com", "last_active_at": ago(1)}))
        .await
        .expect(201);
    let loom = app.app("Loom").await;
    app.patch(&format!("/api/v1/apps/{loom}"), json!({"category": "video messaging"})).await.expect(200);
    app.post("/api/v1/subscriptions", json!({"app_id": loom, "plan": "Team", "currency": "USD"})).await.expect(201);
    let lone = app
        .post("/api/v1/accounts", json!({"app_id": loom, "email": "solo@example.com", "last_active_at": ago(200)}))
        .await
        .expect(201);
    let slack = app.app("Slack").await;
    app.post(
        "/api/v1/people",
        json!({"email": "gone@example.com", "name": "Gone", "status": "departed", "left_on": "2026-01-31"}),
    )
    .await
    .expect(201);
    app.post("/api/v1/accounts", json!({"app_id": slack, "email": "gone@example.com", "last_active_at": ago(1)}))
        .await
        .expect(201);
    (zoom, sub, idle, lone["id"].as_str().unwrap().to_string())
}

async fn refresh(app: &TestApp) -> Value {
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200)
}

async fn findings(app: &TestApp, query: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/findings?limit=500&{query}")).await.expect(200)["items"].as_array().unwrap().clone()
}

async fn a_rerun_changes_nothing_and_new_activity_resolves_exactly_its_finding(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (zoom, _, idle, lone) = stack(&app).await;
    let first = refresh(&app).await;
    assert_eq!(
        first["opened"],
        4,
        "Zoom idle, Zoom unassigned, Loom idle, Slack orphan: {:#?}",
        findings(&app, "").await
    );
    let before = findings(&app, "").await;
    let again = refresh(&app).await;
    assert_eq!(again, json!({"opened": 0, "updated": 0, "resolved": 0, "unchanged": 4}));
    assert_eq!(findings(&app, "").await, before, "a re-run on unchanged data changes nothing");

    let inactive = findings(&app, &format!("kind=inactive_seat&app_id={zoom}")).await;
    assert_eq!(inactive[0]["explanation"], "3 of 4 Zoom Business seats had no sign-in for 60+ days; USD 540.00/yr");
    assert_eq!(
        (inactive[0]["monthly_savings_cents"].clone(), inactive[0]["annual_savings_cents"].clone()),
        (json!(4500), json!(54000))
    );
    assert_eq!(inactive[0]["evidence"]["accounts"].as_array().unwrap().len(), 3);

    // Loom's one idle seat comes back to life: exactly its finding resolves.
    app.patch(&format!("/api/v1/accounts/{lone}"), json!({"last_active_at": ago(0)})).await.expect(200);
    let r = refresh(&app).await;
    assert_eq!(r, json!({"opened": 0, "updated": 0, "resolved": 1, "unchanged": 3}));
    let resolved = findings(&app, "status=resolved").await;
    assert_eq!(resolved.len(), 1);
    assert!(resolved[0]["explanation"].as_str().unwrap().starts_with("1 of 1 Loom Team seats"));
    // One of Zoom's idle seats too: its group finding shrinks, nothing else moves.
    app.patch(&format!("/api/v1/accounts/{}", idle[0]), json!({"last_active_at": ago(0)})).await.expect(200);
    assert_eq!(refresh(&app).await, json!({"opened": 0, "updated": 1, "resolved": 0, "unchanged": 2}));
    let inactive = findings(&app, &format!("kind=inactive_seat&app_id={zoom}")).await;
    assert_eq!(inactive[0]["seats"], 2);
}

/// An idle seat's last sign-in moves further back: seats, savings and explanation stay the same,
/// only the evidence differs. The refresh stores exactly that finding's new evidence, and the
/// next one, on the same data, writes nothing (every row, `updated_at` included, stays as it was).
async fn a_change_in_evidence_alone_is_written_and_then_left_alone(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (zoom, _, idle, _) = stack(&app).await;
    refresh(&app).await;
    let path = |f: &Value| format!("/api/v1/findings/{}", f["id"].as_str().unwrap());
    let inactive = findings(&app, &format!("kind=inactive_seat&app_id={zoom}")).await[0].clone();
    let before = app.get(&path(&inactive)).await.expect(200);
    let last_active = |f: &Value| -> Vec<Value> {
        f["evidence"]["accounts"].as_array().unwrap().iter().map(|a| a["last_active_at"].clone()).collect()
    };

    app.patch(&format!("/api/v1/accounts/{}", idle[0]), json!({"last_active_at": ago(120)})).await.expect(200);
    assert_eq!(refresh(&app).await, json!({"opened": 0, "updated": 1, "resolved": 0, "unchanged": 3}));
    let after = app.get(&path(&inactive)).await.expect(200);
    assert_eq!((&after["explanation"], &after["seats"]), (&before["explanation"], &before["seats"]));
    assert_ne!(last_active(&after), last_active(&before), "the new evidence is stored");

    let listed = findings(&app, "").await;
    assert_eq!(refresh(&app).await, json!({"opened": 0, "updated": 0, "resolved": 0, "unchanged": 4}));
    assert_eq!(findings(&app, "").await, listed, "a re-run on unchanged data writes nothing");
    assert_eq!(app.get(&path(&inactive)).await.expect(200), after);
}

async fn triage_follows_the_lifecycle(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (zoom, _, idle, _) = stack(&app).await;
    refresh(&app).await;
    let f = findings(&app, &format!("kind=inactive_seat&app_id={zoom}")).await[0].clone();
    let path = format!("/api/v1/findings/{}", f["id"].as_str().unwrap());
    assert_eq!(app.patch(&path, json!({"status": "acknowledged"})).await.expect(200)["status"], "acknowledged");
    app.patch(&path, json!({"status": "dismissed"})).await.expect_error(400, "invalid", Some("reason"));
    app.patch(&path, json!({"status": "snoozed", "snoozed_until": "2020-01-01"})).await.expect_error(
        400,
        "invalid",
        Some("snoozed_until"),
    );
    app.patch(&path, json!({"status": "resolved"})).await.expect_error(400, "invalid", Some("status"));
    app.patch(&path, json!({"status": "gone"})).await.expect_error(400, "invalid", Some("status"));
    let d =
        app.patch(&path, json!({"status": "dismissed", "reason": "seasonal staff, back in spring"})).await.expect(200);
    assert_eq!(d["dismiss_reason"], "seasonal staff, back in spring");
    refresh(&app).await;
    assert_eq!(
        app.get(&path).await.expect(200)["status"],
        "dismissed",
        "stays dismissed while the evidence is the same"
    );
    // Another seat goes idle: the evidence changed materially, so it reopens.
    app.post("/api/v1/accounts", json!({"app_id": zoom, "email": "idle9@example.com", "last_active_at": ago(120)}))
        .await
        .expect(201);
    refresh(&app).await;
    assert_eq!(app.get(&path).await.expect(200)["status"], "open");
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
    app.patch(&path, json!({"status": "snoozed", "snoozed_until": tomorrow})).await.expect(200);
    refresh(&app).await;
    assert_eq!(app.get(&path).await.expect(200)["status"], "snoozed");
    // The cause disappears: it resolves itself and cannot be triaged any more.
    for id in idle {
        app.patch(&format!("/api/v1/accounts/{id}"), json!({"last_active_at": ago(0)})).await.expect(200);
    }
    app.patch("/api/v1/accounts/999999", json!({})).await.expect(404);
    let accounts = app.get(&format!("/api/v1/accounts?app_id={zoom}&email=idle9@example.com")).await.expect(200);
    app.patch(
        &format!("/api/v1/accounts/{}", accounts["items"][0]["id"].as_str().unwrap()),
        json!({"status": "removed"}),
    )
    .await
    .expect(200);
    refresh(&app).await;
    let done = app.get(&path).await.expect(200);
    assert_eq!(done["status"], "resolved");
    assert!(done["resolved_at"].is_string());
    app.patch(&path, json!({"status": "acknowledged"})).await.expect_error(400, "invalid", Some("status"));
    let log =
        app.get(&format!("/api/v1/audit-log?entity=finding&entity_id={}", f["id"].as_str().unwrap())).await.expect(200);
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["finding.acknowledged", "finding.dismissed", "finding.snoozed"]);
}

async fn findings_sort_by_savings_and_total_with_unknown_prices_apart(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    stack(&app).await;
    refresh(&app).await;
    let all = findings(&app, "").await;
    let yearly: Vec<Option<i64>> = all.iter().map(|f| f["annual_savings_cents"].as_i64()).collect();
    let known: Vec<i64> = yearly.iter().flatten().copied().collect();
    assert!(known.windows(2).all(|w| w[0] >= w[1]), "largest first: {yearly:?}");
    let first_unknown = yearly.iter().position(Option::is_none).expect("Loom's price is unknown");
    assert!(yearly[first_unknown..].iter().all(Option::is_none), "unknown savings last: {yearly:?}");
    assert!(all.iter().all(|f| f["evidence"].is_object() && f["explanation"].is_string() && f["kind"].is_string()));

    let page1 = app.get("/api/v1/findings?limit=2").await.expect(200);
    let page2 = app
        .get(&format!("/api/v1/findings?limit=2&cursor={}", page1["next_cursor"].as_str().unwrap()))
        .await
        .expect(200);
    assert_eq!(page2["items"][0]["id"], all[2]["id"], "pages follow the savings order");

    let totals = app.call(Some(Role::Finance), Method::GET, "/api/v1/findings/summary", None).await.expect(200);
    let overall = &totals["overall"][0];
    assert_eq!(overall["currency"], "USD", "priced groups first: {totals}");
    let unpriced = totals["overall"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["currency"].is_null())
        .expect("a group for findings with no contract");
    assert_eq!(unpriced["unknown_savings"], unpriced["findings"]);
    assert_eq!(overall["annual_savings_cents"], json!(known.iter().sum::<i64>()));
    assert!(overall["unknown_savings"].as_u64().unwrap() >= 1, "{totals}");
    assert!(totals["by_category"].as_array().unwrap().iter().any(|t| t["key"] == "chat"), "{totals}");
    assert_eq!(findings(&app, "kind=orphaned_account").await.len(), 1);
    app.get("/api/v1/findings?kind=waste").await.expect_error(400, "invalid", Some("kind"));

    // A second video tool that two of Zoom's people also use.
    let webex = app.post("/api/v1/apps", json!({"name": "Webex", "category": "Video Conferencing"})).await.expect(201);
    let webex = webex["id"].as_str().unwrap();
    app.post(
        "/api/v1/subscriptions",
        json!({"app_id": webex, "plan": "Meet", "seats_purchased": 2, "unit_price_cents": 1000,
        "currency": "USD", "billing_frequency": "monthly"}),
    )
    .await
    .expect(201);
    for who in ["busy@example.com", "idle1@example.com"] {
        app.post("/api/v1/accounts", json!({"app_id": webex, "email": who, "last_active_at": ago(2)}))
            .await
            .expect(201);
    }
    refresh(&app).await;
    let overlap = findings(&app, "kind=overlap").await;
    assert_eq!(overlap.len(), 1);
    assert_eq!(overlap[0]["explanation"], "2 video conferencing apps are in use (Zoom, Webex): 2 of 4 people hold seats in more than one; consolidating them saves USD 240.00/yr");

    // An app added with no category is placed by the catalog (Google Meet is video conferencing).
    let meet = app.post("/api/v1/apps", json!({"name": "google meet"})).await.expect(201);
    assert!(meet["category"].is_null());
    app.post("/api/v1/accounts", json!({"app_id": meet["id"], "email": "busy@example.com", "last_active_at": ago(1)}))
        .await
        .expect(201);
    refresh(&app).await;
    let open_overlaps = findings(&app, "kind=overlap&status=open").await;
    assert_eq!(open_overlaps.len(), 1, "{open_overlaps:?}");
    assert!(
        open_overlaps[0]["explanation"]
            .as_str()
            .unwrap()
            .starts_with("3 video conferencing apps are in use (Zoom, Webex, google meet)"),
        "{}",
        open_overlaps[0]["explanation"]
    );
}

async fn exclusions_leave_service_accounts_out(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (zoom, _, idle, _) = stack(&app).await;
    refresh(&app).await;
    let ex = app
        .post(
            "/api/v1/findings/exclusions",
            json!({"account_id": idle[0], "kind": "inactive_seat", "reason": "conference-room account"}),
        )
        .await
        .expect(201);
    app.post("/api/v1/findings/exclusions", json!({"reason": "x"})).await.expect_error(400, "invalid", Some("app_id"));
    app.post("/api/v1/findings/exclusions", json!({"app_id": zoom, "reason": " "})).await.expect_error(
        400,
        "invalid",
        Some("reason"),
    );
    refresh(&app).await;
    let f = &findings(&app, &format!("kind=inactive_seat&app_id={zoom}")).await[0];
    assert_eq!(f["seats"], 2, "{f}");
    let ids: Vec<&str> =
        f["evidence"]["accounts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&idle[0].as_str()));
    app.delete(&format!("/api/v1/findings/exclusions/{}", ex["id"].as_str().unwrap())).await.expect(200);
    refresh(&app).await;
    assert_eq!(findings(&app, &format!("kind=inactive_seat&app_id={zoom}")).await[0]["seats"], 3);
    app.post("/api/v1/findings/exclusions", json!({"app_id": zoom, "reason": "board-mandated tool"})).await.expect(201);
    refresh(&app).await;
    assert!(
        findings(&app, &format!("app_id={zoom}&status=open")).await.is_empty(),
        "an excluded app has no open findings"
    );
}

async fn the_cli_lists_findings_as_table_json_and_csv() {
    let app = TestApp::new(TestBackend::Sqlite).await;
    stack(&app).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_stackward"))
            .args(args)
            .env("STACKWARD_DATABASE_URL", &app.db.url)
            .env("STACKWARD_LOG", "warn")
            .output()
            .unwrap()
    };
    let table = run(&["findings", "--refresh"]);
    assert!(table.status.success(), "{}", String::from_utf8_lossy(&table.stderr));
    assert!(String::from_utf8_lossy(&table.stderr).contains("4 opened"));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("USD 540.00") && text.contains("unknown") && text.contains("inactive_seat"), "{text}");
    let json_out: Value = serde_json::from_slice(&run(&["findings", "--format", "json"]).stdout).unwrap();
    assert_eq!(json_out.as_array().unwrap().len(), 4);
    let csv_out = String::from_utf8(run(&["findings", "--format", "csv"]).stdout).unwrap();
    assert!(csv_out
        .starts_with("id,kind,app_id,status,seats,monthly_savings_cents,annual_savings_cents,currency,explanation"));
    assert_eq!(csv_out.lines().count(), 5);
}

/// Miro (catalog category whiteboard, none set): 20 seats at USD 16/month (USD 3,840/yr) renewing
/// within the risk window; 12 held, 4 idle for 90 days, one of those held by someone who left.
async fn the_summary_counts_each_seat_once_names_apps_and_files_them_by_catalog_category(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let miro = app.post("/api/v1/apps", json!({"name": "Miro"})).await.expect(201);
    let miro = miro["id"].as_str().unwrap().to_string();
    let end = (chrono::Utc::now().date_naive() + chrono::Days::new(40)).to_string();
    app.post(
        "/api/v1/subscriptions",
        json!({"app_id": miro, "plan": "Business", "seats_purchased": 20, "unit_price_cents": 1600, "currency": "USD",
            "billing_frequency": "monthly", "term_start": "2026-01-01", "term_end": end}),
    )
    .await
    .expect(201);
    app.post("/api/v1/people", json!({"email": "left@example.com", "name": "Left", "status": "departed"}))
        .await
        .expect(201);
    for i in 0..12 {
        let email = if i == 0 { "left@example.com".to_string() } else { format!("m{i}@example.com") };
        let days = if i < 4 { 90 } else { 1 };
        app.post("/api/v1/accounts", json!({"app_id": miro, "email": email, "last_active_at": ago(days)}))
            .await
            .expect(201);
    }
    refresh(&app).await;
    let all = findings(&app, "").await;
    let annual = |kind: &str| all.iter().find(|f| f["kind"] == kind).map(|f| f["annual_savings_cents"].clone());
    assert_eq!(annual("orphaned_account"), Some(json!(19200)), "{all:#?}");
    assert_eq!(annual("inactive_seat"), Some(json!(3 * 19200)), "the departed seat is priced once");
    assert_eq!(annual("unassigned_seats"), Some(json!(8 * 19200)));
    let risk = all.iter().find(|f| f["kind"] == "renewal_at_risk").expect("renewal at risk");
    assert!(risk["annual_savings_cents"].is_null(), "it points at the unassigned seats: {risk}");
    assert_eq!(risk["evidence"]["savings_counted_in"].as_array().map(Vec::len), Some(1));

    let totals = app.get("/api/v1/findings/summary").await.expect(200);
    assert_eq!(
        totals["overall"],
        json!([{"key": "overall", "app_name": null, "currency": "USD",
        "monthly_savings_cents": 12 * 1600, "annual_savings_cents": 12 * 19200, "findings": 4, "unknown_savings": 0}])
    );
    assert!(totals["overall"][0]["annual_savings_cents"].as_i64().unwrap() <= 384_000, "never above the contract");
    assert_eq!(totals["deduplicated"], 1, "{totals}");
    assert_eq!(totals["by_app"][0]["key"], miro.as_str());
    assert_eq!(totals["by_app"][0]["app_name"], "Miro");
    let categories: Vec<&str> =
        totals["by_category"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    assert_eq!(categories, ["whiteboard"], "the catalog's category, as the overlap rule files it");

    // The totals are remembered until a finding changes: a dismissal shows at once.
    let orphaned = all.iter().find(|f| f["kind"] == "orphaned_account").unwrap();
    let path = format!("/api/v1/findings/{}", orphaned["id"].as_str().unwrap());
    app.patch(&path, json!({"status": "dismissed", "reason": "kept for the audit"})).await.expect(200);
    let after = app.get("/api/v1/findings/summary").await.expect(200);
    assert_eq!(after["overall"][0]["findings"], 3, "{after}");
    assert_eq!(after["overall"][0]["annual_savings_cents"], 11 * 19200, "{after}");
}

/// One idle-seat finding can name every seat of an app: the list carries its first ten and the
/// count, the finding itself all of them; the list is ordered by the stored savings.
async fn a_list_shows_the_first_seats_of_a_large_finding_and_counts_them_all(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (zoom, _, _, _) = stack(&app).await;
    let miro = app.app("Miro").await;
    app.subscription(&miro, 20, 1000).await;
    for i in 0..12 {
        app.post(
            "/api/v1/accounts",
            json!({"app_id": miro, "email": format!("m{i}@example.com"), "last_active_at": ago(120)}),
        )
        .await
        .expect(201);
    }
    refresh(&app).await;
    let listed = findings(&app, &format!("kind=inactive_seat&app_id={miro}")).await;
    assert_eq!(listed[0]["evidence"]["accounts"].as_array().unwrap().len(), 10, "{}", listed[0]);
    assert_eq!(listed[0]["evidence"]["accounts_total"], 12);
    let id = listed[0]["id"].as_str().unwrap();
    let whole = app.get(&format!("/api/v1/findings/{id}")).await.expect(200);
    assert_eq!(whole["evidence"]["accounts"].as_array().unwrap().len(), 12);
    assert!(whole["evidence"].get("accounts_total").is_none(), "the finding itself is not cut");
    // Its seats page as account records, in id order, 5 at a time.
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/findings/{id}/accounts?limit=5");
    loop {
        let page = app.get(&path).await.expect(200);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 5, "{page}");
        seen.extend(items.iter().map(|a| (a["id"].as_str().unwrap().parse::<i64>().unwrap(), a["app_id"].clone())));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/findings/{id}/accounts?limit=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 12, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0) && seen.iter().all(|s| s.1 == miro.as_str()), "{seen:?}");
    app.get("/api/v1/findings/999999/accounts").await.expect_error(404, "not_found", None);
    app.get(&format!("/api/v1/findings/{id}/accounts?limit=0")).await.expect_error(400, "invalid", Some("limit"));
    let employee = app.call(Some(Role::Employee), Method::GET, &format!("/api/v1/findings/{id}/accounts"), None).await;
    employee.expect_error(403, "forbidden", None);
    // Zoom's three idle seats are listed whole, and the list is by annual savings, largest first.
    let zoom_idle = findings(&app, &format!("kind=inactive_seat&app_id={zoom}")).await;
    assert_eq!(zoom_idle[0]["evidence"]["accounts"].as_array().unwrap().len(), 3);
    let all = findings(&app, "").await;
    let savings: Vec<i64> = all.iter().map(|f| f["annual_savings_cents"].as_i64().unwrap_or(-1)).collect();
    let mut sorted = savings.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(savings, sorted, "largest savings first, unknown last");
    let page = app.get("/api/v1/findings?limit=2").await.expect(200);
    let next = page["next_cursor"].as_str().expect("a second page");
    let rest = app.get(&format!("/api/v1/findings?limit=500&cursor={next}")).await.expect(200);
    let ids = |v: &Value| -> Vec<String> { v.as_array().unwrap().iter().map(|f| f["id"].to_string()).collect() };
    let mut paged = ids(&page["items"]);
    paged.extend(ids(&rest["items"]));
    assert_eq!(paged, ids(&Value::Array(all)), "pages follow the same order");
}
