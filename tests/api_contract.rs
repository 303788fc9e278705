//! The API contract: the OpenAPI document describes the wire (enums as sent, nullable fields
//! nullable, every body type), the checker in test support refuses what the document does not
//! say, and JSON kept in text columns is read back typed or not at all.

use crate::per_backend;
use crate::support::contract::{Contract, Observed};
use crate::support::{Test, TestApp, TestBackend};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(enums_are_documented_as_they_are_sent),
        per_backend!(the_checker_refuses_what_the_document_does_not_say),
        per_backend!(an_audit_entry_without_a_before_matches_the_document),
        per_backend!(the_policy_body_is_described_as_toml_or_text),
        per_backend!(a_repeated_query_parameter_is_a_documented_400),
        per_backend!(every_operation_with_query_parameters_documents_400),
        per_backend!(a_corrupt_json_column_fails_loudly_instead_of_reading_empty),
        per_backend!(a_flattened_body_is_closed_over_all_its_parts),
        per_backend!(every_operation_that_needs_a_caller_documents_401_and_403),
        per_backend!(a_role_grant_is_audited_as_an_object),
        per_backend!(a_file_download_is_documented_as_binary),
    ]
}

async fn document(app: &TestApp) -> Value {
    app.call(None, Method::GET, "/api/v1/openapi.json", None).await.expect(200)
}

async fn enums_are_documented_as_they_are_sent(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["AppStatus"]["enum"],
        json!(["discovered", "under_review", "approved", "deprecated", "retired"]),
        "{}",
        schemas["AppStatus"]
    );
    assert_eq!(schemas["Role"]["enum"][0], "admin", "{}", schemas["Role"]);
    assert!(schemas["BillingFrequency"]["enum"].as_array().unwrap().contains(&json!("monthly")));
    // No enum anywhere in the document lists a value in PascalCase.
    let text = doc.to_string();
    for sent_lower in ["\"Monthly\"", "\"Active\"", "\"Admin\"", "\"Approved\""] {
        assert!(!text.contains(sent_lower), "{sent_lower} is documented but never sent");
    }
    // Rows are not bodies: each body is a view type (a row would bring its table-only fields).
    assert!(schemas["Finding"]["properties"].get("subject_key").is_none());
    assert!(schemas["Finding"]["properties"]["evidence"].is_object());
}

async fn the_checker_refuses_what_the_document_does_not_say(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let contract = Contract::new(document(&app).await);
    // A subscription: its document is one closed object (an app's detail flattens several).
    let app_id = app.app("Loom").await;
    let id = app.subscription(&app_id, 10, 1000).await;
    let good = app.get(&format!("/api/v1/subscriptions/{id}")).await.text;
    let path = format!("/api/v1/subscriptions/{id}");
    let seen = |status, body: &str| {
        contract.check(&Observed { method: "GET", path: &path, status, content_type: Some("application/json"), body })
    };
    seen(200, &good).expect("the real body matches");
    let mut body: Value = serde_json::from_str(&good).unwrap();
    body["status"] = json!("Active");
    assert!(seen(200, &body.to_string()).unwrap_err().contains("/status"), "an enum value not documented");
    let mut body: Value = serde_json::from_str(&good).unwrap();
    body["surprise"] = json!(1);
    assert!(seen(200, &body.to_string()).is_err(), "a field not documented");
    let mut body: Value = serde_json::from_str(&good).unwrap();
    body.as_object_mut().unwrap().remove("currency");
    assert!(seen(200, &body.to_string()).is_err(), "a required field missing");
    assert!(seen(418, &good).unwrap_err().contains("not documented"), "a status not documented");
    let unknown = contract.check(&Observed {
        method: "GET",
        path: "/api/v1/apps/1/nothing",
        status: 200,
        content_type: Some("application/json"),
        body: "{}",
    });
    assert!(unknown.unwrap_err().contains("no route"), "a route not documented");
}

async fn an_audit_entry_without_a_before_matches_the_document(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    app.app("Loom").await;
    // The support's contract check runs on this reply: `before` is null on a creation.
    let page = app.get("/api/v1/audit-log?entity=app").await.expect(200);
    assert_eq!(page["items"][0]["before"], Value::Null);
    let doc = document(&app).await;
    let before = &doc["components"]["schemas"]["AuditEntry"]["properties"]["before"];
    assert!(before.to_string().contains("null"), "before is nullable: {before}");
}

async fn the_policy_body_is_described_as_toml_or_text(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let doc = document(&app).await;
    let content = &doc["paths"]["/api/v1/policy"]["put"]["requestBody"]["content"];
    for media in ["application/toml", "text/plain"] {
        assert_eq!(content[media]["schema"]["type"], "string", "{media} in {content}");
    }
}

async fn a_repeated_query_parameter_is_a_documented_400(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    // The contract check in support confirms 400 is documented for the route.
    app.get("/api/v1/apps?status=approved&status=retired").await.expect_error(400, "invalid", Some("status"));
    let doc = document(&app).await;
    let description = doc["info"]["description"].as_str().unwrap();
    assert!(description.contains("given twice"), "{description}");
}

async fn every_operation_with_query_parameters_documents_400(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let queried = op["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            if queried {
                assert!(op["responses"]["400"].is_object(), "{method} {path} takes a query but does not document 400");
            }
        }
    }
    // Found by the fuzzer: a bad boolean was an undocumented 400; a huge day count overflowed.
    app.get("/api/v1/connections?include_deleted=2").await.expect_error(400, "invalid", Some("include_deleted"));
    app.get("/api/v1/accounts?inactive_days=2147483648").await.expect(200);
    app.get("/api/v1/accounts?inactive_days=4294967296").await.expect_error(400, "invalid", Some("inactive_days"));
}

async fn a_corrupt_json_column_fails_loudly_instead_of_reading_empty(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    app.app("Loom").await;
    {
        use stackward::db::schema::audit_log;
        let mut conn = app.db.db.get().unwrap();
        diesel::update(audit_log::table).set(audit_log::after_json.eq("{\"name\": \"Lo")).execute(&mut *conn).unwrap();
    }
    // Read as an empty value before; now the read fails and says nothing of the database.
    let body = app.get("/api/v1/audit-log").await.expect_error(500, "internal", None);
    assert!(!body.to_string().contains("Lo\\\""), "{body}");
    // An audit's frozen summary read as all zeros before.
    let id =
        app.post("/api/v1/audits", json!({"quarter": "2026-Q4"})).await.expect(201)["id"].as_str().unwrap().to_string();
    app.get(&format!("/api/v1/audits/{id}")).await.expect(200);
    {
        use stackward::db::schema::audits;
        let mut conn = app.db.db.get().unwrap();
        diesel::update(audits::table).set(audits::summary.eq("{\"apps\": \"many\"}")).execute(&mut *conn).unwrap();
    }
    app.get(&format!("/api/v1/audits/{id}")).await.expect_error(500, "internal", None);
}

async fn a_flattened_body_is_closed_over_all_its_parts(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let doc = document(&app).await;
    // `#[serde(flatten)]` documents an app's detail as allOf(App, its own fields).
    assert!(
        doc["components"]["schemas"]["AppDetail"]["allOf"].is_array(),
        "{}",
        doc["components"]["schemas"]["AppDetail"]
    );
    let contract = Contract::new(doc);
    let id = app.app("Loom").await;
    let path = format!("/api/v1/apps/{id}");
    let good = app.get(&path).await.text;
    let seen = |body: &Value| {
        let body = body.to_string();
        contract.check(&Observed {
            method: "GET",
            path: &path,
            status: 200,
            content_type: Some("application/json"),
            body: &body,
        })
    };
    let body: Value = serde_json::from_str(&good).unwrap();
    seen(&body).expect("fields of every part together are the object");
    let mut extra = body.clone();
    extra["surprise"] = json!(1);
    assert!(seen(&extra).unwrap_err().contains("surprise"), "a field no part documents");
    for (part, field) in [("App", "name"), ("AppDetail's own", "licence_pools")] {
        let mut missing = body.clone();
        missing.as_object_mut().unwrap().remove(field);
        assert!(seen(&missing).is_err(), "{field}, required by {part}, missing");
    }
    let mut wrong = body.clone();
    wrong["coverage"]["seats"] = json!("Connector");
    assert!(seen(&wrong).unwrap_err().contains("/coverage/seats"), "a nested object is still checked");
}

async fn every_operation_that_needs_a_caller_documents_401_and_403(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let open = op["security"].as_array().is_some_and(|s| s.iter().any(|r| r == &json!({})));
            if !path.starts_with("/api/v1") || open {
                continue;
            }
            for status in ["401", "403"] {
                assert!(op["responses"][status].is_object(), "{method} {path} does not document {status}");
            }
        }
    }
    // A calendar token is refused everywhere but the feed: 403, which the support checks is documented.
    let cal =
        app.post("/api/v1/tokens", json!({"name": "cal", "role": "finance", "scope": "calendar"})).await.expect(201);
    let secret = cal["secret"].as_str().unwrap();
    for path in ["/api/v1/me", "/api/v1/requests", "/api/v1/check-ins", "/api/v1/apps/1"] {
        app.call_as(secret, Method::GET, path, None).await.expect_error(403, "forbidden", None);
    }
}

async fn a_role_grant_is_audited_as_an_object(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    app.sign_in("pat@example.com", &[stackward::auth::Role::It]);
    let log = app.get("/api/v1/audit-log?entity=user").await.expect(200);
    let grant = log["items"].as_array().unwrap().iter().find(|e| e["action"] == "user.grant").expect("a grant entry");
    assert_eq!(grant["before"], json!({"roles": []}), "{grant}");
    assert_eq!(grant["after"], json!({"roles": [{"role": "it", "source": "local"}]}), "{grant}");
}

async fn a_file_download_is_documented_as_binary(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let doc = document(&app).await;
    // A generated client reads bytes, not a JSON array of numbers.
    let pack = &doc["paths"]["/api/v1/audits/{id}/pack"]["get"]["responses"]["200"]["content"]["application/zip"];
    let schema = match pack["schema"]["$ref"].as_str() {
        Some(r) => doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")].clone(),
        None => pack["schema"].clone(),
    };
    assert_eq!(schema["type"], "string", "{pack}");
    assert_eq!(schema["format"], "binary", "{pack}");
}
