//! Every setting krawlr reads, declared once: its name, its default (typed, with its bounds, and
//! as the README shows it) and one line of doc. `Settings::from_vars` reads the environment
//! through these declarations only; a test checks that the README's settings table lists
//! exactly these.

/// One setting.
pub struct Setting {
    pub name: &'static str,
    /// The default as the README shows it (some are computed from other settings).
    pub shown_default: &'static str,
    pub doc: &'static str,
    pub kind: Kind,
}

/// The declared default of a [`Kind::Count`] setting.
pub const fn count_default(setting: &Setting) -> u64 {
    match setting.kind {
        Kind::Count { default, .. } => default,
        _ => panic!("not a count"),
    }
}

/// The declared default of a [`Kind::Seconds`] setting.
pub const fn seconds_default(setting: &Setting) -> f64 {
    match setting.kind {
        Kind::Seconds { default, .. } => default,
        _ => panic!("not in seconds"),
    }
}

/// What values a setting takes.
pub enum Kind {
    /// A duration in seconds, from `min` to `max`.
    Seconds { default: f64, min: f64, max: f64 },
    /// A whole number from `min` to `max`.
    Count { default: u64, min: u64, max: u64 },
    /// A number from `min` to `max`.
    Number { default: f64, min: f64, max: f64 },
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    Flag { default: bool },
    /// Text its reader checks: an address, a URL, a name, one of a few words.
    Text { default: &'static str },
}

pub const GCP_PROJECT_ID: Setting = Setting {
    name: "GCP_PROJECT_ID",
    shown_default: "unset",
    doc: "the Google Cloud project (required by `gcp`)",
    kind: Kind::Text { default: "unset" },
};

pub const BACKEND: Setting = Setting {
    name: "KRAWLR_BACKEND",
    shown_default: "`embedded`, or `gcp` when `GCP_PROJECT_ID` is set",
    doc: "which backend",
    kind: Kind::Text { default: "`embedded`, or `gcp` when `GCP_PROJECT_ID` is set" },
};

pub const PUBSUB_SCRAPE_JOBS_TOPIC: Setting = Setting {
    name: "PUBSUB_SCRAPE_JOBS_TOPIC",
    shown_default: "`scrape-jobs`",
    doc: "the topic of job requests (kept from the original)",
    kind: Kind::Text { default: "scrape-jobs" },
};

pub const PUBSUB_SCRAPE_JOBS_SUBSCRIPTION: Setting = Setting {
    name: "PUBSUB_SCRAPE_JOBS_SUBSCRIPTION",
    shown_default: "`scrape-jobs-sub`",
    doc: "the workers' subscription to the jobs topic",
    kind: Kind::Text { default: "scrape-jobs-sub" },
};

pub const PUBSUB_DEAD_LETTER_TOPIC: Setting = Setting {
    name: "PUBSUB_DEAD_LETTER_TOPIC",
    shown_default: "`scrape-jobs-dead-letter`",
    doc: "where a job's message goes after its last delivery attempt",
    kind: Kind::Text { default: "scrape-jobs-dead-letter" },
};

pub const PUBSUB_DEAD_LETTER_SUBSCRIPTION: Setting = Setting {
    name: "PUBSUB_DEAD_LETTER_SUBSCRIPTION",
    shown_default: "`…-sub`",
    doc: "the workers' subscription to the dead-letter topic",
    kind: Kind::Text { default: "…-sub" },
};

pub const PUBSUB_SCRAPE_PROGRESS_TOPIC: Setting = Setting {
    name: "PUBSUB_SCRAPE_PROGRESS_TOPIC",
    shown_default: "`scrape-progress`",
    doc: "the topic of job progress events (kept from the original)",
    kind: Kind::Text { default: "scrape-progress" },
};

pub const PUBSUB_SCRAPE_COMPLETED_TOPIC: Setting = Setting {
    name: "PUBSUB_SCRAPE_COMPLETED_TOPIC",
    shown_default: "`scrape-completed`",
    doc: "the topic of final job events (kept from the original)",
    kind: Kind::Text { default: "scrape-completed" },
};

pub const PUBSUB_SCRAPE_COMPLETED_SUBSCRIPTION: Setting = Setting {
    name: "PUBSUB_SCRAPE_COMPLETED_SUBSCRIPTION",
    shown_default: "`scrape-completed-webhooks`",
    doc: "the webhooks process's",
    kind: Kind::Text { default: "scrape-completed-webhooks" },
};

pub const PUBSUB_SCRAPE_PROGRESS_SUBSCRIPTION: Setting = Setting {
    name: "PUBSUB_SCRAPE_PROGRESS_SUBSCRIPTION",
    shown_default: "`scrape-progress-webhooks`",
    doc: "the webhooks process's",
    kind: Kind::Text { default: "scrape-progress-webhooks" },
};

pub const ACK_DEADLINE_SECONDS: Setting = Setting {
    name: "KRAWLR_ACK_DEADLINE_SECONDS",
    shown_default: "600",
    doc: "lease of a pulled job",
    kind: Kind::Seconds { default: 600.0, min: 0.5, max: 600.0 },
};

pub const MAX_DELIVERY_ATTEMPTS: Setting = Setting {
    name: "KRAWLR_MAX_DELIVERY_ATTEMPTS",
    shown_default: "5",
    doc: "then dead-lettered, status `failed`",
    kind: Kind::Count { default: 5, min: 1, max: 100 },
};

pub const RETRY_MIN_BACKOFF_SECONDS: Setting = Setting {
    name: "KRAWLR_RETRY_MIN_BACKOFF_SECONDS",
    shown_default: "10",
    doc: "redelivery backoff after a failure, doubling",
    kind: Kind::Seconds { default: 10.0, min: 0.0, max: 600.0 },
};

pub const RETRY_MAX_BACKOFF_SECONDS: Setting = Setting {
    name: "KRAWLR_RETRY_MAX_BACKOFF_SECONDS",
    shown_default: "600",
    doc: "redelivery backoff after a failure, doubling",
    kind: Kind::Seconds { default: 600.0, min: 0.0, max: 3600.0 },
};

pub const WORKER_CONCURRENCY: Setting = Setting {
    name: "KRAWLR_WORKER_CONCURRENCY",
    shown_default: "16",
    doc: "jobs one worker process runs at once",
    kind: Kind::Count { default: 16, min: 1, max: 10000 },
};

pub const SHUTDOWN_GRACE_SECONDS: Setting = Setting {
    name: "KRAWLR_SHUTDOWN_GRACE_SECONDS",
    shown_default: "30",
    doc: "how long running jobs may finish after SIGTERM",
    kind: Kind::Seconds { default: 30.0, min: 0.0, max: 3600.0 },
};

pub const POLL_INTERVAL_SECONDS: Setting = Setting {
    name: "KRAWLR_POLL_INTERVAL_SECONDS",
    shown_default: "0.25",
    doc: "longest pause of an idle worker between pulls (a worker in the api's process is woken at once)",
    kind: Kind::Seconds { default: 0.25, min: 0.001, max: 60.0 },
};

pub const RECONCILE_AFTER_SECONDS: Setting = Setting {
    name: "KRAWLR_RECONCILE_AFTER_SECONDS",
    shown_default: "ack deadline + max backoff + 60",
    doc: "an unfinished job untouched this long has its message republished",
    // The margin added to the ack deadline and the longest backoff.
    kind: Kind::Seconds { default: 60.0, min: 1.0, max: 86400.0 },
};

pub const RECONCILE_INTERVAL_SECONDS: Setting = Setting {
    name: "KRAWLR_RECONCILE_INTERVAL_SECONDS",
    shown_default: "60",
    doc: "how often each worker looks for such jobs",
    kind: Kind::Seconds { default: 60.0, min: 0.1, max: 3600.0 },
};

pub const RETENTION_DAYS: Setting = Setting {
    name: "KRAWLR_RETENTION_DAYS",
    shown_default: "30",
    doc: "finished jobs, their results and webhook delivery logs are removed this long after they end (decimals allowed; 0: kept for ever); a removed job answers `410 Gone` for as long again",
    kind: Kind::Number { default: 30.0, min: 0.0, max: 36500.0 },
};

pub const JOBS_PER_HOST: Setting = Setting {
    name: "KRAWLR_JOBS_PER_HOST",
    shown_default: "2",
    doc: "jobs of one site running at once across every worker (slots held in the store for at most the ack deadline, so a crashed worker's slot frees itself; 0: no limit)",
    kind: Kind::Count { default: 2, min: 0, max: 10000 },
};

pub const JOB_TIMEOUT_SECONDS: Setting = Setting {
    name: "KRAWLR_JOB_TIMEOUT_SECONDS",
    shown_default: "300",
    doc: "one attempt at most; past it the attempt is abandoned as a transient failure",
    kind: Kind::Seconds { default: 300.0, min: 1.0, max: 86400.0 },
};

pub const USER_AGENT: Setting = Setting {
    name: "KRAWLR_USER_AGENT",
    shown_default: "`krawlr/VERSION (+…)`",
    doc: "sent with every request; robots.txt rules are matched for `krawlr`",
    kind: Kind::Text { default: "krawlr/VERSION (+…)" },
};

pub const ALLOW_PRIVATE_NETWORKS: Setting = Setting {
    name: "KRAWLR_ALLOW_PRIVATE_NETWORKS",
    shown_default: "`false`",
    doc: "let the scraper reach private, loopback, link-local addresses (tests, local use)",
    kind: Kind::Flag { default: false },
};

pub const ALLOWED_NETWORKS: Setting = Setting {
    name: "KRAWLR_ALLOWED_NETWORKS",
    shown_default: "—",
    doc: "comma-separated private networks or addresses (`10.20.0.0/16`) let through while the rest stays refused; a network holding loopback or a metadata address is an error at start",
    kind: Kind::Text { default: "—" },
};

pub const CONNECT_TIMEOUT_SECONDS: Setting = Setting {
    name: "KRAWLR_CONNECT_TIMEOUT_SECONDS",
    shown_default: "10",
    doc: "per connection",
    kind: Kind::Seconds { default: 10.0, min: 0.1, max: 300.0 },
};

pub const READ_TIMEOUT_SECONDS: Setting = Setting {
    name: "KRAWLR_READ_TIMEOUT_SECONDS",
    shown_default: "15",
    doc: "longest wait for the next bytes",
    kind: Kind::Seconds { default: 15.0, min: 0.1, max: 300.0 },
};

pub const FETCH_TIMEOUT_SECONDS: Setting = Setting {
    name: "KRAWLR_FETCH_TIMEOUT_SECONDS",
    shown_default: "30",
    doc: "one fetch, all redirects included",
    kind: Kind::Seconds { default: 30.0, min: 0.1, max: 600.0 },
};

pub const FETCH_MAX_BYTES: Setting = Setting {
    name: "KRAWLR_FETCH_MAX_BYTES",
    shown_default: "5242880",
    doc: "body cap, counted after decompression; longer bodies are cut",
    kind: Kind::Count { default: 5242880, min: 1024, max: 1073741824 },
};

pub const MAX_REDIRECTS: Setting = Setting {
    name: "KRAWLR_MAX_REDIRECTS",
    shown_default: "10",
    doc: "redirects one fetch follows at most",
    kind: Kind::Count { default: 10, min: 0, max: 50 },
};

pub const PER_HOST_CONCURRENCY: Setting = Setting {
    name: "KRAWLR_PER_HOST_CONCURRENCY",
    shown_default: "4",
    doc: "requests at once to one host (per process)",
    kind: Kind::Count { default: 4, min: 1, max: 1000 },
};

pub const PER_HOST_DELAY_SECONDS: Setting = Setting {
    name: "KRAWLR_PER_HOST_DELAY_SECONDS",
    shown_default: "0.1",
    doc: "between request starts to one host (a larger robots.txt `Crawl-delay`, up to 10 s, wins)",
    kind: Kind::Seconds { default: 0.1, min: 0.0, max: 60.0 },
};

pub const MAX_PAGES: Setting = Setting {
    name: "KRAWLR_MAX_PAGES",
    shown_default: "25",
    doc: "pages per job (settable per job with `options.max_pages`)",
    kind: Kind::Count { default: 25, min: 1, max: 10000 },
};

pub const CRAWL_MAX_BYTES: Setting = Setting {
    name: "KRAWLR_CRAWL_MAX_BYTES",
    shown_default: "20 MiB",
    doc: "all pages of one crawl together",
    kind: Kind::Count { default: 20971520, min: 1024, max: 4294967296 },
};

pub const CRAWL_TIMEOUT_SECONDS: Setting = Setting {
    name: "KRAWLR_CRAWL_TIMEOUT_SECONDS",
    shown_default: "60",
    doc: "all pages of one crawl together",
    kind: Kind::Seconds { default: 60.0, min: 1.0, max: 3600.0 },
};

pub const ROBOTS_TTL_SECONDS: Setting = Setting {
    name: "KRAWLR_ROBOTS_TTL_SECONDS",
    shown_default: "86400",
    doc: "how long a site's robots.txt rules are kept (RFC 9309's 24 h at most; 4,096 sites and 32 MiB of parsed rules at most, least recently used forgotten first)",
    kind: Kind::Seconds { default: 86400.0, min: 0.0, max: 86400.0 },
};

pub const PROXY_URL: Setting = Setting {
    name: "KRAWLR_PROXY_URL",
    shown_default: "unset",
    doc: "an `http(s)://` proxy for every outbound request (pages, webhooks, SEC, the model); `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` in the environment are never used (see the fetcher)",
    kind: Kind::Text { default: "unset" },
};

pub const RENDER: Setting = Setting {
    name: "KRAWLR_RENDER",
    shown_default: "`auto` when a Chromium is found, else `off`",
    doc: "`auto` renders in headless Chromium only the pages that need their scripts, `always` every page, `off` none",
    kind: Kind::Text { default: "auto" },
};

pub const CHROMIUM: Setting = Setting {
    name: "KRAWLR_CHROMIUM",
    shown_default: "the first of `chromium`, `chromium-browser`, `google-chrome` on `PATH`",
    doc: "the Chromium (or Chrome) executable that renders pages",
    kind: Kind::Text { default: "unset" },
};

pub const RENDER_CONCURRENCY: Setting = Setting {
    name: "KRAWLR_RENDER_CONCURRENCY",
    shown_default: "2",
    doc: "pages rendered at once (browser tabs per process)",
    kind: Kind::Count { default: 2, min: 1, max: 64 },
};

pub const RENDER_TIMEOUT_SECONDS: Setting = Setting {
    name: "KRAWLR_RENDER_TIMEOUT_SECONDS",
    shown_default: "20",
    doc: "one page's rendering, its requests included",
    kind: Kind::Seconds { default: 20.0, min: 1.0, max: 300.0 },
};

pub const RENDER_MAX_REQUESTS: Setting = Setting {
    name: "KRAWLR_RENDER_MAX_REQUESTS",
    shown_default: "150",
    doc: "requests one rendered page may make (images, fonts, media and styles are never fetched)",
    kind: Kind::Count { default: 150, min: 1, max: 10000 },
};

pub const RENDER_MAX_BYTES: Setting = Setting {
    name: "KRAWLR_RENDER_MAX_BYTES",
    shown_default: "10 MiB",
    doc: "bytes one rendered page's requests may bring, all together",
    kind: Kind::Count { default: 10485760, min: 65536, max: 1073741824 },
};

pub const NEWS_FEED_URL: Setting = Setting {
    name: "KRAWLR_NEWS_FEED_URL",
    shown_default: "unset",
    doc: "an external news feed, `{query}` standing for the company's name",
    kind: Kind::Text { default: "unset" },
};

pub const SEC_WWW_URL: Setting = Setting {
    name: "KRAWLR_SEC_WWW_URL",
    shown_default: "`https://www.sec.gov`",
    doc: "SEC EDGAR's host of `/files/company_tickers.json`",
    kind: Kind::Text { default: "https://www.sec.gov" },
};

pub const SEC_DATA_URL: Setting = Setting {
    name: "KRAWLR_SEC_DATA_URL",
    shown_default: "`https://data.sec.gov`",
    doc: "SEC EDGAR's host of `/api/xbrl/companyfacts/…`",
    kind: Kind::Text { default: "https://data.sec.gov" },
};

pub const SEC_USER_AGENT: Setting = Setting {
    name: "KRAWLR_SEC_USER_AGENT",
    shown_default: "`krawlr/VERSION (set …)`",
    doc: "the SEC asks for a name and an email here",
    kind: Kind::Text { default: "krawlr/VERSION (set …)" },
};

pub const LLM_BASE_URL: Setting = Setting {
    name: "KRAWLR_LLM_BASE_URL",
    shown_default: "unset",
    doc: "an OpenAI-compatible endpoint for enrichment (model required with the URL)",
    kind: Kind::Text { default: "unset" },
};

pub const LLM_MODEL: Setting = Setting {
    name: "KRAWLR_LLM_MODEL",
    shown_default: "unset",
    doc: "an OpenAI-compatible endpoint for enrichment (model required with the URL)",
    kind: Kind::Text { default: "unset" },
};

pub const LLM_API_KEY: Setting = Setting {
    name: "KRAWLR_LLM_API_KEY",
    shown_default: "unset",
    doc: "an OpenAI-compatible endpoint for enrichment (model required with the URL)",
    kind: Kind::Text { default: "unset" },
};

pub const WEBHOOK_SCHEDULE: Setting = Setting {
    name: "KRAWLR_WEBHOOK_SCHEDULE",
    shown_default: "`0s,5s,5m,30m,2h,5h,10h,10h`",
    doc: "delay before each attempt of a delivery (`ms`, `s`, `m`, `h`, `d`)",
    kind: Kind::Text { default: "0s,5s,5m,30m,2h,5h,10h,10h" },
};

pub const WEBHOOK_TIMEOUT_SECONDS: Setting = Setting {
    name: "KRAWLR_WEBHOOK_TIMEOUT_SECONDS",
    shown_default: "15",
    doc: "one attempt",
    kind: Kind::Seconds { default: 15.0, min: 0.1, max: 300.0 },
};

pub const WEBHOOK_MAX_REPORT_BYTES: Setting = Setting {
    name: "KRAWLR_WEBHOOK_MAX_REPORT_BYTES",
    shown_default: "262144",
    doc: "larger reports are left out of the payload (fetch `result_url`)",
    kind: Kind::Count { default: 262144, min: 0, max: 16777216 },
};

pub const WEBHOOK_CONCURRENCY: Setting = Setting {
    name: "KRAWLR_WEBHOOK_CONCURRENCY",
    shown_default: "32",
    doc: "attempts in flight per webhooks process",
    kind: Kind::Count { default: 32, min: 1, max: 10000 },
};

pub const WEBHOOK_POLL_INTERVAL_SECONDS: Setting = Setting {
    name: "KRAWLR_WEBHOOK_POLL_INTERVAL_SECONDS",
    shown_default: "1",
    doc: "longest pause between looks for due deliveries",
    kind: Kind::Seconds { default: 1.0, min: 0.01, max: 60.0 },
};

pub const PUBLIC_URL: Setting = Setting {
    name: "KRAWLR_PUBLIC_URL",
    shown_default: "unset",
    doc: "the API's public base URL, to make `result_url` in payloads absolute",
    kind: Kind::Text { default: "unset" },
};

pub const SECRET_KEY: Setting = Setting {
    name: "KRAWLR_SECRET_KEY",
    shown_default: "generated in the data dir (embedded); required on gcp",
    doc: "base64 of 32 bytes: encrypts webhook signing secrets at rest",
    kind: Kind::Text { default: "generated in the data dir (embedded); required on gcp" },
};

pub const SQLITE_SYNC: Setting = Setting {
    name: "KRAWLR_SQLITE_SYNC",
    shown_default: "`normal`",
    doc: "`normal` or `full`, see durability above",
    kind: Kind::Text { default: "normal" },
};

pub const LISTEN: Setting = Setting {
    name: "KRAWLR_LISTEN",
    shown_default: "`127.0.0.1:8000`",
    doc: "the API's address (`0.0.0.0:8000` in containers; port 0 picks a free one, printed on stdout)",
    kind: Kind::Text { default: "127.0.0.1:8000" },
};

pub const API_KEY: Setting = Setting {
    name: "KRAWLR_API_KEY",
    shown_default: "unset",
    doc: "a key with exactly this value (≥ 16 characters) exists from start-up",
    kind: Kind::Text { default: "unset" },
};

pub const METRICS_LISTEN: Setting = Setting {
    name: "KRAWLR_METRICS_LISTEN",
    shown_default: "unset",
    doc: "a worker or webhooks process serves `/metrics`, `/healthz`, `/readyz` here (the api serves them on its own address)",
    kind: Kind::Text { default: "unset" },
};

pub const MAX_PAGES_LIMIT: Setting = Setting {
    name: "KRAWLR_MAX_PAGES_LIMIT",
    shown_default: "200 (or `KRAWLR_MAX_PAGES` if larger)",
    doc: "the most `options.max_pages` may ask for; more answers `422 invalid_field`",
    kind: Kind::Count { default: 200, min: 1, max: 10000 },
};

pub const DATA_DIR: Setting = Setting {
    name: "KRAWLR_DATA_DIR",
    shown_default: "`./krawlr-data`",
    doc: "the embedded backend's directory",
    kind: Kind::Text { default: "./krawlr-data" },
};

pub const PUBSUB_EMULATOR_HOST: Setting = Setting {
    name: "PUBSUB_EMULATOR_HOST",
    shown_default: "unset",
    doc: "`host:port` of the emulators; unset means Google Cloud with the Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, workload identity)",
    kind: Kind::Text { default: "unset" },
};

pub const MONITORING_URL: Setting = Setting {
    name: "KRAWLR_MONITORING_URL",
    shown_default: "`https://monitoring.googleapis.com` on Google Cloud; unset with the emulator",
    doc: "where `krawlr queue stats` reads Pub/Sub's figures on gcp (the service account needs `roles/monitoring.viewer`)",
    kind: Kind::Text { default: "`https://monitoring.googleapis.com` on Google Cloud; unset with the emulator" },
};

pub const MAX_REQUEST_BYTES: Setting = Setting {
    name: "KRAWLR_MAX_REQUEST_BYTES",
    shown_default: "65536",
    doc: "largest API request body",
    kind: Kind::Count { default: 65536, min: 1024, max: 16777216 },
};

pub const EVENTS_POLL_SECONDS: Setting = Setting {
    name: "KRAWLR_EVENTS_POLL_SECONDS",
    shown_default: "0.25",
    doc: "how often a job's event stream reads the job",
    kind: Kind::Seconds { default: 0.25, min: 0.01, max: 10.0 },
};

pub const RATE_LIMIT_PER_SECOND: Setting = Setting {
    name: "KRAWLR_RATE_LIMIT_PER_SECOND",
    shown_default: "100",
    doc: "requests per key: a token bucket per api process (0 turns it off); over it, `429 rate_limited` with `Retry-After`",
    kind: Kind::Number { default: 100.0, min: 0.0, max: 1000000.0 },
};

pub const RATE_LIMIT_BURST: Setting = Setting {
    name: "KRAWLR_RATE_LIMIT_BURST",
    shown_default: "200",
    doc: "requests per key: a token bucket per api process (0 turns it off); over it, `429 rate_limited` with `Retry-After`",
    kind: Kind::Count { default: 200, min: 1, max: 1000000 },
};

pub const MAX_ACTIVE_JOBS_PER_KEY: Setting = Setting {
    name: "KRAWLR_MAX_ACTIVE_JOBS_PER_KEY",
    shown_default: "1000",
    doc: "unfinished jobs a key may have; a submit over it gets `429 too_many_active_jobs` (0 turns it off)",
    kind: Kind::Count { default: 1000, min: 0, max: 10000000 },
};

pub const MONITOR_MIN_INTERVAL_SECONDS: Setting = Setting {
    name: "KRAWLR_MONITOR_MIN_INTERVAL_SECONDS",
    shown_default: "3600",
    doc: "the shortest `interval_seconds` a monitor may ask for; less answers `422 invalid_field`",
    kind: Kind::Seconds { default: 3600.0, min: 1.0, max: 31536000.0 },
};

pub const MONITOR_POLL_SECONDS: Setting = Setting {
    name: "KRAWLR_MONITOR_POLL_SECONDS",
    shown_default: "5",
    doc: "how often each `up` or `worker` process asks the store for monitors due",
    kind: Kind::Seconds { default: 5.0, min: 0.05, max: 3600.0 },
};

pub const MAX_MONITORS_PER_KEY: Setting = Setting {
    name: "KRAWLR_MAX_MONITORS_PER_KEY",
    shown_default: "100",
    doc: "monitors a key may have; one more gets `409 too_many_monitors`",
    kind: Kind::Count { default: 100, min: 1, max: 100000 },
};

pub const MAX_WEBHOOK_ENDPOINTS_PER_KEY: Setting = Setting {
    name: "KRAWLR_MAX_WEBHOOK_ENDPOINTS_PER_KEY",
    shown_default: "20",
    doc: "endpoints a key may register; one more gets `409 too_many_endpoints`",
    kind: Kind::Count { default: 20, min: 1, max: 10000 },
};

pub const MAX_EVENT_STREAMS_PER_KEY: Setting = Setting {
    name: "KRAWLR_MAX_EVENT_STREAMS_PER_KEY",
    shown_default: "20",
    doc: "event streams a key may hold open at once per api process; one more gets `429 too_many_streams`",
    kind: Kind::Count { default: 20, min: 1, max: 100000 },
};

pub const HEADER_READ_TIMEOUT_SECONDS: Setting = Setting {
    name: "KRAWLR_HEADER_READ_TIMEOUT_SECONDS",
    shown_default: "10",
    doc: "a request's head must arrive within this long, counted from when the API starts waiting for it (a kept-alive connection waits as long for its next request); past it the connection is closed",
    kind: Kind::Seconds { default: 10.0, min: 0.1, max: 3600.0 },
};

pub const IDLE_TIMEOUT_SECONDS: Setting = Setting {
    name: "KRAWLR_IDLE_TIMEOUT_SECONDS",
    shown_default: "60",
    doc: "a connection on which nothing is read or written for this long (a request body trickled in, a vanished client) is closed",
    kind: Kind::Seconds { default: 60.0, min: 0.1, max: 3600.0 },
};

pub const MAX_CONNECTIONS: Setting = Setting {
    name: "KRAWLR_MAX_CONNECTIONS",
    shown_default: "10000 (less when the open-files limit is lower)",
    doc: "connections the API holds open at once (the soft open-files limit is raised to the hard one at start); at the cap, the oldest connection not inside a request is closed to make room (`krawlr_http_connections`, `krawlr_http_connections_shed_total`)",
    kind: Kind::Count { default: 10000, min: 1, max: 1000000 },
};

pub const EVENT_STREAM_MAX_SECONDS: Setting = Setting {
    name: "KRAWLR_EVENT_STREAM_MAX_SECONDS",
    shown_default: "3600",
    doc: "an event stream ends after this long; reconnect with `Last-Event-ID` to resume",
    kind: Kind::Seconds { default: 3600.0, min: 1.0, max: 86400.0 },
};

pub const LOG: Setting = Setting {
    name: "KRAWLR_LOG",
    shown_default: "`info`",
    doc: "log filter (`tracing` syntax)",
    kind: Kind::Text { default: "info" },
};

pub const LOG_FORMAT: Setting = Setting {
    name: "KRAWLR_LOG_FORMAT",
    shown_default: "`text`",
    doc: "`json`: one object per line, a job's lines carrying `span.job_id`, `span.attempt`, `span.stage`",
    kind: Kind::Text { default: "text" },
};

pub const URL: Setting = Setting {
    name: "KRAWLR_URL",
    shown_default: "`http://127.0.0.1:8000`",
    doc: "the running krawlr that the client commands (`submit`, `status`, `result`, `jobs`, `cancel`, `retry`) talk to, with `KRAWLR_API_KEY`",
    kind: Kind::Text { default: "http://127.0.0.1:8000" },
};

/// Every setting: those `Settings::from_vars` reads, in its order, then the client's.
pub const ALL: &[&Setting] = &[
    &GCP_PROJECT_ID,
    &BACKEND,
    &PUBSUB_SCRAPE_JOBS_TOPIC,
    &PUBSUB_SCRAPE_JOBS_SUBSCRIPTION,
    &PUBSUB_DEAD_LETTER_TOPIC,
    &PUBSUB_DEAD_LETTER_SUBSCRIPTION,
    &PUBSUB_SCRAPE_PROGRESS_TOPIC,
    &PUBSUB_SCRAPE_COMPLETED_TOPIC,
    &PUBSUB_SCRAPE_COMPLETED_SUBSCRIPTION,
    &PUBSUB_SCRAPE_PROGRESS_SUBSCRIPTION,
    &ACK_DEADLINE_SECONDS,
    &MAX_DELIVERY_ATTEMPTS,
    &RETRY_MIN_BACKOFF_SECONDS,
    &RETRY_MAX_BACKOFF_SECONDS,
    &WORKER_CONCURRENCY,
    &SHUTDOWN_GRACE_SECONDS,
    &POLL_INTERVAL_SECONDS,
    &RECONCILE_AFTER_SECONDS,
    &RECONCILE_INTERVAL_SECONDS,
    &RETENTION_DAYS,
    &JOBS_PER_HOST,
    &JOB_TIMEOUT_SECONDS,
    &USER_AGENT,
    &ALLOW_PRIVATE_NETWORKS,
    &ALLOWED_NETWORKS,
    &CONNECT_TIMEOUT_SECONDS,
    &READ_TIMEOUT_SECONDS,
    &FETCH_TIMEOUT_SECONDS,
    &FETCH_MAX_BYTES,
    &MAX_REDIRECTS,
    &PER_HOST_CONCURRENCY,
    &PER_HOST_DELAY_SECONDS,
    &MAX_PAGES,
    &CRAWL_MAX_BYTES,
    &CRAWL_TIMEOUT_SECONDS,
    &ROBOTS_TTL_SECONDS,
    &PROXY_URL,
    &RENDER,
    &CHROMIUM,
    &RENDER_CONCURRENCY,
    &RENDER_TIMEOUT_SECONDS,
    &RENDER_MAX_REQUESTS,
    &RENDER_MAX_BYTES,
    &NEWS_FEED_URL,
    &SEC_WWW_URL,
    &SEC_DATA_URL,
    &SEC_USER_AGENT,
    &LLM_BASE_URL,
    &LLM_MODEL,
    &LLM_API_KEY,
    &WEBHOOK_SCHEDULE,
    &WEBHOOK_TIMEOUT_SECONDS,
    &WEBHOOK_MAX_REPORT_BYTES,
    &WEBHOOK_CONCURRENCY,
    &WEBHOOK_POLL_INTERVAL_SECONDS,
    &PUBLIC_URL,
    &SECRET_KEY,
    &SQLITE_SYNC,
    &LISTEN,
    &API_KEY,
    &METRICS_LISTEN,
    &MAX_PAGES_LIMIT,
    &DATA_DIR,
    &PUBSUB_EMULATOR_HOST,
    &MONITORING_URL,
    &MAX_REQUEST_BYTES,
    &EVENTS_POLL_SECONDS,
    &RATE_LIMIT_PER_SECOND,
    &RATE_LIMIT_BURST,
    &MAX_ACTIVE_JOBS_PER_KEY,
    &MAX_WEBHOOK_ENDPOINTS_PER_KEY,
    &MAX_MONITORS_PER_KEY,
    &MONITOR_MIN_INTERVAL_SECONDS,
    &MONITOR_POLL_SECONDS,
    &MAX_EVENT_STREAMS_PER_KEY,
    &EVENT_STREAM_MAX_SECONDS,
    &HEADER_READ_TIMEOUT_SECONDS,
    &IDLE_TIMEOUT_SECONDS,
    &MAX_CONNECTIONS,
    &LOG,
    &LOG_FORMAT,
    &URL,
];
