//! Script-built sites, in Debian's headless Chromium (`scripts/test` installs it and sets
//! `KRAWLR_TEST_CHROMIUM`): an app whose facts exist only once its script fetched them is
//! rendered into its report; with rendering off the report says the site needs JavaScript and
//! invents nothing; a shell's embedded framework data is read without a browser; and every
//! request the browser makes goes through the address guard.

use crate::helpers::{Site, TestEnv};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use krawlr::browser::{Answer, Browser};
use krawlr::config::{RenderMode, RenderSettings};
use krawlr::net::Lookup;
use krawlr::net::guard::Policy;
use krawlr::scrape::acquire::fetch::Fetcher;
use serde_json::Value;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn chromium() -> String {
    std::env::var("KRAWLR_TEST_CHROMIUM")
        .expect("KRAWLR_TEST_CHROMIUM is not set: run scripts/test, which installs Debian's Chromium")
}

/// The shell an app serves: no text, an app root, a `<noscript>` asking for JavaScript.
const SHELL: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<script src="/static/app.3f9a1c.js" defer></script></head><body>
<noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div></body></html>"#;

/// The app: its head tags, name, story and contacts come from its own API.
const APP: &str = r#"fetch('/api/v1/company', {headers: {'Accept': 'application/json'}})
  .then(function (r) { return r.json(); })
  .then(function (c) {
    document.title = c.name + ' | ' + c.tagline;
    var site = document.createElement('meta');
    site.setAttribute('property', 'og:site_name');
    site.setAttribute('content', c.name);
    document.head.appendChild(site);
    document.getElementById('root').innerHTML =
      '<header><h1>' + c.name + '</h1></header><main><p>' + c.story + '</p>' +
      '<p>Write to <a href="mailto:' + c.email + '">' + c.email + '</a> or call <a href="tel:' +
      c.phone + '">' + c.phone + '</a>.</p></main>';
  });"#;

const COMPANY: &str = r#"{"name":"Orbital Tea Company","tagline":"Tea for astronauts",
"story":"Orbital Tea Company was founded in 2016 in Bristol by two former flight engineers. It blends teas that taste right in microgravity.",
"email":"hello@orbital-tea.test","phone":"+44 117 496 0123"}"#;

async fn app_site() -> Site {
    Site::start(
        Router::new()
            .route("/", get(|| async { Html(SHELL) }))
            .route("/static/app.3f9a1c.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], APP) }))
            .route(
                "/api/v1/company",
                get(|State(hits): State<Arc<AtomicUsize>>| async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    ([(header::CONTENT_TYPE, "application/json")], COMPANY)
                }),
            ),
    )
    .await
}

fn scrape(env: &TestEnv, url: &str) -> Value {
    let (code, out, err) = env.run(&["scrape", url]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_only_site_is_rendered_into_its_report() {
    let site = app_site().await;
    let tmp = tempfile::tempdir().unwrap();
    let env = TestEnv::new()
        .set("KRAWLR_RENDER", "auto")
        .set("KRAWLR_CHROMIUM", &chromium())
        .set("TMPDIR", tmp.path().to_str().unwrap());
    let report = {
        let (env, url) = (env, site.url("/"));
        tokio::task::spawn_blocking(move || scrape(&env, &url)).await.unwrap()
    };
    let company = &report["company"];
    assert_eq!(company["name"], "Orbital Tea Company", "{report:#}");
    assert_eq!(company["founded_year"], 2016);
    assert_eq!(company["emails"], serde_json::json!(["hello@orbital-tea.test"]));
    assert_eq!(company["phones"], serde_json::json!(["+441174960123"]));
    let coverage = &report["coverage"];
    assert_eq!(coverage["rendering"], "auto");
    assert_eq!(coverage["pages_rendered"], 1);
    assert_eq!(coverage["rendered"][0]["url"], site.url("/"));
    assert!(coverage["rendered"][0]["requests"].as_u64().unwrap() >= 3, "page, script, API: {coverage}");
    assert_eq!(coverage["js_required"], serde_json::json!([]), "rendered, so no longer missing");
    assert_eq!(site.hits(), 1, "the app's API was called once, through krawlr's fetcher");
    // The browser's throwaway profile went before the process ended.
    let profiles: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| Some(e.ok()?.file_name().to_str()?.to_string()))
        .filter(|name| name.starts_with("krawlr-chromium-"))
        .collect();
    assert_eq!(profiles, Vec::<String>::new(), "left behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_rendering_off_the_report_says_the_site_needs_javascript_and_invents_nothing() {
    let site = app_site().await;
    let env = TestEnv::new().set("KRAWLR_RENDER", "off").set("KRAWLR_CHROMIUM", &chromium());
    let report = {
        let url = site.url("/");
        tokio::task::spawn_blocking(move || scrape(&env, &url)).await.unwrap()
    };
    let company = &report["company"];
    for field in ["name", "founded_year", "description", "headquarters"] {
        assert!(company[field].is_null(), "{field} invented: {company}");
    }
    assert_eq!(company["emails"], serde_json::json!([]));
    let coverage = &report["coverage"];
    assert_eq!(coverage["rendering"], "off");
    assert_eq!(coverage["pages_rendered"], 0);
    assert_eq!(coverage["js_required"][0]["url"], site.url("/"));
    let note = coverage["note"].as_str().unwrap();
    assert!(note.contains("only once their scripts run") && note.contains("KRAWLR_RENDER=off"), "{note}");
    assert_eq!(site.hits(), 0, "nothing ran the app's script");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_browser_rendering_is_off_and_said_so() {
    let site = app_site().await;
    let env = TestEnv::new().set("KRAWLR_RENDER", "auto").set("KRAWLR_CHROMIUM", "/nonexistent/chromium");
    let (code, out, err) = {
        let url = site.url("/");
        tokio::task::spawn_blocking(move || env.run(&["scrape", &url])).await.unwrap()
    };
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("rendering is off").count(), 1, "said once in the log: {err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["coverage"]["rendering"], "off");
    let note = report["coverage"]["note"].as_str().unwrap();
    assert!(note.contains("/nonexistent/chromium does not exist"), "{note}");
    let always = TestEnv::new().set("KRAWLR_RENDER", "always").set("KRAWLR_CHROMIUM", "/nonexistent/chromium");
    let (code, _, err) =
        tokio::task::spawn_blocking(move || always.run(&["scrape", "http://127.0.0.1:9/"])).await.unwrap();
    assert_ne!(code, 0);
    assert!(err.contains("KRAWLR_RENDER") && err.contains("no Chromium found"), "{err}");
}

/// A Next.js-style shell whose content is in `__NEXT_DATA__`.
const NEXT_SHELL: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Kestrel Analytics</title>
<meta property="og:site_name" content="Kestrel Analytics"></head><body><div id="__next"></div>
<script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{"company":{"id":"cmp_7Hq2",
"name":"Kestrel Analytics","foundedYear":2019,"headline":"Kestrel Analytics turns warehouse sensor data into forecasts that planners trust.",
"body":"<p>We started in 2019 in Leeds and now forecast for 140 warehouses across Europe, from cold stores to parcel hubs.</p>",
"contactEmail":"team@kestrel.test","phone":"+44 113 496 0711","cssClass":"hero hero--dark"}}},
"page":"/","query":{},"buildId":"b1Xq9","isFallback":false}</script>
<script src="/_next/static/chunks/main-4f2a.js" defer></script></body></html>"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_shell_s_embedded_data_is_read_without_a_browser() {
    let site = Site::start(Router::new().route("/", get(|| async { Html(NEXT_SHELL) }))).await;
    let env = TestEnv::new().set("KRAWLR_RENDER", "off");
    let report = {
        let url = site.url("/");
        tokio::task::spawn_blocking(move || scrape(&env, &url)).await.unwrap()
    };
    let company = &report["company"];
    assert_eq!(company["name"], "Kestrel Analytics");
    assert_eq!(company["founded_year"], 2019, "{report:#}");
    assert_eq!(company["emails"], serde_json::json!(["team@kestrel.test"]));
    assert_eq!(company["phones"], serde_json::json!(["+441134960711"]));
    let coverage = &report["coverage"];
    assert_eq!(coverage["embedded_data"][0]["sources"], serde_json::json!(["__NEXT_DATA__"]));
    assert_eq!(coverage["js_required"], serde_json::json!([]), "its data was read: it needs no browser");
    let text = report.to_string();
    for machinery in ["cmp_7Hq2", "b1Xq9", "hero--dark"] {
        assert!(!text.contains(machinery), "{machinery} leaked into the report");
    }
}

/// A lookup that knows only the test's names.
fn dns(table: &[(&str, &str)]) -> Lookup {
    let table: Vec<(String, IpAddr)> = table.iter().map(|(n, ip)| (n.to_string(), ip.parse().unwrap())).collect();
    Arc::new(move |host: String| {
        let found: Vec<IpAddr> = table.iter().filter(|(n, _)| *n == host).map(|(_, ip)| *ip).collect();
        Box::pin(async move { if found.is_empty() { Err(std::io::Error::other("no such name")) } else { Ok(found) } })
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_the_browser_makes_goes_through_the_guard() {
    // A private service on 127.0.0.2 that counts every connection made to it, HTTP or not.
    let private = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let private_port = private.local_addr().unwrap().port();
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = reached.clone();
    tokio::spawn(async move {
        while let Ok((_, _)) = private.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = public.local_addr().unwrap().port();
    let page = format!(
        r#"<!doctype html><html><head><title>Guarded</title>
        <link rel="stylesheet" href="http://127.0.0.2:{private_port}/style.css"></head><body><div id="root"></div>
        <img src="http://127.0.0.2:{private_port}/pixel.png">
        <iframe src="http://169.254.169.254/latest/meta-data/"></iframe>
        <iframe src="http://evil.test:{private_port}/frame"></iframe>
        <iframe src="/members/frame"></iframe>
        <iframe src="http://widgets.test:{port}/widget"></iframe>
        <script src="http://127.0.0.2:{private_port}/steal.js"></script>
        <script>
          var out = [];
          function done(what) {{ out.push(what); document.getElementById('root').textContent = out.sort().join(' '); }}
          fetch('/api/ok').then(function (r) {{ return r.text(); }}).then(done);
          fetch('http://evil.test:{private_port}/secrets').then(function () {{ done('evil-answered'); }}, function () {{ done('evil-refused'); }});
          fetch('http://[::ffff:127.0.0.2]:{private_port}/v6').then(function () {{ done('v6-answered'); }}, function () {{ done('v6-refused'); }});
          fetch('/redirect-inside').then(function () {{ done('redirect-answered'); }}, function () {{ done('redirect-refused'); }});
          try {{ new WebSocket('ws://127.0.0.2:{private_port}/ws'); }} catch (e) {{}}
          new Worker(URL.createObjectURL(new Blob(["fetch('http://127.0.0.2:{private_port}/from-worker'); fetch('/worker-api')"], {{type: 'text/javascript'}})));
          navigator.sendBeacon && navigator.sendBeacon('http://127.0.0.2:{private_port}/beacon', 'x');
        </script></body></html>"#
    );
    let inside = format!("http://127.0.0.2:{private_port}/after-redirect");
    let members = Arc::new(AtomicUsize::new(0));
    let members_hits = members.clone();
    // A frame from another site runs in a process and a target of its own: its requests too.
    let widget = format!(
        r#"<p>widget</p><script>
        fetch('/widget-api');
        fetch('http://127.0.0.2:{private_port}/from-widget');
        fetch('http://evil.test:{private_port}/from-widget');
        </script>"#
    );
    let widget_api = Arc::new(AtomicUsize::new(0));
    let widget_api_hits = widget_api.clone();
    let app = Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/widget", get(move || async move { Html(widget) }))
        .route(
            "/widget-api",
            get(move || async move {
                widget_api_hits.fetch_add(1, Ordering::SeqCst);
                "widget data"
            }),
        )
        .route("/robots.txt", get(|| async { "User-agent: *\nDisallow: /members/\n" }))
        .route(
            "/members/frame",
            get(move || async move {
                members_hits.fetch_add(1, Ordering::SeqCst);
                Html("members only")
            }),
        )
        .route("/api/ok", get(|| async { "public-answered" }))
        .route(
            "/redirect-inside",
            get(move || async move { (StatusCode::FOUND, [(header::LOCATION, inside)]).into_response() }),
        );
    tokio::spawn(async move { axum::serve(public, app).await.unwrap() });

    let mut settings = krawlr::config::Settings::from_vars(Default::default()).unwrap().fetch;
    settings.guard = Policy { treat_as_public: vec!["127.0.0.1".parse().unwrap()], ..Policy::default() };
    let fetcher = Fetcher::with_lookup(
        settings,
        dns(&[("public.test", "127.0.0.1"), ("widgets.test", "127.0.0.1"), ("evil.test", "127.0.0.2")]),
    )
    .unwrap();
    let browser = Browser::new(RenderSettings {
        mode: RenderMode::Always,
        chromium: Some(chromium().into()),
        unavailable: None,
        concurrency: 1,
        timeout: Duration::from_secs(20),
        max_requests: 50,
        max_bytes: 1 << 20,
    });
    let url = url::Url::parse(&format!("http://public.test:{port}/")).unwrap();
    let document = fetcher.get(&url).await.unwrap();
    let answer =
        Answer { status: 200, headers: vec![("content-type".into(), "text/html".into())], body: document.body };
    let rendered = browser.render(&url, answer, &krawlr::scrape::acquire::render::Through(&fetcher)).await.unwrap();

    // Chromium resolves no name of its own: the page's own host worked only through krawlr.
    assert!(rendered.html.contains("public-answered"), "{}", rendered.html);
    for refused in ["evil-refused", "v6-refused", "redirect-refused"] {
        assert!(rendered.html.contains(refused), "{refused}: {}", rendered.html);
    }
    let refused: Vec<&str> = rendered.refused.iter().map(|(u, _)| u.as_str()).collect();
    for url in [
        format!("http://127.0.0.2:{private_port}/steal.js"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        format!("http://evil.test:{private_port}/frame"),
        format!("http://evil.test:{private_port}/secrets"),
        format!("http://127.0.0.2:{private_port}/after-redirect"),
        format!("http://public.test:{port}/members/frame"),
        format!("http://127.0.0.2:{private_port}/from-widget"),
        format!("http://evil.test:{private_port}/from-widget"),
        format!("http://127.0.0.2:{private_port}/from-worker"),
    ] {
        assert!(refused.contains(&url.as_str()), "{url} not among the refused: {:?}", rendered.refused);
    }
    assert_eq!(reached.load(Ordering::SeqCst), 0, "nothing reached the private service");
    assert_eq!(members.load(Ordering::SeqCst), 0, "robots.txt kept the frame's page unfetched");
    assert_eq!(widget_api.load(Ordering::SeqCst), 1, "the other site's frame reached its own API through krawlr");
    // As a process does before it ends: the test's runtime would not finish a dropped browser's cleanup.
    browser.close().await;
}

/// The profile directory the browser `pid` was started with (`--user-data-dir`).
fn profile_of(pid: u32) -> std::path::PathBuf {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let flag = cmdline.split(|b| *b == 0).find_map(|arg| arg.strip_prefix(b"--user-data-dir=")).unwrap();
    std::path::PathBuf::from(String::from_utf8(flag.to_vec()).unwrap())
}

/// Whether `pid` runs (a zombie waiting to be reaped does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_that_dies_is_replaced_and_none_outlives_its_pool() {
    let site = app_site().await;
    let mut settings = krawlr::config::Settings::from_vars(Default::default()).unwrap().fetch;
    settings.guard = Policy::open();
    let fetcher = Fetcher::new(settings).unwrap();
    let browser = Browser::new(RenderSettings {
        mode: RenderMode::Auto,
        chromium: Some(chromium().into()),
        unavailable: None,
        concurrency: 2,
        timeout: Duration::from_secs(20),
        max_requests: 50,
        max_bytes: 1 << 20,
    });
    let url = url::Url::parse(&site.url("/")).unwrap();
    let render = || async {
        let document = fetcher.get(&url).await.unwrap();
        let answer = Answer { status: 200, headers: vec![], body: document.body };
        browser.render(&url, answer, &krawlr::scrape::acquire::render::Through(&fetcher)).await
    };
    assert!(render().await.unwrap().html.contains("Orbital Tea Company"));
    let first = browser.pid().await.unwrap();
    let first_profile = profile_of(first);
    assert!(first_profile.is_dir(), "{first_profile:?}");
    // The browser crashes (killed from outside): the next page gets a fresh one.
    assert!(std::process::Command::new("kill").args(["-9", &first.to_string()]).status().unwrap().success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = render().await;
    let again = match again {
        Ok(page) => page,
        // The death was noticed by this render: the one after it starts afresh.
        Err(_) => render().await.unwrap(),
    };
    assert!(again.html.contains("Orbital Tea Company"));
    let second = browser.pid().await.unwrap();
    assert_ne!(first, second, "a new browser");
    let second_profile = profile_of(second);
    assert_ne!(first_profile, second_profile, "a fresh profile");
    let tree = krawlr::browser::process_tree(second);
    assert!(tree.len() > 1, "Chromium runs helper processes: {tree:?}");
    drop(browser);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while tree.iter().any(|pid| alive(*pid)) {
        assert!(
            std::time::Instant::now() < deadline,
            "outlived its pool: {:?}",
            tree.iter().filter(|p| alive(**p)).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // No profile outlives its browser: the crashed one's goes once it is replaced, the last one's
    // with the pool (removed once the browser's helpers let go of it).
    for profile in [&first_profile, &second_profile] {
        while profile.exists() {
            assert!(std::time::Instant::now() < deadline, "{profile:?} was left behind");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
