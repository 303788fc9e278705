//! Salesforce REST API: `POST /services/oauth2/token` (client-credentials flow, answers with
//! `instance_url` = the fake), `GET /services/data/v62.0/query?q=<SOQL>` over `User` and
//! `UserLicense`, `GET /services/data/v62.0/query/{locator}` (the `nextRecordsUrl` of a
//! `done: false` page), `PATCH /services/data/v62.0/sobjects/User/{Id}` (`{"IsActive": false}`
//! frees the seat). Bearer token; errors as `[{message, errorCode}]`; every API reply carries
//! `Sforce-Limit-Info: api-usage=N/15000`; over the limit is a 403 `REQUEST_LIMIT_EXCEEDED`.
//! Dates in Salesforce's own form, `2026-11-20T10:15:30.000+0000`.

use super::server::{header, query_param, FakeState, CLIENT_ID, CLIENT_SECRET};
use super::FakeUser;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

const API: &str = "/services/data/v62.0";
/// The rolling 24-hour API allocation reported in `Sforce-Limit-Info`.
const DAILY_LIMIT: usize = 15_000;
/// Records per page unless `Sforce-Query-Options: batchSize=N` asks otherwise (200–2000).
const DEFAULT_BATCH: usize = 2000;
const MIN_BATCH: usize = 200;
/// A query locator: the index to continue from follows the dash.
const LOCATOR: &str = "01gFAKE-";

/// API calls answered so far, for `Sforce-Limit-Info`.
#[derive(Debug, Default)]
struct ApiUsage(AtomicUsize);

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(ApiUsage::default()))
        .route("/services/oauth2/token", web::post().to(token))
        .route("/services/data/v62.0/query", web::get().to(query))
        .route("/services/data/v62.0/query/{locator}", web::get().to(more))
        .route("/services/data/v62.0/sobjects/User/{id}", web::patch().to(update_user));
}

/// The REST API's error body: a JSON array of `{message, errorCode}`.
fn error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!([{"message": message, "errorCode": code}]))
}

/// Salesforce has no wait hint: the org's rolling 24-hour allocation is used up.
pub(super) fn throttled() -> HttpResponse {
    let mut resp = error(StatusCode::FORBIDDEN, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    insert_header(&mut resp, "sforce-limit-info", &format!("api-usage={DAILY_LIMIT}/{DAILY_LIMIT}"));
    resp
}

fn insert_header(resp: &mut HttpResponse, name: &'static str, value: &str) {
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(value) {
        resp.headers_mut().insert(actix_web::http::header::HeaderName::from_static(name), v);
    }
}

/// Counts the call and stamps `Sforce-Limit-Info` on the reply.
fn metered(usage: &ApiUsage, mut resp: HttpResponse) -> HttpResponse {
    let n = usage.0.fetch_add(1, Ordering::Relaxed) + 1;
    insert_header(&mut resp, "sforce-limit-info", &format!("api-usage={}/{DAILY_LIMIT}", n.min(DAILY_LIMIT)));
    resp
}

fn unauthorized() -> HttpResponse {
    error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID", "Session expired or invalid")
}

/// `2026-11-20T10:15:30.000+0000`: milliseconds and an offset without a colon.
fn sf_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

/// An 18-character record id: 3-character key prefix, the index, a fixed checksum suffix.
fn record_id(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:012X}AAA")
}

fn index_of(id: &str) -> Option<usize> {
    let hex = id.strip_prefix("005")?.strip_suffix("AAA")?;
    (hex.len() == 12).then(|| usize::from_str_radix(hex, 16).ok()).flatten()
}

/// The two licences the fake's org holds: (Id, Name, LicenseDefinitionKey, spare seats).
const LICENCES: [(usize, &str, &str, usize); 2] = [(1, "Salesforce", "SFDC", 7), (2, "Salesforce Platform", "AUL", 3)];

fn licence_ref(licensed: bool) -> Value {
    let (n, name, _, _) = if licensed { LICENCES[0] } else { LICENCES[1] };
    let id = record_id("100", n);
    json!({"attributes": {"type": "UserLicense", "url": format!("{API}/sobjects/UserLicense/{id}")}, "Name": name})
}

fn user_record(u: &FakeUser) -> Value {
    let id = record_id("005", u.index);
    let (profile_n, profile) = if u.admin { (1, "System Administrator") } else { (2, "Standard User") };
    let profile_id = record_id("00e", profile_n);
    json!({
        "attributes": {"type": "User", "url": format!("{API}/sobjects/User/{id}")},
        "Id": id,
        "Username": format!("{}.sf", u.email),
        "Email": u.email,
        "Name": u.full_name(),
        "IsActive": !u.suspended,
        "UserType": "Standard",
        "LastLoginDate": u.last_active.map(sf_date),
        "CreatedDate": sf_date(u.created),
        "Profile": {
            "attributes": {"type": "Profile", "url": format!("{API}/sobjects/Profile/{profile_id}")},
            "Name": profile,
            "UserLicense": licence_ref(u.licensed),
        },
    })
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Client-credentials flow of a connected app.
async fn token(state: web::Data<FakeState>, body: web::Bytes) -> HttpResponse {
    let f = form(&body);
    if field(&f, "grant_type") != Some("client_credentials") {
        return HttpResponse::BadRequest()
            .json(json!({"error": "unsupported_grant_type", "error_description": "grant type not supported"}));
    }
    if field(&f, "client_id") != Some(CLIENT_ID) || field(&f, "client_secret") != Some(CLIENT_SECRET) {
        return HttpResponse::BadRequest()
            .json(json!({"error": "invalid_client", "error_description": "invalid client credentials"}));
    }
    let base = state.base();
    HttpResponse::Ok().json(json!({
        "access_token": state.issue_token(),
        "signature": "ZmFrZS1zaWduYXR1cmU=",
        "scope": "api",
        "instance_url": base,
        "id": format!("{base}/id/{}/{}", record_id("00D", 1), record_id("005", 0)),
        "token_type": "Bearer",
        "issued_at": Utc::now().timestamp_millis().to_string(),
    }))
}

/// `Sforce-Query-Options: batchSize=N`, clamped to 200–2000.
fn batch_size(req: &HttpRequest) -> usize {
    header(req, "sforce-query-options")
        .and_then(|h| {
            h.split(',').find_map(|o| o.trim().strip_prefix("batchSize=").and_then(|n| n.trim().parse::<usize>().ok()))
        })
        .map_or(DEFAULT_BATCH, |n| n.clamp(MIN_BATCH, DEFAULT_BATCH))
}

enum Object {
    User,
    UserLicense,
}

/// The sObject a SOQL query reads, from its `FROM` clause (case-insensitive).
fn object_of(soql: &str) -> Option<Object> {
    let words: Vec<String> = soql.split_whitespace().map(str::to_ascii_lowercase).collect();
    let from = words.iter().position(|w| w == "from")?;
    match words.get(from + 1).map(String::as_str) {
        Some("user") => Some(Object::User),
        Some("userlicense") => Some(Object::UserLicense),
        _ => None,
    }
}

async fn query(req: HttpRequest, state: web::Data<FakeState>, usage: web::Data<ApiUsage>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let soql = query_param(&req, "q").unwrap_or_default();
    let resp = match object_of(&soql) {
        Some(Object::User) => users_page(&state, 0, batch_size(&req)),
        Some(Object::UserLicense) => licences(&state),
        None => error(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            &format!("unexpected token: the fake answers only queries FROM User or FROM UserLicense: {soql}"),
        ),
    };
    metered(&usage, resp)
}

async fn more(
    req: HttpRequest,
    state: web::Data<FakeState>,
    usage: web::Data<ApiUsage>,
    locator: web::Path<String>,
) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let resp = match locator.strip_prefix(LOCATOR).and_then(|n| n.parse::<usize>().ok()) {
        Some(from) => users_page(&state, from, batch_size(&req)),
        None => error(StatusCode::BAD_REQUEST, "INVALID_QUERY_LOCATOR", "invalid query locator"),
    };
    metered(&usage, resp)
}

fn users_page(state: &FakeState, from: usize, batch: usize) -> HttpResponse {
    let dir = state.users();
    let (users, next) = dir.page(from, batch);
    let mut body = json!({
        "totalSize": dir.len(),
        "done": next.is_none(),
        "records": users.iter().map(user_record).collect::<Vec<_>>(),
    });
    if let Some(n) = next {
        body["nextRecordsUrl"] = json!(format!("{API}/query/{LOCATOR}{n}"));
    }
    HttpResponse::Ok().json(body)
}

fn licences(state: &FakeState) -> HttpResponse {
    let dir = state.users();
    // Used seats are the active users holding each licence (a counting pass, no list is built).
    let (mut full, mut platform) = (0usize, 0usize);
    for u in dir.indices().filter_map(|i| dir.user(i)).filter(|u| !u.suspended) {
        if u.licensed {
            full += 1;
        } else {
            platform += 1;
        }
    }
    let updated = sf_date(dir.now());
    let records: Vec<Value> = LICENCES
        .iter()
        .zip([full, platform])
        .map(|(&(n, name, key, spare), used)| {
            let id = record_id("100", n);
            json!({
                "attributes": {"type": "UserLicense", "url": format!("{API}/sobjects/UserLicense/{id}")},
                "Id": id,
                "Name": name,
                "MasterLabel": name,
                "LicenseDefinitionKey": key,
                "Status": "Active",
                "TotalLicenses": used + spare,
                "UsedLicenses": used,
                "UsedLicensesLastUpdated": updated,
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({"totalSize": records.len(), "done": true, "records": records}))
}

/// sObject update; only `IsActive` is honoured (deactivating a user frees their licence).
async fn update_user(
    req: HttpRequest,
    state: web::Data<FakeState>,
    usage: web::Data<ApiUsage>,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let Some(index) = index_of(&id).filter(|i| state.users().user(*i).is_some()) else {
        return metered(&usage, error(StatusCode::NOT_FOUND, "NOT_FOUND", "The requested resource does not exist"));
    };
    let active = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["IsActive"].as_bool());
    let Some(active) = active else {
        return metered(
            &usage,
            error(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", "the fake updates only IsActive (a boolean)"),
        );
    };
    state.directory.write().unwrap_or_else(|e| e.into_inner()).set_suspended(index, !active);
    state.record_action(format!("{} {id}", if active { "activate" } else { "deactivate" }));
    metered(&usage, HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use crate::fakes::{FakeServer, Vendor, CLIENT_ID, CLIENT_SECRET};
    use serde_json::Value;

    async fn get(url: &str, token: &str) -> (u16, Option<String>, Value) {
        let r = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .header("Sforce-Query-Options", "batchSize=200")
            .send()
            .await
            .unwrap();
        let limit = r.headers().get("sforce-limit-info").map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), limit, r.json().await.unwrap())
    }

    async fn token(base: &str, secret: &str) -> (u16, Value) {
        let body = format!("grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={secret}");
        let r = reqwest::Client::new()
            .post(format!("{base}/services/oauth2/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[tokio::test]
    async fn queries_users_in_batches_and_answers_salesforce_errors() {
        let fake = FakeServer::start(Vendor::Salesforce, 250).await.unwrap();
        let base = &fake.base_url;
        let (status, err) = token(base, "wrong").await;
        assert_eq!((status, err["error"].as_str()), (400, Some("invalid_client")));
        let (status, tok) = token(base, CLIENT_SECRET).await;
        assert_eq!(status, 200);
        assert_eq!(tok["instance_url"].as_str(), Some(base.as_str()));
        let access = tok["access_token"].as_str().unwrap().to_string();

        fake.remove_user(2);
        let q = "SELECT Id, Username, LastLoginDate, Profile.UserLicense.Name FROM User";
        let (status, limit, first) = get(&format!("{base}/services/data/v62.0/query?q={q}"), &access).await;
        assert_eq!(status, 200);
        assert_eq!(limit.as_deref(), Some("api-usage=1/15000"));
        assert_eq!(first["totalSize"], 249);
        assert_eq!(first["done"], false);
        let records = first["records"].as_array().unwrap();
        assert_eq!(records.len(), 200);
        assert_eq!(records[0]["attributes"]["type"], "User");
        assert_eq!(records[0]["Id"].as_str().map(str::len), Some(18));
        assert_eq!(records[0]["Username"], "user0@example.com.sf");
        assert_eq!(records[0]["Profile"]["Name"], "System Administrator");
        assert_eq!(records[0]["Profile"]["UserLicense"]["Name"], "Salesforce");
        let login = records[1]["LastLoginDate"].as_str().unwrap();
        assert!(login.ends_with("+0000") && login.len() == 28, "{login}");
        assert_eq!(records[2]["Email"], "user3@example.com");
        assert!(records[2]["LastLoginDate"].is_null(), "user 3 never signed in");
        let next = first["nextRecordsUrl"].as_str().unwrap().to_string();
        assert!(next.starts_with("/services/data/v62.0/query/01g"), "{next}");

        fake.remove_user(249);
        let (_, _, last) = get(&format!("{base}{next}"), &access).await;
        assert_eq!(last["done"], true);
        assert!(last.get("nextRecordsUrl").is_none());
        assert_eq!(last["records"].as_array().unwrap().len(), 48);
        assert_eq!(last["records"][0]["Email"], "user201@example.com");

        let (_, _, lic) =
            get(&format!("{base}/services/data/v62.0/query?q=select Name from UserLicense"), &access).await;
        assert_eq!(lic["records"][0]["LicenseDefinitionKey"], "SFDC");
        let (total, used) = (&lic["records"][0]["TotalLicenses"], &lic["records"][0]["UsedLicenses"]);
        assert_eq!(total.as_u64().unwrap(), used.as_u64().unwrap() + 7);

        let (status, _, err) =
            get(&format!("{base}/services/data/v62.0/query?q=SELECT Id FROM Account"), &access).await;
        assert_eq!((status, err[0]["errorCode"].as_str()), (400, Some("MALFORMED_QUERY")));
        let (status, _, err) = get(&format!("{base}/services/data/v62.0/query?q={q}"), "wrong").await;
        assert_eq!((status, err[0]["errorCode"].as_str()), (401, Some("INVALID_SESSION_ID")));

        let id = records[1]["Id"].as_str().unwrap();
        let r = reqwest::Client::new()
            .patch(format!("{base}/services/data/v62.0/sobjects/User/{id}"))
            .bearer_auth(&access)
            .json(&serde_json::json!({"IsActive": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        assert_eq!(fake.actions(), vec![format!("deactivate {id}")]);

        fake.throttle("/query", 1);
        let (status, _, err) = get(&format!("{base}/services/data/v62.0/query?q={q}"), &access).await;
        assert_eq!((status, err[0]["errorCode"].as_str()), (403, Some("REQUEST_LIMIT_EXCEEDED")));
        fake.stop().await;
    }
}
