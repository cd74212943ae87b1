//! One shared SQLite connection per process, safe to use from several threads
//! and from nested code paths.
//!
//! Part of the engine so that the engine depends on nothing of the
//! application: an application that keeps its own tables in the same file
//! (volctl keeps volumes, quotas and the cast queue there) shares this
//! connection with [`super::SqliteFlowStore`]. Sharing it is what lets a task
//! that only writes to the database commit its own rows and its recorded
//! result in one transaction.
//!
//! The connection sits behind a *reentrant* mutex: a thread that holds it (say,
//! the flow engine inside a transaction) can call code that locks it again
//! (the task's own queries), while other threads wait until the transaction is
//! over. Transactions nest: the outermost is `BEGIN IMMEDIATE` (the write lock
//! is taken up front, so two processes never deadlock upgrading a read lock),
//! inner ones are savepoints.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::thread::ThreadId;

use parking_lot::{Mutex, ReentrantMutex, ReentrantMutexGuard};
use rusqlite::Connection;

/// How long a writer waits for another process's write lock before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// A cloneable handle on the process's database connection.
#[derive(Clone)]
pub struct Db {
    conn: Arc<ReentrantMutex<Connection>>,
    /// The database file and its (device, inode) when opened: a file
    /// replaced or removed under a running process is noticed at the next
    /// write transaction, which then fails instead of writing to a ghost.
    file: Option<Arc<(std::path::PathBuf, (u64, u64))>>,
    /// The open [`Db::hold`]s, innermost last: the thread that holds the
    /// connection and whether that hold began the transaction. Only the
    /// thread that owns the connection's lock touches it.
    holds: Arc<Mutex<Vec<(ThreadId, bool)>>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating if needed) the database file at `path` in WAL mode with
    /// `synchronous=NORMAL` (a killed process loses nothing committed; a power
    /// cut may lose the last transactions but never corrupts) and a busy
    /// handler that waits up to [`DEFAULT_BUSY_TIMEOUT`].
    pub fn open(path: &Path) -> rusqlite::Result<Db> {
        let conn = Connection::open(path)?;
        let mut db = Self::configure(conn, DEFAULT_BUSY_TIMEOUT)?;
        db.file = file_id(path).map(|id| Arc::new((path.to_path_buf(), id)));
        Ok(db)
    }

    /// Fails if the database file is no longer the one this process opened.
    fn check_file(&self) -> rusqlite::Result<()> {
        let Some(f) = &self.file else { return Ok(()) };
        if file_id(&f.0) != Some(f.1) {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
                Some(format!(
                    "{} was replaced or removed while volctl was using it: stopping rather than \
                     writing to a file nobody will read",
                    f.0.display()
                )),
            ));
        }
        Ok(())
    }

    /// An in-memory database (tests, examples).
    pub fn open_in_memory() -> rusqlite::Result<Db> {
        Self::configure(Connection::open_in_memory()?, DEFAULT_BUSY_TIMEOUT)
    }

    fn configure(mut conn: Connection, busy_timeout: Duration) -> rusqlite::Result<Db> {
        install_busy_handler(&mut conn, busy_timeout)?;
        // journal_mode is persistent in the file; asking again is a cheap read.
        // Switching a new database needs it to itself, and SQLite answers
        // "locked" at once, without the busy handler, while another process
        // opens it too: so the switch is retried for as long as a busy
        // handler would wait.
        let start = std::time::Instant::now();
        let mode: String = loop {
            match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)) {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) && start.elapsed() < busy_timeout =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                r => break r?,
            }
        };
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "cannot switch the database to WAL mode (got {mode})"
            )));
        }
        // journal_size_limit: after a checkpoint, the WAL file is cut back to
        // 8 MiB (it otherwise keeps its largest size forever).
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=8388608;",
        )?;
        // Every volctl command is a short process. Checkpointing and deleting
        // the WAL when the last connection closes (two fsyncs and an unlink,
        // then a fresh WAL for the next process) would cost each command
        // milliseconds; checkpoints still run automatically during commits.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Db {
            conn: Arc::new(ReentrantMutex::new(conn)),
            file: None,
            holds: Arc::default(),
        })
    }

    /// Locks the connection for the current thread (reentrant).
    pub fn lock(&self) -> ReentrantMutexGuard<'_, Connection> {
        self.conn.lock()
    }

    /// Keeps one write transaction open, and the connection to this thread,
    /// until the matching [`Db::release`]: every write in between commits
    /// together. The flow engine holds the database across a flow's steps
    /// that only write to it, so a create is a few commits instead of one
    /// per step. Other threads wait for the release; other processes wait
    /// for the write lock, so a hold must never span slow work.
    ///
    /// Inside a transaction already open on this thread a hold only counts:
    /// the outer transaction commits.
    pub fn hold(&self) -> rusqlite::Result<()> {
        let conn = self.conn.lock();
        let opens = conn.is_autocommit();
        if opens {
            self.check_file()?;
            conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        self.holds.lock().push((std::thread::current().id(), opens));
        // The lock stays taken until `release` (which unlocks it).
        std::mem::forget(conn);
        Ok(())
    }

    /// Ends this thread's innermost [`Db::hold`], committing the transaction
    /// it began. Whether there was one to end (a thread without a hold has
    /// nothing to release).
    pub fn release(&self) -> rusqlite::Result<bool> {
        let conn = self.conn.lock();
        let me = std::thread::current().id();
        let top = {
            let mut holds = self.holds.lock();
            match holds.last() {
                Some((t, _)) if *t == me => holds.pop(),
                _ => None,
            }
        };
        let Some((_, opened)) = top else {
            return Ok(false);
        };
        let committed = if !opened {
            Ok(())
        } else if conn.is_autocommit() {
            // SQLite itself rolled the held transaction back (a full disk,
            // an I/O error that a caller swallowed): what was held is lost.
            Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some("the store rolled back a transaction volctl was holding".to_string()),
            ))
        } else {
            // The file is checked again: it may have been replaced during
            // the hold, and the held writes would go to a ghost.
            let r = self
                .check_file()
                .and_then(|()| conn.execute_batch("COMMIT"));
            if r.is_err() && !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            r
        };
        drop(conn);
        // SAFETY: this thread took the lock in `hold` and forgot that guard
        // (the hold recorded above is this thread's), so it owns one level
        // of the lock without a guard: give that level back.
        unsafe { self.conn.force_unlock() };
        committed.map(|()| true)
    }

    /// Runs `f` in a write transaction: `BEGIN IMMEDIATE` when none is open,
    /// a savepoint inside an open one. Commits when `f` succeeds, rolls back
    /// when it fails (or panics).
    pub fn immediate<T, E>(&self, f: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        self.transact(|conn| f(conn).map(|v| (v, true)))
    }

    /// Like [`Db::immediate`], but `f` decides: it returns its value and
    /// whether to commit (`true`) or roll back (`false`).
    pub fn transact<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> Result<(T, bool), E>,
    ) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let conn = self.conn.lock();
        let outer = conn.is_autocommit();
        if outer {
            self.check_file()?;
            conn.execute_batch("BEGIN IMMEDIATE")?;
        } else {
            conn.execute_batch("SAVEPOINT nested")?;
        }
        let mut guard = TxGuard {
            conn: &conn,
            outer,
            done: false,
        };
        let result = f(&conn);
        let commit = matches!(result, Ok((_, true)));
        guard.finish(commit)?;
        result.map(|(v, _)| v)
    }
}

/// Ends a transaction exactly once, rolling back if dropped unfinished (panic).
struct TxGuard<'a> {
    conn: &'a Connection,
    outer: bool,
    done: bool,
}

impl TxGuard<'_> {
    fn finish(&mut self, commit: bool) -> rusqlite::Result<()> {
        self.done = true;
        let sql = match (self.outer, commit) {
            (true, true) => "COMMIT",
            (true, false) => "ROLLBACK",
            (false, true) => "RELEASE nested",
            (false, false) => "ROLLBACK TO nested; RELEASE nested",
        };
        let r = self.conn.execute_batch(sql);
        if r.is_err() && self.outer && !self.conn.is_autocommit() {
            // A failed COMMIT leaves the transaction open: close it so the
            // connection stays usable.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        r
    }
}

impl Drop for TxGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.finish(false);
        }
    }
}

/// SQLite's default busy handler sleeps 1, 2, 5, 10 … 100 ms between tries;
/// with many short transactions from parallel processes that wastes most of
/// the time asleep. Retry quickly first, then back off to at most 2 ms, with
/// jitter so waiting processes do not wake in lock-step.
fn install_busy_handler(conn: &mut Connection, timeout: Duration) -> rusqlite::Result<()> {
    let mut started = Instant::now();
    let mut seed: u32 = std::process::id().wrapping_mul(2_654_435_761) | 1;
    conn.busy_handler(Some(move |count: i32| {
        if count == 0 {
            started = Instant::now();
        }
        if started.elapsed() >= timeout {
            return false;
        }
        // xorshift: cheap jitter without a dependency.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let base_us: u64 = match count {
            0..=3 => 20,
            4..=15 => 100,
            16..=63 => 500,
            _ => 2000,
        };
        let jitter = u64::from(seed) % base_us;
        std::thread::sleep(Duration::from_micros(base_us + jitter));
        true
    }))
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(db: &Db) -> i64 {
        db.lock()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    fn setup() -> Db {
        let db = Db::open_in_memory().unwrap();
        db.lock().execute_batch("CREATE TABLE t (x)").unwrap();
        db
    }

    #[test]
    fn commit_and_rollback() {
        let db = setup();
        db.immediate(|c| c.execute("INSERT INTO t VALUES (1)", []).map(drop))
            .unwrap();
        let r: Result<(), rusqlite::Error> = db.immediate(|c| {
            c.execute("INSERT INTO t VALUES (2)", [])?;
            Err(rusqlite::Error::InvalidQuery)
        });
        assert!(r.is_err());
        db.transact(|c| {
            c.execute("INSERT INTO t VALUES (3)", [])?;
            Ok::<_, rusqlite::Error>(((), false))
        })
        .unwrap();
        assert_eq!(count(&db), 1);
    }

    #[test]
    fn nested_rollback_keeps_outer_work() {
        let db = setup();
        db.immediate(|c| {
            c.execute("INSERT INTO t VALUES (1)", [])?;
            let inner: Result<(), rusqlite::Error> = db.immediate(|c| {
                c.execute("INSERT INTO t VALUES (2)", [])?;
                Err(rusqlite::Error::InvalidQuery)
            });
            assert!(inner.is_err());
            Ok::<_, rusqlite::Error>(())
        })
        .unwrap();
        assert_eq!(count(&db), 1);
        assert!(db.lock().is_autocommit());
    }

    #[test]
    fn panic_inside_transaction_rolls_back() {
        let db = setup();
        let db2 = db.clone();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _: Result<(), rusqlite::Error> = db2.immediate(|c| {
                c.execute("INSERT INTO t VALUES (1)", [])?;
                panic!("boom");
            });
        }));
        assert!(r.is_err());
        assert!(db.lock().is_autocommit());
        assert_eq!(count(&db), 0);
    }

    #[test]
    fn file_database_is_wal() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("x.db")).unwrap();
        let mode: String = db
            .lock()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
