//! The access review and check-in pages through HTTP: a reviewer keeps or revokes seats one by
//! one and several at once under the review's rules (all or none when one is refused), anyone
//! else gets the 403 page, a starter closes the review from it, and the mails' links open the
//! pages where an owner answers the quarter's check-in.

use crate::pages::Visitor;
use crate::per_backend;
use crate::stack_audit::review;
use crate::support::{Test, TestApp, TestBackend, EMPLOYEE_EMAIL};
use diesel::prelude::*;
use serde_json::{json, Value};
use stackward::auth::Role;
use stackward::db::schema::outbox;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_reviewer_decides_seats_one_by_one_and_in_bulk),
        per_backend!(a_non_reviewer_gets_the_403_page_and_a_starter_closes_the_review),
        per_backend!(the_mails_link_to_the_review_and_the_check_in_pages),
    ]
}

const OWNER: &str = "olga@example.com";

/// Each item's (decision, decided_by, comment), by the seat's email name.
async fn decisions(app: &TestApp, id: &str) -> Vec<(String, Value, Value, Value)> {
    let items = app.get(&format!("/api/v1/access-reviews/{id}/items")).await.expect(200);
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let who = i["person_email"].as_str().unwrap().split('@').next().unwrap().to_string();
            (who, i["decision"].clone(), i["decided_by"].clone(), i["comment"].clone())
        })
        .collect()
}

fn decision_of<'a>(all: &'a [(String, Value, Value, Value)], who: &str) -> &'a Value {
    &all.iter().find(|d| d.0 == who).unwrap_or_else(|| panic!("no item {who}")).1
}

async fn a_reviewer_decides_seats_one_by_one_and_in_bulk(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (id, items, _) = review(&app).await;
    let item = |who: &str| items[who]["id"].as_str().unwrap().to_string();
    let olga = Visitor::new(&app, Role::Employee, OWNER);
    olga.get("/").await.expect(200).has(">Access reviews</a>");
    olga.get("/access-reviews").await.expect(200).has("Q4 Zoom").has(&format!("/access-reviews/{id}"));
    let page = olga.get(&format!("/access-reviews/{id}")).await.expect(200);
    page.has("idle@example.com").has("<strong>dormant</strong>").has("departed").has(">Keep selected<");
    page.has("<label for=\"comment\">").has(&format!("name=\"item\" value=\"{}\"", item("idle")));
    let csrf = page.csrf();

    // One seat, from its row's button.
    let one = format!("/access-reviews/{id}/items/{}/decision", item("busy"));
    olga.post(&one, Some(&csrf), &[("decision", "keep")]).await.expect(303);
    let d = decisions(&app, &id).await;
    let busy = d.iter().find(|d| d.0 == "busy").unwrap();
    assert_eq!((&busy.1, &busy.2), (&json!("keep"), &json!(OWNER)));

    // Several at once: keeping a dormant seat and a leaver's needs a comment, and a refusal
    // leaves every ticked seat undecided.
    let bulk = format!("/access-reviews/{id}/decisions");
    let (idle, gone) = (item("idle"), item("gone"));
    let both = [("item", idle.as_str()), ("item", gone.as_str())];
    let keep: Vec<(&str, &str)> = both.iter().copied().chain([("decision", "keep")]).collect();
    olga.post(&bulk, Some(&csrf), &keep).await.expect(400).has("comment").has("dormant");
    let d = decisions(&app, &id).await;
    assert_eq!((decision_of(&d, "idle"), decision_of(&d, "gone")), (&Value::Null, &Value::Null), "all or none");
    let revoke: Vec<(&str, &str)> = both.iter().copied().chain([("decision", "revoke")]).collect();
    olga.post(&bulk, Some(&csrf), &revoke).await.expect(303);
    let d = decisions(&app, &id).await;
    assert_eq!((decision_of(&d, "idle"), decision_of(&d, "gone")), (&json!("revoke"), &json!("revoke")));

    let kept = item("dormant-kept");
    let reason = [("item", kept.as_str()), ("decision", "keep"), ("comment", "on parental leave")];
    olga.post(&bulk, Some(&csrf), &reason).await.expect(303);
    let d = decisions(&app, &id).await;
    let k = d.iter().find(|d| d.0 == "dormant-kept").unwrap();
    assert_eq!((&k.1, &k.3), (&json!("keep"), &json!("on parental leave")));
    olga.post(&bulk, Some(&csrf), &[("decision", "keep")]).await.expect(400).has("select at least one seat");
    olga.post(&bulk, None, &revoke).await.expect(403);
    let after = olga.get(&format!("/access-reviews/{id}?decision=undecided")).await.expect(200);
    after.has("untracked@example.com").lacks("idle@example.com").has("1 undecided");
}

async fn a_non_reviewer_gets_the_403_page_and_a_starter_closes_the_review(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (id, items, _) = review(&app).await;
    let idle = items["idle"]["id"].as_str().unwrap().to_string();
    let erin = Visitor::new(&app, Role::Employee, EMPLOYEE_EMAIL);
    erin.get("/access-reviews").await.expect(200).lacks("Q4 Zoom").has("No access review involves you");
    erin.get(&format!("/access-reviews/{id}")).await.expect(403).has("You review no seat in this access review");
    let csrf = erin.get("/").await.csrf();
    let one = format!("/access-reviews/{id}/items/{idle}/decision");
    erin.post(&one, Some(&csrf), &[("decision", "revoke")]).await.expect(403).has("only this seat&#x27;s reviewers");

    // IT reads every review but decides none of Zoom's (its owner does); IT may close it.
    let ian = Visitor::new(&app, Role::It, "ian@example.com");
    let page = ian.get(&format!("/access-reviews/{id}")).await.expect(200);
    page.has("idle@example.com").lacks(">Keep selected<").has(">Close review<");
    let csrf = page.csrf();
    ian.post(&one, Some(&csrf), &[("decision", "revoke")]).await.expect(403);
    let d = decisions(&app, &id).await;
    assert_eq!(decision_of(&d, "idle"), &Value::Null);
    let olga = Visitor::new(&app, Role::Employee, OWNER);
    olga.post(&format!("/access-reviews/{id}/close"), Some(&olga.get("/").await.csrf()), &[]).await.expect(403);
    ian.post(&format!("/access-reviews/{id}/close"), Some(&csrf), &[]).await.expect(303);
    let closed = ian.get(&format!("/access-reviews/{id}")).await.expect(200);
    closed.has("badge-closed").has("(default)").has("reclaim request").lacks(">Close review<");
    let r = app.get(&format!("/api/v1/access-reviews/{id}")).await.expect(200);
    assert_eq!(r["status"], "closed");
    olga.get(&format!("/access-reviews/{id}")).await.expect(200).lacks(">Keep selected<");
}

/// The first `{public_url}/PATH…` link in the last mail of `kind`, as a local path.
fn mailed_link(app: &TestApp, kind: &str, path: &str) -> String {
    let mut conn = app.db.db.get().unwrap();
    let body: String = outbox::table
        .filter(outbox::kind.eq(kind))
        .order(outbox::id.desc())
        .select(outbox::text_body)
        .first(&mut *conn)
        .unwrap();
    let base = format!("{}{path}", app.ctx.settings.public_url());
    let at = body.find(&base).unwrap_or_else(|| panic!("no {base} link in:\n{body}"));
    let link: String = body[at..].chars().take_while(|c| !c.is_whitespace()).collect();
    link.trim_start_matches(&app.ctx.settings.public_url()).to_string()
}

async fn the_mails_link_to_the_review_and_the_check_in_pages(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (id, _, zoom) = review(&app).await;
    let olga = Visitor::new(&app, Role::Employee, OWNER);
    let link = mailed_link(&app, "access_review_start", "/access-reviews/");
    assert_eq!(link, format!("/access-reviews/{id}"));
    olga.get(&link).await.expect(200).has("Q4 Zoom").has(">Keep selected<");

    let started = app.post("/api/v1/check-ins", json!({"quarter": "2026-Q4"})).await.expect(201);
    let check_in = started["check_ins"][0]["id"].as_str().unwrap().to_string();
    let link = mailed_link(&app, "check_in", "/check-ins/");
    assert_eq!(link, format!("/check-ins/{check_in}"));
    let page = olga.get(&link).await.expect(200);
    page.has("Is Zoom still needed?").has("<strong>10</strong> seats bought").has("<label for=\"seats_wanted\">");
    let csrf = page.csrf();
    let partial = [("still_needed", "true"), ("seats_right", "false")];
    olga.post(&link, Some(&csrf), &partial).await.expect(400).has("renewal_intention");
    let answers = [
        ("still_needed", "true"),
        ("seats_right", "false"),
        ("seats_wanted", "4"),
        ("renewal_intention", "reduce"),
        ("comment", "two teams moved to Meet"),
    ];
    olga.post(&link, Some(&csrf), &answers).await.expect(303);
    let c = app.get(&format!("/api/v1/check-ins/{check_in}")).await.expect(200);
    assert_eq!((c["seats_wanted"].as_i64(), c["renewal_intention"].as_str()), (Some(4), Some("reduce")), "{c}");
    assert_eq!(c["answered_by"], OWNER);
    olga.get(&link).await.expect(200).has("wants 4").has("two teams moved to Meet");
    let erin = Visitor::new(&app, Role::Employee, EMPLOYEE_EMAIL);
    erin.get(&link).await.expect(403).has("only they (or an admin) answer it");
    erin.post(&link, Some(&erin.get("/").await.csrf()), &answers).await.expect(403);
    let _ = zoom;
}
