//! Loopback HTTP middlemen for sync tests: a proxy in front of a vendor fake that can rewrite
//! its JSON replies (truncate a listing, answer an error, break one record), and a listener that
//! records every request it receives (where no request must arrive).

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Rewrites one reply: (path and query, status, JSON body) → (status, JSON body).
pub type Rewrite = Arc<dyn Fn(&str, u16, Value) -> (u16, Value) + Send + Sync>;

/// A reverse proxy on 127.0.0.1 in front of `upstream`.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    handle: actix_web::dev::ServerHandle,
}

struct Route {
    upstream: String,
    own: String,
    rewrite: Rewrite,
    client: reqwest::Client,
}

async fn forward(req: HttpRequest, body: web::Bytes, route: web::Data<Route>) -> HttpResponse {
    let path = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut out = route.client.request(method, format!("{}{path}", route.upstream)).body(body.to_vec());
    for (name, value) in req.headers() {
        if !matches!(name.as_str(), "host" | "content-length" | "connection" | "accept-encoding") {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    let Ok(reply) = out.send().await else { return HttpResponse::BadGateway().finish() };
    let status = reply.status().as_u16();
    let content_type = reply.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    // Links the vendor writes point at itself; a client of the proxy must see the proxy.
    let text = reply.text().await.unwrap_or_default().replace(&route.upstream, &route.own);
    let (status, text) = match serde_json::from_str::<Value>(&text) {
        Ok(json) => {
            let (s, j) = (route.rewrite)(&path, status, json);
            (s, j.to_string())
        }
        Err(_) => (status, text),
    };
    let code = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
    HttpResponse::build(code).content_type(content_type.unwrap_or_else(|| "application/json".into())).body(text)
}

impl Proxy {
    /// Starts a proxy to `upstream` (a base URL without a trailing slash) that passes every
    /// reply through `rewrite`.
    pub async fn start(upstream: &str, rewrite: Rewrite) -> Proxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let own = format!("http://{}", listener.local_addr().expect("address"));
        let route = web::Data::new(Route {
            upstream: upstream.trim_end_matches('/').to_string(),
            own: own.clone(),
            rewrite,
            client: reqwest::Client::new(),
        });
        let server = HttpServer::new(move || App::new().app_data(route.clone()).default_service(web::to(forward)))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        Proxy { base_url: own, handle }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

/// A listener that records the head of every request it receives and answers 401.
pub struct Listener {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    /// Request heads received, in order.
    pub heads: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// Starts listening on a loopback port.
    pub async fn start() -> Listener {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    seen.lock().unwrap_or_else(|e| e.into_inner()).push(String::from_utf8_lossy(&buf).into_owned());
                    let reply = "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                    let _ = stream.write_all(reply.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Listener { base_url, heads, task }
    }

    /// The request heads received so far.
    pub fn received(&self) -> Vec<String> {
        self.heads.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}
