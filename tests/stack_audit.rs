//! The quarterly stack audit through the API: a pack is the same bytes every time whatever the
//! inventory does after the audit, its workbook reads back with a real reader and agrees with
//! the CSVs, Changes compare two audits, access reviews decide and close into reclaim
//! requests, and owner check-ins are mailed, answered and packed.

use crate::support::{Test, TestApp, TestBackend};
use crate::{once, per_backend};
use calamine::{Data, Reader, Xlsx};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use stackward::auth::Role;
use stackward::db::schema::{accounts, outbox};
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_pack_is_the_same_bytes_every_time_whatever_the_inventory_does_after),
        per_backend!(the_workbook_reads_back_and_every_csv_matches_its_sheet),
        per_backend!(changes_list_an_added_app_and_a_resolved_finding),
        per_backend!(closing_a_review_reclaims_exactly_the_undecided_dormant_seats),
        per_backend!(only_reviewers_decide_and_keeping_a_dormant_seat_needs_a_reason),
        per_backend!(reviewers_are_mailed_at_the_start_and_reminded_once_before_the_due_day),
        per_backend!(check_ins_are_mailed_answered_by_the_owner_and_shown_on_the_app_and_in_the_pack),
        once!(a_quarter_outside_q1_to_q4_is_refused_naming_quarter),
        once!(the_check_in_job_is_off_by_default_and_starts_the_current_quarter),
        once!(the_cli_takes_an_audit_and_writes_the_same_pack_twice),
    ]
}

fn ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339()
}

async fn account(app: &TestApp, app_id: &str, email: &str, last_active: Option<String>) -> String {
    let mut body = json!({"app_id": app_id, "email": email});
    if let Some(t) = last_active {
        body["last_active_at"] = json!(t);
    }
    let a = app.post("/api/v1/accounts", body).await.expect(201);
    a["id"].as_str().unwrap().to_string()
}

/// Zoom (owner olga, USD 15/month x 10, 3 seats: busy, idle, a departed person's) and
/// Figma (EUR 540/year x 2, one seat).
pub async fn stack(app: &TestApp) -> (String, String) {
    let zoom = app.app("Zoom").await;
    app.patch(&format!("/api/v1/apps/{zoom}"), json!({"owner_email": "olga@example.com", "category": "video"}))
        .await
        .expect(200);
    let sub = app.subscription(&zoom, 10, 1500).await;
    app.patch(&format!("/api/v1/subscriptions/{sub}"), json!({"billing_frequency": "monthly"})).await.expect(200);
    app.post("/api/v1/people", json!({"email": "gone@example.com", "name": "Gone Person", "status": "departed"}))
        .await
        .expect(201);
    account(app, &zoom, "busy@example.com", Some(ago(1))).await;
    account(app, &zoom, "idle@example.com", Some(ago(120))).await;
    account(app, &zoom, "gone@example.com", Some(ago(2))).await;
    let figma = app.app("Figma").await;
    let body = json!({"app_id": figma, "plan": "Pro", "seats_purchased": 2, "unit_price_cents": 54000,
        "currency": "EUR", "term_start": "2026-01-01", "term_end": "2026-12-31"});
    app.post("/api/v1/subscriptions", body).await.expect(201);
    account(app, &figma, "designer@example.com", Some(ago(3))).await;
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    (zoom, figma)
}

async fn take(app: &TestApp, quarter: &str) -> Value {
    app.post("/api/v1/audits", json!({"quarter": quarter})).await.expect(201)
}

/// The pack's bytes, as an auditor downloads them.
async fn pack(app: &TestApp, id: &str) -> Vec<u8> {
    let req = reqwest::Client::new().get(format!("{}/api/v1/audits/{id}/pack", app.base));
    let resp = TestApp::send(req.bearer_auth(app.token(Role::Auditor))).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers["content-type"], "application/zip");
    resp.bytes
}

/// The pack's files in zip order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).expect("the pack is a zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().expect("a UTF-8 name").to_string(), data)
        })
        .collect()
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} is in the pack")).1
}

fn csv_rows(data: &[u8]) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(data);
    r.records().map(|rec| rec.expect("the CSV parses").iter().map(str::to_string).collect()).collect()
}

fn sheet(xlsx: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx.to_vec())).expect("the workbook opens");
    let range = wb.worksheet_range(name).unwrap_or_else(|e| panic!("sheet {name}: {e}"));
    range.rows().map(|r| r.to_vec()).collect()
}

async fn a_pack_is_the_same_bytes_every_time_whatever_the_inventory_does_after(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (zoom, _) = stack(&app).await;
    let audit = take(&app, "2026-Q4").await;
    let id = audit["id"].as_str().unwrap();
    let first = pack(&app, id).await;
    // The inventory moves on: a new app, a new seat, a price change, a retired app.
    let slack = app.app("Slack").await;
    account(&app, &slack, "new@example.com", Some(ago(0))).await;
    account(&app, &zoom, "another@example.com", Some(ago(0))).await;
    let subs = app.get(&format!("/api/v1/subscriptions?app_id={zoom}")).await.expect(200);
    let sub = subs["items"][0]["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/subscriptions/{sub}"), json!({"unit_price_cents": 9900})).await.expect(200);
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    let second = pack(&app, id).await;
    assert!(first == second, "the same audit packs to the same bytes ({} vs {} bytes)", first.len(), second.len());

    let files = unzip(&first);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "report.html",
            "report.md",
            "workbook.xlsx",
            "summary.csv",
            "apps.csv",
            "seats.csv",
            "findings.csv",
            "leavers.csv",
            "renewals.csv",
            "requests.csv",
            "access_reviews.csv",
            "check_ins.csv",
            "changes.csv",
            "manifest.json"
        ]
    );
    let manifest: Value = serde_json::from_slice(file(&files, "manifest.json")).unwrap();
    assert_eq!(manifest["quarter"], "2026-Q4");
    assert_eq!(manifest["taken_at"], audit["taken_at"]);
    assert_eq!(manifest["stackward_version"], env!("CARGO_PKG_VERSION"));
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(listed.len(), files.len() - 1, "every other file is listed");
    for f in listed {
        use sha2::Digest;
        let name = f["name"].as_str().unwrap();
        let digest = hex::encode(sha2::Sha256::digest(file(&files, name)));
        assert_eq!(f["sha256"], digest, "{name}");
    }
    // The snapshot, not today's inventory: Slack is not in it.
    let apps = String::from_utf8(file(&files, "apps.csv").to_vec()).unwrap();
    assert!(apps.contains("Zoom") && !apps.contains("Slack"), "{apps}");
    let html = String::from_utf8(file(&files, "report.html").to_vec()).unwrap();
    assert!(
        html.contains("@media print")
            && !html.contains("<script")
            && !html.contains("src=\"http")
            && !html.contains("<link"),
        "self-contained"
    );
    assert!(html.contains("Gone Person"), "the leaver is in the report");
}

async fn the_workbook_reads_back_and_every_csv_matches_its_sheet(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (zoom, figma) = stack(&app).await;
    let audit = take(&app, "2026-Q4").await;
    let files = unzip(&pack(&app, audit["id"].as_str().unwrap()).await);
    let xlsx = file(&files, "workbook.xlsx");

    let apps = sheet(xlsx, "Apps");
    assert_eq!(apps[0][0], Data::String("App id".into()));
    let row = |id: &str| apps.iter().find(|r| r[0] == Data::Float(id.parse().unwrap())).cloned().unwrap();
    let z = row(&zoom);
    assert_eq!(z[1], Data::String("Zoom".into()));
    assert_eq!(z[5], Data::String("olga@example.com".into()));
    assert_eq!((z[10].clone(), z[11].clone(), z[12].clone()), (Data::Float(10.0), Data::Float(3.0), Data::Float(2.0)));
    assert_eq!((z[13].clone(), z[14].clone()), (Data::Float(150.0), Data::Float(1800.0)), "USD 15 x 10 seats");
    assert_eq!(z[15], Data::String("USD".into()));
    let f = row(&figma);
    assert_eq!((f[14].clone(), f[15].clone()), (Data::Float(1080.0), Data::String("EUR".into())), "EUR 540 x 2");
    assert_eq!(apps.len(), 3, "a header and every app");
    let summary = sheet(xlsx, "Summary");
    let money: Vec<_> = summary.iter().filter(|r| r[1] == Data::String("Annual".into())).collect();
    assert_eq!(money.len(), 2, "spend per currency, never summed: {summary:?}");

    for (title, csv_name) in [
        ("Summary", "summary.csv"),
        ("Apps", "apps.csv"),
        ("Seats", "seats.csv"),
        ("Findings", "findings.csv"),
        ("Leavers", "leavers.csv"),
        ("Renewals", "renewals.csv"),
        ("Requests", "requests.csv"),
        ("Access reviews", "access_reviews.csv"),
        ("Check-ins", "check_ins.csv"),
        ("Changes", "changes.csv"),
    ] {
        let cells = sheet(xlsx, title);
        let rows = csv_rows(file(&files, csv_name));
        assert_eq!(cells.len(), rows.len(), "{title}: rows");
        for (i, (x, c)) in cells.iter().zip(&rows).enumerate() {
            let width = c.len().max(x.len());
            for col in 0..width {
                let (xv, cv) = (x.get(col).cloned().unwrap_or(Data::Empty), c.get(col).cloned().unwrap_or_default());
                let same = match &xv {
                    Data::Empty => cv.is_empty(),
                    Data::String(s) => *s == cv,
                    Data::Float(v) => cv.parse::<f64>().is_ok_and(|p| (p - v).abs() < 1e-9),
                    Data::Int(v) => cv.parse::<i64>() == Ok(*v),
                    other => panic!("{title} row {i} col {col}: unexpected cell {other:?}"),
                };
                assert!(same, "{title} row {i} col {col}: workbook {xv:?}, CSV {cv:?}");
            }
        }
    }
    let seats = csv_rows(file(&files, "seats.csv"));
    assert_eq!(seats.len(), 5, "a header and four live seats");
    let leavers = csv_rows(file(&files, "leavers.csv"));
    assert_eq!(leavers.len(), 2);
    assert_eq!(leavers[1][0], "gone@example.com");
}

async fn changes_list_an_added_app_and_a_resolved_finding(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (zoom, _) = stack(&app).await;
    let found = app.get(&format!("/api/v1/findings?kind=orphaned_account&app_id={zoom}")).await.expect(200);
    let finding = found["items"][0]["id"].as_str().expect("the departed person's seat is a finding").to_string();
    let first = take(&app, "2026-Q3").await;
    assert!(first["summary"]["previous"].is_null());
    // Next quarter: Notion joins, the leaver's seat is removed and the finding resolves.
    let notion = app.app("Notion").await;
    let seats = app.get(&format!("/api/v1/accounts?app_id={zoom}")).await.expect(200);
    let gone = seats["items"].as_array().unwrap().iter().find(|a| a["email"] == "gone@example.com").unwrap();
    app.delete(&format!("/api/v1/accounts/{}", gone["id"].as_str().unwrap())).await.expect(200);
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    let f = app.get(&format!("/api/v1/findings/{finding}")).await.expect(200);
    assert_eq!(f["status"], "resolved");
    let second = take(&app, "2026-Q4").await;
    assert_eq!(second["previous_id"], first["id"]);
    assert_eq!(second["summary"]["previous"]["id"], first["id"], "an id is a string wherever it is sent");
    let files = unzip(&pack(&app, second["id"].as_str().unwrap()).await);
    let changes = csv_rows(file(&files, "changes.csv"));
    let kinds: Vec<(&str, &str, &str)> =
        changes.iter().skip(1).map(|r| (r[0].as_str(), r[1].as_str(), r[3].as_str())).collect();
    assert!(kinds.contains(&("app_added", notion.as_str(), "")), "{kinds:?}");
    assert!(kinds.contains(&("finding_resolved", zoom.as_str(), finding.as_str())), "{kinds:?}");
    assert!(kinds.contains(&("seats_assigned_changed", zoom.as_str(), "")), "{kinds:?}");
    assert!(!kinds.iter().any(|k| k.0 == "app_added" && k.1 == zoom), "Zoom was there before: {kinds:?}");
    let md = String::from_utf8(file(&files, "report.md").to_vec()).unwrap();
    assert!(md.contains("| app_added | Notion |"), "{md}");
    // The first audit still says what it said.
    let again = unzip(&pack(&app, first["id"].as_str().unwrap()).await);
    assert!(!String::from_utf8_lossy(file(&again, "apps.csv")).contains("Notion"));
}

/// A review of Zoom: busy (active), idle (dormant), gone (departed, active), and two more seats:
/// dormant-kept (dormant, kept by olga with a reason) and untracked (activity unknown).
pub async fn review(app: &TestApp) -> (String, BTreeMap<String, Value>, String) {
    let (zoom, _) = stack(app).await;
    account(app, &zoom, "dormant-kept@example.com", Some(ago(300))).await;
    let untracked = account(app, &zoom, "untracked@example.com", None).await;
    {
        let mut conn = app.db.db.get().unwrap();
        let id: i64 = untracked.parse().unwrap();
        diesel::update(accounts::table.find(id)).set(accounts::activity_tracked.eq(false)).execute(&mut *conn).unwrap();
    }
    let due = (chrono::Utc::now().date_naive() + chrono::Days::new(14)).to_string();
    let body = json!({"name": "Q4 Zoom", "app_ids": [zoom], "due_on": due});
    let r = app.call(Some(Role::Security), Method::POST, "/api/v1/access-reviews", Some(body)).await.expect(201);
    assert_eq!(r["items_count"], 5);
    let id = r["id"].as_str().unwrap().to_string();
    let items = app.get(&format!("/api/v1/access-reviews/{id}/items")).await.expect(200);
    let by_email: BTreeMap<String, Value> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["person_email"].as_str().unwrap().split('@').next().unwrap().to_string(), i.clone()))
        .collect();
    (id, by_email, zoom)
}

async fn closing_a_review_reclaims_exactly_the_undecided_dormant_seats(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (id, items, zoom) = review(&app).await;
    assert_eq!(items["idle"]["dormant"], true);
    assert_eq!(items["busy"]["dormant"], false);
    assert_eq!(items["untracked"]["dormant"], Value::Null, "unknown activity is stated as unknown");
    assert_eq!(items["gone"]["person_status"], "departed");
    assert_eq!(items["busy"]["reviewers"], json!(["person:olga@example.com"]));
    let olga = app.token_for(Role::Employee, "olga@example.com");
    let kept = &items["dormant-kept"];
    let path = format!("/api/v1/access-reviews/{id}/items/{}/decision", kept["id"].as_str().unwrap());
    let body = json!({"decision": "keep", "comment": "on parental leave, back in January"});
    let d = app.call_as(&olga, Method::POST, &path, Some(body)).await.expect(200);
    assert_eq!((d["decision"].as_str(), d["decided_by"].as_str()), (Some("keep"), Some("olga@example.com")));

    let ian = app.token_for(Role::It, "ian@example.com");
    let closed = app.call_as(&ian, Method::POST, &format!("/api/v1/access-reviews/{id}/close"), None).await.expect(200);
    assert_eq!(closed["review"]["status"], "closed");
    assert_eq!((closed["revoked_by_default"].as_i64(), closed["kept_by_default"].as_i64()), (Some(2), Some(2)));
    let made = closed["reclaim_requests"].as_array().unwrap();
    assert_eq!(made.len(), 1, "one request per app");
    assert_eq!(made[0]["app_id"], zoom.as_str());
    let request = app.get(&format!("/api/v1/requests/{}", made[0]["request_id"].as_str().unwrap())).await.expect(200);
    assert_eq!(request["kind"], "reclaim");
    let mut got: Vec<String> =
        request["account_ids"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    got.sort();
    let mut want: Vec<String> =
        ["idle", "gone"].iter().map(|k| items[*k]["account_id"].as_str().unwrap().to_string()).collect();
    want.sort();
    assert_eq!(got, want, "exactly the undecided dormant and departed seats");

    let after = app.get(&format!("/api/v1/access-reviews/{id}/items")).await.expect(200);
    for i in after.as_array().unwrap() {
        let who = i["person_email"].as_str().unwrap();
        let (decision, by_default) = (i["decision"].as_str().unwrap(), i["by_default"].as_bool().unwrap());
        match who.split('@').next().unwrap() {
            "idle" | "gone" => assert_eq!((decision, by_default), ("revoke", true), "{who}"),
            "busy" | "untracked" => assert_eq!((decision, by_default), ("keep", true), "{who}"),
            "dormant-kept" => assert_eq!((decision, by_default), ("keep", false), "{who}"),
            other => panic!("unexpected item {other}"),
        }
    }
    // Closed means final.
    let busy = items["busy"]["id"].as_str().unwrap();
    let path = format!("/api/v1/access-reviews/{id}/items/{busy}/decision");
    app.call_as(&olga, Method::POST, &path, Some(json!({"decision": "revoke"})))
        .await
        .expect_error(409, "conflict", None);
    // The review's decisions are evidence in the next pack.
    let audit = take(&app, "2026-Q4").await;
    let files = unzip(&pack(&app, audit["id"].as_str().unwrap()).await);
    let rows = csv_rows(file(&files, "access_reviews.csv"));
    assert_eq!(rows.len(), 6);
    let kept_row = rows.iter().find(|r| r[6] == "dormant-kept@example.com").unwrap();
    assert_eq!(
        (&kept_row[11][..], &kept_row[12][..], &kept_row[15][..]),
        ("keep", "olga@example.com", "on parental leave, back in January")
    );
}

async fn only_reviewers_decide_and_keeping_a_dormant_seat_needs_a_reason(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (id, items, _) = review(&app).await;
    let idle = items["idle"]["id"].as_str().unwrap();
    let path = format!("/api/v1/access-reviews/{id}/items/{idle}/decision");
    let keep = json!({"decision": "keep"});
    // Not the app's owner: an it person, an admin, another employee.
    let ian = app.token_for(Role::It, "ian@example.com");
    app.call_as(&ian, Method::POST, &path, Some(keep.clone())).await.expect_error(403, "forbidden", None);
    app.call(Some(Role::Admin), Method::POST, &path, Some(keep.clone())).await.expect_error(403, "forbidden", None);
    app.call(Some(Role::Employee), Method::POST, &path, Some(keep.clone())).await.expect_error(403, "forbidden", None);
    let olga = app.token_for(Role::Employee, "olga@example.com");
    app.call_as(&olga, Method::POST, &path, Some(keep.clone())).await.expect_error(400, "invalid", Some("comment"));
    let gone = items["gone"]["id"].as_str().unwrap();
    let gone_path = format!("/api/v1/access-reviews/{id}/items/{gone}/decision");
    app.call_as(&olga, Method::POST, &gone_path, Some(json!({"decision": "keep", "comment": "  "})))
        .await
        .expect_error(400, "invalid", Some("comment"));
    let busy = items["busy"]["id"].as_str().unwrap();
    let busy_path = format!("/api/v1/access-reviews/{id}/items/{busy}/decision");
    app.call_as(&olga, Method::POST, &busy_path, Some(keep)).await.expect(200);
    app.call_as(&olga, Method::POST, &path, Some(json!({"decision": "revoke"}))).await.expect(200);
    // Nothing written by the refusals.
    let undecided = app.get(&format!("/api/v1/access-reviews/{id}/items?decision=undecided")).await.expect(200);
    assert_eq!(undecided.as_array().unwrap().len(), 3);
    // Olga sees her items; another employee sees none.
    let mine = app.call_as(&olga, Method::GET, &format!("/api/v1/access-reviews/{id}/items"), None).await.expect(200);
    assert_eq!(mine.as_array().unwrap().len(), 5);
    let theirs = app.call(Some(Role::Employee), Method::GET, &format!("/api/v1/access-reviews/{id}/items"), None).await;
    assert_eq!(theirs.expect(200).as_array().unwrap().len(), 0);
    app.call(Some(Role::Finance), Method::POST, &format!("/api/v1/access-reviews/{id}/close"), None)
        .await
        .expect_error(403, "forbidden", None);
}

async fn reviewers_are_mailed_at_the_start_and_reminded_once_before_the_due_day(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    // An app with no owner falls to the it role: its token with an email is mailed.
    app.token_for(Role::It, "ian@example.com");
    let (zoom, figma) = stack(&app).await;
    let due = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
    let body = json!({"name": "Q4", "app_ids": [zoom, figma], "due_on": due});
    let r = app.post("/api/v1/access-reviews", body).await.expect(201);
    let id: i64 = r["id"].as_str().unwrap().parse().unwrap();
    let mails = |conn: &mut stackward::db::PooledConn, kind: &str| -> Vec<(String, String)> {
        outbox::table
            .filter(outbox::kind.eq(kind))
            .order(outbox::recipients.asc())
            .select((outbox::recipients, outbox::text_body))
            .load(&mut **conn)
            .unwrap()
    };
    let mut conn = app.db.db.get().unwrap();
    let started = mails(&mut conn, "access_review_start");
    let to: Vec<&str> = started.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(to, ["ian@example.com", "olga@example.com"], "Zoom's owner and the it role for Figma");
    assert!(started[1].1.contains("Zoom: 3 seats (1 dormant, 1 held by people who left)"), "{}", started[1].1);
    let today = chrono::Utc::now().date_naive();
    let url = "http://stackward.test";
    let first = stackward::stack_audit::reviews::remind_due(&mut conn, today, url).unwrap();
    assert_eq!(first, 2);
    assert_eq!(stackward::stack_audit::reviews::remind_due(&mut conn, today, url).unwrap(), 0, "once");
    let reminded = mails(&mut conn, "access_review_reminder");
    assert_eq!(reminded.len(), 2);
    assert!(reminded[1].1.contains("3 of the seats you review"), "{}", reminded[1].1);
    let _ = id;
}

async fn check_ins_are_mailed_answered_by_the_owner_and_shown_on_the_app_and_in_the_pack(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (zoom, _) = stack(&app).await;
    let started = app.post("/api/v1/check-ins", json!({"quarter": "2026-Q4"})).await.expect(201);
    assert_eq!(started["created"], 1, "Figma has no owner to ask");
    let c = &started["check_ins"][0];
    assert_eq!(
        (c["app_id"].as_str(), c["seats_bought"].as_i64(), c["seats_active"].as_i64()),
        (Some(zoom.as_str()), Some(10), Some(2))
    );
    let again = app.post("/api/v1/check-ins", json!({"quarter": "2026-Q4"})).await.expect(201);
    assert_eq!(again["created"], 0, "asked once a quarter");
    {
        let mut conn = app.db.db.get().unwrap();
        let sent: Vec<(String, String)> = outbox::table
            .filter(outbox::kind.eq("check_in"))
            .select((outbox::recipients, outbox::text_body))
            .load(&mut *conn)
            .unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, "olga@example.com");
        assert!(sent[0].1.contains("Zoom: 10 seats bought, 2 active"), "{}", sent[0].1);
    }
    let id = c["id"].as_str().unwrap();
    let path = format!("/api/v1/check-ins/{id}/answers");
    let answers = json!({"still_needed": true, "seats_right": false, "seats_wanted": 4, "renewal_intention": "reduce",
        "comment": "two teams moved to Meet"});
    app.call(Some(Role::Employee), Method::POST, &path, Some(answers.clone())).await.expect_error(
        403,
        "forbidden",
        None,
    );
    let olga = app.token_for(Role::Employee, "olga@example.com");
    app.call_as(&olga, Method::POST, &path, Some(json!({"still_needed": true}))).await.expect_error(
        400,
        "invalid",
        Some("seats_right"),
    );
    let a = app.call_as(&olga, Method::POST, &path, Some(answers)).await.expect(200);
    assert_eq!(
        (a["renewal_intention"].as_str(), a["answered_by"].as_str()),
        (Some("reduce"), Some("olga@example.com"))
    );
    let on_app = app.get(&format!("/api/v1/apps/{zoom}/check-ins")).await.expect(200);
    assert_eq!(on_app[0]["seats_wanted"], 4);
    let mine = app.call_as(&olga, Method::GET, "/api/v1/check-ins", None).await.expect(200);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let audit = take(&app, "2026-Q4").await;
    assert_eq!(audit["summary"]["check_ins_answered"], 1);
    let files = unzip(&pack(&app, audit["id"].as_str().unwrap()).await);
    let rows = csv_rows(file(&files, "check_ins.csv"));
    assert_eq!(&rows[1][8..13], ["yes", "no", "4", "reduce", "two teams moved to Meet"]);
    let renewals = csv_rows(file(&files, "renewals.csv"));
    if let Some(zoom_renewal) = renewals.iter().find(|r| r[2] == "Zoom") {
        assert_eq!(zoom_renewal[13], "reduce (owner's 2026-Q4 check-in)");
    }
}

async fn a_quarter_outside_q1_to_q4_is_refused_naming_quarter() {
    let app = TestApp::new(TestBackend::Sqlite).await;
    for bad in ["2026-Q5", "2026Q4", "Q4-2026", ""] {
        app.post("/api/v1/audits", json!({"quarter": bad})).await.expect_error(400, "invalid", Some("quarter"));
        app.post("/api/v1/check-ins", json!({"quarter": bad})).await.expect_error(400, "invalid", Some("quarter"));
    }
    app.post("/api/v1/audits", json!({})).await.expect_error(400, "invalid", None);
    assert_eq!(app.get("/api/v1/audits").await.expect(200), json!([]), "nothing written");
    app.call(Some(Role::Security), Method::POST, "/api/v1/audits", Some(json!({"quarter": "2026-Q4"})))
        .await
        .expect_error(403, "forbidden", None);
    app.get("/api/v1/audits/999/pack").await.expect_error(404, "not_found", None);
    let due = "2020-01-01";
    app.post("/api/v1/access-reviews", json!({"name": "x", "app_ids": ["1"], "due_on": due})).await.expect_error(
        400,
        "invalid",
        Some("due_on"),
    );
}

async fn the_check_in_job_is_off_by_default_and_starts_the_current_quarter() {
    use stackward::scheduler::{self, JobKind};
    let off = scheduler::schedules(&stackward::config::Settings::from_flags(&[]).unwrap()).unwrap();
    assert!(!off.iter().any(|(k, _, _)| *k == JobKind::CheckIns), "blank by default");
    let on = stackward::config::Settings::from_flags(&["--cron-check-ins", "0 0 9 1 1,4,7,10 *"]).unwrap();
    assert!(scheduler::schedules(&on).unwrap().iter().any(|(k, _, _)| *k == JobKind::CheckIns));
    let bad = stackward::config::Settings::from_flags(&["--cron-check-ins", "quarterly"]).unwrap();
    assert!(scheduler::schedules(&bad).unwrap_err().contains("STACKWARD_CRON_CHECK_INS"));

    let app = TestApp::new(TestBackend::Sqlite).await;
    stack(&app).await;
    let today: chrono::NaiveDate = "2027-02-10".parse().unwrap();
    let said = scheduler::run_job(&app.ctx, JobKind::CheckIns, today).await.unwrap();
    assert!(said.starts_with("2027-Q1 check-ins: 1 started"), "{said}");
    let again = scheduler::run_job(&app.ctx, JobKind::CheckIns, today).await.unwrap();
    assert!(again.starts_with("2027-Q1 check-ins: 0 started"), "{again}");
    let listed = app.get("/api/v1/check-ins?quarter=2027-Q1").await.expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

fn stackward(dir: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_stackward"));
    c.current_dir(dir).env_remove("STACKWARD_DATABASE_URL").env("STACKWARD_LOG", "warn");
    c
}

async fn the_cli_takes_an_audit_and_writes_the_same_pack_twice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("apps.csv"), "name,owner_email\nZoom,olga@example.com\nFigma,\n").unwrap();
    let out = stackward(dir.path()).args(["import", "--kind", "apps", "apps.csv"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = stackward(dir.path()).args(["audit", "create", "--quarter", "2026-Q5"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("2026-Q5"), "{}", String::from_utf8_lossy(&bad.stderr));
    let made = stackward(dir.path()).args(["audit", "create", "--quarter", "2026-Q4"]).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let id = String::from_utf8(made.stdout).unwrap().trim().to_string();
    assert_eq!(id, "1", "the id alone on standard output");
    for out in ["first", "second"] {
        let r = stackward(dir.path()).args(["audit", "pack", &id, "--out", out]).output().unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("first"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names.len(), 14, "{names:?}");
    for name in &names {
        let a = std::fs::read(dir.path().join("first").join(name)).unwrap();
        let b = std::fs::read(dir.path().join("second").join(name)).unwrap();
        assert!(a == b, "{name} differs between two packs of one audit");
    }
    let apps = std::fs::read_to_string(dir.path().join("first/apps.csv")).unwrap();
    assert!(apps.contains("Zoom") && apps.contains("olga@example.com"), "{apps}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("first/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["quarter"], "2026-Q4");
}
