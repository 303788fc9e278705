//! The inventory API as an integrator uses it: create, read, change, page, filter, retire.

use crate::per_backend;
use crate::support::{Test, TestApp, TestBackend};
use reqwest::Method;
use serde_json::json;
use stackward::auth::Role;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(integrator_round_trip),
        per_backend!(bad_input_gets_a_clear_4xx_and_changes_nothing),
        per_backend!(patch_keeps_absent_fields_clears_nulls_and_skips_no_ops),
        per_backend!(duplicates_conflict_and_unknown_ids_are_not_found),
        per_backend!(lists_page_with_cursors_and_filter),
        per_backend!(accounts_match_people_by_email_and_filter_inactive),
        per_backend!(renewal_starts_a_new_term_and_keeps_the_old),
        per_backend!(nothing_is_hard_deleted),
    ]
}

fn items(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v["items"].as_array().expect("items array")
}

async fn integrator_round_trip(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let it = Some(Role::It);
    let created = app
        .call(
            it,
            Method::POST,
            "/api/v1/apps",
            Some(json!({"name": "Zoom", "vendor": "Zoom Video Communications",
            "category": "Video Conferencing", "domains": ["zoom.us"], "owner_email": "Olga.Owner@example.com"})),
        )
        .await
        .expect(201);
    let app_id = created["id"].as_str().expect("ids are strings").to_string();
    assert_eq!(created["category"], "video conferencing");
    assert_eq!(created["owner_email"], "olga.owner@example.com");
    assert_eq!(created["status"], "approved");

    let sub = app
        .call(
            Some(Role::Finance),
            Method::POST,
            "/api/v1/subscriptions",
            Some(json!({"app_id": app_id,
            "plan": "Business", "seats_purchased": 60, "unit_price_cents": 1499, "currency": "usd",
            "billing_frequency": "monthly", "term_start": "2026-01-01", "term_end": "2026-12-31",
            "renewal_type": "auto", "notice_days": 30, "owner_email": "fin@example.com", "cost_centre": "CC-10"})),
        )
        .await
        .expect(201);
    let sub_id = sub["id"].as_str().unwrap().to_string();
    for (k, v) in [
        ("currency", json!("USD")),
        ("seats_purchased", json!(60)),
        ("billing_frequency", json!("monthly")),
        ("notice_days", json!(30)),
        ("opt_out_date", json!(null)),
        ("app_id", json!(app_id)),
    ] {
        assert_eq!(sub[k], v, "{k}");
    }

    let mut csv =
        String::from("app_id,subscription_id,external_id,email,name,role,licence,status,billable,last_active_at\n");
    for i in 0..7 {
        let last = if i < 3 { "2020-01-01T00:00:00Z".to_string() } else { String::new() };
        csv += &format!("{app_id},{sub_id},ext-{i},User{i}@Example.com,User {i},member,business,active,true,{last}\n");
    }
    let report = app.send_raw(Role::It, Method::POST, "/api/v1/import/accounts", "text/csv", csv).await.expect(200);
    assert_eq!(report, json!({"created": 7, "updated": 0, "unchanged": 0}));

    let page1 = app
        .call(it, Method::GET, &format!("/api/v1/accounts?app_id={app_id}&status=active&limit=4"), None)
        .await
        .expect(200);
    assert_eq!(items(&page1).len(), 4);
    let cursor = page1["next_cursor"].as_str().expect("a second page");
    let page2 = app
        .call(it, Method::GET, &format!("/api/v1/accounts?app_id={app_id}&limit=4&cursor={cursor}"), None)
        .await
        .expect(200);
    assert_eq!(items(&page2).len(), 3);
    assert!(page2["next_cursor"].is_null());
    assert_eq!(items(&page1)[0]["email"], "user0@example.com");
    assert_eq!(items(&page1)[0]["subscription_id"], sub_id);

    let export = app.export("accounts").await;
    assert_eq!(export.lines().count(), 8, "header + 7 rows:\n{export}");
    assert!(export.contains("ext-6,user6@example.com"));

    let log = app.get("/api/v1/audit-log?limit=500").await.expect(200);
    let actions: Vec<(&str, &str)> = items(&log)
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .filter(|(a, _)| !a.starts_with("token."))
        .collect();
    assert_eq!(actions[0], ("app.create", "token:test-it"));
    assert_eq!(actions[1], ("subscription.create", "token:test-finance"));
    assert_eq!(actions.iter().filter(|(a, _)| *a == "account.create").count(), 7);
    let first = &items(&log).iter().find(|e| e["action"] == "app.create").unwrap();
    assert!(first["before"].is_null());
    assert_eq!(first["after"]["name"], "Zoom");
    assert_eq!(first["entity_id"], app_id);
}

async fn bad_input_gets_a_clear_4xx_and_changes_nothing(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let app_id = app.app("Miro").await;
    let before = (app.export("apps").await, app.export("subscriptions").await, app.audit_count().await);

    let r = app.send_raw(Role::Admin, Method::POST, "/api/v1/apps", "application/json", "{\"name\": ".into()).await;
    r.expect_error(400, "malformed", None);
    app.post("/api/v1/apps", json!({"name": 42})).await.expect_error(400, "invalid", Some("name"));
    app.post("/api/v1/apps", json!({"name": "X", "colour": "red"})).await.expect_error(400, "invalid", Some("colour"));
    app.post("/api/v1/apps", json!({"name": "  "})).await.expect_error(400, "invalid", Some("name"));
    app.post("/api/v1/apps", json!({"name": "X", "status": "bogus"})).await.expect_error(
        400,
        "invalid",
        Some("status"),
    );
    app.post("/api/v1/apps", json!({"name": "X", "owner_email": "not-an-email"})).await.expect_error(
        400,
        "invalid",
        Some("owner_email"),
    );
    app.post("/api/v1/apps", json!({"name": "X", "domains": ["not a domain"]})).await.expect_error(
        400,
        "invalid",
        Some("domains"),
    );
    let sub = |extra: serde_json::Value| {
        let mut b = json!({"app_id": app_id, "plan": "Team", "currency": "USD"});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    app.post("/api/v1/subscriptions", sub(json!({"seats_purchased": -1}))).await.expect_error(
        400,
        "invalid",
        Some("seats_purchased"),
    );
    app.post("/api/v1/subscriptions", sub(json!({"unit_price_cents": -5}))).await.expect_error(
        400,
        "invalid",
        Some("unit_price_cents"),
    );
    app.post("/api/v1/subscriptions", sub(json!({"currency": "ABC"}))).await.expect_error(
        400,
        "invalid",
        Some("currency"),
    );
    app.post("/api/v1/subscriptions", sub(json!({"seats_purchased": "ten"}))).await.expect_error(
        400,
        "invalid",
        Some("seats_purchased"),
    );
    app.post("/api/v1/subscriptions", sub(json!({"term_start": "2026-02-30"}))).await.expect_error(
        400,
        "invalid",
        Some("term_start"),
    );
    app.post("/api/v1/subscriptions", sub(json!({"term_start": "2026-05-01", "term_end": "2026-04-01"})))
        .await
        .expect_error(400, "invalid", Some("term_end"));
    app.post("/api/v1/subscriptions", sub(json!({"app_id": "999"}))).await.expect_error(400, "invalid", Some("app_id"));
    app.post("/api/v1/subscriptions", json!({"app_id": app_id, "plan": "Team"})).await.expect_error(
        400,
        "invalid",
        Some("currency"),
    );
    app.post("/api/v1/subscriptions", sub(json!({"billing_frequency": "weekly"}))).await.expect_error(
        400,
        "invalid",
        Some("billing_frequency"),
    );
    app.post("/api/v1/subscriptions", sub(json!({"notice_days": 99999}))).await.expect_error(
        400,
        "invalid",
        Some("notice_days"),
    );
    app.post("/api/v1/accounts", json!({"app_id": app_id})).await.expect_error(400, "invalid", Some("email"));
    app.get("/api/v1/accounts?inactive_days=-3").await.expect_error(400, "invalid", Some("inactive_days"));
    app.get("/api/v1/apps?limit=0").await.expect_error(400, "invalid", Some("limit"));
    app.get("/api/v1/apps?cursor=nonsense").await.expect_error(400, "invalid", Some("cursor"));
    let bad_csv = format!("app_id,plan,currency,seats_purchased\n{app_id},Team,USD,5\n{app_id},Team,USD,-5\n");
    let r = app.send_raw(Role::Admin, Method::POST, "/api/v1/import/subscriptions", "text/csv", bad_csv).await;
    let body = r.expect_error(400, "invalid", Some("seats_purchased"));
    assert_eq!(body["error"]["row"], 2);

    let after = (app.export("apps").await, app.export("subscriptions").await, app.audit_count().await);
    assert_eq!(before, after, "refused input must change nothing");
}

async fn patch_keeps_absent_fields_clears_nulls_and_skips_no_ops(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let created =
        app.post("/api/v1/apps", json!({"name": "Figma", "vendor": "Figma Inc", "notes": "design"})).await.expect(201);
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/apps/{id}");
    let changed = app.patch(&path, json!({"vendor": null, "category": "Design"})).await.expect(200);
    assert!(changed["vendor"].is_null());
    assert_eq!(changed["notes"], "design", "absent fields stay");
    assert_eq!(changed["category"], "design");
    let count = app.audit_count().await;
    let same = app.patch(&path, json!({"category": "design"})).await.expect(200);
    assert_eq!(same["updated_at"], changed["updated_at"]);
    assert_eq!(app.audit_count().await, count, "a change that alters nothing is not logged");
    let log = app.get(&format!("/api/v1/audit-log?entity=app&entity_id={id}")).await.expect(200);
    let update = &items(&log)[1];
    assert_eq!(update["action"], "app.update");
    assert_eq!(update["before"]["vendor"], "Figma Inc");
    assert!(update["after"]["vendor"].is_null());
}

async fn duplicates_conflict_and_unknown_ids_are_not_found(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    app.app("Notion").await;
    app.post("/api/v1/apps", json!({"name": "NOTION"})).await.expect_error(409, "conflict", Some("name"));
    app.post("/api/v1/people", json!({"email": "Ann@Example.com", "name": "Ann"})).await.expect(201);
    app.post("/api/v1/people", json!({"email": "ann@example.COM", "name": "Ann 2"})).await.expect_error(
        409,
        "conflict",
        Some("email"),
    );
    let app_id = app.app("GitHub").await;
    app.post("/api/v1/accounts", json!({"app_id": app_id, "external_id": "42", "username": "octo"})).await.expect(201);
    app.post("/api/v1/accounts", json!({"app_id": app_id, "external_id": "42", "username": "cat"})).await.expect_error(
        409,
        "conflict",
        Some("external_id"),
    );
    for path in [
        "/api/v1/apps/9999",
        "/api/v1/subscriptions/9999",
        "/api/v1/people/9999",
        "/api/v1/accounts/9999",
        "/api/v1/apps/abc",
        "/api/v1/export/widgets",
        "/api/v1/nowhere",
    ] {
        app.get(path).await.expect_error(404, "not_found", None);
    }
    app.patch("/api/v1/apps/9999", json!({"name": "x"})).await.expect_error(404, "not_found", None);
}

async fn lists_page_with_cursors_and_filter(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    for i in 0..7 {
        let status = if i % 2 == 0 { "approved" } else { "under_review" };
        app.post("/api/v1/apps", json!({"name": format!("Tool {i}"), "status": status, "category": "analytics"}))
            .await
            .expect(201);
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/api/v1/apps?limit=3&cursor={cursor}")).await.expect(200);
        seen.extend(items(&page).iter().map(|a| a["name"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.into(),
            None => break,
        }
    }
    assert_eq!(seen, (0..7).map(|i| format!("Tool {i}")).collect::<Vec<_>>());
    let review = app.get("/api/v1/apps?status=under_review").await.expect(200);
    assert_eq!(items(&review).len(), 3);
    let q = app.get("/api/v1/apps?q=tOoL%205").await.expect(200);
    assert_eq!(items(&q).len(), 1);
    assert_eq!(items(&app.get("/api/v1/apps?category=Analytics").await.expect(200)).len(), 7);
}

async fn accounts_match_people_by_email_and_filter_inactive(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let app_id = app.app("Asana").await;
    let recent = (chrono::Utc::now() - chrono::Duration::days(5)).to_rfc3339();
    let old = (chrono::Utc::now() - chrono::Duration::days(90)).to_rfc3339();
    let a1 = app
        .post("/api/v1/accounts", json!({"app_id": app_id, "email": "Bo@Example.com", "last_active_at": recent}))
        .await
        .expect(201);
    assert!(a1["person_id"].is_null(), "no person yet");
    let old_acc = app
        .post("/api/v1/accounts", json!({"app_id": app_id, "email": "cy@example.com", "last_active_at": old}))
        .await
        .expect(201);
    app.post("/api/v1/accounts", json!({"app_id": app_id, "username": "never-used"})).await.expect(201);
    let gone = app
        .post("/api/v1/accounts", json!({"app_id": app_id, "username": "gone", "status": "removed"}))
        .await
        .expect(201);
    assert!(gone["removed_at"].is_string(), "removed accounts carry removed_at");

    let person = app.post("/api/v1/people", json!({"email": "BO@example.com", "name": "Bo"})).await.expect(201);
    let a1 = app.get(&format!("/api/v1/accounts/{}", a1["id"].as_str().unwrap())).await.expect(200);
    assert_eq!(a1["person_id"], person["id"], "matched case-insensitively when the person arrives");
    let by_person =
        app.get(&format!("/api/v1/accounts?person_id={}", person["id"].as_str().unwrap())).await.expect(200);
    assert_eq!(items(&by_person).len(), 1);

    let inactive = app.get(&format!("/api/v1/accounts?app_id={app_id}&inactive_days=30")).await.expect(200);
    let names: Vec<_> = items(&inactive).iter().map(|a| a["id"].clone()).collect();
    assert_eq!(items(&inactive).len(), 2, "the 90-day-old and the never-used seat, not removed ones: {inactive}");
    assert!(names.contains(&old_acc["id"]));
    let t = app
        .patch(&format!("/api/v1/accounts/{}", old_acc["id"].as_str().unwrap()), json!({"last_active_at": recent}))
        .await
        .expect(200);
    assert!(t["last_active_at"].as_str().unwrap().ends_with('Z'));
    let inactive = app.get(&format!("/api/v1/accounts?app_id={app_id}&inactive_days=30")).await.expect(200);
    assert_eq!(items(&inactive).len(), 1);
    let other = app.app("Other").await;
    let sub = app.subscription(&other, 5, 100).await;
    app.post("/api/v1/accounts", json!({"app_id": app_id, "username": "x", "subscription_id": sub}))
        .await
        .expect_error(400, "invalid", Some("subscription_id"));
}

async fn renewal_starts_a_new_term_and_keeps_the_old(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let app_id = app.app("Dropbox").await;
    let sub_id = app.subscription(&app_id, 10, 1200).await;
    app.patch(&format!("/api/v1/subscriptions/{sub_id}"), json!({"opt_out_date": "2026-11-30"})).await.expect(200);
    let renewed = app
        .post(
            &format!("/api/v1/subscriptions/{sub_id}/renewals"),
            json!({"term_end": "2027-12-31", "seats_purchased": 8}),
        )
        .await
        .expect(200);
    assert_eq!(renewed["term_start"], "2027-01-01");
    assert_eq!(renewed["term_end"], "2027-12-31");
    assert_eq!(renewed["seats_purchased"], 8);
    assert_eq!(renewed["unit_price_cents"], 1200, "unset figures carry over");
    assert!(renewed["opt_out_date"].is_null(), "the old term's opt-out date does not carry over");
    assert_eq!(renewed["term_number"], 2);
    let terms = app.get(&format!("/api/v1/subscriptions/{sub_id}/terms")).await.expect(200);
    let terms = terms.as_array().unwrap();
    assert_eq!(terms.len(), 2);
    assert_eq!((terms[0]["seats_purchased"].clone(), terms[0]["term_end"].clone()), (json!(10), json!("2026-12-31")));
    assert_eq!(terms[0]["opt_out_date"], "2026-11-30");
    assert_eq!(terms[1]["term_number"], 2);
    app.post(&format!("/api/v1/subscriptions/{sub_id}/renewals"), json!({"seats_purchased": 3})).await.expect_error(
        400,
        "invalid",
        Some("term_end"),
    );
}

async fn nothing_is_hard_deleted(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let app_id = app.app("Zendesk").await;
    let sub_id = app.subscription(&app_id, 3, 4900).await;
    let person = app.post("/api/v1/people", json!({"email": "dee@example.com", "name": "Dee"})).await.expect(201);
    let acc = app.post("/api/v1/accounts", json!({"app_id": app_id, "email": "dee@example.com"})).await.expect(201);
    assert_eq!(app.delete(&format!("/api/v1/apps/{app_id}")).await.expect(200)["status"], "retired");
    assert_eq!(app.delete(&format!("/api/v1/subscriptions/{sub_id}")).await.expect(200)["status"], "cancelled");
    let p = app.delete(&format!("/api/v1/people/{}", person["id"].as_str().unwrap())).await.expect(200);
    assert_eq!(p["status"], "departed");
    assert!(p["left_on"].is_string());
    let a = app.delete(&format!("/api/v1/accounts/{}", acc["id"].as_str().unwrap())).await.expect(200);
    assert_eq!(a["status"], "removed");
    assert!(a["removed_at"].is_string());
    assert_eq!(items(&app.get("/api/v1/apps?status=retired").await.expect(200)).len(), 1);
    app.get(&format!("/api/v1/subscriptions/{sub_id}")).await.expect(200);
}
