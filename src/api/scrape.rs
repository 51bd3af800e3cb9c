//! Scrape jobs: submit, status, result. Paths, field names and the `202` answer are the
//! original's.

use super::auth::Caller;
use super::error::ErrorBody;
use super::input::{idempotency_key, parse_json, parse_target, parse_webhook};
use super::{ApiError, AppState};
use crate::job::{Job, JobOptions, JobStatus, Stage, now_ms, rfc3339};
use crate::store::StoreError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/scrape/company", post(submit))
        .route("/api/v1/scrape/status/{id}", get(status))
        .route("/api/v1/scrape/{id}", get(result))
}

/// A company site to report on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct SubmitRequest {
    /// The company's website (`https://stripe.com`, or just `stripe.com`).
    #[schema(required = true, nullable = false, min_length = 1, example = "https://stripe.com")]
    url: Option<String>,
    /// Where to POST the signed `scrape.completed` / `scrape.failed` event.
    webhook_url: Option<String>,
    #[serde(default)]
    options: JobOptions,
    /// Seconds: a completed report of the same site this young is returned instead of a new crawl.
    max_age: Option<u64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SubmitResponse {
    pub scrape_id: String,
    pub status: JobStatus,
    pub message: &'static str,
    /// Present (true) when a recent report was reused (`max_age`).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub reused: bool,
}

/// What a submit came to.
pub(super) enum Submitted {
    Queued(Job),
    /// The same `Idempotency-Key` was used before, for the same request.
    Replayed(Job),
    /// A young enough report of the same site exists.
    Reused(Job),
}

/// How far back `max_age` looks: the key's most recent completed jobs.
const REUSE_WINDOW: usize = 50;

/// Submit a company site: the job is queued and its id answered at once.
#[utoipa::path(post, path = "/api/v1/scrape/company", tag = "jobs", request_body = SubmitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and request give back the first job")),
    responses(
        (status = 202, description = "Queued", body = SubmitResponse),
        (status = 200, description = "A recent report of the same site was reused (`max_age`)", body = SubmitResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: SubmitRequest = parse_json(&headers, body, state.max_request_bytes)?;
    let idempotency = idempotency_key(&headers)?;
    let outcome = enqueue(&state, &caller, request, idempotency).await?;
    let (job, code, message, reused) = match outcome {
        Submitted::Queued(job) | Submitted::Replayed(job) => {
            (job, StatusCode::ACCEPTED, "Job queued successfully!", false)
        }
        Submitted::Reused(job) => (job, StatusCode::OK, "Reused a recent report of this site.", true),
    };
    let location = format!("/api/v1/scrape/status/{}", job.id);
    // A replay answers the job as it is now.
    let body = SubmitResponse { scrape_id: job.id, status: job.status, message, reused };
    let mut response = (code, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Validates one request and queues its job (or finds the one it names again).
pub(super) async fn enqueue(
    state: &AppState,
    caller: &Caller,
    request: SubmitRequest,
    idempotency: Option<&str>,
) -> Result<Submitted, ApiError> {
    let url = parse_target(request.url.as_deref(), "url", &state.guard)?;
    let webhook_url = parse_webhook(request.webhook_url.as_deref(), &state.guard)?;
    if let Some(pages) = request.options.max_pages {
        if pages == 0 || pages > state.max_pages_limit {
            let reason = format!("must be from 1 to {} (KRAWLR_MAX_PAGES_LIMIT)", state.max_pages_limit);
            return Err(ApiError::Invalid { field: "options.max_pages", reason });
        }
    }
    if let Some(max_age) = request.max_age {
        if let Some(recent) = recent_report(state, caller, &url, max_age).await? {
            return Ok(Submitted::Reused(recent));
        }
    }
    // With an Idempotency-Key the job's id is derived from it, so a retried request finds the
    // job its first attempt made instead of making a second.
    let id = match idempotency {
        Some(key) => {
            let digest = Sha256::digest(format!("{}\n{key}", caller.key_id));
            let bytes: [u8; 16] = digest[..16].try_into().expect("16 bytes");
            uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    let mut job = Job::new(id, caller.key_id.clone(), url.clone(), now_ms());
    job.webhook_url = webhook_url;
    job.options = request.options;
    crate::failpoint!("before_create_job", |_| Err(ApiError::Unavailable("the before_create_job fault point".into())));
    match state.relay.submit(&job, state.max_active_jobs).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) if idempotency.is_some() => {
            let first = state.store.get_job(&job.id).await?.ok_or(ApiError::NotFound { what: "job" })?;
            if first.url != job.url || first.webhook_url != job.webhook_url || first.options != job.options {
                return Err(ApiError::IdempotencyMismatch);
            }
            return Ok(Submitted::Replayed(first));
        }
        Err(StoreError::TooManyActive(active)) => return Err(ApiError::TooManyActiveJobs { active }),
        Err(e) => return Err(e.into()),
    }
    Ok(Submitted::Queued(job))
}

/// The key's most recent completed job of the same host, if completed within `max_age` seconds.
async fn recent_report(state: &AppState, caller: &Caller, url: &Url, max_age: u64) -> Result<Option<Job>, ApiError> {
    let since = now_ms() - (max_age.min(365 * 86_400) * 1000) as i64;
    let host = |u: &Url| u.host_str().map(|h| h.trim_start_matches("www.").to_string());
    let wanted = host(url);
    let recent = state.store.list_jobs(&caller.key_id, Some(JobStatus::Completed), None, REUSE_WINDOW).await?;
    Ok(recent.into_iter().find(|j| j.completed_at.is_some_and(|t| t >= since) && host(&j.url) == wanted))
}

/// The original's status document, plus timestamps.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct StatusBody {
    job_id: String,
    status: JobStatus,
    progress_percent: u8,
    current_stage: Stage,
    duration_seconds: i64,
    url: String,
    /// The company's name, once the `profile` stage has read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    company_name: Option<String>,
    attempts: u32,
    error: Option<String>,
    created_at: String,
    updated_at: String,
    started_at: Option<String>,
    completed_at: Option<String>,
    result_url: Option<String>,
}

impl StatusBody {
    pub(super) fn of(job: &Job) -> Self {
        let end = job.completed_at.unwrap_or_else(now_ms);
        StatusBody {
            job_id: job.id.clone(),
            status: job.status,
            progress_percent: job.progress_percent,
            current_stage: job.current_stage,
            duration_seconds: (end - job.created_at).max(0) / 1000,
            url: job.url.to_string(),
            company_name: job.company_name.clone(),
            attempts: job.attempt,
            error: job.error.clone(),
            created_at: rfc3339(job.created_at),
            updated_at: rfc3339(job.updated_at),
            started_at: job.started_at.map(rfc3339),
            completed_at: job.completed_at.map(rfc3339),
            result_url: (job.status == JobStatus::Completed).then(|| format!("/api/v1/scrape/{}", job.id)),
        }
    }
}

/// The caller's job; another key's job is as unknown as a missing one, and one that retention
/// removed is `410 Gone`.
pub(super) async fn own_job(state: &AppState, caller: &Caller, id: &str) -> Result<Job, ApiError> {
    match state.store.get_job(id).await? {
        Some(job) if job.key_id == caller.key_id => Ok(job),
        Some(_) => Err(ApiError::NotFound { what: "job" }),
        None => match state.store.get_tombstone(id).await? {
            Some(gone) if gone.key_id == caller.key_id => Err(ApiError::Gone {
                id: gone.job_id,
                status: gone.status,
                removed_at: rfc3339(gone.removed_at),
                kept: state.retention.map_or("for ever".into(), |r| format!("{} days", r.as_secs_f64() / 86_400.0)),
            }),
            _ => Err(ApiError::NotFound { what: "job" }),
        },
    }
}

/// A job's status document.
#[utoipa::path(get, path = "/api/v1/scrape/status/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = StatusBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, description = "Removed after its retention", body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StatusBody>, ApiError> {
    Ok(Json(StatusBody::of(&own_job(&state, &caller, &id).await?)))
}

/// The report of a completed job. Before then: `202` with the status document; a failed or
/// cancelled job: `409` with the reason.
#[utoipa::path(get, path = "/api/v1/scrape/{id}", tag = "jobs", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The report", body = Report),
        (status = 202, description = "Not finished yet (`Retry-After`)", body = StatusBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, description = "Removed after its retention", body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn result(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = own_job(&state, &caller, &id).await?;
    match job.status {
        JobStatus::Completed => {
            let Some(mut report) = state.store.get_result(&job.id).await? else {
                let missing = format!("job {} is completed but has no stored result", job.id);
                return Err(ApiError::Internal(missing.into()));
            };
            if let Some(map) = report.as_object_mut() {
                map.insert("job_id".into(), job.id.clone().into());
            }
            Ok(Json(report).into_response())
        }
        JobStatus::Failed | JobStatus::Cancelled => Err(ApiError::JobEnded {
            reason: job.error.clone().unwrap_or_else(|| "no reason recorded".into()),
            id: job.id,
            status: job.status,
        }),
        JobStatus::Queued | JobStatus::Processing | JobStatus::Retrying => {
            let mut response = (StatusCode::ACCEPTED, Json(StatusBody::of(&job))).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            Ok(response)
        }
    }
}

/// The report: its schema is the one `krawlr schema` prints, put in place by the OpenAPI document.
pub struct Report;

impl utoipa::PartialSchema for Report {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new().into()
    }
}

impl utoipa::ToSchema for Report {}
