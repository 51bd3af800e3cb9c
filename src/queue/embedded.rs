//! The embedded broker: Pub/Sub semantics on the data dir's SQLite file. One row per message
//! and subscription; claiming is one `UPDATE … RETURNING` that bumps the attempt count and sets
//! the lease deadline, so no transaction is held while a job runs and an expired lease simply
//! makes the row deliverable again. The delivery attempt is part of the ack id, which fences
//! off acks and lease extensions from a consumer whose lease was taken over.

use super::{
    AckId, Broker, Ensured, OutgoingMessage, Purged, QueueError, ReceivedMessage, SubscriptionSpec, SubscriptionStats,
};
use crate::job::now_ms;
use crate::sqlite::{self, Db};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::BTreeMap;
use std::time::Duration;

/// Attribute Pub/Sub sets on a dead-lettered message; kept for compatibility.
const DEAD_LETTER_SOURCE: &str = "CloudPubSubDeadLetterSourceSubscription";

#[derive(Clone)]
pub struct EmbeddedBroker {
    db: Db,
}

impl EmbeddedBroker {
    pub fn new(db: Db) -> Self {
        EmbeddedBroker { db }
    }
}

impl sqlite::SqliteCause for QueueError {
    fn sqlite_error(&self) -> Option<&rusqlite::Error> {
        match self {
            QueueError::Unavailable(source) | QueueError::Backend(source) => source.downcast_ref(),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for QueueError {
    fn from(err: rusqlite::Error) -> Self {
        if sqlite::is_unavailable(&err) {
            QueueError::Unavailable(Box::new(err))
        } else {
            QueueError::Backend(Box::new(err))
        }
    }
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

fn parse_ack_id(ack: &AckId) -> Option<(i64, i64)> {
    let (id, attempt) = ack.0.split_once(':')?;
    Some((id.parse().ok()?, attempt.parse().ok()?))
}

fn load_spec(tx: &rusqlite::Connection, name: &str) -> Result<SubscriptionSpec, QueueError> {
    tx.prepare_cached(
        "SELECT topic, ack_deadline_ms, min_backoff_ms, max_backoff_ms, max_delivery_attempts, dead_letter_topic
         FROM subscriptions WHERE name = ?1",
    )?
    .query_row([name], |r| {
        Ok(SubscriptionSpec {
            name: name.to_string(),
            topic: r.get(0)?,
            ack_deadline: Duration::from_millis(r.get::<_, i64>(1)? as u64),
            min_backoff: Duration::from_millis(r.get::<_, i64>(2)? as u64),
            max_backoff: Duration::from_millis(r.get::<_, i64>(3)? as u64),
            max_delivery_attempts: r.get(4)?,
            dead_letter_topic: r.get(5)?,
        })
    })
    .optional()?
    .ok_or_else(|| QueueError::SubscriptionNotFound(name.to_string()))
}

/// Publishes inside the caller's transaction, so that a job and its message commit together.
pub(crate) fn publish_in(
    tx: &rusqlite::Connection,
    topic: &str,
    messages: &[OutgoingMessage],
) -> Result<Vec<String>, QueueError> {
    let exists = tx.prepare_cached("SELECT 1 FROM topics WHERE name = ?1")?.exists([topic])?;
    if !exists {
        return Err(QueueError::TopicNotFound(topic.to_string()));
    }
    let subscriptions: Vec<String> = tx
        .prepare_cached("SELECT name FROM subscriptions WHERE topic = ?1")?
        .query_map([topic], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let now = now_ms();
    let mut insert = tx.prepare_cached(
        "INSERT INTO messages (subscription, message_id, data, attributes, published_at, visible_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?;
    let mut ids = Vec::with_capacity(messages.len());
    for message in messages {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let attributes = serde_json::to_string(&message.attributes).expect("string map serializes");
        for sub in &subscriptions {
            insert.execute(params![sub, id, message.data, attributes, now])?;
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Moves one message to the subscription's dead-letter topic.
fn dead_letter(tx: &Transaction, spec: &SubscriptionSpec, row_id: i64) -> Result<(), QueueError> {
    let Some(topic) = &spec.dead_letter_topic else {
        return Ok(());
    };
    let (data, attributes): (Vec<u8>, String) = tx
        .prepare_cached("SELECT data, attributes FROM messages WHERE id = ?1")?
        .query_row([row_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut attributes: BTreeMap<String, String> = serde_json::from_str(&attributes).unwrap_or_default();
    attributes.insert(DEAD_LETTER_SOURCE.to_string(), spec.name.clone());
    publish_in(tx, topic, &[OutgoingMessage { data, attributes }])?;
    tx.prepare_cached("DELETE FROM messages WHERE id = ?1")?.execute([row_id])?;
    tx.prepare_cached("UPDATE subscriptions SET dead_lettered = dead_lettered + 1 WHERE name = ?1")?
        .execute([&spec.name])?;
    Ok(())
}

#[async_trait]
impl Broker for EmbeddedBroker {
    async fn ensure_topic(&self, topic: &str) -> Result<Ensured, QueueError> {
        let topic = topic.to_string();
        let created =
            self.db.call(move |c| c.execute("INSERT OR IGNORE INTO topics (name) VALUES (?1)", [topic])).await?;
        Ok(if created == 1 { Ensured::Created } else { Ensured::Unchanged })
    }

    async fn ensure_subscription(&self, spec: &SubscriptionSpec) -> Result<Ensured, QueueError> {
        let spec = spec.clone();
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                for topic in std::iter::once(&spec.topic).chain(&spec.dead_letter_topic) {
                    if !tx.prepare_cached("SELECT 1 FROM topics WHERE name = ?1")?.exists([topic])? {
                        return Err(QueueError::TopicNotFound(topic.clone()));
                    }
                }
                let existing = match load_spec(&tx, &spec.name) {
                    Ok(existing) => Some(existing),
                    Err(QueueError::SubscriptionNotFound(_)) => None,
                    Err(other) => return Err(other),
                };
                if existing.as_ref() == Some(&spec) {
                    return Ok(Ensured::Unchanged);
                }
                tx.execute(
                    "INSERT INTO subscriptions (name, topic, ack_deadline_ms, min_backoff_ms, max_backoff_ms,
                                                max_delivery_attempts, dead_letter_topic)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (name) DO UPDATE SET topic = ?2, ack_deadline_ms = ?3, min_backoff_ms = ?4,
                         max_backoff_ms = ?5, max_delivery_attempts = ?6, dead_letter_topic = ?7",
                    params![
                        spec.name,
                        spec.topic,
                        ms(spec.ack_deadline),
                        ms(spec.min_backoff),
                        ms(spec.max_backoff),
                        spec.max_delivery_attempts,
                        spec.dead_letter_topic
                    ],
                )?;
                tx.commit()?;
                Ok(if existing.is_some() { Ensured::Updated } else { Ensured::Created })
            })
            .await
    }

    async fn publish(&self, topic: &str, messages: &[OutgoingMessage]) -> Result<Vec<String>, QueueError> {
        let (topic, messages) = (topic.to_string(), messages.to_vec());
        let ids = self
            .db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let ids = publish_in(&tx, &topic, &messages)?;
                tx.commit()?;
                Ok::<_, QueueError>(ids)
            })
            .await?;
        self.db.notify_published();
        Ok(ids)
    }

    async fn pull(&self, subscription: &str, max: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
        let subscription = subscription.to_string();
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let spec = load_spec(&tx, &subscription)?;
                let now = now_ms();
                let claimed: Vec<(i64, ReceivedMessage)> = tx
                    .prepare_cached(
                        "UPDATE messages SET attempts = attempts + 1, leased = 1, visible_at = ?3
                         WHERE id IN (SELECT id FROM messages WHERE subscription = ?1 AND visible_at <= ?2
                                      ORDER BY visible_at, id LIMIT ?4)
                         RETURNING id, message_id, data, attributes, published_at, attempts",
                    )?
                    .query_map(params![subscription, now, now + ms(spec.ack_deadline), max as i64], |r| {
                        let id: i64 = r.get(0)?;
                        let attempts: u32 = r.get(5)?;
                        let attributes: String = r.get(3)?;
                        Ok((
                            id,
                            ReceivedMessage {
                                ack_id: AckId(format!("{id}:{attempts}")),
                                message_id: r.get(1)?,
                                data: r.get(2)?,
                                attributes: serde_json::from_str(&attributes).unwrap_or_default(),
                                publish_time: r.get(4)?,
                                delivery_attempt: attempts,
                            },
                        ))
                    })?
                    .collect::<Result<_, _>>()?;
                let mut out = Vec::with_capacity(claimed.len());
                for (id, message) in claimed {
                    // Delivered the maximum number of times already (the last lease expired):
                    // it goes to the dead-letter topic, not to a consumer.
                    if spec.dead_letter_topic.is_some() && message.delivery_attempt > spec.max_delivery_attempts {
                        dead_letter(&tx, &spec, id)?;
                    } else {
                        out.push(message);
                    }
                }
                tx.commit()?;
                Ok(out)
            })
            .await
    }

    async fn extend_lease(&self, subscription: &str, ack_id: &AckId, deadline: Duration) -> Result<bool, QueueError> {
        let Some((id, attempt)) = parse_ack_id(ack_id) else {
            return Ok(false);
        };
        let subscription = subscription.to_string();
        let changed = self
            .db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE messages SET visible_at = ?4
                     WHERE id = ?1 AND attempts = ?2 AND subscription = ?3 AND leased = 1",
                )?
                .execute(params![id, attempt, subscription, now_ms() + ms(deadline)])
            })
            .await?;
        Ok(changed == 1)
    }

    async fn ack(&self, subscription: &str, ack_ids: &[AckId]) -> Result<(), QueueError> {
        let ids: Vec<(i64, i64)> = ack_ids.iter().filter_map(parse_ack_id).collect();
        let subscription = subscription.to_string();
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                {
                    let mut delete = tx
                        .prepare_cached("DELETE FROM messages WHERE id = ?1 AND attempts = ?2 AND subscription = ?3")?;
                    for (id, attempt) in ids {
                        delete.execute(params![id, attempt, subscription])?;
                    }
                }
                tx.commit()
            })
            .await?;
        Ok(())
    }

    async fn nack(&self, subscription: &str, ack_id: &AckId, delay: Option<Duration>) -> Result<(), QueueError> {
        let Some((id, attempt)) = parse_ack_id(ack_id) else {
            return Ok(());
        };
        let subscription = subscription.to_string();
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let spec = load_spec(&tx, &subscription)?;
                let current = tx
                    .prepare_cached("SELECT 1 FROM messages WHERE id = ?1 AND attempts = ?2 AND subscription = ?3")?
                    .exists(params![id, attempt, subscription])?;
                if current {
                    if spec.dead_letter_topic.is_some() && attempt as u32 >= spec.max_delivery_attempts {
                        dead_letter(&tx, &spec, id)?;
                    } else {
                        let delay = delay.unwrap_or_else(|| spec.backoff(attempt as u32));
                        tx.prepare_cached("UPDATE messages SET leased = 0, visible_at = ?2 WHERE id = ?1")?
                            .execute(params![id, now_ms() + ms(delay)])?;
                    }
                }
                tx.commit()?;
                Ok::<_, QueueError>(())
            })
            .await?;
        self.db.notify_published();
        Ok(())
    }

    /// Ready when the subscription answers and the database takes writes (a full disk or a
    /// deleted file is not ready, though reads may still go on).
    async fn ready(&self, subscription: &str) -> Result<(), QueueError> {
        self.db.writable()?;
        self.stats(subscription).await.map(|_| ())
    }

    async fn stats(&self, subscription: &str) -> Result<SubscriptionStats, QueueError> {
        let subscription = subscription.to_string();
        self.db
            .read(move |c| {
                let spec = load_spec(c, &subscription)?;
                let now = now_ms();
                let (backlog, in_flight, oldest, dead_lettered): (i64, i64, Option<i64>, i64) = c
                    .prepare_cached(
                        "SELECT COALESCE(SUM(NOT (leased = 1 AND visible_at > ?2)), 0),
                                COALESCE(SUM(leased = 1 AND visible_at > ?2), 0),
                                MIN(published_at),
                                (SELECT dead_lettered FROM subscriptions WHERE name = ?1)
                         FROM messages WHERE subscription = ?1",
                    )?
                    .query_row(params![subscription, now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
                Ok(SubscriptionStats {
                    subscription: spec.name,
                    topic: spec.topic,
                    backlog: backlog as u64,
                    in_flight: in_flight as u64,
                    oldest_unacked_age_seconds: oldest.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0),
                    dead_lettered: dead_lettered as u64,
                })
            })
            .await
    }

    async fn purge(&self, subscription: &str) -> Result<Purged, QueueError> {
        let subscription = subscription.to_string();
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                load_spec(&tx, &subscription)?;
                let attributes: Vec<String> = tx
                    .prepare_cached(
                        "DELETE FROM messages WHERE subscription = ?1 AND NOT (leased = 1 AND visible_at > ?2)
                         RETURNING attributes",
                    )?
                    .query_map(params![subscription, now_ms()], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                tx.commit()?;
                let job_ids = attributes
                    .iter()
                    .filter_map(|a| serde_json::from_str::<BTreeMap<String, String>>(a).ok()?.remove("job_id"))
                    .collect();
                Ok(Purged::Messages { count: attributes.len() as u64, job_ids })
            })
            .await
    }

    async fn expire_messages(&self, before: i64) -> Result<(), QueueError> {
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "DELETE FROM messages WHERE published_at < ?1 AND NOT (leased = 1 AND visible_at > ?2)",
                )?
                .execute(params![before, now_ms()])
            })
            .await?;
        Ok(())
    }

    async fn wait_for_messages(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.db.published()).await;
    }
}
