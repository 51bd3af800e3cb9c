//! Spawning the real binary, fixture sites on 127.0.0.1, and polling without fixed sleeps.

mod receiver;

pub use receiver::*;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub const KEY: &str = "kr_test_key_0123456789abcdef";

/// `tests/fixtures/NAME`: real third-party material the project carries (`tests/fixtures/README.md`
/// names each group's source, commit and licence).
pub fn fixtures(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    assert!(dir.is_dir(), "{} is missing from the checkout", dir.display());
    dir
}

/// A data dir and the settings every process of one test shares.
pub struct TestEnv {
    pub dir: TempDir,
    vars: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data").to_string_lossy().into_owned();
        let vars = [
            ("KRAWLR_DATA_DIR", data.as_str()),
            ("KRAWLR_LISTEN", "127.0.0.1:0"),
            ("KRAWLR_API_KEY", KEY),
            ("KRAWLR_ALLOW_PRIVATE_NETWORKS", "true"),
            ("KRAWLR_PER_HOST_DELAY_SECONDS", "0"),
            ("KRAWLR_POLL_INTERVAL_SECONDS", "0.05"),
            ("KRAWLR_LOG", "info,krawlr=debug"),
            // Tests poll hard and send many jobs to one site; `limits_per_key` and
            // `jobs_of_one_site_are_limited_across_workers` check these limits on their own.
            ("KRAWLR_RATE_LIMIT_PER_SECOND", "0"),
            ("KRAWLR_JOBS_PER_HOST", "0"),
            // Tests reach nothing beyond 127.0.0.1: SEC EDGAR is a closed local port unless a
            // test serves it (`Site::sec`).
            ("KRAWLR_SEC_WWW_URL", "http://127.0.0.1:9"),
            ("KRAWLR_SEC_DATA_URL", "http://127.0.0.1:9"),
            // Pages are read as fetched unless a test renders them (`render.rs`).
            ("KRAWLR_RENDER", "off"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        TestEnv { dir, vars }
    }

    /// The gcp backend on the emulators `scripts/test` started, in a project of its own.
    pub fn gcp() -> TestEnv {
        let project = format!("krawlr-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        TestEnv::new()
            .set("KRAWLR_BACKEND", "gcp")
            .set("GCP_PROJECT_ID", &project)
            .set("PUBSUB_EMULATOR_HOST", &emulator("PUBSUB_EMULATOR_HOST"))
            .set("FIRESTORE_EMULATOR_HOST", &emulator("FIRESTORE_EMULATOR_HOST"))
            .set("KRAWLR_ACK_DEADLINE_SECONDS", "10")
            // Required on gcp: encrypts webhook secrets at rest (base64 of 32 bytes).
            .set("KRAWLR_SECRET_KEY", "a3Jhd2xyLXRlc3Qtc2VjcmV0LWtleS0zMi1ieXRlcyE=")
    }

    pub fn set(mut self, name: &str, value: &str) -> TestEnv {
        self.vars.retain(|(k, _)| k != name);
        self.vars.push((name.to_string(), value.to_string()));
        self
    }

    pub fn var(&self, name: &str) -> String {
        self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// The settings the test's processes read, for opening their store from the test.
    pub fn settings(&self) -> krawlr::config::Settings {
        krawlr::config::Settings::from_vars(self.vars.iter().cloned().collect()).unwrap()
    }

    /// The store and broker the test's processes use.
    pub async fn backend(&self) -> krawlr::app::Backend {
        krawlr::app::connect(&self.settings()).await.unwrap()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The binary with exactly this test's settings (none inherited from the caller's shell).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_krawlr"));
        for (k, _) in std::env::vars() {
            if k.starts_with("KRAWLR_")
                || k.starts_with("PUBSUB_")
                || k.starts_with("FIRESTORE_")
                || k == "GCP_PROJECT_ID"
            {
                cmd.env_remove(k);
            }
        }
        cmd.args(args).envs(self.vars.iter().map(|(k, v)| (k, v))).current_dir(self.dir.path());
        cmd
    }

    /// Runs a command to its end: (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.command(args).stdin(Stdio::null()).output().unwrap();
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
    }

    /// `krawlr keys create`: the new key (the first line; the second is its webhook secret).
    pub fn create_key(&self, name: &str) -> String {
        let (code, out, err) = self.run(&["keys", "create", "--name", name]);
        assert_eq!(code, 0, "{err}");
        out.lines().next().unwrap().to_string()
    }

    /// `krawlr scrape URL`, which must succeed: the report.
    pub fn scrape(&self, url: &str) -> Value {
        let (code, out, err) = self.run(&["scrape", url]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    }

    /// Starts a long-running command; output goes to files in the test dir.
    pub fn spawn(&self, name: &str, args: &[&str]) -> Proc {
        self.spawn_with(name, args, &[])
    }

    /// `spawn` with some settings of its own on top of the test's.
    pub fn spawn_with(&self, name: &str, args: &[&str], extra: &[(&str, &str)]) -> Proc {
        let stdout = self.dir.path().join(format!("{name}.out"));
        let stderr = self.dir.path().join(format!("{name}.err"));
        let child = self
            .command(args)
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Proc { child, name: name.to_string(), stdout, stderr }
    }

    /// `krawlr up` (or `api`), once it listens: its base URL.
    pub async fn serve(&self, name: &str, command: &str) -> (Proc, String) {
        let proc = self.spawn(name, &[command]);
        let line = proc.wait_for_stdout("krawlr listening on ").await;
        let base = line.trim_start_matches("krawlr listening on ").trim().to_string();
        (proc, base)
    }

    /// `krawlr worker`, once it pulls.
    pub async fn worker(&self, name: &str) -> Proc {
        let proc = self.spawn(name, &["worker"]);
        proc.wait_for_stderr("worker started").await;
        proc
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.data_dir().join("krawlr.db")).unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Waits until `sql` counts `want`, for what a process writes just after a job's status
    /// (a site's slot is given back once its job's completion is committed); the last count if not.
    pub async fn count_reaches(&self, sql: &str, want: i64, within: Duration) -> i64 {
        let deadline = Instant::now() + within;
        loop {
            let count = self.count(sql);
            if count == want || Instant::now() >= deadline {
                return count;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub struct Proc {
    pub child: Child,
    name: String,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    async fn wait_for_line(&self, path: &Path, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            assert!(Instant::now() < deadline, "{} never printed {needle:?}; stderr:\n{}", self.name, self.stderr());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn wait_for_stdout(&self, needle: &str) -> String {
        self.wait_for_line(&self.stdout, needle).await
    }

    pub async fn wait_for_stderr(&self, needle: &str) -> String {
        self.wait_for_line(&self.stderr, needle).await
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([&format!("-{signal}"), &self.pid().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end by itself; its exit code.
    pub async fn wait_exit(&mut self, within: Duration) -> i32 {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {within:?}; stderr:\n{}",
                self.name,
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// An HTTP client speaking to one krawlr with one key.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str, key: &str) -> Client {
        Client { base: base.to_string(), key: key.to_string(), http: reqwest::Client::new() }
    }

    pub async fn submit(&self, url: &str) -> String {
        let res = self
            .http
            .post(format!("{}/api/v1/scrape/company", self.base))
            .bearer_auth(&self.key)
            .json(&serde_json::json!({ "url": url }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        let body: Value = res.json().await.unwrap();
        body["scrape_id"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let res = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.key).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn status(&self, id: &str) -> Value {
        let (code, body) = self.get(&format!("/api/v1/scrape/status/{id}")).await;
        assert_eq!(code, 200, "{body}");
        body
    }

    /// Polls until the job's status is one of `wanted`; the last status document.
    pub async fn wait_status(&self, id: &str, wanted: &[&str], within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let status = self.status(id).await;
            if wanted.contains(&status["status"].as_str().unwrap_or_default()) {
                return status;
            }
            assert!(Instant::now() < deadline, "job {id} never reached {wanted:?}: {status}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A fixture website on 127.0.0.1:0, served from this process.
pub struct Site {
    pub base: String,
    pub hits: Arc<AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

impl Site {
    pub async fn start(router: Router<Arc<AtomicUsize>>) -> Site {
        let hits = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = router.with_state(hits.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Site { base, hits, _task: task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// A small company site: a homepage with JSON-LD (served after `delay`), about, contact and
    /// careers pages, a sitemap and an RSS feed. `hits` counts homepage requests.
    pub async fn company(delay: Duration) -> Site {
        let page = |body: &'static str| get(move || async move { Html(body) });
        Site::start(
            Router::new()
                .route(
                    "/",
                    get(move |State(hits): State<Arc<AtomicUsize>>| async move {
                        hits.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(delay).await;
                        Html(COMPANY_HOME)
                    }),
                )
                .route("/about", page("<html><title>About Acme</title><p>Founded in Austin.</p></html>"))
                .route(
                    "/contact",
                    page(
                        r#"<html><title>Contact</title><a href="mailto:hello@acme.example">mail</a>
                        <a href="https://www.facebook.com/acmerockets">fb</a></html>"#,
                    ),
                )
                .route("/careers", page("<html><title>Careers at Acme</title></html>"))
                // The fixture company borrows a real filer's ticker, so that its EDGAR facts (served
                // by `Site::sec`) can be checked exactly.
                .route("/investors", page("<html><title>Investor relations</title><p>Acme Rockets (NYSE: SNOW)</p></html>"))
                .route(
                    "/press/acme-raises-series-a",
                    page(
                        r#"<html><head><title>Acme raises $20M</title>
                        <meta property="article:published_time" content="2024-01-15T15:00:00Z"></head><p>AUSTIN — Acme Rockets today announced it raised
                        $20 million in Series A funding led by Example Ventures, with participation from Orbit
                        Partners. The round funds a second pad.</p></html>"#,
                    ),
                )
                .route(
                    "/sitemap.xml",
                    page(
                        r#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
                        <url><loc>/careers</loc></url><url><loc>/contact</loc></url></urlset>"#,
                    ),
                )
                .route("/feed.xml", get(|| async { ([(header::CONTENT_TYPE, "application/rss+xml")], COMPANY_FEED) })),
        )
        .await
    }

    /// Every request (robots.txt included) answers `status`.
    pub async fn always(status: u16) -> Site {
        Site::start(Router::new().fallback(move |State(hits): State<Arc<AtomicUsize>>| async move {
            hits.fetch_add(1, Ordering::SeqCst);
            StatusCode::from_u16(status).unwrap()
        }))
        .await
    }

    /// SEC EDGAR's real responses from `tests/fixtures/sec-edgar/`.
    pub async fn sec() -> Site {
        fn dir() -> PathBuf {
            fixtures("sec-edgar")
        }
        Site::start(
            Router::new()
                .route(
                    "/files/company_tickers.json",
                    get(|| async { std::fs::read(dir().join("company_tickers.json")).unwrap() }),
                )
                .route(
                    "/api/xbrl/companyfacts/{file}",
                    get(|axum::extract::Path(file): axum::extract::Path<String>| async move {
                        std::fs::read(dir().join("companyfacts").join(file)).map_err(|_| StatusCode::NOT_FOUND)
                    }),
                )
                .route(
                    "/submissions/{file}",
                    get(|axum::extract::Path(file): axum::extract::Path<String>| async move {
                        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sec-submissions");
                        std::fs::read(dir.join(file)).map_err(|_| StatusCode::NOT_FOUND)
                    }),
                ),
        )
        .await
    }

    pub async fn robots_disallow() -> Site {
        Site::start(
            Router::new()
                .route("/robots.txt", get(|| async { "User-agent: *\nDisallow: /\n" }))
                .route("/", get(|| async { Html(COMPANY_HOME) })),
        )
        .await
    }

    pub async fn not_html() -> Site {
        Site::start(Router::new().route(
            "/",
            get(|| async { ([(header::CONTENT_TYPE, "application/pdf")], "%PDF-1.4").into_response() as Response }),
        ))
        .await
    }
}

pub const COMPANY_FEED: &str = r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>Acme news</title><link>/</link>
  <item><title>Acme opens a launch site in Texas</title><link>/news/launch-site</link>
    <pubDate>Tue, 02 Apr 2024 09:00:00 +0000</pubDate><description>&lt;p&gt;A new pad.&lt;/p&gt;</description></item>
  <item><title>Acme raises $20 million in Series A funding</title><link>/news/series-a</link>
    <pubDate>Mon, 15 Jan 2024 14:30:00 +0000</pubDate><description>Led by Example Ventures.</description></item>
</channel></rss>"#;

pub const COMPANY_HOME: &str = r#"<!doctype html>
<html lang="en">
<head>
  <title>Acme Rockets — launch anything | Acme</title>
  <meta name="description" content="Acme builds reusable rockets for small satellites.">
  <meta property="og:site_name" content="Acme">
  <link rel="icon" href="/static/favicon-32.png" sizes="32x32">
  <link rel="alternate" type="application/rss+xml" title="Acme news" href="/feed.xml">
  <script src="https://js.stripe.com/v3/" async></script>
  <script type="application/ld+json">
  {"@context": "https://schema.org", "@type": "Organization", "name": "Acme Rockets",
   "legalName": "Acme Rockets, Inc.", "url": "/", "logo": "/static/logo.svg", "foundingDate": "2014",
   "sameAs": ["https://www.linkedin.com/company/acme-rockets", "https://github.com/acme-rockets"],
   "address": {"@type": "PostalAddress", "addressLocality": "Austin", "addressRegion": "TX", "addressCountry": "US"}}
  </script>
</head>
<body>
  <header><img src="/static/logo.svg" alt="Acme logo"></header>
  <a href="/about">About</a>
  <a href="/investors">Investors</a>
  <a href="/press/acme-raises-series-a">Press</a>
  <a href="https://x.com/acmerockets">X</a>
  <a href="mailto:press@acme.example">Press</a>
  <a href="tel:+1-512-555-0100">Call</a>
</body>
</html>"#;

/// Runs `tests/browser/{script}` (playwright-core driving Debian's Chromium, both installed by
/// `scripts/test`) with `args` and a screenshot path, within 90 s: the JSON it prints. The
/// screenshot is a PNG, kept in `target/` to look at.
pub async fn browser_script(script: &str, args: &[&str], shot: &std::path::Path) -> Value {
    let chromium = std::env::var("KRAWLR_TEST_CHROMIUM")
        .expect("KRAWLR_TEST_CHROMIUM is not set: run scripts/test, which installs Chromium and playwright-core");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser").join(script);
    let out = tokio::process::Command::new("node").arg(path).args(args).arg(shot).env("CHROMIUM", &chromium).output();
    let out = tokio::time::timeout(Duration::from_secs(90), out).await.expect("the browser run ends").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let name = shot.file_name().expect("a file name");
    let _ = std::fs::copy(shot, std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join(name));
    serde_json::from_str(stdout.trim()).unwrap()
}

/// The address of an emulator that `scripts/test` started.
pub fn emulator(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run scripts/test, which starts the emulators"))
}

pub async fn post(client: &Client, path: &str, body: Value) -> (u16, Value) {
    let res =
        client.http.post(format!("{}{path}", client.base)).bearer_auth(&client.key).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn patch(client: &Client, path: &str, body: Value) -> (u16, Value) {
    let res =
        client.http.patch(format!("{}{path}", client.base)).bearer_auth(&client.key).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A stand-in forward proxy on 127.0.0.1: answers every request itself and records what it
/// was asked for.
pub async fn proxy() -> (url::Url, Arc<std::sync::Mutex<Vec<String>>>) {
    let asked: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let log = asked.clone();
    let router = Router::new().fallback(move |request: axum::extract::Request| {
        log.lock().unwrap().push(request.uri().to_string());
        async { ([(header::CONTENT_TYPE, "text/html")], "<title>through the proxy</title>") }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url::Url::parse(&base).unwrap(), asked)
}
