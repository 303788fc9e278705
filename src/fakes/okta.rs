//! Okta Management API: `GET /api/v1/users` (`limit` ≤ 200, default 200), `GET /api/v1/apps`
//! (`limit` ≤ 200, default 20; four SAML apps: Slack, Zoom, Miro, Salesforce) and
//! `GET /api/v1/apps/{appId}/users` (`limit` ≤ 500, default 50; `expand=user` embeds the user).
//! Auth: `Authorization: SSWS TOKEN`. Paging: `after` cursors inside `Link` headers, one header per
//! relation (`rel="self"`, `rel="next"` when more follow), absolute URLs: follow them, don't build
//! them. Every reply carries `X-Rate-Limit-Limit/-Remaining/-Reset` (epoch s); throttling is 429
//! `E0000047` with `X-Rate-Limit-Remaining: 0` and a reset of now + 1 s, no `Retry-After`.
//! Times are RFC 3339 with milliseconds (`2024-05-01T09:00:00.000Z`); `lastLogin` is null for a
//! user who never signed in. App assignments: Slack every licensed user, Zoom index % 2 == 0,
//! Miro index % 3 == 0, Salesforce index % 5 == 0.

use super::server::{limit_param, query_param, FakeState};
use super::{Directory, FakeUser};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

/// (id, name, label, provisioned): the org's apps.
const APPS: &[(&str, &str, &str, bool)] = &[
    ("0oa1slack0000000a0x7", "slack", "Slack", true),
    ("0oa1zoom00000000a0x7", "zoomus", "Zoom", true),
    ("0oa1miro00000000a0x7", "miro", "Miro", false),
    ("0oa1sfdc00000000a0x7", "salesforce", "Salesforce.com", false),
];
const USER_TYPE: &str = "oty1fake0000000a0x7";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/users", web::get().to(users))
        .route("/api/v1/apps", web::get().to(apps))
        .route("/api/v1/apps/{appId}/users", web::get().to(app_users));
}

fn epoch_in(secs: i64) -> String {
    (Utc::now() + Duration::seconds(secs)).timestamp().to_string()
}

/// A reply builder with the rate-limit headers Okta sends on every reply.
fn reply(mut b: HttpResponseBuilder, remaining: u32, reset_in: i64) -> HttpResponseBuilder {
    b.insert_header(("X-Rate-Limit-Limit", "600"))
        .insert_header(("X-Rate-Limit-Remaining", remaining.to_string()))
        .insert_header(("X-Rate-Limit-Reset", epoch_in(reset_in)));
    b
}

fn error_id() -> String {
    format!("oae{:019}", Utc::now().timestamp_subsec_nanos())
}

fn error(b: HttpResponseBuilder, code: &str, summary: &str) -> HttpResponse {
    reply(b, 599, 60).json(json!({
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": error_id(),
        "errorCauses": [],
    }))
}

pub(super) fn throttled() -> HttpResponse {
    reply(HttpResponse::TooManyRequests(), 0, 1).json(json!({
        "errorCode": "E0000047",
        "errorSummary": "API call exceeded rate limit due to too many requests.",
        "errorLink": "E0000047",
        "errorId": error_id(),
        "errorCauses": [],
    }))
}

fn unauthorized() -> HttpResponse {
    error(HttpResponse::Unauthorized(), "E0000011", "Invalid token provided")
}

fn not_found(what: &str) -> HttpResponse {
    error(HttpResponse::NotFound(), "E0000007", &format!("Not found: Resource not found: {what}"))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn index_of(id: &str) -> Option<usize> {
    usize::from_str_radix(id.strip_prefix("00u")?, 16).ok()
}

fn user(u: &FakeUser, dir: &Directory, base: &str) -> Value {
    let id = u.id("00u");
    let mut profile = json!({
        "firstName": u.given_name,
        "lastName": u.family_name,
        "mobilePhone": null,
        "secondEmail": null,
        "login": u.email,
        "email": u.email,
        "department": u.department,
        "title": u.title,
    });
    if let Some(m) = u.manager.and_then(|m| dir.user(m)) {
        profile["managerId"] = json!(m.id("00u"));
        profile["manager"] = json!(m.email);
    }
    json!({
        "id": id,
        "status": if u.suspended { "SUSPENDED" } else { "ACTIVE" },
        "created": time(u.created),
        "activated": time(u.created),
        "statusChanged": time(u.created),
        "lastLogin": u.last_active.map(time),
        "lastUpdated": time(u.last_active.unwrap_or(u.created).max(u.created)),
        "passwordChanged": time(u.created),
        "type": {"id": USER_TYPE},
        "profile": profile,
        "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": format!("{base}/api/v1/users/{id}")}},
    })
}

/// The index an `after` cursor continues from (0 without one), None when it is no user id.
fn after_index(req: &HttpRequest) -> Option<usize> {
    match query_param(req, "after").filter(|a| !a.is_empty()) {
        None => Some(0),
        Some(a) => index_of(&a).map(|i| i + 1),
    }
}

fn bad_after() -> HttpResponse {
    error(HttpResponse::BadRequest(), "E0000001", "Api validation failed: after")
}

/// Okta sends one `Link` header per relation; `extra` is query kept from the request (`&expand=user`).
fn with_links(
    mut b: HttpResponseBuilder,
    base: &str,
    path: &str,
    limit: usize,
    extra: &str,
    after: Option<String>,
) -> HttpResponseBuilder {
    b.append_header(("link", format!("<{base}{path}?limit={limit}{extra}>; rel=\"self\"")));
    if let Some(a) = after {
        b.append_header(("link", format!("<{base}{path}?after={a}&limit={limit}{extra}>; rel=\"next\"")));
    }
    b
}

async fn users(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "SSWS") {
        return unauthorized();
    }
    let Some(from) = after_index(&req) else {
        return bad_after();
    };
    let limit = limit_param(&req, "limit", 200, 200);
    let base = state.base();
    let dir = state.users();
    let (page, next) = dir.page(from, limit);
    let after = next.and(page.last().map(|u| u.id("00u")));
    let body: Vec<Value> = page.iter().map(|u| user(u, &dir, &base)).collect();
    with_links(reply(HttpResponse::Ok(), 599, 60), &base, "/api/v1/users", limit, "", after).json(body)
}

fn app(a: &(&str, &str, &str, bool), base: &str) -> Value {
    let (id, name, label, _) = *a;
    json!({
        "id": id,
        "name": name,
        "label": label,
        "status": "ACTIVE",
        "lastUpdated": "2024-03-04T10:00:00.000Z",
        "created": "2023-01-09T08:30:00.000Z",
        "accessibility": {"selfService": false, "errorRedirectUrl": null, "loginRedirectUrl": null},
        "visibility": {"autoSubmitToolbar": false, "hide": {"iOS": false, "web": false}},
        "features": [],
        "signOnMode": "SAML_2_0",
        "credentials": {"userNameTemplate": {"template": "${source.email}", "type": "BUILT_IN"}, "signing": {}},
        "settings": {"app": {}},
        "_links": {
            "users": {"href": format!("{base}/api/v1/apps/{id}/users")},
            "self": {"href": format!("{base}/api/v1/apps/{id}")},
        },
    })
}

async fn apps(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "SSWS") {
        return unauthorized();
    }
    let limit = limit_param(&req, "limit", 20, 200);
    let from = match query_param(&req, "after").filter(|a| !a.is_empty()) {
        None => 0,
        Some(a) => match APPS.iter().position(|x| x.0 == a) {
            Some(p) => p + 1,
            None => return bad_after(),
        },
    };
    let base = state.base();
    let page: Vec<&(&str, &str, &str, bool)> = APPS.iter().skip(from).take(limit).collect();
    let after = (from + page.len() < APPS.len()).then(|| page.last().map(|a| a.0.to_string())).flatten();
    let body: Vec<Value> = page.iter().map(|a| app(a, &base)).collect();
    with_links(reply(HttpResponse::Ok(), 599, 60), &base, "/api/v1/apps", limit, "", after).json(body)
}

/// Whether user `index` is assigned to app number `slot` of [`APPS`].
fn assigned(dir: &Directory, slot: usize, index: usize) -> bool {
    match slot {
        0 => dir.licensed(index),
        1 => index.is_multiple_of(2),
        2 => index.is_multiple_of(3),
        _ => index.is_multiple_of(5),
    }
}

fn app_user(u: &FakeUser, dir: &Directory, slot: usize, expand: bool, base: &str) -> Value {
    let (app_id, name, _, provisioned) = APPS[slot];
    let id = u.id("00u");
    let assigned_at = time(u.created + Duration::days(1));
    let mut v = json!({
        "id": id,
        "externalId": if provisioned { json!(format!("{name}-{}", u.number())) } else { Value::Null },
        "created": assigned_at,
        "lastUpdated": assigned_at,
        "scope": "USER",
        "status": if provisioned { "PROVISIONED" } else { "ACTIVE" },
        "statusChanged": assigned_at,
        "passwordChanged": null,
        "syncState": "SYNCHRONIZED",
        "lastSync": assigned_at,
        "credentials": {"userName": u.email},
        "profile": {"email": u.email},
        "_links": {
            "app": {"href": format!("{base}/api/v1/apps/{app_id}")},
            "user": {"href": format!("{base}/api/v1/users/{id}")},
        },
    });
    if expand {
        v["_embedded"] = json!({"user": user(u, dir, base)});
    }
    v
}

async fn app_users(req: HttpRequest, state: web::Data<FakeState>, app_id: web::Path<String>) -> HttpResponse {
    if !state.authorized(&req, "SSWS") {
        return unauthorized();
    }
    let Some(slot) = APPS.iter().position(|a| a.0 == app_id.as_str()) else {
        return not_found(&format!("{app_id} (AppInstance)"));
    };
    let Some(from) = after_index(&req) else {
        return bad_after();
    };
    let limit = limit_param(&req, "limit", 50, 500);
    let expand = query_param(&req, "expand").as_deref() == Some("user");
    let base = state.base();
    let dir = state.users();
    let mut members = dir.indices().skip_while(|i| *i < from).filter(|i| assigned(&dir, slot, *i));
    let page: Vec<FakeUser> = members.by_ref().take(limit).filter_map(|i| dir.user(i)).collect();
    let after = members.next().and(page.last().map(|u| u.id("00u")));
    let body: Vec<Value> = page.iter().map(|u| app_user(u, &dir, slot, expand, &base)).collect();
    let path = format!("/api/v1/apps/{app_id}/users");
    let extra = if expand { "&expand=user" } else { "" };
    with_links(reply(HttpResponse::Ok(), 599, 60), &base, &path, limit, extra, after).json(body)
}

#[cfg(test)]
mod tests {
    use crate::fakes::{FakeServer, Vendor, TOKEN};
    use serde_json::Value;

    async fn get(url: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = reqwest::Client::new().get(url).header("authorization", format!("SSWS {token}")).send().await.unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        (status, headers, r.json().await.unwrap())
    }

    fn next(headers: &reqwest::header::HeaderMap) -> Option<String> {
        headers
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap()].to_string())
    }

    #[tokio::test]
    async fn pages_users_and_app_assignments_by_link_headers() {
        let fake = FakeServer::start(Vendor::Okta, 250).await.unwrap();
        let base = &fake.base_url;
        let (status, headers, first) = get(&format!("{base}/api/v1/users?limit=150"), TOKEN).await;
        assert_eq!(status, 200);
        assert_eq!(headers["x-rate-limit-limit"], "600");
        assert!(headers.get("x-rate-limit-reset").is_some());
        let users = first.as_array().unwrap();
        assert_eq!(users.len(), 150);
        assert_eq!(users[7]["id"], "00u000007");
        assert_eq!(users[7]["profile"]["login"], "user7@example.com");
        assert_eq!(users[7]["profile"]["managerId"], "00u000000");
        assert_eq!(users[5]["status"], "SUSPENDED");
        assert_eq!(users[3]["lastLogin"], Value::Null);
        assert!(users[0]["created"].as_str().unwrap().ends_with(".000Z"));
        let next_url = next(&headers).unwrap();
        assert_eq!(next_url, format!("{base}/api/v1/users?after=00u000095&limit=150"));
        fake.remove_user(150);
        let (_, headers, second) = get(&next_url, TOKEN).await;
        assert_eq!(second.as_array().unwrap().len(), 99);
        assert_eq!(second[0]["id"], "00u000097");
        assert!(next(&headers).is_none());

        let (_, _, apps) = get(&format!("{base}/api/v1/apps"), TOKEN).await;
        assert_eq!(apps.as_array().unwrap().len(), 4);
        assert_eq!((apps[1]["name"].as_str(), apps[1]["label"].as_str()), (Some("zoomus"), Some("Zoom")));
        let zoom = apps[1]["id"].as_str().unwrap();
        let (_, headers, first) = get(&format!("{base}/api/v1/apps/{zoom}/users?limit=100&expand=user"), TOKEN).await;
        assert_eq!(first.as_array().unwrap().len(), 100);
        assert_eq!(first[1]["credentials"]["userName"], "user2@example.com");
        assert_eq!(first[1]["_embedded"]["user"]["id"], "00u000002");
        let (_, _, second) = get(&next(&headers).unwrap(), TOKEN).await;
        assert_eq!(second.as_array().unwrap().len(), 24, "125 even indices, user150 removed");
        assert_eq!(second[0]["_embedded"]["user"]["id"], "00u0000CA", "the next link keeps expand=user");

        let (status, _, err) = get(&format!("{base}/api/v1/users"), "wrong").await;
        assert_eq!((status, err["errorCode"].as_str()), (401, Some("E0000011")));
        fake.throttle("/api/v1/users", 1);
        let (status, headers, err) = get(&format!("{base}/api/v1/users"), TOKEN).await;
        assert_eq!((status, err["errorCode"].as_str()), (429, Some("E0000047")));
        assert_eq!(headers["x-rate-limit-remaining"], "0");
        assert!(headers.get("retry-after").is_none());
        fake.stop().await;
    }
}
