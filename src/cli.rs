//! The command line: `krawlr up | api | worker | webhooks | setup | scrape | keys | queue`,
//! and the client of a running server (`submit | status | result | jobs | cancel | retry`). Settings come
//! from the environment (and `.env`); the flags here only choose what to do.

use crate::app::{self, Parts};
use crate::config::Settings;
use crate::job::Stage;
use crate::queue::Ensured;
use crate::scrape::{Run, STAGES};
use anyhow::Context;
use clap::{Parser, Subcommand};
use futures_util::FutureExt;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "krawlr", version, about = "Company website reports, asynchronously and at scale")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the api, a worker and the webhook sender in one process (embedded backend: zero set-up)
    Up,
    /// Run only the HTTP API
    Api,
    /// Run only a worker (several may run at once)
    Worker,
    /// Run only the webhook sender (several may run at once)
    Webhooks,
    /// Create the topics, subscriptions and data the backend needs (idempotent)
    Setup,
    /// Scrape one site in the foreground and print its report as JSON
    Scrape {
        url: String,
        /// Indent the JSON
        #[arg(long)]
        pretty: bool,
    },
    /// One page's metadata as JSON (title, description, icons, JSON-LD, Open Graph, …)
    Extract {
        /// An HTML file, or - for standard input
        file: String,
        /// The address the page was fetched from (resolves relative links)
        #[arg(long)]
        url: String,
    },
    /// The JSON Schema of the report (what GET /api/v1/scrape/{id} and `scrape` return)
    Schema,
    /// Manage API keys
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Inspect and operate the queue
    Queue {
        #[command(subcommand)]
        command: QueueCommand,
    },
    #[command(flatten)]
    Client(crate::client::ClientCommand),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key and print it, then its default webhook signing secret (shown only once)
    Create {
        #[arg(long, default_value = "unnamed")]
        name: String,
    },
    /// List keys (never their secrets)
    List,
    /// Revoke a key by its id (key_…)
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
enum QueueCommand {
    /// Backlog, in flight, oldest unacked age and dead-lettered, per subscription
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Give dead-lettered jobs a fresh round of attempts: each message kept on the dead-letter
    /// topic's redrive subscription reruns its job (if it failed) on scrape-jobs
    Redrive {
        /// At most this many messages (default: all)
        #[arg(long)]
        max: Option<u64>,
        /// Only say what would be redriven; the messages stay
        #[arg(long)]
        dry_run: bool,
    },
    /// Drop a subscription's backlog (Pub/Sub: seek to now). Jobs whose messages are dropped
    /// from the jobs subscription are cancelled, with the purge as the reason
    Purge {
        subscription: String,
        /// Yes, drop the messages: without it nothing happens
        #[arg(long)]
        yes: bool,
    },
}

pub fn main(cli: Cli) -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("krawlr: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(&settings.log_filter, settings.log_json);
    // The fault points named in `FAILPOINTS`, for as long as the process runs.
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("krawlr: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(dispatch(cli.command, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("krawlr: {e:#}");
            ExitCode::FAILURE
        }
    };
    // Work still on the blocking pool (a page being read, a database call) does not hold the
    // exit: everything that mattered was handed back or committed by now.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

async fn dispatch(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Up => app::run(settings, Parts { api: true, worker: true, webhooks: true }).await?,
        Command::Api => app::run(settings, Parts { api: true, worker: false, webhooks: false }).await?,
        Command::Worker => app::run(settings, Parts { api: false, worker: true, webhooks: false }).await?,
        Command::Webhooks => app::run(settings, Parts { api: false, worker: false, webhooks: true }).await?,
        Command::Setup => setup(&settings).await?,
        Command::Scrape { url, pretty } => return scrape(&settings, &url, pretty).await,
        Command::Extract { file, url } => extract(&file, &url)?,
        Command::Schema => {
            let schema = schemars::schema_for!(crate::scrape::model::report::Report);
            println!("{}", serde_json::to_string_pretty(&schema)?);
        }
        Command::Keys { command } => keys(&settings, command).await?,
        Command::Queue { command: QueueCommand::Stats { json } } => queue_stats(&settings, json).await?,
        Command::Queue { command: QueueCommand::Redrive { max, dry_run } } => {
            let backend = app::connect(&settings).await?;
            app::ensure_topology(&backend, &settings).await?;
            let relay = app::relay(&backend, &settings);
            crate::operations::redrive(&relay, &settings.topics, max, dry_run).await?
        }
        Command::Queue { command: QueueCommand::Purge { subscription, yes } } => {
            crate::operations::check_purge(&settings.topics, &subscription, yes)?;
            let relay = app::relay(&app::connect(&settings).await?, &settings);
            crate::operations::purge(&relay, &settings.topics, &subscription).await?
        }
        Command::Client(command) => return crate::client::run(command).await,
    }
    Ok(ExitCode::SUCCESS)
}

async fn setup(settings: &Settings) -> anyhow::Result<()> {
    let backend = app::connect(settings).await?;
    let changes = app::ensure_topology(&backend, settings).await?;
    let mut changed = false;
    for (what, ensured) in &changes {
        let word = match ensured {
            Ensured::Created => "created",
            Ensured::Updated => "updated",
            Ensured::Unchanged => continue,
        };
        changed = true;
        println!("{word} {what}");
    }
    if !changed {
        println!("nothing to do: all {} topics and subscriptions are as configured", changes.len());
    }
    Ok(())
}

async fn scrape(settings: &Settings, raw: &str, pretty: bool) -> anyhow::Result<ExitCode> {
    let url = url::Url::parse(raw)
        .or_else(|_| url::Url::parse(&format!("https://{raw}")))
        .with_context(|| format!("{raw} is not a URL"))?;
    let scraper = crate::scrape::Scraper::new(settings)?;
    let scraped = scrape_with(&scraper, url, pretty).await;
    scraper.browser.close().await;
    scraped
}

async fn scrape_with(scraper: &crate::scrape::Scraper, url: url::Url, pretty: bool) -> anyhow::Result<ExitCode> {
    let mut run = Run::new(scraper, url, &Default::default());
    // A progress line on stderr when a person is watching; nothing in pipes and logs.
    let show = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let started = std::time::Instant::now();
    for stage in STAGES.into_iter().chain([Stage::Saving]) {
        if show {
            let secs = started.elapsed().as_secs_f32();
            eprint!("\r\x1b[2K[{:>3}%] {:<10} {secs:>5.1}s", stage.progress_percent(), stage.as_str());
        }
        // A panic in a stage is an internal error of this run, reported like any failure.
        let stepped = std::panic::AssertUnwindSafe(run.step(stage)).catch_unwind().await;
        let failure = match stepped {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(crate::telemetry::chain(&e)),
            Err(_) => Some("internal error (logged above)".to_string()),
        };
        if let Some(failure) = failure {
            if show {
                eprintln!();
            }
            eprintln!("krawlr: scrape failed in stage {stage}: {failure}");
            return Ok(ExitCode::FAILURE);
        }
    }
    if show {
        eprintln!("\r\x1b[2K[100%] done in {:.1}s", started.elapsed().as_secs_f32());
    }
    let report = run.finish();
    let json = if pretty { serde_json::to_string_pretty(&report)? } else { serde_json::to_string(&report)? };
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

fn extract(file: &str, url: &str) -> anyhow::Result<()> {
    use std::io::Read;
    let url = url::Url::parse(url).with_context(|| format!("--url {url} is not a URL"))?;
    let mut bytes = Vec::new();
    if file == "-" {
        std::io::stdin().read_to_end(&mut bytes)?;
    } else {
        bytes = std::fs::read(file).with_context(|| format!("cannot read {file}"))?;
    }
    let read = std::panic::catch_unwind(|| {
        let html = crate::scrape::model::decode(&bytes, None);
        crate::scrape::read::meta::extract(&html, &url)
    });
    let meta = read.map_err(|_| anyhow::anyhow!("internal error reading {file} (logged above)"))?;
    println!("{}", serde_json::to_string_pretty(&meta)?);
    Ok(())
}

async fn keys(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let backend = app::connect(settings).await?;
    let store = backend.store.as_ref();
    match command {
        KeysCommand::Create { name } => {
            let secrets = crate::webhooks::sign::SecretBox::load(settings)?;
            let key = crate::keys::create(store, &name).await?;
            let (_, webhook_secret) = crate::webhooks::ensure_default_endpoint(store, &secrets, &key.record.id).await?;
            println!("{}", key.secret);
            if let Some(webhook_secret) = webhook_secret {
                println!("{webhook_secret}");
            }
            eprintln!(
                "created {} ({name}): the key, then the secret that signs webhooks to its jobs' webhook_url; \
                 both are shown only this once",
                key.record.id
            );
        }
        KeysCommand::List => {
            println!("{:<18} {:<12} {:<24} {:<8} NAME", "ID", "PREFIX", "CREATED", "STATUS");
            for key in store.list_api_keys().await? {
                let status = if key.revoked_at.is_some() { "revoked" } else { "active" };
                let created = crate::job::rfc3339(key.created_at);
                let prefix = if key.prefix.is_empty() { "-" } else { key.prefix.as_str() };
                println!("{:<18} {:<12} {:<24} {:<8} {}", key.id, prefix, created, status, key.name);
            }
        }
        KeysCommand::Revoke { id } => {
            if !store.revoke_api_key(&id).await? {
                anyhow::bail!("no active key with id {id}");
            }
            println!("revoked {id}");
        }
    }
    Ok(())
}

async fn queue_stats(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let backend = app::connect(settings).await?;
    let mut all = Vec::new();
    for spec in crate::queue::subscriptions(settings) {
        all.push(backend.broker.stats(&spec.name).await?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    println!(
        "{:<28} {:>9} {:>10} {:>16} {:>14}",
        "SUBSCRIPTION", "BACKLOG", "IN_FLIGHT", "OLDEST_UNACKED", "DEAD_LETTERED"
    );
    for s in all {
        let age = format!("{:.1}s", s.oldest_unacked_age_seconds);
        println!("{:<28} {:>9} {:>10} {:>16} {:>14}", s.subscription, s.backlog, s.in_flight, age, s.dead_lettered);
    }
    Ok(())
}
