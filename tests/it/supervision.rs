//! Supervised attempts, driven by the `page_analysis` fault point (builds with the `failpoints`
//! feature, as `scripts/test` makes them): a stage that panics, and one that hangs past
//! `KRAWLR_JOB_TIMEOUT_SECONDS`, fail only their own job, after its attempts; the lease keeper
//! stops with the attempt, and the process serves on.

use crate::helpers::{Client, KEY, Site, TestEnv};
use std::time::{Duration, Instant};

fn env(failpoints: &str) -> TestEnv {
    TestEnv::new()
        .set("FAILPOINTS", failpoints)
        .set("KRAWLR_MAX_DELIVERY_ATTEMPTS", "2")
        .set("KRAWLR_RETRY_MIN_BACKOFF_SECONDS", "0")
        .set("KRAWLR_RETRY_MAX_BACKOFF_SECONDS", "0")
        // Heartbeats every second while an attempt runs: a keeper left behind would show.
        .set("KRAWLR_ACK_DEADLINE_SECONDS", "3")
}

/// The job's `updated_at` does not move for longer than a heartbeat period.
async fn assert_still(client: &Client, id: &str) {
    let before = client.status(id).await["updated_at"].clone();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(client.status(id).await["updated_at"], before, "no heartbeat after the job ended");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_that_panics_fails_its_job_after_its_attempts_and_the_process_serves_on() {
    let site = Site::company(Duration::ZERO).await;
    // The first two page analyses panic: both attempts of the first job, at its homepage.
    let env = env("page_analysis=2*panic(a page nobody prepared for)");
    let (up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let first = client.submit(&site.url("/")).await;
    let failed = client.wait_status(&first, &["failed"], Duration::from_secs(60)).await;
    assert_eq!(failed["attempts"], 2, "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("internal_error") && error.contains("a page nobody prepared for"), "{failed}");
    assert_still(&client, &first).await;

    let logged: Vec<String> =
        up.stderr().lines().filter(|l| l.contains("internal error (a panic)")).map(str::to_string).collect();
    assert_eq!(logged.len(), 2, "the panic logged once per attempt: {logged:?}");
    assert!(logged.iter().all(|l| l.contains(&first)), "with the job id: {logged:?}");
    assert!(!up.stderr().contains("stack backtrace"), "no panic trace");

    let second = client.submit(&site.url("/")).await;
    client.wait_status(&second, &["completed"], Duration::from_secs(60)).await;
    assert_eq!(client.get("/healthz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_that_hangs_past_the_deadline_is_abandoned_and_the_process_serves_on() {
    let site = Site::company(Duration::ZERO).await;
    let env = env("page_analysis=2*sleep(7000)").set("KRAWLR_JOB_TIMEOUT_SECONDS", "2");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let started = Instant::now();
    let stuck = client.submit(&site.url("/")).await;
    let failed = client.wait_status(&stuck, &["failed"], Duration::from_secs(30)).await;
    let took = started.elapsed();
    assert_eq!(failed["attempts"], 2, "{failed}");
    assert!(failed["error"].as_str().unwrap_or_default().contains("deadline"), "{failed}");
    assert!(took < Duration::from_secs(7), "two 2 s attempts, not the 7 s hangs: {took:?}");
    assert_still(&client, &stuck).await;

    // The hung work still holds its places in the page pool; the API answers all the same.
    let asked = Instant::now();
    assert_eq!(client.get("/healthz").await.0, 200);
    assert!(asked.elapsed() < Duration::from_secs(1), "{:?}", asked.elapsed());
    // Once the hung work has returned, the pool serves the next job.
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(started.elapsed())).await;
    let next = client.submit(&site.url("/")).await;
    client.wait_status(&next, &["completed"], Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn krawlr_scrape_reports_a_panic_as_an_error_with_no_trace() {
    let site = Site::company(Duration::ZERO).await;
    let env = TestEnv::new().set("FAILPOINTS", "page_analysis=panic(a page nobody prepared for)");
    let url = site.url("/");
    let (code, out, err) = tokio::task::spawn_blocking(move || env.run(&["scrape", &url])).await.unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "no report: {out}");
    assert!(err.contains("krawlr: scrape failed in stage profile: internal error"), "{err}");
    assert!(err.contains("a page nobody prepared for"), "the panic is logged: {err}");
    assert!(!err.contains("panicked at") && !err.contains("RUST_BACKTRACE"), "no panic trace: {err}");
}

#[test]
fn krawlr_extract_reports_a_panic_as_an_error_with_no_trace() {
    let env = TestEnv::new().set("FAILPOINTS", "page_parse=panic(a page nobody prepared for)");
    let page = env.dir.path().join("page.html");
    std::fs::write(&page, "<title>x</title>").unwrap();
    let (code, out, err) = env.run(&["extract", page.to_str().unwrap(), "--url", "https://example.com/"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("internal error reading") && err.contains("a page nobody prepared for"), "{err}");
    assert!(!err.contains("panicked at") && !err.contains("RUST_BACKTRACE"), "no panic trace: {err}");
}
