//! The embedded store: job documents as JSON in the data dir's SQLite file, next to the queue.
//! A submit inserts the job and its `scrape-jobs` message in one transaction.

use super::{ApiKey, Applied, Change, Enqueue, JobCursor, Store, StoreError, Swept, Tombstone, apply_change};
use super::{Delivery, DeliveryStatus, Endpoint, Monitor, MonitorChange, MonitorStatus};
use crate::job::{Job, JobRequested, JobStatus, OutboxEntry, Transition, now_ms};
use crate::queue::{OutgoingMessage, QueueError, embedded::publish_in};
use crate::sqlite::{self, Db};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// A key's unfinished jobs, counted on every submit with a limit.
static COUNT_ACTIVE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let unfinished = JobStatus::UNFINISHED.map(|s| format!("'{s}'")).join(", ");
    format!("SELECT count(*) FROM jobs WHERE key_id = ?1 AND status IN ({unfinished})")
});

/// `?, ?, …`: `n` SQL parameters.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

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

impl sqlite::SqliteCause for StoreError {
    fn sqlite_error(&self) -> Option<&rusqlite::Error> {
        match self {
            StoreError::Unavailable(source) | StoreError::Backend(source) => source.downcast_ref(),
            _ => None,
        }
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

fn encode<T: serde::Serialize>(doc: &T) -> String {
    serde_json::to_string(doc).expect("documents serialize")
}

fn decode<T: serde::de::DeserializeOwned>(doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Backend(Box::new(e)))
}

impl EmbeddedStore {
    /// Documents of `sql`'s first column, decoded.
    async fn docs<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        params: Vec<rusqlite::types::Value>,
    ) -> Result<Vec<T>, StoreError> {
        let docs: Vec<String> = self
            .db
            .read(move |c| {
                c.prepare_cached(sql)?.query_map(rusqlite::params_from_iter(params), |r| r.get(0))?.collect()
            })
            .await?;
        docs.iter().map(|d| decode(d)).collect()
    }

    /// Reads `id`'s document with `select`, applies `change` and writes it back with `write`,
    /// in one immediate transaction.
    async fn update_doc<T>(
        &self,
        id: &str,
        select: &'static str,
        change: Change<T>,
        write: fn(&rusqlite::Transaction, &T) -> rusqlite::Result<usize>,
    ) -> Result<Applied<T>, StoreError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + 'static,
    {
        let id = id.to_string();
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let doc: Option<String> = tx.prepare_cached(select)?.query_row([&id], |r| r.get(0)).optional()?;
                let Some(doc) = doc else {
                    return Ok(Applied::NotFound);
                };
                let applied = apply_change(decode::<T>(&doc)?, &change);
                if let Applied::Yes(changed) = &applied {
                    write(&tx, changed)?;
                    tx.commit()?;
                }
                Ok(applied)
            })
            .await
    }
}

fn api_key(r: &rusqlite::Row) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey { id: r.get(0)?, prefix: r.get(1)?, name: r.get(2)?, created_at: r.get(3)?, revoked_at: r.get(4)? })
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn create_job(&self, job: &Job, max_active: u64) -> Result<Enqueue, StoreError> {
        let (job, topic) = (job.clone(), self.jobs_topic.clone());
        let message = OutgoingMessage::json(&JobRequested::for_job(&job), &job.id);
        // Submits come in bursts: those waiting at once are committed together.
        self.db
            .write_batched(move |tx| {
                if tx.prepare_cached("SELECT 1 FROM jobs WHERE id = ?1")?.exists([&job.id])? {
                    return Err(StoreError::Conflict(format!("job {}", job.id)));
                }
                if max_active > 0 {
                    let active: i64 = tx.prepare_cached(&COUNT_ACTIVE)?.query_row([&job.key_id], |r| r.get(0))?;
                    if active as u64 >= max_active {
                        return Err(StoreError::TooManyActive(active as u64));
                    }
                }
                tx.prepare_cached(
                    "INSERT INTO jobs (id, key_id, created_at, updated_at, status, doc) VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
                )?
                .execute(params![job.id, job.key_id, job.created_at, job.status.as_str(), encode(&job)])?;
                publish_in(tx, &topic, &[message])?;
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
                let mut job: Job = decode(&doc)?;
                let now = now_ms();
                if !job.apply(&t, now) {
                    return Ok(Applied::No(job));
                }
                tx.prepare_cached("UPDATE jobs SET status = ?2, doc = ?3, updated_at = ?4 WHERE id = ?1")?
                    .execute(params![id, job.status.as_str(), encode(&job), job.updated_at])?;
                for entry in job.outbox(&t) {
                    tx.prepare_cached("INSERT OR REPLACE INTO outbox (id, due_at, doc) VALUES (?1, ?2, ?3)")?
                        .execute(params![entry.id, entry.due_at, encode(&entry)])?;
                }
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

    async fn list_jobs(
        &self,
        key_id: &str,
        status: Option<JobStatus>,
        after: Option<&JobCursor>,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let sql = "SELECT doc FROM jobs WHERE key_id = ?1 AND (?2 IS NULL OR status = ?2)
                   AND (?3 IS NULL OR created_at < ?3 OR (created_at = ?3 AND id < ?4))
                   ORDER BY created_at DESC, id DESC LIMIT ?5";
        let params = vec![
            key_id.to_string().into(),
            status.map(|s| s.as_str().to_string()).into(),
            after.map(|c| c.created_at).into(),
            after.map(|c| c.id.clone()).into(),
            (limit as i64).into(),
        ];
        self.docs(sql, params).await
    }

    async fn count_jobs_by_status(&self) -> Result<Vec<(JobStatus, u64)>, StoreError> {
        let counts: Vec<(String, i64)> = self
            .db
            .read(|c| {
                c.prepare_cached("SELECT status, count(*) FROM jobs GROUP BY status")?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .await?;
        Ok(JobStatus::ALL
            .iter()
            .map(|s| (*s, counts.iter().find(|(n, _)| n == s.as_str()).map_or(0, |(_, c)| *c as u64)))
            .collect())
    }

    async fn jobs_updated_before(
        &self,
        statuses: &[JobStatus],
        before: i64,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT doc FROM jobs WHERE status IN ({}) AND updated_at < ? ORDER BY updated_at LIMIT ?",
            placeholders(statuses.len())
        );
        let mut params: Vec<rusqlite::types::Value> = statuses.iter().map(|s| s.as_str().to_string().into()).collect();
        params.extend([before.into(), (limit as i64).into()]);
        let docs: Vec<String> = self
            .db
            .read(move |c| c.prepare(&sql)?.query_map(rusqlite::params_from_iter(params), |r| r.get(0))?.collect())
            .await?;
        docs.iter().map(|d| decode(d)).collect()
    }

    async fn claim_outbox(&self, now: i64, until: i64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let docs: Vec<String> = self
            .db
            .call(move |c| {
                c.prepare_cached(
                    "UPDATE outbox SET due_at = ?2
                     WHERE id IN (SELECT id FROM outbox WHERE due_at <= ?1 ORDER BY due_at LIMIT ?3)
                     RETURNING doc",
                )?
                .query_map(params![now, until, limit as i64], |r| r.get(0))?
                .collect()
            })
            .await?;
        docs.iter().map(|d| decode(d)).collect()
    }

    async fn outbox_sent(&self, ids: &[String]) -> Result<(), StoreError> {
        let ids = ids.to_vec();
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                for id in &ids {
                    tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?.execute([id])?;
                }
                tx.commit()
            })
            .await?;
        Ok(())
    }

    async fn publish_outbox(&self, entries: &[(String, String, OutgoingMessage)]) -> Result<bool, StoreError> {
        let entries = entries.to_vec();
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                for (id, topic, message) in &entries {
                    // Published by another relay meanwhile: not again.
                    if tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?.execute([id])? == 1 {
                        publish_in(&tx, topic, std::slice::from_ref(message))?;
                    }
                }
                tx.commit()?;
                Ok::<_, StoreError>(())
            })
            .await?;
        self.db.notify_published();
        Ok(true)
    }

    async fn sweep(&self, before: i64, tombstones_before: i64, limit: usize) -> Result<Swept, StoreError> {
        let finished = JobStatus::FINISHED.map(|s| format!("'{s}'"));
        let select_jobs = format!(
            "SELECT doc FROM jobs WHERE status IN ({}) AND updated_at < ?1 ORDER BY updated_at LIMIT ?2",
            finished.join(", ")
        );
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let docs: Vec<String> = tx
                    .prepare(&select_jobs)?
                    .query_map(params![before, limit as i64], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let now = now_ms();
                for doc in &docs {
                    let job: Job = decode(doc)?;
                    let tombstone =
                        Tombstone { job_id: job.id.clone(), key_id: job.key_id, status: job.status, removed_at: now };
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO tombstones (job_id, removed_at, doc) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![job.id, now, encode(&tombstone)])?;
                    tx.prepare_cached("DELETE FROM results WHERE job_id = ?1")?.execute([&job.id])?;
                    tx.prepare_cached("DELETE FROM jobs WHERE id = ?1")?.execute([&job.id])?;
                }
                let deliveries = tx
                    .prepare_cached(
                        "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
                         WHERE status IN (?3, ?4) AND created_at < ?1 LIMIT ?2)",
                    )?
                    .execute(params![
                        before,
                        limit as i64,
                        DeliveryStatus::FINISHED[0].as_str(),
                        DeliveryStatus::FINISHED[1].as_str()
                    ])?;
                let tombstones = tx
                    .prepare_cached(
                        "DELETE FROM tombstones WHERE job_id IN (SELECT job_id FROM tombstones
                         WHERE removed_at < ?1 LIMIT ?2)",
                    )?
                    .execute(params![tombstones_before, limit as i64])?;
                tx.commit()?;
                Ok(Swept { jobs: docs.len(), deliveries, tombstones })
            })
            .await
    }

    async fn get_tombstone(&self, job_id: &str) -> Result<Option<Tombstone>, StoreError> {
        let sql = "SELECT doc FROM tombstones WHERE job_id = ?1";
        Ok(self.docs(sql, vec![job_id.to_string().into()]).await?.pop())
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

    async fn acquire_host_slot(&self, host: &str, holder: &str, limit: u32, until: i64) -> Result<bool, StoreError> {
        let (host, holder) = (host.to_string(), holder.to_string());
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.prepare_cached("DELETE FROM host_slots WHERE host = ?1 AND expires_at <= ?2")?
                    .execute(params![host, now_ms()])?;
                let renewed = tx
                    .prepare_cached("UPDATE host_slots SET expires_at = ?3 WHERE host = ?1 AND holder = ?2")?
                    .execute(params![host, holder, until])?;
                let held: i64 = tx
                    .prepare_cached("SELECT count(*) FROM host_slots WHERE host = ?1")?
                    .query_row([&host], |r| r.get(0))?;
                let taken = renewed == 1 || held < i64::from(limit);
                if renewed == 0 && taken {
                    tx.prepare_cached("INSERT INTO host_slots (host, holder, expires_at) VALUES (?1, ?2, ?3)")?
                        .execute(params![host, holder, until])?;
                }
                tx.commit()?;
                Ok(taken)
            })
            .await
    }

    async fn release_host_slot(&self, host: &str, holder: &str) -> Result<(), StoreError> {
        let (host, holder) = (host.to_string(), holder.to_string());
        self.db
            .call(move |c| c.execute("DELETE FROM host_slots WHERE host = ?1 AND holder = ?2", params![host, holder]))
            .await?;
        Ok(())
    }

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let endpoint = endpoint.clone();
        self.db
            .call(move |c| {
                let inserted = c
                    .prepare_cached(
                        "INSERT OR IGNORE INTO webhook_endpoints (id, key_id, created_at, doc) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![endpoint.id, endpoint.key_id, endpoint.created_at, encode(&endpoint)])?;
                if inserted == 0 {
                    return Err(StoreError::Conflict(format!("webhook endpoint {}", endpoint.id)));
                }
                Ok(())
            })
            .await
    }

    async fn get_endpoint(&self, id: &str) -> Result<Option<Endpoint>, StoreError> {
        let sql = "SELECT doc FROM webhook_endpoints WHERE id = ?1";
        Ok(self.docs(sql, vec![id.to_string().into()]).await?.pop())
    }

    async fn list_endpoints(&self, key_id: &str) -> Result<Vec<Endpoint>, StoreError> {
        let sql = "SELECT doc FROM webhook_endpoints WHERE key_id = ?1 ORDER BY created_at, id";
        self.docs(sql, vec![key_id.to_string().into()]).await
    }

    async fn update_endpoint(&self, id: &str, change: Change<Endpoint>) -> Result<Applied<Endpoint>, StoreError> {
        self.update_doc(id, "SELECT doc FROM webhook_endpoints WHERE id = ?1", change, |tx, e| {
            tx.prepare_cached("UPDATE webhook_endpoints SET doc = ?2 WHERE id = ?1")?.execute(params![e.id, encode(e)])
        })
        .await
    }

    async fn delete_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        let deleted = self.db.call(move |c| c.execute("DELETE FROM webhook_endpoints WHERE id = ?1", [id])).await?;
        Ok(deleted == 1)
    }

    async fn insert_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        let deliveries = deliveries.to_vec();
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                {
                    let mut insert = tx.prepare_cached(
                        "INSERT OR IGNORE INTO webhook_deliveries (id, endpoint_id, status, next_attempt_at, created_at, doc)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?;
                    for d in &deliveries {
                        insert.execute(params![
                            d.id,
                            d.endpoint_id,
                            d.status.as_str(),
                            d.next_attempt_at,
                            d.created_at,
                            encode(d)
                        ])?;
                    }
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }

    async fn get_delivery(&self, id: &str) -> Result<Option<Delivery>, StoreError> {
        let sql = "SELECT doc FROM webhook_deliveries WHERE id = ?1";
        Ok(self.docs(sql, vec![id.to_string().into()]).await?.pop())
    }

    async fn update_delivery(&self, id: &str, change: Change<Delivery>) -> Result<Applied<Delivery>, StoreError> {
        self.update_doc(id, "SELECT doc FROM webhook_deliveries WHERE id = ?1", change, |tx, d| {
            tx.prepare_cached(
                "UPDATE webhook_deliveries SET status = ?2, next_attempt_at = ?3, doc = ?4 WHERE id = ?1",
            )?
            .execute(params![d.id, d.status.as_str(), d.next_attempt_at, encode(d)])
        })
        .await
    }

    async fn due_deliveries(&self, now: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let sql = "SELECT doc FROM webhook_deliveries WHERE status = ?3 AND next_attempt_at <= ?1
                   ORDER BY next_attempt_at LIMIT ?2";
        let pending = DeliveryStatus::Pending.as_str().to_string();
        self.docs(sql, vec![now.into(), (limit as i64).into(), pending.into()]).await
    }

    async fn list_deliveries(&self, endpoint_id: &str, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let sql = "SELECT doc FROM webhook_deliveries WHERE endpoint_id = ?1 ORDER BY created_at DESC, id LIMIT ?2";
        self.docs(sql, vec![endpoint_id.to_string().into(), (limit as i64).into()]).await
    }

    async fn create_monitor(&self, monitor: &Monitor) -> Result<(), StoreError> {
        let mut monitor = monitor.clone();
        monitor.settle();
        self.db
            .call(move |c| {
                let inserted = c
                    .prepare_cached(
                        "INSERT OR IGNORE INTO monitors (id, key_id, created_at, due_at, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![monitor.id, monitor.key_id, monitor.created_at, monitor.due_at, encode(&monitor)])?;
                if inserted == 0 {
                    return Err(StoreError::Conflict(format!("monitor {}", monitor.id)));
                }
                Ok(())
            })
            .await
    }

    async fn get_monitor(&self, id: &str) -> Result<Option<Monitor>, StoreError> {
        let sql = "SELECT doc FROM monitors WHERE id = ?1";
        Ok(self.docs(sql, vec![id.to_string().into()]).await?.pop())
    }

    async fn list_monitors(&self, key_id: &str) -> Result<Vec<Monitor>, StoreError> {
        let sql = "SELECT doc FROM monitors WHERE key_id = ?1 ORDER BY created_at, id";
        self.docs(sql, vec![key_id.to_string().into()]).await
    }

    async fn update_monitor(&self, id: &str, change: Change<Monitor>) -> Result<Applied<Monitor>, StoreError> {
        self.update_doc(id, "SELECT doc FROM monitors WHERE id = ?1", Monitor::settled(change), |tx, m| {
            tx.prepare_cached("UPDATE monitors SET doc = ?2, due_at = ?3 WHERE id = ?1")?.execute(params![
                m.id,
                encode(m),
                m.due_at
            ])
        })
        .await
    }

    async fn delete_monitor(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.db
            .call(move |c| {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.execute("DELETE FROM monitor_changes WHERE monitor_id = ?1", [&id])?;
                let deleted = tx.execute("DELETE FROM monitors WHERE id = ?1", [&id])?;
                tx.commit()?;
                Ok(deleted > 0)
            })
            .await
    }

    async fn count_monitors_by_status(&self) -> Result<Vec<(MonitorStatus, u64)>, StoreError> {
        let counts: Vec<(String, i64)> = self
            .db
            .read(|c| {
                c.prepare_cached("SELECT json_extract(doc, '$.status'), count(*) FROM monitors GROUP BY 1")?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .await?;
        Ok(MonitorStatus::ALL
            .iter()
            .map(|s| (*s, counts.iter().find(|(n, _)| n == s.as_str()).map_or(0, |(_, c)| *c as u64)))
            .collect())
    }

    async fn due_monitors(&self, now: i64, limit: usize) -> Result<Vec<Monitor>, StoreError> {
        let sql = "SELECT doc FROM monitors WHERE due_at <= ?1 ORDER BY due_at LIMIT ?2";
        self.docs(sql, vec![now.into(), (limit as i64).into()]).await
    }

    async fn insert_change(&self, change: &MonitorChange) -> Result<(), StoreError> {
        let change = change.clone();
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "INSERT OR IGNORE INTO monitor_changes (id, monitor_id, detected_at, doc) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    change.id,
                    change.monitor_id,
                    change.detected_at,
                    encode(&change)
                ])?;
                Ok(())
            })
            .await
    }

    async fn list_changes(&self, monitor_id: &str, limit: usize) -> Result<Vec<MonitorChange>, StoreError> {
        let sql = "SELECT doc FROM monitor_changes WHERE monitor_id = ?1 ORDER BY detected_at DESC, id DESC LIMIT ?2";
        self.docs(sql, vec![monitor_id.to_string().into(), (limit as i64).into()]).await
    }
}
