//! The renewals API and its iCalendar feed.

use crate::mail::{seed, today};
use crate::per_backend;
use crate::support::{Test, TestApp, TestBackend};
use reqwest::Method;
use serde_json::json;
use stackward::auth::Role;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(renewals_list_deadlines_figures_and_recommendations),
        per_backend!(the_calendar_feed_parses_and_opens_only_with_a_calendar_token),
    ]
}

async fn renewals_list_deadlines_figures_and_recommendations(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (app_id, sub_id) = seed(&app, "Zoom", 30).await;
    let far = app
        .post("/api/v1/subscriptions", json!({"app_id": app_id, "plan": "Webinar", "currency": "EUR", "seats_purchased": 2,
            "term_start": "2026-01-01", "term_end": (today() + chrono::Days::new(400)).to_string(), "renewal_type": "manual"}))
        .await
        .expect(201);
    let list = app.call(Some(Role::Finance), Method::GET, "/api/v1/renewals?within_days=60", None).await.expect(200);
    let items = list["items"].as_array().expect("a list body like every other list");
    assert_eq!(items.len(), 1, "{list}");
    assert!(list["next_cursor"].is_null(), "one page: {list}");
    let r = &items[0];
    assert_eq!(r["subscription_id"], sub_id);
    assert_eq!(r["app_name"], "Zoom");
    assert_eq!(r["notice_deadline"], (today() + chrono::Days::new(30)).to_string());
    assert_eq!(r["days_to_deadline"], 30);
    assert_eq!(r["deadline_kind"], "cancel");
    assert_eq!(r["owner_email"], "contract@example.com");
    // Two subscriptions on the app: only seats linked to this one count.
    assert_eq!(
        (r["seats_used"].clone(), r["seats_purchased"].clone(), r["utilisation_percent"].clone()),
        (json!(4), json!(10), json!(40))
    );
    assert_eq!(r["annual_cost_cents"], 180000);
    assert_eq!(r["recommendation"]["action"], "right_size");
    assert_eq!(r["recommendation"]["seats"], 4);
    assert!(r["recommendation"]["reason"].as_str().unwrap().contains("USD 1,080.00/yr"), "{r}");
    assert_eq!(r["reminder_days"], json!([90, 60, 30, 7]));

    let all = app.get("/api/v1/renewals?within_days=500").await.expect(200);
    let webinar =
        all["items"].as_array().unwrap().iter().find(|r| r["subscription_id"] == far["id"]).expect("far renewal");
    assert!(webinar["annual_cost_cents"].is_null(), "unknown price stays unknown");
    assert_eq!(webinar["deadline_kind"], "renew");
    app.get("/api/v1/renewals?within_days=-1").await.expect_error(400, "invalid", Some("within_days"));
    app.get("/api/v1/renewals?days=5").await.expect_error(400, "invalid", Some("days"));
    // Pages continue by cursor in deadline order, each renewal once.
    let first = app.get("/api/v1/renewals?within_days=500&limit=1").await.expect(200);
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().expect("a second page").to_string();
    let second = app.get(&format!("/api/v1/renewals?within_days=500&limit=1&cursor={cursor}")).await.expect(200);
    assert_ne!(first["items"][0], second["items"][0]);
    assert_eq!(second["items"][0], all["items"][1]);
}

async fn the_calendar_feed_parses_and_opens_only_with_a_calendar_token(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (_, sub_id) = seed(&app, "Miro", 45).await;
    let created = app
        .post("/api/v1/tokens", json!({"name": "finance calendar", "role": "finance", "scope": "calendar"}))
        .await
        .expect(201);
    assert_eq!(created["scope"], "calendar");
    let secret = created["secret"].as_str().unwrap().to_string();

    let r = app.call(None, Method::GET, &format!("/api/v1/renewals.ics?token={secret}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let parser = ical::IcalParser::new(std::io::BufReader::new(r.text.as_bytes()));
    let calendars: Vec<_> = parser.collect::<Result<_, _>>().expect("the feed parses as iCalendar");
    assert_eq!(calendars.len(), 1);
    let events = &calendars[0].events;
    assert_eq!(events.len(), 2, "deadline and renewal date");
    let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default()
    };
    let deadline = (today() + chrono::Days::new(45)).format("%Y%m%d").to_string();
    let first =
        events.iter().find(|e| prop(e, "DTSTART") == deadline).expect("an all-day event on the notice deadline");
    assert!(prop(first, "SUMMARY").contains("Notice deadline") && prop(first, "SUMMARY").contains("Miro Business"));
    assert!(prop(first, "UID").contains(&format!("sub{sub_id}")));
    assert!(prop(first, "DESCRIPTION").contains("4 of 10 seats in use"));

    let admin = app.token(Role::Admin).to_string();
    app.call(None, Method::GET, &format!("/api/v1/renewals.ics?token={admin}"), None).await.expect_error(
        401,
        "unauthorized",
        None,
    );
    app.with_authorization(Method::GET, "/api/v1/apps", &format!("Bearer {secret}")).await.expect_error(
        403,
        "forbidden",
        None,
    );
    app.call(None, Method::GET, "/api/v1/renewals.ics", None).await.expect_error(401, "unauthorized", None);
    app.call(None, Method::GET, "/api/v1/renewals.ics?token=sw_nope", None).await.expect_error(
        401,
        "unauthorized",
        None,
    );
    let bearer = app.call(Some(Role::Auditor), Method::GET, "/api/v1/renewals.ics", None).await;
    assert!(bearer.text.starts_with("BEGIN:VCALENDAR"), "a reading role's bearer token works too");
}
