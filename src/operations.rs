//! The operator's queue commands, as bull-board, Flower and Sidekiq Web offer them: redrive
//! dead-lettered jobs (`krawlr queue redrive`) and purge a subscription's backlog (`krawlr queue
//! purge`). Every change of a job goes through the relay, so each sends its event.

use crate::config::Topics;
use crate::job::{JobRequested, JobStatus, Transition};
use crate::outbox::Relay;
use crate::queue::{AckId, Purged, ReceivedMessage};
use crate::store::Applied;
use anyhow::bail;
use std::collections::BTreeSet;
use std::time::Duration;

/// Messages asked for in one pull.
const PULL: u64 = 100;

/// What redrive does with one dead letter.
enum Verdict {
    /// The job failed (or was cancelled): it reruns.
    Rerun(String),
    /// The job completed, was rerun already, or is gone: the dead letter is dropped.
    Drop(String),
    /// The workers have not failed the job yet: the dead letter stays for a later redrive.
    Keep(String),
}

/// Reruns the jobs of up to `max` dead letters (all of them by default), printing one line each
/// and a summary; with `dry_run`, only says what it would do.
pub async fn redrive(relay: &Relay, topics: &Topics, max: Option<u64>, dry_run: bool) -> anyhow::Result<()> {
    let broker = relay.broker.as_ref();
    let subscription = &topics.redrive_subscription;
    let limit = max.unwrap_or(u64::MAX);
    let (mut seen, mut rerun, mut dropped, mut waiting) = (0u64, 0u64, 0u64, 0u64);
    // Leased until the end, so that one pass sees each message once; then handed back.
    let mut kept: Vec<AckId> = Vec::new();
    while seen < limit {
        let batch = broker.pull(subscription, PULL.min(limit - seen) as usize).await?;
        if batch.is_empty() {
            break;
        }
        for message in batch {
            seen += 1;
            let verdict = judge(relay, &message, dry_run).await?;
            let (line, keep) = match verdict {
                Verdict::Rerun(line) => {
                    rerun += 1;
                    (line, dry_run)
                }
                Verdict::Drop(line) => {
                    dropped += 1;
                    (line, dry_run)
                }
                Verdict::Keep(line) => {
                    waiting += 1;
                    (line, true)
                }
            };
            println!("{line}");
            if keep {
                kept.push(message.ack_id);
            } else {
                broker.ack(subscription, &[message.ack_id]).await?;
            }
        }
    }
    for ack_id in &kept {
        broker.nack(subscription, ack_id, Some(Duration::ZERO)).await?;
    }
    let (would, note) = if dry_run { ("would be ", " (dry run: nothing changed)") } else { ("", "") };
    println!(
        "{seen} dead letters: {rerun} jobs {would}rerun, {dropped} {would}dropped, {waiting} kept (not failed yet){note}"
    );
    Ok(())
}

async fn judge(relay: &Relay, message: &ReceivedMessage, dry_run: bool) -> anyhow::Result<Verdict> {
    let Ok(request) = serde_json::from_slice::<JobRequested>(&message.data) else {
        return Ok(Verdict::Drop(format!("message {}: not a job request; dropped", message.message_id)));
    };
    let id = request.job_id;
    let Some(job) = relay.store.get_job(&id).await? else {
        return Ok(Verdict::Drop(format!("{id}: no such job (removed, or never stored); dropped")));
    };
    if request.round < job.round {
        return Ok(Verdict::Drop(format!("{id}: rerun since this dead letter; dropped")));
    }
    if !job.status.is_terminal() {
        return Ok(Verdict::Keep(format!("{id}: {}, not failed yet; kept", job.status)));
    }
    if job.status == JobStatus::Completed {
        return Ok(Verdict::Drop(format!("{id}: completed since; dropped")));
    }
    if dry_run {
        return Ok(Verdict::Rerun(format!("{id}: {} ({}); would rerun", job.status, job.error.unwrap_or_default())));
    }
    Ok(match relay.transition(&id, &Transition::Rerun, None).await? {
        Applied::Yes(_) => Verdict::Rerun(format!("{id}: rerun")),
        Applied::No(now) => Verdict::Drop(format!("{id}: {} now; dropped", now.status)),
        Applied::NotFound => Verdict::Drop(format!("{id}: no such job; dropped")),
    })
}

/// Refuses (before touching anything) a subscription that is not krawlr's, or no `--yes`.
pub fn check_purge(topics: &Topics, subscription: &str, yes: bool) -> anyhow::Result<()> {
    if !topics.subscription_names().contains(&subscription) {
        bail!("{subscription} is not one of krawlr's subscriptions: {}", topics.subscription_names().join(", "));
    }
    if !yes {
        bail!("purging drops every message waiting on {subscription}; add --yes to do it");
    }
    Ok(())
}

/// Drops `subscription`'s backlog; for the jobs subscription, cancels the dropped jobs.
pub async fn purge(relay: &Relay, topics: &Topics, subscription: &str) -> anyhow::Result<()> {
    let purged = relay.broker.purge(subscription).await?;
    let count = match &purged {
        Purged::Messages { count, .. } => format!("{count} messages"),
        Purged::Before(_) => "every message published until now".to_string(),
    };
    println!("purged {count} from {subscription}");
    if subscription != topics.jobs_subscription {
        return Ok(());
    }
    // Their messages are gone: the jobs would wait for ever (or for the reconciler to
    // republish them). They are cancelled instead, with the reason.
    let reason = format!("purged from {subscription} by an operator");
    let cancel = Transition::Cancel { reason };
    let mut cancelled = 0;
    match purged {
        Purged::Messages { job_ids, .. } => {
            for id in job_ids.into_iter().collect::<BTreeSet<_>>() {
                if let Applied::Yes(_) = relay.transition(&id, &cancel, None).await? {
                    cancelled += 1;
                }
            }
        }
        // Pub/Sub does not say which messages it dropped: the jobs waiting in the queue
        // (queued or retrying) since before the purge are the ones.
        Purged::Before(at) => loop {
            let waiting = [JobStatus::Queued, JobStatus::Retrying];
            let page = relay.store.jobs_updated_before(&waiting, at, 100).await?;
            let mut changed = 0;
            for job in &page {
                if let Applied::Yes(_) = relay.transition(&job.id, &cancel, None).await? {
                    changed += 1;
                }
            }
            cancelled += changed;
            if page.is_empty() || changed == 0 {
                break;
            }
        },
    }
    println!("cancelled {cancelled} jobs whose messages were purged");
    Ok(())
}
