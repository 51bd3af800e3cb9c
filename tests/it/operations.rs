//! Nothing lost after a commit, and the operations around it, end to end on both backends:
//! workers killed between a job's final commit and the publish of its event (the `failpoints`
//! build's `after_final_commit` and `before_publish`), a duplicate delivery of a running job,
//! cancelling a running job, a batch that meets a store failure, the active-jobs limit under
//! concurrent submits, retry, redrive, purge and retention.

use crate::helpers::{Client, KEY, Site, TestEnv};
use crate::helpers::{Receiver, post, submit_with_hook};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Short leases, quick retries, webhooks sent at once.
fn quick(env: TestEnv) -> TestEnv {
    let lease = if env.var("KRAWLR_ACK_DEADLINE_SECONDS").is_empty() { "2" } else { "10" };
    env.set("KRAWLR_ACK_DEADLINE_SECONDS", lease)
        .set("KRAWLR_RETRY_MIN_BACKOFF_SECONDS", "0.1")
        .set("KRAWLR_RETRY_MAX_BACKOFF_SECONDS", "0.5")
        .set("KRAWLR_WEBHOOK_SCHEDULE", "0s,300ms,300ms,300ms,300ms,300ms")
        .set("KRAWLR_WEBHOOK_POLL_INTERVAL_SECONDS", "0.05")
}

fn is_gcp(env: &TestEnv) -> bool {
    env.var("KRAWLR_BACKEND") == "gcp"
}

/// What `path` received: (event type, `webhook-id`) of each request.
fn events(receiver: &Receiver, path: &str) -> Vec<(String, String)> {
    receiver
        .received(path)
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            (body["type"].as_str().unwrap_or_default().to_string(), r.id.clone())
        })
        .collect()
}

/// Waits a moment for duplicates to show, then asserts that `path` got exactly one event, of
/// `kind`, under one `webhook-id`.
async fn assert_one_event(receiver: &Receiver, path: &str, kind: &str) {
    receiver.wait_delivered(path, 1, Duration::from_secs(40)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = events(receiver, path);
    let ids: HashSet<&String> = got.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 1, "{path}: one event under one webhook-id: {got:?}");
    assert!(got.iter().all(|(k, _)| k == kind), "{path}: {got:?}");
}

/// A worker dies after the final commit of a job, and another at the publish of a final event;
/// fresh workers start; every final event still reaches its receiver, under one id.
#[cfg(feature = "failpoints")]
async fn final_events_survive_a_kill_between_commit_and_publish(env: TestEnv) {
    let env = quick(env);
    let site = Site::company(Duration::ZERO).await;
    let missing = Site::always(404).await;
    let receiver = Receiver::start().await;
    let (api, base) = env.serve("api", "api").await;
    let _webhooks = env.spawn("webhooks", &["webhooks"]);
    let client = Client::new(&base, KEY);
    // A completed job's publishes before its final one: its claim's, and one per stage after
    // the first (the stages, and saving).
    let before_final = krawlr::scrape::STAGES.len() + 1;
    let cases = [
        ("after_final_commit=sleep(60000)".to_string(), missing.url("/"), "scrape.failed"),
        (format!("before_publish={before_final}*off->sleep(60000)"), site.url("/"), "scrape.completed"),
    ];
    for (i, (failpoints, url, kind)) in cases.iter().enumerate() {
        let name = format!("doomed{i}");
        let mut doomed =
            env.spawn_with(&name, &["worker"], &[("FAILPOINTS", failpoints), ("KRAWLR_WORKER_CONCURRENCY", "1")]);
        doomed.wait_for_stderr("worker started").await;
        let path = format!("/hook{i}");
        let id = submit_with_hook(&client, url, &receiver.url(&path)).await;
        // Committed, and not published: the worker sleeps in between.
        client.wait_status(&id, &["completed", "failed"], Duration::from_secs(60)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(receiver.received(&path).is_empty(), "{failpoints}: an event went out before the kill");
        doomed.kill9();
        let fresh = env.worker(&format!("fresh{i}")).await;
        assert_one_event(&receiver, &path, kind).await;
        let relayed = format!("{}{}", api.stderr(), fresh.stderr());
        assert!(relayed.contains("relayed outbox entries their writer did not publish"), "{failpoints}");
        println!("{failpoints}: the {kind} event of a killed worker's job arrived once");
        drop(fresh);
    }
}

on_both_backends!(
    #[cfg(feature = "failpoints")]
    final_events_survive_a_kill_between_commit_and_publish
);

/// A Pub/Sub duplicate, or a reconciler's republish, of a running job's message is dropped:
/// the running delivery keeps the job, which runs once.
async fn a_duplicate_delivery_does_not_restart_a_running_job(env: TestEnv) {
    let site = Site::company(Duration::from_secs(2)).await;
    let (up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    client.wait_status(&id, &["processing"], Duration::from_secs(30)).await;
    let backend = env.backend().await;
    let job = backend.store.get_job(&id).await.unwrap().unwrap();
    let duplicate = krawlr::queue::OutgoingMessage::json(&krawlr::job::JobRequested::for_job(&job), &id);
    backend.broker.publish(&env.settings().topics.jobs, &[duplicate]).await.unwrap();
    up.wait_for_stderr("a live delivery runs this job; acking the duplicate").await;
    let done = client.wait_status(&id, &["completed", "failed"], Duration::from_secs(60)).await;
    assert_eq!((done["status"].as_str(), done["attempts"].as_u64()), (Some("completed"), Some(1)), "{done}");
    let job = backend.store.get_job(&id).await.unwrap().unwrap();
    let starts = job.history.iter().filter(|c| c.status == krawlr::job::JobStatus::Processing).count();
    assert_eq!(starts, krawlr::scrape::STAGES.len() + 1, "one run's changes: {:?}", job.history);
}

on_both_backends!(a_duplicate_delivery_does_not_restart_a_running_job);

/// Cancelling a running job ends its attempt at its next stage: the message is acked, and one
/// `scrape.cancelled` is sent.
async fn cancelling_a_running_job_acks_it_and_sends_one_event(env: TestEnv) {
    let env = quick(env);
    let site = Site::company(Duration::from_secs(2)).await;
    let receiver = Receiver::start().await;
    let (up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let id = submit_with_hook(&client, &site.url("/"), &receiver.url("/hook")).await;
    client.wait_status(&id, &["processing"], Duration::from_secs(30)).await;
    let (code, body) = post(&client, &format!("/api/v1/scrape/{id}/cancel"), json!({})).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("cancelled")), "{body}");
    up.wait_for_stderr("job was taken over or cancelled; stopping").await;
    assert_one_event(&receiver, "/hook", "scrape.cancelled").await;
    let log = up.stderr();
    assert!(!log.contains("lease lost"), "{log}");
    assert_eq!(client.status(&id).await["status"], "cancelled");
    if !is_gcp(&env) {
        let stats = env.backend().await.broker.stats(&env.settings().topics.jobs_subscription).await.unwrap();
        assert_eq!((stats.backlog, stats.in_flight), (0, 0), "the message was acked: {stats:?}");
    }
}

on_both_backends!(cancelling_a_running_job_acks_it_and_sends_one_event);

async fn post_batch(client: &Client, key: &str, urls: &[String]) -> (u16, Value) {
    let jobs: Vec<Value> = urls.iter().map(|u| json!({"url": u})).collect();
    let res = client
        .http
        .post(format!("{}/api/v1/scrape/batch", client.base))
        .bearer_auth(&client.key)
        .header("Idempotency-Key", key)
        .json(&json!({"jobs": jobs}))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// The store fails at the third job of a batch: the two before are answered, and the same
/// batch sent again with the same key gives them back and queues the rest.
#[cfg(feature = "failpoints")]
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_that_meets_a_store_failure_answers_the_jobs_it_queued() {
    let env = TestEnv::new().set("FAILPOINTS", "before_create_job=2*off->1*return->off");
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let urls: Vec<String> = (0..4).map(|i| format!("https://example.com/{i}")).collect();
    let (code, first) = post_batch(&client, "batch-1", &urls).await;
    assert_eq!(code, 202, "{first}");
    let results = first["results"].as_array().unwrap();
    let codes: Vec<&str> = results.iter().map(|r| r["error"]["code"].as_str().unwrap_or("queued")).collect();
    assert_eq!(codes, ["queued", "queued", "unavailable", "not_attempted"], "{first}");
    assert_eq!((first["accepted"].as_u64(), first["rejected"].as_u64()), (Some(2), Some(2)));

    let (code, again) = post_batch(&client, "batch-1", &urls).await;
    assert_eq!((code, again["accepted"].as_u64()), (202, Some(4)), "{again}");
    let ids = |body: &Value| -> Vec<String> {
        body["results"].as_array().unwrap().iter().filter_map(|r| r["scrape_id"].as_str().map(String::from)).collect()
    };
    let (first_ids, all_ids) = (ids(&first), ids(&again));
    assert_eq!(first_ids[..], all_ids[..2], "the jobs queued the first time come back");
    assert_eq!(all_ids.iter().collect::<HashSet<_>>().len(), 4);
    let listed = client.get("/api/v1/scrape?limit=100").await.1["jobs"].as_array().unwrap().len();
    assert_eq!(listed, 4, "no job twice");
}

/// Twelve submits at once against a limit of three unfinished jobs: exactly three are queued.
async fn the_active_jobs_limit_holds_under_concurrent_submits(env: TestEnv) {
    let env = env.set("KRAWLR_MAX_ACTIVE_JOBS_PER_KEY", "3");
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let client = client.clone();
        tasks.spawn(async move {
            post(&client, "/api/v1/scrape/company", json!({"url": format!("https://example.com/{i}")})).await.0
        });
    }
    let mut codes = Vec::new();
    while let Some(code) = tasks.join_next().await {
        codes.push(code.unwrap());
    }
    codes.sort();
    assert_eq!(codes, [[202; 3].as_slice(), [429; 9].as_slice()].concat());
}

on_both_backends!(the_active_jobs_limit_holds_under_concurrent_submits);

/// A site that answers 503 to its first `failures` requests, then a small homepage.
async fn recovering_site(failures: usize) -> Site {
    Site::start(axum::Router::new().fallback(
        move |State(hits): State<Arc<AtomicUsize>>, uri: axum::http::Uri| async move {
            if hits.fetch_add(1, Ordering::SeqCst) < failures {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            match uri.path() {
                "/" => Html("<html><title>Back Again Inc</title><h1>Back Again Inc</h1><p>We make things.</p></html>")
                    .into_response(),
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        },
    ))
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_job_is_retried_under_its_id_with_its_history() {
    let env = quick(TestEnv::new());
    let missing = Site::always(404).await;
    let receiver = Receiver::start().await;
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    crate::helpers::register(&client, &receiver.url("/progress"), &["scrape.progress"]).await;
    let id = submit_with_hook(&client, &missing.url("/"), &receiver.url("/hook")).await;
    client.wait_status(&id, &["failed"], Duration::from_secs(30)).await;
    let (code, body) = post(&client, &format!("/api/v1/scrape/{id}/retry"), json!({})).await;
    assert_eq!((code, body["status"].as_str(), body["error"].clone()), (202, Some("queued"), Value::Null), "{body}");
    let again = client.wait_status(&id, &["failed"], Duration::from_secs(30)).await;
    assert_eq!(again["attempts"], 2, "{again}");
    // Each failure is an event of its own: two webhooks, two ids.
    let delivered = receiver.wait_delivered("/hook", 2, Duration::from_secs(20)).await;
    assert_eq!(delivered.iter().map(|r| &r.id).collect::<HashSet<_>>().len(), 2);
    let job = env.backend().await.store.get_job(&id).await.unwrap().unwrap();
    let failures = job.history.iter().filter(|c| c.status == krawlr::job::JobStatus::Failed).count();
    assert_eq!(failures, 2, "the history is kept: {:?}", job.history);
    // The second round's progress is delivered too, not taken for the first's.
    let starts = |receiver: &Receiver| {
        let bodies: Vec<Value> =
            receiver.received("/progress").iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
        bodies.iter().filter(|b| b["data"]["status"] == "processing").count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while starts(&receiver) < 2 {
        assert!(std::time::Instant::now() < deadline, "{:?}", events(&receiver, "/progress"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // `krawlr retry`, the command-line client, does the same.
    let out = env.command(&["retry", &id]).env("KRAWLR_URL", &base).env("KRAWLR_API_KEY", KEY).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("{id} queued"));
    let third = client.wait_status(&id, &["failed"], Duration::from_secs(30)).await;
    assert_eq!(third["attempts"], 3);

    // Only a failed or cancelled job is retried.
    let site = Site::company(Duration::ZERO).await;
    let done = client.submit(&site.url("/")).await;
    client.wait_status(&done, &["completed"], Duration::from_secs(30)).await;
    let (code, body) = post(&client, &format!("/api/v1/scrape/{done}/retry"), json!({})).await;
    assert_eq!((code, body["error"]["code"].as_str()), (409, Some("job_not_retryable")), "{body}");
}

/// The jobs a dead-lettered message stood for run again with `krawlr queue redrive`.
async fn dead_lettered_jobs_are_redriven(env: TestEnv) {
    let env = quick(env);
    // One robots.txt request per attempt: five attempts fail, the sixth finds the site back.
    let site = recovering_site(5).await;
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    let failed = client.wait_status(&id, &["failed"], Duration::from_secs(90)).await;
    assert_eq!(failed["attempts"], 5, "{failed}");

    // The dead letter reaches the redrive subscription a moment after the job failed.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let dry = loop {
        let (code, out, err) = env.run(&["queue", "redrive", "--dry-run"]);
        assert_eq!(code, 0, "{err}");
        if out.contains("1 jobs would be rerun") {
            break out;
        }
        assert!(std::time::Instant::now() < deadline, "no dead letter to redrive: {out}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(dry.contains(&format!("{id}: failed")) && dry.contains("nothing changed"), "{dry}");
    assert_eq!(client.status(&id).await["status"], "failed", "a dry run changes nothing");

    let (code, out, err) = env.run(&["queue", "redrive", "--max", "10"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("{id}: rerun")) && out.contains("1 jobs rerun"), "{out}");
    let done = client.wait_status(&id, &["completed", "failed"], Duration::from_secs(60)).await;
    assert_eq!((done["status"].as_str(), done["attempts"].as_u64()), (Some("completed"), Some(6)), "{done}");
    let (_, out, _) = env.run(&["queue", "redrive"]);
    assert!(out.contains("0 dead letters"), "redriven once: {out}");
}

on_both_backends!(dead_lettered_jobs_are_redriven);

/// `krawlr queue purge` drops the jobs subscription's backlog, and cancels its jobs with the
/// purge as the reason: none is left `queued`, none runs.
async fn purging_the_backlog_cancels_its_jobs(env: TestEnv) {
    let site = Site::company(Duration::ZERO).await;
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(client.submit(&site.url(&format!("/?n={i}"))).await);
    }
    let submit_once = || {
        client
            .http
            .post(format!("{}/api/v1/scrape/company", client.base))
            .bearer_auth(&client.key)
            .header("Idempotency-Key", "purge-test")
            .json(&json!({"url": site.url("/?once")}))
            .send()
    };
    let once: Value = submit_once().await.unwrap().json().await.unwrap();
    let subscription = env.settings().topics.jobs_subscription;
    let (code, _, err) = env.run(&["queue", "purge", &subscription]);
    assert!(code != 0 && err.contains("--yes"), "{err}");
    let (code, _, err) = env.run(&["queue", "purge", "no-such-subscription", "--yes"]);
    assert!(code != 0 && err.contains("not one of krawlr's subscriptions"), "{err}");
    assert_eq!(client.status(&ids[0]).await["status"], "queued", "nothing happens without --yes");

    let (code, out, err) = env.run(&["queue", "purge", &subscription, "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cancelled 4 jobs"), "{out}");
    // A replay of a submit answers its job as it is now.
    let replay = submit_once().await.unwrap();
    assert_eq!(replay.status(), 202);
    let replay: Value = replay.json().await.unwrap();
    assert_eq!((&replay["scrape_id"], replay["status"].as_str()), (&once["scrape_id"], Some("cancelled")), "{replay}");
    for id in &ids {
        let status = client.status(id).await;
        assert_eq!(status["status"], "cancelled", "{status}");
        assert_eq!(status["error"], format!("purged from {subscription} by an operator"));
    }
    let _worker = env.worker("worker").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(site.hits(), 0, "no purged job ran");
}

on_both_backends!(purging_the_backlog_cancels_its_jobs);

/// With a retention of a few seconds, a finished job is removed and then answers `410 Gone`
/// (to its own key; another key still gets `404`).
async fn a_job_past_its_retention_answers_410(env: TestEnv) {
    let env = env.set("KRAWLR_RETENTION_DAYS", "0.00005");
    let site = Site::company(Duration::ZERO).await;
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    client.wait_status(&id, &["completed"], Duration::from_secs(30)).await;
    assert_eq!(client.get(&format!("/api/v1/scrape/{id}")).await.0, 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let gone = loop {
        let (code, body) = client.get(&format!("/api/v1/scrape/status/{id}")).await;
        if code == 410 {
            break body;
        }
        assert_eq!(code, 200, "{body}");
        assert!(std::time::Instant::now() < deadline, "never removed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(gone["error"]["code"], "gone", "{gone}");
    let message = gone["error"]["message"].as_str().unwrap();
    assert!(message.contains("KRAWLR_RETENTION_DAYS") && message.contains("completed"), "{message}");
    assert_eq!(client.get(&format!("/api/v1/scrape/{id}")).await.0, 410);
    let other = Client::new(&base, &env.create_key("other"));
    assert_eq!(other.get(&format!("/api/v1/scrape/status/{id}")).await.0, 404, "another key's job stays unknown");
}

on_both_backends!(a_job_past_its_retention_answers_410);
