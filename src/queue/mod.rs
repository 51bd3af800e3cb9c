//! The `Broker` seam: topics and subscriptions with Google Cloud Pub/Sub semantics, so that the
//! embedded SQLite queue and Pub/Sub are interchangeable. A message published to a topic is
//! copied to each of its subscriptions; a pull hands it out under a lease; an ack removes it;
//! a nack or an expired lease makes it deliverable again; after the subscription's maximum
//! delivery attempts it moves to the dead-letter topic.

pub mod cloud_metrics;
mod consumer;
pub mod embedded;
pub mod pubsub;
mod topology;

pub use consumer::{Consumer, Disposition, pause};
pub use topology::{Topology, subscriptions};

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("topic {0} does not exist")]
    TopicNotFound(String),
    #[error("subscription {0} does not exist")]
    SubscriptionNotFound(String),
    #[error("the queue is unavailable for now")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("queue backend error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("subscription {subscription} exists on another topic ({topic})")]
    WrongTopic { subscription: String, topic: String },
    #[error(
        "the Pub/Sub emulator keeps no queue figures and Cloud Monitoring does not watch it; on Google \
         Cloud they come from Cloud Monitoring (KRAWLR_MONITORING_URL names a compatible server)"
    )]
    NoFigures,
    #[error("Cloud Monitoring answered HTTP {status}: {body}")]
    Monitoring { status: u16, body: String },
}

impl QueueError {
    /// Trouble that passes (busy database, broker restarting): worth a retry, `503` to a client.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, QueueError::Unavailable(_))
    }
}

/// A message to publish.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutgoingMessage {
    pub data: Vec<u8>,
    pub attributes: BTreeMap<String, String>,
}

impl OutgoingMessage {
    /// A JSON body with the `job_id` attribute that every krawlr message carries.
    pub fn json<T: serde::Serialize>(body: &T, job_id: &str) -> OutgoingMessage {
        OutgoingMessage {
            data: serde_json::to_vec(body).expect("message bodies serialize"),
            attributes: BTreeMap::from([("job_id".to_string(), job_id.to_string())]),
        }
    }
}

/// Names one delivery of one message; acking with the id of an older delivery does nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AckId(pub String);

#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub ack_id: AckId,
    pub message_id: String,
    pub data: Vec<u8>,
    pub attributes: BTreeMap<String, String>,
    /// Unix milliseconds.
    pub publish_time: i64,
    /// 1 on the first delivery.
    pub delivery_attempt: u32,
}

/// What a subscription is and how it retries.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionSpec {
    pub name: String,
    pub topic: String,
    pub ack_deadline: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub max_delivery_attempts: u32,
    pub dead_letter_topic: Option<String>,
}

impl SubscriptionSpec {
    /// Redelivery delay after the `attempt`-th failed delivery: exponential, within the bounds.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        self.min_backoff.mul_f64(factor).min(self.max_backoff)
    }
}

/// What a purge removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purged {
    /// These messages' `job_id` attributes (one per message, when it had one), and how many
    /// messages there were.
    Messages { count: u64, job_ids: Vec<String> },
    /// Everything published before this time (unix ms) is acknowledged; the broker does not
    /// say which messages that was (Pub/Sub's seek).
    Before(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SubscriptionStats {
    pub subscription: String,
    pub topic: String,
    /// Unacked messages not currently leased (waiting for delivery or for their backoff).
    pub backlog: u64,
    /// Messages leased to a consumer right now.
    pub in_flight: u64,
    /// Age of the oldest unacked message.
    pub oldest_unacked_age_seconds: f64,
    /// Messages this subscription has moved to its dead-letter topic.
    pub dead_lettered: u64,
}

#[async_trait]
pub trait Broker: Send + Sync {
    /// Creates the topic if it does not exist.
    async fn ensure_topic(&self, topic: &str) -> Result<Ensured, QueueError>;
    /// Creates the subscription, or updates its settings to `spec`.
    async fn ensure_subscription(&self, spec: &SubscriptionSpec) -> Result<Ensured, QueueError>;
    /// Publishes to every subscription of `topic`; returns the message ids.
    async fn publish(&self, topic: &str, messages: &[OutgoingMessage]) -> Result<Vec<String>, QueueError>;
    /// Up to `max` deliverable messages, each leased for the subscription's ack deadline.
    /// Returns at once, possibly with none.
    async fn pull(&self, subscription: &str, max: usize) -> Result<Vec<ReceivedMessage>, QueueError>;
    /// Keeps a lease for `deadline` from now; `false` when the lease was already lost.
    async fn extend_lease(&self, subscription: &str, ack_id: &AckId, deadline: Duration) -> Result<bool, QueueError>;
    async fn ack(&self, subscription: &str, ack_ids: &[AckId]) -> Result<(), QueueError>;
    /// Hands a message back: redelivered after `delay`, or after the subscription's backoff
    /// when `None`. On the last attempt it goes to the dead-letter topic instead.
    async fn nack(&self, subscription: &str, ack_id: &AckId, delay: Option<Duration>) -> Result<(), QueueError>;
    async fn stats(&self, subscription: &str) -> Result<SubscriptionStats, QueueError>;
    /// Drops the subscription's backlog: every message not leased to a consumer right now
    /// (Pub/Sub: every message published until now, by seeking the subscription to now).
    async fn purge(&self, subscription: &str) -> Result<Purged, QueueError>;
    /// Drops messages published before `before` (unix ms) that nobody acknowledged, on brokers
    /// that do not expire them by themselves (Pub/Sub does, after its retention).
    async fn expire_messages(&self, _before: i64) -> Result<(), QueueError> {
        Ok(())
    }
    /// Answers when the broker is reachable and `subscription` exists (readiness).
    async fn ready(&self, subscription: &str) -> Result<(), QueueError> {
        self.stats(subscription).await.map(|_| ())
    }
    /// Waits until a message may have been published here, or `timeout` passes. Backends that
    /// cannot tell simply sleep.
    async fn wait_for_messages(&self, timeout: Duration) {
        tokio::time::sleep(timeout).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_bounds() {
        let spec = SubscriptionSpec {
            name: "s".into(),
            topic: "t".into(),
            ack_deadline: Duration::from_secs(600),
            min_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(600),
            max_delivery_attempts: 5,
            dead_letter_topic: None,
        };
        let secs: Vec<u64> = (1..=8).map(|a| spec.backoff(a).as_secs()).collect();
        assert_eq!(secs, [10, 20, 40, 80, 160, 320, 600, 600]);
    }
}
