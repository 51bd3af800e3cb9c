//! The records of monitors and the changes they found, as both stores keep them; the monitor
//! scheduler makes and runs them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MonitorStatus {
    /// Runs on schedule.
    Active,
    /// Its last runs failed one after another: it still runs, backing off, and the next
    /// success makes it active again.
    Failing,
    /// Paused by its owner: it does not run until made active again.
    Paused,
}

impl MonitorStatus {
    pub const ALL: [MonitorStatus; 3] = [MonitorStatus::Active, MonitorStatus::Failing, MonitorStatus::Paused];

    pub fn as_str(self) -> &'static str {
        match self {
            MonitorStatus::Active => "active",
            MonitorStatus::Failing => "failing",
            MonitorStatus::Paused => "paused",
        }
    }
}

/// A company site watched over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    pub id: String,
    pub key_id: String,
    pub url: String,
    pub interval_ms: i64,
    /// Where its `report.changed` events go, besides the key's endpoints that want them.
    pub webhook_url: Option<String>,
    /// Path prefixes that count as a change (`company.headquarters`, `news`); empty: all.
    pub fields: Vec<String>,
    pub status: MonitorStatus,
    pub status_reason: Option<String>,
    /// When the next run is due (Unix ms).
    pub next_run_at: i64,
    /// When a scheduler next looks at it: the next run, or the next look at a running one
    /// (also a claim: a scheduler that takes it pushes this forward first).
    pub wake_at: i64,
    /// `wake_at` unless paused: what the stores query (set by [`Monitor::settle`] on every write).
    pub due_at: Option<i64>,
    /// Runs started so far; run `n`'s job id is [`Monitor::job_id`]`(n)`.
    pub runs: u64,
    /// The run whose job is still to be looked at, if any.
    pub running: Option<u64>,
    /// The last completed run's job and report (JSON): what the next one is compared with.
    pub baseline_job_id: Option<String>,
    pub baseline: Option<String>,
    /// Runs that failed one after another.
    pub consecutive_failures: u32,
    pub changes: u64,
    pub last_run_at: Option<i64>,
    pub last_change_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Monitor {
    /// A new, active monitor of `url`, due at once.
    pub fn new(id: String, key_id: &str, url: &str, interval_ms: i64, now: i64) -> Monitor {
        Monitor {
            id,
            key_id: key_id.to_string(),
            url: url.to_string(),
            interval_ms,
            webhook_url: None,
            fields: Vec::new(),
            status: MonitorStatus::Active,
            status_reason: None,
            next_run_at: now,
            wake_at: now,
            due_at: None,
            runs: 0,
            running: None,
            baseline_job_id: None,
            baseline: None,
            consecutive_failures: 0,
            changes: 0,
            last_run_at: None,
            last_change_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// When a scheduler should look at it; never while paused. The stores keep it in
    /// `due_at`, which they query.
    pub fn settle(&mut self) {
        self.due_at = (self.status != MonitorStatus::Paused).then_some(self.wake_at);
    }

    /// `change`, then [`Monitor::settle`]: how both stores apply a change, so `due_at` always
    /// follows what it derives from.
    pub fn settled(change: super::Change<Monitor>) -> super::Change<Monitor> {
        std::sync::Arc::new(move |m| {
            let changed = change(m);
            m.settle();
            changed
        })
    }

    /// The id of run `run`'s job: the same however many processes start it, so a run has one job.
    pub fn job_id(&self, run: u64) -> String {
        format!("{}-r{run}", self.id)
    }
}

/// What one run found changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorChange {
    /// `{monitor id}-r{run}`: one change per run, however often it is recorded.
    pub id: String,
    pub monitor_id: String,
    pub key_id: String,
    /// The run compared with, and the run that found the change.
    pub from_job_id: String,
    pub to_job_id: String,
    pub detected_at: i64,
    pub diff: Diff,
}

/// A value that arrived or went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    pub path: String,
    #[schema(value_type = Object)]
    pub value: Value,
}

/// A value that is different now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Changed {
    pub path: String,
    #[schema(value_type = Object)]
    pub old: Value,
    #[schema(value_type = Object)]
    pub new: Value,
}

/// Everything that changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Diff {
    pub added: Vec<Entry>,
    pub removed: Vec<Entry>,
    pub changed: Vec<Changed>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}
