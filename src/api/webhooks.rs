//! Webhook endpoints a key registers, their secrets and their delivery logs. An endpoint
//! belongs to one key; another key's endpoint is as unknown as a missing one. The id
//! `default` names the key's default signer, which signs deliveries to per-job `webhook_url`s.

use super::auth::Caller;
use super::error::ErrorBody;
use super::input::{parse_json, parse_target};
use super::{ApiError, AppState};
use crate::job::EventKind;
use crate::job::{now_ms, rfc3339};
use crate::store::{Applied, Change};
use crate::webhooks::{
    Attempt, Delivery, DeliveryStatus, Endpoint, EndpointStatus, ROTATION_OVERLAP, ensure_default_endpoint, sign,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const DEFAULT_ID: &str = "default";
/// Most deliveries one log page shows.
const MAX_LOG: usize = 200;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/webhooks", post(create).get(list))
        .route("/api/v1/webhooks/{id}", get(one).patch(update).delete(delete))
        .route("/api/v1/webhooks/{id}/rotate-secret", post(rotate))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
        .route("/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", post(redeliver))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct CreateRequest {
    #[schema(required = true, nullable = false, min_length = 1, example = "https://hooks.example.com/krawlr")]
    url: Option<String>,
    /// Default: `scrape.completed`, `scrape.failed`, `scrape.cancelled`.
    #[schema(min_items = 1)]
    events: Option<Vec<String>>,
    #[serde(default)]
    description: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct UpdateRequest {
    url: Option<String>,
    #[schema(min_items = 1)]
    events: Option<Vec<String>>,
    description: Option<String>,
    /// `true` re-enables a disabled or failing endpoint; `false` disables it.
    enabled: Option<bool>,
}

/// An endpoint as the API shows it: never its secret, except once when it is made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct EndpointBody {
    id: String,
    url: Option<String>,
    events: Vec<String>,
    description: String,
    status: EndpointStatus,
    status_reason: Option<String>,
    created_at: String,
    updated_at: String,
    /// Shown once: when the endpoint is made.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    secret: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct EndpointList {
    endpoints: Vec<EndpointBody>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct DeliveryList {
    deliveries: Vec<DeliveryBody>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct RotatedSecret {
    id: String,
    /// The new secret, shown only here.
    secret: String,
    /// Until when the previous secret signs too.
    previous_secret_valid_until: String,
}

impl EndpointBody {
    fn of(e: &Endpoint, secret: Option<String>) -> EndpointBody {
        EndpointBody {
            id: if e.is_default() { DEFAULT_ID.into() } else { e.id.clone() },
            url: e.url.clone(),
            events: e.events.iter().map(|k| k.to_string()).collect(),
            description: e.description.clone(),
            status: e.status,
            status_reason: e.status_reason.clone(),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
            secret,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct DeliveryBody {
    /// Also the `webhook-id` header of every attempt.
    id: String,
    event: String,
    job_id: String,
    url: String,
    status: DeliveryStatus,
    attempts: Vec<AttemptBody>,
    next_attempt_at: Option<String>,
    created_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AttemptBody {
    at: String,
    status_code: Option<u16>,
    latency_ms: u64,
    error: Option<String>,
    next_attempt_at: Option<String>,
    trigger: crate::store::Trigger,
}

impl DeliveryBody {
    fn of(d: &Delivery) -> DeliveryBody {
        let attempt = |a: &Attempt| AttemptBody {
            at: rfc3339(a.at),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            error: a.error.clone(),
            next_attempt_at: a.next_attempt_at.map(rfc3339),
            trigger: a.trigger,
        };
        DeliveryBody {
            id: d.id.clone(),
            event: d.event.kind.to_string(),
            job_id: d.event.job_id.clone(),
            url: d.url.clone(),
            status: d.status,
            attempts: d.attempts.iter().map(attempt).collect(),
            next_attempt_at: d.next_attempt_at.filter(|_| d.status == DeliveryStatus::Pending).map(rfc3339),
            created_at: rfc3339(d.created_at),
        }
    }
}

/// The kinds named, each once, in the order of their names.
fn events(requested: Option<Vec<String>>) -> Result<Vec<EventKind>, ApiError> {
    let Some(names) = requested else {
        return Ok(EventKind::DEFAULT.to_vec());
    };
    if names.is_empty() {
        return Err(ApiError::Invalid { field: "events", reason: "name at least one event".into() });
    }
    let mut kinds = Vec::with_capacity(names.len());
    for name in &names {
        let Some(kind) = EventKind::named(name) else {
            let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            let reason = format!("unknown event {name:?}; known: {}", known.join(", "));
            return Err(ApiError::Invalid { field: "events", reason });
        };
        kinds.push(kind);
    }
    kinds.sort_by_key(|k| k.as_str());
    kinds.dedup();
    Ok(kinds)
}

/// The caller's endpoint by its API id (`default` included).
async fn own_endpoint(state: &AppState, caller: &Caller, id: &str) -> Result<Endpoint, ApiError> {
    if id == DEFAULT_ID {
        let (endpoint, _) = ensure_default_endpoint(state.store.as_ref(), &state.secrets, &caller.key_id).await?;
        return Ok(endpoint);
    }
    match state.store.get_endpoint(id).await? {
        Some(e) if e.key_id == caller.key_id && !e.is_default() => Ok(e),
        _ => Err(ApiError::NotFound { what: "webhook endpoint" }),
    }
}

async fn change_endpoint(state: &AppState, id: &str, change: Change<Endpoint>) -> Result<Endpoint, ApiError> {
    match state.store.update_endpoint(id, change).await? {
        Applied::Yes(e) | Applied::No(e) => Ok(e),
        Applied::NotFound => Err(ApiError::NotFound { what: "webhook endpoint" }),
    }
}

/// Register an endpoint; its signing secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = CreateRequest,
    responses((status = 201, body = EndpointBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The key has as many endpoints as it may (`too_many_endpoints`)"), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: CreateRequest = parse_json(&headers, body, state.max_request_bytes)?;
    let url = parse_target(request.url.as_deref(), "url", &state.guard)?;
    let count = state.store.list_endpoints(&caller.key_id).await?.iter().filter(|e| !e.is_default()).count();
    if count >= state.max_webhook_endpoints {
        return Err(ApiError::TooManyEndpoints { count });
    }
    let id = format!("ep_{}", uuid::Uuid::new_v4().simple());
    let events = events(request.events)?;
    let (endpoint, secret) =
        Endpoint::new(id, &caller.key_id, Some(url.to_string()), events, request.description, &state.secrets);
    state.store.create_endpoint(&endpoint).await?;
    Ok((StatusCode::CREATED, Json(EndpointBody::of(&endpoint, Some(secret)))).into_response())
}

/// The key's endpoints.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    responses((status = 200, body = EndpointList), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<EndpointList>, ApiError> {
    let endpoints: Vec<EndpointBody> = state
        .store
        .list_endpoints(&caller.key_id)
        .await?
        .iter()
        .filter(|e| !e.is_default())
        .map(|e| EndpointBody::of(e, None))
        .collect();
    Ok(Json(EndpointList { endpoints }))
}

/// One endpoint (`default`: the signer of per-job webhook URLs).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = EndpointBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EndpointBody>, ApiError> {
    Ok(Json(EndpointBody::of(&own_endpoint(&state, &caller, &id).await?, None)))
}

/// Change an endpoint's URL, events or description; enable or disable it.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    request_body = UpdateRequest,
    responses((status = 200, body = EndpointBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EndpointBody>, ApiError> {
    let request: UpdateRequest = parse_json(&headers, body, state.max_request_bytes)?;
    let endpoint = own_endpoint(&state, &caller, &id).await?;
    if endpoint.is_default() && (request.url.is_some() || request.events.is_some()) {
        let reason = "the default signer has no URL or events of its own".into();
        return Err(ApiError::Invalid { field: "url", reason });
    }
    let url = match request.url.as_deref() {
        Some(raw) => Some(parse_target(Some(raw), "url", &state.guard)?.to_string()),
        None => None,
    };
    let events = request.events.map(|e| events(Some(e))).transpose()?;
    let (description, enabled) = (request.description, request.enabled);
    let change: Change<Endpoint> = Arc::new(move |e| {
        if let Some(url) = &url {
            e.url = Some(url.clone());
        }
        if let Some(events) = &events {
            e.events = events.clone();
        }
        if let Some(description) = &description {
            e.description = description.clone();
        }
        match enabled {
            Some(true) => (e.status, e.status_reason) = (EndpointStatus::Active, None),
            Some(false) => {
                (e.status, e.status_reason) = (EndpointStatus::Disabled, Some("disabled by its owner".into()))
            }
            None => {}
        }
        e.updated_at = now_ms();
        true
    });
    Ok(Json(EndpointBody::of(&change_endpoint(&state, &endpoint.id, change).await?, None)))
}

/// Delete an endpoint (its delivery log stays).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let endpoint = own_endpoint(&state, &caller, &id).await?;
    if endpoint.is_default() {
        let reason = "the default signer cannot be deleted; rotate its secret instead".into();
        return Err(ApiError::Invalid { field: "id", reason });
    }
    state.store.delete_endpoint(&endpoint.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret, shown once; the old one keeps signing alongside for a day.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = RotatedSecret), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RotatedSecret>, ApiError> {
    let endpoint = own_endpoint(&state, &caller, &id).await?;
    let secret = sign::new_secret();
    let sealed = state.secrets.seal(&secret, &endpoint.id);
    let until = now_ms() + ROTATION_OVERLAP.as_millis() as i64;
    let change: Change<Endpoint> = Arc::new(move |e| {
        e.previous_secret = Some(std::mem::replace(&mut e.secret, sealed.clone()));
        e.previous_secret_until = Some(until);
        e.updated_at = now_ms();
        true
    });
    let endpoint = change_endpoint(&state, &endpoint.id, change).await?;
    Ok(Json(RotatedSecret {
        id: EndpointBody::of(&endpoint, None).id,
        secret,
        previous_secret_valid_until: rfc3339(until),
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct LogQuery {
    limit: Option<usize>,
}

/// An endpoint's deliveries, newest first, each with its attempts.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), ("limit" = Option<usize>, Query, description = "1 to 200, default 50")),
    responses((status = 200, body = DeliveryList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<DeliveryList>, ApiError> {
    let Query(query) = query?;
    let endpoint = own_endpoint(&state, &caller, &id).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_LOG);
    let deliveries = state.store.list_deliveries(&endpoint.id, limit).await?.iter().map(DeliveryBody::of).collect();
    Ok(Json(DeliveryList { deliveries }))
}

/// Sends a delivery again, whatever became of it, with a fresh round of the schedule.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, body = DeliveryBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let endpoint = own_endpoint(&state, &caller, &id).await?;
    let not_found = || ApiError::NotFound { what: "delivery" };
    let owned = state.store.get_delivery(&delivery_id).await?.filter(|d| d.endpoint_id == endpoint.id);
    owned.ok_or_else(not_found)?;
    let change: Change<Delivery> = Arc::new(|d| {
        let now = now_ms();
        d.status = DeliveryStatus::Pending;
        d.next_attempt_at = Some(now);
        d.round_start = d.attempts.len() as u32;
        d.manual = true;
        d.updated_at = now;
        true
    });
    match state.store.update_delivery(&delivery_id, change).await? {
        Applied::Yes(d) | Applied::No(d) => Ok((StatusCode::ACCEPTED, Json(DeliveryBody::of(&d))).into_response()),
        Applied::NotFound => Err(not_found()),
    }
}
