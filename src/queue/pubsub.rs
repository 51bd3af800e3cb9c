//! The Google Cloud Pub/Sub broker, on the raw gRPC API (gcloud-sdk): unary pull with
//! `return_immediately`, leases extended with `ModifyAckDeadline`, nacks as a zero (or a
//! chosen) deadline so that the subscription's retry policy applies, dead-lettering done by
//! Pub/Sub itself. With `PUBSUB_EMULATOR_HOST` set it talks plain HTTP/2 to the emulator with
//! anonymous credentials; otherwise TLS to `pubsub.googleapis.com` with the Application
//! Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, workload identity, …). Queue figures
//! come from Cloud Monitoring ([`super::cloud_metrics`]), which Pub/Sub keeps them in.

use super::cloud_metrics::{MONITORING_URL, Monitoring};
use super::{
    AckId, Broker, Ensured, OutgoingMessage, Purged, QueueError, ReceivedMessage, SubscriptionSpec, SubscriptionStats,
};
use async_trait::async_trait;
use gcloud_sdk::google::pubsub::v1 as pb;
use gcloud_sdk::google::pubsub::v1::publisher_client::PublisherClient;
use gcloud_sdk::google::pubsub::v1::subscriber_client::SubscriberClient;
use gcloud_sdk::tonic::{Code, Request, Status};
use gcloud_sdk::{GoogleApi, GoogleAuthMiddleware};
use std::time::Duration;

const PUBSUB_URL: &str = "https://pubsub.googleapis.com";
/// Pub/Sub's bounds for a subscription's ack deadline and a lease modification.
const MIN_ACK_DEADLINE: Duration = Duration::from_secs(10);
const MAX_ACK_DEADLINE: Duration = Duration::from_secs(600);

pub struct PubSubBroker {
    project: String,
    publisher: GoogleApi<PublisherClient<GoogleAuthMiddleware>>,
    subscriber: GoogleApi<SubscriberClient<GoogleAuthMiddleware>>,
    /// Where `stats` reads from; none for the emulator, which Cloud Monitoring does not watch.
    monitoring: Option<Monitoring>,
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> QueueError {
    QueueError::Unavailable(Box::new(e))
}

/// The error of a call on `subscription`.
fn on_subscription(subscription: &str) -> impl FnOnce(Status) -> QueueError + '_ {
    move |s| status_error(s, || QueueError::SubscriptionNotFound(subscription.to_string()))
}

/// Maps a gRPC status; `missing` names what a `NOT_FOUND` is about.
fn status_error(status: Status, missing: impl FnOnce() -> QueueError) -> QueueError {
    match status.code() {
        Code::NotFound => missing(),
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted | Code::Internal => {
            QueueError::Unavailable(Box::new(status))
        }
        _ => QueueError::Backend(Box::new(status)),
    }
}

fn proto_duration(d: Duration) -> gcloud_sdk::prost_types::Duration {
    gcloud_sdk::prost_types::Duration { seconds: d.as_secs() as i64, nanos: d.subsec_nanos() as i32 }
}

fn std_duration(d: Option<&gcloud_sdk::prost_types::Duration>) -> Duration {
    d.map_or(Duration::ZERO, |d| Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32))
}

/// Whole seconds for a deadline, rounded up, within `0..=600`.
fn deadline_seconds(d: Duration) -> i32 {
    d.min(MAX_ACK_DEADLINE).as_secs_f64().ceil() as i32
}

impl PubSubBroker {
    /// Connects to the emulator at `emulator_host` (`host:port`), or to Google Cloud. Stats are
    /// read from Cloud Monitoring, or from `monitoring_url` (unauthenticated with the emulator).
    pub async fn connect(
        project: &str,
        emulator_host: Option<&str>,
        monitoring_url: Option<&url::Url>,
    ) -> Result<PubSubBroker, QueueError> {
        let monitoring = match (monitoring_url, emulator_host) {
            (Some(url), emulator) => Some(Monitoring::new(project, url.clone(), emulator.is_some())?),
            (None, None) => {
                let url = url::Url::parse(MONITORING_URL).expect("a valid URL");
                Monitoring::new(project, url, false)
                    .inspect_err(|e| tracing::warn!(error = %e, "queue stats will be unavailable"))
                    .ok()
            }
            (None, Some(_)) => None,
        };
        let (publisher, subscriber) = match emulator_host {
            Some(host) => {
                let url = format!("http://{host}");
                let anonymous = || gcloud_sdk::google_cloud_auth::credentials::anonymous::Builder::new().build();
                (
                    GoogleApi::from_function_with_credentials(PublisherClient::new, &url, None, anonymous())
                        .await
                        .map_err(unavailable)?,
                    GoogleApi::from_function_with_credentials(SubscriberClient::new, &url, None, anonymous())
                        .await
                        .map_err(unavailable)?,
                )
            }
            None => (
                GoogleApi::from_function(PublisherClient::new, PUBSUB_URL, None).await.map_err(unavailable)?,
                GoogleApi::from_function(SubscriberClient::new, PUBSUB_URL, None).await.map_err(unavailable)?,
            ),
        };
        Ok(PubSubBroker { project: project.to_string(), publisher, subscriber, monitoring })
    }

    fn topic_path(&self, topic: &str) -> String {
        format!("projects/{}/topics/{topic}", self.project)
    }

    fn subscription_path(&self, subscription: &str) -> String {
        format!("projects/{}/subscriptions/{subscription}", self.project)
    }

    fn subscription_of(&self, spec: &SubscriptionSpec) -> pb::Subscription {
        pb::Subscription {
            name: self.subscription_path(&spec.name),
            topic: self.topic_path(&spec.topic),
            ack_deadline_seconds: deadline_seconds(spec.ack_deadline.max(MIN_ACK_DEADLINE)),
            retry_policy: Some(pb::RetryPolicy {
                minimum_backoff: Some(proto_duration(spec.min_backoff)),
                maximum_backoff: Some(proto_duration(spec.max_backoff)),
            }),
            dead_letter_policy: spec.dead_letter_topic.as_ref().map(|topic| pb::DeadLetterPolicy {
                dead_letter_topic: self.topic_path(topic),
                max_delivery_attempts: spec.max_delivery_attempts.clamp(5, 100) as i32,
            }),
            ..Default::default()
        }
    }

    async fn modify_deadline(&self, subscription: &str, ack_ids: Vec<String>, seconds: i32) -> Result<(), QueueError> {
        let request = pb::ModifyAckDeadlineRequest {
            subscription: self.subscription_path(subscription),
            ack_ids,
            ack_deadline_seconds: seconds,
        };
        self.subscriber
            .get()
            .modify_ack_deadline(Request::new(request))
            .await
            .map_err(on_subscription(subscription))?;
        Ok(())
    }
}

/// The parts of a subscription krawlr manages, to compare an existing one with a spec.
fn managed(sub: &pb::Subscription) -> (String, i32, Duration, Duration, Option<(String, i32)>) {
    let retry = sub.retry_policy.as_ref();
    (
        sub.topic.clone(),
        sub.ack_deadline_seconds,
        std_duration(retry.and_then(|r| r.minimum_backoff.as_ref())),
        std_duration(retry.and_then(|r| r.maximum_backoff.as_ref())),
        sub.dead_letter_policy
            .as_ref()
            .filter(|d| !d.dead_letter_topic.is_empty())
            .map(|d| (d.dead_letter_topic.clone(), d.max_delivery_attempts)),
    )
}

#[async_trait]
impl Broker for PubSubBroker {
    async fn ensure_topic(&self, topic: &str) -> Result<Ensured, QueueError> {
        let request = pb::Topic { name: self.topic_path(topic), ..Default::default() };
        match self.publisher.get().create_topic(Request::new(request)).await {
            Ok(_) => Ok(Ensured::Created),
            Err(s) if s.code() == Code::AlreadyExists => Ok(Ensured::Unchanged),
            Err(s) => Err(status_error(s, || QueueError::TopicNotFound(topic.to_string()))),
        }
    }

    async fn ensure_subscription(&self, spec: &SubscriptionSpec) -> Result<Ensured, QueueError> {
        let wanted = self.subscription_of(spec);
        let get = pb::GetSubscriptionRequest { subscription: wanted.name.clone() };
        let existing = match self.subscriber.get().get_subscription(Request::new(get)).await {
            Ok(found) => Some(found.into_inner()),
            Err(s) if s.code() == Code::NotFound => None,
            Err(s) => return Err(status_error(s, || QueueError::SubscriptionNotFound(spec.name.clone()))),
        };
        let Some(existing) = existing else {
            let missing_topic = || QueueError::TopicNotFound(spec.topic.clone());
            return match self.subscriber.get().create_subscription(Request::new(wanted)).await {
                Ok(_) => Ok(Ensured::Created),
                Err(s) if s.code() == Code::AlreadyExists => Ok(Ensured::Unchanged),
                Err(s) => Err(status_error(s, missing_topic)),
            };
        };
        if managed(&existing) == managed(&wanted) {
            return Ok(Ensured::Unchanged);
        }
        if existing.topic != wanted.topic {
            return Err(QueueError::WrongTopic { subscription: spec.name.clone(), topic: existing.topic.clone() });
        }
        let mut paths = vec!["ack_deadline_seconds".to_string(), "retry_policy".to_string()];
        paths.push("dead_letter_policy".to_string());
        let update = pb::UpdateSubscriptionRequest {
            subscription: Some(wanted),
            update_mask: Some(gcloud_sdk::prost_types::FieldMask { paths }),
        };
        self.subscriber.get().update_subscription(Request::new(update)).await.map_err(|s| {
            status_error(s, || QueueError::TopicNotFound(spec.dead_letter_topic.clone().unwrap_or_default()))
        })?;
        Ok(Ensured::Updated)
    }

    async fn publish(&self, topic: &str, messages: &[OutgoingMessage]) -> Result<Vec<String>, QueueError> {
        let request = pb::PublishRequest {
            topic: self.topic_path(topic),
            messages: messages
                .iter()
                .map(|m| pb::PubsubMessage {
                    data: m.data.clone(),
                    attributes: m.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    ..Default::default()
                })
                .collect(),
        };
        let response = self
            .publisher
            .get()
            .publish(Request::new(request))
            .await
            .map_err(|s| status_error(s, || QueueError::TopicNotFound(topic.to_string())))?;
        Ok(response.into_inner().message_ids)
    }

    async fn pull(&self, subscription: &str, max: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
        #[allow(deprecated)]
        let request = pb::PullRequest {
            subscription: self.subscription_path(subscription),
            return_immediately: true,
            max_messages: max.clamp(1, 1000) as i32,
        };
        let response =
            self.subscriber.get().pull(Request::new(request)).await.map_err(on_subscription(subscription))?;
        Ok(response
            .into_inner()
            .received_messages
            .into_iter()
            .filter_map(|r| {
                let message = r.message?;
                let publish_time =
                    message.publish_time.map_or(0, |t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000);
                Some(ReceivedMessage {
                    ack_id: AckId(r.ack_id),
                    message_id: message.message_id,
                    data: message.data,
                    attributes: message.attributes.into_iter().collect(),
                    publish_time,
                    delivery_attempt: r.delivery_attempt.max(0) as u32,
                })
            })
            .collect())
    }

    /// Pub/Sub does not say whether a lease was still held, so this is `true` once sent.
    async fn extend_lease(&self, subscription: &str, ack_id: &AckId, deadline: Duration) -> Result<bool, QueueError> {
        self.modify_deadline(subscription, vec![ack_id.0.clone()], deadline_seconds(deadline)).await?;
        Ok(true)
    }

    async fn ack(&self, subscription: &str, ack_ids: &[AckId]) -> Result<(), QueueError> {
        if ack_ids.is_empty() {
            return Ok(());
        }
        let request = pb::AcknowledgeRequest {
            subscription: self.subscription_path(subscription),
            ack_ids: ack_ids.iter().map(|a| a.0.clone()).collect(),
        };
        self.subscriber.get().acknowledge(Request::new(request)).await.map_err(on_subscription(subscription))?;
        Ok(())
    }

    /// A zero deadline lets the subscription's retry policy choose the delay; a chosen delay
    /// becomes the lease's new deadline, after which the message is delivered again.
    async fn nack(&self, subscription: &str, ack_id: &AckId, delay: Option<Duration>) -> Result<(), QueueError> {
        let seconds = delay.map_or(0, deadline_seconds);
        self.modify_deadline(subscription, vec![ack_id.0.clone()], seconds).await
    }

    async fn ready(&self, subscription: &str) -> Result<(), QueueError> {
        let get = pb::GetSubscriptionRequest { subscription: self.subscription_path(subscription) };
        self.subscriber.get().get_subscription(Request::new(get)).await.map_err(on_subscription(subscription))?;
        Ok(())
    }

    /// Seeks the subscription to now: every message published before is acknowledged.
    async fn purge(&self, subscription: &str) -> Result<Purged, QueueError> {
        let now = crate::job::now_ms();
        let time = gcloud_sdk::prost_types::Timestamp {
            seconds: now.div_euclid(1000),
            nanos: (now.rem_euclid(1000) * 1_000_000) as i32,
        };
        let request = pb::SeekRequest {
            subscription: self.subscription_path(subscription),
            target: Some(pb::seek_request::Target::Time(time)),
        };
        self.subscriber.get().seek(Request::new(request)).await.map_err(on_subscription(subscription))?;
        Ok(Purged::Before(now))
    }

    /// From Cloud Monitoring: Pub/Sub serves no counts itself, and its emulator keeps none.
    async fn stats(&self, subscription: &str) -> Result<SubscriptionStats, QueueError> {
        let get = pb::GetSubscriptionRequest { subscription: self.subscription_path(subscription) };
        let found =
            self.subscriber.get().get_subscription(Request::new(get)).await.map_err(on_subscription(subscription))?;
        let topic = found.into_inner().topic;
        let topic = topic.rsplit('/').next().unwrap_or(&topic);
        let Some(monitoring) = &self.monitoring else {
            return Err(QueueError::NoFigures);
        };
        monitoring.stats(subscription, topic).await
    }
}
