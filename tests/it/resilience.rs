//! What an attacker or a bad day does to a running krawlr: a robots.txt built to exhaust memory,
//! thousands of slow clients, a shutdown with clients that never leave, a database file deleted
//! under the process. Each test is bounded in time and talks only to 127.0.0.1.

use crate::helpers::{COMPANY_HOME, Client, KEY, Proc, Site, TestEnv};
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// The most resident memory a process has had (`VmHWM`), in KB.
fn peak_rss_kb(proc: &Proc) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/status", proc.pid()))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmHWM:")?.trim().strip_suffix("kB")?.trim().parse().ok()))
        .unwrap_or(0)
}

/// Asks `/healthz` every 20 ms (a fresh connection each time) until `stop`: the answers' count
/// and the slowest one. A failed request counts as an answer of an hour.
async fn watch_health(base: String, stop: CancellationToken) -> (usize, Duration) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let (mut answers, mut slowest) = (0, Duration::ZERO);
    while !stop.is_cancelled() {
        let started = Instant::now();
        let ok = http
            .get(format!("{base}/healthz"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        slowest = slowest.max(if ok { started.elapsed() } else { Duration::from_secs(3600) });
        answers += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (answers, slowest)
}

/// A connection that sends the start of a request head, and no more unless trickled.
async fn half_sent(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: krawlr\r\nX-Slow: ").await.unwrap();
    stream
}

/// Waits until the server closes `stream` (EOF or a reset), at most `within`: whether it did.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

fn address(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

/// 660 KB of rules ending in `$`: to a parser that compiles each into a regular expression
/// (texting_robots does), some 360 MB per site.
fn hostile_robots() -> String {
    let mut body = String::from("User-agent: *\n");
    let mut i = 0u64;
    while body.len() < 660_000 {
        body.push_str(&format!("Disallow: /{i:x}/*.php$\n"));
        i += 1;
    }
    body
}

/// Peak RSS `krawlr up` may reach while it meets three hostile robots.txt files at once.
const MAX_RSS_KB: u64 = 150_000;

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_robots_txt_costs_a_bounded_amount_and_stalls_nothing() {
    let robots = hostile_robots();
    let mut sites = Vec::new();
    for _ in 0..3 {
        let robots = robots.clone();
        let router = Router::new()
            .route("/robots.txt", get(move || std::future::ready(robots.clone())))
            .route("/", get(|| async { Html(COMPANY_HOME) }));
        sites.push(Site::start(router).await);
    }
    let env = TestEnv::new();
    let (up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let stop = CancellationToken::new();
    let watcher = tokio::spawn(watch_health(base.clone(), stop.clone()));
    let mut ids = Vec::new();
    for site in &sites {
        ids.push(client.submit(&site.url("/")).await);
    }
    for id in &ids {
        let status = client.wait_status(id, &["failed", "completed"], Duration::from_secs(30)).await;
        assert_eq!(status["status"], "failed", "{status}");
        let error = status["error"].as_str().unwrap_or_default();
        assert!(error.contains("too costly to read") && error.contains("disallowing everything"), "{status}");
        assert_eq!(status["attempts"], 1, "a file past the limits is no passing failure: {status}");
    }
    // However fast the jobs fail, the API is watched for a while.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.cancel();
    let (answers, slowest) = watcher.await.unwrap();
    let peak = peak_rss_kb(&up);
    println!("3 hostile robots.txt: peak RSS {peak} KB; slowest of {answers} /healthz answers {slowest:?}");
    assert!(answers >= 20, "the API was asked throughout: {answers} answers");
    assert!(slowest < Duration::from_millis(100), "/healthz stalled for {slowest:?}");
    assert!(peak > 0 && peak < MAX_RSS_KB, "peak RSS {peak} KB");
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_are_timed_out_and_never_keep_others_out() {
    const SLOW: usize = 2000;
    let env = TestEnv::new().set("KRAWLR_HEADER_READ_TIMEOUT_SECONDS", "2");
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let site = Site::company(Duration::ZERO).await;
    let opened = Instant::now();
    // Each with the moment it connected: its header-read timeout runs from there.
    let mut slow = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        let stream = half_sent(&address(&base)).await;
        slow.push((stream, Instant::now()));
    }
    // Each trickles a byte every half second, as slowloris does, from one task.
    let trickle = {
        let stop = CancellationToken::new();
        let done = stop.clone();
        let task = tokio::spawn(async move {
            let mut slow = slow;
            while !stop.is_cancelled() {
                for (stream, _) in slow.iter_mut() {
                    let _ = stream.try_write(b"x");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            slow
        });
        (done, task)
    };
    let stop = CancellationToken::new();
    let watcher = tokio::spawn(watch_health(base.clone(), stop.clone()));
    // A normal client goes on submitting while the slow ones hang on.
    while opened.elapsed() < Duration::from_secs(3) {
        let started = Instant::now();
        client.submit(&site.url("/")).await;
        assert!(started.elapsed() < Duration::from_secs(1), "a submit took {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.cancel();
    let (answers, slowest) = watcher.await.unwrap();
    assert!(slowest < Duration::from_secs(1), "/healthz took {slowest:?} among {SLOW} slow clients");
    trickle.0.cancel();
    let mut slow = trickle.1.await.unwrap();
    // Every slow client is closed within the timeout (2 s from its connection), with slack for
    // a loaded machine.
    let deadline = Duration::from_secs(2) + Duration::from_secs(2);
    let mut open = 0;
    for (stream, connected) in slow.iter_mut() {
        let left = deadline.saturating_sub(connected.elapsed()).max(Duration::from_millis(50));
        if !closed_within(stream, left).await {
            open += 1;
        }
    }
    println!("{SLOW} slow clients: slowest of {answers} /healthz answers {slowest:?}; {open} still open");
    assert_eq!(open, 0, "slow clients outlived the header-read timeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn at_the_connection_cap_slow_clients_make_room_for_others() {
    let env = TestEnv::new().set("KRAWLR_MAX_CONNECTIONS", "100").set("KRAWLR_HEADER_READ_TIMEOUT_SECONDS", "60");
    let (_api, base) = env.serve("api", "api").await;
    let mut slow = Vec::new();
    for _ in 0..400 {
        slow.push(half_sent(&address(&base)).await);
    }
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    for _ in 0..20 {
        let res = http.get(format!("{base}/healthz")).timeout(Duration::from_secs(2)).send().await;
        assert!(res.is_ok_and(|r| r.status() == 200), "a client was kept out at the cap");
        // More slow clients keep coming.
        for _ in 0..20 {
            slow.push(half_sent(&address(&base)).await);
        }
    }
    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let open: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("krawlr_http_connections ")?.trim().parse().ok())
        .expect("the open connections gauge");
    assert!(open <= 100.0, "{open} connections open at a cap of 100");
    let shed =
        metrics.lines().find_map(|l| l.strip_prefix("krawlr_http_connections_shed_total ")?.trim().parse::<f64>().ok());
    assert!(shed.is_some_and(|s| s >= 700.0), "the shed counter: {shed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_streams_and_slow_clients_within_the_grace_period() {
    const GRACE: Duration = Duration::from_secs(2);
    let env = TestEnv::new()
        .set("KRAWLR_SHUTDOWN_GRACE_SECONDS", "2")
        .set("KRAWLR_HEADER_READ_TIMEOUT_SECONDS", "600")
        .set("KRAWLR_IDLE_TIMEOUT_SECONDS", "600")
        .set("KRAWLR_MAX_EVENT_STREAMS_PER_KEY", "100");
    // No worker: the jobs stay queued and their streams open.
    let (mut api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let site = Site::company(Duration::ZERO).await;
    let mut streams = Vec::new();
    let mut ids = Vec::new();
    for i in 0..20 {
        let id = client.submit(&site.url(&format!("/?{i}"))).await;
        let mut res =
            client.http.get(format!("{base}/api/v1/scrape/{id}/events")).bearer_auth(KEY).send().await.unwrap();
        assert_eq!(res.status(), 200);
        ids.push(id);
        streams.push(tokio::spawn(async move {
            let mut text = String::new();
            while let Ok(Some(chunk)) = res.chunk().await {
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
            text
        }));
    }
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(half_sent(&address(&base)).await);
    }
    // Every stream has its first event before the signal.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    api.signal("TERM");
    assert_eq!(api.wait_exit(GRACE + Duration::from_secs(1)).await, 0, "{}", api.stderr());
    println!("api exited {:?} after SIGTERM", signalled.elapsed());
    for stream in streams {
        let text = tokio::time::timeout(Duration::from_secs(2), stream).await.expect("the stream ended").unwrap();
        assert!(text.contains("event: progress"), "{text}");
        assert!(text.contains("event: reconnect") && text.contains("shutting down"), "{text}");
    }
    for stream in slow.iter_mut() {
        assert!(closed_within(stream, Duration::from_millis(200)).await, "a half-sent request outlived the process");
    }
    // Nothing lost: every job is queued with its message.
    assert_eq!(env.count("SELECT count(*) FROM jobs WHERE status = 'queued'"), 20);
    assert_eq!(env.count("SELECT count(*) FROM messages WHERE subscription = 'scrape-jobs-sub'"), 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_database_refuses_writes_and_stops_the_process() {
    let site = Site::company(Duration::ZERO).await;
    let env = TestEnv::new();
    let (mut up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let first = client.submit(&site.url("/")).await;
    client.wait_status(&first, &["completed"], Duration::from_secs(20)).await;
    std::fs::remove_file(env.data_dir().join("krawlr.db")).unwrap();
    let res = client
        .http
        .post(format!("{base}/api/v1/scrape/company"))
        .bearer_auth(KEY)
        .json(&serde_json::json!({ "url": site.url("/?after-delete") }))
        .send()
        .await;
    // Refused, or the process already gone: never accepted into a file nobody will read.
    if let Ok(res) = res {
        assert_eq!(res.status(), 503, "{:?}", res.text().await);
    }
    let code = up.wait_exit(Duration::from_secs(5)).await;
    assert_ne!(code, 0, "a lost database is an exit a supervisor sees");
    assert!(up.stderr().contains("deleted or replaced"), "{}", up.stderr());

    // Restarted, krawlr starts a fresh file (the old WAL set aside) and works.
    let (_up, base) = env.serve("up2", "up").await;
    let client = Client::new(&base, KEY);
    let (code, body) = client.get("/readyz").await;
    assert_eq!(code, 200, "{body}");
    let id = client.submit(&site.url("/?fresh")).await;
    client.wait_status(&id, &["completed"], Duration::from_secs(20)).await;
    assert_eq!(env.count("SELECT count(*) FROM jobs"), 1, "a fresh file");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_response_head_too_large_fails_its_job_at_once() {
    // More header fields than any HTTP client reads (hyper's limit is 100).
    let site = Site::start(Router::new().route(
        "/",
        get(|| async {
            let mut response = axum::response::Response::new(axum::body::Body::from("<html></html>"));
            for i in 0..150 {
                let name = axum::http::HeaderName::try_from(format!("x-filler-{i}")).unwrap();
                response.headers_mut().insert(name, axum::http::HeaderValue::from_static("padding"));
            }
            response
        }),
    ))
    .await;
    let env = TestEnv::new();
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    let status = client.wait_status(&id, &["failed", "completed"], Duration::from_secs(20)).await;
    assert_eq!(status["status"], "failed", "{status}");
    assert_eq!(status["attempts"], 1, "the same head comes back each time: {status}");
    assert!(status["error"].as_str().unwrap().contains("malformed or oversized response head"), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_cut_at_the_size_cap_is_reported_as_cut() {
    let mut feed = String::from(r#"<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>"#);
    for i in 0..2000 {
        feed.push_str(&format!("<item><title>Item {i}</title><link>/news/{i}</link></item>"));
    }
    feed.push_str("</channel></rss>");
    let site = Site::start(
        Router::new()
            .route(
                "/",
                get(|| async {
                    Html(r#"<html><head><title>Acme</title><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body><p>Acme makes rockets.</p></body></html>"#)
                }),
            )
            .route(
                "/feed.xml",
                get(move || std::future::ready(([(axum::http::header::CONTENT_TYPE, "application/rss+xml")], feed.clone()))),
            ),
    )
    .await;
    let env = TestEnv::new().set("KRAWLR_FETCH_MAX_BYTES", "20000");
    let report = env.scrape(&site.url("/"));
    let text = report["errors"].to_string();
    assert!(text.contains("feed.xml is larger than the fetch cap (20000 bytes) and was cut there"), "{text}");
    assert!(!text.contains("is not a feed"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_nested_deep_in_an_unknown_field_is_a_400() {
    let env = TestEnv::new();
    let (_api, base) = env.serve("api", "api").await;
    let depth = 30_000;
    let body = format!(r#"{{"url":"https://stripe.com","extra":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/scrape/company"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json", "{body}");
    assert_eq!(env.count("SELECT count(*) FROM jobs"), 0, "nothing written");
}

#[tokio::test(flavor = "multi_thread")]
async fn max_pages_counts_pages_read_not_links_robots_txt_disallows() {
    let links: String = (1..=10).map(|i| format!(r#"<a href="/p{i}">page {i}</a>"#)).collect();
    let home = format!("<html><head><title>Acme</title></head><body>{links}</body></html>");
    let site = Site::start(
        Router::new()
            .route("/robots.txt", get(|| async { "User-agent: *\nDisallow: /p1\nDisallow: /p2\nDisallow: /p3\n" }))
            .route("/", get(move || std::future::ready(Html(home.clone()))))
            .route("/{page}", get(|| async { Html("<html><title>A page</title><p>Text.</p></html>") })),
    )
    .await;
    let env = TestEnv::new().set("KRAWLR_MAX_PAGES", "4");
    let report = env.scrape(&site.url("/"));
    let pages: Vec<&str> =
        report["website"]["pages"].as_array().unwrap().iter().map(|p| p["url"].as_str().unwrap()).collect();
    assert_eq!(pages.len(), 4, "{pages:?}");
    assert!(pages.iter().all(|p| !p.ends_with("/p1") && !p.ends_with("/p2") && !p.ends_with("/p3")), "{pages:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_submits_keeps_the_wal_short() {
    use futures_util::StreamExt;
    let env = TestEnv::new().set("KRAWLR_MAX_ACTIVE_JOBS_PER_KEY", "0");
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let started = Instant::now();
    let submits = futures_util::stream::iter(0..3000)
        .map(|i| {
            let client = client.clone();
            async move { client.submit(&format!("https://burst{i}.example.com/")).await }
        })
        .buffer_unordered(16);
    assert_eq!(submits.count().await, 3000);
    // The checkpointer has a moment to start the WAL over after the last commit.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let wal = std::fs::metadata(env.data_dir().join("krawlr.db-wal")).map(|m| m.len()).unwrap_or(0);
    println!("3000 submits in {:?}: WAL file {wal} bytes", started.elapsed());
    // At 4 KB pages, with checkpoints that restarted the WAL only past 16 MB, such a burst left
    // a WAL of 180 MB (5,000 submits in a second, measured); it now starts over several times a
    // second and is cut back to 4 MB when it does.
    assert!(wal <= 16 << 20, "the WAL file holds {wal} bytes");
}
