//! The embedded backend's one SQLite file (`krawlr.db` in the data dir), shared by the queue
//! and the store so that a submit writes its job and its message in one transaction. Several
//! processes may open it at once: WAL mode, a busy timeout, and `BEGIN IMMEDIATE` for writes.

use crate::config::SqliteSync;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
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
}

const READERS: usize = 4;
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// WAL frames (pages of 4 KB) past which the checkpointer restarts the WAL: 16 MB.
const WAL_RESTART_FRAMES: i64 = 4096;
/// What a WAL file is cut back to when it starts over.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

fn connect(path: &Path, sync: SqliteSync) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
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
        let writer = connect(&path, sync)?;
        writer.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = connect(&path, sync)?;
                conn.pragma_update(None, "query_only", true)?;
                Ok(Mutex::new(conn))
            })
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let db = Db {
            writer: Arc::new(Mutex::new(writer)),
            readers: readers.into(),
            next_reader: Arc::default(),
            published: Arc::new(Notify::new()),
        };
        spawn_checkpointer(connect(&path, sync)?, Arc::downgrade(&db.writer));
        Ok(db)
    }

    /// Runs `f` with the writing connection on the blocking pool.
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let conn = self.writer.clone();
        run_blocking(move || f(&mut conn.lock().unwrap_or_else(|p| p.into_inner()))).await
    }

    /// Runs `f` with a read-only connection on the blocking pool.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
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

async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
}

/// Checkpoints the WAL every second, until the `Db` it serves is dropped. A passive checkpoint
/// copies pages back without waiting for anyone, but SQLite starts the WAL file over only when
/// no reader holds a snapshot in it, and under steady load one always does: the file grew by
/// 2 GB in 30 s of `bench soak`. Past [`WAL_RESTART_FRAMES`], the checkpoint waits for the
/// readers to leave the WAL (writers wait meanwhile: p99 submit latency stayed at 4 ms in
/// `bench soak --rate 300`, where TRUNCATE took it to 28 ms) so that the next write starts the
/// file over, and `journal_size_limit` trims what is left.
fn spawn_checkpointer(conn: Connection, alive: Weak<Mutex<Connection>>) {
    let spawned = std::thread::Builder::new().name("krawlr-checkpoint".into()).spawn(move || {
        let checkpoint =
            |mode: &str| conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| r.get::<_, i64>(1));
        while alive.strong_count() > 0 {
            std::thread::sleep(CHECKPOINT_EVERY);
            let result = checkpoint("PASSIVE")
                .and_then(|frames| if frames >= WAL_RESTART_FRAMES { checkpoint("RESTART") } else { Ok(frames) });
            if let Err(e) = result {
                tracing::warn!(error = %e, "WAL checkpoint failed; trying again");
            }
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no checkpoint thread; SQLite's WAL will grow until restart");
    }
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
