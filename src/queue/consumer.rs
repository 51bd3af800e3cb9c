//! How every subscription consumer pulls: on a failed pull, put a forgotten topology back and
//! pause; on an empty one, wait for news ([`Consumer::pull`]). The plain consumers (the worker's
//! dead letters, the webhooks service's events) run [`Consumer::run`] on it: each message handed
//! over in turn, what was handled acked with its batch. The worker's job loop pulls with it too,
//! as many messages as it has free slots, and runs them at once.

use super::{AckId, Broker, ReceivedMessage, Topology};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Pause after the broker failed to answer.
const BROKER_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// What becomes of a message once its handler is done with it.
pub enum Disposition {
    /// Handled: acked with its batch.
    Ack,
    /// Not handled yet: back after the subscription's backoff.
    Nack,
    /// Not handled yet: back when its lease runs out.
    Leave,
}

/// Where and how to consume.
pub struct Consumer<'a> {
    pub broker: &'a dyn Broker,
    pub topology: &'a Topology,
    pub subscription: &'a str,
    /// Messages asked for in one pull.
    pub batch: usize,
    /// Longest wait on an empty subscription.
    pub idle: Duration,
}

impl Consumer<'_> {
    /// One pull of at most `max` messages. `None` after a failed pull (the topology put back if
    /// the broker forgot it, then a pause) or an empty one (after waiting up to `idle` for
    /// news), either cut short by `stop`. A pull under way is never abandoned: the messages it
    /// leased would stay invisible until their leases ran out.
    pub async fn pull(&self, max: usize, stop: &CancellationToken) -> Option<Vec<ReceivedMessage>> {
        let subscription = self.subscription;
        match self.broker.pull(subscription, max).await {
            Ok(messages) if !messages.is_empty() => Some(messages),
            Ok(_) => {
                tokio::select! {
                    _ = self.broker.wait_for_messages(self.idle) => {}
                    _ = stop.cancelled() => {}
                }
                None
            }
            Err(e) => {
                warn!(error = %e, %subscription, "pull failed; trying again");
                self.topology.repair(self.broker, &e).await;
                pause(BROKER_ERROR_PAUSE, stop).await;
                None
            }
        }
    }

    /// Runs until `stop` is cancelled, giving each message to `handle`.
    pub async fn run<F, Fut>(&self, stop: &CancellationToken, mut handle: F)
    where
        F: FnMut(ReceivedMessage) -> Fut,
        Fut: Future<Output = Disposition>,
    {
        let subscription = self.subscription;
        while !stop.is_cancelled() {
            let Some(messages) = self.pull(self.batch, stop).await else { continue };
            let mut done: Vec<AckId> = Vec::with_capacity(messages.len());
            for message in messages {
                let ack_id = message.ack_id.clone();
                match handle(message).await {
                    Disposition::Ack => done.push(ack_id),
                    Disposition::Nack => {
                        if let Err(e) = self.broker.nack(subscription, &ack_id, None).await {
                            warn!(error = %e, %subscription, "nack failed; the message comes back when its lease ends");
                        }
                    }
                    Disposition::Leave => {}
                }
            }
            if let Err(e) = self.broker.ack(subscription, &done).await {
                warn!(error = %e, %subscription, "ack failed; the messages come back and are handled again");
            }
        }
    }
}

/// Sleeps for `duration`, or until `stop`.
pub async fn pause(duration: Duration, stop: &CancellationToken) {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = stop.cancelled() => {}
    }
}
