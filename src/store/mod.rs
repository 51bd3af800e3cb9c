//! The `Store` seam: job documents, results, API keys, webhook endpoints and deliveries. Every state change goes through
//! [`Store::transition`], which applies [`Job::apply`](crate::job::Job::apply) atomically, so a
//! stale worker can never overwrite a newer state on any backend.

pub mod embedded;
pub mod firestore;
mod monitor;
mod webhook;

pub use monitor::{Changed, Diff, Entry, Monitor, MonitorChange, MonitorStatus};
pub use webhook::{Attempt, Delivery, DeliveryStatus, Endpoint, EndpointStatus, Trigger, delivery_id};

use crate::job::{Job, JobStatus, OutboxEntry, Transition};
use crate::queue::OutgoingMessage;
use async_trait::async_trait;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists: {0}")]
    Conflict(String),
    /// A submit over the key's limit of unfinished jobs, counted in the same write.
    #[error("the key has {0} unfinished jobs, its limit")]
    TooManyActive(u64),
    #[error("the store is unavailable for now")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("store backend error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// What the caller of [`Store::create_job`] still has to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Enqueue {
    /// The job's message was written to the queue in the same transaction as the job.
    Done,
    /// The store cannot write the broker's queue: the message was written to the outbox with
    /// the job, and the caller relays it (a relay sweep does, should the caller fail).
    Relay(Vec<OutboxEntry>),
}

/// What is left of a job that retention removed: enough to answer `410 Gone`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tombstone {
    pub job_id: String,
    pub key_id: String,
    pub status: JobStatus,
    pub removed_at: i64,
}

/// What one retention sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub jobs: usize,
    pub deliveries: usize,
    pub tombstones: usize,
}

/// Where a page of [`Store::list_jobs`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCursor {
    pub created_at: i64,
    pub id: String,
}

/// Result of an atomic change of one document ([`Store::transition`] and the `update_*` calls).
#[derive(Debug, Clone, PartialEq)]
pub enum Applied<T = Job> {
    /// The change happened; the document as it is now.
    Yes(T),
    /// The change was refused; the document as it is.
    No(T),
    NotFound,
}

/// A read-modify-write run atomically on one document; it answers whether it changed anything.
/// It may run more than once (an optimistic store retries on contention).
pub type Change<T> = Arc<dyn Fn(&mut T) -> bool + Send + Sync>;

/// Applies `change` to `doc`, the way every store's `update_*` answers: a refused change
/// leaves the document as it was, whatever the closure touched.
pub fn apply_change<T: Clone>(doc: T, change: &Change<T>) -> Applied<T> {
    let mut changed = doc.clone();
    if change(&mut changed) { Applied::Yes(changed) } else { Applied::No(doc) }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ApiKey {
    pub id: String,
    /// The key's first characters, to recognise it in a list.
    pub prefix: String,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Writes a new `queued` job and its `scrape-jobs` message ([`Job::request_entry`]) in one
    /// write: into the queue where the store holds it, else into the outbox. With `max_active`
    /// above 0, refuses (`TooManyActive`) when the key has that many unfinished jobs, counted in
    /// the same write, so concurrent submits cannot overshoot.
    async fn create_job(&self, job: &Job, max_active: u64) -> Result<Enqueue, StoreError>;
    async fn get_job(&self, id: &str) -> Result<Option<Job>, StoreError>;
    /// Applies `t` atomically, and writes what it sends ([`Job::outbox`]) to the outbox in the
    /// same write; `report` is stored with a `Complete` transition, in the same write too.
    async fn transition(
        &self,
        id: &str,
        t: &Transition,
        report: Option<&serde_json::Value>,
    ) -> Result<Applied, StoreError>;
    async fn get_result(&self, job_id: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// A key's jobs, newest first (by `created_at`, then id), optionally of one status, starting
    /// after `after` (the last job of the previous page).
    async fn list_jobs(
        &self,
        key_id: &str,
        status: Option<JobStatus>,
        after: Option<&JobCursor>,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError>;
    /// How many jobs there are in each status (all keys), for metrics.
    async fn count_jobs_by_status(&self) -> Result<Vec<(JobStatus, u64)>, StoreError>;
    /// Jobs in one of `statuses` not updated since `before` (unix ms), oldest first: unfinished
    /// ones are the reconciler's candidates for a lost message, queued ones a purge's.
    async fn jobs_updated_before(
        &self,
        statuses: &[JobStatus],
        before: i64,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError>;

    /// Up to `limit` outbox entries due by `now`, each claimed until `until` (another relay
    /// takes it up then, should this one die before [`Store::outbox_sent`]).
    async fn claim_outbox(&self, now: i64, until: i64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    /// Removes published entries.
    async fn outbox_sent(&self, ids: &[String]) -> Result<(), StoreError>;
    /// A store that holds the broker's queue (the embedded one) publishes outbox entries into
    /// it and removes them in one write: each `(entry id, topic, message)`. `false` when this
    /// store cannot; the caller then publishes and calls [`Store::outbox_sent`].
    async fn publish_outbox(&self, _entries: &[(String, String, OutgoingMessage)]) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Retention: removes up to `limit` finished jobs that ended before `before` with their
    /// results (leaving a [`Tombstone`] each), finished deliveries made before `before`, and
    /// tombstones older than `tombstones_before`.
    async fn sweep(&self, before: i64, tombstones_before: i64, limit: usize) -> Result<Swept, StoreError>;
    async fn get_tombstone(&self, job_id: &str) -> Result<Option<Tombstone>, StoreError>;

    /// Stores a key by its SHA-256 hash; the key itself is never stored.
    async fn create_api_key(&self, key: &ApiKey, hash: &str) -> Result<(), StoreError>;
    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKey>, StoreError>;
    async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError>;
    /// `false` when no such key exists or it was revoked already.
    async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError>;

    /// Takes one of `limit` slots of `host` for `holder` until `until` (unix ms), or renews the
    /// one it holds; `false` when every slot is held. Expired slots are free.
    async fn acquire_host_slot(&self, host: &str, holder: &str, limit: u32, until: i64) -> Result<bool, StoreError>;
    async fn release_host_slot(&self, host: &str, holder: &str) -> Result<(), StoreError>;

    /// `Conflict` when the id exists.
    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError>;
    async fn get_endpoint(&self, id: &str) -> Result<Option<Endpoint>, StoreError>;
    /// A key's endpoints, its default signer included, oldest first.
    async fn list_endpoints(&self, key_id: &str) -> Result<Vec<Endpoint>, StoreError>;
    async fn update_endpoint(&self, id: &str, change: Change<Endpoint>) -> Result<Applied<Endpoint>, StoreError>;
    /// `false` when it did not exist. Its deliveries stay, for the log.
    async fn delete_endpoint(&self, id: &str) -> Result<bool, StoreError>;

    /// Writes the deliveries whose ids are new; an existing delivery is left as it is.
    async fn insert_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError>;
    async fn get_delivery(&self, id: &str) -> Result<Option<Delivery>, StoreError>;
    async fn update_delivery(&self, id: &str, change: Change<Delivery>) -> Result<Applied<Delivery>, StoreError>;
    /// `pending` deliveries due by `now` (unix ms), soonest first.
    async fn due_deliveries(&self, now: i64, limit: usize) -> Result<Vec<Delivery>, StoreError>;
    /// An endpoint's deliveries, newest first.
    async fn list_deliveries(&self, endpoint_id: &str, limit: usize) -> Result<Vec<Delivery>, StoreError>;

    /// `Conflict` when the id exists.
    async fn create_monitor(&self, monitor: &Monitor) -> Result<(), StoreError>;
    async fn get_monitor(&self, id: &str) -> Result<Option<Monitor>, StoreError>;
    /// A key's monitors, oldest first.
    async fn list_monitors(&self, key_id: &str) -> Result<Vec<Monitor>, StoreError>;
    async fn update_monitor(&self, id: &str, change: Change<Monitor>) -> Result<Applied<Monitor>, StoreError>;
    /// `false` when it did not exist. Its changes go with it.
    async fn delete_monitor(&self, id: &str) -> Result<bool, StoreError>;
    async fn count_monitors_by_status(&self) -> Result<Vec<(MonitorStatus, u64)>, StoreError>;
    /// Monitors due by `now` (unix ms), or with a run to look at, soonest first; paused ones
    /// never.
    async fn due_monitors(&self, now: i64, limit: usize) -> Result<Vec<Monitor>, StoreError>;
    /// Writes the change unless its id exists (a run's change is recorded once).
    async fn insert_change(&self, change: &MonitorChange) -> Result<(), StoreError>;
    /// A monitor's changes, newest first.
    async fn list_changes(&self, monitor_id: &str, limit: usize) -> Result<Vec<MonitorChange>, StoreError>;
}
