//! Dropbox Business Team API: OAuth 2 authorization code with PKCE and refresh
//! (`GET /oauth2/authorize` consents at once and redirects with a code; `POST /oauth2/token`
//! grants `authorization_code` and `refresh_token`), and the RPC endpoints (POST, JSON body,
//! Bearer) `/2/team/members/list_v2`, `/2/team/members/list/continue_v2` (`cursor` +
//! `has_more`), `/2/team/get_info` (seat counts; body `null`) and `/2/team/members/suspend`.
//! Errors as `{error_summary, error: {".tag"}}`; 409 for route errors, 401 for tokens.

use super::server::{header, query_param, FakeState, CLIENT_ID, CLIENT_SECRET};
use super::FakeUser;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// Members per page unless `limit` asks for fewer (1–1000).
const MAX_LIMIT: u64 = 1000;
/// The refresh token every offline code exchange hands out.
const REFRESH_TOKEN: &str = "fake-refresh-token";
const TEAM_ID: &str = "dbtid:FAKE";
/// Seats bought beyond those in use (`num_licensed_users` - `num_used_licenses`).
const SPARE_SEATS: usize = 5;

/// An authorization code waiting to be exchanged.
#[derive(Debug)]
struct Grant {
    challenge: Option<String>,
    redirect_uri: String,
    /// `token_access_type=offline`: the exchange also hands out a refresh token.
    offline: bool,
}

/// Codes handed out by `/oauth2/authorize` (the fake runs one worker, so one map).
#[derive(Debug, Default)]
struct Codes(Mutex<HashMap<String, Grant>>);

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(Codes::default()))
        .route("/oauth2/authorize", web::get().to(authorize))
        .route("/oauth2/token", web::post().to(token))
        .route("/2/team/members/list_v2", web::post().to(list))
        .route("/2/team/members/list/continue_v2", web::post().to(list_continue))
        .route("/2/team/get_info", web::post().to(get_info))
        .route("/2/team/members/suspend", web::post().to(suspend));
}

/// An API error: `{error_summary: "tag/..", error: {".tag": tag}}` (auth errors end in `/...`).
fn api_error(status: StatusCode, tag: &str) -> HttpResponse {
    let dots = if status == StatusCode::UNAUTHORIZED { "..." } else { ".." };
    HttpResponse::build(status).json(json!({"error_summary": format!("{tag}/{dots}"), "error": {".tag": tag}}))
}

/// Dropbox's `RateLimitError`, with `Retry-After` as well.
pub(super) fn throttled() -> HttpResponse {
    HttpResponse::TooManyRequests().insert_header(("Retry-After", "1")).json(json!({
        "error_summary": "too_many_requests/...",
        "error": {"reason": {".tag": "too_many_requests"}, "retry_after": 1},
    }))
}

/// 400 without an Authorization header; 401 for a refused token: `expired_access_token` when it
/// looks like one the fake issued (`FakeServer::expire_tokens` forgets them), otherwise
/// `invalid_access_token`.
fn refused(req: &HttpRequest, state: &FakeState) -> Option<HttpResponse> {
    if state.authorized(req, "Bearer") {
        return None;
    }
    let Some(auth) = header(req, "authorization") else {
        // No credentials at all is a malformed call, not a token error.
        return Some(HttpResponse::BadRequest().content_type("text/plain; charset=utf-8").body(
            "Error in call to API function: Must provide HTTP header \"Authorization\" or URL parameter \"authorization\".",
        ));
    };
    let issued = auth.contains("fake-access-token-");
    let tag = if issued { "expired_access_token" } else { "invalid_access_token" };
    Some(api_error(StatusCode::UNAUTHORIZED, tag))
}

/// A malformed RPC call: Dropbox answers 400 in plain text.
fn bad_request(route: &str, why: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("text/plain; charset=utf-8")
        .body(format!("Error in call to API function \"{route}\": {why}"))
}

fn oauth_error(error: &str, description: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": error, "error_description": description}))
}

/// The fake consents at once and sends the browser back with a code.
async fn authorize(req: HttpRequest, codes: web::Data<Codes>) -> HttpResponse {
    let p = |name: &str| query_param(&req, name);
    if p("client_id").as_deref() != Some(CLIENT_ID) {
        return HttpResponse::BadRequest().body("Invalid client_id");
    }
    if p("response_type").as_deref() != Some("code") {
        return HttpResponse::BadRequest().body("response_type must be \"code\"");
    }
    let Some(redirect_uri) = p("redirect_uri") else {
        return HttpResponse::BadRequest().body("redirect_uri is missing");
    };
    let challenge = p("code_challenge");
    if challenge.is_some() && p("code_challenge_method").as_deref() != Some("S256") {
        return HttpResponse::BadRequest().body("code_challenge_method must be S256");
    }
    let mut map = codes.0.lock().unwrap_or_else(|e| e.into_inner());
    let code = format!("fake-code-{}", map.len() + 1);
    let offline = p("token_access_type").as_deref() == Some("offline");
    map.insert(code.clone(), Grant { challenge, redirect_uri: redirect_uri.clone(), offline });
    let mut location = form_urlencoded::Serializer::new(String::new());
    location.append_pair("code", &code);
    if let Some(s) = p("state") {
        location.append_pair("state", &s);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    HttpResponse::Found().insert_header(("Location", format!("{redirect_uri}{sep}{}", location.finish()))).finish()
}

/// The client id and secret, from HTTP Basic or the form.
fn client(req: &HttpRequest, form: &[(String, String)]) -> (Option<String>, Option<String>) {
    let basic = header(req, "authorization")
        .and_then(|h| h.strip_prefix("Basic ").and_then(|b| STANDARD.decode(b.trim()).ok()))
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(i, p)| (i.to_string(), p.to_string())));
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (field(form, "client_id").map(str::to_string), field(form, "client_secret").map(str::to_string)),
    }
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn token(
    req: HttpRequest,
    state: web::Data<FakeState>,
    codes: web::Data<Codes>,
    body: web::Bytes,
) -> HttpResponse {
    let form: Vec<(String, String)> =
        form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let (id, secret) = client(&req, &form);
    if id.as_deref() != Some(CLIENT_ID) || secret.as_deref().is_some_and(|s| s != CLIENT_SECRET) {
        return oauth_error("invalid_client", "Invalid client_id or client_secret");
    }
    match field(&form, "grant_type") {
        Some("authorization_code") => {
            let grant = field(&form, "code").and_then(|c| codes.0.lock().unwrap_or_else(|e| e.into_inner()).remove(c));
            let Some(grant) = grant else {
                return oauth_error("invalid_grant", "code doesn't exist or has expired");
            };
            if field(&form, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
                return oauth_error("invalid_grant", "redirect_uri mismatch");
            }
            match (&grant.challenge, field(&form, "code_verifier")) {
                (Some(challenge), Some(verifier)) => {
                    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge {
                        return oauth_error("invalid_grant", "invalid code verifier");
                    }
                }
                (Some(_), None) => return oauth_error("invalid_grant", "code_verifier is missing"),
                // Without PKCE the app must prove itself with its secret.
                (None, _) if secret.is_none() => return oauth_error("invalid_client", "client_secret is missing"),
                (None, _) => {}
            }
            let mut body = json!({
                "access_token": state.issue_token(),
                "expires_in": 14400,
                "token_type": "bearer",
                "scope": "members.read team_info.read",
                "account_id": "dbid:AAHFAKEADMIN00000000000000000000000",
                "team_id": TEAM_ID,
                "uid": "1000000",
            });
            if grant.offline {
                body["refresh_token"] = json!(REFRESH_TOKEN);
            }
            HttpResponse::Ok().json(body)
        }
        Some("refresh_token") => {
            if field(&form, "refresh_token") != Some(REFRESH_TOKEN) {
                return oauth_error("invalid_grant", "refresh token is invalid or revoked");
            }
            HttpResponse::Ok()
                .json(json!({"access_token": state.issue_token(), "expires_in": 14400, "token_type": "bearer"}))
        }
        _ => oauth_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token"),
    }
}

fn member(u: &FakeUser) -> Value {
    let initials: String = [&u.given_name, &u.family_name].iter().filter_map(|s| s.chars().next()).collect();
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let (role_n, role, description) = if u.admin {
        (1, "Team admin", "User can do most user provisioning, de-provisioning and management.")
    } else {
        (0, "Member", "User is a member of the team.")
    };
    json!({
        "profile": {
            "team_member_id": format!("dbmid:{}", u.id("AAD")),
            "account_id": format!("dbid:AAH{:032X}", u.index),
            "external_id": format!("emp-{}", u.index),
            "email": u.email,
            "email_verified": true,
            "secondary_emails": [],
            "status": {".tag": if u.suspended { "suspended" } else { "active" }},
            "name": {
                "given_name": u.given_name,
                "surname": u.family_name,
                "familiar_name": u.given_name,
                "display_name": u.full_name(),
                "abbreviated_name": initials,
            },
            "membership_type": {".tag": if u.licensed { "full" } else { "limited" }},
            "joined_on": at(u.created),
            "invited_on": at(u.created - chrono::Duration::days(1)),
            "groups": [],
            "member_folder_id": (2_000_000 + u.index).to_string(),
            "root_folder_id": (3_000_000 + u.index).to_string(),
        },
        "roles": [{"role_id": format!("pid_dbtmr:FAKE{role_n:02}"), "name": role, "description": description}],
    })
}

/// The cursor carries where to continue and the `limit` of the `list_v2` call that started.
fn cursor_for(index: usize, limit: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("idx:{index}:{limit}"))
}

fn parse_cursor(cursor: &str) -> Option<(usize, usize)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (index, limit) = raw.strip_prefix("idx:")?.split_once(':')?;
    Some((index.parse().ok()?, limit.parse().ok().filter(|l| (1..=MAX_LIMIT as usize).contains(l))?))
}

fn page(state: &FakeState, from: usize, limit: usize) -> HttpResponse {
    let (users, next) = state.users().page(from, limit);
    HttpResponse::Ok().json(json!({
        "members": users.iter().map(member).collect::<Vec<_>>(),
        // Dropbox always returns a cursor; on the last page it points past the last member.
        "cursor": cursor_for(next.unwrap_or_else(|| users.last().map_or(from, |u| u.index + 1)), limit),
        "has_more": next.is_some(),
    }))
}

async fn list(req: HttpRequest, state: web::Data<FakeState>, body: web::Bytes) -> HttpResponse {
    if let Some(resp) = refused(&req, &state) {
        return resp;
    }
    let route = "team/members/list_v2";
    let Ok(args) = serde_json::from_slice::<Value>(&body) else {
        return bad_request(route, "could not decode input as JSON");
    };
    let limit = match &args["limit"] {
        Value::Null => MAX_LIMIT,
        v => match v.as_u64() {
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => return bad_request(route, &format!("request body: limit: {v} is not within range [1, {MAX_LIMIT}]")),
        },
    };
    page(&state, 0, limit as usize)
}

async fn list_continue(req: HttpRequest, state: web::Data<FakeState>, body: web::Bytes) -> HttpResponse {
    if let Some(resp) = refused(&req, &state) {
        return resp;
    }
    let Ok(args) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("team/members/list/continue_v2", "could not decode input as JSON");
    };
    match args["cursor"].as_str().and_then(parse_cursor) {
        Some((from, limit)) => page(&state, from, limit),
        None => api_error(StatusCode::CONFLICT, "invalid_cursor"),
    }
}

async fn get_info(req: HttpRequest, state: web::Data<FakeState>, body: web::Bytes) -> HttpResponse {
    if let Some(resp) = refused(&req, &state) {
        return resp;
    }
    // A route with no arguments takes `null` (or nothing at all).
    let trimmed = body.trim_ascii();
    if !trimmed.is_empty() && trimmed != b"null" {
        return bad_request("team/get_info", "request body: expected null");
    }
    let dir = state.users();
    let used = dir.indices().filter_map(|i| dir.user(i)).filter(|u| u.licensed).count();
    HttpResponse::Ok().json(json!({
        "name": "Fake Team",
        "team_id": TEAM_ID,
        "num_licensed_users": used + SPARE_SEATS,
        "num_provisioned_users": dir.len(),
        "num_used_licenses": used,
        "policies": {
            "sharing": {
                "shared_folder_member_policy": {".tag": "team"},
                "shared_folder_join_policy": {".tag": "from_anyone"},
                "shared_link_create_policy": {".tag": "default_public"},
            },
            "emm_state": {".tag": "disabled"},
            "office_addin": {".tag": "disabled"},
        },
    }))
}

/// Suspends a member chosen by `email`, `team_member_id` or `external_id`.
async fn suspend(req: HttpRequest, state: web::Data<FakeState>, body: web::Bytes) -> HttpResponse {
    if let Some(resp) = refused(&req, &state) {
        return resp;
    }
    let Ok(args) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("team/members/suspend", "could not decode input as JSON");
    };
    let selector = &args["user"];
    let found = {
        let dir = state.users();
        match selector[".tag"].as_str() {
            Some("email") => selector["email"].as_str().and_then(|e| dir.by_email(&e.to_ascii_lowercase())),
            Some("team_member_id") => selector["team_member_id"]
                .as_str()
                .and_then(|id| id.strip_prefix("dbmid:AAD"))
                .and_then(|hex| usize::from_str_radix(hex, 16).ok())
                .and_then(|i| dir.user(i)),
            Some("external_id") => selector["external_id"]
                .as_str()
                .and_then(|id| id.strip_prefix("emp-"))
                .and_then(|n| n.parse().ok())
                .and_then(|i| dir.user(i)),
            _ => return bad_request("team/members/suspend", "request body: user: missing or unknown .tag"),
        }
    };
    let Some(u) = found else {
        return api_error(StatusCode::CONFLICT, "user_not_found");
    };
    if u.suspended {
        return api_error(StatusCode::CONFLICT, "suspend_inactive_user");
    }
    state.directory.write().unwrap_or_else(|e| e.into_inner()).set_suspended(u.index, true);
    state.record_action(format!("suspend {}", u.email));
    HttpResponse::Ok().content_type("application/json").body("null")
}

#[cfg(test)]
mod tests {
    use crate::fakes::{FakeServer, Vendor, CLIENT_ID, TOKEN};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::{json, Value};
    use sha2::{Digest, Sha256};

    async fn rpc(base: &str, route: &str, token: &str, body: Value) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{base}/2/{route}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn token(base: &str, form: &str) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{base}/oauth2/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_string())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[tokio::test]
    async fn signs_in_with_pkce_and_lists_members_by_cursor() {
        let fake = FakeServer::start(Vendor::Dropbox, 250).await.unwrap();
        let base = &fake.base_url;
        let access = sign_in_with_pkce(base).await;
        lists_members_by_cursor(&fake, base, &access).await;

        let (_, info) = rpc(base, "team/get_info", TOKEN, Value::Null).await;
        assert_eq!(info["num_provisioned_users"], 248);
        assert_eq!(info["num_licensed_users"].as_u64(), info["num_used_licenses"].as_u64().map(|n| n + 5));
        let who = json!({"user": {".tag": "email", "email": "user7@example.com"}, "wipe_data": false});
        let (status, reply) = rpc(base, "team/members/suspend", &access, who).await;
        assert_eq!((status, reply), (200, Value::Null));
        assert_eq!(fake.actions(), vec!["suspend user7@example.com".to_string()]);

        let r = reqwest::Client::new().post(format!("{base}/2/team/get_info")).json(&Value::Null).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400, "no Authorization header");
        let (status, err) = rpc(base, "team/get_info", "wrong", Value::Null).await;
        assert_eq!((status, err["error"][".tag"].as_str()), (401, Some("invalid_access_token")));
        fake.expire_tokens();
        let (status, err) = rpc(base, "team/get_info", &access, Value::Null).await;
        assert_eq!((status, err["error"][".tag"].as_str()), (401, Some("expired_access_token")));
        let (status, tok) =
            token(base, &format!("grant_type=refresh_token&refresh_token=fake-refresh-token&client_id={CLIENT_ID}"))
                .await;
        assert_eq!(status, 200);
        let access = tok["access_token"].as_str().unwrap().to_string();

        fake.throttle("/2/team", 1);
        let r = reqwest::Client::new()
            .post(format!("{base}/2/team/get_info"))
            .bearer_auth(&access)
            .json(&Value::Null)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(r.headers()["retry-after"], "1");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["reason"][".tag"], "too_many_requests");
        fake.stop().await;
    }

    /// Signs in with PKCE (a wrong verifier first), returning the access token.
    async fn sign_in_with_pkce(base: &str) -> String {
        let verifier = "a-verifier-of-at-least-forty-three-characters-long";
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = no_redirects
            .get(format!(
                "{base}/oauth2/authorize?client_id={CLIENT_ID}&response_type=code&redirect_uri=http://localhost/cb\
                 &state=xyz&code_challenge={challenge}&code_challenge_method=S256&token_access_type=offline"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 302);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let url = url::Url::parse(&location).unwrap();
        let code = url.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
        assert!(location.contains("state=xyz"));
        let exchange = |verifier: &str| {
            format!(
                "grant_type=authorization_code&code={code}&code_verifier={verifier}\
                 &redirect_uri=http://localhost/cb&client_id={CLIENT_ID}"
            )
        };
        let (status, err) = token(base, &exchange("wrong")).await;
        assert_eq!((status, err["error"].as_str()), (400, Some("invalid_grant")));
        // The failed try used the code up, as Dropbox does; get a fresh one.
        let r = no_redirects
            .get(format!(
                "{base}/oauth2/authorize?client_id={CLIENT_ID}&response_type=code&redirect_uri=http://localhost/cb\
                 &code_challenge={challenge}&code_challenge_method=S256&token_access_type=offline"
            ))
            .send()
            .await
            .unwrap();
        let url = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let code = url.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
        let form = format!(
            "grant_type=authorization_code&code={code}&code_verifier={verifier}\
             &redirect_uri=http://localhost/cb&client_id={CLIENT_ID}"
        );
        let (status, tok) = token(base, &form).await;
        assert_eq!(status, 200, "{tok}");
        assert_eq!(tok["refresh_token"], "fake-refresh-token");
        tok["access_token"].as_str().unwrap().to_string()
    }

    /// Lists members by cursor while users are removed between pages.
    async fn lists_members_by_cursor(fake: &FakeServer, base: &str, access: &str) {
        fake.remove_user(1);
        let (status, first) = rpc(base, "team/members/list_v2", access, json!({"limit": 100})).await;
        assert_eq!(status, 200);
        assert_eq!(first["has_more"], true);
        let members = first["members"].as_array().unwrap();
        assert_eq!(members.len(), 100);
        let p = &members[0]["profile"];
        assert_eq!(p["email"], "user0@example.com");
        assert_eq!(p["status"][".tag"], "active");
        assert_eq!(p["membership_type"][".tag"], "full");
        assert!(p["team_member_id"].as_str().unwrap().starts_with("dbmid:"));
        assert_eq!(members[0]["roles"][0]["name"], "Team admin");
        assert_eq!(members[5]["profile"]["membership_type"][".tag"], "limited", "user 6 holds no licence");
        assert_eq!(members[4]["profile"]["status"][".tag"], "suspended", "user 5 is suspended");

        fake.remove_user(150);
        let (_, second) = rpc(base, "team/members/list/continue_v2", access, json!({"cursor": first["cursor"]})).await;
        assert_eq!(second["has_more"], true, "continue keeps the limit of list_v2");
        assert_eq!(second["members"].as_array().unwrap().len(), 100);
        assert_eq!(second["members"][0]["profile"]["email"], "user101@example.com");
        let (_, rest) = rpc(base, "team/members/list/continue_v2", access, json!({"cursor": second["cursor"]})).await;
        assert_eq!(rest["has_more"], false);
        assert_eq!(rest["members"].as_array().unwrap().len(), 48);
        let (status, err) = rpc(base, "team/members/list/continue_v2", access, json!({"cursor": "nonsense!"})).await;
        assert_eq!((status, err["error"][".tag"].as_str()), (409, Some("invalid_cursor")));
    }
}
