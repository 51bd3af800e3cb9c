//! What every handler reads from a request, checked the same way: a JSON body (its media type,
//! size and nesting bounded), a target or webhook address (through the address guard), an
//! `Idempotency-Key`.

use super::ApiError;
use crate::net::guard::Policy;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use url::Url;

/// The request's `Idempotency-Key`, if it sent one.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255);
    key.map(Some).ok_or_else(|| ApiError::Invalid {
        field: "Idempotency-Key",
        reason: "1 to 255 visible ASCII characters".into(),
    })
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<T, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if let Some(ct) = content_type {
        let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(limit),
        _ => ApiError::InvalidJson(rejection.body_text()),
    })?;
    if nesting_exceeds(&body, MAX_JSON_DEPTH) {
        return Err(ApiError::InvalidJson(format!("the JSON is nested deeper than {MAX_JSON_DEPTH} levels")));
    }
    serde_json::from_slice(&body).map_err(|e| ApiError::InvalidJson(e.to_string()))
}

/// How deep a request's JSON may nest, anywhere in it: serde_json bounds what it reads into
/// fields (128 levels) but skips unknown fields at any depth.
const MAX_JSON_DEPTH: usize = 64;

/// Whether `json` opens more than `max` arrays and objects inside one another (strings skipped),
/// in one pass and no memory.
fn nesting_exceeds(json: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// A company site or webhook address: http(s), a host, no credentials, not private unless
/// allowed. A bare domain (`stripe.com`) means `https://stripe.com/`.
pub(super) fn parse_target(raw: Option<&str>, field: &'static str, guard: &Policy) -> Result<Url, ApiError> {
    let raw = raw.map(str::trim).filter(|r| !r.is_empty()).ok_or(ApiError::Missing { field })?;
    guard.target(raw).map_err(|reason| ApiError::InvalidUrl { field, reason })
}

/// A `webhook_url`, which may be left out: absent or blank is no webhook.
pub(super) fn parse_webhook(raw: Option<&str>, guard: &Policy) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim).filter(|w| !w.is_empty()) {
        Some(raw) => Ok(Some(parse_target(Some(raw), "webhook_url", guard)?.to_string())),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings_only() {
        let nested = |d: usize| format!(r#"{{"url":"x","extra":{}{}}}"#, "[".repeat(d), "]".repeat(d));
        assert!(!nesting_exceeds(nested(MAX_JSON_DEPTH - 1).as_bytes(), MAX_JSON_DEPTH));
        assert!(nesting_exceeds(nested(MAX_JSON_DEPTH).as_bytes(), MAX_JSON_DEPTH));
        assert!(nesting_exceeds(nested(1_000_000).as_bytes(), MAX_JSON_DEPTH));
        let in_strings = format!(r#"{{"a":"{}","b":"\"{}"}}"#, "[".repeat(500), "{".repeat(500));
        assert!(!nesting_exceeds(in_strings.as_bytes(), MAX_JSON_DEPTH));
        assert!(!nesting_exceeds(b"]]]]}}}{", 1), "stray closers do not go below zero");
    }

    #[test]
    fn targets_are_normalised_and_checked() {
        let closed = Policy::default();
        let ok = |s| parse_target(Some(s), "url", &closed).map(|u| u.to_string());
        assert_eq!(ok("https://stripe.com").unwrap(), "https://stripe.com/");
        assert_eq!(ok("  stripe.com ").unwrap(), "https://stripe.com/");
        assert_eq!(ok("www.stripe.com/about").unwrap(), "https://www.stripe.com/about");
        assert_eq!(ok("https://bücher.example/").unwrap(), "https://xn--bcher-kva.example/", "IDN to punycode");
        assert_eq!(ok("https://xn--bcher-kva.example/").unwrap(), "https://xn--bcher-kva.example/");
        assert_eq!(ok("https://stripe.com:8443/").unwrap(), "https://stripe.com:8443/");
        for bad in [
            "ftp://stripe.com",
            "javascript:alert(1)",
            "http://",
            "http://127.0.0.1/",
            "https://intranet/",
            "http://u:p@x.com/",
            "http://stripe.com:22/",
            "http://stripe.com:99999/",
            "https://xn--/",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
        assert!(matches!(parse_target(None, "url", &closed), Err(ApiError::Missing { field: "url" })));
        assert!(parse_target(Some(&format!("https://x.com/{}", "a".repeat(3000))), "url", &closed).is_err());
        assert!(parse_target(Some("http://127.0.0.1:9/"), "url", &Policy::open()).is_ok());
    }
}
