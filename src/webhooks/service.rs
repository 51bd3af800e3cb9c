//! The webhooks process: events in, deliveries out.
//!
//! Two consumers turn messages of `scrape-completed` and `scrape-progress` into [`Delivery`]
//! documents and ack only once those are stored; a sender claims due deliveries (a lease in
//! the delivery itself, so several webhooks processes share the work and a crashed one's
//! claims come back), POSTs each once, and records the attempt with the next one's time.

use super::sign::{self, SecretBox};
use super::{Attempt, Delivery, DeliveryStatus, Endpoint, EndpointStatus, EventKind};
use crate::config::{Settings, Topics, WebhookSettings};
use crate::job::{JobEvent, now_ms, rfc3339};
use crate::net::{GuardedClient, NetError, classify, system_lookup};
use crate::queue::{Broker, Consumer, Disposition, ReceivedMessage, pause};
use crate::store::{Applied, Change, Store, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use url::Url;

/// Messages asked for in one pull.
const PULL_BATCH: usize = 50;
/// Pause after the broker or the store failed to answer.
const ERROR_PAUSE: Duration = Duration::from_secs(1);
/// A claimed delivery comes back to the pool this long after its attempt's timeout, should
/// the process die while sending it.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Attempts kept in a delivery's log.
const MAX_LOGGED_ATTEMPTS: usize = 100;
/// A rotated-out secret still signs for this long, so receivers can switch without a gap.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

pub struct Webhooks {
    store: Arc<dyn Store>,
    broker: Arc<dyn Broker>,
    topics: Topics,
    settings: WebhookSettings,
    secrets: Arc<SecretBox>,
    /// Put back should the broker forget it.
    topology: crate::queue::Topology,
    net: GuardedClient,
    wake: Notify,
}

/// What one attempt came to.
struct Sent {
    status_code: Option<u16>,
    error: Option<String>,
    retry_after: Option<Duration>,
    /// No later attempt can do better (a refused address, a deleted endpoint).
    permanent: bool,
}

impl Sent {
    fn failed(error: impl Into<String>, permanent: bool) -> Sent {
        Sent { status_code: None, error: Some(error.into()), retry_after: None, permanent }
    }

    fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

impl Webhooks {
    pub fn new(
        store: Arc<dyn Store>,
        broker: Arc<dyn Broker>,
        settings: &Settings,
        secrets: Arc<SecretBox>,
    ) -> anyhow::Result<Webhooks> {
        let builder = reqwest::Client::builder()
            .user_agent(format!("krawlr-webhooks/{}", env!("CARGO_PKG_VERSION")))
            .timeout(settings.webhooks.timeout)
            .connect_timeout(settings.webhooks.timeout.min(Duration::from_secs(10)))
            // A redirect could lead anywhere, a private address included: a 3xx is a failure.
            .redirect(reqwest::redirect::Policy::none());
        let net = GuardedClient::build(
            builder,
            settings.fetch.guard.clone(),
            system_lookup(),
            settings.fetch.proxy.as_ref(),
        )?;
        Ok(Webhooks {
            store,
            broker,
            topics: settings.topics.clone(),
            settings: settings.webhooks.clone(),
            secrets,
            topology: crate::queue::Topology::of(settings),
            net,
            wake: Notify::new(),
        })
    }

    /// Consumes and delivers until `stop`; attempts in flight then finish (each within its
    /// timeout), and whatever is still pending waits in the store for the next start.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        info!(
            completed = %self.topics.completed_subscription,
            progress = %self.topics.progress_subscription,
            "webhooks started"
        );
        let mut consumers = JoinSet::new();
        for subscription in [&self.topics.completed_subscription, &self.topics.progress_subscription] {
            consumers.spawn(self.clone().consume(subscription.clone(), stop.clone()));
        }
        self.clone().send_due(stop).await;
        while consumers.join_next().await.is_some() {}
        info!("webhooks stopped");
    }

    async fn consume(self: Arc<Self>, subscription: String, stop: CancellationToken) {
        let consumer = Consumer {
            broker: self.broker.as_ref(),
            topology: &self.topology,
            subscription: &subscription,
            batch: PULL_BATCH,
            idle: self.settings.poll_interval,
        };
        let handle = |message: ReceivedMessage| {
            let service = self.clone();
            async move {
                match service.dispatch(&message).await {
                    Ok(()) => Disposition::Ack,
                    Err(e) => {
                        // The event comes back and finds the deliveries already written, if any.
                        let job_id = message.attributes.get("job_id");
                        warn!(error = %e, ?job_id, "cannot record deliveries; the event comes back");
                        Disposition::Nack
                    }
                }
            }
        };
        consumer.run(&stop, handle).await;
    }

    /// Writes the deliveries one event calls for.
    async fn dispatch(&self, message: &ReceivedMessage) -> Result<(), StoreError> {
        let Ok(event) = serde_json::from_slice::<JobEvent>(&message.data) else {
            warn!(message_id = %message.message_id, "not a job event; dropped");
            return Ok(());
        };
        let Some(job) = self.store.get_job(&event.job_id).await? else {
            warn!(job_id = %event.job_id, "event of an unknown job; dropped");
            return Ok(());
        };
        let now = now_ms();
        let mut deliveries = Vec::new();
        // A monitor's change goes to the monitor's webhook; the job's own to the job's.
        let target = match (&event.kind, &event.monitor_id) {
            (EventKind::ReportChanged, Some(monitor)) => {
                self.store.get_monitor(monitor).await?.and_then(|m| m.webhook_url)
            }
            (EventKind::ReportChanged | EventKind::Progress, _) => None,
            _ => job.webhook_url.clone(),
        };
        if let Some(url) = target.as_deref() {
            let (signer, _) = ensure_default_endpoint(self.store.as_ref(), &self.secrets, &job.key_id).await?;
            deliveries.push(Delivery::new(&signer, url, &event, now));
        }
        for endpoint in self.store.list_endpoints(&job.key_id).await? {
            if let Some(url) = endpoint.url.as_deref().filter(|_| endpoint.wants(event.kind)) {
                deliveries.push(Delivery::new(&endpoint, url, &event, now));
            }
        }
        if !deliveries.is_empty() {
            self.store.insert_deliveries(&deliveries).await?;
            debug!(job_id = %job.id, event = %event.kind, count = deliveries.len(), "deliveries recorded");
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Claims due deliveries and attempts each, at most `concurrency` at once.
    async fn send_due(self: Arc<Self>, stop: CancellationToken) {
        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut attempts = JoinSet::new();
        'outer: while !stop.is_cancelled() {
            while attempts.try_join_next().is_some() {}
            let now = now_ms();
            let batch = self.settings.concurrency.min(100);
            let due = match self.store.due_deliveries(now, batch).await {
                Ok(due) => due,
                Err(e) => {
                    warn!(error = %e, "cannot read due deliveries");
                    pause(ERROR_PAUSE, &stop).await;
                    continue;
                }
            };
            let full = due.len() == batch;
            for delivery in due {
                let permit = tokio::select! {
                    permit = permits.clone().acquire_owned() => permit.expect("never closed"),
                    _ = stop.cancelled() => break 'outer,
                };
                if let Some(claimed) = self.claim(&delivery.id).await {
                    let this = self.clone();
                    attempts.spawn(async move {
                        this.attempt(claimed).await;
                        drop(permit);
                    });
                }
            }
            if !full {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(self.settings.poll_interval) => {}
                    _ = stop.cancelled() => {}
                }
            }
        }
        while attempts.join_next().await.is_some() {}
    }

    /// Takes a due delivery for one attempt; `None` when another sender was faster.
    async fn claim(&self, id: &str) -> Option<Delivery> {
        let now = now_ms();
        let lease_until = now + (self.settings.timeout + LEASE_MARGIN).as_millis() as i64;
        let change: Change<Delivery> = Arc::new(move |d| {
            let due = d.status == DeliveryStatus::Pending && d.next_attempt_at.is_some_and(|t| t <= now);
            if due {
                d.next_attempt_at = Some(lease_until);
                d.updated_at = now;
            }
            due
        });
        match self.store.update_delivery(id, change).await {
            Ok(Applied::Yes(d)) => Some(d),
            Ok(_) => None,
            Err(e) => {
                warn!(error = %e, delivery = id, "cannot claim a delivery");
                None
            }
        }
    }

    /// One attempt of a claimed delivery, recorded with what follows from it.
    async fn attempt(&self, delivery: Delivery) {
        let started = Instant::now();
        let at = now_ms();
        let endpoint = match self.store.get_endpoint(&delivery.endpoint_id).await {
            Ok(endpoint) => endpoint,
            Err(e) => {
                // The lease runs out and the delivery is attempted again.
                warn!(error = %e, delivery = %delivery.id, "cannot read the endpoint");
                return;
            }
        };
        let sent = match &endpoint {
            None => Sent::failed("the endpoint was deleted", true),
            Some(e) if e.status == EndpointStatus::Disabled => Sent::failed("the endpoint is disabled", true),
            Some(e) => self.send(&delivery, e).await,
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        let made = delivery.attempts.len() as u32 + 1 - delivery.round_start;
        let exhausted = made as usize >= self.settings.schedule.len();
        let gone = sent.status_code == Some(410);
        let (status, next_attempt_at) = if sent.succeeded() {
            (DeliveryStatus::Delivered, None)
        } else if sent.permanent || gone || exhausted {
            (DeliveryStatus::Failed, None)
        } else {
            let planned = self.settings.schedule[made as usize];
            let wait = sent.retry_after.map_or(planned, |r| planned.max(r.min(MAX_RETRY_AFTER)));
            (DeliveryStatus::Pending, Some(now_ms() + wait.as_millis() as i64))
        };
        let trigger = if delivery.manual { crate::store::Trigger::Manual } else { crate::store::Trigger::Schedule };
        let record = Attempt {
            at,
            status_code: sent.status_code,
            latency_ms,
            error: sent.error.clone(),
            next_attempt_at,
            trigger,
        };
        let lease = delivery.next_attempt_at;
        let change: Change<Delivery> = Arc::new(move |d| {
            if d.next_attempt_at != lease || d.status != DeliveryStatus::Pending {
                return false; // the lease ran out and another attempt took over
            }
            d.attempts.push(record.clone());
            if d.attempts.len() > MAX_LOGGED_ATTEMPTS {
                let extra = d.attempts.len() - MAX_LOGGED_ATTEMPTS;
                d.attempts.drain(..extra);
                d.round_start = d.round_start.saturating_sub(extra as u32);
            }
            d.status = status;
            d.next_attempt_at = next_attempt_at;
            d.updated_at = now_ms();
            true
        });
        if let Err(e) = self.store.update_delivery(&delivery.id, change).await {
            warn!(error = %e, delivery = %delivery.id, "cannot record an attempt; it will be made again");
            return;
        }
        let outcome = match status {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Pending => "retrying",
            DeliveryStatus::Failed => "failed",
        };
        crate::metrics::METRICS.webhook_attempt(outcome);
        info!(
            delivery = %delivery.id,
            job_id = %delivery.event.job_id,
            event = %delivery.event.kind,
            status_code = ?sent.status_code,
            error = ?sent.error,
            outcome = ?status,
            "webhook attempt"
        );
        if let Some(endpoint) = endpoint.filter(|e| !e.is_default()) {
            let reason = if gone {
                Some((EndpointStatus::Disabled, "the receiver answered 410 Gone".to_string()))
            } else if status == DeliveryStatus::Failed && !sent.permanent {
                let last = sent.error.clone().or(sent.status_code.map(|c| format!("HTTP {c}"))).unwrap_or_default();
                Some((EndpointStatus::Failing, format!("a delivery failed all its attempts (last: {last})")))
            } else if sent.succeeded() && endpoint.status == EndpointStatus::Failing {
                Some((EndpointStatus::Active, String::new()))
            } else {
                None
            };
            if let Some((new_status, reason)) = reason {
                self.set_endpoint_status(&endpoint.id, new_status, reason).await;
            }
        }
    }

    async fn set_endpoint_status(&self, id: &str, status: EndpointStatus, reason: String) {
        let change: Change<Endpoint> = Arc::new(move |e| {
            // A disabled endpoint stays so until its owner enables it.
            if e.status == status || e.status == EndpointStatus::Disabled {
                return false;
            }
            e.status = status;
            e.status_reason = (!reason.is_empty()).then(|| reason.clone());
            e.updated_at = now_ms();
            true
        });
        match self.store.update_endpoint(id, change).await {
            Ok(Applied::Yes(e)) => {
                warn!(endpoint = %e.id, status = ?e.status, reason = ?e.status_reason, "endpoint status changed")
            }
            Ok(_) => {}
            Err(e) => warn!(error = %e, endpoint = id, "cannot change the endpoint's status"),
        }
    }

    /// POSTs the signed event once.
    async fn send(&self, delivery: &Delivery, endpoint: &Endpoint) -> Sent {
        let url = match Url::parse(&delivery.url) {
            Ok(url) => url,
            Err(e) => return Sent::failed(format!("invalid URL: {e}"), true),
        };
        match self.net.vet(&url).await {
            Ok(()) => {}
            Err(NetError::Refused { reason, .. }) => return Sent::failed(format!("refused: {reason}"), true),
            Err(NetError::ForbiddenAddress { host }) => {
                return Sent::failed(format!("refused: {host} resolves only to private or metadata addresses"), true);
            }
            Err(other) => return Sent::failed(crate::telemetry::chain(&other), false),
        }
        let secrets = match self.signing_secrets(endpoint) {
            Ok(secrets) => secrets,
            Err(e) => return Sent::failed(e.to_string(), false),
        };
        let body = match self.payload(delivery).await {
            Ok(body) => body,
            Err(e) => return Sent::failed(format!("cannot build the payload: {e}"), false),
        };
        let timestamp = now_ms() / 1000;
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let signature = sign::signature(&secrets, &delivery.id, timestamp, &body);
        let response = self
            .net
            .client
            .post(url.clone())
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        match response {
            Ok(response) => {
                let code = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                let error = (!(200..300).contains(&code)).then(|| format!("HTTP {code}"));
                Sent { status_code: Some(code), error, retry_after, permanent: false }
            }
            Err(e) => match classify(&url, e) {
                NetError::ForbiddenAddress { host } => {
                    Sent::failed(format!("refused: {host} resolves only to private or metadata addresses"), true)
                }
                NetError::Timeout { .. } => {
                    Sent::failed(format!("timed out after {:.1} s", self.settings.timeout.as_secs_f64()), false)
                }
                other => Sent::failed(crate::telemetry::chain(&other), false),
            },
        }
    }

    /// The endpoint's secret, and the one it replaced while the rotation overlap lasts.
    fn signing_secrets(&self, endpoint: &Endpoint) -> Result<Vec<String>, sign::SealError> {
        let mut secrets = vec![self.secrets.open(&endpoint.secret, &endpoint.id)?];
        if let (Some(previous), Some(until)) = (&endpoint.previous_secret, endpoint.previous_secret_until) {
            if until > now_ms() {
                secrets.push(self.secrets.open(previous, &endpoint.id)?);
            }
        }
        Ok(secrets)
    }

    /// The body, the same on every attempt: `{"type", "timestamp", "data"}` as Standard
    /// Webhooks suggests, the report inline unless larger than the cap.
    async fn payload(&self, delivery: &Delivery) -> Result<Vec<u8>, StoreError> {
        let event = &delivery.event;
        let path = format!("/api/v1/scrape/{}", event.job_id);
        let result_url = match &self.settings.public_url {
            Some(base) => base.join(&path).map_or(path.clone(), |u| u.to_string()),
            None => path,
        };
        let submitted_at = self.store.get_job(&event.job_id).await?.map(|j| rfc3339(j.created_at));
        let mut report = serde_json::Value::Null;
        let mut report_bytes = None;
        if event.kind == EventKind::Completed {
            if let Some(stored) = self.store.get_result(&event.job_id).await? {
                let size = serde_json::to_vec(&stored).map_or(0, |b| b.len());
                if size <= self.settings.max_report_bytes {
                    report = stored;
                } else {
                    report_bytes = Some(size);
                }
            }
        }
        let mut body = serde_json::json!({
            "type": event.kind,
            "timestamp": rfc3339(event.timestamp),
            "data": {
                "job_id": event.job_id,
                "status": event.status,
                "url": event.url,
                "current_stage": event.current_stage,
                "progress_percent": event.progress_percent,
                "error": event.error,
                "submitted_at": submitted_at,
                "updated_at": rfc3339(event.timestamp),
                "result_url": result_url,
                "report": report,
                "report_omitted_bytes": report_bytes,
            }
        });
        if event.kind == EventKind::ReportChanged {
            body["data"]["monitor_id"] = serde_json::json!(event.monitor_id);
            body["data"]["change"] = event.change.clone().unwrap_or_default();
        }
        Ok(serde_json::to_vec(&body).expect("JSON values serialize"))
    }
}

/// The key's default signer, created with a new secret when missing; the secret is returned
/// only when it was just created.
pub async fn ensure_default_endpoint(
    store: &dyn Store,
    secrets: &SecretBox,
    key_id: &str,
) -> Result<(Endpoint, Option<String>), StoreError> {
    let id = Endpoint::default_id(key_id);
    if let Some(existing) = store.get_endpoint(&id).await? {
        return Ok((existing, None));
    }
    let events = EventKind::DEFAULT.to_vec();
    let description = "signs deliveries to per-job webhook_url".to_string();
    let (endpoint, secret) = Endpoint::new(id.clone(), key_id, None, events, description, secrets);
    match store.create_endpoint(&endpoint).await {
        Ok(()) => Ok((endpoint, Some(secret))),
        // Created meanwhile by another process: that one's secret holds.
        Err(StoreError::Conflict(_)) => {
            let existing = store.get_endpoint(&id).await?;
            existing.map(|e| (e, None)).ok_or_else(|| StoreError::Conflict(id))
        }
        Err(e) => Err(e),
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_as_seconds_or_date() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        let wait = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!((Duration::from_secs(110)..=Duration::from_secs(120)).contains(&wait), "{wait:?}");
        assert_eq!(parse_retry_after("soon"), None);
    }
}
