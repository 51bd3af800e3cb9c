//! Bot walls and script-built pages, served from 127.0.0.1: the fetcher tells a wall by its
//! marks, and a wall in front of the homepage ends the job as `blocked`.

use crate::helpers::{Client, KEY, Site, TestEnv};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use krawlr::scrape::acquire::fetch::{FetchError, Fetcher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The markup of a Cloudflare managed challenge, as such pages are built.
const CHALLENGE: &str = r#"<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper" role="main">
<h1>Checking if the site connection is secure</h1><noscript>Enable JavaScript and cookies to continue</noscript>
<script>(function(){window._cf_chl_opt={cvId: '3'};var a=document.createElement('script');
a.src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray=8';document.head.appendChild(a);}());</script>
</div></body></html>"#;

/// A site whose every page answers `status` with `headers` and `body` (and that has no
/// robots.txt, so that the pages themselves are asked for).
async fn walled(status: u16, headers: &'static [(&'static str, &'static str)], body: &'static str) -> Site {
    Site::start(Router::new().fallback(move |State(hits): State<Arc<AtomicUsize>>, uri: axum::http::Uri| async move {
        hits.fetch_add(1, Ordering::SeqCst);
        if uri.path() == "/robots.txt" {
            return StatusCode::NOT_FOUND.into_response();
        }
        let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, "text/html; charset=utf-8".parse().unwrap());
        for (name, value) in headers {
            response.headers_mut().insert(*name, value.parse().unwrap());
        }
        response
    }))
    .await
}

fn fetcher() -> Fetcher {
    let settings = TestEnv::new().settings();
    Fetcher::new(settings.fetch).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fetcher_tells_a_wall_from_an_outage() {
    let fetcher = fetcher();
    let get = |site: &Site| {
        let url = url::Url::parse(&site.url("/")).unwrap();
        let fetcher = &fetcher;
        async move { fetcher.get(&url).await }
    };
    let challenge = walled(403, &[("cf-mitigated", "challenge"), ("server", "cloudflare")], CHALLENGE).await;
    match get(&challenge).await {
        Err(FetchError::Blocked { wall, .. }) => {
            assert_eq!(wall.vendor, "cloudflare");
            assert_eq!(wall.evidence, ["HTTP 403", "cf-mitigated: challenge"]);
        }
        other => panic!("{other:?}"),
    }
    let served_503 = walled(503, &[], CHALLENGE).await;
    assert!(
        matches!(get(&served_503).await, Err(FetchError::Blocked { ref wall, .. }) if wall.vendor == "cloudflare"),
        "a challenge served as 503 is a wall by its marks"
    );
    let denied = walled(403, &[], "<html><title>Forbidden</title><h1>Forbidden</h1></html>").await;
    let Err(e @ FetchError::Blocked { .. }) = get(&denied).await else { panic!("a bare 403 is a wall") };
    assert!(!e.is_transient(), "a wall is not tried again and again");
    let busy = walled(429, &[("retry-after", "5")], "<html><p>Too many requests</p></html>").await;
    let Err(e @ FetchError::Status { status: 429, .. }) = get(&busy).await else {
        panic!("a bare 429 is a rate limit")
    };
    assert!(e.is_transient());
    let down = walled(503, &[], "<html><h1>Service unavailable</h1></html>").await;
    assert!(matches!(get(&down).await, Err(FetchError::Status { status: 503, .. })), "an outage passes");
}

/// A wall in front of the homepage ends the job at once, `failed` with a `blocked: …` error
/// naming the wall and its evidence: one attempt, no retry storm.
#[tokio::test(flavor = "multi_thread")]
async fn a_challenge_in_front_of_the_homepage_fails_the_job_as_blocked() {
    let site = walled(403, &[("cf-mitigated", "challenge"), ("server", "cloudflare")], CHALLENGE).await;
    let env =
        TestEnv::new().set("KRAWLR_RETRY_MIN_BACKOFF_SECONDS", "0.1").set("KRAWLR_RETRY_MAX_BACKOFF_SECONDS", "0.2");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    let status = client.wait_status(&id, &["failed", "completed"], Duration::from_secs(30)).await;
    assert_eq!((status["status"].as_str(), status["attempts"].as_u64()), (Some("failed"), Some(1)), "{status}");
    let error = status["error"].as_str().unwrap();
    assert!(
        error.starts_with("blocked: ") && error.contains("cloudflare") && error.contains("cf-mitigated: challenge"),
        "{error}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(site.hits(), 2, "robots.txt and the homepage, once each");
}

/// A site whose about page is a captcha wall served with 200, and whose app page is a shell
/// built by its script: the wall is reported as blocked and nothing of it enters the report;
/// the shell is reported as needing JavaScript.
#[tokio::test(flavor = "multi_thread")]
async fn walls_among_a_site_s_pages_are_reported_and_left_out() {
    use axum::response::Html;
    use axum::routing::get;
    let home = r#"<html><head><title>Acme Rockets</title></head><body><h1>Acme Rockets</h1>
        <p>Acme Rockets builds small launch vehicles for satellites and has flown from Texas since 2015.
        Our team of engineers designs, tests and launches rockets for customers around the world.</p>
        <a href="/about">About</a> <a href="/app">Customer portal</a>
        <footer>Contact: hello@acme.example</footer></body></html>"#;
    let captcha = r#"<html><head><title>Security check</title></head><body><form action="/verify" method="post">
        <div class="g-recaptcha" data-sitekey="6Lc"></div><p>Questions? wall@captcha-vendor.example</p>
        <button>Continue</button></form></body></html>"#;
    let shell = r#"<html><head><title>Acme portal</title></head><body><noscript>You need to enable JavaScript to run this app.</noscript>
        <div id="root"></div><script src="/static/main.js"></script></body></html>"#;
    let site = Site::start(
        Router::new()
            .route("/", get(move || async move { Html(home) }))
            .route("/about", get(move || async move { Html(captcha) }))
            .route("/app", get(move || async move { Html(shell) })),
    )
    .await;
    let env = TestEnv::new();
    // A wall answered as the homepage, with 200: the run fails as blocked, naming it.
    let (code, _, err) = env.run(&["scrape", &site.url("/about")]);
    assert!(code != 0 && err.contains("blocked: ") && err.contains("captcha wall"), "{err}");
    let report = env.scrape(&site.url("/"));
    let coverage = &report["coverage"];
    assert_eq!(coverage["blocked"][0]["url"], site.url("/about"), "{coverage}");
    assert_eq!(coverage["blocked"][0]["vendor"], "captcha", "{coverage}");
    assert_eq!(coverage["js_required"][0]["url"], site.url("/app"), "{coverage}");
    assert!(coverage["note"].as_str().is_some_and(|n| n.contains("scripts")), "{coverage}");
    assert_eq!(coverage["pages_read"], 2, "the homepage and the shell: {coverage}");
    let emails = report["company"]["emails"].as_array().unwrap();
    assert!(emails.iter().all(|e| e != "wall@captcha-vendor.example"), "{emails:?}");
    assert_ne!(report["company"]["name"], "Security check", "no wall's text becomes the company's");
    let pages: Vec<&str> =
        report["website"]["pages"].as_array().unwrap().iter().map(|p| p["url"].as_str().unwrap()).collect();
    assert!(!pages.contains(&site.url("/about").as_str()), "a wall is no page of the site: {pages:?}");
}
