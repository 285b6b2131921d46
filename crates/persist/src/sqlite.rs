//! [`SqliteStore`]: the [`KvStore`] on disk, in one SQLite file.
//!
//! One `WITHOUT ROWID` table clustered on `(tree, k)`: a range read is one index walk in key order
//! (SQLite compares BLOBs with `memcmp`, the binary order the trait promises). WAL journal with
//! `synchronous=FULL`, so a commit is on disk before `apply` returns, and readers never wait for the
//! writer.
//!
//! WAL frames are copied into the database by a background thread (`checkpoints`), so a commit
//! pays for its own fsync and not, now and then, for a checkpoint's.
//!
//! Writes are group-committed. Every write (an `apply` batch, a `transaction` closure, `clear`)
//! runs on the one writer connection inside a savepoint of the currently open SQLite transaction,
//! its *epoch*, so a failing write rolls back alone and a later one reads what earlier ones wrote.
//! Its caller then waits until the epoch commits: the first waiter to find no commit in progress
//! commits it, and one fsync makes every write of the epoch durable. Writes that arrive during
//! that fsync start the next epoch. No caller returns before its epoch is durable, and an epoch
//! commits whole or not at all, so what a write read from its epoch is never lost without it.

use parking_lot::{Condvar, Mutex};
use rusqlite::{Connection, OpenFlags};
use ruststack_core::store::{Entries, KvStore, Transaction, Write};
use std::collections::HashMap;
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Read connections kept for reuse; more may exist briefly under load.
const IDLE_READERS: usize = 8;
/// How often the background thread checkpoints the WAL.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// WAL pages past which a commit checkpoints itself (if the background thread falls behind).
const BACKSTOP_CHECKPOINT_PAGES: u32 = 16_384;
/// Prepared statements cached per connection (18 range shapes plus a few writes).
const STATEMENT_CACHE: usize = 48;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS kv (
    tree TEXT NOT NULL,
    k BLOB NOT NULL,
    v BLOB NOT NULL,
    PRIMARY KEY (tree, k)
) WITHOUT ROWID";

const UPSERT: &str =
    "INSERT INTO kv (tree, k, v) VALUES (?1, ?2, ?3) ON CONFLICT (tree, k) DO UPDATE SET v = excluded.v";
const DELETE: &str = "DELETE FROM kv WHERE tree = ?1 AND k = ?2";
const GET: &str = "SELECT v FROM kv WHERE tree = ?1 AND k = ?2";

/// The SQLite-backed key-value store.
pub struct SqliteStore {
    path: PathBuf,
    /// The one connection that writes (SQLite admits one writer at a time anyway).
    writer: Mutex<Writer>,
    readers: Mutex<Vec<Connection>>,
    commits: Mutex<Commits>,
    committed: Condvar,
    /// The checkpoint thread, and the sender whose drop stops it.
    checkpointer: Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Wait for the thread, so nothing touches the files once the store is gone.
        if let Some((stop, thread)) = self.checkpointer.take() {
            drop(stop);
            let _ = thread.join();
        }
    }
}

struct Writer {
    conn: Connection,
    /// The epoch whose transaction is open on `conn`, if any.
    open: Option<u64>,
    last_epoch: u64,
}

#[derive(Default)]
struct Commits {
    /// Every epoch up to this one has been committed (or failed).
    done: u64,
    /// Whether a caller is committing right now.
    committing: bool,
    /// Epochs whose commit failed, with the error (rare: a full or failing disk).
    failed: HashMap<u64, String>,
}

fn to_io(e: rusqlite::Error) -> io::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::DiskFull => {
            io::Error::new(io::ErrorKind::StorageFull, e.to_string())
        }
        e => io::Error::other(e.to_string()),
    }
}

impl SqliteStore {
    /// Opens `path`, creating the file when `create` is set. A file that is not a SQLite database
    /// fails here, not on the first request.
    pub fn open(path: &Path, create: bool) -> io::Result<SqliteStore> {
        let writer = connect(path, create).map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a usable SQLite database: {e}", path.display()),
            )
        })?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(io::Error::other(format!("{}: cannot switch to WAL mode (got {mode})", path.display())));
        }
        writer.execute_batch(SCHEMA).map_err(to_io)?;
        writer
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = {BACKSTOP_CHECKPOINT_PAGES}; PRAGMA journal_size_limit = 67108864;"
            ))
            .map_err(to_io)?;
        let (stop, stopped) = mpsc::channel();
        let checkpointer = connect(path, false).map_err(to_io)?;
        let thread = std::thread::Builder::new()
            .name("ruststack-checkpoint".into())
            .spawn(move || checkpoints(checkpointer, stopped))?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Mutex::new(Writer { conn: writer, open: None, last_epoch: 0 }),
            readers: Mutex::new(Vec::new()),
            commits: Mutex::new(Commits::default()),
            committed: Condvar::new(),
            checkpointer: Some((stop, thread)),
        })
    }

    /// Runs `read` on an idle read connection (opening one when none is idle).
    fn read<R>(&self, what: &str, read: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Option<R> {
        let idle = self.readers.lock().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                match connect(&self.path, false).and_then(|c| c.execute_batch("PRAGMA query_only = 1").map(|_| c)) {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::error!(path = %self.path.display(), error = %e, "cannot open a read connection");
                        return None;
                    }
                }
            }
        };
        let result = read(&conn);
        let mut readers = self.readers.lock();
        if readers.len() < IDLE_READERS {
            readers.push(conn);
        }
        drop(readers);
        result.map_err(|e| tracing::error!(path = %self.path.display(), error = %e, what, "read failed")).ok()
    }

    /// Runs `job` in a savepoint of the open epoch, then waits until that epoch is durable.
    fn write(&self, job: &mut dyn FnMut(&Connection) -> io::Result<()>) -> io::Result<()> {
        let epoch = {
            let mut writer = self.writer.lock();
            let writer = &mut *writer;
            let epoch = match writer.open {
                Some(epoch) => epoch,
                None => {
                    if !writer.conn.is_autocommit() {
                        // Left open by a commit that failed and could not roll back.
                        let _ = exec(&writer.conn, "ROLLBACK");
                    }
                    exec(&writer.conn, "BEGIN IMMEDIATE").map_err(to_io)?;
                    writer.last_epoch += 1;
                    *writer.open.insert(writer.last_epoch)
                }
            };
            in_savepoint(&writer.conn, job)?;
            epoch
        };
        self.wait_durable(epoch)
    }

    fn wait_durable(&self, epoch: u64) -> io::Result<()> {
        let mut commits = self.commits.lock();
        loop {
            if commits.done >= epoch {
                return match commits.failed.get(&epoch) {
                    Some(e) => Err(io::Error::other(e.clone())),
                    None => Ok(()),
                };
            }
            if commits.committing {
                self.committed.wait(&mut commits);
                continue;
            }
            // No commit in progress and ours not done: our epoch is the open one; commit it.
            commits.committing = true;
            drop(commits);
            // A panic here must not leave `committing` set (every writer would wait forever).
            let committed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.commit_open()));
            let (closed, result) = committed.unwrap_or_else(|_| (epoch, Err("the commit panicked".to_owned())));
            commits = self.commits.lock();
            commits.committing = false;
            commits.done = commits.done.max(closed);
            if let Err(e) = result {
                tracing::error!(path = %self.path.display(), error = %e, "commit failed");
                commits.failed.insert(closed, e);
            }
            self.committed.notify_all();
        }
    }

    /// Commits the open epoch: one fsync for all its writes.
    fn commit_open(&self) -> (u64, Result<(), String>) {
        let mut writer = self.writer.lock();
        let Some(epoch) = writer.open.take() else { return (writer.last_epoch, Ok(())) };
        match exec(&writer.conn, "COMMIT") {
            Ok(()) => (epoch, Ok(())),
            Err(e) => {
                if !writer.conn.is_autocommit() {
                    let _ = exec(&writer.conn, "ROLLBACK");
                }
                (epoch, Err(e.to_string()))
            }
        }
    }
}

fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Runs `job` in a savepoint: kept when it returns `Ok`, rolled back when it fails or panics.
fn in_savepoint(conn: &Connection, job: &mut dyn FnMut(&Connection) -> io::Result<()>) -> io::Result<()> {
    struct Undo<'a>(Option<&'a Connection>);
    impl Drop for Undo<'_> {
        fn drop(&mut self) {
            if let Some(conn) = self.0 {
                let _ = exec(conn, "ROLLBACK TO job");
                let _ = exec(conn, "RELEASE job");
            }
        }
    }
    exec(conn, "SAVEPOINT job").map_err(to_io)?;
    let mut undo = Undo(Some(conn));
    job(conn)?;
    exec(conn, "RELEASE job").map_err(to_io)?;
    undo.0 = None;
    Ok(())
}

/// Copies committed WAL frames into the database until the store is dropped. PASSIVE never waits
/// for readers or the writer; frames still in use are copied on a later round.
fn checkpoints(conn: Connection, stop: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

/// A connection with the durability settings every one of ours shares.
fn connect(path: &Path, create: bool) -> rusqlite::Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    // FULL: a WAL commit is fsynced before it returns (NORMAL may lose the last commits on power loss).
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

fn write_batch(conn: &Connection, writes: &[Write]) -> rusqlite::Result<()> {
    for write in writes {
        match write {
            Write::Put { tree, key, value } => {
                conn.prepare_cached(UPSERT)?.execute((tree, key, value))?;
            }
            Write::Delete { tree, key } => {
                conn.prepare_cached(DELETE)?.execute((tree, key))?;
            }
        }
    }
    Ok(())
}

/// `[start bound][end bound][descending]`: the SQL of a range read. Parameters in order: tree, the
/// start key when bounded, the end key when bounded, the limit.
const RANGE_SQL: [[[&str; 2]; 3]; 3] = {
    macro_rules! sql {
        ($lo:literal, $hi:literal) => {
            [
                concat!("SELECT k, v FROM kv WHERE tree = ?", $lo, $hi, " ORDER BY k LIMIT ?"),
                concat!("SELECT k, v FROM kv WHERE tree = ?", $lo, $hi, " ORDER BY k DESC LIMIT ?"),
            ]
        };
    }
    [
        [sql!(" AND k >= ?", " AND k <= ?"), sql!(" AND k >= ?", " AND k < ?"), sql!(" AND k >= ?", "")],
        [sql!(" AND k > ?", " AND k <= ?"), sql!(" AND k > ?", " AND k < ?"), sql!(" AND k > ?", "")],
        [sql!("", " AND k <= ?"), sql!("", " AND k < ?"), sql!("", "")],
    ]
};

fn bound_shape(b: &Bound<&[u8]>) -> usize {
    match b {
        Bound::Included(_) => 0,
        Bound::Excluded(_) => 1,
        Bound::Unbounded => 2,
    }
}

fn bound_key<'a>(b: &Bound<&'a [u8]>) -> Option<&'a [u8]> {
    match b {
        Bound::Included(k) | Bound::Excluded(k) => Some(k),
        Bound::Unbounded => None,
    }
}

fn range_on(
    conn: &Connection,
    tree: &str,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    limit: usize,
    rev: bool,
) -> rusqlite::Result<Entries> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(RANGE_SQL[bound_shape(&start)][bound_shape(&end)][usize::from(rev)])?;
    let mut index = 1;
    stmt.raw_bind_parameter(index, tree)?;
    for key in [bound_key(&start), bound_key(&end)].into_iter().flatten() {
        index += 1;
        stmt.raw_bind_parameter(index, key)?;
    }
    // SQLite reads a negative limit as "no limit".
    stmt.raw_bind_parameter(index + 1, i64::try_from(limit).unwrap_or(-1))?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push((row.get(0)?, row.get(1)?));
    }
    Ok(out)
}

fn get_on(conn: &Connection, tree: &str, key: &[u8]) -> rusqlite::Result<Option<Vec<u8>>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(GET)?.query_row((tree, key), |r| r.get(0)).optional()
}

impl KvStore for SqliteStore {
    fn get(&self, tree: &str, key: &[u8]) -> Option<Vec<u8>> {
        self.read("get", |conn| get_on(conn, tree, key)).flatten()
    }

    fn apply(&self, writes: Vec<Write>) -> io::Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        self.write(&mut |conn| write_batch(conn, &writes).map_err(to_io))
    }

    fn range(&self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> Entries {
        self.read("range", |conn| range_on(conn, tree, start, end, limit, false)).unwrap_or_default()
    }

    fn range_rev(&self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> Entries {
        self.read("range_rev", |conn| range_on(conn, tree, start, end, limit, true)).unwrap_or_default()
    }

    fn clear(&self) -> io::Result<()> {
        self.write(&mut |conn| conn.execute("DELETE FROM kv", []).map(drop).map_err(to_io))
    }

    fn transaction(&self, f: &mut dyn FnMut(&mut dyn Transaction) -> io::Result<()>) -> io::Result<()> {
        // The writer lock makes it serializable: no other write runs until `f` returns.
        self.write(&mut |conn| f(&mut SqliteTransaction { conn }))
    }

    fn may_block(&self) -> bool {
        true
    }
}

/// The writer connection inside an open transaction.
struct SqliteTransaction<'a> {
    conn: &'a Connection,
}

impl Transaction for SqliteTransaction<'_> {
    fn get(&mut self, tree: &str, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        get_on(self.conn, tree, key).map_err(to_io)
    }

    fn range(&mut self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> io::Result<Entries> {
        range_on(self.conn, tree, start, end, limit, false).map_err(to_io)
    }

    fn range_rev(&mut self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> io::Result<Entries> {
        range_on(self.conn, tree, start, end, limit, true).map_err(to_io)
    }

    fn put(&mut self, tree: &str, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.conn.prepare_cached(UPSERT).and_then(|mut s| s.execute((tree, key, value))).map(drop).map_err(to_io)
    }

    fn delete(&mut self, tree: &str, key: &[u8]) -> io::Result<()> {
        self.conn.prepare_cached(DELETE).and_then(|mut s| s.execute((tree, key))).map(drop).map_err(to_io)
    }
}
