//! Tokens and roles: every route refuses a missing or bad token (401) and every role it does
//! not allow (403, before looking at the body); employees read only their own records.

use crate::per_backend;
use crate::support::{Test, TestApp, TestBackend, EMPLOYEE_EMAIL};
use reqwest::Method;
use serde_json::json;
use stackward::auth::Role::{self, *};
use std::collections::{BTreeMap, HashSet};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(every_route_refuses_missing_and_bad_tokens),
        per_backend!(the_readme_role_table_is_what_the_server_does),
        per_backend!(an_employee_reads_only_their_own_person_and_accounts),
        per_backend!(tokens_are_shown_once_stored_hashed_and_revocable),
        per_backend!(the_bearer_scheme_is_read_in_any_case),
        per_backend!(a_calendar_token_opens_only_the_calendar_feed),
    ]
}

/// The README, whose route × role table is the one source of who may call what.
const README: &str = include_str!("../README.md");

/// The role columns of the README's table, in order.
const COLUMNS: &[Role] = &[Admin, It, Finance, Security, Approver, Auditor, Employee];

/// One row of the README's role table.
struct Route {
    method: String,
    /// The full path, e.g. `/api/v1/apps/{id}` or `/api/v1/import/subscriptions`.
    path: String,
    allowed: Vec<Role>,
}

/// Parses the table between the README's `role-matrix` markers; a malformed row fails the test.
fn matrix() -> Vec<Route> {
    let begin = README.find("<!-- role-matrix:begin -->").expect("the README has a role-matrix table");
    let end = README.find("<!-- role-matrix:end -->").expect("the role-matrix table ends");
    let mut lines = README[begin..end].lines().skip(1).filter(|l| l.starts_with('|'));
    let header: Vec<&str> = lines.next().expect("header").split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
    let names: Vec<String> = COLUMNS.iter().map(|r| r.to_string()).collect();
    assert_eq!(header[1..], names.iter().map(String::as_str).collect::<Vec<_>>()[..], "the table's role columns");
    lines
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 1 + COLUMNS.len(), "row {line}");
            let route = cells[0].split('`').nth(1).unwrap_or_else(|| panic!("route in backticks: {line}"));
            let (method, path) = route.split_once(' ').unwrap_or_else(|| panic!("METHOD /path: {line}"));
            let allowed = COLUMNS
                .iter()
                .zip(&cells[1..])
                .filter_map(|(role, mark)| match *mark {
                    "✓" | "own" => Some(*role),
                    "·" => None,
                    other => panic!("unknown mark {other:?} in {line}"),
                })
                .collect();
            Route { method: method.to_string(), path: format!("/api/v1{path}"), allowed }
        })
        .collect()
}

/// Whether concrete or templated `path` is an instance of the OpenAPI `template`.
fn instance_of(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t == p || t.starts_with('{'))
}

/// Routes a single-use `state` authenticates instead of a token (the OAuth callback).
const STATE_AUTHENTICATED: &[&str] = &["/api/v1/connections/{id}/oauth/callback"];

const OPEN: &[&str] = &["/healthz", "/readyz", "/metrics"];

fn concrete(path: &str) -> String {
    path.replace("{id}", "999999").replace("{item_id}", "999999").replace("{kind}", "apps")
}

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).expect("method")
}

/// Every operation of the OpenAPI document: (method, path) and its description.
async fn documented(app: &TestApp) -> BTreeMap<(String, String), String> {
    let doc = app.call(None, Method::GET, "/api/v1/openapi.json", None).await.expect(200);
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (m, op) in item.as_object().unwrap() {
            let description = op["description"].as_str().unwrap_or_default().to_string();
            ops.insert((m.to_uppercase(), path.clone()), description);
        }
    }
    ops
}

/// The roles an operation's description names in its leading `Roles: …` sentence.
fn described_roles(description: &str) -> Option<HashSet<Role>> {
    let rest = description.split("Roles: ").nth(1)?;
    let list = rest.split(['.', ';', '(']).next().unwrap_or_default();
    let mut roles = HashSet::new();
    for name in list.split(',').map(str::trim) {
        if name.starts_with("any") {
            roles.extend(Role::ALL.iter().copied());
        } else if name != "none" {
            roles.insert(name.parse::<Role>().unwrap_or_else(|_| panic!("unknown role {name:?} in {description:?}")));
        }
    }
    Some(roles)
}

async fn every_route_refuses_missing_and_bad_tokens(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let table = matrix();
    for r in &table {
        let path = concrete(&r.path);
        let r = app.call(None, method(&r.method), &path, Some(json!({}))).await;
        r.expect_error(401, "unauthorized", None);
    }
    for r in &table {
        let path = concrete(&r.path);
        for header in ["Bearer sw_not-a-real-token", "Basic YWRtaW46YWRtaW4=", "Bearer "] {
            app.with_authorization(method(&r.method), &path, header).await.expect_error(401, "unauthorized", None);
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

async fn the_readme_role_table_is_what_the_server_does(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let table = matrix();
    let doc = documented(&app).await;
    // The table and the OpenAPI document name the same routes.
    for ((m, p), description) in &doc {
        if OPEN.contains(&p.as_str()) || STATE_AUTHENTICATED.contains(&p.as_str()) {
            continue;
        }
        let row = table.iter().find(|r| &r.method == m && &r.path == p);
        let row =
            row.unwrap_or_else(|| panic!("{m} {p} is in the OpenAPI document but not in the README's role table"));
        let want: HashSet<Role> = row.allowed.iter().copied().collect();
        let said = described_roles(description).unwrap_or_else(|| panic!("{m} {p} states no roles: {description:?}"));
        assert_eq!(said, want, "{m} {p}: the OpenAPI description's roles differ from the README's table");
    }
    for r in &table {
        let known = doc.keys().any(|(m, p)| m == &r.method && instance_of(p, &r.path));
        assert!(known, "{} {} is in the README's role table but the server has no such route", r.method, r.path);
    }
    // Each role on each route: allowed ones get past the role check, the others get 403.
    for r in &table {
        let path = concrete(&r.path);
        for role in Role::ALL {
            // A body that would fail validation: the role check must come first.
            let reply = app.call(Some(*role), method(&r.method), &path, Some(json!({"not_a_field": true}))).await;
            if r.allowed.contains(role) {
                let status = reply.status.as_u16();
                assert!(
                    ![401, 403].contains(&status),
                    "{role} may {} {}, got {status}: {}",
                    r.method,
                    r.path,
                    reply.text
                );
            } else {
                assert_eq!(reply.status, 403, "{role} must be refused {} {}: {}", r.method, r.path, reply.text);
                assert_eq!(reply.body["error"]["code"], "forbidden");
            }
        }
    }
    // CSV imports are judged by what they import: send a CSV body for every import row.
    for r in table.iter().filter(|r| r.path.starts_with("/api/v1/import/")) {
        let path = concrete(&r.path);
        for role in Role::ALL {
            let reply = app.send_raw(*role, Method::POST, &path, "text/csv", "name\n".into()).await;
            let refused = reply.status == 403;
            assert_eq!(refused, !r.allowed.contains(role), "{role} POST {path}: {} {}", reply.status, reply.text);
        }
    }
}

async fn the_bearer_scheme_is_read_in_any_case(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let token = app.token(Admin).to_string();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let me = app.with_authorization(Method::GET, "/api/v1/me", &format!("{scheme} {token}")).await.expect(200);
        assert_eq!(me["role"], "admin", "{scheme}");
    }
    app.with_authorization(Method::GET, "/api/v1/me", &format!("Bearertoken {token}")).await.expect_error(
        401,
        "unauthorized",
        None,
    );
}

async fn a_calendar_token_opens_only_the_calendar_feed(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let created =
        app.post("/api/v1/tokens", json!({"name": "cal", "role": "finance", "scope": "calendar"})).await.expect(201);
    let secret = created["secret"].as_str().unwrap().to_string();
    for path in ["/api/v1/me", "/api/v1/renewals", "/api/v1/apps"] {
        let r = app.with_authorization(Method::GET, path, &format!("Bearer {secret}")).await;
        let body = r.expect_error(403, "forbidden", None);
        assert_eq!(body["error"]["message"], "this token opens only the calendar feed", "{path}");
    }
    // The feed itself opens with it, by URL or as a bearer token.
    let r = app.call(None, Method::GET, &format!("/api/v1/renewals.ics?token={secret}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.with_authorization(Method::GET, "/api/v1/renewals.ics", &format!("Bearer {secret}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A revoked calendar token is unknown, not forbidden.
    let id = created["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/tokens/{id}")).await.expect(200);
    app.with_authorization(Method::GET, "/api/v1/me", &format!("Bearer {secret}")).await.expect_error(
        401,
        "unauthorized",
        None,
    );
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
    // A seat under another address that is matched to the person is theirs too, in id order.
    let zoom = app.app("Zoom").await;
    let alias =
        app.post("/api/v1/accounts", json!({"app_id": zoom, "email": "erin.alias@example.com"})).await.expect(201);
    {
        use diesel::prelude::*;
        use stackward::db::schema::accounts;
        let id = |v: &serde_json::Value| v["id"].as_str().unwrap().parse::<i64>().unwrap();
        let mut conn = app.db.db.get().unwrap();
        diesel::update(accounts::table.find(id(&alias)))
            .set(accounts::person_id.eq(Some(id(&me))))
            .execute(&mut *conn)
            .unwrap();
    }
    let accounts = app.call(emp, Method::GET, "/api/v1/accounts?limit=1", None).await.expect(200);
    assert_eq!(accounts["items"][0]["id"], mine["id"]);
    let next = accounts["next_cursor"].as_str().expect("a second page").to_string();
    let page2 = app.call(emp, Method::GET, &format!("/api/v1/accounts?limit=1&cursor={next}"), None).await.expect(200);
    let ids: Vec<_> = page2["items"].as_array().unwrap().iter().map(|a| a["id"].clone()).collect();
    assert_eq!(ids, vec![alias["id"].clone()]);
    app.call(emp, Method::GET, &path("/api/v1/accounts", &mine), None).await.expect(200);
    app.call(emp, Method::GET, &path("/api/v1/accounts", &theirs), None).await.expect_error(403, "forbidden", None);
    // Another role reads everyone.
    let all = app.call(Some(Approver), Method::GET, "/api/v1/accounts", None).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
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
