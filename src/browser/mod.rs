//! Rendering pages whose content exists only once their scripts run, in a headless Chromium
//! driven over the DevTools protocol ([`cdp`]).
//!
//! The browser never reaches the network itself. Every request a page makes, its frames from
//! other sites and its workers included (each attached paused), is paused by the protocol's
//! `Fetch` domain and handed to a [`Network`] (krawlr's fetcher, with its address
//! guard, host limits and caps), whose answer the browser is given; images, fonts, media and
//! styles are refused unfetched. Behind that, the browser is started so that whatever might
//! escape the interception finds nothing: its own name resolution answers nothing, and its
//! proxy is a closed port. Each page gets a fresh browser context (no cookies or storage shared
//! between pages), downloads are denied, permission prompts too, and the profile is a temporary
//! directory removed with the browser. The protocol runs over a pipe, not a port: no other
//! process can drive the browser, and the browser ends when krawlr does.
//!
//! One browser per process, started at the first render, restarted when it stops answering or
//! dies, and renewed after [`RENEW_AFTER`] pages; at most `KRAWLR_RENDER_CONCURRENCY` tabs at once.

pub mod cdp;

use crate::config::{RenderMode, RenderSettings};
use cdp::{CdpError, Connection, Event};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use url::Url;

/// Pages a browser renders before it is replaced by a fresh one (its memory given back).
const RENEW_AFTER: usize = 200;
/// A page is done once it has loaded and made no request for this long.
const QUIET: Duration = Duration::from_millis(500);
/// How long a browser has to start and answer.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(20);
/// Resource types refused unfetched: they change how a page looks, not what it says.
const NOT_FETCHED: &[&str] =
    &["Image", "Media", "Font", "Stylesheet", "TextTrack", "Ping", "CSPViolationReport", "Manifest", "Prefetch"];

/// A request the page made, for the [`Network`] to answer.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: Url,
    pub method: String,
    /// As the page set them; the network decides which it sends.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// A document (the page itself, a frame, a navigation) rather than a subresource.
    pub document: bool,
    /// The most body the answer may bring.
    pub cap: usize,
}

/// The network's answer to a [`Request`].
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why the network did not answer a request.
#[derive(Debug, Clone)]
pub enum Unanswered {
    /// Refused by the address guard or robots.txt: the reason.
    Refused(String),
    /// Failed on the way (a timeout, a reset).
    Failed(String),
}

/// What answers the browser's requests.
pub trait Network: Send + Sync {
    fn fetch(&self, request: Request) -> BoxFuture<'_, Result<Answer, Unanswered>>;
}

/// A page as its scripts left it.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Where the page ended up.
    pub url: Url,
    /// The document as serialized after its scripts ran.
    pub html: String,
    /// Requests the page made, fetched or not.
    pub requests: usize,
    /// Body bytes fetched for it.
    pub bytes: usize,
    /// Requests refused, with why (a private address, robots.txt, a cap).
    pub refused: Vec<(String, String)>,
    /// The page was still busy at the deadline and was read as it stood.
    pub timed_out: bool,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("rendering is off")]
    Off,
    #[error("the crawl's time budget ran out")]
    OutOfTime,
    #[error("the browser could not be started: {0}")]
    Launch(String),
    #[error(transparent)]
    Protocol(#[from] CdpError),
    #[error("the browser could not open {url}: {reason}")]
    Navigation { url: String, reason: String },
}

/// The render pool of one process.
pub struct Browser {
    settings: RenderSettings,
    tabs: Semaphore,
    running: tokio::sync::Mutex<Option<Arc<Chromium>>>,
}

impl Browser {
    pub fn new(settings: RenderSettings) -> Browser {
        let tabs = Semaphore::new(settings.concurrency.max(1));
        Browser { settings, tabs, running: tokio::sync::Mutex::new(None) }
    }

    pub fn mode(&self) -> RenderMode {
        self.settings.mode
    }

    /// Why rendering is off when it was not turned off.
    pub fn unavailable(&self) -> Option<&str> {
        self.settings.unavailable.as_deref()
    }

    /// The running browser's process id, if one runs (for figures and operators).
    pub async fn pid(&self) -> Option<u32> {
        self.running.lock().await.as_ref().map(|c| c.pid)
    }

    /// Ends the running browser and waits until its profile is gone: for a process about to exit,
    /// whose runtime would not finish what a dropped browser leaves to it. A browser that a
    /// render still uses ends with that render.
    pub async fn close(&self) {
        let running = self.running.lock().await.take();
        if let Some(mut chromium) = running.and_then(|c| Arc::try_unwrap(c).ok()) {
            if let Some(end) = chromium.end() {
                end.await;
            }
        }
    }

    /// Renders `url`, whose document the caller already fetched (`document`), asking `network`
    /// for every other request the page makes.
    pub async fn render(&self, url: &Url, document: Answer, network: &dyn Network) -> Result<Rendered, RenderError> {
        if self.settings.mode == RenderMode::Off {
            return Err(RenderError::Off);
        }
        let _tab = self.tabs.acquire().await.expect("never closed");
        let chromium = self.chromium().await?;
        chromium.renders.fetch_add(1, Ordering::Relaxed);
        let result = render_in(&chromium.cdp, &self.settings, url, document, network).await;
        if let Err(RenderError::Protocol(CdpError::Timeout(_) | CdpError::Closed)) = &result {
            // Unresponsive or gone: the next render starts a fresh browser.
            tracing::warn!(pid = chromium.pid, "the browser misbehaved; restarting it");
            let mut running = self.running.lock().await;
            if running.as_ref().is_some_and(|r| Arc::ptr_eq(r, &chromium)) {
                *running = None;
            }
        }
        result
    }

    /// The running browser, started (or renewed) when needed.
    async fn chromium(&self) -> Result<Arc<Chromium>, RenderError> {
        let mut running = self.running.lock().await;
        if let Some(chromium) = running.as_ref() {
            if !chromium.cdp.is_closed() && chromium.renders.load(Ordering::Relaxed) < RENEW_AFTER {
                return Ok(chromium.clone());
            }
        }
        // The old browser ends when its last tab is done with it.
        *running = None;
        let path = self.settings.chromium.as_deref().ok_or(RenderError::Off)?;
        let chromium = Arc::new(Chromium::launch(path, self.settings.max_bytes).await?);
        *running = Some(chromium.clone());
        Ok(chromium)
    }
}

/// `root` and every process below it, parents before children (Linux `/proc`; only `root` where
/// it cannot be read): a browser's helper processes, for figures and operators.
pub fn process_tree(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name in parentheses may hold spaces: the fields after it are split.
            Some((pid, stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?))
        })
        .collect();
    let mut tree = vec![root];
    let mut i = 0;
    while let Some(&parent) = tree.get(i) {
        tree.extend(parents.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    tree
}

/// One running browser: its process, its protocol connection, its throwaway profile.
struct Chromium {
    cdp: Arc<Connection>,
    pid: u32,
    renders: AtomicUsize,
    /// Killed when dropped, and its profile removed once it has let go of it (see `Drop`).
    process: Option<tokio::process::Child>,
    profile: Option<tempfile::TempDir>,
}

impl Chromium {
    /// Kills the browser; the future then removes its profile once its helper processes, which
    /// outlive it by a moment and write into the profile meanwhile, let go of it (tried again
    /// for up to 5 s). Dropped unrun, it still kills the browser (`kill_on_drop`) and removes what
    /// of the profile it can.
    fn end(&mut self) -> Option<impl Future<Output = ()> + Send + 'static> {
        let (mut process, profile) = (self.process.take()?, self.profile.take()?);
        let _ = process.start_kill();
        Some(async move {
            let _ = process.wait().await;
            for _ in 0..50 {
                if std::fs::remove_dir_all(profile.path()).is_ok() || !profile.path().exists() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    }
}

impl Drop for Chromium {
    /// A browser replaced while the process runs is cleaned up in the background; a process
    /// about to exit calls [`Browser::close`] instead, which waits for it.
    fn drop(&mut self) {
        if let (Some(end), Ok(runtime)) = (self.end(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(end);
        }
    }
}

impl Chromium {
    async fn launch(path: &std::path::Path, max_bytes: usize) -> Result<Chromium, RenderError> {
        let launch = |e: std::io::Error| RenderError::Launch(format!("{}: {e}", path.display()));
        let profile = tempfile::Builder::new().prefix("krawlr-chromium-").tempdir().map_err(launch)?;
        let (browser_reads, to_browser) = std::io::pipe().map_err(launch)?;
        let (from_browser, browser_writes) = std::io::pipe().map_err(launch)?;
        let mut command = tokio::process::Command::new(path);
        command
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        if running_as_root() {
            // Chromium refuses its sandbox to root; containers run as root.
            command.arg("--no-sandbox");
        }
        hand_over_pipe(&mut command, &browser_reads, &browser_writes);
        let mut process = command.spawn().map_err(launch)?;
        drop((browser_reads, browser_writes));
        let pid = process.id().unwrap_or_default();
        if let Some(stderr) = process.stderr.take() {
            tokio::spawn(log_stderr(stderr, pid));
        }
        let from = tokio::net::unix::pipe::Receiver::from_owned_fd(from_browser.into()).map_err(launch)?;
        let to = tokio::net::unix::pipe::Sender::from_owned_fd(to_browser.into()).map_err(launch)?;
        // The page's serialized document comes back in one message.
        let cdp = Connection::start(from, to, max_bytes.saturating_mul(4).max(16 << 20));
        let version = tokio::time::timeout(LAUNCH_TIMEOUT, cdp.call(None, "Browser.getVersion", json!({})))
            .await
            .map_err(|_| RenderError::Launch(format!("{} did not answer within {LAUNCH_TIMEOUT:?}", path.display())))?
            .map_err(|e| RenderError::Launch(format!("{}: {e}", path.display())))?;
        let product = version["product"].as_str().unwrap_or("unknown");
        tracing::info!(pid, browser = product, "started a browser for rendering");
        Ok(Chromium { cdp, pid, renders: AtomicUsize::new(0), process: Some(process), profile: Some(profile) })
    }
}

/// Chromium's switches: headless, quiet, nothing of its own on the network.
const FLAGS: &[&str] = &[
    "--headless",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-breakpad",
    "--disable-dev-shm-usage",
    "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,InterestFeedContentSuggestions",
    "--metrics-recording-only",
    "--mute-audio",
    "--no-pings",
    "--deny-permission-prompts",
    "--block-new-web-contents",
    "--password-store=basic",
    "--use-mock-keychain",
    // What escapes the request interception (a WebSocket, WebRTC, a service worker's own
    // fetch) resolves no name and reaches only a closed proxy port; loopback included.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--js-flags=--max-old-space-size=512",
];

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Makes the child's file descriptors 3 and 4 the ends of the protocol pipe that Chromium's
/// `--remote-debugging-pipe` reads and writes.
fn hand_over_pipe(command: &mut tokio::process::Command, reads: &std::io::PipeReader, writes: &std::io::PipeWriter) {
    use std::os::fd::AsRawFd;
    let (reads, writes) = (reads.as_raw_fd(), writes.as_raw_fd());
    // SAFETY: between fork and exec only async-signal-safe calls are made (fcntl, dup2) on
    // descriptors the parent keeps open until the child is spawned. Each end is first copied
    // above 4 so that placing one cannot overwrite the other.
    unsafe {
        command.pre_exec(move || {
            let high_reads = libc::fcntl(reads, libc::F_DUPFD, 5);
            let high_writes = libc::fcntl(writes, libc::F_DUPFD, 5);
            if high_reads < 0 || high_writes < 0 || libc::dup2(high_reads, 3) < 0 || libc::dup2(high_writes, 4) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The browser's own messages, in the debug log, a line at a time and each line bounded.
async fn log_stderr(stderr: tokio::process::ChildStderr, pid: u32) {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stderr).split(b'\n');
    while let Ok(Some(line)) = lines.next_segment().await {
        let line = String::from_utf8_lossy(&line[..line.len().min(500)]).into_owned();
        tracing::debug!(pid, "chromium: {line}");
    }
}

/// What a page's requests have used so far.
struct Budget {
    requests: AtomicUsize,
    bytes: AtomicUsize,
    refused: std::sync::Mutex<Vec<(String, String)>>,
}

impl Budget {
    fn refuse(&self, url: &str, reason: String) {
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        if refused.len() < 100 {
            refused.push((url.to_string(), reason));
        }
    }
}

/// Renders one page in a fresh context of `cdp`'s browser, then disposes of the context.
async fn render_in(
    cdp: &Connection,
    settings: &RenderSettings,
    url: &Url,
    document: Answer,
    network: &dyn Network,
) -> Result<Rendered, RenderError> {
    let started = Instant::now();
    let context = cdp.call(None, "Target.createBrowserContext", json!({"disposeOnDetach": true})).await?;
    let context = context["browserContextId"].as_str().unwrap_or_default().to_string();
    let result = tokio::time::timeout(
        settings.timeout + Duration::from_secs(5),
        in_context(cdp, settings, &context, url, document, network, started),
    )
    .await
    .unwrap_or_else(|_| Err(CdpError::Timeout("the page".into()).into()));
    // The context's tab, cookies and storage go with it.
    let _ = cdp.call(None, "Target.disposeBrowserContext", json!({"browserContextId": context})).await;
    result
}

async fn in_context(
    cdp: &Connection,
    settings: &RenderSettings,
    context: &str,
    url: &Url,
    document: Answer,
    network: &dyn Network,
    started: Instant,
) -> Result<Rendered, RenderError> {
    cdp.call(None, "Browser.setDownloadBehavior", json!({"behavior": "deny", "browserContextId": context})).await?;
    let target =
        cdp.call(None, "Target.createTarget", json!({"url": "about:blank", "browserContextId": context})).await?;
    let target = target["targetId"].as_str().unwrap_or_default().to_string();
    let session = cdp.call(None, "Target.attachToTarget", json!({"targetId": target, "flatten": true})).await?;
    let session = session["sessionId"].as_str().unwrap_or_default().to_string();
    let events = cdp.events(&session);
    let result = in_tab(cdp, settings, &session, events, url, document, network, started).await;
    cdp.forget(&session);
    result
}

#[allow(clippy::too_many_arguments)]
async fn in_tab(
    cdp: &Connection,
    settings: &RenderSettings,
    session: &str,
    mut events: tokio::sync::mpsc::Receiver<Event>,
    url: &Url,
    document: Answer,
    network: &dyn Network,
    started: Instant,
) -> Result<Rendered, RenderError> {
    let tab = Some(session);
    intercept(cdp, session).await?;
    cdp.call(tab, "Page.enable", json!({})).await?;
    let budget = Budget { requests: AtomicUsize::new(0), bytes: AtomicUsize::new(0), refused: Default::default() };
    let mut document = Some(document);
    let deadline = tokio::time::Instant::now() + settings.timeout;
    let navigate = cdp.call(tab, "Page.navigate", json!({"url": url.as_str()}));
    tokio::pin!(navigate);
    let mut navigated = false;
    let mut loaded = false;
    let mut timed_out = false;
    let mut in_flight = FuturesUnordered::new();
    // Frames from other sites (and workers) run as targets of their own, attached to the tab.
    let mut frames = Vec::new();
    let mut last_activity = Instant::now();
    loop {
        let quiet_at = tokio::time::Instant::from_std(last_activity + QUIET);
        tokio::select! {
            answer = &mut navigate, if !navigated => {
                navigated = true;
                let answer = answer?;
                if let Some(reason) = answer.get("errorText").and_then(Value::as_str) {
                    return Err(RenderError::Navigation { url: url.to_string(), reason: reason.to_string() });
                }
            }
            event = events.recv() => {
                let Some(event) = event else { return Err(CdpError::Closed.into()) };
                last_activity = Instant::now();
                match TabEvent::parse(&event.method, event.params) {
                    TabEvent::Loaded => loaded = true,
                    TabEvent::Paused(paused) => {
                        in_flight.push(answer(cdp, event.session, settings, &budget, paused, url, &mut document, network));
                    }
                    TabEvent::Attached { session: frame } => {
                        // Its events join the tab's; it runs once its requests are intercepted.
                        cdp.route(&frame, session);
                        frames.push(frame.clone());
                        in_flight.push(start_frame(cdp, frame));
                    }
                    TabEvent::Other => {}
                }
            }
            Some(()) = in_flight.next(), if !in_flight.is_empty() => last_activity = Instant::now(),
            _ = tokio::time::sleep_until(quiet_at), if loaded && in_flight.is_empty() => break,
            _ = tokio::time::sleep_until(deadline) => {
                timed_out = true;
                break;
            }
        }
    }
    // Requests still waiting are let go with the tab.
    drop(in_flight);
    for frame in &frames {
        cdp.forget(frame);
    }
    let read = "({url: location.href, html: document.documentElement ? document.documentElement.outerHTML : ''})";
    let page = cdp.call(tab, "Runtime.evaluate", json!({"expression": read, "returnByValue": true})).await?;
    let value = &page["result"]["value"];
    let refused = std::mem::take(&mut *budget.refused.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(Rendered {
        url: value["url"].as_str().and_then(|u| Url::parse(u).ok()).unwrap_or_else(|| url.clone()),
        html: value["html"].as_str().unwrap_or_default().to_string(),
        requests: budget.requests.load(Ordering::Relaxed),
        bytes: budget.bytes.load(Ordering::Relaxed),
        refused,
        timed_out,
        elapsed: started.elapsed(),
    })
}

/// Pauses every request of the tab or frame attached as `session`, and has the frames it opens
/// attached paused, so that none of theirs escapes either.
async fn intercept(cdp: &Connection, session: &str) -> Result<(), CdpError> {
    let session = Some(session);
    cdp.call(session, "Fetch.enable", json!({"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})).await?;
    let attach = json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true});
    cdp.call(session, "Target.setAutoAttach", attach).await?;
    Ok(())
}

/// Lets a newly attached frame (or worker) run once its requests are intercepted.
fn start_frame(cdp: &Connection, frame: String) -> BoxFuture<'_, ()> {
    Box::pin(async move {
        if let Err(e) = intercept(cdp, &frame).await {
            // A target that cannot pause its requests (a worker) still meets the browser's dead
            // network: nothing it asks for leaves the browser.
            tracing::debug!("a frame's requests are not intercepted: {e}");
        }
        drop(cdp.call(Some(&frame), "Runtime.runIfWaitingForDebugger", json!({})).await);
    })
}

/// Decides one paused request: the page's own document from what was already fetched, a
/// refusal, or a fetch through the network whose answer the browser is then given.
#[allow(clippy::too_many_arguments)]
fn answer<'a>(
    cdp: &'a Connection,
    session: String,
    settings: &'a RenderSettings,
    budget: &'a Budget,
    paused: Paused,
    page: &Url,
    document: &mut Option<Answer>,
    network: &'a dyn Network,
) -> BoxFuture<'a, ()> {
    let Paused { request_id: id, resource_type: kind, request } = paused;
    let raw_url = request.url.as_str();
    let kind = kind.as_str();
    let fail = |reason: &'static str| -> BoxFuture<'a, ()> {
        let params = json!({"requestId": id.as_str(), "errorReason": reason});
        let session = session.clone();
        Box::pin(async move { drop(cdp.call(Some(&session), "Fetch.failRequest", params).await) })
    };
    if NOT_FETCHED.contains(&kind) {
        return fail("BlockedByClient");
    }
    let count = budget.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let Ok(url) = Url::parse(raw_url) else { return fail("Failed") };
    if count > settings.max_requests {
        budget.refuse(raw_url, format!("more than {} requests", settings.max_requests));
        return fail("BlockedByClient");
    }
    let is_document = kind == "Document";
    if is_document
        && same_document(&url, page)
        && let Some(answer) = document.take()
    {
        budget.bytes.fetch_add(answer.body.len(), Ordering::Relaxed);
        return Box::pin(async move { fulfil(cdp, &session, id, answer).await });
    }
    let left = settings.max_bytes.saturating_sub(budget.bytes.load(Ordering::Relaxed));
    if left == 0 {
        budget.refuse(raw_url, format!("past the {} bytes one page may fetch", settings.max_bytes));
        return fail("BlockedByClient");
    }
    let headers = request.headers.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect();
    let request = Request {
        method: request.method.unwrap_or_else(|| "GET".to_string()),
        body: request.post_data.map(String::into_bytes),
        url,
        headers,
        document: is_document,
        cap: left,
    };
    Box::pin(async move {
        let raw_url = request.url.to_string();
        match network.fetch(request).await {
            Ok(answer) => {
                budget.bytes.fetch_add(answer.body.len(), Ordering::Relaxed);
                fulfil(cdp, &session, id, answer).await
            }
            Err(Unanswered::Refused(reason)) => {
                budget.refuse(&raw_url, reason);
                let params = json!({"requestId": id, "errorReason": "AccessDenied"});
                drop(cdp.call(Some(&session), "Fetch.failRequest", params).await)
            }
            Err(Unanswered::Failed(_)) => {
                let params = json!({"requestId": id, "errorReason": "Failed"});
                drop(cdp.call(Some(&session), "Fetch.failRequest", params).await)
            }
        }
    })
}

/// The protocol events a render acts on, parsed once from the browser's JSON.
enum TabEvent {
    /// `Page.loadEventFired`.
    Loaded,
    /// `Fetch.requestPaused`: a request of the tab or a frame waits for krawlr's answer.
    Paused(Paused),
    /// `Target.attachedToTarget`: a frame or worker joined the tab, as this session.
    Attached { session: String },
    /// Any other event, or one whose parameters are not what the protocol documents.
    Other,
}

impl TabEvent {
    fn parse(method: &str, params: Value) -> TabEvent {
        match method {
            "Page.loadEventFired" => TabEvent::Loaded,
            "Fetch.requestPaused" => serde_json::from_value(params).map_or(TabEvent::Other, TabEvent::Paused),
            "Target.attachedToTarget" => match params["sessionId"].as_str() {
                Some(session) => TabEvent::Attached { session: session.to_string() },
                None => TabEvent::Other,
            },
            _ => TabEvent::Other,
        }
    }
}

/// `Fetch.requestPaused`'s parameters, as far as krawlr reads them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Paused {
    request_id: String,
    #[serde(default)]
    resource_type: String,
    #[serde(default)]
    request: PausedRequest,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PausedRequest {
    url: String,
    method: Option<String>,
    headers: serde_json::Map<String, Value>,
    post_data: Option<String>,
}

/// The page's own URL, fragments aside.
fn same_document(a: &Url, b: &Url) -> bool {
    a.as_str().split('#').next() == b.as_str().split('#').next()
}

/// Gives the browser `answer` for the paused request `id`.
async fn fulfil(cdp: &Connection, session: &str, id: String, answer: Answer) {
    use base64::Engine;
    // The body is given decoded and whole: its encoding and length headers no longer apply.
    let headers: Vec<Value> = answer
        .headers
        .iter()
        .filter(|(name, _)| {
            !["content-encoding", "content-length", "transfer-encoding", "connection"]
                .contains(&name.to_ascii_lowercase().as_str())
        })
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    let params = json!({
        "requestId": id,
        "responseCode": answer.status,
        "responseHeaders": headers,
        "body": base64::engine::general_purpose::STANDARD.encode(&answer.body),
    });
    drop(cdp.call(Some(session), "Fetch.fulfillRequest", params).await);
}
