//! The HTTP API of the original, on axum: submit, status and result of scrape jobs, job
//! management and live progress, webhook endpoints and their delivery logs, health and metrics.
//! Routes live with their resource; what every handler reads from a request is checked in
//! `input`, and every error goes through [`ApiError`].

mod auth;
mod error;
pub mod health;
mod input;
mod jobs;
mod limits;
mod monitors;
mod openapi;
mod scrape;
mod serve;

pub use serve::serve as serve_router;
mod webhooks;

pub use error::ApiError;

use crate::config::Topics;
use crate::queue::Broker;
use crate::store::Store;
use crate::webhooks::sign::SecretBox;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub broker: Arc<dyn Broker>,
    /// Shared, as every field here: axum clones the state for each request (owned topic names
    /// and address lists made clones a tenth of a submit's instructions).
    pub topics: Arc<Topics>,
    /// Which webhook and company addresses are accepted.
    pub guard: Arc<crate::net::guard::Policy>,
    pub max_request_bytes: usize,
    /// Seals and opens webhook signing secrets.
    pub secrets: Arc<SecretBox>,
    /// How often an event stream looks at its job.
    pub events_poll: std::time::Duration,
    pub rate_limiter: Arc<limits::RateLimiter>,
    /// Unfinished jobs a key may have at once (0: no limit).
    pub max_active_jobs: u64,
    /// The most pages a job may ask for.
    pub max_pages_limit: u32,
    pub max_webhook_endpoints: usize,
    pub max_monitors: usize,
    pub monitor_min_interval: std::time::Duration,
    pub streams: Arc<limits::StreamSlots>,
    pub stream_lifetime: std::time::Duration,
    /// Every change of a job goes through it, with the events it sends.
    pub relay: Arc<crate::outbox::Relay>,
    /// `KRAWLR_RETENTION_DAYS`, to say why a removed job is gone.
    pub retention: Option<std::time::Duration>,
    /// Cancelled when the process shuts down: event streams end (telling their clients to
    /// reconnect) instead of holding the process.
    pub shutdown: CancellationToken,
    pub connections: crate::config::ConnectionSettings,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        broker: Arc<dyn Broker>,
        settings: &crate::config::Settings,
        secrets: Arc<SecretBox>,
    ) -> Self {
        let topology = crate::queue::Topology::of(settings);
        let relay = crate::outbox::Relay::new(store.clone(), broker.clone(), settings.topics.clone(), topology);
        AppState {
            relay: Arc::new(relay),
            retention: settings.worker.retention,
            store,
            broker,
            topics: Arc::new(settings.topics.clone()),
            guard: Arc::new(settings.fetch.guard.clone()),
            max_request_bytes: settings.max_request_bytes,
            secrets,
            events_poll: settings.events_poll,
            rate_limiter: Arc::new(limits::RateLimiter::new(settings.limits.rate_per_second, settings.limits.burst)),
            max_active_jobs: settings.limits.max_active_jobs,
            max_pages_limit: settings.limits.max_pages_limit,
            max_webhook_endpoints: settings.limits.max_webhook_endpoints,
            max_monitors: settings.limits.max_monitors,
            monitor_min_interval: settings.limits.monitor_min_interval,
            streams: Arc::new(limits::StreamSlots::new(settings.limits.max_event_streams)),
            stream_lifetime: settings.limits.event_stream_lifetime,
            shutdown: CancellationToken::new(),
            connections: settings.connections.clone(),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(scrape::routes())
        .merge(jobs::routes())
        .merge(webhooks::routes())
        .merge(monitors::routes())
        .merge(health::routes())
        .route("/openapi.json", axum::routing::get(openapi::openapi_json))
        .route("/docs", axum::routing::get(openapi::docs))
        .route("/", axum::routing::get(openapi::dashboard))
        .fallback(|| async { ApiError::NotFound { what: "route" } })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(state.max_request_bytes))
        .layer(axum::middleware::from_fn(health::track))
        .with_state(state)
}

/// Serves until `shutdown` is cancelled, then finishes the requests in flight within the
/// shutdown grace period (see [`serve::serve`]).
pub async fn serve(listener: TcpListener, mut state: AppState, shutdown: CancellationToken) -> std::io::Result<()> {
    state.shutdown = shutdown.clone();
    let connections = state.connections.clone();
    serve::serve(listener, router(state), &connections, shutdown).await
}
