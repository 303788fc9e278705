//! Atlassian Cloud organizations admin API: `GET /admin/v1/orgs/{orgId}/users?cursor=` (managed
//! accounts, 100 a page, `links.next` an absolute URL carrying the next `cursor`, `meta.total`).
//! Org API key as `Authorization: Bearer`. Billable seat: `access_billable`; activity:
//! `last_active` and per-product `product_access[].last_active` as plain dates (`2026-11-20`).

use super::server::{cursor_for, index_of_cursor, query_param, FakeState};
use super::FakeUser;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// Users per page (the API has no page-size parameter).
const PAGE: usize = 100;
const SITE: &str = "https://fake.atlassian.net";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/v1/orgs/{org_id}/users", web::get().to(list));
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"code": status.as_u16(), "message": message}))
}

pub(super) fn throttled() -> HttpResponse {
    let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
    resp.headers_mut()
        .insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from_static("1"));
    resp
}

/// A 24-character Atlassian account id.
fn account_id(u: &FakeUser) -> String {
    format!("5b10ac8d82e05b22cc{:06x}", u.index)
}

fn user(u: &FakeUser, users_url: &str) -> Value {
    let id = account_id(u);
    let day = u.last_active.map(|t| t.format("%Y-%m-%d").to_string());
    let product = |key: &str, name: &str| {
        let mut p = json!({"key": key, "name": name, "url": SITE});
        if let Some(d) = &day {
            p["last_active"] = json!(d);
        }
        p
    };
    let mut products = Vec::new();
    if u.licensed {
        products.push(product("jira-software", "Jira Software"));
        if u.index.is_multiple_of(3) {
            products.push(product("confluence", "Confluence"));
        }
    }
    let mut out = json!({
        "account_id": id,
        "account_type": "atlassian",
        "account_status": if u.suspended { "inactive" } else { "active" },
        "name": u.full_name(),
        "picture": format!("https://avatar-management.services.atlassian.com/{id}/128"),
        "email": u.email,
        "access_billable": u.licensed,
        "product_access": products,
        "links": {"self": format!("{users_url}/{id}")},
    });
    if let Some(d) = day {
        out["last_active"] = json!(d);
    }
    out
}

async fn list(req: HttpRequest, state: web::Data<FakeState>, org_id: web::Path<String>) -> HttpResponse {
    if !state.authorized(&req, "Bearer") {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized; scope does not match");
    }
    let from = match query_param(&req, "cursor") {
        None => 0,
        Some(c) => match index_of_cursor(&c) {
            Some(i) => i,
            None => return error(StatusCode::BAD_REQUEST, "Invalid cursor"),
        },
    };
    let users_url = format!("{}/admin/v1/orgs/{org_id}/users", state.base());
    let dir = state.users();
    let (users, next) = dir.page(from, PAGE);
    let this = if from == 0 { users_url.clone() } else { format!("{users_url}?cursor={}", cursor_for(from)) };
    let mut links = json!({"self": this});
    if let Some(n) = next {
        links["next"] = json!(format!("{users_url}?cursor={}", cursor_for(n)));
    }
    HttpResponse::Ok().json(json!({
        "data": users.iter().map(|u| user(u, &users_url)).collect::<Vec<_>>(),
        "links": links,
        "meta": {"total": dir.len()},
    }))
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
    async fn pages_managed_accounts_by_links_next() {
        let fake = FakeServer::start(Vendor::Atlassian, 250).await.unwrap();
        let url = format!("{}/admin/v1/orgs/org-1/users", fake.base_url);
        let (status, first) = get(&url, TOKEN).await;
        assert_eq!(status, 200);
        assert_eq!(first["meta"]["total"], 250);
        let data = first["data"].as_array().unwrap();
        assert_eq!(data.len(), 100);
        assert_eq!(data[0]["account_id"].as_str().map(str::len), Some(24));
        assert_eq!(data[0]["account_type"], "atlassian");
        assert_eq!(data[0]["access_billable"], true);
        assert_eq!(data[0]["product_access"][1]["key"], "confluence");
        assert_eq!(data[1]["last_active"].as_str().map(str::len), Some(10), "a plain date");
        assert!(data[3].get("last_active").is_none(), "user 3 never signed in");
        assert_eq!(data[5]["account_status"], "inactive");
        assert_eq!(data[6]["access_billable"], false);
        assert_eq!(data[6]["product_access"].as_array().map(Vec::len), Some(0));

        fake.remove_user(100);
        let next = first["links"]["next"].as_str().unwrap().to_string();
        assert!(next.starts_with(&fake.base_url));
        let (_, second) = get(&next, TOKEN).await;
        assert_eq!(second["data"][0]["email"], "user101@example.com");
        assert_eq!(second["meta"]["total"], 249);
        let (_, third) = get(second["links"]["next"].as_str().unwrap(), TOKEN).await;
        assert_eq!(third["data"].as_array().unwrap().len(), 49);
        assert!(third["links"].get("next").is_none());

        let (status, err) = get(&url, "wrong").await;
        assert_eq!((status, err["code"].as_u64()), (401, Some(401)));
        fake.throttle("/users", 1);
        let r = reqwest::Client::new().get(&url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (429, "1"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["message"], "Rate limit exceeded");
        fake.stop().await;
    }
}
