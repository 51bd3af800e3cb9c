//! Webhooks end to end: the real binary delivers to receivers on 127.0.0.1 that record every
//! request and answer as a test tells them; deliveries are verified with the third-party
//! `standardwebhooks` package from PyPI (in the virtual environment `scripts/test` makes).

use crate::helpers::{
    Client, KEY, Received, Receiver, Reply, Site, TestEnv, post, register, settled_log, submit_with_hook, verify,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Test settings: a compressed schedule, quick polling.
fn env() -> TestEnv {
    TestEnv::new()
        .set("KRAWLR_WEBHOOK_SCHEDULE", "0s,300ms,300ms,300ms,300ms,300ms")
        .set("KRAWLR_WEBHOOK_POLL_INTERVAL_SECONDS", "0.05")
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_are_signed_and_a_third_party_verifier_accepts_them() {
    let python = std::env::var("KRAWLR_TEST_PYTHON")
        .expect("KRAWLR_TEST_PYTHON is not set: run scripts/test, which installs the standardwebhooks verifier");
    let site = Site::company(Duration::ZERO).await;
    let broken = Site::always(404).await;
    let receiver = Receiver::start().await;
    let env = env();
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let (endpoint, endpoint_secret) =
        register(&client, &receiver.url("/all"), &["scrape.completed", "scrape.failed", "scrape.progress"]).await;
    // The key came from KRAWLR_API_KEY, so its default secret was never shown: rotate it.
    let (code, rotated) = post(&client, "/api/v1/webhooks/default/rotate-secret", json!({})).await;
    assert_eq!(code, 200, "{rotated}");
    let default_secret = rotated["secret"].as_str().unwrap().to_string();

    let done = submit_with_hook(&client, &site.url("/"), &receiver.url("/job")).await;
    let failed = submit_with_hook(&client, &broken.url("/"), &receiver.url("/job")).await;
    client.wait_status(&done, &["completed"], Duration::from_secs(30)).await;
    client.wait_status(&failed, &["failed"], Duration::from_secs(30)).await;

    let to_job = receiver.wait_delivered("/job", 2, Duration::from_secs(20)).await;
    let by_type = |list: &[Received], kind: &str, job: &str| -> Vec<Value> {
        list.iter()
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
            .filter(|b| b["type"] == kind && b["data"]["job_id"] == job)
            .collect()
    };
    let completed = by_type(&to_job, "scrape.completed", &done);
    assert_eq!(completed.len(), 1, "{to_job:?}");
    let data = &completed[0]["data"];
    assert_eq!(data["status"], "completed");
    assert_eq!(data["url"], site.url("/"));
    assert_eq!(data["result_url"], format!("/api/v1/scrape/{done}"));
    assert_eq!(data["report"]["company"]["name"], "Acme Rockets", "the report travels inline");
    assert!(data["submitted_at"].as_str().unwrap().ends_with('Z'));
    let failure = by_type(&to_job, "scrape.failed", &failed);
    assert_eq!(failure.len(), 1);
    assert!(failure[0]["data"]["error"].as_str().unwrap().contains("404"), "{failure:?}");
    assert!(failure[0]["data"]["report"].is_null());

    // The registered endpoint asked for progress too: one event per stage, then the end.
    let deadline = Instant::now() + Duration::from_secs(20);
    while by_type(&receiver.received("/all"), "scrape.completed", &done).is_empty() {
        assert!(Instant::now() < deadline, "no completed event at /all");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let to_all = receiver.received("/all");
    let progress = by_type(&to_all, "scrape.progress", &done);
    let stages: Vec<&str> = progress.iter().map(|p| p["data"]["current_stage"].as_str().unwrap()).collect();
    assert!(stages.len() >= 5 && stages.contains(&"financial"), "{stages:?}");

    let mut recorded = Vec::new();
    for (list, secret) in [(&to_job, &default_secret), (&to_all, &endpoint_secret)] {
        recorded.extend(list.iter().map(|r| r.signed_with(secret)));
    }
    let counts = verify(&python, &env, &recorded);
    let n = recorded.len();
    assert!(n >= 9, "{n} deliveries");
    for check in ["verified", "wrong_secret_rejected", "tampered_rejected", "old_rejected"] {
        assert_eq!(counts[check], n, "{check}: {counts}");
    }

    // The log shows each delivery's attempt; no secret is stored in the clear.
    let log = settled_log(&client, &endpoint, 1).await;
    let first = log.iter().find(|d| d["event"] == "scrape.completed").expect("the completed delivery");
    assert_eq!(first["status"], "delivered");
    assert_eq!(first["attempts"][0]["status_code"], 200);
    let (_, listed) = client.get("/api/v1/webhooks").await;
    assert_eq!(listed["endpoints"].as_array().unwrap().len(), 1);
    assert!(listed["endpoints"][0].get("secret").is_none(), "a secret is shown only once");
    let stored: Vec<String> = env
        .db()
        .prepare("SELECT doc FROM webhook_endpoints")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stored.len(), 2, "the registered endpoint and the default signer");
    for doc in stored {
        assert!(!doc.contains("whsec_") && !doc.contains(&endpoint_secret[6..]), "{doc}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_follow_what_the_receiver_answers() {
    let site = Site::company(Duration::ZERO).await;
    let receiver = Receiver::start().await;
    receiver.script("/flaky", &[Reply::Status(500)]);
    receiver.script("/busy", &[Reply::RetryAfter(429, 2)]);
    receiver.script("/gone", &[Reply::Status(410)]);
    receiver.script("/slow", &[Reply::Slow(Duration::from_secs(3))]);
    receiver.script("/broken", &(0..10).map(|_| Reply::Status(503)).collect::<Vec<_>>());
    let env = env().set("KRAWLR_WEBHOOK_TIMEOUT_SECONDS", "1");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let mut ids = HashMap::new();
    for path in ["/flaky", "/busy", "/gone", "/slow", "/broken"] {
        ids.insert(path, register(&client, &receiver.url(path), &["scrape.completed"]).await.0);
    }
    let first = client.submit(&site.url("/")).await;
    client.wait_status(&first, &["completed"], Duration::from_secs(30)).await;

    let flaky = receiver.wait_delivered("/flaky", 1, Duration::from_secs(20)).await;
    let all = receiver.received("/flaky");
    assert_eq!(all.iter().map(|r| r.answered).collect::<Vec<_>>(), [500, 200]);
    assert_eq!(all[0].id, all[1].id, "the same webhook-id on every attempt");
    assert_eq!(flaky.len(), 1);

    receiver.wait_delivered("/busy", 1, Duration::from_secs(20)).await;
    let busy = receiver.received("/busy");
    let gap = busy[1].at - busy[0].at;
    assert!(gap >= Duration::from_millis(1900), "Retry-After: 2 was not honoured: {gap:?}");

    receiver.wait_delivered("/slow", 1, Duration::from_secs(20)).await;
    let log = settled_log(&client, &ids["/slow"], 1).await;
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert!(attempts[0]["error"].as_str().unwrap().contains("timed out"), "{attempts:?}");
    assert_eq!(attempts.last().unwrap()["status_code"], 200);

    // A receiver that keeps failing: the schedule (6 attempts) ends, the endpoint is failing.
    let log = settled_log(&client, &ids["/broken"], 1).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"].as_array().unwrap().len(), 6);
    assert_eq!(receiver.received("/broken").len(), 6, "not retried forever");
    let (_, broken) = client.get(&format!("/api/v1/webhooks/{}", ids["/broken"])).await;
    assert_eq!(broken["status"], "failing", "{broken}");

    // 410 Gone: not retried, and the endpoint is disabled.
    let log = settled_log(&client, &ids["/gone"], 1).await;
    assert_eq!(log[0]["status"], "failed");
    let (_, gone) = client.get(&format!("/api/v1/webhooks/{}", ids["/gone"])).await;
    assert_eq!(gone["status"], "disabled", "{gone}");

    // The next event reaches everyone but the disabled endpoint; a failing one recovers.
    let second = client.submit(&site.url("/?again")).await;
    client.wait_status(&second, &["completed"], Duration::from_secs(30)).await;
    receiver.wait_delivered("/flaky", 2, Duration::from_secs(20)).await;
    receiver.wait_delivered("/broken", 1, Duration::from_secs(20)).await;
    // The receiver answered; the sender records the success a moment later.
    let recovered_by = std::time::Instant::now() + Duration::from_secs(10);
    let recovered = loop {
        let (_, endpoint) = client.get(&format!("/api/v1/webhooks/{}", ids["/broken"])).await;
        if endpoint["status"] == "active" || std::time::Instant::now() > recovered_by {
            break endpoint;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(recovered["status"], "active", "{recovered}");
    assert_eq!(receiver.received("/gone").len(), 1, "nothing more to a disabled endpoint");

    // A manual redelivery sends the same event (same webhook-id) once more.
    let delivery = &settled_log(&client, &ids["/gone"], 1).await[0];
    let path = format!("/api/v1/webhooks/{}/deliveries/{}/redeliver", ids["/gone"], delivery["id"].as_str().unwrap());
    let (code, _) = post(&client, &path, json!({})).await;
    assert_eq!(code, 202);
    let (code, _) = client
        .http
        .patch(format!("{base}/api/v1/webhooks/{}", ids["/gone"]))
        .bearer_auth(KEY)
        .json(&json!({"enabled": true}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(code, 200);
    let (code, _) = post(&client, &path, json!({})).await;
    assert_eq!(code, 202);
    let again = receiver.wait_delivered("/gone", 1, Duration::from_secs(20)).await;
    assert_eq!(again[0].id, delivery["id"].as_str().unwrap());

    let metrics = client.http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    for outcome in ["delivered", "retrying", "failed"] {
        let series = format!("krawlr_webhook_attempts_total{{outcome=\"{outcome}\"}} ");
        let n: f64 = metrics.lines().find_map(|l| l.strip_prefix(&series)?.parse().ok()).unwrap_or(0.0);
        assert!(n >= 1.0, "{outcome}: {n}\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_down_then_up_gets_each_event_once() {
    let site = Site::company(Duration::ZERO).await;
    // A port with nothing listening yet.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let env = env().set("KRAWLR_WEBHOOK_SCHEDULE", "0s,500ms,500ms,1s,1s,2s,2s,2s");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let (endpoint, _) = register(&client, &format!("http://{address}/in"), &["scrape.completed"]).await;
    let mut jobs = Vec::new();
    for i in 0..3 {
        jobs.push(client.submit(&site.url(&format!("/?n={i}"))).await);
    }
    for id in &jobs {
        client.wait_status(id, &["completed"], Duration::from_secs(30)).await;
    }
    // Each delivery fails at least once against the closed port…
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = client.get(&format!("/api/v1/webhooks/{endpoint}/deliveries")).await;
        let log = body["deliveries"].as_array().unwrap().clone();
        let tried = log.iter().filter(|d| !d["attempts"].as_array().unwrap().is_empty()).count();
        if log.len() == 3 && tried == 3 {
            assert!(log.iter().all(|d| d["status"] == "pending"), "{body}");
            assert!(log[0]["attempts"][0]["error"].as_str().unwrap().len() > 3, "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // …and arrives once the receiver is up.
    let receiver = Receiver::on(tokio::net::TcpListener::bind(address).await.unwrap());
    let delivered = receiver.wait_delivered("/in", 3, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = receiver.received("/in");
    assert_eq!(all.len(), 3, "once per event: {all:?}");
    let mut ids: Vec<&str> = delivered.iter().map(|r| r.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_deliveries_survive_a_restart_of_the_webhooks_process() {
    let site = Site::company(Duration::ZERO).await;
    let receiver = Receiver::start().await;
    receiver.script("/in", &(0..200).map(|_| Reply::Status(503)).collect::<Vec<_>>());
    // A delivery killed mid-attempt comes back when its lease (timeout + 30 s) runs out.
    let env = env()
        .set("KRAWLR_WEBHOOK_SCHEDULE", "0s,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms")
        .set("KRAWLR_WEBHOOK_TIMEOUT_SECONDS", "2");
    let (_api, base) = env.serve("api", "api").await;
    let _worker = env.worker("worker").await;
    let mut hooks = env.spawn("webhooks1", &["webhooks"]);
    hooks.wait_for_stderr("webhooks started").await;
    let client = Client::new(&base, KEY);
    let (endpoint, _) = register(&client, &receiver.url("/in"), &["scrape.completed"]).await;
    let mut jobs = Vec::new();
    for i in 0..5 {
        jobs.push(client.submit(&site.url(&format!("/?n={i}"))).await);
    }
    for id in &jobs {
        client.wait_status(id, &["completed"], Duration::from_secs(30)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.received("/in").iter().map(|r| &r.id).collect::<std::collections::HashSet<_>>().len() < 5 {
        assert!(Instant::now() < deadline, "not every event was tried");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    hooks.kill9();
    receiver.script("/in", &[]);
    let pending = env.count("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'");
    assert_eq!(pending, 5, "all five wait in the store");
    let hooks = env.spawn("webhooks2", &["webhooks"]);
    hooks.wait_for_stderr("webhooks started").await;
    let delivered = receiver.wait_delivered("/in", 5, Duration::from_secs(90)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ok: Vec<String> = receiver.received("/in").into_iter().filter(|r| r.answered == 200).map(|r| r.id).collect();
    let unique: std::collections::HashSet<&String> = ok.iter().collect();
    assert_eq!((ok.len(), unique.len()), (5, 5), "each event delivered once: {delivered:?}");
    let log = settled_log(&client, &endpoint, 5).await;
    assert!(log.iter().all(|d| d["status"] == "delivered"));
}

/// Private, loopback, link-local and metadata destinations in the spellings that slip past naive
/// checks. Refused as company sites, as webhook endpoints and as a job's `webhook_url`.
const PRIVATE_FORMS: &[&str] = &[
    "http://127.0.0.1/",
    "http://127.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://017700000001/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    "http://localhost:8000/",
    "http://app.localhost/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.0.1/",
    "http://100.64.0.1/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[64:ff9b:1::a9fe:a9fe]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "http://[2002:7f00:1::]/",
    "http://[::ffff:0:7f00:1]/",
    "http://[fe80::5efe:a9fe:a9fe]/",
    "http://intranet/",
    "https://user:secret@example.com/",
    "file:///etc/passwd",
    "gopher://example.com/",
];

#[tokio::test(flavor = "multi_thread")]
async fn private_webhook_urls_are_refused_at_registration_and_at_delivery() {
    let receiver = Receiver::start().await;
    let env = env().set("KRAWLR_ALLOW_PRIVATE_NETWORKS", "false");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let mut forms: Vec<String> = PRIVATE_FORMS.iter().map(|f| f.to_string()).collect();
    forms.push(receiver.url("/in"));
    assert!(forms.len() >= 20);
    for url in &forms {
        let (code, body) = post(&client, "/api/v1/webhooks", json!({"url": url})).await;
        assert_eq!(code, 422, "{url}: {body}");
        assert_eq!(body["error"]["code"], "invalid_url");
        let (code, body) = post(&client, "/api/v1/scrape/company", json!({"url": url})).await;
        assert_eq!((code, body["error"]["code"].as_str()), (422, Some("invalid_url")), "{url} as a company site");
        let (code, _) =
            post(&client, "/api/v1/scrape/company", json!({"url": "https://example.com", "webhook_url": url})).await;
        assert_eq!(code, 422, "{url} as a job's webhook_url");
    }
    assert_eq!(client.get("/api/v1/scrape").await.1["jobs"].as_array().unwrap().len(), 0, "no job was made");
    // At delivery time: an endpoint whose stored URL now points at this machine is refused
    // there too, before any connection.
    let (endpoint, _) = register(&client, "https://hooks.example.com/in", &["scrape.completed"]).await;
    let private = receiver.url("/in");
    env.db()
        .execute("UPDATE webhook_endpoints SET doc = json_set(doc, '$.url', ?1) WHERE id = ?2", [&private, &endpoint])
        .unwrap();
    let mut job =
        krawlr::job::Job::new("job-private".into(), "key".into(), url::Url::parse("https://example.com/").unwrap(), 0);
    job.status = krawlr::job::JobStatus::Completed;
    let event = krawlr::job::JobEvent::of(&job, 2);
    let stored: krawlr::webhooks::Endpoint = serde_json::from_str(
        &env.db()
            .query_row("SELECT doc FROM webhook_endpoints WHERE id = ?1", [&endpoint], |r| r.get::<_, String>(0))
            .unwrap(),
    )
    .unwrap();
    let now = krawlr::job::now_ms();
    let delivery = krawlr::webhooks::Delivery::new(&stored, &private, &event, now);
    env.db()
        .execute(
            "INSERT INTO webhook_deliveries (id, endpoint_id, status, next_attempt_at, created_at, doc)
             VALUES (?1, ?2, 'pending', ?3, ?3, ?4)",
            rusqlite::params![delivery.id, endpoint, now, serde_json::to_string(&delivery).unwrap()],
        )
        .unwrap();
    let log = settled_log(&client, &endpoint, 1).await;
    assert_eq!(log[0]["status"], "failed");
    let error = log[0]["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("refused"), "{error}");
    assert_eq!(log[0]["attempts"].as_array().unwrap().len(), 1, "a refused address is not retried");
    assert!(receiver.received("/in").is_empty(), "nothing reached the private receiver");
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_belong_to_their_key() {
    let env = env();
    let (_up, base) = env.serve("up", "up").await;
    let owner = Client::new(&base, KEY);
    let other_key = env.create_key("other");
    let other = Client::new(&base, &other_key);
    let (id, _) = register(&owner, "https://hooks.example.com/a", &["scrape.completed"]).await;
    let (code, body) = other.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!((code, body["error"]["code"].as_str()), (404, Some("not_found")));
    assert_eq!(other.get(&format!("/api/v1/webhooks/{id}/deliveries")).await.0, 404);
    assert_eq!(post(&other, &format!("/api/v1/webhooks/{id}/rotate-secret"), json!({})).await.0, 404);
    let deleted =
        other.http.delete(format!("{base}/api/v1/webhooks/{id}")).bearer_auth(&other_key).send().await.unwrap();
    assert_eq!(deleted.status(), 404);
    assert!(other.get("/api/v1/webhooks").await.1["endpoints"].as_array().unwrap().is_empty());

    let (code, body) =
        post(&owner, "/api/v1/webhooks", json!({"url": "https://h.example.com/", "events": ["scrape.nope"]})).await;
    assert_eq!((code, body["error"]["code"].as_str()), (422, Some("invalid_field")));
    let (code, body) = post(&owner, "/api/v1/webhooks", json!({"events": ["scrape.failed"]})).await;
    assert_eq!((code, body["error"]["code"].as_str()), (422, Some("missing_field")));
    let res = owner.http.delete(format!("{base}/api/v1/webhooks/{id}")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(owner.get(&format!("/api/v1/webhooks/{id}")).await.0, 404);
}
