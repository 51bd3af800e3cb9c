//! A webhook receiver on 127.0.0.1 that records what it is sent and answers as scripted; the
//! webhook API calls the tests make; and the third-party verifier of what was delivered.

use super::{Client, TestEnv, post};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a receiver answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    RetryAfter(u16, u64),
    /// Answers 200 after this long.
    Slow(Duration),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub answered: u16,
}

#[derive(Default)]
struct Book {
    received: Mutex<Vec<Received>>,
    /// Replies per path, used up in order; then 200.
    script: Mutex<HashMap<String, VecDeque<Reply>>>,
}

/// A webhook receiver on 127.0.0.1.
pub struct Receiver {
    base: String,
    book: Arc<Book>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::on(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
    }

    /// A receiver on a listener already bound (an address that was down until now).
    pub fn on(listener: tokio::net::TcpListener) -> Receiver {
        let book: Arc<Book> = Arc::default();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(record).with_state(book.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { base, book, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn script(&self, path: &str, replies: &[Reply]) {
        self.book.script.lock().unwrap().insert(path.to_string(), replies.iter().cloned().collect());
    }

    pub fn received(&self, path: &str) -> Vec<Received> {
        self.book.received.lock().unwrap().iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Waits until `path` has had `n` successful deliveries.
    pub async fn wait_delivered(&self, path: &str, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let ok: Vec<Received> = self.received(path).into_iter().filter(|r| r.answered == 200).collect();
            if ok.len() >= n {
                return ok;
            }
            assert!(Instant::now() < deadline, "{path}: {} of {n} delivered; all: {:?}", ok.len(), self.received(path));
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(State(book): State<Arc<Book>>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    let reply = book.script.lock().unwrap().get_mut(uri.path()).and_then(|q| q.pop_front());
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut received = Received {
        at: Instant::now(),
        path: uri.path().to_string(),
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered: 200,
    };
    let response = match reply {
        None => StatusCode::OK.into_response(),
        Some(Reply::Status(code)) => StatusCode::from_u16(code).unwrap().into_response(),
        Some(Reply::RetryAfter(code, secs)) => {
            (StatusCode::from_u16(code).unwrap(), [("retry-after", secs.to_string())]).into_response()
        }
        Some(Reply::Slow(wait)) => {
            tokio::time::sleep(wait).await;
            StatusCode::OK.into_response()
        }
    };
    received.answered = response.status().as_u16();
    book.received.lock().unwrap().push(received);
    response
}

impl Received {
    /// What the third-party verifier is given of this delivery, with the secret to check it by.
    pub fn signed_with(&self, secret: &str) -> Value {
        let headers =
            json!({"webhook-id": self.id, "webhook-timestamp": self.timestamp, "webhook-signature": self.signature});
        json!({"secret": secret, "headers": headers, "body": self.body})
    }
}

/// Runs the `standardwebhooks` package (PyPI) over `recorded` deliveries: how many it verified,
/// and how many forgeries (wrong secret, tampered body, old timestamp) it rejected.
pub fn verify(python: &str, env: &TestEnv, recorded: &[Value]) -> Value {
    let file = env.dir.path().join(format!("deliveries-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, serde_json::to_vec(recorded).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/verify_webhooks.py");
    let out = std::process::Command::new(python).arg(script).arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.trim()).unwrap()
}

pub async fn register(client: &Client, url: &str, events: &[&str]) -> (String, String) {
    let (code, body) = post(client, "/api/v1/webhooks", json!({"url": url, "events": events})).await;
    assert_eq!(code, 201, "{body}");
    (body["id"].as_str().unwrap().to_string(), body["secret"].as_str().unwrap().to_string())
}

pub async fn submit_with_hook(client: &Client, url: &str, webhook_url: &str) -> String {
    let (code, body) = post(client, "/api/v1/scrape/company", json!({"url": url, "webhook_url": webhook_url})).await;
    assert_eq!(code, 202, "{body}");
    body["scrape_id"].as_str().unwrap().to_string()
}

/// The deliveries `endpoint` logged, once `n` of them are no longer pending.
pub async fn settled_log(client: &Client, endpoint: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, body) = client.get(&format!("/api/v1/webhooks/{endpoint}/deliveries")).await;
        assert_eq!(code, 200, "{body}");
        let log = body["deliveries"].as_array().unwrap().clone();
        if log.iter().filter(|d| d["status"] != "pending").count() >= n {
            return log;
        }
        assert!(Instant::now() < deadline, "{endpoint}: deliveries never settled: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
