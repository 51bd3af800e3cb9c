//! Webhooks, as the original's webhook service did them and as receivers expect them today:
//! `krawlr webhooks` consumes `scrape-completed` (and `scrape-progress`), writes one durable
//! [`Delivery`] per event and target, then delivers each with a Standard Webhooks signature on
//! a retry schedule, recording every attempt.
//!
//! Targets are the job's own `webhook_url` (signed with its key's default secret) and the
//! endpoints a key registered, each with its own secret and event filter. The delivery's id
//! is the `webhook-id` header: derived from the event and the target, so a redelivered
//! message never makes a second delivery, and receivers can de-duplicate by it.

mod service;
pub mod sign;

pub use service::{ROTATION_OVERLAP, Webhooks, ensure_default_endpoint};

use crate::job::JobEvent;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const COMPLETED: &str = "scrape.completed";
pub const FAILED: &str = "scrape.failed";
pub const CANCELLED: &str = "scrape.cancelled";
pub const PROGRESS: &str = "scrape.progress";
/// Every event type an endpoint may ask for.
pub const EVENTS: [&str; 4] = [COMPLETED, FAILED, CANCELLED, PROGRESS];
/// What an endpoint gets when it names no events: how each job ended.
pub const DEFAULT_EVENTS: [&str; 3] = [COMPLETED, FAILED, CANCELLED];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EndpointStatus {
    /// Deliveries go out.
    Active,
    /// A delivery used up its whole schedule; deliveries still go out, and the next success
    /// makes it active again.
    Failing,
    /// Answered `410 Gone` (or was disabled by its owner): nothing is sent until re-enabled.
    Disabled,
}

/// A registered endpoint, or (with no `url`) a key's default signer for per-job webhook URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub key_id: String,
    pub url: Option<String>,
    pub events: Vec<String>,
    pub description: String,
    /// Sealed by [`sign::SecretBox`].
    pub secret: String,
    /// The secret before the last rotation, still signed with until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<i64>,
    pub status: EndpointStatus,
    pub status_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Endpoint {
    /// A new, active endpoint with a new signing secret; the secret, to show once, comes back
    /// beside it (the endpoint holds it sealed).
    pub fn new(
        id: String,
        key_id: &str,
        url: Option<String>,
        events: Vec<String>,
        description: String,
        secrets: &sign::SecretBox,
    ) -> (Endpoint, String) {
        let secret = sign::new_secret();
        let now = crate::job::now_ms();
        let endpoint = Endpoint {
            secret: secrets.seal(&secret, &id),
            id,
            key_id: key_id.to_string(),
            url,
            events,
            description,
            previous_secret: None,
            previous_secret_until: None,
            status: EndpointStatus::Active,
            status_reason: None,
            created_at: now,
            updated_at: now,
        };
        (endpoint, secret)
    }

    /// The id of `key_id`'s default signer.
    pub fn default_id(key_id: &str) -> String {
        format!("default_{key_id}")
    }

    pub fn is_default(&self) -> bool {
        self.url.is_none()
    }

    pub fn wants(&self, event: &str) -> bool {
        self.status != EndpointStatus::Disabled && self.events.iter().any(|e| e == event)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

/// One attempt to deliver, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Unix milliseconds.
    pub at: i64,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// When the next attempt is due, if there is one.
    pub next_attempt_at: Option<i64>,
    /// `schedule` or `manual`.
    pub trigger: String,
}

/// One event to one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Also the `webhook-id` header.
    pub id: String,
    pub endpoint_id: String,
    pub key_id: String,
    pub url: String,
    pub event: JobEvent,
    pub status: DeliveryStatus,
    pub attempts: Vec<Attempt>,
    /// Attempts before the current round of the schedule (a manual redelivery starts a round).
    pub round_start: u32,
    /// Due time while `pending`; while an attempt runs, the end of its lease.
    pub next_attempt_at: Option<i64>,
    pub manual: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Delivery {
    /// The delivery of `event` to `endpoint` at `url`, due now.
    pub fn new(endpoint: &Endpoint, url: &str, event: &JobEvent, now: i64) -> Delivery {
        Delivery {
            id: delivery_id(&endpoint.id, event),
            endpoint_id: endpoint.id.clone(),
            key_id: endpoint.key_id.clone(),
            url: url.to_string(),
            event: event.clone(),
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            round_start: 0,
            next_attempt_at: Some(now),
            manual: false,
            created_at: now,
            updated_at: now,
        }
    }
}

/// `msg_` and 32 hex digits, the same for the same event to the same endpoint.
pub fn delivery_id(endpoint_id: &str, event: &JobEvent) -> String {
    // A job reaches each stage once and each final status once, so these name the event.
    let stage = if event.kind == PROGRESS { event.current_stage.as_str() } else { "" };
    let digest = Sha256::digest(format!("{endpoint_id}\n{}\n{}\n{stage}", event.job_id, event.kind));
    format!("msg_{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{Job, Stage};

    #[test]
    fn a_delivery_id_names_the_event_and_the_endpoint() {
        let mut job = Job::new("j1".into(), "k".into(), "https://example.com/".into(), 0);
        let completed = JobEvent::of(&job, COMPLETED);
        assert_eq!(delivery_id("ep_a", &completed), delivery_id("ep_a", &completed));
        assert_ne!(delivery_id("ep_a", &completed), delivery_id("ep_b", &completed));
        assert_ne!(delivery_id("ep_a", &completed), delivery_id("ep_a", &JobEvent::of(&job, FAILED)));
        let early = delivery_id("ep_a", &JobEvent::of(&job, PROGRESS));
        job.current_stage = Stage::News;
        assert_ne!(early, delivery_id("ep_a", &JobEvent::of(&job, PROGRESS)));
        assert!(early.starts_with("msg_") && early.len() == 36);
    }
}
