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

    /// The statuses of a job that has not ended.
    pub const UNFINISHED: [JobStatus; 3] = [JobStatus::Queued, JobStatus::Processing, JobStatus::Retrying];
    /// The statuses of a job that ended.
    pub const FINISHED: [JobStatus; 3] = [JobStatus::Completed, JobStatus::Failed, JobStatus::Cancelled];

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
        JobStatus::UNFINISHED.iter().map(|s| s.as_str()).collect()
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
    /// The delivery running the job and until when it holds it (renewed by its heartbeat). While
    /// it lasts, no other delivery may claim the job.
    #[serde(default)]
    pub lease: Option<Lease>,
    /// How many times the job was rerun after it failed or was cancelled: its messages carry
    /// it, so that a dead letter of an earlier round cannot fail a later one.
    #[serde(default)]
    pub round: u32,
    /// The monitor whose run this job is, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_id: Option<String>,
    /// The company's name, once the `profile` stage has read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
}

/// A running delivery's hold on its job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// Names the delivery: its message id and delivery attempt.
    pub holder: String,
    /// Unix milliseconds.
    pub until: i64,
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
            lease: None,
            round: 0,
            monitor_id: None,
            company_name: None,
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

    /// Whether a delivery other than `holder` holds the job at `now`.
    fn held_by_another(&self, holder: Option<&str>, now: i64) -> bool {
        self.lease.as_ref().is_some_and(|l| l.until > now && Some(l.holder.as_str()) != holder)
    }

    /// Applies `t` if the state machine allows it; returns whether it did.
    pub fn apply(&mut self, t: &Transition, now: i64) -> bool {
        let owner = |attempt: u32| self.status == JobStatus::Processing && self.attempt == attempt;
        let allowed = match t {
            Transition::Claim { holder, .. } => !self.status.is_terminal() && !self.held_by_another(Some(holder), now),
            Transition::Progress { attempt, .. }
            | Transition::Complete { attempt }
            | Transition::Retry { attempt, .. }
            | Transition::Release { attempt }
            | Transition::Heartbeat { attempt, .. }
            | Transition::Fail { attempt, .. } => owner(*attempt),
            // A dead letter of this round, unless a live delivery runs the job (the dead letter
            // was a duplicate of its message).
            Transition::DeadLettered { round, .. } => {
                !self.status.is_terminal() && *round == self.round && !self.held_by_another(None, now)
            }
            Transition::Cancel { .. } | Transition::Touch => !self.status.is_terminal(),
            Transition::Rerun => matches!(self.status, JobStatus::Failed | JobStatus::Cancelled),
        };
        if !allowed {
            return false;
        }
        match t {
            Transition::Claim { holder, lease_ms } => {
                self.attempt += 1;
                self.status = JobStatus::Processing;
                self.current_stage = Stage::Starting;
                self.progress_percent = Stage::Starting.progress_percent();
                self.started_at.get_or_insert(now);
                self.lease = Some(Lease { holder: holder.clone(), until: now.saturating_add(*lease_ms) });
            }
            Transition::Progress { stage, company_name, .. } => {
                self.current_stage = *stage;
                self.progress_percent = stage.progress_percent();
                if company_name.is_some() {
                    self.company_name.clone_from(company_name);
                }
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
            Transition::Fail { reason, .. } | Transition::DeadLettered { reason, .. } => {
                self.status = JobStatus::Failed;
                self.error = Some(reason.clone());
                self.completed_at = Some(now);
            }
            Transition::Release { .. } => {
                self.status = JobStatus::Queued;
                self.current_stage = Stage::Starting;
                self.progress_percent = 0;
            }
            Transition::Cancel { reason } => {
                self.status = JobStatus::Cancelled;
                self.error = Some(reason.clone());
                self.completed_at = Some(now);
            }
            Transition::Rerun => {
                self.round += 1;
                self.status = JobStatus::Queued;
                self.current_stage = Stage::Starting;
                self.progress_percent = 0;
                self.error = None;
                self.completed_at = None;
            }
            Transition::Heartbeat { lease_ms, .. } => {
                if let Some(lease) = &mut self.lease {
                    lease.until = now.saturating_add(*lease_ms);
                }
            }
            Transition::Touch => {}
        }
        // Only a running job is held.
        if self.status != JobStatus::Processing {
            self.lease = None;
        }
        self.updated_at = now;
        if t.is_change() {
            self.record(now);
        }
        true
    }

    /// What a change just applied by `t` sends, written in the same store write as the change
    /// and relayed after it: the event the job's new state is (on `scrape-completed` when
    /// final, else `scrape-progress`), and for a rerun the job's message anew.
    pub fn outbox(&self, t: &Transition) -> Vec<OutboxEntry> {
        if !t.is_change() {
            return Vec::new();
        }
        let seq = self.history.last().map_or(0, |c| c.seq);
        let event = JobEvent::of(self, seq);
        let channel = if self.status.is_terminal() { Channel::Completed } else { Channel::Progress };
        let mut entries = vec![OutboxEntry::new(event.event_id.clone(), channel, &self.id, &event)];
        if matches!(t, Transition::Rerun) {
            entries.push(self.request_entry());
        }
        entries
    }

    /// The job's message on `scrape-jobs`, as an outbox entry named by the job's latest change
    /// (a submit, a rerun).
    pub fn request_entry(&self) -> OutboxEntry {
        let seq = self.history.last().map_or(0, |c| c.seq);
        OutboxEntry::new(format!("{}.{seq}.request", self.id), Channel::Jobs, &self.id, &JobRequested::for_job(self))
    }
}

/// A change of a job's state, named by what causes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// A delivery takes the job: `attempt` goes up by one and fences off earlier claims. Refused
    /// while another delivery's lease lasts, so a duplicate never restarts a running job.
    Claim {
        /// Names the delivery (message id and delivery attempt).
        holder: String,
        /// How long the lease lasts without a heartbeat.
        lease_ms: i64,
    },
    Progress {
        attempt: u32,
        stage: Stage,
        /// The company's name, once known.
        company_name: Option<String>,
    },
    /// The result is stored in the same write.
    Complete { attempt: u32 },
    /// A transient failure; the message goes back to the queue with backoff.
    Retry { attempt: u32, reason: String },
    /// A permanent failure, or the last attempt.
    Fail { attempt: u32, reason: String },
    /// The dead-letter handler: a message of `round` used up its delivery attempts. Fails the
    /// job if it is still in that round, unfinished, and held by no live delivery.
    DeadLettered { round: u32, reason: String },
    /// Shutdown handed the message back before the job finished.
    Release { attempt: u32 },
    /// The client (or an operator's purge) cancels: a queued job never runs, a running one
    /// stops at its next stage or heartbeat.
    Cancel { reason: String },
    /// A failed or cancelled job gets a fresh round of attempts (same id, history kept).
    Rerun,
    /// The owner's heartbeat: its lease lasts `lease_ms` more; only `updated_at` moves besides.
    Heartbeat { attempt: u32, lease_ms: i64 },
    /// Only `updated_at` moves: the reconciler noting that it republished a job.
    Touch,
}

impl Transition {
    /// The cancellation a client asks for.
    pub fn cancel_by_client() -> Transition {
        Transition::Cancel { reason: "cancelled by the client".into() }
    }

    /// Whether the job's state changes (a new entry of its history, and an event), as opposed
    /// to a heartbeat.
    pub fn is_change(&self) -> bool {
        !matches!(self, Transition::Heartbeat { .. } | Transition::Touch)
    }
}

/// Where an outbox entry is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// `scrape-jobs`
    Jobs,
    /// `scrape-progress`
    Progress,
    /// `scrape-completed`
    Completed,
}

/// A message committed with the change that causes it, waiting to be published. Its id is
/// stable (the job's id and change number), so every publish of it, however many, carries the
/// same `event_id` and reaches each webhook receiver under one `webhook-id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: String,
    pub channel: Channel,
    pub job_id: String,
    /// The message's JSON body.
    pub data: String,
    pub created_at: i64,
    /// When a relay may take it up (unix ms): a while after it was written, so that the writer
    /// publishes it first; while a relay sends it, the end of that relay's claim.
    pub due_at: i64,
}

/// How long the writer of an outbox entry has to publish it before any relay may.
pub const OUTBOX_GRACE_MS: i64 = 5_000;

impl OutboxEntry {
    fn new<T: Serialize>(id: String, channel: Channel, job_id: &str, body: &T) -> OutboxEntry {
        let now = now_ms();
        OutboxEntry {
            id,
            channel,
            job_id: job_id.to_string(),
            data: serde_json::to_string(body).expect("message bodies serialize"),
            created_at: now,
            due_at: now + OUTBOX_GRACE_MS,
        }
    }
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
    /// The job's round: 0, then one more per retry (absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub round: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
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
            round: job.round,
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
    /// A monitor's re-scrape found the report changed.
    #[serde(rename = "report.changed")]
    ReportChanged,
}

impl EventKind {
    /// Every kind an endpoint may ask for.
    pub const ALL: [EventKind; 5] =
        [EventKind::Completed, EventKind::Failed, EventKind::Cancelled, EventKind::Progress, EventKind::ReportChanged];
    /// What an endpoint gets when it names no events: how each job ended.
    pub const DEFAULT: [EventKind; 3] = [EventKind::Completed, EventKind::Failed, EventKind::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Completed => "scrape.completed",
            EventKind::Failed => "scrape.failed",
            EventKind::Cancelled => "scrape.cancelled",
            EventKind::Progress => "scrape.progress",
            EventKind::ReportChanged => "report.changed",
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
    /// Stable across redeliveries: the job's id and the number of the change (`{job_id}.{seq}`).
    /// Absent from messages of older versions.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub job_id: String,
    pub url: String,
    pub status: JobStatus,
    pub current_stage: Stage,
    pub progress_percent: u8,
    pub error: Option<String>,
    pub timestamp: i64,
    /// A `report.changed` event's monitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_id: Option<String>,
    /// A `report.changed` event's change: its id, the jobs compared, and what was added,
    /// removed and changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<serde_json::Value>,
}

impl JobEvent {
    /// The event the job's current state is, as its change number `seq`.
    pub fn of(job: &Job, seq: u32) -> Self {
        JobEvent {
            schema_version: MESSAGE_SCHEMA_VERSION,
            event_id: format!("{}.{seq}", job.id),
            kind: EventKind::of(job.status),
            job_id: job.id.clone(),
            url: job.url.to_string(),
            status: job.status,
            current_stage: job.current_stage,
            progress_percent: job.progress_percent,
            error: job.error.clone(),
            timestamp: job.updated_at,
            monitor_id: None,
            change: None,
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

    /// A claim by delivery `holder` with a lease of 100 ms.
    fn claim(holder: &str) -> Transition {
        Transition::Claim { holder: holder.into(), lease_ms: 100 }
    }

    #[test]
    fn every_change_is_numbered_in_the_history() {
        let mut j = job();
        assert!(j.apply(&claim("a"), 1));
        assert!(j.apply(&Transition::Heartbeat { attempt: 1, lease_ms: 100 }, 2), "a heartbeat is no change");
        assert!(j.apply(&Transition::Progress { attempt: 1, stage: Stage::News, company_name: None }, 3));
        assert!(j.apply(&Transition::cancel_by_client(), 4));
        assert!(
            !j.apply(&Transition::Progress { attempt: 1, stage: Stage::Saving, company_name: None }, 5),
            "a cancelled job stops"
        );
        assert!(!j.apply(&claim("b"), 6), "and never runs again");
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
    fn a_live_lease_fences_off_other_deliveries() {
        let mut j = job();
        assert!(j.apply(&claim("a"), 1000));
        assert!(!j.apply(&claim("b"), 1050), "a duplicate delivery does not restart a running job");
        assert!(j.apply(&claim("a"), 1060), "the holder's own delivery may claim again");
        assert_eq!(j.attempt, 2);
        assert!(j.apply(&Transition::Heartbeat { attempt: 2, lease_ms: 100 }, 1150));
        assert!(!j.apply(&claim("b"), 1200), "the heartbeat renewed the lease");
        assert!(
            !j.apply(&Transition::DeadLettered { round: 0, reason: "dead-lettered".into() }, 1200),
            "nor may a dead letter fail it"
        );
        assert!(j.apply(&claim("b"), 1251), "an expired lease is free");
        assert_eq!((j.attempt, j.lease.as_ref().map(|l| l.holder.as_str())), (3, Some("b")));
    }

    #[test]
    fn a_stale_claim_cannot_write_after_a_newer_one() {
        let mut j = job();
        assert!(j.apply(&claim("a"), 1));
        assert!(j.apply(&claim("b"), 200));
        assert_eq!(j.attempt, 2);
        let stale = Transition::Progress { attempt: 1, stage: Stage::News, company_name: None };
        assert!(!j.apply(&stale, 201));
        assert!(!j.apply(&Transition::Complete { attempt: 1 }, 201));
        let beat = |attempt| Transition::Heartbeat { attempt, lease_ms: 100 };
        assert!(!j.apply(&beat(1), 201), "a stale heartbeat is refused");
        assert!(j.apply(&beat(2), 201));
        assert!(j.apply(&Transition::Complete { attempt: 2 }, 202));
        assert_eq!(j.status, JobStatus::Completed);
        assert_eq!(j.lease, None, "a finished job is held by nobody");
    }

    #[test]
    fn terminal_jobs_never_change_but_a_rerun_starts_a_fresh_round() {
        let mut j = job();
        j.apply(&claim("a"), 1);
        j.apply(&Transition::Fail { attempt: 1, reason: "x".into() }, 2);
        let before = j.clone();
        for t in
            [claim("b"), Transition::DeadLettered { round: 0, reason: "y".into() }, Transition::Release { attempt: 1 }]
        {
            assert!(!j.apply(&t, 9));
        }
        assert_eq!(j, before);
        assert!(j.apply(&Transition::Rerun, 10));
        assert_eq!((j.status, j.error.as_deref(), j.completed_at), (JobStatus::Queued, None, None));
        assert_eq!(j.history.len(), before.history.len() + 1, "the history is kept");
        assert!(!j.apply(&Transition::Rerun, 11), "only a failed or cancelled job reruns");
        let late = Transition::DeadLettered { round: 0, reason: "a dead letter of the first round".into() };
        assert!(!j.apply(&late, 12), "cannot fail the second round");
        assert!(j.apply(&claim("c"), 12));
        assert_eq!((j.attempt, j.round), (2, 1), "the fencing token goes on rising");
    }

    #[test]
    fn a_change_sends_its_event_and_a_rerun_its_message_under_stable_ids() {
        let mut j = job();
        j.apply(&claim("a"), 1);
        let progress = j.outbox(&claim("a"));
        assert_eq!(progress.len(), 1);
        assert_eq!((progress[0].id.as_str(), progress[0].channel), ("j.2", Channel::Progress));
        assert!(j.apply(&Transition::Heartbeat { attempt: 1, lease_ms: 100 }, 2));
        assert!(j.outbox(&Transition::Heartbeat { attempt: 1, lease_ms: 100 }).is_empty());
        j.apply(&Transition::Fail { attempt: 1, reason: "x".into() }, 3);
        let failed = j.outbox(&Transition::Fail { attempt: 1, reason: "x".into() });
        assert_eq!((failed[0].id.as_str(), failed[0].channel), ("j.3", Channel::Completed));
        let event: JobEvent = serde_json::from_str(&failed[0].data).unwrap();
        assert_eq!((event.event_id.as_str(), event.kind), ("j.3", EventKind::Failed));
        j.apply(&Transition::Rerun, 4);
        let rerun: Vec<(String, Channel)> =
            j.outbox(&Transition::Rerun).into_iter().map(|e| (e.id, e.channel)).collect();
        assert_eq!(rerun, [("j.4".to_string(), Channel::Progress), ("j.4.request".to_string(), Channel::Jobs)]);
    }

    #[test]
    fn retrying_job_is_not_owned_until_claimed_again() {
        let mut j = job();
        j.apply(&claim("a"), 1);
        let retry = Transition::Retry { attempt: 1, reason: "503".into() };
        assert!(j.apply(&retry, 2));
        assert_eq!(j.status, JobStatus::Retrying);
        assert!(!j.apply(&Transition::Complete { attempt: 1 }, 3));
        assert!(j.apply(&claim("b"), 4), "a retrying job is held by nobody");
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
