//! Sync safety against real loopback servers: a listing a proxy truncates never sweeps; a
//! connection moved to another host takes no stored secret with it; addresses are checked after
//! normalising and after resolving; vendor error bodies are not echoed; one bad record does not
//! stop a directory; tenant-wide grants are kept; licence pools are readable.

use crate::support::proxy::{Listener, Proxy, Rewrite};
use crate::support::{Test, TestApp, TestBackend};
use crate::sync::{accounts, connect, sync};
use crate::{once, per_backend};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use stackward::auth::Role;
use stackward::connectors::address::GuardedResolver;
use stackward::db::schema::app_grants;
use stackward::fakes::{FakeServer, Vendor, CLIENT_ID, CLIENT_SECRET, TOKEN};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_listing_a_proxy_truncates_fails_and_removes_nothing),
        once!(a_listing_short_of_a_declared_total_fails),
        per_backend!(moving_a_connection_needs_an_admin_and_its_secrets_again),
        once!(addresses_are_checked_after_normalising),
        once!(resolved_addresses_are_checked_at_connect_time),
        per_backend!(a_vendor_error_body_is_not_echoed_and_runs_are_for_admin_and_it),
        per_backend!(one_bad_graph_user_is_skipped_and_not_swept),
        once!(a_skipped_record_without_an_id_stops_the_sweep),
        per_backend!(tenant_wide_graph_grants_are_kept_and_rank_first),
        per_backend!(licence_pools_are_readable_and_unknown_stays_null),
    ]
}

/// How the proxy treats the SCIM listing.
const PASS: u8 = 0;
const TRUNCATE: u8 = 1;
const FAIL: u8 = 2;

fn scim_proxy(mode: Arc<AtomicU8>) -> Rewrite {
    Arc::new(move |path, status, mut body| match mode.load(Ordering::SeqCst) {
        // What the issue saw: 200 with no resources at startIndex=101, the total still 250.
        TRUNCATE if path.contains("startIndex=101") => {
            body["Resources"] = json!([]);
            (status, body)
        }
        FAIL if path.starts_with("/Users") => (
            500,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "500",
                "scimType": "internalFailure", "detail": "the directory is unavailable",
                "trace": format!("at db.query(SECRET-INTERNAL-HOST:5432) {}", "x".repeat(4000))}),
        ),
        _ => (status, body),
    })
}

async fn a_listing_a_proxy_truncates_fails_and_removes_nothing(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 250).await.unwrap();
    let mode = Arc::new(AtomicU8::new(PASS));
    let proxy = Proxy::start(&fake.base_url, scim_proxy(mode.clone())).await;
    let body = json!({"connector": "scim", "name": "figma", "base_url": proxy.base_url,
        "settings": {"app": "Figma"}, "secrets": {"token": TOKEN}});
    let id = app.post("/api/v1/connections", body).await.expect(201)["id"].as_str().unwrap().to_string();
    let first = sync(&app, &id).await;
    assert_eq!((first["status"].as_str(), first["seen"].as_i64()), (Some("succeeded"), Some(250)), "{first}");

    mode.store(TRUNCATE, Ordering::SeqCst);
    let run = sync(&app, &id).await;
    assert_eq!(run["status"], "failed", "an empty page before the stated end is an error: {run}");
    assert_eq!(run["removed"], 0, "{run}");
    assert!(run["api_calls"].as_i64() >= Some(2), "a failed run records the calls it made: {run}");
    let error = run["error"].as_str().unwrap_or_default();
    assert!(error.contains("250") && error.contains("100"), "the error says what was stated and seen: {error}");
    let seats = accounts(&app, &id).await;
    assert_eq!(seats.len(), 250);
    assert!(seats.values().all(|a| a["removed_at"].is_null()), "nothing was swept");

    mode.store(PASS, Ordering::SeqCst);
    let again = sync(&app, &id).await;
    assert_eq!((again["status"].as_str(), again["removed"].as_i64()), (Some("succeeded"), Some(0)), "{again}");
}

async fn a_listing_short_of_a_declared_total_fails() {
    let app = TestApp::new(TestBackend::Sqlite).await;
    let fake = FakeServer::start(Vendor::Salesforce, 450).await.unwrap();
    let truncate = Arc::new(AtomicU8::new(PASS));
    let flag = truncate.clone();
    // A middlebox that says "done" after the first page of a SOQL query: totalSize still says 450.
    let rewrite: Rewrite = Arc::new(move |_, status, mut body| {
        if flag.load(Ordering::SeqCst) == TRUNCATE && body.get("nextRecordsUrl").is_some_and(|n| !n.is_null()) {
            body["done"] = json!(true);
            body.as_object_mut().map(|o| o.remove("nextRecordsUrl"));
        }
        (status, body)
    });
    let proxy = Proxy::start(&fake.base_url, rewrite).await;
    let body = json!({"connector": "salesforce", "name": "sf", "base_url": proxy.base_url,
        "settings": {"my_domain": "acme", "client_id": CLIENT_ID, "batch_size": "200"},
        "secrets": {"client_secret": CLIENT_SECRET}});
    let id = app.post("/api/v1/connections", body).await.expect(201)["id"].as_str().unwrap().to_string();
    let first = sync(&app, &id).await;
    assert_eq!((first["status"].as_str(), first["removed"].as_i64()), (Some("succeeded"), Some(0)), "{first}");
    let before = accounts(&app, &id).await.len();
    assert!(before > 200, "more than one page: {before}");

    truncate.store(TRUNCATE, Ordering::SeqCst);
    let run = sync(&app, &id).await;
    assert_eq!(run["status"], "failed", "the definition's `total = \"/totalSize\"` was not reached: {run}");
    assert_eq!(run["removed"], 0, "{run}");
    let after = accounts(&app, &id).await;
    assert_eq!(after.len(), before);
    assert!(after.values().all(|a| a["removed_at"].is_null()), "nothing was swept");
}

async fn moving_a_connection_needs_an_admin_and_its_secrets_again(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 5).await.unwrap();
    let listener = Listener::start().await;
    let id = connect(&app, &fake, "notion", "Notion").await;
    let path = format!("/api/v1/connections/{id}");

    // An `it` token may not point the connection elsewhere, with or without a token of its own.
    let moved = json!({"base_url": listener.base_url});
    app.call(Some(Role::It), Method::PATCH, &path, Some(moved.clone())).await.expect_error(403, "forbidden", None);
    let with_secret = json!({"base_url": listener.base_url, "secrets": {"token": "its-own"}});
    app.call(Some(Role::It), Method::PATCH, &path, Some(with_secret)).await.expect_error(403, "forbidden", None);
    // An admin must give the secrets again in the same request.
    app.patch(&path, moved).await.expect_error(400, "invalid", Some("secrets"));
    // Changes that do not move the host need no secrets, from either role.
    let renamed = json!({"name": "notion-eu", "settings": {"app": "Notion"}});
    app.call(Some(Role::It), Method::PATCH, &path, Some(renamed)).await.expect(200);
    let same_host = json!({"base_url": format!("{}/", fake.base_url)});
    app.call(Some(Role::It), Method::PATCH, &path, Some(same_host)).await.expect(200);
    let run = sync(&app, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(listener.received(), Vec::<String>::new(), "no request reached the other host");

    // With the secrets given again, an admin moves it; the listener sees the new token only.
    let body = json!({"base_url": listener.base_url, "secrets": {"token": "token-for-the-new-host"}});
    let after = app.patch(&path, body).await.expect(200);
    assert_eq!(after["base_url"], listener.base_url.as_str());
    let run = sync(&app, &id).await;
    assert_eq!(run["status"], "failed", "the listener refuses it: {run}");
    let heads = listener.received();
    assert!(!heads.is_empty(), "the sync went to the new host");
    assert!(heads.iter().all(|h| h.contains("Bearer token-for-the-new-host") && !h.contains(TOKEN)), "{heads:?}");

    // A setting inside the vendor's URL moves the host too (Zendesk's subdomain).
    let zendesk = json!({"connector": "zendesk", "name": "zendesk", "settings": {"subdomain": "acme", "email": "a@x.com"},
        "secrets": {"api_token": "z"}});
    let z = app.post("/api/v1/connections", zendesk).await.expect(201)["id"].as_str().unwrap().to_string();
    let sub = json!({"settings": {"subdomain": "attacker"}});
    let zpath = format!("/api/v1/connections/{z}");
    app.call(Some(Role::It), Method::PATCH, &zpath, Some(sub.clone())).await.expect_error(403, "forbidden", None);
    app.patch(&zpath, sub).await.expect_error(400, "invalid", Some("secrets"));
}

async fn addresses_are_checked_after_normalising() {
    let app = TestApp::new(TestBackend::Sqlite).await;
    for url in ["http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/", "http://metadata.google.internal./"] {
        let body = json!({"connector": "scim", "name": "x", "base_url": url, "secrets": {"token": "t"}});
        app.post("/api/v1/connections", body).await.expect_error(400, "invalid", Some("base_url"));
    }
    let body = json!({"connector": "scim", "name": "loopback", "base_url": "http://127.0.0.1:9/scim",
        "secrets": {"token": "t"}});
    app.post("/api/v1/connections", body).await.expect(201);
}

async fn resolved_addresses_are_checked_at_connect_time() {
    let listener = Listener::start().await;
    let port: u16 = listener.base_url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    // DNS as an attacker would answer it: a vendor name on loopback, another on the metadata address.
    let lookup: stackward::connectors::address::Lookup = Arc::new(|name: String| {
        Box::pin(async move {
            let ip = match name.as_str() {
                "vendor.example" | "localhost" => "127.0.0.1",
                "moved.example" => "169.254.169.254",
                _ => "192.0.2.1",
            };
            Ok(vec![SocketAddr::new(ip.parse().expect("ip"), 0)])
        })
    });
    let client = stackward::connectors::http::client_with(GuardedResolver::with_lookup(lookup));
    for refused in [format!("http://vendor.example:{port}/refused"), "http://moved.example/refused".to_string()] {
        let e = client.get(&refused).send().await.expect_err("refused at connect time");
        assert!(e.is_connect() || e.is_request(), "{e:?}");
    }
    let allowed = client.get(format!("http://localhost:{port}/allowed")).send().await.expect("reaches loopback");
    assert_eq!(allowed.status(), 401);
    let heads = listener.received();
    assert_eq!(heads.len(), 1, "only the explicit loopback name connected: {heads:?}");
    assert!(heads[0].starts_with("GET /allowed "), "{heads:?}");
}

async fn a_vendor_error_body_is_not_echoed_and_runs_are_for_admin_and_it(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 3).await.unwrap();
    let mode = Arc::new(AtomicU8::new(FAIL));
    let proxy = Proxy::start(&fake.base_url, scim_proxy(mode)).await;
    let body = json!({"connector": "scim", "name": "figma", "base_url": proxy.base_url, "secrets": {"token": TOKEN}});
    let id = app.post("/api/v1/connections", body).await.expect(201)["id"].as_str().unwrap().to_string();
    let run = sync(&app, &id).await;
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["error"].as_str().unwrap_or_default();
    assert!(error.contains("500"), "the status is kept: {error}");
    assert!(error.contains("internalFailure: the directory is unavailable"), "the vendor's own fields: {error}");
    assert!(!error.contains("SECRET") && !error.contains("xxxx"), "the body is not echoed: {error}");
    assert!(error.chars().count() <= 400, "{error}");

    let run_id = run["id"].as_str().unwrap();
    for role in [Role::Admin, Role::It] {
        app.call(Some(role), Method::GET, &format!("/api/v1/sync-runs/{run_id}"), None).await.expect(200);
        app.call(Some(role), Method::GET, &format!("/api/v1/connections/{id}/runs"), None).await.expect(200);
    }
    for role in [Role::Finance, Role::Security, Role::Approver, Role::Auditor, Role::Employee] {
        let r = app.call(Some(role), Method::GET, &format!("/api/v1/sync-runs/{run_id}"), None).await;
        r.expect_error(403, "forbidden", None);
        let r = app.call(Some(role), Method::GET, &format!("/api/v1/connections/{id}/runs"), None).await;
        r.expect_error(403, "forbidden", None);
    }
}

/// Connects Microsoft 365 through a proxy in front of its fake.
async fn graph(app: &TestApp, proxy: &Proxy) -> String {
    let tenant = "5f0e8a3c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
    let body = json!({"connector": "microsoft_365", "name": "m365", "base_url": proxy.base_url,
        "settings": {"tenant_id": tenant, "client_id": CLIENT_ID}, "secrets": {"client_secret": CLIENT_SECRET}});
    app.post("/api/v1/connections", body).await.expect(201)["id"].as_str().unwrap().to_string()
}

async fn one_bad_graph_user_is_skipped_and_not_swept(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Microsoft365, 30).await.unwrap();
    let broken = Arc::new(AtomicU8::new(0));
    let flag = broken.clone();
    // User 4 loses both mail and userPrincipalName (a Graph record the mapping cannot read).
    let rewrite: Rewrite = Arc::new(move |path, status, mut body| {
        if flag.load(Ordering::SeqCst) == 1 && path.starts_with("/v1.0/users") {
            if let Some(users) = body["value"].as_array_mut() {
                for u in users.iter_mut().filter(|u| u["mail"] == "user4@example.com") {
                    u["mail"] = Value::Null;
                    u["userPrincipalName"] = Value::Null;
                }
            }
        }
        (status, body)
    });
    let proxy = Proxy::start(&fake.base_url, rewrite).await;
    let id = graph(&app, &proxy).await;
    let first = sync(&app, &id).await;
    assert_eq!((first["status"].as_str(), first["skipped"].as_i64()), (Some("succeeded"), Some(0)), "{first}");
    let seats = accounts(&app, &id).await;
    let user4 = seats.values().find(|a| a["email"] == "user4@example.com").expect("user4's seat").clone();
    let grants_before = app_grants::table.count().get_result::<i64>(&mut app.db.db.get().unwrap()).unwrap();

    broken.store(1, Ordering::SeqCst);
    let run = sync(&app, &id).await;
    assert_eq!(run["status"], "succeeded", "one bad record does not stop the directory: {run}");
    assert_eq!(run["skipped"], 1, "{run}");
    let skipped = &run["skipped_records"][0];
    assert_eq!(skipped["stream"], "users", "{run}");
    assert_eq!(skipped["field"], "email", "{run}");
    assert_eq!(skipped["page"], 1, "{run}");
    assert_eq!(skipped["external_id"], user4["external_id"], "{run}");
    let after = accounts(&app, &id).await;
    let seat = &after[user4["external_id"].as_str().unwrap()];
    assert!(
        seat["removed_at"].is_null() && seat["status"] == "active",
        "a skipped known record counts as seen: {seat}"
    );
    let person = app.get(&format!("/api/v1/people/{}", user4["person_id"].as_str().unwrap())).await.expect(200);
    assert_eq!(person["status"], "active", "{person}");
    let grants_after = app_grants::table
        .filter(app_grants::removed_at.is_null())
        .count()
        .get_result::<i64>(&mut app.db.db.get().unwrap())
        .unwrap();
    assert_eq!(grants_after, grants_before, "the streams after the bad record still ran");
}

async fn a_skipped_record_without_an_id_stops_the_sweep() {
    let app = TestApp::new(TestBackend::Sqlite).await;
    let fake = FakeServer::start(Vendor::Scim, 20).await.unwrap();
    let broken = Arc::new(AtomicU8::new(PASS));
    let flag = broken.clone();
    // The third resource loses its id: the run cannot tell whose seat it is.
    let rewrite: Rewrite = Arc::new(move |_, status, mut body| {
        if flag.load(Ordering::SeqCst) == FAIL {
            if let Some(r) = body["Resources"].as_array_mut().and_then(|r| r.get_mut(2)) {
                r.as_object_mut().map(|o| o.remove("id"));
            }
        }
        (status, body)
    });
    let proxy = Proxy::start(&fake.base_url, rewrite).await;
    let body = json!({"connector": "scim", "name": "figma", "base_url": proxy.base_url, "secrets": {"token": TOKEN}});
    let id = app.post("/api/v1/connections", body).await.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(sync(&app, &id).await["status"], "succeeded");
    fake.remove_user(9);
    broken.store(FAIL, Ordering::SeqCst);
    let run = sync(&app, &id).await;
    assert_eq!((run["status"].as_str(), run["skipped"].as_i64()), (Some("succeeded"), Some(1)), "{run}");
    assert_eq!(run["skipped_records"][0]["field"], "external_id", "{run}");
    assert!(run["skipped_records"][0]["external_id"].is_null(), "{run}");
    assert_eq!(run["removed"], 0, "an unidentified skipped record might be anyone: no sweep: {run}");
    assert!(accounts(&app, &id).await.values().all(|a| a["removed_at"].is_null()));
    broken.store(PASS, Ordering::SeqCst);
    assert_eq!(sync(&app, &id).await["removed"], 1, "the next clean run sweeps");
}

async fn tenant_wide_graph_grants_are_kept_and_rank_first(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Microsoft365, 12).await.unwrap();
    // Microsoft's own example of admin consent: consentType AllPrincipals, principalId null.
    let rewrite: Rewrite = Arc::new(|path, status, mut body| {
        if path.starts_with("/v1.0/oauth2PermissionGrants") {
            if let Some(grants) = body["value"].as_array_mut() {
                if let Some(first) = grants.first().cloned() {
                    grants.push(json!({"clientId": first["clientId"], "consentType": "AllPrincipals",
                        "id": "tenant-wide-grant", "principalId": null, "resourceId": first["resourceId"],
                        "scope": "Directory.ReadWrite.All User.Read"}));
                }
            }
        }
        (status, body)
    });
    let proxy = Proxy::start(&fake.base_url, rewrite).await;
    let id = graph(&app, &proxy).await;
    let run = sync(&app, &id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let rows: Vec<(String, bool, Option<String>)> = app_grants::table
        .filter(app_grants::organisation_wide.eq(true))
        .select((app_grants::user_key, app_grants::organisation_wide, app_grants::scopes))
        .load(&mut app.db.db.get().unwrap())
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].2.as_deref(), Some("Directory.ReadWrite.All User.Read"));
    let found = app.get("/api/v1/findings?kind=shadow_it&limit=500").await.expect(200);
    let items = found["items"].as_array().expect("items");
    assert!(!items.is_empty(), "{found}");
    assert_eq!(items[0]["evidence"]["organisation_wide"], true, "the tenant-wide grant ranks first: {found}");
    assert!(items[0]["explanation"].as_str().unwrap_or("").contains("everyone in the organisation"));
    let ranks: Vec<i64> = items.iter().map(|f| f["evidence"]["risk"]["rank"].as_i64().unwrap_or(-1)).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "ranked: {ranks:?}");
}

async fn licence_pools_are_readable_and_unknown_stays_null(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Microsoft365, 12).await.unwrap();
    // One SKU without prepaid units: its purchased count is unknown, not zero.
    let rewrite: Rewrite = Arc::new(|path, status, mut body| {
        if path.starts_with("/v1.0/subscribedSkus") {
            if let Some(first) = body["value"].as_array_mut().and_then(|v| v.first_mut()) {
                first.as_object_mut().map(|o| o.remove("prepaidUnits"));
            }
        }
        (status, body)
    });
    let proxy = Proxy::start(&fake.base_url, rewrite).await;
    let id = graph(&app, &proxy).await;
    assert_eq!(sync(&app, &id).await["status"], "succeeded");
    let apps = app.get("/api/v1/apps?q=Microsoft%20365").await.expect(200);
    let app_id = apps["items"][0]["id"].as_str().expect("the app").to_string();
    let pools = app.get(&format!("/api/v1/licence-pools?app_id={app_id}")).await.expect(200);
    let items = pools["items"].as_array().expect("items");
    assert!(items.len() >= 2, "{pools}");
    assert!(pools["next_cursor"].is_null());
    let unknown: Vec<&Value> = items.iter().filter(|p| p["purchased"].is_null()).collect();
    assert_eq!(unknown.len(), 1, "unknown stays null, never 0: {pools}");
    assert!(unknown[0]["available"].is_null());
    let known = items.iter().find(|p| p["purchased"].is_i64()).expect("a known pool");
    assert_eq!(
        known["available"].as_i64(),
        Some(known["purchased"].as_i64().unwrap() - known["consumed"].as_i64().unwrap())
    );
    let detail = app.get(&format!("/api/v1/apps/{app_id}")).await.expect(200);
    assert_eq!(detail["licence_pools"].as_array().map(Vec::len), Some(items.len()), "{detail}");
    assert_eq!(detail["name"], "Microsoft 365", "the app's own fields stay");
    app.call(Some(Role::Employee), Method::GET, "/api/v1/licence-pools", None).await.expect_error(
        403,
        "forbidden",
        None,
    );
    let none = app.get("/api/v1/licence-pools?app_id=999999").await.expect(200);
    assert_eq!(none["items"], json!([]));
}
