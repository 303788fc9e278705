//! HubSpot settings API (v3): `GET /settings/v3/users?limit=&after=` (at most 100 a page; the
//! next page's `after` in `paging.next.after`, with an absolute `paging.next.link`; no `paging`
//! on the last page). Private-app token as `Authorization: Bearer`. Errors and the 10-second
//! rolling rate limit follow HubSpot's `{status: "error", message, correlationId, …}` bodies.
//! The v3 user has no seat or last-login field: `superAdmin` and `roleId` are all there is.

use super::server::{cursor_for, index_of_cursor, limit_param, query_param, FakeState};
use super::FakeUser;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

const MAX_LIMIT: usize = 100;
const CORRELATION_ID: &str = "9a8b7c6d-0000-4000-8000-0000000f4ce5";
/// The paid role every licensed non-admin holds; its id is a number in a string, as HubSpot's.
const SALES_ROLE: &str = "100001";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/v3/users", web::get().to(list));
}

/// 429 of the ten-second rolling limit: no Retry-After, only the `X-HubSpot-RateLimit-*` headers.
pub(super) fn throttled() -> HttpResponse {
    HttpResponse::TooManyRequests()
        .insert_header(("X-HubSpot-RateLimit-Interval-Milliseconds", "10000"))
        .insert_header(("X-HubSpot-RateLimit-Max", "100"))
        .insert_header(("X-HubSpot-RateLimit-Remaining", "0"))
        .json(json!({
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": CORRELATION_ID,
            "policyName": "TEN_SECONDLY_ROLLING",
        }))
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({
        "status": "error",
        "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can \
                    find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        "correlationId": CORRELATION_ID,
        "category": "INVALID_AUTHENTICATION",
    }))
}

fn user(u: &FakeUser) -> Value {
    let mut out = json!({
        "id": u.number().to_string(),
        "email": u.email,
        "roleIds": [],
        "primaryTeamId": (500 + u.index % 6).to_string(),
        "secondaryTeamIds": [],
        "superAdmin": u.admin,
        "firstName": u.given_name,
        "lastName": u.family_name,
        "sendWelcomeEmail": false,
    });
    // Super admins hold every permission and no role; unlicensed users have none either.
    if u.licensed && !u.admin {
        out["roleId"] = json!(SALES_ROLE);
        out["roleIds"] = json!([SALES_ROLE]);
    }
    out
}

async fn list(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return unauthorized();
    }
    let from = match query_param(&req, "after") {
        None => 0,
        Some(a) => match index_of_cursor(&a) {
            Some(i) => i,
            None => {
                return HttpResponse::BadRequest().json(json!({
                    "status": "error",
                    "message": format!("Invalid input: after '{a}' is not a valid paging cursor"),
                    "correlationId": CORRELATION_ID,
                    "category": "VALIDATION_ERROR",
                }))
            }
        },
    };
    let limit = limit_param(&req, "limit", MAX_LIMIT, MAX_LIMIT);
    let (users, next) = state.users().page(from, limit);
    let mut body = json!({"results": users.iter().map(user).collect::<Vec<_>>()});
    if let Some(n) = next {
        let after = cursor_for(n);
        let link = format!("{}/settings/v3/users?limit={limit}&after={after}", state.base());
        body["paging"] = json!({"next": {"after": after, "link": link}});
    }
    HttpResponse::Ok().json(body)
}

#[cfg(test)]
mod tests {
    use crate::fakes::{FakeServer, Vendor, TOKEN};
    use serde_json::Value;

    async fn get(url: &str, token: &str) -> (u16, Value) {
        let r = reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[tokio::test]
    async fn pages_users_by_after_and_answers_hubspot_errors() {
        let fake = FakeServer::start(Vendor::Hubspot, 250).await.unwrap();
        let base = &fake.base_url;
        let (status, first) = get(&format!("{base}/settings/v3/users?limit=500"), TOKEN).await;
        assert_eq!(status, 200);
        let results = first["results"].as_array().unwrap();
        assert_eq!(results.len(), 100, "limit is clamped to 100");
        assert_eq!(results[0]["id"], "1000000");
        assert_eq!(results[0]["superAdmin"], true);
        assert!(results[0].get("roleId").is_none());
        assert_eq!(results[1]["roleId"], "100001");
        assert_eq!(results[1]["firstName"], "Ben");
        assert_eq!(results[6]["roleIds"].as_array().map(Vec::len), Some(0));

        fake.remove_user(100);
        let link = first["paging"]["next"]["link"].as_str().unwrap().to_string();
        assert!(link.starts_with(base.as_str()));
        let after = first["paging"]["next"]["after"].as_str().unwrap();
        let (_, second) = get(&format!("{base}/settings/v3/users?limit=100&after={after}"), TOKEN).await;
        assert_eq!(second["results"][0]["email"], "user101@example.com");
        let (_, third) = get(second["paging"]["next"]["link"].as_str().unwrap(), TOKEN).await;
        assert_eq!(third["results"].as_array().unwrap().len(), 49);
        assert!(third.get("paging").is_none());

        let (status, err) = get(&format!("{base}/settings/v3/users"), "wrong").await;
        assert_eq!((status, err["category"].as_str()), (401, Some("INVALID_AUTHENTICATION")));
        fake.throttle("/settings/v3/users", 1);
        let r =
            reqwest::Client::new().get(format!("{base}/settings/v3/users")).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(r.headers()["x-hubspot-ratelimit-remaining"], "0");
        assert!(r.headers().get("retry-after").is_none());
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (body["errorType"].as_str(), body["policyName"].as_str()),
            (Some("RATE_LIMIT"), Some("TEN_SECONDLY_ROLLING"))
        );
        fake.stop().await;
    }
}
