//! Hostile sites (compression bombs, endless and trickling bodies, redirect loops, link farms, deep
//! nesting, huge scripts, broken encodings), scraped with `krawlr scrape` under GNU time: each run
//! ends within its cap, with the expected outcome, and its peak memory stays bounded.

use crate::helpers::{Site, TestEnv};
use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Peak RSS a scrape of a hostile site may reach.
const MAX_RSS_KB: u64 = 150_000;

struct Outcome {
    code: i32,
    report: Option<Value>,
    stderr: String,
    elapsed: Duration,
    peak_rss_kb: u64,
}

fn scrape(env: &TestEnv, url: &str) -> Outcome {
    let started = Instant::now();
    let bin = env!("CARGO_BIN_EXE_krawlr");
    // The test's settings, as `TestEnv::command` sets them, on a `time` wrapper.
    let settings = env.command(&[]);
    let mut time = std::process::Command::new("/usr/bin/time");
    time.args(["-f", "rss_kb=%M", bin, "scrape", url]);
    for (k, v) in settings.get_envs() {
        match v {
            Some(v) => time.env(k, v),
            None => time.env_remove(k),
        };
    }
    let out = time.current_dir(env.dir.path()).output().expect("GNU time at /usr/bin/time");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let peak_rss_kb = stderr.lines().rev().find_map(|l| l.strip_prefix("rss_kb=")?.trim().parse().ok()).unwrap_or(0);
    Outcome {
        code: out.status.code().unwrap_or(-1),
        report: serde_json::from_slice(&out.stdout).ok(),
        stderr,
        elapsed: started.elapsed(),
        peak_rss_kb,
    }
}

fn env() -> TestEnv {
    TestEnv::new()
        .set("KRAWLR_FETCH_MAX_BYTES", "1048576")
        .set("KRAWLR_FETCH_TIMEOUT_SECONDS", "2")
        .set("KRAWLR_READ_TIMEOUT_SECONDS", "1")
        .set("KRAWLR_CRAWL_TIMEOUT_SECONDS", "10")
        .set("KRAWLR_PER_HOST_CONCURRENCY", "8")
}

/// `size` bytes of HTML-ish filler, compressed with `encoding` (`gzip` or `br`): a few hundred
/// kilobytes on the wire that unpack to hundreds of megabytes.
fn bomb(encoding: &str, size: usize) -> Vec<u8> {
    use std::io::Write;
    let chunk = vec![b' '; 1 << 20];
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            let mut w = flate2::write::GzEncoder::new(&mut out, flate2::Compression::best());
            w.write_all(b"<html><title>Bomb</title><p>").unwrap();
            for _ in 0..size >> 20 {
                w.write_all(&chunk).unwrap();
            }
            w.finish().unwrap();
        }
        _ => {
            let mut w = brotli::CompressorWriter::new(&mut out, 1 << 16, 9, 22);
            w.write_all(b"<html><title>Bomb</title><p>").unwrap();
            for _ in 0..size >> 20 {
                w.write_all(&chunk).unwrap();
            }
            drop(w);
        }
    }
    out
}

fn endless(chunk: usize, pause: Duration) -> Response {
    let stream = futures_util::stream::unfold((), move |()| async move {
        tokio::time::sleep(pause).await;
        Some((Ok::<_, std::io::Error>(vec![b'a'; chunk]), ()))
    });
    ([(header::CONTENT_TYPE, "text/html")], Body::from_stream(stream)).into_response()
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_sites_end_within_their_caps() {
    let farm: String = (0..10_000).map(|i| format!("<a href=\"/p/{i}\">{i}</a>")).collect();
    let farm = format!("<html><title>Farm</title>{farm}</html>");
    let nested = format!("<html><title>Deep</title>{}x{}</html>", "<div>".repeat(20_000), "</div>".repeat(20_000));
    let huge = format!("<html><title>Huge</title><p>{}</p></html>", "lorem ipsum ".repeat(900_000));
    let script = format!("<html><title>Script</title><script>var x = \"{}\";</script></html>", "a".repeat(3_000_000));
    let (gzip, br) = (bomb("gzip", 512 << 20), bomb("br", 512 << 20));
    println!("bombs: gzip {} bytes, brotli {} bytes on the wire for 512 MB", gzip.len(), br.len());
    let site = Site::start(
        Router::new()
            .route(
                "/gzip-bomb/",
                get(move || async move {
                    ([(header::CONTENT_TYPE, "text/html"), (header::CONTENT_ENCODING, "gzip")], gzip.clone())
                }),
            )
            .route(
                "/br-bomb/",
                get(move || async move {
                    ([(header::CONTENT_TYPE, "text/html"), (header::CONTENT_ENCODING, "br")], br.clone())
                }),
            )
            .route("/farm/", get(move || async move { Html(farm.clone()) }))
            .route("/p/{n}", get(|| async { Html("<title>p</title>") }))
            .route("/nested/", get(move || async move { Html(nested.clone()) }))
            .route("/huge/", get(move || async move { Html(huge.clone()) }))
            .route("/script/", get(move || async move { Html(script.clone()) }))
            .route("/endless/", get(|| async { endless(64 * 1024, Duration::ZERO) }))
            .route("/trickle/", get(|| async { endless(1, Duration::from_millis(300)) }))
            .route("/loop/", get(|| async { axum::response::Redirect::temporary("/loop/") }))
            .route("/broken/", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
            .route(
                "/latin1/",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/html")],
                        b"<meta charset=iso-8859-1><title>Caf\xe9 M\xfcller</title>".to_vec(),
                    )
                }),
            )
            .route(
                "/mislabelled/",
                get(|| async {
                    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], b"<title>Caf\xe9</title>".to_vec())
                }),
            ),
    )
    .await;
    let env = env();
    let mut rows = Vec::new();
    for (path, expect_ok, check) in [
        ("/farm/", true, "pages"),
        ("/gzip-bomb/", true, "truncated"),
        ("/br-bomb/", true, "truncated"),
        ("/nested/", true, "title"),
        ("/huge/", true, "truncated"),
        ("/script/", true, "title"),
        ("/endless/", true, "truncated"),
        ("/latin1/", true, "latin1"),
        ("/mislabelled/", true, "mislabelled"),
        ("/trickle/", false, "timed out"),
        ("/loop/", false, "more than 10 redirects"),
        ("/broken/", false, "HTTP 500"),
    ] {
        let out = scrape(&env, &site.url(path));
        rows.push(format!(
            "{path:<14} exit {} in {:>5.2}s, peak RSS {:>6} KB",
            out.code,
            out.elapsed.as_secs_f32(),
            out.peak_rss_kb
        ));
        assert!(out.elapsed < Duration::from_secs(20), "{path} took {:?}", out.elapsed);
        assert!(out.peak_rss_kb > 0 && out.peak_rss_kb < MAX_RSS_KB, "{path}: {} KB", out.peak_rss_kb);
        assert_eq!(out.code == 0, expect_ok, "{path}: {}", out.stderr);
        if !expect_ok {
            assert!(out.stderr.contains(check), "{path}: {}", out.stderr);
            continue;
        }
        let report = out.report.unwrap();
        let pages = report["website"]["pages"].as_array().unwrap();
        match check {
            "pages" => assert_eq!(pages.len(), 25, "the page cap holds against 10,000 links"),
            "title" => assert!(pages[0]["title"].is_string(), "{path}"),
            "truncated" => assert_eq!(pages[0]["bytes"], 1048576, "cut at the body cap"),
            "latin1" => assert_eq!(pages[0]["title"], "Café Müller"),
            "mislabelled" => assert!(pages[0]["title"].as_str().unwrap().starts_with("Caf")),
            _ => unreachable!(),
        }
    }
    println!("{}", rows.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_crawl_s_byte_budget_stops_fetches_before_they_start() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let links: String = (0..50).map(|i| format!("<a href=\"/p/{i}\">{i}</a>")).collect();
    let home = format!("<html><title>Heavy</title>{links}</html>");
    let served = Arc::new(AtomicUsize::new(0));
    let counted = served.clone();
    let page = format!("<html><title>p</title><p>{}</p></html>", "x".repeat(100_000));
    let site = Site::start(Router::new().route("/", get(move || async move { Html(home.clone()) })).route(
        "/p/{n}",
        get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            let page = page.clone();
            async move { Html(page) }
        }),
    ))
    .await;
    let env = TestEnv::new()
        .set("KRAWLR_MAX_PAGES", "60")
        .set("KRAWLR_CRAWL_MAX_BYTES", "300000")
        .set("KRAWLR_PER_HOST_CONCURRENCY", "1");
    let report = env.scrape(&site.url("/"));
    let crawled = report["website"]["pages"].as_array().unwrap().len();
    let skipped = report["website"]["skipped"].as_array().unwrap();
    // Three pages fit the budget; the fetches already under way when it ran out (two at once
    // at one request per host) may finish; none of the other 45 starts.
    assert!(crawled <= 3, "{crawled} pages kept");
    assert!(served.load(Ordering::SeqCst) <= 5, "{} pages fetched of 50", served.load(Ordering::SeqCst));
    assert!(skipped.iter().filter(|s| s["reason"] == "byte budget spent").count() >= 45, "{skipped:?}");
}
