//! The embedded backend's one SQLite file (`krawlr.db` in the data dir), shared by the queue
//! and the store so that a submit writes its job and its message in one transaction. Several
//! processes may open it at once: WAL mode, a busy timeout, and `BEGIN IMMEDIATE` for writes.

use crate::config::SqliteSync;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
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
    status TEXT NOT NULL,
    doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS jobs_by_key ON jobs (key_id, created_at);
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
"#;

/// A connection to the data dir's database, usable from async code.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    published: Arc<Notify>,
}

impl Db {
    /// Opens (creating if needed) `krawlr.db` in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path, sync: SqliteSync) -> rusqlite::Result<Db> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!(
                    "cannot create data dir {}: {e}",
                    data_dir.display()
                )),
            )
        })?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(data_dir.join("krawlr.db"), flags)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match sync {
            SqliteSync::Normal => "NORMAL",
            SqliteSync::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            published: Arc::new(Notify::new()),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
    }

    /// Wakes this process's consumers waiting in [`Db::published`]. Other processes poll.
    pub fn notify_published(&self) {
        self.published.notify_waiters();
    }

    pub async fn published(&self) {
        self.published.notified().await
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
