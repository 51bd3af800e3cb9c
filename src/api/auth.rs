//! `Authorization: Bearer <key>`: the key is hashed and looked up; a revoked key is refused; a
//! key over its request rate gets `429` with `Retry-After`.

use super::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// The authenticated key a request acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or(ApiError::MissingKey)?;
        let value = header.to_str().map_err(|_| ApiError::BadAuthorization)?;
        let (scheme, secret) = value.trim().split_once(' ').ok_or(ApiError::BadAuthorization)?;
        let secret = secret.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || secret.is_empty() {
            return Err(ApiError::BadAuthorization);
        }
        let key_id = match state.store.find_api_key(&crate::keys::hash(secret)).await? {
            Some(key) if key.revoked_at.is_none() => key.id,
            _ => return Err(ApiError::InvalidKey),
        };
        state.rate_limiter.check(&key_id).map_err(|wait| ApiError::RateLimited { retry_after: wait })?;
        Ok(Caller { key_id })
    }
}
