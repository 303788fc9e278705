//! Approval workflows through the API: each default policy path from request to inventory,
//! with the history, audit log and outbox it leaves; advice; changes and resubmission; the
//! outcomes of seat, renewal and reclaim requests.

use crate::per_backend;
use crate::support::{Reply, Test, TestApp, TestBackend, EMPLOYEE_EMAIL};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use stackward::auth::Role;
use stackward::db::schema::outbox;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_cheap_internal_tool_goes_to_the_manager_then_it_and_is_created),
        per_backend!(a_costly_confidential_tool_passes_manager_security_finance_and_it),
        per_backend!(an_unknown_vendor_needs_security),
        per_backend!(a_rejection_at_finance_ends_the_request_and_changes_nothing),
        per_backend!(changes_asked_then_resubmitted_restart_the_steps),
        per_backend!(advice_names_same_category_apps_with_unused_seats_and_owner),
        per_backend!(seat_renewal_and_reclaim_requests_change_the_inventory),
        per_backend!(an_approved_new_tool_waits_for_it_to_provision_it_with_the_real_contract),
    ]
}

pub const MANAGER: &str = "mia@example.com";
pub const SECURITY: &str = "sam@example.com";
pub const FINANCE: &str = "fay@example.com";
pub const IT: &str = "ian@example.com";
pub const OTHER: &str = "olga@example.com";

/// The app with an organisation: the employee reports to a manager; security, finance and it
/// each have a personal token; another employee looks on.
pub struct Org {
    pub app: TestApp,
    pub erin: String,
    pub mia: String,
    pub sam: String,
    pub fay: String,
    pub ian: String,
    pub olga: String,
}

impl Org {
    pub async fn new(backend: TestBackend) -> Self {
        Self::with(TestApp::new(backend).await).await
    }

    pub async fn with(app: TestApp) -> Self {
        app.post("/api/v1/people", json!({"email": EMPLOYEE_EMAIL, "name": "Erin", "manager_email": MANAGER}))
            .await
            .expect(201);
        app.post("/api/v1/people", json!({"email": MANAGER, "name": "Mia"})).await.expect(201);
        let erin = app.token(Role::Employee).to_string();
        let mia = app.token_for(Role::Employee, MANAGER);
        let sam = app.token_for(Role::Security, SECURITY);
        let fay = app.token_for(Role::Finance, FINANCE);
        let ian = app.token_for(Role::It, IT);
        let olga = app.token_for(Role::Employee, OTHER);
        Org { app, erin, mia, sam, fay, ian, olga }
    }

    pub async fn submit(&self, secret: &str, body: Value) -> Value {
        self.app.call_as(secret, Method::POST, "/api/v1/requests", Some(body)).await.expect(201)
    }

    pub async fn decide(&self, secret: &str, id: &str, decision: &str, comment: &str) -> Reply {
        let body = json!({"decision": decision, "comment": comment});
        self.app.call_as(secret, Method::POST, &format!("/api/v1/requests/{id}/decisions"), Some(body)).await
    }

    pub async fn show(&self, secret: &str, id: &str) -> Reply {
        self.app.call_as(secret, Method::GET, &format!("/api/v1/requests/{id}"), None).await
    }
}

/// A new tool request body.
pub fn tool(name: &str, website: &str, cost: i64, data_class: &str) -> Value {
    json!({"kind": "new_tool", "name": name, "vendor": format!("{name} Inc"), "website": website,
        "purpose": "run our workshops", "seats": 10, "annual_cost_cents": cost, "currency": "USD",
        "data_class": data_class})
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// (name, status) of each step.
pub fn steps(v: &Value) -> Vec<(String, String)> {
    v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s["status"].as_str().unwrap().to_string()))
        .collect()
}

pub fn step<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["steps"].as_array().unwrap().iter().find(|s| s["name"] == name).expect("step")
}

pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// (event, step) of each history entry.
pub fn events(v: &Value) -> Vec<(String, String)> {
    v["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| (e["event"].as_str().unwrap().to_string(), e["step"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// (key, recipients) of every outbox row about request `id`.
pub fn mail_for(app: &TestApp, id: &str) -> Vec<(String, String)> {
    let mut conn = app.db.db.get().unwrap();
    let prefix = format!("request:{id}:%");
    outbox::table
        .filter(outbox::dedupe_key.like(prefix))
        .order(outbox::id.asc())
        .select((outbox::dedupe_key, outbox::recipients))
        .load(&mut *conn)
        .unwrap()
}

/// The audit actions recorded for request `id`.
pub async fn audit_actions(app: &TestApp, id: &str) -> Vec<String> {
    let log = app.get(&format!("/api/v1/audit-log?entity=request&entity_id={id}")).await.expect(200);
    log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

async fn a_cheap_internal_tool_goes_to_the_manager_then_it_and_is_created(backend: TestBackend) {
    let org = Org::new(backend).await;
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 120_000, "internal")).await;
    let rid = id(&r);
    assert_eq!(r["status"], "pending");
    assert_eq!(r["requester_email"], EMPLOYEE_EMAIL);
    assert_eq!(
        steps(&r),
        pairs(&[("manager", "pending"), ("security", "skipped"), ("finance", "skipped"), ("it", "waiting")])
    );
    assert_eq!(step(&r, "manager")["approvers"], json!([format!("person:{MANAGER}")]));
    assert_eq!(step(&r, "it")["approvers"], json!(["role:it"]));
    let why = step(&r, "finance")["note"].as_str().unwrap();
    assert!(why.contains("request.annual_cost_cents > 500000") && why.ends_with("was false"), "{why}");
    assert_eq!(r["advice"]["category"], "whiteboard");
    assert_eq!(r["category"], "whiteboard");
    assert_eq!(r["known_vendor"], true);

    let r = org.decide(&org.mia, &rid, "approve", "fine by me").await.expect(200);
    assert_eq!(steps(&r)[3], ("it".to_string(), "pending".to_string()));
    let r = org.decide(&org.ian, &rid, "approve", "provisioned").await.expect(200);
    assert_eq!(r["status"], "approved", "it still buys and sets the tool up");
    let done = format!("/api/v1/requests/{rid}/complete");
    org.app.call_as(&org.ian, Method::POST, &done, Some(json!({"comment": "bought"}))).await.expect(200);
    let r = org.show(&org.erin, &rid).await.expect(200);
    assert_eq!(r["status"], "done");
    let app_id = r["app_id"].as_str().expect("the app is linked").to_string();

    let created = org.app.get(&format!("/api/v1/apps/{app_id}")).await.expect(200);
    assert_eq!((created["name"].as_str(), created["status"].as_str()), (Some("Miro"), Some("approved")));
    assert_eq!(created["category"], "whiteboard");
    assert_eq!(created["owner_email"], EMPLOYEE_EMAIL);
    let subs = org.app.get(&format!("/api/v1/subscriptions?app_id={app_id}")).await.expect(200);
    let sub = &subs["items"][0];
    assert_eq!((sub["seats_purchased"].as_i64(), sub["unit_price_cents"].as_i64()), (Some(10), Some(12_000)));
    assert_eq!((sub["currency"].as_str(), sub["billing_frequency"].as_str()), (Some("USD"), Some("annual")));
    assert_eq!(r["subscription_id"], sub["id"]);

    let shown = org.show(&org.erin, &rid).await.expect(200);
    assert_eq!(
        events(&shown),
        pairs(&[
            ("submitted", ""),
            ("pending", "manager"),
            ("skipped", "security"),
            ("skipped", "finance"),
            ("approved", "manager"),
            ("pending", "it"),
            ("approved", "it"),
            ("approved", ""),
            ("outcome", ""),
            ("done", ""),
        ])
    );
    assert_eq!(shown["history"][4]["comment"], "fine by me");
    assert_eq!(shown["history"][4]["actor"], format!("token:employee-{MANAGER}"));
    assert_eq!(
        audit_actions(&org.app, &rid).await,
        ["request.create", "request.decide", "request.approve", "request.decide", "request.complete"]
    );
    let app_audit = org.app.get(&format!("/api/v1/audit-log?entity=app&entity_id={app_id}")).await.expect(200);
    assert_eq!(app_audit["items"][0]["action"], "app.create");
    assert_eq!(app_audit["items"][0]["actor"], format!("token:it-{IT}"));

    let mail = mail_for(&org.app, &rid);
    let want = [
        (format!("request:{rid}:round:1:step:manager:pending"), MANAGER.to_string()),
        (format!("request:{rid}:round:1:manager:approved"), EMPLOYEE_EMAIL.to_string()),
        (format!("request:{rid}:round:1:step:it:pending"), IT.to_string()),
        (format!("request:{rid}:round:1:it:approved"), EMPLOYEE_EMAIL.to_string()),
        (format!("request:{rid}:provision_task"), IT.to_string()),
        (format!("request:{rid}:round:1:request:approved"), EMPLOYEE_EMAIL.to_string()),
        (format!("request:{rid}:round:1:request:done"), EMPLOYEE_EMAIL.to_string()),
    ];
    assert_eq!(mail, want);
}

async fn a_costly_confidential_tool_passes_manager_security_finance_and_it(backend: TestBackend) {
    let org = Org::new(backend).await;
    let r = org.submit(&org.erin, tool("Notion", "https://www.notion.so", 900_000, "confidential")).await;
    let rid = id(&r);
    assert_eq!(
        steps(&r),
        pairs(&[("manager", "pending"), ("security", "waiting"), ("finance", "waiting"), ("it", "waiting")])
    );
    for (who, name) in [(&org.mia, "manager"), (&org.sam, "security"), (&org.fay, "finance")] {
        let r = org.decide(who, &rid, "approve", "ok").await.expect(200);
        assert_eq!(step(&r, name)["status"], "approved");
        assert_eq!(r["status"], "pending");
    }
    let r = org.decide(&org.ian, &rid, "approve", "set up").await.expect(200);
    assert_eq!(r["status"], "approved");
    assert!(steps(&r).iter().all(|(_, s)| s == "approved"));
    let subs = org.app.get(&format!("/api/v1/subscriptions?app_id={}", r["app_id"].as_str().unwrap())).await;
    assert_eq!(subs.expect(200)["items"][0]["unit_price_cents"], 90_000);
    let mail: Vec<(String, String)> =
        mail_for(&org.app, &rid).into_iter().filter(|(k, _)| k.ends_with(":pending")).collect();
    let to: Vec<&str> = mail.iter().map(|(_, to)| to.as_str()).collect();
    assert_eq!(to, [MANAGER, SECURITY, FINANCE, IT]);
}

async fn an_unknown_vendor_needs_security(backend: TestBackend) {
    let org = Org::new(backend).await;
    let r = org.submit(&org.erin, tool("Zorblax Boards", "https://zorblax.example", 50_000, "public")).await;
    assert_eq!(r["known_vendor"], false);
    assert_eq!(r["category"], "");
    assert_eq!(
        steps(&r),
        pairs(&[("manager", "pending"), ("security", "waiting"), ("finance", "skipped"), ("it", "waiting")])
    );
    let rid = id(&r);
    org.decide(&org.mia, &rid, "approve", "ok").await.expect(200);
    // Security is next: it may not jump the queue.
    org.decide(&org.ian, &rid, "approve", "ok").await.expect_error(403, "forbidden", None);
    let r = org.decide(&org.sam, &rid, "approve", "vendor reviewed").await.expect(200);
    assert_eq!(step(&r, "it")["status"], "pending");
}

async fn a_rejection_at_finance_ends_the_request_and_changes_nothing(backend: TestBackend) {
    let org = Org::new(backend).await;
    let r = org.submit(&org.erin, tool("Figma", "https://figma.com", 800_000, "internal")).await;
    let rid = id(&r);
    org.decide(&org.mia, &rid, "approve", "ok").await.expect(200);
    org.decide(&org.fay, &rid, "reject", "").await.expect_error(400, "invalid", Some("comment"));
    let r = org.decide(&org.fay, &rid, "reject", "over budget this quarter").await.expect(200);
    assert_eq!(r["status"], "rejected");
    assert_eq!(
        steps(&r),
        pairs(&[("manager", "approved"), ("security", "skipped"), ("finance", "rejected"), ("it", "waiting")])
    );
    assert!(r["closed_at"].is_string());
    let apps = org.app.get("/api/v1/apps").await.expect(200);
    assert_eq!(apps["items"], json!([]), "nothing was created");
    assert_eq!(r["app_id"], Value::Null);
    // The request is closed: no step takes a decision now.
    org.decide(&org.ian, &rid, "approve", "ok").await.expect_error(409, "conflict", None);
    org.decide(&org.fay, &rid, "approve", "changed my mind").await.expect_error(409, "conflict", None);
    let cancel = org.app.call_as(&org.erin, Method::POST, &format!("/api/v1/requests/{rid}/cancel"), None).await;
    cancel.expect_error(409, "conflict", None);
    let mail = mail_for(&org.app, &rid);
    assert!(mail.contains(&(format!("request:{rid}:round:1:finance:rejected"), EMPLOYEE_EMAIL.to_string())));
    assert!(!mail.iter().any(|(k, _)| k.contains("step:it")), "it was never asked: {mail:?}");
    assert_eq!(audit_actions(&org.app, &rid).await, ["request.create", "request.decide", "request.decide"]);
}

async fn changes_asked_then_resubmitted_restart_the_steps(backend: TestBackend) {
    let org = Org::new(backend).await;
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 120_000, "internal")).await;
    let rid = id(&r);
    org.decide(&org.mia, &rid, "request_changes", "").await.expect_error(400, "invalid", Some("comment"));
    let r = org.decide(&org.mia, &rid, "request_changes", "only 5 seats please").await.expect(200);
    assert_eq!(r["status"], "changes_requested");
    assert_eq!(step(&r, "manager")["status"], "changes_requested");
    org.decide(&org.mia, &rid, "approve", "ok").await.expect_error(409, "conflict", None);

    let path = format!("/api/v1/requests/{rid}");
    let change = json!({"seats": 5, "annual_cost_cents": 600_000});
    org.app.call_as(&org.olga, Method::PATCH, &path, Some(change.clone())).await.expect_error(403, "forbidden", None);
    org.app.call_as(&org.erin, Method::PATCH, &path, Some(json!({"seats": 0}))).await.expect_error(
        400,
        "invalid",
        Some("seats"),
    );
    org.app.call_as(&org.erin, Method::PATCH, &path, Some(json!({"kind": "add_seats"}))).await.expect_error(
        400,
        "invalid",
        Some("kind"),
    );
    let r = org.app.call_as(&org.erin, Method::PATCH, &path, Some(change.clone())).await.expect(200);
    assert_eq!((r["status"].as_str(), r["round"].as_i64(), r["seats"].as_i64()), (Some("pending"), Some(2), Some(5)));
    // Re-routed from the first step; the dearer request now needs finance too.
    assert_eq!(
        steps(&r),
        pairs(&[("manager", "pending"), ("security", "skipped"), ("finance", "waiting"), ("it", "waiting")])
    );
    org.app.call_as(&org.erin, Method::PATCH, &path, Some(change)).await.expect_error(409, "conflict", None);
    let ev = events(&r);
    let at = ev.iter().position(|e| e.0 == "changes_requested").expect("changes_requested in history");
    assert_eq!(ev[at + 1], ("resubmitted".to_string(), String::new()));
    assert_eq!(ev[at + 2], ("pending".to_string(), "manager".to_string()));
    let mail = mail_for(&org.app, &rid);
    assert!(mail.contains(&(format!("request:{rid}:round:1:manager:changes_requested"), EMPLOYEE_EMAIL.into())));
    assert!(mail.contains(&(format!("request:{rid}:round:2:step:manager:pending"), MANAGER.into())));
    assert!(audit_actions(&org.app, &rid).await.contains(&"request.resubmit".to_string()));

    let r = org.decide(&org.mia, &rid, "approve", "better").await.expect(200);
    assert_eq!(step(&r, "finance")["status"], "pending");
}

async fn advice_names_same_category_apps_with_unused_seats_and_owner(backend: TestBackend) {
    let org = Org::new(backend).await;
    let app = &org.app;
    let mural =
        app.post("/api/v1/apps", json!({"name": "Mural", "category": "Whiteboard", "owner_email": OTHER})).await;
    let mural = id(&mural.expect(201));
    let sub = app.subscription(&mural, 40, 1000).await;
    for i in 0..6 {
        let body = json!({"app_id": mural, "subscription_id": sub, "email": format!("u{i}@example.com")});
        app.post("/api/v1/accounts", body).await.expect(201);
    }
    // An app with no category of its own is placed by the catalog (Lucid is a whiteboard there).
    app.post("/api/v1/apps", json!({"name": "Lucid"})).await.expect(201);
    app.post("/api/v1/apps", json!({"name": "Zoom", "category": "video conferencing"})).await.expect(201);

    let body = tool("Miro", "https://miro.com", 120_000, "internal");
    let advice = app.call_as(&org.erin, Method::POST, "/api/v1/requests/advice", Some(body.clone())).await.expect(200);
    assert_eq!(advice["catalog_match"], "Miro");
    let names: Vec<&str> = advice["apps"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Mural", "Lucid"]);
    let m = &advice["apps"][0];
    assert_eq!((m["seats_purchased"].as_i64(), m["active_seats"].as_i64()), (Some(40), Some(6)));
    assert_eq!(m["unused_seats"], 34);
    assert_eq!(m["message"], format!("You already have Mural: 34 unused seats, owner {OTHER}"));
    assert_eq!(advice["apps"][1]["unused_seats"], Value::Null);
    // Switching is one request away: the add_seats body is ready.
    let switch = m["switch_to"].clone();
    assert_eq!(switch["app_id"], mural);
    let seats = org.submit(&org.erin, switch).await;
    assert_eq!((seats["kind"].as_str(), seats["seats"].as_i64()), (Some("add_seats"), Some(10)));
    app.call_as(&org.erin, Method::POST, &format!("/api/v1/requests/{}/cancel", id(&seats)), None).await.expect(200);
    let listed = app.call_as(&org.erin, Method::GET, "/api/v1/requests?kind=new_tool", None).await.expect(200);
    assert_eq!(listed["items"], json!([]), "advice makes no request");

    let mut body = body;
    body["advice_response"] = json!("Mural lacks the templates our workshops use");
    let r = org.submit(&org.erin, body).await;
    assert_eq!(r["advice"]["apps"][0]["unused_seats"], 34);
    assert_eq!(r["advice_response"], "Mural lacks the templates our workshops use");
    let shown = org.show(&org.mia, &id(&r)).await.expect(200);
    assert_eq!(shown["advice"], r["advice"], "the advice is stored for the approvers");
}

async fn seat_renewal_and_reclaim_requests_change_the_inventory(backend: TestBackend) {
    let org = Org::new(backend).await;
    let app = &org.app;
    let slack = app.post("/api/v1/apps", json!({"name": "Slack", "owner_email": OTHER})).await.expect(201);
    let slack = id(&slack);
    let sub = app.subscription(&slack, 20, 800).await;

    let r = org.submit(&org.erin, json!({"kind": "add_seats", "app_id": slack, "seats": 5})).await;
    assert_eq!((r["subscription_id"].as_str(), r["category"].as_str()), (Some(sub.as_str()), Some("chat")));
    assert_eq!(r["annual_cost_cents"], 4000, "5 seats at 8.00 a year");
    let no_seats = json!({"kind": "add_seats", "app_id": slack});
    let r2 = app.call_as(&org.erin, Method::POST, "/api/v1/requests", Some(no_seats)).await;
    r2.expect_error(400, "invalid", Some("seats"));
    let bad = app.call_as(&org.erin, Method::POST, "/api/v1/requests", Some(json!({"kind": "add_seats", "seats": 1})));
    bad.await.expect_error(400, "invalid", Some("app_id"));
    let rid = id(&r);
    org.decide(&org.mia, &rid, "approve", "ok").await.expect(200);
    assert_eq!(org.decide(&org.ian, &rid, "approve", "ok").await.expect(200)["status"], "done");
    let s = app.get(&format!("/api/v1/subscriptions/{sub}")).await.expect(200);
    assert_eq!(s["seats_purchased"], 25);

    let r = org.submit(&org.erin, json!({"kind": "renewal", "subscription_id": sub})).await;
    assert_eq!(r["needed_by"], "2026-12-31", "decide by the notice deadline");
    assert_eq!((r["seats"].as_i64(), r["annual_cost_cents"].as_i64()), (Some(25), Some(20_000)));
    let rid = id(&r);
    org.decide(&org.mia, &rid, "approve", "ok").await.expect(200);
    assert_eq!(org.decide(&org.ian, &rid, "approve", "ok").await.expect(200)["status"], "done");
    assert_eq!(app.get(&format!("/api/v1/subscriptions/{sub}")).await.expect(200)["no_action_needed"], true);
    let r = org.submit(&org.erin, json!({"kind": "renewal", "subscription_id": sub})).await;
    let r = org.decide(&org.mia, &id(&r), "reject", "we move to Teams").await.expect(200);
    assert_eq!(r["outcome"]["action"], "renewal_rejected");
    let s = app.get(&format!("/api/v1/subscriptions/{sub}")).await.expect(200);
    assert_eq!((s["renewal_type"].as_str(), s["no_action_needed"].as_bool()), (Some("none"), Some(false)));

    // A reclaim from a finding: unassigned seats of the Slack subscription.
    app.post("/api/v1/accounts", json!({"app_id": slack, "subscription_id": sub, "email": "u1@example.com"}))
        .await
        .expect(201);
    let acct = app.post("/api/v1/accounts", json!({"app_id": slack, "email": "gone@example.com"})).await.expect(201);
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    let findings = app.get(&format!("/api/v1/findings?app_id={slack}")).await.expect(200);
    let finding = id(&findings["items"][0]);
    let body = json!({"kind": "reclaim", "finding_id": finding, "account_ids": [id(&acct)]});
    let r = org.submit(&org.ian, body).await;
    let rid = id(&r);
    assert_eq!(r["seats"], 1);
    // ian asked, so the it step goes to the other it token (the test's) and not to him.
    org.decide(&org.ian, &rid, "approve", "ok").await.expect_error(403, "forbidden", None);
    assert!(step(&r, "manager")["note"].as_str().unwrap().contains("no manager on record"));
    let r = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/requests/{rid}/decisions"),
            Some(json!({"decision": "approve"})),
        )
        .await
        .expect(200);
    assert_eq!(step(&r, "manager")["approvers"], json!(["role:admin"]), "the fallback decides");
    let r = app
        .call(
            Some(Role::It),
            Method::POST,
            &format!("/api/v1/requests/{rid}/decisions"),
            Some(json!({"decision": "approve"})),
        )
        .await
        .expect(200);
    assert_eq!(r["status"], "approved", "it waits for the seats to be removed");
    let task = mail_for(app, &rid).into_iter().find(|(k, _)| k.ends_with(":reclaim_task")).expect("task mail");
    assert_eq!(task.1, OTHER);
    // The owner reads the request the task points to.
    org.show(&org.olga, &rid).await.expect(200);
    let done = format!("/api/v1/requests/{rid}/complete");
    app.call_as(&org.erin, Method::POST, &done, None).await.expect_error(403, "forbidden", None);
    let figures = Some(json!({"notice_days": 30}));
    app.call_as(&org.olga, Method::POST, &done, figures).await.expect_error(400, "invalid", Some("notice_days"));
    let r = app.call_as(&org.olga, Method::POST, &done, Some(json!({"comment": "removed"}))).await.expect(200);
    assert_eq!(r["status"], "done");
    app.call_as(&org.olga, Method::POST, &done, None).await.expect_error(409, "conflict", None);
}

/// The subscription an approved new tool request made.
async fn subscription_of(org: &Org, r: &Value) -> Value {
    let sub = r["subscription_id"].as_str().expect("a subscription was made");
    org.app.get(&format!("/api/v1/subscriptions/{sub}")).await.expect(200)
}

async fn an_approved_new_tool_waits_for_it_to_provision_it_with_the_real_contract(backend: TestBackend) {
    let app = TestApp::with_flags(backend, &["--default-notice-days", "45"]).await;
    let org = Org::with(app).await;
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 120_000, "internal")).await;
    let rid = id(&r);
    org.decide(&org.mia, &rid, "approve", "ok").await.expect(200);
    let r = org.decide(&org.ian, &rid, "approve", "ok").await.expect(200);
    assert_eq!((r["status"].as_str(), r["outcome"]["action"].as_str()), (Some("approved"), Some("app_created")));
    assert_eq!(r["outcome"]["provisioners"], json!(["role:it"]));
    let sub = subscription_of(&org, &r).await;
    assert_eq!(sub["notice_days"], 45, "the default notice period from settings, not zero");

    let task = mail_for(&org.app, &rid).into_iter().find(|(k, _)| k.ends_with(":provision_task")).expect("task");
    assert_eq!(task.1, IT);
    let mut conn = org.app.db.db.get().unwrap();
    let (subject, text): (String, String) = outbox::table
        .filter(outbox::dedupe_key.eq(&task.0))
        .select((outbox::subject, outbox::text_body))
        .first(&mut *conn)
        .unwrap();
    drop(conn);
    assert!(subject.contains("Miro") && subject.contains(&format!("#{rid}")), "{subject}");
    let page = format!("{}/requests/{rid}", org.app.ctx.settings.public_url());
    assert!(text.contains(&page) && text.contains("10 seats"), "{text}");

    let done = format!("/api/v1/requests/{rid}/complete");
    for who in [&org.erin, &org.mia, &org.fay] {
        org.app.call_as(who, Method::POST, &done, None).await.expect_error(403, "forbidden", None);
    }
    for (body, field) in [
        (json!({"notice_days": 5000}), "notice_days"),
        (json!({"unit_price_cents": -1}), "unit_price_cents"),
        (json!({"seats": 0}), "seats"),
        (json!({"currency": "dollars", "notice_days": 60}), "currency"),
        (json!({"term_start": "2027-02-01", "term_end": "2027-01-01", "notice_days": 60}), "term_end"),
    ] {
        org.app.call_as(&org.ian, Method::POST, &done, Some(body)).await.expect_error(400, "invalid", Some(field));
    }
    org.app.call_as(&org.ian, Method::POST, &done, Some(json!({"seatz": 3}))).await.expect_error(400, "invalid", None);
    assert_eq!(subscription_of(&org, &r).await, sub, "a refused completion writes nothing");
    assert_eq!(org.show(&org.erin, &rid).await.expect(200)["status"], "approved");

    let figures = json!({"unit_price_cents": 9_600, "currency": "eur", "notice_days": 60, "seats": 12,
        "term_start": "2027-01-01", "term_end": "2027-12-31", "comment": "signed"});
    let r = org.app.call_as(&org.ian, Method::POST, &done, Some(figures)).await.expect(200);
    assert_eq!(r["status"], "done");
    assert_eq!(r["outcome"]["provisioned"]["notice_days"], 60);
    let sub = subscription_of(&org, &r).await;
    let got = (&sub["unit_price_cents"], &sub["currency"], &sub["notice_days"], &sub["seats_purchased"]);
    assert_eq!(got, (&json!(9_600), &json!("EUR"), &json!(60), &json!(12)));
    assert_eq!((sub["term_start"].as_str(), sub["term_end"].as_str()), (Some("2027-01-01"), Some("2027-12-31")));
    org.app.call_as(&org.ian, Method::POST, &done, None).await.expect_error(409, "conflict", None);
    assert!(mail_for(&org.app, &rid).iter().any(|(k, to)| k.ends_with(":request:done") && to == EMPLOYEE_EMAIL));
}
