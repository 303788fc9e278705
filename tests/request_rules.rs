//! The rules around requests: who may decide and read, the policy an admin replaces (and the
//! refusals that keep the old one), SLA reminders and escalation run with a given clock, the
//! closing of requests left waiting for changes, and request mail through a real SMTP server.

use crate::per_backend;
use crate::requests::{id, mail_for, step, steps, tool, Org, IT, MANAGER, OTHER};
use crate::support::smtp::SmtpServer;
use crate::support::{Test, TestApp, TestBackend, EMPLOYEE_EMAIL};
use chrono::Duration;
use reqwest::Method;
use serde_json::json;
use stackward::auth::Role;
use stackward::workflow::{sla, SlaSettings};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(nobody_decides_their_own_request_or_a_step_not_theirs),
        per_backend!(an_employee_reads_only_their_own_requests_and_those_waiting_for_them),
        per_backend!(a_request_is_cancelled_by_its_requester_or_an_admin_only),
        per_backend!(a_bad_policy_is_refused_with_its_line_and_the_old_one_stays),
        per_backend!(a_replaced_policy_routes_new_requests),
        per_backend!(a_late_step_is_reminded_once_and_escalated_once),
        per_backend!(a_request_left_waiting_for_changes_is_closed_after_the_set_days),
        per_backend!(a_role_without_addresses_is_not_mailed_but_still_decides),
        per_backend!(a_request_email_is_delivered_over_smtp),
        per_backend!(the_cli_lists_shows_and_decides_as_a_person),
    ]
}

async fn nobody_decides_their_own_request_or_a_step_not_theirs(backend: TestBackend) {
    let org = Org::new(backend).await;
    let app = &org.app;
    // An admin may override any step, except on their own request.
    let ada = app.token_for(Role::Admin, "ada@example.com");
    let r = org.submit(&ada, tool("Miro", "https://miro.com", 1000, "internal")).await;
    let own = org.decide(&ada, &id(&r), "approve", "mine").await.expect_error(403, "forbidden", None);
    assert!(own["error"]["message"].as_str().unwrap().contains("they made"), "{own}");

    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 1000, "internal")).await;
    let rid = id(&r);
    org.decide(&org.erin, &rid, "approve", "me").await.expect_error(403, "forbidden", None);
    for outsider in [&org.olga, &org.fay, &org.ian] {
        let e = org.decide(outsider, &rid, "approve", "not mine").await.expect_error(403, "forbidden", None);
        assert!(e["error"]["message"].as_str().unwrap().contains(&format!("person:{MANAGER}")), "{e}");
    }
    org.decide(&org.mia, &rid, "maybe", "x").await.expect_error(400, "invalid", Some("decision"));
    let r = org.decide(&ada, &rid, "approve", "manager is away").await.expect(200);
    assert!(step(&r, "manager")["note"].as_str().unwrap().contains("decided by an admin"), "{r}");
    assert_eq!(
        r["history"].as_array().unwrap().iter().find(|e| e["event"] == "approved").unwrap()["details"]["override"],
        true
    );
    // A token that names no person cannot ask for a tool.
    let r = app.call(
        Some(Role::Finance),
        Method::POST,
        "/api/v1/requests",
        Some(tool("X", "https://x.example", 1, "public")),
    );
    r.await.expect_error(403, "forbidden", None);
    app.call(Some(Role::Admin), Method::POST, "/api/v1/requests/999/decisions", Some(json!({"decision": "approve"})))
        .await
        .expect_error(404, "not_found", None);
}

async fn an_employee_reads_only_their_own_requests_and_those_waiting_for_them(backend: TestBackend) {
    let org = Org::new(backend).await;
    let app = &org.app;
    let mine = id(&org.submit(&org.erin, tool("Miro", "https://miro.com", 1000, "internal")).await);
    let theirs = id(&org.submit(&org.olga, tool("Figma", "https://figma.com", 1000, "internal")).await);
    org.show(&org.erin, &mine).await.expect(200);
    org.show(&org.erin, &theirs).await.expect_error(403, "forbidden", None);
    org.show(&org.olga, &mine).await.expect_error(403, "forbidden", None);
    org.show(&org.mia, &mine).await.expect(200);
    let ids = |v: serde_json::Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(id).collect() };
    let list = |secret: &str, q: &str| {
        let path = format!("/api/v1/requests{q}");
        let secret = secret.to_string();
        async move { app.call_as(&secret, Method::GET, &path, None).await.expect(200) }
    };
    assert_eq!(ids(list(&org.erin, "").await), std::slice::from_ref(&mine));
    assert_eq!(ids(list(&org.olga, "").await), std::slice::from_ref(&theirs));
    // Olga has no manager: her request waits for the admin role, not for Mia.
    assert_eq!(ids(list(&org.mia, "?waiting_for=me").await), std::slice::from_ref(&mine));
    assert_eq!(ids(list(&org.mia, "?mine=true").await), Vec::<String>::new());
    assert_eq!(ids(list(&org.sam, "").await), [mine.clone(), theirs.clone()], "other roles read all");
    assert_eq!(ids(list(&org.sam, "?waiting_for=me").await), Vec::<String>::new());
    let admin = app.call(Some(Role::Admin), Method::GET, "/api/v1/requests?waiting_for=me&kind=new_tool", None).await;
    assert_eq!(ids(admin.expect(200)), std::slice::from_ref(&theirs));
    assert_eq!(ids(list(&org.sam, "?status=done").await), Vec::<String>::new());
    let page = list(&org.sam, "?limit=1").await;
    assert_eq!(ids(page.clone()), [mine]);
    let next = page["next_cursor"].as_str().expect("a second page").to_string();
    assert_eq!(ids(list(&org.sam, &format!("?limit=1&cursor={next}")).await), [theirs]);
    let bad = app.call_as(&org.erin, Method::GET, "/api/v1/requests?waiting_for=you", None).await;
    bad.expect_error(400, "invalid", Some("waiting_for"));
}

async fn a_request_is_cancelled_by_its_requester_or_an_admin_only(backend: TestBackend) {
    let org = Org::new(backend).await;
    let app = &org.app;
    let first = id(&org.submit(&org.erin, tool("Miro", "https://miro.com", 1000, "internal")).await);
    let second = id(&org.submit(&org.erin, tool("Figma", "https://figma.com", 1000, "internal")).await);
    let cancel = |id: &str| format!("/api/v1/requests/{id}/cancel");
    app.call_as(&org.olga, Method::POST, &cancel(&first), None).await.expect_error(403, "forbidden", None);
    app.call_as(&org.mia, Method::POST, &cancel(&first), None).await.expect_error(403, "forbidden", None);
    let r = app.call_as(&org.erin, Method::POST, &cancel(&first), None).await.expect(200);
    assert_eq!(r["status"], "cancelled");
    assert_eq!(r["history"].as_array().unwrap().last().unwrap()["event"], "cancelled");
    org.decide(&org.mia, &first, "approve", "late").await.expect_error(409, "conflict", None);
    assert!(!mail_for(app, &first).iter().any(|(k, _)| k.ends_with(":cancelled")), "no mail to oneself");
    let r = app.call(Some(Role::Admin), Method::POST, &cancel(&second), None).await.expect(200);
    assert_eq!(r["status"], "cancelled");
    let key = format!("request:{second}:round:1:request:cancelled");
    assert!(mail_for(app, &second).contains(&(key, EMPLOYEE_EMAIL.to_string())));
    let audit = crate::requests::audit_actions(app, &second).await;
    assert_eq!(audit.last().map(String::as_str), Some("request.cancel"));
}

async fn put_policy(app: &TestApp, text: &str) -> crate::support::Reply {
    app.send_raw(Role::Admin, Method::PUT, "/api/v1/policy", "application/toml", text.to_string()).await
}

async fn a_bad_policy_is_refused_with_its_line_and_the_old_one_stays(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let before = app.get("/api/v1/policy").await.expect(200);
    assert_eq!(before["version"], 0);
    let names: Vec<&str> = before["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["manager", "security", "finance", "it"]);
    assert!(before["text"].as_str().unwrap().contains("500000"));
    let cases = [
        ("[[step]]\nname = \"boss\"\napprover = manager\n", "line 3, column 12"),
        ("[[step]]\nname = \"boss\"\napprover = \"manager\"\nwhne = \"true\"\n", "line 4, column 1: unknown field `whne`"),
        (
            "[[step]]\nname = \"boss\"\napprover = \"manager\"\n\n[[step]]\nname = \"money\"\napprover = \"role\"\nrole = \"finance\"\nwhen = \"request.annual_cost_cents >\"\n",
            "step \"money\"",
        ),
        ("[[step]]\nname = \"x\"\napprover = \"role\"\nrole = \"cfo\"\n", "line 4"),
    ];
    for (text, want) in cases {
        let e = put_policy(&app, text).await.expect_error(400, "invalid", Some("policy"));
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains(want), "{text:?}: {message}");
        assert_eq!(app.get("/api/v1/policy").await.expect(200), before, "the old policy stays in force");
    }
    let r = app.send_raw(Role::It, Method::PUT, "/api/v1/policy", "text/plain", "[[step]]".into()).await;
    r.expect_error(403, "forbidden", None);
}

async fn a_replaced_policy_routes_new_requests(backend: TestBackend) {
    let org = Org::new(backend).await;
    let old = org.submit(&org.erin, tool("Miro", "https://miro.com", 1000, "internal")).await;
    let text = format!(
        "[[step]]\nname = \"lead\"\napprover = \"person\"\nemail = \"{OTHER}\"\nsla_hours = 4\n\n\
         [[step]]\nname = \"design review\"\napprover = \"role\"\nrole = \"security\"\n\
         when = 'request.category == \"whiteboard\" && request.seats > 5'\n"
    );
    let p = put_policy(&org.app, &text).await.expect(200);
    assert_eq!(p["version"], 1);
    assert_eq!(p["steps"][0]["escalate_after_hours"], 8);
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 1000, "internal")).await;
    assert_eq!(r["policy_version"], 1);
    assert_eq!(steps(&r), crate::requests::pairs(&[("lead", "pending"), ("design review", "waiting")]));
    assert_eq!(step(&r, "lead")["approvers"], json!([format!("person:{OTHER}")]));
    // A request already routed keeps its steps.
    let old = org.show(&org.erin, &id(&old)).await.expect(200);
    assert_eq!(old["policy_version"], 0);
    assert_eq!(old["steps"].as_array().unwrap().len(), 4);
    let log = org.app.get("/api/v1/audit-log?entity=policy").await.expect(200);
    assert_eq!(log["items"][0]["action"], "policy.replace");
    assert_eq!(log["items"][0]["after"]["version"], 1);
}

fn settings(days: u32) -> SlaSettings {
    SlaSettings { public_url: "http://stackward.test".into(), changes_max_days: days }
}

async fn a_late_step_is_reminded_once_and_escalated_once(backend: TestBackend) {
    let org = Org::new(backend).await;
    org.app.token_for(Role::Admin, "ada@example.com");
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 1000, "internal")).await;
    let rid = id(&r);
    let since = stackward::time::parse(step(&r, "manager")["pending_since"].as_str().unwrap()).unwrap();
    let run = |hours: i64| {
        let mut conn = org.app.db.db.get().unwrap();
        sla::run(&mut conn, &settings(30), since + Duration::hours(hours)).unwrap()
    };
    let none = sla::SlaReport::default();
    assert_eq!(run(47), none, "not late yet");
    assert_eq!(run(48), sla::SlaReport { reminded: 1, ..none.clone() });
    assert_eq!(run(60), none, "reminded once");
    assert_eq!(run(96), sla::SlaReport { escalated: 1, ..none.clone() });
    assert_eq!(run(200), none, "escalated once");
    let reminders: Vec<_> = mail_for(&org.app, &rid).into_iter().filter(|(k, _)| !k.ends_with(":pending")).collect();
    assert_eq!(
        reminders,
        [
            (format!("request:{rid}:round:1:step:manager:reminder"), MANAGER.to_string()),
            (format!("request:{rid}:round:1:step:manager:escalation"), "ada@example.com".to_string()),
        ]
    );
    let r = org.show(&org.erin, &rid).await.expect(200);
    assert_eq!(step(&r, "manager")["approvers"], json!([format!("person:{MANAGER}"), "role:admin"]));
    let events: Vec<&str> = r["history"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(events.ends_with(&["reminded", "escalated"]), "{events:?}");
    let actions = crate::requests::audit_actions(&org.app, &rid).await;
    assert!(actions.contains(&"request.remind".into()) && actions.contains(&"request.escalate".into()));
    // The manager can still decide; the escalated step is decided normally.
    org.decide(&org.mia, &rid, "approve", "sorry, was away").await.expect(200);
}

async fn a_request_left_waiting_for_changes_is_closed_after_the_set_days(backend: TestBackend) {
    let org = Org::new(backend).await;
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 1000, "internal")).await;
    let rid = id(&r);
    let r = org.decide(&org.mia, &rid, "request_changes", "fewer seats").await.expect(200);
    let asked = stackward::time::parse(r["updated_at"].as_str().unwrap()).unwrap();
    let run = |days: i64| {
        let mut conn = org.app.db.db.get().unwrap();
        sla::run(&mut conn, &settings(30), asked + Duration::days(days)).unwrap().expired
    };
    assert_eq!(run(29), 0);
    assert_eq!(run(31), 1);
    assert_eq!(run(40), 0, "closed once");
    let r = org.show(&org.erin, &rid).await.expect(200);
    assert_eq!(r["status"], "cancelled");
    let last = r["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["event"].as_str(), last["actor"].as_str()), (Some("expired"), Some("job:request_slas")));
    assert!(last["comment"].as_str().unwrap().contains("30 days"));
    assert!(
        mail_for(&org.app, &rid).contains(&(format!("request:{rid}:round:1:request:expired"), EMPLOYEE_EMAIL.into()))
    );
    let zero = stackward::config::Settings::from_flags(&["--request-changes-max-days", "0"]).unwrap();
    let e = stackward::scheduler::sla_settings(&zero).unwrap_err();
    assert!(e.contains("STACKWARD_REQUEST_CHANGES_MAX_DAYS"), "{e}");
}

async fn a_role_without_addresses_is_not_mailed_but_still_decides(backend: TestBackend) {
    let org = Org::new(backend).await;
    let text = "[[step]]\nname = \"audit\"\napprover = \"role\"\nrole = \"auditor\"\n";
    put_policy(&org.app, text).await.expect(200);
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 1000, "internal")).await;
    let rid = id(&r);
    assert!(mail_for(&org.app, &rid).is_empty(), "no auditor token has an email");
    let path = format!("/api/v1/requests/{rid}/decisions");
    let r = org.app.call(Some(Role::Auditor), Method::POST, &path, Some(json!({"decision": "approve"}))).await;
    assert_eq!(r.expect(200)["status"], "approved", "it provisions it");
    let task: Vec<(String, String)> =
        mail_for(&org.app, &rid).into_iter().filter(|(k, _)| k.ends_with(":provision_task")).collect();
    assert_eq!(task, [(format!("request:{rid}:provision_task"), IT.to_string())], "without an it step, the it role");
}

async fn a_request_email_is_delivered_over_smtp(backend: TestBackend) {
    let server = SmtpServer::start();
    let url = server.url();
    let org = Org::with(TestApp::with_flags(backend, &["--smtp-url", &url]).await).await;
    let r = org.submit(&org.erin, tool("Miro", "https://miro.com", 120_000, "internal")).await;
    let sent = stackward::scheduler::run_job(
        &org.app.ctx,
        stackward::scheduler::JobKind::Outbox,
        chrono::Utc::now().date_naive(),
    );
    assert_eq!(sent.await.unwrap(), "1 emails sent");
    let inbox = server.wait_for(1).await;
    assert_eq!(inbox[0].to, [MANAGER]);
    assert!(inbox[0].subject().contains("waits for your decision (manager)"), "{}", inbox[0].subject());
    let text = crate::mail::body(&inbox[0]);
    for needle in
        [EMPLOYEE_EMAIL, "run our workshops", "USD 1,200.00/yr", &format!("http://stackward.test/requests/{}", id(&r))]
    {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

async fn the_cli_lists_shows_and_decides_as_a_person(backend: TestBackend) {
    let org = Org::new(backend).await;
    let rid = id(&org.submit(&org.erin, tool("Miro", "https://miro.com", 1000, "internal")).await);
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_stackward"))
            .args(["--database-url", &org.app.db.url])
            .args(args)
            .env("STACKWARD_LOG", "warn")
            .env("USER", "ops")
            .output()
            .expect("run stackward");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, out, err) = cli(&["requests", "list", "--status", "pending"]);
    assert!(ok, "{err}");
    assert!(out.contains("Miro") && out.contains(&format!("manager: person:{MANAGER}")), "{out}");
    let (ok, out, _) = cli(&["requests", "list", "--format", "json"]);
    assert!(ok);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap()[0]["id"], rid);
    let (ok, _, err) = cli(&["requests", "decide", &rid, "--decision", "approve", "--as", OTHER]);
    assert!(!ok && err.contains("not an approver"), "{err}");
    let (ok, _, err) = cli(&["requests", "decide", &rid, "--decision", "approve", "--comment", "ok", "--as", MANAGER]);
    assert!(ok, "{err}");
    assert!(err.contains("waiting for the it step"), "{err}");
    let (ok, out, _) = cli(&["requests", "show", &rid]);
    assert!(ok);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["steps"][0]["decided_by"], format!("cli:ops as {MANAGER}"));
}
