//! Prometheus metrics (OpenMetrics text on `GET /metrics`). Counters and histograms are
//! recorded where things happen (HTTP requests, stages, job outcomes, webhook attempts) in a
//! registry per process; the figures of shared state (jobs by status, queue depth) are read
//! from the store and the broker at each scrape, so any api replica reports the same.

use crate::job::{JobStatus, Stage};
use crate::queue::Broker;
use crate::store::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    pub stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SubscriptionLabels {
    pub subscription: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub stage_duration: Family<StageLabels, Histogram>,
    pub jobs_finished: Family<StatusLabels, Counter>,
    pub webhook_attempts: Family<OutcomeLabels, Counter>,
    /// Changes this process's monitor runs found.
    pub monitor_changes: Counter,
    /// Connections the API holds open.
    pub http_connections: Gauge,
    /// Connections the API closed at its cap to make room, or refused there.
    pub http_connections_shed: Counter,
    jobs: Family<StatusLabels, Gauge>,
    monitors: Family<StatusLabels, Gauge>,
    backlog: Family<SubscriptionLabels, Gauge>,
    in_flight: Family<SubscriptionLabels, Gauge>,
    oldest_unacked: Family<SubscriptionLabels, FloatGauge>,
    dead_lettered: Family<SubscriptionLabels, Gauge>,
}

/// This process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("krawlr");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let stage_duration = Family::<StageLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.01, 2.0, 14))
        });
        let jobs_finished = Family::<StatusLabels, Counter>::default();
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        let monitor_changes = Counter::default();
        let (http_connections, http_connections_shed) = (Gauge::default(), Counter::default());
        let monitors = Family::<StatusLabels, Gauge>::default();
        let (jobs, backlog, in_flight, oldest_unacked, dead_lettered) =
            (Family::default(), Family::default(), Family::default(), Family::default(), Family::default());
        registry.register("http_requests", "HTTP requests answered", http_requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer an HTTP request", http_duration.clone());
        registry.register("stage_duration_seconds", "Time a job spent in each stage", stage_duration.clone());
        registry.register("jobs_finished", "Jobs this process finished, by final status", jobs_finished.clone());
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts by outcome (delivered, retrying, failed)",
            webhook_attempts.clone(),
        );
        registry.register("http_connections", "Connections the API holds open", http_connections.clone());
        registry.register(
            "http_connections_shed",
            "Connections closed at the connection cap to make room, or refused there",
            http_connections_shed.clone(),
        );
        registry.register("jobs", "Jobs in the store by status", jobs.clone());
        registry.register("monitors", "Monitors in the store by status", monitors.clone());
        registry.register("monitor_changes", "Changes this process's monitor runs found", monitor_changes.clone());
        registry.register("queue_backlog_messages", "Messages waiting for delivery", backlog.clone());
        registry.register("queue_in_flight_messages", "Messages leased to a consumer", in_flight.clone());
        registry.register(
            "queue_oldest_unacked_age_seconds",
            "Age of the oldest unacked message",
            oldest_unacked.clone(),
        );
        registry.register(
            "queue_dead_lettered_messages",
            "Messages moved to the dead-letter topic",
            dead_lettered.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_duration,
            stage_duration,
            jobs_finished,
            webhook_attempts,
            monitor_changes,
            http_connections,
            http_connections_shed,
            jobs,
            monitors,
            backlog,
            in_flight,
            oldest_unacked,
            dead_lettered,
        }
    }

    pub fn stage_finished(&self, stage: Stage, seconds: f64) {
        self.stage_duration.get_or_create(&StageLabels { stage: stage.as_str().into() }).observe(seconds);
    }

    pub fn job_finished(&self, status: JobStatus) {
        self.jobs_finished.get_or_create(&StatusLabels { status: status.as_str().into() }).inc();
    }

    pub fn webhook_attempt(&self, outcome: &str) {
        self.webhook_attempts.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
    }

    /// Reads the shared figures, then encodes everything. A backend that cannot say (Pub/Sub's
    /// emulator keeps no queue figures) leaves its gauges out rather than failing the scrape.
    pub async fn render(&self, store: &dyn Store, broker: &dyn Broker, subscriptions: &[&str]) -> String {
        match store.count_jobs_by_status().await {
            Ok(counts) => {
                for (status, n) in counts {
                    self.jobs.get_or_create(&StatusLabels { status: status.as_str().into() }).set(n as i64);
                }
            }
            Err(e) => tracing::debug!(error = %e, "metrics: jobs by status unavailable"),
        }
        match store.count_monitors_by_status().await {
            Ok(counts) => {
                for (status, n) in counts {
                    self.monitors.get_or_create(&StatusLabels { status: status.as_str().into() }).set(n as i64);
                }
            }
            Err(e) => tracing::debug!(error = %e, "metrics: monitors by status unavailable"),
        }
        for subscription in subscriptions {
            let labels = SubscriptionLabels { subscription: subscription.to_string() };
            match broker.stats(subscription).await {
                Ok(s) => {
                    self.backlog.get_or_create(&labels).set(s.backlog as i64);
                    self.in_flight.get_or_create(&labels).set(s.in_flight as i64);
                    self.oldest_unacked.get_or_create(&labels).set(s.oldest_unacked_age_seconds);
                    self.dead_lettered.get_or_create(&labels).set(s.dead_lettered as i64);
                }
                Err(e) => tracing::debug!(error = %e, %subscription, "metrics: queue figures unavailable"),
            }
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}
