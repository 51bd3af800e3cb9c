//! The database file's upkeep: the watch on the file itself (deleted or replaced under the
//! process, writes failing on a full disk) and the thread that checkpoints the WAL.

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// A write that changes nothing anyone reads, to learn whether the disk takes writes again.
const PROBE_WRITE: &str = "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS write_probe (at INTEGER) STRICT; \
    DELETE FROM write_probe; INSERT INTO write_probe VALUES (unixepoch()); COMMIT;";
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// WAL frames (pages of 4 KB) past which the checkpointer makes the WAL start over: 1 MB.
const WAL_START_OVER_FRAMES: i64 = 256;
/// The longest a checkpoint waits for readers or another process's writer.
const CHECKPOINT_PATIENCE: Duration = Duration::from_millis(50);
/// What the database file's watch has found: whether it is still the file this process opened,
/// and whether writes reach the disk.
pub(super) struct Health {
    path: PathBuf,
    /// The file's device and inode when it was opened.
    identity: (u64, u64),
    /// The file was deleted or replaced under the process: nothing written now would ever be
    /// read again. Final.
    pub(super) lost: AtomicBool,
    pub(super) lost_notice: Notify,
    /// A write met a full disk or an I/O error. Writes are refused until the checkpointer has
    /// emptied the WAL (giving its space back) and a probe write has gone through; retried
    /// writes would otherwise grow the WAL into whatever space was freed.
    failing: AtomicBool,
}

impl Health {
    pub(super) fn watch(path: &Path) -> std::io::Result<Health> {
        Ok(Health {
            identity: identity(path)?,
            path: path.to_path_buf(),
            lost: AtomicBool::new(false),
            lost_notice: Notify::new(),
            failing: AtomicBool::new(false),
        })
    }

    /// Looks at the file again; true when it is lost (now or before).
    pub(super) fn check(&self) -> bool {
        if self.lost.load(Ordering::Acquire) {
            return true;
        }
        let now = identity(&self.path);
        if now.as_ref().is_ok_and(|now| *now == self.identity) {
            return false;
        }
        // Only a file that is gone or another file: a passing stat error (EINTR) is no loss.
        if now.as_ref().is_err_and(|e| e.kind() != std::io::ErrorKind::NotFound) {
            return false;
        }
        if !self.lost.swap(true, Ordering::AcqRel) {
            tracing::error!(
                path = %self.path.display(),
                "the database file was deleted or replaced while krawlr had it open; refusing every write \
                 (nothing written now could be read after a restart) and stopping so that a supervisor restarts \
                 krawlr on a fresh file"
            );
        }
        self.lost_notice.notify_waiters();
        true
    }

    /// Why a read or write may not go ahead, as SQLite's own error (the API answers `503`).
    pub(super) fn refusal(&self, writing: bool) -> Option<rusqlite::Error> {
        let refuse = |code, why: &str| {
            Some(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(why.to_string())))
        };
        if self.lost.load(Ordering::Acquire) {
            return refuse(
                rusqlite::ffi::SQLITE_CANTOPEN,
                "the database file was deleted or replaced under this process; it is stopping",
            );
        }
        if writing && self.failing.load(Ordering::Acquire) {
            return refuse(
                rusqlite::ffi::SQLITE_FULL,
                "writes are failing (a full disk?); refused until one goes through",
            );
        }
        None
    }

    /// Notes what a write's error says of the disk.
    pub(super) fn wrote(&self, error: Option<&rusqlite::Error>) {
        use rusqlite::ErrorCode::{DiskFull, SystemIoFailure};
        if let Some(code) = error.and_then(rusqlite::Error::sqlite_error_code) {
            if matches!(code, DiskFull | SystemIoFailure) && !self.failing.swap(true, Ordering::AcqRel) {
                tracing::error!(
                    ?code,
                    "a write to the database failed; refusing writes until the disk takes them again"
                );
            }
        }
    }
}

fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.dev(), meta.ino()))
}

/// A WAL (and its index) left without its database file (the file was deleted under a running
/// process) is moved aside: SQLite would otherwise replay its pages into the fresh file.
pub(super) fn set_aside_orphans(path: &Path) {
    if path.exists() {
        return;
    }
    for suffix in ["-wal", "-shm"] {
        let orphan = PathBuf::from(format!("{}{suffix}", path.display()));
        if orphan.exists() {
            let aside = PathBuf::from(format!("{}{suffix}.orphaned-{}", path.display(), crate::job::now_ms()));
            match std::fs::rename(&orphan, &aside) {
                Ok(()) => tracing::warn!(
                    from = %orphan.display(), to = %aside.display(),
                    "the database file is missing but its WAL is not; moved the WAL aside and starting on a fresh file"
                ),
                Err(e) => tracing::warn!(file = %orphan.display(), error = %e, "cannot move an orphaned WAL aside"),
            }
        }
    }
}

/// The writer's lock if it comes free within a few tries a millisecond apart; none otherwise.
fn hold_briefly(writer: &Mutex<Connection>) -> Option<std::sync::MutexGuard<'_, Connection>> {
    for _ in 0..5 {
        match writer.try_lock() {
            Ok(guard) => return Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    None
}

/// Keeps the WAL short, until the `Db` it serves is dropped, without making writers wait for
/// a whole checkpoint. SQLite starts the WAL over (at the next write) only once a checkpoint has
/// copied every frame back and no reader is left in the WAL; under steady writes a checkpoint
/// beside them never catches up, and the WAL grew to 90–166 MB between forced `RESTART`s whose
/// waits went through SQLite's busy-handler sleeps in every writer. So every
/// [`CHECKPOINT_EVERY`] a passive checkpoint copies the bulk beside the writers; then, past
/// [`WAL_START_OVER_FRAMES`], a `RESTART` copies the few written meanwhile while this process's writers wait on
/// its mutex: it completes, and the next write starts the WAL over (`journal_size_limit` trims
/// the file): the WAL stayed at 4 MB under 4,000 submits/s, where it grew to 40–130 MB (the
/// README's Performance section has the figures).
///
/// The same thread watches the file (see [`Health`]) and, while writes are failing, empties the
/// WAL (`TRUNCATE`, which gives its disk space back) before it lets one probe write through.
pub(super) fn spawn_checkpointer(conn: Connection, writer: Weak<Mutex<Connection>>, health: Arc<Health>) {
    // A checkpoint that must wait for readers or another process's writer gives up soon and
    // copies what it can: the writers it holds wait no longer than this.
    if let Err(e) = conn.busy_timeout(CHECKPOINT_PATIENCE) {
        tracing::warn!(error = %e, "cannot shorten the checkpointer's busy timeout");
    }
    let spawned = std::thread::Builder::new().name("krawlr-checkpoint".into()).spawn(move || {
        // (frames in the WAL, frames copied back)
        let checkpoint = |mode: &str| {
            conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
                Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })
        };
        loop {
            std::thread::sleep(CHECKPOINT_EVERY);
            let Some(writer) = writer.upgrade() else { return };
            if health.check() {
                return;
            }
            if health.failing.load(Ordering::Acquire) {
                let probe = || {
                    conn.execute_batch(PROBE_WRITE).inspect_err(|_| {
                        let _ = conn.execute_batch("ROLLBACK");
                    })
                };
                if checkpoint("TRUNCATE").is_ok() && probe().is_ok() {
                    health.failing.store(false, Ordering::Release);
                    tracing::info!("writes to the database go through again");
                }
                continue;
            }
            let result = checkpoint("PASSIVE").and_then(|(frames, _)| {
                // `frames` counts those there were when it began: writes went on meanwhile.
                if frames < WAL_START_OVER_FRAMES {
                    return Ok(frames);
                }
                // The tail, with this process's writers held (they wait on a mutex, which wakes
                // them the moment it is free, not in SQLite's busy-handler sleeps): RESTART waits
                // briefly for readers of older snapshots, copies the rest, and leaves the WAL to
                // start over at the next write.
                // Never queued behind writers: when one holds the lock now (another process may
                // hold the database's), this tail waits for the next round.
                let Some(_writers) = hold_briefly(&writer) else { return Ok(frames) };
                checkpoint("RESTART").map(|(frames, _)| frames)
            });
            if let Err(e) = result {
                tracing::warn!(error = %e, "WAL checkpoint failed; trying again");
            }
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no checkpoint thread; SQLite's WAL will grow until restart");
    }
}
