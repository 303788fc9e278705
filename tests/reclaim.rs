//! Reclaiming seats through a connector: an approved reclaim of synced seats runs the
//! connector's `reclaim` action at the vendor, marks the seats removed and closes the request;
//! when the vendor refuses, the app owner gets the task instead.

use crate::per_backend;
use crate::support::{Test, TestApp, TestBackend};
use crate::sync::{accounts, connect, sync};
use reqwest::Method;
use serde_json::{json, Value};
use stackward::auth::Role;
use stackward::fakes::{FakeServer, Vendor};
use std::time::{Duration, Instant};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(an_approved_reclaim_deactivates_the_seat_at_the_vendor),
        per_backend!(a_reclaim_the_vendor_refuses_becomes_a_task_for_the_owner),
    ]
}

fn guid(index: usize) -> String {
    format!("00000000-0000-4000-8000-{index:012x}")
}

/// Syncs 30 SCIM seats into "Figma" with user3 departed; returns (connection, account id of user3, finding id).
async fn orphaned_seat(app: &TestApp, fake: &FakeServer) -> (String, String, String) {
    app.post("/api/v1/people", json!({"email": "user3@example.com", "name": "Three", "status": "departed"}))
        .await
        .expect(201);
    let figma = app.post("/api/v1/apps", json!({"name": "Figma", "owner_email": "olga@example.com"})).await.expect(201);
    let id = connect(app, fake, "figma", "Figma").await;
    assert_eq!(sync(app, &id).await["status"], "succeeded");
    let seat = accounts(app, &id).await[&guid(3)].clone();
    let app_id = figma["id"].as_str().unwrap();
    let found = app.get(&format!("/api/v1/findings?kind=orphaned_account&app_id={app_id}")).await.expect(200);
    let finding = found["items"][0]["id"].as_str().expect("the sync refreshed findings: an orphaned seat").to_string();
    (id, seat["id"].as_str().unwrap().to_string(), finding)
}

/// Submits the reclaim as an it person and approves every step; returns the request id.
async fn approve_reclaim(app: &TestApp, account: &str, finding: &str) -> String {
    let ian = app.token_for(Role::It, "ian@example.com");
    let body = json!({"kind": "reclaim", "finding_id": finding, "account_ids": [account]});
    let r = app.call_as(&ian, Method::POST, "/api/v1/requests", Some(body)).await.expect(201);
    let rid = r["id"].as_str().unwrap().to_string();
    for role in [Role::Admin, Role::It] {
        let body = json!({"decision": "approve", "comment": "reclaim it"});
        app.call(Some(role), Method::POST, &format!("/api/v1/requests/{rid}/decisions"), Some(body)).await.expect(200);
    }
    rid
}

async fn wait_for(app: &TestApp, rid: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app.get(&format!("/api/v1/requests/{rid}")).await.expect(200);
        if done(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "request {rid} did not move on: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn an_approved_reclaim_deactivates_the_seat_at_the_vendor(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 30).await.unwrap();
    let (connection, account, finding) = orphaned_seat(&app, &fake).await;
    let rid = approve_reclaim(&app, &account, &finding).await;
    let r = wait_for(&app, &rid, |r| r["status"] == "done").await;
    assert_eq!(fake.actions(), vec![format!("deactivate {}", guid(3))], "one PATCH active=false at the vendor");
    let history: Vec<&str> = r["history"].as_array().unwrap().iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(history.contains(&"done"), "{history:?}");
    assert_eq!(accounts(&app, &connection).await[&guid(3)]["status"], "removed");
    // The vendor now reports the user inactive; the next sync agrees and the finding resolves.
    assert_eq!(sync(&app, &connection).await["status"], "succeeded");
    let f = app.get(&format!("/api/v1/findings/{finding}")).await.expect(200);
    assert_eq!(f["status"], "resolved", "{f}");
}

async fn a_reclaim_the_vendor_refuses_becomes_a_task_for_the_owner(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let fake = FakeServer::start(Vendor::Scim, 30).await.unwrap();
    let (connection, account, finding) = orphaned_seat(&app, &fake).await;
    // The PATCH and both retries answer 500.
    for _ in 0..3 {
        fake.fail_after(&format!("/Users/{}", guid(3)), 0);
    }
    let rid = approve_reclaim(&app, &account, &finding).await;
    let r = wait_for(&app, &rid, |r| {
        r["history"].as_array().is_some_and(|h| h.iter().any(|e| e["event"] == "reclaim_failed"))
    })
    .await;
    assert_eq!(r["status"], "approved", "it waits for the owner");
    assert!(fake.actions().is_empty());
    assert_eq!(accounts(&app, &connection).await[&guid(3)]["status"], "active", "nothing removed that the vendor kept");
    let mut conn = app.db.db.get().unwrap();
    use diesel::prelude::*;
    use stackward::db::schema::outbox;
    let task: Vec<(String, String)> = outbox::table
        .filter(outbox::dedupe_key.eq(format!("request:{rid}:reclaim_task")))
        .select((outbox::recipients, outbox::text_body))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(task.len(), 1, "the owner is asked once");
    assert_eq!(task[0].0, "olga@example.com");
    assert!(task[0].1.contains("500"), "the task says why the connector failed: {}", task[0].1);
}
