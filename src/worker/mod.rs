//! The worker: pulls `scrape-jobs` with bounded concurrency, keeps each lease alive while the
//! job runs, drives the scrape stage by stage with progress in the store, stores the result,
//! then acks; every change goes through the relay, which commits its event with it and
//! publishes it on `scrape-progress` or `scrape-completed` after. It also drains the dead-letter
//! subscription, failing the jobs whose messages ended there, republishes jobs whose message
//! seems lost (the reconciler), and removes what outlived its retention.
//!
//! On shutdown it stops pulling, lets running jobs finish within the grace period, and hands
//! the rest back to the queue.

mod handle;
mod reconcile;
mod retention;

use crate::config::{QueueSettings, Topics, WorkerSettings};
use crate::job::{JobRequested, Transition};
use crate::outbox::Relay;
use crate::queue::{Broker, Consumer, Disposition, ReceivedMessage, pause};
use crate::scrape::Scraper;
use crate::store::{Applied, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, info_span, warn};

/// Most messages asked for in one pull.
const MAX_PULL: usize = 100;

pub struct Worker {
    pub broker: Arc<dyn Broker>,
    pub store: Arc<dyn Store>,
    pub scraper: Arc<Scraper>,
    pub topics: Topics,
    pub queue: QueueSettings,
    pub settings: WorkerSettings,
    /// Put back should the broker forget it.
    pub topology: crate::queue::Topology,
    /// Every change of a job goes through it, with the events it sends.
    pub relay: Arc<Relay>,
}

impl Worker {
    /// Runs until `shutdown` is cancelled, then drains as described in the module docs.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let dead_letters = tokio::spawn(self.clone().drain_dead_letters(shutdown.clone()));
        let reconciler = tokio::spawn(self.clone().reconcile(shutdown.clone()));
        let sweeper = tokio::spawn(self.clone().sweep_old(shutdown.clone()));
        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let hard_stop = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let jobs = Consumer {
            broker: self.broker.as_ref(),
            topology: &self.topology,
            subscription: &self.topics.jobs_subscription,
            batch: MAX_PULL,
            idle: self.settings.poll_interval,
        };
        info!(concurrency = self.settings.concurrency, subscription = %self.topics.jobs_subscription, "worker started");
        loop {
            while tasks.try_join_next().is_some() {}
            let first = tokio::select! {
                permit = permits.clone().acquire_owned() => permit.expect("never closed"),
                _ = shutdown.cancelled() => break,
            };
            // As many as there are free slots. Whatever arrives after shutdown began is handed
            // straight back.
            let room = (permits.available_permits() + 1).min(MAX_PULL);
            let Some(messages) = jobs.pull(room, &shutdown).await else { continue };
            if shutdown.is_cancelled() {
                for message in messages {
                    let _ =
                        self.broker.nack(&self.topics.jobs_subscription, &message.ack_id, Some(Duration::ZERO)).await;
                }
                break;
            }
            let mut first = Some(first);
            for message in messages {
                let permit = first
                    .take()
                    .or_else(|| permits.clone().try_acquire_owned().ok())
                    .expect("pulled no more than the free permits");
                let worker = self.clone();
                let stop = hard_stop.clone();
                tasks.spawn(async move {
                    worker.handle(message, stop).await;
                    drop(permit);
                });
            }
        }
        let running = tasks.len();
        if running > 0 {
            info!(running, grace = ?self.settings.shutdown_grace, "stopping: letting running jobs finish");
        }
        let drained =
            tokio::time::timeout(self.settings.shutdown_grace, async { while tasks.join_next().await.is_some() {} })
                .await;
        if drained.is_err() {
            warn!(left = tasks.len(), "grace period over: handing the remaining jobs back");
            hard_stop.cancel();
            while tasks.join_next().await.is_some() {}
        }
        let _ = dead_letters.await;
        let _ = reconciler.await;
        let _ = sweeper.await;
        info!("worker stopped");
    }

    /// Fails the jobs whose messages were dead-lettered (the last attempt's lease expired, or
    /// the last attempt failed), so that no job stays `processing` or `retrying` for ever.
    async fn drain_dead_letters(self: Arc<Self>, shutdown: CancellationToken) {
        let consumer = Consumer {
            broker: self.broker.as_ref(),
            topology: &self.topology,
            subscription: &self.topics.dead_letter_subscription,
            batch: MAX_PULL,
            idle: self.settings.poll_interval * 4,
        };
        // A job that cannot be failed yet is left for the message's next delivery.
        let handle = |message: ReceivedMessage| {
            let worker = self.clone();
            async move {
                match worker.fail_dead_letter(&message).await {
                    true => Disposition::Ack,
                    false => Disposition::Leave,
                }
            }
        };
        consumer.run(&shutdown, handle).await;
    }

    /// `true` when the message is dealt with and may be acked.
    async fn fail_dead_letter(&self, message: &ReceivedMessage) -> bool {
        let Some(request) = parse_request(message) else {
            return true;
        };
        let reason = format!("gave up after {} delivery attempts", self.queue.max_delivery_attempts);
        let t = Transition::DeadLettered { round: request.round, reason: reason.clone() };
        match self.relay.transition(&request.job_id, &t, None).await {
            Ok(Applied::Yes(job)) => {
                warn!(job_id = %job.id, %reason, "job failed: its message was dead-lettered");
                true
            }
            // Finished already, rerun since, or run by a live delivery (this was a duplicate of its
            // message).
            Ok(Applied::No(_) | Applied::NotFound) => true,
            Err(e) => {
                warn!(error = %e, job_id = %request.job_id, "could not fail a dead-lettered job yet");
                false
            }
        }
    }
}

fn parse_request(message: &ReceivedMessage) -> Option<JobRequested> {
    match serde_json::from_slice::<JobRequested>(&message.data) {
        Ok(request) => Some(request),
        Err(e) => {
            let span = info_span!("message", message_id = %message.message_id);
            span.in_scope(|| error!(error = %e, "dropping a message that is not a job request"));
            None
        }
    }
}
