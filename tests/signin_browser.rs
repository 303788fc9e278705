//! Sign-in in a real browser (Chromium through ChromeDriver) against a real OpenID provider
//! process on loopback: the signed-out visit goes to the provider and comes back, roles come
//! from the groups claim, a role that may not see a page gets the 403 page, sign-out ends the
//! session on the server, and forms without their CSRF token or from another site are refused.

use crate::browser;
use crate::support::browser::Browser;
use crate::support::oidc::Provider;
use crate::support::{Test, TestApp, TestBackend};
use stackward::auth;
use std::io::{Read, Write};

pub fn tests() -> Vec<Test> {
    vec![
        browser!(a_signed_out_visit_signs_in_through_the_provider_with_roles_from_groups),
        browser!(a_forbidden_role_gets_the_403_page_and_sign_out_ends_the_session),
        browser!(forms_without_their_csrf_token_or_from_another_site_are_refused),
    ]
}

const ROLE_MAP: &str = "admin=stackward-admins,it=it-team,finance=finance";

/// An app on its own loopback address signing in through `provider` with the test role map.
pub async fn app_with(provider: &Provider) -> TestApp {
    let flags = provider.flags(ROLE_MAP);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    TestApp::at_own_address(TestBackend::Sqlite, &flags).await
}

fn roles_of(app: &TestApp, email: &str) -> Vec<String> {
    let mut c = app.db.db.get().unwrap();
    let Some(user) = auth::users::find_by_email(&mut c, email).unwrap() else { return Vec::new() };
    auth::users::roles_held(&mut c, user.id).unwrap().iter().map(|h| format!("{} ({})", h.role, h.source)).collect()
}

async fn a_signed_out_visit_signs_in_through_the_provider_with_roles_from_groups() {
    let mut provider = Provider::start("ada@example.com", &["everyone", "stackward-admins", "finance"]);
    let app = app_with(&provider).await;
    let b = Browser::open(true).await;

    b.goto(&format!("{}/settings/users?sort=email", app.base)).await;
    let url = b.url().await;
    assert_eq!((url.path(), url.query()), ("/settings/users", Some("sort=email")), "back on the page asked for");
    let text = b.text().await;
    assert!(text.contains("Sign-in and roles") && text.contains("ada@example.com"), "{text}");
    assert_eq!(roles_of(&app, "ada@example.com"), ["admin (provider)", "finance (provider)"]);

    // The screenshot helper writes a PNG.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("users.png");
    b.save_png(&png).await;
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));

    // Roles follow the claim at every sign-in: moved to the IT group, ada is IT only.
    b.click("Sign out").await;
    let text = b.text().await;
    assert!(text.contains("You are signed out"), "{} {text}", b.url().await);
    provider.sign_in_as("ada@example.com", &["it-team"]);
    b.goto(&format!("{}/auth/login?next=/settings/users", app.base)).await;
    assert_eq!(roles_of(&app, "ada@example.com"), ["it (provider)"]);
    assert!(b.text().await.contains("Not allowed"));
    b.close().await;
}

async fn a_forbidden_role_gets_the_403_page_and_sign_out_ends_the_session() {
    let provider = Provider::start("erin@example.com", &["staff"]);
    let app = app_with(&provider).await;
    let b = Browser::open(true).await;

    b.goto(&format!("{}/settings/users", app.base)).await;
    let text = b.text().await;
    assert!(text.contains("Not allowed") && text.contains("only for: admin"), "{text}");
    assert!(roles_of(&app, "erin@example.com").is_empty(), "no mapped group: an employee");
    let status = reqwest::Client::new()
        .get(format!("{}/settings/users", app.base))
        .header("cookie", format!("stackward_session={}", b.cookie("stackward_session").await.unwrap()))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 403);

    let cookie = b.cookie("stackward_session").await.expect("signed in");
    let me = |cookie: String| {
        let url = format!("{}/api/v1/me", app.base);
        async move {
            let req = reqwest::Client::new().get(url).header("cookie", format!("stackward_session={cookie}"));
            TestApp::send(req).await.status.as_u16()
        }
    };
    assert_eq!(me(cookie.clone()).await, 200);
    b.click("Sign out").await;
    let text = b.text().await;
    assert!(text.contains("You are signed out"), "{} {text}", b.url().await);
    assert_eq!(b.cookie("stackward_session").await, None, "the browser forgot it");
    assert_eq!(me(cookie).await, 401, "and the server ended it: a copy no longer works");
    b.close().await;
}

/// Serves one page forever on a loopback port of its own: another origin than the app's.
fn serve_elsewhere(html: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
                html.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    format!("http://{addr}/")
}

async fn forms_without_their_csrf_token_or_from_another_site_are_refused() {
    let provider = Provider::start("ada@example.com", &["stackward-admins"]);
    let app = app_with(&provider).await;
    let b = Browser::open(true).await;
    let users = format!("{}/settings/users", app.base);

    // The grant form with its CSRF field removed.
    b.goto(&users).await;
    b.client
        .execute("document.querySelector('form[action=\"/settings/users\"] input[name=csrf_token]').remove()", vec![])
        .await
        .unwrap();
    b.fill("grant-email", "new@example.com").await;
    b.click("Grant").await;
    let text = b.text().await;
    assert!(text.contains("Not allowed") && text.contains("did not come from stackward"), "{text}");
    assert!(roles_of(&app, "new@example.com").is_empty());

    // The same form, token and all, posted from a page on another origin.
    b.goto(&users).await;
    let token: String = b
        .client
        .execute("return document.querySelector('input[name=csrf_token]').value", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let page = format!(
        "<!doctype html><html lang=en><title>elsewhere</title><form method=post action=\"{users}\">\
         <input name=csrf_token value=\"{token}\"><input name=email value=\"new@example.com\">\
         <input name=role value=admin><button>Win a prize</button></form></html>"
    );
    b.goto(&serve_elsewhere(page)).await;
    b.click("Win a prize").await;
    let text = b.text().await;
    assert!(text.contains("sent from another site"), "{text}");
    assert!(roles_of(&app, "new@example.com").is_empty());

    // From the page itself, it works.
    b.goto(&users).await;
    b.fill("grant-email", "new@example.com").await;
    b.click("Grant").await;
    assert_eq!(b.url().await.path(), "/settings/users");
    assert_eq!(roles_of(&app, "new@example.com"), ["admin (local)"]);
    assert!(b.text().await.contains("new@example.com"));
    b.close().await;
}
