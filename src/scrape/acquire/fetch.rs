//! The one polite HTTP fetcher every stage uses: robots.txt obeyed, per-host concurrency and
//! delay, connect/read/total timeouts, a body cap (counted after decompression, so a
//! compression bomb stops at the cap), redirects followed by hand so that each hop is checked
//! by the address guard and robots.txt, and charset decoding.

use crate::config::FetchSettings;
use crate::net::{GuardedClient, Lookup, NetError, system_lookup};
use crate::scrape::acquire::cpu::CpuPool;
use crate::scrape::acquire::robots;
use crate::scrape::acquire::robots::Robots;
use crate::scrape::model::{Response, Validators};
use reqwest::header::LOCATION;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};
use url::Url;

/// Sites whose robots.txt rules are kept at once, the least recently used forgotten first.
const ROBOTS_CACHED: usize = 4096;
/// What the robots.txt rules kept may cost together (see [`Robots::parse`]); past it the least
/// recently used are forgotten first.
const ROBOTS_CACHED_BYTES: usize = 32 << 20;
/// Sites whose spacing state is kept; past it, the idle ones are forgotten.
const HOSTS_TRACKED: usize = 4096;

/// Why a fetch failed: the network's refusals and failures ([`NetError`]), or the web's
/// answer (robots.txt, a status, redirects).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("robots.txt disallows {url}")]
    RobotsDisallowed { url: String },
    #[error("robots.txt of {url} is too costly to read: {over}")]
    RobotsOverLimits { url: String, over: crate::scrape::acquire::robots::OverLimits },
    #[error("robots.txt of {url} could not be read")]
    RobotsUnavailable {
        url: String,
        #[source]
        source: Box<FetchError>,
    },
    #[error("HTTP {status} from {url}")]
    Status { status: u16, url: String },
    /// A bot wall (a challenge, a captcha, an access-denied page) answered instead of the page.
    #[error("blocked: {url} answered with a {} wall ({})", wall.vendor, wall.evidence.join(", "))]
    Blocked { url: String, wall: crate::scrape::read::wall::Wall },
    #[error("more than {max} redirects from {url}")]
    TooManyRedirects { url: String, max: usize },
    #[error("bad redirect from {url}")]
    BadRedirect { url: String },
}

impl FetchError {
    /// Worth trying again later: timeouts, resets, 5xx, 429.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Net(NetError::Timeout { .. } | NetError::Network { .. })
            | FetchError::RobotsUnavailable { .. } => true,
            FetchError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }
}

/// What of a refused page is read to tell a wall by its marks.
const WALL_BYTES: usize = 64 * 1024;

/// The body, up to `cap` bytes; whether it was cut there.
async fn read_capped(response: &mut reqwest::Response, cap: usize) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// Per-host concurrency and spacing between request starts.
struct HostGate {
    concurrency: usize,
    delay: Duration,
    slots: Mutex<HashMap<String, Arc<HostSlot>>>,
}

struct HostSlot {
    permits: Arc<Semaphore>,
    next_start: tokio::sync::Mutex<Instant>,
}

impl HostGate {
    async fn enter(&self, host: &str, crawl_delay: Option<Duration>) -> OwnedSemaphorePermit {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            if slots.len() >= HOSTS_TRACKED {
                // Idle: no request holds or waits for the slot, and its spacing has run out.
                let now = Instant::now();
                slots.retain(|_, slot| {
                    Arc::strong_count(slot) > 1 || slot.next_start.try_lock().map_or(true, |next| *next > now)
                });
            }
            slots
                .entry(host.to_string())
                .or_insert_with(|| {
                    Arc::new(HostSlot {
                        permits: Arc::new(Semaphore::new(self.concurrency)),
                        next_start: tokio::sync::Mutex::new(Instant::now()),
                    })
                })
                .clone()
        };
        let permit = slot.permits.clone().acquire_owned().await.expect("never closed");
        let delay = crawl_delay.map_or(self.delay, |d| d.max(self.delay));
        if !delay.is_zero() {
            let mut next = slot.next_start.lock().await;
            tokio::time::sleep_until((*next).into()).await;
            *next = Instant::now() + delay;
        }
        permit
    }
}

/// A site's entry in the robots.txt cache: when it was made, its rules once fetched, and what
/// they cost (0 until they are in).
struct RobotsEntry {
    made: Instant,
    cell: Arc<OnceCell<Robots>>,
    cost: usize,
}

/// Sites' robots.txt rules, bounded by count and by what they cost together.
struct RobotsCache {
    entries: lru::LruCache<String, RobotsEntry>,
    cost: usize,
}

impl RobotsCache {
    fn new() -> RobotsCache {
        RobotsCache {
            entries: lru::LruCache::new(std::num::NonZeroUsize::new(ROBOTS_CACHED).expect("not zero")),
            cost: 0,
        }
    }

    /// The origin's cell: the one kept while fresh, else a new empty one.
    fn cell(&mut self, origin: &str, ttl: Duration) -> Arc<OnceCell<Robots>> {
        if let Some(entry) = self.entries.get(origin).filter(|e| e.made.elapsed() < ttl) {
            return entry.cell.clone();
        }
        let cell = Arc::new(OnceCell::new());
        let entry = RobotsEntry { made: Instant::now(), cell: cell.clone(), cost: 0 };
        if let Some((_, old)) = self.entries.push(origin.to_string(), entry) {
            self.cost -= old.cost;
        }
        cell
    }

    /// Charges `cell`'s rules to the origin (if its entry is still this cell), then forgets the
    /// least recently used entries until the total fits.
    fn charge(&mut self, origin: &str, cell: &Arc<OnceCell<Robots>>, cost: usize) {
        if let Some(entry) = self.entries.get_mut(origin).filter(|e| Arc::ptr_eq(&e.cell, cell) && e.cost == 0) {
            entry.cost = cost;
            self.cost += cost;
        }
        while self.cost > ROBOTS_CACHED_BYTES {
            let Some((_, old)) = self.entries.pop_lru() else { break };
            self.cost -= old.cost;
        }
    }
}

pub struct Fetcher {
    net: GuardedClient,
    settings: FetchSettings,
    hosts: HostGate,
    /// Origin → its robots.txt rules.
    robots: Mutex<RobotsCache>,
    /// Where the pages, feeds and robots.txt files it fetched are parsed and read, off the
    /// async runtime.
    pub(crate) cpu: CpuPool,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Fetcher, reqwest::Error> {
        Fetcher::with_lookup(settings, system_lookup())
    }

    /// A fetcher whose names are looked up by `lookup`, still through the address guard.
    pub fn with_lookup(settings: FetchSettings, lookup: Lookup) -> Result<Fetcher, reqwest::Error> {
        let builder = reqwest::Client::builder()
            .user_agent(&settings.user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .timeout(settings.total_timeout)
            .pool_max_idle_per_host(settings.per_host_concurrency);
        let net = GuardedClient::build(builder, settings.guard.clone(), lookup, settings.proxy.as_ref())?;
        Ok(Fetcher {
            net,
            hosts: HostGate {
                concurrency: settings.per_host_concurrency,
                delay: settings.per_host_delay,
                slots: Mutex::default(),
            },
            settings,
            robots: Mutex::new(RobotsCache::new()),
            cpu: CpuPool::per_core(),
        })
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// GETs `url` politely: robots.txt, host limits, guard and caps on every hop.
    pub async fn get(&self, url: &Url) -> Result<Response, FetchError> {
        self.get_within_deadline(url, true, self.settings.max_body_bytes).await
    }

    async fn get_within_deadline(&self, url: &Url, obey_robots: bool, cap: usize) -> Result<Response, FetchError> {
        match tokio::time::timeout(self.settings.total_timeout, self.follow(url, obey_robots, cap)).await {
            Ok(result) => result,
            Err(_) => Err(NetError::Timeout { url: url.to_string() }.into()),
        }
    }

    async fn follow(&self, start: &Url, obey_robots: bool, cap: usize) -> Result<Response, FetchError> {
        let started = Instant::now();
        let mut url = start.clone();
        for _ in 0..=self.settings.max_redirects {
            self.net.vet(&url).await?;
            let robots = if obey_robots { Some(self.robots_for(&url).await?) } else { None };
            let rules = robots.as_deref().and_then(OnceCell::get);
            if let Some(Robots::OverLimits(over)) = rules {
                return Err(FetchError::RobotsOverLimits { url: url.to_string(), over: over.clone() });
            }
            if rules.is_some_and(|r| !r.allowed(url.as_str())) {
                return Err(FetchError::RobotsDisallowed { url: url.to_string() });
            }
            let crawl_delay = rules.and_then(Robots::delay);
            let host = url.host_str().unwrap_or_default().to_string();
            let _permit = self.hosts.enter(&host, crawl_delay).await;
            let mut response =
                self.net.client.get(url.clone()).send().await.map_err(|e| crate::net::classify(&url, e))?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| FetchError::BadRedirect { url: url.to_string() })?;
                url = next;
                continue;
            }
            if !status.is_success() {
                let code = status.as_u16();
                // A page refused may be a bot wall: its marks say so, and a wall is no outage.
                if obey_robots && crate::scrape::read::wall::worth_reading(code) {
                    let headers = response.headers().clone();
                    let (body, _) = read_capped(&mut response, WALL_BYTES).await.unwrap_or_default();
                    let html = String::from_utf8_lossy(&body);
                    let verdict = crate::scrape::read::wall::classify(
                        code,
                        &headers,
                        &html,
                        crate::scrape::read::wall::visible_text_len(&html),
                    );
                    if let crate::scrape::read::wall::Verdict::Blocked(wall) = verdict {
                        return Err(FetchError::Blocked { url: url.to_string(), wall });
                    }
                }
                return Err(FetchError::Status { status: code, url: url.to_string() });
            }
            let (body, truncated) = read_capped(&mut response, cap).await.map_err(|e| crate::net::classify(&url, e))?;
            return Ok(Response {
                url,
                status: status.as_u16(),
                headers: response.headers().clone(),
                body,
                truncated,
                elapsed: started.elapsed(),
            });
        }
        Err(FetchError::TooManyRedirects { url: start.to_string(), max: self.settings.max_redirects })
    }

    /// One request as a browser made it (any method, its headers and body), through the
    /// address guard and the host limits but without robots.txt (which rules pages, not the
    /// scripts and data a page loads) and without following redirects: a redirect is answered
    /// as such, and its next hop comes back as a request of its own. krawlr's user agent is
    /// sent, never the browser's.
    pub async fn exchange(
        &self,
        method: &str,
        url: &Url,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
        cap: usize,
    ) -> Result<Response, FetchError> {
        const NOT_FORWARDED: &[&str] =
            &["host", "user-agent", "connection", "content-length", "accept-encoding", "cookie", "transfer-encoding"];
        let started = Instant::now();
        self.net.vet(url).await?;
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let _permit = self.hosts.enter(url.host_str().unwrap_or_default(), None).await;
        let mut request = self.net.client.request(method, url.clone());
        for (name, value) in headers.iter().filter(|(n, _)| !NOT_FORWARDED.contains(&n.to_ascii_lowercase().as_str())) {
            // A header no HTTP client would send is left out rather than failing the request.
            if let (Ok(name), Ok(value)) = (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(value),
            ) {
                request = request.header(name, value);
            }
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let exchange = async {
            let mut response = request.send().await.map_err(|e| crate::net::classify(url, e))?;
            let (body, truncated) = read_capped(&mut response, cap).await.map_err(|e| crate::net::classify(url, e))?;
            Ok(Response {
                url: url.clone(),
                status: response.status().as_u16(),
                headers: response.headers().clone(),
                body,
                truncated,
                elapsed: started.elapsed(),
            })
        };
        match tokio::time::timeout(self.settings.total_timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(NetError::Timeout { url: url.to_string() }.into()),
        }
    }

    /// Whether `url` is unchanged since it sent `validators`: a conditional GET
    /// (`If-None-Match`, `If-Modified-Since`) answered `304 Not Modified`. Anything else (a
    /// `200`, an error, a page robots.txt now disallows, no validator to send) is "changed".
    pub async fn not_modified(&self, url: &Url, validators: &Validators) -> bool {
        let headers: Vec<(String, String)> =
            [("if-none-match", &validators.etag), ("if-modified-since", &validators.last_modified)]
                .into_iter()
                .filter_map(|(name, value)| Some((name.to_string(), value.clone()?)))
                .collect();
        if headers.is_empty() {
            return false;
        }
        let allowed = self.permits(url).await.unwrap_or(false);
        allowed && self.exchange("GET", url, &headers, None, WALL_BYTES).await.is_ok_and(|r| r.status == 304)
    }

    /// Whether robots.txt lets krawlr fetch `url` (its origin's file fetched once and kept).
    pub async fn permits(&self, url: &Url) -> Result<bool, FetchError> {
        Ok(self.robots_for(url).await?.get().is_some_and(|robots| robots.allowed(url.as_str())))
    }

    /// Whether `url`'s origin serves a robots.txt, and the sitemaps it names.
    pub async fn robots_info(&self, url: &Url) -> Result<(bool, Vec<String>), FetchError> {
        let cell = self.robots_for(url).await?;
        Ok(cell.get().map_or((false, Vec::new()), |robots| (robots.exists(), robots.sitemaps().to_vec())))
    }

    /// The robots.txt rules of `url`'s origin, fetched once per origin and kept.
    async fn robots_for(&self, url: &Url) -> Result<Arc<OnceCell<Robots>>, FetchError> {
        let origin = url.origin().ascii_serialization();
        let cell = self.robots.lock().unwrap_or_else(|p| p.into_inner()).cell(&origin, self.settings.robots_ttl);
        cell.get_or_try_init(|| async {
            let robots_url = Url::parse(&format!("{origin}/robots.txt")).expect("origin + path parses");
            match Box::pin(self.get_within_deadline(&robots_url, false, robots::MAX_BYTES)).await {
                Ok(page) => {
                    let (robots, cost) = self.cpu.run(move || Robots::parse(&page.body)).await;
                    self.robots.lock().unwrap_or_else(|p| p.into_inner()).charge(&origin, &cell, cost);
                    Ok(robots)
                }
                // RFC 9309: a 4xx means there are no rules; a 5xx or no answer means "try later".
                Err(FetchError::Status { status, .. }) if (400..500).contains(&status) && status != 429 => {
                    Ok(Robots::Absent)
                }
                Err(e) if e.is_transient() => {
                    Err(FetchError::RobotsUnavailable { url: robots_url.to_string(), source: Box::new(e) })
                }
                Err(e) => Err(e),
            }
        })
        .await?;
        Ok(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_is_what_may_pass() {
        let status = |s| FetchError::Status { status: s, url: "u".into() };
        assert!(status(503).is_transient());
        assert!(status(429).is_transient());
        assert!(!status(404).is_transient());
        assert!(!FetchError::Net(NetError::Unresolvable { host: "x".into() }).is_transient());
        assert!(!FetchError::RobotsDisallowed { url: "x".into() }.is_transient());
    }
}
