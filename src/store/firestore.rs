//! The Firestore store: collections `jobs` (by job id), `results` (by job id; the report kept
//! as a JSON string, since reports can nest deeper than Firestore maps may), and `api_keys`
//! (by the key's SHA-256 hash). Transitions run in Firestore transactions, so the guarded
//! state machine holds across any number of workers. With `FIRESTORE_EMULATOR_HOST` set the
//! client talks to the emulator; otherwise to Google Cloud with the Application Default
//! Credentials.
//!
//! Firestore cannot commit together with Pub/Sub: `create_job` answers
//! [`Enqueue::PublishRequired`] and the caller publishes.

use super::{ApiKey, Applied, Enqueue, Store, StoreError};
use crate::job::{Job, Transition, now_ms};
use crate::queue::OutgoingMessage;
use async_trait::async_trait;
use firestore::errors::FirestoreError;
use firestore::{FirestoreDb, FirestoreDbOptions};
use serde::{Deserialize, Serialize};

const JOBS: &str = "jobs";
const RESULTS: &str = "results";
const API_KEYS: &str = "api_keys";

pub struct FirestoreStore {
    db: FirestoreDb,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ResultDoc {
    report: String,
    created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyDoc {
    id: String,
    /// Also the document's id.
    hash: String,
    prefix: String,
    name: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<KeyDoc> for ApiKey {
    fn from(k: KeyDoc) -> ApiKey {
        ApiKey { id: k.id, prefix: k.prefix, name: k.name, created_at: k.created_at, revoked_at: k.revoked_at }
    }
}

impl From<FirestoreError> for StoreError {
    fn from(err: FirestoreError) -> Self {
        match &err {
            FirestoreError::DataConflictError(_) => StoreError::Conflict(err.to_string()),
            FirestoreError::NetworkError(_) => StoreError::Unavailable(Box::new(err)),
            FirestoreError::DatabaseError(e) if e.retry_possible => StoreError::Unavailable(Box::new(err)),
            _ => StoreError::Backend(Box::new(err)),
        }
    }
}

impl FirestoreStore {
    /// Connects to the project's default database (to the emulator when
    /// `FIRESTORE_EMULATOR_HOST` is set).
    pub async fn connect(project: &str) -> Result<FirestoreStore, StoreError> {
        let db = FirestoreDb::with_options(FirestoreDbOptions::new(project.to_string())).await?;
        Ok(FirestoreStore { db })
    }
}

#[async_trait]
impl Store for FirestoreStore {
    async fn create_job(&self, job: &Job, _message: &OutgoingMessage) -> Result<Enqueue, StoreError> {
        let _: Job = self.db.fluent().insert().into(JOBS).document_id(&job.id).object(job).execute().await?;
        Ok(Enqueue::PublishRequired)
    }

    async fn get_job(&self, id: &str) -> Result<Option<Job>, StoreError> {
        Ok(self.db.fluent().select().by_id_in(JOBS).obj().one(id).await?)
    }

    async fn transition(
        &self,
        id: &str,
        t: &Transition,
        report: Option<&serde_json::Value>,
    ) -> Result<Applied, StoreError> {
        let report = report.map(|r| r.to_string());
        // Concurrent claims of one job contend for its document: retry more than the default.
        let options = firestore::FirestoreTransactionOptions::new().with_max_retries(10);
        let applied = self
            .db
            .run_transaction_with_options(
                |db, tx| {
                    let (id, t, report) = (id.to_string(), t.clone(), report.clone());
                    Box::pin(async move {
                        let found: Option<Job> = db.fluent().select().by_id_in(JOBS).obj().one(&id).await?;
                        let Some(mut job) = found else {
                            return Ok(Applied::NotFound);
                        };
                        let now = now_ms();
                        if !job.apply(&t, now) {
                            return Ok(Applied::No(job));
                        }
                        db.fluent().update().in_col(JOBS).document_id(&id).object(&job).add_to_transaction(tx)?;
                        if let (Transition::Complete { .. }, Some(report)) = (&t, report) {
                            let doc = ResultDoc { report, created_at: now };
                            db.fluent()
                                .update()
                                .in_col(RESULTS)
                                .document_id(&id)
                                .object(&doc)
                                .add_to_transaction(tx)?;
                        }
                        Ok::<_, backoff_error::Error>(Applied::Yes(job))
                    })
                },
                options,
            )
            .await?;
        Ok(applied)
    }

    async fn get_result(&self, job_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let doc: Option<ResultDoc> = self.db.fluent().select().by_id_in(RESULTS).obj().one(job_id).await?;
        doc.map(|d| serde_json::from_str(&d.report).map_err(|e| StoreError::Backend(Box::new(e)))).transpose()
    }

    /// Needs the composite index (status, updated_at) of `deploy/firestore.indexes.json`.
    async fn stale_jobs(&self, before: i64, limit: usize) -> Result<Vec<Job>, StoreError> {
        let unfinished = vec!["queued", "processing", "retrying"];
        Ok(self
            .db
            .fluent()
            .select()
            .from(JOBS)
            .filter(|q| {
                q.for_all([q.field("status").is_in(unfinished.clone()), q.field("updated_at").less_than(before)])
            })
            .order(|o| o.fields([o.field("updated_at").asc()]))
            .limit(limit.min(u32::MAX as usize) as u32)
            .obj()
            .query()
            .await?)
    }

    async fn create_api_key(&self, key: &ApiKey, hash: &str) -> Result<(), StoreError> {
        let doc = KeyDoc {
            id: key.id.clone(),
            hash: hash.to_string(),
            prefix: key.prefix.clone(),
            name: key.name.clone(),
            created_at: key.created_at,
            revoked_at: key.revoked_at,
        };
        let _: KeyDoc = self.db.fluent().insert().into(API_KEYS).document_id(hash).object(&doc).execute().await?;
        Ok(())
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let doc: Option<KeyDoc> = self.db.fluent().select().by_id_in(API_KEYS).obj().one(hash).await?;
        Ok(doc.map(ApiKey::from))
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let docs: Vec<KeyDoc> = self.db.fluent().select().from(API_KEYS).obj().query().await?;
        let mut keys: Vec<ApiKey> = docs.into_iter().map(ApiKey::from).collect();
        keys.sort_by_key(|k| k.created_at);
        Ok(keys)
    }

    async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        let revoked = self
            .db
            .run_transaction(|db, tx| {
                let id = id.clone();
                Box::pin(async move {
                    let keys: Vec<KeyDoc> = db
                        .fluent()
                        .select()
                        .from(API_KEYS)
                        .filter(|q| q.for_all([q.field("id").eq(id.clone())]))
                        .obj()
                        .query()
                        .await?;
                    let Some(mut key) = keys.into_iter().find(|k| k.revoked_at.is_none()) else {
                        return Ok(false);
                    };
                    key.revoked_at = Some(now_ms());
                    db.fluent().update().in_col(API_KEYS).document_id(&key.hash).object(&key).add_to_transaction(tx)?;
                    Ok::<_, backoff_error::Error>(true)
                })
            })
            .await?;
        Ok(revoked)
    }
}

/// The error type of the transaction callbacks: Firestore's own, retried when transient.
mod backoff_error {
    pub type Error = firestore::errors::BackoffError<firestore::errors::FirestoreError>;
}
