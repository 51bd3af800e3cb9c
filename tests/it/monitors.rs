//! Monitors on both backends: a local site re-scraped on schedule sends nothing while it stays
//! the same; once it changes (its name, a new press release with a round), one `report.changed`
//! names those fields with their old and new values, verified by the third-party Standard
//! Webhooks library; and several worker processes never run one due monitor twice.

use crate::helpers::{Client, KEY, Site, TestEnv, browser_script};
use crate::helpers::{Receiver, patch, post, register, verify};
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Monitors that may run every second, looked for every 100 ms; webhooks sent at once.
fn quick(env: TestEnv) -> TestEnv {
    env.set("KRAWLR_MONITOR_MIN_INTERVAL_SECONDS", "1")
        .set("KRAWLR_MONITOR_POLL_SECONDS", "0.1")
        .set("KRAWLR_WEBHOOK_SCHEDULE", "0s,300ms,300ms,300ms,300ms,300ms")
        .set("KRAWLR_WEBHOOK_POLL_INTERVAL_SECONDS", "0.05")
}

/// A company site whose name and press room the test changes.
struct Changing {
    site: Site,
    name: Arc<Mutex<String>>,
    raised: Arc<AtomicBool>,
    homepage_hits: Arc<AtomicUsize>,
    /// Pages answered in full (`200`) and as unchanged (`304`).
    full: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
}

/// Gives every page an `ETag` (a hash of its body) and answers `304` to a request that names it.
async fn etags(
    full: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let asked = request.headers().get("if-none-match").and_then(|v| v.to_str().ok()).map(str::to_string);
    let response = next.run(request).await;
    if response.status() != axum::http::StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let etag = format!("\"{:x}\"", {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        h.finish()
    });
    if asked.as_deref() == Some(etag.as_str()) {
        not_modified.fetch_add(1, Ordering::SeqCst);
        return (axum::http::StatusCode::NOT_MODIFIED, [("etag", etag)]).into_response();
    }
    full.fetch_add(1, Ordering::SeqCst);
    parts.headers.insert("etag", etag.parse().unwrap());
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

async fn changing_site() -> Changing {
    let name = Arc::new(Mutex::new("Acme Rockets".to_string()));
    let raised = Arc::new(AtomicBool::new(false));
    let homepage_hits = Arc::new(AtomicUsize::new(0));
    let home = {
        let (name, hits) = (name.clone(), homepage_hits.clone());
        move |State(_): State<Arc<AtomicUsize>>| {
            let (name, hits) = (name.clone(), hits.clone());
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                let name = name.lock().unwrap().clone();
                Html(format!(
                    r#"<html lang="en"><head><title>{name}</title><meta property="og:site_name" content="{name}">
                    <meta name="description" content="{name} builds small launch vehicles."></head><body>
                    <h1>{name}</h1><p>{name} builds small launch vehicles for research satellites.</p>
                    <a href="/press">Press</a> <a href="mailto:hello@acme.test">hello@acme.test</a></body></html>"#
                ))
            }
        }
    };
    let press = {
        let raised = raised.clone();
        move || {
            let raised = raised.load(Ordering::SeqCst);
            async move {
                let items = if raised {
                    r#"<li><a href="/press/series-b">Acme raises $40 million</a></li>
                       <li><a href="/press/launch">First launch</a></li><li><a href="/press/hiring">We are hiring</a></li>"#
                } else {
                    r#"<li><a href="/press/launch">First launch</a></li><li><a href="/press/hiring">We are hiring</a></li>"#
                };
                Html(format!(
                    "<html><head><title>Press</title></head><body><h1>Press</h1><ul>{items}</ul></body></html>"
                ))
            }
        }
    };
    let release = |title: &'static str, date: &'static str, text: &'static str| {
        get(move || async move {
            Html(format!(
                r#"<html><head><title>{title}</title><meta property="article:published_time" content="{date}"></head>
                <body><article><h1>{title}</h1><p>{text}</p></article></body></html>"#
            ))
        })
    };
    let (full, not_modified) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counters = (full.clone(), not_modified.clone());
    let site = Site::start(
        Router::new()
            .route("/", get(home))
            .route("/press", get(press))
            .route(
                "/press/series-b",
                release(
                    "Acme raises $40 million",
                    "2026-11-20T09:00:00Z",
                    "Acme raised $40 million in Series B funding led by Northwind Ventures to build its second launch pad.",
                ),
            )
            .route("/press/launch", release("First launch", "2025-05-02T09:00:00Z", "Our first rocket flew."))
            .route("/press/hiring", release("We are hiring", "2025-03-01T09:00:00Z", "Join the team."))
            .layer(axum::middleware::from_fn(move |request, next| {
                let (full, not_modified) = counters.clone();
                etags(full, not_modified, request, next)
            })),
    )
    .await;
    Changing { site, name, raised, homepage_hits, full, not_modified }
}

/// Pauses (`false`) or resumes (`true`) a monitor.
async fn enable(client: &Client, id: &str, enabled: bool) -> (u16, Value) {
    patch(client, &format!("/api/v1/monitors/{id}"), json!({"enabled": enabled})).await
}

async fn monitor(client: &Client, id: &str) -> Value {
    let (code, body) = client.get(&format!("/api/v1/monitors/{id}")).await;
    assert_eq!(code, 200, "{body}");
    body
}

/// Waits until the monitor has closed `runs` runs (started them and looked at their jobs).
async fn wait_runs(client: &Client, id: &str, runs: u64, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let m = monitor(client, id).await;
        let closed = m["runs"].as_u64().unwrap() - u64::from(m["running_job_id"].is_string());
        if closed >= runs {
            return m;
        }
        assert!(Instant::now() < deadline, "{id} never closed {runs} runs: {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The ids of the jobs of monitor `id`'s runs, sorted.
async fn run_jobs(client: &Client, id: &str) -> Vec<String> {
    let (_, jobs) = client.get("/api/v1/scrape?limit=100").await;
    let mut mine: Vec<String> = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["job_id"].as_str())
        .filter(|j| j.starts_with(&format!("{id}-r")))
        .map(str::to_string)
        .collect();
    mine.sort();
    mine
}

/// The job ids of runs 1 to `runs`, sorted as [`run_jobs`] sorts them.
fn one_job_per_run(id: &str, runs: u64) -> Vec<String> {
    let mut ids: Vec<String> = (1..=runs).map(|n| format!("{id}-r{n}")).collect();
    ids.sort();
    ids
}

fn report_changed(receiver: &Receiver, path: &str) -> Vec<Value> {
    receiver
        .received(path)
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .filter(|b| b["type"] == "report.changed")
        .collect()
}

async fn a_monitor_reports_what_changed_once(env: TestEnv) {
    let python = std::env::var("KRAWLR_TEST_PYTHON")
        .expect("KRAWLR_TEST_PYTHON is not set: run scripts/test, which installs the standardwebhooks verifier");
    let site = changing_site().await;
    let receiver = Receiver::start().await;
    let env = quick(env);
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let (_, endpoint_secret) = register(&client, &receiver.url("/endpoint"), &["report.changed"]).await;
    let (code, rotated) = post(&client, "/api/v1/webhooks/default/rotate-secret", json!({})).await;
    assert_eq!(code, 200, "{rotated}");
    let default_secret = rotated["secret"].as_str().unwrap().to_string();

    let (code, body) =
        post(&client, "/api/v1/monitors", json!({"url": site.site.url("/"), "interval_seconds": 0.5})).await;
    assert_eq!(code, 422, "below the minimum interval: {body}");
    assert_eq!(body["error"]["code"], "invalid_field");
    let request = json!({"url": site.site.url("/"), "interval_seconds": 1, "webhook_url": receiver.url("/monitor")});
    let (code, created) = post(&client, "/api/v1/monitors", request).await;
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["status"], "active");

    // The first run is the baseline; two more of the unchanged site send nothing, and cost a
    // 304 for each of its pages: no page is sent in full again.
    let baseline = wait_runs(&client, &id, 1, Duration::from_secs(60)).await;
    let full_then = site.full.load(Ordering::SeqCst);
    wait_runs(&client, &id, baseline["runs"].as_u64().unwrap() + 2, Duration::from_secs(60)).await;
    assert_eq!(site.full.load(Ordering::SeqCst), full_then, "an unchanged page is not sent again");
    let not_modified = site.not_modified.load(Ordering::SeqCst);
    assert!(not_modified >= 2 * full_then, "{not_modified} 304s for {full_then} pages over two runs");
    assert!(report_changed(&receiver, "/monitor").is_empty() && report_changed(&receiver, "/endpoint").is_empty());
    let (_, changes) = client.get(&format!("/api/v1/monitors/{id}/changes")).await;
    assert_eq!(changes["changes"], json!([]), "an unchanged re-scrape is no change");

    // The company renames itself and announces a round.
    *site.name.lock().unwrap() = "Acme Orbital".into();
    site.raised.store(true, Ordering::SeqCst);
    let before = monitor(&client, &id).await["runs"].as_u64().unwrap();
    let after = wait_runs(&client, &id, before + 2, Duration::from_secs(60)).await;
    assert_eq!(after["changes"], 1, "one change, then the same site again: {after}");
    let (_, changes) = client.get(&format!("/api/v1/monitors/{id}/changes")).await;
    let change = &changes["changes"][0];
    assert_eq!(changes["changes"].as_array().unwrap().len(), 1, "{changes}");
    let changed: Vec<&Value> = change["changed"].as_array().unwrap().iter().collect();
    let name = changed.iter().find(|c| c["path"] == "company.name").expect("the name changed");
    assert_eq!((&name["old"], &name["new"]), (&json!("Acme Rockets"), &json!("Acme Orbital")));
    let added: Vec<&str> = change["added"].as_array().unwrap().iter().map(|a| a["path"].as_str().unwrap()).collect();
    assert!(added.contains(&"funding.rounds[+]") && added.contains(&"news[+]"), "{change:#}");
    let round = change["added"].as_array().unwrap().iter().find(|a| a["path"] == "funding.rounds[+]").unwrap();
    assert_eq!(round["value"]["round_type"], "series_b", "{round}");
    assert!(change["removed"].as_array().unwrap().iter().all(|r| r["path"] != "company.name"));

    // One report.changed to the monitor's webhook and one to the endpoint that asked for it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while report_changed(&receiver, "/monitor").is_empty() || report_changed(&receiver, "/endpoint").is_empty() {
        assert!(Instant::now() < deadline, "no report.changed delivered: {:?}", receiver.received("/monitor"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for path in ["/monitor", "/endpoint"] {
        let events = report_changed(&receiver, path);
        assert_eq!(events.len(), 1, "{path}: {events:?}");
        let data = &events[0]["data"];
        assert_eq!(data["monitor_id"], id);
        assert_eq!(data["change"]["id"], change["id"]);
        assert_eq!(data["change"]["changed"], change["changed"]);
    }
    let mut recorded = Vec::new();
    for (path, secret) in [("/monitor", &default_secret), ("/endpoint", &endpoint_secret)] {
        recorded.extend(receiver.received(path).iter().map(|r| r.signed_with(secret)));
    }
    let counts = verify(&python, &env, &recorded);
    for check in ["verified", "wrong_secret_rejected", "tampered_rejected", "old_rejected"] {
        assert_eq!(counts[check], recorded.len(), "{check}: {counts}");
    }

    // The metrics count monitors by status and the changes found.
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("krawlr_monitors{status=\"active\"} 1"), "{metrics}");
    assert!(metrics.contains("krawlr_monitor_changes_total 1"), "{metrics}");

    // The command-line client shows the same.
    let cli = |args: &[&str]| {
        let out = env.command(args).env("KRAWLR_URL", &base).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listed = cli(&["monitors", "list"]);
    assert!(listed.contains(&id) && listed.contains("active"), "{listed}");
    let printed: Value = serde_json::from_str(&cli(&["monitors", "changes", &id])).unwrap();
    assert_eq!(printed, changes["changes"]);
    let made = cli(&["monitors", "create", &site.site.url("/about"), "--every", "3600", "--field", "news"]);
    let (_, made) = client.get(&format!("/api/v1/monitors/{}", made.trim())).await;
    assert_eq!((made["interval_seconds"].as_f64(), &made["fields"]), (Some(3600.0), &json!(["news"])));

    // Another key sees none of it; the owner can pause and delete it.
    let other = Client::new(&base, &env.create_key("other"));
    assert_eq!(other.get(&format!("/api/v1/monitors/{id}")).await.0, 404);
    assert_eq!(other.get("/api/v1/monitors").await.1["monitors"], json!([]));
    assert_eq!(enable(&client, &id, false).await.0, 200);
    let runs = monitor(&client, &id).await["runs"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still = monitor(&client, &id).await;
    assert_eq!(still["status"], "paused");
    assert!(still["runs"].as_u64().unwrap() <= runs + 1, "a paused monitor starts no run: {still}");
    let deleted = client.http.delete(format!("{base}/api/v1/monitors/{id}")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(client.get(&format!("/api/v1/monitors/{id}")).await.0, 404);
    assert!(site.homepage_hits.load(Ordering::SeqCst) >= 5);
    assert!(site.full.load(Ordering::SeqCst) > full_then, "the changed site was read in full");
}

on_both_backends!(a_monitor_reports_what_changed_once);

/// Three workers and an api share the monitors due: each run is started once, so the site's
/// homepage is fetched once per run (the monitors' runs, their jobs and the hits agree).
async fn several_workers_never_run_a_due_monitor_twice(env: TestEnv) {
    let site = changing_site().await;
    let env = quick(env);
    let (_api, base) = env.serve("api", "api").await;
    let _workers = [env.worker("w1").await, env.worker("w2").await, env.worker("w3").await];
    let client = Client::new(&base, KEY);
    let mut ids = Vec::new();
    for _ in 0..4 {
        let (code, body) =
            post(&client, "/api/v1/monitors", json!({"url": site.site.url("/"), "interval_seconds": 1})).await;
        assert_eq!(code, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        wait_runs(&client, id, 3, Duration::from_secs(90)).await;
    }
    for id in &ids {
        assert_eq!(enable(&client, id, false).await.0, 200);
    }
    // Let the runs in flight finish.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut runs_total = 0;
    for id in &ids {
        let runs = monitor(&client, id).await["runs"].as_u64().unwrap();
        assert_eq!(run_jobs(&client, id).await, one_job_per_run(id, runs), "one job per run of {id}");
        runs_total += runs as usize;
    }
    let hits = site.homepage_hits.load(Ordering::SeqCst);
    assert_eq!(hits, runs_total, "one homepage fetch per run: {hits} for {runs_total} runs");
}

on_both_backends!(several_workers_never_run_a_due_monitor_twice);

/// A site that keeps failing: each failed run puts the next off twice as long, and after three
/// in a row the monitor is `failing`, with the last error.
#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_whose_site_keeps_failing_backs_off_and_is_marked_failing() {
    let broken = Site::always(404).await;
    let env = quick(TestEnv::new());
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let (code, created) =
        post(&client, "/api/v1/monitors", json!({"url": broken.url("/"), "interval_seconds": 1})).await;
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let started = Instant::now();
    let failing = wait_runs(&client, &id, 3, Duration::from_secs(60)).await;
    assert_eq!(failing["status"], "failing", "{failing}");
    assert_eq!(failing["consecutive_failures"], 3);
    assert!(failing["status_reason"].as_str().unwrap().contains("404"), "{failing}");
    // Runs 2 and 3 were put off 2 s and 4 s after the failures before them.
    assert!(started.elapsed() >= Duration::from_secs(6), "no back-off: {:?}", started.elapsed());
    let next = failing["next_run_at"].as_str().unwrap();
    let last = failing["last_run_at"].as_str().unwrap();
    assert!(next > last, "{failing}");
    // Resuming clears it.
    let (_, resumed) = enable(&client, &id, true).await;
    assert_eq!((resumed["status"].as_str(), resumed["consecutive_failures"].as_u64()), (Some("active"), Some(0)));
}

/// The dashboard's monitor page, in Debian's headless Chromium (playwright-core): the monitor is
/// in the list, and its page shows the change with the old and new values.
#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_shows_a_monitor_s_changes() {
    let site = changing_site().await;
    let env = quick(TestEnv::new());
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let (code, created) =
        post(&client, "/api/v1/monitors", json!({"url": site.site.url("/"), "interval_seconds": 1})).await;
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    wait_runs(&client, &id, 1, Duration::from_secs(60)).await;
    *site.name.lock().unwrap() = "Acme Orbital".into();
    let deadline = Instant::now() + Duration::from_secs(60);
    while monitor(&client, &id).await["changes"] == 0 {
        assert!(Instant::now() < deadline, "no change found");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let shot = env.dir.path().join("monitor.png");
    let shown = browser_script("monitor.mjs", &[&base, KEY, &id], &shot).await;
    assert!(shown["status"].as_str().unwrap().starts_with("active"), "{shown}");
    let entries = &shown["changes"][0]["entries"];
    let name = entries.as_array().unwrap().iter().find(|e| e["path"] == "company.name").expect("the name's change");
    let text = name["text"].as_str().unwrap();
    assert!(text.contains("Acme Rockets") && text.contains("→") && text.contains("Acme Orbital"), "{text}");
    assert!(std::fs::read(&shot).unwrap().len() > 10_000, "a real screenshot");
}

/// Scheduling lives in the store: a process killed between runs (or during one) leaves nothing
/// behind that a fresh process cannot pick up, and no run gets a second job.
async fn a_monitor_survives_a_restart(env: TestEnv) {
    let site = changing_site().await;
    let env = quick(env);
    let (mut up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let (code, created) =
        post(&client, "/api/v1/monitors", json!({"url": site.site.url("/"), "interval_seconds": 1})).await;
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    wait_runs(&client, &id, 2, Duration::from_secs(60)).await;
    up.kill9();
    let (_again, base) = env.serve("up-again", "up").await;
    let client = Client::new(&base, KEY);
    let before = monitor(&client, &id).await["runs"].as_u64().unwrap();
    let after = wait_runs(&client, &id, before + 2, Duration::from_secs(60)).await;
    let runs = after["runs"].as_u64().unwrap();
    assert_eq!(run_jobs(&client, &id).await, one_job_per_run(&id, runs), "one job per run, across the restart");
    assert_eq!(after["status"], "active", "{after}");
}

on_both_backends!(a_monitor_survives_a_restart);
