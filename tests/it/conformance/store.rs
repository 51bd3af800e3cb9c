//! The Store conformance suite: job documents, guarded transitions, results, API keys, webhook
//! endpoints and deliveries, monitors and their changes.

use krawlr::job::{Channel, Job, JobEvent, JobStatus, OUTBOX_GRACE_MS, Stage, Transition, now_ms};
use krawlr::store::{ApiKey, Applied, Change, Changed, Diff, Enqueue, JobCursor, Store, StoreError};
use krawlr::store::{Monitor, MonitorChange, MonitorStatus};
use krawlr::webhooks::{Delivery, DeliveryStatus, Endpoint, EndpointStatus};
use std::collections::HashSet;
use std::sync::Arc;

pub const JOBS_TOPIC: &str = "scrape-jobs";

fn new_job(key: &str) -> Job {
    Job::new(uuid::Uuid::new_v4().to_string(), key.into(), url::Url::parse("https://example.com/").unwrap(), now_ms())
}

/// A claim by delivery `holder`, held for a minute.
fn claim(holder: &str) -> Transition {
    Transition::Claim { holder: holder.into(), lease_ms: 60_000 }
}

fn applied(a: Applied) -> Job {
    match a {
        Applied::Yes(job) => job,
        other => panic!("expected the transition to apply, got {other:?}"),
    }
}

pub async fn jobs_round_trip_and_ids_are_unique(store: Arc<dyn Store>) {
    let job = new_job("key_a");
    store.create_job(&job, 0).await.unwrap();
    assert_eq!(store.get_job(&job.id).await.unwrap(), Some(job.clone()));
    assert!(matches!(store.create_job(&job, 0).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_job("no-such-job").await.unwrap(), None);
    assert_eq!(store.get_result(&job.id).await.unwrap(), None);
}

pub async fn transitions_are_guarded(store: Arc<dyn Store>) {
    let job = new_job("key_a");
    store.create_job(&job, 0).await.unwrap();
    let first = applied(store.transition(&job.id, &claim("a"), None).await.unwrap());
    assert_eq!((first.status, first.attempt), (JobStatus::Processing, 1));
    match store.transition(&job.id, &claim("b"), None).await.unwrap() {
        Applied::No(held) => assert_eq!(held.attempt, 1, "a live lease fences off another delivery"),
        other => panic!("a duplicate delivery claimed a running job: {other:?}"),
    }
    let second = applied(store.transition(&job.id, &claim("a"), None).await.unwrap());
    assert_eq!(second.attempt, 2, "the holder's own delivery may claim again");

    let stale = Transition::Progress { attempt: 1, stage: Stage::News, company_name: None };
    assert!(matches!(store.transition(&job.id, &stale, None).await.unwrap(), Applied::No(_)));
    let fresh = Transition::Progress { attempt: 2, stage: Stage::Financial, company_name: Some("Acme".into()) };
    let now = applied(store.transition(&job.id, &fresh, None).await.unwrap());
    assert_eq!((now.current_stage, now.progress_percent), (Stage::Financial, 50));
    assert_eq!(now.company_name.as_deref(), Some("Acme"), "the name the profile stage read");
    let later = Transition::Progress { attempt: 2, stage: Stage::News, company_name: None };
    let kept = applied(store.transition(&job.id, &later, None).await.unwrap());
    assert_eq!(kept.company_name.as_deref(), Some("Acme"), "kept by a later stage that names none");
    let stored = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(stored.company_name.as_deref(), Some("Acme"), "and stored");

    let report = serde_json::json!({"company": {"name": "Example"}});
    let stale_complete = Transition::Complete { attempt: 1 };
    assert!(matches!(store.transition(&job.id, &stale_complete, Some(&report)).await.unwrap(), Applied::No(_)));
    assert_eq!(store.get_result(&job.id).await.unwrap(), None, "a refused completion stores no result");
    let done = applied(store.transition(&job.id, &Transition::Complete { attempt: 2 }, Some(&report)).await.unwrap());
    assert_eq!(done.status, JobStatus::Completed);
    assert!(done.completed_at.is_some());
    assert_eq!(store.get_result(&job.id).await.unwrap(), Some(report));

    for t in [claim("c"), Transition::DeadLettered { round: 0, reason: "late".into() }] {
        match store.transition(&job.id, &t, None).await.unwrap() {
            Applied::No(job) => assert_eq!(job.status, JobStatus::Completed),
            other => panic!("a finished job changed: {other:?}"),
        }
    }
    assert_eq!(store.transition("missing", &claim("a"), None).await.unwrap(), Applied::NotFound);
}

pub async fn retry_and_fail_record_the_reason(store: Arc<dyn Store>) {
    let job = new_job("key_a");
    store.create_job(&job, 0).await.unwrap();
    applied(store.transition(&job.id, &claim("a"), None).await.unwrap());
    let retry = Transition::Retry { attempt: 1, reason: "HTTP 503".into() };
    let retrying = applied(store.transition(&job.id, &retry, None).await.unwrap());
    assert_eq!((retrying.status, retrying.error.as_deref()), (JobStatus::Retrying, Some("HTTP 503")));
    let fail = Transition::DeadLettered { round: 0, reason: "dead-lettered".into() };
    let failed = applied(store.transition(&job.id, &fail, None).await.unwrap());
    assert_eq!((failed.status, failed.error.as_deref()), (JobStatus::Failed, Some("dead-lettered")));
}

pub async fn concurrent_claims_each_get_their_own_attempt(store: Arc<dyn Store>) {
    let job = new_job("key_a");
    store.create_job(&job, 0).await.unwrap();
    let mut handles = Vec::new();
    for _ in 0..16 {
        let (store, id) = (store.clone(), job.id.clone());
        handles.push(tokio::spawn(async move {
            // `Unavailable` is the seam's "try again" (Firestore's contention under a burst).
            loop {
                // Each its own delivery, holding the job for no time at all.
                let claim = Transition::Claim { holder: uuid::Uuid::new_v4().to_string(), lease_ms: 0 };
                match store.transition(&id, &claim, None).await {
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
    let unfinished = JobStatus::UNFINISHED;
    let done = new_job("key_a");
    store.create_job(&done, 0).await.unwrap();
    applied(store.transition(&done.id, &claim("a"), None).await.unwrap());
    let report = serde_json::json!({});
    applied(store.transition(&done.id, &Transition::Complete { attempt: 1 }, Some(&report)).await.unwrap());
    let waiting = new_job("key_a");
    store.create_job(&waiting, 0).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let stale = store.jobs_updated_before(&unfinished, now_ms(), 1000).await.unwrap();
    assert!(stale.iter().any(|j| j.id == waiting.id), "a queued job left alone is stale");
    assert!(!stale.iter().any(|j| j.id == done.id), "a finished job never is");
    let before = store.jobs_updated_before(&unfinished, waiting.created_at - 1, 1000).await.unwrap();
    assert!(before.iter().all(|j| j.id != waiting.id));
    let finished = store.jobs_updated_before(&JobStatus::FINISHED, now_ms(), 1000).await.unwrap();
    assert!(finished.iter().any(|j| j.id == done.id) && finished.iter().all(|j| j.id != waiting.id));

    let cutoff = now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let touched = applied(store.transition(&waiting.id, &Transition::Touch, None).await.unwrap());
    assert!(touched.updated_at > cutoff);
    assert_eq!(touched.status, JobStatus::Queued, "a touch changes nothing but the time");
    let stale = store.jobs_updated_before(&unfinished, cutoff, 1000).await.unwrap();
    assert!(stale.iter().all(|j| j.id != waiting.id), "touched: fresh");
}

/// The entries of `job_id` a relay claims at `at`.
async fn claim_entries(store: &Arc<dyn Store>, job_id: &str, at: i64) -> Vec<(String, Channel)> {
    let claimed = store.claim_outbox(at, at + 30_000, 1000).await.unwrap();
    let mut mine: Vec<(String, Channel)> =
        claimed.into_iter().filter(|e| e.job_id == job_id).map(|e| (e.id, e.channel)).collect();
    mine.sort_by(|a, b| a.0.cmp(&b.0));
    mine
}

pub async fn a_change_and_its_events_are_written_together(store: Arc<dyn Store>) {
    let job = new_job("key_a");
    let enqueued = store.create_job(&job, 0).await.unwrap();
    applied(store.transition(&job.id, &claim("a"), None).await.unwrap());
    applied(store.transition(&job.id, &Transition::Heartbeat { attempt: 1, lease_ms: 60_000 }, None).await.unwrap());
    let failed = Transition::Fail { attempt: 1, reason: "HTTP 404".into() };
    applied(store.transition(&job.id, &failed, None).await.unwrap());
    let rerun = applied(store.transition(&job.id, &Transition::Rerun, None).await.unwrap());
    assert_eq!((rerun.status, rerun.error.as_deref()), (JobStatus::Queued, None));

    assert!(claim_entries(&store, &job.id, now_ms()).await.is_empty(), "their writer publishes them first");
    let later = now_ms() + OUTBOX_GRACE_MS + 1;
    let id = |seq: &str| format!("{}.{seq}", job.id);
    let mut expected = vec![
        (id("2"), Channel::Progress),
        (id("3"), Channel::Completed),
        (id("4"), Channel::Progress),
        (id("4.request"), Channel::Jobs),
    ];
    if let Enqueue::Relay(entries) = enqueued {
        assert_eq!(
            entries.iter().map(|e| (e.id.clone(), e.channel)).collect::<Vec<_>>(),
            [(id("1.request"), Channel::Jobs)]
        );
        expected.insert(0, (id("1.request"), Channel::Jobs));
    }
    assert_eq!(claim_entries(&store, &job.id, later).await, expected, "one per change, none for a heartbeat");
    assert!(claim_entries(&store, &job.id, later).await.is_empty(), "a claimed entry is no other relay's");
    let sent: Vec<String> = expected.iter().map(|(id, _)| id.clone()).collect();
    store.outbox_sent(&sent[..2]).await.unwrap();
    let after_claim = later + 30_001;
    assert_eq!(claim_entries(&store, &job.id, after_claim).await, expected[2..], "unsent ones come back");
    store.outbox_sent(&sent).await.unwrap();
    assert!(claim_entries(&store, &job.id, after_claim + 30_001).await.is_empty());
}

pub async fn the_active_jobs_limit_holds_under_concurrent_submits(store: Arc<dyn Store>) {
    let key = format!("key_{}", uuid::Uuid::new_v4().simple());
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (store, job) = (store.clone(), new_job(&key));
        tasks.push(tokio::spawn(async move {
            loop {
                match store.create_job(&job, 4).await {
                    Ok(_) => break true,
                    Err(StoreError::TooManyActive(n)) => {
                        assert_eq!(n, 4);
                        break false;
                    }
                    Err(e) if e.is_unavailable() => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.unwrap());
    }
    assert_eq!(created, 4, "exactly the limit, however the submits interleave");
    let one = store.list_jobs(&key, None, None, 1).await.unwrap().remove(0);
    store.transition(&one.id, &Transition::cancel_by_client(), None).await.unwrap();
    store.create_job(&new_job(&key), 4).await.expect("a finished job frees its slot");
}

pub async fn retention_removes_finished_jobs_and_leaves_tombstones(store: Arc<dyn Store>) {
    let key = format!("key_{}", uuid::Uuid::new_v4().simple());
    let (old, running) = (new_job(&key), new_job(&key));
    store.create_job(&old, 0).await.unwrap();
    store.create_job(&running, 0).await.unwrap();
    applied(store.transition(&old.id, &claim("a"), None).await.unwrap());
    let report = serde_json::json!({"company": {}});
    applied(store.transition(&old.id, &Transition::Complete { attempt: 1 }, Some(&report)).await.unwrap());
    applied(store.transition(&running.id, &claim("b"), None).await.unwrap());
    let ep = endpoint(&key, 0);
    let mut delivered = Delivery::new(&ep, "https://hooks.example.com/in", &JobEvent::of(&old, 3), now_ms() - 10);
    delivered.status = DeliveryStatus::Delivered;
    delivered.next_attempt_at = None;
    let pending = Delivery::new(&ep, "https://hooks.example.com/in", &JobEvent::of(&running, 2), now_ms() - 10);
    store.insert_deliveries(&[delivered.clone(), pending.clone()]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let now = now_ms();
    let mut swept = krawlr::store::Swept::default();
    loop {
        let round = store.sweep(now, 0, 1000).await.unwrap();
        swept.jobs += round.jobs;
        swept.deliveries += round.deliveries;
        if round.jobs < 1000 && round.deliveries < 1000 {
            break;
        }
    }
    assert!(swept.jobs >= 1 && swept.deliveries >= 1, "{swept:?}");
    assert_eq!(store.get_job(&old.id).await.unwrap(), None);
    assert_eq!(store.get_result(&old.id).await.unwrap(), None);
    let tombstone = store.get_tombstone(&old.id).await.unwrap().expect("a tombstone");
    assert_eq!((tombstone.key_id.as_str(), tombstone.status), (key.as_str(), JobStatus::Completed));
    assert!(store.get_job(&running.id).await.unwrap().is_some(), "an unfinished job stays");
    assert_eq!(store.get_tombstone(&running.id).await.unwrap(), None);
    assert_eq!(store.get_delivery(&delivered.id).await.unwrap(), None);
    assert!(store.get_delivery(&pending.id).await.unwrap().is_some(), "a pending delivery stays");
    store.sweep(0, now_ms() + 1, 1000).await.unwrap();
    assert_eq!(store.get_tombstone(&old.id).await.unwrap(), None, "tombstones go in their turn");
}

fn endpoint(key_id: &str, created_at: i64) -> Endpoint {
    Endpoint {
        id: format!("ep_{}", uuid::Uuid::new_v4().simple()),
        key_id: key_id.into(),
        url: Some("https://hooks.example.com/in".into()),
        events: vec![krawlr::job::EventKind::Completed],
        description: String::new(),
        secret: "enc1:sealed".into(),
        previous_secret: None,
        previous_secret_until: None,
        status: EndpointStatus::Active,
        status_reason: None,
        created_at,
        updated_at: created_at,
    }
}

pub async fn webhook_endpoints_belong_to_a_key_and_change_atomically(store: Arc<dyn Store>) {
    let key = format!("key_{}", uuid::Uuid::new_v4().simple());
    let (first, second) = (endpoint(&key, 1000), endpoint(&key, 2000));
    store.create_endpoint(&second).await.unwrap();
    store.create_endpoint(&first).await.unwrap();
    store.create_endpoint(&endpoint("key_other", 1500)).await.unwrap();
    assert!(matches!(store.create_endpoint(&first).await, Err(StoreError::Conflict(_))));
    let ids: Vec<String> = store.list_endpoints(&key).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(ids, [first.id.clone(), second.id.clone()], "a key's own, oldest first");
    assert_eq!(store.get_endpoint(&first.id).await.unwrap(), Some(first.clone()));

    // Concurrent changes are all kept: none overwrites another.
    let mut tasks = Vec::new();
    for i in 0..5 {
        let (store, id) = (store.clone(), first.id.clone());
        tasks.push(tokio::spawn(async move {
            let change: Change<Endpoint> = Arc::new(move |e| {
                e.description.push_str(&format!("e{i};"));
                true
            });
            store.update_endpoint(&id, change).await.unwrap()
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Applied::Yes(_)));
    }
    let described = store.get_endpoint(&first.id).await.unwrap().unwrap().description;
    for i in 0..5 {
        assert!(described.contains(&format!("e{i};")), "every change kept: {described}");
    }
    let refuse: Change<Endpoint> = Arc::new(|e| {
        e.description = "not written".into();
        false
    });
    assert!(
        matches!(store.update_endpoint(&first.id, refuse.clone()).await.unwrap(), Applied::No(e) if e.description == described)
    );
    assert_eq!(store.get_endpoint(&first.id).await.unwrap().unwrap().description, described);
    assert!(matches!(store.update_endpoint("ep_missing", refuse).await.unwrap(), Applied::NotFound));
    assert!(store.delete_endpoint(&first.id).await.unwrap());
    assert!(!store.delete_endpoint(&first.id).await.unwrap());
    assert_eq!(store.get_endpoint(&first.id).await.unwrap(), None);
}

pub async fn deliveries_are_written_once_and_due_in_order(store: Arc<dyn Store>) {
    let ep = endpoint(&format!("key_{}", uuid::Uuid::new_v4().simple()), 0);
    let now = now_ms();
    let event = |n: u32| {
        let mut job = Job::new(
            format!("job-{n}-{}", uuid::Uuid::new_v4()),
            ep.key_id.clone(),
            url::Url::parse("https://x.com/").unwrap(),
            now,
        );
        job.status = krawlr::job::JobStatus::Completed;
        JobEvent::of(&job, 2)
    };
    let mut later = Delivery::new(&ep, "https://hooks.example.com/in", &event(1), now);
    later.next_attempt_at = Some(now - 1000);
    later.created_at = now - 5000;
    let mut sooner = Delivery::new(&ep, "https://hooks.example.com/in", &event(2), now);
    sooner.next_attempt_at = Some(now - 2000);
    let mut future = Delivery::new(&ep, "https://hooks.example.com/in", &event(3), now);
    future.next_attempt_at = Some(now + 60_000);
    store.insert_deliveries(&[later.clone(), sooner.clone(), future.clone()]).await.unwrap();

    // A second insert of the same id (a redelivered event) leaves the first as it is.
    let mut again = later.clone();
    again.url = "https://elsewhere.example.com/".into();
    store.insert_deliveries(&[again]).await.unwrap();
    assert_eq!(store.get_delivery(&later.id).await.unwrap(), Some(later.clone()));

    let due: Vec<String> = store.due_deliveries(now, 1000).await.unwrap().into_iter().map(|d| d.id).collect();
    let mine: Vec<&String> = due.iter().filter(|id| [&later.id, &sooner.id, &future.id].contains(id)).collect();
    assert_eq!(mine, [&sooner.id, &later.id], "due ones, soonest first");

    let claimed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (store, id, claimed) = (store.clone(), sooner.id.clone(), claimed.clone());
        tasks.push(tokio::spawn(async move {
            let change: Change<Delivery> = Arc::new(move |d| {
                let free = d.next_attempt_at.is_some_and(|t| t <= now);
                d.next_attempt_at = Some(now + 45_000);
                free
            });
            if matches!(store.update_delivery(&id, change).await.unwrap(), Applied::Yes(_)) {
                claimed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(claimed.load(std::sync::atomic::Ordering::SeqCst), 1, "one claim wins");
    let delivered: Change<Delivery> = Arc::new(|d| {
        d.status = DeliveryStatus::Delivered;
        d.next_attempt_at = None;
        true
    });
    store.update_delivery(&later.id, delivered).await.unwrap();
    let due: Vec<String> = store.due_deliveries(now, 1000).await.unwrap().into_iter().map(|d| d.id).collect();
    assert!(!due.contains(&later.id) && !due.contains(&sooner.id), "delivered and claimed ones are not due");

    let log: Vec<String> = store.list_deliveries(&ep.id, 2).await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(log.len(), 2);
    assert!(!log.contains(&later.id), "newest first: the oldest is past the limit");
    assert!(store.list_deliveries("ep_none", 10).await.unwrap().is_empty());
}

pub async fn jobs_are_listed_per_key_newest_first(store: Arc<dyn Store>) {
    let key = format!("key_{}", uuid::Uuid::new_v4().simple());
    let mut made = Vec::new();
    // Two jobs share each creation time: the id orders them.
    for i in 0..6 {
        let mut job = new_job(&key);
        job.created_at = 1_000 + (i / 2) as i64;
        store.create_job(&job, 0).await.unwrap();
        made.push((job.created_at, job.id.clone()));
    }
    // And a crowd in one millisecond, more than a page and a hundred: paging must go through
    // it by the cursor, not by skipping ties in memory.
    for _ in 0..110 {
        let mut job = new_job(&key);
        job.created_at = 2_000;
        store.create_job(&job, 0).await.unwrap();
        made.push((job.created_at, job.id.clone()));
    }
    store.transition(&made[0].1, &Transition::cancel_by_client(), None).await.unwrap();
    let active = made.len() as u64 - 1;
    match store.create_job(&new_job(&key), active).await {
        Err(StoreError::TooManyActive(n)) => assert_eq!(n, active, "all but the cancelled one"),
        other => panic!("the limit counts the unfinished jobs: {other:?}"),
    }
    let by_status = store.count_jobs_by_status().await.unwrap();
    let count = |s: JobStatus| by_status.iter().find(|(status, _)| *status == s).map_or(0, |(_, n)| *n);
    assert!(count(JobStatus::Queued) >= made.len() as u64 - 1 && count(JobStatus::Cancelled) >= 1, "{by_status:?}");
    made.sort();
    made.reverse();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_jobs(&key, None, after.as_ref(), 4).await.unwrap();
        seen.extend(page.iter().map(|j| (j.created_at, j.id.clone())));
        match page.last() {
            Some(last) if page.len() == 4 => {
                after = Some(JobCursor { created_at: last.created_at, id: last.id.clone() })
            }
            _ => break,
        }
    }
    assert_eq!(seen, made, "newest first, ties by id, each once");
    let cancelled = store.list_jobs(&key, Some(JobStatus::Cancelled), None, 10).await.unwrap();
    assert_eq!(cancelled.len(), 1);
    assert!(store.list_jobs("key_nobody", None, None, 10).await.unwrap().is_empty());
}

pub async fn host_slots_are_shared_and_expire(store: Arc<dyn Store>) {
    let host = format!("{}.example.com", uuid::Uuid::new_v4().simple());
    let later = now_ms() + 60_000;
    assert!(store.acquire_host_slot(&host, "a", 2, later).await.unwrap());
    assert!(store.acquire_host_slot(&host, "b", 2, later).await.unwrap());
    assert!(!store.acquire_host_slot(&host, "c", 2, later).await.unwrap(), "both slots held");
    assert!(store.acquire_host_slot(&host, "a", 2, later).await.unwrap(), "a holder renews its own");
    store.release_host_slot(&host, "a").await.unwrap();
    assert!(store.acquire_host_slot(&host, "c", 2, later).await.unwrap(), "a released slot is free");
    // A holder that died: its slot is free once it expires.
    let other = format!("{}.example.com", uuid::Uuid::new_v4().simple());
    assert!(store.acquire_host_slot(&other, "dead", 1, now_ms() - 1).await.unwrap());
    assert!(store.acquire_host_slot(&other, "alive", 1, later).await.unwrap());
    store.release_host_slot(&other, "nobody").await.unwrap();
}

fn monitor(key: &str, created_at: i64, wake_at: i64, status: MonitorStatus) -> Monitor {
    let id = format!("mon_{}", uuid::Uuid::new_v4().simple());
    Monitor {
        status,
        next_run_at: wake_at,
        wake_at,
        ..Monitor::new(id, key, "https://example.com/", 60_000, created_at)
    }
}

pub async fn monitors_are_due_claimed_once_and_keep_their_changes(store: Arc<dyn Store>) {
    let key = format!("key_{}", uuid::Uuid::new_v4().simple());
    let now = now_ms();
    let due = monitor(&key, 1, now - 1_000, MonitorStatus::Active);
    let later = monitor(&key, 2, now + 60_000, MonitorStatus::Active);
    let paused = monitor(&key, 3, now - 1_000, MonitorStatus::Paused);
    for m in [&later, &due, &paused] {
        store.create_monitor(m).await.unwrap();
    }
    assert!(matches!(store.create_monitor(&due).await, Err(StoreError::Conflict(_))));
    let listed: Vec<String> = store.list_monitors(&key).await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(listed, [due.id.clone(), later.id.clone(), paused.id.clone()], "a key's own, oldest first");
    let due_ids = |found: Vec<Monitor>| found.into_iter().map(|m| m.id).collect::<HashSet<String>>();
    let found = due_ids(store.due_monitors(now, 1000).await.unwrap());
    assert!(found.contains(&due.id) && !found.contains(&later.id), "due by its wake-up time");
    assert!(!found.contains(&paused.id), "a paused monitor is never due");

    // Concurrent claims of one due monitor: exactly one scheduler takes it.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, id) = (store.clone(), due.id.clone());
        tasks.push(tokio::spawn(async move {
            let claim: Change<Monitor> = Arc::new(move |m| {
                let free = m.wake_at <= now;
                if free {
                    m.wake_at = now + 30_000;
                }
                free
            });
            store.update_monitor(&id, claim).await.unwrap()
        }));
    }
    let mut taken = 0;
    for t in tasks {
        taken += usize::from(matches!(t.await.unwrap(), Applied::Yes(_)));
    }
    assert_eq!(taken, 1, "one claim wins");
    assert!(!due_ids(store.due_monitors(now, 1000).await.unwrap()).contains(&due.id), "a claimed monitor is not due");
    let counts = store.count_monitors_by_status().await.unwrap();
    let count = |s: MonitorStatus| counts.iter().find(|(x, _)| *x == s).map_or(0, |(_, n)| *n);
    assert!(count(MonitorStatus::Active) >= 2 && count(MonitorStatus::Paused) >= 1, "{counts:?}");

    // A run's change is recorded once; changes come newest first; they go with their monitor.
    let change = |run: u64, at: i64| MonitorChange {
        id: format!("{}-r{run}", due.id),
        monitor_id: due.id.clone(),
        key_id: key.clone(),
        from_job_id: format!("{}-r{}", due.id, run - 1),
        to_job_id: format!("{}-r{run}", due.id),
        detected_at: at,
        diff: Diff {
            changed: vec![Changed { path: "company.name".into(), old: "A".into(), new: "B".into() }],
            ..Diff::default()
        },
    };
    store.insert_change(&change(2, now)).await.unwrap();
    store.insert_change(&change(2, now + 5)).await.unwrap();
    store.insert_change(&change(3, now + 10)).await.unwrap();
    let changes = store.list_changes(&due.id, 10).await.unwrap();
    let ids: Vec<&str> = changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [format!("{}-r3", due.id), format!("{}-r2", due.id)], "once each, newest first");
    assert_eq!(changes[1], change(2, now), "the first record of a run's change stands");
    assert!(store.delete_monitor(&due.id).await.unwrap());
    assert!(!store.delete_monitor(&due.id).await.unwrap());
    assert_eq!(store.get_monitor(&due.id).await.unwrap(), None);
    assert!(store.list_changes(&due.id, 10).await.unwrap().is_empty(), "its changes went with it");
}

scenarios!(
    embedded: embedded,
    emulator: firestore;
    monitors_are_due_claimed_once_and_keep_their_changes,
    host_slots_are_shared_and_expire,
    jobs_are_listed_per_key_newest_first,
    webhook_endpoints_belong_to_a_key_and_change_atomically,
    deliveries_are_written_once_and_due_in_order,
    jobs_round_trip_and_ids_are_unique,
    transitions_are_guarded,
    retry_and_fail_record_the_reason,
    concurrent_claims_each_get_their_own_attempt,
    stale_jobs_are_the_unfinished_ones_left_alone,
    a_change_and_its_events_are_written_together,
    the_active_jobs_limit_holds_under_concurrent_submits,
    retention_removes_finished_jobs_and_leaves_tombstones,
    api_keys_are_found_by_hash_and_revoked,
);

/// A fresh embedded store (its jobs topic made), with what keeps its data dir.
async fn embedded() -> (Arc<dyn Store>, super::Embedded) {
    let backend = super::embedded();
    backend.broker.ensure_topic(JOBS_TOPIC).await.unwrap();
    (backend.store.clone(), backend)
}

/// A Firestore store on the emulator, in a project of its own, so that scenarios that sweep the
/// whole store run in parallel without meeting each other's jobs.
async fn firestore() -> Arc<dyn Store> {
    crate::conformance::emulator("FIRESTORE_EMULATOR_HOST");
    let project = format!("krawlr-test-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    Arc::new(krawlr::store::firestore::FirestoreStore::connect(&project).await.unwrap())
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
    let job = new_job("key_a");
    assert_eq!(backend.store.create_job(&job, 0).await.unwrap(), Enqueue::Done);
    let pulled = broker.pull("jobs-sub", 10).await.unwrap();
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0].attributes["job_id"], job.id);
    // A duplicate job id writes neither the job nor a second message.
    assert!(backend.store.create_job(&job, 0).await.is_err());
    broker.nack("jobs-sub", &pulled[0].ack_id, Some(std::time::Duration::ZERO)).await.unwrap();
    assert_eq!(broker.pull("jobs-sub", 10).await.unwrap().len(), 1, "still one message");
}
