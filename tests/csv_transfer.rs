//! CSV import and export: all-or-nothing, errors naming row and column, and an exported file
//! importing back unchanged.

use crate::per_backend;
use crate::support::{Test, TestApp, TestBackend};
use reqwest::Method;
use serde_json::json;
use stackward::auth::Role;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(an_export_imports_back_unchanged),
        per_backend!(a_bad_row_rejects_the_whole_file_naming_row_and_column),
        per_backend!(rows_without_ids_update_by_natural_key),
        per_backend!(rows_name_the_app_and_the_person_instead_of_ids),
    ]
}

const KINDS: [&str; 4] = ["people", "apps", "subscriptions", "accounts"];

async fn import(app: &TestApp, kind: &str, csv: String) -> crate::support::Reply {
    app.send_raw(Role::Admin, Method::POST, &format!("/api/v1/import/{kind}"), "text/csv", csv).await
}

async fn an_export_imports_back_unchanged(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    app.post(
        "/api/v1/people",
        json!({"email": "gail@example.com", "name": "Gail, \"G\" Smith", "department": "Sales",
        "manager_email": "hank@example.com", "status": "departed", "left_on": "2026-06-30"}),
    )
    .await
    .expect(201);
    app.post("/api/v1/people", json!({"email": "hank@example.com", "name": "Hank"})).await.expect(201);
    let app_id = app
        .post(
            "/api/v1/apps",
            json!({"name": "Salesforce", "vendor": "Salesforce", "category": "crm",
        "domains": ["salesforce.com", "force.com"], "website": "https://www.salesforce.com",
        "notes": "line one\nline two, with comma", "status": "under_review"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.app("Bare").await;
    let sub = app.subscription(&app_id, 25, 16500).await;
    app.post(
        "/api/v1/subscriptions",
        json!({"app_id": app_id, "plan": "Unlimited", "currency": "EUR",
        "billing_frequency": "multi-year", "renewal_type": "manual", "opt_out_date": "2026-10-01"}),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/accounts",
        json!({"app_id": app_id, "subscription_id": sub, "external_id": "005xx", "email": "gail@example.com",
        "name": "Gail", "role": "admin", "licence": "Salesforce", "billable": false, "status": "suspended",
        "vendor_created_at": "2024-02-29T12:30:00.123456Z", "last_active_at": "2026-03-01T08:00:00Z"}),
    )
    .await
    .expect(201);
    app.post("/api/v1/accounts", json!({"app_id": app_id, "username": "integration-user"})).await.expect(201);

    let exports: Vec<String> = futures_util::future::join_all(KINDS.map(|k| app.export(k))).await;
    let audit = app.audit_count().await;
    for (kind, csv) in KINDS.iter().zip(&exports) {
        let rows = csv.lines().count();
        assert!(rows >= 3, "{kind}: {csv}");
        let report = import(&app, kind, csv.clone()).await.expect(200);
        assert_eq!(report["created"], 0, "{kind}: {report}");
        assert_eq!(report["updated"], 0, "{kind}: {report}");
        assert!(report["unchanged"].as_u64().unwrap() >= 2, "{kind}: {report}");
    }
    let again: Vec<String> = futures_util::future::join_all(KINDS.map(|k| app.export(k))).await;
    assert_eq!(exports, again, "re-importing an export changes nothing");
    assert_eq!(app.audit_count().await, audit, "and logs nothing");
}

async fn a_bad_row_rejects_the_whole_file_naming_row_and_column(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let before = app.export("people").await;
    let cases = [
        ("email,name\nann@example.com,Ann\nnot-an-email,Bob\n", 400, "invalid", Some("email"), Some(2)),
        (
            "email,name,status\nann@example.com,Ann,active\nbob@example.com,Bob,retired\n",
            400,
            "invalid",
            Some("status"),
            Some(2),
        ),
        ("email,name,left_on\nann@example.com,Ann,31/12/2026\n", 400, "invalid", Some("left_on"), Some(1)),
        ("email,name\nann@example.com,Ann\nANN@example.com,Ann again\n", 400, "invalid", Some("email"), Some(2)),
        ("email,name,shoe_size\nann@example.com,Ann,9\n", 400, "invalid", Some("shoe_size"), None),
        ("email,name\nann@example.com,Ann,extra\n", 400, "malformed", None, None),
        ("email,name\n\"ann@example.com,Ann\n", 400, "malformed", None, None),
    ];
    for (csv, status, code, field, row) in cases {
        let body = import(&app, "people", csv.to_string()).await.expect_error(status, code, field);
        if let Some(row) = row {
            assert_eq!(body["error"]["row"], row, "{csv}: {body}");
            assert!(body["error"]["message"].as_str().unwrap().starts_with(&format!("row {row}")));
        }
    }
    assert_eq!(app.export("people").await, before, "no row of a refused file is kept");
}

async fn rows_without_ids_update_by_natural_key(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let r = import(&app, "people", "email,name,department\nIvy@Example.com,Ivy,Ops\njo@example.com,Jo,\n".into())
        .await
        .expect(200);
    assert_eq!(r, json!({"created": 2, "updated": 0, "unchanged": 0}));
    let r =
        import(&app, "people", "email,department\nivy@example.com,Finance\nJO@example.com,\n".into()).await.expect(200);
    assert_eq!(r, json!({"created": 0, "updated": 1, "unchanged": 1}));
    let ivy = app.get("/api/v1/people?email=ivy@example.com").await.expect(200);
    assert_eq!(ivy["items"][0]["department"], "Finance");
    assert_eq!(ivy["items"][0]["name"], "Ivy", "columns not in the file stay as they were");
    let app_id = app.app("Okta").await;
    let csv = format!("app_id,external_id,email\n{app_id},00u1,ivy@example.com\n");
    assert_eq!(import(&app, "accounts", csv.clone()).await.expect(200)["created"], 1);
    assert_eq!(import(&app, "accounts", csv).await.expect(200)["unchanged"], 1);
    let r = import(&app, "apps", "id,name\n4242,Ghost\n".into()).await.expect_error(400, "invalid", Some("id"));
    assert_eq!(r["error"]["row"], 1);
}

async fn rows_name_the_app_and_the_person_instead_of_ids(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    import(&app, "people", "email,name\nkim@example.com,Kim Lee\n".into()).await.expect(200);
    import(&app, "apps", "name\nZoom\n".into()).await.expect(200);
    let subs = "app,plan,seats_purchased,unit_price_cents,currency,billing_frequency,renewal_type\n\
        zoom,Pro,10,1500,USD,monthly,auto\n";
    assert_eq!(import(&app, "subscriptions", subs.into()).await.expect(200)["created"], 1);
    let seats = "app,person_email,status\nZoom,Kim@Example.com,active\n";
    assert_eq!(import(&app, "accounts", seats.into()).await.expect(200)["created"], 1);
    let listed = app.get("/api/v1/accounts").await.expect(200);
    assert_eq!(listed["items"][0]["email"], "kim@example.com", "{listed}");
    assert!(listed["items"][0]["person_id"].is_string(), "the seat is the person's: {listed}");

    let r = import(&app, "accounts", "app,email\nSkype,kim@example.com\n".into()).await;
    assert!(r.expect_error(400, "invalid", Some("app"))["error"]["message"].as_str().unwrap().contains("Skype"));
    import(&app, "accounts", "app,person_email\nZoom,nobody@example.com\n".into()).await.expect_error(
        400,
        "invalid",
        Some("person_email"),
    );
    import(&app, "accounts", "app_id,app,email\n999,Zoom,x@example.com\n".into()).await.expect_error(
        400,
        "invalid",
        Some("app"),
    );

    let exported = app.export("accounts").await;
    let mut lines = exported.lines();
    assert!(lines.next().unwrap().starts_with("id,app_id,app,subscription_id,person_id,person_email,"), "{exported}");
    assert!(lines.next().unwrap().contains(",Zoom,,") && exported.contains(",kim@example.com,"), "{exported}");
    let subs = app.export("subscriptions").await;
    assert!(subs.starts_with("id,app_id,app,plan,") && subs.contains(",Zoom,Pro,"), "{subs}");
    for (kind, csv) in [("accounts", exported), ("subscriptions", subs)] {
        assert_eq!(import(&app, kind, csv).await.expect(200)["unchanged"], 1, "{kind} round-trips");
    }
}
