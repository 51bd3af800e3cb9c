//! The embedded backend's one SQLite file (`krawlr.db` in the data dir), shared by the queue
//! and the store so that a submit writes its job and its message in one transaction. Several
//! processes may open it at once: WAL mode, a busy timeout, and `BEGIN IMMEDIATE` for writes.

mod upkeep;

use self::upkeep::{Health, set_aside_orphans, spawn_checkpointer};
use crate::config::SqliteSync;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY
) STRICT;
CREATE TABLE IF NOT EXISTS subscriptions (
    name TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    ack_deadline_ms INTEGER NOT NULL,
    min_backoff_ms INTEGER NOT NULL,
    max_backoff_ms INTEGER NOT NULL,
    max_delivery_attempts INTEGER NOT NULL,
    dead_letter_topic TEXT,
    dead_lettered INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    subscription TEXT NOT NULL,
    message_id TEXT NOT NULL,
    data BLOB NOT NULL,
    attributes TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    leased INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX IF NOT EXISTS messages_ready ON messages (subscription, visible_at);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS jobs_by_key ON jobs (key_id, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, updated_at);
CREATE INDEX IF NOT EXISTS jobs_by_key_status ON jobs (key_id, status);
CREATE TABLE IF NOT EXISTS results (
    job_id TEXT PRIMARY KEY,
    report TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS host_slots (
    host TEXT NOT NULL,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (host, holder)
) STRICT;
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS webhook_endpoints_by_key ON webhook_endpoints (key_id, created_at);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    status TEXT NOT NULL,
    next_attempt_at INTEGER,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_status ON webhook_deliveries (status, created_at);
CREATE TABLE IF NOT EXISTS monitors (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    due_at INTEGER,
    doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS monitors_by_key ON monitors (key_id, created_at);
CREATE INDEX IF NOT EXISTS monitors_due ON monitors (due_at);
CREATE TABLE IF NOT EXISTS monitor_changes (
    id TEXT PRIMARY KEY,
    monitor_id TEXT NOT NULL,
    detected_at INTEGER NOT NULL,
    doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS monitor_changes_by_monitor ON monitor_changes (monitor_id, detected_at);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    due_at INTEGER NOT NULL,
    doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at);
CREATE TABLE IF NOT EXISTS tombstones (
    job_id TEXT PRIMARY KEY,
    removed_at INTEGER NOT NULL,
    doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS tombstones_by_age ON tombstones (removed_at);
-- Earlier versions kept the first characters of an operator's KRAWLR_API_KEY for display.
UPDATE api_keys SET prefix = '' WHERE name = 'KRAWLR_API_KEY' AND prefix != '';
"#;

/// Connections to the data dir's database, usable from async code: one writer, a few
/// readers (WAL lets them read while the writer writes), and a thread that checkpoints the WAL
/// in the background so that no request pays for a checkpoint.
#[derive(Clone)]
pub struct Db {
    writer: Arc<Mutex<Connection>>,
    readers: Arc<[Mutex<Connection>]>,
    next_reader: Arc<AtomicUsize>,
    published: Arc<Notify>,
    health: Arc<Health>,
    /// Writes waiting to be committed together (see [`Db::write_batched`]).
    batch: Arc<Mutex<Vec<BatchedWrite>>>,
}

/// An error that may carry SQLite's own, so that the database can tell a full disk from a
/// conflict whatever error type its callers use.
pub trait SqliteCause {
    fn sqlite_error(&self) -> Option<&rusqlite::Error>;
}

impl SqliteCause for rusqlite::Error {
    fn sqlite_error(&self) -> Option<&rusqlite::Error> {
        Some(self)
    }
}

const READERS: usize = 4;
/// The page size of a new database file. SQLite's default of 4 KB wrote 29 KB to the WAL and
/// back per submit.
const PAGE_SIZE: i64 = 1024;
/// What a WAL file is cut back to when it starts over.
const WAL_SIZE_LIMIT: i64 = 4 << 20;

fn connect(path: &Path, sync: SqliteSync) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // Only a new file takes it (before WAL mode makes it one): every commit writes each page it
    // touched whole to the WAL, and a submit touches seven (the job, its message, their
    // indexes) with a few dozen bytes on each.
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let sync = match sync {
        SqliteSync::Normal => "NORMAL",
        SqliteSync::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    // Checkpoints run on the background thread instead (see `Db`).
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    // One plan per statement, whatever is bound: without this, binding another `LIMIT ?`
    // (a pull of however many jobs a worker has room for) expires the cached statement and
    // SQLite parses and plans it again, 150 k instructions each time.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

impl Db {
    /// Opens (creating if needed) `krawlr.db` in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path, sync: SqliteSync) -> rusqlite::Result<Db> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("cannot create data dir {}: {e}", data_dir.display())),
            )
        })?;
        let path = data_dir.join("krawlr.db");
        set_aside_orphans(&path);
        let writer = connect(&path, sync)?;
        writer.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = connect(&path, sync)?;
                conn.pragma_update(None, "query_only", true)?;
                Ok(Mutex::new(conn))
            })
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let health = Health::watch(&path).map_err(|e| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("cannot read {}: {e}", path.display())),
            )
        })?;
        let db = Db {
            writer: Arc::new(Mutex::new(writer)),
            readers: readers.into(),
            next_reader: Arc::default(),
            published: Arc::new(Notify::new()),
            health: Arc::new(health),
            batch: Arc::default(),
        };
        spawn_checkpointer(connect(&path, sync)?, Arc::downgrade(&db.writer), db.health.clone());
        Ok(db)
    }

    /// Whether the database takes writes now: the file is still the one opened, and writes are
    /// not failing. (Readiness.)
    pub fn writable(&self) -> rusqlite::Result<()> {
        self.health.check();
        self.health.refusal(true).map_or(Ok(()), Err)
    }

    /// Resolves once the database file is found deleted or replaced; never otherwise.
    pub async fn lost(&self) {
        loop {
            let notice = self.health.lost_notice.notified();
            if self.health.lost.load(Ordering::Acquire) {
                return;
            }
            notice.await;
        }
    }

    /// Runs `f` with the writing connection on the blocking pool.
    /// Refused (SQLite's `CANTOPEN` or `FULL`, which callers answer with `503`) while the file
    /// is lost or writes are failing.
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static + From<rusqlite::Error> + SqliteCause,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        // One stat a write (about a microsecond): nothing is accepted into a deleted file.
        self.health.check();
        if let Some(refused) = self.health.refusal(true) {
            return Err(refused.into());
        }
        let (conn, health) = (self.writer.clone(), self.health.clone());
        run_blocking(move || {
            let result = f(&mut conn.lock().unwrap_or_else(|p| p.into_inner()));
            if let Err(e) = &result {
                health.wrote(e.sqlite_error());
            }
            result
        })
        .await
    }

    /// Runs `f` inside a transaction shared with the other batched writes waiting at the same
    /// moment (group commit): under load, many submits pay for one commit and one WAL frame per
    /// page they share, instead of one each. `f` runs in a savepoint of its own, so that its
    /// error undoes only its own changes; if the shared commit fails, every write in it fails.
    /// Refused like [`Db::call`].
    pub async fn write_batched<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static + From<rusqlite::Error> + SqliteCause,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        self.health.check();
        if let Some(refused) = self.health.refusal(true) {
            return Err(refused.into());
        }
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let work: BatchedWrite = Box::new(move |begun: Result<&Connection, &rusqlite::Error>| {
            let result = match begun {
                Ok(conn) => {
                    let result = conn.execute_batch("SAVEPOINT batched").map_err(E::from).and_then(|()| f(conn));
                    let undo = if result.is_ok() { "RELEASE batched" } else { "ROLLBACK TO batched; RELEASE batched" };
                    match conn.execute_batch(undo) {
                        Ok(()) => result,
                        Err(e) => Err(E::from(e)),
                    }
                }
                Err(e) => Err(E::from(copy_error(e))),
            };
            let finish: FinishBatched = Box::new(move |committed: Option<&rusqlite::Error>| {
                let result = match (result, committed) {
                    (Ok(_), Some(failed)) => Err(E::from(copy_error(failed))),
                    (result, _) => result,
                };
                let _ = sender.send(result);
            });
            finish
        });
        self.batch.lock().unwrap_or_else(|p| p.into_inner()).push(work);
        let (conn, batch, health) = (self.writer.clone(), self.batch.clone(), self.health.clone());
        run_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            // Whoever takes the lock first commits everything waiting, this call's write among it
            // unless an earlier taker has already.
            let works = std::mem::take(&mut *batch.lock().unwrap_or_else(|p| p.into_inner()));
            if !works.is_empty() {
                commit_batch(&conn, works, &health);
            }
        })
        .await;
        receiver.await.unwrap_or_else(|_| Err(E::from(copy_error(&rusqlite::Error::InvalidQuery))))
    }

    /// Runs `f` with a read-only connection on the blocking pool.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static + From<rusqlite::Error>,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        if let Some(refused) = self.health.refusal(false) {
            return Err(refused.into());
        }
        let readers = self.readers.clone();
        let first = self.next_reader.fetch_add(1, Ordering::Relaxed);
        run_blocking(move || {
            // The first free reader, else wait for the one whose turn it is.
            let free = (0..readers.len()).find_map(|i| readers[(first + i) % readers.len()].try_lock().ok());
            let conn = match free {
                Some(conn) => conn,
                None => readers[first % readers.len()].lock().unwrap_or_else(|p| p.into_inner()),
            };
            f(&conn)
        })
        .await
    }

    /// Wakes this process's consumers waiting in [`Db::published`]. Other processes poll.
    pub fn notify_published(&self) {
        self.published.notify_waiters();
    }

    pub async fn published(&self) {
        self.published.notified().await
    }
}

/// One write waiting for a batch: run in the batch's transaction (or told that it could not
/// begin), it answers how to finish once the commit's outcome is known.
type BatchedWrite = Box<dyn FnOnce(Result<&Connection, &rusqlite::Error>) -> FinishBatched + Send>;
type FinishBatched = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;

/// Runs `works` in one immediate transaction and tells each how the commit went.
fn commit_batch(conn: &Connection, works: Vec<BatchedWrite>, health: &Health) {
    let begun = conn.execute_batch("BEGIN IMMEDIATE");
    let finishes: Vec<FinishBatched> = match &begun {
        Ok(()) => works.into_iter().map(|work| work(Ok(conn))).collect(),
        Err(e) => works.into_iter().map(|work| work(Err(e))).collect(),
    };
    let committed = match begun {
        Ok(()) => conn.execute_batch("COMMIT").err(),
        Err(e) => Some(e),
    };
    if committed.is_some() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    health.wrote(committed.as_ref());
    for finish in finishes {
        finish(committed.as_ref());
    }
}

/// The same SQLite error again (rusqlite's errors cannot be cloned).
fn copy_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e.sqlite_error() {
        Some(cause) => rusqlite::Error::SqliteFailure(*cause, Some(e.to_string())),
        None => {
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR), Some(e.to_string()))
        }
    }
}

async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
}

/// Whether an error is SQLite being busy, locked, full or unable to write: the kind of trouble
/// that passes, which the API answers with `503`.
pub fn is_unavailable(err: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::*;
    matches!(
        err.sqlite_error_code(),
        Some(DatabaseBusy | DatabaseLocked | DiskFull | SystemIoFailure | CannotOpen | ReadOnly)
    )
}
