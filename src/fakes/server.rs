//! The machinery every vendor fake shares: a real actix server on 127.0.0.1, a request log,
//! injected faults (a throttle reply or a 500 on the n-th matching request) and token checks.

use super::directory::Directory;
use super::Vendor;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// The static admin token every fake accepts (`Authorization: Bearer …`, Okta `SSWS …`, …).
pub const TOKEN: &str = "fake-admin-token";
/// The OAuth client id the fakes' token endpoints accept.
pub const CLIENT_ID: &str = "fake-client-id";
/// The OAuth client secret the fakes' token endpoints accept.
pub const CLIENT_SECRET: &str = "fake-client-secret";

/// One request as a fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query string.
    pub path_and_query: String,
    /// The Authorization header, if sent.
    pub authorization: Option<String>,
}

#[derive(Debug, Default)]
struct Faults {
    /// (path fragment, replies left): matching requests get the vendor's throttle reply.
    throttle: Vec<(String, usize)>,
    /// (path fragment, matching requests to let through first): then one 500.
    fail: Vec<(String, usize)>,
}

/// A fake's state, shared by its handlers and the test that drives it.
#[derive(Debug)]
pub struct FakeState {
    /// The vendor's users.
    pub directory: RwLock<Directory>,
    /// The URL the fake is reached at (for next-page links), set once bound.
    pub base_url: RwLock<String>,
    faults: Mutex<Faults>,
    requests: AtomicUsize,
    log: Mutex<Vec<LoggedRequest>>,
    issued: Mutex<HashSet<String>>,
    /// Free-form record of what write actions did (e.g. `deactivate U00002A`), for tests.
    pub actions: Mutex<Vec<String>>,
}

/// Most requests kept in the log (a 100,000-user benchmark must not grow it without bound).
const LOG_CAP: usize = 10_000;

impl FakeState {
    fn new(directory: Directory) -> Self {
        Self {
            directory: RwLock::new(directory),
            base_url: RwLock::new(String::new()),
            faults: Mutex::default(),
            requests: AtomicUsize::new(0),
            log: Mutex::default(),
            issued: Mutex::default(),
            actions: Mutex::default(),
        }
    }

    /// Reads the directory (a poisoned lock still holds valid data: handlers never panic mid-write).
    pub fn users(&self) -> std::sync::RwLockReadGuard<'_, Directory> {
        self.directory.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn base(&self) -> String {
        self.base_url.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Issues a new access token (token endpoints) and remembers it as valid.
    pub fn issue_token(&self) -> String {
        let n = self.issued.lock().unwrap_or_else(|e| e.into_inner()).len() + 1;
        let token = format!("fake-access-token-{n}");
        self.issued.lock().unwrap_or_else(|e| e.into_inner()).insert(token.clone());
        token
    }

    /// True for the static admin token or a token this fake issued and has not expired.
    pub fn accepts(&self, token: &str) -> bool {
        token == TOKEN || self.issued.lock().unwrap_or_else(|e| e.into_inner()).contains(token)
    }

    /// True when the request's `Authorization: {scheme} {token}` carries an accepted token.
    pub fn authorized(&self, req: &HttpRequest, scheme: &str) -> bool {
        header(req, "authorization")
            .and_then(|h| h.strip_prefix(scheme).map(|t| t.trim().to_string()))
            .is_some_and(|t| self.accepts(&t))
    }

    /// Records a write action (deactivations, licence removals) for tests to read.
    pub fn record_action(&self, action: impl Into<String>) {
        self.actions.lock().unwrap_or_else(|e| e.into_inner()).push(action.into());
    }

    fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut f = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = f.throttle.iter_mut().find(|(frag, left)| *left > 0 && path.contains(frag.as_str())) {
            t.1 -= 1;
            return Some(Fault::Throttle);
        }
        if let Some(pos) = f.fail.iter().position(|(frag, _)| path.contains(frag.as_str())) {
            if f.fail[pos].1 == 0 {
                f.fail.remove(pos);
                return Some(Fault::Fail);
            }
            f.fail[pos].1 -= 1;
        }
        None
    }
}

enum Fault {
    Throttle,
    Fail,
}

/// A request header as text.
pub fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// A query parameter of the request, decoded.
pub fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A query parameter as a number within `1..=max`, or `default` when absent or unusable.
pub fn limit_param(req: &HttpRequest, name: &str, default: usize, max: usize) -> usize {
    query_param(req, name).and_then(|v| v.parse::<usize>().ok()).filter(|v| *v > 0).map_or(default, |v| v.min(max))
}

/// An opaque page token meaning "continue at user `index`" (vendors' cursors are opaque too).
pub fn cursor_for(index: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("idx:{index}"))
}

/// The user index a token from [`cursor_for`] continues at; None for one the fake never gave.
pub fn index_of_cursor(token: &str) -> Option<usize> {
    use base64::Engine;
    let raw = String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    raw.strip_prefix("idx:")?.parse().ok()
}

/// A running fake of one vendor's admin API.
pub struct FakeServer {
    /// `http://127.0.0.1:PORT`: give it to a connection as `base_url`.
    pub base_url: String,
    /// The state its handlers share.
    pub state: Arc<FakeState>,
    /// Which vendor it fakes.
    pub vendor: Vendor,
    handle: ServerHandle,
}

impl FakeServer {
    /// Starts a fake of `vendor` with `users` generated users on a free loopback port.
    pub async fn start(vendor: Vendor, users: usize) -> std::io::Result<FakeServer> {
        Self::start_at(vendor, Directory::new(users, chrono::Utc::now())).await
    }

    /// Starts a fake serving a given directory (tests that fix the clock).
    pub async fn start_at(vendor: Vendor, directory: Directory) -> std::io::Result<FakeServer> {
        let state = Arc::new(FakeState::new(directory));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::from(shared.clone()))
                .app_data(web::Data::new(vendor))
                .app_data(web::PayloadConfig::new(1 << 20))
                .wrap(from_fn(observe))
                .configure(|cfg| vendor.routes(cfg))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")?;
        let addr = server.addrs().first().copied().ok_or_else(|| std::io::Error::other("no address bound"))?;
        let base_url = format!("http://{addr}");
        *state.base_url.write().unwrap_or_else(|e| e.into_inner()) = base_url.clone();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(FakeServer { base_url, state, vendor, handle })
    }

    /// Removes user `index` at the vendor.
    pub fn remove_user(&self, index: usize) {
        self.state.directory.write().unwrap_or_else(|e| e.into_inner()).remove(index);
    }

    /// Changes user `index`'s last sign-in at the vendor.
    pub fn set_last_active(&self, index: usize, at: Option<chrono::DateTime<chrono::Utc>>) {
        self.state.directory.write().unwrap_or_else(|e| e.into_inner()).set_last_active(index, at);
    }

    /// Suspends or reactivates user `index` at the vendor.
    pub fn set_suspended(&self, index: usize, suspended: bool) {
        self.state.directory.write().unwrap_or_else(|e| e.into_inner()).set_suspended(index, suspended);
    }

    /// The next `times` requests whose path contains `path_fragment` get the vendor's throttle reply.
    pub fn throttle(&self, path_fragment: &str, times: usize) {
        self.state.faults.lock().unwrap_or_else(|e| e.into_inner()).throttle.push((path_fragment.into(), times));
    }

    /// Lets `pass` requests whose path contains `path_fragment` through, then answers the next one 500.
    pub fn fail_after(&self, path_fragment: &str, pass: usize) {
        self.state.faults.lock().unwrap_or_else(|e| e.into_inner()).fail.push((path_fragment.into(), pass));
    }

    /// Forgets every access token issued so far (so clients must refresh or fetch a new one).
    pub fn expire_tokens(&self) {
        self.state.issued.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// The logged requests (the first 10,000).
    pub fn log(&self) -> Vec<LoggedRequest> {
        self.state.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Write actions the fake performed, in order.
    pub fn actions(&self) -> Vec<String> {
        self.state.actions.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops serving.
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// Counts and logs every request and answers injected faults before the vendor's handler runs.
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<FakeState>>().cloned();
    if let Some(state) = state {
        state.requests.fetch_add(1, Ordering::Relaxed);
        let path = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
        {
            let mut log = state.log.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() < LOG_CAP {
                log.push(LoggedRequest {
                    method: req.method().to_string(),
                    path_and_query: path.clone(),
                    authorization: header(req.request(), "authorization"),
                });
            }
        }
        match state.take_fault(&path) {
            Some(Fault::Throttle) => {
                let vendor = req.app_data::<web::Data<Vendor>>().map(|v| *v.get_ref());
                let resp = vendor.map(|v| v.throttled()).unwrap_or_else(|| HttpResponse::TooManyRequests().finish());
                return Ok(req.into_response(resp));
            }
            Some(Fault::Fail) => {
                let resp = HttpResponse::InternalServerError()
                    .content_type("application/json")
                    .body(r#"{"error":"internal server error (injected by the test)"}"#);
                return Ok(req.into_response(resp));
            }
            None => {}
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
