//! The relay between the store's outbox and the broker. A job's change and the messages it
//! sends (its event on `scrape-progress` or `scrape-completed`, a rerun's job message, a gcp
//! submit's job message) are committed in one store write; the writer then publishes them and
//! removes them from the outbox. Should the writer die or the publish fail in between, a relay
//! sweep (every api and worker process runs one) publishes them a few seconds later. Publishing
//! is thus at least once, and every publish of an entry carries its stable id (`event_id`), so
//! that each webhook receiver sees an event under one `webhook-id` however often it was sent.

use crate::config::Topics;
use crate::job::{Channel, OutboxEntry, Transition, now_ms};
use crate::queue::{Broker, OutgoingMessage, Topology, pause};
use crate::store::{Applied, Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// How often a relay looks for entries nobody published.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How long a sweeping relay holds the entries it took before another may take them.
const CLAIM_MS: i64 = 30_000;
/// Entries taken per sweep at most.
const SWEEP_BATCH: usize = 100;

pub struct Relay {
    pub store: Arc<dyn Store>,
    pub broker: Arc<dyn Broker>,
    topics: Topics,
    /// Put back should the broker forget it.
    topology: Topology,
}

impl Relay {
    pub fn new(store: Arc<dyn Store>, broker: Arc<dyn Broker>, topics: Topics, topology: Topology) -> Relay {
        Relay { store, broker, topics, topology }
    }

    /// Applies `t` to job `id` (with `report` for a completion), then publishes what the change
    /// sends. Every change of a job's state goes through here.
    pub async fn transition(
        &self,
        id: &str,
        t: &Transition,
        report: Option<&serde_json::Value>,
    ) -> Result<Applied, StoreError> {
        let applied = self.store.transition(id, t, report).await?;
        if let Applied::Yes(job) = &applied {
            if job.status.is_terminal() {
                crate::failpoint!("after_final_commit");
            }
            self.send(&job.outbox(t)).await;
        }
        Ok(applied)
    }

    /// Writes a new job with its `scrape-jobs` message (`Store::create_job`), then publishes the
    /// message where the store could not queue it itself: should that publish fail, a sweep
    /// publishes it in seconds.
    pub async fn submit(&self, job: &crate::job::Job, max_active: u64) -> Result<(), StoreError> {
        match self.store.create_job(job, max_active).await? {
            crate::store::Enqueue::Done => {}
            crate::store::Enqueue::Relay(entries) => self.send(&entries).await,
        }
        Ok(())
    }

    /// Publishes `entries` and removes them from the outbox. What cannot be published now stays
    /// there, and a sweep publishes it later.
    pub async fn send(&self, entries: &[OutboxEntry]) {
        if entries.is_empty() {
            return;
        }
        crate::failpoint!("before_publish");
        // Where the store holds the queue, publishing and clearing are one write: exactly once.
        let messages: Vec<(String, String, OutgoingMessage)> =
            entries.iter().map(|e| (e.id.clone(), self.topic(e.channel).to_string(), message(e))).collect();
        match self.store.publish_outbox(&messages).await {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => {
                warn!(error = %e, count = entries.len(), "could not publish; the outbox keeps them for the relay");
                return;
            }
        }
        let mut sent = Vec::with_capacity(entries.len());
        for channel in [Channel::Jobs, Channel::Progress, Channel::Completed] {
            let topic = self.topic(channel);
            let (ids, batch): (Vec<String>, Vec<OutgoingMessage>) =
                messages.iter().filter(|(_, t, _)| t == topic).map(|(id, _, m)| (id.clone(), m.clone())).unzip();
            if batch.is_empty() {
                continue;
            }
            match self.broker.publish(topic, &batch).await {
                Ok(_) => sent.extend(ids),
                Err(e) => {
                    warn!(error = %e, %topic, count = batch.len(), "could not publish; the outbox keeps them for the relay");
                    self.topology.repair(self.broker.as_ref(), &e).await;
                }
            }
        }
        if let Err(e) = self.store.outbox_sent(&sent).await {
            // Published, but still in the outbox: a sweep publishes them again, under the same ids.
            warn!(error = %e, "could not clear published outbox entries");
        }
    }

    /// Publishes an event that no job change carries (a monitor's `report.changed`) on the
    /// completed topic, now; the caller keeps what it needs to send it again on an error.
    pub async fn publish_event(&self, event: &crate::job::JobEvent) -> Result<(), crate::queue::QueueError> {
        let message = OutgoingMessage {
            data: serde_json::to_vec(event).expect("events serialize"),
            attributes: BTreeMap::from([
                ("job_id".to_string(), event.job_id.clone()),
                ("event_id".to_string(), event.event_id.clone()),
            ]),
        };
        let topic = self.topic(Channel::Completed);
        if let Err(e) = self.broker.publish(topic, &[message]).await {
            self.topology.repair(self.broker.as_ref(), &e).await;
            return Err(e);
        }
        Ok(())
    }

    fn topic(&self, channel: Channel) -> &str {
        match channel {
            Channel::Jobs => &self.topics.jobs,
            Channel::Progress => &self.topics.progress,
            Channel::Completed => &self.topics.completed,
        }
    }

    /// Sweeps the outbox every second until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            pause(SWEEP_EVERY, &shutdown).await;
            if shutdown.is_cancelled() {
                return;
            }
            match self.sweep_once().await {
                Ok(0) => {}
                Ok(n) => warn!(count = n, "relayed outbox entries their writer did not publish"),
                Err(e) => debug!(error = %e, "cannot read the outbox; trying again"),
            }
        }
    }

    /// Publishes the entries whose writer had its grace ([`crate::job::OUTBOX_GRACE_MS`]) to
    /// publish them and did not; how many were taken.
    pub async fn sweep_once(&self) -> Result<usize, StoreError> {
        let now = now_ms();
        let due = self.store.claim_outbox(now, now + CLAIM_MS, SWEEP_BATCH).await?;
        self.send(&due).await;
        Ok(due.len())
    }
}

/// An entry as a message: its body, the `job_id` every krawlr message carries, and its stable
/// `event_id`.
fn message(entry: &OutboxEntry) -> OutgoingMessage {
    OutgoingMessage {
        data: entry.data.clone().into_bytes(),
        attributes: BTreeMap::from([
            ("job_id".to_string(), entry.job_id.clone()),
            ("event_id".to_string(), entry.id.clone()),
        ]),
    }
}
