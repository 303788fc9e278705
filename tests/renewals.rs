//! The renewals API and its iCalendar feed.

use crate::mail::{seed, today};
use crate::per_backend;
use crate::support::{Test, TestApp, TestBackend};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;
use stackward::auth::Role;
use stackward::db::schema::accounts;
use stackward::inventory::{Account, AccountStatus, AppId};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(renewals_list_deadlines_figures_and_recommendations),
        per_backend!(the_calendar_feed_parses_and_opens_only_with_a_calendar_token),
        per_backend!(calendar_events_last_a_day_carry_an_alarm_per_stage_and_include_newly_approved_tools),
        per_backend!(recommendations_count_active_seats_flag_over_assignment_and_the_mail_names_open_findings),
        per_backend!(the_renewal_term_is_the_contract_term_not_the_billing_period),
        per_backend!(seat_use_counted_in_the_database_reads_each_seat_as_the_seat_itself_does),
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

/// Every property of a parsed component, by name: (parameters, value).
type Props = Vec<(String, Vec<(String, Vec<String>)>, String)>;

fn props(properties: &[ical::property::Property]) -> Props {
    properties
        .iter()
        .map(|p| (p.name.clone(), p.params.clone().unwrap_or_default(), p.value.clone().unwrap_or_default()))
        .collect()
}

fn value<'a>(props: &'a Props, name: &str) -> &'a str {
    props.iter().find(|p| p.0 == name).map(|p| p.2.as_str()).unwrap_or_else(|| panic!("no {name} in {props:?}"))
}

fn day(d: chrono::NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

async fn calendar_events_last_a_day_carry_an_alarm_per_stage_and_include_newly_approved_tools(backend: TestBackend) {
    let org = crate::requests::Org::new(backend).await;
    let app = &org.app;
    let (_, sub_id) = seed(app, "Miro", 45).await;
    app.patch(&format!("/api/v1/subscriptions/{sub_id}"), json!({"reminder_days": "60,30,7"})).await.expect(200);
    // A tool approved just now: its subscription renews in a year and belongs in the feed too.
    let r = org.submit(&org.erin, crate::requests::tool("Mural", "https://mural.co", 120_000, "internal")).await;
    let rid = crate::requests::id(&r);
    org.decide(&org.mia, &rid, "approve", "yes").await.expect(200);
    let done = org.decide(&org.ian, &rid, "approve", "bought").await.expect(200);
    let approved_sub = done["subscription_id"].as_str().expect("the approved tool's subscription").to_string();
    // A three-year contract whose deadline is more than two years away is in the feed too.
    let far_end = (today() + chrono::Days::new(1000)).to_string();
    let far = app
        .post(
            "/api/v1/subscriptions",
            json!({"app_id": done["app_id"], "plan": "Enterprise", "currency": "USD",
            "billing_frequency": "multi_year", "term_start": today().to_string(), "term_end": far_end}),
        )
        .await
        .expect(201);
    let far = far["id"].as_str().unwrap().to_string();

    let r = app.call(Some(Role::Finance), Method::GET, "/api/v1/renewals.ics", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let calendars: Vec<_> = ical::IcalParser::new(std::io::BufReader::new(r.text.as_bytes()))
        .collect::<Result<_, _>>()
        .expect("the feed parses as iCalendar");
    let events = &calendars[0].events;
    let reader = app.sign_in("finance@example.com", &[Role::Finance]);
    let uids: Vec<String> = events.iter().map(|e| value(&props(&e.properties), "UID").to_string()).collect();
    for sub in [&sub_id, &approved_sub, &far] {
        assert!(uids.iter().any(|u| u.starts_with(&format!("stackward-sub{sub}-deadline-"))), "{sub}: {uids:?}");
    }
    for e in events {
        let p = props(&e.properties);
        let (start, end) = (value(&p, "DTSTART"), value(&p, "DTEND"));
        let start_day = chrono::NaiveDate::parse_from_str(start, "%Y%m%d").expect("an all-day start");
        assert_eq!(end, day(start_day.succ_opt().unwrap()), "DTEND is the day after DTSTART: {p:?}");
        for name in ["DTSTART", "DTEND"] {
            let params = &p.iter().find(|x| x.0 == name).unwrap().1;
            assert_eq!(params, &vec![("VALUE".to_string(), vec!["DATE".to_string()])], "{name} is a date");
        }
        assert!(!value(&p, "DTSTAMP").is_empty());
        let url = value(&p, "URL");
        let path = &url[url.find("/apps/").unwrap_or_else(|| panic!("links an app's page: {p:?}"))..];
        let page = app.browse(Some(&reader), Method::GET, path, &[]).await;
        assert_eq!(page.status, 200, "{url} opens the app's page");
        assert!(value(&p, "DESCRIPTION").contains("seats"), "{p:?}");
    }
    let miro = events
        .iter()
        .map(|e| (props(&e.properties), e))
        .find(|(p, _)| value(p, "DTSTART") == day(today() + chrono::Days::new(45)))
        .expect("Miro's notice deadline");
    assert_eq!(value(&miro.0, "SUMMARY"), "Notice deadline (cancel or change by): Miro Business");
    assert_eq!(value(&miro.0, "UID"), format!("stackward-sub{sub_id}-deadline-{}", today() + chrono::Days::new(45)));
    let alarms: Vec<Props> = miro.1.alarms.iter().map(|a| props(&a.properties)).collect();
    let triggers: Vec<&str> = alarms.iter().map(|a| value(a, "TRIGGER")).collect();
    assert_eq!(triggers, ["-P60D", "-P30D", "-P7D"], "one alarm per reminder stage: {alarms:?}");
    for a in &alarms {
        assert_eq!(value(a, "ACTION"), "DISPLAY");
        assert!(value(a, "DESCRIPTION").ends_with("Miro Business"), "{a:?}");
    }
    let renewal = events
        .iter()
        .map(|e| props(&e.properties))
        .find(|p| value(p, "UID") == format!("stackward-sub{sub_id}-renewal-{}", today() + chrono::Days::new(75)))
        .expect("Miro's renewal date");
    assert_eq!(value(&renewal, "SUMMARY"), "Renews: Miro Business");
}

fn ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339()
}

/// Gives the app's active seats (seed made four) these last sign-ins, in days ago, adding seats
/// on `sub` for the rest.
async fn seats_last_active(app: &TestApp, app_id: &str, sub: &str, days: &[i64]) {
    let accounts = app.get(&format!("/api/v1/accounts?app_id={app_id}&status=active")).await.expect(200);
    let held = accounts["items"].as_array().unwrap();
    for (i, d) in days.iter().enumerate() {
        let when = json!({"last_active_at": ago(*d)});
        match held.get(i) {
            Some(a) => app.patch(&format!("/api/v1/accounts/{}", a["id"].as_str().unwrap()), when).await.expect(200),
            None => app
                .post(
                    "/api/v1/accounts",
                    json!({"app_id": app_id, "subscription_id": sub,
                    "email": format!("extra{i}-{app_id}@example.com"), "last_active_at": ago(*d)}),
                )
                .await
                .expect(201),
        };
    }
}

async fn renewal_of(app: &TestApp, sub_id: &str) -> serde_json::Value {
    let all = app.get("/api/v1/renewals?within_days=3650&limit=500").await.expect(200);
    all["items"].as_array().unwrap().iter().find(|r| r["subscription_id"] == sub_id).expect("its renewal").clone()
}

async fn recommendations_count_active_seats_flag_over_assignment_and_the_mail_names_open_findings(
    backend: TestBackend,
) {
    let app = TestApp::new(backend).await;
    // Miro: 10 seats bought; 7 held, of which 3 had no sign-in for 90 days.
    let (miro, sub) = seed(&app, "Miro", 30).await;
    seats_last_active(&app, &miro, &sub, &[90, 90, 90, 1, 2, 2, 2]).await;
    let r = renewal_of(&app, &sub).await;
    assert_eq!(
        (r["seats_used"].clone(), r["seats_active"].clone(), r["seats_idle"].clone()),
        (json!(7), json!(4), json!(3))
    );
    assert_eq!((r["seats_activity_unknown"].clone(), r["idle_days"].clone()), (json!(0), json!(60)));
    assert_eq!(r["recommendation"]["action"], "right_size", "{r}");
    assert_eq!(r["recommendation"]["seats"], 4, "idle seats are not needed: {r}");
    assert_eq!(r["recommendation"]["reason"], "4 active, 3 idle for 60+ days, 3 unassigned, saving USD 1,080.00/yr",);

    // Zoom: 8 seats bought, 9 in use.
    let (zoom, zsub) = seed(&app, "Zoom", 30).await;
    app.patch(&format!("/api/v1/subscriptions/{zsub}"), json!({"seats_purchased": 8})).await.expect(200);
    seats_last_active(&app, &zoom, &zsub, &[1, 1, 1, 1, 3, 3, 3, 3, 3]).await;
    let z = renewal_of(&app, &zsub).await;
    assert_eq!(z["seats_over_assigned"], 1, "{z}");
    assert_eq!(z["recommendation"]["action"], "renew");
    assert_eq!(z["recommendation"]["seats"], 9, "never renew fewer seats than are used: {z}");
    assert_eq!(z["recommendation"]["reason"], "9 active: 9 seats are needed, 1 more than the 8 bought");

    app.post("/api/v1/findings/refresh", json!({})).await.expect(200);
    let day = today();
    stackward::scheduler::run_job(&app.ctx, stackward::scheduler::JobKind::RenewalReminders, day)
        .await
        .expect("reminder job runs");
    let mut conn = app.db.db.get().unwrap();
    use stackward::db::schema::outbox;
    let mails: Vec<(String, String, Option<String>)> = outbox::table
        .filter(outbox::kind.eq("renewal_reminder"))
        .select((outbox::subject, outbox::text_body, outbox::html_body))
        .load(&mut *conn)
        .unwrap();
    let (_, miro_text, miro_html) = mails.iter().find(|m| m.0.contains("Miro")).expect("Miro's reminder");
    assert!(miro_text.contains("Activity:     4 active, 3 idle for 60+ days, 3 unassigned"), "{miro_text}");
    assert!(miro_text.contains("Open findings for Miro:\n- "), "{miro_text}");
    assert!(miro_text.contains("- 3 of 7 Miro Business seats had no sign-in for 60+ days"), "{miro_text}");
    assert!(miro_text.contains("- 3 of 10 Miro Business seats are paid for but not assigned to anyone"), "{miro_text}");
    assert!(miro_html.as_deref().unwrap_or_default().contains("<li>3 of 7 Miro Business seats had no sign-in"));
    assert!(!miro_text.contains("Over-assigned"), "{miro_text}");
    let (_, zoom_text, _) = mails.iter().find(|m| m.0.contains("Zoom")).expect("Zoom's reminder");
    assert!(
        zoom_text.contains("Over-assigned: 9 seats are held on a contract for 8: the vendor may bill the 1 extra at the next true-up; buy 1 more or remove 1"),
        "{zoom_text}"
    );
}

async fn the_renewal_term_is_the_contract_term_not_the_billing_period(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let zoom = app.app("Zoom").await;
    let d = |days: i64| (today() + chrono::Duration::days(days)).to_string();
    // (label, billing, term_start, term_end, renewal_term_months, expected renewal date)
    let year_ago = today() - chrono::Months::new(12);
    let cases = [
        (
            "monthly-billed annual, ended 5 days ago",
            "monthly",
            (year_ago - chrono::Days::new(5)).to_string(),
            Some(d(-6)),
            None,
            (today() - chrono::Days::new(5)) + chrono::Months::new(12),
        ),
        (
            "annual-billed three years, ended yesterday",
            "annual",
            (today() - chrono::Months::new(36)).to_string(),
            Some(d(-2)),
            None,
            (today() - chrono::Days::new(1)) + chrono::Months::new(36),
        ),
        (
            "month-to-month",
            "monthly",
            (today() - chrono::Days::new(45)).to_string(),
            None,
            None,
            (today() - chrono::Days::new(45)) + chrono::Months::new(1) + chrono::Months::new(1),
        ),
        (
            "a year, then two-year renewals",
            "annual",
            year_ago.to_string(),
            Some(d(-1)),
            Some(24),
            today() + chrono::Months::new(24),
        ),
    ];
    for (label, billing, start, end, term, want) in cases {
        let sub = app
            .post(
                "/api/v1/subscriptions",
                json!({"app_id": zoom, "plan": label, "currency": "USD", "seats_purchased": 1,
                "billing_frequency": billing, "term_start": start, "term_end": end, "renewal_term_months": term}),
            )
            .await
            .expect(201);
        assert_eq!(sub["renewal_term_months"], json!(term), "{label}");
        let r = renewal_of(&app, sub["id"].as_str().unwrap()).await;
        assert_eq!(r["renewal_date"], want.to_string(), "{label}: {r}");
        assert_eq!(r["rolled_terms"], 1, "{label}");
    }
    app.post(
        "/api/v1/subscriptions",
        json!({"app_id": zoom, "plan": "x", "currency": "USD", "renewal_term_months": 0}),
    )
    .await
    .expect_error(400, "invalid", Some("renewal_term_months"));
}

/// Every mix of link, tracking, last sign-in, vendor creation and first sight, on an app whose
/// usage is pushed (threshold 30 days) and one whose is not (default 60): the renewal's counts,
/// made by grouped queries, equal each seat's own reading by `Account::activity_known` and
/// `Account::idle_since`.
async fn seat_use_counted_in_the_database_reads_each_seat_as_the_seat_itself_does(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let (pushed, pushed_sub) = seed(&app, "Pushed", 40).await;
    let (plain, plain_sub) = seed(&app, "Plain", 40).await;
    app.patch(&format!("/api/v1/apps/{pushed}"), json!({"inactive_days": 30})).await.expect(200);
    app.post(
        "/api/v1/usage",
        json!({"app_id": pushed, "events": [{"email": "pushed0@example.com", "last_active_at": ago(1)}]}),
    )
    .await
    .expect(200);
    let body = json!({"connector": "scim", "name": "figma", "base_url": "http://127.0.0.1:9",
        "settings": {"app": "Figma"}, "secrets": {"token": "t"}});
    let conn_id: i64 = app.post("/api/v1/connections", body).await.expect(201)["id"].as_str().unwrap().parse().unwrap();
    for (app_id, sub) in [(&pushed, &pushed_sub), (&plain, &plain_sub)] {
        for i in 0..72 {
            let email = format!("mix{i}-{app_id}@example.com");
            app.post("/api/v1/accounts", json!({"app_id": app_id, "subscription_id": sub, "email": email}))
                .await
                .expect(201);
        }
    }
    let now = stackward::time::now();
    let days = |d: i64| now - chrono::Duration::days(d);
    let mut conn = app.db.db.get().unwrap();
    let ids: Vec<(i64, i64)> = accounts::table
        .filter(accounts::email.like("mix%"))
        .select((accounts::id, accounts::app_id))
        .order(accounts::id)
        .load(&mut *conn)
        .unwrap();
    for (n, (id, _)) in ids.iter().enumerate() {
        let i = n % 72;
        let linked = (i % 2 == 1).then_some(conn_id);
        let tracked = i / 2 % 2 == 1;
        let last_active = [None, Some(days(10)), Some(days(45)), Some(days(100))][i / 4 % 3];
        let created = [None, Some(days(5)), Some(days(200))][i / 12 % 3];
        let first_seen = if i / 36 == 0 { now } else { days(100) };
        diesel::update(accounts::table.find(id))
            .set((
                accounts::connection_id.eq(linked),
                accounts::activity_tracked.eq(tracked),
                accounts::last_active_at.eq(last_active),
                accounts::vendor_created_at.eq(created),
                accounts::first_seen_at.eq(first_seen),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    let seats: Vec<Account> = accounts::table
        .filter(accounts::status.eq(AccountStatus::Active))
        .select(Account::as_select())
        .load(&mut *conn)
        .unwrap();
    drop(conn);
    let today = chrono::Utc::now().date_naive();
    for (app_id, sub, fed, idle_days) in [(&pushed, &pushed_sub, true, 30), (&plain, &plain_sub, false, 60)] {
        let cutoff = (today - chrono::Duration::days(idle_days)).and_hms_opt(0, 0, 0).unwrap();
        let mine: Vec<&Account> = seats.iter().filter(|a| a.app_id == AppId(app_id.parse().unwrap())).collect();
        let unknown = mine.iter().filter(|a| !a.activity_known(fed)).count();
        let idle = mine.iter().filter(|a| a.activity_known(fed) && a.idle_since(cutoff)).count();
        let r = renewal_of(&app, sub).await;
        assert_eq!(r["idle_days"], idle_days, "{r}");
        assert!(unknown > 0 && idle > 0, "the mix has both: {unknown} unknown, {idle} idle");
        let counted = (r["seats_used"].clone(), r["seats_activity_unknown"].clone(), r["seats_idle"].clone());
        assert_eq!(counted, (json!(mine.len()), json!(unknown), json!(idle)), "{app_id}: {r}");
        assert_eq!(r["seats_active"], json!(mine.len() - unknown - idle), "{r}");
    }
}
