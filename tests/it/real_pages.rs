//! The real-page sweep: `krawlr extract` over every page of `../shared/fixtures/real-pages/`
//! (952 pages nobody here wrote, in many languages and character sets) ends cleanly and in
//! time on each; and a sample of them, served as sites, goes through the real worker to a job
//! that ends.

use crate::helpers::{Client, KEY, Site, TestEnv};
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::Value;
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// One page may take this long in the test build (the release build is many times faster).
const PER_PAGE: Duration = Duration::from_secs(30);

struct Case {
    id: String,
    url: String,
    html: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let root = crate::helpers::shared_fixtures("real-pages");
    let index: Value = serde_json::from_slice(&std::fs::read(root.join("cases.json")).unwrap()).unwrap();
    let cases = index["cases"].as_array().unwrap();
    cases
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap().to_string();
            let gz = std::fs::read(root.join("pages").join(format!("{id}.html.gz"))).unwrap();
            let mut html = Vec::new();
            flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut html).unwrap();
            Case { id, url: c["url"].as_str().unwrap().to_string(), html }
        })
        .collect()
}

/// What went wrong with one page, if anything, and how long it took.
fn extract(env: &TestEnv, case: &Case) -> (Option<String>, Duration) {
    let started = Instant::now();
    let mut child = env
        .command(&["extract", "-", "--url", &case.url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let html = case.html.clone();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&html);
    });
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let _ = out.read_to_end(&mut o);
        let _ = err.read_to_end(&mut e);
        (o, e)
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > PER_PAGE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let (stdout, stderr) = reader.join().unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&stderr);
    let problem = match status {
        None => Some(format!("still running after {PER_PAGE:?}")),
        Some(s) if !s.success() => Some(format!("exit {s}: {}", stderr.trim())),
        Some(_) if stderr.contains("panic") => Some(format!("panicked: {}", stderr.trim())),
        Some(_) => match serde_json::from_slice::<Value>(&stdout) {
            Ok(meta) if meta.is_object() => None,
            _ => Some("no JSON object on stdout".to_string()),
        },
    };
    (problem, elapsed)
}

#[test]
fn krawlr_extract_reads_every_real_page_without_a_crash() {
    let cases = cases();
    assert!(cases.len() >= 900, "{} cases", cases.len());
    let env = TestEnv::new();
    let threads = std::thread::available_parallelism().map_or(2, usize::from).clamp(2, 4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(String, Option<String>, Duration)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(case) = cases.get(i) else { return done };
                        let (problem, took) = extract(&env, case);
                        done.push((case.id.clone(), problem, took));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let slowest = results.iter().max_by_key(|r| r.2).unwrap();
    let problems: Vec<String> =
        results.iter().filter_map(|(id, p, _)| p.as_ref().map(|p| format!("{id}: {p}"))).collect();
    println!(
        "{} real pages extracted; slowest {} in {:?}; {} problems",
        results.len(),
        slowest.0,
        slowest.2,
        problems.len()
    );
    assert_eq!(results.len(), cases.len());
    assert!(problems.is_empty(), "{} pages failed:\n{}", problems.len(), problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn real_pages_served_as_sites_end_their_jobs() {
    // Every 40th page, as the homepage of a site of its own (its links lead to 404s).
    let sample: Vec<Case> = cases().into_iter().step_by(40).collect();
    let mut sites = Vec::new();
    for case in &sample {
        let html = case.html.clone();
        let router = Router::new().route(
            "/",
            get(move || async move { ([(header::CONTENT_TYPE, "text/html")], html.clone()).into_response() }),
        );
        sites.push(Site::start(router).await);
    }
    let env = TestEnv::new()
        .set("KRAWLR_MAX_PAGES", "5")
        .set("KRAWLR_FETCH_TIMEOUT_SECONDS", "5")
        .set("KRAWLR_CRAWL_TIMEOUT_SECONDS", "20")
        .set("KRAWLR_WORKER_CONCURRENCY", "8");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let mut ids = Vec::new();
    for site in &sites {
        ids.push(client.submit(&site.url("/")).await);
    }
    let mut completed = 0;
    for (id, case) in ids.iter().zip(&sample) {
        let status = client.wait_status(id, &["completed", "failed"], Duration::from_secs(240)).await;
        assert!(status["status"] == "completed" || status["status"] == "failed", "{}: {status}", case.id);
        completed += usize::from(status["status"] == "completed");
    }
    println!("{} real pages as sites: {completed} completed, {} failed", sample.len(), sample.len() - completed);
    assert_eq!(completed, sample.len(), "every real page is an HTML homepage that a job reads to the end");
    assert_eq!(client.get("/healthz").await.0, 200, "the process lives on");
}
