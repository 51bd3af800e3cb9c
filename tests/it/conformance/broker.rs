//! The Broker conformance suite: Pub/Sub semantics any backend must show. Each case makes its
//! own topics and subscriptions, so cases may share one backend (and one emulator).

use krawlr::queue::{AckId, Broker, Ensured, OutgoingMessage, QueueError, ReceivedMessage, SubscriptionSpec};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

fn spec(name: &str, topic: &str, dead_letter: Option<&str>) -> SubscriptionSpec {
    SubscriptionSpec {
        name: name.to_string(),
        topic: topic.to_string(),
        ack_deadline: Duration::from_secs(10),
        min_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(1),
        max_delivery_attempts: 5,
        dead_letter_topic: dead_letter.map(str::to_string),
    }
}

fn msg(text: &str) -> OutgoingMessage {
    OutgoingMessage::json(&serde_json::json!({ "text": text }), text)
}

fn text(m: &ReceivedMessage) -> String {
    serde_json::from_slice::<serde_json::Value>(&m.data).unwrap()["text"].as_str().unwrap().to_string()
}

/// A topic with one subscription, which has a dead-letter topic of its own (Pub/Sub counts
/// delivery attempts only on such subscriptions).
async fn topic_with_sub(broker: &dyn Broker) -> (String, String) {
    let topic = unique("t");
    let sub = unique("s");
    let dead = unique("dead");
    broker.ensure_topic(&topic).await.unwrap();
    broker.ensure_topic(&dead).await.unwrap();
    broker.ensure_subscription(&spec(&sub, &topic, Some(&dead))).await.unwrap();
    (topic, sub)
}

/// Pulls until `n` messages came or `within` passed.
async fn pull_n(broker: &dyn Broker, sub: &str, n: usize, within: Duration) -> Vec<ReceivedMessage> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        let batch = broker.pull(sub, n - got.len()).await.unwrap();
        if batch.is_empty() {
            broker.wait_for_messages(Duration::from_millis(20)).await;
        }
        got.extend(batch);
    }
    got
}

pub async fn ensure_is_idempotent(broker: Arc<dyn Broker>) {
    let topic = unique("t");
    assert_eq!(broker.ensure_topic(&topic).await.unwrap(), Ensured::Created);
    assert_eq!(broker.ensure_topic(&topic).await.unwrap(), Ensured::Unchanged);
    let mut s = spec(&unique("s"), &topic, None);
    assert_eq!(broker.ensure_subscription(&s).await.unwrap(), Ensured::Created);
    assert_eq!(broker.ensure_subscription(&s).await.unwrap(), Ensured::Unchanged);
    s.ack_deadline = Duration::from_secs(30);
    assert_eq!(broker.ensure_subscription(&s).await.unwrap(), Ensured::Updated);
    let orphan = spec(&unique("s"), &unique("missing"), None);
    assert!(matches!(broker.ensure_subscription(&orphan).await, Err(QueueError::TopicNotFound(_))));
}

pub async fn unknown_names_are_errors(broker: Arc<dyn Broker>) {
    let missing = unique("missing");
    assert!(matches!(broker.publish(&missing, &[msg("x")]).await, Err(QueueError::TopicNotFound(_))));
    assert!(matches!(broker.pull(&missing, 1).await, Err(QueueError::SubscriptionNotFound(_))));
}

pub async fn publish_fans_out_to_every_subscription(broker: Arc<dyn Broker>) {
    let (topic, sub1) = topic_with_sub(broker.as_ref()).await;
    let sub2 = unique("s");
    let dead2 = unique("dead");
    broker.ensure_topic(&dead2).await.unwrap();
    broker.ensure_subscription(&spec(&sub2, &topic, Some(&dead2))).await.unwrap();
    let ids = broker.publish(&topic, &[msg("a"), msg("b")]).await.unwrap();
    assert_eq!(ids.len(), 2);
    for sub in [&sub1, &sub2] {
        let got = pull_n(broker.as_ref(), sub, 2, Duration::from_secs(10)).await;
        let mut texts: Vec<String> = got.iter().map(text).collect();
        texts.sort();
        assert_eq!(texts, ["a", "b"], "{sub}");
        for m in &got {
            assert_eq!(m.delivery_attempt, 1);
            assert_eq!(m.attributes["job_id"], text(m));
            assert!(ids.contains(&m.message_id));
            assert!(m.publish_time > 0);
        }
        broker.ack(sub, &got.iter().map(|m| m.ack_id.clone()).collect::<Vec<_>>()).await.unwrap();
    }
}

pub async fn a_leased_message_is_not_delivered_twice_and_ack_removes_it(broker: Arc<dyn Broker>) {
    let (topic, sub) = topic_with_sub(broker.as_ref()).await;
    broker.publish(&topic, &[msg("one")]).await.unwrap();
    let got = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert!(broker.pull(&sub, 10).await.unwrap().is_empty(), "leased: not handed out again");
    broker.ack(&sub, &[got[0].ack_id.clone()]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(broker.pull(&sub, 10).await.unwrap().is_empty(), "acked: gone");
}

/// Backends that can count (the embedded one; Pub/Sub keeps these in Cloud Monitoring).
pub async fn stats_count_backlog_in_flight_and_dead_letters(broker: Arc<dyn Broker>) {
    let (topic, sub) = topic_with_sub(broker.as_ref()).await;
    broker.publish(&topic, &[msg("a"), msg("b")]).await.unwrap();
    let stats = broker.stats(&sub).await.unwrap();
    assert_eq!((stats.backlog, stats.in_flight, stats.dead_lettered), (2, 0, 0), "{stats:?}");
    let got = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(10)).await;
    let stats = broker.stats(&sub).await.unwrap();
    assert_eq!((stats.backlog, stats.in_flight), (1, 1), "{stats:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(broker.stats(&sub).await.unwrap().oldest_unacked_age_seconds >= 0.2);
    broker.ack(&sub, &[got[0].ack_id.clone()]).await.unwrap();
    for attempt in 1..=5 {
        let m = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(10)).await.remove(0);
        assert_eq!(m.delivery_attempt, attempt);
        broker.nack(&sub, &m.ack_id, Some(Duration::ZERO)).await.unwrap();
    }
    let stats = broker.stats(&sub).await.unwrap();
    assert_eq!((stats.backlog, stats.in_flight, stats.dead_lettered), (0, 0, 1), "{stats:?}");
}

pub async fn an_expired_lease_redelivers_and_fences_the_old_ack_id(broker: Arc<dyn Broker>) {
    let (topic, sub) = topic_with_sub(broker.as_ref()).await;
    broker.publish(&topic, &[msg("m")]).await.unwrap();
    let first = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(10)).await.remove(0);
    // Shorten the lease to one second and let it lapse.
    broker.extend_lease(&sub, &first.ack_id, Duration::from_secs(1)).await.unwrap();
    let again = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(15)).await;
    assert_eq!(again.len(), 1, "redelivered after the lease expired");
    let second = &again[0];
    assert_eq!(second.message_id, first.message_id);
    assert_eq!(second.delivery_attempt, 2, "the expired delivery counts as an attempt");
    broker.ack(&sub, std::slice::from_ref(&first.ack_id)).await.unwrap();
    broker.nack(&sub, &second.ack_id, Some(Duration::ZERO)).await.unwrap();
    let third = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(15)).await;
    assert_eq!(third.len(), 1, "the stale ack did not remove the newer delivery");
    broker.ack(&sub, &[third[0].ack_id.clone()]).await.unwrap();
}

pub async fn extending_a_lease_keeps_the_message(broker: Arc<dyn Broker>) {
    let (topic, sub) = topic_with_sub(broker.as_ref()).await;
    broker.publish(&topic, &[msg("m")]).await.unwrap();
    let m = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(10)).await.remove(0);
    for _ in 0..4 {
        assert!(broker.extend_lease(&sub, &m.ack_id, Duration::from_secs(1)).await.unwrap());
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(broker.pull(&sub, 1).await.unwrap().is_empty(), "extended: still leased");
    }
    broker.ack(&sub, &[m.ack_id]).await.unwrap();
}

pub async fn nack_redelivers_after_the_delay_or_the_backoff(broker: Arc<dyn Broker>) {
    let (topic, sub) = topic_with_sub(broker.as_ref()).await;
    broker.publish(&topic, &[msg("m")]).await.unwrap();
    let m = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(10)).await.remove(0);
    broker.nack(&sub, &m.ack_id, Some(Duration::ZERO)).await.unwrap();
    let m2 = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(10)).await.remove(0);
    assert_eq!(m2.delivery_attempt, 2);

    broker.nack(&sub, &m2.ack_id, Some(Duration::from_millis(800))).await.unwrap();
    let at = Instant::now();
    let m3 = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(10)).await.remove(0);
    assert!(at.elapsed() >= Duration::from_millis(700), "came back after {:?}", at.elapsed());
    assert_eq!(m3.delivery_attempt, 3);

    broker.nack(&sub, &m3.ack_id, None).await.unwrap();
    let at = Instant::now();
    let m4 = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(10)).await.remove(0);
    assert!(at.elapsed() >= Duration::from_millis(150), "the retry policy's backoff applies: {:?}", at.elapsed());
    broker.ack(&sub, &[m4.ack_id]).await.unwrap();
}

pub async fn after_max_attempts_a_message_is_dead_lettered(broker: Arc<dyn Broker>) {
    let dead = unique("dead");
    broker.ensure_topic(&dead).await.unwrap();
    let dead_sub = unique("dead-sub");
    broker.ensure_subscription(&spec(&dead_sub, &dead, None)).await.unwrap();
    let topic = unique("t");
    let sub = unique("s");
    broker.ensure_topic(&topic).await.unwrap();
    broker.ensure_subscription(&spec(&sub, &topic, Some(&dead))).await.unwrap();
    broker.publish(&topic, &[msg("poison")]).await.unwrap();
    for attempt in 1..=5 {
        let m = pull_n(broker.as_ref(), &sub, 1, Duration::from_secs(15)).await;
        assert_eq!(m.len(), 1, "delivery {attempt}");
        assert_eq!(m[0].delivery_attempt, attempt);
        broker.nack(&sub, &m[0].ack_id, Some(Duration::ZERO)).await.unwrap();
    }
    // The emulator forwards when the message would be delivered a sixth time, so keep pulling
    // the source (which must not deliver it again) until the dead-letter subscription has it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let dead_letters = loop {
        assert!(broker.pull(&sub, 1).await.unwrap().is_empty(), "delivered a sixth time");
        let got = broker.pull(&dead_sub, 1).await.unwrap();
        if !got.is_empty() || Instant::now() > deadline {
            break got;
        }
        broker.wait_for_messages(Duration::from_millis(50)).await;
    };
    assert_eq!(dead_letters.len(), 1, "dead-lettered within 20 s");
    assert_eq!(text(&dead_letters[0]), "poison");
    assert_eq!(dead_letters[0].attributes["job_id"], "poison");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(broker.pull(&sub, 1).await.unwrap().is_empty(), "gone from the source subscription");
    broker.ack(&dead_sub, &[dead_letters[0].ack_id.clone()]).await.unwrap();
}

pub async fn concurrent_consumers_share_without_duplicates(broker: Arc<dyn Broker>) {
    let (topic, sub) = topic_with_sub(broker.as_ref()).await;
    let messages: Vec<_> = (0..300).map(|i| msg(&i.to_string())).collect();
    for chunk in messages.chunks(50) {
        broker.publish(&topic, chunk).await.unwrap();
    }
    let mut handles = Vec::new();
    for _ in 0..4 {
        let (broker, sub) = (broker.clone(), sub.clone());
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut idle = 0;
            while Instant::now() < deadline && idle < 20 {
                let got = broker.pull(&sub, 25).await.unwrap();
                if got.is_empty() {
                    idle += 1;
                    tokio::time::sleep(Duration::from_millis(25)).await;
                    continue;
                }
                idle = 0;
                let acks: Vec<AckId> = got.iter().map(|m| m.ack_id.clone()).collect();
                seen.extend(got.iter().map(text));
                broker.ack(&sub, &acks).await.unwrap();
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), 300, "every message delivered");
    assert_eq!(all.len(), 300, "none delivered twice");
}

scenarios!(
    embedded: embedded,
    emulator: pubsub;
    ensure_is_idempotent,
    unknown_names_are_errors,
    publish_fans_out_to_every_subscription,
    a_leased_message_is_not_delivered_twice_and_ack_removes_it,
    an_expired_lease_redelivers_and_fences_the_old_ack_id,
    extending_a_lease_keeps_the_message,
    nack_redelivers_after_the_delay_or_the_backoff,
    after_max_attempts_a_message_is_dead_lettered,
    concurrent_consumers_share_without_duplicates,
);

/// A fresh embedded broker, with what keeps its data dir.
async fn embedded() -> (Arc<dyn Broker>, crate::conformance::Embedded) {
    let backend = crate::conformance::embedded();
    (backend.broker.clone(), backend)
}

/// The emulator has no Cloud Monitoring to read a subscription's figures from.
#[tokio::test(flavor = "multi_thread")]
async fn embedded_stats_count_backlog_in_flight_and_dead_letters() {
    let backend = crate::conformance::embedded();
    stats_count_backlog_in_flight_and_dead_letters(backend.broker.clone()).await;
}

async fn pubsub() -> Arc<dyn Broker> {
    let host = crate::conformance::emulator("PUBSUB_EMULATOR_HOST");
    Arc::new(krawlr::queue::pubsub::PubSubBroker::connect("krawlr-test", Some(&host), None).await.unwrap())
}
