//! Asana API: `GET /api/1.0/workspaces/{workspace_gid}/users` and
//! `GET /api/1.0/workspaces/{workspace_gid}/workspace_memberships`, and `GET /api/1.0/users?workspace=`
//! (the listing Asana points to beyond 2,000 users) (`limit` 1–100 and an opaque
//! `offset` → `next_page{offset, path, uri}`, `null` on the last page). Personal access token
//! as `Authorization: Bearer`. Errors as `{"errors": [{message, help}]}`. Seat type lives on the
//! membership: `is_view_only` (no paid seat), `is_guest`, `is_admin`, `is_active`.

use super::server::{cursor_for, index_of_cursor, query_param, FakeState};
use super::FakeUser;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// The fake's one workspace.
pub const WORKSPACE_GID: &str = "1200000000000001";
const WORKSPACE_NAME: &str = "Fake Workspace";
const MAX_LIMIT: usize = 100;
/// Without `limit` Asana answers unpaginated, unless the result is too large.
const UNPAGINATED_MAX: usize = 1000;
const HELP: &str = "For more information on API status codes and how to handle them, read the docs on errors: \
                    https://developers.asana.com/docs/errors";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/1.0/users", web::get().to(all_users))
        .route("/api/1.0/workspaces/{workspace_gid}/users", web::get().to(users))
        .route("/api/1.0/workspaces/{workspace_gid}/workspace_memberships", web::get().to(memberships));
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"errors": [{"message": message, "help": HELP}]}))
}

pub(super) fn throttled() -> HttpResponse {
    let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "You have made too many requests recently. Please, be chill.");
    resp.headers_mut()
        .insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from_static("1"));
    resp
}

fn user_gid(u: &FakeUser) -> String {
    (1_300_000_000_000_000 + u.index as u64).to_string()
}

fn user(u: &FakeUser) -> Value {
    json!({"gid": user_gid(u), "resource_type": "user", "name": u.full_name(), "email": u.email})
}

fn membership(u: &FakeUser) -> Value {
    json!({
        "gid": (1_400_000_000_000_000 + u.index as u64).to_string(),
        "resource_type": "workspace_membership",
        "user": user(u),
        "workspace": {"gid": WORKSPACE_GID, "resource_type": "workspace", "name": WORKSPACE_NAME},
        "is_active": !u.suspended,
        "is_admin": u.admin,
        "is_guest": false,
        "is_view_only": !u.licensed,
        "created_at": u.created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

/// Checks auth, workspace and paging parameters, then answers one page of `render`ed users.
/// `route` is the listing's path up to its paging parameters (`/workspaces/1/users?`).
fn page(
    req: &HttpRequest,
    state: &FakeState,
    workspace: &str,
    route: &str,
    render: fn(&FakeUser) -> Value,
) -> HttpResponse {
    if !state.authorized(req, "Bearer") {
        return error(StatusCode::UNAUTHORIZED, "Not Authorized");
    }
    if workspace != WORKSPACE_GID {
        return error(StatusCode::NOT_FOUND, &format!("workspace: Unknown object: {workspace}"));
    }
    let limit = match query_param(req, "limit") {
        None => None,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Some(n),
            _ => return error(StatusCode::BAD_REQUEST, "limit: Must be between 1 and 100"),
        },
    };
    let from = match query_param(req, "offset") {
        None => 0,
        Some(o) => match (index_of_cursor(&o), limit) {
            (Some(i), Some(_)) => i,
            (None, _) => return error(StatusCode::BAD_REQUEST, "offset: Your pagination token is invalid."),
            (Some(_), None) => return error(StatusCode::BAD_REQUEST, "limit: Must be between 1 and 100"),
        },
    };
    let dir = state.users();
    let Some(limit) = limit.or((dir.len() <= UNPAGINATED_MAX).then_some(UNPAGINATED_MAX)) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The result is too large. You should use pagination (may require specifying a workspace)!",
        );
    };
    let (users, next) = dir.page(from, limit);
    let next_page = next.map(|n| {
        let offset = cursor_for(n);
        let mut path = format!("{route}limit={limit}&offset={offset}");
        if let Some(fields) = query_param(req, "opt_fields") {
            let encoded: String = form_urlencoded::byte_serialize(fields.as_bytes()).collect();
            path.push_str(&format!("&opt_fields={encoded}"));
        }
        json!({"offset": offset, "path": path, "uri": format!("{}/api/1.0{path}", state.base())})
    });
    HttpResponse::Ok().json(json!({"data": users.iter().map(render).collect::<Vec<_>>(), "next_page": next_page}))
}

async fn users(req: HttpRequest, state: web::Data<FakeState>, workspace: web::Path<String>) -> HttpResponse {
    page(&req, &state, &workspace, &format!("/workspaces/{workspace}/users?"), user)
}

/// `GET /users?workspace=`: the fake has one workspace, so `workspace` is required.
async fn all_users(req: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return error(StatusCode::UNAUTHORIZED, "Not Authorized");
    }
    let Some(workspace) = query_param(&req, "workspace") else {
        return error(StatusCode::BAD_REQUEST, "workspace: Missing input");
    };
    let encoded: String = form_urlencoded::byte_serialize(workspace.as_bytes()).collect();
    page(&req, &state, &workspace, &format!("/users?workspace={encoded}&"), user)
}

async fn memberships(req: HttpRequest, state: web::Data<FakeState>, workspace: web::Path<String>) -> HttpResponse {
    page(&req, &state, &workspace, &format!("/workspaces/{workspace}/workspace_memberships?"), membership)
}

#[cfg(test)]
mod tests {
    use super::WORKSPACE_GID;
    use crate::fakes::{FakeServer, Vendor, TOKEN};
    use serde_json::Value;

    async fn get(url: &str, token: &str) -> (u16, Value) {
        let r = reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[tokio::test]
    async fn pages_users_and_memberships_by_offset() {
        let fake = FakeServer::start(Vendor::Asana, 250).await.unwrap();
        let base = format!("{}/api/1.0/workspaces/{WORKSPACE_GID}", fake.base_url);
        let (status, first) = get(&format!("{base}/users?limit=100&opt_fields=email,name"), TOKEN).await;
        assert_eq!(status, 200);
        assert_eq!(first["data"].as_array().unwrap().len(), 100);
        assert_eq!(first["data"][0]["resource_type"], "user");
        assert_eq!(first["data"][0]["email"], "user0@example.com");
        let uri = first["next_page"]["uri"].as_str().unwrap().to_string();
        assert!(uri.starts_with(&fake.base_url) && uri.contains("opt_fields=email%2Cname"), "{uri}");
        fake.remove_user(100);
        let (_, second) = get(&uri, TOKEN).await;
        assert_eq!(second["data"][0]["email"], "user101@example.com");
        let (_, third) = get(second["next_page"]["uri"].as_str().unwrap(), TOKEN).await;
        assert_eq!(third["data"].as_array().unwrap().len(), 49);
        assert!(third["next_page"].is_null());

        let all = format!("{}/api/1.0/users?workspace={WORKSPACE_GID}&limit=100", fake.base_url);
        let (_, listed) = get(&all, TOKEN).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 100);
        let next = listed["next_page"]["uri"].as_str().unwrap();
        assert!(next.contains("/api/1.0/users?workspace="), "{next}");
        let (status, _) = get(&format!("{}/api/1.0/users?limit=10", fake.base_url), TOKEN).await;
        assert_eq!(status, 400, "the fake lists one workspace's users only");

        let fields = "user.email,is_active,is_admin,is_guest,is_view_only";
        let (_, m) = get(&format!("{base}/workspace_memberships?limit=10&opt_fields={fields}"), TOKEN).await;
        let data = m["data"].as_array().unwrap();
        assert_eq!(data[0]["resource_type"], "workspace_membership");
        assert_eq!(data[0]["is_admin"], true);
        assert_eq!(data[5]["is_active"], false, "user 5 is suspended");
        assert_eq!(data[6]["is_view_only"], true, "user 6 holds no paid seat");
        assert_eq!(data[6]["user"]["email"], "user6@example.com");
        assert_eq!(data[1]["workspace"]["gid"], WORKSPACE_GID);

        let (status, err) = get(&format!("{base}/users?limit=500"), TOKEN).await;
        assert_eq!((status, err["errors"][0]["message"].as_str()), (400, Some("limit: Must be between 1 and 100")));
        let (status, err) = get(&format!("{base}/users?limit=10"), "wrong").await;
        assert_eq!((status, err["errors"][0]["message"].as_str()), (401, Some("Not Authorized")));
        fake.throttle("/workspace_memberships", 1);
        let r = reqwest::Client::new()
            .get(format!("{base}/workspace_memberships?limit=10"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (429, "1"));
        let body: Value = r.json().await.unwrap();
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("too many requests"));
        fake.stop().await;
    }
}
