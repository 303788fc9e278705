//! Microsoft 365 / Entra ID through Microsoft Graph v1.0: the client-credentials token endpoint
//! `POST /{tenant}/oauth2/v2.0/token`, `GET /v1.0/subscribedSkus` (SPE_E5 for admins, SPE_E3 for
//! other licensed users), `GET /v1.0/users` (`$top` ≤ 999, default 100; `$select` honoured: without
//! it Graph's default property set, which has no `accountEnabled`, `assignedLicenses` or
//! `signInActivity`), `GET /v1.0/servicePrincipals`, `GET /v1.0/oauth2PermissionGrants` and
//! `POST /v1.0/users/{id|userPrincipalName}/assignLicense`.
//! Paging: `@odata.nextLink`, an absolute URL carrying `$skiptoken`, left out on the last page.
//! Times are ISO 8601 UTC (`2024-05-01T09:00:00Z`); a user who never signed in has `null`
//! `signInActivity` fields. Throttling is 429 with `Retry-After` seconds.

use super::server::{limit_param, query_param, FakeState, CLIENT_ID, CLIENT_SECRET};
use super::{Directory, FakeUser};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The fake tenant's id (`accountId`, `appOwnerOrganizationId` of the tenant's own apps).
const TENANT_ID: &str = "5f0e8a3c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
/// Microsoft's own tenant, owner of first-party service principals such as Microsoft Graph.
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
const E5: (&str, &str) = ("06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5");
const E3: (&str, &str) = ("05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3");
const MAX_TOP: usize = 999;
/// Graph's default `users` properties when no `$select` is given.
const DEFAULT_USER_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];
/// Microsoft Graph's service principal in the tenant: the `resourceId` of delegated grants.
const GRAPH_SP_ID: &str = "9b1c6a4e-0000-4000-8000-00000000a0a0";

/// (service principal id, appId, displayName, owner tenant, delegated scope granted).
const APPS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "1c2d3e4f-0000-4000-8000-00000000ca11",
        "a1b2c3d4-1111-4aaa-8bbb-000000000001",
        "Calendly",
        "7c1f0c52-6f37-4c4e-9a8e-2b6d2b1f0c01",
        "User.Read Calendars.ReadWrite offline_access",
    ),
    (
        "1c2d3e4f-0000-4000-8000-00000000a1f0",
        "a1b2c3d4-2222-4aaa-8bbb-000000000002",
        "Miro",
        "7c1f0c52-6f37-4c4e-9a8e-2b6d2b1f0c02",
        "User.Read Files.Read.All",
    ),
    (
        "1c2d3e4f-0000-4000-8000-0000000070e5",
        "a1b2c3d4-3333-4aaa-8bbb-000000000003",
        "Unknown Notes App",
        "7c1f0c52-6f37-4c4e-9a8e-2b6d2b1f0c03",
        "User.Read Mail.Read",
    ),
];

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{tenant}/oauth2/v2.0/token", web::post().to(token))
        .route("/v1.0/subscribedSkus", web::get().to(subscribed_skus))
        .route("/v1.0/users", web::get().to(users))
        .route("/v1.0/users/{id}/assignLicense", web::post().to(assign_license))
        .route("/v1.0/servicePrincipals", web::get().to(service_principals))
        .route("/v1.0/oauth2PermissionGrants", web::get().to(grants));
}

fn inner_error() -> Value {
    let now = Utc::now();
    let id = format!("{:08x}-0000-4000-8000-{:012x}", now.timestamp() as u32, now.timestamp_subsec_nanos());
    json!({"date": now.to_rfc3339_opts(SecondsFormat::Secs, true), "request-id": id, "client-request-id": id})
}

fn graph_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let s = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(s).json(json!({"error": {"code": code, "message": message, "innerError": inner_error()}}))
}

pub(super) fn throttled() -> HttpResponse {
    let mut resp = graph_error(429, "TooManyRequests", "Too many requests.");
    resp.headers_mut()
        .insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from_static("1"));
    resp
}

/// Graph's 401: "empty" without a token, a validation failure with a wrong one.
fn unauthorized(req: &HttpRequest) -> HttpResponse {
    let message = if req.headers().contains_key("authorization") {
        "Access token validation failure. Invalid audience."
    } else {
        "Access token is empty."
    };
    graph_error(401, "InvalidAuthenticationToken", message)
}

/// The Entra ID (AADSTS) error body of the token endpoint.
fn aad_error(status: u16, error: &str, code: u32, description: &str) -> HttpResponse {
    let s = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    let now = Utc::now();
    HttpResponse::build(s).json(json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {description} Trace ID: 00000000-0000-4000-8000-000000000001 \
            Correlation ID: 00000000-0000-4000-8000-000000000002 Timestamp: {}", now.format("%Y-%m-%d %H:%M:%SZ")),
        "error_codes": [code],
        "timestamp": now.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        "trace_id": "00000000-0000-4000-8000-000000000001",
        "correlation_id": "00000000-0000-4000-8000-000000000002",
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    }))
}

async fn token(body: web::Bytes, state: web::Data<FakeState>) -> HttpResponse {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if field("grant_type") != Some("client_credentials") {
        return aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
    }
    if field("client_id") != Some(CLIENT_ID) {
        return aad_error(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{}' was not found in the directory 'Fake Contoso'.",
                field("client_id").unwrap_or_default()
            ),
        );
    }
    if field("client_secret") != Some(CLIENT_SECRET) {
        return aad_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret \
             value, not the client secret ID, for a secret added to app 'fake-client-id'.",
        );
    }
    if !field("scope").is_some_and(|s| s.ends_with("/.default")) {
        return aad_error(
            400,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with \
             /.default suffixed to the resource identifier (application ID URI).",
        );
    }
    HttpResponse::Ok().json(json!({
        "token_type": "Bearer",
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": state.issue_token(),
    }))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn context(state: &FakeState, what: &str) -> String {
    format!("{}/v1.0/$metadata#{what}", state.base())
}

fn encode_skiptoken(cursor: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(cursor)
}

/// The decoded `$skiptoken` (`idx:N` or `idx:N:S`), Err for one the fake never gave.
fn skiptoken(req: &HttpRequest) -> Result<Option<String>, ()> {
    let Some(t) = query_param(req, "$skiptoken") else {
        return Ok(None);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| s.starts_with("idx:"))
        .map(Some)
        .ok_or(())
}

fn expired_token() -> HttpResponse {
    graph_error(400, "Directory_ExpiredPageToken", "The specified page token value has expired.")
}

/// The absolute next-page URL: the request's own query with `$skiptoken` replaced.
fn next_link(state: &FakeState, req: &HttpRequest, cursor: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k != "$skiptoken" {
            q.append_pair(&k, &v);
        }
    }
    q.append_pair("$skiptoken", &encode_skiptoken(cursor));
    format!("{}{}?{}", state.base(), req.path(), q.finish())
}

/// Keeps the `$select`ed properties (or `default` without `$select`).
fn select(req: &HttpRequest, mut v: Value, default: Option<&[&str]>) -> Value {
    let wanted: Vec<String> = match query_param(req, "$select") {
        Some(s) => s.split(',').map(|p| p.trim().to_ascii_lowercase()).collect(),
        None => match default {
            Some(d) => d.iter().map(|p| p.to_ascii_lowercase()).collect(),
            None => return v,
        },
    };
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| k.starts_with("@odata") || wanted.contains(&k.to_ascii_lowercase()));
    }
    v
}

/// The SKUs a user starts with: E5 for admins, E3 for other licensed users.
fn base_sku(u: &FakeUser) -> Option<&'static str> {
    match (u.licensed, u.admin) {
        (false, _) => None,
        (true, true) => Some(E5.0),
        (true, false) => Some(E3.0),
    }
}

/// Licence changes made through `assignLicense`: (sku, userPrincipalName) → held.
fn license_changes(state: &FakeState) -> HashMap<(String, String), bool> {
    let actions = state.actions.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = HashMap::new();
    for a in actions.iter() {
        let mut parts = a.split(' ');
        if let (Some("license"), Some(op), Some(sku), Some(upn)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            out.insert((sku.to_string(), upn.to_string()), op == "add");
        }
    }
    out
}

fn held_skus(u: &FakeUser, changes: &HashMap<(String, String), bool>) -> Vec<&'static str> {
    [E5.0, E3.0]
        .into_iter()
        .filter(|sku| changes.get(&(sku.to_string(), u.email.clone())).copied().unwrap_or(base_sku(u) == Some(*sku)))
        .collect()
}

fn request_id(u: &FakeUser, kind: u8) -> String {
    format!("{:08x}-{kind:04x}-4000-8000-{:012x}", u.index, u.index * 7 + kind as usize)
}

fn user(u: &FakeUser, changes: &HashMap<(String, String), bool>) -> Value {
    let last = u.last_active;
    let non_interactive = last.map(|t| t - Duration::hours(2));
    json!({
        "id": u.guid(),
        "userPrincipalName": u.email,
        "mail": u.email,
        "displayName": u.full_name(),
        "givenName": u.given_name,
        "surname": u.family_name,
        "department": u.department,
        "jobTitle": u.title,
        "businessPhones": [],
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": "en-US",
        "accountEnabled": !u.suspended,
        "userType": "Member",
        "createdDateTime": time(u.created),
        "assignedLicenses": held_skus(u, changes)
            .into_iter()
            .map(|sku| json!({"disabledPlans": [], "skuId": sku}))
            .collect::<Vec<_>>(),
        "signInActivity": {
            "lastSignInDateTime": last.map(time),
            "lastSignInRequestId": last.map(|_| request_id(u, 1)),
            "lastNonInteractiveSignInDateTime": non_interactive.map(time),
            "lastNonInteractiveSignInRequestId": non_interactive.map(|_| request_id(u, 2)),
            "lastSuccessfulSignInDateTime": last.map(time),
            "lastSuccessfulSignInRequestId": last.map(|_| request_id(u, 3)),
        },
    })
}

async fn users(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized(&req);
    }
    let from = match skiptoken(&req) {
        Ok(t) => t.and_then(|t| t.strip_prefix("idx:").and_then(|n| n.parse().ok())).unwrap_or(0),
        Err(()) => return expired_token(),
    };
    let top = limit_param(&req, "$top", 100, MAX_TOP);
    let changes = license_changes(&state);
    let dir = state.users();
    let (page, next) = dir.page(from, top);
    let value: Vec<Value> =
        page.iter().map(|u| select(&req, user(u, &changes), Some(DEFAULT_USER_PROPERTIES))).collect();
    let mut body = json!({"@odata.context": context(&state, "users"), "value": value});
    if let Some(n) = next {
        body["@odata.nextLink"] = json!(next_link(&state, &req, &format!("idx:{n}")));
    }
    HttpResponse::Ok().json(body)
}

fn sku_counts(dir: &Directory, changes: &HashMap<(String, String), bool>) -> [usize; 2] {
    let mut n = [0, 0];
    for u in dir.indices().filter_map(|i| dir.user(i)) {
        for sku in held_skus(&u, changes) {
            n[usize::from(sku == E3.0)] += 1;
        }
    }
    n
}

fn service_plans(names: &[(&str, &str)]) -> Vec<Value> {
    names
        .iter()
        .map(|(id, name)| {
            json!({"servicePlanId": id, "servicePlanName": name, "provisioningStatus": "Success", "appliesTo": "User"})
        })
        .collect()
}

async fn subscribed_skus(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized(&req);
    }
    let changes = license_changes(&state);
    let consumed = sku_counts(&state.users(), &changes);
    // Purchased seats: what the generated tenant started with, plus five spare.
    let purchased = {
        let dir = state.users();
        sku_counts(&Directory::new(dir.size(), dir.now()), &HashMap::new())
    };
    let plans = service_plans(&[
        ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
        ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"),
        ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"),
    ]);
    let value: Vec<Value> = [E5, E3]
        .iter()
        .enumerate()
        .map(|(i, (sku, part))| {
            json!({
                "accountId": TENANT_ID,
                "accountName": "fakecontoso",
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": consumed[i],
                "id": format!("{TENANT_ID}_{sku}"),
                "prepaidUnits": {"enabled": purchased[i].max(consumed[i]) + 5, "suspended": 0, "warning": 0, "lockedOut": 0},
                "servicePlans": plans,
                "skuId": sku,
                "skuPartNumber": part,
                "subscriptionIds": [format!("5b5c0000-0000-4000-8000-00000000000{i}")],
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({"@odata.context": context(&state, "subscribedSkus"), "value": value}))
}

fn find_user(dir: &Directory, key: &str) -> Option<FakeUser> {
    if key.contains('@') {
        return dir.by_email(&key.to_ascii_lowercase());
    }
    let i = usize::from_str_radix(key.strip_prefix("00000000-0000-4000-8000-")?, 16).ok()?;
    dir.user(i)
}

/// Graph's `assignLicense`: applies `removeLicenses` (sku ids) then `addLicenses` (`{skuId}`).
async fn assign_license(
    req: HttpRequest,
    state: web::Data<FakeState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized(&req);
    }
    let Some(u) = find_user(&state.users(), &id) else {
        return graph_error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        );
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return graph_error(400, "BadRequest", "Unable to read JSON request payload.");
    };
    let (Some(add), Some(remove)) = (body["addLicenses"].as_array(), body["removeLicenses"].as_array()) else {
        return graph_error(
            400,
            "Request_BadRequest",
            "Invalid value specified for property 'addLicenses' or 'removeLicenses'.",
        );
    };
    let known = |s: &str| [E5.0, E3.0].contains(&s);
    let held = held_skus(&u, &license_changes(&state));
    let removals: Vec<&str> = remove.iter().filter_map(Value::as_str).collect();
    let adds: Vec<&str> = add.iter().filter_map(|a| a["skuId"].as_str()).collect();
    if let Some(bad) = removals.iter().chain(&adds).find(|s| !known(s)) {
        return graph_error(
            400,
            "Request_BadRequest",
            &format!("License {bad} does not correspond to a valid company License."),
        );
    }
    if removals.iter().any(|s| !held.contains(s)) {
        return graph_error(400, "Request_BadRequest", "User does not have a corresponding license.");
    }
    for sku in removals {
        state.record_action(format!("license remove {sku} {}", u.email));
    }
    for sku in adds {
        state.record_action(format!("license add {sku} {}", u.email));
    }
    let changes = license_changes(&state);
    let mut v = user(&u, &changes);
    if let Some(o) = v.as_object_mut() {
        o.remove("signInActivity");
        o.insert("@odata.context".into(), json!(context(&state, "users/$entity")));
    }
    HttpResponse::Ok().json(v)
}

fn service_principal(id: &str, app_id: &str, name: &str, owner: &str) -> Value {
    json!({
        "id": id,
        "appId": app_id,
        "displayName": name,
        "appOwnerOrganizationId": owner,
        "servicePrincipalType": "Application",
        "accountEnabled": true,
        "appRoleAssignmentRequired": false,
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
    })
}

async fn service_principals(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized(&req);
    }
    let mut all = vec![service_principal(
        GRAPH_SP_ID,
        "00000003-0000-0000-c000-000000000000",
        "Microsoft Graph",
        MICROSOFT_TENANT,
    )];
    all.extend(APPS.iter().map(|(id, app_id, name, owner, _)| service_principal(id, app_id, name, owner)));
    let value: Vec<Value> = all.into_iter().map(|v| select(&req, v, None)).collect();
    HttpResponse::Ok().json(json!({"@odata.context": context(&state, "servicePrincipals"), "value": value}))
}

/// The delegated grants user `index` consented to: slots into [`APPS`].
fn user_grants(index: usize) -> Vec<usize> {
    [index % 4 == 1, index % 9 == 2, index % 25 == 7].iter().enumerate().filter(|(_, g)| **g).map(|(s, _)| s).collect()
}

async fn grants(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized(&req);
    }
    let (from, from_slot) = match skiptoken(&req) {
        Ok(Some(t)) => {
            let mut p = t.trim_start_matches("idx:").split(':').map(|n| n.parse::<usize>().unwrap_or(0));
            (p.next().unwrap_or(0), p.next().unwrap_or(0))
        }
        Ok(None) => (0, 0),
        Err(()) => return expired_token(),
    };
    let top = limit_param(&req, "$top", 100, MAX_TOP);
    let dir = state.users();
    let mut value = Vec::new();
    let mut next = None;
    'users: for i in dir.indices().skip_while(|i| *i < from) {
        for slot in user_grants(i).into_iter().filter(|s| i != from || *s >= from_slot) {
            if value.len() == top {
                next = Some(format!("idx:{i}:{slot}"));
                break 'users;
            }
            let (client, _, _, _, scope) = APPS[slot];
            let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{client}:{i}:{slot}"));
            let Some(principal) = dir.user(i).map(|u| u.guid()) else { continue };
            value.push(json!({
                "clientId": client,
                "consentType": "Principal",
                "id": id,
                "principalId": principal,
                "resourceId": GRAPH_SP_ID,
                "scope": scope,
            }));
        }
    }
    let mut body = json!({"@odata.context": context(&state, "oauth2PermissionGrants"), "value": value});
    if let Some(n) = next {
        body["@odata.nextLink"] = json!(next_link(&state, &req, &n));
    }
    HttpResponse::Ok().json(body)
}

#[cfg(test)]
mod tests {
    use crate::fakes::{FakeServer, Vendor, CLIENT_ID, CLIENT_SECRET, TOKEN};
    use serde_json::{json, Value};

    async fn get(url: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        (status, headers, r.json().await.unwrap())
    }

    async fn token(base: &str, secret: &str) -> (u16, Value) {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", CLIENT_ID)
            .append_pair("client_secret", secret)
            .append_pair("scope", "https://graph.microsoft.com/.default")
            .append_pair("grant_type", "client_credentials")
            .finish();
        let r = reqwest::Client::new()
            .post(format!("{base}/contoso.onmicrosoft.com/oauth2/v2.0/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[tokio::test]
    async fn pages_users_by_next_link_and_manages_licences() {
        let fake = FakeServer::start(Vendor::Microsoft365, 250).await.unwrap();
        let base = &fake.base_url;
        let (status, err) = token(base, "wrong").await;
        assert_eq!(
            (status, err["error"].as_str(), err["error_codes"][0].as_u64()),
            (401, Some("invalid_client"), Some(7000215))
        );
        let (status, granted) = token(base, CLIENT_SECRET).await;
        assert_eq!((status, granted["token_type"].as_str()), (200, Some("Bearer")));
        let access = granted["access_token"].as_str().unwrap().to_string();

        let select = "$select=id,userPrincipalName,accountEnabled,assignedLicenses,signInActivity,department";
        let (status, _, first) = get(&format!("{base}/v1.0/users?{select}&$top=200"), &access).await;
        assert_eq!(status, 200);
        let users = first["value"].as_array().unwrap();
        assert_eq!(users.len(), 200);
        assert_eq!(users[0]["assignedLicenses"][0]["skuId"], "06ebc4ee-1bb5-47dd-8120-11324bc54e06");
        assert_eq!(users[6]["assignedLicenses"], json!([]));
        assert_eq!(users[3]["signInActivity"]["lastSuccessfulSignInDateTime"], Value::Null);
        assert_eq!(users[5]["accountEnabled"], false);
        assert!(users[0].get("displayName").is_none(), "only $select-ed properties");
        fake.remove_user(249);
        let next = first["@odata.nextLink"].as_str().unwrap();
        assert!(next.starts_with(&format!("{base}/v1.0/users?")) && next.contains("%24skiptoken="));
        let (_, _, second) = get(next, TOKEN).await;
        assert_eq!(second["value"].as_array().unwrap().len(), 49);
        assert!(second.get("@odata.nextLink").is_none());
        assert!(second["value"][0].get("signInActivity").is_some());

        let (_, _, plain) = get(&format!("{base}/v1.0/users?$top=1"), TOKEN).await;
        assert!(plain["value"][0].get("signInActivity").is_none(), "signInActivity only when selected");

        let (_, _, skus) = get(&format!("{base}/v1.0/subscribedSkus"), TOKEN).await;
        let e3 = &skus["value"][1];
        assert_eq!(e3["skuPartNumber"], "SPE_E3");
        let consumed = e3["consumedUnits"].as_u64().unwrap();
        assert!(e3["prepaidUnits"]["enabled"].as_u64().unwrap() > consumed);

        let r = reqwest::Client::new()
            .post(format!("{base}/v1.0/users/user1@example.com/assignLicense"))
            .bearer_auth(TOKEN)
            .json(&json!({"addLicenses": [], "removeLicenses": ["05e9a617-0261-4cee-bb44-138d3ef5d965"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["assignedLicenses"], json!([]));
        assert_eq!(fake.actions(), vec!["license remove 05e9a617-0261-4cee-bb44-138d3ef5d965 user1@example.com"]);
        let (_, _, skus) = get(&format!("{base}/v1.0/subscribedSkus"), TOKEN).await;
        assert_eq!(skus["value"][1]["consumedUnits"].as_u64(), Some(consumed - 1));

        let (_, _, sps) = get(&format!("{base}/v1.0/servicePrincipals?$select=id,appId,displayName"), TOKEN).await;
        assert_eq!(sps["value"][1]["displayName"], "Calendly");
        assert!(sps["value"][1].get("appOwnerOrganizationId").is_none());
        let (_, _, grants) = get(&format!("{base}/v1.0/oauth2PermissionGrants?$top=30"), TOKEN).await;
        assert_eq!(grants["value"].as_array().unwrap().len(), 30);
        assert_eq!(grants["value"][0]["clientId"], sps["value"][1]["id"]);
        assert_eq!(grants["value"][0]["principalId"], "00000000-0000-4000-8000-000000000001");
        let (mut seen, mut next) = (30, grants["@odata.nextLink"].as_str().map(str::to_string));
        while let Some(url) = next {
            let (_, _, page) = get(&url, TOKEN).await;
            seen += page["value"].as_array().unwrap().len();
            next = page["@odata.nextLink"].as_str().map(str::to_string);
        }
        let total =
            (0..249).map(|i| [i % 4 == 1, i % 9 == 2, i % 25 == 7].iter().filter(|g| **g).count()).sum::<usize>();
        assert_eq!(seen, total, "pages neither skip nor repeat a grant");

        let (status, _, err) = get(&format!("{base}/v1.0/users"), "wrong").await;
        assert_eq!((status, err["error"]["code"].as_str()), (401, Some("InvalidAuthenticationToken")));
        fake.throttle("/v1.0/users", 1);
        let (status, headers, err) = get(&format!("{base}/v1.0/users"), TOKEN).await;
        assert_eq!((status, err["error"]["code"].as_str()), (429, Some("TooManyRequests")));
        assert_eq!(headers["retry-after"], "1");
        fake.stop().await;
    }
}
