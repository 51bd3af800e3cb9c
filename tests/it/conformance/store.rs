//! The Store conformance suite: job documents, guarded transitions, results, API keys.

use krawlr::job::{Job, JobRequested, JobStatus, Stage, Transition, now_ms};
use krawlr::queue::OutgoingMessage;
use krawlr::store::{ApiKey, Applied, Enqueue, Store, StoreError};
use std::collections::HashSet;
use std::sync::Arc;

pub const JOBS_TOPIC: &str = "scrape-jobs";

fn new_job(key: &str) -> (Job, OutgoingMessage) {
    let job = Job::new(uuid::Uuid::new_v4().to_string(), key.into(), "https://example.com/".into(), now_ms());
    let message = OutgoingMessage::json(&JobRequested::for_job(&job), &job.id);
    (job, message)
}

fn applied(a: Applied) -> Job {
    match a {
        Applied::Yes(job) => job,
        other => panic!("expected the transition to apply, got {other:?}"),
    }
}

pub async fn jobs_round_trip_and_ids_are_unique(store: Arc<dyn Store>) {
    let (job, message) = new_job("key_a");
    store.create_job(&job, &message).await.unwrap();
    assert_eq!(store.get_job(&job.id).await.unwrap(), Some(job.clone()));
    assert!(matches!(store.create_job(&job, &message).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_job("no-such-job").await.unwrap(), None);
    assert_eq!(store.get_result(&job.id).await.unwrap(), None);
}

pub async fn transitions_are_guarded(store: Arc<dyn Store>) {
    let (job, message) = new_job("key_a");
    store.create_job(&job, &message).await.unwrap();
    let first = applied(store.transition(&job.id, &Transition::Claim, None).await.unwrap());
    assert_eq!((first.status, first.attempt), (JobStatus::Processing, 1));
    let second = applied(store.transition(&job.id, &Transition::Claim, None).await.unwrap());
    assert_eq!(second.attempt, 2);

    let stale = Transition::Progress { attempt: 1, stage: Stage::News };
    assert!(matches!(store.transition(&job.id, &stale, None).await.unwrap(), Applied::No(_)));
    let fresh = Transition::Progress { attempt: 2, stage: Stage::Financial };
    let now = applied(store.transition(&job.id, &fresh, None).await.unwrap());
    assert_eq!((now.current_stage, now.progress_percent), (Stage::Financial, 50));

    let report = serde_json::json!({"company": {"name": "Example"}});
    let stale_complete = Transition::Complete { attempt: 1 };
    assert!(matches!(store.transition(&job.id, &stale_complete, Some(&report)).await.unwrap(), Applied::No(_)));
    assert_eq!(store.get_result(&job.id).await.unwrap(), None, "a refused completion stores no result");
    let done = applied(store.transition(&job.id, &Transition::Complete { attempt: 2 }, Some(&report)).await.unwrap());
    assert_eq!(done.status, JobStatus::Completed);
    assert!(done.completed_at.is_some());
    assert_eq!(store.get_result(&job.id).await.unwrap(), Some(report));

    for t in [Transition::Claim, Transition::Fail { attempt: None, reason: "late".into() }] {
        match store.transition(&job.id, &t, None).await.unwrap() {
            Applied::No(job) => assert_eq!(job.status, JobStatus::Completed),
            other => panic!("a finished job changed: {other:?}"),
        }
    }
    assert_eq!(store.transition("missing", &Transition::Claim, None).await.unwrap(), Applied::NotFound);
}

pub async fn retry_and_fail_record_the_reason(store: Arc<dyn Store>) {
    let (job, message) = new_job("key_a");
    store.create_job(&job, &message).await.unwrap();
    applied(store.transition(&job.id, &Transition::Claim, None).await.unwrap());
    let retry = Transition::Retry { attempt: 1, reason: "HTTP 503".into() };
    let retrying = applied(store.transition(&job.id, &retry, None).await.unwrap());
    assert_eq!((retrying.status, retrying.error.as_deref()), (JobStatus::Retrying, Some("HTTP 503")));
    let fail = Transition::Fail { attempt: None, reason: "dead-lettered".into() };
    let failed = applied(store.transition(&job.id, &fail, None).await.unwrap());
    assert_eq!((failed.status, failed.error.as_deref()), (JobStatus::Failed, Some("dead-lettered")));
}

pub async fn concurrent_claims_each_get_their_own_attempt(store: Arc<dyn Store>) {
    let (job, message) = new_job("key_a");
    store.create_job(&job, &message).await.unwrap();
    let mut handles = Vec::new();
    for _ in 0..16 {
        let (store, id) = (store.clone(), job.id.clone());
        handles.push(tokio::spawn(async move {
            // `Unavailable` is the seam's "try again" (Firestore's contention under a burst).
            loop {
                match store.transition(&id, &Transition::Claim, None).await {
                    Ok(result) => break applied(result).attempt,
                    Err(e) if e.is_unavailable() => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    let mut attempts = HashSet::new();
    for h in handles {
        assert!(attempts.insert(h.await.unwrap()), "two claims got the same attempt");
    }
    assert_eq!(attempts, (1..=16).collect());
}

pub async fn api_keys_are_found_by_hash_and_revoked(store: Arc<dyn Store>) {
    let id = format!("key_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let hash = format!("{:0>64}", uuid::Uuid::new_v4().simple());
    let key =
        ApiKey { id: id.clone(), prefix: "kr_abc".into(), name: "ci".into(), created_at: now_ms(), revoked_at: None };
    store.create_api_key(&key, &hash).await.unwrap();
    assert!(matches!(store.create_api_key(&key, &hash).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.find_api_key(&hash).await.unwrap(), Some(key.clone()));
    assert_eq!(store.find_api_key("0000").await.unwrap(), None);
    assert!(store.list_api_keys().await.unwrap().contains(&key));
    assert!(store.revoke_api_key(&id).await.unwrap());
    assert!(!store.revoke_api_key(&id).await.unwrap(), "revoked once only");
    assert!(store.find_api_key(&hash).await.unwrap().unwrap().revoked_at.is_some());
}

pub async fn stale_jobs_are_the_unfinished_ones_left_alone(store: Arc<dyn Store>) {
    let (done, message) = new_job("key_a");
    store.create_job(&done, &message).await.unwrap();
    applied(store.transition(&done.id, &Transition::Claim, None).await.unwrap());
    let report = serde_json::json!({});
    applied(store.transition(&done.id, &Transition::Complete { attempt: 1 }, Some(&report)).await.unwrap());
    let (waiting, message) = new_job("key_a");
    store.create_job(&waiting, &message).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let stale = store.stale_jobs(now_ms(), 1000).await.unwrap();
    assert!(stale.iter().any(|j| j.id == waiting.id), "a queued job left alone is stale");
    assert!(!stale.iter().any(|j| j.id == done.id), "a finished job never is");
    assert!(store.stale_jobs(waiting.created_at - 1, 1000).await.unwrap().iter().all(|j| j.id != waiting.id));

    let cutoff = now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let touched = applied(store.transition(&waiting.id, &Transition::Touch { attempt: None }, None).await.unwrap());
    assert!(touched.updated_at > cutoff);
    assert_eq!(touched.status, JobStatus::Queued, "a touch changes nothing but the time");
    assert!(store.stale_jobs(cutoff, 1000).await.unwrap().iter().all(|j| j.id != waiting.id), "touched: fresh");
}

pub async fn run_all(store: Arc<dyn Store>) {
    jobs_round_trip_and_ids_are_unique(store.clone()).await;
    transitions_are_guarded(store.clone()).await;
    retry_and_fail_record_the_reason(store.clone()).await;
    concurrent_claims_each_get_their_own_attempt(store.clone()).await;
    stale_jobs_are_the_unfinished_ones_left_alone(store.clone()).await;
    api_keys_are_found_by_hash_and_revoked(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_store_conforms() {
    let backend = super::embedded();
    backend.broker.ensure_topic(JOBS_TOPIC).await.unwrap();
    run_all(backend.store.clone()).await;
}

/// The embedded store writes the job and its message in one transaction.
#[tokio::test(flavor = "multi_thread")]
async fn embedded_submit_enqueues_in_the_same_transaction() {
    let backend = super::embedded();
    let broker = backend.broker.clone();
    broker.ensure_topic(JOBS_TOPIC).await.unwrap();
    let sub = krawlr::queue::SubscriptionSpec {
        name: "jobs-sub".into(),
        topic: JOBS_TOPIC.into(),
        ack_deadline: std::time::Duration::from_secs(10),
        min_backoff: std::time::Duration::from_secs(1),
        max_backoff: std::time::Duration::from_secs(1),
        max_delivery_attempts: 5,
        dead_letter_topic: None,
    };
    broker.ensure_subscription(&sub).await.unwrap();
    let (job, message) = new_job("key_a");
    assert_eq!(backend.store.create_job(&job, &message).await.unwrap(), Enqueue::Done);
    let pulled = broker.pull("jobs-sub", 10).await.unwrap();
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0].attributes["job_id"], job.id);
    // A duplicate job id writes neither the job nor a second message.
    assert!(backend.store.create_job(&job, &message).await.is_err());
    broker.nack("jobs-sub", &pulled[0].ack_id, Some(std::time::Duration::ZERO)).await.unwrap();
    assert_eq!(broker.pull("jobs-sub", 10).await.unwrap().len(), 1, "still one message");
}

#[tokio::test(flavor = "multi_thread")]
async fn firestore_store_conforms_on_the_emulator() {
    super::emulator("FIRESTORE_EMULATOR_HOST");
    let store = krawlr::store::firestore::FirestoreStore::connect("krawlr-test").await.unwrap();
    let (job, message) = new_job("key_a");
    assert_eq!(store.create_job(&job, &message).await.unwrap(), Enqueue::PublishRequired);
    run_all(Arc::new(store)).await;
}
