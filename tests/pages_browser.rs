//! The pages in a real browser (Chromium through ChromeDriver), each person signing in through
//! a real OpenID provider process: an employee's request from the form (advice first) through
//! the manager's and IT's approval, findings triage, a run with JavaScript off, and axe-core's
//! accessibility check on every main page of the demo's company (which also takes the README's
//! screenshots when STACKWARD_SCREENSHOTS names a folder).

use crate::browser;
use crate::requests::{Org, IT, MANAGER};
use crate::signin_browser::app_with;
use crate::support::browser::Browser;
use crate::support::oidc::Provider;
use crate::support::{Test, TestApp, TestBackend, EMPLOYEE_EMAIL};
use serde_json::json;

pub fn tests() -> Vec<Test> {
    vec![
        browser!(a_request_goes_from_the_form_through_manager_and_it_approval),
        browser!(findings_are_acknowledged_dismissed_snoozed_and_reclaimed),
        browser!(with_javascript_off_links_navigate_and_forms_submit),
        browser!(the_main_pages_have_no_serious_accessibility_violation),
    ]
}

/// Signs the browser out, and the provider in as `email` of `groups` for the next visit.
async fn switch_to(b: &Browser, provider: &mut Provider, email: &str, groups: &[&str]) {
    b.click("Sign out").await;
    assert!(b.text().await.contains("You are signed out"));
    provider.sign_in_as(email, groups);
}

async fn a_request_goes_from_the_form_through_manager_and_it_approval() {
    let mut provider = Provider::start(EMPLOYEE_EMAIL, &["everyone"]);
    let org = Org::with(app_with(&provider).await).await;
    let app = &org.app;
    let miro = app.post("/api/v1/apps", json!({"name": "Miro", "category": "whiteboard"})).await.expect(201);
    app.subscription(miro["id"].as_str().unwrap(), 40, 1000).await;
    let b = Browser::open(true).await;

    // Erin asks for a whiteboard tool: the form answers with the one we have before sending.
    b.goto(&format!("{}/requests/new", app.base)).await;
    assert_eq!(b.url().await.path(), "/requests/new", "signed in and back on the form");
    for (id, value) in
        [("name", "Mural"), ("purpose", "Workshops with clients"), ("seats", "3"), ("annual_cost", "360")]
    {
        b.fill(id, value).await;
    }
    b.click("Submit request").await;
    let text = b.text().await;
    assert!(text.contains("We may already have this") && text.contains("Ask for seats of Miro instead"), "{text}");
    assert_eq!(app.get("/api/v1/requests").await.expect(200)["items"].as_array().unwrap().len(), 0, "advice first");
    b.fill("advice_response", "Clients already use Mural boards").await;
    b.click("Submit request anyway").await;
    let url = b.url().await;
    let id = url.path().strip_prefix("/requests/").expect("on the request's page").to_string();
    let text = b.text().await;
    assert!(text.contains("Mural") && text.contains("USD 360.00") && !text.contains("Approve"), "{text}");

    // Mia, her manager, signs in from the request's link and approves with a comment.
    switch_to(&b, &mut provider, MANAGER, &[]).await;
    b.goto(&format!("{}/requests/{id}", app.base)).await;
    b.fill("comment", "Fine for the client work").await;
    b.click("Approve").await;
    assert!(b.text().await.contains("Fine for the client work"));

    // Ian from IT finds it waiting on his dashboard and approves it.
    switch_to(&b, &mut provider, IT, &["it-team"]).await;
    b.goto(&app.base).await;
    b.click_at(&format!("//main//a[@href='/requests/{id}']")).await;
    assert_eq!(b.url().await.path(), format!("/requests/{id}"));
    b.click("Approve").await;
    let text = b.text().await;
    assert!(text.contains("Complete provisioning") && !text.contains("Your decision"), "{text}");

    // Then he buys it and records the contract as signed.
    b.fill("p-price", "12000").await;
    b.fill("p-notice", "60").await;
    b.click("Complete provisioning").await;
    let text = b.text().await;
    assert!(text.contains("done") && !text.contains("Complete provisioning"), "{text}");
    let r = app.get(&format!("/api/v1/requests/{id}")).await.expect(200);
    assert_eq!((r["status"].as_str(), r["outcome"]["action"].as_str()), (Some("done"), Some("app_created")), "{r}");
    let sub = app.get(&format!("/api/v1/subscriptions/{}", r["subscription_id"].as_str().unwrap())).await;
    let sub = sub.expect(200);
    assert_eq!((sub["unit_price_cents"].as_i64(), sub["notice_days"].as_i64()), (Some(12_000), Some(60)), "{sub}");
    let decided: Vec<&str> = r["steps"].as_array().unwrap().iter().filter_map(|s| s["decided_by"].as_str()).collect();
    assert_eq!(decided, [format!("user:{MANAGER}"), format!("user:{IT}")], "{r}");
    b.close().await;
}

/// The id of `app`'s one finding of `kind`.
async fn finding_of(app: &TestApp, app_id: &str, kind: &str) -> String {
    let listed = app.get(&format!("/api/v1/findings?app_id={app_id}&kind={kind}")).await.expect(200);
    listed["items"][0]["id"].as_str().unwrap_or_else(|| panic!("no {kind} finding: {listed}")).to_string()
}

/// The button `text` of finding `id`'s card.
fn button_of(id: &str, text: &str) -> String {
    format!("//article[@aria-label='Finding {id}']//button[normalize-space(.)='{text}']")
}

async fn findings_are_acknowledged_dismissed_snoozed_and_reclaimed() {
    let provider = Provider::start(IT, &["it-team"]);
    let app = app_with(&provider).await;
    let slack = crate::pages::slack_with_idle_seats(&app).await;
    let idle = finding_of(&app, &slack, "inactive_seat").await;
    let unassigned = finding_of(&app, &slack, "unassigned_seats").await;
    let status = |id: String| {
        let app = &app;
        async move { app.get(&format!("/api/v1/findings/{id}")).await.expect(200) }
    };
    let b = Browser::open(true).await;
    let page = format!("{}/findings?app={slack}&status=all", app.base);
    b.goto(&page).await;

    b.click_at(&button_of(&idle, "Acknowledge")).await;
    assert_eq!(status(idle.clone()).await["status"], "acknowledged");
    assert_eq!(b.url().await.query(), Some(format!("app={slack}&status=all").as_str()), "back on the same list");

    b.click_at(&button_of(&idle, "Reclaim these seats")).await;
    let text = b.text().await;
    assert!(b.url().await.path().starts_with("/requests/") && text.contains("reclaim request"), "{text}");

    // Snooze and dismiss sit behind a disclosure; the fields are visible once it is open.
    b.goto(&page).await;
    let open = |id: &str| format!("//article[@aria-label='Finding {id}']//summary");
    b.client.find(fantoccini::Locator::XPath(&open(&unassigned))).await.unwrap().click().await.unwrap();
    b.set_value(&format!("until-{unassigned}"), "2099-01-01").await;
    b.click_at(&button_of(&unassigned, "Snooze")).await;
    let f = status(unassigned.clone()).await;
    assert_eq!((f["status"].as_str(), f["snoozed_until"].as_str()), (Some("snoozed"), Some("2099-01-01")));

    b.client.find(fantoccini::Locator::XPath(&open(&idle))).await.unwrap().click().await.unwrap();
    b.fill(&format!("reason-{idle}"), "shared service accounts").await;
    b.click_at(&button_of(&idle, "Dismiss")).await;
    let f = status(idle.clone()).await;
    assert_eq!(
        (f["status"].as_str(), f["dismiss_reason"].as_str()),
        (Some("dismissed"), Some("shared service accounts"))
    );
    assert!(b.text().await.contains("dismissed: shared service accounts"));

    // The default view lists only what is still to act on.
    b.goto(&format!("{}/findings?app={slack}", app.base)).await;
    let text = b.text().await;
    assert!(text.contains("No finding") || !text.contains("shared service accounts"), "{text}");
    b.close().await;
}

async fn with_javascript_off_links_navigate_and_forms_submit() {
    let provider = Provider::start(EMPLOYEE_EMAIL, &[]);
    let app = app_with(&provider).await;
    let b = Browser::open(false).await;
    // Scripts really are off in this browser: the page's script would rewrite the text.
    b.goto("data:text/html,<p id=x>scripts off</p><script>document.getElementById('x').textContent='on'</script>")
        .await;
    assert_eq!(b.text().await.trim(), "scripts off");

    b.goto(&app.base).await;
    assert_eq!(b.url().await.path(), "/", "signed in through the provider without scripts");
    b.click("Request a tool").await;
    assert_eq!(b.url().await.path(), "/requests/new");
    for (id, value) in [("name", "Figma"), ("purpose", "Design reviews"), ("seats", "2"), ("annual_cost", "240")] {
        b.fill(id, value).await;
    }
    b.click("Submit request").await;
    assert!(b.url().await.path().starts_with("/requests/"), "{}", b.url().await);
    assert!(b.text().await.contains("Figma"));
    b.click("Withdraw this request").await;
    assert!(b.text().await.contains("cancelled"), "{}", b.text().await);
    let listed = app.get("/api/v1/requests").await.expect(200);
    assert_eq!(listed["items"][0]["status"], "cancelled", "{listed}");
    b.click_at("//nav//a[normalize-space(.)='Requests']").await;
    assert_eq!(b.url().await.path(), "/requests");
    b.close().await;
}

/// Signs the browser in as the demo persona of `role` through a printed one-time link.
async fn sign_in_by_link(b: &Browser, app: &TestApp, email: &str, next: &str) {
    let mut c = app.db.db.get().unwrap();
    let token = stackward::auth::links::create(&mut c, email, Some(next), false).unwrap();
    b.goto(&format!("{}/auth/link/{token}", app.base)).await;
    assert_eq!(b.url().await.path(), next);
}

async fn the_main_pages_have_no_serious_accessibility_violation() {
    let app = TestApp::at_own_address(TestBackend::Sqlite, &[]).await;
    let _fakes = stackward::cli::seed_demo(&app.ctx).await.expect("the demo's company");
    let admin = stackward::cli::DEMO_PERSONAS[0].email;
    {
        let mut c = app.db.db.get().unwrap();
        let ops = stackward::audit::Actor("test".into());
        stackward::auth::users::grant(&mut c, &ops, admin, stackward::auth::Role::Admin).unwrap();
    }
    let apps = app.get("/api/v1/apps?q=slack").await.expect(200);
    let slack = apps["items"][0]["id"].as_str().expect("the demo has Slack").to_string();
    let requests = app.get("/api/v1/requests?status=pending").await.expect(200);
    let request = requests["items"][0]["id"].as_str().expect("the demo has pending requests").to_string();
    let b = Browser::open(true).await;
    // The check can fail: a field without a label is a critical violation.
    b.goto("data:text/html,<!doctype html><html lang=en><title>t</title><main><input name=q></main></html>").await;
    let caught = b.accessibility_violations().await;
    assert!(caught.iter().any(|v| v.contains("critical label")), "{caught:?}");
    b.resize(1200, 943).await; // a 1200x800 page under the window's frame
    sign_in_by_link(&b, &app, admin, "/").await;
    let pages = [
        "/".to_string(),
        "/apps".into(),
        format!("/apps/{slack}"),
        "/findings".into(),
        "/requests".into(),
        "/requests/new".into(),
        format!("/requests/{request}"),
        "/renewals".into(),
    ];
    let mut found = Vec::new();
    for path in &pages {
        b.goto(&format!("{}{path}", app.base)).await;
        assert_eq!(b.url().await.path(), path.split('?').next().unwrap());
        found.extend(b.accessibility_violations().await.into_iter().map(|v| format!("{path}: {v}")));
    }
    assert!(found.is_empty(), "serious or critical accessibility violations:\n{}", found.join("\n"));

    if let Some(dir) = std::env::var_os("STACKWARD_SCREENSHOTS") {
        let dir = std::path::PathBuf::from(dir);
        b.goto(&app.base).await;
        b.save_png(&dir.join("dashboard.png")).await;
        b.goto(&format!("{}/requests/{request}", app.base)).await;
        b.save_png(&dir.join("request.png")).await;
    }
    b.close().await;
}
