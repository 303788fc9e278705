//! Slack Web API: `users.list` (`limit` ≤ 1000, default 200), `team.billableInfo` (`limit` ≤ 1000,
//! default 200, or one `user`) and `team.accessLogs` (`count` ≤ 1000, default 100; 1-based `page`
//! ≤ 100), each under `/api/`, by GET with a query or POST with a form body.
//! Auth: `Authorization: Bearer TOKEN`. Every reply is JSON with `ok`; errors other than throttling
//! are HTTP 200 `{"ok":false,"error":…}`: `not_authed` (no token), `invalid_auth` (wrong token),
//! `invalid_cursor`, `over_pagination_limit`, and `paid_only` from `team.accessLogs` when the
//! workspace has no users (how the fake plays a free-plan workspace). Throttling: 429 with
//! `Retry-After` and `{"ok":false,"error":"ratelimited"}`.
//! Cursors: `response_metadata.next_cursor`, `""` on the last page. Times are epoch seconds.
//! Users: suspended → `deleted: true`, unlicensed → `is_restricted` (a guest), user 0 the primary
//! owner; one bot user (`is_bot`, no email) comes first on the first page of `users.list`.
//! Access logs: one row per user who ever signed in, two (desktop app and browser) for
//! index % 5 == 0; the latest `date_last` is the user's last activity.

use super::server::{header, FakeState};
use super::{Directory, FakeUser};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{Duration, Utc};
use serde_json::{json, Map, Value};

const TEAM: &str = "T0FAKE";
const BOT_ID: &str = "U0FAKEBOT";
const TIMEZONES: &[(&str, &str, i64)] = &[
    ("Europe/London", "Greenwich Mean Time", 0),
    ("Europe/Berlin", "Central European Time", 3600),
    ("America/New_York", "Eastern Standard Time", -18000),
];

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    let methods = [
        ("users.list", Method::UsersList),
        ("team.billableInfo", Method::BillableInfo),
        ("team.accessLogs", Method::AccessLogs),
    ];
    for (name, method) in methods {
        let path = format!("/api/{name}");
        let handler = move |r: HttpRequest, s: web::Data<FakeState>, b: web::Bytes| dispatch(method, r, s, b);
        cfg.route(&path, web::get().to(handler)).route(&path, web::post().to(handler));
    }
}

#[derive(Debug, Clone, Copy)]
enum Method {
    UsersList,
    BillableInfo,
    AccessLogs,
}

/// The method's arguments: the query string, then a form body.
struct Args(Vec<(String, String)>);

impl Args {
    fn new(req: &HttpRequest, body: &[u8]) -> Self {
        let mut v: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
        v.extend(form_urlencoded::parse(body).into_owned());
        Args(v)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// A number within `1..=max`, or `default` when absent or unusable.
    fn limit(&self, name: &str, default: usize, max: usize) -> usize {
        self.get(name).and_then(|v| v.parse::<usize>().ok()).filter(|v| *v > 0).map_or(default, |v| v.min(max))
    }
}

fn fail(error: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": false, "error": error}))
}

pub(super) fn throttled() -> HttpResponse {
    HttpResponse::TooManyRequests()
        .insert_header(("Retry-After", "1"))
        .json(json!({"ok": false, "error": "ratelimited"}))
}

async fn dispatch(method: Method, req: HttpRequest, state: web::Data<FakeState>, body: web::Bytes) -> HttpResponse {
    if header(&req, "authorization").is_none() {
        return fail("not_authed");
    }
    if !state.authorized(&req, "Bearer") {
        return fail("invalid_auth");
    }
    let args = Args::new(&req, &body);
    match method {
        Method::UsersList => users_list(&args, &state),
        Method::BillableInfo => billable_info(&args, &state),
        Method::AccessLogs => access_logs(&args, &state),
    }
}

fn encode_cursor(index: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("user:U{index:06X}"))
}

/// The index a cursor continues from: Some(0) without one, None for a cursor the fake never gave.
fn decode_cursor(args: &Args) -> Option<usize> {
    let Some(c) = args.get("cursor") else {
        return Some(0);
    };
    let text = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(c).ok()?).ok()?;
    usize::from_str_radix(text.strip_prefix("user:U")?, 16).ok()
}

fn local_part(u: &FakeUser) -> String {
    u.email.split('@').next().unwrap_or_default().to_string()
}

fn member(u: &FakeUser) -> Value {
    let (tz, tz_label, tz_offset) = TIMEZONES[u.index % TIMEZONES.len()];
    let updated = u.last_active.unwrap_or(u.created).max(u.created).timestamp();
    json!({
        "id": u.id("U"),
        "team_id": TEAM,
        "name": local_part(u),
        "deleted": u.suspended,
        "color": "9f69e7",
        "real_name": u.full_name(),
        "tz": tz,
        "tz_label": tz_label,
        "tz_offset": tz_offset,
        "is_admin": u.admin,
        "is_owner": u.index == 0,
        "is_primary_owner": u.index == 0,
        "is_restricted": !u.licensed,
        "is_ultra_restricted": false,
        "is_bot": false,
        "is_app_user": false,
        "has_2fa": u.index.is_multiple_of(2),
        "updated": updated,
        "is_email_confirmed": true,
        "profile": {
            "title": u.title,
            "phone": "",
            "real_name": u.full_name(),
            "real_name_normalized": u.full_name(),
            "display_name": u.given_name,
            "display_name_normalized": u.given_name,
            "first_name": u.given_name,
            "last_name": u.family_name,
            "email": u.email,
            "team": TEAM,
        },
    })
}

fn bot(dir: &Directory) -> Value {
    json!({
        "id": BOT_ID,
        "team_id": TEAM,
        "name": "standup-bot",
        "deleted": false,
        "real_name": "Standup Bot",
        "tz": "America/Los_Angeles",
        "is_admin": false,
        "is_owner": false,
        "is_primary_owner": false,
        "is_restricted": false,
        "is_ultra_restricted": false,
        "is_bot": true,
        "is_app_user": false,
        "updated": dir.now().timestamp() - 86_400,
        "profile": {
            "real_name": "Standup Bot",
            "display_name": "",
            "bot_id": "B0FAKEBOT",
            "api_app_id": "A0FAKEAPP",
            "always_active": false,
            "first_name": "Standup",
            "last_name": "Bot",
            "team": TEAM,
        },
    })
}

fn next_cursor(next: Option<usize>) -> Value {
    json!({"next_cursor": next.map(encode_cursor).unwrap_or_default()})
}

fn users_list(args: &Args, state: &FakeState) -> HttpResponse {
    let Some(from) = decode_cursor(args) else {
        return fail("invalid_cursor");
    };
    let limit = args.limit("limit", 200, 1000);
    let dir = state.users();
    // The bot takes the first slot of the first page.
    let with_bot = args.get("cursor").is_none();
    let (page, next) = dir.page(from, limit - usize::from(with_bot));
    let mut members: Vec<Value> = with_bot.then(|| bot(&dir)).into_iter().collect();
    members.extend(page.iter().map(member));
    HttpResponse::Ok().json(json!({
        "ok": true,
        "members": members,
        "cache_ts": Utc::now().timestamp(),
        "response_metadata": next_cursor(next),
    }))
}

fn billable_info(args: &Args, state: &FakeState) -> HttpResponse {
    let dir = state.users();
    let entry = |u: &FakeUser| json!({"billing_active": u.licensed && !u.suspended});
    if let Some(id) = args.get("user") {
        let u = id.strip_prefix('U').and_then(|h| usize::from_str_radix(h, 16).ok()).and_then(|i| dir.user(i));
        let Some(u) = u else {
            return fail("user_not_found");
        };
        let mut map = Map::new();
        map.insert(u.id("U"), entry(&u));
        return HttpResponse::Ok().json(json!({"ok": true, "billable_info": map}));
    }
    let Some(from) = decode_cursor(args) else {
        return fail("invalid_cursor");
    };
    let (page, next) = dir.page(from, args.limit("limit", 200, 1000));
    let map: Map<String, Value> = page.iter().map(|u| (u.id("U"), entry(u))).collect();
    HttpResponse::Ok().json(json!({"ok": true, "billable_info": map, "response_metadata": next_cursor(next)}))
}

/// The access-log rows of a user: (date_first, date_last, count, ip, user agent).
fn logins(u: &FakeUser) -> Vec<(i64, i64, u64, String, &'static str)> {
    let Some(last) = u.last_active else {
        return Vec::new();
    };
    let first = (u.created + Duration::hours(2)).min(last).timestamp();
    let mut rows = vec![(
        first,
        last.timestamp(),
        40 + (u.index as u64 % 200),
        format!("192.0.2.{}", u.index % 250 + 1),
        "Slack/4.41.105 (Mac OS X 14.6.1)",
    )];
    if u.index.is_multiple_of(5) {
        let earlier = (last - Duration::days(3)).timestamp().max(first);
        rows.push((
            first,
            earlier,
            3 + (u.index as u64 % 20),
            format!("198.51.100.{}", u.index % 250 + 1),
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        ));
    }
    rows
}

fn access_logs(args: &Args, state: &FakeState) -> HttpResponse {
    let dir = state.users();
    if dir.is_empty() {
        return fail("paid_only");
    }
    let count = args.limit("count", 100, 1000);
    let page = args.limit("page", 1, usize::MAX);
    if page > 100 {
        return fail("over_pagination_limit");
    }
    let skip = (page - 1) * count;
    let mut total = 0;
    let mut rows = Vec::new();
    for u in dir.indices().filter_map(|i| dir.user(i)) {
        for (date_first, date_last, n, ip, agent) in logins(&u) {
            if total >= skip && rows.len() < count {
                rows.push(json!({
                    "user_id": u.id("U"),
                    "username": local_part(&u),
                    "date_first": date_first,
                    "date_last": date_last,
                    "count": n,
                    "ip": ip,
                    "user_agent": agent,
                    "isp": "Fake Broadband Ltd",
                    "country": "GB",
                    "region": "England",
                }));
            }
            total += 1;
        }
    }
    HttpResponse::Ok().json(json!({
        "ok": true,
        "logins": rows,
        "paging": {"count": count, "total": total, "page": page, "pages": total.div_ceil(count).max(1)},
    }))
}

#[cfg(test)]
mod tests {
    use crate::fakes::{FakeServer, Vendor, TOKEN};
    use serde_json::Value;

    async fn call(base: &str, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut r = reqwest::Client::new().get(format!("{base}/api/{path}"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[tokio::test]
    async fn pages_members_billing_and_access_logs_with_slack_errors() {
        let fake = FakeServer::start(Vendor::Slack, 250).await.unwrap();
        let base = &fake.base_url;
        let (status, first) = call(base, "users.list?limit=150", Some(TOKEN)).await;
        assert_eq!((status, first["ok"].as_bool()), (200, Some(true)));
        let members = first["members"].as_array().unwrap();
        assert_eq!(members.len(), 150);
        assert_eq!(members[0]["is_bot"], true);
        assert!(members[0]["profile"].get("email").is_none());
        assert_eq!(members[1]["is_primary_owner"], true);
        assert_eq!(members[1 + 6]["is_restricted"], true, "user6 holds no licence: a guest");
        assert_eq!(members[1 + 5]["deleted"], true, "user5 is suspended");
        assert_eq!(members[1 + 7]["profile"]["email"], "user7@example.com");
        fake.remove_user(149);
        let cursor = first["response_metadata"]["next_cursor"].as_str().unwrap();
        let (_, second) = call(base, &format!("users.list?limit=150&cursor={}", urlencode(cursor)), Some(TOKEN)).await;
        assert_eq!(second["members"].as_array().unwrap().len(), 100);
        assert_eq!(second["members"][0]["name"], "user150");
        assert_eq!(second["response_metadata"]["next_cursor"], "");

        let (_, billing) = call(base, "team.billableInfo?limit=200", Some(TOKEN)).await;
        let map = billing["billable_info"].as_object().unwrap();
        assert_eq!(map.len(), 200);
        assert_eq!(map["U000006"]["billing_active"], false);
        assert_eq!(map["U000007"]["billing_active"], true);
        let cursor = billing["response_metadata"]["next_cursor"].as_str().unwrap();
        let (_, rest) =
            call(base, &format!("team.billableInfo?limit=200&cursor={}", urlencode(cursor)), Some(TOKEN)).await;
        assert_eq!(rest["billable_info"].as_object().unwrap().len(), 49);

        let (_, logs) = call(base, "team.accessLogs?count=100&page=1", Some(TOKEN)).await;
        let rows = logs["logins"].as_array().unwrap();
        assert_eq!(rows.len(), 100);
        assert_eq!((rows[0]["user_id"].as_str(), rows[1]["user_id"].as_str()), (Some("U000000"), Some("U000000")));
        assert!(rows[0]["date_last"].as_i64() > rows[1]["date_last"].as_i64());
        assert!(rows.iter().all(|r| r["user_id"] != "U000003"), "user3 never signed in");
        let total = logs["paging"]["total"].as_u64().unwrap();
        let (_, last) =
            call(base, &format!("team.accessLogs?count=100&page={}", logs["paging"]["pages"]), Some(TOKEN)).await;
        assert_eq!(last["logins"].as_array().unwrap().len() as u64, total - 100 * (total.div_ceil(100) - 1));

        assert_eq!(
            call(base, "users.list", Some("wrong")).await,
            (200, serde_json::json!({"ok": false, "error": "invalid_auth"}))
        );
        assert_eq!(call(base, "users.list", None).await.1["error"], "not_authed");
        fake.throttle("users.list", 1);
        let (status, err) = call(base, "users.list", Some(TOKEN)).await;
        assert_eq!((status, err["error"].as_str()), (429, Some("ratelimited")));

        let empty = FakeServer::start(Vendor::Slack, 0).await.unwrap();
        assert_eq!(call(&empty.base_url, "team.accessLogs", Some(TOKEN)).await.1["error"], "paid_only");
        empty.stop().await;
        fake.stop().await;
    }

    fn urlencode(s: &str) -> String {
        form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }
}
