//! Job management around the original's three routes: the key's job list, cancellation, batch
//! submit, and each job's live progress as Server-Sent Events.

use super::auth::Caller;
use super::error::ErrorBody;
use super::input::{idempotency_key, parse_json};
use super::scrape::{StatusBody, SubmitRequest, SubmitResponse, Submitted, enqueue, own_job};
use super::{ApiError, AppState};
use crate::job::{JobChange, JobStatus, Transition};
use crate::store::{Applied, JobCursor};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::Stream;
use serde::Deserialize;
use std::convert::Infallible;

/// Most jobs in one batch, and on one page of the list.
const MAX_BATCH: usize = 100;
const MAX_PAGE: usize = 100;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/scrape", get(list))
        .route("/api/v1/scrape/batch", post(batch))
        .route("/api/v1/scrape/{id}/cancel", post(cancel))
        .route("/api/v1/scrape/{id}/retry", post(retry))
        .route("/api/v1/scrape/{id}/events", get(events))
        .route("/api/v1/queue/stats", get(queue_stats))
}

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    status: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

fn encode_cursor(c: &JobCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", c.created_at, c.id))
}

fn decode_cursor(raw: &str) -> Result<JobCursor, ApiError> {
    let invalid = || ApiError::Invalid { field: "cursor", reason: "not a cursor this API gave out".into() };
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?).map_err(|_| invalid())?;
    let (at, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok(JobCursor { created_at: at.parse().map_err(|_| invalid())?, id: id.to_string() })
}

/// The caller's jobs, newest first; `next_cursor` fetches the next page.
#[utoipa::path(get, path = "/api/v1/scrape", tag = "jobs", operation_id = "list_jobs",
    params(("status" = Option<JobStatus>, Query), ("limit" = Option<usize>, Query, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = JobList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<JobList>, ApiError> {
    let Query(query) = query?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(JobStatus::parse(s).ok_or_else(|| ApiError::Invalid {
            field: "status",
            reason: format!("expected one of {}", JobStatus::ALL.map(|s| s.as_str()).join(", ")),
        })?),
    };
    let limit = query.limit.unwrap_or(20).clamp(1, MAX_PAGE);
    let after = query.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
    let jobs = state.store.list_jobs(&caller.key_id, status, after.as_ref(), limit).await?;
    let next = (jobs.len() == limit)
        .then(|| jobs.last().map(|j| encode_cursor(&JobCursor { created_at: j.created_at, id: j.id.clone() })))
        .flatten();
    Ok(Json(JobList { jobs: jobs.iter().map(StatusBody::of).collect(), next_cursor: next }))
}

/// A queued job never runs; a running one stops at its next stage boundary. Cancelling a
/// cancelled job again is harmless; a job that ended otherwise answers 409.
#[utoipa::path(post, path = "/api/v1/scrape/{id}/cancel", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = StatusBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, description = "Removed after its retention", body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StatusBody>, ApiError> {
    let job = own_job(&state, &caller, &id).await?;
    // The change and its one `scrape.cancelled` event are committed together.
    match state.relay.transition(&job.id, &Transition::cancel_by_client(), None).await? {
        Applied::Yes(cancelled) => Ok(Json(StatusBody::of(&cancelled))),
        Applied::No(same) if same.status == JobStatus::Cancelled => Ok(Json(StatusBody::of(&same))),
        Applied::No(ended) => Err(ApiError::JobFinished { id: ended.id, status: ended.status }),
        Applied::NotFound => Err(ApiError::NotFound { what: "job" }),
    }
}

/// A failed or cancelled job runs again: a fresh round of delivery attempts, under the same id,
/// its history kept (its event stream and webhooks go on from where they were).
#[utoipa::path(post, path = "/api/v1/scrape/{id}/retry", tag = "jobs", params(("id" = String, Path)),
    responses((status = 202, body = StatusBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The job is not failed or cancelled", body = ErrorBody),
        (status = 410, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<StatusBody>), ApiError> {
    let job = own_job(&state, &caller, &id).await?;
    match state.relay.transition(&job.id, &Transition::Rerun, None).await? {
        Applied::Yes(queued) => Ok((StatusCode::ACCEPTED, Json(StatusBody::of(&queued)))),
        Applied::No(job) => Err(ApiError::NotRetryable { id: job.id, status: job.status }),
        Applied::NotFound => Err(ApiError::NotFound { what: "job" }),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct BatchRequest {
    /// 1 to 100 jobs, each as `POST /api/v1/scrape/company` takes it.
    #[schema(value_type = Vec<SubmitRequest>, min_items = 1, max_items = 100)]
    jobs: Vec<serde_json::Value>,
}

/// One job of a batch: its answer, or why it was refused.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // a schema: the handler builds the same JSON
pub(super) enum BatchResult {
    Accepted(SubmitResponse),
    Refused(ErrorBody),
}

/// A refused batch: every job's answer, or why the batch itself was refused.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // a schema: the handler builds the same JSON
pub(super) enum BatchRefused {
    Jobs(BatchResponse),
    Batch(ErrorBody),
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub(super) struct BatchResponse {
    accepted: usize,
    rejected: usize,
    results: Vec<BatchResult>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(super) struct JobList {
    jobs: Vec<StatusBody>,
    next_cursor: Option<String>,
}

/// Up to 100 jobs in one request, each validated on its own: `202` when any was queued, with
/// a result per job in order (its `scrape_id`, or its error). Should the store fail mid-way,
/// the jobs queued before are still answered, the rest say `not_attempted`, and the same
/// request sent again with the same `Idempotency-Key` gives back the same jobs and queues the
/// rest.
#[utoipa::path(post, path = "/api/v1/scrape/batch", tag = "jobs", request_body = BatchRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and request give back the same jobs")),
    responses((status = 202, body = BatchResponse), (status = 422, description = "None accepted, or not 1 to 100 jobs", body = BatchRefused),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, description = "None accepted: the store is unavailable", body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn batch(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: BatchRequest = parse_json(&headers, body, state.max_request_bytes)?;
    if request.jobs.is_empty() || request.jobs.len() > MAX_BATCH {
        let reason = format!("1 to {MAX_BATCH} jobs, got {}", request.jobs.len());
        return Err(ApiError::Invalid { field: "jobs", reason });
    }
    let batch_key = idempotency_key(&headers)?;
    let mut results = Vec::with_capacity(request.jobs.len());
    let mut accepted = 0;
    // The first server error ends the batch: the jobs before it are answered, those after it
    // are not attempted, and the same request with the same Idempotency-Key finishes the batch.
    let mut trouble: Option<ApiError> = None;
    for (i, item) in request.jobs.into_iter().enumerate() {
        if let Some(first) = &trouble {
            let message = format!("not attempted after an earlier job of the batch met: {first}");
            results.push(serde_json::json!({"error": {"code": "not_attempted", "message": message}}));
            continue;
        }
        // Each job's own key, derived from the batch's.
        let key = batch_key.map(|k| format!("{k}/{i}"));
        let one = match serde_json::from_value::<SubmitRequest>(item) {
            Ok(one) => enqueue(&state, &caller, one, key.as_deref()).await,
            Err(e) => Err(ApiError::InvalidJson(e.to_string())),
        };
        results.push(match one {
            Ok(Submitted::Queued(job) | Submitted::Replayed(job) | Submitted::Reused(job)) => {
                accepted += 1;
                let reused = job.status == JobStatus::Completed;
                let body = SubmitResponse {
                    scrape_id: job.id,
                    status: job.status,
                    message: if reused { "Reused a recent report of this site." } else { "Job queued successfully!" },
                    reused,
                };
                serde_json::to_value(body).expect("serializes")
            }
            Err(e) => {
                let body = serde_json::json!({"error": {"code": e.code(), "message": e.to_string()}});
                if !e.status().is_client_error() {
                    trouble = Some(e);
                }
                body
            }
        });
    }
    if let (0, Some(e)) = (accepted, trouble) {
        return Err(e);
    }
    let code = if accepted > 0 { StatusCode::ACCEPTED } else { StatusCode::UNPROCESSABLE_ENTITY };
    let rejected = results.len() - accepted;
    Ok((code, Json(serde_json::json!({"accepted": accepted, "rejected": rejected, "results": results})))
        .into_response())
}

/// The job's changes as Server-Sent Events: every state since `Last-Event-ID` (all of them on
/// a first connection), then each change as it happens, ending after the final one. Event ids
/// are the changes' sequence numbers; the event type is `progress` until the final status
/// (`completed`, `failed` or `cancelled`).
#[utoipa::path(get, path = "/api/v1/scrape/{id}/events", tag = "jobs",
    params(("id" = String, Path), ("Last-Event-ID" = Option<u32>, Header, description = "Resume after this change")),
    responses(
        (status = 200, description = "Server-Sent Events: `id` (the change's number), `event` (`progress`, then `completed`, `failed` or `cancelled`; or `reconnect` when the stream is cut short by its lifetime or the server's shutdown), `data` (JSON: job_id, status, current_stage, progress_percent, error, at)", content_type = "text/event-stream", body = String),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, description = "Removed after its retention", body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let job = own_job(&state, &caller, &id).await?;
    let last_seen: u32 =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    // The slot goes with the stream: freed when it ends or its client goes away.
    let slot = state.streams.open(&caller.key_id).map_err(|open| ApiError::TooManyStreams { open })?;
    let (store, poll) = (state.store.clone(), state.events_poll);
    // (the job as last read, the last change sent, whether the final one was sent)
    let start = (Some(job), last_seen, false);
    let changes = futures_util::stream::unfold(start, move |(mut job, mut last, done)| {
        let _slot = &slot;
        let store = store.clone();
        let id = id.clone();
        async move {
            if done {
                return None;
            }
            loop {
                let current = match job.take() {
                    Some(current) => current,
                    None => {
                        tokio::time::sleep(poll).await;
                        match store.get_job(&id).await {
                            Ok(Some(current)) => current,
                            Ok(None) => return None,
                            Err(e) => {
                                tracing::debug!(error = %e, "event stream: store unavailable; polling again");
                                continue;
                            }
                        }
                    }
                };
                let fresh: Vec<Event> =
                    current.history.iter().filter(|c| c.seq > last).map(|c| event(&id, c)).collect();
                let finished = current.status.is_terminal();
                if fresh.is_empty() {
                    if finished {
                        return None;
                    }
                    continue;
                }
                last = current.history.last().map_or(last, |c| c.seq);
                return Some((futures_util::stream::iter(fresh.into_iter().map(Ok)), (None, last, finished)));
            }
        }
    });
    // A stream lives at most `stream_lifetime`, and not past the process's shutdown; then a last
    // `reconnect` event says why, and the client resumes with `Last-Event-ID`.
    let (lifetime, shutdown) = (state.stream_lifetime, state.shutdown.clone());
    let cut = std::sync::Arc::new(std::sync::OnceLock::new());
    let stop = {
        let cut = cut.clone();
        async move {
            let reason = tokio::select! {
                _ = tokio::time::sleep(lifetime) => "the stream reached its longest lifetime",
                _ = shutdown.cancelled() => "the server is shutting down",
            };
            let _ = cut.set(reason);
        }
    };
    let last = futures_util::stream::once(async move { cut.get().map(|reason| Ok(reconnect(reason))) });
    let changes = futures_util::StreamExt::flatten(futures_util::StreamExt::take_until(changes, stop));
    let changes =
        futures_util::StreamExt::chain(changes, futures_util::StreamExt::filter_map(last, std::future::ready));
    Ok(Sse::new(changes).keep_alive(KeepAlive::default()))
}

/// The last event of a stream cut short: reconnect (with `Last-Event-ID`) in a second.
fn reconnect(reason: &str) -> Event {
    Event::default()
        .event("reconnect")
        .retry(std::time::Duration::from_secs(1))
        .data(serde_json::json!({ "reason": reason, "resume_with": "Last-Event-ID" }).to_string())
}

fn event(job_id: &str, change: &JobChange) -> Event {
    let kind = if change.status.is_terminal() { change.status.as_str() } else { "progress" };
    let data = serde_json::json!({
        "job_id": job_id,
        "status": change.status,
        "current_stage": change.current_stage,
        "progress_percent": change.progress_percent,
        "error": change.error,
        "at": crate::job::rfc3339(change.at),
    });
    Event::default().id(change.seq.to_string()).event(kind).data(data.to_string())
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(super) struct QueueStats {
    subscriptions: Vec<crate::queue::SubscriptionStats>,
    /// Why figures are missing, when they are (Pub/Sub's emulator keeps none).
    note: Option<String>,
}

/// Backlog, in flight, oldest unacked age and dead-lettered, per subscription.
#[utoipa::path(get, path = "/api/v1/queue/stats", tag = "operations",
    responses((status = 200, body = QueueStats), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn queue_stats(State(state): State<AppState>, _caller: Caller) -> Json<QueueStats> {
    let t = &state.topics;
    let mut subscriptions = Vec::new();
    let mut note = None;
    for name in t.subscription_names() {
        match state.broker.stats(name).await {
            Ok(stats) => subscriptions.push(stats),
            Err(e) => note = Some(crate::telemetry::chain(&e)),
        }
    }
    Json(QueueStats { subscriptions, note })
}
