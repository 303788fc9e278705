//! Sessions, CSRF and one-time sign-in links over HTTP (no browser): cookies are HttpOnly and
//! SameSite=Lax (Secure on https), secrets are stored hashed, sign-out ends the session on the
//! server, a form without its CSRF token or from another origin changes nothing, a signed-out
//! visit is sent to sign in and back, a role that may not see a page gets a 403 page.

use crate::per_backend;
use crate::support::smtp::SmtpServer;
use crate::support::{Test, TestApp, TestBackend};
use diesel::prelude::*;
use reqwest::Method;
use stackward::auth::{self, Role};
use stackward::db::schema::{audit_log, sessions, signin_links, user_roles};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(a_printed_link_signs_in_once_and_sign_out_ends_the_session),
        per_backend!(forms_without_the_csrf_token_or_from_another_origin_change_nothing),
        per_backend!(a_signed_out_visit_goes_to_sign_in_and_a_forbidden_role_gets_a_403_page),
        per_backend!(sessions_end_when_idle_or_too_old),
        per_backend!(the_api_takes_a_session_but_a_state_change_needs_the_csrf_header),
        per_backend!(a_mailed_link_goes_only_to_known_people_and_asks_for_a_click),
        per_backend!(cookies_are_secure_when_the_public_url_is_https),
        per_backend!(without_single_sign_on_the_sign_in_page_explains_the_link),
    ]
}

fn cookie_of(set_cookies: &[String]) -> String {
    let c = set_cookies.iter().find(|c| c.starts_with("stackward_session=")).expect("a session cookie is set");
    c.split(';').next().unwrap_or_default().to_string()
}

async fn me(app: &TestApp, cookie: &str) -> u16 {
    let req = reqwest::Client::new().get(format!("{}/api/v1/me", app.base)).header("cookie", cookie);
    TestApp::send(req).await.status.as_u16()
}

async fn a_printed_link_signs_in_once_and_sign_out_ends_the_session(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let token = {
        let mut c = app.db.db.get().unwrap();
        auth::users::grant(&mut c, &stackward::audit::Actor("test".into()), "ina@example.com", Role::It).unwrap();
        auth::links::create(&mut c, "Ina@Example.com", Some("/settings/users?x=1"), false).unwrap()
    };
    let page = app.browse(None, Method::GET, &format!("/auth/link/{token}"), &[]).await;
    assert_eq!(page.status, 303, "{}", page.html);
    assert_eq!(page.location.as_deref(), Some("/settings/users?x=1"));
    let set = page.set_cookies.iter().find(|c| c.starts_with("stackward_session=")).unwrap().clone();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Secure"), "http public URL: no Secure flag: {set}");
    let cookie = cookie_of(&page.set_cookies);
    let secret = cookie.trim_start_matches("stackward_session=").to_string();

    // The API knows the person and their roles.
    let who = TestApp::send(reqwest::Client::new().get(format!("{}/api/v1/me", app.base)).header("cookie", &cookie))
        .await
        .expect(200);
    assert_eq!(who["email"], "ina@example.com");
    assert_eq!(who["roles"], serde_json::json!(["it"]));

    // A link works once.
    let again = app.browse(None, Method::GET, &format!("/auth/link/{token}"), &[]).await;
    assert_eq!(again.status, 400);
    assert!(again.html.contains("does not work any more"), "{}", again.html);

    // Neither the session id nor the link token is stored or logged in the audit log.
    {
        let mut c = app.db.db.get().unwrap();
        let hashes: Vec<String> = sessions::table.select(sessions::secret_hash).load(&mut *c).unwrap();
        assert_eq!(hashes.len(), 1);
        assert!(!hashes[0].contains(&secret[4..]));
        let links: Vec<String> = signin_links::table.select(signin_links::token_hash).load(&mut *c).unwrap();
        assert!(!links[0].contains(&token[4..]));
        let audit: Vec<Option<String>> = audit_log::table.select(audit_log::after_json).load(&mut *c).unwrap();
        for a in audit.into_iter().flatten() {
            assert!(!a.contains(&secret[4..]) && !a.contains(&token[4..]), "{a}");
        }
    }

    // Sign-out ends the session on the server: the same cookie no longer works.
    let signed_in = crate::support::SignedIn {
        cookie: cookie.clone(),
        secret: secret.clone(),
        csrf_token: auth::sessions::csrf_token(&secret),
    };
    assert_eq!(me(&app, &cookie).await, 200);
    let out =
        app.browse(Some(&signed_in), Method::POST, "/auth/logout", &[("csrf_token", &signed_in.csrf_token)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/auth/login?signed_out=1"));
    assert!(out.set_cookies.iter().any(|c| c.starts_with("stackward_session=;") || c.contains("Max-Age=0")));
    assert_eq!(me(&app, &cookie).await, 401, "the copied cookie stops working");
}

async fn forms_without_the_csrf_token_or_from_another_origin_change_nothing(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let admin = app.sign_in("ada@example.com", &[Role::Admin]);
    let granted = |app: &TestApp| {
        let mut c = app.db.db.get().unwrap();
        auth::users::find_by_email(&mut c, "new@example.com")
            .unwrap()
            .map(|u| auth::users::roles_held(&mut c, u.id).unwrap().len())
    };
    let form = [("email", "new@example.com"), ("role", "finance")];

    // No token, and a wrong one (another session's): refused, nothing written.
    let page = app.browse(Some(&admin), Method::POST, "/settings/users", &form).await;
    assert_eq!(page.status, 403, "{}", page.html);
    assert!(page.html.contains("did not come from stackward"), "{}", page.html);
    let other = app.sign_in("bob@example.com", &[Role::Admin]);
    let wrong = [form[0], form[1], ("csrf_token", other.csrf_token.as_str())];
    assert_eq!(app.browse(Some(&admin), Method::POST, "/settings/users", &wrong).await.status, 403);
    assert_eq!(granted(&app), None);

    // The right token from another origin: refused before the handler.
    let with_token = [form[0], form[1], ("csrf_token", admin.csrf_token.as_str())];
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/settings/users", app.base))
        .header("cookie", &admin.cookie)
        .header("origin", "http://evil.example")
        .form(&with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert!(resp.text().await.unwrap().contains("sent from another site"));
    assert_eq!(granted(&app), None);
    // The same from a page whose Referer is elsewhere (no Origin header).
    let resp = reqwest::Client::new()
        .post(format!("{}/auth/logout", app.base))
        .header("cookie", &admin.cookie)
        .header("referer", "http://evil.example/page")
        .form(&[("csrf_token", admin.csrf_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(me(&app, &admin.cookie).await, 200, "the session was not ended");

    // With its token and from our origin, it works.
    let page = app.browse(Some(&admin), Method::POST, "/settings/users", &with_token).await;
    assert_eq!(page.status, 303, "{}", page.html);
    assert_eq!(granted(&app), Some(1));
    let mut c = app.db.db.get().unwrap();
    let n: i64 = user_roles::table.count().get_result(&mut *c).unwrap();
    assert_eq!(n, 3, "ada, bob and the new grant");
}

async fn a_signed_out_visit_goes_to_sign_in_and_a_forbidden_role_gets_a_403_page(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let page = app.browse(None, Method::GET, "/settings/users?sort=email", &[]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/auth/login?next=%2Fsettings%2Fusers%3Fsort%3Demail"));

    let employee = app.sign_in("erin@example.com", &[]);
    let page = app.browse(Some(&employee), Method::GET, "/settings/users", &[]).await;
    assert_eq!(page.status, 403);
    assert!(page.html.contains("<h1>Not allowed</h1>") && page.html.contains("only for: admin"), "{}", page.html);

    let admin = app.sign_in("ada@example.com", &[Role::Admin, Role::Finance]);
    let page = app.browse(Some(&admin), Method::GET, "/settings/users", &[]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        page.html.contains("erin@example.com") && page.html.contains("admin (local), finance (local)"),
        "{}",
        page.html
    );
    assert!(page.html.contains(&format!("name=\"csrf_token\" value=\"{}\"", admin.csrf_token)));

    // A stale cookie is treated as signed out.
    let stale = crate::support::SignedIn {
        cookie: "stackward_session=sws_nope".into(),
        secret: "sws_nope".into(),
        csrf_token: String::new(),
    };
    assert_eq!(app.browse(Some(&stale), Method::GET, "/settings/users", &[]).await.status, 303);
}

async fn sessions_end_when_idle_or_too_old(backend: TestBackend) {
    let app = TestApp::with_flags(backend, &["--session-idle-minutes", "30", "--session-max-hours", "2"]).await;
    let idle = app.sign_in("idle@example.com", &[Role::It]);
    let old = app.sign_in("old@example.com", &[Role::It]);
    let fresh = app.sign_in("fresh@example.com", &[Role::It]);
    let now = stackward::time::now();
    {
        let mut c = app.db.db.get().unwrap();
        let hash_of = |s: &str| {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(s.as_bytes()))
        };
        diesel::update(sessions::table.filter(sessions::secret_hash.eq(hash_of(&idle.secret))))
            .set(sessions::last_seen_at.eq(now - chrono::Duration::minutes(31)))
            .execute(&mut *c)
            .unwrap();
        diesel::update(sessions::table.filter(sessions::secret_hash.eq(hash_of(&old.secret))))
            .set(sessions::expires_at.eq(now - chrono::Duration::seconds(1)))
            .execute(&mut *c)
            .unwrap();
    }
    assert_eq!(me(&app, &idle.cookie).await, 401);
    assert_eq!(me(&app, &old.cookie).await, 401);
    assert_eq!(me(&app, &fresh.cookie).await, 200);
    let mut c = app.db.db.get().unwrap();
    let left: i64 = sessions::table.count().get_result(&mut *c).unwrap();
    assert_eq!(left, 1, "expired sessions are deleted when seen");
}

async fn the_api_takes_a_session_but_a_state_change_needs_the_csrf_header(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let it = app.sign_in("ivan@example.com", &[Role::It]);
    let client = reqwest::Client::new();
    let body = serde_json::json!({"name": "Figma", "category": "design"});
    let url = format!("{}/api/v1/apps", app.base);
    let origin = app.ctx.settings.public_url();
    let r = TestApp::send(client.post(&url).header("cookie", &it.cookie).header("origin", &origin).json(&body)).await;
    assert_eq!(r.status.as_u16(), 403);
    let r = TestApp::send(
        client
            .post(&url)
            .header("cookie", &it.cookie)
            .header("origin", &origin)
            .header("x-csrf-token", &it.csrf_token)
            .json(&body),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201);
    // The audit log names the person, not a token.
    let log = app.get("/api/v1/audit-log?limit=500").await.expect(200);
    assert!(log["items"].as_array().unwrap().iter().any(|e| e["actor"] == "user:ivan@example.com"), "{log}");
    // An employee session is refused a writer's route, as an employee token is.
    let emp = app.sign_in("erin@example.com", &[]);
    let r = client
        .post(&url)
        .header("cookie", &emp.cookie)
        .header("origin", &origin)
        .header("x-csrf-token", &emp.csrf_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Tokens are unchanged: no CSRF header, no Origin check.
    let r = client
        .post(&url)
        .bearer_auth(app.token(Role::It))
        .header("origin", "http://evil.example")
        .json(&serde_json::json!({"name": "Miro", "category": "design"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
}

fn link_in(mail: &str) -> String {
    let unfolded = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = unfolded.find("/auth/link/").expect("a sign-in link in the mail");
    unfolded[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || "/_-".contains(*c)).collect()
}

async fn a_mailed_link_goes_only_to_known_people_and_asks_for_a_click(backend: TestBackend) {
    let smtp = SmtpServer::start();
    let app = TestApp::with_flags(backend, &["--smtp-url", &smtp.url()]).await;
    app.post("/api/v1/people", serde_json::json!({"email": "pat@example.com", "name": "Pat"})).await.expect(201);

    let page = app.browse(None, Method::GET, "/auth/login?next=/apps", &[]).await;
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains("Email me a sign-in link") && page.html.contains("stackward signin-link"),
        "{}",
        page.html
    );

    let unknown =
        app.browse(None, Method::POST, "/auth/login", &[("email", "stranger@example.com"), ("next", "/apps")]).await;
    let known = app.browse(None, Method::POST, "/auth/login", &[("email", "Pat@example.com"), ("next", "/apps")]).await;
    assert_eq!((unknown.status, known.status), (200, 200));
    assert!(unknown.html.contains("a sign-in link is on its way"));
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1, "only the known person gets mail");
    assert_eq!(mails[0].to, vec!["pat@example.com".to_string()]);
    let path = link_in(&mails[0].data);
    {
        let mut c = app.db.db.get().unwrap();
        let outbox: i64 = stackward::db::schema::outbox::table.count().get_result(&mut *c).unwrap();
        assert_eq!(outbox, 0, "the link is never stored in the outbox");
    }

    // Opening it (as a mail scanner would) signs no one in and uses nothing up.
    let opened = app.browse(None, Method::GET, &path, &[]).await;
    assert_eq!(opened.status, 200);
    assert!(opened.set_cookies.is_empty() && opened.html.contains("pat@example.com"), "{}", opened.html);
    let opened = app.browse(None, Method::GET, &path, &[]).await;
    assert_eq!(opened.status, 200);
    // The click signs in and goes on.
    let done = app.browse(None, Method::POST, &path, &[]).await;
    assert_eq!(done.status, 303, "{}", done.html);
    assert_eq!(done.location.as_deref(), Some("/apps"));
    assert_eq!(me(&app, &cookie_of(&done.set_cookies)).await, 200);
    assert_eq!(app.browse(None, Method::POST, &path, &[]).await.status, 400, "used up");
}

async fn cookies_are_secure_when_the_public_url_is_https(backend: TestBackend) {
    let app = TestApp::with_flags(backend, &["--public-url", "https://stackward.example.com"]).await;
    let token = {
        let mut c = app.db.db.get().unwrap();
        auth::links::create(&mut c, "sam@example.com", Some("//evil.example"), false).unwrap()
    };
    let page = app.browse(None, Method::GET, &format!("/auth/link/{token}"), &[]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/"), "a link never leads off the site");
    let set = page.set_cookies.iter().find(|c| c.starts_with("stackward_session=")).unwrap();
    assert!(set.contains("Secure") && set.contains("HttpOnly"), "{set}");
}

async fn without_single_sign_on_the_sign_in_page_explains_the_link(backend: TestBackend) {
    let app = TestApp::at_own_address(backend, &[]).await;
    let page = app.browse(None, Method::GET, "/auth/login", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("stackward signin-link --email"), "{}", page.html);
    assert!(!page.html.contains("Email me a sign-in link"), "no SMTP, no mail form");
    let signed_out = app.browse(None, Method::GET, "/auth/login?signed_out=1", &[]).await;
    assert!(signed_out.html.contains("You are signed out"));
    // Signed in already: straight on.
    let who = app.sign_in("kim@example.com", &[]);
    let page = app.browse(Some(&who), Method::GET, "/auth/login?next=/requests", &[]).await;
    assert_eq!((page.status, page.location.as_deref()), (303, Some("/requests")));
}
