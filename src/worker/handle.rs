//! One delivery of one job message, from claim to ack.

use super::{Worker, parse_request};
use crate::job::{Job, JobRequested, Stage, Transition};
use crate::queue::{AckId, OutgoingMessage, ReceivedMessage};
use crate::scrape::model::{Validators, report::Report};
use crate::scrape::{Run, STAGES, ScrapeError};
use crate::store::{Applied, StoreError};
use futures_util::FutureExt;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing::{debug, info, warn};
use url::Url;

/// How a run ended, and so what happens to its message.
enum Outcome {
    Done(Box<Report>),
    Failed(ScrapeError),
    /// Cancelled, or claimed by a newer delivery after this one's lease lapsed: the job is no
    /// longer this delivery's.
    Superseded,
    /// The store could not be written; the message comes back after its backoff.
    StoreTrouble(StoreError),
    /// Shutdown ran out of grace.
    Interrupted,
    /// Another consumer holds the message now.
    LeaseLost,
}

/// What a caught panic said, for the job's error.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// How long a job whose site is busy waits in the queue before it asks again (plus up to 1 s
/// of jitter, so that waiting jobs do not come back together).
const HOST_BUSY_PAUSE: Duration = Duration::from_secs(1);

impl Worker {
    pub(super) async fn handle(&self, message: ReceivedMessage, hard_stop: CancellationToken) {
        let Some(request) = parse_request(&message) else {
            self.ack(&message.ack_id).await;
            return;
        };
        let attempt = message.delivery_attempt;
        // Everything the job does is logged with its id, delivery attempt and current stage.
        let span = tracing::info_span!("job", job_id = %request.job_id, attempt, stage = tracing::field::Empty);
        self.handle_job(&request, message, hard_stop).instrument(span).await
    }

    async fn handle_job(&self, request: &JobRequested, message: ReceivedMessage, hard_stop: CancellationToken) {
        // A site's slot first: a job whose site is busy goes back to the queue unclaimed, and
        // holds no worker slot while it waits.
        let slot = self.host_slot(request, &message);
        if let Some((host, holder)) = &slot {
            let until = crate::job::now_ms() + self.queue.ack_deadline.as_millis() as i64;
            match self.store.acquire_host_slot(host, holder, self.settings.jobs_per_host, until).await {
                Ok(true) => {}
                Ok(false) => return self.hand_back_for_host(request, &message, host).await,
                Err(e) => {
                    warn!(error = %e, "could not take the site's slot; the job comes back after backoff");
                    return self.nack(&message.ack_id, None).await;
                }
            }
        }
        self.claim_and_run(&request.job_id, &message, hard_stop).await;
        if let Some((host, holder)) = &slot {
            if let Err(e) = self.store.release_host_slot(host, holder).await {
                warn!(error = %e, %host, "could not release the host's slot; it expires by itself");
            }
        }
    }

    /// The site has as many jobs running as it may: the message comes back after a pause. A
    /// pause costs a delivery attempt, so before the last one the message is published anew
    /// (due at once, and paused on its next delivery) instead, and waiting for a site never
    /// exhausts a job's attempts.
    async fn hand_back_for_host(&self, request: &JobRequested, message: &ReceivedMessage, host: &str) {
        let pause = HOST_BUSY_PAUSE + Duration::from_millis(rand::random_range(0..1000));
        debug!(%host, ?pause, "the site's job slots are taken; handing the job back");
        if message.delivery_attempt + 1 < self.queue.max_delivery_attempts {
            return self.nack(&message.ack_id, Some(pause)).await;
        }
        let fresh = OutgoingMessage::json(request, &request.job_id);
        match self.broker.publish(&self.topics.jobs, &[fresh]).await {
            Ok(_) => self.ack(&message.ack_id).await,
            Err(e) => {
                warn!(error = %e, "could not publish the job anew; it comes back after backoff");
                self.nack(&message.ack_id, Some(pause)).await
            }
        }
    }

    async fn claim_and_run(&self, job_id: &str, message: &ReceivedMessage, hard_stop: CancellationToken) {
        let claim = Transition::Claim {
            holder: format!("{}#{}", message.message_id, message.delivery_attempt),
            lease_ms: self.store_lease().as_millis() as i64,
        };
        let job = match self.relay.transition(job_id, &claim, None).await {
            Ok(Applied::Yes(job)) => job,
            Ok(Applied::No(job)) if job.status.is_terminal() => {
                debug!(status = %job.status, "already finished; acking the redelivery");
                return self.ack(&message.ack_id).await;
            }
            Ok(Applied::No(job)) => {
                // Should that delivery die, its lease lapses and its own message comes back (or
                // the reconciler republishes the job): this duplicate is not needed.
                info!(status = %job.status, "a live delivery runs this job; acking the duplicate");
                return self.ack(&message.ack_id).await;
            }
            Ok(Applied::NotFound) => {
                warn!("no such job; dropping its message");
                return self.ack(&message.ack_id).await;
            }
            Err(e) => {
                warn!(error = %e, "could not claim the job; it comes back after backoff");
                return self.nack(&message.ack_id, None).await;
            }
        };
        info!(url = %job.url, "job started");

        // The attempt owns everything it runs: the stages, and the lease keeper beside them in
        // the same `select!`. Whichever way the attempt ends (done, failed, panicked, past its
        // deadline, interrupted, lease lost), the keeper stops with it.
        let deadline = self.settings.job_timeout;
        let stages = std::panic::AssertUnwindSafe(self.run_stages(&job)).catch_unwind();
        let outcome = tokio::select! {
            ran = tokio::time::timeout(deadline, stages) => match ran {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(panic)) => Outcome::Failed(ScrapeError::Internal(panic_message(panic.as_ref()))),
                Err(_) => Outcome::Failed(ScrapeError::DeadlineExceeded(deadline)),
            },
            _ = hard_stop.cancelled() => Outcome::Interrupted,
            lost = self.keep_lease(&job, &message.ack_id) => lost,
        };
        self.settle(&job, message, outcome).await;
    }

    /// The job's site and this delivery's claim on it, when jobs per host are limited across
    /// workers (`KRAWLR_JOBS_PER_HOST`, held in the store so that it holds across every worker).
    fn host_slot(&self, request: &JobRequested, message: &ReceivedMessage) -> Option<(String, String)> {
        let limit = self.settings.jobs_per_host;
        let host = Url::parse(&request.url).ok()?.host_str()?.trim_start_matches("www.").to_string();
        let holder = format!("{}#{}#{}", request.job_id, message.message_id, message.delivery_attempt);
        (limit > 0).then_some((host, holder))
    }

    /// Runs the stages, recording each before it starts.
    async fn run_stages(&self, job: &Job) -> Outcome {
        if let Some(report) = self.unchanged(job).await {
            if let Some(early) = self.progress(job, Stage::Saving, report.company.name.clone()).await {
                return early;
            }
            return Outcome::Done(Box::new(report));
        }
        let mut run = Run::new(&self.scraper, job.url.clone(), &job.options);
        for stage in STAGES {
            if stage != Stage::Starting {
                if let Some(early) = self.progress(job, stage, run.company_name()).await {
                    return early;
                }
            }
            tracing::Span::current().record("stage", stage.as_str());
            let started = std::time::Instant::now();
            let stepped = run.step(stage).await;
            crate::metrics::METRICS.stage_finished(stage, started.elapsed().as_secs_f64());
            if let Err(e) = stepped {
                return Outcome::Failed(e);
            }
        }
        if let Some(early) = self.progress(job, Stage::Saving, run.company_name()).await {
            return early;
        }
        Outcome::Done(Box::new(run.finish()))
    }

    /// A monitor's run of a site whose every page and feed answers `304 Not Modified` to the
    /// validators of the last report: that report again, marked unchanged, without a crawl.
    /// Reports with SEC figures or an external news feed are always made afresh (those sources
    /// change without the site).
    async fn unchanged(&self, job: &Job) -> Option<Report> {
        let monitor = self.store.get_monitor(job.monitor_id.as_deref()?).await.ok()??;
        let baseline = crate::monitor::baseline(self.store.as_ref(), &monitor).await.ok()??;
        let baseline: Report = serde_json::from_value(baseline).ok()?;
        let from = monitor.baseline_job_id?;
        let fresh_elsewhere = baseline.financials.as_ref().is_some_and(|f| f.ticker.is_some())
            || self.scraper.fetcher.settings().news_feed_url.is_some();
        let website = baseline.website.as_ref().filter(|_| !fresh_elsewhere)?;
        let asked: Vec<(&str, &Validators)> = website
            .pages
            .iter()
            .map(|p| (p.url.as_str(), &p.validators))
            .chain(website.feeds.iter().map(|f| (f.url.as_str(), &f.validators)))
            .collect();
        if asked.is_empty() || asked.iter().any(|(_, validators)| validators.is_empty()) {
            return None;
        }
        for (url, validators) in &asked {
            let url = Url::parse(url).ok()?;
            if !self.scraper.fetcher.not_modified(&url, validators).await {
                return None;
            }
        }
        let asked = asked.len();
        info!(pages = asked, since = %from, "the site answered 304 Not Modified throughout; its report stands");
        let mut report = baseline;
        report.scraped_at = crate::job::rfc3339(crate::job::now_ms());
        let coverage = report.coverage.get_or_insert_with(Default::default);
        coverage.unchanged_since = Some(from.clone());
        coverage.note = Some(format!(
            "unchanged since job {from}: its {asked} pages and feeds answered 304 Not Modified, so its report stands"
        ));
        Some(report)
    }

    /// Records the stage (and the company's name, once known); `Some` when the job must stop here.
    async fn progress(&self, job: &Job, stage: Stage, company_name: Option<String>) -> Option<Outcome> {
        let t = Transition::Progress { attempt: job.attempt, stage, company_name };
        match self.relay.transition(&job.id, &t, None).await {
            Ok(Applied::Yes(_)) => {
                debug!(%stage, "stage");
                None
            }
            Ok(Applied::No(_) | Applied::NotFound) => Some(Outcome::Superseded),
            Err(e) => Some(Outcome::StoreTrouble(e)),
        }
    }

    async fn settle(&self, job: &Job, message: &ReceivedMessage, outcome: Outcome) {
        let attempt = job.attempt;
        let ack_id = &message.ack_id;
        match outcome {
            Outcome::Done(report) => {
                let report = serde_json::to_value(&report).expect("reports serialize");
                let t = Transition::Complete { attempt };
                match self.relay.transition(&job.id, &t, Some(&report)).await {
                    Ok(Applied::Yes(done)) => {
                        info!("job completed");
                        crate::metrics::METRICS.job_finished(done.status);
                        self.ack(ack_id).await
                    }
                    Ok(_) => self.ack(ack_id).await,
                    Err(e) => {
                        warn!(error = %e, "could not store the result; the job will run again");
                        self.nack(ack_id, None).await
                    }
                }
            }
            Outcome::Failed(e) => {
                // With its causes: "robots.txt of … could not be read: HTTP 503 from …".
                let reason = crate::telemetry::chain(&e);
                let last = message.delivery_attempt >= self.queue.max_delivery_attempts;
                if e.is_transient() && !last {
                    let t = Transition::Retry { attempt, reason };
                    if let Ok(Applied::Yes(_)) = self.relay.transition(&job.id, &t, None).await {
                        warn!(error = %e, "transient failure; retrying after backoff");
                    }
                    return self.nack(ack_id, None).await;
                }
                let t = Transition::Fail { attempt, reason };
                match self.relay.transition(&job.id, &t, None).await {
                    Ok(Applied::Yes(failed)) => {
                        warn!(error = %e, permanent = !e.is_transient(), "job failed");
                        crate::metrics::METRICS.job_finished(failed.status);
                    }
                    Ok(_) => {}
                    Err(store) => {
                        warn!(error = %store, "could not record the failure; the job will run again");
                        return self.nack(ack_id, None).await;
                    }
                }
                if e.is_transient() {
                    // Out of attempts: the nack sends the message to the dead-letter topic.
                    self.nack(ack_id, None).await
                } else {
                    self.ack(ack_id).await
                }
            }
            Outcome::Superseded => {
                info!("job was taken over or cancelled; stopping");
                self.ack(ack_id).await
            }
            Outcome::StoreTrouble(e) => {
                warn!(error = %e, "store unavailable; the job comes back after backoff");
                self.nack(ack_id, None).await
            }
            Outcome::Interrupted => {
                let _ = self.relay.transition(&job.id, &Transition::Release { attempt }, None).await;
                info!("handed back to the queue at shutdown");
                self.nack(ack_id, Some(Duration::ZERO)).await
            }
            Outcome::LeaseLost => warn!("lease lost to another consumer; leaving the job to it"),
        }
    }

    /// How long a claim or heartbeat holds the job in the store: the broker's lease less a
    /// tenth, so that the job is free again by the time the broker hands its message to another
    /// consumer (the claim follows the pull; the heartbeat is written before the extension).
    fn store_lease(&self) -> Duration {
        self.queue.ack_deadline.mul_f64(0.9)
    }

    /// Every third of the ack deadline: records a heartbeat on the job (which renews its lease
    /// in the store and keeps the reconciler away), then extends the message's lease. Returns
    /// only when either is gone: `Superseded` when the job was cancelled or taken over,
    /// `LeaseLost` when the broker handed the message to another consumer.
    async fn keep_lease(&self, job: &Job, ack_id: &AckId) -> Outcome {
        let subscription = &self.topics.jobs_subscription;
        let deadline = self.queue.ack_deadline;
        let heartbeat = Transition::Heartbeat { attempt: job.attempt, lease_ms: self.store_lease().as_millis() as i64 };
        let mut tick = tokio::time::interval(deadline / 3);
        tick.tick().await;
        loop {
            tick.tick().await;
            match self.relay.transition(&job.id, &heartbeat, None).await {
                Ok(Applied::Yes(_)) => {}
                Ok(_) => return Outcome::Superseded,
                Err(e) => warn!(error = %e, "could not record a heartbeat; trying again"),
            }
            match self.broker.extend_lease(subscription, ack_id, deadline).await {
                Ok(true) => {}
                Ok(false) => return Outcome::LeaseLost,
                Err(e) => warn!(error = %e, "could not extend the lease; trying again"),
            }
        }
    }

    async fn ack(&self, ack_id: &AckId) {
        if let Err(e) = self.broker.ack(&self.topics.jobs_subscription, std::slice::from_ref(ack_id)).await {
            warn!(error = %e, "ack failed; the message will be redelivered and acked then");
        }
    }

    async fn nack(&self, ack_id: &AckId, delay: Option<Duration>) {
        if let Err(e) = self.broker.nack(&self.topics.jobs_subscription, ack_id, delay).await {
            warn!(error = %e, "nack failed; the message comes back when its lease expires");
        }
    }
}
