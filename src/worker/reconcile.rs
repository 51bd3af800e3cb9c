//! The reconciler: the store's record is the truth. An unfinished job that nobody has touched
//! for longer than any lease plus any backoff has lost its message (a publish that failed after
//! the job was written, a broker that forgot its messages, a crash between the two), so its
//! message is published again. A duplicate is harmless: a job that a live delivery holds cannot
//! be claimed by another (so a republish never restarts a running job, whichever reconciler
//! sent it), and a message for a finished job is acked without work.

use super::{Worker, pause};
use crate::job::{JobRequested, JobStatus, Transition, now_ms};
use crate::queue::OutgoingMessage;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Jobs republished per round at most.
const BATCH: usize = 100;

impl Worker {
    pub(super) async fn reconcile(self: Arc<Self>, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            pause(self.settings.reconcile_interval, &shutdown).await;
            if shutdown.is_cancelled() {
                return;
            }
            if let Err(e) = self.reconcile_once().await {
                warn!(error = %e, "reconciling failed; trying again next round");
            }
        }
    }

    /// Republishes the stale jobs; how many.
    pub async fn reconcile_once(&self) -> anyhow::Result<usize> {
        let before = now_ms() - self.settings.reconcile_after.as_millis() as i64;
        let stale = self.store.jobs_updated_before(&JobStatus::UNFINISHED, before, BATCH).await?;
        for job in &stale {
            let message = OutgoingMessage::json(&JobRequested::for_job(job), &job.id);
            if let Err(e) = self.broker.publish(&self.topics.jobs, &[message]).await {
                self.topology.repair(self.broker.as_ref(), &e).await;
                return Err(e.into());
            }
            self.store.transition(&job.id, &Transition::Touch, None).await?;
            warn!(job_id = %job.id, status = %job.status, "republished a job whose message seems lost");
        }
        Ok(stale.len())
    }
}
