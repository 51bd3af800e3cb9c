//! The topics and subscriptions krawlr needs, as the settings describe them: created by
//! `krawlr setup`, and put back by any consumer that finds the broker forgot them.

use super::{Broker, Ensured, QueueError, SubscriptionSpec};
use crate::config::Settings;
use tracing::warn;

/// The subscriptions krawlr consumes, as the settings describe them.
pub fn subscriptions(settings: &Settings) -> Vec<SubscriptionSpec> {
    let t = &settings.topics;
    let q = &settings.queue;
    // The webhooks process's: a failure to record deliveries is retried with backoff, for as
    // long as Pub/Sub keeps the message; there is nothing to dead-letter.
    let webhooks = |name: &str, topic: &str| SubscriptionSpec {
        name: name.to_string(),
        topic: topic.to_string(),
        ack_deadline: q.ack_deadline,
        min_backoff: q.min_backoff,
        max_backoff: q.max_backoff,
        max_delivery_attempts: q.max_delivery_attempts,
        dead_letter_topic: None,
    };
    vec![
        SubscriptionSpec {
            name: t.jobs_subscription.clone(),
            topic: t.jobs.clone(),
            ack_deadline: q.ack_deadline,
            min_backoff: q.min_backoff,
            max_backoff: q.max_backoff,
            max_delivery_attempts: q.max_delivery_attempts,
            dead_letter_topic: Some(t.dead_letter.clone()),
        },
        SubscriptionSpec {
            name: t.dead_letter_subscription.clone(),
            topic: t.dead_letter.clone(),
            ack_deadline: q.ack_deadline,
            min_backoff: q.min_backoff,
            max_backoff: q.max_backoff,
            max_delivery_attempts: q.max_delivery_attempts,
            dead_letter_topic: None,
        },
        // Nobody consumes it: it keeps dead letters for `krawlr queue redrive` (Pub/Sub for its
        // message retention, the embedded queue for seven days).
        webhooks(&t.redrive_subscription, &t.dead_letter),
        webhooks(&t.completed_subscription, &t.completed),
        webhooks(&t.progress_subscription, &t.progress),
    ]
}

/// The topics and subscriptions krawlr needs, as the settings describe them.
#[derive(Debug, Clone)]
pub struct Topology {
    topics: Vec<String>,
    subscriptions: Vec<SubscriptionSpec>,
}

impl Topology {
    pub fn of(settings: &Settings) -> Topology {
        let t = &settings.topics;
        Topology { topics: t.topic_names().map(str::to_string).to_vec(), subscriptions: subscriptions(settings) }
    }

    /// Creates the topics and subscriptions, or brings them to the settings; says what changed.
    pub async fn ensure(&self, broker: &dyn Broker) -> Result<Vec<(String, Ensured)>, QueueError> {
        let mut changes = Vec::new();
        for topic in &self.topics {
            changes.push((format!("topic {topic}"), broker.ensure_topic(topic).await?));
        }
        for spec in &self.subscriptions {
            changes.push((format!("subscription {}", spec.name), broker.ensure_subscription(spec).await?));
        }
        Ok(changes)
    }

    /// After the broker forgot a topic or subscription (an emulator restarted, someone deleted
    /// one), puts them all back; other errors are left to the caller's retry.
    pub async fn repair(&self, broker: &dyn Broker, error: &QueueError) {
        if !matches!(error, QueueError::TopicNotFound(_) | QueueError::SubscriptionNotFound(_)) {
            return;
        }
        match self.ensure(broker).await {
            Ok(_) => warn!(%error, "the queue's topics or subscriptions were gone; recreated them"),
            Err(e) => {
                warn!(%error, repair = %e, "the queue's topics or subscriptions are gone and cannot be recreated yet")
            }
        }
    }
}
