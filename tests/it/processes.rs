//! Separate api and worker processes sharing one data dir; crashes, retries, shutdown.

use crate::helpers::{Client, KEY, Site, TestEnv};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn one_api_and_two_workers_share_a_data_dir() {
    let site = Site::company(Duration::from_millis(50)).await;
    let env = TestEnv::new().set("KRAWLR_WORKER_CONCURRENCY", "4").set("KRAWLR_PER_HOST_CONCURRENCY", "8");
    let (_api, base) = env.serve("api", "api").await;
    let w1 = env.worker("worker1").await;
    let w2 = env.worker("worker2").await;
    let client = Client::new(&base, KEY);
    let mut ids = Vec::new();
    for i in 0..24 {
        ids.push(client.submit(&site.url(&format!("/?n={i}"))).await);
    }
    for id in &ids {
        let s = client.wait_status(id, &["completed", "failed"], Duration::from_secs(30)).await;
        assert_eq!(s["status"], "completed", "{s}");
        assert_eq!(s["attempts"], 1, "{s}");
    }
    assert_eq!(env.count("SELECT count(*) FROM results"), 24);
    let started = |w: &crate::helpers::Proc| w.stderr().matches("job started").count();
    assert_eq!(started(&w1) + started(&w2), 24, "each job ran exactly once");
    assert!(started(&w1) > 0 && started(&w2) > 0, "both workers took jobs: {} and {}", started(&w1), started(&w2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_worker_s_job_completes_after_its_lease_expires() {
    let site = Site::company(Duration::from_secs(3)).await;
    let env = TestEnv::new().set("KRAWLR_ACK_DEADLINE_SECONDS", "1.5");
    let (_api, base) = env.serve("api", "api").await;
    let mut first = env.worker("worker1").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    client.wait_status(&id, &["processing"], Duration::from_secs(10)).await;
    first.wait_for_stderr("job started").await;
    first.kill9();

    let second = env.worker("worker2").await;
    let done = client.wait_status(&id, &["completed", "failed"], Duration::from_secs(30)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["attempts"], 2, "claimed once by each worker: {done}");
    assert!(second.stderr().contains("job completed"));
    assert_eq!(env.count("SELECT count(*) FROM results"), 1, "exactly one result");
    assert_eq!(
        env.count("SELECT count(*) FROM messages WHERE subscription = 'scrape-jobs-sub'"),
        0,
        "the message was acked"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_site_that_keeps_failing_is_retried_then_dead_lettered() {
    let site = Site::always(503).await;
    let env = TestEnv::new()
        .set("KRAWLR_MAX_DELIVERY_ATTEMPTS", "3")
        .set("KRAWLR_RETRY_MIN_BACKOFF_SECONDS", "0.3")
        .set("KRAWLR_RETRY_MAX_BACKOFF_SECONDS", "0.6");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;

    let retrying = client.wait_status(&id, &["retrying", "failed"], Duration::from_secs(15)).await;
    assert_eq!(retrying["status"], "retrying", "{retrying}");
    assert!(retrying["error"].as_str().unwrap().contains("503"), "{retrying}");

    let failed = client.wait_status(&id, &["failed"], Duration::from_secs(20)).await;
    assert_eq!(failed["attempts"], 3, "{failed}");
    assert!(failed["error"].as_str().unwrap().contains("503"), "{failed}");
    assert_eq!(site.hits(), 3, "robots.txt asked once per attempt, nothing after the last");

    let (code, out, err) = env.run(&["queue", "stats", "--json"]);
    assert_eq!(code, 0, "{err}");
    let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
    let jobs = stats.as_array().unwrap().iter().find(|s| s["subscription"] == "scrape-jobs-sub").unwrap();
    assert_eq!(jobs["dead_lettered"], 1, "{stats}");
    assert_eq!(jobs["backlog"], 0, "{stats}");
    assert_eq!(jobs["in_flight"], 0, "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reconciler_republishes_a_job_whose_message_was_lost() {
    let site = Site::company(Duration::ZERO).await;
    let env = TestEnv::new().set("KRAWLR_RECONCILE_AFTER_SECONDS", "1").set("KRAWLR_RECONCILE_INTERVAL_SECONDS", "0.3");
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    // Lose the message, as a crash of the broker's storage would.
    assert_eq!(env.db().execute("DELETE FROM messages", []).unwrap(), 1);
    let worker = env.worker("worker").await;
    let done = client.wait_status(&id, &["completed", "failed"], Duration::from_secs(20)).await;
    assert_eq!(done["status"], "completed", "{done}");
    worker.wait_for_stderr("republished a job whose message seems lost").await;
    assert_eq!(env.count("SELECT count(*) FROM results"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn permanent_failures_fail_at_once_with_a_reason() {
    let robots = Site::robots_disallow().await;
    let pdf = Site::not_html().await;
    let missing = Site::always(404).await;
    let env = TestEnv::new();
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let cases = [
        ("http://no-such-host.invalid/".to_string(), "does not resolve"),
        (robots.url("/"), "robots.txt disallows"),
        (pdf.url("/"), "not an HTML page"),
        (missing.url("/"), "HTTP 404"),
    ];
    for (url, reason) in cases {
        let id = client.submit(&url).await;
        let s = client.wait_status(&id, &["failed", "completed"], Duration::from_secs(15)).await;
        assert_eq!(s["status"], "failed", "{url}: {s}");
        assert_eq!(s["attempts"], 1, "{url}: {s}");
        assert!(s["error"].as_str().unwrap().contains(reason), "{url}: {s}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_running_jobs_finish() {
    let site = Site::company(Duration::from_millis(1500)).await;
    let env = TestEnv::new().set("KRAWLR_SHUTDOWN_GRACE_SECONDS", "20");
    let (_api, base) = env.serve("api", "api").await;
    let mut worker = env.worker("worker").await;
    let client = Client::new(&base, KEY);
    let ids = [client.submit(&site.url("/?a")).await, client.submit(&site.url("/?b")).await];
    for id in &ids {
        client.wait_status(id, &["processing"], Duration::from_secs(10)).await;
    }
    worker.signal("TERM");
    assert_eq!(worker.wait_exit(Duration::from_secs(15)).await, 0);
    for id in &ids {
        assert_eq!(client.status(id).await["status"], "completed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_after_the_grace_period_hands_jobs_back() {
    let site = Site::company(Duration::from_secs(4)).await;
    let env = TestEnv::new().set("KRAWLR_SHUTDOWN_GRACE_SECONDS", "0.3");
    let (_api, base) = env.serve("api", "api").await;
    let mut worker = env.worker("worker1").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    client.wait_status(&id, &["processing"], Duration::from_secs(10)).await;
    worker.signal("TERM");
    assert_eq!(worker.wait_exit(Duration::from_secs(5)).await, 0, "{}", worker.stderr());
    assert!(worker.stderr().contains("handed back"), "{}", worker.stderr());
    assert_eq!(client.status(&id).await["status"], "queued");

    let _next = env.worker("worker2").await;
    let done = client.wait_status(&id, &["completed", "failed"], Duration::from_secs(30)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(env.count("SELECT count(*) FROM results"), 1);
}
