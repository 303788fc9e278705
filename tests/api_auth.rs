//! Tokens and roles: every route refuses a missing or bad token (401) and every role it does
//! not allow (403, before looking at the body); employees read only their own records.

use crate::per_backend;
use crate::support::{Test, TestApp, TestBackend, EMPLOYEE_EMAIL};
use reqwest::Method;
use serde_json::json;
use stackward::auth::Role::{self, *};
use std::collections::BTreeSet;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(every_route_refuses_missing_and_bad_tokens),
        per_backend!(every_route_refuses_roles_it_does_not_allow),
        per_backend!(an_employee_reads_only_their_own_person_and_accounts),
        per_backend!(tokens_are_shown_once_stored_hashed_and_revocable),
    ]
}

const ANY: &[Role] = &[Admin, It, Finance, Security, Approver, Employee, Auditor];
const READERS: &[Role] = &[Admin, It, Finance, Security, Approver, Auditor];
const WRITERS: &[Role] = &[Admin, It];
const CONTRACTS: &[Role] = &[Admin, It, Finance];

/// Every API route and the roles it allows, as the issue and DESIGN.md define them.
const MATRIX: &[(&str, &str, &[Role])] = &[
    ("GET", "/api/v1/apps", ANY),
    ("POST", "/api/v1/apps", WRITERS),
    ("GET", "/api/v1/apps/{id}", ANY),
    ("PATCH", "/api/v1/apps/{id}", WRITERS),
    ("DELETE", "/api/v1/apps/{id}", WRITERS),
    ("GET", "/api/v1/subscriptions", READERS),
    ("POST", "/api/v1/subscriptions", CONTRACTS),
    ("GET", "/api/v1/subscriptions/{id}", READERS),
    ("PATCH", "/api/v1/subscriptions/{id}", CONTRACTS),
    ("DELETE", "/api/v1/subscriptions/{id}", CONTRACTS),
    ("POST", "/api/v1/subscriptions/{id}/renewals", CONTRACTS),
    ("GET", "/api/v1/subscriptions/{id}/terms", READERS),
    ("GET", "/api/v1/people", ANY),
    ("POST", "/api/v1/people", WRITERS),
    ("GET", "/api/v1/people/{id}", ANY),
    ("PATCH", "/api/v1/people/{id}", WRITERS),
    ("DELETE", "/api/v1/people/{id}", WRITERS),
    ("GET", "/api/v1/accounts", ANY),
    ("POST", "/api/v1/accounts", WRITERS),
    ("GET", "/api/v1/accounts/{id}", ANY),
    ("PATCH", "/api/v1/accounts/{id}", WRITERS),
    ("DELETE", "/api/v1/accounts/{id}", WRITERS),
    ("POST", "/api/v1/import/{kind}", WRITERS),
    ("GET", "/api/v1/export/{kind}", READERS),
    ("GET", "/api/v1/audit-log", &[Admin, Security, Auditor]),
    ("GET", "/api/v1/tokens", &[Admin]),
    ("POST", "/api/v1/tokens", &[Admin]),
    ("DELETE", "/api/v1/tokens/{id}", &[Admin]),
    ("GET", "/api/v1/me", ANY),
    ("GET", "/api/v1/renewals", READERS),
    ("GET", "/api/v1/renewals.ics", READERS),
    ("GET", "/api/v1/jobs", &[Admin, It, Auditor]),
    ("GET", "/api/v1/outbox", &[Admin, It, Auditor]),
    ("POST", "/api/v1/mail/test", WRITERS),
    ("GET", "/api/v1/findings", READERS),
    ("GET", "/api/v1/findings/summary", READERS),
    ("GET", "/api/v1/findings/{id}", READERS),
    ("PATCH", "/api/v1/findings/{id}", CONTRACTS),
    ("POST", "/api/v1/findings/refresh", CONTRACTS),
    ("GET", "/api/v1/findings/exclusions", READERS),
    ("POST", "/api/v1/findings/exclusions", CONTRACTS),
    ("DELETE", "/api/v1/findings/exclusions/{id}", CONTRACTS),
    ("GET", "/api/v1/connectors", READERS),
    ("GET", "/api/v1/connections", READERS),
    ("POST", "/api/v1/connections", WRITERS),
    ("GET", "/api/v1/connections/{id}", READERS),
    ("PATCH", "/api/v1/connections/{id}", WRITERS),
    ("DELETE", "/api/v1/connections/{id}", WRITERS),
    ("POST", "/api/v1/connections/{id}/sync", WRITERS),
    ("GET", "/api/v1/connections/{id}/runs", READERS),
    ("GET", "/api/v1/sync-runs/{id}", READERS),
    ("GET", "/api/v1/connections/{id}/oauth/start", WRITERS),
    // Requests: anyone reaches them; who may read or decide is checked per request and step.
    ("GET", "/api/v1/requests", ANY),
    ("POST", "/api/v1/requests", ANY),
    ("POST", "/api/v1/requests/advice", ANY),
    ("GET", "/api/v1/requests/{id}", ANY),
    ("PATCH", "/api/v1/requests/{id}", ANY),
    ("POST", "/api/v1/requests/{id}/decisions", ANY),
    ("POST", "/api/v1/requests/{id}/cancel", ANY),
    ("POST", "/api/v1/requests/{id}/complete", ANY),
    ("GET", "/api/v1/policy", READERS),
    ("PUT", "/api/v1/policy", &[Admin]),
    ("POST", "/api/v1/usage", WRITERS),
    ("GET", "/api/v1/savings", &[Admin, It, Finance, Auditor]),
    ("GET", "/api/v1/stale-alerts", READERS),
];

/// Routes a single-use `state` authenticates instead of a token (the OAuth callback).
const STATE_AUTHENTICATED: &[&str] = &["/api/v1/connections/{id}/oauth/callback"];

const OPEN: &[&str] = &["/healthz", "/readyz", "/metrics"];

fn concrete(path: &str) -> String {
    path.replace("{id}", "999999").replace("{kind}", "apps")
}

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).expect("method")
}

/// The (method, path) pairs the OpenAPI document lists.
async fn documented(app: &TestApp) -> BTreeSet<(String, String)> {
    let doc = app.call(None, Method::GET, "/api/v1/openapi.json", None).await.expect(200);
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in item.as_object().unwrap().keys() {
            ops.insert((m.to_uppercase(), path.clone()));
        }
    }
    ops
}

async fn every_route_refuses_missing_and_bad_tokens(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let table: BTreeSet<_> = MATRIX.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    let doc: BTreeSet<_> = documented(&app)
        .await
        .into_iter()
        .filter(|(_, p)| !OPEN.contains(&p.as_str()) && !STATE_AUTHENTICATED.contains(&p.as_str()))
        .collect();
    assert_eq!(doc, table, "the role table must name exactly the routes the OpenAPI document lists");
    for (m, p, _) in MATRIX {
        let path = concrete(p);
        let r = app.call(None, method(m), &path, Some(json!({}))).await;
        r.expect_error(401, "unauthorized", None);
        for header in ["Bearer sw_not-a-real-token", "Basic YWRtaW46YWRtaW4=", "Bearer "] {
            app.with_authorization(method(m), &path, header).await.expect_error(401, "unauthorized", None);
        }
    }
    for p in OPEN {
        assert!(app.call(None, Method::GET, p, None).await.status.is_success(), "{p} is open");
    }
    for p in STATE_AUTHENTICATED {
        let forged = format!("{}?code=c&state=forged", concrete(p));
        app.call(None, Method::GET, &forged, None).await.expect_error(400, "invalid", Some("state"));
    }
}

async fn every_route_refuses_roles_it_does_not_allow(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    for (m, p, allowed) in MATRIX {
        let path = concrete(p);
        for role in Role::ALL {
            // A body that would fail validation: the role check must come first.
            let r = app.call(Some(*role), method(m), &path, Some(json!({"not_a_field": true}))).await;
            if allowed.contains(role) {
                assert!(![401, 403].contains(&r.status.as_u16()), "{role} may {m} {p}, got {}: {}", r.status, r.text);
            } else {
                assert_eq!(r.status, 403, "{role} must be refused {m} {p}: {}", r.text);
                assert_eq!(r.body["error"]["code"], "forbidden");
            }
        }
    }
    // Finance may import subscriptions, though not other kinds.
    let r = app.send_raw(Finance, Method::POST, "/api/v1/import/subscriptions", "text/csv", "plan\n".into()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.send_raw(Finance, Method::POST, "/api/v1/import/people", "text/csv", "email\n".into()).await;
    r.expect_error(403, "forbidden", None);
}

async fn an_employee_reads_only_their_own_person_and_accounts(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let me =
        app.post("/api/v1/people", json!({"email": EMPLOYEE_EMAIL.to_uppercase(), "name": "Erin"})).await.expect(201);
    let other = app.post("/api/v1/people", json!({"email": "frank@example.com", "name": "Frank"})).await.expect(201);
    let app_id = app.app("Slack").await;
    let mine = app.post("/api/v1/accounts", json!({"app_id": app_id, "email": EMPLOYEE_EMAIL})).await.expect(201);
    let theirs =
        app.post("/api/v1/accounts", json!({"app_id": app_id, "email": "frank@example.com"})).await.expect(201);
    let emp = Some(Employee);

    let people = app.call(emp, Method::GET, "/api/v1/people", None).await.expect(200);
    assert_eq!(people["items"].as_array().unwrap().len(), 1);
    assert_eq!(people["items"][0]["id"], me["id"]);
    let path = |p: &str, v: &serde_json::Value| format!("{p}/{}", v["id"].as_str().unwrap());
    app.call(emp, Method::GET, &path("/api/v1/people", &me), None).await.expect(200);
    app.call(emp, Method::GET, &path("/api/v1/people", &other), None).await.expect_error(403, "forbidden", None);
    app.call(emp, Method::GET, "/api/v1/people?email=frank@example.com", None).await.expect_error(
        403,
        "forbidden",
        None,
    );

    let accounts = app.call(emp, Method::GET, "/api/v1/accounts", None).await.expect(200);
    let ids: Vec<_> = accounts["items"].as_array().unwrap().iter().map(|a| a["id"].clone()).collect();
    assert_eq!(ids, vec![mine["id"].clone()]);
    app.call(emp, Method::GET, &path("/api/v1/accounts", &mine), None).await.expect(200);
    app.call(emp, Method::GET, &path("/api/v1/accounts", &theirs), None).await.expect_error(403, "forbidden", None);
    // Another role reads everyone.
    let all = app.call(Some(Approver), Method::GET, "/api/v1/accounts", None).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
}

async fn tokens_are_shown_once_stored_hashed_and_revocable(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    app.post("/api/v1/tokens", json!({"name": "emp", "role": "employee"})).await.expect_error(
        400,
        "invalid",
        Some("email"),
    );
    app.post("/api/v1/tokens", json!({"name": "x", "role": "root"})).await.expect_error(400, "invalid", Some("role"));
    let created = app.post("/api/v1/tokens", json!({"name": "ci-import", "role": "it"})).await.expect(201);
    let secret = created["secret"].as_str().expect("secret shown at creation").to_string();
    let id = created["id"].as_str().unwrap().to_string();
    let me = app.with_authorization(Method::GET, "/api/v1/me", &format!("Bearer {secret}")).await.expect(200);
    assert_eq!(me["role"], "it");
    assert_eq!(me["name"], "ci-import");

    let listed = app.get("/api/v1/tokens").await;
    assert!(!listed.text.contains(&secret), "the secret is never listed");
    assert!(!listed.text.contains("hash"));
    let audit = app.get("/api/v1/audit-log?entity=token").await;
    assert!(!audit.text.contains(&secret), "the secret is never in the audit log");
    {
        use diesel::prelude::*;
        use stackward::db::schema::api_tokens;
        let mut conn = app.db.db.get().unwrap();
        let stored: Vec<String> = api_tokens::table.select(api_tokens::token_hash).load(&mut *conn).unwrap();
        assert!(!stored.iter().any(|h| h.contains(&secret[3..])), "only a hash is stored");
        assert!(stored.iter().all(|h| h.len() == 64));
    }

    let revoked = app.call(Some(Admin), Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await.expect(200);
    assert!(revoked["revoked_at"].is_string());
    let r = app.with_authorization(Method::GET, "/api/v1/me", &format!("Bearer {secret}")).await;
    r.expect_error(401, "unauthorized", None);
    app.call(Some(Admin), Method::DELETE, "/api/v1/tokens/424242", None).await.expect_error(404, "not_found", None);
}
