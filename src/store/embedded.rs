//! The embedded store: job documents as JSON in the data dir's SQLite file, next to the queue.
//! A submit inserts the job and its `scrape-jobs` message in one transaction.

use super::{ApiKey, Applied, Enqueue, Store, StoreError};
use crate::job::{Job, Transition, now_ms};
use crate::queue::{OutgoingMessage, QueueError, embedded::publish_in};
use crate::sqlite::{self, Db};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

#[derive(Clone)]
pub struct EmbeddedStore {
    db: Db,
    jobs_topic: String,
}

impl EmbeddedStore {
    pub fn new(db: Db, jobs_topic: impl Into<String>) -> Self {
        EmbeddedStore { db, jobs_topic: jobs_topic.into() }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        if sqlite::is_unavailable(&err) {
            StoreError::Unavailable(Box::new(err))
        } else {
            StoreError::Backend(Box::new(err))
        }
    }
}

impl From<QueueError> for StoreError {
    fn from(err: QueueError) -> Self {
        match err {
            QueueError::Unavailable(e) => StoreError::Unavailable(e),
            other => StoreError::Backend(Box::new(other)),
        }
    }
}

fn encode(job: &Job) -> String {
    serde_json::to_string(job).expect("jobs serialize")
}

fn decode(doc: &str) -> Result<Job, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Backend(Box::new(e)))
}

fn api_key(r: &rusqlite::Row) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey { id: r.get(0)?, prefix: r.get(1)?, name: r.get(2)?, created_at: r.get(3)?, revoked_at: r.get(4)? })
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn create_job(&self, job: &Job, message: &OutgoingMessage) -> Result<Enqueue, StoreError> {
        let (job, message, topic) = (job.clone(), message.clone(), self.jobs_topic.clone());
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let inserted = tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO jobs (id, key_id, created_at, updated_at, status, doc)
                         VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
                    )?
                    .execute(params![job.id, job.key_id, job.created_at, job.status.as_str(), encode(&job)])?;
                if inserted == 0 {
                    return Err(StoreError::Conflict(format!("job {}", job.id)));
                }
                publish_in(&tx, &topic, &[message])?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        self.db.notify_published();
        Ok(Enqueue::Done)
    }

    async fn get_job(&self, id: &str) -> Result<Option<Job>, StoreError> {
        let id = id.to_string();
        let doc: Option<String> = self
            .db
            .read(move |c| {
                c.prepare_cached("SELECT doc FROM jobs WHERE id = ?1")?.query_row([id], |r| r.get(0)).optional()
            })
            .await?;
        doc.as_deref().map(decode).transpose()
    }

    async fn transition(
        &self,
        id: &str,
        t: &Transition,
        report: Option<&serde_json::Value>,
    ) -> Result<Applied, StoreError> {
        let (id, t) = (id.to_string(), t.clone());
        let report = report.map(|r| r.to_string());
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let doc: Option<String> = tx
                    .prepare_cached("SELECT doc FROM jobs WHERE id = ?1")?
                    .query_row([&id], |r| r.get(0))
                    .optional()?;
                let Some(doc) = doc else {
                    return Ok(Applied::NotFound);
                };
                let mut job = decode(&doc)?;
                let now = now_ms();
                if !job.apply(&t, now) {
                    return Ok(Applied::No(job));
                }
                tx.prepare_cached("UPDATE jobs SET status = ?2, doc = ?3, updated_at = ?4 WHERE id = ?1")?
                    .execute(params![id, job.status.as_str(), encode(&job), job.updated_at])?;
                if let (Transition::Complete { .. }, Some(report)) = (&t, report) {
                    tx.prepare_cached(
                        "INSERT INTO results (job_id, report, created_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (job_id) DO UPDATE SET report = ?2, created_at = ?3",
                    )?
                    .execute(params![id, report, now])?;
                }
                tx.commit()?;
                Ok(Applied::Yes(job))
            })
            .await
    }

    async fn get_result(&self, job_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let id = job_id.to_string();
        let report: Option<String> = self
            .db
            .read(move |c| {
                c.prepare_cached("SELECT report FROM results WHERE job_id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()
            })
            .await?;
        report.map(|r| serde_json::from_str(&r).map_err(|e| StoreError::Backend(Box::new(e)))).transpose()
    }

    async fn stale_jobs(&self, before: i64, limit: usize) -> Result<Vec<Job>, StoreError> {
        let docs: Vec<String> = self
            .db
            .read(move |c| {
                c.prepare_cached(
                    "SELECT doc FROM jobs WHERE status IN ('queued', 'processing', 'retrying') AND updated_at < ?1
                     ORDER BY updated_at LIMIT ?2",
                )?
                .query_map(params![before, limit as i64], |r| r.get(0))?
                .collect()
            })
            .await?;
        docs.iter().map(|d| decode(d)).collect()
    }

    async fn create_api_key(&self, key: &ApiKey, hash: &str) -> Result<(), StoreError> {
        let (key, hash) = (key.clone(), hash.to_string());
        self.db
            .call(move |c| {
                let inserted = c.execute(
                    "INSERT OR IGNORE INTO api_keys (id, hash, prefix, name, created_at, revoked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![key.id, hash, key.prefix, key.name, key.created_at, key.revoked_at],
                )?;
                if inserted == 0 {
                    return Err(StoreError::Conflict("api key".into()));
                }
                Ok(())
            })
            .await
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let hash = hash.to_string();
        Ok(self
            .db
            .read(move |c| {
                c.prepare_cached("SELECT id, prefix, name, created_at, revoked_at FROM api_keys WHERE hash = ?1")?
                    .query_row([hash], api_key)
                    .optional()
            })
            .await?)
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        Ok(self
            .db
            .read(|c| {
                c.prepare_cached("SELECT id, prefix, name, created_at, revoked_at FROM api_keys ORDER BY created_at")?
                    .query_map([], api_key)?
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?)
    }

    async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        let changed = self
            .db
            .call(move |c| {
                c.execute(
                    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                    params![id, now_ms()],
                )
            })
            .await?;
        Ok(changed == 1)
    }
}
