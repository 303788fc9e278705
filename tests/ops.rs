//! Operations: liveness, readiness, metrics and the OpenAPI document.

use crate::per_backend;
use crate::support::{Test, TestApp, TestBackend};
use reqwest::Method;

pub fn tests() -> Vec<Test> {
    vec![
        per_backend!(health_and_readiness_follow_the_database),
        per_backend!(readiness_reports_a_scheduler_that_does_not_tick),
        per_backend!(metrics_count_requests_by_route_and_show_the_pool),
        per_backend!(openapi_documents_every_route_with_roles_and_error_codes),
    ]
}

async fn health_and_readiness_follow_the_database(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    assert_eq!(app.call(None, Method::GET, "/healthz", None).await.expect(200)["status"], "ok");
    let ready = app.call(None, Method::GET, "/readyz", None).await.expect(200);
    assert_eq!(ready["checks"]["migrations"], "ok");
    stackward::db::revert_all(&mut app.db.db.get().unwrap()).unwrap();
    let not_ready = app.call(None, Method::GET, "/readyz", None).await.expect(503);
    assert_eq!(not_ready["checks"]["database"], "ok");
    assert!(not_ready["checks"]["migrations"].as_str().unwrap().ends_with(" pending"), "{not_ready}");
    assert_eq!(app.call(None, Method::GET, "/healthz", None).await.status, 200, "liveness does not need the database");
}

async fn metrics_count_requests_by_route_and_show_the_pool(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let id = app.app("Loom").await;
    app.get(&format!("/api/v1/apps/{id}")).await.expect(200);
    app.get("/api/v1/apps/77777").await.expect(404);
    let text = app.call(None, Method::GET, "/metrics", None).await.text;
    for needle in [
        r#"stackward_http_requests_total{method="GET",route="/api/v1/apps/{id}",status="200"} 1"#,
        r#"stackward_http_requests_total{method="GET",route="/api/v1/apps/{id}",status="404"} 1"#,
        r#"stackward_http_requests_total{method="POST",route="/api/v1/apps",status="201"} 1"#,
        r#"stackward_http_request_duration_seconds_bucket{method="GET",route="/api/v1/apps/{id}",le="+Inf"} 2"#,
        r#"stackward_db_pool_connections{state="max"} 4"#,
        r#"stackward_db_pool_connections{state="idle"}"#,
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(!text.contains("77777"), "raw paths never become labels");
}

async fn openapi_documents_every_route_with_roles_and_error_codes(backend: TestBackend) {
    let app = TestApp::new(backend).await;
    let doc = app.call(None, Method::GET, "/api/v1/openapi.json", None).await.expect(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    for code in ["invalid", "malformed", "unauthorized", "forbidden", "not_found", "conflict", "unavailable"] {
        assert!(doc["info"]["description"].as_str().unwrap().contains(code), "{code} documented");
    }
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            if path.starts_with("/api/v1") {
                let d = op["description"].as_str().unwrap_or_default();
                assert!(d.contains("Roles:"), "{method} {path} states its roles");
                // Routes authenticated otherwise (the OAuth callback's state) declare `security: [{}]`.
                let tokenless = op["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty())));
                assert!(tokenless || op["responses"]["401"].is_object(), "{method} {path} documents 401");
            }
            let ok = ["200", "201", "202", "302"].iter().any(|c| op["responses"][c].is_object());
            assert!(ok, "{method} {path} documents its success");
        }
    }
    assert!(count >= 32, "{count} operations");
    for schema in ["App", "Subscription", "Person", "Account", "ErrorBody", "AppChanges"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema}");
    }
}

async fn readiness_reports_a_scheduler_that_does_not_tick(backend: TestBackend) {
    let app = TestApp::build(backend, &[], |c| c.scheduler_running = true).await;
    let r = app.call(None, Method::GET, "/readyz", None).await.expect(503);
    assert_eq!(r["checks"]["scheduler"], "stalled: never ticked");
    app.ctx.heartbeat.beat();
    let r = app.call(None, Method::GET, "/readyz", None).await.expect(200);
    assert_eq!(r["checks"]["scheduler"], "ok");
    let plain = TestApp::new(backend).await;
    let r = plain.call(None, Method::GET, "/readyz", None).await.expect(200);
    assert_eq!(r["checks"]["scheduler"], "off", "a process without a scheduler says so");
}
