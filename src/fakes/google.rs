//! Google Workspace: the service-account token endpoint `POST /token` (RFC 7523 JWT-bearer grant,
//! RS256 assertion signed with the key in [`google_service_account_json`], generated when the
//! process first needs it, never shipped; `sub` = a directory admin to
//! impersonate), Admin SDK Directory `GET /admin/directory/v1/users` (`maxResults` 1–500, default
//! 100) and `GET /admin/directory/v1/users/{userKey}/tokens` (third-party OAuth grants, no paging),
//! Enterprise License Manager `GET /apps/licensing/v1/product/{productId}/users` and
//! `…/product/{productId}/sku/{skuId}/users` (`maxResults` 1–1000, default 100) and
//! `DELETE /apps/licensing/v1/product/{productId}/sku/{skuId}/user/{userId}`.
//! Paging: `pageToken` → `nextPageToken` (absent on the last page). Times are RFC 3339 with
//! milliseconds (`2024-05-01T09:00:00.000Z`); `lastLoginTime` is `1970-01-01T00:00:00.000Z` for a
//! user who never signed in. Throttling is HTTP 403 `userRateLimitExceeded` with no wait hint.

use super::server::{limit_param, query_param, FakeState};
use super::FakeUser;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, Validation};
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::OnceLock;

/// The fake service account's `client_email`: the only assertion issuer the fake accepts.
pub const GOOGLE_CLIENT_EMAIL: &str = "stackward@fake-project.iam.gserviceaccount.com";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const MAX_USERS: usize = 500;
const MAX_ASSIGNMENTS: usize = 1000;
const PRODUCT: &str = "Google-Apps";
/// Business Starter (every licensed user) and Business Standard (admins).
const STARTER: (&str, &str) = ("1010020027", "Google Workspace Business Starter");
const STANDARD: (&str, &str) = ("1010020028", "Google Workspace Business Standard");

/// The fake service account's RSA key pair, as PEM.
struct KeyPair {
    /// PKCS#8, as in a downloaded key file: clients sign assertions with it.
    private: String,
    /// SubjectPublicKeyInfo: the token endpoint verifies assertions with it.
    public: String,
}

/// The key pair of this process, generated on first use (every fake and every key file the
/// process hands out share it); None when OpenSSL cannot make one, which is logged.
fn key_pair() -> Option<&'static KeyPair> {
    static PAIR: OnceLock<Option<KeyPair>> = OnceLock::new();
    PAIR.get_or_init(|| {
        let made = (|| -> Result<KeyPair, openssl::error::ErrorStack> {
            let key = PKey::from_rsa(Rsa::generate(2048)?)?;
            let pem = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
            Ok(KeyPair { private: pem(key.private_key_to_pem_pkcs8()?), public: pem(key.public_key_to_pem()?) })
        })();
        made.map_err(|e| tracing::error!(error = %e, "the Google fake cannot generate its signing key")).ok()
    })
    .as_ref()
}

/// The private key (PKCS#8 PEM) the fake's service account signs assertions with; empty when
/// none could be generated (the fake then refuses every assertion).
pub fn google_private_key() -> &'static str {
    key_pair().map_or("", |k| k.private.as_str())
}

/// A service-account key file (as downloaded from the Cloud console) for the fake, whose
/// `token_uri` is `token_uri` (the fake's `{base_url}/token`).
pub fn google_service_account_json(token_uri: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": "fake-project",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": google_private_key(),
        "client_email": GOOGLE_CLIENT_EMAIL,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/stackward%40fake-project.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com",
    })
    .to_string()
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/token", web::post().to(token))
        .route("/admin/directory/v1/users", web::get().to(users))
        .route("/admin/directory/v1/users/{userKey}/tokens", web::get().to(tokens))
        .route("/apps/licensing/v1/product/{productId}/users", web::get().to(assignments))
        .route("/apps/licensing/v1/product/{productId}/sku/{skuId}/users", web::get().to(assignments))
        .route("/apps/licensing/v1/product/{productId}/sku/{skuId}/user/{userId}", web::delete().to(unassign));
}

/// The Google API error envelope.
fn error(status: u16, message: &str, reason: &str, domain: &str, rpc_status: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(code).json(json!({"error": {
        "code": status,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason}],
        "status": rpc_status,
    }}))
}

pub(super) fn throttled() -> HttpResponse {
    error(403, "Request rate higher than configured.", "userRateLimitExceeded", "usageLimits", "PERMISSION_DENIED")
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({"error": {
        "code": 401,
        "message": "Request had invalid authentication credentials.",
        "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError",
            "location": "Authorization", "locationType": "header"}],
        "status": "UNAUTHENTICATED",
    }}))
}

fn bad_request(message: &str) -> HttpResponse {
    error(400, message, "invalid", "global", "INVALID_ARGUMENT")
}

fn not_found(message: &str) -> HttpResponse {
    error(404, message, "notFound", "global", "NOT_FOUND")
}

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(code).json(json!({"error": error, "error_description": description}))
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    scope: Option<String>,
}

/// RFC 7523 §2.1: exchanges a signed assertion for an access token acting as `sub`.
async fn token(state: web::Data<FakeState>, body: web::Bytes) -> HttpResponse {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if field("grant_type") != Some(JWT_BEARER) {
        return oauth_error(400, "unsupported_grant_type", "Invalid grant_type: ");
    }
    let Some(assertion) = field("assertion") else {
        return oauth_error(400, "invalid_request", "Missing required parameter: assertion");
    };
    let Some(Ok(key)) = key_pair().map(|k| DecodingKey::from_rsa_pem(k.public.as_bytes())) else {
        return oauth_error(500, "internal_failure", "the fake has no usable signing key");
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[format!("{}/token", state.base())]);
    validation.set_issuer(&[GOOGLE_CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    validation.leeway = 5;
    let claims = match jsonwebtoken::decode::<Claims>(assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => {
            return match e.kind() {
                ErrorKind::InvalidSignature | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidAlgorithm => {
                    oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
                }
                ErrorKind::InvalidIssuer => oauth_error(401, "invalid_client", "The OAuth client was not found."),
                ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => oauth_error(
                    400,
                    "invalid_grant",
                    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. \
                     Check your iat and exp values in the JWT claim.",
                ),
                ErrorKind::InvalidAudience => oauth_error(400, "invalid_grant", "Invalid JWT: Failed audience check."),
                _ => oauth_error(400, "invalid_grant", "Invalid JWT: the assertion is malformed or lacks a claim."),
            };
        }
    };
    if claims.scope.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return oauth_error(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.");
    }
    let admin = claims.sub.as_deref().and_then(|s| state.users().by_email(s)).is_some_and(|u| u.admin && !u.suspended);
    if !admin {
        // Google answers 401 here (RFC 6749 §5.2 would allow 400).
        return oauth_error(
            401,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any \
             of the scopes requested.",
        );
    }
    HttpResponse::Ok().json(json!({"access_token": state.issue_token(), "expires_in": 3599, "token_type": "Bearer"}))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A 21-digit numeric id, as Google's user ids are.
fn user_id(u: &FakeUser) -> String {
    format!("10{:019}", u.number())
}

fn encode_token(next: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("idx:{next}"))
}

/// The index a `pageToken` continues from: 0 without one, None for a token the fake never gave.
fn decode_token(req: &HttpRequest) -> Option<usize> {
    let Some(token) = query_param(req, "pageToken").filter(|t| !t.is_empty()) else {
        return Some(0);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("idx:").and_then(|n| n.parse().ok()))
}

fn user(u: &FakeUser, manager: Option<String>) -> Value {
    let mut v = json!({
        "kind": "admin#directory#user",
        "id": user_id(u),
        "etag": format!("\"fake-etag-user-{}\"", u.index),
        "primaryEmail": u.email,
        "name": {"givenName": u.given_name, "familyName": u.family_name, "fullName": u.full_name()},
        "isAdmin": u.admin,
        "isDelegatedAdmin": false,
        "lastLoginTime": u.last_active.map_or_else(|| "1970-01-01T00:00:00.000Z".to_string(), time),
        "creationTime": time(u.created),
        "agreedToTerms": true,
        "suspended": u.suspended,
        "archived": false,
        "changePasswordAtNextLogin": false,
        "ipWhitelisted": false,
        "emails": [{"address": u.email, "primary": true}],
        "organizations": [{"department": u.department, "title": u.title, "primary": true, "customType": ""}],
        "customerId": "C0fake000",
        "orgUnitPath": "/",
        "isMailboxSetup": true,
        "isEnrolledIn2Sv": u.index.is_multiple_of(2),
        "isEnforcedIn2Sv": false,
        "includeInGlobalAddressList": true,
    });
    if let Some(m) = manager {
        v["relations"] = json!([{"value": m, "type": "manager"}]);
    }
    v
}

async fn users(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    if query_param(&req, "customer").is_none() && query_param(&req, "domain").is_none() {
        return bad_request("Bad Request");
    }
    let Some(from) = decode_token(&req) else {
        return bad_request("Invalid Input: pageToken");
    };
    let limit = limit_param(&req, "maxResults", 100, MAX_USERS);
    let dir = state.users();
    let (page, next) = dir.page(from, limit);
    let list: Vec<Value> = page
        .iter()
        .map(|u| user(u, u.manager.map(|m| dir.user(m).map_or_else(|| format!("user{m}@example.com"), |m| m.email))))
        .collect();
    let mut body = json!({"kind": "admin#directory#users", "etag": "\"fake-etag-users\""});
    if !list.is_empty() {
        body["users"] = json!(list);
    }
    if let Some(n) = next {
        body["nextPageToken"] = json!(encode_token(n));
    }
    HttpResponse::Ok().json(body)
}

/// The third-party apps user `index` granted access to (deterministic).
fn grants(index: usize) -> Vec<(&'static str, &'static str, &'static [&'static str])> {
    let mut out: Vec<(&'static str, &'static str, &'static [&'static str])> = Vec::new();
    if index % 4 == 1 {
        out.push((
            "123-calendly.apps.googleusercontent.com",
            "Calendly",
            &["https://www.googleapis.com/auth/calendar", "openid", "https://www.googleapis.com/auth/userinfo.email"],
        ));
    }
    if index % 9 == 2 {
        out.push((
            "456-miro.apps.googleusercontent.com",
            "Miro",
            &["https://www.googleapis.com/auth/drive.readonly", "https://www.googleapis.com/auth/userinfo.profile"],
        ));
    }
    if index % 25 == 7 {
        out.push((
            "789-unknown-notes.apps.googleusercontent.com",
            "Unknown Notes App",
            &["https://mail.google.com/", "https://www.googleapis.com/auth/drive"],
        ));
    }
    out
}

/// A user by `userKey`: primary email or the numeric id.
fn find_user(state: &FakeState, key: &str) -> Option<FakeUser> {
    let dir = state.users();
    if key.contains('@') {
        return dir.by_email(&key.to_ascii_lowercase());
    }
    let number: u64 = key.strip_prefix("10")?.parse().ok()?;
    dir.user(usize::try_from(number.checked_sub(1_000_000)?).ok()?)
}

async fn tokens(req: HttpRequest, state: web::Data<FakeState>, key: web::Path<String>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let Some(u) = find_user(&state, &key) else {
        return not_found("Resource Not Found: userKey");
    };
    let id = user_id(&u);
    let items: Vec<Value> = grants(u.index)
        .into_iter()
        .map(|(client, name, scopes)| {
            json!({
                "kind": "admin#directory#token",
                "etag": format!("\"fake-etag-token-{}-{client}\"", u.index),
                "clientId": client,
                "displayText": name,
                "scopes": scopes,
                "anonymous": false,
                "nativeApp": false,
                "userKey": id,
            })
        })
        .collect();
    // Google leaves `items` out of an empty list.
    let mut body = json!({"kind": "admin#directory#tokenList", "etag": "\"fake-etag-tokens\""});
    if !items.is_empty() {
        body["items"] = json!(items);
    }
    HttpResponse::Ok().json(body)
}

fn sku_of(u: &FakeUser) -> (&'static str, &'static str) {
    if u.admin {
        STANDARD
    } else {
        STARTER
    }
}

/// `SKU USER` pairs whose assignment was deleted through this fake.
fn unassigned(state: &FakeState) -> HashSet<String> {
    let actions = state.actions.lock().unwrap_or_else(|e| e.into_inner());
    actions.iter().filter_map(|a| a.strip_prefix("unassign ")).map(str::to_string).collect()
}

async fn assignments(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    if query_param(&req, "customerId").is_none_or(|c| c.is_empty()) {
        return error(400, "Required parameter: customerId", "required", "global", "INVALID_ARGUMENT");
    }
    let Some(from) = decode_token(&req) else {
        return bad_request("Invalid Input: pageToken");
    };
    let product = req.match_info().get("productId").unwrap_or_default().to_string();
    let sku_filter = req.match_info().get("skuId").map(str::to_string);
    let limit = limit_param(&req, "maxResults", 100, MAX_ASSIGNMENTS);
    let gone = unassigned(&state);
    let base = state.base();
    let dir = state.users();
    let mut items = Vec::new();
    let mut next = None;
    if product == PRODUCT {
        let candidates =
            dir.indices().skip_while(|i| *i < from).filter(|i| dir.licensed(*i)).filter_map(|i| dir.user(i));
        for u in candidates {
            let (sku, sku_name) = sku_of(&u);
            if gone.contains(&format!("{sku} {}", u.email)) || sku_filter.as_deref().is_some_and(|s| s != sku) {
                continue;
            }
            if items.len() == limit {
                next = Some(u.index);
                break;
            }
            items.push(json!({
                "kind": "licensing#licenseAssignment",
                "etags": format!("\"fake-etag-license-{}\"", u.index),
                "selfLink": format!("{base}/apps/licensing/v1/product/{PRODUCT}/sku/{sku}/user/{}", u.email),
                "userId": u.email,
                "productId": PRODUCT,
                "productName": "Google Workspace",
                "skuId": sku,
                "skuName": sku_name,
            }));
        }
    }
    let mut body = json!({"kind": "licensing#licenseAssignmentList", "etag": "\"fake-etag-licenses\"", "items": items});
    if let Some(n) = next {
        body["nextPageToken"] = json!(encode_token(n));
    }
    HttpResponse::Ok().json(body)
}

async fn unassign(
    req: HttpRequest,
    state: web::Data<FakeState>,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let (product, sku, user_key) = path.into_inner();
    let holder = find_user(&state, &user_key).filter(|u| u.licensed && product == PRODUCT && sku_of(u).0 == sku);
    let Some(u) = holder.filter(|u| !unassigned(&state).contains(&format!("{sku} {}", u.email))) else {
        return not_found("User does not have a license for specified sku and product");
    };
    state.record_action(format!("unassign {sku} {}", u.email));
    HttpResponse::NoContent().finish()
}

#[cfg(test)]
mod tests {
    use super::{google_private_key, google_service_account_json, GOOGLE_CLIENT_EMAIL};
    use crate::fakes::{FakeServer, Vendor, TOKEN};
    use serde_json::{json, Value};

    async fn get(base: &str, path: &str, token: &str) -> (u16, Value) {
        let r = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    fn assertion(aud: &str, sub: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iss": GOOGLE_CLIENT_EMAIL, "sub": sub, "aud": aud, "iat": now, "exp": now + 3600,
            "scope": "https://www.googleapis.com/auth/admin.directory.user.readonly https://www.googleapis.com/auth/apps.licensing"});
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(google_private_key().as_bytes()).unwrap();
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key).unwrap()
    }

    async fn exchange(base: &str, assertion: &str) -> (u16, Value) {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
            .append_pair("assertion", assertion)
            .finish();
        let r = reqwest::Client::new()
            .post(format!("{base}/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[test]
    fn the_signing_key_is_made_at_start_and_no_private_key_ships_in_the_source() {
        let marker = concat!("BEGIN ", "PRIVATE KEY");
        assert!(google_private_key().starts_with(&format!("-----{marker}-----")), "a PKCS#8 key is generated");
        let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    assert!(!text.contains(marker), "{} holds a private key", path.display());
                }
            }
        }
    }

    #[tokio::test]
    async fn issues_tokens_for_signed_assertions_and_pages_users_and_licences() {
        let fake = FakeServer::start(Vendor::GoogleWorkspace, 250).await.unwrap();
        let base = &fake.base_url;
        let key: Value = serde_json::from_str(&google_service_account_json(&format!("{base}/token"))).unwrap();
        assert_eq!(key["client_email"], GOOGLE_CLIENT_EMAIL);
        let token_uri = key["token_uri"].as_str().unwrap();
        let (status, err) = exchange(base, &assertion(token_uri, "user1@example.com")).await;
        assert_eq!((status, err["error"].as_str()), (401, Some("unauthorized_client")), "user1 is no admin");
        let (status, err) = exchange(base, &assertion("https://elsewhere/token", "user0@example.com")).await;
        assert_eq!((status, err["error"].as_str()), (400, Some("invalid_grant")));
        let (status, granted) = exchange(base, &assertion(token_uri, "user0@example.com")).await;
        assert_eq!((status, granted["token_type"].as_str()), (200, Some("Bearer")));
        let token = granted["access_token"].as_str().unwrap();

        let users = "/admin/directory/v1/users?customer=my_customer&maxResults=200&projection=full&viewType=admin_view";
        let (status, first) = get(base, users, token).await;
        assert_eq!(status, 200);
        let list = first["users"].as_array().unwrap();
        assert_eq!(list.len(), 200);
        assert_eq!(list[3]["lastLoginTime"], "1970-01-01T00:00:00.000Z", "user3 never signed in");
        assert_eq!(list[12]["relations"][0], json!({"value": "user10@example.com", "type": "manager"}));
        assert_eq!(list[5]["suspended"], true);
        assert!(list[0]["creationTime"].as_str().unwrap().ends_with(".000Z"));
        fake.remove_user(201);
        let next = first["nextPageToken"].as_str().unwrap();
        let (_, second) = get(base, &format!("{users}&pageToken={next}"), TOKEN).await;
        assert_eq!(second["users"].as_array().unwrap().len(), 49);
        assert_eq!(second["users"][0]["primaryEmail"], "user200@example.com");
        assert!(second.get("nextPageToken").is_none());

        let licences = "/apps/licensing/v1/product/Google-Apps/users?customerId=C0fake000&maxResults=150";
        let (_, first) = get(base, licences, TOKEN).await;
        assert_eq!(first["items"].as_array().unwrap().len(), 150);
        assert_eq!(first["items"][0]["skuId"], "1010020028", "user0 is an admin on Business Standard");
        assert_eq!(first["items"][1]["skuName"], "Google Workspace Business Starter");
        let (_, second) =
            get(base, &format!("{licences}&pageToken={}", first["nextPageToken"].as_str().unwrap()), TOKEN).await;
        let licensed = (0..250).filter(|i| i % 7 != 6 && *i != 201).count();
        assert_eq!(second["items"].as_array().unwrap().len(), licensed - 150);
        assert!(second.get("nextPageToken").is_none());

        let (_, grants) = get(base, "/admin/directory/v1/users/user1@example.com/tokens", TOKEN).await;
        assert_eq!(grants["items"][0]["clientId"], "123-calendly.apps.googleusercontent.com");
        assert_eq!(grants["items"][0]["displayText"], "Calendly");
        let (_, none) = get(base, "/admin/directory/v1/users/user0@example.com/tokens", TOKEN).await;
        assert!(none.get("items").is_none());

        let r = reqwest::Client::new()
            .delete(format!("{base}/apps/licensing/v1/product/Google-Apps/sku/1010020027/user/user1@example.com"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        assert_eq!(fake.actions(), vec!["unassign 1010020027 user1@example.com"]);
        let (_, after) = get(base, licences, TOKEN).await;
        assert_eq!(after["items"][1]["userId"], "user2@example.com");

        let (status, err) = get(base, users, "wrong").await;
        assert_eq!((status, err["error"]["status"].as_str()), (401, Some("UNAUTHENTICATED")));
        fake.throttle("/admin/directory", 1);
        let (status, err) = get(base, users, TOKEN).await;
        assert_eq!((status, err["error"]["errors"][0]["reason"].as_str()), (403, Some("userRateLimitExceeded")));
        fake.stop().await;
    }
}
