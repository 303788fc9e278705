//! Test support: the harness's test registry, a fresh database per test on either backend,
//! and `TestApp`, the real HTTP app on a loopback port with a token per role.

pub mod browser;
pub mod contract;
pub mod db;
pub mod oidc;
pub mod proxy;
pub mod registry;
pub mod smtp;

pub use db::{TestBackend, TestDb};
pub use registry::Test;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use stackward::audit::Actor;
use stackward::auth::{self, Role};
use stackward::context::Context;
use stackward::web::{build_app, Metrics};
use std::collections::HashMap;

/// The email of the employee whose token `TestApp` holds.
pub const EMPLOYEE_EMAIL: &str = "erin.employee@example.com";

/// The real app served on 127.0.0.1 over a fresh database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The database behind the app.
    pub db: TestDb,
    /// The context the app serves with (for calling jobs directly).
    pub ctx: Context,
    client: reqwest::Client,
    tokens: HashMap<Role, String>,
    handle: actix_web::dev::ServerHandle,
    /// Holds the secret key file for as long as the app runs.
    _keys: tempfile::TempDir,
}

/// A response: status, headers and JSON body (Null when the body is not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body as it came (a zip is not text).
    pub bytes: Vec<u8>,
}

impl Reply {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self.body
    }

    /// Asserts an error reply with this status, code and field.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str, field: Option<&str>) -> Value {
        let body = self.expect(status);
        assert_eq!(body["error"]["code"], code, "error body: {body}");
        if let Some(f) = field {
            assert_eq!(body["error"]["field"], f, "error body: {body}");
        }
        body
    }
}

impl TestApp {
    /// Starts the app on a fresh database of `backend`, with one token per role.
    pub async fn new(backend: TestBackend) -> Self {
        Self::with_flags(backend, &[]).await
    }

    /// Like [`TestApp::new`], with extra settings flags (e.g. `--smtp-url`).
    pub async fn with_flags(backend: TestBackend, flags: &[&str]) -> Self {
        Self::build(backend, flags, |_| {}).await
    }

    /// Like [`TestApp::with_flags`], adjusting the context before serving.
    pub async fn build(backend: TestBackend, flags: &[&str], configure: impl FnOnce(&mut Context)) -> Self {
        Self::build_at(backend, flags, configure, false).await
    }

    /// Like [`TestApp::with_flags`], with the public URL its own loopback address, as a browser
    /// needs (cookies and the same-origin check follow the public URL).
    pub async fn at_own_address(backend: TestBackend, flags: &[&str]) -> Self {
        Self::build_at(backend, flags, |_| {}, true).await
    }

    async fn build_at(
        backend: TestBackend,
        flags: &[&str],
        configure: impl FnOnce(&mut Context),
        own_public_url: bool,
    ) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("bound address");
        let public_url = if own_public_url { format!("http://{addr}") } else { "http://stackward.test".to_string() };
        let db = TestDb::new(backend);
        let mut tokens = HashMap::new();
        {
            let mut conn = db.db.get().expect("test connection");
            for role in Role::ALL {
                let email = (*role == Role::Employee).then_some(EMPLOYEE_EMAIL);
                let t = auth::create(
                    &mut conn,
                    &Actor("test".into()),
                    &format!("test-{role}"),
                    *role,
                    email,
                    auth::TokenScope::Api,
                )
                .expect("test token");
                tokens.insert(*role, t.secret);
            }
        }
        let keys = tempfile::tempdir().expect("key dir");
        let key_file = keys.path().join("secret.key").display().to_string();
        let mut all = vec![
            "--secret-key-file",
            &key_file,
            "--database-url",
            &db.url,
            "--db-pool-size",
            "4",
            "--listen",
            "127.0.0.1:0",
        ];
        // A test may name its own public URL (clap refuses a flag given twice).
        if !flags.contains(&"--public-url") {
            all.extend_from_slice(&["--public-url", public_url.as_str()]);
        }
        all.extend_from_slice(flags);
        let settings = stackward::config::Settings::from_flags(&all).expect("test settings");
        let mut ctx = Context::new(db.db.clone(), settings).expect("test context");
        configure(&mut ctx);
        let served = ctx.clone();
        let metrics = Metrics::new();
        let server = actix_web::HttpServer::new(move || build_app(served.clone(), metrics.clone()))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen on loopback");
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        TestApp { base: format!("http://{addr}"), db, ctx, client: reqwest::Client::new(), tokens, handle, _keys: keys }
    }

    /// The secret of the test token for `role`.
    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    /// Creates a token for `role` acting for `email` and returns its secret.
    pub fn token_for(&self, role: Role, email: &str) -> String {
        let mut conn = self.db.db.get().expect("test connection");
        let name = format!("{role}-{email}");
        let t = auth::create(&mut conn, &Actor("test".into()), &name, role, Some(email), auth::TokenScope::Api)
            .expect("test token");
        t.secret
    }

    /// Signs `email` in as a browser would, with `roles` granted locally: the session's cookie
    /// and CSRF token (no browser, no provider).
    pub fn sign_in(&self, email: &str, roles: &[Role]) -> SignedIn {
        let mut conn = self.db.db.get().expect("test connection");
        let user = auth::users::find_or_create(&mut conn, email, None).expect("test user");
        for role in roles {
            auth::users::grant(&mut conn, &Actor("test".into()), email, *role).expect("grant test role");
        }
        let limits = auth::SessionLimits::from_settings(&self.ctx.settings);
        let session =
            auth::sessions::start(&mut conn, user.id, auth::SignInMethod::Link, limits).expect("test session");
        let csrf_token = auth::sessions::csrf_token(&session.secret);
        SignedIn {
            cookie: format!("{}={}", stackward::web::session::SESSION_COOKIE, session.secret),
            secret: session.secret,
            csrf_token,
        }
    }

    /// Sends a request as a signed-in browser: its cookie, and for a state-changing request an
    /// `Origin` of the public URL. Redirects are not followed.
    pub async fn browse(&self, who: Option<&SignedIn>, method: Method, path: &str, form: &[(&str, &str)]) -> Page {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let mut req = client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(w) = who {
            req = req.header("cookie", &w.cookie);
        }
        if method != Method::GET {
            req = req.header("origin", self.ctx.settings.public_url()).form(form);
        }
        let resp = req.send().await.expect("request reaches the test server");
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        let set_cookies =
            resp.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect();
        let html = resp.text().await.expect("response body");
        Page { status, location, set_cookies, html }
    }

    /// Sends a request with a token secret and an optional JSON body.
    pub async fn call_as(&self, secret: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(secret);
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::send(req).await
    }

    /// Sends a request as `role` (None = no token) with an optional JSON body.
    pub async fn call(&self, role: Option<Role>, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(r) = role {
            req = req.bearer_auth(self.token(r));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::send(req).await
    }

    /// Sends a raw body with a content type.
    pub async fn send_raw(&self, role: Role, method: Method, path: &str, content_type: &str, body: String) -> Reply {
        let req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token(role))
            .header("content-type", content_type)
            .body(body);
        Self::send(req).await
    }

    /// Sends a request with a given Authorization header value.
    pub async fn with_authorization(&self, method: Method, path: &str, authorization: &str) -> Reply {
        let req = self.client.request(method, format!("{}{path}", self.base)).header("authorization", authorization);
        Self::send(req).await
    }

    /// Sends any request to an app and checks the response against the OpenAPI document (see
    /// `contract`): a test that builds its own request (a cookie, a served binary) goes here too.
    pub async fn send(req: reqwest::RequestBuilder) -> Reply {
        let (client, req) = req.build_split();
        let req = req.expect("a well-formed test request");
        let (method, url) = (req.method().clone(), req.url().clone());
        let resp = client.execute(req).await.expect("request reaches the test server");
        let status = resp.status();
        let headers = resp.headers().clone();
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = resp.bytes().await.expect("response body").to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let doc_url = url.join("/api/v1/openapi.json").expect("document URL");
        let contract = Self::contract(&client, doc_url).await;
        let seen = contract::Observed {
            method: method.as_str(),
            path: url.path(),
            status: status.as_u16(),
            content_type: content_type.as_deref(),
            body: &text,
        };
        if let Err(broken) = contract.check(&seen) {
            panic!("the response breaks the API contract: {broken}");
        }
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, body, text, bytes }
    }

    /// The contract, fetched from the first app that asks (every app serves the same document).
    async fn contract(client: &reqwest::Client, doc_url: reqwest::Url) -> &'static contract::Contract {
        if let Some(c) = contract::loaded() {
            return c;
        }
        let doc: Value = client
            .get(doc_url)
            .send()
            .await
            .expect("the OpenAPI document is served")
            .json()
            .await
            .expect("the OpenAPI document is JSON");
        contract::load(doc)
    }

    /// GET as admin.
    pub async fn get(&self, path: &str) -> Reply {
        self.call(Some(Role::Admin), Method::GET, path, None).await
    }

    /// POST JSON as admin.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Some(Role::Admin), Method::POST, path, Some(body)).await
    }

    /// PATCH JSON as admin.
    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Some(Role::Admin), Method::PATCH, path, Some(body)).await
    }

    /// DELETE as admin.
    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Some(Role::Admin), Method::DELETE, path, None).await
    }

    /// Creates an app as admin and returns its id.
    pub async fn app(&self, name: &str) -> String {
        let body = self.post("/api/v1/apps", serde_json::json!({"name": name, "category": "chat"})).await.expect(201);
        body["id"].as_str().expect("id is a string").to_string()
    }

    /// Creates a subscription for `app_id` as admin and returns its id.
    pub async fn subscription(&self, app_id: &str, seats: i64, price: i64) -> String {
        let body = serde_json::json!({"app_id": app_id, "plan": "Business", "seats_purchased": seats,
            "unit_price_cents": price, "currency": "USD", "term_start": "2026-01-01", "term_end": "2026-12-31"});
        let body = self.post("/api/v1/subscriptions", body).await.expect(201);
        body["id"].as_str().expect("id is a string").to_string()
    }

    /// Number of audit log entries.
    pub async fn audit_count(&self) -> usize {
        let mut count = 0;
        let mut cursor = String::new();
        loop {
            let page = self.get(&format!("/api/v1/audit-log?limit=500&cursor={cursor}")).await.expect(200);
            count += page["items"].as_array().map(Vec::len).unwrap_or(0);
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => return count,
            }
        }
    }

    /// The CSV export of `kind`, as admin.
    pub async fn export(&self, kind: &str) -> String {
        let r = self.get(&format!("/api/v1/export/{kind}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.text
    }
}

/// A browser session made for a test.
pub struct SignedIn {
    /// `stackward_session=…`, for a Cookie header.
    pub cookie: String,
    /// The session's secret id (the cookie's value).
    pub secret: String,
    /// The token its forms carry as `csrf_token`.
    pub csrf_token: String,
}

/// A page as a browser received it, redirects not followed.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub html: String,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}
