//! Wiring: the backend chosen once from the settings, the topology it needs, and the api,
//! worker and webhooks parts run together (`up`) or apart, until a shutdown signal.

use crate::api::{self, AppState};
use crate::config::{Backend as BackendKind, Settings};
use crate::outbox::Relay;
use crate::queue::embedded::EmbeddedBroker;
use crate::queue::pubsub::PubSubBroker;
use crate::queue::{Broker, Ensured, QueueError, Topology};
use crate::scrape::Scraper;
use crate::sqlite::Db;
use crate::store::Store;
use crate::store::embedded::EmbeddedStore;
use crate::store::firestore::FirestoreStore;
use crate::webhooks::Webhooks;
use crate::webhooks::sign::SecretBox;
use crate::worker::Worker;
use anyhow::Context;
use std::io::Write;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::info;

/// The two seams, connected.
#[derive(Clone)]
pub struct Backend {
    pub broker: Arc<dyn Broker>,
    pub store: Arc<dyn Store>,
    /// The embedded backend's database, watched for its file's loss.
    pub db: Option<Db>,
}

pub async fn connect(settings: &Settings) -> anyhow::Result<Backend> {
    match settings.backend {
        BackendKind::Embedded => {
            let db = Db::open(&settings.data_dir, settings.sqlite_sync).with_context(|| {
                format!("cannot open the data dir {} (KRAWLR_DATA_DIR)", settings.data_dir.display())
            })?;
            Ok(Backend {
                broker: Arc::new(EmbeddedBroker::new(db.clone())),
                store: Arc::new(EmbeddedStore::new(db.clone(), settings.topics.jobs.clone())),
                db: Some(db),
            })
        }
        BackendKind::Gcp => {
            let project = settings.gcp_project_id.as_deref().context("GCP_PROJECT_ID is required")?;
            let emulator = settings.pubsub_emulator_host.as_deref();
            let broker = PubSubBroker::connect(project, emulator, settings.monitoring_url.as_ref())
                .await
                .with_context(|| format!("cannot reach Pub/Sub for project {project}"))?;
            let store = FirestoreStore::connect(project)
                .await
                .with_context(|| format!("cannot reach Firestore for project {project}"))?;
            Ok(Backend { broker: Arc::new(broker), store: Arc::new(store), db: None })
        }
    }
}

/// Creates the topics and subscriptions, or brings them to the settings; says what changed.
pub async fn ensure_topology(backend: &Backend, settings: &Settings) -> Result<Vec<(String, Ensured)>, QueueError> {
    Topology::of(settings).ensure(backend.broker.as_ref()).await
}

/// Which parts a process runs.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    pub api: bool,
    pub worker: bool,
    pub webhooks: bool,
}

/// Runs the chosen parts until SIGINT or SIGTERM, then shuts them down gracefully.
pub async fn run(settings: Settings, parts: Parts) -> anyhow::Result<()> {
    let backend = connect(&settings).await?;
    ensure_topology(&backend, &settings).await.context("cannot prepare the queue's topics and subscriptions")?;
    let shutdown = shutdown_on_signal();
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(db) = backend.db.clone() {
        // A database file deleted under the process: stop (non-zero) rather than accept work
        // into a file nobody will open again; a supervisor restarts krawlr on a fresh one.
        let stop = shutdown.clone();
        tasks.spawn(async move {
            tokio::select! {
                _ = db.lost() => anyhow::bail!("the database file in the data dir was deleted or replaced while in use"),
                _ = stop.cancelled() => Ok(()),
            }
        });
    }
    let secrets = if parts.api || parts.webhooks { Some(Arc::new(SecretBox::load(&settings)?)) } else { None };
    if let Some(secrets) = secrets.clone().filter(|_| parts.api) {
        ensure_first_key(&backend, &settings, &secrets).await?;
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {} (KRAWLR_LISTEN)", settings.listen))?;
        let address = listener.local_addr()?;
        info!(%address, "api listening");
        let mut out = std::io::stdout().lock();
        writeln!(out, "krawlr listening on http://{address}")?;
        out.flush()?;
        drop(out);
        let state = AppState::new(backend.store.clone(), backend.broker.clone(), &settings, secrets);
        let stop = shutdown.clone();
        tasks.spawn(async move { api::serve(listener, state, stop).await.context("api server failed") });
    }
    if let Some(secrets) = secrets.filter(|_| parts.webhooks) {
        let webhooks = Webhooks::new(backend.store.clone(), backend.broker.clone(), &settings, secrets)?;
        let stop = shutdown.clone();
        tasks.spawn(async move {
            Arc::new(webhooks).run(stop).await;
            Ok(())
        });
    }
    if let Some(address) = settings.metrics_listen.filter(|_| !parts.api) {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} (KRAWLR_METRICS_LISTEN)"))?;
        info!(address = %listener.local_addr()?, "metrics listening");
        let probe = api::health::Probe {
            store: backend.store.clone(),
            broker: backend.broker.clone(),
            topics: Arc::new(settings.topics.clone()),
        };
        let stop = shutdown.clone();
        let connections = settings.connections.clone();
        tasks.spawn(async move {
            api::serve_router(listener, api::health::probe_router(probe), &connections, stop)
                .await
                .context("metrics server failed")
        });
    }
    let relay = Arc::new(relay(&backend, &settings));
    if parts.api || parts.worker {
        // Publishes what a writer committed to the outbox but could not publish itself.
        let (relay, stop) = (relay.clone(), shutdown.clone());
        tasks.spawn(async move {
            relay.run(stop).await;
            Ok(())
        });
    }
    if parts.worker {
        // Monitors due start their runs here, in any number of processes (the store arbitrates).
        let scheduler = crate::monitor::Scheduler::new(
            backend.store.clone(),
            relay.clone(),
            settings.limits.monitor_poll,
            settings.limits.max_active_jobs,
        );
        let stop = shutdown.clone();
        tasks.spawn(async move {
            Arc::new(scheduler).run(stop).await;
            Ok(())
        });
        let worker = Arc::new(build_worker(&backend, &settings)?);
        let stop = shutdown.clone();
        tasks.spawn(async move {
            let scraper = worker.scraper.clone();
            worker.run(stop).await;
            // The process is about to end: its browser's profile goes before it does.
            scraper.browser.close().await;
            Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined.context("task panicked").and_then(|r| r) {
            shutdown.cancel();
            return Err(e);
        }
    }
    Ok(())
}

pub fn build_worker(backend: &Backend, settings: &Settings) -> anyhow::Result<Worker> {
    Ok(Worker {
        broker: backend.broker.clone(),
        store: backend.store.clone(),
        scraper: Arc::new(Scraper::new(settings).context("cannot build the HTTP clients")?),
        topics: settings.topics.clone(),
        queue: settings.queue.clone(),
        settings: settings.worker.clone(),
        topology: Topology::of(settings),
        relay: Arc::new(relay(backend, settings)),
    })
}

/// The relay from the store's outbox to the broker.
pub fn relay(backend: &Backend, settings: &Settings) -> Relay {
    Relay::new(backend.store.clone(), backend.broker.clone(), settings.topics.clone(), Topology::of(settings))
}

/// `KRAWLR_API_KEY` exists from start-up; without it, a first key is created and printed once.
async fn ensure_first_key(backend: &Backend, settings: &Settings, secrets: &SecretBox) -> anyhow::Result<()> {
    let store = backend.store.as_ref();
    if let Some(secret) = &settings.api_key {
        let key = crate::keys::ensure(store, secret).await?;
        if key.revoked_at.is_some() {
            tracing::warn!(key_id = %key.id, "KRAWLR_API_KEY names a revoked key; requests with it are refused");
        }
        return Ok(());
    }
    if store.list_api_keys().await?.is_empty() {
        let key = crate::keys::create(store, "first key").await?;
        let (_, webhook_secret) = crate::webhooks::ensure_default_endpoint(store, secrets, &key.record.id).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "No API key existed, so one was created. It is shown only this once:")?;
        writeln!(out, "  {}", key.secret)?;
        writeln!(out, "Use it as: Authorization: Bearer <key>   (more: krawlr keys create)")?;
        if let Some(webhook_secret) = webhook_secret {
            writeln!(out, "Webhooks to a job's webhook_url are signed with (Standard Webhooks):")?;
            writeln!(out, "  {webhook_secret}")?;
        }
        out.flush()?;
    }
    Ok(())
}

/// A token cancelled by the first SIGINT or SIGTERM.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        info!("shutdown requested");
        cancel.cancel();
    });
    token
}
