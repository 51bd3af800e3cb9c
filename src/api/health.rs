//! Health and metrics: `/healthz` (the process serves), `/readyz` (the store and the broker
//! answer), `/metrics` (Prometheus), and the middleware that counts and times every request.

use super::AppState;
use crate::config::Topics;
use crate::metrics::{HttpLabels, METRICS, RouteLabels};
use crate::queue::Broker;
use crate::store::Store;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::time::Instant;

/// What the probes look at: a part of the api's state, or all a worker needs to serve them.
#[derive(Clone)]
pub struct Probe {
    pub store: Arc<dyn Store>,
    pub broker: Arc<dyn Broker>,
    pub topics: Arc<Topics>,
}

impl FromRef<AppState> for Probe {
    fn from_ref(state: &AppState) -> Probe {
        Probe { store: state.store.clone(), broker: state.broker.clone(), topics: state.topics.clone() }
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>() -> axum::Router<S>
where
    Probe: FromRef<S>,
{
    axum::Router::new().route("/healthz", get(healthz)).route("/readyz", get(ready)).route("/metrics", get(metrics))
}

/// `/healthz`, `/readyz` and `/metrics` alone, for a worker or webhooks process
/// (`KRAWLR_METRICS_LISTEN`).
pub fn probe_router(probe: Probe) -> axum::Router {
    routes::<Probe>().with_state(probe)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct Health {
    status: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct Readiness {
    /// `ready` or `unavailable`.
    status: String,
    /// `ok`, or what went wrong.
    store: String,
    broker: String,
}

/// The process serves.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub(super) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// `200` when a store read and a broker call both succeed, else `503` saying which failed.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub(super) async fn ready(State(state): State<Probe>) -> Response {
    let store = state.store.get_job("readyz-probe").await.err().map(|e| crate::telemetry::chain(&e));
    let broker = state.broker.ready(&state.topics.jobs_subscription).await.err().map(|e| crate::telemetry::chain(&e));
    let ok = store.is_none() && broker.is_none();
    let word = |e: &Option<String>| e.clone().unwrap_or_else(|| "ok".into());
    let body = Readiness {
        status: if ok { "ready" } else { "unavailable" }.into(),
        store: word(&store),
        broker: word(&broker),
    };
    let code = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(body)).into_response()
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String)))]
pub(super) async fn metrics(State(state): State<Probe>) -> Response {
    let subscriptions = state.topics.subscription_names();
    let text = METRICS.render(state.store.as_ref(), state.broker.as_ref(), &subscriptions).await;
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

/// Counts and times each request by its route's pattern (never the raw path, which would make
/// a label per job id).
pub async fn track(request: Request, next: Next) -> Response {
    // A label per method a client can invent would grow the metrics without bound.
    let method = match request.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "other",
    }
    .to_string();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    METRICS.http_requests.get_or_create(&HttpLabels { method: method.clone(), route: route.clone(), status }).inc();
    METRICS.http_duration.get_or_create(&RouteLabels { method, route }).observe(seconds);
    response
}
