//! `/openapi.json`: a valid OpenAPI 3.1 document (checked by the third-party
//! `openapi-spec-validator` from PyPI) that covers every route, and real answers of the running
//! server match the schemas it declares (checked with the `jsonschema` crate).

use crate::helpers::post;
use crate::helpers::{Client, KEY, Site, TestEnv, browser_script};
use serde_json::{Value, json};
use std::time::Duration;

/// Checks `body` against the schema `doc` declares for `path`, `method` and `status`.
fn conforms(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let escape = |s: &str| s.replace('~', "~0").replace('/', "~1");
    let response = format!("/paths/{}/{method}/responses/{status}", escape(path));
    let content = doc.pointer(&response).unwrap_or_else(|| panic!("{method} {path} declares no {status}"));
    let schema = format!("{response}/content/application~1json/schema");
    assert!(doc.pointer(&schema).is_some(), "{method} {path} {status} has no JSON schema: {content}");
    let mut root = doc.clone();
    // A URI fragment: braces percent-encoded.
    root["$ref"] = json!(format!("#{}", schema.replace('{', "%7B").replace('}', "%7D")));
    let validator = jsonschema::draft202012::new(&root).expect("the document's schemas compile");
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{method} {path} {status}: {errors:?}\nbody: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_document_is_valid_covers_every_route_and_answers_match_it() {
    let python = std::env::var("KRAWLR_TEST_PYTHON")
        .expect("KRAWLR_TEST_PYTHON is not set: run scripts/test, which installs openapi-spec-validator");
    let site = Site::company(Duration::ZERO).await;
    let env = TestEnv::new();
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let doc: Value = reqwest::get(format!("{base}/openapi.json")).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));

    let file = env.dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let check = "import sys; from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; validate(read_from_filename(sys.argv[1])[0]); print('valid')";
    let out = std::process::Command::new(&python).args(["-c", check]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let routes = [
        ("/api/v1/scrape/company", "post"),
        ("/api/v1/scrape/status/{id}", "get"),
        ("/api/v1/scrape/{id}", "get"),
        ("/api/v1/scrape", "get"),
        ("/api/v1/scrape/batch", "post"),
        ("/api/v1/scrape/{id}/cancel", "post"),
        ("/api/v1/scrape/{id}/retry", "post"),
        ("/api/v1/scrape/{id}/events", "get"),
        ("/api/v1/webhooks", "post"),
        ("/api/v1/webhooks", "get"),
        ("/api/v1/webhooks/{id}", "get"),
        ("/api/v1/webhooks/{id}", "patch"),
        ("/api/v1/webhooks/{id}", "delete"),
        ("/api/v1/webhooks/{id}/rotate-secret", "post"),
        ("/api/v1/webhooks/{id}/deliveries", "get"),
        ("/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", "post"),
        ("/api/v1/monitors", "post"),
        ("/api/v1/monitors", "get"),
        ("/api/v1/monitors/{id}", "get"),
        ("/api/v1/monitors/{id}", "patch"),
        ("/api/v1/monitors/{id}", "delete"),
        ("/api/v1/monitors/{id}/changes", "get"),
        ("/api/v1/queue/stats", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    ];
    let documented: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, routes.len(), "every route, and only those");
    for (path, method) in routes {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} is not documented");
    }

    // Real answers against their schemas.
    let (code, queued) = post(&client, "/api/v1/scrape/company", json!({"url": site.url("/")})).await;
    conforms(&doc, "/api/v1/scrape/company", "post", code, &queued);
    let id = queued["scrape_id"].as_str().unwrap().to_string();
    let (code, status) = client.get(&format!("/api/v1/scrape/status/{id}")).await;
    conforms(&doc, "/api/v1/scrape/status/{id}", "get", code, &status);
    client.wait_status(&id, &["completed"], Duration::from_secs(30)).await;
    let (code, report) = client.get(&format!("/api/v1/scrape/{id}")).await;
    assert_eq!(code, 200);
    conforms(&doc, "/api/v1/scrape/{id}", "get", code, &report);
    let (code, list) = client.get("/api/v1/scrape?limit=1").await;
    conforms(&doc, "/api/v1/scrape", "get", code, &list);
    let (code, batch) =
        post(&client, "/api/v1/scrape/batch", json!({"jobs": [{"url": "https://a.example.com"}, {"url": "ftp://x"}]}))
            .await;
    conforms(&doc, "/api/v1/scrape/batch", "post", code, &batch);
    let queued_id = batch["results"][0]["scrape_id"].as_str().unwrap();
    let (code, cancelled) = post(&client, &format!("/api/v1/scrape/{queued_id}/cancel"), json!({})).await;
    conforms(&doc, "/api/v1/scrape/{id}/cancel", "post", code, &cancelled);
    let (code, missing) = client.get("/api/v1/scrape/nope").await;
    conforms(&doc, "/api/v1/scrape/{id}", "get", code, &missing);
    let (code, bad) = post(&client, "/api/v1/scrape/company", json!({"url": "http://127.0.0.1/"})).await;
    conforms(&doc, "/api/v1/scrape/company", "post", code, &bad);

    let (code, endpoint) = post(&client, "/api/v1/webhooks", json!({"url": site.url("/hook")})).await;
    conforms(&doc, "/api/v1/webhooks", "post", code, &endpoint);
    let ep = endpoint["id"].as_str().unwrap().to_string();
    for (path, concrete) in [
        ("/api/v1/webhooks", "/api/v1/webhooks".to_string()),
        ("/api/v1/webhooks/{id}", format!("/api/v1/webhooks/{ep}")),
        ("/api/v1/webhooks/{id}/deliveries", "/api/v1/webhooks/default/deliveries".to_string()),
    ] {
        let (code, body) = client.get(&concrete).await;
        conforms(&doc, path, "get", code, &body);
    }
    let (code, rotated) = post(&client, &format!("/api/v1/webhooks/{ep}/rotate-secret"), json!({})).await;
    conforms(&doc, "/api/v1/webhooks/{id}/rotate-secret", "post", code, &rotated);
    let (code, monitor) =
        post(&client, "/api/v1/monitors", json!({"url": site.url("/"), "interval_seconds": 86400})).await;
    conforms(&doc, "/api/v1/monitors", "post", code, &monitor);
    let mon = monitor["id"].as_str().unwrap().to_string();
    for (path, concrete) in [
        ("/api/v1/monitors", "/api/v1/monitors".to_string()),
        ("/api/v1/monitors/{id}", format!("/api/v1/monitors/{mon}")),
        ("/api/v1/monitors/{id}/changes", format!("/api/v1/monitors/{mon}/changes")),
        ("/api/v1/monitors/{id}", "/api/v1/monitors/nope".to_string()),
    ] {
        let (code, body) = client.get(&concrete).await;
        conforms(&doc, path, "get", code, &body);
    }
    let (code, refused) = post(&client, "/api/v1/monitors", json!({"url": site.url("/"), "interval_seconds": 1})).await;
    assert_eq!(code, 422, "below KRAWLR_MONITOR_MIN_INTERVAL_SECONDS: {refused}");
    conforms(&doc, "/api/v1/monitors", "post", code, &refused);
    for path in ["/healthz", "/readyz", "/api/v1/queue/stats"] {
        let (code, body) = client.get(path).await;
        conforms(&doc, path, "get", code, &body);
    }
    let anonymous = reqwest::get(format!("{base}/api/v1/scrape")).await.unwrap();
    let code = anonymous.status().as_u16();
    conforms(&doc, "/api/v1/scrape", "get", code, &anonymous.json().await.unwrap());

    let docs = reqwest::get(format!("{base}/docs")).await.unwrap().text().await.unwrap();
    assert!(docs.contains("/openapi.json"));
}

/// The dashboard in Debian's headless Chromium, driven by playwright-core (`scripts/test`
/// installs both): sign in, submit a fixture site, watch it complete, read the report.
#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_works_in_a_real_browser() {
    let sec = Site::sec().await;
    let site = Site::company(Duration::from_millis(300)).await;
    let env = TestEnv::new().set("KRAWLR_SEC_WWW_URL", &sec.base).set("KRAWLR_SEC_DATA_URL", &sec.base);
    let (_up, base) = env.serve("up", "up").await;
    let shot = env.dir.path().join("dashboard.png");
    let result = browser_script("dashboard.mjs", &[&base, KEY, &site.url("/")], &shot).await;
    assert_eq!(result["company"], "Acme Rockets");
    assert!(std::fs::read(&shot).unwrap().len() > 20_000, "a real screenshot");
}

/// Schemathesis (PyPI) generates requests from `/openapi.json` — examples, boundary values,
/// malformed bodies, stateful sequences — for every operation: none may get a 5xx. Bounded by
/// examples per operation and by time.
#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_server_error() {
    let python = std::env::var("KRAWLR_TEST_PYTHON")
        .expect("KRAWLR_TEST_PYTHON is not set: run scripts/test, which installs schemathesis");
    let schemathesis = std::path::Path::new(&python).with_file_name("schemathesis");
    let env = TestEnv::new().set("KRAWLR_ALLOW_PRIVATE_NETWORKS", "false");
    let (_api, base) = env.serve("api", "api").await;
    let run = tokio::process::Command::new(&schemathesis)
        .args(["run", &format!("{base}/openapi.json"), "--checks", "not_a_server_error"])
        .args(["--max-examples", "25", "--generation-deterministic", "--max-time", "60", "--no-color"])
        .args(["--header", &format!("Authorization: Bearer {KEY}")])
        .current_dir(env.dir.path())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run).await.expect("schemathesis ran over").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout.lines().find(|l| l.contains(" generated, ")).unwrap_or_default().trim().to_string();
    println!("schemathesis: {summary}");
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let generated: u32 = summary.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(generated >= 500, "too few cases to mean much: {summary}");
    assert!(!summary.contains("failed") && !summary.contains("errored"), "{summary}");
}
