//! SCIM 2.0 (RFC 7643/7644) service provider: `GET /Users` with 1-based `startIndex`/`count`
//! and a `ListResponse`, `GET /Users/{id}`, `PATCH /Users/{id}` (PatchOp, used to deactivate a
//! seat), `GET /ServiceProviderConfig`; bearer token; errors in the SCIM `Error` schema.
//! Licence: Figma-style `roles[{type: seatType, value}]`. No last-login attribute (RFC has none).

use super::server::{limit_param, query_param, FakeState};
use super::FakeUser;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The most resources one page returns (Figma's `maxResults`).
const MAX_COUNT: usize = 200;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/Users", web::get().to(list))
        .route("/Users/{id}", web::get().to(get))
        .route("/Users/{id}", web::patch().to(patch))
        .route("/ServiceProviderConfig", web::get().to(config));
}

/// RFC 7644 §3.12 error body with the given HTTP status.
fn error(status: u16, scim_type: Option<&str>, detail: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    let mut body = json!({"schemas": [ERROR], "status": status.to_string(), "detail": detail});
    if let Some(t) = scim_type {
        body["scimType"] = json!(t);
    }
    HttpResponse::build(code).content_type("application/scim+json").json(body)
}

pub(super) fn throttled() -> HttpResponse {
    let mut resp = error(429, None, "Too many requests; retry after the interval in Retry-After");
    resp.headers_mut()
        .insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from_static("1"));
    resp
}

fn unauthorized() -> HttpResponse {
    error(401, None, "Authentication failed: send a valid bearer token")
}

fn resource(u: &FakeUser, base: &str) -> Value {
    let id = u.guid();
    let seat = if u.licensed { "Full" } else { "View" };
    json!({
        "schemas": [USER],
        "id": id,
        "externalId": format!("emp-{}", u.index),
        "userName": u.email,
        "name": {"givenName": u.given_name, "familyName": u.family_name, "formatted": u.full_name()},
        "displayName": u.full_name(),
        "emails": [{"value": u.email, "type": "work", "primary": true}],
        "active": !u.suspended,
        "roles": [{"type": "seatType", "value": seat}],
        "meta": {
            "resourceType": "User",
            "created": u.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "lastModified": u.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "location": format!("{base}/Users/{id}"),
        },
    })
}

fn index_of(id: &str) -> Option<usize> {
    usize::from_str_radix(id.strip_prefix("00000000-0000-4000-8000-")?, 16).ok()
}

async fn list(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let start = match query_param(&req, "startIndex").map(|s| s.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) => n.max(1),
        Some(Err(_)) => return error(400, Some("invalidValue"), "startIndex must be a positive integer"),
    };
    let count = limit_param(&req, "count", 100, MAX_COUNT);
    let dir = state.users();
    // startIndex counts live resources, so pages stay contiguous after a removal.
    let filter = query_param(&req, "filter");
    let base = state.base();
    let (resources, total): (Vec<Value>, usize) = match filter {
        Some(f) => {
            let Some(name) = f.strip_prefix("userName eq \"").and_then(|r| r.strip_suffix('"')) else {
                return error(400, Some("invalidFilter"), "only `userName eq \"…\"` filters are supported");
            };
            let found: Vec<Value> = dir.by_email(name).iter().map(|u| resource(u, &base)).collect();
            let n = found.len();
            (found, n)
        }
        None => {
            let page: Vec<Value> = dir
                .indices()
                .skip(start - 1)
                .take(count)
                .filter_map(|i| dir.user(i))
                .map(|u| resource(&u, &base))
                .collect();
            (page, dir.len())
        }
    };
    HttpResponse::Ok().content_type("application/scim+json").json(json!({
        "schemas": [LIST],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    }))
}

async fn get(req: HttpRequest, state: web::Data<FakeState>, id: web::Path<String>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    match index_of(&id).and_then(|i| state.users().user(i)) {
        Some(u) => HttpResponse::Ok().content_type("application/scim+json").json(resource(&u, &state.base())),
        None => error(404, None, &format!("Resource {id} not found")),
    }
}

/// RFC 7644 §3.5.2 PatchOp; supports `replace` of `active` (how provisioning deactivates a seat).
async fn patch(req: HttpRequest, state: web::Data<FakeState>, id: web::Path<String>, body: web::Bytes) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let Some(index) = index_of(&id).filter(|i| state.users().user(*i).is_some()) else {
        return error(404, None, &format!("Resource {id} not found"));
    };
    let Ok(op) = serde_json::from_slice::<Value>(&body) else {
        return error(400, Some("invalidSyntax"), "the body is not JSON");
    };
    if op["schemas"][0] != PATCH_OP {
        return error(400, Some("invalidSyntax"), "schemas must be [PatchOp]");
    }
    let active = op["Operations"].as_array().into_iter().flatten().find_map(|o| {
        let replace = o["op"].as_str().is_some_and(|s| s.eq_ignore_ascii_case("replace"));
        match (replace, o["path"].as_str()) {
            (true, Some("active")) => o["value"].as_bool(),
            (true, None) => o["value"]["active"].as_bool(),
            _ => None,
        }
    });
    let Some(active) = active else {
        return error(400, Some("invalidPath"), "only `replace` of `active` is supported");
    };
    state.directory.write().unwrap_or_else(|e| e.into_inner()).set_suspended(index, !active);
    state.record_action(format!("{} {id}", if active { "activate" } else { "deactivate" }));
    let u = state.users().user(index);
    match u {
        Some(u) => HttpResponse::Ok().content_type("application/scim+json").json(resource(&u, &state.base())),
        None => error(404, None, &format!("Resource {id} not found")),
    }
}

async fn config(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    HttpResponse::Ok().content_type("application/scim+json").json(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard"}],
    }))
}

#[cfg(test)]
mod tests {
    use crate::fakes::{FakeServer, Vendor, TOKEN};
    use serde_json::Value;

    async fn get(base: &str, path: &str, token: &str) -> (u16, Value) {
        let r = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[tokio::test]
    async fn pages_by_start_index_and_answers_scim_errors() {
        let fake = FakeServer::start(Vendor::Scim, 250).await.unwrap();
        let (status, first) = get(&fake.base_url, "/Users?startIndex=1&count=100", TOKEN).await;
        assert_eq!(status, 200);
        assert_eq!(first["totalResults"], 250);
        assert_eq!(first["Resources"].as_array().unwrap().len(), 100);
        assert_eq!(first["Resources"][0]["userName"], "user0@example.com");
        fake.remove_user(0);
        let (_, last) = get(&fake.base_url, "/Users?startIndex=201&count=100", TOKEN).await;
        assert_eq!(last["totalResults"], 249);
        assert_eq!(last["Resources"].as_array().unwrap().len(), 49);
        let (status, err) = get(&fake.base_url, "/Users", "wrong").await;
        assert_eq!((status, err["status"].as_str()), (401, Some("401")));
        fake.throttle("/Users", 1);
        let (status, _) = get(&fake.base_url, "/Users", TOKEN).await;
        assert_eq!(status, 429);
        assert_eq!(fake.requests(), 4);
        fake.stop().await;
    }
}
