//! GitHub REST (organisation admin + Copilot Business): `GET /orgs/{org}/members` (simple users,
//! `page`/`per_page` ≤ 100, default 30), `GET /orgs/{org}` (`plan.seats`/`plan.filled_seats`),
//! `GET /orgs/{org}/copilot/billing` (seat breakdown), `GET /orgs/{org}/copilot/billing/seats`
//! (`per_page` ≤ 100, default 50), `DELETE /orgs/{org}/copilot/billing/selected_users` (reclaim).
//! Auth: `Authorization: Bearer TOKEN` or `token TOKEN`. Paging: the `Link` header (`rel="next"`,
//! `rel="last"`, absolute URLs). Every reply carries `x-ratelimit-*`; over the primary limit GitHub
//! answers 403 with `x-ratelimit-remaining: 0` and a `x-ratelimit-reset` epoch (here now + 1 s).
//! Only licensed users hold Copilot seats; a cancelled seat shows `pending_cancellation_date`.

use super::server::{limit_param, query_param, FakeState};
use super::FakeUser;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::Engine;
use chrono::{DateTime, Datelike, Duration, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value};
use std::collections::HashSet;

/// The most items one page returns.
const MAX_PER_PAGE: usize = 100;
const DOCS: &str = "https://docs.github.com/rest";
const RATE_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";
/// The editor a Copilot seat's last activity came from.
const EDITOR: &str = "vscode/1.95.0/copilot/1.250.0";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/orgs/{org}/members", web::get().to(members))
        .route("/orgs/{org}/copilot/billing", web::get().to(copilot_billing))
        .route("/orgs/{org}/copilot/billing/seats", web::get().to(copilot_seats))
        .route("/orgs/{org}/copilot/billing/selected_users", web::delete().to(copilot_cancel))
        .route("/orgs/{org}", web::get().to(org));
}

fn epoch_in(secs: i64) -> String {
    (Utc::now() + Duration::seconds(secs)).timestamp().to_string()
}

/// A reply builder carrying the rate-limit headers GitHub sends on every REST reply.
fn ok() -> HttpResponseBuilder {
    let mut b = HttpResponse::Ok();
    b.insert_header(("x-ratelimit-limit", "5000"))
        .insert_header(("x-ratelimit-remaining", "4999"))
        .insert_header(("x-ratelimit-used", "1"))
        .insert_header(("x-ratelimit-reset", epoch_in(3600)))
        .insert_header(("x-ratelimit-resource", "core"));
    b
}

/// The primary rate limit: 403 with `x-ratelimit-remaining: 0` and the reset epoch.
pub(super) fn throttled() -> HttpResponse {
    HttpResponse::Forbidden()
        .insert_header(("x-ratelimit-limit", "5000"))
        .insert_header(("x-ratelimit-remaining", "0"))
        .insert_header(("x-ratelimit-used", "5000"))
        .insert_header(("x-ratelimit-reset", epoch_in(1)))
        .insert_header(("x-ratelimit-resource", "core"))
        .json(json!({
            "message": "API rate limit exceeded for user ID 1.",
            "documentation_url": RATE_DOCS,
            "status": "403",
        }))
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}))
}

fn authorized(req: &HttpRequest, state: &FakeState) -> bool {
    state.authorized(req, "Bearer") || state.authorized(req, "token")
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The login GitHub knows a user by: the email's local part (`user7`).
fn login(u: &FakeUser) -> String {
    u.email.split('@').next().unwrap_or_default().to_string()
}

fn simple_user(u: &FakeUser, base: &str) -> Value {
    let login = login(u);
    let id = u.number();
    json!({
        "login": login,
        "id": id,
        "node_id": base64::engine::general_purpose::STANDARD.encode(format!("04:User{id}")),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": format!("{base}/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "type": "User",
        "site_admin": false,
    })
}

/// The 1-based page asked for (GitHub treats a missing or unusable page as 1).
fn page_param(req: &HttpRequest) -> usize {
    query_param(req, "page").and_then(|p| p.parse::<usize>().ok()).filter(|p| *p > 0).unwrap_or(1)
}

/// The `Link` header GitHub sends: `first`/`prev` after page 1, `next`/`last` before the last page.
fn link(base: &str, path: &str, per_page: usize, page: usize, total: usize) -> String {
    let last = total.div_ceil(per_page).max(1);
    let url = |p: usize| format!("<{base}{path}?per_page={per_page}&page={p}>");
    let mut rels = Vec::new();
    if page > 1 {
        rels.push(format!("{}; rel=\"prev\"", url(page - 1)));
    }
    if page < last {
        rels.push(format!("{}; rel=\"next\"", url(page + 1)));
        rels.push(format!("{}; rel=\"last\"", url(last)));
    }
    if page > 1 {
        rels.push(format!("{}; rel=\"first\"", url(1)));
    }
    rels.join(", ")
}

fn with_link(mut b: HttpResponseBuilder, link: String) -> HttpResponseBuilder {
    if !link.is_empty() {
        b.insert_header(("link", link));
    }
    b
}

async fn members(req: HttpRequest, state: web::Data<FakeState>, org: web::Path<String>) -> HttpResponse {
    if !authorized(&req, &state) {
        return unauthorized();
    }
    let per_page = limit_param(&req, "per_page", 30, MAX_PER_PAGE);
    let page = page_param(&req);
    let dir = state.users();
    let base = state.base();
    let admins_only = query_param(&req, "role").as_deref() == Some("admin");
    let (items, total): (Vec<Value>, usize) = if admins_only {
        let admins: Vec<FakeUser> = dir.indices().filter_map(|i| dir.user(i)).filter(|u| u.admin).collect();
        let n = admins.len();
        (admins.iter().skip((page - 1) * per_page).take(per_page).map(|u| simple_user(u, &base)).collect(), n)
    } else {
        let items = dir
            .indices()
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .filter_map(|i| dir.user(i))
            .map(|u| simple_user(&u, &base))
            .collect();
        (items, dir.len())
    };
    let link = link(&base, &format!("/orgs/{org}/members"), per_page, page, total);
    with_link(ok(), link).json(items)
}

async fn org(req: HttpRequest, state: web::Data<FakeState>, org: web::Path<String>) -> HttpResponse {
    if !authorized(&req, &state) {
        return unauthorized();
    }
    let dir = state.users();
    ok().json(json!({
        "login": *org,
        "id": 9_000_001,
        "node_id": "MDEyOk9yZ2FuaXphdGlvbjkwMDAwMDE=",
        "url": format!("{}/orgs/{org}", state.base()),
        "name": format!("{org} (fake)"),
        "description": "A fake GitHub organisation",
        "type": "Organization",
        "plan": {
            "name": "team",
            "space": 976_562_499,
            "private_repos": 999_999,
            "filled_seats": dir.len(),
            "seats": dir.size() + 10,
        },
    }))
}

/// Whether the user's last activity falls in the current 30-day billing window.
fn active_this_cycle(u: &FakeUser, now: DateTime<Utc>) -> bool {
    u.last_active.is_some_and(|t| now - t <= Duration::days(30))
}

async fn copilot_billing(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !authorized(&req, &state) {
        return unauthorized();
    }
    let dir = state.users();
    let cancelled = cancelled(&state);
    let now = dir.now();
    let (mut total, mut active, mut pending) = (0, 0, 0);
    for u in dir.indices().filter(|i| dir.licensed(*i)).filter_map(|i| dir.user(i)) {
        total += 1;
        if active_this_cycle(&u, now) {
            active += 1;
        }
        if cancelled.contains(&login(&u)) {
            pending += 1;
        }
    }
    ok().json(json!({
        "seat_breakdown": {
            "total": total,
            "added_this_cycle": 0,
            "pending_invitation": 0,
            "pending_cancellation": pending,
            "active_this_cycle": active,
            "inactive_this_cycle": total - active,
        },
        "seat_management_setting": "assign_selected",
        "plan_type": "business",
        "public_code_suggestions": "block",
        "ide_chat": "enabled",
        "platform_chat": "enabled",
        "cli": "enabled",
    }))
}

/// Logins whose Copilot seat was cancelled through this fake.
fn cancelled(state: &FakeState) -> HashSet<String> {
    let actions = state.actions.lock().unwrap_or_else(|e| e.into_inner());
    actions.iter().filter_map(|a| a.strip_prefix("copilot cancel ")).map(str::to_string).collect()
}

/// A cancelled seat lasts until the end of the billing cycle (the first of next month).
fn next_cycle(now: DateTime<Utc>) -> String {
    let (y, m) = if now.month() == 12 { (now.year() + 1, 1) } else { (now.year(), now.month() + 1) };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string())
}

fn seat(u: &FakeUser, base: &str, cancelled: &HashSet<String>, now: DateTime<Utc>) -> Value {
    let mut assignee = simple_user(u, base);
    if let Some(a) = assignee.as_object_mut() {
        a.retain(|k, _| {
            matches!(k.as_str(), "login" | "id" | "node_id" | "avatar_url" | "url" | "type" | "site_admin")
        });
    }
    let pending = cancelled.contains(&login(u)).then(|| next_cycle(now));
    json!({
        "created_at": time(u.created),
        "updated_at": time(u.created),
        "pending_cancellation_date": pending,
        "last_activity_at": u.last_active.map(time),
        "last_activity_editor": u.last_active.map(|_| EDITOR),
        "last_authenticated_at": u.last_active.map(time),
        "plan_type": "business",
        "assignee": assignee,
        "assigning_team": null,
    })
}

async fn copilot_seats(req: HttpRequest, state: web::Data<FakeState>, org: web::Path<String>) -> HttpResponse {
    if !authorized(&req, &state) {
        return unauthorized();
    }
    let per_page = limit_param(&req, "per_page", 50, MAX_PER_PAGE);
    let page = page_param(&req);
    let dir = state.users();
    let base = state.base();
    let cancelled = cancelled(&state);
    let total = dir.indices().filter(|i| dir.licensed(*i)).count();
    let seats: Vec<Value> = dir
        .indices()
        .filter(|i| dir.licensed(*i))
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .filter_map(|i| dir.user(i))
        .map(|u| seat(&u, &base, &cancelled, dir.now()))
        .collect();
    let link = link(&base, &format!("/orgs/{org}/copilot/billing/seats"), per_page, page, total);
    with_link(ok(), link).json(json!({"total_seats": total, "seats": seats}))
}

/// Cancels the Copilot seats of `selected_usernames`; users without a seat are not counted.
async fn copilot_cancel(req: HttpRequest, state: web::Data<FakeState>, body: web::Bytes) -> HttpResponse {
    if !authorized(&req, &state) {
        return unauthorized();
    }
    let names: Option<Vec<String>> = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
        v["selected_usernames"].as_array().map(|a| a.iter().filter_map(|n| n.as_str().map(str::to_string)).collect())
    });
    let Some(names) = names.filter(|n| !n.is_empty()) else {
        return HttpResponse::UnprocessableEntity().json(json!({
            "message": "Invalid request.\n\n\"selected_usernames\" wasn't supplied.",
            "documentation_url": DOCS,
            "status": "422",
        }));
    };
    let holders: Vec<String> = {
        let dir = state.users();
        let cancelled = cancelled(&state);
        names
            .into_iter()
            .filter(|n| !cancelled.contains(n))
            .filter(|n| dir.by_email(&format!("{n}@example.com")).is_some_and(|u| u.licensed))
            .collect()
    };
    for n in &holders {
        state.record_action(format!("copilot cancel {n}"));
    }
    ok().json(json!({"seats_cancelled": holders.len()}))
}

#[cfg(test)]
mod tests {
    use crate::fakes::{FakeServer, Vendor, TOKEN};
    use serde_json::{json, Value};

    async fn get(base: &str, path: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        (status, headers, r.json().await.unwrap())
    }

    fn next(headers: &reqwest::header::HeaderMap) -> Option<String> {
        let link = headers.get("link")?.to_str().ok()?;
        link.split(", ").find(|l| l.ends_with("rel=\"next\"")).map(|l| l[1..l.find('>').unwrap()].to_string())
    }

    #[tokio::test]
    async fn pages_members_and_copilot_seats_with_link_headers() {
        let fake = FakeServer::start(Vendor::Github, 250).await.unwrap();
        let base = &fake.base_url;
        let (status, headers, first) = get(base, "/orgs/acme/members?per_page=100&page=1&role=all", TOKEN).await;
        assert_eq!(status, 200);
        assert_eq!(first.as_array().unwrap().len(), 100);
        assert_eq!((first[7]["login"].as_str(), first[7]["id"].as_u64()), (Some("user7"), Some(1_000_007)));
        assert_eq!(first[0]["type"], "User");
        assert_ne!(headers["x-ratelimit-remaining"], "0");
        let link = headers["link"].to_str().unwrap();
        assert!(link.contains(&format!("<{base}/orgs/acme/members?per_page=100&page=3>; rel=\"last\"")), "{link}");
        fake.remove_user(0);
        let next_url = next(&headers).unwrap();
        let (_, headers, second) = get("", &next_url, TOKEN).await;
        assert_eq!(second[0]["login"], "user101", "a removal shifts later pages, as at GitHub");
        let (_, _, third) = get("", &next(&headers).unwrap(), TOKEN).await;
        assert_eq!(third.as_array().unwrap().len(), 49);

        let (_, _, org) = get(base, "/orgs/acme", TOKEN).await;
        assert_eq!((org["plan"]["seats"].as_u64(), org["plan"]["filled_seats"].as_u64()), (Some(260), Some(249)));

        let (_, headers, seats) = get(base, "/orgs/acme/copilot/billing/seats", TOKEN).await;
        let licensed = (1..250).filter(|i| i % 7 != 6).count();
        assert_eq!(seats["total_seats"].as_u64(), Some(licensed as u64));
        assert_eq!(seats["seats"].as_array().unwrap().len(), 50);
        assert_eq!(seats["seats"][0]["assignee"]["login"], "user1");
        assert!(seats["seats"].as_array().unwrap().iter().all(|s| s["assignee"]["login"] != "user6"));
        assert_eq!(seats["seats"][2]["last_activity_at"], Value::Null, "user3 never signed in");
        assert!(next(&headers).unwrap().contains("page=2"));

        let r = reqwest::Client::new()
            .delete(format!("{base}/orgs/acme/copilot/billing/selected_users"))
            .header("authorization", format!("token {TOKEN}"))
            .json(&json!({"selected_usernames": ["user1", "user6", "nobody"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["seats_cancelled"], 1);
        assert_eq!(fake.actions(), vec!["copilot cancel user1"]);
        let (_, _, billing) = get(base, "/orgs/acme/copilot/billing", TOKEN).await;
        assert_eq!(billing["seat_breakdown"]["pending_cancellation"], 1);
        assert_eq!(billing["seat_breakdown"]["total"].as_u64(), Some(licensed as u64));

        let (status, _, err) = get(base, "/orgs/acme/members", "wrong").await;
        assert_eq!((status, err["message"].as_str()), (401, Some("Bad credentials")));
        fake.throttle("/members", 1);
        let (status, headers, err) = get(base, "/orgs/acme/members", TOKEN).await;
        assert_eq!((status, err["status"].as_str()), (403, Some("403")));
        assert_eq!(headers["x-ratelimit-remaining"], "0");
        let reset: i64 = headers["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
        assert!(reset <= chrono::Utc::now().timestamp() + 2);
        fake.stop().await;
    }
}
