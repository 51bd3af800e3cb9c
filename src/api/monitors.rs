//! Monitors a key keeps: a site re-scraped every `interval_seconds`, and the changes found.
//! A monitor belongs to one key; another key's monitor is as unknown as a missing one.

use super::auth::Caller;
use super::error::ErrorBody;
use super::input::{parse_json, parse_target, parse_webhook};
use super::{ApiError, AppState};
use crate::job::{now_ms, rfc3339};
use crate::monitor::ChangeBody;
use crate::store::{Applied, Change, Monitor, MonitorStatus};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Changes one page of `…/changes` shows at most.
const MAX_CHANGES: usize = 200;
/// Paths of `fields` at most, and the longest.
const MAX_FIELDS: usize = 50;
const MAX_FIELD_LEN: usize = 200;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/monitors", get(list).post(create))
        .route("/api/v1/monitors/{id}", get(one).patch(update).delete(delete))
        .route("/api/v1/monitors/{id}/changes", get(changes))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct CreateRequest {
    #[schema(required = true, nullable = false, min_length = 1, example = "https://stripe.com")]
    url: Option<String>,
    /// At least `KRAWLR_MONITOR_MIN_INTERVAL_SECONDS`.
    #[schema(required = true, nullable = false, minimum = 1)]
    interval_seconds: Option<f64>,
    webhook_url: Option<String>,
    /// Paths whose changes count (`company.headquarters`, `funding.rounds`, `news`); default: all.
    fields: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct UpdateRequest {
    #[schema(minimum = 1)]
    interval_seconds: Option<f64>,
    /// An empty string removes it.
    webhook_url: Option<String>,
    fields: Option<Vec<String>>,
    /// `false` pauses the monitor; `true` resumes it (and clears `failing`).
    enabled: Option<bool>,
}

/// A monitor as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct MonitorBody {
    id: String,
    url: String,
    interval_seconds: f64,
    webhook_url: Option<String>,
    fields: Vec<String>,
    status: MonitorStatus,
    status_reason: Option<String>,
    /// Runs started so far.
    runs: u64,
    /// The job of the run in progress, if one is.
    running_job_id: Option<String>,
    /// The last completed run's job: what the next run is compared with.
    last_job_id: Option<String>,
    changes: u64,
    consecutive_failures: u32,
    next_run_at: String,
    last_run_at: Option<String>,
    last_change_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl MonitorBody {
    fn of(m: &Monitor) -> MonitorBody {
        MonitorBody {
            id: m.id.clone(),
            url: m.url.clone(),
            interval_seconds: m.interval_ms as f64 / 1000.0,
            webhook_url: m.webhook_url.clone(),
            fields: m.fields.clone(),
            status: m.status,
            status_reason: m.status_reason.clone(),
            runs: m.runs,
            running_job_id: m.running.map(|run| m.job_id(run)),
            last_job_id: m.baseline_job_id.clone(),
            changes: m.changes,
            consecutive_failures: m.consecutive_failures,
            next_run_at: rfc3339(m.next_run_at),
            last_run_at: m.last_run_at.map(rfc3339),
            last_change_at: m.last_change_at.map(rfc3339),
            created_at: rfc3339(m.created_at),
            updated_at: rfc3339(m.updated_at),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct MonitorList {
    monitors: Vec<MonitorBody>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ChangeList {
    changes: Vec<ChangeBody>,
}

/// An interval as milliseconds, if it is a number of seconds at least the minimum.
fn interval(seconds: f64, state: &AppState) -> Result<i64, ApiError> {
    let min = state.monitor_min_interval.as_secs_f64();
    if !seconds.is_finite() || seconds < min || seconds > 366.0 * 86_400.0 {
        let reason = format!("must be from {min} (KRAWLR_MONITOR_MIN_INTERVAL_SECONDS) to 31622400 seconds");
        return Err(ApiError::Invalid { field: "interval_seconds", reason });
    }
    Ok((seconds * 1000.0).round() as i64)
}

/// Field paths, trimmed, each once.
fn fields(requested: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
    let mut fields: Vec<String> = requested.unwrap_or_default().iter().map(|f| f.trim().to_string()).collect();
    let bad = fields.iter().find(|f| {
        f.is_empty()
            || f.len() > MAX_FIELD_LEN
            || !f.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
            || f.starts_with('.')
            || f.ends_with('.')
    });
    if let Some(bad) = bad {
        let reason = format!("{bad:?} is not a report path such as company.headquarters or funding.rounds");
        return Err(ApiError::Invalid { field: "fields", reason });
    }
    if fields.len() > MAX_FIELDS {
        return Err(ApiError::Invalid { field: "fields", reason: format!("at most {MAX_FIELDS} paths") });
    }
    fields.sort();
    fields.dedup();
    Ok(fields)
}

/// The caller's monitor.
async fn own(state: &AppState, caller: &Caller, id: &str) -> Result<Monitor, ApiError> {
    match state.store.get_monitor(id).await? {
        Some(m) if m.key_id == caller.key_id => Ok(m),
        _ => Err(ApiError::NotFound { what: "monitor" }),
    }
}

/// Watch a site: it is scraped now and every `interval_seconds`, and each report compared with
/// the one before; what changed is kept (`…/changes`) and sent as `report.changed`.
#[utoipa::path(post, path = "/api/v1/monitors", tag = "monitors", operation_id = "create_monitor", request_body = CreateRequest,
    responses((status = 201, body = MonitorBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The key has as many monitors as it may (`too_many_monitors`)"),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: CreateRequest = parse_json(&headers, body, state.max_request_bytes)?;
    let url = parse_target(request.url.as_deref(), "url", &state.guard)?;
    let seconds = request.interval_seconds.ok_or(ApiError::Missing { field: "interval_seconds" })?;
    let interval_ms = interval(seconds, &state)?;
    let webhook_url = parse_webhook(request.webhook_url.as_deref(), &state.guard)?;
    let fields = fields(request.fields)?;
    let count = state.store.list_monitors(&caller.key_id).await?.len();
    if count >= state.max_monitors {
        return Err(ApiError::TooManyMonitors { count });
    }
    let id = format!("mon_{}", uuid::Uuid::new_v4().simple());
    let monitor =
        Monitor { webhook_url, fields, ..Monitor::new(id, &caller.key_id, url.as_str(), interval_ms, now_ms()) };
    state.store.create_monitor(&monitor).await?;
    Ok((StatusCode::CREATED, Json(MonitorBody::of(&monitor))).into_response())
}

/// The key's monitors, oldest first.
#[utoipa::path(get, path = "/api/v1/monitors", tag = "monitors", operation_id = "list_monitors",
    responses((status = 200, body = MonitorList), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<MonitorList>, ApiError> {
    let monitors = state.store.list_monitors(&caller.key_id).await?.iter().map(MonitorBody::of).collect();
    Ok(Json(MonitorList { monitors }))
}

/// One monitor.
#[utoipa::path(get, path = "/api/v1/monitors/{id}", tag = "monitors", operation_id = "get_monitor",
    params(("id" = String, Path)),
    responses((status = 200, body = MonitorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<MonitorBody>, ApiError> {
    Ok(Json(MonitorBody::of(&own(&state, &caller, &id).await?)))
}

/// Change a monitor's interval, webhook or fields; pause or resume it.
#[utoipa::path(patch, path = "/api/v1/monitors/{id}", tag = "monitors", operation_id = "update_monitor",
    params(("id" = String, Path)), request_body = UpdateRequest,
    responses((status = 200, body = MonitorBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<MonitorBody>, ApiError> {
    let request: UpdateRequest = parse_json(&headers, body, state.max_request_bytes)?;
    own(&state, &caller, &id).await?;
    let interval_ms = request.interval_seconds.map(|s| interval(s, &state)).transpose()?;
    // Left out keeps it; blank removes it.
    let webhook_url = request.webhook_url.map(|raw| parse_webhook(Some(&raw), &state.guard)).transpose()?;
    let fields = request.fields.map(|f| fields(Some(f))).transpose()?;
    let enabled = request.enabled;
    let now = now_ms();
    let change: Change<Monitor> = Arc::new(move |m| {
        if let Some(ms) = interval_ms {
            // The next run moves with the interval, counted from the last run.
            m.next_run_at = m.last_run_at.map_or(m.next_run_at, |last| last + ms);
            if m.running.is_none() {
                m.wake_at = m.next_run_at;
            }
            m.interval_ms = ms;
        }
        if let Some(url) = &webhook_url {
            m.webhook_url = url.clone();
        }
        if let Some(fields) = &fields {
            m.fields = fields.clone();
        }
        match enabled {
            Some(false) => {
                m.status = MonitorStatus::Paused;
                m.status_reason = Some("paused by its owner".into());
            }
            Some(true) if m.status != MonitorStatus::Active => {
                m.status = MonitorStatus::Active;
                m.status_reason = None;
                m.consecutive_failures = 0;
                m.wake_at = m.wake_at.min(now.max(m.next_run_at));
            }
            _ => {}
        }
        m.updated_at = now;
        true
    });
    match state.store.update_monitor(&id, change).await? {
        Applied::Yes(m) | Applied::No(m) => Ok(Json(MonitorBody::of(&m))),
        Applied::NotFound => Err(ApiError::NotFound { what: "monitor" }),
    }
}

/// Delete a monitor and its changes; a run in progress finishes as an ordinary job.
#[utoipa::path(delete, path = "/api/v1/monitors/{id}", tag = "monitors", operation_id = "delete_monitor",
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    own(&state, &caller, &id).await?;
    state.store.delete_monitor(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the monitor's runs found changed, newest first.
#[utoipa::path(get, path = "/api/v1/monitors/{id}/changes", tag = "monitors", operation_id = "list_monitor_changes",
    params(("id" = String, Path)),
    responses((status = 200, body = ChangeList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn changes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ChangeList>, ApiError> {
    own(&state, &caller, &id).await?;
    let changes = state.store.list_changes(&id, MAX_CHANGES).await?.into_iter().map(ChangeBody::from).collect();
    Ok(Json(ChangeList { changes }))
}
