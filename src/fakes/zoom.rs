//! Zoom: the Server-to-Server OAuth token endpoint
//! `POST /oauth/token?grant_type=account_credentials&account_id=…` (HTTP Basic
//! `CLIENT_ID:CLIENT_SECRET`), `GET /v2/users` (`status=active|inactive|pending`, default active;
//! `page_size` ≤ 300, default 30; `next_page_token`, `""` on the last page),
//! `GET /v2/accounts/me/plans/usage` and `PATCH /v2/users/{userId}` (`{"type":1}` downgrades a
//! licensed user to Basic: how a seat is reclaimed; `{"type":2}` licenses again).
//! Auth: `Authorization: Bearer` token. Times are RFC 3339 without fractions
//! (`2024-05-01T09:00:00Z`); `last_login_time` and `last_client_version` are left out for a user
//! who never signed in. Suspended users are `inactive`. Throttling: 429 with `Retry-After`.

use super::server::{
    cursor_for, header, index_of_cursor, limit_param, query_param, FakeState, CLIENT_ID, CLIENT_SECRET,
};
use super::{Directory, FakeUser};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

const MAX_PAGE_SIZE: usize = 300;
/// Zoom user types.
const BASIC: u64 = 1;
const LICENSED: u64 = 2;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth/token", web::post().to(token))
        .route("/v2/users", web::get().to(users))
        .route("/v2/users/{userId}", web::patch().to(update))
        .route("/v2/accounts/me/plans/usage", web::get().to(plan_usage))
        .route("/v2/report/users", web::get().to(host_report));
}

/// Whether user `i` hosted meetings in the report period: licensed hosts, except every fourth
/// (index % 4 == 2), who only attend — the seats a downgrade to Basic would not miss.
fn hosted(u: &FakeUser, changes: &HashMap<String, u64>) -> bool {
    user_type(u, changes) == LICENSED && !u.suspended && u.index % 4 != 2
}

/// Active/inactive hosts report (`GET /report/users?type=active|inactive&from&to`): hosts who
/// did (active) or did not (inactive) host a meeting in the period, with their meeting counts.
async fn host_report(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let active = match query_param(&req, "type").as_deref() {
        None | Some("active") => true,
        Some("inactive") => false,
        Some(_) => return error(400, 300, "Invalid field: type."),
    };
    let from = match query_param(&req, "next_page_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match index_of_cursor(&t) {
            Some(i) => i,
            None => return error(400, 300, "The next page token is invalid or expired."),
        },
    };
    let page_size = limit_param(&req, "page_size", 30, MAX_PAGE_SIZE);
    let changes = type_changes(&state);
    let dir = state.users();
    let wanted = |i: usize| dir.user(i).is_some_and(|u| !u.suspended && hosted(&u, &changes) == active);
    let mut matching = dir.indices().skip_while(|i| *i < from).filter(|i| wanted(*i));
    let page: Vec<Value> = matching
        .by_ref()
        .take(page_size)
        .filter_map(|i| dir.user(i))
        .map(|u| {
            let meetings = if active { 1 + u.index % 9 } else { 0 };
            json!({"id": zoom_id(u.index), "email": u.email, "user_name": u.full_name(),
                "type": user_type(&u, &changes), "dept": u.department, "meetings": meetings,
                "participants": meetings * 4, "meeting_minutes": meetings * 35,
                "create_time": time(u.created)})
        })
        .collect();
    let next = matching.next().map(cursor_for).unwrap_or_default();
    let today = dir.now().date_naive();
    HttpResponse::Ok().json(json!({
        "from": query_param(&req, "from").unwrap_or_else(|| (today - chrono::Duration::days(30)).to_string()),
        "to": query_param(&req, "to").unwrap_or_else(|| today.to_string()),
        "page_size": page_size,
        "next_page_token": next,
        "users": page,
    }))
}

fn error(status: u16, code: u32, message: &str) -> HttpResponse {
    let s = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(s).json(json!({"code": code, "message": message}))
}

pub(super) fn throttled() -> HttpResponse {
    let mut resp = error(429, 429, "You have reached the maximum per-second rate limit for this API. Try again later.");
    resp.headers_mut()
        .insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from_static("1"));
    resp
}

fn unauthorized() -> HttpResponse {
    error(401, 124, "Invalid access token.")
}

fn oauth_error(status: u16, error: &str, reason: &str) -> HttpResponse {
    let s = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(s).json(json!({"reason": reason, "error": error}))
}

async fn token(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let basic = header(&req, "authorization").and_then(|h| h.strip_prefix("Basic ").map(|b| b.trim().to_string()));
    if basic.as_deref() != Some(expected.as_str()) {
        return oauth_error(401, "invalid_client", "Invalid client_id or client_secret");
    }
    if query_param(&req, "grant_type").as_deref() != Some("account_credentials") {
        return oauth_error(400, "unsupported_grant_type", "unsupported grant type");
    }
    if query_param(&req, "account_id").is_none_or(|a| a.is_empty()) {
        return oauth_error(400, "invalid_request", "Invalid request : Request parameter 'account_id' is missing.");
    }
    HttpResponse::Ok().json(json!({
        "access_token": state.issue_token(),
        "token_type": "bearer",
        "expires_in": 3599,
        "scope": "user:read:list_users:admin user:update:user:admin account:read:plan_usage:admin",
        "api_url": "https://api.zoom.us",
    }))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A 22-character id derived from the index (16 bytes, base64url), as Zoom's ids look.
fn zoom_id(index: usize) -> String {
    let mut bytes = *b"zoomfake\0\0\0\0\0\0\0\0";
    bytes[8..].copy_from_slice(&(index as u64).to_be_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn index_of(id: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id).ok()?;
    let tail: [u8; 8] = bytes.strip_prefix(b"zoomfake")?.try_into().ok()?;
    usize::try_from(u64::from_be_bytes(tail)).ok()
}

/// User types changed through `PATCH`: email → type.
fn type_changes(state: &FakeState) -> HashMap<String, u64> {
    let actions = state.actions.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = HashMap::new();
    for a in actions.iter() {
        let mut p = a.split(' ');
        if let (Some("zoom"), Some(op), Some(email)) = (p.next(), p.next(), p.next()) {
            out.insert(email.to_string(), if op == "downgrade" { BASIC } else { LICENSED });
        }
    }
    out
}

fn user_type(u: &FakeUser, changes: &HashMap<String, u64>) -> u64 {
    changes.get(&u.email).copied().unwrap_or(if u.licensed { LICENSED } else { BASIC })
}

fn user(u: &FakeUser, changes: &HashMap<String, u64>) -> Value {
    let role = match (u.index, u.admin) {
        (0, _) => "0",
        (_, true) => "1",
        _ => "2",
    };
    let mut v = json!({
        "id": zoom_id(u.index),
        "first_name": u.given_name,
        "last_name": u.family_name,
        "display_name": u.full_name(),
        "email": u.email,
        "type": user_type(u, changes),
        "pmi": 8_000_000_000u64 + u.index as u64,
        "timezone": "Europe/London",
        "verified": 1,
        "dept": u.department,
        "created_at": time(u.created),
        "user_created_at": time(u.created),
        "language": "en-US",
        "phone_number": "",
        "status": if u.suspended { "inactive" } else { "active" },
        "role_id": role,
        "group_ids": [],
    });
    if let Some(t) = u.last_active {
        v["last_login_time"] = json!(time(t));
        v["last_client_version"] = json!("6.2.5.49850(mac)");
    }
    v
}

async fn users(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let status = query_param(&req, "status").unwrap_or_else(|| "active".into());
    // Decided by index alone, so that a page of 100,000 users builds only the users it returns.
    let wanted: fn(&Directory, usize) -> bool = match status.as_str() {
        "active" => |d, i| !d.suspended(i),
        "inactive" => |d, i| d.suspended(i),
        // Invitations not yet accepted: the generated directory has none.
        "pending" => |_, _| false,
        _ => return error(400, 300, "Invalid field: status."),
    };
    let from = match query_param(&req, "next_page_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match index_of_cursor(&t) {
            Some(i) => i,
            None => return error(400, 300, "The next page token is invalid or expired."),
        },
    };
    let page_size = limit_param(&req, "page_size", 30, MAX_PAGE_SIZE);
    let changes = type_changes(&state);
    let dir = state.users();
    let total = dir.indices().filter(|i| wanted(&dir, *i)).count();
    let mut matching = dir.indices().skip_while(|i| *i < from).filter(|i| wanted(&dir, *i));
    let page: Vec<Value> =
        matching.by_ref().take(page_size).filter_map(|i| dir.user(i)).map(|u| user(&u, &changes)).collect();
    let next = matching.next().map(cursor_for).unwrap_or_default();
    HttpResponse::Ok().json(json!({
        "page_count": total.div_ceil(page_size),
        "page_number": 1,
        "page_size": page_size,
        "total_records": total,
        "next_page_token": next,
        "users": page,
    }))
}

fn find_user(dir: &Directory, key: &str) -> Option<FakeUser> {
    if key.contains('@') {
        dir.by_email(&key.to_ascii_lowercase())
    } else {
        dir.user(index_of(key)?)
    }
}

/// Updates a user; only `type` (1 Basic, 2 Licensed) changes anything here.
async fn update(
    req: HttpRequest,
    state: web::Data<FakeState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let Some(u) = find_user(&state.users(), &id) else {
        return error(404, 1001, &format!("User does not exist: {id}."));
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, 300, "Request Body should be a valid JSON object.");
    };
    match body.get("type").map(|t| t.as_u64()) {
        None => {}
        Some(Some(BASIC)) => state.record_action(format!("zoom downgrade {}", u.email)),
        Some(Some(LICENSED)) => state.record_action(format!("zoom license {}", u.email)),
        Some(_) => return error(400, 300, "Invalid field: type."),
    }
    HttpResponse::NoContent().finish()
}

async fn plan_usage(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let changes = type_changes(&state);
    let dir = state.users();
    // Deactivated users free their licence; purchased hosts are what the account started with + 5.
    let usage = dir
        .indices()
        .filter_map(|i| dir.user(i))
        .filter(|u| !u.suspended && user_type(u, &changes) == LICENSED)
        .count();
    let fresh = Directory::new(dir.size(), dir.now());
    let bought = (0..fresh.size()).filter(|i| fresh.licensed(*i)).count();
    HttpResponse::Ok().json(json!({
        "plan_base": {"type": "monthly", "hosts": bought + 5, "usage": usage, "pending": 0},
        "plan_large_meeting": [{"type": "large500monthly", "hosts": 2, "usage": 1}],
        "plan_webinar": [{"type": "webinar500monthly", "hosts": 1, "usage": 1}],
        "plan_recording": {
            "type": "cloud_recording_30gb_monthly",
            "free_storage": "5 GB",
            "free_storage_usage": "1.2 GB",
            "plan_storage": "30 GB",
            "plan_storage_usage": "12.5 GB",
            "plan_storage_exceed": "0",
        },
    }))
}

#[cfg(test)]
mod tests {
    use crate::fakes::{FakeServer, Vendor, CLIENT_ID, CLIENT_SECRET, TOKEN};
    use serde_json::{json, Value};

    async fn get(base: &str, path: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        (status, headers, r.json().await.unwrap())
    }

    async fn token(base: &str, secret: &str) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{base}/oauth/token?grant_type=account_credentials&account_id=fakeacct"))
            .basic_auth(CLIENT_ID, Some(secret))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[tokio::test]
    async fn pages_users_by_next_page_token_and_downgrades_seats() {
        let fake = FakeServer::start(Vendor::Zoom, 250).await.unwrap();
        let base = &fake.base_url;
        assert_eq!(
            token(base, "wrong").await,
            (401, json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}))
        );
        let (status, granted) = token(base, CLIENT_SECRET).await;
        assert_eq!((status, granted["token_type"].as_str()), (200, Some("bearer")));
        let access = granted["access_token"].as_str().unwrap().to_string();

        let suspended = (0..250).filter(|i| i % 23 == 5).count();
        let (status, _, first) = get(base, "/v2/users?status=active&page_size=150", &access).await;
        assert_eq!(status, 200);
        assert_eq!(first["total_records"].as_u64(), Some((250 - suspended) as u64));
        let users = first["users"].as_array().unwrap();
        assert_eq!(users.len(), 150);
        assert_eq!(users[0]["id"].as_str().unwrap().len(), 22);
        assert_eq!(users[5]["email"], "user6@example.com", "suspended user5 is not active");
        assert_eq!((users[5]["type"].as_u64(), users[6]["type"].as_u64()), (Some(1), Some(2)));
        assert!(users[3].get("last_login_time").is_none(), "user3 never signed in");
        assert!(users[4]["last_login_time"].as_str().unwrap().ends_with('Z'));
        fake.remove_user(249);
        let next = first["next_page_token"].as_str().unwrap();
        let (_, _, second) =
            get(base, &format!("/v2/users?status=active&page_size=150&next_page_token={next}"), TOKEN).await;
        assert_eq!(second["users"].as_array().unwrap().len(), 250 - suspended - 150 - 1);
        assert_eq!(second["next_page_token"], "");
        let (_, _, inactive) = get(base, "/v2/users?status=inactive&page_size=300", TOKEN).await;
        assert_eq!(inactive["users"][0]["email"], "user5@example.com");
        assert_eq!(inactive["users"][0]["status"], "inactive");

        let (_, _, before) = get(base, "/v2/accounts/me/plans/usage", TOKEN).await;
        let usage = before["plan_base"]["usage"].as_u64().unwrap();
        assert!(before["plan_base"]["hosts"].as_u64().unwrap() > usage);
        let id = users[6]["id"].as_str().unwrap();
        let r = reqwest::Client::new()
            .patch(format!("{base}/v2/users/{id}"))
            .bearer_auth(TOKEN)
            .json(&json!({"type": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        assert_eq!(fake.actions(), vec!["zoom downgrade user7@example.com"]);
        let (_, _, after) = get(base, "/v2/accounts/me/plans/usage", TOKEN).await;
        assert_eq!(after["plan_base"]["usage"].as_u64(), Some(usage - 1));

        let (status, _, err) = get(base, "/v2/users", "wrong").await;
        assert_eq!((status, err["code"].as_u64()), (401, Some(124)));
        fake.throttle("/v2/users", 1);
        let (status, headers, err) = get(base, "/v2/users", TOKEN).await;
        assert_eq!((status, err["code"].as_u64()), (429, Some(429)));
        assert_eq!(headers["retry-after"], "1");
        fake.stop().await;
    }
}
