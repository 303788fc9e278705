//! Zendesk Support API: `GET /api/v2/users` filtered by `role[]=agent&role[]=admin`, with cursor
//! pagination (`page[size]` ≤ 100, `page[after]` or `page[before]` → `meta.has_more`,
//! `meta.after_cursor`, `meta.before_cursor` and absolute `links.next`/`links.prev`) or offset
//! pagination (`page`, `per_page`; 400 beyond page 100).
//! Auth: HTTP Basic `admin@example.com/token` + API token, or an OAuth `Bearer` token.
//! Roles: admins and licensed users are agents (paid seats); the rest are end-users.
//! Dates in RFC 3339 with a `Z`: `2026-11-20T10:15:30Z`.

use super::server::{cursor_for, header, index_of_cursor, limit_param, query_param, FakeState};
use super::{Directory, FakeUser};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

const MAX_SIZE: usize = 100;
/// Offset pagination stops here (100 pages), as Zendesk's does.
const MAX_OFFSET_PAGE: usize = 100;
/// The agent whose email the API-token Basic credentials name.
const ADMIN_EMAIL: &str = "admin@example.com";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v2/users", web::get().to(list)).route("/api/v2/users.json", web::get().to(list));
}

pub(super) fn throttled() -> HttpResponse {
    HttpResponse::TooManyRequests().insert_header(("Retry-After", "1")).json(json!({
        "error": "APIRateLimitExceeded",
        "description": "Number of allowed API requests per minute exceeded",
    }))
}

/// `{email}/token:{api_token}` by HTTP Basic, or an OAuth access token.
fn authorized(req: &HttpRequest, state: &FakeState) -> bool {
    if state.authorized(req, "Bearer") {
        return true;
    }
    header(req, "authorization")
        .and_then(|h| h.strip_prefix("Basic ").and_then(|b| STANDARD.decode(b.trim()).ok()))
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix(&format!("{ADMIN_EMAIL}/token:")).map(|t| state.accepts(t)))
        .unwrap_or(false)
}

fn role(u: &FakeUser) -> &'static str {
    if u.admin {
        "admin"
    } else if u.licensed {
        "agent"
    } else {
        "end-user"
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn user(u: &FakeUser, base: &str) -> Value {
    let id = u.number();
    json!({
        "id": id,
        "url": format!("{base}/api/v2/users/{id}.json"),
        "name": u.full_name(),
        "email": u.email,
        "created_at": rfc3339(u.created),
        "updated_at": rfc3339(u.last_active.unwrap_or(u.created).max(u.created)),
        "time_zone": "London",
        "iana_time_zone": "Europe/London",
        "role": role(u),
        // 4 = admin; plain agents and end-users carry no role type.
        "role_type": if u.admin { json!(4) } else { Value::Null },
        "custom_role_id": null,
        "active": true,
        "verified": true,
        "suspended": u.suspended,
        "last_login_at": u.last_active.map(rfc3339),
    })
}

/// True when `roles` (the `role[]` filter) is empty or names the user's role.
fn wanted(u: &FakeUser, roles: &[String]) -> bool {
    roles.is_empty() || roles.iter().any(|r| r == role(u))
}

/// Up to `limit` users with index ≥ `from` whose role is wanted, and the index of the next one.
fn filtered_page(dir: &Directory, from: usize, limit: usize, roles: &[String]) -> (Vec<FakeUser>, Option<usize>) {
    let mut out = Vec::new();
    let mut at = Some(from);
    while let Some(i) = at {
        let (chunk, next) = dir.page(i, 128);
        for u in chunk.into_iter().filter(|u| wanted(u, roles)) {
            if out.len() == limit {
                return (out, Some(u.index));
            }
            out.push(u);
        }
        at = next;
    }
    (out, None)
}

fn invalid_pagination(description: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": "InvalidPaginationParameter", "description": description}))
}

async fn list(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !authorized(&req, &state) {
        return HttpResponse::Unauthorized().json(json!({"error": "Couldn't authenticate you"}));
    }
    let params: Vec<(String, String)> =
        form_urlencoded::parse(req.query_string().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let roles: Vec<String> =
        params.iter().filter(|(k, _)| k == "role[]" || k == "role").map(|(_, v)| v.clone()).collect();
    let base = state.base();
    let role_query: String = roles.iter().map(|r| format!("role[]={r}&")).collect();
    let dir = state.users();

    if let Some(page) = query_param(&req, "page") {
        let Some(page) = page.parse::<usize>().ok().filter(|p| *p >= 1) else {
            return invalid_pagination("page must be a positive integer");
        };
        if page > MAX_OFFSET_PAGE {
            return invalid_pagination(
                "Offset pagination is limited to the first 100 pages. Use cursor based pagination instead.",
            );
        }
        let per_page = limit_param(&req, "per_page", MAX_SIZE, MAX_SIZE);
        // One counting pass (offset pages need the total); only the asked-for page is kept.
        let skip = (page - 1) * per_page;
        let mut users = Vec::new();
        let mut count = 0;
        for u in dir.indices().filter_map(|i| dir.user(i)).filter(|u| wanted(u, &roles)) {
            if (skip..skip + per_page).contains(&count) {
                users.push(u);
            }
            count += 1;
        }
        let more = count > skip + per_page;
        let link = |p: usize| format!("{base}/api/v2/users.json?{role_query}page={p}&per_page={per_page}");
        return HttpResponse::Ok().json(json!({
            "users": users.iter().map(|u| user(u, &base)).collect::<Vec<_>>(),
            "next_page": more.then(|| link(page + 1)),
            "previous_page": (page > 1).then(|| link(page - 1)),
            "count": count,
        }));
    }

    let cursor = |name: &str| query_param(&req, name).map(|c| index_of_cursor(&c).ok_or(name.to_string()));
    let size = limit_param(&req, "page[size]", MAX_SIZE, MAX_SIZE);
    // `has_more` tells whether more users lie in the direction being paged.
    let (users, has_more) = match (cursor("page[after]"), cursor("page[before]")) {
        (Some(Err(name)), _) | (_, Some(Err(name))) => {
            return invalid_pagination(&format!("{name} is not a valid cursor"));
        }
        (Some(Ok(_)), Some(Ok(_))) => return invalid_pagination("page[after] and page[before] cannot be combined"),
        (_, Some(Ok(before))) => filtered_before(&dir, before, size, &roles),
        (after, None) => {
            let (users, next) = filtered_page(&dir, after.and_then(Result::ok).unwrap_or(0), size, &roles);
            (users, next.is_some())
        }
    };
    // Cursors are "continue from index N": after the last user shown, or before the first.
    let after = users.last().map(|u| cursor_for(u.index + 1));
    let before = users.first().map(|u| cursor_for(u.index));
    let link =
        |way: &str, c: &String| format!("{base}/api/v2/users.json?{role_query}page[size]={size}&page[{way}]={c}");
    let backwards = query_param(&req, "page[before]").is_some();
    let more_after = if backwards { true } else { has_more };
    let more_before = if backwards { has_more } else { users.first().is_some_and(|u| u.index > 0) };
    HttpResponse::Ok().json(json!({
        "users": users.iter().map(|u| user(u, &base)).collect::<Vec<_>>(),
        "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
        "links": {
            "prev": before.as_ref().filter(|_| more_before).map(|c| link("before", c)),
            "next": after.as_ref().filter(|_| more_after).map(|c| link("after", c)),
        },
    }))
}

/// Up to `limit` wanted users with index < `before` (the last ones), and whether more precede them.
fn filtered_before(dir: &Directory, before: usize, limit: usize, roles: &[String]) -> (Vec<FakeUser>, bool) {
    let mut out = Vec::new();
    let mut more = false;
    for u in (0..before).rev().filter_map(|i| dir.user(i)).filter(|u| wanted(u, roles)) {
        if out.len() == limit {
            more = true;
            break;
        }
        out.push(u);
    }
    out.reverse();
    (out, more)
}

#[cfg(test)]
mod tests {
    use crate::fakes::{FakeServer, Vendor, TOKEN};
    use serde_json::Value;

    async fn get(url: &str, auth: (&str, &str)) -> (u16, Value) {
        let c = reqwest::Client::new().get(url);
        let c = if auth.0.is_empty() { c.bearer_auth(auth.1) } else { c.basic_auth(auth.0, Some(auth.1)) };
        let r = c.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[tokio::test]
    async fn pages_agents_by_cursor_and_answers_zendesk_errors() {
        let fake = FakeServer::start(Vendor::Zendesk, 250).await.unwrap();
        let base = &fake.base_url;
        let basic = ("admin@example.com/token", TOKEN);
        let url = format!("{base}/api/v2/users?role[]=agent&role[]=admin&page[size]=100");
        fake.remove_user(1);
        let (status, first) = get(&url, basic).await;
        assert_eq!(status, 200);
        let users = first["users"].as_array().unwrap();
        assert_eq!(users.len(), 100);
        assert_eq!(users[0]["id"], 1_000_000);
        assert_eq!(users[0]["role"], "admin");
        assert_eq!(users[1]["email"], "user2@example.com");
        assert_eq!(users[1]["role"], "agent");
        assert!(users.iter().all(|u| u["email"] != "user6@example.com"), "end-users are filtered out");
        assert!(users[2]["last_login_at"].is_null(), "user 3 never signed in");
        assert!(users[3]["last_login_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(first["meta"]["has_more"], true);

        let next = first["links"]["next"].as_str().unwrap().to_string();
        assert!(next.starts_with(base.as_str()));
        let last_email = users[99]["email"].as_str().unwrap().to_string();
        let (_, second) = get(&next, ("", TOKEN)).await;
        let second_users = second["users"].as_array().unwrap();
        assert!(second_users[0]["id"].as_u64() > users[99]["id"].as_u64(), "after {last_email}");
        let after = second["meta"]["after_cursor"].as_str().unwrap();
        let (_, third) =
            get(&format!("{base}/api/v2/users?role[]=agent&role[]=admin&page[after]={after}"), basic).await;
        assert_eq!(third["meta"]["has_more"], false);
        let (_, back) = get(second["links"]["prev"].as_str().unwrap(), basic).await;
        let ids = |v: &Value| v["users"].as_array().unwrap().iter().map(|u| u["id"].clone()).collect::<Vec<_>>();
        assert_eq!(ids(&back), ids(&first), "page[before] returns the previous page");
        assert!(back["links"]["prev"].is_null(), "nothing precedes the first page");
        assert!(third["links"]["next"].is_null());
        let agents = (0..250).filter(|i| *i != 1 && (i % 7 != 6 || i % 50 == 0)).count();
        assert_eq!(users.len() + second_users.len() + third["users"].as_array().unwrap().len(), agents);

        let (status, err) = get(&format!("{base}/api/v2/users?page=101&per_page=100"), basic).await;
        assert_eq!((status, err["error"].as_str()), (400, Some("InvalidPaginationParameter")));
        let (status, offset) = get(&format!("{base}/api/v2/users?page=3&per_page=100"), basic).await;
        assert_eq!((status, offset["users"].as_array().map(Vec::len)), (200, Some(49)));
        assert_eq!(offset["count"], 249);
        let (status, err) = get(&url, ("admin@example.com/token", "wrong")).await;
        assert_eq!((status, err["error"].as_str()), (401, Some("Couldn't authenticate you")));
        fake.throttle("/api/v2/users", 1);
        let r = reqwest::Client::new().get(&url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (429, "1"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "APIRateLimitExceeded");
        fake.stop().await;
    }
}
