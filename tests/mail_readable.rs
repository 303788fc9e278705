//! Mail as its recipients read it: people named rather than tokens, counts in good English,
//! every link opening a page for a signed-in reader, and mail to a role reaching each holder.

use crate::mail::{body, seed, today};
use crate::per_backend;
use crate::requests::{id, mail_for, tool, Org, IT};
use crate::support::smtp::{Received, SmtpServer};
use crate::support::{Test, TestApp, TestBackend};
use reqwest::Method;
use serde_json::json;
use stackward::audit::Actor;
use stackward::auth::{self, Role};
use stackward::scheduler::{self, JobKind};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(every_link_in_every_email_opens_a_page_and_people_are_named),
        per_backend!(mail_to_a_role_reaches_everyone_who_holds_it),
    ]
}

/// The links to stackward in a message (text and HTML parts), without fragments, each once.
fn links(m: &Received, base: &str) -> Vec<String> {
    let text = body(m).replace("&amp;", "&");
    let mut out: Vec<String> = Vec::new();
    for (at, _) in text.match_indices(base) {
        let link: String =
            text[at..].chars().take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '<' | '>' | ')')).collect();
        let link = link.split('#').next().unwrap_or_default().trim_end_matches(['.', ',']).to_string();
        if !out.contains(&link) {
            out.push(link);
        }
    }
    out
}

async fn deliver_all(app: &TestApp) -> usize {
    let mut sent = 0;
    loop {
        let n = scheduler::deliver(&app.ctx).await.expect("delivery runs");
        if n == 0 {
            return sent;
        }
        sent += n;
    }
}

async fn every_link_in_every_email_opens_a_page_and_people_are_named(backend: TestBackend) {
    let server = SmtpServer::start();
    let url = server.url();
    let org = Org::with(TestApp::at_own_address(backend, &["--smtp-url", &url]).await).await;
    let app = &org.app;
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 120_000, "internal")).await;
    org.decide(&org.mia, &id(&r), "approve", "fine by me").await.expect(200);
    seed(app, "Loom", 1).await;
    scheduler::run_job(&app.ctx, JobKind::RenewalReminders, today()).await.expect("reminders run");
    scheduler::run_job(&app.ctx, JobKind::OwnerDigest, today()).await.expect("digest runs");
    let (zoom, figma) = crate::stack_audit::stack(app).await;
    let due = (today() + chrono::Days::new(10)).to_string();
    app.post("/api/v1/access-reviews", json!({"name": "Q4", "app_ids": [zoom, figma], "due_on": due}))
        .await
        .expect(201);
    app.post("/api/v1/check-ins", json!({"quarter": "2026-Q4"})).await.expect(201);

    let sent = deliver_all(app).await;
    let inbox = server.wait_for(sent).await;
    let kinds =
        ["request_pending", "request_update", "renewal_reminder", "owner_digest", "access_review_start", "check_in"];
    let queued = app.get("/api/v1/outbox?status=sent&limit=200").await.expect(200);
    for kind in kinds {
        assert!(queued["items"].as_array().unwrap().iter().any(|m| m["kind"] == kind), "a {kind} email: {queued}");
    }
    let reader = app.sign_in("reader@example.com", &[Role::Admin]);
    let mut opened = 0;
    for m in &inbox {
        let text = body(m);
        assert!(!text.contains("token:") && !text.contains("user:"), "people, not tokens: {text}");
        assert!(!text.contains(" 1 days") && !text.contains(" 1 seats"), "singular for one: {text}");
        let found = links(m, &app.base);
        assert!(!found.is_empty(), "{}: every email links to stackward: {text}", m.subject());
        for link in found {
            let page = app.browse(Some(&reader), Method::GET, &link[app.base.len()..], &[]).await;
            assert!((200..300).contains(&page.status), "{link} from {:?} answered {}", m.subject(), page.status);
            opened += 1;
        }
    }
    assert!(opened >= kinds.len(), "{opened} links opened");
    let update = inbox.iter().find(|m| m.subject().contains("approved at manager")).expect("the requester is told");
    assert!(body(update).contains("decided by Mia"), "{}", body(update));
    let pending = inbox.iter().find(|m| m.to.iter().any(|t| t.contains(IT))).expect("the it step is asked");
    assert!(body(pending).contains("Requested by: Erin"), "{}", body(pending));
    let loom = inbox.iter().find(|m| m.subject().contains("Loom Business")).expect("Loom's reminder");
    assert!(loom.subject().contains("(1 day)"), "{}", loom.subject());
    assert!(body(loom).contains("That is 1 day from today"), "{}", body(loom));
}

async fn mail_to_a_role_reaches_everyone_who_holds_it(backend: TestBackend) {
    let org = Org::new(backend).await;
    let app = &org.app;
    {
        let mut conn = app.db.db.get().unwrap();
        // One it person granted the role here, one given it by single sign-on, no token for either.
        auth::users::grant(&mut conn, &Actor("test".into()), "iris@example.com", Role::It).unwrap();
        let pat = auth::users::find_or_create(&mut conn, "pat@example.com", Some("Pat")).unwrap();
        auth::users::set_provider_roles(&mut conn, pat.id, &[Role::It]).unwrap();
    }
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 120_000, "internal")).await;
    let rid = id(&r);
    org.decide(&org.mia, &rid, "approve", "fine by me").await.expect(200);
    let mail = mail_for(app, &rid);
    let (_, to) = mail.iter().find(|(key, _)| key.ends_with("step:it:pending")).expect("the it step is announced");
    let mut to: Vec<&str> = to.split(',').collect();
    to.sort();
    assert_eq!(to, ["ian@example.com", "iris@example.com", "pat@example.com"]);
}
