//! Renewal reminders through a real SMTP server on loopback: the right people and figures,
//! nothing lost while the server is down, nothing sent twice by reruns or by two processes.

use crate::support::smtp::{self, Received, SmtpServer};
use crate::support::{Test, TestApp, TestBackend};
use crate::{once, per_backend};
use chrono::{Days, NaiveDate, Utc};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;
use stackward::auth::Role;
use stackward::db::schema::{outbox, renewal_reminders};
use stackward::scheduler::{self, leases, JobKind};
use std::collections::BTreeSet;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_due_reminder_reaches_owners_and_finance_once),
        per_backend!(with_smtp_down_nothing_is_lost_and_it_arrives_when_back),
        per_backend!(two_processes_send_each_reminder_exactly_once),
        per_backend!(a_stage_missed_while_down_is_sent_once_late),
        per_backend!(a_recorded_renewal_rearms_and_an_earlier_date_is_caught_up),
        per_backend!(no_action_needed_is_quiet_and_owners_get_one_digest_a_week),
        per_backend!(test_mail_reports_what_the_server_said),
        per_backend!(the_scheduler_runs_jobs_under_a_lease),
        once!(bad_schedules_are_refused_at_start),
        per_backend!(a_refused_recipient_fails_for_good_and_the_cli_shows_and_retries_it),
        per_backend!(outbox_retry_sends_waiting_mail_now_and_idle_commands_say_nothing_to_send),
    ]
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn plus(d: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        d + Days::new(days as u64)
    } else {
        d - Days::new((-days) as u64)
    }
}

/// Undoes quoted-printable soft breaks and `=3D`, enough to read bodies lettre encoded.
pub fn body(m: &Received) -> String {
    m.data.replace("=\r\n", "").replace("=3D", "=").replace("\r\n", "\n")
}

/// An app with owners and an auto-renewing subscription whose notice deadline is
/// `deadline_in` days from today (30 days' notice), 10 seats at USD 15 a month, 4 in use.
pub async fn seed(app: &TestApp, name: &str, deadline_in: i64) -> (String, String) {
    let created = app
        .post(
            "/api/v1/apps",
            json!({"name": name, "owner_email": "owner@example.com", "billing_owner_email": "billing@example.com"}),
        )
        .await
        .expect(201);
    let app_id = created["id"].as_str().unwrap().to_string();
    let term_end = plus(today(), deadline_in + 30 - 1);
    let sub = app
        .post(
            "/api/v1/subscriptions",
            json!({"app_id": app_id, "plan": "Business", "seats_purchased": 10,
            "unit_price_cents": 1500, "currency": "USD", "billing_frequency": "monthly", "renewal_type": "auto",
            "term_start": plus(today(), -300).to_string(), "term_end": term_end.to_string(), "notice_days": 30,
            "owner_email": "contract@example.com"}),
        )
        .await
        .expect(201);
    let sub_id = sub["id"].as_str().unwrap().to_string();
    for i in 0..5 {
        let status = if i == 4 { "removed" } else { "active" };
        let email = format!("{}{i}@example.com", name.to_lowercase().replace(' ', ""));
        app.post(
            "/api/v1/accounts",
            json!({"app_id": app_id, "subscription_id": sub_id, "email": email, "status": status}),
        )
        .await
        .expect(201);
    }
    (app_id, sub_id)
}

async fn remind(app: &TestApp, day: NaiveDate) -> String {
    scheduler::run_job(&app.ctx, JobKind::RenewalReminders, day).await.expect("reminder job runs")
}

fn reminder_rows(app: &TestApp) -> Vec<(i32, String)> {
    let mut conn = app.db.db.get().unwrap();
    renewal_reminders::table
        .order(renewal_reminders::stage_days.desc())
        .select((renewal_reminders::stage_days, renewal_reminders::outcome))
        .load(&mut *conn)
        .unwrap()
}

async fn a_due_reminder_reaches_owners_and_finance_once(backend: TestBackend) {
    let server = SmtpServer::start();
    let url = server.url();
    let app = TestApp::with_flags(
        backend,
        &[
            "--smtp-url",
            &url,
            "--finance-emails",
            "fin@example.com, AP@Example.com",
            "--mail-from",
            "stackward <noreply@example.com>",
        ],
    )
    .await;
    let (_, sub_id) = seed(&app, "Zoom", 30).await;

    assert_eq!(remind(&app, today()).await, "1 reminders queued, 1 emails sent");
    let inbox = server.wait_for(1).await;
    assert_eq!(inbox.len(), 1);
    let m = &inbox[0];
    let to: BTreeSet<&str> = m.to.iter().map(String::as_str).collect();
    let want: BTreeSet<&str> =
        ["contract@example.com", "owner@example.com", "billing@example.com", "fin@example.com", "ap@example.com"]
            .into();
    assert_eq!(to, want);
    assert_eq!(m.from, "noreply@example.com");
    let deadline = plus(today(), 30);
    assert!(m.subject().contains("Zoom Business") && m.subject().contains(&deadline.to_string()), "{}", m.subject());
    let text = body(m);
    for needle in [
        "4 held of 10 (40%)",
        "USD 1,800.00/yr",
        "right-size to 4 seats",
        "30-day reminder",
        &format!("http://stackward.test/renewals#subscription-{sub_id}"),
        "Content-Type: text/html",
        "Message-ID: <",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(!text.contains("sent late"));

    assert_eq!(remind(&app, today()).await, "0 reminders queued, 0 emails sent", "a second pass sends nothing");
    assert_eq!(server.messages().len(), 1);
    let sent = app.call(Some(Role::It), Method::GET, "/api/v1/outbox?status=sent", None).await.expect(200);
    assert_eq!(sent["items"].as_array().unwrap().len(), 1);
    assert_eq!(sent["items"][0]["kind"], "renewal_reminder");
}

async fn with_smtp_down_nothing_is_lost_and_it_arrives_when_back(backend: TestBackend) {
    let port = smtp::free_port();
    let url = smtp::url(port);
    let app = TestApp::with_flags(backend, &["--smtp-url", &url]).await;
    seed(&app, "Figma", 7).await;

    assert_eq!(remind(&app, today()).await, "1 reminders queued, 0 emails sent");
    let pending = app.get("/api/v1/outbox?status=pending").await.expect(200);
    let row = &pending["items"][0];
    assert_eq!(row["attempts"], 1);
    assert!(row["last_error"].as_str().unwrap().contains("cannot reach the SMTP server"), "{row}");

    let server = SmtpServer::start_on(port);
    assert_eq!(scheduler::deliver(&app.ctx).await.unwrap(), 0, "the retry waits out its backoff");
    {
        // Let the backoff pass.
        let mut conn = app.db.db.get().unwrap();
        let past = stackward::time::now() - chrono::Duration::seconds(1);
        diesel::update(outbox::table).set(outbox::next_attempt_at.eq(past)).execute(&mut *conn).unwrap();
    }
    assert_eq!(scheduler::deliver(&app.ctx).await.unwrap(), 1);
    assert_eq!(server.wait_for(1).await.len(), 1);
    assert_eq!(remind(&app, today()).await, "0 reminders queued, 0 emails sent");
    assert_eq!(server.messages().len(), 1, "delivered once, after the server came back");
}

async fn two_processes_send_each_reminder_exactly_once(backend: TestBackend) {
    let server = SmtpServer::start();
    let app = TestApp::new(backend).await;
    let names = ["Slack", "Notion", "Miro", "Asana", "Loom", "Canva"];
    for (i, n) in names.iter().enumerate() {
        seed(&app, n, 5 + i as i64 * 10).await;
    }
    let run = |dry: bool| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_stackward"));
        cmd.arg("remind").arg("--today").arg(today().to_string());
        if dry {
            cmd.arg("--dry-run");
        }
        cmd.env("STACKWARD_DATABASE_URL", &app.db.url)
            .env("STACKWARD_SMTP_URL", server.url())
            .env("STACKWARD_LOG", "warn")
            .env("STACKWARD_PUBLIC_URL", "http://stackward.test");
        cmd.output()
    };
    let dry = run(true).await.unwrap();
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert_eq!(out.lines().filter(|l| l.starts_with("would remind")).count(), names.len(), "{out}");
    assert_eq!(
        app.get("/api/v1/outbox").await.expect(200)["items"].as_array().unwrap().len(),
        0,
        "a dry run writes nothing"
    );

    let (a, b) = tokio::join!(run(false), run(false));
    for o in [&a, &b] {
        let o = o.as_ref().unwrap();
        assert!(o.status.success(), "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    }
    let printed: usize = [&a, &b]
        .iter()
        .map(|o| {
            String::from_utf8_lossy(&o.as_ref().unwrap().stdout).lines().filter(|l| l.starts_with("sent:")).count()
        })
        .sum();
    let inbox = server.wait_for(names.len()).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let subjects: BTreeSet<String> = server.messages().iter().map(Received::subject).collect();
    assert_eq!(server.messages().len(), names.len(), "each reminder exactly once: {subjects:?}");
    assert_eq!(subjects.len(), names.len());
    assert_eq!(printed, names.len(), "between them the two processes report each send once");
    assert_eq!(inbox.len(), names.len());
}

async fn a_stage_missed_while_down_is_sent_once_late(backend: TestBackend) {
    let server = SmtpServer::start();
    let url = server.url();
    let app = TestApp::with_flags(backend, &["--smtp-url", &url]).await;
    seed(&app, "Dropbox", 20).await;
    // The 90-, 60- and 30-day stages all fell while the service was down.
    assert_eq!(remind(&app, today()).await, "1 reminders queued, 1 emails sent");
    let m = &server.wait_for(1).await[0];
    assert!(body(m).contains("30-day reminder, sent late"), "{}", body(m));
    assert_eq!(reminder_rows(&app), vec![(90, "superseded".into()), (60, "superseded".into()), (30, "sent".into())]);
    remind(&app, today()).await;
    remind(&app, plus(today(), 1)).await;
    assert_eq!(server.messages().len(), 1, "not repeated");
    assert_eq!(remind(&app, plus(today(), 13)).await, "1 reminders queued, 1 emails sent", "the 7-day stage");
    let inbox = server.wait_for(2).await;
    assert!(inbox[1].subject().contains("7 days"), "{}", inbox[1].subject());
    assert!(!body(&inbox[1]).contains("sent late"));
    assert_eq!(
        remind(&app, plus(today(), 21)).await,
        "0 reminders queued, 0 emails sent",
        "nothing after the deadline"
    );
}

async fn a_recorded_renewal_rearms_and_an_earlier_date_is_caught_up(backend: TestBackend) {
    let server = SmtpServer::start();
    let url = server.url();
    let app = TestApp::with_flags(backend, &["--smtp-url", &url]).await;
    let (_, sub_id) = seed(&app, "Atlassian", 5).await;
    remind(&app, today()).await;
    assert_eq!(server.wait_for(1).await.len(), 1);

    let old_end = plus(today(), 5 + 30 - 1);
    let new_end = plus(old_end, 365);
    let renewed = app
        .post(&format!("/api/v1/subscriptions/{sub_id}/renewals"), json!({"term_end": new_end.to_string()}))
        .await
        .expect(200);
    assert_eq!(renewed["term_number"], 2);
    assert_eq!(remind(&app, today()).await, "0 reminders queued, 0 emails sent", "the new deadline is far off");
    let new_deadline = plus(new_end, 1 - 30);
    assert_eq!(
        remind(&app, plus(new_deadline, -90)).await,
        "1 reminders queued, 1 emails sent",
        "re-armed for the new term"
    );
    assert_eq!(server.wait_for(2).await.len(), 2);

    let earlier = plus(today(), 25 + 30 - 1);
    app.patch(&format!("/api/v1/subscriptions/{sub_id}"), json!({"term_end": earlier.to_string()})).await.expect(200);
    assert_eq!(remind(&app, today()).await, "1 reminders queued, 1 emails sent", "a date moved earlier is caught up");
    let inbox = server.wait_for(3).await;
    assert!(inbox[2].subject().contains(&plus(today(), 25).to_string()), "{}", inbox[2].subject());
}

async fn no_action_needed_is_quiet_and_owners_get_one_digest_a_week(backend: TestBackend) {
    let server = SmtpServer::start();
    let url = server.url();
    let app = TestApp::with_flags(backend, &["--smtp-url", &url]).await;
    let (_, quiet) = seed(&app, "Zendesk", 6).await;
    app.patch(&format!("/api/v1/subscriptions/{quiet}"), json!({"no_action_needed": true})).await.expect(200);
    let (_, custom) = seed(&app, "HubSpot", 20).await;
    seed(&app, "Gong", 200).await;
    let r = app.patch(&format!("/api/v1/subscriptions/{custom}"), json!({"reminder_days": "14, 3"})).await.expect(200);
    assert_eq!(r["reminder_days"], "14,3");
    app.patch(&format!("/api/v1/subscriptions/{custom}"), json!({"reminder_days": "14,x"})).await.expect_error(
        400,
        "invalid",
        Some("reminder_days"),
    );
    assert_eq!(remind(&app, today()).await, "0 reminders queued, 0 emails sent");
    assert_eq!(remind(&app, plus(today(), 6)).await, "1 reminders queued, 1 emails sent", "HubSpot's own 14-day stage");

    let first = scheduler::run_job(&app.ctx, JobKind::OwnerDigest, today()).await.unwrap();
    assert_eq!(first, "1 digests queued, 1 emails sent");
    let again = scheduler::run_job(&app.ctx, JobKind::OwnerDigest, today()).await.unwrap();
    assert_eq!(again, "0 digests queued, 0 emails sent", "one digest per owner per week");
    let inbox = server.wait_for(2).await;
    let digest = inbox.iter().find(|m| m.subject().starts_with("stackward weekly")).expect("digest");
    assert_eq!(digest.to, vec!["owner@example.com".to_string()]);
    let text = body(digest);
    assert!(text.contains("Zendesk: 4 seats in use of 10 bought") && text.contains("HubSpot"), "{text}");
    assert!(text.contains("Gong: 4 seats in use of 10 bought"), "apps renewing later show their seats too: {text}");
    for link in ["http://stackward.test/findings?app=", "http://stackward.test/renewals"] {
        assert!(text.contains(link), "the digest links to the pages where the owner acts: {link} in {text}");
    }
    assert!(!text.contains("/api/v1/"), "mail links to pages, never to an action: {text}");
    assert!(
        !text.contains("Gong Business: notice deadline"),
        "but only the next 90 days' deadlines are listed: {text}"
    );
}

async fn test_mail_reports_what_the_server_said(backend: TestBackend) {
    let server = SmtpServer::start();
    let url = server.url();
    let app = TestApp::with_flags(backend, &["--smtp-url", &url]).await;
    let r = app.post("/api/v1/mail/test", json!({"to": "Ops@Example.com"})).await.expect(200);
    assert_eq!(r["status"], "sent");
    let inbox = server.wait_for(1).await;
    assert_eq!(inbox[0].to, vec!["ops@example.com".to_string()]);
    assert_eq!(inbox[0].subject(), "stackward test email");
    app.post("/api/v1/mail/test", json!({"to": "nobody"})).await.expect_error(400, "invalid", Some("to"));

    let unconfigured = TestApp::new(backend).await;
    let r = unconfigured.post("/api/v1/mail/test", json!({"to": "ops@example.com"})).await;
    let body = r.expect_error(503, "unavailable", None);
    assert!(body["error"]["message"].as_str().unwrap().contains("STACKWARD_SMTP_URL"));

    let down = smtp::url(smtp::free_port());
    let broken = TestApp::with_flags(backend, &["--smtp-url", &down]).await;
    let r = broken.post("/api/v1/mail/test", json!({"to": "ops@example.com"})).await.expect(200);
    assert_eq!(r["status"], "failed");
    assert!(r["error"].as_str().unwrap().contains("is it running?"), "{r}");
}

async fn the_scheduler_runs_jobs_under_a_lease(backend: TestBackend) {
    let server = SmtpServer::start();
    let url = server.url();
    let app = TestApp::with_flags(
        backend,
        &["--smtp-url", &url, "--cron-outbox", "* * * * * *", "--cron-reminders", "", "--cron-digest", ""],
    )
    .await;
    {
        let mut conn = app.db.db.get().unwrap();
        let c = &mut *conn;
        leases::ensure(c, "probe", "* * * * * *", None).unwrap();
        let lease = chrono::Duration::minutes(5);
        assert!(leases::try_start(c, "probe", "p1", "a", lease).unwrap());
        assert!(!leases::try_start(c, "probe", "p1", "b", lease).unwrap(), "one run per period");
        assert!(!leases::try_start(c, "probe", "p2", "b", lease).unwrap(), "not while a lease is live");
        leases::finish(c, "probe", "a", None, 5, None).unwrap();
        assert!(leases::try_start(c, "probe", "p2", "b", lease).unwrap());
        assert!(!leases::try_start(c, "probe", "p2", "a", lease).unwrap());
    }
    seed(&app, "Salesforce", 7).await;
    scheduler::remind(&app.ctx, today(), false).await.unwrap();
    let mut sched = scheduler::start(app.ctx.clone()).await.expect("scheduler starts");
    assert!(app.ctx.heartbeat.age_secs().is_some_and(|a| a <= 1));
    assert_eq!(server.wait_for(1).await.len(), 1, "the outbox job delivered the queued reminder");
    let mut jobs = serde_json::Value::Null;
    for _ in 0..50 {
        jobs = app.call(Some(Role::Auditor), Method::GET, "/api/v1/jobs", None).await.expect(200);
        if jobs.as_array().unwrap().iter().any(|j| j["name"] == "outbox" && j["last_outcome"] == "ok") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let outbox_job =
        jobs.as_array().unwrap().iter().find(|j| j["name"] == "outbox").expect("outbox job listed").clone();
    assert_eq!(outbox_job["last_outcome"], "ok", "{jobs}");
    assert_eq!(outbox_job["schedule"], "* * * * * *");
    assert!(outbox_job["next_run_at"].is_string() && outbox_job["last_duration_ms"].is_number());
    assert!(!jobs.as_array().unwrap().iter().any(|j| j["name"] == "renewal_reminders"), "blank schedules disable jobs");
    sched.shutdown().await.unwrap();
}

async fn bad_schedules_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stackward"))
        .current_dir(dir.path())
        .args(["serve", "--cron-outbox", "every minute"])
        .env("STACKWARD_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("STACKWARD_CRON_OUTBOX"), "{err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stackward"))
        .current_dir(dir.path())
        .args(["serve", "--reminder-days", "90,0"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("STACKWARD_REMINDER_DAYS"));
}

async fn a_refused_recipient_fails_for_good_and_the_cli_shows_and_retries_it(backend: TestBackend) {
    let server = SmtpServer::start();
    let url = server.url();
    let app = TestApp::with_flags(backend, &["--smtp-url", &url, "--finance-emails", "reject-me@example.com"]).await;
    let (app_id, sub_id) = seed(&app, "Box", 7).await;
    app.patch(&format!("/api/v1/apps/{app_id}"), json!({"owner_email": null, "billing_owner_email": null}))
        .await
        .expect(200);
    app.patch(&format!("/api/v1/subscriptions/{sub_id}"), json!({"owner_email": null})).await.expect(200);
    assert_eq!(remind(&app, today()).await, "1 reminders queued, 0 emails sent");
    let failed = app.get("/api/v1/outbox?status=failed").await.expect(200);
    let row = &failed["items"][0];
    assert_eq!(row["attempts"], 1, "a permanent refusal is not retried on its own: {row}");
    assert!(row["last_error"].as_str().unwrap().starts_with("550: the server refused a recipient"), "{row}");

    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_stackward"))
            .args(args)
            .env("STACKWARD_DATABASE_URL", &app.db.url)
            .env("STACKWARD_SMTP_URL", &url)
            .env("STACKWARD_LOG", "warn")
            .output()
            .unwrap()
    };
    let shown = cli(&["outbox"]);
    let out = String::from_utf8_lossy(&shown.stdout);
    assert!(out.contains("failed") && out.contains("reject-me@example.com") && out.contains("550:"), "{out}");
    let retried = cli(&["outbox", "--retry"]);
    assert!(!retried.status.success(), "a retry that fails again says so");
    assert!(String::from_utf8_lossy(&retried.stderr).contains("1 failed emails queued again"));
    let after = app.get("/api/v1/outbox?status=failed").await.expect(200);
    assert_eq!(after["items"][0]["attempts"], 1, "queued again from zero, refused again");
    assert!(server.messages().is_empty());
}

async fn outbox_retry_sends_waiting_mail_now_and_idle_commands_say_nothing_to_send(backend: TestBackend) {
    let port = smtp::free_port();
    let url = smtp::url(port);
    let app = TestApp::with_flags(backend, &["--smtp-url", &url]).await;
    seed(&app, "Figma", 7).await;
    assert_eq!(remind(&app, today()).await, "1 reminders queued, 0 emails sent", "SMTP is down");
    let server = SmtpServer::start_on(port);
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_stackward"))
            .args(args)
            .env("STACKWARD_DATABASE_URL", &app.db.url)
            .env("STACKWARD_SMTP_URL", &url)
            .env("STACKWARD_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (out, err) = cli(&["outbox", "--retry"]);
    assert!(out.contains("sent: ") && out.contains("Figma"), "the backoff is ignored on --retry: {out}");
    assert!(err.contains("1 waiting on a backoff made due now"), "{err}");
    assert_eq!(server.wait_for(1).await.len(), 1);

    let (out, _) = cli(&["outbox"]);
    assert!(out.starts_with("nothing to send"), "{out}");
    let (out, _) = cli(&["outbox", "--retry"]);
    assert!(out.contains("nothing to send"), "{out}");
    let (out, _) = cli(&["remind", "--today", &today().to_string()]);
    assert!(out.contains("nothing to send"), "{out}");
    let (out, _) = cli(&["remind", "--dry-run", "--today", &today().to_string()]);
    assert!(out.contains("nothing to send"), "{out}");
    assert_eq!(server.messages().len(), 1);
}
