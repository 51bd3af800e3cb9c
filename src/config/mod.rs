//! Typed settings: defaults, then an optional `.env`, then the environment. Every value is
//! validated once at start-up; an invalid one stops the start with a message naming it.

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

pub mod declared;

use declared::*;

#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}={value:?}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Gcp,
}

/// How hard SQLite pushes each commit to disk (`KRAWLR_SQLITE_SYNC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSync {
    /// WAL with `synchronous=NORMAL`: a commit survives a crash of the process, not a power loss.
    Normal,
    /// `synchronous=FULL`: every commit is fsynced before it returns.
    Full,
}

/// The metadata services' addresses: AWS, GCP and Azure at 169.254.169.254, AWS's IPv6 one.
pub const METADATA_ADDRESSES: [IpAddr; 2] =
    [IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)), IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254))];

/// What the address guard (`net::guard`) lets through: no private destination by default, every one with
/// `allow_private` (local development, tests), or only the listed private networks (an intranet
/// host one means to crawl, while metadata and the rest stay refused).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardPolicy {
    pub allow_private: bool,
    pub allowed_networks: Vec<IpNet>,
    /// Addresses taken for public ones. No setting sets this: it lets a test stand a site
    /// served on this machine in for a public one (with a stand-in DNS), since no allowed
    /// network may open loopback.
    pub treat_as_public: Vec<IpAddr>,
}

/// Whether `net` holds an address no allowed network may open (loopback, unspecified, metadata: what `net::guard` never opens).
pub fn opens_what_stays_closed(net: &IpNet) -> bool {
    let probes = [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ];
    let loopback_v4: IpNet = "127.0.0.0/8".parse().expect("a network");
    let mapped = [Ipv4Addr::LOCALHOST, Ipv4Addr::new(169, 254, 169, 254)].map(|v4| IpAddr::V6(v4.to_ipv6_mapped()));
    probes.iter().chain(&METADATA_ADDRESSES).chain(&mapped).any(|ip| net.contains(ip))
        || matches!((net, &loopback_v4), (IpNet::V4(n), IpNet::V4(l)) if n.contains(l) || l.contains(n))
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub backend: Backend,
    pub listen: SocketAddr,
    /// Where a process without the api serves `/metrics`, `/healthz` and `/readyz`.
    pub metrics_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub api_key: Option<String>,
    pub gcp_project_id: Option<String>,
    /// `host:port` of the Pub/Sub emulator; Firestore's (`FIRESTORE_EMULATOR_HOST`) is read by
    /// its client.
    pub pubsub_emulator_host: Option<String>,
    /// Cloud Monitoring's address, for `krawlr queue stats` on gcp (`KRAWLR_MONITORING_URL`).
    pub monitoring_url: Option<url::Url>,
    pub topics: Topics,
    pub queue: QueueSettings,
    pub worker: WorkerSettings,
    pub fetch: FetchSettings,
    pub render: RenderSettings,
    pub sec: SecSettings,
    pub webhooks: WebhookSettings,
    /// The enrichment model, when one is configured.
    pub llm: Option<LlmSettings>,
    /// Largest request body the API reads.
    pub max_request_bytes: usize,
    /// How the API treats its connections.
    pub connections: ConnectionSettings,
    /// How often a job's event stream (`GET …/events`) reads the job.
    pub events_poll: Duration,
    pub limits: LimitSettings,
    pub sqlite_sync: SqliteSync,
    pub log_filter: String,
    /// One JSON object per log line (`KRAWLR_LOG_FORMAT=json`) instead of text.
    pub log_json: bool,
}

/// Topic and subscription names, kept from the original.
#[derive(Debug, Clone)]
pub struct Topics {
    pub jobs: String,
    pub progress: String,
    pub completed: String,
    pub dead_letter: String,
    pub jobs_subscription: String,
    pub dead_letter_subscription: String,
    /// Keeps dead-lettered messages for `krawlr queue redrive` (`{dead_letter}-redrive`).
    pub redrive_subscription: String,
    /// The webhooks process's subscriptions to `completed` and `progress`.
    pub completed_subscription: String,
    pub progress_subscription: String,
}

impl Topics {
    /// The four topics krawlr publishes on.
    pub fn topic_names(&self) -> [&str; 4] {
        [&self.jobs, &self.progress, &self.completed, &self.dead_letter]
    }

    /// The subscriptions krawlr consumes (or, for redrive, keeps).
    pub fn subscription_names(&self) -> [&str; 5] {
        [
            &self.jobs_subscription,
            &self.dead_letter_subscription,
            &self.redrive_subscription,
            &self.completed_subscription,
            &self.progress_subscription,
        ]
    }
}

#[derive(Debug, Clone)]
pub struct QueueSettings {
    pub ack_deadline: Duration,
    pub max_delivery_attempts: u32,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub concurrency: usize,
    pub shutdown_grace: Duration,
    /// Longest pause between two pulls of an empty queue.
    pub poll_interval: Duration,
    /// An unfinished job not updated for this long is republished (its message may be lost).
    pub reconcile_after: Duration,
    pub reconcile_interval: Duration,
    /// Jobs of one site running at once across every worker (0: no limit).
    pub jobs_per_host: u32,
    /// One attempt of a job at most; past it the attempt is abandoned as a transient failure.
    pub job_timeout: Duration,
    /// How long finished jobs, results and delivery logs are kept (`None`: for ever).
    pub retention: Option<Duration>,
}

/// The API's connections: how long a client may take, how many may be open.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// How long requests in flight may finish after SIGTERM (`KRAWLR_SHUTDOWN_GRACE_SECONDS`).
    pub shutdown_grace: Duration,
}

/// What one key may do.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Requests a second per key and api process (0: no limit).
    pub rate_per_second: f64,
    pub burst: u32,
    /// Unfinished jobs per key (0: no limit).
    pub max_active_jobs: u64,
    /// The most pages a job may ask for in `options.max_pages` (more answers 422).
    pub max_pages_limit: u32,
    /// Webhook endpoints per key.
    pub max_webhook_endpoints: usize,
    /// Monitors per key.
    pub max_monitors: usize,
    /// The shortest interval a monitor may ask for.
    pub monitor_min_interval: Duration,
    /// How often a scheduler asks the store for due monitors.
    pub monitor_poll: Duration,
    /// Event streams (`GET …/events`) one key may hold open at once, per api process.
    pub max_event_streams: usize,
    /// An event stream ends after this long; the client reconnects with `Last-Event-ID`.
    pub event_stream_lifetime: Duration,
}

/// The webhook sender (`krawlr webhooks`).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Delay before each attempt of a delivery: the first is usually zero, then the retries.
    pub schedule: Vec<Duration>,
    /// One attempt, connection included.
    pub timeout: Duration,
    /// A report larger than this is left out of the payload, which keeps its URL.
    pub max_report_bytes: usize,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// Longest pause between two looks for due deliveries.
    pub poll_interval: Duration,
    /// The API's public base URL, to make the payload's `result_url` absolute.
    pub public_url: Option<url::Url>,
    /// Base64 of the 32-byte key that encrypts webhook secrets at rest (`KRAWLR_SECRET_KEY`);
    /// the embedded backend keeps a generated one in its data dir when this is unset.
    pub secret_key: Option<String>,
}

/// `"0s,5s,5m"`: each entry a number with `ms`, `s`, `m`, `h` or `d` (bare numbers are seconds).
fn parse_schedule(raw: &str) -> Option<Vec<Duration>> {
    raw.split(',')
        .map(|part| {
            let part = part.trim();
            let split = part.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(part.len());
            let (number, unit) = part.split_at(split);
            let n: f64 = number.trim().parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
            let seconds = match unit {
                "ms" => n / 1000.0,
                "" | "s" => n,
                "m" => n * 60.0,
                "h" => n * 3600.0,
                "d" => n * 86_400.0,
                _ => return None,
            };
            Some(Duration::from_secs_f64(seconds))
        })
        .collect::<Option<Vec<_>>>()
        .filter(|s| (1..=50).contains(&s.len()))
}

/// Which pages are rendered in a browser before they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RenderMode {
    /// Only the pages that show their content once their scripts run.
    Auto,
    /// Every page.
    Always,
    Off,
}

/// The headless browser that renders script-built pages.
#[derive(Debug, Clone)]
pub struct RenderSettings {
    pub mode: RenderMode,
    /// The browser's executable; `None` when none was found (rendering is then off).
    pub chromium: Option<PathBuf>,
    /// Why rendering is off when it was not asked to be.
    pub unavailable: Option<String>,
    pub concurrency: usize,
    pub timeout: Duration,
    pub max_requests: usize,
    pub max_bytes: usize,
}

/// An OpenAI-compatible chat-completions endpoint.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
}

/// SEC EDGAR's two hosts and the User-Agent the SEC asks for (a contact).
#[derive(Debug, Clone)]
pub struct SecSettings {
    pub www_url: url::Url,
    pub data_url: url::Url,
    pub user_agent: String,
}

#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub user_agent: String,
    /// Which destinations may be fetched (company sites and webhooks alike).
    pub guard: GuardPolicy,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub total_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    pub per_host_concurrency: usize,
    pub per_host_delay: Duration,
    pub max_pages: u32,
    /// All pages of one crawl together.
    pub crawl_max_bytes: usize,
    /// One crawl, sitemaps included.
    pub crawl_timeout: Duration,
    /// An external news feed, `{query}` standing for the company's name.
    pub news_feed_url: Option<String>,
    /// How long a site's robots.txt rules are kept (RFC 9309 suggests at most 24 hours).
    pub robots_ttl: Duration,
    /// The HTTP proxy every outbound request goes through (`KRAWLR_PROXY_URL`); the process
    /// environment's `HTTP(S)_PROXY` is never used.
    pub proxy: Option<url::Url>,
}

impl Settings {
    /// Reads `.env` (if present, never overriding the environment), then the environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        let _ = dotenvy::dotenv();
        Settings::from_vars(std::env::vars().collect())
    }

    pub fn from_vars(vars: HashMap<String, String>) -> Result<Settings, ConfigError> {
        let env = Vars(vars);
        let gcp_project_id = env.string(&GCP_PROJECT_ID);
        let backend = match env.get(&BACKEND) {
            None if gcp_project_id.is_some() => Backend::Gcp,
            None => Backend::Embedded,
            Some("embedded") => Backend::Embedded,
            Some("gcp") => Backend::Gcp,
            Some(other) => {
                return Err(env.invalid(&BACKEND, other, "expected embedded or gcp"));
            }
        };
        let topics = topics(&env);
        let queue = queue(&env)?;
        let worker = worker(&env, &queue)?;
        let fetch = fetch(&env)?;
        let render = render(&env)?;
        let sec = sec(&env)?;
        let llm = match env.get(&LLM_BASE_URL) {
            None => None,
            Some(base) => {
                url::Url::parse(base).map_err(|_| env.invalid(&LLM_BASE_URL, base, "expected a URL"))?;
                let model = env
                    .string(&LLM_MODEL)
                    .ok_or_else(|| env.invalid(&LLM_MODEL, "", "required when KRAWLR_LLM_BASE_URL is set"))?;
                Some(LlmSettings { base_url: base.to_string(), api_key: env.string(&LLM_API_KEY), model })
            }
        };
        let webhooks = webhooks(&env)?;
        let sqlite_sync = match env.text(&SQLITE_SYNC) {
            "normal" => SqliteSync::Normal,
            "full" => SqliteSync::Full,
            other => {
                return Err(env.invalid(&SQLITE_SYNC, other, "expected normal or full"));
            }
        };
        let listen_raw = env.text(&LISTEN);
        let listen = listen_raw
            .parse()
            .map_err(|_| env.invalid(&LISTEN, listen_raw, "expected IP:PORT, e.g. 127.0.0.1:8000"))?;
        if backend == Backend::Gcp {
            if gcp_project_id.is_none() {
                return Err(env.invalid(&GCP_PROJECT_ID, "", "required by the gcp backend (KRAWLR_BACKEND=gcp)"));
            }
            if queue.ack_deadline < Duration::from_secs(10) {
                let value = env.get(&ACK_DEADLINE_SECONDS).unwrap_or_default();
                return Err(env.invalid(&ACK_DEADLINE_SECONDS, value, "Pub/Sub needs at least 10 seconds"));
            }
            if queue.max_delivery_attempts < 5 {
                let value = env.get(&MAX_DELIVERY_ATTEMPTS).unwrap_or_default();
                return Err(env.invalid(&MAX_DELIVERY_ATTEMPTS, value, "Pub/Sub needs 5 to 100"));
            }
        }
        let api_key = env.string(&API_KEY);
        if let Some(key) = &api_key {
            if key.len() < 16 {
                return Err(env.invalid(&API_KEY, "<hidden>", "must be at least 16 characters"));
            }
        }
        let metrics_listen = match env.get(&METRICS_LISTEN) {
            None => None,
            Some(raw) => Some(raw.parse().map_err(|_| env.invalid(&METRICS_LISTEN, raw, "expected IP:PORT"))?),
        };
        let max_pages_limit =
            env.count_or(&MAX_PAGES_LIMIT, declared::count_default(&MAX_PAGES_LIMIT).max(fetch.max_pages.into()))?;
        if fetch.max_pages > max_pages_limit {
            let value = env.get(&MAX_PAGES).unwrap_or_default();
            return Err(env.invalid(&MAX_PAGES, value, "must not be above KRAWLR_MAX_PAGES_LIMIT"));
        }
        Ok(Settings {
            backend,
            listen,
            metrics_listen,
            data_dir: env.text(&DATA_DIR).into(),
            api_key,
            gcp_project_id,
            pubsub_emulator_host: env.string(&PUBSUB_EMULATOR_HOST),
            monitoring_url: match env.get(&MONITORING_URL) {
                None => None,
                Some(raw) => {
                    Some(url::Url::parse(raw).map_err(|_| env.invalid(&MONITORING_URL, raw, "expected a URL"))?)
                }
            },
            topics,
            queue,
            worker,
            fetch,
            render,
            sec,
            webhooks,
            llm,
            max_request_bytes: env.count(&MAX_REQUEST_BYTES)?,
            connections: ConnectionSettings {
                header_read_timeout: env.seconds(&HEADER_READ_TIMEOUT_SECONDS)?,
                idle_timeout: env.seconds(&IDLE_TIMEOUT_SECONDS)?,
                max_connections: env.count(&MAX_CONNECTIONS)?,
                shutdown_grace: env.seconds(&SHUTDOWN_GRACE_SECONDS)?,
            },
            events_poll: env.seconds(&EVENTS_POLL_SECONDS)?,
            limits: LimitSettings {
                rate_per_second: env.number(&RATE_LIMIT_PER_SECOND)?,
                burst: env.count(&RATE_LIMIT_BURST)?,
                max_active_jobs: env.count(&MAX_ACTIVE_JOBS_PER_KEY)?,
                max_pages_limit,
                max_webhook_endpoints: env.count(&MAX_WEBHOOK_ENDPOINTS_PER_KEY)?,
                max_monitors: env.count(&MAX_MONITORS_PER_KEY)?,
                monitor_min_interval: env.seconds(&MONITOR_MIN_INTERVAL_SECONDS)?,
                monitor_poll: env.seconds(&MONITOR_POLL_SECONDS)?,
                max_event_streams: env.count(&MAX_EVENT_STREAMS_PER_KEY)?,
                event_stream_lifetime: env.seconds(&EVENT_STREAM_MAX_SECONDS)?,
            },
            sqlite_sync,
            log_filter: env.text(&LOG).to_string(),
            log_json: match env.text(&LOG_FORMAT) {
                "text" => false,
                "json" => true,
                other => return Err(env.invalid(&LOG_FORMAT, other, "expected text or json")),
            },
        })
    }
}

/// The topics and subscriptions, kept from the original.
fn topics(env: &Vars) -> Topics {
    let jobs = env.text(&PUBSUB_SCRAPE_JOBS_TOPIC).to_string();
    let topics = Topics {
        jobs_subscription: env.string(&PUBSUB_SCRAPE_JOBS_SUBSCRIPTION).unwrap_or(format!("{jobs}-sub")),
        dead_letter: env.string(&PUBSUB_DEAD_LETTER_TOPIC).unwrap_or(format!("{jobs}-dead-letter")),
        dead_letter_subscription: env
            .string(&PUBSUB_DEAD_LETTER_SUBSCRIPTION)
            .unwrap_or(format!("{jobs}-dead-letter-sub")),
        redrive_subscription: String::new(),
        progress: env.text(&PUBSUB_SCRAPE_PROGRESS_TOPIC).to_string(),
        completed: env.text(&PUBSUB_SCRAPE_COMPLETED_TOPIC).to_string(),
        jobs,
        completed_subscription: String::new(),
        progress_subscription: String::new(),
    };
    Topics {
        completed_subscription: env
            .string(&PUBSUB_SCRAPE_COMPLETED_SUBSCRIPTION)
            .unwrap_or(format!("{}-webhooks", topics.completed)),
        progress_subscription: env
            .string(&PUBSUB_SCRAPE_PROGRESS_SUBSCRIPTION)
            .unwrap_or(format!("{}-webhooks", topics.progress)),
        redrive_subscription: format!("{}-redrive", topics.dead_letter),
        ..topics
    }
}

fn queue(env: &Vars) -> Result<QueueSettings, ConfigError> {
    let queue = QueueSettings {
        ack_deadline: env.seconds(&ACK_DEADLINE_SECONDS)?,
        max_delivery_attempts: env.count(&MAX_DELIVERY_ATTEMPTS)?,
        min_backoff: env.seconds(&RETRY_MIN_BACKOFF_SECONDS)?,
        max_backoff: env.seconds(&RETRY_MAX_BACKOFF_SECONDS)?,
    };
    if queue.max_backoff < queue.min_backoff {
        let value = queue.max_backoff.as_secs_f64().to_string();
        return Err(env.invalid(
            &RETRY_MAX_BACKOFF_SECONDS,
            &value,
            "must not be below KRAWLR_RETRY_MIN_BACKOFF_SECONDS",
        ));
    }
    Ok(queue)
}

fn worker(env: &Vars, queue: &QueueSettings) -> Result<WorkerSettings, ConfigError> {
    let worker = WorkerSettings {
        concurrency: env.count(&WORKER_CONCURRENCY)?,
        shutdown_grace: env.seconds(&SHUTDOWN_GRACE_SECONDS)?,
        poll_interval: env.seconds(&POLL_INTERVAL_SECONDS)?,
        // Longer than any lease plus any backoff, so a healthy job is never republished.
        reconcile_after: env.seconds_or(
            &RECONCILE_AFTER_SECONDS,
            (queue.ack_deadline + queue.max_backoff).as_secs_f64()
                + declared::seconds_default(&RECONCILE_AFTER_SECONDS),
        )?,
        reconcile_interval: env.seconds(&RECONCILE_INTERVAL_SECONDS)?,
        jobs_per_host: env.count(&JOBS_PER_HOST)?,
        job_timeout: env.seconds(&JOB_TIMEOUT_SECONDS)?,
        retention: Some(env.number(&RETENTION_DAYS)?)
            .filter(|days| *days > 0.0)
            .map(|days| Duration::from_secs_f64(days * 86_400.0)),
    };
    Ok(worker)
}

fn fetch(env: &Vars) -> Result<FetchSettings, ConfigError> {
    let fetch = FetchSettings {
        user_agent: env
            .string(&USER_AGENT)
            .unwrap_or(format!("krawlr/{} (+https://github.com/krawlr/krawlr)", env!("CARGO_PKG_VERSION"))),
        guard: GuardPolicy {
            allow_private: env.flag(&ALLOW_PRIVATE_NETWORKS)?,
            allowed_networks: env.networks(&ALLOWED_NETWORKS)?,
            treat_as_public: Vec::new(),
        },
        connect_timeout: env.seconds(&CONNECT_TIMEOUT_SECONDS)?,
        read_timeout: env.seconds(&READ_TIMEOUT_SECONDS)?,
        total_timeout: env.seconds(&FETCH_TIMEOUT_SECONDS)?,
        max_body_bytes: env.count(&FETCH_MAX_BYTES)?,
        max_redirects: env.count(&MAX_REDIRECTS)?,
        per_host_concurrency: env.count(&PER_HOST_CONCURRENCY)?,
        per_host_delay: env.seconds(&PER_HOST_DELAY_SECONDS)?,
        max_pages: env.count(&MAX_PAGES)?,
        crawl_max_bytes: env.count(&CRAWL_MAX_BYTES)?,
        crawl_timeout: env.seconds(&CRAWL_TIMEOUT_SECONDS)?,
        robots_ttl: env.seconds(&ROBOTS_TTL_SECONDS)?,
        proxy: match env.get(&PROXY_URL) {
            None => None,
            Some(raw) => match url::Url::parse(raw) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
                _ => return Err(env.invalid(&PROXY_URL, raw, "expected an http:// or https:// proxy URL")),
            },
        },
        news_feed_url: match env.get(&NEWS_FEED_URL) {
            None => None,
            Some(t) if t.contains("{query}") && url::Url::parse(&t.replace("{query}", "q")).is_ok() => {
                Some(t.to_string())
            }
            Some(t) => {
                return Err(env.invalid(&NEWS_FEED_URL, t, "expected a URL with a {query} placeholder"));
            }
        },
    };
    Ok(fetch)
}

fn render(env: &Vars) -> Result<RenderSettings, ConfigError> {
    let asked = match env.text(&RENDER) {
        "auto" => RenderMode::Auto,
        "always" => RenderMode::Always,
        "off" => RenderMode::Off,
        other => return Err(env.invalid(&RENDER, other, "expected auto, always or off")),
    };
    let chromium = match env.get(&CHROMIUM) {
        Some(path) => Some(PathBuf::from(path)),
        None => ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
            .iter()
            .find_map(|name| on_path(name)),
    };
    let (mode, unavailable) = match (&chromium, asked) {
        (_, RenderMode::Off) => (RenderMode::Off, None),
        (Some(path), mode) if path.is_file() => (mode, None),
        // Asked for by name, a missing browser is a mistake to say at start, not a silent `off`.
        (_, RenderMode::Always) => {
            return Err(env.invalid(&RENDER, "always", "no Chromium found: install one or set KRAWLR_CHROMIUM"));
        }
        (Some(path), _) => (RenderMode::Off, Some(format!("the Chromium at {} does not exist", path.display()))),
        (None, _) => (RenderMode::Off, Some("no Chromium was found (set KRAWLR_CHROMIUM)".to_string())),
    };
    Ok(RenderSettings {
        mode,
        chromium,
        unavailable,
        concurrency: env.count(&RENDER_CONCURRENCY)?,
        timeout: env.seconds(&RENDER_TIMEOUT_SECONDS)?,
        max_requests: env.count(&RENDER_MAX_REQUESTS)?,
        max_bytes: env.count(&RENDER_MAX_BYTES)?,
    })
}

/// An executable named `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|path| path.is_file())
}

fn sec(env: &Vars) -> Result<SecSettings, ConfigError> {
    let sec_url = |setting: &Setting| {
        let raw = env.text(setting);
        url::Url::parse(raw).map_err(|_| env.invalid(setting, raw, "expected a URL"))
    };
    let sec = SecSettings {
        www_url: sec_url(&SEC_WWW_URL)?,
        data_url: sec_url(&SEC_DATA_URL)?,
        user_agent: env.string(&SEC_USER_AGENT).unwrap_or(format!(
            "krawlr/{} (set KRAWLR_SEC_USER_AGENT to your name and email)",
            env!("CARGO_PKG_VERSION")
        )),
    };
    Ok(sec)
}

fn webhooks(env: &Vars) -> Result<WebhookSettings, ConfigError> {
    let schedule_raw = env.text(&WEBHOOK_SCHEDULE);
    let webhooks = WebhookSettings {
        schedule: parse_schedule(schedule_raw).ok_or_else(|| {
            env.invalid(&WEBHOOK_SCHEDULE, schedule_raw, "expected 1 to 50 delays such as 0s,5s,5m,2h")
        })?,
        timeout: env.seconds(&WEBHOOK_TIMEOUT_SECONDS)?,
        max_report_bytes: env.count(&WEBHOOK_MAX_REPORT_BYTES)?,
        concurrency: env.count(&WEBHOOK_CONCURRENCY)?,
        poll_interval: env.seconds(&WEBHOOK_POLL_INTERVAL_SECONDS)?,
        public_url: match env.get(&PUBLIC_URL) {
            None => None,
            Some(raw) => Some(url::Url::parse(raw).map_err(|_| env.invalid(&PUBLIC_URL, raw, "expected a URL"))?),
        },
        secret_key: env.string(&SECRET_KEY),
    };
    Ok(webhooks)
}

struct Vars(HashMap<String, String>);

impl Vars {
    /// A set, non-empty value.
    fn get(&self, setting: &Setting) -> Option<&str> {
        self.0.get(setting.name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn string(&self, setting: &Setting) -> Option<String> {
        self.get(setting).map(str::to_string)
    }

    /// A [`Kind::Text`] setting whose declared default is the value applied.
    fn text(&self, setting: &Setting) -> &str {
        let Kind::Text { default } = setting.kind else { unreachable!("{} is text", setting.name) };
        self.get(setting).unwrap_or(default)
    }

    fn invalid(&self, setting: &Setting, value: &str, reason: &str) -> ConfigError {
        ConfigError { name: setting.name, value: value.to_string(), reason: reason.to_string() }
    }

    /// A [`Kind::Count`] setting, in the type its field has.
    fn count<T: TryFrom<u64>>(&self, setting: &Setting) -> Result<T, ConfigError> {
        let Kind::Count { default, .. } = setting.kind else { unreachable!("{} is a count", setting.name) };
        self.count_or(setting, default)
    }

    /// A [`Kind::Count`] setting whose default depends on other settings.
    fn count_or<T: TryFrom<u64>, D: Into<u64>>(&self, setting: &Setting, default: D) -> Result<T, ConfigError> {
        let Kind::Count { min, max, .. } = setting.kind else { unreachable!("{} is a count", setting.name) };
        let value = match self.get(setting) {
            None => default.into(),
            Some(raw) => match raw.parse::<u64>() {
                Ok(v) if (min..=max).contains(&v) => v,
                _ => return Err(self.invalid(setting, raw, &format!("expected a whole number from {min} to {max}"))),
            },
        };
        T::try_from(value).map_err(|_| self.invalid(setting, &value.to_string(), "too large for this machine"))
    }

    /// A [`Kind::Seconds`] setting.
    fn seconds(&self, setting: &Setting) -> Result<Duration, ConfigError> {
        let Kind::Seconds { default, .. } = setting.kind else { unreachable!("{} is in seconds", setting.name) };
        self.seconds_or(setting, default)
    }

    /// A [`Kind::Seconds`] setting whose default depends on other settings.
    fn seconds_or(&self, setting: &Setting, default: f64) -> Result<Duration, ConfigError> {
        let Kind::Seconds { min, max, .. } = setting.kind else { unreachable!("{} is in seconds", setting.name) };
        let Some(raw) = self.get(setting) else {
            return Ok(Duration::from_secs_f64(default));
        };
        match raw.parse::<f64>() {
            Ok(v) if (min..=max).contains(&v) => Ok(Duration::from_secs_f64(v)),
            _ => Err(self.invalid(setting, raw, &format!("expected seconds from {min} to {max}"))),
        }
    }

    /// A [`Kind::Number`] setting.
    fn number(&self, setting: &Setting) -> Result<f64, ConfigError> {
        let Kind::Number { default, min, max } = setting.kind else { unreachable!("{} is a number", setting.name) };
        let Some(raw) = self.get(setting) else {
            return Ok(default);
        };
        match raw.parse::<f64>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(self.invalid(setting, raw, &format!("expected a number from {min} to {max}"))),
        }
    }

    /// Comma-separated networks (`10.20.0.0/16`) or single addresses.
    fn networks(&self, setting: &Setting) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        let Some(raw) = self.get(setting) else {
            return Ok(Vec::new());
        };
        raw.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| {
                let net = n
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        self.invalid(setting, raw, "expected addresses or networks like 10.20.0.0/16, comma-separated")
                    })?;
                if opens_what_stays_closed(&net) {
                    let reason = format!(
                        "{net} holds loopback or a metadata address, which no allowed network opens \
                         (KRAWLR_ALLOW_PRIVATE_NETWORKS=true opens everything, for local use)"
                    );
                    return Err(self.invalid(setting, raw, &reason));
                }
                Ok(net)
            })
            .collect()
    }

    /// A [`Kind::Flag`] setting.
    fn flag(&self, setting: &Setting) -> Result<bool, ConfigError> {
        let Kind::Flag { default } = setting.kind else { unreachable!("{} is a flag", setting.name) };
        match self.get(setting).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => Err(self.invalid(setting, other, "expected true or false")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A default lives in its declaration only: `from_vars` writes none of its own (a literal
    /// after a setting's name), and the first number the README shows is the declared one (a
    /// default computed from other settings shows its formula with the declared term).
    #[test]
    fn defaults_are_written_once() {
        let code = include_str!("mod.rs");
        let code = &code[..code.find("#[cfg(test)]").unwrap_or(code.len())];
        for (at, line) in code.lines().enumerate() {
            let reads_setting = line.contains("env.get(&") || line.contains("env.string(&");
            assert!(
                !(reads_setting && line.contains("unwrap_or(\"")),
                "config/mod.rs:{}: a default written beside its declaration: {line}",
                at + 1
            );
            for call in ["count_or(&", "seconds_or(&"] {
                if let Some(rest) = line.split(call).nth(1) {
                    let default = rest.split_once(", ").map(|(_, d)| d.trim_start()).unwrap_or_default();
                    assert!(
                        !default.starts_with(|c: char| c.is_ascii_digit()),
                        "config/mod.rs:{}: a literal default: {line}",
                        at + 1
                    );
                }
            }
        }
        let mut wrong = Vec::new();
        for setting in declared::ALL {
            let declared = match setting.kind {
                Kind::Count { default, .. } => (default as f64).to_string(),
                Kind::Seconds { default, .. } | Kind::Number { default, .. } => default.to_string(),
                Kind::Flag { default } => default.to_string(),
                Kind::Text { .. } => continue,
            };
            // The first number the README shows (a size in MiB counted in bytes).
            let words: Vec<&str> = setting.shown_default.split([' ', '`', '(']).filter(|w| !w.is_empty()).collect();
            let shown = words.iter().enumerate().find_map(|(i, w)| {
                let n: f64 = w.parse().ok()?;
                Some(if words.get(i + 1) == Some(&"MiB") { (n * 1048576.0).to_string() } else { n.to_string() })
            });
            if shown.as_deref() != Some(declared.as_str()) && setting.shown_default.trim_matches('`') != declared {
                wrong.push(format!(
                    "{}: declared {declared}, the README shows {:?}",
                    setting.name, setting.shown_default
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// Without settings, every setting of a plain kind applies its declared default.
    #[test]
    fn the_declared_defaults_are_the_applied_ones() {
        let settings = Settings::from_vars(std::collections::HashMap::new()).unwrap();
        assert_eq!(u64::from(settings.limits.max_pages_limit), declared::count_default(&MAX_PAGES_LIMIT));
        assert_eq!(u64::from(settings.fetch.max_pages), declared::count_default(&MAX_PAGES));
        assert_eq!(settings.listen.to_string(), env_text(&LISTEN));
        assert_eq!(settings.data_dir.to_string_lossy(), env_text(&DATA_DIR));
        assert_eq!(settings.log_filter, env_text(&LOG));
        assert_eq!(settings.topics.jobs, env_text(&PUBSUB_SCRAPE_JOBS_TOPIC));
    }

    fn env_text(setting: &Setting) -> &'static str {
        let Kind::Text { default } = setting.kind else { panic!("{} is text", setting.name) };
        default
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_match_the_design() {
        let s = Settings::from_vars(HashMap::new()).unwrap();
        assert_eq!(s.backend, Backend::Embedded);
        assert_eq!(s.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(s.queue.ack_deadline, Duration::from_secs(600));
        assert_eq!(s.queue.max_delivery_attempts, 5);
        assert_eq!(s.worker.concurrency, 16);
        assert_eq!(s.fetch.guard, GuardPolicy::default());
        assert_eq!(s.topics.jobs, "scrape-jobs");
        assert_eq!(s.topics.progress, "scrape-progress");
        assert_eq!(s.topics.completed, "scrape-completed");
        let hours: Vec<f64> = s.webhooks.schedule.iter().map(|d| d.as_secs_f64() / 3600.0).collect();
        assert_eq!(hours.len(), 8);
        assert_eq!(&hours[5..], [5.0, 10.0, 10.0]);
        assert_eq!(s.webhooks.schedule[1], Duration::from_secs(5));
        assert_eq!(s.webhooks.timeout, Duration::from_secs(15));
    }

    #[test]
    fn gcp_project_selects_gcp_unless_overridden() {
        let s = Settings::from_vars(vars(&[("GCP_PROJECT_ID", "p")])).unwrap();
        assert_eq!(s.backend, Backend::Gcp);
        let err = Settings::from_vars(vars(&[("KRAWLR_BACKEND", "gcp")])).unwrap_err();
        assert_eq!(err.name, "GCP_PROJECT_ID");
        let short = vars(&[("GCP_PROJECT_ID", "p"), ("KRAWLR_ACK_DEADLINE_SECONDS", "2")]);
        assert_eq!(Settings::from_vars(short).unwrap_err().name, "KRAWLR_ACK_DEADLINE_SECONDS");
        let s = Settings::from_vars(vars(&[("GCP_PROJECT_ID", "p"), ("KRAWLR_BACKEND", "embedded")])).unwrap();
        assert_eq!(s.backend, Backend::Embedded);
    }

    #[test]
    fn errors_name_the_setting() {
        for (name, value) in [
            ("KRAWLR_WORKER_CONCURRENCY", "0"),
            ("KRAWLR_WORKER_CONCURRENCY", "many"),
            ("KRAWLR_LISTEN", "nowhere"),
            ("KRAWLR_ALLOW_PRIVATE_NETWORKS", "maybe"),
            ("KRAWLR_ACK_DEADLINE_SECONDS", "-1"),
            ("KRAWLR_BACKEND", "redis"),
            ("KRAWLR_RETRY_MAX_BACKOFF_SECONDS", "1"),
            ("KRAWLR_WEBHOOK_SCHEDULE", "0s,5x"),
            ("KRAWLR_WEBHOOK_SCHEDULE", "1,2,-3"),
            ("KRAWLR_ALLOWED_NETWORKS", "10.0.0.0/8,127.0.0.0/8"),
            ("KRAWLR_ALLOWED_NETWORKS", "169.254.169.254"),
            ("KRAWLR_ALLOWED_NETWORKS", "0.0.0.0/0"),
            ("KRAWLR_PROXY_URL", "not a url"),
            ("KRAWLR_JOB_TIMEOUT_SECONDS", "0"),
        ] {
            let err = Settings::from_vars(vars(&[(name, value)])).unwrap_err();
            assert_eq!(err.name, name, "{err}");
            assert!(err.to_string().contains(name));
        }
    }
}
