//! The records of webhook endpoints and deliveries, as both stores keep them; the webhooks
//! service makes and sends them.

use crate::job::{EventKind, JobEvent};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    pub events: Vec<EventKind>,
    pub description: String,
    /// Sealed by the webhook sender's `SecretBox` (`webhooks::sign`).
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
    /// The id of `key_id`'s default signer.
    pub fn default_id(key_id: &str) -> String {
        format!("default_{key_id}")
    }

    pub fn is_default(&self) -> bool {
        self.url.is_none()
    }

    pub fn wants(&self, event: EventKind) -> bool {
        self.status != EndpointStatus::Disabled && self.events.contains(&event)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    /// The statuses a delivery ends in.
    pub const FINISHED: [DeliveryStatus; 2] = [DeliveryStatus::Delivered, DeliveryStatus::Failed];

    /// As stored and served (its serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
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
    pub trigger: Trigger,
}

/// What started an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// The retry schedule.
    Schedule,
    /// A redelivery someone asked for.
    Manual,
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

/// `msg_` and 32 hex digits, the same for the same event to the same endpoint: the event's
/// stable id names it, however many times it was published.
pub fn delivery_id(endpoint_id: &str, event: &JobEvent) -> String {
    let digest = if event.event_id.is_empty() {
        // A message of an older version: its job's stage or final status names it.
        let stage = if event.kind == EventKind::Progress { event.current_stage.as_str() } else { "" };
        Sha256::digest(format!("{endpoint_id}\n{}\n{}\n{stage}", event.job_id, event.kind))
    } else {
        Sha256::digest(format!("{endpoint_id}\n{}", event.event_id))
    };
    format!("msg_{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_status_is_stored_as_it_is_served() {
        for status in [DeliveryStatus::Pending, DeliveryStatus::Delivered, DeliveryStatus::Failed] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }
}
