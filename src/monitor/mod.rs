//! Monitors: a company site re-scraped on a schedule, each report compared with the one before
//! ([`diff`]), and what changed recorded and sent as `report.changed`.
//!
//! Scheduling lives in the store, so any number of `up` and `worker` processes may run a
//! [`Scheduler`] and no cluster scheduler is needed. A scheduler looks at the monitors due
//! ([`Store::due_monitors`]) and takes each with a claim (it pushes the monitor's `wake_at`
//! forward in one atomic update; another scheduler that read it too finds it no longer due).
//! A due run is an ordinary job whose id names the monitor and the run, so however many times
//! a run is started, it has one job. While its job runs, the monitor is looked at every few
//! seconds; once the job is done, its report is compared with the baseline, the change (if
//! any) recorded and published, and only then is the run closed: a scheduler that dies on the
//! way leaves a run that the next look finishes, under the same change and event ids.

pub mod diff;

use crate::job::{EventKind, Job, JobEvent, JobStatus, MESSAGE_SCHEMA_VERSION, now_ms, rfc3339};
use crate::outbox::Relay;
use crate::store::{Applied, Change, Changed, Entry, Monitor, MonitorChange, MonitorStatus, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// How long a scheduler holds a monitor it took before another may take it.
const CLAIM_MS: i64 = 30_000;
/// How often a running run's job is looked at.
const CHECK_MS: i64 = 2_000;
/// Runs that fail one after another before a monitor is marked `failing`.
pub const FAILING_AFTER: u32 = 3;
/// The longest a failing monitor's back-off grows to.
const MAX_BACKOFF_MS: i64 = 7 * 24 * 3600 * 1000;
/// Monitors taken per look.
const BATCH: usize = 50;
/// A report larger than this is not copied into its monitor (a Firestore document holds 1 MiB):
/// it is read from the job's result instead, kept as long as `KRAWLR_RETENTION_DAYS`.
const MAX_BASELINE_BYTES: usize = 512 * 1024;

pub struct Scheduler {
    store: Arc<dyn Store>,
    relay: Arc<Relay>,
    /// How often the store is asked for due monitors.
    poll: Duration,
    /// The key's limit of unfinished jobs, which a monitor's run counts against.
    max_active: u64,
}

impl Scheduler {
    pub fn new(store: Arc<dyn Store>, relay: Arc<Relay>, poll: Duration, max_active: u64) -> Scheduler {
        Scheduler { store, relay, poll, max_active }
    }

    /// Looks at the due monitors every `poll` until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        info!(poll_ms = self.poll.as_millis() as u64, "monitor scheduler started");
        while !stop.is_cancelled() {
            if let Err(e) = self.tick(now_ms()).await {
                warn!(error = %e, "cannot look at the monitors due");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = stop.cancelled() => {}
            }
        }
    }

    /// One look at every monitor due by `now`.
    pub async fn tick(&self, now: i64) -> Result<(), StoreError> {
        for due in self.store.due_monitors(now, BATCH).await? {
            let Some(monitor) = self.claim(&due.id, now).await? else { continue };
            let id = monitor.id.clone();
            if let Err(e) = self.look(monitor, now).await {
                // The claim runs out and a later look tries again.
                warn!(error = %e, monitor = %id, "cannot run the monitor; it is looked at again shortly");
            }
        }
        Ok(())
    }

    /// Takes a due monitor for this look; `None` when another scheduler was faster.
    async fn claim(&self, id: &str, now: i64) -> Result<Option<Monitor>, StoreError> {
        let change: Change<Monitor> = Arc::new(move |m| {
            let due = m.status != MonitorStatus::Paused && m.wake_at <= now;
            if due {
                m.wake_at = now + CLAIM_MS;
            }
            due
        });
        Ok(match self.store.update_monitor(id, change).await? {
            Applied::Yes(m) => Some(m),
            _ => None,
        })
    }

    async fn look(&self, monitor: Monitor, now: i64) -> Result<(), StoreError> {
        match monitor.running {
            Some(run) => self.finish(monitor, run, now).await,
            None if monitor.next_run_at <= now => self.start(monitor, now).await,
            None => {
                let next = monitor.next_run_at;
                self.update(&monitor.id, move |m| m.wake_at = next).await?;
                Ok(())
            }
        }
    }

    /// Submits the next run's job (once, by its id) and marks the run started.
    async fn start(&self, monitor: Monitor, now: i64) -> Result<(), StoreError> {
        let run = monitor.runs + 1;
        let job_id = monitor.job_id(run);
        let Ok(url) = url::Url::parse(&monitor.url) else {
            warn!(monitor = %monitor.id, url = %monitor.url, "a monitor whose URL does not parse; paused");
            self.update(&monitor.id, |m| {
                m.status = MonitorStatus::Paused;
                m.status_reason = Some("its URL does not parse".into());
            })
            .await?;
            return Ok(());
        };
        let mut job = Job::new(job_id.clone(), monitor.key_id.clone(), url, now);
        job.monitor_id = Some(monitor.id.clone());
        match self.relay.submit(&job, self.max_active).await {
            Ok(()) => {}
            // Started before by a scheduler that died before it marked the run.
            Err(StoreError::Conflict(_)) => {}
            Err(StoreError::TooManyActive(_)) => {
                // The key is busy: the run waits, without counting as a failure.
                self.update(&monitor.id, move |m| m.wake_at = now + CLAIM_MS).await?;
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        let next = now + monitor.interval_ms + jitter(monitor.interval_ms);
        self.update(&monitor.id, move |m| {
            m.runs = run;
            m.running = Some(run);
            m.last_run_at = Some(now);
            m.next_run_at = next;
            m.wake_at = now + CHECK_MS;
        })
        .await?;
        Ok(())
    }

    /// Looks at a started run's job; once it is done, compares, records and closes the run.
    async fn finish(&self, monitor: Monitor, run: u64, now: i64) -> Result<(), StoreError> {
        let job_id = monitor.job_id(run);
        let job = self.store.get_job(&job_id).await?;
        let status = job.as_ref().map(|j| j.status);
        if status.is_some_and(|s| !s.is_terminal()) {
            self.update(&monitor.id, move |m| m.wake_at = now + CHECK_MS).await?;
            return Ok(());
        }
        let report = match status {
            Some(JobStatus::Completed) => self.store.get_result(&job_id).await?,
            _ => None,
        };
        let Some(report) = report else {
            // Failed, cancelled, or gone: the run counts as failed, and the monitor backs off.
            let error = job.and_then(|j| j.error).unwrap_or_else(|| "the run's job is gone".into());
            let failures = monitor.consecutive_failures + 1;
            let backoff = monitor.interval_ms.saturating_mul(1 << failures.min(16)).min(MAX_BACKOFF_MS);
            let next = (now + backoff).max(monitor.next_run_at);
            self.update(&monitor.id, move |m| {
                m.running = None;
                m.consecutive_failures = failures;
                if failures >= FAILING_AFTER && m.status == MonitorStatus::Active {
                    m.status = MonitorStatus::Failing;
                }
                if m.status == MonitorStatus::Failing {
                    m.status_reason = Some(format!("{failures} runs failed in a row; the last: {error}"));
                }
                m.next_run_at = next;
                m.wake_at = next;
            })
            .await?;
            return Ok(());
        };
        let mut changed = false;
        if let (Some(old), Some(from)) = (baseline(self.store.as_ref(), &monitor).await?, &monitor.baseline_job_id) {
            let diff = diff::diff(&old, &report, &monitor.fields);
            if !diff.is_empty() {
                let change = MonitorChange {
                    id: job_id.clone(),
                    monitor_id: monitor.id.clone(),
                    key_id: monitor.key_id.clone(),
                    from_job_id: from.clone(),
                    to_job_id: job_id.clone(),
                    detected_at: now,
                    diff,
                };
                self.store.insert_change(&change).await?;
                self.announce(&monitor, &change).await?;
                crate::metrics::METRICS.monitor_changes.inc();
                changed = true;
            }
        }
        let baseline = Some(report.to_string()).filter(|r| r.len() <= MAX_BASELINE_BYTES);
        self.update(&monitor.id, move |m| {
            m.running = None;
            m.consecutive_failures = 0;
            if m.status == MonitorStatus::Failing {
                m.status = MonitorStatus::Active;
                m.status_reason = None;
            }
            m.baseline = baseline.clone();
            m.baseline_job_id = Some(job_id.clone());
            if changed {
                m.changes += 1;
                m.last_change_at = Some(now);
            }
            m.wake_at = m.next_run_at;
        })
        .await?;
        Ok(())
    }

    /// Publishes the change as `report.changed` (to the monitor's webhook and the key's
    /// endpoints that want it). An error leaves the run open, and the next look sends it again
    /// under the same event id.
    async fn announce(&self, monitor: &Monitor, change: &MonitorChange) -> Result<(), StoreError> {
        let event = JobEvent {
            schema_version: MESSAGE_SCHEMA_VERSION,
            event_id: format!("{}.changed", change.id),
            kind: EventKind::ReportChanged,
            job_id: change.to_job_id.clone(),
            url: monitor.url.clone(),
            status: JobStatus::Completed,
            current_stage: crate::job::Stage::Completed,
            progress_percent: 100,
            error: None,
            timestamp: change.detected_at,
            monitor_id: Some(monitor.id.clone()),
            change: Some(serde_json::to_value(ChangeBody::from(change.clone())).expect("changes serialize")),
        };
        self.relay.publish_event(&event).await.map_err(|e| StoreError::Unavailable(Box::new(e)))
    }

    async fn update(&self, id: &str, edit: impl Fn(&mut Monitor) + Send + Sync + 'static) -> Result<(), StoreError> {
        let change: Change<Monitor> = Arc::new(move |m| {
            edit(m);
            m.updated_at = now_ms();
            true
        });
        self.store.update_monitor(id, change).await.map(drop)
    }
}

/// The report the monitor's next run is compared with: kept in the monitor, or (when it was too
/// large to keep there) its job's result. `None` before the first completed run, or once
/// retention removed a large baseline's job (the next run then starts a new baseline).
pub async fn baseline(store: &dyn Store, monitor: &Monitor) -> Result<Option<serde_json::Value>, StoreError> {
    if let Some(kept) = &monitor.baseline {
        return Ok(serde_json::from_str(kept).ok());
    }
    match &monitor.baseline_job_id {
        Some(job) => store.get_result(job).await,
        None => Ok(None),
    }
}

/// One change a run found, as events and the API show it: the jobs compared, and what was
/// added, removed and changed (`path`s such as `company.headquarters.city`, `funding.rounds[+]`,
/// `website.technologies[-]`).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ChangeBody {
    id: String,
    monitor_id: String,
    from_job_id: String,
    to_job_id: String,
    detected_at: String,
    added: Vec<Entry>,
    removed: Vec<Entry>,
    changed: Vec<Changed>,
}

impl From<MonitorChange> for ChangeBody {
    fn from(c: MonitorChange) -> ChangeBody {
        ChangeBody {
            id: c.id,
            monitor_id: c.monitor_id,
            from_job_id: c.from_job_id,
            to_job_id: c.to_job_id,
            detected_at: rfc3339(c.detected_at),
            added: c.diff.added,
            removed: c.diff.removed,
            changed: c.diff.changed,
        }
    }
}

/// Up to a tenth of the interval (at most 5 minutes), so that monitors made together spread out.
fn jitter(interval_ms: i64) -> i64 {
    let spread = (interval_ms / 10).clamp(0, 300_000);
    if spread == 0 { 0 } else { rand::random_range(0..spread) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn jitter_spreads_runs_over_a_tenth_of_the_interval_at_most_five_minutes() {
        for _ in 0..1000 {
            assert!((0..6_000).contains(&super::jitter(60_000)));
            assert!((0..300_000).contains(&super::jitter(86_400_000)));
        }
        assert_eq!(super::jitter(5), 0);
        let spread: std::collections::HashSet<i64> = (0..200).map(|_| super::jitter(3_600_000)).collect();
        assert!(spread.len() > 100, "monitors made together do not fire together");
    }
}
