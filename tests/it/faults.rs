//! Faults on purpose: workers and the api killed with SIGKILL at random moments, the broker
//! forgetting every message. Nothing is lost: every accepted job completes exactly once, with one
//! result, and none is left `processing`. Each test is bounded in time.

use crate::helpers::{Client, KEY, Proc, Site, TestEnv};
use krawlr::job::JobStatus;
use rand::Rng;
use std::time::{Duration, Instant};

/// Settings for a run where workers die: short leases, so a dead worker's jobs come back soon,
/// and enough attempts that a job killed again and again still completes.
/// (Pub/Sub's shortest lease is 10 s, which the gcp settings already ask for.)
fn crash_prone(env: TestEnv) -> TestEnv {
    let lease = if env.var("KRAWLR_ACK_DEADLINE_SECONDS").is_empty() { 2 } else { 10 };
    env.set("KRAWLR_ACK_DEADLINE_SECONDS", &lease.to_string())
        .set("KRAWLR_MAX_DELIVERY_ATTEMPTS", "50")
        .set("KRAWLR_RETRY_MIN_BACKOFF_SECONDS", "0.1")
        .set("KRAWLR_RETRY_MAX_BACKOFF_SECONDS", "0.5")
        .set("KRAWLR_WORKER_CONCURRENCY", "4")
        .set("KRAWLR_PER_HOST_CONCURRENCY", "16")
        .set("KRAWLR_RECONCILE_AFTER_SECONDS", &(lease * 2 + 1).to_string())
        .set("KRAWLR_RECONCILE_INTERVAL_SECONDS", "1")
}

/// Every job ends `completed`, reached exactly once by its record, with its one result.
async fn all_completed_once(env: &TestEnv, client: &Client, ids: &[String], within: Duration) {
    let deadline = Instant::now() + within;
    for id in ids {
        let left = deadline.saturating_duration_since(Instant::now());
        let status = client.wait_status(id, &["completed", "failed"], left.max(Duration::from_secs(1))).await;
        assert_eq!(status["status"], "completed", "{status}");
    }
    let backend = env.backend().await;
    for id in ids {
        let job = backend.store.get_job(id).await.unwrap().unwrap();
        let completions = job.history.iter().filter(|c| c.status == JobStatus::Completed).count();
        assert_eq!(completions, 1, "{id} completed {completions} times: {:?}", job.history);
        assert!(backend.store.get_result(id).await.unwrap().is_some(), "{id} has no result");
    }
    let counts = backend.store.count_jobs_by_status().await.unwrap();
    let unfinished: u64 =
        counts.iter().filter(|(s, _)| !matches!(s, JobStatus::Completed | JobStatus::Failed)).map(|(_, n)| n).sum();
    assert_eq!(unfinished, 0, "jobs left unfinished: {counts:?}");
}

/// Kills one of `workers` with SIGKILL every 0.2–0.9 s and starts a new one in its place, while
/// the jobs run; returns how many were killed while holding a job.
async fn kill_workers_at_random(env: &TestEnv, workers: &mut [Proc], client: &Client, ids: &[String]) -> usize {
    let mut killed_busy = 0;
    let mut spawned = workers.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let pause = rand::rng().random_range(200..900);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let done =
            client.get("/api/v1/scrape?status=completed&limit=100").await.1["jobs"].as_array().map_or(0, |j| j.len());
        if done >= ids.len() * 4 / 5 {
            break;
        }
        let victim = rand::rng().random_range(0..workers.len());
        let log = workers[victim].stderr();
        if log.matches("job started").count() > log.matches("job completed").count() {
            killed_busy += 1;
        }
        workers[victim].kill9();
        spawned += 1;
        workers[victim] = env.spawn(&format!("worker{spawned}"), &["worker"]);
    }
    killed_busy
}

async fn workers_killed_at_random(env: TestEnv) {
    let site = Site::company(Duration::from_millis(600)).await;
    let env = crash_prone(env);
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let mut workers = vec![env.worker("worker0").await, env.worker("worker1").await];
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(client.submit(&site.url(&format!("/?n={i}"))).await);
    }
    let killed = kill_workers_at_random(&env, &mut workers, &client, &ids).await;
    all_completed_once(&env, &client, &ids, Duration::from_secs(90)).await;
    println!("{} jobs, {killed} workers killed holding jobs, 0 lost", ids.len());
    assert!(killed >= 3, "the test killed only {killed} busy workers");
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_killed_at_random_lose_no_job() {
    workers_killed_at_random(TestEnv::new()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_killed_at_random_lose_no_job_on_gcp() {
    workers_killed_at_random(TestEnv::gcp()).await;
}

/// A port free now, for a process that must come back on the same address.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_killed_during_a_burst_loses_no_accepted_job() {
    let site = Site::company(Duration::ZERO).await;
    let port = free_port();
    let env = crash_prone(TestEnv::new()).set("KRAWLR_LISTEN", &format!("127.0.0.1:{port}"));
    let (mut api, base) = env.serve("api", "api").await;
    let _worker = env.worker("worker").await;
    let client = Client::new(&base, KEY);
    let stop = tokio_util::sync::CancellationToken::new();
    let mut senders = tokio::task::JoinSet::new();
    for task in 0..8 {
        let (client, stop, url) = (client.clone(), stop.clone(), site.url(&format!("/?task={task}")));
        senders.spawn(async move {
            let (mut accepted, mut failed) = (Vec::new(), 0);
            while !stop.is_cancelled() {
                tokio::time::sleep(Duration::from_millis(25)).await;
                let res = submit_request(&client, &url, Duration::from_secs(5)).send().await;
                match res {
                    Ok(res) if res.status() == 202 => {
                        let body: serde_json::Value = res.json().await.unwrap();
                        accepted.push(body["scrape_id"].as_str().unwrap().to_string());
                    }
                    Ok(res) => panic!("a submit answered {}", res.status()),
                    // The api is down or died mid-request: the client does not know.
                    Err(_) => failed += 1,
                }
            }
            (accepted, failed)
        });
    }
    let mut kills = 0;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(100..400))).await;
        api.kill9();
        kills += 1;
        // Down for a moment before it comes back: a restart faster than a sender's next request
        // (the HTTP client retries a request its pooled connection lost) would meet no dead api.
        tokio::time::sleep(Duration::from_millis(150)).await;
        api = env.spawn(&format!("api{kills}"), &["api"]);
        api.wait_for_stdout("krawlr listening on ").await;
    }
    stop.cancel();
    let (mut accepted, mut unanswered) = (Vec::new(), 0);
    while let Some(sent) = senders.join_next().await {
        let (ids, failed) = sent.unwrap();
        accepted.extend(ids);
        unanswered += failed;
    }
    // Every job that exists — answered 202 or not — runs to its end; the 202s are among them.
    let stored: Vec<String> = stored_job_ids(&env);
    for id in &accepted {
        assert!(stored.contains(id), "{id} was accepted but is not stored");
    }
    all_completed_once(&env, &client, &stored, Duration::from_secs(60)).await;
    println!(
        "{} submits accepted, {unanswered} unanswered, {} jobs stored, {kills} api kills, all completed",
        accepted.len(),
        stored.len()
    );
    assert!(unanswered > 0, "no submit met a dead api: the kills missed the burst");
}

/// An emulator of this test's own (the shared ones must not restart under other tests), in its
/// own process group, stopped with it.
struct Emulator {
    child: std::process::Child,
    args: Vec<String>,
    log: std::path::PathBuf,
    /// What it prints once it serves.
    ready: &'static str,
}

impl Emulator {
    async fn pubsub(host: &str, log: std::path::PathBuf) -> Emulator {
        let args = ["beta", "emulators", "pubsub", "start", &format!("--host-port={host}"), "--project=krawlr-faults"];
        Emulator::start(&args, log, "Server started").await
    }

    async fn firestore(host: &str, log: std::path::PathBuf) -> Emulator {
        let args = ["emulators", "firestore", "start", &format!("--host-port={host}")];
        Emulator::start(&args, log, "Dev App Server is now running").await
    }

    async fn start(args: &[&str], log: std::path::PathBuf, ready: &'static str) -> Emulator {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let child = Emulator::spawn(&args, &log);
        let emulator = Emulator { child, args, log, ready };
        emulator.wait_ready().await;
        emulator
    }

    fn spawn(args: &[String], log: &std::path::Path) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        let out = std::fs::File::create(log).unwrap();
        std::process::Command::new("gcloud")
            .args(args)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("gcloud, with the emulators")
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(&self.log).unwrap_or_default().contains(self.ready) {
            assert!(Instant::now() < deadline, "the emulator did not start: {}", self.log.display());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn stop(&mut self) {
        if self.child.try_wait().is_ok_and(|exited| exited.is_some()) {
            return;
        }
        let group = format!("-{}", self.child.id());
        let _ = std::process::Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }

    /// Kills it, forgetting every topic, subscription and message, and starts it afresh.
    async fn restart(&mut self) {
        self.stop();
        self.child = Emulator::spawn(&self.args, &self.log);
        self.wait_ready().await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_outlive_a_pub_sub_that_forgets_everything() {
    let port = free_port();
    let host = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let mut pubsub = Emulator::pubsub(&host, dir.path().join("pubsub.log")).await;
    let site = Site::company(Duration::from_millis(500)).await;
    let env = crash_prone(TestEnv::gcp()).set("PUBSUB_EMULATOR_HOST", &host).set("KRAWLR_RECONCILE_AFTER_SECONDS", "6");
    let (api, base) = env.serve("api", "api").await;
    let worker = env.worker("worker").await;
    let client = Client::new(&base, KEY);
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(client.submit(&site.url(&format!("/?n={i}"))).await);
    }
    client.wait_status(&ids[0], &["processing", "completed"], Duration::from_secs(20)).await;
    let started = Instant::now();
    pubsub.restart().await;
    println!("the emulator was down {:.1} s", started.elapsed().as_secs_f32());
    // Submits while the topics are gone are stored, answered 202, and published later.
    for i in 30..35 {
        ids.push(client.submit(&site.url(&format!("/?n={i}"))).await);
    }
    all_completed_once(&env, &client, &ids, Duration::from_secs(90)).await;
    let log = worker.stderr();
    // Whichever process met the loss first (the worker pulling, the api relaying a submit).
    assert!(format!("{log}{}", api.stderr()).contains("recreated them"), "the topology was put back");
    let republished = log.matches("republished a job whose message seems lost").count();
    println!("{} jobs, {republished} republished by the reconciler, 0 lost", ids.len());
    assert!(republished > 0);
}

/// `POST /api/v1/scrape/company` for `url`, not yet sent.
fn submit_request(client: &Client, url: &str, timeout: Duration) -> reqwest::RequestBuilder {
    client
        .http
        .post(format!("{}/api/v1/scrape/company", client.base))
        .bearer_auth(&client.key)
        .json(&serde_json::json!({ "url": url }))
        .timeout(timeout)
}

/// Every job in the embedded store, whether its submit was answered or not.
fn stored_job_ids(env: &TestEnv) -> Vec<String> {
    let db = env.db();
    let mut statement = db.prepare("SELECT id FROM jobs").unwrap();
    statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

/// Submits one job: the status code and the error body.
async fn try_submit(client: &Client, url: &str) -> (u16, serde_json::Value, Option<String>) {
    let res = submit_request(client, url, Duration::from_secs(30)).send().await.unwrap();
    let code = res.status().as_u16();
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (code, res.json().await.unwrap_or_default(), retry_after)
}

fn assert_unavailable((code, body, retry_after): (u16, serde_json::Value, Option<String>)) {
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(retry_after.is_some(), "a 503 says when to come back");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_database_answers_503_then_service_resumes() {
    let site = Site::company(Duration::ZERO).await;
    let env = TestEnv::new();
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let first = client.submit(&site.url("/")).await;
    client.wait_status(&first, &["completed"], Duration::from_secs(20)).await;
    // Another process holds the write lock longer than krawlr's 5 s busy timeout.
    let db = env.db();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let before = env.count("SELECT count(*) FROM jobs");
    assert_unavailable(try_submit(&client, &site.url("/?locked")).await);
    assert_eq!(client.status(&first).await["status"], "completed", "reads go on while writes wait");
    db.execute_batch("ROLLBACK").unwrap();
    assert_eq!(env.count("SELECT count(*) FROM jobs"), before, "nothing half-written");
    let (code, body, _) = try_submit(&client, &site.url("/?after")).await;
    assert_eq!(code, 202, "{body}");
    let id = body["scrape_id"].as_str().unwrap();
    client.wait_status(id, &["completed"], Duration::from_secs(20)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_answers_503_then_service_resumes() {
    let site = Site::company(Duration::ZERO).await;
    // A job whose write and then nack met the full disk comes back when its lease ends: short
    // leases, so that the test sees every accepted job complete.
    let env = TestEnv::new().set("KRAWLR_ACK_DEADLINE_SECONDS", "5");
    let data = env.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
        .arg(&data)
        .status()
        .expect("mount");
    assert!(mounted.success(), "this test mounts an 8 MB tmpfs as its data dir: it needs root (CI runs as root)");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(data.clone());
    let (up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let first = client.submit(&site.url("/")).await;
    client.wait_status(&first, &["completed"], Duration::from_secs(20)).await;
    // Fill the disk to the last byte; then empty the WAL (its file keeps room that writes could
    // reuse without the disk) and fill the room that gives back too.
    let filler = data.join("filler");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&filler).unwrap();
        let fill = |file: &mut std::fs::File| {
            let block = vec![0u8; 64 * 1024];
            while file.write_all(&block).is_ok() {}
            while file.write_all(&block[..512]).is_ok() {}
            while file.write_all(&[0]).is_ok() {}
        };
        fill(&mut file);
        let _ = env.db().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        fill(&mut file);
        let _ = file.sync_all();
    }
    let jobs = env.count("SELECT count(*) FROM jobs");
    let mut refused = 0;
    for i in 0..5 {
        let (code, body, retry_after) = try_submit(&client, &site.url(&format!("/?full={i}"))).await;
        if code == 202 {
            continue; // a page of the WAL had room left
        }
        assert_unavailable((code, body, retry_after));
        refused += 1;
    }
    assert!(refused > 0, "no submit met the full disk");
    assert_eq!(client.status(&first).await["status"], "completed", "reads go on");
    let (code, body) = client.get("/readyz").await;
    assert_eq!(code, 503, "not ready while writes fail: {body}");
    // A little space comes back (1 MB of the 8): the WAL is emptied before writes resume, so
    // retried writes do not fill it again.
    let file = std::fs::OpenOptions::new().write(true).open(&filler).unwrap();
    file.set_len(file.metadata().unwrap().len().saturating_sub(1 << 20)).unwrap();
    drop(file);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while client.get("/readyz").await.0 != 200 {
        assert!(std::time::Instant::now() < deadline, "never ready again after space was freed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (code, body, _) = try_submit(&client, &site.url("/?after")).await;
    assert_eq!(code, 202, "{body}");
    let id = body["scrape_id"].as_str().unwrap().to_string();
    client.wait_status(&id, &["completed"], Duration::from_secs(20)).await;
    // Whatever was accepted while the disk filled completes too: nothing half-written.
    let stored: Vec<String> = stored_job_ids(&env);
    assert!(stored.len() as i64 > jobs, "the job after the disk came back is stored");
    all_completed_once(&env, &client, &stored, Duration::from_secs(30)).await;
    // More work in the little space there is: the WAL is cut back rather than filling it.
    for i in 0..5 {
        let id = client.submit(&site.url(&format!("/?more={i}"))).await;
        client.wait_status(&id, &["completed"], Duration::from_secs(20)).await;
    }
    // And a restart on that disk recovers.
    drop(up);
    let (_up, base) = env.serve("up-again", "up").await;
    let client = Client::new(&base, KEY);
    assert_eq!(client.get("/readyz").await.0, 200);
    let id = client.submit(&site.url("/?restarted")).await;
    client.wait_status(&id, &["completed"], Duration::from_secs(20)).await;
    println!("{refused} of 5 submits refused with 503 on a full disk; {} jobs, all completed", stored.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn firestore_down_answers_503_then_service_resumes() {
    let host = format!("127.0.0.1:{}", free_port());
    let dir = tempfile::tempdir().unwrap();
    let mut firestore = Emulator::firestore(&host, dir.path().join("firestore.log")).await;
    let env = TestEnv::gcp().set("FIRESTORE_EMULATOR_HOST", &host);
    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, KEY);
    let id = client.submit("https://example.com/").await;
    firestore.stop();
    let started = Instant::now();
    assert_unavailable(try_submit(&client, "https://example.com/?down").await);
    let (code, body) = client.get(&format!("/api/v1/scrape/status/{id}")).await;
    assert_eq!((code, body["error"]["code"].as_str()), (503, Some("unavailable")), "{body}");
    println!("503 within {:.1} s of Firestore going down", started.elapsed().as_secs_f32());
    firestore.restart().await;
    // The emulator forgot everything, the api's key included: the api puts it back at start
    // only, so this checks that the api reconnects by itself, with a key created anew.
    let key = env.create_key("after");
    let client = Client::new(&base, &key);
    let (code, body, _) = try_submit(&client, "https://example.com/?up").await;
    assert_eq!(code, 202, "{body}");
}
