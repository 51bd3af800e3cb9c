//! Retention: finished jobs, their results and webhook delivery logs older than
//! `KRAWLR_RETENTION_DAYS` are removed in the background, a removed job leaving a tombstone
//! (so that the API answers `410 Gone` rather than `404`) that is itself removed after as long
//! again. Every worker sweeps; sweeps are idempotent, so several at once do no harm. Messages
//! nobody consumed are dropped after seven days on the embedded queue, as Pub/Sub drops them.

use super::{Worker, pause};
use crate::job::now_ms;
use crate::store::Swept;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Removals per store write at most.
const BATCH: usize = 200;
/// Pub/Sub's default message retention.
const MESSAGE_RETENTION: Duration = Duration::from_secs(7 * 86_400);
/// The longest pause between two sweeps.
const MAX_SWEEP_PAUSE: Duration = Duration::from_secs(3600);

impl Worker {
    pub(super) async fn sweep_old(self: Arc<Self>, shutdown: CancellationToken) {
        let Some(retention) = self.settings.retention else {
            return;
        };
        // Often enough that nothing outlives its retention by more than a tenth of it.
        let every = (retention / 10).clamp(Duration::from_millis(500), MAX_SWEEP_PAUSE);
        while !shutdown.is_cancelled() {
            match self.sweep_once(retention).await {
                Ok(swept) if swept != Swept::default() => info!(
                    jobs = swept.jobs,
                    deliveries = swept.deliveries,
                    tombstones = swept.tombstones,
                    "removed what outlived its retention"
                ),
                Ok(_) => {}
                Err(e) => warn!(error = %e, "retention sweep failed; trying again next round"),
            }
            pause(every, &shutdown).await;
        }
    }

    /// Removes what is older than `retention`, batch by batch until nothing is left.
    pub async fn sweep_once(&self, retention: Duration) -> anyhow::Result<Swept> {
        let now = now_ms();
        let before = now - retention.as_millis() as i64;
        let mut total = Swept::default();
        loop {
            let swept = self.store.sweep(before, before - retention.as_millis() as i64, BATCH).await?;
            total.jobs += swept.jobs;
            total.deliveries += swept.deliveries;
            total.tombstones += swept.tombstones;
            if swept.jobs < BATCH && swept.deliveries < BATCH && swept.tombstones < BATCH {
                break;
            }
        }
        self.broker.expire_messages(now - MESSAGE_RETENTION.as_millis() as i64).await?;
        Ok(total)
    }
}
