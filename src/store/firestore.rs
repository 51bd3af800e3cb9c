//! The Firestore store: collections `jobs` (by job id), `results` (by job id; the report kept
//! as a JSON string, since reports can nest deeper than Firestore maps may), and `api_keys`
//! (by the key's SHA-256 hash). Transitions run in Firestore transactions, so the guarded
//! state machine holds across any number of workers. With `FIRESTORE_EMULATOR_HOST` set the
//! client talks to the emulator; otherwise to Google Cloud with the Application Default
//! Credentials.
//!
//! Firestore cannot commit together with Pub/Sub: a job's messages are written to the `outbox`
//! collection in the transaction that changes the job, and relayed after it (the relay of `outbox.rs`).

use super::{ApiKey, Applied, Change, Enqueue, JobCursor, Store, StoreError, Swept, Tombstone, apply_change};
use super::{Delivery, DeliveryStatus, Endpoint, Monitor, MonitorChange, MonitorStatus};
use crate::job::{Job, JobStatus, OutboxEntry, Transition, now_ms};
use async_trait::async_trait;
use firestore::errors::FirestoreError;
use firestore::select_filter_builder::FirestoreQueryFilterBuilder;
use firestore::{FirestoreDb, FirestoreDbOptions, FirestoreQueryCursor, FirestoreQueryFilter};
use serde::{Deserialize, Serialize};

const JOBS: &str = "jobs";
const RESULTS: &str = "results";
const API_KEYS: &str = "api_keys";
const ENDPOINTS: &str = "webhook_endpoints";
const DELIVERIES: &str = "webhook_deliveries";
const HOST_SLOTS: &str = "host_slots";
const OUTBOX: &str = "outbox";
const TOMBSTONES: &str = "tombstones";
const MONITORS: &str = "monitors";
const CHANGES: &str = "monitor_changes";

/// The slots of one host: holder → expiry (unix ms).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct HostSlots {
    holders: std::collections::BTreeMap<String, i64>,
}

/// A document id for a host name (`/` cannot appear in one; host names hold none, but be sure).
fn host_doc(host: &str) -> String {
    host.replace('/', "_")
}

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

/// How many jobs `filter` selects, by a count aggregation (no document is read); in a
/// transaction when `db` is the transaction's.
async fn count_jobs<F>(db: &FirestoreDb, filter: F) -> Result<u64, FirestoreError>
where
    F: Fn(FirestoreQueryFilterBuilder) -> Option<FirestoreQueryFilter> + Send,
{
    count_in(db, JOBS, filter).await
}

/// The documents of `collection` that pass `filter`, counted by an aggregation.
async fn count_in<F>(db: &FirestoreDb, collection: &str, filter: F) -> Result<u64, FirestoreError>
where
    F: Fn(FirestoreQueryFilterBuilder) -> Option<FirestoreQueryFilter> + Send,
{
    let counted: Vec<Count> = db
        .fluent()
        .select()
        .from(collection)
        .filter(filter)
        .aggregate(|a| a.fields([a.field("count").count()]))
        .obj()
        .query()
        .await?;
    Ok(counted.first().map_or(0, |c| c.count))
}

/// What a submit's transaction found.
#[derive(Clone)]
enum Created {
    Yes,
    Exists,
    TooManyActive(u64),
}

impl FirestoreStore {
    /// Runs `f` in a transaction, retried on contention more often than by default: concurrent
    /// claims, submits and relays contend for single documents.
    async fn transact<T, F>(&self, f: F) -> Result<T, FirestoreError>
    where
        for<'b> F: Fn(
            FirestoreDb,
            &'b mut firestore::FirestoreTransaction,
        ) -> futures_util::future::BoxFuture<'b, Result<T, backoff_error::Error>>,
    {
        let options = firestore::FirestoreTransactionOptions::new().with_max_retries(10);
        self.db.run_transaction_with_options(f, options).await
    }

    /// Connects to the project's default database (to the emulator when
    /// `FIRESTORE_EMULATOR_HOST` is set).
    pub async fn connect(project: &str) -> Result<FirestoreStore, StoreError> {
        let db = FirestoreDb::with_options(FirestoreDbOptions::new(project.to_string())).await?;
        Ok(FirestoreStore { db })
    }

    /// Applies `change` to the document `id` of `collection` in a transaction.
    /// Every document of `collection` that belongs to `key_id`, in no order.
    async fn of_key<T>(&self, collection: &'static str, key_id: &str) -> Result<Vec<T>, StoreError>
    where
        T: for<'de> Deserialize<'de> + Send,
    {
        let key_id = key_id.to_string();
        let query = self.db.fluent().select().from(collection);
        Ok(query.filter(|q| q.for_all([q.field("key_id").eq(key_id.clone())])).obj().query().await?)
    }

    async fn update_doc<T>(
        &self,
        collection: &'static str,
        id: &str,
        change: Change<T>,
    ) -> Result<Applied<T>, StoreError>
    where
        T: Serialize + for<'de> Deserialize<'de> + Clone + Send + Sync + 'static,
    {
        let applied = self
            .transact(|db, tx| {
                let (id, change) = (id.to_string(), change.clone());
                Box::pin(async move {
                    let found: Option<T> = db.fluent().select().by_id_in(collection).obj().one(&id).await?;
                    let Some(doc) = found else {
                        return Ok(Applied::NotFound);
                    };
                    let applied = apply_change(doc, &change);
                    if let Applied::Yes(changed) = &applied {
                        db.fluent()
                            .update()
                            .in_col(collection)
                            .document_id(&id)
                            .object(changed)
                            .add_to_transaction(tx)?;
                    }
                    Ok::<_, backoff_error::Error>(applied)
                })
            })
            .await?;
        Ok(applied)
    }
}

#[async_trait]
impl Store for FirestoreStore {
    /// Needs the composite index (key_id, status) of `deploy/firestore.indexes.json` when
    /// `max_active` is set. The count runs in the transaction, whose reads Firestore keeps
    /// serializable: two submits racing for the last slot cannot both commit.
    async fn create_job(&self, job: &Job, max_active: u64) -> Result<Enqueue, StoreError> {
        let entry = job.request_entry();
        let created = self
            .transact(|db, tx| {
                let (job, entry) = (job.clone(), entry.clone());
                Box::pin(async move {
                    let found: Option<Job> = db.fluent().select().by_id_in(JOBS).obj().one(&job.id).await?;
                    if found.is_some() {
                        return Ok(Created::Exists);
                    }
                    if max_active > 0 {
                        let active = JobStatus::unfinished_names();
                        let key = job.key_id.clone();
                        let n = count_jobs(&db, |q| {
                            q.for_all([q.field("key_id").eq(key.clone()), q.field("status").is_in(active.clone())])
                        })
                        .await?;
                        if n >= max_active {
                            return Ok(Created::TooManyActive(n));
                        }
                    }
                    db.fluent().update().in_col(JOBS).document_id(&job.id).object(&job).add_to_transaction(tx)?;
                    db.fluent().update().in_col(OUTBOX).document_id(&entry.id).object(&entry).add_to_transaction(tx)?;
                    Ok::<_, backoff_error::Error>(Created::Yes)
                })
            })
            .await?;
        match created {
            Created::Yes => Ok(Enqueue::Relay(vec![entry])),
            Created::Exists => Err(StoreError::Conflict(format!("job {}", job.id))),
            Created::TooManyActive(n) => Err(StoreError::TooManyActive(n)),
        }
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
        let applied = self
            .transact(|db, tx| {
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
                    for entry in job.outbox(&t) {
                        db.fluent()
                            .update()
                            .in_col(OUTBOX)
                            .document_id(&entry.id)
                            .object(&entry)
                            .add_to_transaction(tx)?;
                    }
                    if let (Transition::Complete { .. }, Some(report)) = (&t, report) {
                        let doc = ResultDoc { report, created_at: now };
                        db.fluent().update().in_col(RESULTS).document_id(&id).object(&doc).add_to_transaction(tx)?;
                    }
                    Ok::<_, backoff_error::Error>(Applied::Yes(job))
                })
            })
            .await?;
        Ok(applied)
    }

    async fn get_result(&self, job_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let doc: Option<ResultDoc> = self.db.fluent().select().by_id_in(RESULTS).obj().one(job_id).await?;
        doc.map(|d| serde_json::from_str(&d.report).map_err(|e| StoreError::Backend(Box::new(e)))).transpose()
    }

    /// Needs the composite indexes (key_id, created_at desc, id desc) and (key_id, status,
    /// created_at desc, id desc) of `deploy/firestore.indexes.json`.
    async fn list_jobs(
        &self,
        key_id: &str,
        status: Option<JobStatus>,
        after: Option<&JobCursor>,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let key_id = key_id.to_string();
        let status = status.map(|s| s.as_str());
        let query = self
            .db
            .fluent()
            .select()
            .from(JOBS)
            .filter(|q| q.for_all([q.field("key_id").eq(key_id.clone()), status.and_then(|s| q.field("status").eq(s))]))
            .order(|o| o.fields([o.field("created_at").desc(), o.field("id").desc()]));
        // The cursor names a place in that order, so jobs created in the cursor's millisecond
        // are neither repeated nor skipped, however many there are.
        let query = match after {
            Some(c) => query.start_at(FirestoreQueryCursor::AfterValue(vec![c.created_at.into(), c.id.clone().into()])),
            None => query,
        };
        Ok(query.limit(limit.min(u32::MAX as usize) as u32).obj().query().await?)
    }

    /// One count aggregation per status.
    async fn count_jobs_by_status(&self) -> Result<Vec<(JobStatus, u64)>, StoreError> {
        let mut out = Vec::new();
        for status in JobStatus::ALL {
            out.push((status, count_jobs(&self.db, |q| q.for_all([q.field("status").eq(status.as_str())])).await?));
        }
        Ok(out)
    }

    /// Needs the composite index (status, updated_at) of `deploy/firestore.indexes.json`.
    async fn jobs_updated_before(
        &self,
        statuses: &[JobStatus],
        before: i64,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        Ok(self
            .db
            .fluent()
            .select()
            .from(JOBS)
            .filter(|q| q.for_all([q.field("status").is_in(statuses.clone()), q.field("updated_at").less_than(before)]))
            .order(|o| o.fields([o.field("updated_at").asc()]))
            .limit(limit.min(u32::MAX as usize) as u32)
            .obj()
            .query()
            .await?)
    }

    /// Each entry is claimed in a transaction of its own, so that two relays never both take it.
    async fn claim_outbox(&self, now: i64, until: i64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let due: Vec<OutboxEntry> = self
            .db
            .fluent()
            .select()
            .from(OUTBOX)
            .filter(|q| q.for_all([q.field("due_at").less_than_or_equal(now)]))
            .order(|o| o.fields([o.field("due_at").asc()]))
            .limit(limit.min(u32::MAX as usize) as u32)
            .obj()
            .query()
            .await?;
        let mut claimed = Vec::with_capacity(due.len());
        for entry in due {
            let change: Change<OutboxEntry> = std::sync::Arc::new(move |e| {
                let due = e.due_at <= now;
                if due {
                    e.due_at = until;
                }
                due
            });
            if let Applied::Yes(entry) = self.update_doc(OUTBOX, &entry.id, change).await? {
                claimed.push(entry);
            }
        }
        Ok(claimed)
    }

    async fn outbox_sent(&self, ids: &[String]) -> Result<(), StoreError> {
        for id in ids {
            self.db.fluent().delete().from(OUTBOX).document_id(id).execute().await?;
        }
        Ok(())
    }

    /// Needs the composite indexes (status, updated_at) of jobs and (status, created_at) of
    /// deliveries of `deploy/firestore.indexes.json`.
    async fn sweep(&self, before: i64, tombstones_before: i64, limit: usize) -> Result<Swept, StoreError> {
        let jobs = self.jobs_updated_before(&JobStatus::FINISHED, before, limit).await?;
        let now = now_ms();
        for job in &jobs {
            let tombstone =
                Tombstone { job_id: job.id.clone(), key_id: job.key_id.clone(), status: job.status, removed_at: now };
            let _: Tombstone =
                self.db.fluent().update().in_col(TOMBSTONES).document_id(&job.id).object(&tombstone).execute().await?;
            self.db.fluent().delete().from(RESULTS).document_id(&job.id).execute().await?;
            self.db.fluent().delete().from(JOBS).document_id(&job.id).execute().await?;
        }
        let old_deliveries: Vec<Delivery> = self
            .db
            .fluent()
            .select()
            .from(DELIVERIES)
            .filter(|q| {
                q.for_all([
                    q.field("status").is_in(DeliveryStatus::FINISHED.map(DeliveryStatus::as_str)),
                    q.field("created_at").less_than(before),
                ])
            })
            .limit(limit.min(u32::MAX as usize) as u32)
            .obj()
            .query()
            .await?;
        for d in &old_deliveries {
            self.db.fluent().delete().from(DELIVERIES).document_id(&d.id).execute().await?;
        }
        let old_tombstones: Vec<Tombstone> = self
            .db
            .fluent()
            .select()
            .from(TOMBSTONES)
            .filter(|q| q.for_all([q.field("removed_at").less_than(tombstones_before)]))
            .limit(limit.min(u32::MAX as usize) as u32)
            .obj()
            .query()
            .await?;
        for t in &old_tombstones {
            self.db.fluent().delete().from(TOMBSTONES).document_id(&t.job_id).execute().await?;
        }
        Ok(Swept { jobs: jobs.len(), deliveries: old_deliveries.len(), tombstones: old_tombstones.len() })
    }

    async fn get_tombstone(&self, job_id: &str) -> Result<Option<Tombstone>, StoreError> {
        Ok(self.db.fluent().select().by_id_in(TOMBSTONES).obj().one(job_id).await?)
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

    async fn acquire_host_slot(&self, host: &str, holder: &str, limit: u32, until: i64) -> Result<bool, StoreError> {
        let taken = self
            .transact(|db, tx| {
                let (id, holder) = (host_doc(host), holder.to_string());
                Box::pin(async move {
                    let found: Option<HostSlots> = db.fluent().select().by_id_in(HOST_SLOTS).obj().one(&id).await?;
                    let mut slots = found.unwrap_or_default();
                    let now = now_ms();
                    slots.holders.retain(|_, expires| *expires > now);
                    let taken = slots.holders.contains_key(&holder) || slots.holders.len() < limit as usize;
                    if taken {
                        slots.holders.insert(holder, until);
                    }
                    db.fluent().update().in_col(HOST_SLOTS).document_id(&id).object(&slots).add_to_transaction(tx)?;
                    Ok::<_, backoff_error::Error>(taken)
                })
            })
            .await?;
        Ok(taken)
    }

    async fn release_host_slot(&self, host: &str, holder: &str) -> Result<(), StoreError> {
        let change: Change<HostSlots> = {
            let holder = holder.to_string();
            std::sync::Arc::new(move |slots| slots.holders.remove(&holder).is_some())
        };
        self.update_doc(HOST_SLOTS, &host_doc(host), change).await?;
        Ok(())
    }

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let _: Endpoint =
            self.db.fluent().insert().into(ENDPOINTS).document_id(&endpoint.id).object(endpoint).execute().await?;
        Ok(())
    }

    async fn get_endpoint(&self, id: &str) -> Result<Option<Endpoint>, StoreError> {
        Ok(self.db.fluent().select().by_id_in(ENDPOINTS).obj().one(id).await?)
    }

    async fn list_endpoints(&self, key_id: &str) -> Result<Vec<Endpoint>, StoreError> {
        let mut endpoints: Vec<Endpoint> = self.of_key(ENDPOINTS, key_id).await?;
        endpoints.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(endpoints)
    }

    async fn update_endpoint(&self, id: &str, change: Change<Endpoint>) -> Result<Applied<Endpoint>, StoreError> {
        self.update_doc(ENDPOINTS, id, change).await
    }

    async fn delete_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        let existed = self.get_endpoint(id).await?.is_some();
        self.db.fluent().delete().from(ENDPOINTS).document_id(id).execute().await?;
        Ok(existed)
    }

    async fn insert_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        for d in deliveries {
            let inserted: Result<Delivery, _> =
                self.db.fluent().insert().into(DELIVERIES).document_id(&d.id).object(d).execute().await;
            match inserted {
                Ok(_) | Err(FirestoreError::DataConflictError(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn get_delivery(&self, id: &str) -> Result<Option<Delivery>, StoreError> {
        Ok(self.db.fluent().select().by_id_in(DELIVERIES).obj().one(id).await?)
    }

    async fn update_delivery(&self, id: &str, change: Change<Delivery>) -> Result<Applied<Delivery>, StoreError> {
        self.update_doc(DELIVERIES, id, change).await
    }

    /// Needs the composite index (status, next_attempt_at) of `deploy/firestore.indexes.json`.
    async fn due_deliveries(&self, now: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        Ok(self
            .db
            .fluent()
            .select()
            .from(DELIVERIES)
            .filter(|q| {
                q.for_all([
                    q.field("status").eq(DeliveryStatus::Pending.as_str()),
                    q.field("next_attempt_at").less_than_or_equal(now),
                ])
            })
            .order(|o| o.fields([o.field("next_attempt_at").asc()]))
            .limit(limit.min(u32::MAX as usize) as u32)
            .obj()
            .query()
            .await?)
    }

    /// Needs the composite index (endpoint_id, created_at desc) of `deploy/firestore.indexes.json`.
    async fn list_deliveries(&self, endpoint_id: &str, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let endpoint_id = endpoint_id.to_string();
        Ok(self
            .db
            .fluent()
            .select()
            .from(DELIVERIES)
            .filter(|q| q.for_all([q.field("endpoint_id").eq(endpoint_id.clone())]))
            .order(|o| o.fields([o.field("created_at").desc()]))
            .limit(limit.min(u32::MAX as usize) as u32)
            .obj()
            .query()
            .await?)
    }

    async fn create_monitor(&self, monitor: &Monitor) -> Result<(), StoreError> {
        let mut monitor = monitor.clone();
        monitor.settle();
        let _: Monitor =
            self.db.fluent().insert().into(MONITORS).document_id(&monitor.id).object(&monitor).execute().await?;
        Ok(())
    }

    async fn get_monitor(&self, id: &str) -> Result<Option<Monitor>, StoreError> {
        Ok(self.db.fluent().select().by_id_in(MONITORS).obj().one(id).await?)
    }

    async fn list_monitors(&self, key_id: &str) -> Result<Vec<Monitor>, StoreError> {
        let mut monitors: Vec<Monitor> = self.of_key(MONITORS, key_id).await?;
        monitors.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(monitors)
    }

    async fn update_monitor(&self, id: &str, change: Change<Monitor>) -> Result<Applied<Monitor>, StoreError> {
        self.update_doc(MONITORS, id, Monitor::settled(change)).await
    }

    async fn delete_monitor(&self, id: &str) -> Result<bool, StoreError> {
        let existed = self.get_monitor(id).await?.is_some();
        loop {
            let changes = self.list_changes(id, 100).await?;
            for change in &changes {
                self.db.fluent().delete().from(CHANGES).document_id(&change.id).execute().await?;
            }
            if changes.len() < 100 {
                break;
            }
        }
        self.db.fluent().delete().from(MONITORS).document_id(id).execute().await?;
        Ok(existed)
    }

    async fn count_monitors_by_status(&self) -> Result<Vec<(MonitorStatus, u64)>, StoreError> {
        let mut out = Vec::new();
        for status in MonitorStatus::ALL {
            let name = status.as_str();
            out.push((status, count_in(&self.db, MONITORS, |q| q.for_all([q.field("status").eq(name)])).await?));
        }
        Ok(out)
    }

    async fn due_monitors(&self, now: i64, limit: usize) -> Result<Vec<Monitor>, StoreError> {
        Ok(self
            .db
            .fluent()
            .select()
            .from(MONITORS)
            .filter(|q| q.for_all([q.field("due_at").less_than_or_equal(now)]))
            .order(|o| o.fields([o.field("due_at").asc()]))
            .limit(limit.min(u32::MAX as usize) as u32)
            .obj()
            .query()
            .await?)
    }

    async fn insert_change(&self, change: &MonitorChange) -> Result<(), StoreError> {
        let inserted: Result<MonitorChange, _> =
            self.db.fluent().insert().into(CHANGES).document_id(&change.id).object(change).execute().await;
        match inserted {
            Ok(_) | Err(FirestoreError::DataConflictError(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Needs the composite index (monitor_id, detected_at desc) of `deploy/firestore.indexes.json`.
    async fn list_changes(&self, monitor_id: &str, limit: usize) -> Result<Vec<MonitorChange>, StoreError> {
        let monitor_id = monitor_id.to_string();
        Ok(self
            .db
            .fluent()
            .select()
            .from(CHANGES)
            .filter(|q| q.for_all([q.field("monitor_id").eq(monitor_id.clone())]))
            .order(|o| o.fields([o.field("detected_at").desc()]))
            .limit(limit.min(u32::MAX as usize) as u32)
            .obj()
            .query()
            .await?)
    }
}

/// The answer of a count aggregation.
#[derive(Deserialize)]
struct Count {
    count: u64,
}

/// The error type of the transaction callbacks: Firestore's own, retried when transient.
mod backoff_error {
    pub type Error = firestore::errors::BackoffError<firestore::errors::FirestoreError>;
}
