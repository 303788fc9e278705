//! Strict reading of input: no input makes a 500, and what is ambiguous is refused with 400 (or
//! 415) naming the field, writing nothing. Runs on both backends: PostgreSQL is where a NUL
//! character used to become a 500.

use crate::per_backend;
use crate::support::{Test, TestApp, TestBackend, EMPLOYEE_EMAIL};
use reqwest::Method;
use serde_json::json;
use stackward::auth::Role;
use stackward::inventory::validate::{MAX_SEATS, MAX_UNIT_PRICE_CENTS};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_huge_inactive_days_is_an_answer_not_a_crash),
        per_backend!(nul_characters_are_refused_in_bodies_queries_and_csv),
        per_backend!(seats_and_prices_have_documented_upper_bounds),
        per_backend!(the_findings_summary_does_not_wrap_around),
        per_backend!(json_must_be_one_value_sent_as_json),
        per_backend!(dates_need_four_year_digits),
        per_backend!(null_on_a_field_that_cannot_be_cleared_is_refused),
        per_backend!(search_wildcards_match_literally),
        per_backend!(csv_exports_neutralise_formulas_and_import_back_unchanged),
    ]
}

async fn a_huge_inactive_days_is_an_answer_not_a_crash(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let app_id = app.app("Slack").await;
    app.post("/api/v1/accounts", json!({"app_id": app_id, "email": EMPLOYEE_EMAIL})).await.expect(201);
    for days in ["2147483647", "4294967295", "0", "36500"] {
        let path = format!("/api/v1/accounts?inactive_days={days}");
        let body = app.call(Some(Role::Employee), Method::GET, &path, None).await.expect(200);
        assert_eq!(body["items"].as_array().unwrap().len(), 1, "never used counts as inactive for {days} days");
    }
    let r = app.call(Some(Role::Employee), Method::GET, "/api/v1/accounts?inactive_days=4294967296", None).await;
    r.expect_error(400, "invalid", Some("inactive_days"));
}

async fn nul_characters_are_refused_in_bodies_queries_and_csv(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let app_id = app.app("Slack").await;
    let before = app.audit_count().await;
    app.post("/api/v1/apps", json!({"name": "Evil\u{0}App"})).await.expect_error(400, "invalid", Some("name"));
    app.patch(&format!("/api/v1/apps/{app_id}"), json!({"notes": "a\u{0}b"})).await.expect_error(
        400,
        "invalid",
        Some("notes"),
    );
    app.post("/api/v1/people", json!({"email": "nul@example.com", "name": "Nul", "department": "R\u{0}D"}))
        .await
        .expect_error(400, "invalid", Some("department"));
    let body =
        json!({"connector": "scim", "name": "figma", "settings": {"app": "Fig\u{0}ma"}, "secrets": {"token": "t"}});
    app.post("/api/v1/connections", body).await.expect_error(400, "invalid", Some("settings.app"));
    app.post("/api/v1/findings/exclusions", json!({"app_id": app_id, "reason\u{0}": "x"})).await.expect_error(
        400,
        "invalid",
        Some("reason"),
    );
    // Escaped in a query string.
    app.get("/api/v1/apps?q=Sl%00ack").await.expect_error(400, "invalid", Some("q"));
    app.get("/api/v1/people?email=a%00@example.com").await.expect_error(400, "invalid", Some("email"));
    app.get("/api/v1/audit-log?actor=x%00").await.expect_error(400, "invalid", Some("actor"));
    // In a CSV cell.
    let csv = "name,vendor\nGood,Vendor\nBad,Ven\0dor\n".to_string();
    let r = app.send_raw(Role::Admin, Method::POST, "/api/v1/import/apps", "text/csv", csv).await;
    let body = r.expect_error(400, "invalid", Some("vendor"));
    assert_eq!(body["error"]["row"], 2, "{body}");
    assert_eq!(app.audit_count().await, before, "nothing was written");
    // An escaped backslash before `u0000` is not a NUL.
    app.post("/api/v1/apps", json!({"name": "back\\u0000slash"})).await.expect(201);
}

async fn seats_and_prices_have_documented_upper_bounds(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let app_id = app.app("Zoom").await;
    let sub = |seats: i64, price: i64| json!({"app_id": app_id, "plan": "Pro", "currency": "USD", "seats_purchased": seats, "unit_price_cents": price});
    app.post("/api/v1/subscriptions", sub(MAX_SEATS + 1, 100)).await.expect_error(
        400,
        "invalid",
        Some("seats_purchased"),
    );
    app.post("/api/v1/subscriptions", sub(10, MAX_UNIT_PRICE_CENTS + 1)).await.expect_error(
        400,
        "invalid",
        Some("unit_price_cents"),
    );
    let created = app.post("/api/v1/subscriptions", sub(MAX_SEATS, MAX_UNIT_PRICE_CENTS)).await.expect(201);
    let id = created["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/subscriptions/{id}"), json!({"unit_price_cents": i64::MAX})).await.expect_error(
        400,
        "invalid",
        Some("unit_price_cents"),
    );
    let renewal = json!({"term_start": "2030-01-01", "term_end": "2030-12-31", "seats_purchased": i64::MAX});
    app.post(&format!("/api/v1/subscriptions/{id}/renewals"), renewal).await.expect_error(
        400,
        "invalid",
        Some("seats_purchased"),
    );
    let csv = format!("app_id,plan,currency,seats_purchased\n{app_id},Big,USD,{}\n", MAX_SEATS + 1);
    let r = app.send_raw(Role::Admin, Method::POST, "/api/v1/import/subscriptions", "text/csv", csv).await;
    r.expect_error(400, "invalid", Some("seats_purchased"));
    // The bounds are in the OpenAPI document.
    let doc = app.call(None, Method::GET, "/api/v1/openapi.json", None).await.expect(200);
    let props = &doc["components"]["schemas"]["SubscriptionChanges"]["properties"];
    assert_eq!(props["seats_purchased"]["maximum"], json!(MAX_SEATS), "{props}");
    assert_eq!(props["unit_price_cents"]["maximum"], json!(MAX_UNIT_PRICE_CENTS), "{props}");
}

async fn the_findings_summary_does_not_wrap_around(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    // Each subscription's unused seats are worth about 1.2e17 cents a year; 100 of them add up to
    // more than a signed 64-bit number holds.
    for i in 0..100 {
        let app_id = app.app(&format!("Tool {i}")).await;
        let body = json!({"app_id": app_id, "plan": "Max", "currency": "USD", "seats_purchased": MAX_SEATS,
            "unit_price_cents": MAX_UNIT_PRICE_CENTS, "billing_frequency": "monthly", "term_start": "2026-01-01"});
        app.post("/api/v1/subscriptions", body).await.expect(201);
    }
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    let mut want: i128 = 0;
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/api/v1/findings?limit=500&cursor={cursor}")).await.expect(200);
        for f in page["items"].as_array().unwrap() {
            if f["currency"] == "USD" {
                want += i128::from(f["annual_savings_cents"].as_i64().unwrap_or(0));
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert!(want > i128::from(i64::MAX), "the fixture must exceed 64 bits: {want}");
    let r = app.get("/api/v1/findings/summary").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // serde_json's Value cannot hold the sum; read the number from the text.
    assert!(r.text.contains(&format!("\"annual_savings_cents\":{want}")), "overall {want} in {}", r.text);
}

async fn json_must_be_one_value_sent_as_json(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let before = app.audit_count().await;
    let r =
        app.send_raw(Role::Admin, Method::POST, "/api/v1/apps", "application/json", r#"{"name":"A"} x"#.into()).await;
    r.expect_error(400, "malformed", None);
    let r =
        app.send_raw(Role::Admin, Method::POST, "/api/v1/apps", "application/json", r#"{"name":"A"}{}"#.into()).await;
    r.expect_error(400, "malformed", None);
    let r = app.send_raw(Role::Admin, Method::POST, "/api/v1/apps", "text/plain", r#"{"name":"A"}"#.into()).await;
    r.expect_error(415, "unsupported_media_type", None);
    let form = "application/x-www-form-urlencoded";
    let r = app.send_raw(Role::Admin, Method::POST, "/api/v1/apps", form, r#"{"name":"A"}"#.into()).await;
    r.expect_error(415, "unsupported_media_type", None);
    assert_eq!(app.audit_count().await, before, "nothing was written");
    // Trailing whitespace is still one value; a JSON subtype and parameters are JSON.
    let r = app
        .send_raw(
            Role::Admin,
            Method::POST,
            "/api/v1/apps",
            "application/json; charset=utf-8",
            "{\"name\":\"A\"}\n ".into(),
        )
        .await;
    r.expect(201);
    let r = app
        .send_raw(Role::Admin, Method::POST, "/api/v1/apps", "application/merge-patch+json", r#"{"name":"B"}"#.into())
        .await;
    r.expect(201);
    // A role check still comes before the body is looked at.
    let r = app.send_raw(Role::Auditor, Method::POST, "/api/v1/apps", "text/plain", "x".into()).await;
    r.expect_error(403, "forbidden", None);
}

async fn dates_need_four_year_digits(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let app_id = app.app("Miro").await;
    let sub = |start: &str| json!({"app_id": app_id, "plan": "Pro", "currency": "USD", "term_start": start});
    for bad in ["26-01-01", "026-01-01", "2026-1-1", "+2026-01-01"] {
        let body = app.post("/api/v1/subscriptions", sub(bad)).await.expect_error(400, "invalid", Some("term_start"));
        assert!(body["error"]["message"].as_str().unwrap().contains("four-digit year"), "{body}");
    }
    let id = app.post("/api/v1/subscriptions", sub("2026-01-01")).await.expect(201)["id"].as_str().unwrap().to_string();
    app.patch(&format!("/api/v1/subscriptions/{id}"), json!({"term_end": "27-12-31"})).await.expect_error(
        400,
        "invalid",
        Some("term_end"),
    );
    app.post(&format!("/api/v1/subscriptions/{id}/renewals"), json!({"term_end": "27-12-31"})).await.expect_error(
        400,
        "invalid",
        Some("term_end"),
    );
    let person = app.post("/api/v1/people", json!({"email": "p@example.com", "name": "P"})).await.expect(201);
    let pid = person["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/people/{pid}"), json!({"left_on": "26-06-30"})).await.expect_error(
        400,
        "invalid",
        Some("left_on"),
    );
    let csv = format!("app_id,plan,currency,term_start\n{app_id},Team,USD,26-01-01\n");
    let r = app.send_raw(Role::Admin, Method::POST, "/api/v1/import/subscriptions", "text/csv", csv).await;
    r.expect_error(400, "invalid", Some("term_start"));
    let r = app
        .post("/api/v1/accounts", json!({"app_id": app_id, "email": "a@example.com", "last_active_at": "26-01-01"}))
        .await;
    r.expect_error(400, "invalid", Some("last_active_at"));
}

async fn null_on_a_field_that_cannot_be_cleared_is_refused(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let app_id = app.app("Notion").await;
    let sub_id = app.subscription(&app_id, 10, 800).await;
    let person = app.post("/api/v1/people", json!({"email": "q@example.com", "name": "Q"})).await.expect(201);
    let pid = person["id"].as_str().unwrap().to_string();
    let account = app.post("/api/v1/accounts", json!({"app_id": app_id, "email": "q@example.com"})).await.expect(201);
    let aid = account["id"].as_str().unwrap().to_string();
    let before = app.audit_count().await;
    let cases = [
        (format!("/api/v1/apps/{app_id}"), "name"),
        (format!("/api/v1/apps/{app_id}"), "status"),
        (format!("/api/v1/subscriptions/{sub_id}"), "plan"),
        (format!("/api/v1/subscriptions/{sub_id}"), "currency"),
        (format!("/api/v1/subscriptions/{sub_id}"), "term_start"),
        (format!("/api/v1/subscriptions/{sub_id}"), "billing_frequency"),
        (format!("/api/v1/people/{pid}"), "name"),
        (format!("/api/v1/people/{pid}"), "email"),
        (format!("/api/v1/accounts/{aid}"), "status"),
        (format!("/api/v1/accounts/{aid}"), "billable"),
    ];
    for (path, field) in cases {
        let body = app.patch(&path, json!({field: null})).await.expect_error(400, "invalid", Some(field));
        assert!(body["error"]["message"].as_str().unwrap().contains("must not be null"), "{body}");
    }
    assert_eq!(app.audit_count().await, before, "nothing was written");
    // A field that can be cleared still clears with null.
    let cleared = app.patch(&format!("/api/v1/apps/{app_id}"), json!({"category": null})).await.expect(200);
    assert!(cleared["category"].is_null());
}

async fn search_wildcards_match_literally(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    for name in ["Slack", "Box", "50% Off", "snake_case", "back\\slash"] {
        app.app(name).await;
    }
    let names = |body: serde_json::Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(app.get("/api/v1/apps?q=_").await.expect(200)), ["snake_case"]);
    assert_eq!(names(app.get("/api/v1/apps?q=%25").await.expect(200)), ["50% Off"]);
    assert_eq!(names(app.get("/api/v1/apps?q=%5C").await.expect(200)), ["back\\slash"]);
    assert!(names(app.get("/api/v1/apps?q=S_ack").await.expect(200)).is_empty());
    assert_eq!(names(app.get("/api/v1/apps?q=SLAC").await.expect(200)), ["Slack"], "still case-insensitive");
}

async fn csv_exports_neutralise_formulas_and_import_back_unchanged(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let cells = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2", "@SUM(A1)", "'=quoted"];
    for (i, vendor) in cells.iter().enumerate() {
        app.post("/api/v1/apps", json!({"name": format!("App {i}"), "vendor": vendor})).await.expect(201);
    }
    let csv = app.export("apps").await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let vendor_at = reader.headers().unwrap().iter().position(|h| h == "vendor").unwrap();
    let exported: Vec<String> = reader.records().map(|r| r.unwrap()[vendor_at].to_string()).collect();
    for (cell, want) in exported.iter().zip(cells) {
        assert_eq!(cell, &format!("'{want}"), "a formula cell starts with a quote");
    }
    let before = app.audit_count().await;
    let r = app.send_raw(Role::Admin, Method::POST, "/api/v1/import/apps", "text/csv", csv.clone()).await;
    assert_eq!(r.expect(200)["unchanged"], cells.len(), "the export imports back unchanged");
    assert_eq!(app.audit_count().await, before);
    assert_eq!(app.export("apps").await, csv);
}
