//! The `Store` seam: job documents, results and API keys. Every state change goes through
//! [`Store::transition`], which applies [`Job::apply`](crate::job::Job::apply) atomically, so a
//! stale worker can never overwrite a newer state on any backend.

pub mod embedded;
pub mod firestore;

use crate::job::{Job, Transition};
use crate::queue::OutgoingMessage;
use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists: {0}")]
    Conflict(String),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueue {
    /// The job's message was written in the same transaction as the job.
    Done,
    /// The store cannot write the broker's queue: the caller publishes the message, and the
    /// reconciler republishes it should the publish be lost.
    PublishRequired,
}

/// Result of [`Store::transition`].
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The transition happened; the job as it is now.
    Yes(Job),
    /// The state machine refused it; the job as it is.
    No(Job),
    NotFound,
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
    /// Writes a new `queued` job; `message` is its `scrape-jobs` message, for stores that can
    /// enqueue it in the same transaction.
    async fn create_job(&self, job: &Job, message: &OutgoingMessage) -> Result<Enqueue, StoreError>;
    async fn get_job(&self, id: &str) -> Result<Option<Job>, StoreError>;
    /// Applies `t` atomically; `report` is stored with a `Complete` transition, in the same write.
    async fn transition(
        &self,
        id: &str,
        t: &Transition,
        report: Option<&serde_json::Value>,
    ) -> Result<Applied, StoreError>;
    async fn get_result(&self, job_id: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// Unfinished jobs (`queued`, `processing`, `retrying`) not updated since `before` (unix ms),
    /// oldest first: the reconciler's candidates for a lost message.
    async fn stale_jobs(&self, before: i64, limit: usize) -> Result<Vec<Job>, StoreError>;

    /// Stores a key by its SHA-256 hash; the key itself is never stored.
    async fn create_api_key(&self, key: &ApiKey, hash: &str) -> Result<(), StoreError>;
    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKey>, StoreError>;
    async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError>;
    /// `false` when no such key exists or it was revoked already.
    async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError>;
}
