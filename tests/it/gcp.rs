//! The gcp backend end to end: separate api and worker processes on the Pub/Sub and Firestore
//! emulators, with the same job semantics as the embedded backend.

use crate::helpers::{Client, KEY, Site, TestEnv};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn setup_creates_the_topology_once() {
    let env = TestEnv::gcp();
    let (code, out, err) = env.run(&["setup"]);
    assert_eq!(code, 0, "{err}");
    for name in ["topic scrape-jobs", "topic scrape-progress", "topic scrape-completed", "subscription scrape-jobs-sub"]
    {
        assert!(out.contains(&format!("created {name}\n")), "{name} missing from:\n{out}");
    }
    let (code, out, err) = env.run(&["setup"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("nothing to do"), "{out}");
    let (_, out, _) = env.set("KRAWLR_RETRY_MIN_BACKOFF_SECONDS", "5").run(&["setup"]);
    assert!(out.contains("updated subscription scrape-jobs-sub"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_run_across_api_and_worker_processes() {
    let site = Site::company(Duration::from_millis(100)).await;
    let failing = Site::always(404).await;
    let env = TestEnv::gcp();
    let (_api, base) = env.serve("api", "api").await;
    let _w1 = env.worker("worker1").await;
    let _w2 = env.worker("worker2").await;
    let client = Client::new(&base, KEY);
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(client.submit(&site.url(&format!("/?n={i}"))).await);
    }
    let broken = client.submit(&failing.url("/")).await;
    for id in &ids {
        let s = client.wait_status(id, &["completed", "failed"], Duration::from_secs(60)).await;
        assert_eq!(s["status"], "completed", "{s}");
        assert_eq!(s["progress_percent"], 100);
        let (code, report) = client.get(&format!("/api/v1/scrape/{id}")).await;
        assert_eq!(code, 200);
        assert_eq!(report["company"]["name"], "Acme Rockets");
    }
    let s = client.wait_status(&broken, &["failed", "completed"], Duration::from_secs(60)).await;
    assert_eq!(s["status"], "failed", "{s}");
    assert!(s["error"].as_str().unwrap().contains("HTTP 404"), "{s}");
    assert_eq!(s["attempts"], 1);
}

/// Firestore and Pub/Sub cannot commit together: a submit writes the job and its message to
/// the outbox in one transaction. Should the api die (or its publish fail) before the message
/// is published, a relay publishes it seconds later, long before the reconciler would.
#[tokio::test(flavor = "multi_thread")]
async fn a_submit_whose_publish_was_lost_is_relayed_in_seconds() {
    use krawlr::job::{Job, now_ms};
    use krawlr::store::{Enqueue, Store};
    let site = Site::company(Duration::ZERO).await;
    // The reconciler would take minutes: only the relay can make this job run in time.
    let env = TestEnv::gcp().set("KRAWLR_RECONCILE_AFTER_SECONDS", "600");
    assert_eq!(env.run(&["setup"]).0, 0);
    let project = env.var("GCP_PROJECT_ID");
    let store = krawlr::store::firestore::FirestoreStore::connect(&project).await.unwrap();
    let job =
        Job::new(uuid::Uuid::new_v4().to_string(), "key_x".into(), url::Url::parse(&site.url("/")).unwrap(), now_ms());
    // Written, and never published by its writer.
    assert!(matches!(store.create_job(&job, 0).await.unwrap(), Enqueue::Relay(_)));
    let started = std::time::Instant::now();
    let worker = env.worker("worker").await;
    let deadline = started + Duration::from_secs(30);
    loop {
        let now = store.get_job(&job.id).await.unwrap().unwrap();
        if now.status.is_terminal() {
            assert_eq!(now.status.as_str(), "completed", "{now:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never ran: {now:?}\n{}", worker.stderr());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("relayed and completed {:.1} s after the worker started", started.elapsed().as_secs_f32());
    assert!(store.get_result(&job.id).await.unwrap().is_some());
    assert!(worker.stderr().contains("relayed outbox entries their writer did not publish"));
    assert!(!worker.stderr().contains("republished a job whose message seems lost"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_site_that_keeps_failing_is_dead_lettered_to_failed() {
    let site = Site::always(503).await;
    let env =
        TestEnv::gcp().set("KRAWLR_RETRY_MIN_BACKOFF_SECONDS", "0.1").set("KRAWLR_RETRY_MAX_BACKOFF_SECONDS", "0.5");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let id = client.submit(&site.url("/")).await;
    let retrying = client.wait_status(&id, &["retrying", "failed"], Duration::from_secs(30)).await;
    assert_eq!(retrying["status"], "retrying", "{retrying}");
    let failed = client.wait_status(&id, &["failed"], Duration::from_secs(90)).await;
    assert_eq!(failed["attempts"], 5, "{failed}");
    assert!(failed["error"].as_str().unwrap().contains("503"), "{failed}");
    assert_eq!(site.hits(), 5, "one robots.txt request per attempt");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_worker_s_job_completes_and_sigterm_hands_jobs_back() {
    let site = Site::company(Duration::from_secs(3)).await;
    // The dead worker's message comes back once its 10 s lease runs out; the reconciler (here
    // after 15 s of silence, by the store's record) is the backstop should it not.
    let env = TestEnv::gcp()
        .set("KRAWLR_SHUTDOWN_GRACE_SECONDS", "0.2")
        .set("KRAWLR_RECONCILE_AFTER_SECONDS", "15")
        .set("KRAWLR_RECONCILE_INTERVAL_SECONDS", "1");
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);

    let mut crashed = env.worker("crashed").await;
    let killed = client.submit(&site.url("/?killed")).await;
    crashed.wait_for_stderr("job started").await;
    crashed.kill9();

    let mut stopped = env.worker("stopped").await;
    let handed_back = client.submit(&site.url("/?handed-back")).await;
    client.wait_status(&handed_back, &["processing"], Duration::from_secs(30)).await;
    stopped.signal("TERM");
    assert_eq!(stopped.wait_exit(Duration::from_secs(10)).await, 0);
    assert!(stopped.stderr().contains("handed back"), "{}", stopped.stderr());

    let _survivor = env.worker("survivor").await;
    // A worker killed inside a Firestore transaction leaves the job's document locked until the
    // transaction expires, and claims of the job wait for that (seen to take over a minute on
    // the emulator under load): the job must still complete, however late.
    let started = std::time::Instant::now();
    for id in [&handed_back, &killed] {
        let done = client.wait_status(id, &["completed", "failed"], Duration::from_secs(240)).await;
        assert_eq!(done["status"], "completed", "{done}");
    }
    println!("both jobs completed {:.0} s after the survivor started", started.elapsed().as_secs_f64());
}

/// The original's three services as separate processes: a job's events reach its webhook URL
/// and a registered endpoint, signed, through Pub/Sub and Firestore; a webhooks process killed
/// with deliveries pending loses none of them.
#[tokio::test(flavor = "multi_thread")]
async fn webhooks_run_as_their_own_process() {
    use crate::helpers::{Receiver, Reply, register, settled_log, submit_with_hook};
    let site = Site::company(Duration::ZERO).await;
    let receiver = Receiver::start().await;
    receiver.script("/endpoint", &(0..100).map(|_| Reply::Status(503)).collect::<Vec<_>>());
    let env = TestEnv::gcp()
        .set("KRAWLR_WEBHOOK_SCHEDULE", "0s,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms")
        .set("KRAWLR_WEBHOOK_POLL_INTERVAL_SECONDS", "0.1")
        // A delivery killed mid-attempt comes back when its lease (timeout + 30 s) runs out.
        .set("KRAWLR_WEBHOOK_TIMEOUT_SECONDS", "2");
    let (_api, base) = env.serve("api", "api").await;
    let _worker = env.worker("worker").await;
    let mut hooks = env.spawn("webhooks1", &["webhooks"]);
    hooks.wait_for_stderr("webhooks started").await;
    let client = Client::new(&base, KEY);
    let (endpoint, _) = register(&client, &receiver.url("/endpoint"), &["scrape.completed"]).await;
    let id = submit_with_hook(&client, &site.url("/"), &receiver.url("/job")).await;
    client.wait_status(&id, &["completed"], Duration::from_secs(60)).await;

    let to_job = receiver.wait_delivered("/job", 1, Duration::from_secs(30)).await;
    let body: serde_json::Value = serde_json::from_str(&to_job[0].body).unwrap();
    assert_eq!((body["type"].as_str(), body["data"]["job_id"].as_str()), (Some("scrape.completed"), Some(id.as_str())));
    assert!(to_job[0].signature.starts_with("v1,"), "{:?}", to_job[0]);

    // The endpoint refuses for now: its delivery waits in Firestore while the process dies. The
    // kill comes once a refused attempt is on record (a process killed between the receiver's
    // answer and writing it down leaves no trace of that attempt, rightly), so the log must end
    // with that attempt and the later successful one.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (code, body) = client.get(&format!("/api/v1/webhooks/{endpoint}/deliveries")).await;
        assert_eq!(code, 200, "{body}");
        let recorded = body["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["attempts"].as_array().is_some_and(|a| a.iter().any(|a| a["status_code"] == 503)));
        if recorded {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no refused attempt was recorded: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    hooks.kill9();
    receiver.script("/endpoint", &[]);
    let hooks = env.spawn("webhooks2", &["webhooks"]);
    hooks.wait_for_stderr("webhooks started").await;
    receiver.wait_delivered("/endpoint", 1, Duration::from_secs(90)).await;
    let log = settled_log(&client, &endpoint, 1).await;
    assert_eq!(log[0]["status"], "delivered", "{log:?}");
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 2 && attempts[0]["status_code"] == 503, "{log:?}");
}

/// `krawlr queue stats` on gcp reads Cloud Monitoring, which Pub/Sub keeps its figures in. Cloud
/// Monitoring cannot run here (no emulator exists), so a stand-in on 127.0.0.1 answers
/// `timeSeries.list` in its REST shape; the subscriptions themselves are the emulator's.
#[tokio::test(flavor = "multi_thread")]
async fn queue_stats_read_cloud_monitoring() {
    use axum::extract::{Path, Query};
    use std::collections::HashMap;
    let env = TestEnv::gcp();
    assert_eq!(env.run(&["setup"]).0, 0);
    let project = env.var("GCP_PROJECT_ID");
    let seen: std::sync::Arc<std::sync::Mutex<Vec<HashMap<String, String>>>> = Default::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/v3/projects/{project}/timeSeries",
        axum::routing::get(move |Path(p): Path<String>, Query(q): Query<HashMap<String, String>>| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(q.clone());
                let filter = &q["filter"];
                let metric = filter.split("subscription/").nth(1).unwrap().split('"').next().unwrap().to_string();
                let jobs = filter.contains("subscription_id = \"scrape-jobs-sub\"");
                let value = match (metric.as_str(), jobs) {
                    (_, false) => return axum::Json(serde_json::json!({})),
                    ("num_undelivered_messages", _) => serde_json::json!({"int64Value": "12"}),
                    ("num_outstanding_messages", _) => serde_json::json!({"int64Value": "3"}),
                    ("oldest_unacked_message_age", _) => serde_json::json!({"int64Value": "42"}),
                    ("dead_letter_message_count", _) => serde_json::json!({"int64Value": "2"}),
                    other => panic!("unexpected metric {other:?} for project {p}"),
                };
                // Newest first, as Monitoring answers; an older sample must not be taken.
                let points = serde_json::json!([{"value": value}, {"value": {"int64Value": "999"}}]);
                let points =
                    if metric == "dead_letter_message_count" { serde_json::json!([{"value": value}]) } else { points };
                axum::Json(serde_json::json!({"timeSeries": [{"points": points}]}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (code, out, err) = env.run(&["queue", "stats"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("emulator") && err.contains("Cloud Monitoring"), "{err}");

    let env = env.set("KRAWLR_MONITORING_URL", &url);
    let (code, out, err) = env.run(&["queue", "stats", "--json"]);
    assert_eq!(code, 0, "{err}");
    let stats: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let jobs = stats.iter().find(|s| s["subscription"] == "scrape-jobs-sub").unwrap();
    assert_eq!(jobs["topic"], "scrape-jobs");
    assert_eq!((jobs["backlog"].as_u64(), jobs["in_flight"].as_u64()), (Some(12), Some(3)));
    assert_eq!((jobs["oldest_unacked_age_seconds"].as_f64(), jobs["dead_lettered"].as_u64()), (Some(42.0), Some(2)));
    let idle = stats.iter().find(|s| s["subscription"] == "scrape-completed-webhooks").unwrap();
    assert_eq!((idle["backlog"].as_u64(), idle["dead_lettered"].as_u64()), (Some(0), Some(0)));
    let queries = seen.lock().unwrap().clone();
    let dead = queries.iter().find(|q| q["filter"].contains("dead_letter_message_count")).unwrap();
    assert_eq!(dead["aggregation.perSeriesAligner"], "ALIGN_SUM");
    assert!(queries.iter().all(|q| q["filter"].contains("pubsub_subscription") && q.contains_key("interval.endTime")));
    assert!(queries.iter().all(|q| q["filter"].contains("resource.labels.subscription_id")), "{project}");

    let (code, out, err) = env.run(&["queue", "stats"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.starts_with("scrape-jobs-sub") && l.contains(" 12 ")), "{out}");
}
