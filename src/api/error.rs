//! Every HTTP error in one place. A 4xx says clearly what was wrong; a 5xx says little to the
//! client and logs its cause once, here.

use crate::queue::QueueError;
use crate::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing API key: send Authorization: Bearer <key>")]
    MissingKey,
    #[error("the Authorization header must be: Bearer <key>")]
    BadAuthorization,
    #[error("invalid or revoked API key")]
    InvalidKey,
    #[error("the request body must be a JSON object: {0}")]
    InvalidJson(String),
    #[error("the query string is invalid: {0}")]
    InvalidQuery(String),
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{field} is not a valid URL: {reason}")]
    InvalidUrl { field: &'static str, reason: String },
    #[error("{field} is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("this Idempotency-Key was used before with a different request")]
    IdempotencyMismatch,
    #[error("job {id} has already {status}")]
    JobFinished { id: String, status: crate::job::JobStatus },
    #[error("job {id} is {status}: only a failed or cancelled job can be retried")]
    NotRetryable { id: String, status: crate::job::JobStatus },
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("job {id} ({status}) was removed on {removed_at}: finished jobs are kept {kept} (KRAWLR_RETENTION_DAYS)")]
    Gone { id: String, status: crate::job::JobStatus, removed_at: String, kept: String },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("job {id} {status}: {reason}")]
    JobEnded { id: String, status: crate::job::JobStatus, reason: String },
    #[error("too many requests for this key; retry after {} s", retry_after.as_secs_f64().ceil())]
    RateLimited { retry_after: std::time::Duration },
    #[error("this key has {active} unfinished jobs, its limit; wait for some to finish or cancel them")]
    TooManyActiveJobs { active: u64 },
    #[error("this key has {open} event streams open, its limit; close one first")]
    TooManyStreams { open: usize },
    #[error("this key has {count} webhook endpoints, its limit; delete one first")]
    TooManyEndpoints { count: usize },
    #[error("this key has {count} monitors, its limit; delete one first")]
    TooManyMonitors { count: usize },
    #[error("temporarily unavailable, try again shortly")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingKey | ApiError::BadAuthorization | ApiError::InvalidKey => StatusCode::UNAUTHORIZED,
            ApiError::InvalidJson(_) | ApiError::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Missing { .. } | ApiError::InvalidUrl { .. } | ApiError::Invalid { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::JobEnded { .. } | ApiError::JobFinished { .. } | ApiError::NotRetryable { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } | ApiError::TooManyActiveJobs { .. } | ApiError::TooManyStreams { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::TooManyEndpoints { .. } | ApiError::TooManyMonitors { .. } => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MissingKey => "missing_api_key",
            ApiError::BadAuthorization => "invalid_authorization",
            ApiError::InvalidKey => "invalid_api_key",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::Missing { .. } => "missing_field",
            ApiError::InvalidUrl { .. } => "invalid_url",
            ApiError::Invalid { .. } => "invalid_field",
            ApiError::IdempotencyMismatch => "idempotency_key_reused",
            ApiError::JobFinished { .. } => "job_finished",
            ApiError::NotRetryable { .. } => "job_not_retryable",
            ApiError::NotFound { .. } => "not_found",
            ApiError::Gone { .. } => "gone",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::JobEnded { status, .. } => match status {
                crate::job::JobStatus::Cancelled => "job_cancelled",
                _ => "job_failed",
            },
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::TooManyActiveJobs { .. } => "too_many_active_jobs",
            ApiError::TooManyStreams { .. } => "too_many_streams",
            ApiError::TooManyEndpoints { .. } => "too_many_endpoints",
            ApiError::TooManyMonitors { .. } => "too_many_monitors",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, source = ?cause.source(), "request failed")
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = %cause, source = ?cause.source(), "backend unavailable")
            }
            _ => {}
        }
        let body = json!({"error": {"code": self.code(), "message": self.to_string()}});
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::MissingKey | ApiError::BadAuthorization | ApiError::InvalidKey => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::RateLimited { retry_after } => {
                let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            ApiError::TooManyActiveJobs { .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
            }
            _ => {}
        }
        response
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::InvalidQuery(rejection.body_text())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(e) => ApiError::Unavailable(e),
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(err: QueueError) -> Self {
        match err {
            QueueError::Unavailable(e) => ApiError::Unavailable(e),
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

/// Every error: `{"error": {"code": "…", "message": "…"}}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs (`invalid_url`, `rate_limited`, …).
    pub code: String,
    /// For people.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_has_its_status_and_code() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (ApiError::MissingKey, 401, "missing_api_key"),
            (ApiError::BadAuthorization, 401, "invalid_authorization"),
            (ApiError::InvalidKey, 401, "invalid_api_key"),
            (ApiError::InvalidJson("x".into()), 400, "invalid_json"),
            (ApiError::InvalidQuery("x".into()), 400, "invalid_query"),
            (ApiError::UnsupportedMediaType, 415, "unsupported_media_type"),
            (ApiError::PayloadTooLarge(1), 413, "payload_too_large"),
            (ApiError::Missing { field: "url" }, 422, "missing_field"),
            (ApiError::InvalidUrl { field: "url", reason: "x".into() }, 422, "invalid_url"),
            (ApiError::Invalid { field: "events", reason: "x".into() }, 422, "invalid_field"),
            (ApiError::IdempotencyMismatch, 422, "idempotency_key_reused"),
            (ApiError::TooManyStreams { open: 1 }, 429, "too_many_streams"),
            (ApiError::TooManyEndpoints { count: 1 }, 409, "too_many_endpoints"),
            (ApiError::JobFinished { id: "j".into(), status: crate::job::JobStatus::Completed }, 409, "job_finished"),
            (
                ApiError::NotRetryable { id: "j".into(), status: crate::job::JobStatus::Queued },
                409,
                "job_not_retryable",
            ),
            (ApiError::NotFound { what: "job" }, 404, "not_found"),
            (
                ApiError::Gone {
                    id: "j".into(),
                    status: crate::job::JobStatus::Completed,
                    removed_at: "2026-01-01T00:00:00Z".into(),
                    kept: "30 days".into(),
                },
                410,
                "gone",
            ),
            (ApiError::MethodNotAllowed, 405, "method_not_allowed"),
            (
                ApiError::JobEnded { id: "j".into(), status: crate::job::JobStatus::Failed, reason: "r".into() },
                409,
                "job_failed",
            ),
            (ApiError::RateLimited { retry_after: std::time::Duration::from_millis(300) }, 429, "rate_limited"),
            (ApiError::TooManyActiveJobs { active: 3 }, 429, "too_many_active_jobs"),
            (ApiError::Unavailable("busy".into()), 503, "unavailable"),
            (ApiError::Internal("boom".into()), 500, "internal"),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status().as_u16(), status, "{err:?}");
            assert_eq!(err.code(), code);
        }
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let err = ApiError::Internal("secret path /var/lib/x".into());
        assert_eq!(err.to_string(), "internal error");
    }
}
