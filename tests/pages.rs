//! The HTML pages through HTTP: a signed-out visit goes to sign-in and back, each role sees
//! only what it may (403 page otherwise), empty states, pagination, and the forms — a request
//! from the form through its approvals, findings triage, the CSRF token every form needs.

use crate::per_backend;
use crate::requests::{Org, IT, MANAGER};
use crate::support::{Test, TestApp, TestBackend, EMPLOYEE_EMAIL};
use reqwest::redirect::Policy;
use serde_json::json;
use stackward::auth::Role;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_signed_out_visit_goes_to_sign_in_and_back),
        per_backend!(every_page_renders_with_its_empty_state),
        per_backend!(an_employee_sees_only_their_own_and_gets_403_pages),
        per_backend!(apps_filter_search_and_paginate),
        per_backend!(a_request_goes_from_the_form_through_manager_and_it_in_the_pages),
        per_backend!(the_form_shows_advice_before_sending_and_offers_seats_instead),
        per_backend!(findings_are_grouped_and_triaged_from_the_page),
        per_backend!(a_form_without_its_csrf_token_is_refused),
        per_backend!(renewals_show_by_month_and_take_the_owners_decision),
    ]
}

/// A page visitor signed in as one person with one role.
pub struct Visitor {
    base: String,
    origin: String,
    client: reqwest::Client,
    /// (header, value): the session cookie.
    auth: (&'static str, String),
}

/// A page as answered.
pub struct Page {
    pub status: u16,
    pub html: String,
    pub location: Option<String>,
}

impl Page {
    /// The CSRF token the page's forms carry.
    pub fn csrf(&self) -> String {
        let at = self.html.find("name=\"csrf_token\" value=\"").expect("a form with a CSRF token");
        let rest = &self.html[at + "name=\"csrf_token\" value=\"".len()..];
        rest[..rest.find('"').unwrap_or(0)].to_string()
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "unexpected status; page:\n{}", self.html);
        self
    }

    #[track_caller]
    pub fn has(&self, text: &str) -> &Self {
        assert!(self.html.contains(text), "missing {text:?} in page:\n{}", self.html);
        self
    }

    #[track_caller]
    pub fn lacks(&self, text: &str) -> &Self {
        assert!(!self.html.contains(text), "unexpected {text:?} in page:\n{}", self.html);
        self
    }
}

impl Visitor {
    /// Signs in as `email` holding `role`.
    pub fn new(app: &TestApp, role: Role, email: &str) -> Self {
        let session = app.sign_in(email, &[role]);
        let client = reqwest::Client::builder().redirect(Policy::none()).build().expect("client");
        Visitor {
            base: app.base.clone(),
            origin: app.ctx.settings.public_url(),
            client,
            auth: ("cookie", session.cookie),
        }
    }

    async fn page(req: reqwest::RequestBuilder) -> Page {
        let resp = req.send().await.expect("the page answers");
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_string);
        let html = resp.text().await.expect("body");
        Page { status, html, location }
    }

    /// GET a page.
    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.client.get(format!("{}{path}", self.base)).header(self.auth.0, &self.auth.1)).await
    }

    /// POST a form as the browser would (with the page's CSRF token when `csrf` is given).
    pub async fn post(&self, path: &str, csrf: Option<&str>, fields: &[(&str, &str)]) -> Page {
        let mut pairs: Vec<(&str, &str)> = fields.to_vec();
        if let Some(t) = csrf {
            pairs.push(("csrf_token", t));
        }
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(self.auth.0, &self.auth.1)
            .header("origin", &self.origin)
            .form(&pairs);
        Self::page(req).await
    }
}

async fn a_signed_out_visit_goes_to_sign_in_and_back(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    for path in ["/", "/apps?q=zo", "/findings", "/requests/new", "/renewals", "/settings"] {
        let resp = client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 303, "{path}");
        let to = resp.headers()["location"].to_str().unwrap().to_string();
        let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        assert_eq!(to, format!("/auth/login?next={next}"), "{path}");
    }
    let css = client.get(format!("{}/static/style.css", app.base)).send().await.unwrap();
    assert_eq!(css.status().as_u16(), 200, "the stylesheet needs no sign-in");
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}

async fn every_page_renders_with_its_empty_state(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let admin = Visitor::new(&app, Role::Admin, "ada@example.com");
    let cases = [
        ("/", "No open findings"),
        ("/", "No connections yet"),
        ("/", "Nothing waits for your decision"),
        ("/apps", "No apps yet"),
        ("/findings", "No findings to act on"),
        ("/requests", "No requests yet"),
        ("/requests/new", "Submit request"),
        ("/renewals", "No notice deadline in the next 365 days"),
        ("/connections", "No connections yet"),
        ("/people", "The directory is empty"),
        ("/audit-log", "<h1>Audit log</h1>"),
        ("/settings", "Approval policy"),
    ];
    for (path, text) in cases {
        let page = admin.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        page.has(text).has("<html lang=\"en\">").has("<main id=\"main\">");
    }
    admin.get("/apps/999").await.expect(404).has("Not found");
    admin.get("/requests/999").await.expect(404);
    admin.get("/apps?status=nonsense").await.expect(400).has("status");
}

async fn an_employee_sees_only_their_own_and_gets_403_pages(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let zoom = app.app("Zoom").await;
    app.subscription(&zoom, 10, 1500).await;
    app.post("/api/v1/people", json!({"email": EMPLOYEE_EMAIL, "name": "Erin"})).await.expect(201);
    app.post("/api/v1/people", json!({"email": "other@example.com", "name": "Otto"})).await.expect(201);
    app.post("/api/v1/accounts", json!({"app_id": zoom, "email": EMPLOYEE_EMAIL})).await.expect(201);
    let erin = Visitor::new(&app, Role::Employee, EMPLOYEE_EMAIL);
    let home = erin.get("/").await.expect(200);
    home.has("My tools").has("Zoom").has("Request a tool").lacks("Waste found").lacks("Annual spend");
    home.lacks("href=\"/findings\"").lacks("href=\"/audit-log\"");
    for path in ["/findings", "/renewals", "/connections", "/audit-log", "/settings"] {
        erin.get(path).await.expect(403).has("your role may not see this page");
    }
    erin.get("/people").await.expect(200).has(EMPLOYEE_EMAIL).lacks("other@example.com");
    let page = erin.get(&format!("/apps/{zoom}")).await.expect(200);
    page.has("Zoom").lacks("Contracts").lacks("People holding seats");
    let finance = Visitor::new(&app, Role::Finance, "fin@example.com");
    finance.get(&format!("/apps/{zoom}")).await.expect(200).has("Contracts").has("USD 15.00").has(EMPLOYEE_EMAIL);
    finance.get("/audit-log").await.expect(403);
    Visitor::new(&app, Role::Auditor, "aud@example.com").get("/audit-log").await.expect(200).has("app.create");
}

async fn apps_filter_search_and_paginate(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    for i in 0..55 {
        app.post(
            "/api/v1/apps",
            json!({"name": format!("Tool {i:02}"), "category": if i % 2 == 0 { "chat" } else { "design" }}),
        )
        .await
        .expect(201);
    }
    let it = Visitor::new(&app, Role::It, "it@example.com");
    let first = it.get("/apps").await.expect(200);
    first.has("Tool 00").has("Tool 49").lacks("Tool 50").has("rel=\"next\"");
    let at = first.html.find("rel=\"next\"").unwrap();
    let href_start = first.html[..at].rfind("href=\"").unwrap() + 6;
    let href = first.html[href_start..].split('"').next().unwrap().replace("&amp;", "&").replace("&#x2f;", "/");
    it.get(&href).await.expect(200).has("Tool 54").lacks("Tool 00");
    let design = it.get("/apps?category=design&q=tool%205").await.expect(200);
    design.has("Tool 51").has("Tool 53").lacks("Tool 50").lacks("Tool 52");
    it.get("/apps?q=nothing-like-this").await.expect(200).has("No app matches these filters");
}

/// The value of `id` after `/requests/` in a redirect.
fn request_id(location: &Option<String>) -> String {
    location.as_deref().and_then(|l| l.strip_prefix("/requests/")).expect("redirect to the request").to_string()
}

async fn a_request_goes_from_the_form_through_manager_and_it_in_the_pages(backend: TestBackend) {
    let org = Org::new(backend).await;
    let erin = Visitor::new(&org.app, Role::Employee, EMPLOYEE_EMAIL);
    let form = erin.get("/requests/new").await.expect(200);
    for label in [
        "<label for=\"name\">Name",
        "<label for=\"purpose\">Purpose",
        "<label for=\"annual_cost\">Cost per year",
        "<label for=\"currency\">Currency",
    ] {
        form.has(label);
    }
    let csrf = form.csrf();
    let fields = [
        ("kind", "new_tool"),
        ("name", "Notion"),
        ("vendor", "Notion Labs"),
        ("website", "https://www.notion.so"),
        ("purpose", "Meeting notes for the team"),
        ("seats", "3"),
        ("annual_cost", "360.00"),
        ("currency", "USD"),
        ("data_class", "internal"),
        ("needed_by", ""),
    ];
    let sent = erin.post("/requests/new", Some(&csrf), &fields).await.expect(303);
    let id = request_id(&sent.location);
    erin.get(&format!("/requests/{id}")).await.expect(200).has("Notion").has("USD 360.00").lacks(">Approve<");

    let mia = Visitor::new(&org.app, Role::Employee, MANAGER);
    mia.get("/").await.expect(200).has("My requests");
    let page = mia.get(&format!("/requests/{id}")).await.expect(200);
    page.has(">Approve<").has(">Reject<").has(">Request changes<").has("<label for=\"comment\">");
    let csrf = page.csrf();
    mia.post(&format!("/requests/{id}/decisions"), Some(&csrf), &[("decision", "approve"), ("comment", "fine")])
        .await
        .expect(303);
    let ian = Visitor::new(&org.app, Role::It, IT);
    ian.get("/?").await.expect(200).has(&format!("/requests/{id}"));
    let page = ian.get(&format!("/requests/{id}")).await.expect(200);
    let csrf = page.csrf();
    ian.post(&format!("/requests/{id}/decisions"), Some(&csrf), &[("decision", "reject")])
        .await
        .expect(400)
        .has("comment");
    ian.post(&format!("/requests/{id}/decisions"), Some(&csrf), &[("decision", "approve")]).await.expect(303);
    erin.get(&format!("/requests/{id}")).await.expect(200).has("badge-approved").lacks("Complete provisioning");
    mia.get(&format!("/requests/{id}")).await.expect(200).lacks("Complete provisioning");
    let page = ian.get(&format!("/requests/{id}")).await.expect(200);
    page.has("Complete provisioning").has("name=\"unit_price_cents\"").has("name=\"notice_days\"");
    let csrf = page.csrf();
    let complete = format!("/requests/{id}/complete");
    ian.post(&complete, None, &[("notice_days", "60")]).await.expect(403);
    ian.post(&complete, Some(&csrf), &[("notice_days", "9999")]).await.expect(400).has("notice_days");
    let sent = [
        ("unit_price_cents", "11000"),
        ("currency", "USD"),
        ("notice_days", "60"),
        ("seats", "3"),
        ("term_start", "2027-01-01"),
        ("term_end", "2027-12-31"),
        ("comment", "signed"),
    ];
    ian.post(&complete, Some(&csrf), &sent).await.expect(303);
    let done = erin.get(&format!("/requests/{id}")).await.expect(200);
    done.has("badge-done").has("approved").has("fine");
    let r = org.app.get(&format!("/api/v1/requests/{id}")).await.expect(200);
    let sub = org.app.get(&format!("/api/v1/subscriptions/{}", r["subscription_id"].as_str().unwrap())).await;
    let sub = sub.expect(200);
    assert_eq!((sub["unit_price_cents"].as_i64(), sub["notice_days"].as_i64()), (Some(11_000), Some(60)));
    let mia_csrf = mia.get("/").await.csrf();
    mia.post(&format!("/requests/{id}/decisions"), Some(&mia_csrf), &[("decision", "approve")]).await.expect(409);
    let apps = org.app.get("/api/v1/apps?q=notion").await.expect(200);
    assert_eq!(apps["items"][0]["name"], "Notion", "the approved tool is in the inventory");
}

async fn the_form_shows_advice_before_sending_and_offers_seats_instead(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let miro = app
        .post("/api/v1/apps", json!({"name": "Miro", "category": "whiteboard", "owner_email": "olga@example.com"}))
        .await
        .expect(201);
    let miro = miro["id"].as_str().unwrap().to_string();
    app.subscription(&miro, 40, 1000).await;
    let erin = Visitor::new(&app, Role::Employee, EMPLOYEE_EMAIL);
    let csrf = erin.get("/requests/new").await.csrf();
    let fields = [
        ("kind", "new_tool"),
        ("name", "Mural"),
        ("purpose", "Workshops"),
        ("seats", "4"),
        ("annual_cost", "1,200"),
        ("currency", "USD"),
        ("data_class", "internal"),
    ];
    let advised = erin.post("/requests/new", Some(&csrf), &fields).await.expect(200);
    advised.has("Miro").has("Ask for seats of Miro instead").has("Submit request anyway");
    let none = app.get("/api/v1/requests").await.expect(200);
    assert_eq!(none["items"].as_array().unwrap().len(), 0, "advice first: nothing sent yet");
    let instead = [
        ("kind", "add_seats"),
        ("app_id", miro.as_str()),
        ("seats", "4"),
        ("purpose", "Workshops"),
        ("confirmed", "1"),
    ];
    let sent = erin.post("/requests/new", Some(&csrf), &instead).await.expect(303);
    let id = request_id(&sent.location);
    let r = app.get(&format!("/api/v1/requests/{id}")).await.expect(200);
    assert_eq!((r["kind"].as_str(), r["seats"].as_i64()), (Some("add_seats"), Some(4)));
    let bad = erin
        .post("/requests/new", Some(&csrf), &[("kind", "new_tool"), ("name", "X"), ("annual_cost", "12.345")])
        .await;
    bad.expect(400).has("annual_cost").has("value=\"X\"");
}

/// Slack with 20 seats bought and two idle since 2020, findings refreshed: an inactive-seat
/// finding (2 seats) and an unassigned-seats one. Returns Slack's id.
pub async fn slack_with_idle_seats(app: &TestApp) -> String {
    let slack = app.app("Slack").await;
    app.subscription(&slack, 20, 1200).await;
    for e in ["idle1@example.com", "idle2@example.com"] {
        app.post("/api/v1/accounts", json!({"app_id": slack, "email": e, "last_active_at": "2020-01-01T00:00:00Z"}))
            .await
            .expect(201);
    }
    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    slack
}

async fn findings_are_grouped_and_triaged_from_the_page(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let slack = slack_with_idle_seats(&app).await;
    let it = Visitor::new(&app, Role::It, "it@example.com");
    let page = it.get(&format!("/findings?app={slack}")).await.expect(200);
    page.has("Findings for").has("Inactive seat").has("Unassigned seats").has("Reclaim these seats");
    page.has("<label for=\"reason-").has("<label for=\"until-").has("2 of 2 Slack Business seats");
    let listed = app.get(&format!("/api/v1/findings?app_id={slack}&kind=inactive_seat")).await.expect(200);
    let id = listed["items"][0]["id"].as_str().expect("an inactive seat finding").to_string();
    let finding = |id: String| {
        let app = &app;
        async move { app.get(&format!("/api/v1/findings/{id}")).await.expect(200) }
    };
    let csrf = page.csrf();
    let at = format!("/findings/{id}");
    it.post(&at, Some(&csrf), &[("status", "dismissed")]).await.expect(400).has("reason");
    it.post(&at, Some(&csrf), &[("status", "snoozed"), ("snoozed_until", "2099-01-01")]).await.expect(303);
    let f = finding(id.clone()).await;
    assert_eq!((f["status"].as_str(), f["snoozed_until"].as_str()), (Some("snoozed"), Some("2099-01-01")));
    it.post(&at, Some(&csrf), &[("status", "acknowledged")]).await.expect(303);
    assert_eq!(finding(id.clone()).await["status"], "acknowledged");
    let made = it.post(&format!("{at}/reclaim"), Some(&csrf), &[]).await.expect(303);
    let rid = request_id(&made.location);
    let r = app.get(&format!("/api/v1/requests/{rid}")).await.expect(200);
    assert_eq!((r["kind"].as_str(), r["seats"].as_i64()), (Some("reclaim"), Some(2)));
    it.post(&at, Some(&csrf), &[("status", "dismissed"), ("reason", "service accounts")]).await.expect(303);
    let f = finding(id.clone()).await;
    assert_eq!((f["status"].as_str(), f["dismiss_reason"].as_str()), (Some("dismissed"), Some("service accounts")));
    it.get(&format!("/findings?app={slack}")).await.expect(200).lacks("service accounts");
    it.get(&format!("/findings?app={slack}&status=all")).await.expect(200).has("dismissed: service accounts");
    let approver = Visitor::new(&app, Role::Approver, "ap@example.com");
    approver.get("/findings").await.expect(200).lacks("Reclaim these seats").lacks("Acknowledge");
    approver.post(&at, None, &[("status", "open")]).await.expect(403);
}

async fn a_form_without_its_csrf_token_is_refused(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let admin = Visitor::new(&app, Role::Admin, "ada@example.com");
    let csrf = admin.get("/settings").await.expect(200).csrf();
    let fields = [("name", "ci"), ("role", "it"), ("scope", "api")];
    admin.post("/settings/tokens", None, &fields).await.expect(403);
    admin.post("/settings/tokens", Some("00ff"), &fields).await.expect(403);
    let other = Visitor::new(&app, Role::Admin, "bob@example.com");
    let theirs = other.get("/settings").await.csrf();
    admin.post("/settings/tokens", Some(&theirs), &fields).await.expect(403);
    let tokens = app.get("/api/v1/tokens").await.expect(200);
    assert!(!tokens.to_string().contains("\"ci\""), "nothing was made without the token: {tokens}");
    let made = admin.post("/settings/tokens", Some(&csrf), &fields).await;
    made.expect(200).has("Copy its secret now").has("sw_");
}

async fn renewals_show_by_month_and_take_the_owners_decision(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let zoom = app.app("Zoom").await;
    let today = chrono::Utc::now().date_naive();
    let end = today + chrono::Duration::days(40);
    let body = json!({"app_id": zoom, "plan": "Business", "seats_purchased": 10, "unit_price_cents": 1500,
        "currency": "USD", "billing_frequency": "monthly", "term_start": (end - chrono::Duration::days(364)).to_string(),
        "term_end": end.to_string(), "notice_days": 30, "owner_email": "owner@example.com"});
    let sub = app.post("/api/v1/subscriptions", body).await.expect(201);
    let sub = sub["id"].as_str().unwrap().to_string();
    let deadline = end - chrono::Duration::days(30);
    let owner = Visitor::new(&app, Role::Approver, "owner@example.com");
    let page = owner.get("/renewals").await.expect(200);
    page.has(&deadline.format("%B %Y").to_string()).has("USD 1,800.00").has("Send decision").has("renewals.ics?token=");
    let home = owner.get("/").await.expect(200);
    home.has("Notice deadlines in the next 90 days").has("<a href=\"/apps/1\">Zoom</a>");
    Visitor::new(&app, Role::Auditor, "aud@example.com").get("/renewals").await.expect(200).lacks("Send decision");
    let csrf = page.csrf();
    let sent = owner
        .post(
            &format!("/renewals/{sub}/decision"),
            Some(&csrf),
            &[("decision", "reduce"), ("seats", "6"), ("comment", "four idle")],
        )
        .await
        .expect(303);
    let id = request_id(&sent.location);
    let r = app.get(&format!("/api/v1/requests/{id}")).await.expect(200);
    assert_eq!((r["kind"].as_str(), r["seats"].as_i64()), (Some("renewal"), Some(6)));
    assert!(r["purpose"].as_str().unwrap().contains("four idle"));
    owner
        .post(&format!("/renewals/{sub}/decision"), Some(&csrf), &[("decision", "reduce")])
        .await
        .expect(400)
        .has("seats");
}
