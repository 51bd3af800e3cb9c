//! Enrichment through an OpenAI-compatible endpoint. No model can run here, so the endpoint is
//! a local server that speaks the chat-completions protocol and answers what the test chose:
//! the one stand-in in this suite. What is checked is krawlr's side: the request it sends
//! (model, JSON response format, token cap, key, page text) and how it validates answers.

use crate::helpers::{Site, TestEnv};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Seen = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

/// A chat-completions endpoint whose assistant message is `content`.
async fn model(content: &'static str) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/v1/chat/completions",
            post(move |State(seen): State<Seen>, headers: HeaderMap, Json(body): Json<Value>| async move {
                seen.lock().unwrap().push((headers, body));
                Json(json!({"id": "x", "object": "chat.completion", "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}))
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_model_enriches_the_report() {
    let site = Site::company(Duration::ZERO).await;
    let answer = r#"{"summary": "Acme builds reusable rockets.", "naics_code": "336414", "business_model": "B2B",
        "products": ["Acme Launcher"], "target_customers": ["satellite operators"], "tags": ["rockets", "space"]}"#;
    let (base, seen) = model(answer).await;
    let env = TestEnv::new()
        .set("KRAWLR_LLM_BASE_URL", &base)
        .set("KRAWLR_LLM_API_KEY", "sk-test")
        .set("KRAWLR_LLM_MODEL", "test-model");
    let report = env.scrape(&site.url("/"));
    let e = &report["enrichment"];
    assert_eq!(e["method"], "llm");
    assert_eq!(e["summary"], "Acme builds reusable rockets.");
    assert_eq!(e["business_model"], "B2B");
    assert_eq!(e["naics"], json!({"code": "336414", "title": "Guided Missile and Space Vehicle Manufacturing"}));
    assert_eq!(report["company"]["industry"], json!(["Guided Missile and Space Vehicle Manufacturing"]));
    assert_eq!(report["sources"]["company.industry"]["method"], "llm");
    assert_eq!(e["products"], json!(["Acme Launcher"]));
    assert_eq!(e["target_customers"], json!(["satellite operators"]));

    let requests = seen.lock().unwrap();
    assert_eq!(requests.len(), 1);
    let (headers, body) = &requests[0];
    assert_eq!(headers["authorization"], "Bearer sk-test");
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
    assert!(body["max_tokens"].as_u64().unwrap() <= 1000);
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("Acme Rockets") && user.contains("reusable rockets"), "{user}");
    assert!(user.len() <= 6000);
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("336414: Guided Missile and Space Vehicle Manufacturing"), "the list to choose from");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_answer_that_is_not_json_falls_back_to_the_offline_method() {
    let site = Site::company(Duration::ZERO).await;
    let (base, _) = model("Sure! Acme is a rocket company.").await;
    let env = TestEnv::new().set("KRAWLR_LLM_BASE_URL", &base).set("KRAWLR_LLM_MODEL", "test-model");
    let report = env.scrape(&site.url("/"));
    assert_eq!(report["enrichment"]["method"], "heuristic");
    let error = report["errors"].as_array().unwrap().iter().find(|e| e["stage"] == "enrichment").unwrap();
    assert!(error["message"].as_str().unwrap().contains("not the JSON asked for"), "{error}");
}
