//! Job management: live progress over Server-Sent Events (across processes, resumable), the
//! job list, cancellation, batch submit, idempotent submit and report reuse.

use crate::helpers::post;
use crate::helpers::{Client, KEY, Site, TestEnv};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// One Server-Sent Event.
#[derive(Debug, Clone)]
struct Sse {
    id: u32,
    event: String,
    data: Value,
}

/// Reads `GET /api/v1/scrape/{id}/events` to its end (or `within`), from `last_event_id`.
async fn read_events(client: &Client, id: &str, last_event_id: Option<u32>, within: Duration) -> Vec<Sse> {
    let mut request = client.http.get(format!("{}/api/v1/scrape/{id}/events", client.base)).bearer_auth(&client.key);
    if let Some(last) = last_event_id {
        request = request.header("Last-Event-ID", last.to_string());
    }
    let mut response = tokio::time::timeout(within, request.send()).await.expect("connects").unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let deadline = Instant::now() + within;
    let mut text = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, response.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Ok(None)) => break,
            Ok(Err(e)) => panic!("stream failed: {e}"),
            Err(_) => panic!("the stream did not end within {within:?}; so far:\n{text}"),
        }
    }
    // The client's own reader of the stream: one parser for both.
    text.split("\n\n")
        .filter_map(krawlr::client::parse_event)
        .filter_map(|e| Some(Sse { id: e.id?, event: e.event, data: e.data }))
        .collect()
}

async fn events_stream_every_stage_and_resume(env: TestEnv) {
    let site = Site::company(Duration::from_millis(300)).await;
    let (_api, base) = env.serve("api", "api").await;
    let _worker = env.worker("worker").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    let all = read_events(&client, &id, None, Duration::from_secs(60)).await;

    let ids: Vec<u32> = all.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=all.len() as u32).collect::<Vec<_>>(), "one event per change, numbered: {all:?}");
    let stages: Vec<&str> = all.iter().map(|e| e.data["current_stage"].as_str().unwrap()).collect();
    assert_eq!(all[0].data["status"], "queued");
    for stage in ["starting", "profile", "website", "financial", "news", "enrichment", "saving", "completed"] {
        assert!(stages.contains(&stage), "{stage} missing from {stages:?}");
    }
    let last = all.last().unwrap();
    assert_eq!((last.event.as_str(), last.data["progress_percent"].as_u64()), ("completed", Some(100)));
    assert!(all[..all.len() - 1].iter().all(|e| e.event == "progress"));

    // A client that saw the first three resumes with the rest, the final event included.
    let rest = read_events(&client, &id, Some(3), Duration::from_secs(10)).await;
    assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), ids[3..]);
    assert_eq!(rest.last().unwrap().event, "completed");
    assert!(read_events(&client, &id, Some(last.id), Duration::from_secs(10)).await.is_empty());

    let other = Client::new(&base, &env.create_key("other"));
    let res = other.http.get(format!("{base}/api/v1/scrape/{id}/events")).bearer_auth(&other.key).send().await.unwrap();
    assert_eq!(res.status(), 404, "another key's job streams nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_stream_every_stage_across_processes_and_resume() {
    events_stream_every_stage_and_resume(TestEnv::new()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn events_stream_on_the_gcp_backend_too() {
    events_stream_every_stage_and_resume(TestEnv::gcp()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_job_never_runs_or_stops_at_the_next_stage() {
    let site = Site::company(Duration::from_secs(2)).await;
    let env = TestEnv::new();
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);

    // Queued, no worker yet: cancelled, it never runs.
    let queued = client.submit(&site.url("/?queued")).await;
    let (code, body) = post(&client, &format!("/api/v1/scrape/{queued}/cancel"), json!({})).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("cancelled")), "{body}");
    let (code, _) = post(&client, &format!("/api/v1/scrape/{queued}/cancel"), json!({})).await;
    assert_eq!(code, 200, "cancelling twice is harmless");

    // Running: it stops at the next stage boundary.
    let _worker = env.worker("worker").await;
    let running = client.submit(&site.url("/?running")).await;
    client.wait_status(&running, &["processing"], Duration::from_secs(10)).await;
    let (code, body) = post(&client, &format!("/api/v1/scrape/{running}/cancel"), json!({})).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("cancelled")), "{body}");
    let events = read_events(&client, &running, None, Duration::from_secs(20)).await;
    assert_eq!(events.last().unwrap().event, "cancelled");
    assert_eq!(events.iter().filter(|e| e.event == "cancelled").count(), 1, "one event, not a storm");

    let done = client.submit(&site.url("/?done")).await;
    client.wait_status(&done, &["completed"], Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in [&queued, &running] {
        let status = client.status(id).await;
        assert_eq!(status["status"], "cancelled", "{status}");
        let (code, body) = client.get(&format!("/api/v1/scrape/{id}")).await;
        assert_eq!((code, body["error"]["code"].as_str()), (409, Some("job_cancelled")));
    }
    assert_eq!(site.hits(), 2, "the queued job's site was never fetched (one visit each for the others)");
    let (code, body) = post(&client, &format!("/api/v1/scrape/{done}/cancel"), json!({})).await;
    assert_eq!((code, body["error"]["code"].as_str()), (409, Some("job_finished")));
    assert_eq!(env.count("SELECT count(*) FROM results"), 1, "only the finished job has a result");
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_are_listed_newest_first_page_by_page() {
    let env = TestEnv::new();
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let mut submitted = Vec::new();
    for i in 0..5 {
        submitted.push(client.submit(&format!("https://example{i}.com")).await);
    }
    post(&client, &format!("/api/v1/scrape/{}/cancel", submitted[1]), json!({})).await;
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut path = "/api/v1/scrape?limit=2".to_string();
    loop {
        let (code, page) = client.get(&path).await;
        assert_eq!(code, 200, "{page}");
        for job in page["jobs"].as_array().unwrap() {
            // Fixed-width times compare as strings.
            let at = krawlr::scrape::read::dates::iso_date(job["created_at"].as_str().unwrap()).unwrap();
            seen.push((at, job["job_id"].as_str().unwrap().to_string()));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/scrape?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    // Newest first (jobs of the same millisecond by id), each exactly once.
    let mut expected = seen.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, expected, "newest first");
    let mut ids: Vec<String> = seen.into_iter().map(|(_, id)| id).collect();
    ids.sort();
    submitted.sort();
    assert_eq!(ids, submitted, "each job once");
    let (_, cancelled) = client.get("/api/v1/scrape?status=cancelled").await;
    assert_eq!(cancelled["jobs"].as_array().unwrap().len(), 1);
    let other = Client::new(&base, &env.create_key("other"));
    assert!(other.get("/api/v1/scrape").await.1["jobs"].as_array().unwrap().is_empty());
    for bad in ["/api/v1/scrape?status=lost", "/api/v1/scrape?cursor=nonsense"] {
        let (code, body) = client.get(bad).await;
        assert_eq!((code, body["error"]["code"].as_str()), (422, Some("invalid_field")), "{bad}");
    }
    let (code, body) = client.get("/api/v1/scrape?limit=many").await;
    assert_eq!((code, body["error"]["code"].as_str()), (400, Some("invalid_query")), "a JSON error, like every other");
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_idempotency_keys_and_reuse() {
    let site = Site::company(Duration::ZERO).await;
    let env = TestEnv::new();
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);

    let jobs = json!({"jobs": [
        {"url": site.url("/?a")}, {"url": "ftp://nope"}, {"url": site.url("/?b"), "options": {"max_pages": 2}},
        {"nope": 1}, {"url": site.url("/?c")}
    ]});
    let (code, body) = post(&client, "/api/v1/scrape/batch", jobs).await;
    assert_eq!(code, 202, "{body}");
    assert_eq!((body["accepted"].as_u64(), body["rejected"].as_u64()), (Some(3), Some(2)));
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[1]["error"]["code"], "invalid_url");
    assert_eq!(results[3]["error"]["code"], "missing_field");
    for i in [0, 2, 4] {
        let id = results[i]["scrape_id"].as_str().unwrap();
        client.wait_status(id, &["completed"], Duration::from_secs(30)).await;
    }
    let too_many = json!({"jobs": (0..101).map(|i| json!({"url": format!("https://e{i}.com")})).collect::<Vec<_>>()});
    assert_eq!(post(&client, "/api/v1/scrape/batch", too_many).await.0, 422);

    // The same Idempotency-Key: the same job, written once.
    let send = |body: Value| {
        client
            .http
            .post(format!("{base}/api/v1/scrape/company"))
            .bearer_auth(KEY)
            .header("Idempotency-Key", "order-42")
            .json(&body)
            .send()
    };
    let first: Value = send(json!({"url": site.url("/?idem")})).await.unwrap().json().await.unwrap();
    let again = send(json!({"url": site.url("/?idem")})).await.unwrap();
    assert_eq!(again.status(), 202);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["scrape_id"], again["scrape_id"]);
    let changed = send(json!({"url": site.url("/?other")})).await.unwrap();
    assert_eq!(changed.status(), 422);
    let count = env.count(&format!("SELECT count(*) FROM jobs WHERE id = '{}'", first["scrape_id"].as_str().unwrap()));
    assert_eq!(count, 1);

    // Reuse: a young enough report of the same site comes back at once.
    let before = env.count("SELECT count(*) FROM jobs");
    let (code, reused) = post(&client, "/api/v1/scrape/company", json!({"url": site.url("/"), "max_age": 3600})).await;
    assert_eq!((code, reused["reused"].as_bool(), reused["status"].as_str()), (200, Some(true), Some("completed")));
    assert_eq!(env.count("SELECT count(*) FROM jobs"), before, "no new crawl");
    let (code, report) = client.get(&format!("/api/v1/scrape/{}", reused["scrape_id"].as_str().unwrap())).await;
    assert_eq!((code, report["company"]["name"].as_str()), (200, Some("Acme Rockets")));
    let (code, _) =
        post(&client, "/api/v1/scrape/company", json!({"url": "https://never-seen.example", "max_age": 3600})).await;
    assert_eq!(code, 202, "nothing to reuse: a new job");
}

/// The value of the sample `name{labels}` in OpenMetrics text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn health_readiness_and_metrics() {
    let site = Site::company(Duration::ZERO).await;
    let env = TestEnv::new();
    let (_api, base) = env.serve("api", "api").await;
    let extra = [("KRAWLR_METRICS_LISTEN", "127.0.0.1:0"), ("KRAWLR_LOG_FORMAT", "json")];
    let worker = env.spawn_with("worker", &["worker"], &extra);
    worker.wait_for_stderr("worker started").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    client.wait_status(&id, &["completed"], Duration::from_secs(30)).await;

    let (code, ready) = client.get("/readyz").await;
    assert_eq!((code, ready["status"].as_str(), ready["broker"].as_str()), (200, Some("ready"), Some("ok")), "{ready}");
    let res = client.http.get(format!("{base}/metrics")).send().await.unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = res.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"));
    for (series, want) in [
        (r#"krawlr_http_requests_total{method="POST",route="/api/v1/scrape/company",status="202"}"#, 1.0),
        (r#"krawlr_jobs{status="completed"}"#, 1.0),
        (r#"krawlr_jobs{status="queued"}"#, 0.0),
        (r#"krawlr_queue_backlog_messages{subscription="scrape-jobs-sub"}"#, 0.0),
        (r#"krawlr_queue_dead_lettered_messages{subscription="scrape-jobs-sub"}"#, 0.0),
    ] {
        assert_eq!(sample(&text, series), Some(want), "{series} in:\n{text}");
    }
    let route = r#"krawlr_http_request_duration_seconds_count{method="GET",route="/api/v1/scrape/status/{id}"}"#;
    assert!(sample(&text, route).unwrap() >= 1.0, "per route, not per job id");

    // The worker logs JSON lines, each of a job's carrying its id, attempt and stage.
    let logs: Vec<Value> = worker.stderr().lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(!logs.is_empty(), "no JSON log lines:\n{}", worker.stderr());
    let done = logs.iter().find(|l| l["message"] == "job completed").expect("a `job completed` line");
    assert_eq!(done["span"]["job_id"], id.as_str(), "{done}");
    assert_eq!(done["span"]["attempt"], 1);
    assert!(done["span"]["stage"].is_string(), "{done}");

    // The worker's own figures, on its metrics listener.
    let line = worker.wait_for_stderr("metrics listening").await;
    let listening: Value = serde_json::from_str(&line).unwrap();
    let address = listening["address"].as_str().unwrap();
    let text = reqwest::get(format!("http://{address}/metrics")).await.unwrap().text().await.unwrap();
    assert_eq!(sample(&text, r#"krawlr_stage_duration_seconds_count{stage="website"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"krawlr_jobs_finished_total{status="completed"}"#), Some(1.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_per_key() {
    let env = TestEnv::new()
        .set("KRAWLR_RATE_LIMIT_PER_SECOND", "2")
        .set("KRAWLR_RATE_LIMIT_BURST", "3")
        .set("KRAWLR_MAX_ACTIVE_JOBS_PER_KEY", "2");
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let other = Client::new(&base, &env.create_key("other"));

    let a = client.submit("https://example-a.com").await;
    client.submit("https://example-b.com").await;
    let (code, body) = post(&client, "/api/v1/scrape/company", json!({"url": "https://example-c.com"})).await;
    assert_eq!((code, body["error"]["code"].as_str()), (429, Some("too_many_active_jobs")), "{body}");

    // The bucket (3) is spent: the next request waits for a token.
    let res = client.http.get(format!("{base}/api/v1/scrape/status/{a}")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "1");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(other.get("/api/v1/scrape").await.0, 200, "another key has its own bucket");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (code, _) = post(&client, &format!("/api/v1/scrape/{a}/cancel"), json!({})).await;
    assert_eq!(code, 200, "a token came back");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (code, body) = post(&client, "/api/v1/scrape/company", json!({"url": "https://example-c.com"})).await;
    assert_eq!(code, 202, "a cancelled job frees its place: {body}");
}

/// `KRAWLR_JOBS_PER_HOST` holds across worker processes: the site never sees more jobs at once.
#[tokio::test(flavor = "multi_thread")]
async fn jobs_of_one_site_are_limited_across_workers() {
    use axum::routing::get;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n, m) = (now.clone(), most.clone());
    let site = Site::start(axum::Router::new().route(
        "/",
        get(move || {
            let (now, most) = (n.clone(), m.clone());
            async move {
                let at_once = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(at_once, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(400)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                axum::response::Html("<html lang=en><title>One | Site</title></html>")
            }
        }),
    ))
    .await;
    let env = TestEnv::new().set("KRAWLR_JOBS_PER_HOST", "1");
    let (_api, base) = env.serve("api", "api").await;
    let _w1 = env.worker("worker1").await;
    let _w2 = env.worker("worker2").await;
    let client = Client::new(&base, KEY);
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(client.submit(&site.url(&format!("/?n={i}"))).await);
    }
    for id in &ids {
        client.wait_status(id, &["completed"], Duration::from_secs(30)).await;
    }
    assert_eq!(most.load(Ordering::SeqCst), 1, "one job of the site at a time, across both workers");
    let held = env.count_reaches("SELECT count(*) FROM host_slots", 0, Duration::from_secs(5)).await;
    assert_eq!(held, 0, "every slot was given back");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_waiting_for_its_site_holds_no_worker_slot() {
    use axum::routing::get;
    let slow = Site::start(axum::Router::new().route(
        "/",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            axum::response::Html("<html lang=en><title>Slow | Site</title></html>")
        }),
    ))
    .await;
    let quick = Site::start(
        axum::Router::new()
            .route("/", get(|| async { axum::response::Html("<html lang=en><title>Quick | Site</title></html>") })),
    )
    .await;
    // Two worker slots, one job per site: the slow site's second and third jobs wait for it,
    // and must not take the slot the quick site's job needs.
    let env = TestEnv::new()
        .set("KRAWLR_JOBS_PER_HOST", "1")
        .set("KRAWLR_WORKER_CONCURRENCY", "2")
        .set("KRAWLR_MAX_DELIVERY_ATTEMPTS", "3");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let mut slow_jobs = Vec::new();
    for i in 0..3 {
        slow_jobs.push(client.submit(&slow.url(&format!("/?n={i}"))).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Another host (sites are told apart by host name, not port).
    let quick_job = client.submit(&quick.url("/").replace("127.0.0.1", "localhost")).await;
    let quick_done = client.wait_status(&quick_job, &["completed"], Duration::from_secs(30)).await;
    for id in &slow_jobs {
        let done = client.wait_status(id, &["completed"], Duration::from_secs(60)).await;
        assert_eq!(done["attempts"], 1, "waiting for the site used no attempt: {done}");
        // Each slow job takes 3 s and they run one at a time: the quick one, submitted after
        // them, finished before any of them unless waiting jobs held the worker's slots.
        assert!(quick_done["completed_at"].as_str() < done["completed_at"].as_str(), "{quick_done} / {done}");
    }
    let held = env.count_reaches("SELECT count(*) FROM host_slots", 0, Duration::from_secs(5)).await;
    assert_eq!(held, 0, "every slot was given back");
}
