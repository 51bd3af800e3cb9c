//! The job: its statuses, stages, guarded state machine, and the messages that carry it
//! between processes. Both store backends apply transitions through [`Job::apply`], so the
//! rules that keep a stale worker from overwriting a newer state live in one place.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Version of the JSON documents published on the three topics.
pub const MESSAGE_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Processing,
    Retrying,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::Processing,
        JobStatus::Retrying,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Processing => "processing",
            JobStatus::Retrying => "retrying",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// A terminal job never changes again.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled)
    }

    /// The statuses of a job that has not ended (`queued`, `processing`, `retrying`), by name:
    /// what the stores' queries for unfinished jobs ask for.
    pub fn unfinished_names() -> Vec<&'static str> {
        JobStatus::ALL.iter().filter(|s| !s.is_terminal()).map(|s| s.as_str()).collect()
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stages of the original pipeline, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Starting,
    Profile,
    Website,
    Financial,
    News,
    Enrichment,
    Saving,
    Completed,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Starting,
        Stage::Profile,
        Stage::Website,
        Stage::Financial,
        Stage::News,
        Stage::Enrichment,
        Stage::Saving,
        Stage::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Starting => "starting",
            Stage::Profile => "profile",
            Stage::Website => "website",
            Stage::Financial => "financial",
            Stage::News => "news",
            Stage::Enrichment => "enrichment",
            Stage::Saving => "saving",
            Stage::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// `progress_percent` reported while the job is in this stage.
    pub fn progress_percent(self) -> u8 {
        match self {
            Stage::Starting => 5,
            Stage::Profile => 15,
            Stage::Website => 30,
            Stage::Financial => 50,
            Stage::News => 65,
            Stage::Enrichment => 80,
            Stage::Saving => 90,
            Stage::Completed => 100,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-job options given at submit time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobOptions {
    /// Cap on pages crawled for this job (default from settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pages: Option<u32>,
}

/// A job document, as both stores keep it. Times are unix milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub key_id: String,
    /// The company site, parsed (and checked by the address guard) when the job was submitted.
    pub url: url::Url,
    pub status: JobStatus,
    pub current_stage: Stage,
    pub progress_percent: u8,
    /// How many times a worker has claimed the job; the fencing token of the current claim.
    pub attempt: u32,
    pub error: Option<String>,
    pub webhook_url: Option<String>,
    pub options: JobOptions,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    /// Every state the job has been in, oldest first: what `GET …/events` streams, numbered so
    /// that a client reconnecting with `Last-Event-ID` resumes where it was.
    #[serde(default)]
    pub history: Vec<JobChange>,
}

/// One state of a job, as its event stream shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobChange {
    /// 1 for the job's first state, then one more per change.
    pub seq: u32,
    pub status: JobStatus,
    pub current_stage: Stage,
    pub progress_percent: u8,
    pub error: Option<String>,
    pub at: i64,
}

/// Changes kept per job; a job retried many times forgets its oldest (the stream shows the
/// newest and the final state, whatever it missed).
const MAX_HISTORY: usize = 100;

impl Job {
    pub fn new(id: String, key_id: String, url: url::Url, now: i64) -> Job {
        Job {
            id,
            key_id,
            url,
            status: JobStatus::Queued,
            current_stage: Stage::Starting,
            progress_percent: 0,
            attempt: 0,
            error: None,
            webhook_url: None,
            options: JobOptions::default(),
            created_at: now,
            updated_at: now,
            started_at: None,
            completed_at: None,
            history: Vec::new(),
        }
        .recorded(now)
    }

    fn recorded(mut self, now: i64) -> Job {
        self.record(now);
        self
    }

    fn record(&mut self, now: i64) {
        let seq = self.history.last().map_or(1, |c| c.seq + 1);
        self.history.push(JobChange {
            seq,
            status: self.status,
            current_stage: self.current_stage,
            progress_percent: self.progress_percent,
            error: self.error.clone(),
            at: now,
        });
        if self.history.len() > MAX_HISTORY {
            self.history.remove(0);
        }
    }

    /// Applies `t` if the state machine allows it; returns whether it did.
    pub fn apply(&mut self, t: &Transition, now: i64) -> bool {
        let owner = |attempt: u32| self.status == JobStatus::Processing && self.attempt == attempt;
        let allowed = match t {
            Transition::Claim => !self.status.is_terminal(),
            Transition::Progress { attempt, .. }
            | Transition::Complete { attempt }
            | Transition::Retry { attempt, .. }
            | Transition::Release { attempt } => owner(*attempt),
            Transition::Fail { attempt, .. } | Transition::Touch { attempt } => match attempt {
                Some(a) => owner(*a),
                None => !self.status.is_terminal(),
            },
            Transition::Cancel => !self.status.is_terminal(),
        };
        if !allowed {
            return false;
        }
        match t {
            Transition::Claim => {
                self.attempt += 1;
                self.status = JobStatus::Processing;
                self.current_stage = Stage::Starting;
                self.progress_percent = Stage::Starting.progress_percent();
                self.started_at.get_or_insert(now);
            }
            Transition::Progress { stage, .. } => {
                self.current_stage = *stage;
                self.progress_percent = stage.progress_percent();
            }
            Transition::Complete { .. } => {
                self.status = JobStatus::Completed;
                self.current_stage = Stage::Completed;
                self.progress_percent = 100;
                self.error = None;
                self.completed_at = Some(now);
            }
            Transition::Retry { reason, .. } => {
                self.status = JobStatus::Retrying;
                self.error = Some(reason.clone());
            }
            Transition::Fail { reason, .. } => {
                self.status = JobStatus::Failed;
                self.error = Some(reason.clone());
                self.completed_at = Some(now);
            }
            Transition::Release { .. } => {
                self.status = JobStatus::Queued;
                self.current_stage = Stage::Starting;
                self.progress_percent = 0;
            }
            Transition::Cancel => {
                self.status = JobStatus::Cancelled;
                self.error = Some("cancelled by the client".into());
                self.completed_at = Some(now);
            }
            Transition::Touch { .. } => {}
        }
        self.updated_at = now;
        if !matches!(t, Transition::Touch { .. }) {
            self.record(now);
        }
        true
    }
}

/// A change of a job's state, named by what causes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// A worker takes the job: `attempt` goes up by one and fences off earlier claims.
    Claim,
    Progress {
        attempt: u32,
        stage: Stage,
    },
    /// The result is stored in the same write.
    Complete {
        attempt: u32,
    },
    /// A transient failure; the message goes back to the queue with backoff.
    Retry {
        attempt: u32,
        reason: String,
    },
    /// A permanent failure, or the last attempt. `attempt: None` is the dead-letter handler,
    /// which fails any job that is not already terminal.
    Fail {
        attempt: Option<u32>,
        reason: String,
    },
    /// Shutdown handed the message back before the job finished.
    Release {
        attempt: u32,
    },
    /// The client cancels: a queued job never runs, a running one stops at its next stage.
    Cancel,
    /// Only `updated_at` moves: the owner's heartbeat (`Some`), or the reconciler noting that it
    /// republished a job (`None`, any job not yet finished).
    Touch {
        attempt: Option<u32>,
    },
}

/// Body of a message on `scrape-jobs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRequested {
    pub schema_version: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub job_id: String,
    pub url: String,
    pub submitted_at: i64,
}

impl JobRequested {
    pub const TYPE: &'static str = "scrape.requested";

    pub fn for_job(job: &Job) -> Self {
        JobRequested {
            schema_version: MESSAGE_SCHEMA_VERSION,
            kind: Self::TYPE.to_string(),
            job_id: job.id.clone(),
            url: job.url.to_string(),
            submitted_at: job.created_at,
        }
    }
}

/// The kinds of job event, as messages and webhooks name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "scrape.completed")]
    Completed,
    #[serde(rename = "scrape.failed")]
    Failed,
    #[serde(rename = "scrape.cancelled")]
    Cancelled,
    #[serde(rename = "scrape.progress")]
    Progress,
}

impl EventKind {
    /// Every kind an endpoint may ask for.
    pub const ALL: [EventKind; 4] =
        [EventKind::Completed, EventKind::Failed, EventKind::Cancelled, EventKind::Progress];
    /// What an endpoint gets when it names no events: how each job ended.
    pub const DEFAULT: [EventKind; 3] = [EventKind::Completed, EventKind::Failed, EventKind::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Completed => "scrape.completed",
            EventKind::Failed => "scrape.failed",
            EventKind::Cancelled => "scrape.cancelled",
            EventKind::Progress => "scrape.progress",
        }
    }

    /// The kind a name stands for, if any.
    pub fn named(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The event a job's current state is: its final status, or progress.
    pub fn of(status: JobStatus) -> EventKind {
        match status {
            JobStatus::Completed => EventKind::Completed,
            JobStatus::Failed => EventKind::Failed,
            JobStatus::Cancelled => EventKind::Cancelled,
            JobStatus::Queued | JobStatus::Processing | JobStatus::Retrying => EventKind::Progress,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Body of a message on `scrape-progress` and `scrape-completed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEvent {
    pub schema_version: u32,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub job_id: String,
    pub url: String,
    pub status: JobStatus,
    pub current_stage: Stage,
    pub progress_percent: u8,
    pub error: Option<String>,
    pub timestamp: i64,
}

impl JobEvent {
    /// The event the job's current state is.
    pub fn of(job: &Job) -> Self {
        JobEvent {
            schema_version: MESSAGE_SCHEMA_VERSION,
            kind: EventKind::of(job.status),
            job_id: job.id.clone(),
            url: job.url.to_string(),
            status: job.status,
            current_stage: job.current_stage,
            progress_percent: job.progress_percent,
            error: job.error.clone(),
            timestamp: job.updated_at,
        }
    }
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// RFC 3339 form of a unix-milliseconds time, as the API shows it.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job::new("j".into(), "k".into(), url::Url::parse("https://example.com/").unwrap(), 0)
    }

    #[test]
    fn every_change_is_numbered_in_the_history() {
        let mut j = job();
        assert!(j.apply(&Transition::Claim, 1));
        assert!(j.apply(&Transition::Touch { attempt: Some(1) }, 2), "a heartbeat is no change");
        assert!(j.apply(&Transition::Progress { attempt: 1, stage: Stage::News }, 3));
        assert!(j.apply(&Transition::Cancel, 4));
        assert!(!j.apply(&Transition::Progress { attempt: 1, stage: Stage::Saving }, 5), "a cancelled job stops");
        assert!(!j.apply(&Transition::Claim, 6), "and never runs again");
        let seen: Vec<(u32, JobStatus, Stage)> = j.history.iter().map(|c| (c.seq, c.status, c.current_stage)).collect();
        assert_eq!(
            seen,
            [
                (1, JobStatus::Queued, Stage::Starting),
                (2, JobStatus::Processing, Stage::Starting),
                (3, JobStatus::Processing, Stage::News),
                (4, JobStatus::Cancelled, Stage::News),
            ]
        );
    }

    #[test]
    fn a_stale_claim_cannot_write_after_a_newer_one() {
        let mut j = job();
        assert!(j.apply(&Transition::Claim, 1));
        assert!(j.apply(&Transition::Claim, 2));
        assert_eq!(j.attempt, 2);
        let stale = Transition::Progress { attempt: 1, stage: Stage::News };
        assert!(!j.apply(&stale, 3));
        assert!(!j.apply(&Transition::Complete { attempt: 1 }, 3));
        assert!(!j.apply(&Transition::Touch { attempt: Some(1) }, 3), "a stale heartbeat is refused");
        assert!(j.apply(&Transition::Touch { attempt: Some(2) }, 3));
        assert!(j.apply(&Transition::Complete { attempt: 2 }, 3));
        assert_eq!(j.status, JobStatus::Completed);
    }

    #[test]
    fn terminal_jobs_never_change() {
        let mut j = job();
        j.apply(&Transition::Claim, 1);
        j.apply(&Transition::Fail { attempt: Some(1), reason: "x".into() }, 2);
        let before = j.clone();
        for t in [
            Transition::Claim,
            Transition::Fail { attempt: None, reason: "y".into() },
            Transition::Release { attempt: 1 },
        ] {
            assert!(!j.apply(&t, 9));
        }
        assert_eq!(j, before);
    }

    #[test]
    fn retrying_job_is_not_owned_until_claimed_again() {
        let mut j = job();
        j.apply(&Transition::Claim, 1);
        let retry = Transition::Retry { attempt: 1, reason: "503".into() };
        assert!(j.apply(&retry, 2));
        assert_eq!(j.status, JobStatus::Retrying);
        assert!(!j.apply(&Transition::Complete { attempt: 1 }, 3));
        assert!(j.apply(&Transition::Claim, 4));
        assert_eq!(j.attempt, 2);
        assert_eq!(j.error.as_deref(), Some("503"));
    }

    #[test]
    fn names_round_trip() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        assert_eq!(Stage::Financial.progress_percent(), 50);
    }
}
